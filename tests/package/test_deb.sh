#!/bin/sh
# test_deb.sh — the Debian package (tools/package-deb.sh) as a user gets it: its contents and
# dependencies, `apt-get install` on this machine (the user, /var/lib/gridwatch and an empty
# database made by postinst), the systemd unit checked by systemd-analyze, the service's own
# command line run as its user serving the installed wall, the man page, `gridwatch demo` from
# the installed paths under a browser test, and `apt-get purge` removing the program and its
# configuration while the data stays.
# usage: tests/package/test_deb.sh PACKAGE.deb      (needs root or sudo; exit 77 without)
set -u
deb=$(cd "$(dirname "${1:?usage: test_deb.sh PACKAGE.deb}")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || { echo "skipped: needs root or sudo"; exit 77; }
  SUDO="sudo -n"
fi
T=$(mktemp -d /tmp/gwdeb.XXXXXX)
chmod 755 "$T"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() {
  echo "test_deb: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit $?
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { # URL: up to 60 s for /healthz
  i=0
  while [ $i -lt 600 ]; do
    curl -sf -o /dev/null "$1/healthz" && return 0
    i=$((i + 1)); sleep 0.1
  done
  return 1
}

# ---- what the package holds ------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $6}' >"$T/files"
for f in ./usr/bin/gridwatch ./usr/share/gridwatch/web/index.html \
         ./usr/share/gridwatch/web/vendor/maplibre-gl/maplibre-gl.mjs \
         ./usr/share/gridwatch/web/vendor/maplibre-gl/maplibre-gl.css \
         ./usr/share/man/man1/gridwatch.1.gz ./etc/gridwatch/gridwatch.conf \
         ./lib/systemd/system/gridwatch.service ./usr/share/doc/gridwatch/copyright \
         ./usr/share/gridwatch/sprite/sprite.json ./usr/share/gridwatch/sprite/sprite@2x.png; do
  if grep -qx "$f" "$T/files"; then ok; else bad "the package lacks $f"; fi
done
if grep -q 'node_modules\|package.json\|\.map$' "$T/files"; then bad "the package holds npm or source-map files: $(grep 'node_modules\|package.json\|\.map$' "$T/files" | head -3)"; else ok; fi
deps=$(dpkg-deb -f "$deb" Depends)
for d in adduser libgdal32 libgeos-c1v5 libproj25 libspatialite7 libmicrohttpd12 libjansson4 \
         libfreetype6 fonts-noto-cjk; do
  case "$deps" in *"$d"*) ok ;; *) bad "Depends lacks $d: $deps" ;; esac
done
if dpkg-deb -I "$deb" conffiles 2>/dev/null | grep -qx /etc/gridwatch/gridwatch.conf; then ok; else bad "gridwatch.conf is not a conffile"; fi
for s in postinst prerm postrm; do
  if dpkg-deb -I "$deb" "$s" >/dev/null 2>&1; then ok; else bad "no $s script"; fi
done

# ---- installed -------------------------------------------------------------------------------
if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$T/apt.log" 2>&1; then ok; else
  bad "apt-get install failed: $(tail -n 5 "$T/apt.log")"
  finish
fi
if getent passwd gridwatch >/dev/null; then ok; else bad "no gridwatch user"; fi
if [ "$(stat -c %U /var/lib/gridwatch 2>/dev/null)" = gridwatch ]; then ok; else bad "/var/lib/gridwatch is not the gridwatch user's"; fi
db=/var/lib/gridwatch/gridwatch.db
if [ -s "$db" ] && /usr/bin/gridwatch stats "$db" >/dev/null 2>&1; then ok; else bad "postinst made no database at $db"; fi
if command -v systemd-analyze >/dev/null 2>&1; then
  if systemd-analyze verify /lib/systemd/system/gridwatch.service >"$T/verify.log" 2>&1; then ok; else bad "systemd-analyze verify: $(cat "$T/verify.log")"; fi
