#!/bin/sh
# Runs the libFuzzer builds of tests/fuzz one after the other (docs/fuzzing.md).
#   tests/fuzz/run.sh <build-dir> [seconds-per-fuzzer] [fuzzer ...]
# The build dir must be configured with clang, -DLINKGW_FUZZ=ON and
# -DLINKGW_SANITIZE=ON. Each fuzzer starts from its seed corpus plus its
# regression inputs, grows a working corpus in <build-dir>/fuzz-work/<name>
# (the source tree is never written) and leaves crash/leak/timeout artifacts
# and its log there. Bounded: one job, -rss_limit_mb=2048.
#
# libconfig 1.5 leaks on every syntax error (lsan.supp), and libFuzzer then
# runs a full leak scan after each such input: the harnesses fed with config
# text run 30x slower. They fuzz with -detect_leaks=0, and their whole
# working corpus is replayed with leak detection at the end instead.
set -eu
build=${1:?usage: run.sh <build-dir> [seconds] [fuzzer ...]}
secs=${2:-120}
shift; [ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
names=${*:-"tsl_model tsl_check tsl_uplink tsl_mapping config cloud_dispatch alink cred_csv knx modbus_codec plugin_conf emu"}
for n in $names; do
    exe=$build/tests/fuzz/fuzz_$n
    [ -x "$exe" ] || { echo "$exe: not built" >&2; exit 1; }
    work=$build/fuzz-work/$n
    mkdir -p "$work/corpus" "$work/artifacts"
    dict=
    [ -f "$here/dict/$n.dict" ] && dict="-dict=$here/dict/$n.dict"
    leaks=
    case $n in tsl_mapping|config|plugin_conf) leaks=-detect_leaks=0 ;; esac
    echo "== $n ($secs s)"
    # shellcheck disable=SC2086
    LSAN_OPTIONS=suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS} \
    "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 $dict $leaks \
        -artifact_prefix="$work/artifacts/" "$work/corpus" "$here/corpus/$n" "$here/regressions/$n" \
        > "$work/log.txt" 2>&1 || echo "   !! $n stopped with a finding: see $work/log.txt" >&2
    if [ -n "$leaks" ]; then
        LSAN_OPTIONS=suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS} \
        "$exe" -runs=0 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" "$work/corpus" \
            > "$work/leaks.txt" 2>&1 || echo "   !! $n: a corpus input leaks: see $work/leaks.txt" >&2
    fi
    grep -E "^#[0-9]+.*(DONE|pulse|NEW)" "$work/log.txt" | tail -n 1
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log.txt" || true
    ls "$work/artifacts"
done
