#!/bin/sh
# test_copy.sh — `gridwatch copy` between SpatiaLite and PostgreSQL/PostGIS: a demo city with
# two grid versions, an open plan draft, coverage results, tokens (one revoked),
# assignments and the road layer, copied SQLite -> PostgreSQL -> SQLite, SQLite -> SQLite and
# PostgreSQL -> PostgreSQL, must come back the same: every table row for row (ids, fids, change-log seqs and
# the change log's counter included), the SpatiaLite geometry blobs byte for byte, every
# layer's export byte-identical, the R*Tree indexing every row; the export from PostgreSQL
# equal to the export from SQLite.  A non-empty destination is refused (exit 4) and left as it
# was; a copy that fails half-way leaves nothing behind.
# usage: test_copy.sh PATH/TO/gridwatch [SOURCE_DIR]
# With SOURCE_DIR, the tables checked are checked to be every table data/schema/*.sql creates.
# Needs a PostgreSQL server (pg_isready), psql and sqlite3: exit 77 (skipped) without them.
# GW_TEST_STORE (e.g. postgresql://user@host/) names the server, as for the _pg unit tests.
set -u
GW=${1:?usage: test_copy.sh gridwatch-binary}
for t in psql sqlite3 pg_isready; do
  command -v "$t" >/dev/null 2>&1 || { echo "skipped: $t is not installed"; exit 77; }
