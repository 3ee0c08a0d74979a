#!/usr/bin/env bash
# Installs the built .deb packages into THIS system and exercises them the way
# an operator and a driver author would, then removes and purges them:
#   1. dpkg -i linkgw: system user (in dialout), /var/lib/linkgw 0700, config
#   2. an operator edits conf.d/sim.conf and adds conf.d/site.conf; an upgrade
#      that ships a changed sim.conf keeps both (the new one as .dpkg-dist)
#   3. dpkg -i of all five packages; the shipped conf.d examples, enabled in
#      a copy, pass --check-config with the installed plugins
#   4. the installed daemon, as user linkgw with the installed sim plugin and
#      the real /etc/linkgw, sends READY=1/RELOADING=1/STOPPING=1 to an
#      abstract $NOTIFY_SOCKET, reports the sim devices and stops cleanly
#   5. the installed emulator (linkgw-emu) starts a broker on a free port and
#      answers its console; with a daemon that has the cloud module the
#      daemon's gateway connects to it
#   6. the SDK example is built from /usr/share/doc against the installed
#      linkgw-dev (pkg-config only), installed into the plugin directory and
#      loaded by the installed daemon
#   7. dpkg -r keeps /var/lib/linkgw and the configuration; dpkg -P deletes
#      the state and the conffiles (files the operator created are left)
# Runs only as root with LINKGW_TEST_SYSTEM_INSTALL=1 (exit 77 = skipped).
set -eu  # no pipefail: `producer | grep -q` would fail on SIGPIPE
PKGDIR=$1
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || [ "${LINKGW_TEST_SYSTEM_INSTALL:-}" != 1 ]; then
  echo "SKIP: installs packages into the system; needs root and LINKGW_TEST_SYSTEM_INSTALL=1"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/linkgw-pkgtest.XXXXXX")
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -f "$PLUGINDIR/skeleton.so"
  dpkg -P "${PACKAGES[@]}" >/dev/null 2>&1 || true
  rm -f /etc/linkgw/conf.d/site.conf /etc/linkgw/conf.d/sim.conf.dpkg-*
  rmdir /etc/linkgw/conf.d /etc/linkgw 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# wait_log FILE PATTERN PID: up to 30 s for PATTERN in FILE while PID lives.
wait_log() {
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  cat "$1"; fail "'$2' did not appear in $1"
}
free_port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0)->sockport'; }

debs=()
for p in "${PACKAGES[@]}"; do debs+=("$(deb "$p")"); done
version=$(field "$(deb linkgw)" Version)

echo "== 1. dpkg -i linkgw"
dpkg -P "${PACKAGES[@]}" >/dev/null 2>&1 || true
dpkg -i "$(deb linkgw)"
getent passwd linkgw >/dev/null || fail "no user linkgw"
id -nG linkgw | tr ' ' '\n' | grep -qx dialout || fail "linkgw is not in dialout: $(id -nG linkgw)"
case "$(getent passwd linkgw | cut -d: -f7)" in */nologin|/bin/false) ;; *) fail "linkgw has a login shell";; esac
[ "$(stat -c '%a %U %G' /var/lib/linkgw)" = "700 linkgw linkgw" ] ||
  fail "/var/lib/linkgw is $(stat -c '%a %U %G' /var/lib/linkgw), not 700 linkgw linkgw"
dpkg-query -W -f='${Conffiles}\n' linkgw | grep -q '/etc/linkgw/conf.d/sim.conf' || fail "sim.conf not registered as conffile"
/usr/bin/linkgw --version
/usr/bin/linkgw -c /etc/linkgw/linkgw.conf --check-config | grep -q 'configuration OK' || fail "shipped configuration does not check"
if command -v systemd-analyze >/dev/null; then
  unit=$(dpkg -L linkgw | grep '/systemd/system/linkgw.service$')
  systemd-analyze verify "$unit" 2>&1 | tee "$tmp/verify" || true
  if grep -v -e 'Failed to' -e 'not running' -e 'System has not been booted' "$tmp/verify" | grep -q 'linkgw.service'; then
    fail "systemd-analyze verify complains about linkgw.service"
  fi
