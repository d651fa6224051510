/*
 * ratelimit.c: the cross-process request budget of ratelimit.h.
 *
 * How the budget is kept (the assumptions, since no server documents its window):
 *
 *  - Local log, the primary rule. The state file holds the time of every request
 *    taken in the last window (one entry per acquire). A new request is allowed
 *    only if fewer than `limit` entries lie in (now - window, now]: a sliding
 *    window log. This guarantees that NO interval of window_ms contains more
 *    than `limit` of our requests, so whatever the server's fixed window is
 *    aligned to (first request, minute boundary, per key...), it never sees more
 *    than `limit` from us, and we still get the full limit per window in steady
 *    state (a burst of `limit`, then the next slot exactly one window after the
 *    oldest). Knowing where the server's window starts is therefore not needed
 *    for safety; it is used only to reconcile (below).
 *  - In-flight latency. An entry starts at acquire time and is moved to the time
 *    the response arrived when mlc_ratelimit_observe() is called: the server
 *    counted the request somewhere in between, so measuring the window from the
 *    response keeps a slow request and a fast successor one full window apart
 *    at the server too. Until then the entry is in flight (its tag has the high
 *    bit set) and counts as made NOW: a request that waited longer than a window
 *    between acquire and send (a starved process, a slow connect) may reach the
 *    server at any moment, so it never ages out of the window while it is out.
 *    An in-flight entry whose process died is never observed; after
 *    RL_INFLIGHT_MAX_MS (longer than any HTTP deadline mlc sets) it counts from
 *    its acquire time again. The slot it holds is waited for by polling
 *    (RL_INFLIGHT_POLL_MS), since its end is not known in advance.
 *  - Server reconciliation. X-Rate-Limit-Limit lowers our limit if the server's
 *    is lower. X-Rate-Limit-Remaining/-Reset (V1: seconds until the server's
 *    fixed window resets) give the server's remaining count in ITS window; we
 *    keep min(ours, server's) within that window and count our own acquires
 *    down from it, so requests made with the same key by other integrations are
 *    respected. Remaining 0 blocks every process until the reset.
 *  - 429 (and 503) with Retry-After block every process until then; a 429
 *    without any timing header blocks for one window (at most 60 s), after which
 *    the caller's backoff takes over.
 *  - Safety margin (mlc_ratelimit_set_margin): reserve some requests and/or add
 *    milliseconds to the window and to every server-given wait (Reset,
 *    Retry-After); 0 by default, since the log above is exact.
 *  - Sleeping on CLOCK_REALTIME to an absolute time means a wall-clock step
 *    backwards during a wait lengthens that wait by the step; entries dated in
 *    the future (beyond a stamp rounded up, below) are clamped to it when next
 *    read.
 *
 * All timestamps are CLOCK_REALTIME milliseconds (processes share only the wall
 * clock), and the two roundings are kept apart: `now` is the clock rounded DOWN
 * (so "a window has passed since X" is never said early), while the stamp of
 * something that has happened by now (an answer; the server's Retry-After and
 * Reset count from it) is now + 1 ms, rounded UP. The server counted the request
 * before the answer was read, on loopback often in the same millisecond, so a
 * stamp of `now` could be up to 1 ms before the server's count, and the next
 * request could reach the server a fraction of a millisecond less than a window
 * after it (seen at mlc-sim: 61 requests within 2999.78 ms, and a 429 when one
 * of its fixed windows began with the first of them). Sleeps are
 * clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME) to the exact
 * instant a slot frees, then the state is re-read (other processes compete).
 * Entries or blocks implausibly far in the future (clock stepped back, corrupt
 * values) are clamped. The file is a small checksummed text file; anything that
 * does not parse or verify is treated as empty state and rewritten.
 *
 * Not here: HTTP, retries, the API key (only its fingerprint names the file).
 */
