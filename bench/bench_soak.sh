#!/bin/sh
# bench_soak.sh — a mixed read/write load on one `gridwatch serve` for MINUTES (issue 15 item 6):
# is the server still answering, how fast, and does its memory settle, after minutes of the
# traffic a control room makes at once?  Readers of vector tiles, heat map PNG tiles, OGC items
# pages with a bbox, /dispatch/nearest and /healthz; writers POSTing incidents and team positions;
# one Server-Sent Events subscriber.  Each route is one wrk (closed loop, its own connections and
# Lua script), all running together for the whole time; the server's RSS is sampled every 10 s.
# Prints per route: requests, errors (non-2xx, socket errors), req/s, p50 and p99 latency; the
# SSE subscriber's events; RSS at start, max and end.
#
# usage: bench/bench_soak.sh [MINUTES] [--build DIR] [--scale S] [--work DIR] [--threads N]
#                             [--tile-cache-mb N]
#   MINUTES default 10; the city is `gen-city --scale 0.2` (kept in WORK between runs; each run
#   serves a fresh copy, the writes land in the copy).  --tile-cache-mb is passed to serve (its
#   default budget is 256 MB of vector tiles plus a quarter for heat map tiles, which a soak
#   of random tiles fills: a small budget separates that growth from a leak).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/.." && pwd)
B="$SRCDIR/build"
MIN=10
SCALE=0.2
WORK=/tmp/gwsoak
THREADS=$(nproc 2>/dev/null || echo 2)
CACHE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) B=$(cd "$2" && pwd); shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --tile-cache-mb) CACHE=$2; shift 2 ;;
    [0-9]*) MIN=$1; shift ;;
    *) echo "usage: bench_soak.sh [MINUTES] [--build DIR] [--scale S] [--work DIR] [--threads N] [--tile-cache-mb N]" >&2; exit 2 ;;
  esac
done
GW="$B/gridwatch"
DUR=$(awk -v m="$MIN" 'BEGIN { printf "%d", m * 60 }')
[ "$DUR" -ge 10 ] || { echo "bench_soak: at least 10 s (MINUTES >= 0.17)" >&2; exit 2; }
for t in wrk curl awk; do
  command -v $t >/dev/null 2>&1 || { echo "bench_soak: $t not installed (Debian: wrk curl)" >&2; exit 1; }
done
[ -x "$GW" ] || { echo "bench_soak: no $GW (--build DIR)" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

SRV=""
PIDS=""
stop_all() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null || true; wait "$SRV" 2>/dev/null || true; SRV=""; fi
}
trap stop_all EXIT
trap 'exit 1' INT TERM HUP PIPE

# ---- the city and the server ------------------------------------------------------------------
mkdir -p "$WORK"
if [ ! -f "$WORK/city.db" ] || [ "$(cat "$WORK/city.id" 2>/dev/null)" != "scale $SCALE" ]; then
  rm -f "$WORK"/city.db*
  log "generating the city at scale $SCALE"
  GW_PROGRESS=0 "$GW" gen-city "$WORK/city.db" --scale "$SCALE" >/dev/null
  echo "scale $SCALE" >"$WORK/city.id"
fi
rm -f "$WORK"/soak.db*
cp "$WORK/city.db" "$WORK/soak.db"
"$GW" init "$WORK/soak.db" >/dev/null # this build's schema
TOK=$("$GW" token create "$WORK/soak.db" --role dispatcher --name soak 2>/dev/null)
NI0=$("$GW" stats "$WORK/soak.db" --json | awk '/"incidents"/ { f = 1 } f && /"count"/ { gsub(/[^0-9]/, ""); print; exit }')
NT=$("$GW" stats "$WORK/soak.db" --json | awk '/"teams"/ { f = 1 } f && /"count"/ { gsub(/[^0-9]/, ""); print; exit }')

"$GW" serve "$WORK/soak.db" --port 0 --anonymous-read --quiet --no-wall --threads "$THREADS" \
  ${CACHE:+--tile-cache-mb "$CACHE"} >"$WORK/serve.log" 2>&1 &
SRV=$!
URL=""
i=0
while [ $i -lt 600 ] && [ -z "$URL" ]; do
  sleep 0.1
  URL=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' "$WORK/serve.log" | head -n 1)
  kill -0 "$SRV" 2>/dev/null || break
  i=$((i + 1))
