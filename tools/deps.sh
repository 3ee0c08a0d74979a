#!/usr/bin/env bash
# Installs, with apt-get, every Debian package linkgw needs to build, test and
# run its demo. Does nothing for packages already present, so it is cheap to
# call from every entry point (README commands, .ci/run).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libuv1-dev libpaho-mqtt-dev libjansson-dev libconfig-dev libssl-dev
  libsqlite3-dev sqlite3 libcmocka-dev libsystemd-dev libcurl4-openssl-dev
  libmodbus-dev knxd knxd-dev knxd-tools
  mosquitto mosquitto-dev libmosquitto-dev mosquitto-clients
  socat openssl procps iproute2 valgrind jq
  lintian rpm dpkg-dev systemd
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian enables the packaged mosquitto and knxd services; the tests start their
# own instances on free ports, so the system ones are not needed.
