#!/bin/sh
# test_juris.sh — `gridwatch jurisdictions` as a person uses it: --help, the listing of a
# generated city (every grid in a village), import of a grid -> jurisdiction CSV (a good file
# changes the fields, a bad one changes nothing, byte for byte in an export), and the grids
# import mapping 市/村 onto prefecture/village and refusing a name with '/'.
# usage: test_juris.sh PATH/TO/gridwatch
set -u
GW=${1:?usage: test_juris.sh gridwatch-binary}
T=$(mktemp -d /tmp/gwjuris.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() {
  want=$1; shift
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "exit $got (want $want): $* :: $(head -c 300 "$T/err")"; fi
}
contains() { if grep -q -- "$2" "$1"; then ok; else bad "$1 lacks '$2': $(head -c 300 "$1")"; fi; }
lacks() { if grep -q -- "$2" "$1"; then bad "$1 has '$2'"; else ok; fi; }
one_line() { n=$(wc -l <"$1"); if [ "$n" -eq 1 ]; then ok; else bad "$1 has $n lines: $(cat "$1")"; fi; }
same() { if cmp -s "$1" "$2"; then ok; else bad "$1 and $2 differ: $3"; fi; }

expect 0 "$GW" jurisdictions --help
contains "$T/out" "usage: gridwatch jurisdictions DB"
contains "$T/out" "jurisdictions import DB FILE"
expect 0 "$GW" --help
contains "$T/out" "jurisdictions"
expect 2 "$GW" jurisdictions
one_line "$T/err"
expect 2 "$GW" jurisdictions import "$T/city.db"
one_line "$T/err"

expect 0 "$GW" gen-city "$T/city.db" --scale 0.01 --seed 7 --no-truth
expect 2 "$GW" jurisdictions "$T/city.db" --level 5
one_line "$T/err"
expect 3 "$GW" jurisdictions "$T/city.db" --parent nowhere
one_line "$T/err"

# the listing: one prefecture holding every grid; the villages' grids add up to it
expect 0 "$GW" stats "$T/city.db"
grids=$(awk '$1 == "grids" { print $2 }' "$T/out")
expect 0 "$GW" jurisdictions "$T/city.db" --level 1
contains "$T/out" "菏泽市"
top=$(awk 'NR == 2 { print $2 }' "$T/out")
if [ -n "$grids" ] && [ "$top" = "$grids" ]; then ok; else bad "prefecture has $top grids, stats says $grids"; fi
expect 0 "$GW" jurisdictions "$T/city.db" --level 4
sum=$(awk 'NR > 1 { s += $2; if ($1 != 4) bad = 1 } END { print bad ? "level" : s }' "$T/out")
if [ "$sum" = "$grids" ]; then ok; else bad "villages hold $sum grids, want $grids"; fi
expect 0 "$GW" jurisdictions "$T/city.db" --json
contains "$T/out" '"jurisdictions"'
contains "$T/out" '"unassigned_grids": 0'

# import: a good file moves two grids to a new village of their township
expect 0 "$GW" export "$T/city.db" grids "$T/before.csv"
contains "$T/before.csv" "prefecture"
contains "$T/before.csv" "village"
g1=$(grep -o '[0-9]\{6\}-[0-9]\{3\}-[0-9]\{4\}' "$T/before.csv" | sed -n 1p)
g2=$(grep -o '[0-9]\{6\}-[0-9]\{3\}-[0-9]\{4\}' "$T/before.csv" | sed -n 2p)
if [ -n "$g1" ] && [ -n "$g2" ] && [ "$g1" != "$g2" ]; then ok; else bad "grid ids from the export: '$g1' '$g2'"; fi
printf 'grid_id,village\n%s,测试村\n%s,"测试村"\n' "$g1" "$g2" >"$T/good.csv"
expect 0 "$GW" jurisdictions import "$T/city.db" "$T/good.csv"
contains "$T/err" "2 grids"
expect 0 "$GW" jurisdictions "$T/city.db" --level 4
n=$(awk '/\/测试村$/ { print $2 }' "$T/out")
if [ "$n" = "2" ]; then ok; else bad "the new village has '$n' grids, want 2: $(grep 测试村 "$T/out")"; fi
expect 0 "$GW" export "$T/city.db" grids "$T/after.csv"
c=$(grep -c '测试村' "$T/after.csv")
if [ "$c" -eq 2 ]; then ok; else bad "export after the import has $c rows in 测试村"; fi

# bad files: nothing changes (the export stays byte for byte the same)
printf 'grid_id,village\n%s,又一村\nNOPE-1,x\nNOPE-2,y\n' "$g1" >"$T/unknown.csv"
expect 3 "$GW" jurisdictions import "$T/city.db" "$T/unknown.csv"
one_line "$T/err"
contains "$T/err" "'NOPE-1', 'NOPE-2'"
contains "$T/err" "nothing was changed"
printf 'grid_id,township\n%s,东城/西城\n' "$g2" >"$T/slash.csv"
expect 3 "$GW" jurisdictions import "$T/city.db" "$T/slash.csv"
contains "$T/err" "cannot contain '/'"
printf 'grid_id,hamlet\n%s,x\n' "$g2" >"$T/column.csv"
expect 3 "$GW" jurisdictions import "$T/city.db" "$T/column.csv"
contains "$T/err" "unknown column 'hamlet'"
expect 1 "$GW" jurisdictions import "$T/city.db" "$T/missing.csv"
expect 0 "$GW" export "$T/city.db" grids "$T/after2.csv"
same "$T/after.csv" "$T/after2.csv" "a refused import changed the grids"
lacks "$T/after2.csv" "又一村"

# the grids import maps 市 and 村 onto prefecture and village, and refuses '/' in a name
sq='"geometry":{"type":"Polygon","coordinates":[[[115,35],[115.01,35],[115.01,35.01],[115,35.01],[115,35]]]}'
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"A","市":"菏泽市","township":"城关街道","村":"和平社区"},%s}]}\n' "$sq" >"$T/alias.geojson"
expect 0 "$GW" import "$T/alias.db" grids "$T/alias.geojson"
expect 0 "$GW" jurisdictions "$T/alias.db"
contains "$T/out" "菏泽市/城关街道/和平社区"
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"A","village":"一/二"},%s}]}\n' "$sq" >"$T/slash.geojson"
expect 3 "$GW" import "$T/slash2.db" grids "$T/slash.geojson"
contains "$T/err" "jurisdiction name"

echo "cli_juris: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
