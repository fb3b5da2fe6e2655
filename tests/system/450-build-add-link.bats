#!/usr/bin/env bats
# strata build: ADD of URLs (a local python3 file server), COPY/ADD heredocs, COPY --link.
# None of these tests needs runc: they look at the layers the build writes.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    export STRATA_CONFIG_DIR="$TESTDIR/etc" DOCKER_CONFIG="$TESTDIR/docker"
    CTX="$TESTDIR/ctx"
    SRV="$TESTDIR/srv"
    mkdir -p "$CTX" "$SRV"
}

teardown() {
    [ -n "${HTTP_PID:-}" ] && kill "$HTTP_PID" 2>/dev/null && wait "$HTTP_PID" 2>/dev/null
    return 0
}

# start_http [--tls] : fixtures/http-files.py serving $SRV; sets HTTP (host:port), HTTP_LOG.
start_http() {
    local port scheme=http
    port=$(free_port)
    HTTP_LOG="$TESTDIR/http.log"
    : >"$HTTP_LOG"
    if [ "${1:-}" = --tls ]; then
        make_test_ca "$TESTDIR/tls"
        python3 "$BATS_TEST_DIRNAME/fixtures/http-files.py" "$port" "$SRV" "$HTTP_LOG" \
            "$TESTDIR/tls/server.crt" "$TESTDIR/tls/server.key" &
        scheme=https
    else
        python3 "$BATS_TEST_DIRNAME/fixtures/http-files.py" "$port" "$SRV" "$HTTP_LOG" &
    fi
    HTTP_PID=$!
    HTTP=127.0.0.1:$port
    wait_http "$scheme://$HTTP/"
}

# top_layer_list IMAGE : "MODE UID/GID NAME" of the top layer's entries, one a line.
top_layer_list() {
    tar -tvf "$(layer_tar "$1" -1)" | awk '{print $1, $2, $6}'
}

diff_ids() {
    "$STRATA" inspect --format '{{json .RootFS.Layers}}' "$1"
}

@test "build: ADD URL saves the file as is (0600, Last-Modified mtime, archives not extracted)" {
    echo "hello from the server" >"$SRV/file.txt"
    touch -d '2020-01-02 03:04:05 UTC' "$SRV/file.txt"
    tar -C "$SRV" -czf "$SRV/arch.tar.gz" file.txt
    start_http
    cat >"$CTX/Dockerfile" <<EOF
FROM scratch
ADD http://$HTTP/file.txt /dl/
ADD http://$HTTP/arch.tar.gz /arch/
ADD --chmod=644 --chown=7:8 http://$HTTP/file.txt /named
EOF
    run_strata build -t add-url "$CTX"
    local l
    l=$(layer_tar add-url 1)
    run tar -tvf "$l" --full-time
    expect_output_match '-rw------- 0/0 +22 2020-01-02 03:04:05 dl/file.txt'
    [ "$(tar -xOf "$l" dl/file.txt)" = "hello from the server" ]
    l=$(layer_tar add-url 2)
    run tar -tvf "$l"
    expect_output_match '-rw------- 0/0 .* arch/arch.tar.gz'
    [[ "$output" != *arch/file.txt* ]]
    cmp <(tar -xOf "$l" arch/arch.tar.gz) "$SRV/arch.tar.gz"
    run top_layer_list add-url
    expect_output "-rw-r--r-- 7/8 named"
    run_strata history --no-trunc add-url
    expect_output_match "ADD http://$HTTP/file.txt /dl/ # buildkit"
}

