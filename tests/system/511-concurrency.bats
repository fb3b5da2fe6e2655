#!/usr/bin/env bats
# Concurrency: 4 builds sharing a base and steps, 2 pulls and an rmi at once on one store
# (tests/stress/concurrency.sh with two rounds; `make stress` runs many).

load helpers

teardown() {
    stop_registry
    cleanup_containers
}

@test "four builds, two pulls and an rmi at once: no corruption, every image runs" {
    skip_if_no_runc
    start_registry
    run env STRATA="$STRATA" WORK="$TESTDIR/work" REGISTRY="$REGISTRY" \
        "$BATS_TEST_DIRNAME/../stress/concurrency.sh" 2
    echo "$output" >&2
    [ "$status" -eq 0 ]
    expect_output_match "concurrency: 2 rounds, 7 commands each"
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "three builds of the same new steps at once all succeed and run" {
    skip_if_no_runc
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" base
    mkdir -p "$TESTDIR/ctx"
    printf 'FROM base\nRUN echo same >/same\n' >"$TESTDIR/ctx/Dockerfile"
    pids=()
    for i in 1 2 3; do
        "$STRATA" build -q -t "same$i" "$TESTDIR/ctx" >"$TESTDIR/out$i" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    for i in 1 2 3; do
        run_strata run --rm "same$i" cat /same
        expect_output same
    done
    run_strata system check
    expect_output_match 'the store is clean'
    [ -z "$("$STRATA" ps -aq)" ]
}
