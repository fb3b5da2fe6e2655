#!/usr/bin/env bats
# exec, diff, commit, export, cp and rename with real runc.

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

# start_bg NAME [RUN OPTIONS...] : a detached busybox container that sleeps.
start_bg() {
    local name=$1
    shift
    import_run_image
    run_strata run -d --name "$name" "$@" busybox sh -c 'while true; do sleep 0.1; done'
}

@test "exec: output, exit codes, env, user, workdir" {
    start_bg ex -e FOO=img
    run_strata exec ex echo hi
    expect_output "hi"
    run_strata 3 exec ex sh -c 'exit 3'
    run_strata 127 exec ex nosuchcmd
    run_strata 126 exec ex /notexec
    run_strata exec -e BAR=x ex sh -c 'echo $FOO $BAR'
    expect_output "img x"
    run_strata exec ex id -u
    expect_output "0"
    run_strata exec -u app ex sh -c 'id -u; id -g; id -G'
    expect_output "1000
1000
1000 29"
    run_strata exec -u 5:6 ex sh -c 'id -u; id -g'
    expect_output "5
6"
    run_strata exec -w /tmp ex pwd
    expect_output "/tmp"
    run bash -c "echo piped | '$STRATA' exec -i ex cat"
    expect_output "piped"
    run_strata exec -d ex touch /detached
    sleep 0.3
    run_strata exec ex ls /detached
    expect_output "/detached"
}

@test "exec: a stopped container is not running" {
    import_run_image
    run_strata create --name stopped busybox true
    run_strata 1 exec stopped echo hi
    expect_output_match "container [0-9a-f]{64} is not running"
    run_strata 1 exec nosuch echo hi
    expect_output_match "No such container: nosuch"
}

@test "diff: A, C and D after touch, modify and rm" {
    import_run_image
    run_strata run --name dd busybox sh -c 'touch /new; mkdir -p /home/app/dir; echo x >/home/app/dir/f; echo y >>/etc/passwd; rm /notexec'
    run_strata diff dd
    expect_output "C /etc
C /etc/passwd
C /home
C /home/app
A /home/app/dir
A /home/app/dir/f
A /new
D /notexec"
}

