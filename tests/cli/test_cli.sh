#!/bin/sh
# test_cli.sh — the gridwatch command line as a person uses it: --help everywhere, exit codes,
# one-line errors, and a small end-to-end run (init, gen-city, stats, export, import, refusals).
# usage: test_cli.sh PATH/TO/gridwatch
set -u
GW=${1:?usage: test_cli.sh gridwatch-binary}
T=$(mktemp -d /tmp/gwcli.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE CMD... : run, compare the exit code, keep stdout/stderr in $T/out, $T/err
expect() {
  want=$1; shift
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "exit $got (want $want): $* :: $(head -c 300 "$T/err")"; fi
}
# contains FILE TEXT
contains() { if grep -q -- "$2" "$1"; then ok; else bad "$1 lacks '$2': $(head -c 300 "$1")"; fi; }
# one_line FILE: an error is one line
one_line() { n=$(wc -l <"$1"); if [ "$n" -eq 1 ]; then ok; else bad "$1 has $n lines: $(cat "$1")"; fi; }

expect 0 "$GW" --help
contains "$T/out" "gen-city"
expect 2 "$GW"
expect 2 "$GW" frobnicate
one_line "$T/err"
expect 0 "$GW" version
contains "$T/out" "^gridwatch [0-9]"
contains "$T/out" "^SpatiaLite [0-9]"
for c in init import export gen-city stats serve demo; do
  expect 0 "$GW" "$c" --help
  contains "$T/out" "usage: gridwatch $c"
done

# usage errors: exit 2, one line
expect 2 "$GW" import "$T/x.db" nolayer somefile.geojson
one_line "$T/err"
contains "$T/err" "unknown layer 'nolayer'"
expect 2 "$GW" gen-city "$T/x.db" --scale 9
one_line "$T/err"
expect 2 "$GW" export
expect 1 "$GW" stats "$T/missing.db"
one_line "$T/err"

# a small city end to end
expect 0 "$GW" gen-city "$T/city.db" --scale 0.01 --seed 7
contains "$T/out" "grids"
# the ground truth of the planted hotspots: beside the database by default, elsewhere, or none
if [ -f "$T/city.db.truth.geojson" ]; then ok; else bad "gen-city wrote no $T/city.db.truth.geojson"; fi
contains "$T/city.db.truth.geojson" '"type": "FeatureCollection"'
contains "$T/city.db.truth.geojson" '"profile": "emerging"'
expect 0 "$GW" gen-city "$T/nt.db" --scale 0.005 --seed 7 --no-truth
if [ ! -e "$T/nt.db.truth.geojson" ]; then ok; else bad "gen-city --no-truth wrote a truth file"; fi
expect 0 "$GW" gen-city "$T/tt.db" --scale 0.005 --seed 7 --truth "$T/elsewhere.geojson"
if [ -f "$T/elsewhere.geojson" ] && [ ! -e "$T/tt.db.truth.geojson" ]; then ok; else bad "gen-city --truth FILE"; fi
expect 2 "$GW" gen-city "$T/x.db" --truth "$T/a.geojson" --no-truth
one_line "$T/err"
expect 0 "$GW" gen-city --help
contains "$T/out" "--no-truth"
expect 0 "$GW" stats "$T/city.db"
contains "$T/out" "incidents"
expect 0 "$GW" stats "$T/city.db" --json
contains "$T/out" '"grids"'
expect 4 "$GW" gen-city "$T/city.db" --scale 0.01
one_line "$T/err"
# hot spot clusters: a ranked table, the route's GeoJSON to a file, a bad option exits 2
expect 0 "$GW" hotspots --help
contains "$T/out" "--method gistar|lisa|kde|emerging|clusters"
expect 0 "$GW" hotspots "$T/city.db" --method clusters --replications 19
contains "$T/out" "^rank "
expect 0 "$GW" hotspots "$T/city.db" --method clusters --format geojson -o "$T/cl.geojson"
contains "$T/cl.geojson" '"FeatureCollection"'
contains "$T/cl.geojson" '"scale_reason"'
expect 2 "$GW" hotspots "$T/city.db" --method clusters --cell 3
one_line "$T/err"
contains "$T/err" "cell"
expect 0 "$GW" export "$T/city.db" grids "$T/grids.gpkg"
contains "$T/out" "exported"
expect 0 "$GW" export "$T/city.db" incidents "$T/inc.csv"
expect 0 "$GW" import "$T/copy.db" grids "$T/grids.gpkg"
contains "$T/out" "imported"
n1=$("$GW" stats "$T/city.db" --json | grep -A1 '"grids"' | grep count | tr -dc 0-9)
n2=$("$GW" stats "$T/copy.db" --json | grep -A1 '"grids"' | grep count | tr -dc 0-9)
if [ -n "$n1" ] && [ "$n1" = "$n2" ]; then ok; else bad "grid count after round trip: $n1 vs $n2"; fi

# refused input: exit 3, one line, database unchanged
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a"},"geometry":{"type":"Point","coordinates":[200,10]}}]}' >"$T/lon200.geojson"
expect 3 "$GW" import "$T/copy.db" police_rooms "$T/lon200.geojson"
one_line "$T/err"
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"bow"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}' >"$T/bowtie.geojson"
expect 3 "$GW" import "$T/copy.db" grids "$T/bowtie.geojson"
one_line "$T/err"
contains "$T/err" "elf-intersection"
n3=$("$GW" stats "$T/copy.db" --json | grep -A1 '"grids"' | grep count | tr -dc 0-9)
if [ "$n3" = "$n2" ]; then ok; else bad "refused import changed the grid count: $n2 -> $n3"; fi
printf '{"type":"FeatureCollection","features":[' >"$T/trunc.geojson"
expect 3 "$GW" import "$T/copy.db" grids "$T/trunc.geojson"
one_line "$T/err"

