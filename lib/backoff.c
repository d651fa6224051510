/*
 * backoff.c: exponential backoff with full jitter (see backoff.h).
 *
 * The generator is splitmix64: tiny, full 2^64 period, good enough for jitter and
 * reproducible from a seed. It is not for anything security-related.
 * Not here: retry policy; this computes delays and waits them out.
 */
#include "backoff.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct mlc_backoff {
    long base_ms;
    long cap_ms;
    int max_attempts;
    uint64_t state;   /* splitmix64 state */
};

static uint64_t next_u64(mlc_backoff *b)
{
    uint64_t z = (b->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias; n > 0. */
static uint64_t uniform_below(mlc_backoff *b, uint64_t n)
{
    uint64_t threshold = (0 - n) % n;   /* 2^64 mod n */
    for (;;) {
        uint64_t x = next_u64(b);
        if (x >= threshold)
            return x % n;
    }
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) == (ssize_t)sizeof s && s != 0)
        return s;
    /* getrandom unavailable: weak but non-constant fallback, jitter only. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ ((uint64_t)getpid() << 16);
    return s ? s : UINT64_C(0x2545F4914F6CDD1D);
}

mlc_backoff *mlc_backoff_new(long base_ms, long cap_ms, int max_attempts,
                             unsigned long long seed)
{
    if (base_ms < 0 || cap_ms < 0 || max_attempts < 0)
        return NULL;
    mlc_backoff *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->base_ms = base_ms;
    b->cap_ms = cap_ms;
    b->max_attempts = max_attempts;
    b->state = seed ? (uint64_t)seed : random_seed();
    return b;
}

void mlc_backoff_free(mlc_backoff *b)
{
    free(b);
}

/* min(cap, base * 2^attempt) without overflow. */
static long delay_bound(const mlc_backoff *b, int attempt)
{
    if (attempt < 0)
        attempt = 0;
    long base = b->base_ms, cap = b->cap_ms;
    if (base == 0)
        return 0;
    if (base >= cap)
        return cap;
    /* base < cap here, so base << attempt <= cap iff base <= cap >> attempt. */
    if (attempt >= (int)(sizeof(long) * CHAR_BIT - 1))
        return cap;
    if (base > (cap >> attempt))
        return cap;
    return base << attempt;
}

long mlc_backoff_delay_ms(mlc_backoff *b, int attempt)
{
    if (!b)
        return 0;
    long bound = delay_bound(b, attempt);
    if (bound <= 0)
        return 0;
    return (long)uniform_below(b, (uint64_t)bound + 1);
}

int mlc_backoff_max_attempts(const mlc_backoff *b)
{
    return b ? b->max_attempts : 0;
}

int mlc_backoff_sleep(long ms, int (*stop)(void *ud), void *ud)
{
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &now);
    end.tv_sec = now.tv_sec + ms / 1000;
    end.tv_nsec = now.tv_nsec + (ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    for (;;) {
        if (stop && stop(ud))
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = (long long)(end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000L;
        if (left <= 0)
            return 0;
        if (left > 100)
            left = 100;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            if (stop && stop(ud))
                return 1;
    }
}
