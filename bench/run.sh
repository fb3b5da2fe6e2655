#!/bin/bash
# strata's benchmark suite (issue 8): each workload for strata and every peer that can do it,
# alternating, ROUNDS rounds; prints (and writes to bench/REPORT.md) medians and strata/peer
# ratios. Run as root: `make bench`, or bench/run.sh.
#   ROUNDS=3            rounds per workload
#   BENCH_SCALE=full    full | small (a quick run: sizes / 10)
#   WORKLOADS="W1 … W7" which workloads
#   TOOLS="strata docker podman buildah skopeo runc"  which tools
#   BENCH_DIR=/var/tmp/strata-bench   where stores, registries and logs go
#   BENCH_KEEP=1        keep this run's stores at the end (default: deleted after the report)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
export BENCH_DIR=${BENCH_DIR:-/var/tmp/strata-bench}
ROUNDS=${ROUNDS:-3}
BENCH_SCALE=${BENCH_SCALE:-full}
WORKLOADS=${WORKLOADS:-"W1 W2 W3 W4 W5 W6 W7"}
TOOLS=${TOOLS:-"strata docker podman buildah skopeo runc"}
case $BENCH_SCALE in
full) W2_FILES=20000 W2_MB=300 W3_MB=100 W4_MB=512 ;;
small) W2_FILES=2000 W2_MB=30 W3_MB=10 W4_MB=48 ;;
*) echo "BENCH_SCALE must be full or small" >&2; exit 2 ;;
esac
W6_N=20
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root" >&2; exit 1; }

"$HERE/peers.sh"
make -C "$REPO" >/dev/null
STRATA=$REPO/build/strata
DOCKER=/usr/bin/docker # the 20.10 client that matches the engine (not a newer one on PATH)
P=$BENCH_DIR/peers
RUN=$BENCH_DIR/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN/log" "$RUN/s" "$RUN/docker-config"
echo '{}' >"$RUN/docker-config/config.json"
RES=$RUN/results.tsv
: >"$RES"
export DOCKER_HOST=unix://$P/docker.sock DOCKER_BUILDKIT=0 DOCKER_CONFIG=$RUN/docker-config
export STRATA_CONFIG_DIR=$RUN/strata-etc CONTAINERS_CONF=$P/containers.conf
export CONTAINERS_REGISTRIES_CONF=$P/registries.conf PATH=/usr/sbin:/sbin:$PATH
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

has() { [[ " $TOOLS " == *" $1 "* ]]; }
want() { [[ " $WORKLOADS " == *" $1 "* ]]; }
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
skip() { printf '%s\t%s\t-\tSKIP\t%s\n' "$1" "$2" "$3" >>"$RES"; log "$1 $2: skipped: $3"; }
# rotate LIST… ROUND: the tools in a different order each round (alternation)
rotate() {
    local r=${!#} a=("${@:1:$#-1}") n=$(($# - 1)) i
    for ((i = 0; i < n; i++)); do echo "${a[$(((i + r) % n))]}"; done
}

# the daemon does docker's work: its peak RSS is reset before and read after each step
dockerd_pid() { cat "$P/dockerd.pid"; }
reset_hwm() { echo 5 >"/proc/$(dockerd_pid)/clear_refs" 2>/dev/null || true; }
dockerd_hwm() { awk '/VmHWM/ {print $2}' "/proc/$(dockerd_pid)/status"; }

# measure W TOOL ROUND DIVISOR CMD… : wall time of CMD (/DIVISOR) and peak RSS in KiB
measure() {
    local w=$1 tool=$2 r=$3 div=$4 t0 t1 rss
    shift 4
    [ "$tool" = docker ] && reset_hwm
    echo "### round $r: $*" >>"$RUN/log/$w-$tool.log"
    # the previous tool's dirty pages and discards are not this one's to wait for
    sync
    t0=$EPOCHREALTIME
    # W2-W5: peak RSS through /usr/bin/time (a bash in between, for the shell functions);
    # W1, W6: the function is called directly (no extra process in the timing), no RSS
    local wrap=(/usr/bin/time -f %M -o "$RUN/rss" bash -c '"$@"' _)
    case $w in W1 | W6) wrap=() && echo 0 >"$RUN/rss" ;; esac
    if ! "${wrap[@]}" "$@" >>"$RUN/log/$w-$tool.log" 2>&1; then
        printf '%s\t%s\t%s\tFAIL\t%s\n' "$w" "$tool" "$r" "exit status, see $RUN/log/$w-$tool.log" >>"$RES"
        log "$w $tool round $r: FAILED (see $RUN/log/$w-$tool.log)"
        return 0
    fi
    t1=$EPOCHREALTIME
    rss=$(tail -1 "$RUN/rss")
    [ "$tool" = docker ] && rss=$(dockerd_hwm)
    case $w in W1 | W6) rss="" ;; esac
    printf '%s\t%s\t%s\t%s\t%s\n' "$w" "$tool" "$r" \
        "$(awk -v a="$t0" -v b="$t1" -v d="$div" 'BEGIN{printf "%.4f", (b-a)/d}')" "$rss" >>"$RES"
    log "$w $tool round $r: $(tail -1 "$RES" | cut -f4) s"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_registry NAME : a fresh, empty registry on loopback; prints host:port
