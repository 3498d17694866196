#!/bin/sh
# bench_tiles.sh — vector tiles against their peers, in one run (issue 4 item 7):
#  1. uncached generation time per tile for a fixed sample of tiles z8-16 (grids, incidents):
#     gridwatch's renderer (bench_tiles: gw_tile_render over the model, no HTTP, no cache) beside
#     PostGIS ST_AsMVT(ST_AsMVTGeom(... ST_TileEnvelope ...)) doing the same work in a PL/pgSQL
#     function timed inside the server (no client transfer): the same properties, the same
#     64-unit buffer, and at zooms where a tile holds more than 4,000 incidents the same
#     aggregation into cluster points (a 128 or 64 cell grid, count per category);
#  2. cached throughput: wrk against `gridwatch serve` (tiles in its cache) and against nginx
#     serving the same tile bytes from disk (the ceiling);
#  3. an MBTiles pyramid: `gridwatch tiles` against `ogr2ogr -f MVT` on the same layer and zooms.
# usage: bench/bench_tiles.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR]
#                             [--passes N] [--duration SECONDS] [--pyramid-zoom 8-14]
#                             [--pyramid-layers grids,incidents]
#                             [--skip render,pg,wrk,pyramid]
# --skip leaves out parts: render (gridwatch's column of 1), pg (the PostGIS column of 1, and
# loading PostGIS), wrk (2), pyramid (3); the tables then show zeros there.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$HERE/.." && pwd)
B="$SRCDIR/build"
SRC_DB=""
SCALE=0.1
WORK=/tmp/gwbench
PASSES=3
DUR=10
PZOOM=8-14
PLAYERS=grids,incidents
CONN=16
SKIP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) B=$(cd "$2" && pwd); shift 2 ;;
    --db) SRC_DB=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --passes) PASSES=$2; shift 2 ;;
    --duration) DUR=$2; shift 2 ;;
    --pyramid-zoom) PZOOM=$2; shift 2 ;;
    --pyramid-layers) PLAYERS=$2; shift 2 ;;
    --skip) SKIP=",$2,"; shift 2 ;;
    *) echo "usage: bench_tiles.sh [--build DIR] [--db CITY.db | --scale S] [--work DIR] [--passes N] [--duration S] [--pyramid-zoom A-B] [--pyramid-layers grids,incidents] [--skip render,pg,wrk,pyramid]" >&2; exit 2 ;;
  esac
done
GW="$B/gridwatch"
. "$HERE/bench_pg.sh"
for t in wrk psql ogr2ogr nginx curl; do
  command -v $t >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || { echo "bench_tiles: $t not installed (Debian: wrk postgresql postgresql-15-postgis-3 gdal-bin nginx-light curl)" >&2; exit 1; }
done
trap bench_stop EXIT
trap 'exit 1' INT TERM HUP PIPE

# The renderer bench: the CMake target when the build has it, else a direct cc line.
BT="$B/bench_tiles"
if ! cmake --build "$B" --target bench_tiles >/dev/null 2>&1; then
  # the per-room build: one static library per room (cmake/rooms.cmake), linked as one group
  cmake --build "$B" --target gwtiles gwedit >/dev/null
  cc -O2 -std=c11 -D_GNU_SOURCE -DGEOS_USE_ONLY_R_API -I"$SRCDIR/include" "$SRCDIR/bench/bench_tiles.c" \
    -Wl,--start-group "$B"/libgw*.a -Wl,--end-group \
    $(pkg-config --libs gdal geos proj spatialite sqlite3 jansson zlib libpng nettle) \
    $(pkg-config --libs libpq 2>/dev/null) -lpthread -lm -o "$BT"
fi

skip() { case "$SKIP" in *",$1,"*) return 0 ;; esac; return 1; }
bench_city
if skip pg; then
  NI=$(sqlite3 "$WORK/city.db" "SELECT count(*) FROM incidents")
  NG=$(sqlite3 "$WORK/city.db" "SELECT count(*) FROM grids")
else
  bench_pg_load grids incidents
  NI=$(psql_q "SELECT count(*) FROM incidents")
  NG=$(psql_q "SELECT count(*) FROM grids")
