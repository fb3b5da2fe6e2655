#!/bin/bash
# kill-driver.sh OP ROUNDS : SIGKILLs strata in the middle of OP, ROUNDS times, and checks after
# every kill that the store is consistent and that redoing OP succeeds.
#
#   OP: pull build load rmi prune sysprune tag runkill
#   env: STRATA (the binary), STRATA_ROOT (the store, created), WORK (scratch dir, created),
#        REGISTRY (host:port of a registry strata may push to and pull from; for pull),
#        KD_MB (the size of the random data in the images, default 24: more makes longer runs)
#
# Each round undoes OP (so the next attempt does the whole work again), starts it, sleeps a
# random delay in [0, 1.2 x the time OP took when calibrated], and sends SIGKILL. After the kill:
# `strata system check` must exit 0, every listed image must inspect, and OP run again must
# succeed. At the end of the series every image runs (`run --rm IMG true`, when runc is usable),
# the staging dir is empty, and no mount under the store root is left.
# runkill kills the strata process waiting for a build's RUN (runc's and the container's parent)
# and checks that the container process and its mount go away.
# Prints one summary line: "kill-driver: OP: ROUNDS rounds, K killed mid-run, T ms per run".
set -u -o pipefail

OP=${1:?usage: kill-driver.sh OP ROUNDS}
ROUNDS=${2:?usage: kill-driver.sh OP ROUNDS}
STRATA=${STRATA:?set STRATA to the strata binary}
export STRATA_ROOT=${STRATA_ROOT:?set STRATA_ROOT}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
export STRATA_CONFIG_DIR=${STRATA_CONFIG_DIR:-$WORK/etc} DOCKER_CONFIG=${DOCKER_CONFIG:-$WORK/docker}
LOG="$WORK/driver.log"
MB=${KD_MB:-24}
KILLED=0

die() {
    echo "kill-driver: $OP: $*" >&2
    [ -f "$LOG" ] && tail -n 30 "$LOG" >&2
    exit 1
}

st() { "$STRATA" "$@" >>"$LOG" 2>&1; }

can_run() { command -v runc >/dev/null && [ "$(id -u)" = 0 ]; }

# busybox_tar FILE [MB] : a busybox rootfs with its applets, plus MB megabytes of random data.
busybox_tar() {
    local d="$WORK/rootfs-$RANDOM$RANDOM" a
    mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/root"
    cp /bin/busybox "$d/bin/busybox"
    for a in sh ls cat echo true false env id mkdir rm sleep dd head seq cp touch wc; do
        ln -sf busybox "$d/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
    echo 'root:x:0:' >"$d/etc/group"
    [ "${2:-0}" -gt 0 ] && head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$d/blob"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$1" .
    rm -rf "$d"
}

now_ms() { date +%s%3N; }

