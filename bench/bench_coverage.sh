#!/bin/sh
# bench_coverage.sh — full coverage recompute: gridwatch against PostGIS on the same data, and
# the per-grid cross-check (ratios must agree to 1e-6).
#
# usage: bench/bench_coverage.sh DB [GRIDWATCH]
#   DB         a gridwatch database (e.g. `gridwatch gen-city /tmp/city.db --scale 0.05`)
#   GRIDWATCH  the gridwatch binary (default: build/gridwatch)
# Needs: ogr2ogr, psql, a running PostgreSQL 15 with PostGIS 3 (Debian: postgresql,
# postgresql-15-postgis-3; start with `pg_ctlcluster 15 main start`), run as root (psql runs as
# the postgres user) or with PGUSER/PGHOST set.  Skips (exit 0) with a message when absent.
set -eu
DB=${1:?usage: bench_coverage.sh DB [GRIDWATCH]}
GW=${2:-build/gridwatch}
PGDB=${PGDB:-gw_cov_bench}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for t in ogr2ogr psql; do
  command -v $t >/dev/null || { echo "bench_coverage: $t not found; skipping the PostGIS comparison"; exit 0; }
done
if [ "$(id -u)" = 0 ] && [ -z "${PGUSER:-}" ]; then PSQL="runuser -u postgres -- psql -q -X --set=client_min_messages=warning"; else PSQL="psql -q -X"; fi
$PSQL -d postgres -c 'select 1' >/dev/null 2>&1 || { echo "bench_coverage: PostgreSQL not reachable; skipping"; exit 0; }
$PSQL -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
$PSQL -d postgres -c "CREATE DATABASE $PGDB" >/dev/null
$PSQL -d $PGDB -c "CREATE EXTENSION postgis" >/dev/null 2>&1 || { echo "bench_coverage: PostGIS missing; skipping"; exit 0; }

SRID=$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'metric_srid'")
VER=$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'grid_version'")

# gridwatch: full recompute (prints its timing on stderr), results as CSV.
t0=$(date +%s.%N)
"$GW" coverage "$DB" --recompute --no-blind > "$TMP/gw.csv" 2> "$TMP/gw.err"
t1=$(date +%s.%N)
GW_S=$(echo "$t1 - $t0" | bc)
GW_COV=$(sed -n 's/.*coverage \([0-9.]*\) s.*/\1/p' "$TMP/gw.err")

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

# Per-grid comparison: same ids, |ratio difference| <= 1e-6.
tail -n +2 "$TMP/gw.csv" | cut -d, -f1,2 | sort > "$TMP/gw2.csv"
sort "$TMP/pg.csv" > "$TMP/pg2.csv"
join -t, "$TMP/gw2.csv" "$TMP/pg2.csv" | awk -F, -v ngw=$(wc -l < "$TMP/gw2.csv") -v npg=$(wc -l < "$TMP/pg2.csv") '
  { d = $2 - $3; if (d < 0) d = -d; if (d > m) { m = d; worst = $1 } if (d > 1e-6) bad++; n++ }
  END { printf "grids: gridwatch %d, postgis %d, compared %d; max |ratio diff| %.3g (grid %s); over 1e-6: %d\n",
               ngw, npg, n, m, worst, bad + 0; exit (bad > 0 || n != ngw || n != npg) }' && OK=1 || OK=0

printf "%-34s %10s\n" "full coverage recompute" "seconds"
printf "%-34s %10.2f\n" "gridwatch (process, 2 threads)" "$GW_S"
printf "%-34s %10.2f\n" "gridwatch (coverage step)" "${GW_COV:-0}"
printf "%-34s %10.2f\n" "PostGIS (SQL, 1 backend)" "$PG_S"
echo "speed-up (PostGIS / gridwatch process): $(echo "scale=1; $PG_S / $GW_S" | bc)x"
$PSQL -d postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
[ $OK = 1 ] && echo "cross-check: PASS" || { echo "cross-check: FAIL"; exit 1; }
