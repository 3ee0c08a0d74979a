#!/usr/bin/env bash
# Runs the real daemon under valgrind with two test-plugin instances (one
# reporting from a thread and a timer), reloads once with a changed file,
# stops it with SIGTERM and requires: exit code 0, no valgrind error, no leak.
# Usage: valgrind_daemon.sh LINKGW_BIN TEST_PLUGIN_DIR
set -euo pipefail
bin=$1 plugins=$2
command -v valgrind >/dev/null || { echo "valgrind not installed: skipped"; exit 77; }
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
mkdir "$dir/conf.d"
printf 'conf_dir = "conf.d";\nplugin_dir = "%s";\n' "$plugins" > "$dir/linkgw.conf"
printf 'plugin = "test_good";\nsettings = { devices = 3; interval_ms = 20; thread_reports = 200; };\n' > "$dir/conf.d/a.conf"
printf 'plugin = "test_good";\nsettings = { devices = 1; write_delay_ms = 100; };\n' > "$dir/conf.d/b.conf"
log=$dir/log
valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=99 "$bin" -c "$dir/linkgw.conf" >"$log" 2>&1 &
pid=$!
wait_for() { # pattern: waits up to 60 s
  for _ in $(seq 600); do grep -q "$1" "$log" && return 0; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  echo "not seen: $1"; cat "$log"; exit 1
}
wait_for "INFO linkgw: running"
wait_for "device a/dev0 is offline"        # the reporting thread finished
printf 'plugin = "test_good";\nsettings = { devices = 2; };\n' > "$dir/conf.d/b.conf"
kill -HUP "$pid"
wait_for "INFO linkgw: reload done"
wait_for "device added: b/dev1"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|All heap blocks|in use at exit|would forward a/dev0" "$log" | tail -5 || true
if [ "$rc" -ne 0 ]; then echo "daemon exit code $rc"; grep -v "would forward" "$log" | tail -60; exit 1; fi
echo "valgrind clean, exit code 0"
