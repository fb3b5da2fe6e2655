#!/usr/bin/env bats
# Hostile layer tars (fixtures/hostile-tar.py), fed through import, load and pull: a clear
# one-line error, nothing written outside the store, the store unchanged (docs/security-hostile.md).

load helpers

HOSTILE_TAR="$BATS_TEST_DIRNAME/fixtures/hostile-tar.py"

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    export STRATA_CONFIG_DIR="$TESTDIR/etc" DOCKER_CONFIG="$TESTDIR/docker"
    unset REGISTRY_AUTH_FILE STRATA_TRACE STRATA_MAX_LAYER_SIZE
    # the target of every escape: a directory outside the store, with one file in it
    CANARY="$TESTDIR/canary"
    mkdir -p "$CANARY" "$TESTDIR/base"
    echo original >"$CANARY/file"
    echo base >"$TESTDIR/base/base-file"
    tar -C "$TESTDIR/base" -cf "$TESTDIR/base.tar" .
    run_strata import "$TESTDIR/base.tar" base
}

teardown() {
    stop_registry
}

# canary_listing : what the canary dir holds (names, types, link counts, sizes, content).
canary_listing() {
    (cd "$CANARY" && find . -printf '%p %y %n %s\n' | sort && cat file)
}

# hostile CASE : writes the tar of CASE to $TESTDIR/CASE.tar.
hostile() {
    python3 "$HOSTILE_TAR" "$1" "$TESTDIR/$1.tar" "$CANARY"
}

# one_error_line REGEX : $output is one line "strata: ..." matching REGEX.
one_error_line() {
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ] || {
        echo "expected one line of error" >&2
        return 1
    }
    expect_output_match '^strata: '
    expect_output_match "$1"
}

# store_clean : `system check` finds nothing wrong and no staging dir is left behind.
store_clean() {
    run_strata system check
    expect_output_match 'the store is clean'
    [ -z "$(ls -A "$STRATA_ROOT/tmp" | grep -v '\.lock$' || true)" ]
}

# refused VERB CASE REGEX : VERB (import or load) of CASE fails with one line matching REGEX;
# the store and the canary are unchanged.
refused() {
    local verb=$1 case=$2 regex=$3 before canary
    hostile "$case"
    before=$(store_snapshot)
    canary=$(canary_listing)
    if [ "$verb" = load ]; then
        python3 "$BATS_TEST_DIRNAME/fixtures/make-docker-archive.py" "$TESTDIR/$case.tar" \
            "$TESTDIR/$case-archive.tar" "hostile/$case:1"
        run_strata 1 load -i "$TESTDIR/$case-archive.tar"
    else
        run_strata 1 import "$TESTDIR/$case.tar" "hostile/$case"
    fi
    one_error_line "$regex"
    [ "$(store_snapshot)" = "$before" ]
    [ "$(canary_listing)" = "$canary" ]
}

# layer_dir REF : the extracted dir of REF's top layer.
layer_dir() {
    local diff
    diff=$("$STRATA" inspect --format '{{index .RootFS.Layers 0}}' "$1")
    echo "$STRATA_ROOT/layers/${diff#sha256:}/diff"
}

@test "hostile tar: '..' and absolute names are refused (import and load)" {
    refused import dotdot "layer entry '[./]*/tmp/.*/dotdot' escapes the layer root"
    refused import dotdot-inner "layer entry 'a/\.\./\.\./dotdot-inner' escapes the layer root"
    refused import absolute "layer entry '/.*/canary/absolute' has an absolute path"
    refused load dotdot "layer entry '[./]*/tmp/.*/dotdot' escapes the layer root"
    # control characters in a name are escaped: still one line, no terminal escapes
    refused import control-chars \
        "layer entry '\.\./\\\\x1b\]0;pwned\\\\x07\\\\nstrata: all is well\\\\xc2\\\\x9b' escapes"
    [[ "$output" != *$'\e'* ]]
    refused load absolute "layer entry '/.*/canary/absolute' has an absolute path"
    [ ! -e "$TESTDIR/dotdot-inner" ] && [ ! -e "$STRATA_ROOT/dotdot-inner" ]
    store_clean
}

@test "hostile tar: a path through a symlink to / or .. stays inside the layer" {
    # Docker's rule: a symlink in a layer resolves as if the layer root were /
    local canary
    canary=$(canary_listing)
    for case in symlink-root symlink-dotdot; do
        hostile $case
        run_strata import "$TESTDIR/$case.tar" "contained/$case"
        [ "$(canary_listing)" = "$canary" ]
    done
    run layer_dir contained/symlink-root
    [ "$(cat "$output/$CANARY/via-root")" = pwned ]
    [ -L "$output/evil" ]
    run layer_dir contained/symlink-dotdot
    [ "$(cat "$output/$CANARY/via-dotdot")" = pwned ]
    store_clean
}

@test "hostile tar: an absolute symlink, or a dir swapped for one, is not followed out" {
    refused import symlink-abs "layer entry 'c/via-abs': open parent directory: No such file"
    refused import dir-then-symlink "layer entry 'd/via-swap': open parent directory: No such file"
    refused load dir-then-symlink "layer entry 'd/via-swap': open parent directory: No such file"
    store_clean
}

