#!/bin/sh
# bench_wall.sh — the map wall's 10-minute responsiveness run (bench/bench_wall.mjs): a scale-1
# city, `gridwatch serve`, the wall in headless Chromium, 50 team moves per second through
# POST /dispatch/positions; prints frames / dropped frames / heap / lag per minute and a verdict.
# usage: bench/bench_wall.sh [BUILD/gridwatch]
# env:   WORK (scratch dir, default ./bench-wall-work), DB (a city to copy instead of generating
#        one), SCALE (1), DURATION (600 s), RATE (50 moves/s), VIEWPORT (1920x1080), MODE (wall|page)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=$(cd "$(dirname "${1:-$root/build/gridwatch}")" && pwd)/$(basename "${1:-$root/build/gridwatch}")
work=${WORK:-$PWD/bench-wall-work}
mkdir -p "$work"
db=$work/city.db
rm -f "$db" "$db-wal" "$db-shm"
if [ -n "${DB:-}" ]; then
  # a copy: the run writes positions and a token into it
  cp "$DB" "$db"
  for s in -wal -shm; do [ -f "$DB$s" ] && cp "$DB$s" "$db$s"; done
else
  "$bin" gen-city "$db" --scale "${SCALE:-1}"
fi
[ -d "$root/web/node_modules/playwright-core" ] || { echo "web/node_modules missing: cd web && npm ci" >&2; exit 2; }
GW_BIN=$bin DB=$db exec node "$here/bench_wall.mjs"
