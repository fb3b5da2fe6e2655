#!/usr/bin/env bats
# strata system df|prune|check, strata image prune and container prune.

load helpers

teardown() {
    cleanup_containers
}

@test "system df counts images and reclaimable space" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" a
    run_strata import -c 'CMD ["x"]' "$TESTDIR/bb.tar"
    run_strata system df
    [[ "${lines[0]}" =~ ^TYPE\ +TOTAL\ +ACTIVE\ +SIZE\ +RECLAIMABLE$ ]]
    [[ "${lines[1]}" =~ ^Images\ +2\ +1\ +[0-9.]+MB\ +0B\ \(0%\)$ ]]
}

@test "image prune removes dangling images only; -a removes all" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" keep
    run_strata import -c 'CMD ["x"]' "$TESTDIR/bb.tar"
    dangling=$output
    run_strata image prune -f
    [[ "$output" =~ "deleted: $dangling" ]]
    [[ "$output" =~ "Total reclaimed space:" ]]
    run_strata images --format '{{.Repository}}'
    expect_output keep
    run_strata image prune -a -f
    run_strata images -q
    expect_output ""
    [ -z "$(ls "$STRATA_ROOT/layers")" ]
}

@test "prune without -f asks and does nothing on no" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar"
    run bash -c "echo n | '$STRATA' system prune"
    [ "$status" -eq 0 ]
    run_strata images -q
    [ -n "$output" ]
}

@test "system check finds one flipped byte in a layer file that kept its size and mtime" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" a
    layer=$(ls "$STRATA_ROOT/layers" | head -n1)
    f="$STRATA_ROOT/layers/$layer/diff/etc/passwd"
    cp -p "$f" "$TESTDIR/passwd.orig"
    first=$(head -c1 "$f")
    if [ "$first" = X ]; then flip=Y; else flip=X; fi
    printf '%s' "$flip" | dd of="$f" bs=1 count=1 conv=notrunc status=none
    touch -r "$TESTDIR/passwd.orig" "$f"
    [ "$(stat -c %s.%Y "$f")" = "$(stat -c %s.%Y "$TESTDIR/passwd.orig")" ]
    run_strata 1 system check
    expect_output_match "layer sha256:$layer is broken: its content changed"
    cp -p "$TESTDIR/passwd.orig" "$f"
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "system check finds a corrupt blob and a changed layer, --repair fixes the store" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" a
    run_strata system check
    expect_output_match 'the store is clean'
    blob=$(ls "$STRATA_ROOT/blobs/sha256" | head -n1)
    layer=$(ls "$STRATA_ROOT/layers" | head -n1)
    echo tampered >> "$STRATA_ROOT/layers/$layer/diff/etc/passwd"
    run_strata 1 system check
    expect_output_match "layer sha256:$layer is broken: its content changed"
    run_strata system check --repair
    expect_output_match 'removed broken image'
    run_strata system check
    expect_output_match 'the store is clean'
    run_strata images -q
    expect_output ""
}

@test "system check detects a corrupt blob" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" a
    id=$output
    printf 'x' >> "$STRATA_ROOT/blobs/sha256/${id:7}"
    run_strata 1 system check
    expect_output_match "blob $id is corrupt"
    run_strata 1 inspect a
    expect_output_match "corrupt"
}

@test "stale staging dirs of dead processes are removed" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" a
    mkdir -p "$STRATA_ROOT/tmp/deadbeef00000000/layer-x"
    : > "$STRATA_ROOT/tmp/deadbeef00000000.lock"
    run_strata images -q
    [ ! -e "$STRATA_ROOT/tmp/deadbeef00000000" ]
}

@test "unknown verbs and bad flags are usage errors (125)" {
    run_strata 125 frobnicate
    expect_output_match "'frobnicate' is not a strata command"
    run_strata 125 images --bogus
    run_strata 125 system
}

@test "system df counts the build cache; builder prune empties it" {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" busybox
    mkdir -p "$TESTDIR/ctx" && head -c 200000 /dev/urandom >"$TESTDIR/ctx/data"
    printf 'FROM busybox\nCOPY data /data\n' >"$TESTDIR/ctx/Dockerfile"
    run_strata build -q -t built "$TESTDIR/ctx"
    run_strata rmi built
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +[1-9][0-9]*\ +0\ +200(\.[0-9])?kB\ +200(\.[0-9])?kB$ ]]
    run_strata builder prune -f
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +0\ +0\ +0B\ +0B$ ]]
    run_strata system check
}

@test "system prune: stopped containers, dangling images; -a: unused images and the build cache" {
    skip_if_no_runc
    import_run_image
    mkdir -p "$TESTDIR/ctx" && head -c 200000 /dev/urandom >"$TESTDIR/ctx/data"
    printf 'FROM busybox\nCOPY data /data\n' >"$TESTDIR/ctx/Dockerfile"
    run_strata build -q -t built "$TESTDIR/ctx"
    run_strata create --name made busybox true
    run_strata run --name done busybox true
    run_strata run -d --name up busybox sleep 60
    run bash -c "echo n | '$STRATA' system prune 2>&1"
    [[ "$output" == *"  - all stopped containers"* ]]
    [[ "$output" == *"  - all dangling images"* ]]
    [[ "$output" != *"build cache"* ]]
    run_strata system prune -f
    expect_output_match "^Deleted Containers:"
    [ "$(grep -c '^[0-9a-f]\{64\}$' <<<"$output")" = 2 ]
    run_strata ps -a --format '{{.Names}}'
    expect_output up
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +[1-9] ]]
    run_strata container prune -f
    run_strata ps -a --format '{{.Names}}'
    expect_output up
    run_strata system prune -a -f
    expect_output_match "^Deleted build cache objects: [1-9]"
    run_strata images --format '{{.Repository}}'
    expect_output busybox # the running container's image stays
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +0\ +0\ +0B\ +0B$ ]]
    run_strata rm -f up
    run_strata system prune -a -f
    run_strata images -q
    expect_output ""
    [ -z "$(ls "$STRATA_ROOT/layers")" ]
    run_strata system check
    expect_output_match 'the store is clean'
}
