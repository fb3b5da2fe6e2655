#!/usr/bin/env bats

load helpers

@test "strata prints its version" {
    run_strata version
    expect_output_match '^strata 0\.'
}

@test "--help lists a verb's flags" {
    run_strata build --help
    expect_output_match 'Usage:  strata build \[OPTIONS\] PATH\|-'
    expect_output_match '^  -t, --tag VALUE$'
    expect_output_match '^      --no-cache$'
    expect_output_match '^      --allow VALUE$'
}
