/*
 * backoff.h: exponential backoff with "full jitter" for retrying transient failures
 * (HTTP 429/5xx, timeouts, resets).
 *
 * delay(attempt) is uniform in [0, min(cap_ms, base_ms * 2^attempt)] milliseconds,
 * computed without overflow for any attempt number. The generator is a private
 * seeded PRNG, so the same seed gives the same sequence (tests), and seed 0 asks
 * getrandom() for one.
 *
 * mlc_backoff_sleep() waits out a delay, cut short only by a caller's stop flag.
 *
 * Not here: deciding whether an error is retryable, honouring a server's
 * Retry-After (that is lib/ratelimit's job; callers take the max of both), and
 * any shared state between processes. Not thread-safe: one backoff per thread.
 *
 * Ownership: mlc_backoff_new() returns an object the caller frees with
 * mlc_backoff_free() (NULL-safe). It returns NULL on allocation failure or on
 * invalid arguments (base_ms < 0, cap_ms < 0, max_attempts < 0).
 */
#ifndef MLC_BACKOFF_H
#define MLC_BACKOFF_H

typedef struct mlc_backoff mlc_backoff;

/* seed 0 = random from getrandom(). */
mlc_backoff *mlc_backoff_new(long base_ms, long cap_ms, int max_attempts,
                             unsigned long long seed);
void mlc_backoff_free(mlc_backoff *b);

/* attempt 0,1,2..: uniform random in [0, min(cap, base*2^attempt)] ms, overflow-safe.
 * Negative attempt is treated as 0. */
long mlc_backoff_delay_ms(mlc_backoff *b, int attempt);

/* The max_attempts given to mlc_backoff_new() (the caller's retry bound). */
int mlc_backoff_max_attempts(const mlc_backoff *b);

/* Sleeps ms milliseconds (a signal does not cut it short), in slices of at most
 * 100 ms; returns 1 as soon as stop(ud) is true (stop may be NULL), 0 once the
 * whole time has passed. */
int mlc_backoff_sleep(long ms, int (*stop)(void *ud), void *ud);

#endif