fi
if command -v deb-systemd-helper >/dev/null; then
  [ -L /etc/systemd/system/multi-user.target.wants/linkgw.service ] || fail "linkgw.service not enabled on installation"
fi
ok "installed: user, state dir, conffiles, --check-config, unit enabled"

echo "== 2. operator edits survive an upgrade"
sed -i 's/^enabled = false;/enabled = true;/' /etc/linkgw/conf.d/sim.conf
echo "# edited by the operator" >>/etc/linkgw/conf.d/sim.conf
cat >/etc/linkgw/conf.d/site.conf <<'CONF'
# created by the operator
plugin = "sim";
settings = { thermometer = { count = 1; interval_ms = 200; prefix = "site-"; }; };
CONF
mkdir "$tmp/up"
dpkg-deb -R "$(deb linkgw)" "$tmp/up"
sed -i "s/^Version: .*/Version: ${version}+up1/" "$tmp/up/DEBIAN/control"
echo "# a line the new upstream version added" >>"$tmp/up/etc/linkgw/conf.d/sim.conf"
(cd "$tmp/up" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | xargs -0 md5sum >DEBIAN/md5sums)
dpkg-deb --root-owner-group -b "$tmp/up" "$tmp/linkgw-up.deb" >/dev/null
dpkg -i --force-confdef --force-confold "$tmp/linkgw-up.deb" </dev/null
grep -q '^# edited by the operator' /etc/linkgw/conf.d/sim.conf || fail "the upgrade overwrote the operator's sim.conf"
grep -q '^enabled = true;' /etc/linkgw/conf.d/sim.conf || fail "the upgrade re-disabled sim.conf"
grep -q 'created by the operator' /etc/linkgw/conf.d/site.conf || fail "the upgrade lost conf.d/site.conf"
[ -f /etc/linkgw/conf.d/sim.conf.dpkg-dist ] || fail "the new shipped sim.conf was not kept as .dpkg-dist"
ok "upgrade kept the operator's conf.d (new version in sim.conf.dpkg-dist)"

echo "== 3. all packages; the shipped examples check with the installed plugins"
dpkg -i --force-confdef --force-confold "${debs[@]}" </dev/null
rm -f /etc/linkgw/conf.d/sim.conf.dpkg-*
for p in "${PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status} ${Version}' "$p")" = "install ok installed $version" ] || fail "$p is not installed at $version"
done
mkdir -p "$tmp/ex/conf.d" "$tmp/ex/state"
for f in sim modbus knx; do
  sed 's/^enabled = false;/enabled = true;/' "/etc/linkgw/conf.d/$f.conf" >"$tmp/ex/conf.d/$f.conf"
done
printf 'conf_dir = "%s/ex/conf.d";\nstate_dir = "%s/ex/state";\n' "$tmp" "$tmp" >"$tmp/ex/linkgw.conf"
/usr/bin/linkgw -c "$tmp/ex/linkgw.conf" --check-config || fail "a shipped conf.d example, enabled, does not check"
ok "examples sim, modbus, knx load in the installed plugins"

echo "== 4. the installed daemon as user linkgw (the unit's User=, SupplementaryGroups=)"
sock="linkgw-pkgtest-$$"
socat -u "ABSTRACT-RECV:$sock" "OPEN:$tmp/notify,creat,append" &
receiver=$!
pids+=("$receiver")
for _ in $(seq 1 50); do grep -q "@$sock" /proc/net/unix && break; sleep 0.1; done
setpriv --reuid=linkgw --regid=linkgw --init-groups sh -c 'umask 077 && touch /var/lib/linkgw/written-by-linkgw' ||
  fail "user linkgw cannot write /var/lib/linkgw"
NOTIFY_SOCKET="@$sock" setpriv --reuid=linkgw --regid=linkgw --init-groups \
  /usr/bin/linkgw -c /etc/linkgw/linkgw.conf >"$tmp/daemon.log" 2>&1 &