# random_delay MS : a random number of seconds in [0, MS*1.2] as "S.mmm".
random_delay() {
    local ms=$((RANDOM * 32768 + RANDOM))
    ms=$((ms % ($1 * 12 / 10 + 1)))
    printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

# ----- the operations: setup (once), undo (before each attempt), run -----

CTX="$WORK/ctx"
setup_common() {
    busybox_tar "$WORK/base.tar"
    st import "$WORK/base.tar" base || die "import base failed"
}

setup_build() {
    mkdir -p "$CTX"
    head -c $((MB * 256 * 1024)) /dev/urandom >"$CTX/data1"
    head -c $((MB * 256 * 1024)) /dev/urandom >"$CTX/data2"
    cat >"$CTX/Dockerfile" <<EOF
FROM base
COPY data1 /data/
RUN mkdir -p /gen && for i in \$(seq 1 40); do echo "file \$i" > /gen/f\$i; done && dd if=/dev/urandom of=/gen/rand bs=1k count=$((MB * 170)) 2>/dev/null
COPY data2 /data/
RUN cp /data/data1 /gen/copy && echo done > /gen/done
CMD ["cat", "/gen/done"]
EOF
}
undo_build() { st rmi -f built; st image prune -f; }
run_build() { "$STRATA" build --no-cache -t built "$CTX"; }

setup_pull() {
    [ -n "${REGISTRY:-}" ] || die "pull needs REGISTRY"
    setup_build
    st build -t built "$CTX" || die "build failed"
    if ! st tag built "$REGISTRY/stress/pulled:1" || ! st push "$REGISTRY/stress/pulled:1"; then
        die "push failed"
    fi
    st rmi -f built "$REGISTRY/stress/pulled:1"
    st system prune -a -f
}
undo_pull() {
    st rmi -f "$REGISTRY/stress/pulled:1"
    st system prune -a -f
}
run_pull() { "$STRATA" pull "$REGISTRY/stress/pulled:1"; }

setup_load() {
    busybox_tar "$WORK/big.tar" "$MB"
    st import "$WORK/big.tar" big || die "import big failed"
    st save -o "$WORK/big-save.tar" big || die "save failed"
    st rmi big
}
undo_load() { st rmi -f big; }
run_load() { "$STRATA" load -i "$WORK/big-save.tar"; }

setup_rmi() { setup_load; }
undo_rmi() { "$STRATA" inspect big >/dev/null 2>&1 || st load -i "$WORK/big-save.tar"; }
run_rmi() { "$STRATA" rmi big; }
# a killed rmi may have finished: redoing it removes what is left
redo_rmi() {
    if "$STRATA" inspect big >/dev/null 2>&1; then run_rmi; fi
    ! "$STRATA" inspect big >/dev/null 2>&1
}

# prune: a dangling image (its tag moved to another) and an unused tagged one
setup_prune() {
    setup_load
    busybox_tar "$WORK/other.tar" $((MB / 3))
}
undo_prune() {
    "$STRATA" inspect big >/dev/null 2>&1 || st load -i "$WORK/big-save.tar"
    st import "$WORK/other.tar" dangling && st tag base dangling
}
run_prune() { "$STRATA" image prune -a -f; }
setup_sysprune() { setup_prune; }
undo_sysprune() { undo_prune; }
run_sysprune() { "$STRATA" system prune -a -f; }

setup_tag() { :; }
undo_tag() { st rmi t1 t2 t3 t4; }
run_tag() { "$STRATA" tag base t1 && "$STRATA" tag base t2 && "$STRATA" tag base t3 &&
    "$STRATA" tag t1 t4; }

# runkill: kill strata while its RUN container runs; the container must not outlive it
MARK="strata-runkill-$$-$RANDOM"
setup_runkill() {
    mkdir -p "$CTX"
    cat >"$CTX/Dockerfile" <<EOF
FROM base
RUN touch /started && sleep 30 && echo $MARK
EOF
}
undo_runkill() { :; }
run_runkill() { "$STRATA" build --no-cache -t hang "$CTX"; }

# ----- checks -----

check_store() {
    local out
    out=$("$STRATA" system check 2>&1) || die "system check failed after a kill: $out"
    local ids id
    ids=$("$STRATA" images -q --no-trunc 2>&1) || die "images failed: $ids"
    for id in $ids; do
        out=$("$STRATA" inspect --format '{{.Id}} {{len .RootFS.Layers}}' "$id" 2>&1) ||
            die "image $id is listed but does not inspect: $out"
    done
}

check_end() {
    local id rest
    if can_run; then
        for id in $("$STRATA" images -q --no-trunc); do
            "$STRATA" run --rm "$id" true >>"$LOG" 2>&1 || die "image $id does not run"
        done
    fi
    rest=$(find "$STRATA_ROOT/tmp" -mindepth 1 -maxdepth 1 ! -name '*.lock' 2>/dev/null)
    [ -z "$rest" ] || die "staging dir not empty at the end: $rest"
    if grep -q " $STRATA_ROOT/" /proc/mounts; then
        die "mounts left under the store: $(grep " $STRATA_ROOT/" /proc/mounts)"
    fi
}

# kill_tree PID : SIGKILL to the subshell PID and to the strata process it runs; returns once
# they are dead (an orphan takes a moment to die, and until then it still looks alive)
kill_tree() {
    local kids p
    kids=$(pgrep -P "$1")
    # shellcheck disable=SC2086 # one word per PID
    kill -9 "$1" $kids 2>/dev/null
    for p in $kids; do
        for _ in $(seq 1 200); do
            if [ ! -e "/proc/$p" ] || grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; then
                break
            fi
            sleep 0.05
        done
    done
}

# one attempt, killed after DELAY seconds; sets KILLED if the process was still running
attempt() {
    "run_$OP" >>"$LOG" 2>&1 &
    local pid=$!
    sleep "$1"
    if kill -0 "$pid" 2>/dev/null; then
        KILLED=$((KILLED + 1))
        kill_tree "$pid" 2>/dev/null # and bash's "Killed" notice
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# the container of a killed RUN: its process must go, and its mount with it
check_runkill() {
    # the next strata process notices the dead waiter and cleans up
    st ps -a
    for _ in $(seq 1 50); do
        if ! pgrep -f "$MARK" >/dev/null && ! grep -q " $STRATA_ROOT/" /proc/mounts; then
            return 0
        fi
        sleep 0.1
    done
    die "after killing the RUN's parent: $(pgrep -af "$MARK"; grep " $STRATA_ROOT/" /proc/mounts)"
}

runkill_series() {
    can_run || { echo "kill-driver: runkill: skipped (needs root and runc)"; exit 0; }
    local r
    for r in $(seq 1 "$ROUNDS"); do
        run_runkill >>"$LOG" 2>&1 &
        local pid=$!
        for _ in $(seq 1 100); do
            pgrep -f "$MARK" >/dev/null && break
            sleep 0.1
        done
        pgrep -f "$MARK" >/dev/null || die "the RUN did not start"
        kill_tree "$pid" 2>/dev/null # and bash's "Killed" notice
        wait "$pid" 2>/dev/null
        KILLED=$((KILLED + 1))
        check_runkill
        check_store
    done
    check_end
    echo "kill-driver: runkill: $ROUNDS rounds, $KILLED killed mid-run"
}

setup_common
"setup_$OP"
if [ "$OP" = runkill ]; then
    runkill_series
    exit 0
fi

# calibrate: how long one run takes here
"undo_$OP" >>"$LOG" 2>&1
t0=$(now_ms)
"run_$OP" >>"$LOG" 2>&1 || die "the operation fails without kills"
T=$(($(now_ms) - t0))
[ "$T" -gt 0 ] || T=1

for r in $(seq 1 "$ROUNDS"); do
    "undo_$OP" >>"$LOG" 2>&1
    d=$(random_delay "$T")
    echo "round $r: kill after $d s" >>"$LOG"
    attempt "$d"
    check_store
    if declare -F "redo_$OP" >/dev/null; then redo="redo_$OP"; else redo="run_$OP"; fi
    "$redo" >>"$LOG" 2>&1 || die "redoing the operation after a kill at $d s failed"
    check_store
done
check_end
echo "kill-driver: $OP: $ROUNDS rounds, $KILLED killed mid-run, $T ms per run"
