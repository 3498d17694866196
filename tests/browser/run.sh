#!/bin/sh
# run.sh — the browser tests under ctest: skipped (exit 77) when Node, Debian's Chromium or the
# web page's npm packages are missing; otherwise node --test against the given gridwatch binary.
# usage: tests/browser/run.sh BUILD/gridwatch
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
chromium=${GW_CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null 2>&1 || { echo "skipped: node is not installed (Debian: nodejs)"; exit 77; }
[ -x "$chromium" ] || { echo "skipped: $chromium is missing (Debian: chromium)"; exit 77; }
for m in maplibre-gl playwright-core; do
  [ -d "$root/web/node_modules/$m" ] || { echo "skipped: web/node_modules/$m is missing (run: cd web && npm ci)"; exit 77; }
done
GW_BIN=${1:?usage: run.sh BUILD/gridwatch} exec node --test --test-concurrency=1 "$here/"