@test "build: ADD URL follows redirects, names the file after the URL, no credentials offsite" {
    echo payload >"$SRV/target.bin"
    start_http
    local port=${HTTP#*:}
    cat >"$CTX/Dockerfile" <<EOF
FROM scratch
ADD http://$HTTP/alias /r/
ADD http://user:secret@$HTTP/offsite/target.bin /o/
ADD http://$HTTP/ /u/
EOF
    echo index >"$SRV/index.html"
    run_strata build -t add-redir "$CTX"
    run tar -tf "$(layer_tar add-redir 1)"
    expect_output_match 'r/alias'
    [[ "$output" != *target.bin* ]]
    [ "$(tar -xOf "$(layer_tar add-redir 1)" r/alias)" = payload ]
    [ "$(tar -xOf "$(layer_tar add-redir 2)" o/target.bin)" = payload ]
    run tar -tf "$(layer_tar add-redir 3)"
    expect_output_match 'u/__unnamed__'
    # the credentials went to 127.0.0.1, never to localhost (another origin)
    grep -qx '/offsite/target.bin auth=yes' "$HTTP_LOG"
    grep -qx '/target.bin auth=no' "$HTTP_LOG"
    ! grep -q 'auth=yes' <(grep -v offsite "$HTTP_LOG")
    # the password is masked in the history, in the config and in the store's records
    run_strata history --no-trunc --format '{{.CreatedBy}}' add-redir
    expect_output_match "ADD http://user:xxxxx@$HTTP/offsite/target.bin /o/"
    [[ "$output" != *secret* ]]
    ! grep -rqa "user:secret" "$STRATA_ROOT/blobs" "$STRATA_ROOT"/strata.db* || false
}

@test "build: ADD URL errors: 404, redirect loop, connection refused; store unchanged" {
    start_http
    run_strata import <(make_busybox_tar /dev/stdout) base
    local before
    before=$(store_snapshot)
    printf 'FROM base\nADD http://%s/missing /x\n' "$HTTP" >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match "strata: failed to download http://$HTTP/missing: 404 File not found"
    printf 'FROM base\nADD http://%s/loop /x\n' "$HTTP" >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match "strata: failed to download http://$HTTP/loop: stopped after 10 redirects"
    [ "$(grep -c '^/loop' "$HTTP_LOG")" = 11 ]
    printf 'FROM base\nADD http://127.0.0.1:%s/x /x\n' "$(free_port)" >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match "strata: failed to download http://127.0.0.1:[0-9]+/x: .*onnect"
    [ "$(store_snapshot)" = "$before" ]
}

@test "build: ADD --checksum verifies before anything lands; a hit needs no download" {
    echo "checked content" >"$SRV/c.txt"
    start_http
    local sum
    sum=$(sha256sum "$SRV/c.txt" | cut -c1-64)
    run_strata import <(make_busybox_tar /dev/stdout) base
    local before
    before=$(store_snapshot)
    printf 'FROM base\nADD --checksum=sha256:%s http://%s/c.txt /c\n' "$(printf 0%.0s {1..64})" "$HTTP" >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match "strata: ADD http://$HTTP/c.txt: checksum mismatch: expected sha256:$(printf 0%.0s {1..64}), got sha256:$sum"
    [ "$(store_snapshot)" = "$before" ]

    printf 'FROM base\nADD --checksum=sha256:%s http://%s/c.txt /c\n' "$sum" "$HTTP" >"$CTX/Dockerfile"
    run_strata build -t ck1 "$CTX"
    [ "$(tar -xOf "$(layer_tar ck1 -1)" c)" = "checked content" ]
    local n
    n=$(grep -c '^/c.txt' "$HTTP_LOG")
    # the checksum is the key: a rebuild downloads nothing, even with the server gone
    kill "$HTTP_PID" && wait "$HTTP_PID" 2>/dev/null || true
    HTTP_PID=
    run_strata build -t ck2 "$CTX"
    expect_output_match '#[0-9]+ CACHED'
    [ "$(grep -c '^/c.txt' "$HTTP_LOG")" = "$n" ]
    [ "$(diff_ids ck1)" = "$(diff_ids ck2)" ]
}

@test "build: ADD URL without --checksum is keyed by content; --checksum misuse is refused" {
    echo one >"$SRV/v.txt"
    start_http
    printf 'FROM scratch\nADD http://%s/v.txt /v\n' "$HTTP" >"$CTX/Dockerfile"
    run_strata build -t v1 "$CTX"
    run_strata build -t v1b "$CTX"
    expect_output_match '#[0-9]+ CACHED'
    [ "$(grep -c '^/v.txt' "$HTTP_LOG")" = 2 ] # downloaded again, then found by content
    echo two >"$SRV/v.txt"
    run_strata build -t v2 "$CTX"
    [[ "$output" != *CACHED* ]]
    [ "$(tar -xOf "$(layer_tar v2 -1)" v)" = two ]

    echo local >"$CTX/local.txt"
    printf 'FROM scratch\nADD --checksum=sha256:%s local.txt /x\n' "$(printf a%.0s {1..64})" >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match "strata: Dockerfile:2: checksum can't be specified for non-HTTP\(S\) sources"
    printf 'FROM scratch\nCOPY http://%s/v.txt /x\n' "$HTTP" >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match "strata: Dockerfile:2: source can't be a URL for COPY"
    printf 'FROM scratch\nADD http://%s/v.txt local.txt /x\n' "$HTTP" >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match "the destination must be a directory and end with a /"
}

@test "build: ADD https URL: certificate verified, CA from certs.d" {
    skip_if_missing openssl
    echo secure >"$SRV/s.txt"
    start_http --tls
    printf 'FROM scratch\nADD https://%s/s.txt /s\n' "$HTTP" >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match "strata: failed to download https://$HTTP/s.txt: .*(certificate|SSL)"
    mkdir -p "$STRATA_CONFIG_DIR/certs.d/$HTTP"
    cp "$TESTDIR/tls/ca.crt" "$STRATA_CONFIG_DIR/certs.d/$HTTP/ca.crt"
    run_strata build -t tls1 "$CTX"
    [ "$(tar -xOf "$(layer_tar tls1 -1)" s)" = secure ]
}

@test "build: COPY heredocs: names, 0644, expansion unless quoted, several to a dir" {
    cat >"$CTX/Dockerfile" <<'XEOF2'
FROM scratch
ENV NAME=world
ARG WHO=arg
COPY <<EOF /greeting
hello $NAME 'quoted' "dq" \$NAME ${WHO}
EOF
COPY --chmod=755 <<A <<"B" /dir/
a: $NAME
A
b: $NAME
B
ADD <<-EOT /add.txt
	tabs stripped
	EOT
XEOF2
    run_strata build -t hd "$CTX"
    local l
    l=$(layer_tar hd 1)
    run tar -tvf "$l"
    expect_output_match '-rw-r--r-- 0/0 .* greeting'
    [ "$(tar -xOf "$l" greeting)" = "hello world 'quoted' \"dq\" \$NAME arg" ]
    l=$(layer_tar hd 2)
    run tar -tvf "$l"
    expect_output_match '-rwxr-xr-x 0/0 .* dir/A'
    expect_output_match '-rwxr-xr-x 0/0 .* dir/B'
    [ "$(tar -xOf "$l" dir/A)" = "a: world" ]
    [ "$(tar -xOf "$l" dir/B)" = 'b: $NAME' ]
    [ "$(tar -xOf "$(layer_tar hd 3)" add.txt)" = "tabs stripped" ]
    run_strata history --no-trunc hd
    expect_output_match 'COPY --chmod=755 <<A <<B /dir/ # buildkit'
    expect_output_match 'COPY <<EOF /greeting # buildkit'
    # the content is the key
    run_strata build -t hd2 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 3 ]
    sed -i 's/a: \$NAME/a: changed/' "$CTX/Dockerfile"
    run_strata build -t hd3 "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 1 ]
}

