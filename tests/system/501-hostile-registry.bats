#!/usr/bin/env bats
# A hostile registry (fixtures/hostile-registry.py, one MODE per test): every lie gives a clear
# one-line error and an unchanged store, or is survived with every digest checked
# (docs/security-hostile.md).

load helpers

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    export STRATA_CONFIG_DIR="$TESTDIR/etc" DOCKER_CONFIG="$TESTDIR/docker"
    unset REGISTRY_AUTH_FILE STRATA_TRACE STRATA_MAX_LAYER_SIZE
    export STRATA_HTTP_STALL_TIMEOUT=1
    mkdir -p "$TESTDIR/base" && echo base >"$TESTDIR/base/f"
    tar -C "$TESTDIR/base" -cf "$TESTDIR/base.tar" .
    run_strata import "$TESTDIR/base.tar" base
    BEFORE=$(store_snapshot)
}

teardown() {
    stop_hostile
}

stop_hostile() {
    if [ -n "${HOSTILE_PID:-}" ]; then
        kill "$HOSTILE_PID" 2>/dev/null || true
        wait "$HOSTILE_PID" 2>/dev/null || true
    fi
    HOSTILE_PID=
}

# hostile_registry MODE : starts the server; sets HOSTILE (127.0.0.1:PORT), PORT, HLOG.
hostile_registry() {
    PORT=$(free_port)
    HLOG="$TESTDIR/hostile.log"
    : >"$HLOG"
    python3 "$BATS_TEST_DIRNAME/fixtures/hostile-registry.py" "$PORT" "$1" "$HLOG" \
        2>"$TESTDIR/hostile.err" &
    HOSTILE_PID=$!
    HOSTILE=127.0.0.1:$PORT
    wait_http "http://$HOSTILE/_digest"
    : >"$HLOG"
}

# requests REGEX : how many logged requests have a path matching REGEX.
requests() {
    jq -r .path "$HLOG" | grep -cE "$1" || true
}

# refused_pull REGEX [REF] : the pull fails with one line matching REGEX; nothing changed.
refused_pull() {
    run_strata 1 pull -q "${2:-$HOSTILE/hostile/img:1}"
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
    expect_output_match "^strata: pull '"
    expect_output_match "$1"
    unchanged "${PARTIAL:-}"
}

# unchanged [PARTIAL] : the store is as before and checks clean; partial/ is empty, or holds
# only the partial download PARTIAL (kept after a network failure, for the next pull to resume).
unchanged() {
    [ "$(ls -A "$STRATA_ROOT/partial" 2>/dev/null)" = "${1:-}" ]
    rm -f "$STRATA_ROOT/partial/${1:-none}"
    diff <(echo "$BEFORE") <(store_snapshot | grep -v '^\./partial d ')
    run_strata system check
    expect_output_match 'the store is clean'
    [ -z "$(ls -A "$STRATA_ROOT/tmp" | grep -v '\.lock$' || true)" ]
}

