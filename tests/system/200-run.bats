#!/usr/bin/env bats
# strata run with real runc: commands, exit codes, the image config, the container layer.

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

@test "run --rm busybox echo hi, and nothing is left" {
    import_run_image
    run_strata run --rm busybox echo hi
    expect_output "hi"
    run_strata ps -aq
    expect_output ""
    [ -z "$(ls "$STRATA_ROOT/containers")" ]
    [ -z "$(ls "$STRATA_ROOT/run/runc" 2>/dev/null)" ]
    ! grep -q "$STRATA_ROOT" /proc/mounts || false
}

@test "exit codes: the command's, 125, 126, 127" {
    import_run_image
    run_strata 0 run --rm busybox true
    run_strata 3 run --rm busybox sh -c 'exit 3'
    run_strata 125 run --rm --bogus busybox true
    run_strata 125 run --rm --pull never nope true
    expect_output_match "No such image: nope"
    run_strata 126 run --rm busybox /notexec
    expect_output_match 'permission denied'
    run_strata 127 run --rm busybox nope-command
    expect_output_match 'executable file not found'
    run_strata 127 run --rm busybox /no/such/file
    # a failed start leaves the container "created" with Docker's exit code and the error
    run_strata 127 run --name failed busybox nope-command
    run_strata inspect --format '{{.State.Status}} {{.State.ExitCode}}' failed
    expect_output "created 127"
}

@test "ENTRYPOINT and CMD: image defaults and overrides" {
    import_run_image ep -c 'ENTRYPOINT ["/bin/echo", "ep"]' -c 'CMD ["cmd"]'
    run_strata run --rm ep
    expect_output "ep cmd"
    run_strata run --rm ep x y
    expect_output "ep x y"
    run_strata run --rm --entrypoint /bin/echo ep
    expect_output ""
    run_strata run --rm --entrypoint /bin/echo ep a
    expect_output "a"
    run_strata run --rm --entrypoint "" ep echo cleared
    expect_output "cleared"
    run_strata 125 run --rm --entrypoint "" ep
    expect_output "strata: No command specified"
    import_run_image shell -c 'CMD echo shell form $HOSTNAME'
    run_strata run --rm -h myhost shell
    expect_output "shell form myhost"
}

@test "env: image, -e K=V, -e K from the environment, --env-file; PATH and HOSTNAME" {
    import_run_image envimg -c 'ENV A=image B=image'
    printf '# comment\nC=file\nFROM_ENV\n' >"$TESTDIR/env"
    FROM_ENV=exported run_strata run --rm --env-file "$TESTDIR/env" -e B=flag -e FROM_ENV \
        -e UNSET_ONE --hostname h1 envimg env
    echo "$output" | grep -qx 'A=image'
    echo "$output" | grep -qx 'B=flag'
    echo "$output" | grep -qx 'C=file'
    echo "$output" | grep -qx 'FROM_ENV=exported'
    echo "$output" | grep -qx 'HOSTNAME=h1'
    echo "$output" | grep -qx 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    ! echo "$output" | grep -q UNSET_ONE || false
}

@test "workdir: the image's, -w, created when missing" {
    import_run_image wd -c 'WORKDIR /srv/app'
    run_strata run --rm wd pwd
    expect_output "/srv/app"
    run_strata run --rm -w /a/b/c wd pwd
    expect_output "/a/b/c"
    run_strata 125 run --rm -w relative wd pwd
    expect_output_match "needs to be an absolute path"
}

@test "user by name, uid, uid:gid, name:group; unknown users fail" {
    import_run_image
    # supplementary groups: those listing the user, as runc's libcontainer resolves them
    run_strata run --rm -u app busybox id
    expect_output "uid=1000(app) gid=1000(app) groups=29(audio)"
    run_strata run --rm -u 1000 busybox sh -c 'id; echo $HOME'
    expect_output "uid=1000(app) gid=1000(app) groups=29(audio)
/home/app"
    run_strata run --rm -u 4242:4343 busybox id
    expect_output "uid=4242 gid=4343"
    run_strata run --rm -u app:audio busybox id -g
    expect_output "29"
    import_run_image asuser -c 'USER app'
    run_strata run --rm asuser id -u
    expect_output "1000"
    run_strata 125 run --rm -u nobody busybox id
    expect_output_match "unable to find user nobody"
}

