#!/bin/sh
# shellcheck disable=SC2046 # the set -- $(...) word splits are meant
# bench_heatmap.sh — heat map tile latency for a 1 M-incident year (issue 6): `gridwatch serve` on
# the city, a fixed pyramid of /tiles/heatmap/{z}/{x}/{y}.png requested over loopback
#   * every tile over the city at z8-12, plus a fixed random sample (seed 6) at z13-15;
#   * uncached: the first request of each tile (X-Tile-Cache: miss; the kernel density, colouring
#     and PNG encoding of that tile), twice — the second pass with ?min=1, which renders the same
#     bytes under another cache key, so it misses again;
#   * cached: the same requests again right after each uncached pass (X-Tile-Cache: hit);
#   * throughput: wrk on one cached tile and round robin over all of them, beside nginx serving the
#     same PNG bytes from disk (the ceiling for a cached tile).
# Per-request times are curl's time_total over one kept-alive connection (no process start).
# No uncached peer: gdal_grid / gdalwarp compute other things (interpolation, resampling), not a
# kernel density coloured into a PNG, so a ratio against them would mean nothing.
# usage: bench/bench_heatmap.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR]
#                               [--sample N] [--duration SECONDS]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/.." && pwd)
B="$SRCDIR/build"
SRC_DB=""
SCALE=1
WORK=${TMPDIR:-/tmp}/gw_bench_heatmap
SAMPLE=40
DUR=10
CONN=16
while [ $# -gt 0 ]; do
  case "$1" in
    --build) B=$(cd "$2" && pwd); shift 2 ;;
    --db) SRC_DB=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --sample) SAMPLE=$2; shift 2 ;;
    --duration) DUR=$2; shift 2 ;;
    *) echo "usage: bench_heatmap.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR] [--sample N] [--duration S]" >&2; exit 2 ;;
  esac
done
GW="$B/gridwatch"
. "$HERE/bench_pg.sh" # bench_city, bench_serve, bench_stop, wrk_summary, log (no PostgreSQL here)
for t in wrk nginx curl sqlite3; do
  command -v $t >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || { echo "bench_heatmap: $t not installed (Debian: wrk nginx-light curl sqlite3 libsqlite3-mod-spatialite)" >&2; exit 1; }
done
trap bench_stop EXIT
trap 'exit 1' INT TERM HUP PIPE

bench_city
NI=$(sqlite3 "$WORK/city.db" "SELECT count(*) FROM incidents")

# ---- the pyramid: all tiles over the city's grids at z8-12, a seeded sample at z13-15 ----------
set -- $(sqlite3 -separator ' ' "$WORK/city.db" ".load mod_spatialite" \
  "SELECT Min(MbrMinX(geom)), Min(MbrMinY(geom)), Max(MbrMaxX(geom)), Max(MbrMaxY(geom)) FROM grids")
awk -v w="$1" -v s="$2" -v e="$3" -v n="$4" -v k="$SAMPLE" 'BEGIN {
  pi = atan2(0, -1); srand(6)
  for (z = 8; z <= 15; z++) {
    m = 2 ^ z
    x0 = int((w + 180) / 360 * m); x1 = int((e + 180) / 360 * m)
    r = n * pi / 180; y0 = int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / pi) / 2 * m)
    r = s * pi / 180; y1 = int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / pi) / 2 * m)
    if (z <= 12) { for (x = x0; x <= x1; x++) for (y = y0; y <= y1; y++) print z, x, y }
    else for (i = 0; i < k; i++) print z, x0 + int(rand() * (x1 - x0 + 1)), y0 + int(rand() * (y1 - y0 + 1))
  }
}' | awk '!seen[$0]++' >"$WORK/heat-tiles.txt"
NT=$(wc -l <"$WORK/heat-tiles.txt")
log "$NT heat map tiles; $NI incidents"

bench_serve --threads "$(nproc 2>/dev/null || echo 2)"

