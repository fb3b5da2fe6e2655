#!/usr/bin/env bats
# strata build, more: RUN --mount (cache, bind, tmpfs, secret), COPY --from=IMAGE, the stat
# cache.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    skip_if_no_runc
    CTX="$TESTDIR/ctx"
    mkdir -p "$CTX"
    import_base
}

teardown() {
    cleanup_containers
}

# import_base : busybox with every applet, as 'busybox'.
import_base() {
    local d="$TESTDIR/bbfull" a
    make_busybox_rootfs "$d"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
    done
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$TESTDIR/bb.tar" .
    run_strata import "$TESTDIR/bb.tar" busybox
}

# files_of IMAGE : the paths in IMAGE's top layer, one a line.
top_layer_files() {
    "$STRATA" save "$1" >"$TESTDIR/save.tar"
    rm -rf "$TESTDIR/save" && mkdir "$TESTDIR/save"
    tar -C "$TESTDIR/save" -xf "$TESTDIR/save.tar"
    local top
    top=$(sed 's/.*"Layers":\[//; s/\].*//; s/.*,//; s/"//g' "$TESTDIR/save/manifest.json")
    tar -tf "$TESTDIR/save/$top"
}

@test "build: RUN --mount=type=cache persists across builds, stays out of the layer" {
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=cache,target=/var/cache/x echo one >>/var/cache/x/log && touch /made
EOF2
    run_strata build -t c1 "$CTX"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=cache,target=/var/cache/x,sharing=locked cat /var/cache/x/log
EOF2
    run_strata build -t c2 "$CTX"
    expect_output_match '#[0-9]+ [0-9.]+ one'
    run top_layer_files c1
    [[ "$output" == *made* ]] && [[ "$output" != *var* ]]
    run_strata run --rm c1 ls /
    [[ "$output" != *var* ]]
    [ -n "$(ls "$STRATA_ROOT/cache/mounts")" ]
    run_strata builder prune
    [ ! -e "$STRATA_ROOT/cache/mounts" ]
}

@test "build: RUN --mount=type=cache,id= shares between targets; uid/gid/mode" {
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=cache,id=shared,target=/a,uid=1000,gid=1000,mode=0700 echo x >/a/f
RUN --mount=type=cache,id=shared,target=/b stat -c '%u:%g %a' /b && cat /b/f
EOF2
    run_strata build -t c3 "$CTX"
    expect_output_match '1000:1000 700'
    expect_output_match '#3 [0-9.]+ x'
}

@test "build: RUN --mount=type=bind: context read-only, rw discarded, from= stage, key" {
    echo v1 >"$CTX/data.txt"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox AS gen
RUN echo from-stage >/gen.txt
FROM busybox
RUN --mount=type=bind,target=/src cat /src/data.txt && ! touch /src/new 2>/dev/null
RUN --mount=type=bind,source=data.txt,target=/d.txt,rw echo changed >/d.txt && cat /d.txt
RUN --mount=type=bind,from=gen,source=/gen.txt,target=/g cat /g
EOF2
    run_strata build -t b1 "$CTX"
    expect_output_match '[0-9.]+ v1'
    expect_output_match '[0-9.]+ changed'
    expect_output_match '[0-9.]+ from-stage'
    [ "$(cat "$CTX/data.txt")" = v1 ]
    run_strata run --rm b1 ls /
    [[ "$output" != *src* ]] && [[ "$output" != *d.txt* ]]
    run_strata build -t b1 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 4 ]
    echo v2 >"$CTX/data.txt"
    run_strata build -t b1 "$CTX"
    expect_output_match '[0-9.]+ v2'
}

@test "build: RUN --mount=type=tmpfs" {
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=tmpfs,target=/scratch,size=1m echo x >/scratch/f && grep -q ' /scratch tmpfs' /proc/mounts
EOF2
    run_strata build -t t1 "$CTX"
    run_strata run --rm t1 ls /
    [[ "$output" != *scratch* ]]
}

@test "build: RUN --mount=type=secret never lands in a layer, the history or the key" {
    printf TOPSECRET-1234 >"$TESTDIR/tok"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=secret,id=tok grep -q SECRET-1234 /run/secrets/tok && stat -c %a /run/secrets/tok
RUN --mount=type=secret,id=tok,env=TOK,target=/s test "${TOK#TOP}" = SECRET-1234 && cp /s /copied
RUN --mount=type=secret,id=absent echo optional-ok
EOF2
    run_strata build -t s1 --secret id=tok,src="$TESTDIR/tok" "$CTX"
    expect_output_match '[0-9.]+ 400'
    expect_output_match 'optional-ok'
    run_strata run --rm s1 cat /copied
    expect_output TOPSECRET-1234
    "$STRATA" save s1 >"$TESTDIR/s1.tar"
    rm -rf "$TESTDIR/s1" && mkdir "$TESTDIR/s1" && tar -C "$TESTDIR/s1" -xf "$TESTDIR/s1.tar"
    for f in "$TESTDIR"/s1/blobs/sha256/*; do
        ! zcat -f "$f" | grep -a -q TOPSECRET || zcat -f "$f" | tar -t 2>/dev/null | grep -qx copied
    done
    run_strata history --no-trunc s1
    [[ "$output" != *TOPSECRET* ]]
    run_strata run --rm s1 ls /
    ! grep -qxE 'run|s' <<<"$output" || false
    # the secret's content is not in the key: another value still hits the cache
    echo 'OTHER' >"$TESTDIR/tok2"
    run_strata build -t s1 --secret id=tok,src="$TESTDIR/tok2" "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 3 ]
    # required and missing
    printf 'FROM busybox\nRUN --mount=type=secret,id=nope,required true\n' >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match 'secret nope: not provided'
}

@test "build: COPY --from=IMAGE copies from a local image that is not a stage" {
    printf 'FROM busybox\nRUN mkdir /pkg && echo from-image >/pkg/file && chown 7:7 /pkg/file\n' \
        >"$CTX/Dockerfile"
    run_strata build -t lib:1 "$CTX"
    printf 'FROM busybox\nCOPY --from=lib:1 /pkg/file /got\n' >"$CTX/Dockerfile"
    run_strata build -t user1 "$CTX"
    run_strata run --rm user1 stat -c '%u:%g' /got
    expect_output 7:7
    run_strata run --rm user1 cat /got
    expect_output from-image
    run_strata build -t user1 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 1 ]
    printf 'FROM busybox\nCOPY --from=nope:1 /x /x\n' >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    # a missing image is pulled first; this one exists nowhere (and there is no network here)
    expect_output_match "Unable to find image 'nope:1' locally"
    expect_output_match "strata: pull 'nope:1': "
}

@test "build: an unchanged context is hashed from the stat cache; touch still hits" {
    echo data >"$CTX/f.txt"
    sleep 0.1
    printf 'FROM busybox\nCOPY f.txt /f.txt\n' >"$CTX/Dockerfile"
    run_strata build -t sc "$CTX"
    run_strata build -t sc "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 1 ]
    touch "$CTX/f.txt"
    run_strata build -t sc "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 1 ]
    echo changed >"$CTX/f.txt"
    run_strata build -t sc "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 0 ]
}