fi

# ---- the tile sample: z8-16, the tiles under five fixed points of the city, both layers -------
tilexy() {
  awk -v lon="$1" -v lat="$2" -v z="$3" 'BEGIN { pi = atan2(0, -1); n = 2 ^ z; r = lat * pi / 180;
    printf "%d %d %d\n", z, int((lon + 180) / 360 * n), int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / pi) / 2 * n) }'
}
: >"$WORK/tiles.txt"
for layer in grids incidents; do
  for z in 8 9 10 11 12 13 14 15 16; do
    for pt in "115.48 35.25" "115.2 35.0" "115.8 35.0" "115.2 35.5" "115.8 35.5"; do
      set -- $pt
      echo "$layer $(tilexy "$1" "$2" $z)"
    done | sort -u >>"$WORK/tiles.txt"
  done
done
NT=$(wc -l <"$WORK/tiles.txt")
log "$NT sample tiles; $NG grids, $NI incidents"

# ---- 1. uncached generation: gridwatch ----------------------------------------------------------
: >"$WORK/gw-tiles.txt"
if ! skip render; then
  log "gridwatch renderer: 1 warm-up + $PASSES passes"
  "$BT" "$WORK/city.db" "$WORK/tiles.txt" "$PASSES" >"$WORK/gw-tiles.txt"
fi
: >"$WORK/pg-tiles.txt"
if ! skip pg; then

# ---- 1. uncached generation: PostGIS ------------------------------------------------------------
cat >"$WORK/pg_tiles.sql" <<'EOF'
SET client_min_messages = warning;
DROP TABLE IF EXISTS gw_bench_tiles;
CREATE TABLE gw_bench_tiles (ord serial, layer text, z int, x int, y int);
-- One tile as gridwatch makes it: grids with their properties; incidents as points, or as
-- cluster points on a 128 (above 200,000 points: 64) cell grid when more than 4,000 lie inside.
CREATE OR REPLACE FUNCTION gw_tile(layer text, tz int, tx int, ty int) RETURNS bytea
LANGUAGE plpgsql STABLE AS $$
DECLARE
  env geometry := ST_TileEnvelope(tz, tx, ty);
  benv geometry := ST_TileEnvelope(tz, tx, ty, margin => 64.0 / 4096);
  n bigint; cells int; w float8; out bytea;
BEGIN
  IF layer = 'grids' THEN
    SELECT ST_AsMVT(q, 'grids', 4096, 'geom', 'fid') INTO out FROM (
      SELECT fid, id, name, township, county, population,
             ST_AsMVTGeom(geom3857, env, 4096, 64, true) AS geom
        FROM grids WHERE geom3857 && benv) q WHERE q.geom IS NOT NULL;
    RETURN out;
  END IF;
  SELECT count(*) INTO n FROM incidents WHERE geom3857 && env;
  IF n > 4000 THEN
    cells := CASE WHEN n > 200000 THEN 64 ELSE 128 END;
    w := (ST_XMax(env) - ST_XMin(env)) / cells;
    SELECT ST_AsMVT(q, 'incidents', 4096, 'geom') INTO out FROM (
      SELECT true AS cluster, sum(k)::int AS count,
             jsonb_object_agg('count_' || coalesce(category, 'other'), k) AS counts,
             ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(sum(sx) / sum(k), sum(sy) / sum(k)), 3857), env, 4096, 64, true) AS geom
        FROM (SELECT least(cells - 1, floor((ST_X(geom3857) - ST_XMin(env)) / w))::int AS cx,
                     least(cells - 1, floor((ST_YMax(env) - ST_Y(geom3857)) / w))::int AS cy,
                     category, count(*) AS k, sum(ST_X(geom3857)) AS sx, sum(ST_Y(geom3857)) AS sy
                FROM incidents WHERE geom3857 && env GROUP BY 1, 2, 3) c
       GROUP BY cx, cy) q;
  ELSE
    SELECT ST_AsMVT(q, 'incidents', 4096, 'geom', 'fid') INTO out FROM (
      SELECT fid, id, extract(epoch FROM occurred_at)::bigint AS occurred_at, category, severity, status, grid,
             ST_AsMVTGeom(geom3857, env, 4096, 64, true) AS geom
        FROM incidents WHERE geom3857 && benv) q;
  END IF;
  RETURN out;