@test "writes land in the container layer, never in the image" {
    import_run_image
    before=$(cd "$STRATA_ROOT/layers" && find . -printf '%p %s %m\n' | sort | md5sum)
    run_strata run --name wr busybox sh -c 'echo data > /new; rm /bin/ls; echo more >> /etc/passwd'
    id=$("$STRATA" inspect --format '{{.Id}}' wr)
    upper="$STRATA_ROOT/containers/$id/upper"
    [ "$(cat "$upper/new")" = data ]
    [ -c "$upper/bin/ls" ] # a whiteout
    grep -q more "$upper/etc/passwd"
    [ "$(cd "$STRATA_ROOT/layers" && find . -printf '%p %s %m\n' | sort | md5sum)" = "$before" ]
    run_strata system check
    expect_output_match 'the store is clean'
    # another container starts from the image, not from w's changes
    run_strata run --rm busybox sh -c 'test ! -e /new && test -e /bin/ls && echo clean'
    expect_output "clean"
    # a restart of wr keeps its layer
    run_strata start -a wr
    run_strata run --rm busybox true
    run_strata rm wr
    [ ! -e "$STRATA_ROOT/containers/$id" ]
    run_strata system check
    expect_output_match 'the store is clean'
}

@test "--rm removes the container also when it ends by a signal" {
    import_run_image
    "$STRATA" run --rm --name sig busybox sh -c 'trap "exit 7" TERM; echo ready; sleep 30 & wait' &
    pid=$!
    for i in $(seq 100); do # until the trap is set (pid 1 ignores signals it does not handle)
        [ "$("$STRATA" logs sig 2>/dev/null)" = ready ] && break
        sleep 0.05
    done
    kill -TERM $pid
    rc=0
    wait $pid || rc=$?
    [ "$rc" = 7 ]
    run_strata ps -aq
    expect_output ""
    [ -z "$(ls "$STRATA_ROOT/containers")" ]
    ! grep -q "$STRATA_ROOT" /proc/mounts || false
}

@test "stdin with -i, and a terminal with -t" {
    import_run_image
    run bash -c "printf 'a\nb\n' | '$STRATA' run --rm -i busybox wc -l"
    [ "$status" = 0 ] && [ "$output" = 2 ]
    run bash -c "'$STRATA' run --rm busybox cat </dev/zero"
    [ "$status" = 0 ] && [ -z "$output" ] # no -i: stdin is /dev/null
    skip_if_missing script
    run script -qec "'$STRATA' run --rm -t busybox sh -c 'tty; echo \$TERM; exit 4'" /dev/null
    [ "$status" = 4 ]
    [[ "$output" == *"/dev/pts/0"* ]] && [[ "$output" == *xterm* ]]
}

@test "an image of 300 layers runs" {
    make_busybox_run_tar "$TESTDIR/base.tar"
    python3 "$BATS_TEST_DIRNAME/fixtures/make-layered-archive.py" "$TESTDIR/base.tar" 300 \
        "$TESTDIR/l300.tar" layered:300
    run_strata load -i "$TESTDIR/l300.tar"
    run_strata run --rm layered:300 sh -c 'ls /layers | wc -l; cat /layers/299; test ! -e /layers/5'
    expect_output "270
299"
}

