#!/usr/bin/env bats
# The container verbs with real runc: -d, logs, stop, kill, start, wait, restart, rm, ps,
# inspect, and how containers and images keep each other.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    skip_if_no_runc
}

teardown() {
    cleanup_containers
}

# wait_for_log NAME TEXT : until NAME's log contains TEXT (5 s at most).
wait_for_log() {
    local i
    for i in $(seq 100); do
        "$STRATA" logs "$1" 2>&1 | grep -q "$2" && return 0
        sleep 0.05
    done
    echo "no '$2' in the log of $1" >&2
    return 1
}

@test "-d prints the ID; logs, stop, rm" {
    import_run_image
    run_strata run -d --name bg busybox sh -c 'echo out; echo err >&2; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done'
    [[ "$output" =~ ^[0-9a-f]{64}$ ]]
    id=$output
    wait_for_log bg out
    run_strata ps --format '{{.ID}} {{.Names}} {{.State}}'
    expect_output "${id:0:12} bg running"
    run_strata logs bg # the lines in the order the container wrote them
    expect_output "out
err"
    run bash -c "'$STRATA' logs bg 2>/dev/null" # stderr stays stderr
    expect_output "out"
    run_strata stop bg
    expect_output "bg"
    run_strata ps -a --format '{{.Status}}'
    expect_output_match "^Exited \(0\) "
    run_strata logs bg
    expect_output "out
err
bye"
    run_strata rm bg
    expect_output "bg"
    run_strata ps -aq
    expect_output ""
    [ -z "$(ls "$STRATA_ROOT/containers")" ]
    ! grep -q "$STRATA_ROOT" /proc/mounts || false
}

@test "a line to stdout, then one to stderr: attached and in the log, in that order" {
    import_run_image
    # through a foreground `runc run` (its own pipes, a goroutine per stream) this came out
    # reversed about one run in ten
    for i in $(seq 20); do
        run_strata run --name "ord$i" busybox sh -c 'echo out; echo err >&2'
        expect_output "out
err"
        run_strata logs "ord$i"
        expect_output "out
err"
    done
}

@test "stop sends the image's StopSignal, then SIGKILL after the timeout" {
    import_run_image
    import_run_image usr1 -c 'STOPSIGNAL SIGUSR1'
    run_strata run -d --name s1 usr1 sh -c 'trap "exit 10" USR1; echo ready; while true; do sleep 0.1; done'
    wait_for_log s1 ready
    run_strata stop s1
    run_strata inspect --format '{{.State.ExitCode}}' s1
    expect_output "10"
    # pid 1 without a handler ignores SIGTERM: stop waits -t seconds, then kills
    run_strata run -d --name s2 busybox sleep 60
    start=$SECONDS
    run_strata stop -t 1 s2
    [ $((SECONDS - start)) -lt 5 ]
    run_strata inspect --format '{{.State.Status}} {{.State.ExitCode}}' s2
    expect_output "exited 137"
}

