#!/bin/sh
# test_cql2_gdal.sh — a real CQL2 client: GDAL's OAPIF driver (3.6 reads the items route's
# filter-lang enum in /openapi.json, finds cql-text, and sends an OGR -where it can translate as
# filter=…&filter-lang=cql-text).  For each -where: the request GDAL sent carries the filter, the
# server's gridwatch_ogc_filters_total grew, GDAL fetched fewer pages than the unfiltered layer
# needs, and the feature count equals what GDAL's SQLite driver finds with the same -where on the
# same database file (an evaluation that never touches gridwatch).
# usage: test_cql2_gdal.sh PATH/TO/gridwatch; exits 77 (skipped) without ogrinfo.
set -u
GW=${1:?usage: test_cql2_gdal.sh gridwatch-binary}
command -v ogrinfo >/dev/null 2>&1 || { echo "SKIP: no ogrinfo"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: no curl"; exit 77; }
T=$(mktemp -d /tmp/gwcql.XXXXXX)
SRV=""
cleanup() {
  [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
pass=0 fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

"$GW" gen-city "$T/city.db" --scale 0.01 --seed 7 >"$T/gen.out" 2>&1 || { echo "FAIL: gen-city"; cat "$T/gen.out"; exit 1; }
"$GW" serve "$T/city.db" --port 0 --anonymous-read >"$T/serve.log" 2>&1 &
SRV=$!
U="" i=0
while [ -z "$U" ] && [ $i -lt 200 ]; do
  U=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' "$T/serve.log" 2>/dev/null | head -n 1)
  [ -z "$U" ] && sleep 0.1
  i=$((i + 1))
done
[ -n "$U" ] || { echo "FAIL: the server did not start: $(head -c 300 "$T/serve.log")"; exit 1; }

filters() { curl -sf "$U/metrics" | sed -n 's/^gridwatch_ogc_filters_total \([0-9]*\)$/\1/p'; }
count() { sed -n 's/^Feature Count: \([0-9]*\)$/\1/p' "$1"; }

ogrinfo -ro -so -oo PAGE_SIZE=1000 "OAPIF:$U" incidents >"$T/all.out" 2>&1
total=$(count "$T/all.out")
[ -n "$total" ] && [ "$total" -gt 2000 ] || bad "unfiltered count '$total'"

for where in "severity >= 4 AND category = 'theft'" \
             "status <> 'closed' OR severity < 2" \
             "category LIKE 'tr%' AND NOT (severity = 3)" \
             "police_room IS NULL OR (grid = '371702-001-0001')" \
             "severity > 2 AND severity <= 4 AND category IN ('theft', 'dispute')"; do
  before=$(filters)
  ogrinfo -ro -so -oo PAGE_SIZE=1000 --debug on "OAPIF:$U" incidents -where "$where" >"$T/oapif.out" 2>&1
  after=$(filters)
  ogrinfo -ro -so "$T/city.db" incidents -where "$where" >"$T/sqlite.out" 2>&1
  got=$(count "$T/oapif.out") want=$(count "$T/sqlite.out")
  sent=$(grep -o 'Fetch(.*/items?.*filter=.*filter-lang=cql-text.*' "$T/oapif.out" | head -n 1)
  pages=$(grep -c 'Fetch(.*/collections/incidents/items?' "$T/oapif.out")
  if [ -z "$sent" ]; then
    bad "-where \"$where\": GDAL sent no filter: $(grep 'Fetch(.*items' "$T/oapif.out" | head -n 3)"
  elif [ -z "$got" ] || [ "$got" != "$want" ]; then
    bad "-where \"$where\": OAPIF count '$got', SQLite driver count '$want'"
  elif [ "${after:-0}" -le "${before:-0}" ]; then
    bad "-where \"$where\": gridwatch_ogc_filters_total did not grow ($before -> $after)"
  elif [ "$pages" -gt $((got / 1000 + 3)) ]; then
    bad "-where \"$where\": $pages page requests for $got features: filtered on the client?"
  else
    pass=$((pass + 1))
    echo "ok: -where \"$where\": $got of $total (SQLite driver: $want), $pages requests; sent $sent"
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