# a base image with symlinks where content goes: lnk -> /real, lnk2 -> /real
make_link_base() {
    local d="$TESTDIR/linkbase"
    rm -rf "$d"
    mkdir -p "$d/real" "$d/app"
    ln -s /real "$d/lnk"
    ln -s /real "$d/lnk2"
    echo "$1" >"$d/app/base.txt"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$TESTDIR/$2.tar" .
    run_strata import "$TESTDIR/$2.tar" "$2"
}

@test "build: COPY --link builds the layer apart from the base: symlinks not followed, same diff" {
    make_link_base one base1
    echo data >"$CTX/f.txt"
    cat >"$CTX/Dockerfile" <<'XEOF2'
FROM base1
COPY --link f.txt /lnk/sub/
COPY f.txt /lnk2/plain/
XEOF2
    run_strata build -t lk1 "$CTX"
    # --link: the layer has the path as written, parents 0755 root, nothing of /real
    run tar -tvf "$(layer_tar lk1 2)"
    expect_output_match 'drwxr-xr-x 0/0 .* lnk/'
    expect_output_match 'lnk/sub/f.txt'
    [[ "$output" != *real* ]]
    # without --link the copy goes through the image's symlink
    run tar -tf "$(layer_tar lk1 3)"
    expect_output_match 'real/plain/f.txt'
    [[ "$output" != *lnk2* ]]

    # another base: the --link layer has the same diff ID and comes from the cache
    make_link_base two base2
    sed -i 's/FROM base1/FROM base2/' "$CTX/Dockerfile"
    run_strata build -t lk2 "$CTX"
    expect_output_match '#2 CACHED'
    local a b
    a=$(diff_ids lk1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[1])')
    b=$(diff_ids lk2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[1])')
    [ "$a" = "$b" ]
    # the image is complete: base2's file, then the layer
    run tar -xOf "$(layer_tar lk2 1)" ./app/base.txt
    expect_output two
    run tar -tf "$(layer_tar lk2 2)"
    expect_output_match 'lnk/sub/f.txt'
}

