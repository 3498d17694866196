#!/bin/sh
# shellcheck disable=SC2046 # the set -- $(...) word splits are meant
# bench_kde.sh — gridwatch's kernel density (hotspots --method kde, geo/kde.c) beside R spatstat's
# density.ppp on the same 1 M incidents: the same metric coordinates, raster extent, cell size and
# quartic radius, edge correction off (issue 6).  Prints one table: the time of the density step
# on each side, the ratio, and how far the two rasters differ relative to the peak density.
# usage: bench/bench_kde.sh [--build DIR] [--db CITY.db] [--work DIR] [--cells "100 50"]
#                           [--radii "default 500"]
#   --db     a gridwatch database (default WORK/city.db, generated with gen-city --scale 1 if absent;
#            only read)
#   --radii  quartic search radii in metres; "default" = ArcGIS's rule as gridwatch computes it
# Needs sqlite3 with mod_spatialite (to export the metric coordinates), gdal_translate (to read
# gridwatch's GeoTIFF back as raw Float32) and Rscript with r-cran-spatstat.
# Timing: gridwatch = the density step as `hotspots` reports it (binning + kernel, 2 threads; not
# the model load); spatstat = density.ppp (pixellate + FFT convolution, 1 thread; not the CSV read),
# wall clock and, for R, CPU seconds too (the wall figure suffers most on a loaded machine).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
B="$HERE/../build"
WORK=${TMPDIR:-/tmp}/gw_bench_kde
DB=""
CELLS="100 50"
RADII="default 500"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) B=$2; shift 2 ;;
    --db) DB=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --cells) CELLS=$2; shift 2 ;;
    --radii) RADII=$2; shift 2 ;;
    *) echo "usage: bench_kde.sh [--build DIR] [--db CITY.db] [--work DIR] [--cells \"100 50\"] [--radii \"default 500\"]" >&2; exit 2 ;;
  esac
done
GW="$B/gridwatch"
for t in sqlite3 gdal_translate gdalinfo Rscript; do
  command -v $t >/dev/null 2>&1 || { echo "bench_kde: $t not installed (Debian: sqlite3 libsqlite3-mod-spatialite gdal-bin r-cran-spatstat)" >&2; exit 1; }
done
mkdir -p "$WORK"
[ -n "$DB" ] || DB="$WORK/city.db"
if [ ! -f "$DB" ]; then
  echo "bench_kde: generating a scale-1 city in $DB" >&2
  GW_PROGRESS=0 "$GW" gen-city "$DB" --scale 1 >/dev/null
fi
SRID=$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'metric_srid'")
# the incidents in the metric CRS, as gridwatch's model holds them (PROJ, through SpatiaLite here),
# to 1 nm: at 0.1 mm a few points on cell edges fall in the neighbouring cell (a 2.5e-5 residual)
# (kept between runs while the database is unchanged)
if [ ! -s "$WORK/incidents_metric.csv" ] || [ -n "$(find "$DB" -newer "$WORK/incidents_metric.csv")" ]; then
  sqlite3 -csv -header "$DB" ".load mod_spatialite" \
    "SELECT printf('%.9f', X(ST_Transform(geom, $SRID))) AS x, printf('%.9f', Y(ST_Transform(geom, $SRID))) AS y FROM incidents" \
    >"$WORK/incidents_metric.tmp"
  mv "$WORK/incidents_metric.tmp" "$WORK/incidents_metric.csv"
fi
N=$(($(wc -l <"$WORK/incidents_metric.csv") - 1))

