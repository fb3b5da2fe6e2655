#!/usr/bin/env bats
# Security defaults and promises (docs/security.md): containers confined as under Docker
# (capabilities, masked and read-only paths, seccomp, no-new-privileges, --privileged), exec,
# build RUN steps; credentials, TLS and build secrets.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    export STRATA_CONFIG_DIR="$BATS_TEST_TMPDIR/etc" DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    unset REGISTRY_AUTH_FILE STRATA_TRACE
}

teardown() {
    cleanup_containers
    stop_registry
    [ -n "${RELAY_PID:-}" ] && kill "$RELAY_PID" 2>/dev/null
    return 0
}

# Docker's default capability set for root: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
# SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
DOCKER_CAPS=00000000a80425fb

# import_sec_image : busybox with every applet and a user 'app' (1000), as 'sec'.
import_sec_image() {
    local d="$TESTDIR/secroot" a
    make_busybox_rootfs "$d"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/:/bin/sh\n' >"$d/etc/passwd"
    printf 'root:x:0:\napp:x:1000:\n' >"$d/etc/group"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$TESTDIR/sec.tar" .
    run_strata import "$TESTDIR/sec.tar" sec
}

# (bats does not fail a test on a `! cmd` that is not its last command: assertions below are
# `[ … ]` tests instead)

# status_field FIELD : FIELD's value in the container's /proc/self/status from $output.
status_field() {
    sed -n "s/^$1:\t*//p" <<<"$output"
}

@test "defaults: Docker's capabilities, seccomp filter on, no-new-privileges off" {
    skip_if_no_runc
    import_sec_image
    run_strata run --rm sec cat /proc/self/status
    [ "$(status_field CapEff)" = $DOCKER_CAPS ]
    [ "$(status_field CapPrm)" = $DOCKER_CAPS ]
    [ "$(status_field CapBnd)" = $DOCKER_CAPS ]
    [ "$(status_field CapInh)" = 0000000000000000 ]
    [ "$(status_field CapAmb)" = 0000000000000000 ]
    [ "$(status_field Seccomp)" = 2 ]
    [ "$(status_field NoNewPrivs)" = 0 ]
    # a user other than root keeps the bounding set but has no capability after exec
    run_strata run --rm -u app sec cat /proc/self/status
    [ "$(status_field CapEff)" = 0000000000000000 ]
    [ "$(status_field CapBnd)" = $DOCKER_CAPS ]
    [ "$(status_field Seccomp)" = 2 ]
}

@test "seccomp: the filter names x86, and x32 only on a kernel that runs x32 calls" {
    skip_if_no_runc
    [ "$(uname -m)" = x86_64 ] || skip "x86-64 only"
    import_sec_image
    # does this kernel run x32 system calls? (getpid with the x32 bit: ENOSYS when disabled)
    printf '#include <sys/syscall.h>\n#include <unistd.h>\nint main(void) { return syscall(0x40000000L | SYS_getpid) < 0; }\n' >"$TESTDIR/x32.c"
    cc -o "$TESTDIR/x32" "$TESTDIR/x32.c"
    local want='["SCMP_ARCH_X86_64","SCMP_ARCH_X86"]'
    "$TESTDIR/x32" && want='["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]'
    run_strata run --name arches sec true
    local id
    id=$("$STRATA" inspect -f '{{.Id}}' arches)
    [ "$(jq -c .linux.seccomp.architectures "$STRATA_ROOT/containers/$id/config.json")" = "$want" ]
    run_strata rm arches
}

@test "defaults: masked paths read empty, /proc/sys and friends are read-only" {
    skip_if_no_runc
    import_sec_image
    local p masked=""
    for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
        [ -e "$p" ] && [ -n "$(head -c 1 "$p" 2>/dev/null)" ] && masked="$masked $p"
    done
    [ -n "$masked" ] # the host has something to hide
    run_strata run --rm sec sh -c "for p in $masked; do printf '%s=%s\n' \$p \$(wc -c <\$p); done"
    for p in $masked; do
        [[ "$output" == *"$p=0"* ]]
    done
    run_strata run --rm sec sh -c 'ls /sys/firmware | wc -l'
    expect_output 0
    run_strata 1 run --rm sec sh -c 'echo x >/proc/sys/kernel/domainname'
    expect_output_match 'Read-only file system'
    if [ -e /proc/sysrq-trigger ]; then
        run_strata 1 run --rm sec sh -c 'echo h >/proc/sysrq-trigger'
        expect_output_match 'Read-only file system'
    fi
    run_strata run --rm sec sh -c 'grep -E " /proc/(sys|bus|fs|irq) " /proc/mounts | cut -d" " -f2,4 | cut -c1-13'
    expect_output_match '/proc/sys ro,'
    [ -z "$(grep -v ' ro,' <<<"$output")" ]
    # systempaths=unconfined lifts both, as in Docker
    run_strata run --rm --security-opt systempaths=unconfined sec sh -c 'grep -c " /proc/sys " /proc/mounts || true'
    expect_output 0
}

