#!/bin/sh
# start.sh — make the local PostgreSQL/PostGIS server ready for the `_pg` test entries
# (GW_TEST_STORE=postgresql:///, libpq's default Unix socket): start Debian's cluster when it
# is down, give the current user a superuser role (peer authentication), and check that PostGIS
# can be created.  Run by .ci/test before the suites; harmless when everything is up already.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
me=$(id -un)
if ! pg_isready -q 2>/dev/null; then
  ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h 2>/dev/null | grep -q "^$ver  *main "; then
    $SUDO pg_createcluster "$ver" main >/dev/null
  fi
  $SUDO pg_ctlcluster "$ver" main start
  for _ in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q && break; sleep 1; done
fi
pg_isready -q || { echo "tests/pg/start.sh: PostgreSQL did not start" >&2; exit 1; }
as_pg() { if [ "$me" = postgres ]; then sh -c "$1"; else $SUDO su postgres -c "$1"; fi; }
as_pg "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = '$me'\"" | grep -q 1 ||
  as_pg "createuser -s '$me'"
psql -d postgres -qtAc "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'" | grep -q 1 ||
  { echo "tests/pg/start.sh: PostGIS is not installed (Debian: postgresql-15-postgis-3)" >&2; exit 1; }
echo "PostgreSQL ready: $(psql -d postgres -qtAc 'SHOW server_version'), PostGIS available, role $me"
