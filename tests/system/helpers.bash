# Helpers for strata's system tests (bats). Each test gets its own store root.

STRATA=${STRATA:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/strata}

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
}

# run_strata [EXPECTED_RC] ARGS... : runs strata, checks the exit code (default 0).
run_strata() {
    local want=0
    if [[ "$1" =~ ^[0-9]+$ ]]; then want=$1; shift; fi
    run "$STRATA" "$@"
    echo "\$ strata $*" >&2
    echo "$output" >&2
    if [ "$status" -ne "$want" ]; then
        echo "exit code $status, expected $want" >&2
        return 1
    fi
}

# expect_output STRING [MESSAGE] : $output equals STRING exactly.
expect_output() {
    if [ "$output" != "$1" ]; then
        printf 'expected output:\n%s\nactual output:\n%s\n' "$1" "$output" >&2
        return 1
    fi
}

# expect_output_match REGEX : $output matches REGEX (bash =~).
expect_output_match() {
    if ! [[ "$output" =~ $1 ]]; then
        printf 'expected output matching: %s\nactual output:\n%s\n' "$1" "$output" >&2
        return 1
    fi
}

skip_if_missing() {
    command -v "$1" >/dev/null || skip "$1 not installed"
}

# make_busybox_rootfs DIR : a minimal rootfs with busybox-static and its applet links.
make_busybox_rootfs() {
    local d=$1
    mkdir -p "$d/bin" "$d/etc" "$d/tmp" "$d/root"
    cp /bin/busybox "$d/bin/busybox"
    local a
    for a in sh ls cat echo true false env id mkdir rm; do ln -sf busybox "$d/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
    echo 'root:x:0:' >"$d/etc/group"
}

# make_busybox_tar FILE : a rootfs tarball of make_busybox_rootfs, reproducible.
make_busybox_tar() {
    local d="$BATS_TEST_TMPDIR/bbroot"
    make_busybox_rootfs "$d"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$1" .
}

# store_snapshot : a listing of the store that changes when anything in it does.
store_snapshot() {
    (cd "$STRATA_ROOT" && find . -path ./tmp -prune -o -path ./lock -prune -o \
        -printf '%p %y %s %m\n' 2>/dev/null | grep -v -e 'strata.db-wal' -e 'strata.db-shm' |
        sort; sqlite3 strata.db .dump 2>/dev/null | md5sum)
}

# start_registry : starts Debian's docker-registry on 127.0.0.1 with a free port; sets
# REGISTRY=127.0.0.1:PORT. Stopped by stop_registry (call it from teardown).
start_registry() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$BATS_TEST_TMPDIR/registry"
    cat >"$BATS_TEST_TMPDIR/registry/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $BATS_TEST_TMPDIR/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
CONF
    docker-registry serve "$BATS_TEST_TMPDIR/registry/config.yml" \
        >"$BATS_TEST_TMPDIR/registry/log" 2>&1 &
    REGISTRY_PID=$!
    REGISTRY=127.0.0.1:$port
    local i
    for i in $(seq 1 50); do
        curl -sf "http://$REGISTRY/v2/" >/dev/null && return 0
        sleep 0.1
    done
    echo "registry did not start" >&2
    return 1
}

stop_registry() {
    [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" 2>/dev/null
    REGISTRY_PID=
}