# offline tiles into MBTiles (GDAL reading them back is in tests/http/test_peers.sh)
expect 0 "$GW" tiles "$T/city.db" "$T/city.mbtiles" --layers grids,incidents --zoom 8-10
n=$(sqlite3 "$T/city.mbtiles" "SELECT COUNT(*) FROM tiles" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then ok; else bad "mbtiles has no tiles (is sqlite3 installed?)"; fi
expect 4 "$GW" tiles "$T/city.db" "$T/city.mbtiles" --layers grids --zoom 8-9
one_line "$T/err"

# the server follows a change made by another process (an import while it serves)
port=$((20000 + $$ % 20000))
# (--no-wall: this is about the data, and must not depend on web/node_modules being installed)
# serve DB PORT ERRFILE: start `gridwatch serve` in the background (its pid in $spid) and wait
# up to 10 s for /healthz; 0 when it answered.
serve() {
  "$GW" serve "$1" --port "$2" --anonymous-read --quiet --no-wall 2>"$3" &
  spid=$!
  for i in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
if serve "$T/city.db" "$port" "$T/serve.err"; then ok; else bad "server did not come up: $(cat "$T/serve.err")"; fi
# an empty spot of the city at z14: the tile holding (115.30001, 35.10001)
read -r tx ty <<EOF2
$(awk 'BEGIN { lon = 115.30001; lat = 35.10001; n = 2^14; pi = atan2(0, -1);
  x = int((lon + 180) / 360 * n); r = lat * pi / 180;
  y = int((1 - log(sin(r)/cos(r) + 1/cos(r)) / pi) / 2 * n); print x, y }')
EOF2
url="http://127.0.0.1:$port/tiles/police_rooms/14/$tx/$ty.mvt"
c0=$(curl -s -o /dev/null -w '%{http_code}' "$url")
if [ "$c0" = "204" ]; then ok; else bad "tile before the import: HTTP $c0 (want 204)"; fi
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"NEW1","name":"新警务室"},"geometry":{"type":"Point","coordinates":[115.30001,35.10001]}}]}' >"$T/room.geojson"
expect 0 "$GW" import "$T/city.db" police_rooms "$T/room.geojson"
c1=""
for i in $(seq 1 30); do
  c1=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [ "$c1" = "200" ] && break
  sleep 0.1
done
if [ "$c1" = "200" ]; then ok; else bad "tile after the import: HTTP $c1 (want 200 within 3 s)"; fi
kill -TERM "$spid" 2>/dev/null
wait "$spid"
rc=$?
if [ "$rc" -eq 0 ]; then ok; else bad "serve exit code after SIGTERM: $rc"; fi

