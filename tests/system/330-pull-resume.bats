#!/usr/bin/env bats
# strata pull resumes a partial layer across processes: a pull killed mid-layer leaves
# ROOT/partial/<hex>, and the next pull replays it and asks the registry for the rest.

load helpers

teardown() {
    stop_registry
}

FIX="$BATS_TEST_DIRNAME/fixtures"

# push_big REF : pushes to $REGISTRY an image of busybox and ~20 MB of random bytes; sets ID.
push_big() {
    make_busybox_tar "$TESTDIR/l1.tar"
    mkdir -p "$TESTDIR/l2/data"
    head -c 20000000 /dev/urandom >"$TESTDIR/l2/data/blob"
    tar --mtime=@0 -C "$TESTDIR/l2" -cf "$TESTDIR/l2.tar" .
    python3 "$FIX/make-oci-image.py" "$TESTDIR/img.tar" "$REGISTRY/$1" "$TESTDIR/l1.tar" \
        "$TESTDIR/l2.tar"
    run_strata load -i "$TESTDIR/img.tar"
    run_strata images -q --no-trunc
    ID=$output
    run_strata push -q "$REGISTRY/$1"
}

# kill_pull_midway REF : starts `strata pull REF` (through the slow proxy), kill -9s it once
# more than 2 MB of a layer are in its partial download; sets HEX (that blob's) and SIZE.
kill_pull_midway() {
    "$STRATA" pull -q "$1" >/dev/null 2>&1 &
    local pid=$! i size
    for i in $(seq 200); do
        size=$(stat -c %s "$STRATA_ROOT"/partial/* 2>/dev/null | sort -n | tail -1)
        [ "${size:-0}" -gt 2000000 ] && break
        sleep 0.05
    done
    kill -9 $pid
    wait $pid || true
    HEX=$(ls -S "$STRATA_ROOT/partial" | head -1)
    SIZE=$(stat -c %s "$STRATA_ROOT/partial/$HEX")
    echo "partial $HEX: $SIZE bytes" >&3
    [ "$SIZE" -gt 2000000 ]
    [ "$SIZE" -lt 19000000 ]
}

@test "a pull killed mid-layer resumes from its partial download with Range" {
    start_registry
    push_big app/big:1
    start_flaky_proxy --slow
    export STRATA_ROOT="$TESTDIR/root2"
    kill_pull_midway "$PROXY/app/big:1"
    run_strata system check
    expect_output_match 'the store is clean'
    : >"$PROXY_LOG"
    run_strata pull -q "$PROXY/app/big:1"
    cat "$PROXY_LOG" >&3
    # the big layer: asked for from where the partial download ends, and only once
    grep -qE "^GET /v2/app/big/blobs/sha256:$HEX bytes=$SIZE- " "$PROXY_LOG"
    [ "$(grep -c "^GET /v2/app/big/blobs/sha256:$HEX " "$PROXY_LOG")" = 1 ]
    run_strata images -q --no-trunc
    expect_output "$ID"
    [ -z "$(ls -A "$STRATA_ROOT/partial")" ] # used up
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "a registry that ignores Range: the resumed pull skips what it has" {
    start_registry
    push_big app/big:1
    start_flaky_proxy --slow
    export STRATA_ROOT="$TESTDIR/root2"
    kill_pull_midway "$PROXY/app/big:1"
    kill "$PROXY_PID" && wait "$PROXY_PID" 2>/dev/null || true
    start_flaky_proxy --no-range
    STRATA_TRACE=registry run_strata pull -q "$PROXY/app/big:1"
    expect_output_match "resuming sha256:$HEX from a partial download of $SIZE bytes"
    # asked for the rest; the proxy dropped the Range, so the whole blob came (200)
    grep -qE "^GET /v2/app/big/blobs/sha256:$HEX bytes=$SIZE- " "$PROXY_LOG"
    expect_output_match "Range: bytes=$SIZE-"$'\n'"[^"$'\n'"]*< HTTP/1.1 200 OK"
    run_strata images -q --no-trunc
    expect_output "$ID"
    [ -z "$(ls -A "$STRATA_ROOT/partial")" ]
}

@test "a wrong partial download fails the pull once, is removed, and the next pull is right" {
    start_registry
    push_big app/big:1
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull -q "$REGISTRY/app/big:1"
    run_strata rmi "$REGISTRY/app/big:1"
    big=$(find "$REGISTRY_DATA" -path '*/blobs/sha256/*/data' -size +10M | head -1)
    hex=$(basename "$(dirname "$big")")
    mkdir -p "$STRATA_ROOT/partial"
    head -c 3000000 "$big" >"$STRATA_ROOT/partial/$hex"
    printf 'garbage' | dd of="$STRATA_ROOT/partial/$hex" bs=1 seek=2000000 conv=notrunc 2>/dev/null
    run_strata 1 pull -q "$REGISTRY/app/big:1"
    expect_output_match 'resumed from a partial download of 3000000 bytes, removed'
    [ ! -e "$STRATA_ROOT/partial/$hex" ]
    run_strata pull -q "$REGISTRY/app/big:1"
    run_strata images -q --no-trunc
    expect_output "$ID"
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "system prune removes stale partial downloads, not fresh ones" {
    mkdir -p "$STRATA_ROOT/partial"
    old=$(printf 'a%.0s' $(seq 64)) new=$(printf 'b%.0s' $(seq 64))
    head -c 1000 /dev/urandom >"$STRATA_ROOT/partial/$old"
    head -c 1000 /dev/urandom >"$STRATA_ROOT/partial/$new"
    touch -d '2 days ago' "$STRATA_ROOT/partial/$old"
    run_strata system prune -f
    [ ! -e "$STRATA_ROOT/partial/$old" ]
    [ -e "$STRATA_ROOT/partial/$new" ]
    run_strata system check
    expect_output_match 'the store is clean'
}
