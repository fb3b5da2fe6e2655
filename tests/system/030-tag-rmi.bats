#!/usr/bin/env bats
# strata tag and strata rmi.

load helpers

import_bb() {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" "$@"
    ID=$output
}

@test "tag by name, by ID and by short ID; tags move" {
    import_bb busybox
    run_strata tag busybox a:1
    run_strata tag "${ID:7:12}" b
    run_strata tag "$ID" docker.io/library/c:latest
    run_strata images --format '{{.Repository}}:{{.Tag}}'
    expect_output "a:1
b:latest
busybox:latest
c:latest"
}

@test "tag errors: unknown source, invalid target" {
    import_bb busybox
    run_strata 1 tag nope x
    expect_output "strata: No such image: nope"
    run_strata 1 tag busybox 'BAD:x'
    expect_output_match 'invalid reference format'
    run_strata 1 tag busybox 'x:'
    expect_output_match 'invalid reference format'
    run_strata 125 tag busybox
    expect_output_match 'requires exactly 2 arguments'
}

@test "rmi of one of two tags only untags" {
    import_bb busybox
    run_strata tag busybox other
    run_strata rmi other
    expect_output "Untagged: other:latest"
    run_strata images --format '{{.Repository}}'
    expect_output busybox
}

@test "rmi of the last tag deletes the image, its layer and blobs" {
    import_bb busybox
    run_strata rmi busybox
    expect_output "Untagged: busybox:latest
Deleted: $ID"
    run_strata images -q
    expect_output ""
    [ -z "$(ls "$STRATA_ROOT/layers")" ]
    [ -z "$(ls "$STRATA_ROOT/blobs/sha256")" ]
    [ -z "$(ls "$STRATA_ROOT/l")" ]
    run_strata system check
}

@test "rmi by ID of an image with several tags needs -f" {
    import_bb busybox
    run_strata tag busybox other
    run_strata 1 rmi "${ID:7:12}"
    expect_output_match "conflict: unable to delete ${ID:7:12} \(must be forced\)"
    run_strata rmi -f "${ID:7:12}"
    expect_output "Untagged: busybox:latest
Untagged: other:latest
Deleted: $ID"
}

@test "rmi of an unknown image fails, the others are still removed" {
    import_bb busybox
    run_strata 1 rmi nope busybox
    [[ "$output" =~ "strata: No such image: nope" ]]
    [[ "$output" =~ "Deleted: $ID" ]]
}

@test "a layer shared by two images is stored once and kept until the last goes" {
    import_bb a
    run_strata import -c 'CMD ["x"]' "$TESTDIR/bb.tar" b
    [ "$(ls "$STRATA_ROOT/layers" | wc -l)" -eq 1 ]
    run_strata rmi a
    [ "$(ls "$STRATA_ROOT/layers" | wc -l)" -eq 1 ]
    run_strata inspect b
    run_strata rmi b
    [ "$(ls "$STRATA_ROOT/layers" | wc -l)" -eq 0 ]
}