# incident flow (docs/incident-flow.md): transition, history, overdue with their exit codes
expect 0 "$GW" incident --help
contains "$T/out" "usage: gridwatch incident transition"
I=I0000001
expect 0 "$GW" incident transition "$T/nt.db" "$I" accept --as ops
contains "$T/out" "^$I: reported -> accepted"
expect 3 "$GW" incident transition "$T/nt.db" "$I" escalate
one_line "$T/err"
contains "$T/err" "needs a note"
expect 4 "$GW" incident transition "$T/nt.db" "$I" close
contains "$T/err" "allowed: assign, resolve, escalate, hand_down, return"
expect 4 "$GW" incident transition "$T/nt.db" "$I" accept --jurisdiction "Nowhere"
contains "$T/err" "outside the jurisdiction 'Nowhere'"
expect 0 "$GW" incident transition "$T/nt.db" "$I" assign --team T0001 --as ops
expect 2 "$GW" incident transition "$T/nt.db" "$I" fly
expect 3 "$GW" incident transition "$T/nt.db" no-such accept
expect 2 "$GW" incident history "$T/nt.db"
expect 0 "$GW" incident history "$T/nt.db" "$I"
n=$(wc -l <"$T/out"); if [ "$n" -eq 2 ]; then ok; else bad "history has $n lines: $(cat "$T/out")"; fi
contains "$T/out" "accept	reported	accepted"
contains "$T/out" "assign	accepted	assigned.*team:T0001"
expect 0 "$GW" incident overdue "$T/nt.db"
# the incidents nobody ever accepted are overdue too (the accept deadline counts from occurred_at)
contains "$T/out" "^I[0-9]*	reported	[1-4]	20[0-9-]*T[0-9:]*Z	accept	"

# serve_on_init_only_database: a database that was only `init`ed has no data to choose a metric
# CRS from; the server must still start (it refused with "no transformation to EPSG:0") and
# answer /healthz and an empty items page.
expect 0 "$GW" init "$T/empty.db"
port2=$((port + 1))
if serve "$T/empty.db" "$port2" "$T/serve2.err"; then ok; else bad "serve on an init-only database did not come up: $(cat "$T/serve2.err")"; fi
body=$(curl -s "http://127.0.0.1:$port2/collections/incidents/items")
case "$body" in *'"numberReturned":0'*) ok ;; *) bad "empty items page: $body" ;; esac
kill -TERM "$spid" 2>/dev/null
wait "$spid"

# serve --config: the file's settings, the command line winning, refusals naming file and line
cat >"$T/gw.conf" <<CONF
# a comment
database = $T/empty.db
port = 9123
  anonymous-read = yes
tile-cache-mb = "64"
no-wall = true
CONF
out=$("$GW" serve --config "$T/gw.conf" --check 2>&1)
case "$out" in *'"port":9123'*'"anonymous_read":true'*'"tile_cache_mb":64'*'"wall":null'*) ok ;; *) bad "serve --config --check: $out" ;; esac
case "$out" in *"\"database\":\"$T/empty.db\""*) ok ;; *) bad "config database: $out" ;; esac
out=$("$GW" serve --config "$T/gw.conf" --port 9200 "$T/city.db" --check 2>&1)
case "$out" in *'"port":9200'*) ok ;; *) bad "the command line's --port did not win: $out" ;; esac
case "$out" in *"\"database\":\"$T/city.db\""*) ok ;; *) bad "the command line's DB did not win: $out" ;; esac
printf 'port = 80\nthreads = lots\n' >"$T/bad.conf"
"$GW" serve --config "$T/bad.conf" "$T/city.db" --check >/dev/null 2>"$T/bad.err"; rc=$?
if [ "$rc" -eq 2 ] && grep -q "threads 'lots'" "$T/bad.err" && grep -q "settings read from $T/bad.conf" "$T/bad.err"; then ok; else bad "bad threads in a config: rc $rc, $(cat "$T/bad.err")"; fi
printf 'port = 80\ncolour = blue\n' >"$T/bad.conf"
"$GW" serve --config "$T/bad.conf" --check >/dev/null 2>"$T/bad.err"; rc=$?
if [ "$rc" -eq 2 ] && grep -q "bad.conf:2: unknown setting 'colour'" "$T/bad.err"; then ok; else bad "unknown setting: rc $rc, $(cat "$T/bad.err")"; fi
"$GW" serve --config "$T/none.conf" --check >/dev/null 2>"$T/bad.err"; rc=$?
if [ "$rc" -eq 2 ] && grep -q "none.conf: No such file" "$T/bad.err"; then ok; else bad "missing config: rc $rc, $(cat "$T/bad.err")"; fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