@test "seccomp: Docker's blocked syscalls fail with EPERM; unconfined, CAP_SYS_ADMIN, a profile change that" {
    skip_if_no_runc
    import_sec_image
    # unshare(2) needs no capability for a user namespace; Docker's profile blocks it
    run_strata 1 run --rm sec unshare -U true
    expect_output_match 'unshare\(0x10000000\): Operation not permitted'
    run_strata run --rm --security-opt seccomp=unconfined sec sh -c 'unshare -U true && grep Seccomp: /proc/self/status'
    expect_output "$(printf 'Seccomp:\t0')"
    run_strata run --rm --cap-add SYS_ADMIN sec sh -c 'unshare -U true && grep Seccomp: /proc/self/status'
    expect_output "$(printf 'Seccomp:\t2')"
    # personality(2) only with Docker's values: linux32 (PER_LINUX32) is one of them
    run_strata run --rm sec linux32 uname -m
    expect_output i686
    # a user profile, read from a file when the container is created
    cat >"$TESTDIR/no-mkdir.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
EOF
    run_strata create --name c1 --security-opt seccomp="$TESTDIR/no-mkdir.json" sec mkdir /x
    rm "$TESTDIR/no-mkdir.json" # the container keeps the profile itself
    run_strata 1 start -a c1
    expect_output_match "mkdir: can't create directory '/x': Permission denied"
    run_strata inspect --format '{{json .HostConfig.SecurityOpt}}' c1
    expect_output_match '^\["seccomp=\{\\"defaultAction\\":\\"SCMP_ACT_ALLOW\\"'
    # bad profiles and options are refused before anything is created
    echo '{"defaultAction": "SCMP_ACT_MAYBE"}' >"$TESTDIR/bad.json"
    run_strata 125 run --rm --security-opt seccomp="$TESTDIR/bad.json" sec true
    expect_output "strata: $TESTDIR/bad.json: seccomp profile: defaultAction: unknown action 'SCMP_ACT_MAYBE'"
    echo '{"defaultAction": ' >"$TESTDIR/bad.json"
    run_strata 125 run --rm --security-opt seccomp="$TESTDIR/bad.json" sec true
    expect_output_match "seccomp profile: invalid JSON"
    run_strata 125 run --rm --security-opt seccomp="$TESTDIR/none.json" sec true
    expect_output_match "open seccomp profile '$TESTDIR/none.json': No such file"
    run_strata 125 run --rm --security-opt bogus sec true
    expect_output 'strata: invalid --security-opt: "bogus"'
    run_strata ps -aq
    [ "$(wc -l <<<"$output")" = 1 ] # only c1
}

@test "--privileged: every capability strata has, no seccomp, no masked paths, the host's devices" {
    skip_if_no_runc
    import_sec_image
    local bnd dev=""
    bnd=$(sed -n 's/^CapBnd:\t*//p' /proc/self/status)
    for d in /dev/kmsg /dev/loop-control /dev/loop0 /dev/fuse /dev/tty0; do
        [ -c "$d" ] || [ -b "$d" ] || continue
        dev=$d && break
    done
    run_strata run --rm --privileged sec cat /proc/self/status
    [ "$(status_field CapEff)" = "$bnd" ]
    [ "$(status_field Seccomp)" = 0 ]
    run_strata run --rm --privileged sec sh -c 'grep -c " /proc/sys " /proc/mounts || true'
    expect_output 0
    if [ -n "$dev" ]; then
        run_strata run --rm --privileged sec sh -c "test -e $dev && echo present"
        expect_output present
        run_strata 1 run --rm sec test -e "$dev"
    fi
    run_strata run --rm --privileged sec unshare -U true
}

@test "--cap-drop, --cap-add, no-new-privileges, --read-only" {
    skip_if_no_runc
    import_sec_image
    run_strata run --rm --cap-drop ALL sec cat /proc/self/status
    [ "$(status_field CapEff)" = 0000000000000000 ]
    [ "$(status_field CapBnd)" = 0000000000000000 ]
    run_strata run --rm --cap-add SYS_ADMIN --cap-drop CAP_NET_RAW sec grep CapEff /proc/self/status
    expect_output "$(printf 'CapEff:\t00000000a82405fb')"
    run_strata run --rm --cap-add cap_sys_admin sec mount -t tmpfs none /tmp
    run_strata 1 run --rm sec mount -t tmpfs none /tmp
    run_strata run --rm --security-opt no-new-privileges sec grep NoNewPrivs /proc/self/status
    expect_output "$(printf 'NoNewPrivs:\t1')"
    run_strata run --rm --security-opt no-new-privileges=true sec grep NoNewPrivs /proc/self/status
    expect_output "$(printf 'NoNewPrivs:\t1')"
    run_strata run --rm --security-opt no-new-privileges=false sec grep NoNewPrivs /proc/self/status
    expect_output "$(printf 'NoNewPrivs:\t0')"
    run_strata 125 run --rm --security-opt no-new-privileges=maybe sec true
    run_strata 1 run --rm --read-only sec touch /x
    expect_output_match 'Read-only file system'
}