start_registry() {
    local d=$RUN/reg/$1 port
    port=$(free_port)
    mkdir -p "$d"
    printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:%s}\n' \
        "$d/data" "$port" >"$d/config.yml"
    docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
    echo "127.0.0.1:$port"
}

st() { "$STRATA" --root "$RUN/s/$1" "${@:2}"; }                           # st STORE ARGS…
pm() { podman --root "$RUN/s/$1" --runroot "/run/sbench/$1" --storage-driver overlay "${@:2}"; }
bh() { buildah --root "$RUN/s/$1" --runroot "/run/sbench/$1" --storage-driver overlay "${@:2}"; }

# the busybox base image (as tests/system/helpers.bash makes it, with every applet)
BB=$RUN/busybox.tar
mkdir -p "$RUN/bb/bin" "$RUN/bb/tmp" "$RUN/bb/etc" "$RUN/bb/root"
cp /bin/busybox "$RUN/bb/bin/"
for c in $(/bin/busybox --list); do [ "$c" = busybox ] || ln -sf busybox "$RUN/bb/bin/$c"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$RUN/bb/etc/passwd"
echo 'root:x:0:' >"$RUN/bb/etc/group"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$RUN/bb" -cf "$BB" .
# base_into TOOL STORE : the base image as bench-busybox in that tool's store
base_into() {
    case $1 in
    strata | strata-l1) st "$2" import "$BB" bench-busybox >/dev/null ;;
    docker) $DOCKER import "$BB" bench-busybox >/dev/null ;;
    podman) pm "$2" import -q "$BB" bench-busybox >/dev/null ;;
    buildah) podman --root "$RUN/s/$2" --runroot "/run/sbench/$2" --storage-driver overlay import -q "$BB" bench-busybox >/dev/null ;;
    esac
}
# build TOOL STORE TAG CONTEXT [EXTRA…] : one build, the Dockerfile in CONTEXT
build() {
    local t=$1 s=$2 tag=$3 ctx=$4
    shift 4
    case $t in
    strata) st "$s" build -q --network none -t "$tag" "$@" "$ctx" ;;
    strata-l1) st "$s" build -q --network none --compression-level 1 -t "$tag" "$@" "$ctx" ;;
    docker) $DOCKER build -q --network none -t "$tag" "$@" "$ctx" ;;
    podman) pm "$s" build -q --network none -t "$tag" "$@" "$ctx" ;;
    buildah) bh "$s" bud -q --layers --network none -t "$tag" "$@" "$ctx" ;;
    esac
}
export -f st pm bh base_into build
export RUN STRATA DOCKER BB
BUILDERS=()
for t in strata docker podman buildah; do has $t && BUILDERS+=($t); done
ROUND_LIST=$(seq 1 "$ROUNDS")
{
    echo "scale=$BENCH_SCALE rounds=$ROUNDS W2_FILES=$W2_FILES W2_MB=$W2_MB W3_MB=$W3_MB W4_MB=$W4_MB W6_N=$W6_N"
    echo "strata $(git -C "$REPO" rev-parse --short HEAD) | $("$DOCKER" version --format 'docker {{.Server.Version}}') | $(podman --version) | $(buildah --version | cut -d' ' -f1-3) | $(skopeo --version) | $(runc --version | head -1) | $(docker-registry --version 2>/dev/null | head -1)"
    echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(findmnt -no FSTYPE,OPTIONS -T "$BENCH_DIR" | cut -c1-60)"
} >"$RUN/meta"