#include "ratelimit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RL_MAGIC "mlc-ratelimit 1\n"
#define RL_MAX_ENTRIES 100000          /* hard bound on the file size */
#define RL_MAX_FILE (RL_MAX_ENTRIES * 40 + 4096)
#define RL_MAX_BLOCK_MS (24LL * 3600 * 1000) /* no block lasts longer than a day */
#define RL_NO_TIMING_BLOCK_MS 60000LL  /* 429 without Retry-After/Reset: at most this */
#define RL_INFLIGHT_BIT 0x80000000u     /* tag of an entry whose response is not in yet */
#define RL_INFLIGHT_MAX_MS 120000LL     /* an unobserved entry counts as in flight this long */
#define RL_INFLIGHT_POLL_MS 20LL        /* re-read the state this often while one holds the slot */
#define RL_TICK_MS 1LL                  /* the clock's step: now is rounded down to it */

typedef struct rl_entry {
    int64_t ts;     /* ms, CLOCK_REALTIME */
    uint32_t tag;   /* identifies the acquire, so observe can move it; RL_INFLIGHT_BIT
                     * while the response is not in; 0 once observed */
    int64_t eff;    /* when it counts (not stored): ts, or now while in flight */
} rl_entry;

typedef struct rl_state {
    int64_t blocked_until;  /* ms; 0 = not blocked */
    int srv_limit;          /* X-Rate-Limit-Limit; 0 = unknown */
    int srv_remaining;      /* remaining in the server's window; -1 = unknown */
    int64_t srv_reset_at;   /* ms when the server's window ends; 0 = unknown */
    size_t n, cap;
    rl_entry *e;
} rl_state;

struct mlc_ratelimit {
    int fd;                          /* the state file (-1 with a shared value) */
    char *path;
    mlc_ratelimit_update_fn update;  /* the shared value instead, when set */
    void *shared;
    char name[160];                  /* the shared value's name */
    int limit;
    int64_t window_ms;
    int margin_requests;
    int64_t margin_ms;
    uint64_t rng;
    uint32_t pending_tag;
    int have_pending;
    mlc_ratelimit_wait_fn on_wait;
    void *on_wait_ud;
};

void mlc_ratelimit_on_wait(mlc_ratelimit *rl, mlc_ratelimit_wait_fn fn, void *ud)
{
    rl->on_wait = fn;
    rl->on_wait_ud = ud;
}

/* ---- time -------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps until CLOCK_REALTIME >= at_ms (never spins; EINTR resumes). */
static void sleep_until_ms(int64_t at_ms)
{
    struct timespec ts = { .tv_sec = (time_t)(at_ms / 1000),
                           .tv_nsec = (long)(at_ms % 1000) * 1000000L };
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* ---- small helpers ----------------------------------------------------- */

static uint32_t next_tag(mlc_ratelimit *rl)
{
    uint64_t z = (rl->rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    uint32_t t = (uint32_t)(z ^ (z >> 32));
    return t ? t : 1;
}

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

static int name_ok(const char *s)
{
    if (!s || !*s || s[0] == '.' || strlen(s) > 64)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int64_t imax64(int64_t a, int64_t b) { return a > b ? a : b; }

static int64_t window_eff(const mlc_ratelimit *rl)
{
    return rl->window_ms + rl->margin_ms;
}

static int limit_eff(const mlc_ratelimit *rl, const rl_state *st)
{
    int l = rl->limit;
    if (st->srv_limit > 0 && st->srv_limit < l)
        l = st->srv_limit;
    l -= rl->margin_requests;
    return l < 1 ? 1 : l;
}

static int srv_known(const rl_state *st, int64_t now)
{
    return st->srv_remaining >= 0 && st->srv_reset_at > now;
}

/* ---- state file -------------------------------------------------------- */

static void state_clear(rl_state *st)
{
    st->blocked_until = 0;
    st->srv_limit = 0;
    st->srv_remaining = -1;
    st->srv_reset_at = 0;
    st->n = 0;
}

static int state_push(rl_state *st, int64_t ts, uint32_t tag)
{
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 64;
        rl_entry *ne = realloc(st->e, nc * sizeof *ne);
        if (!ne)
            return -1;
        st->e = ne;
        st->cap = nc;
    }
    st->e[st->n].ts = ts;
    st->e[st->n].tag = tag;
    st->e[st->n].eff = ts;
    st->n++;
    return 0;
}

/* Parses one signed decimal integer at *p followed by sep; advances *p. */
static int parse_i64(const char **p, const char *end, char sep, int64_t *out)
{
    const char *s = *p;
    int neg = 0;
    if (s < end && *s == '-') {
        neg = 1;
        s++;
    }
    if (s >= end || *s < '0' || *s > '9')
        return -1;
    int64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
        s++;
    }
    if (s >= end || *s != sep)
        return -1;
    *out = neg ? -v : v;
    *p = s + 1;
    return 0;
}

static int parse_hex32(const char **p, const char *end, char sep, uint32_t *out)
{
    const char *s = *p;
    uint32_t v = 0;
    int digits = 0;
    while (s < end && digits < 8) {
        char c = *s;
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else break;
        v = (v << 4) | (uint32_t)d;
        digits++;
        s++;
    }
    if (!digits || s >= end || *s != sep)
        return -1;
    *out = v;
    *p = s + 1;
    return 0;
}

static int expect(const char **p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - *p) < n || memcmp(*p, word, n) != 0)
        return -1;
    *p += n;
    return 0;
}

