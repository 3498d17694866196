#!/bin/sh
# test_zh_io.sh — import and export for Chinese users (issue 21 item 4), through the binary and
# real GDAL/PROJ tools: a GBK CSV with 经度/纬度/名称 headers and a GBK shapefile without .cpg
# import with the right names (read as GB18030, and the import says so); a wrong --encoding is
# an error naming the row, never mojibake; the database's default zone (init --tz) reads times
# without an offset; export --srs EPSG:4547 read back by ogrinfo matches PROJ's cs2cs; a GBK
# shapefile export has a .cpg GDAL reads; GeoJSON is RFC 7946 (no crs, <= 7 decimals); .kml and
# .dxf by extension read back by GDAL.
# usage: test_zh_io.sh PATH/TO/gridwatch   (exit 77 without ogrinfo, cs2cs or iconv)
set -u
GW=${1:?usage: test_zh_io.sh gridwatch-binary}
for tool in ogrinfo cs2cs iconv; do
  command -v $tool >/dev/null 2>&1 || { echo "SKIP: no $tool"; exit 77; }
done
T=$(mktemp -d /tmp/gwzhio.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() {
  want=$1; shift
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "exit $got (want $want): $* :: $(head -c 400 "$T/err")"; fi
}
contains() { if grep -q -- "$2" "$1"; then ok; else bad "$1 lacks '$2': $(head -c 400 "$1")"; fi; }
lacks() { if grep -q -- "$2" "$1"; then bad "$1 has '$2': $(head -c 400 "$1")"; else ok; fi; }
count_rooms() { "$GW" stats "$1" | awk '$1 == "police_rooms" { print $2 }'; }
# |a - b| <= tol
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }' &&
  ok || bad "$4: $1 vs $2 (tolerance $3)"; }

DB=$T/city.db
expect 2 "$GW" init "$T/x.db" --tz Mars/Olympus
contains "$T/err" "not a time zone"
expect 0 "$GW" init "$DB" --tz Asia/Shanghai
contains "$T/out" "default time zone: Asia/Shanghai"

# ---- a GBK CSV as Excel saves it in a Chinese locale: 经度/纬度 detected, GB18030 detected
printf 'id,名称,经度,纬度\r\nR1,牡丹区警务室,115.4800000,35.2400000\r\nR2,东城派出所,115.5100000,35.2600000\r\n' >"$T/rooms-utf8.csv"
iconv -f UTF-8 -t GBK "$T/rooms-utf8.csv" >"$T/rooms.csv"
if cmp -s "$T/rooms.csv" "$T/rooms-utf8.csv"; then bad "iconv wrote UTF-8"; fi
# a wrong explicit encoding: an error naming where, nothing imported
expect 3 "$GW" import "$DB" police_rooms "$T/rooms.csv" --map name=名称 --encoding UTF-8
contains "$T/err" "the header: the bytes 0x"
contains "$T/err" "are not UTF-8"
expect 3 "$GW" import "$DB" police_rooms "$T/rooms-utf8.csv" --map name=名称 --encoding GBK
contains "$T/err" "is UTF-8 text"
contains "$T/err" "mojibake"
expect 2 "$GW" import "$DB" police_rooms "$T/rooms.csv" --encoding no-such-code
contains "$T/err" "unknown encoding 'no-such-code'"
n=$(count_rooms "$DB")
[ "$n" = 0 ] && ok || bad "refused imports left $n rooms"
# a value (not the header) that is not UTF-8: the row is named
{ printf 'id,name,lon,lat\nR7,plain,115.4,35.2\nR8,'; printf '牡丹' | iconv -f UTF-8 -t GBK; printf ',115.4,35.2\n'; } >"$T/row2.csv"
expect 3 "$GW" import "$DB" police_rooms "$T/row2.csv" --encoding UTF-8
contains "$T/err" "row2.csv row 2: the bytes"
expect 0 "$GW" import "$DB" police_rooms "$T/rooms.csv" --map name=名称
contains "$T/out" "imported 2 police_rooms"
contains "$T/out" "text read as GB18030: the bytes are not UTF-8 (first in the header); pass --encoding to choose"
expect 0 "$GW" export "$DB" police_rooms "$T/rooms-back.csv"
contains "$T/rooms-back.csv" "R1,牡丹区警务室"
contains "$T/rooms-back.csv" "R2,东城派出所"
# the same with the encoding named: no detection note
expect 0 "$GW" import "$DB" police_rooms "$T/rooms.csv" --map name=名称 --encoding GBK --replace
contains "$T/out" "text read as GBK (--encoding)"
# UTF-8 with lng/LAT headers (any case), and a header without coordinates names --lon/--lat
printf 'id,name,LNG,Lat\nR3,x,115.5,35.3\n' >"$T/lng.csv"
expect 0 "$GW" import "$DB" police_rooms "$T/lng.csv"
printf 'id,名称,东经,北纬\nR4,y,115.5,35.3\n' >"$T/nocoord.csv"
expect 3 "$GW" import "$DB" police_rooms "$T/nocoord.csv"
contains "$T/err" "name them with --lon COLUMN --lat COLUMN"
contains "$T/err" "the header has: id, 名称, 东经, 北纬"
lacks "$T/err" "lon-field"
expect 0 "$GW" import "$DB" police_rooms "$T/nocoord.csv" --lon 东经 --lat 北纬
printf 'id,lon,longitude,lat\nR5,1,2,3\n' >"$T/twolon.csv"
expect 3 "$GW" import "$DB" police_rooms "$T/twolon.csv"
contains "$T/err" "name the one to use with --lon"

