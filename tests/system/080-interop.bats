#!/usr/bin/env bats
# Interoperability with the real tools: skopeo, umoci, a distribution registry.

load helpers

teardown() {
    stop_registry
}

import_bb() {
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import -c 'CMD ["/bin/sh"]' -c 'ENV A=b' "$TESTDIR/bb.tar" busybox:interop
    ID=$output
    run_strata save -o "$TESTDIR/strata.tar" busybox:interop
}

@test "skopeo reads strata's archive as oci-archive and docker-archive" {
    skip_if_missing skopeo
    import_bb
    run skopeo inspect --config "oci-archive:$TESTDIR/strata.tar"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r '.config.Cmd[0]')" = /bin/sh ]
    run skopeo inspect --raw "oci-archive:$TESTDIR/strata.tar"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .config.digest)" = "$ID" ]
    run skopeo inspect "docker-archive:$TESTDIR/strata.tar"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r '.Layers | length')" = 1 ]
    run skopeo inspect --config "docker-archive:$TESTDIR/strata.tar"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r '.config.Env[0]')" = A=b ]
}

@test "umoci unpacks strata's archive to the tree strata's layer dir holds" {
    skip_if_missing umoci
    import_bb
    mkdir "$TESTDIR/layout"
    tar -C "$TESTDIR/layout" -xf "$TESTDIR/strata.tar"
    umoci unpack --image "$TESTDIR/layout:interop" "$TESTDIR/bundle"
    layer=$(ls "$STRATA_ROOT/layers")
    tree() { (cd "$1" && find . -printf '%p %y %m %U %G %s %l\n' | sort); }
    diff <(tree "$STRATA_ROOT/layers/$layer/diff") <(tree "$TESTDIR/bundle/rootfs")
    diff -r --no-dereference "$STRATA_ROOT/layers/$layer/diff" "$TESTDIR/bundle/rootfs"
}

@test "archives written by skopeo (docker-archive, oci-archive) load with the same image ID" {
    skip_if_missing skopeo
    import_bb
    skopeo copy -q "oci-archive:$TESTDIR/strata.tar" "docker-archive:$TESTDIR/sk-docker.tar:sk/docker:1"
    skopeo copy -q "oci-archive:$TESTDIR/strata.tar" "oci-archive:$TESTDIR/sk-oci.tar:sk/oci:1"
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/sk-docker.tar"
    expect_output "Loaded image: sk/docker:1"
    run_strata load -i "$TESTDIR/sk-oci.tar"
    expect_output "Loaded image: sk/oci:1"
    run_strata images -q --no-trunc
    expect_output "$ID"
    run_strata system check
}

@test "an image round-trips through a real registry with skopeo" {
    skip_if_missing skopeo
    skip_if_missing docker-registry
    import_bb
    start_registry
    skopeo copy -q --dest-tls-verify=false "oci-archive:$TESTDIR/strata.tar" "docker://$REGISTRY/strata/bb:1"
    skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/strata/bb:1" "docker-archive:$TESTDIR/from-reg.tar:bb:reg"
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/from-reg.tar"
    expect_output "Loaded image: bb:reg"
    run_strata images -q --no-trunc
    expect_output "$ID"
}

@test "podman save output loads (when podman is installed)" {
    skip_if_missing podman
    import_bb
    root="$TESTDIR/podman"
    podman --root "$root/s" --runroot "$root/r" load -q -i "$TESTDIR/strata.tar" >/dev/null
    podman --root "$root/s" --runroot "$root/r" save -q -o "$TESTDIR/podman.tar" busybox:interop
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/podman.tar"
    run_strata images -q --no-trunc
    expect_output "$ID"
}
