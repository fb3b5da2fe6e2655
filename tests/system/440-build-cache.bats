#!/usr/bin/env bats
# strata build's cache: --explain, --no-cache-filter, builder prune --keep-storage/--filter,
# the automatic size cap (STRATA_BUILD_CACHE_MAX).

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    export STRATA_CONFIG_DIR="$BATS_TEST_TMPDIR/etc" DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    unset REGISTRY_AUTH_FILE STRATA_TRACE STRATA_BUILD_CACHE_MAX
    skip_if_no_runc
    CTX="$TESTDIR/ctx"
    mkdir -p "$CTX"
    import_run_image
}

teardown() {
    cleanup_containers
}

# step_lines REGEX : the lines after the header of the step matching REGEX, without "#N " and
# times.
step_lines() {
    local id
    id=$(grep -E "^#[0-9]+ $1" <<<"$output" | head -1 | cut -d' ' -f1)
    [ -n "$id" ] || return 1
    grep "^$id " <<<"$output" | tail -n +2 | sed -e "s/^$id //" -e 's/ [0-9.]*s$//'
}

# misses : the "cache miss" lines of the last output, without the step numbers.
misses() {
    grep 'cache miss: ' <<<"$output" | sed 's/^#[0-9]* //' || true
}

@test "build --explain: nothing to explain on an unchanged or mtime-only rebuild" {
    echo a >"$CTX/a.txt" && echo b >"$CTX/b.txt"
    printf 'FROM busybox\nCOPY a.txt b.txt /d/\nRUN cat /d/a.txt /d/b.txt >/both\n' >"$CTX/Dockerfile"
    run_strata build --explain -t one "$CTX"
    [ "$(grep -c 'cache miss: no earlier build of this step' <<<"$output")" = 2 ]
    run_strata build --explain -t one "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 2 ]
    [ -z "$(misses)" ]
    touch -d '2001-01-01 00:00:00' "$CTX/a.txt" "$CTX/b.txt"
    run_strata build --explain -t one "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 2 ]
    [ -z "$(misses)" ]
}

@test "build --explain: names the COPY source that changed, and how" {
    mkdir -p "$CTX/src"
    echo a >"$CTX/a.txt" && echo b >"$CTX/b.txt" && echo m >"$CTX/src/main.c"
    ln -s main.c "$CTX/src/ln"
    printf 'FROM busybox\nCOPY a.txt b.txt /d/\nCOPY src/ /src/\nRUN ls /d /src >/list\n' \
        >"$CTX/Dockerfile"
    run_strata build -q "$CTX"
    echo changed >"$CTX/a.txt"
    run_strata build --explain "$CTX"
    [ "$(misses)" = "$(printf '%s\n' \
        "cache miss: file 'a.txt' changed: content" \
        "cache miss: parent step [2/4] COPY a.txt b.txt /d/ was rebuilt" \
        "cache miss: parent step [3/4] COPY src/ /src/ was rebuilt")" ]
    chmod 755 "$CTX/b.txt"
    ln -sf new.h "$CTX/src/ln"
    echo new >"$CTX/src/new.h"
    rm "$CTX/src/main.c"
    run_strata build --explain "$CTX"
    expect_output_match "#[0-9]+ cache miss: file 'b.txt' changed: mode 644 -> 755"
    expect_output_match "#[0-9]+ cache miss: file 'src/ln' changed: link target"
    expect_output_match "#[0-9]+ cache miss: file 'src/main.c' removed"
    expect_output_match "#[0-9]+ cache miss: file 'src/new.h' added"
    [[ "$output" != *"'a.txt'"* ]]
    for i in $(seq 1 15); do echo "$i" >"$CTX/src/f$i"; done
    run_strata build -q "$CTX"
    for i in $(seq 1 15); do echo "x$i" >"$CTX/src/f$i"; done
    run_strata build --explain "$CTX"
    [ "$(grep -c "cache miss: file 'src/f[0-9]*' changed: content" <<<"$output")" = 10 ]
    expect_output_match "cache miss: and 5 more files changed"
}

