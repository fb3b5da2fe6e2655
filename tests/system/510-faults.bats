#!/usr/bin/env bats
# Faults: SIGKILL at random points of every store-changing verb (tests/stress/kill-driver.sh with
# a few rounds; `make stress` runs it with many), killing a build during RUN, and a full disk
# during pull and build. After each: `system check` clean, every image complete, redo works.

load helpers

DRIVER="$BATS_TEST_DIRNAME/../stress/kill-driver.sh"

teardown() {
    stop_registry
    cleanup_containers
    if mountpoint -q "$TESTDIR/small" 2>/dev/null; then umount -l "$TESTDIR/small"; fi
    return 0
}

# kill_series OP ROUNDS : the kill driver on this test's store; its summary line on success.
kill_series() {
    run env STRATA="$STRATA" KD_MB=6 WORK="$TESTDIR/work-$1" REGISTRY="${REGISTRY:-}" "$DRIVER" "$1" "$2"
    echo "$output" >&2
    [ "$status" -eq 0 ]
    expect_output_match "kill-driver: $1: $2 rounds"
}

@test "SIGKILL during pull leaves a consistent store, and pulling again works" {
    skip_if_no_runc # the driver builds the image it pushes
    start_registry
    kill_series pull 2
}

@test "SIGKILL during build (RUN, COPY, layer commit) leaves a consistent store" {
    skip_if_no_runc
    kill_series build 1
}

@test "SIGKILL during load and rmi leaves a consistent store" {
    kill_series load 2
    kill_series rmi 1
}

@test "SIGKILL during image prune, system prune and tag leaves a consistent store" {
    kill_series prune 1
    kill_series sysprune 1
    kill_series tag 1
}

@test "killing the build that waits for a RUN leaks no process and no mount" {
    skip_if_no_runc
    kill_series runkill 1
    # the RUN container is gone once the next build has run
    run_strata ps -a --format '{{.Image}}'
    printf 'FROM base\nRUN true\n' >"$TESTDIR/work-runkill/ctx/Dockerfile"
    run_strata build -q "$TESTDIR/work-runkill/ctx"
    run_strata ps -a -q
    expect_output ""
    ! grep -q " $STRATA_ROOT/" /proc/mounts
}

@test "a killed build's staging mounts are removed by the next strata process" {
    skip_if_no_runc
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" base
    mkdir -p "$TESTDIR/ctx"
    echo data >"$TESTDIR/ctx/file"
    mark="strata-mount-$$-$RANDOM"
    printf 'FROM base\nRUN --mount=type=bind,target=/ctx,rw cat /ctx/file && sleep 30 && echo %s\n' \
        "$mark" >"$TESTDIR/ctx/Dockerfile"
    "$STRATA" build "$TESTDIR/ctx" >"$TESTDIR/build.out" 2>&1 &
    pid=$!
    for i in $(seq 1 100); do pgrep -f "$mark" >/dev/null && break; sleep 0.1; done
    pgrep -f "$mark" >/dev/null
    grep -q " $STRATA_ROOT/tmp/" /proc/mounts # the context under an overlay, in the staging dir
    kill -9 "$pid"
    wait "$pid" || true
    run_strata ps -a # kills the orphaned RUN, unmounts its rootfs
    run_strata system check
    ! grep -q " $STRATA_ROOT/" /proc/mounts
    [ -z "$(ls -A "$STRATA_ROOT/tmp" | grep -v '\.lock$' || true)" ]
    [ -f "$TESTDIR/ctx/file" ]
}

@test "a detached container whose monitor is killed is stopped, not left running unwatched" {
    skip_if_no_runc
    import_run_image
    run_strata run -d --name unwatched busybox sleep 60
    pid=$("$STRATA" inspect --format '{{.State.Pid}}' unwatched)
    monitor=$(ps -o ppid= -p "$pid" | tr -d ' ') # a subreaper: runc has exited
    [ "$(cat /proc/"$monitor"/comm)" = strata ]
    kill -9 "$monitor"
    for _ in $(seq 1 100); do
        grep -qs '^State:.*[RSD]' "/proc/$monitor/status" || break
        sleep 0.05
    done
    run_strata ps -a --format '{{.Names}} {{.Status}}'
    expect_output_match "^unwatched Exited \(255\) "
    for _ in $(seq 1 50); do
        grep -qs '^State:.*[RSD]' "/proc/$pid/status" || break
        sleep 0.1
    done
    ! grep -qs '^State:.*[RSD]' "/proc/$pid/status"
    ! grep -q " $STRATA_ROOT/" /proc/mounts
    run_strata rm unwatched
}