@test "the container's /etc files, namespaces and default mounts" {
    import_run_image
    run_strata run --rm --name etc busybox sh -c 'hostname; cat /etc/hostname; head -1 /etc/hosts'
    [ "${lines[0]}" = "${lines[1]}" ] && [ ${#lines[0]} = 12 ]
    [ "${lines[2]}" = "$(printf '127.0.0.1\tlocalhost')" ]
    run_strata run --rm busybox sh -c 'grep -c nameserver /etc/resolv.conf'
    [ "$output" -ge 1 ]
    # --network none: only lo; host: the host's interfaces
    run_strata run --rm busybox sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
    expect_output "lo"
    run_strata run --rm --network host busybox sh -c 'tail -n +3 /proc/net/dev | wc -l'
    [ "$output" = "$(tail -n +3 /proc/net/dev | wc -l)" ]
    run_strata run --rm busybox sh -c 'echo $$; grep -c " /dev/shm " /proc/mounts; grep " /sys sysfs " /proc/mounts | cut -d" " -f4 | cut -d, -f1'
    expect_output "1
1
ro"
}

@test "--read-only, -v binds (rw, ro, created), --tmpfs" {
    import_run_image
    mkdir "$TESTDIR/data" && echo host >"$TESTDIR/data/f"
    run_strata 1 run --rm --read-only busybox touch /x
    run_strata run --rm --read-only -v "$TESTDIR/data:/data" --tmpfs /scratch busybox \
        sh -c 'cat /data/f; echo c >/data/g; touch /scratch/t && echo tmpfs-ok'
    expect_output "host
tmpfs-ok"
    [ "$(cat "$TESTDIR/data/g")" = c ]
    run_strata 1 run --rm -v "$TESTDIR/data:/data:ro" busybox touch /data/h
    run_strata run --rm -v "$TESTDIR/new/dir:/d" busybox true
    [ -d "$TESTDIR/new/dir" ]
    run_strata 125 run --rm -v relative:/d busybox true
    expect_output_match "named volumes are not supported"
}

@test "capabilities: the default set, --cap-drop, --cap-add, --privileged" {
    import_run_image
    run_strata run --rm busybox sh -c 'grep CapEff /proc/self/status'
    expect_output "$(printf 'CapEff:\t00000000a80425fb')"
    run_strata run --rm --cap-drop ALL --cap-add net_admin busybox sh -c 'grep CapEff /proc/self/status'
    expect_output "$(printf 'CapEff:\t0000000000001000')"
    run_strata 1 run --rm --cap-drop chown busybox chown 1 /tmp
    run_strata run --rm --privileged busybox sh -c 'grep " /sys sysfs " /proc/mounts | cut -d" " -f4 | cut -d, -f1'
    expect_output "rw"
    run_strata 125 run --rm --cap-add NOPE busybox true
    expect_output 'strata: unknown capability: "NOPE"'
}

@test "resource limits apply, or warn where the machine lacks the controller" {
    import_run_image
    run_strata run --rm --memory 64m --cpus 0.5 --pids-limit 50 busybox echo limited
    [[ "$output" == *limited* ]]
    run_strata run --rm --ulimit nofile=100:200 busybox sh -c 'ulimit -n'
    expect_output_match "100"
    run_strata 125 run --rm --memory lots busybox true
}

@test "an image with no layer runs on an empty lower dir; --runtime by name, by path, missing" {
    python3 "$BATS_TEST_DIRNAME/fixtures/make-layered-archive.py" /dev/null 0 \
        "$TESTDIR/scratch.tar" scratchimg
    run_strata load -i "$TESTDIR/scratch.tar"
    run_strata run --rm -v /bin/busybox:/bin/busybox:ro scratchimg /bin/busybox sh -c 'echo empty'
    expect_output "empty"
    import_run_image
    run_strata run --rm --runtime runc busybox echo by-name
    expect_output "by-name"
    run_strata run --rm --runtime "$(command -v runc)" busybox echo by-path
    expect_output "by-path"
    run_strata 125 run --rm --runtime no-such-runtime busybox true
    expect_output_match "OCI runtime 'no-such-runtime' not found in PATH"
    run_strata 125 run --rm --runtime /nonexistent/runc busybox true
    expect_output_match "not found or not executable"
}
