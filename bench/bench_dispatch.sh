#!/bin/sh
# bench_dispatch.sh — dispatch figures (issue 7 item 7), one run:
#  1. nearest-k latency over random points: the engine in-process (bench_dispatch nearest, 100,000
#     points), over HTTP (wrk, random points from Lua), beside PostGIS KNN
#     (ORDER BY geom <-> ST_SetSRID(ST_MakePoint(x, y), 4326) LIMIT k, GiST index, pgbench with
#     random points from \set) on the same teams (gridwatch export + ogr2ogr), with the ratio;
#  2. position-update throughput: the engine alone (readers querying meanwhile), and over HTTP
#     (POST /dispatch/positions, batches of 1,000) alone and while wrk runs a nearest-query load;
#  3. SSE fan-out: POST an incident, time to receipt at 200 subscribers (median, p99).
#
# usage: bench/bench_dispatch.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR]
#                                [--points N] [--k K] [--duration SECONDS]
# Both sides answer the same question: the k nearest teams of any status (stale included).
# Distances differ by design: ours are planar metres in the dataset's Gauss-Krüger CRS, PostGIS's
# <-> on geometry(4326) is planar degrees, so an order may differ where two teams are nearly tied.
# PostGIS figures EXCLUDE HTTP (pgbench speaks the PostgreSQL protocol); the wrk ones include it.
# Debian packages: wrk postgresql postgresql-15-postgis-3 postgresql-contrib (pgbench) gdal-bin.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
B="$HERE/../build"
SRC_DB=""
SCALE=1
WORK=/tmp/gw_dispatch_bench
POINTS=100000
K=5
DUR=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build) B=$2; shift 2 ;;
    --db) SRC_DB=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --points) POINTS=$2; shift 2 ;;
    --k) K=$2; shift 2 ;;
    --duration) DUR=$2; shift 2 ;;
    *) echo "usage: bench_dispatch.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR] [--points N] [--k K] [--duration S]" >&2; exit 2 ;;
  esac
done
B=$(cd "$B" && pwd)
GW="$B/gridwatch"
PGDB=gw_dispatch
. "$HERE/bench_pg.sh"
psql_q() { pg_run psql -X -q -At -d "$PGDB" -c "$1"; }
for t in wrk pgbench psql ogr2ogr curl; do
  command -v $t >/dev/null 2>&1 || { echo "bench_dispatch: $t not installed (Debian: wrk postgresql postgresql-15-postgis-3 gdal-bin curl)" >&2; exit 1; }
done
[ -x "$GW" ] || { echo "bench_dispatch: no $GW (build first: cmake --build $B)" >&2; exit 1; }
trap 'bench_stop; [ -n "${WRKPID:-}" ] && kill "$WRKPID" 2>/dev/null; true' EXIT INT TERM

# The driver: the CMake target when there is one, else compiled here against the build's gwgeo.
DRV="$B/bench_dispatch"
if ! cmake --build "$B" --target bench_dispatch >/dev/null 2>&1; then
  log "compiling bench_dispatch.c against $B/libgwgeo.a"
  cc -O2 -I"$HERE/../include" "$HERE/bench_dispatch.c" -o "$WORK.drv" "$B/libgwgeo.a" \
    $(pkg-config --libs gdal geos proj spatialite sqlite3 jansson libcurl) \
    $(pkg-config --exists libpng && pkg-config --libs libpng) -lgeos_c -lpthread -lm
  DRV="$WORK.drv"
fi

bench_city
N=$(sqlite3 "$WORK/city.db" "SELECT count(*) FROM teams" 2>/dev/null || echo "?")

# PostGIS: the same teams in database gw_dispatch, GiST on geom.
bench_pg_up
if [ "$(pg_run psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PGDB'")" != 1 ]; then
  pg_run createdb "$PGDB"
fi
pg_run psql -X -q -d "$PGDB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS postgis" \
  -c "CREATE TABLE IF NOT EXISTS gw_source (layer text PRIMARY KEY, id text)" >/dev/null
