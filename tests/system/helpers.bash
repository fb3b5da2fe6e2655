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
    if [ "$want" = 127 ]; then
        run -127 "$STRATA" "$@" # tells bats that 127 is expected (no BW01 warning)
    else
        run "$STRATA" "$@"
    fi
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

# make_busybox_run_tar FILE : like make_busybox_tar, with the applets the run tests use and
# a user 'app' (1000:1000, also in group 'audio' 29).
make_busybox_run_tar() {
    local d="$BATS_TEST_TMPDIR/bbrun"
    make_busybox_rootfs "$d"
    local a
    for a in sleep pwd hostname touch wc chown stat grep head tail ls mount tty stty seq kill \
        printf test cut date; do
        ln -sf busybox "$d/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n' >"$d/etc/passwd"
    printf 'root:x:0:\napp:x:1000:\naudio:x:29:app\n' >"$d/etc/group"
    mkdir -p "$d/home/app" && chown 1000:1000 "$d/home/app"
    echo 'not a program' >"$d/notexec" && chmod 644 "$d/notexec"
    tar --sort=name --mtime=@0 --numeric-owner -C "$d" -cf "$1" .
}

# import_run_image [NAME] [IMPORT OPTIONS...] : imports make_busybox_run_tar as NAME (busybox).
import_run_image() {
    local name=${1:-busybox}
    shift || true
    [ -f "$BATS_TEST_TMPDIR/bbrun.tar" ] || make_busybox_run_tar "$BATS_TEST_TMPDIR/bbrun.tar"
    run_strata import "$@" "$BATS_TEST_TMPDIR/bbrun.tar" "$name"
}

skip_if_no_runc() {
    command -v runc >/dev/null || skip "runc not installed"
    [ "$(id -u)" = 0 ] || skip "containers need root"
}

# cleanup_containers : removes every container of the test's store (a failed test may leave one
# running, its rootfs mounted).
cleanup_containers() {
    [ -d "$STRATA_ROOT/containers" ] || return 0
    local ids
    ids=$("$STRATA" ps -aq 2>/dev/null) || true
    [ -n "$ids" ] && "$STRATA" rm -f $ids >/dev/null 2>&1
    grep -o "$STRATA_ROOT/[^ ]*" /proc/mounts 2>/dev/null | xargs -r umount -l 2>/dev/null
    return 0
}
