#!/bin/sh
# test_openapi_walk.sh — /openapi.json judged by clients that know only it: `redocly lint`
# (tests/peers/redocly.yaml) and openapi-typescript (a TypeScript client's types generated from
# it) on the document a server serves, then tests/peers/openapi_walk.mjs calls every documented
# operation with its examples and checks status, content type and body schema — against a server
# started without --anonymous-read (reads need the token) and one with it (reads without).
# usage: test_openapi_walk.sh PATH/TO/gridwatch
# Needs node and `npm ci` in tests/peers; exits 77 (ctest: Skipped) when they are missing.
set -u
GW=${1:?usage: test_openapi_walk.sh gridwatch-binary}
case "$GW" in /*) ;; *) GW="$(pwd)/$GW" ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS="$HERE/../peers"
if ! command -v node >/dev/null 2>&1 || [ ! -x "$PEERS/node_modules/.bin/redocly" ] ||
  [ ! -d "$PEERS/node_modules/@apidevtools/swagger-parser" ]; then
  echo "SKIP: node or tests/peers/node_modules (npm ci in tests/peers) missing"
  exit 77
fi
T=$(mktemp -d /tmp/gwoapi.XXXXXX)
SRV=""
stop_server() {
  if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
  SRV=""
}
cleanup() {
  stop_server
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# serve [ARGS…]: start `gridwatch serve` on a free port; U is its base URL.
serve() {
  log="$T/serve-$mode.log"
  cp "$T/city.db" "$T/city-$mode.db"
  "$GW" serve "$T/city-$mode.db" --port 0 --quiet "$@" >"$log" 2>&1 &
  SRV=$!
  U=""
  i=0
  while [ $i -lt 200 ]; do
    U=$(sed -n 's/.*"url":"\(http:[^"]*\)\/".*/\1/p' "$log" | head -n 1)
    [ -n "$U" ] && return 0
    kill -0 "$SRV" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
  done
  echo "FAIL: the server did not start: $(head -c 300 "$log")"
  exit 1
}

"$GW" gen-city "$T/city.db" --scale 0.01 --seed 7 >"$T/gen.out" 2>&1 || {
  echo "FAIL: gen-city: $(cat "$T/gen.out")"
  exit 1
}
TOKEN=$("$GW" token create "$T/city.db" --role admin --name openapi | tail -n 1)

for mode in token anonymous; do
  if [ "$mode" = anonymous ]; then serve --anonymous-read; else serve; fi
  curl -sf "$U/openapi.json" -o "$T/openapi-$mode.json" || bad "$mode: GET /openapi.json"
  # the linter and the client generator read the document as served
  if (cd "$PEERS" && node_modules/.bin/redocly lint --config redocly.yaml --format stylish \
    "$T/openapi-$mode.json") >"$T/lint.out" 2>&1; then
    :
  else
    bad "$mode: redocly lint:"
    grep -v "^\s*$" "$T/lint.out" | grep -v "Node.js\|═\|║" | head -n 60
  fi
  if ! (cd "$PEERS" && node_modules/.bin/openapi-typescript "$T/openapi-$mode.json" \
    -o "$T/client-$mode.d.ts") >"$T/ts.out" 2>&1; then
    bad "$mode: openapi-typescript: $(head -c 600 "$T/ts.out")"
  fi
  (cd "$PEERS" && node openapi_walk.mjs "$U" "$TOKEN") >"$T/walk.out" 2>&1 || bad "$mode: the walk"
  sed "s/^/$mode: /" "$T/walk.out"
  stop_server
done
[ "$fail" -eq 0 ] && echo "openapi: passed" && exit 0
echo "openapi: $fail failed"
exit 1
