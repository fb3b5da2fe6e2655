#!/usr/bin/env bats
# push --format (Docker v2 <-> OCI, blobs unchanged), inspect --remote, pushing to another
# registry what was pulled from one, and a registry killed and restarted mid-pull.

load helpers

teardown() {
    cleanup_containers
    stop_registry
    stop_registry2
}

FIX="$BATS_TEST_DIRNAME/fixtures"

stop_registry2() {
    [ -n "${REGISTRY2_PID:-}" ] && kill "$REGISTRY2_PID" 2>/dev/null && wait "$REGISTRY2_PID" 2>/dev/null
    REGISTRY2_PID=
    return 0
}

# raw REF : the manifest as the registry serves it (skopeo, not strata, reads it).
raw() {
    skopeo inspect --tls-verify=false --raw "docker://$1"
}

# media_types REF : "MANIFEST CONFIG LAYER..." media types of REF's manifest.
media_types() {
    raw "$1" | jq -r '[.mediaType, .config.mediaType, (.layers[].mediaType)] | join(" ")'
}

# pushed_digest : the digest in push's "TAG: digest: D size: N" line of $output.
pushed_digest() {
    echo "$output" | sed -n 's/^.*: digest: \(sha256:[0-9a-f]*\) size: .*/\1/p'
}

D=application/vnd.docker
O=application/vnd.oci.image

