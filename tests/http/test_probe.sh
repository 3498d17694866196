#!/bin/sh
# test_probe.sh — a hostile client against a real server (issue 15): tests/http/probe_http.py's
# families of bad input and seeded mutations of valid requests (about 3,000 requests), then the
# database's integrity_check, and the server must start again on the same file.
# usage: test_probe.sh PATH/TO/gridwatch
set -u
GW=${1:?usage: test_probe.sh gridwatch-binary}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/gwprobe.XXXXXX)
spid=""
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$T"' EXIT
fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
GW_PROGRESS=0 "$GW" gen-city "$T/city.db" --scale 0.01 >/dev/null 2>&1 || bad "gen-city"
tok=$("$GW" token create "$T/city.db" --role admin --name probe 2>/dev/null | tail -1)
serve() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$GW" serve "$T/city.db" --port "$port" --quiet --no-wall 2>>"$T/serve.err" &
  spid=$!
  for i in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
serve || bad "server did not come up: $(cat "$T/serve.err")"
# fewer mutations in the sanitizer build (each request is slower there)
n=2500
case "$GW" in *asan*|*tsan*) n=600 ;; esac
python3 "$HERE/probe_http.py" "http://127.0.0.1:$port" "$tok" --mutations "$n" --seed 15 || bad "probe findings"
kill -0 "$spid" 2>/dev/null || bad "the server died: $(tail -5 "$T/serve.err")"
kill "$spid"; wait "$spid" 2>/dev/null; spid=""
ic=$(sqlite3 "$T/city.db" "PRAGMA integrity_check")
[ "$ic" = "ok" ] || bad "integrity_check: $ic"
serve || bad "the server does not start again: $(tail -5 "$T/serve.err")"
[ "$fail" -eq 0 ] && echo "probe: ok" && exit 0
exit 1
