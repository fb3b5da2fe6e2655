#!/usr/bin/env bats
# Hostile archives for load, hostile builds and hostile containers for cp: a clear one-line
# error or a contained result, nothing written outside, the store unchanged
# (docs/security-hostile.md).

load helpers

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    export STRATA_CONFIG_DIR="$TESTDIR/etc" DOCKER_CONFIG="$TESTDIR/docker"
    unset REGISTRY_AUTH_FILE STRATA_TRACE STRATA_MAX_LAYER_SIZE
    CANARY="$TESTDIR/canary"
    mkdir -p "$CANARY"
    echo original >"$CANARY/file"
}

teardown() {
    cleanup_containers
    if mountpoint -q "$TESTDIR/small" 2>/dev/null; then umount "$TESTDIR/small"; fi
    return 0
}

canary_listing() {
    (cd "$CANARY" && find . -printf '%p %y %n %s\n' | sort && cat file)
}

# one_error_line REGEX : $output is one line "strata: ..." matching REGEX.
one_error_line() {
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
    expect_output_match '^strata: '
    expect_output_match "$1"
}

store_clean() {
    run_strata system check
    expect_output_match 'the store is clean'
    [ -z "$(ls -A "$STRATA_ROOT/tmp" | grep -v '\.lock$' || true)" ]
}

# saved_archive DIR IMAGE... : `strata save` of the images, unpacked into DIR.
saved_archive() {
    local dir=$1
    shift
    run_strata save -o "$TESTDIR/saved.tar" "$@"
    rm -rf "$dir" && mkdir -p "$dir" && tar -C "$dir" -xf "$TESTDIR/saved.tar"
}

# two_images : imports a:1 and b:1 (different configs, one layer).
two_images() {
    mkdir -p "$TESTDIR/rootfs" && echo hello >"$TESTDIR/rootfs/hello"
    tar -C "$TESTDIR/rootfs" -cf "$TESTDIR/rootfs.tar" .
    run_strata import -c 'CMD ["a"]' "$TESTDIR/rootfs.tar" a:1
    A=$output
    run_strata import -c 'CMD ["b"]' "$TESTDIR/rootfs.tar" b:1
    B=$output
}

# load_refused DIR REGEX : tar DIR, load it: one error line matching REGEX, store unchanged.
load_refused() {
    local before
    before=$(store_snapshot)
    tar -C "$1" -cf "$TESTDIR/hostile.tar" .
    run_strata 1 load -i "$TESTDIR/hostile.tar"
    one_error_line "$2"
    [ "$(store_snapshot)" = "$before" ]
}

@test "hostile load: an OCI index pointing at missing blobs" {
    two_images
    saved_archive "$TESTDIR/x" a:1
    rm "$TESTDIR/x/manifest.json"
    local man cfg
    man=$(jq -r '.manifests[0].digest' "$TESTDIR/x/index.json")
    cfg=$(jq -r '.config.digest' "$TESTDIR/x/blobs/sha256/${man#sha256:}")
    mv "$TESTDIR/x/blobs/sha256/${cfg#sha256:}" "$TESTDIR/cfg"
    load_refused "$TESTDIR/x" "archive member 'blobs/sha256/${cfg#sha256:}': No such file"
    mv "$TESTDIR/cfg" "$TESTDIR/x/blobs/sha256/${cfg#sha256:}"
    rm "$TESTDIR/x/blobs/sha256/${man#sha256:}"
    load_refused "$TESTDIR/x" "archive member 'blobs/sha256/${man#sha256:}': No such file"
    # a digest that is not one
    jq '.manifests[0].digest = "sha256:../../../../etc/passwd"' "$TESTDIR/x/index.json" >"$TESTDIR/i.json"
    mv "$TESTDIR/i.json" "$TESTDIR/x/index.json"
    load_refused "$TESTDIR/x" "sha256:\.\./\.\./"
    store_clean
}

