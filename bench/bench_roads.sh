#!/bin/sh
# bench_roads.sh — dispatch by road (issue 20 item 6), one run on a scale-1 city with its roads:
#  1. nearest-5 by ETA over random incident places: in-process (gw_dispatch_nearest_eta, one
#     thread), over HTTP (GET /dispatch/nearest?by=eta, one keep-alive connection to `gridwatch
#     serve`), beside pgRouting answering the same question in the same run (pgr_dijkstraCost
#     from the place's node over the reversed edges to every available team's node, ORDER BY
#     agg_cost LIMIT 5, over libpq) — p50 and p99, the ratio printed;
#  2. the routing graph's build time and memory; isochrones (3, 5, 10 minutes) of police rooms;
#     the per-grid 3/5/10-minute reach of every grid.
# usage: bench/bench_roads.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR]
#                             [--points N] [--pg-points M] [--no-grids]
# The city must have roads: a gen-city of this branch has them (--scale generates one).
# PostgreSQL 15 with pgRouting (Debian postgresql-15-pgrouting) in database gwbench; without it
# the pgRouting columns show nan.  Prints `ROW|figure|ours|peer|peer value|ratio` lines.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
B="$HERE/../build"
SRC_DB=""
SCALE=1
WORK=/tmp/gw_roads_bench
POINTS=20000
PGPOINTS=200
EXTRA=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) B=$2; shift 2 ;;
    --db) SRC_DB=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --points) POINTS=$2; shift 2 ;;
    --pg-points) PGPOINTS=$2; shift 2 ;;
    --no-grids) EXTRA="--no-grids"; shift ;;
    --duration) shift 2 ;; # run_all.sh passes it to every benchmark; the point counts set this one's length
    *) echo "usage: bench_roads.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR] [--points N] [--pg-points M]" >&2; exit 2 ;;
  esac
done
B=$(cd "$B" && pwd)
GW="$B/gridwatch"
. "$HERE/bench_pg.sh"
[ -x "$GW" ] || { echo "bench_roads: no $GW (build first: cmake --build $B)" >&2; exit 1; }
cmake --build "$B" --target bench_roads >/dev/null || { echo "bench_roads: cannot build bench_roads" >&2; exit 1; }
trap 'bench_stop' EXIT INT TERM
bench_city
[ "$("$GW" roads "$WORK/city.db" stats | sed -n 's/^nodes //p')" -gt 0 ] ||
  { echo "bench_roads: $WORK/city.db has no roads (generate it with this build's gen-city)" >&2; exit 1; }
PG=""
if command -v psql >/dev/null 2>&1; then
  bench_pg_up
  if [ "$(pg_run psql -X -At -d postgres -c "SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting'")" = 1 ]; then
    pg_run psql -X -q -d gwbench -c "CREATE EXTENSION IF NOT EXISTS pgrouting" >/dev/null
    # the driver connects as the caller: give it the database when we run as root
    [ "$(id -u)" -eq 0 ] && pg_run psql -X -q -d gwbench -c "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'root') THEN CREATE ROLE root SUPERUSER LOGIN; END IF; END\$\$" >/dev/null
    PG="dbname=gwbench"
  else
    log "pgRouting is not installed (Debian: postgresql-15-pgrouting): no peer column"
  fi
fi
bench_serve
log "gridwatch serve at $URL; load $(cut -d' ' -f1 /proc/loadavg)"
"$B/bench_roads" "$WORK/city.db" --points "$POINTS" --url "$URL" ${PG:+--pg "$PG"} --pg-points "$PGPOINTS" $EXTRA
log "done; load $(cut -d' ' -f1 /proc/loadavg)"