fi
# the unit's own commands, as its user
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/gridwatch.service)
check=$(sed -n 's/^ExecStartPre=//p' /lib/systemd/system/gridwatch.service)
if $SUDO runuser -u gridwatch -- $check >"$T/check.json" 2>"$T/check.err"; then ok; else bad "ExecStartPre failed: $(cat "$T/check.err")"; fi
if grep -q '"database":"/var/lib/gridwatch/gridwatch.db"' "$T/check.json" &&
   grep -q '"wall":"/usr/share/gridwatch/web"' "$T/check.json" &&
   grep -q '"anonymous_read":false' "$T/check.json"; then ok; else bad "--check says $(cat "$T/check.json")"; fi
p=$(port)
$SUDO runuser -u gridwatch -- $exec_start --port "$p" --quiet 2>"$T/serve.err" &
pid=$!
U=http://127.0.0.1:$p
if wait_up "$U"; then ok; else bad "the service's command did not come up: $(cat "$T/serve.err")"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/collections")
if [ "$code" = 401 ]; then ok; else bad "/collections without a token -> $code, want 401 (anonymous-read = false)"; fi
if curl -sf "$U/wall/" | grep -qi '<html'; then ok; else bad "the installed wall is not served"; fi
if curl -sf -o /dev/null "$U/wall/vendor/maplibre-gl.mjs"; then ok; else bad "MapLibre is not served from the package"; fi
$SUDO kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
# a bad setting stops the unit at ExecStartPre with the file and line
printf 'port = 8080\nport = 9090\n' >"$T/bad.conf"
if /usr/bin/gridwatch serve --config "$T/bad.conf" --check 2>"$T/bad.err"; then bad "a setting given twice was accepted"; else
  if grep -q "bad.conf:2: 'port' is set twice" "$T/bad.err"; then ok; else bad "bad config message: $(cat "$T/bad.err")"; fi
fi
# the man page: renders without warnings, documents every command
if MANWIDTH=100 man --warnings -l /usr/share/man/man1/gridwatch.1.gz >"$T/man.txt" 2>"$T/man.err" && [ ! -s "$T/man.err" ]; then ok; else bad "man: $(head -n 3 "$T/man.err")"; fi
for cmd in serve demo import export tiles plan accounts; do
  if grep -q "usage: gridwatch $cmd" "$T/man.txt"; then ok; else bad "the man page lacks '$cmd'"; fi
done
if grep -q -- '--config FILE' "$T/man.txt"; then ok; else bad "the man page lacks serve --config"; fi

# ---- gridwatch demo from the installed paths, in a browser --------------------------------------
if [ -x "${GW_CHROMIUM:-/usr/bin/chromium}" ] && [ -d "$root/web/node_modules/playwright-core" ]; then
  if GW_BIN=/usr/bin/gridwatch GW_SERVE_CMD=demo node --test --test-concurrency=1 \
       --test-name-pattern='every layer draws' "$root/tests/browser/wall.test.mjs" >"$T/browser.log" 2>&1 &&
     grep -q '^# pass 1' "$T/browser.log"; then ok; else bad "the wall test on the installed demo: $(grep -i 'not ok\|error\|# pass\|# fail' "$T/browser.log" | head -n 8)"; fi
else
  echo "note: no Chromium or playwright-core: the browser part is left out"
fi

# ---- purge -------------------------------------------------------------------------------------
if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq gridwatch >"$T/purge.log" 2>&1; then ok; else bad "apt-get purge: $(tail -n 3 "$T/purge.log")"; fi
if [ ! -e /usr/bin/gridwatch ] && [ ! -e /etc/gridwatch/gridwatch.conf ]; then ok; else bad "purge left the program or its configuration"; fi
if [ -s "$db" ]; then ok; else bad "purge removed the data in /var/lib/gridwatch"; fi
finish