@test "hostile tar: whiteouts through symlinks delete nothing outside" {
    refused import whiteout-via-symlink "layer entry 'c/\.wh\.file': open parent directory: No such file"
    local canary
    canary=$(canary_listing)
    hostile whiteout-via-root
    run_strata import "$TESTDIR/whiteout-via-root.tar" wh
    [ "$(canary_listing)" = "$canary" ]
    run layer_dir wh
    # the whiteout and the opaque marker landed inside the layer
    [ "$(stat -c '%F %t:%T' "$output/$CANARY/file")" = "character special file 0:0" ]
    [ "$(getfattr --only-values -n trusted.overlay.opaque "$output/$CANARY" 2>/dev/null)" = y ] ||
        ! command -v getfattr >/dev/null
    store_clean
}

@test "hostile tar: hardlinks to outside, or through a symlink, are refused" {
    refused import hardlink-dotdot "layer entry 'hl': hardlink target '.*' is outside the layer root"
    refused import hardlink-abs "layer entry 'hl': hardlink target '/.*/canary/file' is outside the layer root"
    refused import hardlink-via-symlink \
        "layer entry 'hl': hardlink target 'c/file' is not in the layer: No such file"
    refused load hardlink-abs "layer entry 'hl': hardlink target '/.*/canary/file' is outside the layer root"
    # nothing got a new name for the canary's inode
    [ "$(stat -c %h "$CANARY/file")" = 1 ]
    store_clean
}

@test "hostile tar: a hardlink to a symlink links the symlink itself, inside the layer" {
    local canary
    canary=$(canary_listing)
    hostile hardlink-to-symlink
    run_strata import "$TESTDIR/hardlink-to-symlink.tar" h2s
    [ "$(canary_listing)" = "$canary" ]
    [ "$(stat -c %h "$CANARY/file")" = 1 ]
    run layer_dir h2s
    # the later regular file 'hl' replaced the link; 's' is still a symlink to the canary path
    [ "$(cat "$output/hl")" = "overwrite through the link" ]
    [ "$(readlink "$output/s")" = "$CANARY/file" ]
    store_clean
    # kept: 'hl' is the symlink's inode (two names), the canary keeps one name; also where
    # linkat(AT_EMPTY_PATH) is not allowed and the link goes through /proc/self/fd
    hostile hardlink-to-symlink-kept
    for ns in "" "unshare -r"; do
        [ -z "$ns" ] || unshare -r true 2>/dev/null || continue
        export STRATA_ROOT="$TESTDIR/root-kept${ns:+-userns}"
        run $ns "$STRATA" import "$TESTDIR/hardlink-to-symlink-kept.tar" kept
        [ "$status" -eq 0 ]
        local dir
        dir=$(echo "$STRATA_ROOT"/layers/*/diff)
        [ -L "$dir/hl" ] && [ "$(stat -c %h "$dir/hl")" = 2 ]
        [ "$(readlink "$dir/hl")" = "$CANARY/file" ]
        [ "$(stat -c %h "$CANARY/file")" = 1 ]
    done
    [ "$(canary_listing)" = "$canary" ]
}

@test "hostile tar: the same path twice: the last entry wins, as Docker" {
    hostile same-path-twice
    run_strata import "$TESTDIR/same-path-twice.tar" twice
    run layer_dir twice
    [ "$(cat "$output/f")" = second ]
    [ -f "$output/g" ] && [ "$(cat "$output/g")" = "a file replaces the dir" ]
    store_clean
}

@test "hostile tar: device nodes are created as root, skipped without CAP_MKNOD" {
    hostile devices
    run_strata import "$TESTDIR/devices.tar" devs
    run layer_dir devs
    local dir=$output
    if [ "$(id -u)" = 0 ]; then
        [ "$(stat -c '%F %t:%T' "$dir/dev/null")" = "character special file 1:3" ]
        [ "$(stat -c '%F %t:%T' "$dir/dev/sda")" = "block special file 8:0" ]
    fi
    [ -p "$dir/dev/fifo" ]
    store_clean
    # in a user namespace mknod of a device fails: skipped like Docker and Podman rootless
    unshare -r true 2>/dev/null || skip "no user namespaces"
    export STRATA_ROOT="$TESTDIR/userns-root"
    run unshare -r "$STRATA" import "$TESTDIR/devices.tar" devs
    [ "$status" -eq 0 ]
    dir=$(echo "$STRATA_ROOT"/layers/*/diff)
    [ ! -e "$dir/dev/null" ] && [ ! -e "$dir/dev/sda" ] && [ -p "$dir/dev/fifo" ]
    run unshare -r "$STRATA" system check
    [ "$status" -eq 0 ]
}

@test "hostile tar: names and link targets of 4096+ bytes are refused" {
    refused import long-name "layer entry 'd/d/d.*\.\.\.' has a name of 4201 bytes \(limit 4095\)"
    refused import long-component "layer entry 'nnn.*\.\.\.' has a name of 5000 bytes \(limit 4095\)"
    refused import long-link "layer entry 'l': symlink target of 5000 bytes \(limit 4095\)"
    refused load long-name "layer entry 'd/d/d.*\.\.\.' has a name of 4201 bytes \(limit 4095\)"
    store_clean
}

