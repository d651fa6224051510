/*
 * ratelimit.h: a client-side request budget per (system, key) shared by ALL mlc
 * processes on the machine, so that N concurrent `mlc` runs together stay under
 * the server's limit (ShipStation V1 40/min fixed window, V2 200/min, ION 429s).
 *
 * The budget lives in a small state file, <state_dir>/ratelimit/<system>-<fp>.state
 * (mode 0600, directory 0700), guarded by flock(). It holds the current window's
 * start and used count, what the server last reported (remaining, reset) and a
 * "blocked until" time set by a 429 Retry-After or by X-Rate-Limit-Remaining: 0
 * with X-Rate-Limit-Reset. Timestamps are CLOCK_REALTIME milliseconds, because
 * the processes that share the file share only the wall clock. A corrupt or
 * truncated state file is reset, never fatal.
 *
 * Where several hosts share the budget, it lives instead in a shared value that
 * the caller's update function changes atomically (mlc_ratelimit_open_shared,
 * below); the rules are the same.
 *
 * Not here: HTTP, retries and backoff (lib/backoff), the API key itself (the
 * caller passes a fingerprint, e.g. a hash prefix; the key is never stored),
 * printing. An mlc_ratelimit is not thread-safe: one per thread.
 *
 * Each process (or thread) opens its own limiter: do not use one across fork(),
 * since the flock() would then be shared. All users of one (system, key) should
 * pass the same limit and window.
 *
 * Ownership: mlc_ratelimit_open() stores a new object in *out which the caller
 * releases with mlc_ratelimit_close() (NULL-safe). Strings passed in are copied.
 */
#ifndef MLC_RATELIMIT_H
#define MLC_RATELIMIT_H

#include "error.h"

#include <stddef.h>

typedef struct mlc_ratelimit mlc_ratelimit;

/* system: short name such as "shipstation-v1", "shipstation-v2", "ion"
 * ([A-Za-z0-9._-] only); key_fingerprint: likewise, never the key itself.
 * limit > 0 requests per window_ms > 0 milliseconds (at most 7 days). Creates state_dir/ratelimit if
 * needed. Errors: MLC_ERR_USAGE (bad arguments), MLC_ERR_IO, MLC_ERR_NOMEM. */
mlc_err mlc_ratelimit_open(const char *state_dir, const char *system,
                           const char *key_fingerprint, int limit, int window_ms,
                           mlc_ratelimit **out, mlc_error *err);

/* Blocks (sleeps, never spins) until a request slot is free, then takes it.
 * Call once before each request. Errors: MLC_ERR_IO (state file unusable). */
mlc_err mlc_ratelimit_acquire(mlc_ratelimit *rl, mlc_error *err);

/* Reconciles the shared budget with a response. Header values are raw strings
 * or NULL: limit = X-Rate-Limit-Limit, remaining = X-Rate-Limit-Remaining,
 * reset = X-Rate-Limit-Reset (seconds until the window resets), retry_after =
 * Retry-After (delta seconds or HTTP-date; also honoured on 503). A 429 blocks
 * every process until Retry-After, else until X-Rate-Limit-Reset, else for one
 * window (at most 60 s). Remaining 0 with a Reset blocks every process until the
 * reset. Fractional seconds are accepted (scaled clocks in tests). Call it after
 * every attempt, with http_status 0 when no response came: until then the request
 * counts as in flight (made now, see ratelimit.c). A next acquire on the same
 * limiter also ends it. Never fails; bad values are ignored. */
void mlc_ratelimit_observe(mlc_ratelimit *rl, int http_status, const char *limit,
                           const char *remaining, const char *reset,
                           const char *retry_after);

/* Requests still available in the current window (0 while blocked), for `mlc ping`.
 * Returns -1 if the state file cannot be read. */
int mlc_ratelimit_remaining(mlc_ratelimit *rl);

/* Optional safety margin (default 0, 0): keep reserve_requests of the limit unused
 * and add extra_ms to the window and to every wait the server asks for (Reset,
 * Retry-After), e.g. for clock skew, latency or whole-second rounding.
 * Returns MLC_ERR_USAGE on negative values. */
mlc_err mlc_ratelimit_set_margin(mlc_ratelimit *rl, int reserve_requests, long extra_ms);

/* Optional: called before each sleep of mlc_ratelimit_acquire() with how long it
 * will wait (e.g. to show "waiting 12 s for ShipStation's rate window" on a
 * terminal through lib/log's progress). fn NULL removes it. */
typedef void (*mlc_ratelimit_wait_fn)(void *ud, long wait_ms);
void mlc_ratelimit_on_wait(mlc_ratelimit *rl, mlc_ratelimit_wait_fn fn, void *ud);

/* ---- a budget kept elsewhere than the state file ----
 * When several hosts share one budget, the file cannot be shared: the budget is
 * then a small value (the same checksummed text as the file) that `update`
 * reads, changes and writes in one atomic step for every process on every host,
 * e.g. mlc_store_shared_update on a state database they share (lib/sharing).
 * update(shared, name, fn, fnud, err) calls fn(fnud, old, old_len, &newv,
 * &new_len) on the value called `name` (old NULL if none) and writes *newv
 * (malloc'd, taken over) when fn returns 1, keeps the value when it returns 0,
 * and fails when it returns -1; fn may be called more than once. The limiter
 * never sleeps inside update. Its value is named "ratelimit:<system>-<fp>". */
typedef int (*mlc_ratelimit_apply_fn)(void *fnud, const unsigned char *old, size_t old_len, unsigned char **newv,
                                      size_t *new_len);
typedef mlc_err (*mlc_ratelimit_update_fn)(void *shared, const char *name, mlc_ratelimit_apply_fn fn, void *fnud,
                                           mlc_error *err);
#define MLC_RATELIMIT_SHARED_MAX_LIMIT 2000 /* requests per window a shared value holds */
/* As mlc_ratelimit_open, with the budget in the value update keeps; shared is
 * borrowed and must outlive the limiter. limit at most MLC_RATELIMIT_SHARED_MAX_LIMIT. */
mlc_err mlc_ratelimit_open_shared(mlc_ratelimit_update_fn update, void *shared, const char *system,
                                  const char *key_fingerprint, int limit, int window_ms, mlc_ratelimit **out,
                                  mlc_error *err);

void mlc_ratelimit_close(mlc_ratelimit *rl);

#endif