END $$;
-- Time every tile inside the server: one warm-up pass, then `passes`; median per tile.
CREATE OR REPLACE FUNCTION gw_time_tiles(passes int)
RETURNS TABLE (layer text, z int, x int, y int, ms float8, bytes int)
LANGUAGE plpgsql AS $$
DECLARE r record; t0 timestamptz; b bytea;
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS gw_t (ord int, ms float8, bytes int);
  TRUNCATE gw_t;
  FOR p IN 0 .. passes LOOP
    FOR r IN SELECT * FROM gw_bench_tiles t ORDER BY t.ord LOOP
      t0 := clock_timestamp();
      b := gw_tile(r.layer, r.z, r.x, r.y);
      IF p > 0 THEN
        INSERT INTO gw_t VALUES (r.ord, extract(epoch FROM clock_timestamp() - t0) * 1000, coalesce(length(b), 0));
      END IF;
    END LOOP;
  END LOOP;
  RETURN QUERY SELECT t.layer, t.z, t.x, t.y,
                      percentile_disc(0.5) WITHIN GROUP (ORDER BY g.ms), max(g.bytes)
                 FROM gw_bench_tiles t JOIN gw_t g USING (ord) GROUP BY t.ord, t.layer, t.z, t.x, t.y ORDER BY t.ord;
END $$;
EOF
chmod 644 "$WORK/pg_tiles.sql" "$WORK/tiles.txt"
pg_run psql -X -q -d gwbench -f "$WORK/pg_tiles.sql" >/dev/null
while read -r l z x y; do echo "INSERT INTO gw_bench_tiles (layer, z, x, y) VALUES ('$l', $z, $x, $y);"; done <"$WORK/tiles.txt" >"$WORK/pg_tiles_ins.sql"
chmod 644 "$WORK/pg_tiles_ins.sql"
pg_run psql -X -q -d gwbench -f "$WORK/pg_tiles_ins.sql" >/dev/null
log "PostGIS ST_AsMVT: 1 warm-up + $PASSES passes"
psql_q "SELECT layer, z, x, y, round(ms::numeric, 3), bytes FROM gw_time_tiles($PASSES)" | tr '|' ' ' >"$WORK/pg-tiles.txt"
fi

# per layer and zoom band: median, p95 of the per-tile times, and bytes
summ() { # FILE LAYER ZMIN ZMAX -> "median p95 meanKB n"
  awk -v L="$2" -v a="$3" -v b="$4" '$1 == L && $2 >= a && $2 <= b { print $5, $6 }' "$1" | sort -n | awk '
    { v[NR] = $1; by += $2 } END { if (!NR) { print "0 0 0 0"; exit }
      i = int((NR - 1) * 0.5) + 1; j = int((NR - 1) * 0.95 + 0.5) + 1; if (j > NR) j = NR
      printf "%.3f %.3f %.1f %d\n", v[i], v[j], by / NR / 1024, NR }'
}

# ---- 2. cached throughput: gridwatch vs nginx on the same bytes -------------------------------
cg_r=0 cg_50=0 cg_99=0 cn_r=0 cn_50=0 cn_99=0 NP=0
if ! skip wrk; then
bench_serve --threads "$(nproc 2>/dev/null || echo 2)"
rm -rf "$WORK/www"
mkdir -p "$WORK/www"
: >"$WORK/paths.txt"
while read -r l z x y; do
  mkdir -p "$WORK/www/tiles/$l/$z/$x"
  code=$(curl -s -o "$WORK/www/tiles/$l/$z/$x/$y.mvt" -w '%{http_code}' "$URL/tiles/$l/$z/$x/$y.mvt")
  [ "$code" = 200 ] && echo "/tiles/$l/$z/$x/$y.mvt" >>"$WORK/paths.txt"
