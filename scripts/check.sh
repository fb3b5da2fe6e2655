#!/bin/bash
# Runs every suite against the build in $1 (default build): unit and fuzz-replay tests through
# meson, then the bats system tests with that build's strata. Prints "N passed, N failed" last;
# with COUNTS=FILE also appends "passed failed" to FILE (for .ci/run's total).
# SUITES="unit fuzz system" selects suites.
set -u
BUILD=${1:-build}
SUITES=${SUITES:-unit fuzz system}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
passed=0
failed=0

count_tap() { # count ok / not ok lines of TAP on stdin, echo "p f"
    awk '/^ok /{p++} /^not ok /{f++} END{print p+0, f+0}'
}

for s in unit fuzz; do
    case " $SUITES " in *" $s "*) ;; *) continue ;; esac
    log="$BUILD/meson-logs/check-$s.log"
    meson test -C "$BUILD" --suite "$s" --print-errorlogs --num-processes 2 >"$log" 2>&1
    cat "$log" | grep -E '^ *[0-9]+/[0-9]+ |FAIL|Ok:|Fail:' | tail -n 60
    p=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
    f=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
    t=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${t:-0}))
    if [ -z "$p" ] && [ -z "$f" ] && ! grep -q 'No suitable tests defined' "$log"; then
        echo "check: meson test for suite $s produced no summary" >&2
        failed=$((failed + 1))
    fi
done

case " $SUITES " in *" system "*)
    export STRATA="$top/$BUILD/strata"
    log="$top/$BUILD/meson-logs/check-system.log"
    mkdir -p "$(dirname "$log")"
    bats --tap tests/system >"$log" 2>&1
    cat "$log"
    read -r p f < <(count_tap <"$log")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$((p + f))" = 0 ]; then
        echo "check: bats ran no test" >&2
        failed=$((failed + 1))
    fi
    ;;
esac

[ -n "${COUNTS:-}" ] && echo "$passed $failed" >>"$COUNTS"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