# pass QUERY NAME: every tile once over one connection -> WORK/heat-NAME.txt "z x y ms bytes cache code"
pass() {
  awk -v u="$URL" -v q="$1" '{ printf "url = \"%s/tiles/heatmap/%d/%d/%d.png%s\"\noutput = \"/dev/null\"\n", u, $1, $2, $3, q }' \
    "$WORK/heat-tiles.txt" >"$WORK/curl.cfg"
  curl -s -K "$WORK/curl.cfg" -w '%{http_code} %{time_total} %{size_download} %header{x-tile-cache}\n' |
    paste -d ' ' "$WORK/heat-tiles.txt" - | awk '{ printf "%d %d %d %.3f %d %s %d\n", $1, $2, $3, $5 * 1000, $6, $7, $4 }' \
    >"$WORK/heat-$2.txt"
  bad=$(awk '$7 != 200' "$WORK/heat-$2.txt" | wc -l)
  [ "$bad" -eq 0 ] || { echo "bench_heatmap: $bad tiles did not answer 200: $(awk '$7 != 200' "$WORK/heat-$2.txt" | head -n 3)" >&2; exit 1; }
}
# each cached pass right after its uncached one: the heat map cache (a fixed 64 MB in
# api/heatmap_http.c) holds one pass of a scale-1 pyramid, not two (LRU would evict pass 1)
log "uncached pass 1"; pass "" miss1
log "cached pass 1"; pass "" hit1
log "uncached pass 2 (?min=1: same bytes, another cache key)"; pass "?min=1" miss2
log "cached pass 2"; pass "?min=1" hit2
for f in miss1 miss2; do
  n=$(awk '$6 != "miss"' "$WORK/heat-$f.txt" | wc -l)
  [ "$n" -eq 0 ] || echo "bench_heatmap: warning: $n 'uncached' requests of $f were cache hits" >&2
done
for f in hit1 hit2; do
  n=$(awk '$6 != "hit"' "$WORK/heat-$f.txt" | wc -l)
  [ "$n" -eq 0 ] || echo "bench_heatmap: warning: $n 'cached' requests of $f missed the cache (budget too small?)" >&2
done
awk 'NR == FNR { b[FNR] = $5; next } $5 != b[FNR] { d++ } END { if (d) printf "bench_heatmap: warning: %d tiles differ in size with ?min=1\n", d > "/dev/stderr" }' \
  "$WORK/heat-miss1.txt" "$WORK/heat-miss2.txt"

# stats FILES ZMIN ZMAX -> "n median p99 max meanKB"
stats() {
  za=$2 zb=$3
  echo "$1" | tr ' ' '\n' | while read -r f; do cat "$WORK/heat-$f.txt"; done |
    awk -v a="$za" -v b="$zb" '$1 >= a && $1 <= b { print $4, $5 }' | sort -n | awk '
      { v[NR] = $1; by += $2 } END { if (!NR) { print "0 0 0 0 0"; exit }
        i = int((NR - 1) * 0.5) + 1; j = int((NR - 1) * 0.99 + 0.5) + 1; if (j > NR) j = NR
        printf "%d %.2f %.2f %.2f %.1f\n", NR, v[i], v[j], v[NR], by / NR / 1024 }'
}

# ---- throughput: gridwatch's cache vs nginx on the same bytes ---------------------------------
rm -rf "$WORK/www"
while read -r z x y; do
  mkdir -p "$WORK/www/tiles/heatmap/$z/$x"
  echo "url = \"$URL/tiles/heatmap/$z/$x/$y.png\""
  echo "output = \"$WORK/www/tiles/heatmap/$z/$x/$y.png\""
done <"$WORK/heat-tiles.txt" >"$WORK/curl-save.cfg"
curl -s -K "$WORK/curl-save.cfg"
sed 's|\(.*\) \(.*\) \(.*\)|/tiles/heatmap/\1/\2/\3.png|' "$WORK/heat-tiles.txt" >"$WORK/heat-paths.txt"
{
  echo 'local paths, n = {}, 0'
  sed 's/.*/paths[#paths + 1] = "&"/' "$WORK/heat-paths.txt"
  echo 'request = function() n = n % #paths + 1; return wrk.format("GET", paths[n]) end'
} >"$WORK/heat.lua"
# the single tile: the city centre's z12 tile
ONE=$(awk 'NR == FNR { if ($1 == 12) t[++k] = $0; next } END { split(t[int((k + 1) / 2)], a, " "); printf "/tiles/heatmap/%d/%d/%d.png", a[1], a[2], a[3] }' \
  "$WORK/heat-tiles.txt" /dev/null)
