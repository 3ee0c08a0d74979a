#!/usr/bin/env bash
# The .deb packages hold what docs/packaging.md promises: layout (/usr/bin,
# /usr/lib/<multiarch>/linkgw/plugins, /etc/linkgw), conffiles, the systemd
# unit with Type=notify and its hardening, sysusers/tmpfiles entries,
# maintainer scripts, and dependencies (libmodbus5 only in linkgw-modbus,
# knxd's libeibclient only in linkgw-knx, mosquitto in linkgw-emu).
set -eu  # no pipefail: `producer | grep -q` would fail on SIGPIPE
PKGDIR=$1
. "$(dirname "$0")/lib.sh"

core=$(deb linkgw) mb=$(deb linkgw-modbus) knx=$(deb linkgw-knx) dev=$(deb linkgw-dev) emu=$(deb linkgw-emu)

for f in usr/bin/linkgw "${PLUGINDIR#/}/sim.so" etc/linkgw/linkgw.conf etc/linkgw/conf.d/sim.conf \
         usr/lib/sysusers.d/linkgw.conf usr/lib/tmpfiles.d/linkgw.conf usr/share/doc/linkgw/copyright; do
  has_file "$core" "$f" || fail "linkgw lacks $f"
done
dpkg-deb -c "$core" | awk '{print $6}' | grep -Eq '^\./(usr/)?lib/systemd/system/linkgw\.service$' ||
  fail "linkgw lacks the systemd unit"
if [ -d "${LINKGW_SOURCE_DIR:-/nonexistent}/tools/linkgwctl" ]; then
  has_file "$core" usr/bin/linkgwctl || fail "linkgw lacks linkgwctl"
  has_file "$core" usr/share/man/man1/linkgwctl.1.gz || fail "linkgw lacks linkgwctl(1)"
fi
has_file "$mb" "${PLUGINDIR#/}/modbus.so" || fail "linkgw-modbus lacks modbus.so"
has_file "$knx" "${PLUGINDIR#/}/knx.so" || fail "linkgw-knx lacks knx.so"
has_file "$dev" usr/include/linkgw/plugin.h || fail "linkgw-dev lacks the headers"
has_file "$dev" "usr/lib/$MULTIARCH/pkgconfig/linkgw-plugin.pc" || fail "linkgw-dev lacks linkgw-plugin.pc"
has_file "$dev" usr/share/doc/linkgw/sdk/examples/skeleton/skeleton.c || fail "linkgw-dev lacks the example driver"
has_file "$emu" usr/bin/alink-emu || fail "linkgw-emu lacks alink-emu"
has_file "$emu" "usr/lib/$MULTIARCH/linkgw/alink_emu.so" || fail "linkgw-emu lacks alink_emu.so"
# Nothing of the plugins' libraries in the daemon package, no state shipped.
if dpkg-deb -c "$core" | grep -Eq 'modbus\.so|knx\.so|var/lib'; then fail "linkgw ships a plugin package's file or /var/lib"; fi
ok "layout"

# The plugin directory the packaged daemon looks in is where plugins are installed.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$core" "$tmp"
strings "$tmp/usr/bin/linkgw" | grep -qx "$PLUGINDIR" || fail "the packaged daemon does not default to $PLUGINDIR"
ok "compiled-in plugin dir $PLUGINDIR"

# Conffiles: every /etc file, so operators' edits survive upgrades.
dpkg-deb --ctrl-tarfile "$core" | tar -x -C "$tmp" ./conffiles ./postinst ./prerm ./postrm
grep -qx /etc/linkgw/linkgw.conf "$tmp/conffiles" || fail "linkgw.conf is not a conffile"
grep -qx /etc/linkgw/conf.d/sim.conf "$tmp/conffiles" || fail "conf.d/sim.conf is not a conffile"
for p in "$mb:modbus" "$knx:knx"; do
  dpkg-deb -I "${p%%:*}" conffiles | grep -qx "/etc/linkgw/conf.d/${p##*:}.conf" ||
    fail "conf.d/${p##*:}.conf is not a conffile"
done
# Shipped examples are disabled: installing a plugin package starts nothing.
for p in "$core:sim" "$mb:modbus" "$knx:knx"; do
  dpkg-deb --fsys-tarfile "${p%%:*}" | tar -xO "./etc/linkgw/conf.d/${p##*:}.conf" |
    grep -Eq '^enabled[[:space:]]*=[[:space:]]*false;' || fail "conf.d/${p##*:}.conf is not disabled"
done
ok "conffiles, examples disabled"

# Maintainer scripts: executable, valid sh, doing what they must.
for s in postinst prerm postrm; do
  [ -x "$tmp/$s" ] || fail "$s not executable"
  sh -n "$tmp/$s" || fail "$s: syntax error"
done
grep -q 'systemd-sysusers' "$tmp/postinst" || fail "postinst does not create the user"
grep -q 'dialout' "$tmp/postinst" || fail "postinst does not add the user to dialout"
grep -q 'rm -rf /var/lib/linkgw' "$tmp/postrm" || fail "postrm does not delete the state on purge"
ok "maintainer scripts"

