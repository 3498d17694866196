# bench_pg.sh — sourced by bench_items.sh and bench_tiles.sh: one benchmark city (a copy of a
# gridwatch DB, or a generated one) and the same layers loaded into PostgreSQL/PostGIS with
# ogr2ogr, kept between runs in a work directory and a database named gwbench.
#
# The caller sets GW (gridwatch binary), WORK (work directory), SRC_DB (a DB to copy, or "") and
# SCALE (gen-city scale when SRC_DB is ""), then calls bench_city and bench_pg_load LAYER...
# PostgreSQL: the Debian cluster 15/main, started if it is down; as root, psql and ogr2ogr run as
# the postgres user (peer authentication), otherwise as the caller (PGUSER/PGHOST apply).

now() { date +%s.%N; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# pg_run CMD...: a command that talks to PostgreSQL, as the postgres user when we are root.
pg_run() {
  if [ "$(id -u)" -eq 0 ]; then
    cmd=""
    for a in "$@"; do cmd="$cmd '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"; done
    su postgres -s /bin/sh -c "$cmd"
  else
    "$@"
  fi
}
# psql_q SQL: one value (unaligned, tuples only) from the gwbench database
psql_q() { pg_run psql -X -q -At -d gwbench -c "$1"; }

# The city: WORK/city.db, copied or generated once; its identity (size, mtime) in WORK/city.id.
bench_city() {
  mkdir -p "$WORK"
  chmod 755 "$WORK"
  if [ -n "$SRC_DB" ]; then
    id="copy $(stat -c '%s %Y' "$SRC_DB") $SRC_DB"
  else
    id="scale $SCALE"
  fi
  if [ ! -f "$WORK/city.db" ] || [ "$(cat "$WORK/city.id" 2>/dev/null)" != "$id" ]; then
    rm -f "$WORK"/city.db* "$WORK"/*.gpkg
    if [ -n "$SRC_DB" ]; then
      log "copying $SRC_DB"
      "$GW" stats "$SRC_DB" >/dev/null || { echo "bench: $SRC_DB is not a gridwatch database" >&2; exit 1; }
      cp "$SRC_DB" "$WORK/city.db"
    else
      log "generating the city at scale $SCALE"
      GW_PROGRESS=0 "$GW" gen-city "$WORK/city.db" --scale "$SCALE" >/dev/null
    fi
    echo "$id" >"$WORK/city.id"
  fi
  # bring the copy to this build's schema (init migrates an existing database)
  "$GW" init "$WORK/city.db" >/dev/null
}

# Start the cluster if needed and create the database with PostGIS.
bench_pg_up() {
  command -v psql >/dev/null 2>&1 || { echo "bench: psql not installed (Debian: postgresql postgresql-15-postgis-3)" >&2; exit 1; }
  if command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | grep -q '^15 *main .* down'; then
    log "starting PostgreSQL 15/main"
    pg_ctlcluster 15 main start
  fi
  if [ "$(pg_run psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'gwbench'")" != 1 ]; then
    pg_run createdb gwbench
  fi
  pg_run psql -X -q -d gwbench -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS postgis" \
    -c "CREATE TABLE IF NOT EXISTS gw_source (layer text PRIMARY KEY, id text)" >/dev/null
}

# bench_pg_load LAYER...: export each layer from the city (GeoPackage, EPSG:4326) and load it with
# ogr2ogr into table LAYER (fid = the store's rowid order, geom EPSG:4326 with a GiST index), plus
# what a PostGIS deployment serving tiles and items would add: geom3857 (stored Web Mercator,
# GiST) and a unique index on id.  Skipped when the table already holds this city's layer.
bench_pg_load() {
  bench_pg_up
  for layer in "$@"; do
    want="$(cat "$WORK/city.id")"
    have=$(psql_q "SELECT id FROM gw_source WHERE layer = '$layer'" 2>/dev/null)
    [ "$have" = "$want" ] && continue
    log "exporting $layer to GeoPackage"
    GW_PROGRESS=0 "$GW" export "$WORK/city.db" "$layer" "$WORK/$layer.gpkg" >/dev/null
    chmod 644 "$WORK/$layer.gpkg"
    log "loading $layer into PostGIS with ogr2ogr"
    pg_run env PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG:dbname=gwbench "$WORK/$layer.gpkg" -nln "$layer" \
      -overwrite -lco GEOMETRY_NAME=geom -lco FID=fid
    pg_run psql -X -q -d gwbench \
      -c "ALTER TABLE $layer ADD COLUMN geom3857 geometry(Geometry, 3857)" \
      -c "UPDATE $layer SET geom3857 = ST_Transform(geom, 3857)" \
      -c "CREATE INDEX ON $layer USING gist (geom3857)" \
      -c "CREATE UNIQUE INDEX ON $layer (id)" \
      -c "VACUUM ANALYZE $layer" \
      -c "INSERT INTO gw_source VALUES ('$layer', '$want') ON CONFLICT (layer) DO UPDATE SET id = EXCLUDED.id" >/dev/null
  done
}

# Start `gridwatch serve` on a free port; sets SRV (pid) and URL (no trailing slash).
bench_serve() {
  "$GW" serve "$WORK/city.db" --port 0 --anonymous-read --quiet "$@" >"$WORK/serve.log" 2>&1 &
  SRV=$!
  URL=""
  i=0
  while [ $i -lt 600 ] && [ -z "$URL" ]; do
    sleep 0.1
    URL=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' "$WORK/serve.log" | head -n 1)
    kill -0 "$SRV" 2>/dev/null || break
    i=$((i + 1))
  done
  [ -n "$URL" ] || { echo "bench: gridwatch serve did not start: $(head -c 300 "$WORK/serve.log")" >&2; exit 1; }
}
# bench_stop: stop what bench_serve and nginx_static started (for the scripts' EXIT trap)
bench_stop() {
  if [ -n "${SRV:-}" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; SRV=""; fi
  if [ -n "${NGX:-}" ]; then kill "$NGX" 2>/dev/null; wait "$NGX" 2>/dev/null; NGX=""; fi
}

# wrk_ms VALUE: a wrk latency ("812.00us", "1.23ms", "2.01s") in milliseconds
wrk_ms() {
  echo "$1" | awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /ms$/) v = v; else if ($1 ~ /s$/) v *= 1000; printf "%.2f", v }'
}
# wrk_summary FILE: "req/s p50 p99" (ms) from `wrk --latency` output
wrk_summary() {
  rps=$(sed -n 's/^Requests\/sec: *//p' "$1")
  p50=$(wrk_ms "$(awk '$1 == "50%" { print $2 }' "$1")")
  p99=$(wrk_ms "$(awk '$1 == "99%" { print $2 }' "$1")")
  echo "$rps $p50 $p99"
}
# pgbench_summary LOGPREFIX: "tps p50 p99" (ms) from pgbench's per-transaction logs (-l) and DURATION
pgbench_summary() {
  cat "$1".* | awk -v d="$2" '{ print $3 / 1000 }' | sort -n | awk -v d="$2" '
    { v[NR] = $1 } END { if (NR == 0) { print "0 0 0"; exit }
      a = int(NR * 0.5); if (a < 1) a = 1; b = int(NR * 0.99); if (b < 1) b = 1
      printf "%.1f %.2f %.2f\n", NR / d, v[a], v[b] }'
}

# nginx_static WHO MIME EXT: nginx on a random loopback port serving $WORK/www (files with
# extension EXT as MIME) with the Cache-Control gridwatch sends, the ceiling for cached tiles.
# Sets NPORT and NGX (its pid; bench_stop stops it); exits when nginx does not start.
nginx_static() {
  NGINX=${NGINX:-$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)}
  NPORT=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 20000) }')
  mkdir -p "$WORK/nginx"
  cat >"$WORK/nginx/nginx.conf" <<NGINX_EOF
worker_processes $(nproc 2>/dev/null || echo 2);
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 1000000;
  types { $2 $3; }
  server {
    listen 127.0.0.1:$NPORT;
    root $WORK/www;
    location /tiles/ { add_header Cache-Control "public, max-age=60"; etag on; }
  }
}
NGINX_EOF
  "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" 2>"$WORK/nginx/start.err" &
  NGX=$!
  sleep 1
  kill -0 "$NGX" 2>/dev/null || { echo "$1: nginx did not start: $(cat "$WORK/nginx/start.err")" >&2; exit 1; }
}