done <"$WORK/tiles.txt"
NP=$(wc -l <"$WORK/paths.txt")
{
  echo 'local paths, n = {}, 0'
  sed 's/.*/paths[#paths + 1] = "&"/' "$WORK/paths.txt"
  echo 'request = function() n = n % #paths + 1; return wrk.format("GET", paths[n]) end'
} >"$WORK/tiles.lua"
nginx_static bench_tiles application/vnd.mapbox-vector-tile mvt
# the same bytes from both
p1=$(head -n 1 "$WORK/paths.txt")
curl -s "$URL$p1" | cmp -s - "$WORK/www$p1" || echo "bench_tiles: warning: gridwatch and nginx bytes differ for $p1" >&2
cached() { # BASE-URL NAME
  wrk -t2 -c"$CONN" -d2s -s "$WORK/tiles.lua" "$1" >/dev/null 2>&1 || true
  wrk -t2 -c"$CONN" -d"${DUR}s" --timeout 30s --latency -s "$WORK/tiles.lua" "$1" >"$WORK/wrk-tiles-$2.txt" 2>&1
  wrk_summary "$WORK/wrk-tiles-$2.txt"
}
log "wrk: gridwatch cached tiles ($NP paths)"
set -- $(cached "$URL" gw); cg_r=$1 cg_50=$2 cg_99=$3
log "wrk: nginx, same bytes from disk"
set -- $(cached "http://127.0.0.1:$NPORT" nginx); cn_r=$1 cn_50=$2 cn_99=$3
bench_stop
fi