@test "hostile tar: a PAX header of 100 MB is refused without allocating it" {
    local before
    before=$(store_snapshot)
    python3 "$HOSTILE_TAR" pax-bomb "$TESTDIR/pax.tar" "$CANARY"
    if [ -x /usr/bin/time ]; then
        run /usr/bin/time -f 'rss=%M' "$STRATA" import "$TESTDIR/pax.tar" pax
        [ "$status" -eq 1 ]
        [[ "$output" =~ "strata: import '$TESTDIR/pax.tar': tar: Special header too large" ]]
        local rss=${output##*rss=}
        echo "peak RSS ${rss} KiB" >&2
        [ "$rss" -lt 65536 ] # far below the 100 MB header
    else
        run_strata 1 import "$TESTDIR/pax.tar" pax
        one_error_line 'tar: Special header too large'
    fi
    [ "$(store_snapshot)" = "$before" ]
    store_clean
}

@test "hostile tar: sparse entries keep their holes; a map beyond the size is refused" {
    mkdir "$TESTDIR/sp"
    truncate -s 8M "$TESTDIR/sp/holes"
    echo middle | dd of="$TESTDIR/sp/holes" bs=1 seek=4194304 conv=notrunc status=none
    tar --sparse -C "$TESTDIR/sp" -cf "$TESTDIR/sparse.tar" holes
    run_strata import "$TESTDIR/sparse.tar" sparse
    run layer_dir sparse
    cmp "$TESTDIR/sp/holes" "$output/holes"
    [ "$(du -k "$output/holes" | cut -f1)" -lt 1024 ]
    refused import sparse-beyond "layer entry 'sparse': data beyond the file size"
    store_clean
}

@test "hostile tar: a truncated stream is refused; trailing garbage is read and hashed" {
    refused import truncated "layer entry 'etc/ok': tar: Truncated tar archive"
    refused load truncated "layer entry 'etc/ok': tar: Truncated tar archive"
    # bytes after the end-of-archive blocks are ignored by extraction, as Docker does, but
    # are part of the diff ID (the whole stream is hashed)
    hostile trailing-garbage
    run_strata import "$TESTDIR/trailing-garbage.tar" trailing
    run_strata inspect --format '{{index .RootFS.Layers 0}}' trailing
    [ "$output" = "sha256:$(sha256sum "$TESTDIR/trailing-garbage.tar" | cut -d' ' -f1)" ]
    store_clean
}

@test "hostile tar: a gzip bomb stops at STRATA_MAX_LAYER_SIZE, staging removed" {
    local before
    python3 "$HOSTILE_TAR" gzip-bomb "$TESTDIR/bomb.tgz" "$CANARY"
    before=$(store_snapshot)
    export STRATA_MAX_LAYER_SIZE=16m
    run_strata 1 import "$TESTDIR/bomb.tgz" bomb
    one_error_line "layer entry 'zeros-[0-9]+': decompressed data exceeds the limit of 16777216 bytes"
    [ "$(store_snapshot)" = "$before" ]
    store_clean
    # the same layer inside a docker-archive
    python3 "$BATS_TEST_DIRNAME/fixtures/make-docker-archive.py" "$TESTDIR/bomb.tgz" \
        "$TESTDIR/bomb-archive.tar" bomb:1
    run_strata 1 load -i "$TESTDIR/bomb-archive.tar"
    one_error_line 'exceeds the limit of 16777216 bytes'
    [ "$(store_snapshot)" = "$before" ]
    store_clean
    # the bomb as the archive itself: load stops unpacking it at the same cap
    run_strata 1 load -i "$TESTDIR/bomb.tgz"
    one_error_line "read archive: .*exceeds the limit of 16777216 bytes"
    [ "$(store_snapshot)" = "$before" ]
    store_clean
    # a malformed value is a usage error
    STRATA_MAX_LAYER_SIZE=lots run_strata 125 images
    one_error_line "invalid STRATA_MAX_LAYER_SIZE 'lots'"
}

@test "hostile tar: pulled from a registry, the layer is refused and nothing is tagged" {
    skip_if_missing docker-registry
    start_registry
    local canary before
    canary=$(canary_listing)
    before=$(store_snapshot)
    for case in dotdot hardlink-abs; do
        hostile $case
        python3 "$BATS_TEST_DIRNAME/fixtures/push-raw-image.py" "$REGISTRY" "hostile/$case" 1 \
            "$TESTDIR/$case.tar"
        run_strata 1 pull -q "$REGISTRY/hostile/$case:1"
        expect_output_match "strata: .*layer entry '.*' (escapes the layer root|is outside the layer root)"
        [ "$(canary_listing)" = "$canary" ]
    done
    # the partial download of the refused layer is removed (its empty dir may stay)
    [ -z "$(ls -A "$STRATA_ROOT/partial")" ]
    diff <(echo "$before") <(store_snapshot | grep -v '^\./partial d ')
    store_clean
}