@test "exec: the container's confinement; --privileged adds every capability, seccomp stays" {
    skip_if_no_runc
    import_sec_image
    run_strata run -d --name cx --security-opt no-new-privileges sec sleep 60
    run_strata exec cx cat /proc/self/status
    [ "$(status_field CapEff)" = $DOCKER_CAPS ]
    [ "$(status_field Seccomp)" = 2 ]
    [ "$(status_field NoNewPrivs)" = 1 ]
    run_strata exec --privileged cx cat /proc/self/status
    [ "$(status_field CapEff)" = "$(sed -n 's/^CapBnd:\t*//p' /proc/self/status)" ]
    [ "$(status_field Seccomp)" = 2 ]
    run_strata 1 exec cx unshare -U true
    run_strata rm -f cx
}

@test "build: RUN steps get Docker's default capabilities and seccomp filter" {
    skip_if_no_runc
    import_sec_image
    mkdir -p "$TESTDIR/ctx"
    cat >"$TESTDIR/ctx/Dockerfile" <<'EOF'
FROM sec
RUN grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status
RUN if unshare -U true; then echo unshare-allowed; else echo unshare-blocked; fi
EOF
    run_strata build --progress=plain -t b "$TESTDIR/ctx"
    expect_output_match "CapEff:.$DOCKER_CAPS"
    expect_output_match "Seccomp:.2"
    expect_output_match "NoNewPrivs:.0"
    expect_output_match "unshare-blocked"
}

@test "build: RUN --security=insecure needs --allow security.insecure, then runs privileged" {
    skip_if_no_runc
    import_sec_image
    local bnd
    bnd=$(sed -n 's/^CapBnd:\t*//p' /proc/self/status)
    mkdir -p "$TESTDIR/ctx"
    cat >"$TESTDIR/ctx/Dockerfile" <<'EOF'
FROM sec
RUN echo sandboxed-step-ran
RUN --security=insecure grep -E '^(CapEff|Seccomp):' /proc/self/status
RUN grep -E '^(CapEff|Seccomp):' /proc/self/status
EOF
    # refused before any step runs, naming the line
    run_strata 1 build --progress=plain -t ins "$TESTDIR/ctx"
    expect_output_match "^strata: Dockerfile:3: RUN --security=insecure: granting entitlement security.insecure is not allowed"
    [[ "$output" != *sandboxed-step-ran* ]]
    run_strata 125 build --allow bogus.entitlement "$TESTDIR/ctx"
    run_strata build --progress=plain --allow security.insecure --allow network.host -t ins "$TESTDIR/ctx"
    expect_output_match "CapEff:.$bnd"
    expect_output_match "Seccomp:.0"
    # the steps after it are confined again
    expect_output_match "CapEff:.$DOCKER_CAPS"
    expect_output_match "Seccomp:.2"
    # the same command without --security=insecure has another cache key
    printf 'FROM sec\nRUN --security=insecure grep -E "^(CapEff|Seccomp):" /proc/self/status\n' >"$TESTDIR/ins.Dockerfile"
    printf 'FROM sec\nRUN grep -E "^(CapEff|Seccomp):" /proc/self/status\n' >"$TESTDIR/plain.Dockerfile"
    run_strata build --progress=plain --allow security.insecure -f "$TESTDIR/ins.Dockerfile" "$TESTDIR/ctx"
    expect_output_match "Seccomp:.0"
    run_strata build --progress=plain -f "$TESTDIR/plain.Dockerfile" "$TESTDIR/ctx"
    expect_output_match "Seccomp:.2"
    run_strata build --progress=plain --allow security.insecure -f "$TESTDIR/ins.Dockerfile" "$TESTDIR/ctx"
    expect_output_match "CACHED"
}

