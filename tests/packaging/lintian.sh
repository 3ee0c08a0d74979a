#!/usr/bin/env bash
# lintian over every .deb: no error-level tag may remain (warnings are
# printed). Overrides live in packaging/lintian/ with the reason beside each.
set -eu  # no pipefail: `producer | grep -q` would fail on SIGPIPE
PKGDIR=$1
. "$(dirname "$0")/lib.sh"
command -v lintian >/dev/null || { echo "SKIP: lintian not installed"; exit 77; }
debs=()
for p in "${PACKAGES[@]}"; do debs+=("$(deb "$p")"); done
out=$(lintian --pedantic "${debs[@]}" 2>&1 | grep -v 'running with root privileges' || true)
echo "$out"
if echo "$out" | grep -q '^E: '; then fail "lintian reports errors"; fi
echo "PASS: no lintian error ($(echo "$out" | grep -c '^W: ' || true) warnings)"
