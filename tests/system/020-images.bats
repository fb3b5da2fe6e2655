#!/usr/bin/env bats
# strata images: listing, filters and formats.

load helpers

setup_file() {
    export SHARED="$BATS_FILE_TMPDIR"
}

import_bb() {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" "$@"
    ID=$output
}

@test "images lists repository, tag, id, created and size like docker" {
    import_bb busybox
    run_strata images
    [ "${lines[0]}" = "REPOSITORY   TAG       IMAGE ID       CREATED          SIZE" ] ||
        [[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
    [[ "${lines[1]}" =~ ^busybox\ +latest\ +${ID:7:12}\ +(Less\ than\ a\ second|[0-9]+\ seconds?)\ ago\ +[0-9.]+MB$ ]]
}

@test "an image with two tags shows twice; -q prints its ID once" {
    import_bb busybox
    run_strata tag busybox localhost:5000/team/bb:1.0
    run_strata images --format '{{.Repository}}:{{.Tag}}'
    expect_output "busybox:latest
localhost:5000/team/bb:1.0"
    run_strata images -q
    expect_output "${ID:7:12}"
}

@test "images filters by repository and tag, with wildcards" {
    import_bb busybox
    run_strata tag busybox other:2
    run_strata images --format '{{.Repository}}' busybox
    expect_output busybox
    run_strata images --format '{{.Repository}}:{{.Tag}}' 'oth*:2'
    expect_output other:2
    run_strata images -q 'nothing-here'
    expect_output ""
}

@test "images --format json and table" {
    import_bb busybox
    run_strata images --format json
    [ "$(echo "$output" | jq -r .Repository)" = busybox ]
    [ "$(echo "$output" | jq -r .ID)" = "${ID:7:12}" ]
    run_strata images --format 'table {{.Repository}}\t{{.ID}}'
    [[ "${lines[0]}" =~ ^REPOSITORY\ +IMAGE\ ID$ ]]
    [[ "${lines[1]}" =~ ^busybox\ +${ID:7:12}$ ]]
}

@test "images --no-trunc and --digests" {
    import_bb busybox
    run_strata images --no-trunc --format '{{.ID}}'
    expect_output "$ID"
    run_strata images --digests
    [[ "${lines[0]}" =~ DIGEST ]]
    [[ "${lines[1]}" =~ \<none\> ]]
}

@test "an untagged image shows as <none>" {
    import_bb
    run_strata images --format '{{.Repository}} {{.Tag}}'
    expect_output "<none> <none>"
}

@test "images rejects a bad template with a clear error" {
    import_bb busybox
    run_strata 1 images --format '{{.Nope'
    expect_output_match '^strata: .*template'
}

@test "images --filter dangling, reference, label, before and since" {
    import_bb busybox
    run_strata import -c 'LABEL team=core tier=1' "$TESTDIR/bb.tar" labelled:1
    run_strata import "$TESTDIR/bb.tar"
    dangling=$output
    python3 "$BATS_TEST_DIRNAME/fixtures/make-docker-archive.py" "$TESTDIR/bb.tar" "$TESTDIR/old.tar" old:2023
    run_strata load -i "$TESTDIR/old.tar"
    run_strata images -q --no-trunc --filter dangling=true
    expect_output "$dangling"
    run_strata images --format '{{.Repository}}' -f dangling=false -f reference='l*'
    expect_output labelled
    run_strata images --format '{{.Repository}}' --filter label=team=core
    expect_output labelled
    run_strata images --format '{{.Repository}}' --filter label=tier --filter label=team=other
    expect_output ""
    run_strata images --format '{{.Repository}}' --filter before=busybox
    expect_output old
    run_strata images --format '{{.Repository}}' --filter since=old:2023 --filter reference=busybox
    expect_output busybox
    run_strata 125 images --filter bogus=1
    expect_output_match "invalid filter 'bogus=1'"
}