# ---- 3. MBTiles pyramid: gridwatch tiles vs ogr2ogr -f MVT ------------------------------------
# Like for like: the same layer, the same zooms, gzip'd tiles on both sides (gridwatch: zlib level
# 6; ogr2ogr: COMPRESS=YES, its default, given explicitly), and for grids the same fields:
# ogr2ogr reads a GeoPackage of the grids holding the fields gridwatch's grid tiles carry from
# zoom 10: their own seven (id, name, township, county, population, prefecture, village; not
# households, worker, phone) and the coverage, Gi*, hot spot cluster and response figures, read
# back from an untimed first `gridwatch tiles` at zoom 12.  That first run is
# also what a served city has done: the coverage rows and the cluster scan are in its store
# (the server stores both at start); the timed run reads them and computes Gi* and the response
# figures.  gridwatch's tiles below zoom 10 carry fewer grid fields (the server's), ogr2ogr's all.
z0=${PZOOM%-*}
z1=${PZOOM#*-}
GFIELDS="coverage_ratio:REAL covered_m2:REAL cameras:INTEGER room_reach:REAL gi_z:REAL gi_p:REAL
gi_bin:INTEGER gi_class:TEXT gi_count:INTEGER clusters:INTEGER cluster_rr:REAL
resp_incidents:INTEGER resp_open:INTEGER resp_overdue:INTEGER resp_overdue_share:REAL
resp_escalation_rate:REAL resp_accept_p50_s:REAL resp_accept_p90_s:REAL resp_arrive_p50_s:REAL
resp_close_p50_s:REAL resp_close_p90_s:REAL"
pyr_input() { # LAYER -> the GeoPackage ogr2ogr reads (grids: with the analysis fields)
  [ -f "$WORK/$1.gpkg" ] || GW_PROGRESS=0 "$GW" export "$WORK/city.db" "$1" "$WORK/$1.gpkg" >/dev/null
  [ "$1" = grids ] || { echo "$WORK/$1.gpkg"; return; }
  rm -f "$WORK/prep-grids.mbtiles" "$WORK/grids-fields.gpkg" "$WORK/grids-fields.csv" \
    "$WORK/grids-src.gpkg"
  GW_PROGRESS=0 "$GW" tiles "$WORK/city.db" "$WORK/prep-grids.mbtiles" --layers grids --zoom 12 \
    >/dev/null 2>&1
  cols=id acols="" sqlcols="id TEXT" nulls=id
  for f in $GFIELDS; do
    n=${f%:*} t=${f#*:}
    cols="$cols, $n" acols="$acols, a.$n" sqlcols="$sqlcols, $n $t" nulls="$nulls, NULLIF($n, '')"
  done
  ogr2ogr -f CSV "$WORK/grids-fields.csv" "$WORK/prep-grids.mbtiles" -dialect SQLITE \
    -sql "SELECT DISTINCT $cols FROM grids" >/dev/null 2>&1
  cp "$WORK/grids.gpkg" "$WORK/grids-src.gpkg"
  { echo "CREATE TEMP TABLE s ($sqlcols);"
    echo ".import --csv --skip 1 $WORK/grids-fields.csv s"
    echo "CREATE TABLE a ($sqlcols);"
    echo "INSERT INTO a SELECT $nulls FROM s;"; } | sqlite3 "$WORK/grids-src.gpkg"
  ogr2ogr -f GPKG "$WORK/grids-fields.gpkg" "$WORK/grids-src.gpkg" -nln grids \
    -sql "SELECT g.geom, g.id, g.name, g.township, g.county, g.population, g.prefecture,
          g.village$acols FROM grids g LEFT JOIN a ON a.id = g.id" >/dev/null
  echo "$WORK/grids-fields.gpkg"
}
pyr() { # LAYER -> "gw_s ogr_s gw_tiles ogr_tiles gw_cpu_s ogr_cpu_s"
  src=$(pyr_input "$1")
  rm -f "$WORK/gw-$1.mbtiles" "$WORK/ogr-$1.mbtiles"
  a=$(now)
  GW_PROGRESS=0 /usr/bin/time -f "%U %S" -o "$WORK/gw-$1.cpu" \
    "$GW" tiles "$WORK/city.db" "$WORK/gw-$1.mbtiles" --layers "$1" --zoom "$PZOOM" >/dev/null 2>"$WORK/gw-$1.err"
  b=$(now)
  /usr/bin/time -f "%U %S" -o "$WORK/ogr-$1.cpu" \
    ogr2ogr -f MVT "$WORK/ogr-$1.mbtiles" "$src" -dsco MINZOOM="$z0" -dsco MAXZOOM="$z1" \
    -dsco FORMAT=MBTILES -dsco COMPRESS=YES -nln "$1" >/dev/null 2>"$WORK/ogr-$1.err"
  c=$(now)
  echo "$a $b $c $(sqlite3 "$WORK/gw-$1.mbtiles" 'SELECT count(*) FROM tiles' 2>/dev/null || echo 0) $(sqlite3 "$WORK/ogr-$1.mbtiles" 'SELECT count(*) FROM tiles' 2>/dev/null || echo 0) $(tail -n 1 "$WORK/gw-$1.cpu") $(tail -n 1 "$WORK/ogr-$1.cpu")" |
    awk '{ printf "%.1f %.1f %d %d %.1f %.1f\n", $2 - $1, $3 - $2, $4, $5, $6 + $7, $8 + $9 }'
}
pg_gw=0 pg_og=0 pg_gwn=0 pg_ogn=0 pg_gwc=0 pg_ogc=0 pi_gw=0 pi_og=0 pi_gwn=0 pi_ogn=0 pi_gwc=0 pi_ogc=0
skip pyramid && PLAYERS=none
case ",$PLAYERS," in *,grids,*)
  log "MBTiles pyramid z$PZOOM: grids ($(uptime | sed 's/.*load/load/'))"; set -- $(pyr grids)
  pg_gw=$1 pg_og=$2 pg_gwn=$3 pg_ogn=$4 pg_gwc=$5 pg_ogc=$6 ;; esac
case ",$PLAYERS," in *,incidents,*)
  log "MBTiles pyramid z$PZOOM: incidents ($(uptime | sed 's/.*load/load/'))"; set -- $(pyr incidents)
  pi_gw=$1 pi_og=$2 pi_gwn=$3 pi_ogn=$4 pi_gwc=$5 pi_ogc=$6 ;; esac

