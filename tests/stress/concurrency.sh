#!/bin/bash
# concurrency.sh ROUNDS : 4 builds (different Dockerfiles sharing a base and some steps), 2 pulls
# and an rmi at once on one store, ROUNDS times. After each round: every command succeeded (or
# failed with an expected conflict message), `system check` is clean, every built image runs
# and holds what its Dockerfile wrote, the pulled images run. At the end: no container, mount
# or staging dir is left.
#
#   env: STRATA, STRATA_ROOT (created), WORK (scratch dir), REGISTRY (host:port to push to)
# Prints "concurrency: ROUNDS rounds, 7 commands each, E expected conflicts".
set -u -o pipefail

ROUNDS=${1:?usage: concurrency.sh ROUNDS}
STRATA=${STRATA:?set STRATA to the strata binary}
export STRATA_ROOT=${STRATA_ROOT:?set STRATA_ROOT}
REGISTRY=${REGISTRY:?set REGISTRY to a registry host:port}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
export STRATA_CONFIG_DIR=${STRATA_CONFIG_DIR:-$WORK/etc} DOCKER_CONFIG=${DOCKER_CONFIG:-$WORK/docker}
LOG="$WORK/concurrency.log"
EXPECTED=0
# what a command racing with another may say and still be right
CONFLICT='image is being used|conflict|Conflict|No such image'

die() {
    echo "concurrency: $*" >&2
    tail -n 40 "$LOG" >&2
    exit 1
}

st() { "$STRATA" "$@" >>"$LOG" 2>&1; }

busybox_tar() {
    local d="$WORK/rootfs-$RANDOM" a
    mkdir -p "$d/bin" "$d/etc" "$d/tmp"
    cp /bin/busybox "$d/bin/busybox"
    for a in sh cat echo true mkdir rm sleep dd seq cp; do ln -sf busybox "$d/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
    [ "${2:-0}" -gt 0 ] && head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$d/blob"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$1" .
    rm -rf "$d"
}

# the 4 Dockerfiles of round R: builds 1 and 2 share their first RUN, 3 and 4 their COPY
dockerfiles() {
    local r=$1 i
    for i in 1 2 3 4; do mkdir -p "$WORK/ctx$i"; done
    for i in 1 2 3 4; do echo "common $r" >"$WORK/ctx$i/common"; done
    head -c 300000 /dev/urandom >"$WORK/ctx3/own"
    cat >"$WORK/ctx1/Dockerfile" <<EOF
FROM base
RUN echo shared-$r >/shared && dd if=/dev/urandom of=/rand bs=1k count=512 2>/dev/null
RUN echo one >/mine
EOF
    cat >"$WORK/ctx2/Dockerfile" <<EOF
FROM base
RUN echo shared-$r >/shared && dd if=/dev/urandom of=/rand bs=1k count=512 2>/dev/null
COPY common /mine
EOF
    cat >"$WORK/ctx3/Dockerfile" <<EOF
FROM base
COPY common /shared
COPY own /own
RUN echo three >/mine
EOF
    cat >"$WORK/ctx4/Dockerfile" <<EOF
FROM base
COPY common /shared
RUN echo four >/mine && sleep 0.2
EOF
}

# check_result NAME RC OUTFILE : success, or a failure with an expected conflict message
check_result() {
    [ "$2" -eq 0 ] && return 0
    if grep -qE "$CONFLICT" "$3"; then
        EXPECTED=$((EXPECTED + 1))
        return 0
    fi
    die "$1 failed (exit $2): $(cat "$3")"
}

setup() {
    busybox_tar "$WORK/base.tar"
    st import "$WORK/base.tar" base || die "import base"
    busybox_tar "$WORK/p1.tar" 4
    busybox_tar "$WORK/p2.tar" 4
    busybox_tar "$WORK/victim.tar" 2
    local i
    for i in 1 2; do
        if ! st import "$WORK/p$i.tar" "$REGISTRY/conc/p$i:1" || ! st push "$REGISTRY/conc/p$i:1"; then
            die "push p$i"
        fi
    done
}

round() {
    local r=$1 i pids=() names=() outs=()
    dockerfiles "$r"
    st rmi -f "$REGISTRY/conc/p1:1" "$REGISTRY/conc/p2:1"
    st image prune -f
    st import "$WORK/victim.tar" victim || die "import victim"
    for i in 1 2 3 4; do
        "$STRATA" build -t "b$i" "$WORK/ctx$i" >"$WORK/out-b$i" 2>&1 &
        pids+=($!) names+=("build $i") outs+=("$WORK/out-b$i")
    done
    for i in 1 2; do
        "$STRATA" pull "$REGISTRY/conc/p$i:1" >"$WORK/out-p$i" 2>&1 &
        pids+=($!) names+=("pull $i") outs+=("$WORK/out-p$i")
    done
    "$STRATA" rmi victim >"$WORK/out-rmi" 2>&1 &
    pids+=($!) names+=("rmi") outs+=("$WORK/out-rmi")
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"
        local rc=$?
        cat "${outs[$i]}" >>"$LOG"
        check_result "round $r: ${names[$i]}" "$rc" "${outs[$i]}"
    done
    local out
    out=$("$STRATA" system check 2>&1) || die "round $r: system check: $out"
    for i in 1 2 3 4; do
        out=$("$STRATA" run --rm "b$i" cat /shared /mine 2>&1) || die "round $r: b$i does not run: $out"
        case $i in
        1) want="shared-$r"$'\n'"one" ;;
        2) want="shared-$r"$'\n'"common $r" ;;
        3) want="common $r"$'\n'"three" ;;
        4) want="common $r"$'\n'"four" ;;
        esac
        [ "$out" = "$want" ] || die "round $r: b$i holds '$out', not '$want'"
    done
    for i in 1 2; do
        out=$("$STRATA" run --rm "$REGISTRY/conc/p$i:1" true 2>&1) || die "round $r: p$i: $out"
    done
}

setup
for r in $(seq 1 "$ROUNDS"); do round "$r"; done
[ -z "$("$STRATA" ps -aq)" ] || die "containers left: $("$STRATA" ps -a)"
! grep -q " $STRATA_ROOT/" /proc/mounts || die "mounts left: $(grep " $STRATA_ROOT/" /proc/mounts)"
rest=$(find "$STRATA_ROOT/tmp" -mindepth 1 -maxdepth 1 ! -name '*.lock' 2>/dev/null)
[ -z "$rest" ] || die "staging dir not empty: $rest"
echo "concurrency: $ROUNDS rounds, 7 commands each, $EXPECTED expected conflicts"
