#!/usr/bin/env bats
# strata build: instructions, config and history, multi-stage, build args, .dockerignore,
# whiteouts, the layer cache, failures.

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

# import_build_base : busybox with every applet and a user 'app' (1000:1000), as 'busybox'.
import_build_base() {
    local d="$TESTDIR/bbfull" a
    make_busybox_rootfs "$d"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
    done
    echo 'app:x:1000:1000:app:/home/app:/bin/sh' >>"$d/etc/passwd"
    echo 'app:x:1000:' >>"$d/etc/group"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$TESTDIR/bb.tar" .
    run_strata import "$TESTDIR/bb.tar" busybox
}

write_app() {
    echo hello >"$CTX/hello.txt"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
ARG VERSION=1.0
ENV APP_HOME=/app GREETING="hi there"
LABEL org.example.version=$VERSION maintainer=me
WORKDIR $APP_HOME
COPY hello.txt ./
RUN echo "built $VERSION $GREETING" > built.txt && cat hello.txt
EXPOSE 8080 53/udp
USER app
ENTRYPOINT ["sh", "-c"]
CMD ["cat /app/built.txt; id -u"]
EOF2
}

@test "build: config, history, run" {
    import_build_base
    write_app
    run_strata build -t app "$CTX"
    expect_output_match '#[0-9]+ \[4/4\] RUN echo'
    expect_output_match '#[0-9]+ [0-9.]+ hello'
    expect_output_match 'writing image sha256:[0-9a-f]{64}'
    run_strata inspect --format '{{json .Config.Env}}' app
    expect_output '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_HOME=/app","GREETING=hi there"]'
    run_strata inspect --format '{{json .Config.Cmd}} {{json .Config.Entrypoint}} {{.Config.WorkingDir}} {{.Config.User}}' app
    expect_output '["cat /app/built.txt; id -u"] ["sh","-c"] /app app'
    run_strata inspect --format '{{json .Config.Labels}} {{json .Config.ExposedPorts}}' app
    expect_output '{"maintainer":"me","org.example.version":"1.0"} {"53/udp":{},"8080/tcp":{}}'
    run bash -c "'$STRATA' history --no-trunc --format '{{.CreatedBy}}' app | head -9"
    expect_output 'CMD ["cat /app/built.txt; id -u"]
ENTRYPOINT ["sh" "-c"]
USER app
EXPOSE map[53/udp:{} 8080/tcp:{}]
RUN |1 VERSION=1.0 /bin/sh -c echo "built $VERSION $GREETING" > built.txt && cat hello.txt # buildkit
COPY hello.txt ./ # buildkit
WORKDIR /app
LABEL org.example.version=1.0 maintainer=me
ENV APP_HOME=/app GREETING=hi there'
    run_strata run --rm app
    expect_output 'built 1.0 hi there
1000'
}

@test "build: -q prints the ID, --iidfile writes it, stdin Dockerfile" {
    import_build_base
    run_strata build -q --iidfile "$TESTDIR/iid" - <<<'FROM busybox
RUN echo from-stdin > /f'
    [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
    [ "$(cat "$TESTDIR/iid")" = "$output" ]
    run_strata run --rm "$output" cat /f
    expect_output from-stdin
}

@test "build: multi-stage, --target, COPY --from" {
    import_build_base
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox AS build
RUN mkdir /out && echo compiled > /out/bin.txt

FROM busybox AS other
RUN echo never > /never

FROM busybox
COPY --from=build /out/bin.txt /usr/share/bin.txt
CMD ["cat", "/usr/share/bin.txt"]
EOF2
    run_strata build -t ms "$CTX"
    ! [[ "$output" =~ "never" ]] || false
    expect_output_match '\[build 2/2\] RUN mkdir'
    run_strata run --rm ms
    expect_output compiled
    run_strata build -q --target build "$CTX"
    run_strata run --rm "$output" cat /out/bin.txt
    expect_output compiled
}

@test "build: build args: default, override, unused warning" {
    import_build_base
    printf 'FROM busybox\nARG WHO=world\nRUN echo "hello $WHO" > /g\n' >"$CTX/Dockerfile"
    run_strata build -t ba "$CTX"
    run_strata run --rm ba cat /g
    expect_output 'hello world'
    run_strata build -t ba --build-arg WHO=you --build-arg EXTRA=1 "$CTX"
    expect_output_match 'One or more build-args \[EXTRA\] were not consumed'
    run_strata run --rm ba cat /g
    expect_output 'hello you'
    run_strata inspect --format '{{json .Config.Env}}' ba
    ! [[ "$output" =~ WHO ]] || false
}

@test "build: .dockerignore" {
    import_build_base
    mkdir -p "$CTX/src" "$CTX/secret"
    echo a >"$CTX/src/a.txt"
    echo b >"$CTX/src/b.log"
    echo s >"$CTX/secret/key"
    printf '*/*.log\nsecret\n' >"$CTX/.dockerignore"
    printf 'FROM busybox\nCOPY . /ctx/\n' >"$CTX/Dockerfile"
    run_strata build -t di "$CTX"
    run_strata run --rm di find /ctx
    [[ "$output" =~ /ctx/src/a.txt ]]
    ! [[ "$output" =~ b.log ]] || false
    ! [[ "$output" =~ secret ]] || false
}

@test "build: RUN deletions become whiteouts and opaque dirs" {
    import_build_base
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
RUN mkdir -p /d/sub && echo x > /d/sub/f && echo y > /del
RUN rm /del && rm -rf /d && mkdir /d && echo new > /d/n
EOF2
    run_strata build -t wh "$CTX"
    run_strata run --rm wh sh -c 'ls /d; test -e /del || echo gone'
    expect_output 'n
gone'
    "$STRATA" save wh >"$TESTDIR/wh.tar"
    mkdir "$TESTDIR/x" && tar -C "$TESTDIR/x" -xf "$TESTDIR/wh.tar"
    local top
    top=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))[0]; print(m["Layers"][-1])' "$TESTDIR/x/manifest.json")
    run tar -tzf "$TESTDIR/x/$top"
    [[ "$output" =~ \.wh\.del ]]
    [[ "$output" =~ d/\.wh\.\.wh\.\.opq ]]
}