/*
 * Format (text, every line '\n'-terminated, checksum over all bytes before "sum"):
 *   mlc-ratelimit 1
 *   blocked_until <ms>
 *   server <limit> <remaining> <reset_at_ms>
 *   entries <n>
 *   <ts_ms> <tag hex>        (n lines)
 *   sum <fnv1a32 hex>
 */
static int state_parse(rl_state *st, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    int64_t blocked, slimit, srem, sreset, n;
    state_clear(st);
    if (expect(&p, end, RL_MAGIC) ||
        expect(&p, end, "blocked_until ") || parse_i64(&p, end, '\n', &blocked) ||
        expect(&p, end, "server ") || parse_i64(&p, end, ' ', &slimit) ||
        parse_i64(&p, end, ' ', &srem) || parse_i64(&p, end, '\n', &sreset) ||
        expect(&p, end, "entries ") || parse_i64(&p, end, '\n', &n))
        return -1;
    if (n < 0 || n > RL_MAX_ENTRIES || slimit < 0 || slimit > INT32_MAX ||
        srem < -1 || srem > INT32_MAX || blocked < 0 || sreset < 0)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t ts;
        uint32_t tag;
        if (parse_i64(&p, end, ' ', &ts) || parse_hex32(&p, end, '\n', &tag) || ts < 0)
            return -1;
        if (state_push(st, ts, tag))
            return -1;
    }
    size_t body = (size_t)(p - buf);
    uint32_t sum;
    if (expect(&p, end, "sum ") || parse_hex32(&p, end, '\n', &sum) || p != end)
        return -1;
    if (sum != fnv1a(buf, body))
        return -1;
    st->blocked_until = blocked;
    st->srv_limit = (int)slimit;
    st->srv_remaining = (int)srem;
    st->srv_reset_at = sreset;
    return 0;
}

/* Reads the state; corrupt, truncated or empty content yields empty state.
 * Sets *dirty when the file must be rewritten. Returns -1 on I/O error. */