daemon=$!
pids+=("$daemon")
wait_log "$tmp/daemon.log" 'INFO linkgw: running' "$daemon"
wait_log "$tmp/daemon.log" 'device added: sim/' "$daemon"
wait_log "$tmp/daemon.log" 'device added: site/site-' "$daemon"
wait_log "$tmp/notify" 'READY=1' "$daemon"
kill -HUP "$daemon"
wait_log "$tmp/daemon.log" 'reload done' "$daemon"
wait_log "$tmp/notify" 'RELOADING=1' "$daemon"
kill -TERM "$daemon"
status=0; wait "$daemon" || status=$?
wait_log "$tmp/notify" 'STOPPING=1' "$receiver"   # socat may write it after the daemon exited
[ "$status" -eq 0 ] || { cat "$tmp/daemon.log"; fail "the daemon exited with $status"; }
foreign=$(find /var/lib/linkgw ! -user linkgw)
[ -z "$foreign" ] || fail "files in /var/lib/linkgw not owned by linkgw: $foreign"
loose=$(find /var/lib/linkgw -type f -perm /077)   # the daemon runs with umask 022 here: its own 0600 discipline
[ -z "$loose" ] || fail "state files readable by others: $loose"
ok "daemon ran with the installed sim plugin: $(grep -c 'device added' "$tmp/daemon.log") devices; notify: $(tr -s '\n' ' ' <"$tmp/notify")"

echo "== 5. the installed emulator"
port=$(free_port)
/usr/bin/alink-emu broker --port "$port" --registry /usr/share/linkgw/alink-emu/registry.example.json \
  --state-dir "$tmp/emu" >"$tmp/emu.log" 2>&1 &
emu=$!
pids+=("$emu")
up=
for _ in $(seq 1 100); do
  if /usr/bin/alink-emu -p "$port" state >"$tmp/emu-state.json" 2>/dev/null; then up=1; break; fi
  kill -0 "$emu" 2>/dev/null || break
  sleep 0.1
done
[ -n "$up" ] || { cat "$tmp/emu.log"; fail "the installed alink-emu broker did not answer its console"; }
grep -q 'a1TestPK01' "$tmp/emu-state.json" || fail "the emulator state lacks the registry's gateway"
ok "alink-emu broker (installed plugin $(ls /usr/lib/"$MULTIARCH"/linkgw/alink_emu.so)) answers on port $port"
# The daemon against the emulator, when the daemon has the cloud module: its
# gateway gw01 (registry.example.json) must come online on the emulator.
gwsecret=$(perl -0ne 'print $1 if /"deviceName":\s*"gw01",\s*"deviceSecret":\s*"([^"]+)"/' \
  /usr/share/linkgw/alink-emu/registry.example.json)
cat >"$tmp/cloud.conf" <<CONF
conf_dir = "/etc/linkgw/conf.d";
state_dir = "$tmp/ex/state";
cloud = { host = "127.0.0.1"; port = $port; tls = false; product_key = "a1TestPK01";
          device_name = "gw01"; device_secret = "$gwsecret"; };
CONF
if /usr/bin/linkgw -c "$tmp/cloud.conf" --check-config >"$tmp/cloud.check" 2>&1; then
  /usr/bin/linkgw -c "$tmp/cloud.conf" >"$tmp/cloud.log" 2>&1 &
  d2=$!; pids+=("$d2")
  wait_log "$tmp/cloud.log" 'INFO linkgw: running' "$d2"
  /usr/bin/alink-emu -p "$port" wait online a1TestPK01 gw01 --timeout 30 ||
    { tail -n 30 "$tmp/cloud.log"; fail "the installed daemon's gateway did not come online on the emulator"; }
  if [ -x /usr/bin/linkgwctl ]; then
    /usr/bin/linkgwctl -c "$tmp/cloud.conf" status || fail "linkgwctl status against the installed daemon failed"
    ok "linkgwctl status answered by the installed daemon"
  fi
  kill -TERM "$d2"; status=0; wait "$d2" || status=$?
  [ "$status" -eq 0 ] || { tail -n 30 "$tmp/cloud.log"; fail "daemon with cloud exited with $status"; }
  ok "the installed daemon's gateway a1TestPK01/gw01 came online on the installed emulator"