@test "ps: Created, Up, Exited; -a, -q, --no-trunc, --format" {
    import_run_image
    run_strata create --name c1 busybox true
    c1=$output
    run_strata 3 run --name c2 busybox sh -c 'exit 3'
    run_strata run -d --name c3 busybox sleep 60
    run_strata ps -a
    [ "${lines[0]}" = "CONTAINER ID   IMAGE     COMMAND         CREATED                  STATUS                              PORTS     NAMES" ] ||
        [[ "${lines[0]}" =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]]
    [[ "${lines[1]}" =~ busybox\ +\"sleep\ 60\"\ .*\ Up\ .*c3$ ]]
    [[ "${lines[2]}" =~ \"sh\ -c\ \'exit\ 3\'\"|\"sh\ -c\ exit\ 3\"\ .*\ Exited\ \(3\)\ .*\ ago\ +c2$ ]]
    [[ "${lines[3]}" =~ \"true\"\ .*\ Created\ +c1$ ]]
    run_strata ps --format '{{.Names}}'
    expect_output "c3"
    run_strata ps -aq
    [ "${#lines[@]}" = 3 ] && [ "${lines[2]}" = "${c1:0:12}" ]
    run_strata ps -a --no-trunc --format '{{.ID}}'
    [ "${lines[2]}" = "$c1" ]
    run_strata ps -a --format 'table {{.Names}}\t{{.State}}'
    expect_output "NAMES     STATE
c3        running
c2        exited
c1        created"
    run_strata ps -a --format json
    [ "$(echo "${lines[0]}" | jq -r .Names)" = c3 ]
    run_strata rm -f c3
}

@test "create, start, wait, start -a, restart" {
    import_run_image
    run_strata create --name w1 busybox sh -c 'echo run; exit 5'
    run_strata inspect --format '{{.State.Status}}' w1
    expect_output "created"
    run_strata start w1
    expect_output "w1"
    run_strata wait w1
    expect_output "5"
    run_strata 5 start -a w1
    expect_output "run"
    run_strata logs w1
    expect_output "run
run"
    run_strata run -d --name r1 busybox sh -c 'echo started; sleep 60'
    wait_for_log r1 started
    run_strata restart -t 0 r1
    expect_output "r1"
    run_strata inspect --format '{{.State.Status}}' r1
    expect_output "running"
    wait_for_log r1 'started.*' && [ "$("$STRATA" logs r1 | grep -c started)" -ge 1 ]
    run_strata rm -f r1
}

@test "kill: signals, and a container that is not running" {
    import_run_image
    run_strata run -d --name k1 busybox sh -c 'trap "exit 12" HUP; echo ready; while true; do sleep 0.1; done'
    wait_for_log k1 ready
    run_strata kill -s HUP k1
    run_strata wait k1
    expect_output "12"
    run_strata 1 kill k1
    expect_output_match "is not running"
    run_strata run -d --name k2 busybox sleep 60
    run_strata kill k2
    run_strata wait k2
    expect_output "137"
    run_strata 125 kill -s NOPE k2
}

@test "rm: a running container needs -f; -d --rm removes itself" {
    import_run_image
    run_strata run -d --name r1 busybox sleep 60
    run_strata 1 rm r1
    expect_output_match "You cannot remove a running container"
    run_strata rm -f r1
    run_strata run -d --rm --name gone busybox sh -c 'echo bye'
    for i in $(seq 100); do
        [ -z "$("$STRATA" ps -aq)" ] && break
        sleep 0.05
    done
    run_strata ps -aq
    expect_output ""
    [ -z "$(ls "$STRATA_ROOT/containers")" ]
    run_strata 1 rm nope
    expect_output "strata: No such container: nope"
}

@test "names and IDs: conflicts, prefixes, random names" {
    import_run_image
    run_strata create --name same busybox true
    id=$output
    run_strata 125 create --name same busybox true
    expect_output_match 'Conflict. The container name "/same" is already in use'
    run_strata 125 create --name '-bad' busybox true
    run_strata inspect --format '{{.Name}}' "${id:0:6}"
    expect_output "/same"
    run_strata create busybox true
    run_strata inspect --format '{{.Name}}' "$output"
    [[ "$output" =~ ^/[a-z]+_[a-z]+$ ]]
}

@test "inspect a container: Docker's shape" {
    import_run_image
    run_strata 2 run --name insp -e X=1 -w /tmp busybox sh -c 'exit 2'
    run_strata inspect insp
    echo "$output" | jq -e '.[0] | (.Id | length) == 64' >/dev/null
    echo "$output" | jq -e '.[0] | .Name == "/insp" and .Path == "sh" and .Args == ["-c", "exit 2"]' >/dev/null
    echo "$output" | jq -e '.[0].State | .Status == "exited" and .ExitCode == 2 and .Running == false' >/dev/null
    echo "$output" | jq -e '.[0].State.StartedAt | test("^[0-9]{4}-")' >/dev/null
    echo "$output" | jq -e '.[0].Config | .WorkingDir == "/tmp" and (.Env | index("X=1")) and .Image == "busybox"' >/dev/null
    echo "$output" | jq -e '.[0].HostConfig.NetworkMode == "none"' >/dev/null
    echo "$output" | jq -e '.[0].GraphDriver | .Name == "overlay" and (.Data.UpperDir | endswith("/upper"))' >/dev/null
    echo "$output" | jq -e '.[0].Image | startswith("sha256:")' >/dev/null
    run_strata inspect --type container --format '{{.State.ExitCode}}' insp
    expect_output "2"
    run_strata 1 inspect --type container busybox
    expect_output_match "strata: No such container: busybox"
}

@test "images used by containers: rmi refuses, rmi -f keeps the layers, prune skips them" {
    import_run_image
    img=$output
    run_strata create --name user busybox echo still-here
    cid=$output
    run_strata 1 rmi busybox
    expect_output "strata: conflict: unable to remove repository reference \"busybox\" (must force) - container ${cid:0:12} is using its referenced image ${img:7:12}"
    run_strata 1 rmi "${img:7:12}"
    expect_output "strata: conflict: unable to delete ${img:7:12} (must be forced) - image is being used by stopped container ${cid:0:12}"
    run_strata image prune -af
    run_strata images -q
    expect_output "${img:7:12}"
    run_strata run -d --name running busybox sleep 60
    run_strata 1 rmi -f "${img:7:12}"
    expect_output_match "cannot be forced\) - image is being used by running container"
    run_strata rm -f running
    run_strata rmi -f busybox
    run_strata images -q
    expect_output ""
    # the layers stay while the container does
    run_strata start -a user
    expect_output "still-here"
    run_strata system check
    expect_output_match 'the store is clean'
    run_strata system df
    [[ "${lines[2]}" =~ ^Containers\ +1\ +0\ +0B\ +0B$ ]]
    run_strata rm user
    run_strata system prune -f
    [ -z "$(ls "$STRATA_ROOT/layers")" ]
}

@test "logs: --tail, -t, -f follows until the container ends" {
    import_run_image
    run_strata run --name lg busybox sh -c 'for i in 1 2 3 4; do echo line$i; done; printf partial'
    run_strata logs --tail 2 lg
    expect_output "line4
partial"
    run_strata logs -t --tail 1 lg
    expect_output_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z partial$'
    run_strata run -d --name fl busybox sh -c 'echo one; sleep 0.5; echo two'
    run_strata logs -f fl
    expect_output "one
two"
    jq -e 'select(.stream == "stdout") | .log' "$STRATA_ROOT/containers/$("$STRATA" inspect --format '{{.Id}}' fl)/log" >/dev/null
}

@test "a container whose monitor died is shown as exited, never running forever" {
    import_run_image
    run_strata run -d --name orphan busybox sleep 60
    pid=$("$STRATA" inspect --format '{{.State.Pid}}' orphan)
    monitor=$(ps -o ppid= -p "$pid" | tr -d ' ') # a subreaper: runc has exited
    [ "$(cat /proc/"$monitor"/comm)" = strata ]
    kill -9 "$monitor" "$pid"
    sleep 0.2
    run_strata ps -a --format '{{.Names}} {{.Status}}'
    expect_output_match "^orphan Exited \(255\) "
    run_strata inspect --format '{{.State.Error}}' orphan
    expect_output_match "exit status unknown"
    ! grep -q "$STRATA_ROOT" /proc/mounts || false
    run_strata rm orphan
    [ -z "$(ls "$STRATA_ROOT/containers")" ]
}

@test "a container that ended leaves no runtime state and no cgroup behind" {
    import_run_image
    run_strata run --name ended busybox true
    id=$("$STRATA" inspect -f '{{.Id}}' ended)
    [ ! -e "$STRATA_ROOT/run/runc/$id" ]
    [ -z "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" 2>/dev/null)" ]
    run_strata run -d --name ended-d busybox sh -c 'sleep 0.2'
    id=$("$STRATA" inspect -f '{{.Id}}' ended-d)
    [ -d "$STRATA_ROOT/run/runc/$id" ]
    run_strata wait ended-d
    expect_output "0"
    [ ! -e "$STRATA_ROOT/run/runc/$id" ]
    [ -z "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$id" 2>/dev/null)" ]
}

@test "rm removes the cgroups a killed runtime left behind" {
    [ -d /sys/fs/cgroup/pids ] || skip "no cgroup v1 pids hierarchy"
    import_run_image
    run_strata create --name leftover busybox true
    local id own dir
    id=$("$STRATA" inspect -f '{{.Id}}' leftover)
    # where runc puts the container's pids cgroup: strata/ID below our own cgroup there
    own=$(awk -F: '$2 == "pids" {print $3}' /proc/self/cgroup)
    dir=/sys/fs/cgroup/pids${own%/}/strata/$id
    mkdir -p "$dir" # as a runc killed before its delete leaves it
    run_strata rm leftover
    [ ! -e "$dir" ]
}

@test "the container verb group" {
    import_run_image
    run_strata container run --name grp busybox true
    run_strata container ls -a --format '{{.Names}}'
    expect_output "grp"
    run_strata container inspect --format '{{.State.Status}}' grp
    expect_output "exited"
    run_strata container rm grp
    run_strata container ls -aq
    expect_output ""
}

@test "two starts at once: one runs the container, the other finds it running" {
    import_run_image
    run_strata create --name once busybox sleep 60
    "$STRATA" start once >"$TESTDIR/a" 2>&1 &
    "$STRATA" start once >"$TESTDIR/b" 2>&1 || true
    wait $! || true
    cat "$TESTDIR/a" "$TESTDIR/b" | grep -c "already running" | grep -qx 1
    run_strata ps --format '{{.Names}} {{.State}}'
    expect_output "once running"
    run_strata rm -f once
    ! grep -q "$STRATA_ROOT" /proc/mounts || false
}