static int state_load(mlc_ratelimit *rl, rl_state *st, int *dirty, mlc_error *err)
{
    struct stat sb;
    state_clear(st);
    if (fstat(rl->fd, &sb) != 0) {
        mlc_error_set(err, MLC_ERR_IO, "ratelimit: stat %s: %s", rl->path, strerror(errno));
        return -1;
    }
    if (sb.st_size == 0) {
        *dirty = 1;
        return 0;
    }
    if (sb.st_size > RL_MAX_FILE) {
        *dirty = 1;   /* not ours or corrupt: start over */
        return 0;
    }
    size_t len = (size_t)sb.st_size;
    char *buf = malloc(len + 1);
    if (!buf) {
        mlc_error_set(err, MLC_ERR_NOMEM, "ratelimit: out of memory");
        return -1;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(rl->fd, buf + got, len - got, (off_t)got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mlc_error_set(err, MLC_ERR_IO, "ratelimit: read %s: %s", rl->path, strerror(errno));
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (state_parse(st, buf, got) != 0) {
        state_clear(st);
        *dirty = 1;
    }
    free(buf);
    return 0;
}

static int cmp_ts_desc(const void *a, const void *b)
{
    const rl_entry *x = a, *y = b;
    return (x->eff < y->eff) ? 1 : (x->eff > y->eff) ? -1 : 0;
}

/* Drops expired entries, clamps the future (clock stepped back / corruption),
 * forgets stale server info, sorts newest first. */
static void state_normalize(const mlc_ratelimit *rl, rl_state *st, int64_t now, int *dirty)
{
    int64_t w = window_eff(rl);
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        rl_entry e = st->e[i];
        /* from the future (beyond a stamp rounded up in this millisecond): count it
         * as made now */
        if (e.ts > now + RL_TICK_MS) {
            e.ts = now + RL_TICK_MS;
            *dirty = 1;
        }
        e.eff = (e.tag & RL_INFLIGHT_BIT) && now - e.ts < RL_INFLIGHT_MAX_MS ? now : e.ts;
        if (e.eff <= now - w) {
            *dirty = 1;
            continue;
        }
        st->e[k++] = e;
    }
    st->n = k;
    if (st->n > 1)
        qsort(st->e, st->n, sizeof *st->e, cmp_ts_desc);
    if (st->blocked_until && st->blocked_until <= now) {
        st->blocked_until = 0;
        *dirty = 1;
    }
    if (st->blocked_until > now + RL_MAX_BLOCK_MS) {
        st->blocked_until = now + RL_MAX_BLOCK_MS;
        *dirty = 1;
    }
    if (st->srv_reset_at && (st->srv_reset_at <= now ||
                             st->srv_reset_at > now + w + RL_MAX_BLOCK_MS)) {
        st->srv_reset_at = 0;
        st->srv_remaining = -1;
        *dirty = 1;
    }
}

/* The state as text (format above): *out malloc'd, *len its length. */
static int state_format(const rl_state *st, char **out, size_t *len)
{
    size_t cap = 256 + st->n * 32;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    int n = snprintf(buf, cap, RL_MAGIC "blocked_until %" PRId64 "\nserver %d %d %" PRId64
                     "\nentries %zu\n", st->blocked_until, st->srv_limit,
                     st->srv_remaining, st->srv_reset_at, st->n);
    size_t off = (size_t)n;
    for (size_t i = 0; i < st->n; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%" PRId64 " %" PRIx32 "\n",
                                st->e[i].ts, st->e[i].tag);
    off += (size_t)snprintf(buf + off, cap - off, "sum %08" PRIx32 "\n", fnv1a(buf, off));
    *out = buf;
    *len = off;
    return 0;
}

static int state_save(mlc_ratelimit *rl, const rl_state *st, mlc_error *err)
{
    char *buf;
    size_t off;
    if (state_format(st, &buf, &off))
    {
        mlc_error_set(err, MLC_ERR_NOMEM, "ratelimit: out of memory");
        return -1;
    }
    size_t put = 0;
    while (put < off) {
        ssize_t w = pwrite(rl->fd, buf + put, off - put, (off_t)put);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            mlc_error_set(err, MLC_ERR_IO, "ratelimit: write %s: %s", rl->path, strerror(errno));
            free(buf);
            return -1;
        }
        put += (size_t)w;
    }
    free(buf);
    if (ftruncate(rl->fd, (off_t)off) != 0) {
        mlc_error_set(err, MLC_ERR_IO, "ratelimit: truncate %s: %s", rl->path, strerror(errno));
        return -1;
    }
    return 0;
}

static int lock_fd(mlc_ratelimit *rl, int op, mlc_error *err)
{
    while (flock(rl->fd, op) != 0) {
        if (errno == EINTR)
            continue;
        mlc_error_set(err, MLC_ERR_IO, "ratelimit: lock %s: %s", rl->path, strerror(errno));
        return -1;
    }
    return 0;
}

