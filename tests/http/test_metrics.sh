#!/bin/sh
# test_metrics.sh — /metrics as an operator's Prometheus sees it: the text passes
# `promtool check metrics` (exit 77 without promtool; CI installs Debian's prometheus), the
# process families are there and plausible, the tile cache counts a miss then a hit for the same
# tile, an open /events stream is counted, the model's seq follows the change log after a write,
# and every metric the Grafana dashboard (docs/grafana-gridwatch.json) queries is served.
# usage: test_metrics.sh BUILD/gridwatch
set -u
GW=${1:?usage: test_metrics.sh gridwatch}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v promtool >/dev/null 2>&1 || { echo "skipped: promtool is missing (Debian: prometheus)"; exit 77; }
T=$(mktemp -d /tmp/gwmetrics.XXXXXX)
spid=
epid=
cleanup() {
  for p in $epid $spid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
val() { # a sample's name with its labels -> its value
  awk -v n="$1" '$1 == n { print $2; exit }' "$T/m.txt"
}
scrape() { curl -sf "$U/metrics" >"$T/m.txt"; }

"$GW" gen-city "$T/city.db" --scale 0.02 >/dev/null 2>&1 || { echo "FAIL: gen-city"; exit 1; }
tok=$("$GW" token create "$T/city.db" --role admin --name metrics 2>/dev/null | awk '{print $NF}' | tail -n 1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
U=http://127.0.0.1:$port
"$GW" serve "$T/city.db" --port "$port" --anonymous-read --quiet --no-wall 2>"$T/serve.err" &
spid=$!
i=0
until curl -sf -o /dev/null "$U/healthz"; do
  i=$((i + 1)); [ $i -gt 300 ] && { echo "FAIL: server did not start: $(cat "$T/serve.err")"; exit 1; }
  sleep 0.1
done

# an incidents tile inside the city, twice: a miss, then a hit (tiles rendered while the
# analysis the tiles carry is still running are not kept, so wait for a hit within a minute)
set -- $(curl -sf "$U/collections/police_rooms/items?limit=1" |
         python3 -c 'import sys,json,math; c=json.load(sys.stdin)["features"][0]["geometry"]["coordinates"]; z=13; n=2**z; r=math.radians(c[1]); print(z, int((c[0]+180)/360*n), int((1-math.log(math.tan(r)+1/math.cos(r))/math.pi)/2*n))')
hit=0
for k in $(seq 1 60); do
  curl -sf -o /dev/null "$U/tiles/incidents/$1/$2/$3.mvt"
  curl -sf -o /dev/null -D "$T/h.txt" "$U/tiles/incidents/$1/$2/$3.mvt"
  if grep -qi '^X-Tile-Cache: hit' "$T/h.txt"; then hit=1; break; fi
  sleep 1
done
[ "$hit" = 1 ] && ok || bad "the incidents tile never came from the cache"
curl -sf -o /dev/null "$U/tiles/heatmap/$1/$2/$3.png"
# an open event stream
curl -sN "$U/events" >/dev/null 2>&1 &
epid=$!
sleep 1
# a write moves the change log; the model follows
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $tok" -H 'Content-Type: application/geo+json' \
  -d '{"type":"Feature","id":"MX1","geometry":{"type":"Point","coordinates":[115.45,35.24]},"properties":{"occurred_at":"2026-03-01T08:00:00+08:00","category":"theft"}}' \
  "$U/collections/incidents/items" || bad "POST incident failed"
sleep 1
scrape || { echo "FAIL: GET /metrics"; exit 1; }

if promtool check metrics <"$T/m.txt" >"$T/prom.out" 2>&1; then ok; else bad "promtool check metrics: $(head -n 10 "$T/prom.out")"; fi
for f in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
         process_open_fds process_max_fds process_start_time_seconds; do
  v=$(val "$f")
  if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v > 0) }'; then ok; else bad "$f = '$v'"; fi
done
now=$(date +%s)
st=$(val process_start_time_seconds)
if awk -v s="$st" -v n="$now" 'BEGIN { exit !(s <= n + 1 && s > n - 600) }'; then ok; else bad "process_start_time_seconds $st is not a few seconds before $now"; fi
h=$(val 'gridwatch_tile_cache_hits_total{cache="vector"}')
m=$(val 'gridwatch_tile_cache_misses_total{cache="vector"}')
b=$(val 'gridwatch_tile_cache_bytes{cache="vector"}')
if [ "${h:-0}" -ge 1 ] && [ "${m:-0}" -ge 1 ] && [ "${b:-0}" -gt 0 ]; then ok; else bad "vector cache: hits $h, misses $m, bytes $b"; fi
hm=$(val 'gridwatch_tile_cache_misses_total{cache="heatmap"}')
if [ "${hm:-0}" -ge 1 ]; then ok; else bad "heat map cache misses $hm after a heat map tile"; fi
s=$(val gridwatch_events_subscribers)
if [ "$s" = 1 ]; then ok; else bad "gridwatch_events_subscribers $s with one stream open"; fi
cs=$(val gridwatch_changelog_seq)
ms=$(val gridwatch_model_seq)
lag=$(val gridwatch_model_lag_changes)
if [ -n "$cs" ] && [ "$cs" = "$ms" ] && [ "$lag" = 0 ]; then ok; else bad "change log $cs, model $ms, lag $lag"; fi
r=$(val gridwatch_model_sync_rounds_total)
if [ "${r:-0}" -ge 1 ]; then ok; else bad "gridwatch_model_sync_rounds_total $r after a write"; fi
n=$(val 'gridwatch_layer_features{layer="grids"}')
if [ "${n:-0}" -gt 0 ]; then ok; else bad "grids in the model: $n"; fi
if grep -q 'gridwatch_http_request_duration_seconds_bucket{route="tile",le="+Inf"}' "$T/m.txt" ||
   grep -q 'gridwatch_http_request_duration_seconds_bucket{route="[a-z_]*tile[a-z_]*",le="+Inf"}' "$T/m.txt"; then ok; else bad "no latency histogram for the tile route"; fi
kill "$epid" 2>/dev/null; wait "$epid" 2>/dev/null; epid=
# the server sees a closed stream at its next write (the keep-alive comment): up to a minute
for k in $(seq 1 60); do
  scrape
  s=$(val gridwatch_events_subscribers)
  [ "$s" = 0 ] && break
  sleep 1
done
if [ "$s" = 0 ]; then ok; else bad "gridwatch_events_subscribers $s a minute after the stream closed"; fi

# the dashboard: valid JSON, and every metric its queries name is served
python3 - "$root/docs/grafana-gridwatch.json" "$T/m.txt" >"$T/dash.out" 2>&1 <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
served = set(re.findall(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)', open(sys.argv[2]).read(), re.M))
missing, n = [], 0
for p in d["panels"]:
    for t in p.get("targets", []):
        for name in re.findall(r'\b((?:gridwatch|process)_[a-z_]+)', t["expr"]):
            n += 1
            if name not in served: missing.append(name)
print(n, "metric references")
if missing or n == 0:
    print("not served:", sorted(set(missing))); sys.exit(1)
PY
if [ $? -eq 0 ]; then ok; else bad "dashboard: $(cat "$T/dash.out")"; fi

echo "metrics: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
