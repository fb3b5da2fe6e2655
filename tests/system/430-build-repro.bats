#!/usr/bin/env bats
# strata build, reproducible: SOURCE_DATE_EPOCH (two stores, two times, same image), the
# cache and the epoch, RUN layers free of the runtime's mount stubs.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    skip_if_no_runc
    CTX="$TESTDIR/ctx"
    mkdir -p "$CTX"
}

teardown() {
    cleanup_containers
}

EPOCH=1700000000

# base_in ROOT... : the same busybox image (same ID) in every ROOT: imported once, saved,
# loaded into the others.
base_in() {
    import_run_image busybox
    "$STRATA" save busybox >"$TESTDIR/base.tar"
    local r
    for r in "$@"; do
        run_strata --root "$r" load -i "$TESTDIR/base.tar"
    done
}

write_ctx() {
    mkdir -p "$CTX/src/sub"
    echo one >"$CTX/src/a.txt"
    echo two >"$CTX/src/sub/b.txt"
    ln -sf a.txt "$CTX/src/link"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
ENV APP=/app MODE=repro
COPY src/ /app/
RUN mkdir -p /opt/x && echo made >/opt/x/made && ln /opt/x/made /opt/x/hard && rm /notexec
WORKDIR /app/work
COPY --chmod=600 src/a.txt /app/private
CMD ["cat", "/opt/x/made"]
EOF2
}

# manifest_of ROOT ID : the manifest digest the store recorded for the image ID.
manifest_of() {
    sqlite3 "$1/strata.db" "SELECT manifest_digest FROM images WHERE id = '$2'"
}

# listing ROOT : images --digests --no-trunc without the CREATED column (relative time).
listing() {
    "$STRATA" --root "$1" images --digests --no-trunc --format '{{.Repository}} {{.Tag}} {{.Digest}} {{.ID}} {{.Size}}'
}

@test "build: SOURCE_DATE_EPOCH gives the same image on two stores at two times (gzip, zstd)" {
    local r1="$TESTDIR/r1" r2="$TESTDIR/r2" comp
    base_in "$r1" "$r2"
    write_ctx
    for comp in gzip zstd; do
        run_strata --root "$r1" build -q --compression "$comp" \
            --build-arg SOURCE_DATE_EPOCH=$EPOCH -t "app-$comp" "$CTX"
        local id1=$output
        sleep 2
        touch "$CTX"/src/a.txt "$CTX"/src/sub/b.txt "$CTX"/src/sub "$CTX/src"
        # the variable alone (as buildx passes it on)
        SOURCE_DATE_EPOCH=$EPOCH run_strata --root "$r2" build -q --compression "$comp" \
            -t "app-$comp" "$CTX"
        local id2=$output
        [ "$id1" = "$id2" ]
        [ -n "$(manifest_of "$r1" "$id1")" ]
        [ "$(manifest_of "$r1" "$id1")" = "$(manifest_of "$r2" "$id2")" ]
    done
    run listing "$r1"
    local l1=$output
    run listing "$r2"
    [ "$output" = "$l1" ]
    [[ "$output" == *app-zstd* ]]
    # every new history entry and the config carry the epoch; the base's keep theirs
    run_strata --root "$r1" inspect --format '{{.Created}}' app-gzip
    expect_output '2023-11-14T22:13:20Z'
    run bash -c "'$STRATA' --root '$r1' history --no-trunc --format '{{.CreatedAt}}|{{.CreatedBy}}' app-gzip | head -6"
    [ "$(grep -c '^2023-11-14T22:13:20' <<<"$output")" = 6 ]
    # the gzip header has no mtime, and the layer dirs still match what was recorded
    local blob
    for blob in "$r1"/blobs/sha256/*; do
        if [ "$(head -c2 "$blob" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
            [ "$(head -c8 "$blob" | tail -c4 | od -An -tx1 | tr -d ' ')" = 00000000 ]
        fi
    done
    run_strata --root "$r1" system check
    run_strata --root "$r2" system check
}

@test "build: SOURCE_DATE_EPOCH clamps newer mtimes only" {
    base_in
    mkdir -p "$CTX"
    echo old >"$CTX/old" && touch -d @1000 "$CTX/old"
    echo new >"$CTX/new"
    printf 'FROM busybox\nCOPY old new /c/\nRUN touch /made\n' >"$CTX/Dockerfile"
    run_strata build -q --build-arg SOURCE_DATE_EPOCH=$EPOCH -t clamp "$CTX"
    run_strata run --rm clamp stat -c '%n %Y' /c/old /c/new /c /made
    expect_output "/c/old 1000
/c/new $EPOCH
/c $EPOCH
/made $EPOCH"
    # the base's files are older than the epoch: untouched
    run_strata run --rm clamp stat -c '%Y' /bin/busybox
    expect_output 0
    # a bad value is a usage error
    run_strata 125 build --build-arg SOURCE_DATE_EPOCH=soon "$CTX"
    expect_output_match 'invalid SOURCE_DATE_EPOCH'
}

@test "build: a layer cached without SOURCE_DATE_EPOCH is not reused with it, and back" {
    base_in
    write_ctx
    run_strata build -q -t plain "$CTX"
    local plain=$output
    run_strata build --build-arg SOURCE_DATE_EPOCH=$EPOCH -t epoch "$CTX"
    [[ "$output" != *CACHED* ]]
    [[ "$output" != *"not consumed"* ]]
    run_strata inspect --format '{{.Id}}' epoch
    [ "$output" != "$plain" ]
    local epoch_id=$output
    run_strata build "$CTX"
    expect_output_match CACHED
    run_strata build -q "$CTX"
    [ "$output" = "$plain" ]
    run_strata build -q --build-arg SOURCE_DATE_EPOCH=$EPOCH "$CTX"
    [ "$output" = "$epoch_id" ]
    # another epoch is another image
    run_strata build -q --build-arg SOURCE_DATE_EPOCH=1600000000 "$CTX"
    [ "$output" != "$epoch_id" ] && [ "$output" != "$plain" ]
}

# layer_list IMAGE N : the entries of IMAGE's Nth layer (1 = the lowest), one a line.
layer_list() {
    rm -rf "$TESTDIR/save" && mkdir "$TESTDIR/save"
    "$STRATA" save "$1" | tar -C "$TESTDIR/save" -xf -
    local l
    l=$(jq -r ".[0].Layers[$(($2 - 1))]" "$TESTDIR/save/manifest.json")
    tar -tzf "$TESTDIR/save/$l"
}

@test "build: a RUN that changes nothing gives an empty layer (no /etc, /dev, /proc stubs)" {
    cp /bin/busybox "$CTX/busybox"
    printf 'FROM scratch\nCOPY busybox /busybox\nRUN ["/busybox", "true"]\n' >"$CTX/Dockerfile"
    run_strata build -t nothing "$CTX"
    run layer_list nothing 1
    expect_output busybox
    run layer_list nothing 2
    expect_output ''
    # a base that has /etc (but no /etc/hosts): overlay copies /etc up for runc's stub; the
    # layer still has nothing, as with Docker
    base_in
    printf 'FROM busybox\nRUN true\nRUN mkdir -p /etc/new && rm /etc/group\n' >"$CTX/Dockerfile"
    run_strata build -t nothing2 "$CTX"
    run layer_list nothing2 2
    expect_output ''
    run layer_list nothing2 3
    expect_output 'etc/
etc/.wh.group
etc/new/'
}