static void unlock_fd(mlc_ratelimit *rl)
{
    flock(rl->fd, LOCK_UN);
}

/* ---- header parsing ---------------------------------------------------- */

/* Non-negative decimal number of seconds (fractions allowed, for scaled clocks)
 * -> milliseconds, rounded up. Returns -1 if absent or malformed. */
static int64_t parse_seconds_ms(const char *s)
{
    if (!s)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end)
        return -1;
    if (v > (double)RL_MAX_BLOCK_MS / 1000.0)
        v = (double)RL_MAX_BLOCK_MS / 1000.0;
    return (int64_t)ceil(v * 1000.0);
}

static int parse_count(const char *s, int *out)
{
    if (!s)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (errno || *end || v < 0 || v > INT32_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

/* Retry-After: delta-seconds, or an HTTP-date. Returns the absolute ms, or -1. */
static int64_t parse_retry_after(const char *s, int64_t now)
{
    int64_t d = parse_seconds_ms(s);
    if (d >= 0)
        return now + d;
    if (!s)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!e || *e)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    int64_t at = (int64_t)t * 1000;
    if (at < now)
        at = now;
    if (at > now + RL_MAX_BLOCK_MS)
        at = now + RL_MAX_BLOCK_MS;
    return at;
}

/* ---- API --------------------------------------------------------------- */

mlc_err mlc_ratelimit_open(const char *state_dir, const char *system,
                           const char *key_fingerprint, int limit, int window_ms,
                           mlc_ratelimit **out, mlc_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !state_dir || !*state_dir)
        return mlc_error_set(err, MLC_ERR_USAGE, "ratelimit: no state directory");
    if (!name_ok(system) || !name_ok(key_fingerprint))
        return mlc_error_set(err, MLC_ERR_USAGE,
                             "ratelimit: system and key fingerprint must be 1-64 of [A-Za-z0-9._-]");
    if (limit <= 0 || window_ms <= 0 || window_ms > 7 * 24 * 3600 * 1000)
        return mlc_error_set(err, MLC_ERR_USAGE, "ratelimit: bad limit %d per %d ms",
                             limit, window_ms);

    size_t dlen = strlen(state_dir) + sizeof "/ratelimit";
    char *dir = malloc(dlen);
    if (!dir)
        return mlc_error_set(err, MLC_ERR_NOMEM, "ratelimit: out of memory");
    snprintf(dir, dlen, "%s/ratelimit", state_dir);
    if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
        mlc_err e = mlc_error_set(err, MLC_ERR_IO, "ratelimit: mkdir %s: %s", state_dir,
                                  strerror(errno));
        free(dir);
        return e;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        mlc_err e = mlc_error_set(err, MLC_ERR_IO, "ratelimit: mkdir %s: %s", dir,
                                  strerror(errno));
        free(dir);
        return e;
    }
    size_t plen = strlen(dir) + strlen(system) + strlen(key_fingerprint) + sizeof "/-.state";
    char *path = malloc(plen);
    if (!path) {
        free(dir);
        return mlc_error_set(err, MLC_ERR_NOMEM, "ratelimit: out of memory");
    }
    snprintf(path, plen, "%s/%s-%s.state", dir, system, key_fingerprint);
    free(dir);

    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        mlc_err e = mlc_error_set(err, MLC_ERR_IO, "ratelimit: open %s: %s", path,
                                  strerror(errno));
        free(path);
        return e;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        mlc_err e = mlc_error_set(err, MLC_ERR_IO, "ratelimit: %s is not a regular file", path);
        close(fd);
        free(path);
        return e;
    }
    if ((sb.st_mode & 077) && sb.st_uid == geteuid())
        (void)fchmod(fd, 0600);

    mlc_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl) {
        close(fd);
        free(path);
        return mlc_error_set(err, MLC_ERR_NOMEM, "ratelimit: out of memory");
    }
    rl->fd = fd;
    rl->path = path;
    rl->limit = limit;
    rl->window_ms = window_ms;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
    rl->rng = seed ^ (uint64_t)getpid();
    *out = rl;
    return MLC_OK;
}

