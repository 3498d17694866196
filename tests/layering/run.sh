#!/bin/sh
# run.sh BUILD_DIR SOURCE_DIR — shows that the build refuses an include against the direction.
#  1. probe_core_up (core including the store's header) must fail to compile, with the compiler
#     saying the header is not there (not failing for some other reason);
#     probe_road_up (geo/road including dispatch.h, the room above it) likewise;
#  2. probe_tiles_up (tiles including the HTTP server's header) and probe_http_up (api/http
#     including the routes' app.h) likewise;
#  3. probe_store_down (the store including core's header) must compile: the control;
#  4. tools/check_layers.sh passes on the tree and fails on a tree with sqlite3.h in geo/model;
#  5. tools/check_symbols.sh: every gw_ function a library exports is declared in a header;
#  6. tools/gen_store.py --check: the store's generated tables match its headers.
set -u
build=$1 src=$2
fails=0
expect_missing() { # target header
  out=$(cmake --build "$build" --target "$1" 2>&1)
  if [ $? -eq 0 ]; then echo "FAIL: $1 compiled; $2 is visible against the direction"; fails=$((fails + 1)); return; fi
  if echo "$out" | grep -q "$2: No such file or directory"; then echo "ok: $1 refused ($2 not visible)"
  else echo "FAIL: $1 failed for another reason:"; echo "$out" | tail -5; fails=$((fails + 1)); fi
}
expect_missing probe_core_up gridwatch/store.h
expect_missing probe_road_up gridwatch/dispatch.h
expect_missing probe_tiles_up server.h
expect_missing probe_http_up app.h
if cmake --build "$build" --target probe_store_down >/dev/null 2>&1; then echo "ok: probe_store_down compiled"
else echo "FAIL: the control probe_store_down did not compile"; fails=$((fails + 1)); fi
if sh "$src/tools/check_layers.sh" "$src"; then echo "ok: check_layers passes on the tree"
else echo "FAIL: check_layers fails on the tree"; fails=$((fails + 1)); fi
if sh "$src/tools/check_symbols.sh" "$build" "$src"; then echo "ok: every exported gw_ symbol is in a header"
else echo "FAIL: gw_ symbols exported without a header"; fails=$((fails + 1)); fi
if python3 "$src/tools/gen_store.py" --check; then echo "ok: the store's generated tables are current"
else echo "FAIL: run python3 tools/gen_store.py"; fails=$((fails + 1)); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/geo/model" "$tmp/geo/store" "$tmp/api/http" "$tmp/tiles"
printf '#include <sqlite3.h>\nint f(void) { return 0; }\n' > "$tmp/geo/model/bad.c"
if sh "$src/tools/check_layers.sh" "$tmp" >/dev/null 2>&1; then echo "FAIL: check_layers accepted sqlite3.h in geo/model"; fails=$((fails + 1))
else echo "ok: check_layers refuses sqlite3.h in geo/model"; fi
rm "$tmp/geo/model/bad.c"
printf 'static const char *q = "SELECT id FROM grids";\n' > "$tmp/api/http/bad.c"
if sh "$src/tools/check_layers.sh" "$tmp" >/dev/null 2>&1; then echo "FAIL: check_layers accepted SQL text in api/http"; fails=$((fails + 1))
else echo "ok: check_layers refuses SQL text in api/http"; fi
echo "$((9 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