# ---- a GBK shapefile without .cpg (language driver id 0, then 0x57 'Latin-1' as ArcGIS writes)
ogr2ogr -f "ESRI Shapefile" -lco ENCODING=GBK "$T/shp" "$T/rooms-utf8.csv" \
  -oo X_POSSIBLE_NAMES=经度 -oo Y_POSSIBLE_NAMES=纬度 -oo KEEP_GEOM_COLUMNS=NO -nln gbk 2>"$T/err" || bad "ogr2ogr: $(cat "$T/err")"
rm -f "$T/shp/gbk.cpg"
SHP=$T/shp/gbk.shp
for ldid in 0 87; do
  printf "\\$(printf %o $ldid)" | dd of="$T/shp/gbk.dbf" bs=1 seek=29 conv=notrunc 2>/dev/null
  expect 0 "$GW" import "$DB" police_rooms "$SHP" --map name=名称 --replace
  contains "$T/out" "text read as GB18030: no .cpg and the bytes are not UTF-8"
  expect 0 "$GW" export "$DB" police_rooms "$T/shp-back.csv"
  contains "$T/shp-back.csv" "R1,牡丹区警务室"
  lacks "$T/shp-back.csv" "R3"
done
expect 3 "$GW" import "$DB" police_rooms "$SHP" --map name=名称 --encoding UTF-8
contains "$T/err" "is not UTF-8 text"
expect 0 "$GW" import "$DB" police_rooms "$SHP" --map name=名称 --encoding GB18030 --replace
contains "$T/out" "text read as GB18030 (--encoding)"

# ---- the database's default zone for times without an offset
printf 'id,occurred_at,category,经度,纬度\nI1,2024-03-01 08:00:00,theft,115.48,35.24\nI2,2024-03-01T09:00:00+08:00,theft,115.48,35.24\n' >"$T/inc.csv"
expect 0 "$GW" import "$DB" incidents "$T/inc.csv"
contains "$T/out" "1 times without a UTC offset read in Asia/Shanghai, the database's default zone"
expect 0 "$GW" export "$DB" incidents "$T/inc.csv.out.csv"
contains "$T/inc.csv.out.csv" "I1,2024-03-01T00:00:00Z"
expect 0 "$GW" import "$DB" incidents "$T/inc.csv" --tz UTC --replace
contains "$T/out" "read in UTC (--tz)"
expect 0 "$GW" init "$T/nozone.db"
expect 3 "$GW" import "$T/nozone.db" incidents "$T/inc.csv"
contains "$T/err" "give --tz"

# ---- export in CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547), checked against cs2cs
expect 0 "$GW" import "$DB" police_rooms "$T/rooms.csv" --map name=名称 --replace
for ext in csv shp; do
  expect 0 "$GW" export "$DB" police_rooms "$T/gk.$ext" --srs EPSG:4547
  contains "$T/out" "(EPSG:4547)"