mlc_err mlc_ratelimit_open_shared(mlc_ratelimit_update_fn update, void *shared, const char *system,
                                  const char *key_fingerprint, int limit, int window_ms, mlc_ratelimit **out,
                                  mlc_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !update)
        return mlc_error_set(err, MLC_ERR_USAGE, "ratelimit: no shared state");
    if (!name_ok(system) || !name_ok(key_fingerprint))
        return mlc_error_set(err, MLC_ERR_USAGE,
                             "ratelimit: system and key fingerprint must be 1-64 of [A-Za-z0-9._-]");
    /* the log of one window must fit a shared value (about 25 bytes an entry) */
    if (limit <= 0 || limit > MLC_RATELIMIT_SHARED_MAX_LIMIT || window_ms <= 0 ||
        window_ms > 7 * 24 * 3600 * 1000)
        return mlc_error_set(err, MLC_ERR_USAGE, "ratelimit: bad limit %d per %d ms for a shared budget",
                             limit, window_ms);
    mlc_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return mlc_error_set(err, MLC_ERR_NOMEM, "ratelimit: out of memory");
    rl->fd = -1;
    rl->update = update;
    rl->shared = shared;
    snprintf(rl->name, sizeof rl->name, "ratelimit:%s-%s", system, key_fingerprint);
    rl->limit = limit;
    rl->window_ms = window_ms;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
    rl->rng = seed ^ (uint64_t)getpid();
    *out = rl;
    return MLC_OK;
}

mlc_err mlc_ratelimit_set_margin(mlc_ratelimit *rl, int reserve_requests, long extra_ms)
{
    if (!rl || reserve_requests < 0 || extra_ms < 0 || extra_ms > RL_MAX_BLOCK_MS)
        return MLC_ERR_USAGE;
    rl->margin_requests = reserve_requests;
    rl->margin_ms = extra_ms;
    return MLC_OK;
}

/* ---- one read-modify-write of the state, wherever it lives --------------
 * An operation sees the state loaded and normalised (expired entries dropped)
 * at `now` and returns 1 when it changed it. It may run more than once for one
 * call (a retried transaction), so it changes nothing outside st but its own
 * result (ud). The caller sleeps, if it must, only after with_state returned:
 * never while the file lock or the transaction is held. */
typedef int (*rl_op)(mlc_ratelimit *rl, rl_state *st, int64_t now, void *ud);

typedef struct shared_call {
    mlc_ratelimit *rl;
    rl_op op;
    void *ud;
    int readonly;
} shared_call;

/* The shared value's update function (mlc_ratelimit_apply_fn). */
static int shared_apply(void *fnud, const unsigned char *old, size_t old_len, unsigned char **newv, size_t *new_len)
{
    shared_call *c = fnud;
    rl_state st = { 0 };
    int dirty = 0;
    if (!old || state_parse(&st, (const char *)old, old_len) != 0) {
        state_clear(&st); /* none yet, or corrupt: start over */
        dirty = 1;
    }
    int64_t now = now_ms();
    state_normalize(c->rl, &st, now, &dirty);
    dirty |= c->op(c->rl, &st, now, c->ud);
    int w = 0;
    if (dirty && !c->readonly) {
        char *buf;
        size_t len;
        if (state_format(&st, &buf, &len) != 0) {
            w = -1;
        } else {
            *newv = (unsigned char *)buf;
            *new_len = len;
            w = 1;
        }
    }
    free(st.e);
    return w;
}

