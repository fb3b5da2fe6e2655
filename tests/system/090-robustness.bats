#!/usr/bin/env bats
# Concurrency and crashes: several strata processes on one store, and SIGKILL at random points.

load helpers

teardown() {
    if mountpoint -q "$TESTDIR/small" 2>/dev/null; then umount "$TESTDIR/small"; fi
    return 0
}

# make_tar FILE SEED MB : a tarball with MB megabytes of random data plus busybox.
make_tar() {
    local d="$TESTDIR/src-$2"
    make_busybox_rootfs "$d"
    head -c "$(($3 * 1024 * 1024))" /dev/urandom > "$d/blob"
    echo "$2" > "$d/seed"
    tar -C "$d" -cf "$1" .
}

@test "four imports and an rmi at once on one store" {
    for i in 1 2 3 4; do make_tar "$TESTDIR/t$i.tar" "$i" 2; done
    run_strata import "$TESTDIR/t1.tar" victim
    pids=()
    for i in 1 2 3 4; do
        "$STRATA" import "$TESTDIR/t$i.tar" "img$i" > "$TESTDIR/out$i" 2>&1 &
        pids+=($!)
    done
    "$STRATA" rmi victim > "$TESTDIR/rmi.out" 2>&1 &
    pids+=($!)
    for p in "${pids[@]}"; do wait "$p"; done
    run_strata images --format '{{.Repository}}'
    expect_output "$(printf 'img%s\n' 1 2 3 4 | sort)" || {
        run_strata images --format '{{.Repository}}'
        [ "$(echo "$output" | sort)" = "$(printf 'img%s\n' 1 2 3 4)" ]
    }
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "SIGKILL during import, at random points, leaves a store that checks clean" {
    make_tar "$TESTDIR/big.tar" big 24
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" base
    for delay in 0.05 0.1 0.2 0.3 0.45 0.7; do
        "$STRATA" import "$TESTDIR/big.tar" big >/dev/null 2>&1 &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        run_strata system check
        expect_output_match 'the store is clean'
        run_strata inspect --format '{{.Id}}' base
    done
    # and redoing the operation succeeds
    run_strata import "$TESTDIR/big.tar" big
    run_strata system check
    expect_output_match 'the store is clean'
    [ -z "$(ls -A "$STRATA_ROOT/tmp" | grep -v '\.lock$' || true)" ]
}

@test "SIGKILL during rmi and load leaves a consistent store" {
    make_tar "$TESTDIR/big.tar" big 16
    run_strata import "$TESTDIR/big.tar" big
    run_strata save -o "$TESTDIR/big-save.tar" big
    for delay in 0.02 0.1 0.3; do
        "$STRATA" rmi big >/dev/null 2>&1 &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        run_strata system check
        expect_output_match 'the store is clean'
        "$STRATA" load -i "$TESTDIR/big-save.tar" >/dev/null 2>&1 &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        run_strata system check
        expect_output_match 'the store is clean'
        run_strata load -i "$TESTDIR/big-save.tar"
    done
    run_strata images --format '{{.Repository}}'
    expect_output big
}

@test "a full disk gives a clear error, a consistent store, and the space back" {
    [ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
    mkdir -p "$TESTDIR/small"
    mount -t tmpfs -o size=12m tmpfs "$TESTDIR/small" || skip "cannot mount tmpfs"
    export STRATA_ROOT="$TESTDIR/small/root"
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" base
    used=$(du -s "$STRATA_ROOT" | cut -f1)
    make_tar "$TESTDIR/big.tar" big 20
    run "$STRATA" import "$TESTDIR/big.tar" big
    status_import=$status
    out=$output
    run_strata system check
    expect_output_match 'the store is clean'
    [ "$(du -s "$STRATA_ROOT" | cut -f1)" -le "$((used + 64))" ]
    umount "$TESTDIR/small"
    [ "$status_import" -eq 1 ]
    [[ "$out" =~ "No space left on device" ]]
}
