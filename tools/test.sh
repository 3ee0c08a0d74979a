#!/usr/bin/env bash
# The test suite, as CI runs it: installs what is missing, builds twice
# (release with -Werror, debug with ASan + UBSan) and runs the whole ctest
# suite on each build. Tests start their own brokers, knxd and simulators on
# free loopback ports and stop them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh

jobs=$(nproc)
run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 300
}

# On CI (a throw-away machine, as root) the packaging tests also install, run,
# upgrade, remove and purge the built .deb packages with dpkg.
if [ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ]; then
  export LINKGW_TEST_SYSTEM_INSTALL=1
fi

echo "== release build (-Werror) =="
run_suite build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLINKGW_WERROR=ON
echo "== debug build (ASan + UBSan) =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build/asan -DCMAKE_BUILD_TYPE=Debug -DLINKGW_WERROR=ON -DLINKGW_SANITIZE=ON
