# Shared helpers of the tests/packaging scripts (sourced, not run).
# PKGDIR must be set to the directory holding the built packages.

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# deb NAME → path of the .deb of package NAME in $PKGDIR.
deb() {
  local f
  f=$(ls "$PKGDIR"/"$1"_*.deb 2>/dev/null | head -n1)
  [ -n "$f" ] || fail "no $1_*.deb in $PKGDIR"
  echo "$f"
}

# rpmf NAME → path of the .rpm of package NAME in $PKGDIR.
rpmf() {
  local f
  f=$(ls "$PKGDIR"/"$1"-[0-9]*.rpm 2>/dev/null | head -n1)
  [ -n "$f" ] || fail "no $1-*.rpm in $PKGDIR"
  echo "$f"
}

# field DEB FIELD → the control field's value.
field() { dpkg-deb -f "$1" "$2"; }

# has_file DEB PATH → true if the package holds ./PATH.
has_file() { dpkg-deb -c "$1" | awk '{print $6}' | grep -qx "\./${2#/}"; }

MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
PLUGINDIR=/usr/lib/$MULTIARCH/linkgw/plugins
PACKAGES=(linkgw linkgw-modbus linkgw-knx linkgw-dev linkgw-emu)