@test "build: cache: all CACHED and same ID; touched source rebuilds from there; mtime only does not" {
    import_build_base
    write_app
    run_strata build -q "$CTX"
    local id1=$output
    run_strata build "$CTX"
    expect_output_match 'CACHED'
    local step
    step=$(sed -n 's/^#\([0-9]*\) \[.*\] RUN .*/\1/p' <<<"$output")
    [ -n "$step" ]
    [ -z "$(grep "^#$step DONE" <<<"$output")" ] # the RUN step did not run
    [ "$(grep -c CACHED <<<"$output")" = 2 ]
    run_strata build -q "$CTX"
    [ "$output" = "$id1" ]
    touch -d '2001-01-01' "$CTX/hello.txt"
    run_strata build "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 2 ]
    echo changed >"$CTX/hello.txt"
    run_strata build "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 0 ]
    expect_output_match '[0-9.]+ changed'
    run_strata build --no-cache "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 0 ]
}

@test "build: a failing RUN exits 1 with Docker's message and tags nothing" {
    import_build_base
    printf 'FROM busybox\nRUN echo ok > /ok\nRUN echo boom; exit 2\n' >"$CTX/Dockerfile"
    run_strata 1 build -t bad "$CTX"
    expect_output_match 'boom'
    expect_output_match 'strata: process "/bin/sh -c echo boom; exit 2" did not complete successfully: exit code: 2'
    run_strata 1 inspect bad
    run_strata 1 build -t bad "$CTX"
    expect_output_match 'CACHED'
    run_strata ps -aq
    expect_output ""
}

@test "build: a Dockerfile syntax error reports file:line:col" {
    import_build_base
    printf 'FROM busybox\n\nFROMM x\n' >"$CTX/Dockerfile"
    run_strata 1 build "$CTX"
    expect_output_match 'strata: Dockerfile:3:1: '
}

@test "build: builder prune removes the cache, gc keeps nothing extra" {
    import_build_base
    write_app
    run_strata build -q "$CTX"
    run_strata builder prune
    expect_output_match 'Deleted build cache objects: [1-9]'
    run_strata build "$CTX"
    [ "$(grep -c CACHED <<<"$output")" = 0 ]
    run_strata system check
}

@test "build: COPY into a dir no layer has is written without the overlay; a deleted dir stays deleted" {
    import_build_base
    echo new >"$CTX/a"
    mkdir -p "$CTX/tree/sub" && echo x >"$CTX/tree/sub/x"
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
RUN mkdir /gone && echo old >/gone/old
RUN rm -rf /gone
COPY a /gone/
COPY tree /fresh/tree
WORKDIR /wd/deeper
COPY a rel/
EOF2
    run_strata build -q -t direct "$CTX"
    # the dir deleted by a lower layer (a whiteout) is opaque again: only the copy is in it
    run_strata run --rm direct sh -c 'ls /gone; cat /fresh/tree/sub/x /wd/deeper/rel/a'
    expect_output "a
x
new"
    # the direct copies wrote what the overlay would have: the new dirs and files only
    run tar -tf "$(layer_tar direct 5)"
    expect_output "fresh/
fresh/tree/
fresh/tree/sub/
fresh/tree/sub/x"
    run tar -tf "$(layer_tar direct 6)"
    expect_output "wd/
wd/deeper/
wd/deeper/rel/
wd/deeper/rel/a"
    run_strata system check
    expect_output_match 'the store is clean'
}
