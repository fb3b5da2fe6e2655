#!/usr/bin/env bats
# strata build --progress: the live terminal view (tty, auto on a terminal) through a pty made
# by script(1), plain when stderr is not a terminal.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    export STRATA_ROOT="$BATS_TEST_TMPDIR/root"
    TESTDIR="$BATS_TEST_TMPDIR"
    skip_if_no_runc
    skip_if_missing script
    CTX="$TESTDIR/ctx"
    mkdir -p "$CTX"
    import_run_image busybox
    unset STRATA_NO_TTY
}

teardown() {
    cleanup_containers
}

# in_pty COMMAND... : runs COMMAND with its stdio on a pty (script -qc); $output is what the
# terminal got with the escape sequences removed (CR dropped), $raw the bytes, $status the
# command's exit code.
in_pty() {
    local cmd
    printf -v cmd '%q ' "$@"
    run script -qefc "TERM=xterm $cmd" "$TESTDIR/typescript"
    raw=$(cat "$TESTDIR/typescript")
    output=$(sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e 's/\r//g' "$TESTDIR/typescript" |
        grep -v '^Script ')
}

# last_frame : the lines from the last header on ($output of in_pty).
last_frame() {
    awk '/^\[\+\] Building/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' <<<"$output"
}

@test "build --progress=tty: live steps, output tail erased, final frame with the image ID" {
    cat >"$CTX/Dockerfile" <<'EOF2'
FROM busybox
ENV N=9
RUN for i in $(seq 1 $N); do echo "out line $i"; sleep 0.1; done
COPY Dockerfile /d
EOF2
    in_pty "$STRATA" build --progress=tty --iidfile "$TESTDIR/iid" -t ttyapp "$CTX"
    [ "$status" = 0 ]
    local id
    id=$(cat "$TESTDIR/iid")
    # redrawn in place: cursor moves up, lines cleared
    [[ "$raw" == *$'\e['*A* ]] && [[ "$raw" == *$'\e[2K'* ]]
    # while it ran, the tail showed the output
    [[ "$output" =~ " => => # out line "[1-9] ]]
    run last_frame
    [[ "$output" =~ \[\+\]\ Building\ [0-9.]+s\ \(3/3\)\ FINISHED ]]
    [[ "$output" =~ " => [1/3] FROM busybox"\ +[0-9.]+s ]]
    [[ "$output" =~ " => [2/3] RUN for i in"[^$'\n']*\ [0-9.]+s ]]
    [[ "$output" =~ " => [3/3] COPY Dockerfile /d"\ +[0-9.]+s ]]
    [[ "$output" == *"writing image $id done"* ]]
    [[ "$output" == *"naming to docker.io/library/ttyapp:latest done"* ]]
    [[ "$output" != *"=> => #"* ]] # the tail is gone once the step is done
    # cached steps say so; auto is the view on a terminal
    in_pty "$STRATA" build -t ttyapp "$CTX"
    [ "$status" = 0 ]
    run last_frame
    [[ "$output" == *" => CACHED [2/3] RUN for i in"* ]]
    [[ "$output" == *" => CACHED [3/3] COPY Dockerfile /d"* ]]
    [[ "$output" == *"writing image $id done"* ]]
}

@test "build --progress=tty: a failing step's whole output is printed" {
    printf 'FROM busybox\nRUN for i in $(seq 1 12); do echo "fail line $i"; done; exit 3\n' >"$CTX/Dockerfile"
    in_pty "$STRATA" build --progress=tty "$CTX"
    [ "$status" = 1 ]
    run last_frame
    [[ "$output" == *" => ERROR [2/2] RUN for i in"* ]]
    [[ "$output" != *FINISHED* ]]
    # every line, not only the tail, between BuildKit's rules, then the error
    local block
    block=$(sed -n '/^------$/,/^------$/p' <<<"$output")
    [[ "$block" == *" > [2/2] RUN for i in"* ]]
    [ "$(grep -c '^fail line' <<<"$block")" = 12 ]
    [[ "$output" == *'strata: process "/bin/sh -c for i in'*'exit code: 3'* ]]
}

@test "build --progress: plain when stderr is no terminal, or asked for; tty forced" {
    printf 'FROM busybox\nRUN echo hi\n' >"$CTX/Dockerfile"
    run_strata build "$CTX"
    expect_output_match '#[0-9]+ \[2/2\] RUN echo hi'
    [[ "$output" != *$'\e['* ]]
    in_pty "$STRATA" build --progress=plain --no-cache "$CTX"
    [ "$status" = 0 ]
    [[ "$raw" != *$'\e['* ]]
    [[ "$output" =~ \#[0-9]+\ [0-9.]+\ hi ]]
    # TERM=dumb keeps auto plain
    run script -qefc "TERM=dumb $STRATA build $CTX" "$TESTDIR/typescript"
    [[ "$(cat "$TESTDIR/typescript")" != *$'\e['* ]]
    # tty asked for without a terminal still draws (BuildKit's --progress=tty)
    run_strata build --progress=tty "$CTX"
    [[ "$output" == *"[+] Building"*FINISHED* ]]
}