# pulled : the image is tagged and the store checks clean.
pulled() {
    run_strata images --format '{{.Repository}}:{{.Tag}}' "$HOSTILE/hostile/img"
    expect_output "$HOSTILE/hostile/img:1"
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "hostile registry: a sane answer pulls (the server itself is right)" {
    hostile_registry ok
    run_strata pull -q "$HOSTILE/hostile/img:1"
    pulled
}

@test "hostile registry: a blob whose bytes do not match its digest" {
    hostile_registry blob-digest
    refused_pull 'layer content hashes to sha256:[0-9a-f]{64}, expected sha256:[0-9a-f]{64}$'
}

@test "hostile registry: a manifest that does not match the digest it was asked by" {
    hostile_registry manifest-digest
    local d
    d=$(curl -s "http://$HOSTILE/_digest")
    refused_pull "manifest $d from the registry hashes to sha256:" "$HOSTILE/hostile/img@$d"
}

@test "hostile registry: a Docker-Content-Digest header that lies" {
    hostile_registry content-digest-header
    refused_pull "the registry says manifest '1' is sha256:[0-9a-f]{64}, but it hashes to sha256:"
}

@test "hostile registry: a 50 MB manifest is refused at 4 MiB, with or without a length" {
    for mode in big-manifest big-manifest-chunked; do
        hostile_registry $mode
        run /usr/bin/time -f 'rss=%M' "$STRATA" pull -q "$HOSTILE/hostile/img:1"
        [ "$status" -eq 1 ]
        [[ "$output" =~ "manifests/1: response larger than 4194304 bytes" ]]
        echo "peak RSS ${output##*rss=} KiB" >&2
        [ "${output##*rss=}" -lt 65536 ]
        stop_hostile
        unchanged
    done
}

@test "hostile registry: JSON nested 10000 deep is a parse error, not a crash" {
    hostile_registry deep-json
    refused_pull 'manifest: invalid JSON at line 1 column [0-9]+: maximum parsing depth reached'
}

@test "hostile registry: a manifest Content-Length that lies, shorter or longer" {
    hostile_registry length-short
    refused_pull 'manifest: invalid JSON .*premature end of input'
    stop_hostile
    hostile_registry length-long
    refused_pull 'manifests/1: transfer closed with 1000 bytes remaining to read'
    # four tries, then the error
    [ "$(requests '/manifests/1')" -eq 4 ]
}

@test "hostile registry: a blob Content-Length that lies, shorter or longer" {
    # a blob body cut short by its length: what follows on the connection is garbage
    hostile_registry blob-length-short
    local layer
    layer=$(curl -s "http://$HOSTILE/v2/hostile/img/manifests/1" | jq -r '.layers[0].digest')
    PARTIAL=${layer#sha256:} refused_pull "layer $layer: "
    stop_hostile
    # a blob whose length promises more than comes: resumed with Range, verified, pulled
    hostile_registry blob-length-long
    run_strata pull -q "$HOSTILE/hostile/img:1"
    pulled
    [ "$(jq -r 'select(.range != null) | .range' "$HLOG" | grep -c '^bytes=[1-9][0-9]*-$')" -eq 1 ]
}

@test "hostile registry: a redirect loop stops after 5 redirects" {
    hostile_registry redirect-loop
    refused_pull 'blob sha256:[0-9a-f]{64}: more than 5 redirects$'
    [ "$(requests '/blobs/')" -le 8 ]
}

@test "hostile registry: token from another host; Authorization not sent to a blob redirect" {
    hostile_registry token-redirect
    run_strata pull -q "$HOSTILE/hostile/img:1"
    pulled
    # the token came from the realm on 127.0.0.2 ...
    [ "$(jq -r 'select(.path | startswith("/token")) | .host' "$HLOG")" = "127.0.0.2:$PORT" ]
    # ... and went to the registry's own requests ...
    [ "$(jq -r 'select(.path | contains("/manifests/")) | .auth' "$HLOG" | sort -u)" = "Bearer hostile-secret-token" ]
    # ... but not to the storage host the layer blob redirected to
    [ "$(jq -r 'select(.path | startswith("/storage/")) | .host' "$HLOG")" = "127.0.0.2:$PORT" ]
    [ "$(jq -r 'select(.path | startswith("/storage/")) | .auth' "$HLOG")" = null ]
}

@test "hostile registry: a stalled manifest and a stalled blob are dropped and retried" {
    # STRATA_HTTP_STALL_TIMEOUT=1: no byte for a second ends the transfer (default 60 s)
    hostile_registry stall-manifest
    SECONDS=0
    run_strata pull -q "$HOSTILE/hostile/img:1"
    pulled
    [ "$(requests '/manifests/1')" -eq 3 ]
    stop_hostile
    rm -rf "$STRATA_ROOT" && run_strata import "$TESTDIR/base.tar" base && BEFORE=$(store_snapshot)
    hostile_registry stall-blob
    run_strata pull -q "$HOSTILE/hostile/img:1"
    pulled
    echo "both pulls took ${SECONDS}s" >&2
    [ "$SECONDS" -lt 20 ] # curl notices a stall after 1 s below 1 B/s over its 5 s window
}

@test "hostile registry: a manifest dripped a byte at a time meets a deadline" {
    # above the low-speed limit, so only the deadline of a small request (5 stall timeouts:
    # 5 s here, 5 min by default) ends it; the second try gets the manifest at once
    hostile_registry drip-manifest
    SECONDS=0
    run_strata pull -q "$HOSTILE/hostile/img:1"
    pulled
    echo "pull took ${SECONDS}s" >&2
    [ "$(requests '/manifests/1')" -eq 2 ]
}

@test "hostile registry: 429 and 503 are retried with backoff; too many is an error" {
    hostile_registry retry-then-ok
    run_strata pull -q "$HOSTILE/hostile/img:1"
    pulled
    [ "$(requests '/manifests/1')" -eq 3 ]
    stop_hostile
    rm -rf "$STRATA_ROOT" && run_strata import "$TESTDIR/base.tar" base && BEFORE=$(store_snapshot)
    hostile_registry always-503
    SECONDS=0
    refused_pull 'unavailable'
    [ "$(requests '/manifests/1')" -eq 4 ]
    [ "$SECONDS" -ge 1 ] # 0.25 + 0.5 + 1 s of backoff
}

@test "hostile registry: a garbage or oversized WWW-Authenticate is a clear error" {
    hostile_registry garbage-auth
    refused_pull "'$HOSTILE': WWW-Authenticate: bad quoted string at offset [0-9]+$"
    stop_hostile
    hostile_registry garbage-auth-long
    refused_pull "'$HOSTILE': WWW-Authenticate is longer than 8192 bytes$"
}
