/*
 * sharing.h: what several hosts running one profile share through its state
 * database (issue 21): the ShipStation request budget and the ION token cache.
 * It binds lib/ratelimit and lib/ionapi, which know nothing of the store, to the
 * store's shared values and named locks (store.h, "sharing between processes").
 *
 * Used only when the state is shared (mlc_store_is_shared): on a local SQLite
 * state the budget stays in its flock'd file (shared by every profile of the
 * machine that uses the same key, and no write lock on the ledger's database
 * per request) and the token in the vault, as before.
 *
 * Not here: the budget's rules (lib/ratelimit), the token protocol and its
 * encryption (lib/ionapi), SQL (lib/store).
 * Ownership: the store is borrowed and must outlive the limiter / the ionapi
 * object it is attached to.
 */
#ifndef MLC_SHARING_H
#define MLC_SHARING_H

#include "error.h"
#include "ionapi.h"
#include "ratelimit.h"
#include "store.h"

/* A limiter whose budget is the store's shared value "ratelimit:<system>-<fp>"
 * (arguments as mlc_ratelimit_open). */
mlc_err mlc_sharing_ratelimit_open(mlc_store *st, const char *system, const char *key_fingerprint, int limit,
                                   int window_ms, mlc_ratelimit **out, mlc_error *err);

/* Caches ion's token in the store (mlc_ionapi_set_cache): the sealed value
 * "ion-token:<entry>:<fp>" and the login lock "ion-login:<fp>", waited for by
 * polling the store's lock (the lock call never blocks past its timeout). */
void mlc_sharing_ionapi_cache(mlc_ionapi *ion, mlc_store *st);

/* The store to share through when the state is shared between hosts, else NULL
 * (also when it cannot be opened: the caller then keeps its local files). */
struct mlc_ctx;
mlc_store *mlc_sharing_store(struct mlc_ctx *ctx);

#endif
