#!/usr/bin/env bats
# strata inspect.

load helpers

@test "inspect prints a docker-shaped JSON array" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import -c 'CMD ["sh"]' "$TESTDIR/bb.tar" busybox
    id=$output
    run_strata inspect busybox
    echo "$output" | jq -e 'length == 1' >/dev/null
    [ "$(echo "$output" | jq -r '.[0].Id')" = "$id" ]
    [ "$(echo "$output" | jq -r '.[0].RepoTags[0]')" = "busybox:latest" ]
    [ "$(echo "$output" | jq -r '.[0].Architecture')" = amd64 ]
    [ "$(echo "$output" | jq -r '.[0].Os')" = linux ]
    [ "$(echo "$output" | jq -r '.[0].Config.Cmd[0]')" = sh ]
    [ "$(echo "$output" | jq -r '.[0].RootFS.Type')" = layers ]
    size=$(echo "$output" | jq -r '.[0].Size')
    [ "$size" -gt 1000000 ]
    echo "$output" | jq -e '.[0].Created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' >/dev/null
    echo "$output" | jq -e '.[0] | has("RepoDigests") and has("Metadata") and has("Comment")' >/dev/null
}

@test "inspect several images, --format, and a missing one" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" a
    run_strata tag a b
    run_strata inspect --format '{{.Id}}' a b
    [ "${lines[0]}" = "${lines[1]}" ]
    run_strata 1 inspect a nope
    [[ "$output" =~ "strata: No such image: nope" ]]
}

@test "inspect by digest-shaped and short IDs" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" a
    id=$output
    run_strata inspect --format '{{.Id}}' "${id:7:5}"
    expect_output "$id"
    run_strata inspect --format '{{.Id}}' "$id"
    expect_output "$id"
    run_strata inspect --format '{{.Id}}' "${id:7}"
    expect_output "$id"
}
