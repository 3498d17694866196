#!/bin/sh
# bench_clusters.sh [DIR] — the quality table of docs/hotspots.md ("Which method finds the
# planted hot spots"): every hot spot method scored by bench_clusters on the synthetic city's
# planted truth (scales 0.05 and 1, seeds 1–3: recall, precision, trend over the whole year),
# on the next quarter of the same cities (train January–September, test October–December:
# PAI, PEI), and on the real Chicago crimes (train January–March 2018, test April–June).
# Cities are generated into DIR (default /tmp/gw_bench_clusters) once and reused; Chicago is
# imported from ../shared/data/real when it is there.  About 10 minutes on 2 cores.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-/tmp/gw_bench_clusters}
mkdir -p "$dir"
cmake --build build -j2 --target gridwatch bench_clusters >/dev/null
gw=build/gridwatch b=build/bench_clusters
for scale in 0.05 1; do
  for seed in 1 2 3; do
    db=$dir/city_${scale}_$seed.sqlite
    [ -f "$db" ] || $gw gen-city "$db" --scale "$scale" --seed "$seed" >/dev/null
    echo "== scale $scale seed $seed: the planted truth over the whole year"
    $b "$db" --truth "$db.truth.geojson"
    echo "== scale $scale seed $seed: next quarter"
    $b "$db" --train 2025-01-01T00:00:00/2025-09-30T23:59:59 \
       --test 2025-10-01T00:00:00/2025-12-31T23:59:59 --quick
  done
done
real=${GW_SHARED_DIR:-../shared}/data/real/chicago
if [ -f "$real/crimes_2018H1.csv" ]; then
  chi=$dir/chicago.sqlite
  if [ ! -f "$chi" ]; then
    $gw import "$chi" grids "$real/police_beats.geojson" --map id=beat_num,name=beat >/dev/null
    $gw import "$chi" incidents "$real/crimes_2018H1.csv" --tz America/Chicago \
      --map occurred_at=date,category=primary_type --skip-bad-rows >/dev/null
  fi
  echo "== Chicago 2018: train January-March, test April-June"
  $b "$chi" --tz America/Chicago --train 2018-01-01T00:00:00/2018-03-31T23:59:59 \
     --test 2018-04-01T00:00:00/2018-06-30T23:59:59
fi
