#!/usr/bin/env bash
# The demo: the linkgw gateway with simulated devices (sim plugin), two Modbus
# meters (tools/modbus-sim over TCP) and a KNX room (knxd on its dummy bus),
# connected to the Alibaba IoT Platform emulator (tools/alink-emu inside a real
# mosquitto). It prints what the platform sees every few seconds, then sends
# commands down (a property set, a service call) and shows them take effect.
#
#   tools/demo.sh                 # runs DEMO_SECONDS (default 60), or until Ctrl-C
#   DEMO_SECONDS=0 tools/demo.sh  # runs until Ctrl-C
#
# Everything runs on free loopback ports under .demo/ and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
tools/deps.sh
command -v jq >/dev/null || { echo "demo: jq missing" >&2; exit 1; }

BUILD=$ROOT/build/demo
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null

DEMO=$ROOT/.demo
rm -rf "$DEMO" && mkdir -p "$DEMO/conf.d" "$DEMO/emu" "$DEMO/state" && chmod 700 "$DEMO/state"
EMU="$BUILD/tools/alink-emu/alink-emu"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {  # a TCP port nobody listens on
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}
wait_for() {  # wait_for SECONDS CMD...: retry CMD until it succeeds
  local t=$1; shift
  for ((i = 0; i < t * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo: timed out waiting for: $*" >&2; return 1
}

EMU_PORT=$(free_port); MB_PORT=$(free_port)
export ALINK_EMU_PORT=$EMU_PORT ALINK_EMU_ADMIN_USER=emu-admin ALINK_EMU_ADMIN_PASSWORD=emu-admin

echo "== starting the IoT Platform emulator (mosquitto + alink-emu) on 127.0.0.1:$EMU_PORT"
"$EMU" broker --port "$EMU_PORT" --plugin "$BUILD/tools/alink-emu/alink_emu.so" \
  --registry tools/demo/registry.json --state-dir "$DEMO/emu" >"$DEMO/emu.log" 2>&1 &
PIDS+=($!)
wait_for 10 "$EMU" ping

echo "== starting knxd (dummy bus) and the Modbus simulator (127.0.0.1:$MB_PORT)"
knxd -e 0.0.1 -E 0.0.2:8 -u "$DEMO/knxd.sock" -b dummy: >"$DEMO/knxd.log" 2>&1 &
PIDS+=($!)
"$BUILD/tools/modbus-sim/modbus-sim" --tcp "127.0.0.1:$MB_PORT" --units 1-2 \
  --script tools/demo/modbus-sim.script >"$DEMO/modbus-sim.log" 2>&1 &
PIDS+=($!)
wait_for 10 test -S "$DEMO/knxd.sock"

subst() {
  sed -e "s|@DEMO@|$DEMO|g" -e "s|@PLUGINS@|$BUILD/plugins-out|g" -e "s|@EMU_PORT@|$EMU_PORT|g" \
      -e "s|@MB_PORT@|$MB_PORT|g" -e "s|@MODELS@|$ROOT/tools/demo/models|g" "$1"
}
subst tools/demo/linkgw.conf.in >"$DEMO/linkgw.conf"
for f in tools/demo/conf.d/*.conf.in; do
  subst "$f" >"$DEMO/conf.d/$(basename "$f" .in)"
done

LINKGW="$BUILD/core/linkgw"
"$LINKGW" -c "$DEMO/linkgw.conf" --check-config
echo "== starting the gateway: $LINKGW -c $DEMO/linkgw.conf (log: .demo/linkgw.log)"
"$LINKGW" -c "$DEMO/linkgw.conf" >"$DEMO/linkgw.log" 2>&1 &
GW=$!
PIDS+=($GW)

# The KNX room's sensor: a temperature telegram (DPT 9.001) every few seconds.
knx_temp() {  # knx_temp HUNDREDTHS: GroupValue_Write of a positive DPT 9 value to 3/0/1
  local m=$1 e=0
  while ((m > 2047)); do m=$((m / 2)); e=$((e + 1)); done
  knxtool groupwrite "local:$DEMO/knxd.sock" 3/0/1 \
    "$(printf '%02x' $(((e << 3) | (m >> 8))))" "$(printf '%02x' $((m & 255)))" >/dev/null 2>&1 || true
}

show() {  # what the platform knows: each sub-device of the gateway, online or not, latest properties
  "$EMU" state | jq -r '
    (.state // .) as $s
    | [$s.devices | to_entries[] | .value | select(.productKey != "a1DemoGW01")] as $subs
    | [$subs[] | select($s.sessions[.productKey + "/" + .deviceName] != null)] as $on
    | "   sub-devices online: \($on | length)/\($subs | length)",
      ($subs[] | "   \(if $s.sessions[.productKey + "/" + .deviceName] != null then "●" else "○" end)"
        + " \(.productKey)/\(.deviceName)  "
        + ([(.properties // {}) | to_entries[] | "\(.key)=\(.value.value)"] | join(" ")))'
}

T0=$SECONDS
DURATION=${DEMO_SECONDS:-60}
step=0
while ((DURATION == 0 || SECONDS - T0 < DURATION)); do
  kill -0 "$GW" 2>/dev/null || { echo "demo: the gateway exited; see .demo/linkgw.log" >&2; exit 1; }
  knx_temp $((2100 + RANDOM % 200))
  sleep 5
  step=$((step + 1))
  echo "== t=$((SECONDS - T0))s: what the platform sees"
  show
  case $step in
    3)
      echo "== cloud → light-0: property set {\"PowerSwitch\":1,\"Brightness\":40}"
      "$EMU" prop set a1SimLight light-0 '{"PowerSwitch":1,"Brightness":40}' || true
      echo "== cloud → mb-unit1: property set {\"Setpoint\":42.5,\"Relay\":1}"
      "$EMU" prop set a1DemoMbus mb-unit1 '{"Setpoint":42.5,"Relay":1}' || true
      ;;
    4)
      echo "== cloud → meter-0: service ResetEnergy (async)"
      "$EMU" service invoke a1SimMeter meter-0 ResetEnergy '{}' || true
      echo "== cloud → knx-room1: property set {\"LightSwitch\":1}"
      "$EMU" prop set a1DemoKnx knx-room1 '{"LightSwitch":1}' || true
      ;;
  esac
done
echo "== done; gateway status:"
"$BUILD/tools/linkgwctl/linkgwctl" -c "$DEMO/linkgw.conf" status || true
"$BUILD/tools/linkgwctl/linkgwctl" -c "$DEMO/linkgw.conf" devices || true