done
[ -n "$URL" ] || { echo "bench_soak: gridwatch serve did not start: $(head -c 300 "$WORK/serve.log")" >&2; exit 1; }
until curl -sf "$URL/healthz" >/dev/null 2>&1; do sleep 0.2; done
rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SRV/status" 2>/dev/null || echo 0; }
RSS0=$(rss)
log "serving $NI0 incidents, $NT teams at $URL (--threads $THREADS); RSS $RSS0 MB; load for $DUR s"

# ---- the Lua scripts: one per route -------------------------------------------------------------
# The city's extent (the grids), for the random points and boxes.
ext=$(curl -s "$URL/collections/grids" | sed -n 's/.*"bbox":\[\[\([^]]*\)\]\].*/\1/p' | head -n 1)
[ -n "$ext" ] || ext="114.73,34.73,116.29,35.74"
set -- $(echo "$ext" | tr ',' ' ')
W0=$1 S0=$2 E0=$3 N0=$4
common="math.randomseed(tonumber(os.getenv(\"SOAK_SEED\") or \"1\"))
local W, S, E, N = $W0, $S0, $E0, $N0
local function lonlat() return W + math.random() * (E - W), S + math.random() * (N - S) end
local function tile(z)
  local lon, lat = lonlat()
  local n = 2 ^ z
  local r = math.rad(lat)
  return math.floor((lon + 180) / 360 * n), math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