@test "push --format docker and oci: media types converted, layers untouched, pulled back and run" {
    skip_if_missing skopeo
    skip_if_no_runc
    start_registry
    import_run_image "$REGISTRY/fmt/bb:1" -c 'CMD ["echo", "converted"]'
    id=$output
    run_strata push "$REGISTRY/fmt/bb:1"
    [ "$(media_types "$REGISTRY/fmt/bb:1")" = "$O.manifest.v1+json $O.config.v1+json $O.layer.v1.tar+gzip" ]
    layer=$(raw "$REGISTRY/fmt/bb:1" | jq -r '.layers[0].digest')

    # OCI -> Docker: a new manifest digest, the same config and layer blobs
    run_strata tag "$REGISTRY/fmt/bb:1" "$REGISTRY/fmt/bb:docker"
    run_strata push --format docker "$REGISTRY/fmt/bb:docker"
    expect_output_match 'Layer already exists'
    digest=$(pushed_digest)
    [ "$(media_types "$REGISTRY/fmt/bb:docker")" = "$D.distribution.manifest.v2+json $D.container.image.v1+json $D.image.rootfs.diff.tar.gzip" ]
    [ "sha256:$(raw "$REGISTRY/fmt/bb:docker" | sha256sum | cut -d' ' -f1)" = "$digest" ]
    [ "$(raw "$REGISTRY/fmt/bb:docker" | jq -r '.layers[0].digest')" = "$layer" ]
    [ "$(raw "$REGISTRY/fmt/bb:docker" | jq -r '.config.digest')" = "$id" ]
    run_strata inspect --format '{{json .RepoDigests}}' "$REGISTRY/fmt/bb:1"
    expect_output_match "$REGISTRY/fmt/bb@$digest"

    # pulled back: the same image, now recorded as Docker's; runs
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull -q "$REGISTRY/fmt/bb:docker"
    run_strata images -q --no-trunc
    expect_output "$id"
    run_strata run --rm "$REGISTRY/fmt/bb:docker"
    expect_output "converted"
    # the default is the format it was pulled in; Docker -> OCI converts back
    run_strata tag "$REGISTRY/fmt/bb:docker" "$REGISTRY/fmt/bb:again"
    run_strata tag "$REGISTRY/fmt/bb:docker" "$REGISTRY/fmt/bb:oci"
    run_strata push "$REGISTRY/fmt/bb:again"
    [ "$(pushed_digest)" = "$digest" ]
    run_strata push --format oci "$REGISTRY/fmt/bb:oci"
    [ "$(media_types "$REGISTRY/fmt/bb:oci")" = "$O.manifest.v1+json $O.config.v1+json $O.layer.v1.tar+gzip" ]
    [ "$(raw "$REGISTRY/fmt/bb:oci" | jq -r '.layers[0].digest')" = "$layer" ]

    export STRATA_ROOT="$TESTDIR/root3"
    run_strata pull -q "$REGISTRY/fmt/bb:oci"
    run_strata run --rm "$REGISTRY/fmt/bb:oci"
    expect_output "converted"
    run_strata images -q --no-trunc
    expect_output "$id"
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "push --format: uncompressed layers convert too; zstd cannot go to Docker; bad values" {
    skip_if_missing skopeo
    start_registry
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" bb
    mkdir -p "$TESTDIR/ctx"
    echo hello >"$TESTDIR/ctx/hello"
    printf 'FROM bb\nCOPY hello /hello\nCMD ["cat", "/hello"]\n' >"$TESTDIR/ctx/Dockerfile"
    run_strata build -q --compression none -t "$REGISTRY/fmt/plain:1" "$TESTDIR/ctx"
    run_strata push -q --format docker "$REGISTRY/fmt/plain:1"
    # the base layer is gzip (import), the COPY layer plain tar
    [ "$(media_types "$REGISTRY/fmt/plain:1")" = "$D.distribution.manifest.v2+json $D.container.image.v1+json $D.image.rootfs.diff.tar.gzip $D.image.rootfs.diff.tar" ]
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull -q "$REGISTRY/fmt/plain:1"
    run_strata tag "$REGISTRY/fmt/plain:1" "$REGISTRY/fmt/plain:2"
    run_strata push -q --format oci "$REGISTRY/fmt/plain:2"
    [ "$(media_types "$REGISTRY/fmt/plain:2")" = "$O.manifest.v1+json $O.config.v1+json $O.layer.v1.tar+gzip $O.layer.v1.tar" ]

    # zstd: a clear error before anything is sent
    make_busybox_tar "$TESTDIR/l1.tar"
    python3 "$FIX/make-oci-image.py" --zstd "$TESTDIR/z.tar" "$REGISTRY/fmt/z:1" "$TESTDIR/l1.tar"
    run_strata load -i "$TESTDIR/z.tar"
    before=$(registry_requests '')
    run_strata 1 push --format docker "$REGISTRY/fmt/z:1"
    expect_output "strata: push '$REGISTRY/fmt/z:1': layer 1 is zstd-compressed, which a Docker v2 manifest cannot carry; push it with --format oci"
    [ "$(registry_requests '')" = "$before" ]
    run_strata push -q --format oci "$REGISTRY/fmt/z:1"
    [ "$(media_types "$REGISTRY/fmt/z:1")" = "$O.manifest.v1+json $O.config.v1+json $O.layer.v1.tar+zstd" ]

    run_strata 125 push --format v1 "$REGISTRY/fmt/z:1"
    expect_output_match "unknown --format 'v1' \(oci or docker\)"
}

@test "inspect --remote: the config as inspect shows it, no layer fetched, --format, missing tags" {
    start_registry
    import_run_image "$REGISTRY/remote/bb:1" -c 'CMD ["echo", "remote"]' -c 'ENV A=b'
    id=$output
    run_strata push -q "$REGISTRY/remote/bb:1"
    run_strata inspect "$REGISTRY/remote/bb:1"
    local_json=$output

    export STRATA_ROOT="$TESTDIR/root2"
    blobs_before=$(registry_requests 'GET /v2/remote/bb/blobs/')
    run_strata inspect --remote "$REGISTRY/remote/bb:1"
    remote_json=$output
    [ "$(echo "$remote_json" | jq length)" = 1 ]
    for f in .Id .Config .RootFS .Created .Architecture .Os .RepoTags .Comment; do
        [ "$(echo "$remote_json" | jq -c ".[0]$f")" = "$(echo "$local_json" | jq -c ".[0]$f")" ]
    done
    [ "$(echo "$remote_json" | jq -r '.[0].Id')" = "$id" ]
    digest=$(skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/remote/bb:1" | sha256sum | cut -d' ' -f1)
    [ "$(echo "$remote_json" | jq -r '.[0].RepoDigests[0]')" = "$REGISTRY/remote/bb@sha256:$digest" ]
    # the manifest and the config blob; no layer; nothing stored
    [ "$(registry_requests 'GET /v2/remote/bb/blobs/')" = $((blobs_before + 1)) ]
    [ "$(registry_requests "GET /v2/remote/bb/blobs/$id")" = 1 ]
    [ ! -e "$STRATA_ROOT" ]

    run_strata inspect --remote --format '{{.Id}} {{json .Config.Cmd}} {{index .Config.Env 0}}' "$REGISTRY/remote/bb:1"
    expect_output "$id [\"echo\",\"remote\"] A=b"
    run_strata inspect --remote -f '{{.Id}}' "$REGISTRY/remote/bb@sha256:$digest"
    expect_output "$id"

    run_strata 1 inspect --remote "$REGISTRY/remote/bb:nope"
    expect_output_match "^strata: inspect '$REGISTRY/remote/bb:nope': manifest unknown"
    [ "${#lines[@]}" = 2 ] # the error, and the empty array
    [ "${lines[1]}" = "[]" ]
    run_strata 1 inspect --remote "$REGISTRY/nothing/here:1"
    expect_output_match "^strata: inspect '$REGISTRY/nothing/here:1': (manifest|name) unknown"
    run_strata 125 inspect --remote --type container "$REGISTRY/remote/bb:1"
    run_strata 125 inspect --platform linux/arm64 "$REGISTRY/remote/bb:1"
}

@test "inspect --remote of a manifest list: --platform picks the manifest, RepoDigests the index" {
    skip_if_missing skopeo
    start_registry
    make_busybox_tar "$TESTDIR/l1.tar"
    python3 "$FIX/make-oci-image.py" --platforms linux/arm64/v8,linux/amd64 "$TESTDIR/multi.tar" \
        "$REGISTRY/multi/img:1" "$TESTDIR/l1.tar"
    skopeo copy -q --all --dest-tls-verify=false "oci-archive:$TESTDIR/multi.tar" "docker://$REGISTRY/multi/img:1"
    index=sha256:$(raw "$REGISTRY/multi/img:1" | sha256sum | cut -d' ' -f1)
    run_strata inspect --remote -f '{{.Architecture}} {{index .RepoDigests 0}}' "$REGISTRY/multi/img:1"
    expect_output "amd64 $REGISTRY/multi/img@$index"
    run_strata inspect --remote --platform linux/arm64 -f '{{.Architecture}} {{.Variant}} {{.Id}}' "$REGISTRY/multi/img:1"
    arm_id=${output##* }
    expect_output "arm64 v8 $arm_id"
    # the same ID a pull gives
    run_strata pull -q --platform linux/arm64 "$REGISTRY/multi/img:1"
    run_strata images -q --no-trunc
    expect_output "$arm_id"
    run_strata 1 inspect --remote --platform linux/s390x "$REGISTRY/multi/img:1"
    expect_output_match "no matching manifest for linux/s390x"
}

@test "tag across registries and push: the blobs go from the store, nothing is pulled again" {
    skip_if_no_runc
    start_registry
    import_run_image "$REGISTRY/a/bb:1" -c 'CMD ["echo", "cross"]'
    id=$output
    run_strata push -q "$REGISTRY/a/bb:1"
    r1=$REGISTRY r1_log=$REGISTRY_LOG r1_pid=$REGISTRY_PID
    BATS_TEST_TMPDIR_SAVED=$BATS_TEST_TMPDIR
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata pull -q "$r1/a/bb:1"

    # a second registry (start_registry again, in another directory)
    BATS_TEST_TMPDIR="$TESTDIR/r2"
    mkdir -p "$BATS_TEST_TMPDIR"
    start_registry
    BATS_TEST_TMPDIR=$BATS_TEST_TMPDIR_SAVED
    r2=$REGISTRY REGISTRY2_PID=$REGISTRY_PID
    REGISTRY=$r1 REGISTRY_LOG=$r1_log REGISTRY_PID=$r1_pid
    [ "$r1" != "$r2" ]

    sleep 0.2
    r1_before=$(grep -ac '/v2/' "$r1_log")
    run_strata tag "$r1/a/bb:1" "$r2/b/bb:1"
    run_strata push "$r2/b/bb:1"
    expect_output_match '[0-9a-f]{12}: Pushed'
    sleep 0.2
    [ "$(grep -ac '/v2/' "$r1_log")" = "$r1_before" ] # the first registry was not asked again

    export STRATA_ROOT="$TESTDIR/root3"
    run_strata pull -q "$r2/b/bb:1"
    run_strata run --rm "$r2/b/bb:1"
    expect_output "cross"
    run_strata images -q --no-trunc
    expect_output "$id"
}

# push_big REF : an image of busybox and a 150 MB layer of random bytes, pushed to $REGISTRY;
# sets ID and BIG (the big layer's digest) and BIG_SIZE (its size).
push_big() {
    make_busybox_run_tar "$TESTDIR/big.tar"
    mkdir -p "$TESTDIR/bigdata"
    head -c 150000000 /dev/urandom >"$TESTDIR/bigdata/blob"
    tar --mtime=@0 -C "$TESTDIR/bigdata" -rf "$TESTDIR/big.tar" ./blob
    run_strata import -c 'CMD ["wc", "-c", "/blob"]' "$TESTDIR/big.tar" "$REGISTRY/$1"
    ID=$output
    run_strata push -q "$REGISTRY/$1"
    BIG=$(skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/$1" | jq -r '.layers[0].digest')
    BIG_SIZE=$(skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/$1" | jq -r '.layers[0].size')
}

# kill_registry_midpull REF : starts `strata pull REF` in the background (PULL_PID, its output
# in $TESTDIR/pull.out) and kill -9s the registry once more than 5 MB are in the partial download.
kill_registry_midpull() {
    env ${PULL_ENV:-} "$STRATA" pull -q "$1" >"$TESTDIR/pull.out" 2>&1 &
    PULL_PID=$!
    local i size
    for i in $(seq 400); do
        size=$(stat -c %s "$STRATA_ROOT"/partial/* 2>/dev/null | sort -n | tail -1)
        [ "${size:-0}" -gt 5000000 ] && break
        sleep 0.02
    done
    kill -9 "$REGISTRY_PID"
    wait "$REGISTRY_PID" 2>/dev/null || true
    REGISTRY_PID=
    echo "registry killed with ${size:-0} bytes in the partial download" >&3
    [ "${size:-0}" -gt 5000000 ]
    [ "$size" -lt "$BIG_SIZE" ]
}

# restart_registry : docker-registry again on the same port with the same storage.
restart_registry() {
    docker-registry serve "$BATS_TEST_TMPDIR/registry/config.yml" >>"$REGISTRY_LOG" 2>&1 &
    REGISTRY_PID=$!
    wait_http "http://$REGISTRY/v2/"
}

@test "registry killed mid-pull: one-line error, clean store; after a restart the pull resumes" {
    skip_if_missing skopeo
    skip_if_no_runc
    start_registry
    push_big big/img:1
    export STRATA_ROOT="$TESTDIR/root2"
    kill_registry_midpull "$REGISTRY/big/img:1"
    # the pull retries (6 tries, backoff up to 4 s), then fails with one line
    rc=0
    wait "$PULL_PID" || rc=$?
    cat "$TESTDIR/pull.out" >&3
    [ "$rc" = 1 ]
    [ "$(wc -l <"$TESTDIR/pull.out")" = 1 ]
    grep -qE "^strata: pull '$REGISTRY/big/img:1': .*(connect|refused|reset|closed|receiv)" "$TESTDIR/pull.out"
    run_strata system check
    expect_output_match 'the store is clean'
    run_strata images -q
    expect_output ""
    have=$(stat -c %s "$STRATA_ROOT/partial/${BIG#sha256:}")
    [ "$have" -gt 5000000 ]

    restart_registry
    STRATA_TRACE=registry run_strata pull -q "$REGISTRY/big/img:1"
    expect_output_match "resuming $BIG from a partial download of $have bytes"
    expect_output_match "Range: bytes=$have-"
    # what came over the wire for the big layer: the rest only
    got=$(echo "$output" | grep -A20 "GET .*/blobs/$BIG" | grep -m1 -i '< Content-Length:' | tr -dc 0-9)
    echo "layer $BIG_SIZE bytes, had $have, fetched $got" >&3
    [ "$got" = $((BIG_SIZE - have)) ]
    sleep 0.2
    grep -aqE "\"GET /v2/big/img/blobs/$BIG HTTP/1.1\" 206 $got " "$REGISTRY_LOG"
    run_strata images -q --no-trunc
    expect_output "$ID"
    [ -z "$(ls -A "$STRATA_ROOT/partial")" ]
    run_strata run --rm "$REGISTRY/big/img:1"
    expect_output "150000000 /blob"
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "registry restarted while the pull retries: the same pull resumes and completes" {
    skip_if_missing skopeo
    skip_if_no_runc
    start_registry
    push_big big/img:1
    export STRATA_ROOT="$TESTDIR/root2"
    kill_registry_midpull "$REGISTRY/big/img:1"
    sleep 0.5
    restart_registry
    wait "$PULL_PID"
    cat "$TESTDIR/pull.out" >&3
    [ "$(cat "$TESTDIR/pull.out")" = "$REGISTRY/big/img:1" ]
    # the restarted registry sent the rest of the big layer (206), not all of it
    sleep 0.2
    sent=$(grep -aoE "\"GET /v2/big/img/blobs/$BIG HTTP/1.1\" 206 [0-9]+" "$REGISTRY_LOG" | awk '{print $NF}')
    echo "layer $BIG_SIZE bytes, the restarted registry sent $sent" >&3
    [ -n "$sent" ]
    [ "$sent" -lt $((BIG_SIZE - 5000000)) ]
    [ "$(grep -acE "\"GET /v2/big/img/blobs/$BIG HTTP/1.1\" 200" "$REGISTRY_LOG")" = 0 ]
    run_strata images -q --no-trunc
    expect_output "$ID"
    run_strata run --rm "$REGISTRY/big/img:1"
    expect_output "150000000 /blob"
    run_strata system check
    expect_output_match 'the store is clean'
}
