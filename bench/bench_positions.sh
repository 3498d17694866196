#!/bin/sh
# bench_positions.sh — team positions written in batches under load (issue 19 item 5a), one run:
#  1. gridwatch: POST /dispatch/positions, BATCH distinct random teams per request, CONN
#     connections back to back for DUR seconds (bench_positions http): positions/s, p50/p95 per
#     batch, and the server's CPU seconds over the run (utime + stime from /proc);
#  2. PostGIS: the same kind of batches written straight to a copy of the teams
#     (pos_teams: id unique, geom 4326 with GiST, updated_at timestamptz) as one
#     UPDATE … FROM (VALUES …) WHERE updated_at <= the report's time per batch, CONN libpq
#     connections (bench_positions pg), with the ratio.
# gridwatch does more per batch than the peer: JSON, auth, the change log (one row per move),
# the R*Tree, the live model and dispatch table, SSE.  The PostGIS figure excludes any HTTP.
#
# usage: bench/bench_positions.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR]
#                                 [--duration S] [--batch N] [--connections N] [--threads N]
# Debian packages: postgresql postgresql-15-postgis-3 gdal-bin libcurl4-openssl-dev libpq-dev.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
B="$HERE/../build"
SRC_DB=""
SCALE=1
WORK=/tmp/gw_positions_bench
DUR=10
BATCH=100
CONN=4
THREADS=8
while [ $# -gt 0 ]; do
  case "$1" in
    --build) B=$2; shift 2 ;;
    --db) SRC_DB=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --duration) DUR=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --connections) CONN=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) echo "usage: bench_positions.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR] [--duration S] [--batch N] [--connections N] [--threads N]" >&2; exit 2 ;;
  esac
done
B=$(cd "$B" && pwd)
GW="$B/gridwatch"
. "$HERE/bench_pg.sh"
[ -x "$GW" ] || { echo "bench_positions: no $GW (build first: cmake --build $B)" >&2; exit 1; }
trap 'bench_stop' EXIT
trap 'exit 1' INT TERM HUP PIPE
if [ -f "$B/CMakeCache.txt" ]; then
  cmake --build "$B" --target bench_positions >/dev/null || { echo "bench_positions: cannot build the driver" >&2; exit 1; }
fi
DRV="$B/bench_positions"

bench_city
bench_pg_load teams
chmod 755 "$WORK"
chmod 644 "$WORK/city.db"
N=$(psql_q "SELECT count(*) FROM teams")
log "$N teams; gridwatch from $GW"

# 1. gridwatch, on a copy (the run moves teams)
cp "$WORK/city.db" "$WORK/serve.db"
rm -f "$WORK/serve.db-wal" "$WORK/serve.db-shm"
TOK=$("$GW" token create "$WORK/serve.db" --role dispatcher --name bench | tail -n 1)
"$GW" serve "$WORK/serve.db" --port 0 --anonymous-read --quiet --threads "$THREADS" >"$WORK/serve.log" 2>&1 &
SRV=$!
URL=""
i=0
while [ $i -lt 600 ] && [ -z "$URL" ]; do
  sleep 0.1
  URL=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' "$WORK/serve.log" | head -n 1)
  kill -0 "$SRV" 2>/dev/null || break
  i=$((i + 1))
done
[ -n "$URL" ] || { echo "bench_positions: gridwatch serve did not start: $(head -c 300 "$WORK/serve.log")" >&2; exit 1; }
srv_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$SRV/stat"; }
# The server's start-up work (hotspot, flow and coverage caches: tens of CPU-seconds at scale 1)
# would be counted as the positions' CPU: wait until it uses under 0.1 CPU-s in 2 s (at most 5 min).
log "gridwatch: waiting for the start-up work to end"
p=$(srv_cpu)
i=0
while [ $i -lt 150 ] && sleep 2; do
  q=$(srv_cpu)
  [ "$(awk -v a="$p" -v b="$q" 'BEGIN { print (b - a < 0.1) }')" = 1 ] && break
  p=$q
  i=$((i + 1))
