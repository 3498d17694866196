#!/bin/sh
# test_peers.sh — gridwatch judged by independent programs, against a running `gridwatch serve`:
# GDAL's OAPIF driver (lists and counts every collection, copies layers out to GeoPackage and back
# in with `gridwatch import`), @mapbox/geojsonhint on our items GeoJSON, and every tile fetched
# decoded by @mapbox/vector-tile and by GDAL's MVT driver with the same features.
# usage: test_peers.sh PATH/TO/gridwatch
# Peers: gdal-bin (ogrinfo, ogr2ogr), sqlite3, curl, node + `npm ci` in tests/peers.  A check whose
# peer is missing is skipped with a message.  Ends with "peers: N passed, N failed, N skipped";
# exits 77 (ctest: Skipped) when nothing failed but a peer was missing, so a partial run shows.
set -u
GW=${1:?usage: test_peers.sh gridwatch-binary}
case "$GW" in /*) ;; *) GW="$(pwd)/$GW" ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS="$HERE/../peers"
T=$(mktemp -d /tmp/gwpeers.XXXXXX)
SRV=""
cleanup() {
  if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
pass=0
fail=0
skip=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
skipped() { skip=$((skip + 1)); echo "SKIP: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
# count LAYER FILE: the feature count of a layer in `gridwatch stats --json` output
count() { grep -A1 "\"$1\": {" "$2" | grep '"count"' | tr -dc 0-9; }

LAYERS="grids police_rooms cameras teams incidents"

# ---- a small city and a server on a free port -------------------------------------------------
if ! "$GW" gen-city "$T/city.db" --scale 0.01 --seed 7 >"$T/gen.out" 2>&1; then
  bad "gen-city: $(cat "$T/gen.out")"
  echo "peers: $pass passed, $fail failed, $skip skipped"
  exit 1
fi
"$GW" stats "$T/city.db" --json >"$T/stats.json"
"$GW" serve "$T/city.db" --port 0 --anonymous-read --quiet --no-wall >"$T/serve.log" 2>&1 & # the data only
SRV=$!
U=""
i=0
while [ $i -lt 100 ]; do
  U=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' "$T/serve.log" | head -n 1)
  [ -n "$U" ] && break
  kill -0 "$SRV" 2>/dev/null || break
  sleep 0.1
  i=$((i + 1))
done
if [ -z "$U" ]; then
  bad "server did not start: $(head -c 300 "$T/serve.log")"
  echo "peers: $pass passed, $fail failed, $skip skipped"
  exit 1
fi
ok

# ---- (a) GDAL's OGC API - Features client ------------------------------------------------------
if have ogrinfo && have ogr2ogr && have sqlite3; then
  # offline tiles: GDAL's MBTiles driver reads the vector layers back
  if "$GW" tiles "$T/city.db" "$T/city.mbtiles" --layers grids,incidents --zoom 8-10 >"$T/tiles.out" 2>&1; then ok; else bad "gridwatch tiles: $(head -c 300 "$T/tiles.out")"; fi
  ogrinfo -ro -so "$T/city.mbtiles" >"$T/mbt.txt" 2>&1
  for l in grids incidents; do
    if grep -q ": $l" "$T/mbt.txt"; then ok; else bad "ogrinfo does not list $l in the MBTiles: $(head -c 300 "$T/mbt.txt")"; fi
  done
  ogrinfo -ro -q "OAPIF:$U/" >"$T/oapif.txt" 2>"$T/oapif.err"
  for l in $LAYERS; do
    if grep -q "^[0-9]*: $l " "$T/oapif.txt"; then ok; else bad "OAPIF does not list $l: $(cat "$T/oapif.txt" "$T/oapif.err")"; fi
    want=$(count "$l" "$T/stats.json")
    got=$(ogrinfo -ro -so "OAPIF:$U/" "$l" 2>/dev/null | sed -n 's/^Feature Count: //p')
    if [ -n "$want" ] && [ "$got" = "$want" ]; then ok; else bad "OAPIF feature count of $l: '$got', the store has '$want'"; fi
  done
  # Every collection copied out page by page (1,000 a page: the paging links walk them all).
  if ogr2ogr -f GPKG "$T/out.gpkg" "OAPIF:$U/" -oo PAGE_SIZE=1000 >"$T/o2o.err" 2>&1; then
    ok
    # Back in, into a fresh database (grids and police rooms first: incidents resolve them).
    for l in $LAYERS; do
      want=$(count "$l" "$T/stats.json")
      got=$(ogrinfo -ro -so "$T/out.gpkg" "$l" 2>/dev/null | sed -n 's/^Feature Count: //p')
      if [ "$got" = "$want" ]; then ok; else bad "ogr2ogr copied $got of $want $l"; fi
      if "$GW" import "$T/back.db" "$l" "$T/out.gpkg" --source-layer "$l" >"$T/imp.out" 2>&1; then ok; else bad "import $l from the OAPIF copy: $(cat "$T/imp.out")"; fi
    done
    "$GW" stats "$T/back.db" --json >"$T/stats2.json" 2>&1
    for l in $LAYERS; do
      a=$(count "$l" "$T/stats.json")
      b=$(count "$l" "$T/stats2.json")
      if [ -n "$a" ] && [ "$a" = "$b" ]; then ok; else bad "$l after the round trip: $b rows, the original has $a"; fi
      sqlite3 "$T/city.db" "SELECT id FROM $l ORDER BY id" >"$T/ids1" 2>&1
      sqlite3 "$T/back.db" "SELECT id FROM $l ORDER BY id" >"$T/ids2" 2>&1
      if [ -s "$T/ids1" ] && cmp -s "$T/ids1" "$T/ids2"; then ok; else bad "$l ids differ after the round trip: $(diff "$T/ids1" "$T/ids2" | head -n 4)"; fi
      # Attributes equal, geometry within 1e-6 degrees (needs node for the comparison).
      if have node; then
        "$GW" export "$T/city.db" "$l" "$T/a.csv" >/dev/null 2>&1
        "$GW" export "$T/back.db" "$l" "$T/b.csv" >/dev/null 2>&1
        if node "$PEERS/same_csv.mjs" "$T/a.csv" "$T/b.csv" >"$T/same.out" 2>&1; then ok; else bad "$l rows differ after the round trip: $(head -n 4 "$T/same.out")"; fi
      fi
    done
  else
    bad "ogr2ogr from OAPIF: $(tail -n 3 "$T/o2o.err")"
  fi
else
  skipped "GDAL client checks: ogrinfo/ogr2ogr/sqlite3 not installed (Debian: gdal-bin sqlite3)"
fi

# ---- (b) GeoJSON validator ---------------------------------------------------------------------
node_ok=0
if have node && [ -d "$PEERS/node_modules/@mapbox/geojsonhint" ] && [ -d "$PEERS/node_modules/@mapbox/vector-tile" ]; then
  node_ok=1
fi
if [ $node_ok -eq 1 ] && have curl; then
  files=""
  for l in $LAYERS; do
    curl -sf -o "$T/items-$l.json" "$U/collections/$l/items?limit=10000" || bad "GET /collections/$l/items failed"
    files="$files $T/items-$l.json"
  done
  # a bbox page with paging links, a filtered page, a time window, one item
  curl -sf -o "$T/page.json" "$U/collections/incidents/items?bbox=115.3,35.1,115.7,35.4&limit=1000&offset=1000" && files="$files $T/page.json"
  curl -sf -o "$T/filt.json" "$U/collections/incidents/items?category=theft&datetime=2025-03-01T00:00:00Z/..&limit=500" && files="$files $T/filt.json"
  gid=$(sqlite3 "$T/city.db" "SELECT id FROM grids ORDER BY id LIMIT 1" 2>/dev/null)
  [ -n "$gid" ] && curl -sf -o "$T/one.json" "$U/collections/grids/items/$gid" && files="$files $T/one.json"
  # shellcheck disable=SC2086
  if node "$PEERS/check_geojson.mjs" $files >"$T/hint.out" 2>&1; then ok; else bad "geojsonhint: $(grep -B1 '  line' "$T/hint.out" | head -n 12)"; fi
  # every layer really held features (a validator passes an empty collection)
  for l in $LAYERS; do
    if grep -q "items-$l.json: [1-9][0-9]* features, 0 problems" "$T/hint.out"; then ok; else bad "items of $l: $(grep "items-$l" "$T/hint.out")"; fi
  done
  # the validator is awake: a clockwise exterior ring must be reported (right-hand rule)
  printf '{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[1,0],[0,0]]]}}' >"$T/cw.json"
  if node "$PEERS/check_geojson.mjs" "$T/cw.json" 2>&1 | grep -q "right-hand rule"; then ok; else bad "geojsonhint did not flag a clockwise ring"; fi
else
  skipped "GeoJSON validator: needs node and 'npm ci' in tests/peers (and curl)"
fi

# ---- (c) MVT: @mapbox/vector-tile and GDAL's MVT driver read the same features -----------------
# tile z x y of a lon/lat (XYZ), and a tile's lon/lat bounds
tilexy() {
  awk -v lon="$1" -v lat="$2" -v z="$3" 'BEGIN { pi = atan2(0, -1); n = 2 ^ z; r = lat * pi / 180;
    x = int((lon + 180) / 360 * n); y = int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / pi) / 2 * n);
    print z, x, y }'
}
tilebbox() { # z x y margin(fraction of the tile) -> W,S,E,N
  awk -v z="$1" -v x="$2" -v y="$3" -v m="$4" 'function lat(t, e) { e = exp(pi * (1 - 2 * t / n));
      return atan2((e - 1 / e) / 2, 1) * 180 / pi }
    BEGIN { pi = atan2(0, -1); n = 2 ^ z;
      printf "%.9f,%.9f,%.9f,%.9f\n", (x - m) / n * 360 - 180, lat(y + 1 + m), (x + 1 + m) / n * 360 - 180, lat(y - m) }'
}
if [ $node_ok -eq 1 ] && have ogrinfo && have ogr2ogr && have curl; then
  # the city centre (the middle of the grids' extent), at the zooms of the brief
  for spec in "grids 11" "incidents 13" "city 12" "city 13" "city 8" "incidents 8" "camera_views 15"; do
    set -- $spec
    lay=$1
    set -- $(tilexy 115.48 35.25 "$2")
    z=$1 x=$2 y=$3
    d="$T/tiles/$lay"
    mkdir -p "$d"
    f="$d/$z-$x-$y.pbf"
    code=$(curl -s -o "$f" -w '%{http_code}' "$U/tiles/$lay/$z/$x/$y.mvt")
    if [ "$code" = 200 ] && [ -s "$f" ]; then ok; else bad "tile $lay/$z/$x/$y: HTTP $code, $(wc -c <"$f") bytes"; continue; fi
    g="$d/$z-$x-$y.gdal"
    mkdir -p "$g"
    # CLIP=NO: GDAL keeps what lies in the tile buffer, as the JavaScript decoder does
    for name in $(ogrinfo -ro -q -oo CLIP=NO "$f" 2>/dev/null | sed -n 's/^[0-9]*: \([a-z_]*\) .*/\1/p'); do
      ogr2ogr -oo CLIP=NO -f GeoJSON -t_srs EPSG:4326 "$g/$name.geojson" "$f" "$name" 2>>"$T/mvt.err"
    done
    if node "$PEERS/decode_mvt.mjs" "$f" --against "$g" >"$T/dec.out" 2>&1; then ok; else bad "tile $lay/$z/$x/$y: $(grep -i 'mismatch\|error' "$T/dec.out" | head -n 5)"; fi
    if grep -q "features" "$T/dec.out" && ! grep -q "^[a-z_]*: 0 features" "$T/dec.out"; then ok; else bad "tile $lay/$z/$x/$y has an empty layer: $(head -n 6 "$T/dec.out")"; fi
  done
  # the expected layers: composite tiles carry the grid and point layers (and the hot spot
  # clusters where a cluster lies in the tile); cameras and blind spots join from z13
  # (GW_TL_CITY_CAMERAS_MINZOOM, the style's minzoom for both), so z12 has four and z13 six
  for zn in "12 grids,incidents,police_rooms,teams" "13 blind_spots,cameras,grids,incidents,police_rooms,teams"; do
    set -- $zn
    want=$2
    set -- $(tilexy 115.48 35.25 "$1")
    have=$(node "$PEERS/decode_mvt.mjs" "$T/tiles/city/$1-$2-$3.pbf" | grep -v '^hotspot_clusters:' |
        sed -n 's/^\([a-z_]*\): [1-9][0-9]* features.*/\1/p' | sort | paste -sd, -)
    if [ "$have" = "$want" ]; then ok; else bad "city z$1 tile has non-empty layers '$have' besides hotspot_clusters, want '$want'"; fi
  done
  set -- $(tilexy 115.48 35.25 8)
  if node "$PEERS/decode_mvt.mjs" "$T/tiles/incidents/$1-$2-$3.pbf" | grep -q "features (extent 4096), [1-9][0-9]* clusters"; then ok; else bad "incidents z8 tile is not clustered"; fi
  # Tile vs items API over the same bounds: every incident inside the tile is in it, and every
  # incident in it lies within the tile and its buffer (64/4096 of the tile).
  set -- $(tilexy 115.48 35.25 13)
  f="$T/tiles/incidents/$1-$2-$3.pbf"
  node "$PEERS/decode_mvt.mjs" "$f" --ids incidents | sort >"$T/tile-ids"
  for m in 0 0.015625; do
    bb=$(tilebbox "$1" "$2" "$3" $m)
    curl -sf -o "$T/bb.json" "$U/collections/incidents/items?bbox=$bb&limit=10000"
    node -e 'const fc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
             for (const f of fc.features) console.log(f.id);' "$T/bb.json" | sort >"$T/items-ids-$m"
  done
  if [ -s "$T/items-ids-0" ] && [ -z "$(comm -23 "$T/items-ids-0" "$T/tile-ids")" ]; then ok; else bad "incidents in the tile's bounds missing from the tile: $(comm -23 "$T/items-ids-0" "$T/tile-ids" | head -n 3)"; fi
  if [ -s "$T/tile-ids" ] && [ -z "$(comm -13 "$T/items-ids-0.015625" "$T/tile-ids")" ]; then ok; else bad "tile incidents outside the tile and its buffer: $(comm -13 "$T/items-ids-0.015625" "$T/tile-ids" | head -n 3)"; fi
else
  skipped "MVT second decoder: needs node, 'npm ci' in tests/peers, GDAL (gdal-bin) and curl"
fi

# the server stops cleanly and, in a sanitizer build, without a report
kill "$SRV" 2>/dev/null
wait "$SRV"
rc=$?
SRV=""
if [ "$rc" -eq 0 ]; then ok; else bad "gridwatch serve exited with $rc on SIGTERM: $(tail -c 300 "$T/serve.log")"; fi
if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$T/serve.log"; then bad "sanitizer report from the server: $(grep -m 3 "Sanitizer\|runtime error" "$T/serve.log")"; else ok; fi

echo "peers: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] || exit 1
[ "$skip" -eq 0 ] || exit 77
