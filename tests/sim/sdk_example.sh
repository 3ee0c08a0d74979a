#!/usr/bin/env bash
# Out-of-tree driver build, as a third party does it: installs the SDK of the
# build tree into a temporary prefix (cmake --install --component dev), builds
# sdk/examples/skeleton there with its Makefile through pkg-config only, then
# has the real daemon load it: --check-config (a good file passes, a bad
# setting is reported at its file:line) and a short run in which the driver's
# device and reports reach the hub. Everything lives in a temporary directory
# that is removed on exit, and the daemon is always stopped.
#
# Usage: sdk_example.sh BUILD_DIR EXAMPLE_SRC_DIR LINKGW_BIN C_COMPILER
set -euo pipefail
build=$1 example=$2 linkgw=$3 cc=$4

tmp=$(mktemp -d "${TMPDIR:-/tmp}/linkgw-sdk-example.XXXXXX")
daemon=
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== install the SDK into $tmp/prefix"
cmake --install "$build" --component dev --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name linkgw-plugin.pc | head -n1)
[ -n "$pc" ] || { echo "FAIL: linkgw-plugin.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
# Only the temporary prefix may provide the headers: nothing from the source tree.
case "$(pkg-config --cflags linkgw-plugin)" in
  *"$tmp/prefix"*) ;;
  *) echo "FAIL: pkg-config does not point into the installed prefix: $(pkg-config --cflags linkgw-plugin)"; exit 1 ;;
esac

echo "== build the skeleton out of tree"
mkdir -p "$tmp/src" "$tmp/plugins" "$tmp/conf.d" "$tmp/state"
cp "$example"/skeleton.c "$example"/Makefile "$example"/skeleton.conf "$tmp/src/"
make -C "$tmp/src" CC="$cc" >/dev/null
make -C "$tmp/src" install PLUGINDIR="$tmp/plugins" >/dev/null
[ -f "$tmp/plugins/skeleton.so" ] || { echo "FAIL: make install did not install skeleton.so"; exit 1; }

cat >"$tmp/linkgw.conf" <<CONF
log_level = "info";
conf_dir = "$tmp/conf.d";
state_dir = "$tmp/state";
plugin_dir = "$tmp/plugins";
CONF

echo "== --check-config with the example conf.d file"
cp "$tmp/src/skeleton.conf" "$tmp/conf.d/skeleton.conf"
"$linkgw" -c "$tmp/linkgw.conf" --check-config

echo "== --check-config with a bad setting"
sed 's/interval_ms = 1000;/interval_ms = 5;/' "$tmp/src/skeleton.conf" >"$tmp/conf.d/skeleton.conf"
line=$(grep -n 'interval_ms = 5;' "$tmp/conf.d/skeleton.conf" | cut -d: -f1)
if "$linkgw" -c "$tmp/linkgw.conf" --check-config >"$tmp/check.out" 2>&1; then
  cat "$tmp/check.out"; echo "FAIL: a bad setting passed --check-config"; exit 1
fi
cat "$tmp/check.out"
grep -q "$tmp/conf.d/skeleton.conf:$line: .*interval_ms" "$tmp/check.out" ||
  { echo "FAIL: no file:line error for interval_ms"; exit 1; }

echo "== run the daemon with the skeleton until its reports arrive"
sed 's/interval_ms = 1000;/interval_ms = 20;/' "$tmp/src/skeleton.conf" >"$tmp/conf.d/skeleton.conf"
"$linkgw" -c "$tmp/linkgw.conf" >"$tmp/run.log" 2>&1 &
daemon=$!
ok=
for _ in $(seq 1 200); do   # up to 20 s; normally well under a second
  if grep -q 'skeleton/skeleton-1 properties' "$tmp/run.log"; then ok=1; break; fi
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$daemon" 2>/dev/null || true
status=0
wait "$daemon" || status=$?
daemon=
cat "$tmp/run.log"
[ -n "$ok" ] || { echo "FAIL: no report of skeleton-1 reached the hub"; exit 1; }
[ "$status" -eq 0 ] || { echo "FAIL: the daemon exited with $status after SIGTERM"; exit 1; }
echo "PASS: the skeleton builds out of tree through pkg-config and runs in linkgw"