done
log "gridwatch: idle after $(srv_cpu) CPU-s"
log "gridwatch: warm-up"
"$DRV" http "$WORK/city.db" "$URL" "$TOK" 2 "$BATCH" "$CONN" >/dev/null
log "gridwatch: $CONN connections x batches of $BATCH, $DUR s"
c0=$(srv_cpu)
t0=$(now)
"$DRV" http "$WORK/city.db" "$URL" "$TOK" "$DUR" "$BATCH" "$CONN" >"$WORK/http.txt"
t1=$(now)
c1=$(srv_cpu)
grep -v '^RESULT' "$WORK/http.txt" >&2
bench_stop
r() { sed -n "s/^RESULT $1 //p" "$2"; }
GR=$(r http_positions_per_s "$WORK/http.txt"); G50=$(r http_p50_ms "$WORK/http.txt"); G95=$(r http_p95_ms "$WORK/http.txt")
GS=$(r http_sent "$WORK/http.txt"); GA=$(r http_applied "$WORK/http.txt")
GCPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
GWALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')

# 2. PostGIS: a fresh copy of the teams for each run
log "PostGIS: pos_teams from teams"
pg_run psql -X -q -d gwbench -c "SET client_min_messages = warning" \
  -c "DROP TABLE IF EXISTS pos_teams" \
  -c "CREATE TABLE pos_teams AS SELECT fid, id, geom, updated_at::timestamptz AS updated_at FROM teams" \
  -c "ALTER TABLE pos_teams ADD PRIMARY KEY (fid)" \
  -c "CREATE UNIQUE INDEX ON pos_teams (id)" \
  -c "CREATE INDEX ON pos_teams USING gist (geom)" \
  -c "VACUUM ANALYZE pos_teams" >/dev/null
log "PostGIS: warm-up"
pg_run "$DRV" pg "$WORK/city.db" "dbname=gwbench" pos_teams 2 "$BATCH" "$CONN" >/dev/null
log "PostGIS: $CONN connections x batches of $BATCH, $DUR s"
pg_run "$DRV" pg "$WORK/city.db" "dbname=gwbench" pos_teams "$DUR" "$BATCH" "$CONN" >"$WORK/pg.txt"
grep -v '^RESULT' "$WORK/pg.txt" >&2
PR=$(r pg_positions_per_s "$WORK/pg.txt"); P50=$(r pg_p50_ms "$WORK/pg.txt"); P95=$(r pg_p95_ms "$WORK/pg.txt")
PS=$(r pg_sent "$WORK/pg.txt"); PA=$(r pg_applied "$WORK/pg.txt")

echo
echo "positions: $N teams, batches of $BATCH distinct teams, $CONN connections, $DUR s each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); gridwatch --threads $THREADS"
printf '%-44s | %12s | %8s %8s | %9s | %s\n' "writer" "positions/s" "p50 ms" "p95 ms" "applied" "CPU"
printf '%-44s | %12s | %8s %8s | %9s | server %s CPU-s over %s s = %s positions per CPU-s\n' \
  "gridwatch POST /dispatch/positions" "$GR" "$G50" "$G95" "$GA/$GS" "$GCPU" "$GWALL" \
  "$(awk -v n="$GS" -v c="$GCPU" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')"
printf '%-44s | %12s | %8s %8s | %9s |\n' "PostGIS UPDATE … FROM (VALUES …), libpq" "$PR" "$P50" "$P95" "$PA/$PS"
awk -v g="$GR" -v p="$PR" 'BEGIN { printf "gridwatch/PostGIS positions/s: %.2fx\n", (p > 0 ? g / p : 0) }'
awk -v g="$GR" -v p="$PR" -v b="$BATCH" -v c="$CONN" 'BEGIN { printf "ROW|team positions over HTTP, batches of %s, %s connections|%.0f /s|PostGIS UPDATE FROM VALUES (libpq)|%.0f /s|%.2f\n", b, c, g, p, (p > 0 ? g / p : 0) }'
