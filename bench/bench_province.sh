#!/bin/sh
# bench_province.sh — the province measurements of issue 17 item 5: a 16-prefecture province
# (`gen-city --prefectures 16 --scale 1`: about 206,000 grids, 4 M cameras, 16 M incidents) on
# SpatiaLite in one process, then on PostgreSQL/PostGIS with two replicas behind nginx.
#
# SQLite half:  generation time, peak RSS and file size; `gridwatch serve` time to ready (/healthz
#   200, then /analysis/coverage and /analysis/hotspots 200: the tile fields' inputs computed)
#   and VmRSS/VmHWM; a mixed wrk load (random z10-z14 vector tiles over the province,
#   /dispatch/nearest, /collections/incidents/items?bbox) with p95 per route and VmRSS/VmHWM
#   after it; write throughput (wrk POSTing incidents); a full coverage recompute (`gridwatch coverage --recompute`, server stopped).
# PostgreSQL half: generation into PGURL (dropped first) with time and database size; replicas
#   A and B (`gridwatch serve PGURL`) on two ports and nginx in front, time to ready and RSS of
#   each; the same mixed load through nginx, then on replica A alone (the proxy's cost); write throughput (wrk POSTing incidents as GeoJSON
#   with a bearer token through nginx); event delay from a write on A to an SSE client on B
#   (python3, standard library); the coverage recompute on PostgreSQL.
# A phase that fails (e.g. a store operation PostgreSQL does not have yet) prints its first
# error line in the table and the script goes on with the next.
#
# usage: bench/bench_province.sh WORKDIR [--prefectures N] [--scale F] [--build DIR]
#            [--pg-gridwatch BIN] [--duration S] [--write-duration S] [--threads N]
#            [--pg-url URL] [--reuse] [--no-gen] [--no-serve] [--no-load] [--no-coverage]
#            [--no-sqlite] [--no-pg] [--no-pg-gen] [--no-writes] [--no-events]
#   WORKDIR        scratch directory: province.db (about 8 GB at 16 x scale 1), logs, Lua
#   --prefectures  default 16; --scale default 1 (a quick check: --prefectures 2 --scale 0.02)
#   --duration     seconds of the mixed load (default 60); --write-duration: of the writes (30)
#   --threads      `serve --threads` (default: the number of cores)
#   --pg-url       default postgresql:///gw_province (the database is dropped and recreated)
#   --pg-gridwatch the binary for the PostgreSQL half (default: the build's)
#   --reuse        keep WORKDIR/province.db and the PostgreSQL database when they were made with
#                  the same --prefectures/--scale (no generation figures then)
#   --no-X         skip phase X; --no-sqlite / --no-pg skip a whole half; --no-gen generates
#                  nothing (uses what WORKDIR and the database hold), --no-pg-gen only for PostgreSQL
# Needs: wrk, curl, awk, GNU time (/usr/bin/time), python3; for PostgreSQL: psql, a running
# PostgreSQL 15 with PostGIS 3 reachable as the caller, nginx (Debian: wrk curl time python3
# postgresql postgresql-15-postgis-3 nginx-light).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/.." && pwd)
B="$SRCDIR/build"
WORK=""
NPREF=16
SCALE=1
DUR=60
WDUR=30
THREADS=$(nproc 2>/dev/null || echo 2)
PGURL="postgresql:///gw_province"
PGGW=""
REUSE=0
DO_SQLITE=1 DO_PG=1 DO_GEN=1 DO_SERVE=1 DO_LOAD=1 DO_COV=1 DO_PGGEN=1 DO_WRITES=1 DO_EVENTS=1
usage() {
  sed -n 's/^# \{0,1\}//; /^usage:/,/^Needs:/p' "$0" | sed '$d' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --prefectures) NPREF=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --build) B=$(cd "$2" && pwd); shift 2 ;;
    --pg-gridwatch) PGGW=$2; shift 2 ;;
    --duration) DUR=$2; shift 2 ;;
    --write-duration) WDUR=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --pg-url) PGURL=$2; shift 2 ;;
    --reuse) REUSE=1; shift ;;
    --no-sqlite) DO_SQLITE=0; shift ;;
    --no-pg) DO_PG=0; shift ;;
    --no-gen) DO_GEN=0; DO_PGGEN=0; shift ;;
    --no-pg-gen) DO_PGGEN=0; shift ;;
    --no-serve) DO_SERVE=0; shift ;;
    --no-load) DO_LOAD=0; shift ;;
    --no-coverage) DO_COV=0; shift ;;
    --no-writes) DO_WRITES=0; shift ;;
    --no-events) DO_EVENTS=0; shift ;;
    -h | --help) usage ;;
    -*) echo "bench_province: unknown option $1" >&2; usage ;;
    *) [ -z "$WORK" ] || usage; WORK=$1; shift ;;
  esac