# ---------------------------------------------------------------- W1 cached rebuild
# main stores, used by W1, W6 (and the base of every store)
for t in "${BUILDERS[@]}"; do base_into "$t" main-$t; done
if want W1; then
    C=$RUN/w1
    mkdir -p "$C/dir"
    echo a >"$C/a.txt"; echo b >"$C/b.txt"
    for i in $(seq 1 50); do echo "$i" >"$C/dir/f$i"; done
    cat >"$C/Dockerfile" <<'DF'
FROM bench-busybox
ENV APP=/app LANG=C.UTF-8
WORKDIR /app
COPY a.txt /app/
RUN echo one > /app/one
COPY dir /app/dir
ENV PATH=/app/bin:$PATH
RUN mkdir -p /app/bin && echo two > /app/two
WORKDIR /app/dir
COPY b.txt .
LABEL bench=w1
CMD ["sh", "-c", "cat /app/one"]
DF
    for t in "${BUILDERS[@]}"; do build "$t" main-$t w1 "$C" >>"$RUN/log/W1-$t.log" 2>&1 || true; done
    for r in $ROUND_LIST; do
        for t in $(rotate "${BUILDERS[@]}" "$r"); do
            for k in 1 2 3 4 5; do measure W1 "$t" "$r.$k" 1 build "$t" main-$t w1 "$C"; done
        done
    done
fi

# ---------------------------------------------------------------- W2 cold COPY . /src
# W3 cold RUN writing W3_MB random + W3_MB zeros
# fresh store per round for strata/podman/buildah, made before any timing; docker: --no-cache
# and a salt file that differs per round and tool, so no layer is shared with an earlier build
cold_build() { # W CONTEXT ABSORB
    local w=$1 ctx=$2 absorb=$3 r t
    # One fixed order each round. On this disk the first build that creates many files after
    # another build deleted a big tree (Podman's, Buildah's and Docker's working containers) is
    # up to twice as slow, even after a minute's rest, and the next one is not (see "Cold"
    # below); a rotation keeps the cyclic order, so one tool would always pay. With ABSORB, an
    # untimed copy of the context's tree (as many new files as the build) follows each build that
    # deletes, so the next tool starts as the first of a round does.
    local BUILDERS=("${BUILDERS[@]}") b
    if has strata; then
        BUILDERS=()
        for b in strata strata-l1 podman docker buildah; do
            [ $b = strata-l1 ] || has $b && BUILDERS+=($b)
        done
    fi
    for r in $ROUND_LIST; do for t in "${BUILDERS[@]}"; do
        [ $t = docker ] || base_into "$t" "$w-$t-$r"
    done; done
    for r in $ROUND_LIST; do
        for t in "${BUILDERS[@]}"; do
            echo "$w $t $r $RANDOM" >"$ctx/salt"
            measure "$w" "$t" "$r" 1 build "$t" "$w-$t-$r" "$(echo "$w" | tr W w)-$r" "$ctx" --no-cache
            if [ "$absorb" = 1 ] && [[ $t != strata* ]]; then
                mkdir -p "$RUN/absorb"
                sync
                cp -a "$ctx/tree" "$RUN/absorb/$w-$t-$r"
                sync
            fi
        done
    done
}
if want W2; then
    C=$RUN/w2
    mkdir -p "$C/tree"
    python3 "$HERE/gen-tree.py" "$C/tree" "$W2_FILES" "$W2_MB" 2
    printf 'FROM bench-busybox\nCOPY . /src\n' >"$C/Dockerfile"
    cold_build W2 "$C" 1
fi
if want W3; then
    C=$RUN/w3
    mkdir -p "$C"
    printf 'FROM bench-busybox\nCOPY salt /salt\nRUN dd if=/dev/urandom of=/rand bs=1M count=%s 2>/dev/null && dd if=/dev/zero of=/zero bs=1M count=%s 2>/dev/null\n' \
        "$W3_MB" "$W3_MB" >"$C/Dockerfile"
    cold_build W3 "$C" 0
fi