@test "hostile load: a docker-archive manifest.json naming files outside the archive" {
    two_images
    saved_archive "$TESTDIR/x" a:1
    rm "$TESTDIR/x/index.json"
    cp "$TESTDIR/x/manifest.json" "$TESTDIR/orig.json"
    # a copy of the real config right outside the archive, where '../' would reach it
    cfg=$(jq -r '.[0].Config' "$TESTDIR/orig.json")
    cp "$TESTDIR/x/$cfg" "$TESTDIR/outside.json"
    for bad in ../outside.json "$TESTDIR/outside.json" blobs/../../outside.json; do
        jq --arg p "$bad" '.[0].Config = $p' "$TESTDIR/orig.json" >"$TESTDIR/x/manifest.json"
        load_refused "$TESTDIR/x" "archive member '${bad//./\\.}' is outside the archive"
        jq --arg p "$bad" '.[0].Layers[0] = $p' "$TESTDIR/orig.json" >"$TESTDIR/x/manifest.json"
        load_refused "$TESTDIR/x" "archive member '${bad//./\\.}' is outside the archive"
    done
    # a symlink in the archive to a file outside stays inside (resolved in the archive root)
    ln -s "$TESTDIR/outside.json" "$TESTDIR/x/link.json"
    jq '.[0].Config = "link.json"' "$TESTDIR/orig.json" >"$TESTDIR/x/manifest.json"
    load_refused "$TESTDIR/x" "archive member 'link.json': No such file"
    store_clean
}

