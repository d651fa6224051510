/*
 * sharing.c: lib/ratelimit's and lib/ionapi's shared state kept in the store
 * (sharing.h). Adapters only: no policy, no SQL.
 */
#include "sharing.h"
#include "ctx.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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

mlc_store *mlc_sharing_store(mlc_ctx *ctx)
{
    mlc_store *st = NULL;
    mlc_error e = {0};
    if (!ctx || mlc_ctx_store(ctx, &st, &e) != MLC_OK) {
        if (ctx)
            mlc_log_debug(mlc_ctx_log(ctx), "state not opened (nothing shared through it): %s", e.msg);
        return NULL;
    }
    return mlc_store_is_shared(st) ? st : NULL;
}

/* ---- the ION token cache ---- */

static mlc_err ion_lock(void *ud, const char *name, int timeout_s, mlc_error *err)
{
    struct timespec t0, now, pause = {0, 100 * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int got = 0;
        mlc_err rc = mlc_store_lock(ud, name, 0, &got, err);
        if (rc || got)
            return rc;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= timeout_s)
            return mlc_error_set(err, MLC_ERR_BUSY,
                                 "another mlc has been logging in to ION for %d s (lock %s): logging in anyway",
                                 timeout_s, name);
        nanosleep(&pause, NULL);
    }
}

static void ion_unlock(void *ud, const char *name) { mlc_store_unlock(ud, name); }

static mlc_err ion_load(void *ud, const char *name, unsigned char **data, size_t *len, mlc_error *err)
{
    return mlc_store_shared_get(ud, name, data, len, err);
}

typedef struct put_args {
    const unsigned char *data;
    size_t len;
} put_args;

static int put_value(void *fnud, const unsigned char *old, size_t old_len, unsigned char **newv, size_t *new_len)
{
    const put_args *a = fnud;
    (void)old;
    (void)old_len;
    if (!(*newv = malloc(a->len ? a->len : 1)))
        return -1;
    if (a->len)
        memcpy(*newv, a->data, a->len);
    *new_len = a->len;
    return 1;
}

static mlc_err ion_save(void *ud, const char *name, const unsigned char *data, size_t len, mlc_error *err)
{
    put_args a = {data, data ? len : 0};
    return mlc_store_shared_update(ud, name, put_value, &a, err);
}

void mlc_sharing_ionapi_cache(mlc_ionapi *ion, mlc_store *st)
{
    mlc_ionapi_cache c = {.ud = st, .lock = ion_lock, .unlock = ion_unlock, .load = ion_load, .save = ion_save};
    mlc_ionapi_set_cache(ion, st ? &c : NULL);
}