nginx_static bench_heatmap image/png png
curl -s "$URL$ONE" | cmp -s - "$WORK/www$ONE" || echo "bench_heatmap: warning: gridwatch and nginx bytes differ for $ONE" >&2
wrk_run() { # BASE-URL NAME [LUA]
  if [ -n "${3:-}" ]; then set -- "$1" "$2" -s "$3"; else set -- "$1$ONE" "$2"; fi
  u=$1 name=$2
  shift 2
  wrk -t2 -c"$CONN" -d2s "$@" "$u" >/dev/null 2>&1 || true
  wrk -t2 -c"$CONN" -d"${DUR}s" --timeout 30s --latency "$@" "$u" >"$WORK/wrk-heat-$name.txt" 2>&1
  wrk_summary "$WORK/wrk-heat-$name.txt"
}
log "wrk: one cached tile ($ONE), gridwatch then nginx"
set -- $(wrk_run "$URL" gw-one); g1_r=$1 g1_50=$2 g1_99=$3
set -- $(wrk_run "http://127.0.0.1:$NPORT" nginx-one); n1_r=$1 n1_50=$2 n1_99=$3
log "wrk: all $NT cached tiles round robin, gridwatch then nginx"
set -- $(wrk_run "$URL" gw-all "$WORK/heat.lua"); ga_r=$1 ga_50=$2 ga_99=$3
set -- $(wrk_run "http://127.0.0.1:$NPORT" nginx-all "$WORK/heat.lua"); na_r=$1 na_50=$2 na_99=$3
bench_stop

# ---- the tables -------------------------------------------------------------------------------
echo
echo "heat map tiles: $NI incidents, $NT tiles (z8-12 all over the city, $SAMPLE sampled per zoom at z13-15); $(nproc) cores, serve --threads $(nproc)"
echo "1. latency per tile, ms (curl time_total, one kept-alive connection, sequential)"
printf '%-7s | %5s %8s %8s %8s %7s | %5s %8s %8s %8s\n' zoom n "miss p50" "miss p99" "miss max" "KB" n "hit p50" "hit p99" "hit max"
for band in "8 8" "9 9" "10 10" "11 11" "12 12" "13 13" "14 14" "15 15" "8 15"; do
  set -- $band
  m=$(stats "miss1 miss2" "$1" "$2")
  h=$(stats "hit1 hit2" "$1" "$2")
  lab="$1"
  [ "$1" = "$2" ] || lab="$1-$2"
  echo "$lab $m $h" | awk '{ printf "%-7s | %5d %8.2f %8.2f %8.2f %7.1f | %5d %8.2f %8.2f %8.2f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
done
echo "2. cached tiles under load (wrk, $CONN connections, ${DUR} s, uncompressed PNG)"
printf '%-34s %10s %8s %8s\n' "server" "req/s" "p50 ms" "p99 ms"
printf '%-34s %10.0f %8.2f %8.2f\n' "gridwatch, one tile" "$g1_r" "$g1_50" "$g1_99"
printf '%-34s %10.0f %8.2f %8.2f\n' "nginx, same bytes, one tile" "$n1_r" "$n1_50" "$n1_99"
printf '%-34s %10.0f %8.2f %8.2f\n' "gridwatch, $NT tiles round robin" "$ga_r" "$ga_50" "$ga_99"
printf '%-34s %10.0f %8.2f %8.2f\n' "nginx, $NT tiles round robin" "$na_r" "$na_50" "$na_99"
echo "$g1_r $n1_r $ga_r $na_r" | awk '{ printf "gridwatch / nginx req/s: one tile %.2f, round robin %.2f\n", ($2 > 0 ? $1 / $2 : 0), ($4 > 0 ? $3 / $4 : 0) }'
echo "$ga_r $na_r" | awk '{ printf "ROW|heat map tiles cached, round robin (wrk)|%.0f req/s|nginx, same bytes|%.0f req/s|%.2f\n", $1, $2, ($2 > 0 ? $1 / $2 : 0) }'
