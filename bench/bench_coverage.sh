#!/bin/sh
# bench_coverage.sh — full coverage recompute: gridwatch against PostGIS on the same data, the
# per-grid cross-check (ratios must agree to 1e-6), and the incremental update latency (a
# camera's grids moved by its view's difference, and the same moves recomputed); prints one
# table.
#
# usage: bench/bench_coverage.sh DB [GRIDWATCH [BENCH_INC]]
#   DB         a gridwatch database (e.g. `gridwatch gen-city --scale 0.05 city.db`); its coverage
#              table is rewritten (the results are a cache, the inputs are not touched)
#   GRIDWATCH  the gridwatch binary (default: build/gridwatch)
#   BENCH_INC  the incremental benchmark (default: build/bench_coverage_inc, built with
#              `cmake --build build --target bench_coverage_inc`); it runs on a copy of DB in a
#              temporary directory (TMPDIR: needs room for one more copy of DB)
# Environment: THREADS (default 2), MOVES (camera moves for the incremental part, default
# 1000; 0 skips it), PGDB (scratch database, default gw_cov_bench).
# Needs: ogr2ogr, psql, sqlite3, bc, GNU time (/usr/bin/time), a running PostgreSQL 15 with
# PostGIS 3 (Debian: postgresql, postgresql-15-postgis-3; start it as root with
# `pg_ctlcluster 15 main start`), run as root (psql runs as the postgres user) or with
# PGUSER/PGHOST set.  Skips the PostGIS part (exit 0) with a message when absent.
set -eu
DB=${1:?usage: bench_coverage.sh DB [GRIDWATCH [BENCH_INC]]}
GW=${2:-build/gridwatch}
INC=${3:-build/bench_coverage_inc}
THREADS=${THREADS:-2}
MOVES=${MOVES:-1000}
PGDB=${PGDB:-gw_cov_bench}
export PGOPTIONS="-c client_min_messages=warning"
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for t in ogr2ogr psql sqlite3 bc; do
  command -v $t >/dev/null || { echo "bench_coverage: $t not found; skipping"; exit 0; }
done
[ -x /usr/bin/time ] || { echo "bench_coverage: GNU time (/usr/bin/time) not found; skipping"; exit 0; }
if [ "$(id -u)" = 0 ] && [ -z "${PGUSER:-}" ]; then PSQL="runuser -u postgres -- psql -q -X --set=client_min_messages=warning"; else PSQL="psql -q -X"; fi
$PSQL -d postgres -c 'select 1' >/dev/null 2>&1 || { echo "bench_coverage: PostgreSQL not reachable; skipping"; exit 0; }
$PSQL -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
$PSQL -d postgres -c "CREATE DATABASE $PGDB" >/dev/null
$PSQL -d $PGDB -c "CREATE EXTENSION postgis" >/dev/null 2>&1 || { echo "bench_coverage: PostGIS missing; skipping"; exit 0; }

SRID=$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'metric_srid'")
VER=$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'grid_version'")
SCALE=$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'city_scale'" 2>/dev/null || true)
NCAM=$(sqlite3 "$DB" "SELECT count(*) FROM cameras")

# gridwatch: full recompute (the CLI prints the coverage step's wall and CPU time on stderr;
# GNU time gives the process's peak RSS).  Blind-spot polygons are built on request only (tiles,
# the per-grid route), never by the recompute: one run.
gw_run() { # $1 = label, rest = extra options
  label=$1; shift
  /usr/bin/time -f 'rss_kb %M' "$GW" coverage "$DB" --recompute --threads "$THREADS" "$@" > "$TMP/gw_$label.csv" 2> "$TMP/gw_$label.err"
  sed -n 's/.*coverage \([0-9.]*\) s (.*cpu \([0-9.]*\) s).*/\1 \2/p' "$TMP/gw_$label.err"
}
set -- $(gw_run all); GW_S=$1 GW_CPU=$2
GW_RSS=$(sed -n 's/^rss_kb //p' "$TMP/gw_all.err")
GRIDS=$(sed -n 's/.*coverage: \([0-9]*\) grids.*/\1/p' "$TMP/gw_all.err")

# The same inputs into PostGIS (SQL dumps of the SpatiaLite tables; not timed).
ogr2ogr -f PGDump "$TMP/grids.sql" "$DB" -dialect sqlite -sql "SELECT id, geom FROM grids WHERE version = $VER" \
  -nln grids -lco SRID=4326 -lco GEOMETRY_NAME=geom -nlt MULTIPOLYGON
ogr2ogr -f PGDump "$TMP/cameras.sql" "$DB" -sql "SELECT id, azimuth, fov, range, status, geom FROM cameras" \
  -dialect sqlite -nln cameras -lco SRID=4326 -lco GEOMETRY_NAME=geom -nlt POINT
