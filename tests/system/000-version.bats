#!/usr/bin/env bats

load helpers

@test "strata prints its version" {
    run_strata version
    expect_output_match '^strata 0\.'
}

@test "--help lists a verb's flags, their value types and what they do" {
    run_strata build --help
    expect_output_match 'Usage:  strata build \[OPTIONS\] PATH\|-'
    grep -qE '^  -t, --tag list +Name and optionally a tag' <<<"$output"
    grep -qE '^      --no-cache +Do not use the build cache$' <<<"$output"
    grep -qE '^      --compression-level int +Compression level' <<<"$output"
    # every verb: each flag has a description
    local v
    for v in build builder run create start stop restart kill rm ps logs exec commit export cp \
        images import rmi inspect history save load pull push login manifest dockerfile; do
        run_strata "$v" --help
        ! sed -n '/^Options:/,$p' <<<"$output" | grep -E '^  .*--' | grep -vE '   [A-Z]' || false
    done
    # a flag that means something else per verb
    run_strata rm --help
    grep -qE '^  -f, --force +Kill and remove a running container$' <<<"$output"
    run_strata rmi --help
    grep -qE '^  -f, --force +Remove the image even if' <<<"$output"
}