else
  echo "note: this daemon has no cloud module yet ($(head -n1 "$tmp/cloud.check")); emulator checked standalone"
fi
kill -TERM "$emu"; wait "$emu" 2>/dev/null || true

echo "== 6. the SDK example against the installed linkgw-dev"
cp -r /usr/share/doc/linkgw/sdk/examples/skeleton "$tmp/skeleton"
(unset PKG_CONFIG_PATH
 [ "$(pkg-config --modversion linkgw-plugin)" = "${LINKGW_VERSION:-$(pkg-config --modversion linkgw-plugin)}" ] || fail "pkg-config version"
 [ "$(pkg-config --variable=plugindir linkgw-plugin)" = "$PLUGINDIR" ] || fail "plugindir is $(pkg-config --variable=plugindir linkgw-plugin)"
 make -C "$tmp/skeleton" >/dev/null
 make -C "$tmp/skeleton" install >/dev/null)
[ -f "$PLUGINDIR/skeleton.so" ] || fail "make install did not put skeleton.so into $PLUGINDIR"
mkdir -p "$tmp/sk/conf.d" "$tmp/sk/state"
sed 's/interval_ms = 1000;/interval_ms = 20;/' "$tmp/skeleton/skeleton.conf" >"$tmp/sk/conf.d/skeleton.conf"
printf 'conf_dir = "%s/sk/conf.d";\nstate_dir = "%s/sk/state";\n' "$tmp" "$tmp" >"$tmp/sk/linkgw.conf"
/usr/bin/linkgw -c "$tmp/sk/linkgw.conf" --check-config
/usr/bin/linkgw -c "$tmp/sk/linkgw.conf" >"$tmp/sk.log" 2>&1 &
d3=$!; pids+=("$d3")
wait_log "$tmp/sk.log" 'skeleton/skeleton-1 properties' "$d3"
kill -TERM "$d3"; status=0; wait "$d3" || status=$?
[ "$status" -eq 0 ] || { cat "$tmp/sk.log"; fail "daemon with skeleton exited with $status"; }
rm -f "$PLUGINDIR/skeleton.so"
ok "skeleton.so built with pkg-config against /usr/include/linkgw and run by /usr/bin/linkgw"

echo "== 7. remove keeps state and configuration, purge deletes them"
dpkg -r linkgw-dev linkgw-emu linkgw-modbus linkgw-knx linkgw
[ ! -e /usr/bin/linkgw ] || fail "/usr/bin/linkgw left after remove"
[ -f /var/lib/linkgw/written-by-linkgw ] || fail "remove deleted the state in /var/lib/linkgw"
[ -f /etc/linkgw/linkgw.conf ] || fail "remove deleted linkgw.conf"
grep -q '^# edited by the operator' /etc/linkgw/conf.d/sim.conf || fail "remove lost the operator's sim.conf"
[ "$(dpkg-query -W -f='${Status}' linkgw)" = "deinstall ok config-files" ] || fail "linkgw not in config-files state"
ok "removed: state and configuration kept"
dpkg -P "${PACKAGES[@]}"
[ ! -e /var/lib/linkgw ] || fail "purge left /var/lib/linkgw"
[ ! -e /etc/linkgw/linkgw.conf ] || fail "purge left linkgw.conf"
[ ! -e /etc/linkgw/conf.d/sim.conf ] || fail "purge left conf.d/sim.conf"
[ -f /etc/linkgw/conf.d/site.conf ] || fail "purge deleted a file the operator created"
if dpkg-query -W linkgw >/dev/null 2>&1 && [ -n "$(dpkg-query -W -f='${Status}' linkgw | grep -v not-installed)" ]; then
  fail "linkgw still known to dpkg after purge"
fi
[ ! -e /etc/systemd/system/multi-user.target.wants/linkgw.service ] || fail "purge left the unit enabled"
ok "purged: state and conffiles deleted, the operator's own file left"
echo "PASS"
