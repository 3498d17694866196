#!/bin/sh
# test_install.sh — gridwatch as installed by `cmake --install`: the binary in PREFIX/bin serves
# the map wall from PREFIX/share/gridwatch/web (page, scripts, MapLibre) and not from the source
# tree, --version names the libraries, and a wall with missing files is refused at start.
# usage: test_install.sh CMAKE BUILD_DIR SOURCE_DIR VERSION   (exit 77 = skipped: no web/node_modules)
set -u
CMAKE=${1:?usage: test_install.sh cmake build-dir source-dir version}
BUILD=${2:?}
SRC=${3:?}
VERSION=${4:?}
if [ ! -d "$SRC/web/node_modules" ]; then
  echo "SKIP: web/node_modules is absent (run npm ci in web/); the wall cannot be installed"
  exit 77
fi
T=$(mktemp -d /tmp/gwinstall.XXXXXX)
P=$T/prefix
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
unset GRIDWATCH_WEB_DIR
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() {
  echo "test_install: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit $?
}

# ---- the install tree ------------------------------------------------------------------------
if "$CMAKE" --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1; then ok; else
  bad "cmake --install failed: $(tail -c 600 "$T/install.log")"
  finish
fi
W=$P/share/gridwatch/web
for f in bin/gridwatch share/gridwatch/web/index.html share/gridwatch/web/config.json \
  share/gridwatch/web/style.css share/gridwatch/web/js/app.js \
  share/gridwatch/web/vendor/maplibre-gl/maplibre-gl.mjs \
  share/gridwatch/web/vendor/maplibre-gl/maplibre-gl-worker.mjs \
  share/gridwatch/web/vendor/maplibre-gl/maplibre-gl.css; do
  if [ -f "$P/$f" ]; then ok; else bad "not installed: PREFIX/$f"; fi
done
if [ -x "$P/bin/gridwatch" ]; then ok; else bad "PREFIX/bin/gridwatch is not executable"; fi
# what the server would refuse to serve anyway stays out of the install
for f in node_modules package.json package-lock.json .gitignore; do
  if [ -e "$W/$f" ]; then bad "installed but not part of the page: $f"; else ok; fi
done

# ---- --version and version -------------------------------------------------------------------
for v in --version version; do
  if "$P/bin/gridwatch" "$v" >"$T/version" 2>&1; then ok; else bad "gridwatch $v: exit $?"; fi
  if [ "$(head -n 1 "$T/version")" = "gridwatch $VERSION" ]; then ok; else
    bad "gridwatch $v first line: '$(head -n 1 "$T/version")' (want 'gridwatch $VERSION')"
  fi
  for lib in GEOS PROJ GDAL SpatiaLite SQLite libmicrohttpd; do
    if grep -q "^$lib [0-9]" "$T/version"; then ok; else bad "gridwatch $v names no $lib version: $(cat "$T/version")"; fi
  done
done

# ---- demo from the install, on a free loopback port ------------------------------------------
# start_server LOG ARGS...: run the installed binary in the background from a directory that is
# not the checkout; sets pid and U (the base URL from the "listening" line).
start_server() {
  log=$1
  shift
  (cd "$T" && exec "$P/bin/gridwatch" "$@") >"$log" 2>&1 &
  pid=$!
  U=
  for _ in $(seq 1 600); do
    U=$(sed -n 's/.*"event":"listening","url":"\(http:[^"]*\)\/".*/\1/p' "$log" | head -n 1)
    [ -n "$U" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}
stop_server() {
  kill "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  pid=
  if [ "$rc" -eq 0 ]; then ok; else bad "server exit code after SIGTERM: $rc"; fi
}
# expect_get PATH STATUS TYPE: GET U/PATH, compare the status and the Content-Type's start
expect_get() {
  got=$(curl -s -o "$T/body" -w '%{http_code} %{content_type}' "$U$1")
  case "$got" in
    "$2 $3"*) ok ;;
    *) bad "GET $1: '$got' (want '$2 $3'): $(head -c 200 "$T/body")" ;;
  esac
}

if start_server "$T/demo.log" demo "$T/city.db" --scale 0.01 --port 0 --bind 127.0.0.1; then ok; else
  bad "demo did not come up: $(tail -c 600 "$T/demo.log")"
  finish
fi
# the page comes from the install, not from the checkout the binary was built in
want_wall=$(cd "$W" && pwd -P)
if grep -q "\"wall\":\"$want_wall\"" "$T/demo.log"; then ok; else
  bad "the wall is not served from $want_wall: $(grep listening "$T/demo.log")"
fi
expect_get /wall/ 200 "text/html"
expect_get /wall/js/app.js 200 "text/javascript"
expect_get /wall/style.css 200 "text/css"
expect_get /wall/config.json 200 "application/json"
expect_get /wall/vendor/maplibre-gl.mjs 200 "text/javascript"
if cmp -s "$T/body" "$W/vendor/maplibre-gl/maplibre-gl.mjs"; then ok; else
  bad "/wall/vendor/maplibre-gl.mjs is not the installed file"
fi
expect_get /wall/vendor/maplibre-gl-worker.mjs 200 "text/javascript"
expect_get /wall/vendor/maplibre-gl.css 200 "text/css"
expect_get /collections 200 "application/json"
if grep -q '"grids"' "$T/body"; then ok; else bad "/collections lacks grids: $(head -c 200 "$T/body")"; fi
stop_server

# ---- a wall with missing files: refused at start, unless --no-wall ---------------------------
rm -rf "$W/vendor"
"$P/bin/gridwatch" serve "$T/city.db" --port 0 --quiet >"$T/refused.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then ok; else bad "serve without MapLibre: exit $rc (want 1): $(head -c 300 "$T/refused.log")"; fi
if grep -q "MapLibre files are missing.*npm ci" "$T/refused.log"; then ok; else
  bad "serve without MapLibre does not say why: $(head -c 300 "$T/refused.log")"
fi
if start_server "$T/nowall.log" serve "$T/city.db" --port 0 --anonymous-read --quiet --no-wall; then ok; else
  bad "serve --no-wall did not come up: $(tail -c 600 "$T/nowall.log")"
  finish
fi
expect_get /wall/ 404 "application/problem+json"
if grep -q "no-wall" "$T/body"; then ok; else bad "/wall/ with --no-wall does not say why: $(head -c 200 "$T/body")"; fi
expect_get /collections 200 "application/json"
stop_server

finish
