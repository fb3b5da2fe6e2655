#!/usr/bin/env bats
# What strata pushes, podman pulls and runs; what podman pushes, strata pulls and runs.
# Runs where podman is installed (bench/ installs it); skips elsewhere.

load helpers

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    export STRATA_CONFIG_DIR="$TESTDIR/strata-config" DOCKER_CONFIG="$TESTDIR/docker-config"
    mkdir -p "$DOCKER_CONFIG" && echo '{}' >"$DOCKER_CONFIG/config.json"
    skip_if_missing podman
    skip_if_no_runc
    # this machine: no CAP_SYS_RESOURCE (no default ulimits), hybrid cgroups (runc, cgroupfs)
    cat >"$TESTDIR/containers.conf" <<'CONF'
[containers]
default_ulimits = []
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    export CONTAINERS_CONF="$TESTDIR/containers.conf"
    PODMAN=(podman --root "$TESTDIR/podman/s" --runroot "$TESTDIR/podman/r" --storage-driver vfs)
}

teardown() {
    cleanup_containers
    stop_registry
}

@test "podman pulls and runs what strata pushed" {
    start_registry
    import_run_image "$REGISTRY/interop/bb:1" -c 'CMD ["echo", "from strata"]'
    run_strata push -q "$REGISTRY/interop/bb:1"
    run "${PODMAN[@]}" run --rm --tls-verify=false "$REGISTRY/interop/bb:1"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "from strata" ]
}

@test "strata pulls and runs what podman pushed" {
    start_registry
    import_run_image bb:local -c 'CMD ["echo", "from podman"]'
    run_strata save -o "$TESTDIR/bb.tar" bb:local
    "${PODMAN[@]}" load -q -i "$TESTDIR/bb.tar" >/dev/null
    "${PODMAN[@]}" push -q --tls-verify=false bb:local "docker://$REGISTRY/interop/podman:1"
    run_strata run --rm "$REGISTRY/interop/podman:1"
    [ "${lines[-1]}" = "from podman" ]
}
