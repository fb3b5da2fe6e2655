#!/usr/bin/env bats
# strata build --compression gzip|zstd|none and --compression-level.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    skip_if_no_runc
    CTX="$TESTDIR/ctx"
    mkdir -p "$CTX"
    local d="$TESTDIR/bbfull" a
    make_busybox_rootfs "$d"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
    done
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$TESTDIR/bb.tar" .
    run_strata import "$TESTDIR/bb.tar" busybox
    echo hello >"$CTX/greeting.txt"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
COPY greeting.txt /greeting.txt
RUN echo made >/made
EOF2
}

teardown() {
    cleanup_containers
}

# top_layer IMAGE [N] : "MEDIATYPE BLOBPATH" of IMAGE's top layer (or the Nth from the top, -1
# being the top) in the OCI manifest of its save.
top_layer() {
    "$STRATA" save "$1" >"$TESTDIR/save-$1.tar"
    rm -rf "$TESTDIR/save-$1" && mkdir "$TESTDIR/save-$1"
    tar -C "$TESTDIR/save-$1" -xf "$TESTDIR/save-$1.tar"
    local m d
    m=$(jq -r '.manifests[0].digest' "$TESTDIR/save-$1/index.json")
    jq -r ".layers[${2:--1}] | .mediaType + \" \" + .digest" "$TESTDIR/save-$1/blobs/sha256/${m#sha256:}" |
        sed "s|sha256:|$TESTDIR/save-$1/blobs/sha256/|"
}

# magic FILE : the first 4 bytes of FILE in hex.
magic() {
    od -An -tx1 -N4 "$1" | tr -d ' \n'
}

@test "build --compression: media types and magic bytes follow, the images run" {
    local c mt blob
    for c in gzip zstd none; do
        run_strata build -q --compression "$c" -t "img-$c" "$CTX"
        read -r mt blob < <(top_layer "img-$c")
        case $c in
        gzip)
            [ "$mt" = application/vnd.oci.image.layer.v1.tar+gzip ]
            [[ "$(magic "$blob")" == 1f8b* ]]
            ;;
        zstd)
            [ "$mt" = application/vnd.oci.image.layer.v1.tar+zstd ]
            [ "$(magic "$blob")" = 28b52ffd ]
            ;;
        none)
            [ "$mt" = application/vnd.oci.image.layer.v1.tar ]
            tar -tf "$blob" | grep -qx made
            ;;
        esac
        run_strata run --rm "img-$c" cat /greeting.txt /made
        expect_output "hello
made"
    done
    # the default is gzip
    run_strata build -q -t img-default "$CTX"
    read -r mt blob < <(top_layer img-default)
    [ "$mt" = application/vnd.oci.image.layer.v1.tar+gzip ]
    # level 1 (ISA-L's igzip): the COPY layer gets other bytes for the same tar, gzip reads
    # them, the image runs
    local b1 b6
    run_strata build -q --compression-level 1 -t img-fast "$CTX"
    read -r mt b1 < <(top_layer img-fast -2)
    read -r mt b6 < <(top_layer img-default -2)
    [ "$mt" = application/vnd.oci.image.layer.v1.tar+gzip ]
    [ "$(basename "$b1")" != "$(basename "$b6")" ]
    gzip -t "$b1"
    cmp <(gzip -dc "$b1") <(gzip -dc "$b6")
    run_strata run --rm img-fast cat /greeting.txt
    expect_output hello
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "build --compression: save | load into another root keeps the image ID" {
    local c id
    for c in gzip zstd none; do
        if [ "$c" = none ]; then
            run_strata build -q --compression none -t "rt-$c" "$CTX"
        else
            run_strata build -q --compression "$c" --compression-level 1 -t "rt-$c" "$CTX"
        fi
        id=$output
        "$STRATA" save "rt-$c" >"$TESTDIR/rt-$c.tar"
        STRATA_ROOT="$TESTDIR/root-$c" run_strata load -i "$TESTDIR/rt-$c.tar"
        STRATA_ROOT="$TESTDIR/root-$c" run_strata images -q --no-trunc "rt-$c"
        expect_output "$id"
        STRATA_ROOT="$TESTDIR/root-$c" run_strata run --rm "rt-$c" cat /made
        expect_output made
        STRATA_ROOT="$TESTDIR/root-$c" run_strata system check
        expect_output_match 'the store is clean'
    done
}

@test "build --compression: the cache is not shared between compressions" {
    run_strata build -q --compression gzip -t a "$CTX"
    local gz=$output
    run_strata build --compression zstd -t b "$CTX"
    [[ "$output" != *CACHED* ]]
    run_strata images -q --no-trunc b
    local zs=$output
    [ "$gz" != "$zs" ]
    read -r mt blob < <(top_layer b)
    [ "$mt" = application/vnd.oci.image.layer.v1.tar+zstd ]
    # each compression hits its own cache
    run_strata build --compression zstd -t b2 "$CTX"
    expect_output_match 'CACHED'
    run_strata images -q --no-trunc b2
    expect_output "$zs"
    run_strata build --compression gzip -t a2 "$CTX"
    expect_output_match 'CACHED'
    run_strata images -q --no-trunc a2
    expect_output "$gz"
    # another level is another blob
    run_strata build --compression zstd --compression-level 19 -t b3 "$CTX"
    [[ "$output" != *CACHED* ]]
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "build --compression: bad values are usage errors" {
    run_strata 125 build --compression xz "$CTX"
    expect_output_match 'invalid compression "xz"'
    run_strata 125 build --compression gzip --compression-level 10 "$CTX"
    expect_output_match 'invalid compression level 10 for gzip: expected 1-9'
    run_strata 125 build --compression zstd --compression-level 20 "$CTX"
    expect_output_match 'expected 1-19'
    run_strata 125 build --compression-level 0 "$CTX"
    run_strata 125 build --compression-level abc "$CTX"
    run_strata 125 build --compression none --compression-level 3 "$CTX"
    run_strata build -q --compression zstd --compression-level 19 "$CTX"
    run_strata build -q --compression gzip --compression-level 9 "$CTX"
}
