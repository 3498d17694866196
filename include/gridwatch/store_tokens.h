/* store_tokens.h — API tokens at rest: only a hash of each token is stored, with its role, an
 * optional name, an optional jurisdiction path (issue 18: "County/Township", NULL = unscoped)
 * and its creation and revocation times (decision 0003).  The token itself, its
 * hashing and what a role may do belong to the service (api/service/auth.c). */
#ifndef GRIDWATCH_STORE_TOKENS_H
#define GRIDWATCH_STORE_TOKENS_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One stored token as listed (strings borrowed for the callback; name and jurisdiction NULL
 * when none, revoked_at NULL while active). */
typedef struct gw_store_token {
    int64_t id;
    const char *name, *role, *created_at, *revoked_at, *jurisdiction;
} gw_store_token;
typedef int (*gw_store_token_fn)(void *user, const gw_store_token *t);

/* Store a new token's hash (inside the caller's transaction) with its jurisdiction path (NULL
 * = unscoped); *id receives its id. */
gw_status gw_store_tokens_insert(gw_store *s, const char *name, const char *role,
                                 const char *jurisdiction, const unsigned char *hash,
                                 size_t hash_len, const char *created_at, int64_t *id);
/* The active token with this hash: its role into role[rcap], its name into name[ncap] (""
 * when unnamed; name may be NULL) and its jurisdiction path into jur[jcap] ("" when unscoped;
 * jur may be NULL).  GW_ERR_NOT_FOUND (and no message) when none is active. */
gw_status gw_store_tokens_find(gw_store *s, const unsigned char *hash, size_t hash_len, char *role,
                               size_t rcap, char *name, size_t ncap, char *jur, size_t jcap);
/* Revoke at `at` the token with id `id_or_name` (when by_id and such an id exists) or else
 * every active token of that name (inside the caller's transaction); *n receives how many. */
gw_status gw_store_tokens_revoke(gw_store *s, const char *id_or_name, int by_id, const char *at,
                                 int *n);
/* Every token in id order, to fn. */
gw_status gw_store_tokens_list(gw_store *s, gw_store_token_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