@test "build --explain: names the build arg, the env value and the earlier RUN" {
    printf 'FROM busybox\nARG V=1\nENV E=x\nRUN echo $V $E >/out\nRUN echo one >/one\nRUN echo two >/two\n' \
        >"$CTX/Dockerfile"
    run_strata build -q "$CTX"
    run_strata build --explain --build-arg V=2 "$CTX"
    [ "$(misses)" = "$(printf '%s\n' \
        "cache miss: build arg V changed: '1' -> '2'" \
        'cache miss: parent step [2/4] RUN echo $V $E >/out was rebuilt' \
        'cache miss: parent step [3/4] RUN echo one >/one was rebuilt')" ]
    sed -i 's/ENV E=x/ENV E=y/' "$CTX/Dockerfile"
    run_strata build --explain --build-arg V=2 "$CTX"
    expect_output_match "#[0-9]+ cache miss: env E changed: 'x' -> 'y'"
    [[ "$output" != *"build arg"* ]]
    sed -i 's/echo one/echo uno/' "$CTX/Dockerfile"
    run_strata build --explain --build-arg V=2 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 1 ]
    [ "$(misses)" = "$(printf '%s\n' \
        "cache miss: instruction changed: 'RUN /bin/sh -c echo one >/one' -> 'RUN /bin/sh -c echo uno >/one'" \
        'cache miss: parent step [3/4] RUN echo uno >/one was rebuilt')" ]
}

@test "build --explain: names a base image that changed, and an evicted entry" {
    printf 'FROM busybox\nRUN echo hi >/hi\n' >"$CTX/Dockerfile"
    run_strata build -q -t hi "$CTX"
    old=$("$STRATA" inspect --format '{{.Id}}' busybox)
    mkdir -p "$TESTDIR/extra/etc" && echo more >"$TESTDIR/extra/etc/more"
    cp "$TESTDIR/bbrun.tar" "$TESTDIR/bb2.tar"
    tar -C "$TESTDIR/extra" -rf "$TESTDIR/bb2.tar" ./etc/more
    run_strata import "$TESTDIR/bb2.tar" busybox
    new=$("$STRATA" inspect --format '{{.Id}}' busybox)
    run_strata build --explain -t hi "$CTX"
    expect_output_match "cache miss: base image changed: 'busybox \\(${old:0:19}\\)' -> 'busybox \\(${new:0:19}\\)'"
    run_strata rmi hi
    run_strata builder prune --keep-storage 0
    run_strata build --explain "$CTX"
    expect_output_match "cache miss: the earlier build's layer is no longer in the cache"
    run_strata builder prune -af
    run_strata build --explain "$CTX"
    expect_output_match "cache miss: no earlier build of this step"
}

@test "build --no-cache-filter: rebuilds only the named stage" {
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox AS gen
RUN cat /proc/sys/kernel/random/uuid >/stamp
FROM busybox AS final
RUN echo final >/f
COPY --from=gen /stamp /stamp
EOF2
    run_strata build -t v1 "$CTX"
    run_strata run --rm v1 cat /stamp
    first=$output
    run_strata build --explain --no-cache-filter gen -t v2 "$CTX"
    expect_output_match "#[0-9]+ \[gen 2/2\] RUN cat /proc/sys/kernel/random/uuid >/stamp
#[0-9]+ cache miss: --no-cache-filter"
    expect_output_match "#[0-9]+ \[final 2/3\] RUN echo final >/f
#[0-9]+ CACHED"
    expect_output_match "cache miss: file 'stamp' changed: content"
    run_strata run --rm v2 cat /stamp
    [ "$output" != "$first" ]
    second=$output
    # the rebuilt stage's new layer is what later builds reuse
    run_strata build --explain -t v3 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 3 ]
    run_strata run --rm v3 cat /stamp
    [ "$output" = "$second" ]
    run_strata build --explain --no-cache-filter FINAL,final -t v4 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 1 ]
    [ "$(grep -c 'cache miss: --no-cache-filter' <<<"$output")" = 2 ]
    run_strata 1 build --no-cache-filter nope "$CTX"
    expect_output 'strata: no-cache-filter stage "nope" could not be found'
    run_strata system check
}

