#!/usr/bin/env bash
# The Modbus plugin in the real daemon: `linkgw --check-config` accepts a good
# conf.d file and names file:line of a bad one; `linkgw` polls tools/modbus-sim
# (free port), brings a live slave online, takes an absent one offline, and
# stops cleanly on SIGTERM. Usage: daemon_smoke.sh LINKGW MODBUS_SIM PLUGIN_DIR
set -euo pipefail
LINKGW=$1 SIM=$2 PLUGINS=$3
dir=$(mktemp -d)
sim_pid="" gw_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null || true
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- daemon log:"; cat "$dir/gw.log" 2>/dev/null || true; exit 1; }

# simulator on a free port, announced as "PORT n"
mkfifo "$dir/sim.fifo"
"$SIM" --tcp 127.0.0.1:0 --units 1-2 >"$dir/sim.fifo" &
sim_pid=$!
read -r -t 10 word port <"$dir/sim.fifo" || fail "simulator did not start"
[ "$word" = PORT ] || fail "simulator said '$word'"

mkdir -p "$dir/conf.d"
cat >"$dir/linkgw.conf" <<CONF
log_level = "info";
conf_dir = "conf.d";
state_dir = "state";
plugin_dir = "$PLUGINS";
CONF
cat >"$dir/conf.d/bus1.conf" <<CONF
plugin = "modbus";
settings = {
  transport = "tcp"; host = "127.0.0.1"; port = $port;
  response_timeout_ms = 200; max_failures = 2;
  models = ( { name = "meter"; address_base = 1; interval_ms = 100;
    points = ( { name = "v"; table = "holding"; address = 1; type = "uint16"; } ); } );
  devices = ( { id = "d1"; model = "meter"; unit = 1; }, { id = "d9"; model = "meter"; unit = 9; } );
};
CONF
"$LINKGW" -c "$dir/linkgw.conf" --check-config >"$dir/check.out" 2>&1 || fail "check-config refused a good file: $(cat "$dir/check.out")"

# a bad file: the error names the file and the line
cat >"$dir/conf.d/bad.conf" <<'CONF'
plugin = "modbus";
settings = {
  transport = "tcp"; host = "127.0.0.1";
  models = ( { name = "m"; address_base = 2;
    points = ( { name = "v"; table = "holding"; address = 1; type = "uint16"; } ); } );
};
CONF
if "$LINKGW" -c "$dir/linkgw.conf" --check-config >"$dir/check.out" 2>&1; then
  fail "check-config accepted a bad file"
fi
grep -q "bad.conf:4:" "$dir/check.out" || fail "no bad.conf:4: error in: $(cat "$dir/check.out")"
rm "$dir/conf.d/bad.conf"

"$LINKGW" -c "$dir/linkgw.conf" >"$dir/gw.log" 2>&1 &
gw_pid=$!
for _ in $(seq 200); do
  if grep -q "device bus1/d1 is online" "$dir/gw.log" && grep -q "device d9 (unit 9) offline" "$dir/gw.log" &&
     grep -q 'bus1/d1 properties: {"v":' "$dir/gw.log"; then
    break
  fi
  kill -0 "$gw_pid" 2>/dev/null || fail "daemon died"
  sleep 0.1
done
grep -q "device bus1/d1 is online" "$dir/gw.log" || fail "d1 never online"
grep -q "device d9 (unit 9) offline" "$dir/gw.log" || fail "d9 never offline"
kill -TERM "$gw_pid"
rc=0
wait "$gw_pid" || rc=$?
gw_pid=""
[ "$rc" -eq 0 ] || fail "daemon exit status $rc"
grep -q "instance stopped" "$dir/gw.log" || fail "instance not stopped cleanly"
echo "ok"
