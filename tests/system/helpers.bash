# Helpers for strata's system tests (bats). Each test gets its own store root.

STRATA=${STRATA:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build/strata}

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    # never the machine's registries.conf, certs.d or ~/.docker credentials
    export STRATA_CONFIG_DIR="$BATS_TEST_TMPDIR/etc" DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    unset REGISTRY_AUTH_FILE STRATA_TRACE
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
        -printf '%p %y %s %m\n' 2>/dev/null | grep -v -e 'strata.db' |
        sort; sqlite3 strata.db .dump 2>/dev/null | md5sum)
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL : until URL answers (any status), 5 s at most.
wait_http() {
    local i
    for i in $(seq 1 50); do
        curl -sk -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "$1 did not come up" >&2
    return 1
}

# make_test_ca DIR : a CA (DIR/ca.crt) and a certificate for 127.0.0.1 and localhost that it
# signed (DIR/server.crt, DIR/server.key).
make_test_ca() {
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=strata-test-ca \
        -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
        -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/san"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/san" -out "$d/server.crt" 2>/dev/null
}

# start_registry [--htpasswd USER:PASSWORD] [--token USER:PASSWORD] [--tls] : starts Debian's
# docker-registry on 127.0.0.1 with a free port; sets REGISTRY=127.0.0.1:PORT, REGISTRY_DATA
# (its storage) and REGISTRY_LOG (its output, with an access log line per request).
#   --htpasswd  basic auth (bcrypt htpasswd) with that one user
#   --token     bearer auth through fixtures/token-server.py (that user; TOKEN_LOG logs grants)
#   --tls       https with a certificate for 127.0.0.1 from a fresh CA: REGISTRY_CA=its cert
# Stopped by stop_registry (call it from teardown).
start_registry() {
    local port auth="" tls="" dir="$BATS_TEST_TMPDIR/registry"
    port=$(free_port)
    mkdir -p "$dir"
    while [ $# -gt 0 ]; do
        case $1 in
        --htpasswd)
            htpasswd -Bbn "${2%%:*}" "${2#*:}" >"$dir/htpasswd"
            auth=$(printf 'auth:\n  htpasswd:\n    realm: strata-test\n    path: %s' "$dir/htpasswd")
            shift 2 ;;
        --token)
            start_token_server "$2"
            auth=$(printf 'auth:\n  token:\n    realm: http://%s/token\n    service: strata-test\n    issuer: strata-test-issuer\n    rootcertbundle: %s' \
                "$TOKEN_SERVER" "$dir/token.crt")
            shift 2 ;;
        --tls)
            make_test_ca "$dir/tls"
            REGISTRY_CA="$dir/tls/ca.crt"
            tls=$(printf '  tls:\n    certificate: %s\n    key: %s' "$dir/tls/server.crt" "$dir/tls/server.key")
            shift ;;
        *) echo "start_registry: unknown option $1" >&2; return 1 ;;
        esac
    done
    REGISTRY_DATA="$dir/data"
    REGISTRY_LOG="$dir/log"
    cat >"$dir/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$tls
$auth
CONF
    docker-registry serve "$dir/config.yml" >"$REGISTRY_LOG" 2>&1 &
    REGISTRY_PID=$!
    REGISTRY=127.0.0.1:$port
    wait_http "http${tls:+s}://$REGISTRY/v2/"
}

# start_token_server USER:PASSWORD : fixtures/token-server.py with a fresh signing key whose
# certificate the registry trusts; sets TOKEN_SERVER (host:port) and TOKEN_LOG.
start_token_server() {
    local dir="$BATS_TEST_TMPDIR/registry" port
    port=$(free_port)
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=strata-token \
        -keyout "$dir/token.key" -out "$dir/token.crt" 2>/dev/null
    TOKEN_LOG="$dir/token.log"
    : >"$TOKEN_LOG"
    python3 "$BATS_TEST_DIRNAME/fixtures/token-server.py" "$port" "$dir/token.key" \
        "$dir/token.crt" "$1" strata-test-issuer strata-test "$TOKEN_LOG" ${TOKEN_ARGS:-} &
    TOKEN_PID=$!
    TOKEN_SERVER=127.0.0.1:$port
    wait_http "http://$TOKEN_SERVER/token"
}

# start_flaky_proxy [FLAGS] : fixtures/flaky-proxy.py in front of $REGISTRY (breaks each big
# blob's first download halfway; FLAGS add other failures); sets PROXY (host:port), PROXY_LOG.
start_flaky_proxy() {
    local port
    port=$(free_port)
    PROXY_LOG="$BATS_TEST_TMPDIR/registry/proxy.log"
    : >"$PROXY_LOG"
    python3 "$BATS_TEST_DIRNAME/fixtures/flaky-proxy.py" "$port" "$REGISTRY" "$PROXY_LOG" "$@" &
    PROXY_PID=$!
    PROXY=127.0.0.1:$port
    wait_http "http://$PROXY/v2/"
}

# registry_requests REGEX : how many requests in the registry's access log match REGEX
# (e.g. 'GET /v2/x/blobs/').
registry_requests() {
    sleep 0.2 # the registry logs a request after answering it
    grep -aE '"[A-Z]+ /v2/' "$REGISTRY_LOG" | grep -acE "$1" || true
}

stop_registry() {
    local p
    for p in "${PROXY_PID:-}" "${TOKEN_PID:-}" "${REGISTRY_PID:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    REGISTRY_PID= TOKEN_PID= PROXY_PID=
    return 0
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

# layer_tar IMAGE N : the path of IMAGE's Nth layer (1-based; -1 the top) from `strata save`.
layer_tar() {
    "$STRATA" save "$1" >"$TESTDIR/save.tar"
    rm -rf "$TESTDIR/save" && mkdir "$TESTDIR/save"
    tar -C "$TESTDIR/save" -xf "$TESTDIR/save.tar"
    python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))[0]["Layers"]; print(sys.argv[2] + "/" + l[int(sys.argv[3]) - (int(sys.argv[3]) > 0)])' \
        "$TESTDIR/save/manifest.json" "$TESTDIR/save" "$2"
}
