#!/bin/sh
# bench_hotspot.sh — Gi* (weights build + statistic) and KDE on a scale-1 synthetic city beside
# R spdep (poly2nb + localG on the same grids and values).  Prints one table.
# usage: bench/bench_hotspot.sh [DB] ; env GRIDWATCH=path/to/gridwatch (default build/gridwatch)
# A missing DB is generated (gridwatch gen-city, scale 1: a few minutes).  Needs Rscript with
# r-cran-spdep and r-cran-sf for the R column (skipped with a note otherwise).
set -eu
GW=${GRIDWATCH:-build/gridwatch}
DB=${1:-/tmp/gw_bench_city1.sqlite}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "$DB" ] || "$GW" gen-city "$DB" --scale 1
"$GW" export "$DB" grids "$DIR/grids.gpkg" >/dev/null
SRID=$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'metric_srid'")
printf '%-34s %12s %12s\n' "task (12,864 grids, 1M incidents)" "gridwatch" "R spdep"
for W in queen rook distance:1500 knn:8; do
  "$GW" hotspots "$DB" --weights "$W" --out "$DIR/gi.csv" --neighbours "$DIR/nb.csv" 2>"$DIR/gi.log"
  ours=$(sed -n 's/.*weights \([0-9.]*\) s, statistic \([0-9.]*\) s.*/\1 + \2 s/p' "$DIR/gi.log")
  peer="-"
  if [ "$W" = queen ] || [ "$W" = rook ]; then
    Q=0; [ "$W" = queen ] && Q=1
    if command -v Rscript >/dev/null && Rscript "$HERE/hotspot_spdep.R" "$DIR/gi.csv" "$DIR/nb.csv" "$DIR/out.csv" \
         "$DIR/grids.gpkg" "$SRID" 0.01 $Q >"$DIR/r.log" 2>&1; then
      peer=$(awk -F= '/^poly2nb_seconds/{p=$2} /^poly2nb_localG_seconds/{l=$2} END{printf "%s + %s s", p, l}' "$DIR/r.log")
      grep -E '^(max_abs_diff_z|poly2nb_links)' "$DIR/r.log" | sed 's/^/    /' >&2
    else
      peer="(R/spdep absent)"
    fi
  fi
  printf '%-34s %12s %12s\n' "Gi* $W (weights + statistic)" "$ours" "$peer"
  # the row for bench/run_all.sh: seconds summed, ratio peer / ours (higher: we are faster)
  echo "$ours|$peer" | awk -F'|' -v w="$W" '{
    split($1, a, " "); o = a[1] + a[3]; p = "-"; r = "-";
    if ($2 ~ /^[0-9.]+ \+ [0-9.]+ s$/) { split($2, b, " "); p = sprintf("%.2f s", b[1] + b[3]); r = (o > 0 ? sprintf("%.1f", (b[1] + b[3]) / o) : "-") }
    printf "ROW|Gi* %s weights + statistic|%.2f s|R spdep|%s|%s\n", w, o, p, r }'
done
for C in 100 50; do
  "$GW" hotspots "$DB" --method kde --cell $C --out "$DIR/kde.tif" 2>"$DIR/kde.log"
  printf '%-34s %12s %12s\n' "KDE ${C} m, ArcGIS default radius" "$(sed -n 's/.*cells of [0-9.]* m, \([0-9.]*\) s.*/\1 s/p' "$DIR/kde.log")" "-"
done