/* exclusive: the operation may change the state (else it only reads it). */
static int with_state(mlc_ratelimit *rl, int exclusive, rl_op op, void *ud, mlc_error *err)
{
    if (rl->update) {
        shared_call c = { rl, op, ud, !exclusive };
        return rl->update(rl->shared, rl->name, shared_apply, &c, err) == MLC_OK ? 0 : -1;
    }
    rl_state st = { 0 };
    int rc = -1;
    if (lock_fd(rl, exclusive ? LOCK_EX : LOCK_SH, err))
        return -1;
    int dirty = 0;
    if (state_load(rl, &st, &dirty, err) == 0) {
        int64_t now = now_ms();
        state_normalize(rl, &st, now, &dirty);
        dirty |= op(rl, &st, now, ud);
        rc = dirty && exclusive ? state_save(rl, &st, err) : 0;
    }
    unlock_fd(rl);
    free(st.e);
    return rc;
}

/* ---- API --------------------------------------------------------------- */

/* The limiter's last request is over (its answer came, or the same synchronous
 * caller asks for the next slot without having reported it): its entry counts
 * from now and is no longer in flight. 1 if the state changed. Changes only the
 * state (a shared update may run it again); the caller forgets the pending tag
 * once the state is written. */
static int finish_pending(const mlc_ratelimit *rl, rl_state *st, int64_t now)
{
    if (!rl->have_pending)
        return 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->e[i].tag == rl->pending_tag) {
            /* ended by now, rounded up (see the top comment) */
            if (st->e[i].ts < now + RL_TICK_MS)
                st->e[i].ts = now + RL_TICK_MS;
            st->e[i].eff = st->e[i].ts;
            st->e[i].tag = 0;
            if (st->n > 1)
                qsort(st->e, st->n, sizeof *st->e, cmp_ts_desc);
            return 1;
        }
    }
    return 0;
}

typedef struct acquire_res {
    int taken;
    uint32_t tag;
    int64_t now, wait_until;
} acquire_res;

static int op_acquire(mlc_ratelimit *rl, rl_state *st, int64_t now, void *ud)
{
    acquire_res *a = ud;
    int64_t wait_until = 0;
    int dirty = finish_pending(rl, st, now);
    int lim = limit_eff(rl, st);
    a->taken = 0;
    a->now = now;
    if (st->blocked_until > now)
        wait_until = st->blocked_until;
    if (srv_known(st, now) && st->srv_remaining == 0)
        wait_until = imax64(wait_until, st->srv_reset_at);
    if (st->n >= (size_t)lim) { /* the lim-th newest entry must leave the window */
        const rl_entry *e = &st->e[lim - 1];
        /* in flight: it leaves a window after its response, which is not in yet */
        int64_t at = e->eff == now && (e->tag & RL_INFLIGHT_BIT) ? now + RL_INFLIGHT_POLL_MS : e->eff + window_eff(rl);
        wait_until = imax64(wait_until, at);
    }
    a->wait_until = wait_until;
    if (wait_until > now)
        return dirty;
    uint32_t tag = next_tag(rl) | RL_INFLIGHT_BIT;
    if (state_push(st, now, tag))
        return dirty; /* out of memory: a->taken stays 0, the caller says so */
    if (srv_known(st, now))
        st->srv_remaining--;
    a->taken = 1;
    a->tag = tag;
    return 1;
}

mlc_err mlc_ratelimit_acquire(mlc_ratelimit *rl, mlc_error *err)
{
    if (!rl)
        return mlc_error_set(err, MLC_ERR_USAGE, "ratelimit: NULL limiter");
    mlc_error le;
    mlc_error_clear(&le);
    for (;;) {
        acquire_res a = { 0 };
        le.code = MLC_ERR_IO;
        if (with_state(rl, 1, op_acquire, &a, &le))
            break;
        rl->have_pending = 0; /* finish_pending ended it in the state just written */
        if (a.taken) {
            rl->pending_tag = a.tag;
            rl->have_pending = 1;
            return MLC_OK;
        }
        if (a.wait_until <= a.now) {
            mlc_error_set(&le, MLC_ERR_NOMEM, "ratelimit: out of memory");
            break;
        }
        if (rl->on_wait)
            rl->on_wait(rl->on_wait_ud, (long)(a.wait_until - a.now));
        sleep_until_ms(a.wait_until);
    }
    if (err)
        *err = le;
    return le.code;
}

