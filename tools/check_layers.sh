#!/bin/sh
# check_layers.sh [SOURCE_DIR] — the rules the compiler cannot see (cmake/rooms.cmake hides the
# gridwatch headers above a room; these are outside libraries' headers and SQL text):
#   - sqlite3.h / spatialite.h / libpq-fe.h, sqlite3_* / PQ* calls and SQL statements only
#     inside geo/store/;
#   - microhttpd.h only inside api/;
#   - nothing in geo/ or tiles/ includes an api/ header by a relative path.
# Prints each offence as file:line and exits 1 when there is one.  Run by the build (target
# check_layers) and by the 'layering' test.
set -u
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src" || exit 2
bad=0
report() { # description, grep output
  [ -n "$2" ] || return 0
  echo "check_layers: $1:"; echo "$2" | sed 's/^/  /'
  bad=1
}
files() { find "$@" -name '*.[ch]' 2>/dev/null | grep -v '^geo/store/' | sort; }
code=$(files geo tiles api data)
[ -n "$code" ] || exit 0
report "SQLite or libpq outside the store room (geo/store)" \
  "$(grep -nE '#include *<(sqlite3|spatialite|libpq-fe)\.h>|sqlite3_[a-z_]+ *\(|\bPQ[a-z][A-Za-z]+ *\(|st_sqlite_db *\(' $code)"
report "SQL text outside the store room (geo/store)" \
  "$(grep -nE '"[^"]*\b(SELECT [^"]*FROM|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|CREATE (TABLE|INDEX))\b' $code)"
report "libmicrohttpd outside api/" "$(grep -nE '#include *<microhttpd\.h>' $(files geo tiles data))"
report "an api/ header reached by a relative path from geo/ or tiles/" \
  "$(grep -nE '#include *"\.\./' $(files geo tiles data))"
exit $bad
