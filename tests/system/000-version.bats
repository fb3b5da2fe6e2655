#!/usr/bin/env bats

load helpers

@test "strata prints its version" {
    run_strata version
    expect_output_match '^strata 0\.'
}