want="$(cat "$WORK/city.id")"
if [ "$(psql_q "SELECT id FROM gw_source WHERE layer = 'teams'")" != "$want" ]; then
  log "exporting teams and loading them into PostGIS ($PGDB)"
  rm -f "$WORK/teams.gpkg"
  GW_PROGRESS=0 "$GW" export "$WORK/city.db" teams "$WORK/teams.gpkg" >/dev/null
  chmod 644 "$WORK/teams.gpkg"
  pg_run env PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG:dbname=$PGDB "$WORK/teams.gpkg" -nln teams \
    -overwrite -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=GIST
  pg_run psql -X -q -d "$PGDB" -c "VACUUM ANALYZE teams" \
    -c "INSERT INTO gw_source VALUES ('teams', '$want') ON CONFLICT (layer) DO UPDATE SET id = EXCLUDED.id" >/dev/null
fi
PN=$(psql_q "SELECT count(*) FROM teams")
log "$N teams in gridwatch, $PN in PostGIS"

# 1a. the engine (read-only: positions come later, on a copy)
log "engine: nearest-$K at $POINTS random points"
"$DRV" nearest "$WORK/city.db" "$POINTS" "$K" >"$WORK/eng-nearest.txt"
cat "$WORK/eng-nearest.txt" | grep -v '^RESULT' >&2
set -- $(sed -n 's/^RESULT bbox //p' "$WORK/eng-nearest.txt"); X0=$1 Y0=$2 X1=$3 Y1=$4
E50=$(sed -n 's/^RESULT nearest_p50_us //p' "$WORK/eng-nearest.txt")
E99=$(sed -n 's/^RESULT nearest_p99_us //p' "$WORK/eng-nearest.txt")
EMEAN=$(sed -n 's/^RESULT nearest_mean_us //p' "$WORK/eng-nearest.txt")

# 1b. PostGIS KNN: one client for latency, then 16 for throughput
cat >"$WORK/knn.sql" <<EOF
\\set x $X0 + random(0, 1000000) * ($X1 - $X0) / 1000000.0
\\set y $Y0 + random(0, 1000000) * ($Y1 - $Y0) / 1000000.0
SELECT id FROM teams ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 4326) LIMIT $K;
EOF
chmod 644 "$WORK/knn.sql"
chmod 777 "$WORK"
plan=$(psql_q "EXPLAIN SELECT id FROM teams ORDER BY geom <-> ST_SetSRID(ST_MakePoint(115.5, 35.2), 4326) LIMIT $K" | grep -c "Index Scan" || true)
[ "$plan" -ge 1 ] || log "warning: PostGIS does not use the GiST index for KNN"
log "pgbench: KNN, 1 client, $POINTS transactions"
rm -f "$WORK"/pgb-knn1.*
(cd "$WORK" && pg_run pgbench -n -c 1 -t 2000 -f "$WORK/knn.sql" "$PGDB" >/dev/null 2>&1) || true # warm-up
(cd "$WORK" && pg_run pgbench -n -c 1 -t "$POINTS" -l --log-prefix="$WORK/pgb-knn1" -f "$WORK/knn.sql" "$PGDB" >"$WORK/pgbench-knn1.txt" 2>&1)
P1=$(cat "$WORK"/pgb-knn1.* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1; s += $1 } END {
  a = int(NR * 0.5); if (a < 1) a = 1; b = int(NR * 0.99); if (b < 1) b = 1; printf "%.1f %.1f %.1f %d", s / NR, v[a], v[b], NR }')
set -- $P1; PMEAN=$1 P50=$2 P99=$3 PCNT=$4
log "pgbench: KNN, 16 clients, $DUR s"
rm -f "$WORK"/pgb-knn16.*
(cd "$WORK" && pg_run pgbench -n -c 16 -j 2 -T "$DUR" -l --log-prefix="$WORK/pgb-knn16" -f "$WORK/knn.sql" "$PGDB" >"$WORK/pgbench-knn16.txt" 2>&1)
set -- $(pgbench_summary "$WORK/pgb-knn16" "$DUR"); PC_R=$1 PC_50=$2 PC_99=$3

# 1c. over HTTP
threads=$(nproc 2>/dev/null || echo 2)
cp "$WORK/city.db" "$WORK/serve.db"
rm -f "$WORK/serve.db-wal" "$WORK/serve.db-shm"
TOK=$("$GW" token create "$WORK/serve.db" --role dispatcher --name bench | tail -n 1)
SERVE_DB="$WORK/serve.db"
"$GW" serve "$SERVE_DB" --port 0 --anonymous-read --quiet --threads "$threads" >"$WORK/serve.log" 2>&1 &
SRV=$!
URL=""
i=0
while [ $i -lt 600 ] && [ -z "$URL" ]; do
  sleep 0.1
  URL=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' "$WORK/serve.log" | head -n 1)
  kill -0 "$SRV" 2>/dev/null || break
  i=$((i + 1))