# ---- the tables ---------------------------------------------------------------------------------
echo
echo "tiles: $NG grids, $NI incidents; $NT sample tiles (z8-16 under 5 fixed points), median of $PASSES passes per tile; $(nproc) cores"
echo "1. uncached generation per tile, ms (gridwatch: renderer in process; PostGIS: ST_AsMVT timed inside the server; neither includes HTTP)"
printf '%-10s %-6s %4s | %9s %9s %9s | %9s %9s %9s | %s\n' layer zoom n "gw p50" "gw p95" "gw KB" "PG p50" "PG p95" "PG KB" "PG/gw (p50, p95)"
for layer in grids incidents; do
  for band in "8 10" "11 13" "14 16" "8 16"; do
    set -- $band
    g=$(summ "$WORK/gw-tiles.txt" $layer $1 $2)
    p=$(summ "$WORK/pg-tiles.txt" $layer $1 $2)
    echo "$layer $1-$2 $g $p" | awk '{ printf "%-10s %-6s %4d | %9.2f %9.2f %9.1f | %9.2f %9.2f %9.1f | %.1fx, %.1fx\n",
      $1, $2, $6, $3, $4, $5, $7, $8, $9, ($3 > 0 ? $7 / $3 : 0), ($4 > 0 ? $8 / $4 : 0) }'
  done
done
echo "2. cached tiles under load ($CONN connections, ${DUR} s, the $NP non-empty sample tiles round robin, uncompressed)"
printf '%-28s %10s %8s %8s\n' server "req/s" "p50 ms" "p99 ms"
printf '%-28s %10.0f %8.2f %8.2f\n' "gridwatch (tile cache)" "$cg_r" "$cg_50" "$cg_99"
printf '%-28s %10.0f %8.2f %8.2f\n' "nginx (same bytes, disk)" "$cn_r" "$cn_50" "$cn_99"
echo "$cg_r $cn_r" | awk '{ printf "gridwatch / nginx: %.2f\n", ($2 > 0 ? $1 / $2 : 0) }'
# the rows for bench/run_all.sh (uncached: PostGIS ST_AsMVT / ours at the p95 over z8-16)
for layer in grids incidents; do
  g=$(summ "$WORK/gw-tiles.txt" $layer 8 16); p=$(summ "$WORK/pg-tiles.txt" $layer 8 16)
  echo "$layer $g $p" | awk '{ printf "ROW|%s tiles uncached z8-16, p95|%.2f ms|PostGIS ST_AsMVT|%.2f ms|%.1f\n", $1, $3, $7, ($3 > 0 ? $7 / $3 : 0) }'
done
echo "$cg_r $cn_r" | awk '{ printf "ROW|cached tiles under load (wrk)|%.0f req/s|nginx, same bytes|%.0f req/s|%.2f\n", $1, $2, ($2 > 0 ? $1 / $2 : 0) }'
echo "3. MBTiles pyramid z$PZOOM, gzip'd both (gridwatch: the live tiles, model load and analysis included, coverage rows and cluster scan stored; grids: ogr2ogr's input carries the same analysis fields; incidents: gridwatch clusters dense tiles, ogr2ogr keeps every point up to its own limits)"
printf '%-10s | %8s %8s %8s | %10s %8s %8s | %s\n' layer "gw s" "gw CPU" tiles "ogr2ogr s" "CPU" tiles "ogr/gw (wall, CPU)"
for l in grids incidents; do
  if [ $l = grids ]; then set -- "$pg_gw" "$pg_gwc" "$pg_gwn" "$pg_og" "$pg_ogc" "$pg_ogn"; else set -- "$pi_gw" "$pi_gwc" "$pi_gwn" "$pi_og" "$pi_ogc" "$pi_ogn"; fi
  [ "$3" = 0 ] && [ "$6" = 0 ] && continue
  echo "$l $*" | awk '{ printf "%-10s | %8.1f %8.1f %8d | %10.1f %8.1f %8d | %.1fx, %.1fx\n", $1, $2, $3, $4, $5, $6, $7,
    ($2 > 0 ? $5 / $2 : 0), ($3 > 0 ? $6 / $3 : 0) }'
  echo "$l $*" | awk -v z="$PZOOM" '{ printf "ROW|MBTiles pyramid %s z%s|%.1f s|ogr2ogr -f MVT|%.1f s|%.1f\n", $1, z, $2, $5, ($2 > 0 ? $5 / $2 : 0) }'
done