# small_root MB : a tmpfs of MB megabytes as the store root (skips where it cannot mount).
small_root() {
    [ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
    mkdir -p "$TESTDIR/small"
    mount -t tmpfs -o "size=$1m" tmpfs "$TESTDIR/small" || skip "cannot mount tmpfs"
    export STRATA_ROOT="$TESTDIR/small/root"
}

# used_kb : what the store uses on its tmpfs
used_kb() { df -k --output=used "$TESTDIR/small" | tail -1 | tr -d ' '; }

@test "a pull that does not fit: No space left on device, clean store, space back" {
    skip_if_no_runc
    start_registry
    # a 24 MB image, pushed from a roomy store
    local big="$TESTDIR/bigroot"
    make_busybox_rootfs "$TESTDIR/bigsrc"
    head -c $((24 * 1024 * 1024)) /dev/urandom >"$TESTDIR/bigsrc/blob"
    tar -C "$TESTDIR/bigsrc" -cf "$TESTDIR/big.tar" .
    STRATA_ROOT=$big run_strata import "$TESTDIR/big.tar" "$REGISTRY/big:1"
    STRATA_ROOT=$big run_strata push "$REGISTRY/big:1"
    make_busybox_tar "$TESTDIR/bb.tar"
    STRATA_ROOT=$big run_strata import "$TESTDIR/bb.tar" "$REGISTRY/small:1"
    STRATA_ROOT=$big run_strata push "$REGISTRY/small:1"

    small_root 16
    run_strata pull "$REGISTRY/small:1"
    before=$(used_kb)
    run_strata 1 pull "$REGISTRY/big:1"
    expect_output_match "No space left on device"
    [ "$(echo "$output" | grep -c '^strata: ')" -eq 1 ]
    run_strata system check
    expect_output_match 'the store is clean'
    after=$(used_kb)
    echo "used before $before KiB, after $after KiB" >&2
    [ "$after" -le "$((before + 1024))" ] # slack: the database log may grow
    run_strata images --format '{{.Repository}}'
    expect_output "$REGISTRY/small"
    run_strata run --rm "$REGISTRY/small:1" true
}

@test "a build that does not fit: No space left on device, clean store, space back" {
    skip_if_no_runc
    small_root 16
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" base
    mkdir -p "$TESTDIR/ctx"
    head -c $((20 * 1024 * 1024)) /dev/urandom >"$TESTDIR/ctx/big"
    printf 'FROM base\nCOPY big /big\n' >"$TESTDIR/ctx/Dockerfile"
    before=$(used_kb)
    run_strata 1 build -t toobig "$TESTDIR/ctx"
    expect_output_match "No space left on device"
    run_strata system check
    expect_output_match 'the store is clean'
    after=$(used_kb)
    echo "COPY: used before $before KiB, after $after KiB" >&2
    [ "$after" -le "$((before + 1024))" ] # slack: the database log may grow

    # a RUN that fills the disk fails with the command's own error (or runc's, when the disk
    # is full before runc has written the container's PID file)
    printf 'FROM base\nRUN dd if=/dev/zero of=/fill bs=1M count=40\n' >"$TESTDIR/ctx/Dockerfile"
    rm "$TESTDIR/ctx/big"
    run_strata 1 build -t toobig "$TESTDIR/ctx"
    expect_output_match "[Nn]o space left on device"
    run_strata system check
    expect_output_match 'the store is clean'
    after=$(used_kb)
    echo "RUN: used before $before KiB, after $after KiB" >&2
    [ "$after" -le "$((before + 1024))" ] # slack: the database log may grow
    run_strata ps -a -q
    expect_output ""
    run_strata images --format '{{.Repository}}'
    expect_output base
    ! grep -q " $STRATA_ROOT/" /proc/mounts
}