@test "hostile load: the same tag twice in one archive: the last image wins, as Docker" {
    two_images
    saved_archive "$TESTDIR/y" a:1 b:1
    saved_archive "$TESTDIR/x" a:1 b:1
    # docker-archive: both entries claim dup:1
    rm "$TESTDIR/x/index.json"
    jq '[.[] | .RepoTags = ["dup:1"]]' "$TESTDIR/x/manifest.json" >"$TESTDIR/m.json"
    mv "$TESTDIR/m.json" "$TESTDIR/x/manifest.json"
    last=$(jq -r '.[1].Config' "$TESTDIR/x/manifest.json")
    tar -C "$TESTDIR/x" -cf "$TESTDIR/dup.tar" .
    export STRATA_ROOT="$TESTDIR/root2"
    run_strata load -i "$TESTDIR/dup.tar"
    expect_output "Loaded image: dup:1
Loaded image: dup:1"
    run_strata inspect --format '{{.Id}}' dup:1
    expect_output "sha256:${last##*/}"
    # OCI layout: both index entries name dup:2
    rm "$TESTDIR/y/manifest.json"
    jq '.manifests |= map(.annotations["io.containerd.image.name"] = "docker.io/library/dup:2")' \
        "$TESTDIR/y/index.json" >"$TESTDIR/i.json"
    mv "$TESTDIR/i.json" "$TESTDIR/y/index.json"
    man=$(jq -r '.manifests[1].digest' "$TESTDIR/y/index.json")
    tar -C "$TESTDIR/y" -cf "$TESTDIR/dup2.tar" .
    run_strata load -i "$TESTDIR/dup2.tar"
    run_strata inspect --format '{{.Id}}' dup:2
    expect_output "$(jq -r .config.digest "$TESTDIR/y/blobs/sha256/${man#sha256:}")"
    store_clean
}

# build_ctx : a context dir $CTX with a file, a tree holding symlinks to the canary, and a
# symlink to the canary at its top.
build_ctx() {
    CTX="$TESTDIR/ctx"
    mkdir -p "$CTX/tree"
    echo in-context >"$CTX/f"
    ln -s "$CANARY/file" "$CTX/tree/abs"
    ln -s ../../canary "$CTX/tree/rel"
    ln -s "$CANARY/file" "$CTX/toplink"
}

# layer0 REF : the extracted dir of REF's bottom layer (its chain ID is its diff ID).
layer0() {
    local d
    d=$("$STRATA" inspect --format '{{index .RootFS.Layers 0}}' "$1")
    echo "$STRATA_ROOT/layers/${d#sha256:}/diff"
}

@test "hostile build: context symlinks to outside are copied as links or not found" {
    build_ctx
    local canary
    canary=$(canary_listing)
    printf 'FROM scratch\nCOPY tree/ /t/\n' >"$CTX/Dockerfile"
    run_strata build -q -t links "$CTX"
    run layer0 links
    [ "$(readlink "$output/t/abs")" = "$CANARY/file" ]
    [ "$(readlink "$output/t/rel")" = ../../canary ]
    # an explicit source that is a link resolves inside the context only: not found there
    printf 'FROM scratch\nCOPY toplink /x\n' >"$CTX/Dockerfile"
    run_strata 1 build -q -t top "$CTX"
    one_error_line "COPY failed: file not found in build context or excluded by .dockerignore: stat toplink: file does not exist"
    [ "$(canary_listing)" = "$canary" ]
    store_clean
}

@test "hostile build: COPY --from paths escaping the stage root stay inside it" {
    build_ctx
    local canary
    canary=$(canary_listing)
    cat >"$CTX/Dockerfile" <<'EOF'
FROM scratch AS stage
COPY f /etc/passwd
COPY tree/ /links/
FROM scratch
COPY --from=stage ../../../../../etc/passwd /escaped
EOF
    run_strata build -q -t esc "$CTX"
    run layer0 esc
    # '..' stops at the stage root: the stage's own /etc/passwd, not the host's
    [ "$(cat "$output/escaped")" = in-context ]
    for src in /links/abs /links/rel/file; do
        printf 'FROM scratch AS stage\nCOPY tree/ /links/\nFROM scratch\nCOPY --from=stage %s /x\n' \
            "$src" >"$CTX/Dockerfile"
        run_strata 1 build -q -t esc2 "$CTX"
        one_error_line "COPY failed: file not found in stage 'stage': stat ${src#/}: file does not exist"
    done
    [ "$(canary_listing)" = "$canary" ]
    store_clean
}

@test "hostile build: --chown to names the image does not have" {
    build_ctx
    local before
    two_images
    printf 'FROM scratch\nCOPY --chown=nosuchuser f /f\n' >"$CTX/Dockerfile"
    before=$(store_snapshot)
    run_strata 1 build -q -t chown "$CTX"
    one_error_line 'unable to find user nosuchuser: no matching entries in passwd file'
    printf 'FROM scratch\nCOPY --chown=0:nosuchgroup f /f\n' >"$CTX/Dockerfile"
    run_strata 1 build -q -t chown "$CTX"
    one_error_line 'unable to find group nosuchgroup: no matching entries in group file'
    [ "$(store_snapshot)" = "$before" ]
}

@test "hostile build: a 100 MB Dockerfile is refused at 8 MiB in bounded memory" {
    build_ctx
    { echo 'FROM scratch'; yes 'LABEL a=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' |
        head -c 100000000; } >"$CTX/Dockerfile"
    run /usr/bin/time -f 'rss=%M' "$STRATA" build -q -t big "$CTX"
    [ "$status" -eq 1 ]
    [[ "$output" =~ "strata: failed to read dockerfile: larger than 8388608 bytes" ]]
    echo "peak RSS ${output##*rss=} KiB" >&2
    [ "${output##*rss=}" -lt 65536 ]
    # the same through stdin
    run bash -c "'$STRATA' build -q -t big -f - '$CTX' <'$CTX/Dockerfile'"
    [ "$status" -eq 1 ]
    [[ "$output" =~ "larger than 8388608 bytes" ]]
}

@test "hostile build: 10,000 instructions build in bounded time" {
    build_ctx
    # config steps of every kind, 2,500 each: ENV over 100 names, LABEL, WORKDIR, USER
    { echo 'FROM scratch'; seq 1 2500 | awk '{ printf "ENV V%d=%d\nLABEL l%d=%d\nWORKDIR /w%d\nUSER u%d\n", $1 % 100, $1, $1, $1, $1, $1 }'; } >"$CTX/Dockerfile"
    SECONDS=0
    run_strata build -q -t many "$CTX"
    echo "10000 config steps: ${SECONDS}s" >&2
    [ "$SECONDS" -lt 30 ] # about 1.5 s (9 s under ASan); they were O(N^2): minutes before
    run_strata inspect --format '{{len .Config.Env}} {{len .Config.Labels}} {{.Config.WorkingDir}} {{.Config.User}}' many
    expect_output "101 2500 /w2500 u2500" # 100 V* and PATH, which BuildKit adds too
    [ "$("$STRATA" history many | wc -l)" -eq 10001 ] # a header and 10000 steps
}

@test "hostile build: a RUN that fills the disk: clear error, nothing tagged, space back" {
    skip_if_no_runc
    mkdir -p "$TESTDIR/small"
    mount -t tmpfs -o size=24m tmpfs "$TESTDIR/small" || skip "cannot mount tmpfs"
    export STRATA_ROOT="$TESTDIR/small/root"
    build_ctx
    make_busybox_tar "$TESTDIR/bb.tar"
    run_strata import "$TESTDIR/bb.tar" bb
    local used before
    used=$(du -sk "$STRATA_ROOT" | cut -f1)
    before=$(store_snapshot)
    printf 'FROM bb\nRUN cat /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox /bin/busybox >/big\n' >"$CTX/Dockerfile"
    run_strata 1 build -t full "$CTX"
    # strata's one line: the step's failure (after the kernel's error in the step's output),
    # or, when the disk is still full as the container's state is recorded, the database's
    echo "${lines[-1]}" | grep -E '^strata: (process "/bin/sh -c cat .*" did not complete successfully: exit code: 1|record the state of container [0-9a-f]{12}: database: .*(database or disk is full|No space left on device))$'

    run_strata images --format '{{.Repository}}'
    expect_output bb
    run_strata ps -aq
    expect_output ""
    # (the first container run creates run/runc/, runc's state dir: not content)
    diff <(echo "$before" | grep -v '^\. d ') <(store_snapshot | grep -v -e '^\. d ' -e '^\./run')
    store_clean
    [ "$(du -sk "$STRATA_ROOT" | cut -f1)" -le "$((used + 64))" ]
}

# cp_container : an image with links to outside, and a container 'cpc' of it (not started).
cp_container() {
    mkdir -p "$TESTDIR/img/etc" "$TESTDIR/img/d"
    ln -s /../../host "$TESTDIR/img/etc/x"
    ln -s "$CANARY" "$TESTDIR/img/abs"
    ln -s "$CANARY/file" "$TESTDIR/img/absfile"
    echo inside >"$TESTDIR/img/d/inside"
    ln -s /../../../host "$TESTDIR/img/d/up"
    tar -C "$TESTDIR/img" -cf "$TESTDIR/img.tar" .
    run_strata import "$TESTDIR/img.tar" cpimg
    run_strata create --name cpc cpimg /nothing
}

@test "hostile cp: out of a container, links to outside never read the host" {
    cp_container
    local canary
    canary=$(canary_listing)
    mkdir "$TESTDIR/out"
    # a link comes out as the link itself (docker cp): its target is never read
    run_strata cp cpc:/absfile "$TESTDIR/out/leak"
    [ "$(readlink "$TESTDIR/out/leak")" = "$CANARY/file" ]
    rm "$TESTDIR/out/leak"
    # followed (-L, or a path through it), the target resolves in the container: no such file
    run_strata 1 cp -L cpc:/absfile "$TESTDIR/out/leak"
    one_error_line 'Could not find the file /absfile in container cpc'
    run_strata 1 cp cpc:/abs/file "$TESTDIR/out/leak"
    [ ! -e "$TESTDIR/out/leak" ] && [ ! -L "$TESTDIR/out/leak" ]
    # a tree: its links come out as links, untouched, nothing is followed on the host
    run_strata cp cpc:/d "$TESTDIR/out/d"
    [ "$(readlink "$TESTDIR/out/d/up")" = /../../../host ]
    [ "$(cat "$TESTDIR/out/d/inside")" = inside ]
    [ ! -e /host ]
    [ "$(canary_listing)" = "$canary" ]
}

@test "hostile cp: into a container, links to outside resolve inside its root" {
    cp_container
    local canary
    canary=$(canary_listing)
    echo payload >"$TESTDIR/payload"
    # into /abs/ (a link to a dir the container does not have)
    run_strata 1 cp "$TESTDIR/payload" cpc:/abs/
    one_error_line '/abs/: no such directory'
    # /etc/x -> /../../host: written as the container's /host
    run_strata cp "$TESTDIR/payload" cpc:/etc/x
    [ ! -e /host ]
    mkdir "$TESTDIR/back"
    run_strata cp cpc:/host "$TESTDIR/back/host"
    [ "$(cat "$TESTDIR/back/host")" = payload ]
    # /absfile -> CANARY/file: the container's CANARY/file, not the host's
    run_strata cp "$TESTDIR/payload" cpc:/absfile
    [ "$(canary_listing)" = "$canary" ]
    run_strata cp "cpc:$CANARY/file" "$TESTDIR/back/viaabs"
    [ "$(cat "$TESTDIR/back/viaabs")" = payload ]
    [ "$(canary_listing)" = "$canary" ]
    store_clean
}
