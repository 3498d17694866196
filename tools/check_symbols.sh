#!/bin/sh
# check_symbols.sh BUILD_DIR [SOURCE_DIR] — the public gw_ surface is what the headers document:
# every function a room's library exports under the gw_ prefix must be declared in a public
# header (include/gridwatch/*.h, or an api/ room's own headers).  Internal functions shared
# between the files of one room use the room's own prefix (st_, sq_, cov_, mdl_, tl_, pl_ …).
# Prints each undocumented gw_ symbol with its library and exits 1 when there is one.
set -u
build=$1
src=${2:-$(cd "$(dirname "$0")/.." && pwd)}
declared=$(cat "$src"/include/gridwatch/*.h "$src"/api/*/*.h 2>/dev/null |
           grep -o '\bgw_[A-Za-z0-9_]*[[:space:]]*(' | tr -d ' (\t' | sort -u)
bad=0
for lib in "$build"/libgw*.a; do
  [ -f "$lib" ] || continue
  for sym in $(nm -g --defined-only "$lib" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ && $3 ~ /^gw_/ { print $3 }' | sort -u); do
    if ! echo "$declared" | grep -qx "$sym"; then
      echo "check_symbols: $(basename "$lib"): $sym is exported but no public header declares it"
      bad=1
    fi
  done
done
exit $bad
