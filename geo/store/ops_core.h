/* ops_core.h — inside the store room: the core table every engine fills (store.h's functions:
 * close, transactions, meta, counts, extent, clear, bulk insert, cursors, change and audit log).
 * Open is not in the table: gw_store_open picks the engine from the location it is given. */
#ifndef GW_STORE_OPS_CORE_H
#define GW_STORE_OPS_CORE_H

#include "gridwatch/store.h"

struct gw_store_core_ops {
    void (*close)(gw_store *s);
    gw_status (*begin)(gw_store *s);
    gw_status (*commit)(gw_store *s);
    void (*rollback)(gw_store *s);
    gw_status (*read_begin)(gw_store *s);
    void (*read_end)(gw_store *s);
    int (*in_transaction)(gw_store *s);
    gw_status (*meta_get)(gw_store *s, const char *key, char *buf, size_t cap);
    gw_status (*meta_set)(gw_store *s, const char *key, const char *value);
    gw_status (*count)(gw_store *s, gw_layer layer, int64_t *n);
    gw_status (*extent)(gw_store *s, gw_layer layer, gw_bbox *out);
    gw_status (*clear)(gw_store *s, gw_layer layer);
    gw_status (*inserter_create)(gw_store *s, gw_layer layer, gw_inserter **out);
    gw_status (*inserter_add)(gw_inserter *ins, const gw_feature *f);
    void (*inserter_destroy)(gw_inserter *ins);
    gw_status (*cursor_create)(gw_store *s, gw_layer layer, const char *from_id, const char *to_id,
                               gw_cursor **out);
    gw_status (*nth_id)(gw_store *s, gw_layer layer, int64_t k, char *buf, size_t cap);
    gw_status (*cursor_next)(gw_cursor *cur, gw_row *row);
    void (*cursor_destroy)(gw_cursor *cur);
    gw_status (*log_change)(gw_store *s, gw_layer layer, const char *op, const char *feature_id,
                            const gw_bbox *bbox, int64_t *seq);
    gw_status (*last_seq)(gw_store *s, int64_t *seq);
    gw_status (*audit)(gw_store *s, const char *who, const char *action, const char *detail);
};

#endif
