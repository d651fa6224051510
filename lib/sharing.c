/*
 * sharing.c: lib/ratelimit's and lib/ionapi's shared state kept in the store
 * (sharing.h). Adapters only: no policy, no SQL.
 */
#include "sharing.h"

/* mlc_ratelimit_update_fn over mlc_store_shared_update (the two function types
 * of the value's update are the same). */
static mlc_err rl_update(void *shared, const char *name, mlc_ratelimit_apply_fn fn, void *fnud, mlc_error *err)
{
    return mlc_store_shared_update(shared, name, fn, fnud, err);
}

mlc_err mlc_sharing_ratelimit_open(mlc_store *st, const char *system, const char *key_fingerprint, int limit,
                                   int window_ms, mlc_ratelimit **out, mlc_error *err)
{
    return mlc_ratelimit_open_shared(rl_update, st, system, key_fingerprint, limit, window_ms, out, err);
}
