#!/usr/bin/env bats
# strata save and strata load.

load helpers

import_bb() {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import -c 'CMD ["/bin/sh"]' "$TESTDIR/bb.tar" "$@"
    ID=$output
}

@test "save writes an OCI layout and a docker-archive in one tar" {
    import_bb busybox:1
    run_strata save -o "$TESTDIR/out.tar" busybox:1
    mkdir "$TESTDIR/x" && tar -C "$TESTDIR/x" -xf "$TESTDIR/out.tar"
    [ "$(jq -r .imageLayoutVersion "$TESTDIR/x/oci-layout")" = 1.0.0 ]
    [ "$(jq -r '.manifests[0].annotations["io.containerd.image.name"]' "$TESTDIR/x/index.json")" = docker.io/library/busybox:1 ]
    [ "$(jq -r '.[0].RepoTags[0]' "$TESTDIR/x/manifest.json")" = busybox:1 ]
    [ "$(jq -r '.[0].Config' "$TESTDIR/x/manifest.json")" = "blobs/sha256/${ID:7}" ]
    # every blob is named by its digest
    for f in "$TESTDIR"/x/blobs/sha256/*; do
        [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ]
    done
}

@test "save to stdout, load into an empty store gives the same image" {
    import_bb busybox
    "$STRATA" save busybox > "$TESTDIR/out.tar"
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/out.tar"
    expect_output "Loaded image: busybox:latest"
    run_strata images -q --no-trunc
    expect_output "$ID"
    run_strata system check
    expect_output_match 'the store is clean'
    # and the layer dir holds the tree
    cmp /bin/busybox "$STRATA_ROOT"/layers/*/diff/bin/busybox
}

@test "load from stdin, compressed" {
    import_bb busybox
    run_strata save -o "$TESTDIR/out.tar" busybox
    gzip "$TESTDIR/out.tar"
    export STRATA_ROOT="$TESTDIR/root2"
    run bash -c "'$STRATA' load < '$TESTDIR/out.tar.gz'"
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: busybox:latest" ]
}

@test "save several images; shared blobs are written once" {
    import_bb a
    run_strata import -c 'CMD ["x"]' "$TESTDIR/bb.tar" b
    run_strata save -o "$TESTDIR/out.tar" a b
    # two configs, two manifests, one layer
    [ "$(tar -tf "$TESTDIR/out.tar" | grep -c '^blobs/sha256/.')" -eq 5 ]
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/out.tar"
    expect_output "Loaded image: a:latest
Loaded image: b:latest"
}

@test "save by ID writes no tag; load reports the ID" {
    import_bb a
    run_strata save -o "$TESTDIR/out.tar" "${ID:7:12}"
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/out.tar"
    expect_output "Loaded image ID: $ID"
}

@test "load of an old-style docker-archive (layer.tar directories)" {
    make_busybox_tar "$TESTDIR/bb.tar"
    python3 "$BATS_TEST_DIRNAME/fixtures/make-docker-archive.py" "$TESTDIR/bb.tar" "$TESTDIR/old.tar" old:1
    run_strata load -i "$TESTDIR/old.tar"
    expect_output "Loaded image: old:1"
    run_strata inspect --format '{{index .RootFS.Layers 0}}' old:1
    expect_output "sha256:$(sha256sum "$TESTDIR/bb.tar" | cut -d' ' -f1)"
    run_strata system check
}

@test "load refuses bad archives and leaves the store unchanged" {
    import_bb keep
    before=$(store_snapshot)
    # not an archive at all
    head -c 3000 /dev/urandom > "$TESTDIR/garbage"
    run_strata 1 load -i "$TESTDIR/garbage"
    expect_output_match '^strata: '
    # neither layout
    tar -C "$TESTDIR" -cf "$TESTDIR/empty.tar" bb.tar
    run_strata 1 load -i "$TESTDIR/empty.tar"
    expect_output_match 'neither an OCI layout'
    # a blob that does not match its name
    run_strata save -o "$TESTDIR/good.tar" keep
    mkdir "$TESTDIR/bad" && tar -C "$TESTDIR/bad" -xf "$TESTDIR/good.tar"
    layer=$(jq -r '.[0].Layers[0]' "$TESTDIR/bad/manifest.json")
    # a valid gzip stream, but not the one the manifest names
    tar -C "$TESTDIR" -cz bb.tar > "$TESTDIR/bad/$layer"
    rm "$TESTDIR/bad/manifest.json"
    tar -C "$TESTDIR/bad" -cf "$TESTDIR/bad.tar" .
    run_strata 1 load -i "$TESTDIR/bad.tar"
    expect_output_match 'layer content hashes to sha256:[0-9a-f]{64}, expected sha256:'
    # not even a tar: the digest mismatch is still what is reported
    echo other | gzip > "$TESTDIR/bad/$layer"
    tar -C "$TESTDIR/bad" -cf "$TESTDIR/bad.tar" .
    run_strata 1 load -i "$TESTDIR/bad.tar"
    expect_output_match 'layer content hashes to sha256:[0-9a-f]{64}, expected sha256:'
    # an index pointing at a missing blob
    rm -rf "$TESTDIR/bad2" && mkdir "$TESTDIR/bad2" && tar -C "$TESTDIR/bad2" -xf "$TESTDIR/good.tar"
    rm "$TESTDIR/bad2/$layer" "$TESTDIR/bad2/manifest.json"
    tar -C "$TESTDIR/bad2" -cf "$TESTDIR/bad2.tar" .
    run_strata 1 load -i "$TESTDIR/bad2.tar"
    expect_output_match 'No such file'
    # a manifest.json naming a file outside the archive
    rm -rf "$TESTDIR/bad3" && mkdir "$TESTDIR/bad3" && tar -C "$TESTDIR/bad3" -xf "$TESTDIR/good.tar"
    rm "$TESTDIR/bad3/index.json"
    jq '.[0].Config = "../../../../../../etc/passwd"' "$TESTDIR/bad3/manifest.json" > "$TESTDIR/m.json"
    mv "$TESTDIR/m.json" "$TESTDIR/bad3/manifest.json"
    tar -C "$TESTDIR/bad3" -cf "$TESTDIR/bad3.tar" .
    run_strata 1 load -i "$TESTDIR/bad3.tar"
    expect_output_match '^strata: '
    [ "$(store_snapshot)" = "$before" ]
    [ -z "$(ls -A "$STRATA_ROOT/tmp")" ]
}

@test "save of an unknown image fails and writes no file" {
    run_strata 1 save -o "$TESTDIR/out.tar" nope
    expect_output "strata: No such image: nope"
    [ ! -e "$TESTDIR/out.tar" ]
}