# build_blob NAME : builds an image NAME from a context holding 300000 random bytes.
build_blob() {
    mkdir -p "$TESTDIR/$1"
    head -c 300000 /dev/urandom >"$TESTDIR/$1/data"
    printf 'FROM busybox\nCOPY data /%s\n' "$1" >"$TESTDIR/$1/Dockerfile"
    run_strata build -q -t "$1" "$TESTDIR/$1"
}

@test "builder prune --keep-storage: drops the least recently used entries, images intact" {
    build_blob a
    sleep 1
    build_blob b
    sleep 1
    build_blob c
    sleep 1
    run_strata build -t a "$TESTDIR/a" # a becomes the most recently used
    expect_output_match CACHED
    printf 'FROM busybox\nRUN echo kept >/x\n' >"$CTX/Dockerfile"
    run_strata build -q -t keep "$CTX"
    run_strata rmi a b c
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +[0-9]+\ +0\ +900(\.[0-9])?kB ]]
    run_strata builder prune -f --keep-storage 400k
    expect_output_match "Deleted build cache objects: 2"
    expect_output_match "Total reclaimed space: [0-9.]+[kM]B"
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +[0-9]+\ +0\ +300kB ]]
    run_strata build --explain "$TESTDIR/a"
    expect_output_match CACHED
    run_strata build --explain "$TESTDIR/b"
    expect_output_match "cache miss: the earlier build's layer is no longer in the cache"
    run_strata run --rm keep cat /x
    expect_output kept
    run_strata system check
    expect_output_match "the store is clean"
}

@test "builder prune --filter until: keeps what was used recently" {
    printf 'FROM busybox\nRUN echo x >/x\n' >"$CTX/Dockerfile"
    run_strata build -q "$CTX"
    run_strata builder prune --filter until=1h
    expect_output_match "Deleted build cache objects: 0"
    sleep 2
    run_strata builder prune --filter until=1s
    expect_output_match "Deleted build cache objects: [1-9]"
    run_strata build "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 0 ]
    run_strata 125 builder prune --filter dangling=true
    expect_output_match "strata: invalid value 'dangling=true': expected --keep-storage SIZE or --filter until=DURATION"
    run_strata 125 builder prune --filter until=soon
    run_strata 125 builder prune --keep-storage lots
}

@test "build: STRATA_BUILD_CACHE_MAX caps the build cache after each build" {
    build_blob a
    run_strata rmi a
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +[0-9]+\ +0\ +300kB ]]
    sleep 1 # last-use times have a resolution of a second
    STRATA_BUILD_CACHE_MAX=0 build_blob b # no cap
    run_strata rmi b
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +[0-9]+\ +0\ +600kB ]]
    STRATA_BUILD_CACHE_MAX=350k build_blob c
    run_strata system df
    [[ "${lines[4]}" =~ ^Build\ Cache\ +[0-9]+\ +0\ +300kB ]]
    run_strata build --explain "$TESTDIR/b" # b was used last: it stays
    expect_output_match CACHED
    run_strata build --explain "$TESTDIR/a"
    expect_output_match "cache miss: the earlier build's layer is no longer in the cache"
    STRATA_BUILD_CACHE_MAX=lots run_strata build -q "$TESTDIR/c"
    expect_output_match "invalid STRATA_BUILD_CACHE_MAX 'lots', ignoring"
    run_strata run --rm c cat /c >/dev/null
    run_strata system check
    expect_output_match "the store is clean"
}

