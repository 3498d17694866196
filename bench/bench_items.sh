#!/bin/sh
# bench_items.sh — OGC API items under concurrent load: gridwatch over HTTP (wrk) against the same
# queries answered by PostgreSQL/PostGIS (pgbench; ST_AsGeoJSON over the same data loaded with
# ogr2ogr), side by side with the ratio, in one run.  Issue 3 item 8.
#
# usage: bench/bench_items.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR]
#                             [--connections N] [--duration SECONDS]
# Queries: (1) a bbox page: /collections/incidents/items?bbox=<0.2° box>&limit=1000 over a fixed
# set of 20 overlapping boxes around the city centre (13k-69k matches each at scale 1) (numberMatched counted, ordered by fid, 7 decimals);
# (2) single items /collections/incidents/items/{id} at random ids.  PostGIS runs the same SQL
# work per request (the index's `&&` plus an exact, inclusive x/y test like our bbox: `&&` alone
# matches float4 boxes, ST_Intersects is 2-4x slower than this; count + page as one GeoJSON FeatureCollection text; one Feature) but its figure EXCLUDES HTTP: pgbench talks the PostgreSQL protocol straight to the server.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
B="$HERE/../build"
SRC_DB=""
SCALE=0.1
WORK=/tmp/gwbench
CONN=16
DUR=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build) B=$2; shift 2 ;;
    --db) SRC_DB=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --connections) CONN=$2; shift 2 ;;
    --duration) DUR=$2; shift 2 ;;
    *) echo "usage: bench_items.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR] [--connections N] [--duration S]" >&2; exit 2 ;;
  esac
done
GW="$B/gridwatch"
. "$HERE/bench_pg.sh"
for t in wrk pgbench psql ogr2ogr; do
  command -v $t >/dev/null 2>&1 || { echo "bench_items: $t not installed (Debian: wrk postgresql postgresql-15-postgis-3 gdal-bin)" >&2; exit 1; }
done
trap 'bench_stop' EXIT
trap 'exit 1' INT TERM HUP PIPE

bench_city
bench_pg_load incidents
N=$(psql_q "SELECT count(*) FROM incidents")
log "$N incidents; gridwatch from $GW"

