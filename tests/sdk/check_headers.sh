#!/usr/bin/env bash
# Compiles each header of the SDK alone, as C99 (-pedantic) and as C++11.
set -u
inc=$1 cc=$2 cxx=$3 fail=0 n=0
for h in "$inc"/linkgw/*.h; do
  name=linkgw/$(basename "$h")
  n=$((n + 1))
  printf '#include <%s>\nint lgw_header_check_dummy;\n' "$name" |
    "$cc" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$inc" -x c - ||
    { echo "FAIL (C99): $name"; fail=1; }
  printf '#include <%s>\nint lgw_header_check_dummy;\n' "$name" |
    "$cxx" -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$inc" -x c++ - ||
    { echo "FAIL (C++): $name"; fail=1; }
done
echo "checked $n headers as C99 and C++11"
exit $fail