@test "build --explain: the step records of stages built in parallel threads are kept" {
    echo a >"$CTX/a.txt" && echo b >"$CTX/b.txt"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox AS one
COPY a.txt /a.txt
RUN cat /a.txt >/one
FROM busybox AS two
COPY b.txt /b.txt
RUN cat /b.txt >/two
FROM busybox
COPY --from=one /one /one
COPY --from=two /two /two
EOF2
    run_strata build --explain -t par1 "$CTX"
    [ "$(grep -c 'cache miss: no earlier build of this step' <<<"$output")" = 6 ]
    echo b2 >"$CTX/b.txt"
    run_strata build --explain -t par2 "$CTX"
    # stage one (a thread of its own) hit; stage two (another thread) tells what changed;
    # the stages' lines interleave, so each step's are found by its "#N"
    [ "$(step_lines '\[one 2/3\] COPY a.txt')" = CACHED ]
    [ "$(step_lines '\[two 2/3\] COPY b.txt')" = "cache miss: file 'b.txt' changed: content
DONE" ]
    expect_output_match "cache miss: file 'two' changed: content"
    [[ "$output" != *"no earlier build"* ]]
    run_strata build --explain -t par3 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 6 ]
    [ -z "$(misses)" ]
    run_strata run --rm par3 cat /one /two
    expect_output "a
b2"
}

@test "build --no-cache-filter and COPY --link: the link key is not used for the stage" {
    echo a >"$CTX/a.txt"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox AS base
RUN cat /proc/sys/kernel/random/uuid >/stamp
FROM base AS final
COPY --link a.txt /a.txt
EOF2
    run_strata build -t lk1 "$CTX"
    run_strata build --explain --no-cache-filter final -t lk2 "$CTX"
    expect_output_match "#[0-9]+ \[final 2/2\] COPY --link a.txt /a.txt
#[0-9]+ cache miss: --no-cache-filter"
    # base rebuilt (new layer, same key): the --link layer is put on it, not rebuilt, and fits
    run_strata build --explain --no-cache-filter base -t lk3 "$CTX"
    expect_output_match "#[0-9]+ \[final 2/2\] COPY --link a.txt /a.txt
#[0-9]+ CACHED"
    [ "$(misses)" = "cache miss: --no-cache-filter" ]
    local a b
    a=$("$STRATA" inspect --format '{{json .RootFS.Layers}}' lk2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1])')
    b=$("$STRATA" inspect --format '{{json .RootFS.Layers}}' lk3 | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1])')
    [ "$a" = "$b" ]
    run_strata run --rm lk3 cat /stamp
    stamp=$output
    run_strata run --rm lk3 cat /a.txt
    expect_output a
    run_strata build --explain -t lk4 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 2 ]
    run_strata run --rm lk4 cat /stamp
    [ "$output" = "$stamp" ]
    run_strata system check
    expect_output_match "the store is clean"
}

@test "build --explain: a COPY heredoc that changed is named" {
    printf 'FROM busybox\nARG V=1\nCOPY <<EOF /h.txt\nv=$V\nEOF\nRUN cat /h.txt >/out\n' >"$CTX/Dockerfile"
    run_strata build -q "$CTX"
    run_strata build --explain "$CTX"
    [ -z "$(misses)" ]
    sed -i 's/^v=.*/w=$V/' "$CTX/Dockerfile"
    run_strata build --explain "$CTX"
    expect_output_match "#[0-9]+ cache miss: file '<<EOF' changed: content"
}

@test "build --no-cache of unchanged content: the same layer, its big copy removed in the background" {
    mkdir -p "$CTX/big"
    head -c 70000000 /dev/zero >"$CTX/big/zeros"
    for i in $(seq 1 200); do echo "$i" >"$CTX/big/f$i"; done
    printf 'FROM busybox\nCOPY big /big\nRUN echo small >/small\n' >"$CTX/Dockerfile"
    run_strata build -q -t one "$CTX"
    run_strata build -q --no-cache -t two "$CTX"
    # the COPY layer is the same one (the RUN's differs: its file has a new mtime)
    [ "$("$STRATA" inspect --format '{{index .RootFS.Layers 1}}' one)" = \
        "$("$STRATA" inspect --format '{{index .RootFS.Layers 1}}' two)" ]
    # its 70 MB copy is removed by a detached "strata-rm" process, which also drops its lock
    local i
    for i in $(seq 1 100); do
        [ -z "$(ls -A "$STRATA_ROOT/tmp")" ] && break
        sleep 0.1
    done
    [ -z "$(ls -A "$STRATA_ROOT/tmp")" ]
    run_strata system check
    expect_output_match 'the store is clean'
    run_strata run --rm two cat /small
    expect_output small
}