done
if ! pg_isready -q; then echo "skipped: no PostgreSQL server (pg_isready)"; exit 77; fi
BASE=${GW_TEST_STORE:-postgresql:///}
case $BASE in */) ;; *) BASE=$BASE/ ;; esac
T=$(mktemp -d /tmp/gwcopy.XXXXXX)
P=gwcopy_$$
DBS="${P}_a ${P}_b ${P}_bad"
cleanup() {
  for d in $DBS; do psql -qd "${BASE}postgres" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1; done
  rm -rf "$T"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() {
  want=$1; shift
  "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "exit $got (want $want): $* :: $(head -c 400 "$T/err")"; fi
}
contains() { if grep -q -- "$2" "$1"; then ok; else bad "$1 lacks '$2': $(head -c 300 "$1")"; fi; }
same() { if [ "$2" = "$3" ]; then ok; else bad "$1 differs"; fi; }
# q DB SQL: one query through the sqlite3 shell (an independent reading of the file)
q() { sqlite3 "$1" "$2"; }

A=$T/a.db
PA=${BASE}${P}_a
PB=${BASE}${P}_b

expect 0 "$GW" copy --help
contains "$T/out" "usage: gridwatch copy SRC DST"
expect 2 "$GW" copy "$A"
expect 2 "$GW" copy "$A" "$A"
expect 2 "$GW" copy --frobnicate "$A" "$T/x.db"

# ---- a city with something in every table -------------------------------------------------
expect 0 "$GW" gen-city "$A" --scale 0.02 --seed 5 --no-truth
expect 0 "$GW" token create "$A" --role admin --name ops
expect 0 "$GW" token create "$A" --role viewer --name gone
expect 0 "$GW" token revoke "$A" gone
# a token scoped to a jurisdiction (issue 18): the copy must keep it scoped
JP=$(q "$A" "SELECT prefecture FROM grids ORDER BY id LIMIT 1")
JC=$JP/$(q "$A" "SELECT county FROM grids ORDER BY id LIMIT 1")
JW=$(q "$A" "SELECT township FROM grids WHERE county = '${JC#*/}' ORDER BY id LIMIT 1")
expect 0 "$GW" token create "$A" --role viewer --name scoped --jurisdiction "$JC/$JW"
expect 3 "$GW" token create "$A" --role viewer --jurisdiction "$JC/no such township"
contains "$T/err" "part 3 'no such township' matches no grid"
expect 2 "$GW" token create "$A" --role viewer --jurisdiction "$JC/"
expect 0 "$GW" token list "$A"
contains "$T/out" "$JC/$JW"
expect 0 "$GW" coverage "$A" --format csv
G=$(q "$A" "SELECT id FROM grids ORDER BY id LIMIT 1")
expect 0 "$GW" plan create "$A" first --by tester
expect 0 "$GW" plan edit "$A" 1 "{\"op\":\"attributes\",\"grid\":\"$G\",\"properties\":{\"name\":\"Renamed\",\"population\":1234}}" --by tester
expect 0 "$GW" plan publish "$A" 1 --by tester
expect 0 "$GW" plan create "$A" second --by tester
expect 0 "$GW" plan edit "$A" 2 "{\"op\":\"attributes\",\"grid\":\"$G\",\"properties\":{\"name\":\"Open draft\"}}" --by tester
# assignments (the HTTP dispatch writes them; planted here) and a change log whose counter is
# above its last row (a deleted tail): the copy keeps the counter, so no seq is handed out twice
q "$A" "INSERT INTO assignments (incident, team, assigned_at, assigned_by, released_at, released_by)
        SELECT (SELECT id FROM incidents ORDER BY id LIMIT 1), (SELECT id FROM teams ORDER BY id LIMIT 1),
               '2026-01-02T03:04:05Z', 'disp', '2026-01-02T04:00:00Z', 'disp';
        INSERT INTO assignments (incident, team, assigned_at, assigned_by)
        SELECT (SELECT id FROM incidents ORDER BY id LIMIT 1 OFFSET 1),
               (SELECT id FROM teams ORDER BY id LIMIT 1 OFFSET 1), '2026-01-02T05:04:05Z', 'disp';
        DELETE FROM changelog WHERE seq = (SELECT max(seq) FROM changelog);"
# the incident flow: a walked incident (its row and transitions) and a deadline override
I=$(q "$A" "SELECT id FROM incidents ORDER BY id LIMIT 1")
expect 0 "$GW" incident transition "$A" "$I" accept --as disp
expect 0 "$GW" incident transition "$A" "$I" escalate --note "copy me" --as disp
q "$A" "INSERT INTO flow_deadlines (category, level, action, seconds) VALUES ('theft', 3, 'accept', 600)"
same "two grid versions" "$(q "$A" "SELECT count(DISTINCT version) FROM grids")" 2

TABLES="meta grid_versions grids police_rooms cameras teams incidents audit_log changelog tokens
coverage coverage_run assignments plan_drafts plan_draft_grids plan_jurisdiction incident_flow
incident_transitions flow_deadlines roads"
if [ -n "${2:-}" ]; then
  want=$(sed -n 's/^CREATE TABLE \([a-z_]*\).*/\1/p' "$2"/data/schema/*.sql | sort | tr '\n' ' ')
  same "the tables checked are the schema's ($want)" "$(echo $TABLES | tr ' ' '\n' | sort | tr '\n' ' ')" "$want"
fi
for t in $TABLES; do
  n=$(q "$A" "SELECT count(*) FROM $t")
  if [ "$n" -gt 0 ]; then ok; else bad "the source has no row in $t"; fi
done

# compare_sqlite X Y: every table of two SpatiaLite files row for row (blobs as hex), the change
# log's counter, every layer's spatial index over the same rows, every layer's export
compare_sqlite() {
  for t in $TABLES; do
    s="SELECT * FROM $t ORDER BY 1, 2"
    case $t in
      tokens) s="SELECT id, name, role, hex(hash), created_at, revoked_at, jurisdiction FROM tokens ORDER BY id" ;;
      coverage) s="SELECT grid, seq, grid_m2, covered_m2, ratio, cameras, incidents, seen, incident_share,
                   room_m2, room_reach, blind_m2, blind_parts, hex(blind_spots) FROM coverage ORDER BY grid" ;;
      grids | police_rooms | cameras | teams | incidents) s="SELECT *, hex(geom) FROM $t ORDER BY fid" ;;
      plan_draft_grids | plan_jurisdiction) s="SELECT *, hex(geom) FROM $t ORDER BY 1, 2" ;;
      roads) s="SELECT *, hex(geom) FROM $t ORDER BY fid" ;;
    esac
    same "$2: table $t" "$(q "$1" "$s" | md5sum)" "$(q "$2" "$s" | md5sum)"
  done
  s="SELECT seq FROM sqlite_sequence WHERE name = 'changelog'"
  same "$2: the change log's counter" "$(q "$1" "$s")" "$(q "$2" "$s")"
  for l in grids police_rooms cameras teams incidents; do
    same "$2: idx_${l}_geom" "$(q "$2" "SELECT group_concat(pkid) FROM (SELECT pkid FROM idx_${l}_geom ORDER BY pkid)")" \
      "$(q "$2" "SELECT group_concat(fid) FROM (SELECT fid FROM $l ORDER BY fid)")"
    # each box holds the original's (float32 boxes, rounded outward: within 1e-4 degrees)
    same "$2: idx_${l}_geom boxes" "$(q "$2" "ATTACH '$1' AS o; SELECT count(*) FROM idx_${l}_geom c JOIN o.idx_${l}_geom a
           USING (pkid) WHERE abs(c.xmin - a.xmin) > 1e-4 OR abs(c.xmax - a.xmax) > 1e-4
           OR abs(c.ymin - a.ymin) > 1e-4 OR abs(c.ymax - a.ymax) > 1e-4")" 0
    "$GW" export "$1" $l "$T/x_$l.geojson" >/dev/null 2>&1 && "$GW" export "$2" $l "$T/y_$l.geojson" >/dev/null 2>&1 &&
      cmp -s "$T/x_$l.geojson" "$T/y_$l.geojson" && ok || bad "$2: export of $l differs from $1's"
  done
  "$GW" export "$1" incidents "$T/x.csv" >/dev/null 2>&1 && "$GW" export "$2" incidents "$T/y.csv" >/dev/null 2>&1 &&
    cmp -s "$T/x.csv" "$T/y.csv" && ok || bad "$2: CSV export of incidents differs"
}

# ---- SQLite -> SQLite ----------------------------------------------------------------------
expect 0 "$GW" copy "$A" "$T/s.db"
contains "$T/out" "change log at seq"
compare_sqlite "$A" "$T/s.db"

# ---- SQLite -> PostgreSQL -> SQLite ----------------------------------------------------------
expect 0 "$GW" copy "$A" "$PA"
cp "$T/out" "$T/to_pg.txt"
expect 0 "$GW" copy "$PA" "$T/back.db"
cp "$T/out" "$T/from_pg.txt"
# the rows read from SQLite = those written to, counted on and read back from PostgreSQL
same "rows per table through PostgreSQL" "$(tail -n +2 "$T/to_pg.txt")" "$(tail -n +2 "$T/from_pg.txt")"
contains "$T/to_pg.txt" "grids *$(q "$A" "SELECT count(*) FROM grids")\$"
contains "$T/from_pg.txt" "changelog *$(q "$A" "SELECT count(*) FROM changelog")\$"
compare_sqlite "$A" "$T/back.db"

# ---- PostgreSQL -> PostgreSQL -> SQLite ------------------------------------------------------
expect 0 "$GW" copy "$PA" "$PB"
cp "$T/out" "$T/pg_pg.txt"
same "rows per table PostgreSQL to PostgreSQL" "$(tail -n +2 "$T/to_pg.txt")" "$(tail -n +2 "$T/pg_pg.txt")"
expect 0 "$GW" copy "$PB" "$T/back2.db"
compare_sqlite "$A" "$T/back2.db"

# ---- new rows continue above the copied ids and seqs -----------------------------------------
C=$(q "$A" "SELECT seq FROM sqlite_sequence WHERE name = 'changelog'")
same "PostgreSQL: the next change-log seq" \
  "$(psql -qAtd "$PB" -c "INSERT INTO changelog (at, layer, op) VALUES (now(), 'grids', 'probe') RETURNING seq")" $((C + 1))
for t in grids:fid incidents:fid audit_log:seq tokens:id assignments:id plan_drafts:id; do
  tb=${t%%:*} col=${t#*:}
  same "PostgreSQL: the next $tb.$col" "$(psql -qAtd "$PB" -c "SELECT nextval(pg_get_serial_sequence('$tb', '$col'))")" \
    $(($(q "$A" "SELECT max($col) FROM $tb") + 1))
done
same "SQLite: the next change-log seq" \
  "$(q "$T/back.db" "INSERT INTO changelog (at, layer, op) VALUES ('2026-01-01T00:00:00Z', 'grids', 'probe'); SELECT max(seq) FROM changelog")" $((C + 1))

# ---- the export from PostgreSQL is the export from SQLite ----------------------------------
for l in grids police_rooms cameras teams incidents; do
  if "$GW" export "$PA" $l "$T/p_$l.geojson" >/dev/null 2>"$T/err"; then
    "$GW" export "$A" $l "$T/a_$l.geojson" >/dev/null 2>&1
    cmp -s "$T/a_$l.geojson" "$T/p_$l.geojson" && ok || bad "export of $l from PostgreSQL differs"
  else
    echo "note: export of $l from PostgreSQL failed: $(head -c 200 "$T/err")"
    bad "export of $l from PostgreSQL"
  fi
done

# ---- refusals: a non-empty destination is left as it was -----------------------------------
expect 4 "$GW" copy "$A" "$T/s.db"
contains "$T/err" "is not empty"
same "refused SQLite destination untouched" "$(q "$T/s.db" "SELECT count(*) FROM grids")" "$(q "$A" "SELECT count(*) FROM grids")"
expect 4 "$GW" copy "$T/s.db" "$PA"
contains "$T/err" "is not empty"
expect 0 "$GW" copy "$PA" "$T/again.db"
same "refused PostgreSQL destination untouched" "$(tail -n +2 "$T/out")" "$(tail -n +2 "$T/to_pg.txt")"
expect 1 "$GW" copy "$T/missing.db" "$T/y.db"
if [ ! -e "$T/y.db" ]; then ok; else bad "a copy from a missing source left $T/y.db"; fi

# ---- a copy that fails half-way leaves nothing: a time PostgreSQL cannot read ---------------
cp "$A" "$T/bad.db"
q "$T/bad.db" "UPDATE incidents SET occurred_at = 'not a time' WHERE fid = (SELECT max(fid) FROM incidents)"
expect 2 "$GW" copy "$T/bad.db" "${BASE}${P}_bad"
contains "$T/err" "incidents"
expect 0 "$GW" copy "$A" "${BASE}${P}_bad" # empty again: the failed copy was rolled back
# … and into a new SQLite file, which is then removed: a token hash of 31 bytes, planted with
# the source's CHECK constraints off, is refused by the destination's
cp "$A" "$T/bad2.db"
q "$T/bad2.db" "PRAGMA ignore_check_constraints = 1; UPDATE tokens SET hash = zeroblob(31) WHERE id = 2"
expect 2 "$GW" copy "$T/bad2.db" "$T/new.db"
contains "$T/err" "tokens"
if [ ! -e "$T/new.db" ]; then ok; else bad "a failed copy left $T/new.db behind"; fi

echo "copy: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