# The unit.
unit=$(find "$tmp" -name linkgw.service)
for l in Type=notify WatchdogSec= Restart=on-failure 'ExecStartPre=/usr/bin/linkgw -c /etc/linkgw/linkgw.conf --check-config' \
         'ExecReload=/bin/kill -HUP $MAINPID' NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
         ReadWritePaths=/var/lib/linkgw User=linkgw SupplementaryGroups=dialout; do
  grep -q "^$l" "$unit" || fail "linkgw.service lacks $l"
done
grep -q '^u linkgw ' "$tmp/usr/lib/sysusers.d/linkgw.conf" || fail "sysusers entry"
grep -q '^m linkgw dialout' "$tmp/usr/lib/sysusers.d/linkgw.conf" || fail "sysusers dialout membership"
grep -q '^d /var/lib/linkgw 0700 linkgw linkgw' "$tmp/usr/lib/tmpfiles.d/linkgw.conf" || fail "tmpfiles entry"
# sysusers.d / tmpfiles.d entries applied by systemd's own tools to a scratch
# root holding a copy of this system's user database.
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null && [ "$(id -u)" -eq 0 ]; then
  root="$tmp/root"
  mkdir -p "$root/etc"
  cp /etc/passwd /etc/group "$root/etc/"
  for f in shadow gshadow; do [ -r "/etc/$f" ] && cp "/etc/$f" "$root/etc/"; done
  systemd-sysusers --root="$root" "$tmp/usr/lib/sysusers.d/linkgw.conf" || fail "systemd-sysusers refuses the entry"
  grep -q '^linkgw:x:[0-9]*:[0-9]*:[^:]*:/var/lib/linkgw:/usr/sbin/nologin$' "$root/etc/passwd" ||
    fail "sysusers did not create the system user: $(grep linkgw "$root/etc/passwd")"
  grep -q '^dialout:[^:]*:[0-9]*:\(.*,\)\?linkgw\(,.*\)\?$' "$root/etc/group" || fail "sysusers did not add linkgw to dialout"
  systemd-tmpfiles --root="$root" --create "$tmp/usr/lib/tmpfiles.d/linkgw.conf" || fail "systemd-tmpfiles refuses the entry"
  uid=$(grep '^linkgw:' "$root/etc/passwd" | cut -d: -f3)
  [ "$(stat -c '%a %u' "$root/var/lib/linkgw")" = "700 $uid" ] ||
    fail "tmpfiles made /var/lib/linkgw $(stat -c '%a %u' "$root/var/lib/linkgw"), not 700 $uid"
  ok "sysusers/tmpfiles applied to a scratch root: user linkgw in dialout, /var/lib/linkgw 0700"
fi
# The hardening as systemd rates it (lower is better; 10 = unprotected).
if systemd-analyze security --offline=true "$unit" >"$tmp/security" 2>&1; then
  level=$(sed -n 's/.*Overall exposure level for linkgw.service: \([0-9.]*\).*/\1/p' "$tmp/security")
  [ -n "$level" ] || { cat "$tmp/security"; fail "no exposure level from systemd-analyze security"; }
  awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }' || { grep '✗' "$tmp/security"; fail "exposure level $level > 3.0"; }
  echo "systemd-analyze security: exposure $level"
fi
ok "systemd unit, sysusers, tmpfiles"

# Dependencies (dpkg-shlibdeps + declared).
dep() { field "$1" Depends | tr ',' '\n' | sed 's/^ *//'; }
dep "$mb" | grep -q '^libmodbus5' || fail "linkgw-modbus does not depend on libmodbus5: $(dep "$mb" | paste -sd,)"
knxlib=$(dpkg -S "/usr/lib/$MULTIARCH/libeibclient.so.0" 2>/dev/null | cut -d: -f1 | head -n1)
[ -n "$knxlib" ] || knxlib=knxd-tools
dep "$knx" | grep -q "^$knxlib" || fail "linkgw-knx does not depend on $knxlib: $(dep "$knx" | paste -sd,)"
dep "$emu" | grep -q '^mosquitto' || fail "linkgw-emu does not depend on mosquitto"
for p in "$mb" "$knx" "$dev"; do
  dep "$p" | grep -Eq '^linkgw \(= [^)]+\)' || fail "$(field "$p" Package) does not depend on the same linkgw"
done
dep "$core" | grep -q '^libuv1' || fail "linkgw does not depend on libuv1"
dep "$core" | grep -q '^libcurl4' || fail "linkgw does not depend on libcurl4 (OTA dlopen()s it, shlibdeps cannot see it)"
if dep "$core" | grep -Eq 'libmodbus|knxd|eibclient|mosquitto'; then fail "linkgw pulls a plugin's library: $(dep "$core" | paste -sd,)"; fi
ok "dependencies: $(field "$core" Depends) | modbus: $(field "$mb" Depends) | knx: $(field "$knx" Depends)"
echo "PASS"