ROWS="$WORK/rows.txt"
: >"$ROWS"
for C in $CELLS; do
  for R in $RADII; do
    BW=""
    [ "$R" = default ] || BW="--bandwidth $R"
    # shellcheck disable=SC2086
    "$GW" hotspots "$DB" --method kde --cell "$C" $BW --out "$WORK/kde.tif" 2>"$WORK/kde.log"
    # kde: 1000000 incidents, bandwidth 2411.4 m, 1486 x 1185 cells of 100 m, 3.511 s (total 26.15 s)
    set -- $(sed -n 's/^kde: \([0-9]*\) incidents, bandwidth \([0-9.]*\) m, \([0-9]*\) x \([0-9]*\) cells of [0-9.]* m, \([0-9.]*\) s (total \([0-9.]*\) s).*/\1 \2 \3 \4 \5 \6/p' "$WORK/kde.log")
    [ $# -eq 6 ] || { echo "bench_kde: unexpected gridwatch output: $(cat "$WORK/kde.log")" >&2; exit 1; }
    n=$1 rad=$2 nx=$3 ny=$4 ours=$5 total=$6
    [ "$n" = "$N" ] || echo "bench_kde: warning: gridwatch used $n incidents, the export has $N" >&2
    # the radius gridwatch printed is rounded to 0.1 m: rerun with exactly that radius, so both
    # sides use the same number
    if [ "$R" = default ]; then
      "$GW" hotspots "$DB" --method kde --cell "$C" --bandwidth "$rad" --out "$WORK/kde.tif" 2>"$WORK/kde.log"
      set -- $(sed -n 's/^kde: .*, \([0-9.]*\) s (total \([0-9.]*\) s).*/\1 \2/p' "$WORK/kde.log")
      ours=$1 total=$2
    fi
    set -- $(gdalinfo "$WORK/kde.tif" | sed -n 's/^Origin = (\([-0-9.]*\),\([-0-9.]*\)).*/\1 \2/p')
    x0=$1 y1=$2
    gdal_translate -q -of ENVI -ot Float32 "$WORK/kde.tif" "$WORK/kde.bin"
    Rscript "$HERE/kde_spatstat.R" "$WORK/incidents_metric.csv" "$x0" "$y1" "$nx" "$ny" "$C" "$rad" "$WORK/kde.bin" >"$WORK/r.log" 2>&1 ||
      { echo "bench_kde: R failed: $(tail -n 5 "$WORK/r.log")" >&2; exit 1; }
    sed 's/^/    /' "$WORK/r.log" >&2
    kv() { tr ' ' '\n' <"$WORK/r.log" | sed -n "s/^$1=//p" | head -n 1; }
    label=$rad
    [ "$R" = default ] && label="$rad (ArcGIS)"
    echo "$C|$label|${nx}x$ny|$ours|$total|$(kv density_ppp_seconds)|$(kv cpu_seconds)|$(kv max_abs_diff_rel)|$(kv mean_abs_diff_rel)|$(kv peak_gridwatch)" >>"$ROWS"
  done
done

echo
echo "KDE: $N incidents, quartic kernel, edge correction off, output in incidents/km²; $(nproc) cores"
echo "gridwatch: hotspots --method kde (2 threads; binned above 100,000 incidents like spatstat, exact positions below, which differ from spatstat by the binning; 'load' = model open + total overhead)"
echo "spatstat:  density.ppp(kernel=\"quartic\", sigma=r/sqrt(8), edge=FALSE, dimyx=raster) (1 thread)"
printf '%-5s %-17s %-10s | %8s %8s | %9s %8s | %7s | %9s %9s | %8s\n' cell "radius m" cells "gw s" "gw load" "R wall s" "R cpu s" "R/gw" "max|d|/pk" "mean|d|/pk" "peak/km2"
while IFS='|' read -r c lab cells ours total rw rc dmax dmean peak; do
  echo "$c|$lab|$cells|$ours|$total|$rw|$rc|$dmax|$dmean|$peak" | awk -F'|' '{
    printf "%-5s %-17s %-10s | %8.2f %8.1f | %9.2f %8.2f | %6.1fx | %9.1e %9.1e | %8.0f\n",
      $1, $2, $3, $4, $5 - $4, $6, $7, ($4 > 0 ? $6 / $4 : 0), $8, $9, $10 }'
done <"$ROWS"
# the rows for bench/run_all.sh: ratio R / gridwatch (wall)
while IFS='|' read -r c lab cells ours total rw rc dmax dmean peak; do
  echo "$c|$lab|$ours|$rw" | awk -F'|' '{ printf "ROW|KDE cell %s m, radius %s m|%.2f s|R spatstat|%.2f s|%.1f\n", $1, $2, $3, $4, ($3 > 0 ? $4 / $3 : 0) }'
done <"$ROWS"