done
[ -n "$URL" ] || { echo "bench_dispatch: gridwatch serve did not start: $(head -c 300 "$WORK/serve.log")" >&2; exit 1; }
cat >"$WORK/nearest.lua" <<EOF
math.randomseed(11)
request = function()
  local x = $X0 + math.random() * ($X1 - $X0)
  local y = $Y0 + math.random() * ($Y1 - $Y0)
  return wrk.format("GET", string.format("/dispatch/nearest?lon=%.6f&lat=%.6f&k=$K&status=any&include_stale=1", x, y))
end
EOF
code=$(curl -s -o "$WORK/one.json" -w '%{http_code}' "$URL/dispatch/nearest?lon=115.5&lat=35.2&k=$K&status=any&include_stale=1")
[ "$code" = 200 ] || { echo "bench_dispatch: /dispatch/nearest answered $code: $(head -c 300 "$WORK/one.json")" >&2; exit 1; }
# cross-check one point: the same k ids (PostGIS orders by degrees, we by metres: compare as sets)
gw_ids=$(grep -o '"id":"[^"]*"' "$WORK/one.json" | sed 's/"id":"\(.*\)"/\1/' | grep -v '^$' | sort | head -n "$K" | tr '\n' ' ')
pg_ids=$(psql_q "SELECT id FROM teams ORDER BY geom <-> ST_SetSRID(ST_MakePoint(115.5, 35.2), 4326) LIMIT $K" | sort | tr '\n' ' ')
log "cross-check at (115.5, 35.2): gridwatch [$gw_ids] PostGIS [$pg_ids]"
log "wrk: nearest, 1 connection, $DUR s"
wrk -t1 -c1 -d2s -s "$WORK/nearest.lua" "$URL" >/dev/null 2>&1 || true
wrk -t1 -c1 -d"${DUR}s" --latency -s "$WORK/nearest.lua" "$URL" >"$WORK/wrk-near1.txt" 2>&1
set -- $(wrk_summary "$WORK/wrk-near1.txt"); W1_R=$1 W1_50=$2 W1_99=$3
log "wrk: nearest, 16 connections, $DUR s"
wrk -t2 -c16 -d"${DUR}s" --latency -s "$WORK/nearest.lua" "$URL" >"$WORK/wrk-near16.txt" 2>&1
set -- $(wrk_summary "$WORK/wrk-near16.txt"); W16_R=$1 W16_50=$2 W16_99=$3

# 2. positions
log "engine: positions (50 batches of 1000, 1 reader thread)"
cp "$WORK/city.db" "$WORK/pos.db"
rm -f "$WORK/pos.db-wal" "$WORK/pos.db-shm"
"$DRV" positions "$WORK/pos.db" 50 1000 1 >"$WORK/eng-pos.txt"
grep -v '^RESULT' "$WORK/eng-pos.txt" >&2
EP=$(sed -n 's/^RESULT positions_per_s //p' "$WORK/eng-pos.txt")
EPC=$(sed -n 's/^RESULT positions_per_cpu_s //p' "$WORK/eng-pos.txt")
ER99=$(sed -n 's/^RESULT reader_p99_us //p' "$WORK/eng-pos.txt")
# CPU seconds the server process used so far (utime + stime)
srv_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$SRV/stat"; }
log "http: positions alone, $DUR s"
c0=$(srv_cpu)
"$DRV" http-positions "$WORK/city.db" "$URL" "$TOK" "$DUR" 1000 >"$WORK/http-pos.txt"
c1=$(srv_cpu)
HP=$(sed -n 's/^RESULT http_positions_per_s //p' "$WORK/http-pos.txt")
HS=$(sed -n 's/^http positions: \([0-9]*\) sent.*/\1/p' "$WORK/http-pos.txt")
HPC=$(awk -v n="$HS" -v a="$c0" -v b="$c1" 'BEGIN { printf "%.0f", (b > a ? n / (b - a) : 0) }')
log "http: positions while wrk runs nearest (8 connections)"
wrk -t1 -c8 -d"$((DUR + 4))s" --latency -s "$WORK/nearest.lua" "$URL" >"$WORK/wrk-load.txt" 2>&1 &
WRKPID=$!
sleep 2
"$DRV" http-positions "$WORK/city.db" "$URL" "$TOK" "$DUR" 1000 >"$WORK/http-pos-load.txt"
wait "$WRKPID" || true
WRKPID=""
HPL=$(sed -n 's/^RESULT http_positions_per_s //p' "$WORK/http-pos-load.txt")
set -- $(wrk_summary "$WORK/wrk-load.txt"); WL_R=$1 WL_50=$2 WL_99=$3

