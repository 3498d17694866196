#!/bin/sh
# test_accounts.sh — `gridwatch accounts` as a roll-out uses it: --help; a CSV of accounts at
# four levels imported in one go (tokens written once to a 0600 file; each token works against a
# running server and sees only its jurisdiction's grids); a bad file (unknown jurisdiction, bad
# role, a name twice, a name already active) creates nothing; list by jurisdiction; disable.
# usage: test_accounts.sh PATH/TO/gridwatch
set -u
GW=${1:?usage: test_accounts.sh gridwatch-binary}
T=$(mktemp -d /tmp/gwacct.XXXXXX)
SRV=""
trap '[ -n "$SRV" ] && kill $SRV 2>/dev/null; rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() {
  want=$1; shift
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "exit $got (want $want): $* :: $(head -c 300 "$T/err")"; fi
}
contains() { if grep -q -- "$2" "$1"; then ok; else bad "$1 lacks '$2': $(head -c 300 "$1")"; fi; }
same() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }
q() { sqlite3 "$1" "$2"; }

expect 0 "$GW" accounts --help
contains "$T/out" "usage: gridwatch accounts import DB FILE.csv"
expect 0 "$GW" --help
contains "$T/out" "accounts <verb> DB"
expect 2 "$GW" accounts import
expect 2 "$GW" accounts frobnicate "$T/city.db"

DB=$T/city.db
expect 0 "$GW" gen-city "$DB" --scale 0.01 --seed 9 --no-truth
P=$(q "$DB" "SELECT prefecture FROM grids ORDER BY id LIMIT 1")
C=$(q "$DB" "SELECT county FROM grids ORDER BY id LIMIT 1")
W=$(q "$DB" "SELECT township FROM grids WHERE county = '$C' ORDER BY id LIMIT 1")
V=$(q "$DB" "SELECT village FROM grids WHERE county = '$C' AND township = '$W' ORDER BY id LIMIT 1")
C2=$(q "$DB" "SELECT county FROM grids WHERE county <> '$C' ORDER BY id LIMIT 1")
NV=$(q "$DB" "SELECT count(*) FROM grids WHERE county = '$C' AND township = '$W' AND village = '$V'")
NW=$(q "$DB" "SELECT count(*) FROM grids WHERE county = '$C' AND township = '$W'")
NALL=$(q "$DB" "SELECT count(*) FROM grids")

# a bad file creates nothing: unknown jurisdiction, bad role, a name twice
printf 'name,role,jurisdiction\nzhao,dispatcher,%s/%s\nqian,viewer,%s/no such county\n' "$P" "$C" "$P" >"$T/bad1.csv"
printf 'name,role,jurisdiction\nzhao,dispatcher,%s/%s\nqian,chief,%s\n' "$P" "$C" "$P" >"$T/bad2.csv"
printf 'name,role,jurisdiction\nzhao,dispatcher,%s/%s\nzhao,viewer,%s\n' "$P" "$C" "$P" >"$T/bad3.csv"
expect 3 "$GW" accounts import "$DB" "$T/bad1.csv"
contains "$T/err" "no such county"
contains "$T/err" "nothing was created"
expect 3 "$GW" accounts import "$DB" "$T/bad2.csv"
contains "$T/err" "line 3"
expect 4 "$GW" accounts import "$DB" "$T/bad3.csv"
contains "$T/err" "listed twice"
same "no tokens after bad files" "$(q "$DB" "SELECT count(*) FROM tokens")" 0

# the good file: four levels, quoted names, Chinese headers
cat >"$T/good.csv" <<CSV
账号,角色,辖区
city.chief,admin,$P
"county, desk",dispatcher,$P/$C
township.desk,dispatcher,$P/$C/$W
village.desk,viewer,$P/$C/$W/$V
other.county,viewer,$P/$C2
CSV
expect 0 "$GW" accounts import "$DB" "$T/good.csv" --out "$T/tokens.csv"
contains "$T/err" "5 accounts created"
same "tokens file mode" "$(stat -c %a "$T/tokens.csv")" 600
same "tokens file rows" "$(wc -l <"$T/tokens.csv")" 6
same "tokens stored" "$(q "$DB" "SELECT count(*) FROM tokens WHERE revoked_at IS NULL")" 5
same "village jurisdiction stored" "$(q "$DB" "SELECT jurisdiction FROM tokens WHERE name = 'village.desk'")" "$P/$C/$W/$V"
# importing the same names again is a conflict and changes nothing
expect 4 "$GW" accounts import "$DB" "$T/good.csv" --out "$T/tokens2.csv"
contains "$T/err" "already has an active token"
[ ! -e "$T/tokens2.csv" ] && ok || bad "a refused import left $T/tokens2.csv"
same "still 5" "$(q "$DB" "SELECT count(*) FROM tokens")" 5
# --out must not overwrite
printf 'name,role\nsun,viewer\n' >"$T/one.csv"
expect 1 "$GW" accounts import "$DB" "$T/one.csv" --out "$T/tokens.csv"
same "still 5 after --out refused" "$(q "$DB" "SELECT count(*) FROM tokens")" 5

# list by jurisdiction
expect 0 "$GW" accounts list "$DB" --jurisdiction "$P/$C"
contains "$T/out" "county, desk"
contains "$T/out" "village.desk"
if grep -q "other.county" "$T/out"; then bad "list within $C shows other.county"; else ok; fi
contains "$T/err" "3 accounts"

# the tokens work against a server, each seeing its jurisdiction's grids
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$GW" serve "$DB" --port "$PORT" --quiet --no-wall >"$T/serve.log" 2>&1 &
SRV=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" || [ $i -ge 150 ]; do sleep 0.2; i=$((i + 1)); done
tok() { awk -F, -v n="$1" '{ gsub(/"/, "", $1) } $1 == n { print $NF }' "$T/tokens.csv"; }
matched() { curl -s -H "Authorization: Bearer $(tok "$1")" "http://127.0.0.1:$PORT/collections/grids/items?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["numberMatched"])'; }
same "village account's grids" "$(matched village.desk)" "$NV"
same "township account's grids" "$(matched township.desk)" "$NW"
same "prefecture account's grids" "$(matched city.chief)" "$NALL"

# the audit trail by account: the township desk accepts an incident of its township
I=$(q "$DB" "SELECT i.id FROM incidents i JOIN grids g ON g.id = i.grid AND g.version = (SELECT value FROM meta WHERE key = 'grid_version') WHERE g.county = '$C' AND g.township = '$W' ORDER BY i.id LIMIT 1")
code=$(curl -s -o "$T/acc.json" -w '%{http_code}' -H "Authorization: Bearer $(tok township.desk)" -H 'Content-Type: application/json' -d '{"action":"accept","note":"audit me"}' "http://127.0.0.1:$PORT/incidents/$I/transitions")
same "township desk accepts $I" "$code" 201
expect 0 "$GW" accounts audit "$DB" township.desk
contains "$T/out" "$I"
contains "$T/out" "audit me"
contains "$T/err" "1 transitions by 'township.desk'"
expect 0 "$GW" accounts audit "$DB" village.desk
contains "$T/err" "0 transitions"

# disable
expect 0 "$GW" accounts disable "$DB" village.desk
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(tok village.desk)" "http://127.0.0.1:$PORT/collections/grids/items?limit=1")
same "a disabled account is refused" "$code" 401
expect 3 "$GW" accounts disable "$DB" village.desk
expect 0 "$GW" accounts list "$DB" --all
contains "$T/out" "village.desk"

echo "accounts: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
