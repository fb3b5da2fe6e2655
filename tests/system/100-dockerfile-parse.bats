#!/usr/bin/env bats
# strata dockerfile parse: the dump, --json, errors with positions, stdin, warnings.

load helpers

DATA="$BATS_TEST_DIRNAME/../data/dockerfile"

write_dockerfile() {
    cat >"$TESTDIR/Dockerfile" <<'DOCKERFILE'
# syntax=docker/dockerfile:1
FROM golang:1.22 AS build
RUN --mount=type=cache,target=/root/.cache \
    go build -o /out/app .
COPY <<EOF /etc/motd
hello
EOF
FROM scratch
COPY --from=build /out/app /app
ENV A=1 B="two words"
ONBUILD RUN echo child
ENTRYPOINT ["/app"]
DOCKERFILE
}

@test "dockerfile parse prints Docker's parser-test dump" {
    write_dockerfile
    run_strata dockerfile parse "$TESTDIR/Dockerfile"
    expect_output '(from "golang:1.22" "AS" "build")
(run ["--mount=type=cache,target=/root/.cache"] "go build -o /out/app .")
(copy "<<EOF" "/etc/motd" "hello\n")
(from "scratch")
(copy ["--from=build"] "/out/app" "/app")
(env "A" "1" "=" "B" "\"two words\"" "=")
(onbuild (run "echo child"))
(entrypoint "/app")'
}

@test "dockerfile parse --json gives the tree with line ranges" {
    write_dockerfile
    run_strata dockerfile parse --json "$TESTDIR/Dockerfile"
    json=$output
    [ "$(jq -r '.directives[0].name + "=" + .directives[0].value' <<<"$json")" = syntax=docker/dockerfile:1 ]
    [ "$(jq -r '[.instructions[].kind] | join(",")' <<<"$json")" = FROM,RUN,COPY,FROM,COPY,ENV,ONBUILD,ENTRYPOINT ]
    [ "$(jq -r '.instructions[1] | "\(.line)-\(.end_line) \(.flags[0].name) \(.flags[0].column)"' <<<"$json")" = "3-4 mount 5" ]
    [ "$(jq -r '.instructions[2].heredocs[0] | "\(.name) \(.content|@json) \(.expand)"' <<<"$json")" = 'EOF "hello\n" true' ]
    [ "$(jq -r '.instructions[5].pairs[1].value' <<<"$json")" = '"two words"' ]
    [ "$(jq -r '.instructions[6].trigger.original' <<<"$json")" = 'RUN echo child' ]
    [ "$(jq -r '.instructions[7] | "\(.exec_form) \(.args|join(" "))"' <<<"$json")" = "true /app" ]
    [ "$(jq -r '.escape' <<<"$json")" = '\' ]
}

@test "a parse error is one line with file:line:column, and exit 1" {
    printf 'FROM alpine\nRUN echo ok\n\n    FROMM scratch\n' >"$TESTDIR/Dockerfile"
    run_strata 1 dockerfile parse "$TESTDIR/Dockerfile"
    expect_output "strata: $TESTDIR/Dockerfile:4:5: unknown instruction: FROMM"
    printf 'FROM alpine\nCOPY --form=build /a /b\n' >"$TESTDIR/bad-flag"
    run_strata 1 dockerfile parse "$TESTDIR/bad-flag"
    expect_output "strata: $TESTDIR/bad-flag:2:6: unknown flag: --form"
    printf 'FROM alpine\nRUN <<EOF\necho no end\n' >"$TESTDIR/heredoc"
    run_strata 1 dockerfile parse --json "$TESTDIR/heredoc"
    expect_output "strata: $TESTDIR/heredoc:2:5: unterminated heredoc 'EOF'"
    : >"$TESTDIR/empty"
    run_strata 1 dockerfile parse "$TESTDIR/empty"
    expect_output "strata: $TESTDIR/empty:1:1: file with no instructions"
}

@test "dockerfile parse - reads stdin" {
    write_dockerfile
    run bash -c "'$STRATA' dockerfile parse - <'$TESTDIR/Dockerfile'"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = '(from "golang:1.22" "AS" "build")' ]
    [ "${#lines[@]}" -eq 8 ]
    run bash -c "printf 'FROM a\nRUNN x\n' | '$STRATA' dockerfile parse -"
    [ "$status" -eq 1 ]
    expect_output "strata: <stdin>:2:1: unknown instruction: RUNN"
}

@test "warnings go to stderr with line numbers, the dump to stdout" {
    printf 'FROM alpine\nMAINTAINER someone\nCMD echo hi\n' >"$TESTDIR/Dockerfile"
    cd "$TESTDIR"
    "$STRATA" dockerfile parse Dockerfile >out 2>err
    [ "$(cat out)" = '(from "alpine")
(maintainer "someone")
(cmd "echo hi")' ]
    [ "$(cat err)" = 'strata: warning: Dockerfile:2: MAINTAINER is deprecated, use LABEL
strata: warning: Dockerfile:3: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals' ]
    # "# check=skip=..." silences them, as with docker
    printf '# check=skip=all\nFROM alpine\nMAINTAINER someone\n' >Dockerfile
    "$STRATA" dockerfile parse Dockerfile >out 2>err
    [ ! -s err ]
}

@test "every golden Dockerfile dumps as its .dump file says" {
    local n=0 f
    for f in "$DATA"/*.Dockerfile "$DATA"/real/*.Dockerfile; do
        cd "$(dirname "$f")"
        local name want
        name=$(basename "$f")
        want="${name%.Dockerfile}.dump"
        if "$STRATA" dockerfile parse "$name" >"$TESTDIR/got" 2>"$TESTDIR/err"; then
            diff -u "$want" "$TESTDIR/got"
        else
            diff -u "$want" <(sed 's/^strata: /error: /' "$TESTDIR/err")
        fi
        n=$((n + 1))
    done
    [ "$n" -ge 25 ]
}

@test "dockerfile parse usage errors and unreadable files" {
    run_strata 125 dockerfile parse
    expect_output_match 'requires exactly 1 argument'
    run_strata 125 dockerfile frobnicate x
    expect_output_match 'unknown command "frobnicate"'
    run_strata 125 dockerfile parse --bogus x
    run_strata 1 dockerfile parse "$TESTDIR/missing"
    expect_output "strata: read '$TESTDIR/missing': No such file or directory"
    head -c $((8 * 1024 * 1024 + 1)) /dev/zero >"$TESTDIR/big"
    run_strata 1 dockerfile parse "$TESTDIR/big"
    expect_output "strata: $TESTDIR/big: Dockerfile is larger than 8388608 bytes"
    run_strata dockerfile parse --help
    expect_output_match 'strata dockerfile parse \[--json\] FILE\|-'
}