typedef struct observe_args {
    int http_status;
    const char *limit, *remaining, *reset, *retry_after;
} observe_args;

static int op_observe(mlc_ratelimit *rl, rl_state *st, int64_t now, void *ud)
{
    const observe_args *o = ud;
    int64_t w = window_eff(rl);
    int dirty = 0;

    /* The request ended now: measure its window from here (see the top comment). */
    dirty |= finish_pending(rl, st, now);
    /* the answer's time rounded up: the server's waits count from no later than this */
    int64_t ans = now + RL_TICK_MS;

    int slimit;
    if (parse_count(o->limit, &slimit) == 0 && slimit > 0 && slimit != st->srv_limit) {
        st->srv_limit = slimit;
        dirty = 1;
    }

    int rem = -1;
    if (parse_count(o->remaining, &rem) != 0)
        rem = -1;
    int64_t reset_ms = parse_seconds_ms(o->reset);
    /* The margin also covers the server's rounding of X-Rate-Limit-Reset (whole
     * seconds, rounding direction undocumented). */
    int64_t reset_at = reset_ms >= 0 ? ans + reset_ms + rl->margin_ms : -1;

    if (rem >= 0) {
        /* Without a reset header, assume the server's window ends within one of ours. */
        int64_t at = reset_at >= 0 ? reset_at : ans + w;
        if (srv_known(st, now) && at <= st->srv_reset_at + w / 2) {
            /* Same server window: the server is the truth only when it says less. */
            if (rem < st->srv_remaining)
                st->srv_remaining = rem;
            if (reset_at > st->srv_reset_at)
                st->srv_reset_at = reset_at;
        } else {
            /* A newer server window (or the first we hear of). */
            st->srv_remaining = rem;
            st->srv_reset_at = at;
        }
        dirty = 1;
        if (rem == 0 && reset_at > now)
            st->blocked_until = imax64(st->blocked_until, reset_at);
    }

    if (o->http_status == 429 || o->http_status == 503) {
        int64_t until = parse_retry_after(o->retry_after, ans);
        if (until >= 0)
            until += rl->margin_ms;
        if (until < 0 && o->http_status == 429)
            until = reset_at > now ? reset_at
                                   : ans + (w < RL_NO_TIMING_BLOCK_MS ? w : RL_NO_TIMING_BLOCK_MS);
        if (until > now) {
            st->blocked_until = imax64(st->blocked_until, until);
            dirty = 1;
        }
        if (o->http_status == 429 && srv_known(st, now)) {
            st->srv_remaining = 0;
            dirty = 1;
        }
    }
    return dirty;
}

void mlc_ratelimit_observe(mlc_ratelimit *rl, int http_status, const char *limit,
                           const char *remaining, const char *reset,
                           const char *retry_after)
{
    if (!rl)
        return;
    observe_args o = { http_status, limit, remaining, reset, retry_after };
    mlc_error ignored;
    if (with_state(rl, 1, op_observe, &o, &ignored) == 0)
        rl->have_pending = 0; /* else the next acquire or observe ends it */
}

static int op_remaining(mlc_ratelimit *rl, rl_state *st, int64_t now, void *ud)
{
    int *r = ud;
    int lim = limit_eff(rl, st);
    *r = lim - (int)(st->n < (size_t)lim ? st->n : (size_t)lim);
    if (srv_known(st, now) && st->srv_remaining < *r)
        *r = st->srv_remaining;
    if (st->blocked_until > now)
        *r = 0;
    return 0;
}

int mlc_ratelimit_remaining(mlc_ratelimit *rl)
{
    if (!rl)
        return -1;
    int r = -1;
    mlc_error ignored;
    if (with_state(rl, 0, op_remaining, &r, &ignored))
        return -1;
    return r;
}

void mlc_ratelimit_close(mlc_ratelimit *rl)
{
    if (!rl)
        return;
    if (rl->fd >= 0)
        close(rl->fd);
    free(rl->path);
    free(rl);
}
