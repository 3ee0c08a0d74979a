#!/usr/bin/env bash
# The daemon's dynamic symbol table is the plugin ABI: it must export every
# LGW_HOST_API function declared in sdk/include/linkgw/*.h (or plugins fail
# to load with "undefined symbol"), and nothing else of ours (hidden
# visibility keeps the core's internals private).
# Usage: check_exports.sh LINKGW_BIN SDK_INCLUDE_DIR
set -euo pipefail
bin=$1 inc=$2
declared=$(cat "$inc"/linkgw/*.h | tr '\n' ' ' | grep -oE 'LGW_HOST_API[^;(]*\(' |
           grep -oE 'lgw_[a-z0-9_]+[[:space:]]*\($' | tr -d '( ' | sort -u)
exported=$(nm -D --defined-only "$bin" | awk '$2 ~ /^[TtWi]$/ {print $3}' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
extra=$(comm -13 <(echo "$declared") <(echo "$exported") | grep -vE '^(_init|_fini|_start|main|data_start|__data_start|__libc_csu_.*)$' || true)
n=$(echo "$declared" | wc -l)
[ -z "$missing" ] || { echo "declared in the SDK but not exported by $bin:"; echo "$missing"; exit 1; }
[ -z "$extra" ] || { echo "exported by $bin but not part of the SDK:"; echo "$extra"; exit 1; }
echo "all $n LGW_HOST_API functions exported, nothing else"
