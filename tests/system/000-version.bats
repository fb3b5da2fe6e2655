#!/usr/bin/env bats

load helpers

@test "strata prints its version" {
    run_strata version
    expect_output_match '^strata 0\.'
}

@test "--help lists a verb's flags" {
    run_strata build --help
    expect_output_match 'Usage:  strata build \[OPTIONS\] PATH\|-'
    grep -qx '  -t, --tag VALUE' <<<"$output"
    grep -qx '      --no-cache' <<<"$output"
    grep -qx '      --allow VALUE' <<<"$output"
}
