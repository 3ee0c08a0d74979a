#!/usr/bin/env bash
# Placeholder until the daemon lands (issue 2): builds the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build/demo >/dev/null && cmake --build build/demo -j"$(nproc)"
echo "demo: the daemon is not built yet"