# 3. SSE fan-out
log "sse: 200 subscribers, 5 incidents"
"$DRV" sse "$URL" "$TOK" 200 5 >"$WORK/sse.txt" || true
grep -v '^RESULT' "$WORK/sse.txt" >&2
S50=$(sed -n 's/^RESULT sse_p50_ms //p' "$WORK/sse.txt")
S99=$(sed -n 's/^RESULT sse_p99_ms //p' "$WORK/sse.txt")
SMISS=$(sed -n 's/^RESULT sse_missing //p' "$WORK/sse.txt")
bench_stop || true

echo
echo "dispatch: $N teams (PostGIS $PN), k = $K, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); gridwatch --threads $threads"
echo "nearest-$K latency (ms)                      |     mean      p50      p99 |   per s | ours/PostGIS (p50)"
awk -v m="$EMEAN" -v a="$E50" -v b="$E99" -v pm="$PMEAN" -v pa="$P50" -v pb="$P99" -v n="$POINTS" -v pc="$PCNT" \
    -v w1r="$W1_R" -v w150="$W1_50" -v w199="$W1_99" -v w16r="$W16_R" -v w1650="$W16_50" -v w1699="$W16_99" \
    -v pcr="$PC_R" -v pc50="$PC_50" -v pc99="$PC_99" 'BEGIN {
  printf "%-44s | %8.4f %8.4f %8.4f | %7s | %.4f\n", "gridwatch engine, in-process (" n " points)", m / 1000, a / 1000, b / 1000, "", (a / 1000) / (pa / 1000)
  printf "%-44s | %8.4f %8.4f %8.4f | %7s |\n", "PostGIS KNN, pgbench 1 client (" pc " points)", pm / 1000, pa / 1000, pb / 1000, ""
  printf "%-44s | %8s %8.3f %8.3f | %7.0f | %.2f\n", "gridwatch HTTP, wrk 1 connection", "", w150, w199, w1r, w150 / (pa / 1000)
  printf "%-44s | %8s %8.3f %8.3f | %7.0f | %.2f\n", "gridwatch HTTP, wrk 16 connections", "", w1650, w1699, w16r, w1650 / pc50
  printf "%-44s | %8s %8.3f %8.3f | %7.0f |\n", "PostGIS KNN, pgbench 16 clients", "", pc50, pc99, pcr
}'
echo "(PostGIS figures exclude HTTP; engine figures include the lon/lat -> metric projection)"
awk -v a="$E50" -v pa="$P50" -v w1650="$W16_50" -v pc50="$PC_50" -v w16r="$W16_R" -v pcr="$PC_R" -v k="$K" 'BEGIN {
  printf "ROW|nearest-%s p50, engine vs PostGIS KNN (1 client)|%.4f ms|PostGIS KNN|%.4f ms|%.1f\n", k, a / 1000, pa / 1000, (a > 0 ? pa / a : 0)
  printf "ROW|nearest-%s over HTTP, 16 connections|%.0f req/s|PostGIS KNN, pgbench 16 clients|%.0f tx/s|%.2f\n", k, w16r, pcr, (pcr > 0 ? w16r / pcr : 0)
}'
echo
echo "position updates                                          | updates/s"
printf '%-58s| %9s  (%s per writer CPU-second; reader nearest-5 p99 %s us meanwhile)\n' "engine, batches of 1000" "$EP" "$EPC" "$ER99"
printf '%-58s| %9s  (%s per server CPU-second: JSON, engine, live model refresh)\n' "HTTP POST /dispatch/positions, 1000 per request" "$HP" "$HPC"
printf '%-58s| %9s  (wrk meanwhile: %s nearest/s, p50 %s ms, p99 %s ms)\n' "HTTP, same, while wrk runs nearest (8 connections)" "$HPL" "$WL_R" "$WL_50" "$WL_99"
echo
echo "SSE fan-out, 200 subscribers x 5 incidents: POST to receipt median ${S50} ms, p99 ${S99} ms, ${SMISS} missing"