end"
cat >"$WORK/tiles.lua" <<EOF
$common
local layers = {"grids", "incidents", "cameras", "police_rooms"}
request = function()
  local z = math.random(9, 15)
  local x, y = tile(z)
  return wrk.format("GET", string.format("/tiles/%s/%d/%d/%d.mvt", layers[math.random(#layers)], z, x, y))
end
EOF
cat >"$WORK/heatmap.lua" <<EOF
$common
request = function()
  local z = math.random(9, 14)
  local x, y = tile(z)
  return wrk.format("GET", string.format("/tiles/heatmap/%d/%d/%d.png", z, x, y))
end
EOF
cat >"$WORK/items.lua" <<EOF
$common
request = function()
  local lon, lat = lonlat()
  local d = 0.02 + math.random() * 0.1
  return wrk.format("GET", string.format("/collections/incidents/items?bbox=%.4f,%.4f,%.4f,%.4f&limit=100", lon, lat, lon + d, lat + d))
end
EOF
cat >"$WORK/nearest.lua" <<EOF
$common
request = function()
  local lon, lat = lonlat()
  return wrk.format("GET", string.format("/dispatch/nearest?lon=%.5f&lat=%.5f&k=5", lon, lat))
end
EOF
cat >"$WORK/healthz.lua" <<EOF
request = function() return wrk.format("GET", "/healthz") end
EOF
cat >"$WORK/incidents.lua" <<EOF
$common
local n, run = 0, os.time()
local cats = {"theft", "dispute", "traffic", "fraud", "vandalism", "burglary", "assault"}
wrk.headers["Authorization"] = "Bearer $TOK"
wrk.headers["Content-Type"] = "application/geo+json"
request = function()
  n = n + 1
  local lon, lat = lonlat()
  local body = string.format('{"type":"Feature","id":"SOAK%d-%d","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},'
    .. '"properties":{"category":"%s","severity":%d,"status":"open","occurred_at":"%s"}}',
    run, n, lon, lat, cats[math.random(#cats)], math.random(1, 5), os.date("!%Y-%m-%dT%H:%M:%SZ"))
  return wrk.format("POST", "/collections/incidents/items", nil, body)
end
EOF
cat >"$WORK/positions.lua" <<EOF
$common
wrk.headers["Authorization"] = "Bearer $TOK"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local at, p = os.time(), {}
  for i = 1, 10 do
    local lon, lat = lonlat()
    p[i] = string.format('{"id":"T%05d","lon":%.6f,"lat":%.6f,"at":%d}', math.random(1, $NT), lon, lat, at)
  end
  return wrk.format("POST", "/dispatch/positions", nil, '{"positions":[' .. table.concat(p, ",") .. ']}')
end
EOF
# wrk's summary for the table: requests, done also after the run when wrk writes its report
cat >"$WORK/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("SOAK %d %d %d %.3f %.3f %.3f\n", summary.requests, summary.errors.status,
    e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF

# ---- the load -------------------------------------------------------------------------------------
# route name : Lua : connections
ROUTES="tiles:tiles.lua:4 heatmap:heatmap.lua:2 items:items.lua:2 nearest:nearest.lua:2 healthz:healthz.lua:1 incidents:incidents.lua:1 positions:positions.lua:1"
for r in $ROUTES; do
  name=${r%%:*} rest=${r#*:}
  lua=${rest%%:*} conn=${rest#*:}
  cat "$WORK/$lua" "$WORK/report.lua" >"$WORK/run-$lua"
  SOAK_SEED=$(($(date +%s) + ${#name})) wrk -t1 -c"$conn" -d"${DUR}s" --timeout 30s -s "$WORK/run-$lua" "$URL" >"$WORK/wrk-$name.txt" 2>&1 &
  PIDS="$PIDS $!"
done
# the SSE subscriber: reconnects when the stream ends (counted), until the time is up
(
  end=$(($(date +%s) + DUR))
  c=0
  : >"$WORK/events.txt"
  while [ "$(date +%s)" -lt "$end" ]; do
    c=$((c + 1))
    curl -sN --max-time $((end - $(date +%s) + 1)) "$URL/events" >>"$WORK/events.txt" 2>/dev/null || true
  done
  echo "$c" >"$WORK/events.conns"
) &
SSE=$!
# RSS every 10 s while the load runs
: >"$WORK/rss.txt"
t=0
while [ $t -lt "$DUR" ]; do
  s=10
  [ $((DUR - t)) -lt 10 ] && s=$((DUR - t))
  sleep "$s"
  t=$((t + s))
  echo "$t $(rss)" >>"$WORK/rss.txt"
  [ $((t % 60)) -eq 0 ] && log "$t s: RSS $(rss) MB"
done
for p in $PIDS; do wait "$p" || true; done
PIDS=""
wait "$SSE" || true
RSS1=$(rss)
hz=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL/healthz")
NI1=$(curl -s "$URL/collections/incidents/items?limit=1" | sed -n 's/.*"numberMatched":\([0-9]*\).*/\1/p')
stop_all

# ---- the table --------------------------------------------------------------------------------------
echo
echo "soak: $MIN min, gen-city --scale $SCALE ($NI0 incidents, $NT teams), gridwatch serve --threads $THREADS${CACHE:+ --tile-cache-mb $CACHE}, $(nproc) cores"
echo "each route one wrk -t1 closed loop (connections in brackets), all at once; latency includes HTTP on loopback"
printf '%-38s %10s %8s %9s %9s %9s\n' route requests errors "req/s" "p50 ms" "p99 ms"
for r in $ROUTES; do
  name=${r%%:*} conn=${r##*:}
  case $name in
    tiles) label="GET /tiles/{layer}/z/x/y.mvt" ;;
    heatmap) label="GET /tiles/heatmap/z/x/y.png" ;;
    items) label="GET items?bbox&limit=100" ;;
    nearest) label="GET /dispatch/nearest" ;;
    healthz) label="GET /healthz" ;;
    incidents) label="POST /collections/incidents/items" ;;
    positions) label="POST /dispatch/positions (10)" ;;
  esac
  line=$(grep '^SOAK ' "$WORK/wrk-$name.txt" || echo "SOAK 0 0 0 1 0 0")
  echo "$line" | awk -v l="$label [$conn]" '{ printf "%-38s %10d %8d %9.1f %9.2f %9.2f\n", l, $2, $3 + $4, $2 / $5, $6, $7 }'
done
ev=$(grep -c '^data:' "$WORK/events.txt" || true)
hb=$(grep -c '^: heartbeat' "$WORK/events.txt" || true)
printf '%-38s %10s %8s   %s\n' "GET /events (SSE) [1]" "$(cat "$WORK/events.conns" 2>/dev/null || echo 0) conn" "-" "$ev events, $hb heartbeats"
awk -v s="$RSS0" -v e="$RSS1" '{ if ($2 > m) m = $2; if (NR == 1) f = $2 } END {
  printf "server RSS MB: start %.1f (idle), first sample %.1f, max %.1f, end %.1f (%d samples, every 10 s)\n", s, f, m, e, NR }' "$WORK/rss.txt"
echo "after the load: /healthz HTTP $hz; incidents $NI0 -> ${NI1:-?}"
echo "RSS samples (s MB): $(tr '\n' ' ' <"$WORK/rss.txt")"
