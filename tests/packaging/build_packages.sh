#!/usr/bin/env bash
# Builds linkgw's .deb and .rpm packages the way a release does: a build tree
# of its own configured with the /usr prefix (so the daemon's compiled-in
# plugin directory is /usr/lib/<multiarch>/linkgw/plugins), only the
# installable targets compiled, then `cpack -G DEB` and `cpack -G RPM` (RPM when
# rpmbuild exists). Packages land in BUILD/packages.
#
# Always RelWithDebInfo (stripped by CPack), whatever the calling build is:
# packages are release artefacts.
#
# Usage: build_packages.sh SOURCE_DIR BUILD_DIR C_COMPILER [-DOPTION=VALUE ...]
set -euo pipefail
src=$1 build=$2 cc=$3
shift 3

# Debian's hardening flags (stack protector, _FORTIFY_SOURCE, relro, bindnow),
# as a Debian package build would use them; CMake reads CFLAGS/LDFLAGS from
# the environment when the build tree is first configured.
if command -v dpkg-buildflags >/dev/null; then
  export DEB_BUILD_MAINT_OPTIONS=hardening=+all
  CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
  LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
  export CFLAGS LDFLAGS
fi
cmake -S "$src" -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DLINKGW_SANITIZE=OFF \
  -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON "$@" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }

# Only what the install rules ship (not the tests and benchmarks): the daemon,
# every plugin (plugins/<name> builds target <name>), the tools.
targets=(linkgw)
help=$(cmake --build "$build" --target help)
for t in $(ls "$src/plugins") alink_emu alink-emu linkgwctl; do
  if grep -qx "\.\.\. $t" <<<"$help"; then targets+=("$t"); fi
done
cmake --build "$build" -j2 --target "${targets[@]}"

# Every install() rule must name its package's component: a rule without one
# lands in "Unspecified", which no package carries.
stray=$(mktemp -d)
DESTDIR="$stray" cmake --install "$build" --component Unspecified >/dev/null
if [ -n "$(find "$stray" -type f)" ]; then
  echo "FAIL: install() rules without COMPONENT (in no package):"; find "$stray" -type f | sed "s|^$stray||"
  rm -rf "$stray"; exit 1
fi
rm -rf "$stray"

rm -rf "$build/packages"
(cd "$build" && cpack -G DEB)
if command -v rpmbuild >/dev/null; then
  (cd "$build" && cpack -G RPM -D CPACK_RPM_PACKAGE_DEBUG=OFF)
fi
ls -l "$build/packages"
