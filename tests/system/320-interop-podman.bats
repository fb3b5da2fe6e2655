#!/usr/bin/env bats
# Podman and strata exchange images through a registry and through `save`/`load`, and run them
# with the same output. Podman is in scripts/deps.sh; where it is missing these tests skip.
#
# Podman is configured by files the test writes, never the machine's: storage (vfs) and its
# runtime dirs in the test's temp dir, runc (crun refuses hybrid cgroups), cgroupfs, no network,
# no default ulimits (no CAP_SYS_RESOURCE on the CI machines), the test registry insecure.

load helpers

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    export STRATA_CONFIG_DIR="$TESTDIR/strata-config" DOCKER_CONFIG="$TESTDIR/docker-config"
    mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
    unset REGISTRY_AUTH_FILE STRATA_TRACE
    skip_if_missing podman
    skip_if_no_runc
    PODMAN_DIR="$TESTDIR/podman"
    mkdir -p "$PODMAN_DIR/tmp"
    cat >"$TESTDIR/containers.conf" <<CONF
[containers]
default_ulimits = []
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$PODMAN_DIR/tmp"
[network]
network_config_dir = "$PODMAN_DIR/net"
CONF
    printf 'unqualified-search-registries = []\n' >"$TESTDIR/registries.conf"
    export CONTAINERS_CONF="$TESTDIR/containers.conf"
    export CONTAINERS_REGISTRIES_CONF="$TESTDIR/registries.conf"
    PODMAN=(podman --root "$PODMAN_DIR/s" --runroot "$PODMAN_DIR/r" --storage-driver vfs)
}

teardown() {
    cleanup_containers
    stop_registry
    if [ -n "${PODMAN_DIR:-}" ] && [ -d "$PODMAN_DIR" ]; then
        "${PODMAN[@]}" rm -a -f -t 0 >/dev/null 2>&1 || true
        "${PODMAN[@]}" rmi -a -f >/dev/null 2>&1 || true
        grep -o "$PODMAN_DIR/[^ ]*" /proc/mounts 2>/dev/null | xargs -r umount -l 2>/dev/null
        rm -rf "$PODMAN_DIR"
    fi
    return 0
}

# podman_run IMAGE : `podman run --rm IMAGE`, its output in $output (only the container's:
# pulls are -q'd beforehand by the callers).
podman_run() {
    run "${PODMAN[@]}" run --rm "$1"
    echo "\$ podman run --rm $1" >&2
    echo "$output" >&2
    [ "$status" -eq 0 ]
}

# make_app_context DIR : a Dockerfile with RUN, COPY and CMD on the local image 'bb'.
make_app_context() {
    mkdir -p "$1"
    echo "copied file" >"$1/note"
    cat >"$1/Dockerfile" <<'EOF'
FROM bb
RUN echo "made by RUN" >/made && mkdir -p /app
COPY note /app/note
CMD ["sh", "-c", "cat /made /app/note; echo args: $0"]
EOF
}

@test "podman pulls and runs what strata pushed, in OCI and in Docker's format" {
    start_registry
    import_run_image "$REGISTRY/interop/bb:1" -c 'CMD ["echo", "from strata"]'
    run_strata run --rm "$REGISTRY/interop/bb:1"
    want=$output
    [ "$want" = "from strata" ]
    run_strata push -q "$REGISTRY/interop/bb:1"
    run_strata tag "$REGISTRY/interop/bb:1" "$REGISTRY/interop/bb:docker"
    run_strata push -q --format docker "$REGISTRY/interop/bb:docker"
    for tag in 1 docker; do
        "${PODMAN[@]}" pull -q --tls-verify=false "$REGISTRY/interop/bb:$tag" >/dev/null
        podman_run "$REGISTRY/interop/bb:$tag"
        [ "$output" = "$want" ]
    done
    # the same image for podman too: strata's config, untouched by the conversion
    run "${PODMAN[@]}" images -q --no-trunc "$REGISTRY/interop/bb:docker"
    [ "$(strata_id "$REGISTRY/interop/bb:1")" = "$output" ]
}

# strata_id IMAGE : strata's image ID of IMAGE.
strata_id() {
    "$STRATA" inspect -f '{{.Id}}' "$1"
}

@test "strata pulls and runs what podman built and pushed (OCI and v2s2)" {
    start_registry
    import_run_image bb -c 'CMD ["/bin/sh"]'
    run_strata save -o "$TESTDIR/bb.tar" bb
    "${PODMAN[@]}" load -q -i "$TESTDIR/bb.tar" >/dev/null
    "${PODMAN[@]}" tag bb localhost/bb
    make_app_context "$TESTDIR/ctx"
    sed -i 's/^FROM bb/FROM localhost\/bb/' "$TESTDIR/ctx/Dockerfile"
    "${PODMAN[@]}" build -q --network none -t podman-app "$TESTDIR/ctx" >/dev/null
    podman_run podman-app
    want=$output
    [ "${lines[0]}" = "made by RUN" ]
    [ "${lines[1]}" = "copied file" ]
    "${PODMAN[@]}" push -q --tls-verify=false podman-app "docker://$REGISTRY/interop/podman:oci"
    "${PODMAN[@]}" push -q --tls-verify=false --format v2s2 podman-app "docker://$REGISTRY/interop/podman:v2s2"
    for tag in oci v2s2; do
        run_strata pull -q "$REGISTRY/interop/podman:$tag"
        run_strata run --rm "$REGISTRY/interop/podman:$tag"
        expect_output "$want"
    done
    # podman tagged, podman pushed
    "${PODMAN[@]}" tag bb "$REGISTRY/interop/tagged:1"
    "${PODMAN[@]}" push -q --tls-verify=false "$REGISTRY/interop/tagged:1"
    run_strata pull -q "$REGISTRY/interop/tagged:1"
    run_strata run --rm "$REGISTRY/interop/tagged:1" echo tagged by podman
    expect_output "tagged by podman"
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "strata build, strata save, podman load, podman run: the same output as strata run" {
    import_run_image bb -c 'CMD ["/bin/sh"]'
    make_app_context "$TESTDIR/ctx"
    run_strata build -q -t app:1 "$TESTDIR/ctx"
    id=$output
    run_strata run --rm app:1
    want=$output
    [ "${lines[0]}" = "made by RUN" ]
    [ "${lines[1]}" = "copied file" ]
    run_strata save -o "$TESTDIR/app.tar" app:1
    "${PODMAN[@]}" load -q -i "$TESTDIR/app.tar" >/dev/null
    run "${PODMAN[@]}" images -q --no-trunc app:1
    [ "$output" = "$id" ]
    podman_run app:1
    [ "$output" = "$want" ]
    # and back: podman save (docker-archive), strata load, the same image
    "${PODMAN[@]}" save -q -o "$TESTDIR/back.tar" app:1
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/back.tar"
    run_strata images -q --no-trunc
    expect_output "$id"
    run_strata run --rm app:1
    expect_output "$want"
}