@test "commit: run the new image; the container stays usable and removable" {
    import_run_image
    run_strata run --name c1 -e K=from-run busybox sh -c 'echo data >/committed; rm -f /notexec'
    run_strata commit -m "my message" -a "me <me@x>" -c 'LABEL a=b' c1 committed:1
    [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
    id=$output
    run_strata run --rm committed:1 sh -c 'cat /committed; test -e /notexec || echo gone; echo $K'
    expect_output "data
gone
from-run"
    run_strata history --no-trunc --format '{{.CreatedBy}}|{{.Comment}}' committed:1
    [[ "${lines[0]}" == "sh -c echo data >/committed; rm -f /notexec|my message" ]]
    run_strata inspect --format '{{.Author}} {{.Config.Labels.a}} {{.Id}}' committed:1
    expect_output "me <me@x> b $id"
    # the container still works, and its writable layer is its own
    run_strata start -a c1
    run_strata run --rm committed:1 ls /
    run_strata rm c1
    run_strata run --rm committed:1 cat /committed
    expect_output "data"
    run_strata system check
    run_strata rmi committed:1
    run_strata system check
}

@test "commit of a running container; without a name" {
    start_bg live
    run_strata exec live sh -c 'echo hot >/hot'
    run_strata commit live
    id=$output
    run_strata run --rm "$id" cat /hot
    expect_output "hot"
    run_strata exec live echo still
    expect_output "still"
    run_strata system check
}

@test "export: the image's files plus the container's changes" {
    import_run_image
    run_strata run --name ee busybox sh -c 'echo e >/exported; rm /notexec'
    run_strata export -o "$TESTDIR/e.tar" ee
    run tar -tf "$TESTDIR/e.tar"
    [[ "$output" == *"bin/busybox"* ]]
    [[ "$output" == *"exported"* ]]
    [[ "$output" != *"notexec"* ]]
    [[ "$output" != *".wh."* ]]
    "$STRATA" export ee >"$TESTDIR/e2.tar"
    cmp "$TESTDIR/e.tar" "$TESTDIR/e2.tar"
    ! grep -q "$STRATA_ROOT/containers" /proc/mounts || false
    }

@test "cp: in and out, Docker's path rules" {
    import_run_image
    run_strata create --name cp busybox true
    mkdir -p "$TESTDIR/src/sub"
    echo one >"$TESTDIR/src/one"
    echo two >"$TESTDIR/src/sub/two"
    run_strata cp "$TESTDIR/src/one" cp:/tmp/
    run_strata cp "$TESTDIR/src/one" cp:/tmp/renamed
    run_strata cp "$TESTDIR/src" cp:/tmp
    run_strata cp "$TESTDIR/src/." cp:/opt/flat
    run_strata cp "$TESTDIR/src" cp:/newdir
    run_strata start -a cp
    run_strata run --rm -v "$TESTDIR:/t" busybox true
    # out again
    mkdir "$TESTDIR/out"
    run_strata cp cp:/tmp/one "$TESTDIR/out/"
    run_strata cp cp:/tmp/renamed "$TESTDIR/out/r"
    run_strata cp cp:/tmp/src "$TESTDIR/out"
    run_strata cp cp:/opt/flat/. "$TESTDIR/out/flat"
    run_strata cp cp:/newdir "$TESTDIR/out/nd"
    [ "$(cat "$TESTDIR/out/one")" = one ]
    [ "$(cat "$TESTDIR/out/r")" = one ]
    [ "$(cat "$TESTDIR/out/src/sub/two")" = two ]
    [ "$(cat "$TESTDIR/out/flat/sub/two")" = two ]
    [ "$(cat "$TESTDIR/out/nd/one")" = one ]
    run_strata 1 cp cp:/nosuch "$TESTDIR/out/"
    expect_output_match "Could not find the file /nosuch in container cp"
    run_strata 1 cp "$TESTDIR/src" cp:/tmp/one
    expect_output_match "cannot copy a directory to a file"
    ! grep -q "$STRATA_ROOT/containers" /proc/mounts || false
}

@test "cp: symlinks in the container never lead outside its rootfs" {
    import_run_image
    run_strata run --name esc busybox sh -c 'ln -s / /rootlink; ln -s ../../../../../../../etc /up; ln -s /etc/shadow-of-host /abs; mkdir /d'
    mkdir -p "$TESTDIR/in"
    echo payload >"$TESTDIR/in/payload"
    # writes through the links land inside the rootfs
    run_strata cp "$TESTDIR/in/payload" esc:/rootlink/payload-root
    run_strata cp "$TESTDIR/in/payload" esc:/up/payload-up
    [ ! -e /payload-root ]
    [ ! -e /etc/payload-up ]
    run_strata cp esc:/payload-root "$TESTDIR/pr"
    [ "$(cat "$TESTDIR/pr")" = payload ]
    run_strata cp esc:/etc/payload-up "$TESTDIR/pu"
    [ "$(cat "$TESTDIR/pu")" = payload ]
    # reads through the links read the container's files, not the host's
    echo "host secret" >"$TESTDIR/secret"
    run_strata cp esc:/up/passwd "$TESTDIR/passwd-out"
    cmp "$TESTDIR/passwd-out" "$TESTDIR/bbrun/etc/passwd"
    run_strata 1 cp "esc:/rootlink$TESTDIR/secret" "$TESTDIR/leak"
    [ ! -e "$TESTDIR/leak" ]
    # a symlink source comes out as the link itself (docker cp), never read through
    run_strata cp esc:/abs "$TESTDIR/leak2"
    [ "$(readlink "$TESTDIR/leak2")" = /etc/shadow-of-host ]
    # -L follows it, inside the container: there is no such file there
    run_strata 1 cp -L esc:/abs "$TESTDIR/leak3"
    [ ! -e "$TESTDIR/leak3" ] && [ ! -L "$TESTDIR/leak3" ]
    run_strata cp -L esc:/rootlink/etc/passwd "$TESTDIR/passwd-L"
    cmp "$TESTDIR/passwd-L" "$TESTDIR/bbrun/etc/passwd"
}

@test "cp with '-': a tar to stdout, a tar (plain or gzip) from stdin into a directory" {
    import_run_image
    run_strata run --name tarc busybox sh -c 'mkdir -p /data/sub && echo one >/data/sub/f && chown 5:6 /data/sub/f && echo top >/top'
    "$STRATA" cp tarc:/data - >"$TESTDIR/out.tar"
    run tar -tvf "$TESTDIR/out.tar"
    expect_output_match 'data/sub/f'
    expect_output_match ' 5/6 .* data/sub/f'
    [ "$(tar -xOf "$TESTDIR/out.tar" data/sub/f)" = one ]
    "$STRATA" cp tarc:/top - >"$TESTDIR/top.tar"
    [ "$(tar -tf "$TESTDIR/top.tar")" = top ]
    mkdir -p "$TESTDIR/in/d"
    echo two >"$TESTDIR/in/d/g"
    tar -C "$TESTDIR/in" --owner=7 --group=8 --numeric-owner -czf - d | "$STRATA" cp - tarc:/data
    run_strata start -a tarc
    run_strata cp tarc:/data/d/g "$TESTDIR/g"
    [ "$(cat "$TESTDIR/g")" = two ]
    "$STRATA" cp tarc:/data/d - | tar -tvf - | grep -q ' 7/8 .* d/g'
    # the destination must be a directory; a hostile tar writes nothing anywhere
    run bash -c "tar -C '$TESTDIR/in' -cf - d | '$STRATA' cp - tarc:/top"
    [ "$status" = 1 ]
    [[ "$output" == *'destination "/top" must be a directory'* ]]
    python3 -c 'import tarfile,io,sys
t=tarfile.open(fileobj=sys.stdout.buffer, mode="w|")
i=tarfile.TarInfo("../../escaped"); d=b"x"; i.size=len(d); t.addfile(i, io.BytesIO(d)); t.close()' >"$TESTDIR/evil.tar"
    run bash -c "'$STRATA' cp - tarc:/data <'$TESTDIR/evil.tar'"
    [ "$status" = 1 ]
    [[ "$output" == *"escapes the layer root"* ]]
    [ ! -e "$TESTDIR/escaped" ] && [ ! -e /escaped ]
    run_strata 1 cp tarc:/data/d/escaped "$TESTDIR/x"
}

@test "cp: a symlink source is copied as the link unless -L, both ways (docker cp)" {
    import_run_image
    run_strata run --name ln busybox sh -c 'echo hi >/t; ln -s /t /l; ln -s /gone /dangling'
    run_strata cp ln:/l "$TESTDIR/l"
    [ "$(readlink "$TESTDIR/l")" = /t ]
    run_strata cp ln:/dangling "$TESTDIR/dangling"
    [ "$(readlink "$TESTDIR/dangling")" = /gone ]
    run_strata cp -L ln:/l "$TESTDIR/lL"
    [ ! -L "$TESTDIR/lL" ] && [ "$(cat "$TESTDIR/lL")" = hi ]
    echo host >"$TESTDIR/h"
    ln -s "$TESTDIR/h" "$TESTDIR/hl"
    run_strata cp "$TESTDIR/hl" ln:/hl
    run_strata cp -L "$TESTDIR/hl" ln:/hlL
    run_strata cp ln:/hl "$TESTDIR/hl-back"
    [ "$(readlink "$TESTDIR/hl-back")" = "$TESTDIR/h" ]
    run_strata cp ln:/hlL "$TESTDIR/hlL-back"
    [ "$(cat "$TESTDIR/hlL-back")" = host ]
}

@test "rename: unique names, Docker's rules" {
    import_run_image
    run_strata create --name first busybox true
    run_strata create --name second busybox true
    run_strata rename first renamed
    run_strata ps -a --format '{{.Names}}'
    expect_output "second
renamed"
    run_strata 1 rename renamed second
    expect_output_match "Conflict. The container name \"/second\" is already in use"
    run_strata 125 rename renamed 'bad name'
    expect_output_match "Invalid container name"
    run_strata 1 rename nosuch x
    run_strata start -a renamed
}