# The 20 boxes: 0.2° wide, corners 0.1° apart from (115.2, 35.0), 5 x 4; the same in both.
cat >"$WORK/items_bbox.lua" <<'EOF'
local paths, n = {}, 0
for i = 0, 19 do
  local w, s = 115.2 + (i % 5) * 0.1, 35.0 + math.floor(i / 5) * 0.1
  paths[#paths + 1] = string.format("/collections/incidents/items?bbox=%.2f,%.2f,%.2f,%.2f&limit=1000", w, s, w + 0.2, s + 0.2)
end
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
EOF
cat >"$WORK/items_one.lua" <<EOF
math.randomseed(7)
request = function()
  return wrk.format("GET", string.format("/collections/incidents/items/I%07d", math.random(1, $N)))
end
EOF
cat >"$WORK/items_bbox.sql" <<'EOF'
\set i random(0, 19)
\set w 115.2 + (:i % 5) * 0.1
\set s 35.0 + (:i / 5) * 0.1
SELECT json_build_object('type', 'FeatureCollection',
         'numberMatched', (SELECT count(*) FROM incidents WHERE geom && ST_MakeEnvelope(:w, :s, :w + 0.2, :s + 0.2, 4326)
                           AND ST_X(geom) BETWEEN :w AND :w + 0.2 AND ST_Y(geom) BETWEEN :s AND :s + 0.2),
         'numberReturned', count(*),
         'features', coalesce(json_agg(ST_AsGeoJSON(t.*, 'geom', 7)::json), '[]'::json))::text
  FROM (SELECT id, occurred_at, category, severity, status, description, grid, police_room, geom
          FROM incidents WHERE geom && ST_MakeEnvelope(:w, :s, :w + 0.2, :s + 0.2, 4326)
                           AND ST_X(geom) BETWEEN :w AND :w + 0.2 AND ST_Y(geom) BETWEEN :s AND :s + 0.2
         ORDER BY fid LIMIT 1000) t;
EOF
cat >"$WORK/items_one.sql" <<EOF
\\set n random(1, $N)
SELECT ST_AsGeoJSON(t.*, 'geom', 7)
  FROM (SELECT id, occurred_at, category, severity, status, description, grid, police_room, geom
          FROM incidents WHERE id = 'I' || lpad(:n::text, 7, '0')) t;
EOF
chmod 644 "$WORK"/items_*.sql

threads=$(nproc 2>/dev/null || echo 2)
bench_serve --threads "$threads"
# sanity: both answer the first box with the same count
w1=$(curl -s "$URL/collections/incidents/items?bbox=115.2,35.0,115.4,35.2&limit=1000" | sed -n 's/.*"numberMatched":\([0-9]*\).*/\1/p')
p1=$(psql_q "SELECT count(*) FROM incidents WHERE geom && ST_MakeEnvelope(115.2, 35.0, 115.4, 35.2, 4326) AND ST_X(geom) BETWEEN 115.2 AND 115.4 AND ST_Y(geom) BETWEEN 35.0 AND 35.2")
log "first box: gridwatch numberMatched $w1, PostGIS count $p1"

run_wrk() { # NAME LUA
  wrk -t2 -c"$CONN" -d2s --timeout 60s -s "$WORK/$2" "$URL" >/dev/null 2>&1 || true # warm-up
  wrk -t2 -c"$CONN" -d"${DUR}s" --timeout 60s --latency -s "$WORK/$2" "$URL" >"$WORK/wrk-$1.txt" 2>&1
  if grep -q "Non-2xx" "$WORK/wrk-$1.txt"; then echo "bench_items: gridwatch answered errors: $(grep Non-2xx "$WORK/wrk-$1.txt")" >&2; fi
  wrk_summary "$WORK/wrk-$1.txt"
}
run_pgbench() { # NAME SQL
  rm -f "$WORK"/pgb-"$1".*
  pg_run pgbench -n -c "$CONN" -j 2 -T 2 -f "$WORK/$2" gwbench >/dev/null 2>&1 || true # warm-up
  (cd "$WORK" && pg_run pgbench -n -c "$CONN" -j 2 -T "$DUR" -l --log-prefix="$WORK/pgb-$1" -f "$WORK/$2" gwbench >"$WORK/pgbench-$1.txt" 2>&1)
  pgbench_summary "$WORK/pgb-$1" "$DUR"
}
chmod 777 "$WORK"
log "wrk: bbox pages"; set -- $(run_wrk bbox items_bbox.lua); gb_r=$1 gb_50=$2 gb_99=$3
log "wrk: single items"; set -- $(run_wrk one items_one.lua); go_r=$1 go_50=$2 go_99=$3
bench_stop
log "pgbench: bbox pages"; set -- $(run_pgbench bbox items_bbox.sql); pb_r=$1 pb_50=$2 pb_99=$3
log "pgbench: single items"; set -- $(run_pgbench one items_one.sql); po_r=$1 po_50=$2 po_99=$3

echo
echo "items: $N incidents, $CONN connections, ${DUR} s per run, $(nproc) cores; gridwatch --threads $threads"
echo "PostGIS figures EXCLUDE HTTP (pgbench over the PostgreSQL protocol); gridwatch's include it (wrk)."
printf '%-30s | %10s %8s %8s | %10s %8s %8s | %s\n' "query" "gw req/s" "p50 ms" "p99 ms" "PG q/s" "p50 ms" "p99 ms" "gw/PG"
for row in "bbox page (limit 1000):$gb_r:$gb_50:$gb_99:$pb_r:$pb_50:$pb_99" \
           "single item:$go_r:$go_50:$go_99:$po_r:$po_50:$po_99"; do
  echo "$row" | awk -F: '{ printf "%-30s | %10.1f %8.2f %8.2f | %10.1f %8.2f %8.2f | %.2fx\n", $1, $2, $3, $4, $5, $6, $7, ($5 > 0 ? $2 / $5 : 0) }'
done
# the rows for bench/run_all.sh
for row in "bbox page of 1,000 incidents:$gb_r:$pb_r" "single item:$go_r:$po_r"; do
  echo "$row" | awk -F: '{ printf "ROW|items, %s (%d connections)|%.1f req/s|PostGIS (pgbench, no HTTP)|%.1f q/s|%.2f\n", $1, '"$CONN"', $2, $3, ($3 > 0 ? $2 / $3 : 0) }'
done
