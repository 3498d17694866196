#!/bin/sh
# run_all.sh — the whole performance table of docs/benchmarks.md in one command: every benchmark
# of bench/ on the same scale-1 city, each beside its peer (PostGIS, R, GDAL, nginx) in the same
# run, then one table of every row: the figure, gridwatch's value, the peer, the peer's value and
# the ratio (written so that above 1 means gridwatch is ahead: peer time / our time, our rate /
# peer rate).  Each benchmark's own full output is kept in WORK/<name>.log.
#
# usage: bench/run_all.sh [--build DIR] [--db CITY.db] [--work DIR] [--only "a b …"] [--quick]
#   --build DIR   the release build (default: build; needs the gridwatch binary and the bench_*
#                 programs: cmake --build DIR --target all)
#   --db CITY.db  a scale-1 city (default: WORK/city1.db, generated once with gen-city --scale 1);
#                 benchmarks that write work on copies, except bench_coverage.sh, which rewrites
#                 the coverage table (a cache)
#   --work DIR    where logs and copies go (default: /tmp/gw_run_all; needs ~5 GB)
#   --only LIST   run only these (names below)
#   --quick       shorter load phases (5 s instead of 10-15 s): a smoke run, not the table
# Names, in order: items tiles coverage hotspot kde heatmap dispatch positions roads import.
# Peers: a running PostgreSQL 15 + PostGIS + pgRouting (pg_ctlcluster 15 main start), R with spdep and
# spatstat, nginx, wrk, pgbench, ogr2ogr; a benchmark whose peer is missing says so and its rows
# show "-".  About 60-90 minutes on 2 cores; run it on a quiet machine (other load shows up
# in both columns, but not equally).
set -eu
BUILD=build
DB=
WORK=/tmp/gw_run_all
ONLY="items tiles coverage hotspot kde heatmap dispatch positions roads import"
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --db) DB=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_all.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
GW="$BUILD/gridwatch"
[ -x "$GW" ] || { echo "run_all.sh: $GW not found: build first (cmake --build $BUILD)" >&2; exit 2; }
mkdir -p "$WORK"
[ -n "$DB" ] || DB="$WORK/city1.db"
if [ ! -f "$DB" ]; then
  echo "run_all.sh: generating the scale-1 city into $DB (about a minute)" >&2
  GW_PROGRESS=0 "$GW" gen-city "$DB" --scale 1 >/dev/null
fi
DUR=15
[ "$QUICK" = 1 ] && DUR=5
ROWS="$WORK/rows.txt"
: >"$ROWS"
START=$(date +%s)

run() { # name, command…: the benchmark's output into WORK/name.log, its ROW lines kept
  name=$1; shift
  case " $ONLY " in *" $name "*) ;; *) return 0 ;; esac
  echo "run_all.sh: $name … ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
  t0=$(date +%s)
  if (cd "$ROOT" && "$@") >"$WORK/$name.log" 2>&1; then status=ok; else status="failed ($?)"; fi
  echo "run_all.sh: $name $status in $(( $(date +%s) - t0 )) s; log $WORK/$name.log" >&2
  n=$(grep -c '^ROW|' "$WORK/$name.log" || true)
  if [ "$n" -gt 0 ]; then grep '^ROW|' "$WORK/$name.log" | sed "s/^ROW|/$name|/" >>"$ROWS"
  else echo "$name|(no figures: $status, see $WORK/$name.log)|-|-|-|-" >>"$ROWS"; fi
}

run items bench/bench_items.sh --build "$BUILD" --db "$DB" --work "$WORK/items" --duration "$DUR"
run tiles bench/bench_tiles.sh --build "$BUILD" --db "$DB" --work "$WORK/tiles" --duration "$DUR" --pyramid-zoom 8-14
run coverage env MOVES=1000 bench/bench_coverage.sh "$DB" "$GW" "$BUILD/bench_coverage_inc"
run hotspot env GRIDWATCH="$GW" bench/bench_hotspot.sh "$DB"
run kde bench/bench_kde.sh --build "$BUILD" --db "$DB" --work "$WORK/kde"
run heatmap bench/bench_heatmap.sh --build "$BUILD" --db "$DB" --work "$WORK/heatmap" --duration "$DUR"
run dispatch bench/bench_dispatch.sh --build "$BUILD" --db "$DB" --work "$WORK/dispatch" --duration "$DUR"
[ -x "$HERE/bench_positions.sh" ] && run positions bench/bench_positions.sh --build "$BUILD" --db "$DB" --work "$WORK/positions"
run roads bench/bench_roads.sh --build "$BUILD" --db "$DB" --work "$WORK/roads"
run import bench/bench_import.sh "$BUILD" 1

# ---- the table ---------------------------------------------------------------------------------
echo
echo "gridwatch performance table — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB,"
echo "load average now $(cut -d' ' -f1-3 /proc/loadavg); $(( ($(date +%s) - START) / 60 )) min; city $DB"
echo "ratio: above 1 means gridwatch is ahead (peer time / our time, or our rate / peer rate)"
echo
echo "| bench | figure | gridwatch | peer | peer's | ratio |"
echo "| --- | --- | ---: | --- | ---: | ---: |"
awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$ROWS"