# ---------------------------------------------------------------- W4 pull, W5 push
# one image per round (4 layers, each salted), so every pull is cold without deleting anything
PULLERS=()
for t in strata docker podman skopeo; do has $t && PULLERS+=($t); done
if want W4 || want W5 || want W7; then
    C=$RUN/w4
    for l in 1 2 3 4; do
        mkdir -p "$C/l$l"
        python3 "$HERE/gen-tree.py" "$C/l$l" 500 "$(awk -v m="$W4_MB" 'BEGIN{print m/4}')" "$((40 + l))"
    done
    printf 'FROM scratch\nCOPY l1 /l1\nCOPY l2 /l2\nCOPY l3 /l3\nCOPY l4 /l4\n' >"$C/Dockerfile"
    SRC=$(start_registry src)
    log "W4: making $ROUNDS images of $W4_MB MB at $SRC"
    for r in $ROUND_LIST; do
        for l in 1 2 3 4; do echo "round $r layer $l $RANDOM" >"$C/l$l/salt"; done
        st w4-prep build -q -t "$SRC/bench/big:r$r" "$C" >>"$RUN/log/W4-prep.log" 2>&1
        st w4-prep push -q "$SRC/bench/big:r$r" >>"$RUN/log/W4-prep.log" 2>&1
    done
    pull() { # TOOL ROUND
        local img=$SRC/bench/big:r$2
        case $1 in
        strata) st "w4-strata-$2" pull -q "$img" ;;
        docker) $DOCKER pull -q "$img" ;;
        podman) pm "w4-podman-$2" pull -q --tls-verify=false "$img" ;;
        skopeo) skopeo copy -q --src-tls-verify=false "docker://$img" "dir:$RUN/s/w4-skopeo-$2" ;;
        esac
    }
    export -f pull
    export SRC
    for r in $ROUND_LIST; do
        for t in $(rotate "${PULLERS[@]}" "$r"); do measure W4 "$t" "$r" 1 pull "$t" "$r"; done
    done
fi
if want W5; then
    for r in $ROUND_LIST; do for t in "${PULLERS[@]}"; do
        echo "$(start_registry "w5-$t-$r")" >"$RUN/reg/w5-$t-$r.addr"
    done; done
    push() { # TOOL ROUND
        local dst img=$SRC/bench/big:r$2
        dst=$(cat "$RUN/reg/w5-$1-$2.addr")/bench/big:r$2
        case $1 in
        strata) st "w4-strata-$2" tag "$img" "$dst" && st "w4-strata-$2" push -q "$dst" ;;
        docker) $DOCKER tag "$img" "$dst" && $DOCKER push -q "$dst" ;;
        podman) pm "w4-podman-$2" push -q --tls-verify=false "$img" "docker://$dst" ;;
        skopeo) skopeo copy -q --dest-tls-verify=false "dir:$RUN/s/w4-skopeo-$2" "docker://$dst" ;;
        esac
    }
    export -f push
    for r in $ROUND_LIST; do
        for t in $(rotate "${PULLERS[@]}" "$r"); do measure W5 "$t" "$r" 1 push "$t" "$r"; done
    done
fi

# ---------------------------------------------------------------- W6 run --rm /bin/true
if want W6; then
    RUNNERS=()
    for t in strata docker podman runc; do has $t && RUNNERS+=($t); done
    B=$RUN/bundle
    mkdir -p "$B/rootfs" && tar -C "$B/rootfs" -xf "$BB"
    (cd "$B" && runc spec)
    python3 - "$B/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"]["readonly"] = True
