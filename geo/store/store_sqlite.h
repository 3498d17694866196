/* store_sqlite.h — the SQLite store's raw connection, for tests only.
 *
 * Tests that check what is on disk (a row the store wrote, a PRAGMA) or plant a state no public
 * call can make read the connection directly.  The product never includes this header: outside
 * geo/store nothing knows the engine (tools/check_layers.sh). */
#ifndef GRIDWATCH_STORE_SQLITE_H
#define GRIDWATCH_STORE_SQLITE_H

#include <sqlite3.h>
#include "gridwatch/store.h"

/* The connection of a SQLite store (borrowed); NULL for NULL or another engine. */
sqlite3 *st_sqlite_db(gw_store *store);
/* Checkpoints a positions writer's checkpointer has run (0 for any other store). */
long st_sqlite_checkpoints(gw_store *store);

#endif