done
[ -n "$WORK" ] || usage
GW="$B/gridwatch"
PGGW=${PGGW:-$GW}
[ -x "$GW" ] || { echo "bench_province: no $GW (--build DIR)" >&2; exit 1; }
for t in wrk curl awk python3; do
  command -v $t >/dev/null 2>&1 || { echo "bench_province: $t not installed (Debian: wrk curl python3)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench_province: GNU time not installed (Debian: time)" >&2; exit 1; }
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
DB="$WORK/province.db"
ID="prefectures $NPREF scale $SCALE"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
RESULTS="$WORK/results.txt"
: >"$RESULTS"
# put HALF WHAT VALUE: one row of the final table
put() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }
# first error line of a log, for the table
err1() {
  l=$(grep -m1 -i 'error\|fail\|unsupported\|cannot\|not ' "$1" 2>/dev/null | cut -c1-110) || true
  echo "${l:-see $1}"
}

PIDS=""
stop_all() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  for p in $PIDS; do wait "$p" 2>/dev/null || true; done
  PIDS=""
}
trap stop_all EXIT
trap 'exit 1' INT TERM HUP PIPE

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mem() { awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "VmRSS %.0f MB, VmHWM %.0f MB", r / 1024, h / 1024 }' "/proc/$1/status" 2>/dev/null || echo "gone"; }
# code PORT PATH: the HTTP status of a GET
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 30 "http://127.0.0.1:$1$2" || true; }
# ready HALF NAME PORT PID T0 LOG: wait for /healthz, then the analyses; record the times
ready() {
  h=$1 n=$2 port=$3 pid=$4 t0=$5 lg=$6
  until [ "$(code "$port" /healthz)" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || { put "$h" "$n ready" "server exited: $(err1 "$lg")"; return 1; }
    sleep 0.2
  done
  put "$h" "$n time to /healthz 200" "$(since "$t0") s"
  for a in coverage hotspots; do
    c=$(code "$port" /analysis/$a)
    while { [ "$c" = 503 ] || [ "$c" = 000 ]; } && kill -0 "$pid" 2>/dev/null; do
      sleep 0.5
      c=$(code "$port" /analysis/$a)
    done
    put "$h" "$n time to /analysis/$a" "$(since "$t0") s (HTTP $c)"
  done
  put "$h" "$n memory when ready" "$(mem "$pid")"
}

# ---- the Lua scripts ---------------------------------------------------------------------------
# lua_all W S E N: tiles.lua, nearest.lua, items.lua, write.lua over the box; report.lua prints
# "P95 requests non2xx sockerr seconds p50_ms p95_ms" when wrk is done.
lua_all() {
  common="math.randomseed(os.time() + math.floor(os.clock() * 1e6))
local W, S, E, N = $1, $2, $3, $4
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
  local z = math.random(10, 14)
  local x, y = tile(z)
  return wrk.format("GET", string.format("/tiles/%s/%d/%d/%d.mvt", layers[math.random(#layers)], z, x, y))
end
EOF
  cat >"$WORK/nearest.lua" <<EOF
$common
request = function()
  local lon, lat = lonlat()
  return wrk.format("GET", string.format("/dispatch/nearest?lon=%.5f&lat=%.5f&k=5", lon, lat))
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
  cat >"$WORK/write.lua" <<EOF
$common
local n, run = 0, tostring(os.time()) .. "-" .. tostring(math.random(1e6))
local cats = {"theft", "dispute", "traffic", "fraud", "vandalism", "burglary", "assault"}
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GW_TOKEN")
wrk.headers["Content-Type"] = "application/geo+json"
request = function()
  n = n + 1
  local lon, lat = lonlat()
  local body = string.format('{"type":"Feature","id":"BENCH%s-%d","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},'
    .. '"properties":{"category":"%s","severity":%d,"status":"open","occurred_at":"%s"}}',
    run, n, lon, lat, cats[math.random(#cats)], math.random(1, 5), os.date("!%Y-%m-%dT%H:%M:%SZ"))
  return wrk.format("POST", "/collections/incidents/items", nil, body)
end
EOF
  cat >"$WORK/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("P95 %d %d %d %.3f %.3f %.3f\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
EOF
  for l in tiles nearest items write; do cat "$WORK/$l.lua" "$WORK/report.lua" >"$WORK/run-$l.lua"; done
}
# extent PORT: "W S E N" of the grids (the province), from the collection's metadata
extent() {
  e=$(curl -s --max-time 30 "http://127.0.0.1:$1/collections/grids" | sed -n 's/.*"bbox":\[\[\([^]]*\)\]\].*/\1/p' | head -n 1)
  [ -n "$e" ] || return 1
  echo "$e" | tr ',' ' '
}
# wrk_row HALF LABEL FILE: a table row from report.lua's line
wrk_row() {
  line=$(grep '^P95 ' "$3" || true)
  if [ -z "$line" ]; then put "$1" "$2" "no result: $(head -c 100 "$3" | tr '\n' ' ')"; return; fi
  put "$1" "$2" "$(echo "$line" | awk '{ printf "%d req, %.1f req/s, %d errors, p50 %.1f ms, p95 %.1f ms", $2, $2 / $5, $3 + $4, $6, $7 }')"
}
# mixed HALF PORT CONN_SCALE: tiles (4 conns), nearest (2), items (2), all at once for DUR s
mixed() {
  h=$1 port=$2
  ext=$(extent "$port") || { put "$h" "mixed load" "no extent from /collections/grids"; return; }
  set -- $ext
  lua_all "$1" "$2" "$3" "$4"
  log "$h: mixed load for $DUR s over $1,$2,$3,$4"
  wp=""
  for r in tiles:4 nearest:2 items:2; do
    n=${r%%:*} c=${r#*:}
    wrk -t1 -c"$c" -d"${DUR}s" --timeout 30s -s "$WORK/run-$n.lua" "http://127.0.0.1:$port" >"$WORK/wrk-$h-$n.txt" 2>&1 &
    wp="$wp $!"
  done
  for p in $wp; do wait "$p" || true; done
  wrk_row "$h" "tiles z10-14 [4 conns]" "$WORK/wrk-$h-tiles.txt"
  wrk_row "$h" "/dispatch/nearest k=5 [2]" "$WORK/wrk-$h-nearest.txt"
  wrk_row "$h" "items bbox limit=100 [2]" "$WORK/wrk-$h-items.txt"
}
# writes HALF PORT LABEL: wrk POSTing incidents for WDUR s with $TOKEN
writes() {
  log "$1: writes ($3) for $WDUR s"
  ext=$(extent "$2") || ext="115.3 35.1 115.6 35.4"
  set -- "$1" "$2" "$3" $ext
  lua_all "$4" "$5" "$6" "$7"
  GW_TOKEN=$TOKEN wrk -t1 -c4 -d"${WDUR}s" --timeout 30s -s "$WORK/run-write.lua" "http://127.0.0.1:$2" >"$WORK/wrk-$1-write.txt" 2>&1 || true
  wrk_row "$1" "POST incidents $3 [4]" "$WORK/wrk-$1-write.txt"
}
# coverage HALF DB BIN: a full recompute, its wall time and peak RSS
coverage() {
  log "$1: coverage recompute"
  if /usr/bin/time -f 'rss_kb %M' "$3" coverage "$2" --recompute --threads 2 >/dev/null 2>"$WORK/coverage-$1.err"; then
    put "$1" "coverage recompute (--threads 2)" "$(sed -n 's/.*: \([0-9]*\) grids: model \([0-9.]*\) s, coverage \([0-9.]*\) s.*/\1 grids, model \2 s, coverage \3 s/p' "$WORK/coverage-$1.err"), peak RSS $(awk '/^rss_kb/ { printf "%.0f MB", $2 / 1024 }' "$WORK/coverage-$1.err")"
  else
    put "$1" "coverage recompute" "failed: $(err1 "$WORK/coverage-$1.err")"
  fi
}
# gen HALF LOCATION BIN: generate, record time, peak RSS
gen() {
  log "$1: gen-city $2 --prefectures $NPREF --scale $SCALE"
  t0=$(now)
  if GW_PROGRESS=0 /usr/bin/time -f 'rss_kb %M' "$3" gen-city "$2" --prefectures "$NPREF" --scale "$SCALE" --no-truth >"$WORK/gen-$1.out" 2>"$WORK/gen-$1.err"; then
    put "$1" "generation" "$(since "$t0") s, peak RSS $(awk '/^rss_kb/ { printf "%.0f MB", $2 / 1024 }' "$WORK/gen-$1.err")"
    put "$1" "contents" "$(sed -n 's/.*s: \(.*\)/\1/p' "$WORK/gen-$1.out")"
    return 0
  fi
  put "$1" "generation" "failed: $(err1 "$WORK/gen-$1.err")"
  return 1
}

# ---- SQLite: one process -------------------------------------------------------------------------
if [ $DO_SQLITE = 1 ]; then
  if [ -f "$DB" ] && { [ $DO_GEN = 0 ] || { [ $REUSE = 1 ] && [ "$(cat "$WORK/province.id" 2>/dev/null)" = "$ID" ]; }; }; then
    log "sqlite: reusing $DB ($(cat "$WORK/province.id" 2>/dev/null))"
  elif [ $DO_GEN = 0 ]; then
    put sqlite "database" "no $DB and --no-gen"
  else
    rm -f "$DB" "$DB"-wal "$DB"-shm "$WORK/province.id"
    gen sqlite "$DB" "$GW" && echo "$ID" >"$WORK/province.id"
    put sqlite "file size" "$(du -m "$DB" | cut -f1) MB (+ $(du -mc "$DB"-wal "$DB"-shm 2>/dev/null | tail -1 | cut -f1) MB -wal/-shm)"
  fi
  if [ $DO_SERVE = 1 ] && [ -f "$DB" ]; then
    TOKEN=""
    [ $DO_WRITES = 0 ] || TOKEN=$("$GW" token create "$DB" --role dispatcher --name province-bench 2>"$WORK/token.err" | awk 'NF { t = $NF } END { print t }') || true
    port=$(free_port)
    log "sqlite: serve on port $port"
    t0=$(now)
    "$GW" serve "$DB" --port "$port" --anonymous-read --quiet --no-wall --threads "$THREADS" >"$WORK/sqlite.log" 2>&1 &
    SRV=$!
    PIDS="$PIDS $SRV"
    if ready sqlite serve "$port" "$SRV" "$t0" "$WORK/sqlite.log"; then
      if [ $DO_LOAD = 1 ]; then
        mixed sqlite "$port"
        put sqlite "memory after the load" "$(mem "$SRV")"
      fi
      if [ $DO_WRITES = 1 ] && [ -n "$TOKEN" ]; then writes sqlite "$port" "direct"; fi
    fi
    stop_all
  fi
  [ $DO_COV = 0 ] || [ ! -f "$DB" ] || coverage sqlite "$DB" "$GW"
fi

# ---- PostgreSQL: two replicas behind nginx -------------------------------------------------------
if [ $DO_PG = 1 ]; then
  ADMIN="${PGURL%/*}/postgres"
  PGDB=${PGURL##*/}
  PGDB=${PGDB%%\?*}
  if ! command -v psql >/dev/null 2>&1 || ! psql -X -q -At -d "$ADMIN" -c 'SELECT 1' >/dev/null 2>&1; then
    put pg "PostgreSQL" "not reachable at $ADMIN (Debian: postgresql postgresql-15-postgis-3); half skipped"
  else
    have=$(psql -X -At -d "$ADMIN" -c "SELECT 1 FROM pg_database WHERE datname = '$PGDB'")
    if [ $DO_PGGEN = 1 ] && { [ $REUSE = 0 ] || [ "$have" != 1 ] || [ "$(cat "$WORK/pg.id" 2>/dev/null)" != "$ID" ]; }; then
      PGOPTIONS="-c client_min_messages=warning" psql -X -q -d "$ADMIN" -c "DROP DATABASE IF EXISTS \"$PGDB\" WITH (FORCE)" >/dev/null
      rm -f "$WORK/pg.id"
      gen pg "$PGURL" "$GW" && echo "$ID" >"$WORK/pg.id"
      put pg "database size" "$(psql -X -At -d "$ADMIN" -c "SELECT pg_database_size('$PGDB') / 1048576") MB"
    fi
    TOKEN=$("$PGGW" token create "$PGURL" --role dispatcher --name province-bench 2>"$WORK/token.err" | awk 'NF { t = $NF } END { print t }') || true
    [ -n "$TOKEN" ] || put pg "token create" "failed: $(err1 "$WORK/token.err")"
    if [ $DO_SERVE = 1 ]; then
      pa=$(free_port) pb=$(free_port) plb=$(free_port)
      up=1
      for r in A:$pa B:$pb; do
        n=${r%%:*} port=${r#*:}
        log "pg: replica $n on port $port"
        t0=$(now)
        "$PGGW" serve "$PGURL" --port "$port" --anonymous-read --quiet --no-wall --threads "$THREADS" >"$WORK/$n.log" 2>&1 &
        eval "PID_$n=$!"
        PIDS="$PIDS $!"
        ready pg "replica $n" "$port" "$!" "$t0" "$WORK/$n.log" || up=0
        [ $up = 1 ] || break
      done
      if [ $up = 1 ]; then
        NGX=$(command -v nginx || echo /usr/sbin/nginx)
        if [ ! -x "$NGX" ]; then
          put pg "nginx" "not installed (Debian: nginx-light); load through replica A only"
          plb=$pa
        else
          mkdir -p "$WORK/nginx"
          cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
  upstream gw {
    server 127.0.0.1:$pa max_fails=1 fail_timeout=3s;
    server 127.0.0.1:$pb max_fails=1 fail_timeout=3s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$plb;
    location /events { proxy_pass http://gw; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$http_host; proxy_buffering off; proxy_read_timeout 1h; }
    location / { proxy_pass http://gw; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$http_host; proxy_connect_timeout 1s; proxy_next_upstream error timeout http_502; }
  }
}
EOF
          "$NGX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >/dev/null 2>&1 &
          PIDS="$PIDS $!"
          i=0
          until [ "$(code "$plb" /healthz)" = 200 ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
        fi
        [ $DO_LOAD = 0 ] || mixed pg "$plb"
        # the same load on replica A alone, without nginx: what the proxy costs
        [ $DO_LOAD = 0 ] || [ "$plb" = "$pa" ] || mixed pg-A "$pa"
        if [ $DO_WRITES = 1 ] && [ -n "$TOKEN" ]; then
          writes pg "$plb" "via nginx"
          [ "$plb" = "$pa" ] || writes pg-A "$pa" "on replica A"
        fi
        if [ $DO_EVENTS = 1 ] && [ -n "$TOKEN" ]; then
          log "pg: event delay A -> SSE on B"
          python3 - "$pa" "$pb" "$TOKEN" >"$WORK/events.txt" 2>&1 <<'EOF' || true
# 20 incidents POSTed on replica A, one at a time; the delay until B's SSE client sees each seq.
import http.client, json, sys, threading, time
a, b, tok = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
seen, ready = [], threading.Event()  # (seq, monotonic time) of B's events
def sse():
    c = http.client.HTTPConnection("127.0.0.1", b, timeout=60)
    c.request("GET", "/events", headers={"Accept": "text/event-stream"})
    r = c.getresponse()
    ready.set()
    while True:
        line = r.fp.readline()
        if not line:
            return
        if line.startswith(b"id: "):
            seen.append((int(line[4:]), time.monotonic()))
threading.Thread(target=sse, daemon=True).start()
ready.wait(10)
delays = []
for k in range(20):
    body = json.dumps({"type": "Feature",
                       "geometry": {"type": "Point", "coordinates": [115.4 + 0.001 * k, 35.2]},
                       "properties": {"category": "theft", "severity": 2,
                                      "occurred_at": "2025-06-01T10:00:00+08:00"}})
    c = http.client.HTTPConnection("127.0.0.1", a, timeout=30)
    c.request("POST", "/collections/incidents/items", body,
              {"Authorization": "Bearer " + tok, "Content-Type": "application/geo+json"})
    r = c.getresponse()
    r.read()
    t0 = time.monotonic()
    seq = int(r.getheader("gridwatch-change-seq") or 0)
    if r.status != 201 or not seq:
        print(f"EVENTS failed: POST on A answered {r.status}")
        sys.exit(0)
    hit = None
    while hit is None and time.monotonic() - t0 < 10:
        hit = next((t for s, t in list(seen) if s >= seq), None)
        time.sleep(0.001)
    if hit is not None:
        delays.append(max(0.0, hit - t0) * 1e3)
    time.sleep(0.05)
delays.sort()
if delays:
    print(f"EVENTS {len(delays)}/20 events, median {delays[len(delays) // 2]:.1f} ms, "
          f"p95 {delays[min(len(delays) - 1, int(0.95 * len(delays)))]:.1f} ms, max {delays[-1]:.1f} ms")
else:
    print("EVENTS failed: B's SSE client saw none of the 20 writes")
EOF
          put pg "event delay write on A -> SSE on B" "$(sed -n 's/^EVENTS //p' "$WORK/events.txt" | head -n 1 | grep . || echo "failed: $(head -c 100 "$WORK/events.txt")")"
        fi
        eval "put pg 'replica A memory after the load' \"\$(mem \$PID_A)\""
        eval "put pg 'replica B memory after the load' \"\$(mem \$PID_B)\""
      fi
      stop_all
    fi
    [ $DO_COV = 0 ] || coverage pg "$PGURL" "$PGGW"
  fi
fi

# ---- the table ---------------------------------------------------------------------------------------
echo
echo "province: gen-city --prefectures $NPREF --scale $SCALE; serve --threads $THREADS; $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "mixed load: one wrk -t1 per route, all at once for $DUR s, connections in brackets; latency includes HTTP on loopback"
awk -F '\t' '{ printf "%-7s %-38s %s\n", $1, $2, $3 }' "$RESULTS"