json.dump(c, open(sys.argv[1], "w"))
PY
    # runc-seccomp: the same bundle with the seccomp filter strata (and Docker) give every
    # container, taken from a container strata ran: compiling it costs runc ~20-60 ms here
    B2=$RUN/bundle-seccomp
    if has runc && has strata; then
        mkdir -p "$B2"
        st main-strata run --name w6-probe bench-busybox /bin/true >/dev/null 2>&1 || true
        probe=$(st main-strata inspect -f '{{.Id}}' w6-probe 2>/dev/null)
        python3 - "$B/config.json" "$RUN/s/main-strata/containers/$probe/config.json" \
            "$B2/config.json" <<'PY' && RUNNERS+=(runc-seccomp)
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"]["seccomp"] = json.load(open(sys.argv[2]))["linux"]["seccomp"]
c["root"]["path"] = sys.argv[1].rsplit("/", 1)[0] + "/rootfs"
json.dump(c, open(sys.argv[3], "w"))
PY
        st main-strata rm -f w6-probe >/dev/null 2>&1 || true
    fi
    runit() { # TOOL : W6_N runs
        local i
        for ((i = 0; i < W6_N; i++)); do
            case $1 in
            strata) st main-strata run --rm bench-busybox /bin/true ;;
            docker) $DOCKER run --rm --network none bench-busybox /bin/true ;;
            podman) pm main-podman run --rm --network none bench-busybox /bin/true ;;
            runc) runc --root "$RUN/runc-state" run -b "$B" "w6-$$-$i" ;;
            runc-seccomp) runc --root "$RUN/runc-state" run -b "$B2" "w6s-$$-$i" ;;
            esac || return 1
        done
    }
    for t in "${RUNNERS[@]}"; do W6_N=1 runit "$t" >/dev/null 2>&1 || true; done # warm
    for r in $ROUND_LIST; do
        for t in $(rotate "${RUNNERS[@]}" "$r"); do measure W6 "$t" "$r" "$W6_N" runit "$t"; done
    done
fi

# ---------------------------------------------------------------- W7 disk, two images on a shared base
if want W7; then
    C=$RUN/w7
    mkdir -p "$C"
    echo one >"$C/one"; echo two >"$C/two"
    img=$SRC/bench/big:r1
    printf 'FROM %s\nCOPY one /one\n' "$img" >"$C/Dockerfile.one"
    printf 'FROM %s\nCOPY two /two\n' "$img" >"$C/Dockerfile.two"
    for t in strata docker podman; do
        has $t || continue
        case $t in
        strata) st w7-strata pull -q "$img" >/dev/null ;;
        podman) pm w7-podman pull -q --tls-verify=false "$img" >/dev/null ;;
        docker) $DOCKER pull -q "$img" >/dev/null ;;
        esac
        ok=1
        for n in one two; do
            build "$t" "w7-$t" "w7-$n" "$C" -f "$C/Dockerfile.$n" >>"$RUN/log/W7-$t.log" 2>&1 || ok=""
        done
        if [ -z "$ok" ]; then skip W7 "$t" "build failed, see $RUN/log/W7-$t.log"; continue; fi
        case $t in
        strata) kb=$(du -skx "$RUN/s/w7-strata" | cut -f1)
            note="whole store: blobs $(du -shx "$RUN/s/w7-strata/blobs" | cut -f1), layers $(du -shx "$RUN/s/w7-strata/layers" | cut -f1)" ;;
        podman) kb=$(du -skx "$RUN/s/w7-podman" | cut -f1); note="whole store" ;;
        docker) kb=$(for n in one two; do $DOCKER image inspect --format '{{.GraphDriver.Data.UpperDir}}:{{.GraphDriver.Data.LowerDir}}' "w7-$n"; done |
                tr ':' '\n' | sed 's,/diff$,,' | sort -u | xargs du -skxc | tail -1 | cut -f1)
            note="overlay2 dirs of the two images" ;;
        esac
        printf 'W7\t%s\t1\t%s\t%s\n' "$t" "$kb" "$note" >>"$RES"
        log "W7 $t: $kb KiB ($note)"
    done
fi

python3 "$HERE/report.py" "$RUN" | tee "$HERE/REPORT.md"
log "report: $HERE/REPORT.md; raw results: $RES"
# clean up after the timings (a bulk delete slows file creation on this disk for minutes)
if [ -z "${BENCH_KEEP:-}" ]; then
    $DOCKER image ls -q --filter reference='*/bench/big:*' | xargs -r $DOCKER rmi -f >/dev/null 2>&1 || true
    $DOCKER image ls -q --filter reference='w[1-7]*' | xargs -r $DOCKER rmi -f >/dev/null 2>&1 || true
    $DOCKER builder prune -af >/dev/null 2>&1 || true
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for d in /run/sbench/*; do umount -R "$d"/overlay* 2>/dev/null || true; done
    rm -rf "$RUN/s" "$RUN/reg" "$RUN/w2" "$RUN/w4" || log "could not remove all of $RUN"
fi