@test "build: ADD --link of a URL and COPY --link --from; --link with --chmod copies in place" {
    echo remote >"$SRV/r.txt"
    start_http
    make_link_base one base1
    cat >"$CTX/Dockerfile" <<EOF
FROM scratch AS src
COPY <<X /made.txt
made
X
FROM base1
ADD --link http://$HTTP/r.txt /lnk/
COPY --link --from=src /made.txt /app/made.txt
COPY --link --chmod=600 --from=src /made.txt /lnk2/m
EOF
    run_strata build -t lk3 "$CTX"
    run tar -tvf "$(layer_tar lk3 2)"
    expect_output_match '-rw------- 0/0 .* lnk/r.txt'
    run tar -tf "$(layer_tar lk3 3)"
    expect_output_match 'app/made.txt'
    [[ "$output" != *base.txt* ]]
    # BuildKit builds --link --chmod on the base: the link is followed
    run tar -tf "$(layer_tar lk3 4)"
    expect_output_match 'real/m'
}

@test "build: independent stages run in parallel; a failure stops the others" {
    skip_if_no_runc
    import_run_image busybox
    cat >"$CTX/Dockerfile" <<'XEOF2'
FROM busybox AS a
RUN sleep 2 && echo A >/a.txt
FROM busybox AS b
RUN sleep 2 && echo B >/b.txt
FROM busybox
COPY --from=a /a.txt /
COPY --from=b /b.txt /
RUN cat /a.txt /b.txt
XEOF2
    local t0 t1
    t0=$(date +%s%N)
    run_strata build --no-cache -t par "$CTX"
    t1=$(date +%s%N)
    # both sleeps had started before either finished
    local id_a id_b start_last done_first
    id_a=$(grep -oE '^#[0-9]+ \[a 2/2\] RUN' <<<"$output" | cut -d' ' -f1)
    id_b=$(grep -oE '^#[0-9]+ \[b 2/2\] RUN' <<<"$output" | cut -d' ' -f1)
    [ -n "$id_a" ] && [ -n "$id_b" ]
    start_last=$(grep -nE "^($id_a|$id_b) \[" <<<"$output" | tail -1 | cut -d: -f1)
    done_first=$(grep -nE "^($id_a|$id_b) DONE" <<<"$output" | head -1 | cut -d: -f1)
    [ "$start_last" -lt "$done_first" ]
    expect_output_match '#[0-9]+ [0-9.]+ A'
    expect_output_match '#[0-9]+ [0-9.]+ B'
    echo "parallel build took $(((t1 - t0) / 1000000)) ms" >&2
    # step numbers stay unique with interleaved stages
    [ "$(grep -oE '^#[0-9]+ \[' <<<"$output" | sort | uniq -d)" = "" ]

    cat >"$CTX/Dockerfile" <<'XEOF2'
FROM busybox AS a
RUN sleep 1 && exit 3
FROM busybox AS b
RUN sleep 2
RUN echo should-not-run
FROM busybox
COPY --from=a /etc/passwd /a
COPY --from=b /etc/passwd /b
XEOF2
    run_strata 1 build --no-cache "$CTX"
    expect_output_match 'strata: process "/bin/sh -c sleep 1 && exit 3" did not complete successfully: exit code: 3'
    [[ "$output" != *should-not-run* ]]
    [[ "$output" != *canceled* ]]
    [ -z "$(ls "$STRATA_ROOT/tmp")" ]
}
