#!/usr/bin/env bats
# strata history.

load helpers

@test "history of an imported image" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" busybox
    id=$output
    run_strata history busybox
    [[ "${lines[0]}" =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]]
    [[ "${lines[1]}" =~ ^${id:7:12}\ +.*ago\ +[0-9.]+MB\ +Imported\ from\ -$ ]]
    run_strata history -q busybox
    expect_output "${id:7:12}"
    run_strata history --no-trunc -q busybox
    expect_output "$id"
}

@test "history -H=false prints RFC 3339 times and bytes" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" busybox
    run_strata history -H=false --format '{{.CreatedSince}} {{.Size}}' busybox
    expect_output_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [0-9]+$'
    run_strata history --human=false --format '{{.Size}}' busybox
    expect_output_match '^[0-9]+$'
}

@test "history of a missing image fails" {
    run_strata 1 history nope
    expect_output "strata: No such image: nope"
}
