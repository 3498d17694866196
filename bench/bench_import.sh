#!/bin/sh
# bench_import.sh — import rate of incidents from CSV: `gridwatch import` against GDAL's
# `ogr2ogr` into SpatiaLite, on the same file, in one run.  Prints rows/s side by side and the
# ratio.  usage: bench/bench_import.sh [BUILD_DIR] [SCALE]   (scale 1 = 1,000,000 incidents)
set -eu
B=${1:-build}
SCALE=${2:-1}
GW="$B/gridwatch"
W=$(mktemp -d /tmp/gwbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }

echo "generating the city at scale $SCALE ..."
GW_PROGRESS=0 "$GW" gen-city "$W/city.db" --scale "$SCALE" >/dev/null
GW_PROGRESS=0 "$GW" export "$W/city.db" incidents "$W/incidents.csv" >/dev/null
rows=$(($(wc -l <"$W/incidents.csv") - 1))
echo "CSV: $rows rows, $(du -h "$W/incidents.csv" | cut -f1)"

t0=$(now)
GW_PROGRESS=0 "$GW" import "$W/gw.db" incidents "$W/incidents.csv" >/dev/null
t1=$(now)
ogr2ogr -f SQLite -dsco SPATIALITE=YES -nln incidents -a_srs EPSG:4326 \
  -oo X_POSSIBLE_NAMES=X,longitude -oo Y_POSSIBLE_NAMES=Y,latitude -oo KEEP_GEOM_COLUMNS=NO \
  -gt 65536 "$W/ogr.db" "$W/incidents.csv"
t2=$(now)
# With grids present, gridwatch also resolves each incident's grid (point in polygon).
cp "$W/city.db" "$W/gw2.db"
GW_PROGRESS=0 "$GW" import "$W/gw2.db" incidents "$W/incidents.csv" --replace >/dev/null
t3=$(now)

awk -v n="$rows" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  g = b - a; o = c - b; r = d - c;
  printf "\n%-44s %10s %12s\n", "import of " n " incidents from CSV", "seconds", "rows/s";
  printf "%-44s %10.2f %12.0f\n", "gridwatch import (spatial index)", g, n / g;
  printf "%-44s %10.2f %12.0f\n", "gridwatch import + grid resolution", r, n / r;
  printf "%-44s %10.2f %12.0f\n", "ogr2ogr -f SQLite -dsco SPATIALITE=YES", o, n / o;
  printf "ratio gridwatch/ogr2ogr (rows/s): %.2fx\n", o / g;
  printf "ROW|import of %d incidents from CSV|%.0f rows/s|ogr2ogr -f SQLite (SpatiaLite)|%.0f rows/s|%.2f\n", n, n / g, n / o, o / g;
}'
