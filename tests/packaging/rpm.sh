#!/usr/bin/env bash
# The .rpm packages: file lists (rpm -qpl), requirements (rpm -qpR: the
# plugin libraries only where needed), %config(noreplace) files, scriptlets.
set -eu  # no pipefail: `producer | grep -q` would fail on SIGPIPE
PKGDIR=$1
. "$(dirname "$0")/lib.sh"
command -v rpm >/dev/null || { echo "SKIP: rpm not installed"; exit 77; }
ls "$PKGDIR"/*.rpm >/dev/null 2>&1 || { echo "SKIP: no .rpm built (rpmbuild missing)"; exit 77; }
q() { rpm -qp --nosignature "$@" 2>/dev/null; }
core=$(rpmf linkgw) mb=$(rpmf linkgw-modbus) knx=$(rpmf linkgw-knx) dev=$(rpmf linkgw-dev) emu=$(rpmf linkgw-emu)

q -l "$core" | grep -qx /usr/bin/linkgw || fail "linkgw.rpm lacks /usr/bin/linkgw"
q -l "$core" | grep -qx "$PLUGINDIR/sim.so" || fail "linkgw.rpm lacks sim.so"
q -l "$core" | grep -Eqx '(/usr)?/lib/systemd/system/linkgw.service' || fail "linkgw.rpm lacks the unit"
q -l "$mb" | grep -qx "$PLUGINDIR/modbus.so" || fail "linkgw-modbus.rpm lacks modbus.so"
q -l "$knx" | grep -qx "$PLUGINDIR/knx.so" || fail "linkgw-knx.rpm lacks knx.so"
q -l "$dev" | grep -qx /usr/include/linkgw/plugin.h || fail "linkgw-dev.rpm lacks plugin.h"
q -l "$dev" | grep -q 'linkgw-plugin.pc$' || fail "linkgw-dev.rpm lacks linkgw-plugin.pc"
q -l "$emu" | grep -qx /usr/bin/alink-emu || fail "linkgw-emu.rpm lacks alink-emu"
# Directories owned by the system (filesystem, systemd) are not claimed.
for d in /usr/lib/$MULTIARCH /usr/lib/sysusers.d /lib/systemd/system /usr/share/doc /etc; do
  for r in "$core" "$mb" "$knx" "$dev" "$emu"; do
    if q -l "$r" | grep -qx "$d"; then fail "$(basename "$r") owns the system directory $d"; fi
  done
done
ok "file lists"

q -c "$core" | grep -qx /etc/linkgw/linkgw.conf || fail "linkgw.conf is not %config"
q -c "$core" | grep -qx /etc/linkgw/conf.d/sim.conf || fail "conf.d/sim.conf is not %config"
q -c "$mb" | grep -qx /etc/linkgw/conf.d/modbus.conf || fail "modbus.conf is not %config"
q -c "$knx" | grep -qx /etc/linkgw/conf.d/knx.conf || fail "knx.conf is not %config"
# noreplace: rpm's file state flags; %config(noreplace) shows as "c" with noreplace in the dump.
flags=$(q --qf '[%{FILENAMES} %{FILEFLAGS}\n]' "$core" | awk '$1=="/etc/linkgw/linkgw.conf" {print $2}')
(( ${flags:-0} & 16 )) || fail "linkgw.conf is not noreplace (flags ${flags:-none})"   # RPMFILE_NOREPLACE
ok "config files (noreplace)"

q -R "$mb" | grep -q '^libmodbus.so.5' || fail "linkgw-modbus.rpm does not require libmodbus.so.5"
q -R "$knx" | grep -q '^libeibclient.so.0' || fail "linkgw-knx.rpm does not require libeibclient.so.0"
q -R "$emu" | grep -qx mosquitto || fail "linkgw-emu.rpm does not require mosquitto"
q -R "$core" | grep -q '^libcurl' || fail "linkgw.rpm does not require libcurl (OTA dlopen()s it)"
for r in "$mb" "$knx" "$dev"; do
  q -R "$r" | grep -Eq '^linkgw = ' || fail "$(basename "$r") does not require the same linkgw"
done
q -R "$core" | grep -q '^libuv.so.1' || fail "linkgw.rpm does not require libuv"
if q -R "$core" | grep -Eq 'libmodbus|eibclient|mosquitto'; then fail "linkgw.rpm requires a plugin's library"; fi
ok "requirements"

q --scripts "$core" | grep -q 'systemd-sysusers' || fail "%post does not create the user"
q --scripts "$core" | grep -q 'disable --now linkgw.service' || fail "%preun does not stop the unit"
if [ -d "${LINKGW_SOURCE_DIR:-/nonexistent}/packaging/rpm" ]; then
  for f in "$LINKGW_SOURCE_DIR"/packaging/rpm/*.sh; do sh -n "$f" || fail "$f: syntax error"; done
fi
ok "scriptlets"
echo "PASS"
