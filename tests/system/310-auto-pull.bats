#!/usr/bin/env bats
# strata run pulls a missing image (--pull missing|always|never), as docker run does.

load helpers

teardown() {
    cleanup_containers
    stop_registry
}

@test "run pulls a missing image, then runs it; --pull never and always" {
    skip_if_no_runc
    start_registry
    import_run_image "$REGISTRY/auto/bb:1"
    run_strata push -q "$REGISTRY/auto/bb:1"
    run_strata rmi "$REGISTRY/auto/bb:1"
    run_strata 125 run --rm --pull never "$REGISTRY/auto/bb:1" echo hi
    expect_output_match "No such image"
    run_strata run --rm "$REGISTRY/auto/bb:1" echo hi
    [[ "$output" =~ "Unable to find image '$REGISTRY/auto/bb:1' locally" ]]
    [[ "$output" =~ "Status: Downloaded newer image" ]]
    [ "${lines[-1]}" = hi ]
    # present now: no pull
    run_strata run --rm "$REGISTRY/auto/bb:1" echo again
    expect_output again
    run_strata run --rm --pull always "$REGISTRY/auto/bb:1" echo always
    [[ "$output" =~ "Image is up to date" ]]
    [ "${lines[-1]}" = always ]
    run_strata 125 run --rm --pull sometimes "$REGISTRY/auto/bb:1" true
    expect_output_match "invalid pull policy 'sometimes'"
    run_strata system check
}

@test "run of an image no registry has fails with 125 and a clear error" {
    skip_if_no_runc
    start_registry
    run_strata 125 run --rm "$REGISTRY/auto/missing:1" true
    [[ "$output" =~ "Unable to find image" ]]
    expect_output_match "pull '$REGISTRY/auto/missing:1': .*(manifest unknown|not found)"
}

@test "build pulls a missing base image; --pull pulls it again" {
    skip_if_no_runc
    start_registry
    import_run_image "$REGISTRY/auto/base:1"
    run_strata push -q "$REGISTRY/auto/base:1"
    run_strata rmi "$REGISTRY/auto/base:1"
    mkdir -p "$TESTDIR/ctx"
    printf 'FROM %s\nRUN echo built > /built\nCMD ["cat", "/built"]\n' "$REGISTRY/auto/base:1" \
        >"$TESTDIR/ctx/Dockerfile"
    run_strata build -t pulled:1 "$TESTDIR/ctx"
    [[ "$output" =~ "Unable to find image '$REGISTRY/auto/base:1' locally" ]]
    run_strata run --rm pulled:1
    expect_output built
    run_strata build --pull -t pulled:1 "$TESTDIR/ctx"
    [[ "$output" =~ "Image is up to date" ]]
}
