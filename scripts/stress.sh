#!/bin/bash
# `make stress` (not part of `make check`): the kill driver with many rounds per operation, the
# concurrency test with many rounds, then a libFuzzer campaign per fuzz target. Prints a line per
# series and per target (executions), and "stress: N passed, N failed" last.
#   STRESS_ROUNDS       kill rounds per operation (50)
#   STRESS_CONC_ROUNDS  concurrency rounds (30)
#   STRESS_FUZZ_SECONDS seconds per fuzz target (1800); 0 skips fuzzing
#   STRESS_OPS          operations for the kill driver (pull build load rmi prune sysprune tag runkill)
#   STRESS_FUZZ         fuzz targets (default: every one in tests/fuzz)
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
ROUNDS=${STRESS_ROUNDS:-50}
CONC=${STRESS_CONC_ROUNDS:-30}
FUZZ_SECONDS=${STRESS_FUZZ_SECONDS:-1800}
OPS=${STRESS_OPS:-pull build load rmi prune sysprune tag runkill}
STRATA="$top/$BUILD/strata"
SW=$(mktemp -d /tmp/strata-stress.XXXXXX)
passed=0
failed=0
REG_PID=

cleanup() {
    [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
    grep -o " $SW/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$SW"
}
trap cleanup EXIT

result() { # NAME RC
    if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else
        failed=$((failed + 1))
        echo "stress: $1 FAILED" >&2
    fi
}

# a registry for pull and the concurrency test (Debian's docker-registry)
start_registry() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$SW/registry"
    cat >"$SW/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $SW/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
    docker-registry serve "$SW/registry/config.yml" >"$SW/registry/log" 2>&1 &
    REG_PID=$!
    REGISTRY=127.0.0.1:$port
    for _ in $(seq 1 50); do curl -s -o /dev/null "http://$REGISTRY/v2/" && return 0; sleep 0.1; done
    echo "stress: the registry did not start" >&2
    return 1
}

if command -v docker-registry >/dev/null; then start_registry; else REGISTRY=; fi

for op in $OPS; do
    if [ "$op" = pull ] && [ -z "$REGISTRY" ]; then
        echo "stress: pull skipped (no docker-registry)"
        continue
    fi
    STRATA=$STRATA STRATA_ROOT="$SW/kill-$op/root" WORK="$SW/kill-$op/work" REGISTRY=$REGISTRY \
        tests/stress/kill-driver.sh "$op" "$ROUNDS"
    result "kill $op" $?
    rm -rf "$SW/kill-$op"
done

if [ -n "$REGISTRY" ] && command -v runc >/dev/null && [ "$(id -u)" = 0 ]; then
    STRATA=$STRATA STRATA_ROOT="$SW/conc/root" WORK="$SW/conc/work" REGISTRY=$REGISTRY \
        tests/stress/concurrency.sh "$CONC"
    result concurrency $?
    rm -rf "$SW/conc"
else
    echo "stress: concurrency skipped (needs docker-registry, runc and root)"
fi

# libFuzzer: clang with -Dfuzz=true and ASan+UBSan, one target at a time, one job
if [ "$FUZZ_SECONDS" -gt 0 ]; then
    FB=build-fuzz
    if [ ! -f "$FB/build.ninja" ]; then
        CC=clang meson setup "$FB" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
            -Dbuildtype=debugoptimized >/dev/null || { result "fuzz build" 1; FB=; }
    fi
    if [ -n "$FB" ] && ninja -C "$FB" >/dev/null; then
        targets=${STRESS_FUZZ:-$(ls tests/fuzz/corpus)}
        for t in $targets; do
            mkdir -p "$SW/fuzz/$t"
            log="$SW/fuzz/$t.log"
            (cd "$SW/fuzz" && "$top/$FB/tests/fuzz/$t" -max_total_time="$FUZZ_SECONDS" \
                -print_final_stats=1 -artifact_prefix="$SW/fuzz/$t-" \
                "$SW/fuzz/$t" "$top/tests/fuzz/corpus/$t" >"$log" 2>&1)
            rc=$?
            execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
            echo "fuzz: $t: ${execs:-?} executions in ${FUZZ_SECONDS}s, exit $rc"
            if [ "$rc" -ne 0 ]; then
                tail -n 30 "$log" >&2
                mkdir -p "$top/$FB/fuzz-crashes"
                cp "$SW/fuzz/$t-"* "$top/$FB/fuzz-crashes/" 2>/dev/null
                echo "fuzz: $t: crashing input kept in $FB/fuzz-crashes/" >&2
            fi
            result "fuzz $t" "$rc"
        done
    else
        result "fuzz build" 1
    fi
fi

echo "stress: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