done
contains "$T/gk.prj" "CGCS2000"
contains "$T/gk.prj" "114"
ogrinfo -q -al "$T/gk.shp" >"$T/gk.txt" 2>&1
for pt in "R1 115.48 35.24" "R2 115.51 35.26"; do
  set -- $pt
  want=$(echo "$3 $2" | cs2cs -f %.3f EPSG:4326 EPSG:4547) # EPSG axis order: lat lon -> N E
  wn=$(echo "$want" | awk '{ print $1 }'); we=$(echo "$want" | awk '{ print $2 }')
  got=$(awk -v id="$1" '$1 == "id" && $4 == id { f = 1 } f && /POINT/ { gsub(/[()]/, ""); print $2, $3; exit }' "$T/gk.txt")
  ge=${got% *}; gn=${got#* }
  near "$ge" "$we" 0.01 "$1 easting (ogrinfo vs cs2cs)"
  near "$gn" "$wn" 0.01 "$1 northing (ogrinfo vs cs2cs)"
  ce=$(awk -F, -v id="$1" '$3 == id { print $1 }' "$T/gk.csv")
  near "$ce" "$we" 0.01 "$1 CSV X vs cs2cs"
done
# GCJ-02: offset by a few hundred metres, no CRS written
expect 0 "$GW" export "$DB" police_rooms "$T/gcj.shp" --srs gcj02
[ -e "$T/gcj.prj" ] && bad "a GCJ-02 shapefile got a .prj" || ok
ogrinfo -q -al "$T/gcj.shp" | awk '/POINT/ { gsub(/[()]/, ""); print $2 - 115.48, $3 - 35.24; exit }' >"$T/d"
read dx dy <"$T/d"
awk -v x="$dx" -v y="$dy" 'BEGIN { exit !(x > 0.002 && x < 0.01 && y > -0.002 && y < 0.004) }' && ok || bad "GCJ-02 offset $dx $dy"

# ---- a GBK shapefile and CSV: .cpg written, GDAL reads the names back
expect 0 "$GW" export "$DB" police_rooms "$T/gbk-out.shp" --encoding GBK
contains "$T/gbk-out.cpg" "GBK"
ogrinfo -q -al "$T/gbk-out.shp" >"$T/gbk-out.txt" 2>&1
contains "$T/gbk-out.txt" "name (String) = 牡丹区警务室"
if grep -q "牡丹" "$T/gbk-out.dbf"; then bad "the .dbf holds UTF-8"; else ok; fi
expect 0 "$GW" export "$DB" police_rooms "$T/gbk-out.csv" --encoding GBK
iconv -f GBK -t UTF-8 "$T/gbk-out.csv" >"$T/gbk-out-utf8.csv" && ok || bad "the GBK CSV is not GBK"
contains "$T/gbk-out-utf8.csv" "R1,牡丹区警务室"
# and back in: detected
expect 0 "$GW" import "$DB" police_rooms "$T/gbk-out.shp" --replace
contains "$T/out" "imported 2 police_rooms"
expect 2 "$GW" export "$DB" police_rooms "$T/x.geojson" --encoding GBK
contains "$T/err" "UTF-8 by their specification"
# a character GBK lacks stops the export, naming it
printf 'id,name,lon,lat\nR9,警务室😀,115.5,35.3\n' >"$T/emoji.csv"
expect 0 "$GW" import "$DB" police_rooms "$T/emoji.csv"
expect 3 "$GW" export "$DB" police_rooms "$T/emoji.shp" --encoding GBK
contains "$T/err" "'R9' field name"
[ -e "$T/emoji.shp" ] && bad "a refused export left a file" || ok
expect 0 "$GW" export "$DB" police_rooms "$T/emoji18030.shp" --encoding GB18030

# ---- GeoJSON: RFC 7946
expect 0 "$GW" export "$DB" police_rooms "$T/rooms.geojson"
lacks "$T/rooms.geojson" '"crs"'
if grep -Eq '[0-9]\.[0-9]{8,}' "$T/rooms.geojson"; then bad "more than 7 decimals: $(grep -Eo '[0-9]+\.[0-9]{8,}' "$T/rooms.geojson" | head -1)"; else ok; fi
contains "$T/rooms.geojson" "牡丹区警务室"
ogrinfo -q -al "$T/rooms.geojson" >"$T/gj.txt" 2>&1
contains "$T/gj.txt" "POINT (115.48 35.24)"
expect 2 "$GW" export "$DB" police_rooms "$T/gk.geojson" --srs EPSG:4547
contains "$T/err" "RFC 7946"
contains "$T/err" "--legacy-geojson"
expect 0 "$GW" export "$DB" police_rooms "$T/gk.geojson" --srs EPSG:4547 --legacy-geojson
contains "$T/gk.geojson" '"crs"'
contains "$T/gk.geojson" "4547"
expect 0 "$GW" export "$DB" grids "$T/grids.json"

# ---- KML and DXF by extension, an unknown one refused
expect 0 "$GW" export "$DB" police_rooms "$T/rooms.kml"
ogrinfo -q -al "$T/rooms.kml" >"$T/kml.txt" 2>&1
contains "$T/kml.txt" "牡丹区警务室"
contains "$T/kml.txt" "POINT (115.48 35.24"
expect 2 "$GW" export "$DB" police_rooms "$T/gk.kml" --srs EPSG:4547
expect 0 "$GW" gen-city "$T/small.db" --scale 0.01 --no-truth
expect 0 "$GW" export "$T/small.db" grids "$T/grids.dxf" --srs EPSG:4547
ogrinfo -q -al "$T/grids.dxf" >"$T/dxf.txt" 2>&1
contains "$T/dxf.txt" "LINESTRING"
contains "$T/dxf.txt" "Layer (String) = grids"
expect 0 "$GW" export "$T/small.db" grids "$T/grids.kml"
ogrinfo -q -al "$T/grids.kml" >"$T/gkml.txt" 2>&1
contains "$T/gkml.txt" "POLYGON (("
expect 1 "$GW" export "$DB" police_rooms "$T/rooms.xyz"
contains "$T/err" ".kml or .dxf"

echo "test_zh_io: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