@test "login: the credentials file is 0600, the password is never printed" {
    start_registry --htpasswd alice:Pw-9f2e-secret
    run bash -c "umask 000; echo wrong-Pw-77aa | STRATA_TRACE=registry '$STRATA' login -u alice --password-stdin $REGISTRY"
    [ "$status" = 1 ]
    [[ "$output" == *"incorrect username or password"* ]]
    [[ "$output" != *wrong-Pw-77aa* ]]
    [[ "$output" != *"$(printf alice:wrong-Pw-77aa | base64)"* ]]
    [ ! -e "$DOCKER_CONFIG/config.json" ]
    run bash -c "umask 000; STRATA_TRACE=registry '$STRATA' login -u alice -p Pw-9f2e-secret $REGISTRY"
    [ "$status" = 0 ]
    [[ "$output" == *"WARNING! Using --password via the CLI is insecure"* ]]
    [[ "$output" != *Pw-9f2e* ]]
    [[ "$output" != *"$(printf alice:Pw-9f2e-secret | base64)"* ]]
    [ "$(stat -c %a "$DOCKER_CONFIG/config.json")" = 600 ]
    [ "$(stat -c %a "$DOCKER_CONFIG")" = 700 ]
    # the store never holds it either
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" "$REGISTRY/p/bb:1"
    run_strata push -q "$REGISTRY/p/bb:1"
    run_strata pull -q "$REGISTRY/p/bb:1"
    [ -z "$(grep -r -a -l -e Pw-9f2e -e "$(printf alice:Pw-9f2e-secret | base64)" "$STRATA_ROOT")" ]
}

# start_relay ADDR : a TCP relay from ADDR:<free port> to $REGISTRY; sets RELAY.
start_relay() {
    local port
    port=$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1")
    python3 - "$1" "$port" "$REGISTRY" <<'EOF' &
import socket, sys, threading
addr, port, target = sys.argv[1], int(sys.argv[2]), sys.argv[3].rsplit(":", 1)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port)); srv.listen(16)
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection((target[0], int(target[1])))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
EOF
    RELAY_PID=$!
    RELAY=$1:$port
    wait_http "http://$RELAY/v2/"
}

@test "TLS: a registry that is not on loopback must speak verified TLS unless listed insecure" {
    local ip
    ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub("/.*","",$4); print $4; exit}')
    [ -n "$ip" ] || skip "no non-loopback IPv4 address"
    start_registry
    start_relay "$ip"
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" "$RELAY/x/bb:1"
    run_strata 1 push "$RELAY/x/bb:1"
    expect_output_match "https://$RELAY/v2/"
    [ "$(registry_requests 'PUT /v2/x/bb/manifests/')" = 0 ]
    run_strata 1 pull "$RELAY/x/bb:1"
    run_strata push -q --tls-verify=false "$RELAY/x/bb:1"
    run_strata rmi "$RELAY/x/bb:1"
    mkdir -p "$STRATA_CONFIG_DIR"
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$RELAY" >"$STRATA_CONFIG_DIR/registries.conf"
    run_strata pull -q "$RELAY/x/bb:1"
}

@test "build secrets: never in a layer, the config, the history, the cache, the store or the log" {
    skip_if_no_runc
    import_sec_image
    local secret=S3cr3t-4c1d-$RANDOM
    printf '%s' "$secret" >"$TESTDIR/tok"
    mkdir -p "$TESTDIR/ctx"
    cat >"$TESTDIR/ctx/Dockerfile" <<'EOF'
FROM sec
RUN --mount=type=secret,id=tok test -s /run/secrets/tok && wc -c </run/secrets/tok >/len
RUN --mount=type=secret,id=tok,env=TOK test -n "$TOK" && echo used-as-env
EOF
    run_strata build --progress=plain -t s --secret id=tok,src="$TESTDIR/tok" "$TESTDIR/ctx"
    expect_output_match used-as-env
    [[ "$output" != *"$secret"* ]]
    run_strata run --rm s cat /len
    expect_output "${#secret}"
    run_strata history --no-trunc s
    [[ "$output" != *"$secret"* ]]
    run_strata inspect s
    [[ "$output" != *"$secret"* ]]
    # every file of the store, compressed blobs decompressed, and every layer tar of `save`
    [ -z "$(grep -r -a -l -F "$secret" "$STRATA_ROOT")" ] # the database and its WAL too
    local f
    for f in "$STRATA_ROOT"/blobs/sha256/*; do
        [ "$(zcat -f "$f" | grep -a -c -F "$secret")" = 0 ]
    done
    "$STRATA" save s >"$TESTDIR/s.tar"
    mkdir "$TESTDIR/s" && tar -C "$TESTDIR/s" -xf "$TESTDIR/s.tar"
    [ -z "$(grep -r -a -l -F "$secret" "$TESTDIR/s")" ]
    for f in "$TESTDIR"/s/blobs/sha256/*; do
        [ "$(zcat -f "$f" | grep -a -c -F "$secret")" = 0 ]
    done
}