chmod 644 "$TMP"/*.sql; chmod 755 "$TMP"
$PSQL -d $PGDB -f "$TMP/grids.sql" >/dev/null
$PSQL -d $PGDB -f "$TMP/cameras.sql" >/dev/null

t0=$(date +%s.%N)
$PSQL -d $PGDB -v srid=$SRID -f "$HERE/coverage_postgis.sql" >/dev/null
t1=$(date +%s.%N)
PG_S=$(echo "$t1 - $t0" | bc)
$PSQL -d $PGDB -At -F, -c "SELECT id, ratio FROM pg_coverage ORDER BY id" > "$TMP/pg.csv"
$PSQL -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null

# Per-grid comparison: same ids, |ratio difference| <= 1e-6 (both gridwatch runs).
check() {
  tail -n +2 "$1" | cut -d, -f1,2 | sort > "$TMP/gw2.csv"
  sort "$TMP/pg.csv" > "$TMP/pg2.csv"
  join -t, "$TMP/gw2.csv" "$TMP/pg2.csv" | awk -F, -v ngw=$(wc -l < "$TMP/gw2.csv") -v npg=$(wc -l < "$TMP/pg2.csv") '
    { d = $2 - $3; if (d < 0) d = -d; if (d > m) { m = d; worst = $1 } if (d > 1e-6) bad++; n++ }
    END { printf "%.2g %s %d %d\n", m, (bad > 0 || n != ngw || n != npg) ? "FAIL" : "PASS", n, bad + 0 }'
}
set -- $(check "$TMP/gw_all.csv"); DIFF=$1 OK=$2 NCMP=$3

# Incremental: MOVES random camera moves on a copy (update + save of the changed rows).
INC_MED=- INC_P99=- INC_CMED=- INC_CP99=- INC_GRIDS=- BL_MED=- BL_P99=- RC_MED=- RC_P99=-
if [ "$MOVES" -gt 0 ] && [ -x "$INC" ]; then
  cp "$DB" "$TMP/inc.db"
  for x in wal shm; do [ -f "$DB-$x" ] && cp "$DB-$x" "$TMP/inc.db-$x"; done
  "$INC" "$TMP/inc.db" "$MOVES" > "$TMP/inc.txt"
  INC_GRIDS=$(sed -n 's/.*moves, \([0-9.]*\) grids.*/\1/p' "$TMP/inc.txt")
  set -- $(sed -n 's/^coverage update + save: *median \([0-9.]*\) ms, p99 \([0-9.]*\) ms/\1 \2/p' "$TMP/inc.txt"); INC_MED=$1 INC_P99=$2
  set -- $(sed -n 's/^  CPU time of update + save: *median \([0-9.]*\) ms, p99 \([0-9.]*\) ms/\1 \2/p' "$TMP/inc.txt"); INC_CMED=$1 INC_CP99=$2
  set -- $(sed -n 's/^blind spots of a grid on request.*median \([0-9.]*\) ms, p99 \([0-9.]*\) ms/\1 \2/p' "$TMP/inc.txt") - -; BL_MED=$1 BL_P99=$2
  # the same moves with the move's grids recomputed instead of moved by the difference
  cp "$DB" "$TMP/inc.db"
  for x in wal shm; do [ -f "$DB-$x" ] && cp "$DB-$x" "$TMP/inc.db-$x"; done
  GW_COVERAGE_NO_DELTA=1 "$INC" "$TMP/inc.db" "$MOVES" > "$TMP/inc0.txt"
  set -- $(sed -n 's/^coverage update + save: *median \([0-9.]*\) ms, p99 \([0-9.]*\) ms/\1 \2/p' "$TMP/inc0.txt"); RC_MED=$1 RC_P99=$2
elif [ "$MOVES" -gt 0 ]; then
  echo "bench_coverage: $INC not built; skipping the incremental part"
fi

r() { echo "scale=1; $1 / $2" | bc; }
echo
echo "coverage benchmark: $(basename "$DB") (scale ${SCALE:-?}), $GRIDS grids, $NCAM cameras, $THREADS threads, $(nproc) cores"
printf "%-44s %10s %10s %10s\n" "full recompute" "wall s" "CPU s" "peak MB"
printf "%-44s %10.2f %10.2f %10.0f\n" "gridwatch (blind spots on request)" "$GW_S" "$GW_CPU" "$(echo "$GW_RSS / 1024" | bc)"
printf "%-44s %10.2f %10s %10s\n" "PostGIS SQL (ST_Union per grid, 1 backend)" "$PG_S" "-" "-"
echo "ratio PostGIS / gridwatch: $(r "$PG_S" "$GW_S")x wall; PostGIS wall / gridwatch CPU $(r "$PG_S" "$GW_CPU")x"
echo "cross-check: $NCMP grids, max |ratio difference| $DIFF ($OK); tolerance 1e-6"
echo "incremental ($MOVES camera moves, $INC_GRIDS grids per move): update + save median $INC_MED ms, p99 $INC_P99 ms wall; CPU median $INC_CMED ms, p99 $INC_CP99 ms"
echo "  the same moves, the grids recomputed (GW_COVERAGE_NO_DELTA=1): median $RC_MED ms, p99 $RC_P99 ms wall"
echo "blind spots of one grid on request (CPU): median $BL_MED ms, p99 $BL_P99 ms"
echo "(gridwatch times are the coverage step: the model is loaded once before it, as in the server)"
# the rows for bench/run_all.sh
printf 'ROW|coverage full recompute, scale %s (blind spots on request)|%.2f s (%.2f CPU s)|PostGIS SQL, 1 backend|%.2f s|%s\n' "${SCALE:-?}" "$GW_S" "$GW_CPU" "$PG_S" "$(r "$PG_S" "$GW_S")"
echo "ROW|coverage after one camera move, p99|$INC_P99 ms (median $INC_MED)|target|5 ms|$( [ "$INC_P99" = - ] && echo - || r 5 "$INC_P99")"
echo "ROW|coverage after one camera move, p99: difference vs recompute|$INC_P99 ms|grids recomputed|$RC_P99 ms|$( [ "$INC_P99" = - ] || [ "$RC_P99" = - ] && echo - || r "$RC_P99" "$INC_P99")"
[ "$OK" = PASS ] || exit 1
