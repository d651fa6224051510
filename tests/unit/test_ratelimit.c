/*
 * test_ratelimit.c: unit tests for lib/ratelimit, the request budget shared by
 * every mlc process through a state file. Time is shrunk (limit 40 per 1 s
 * window) so the multi-process tests take a few seconds each. Children are
 * forked, open their own limiter, and write the CLOCK_REALTIME millisecond of
 * each request they were allowed to a file of their own; the parent checks that
 * no window of window_seconds holds more than the limit and that at least 90% of
 * the allowed rate was used.
 * The same tests run with the budget in a store's shared value (lib/sharing, as
 * when several hosts share a PostgreSQL state): each process opens its own
 * store on one SQLite database and its limiter with mlc_sharing_ratelimit_open;
 * with MLC_TEST_PG_HOST (tests/pg.sh's cluster, tests/run.sh sets it) once more
 * on a PostgreSQL database, each process its own session.
 * Not here: HTTP (the http layer calls acquire/observe), benchmarks (bench/).
 */
#include <check.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "sharing.h"
#include "store.h"

#define LIMIT 40
#define WINDOW_S 1
#define WINDOW_MS (WINDOW_S * 1000)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *make_dir(void)
{
    char tmpl[] = "/tmp/mlc-test-ratelimit-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Store mode: limiters keep their budget in <dir>/state.db's shared value. Each
 * process opens its own store (a SQLite handle is never used across fork). */
static int g_store;        /* 1: SQLite <dir>/state.db; 2: g_store_url (PostgreSQL) */
static char g_store_url[600];
static mlc_store *g_st;
static pid_t g_st_pid;

/* A fresh database on the harness cluster (tests/pg.sh, MLC_TEST_PG_HOST) into
 * g_store_url, for store mode 2. */
static void pg_fresh(void)
{
    const char *host = getenv("MLC_TEST_PG_HOST");
    char conninfo[600], sql[128], db[64];
    ck_assert_ptr_nonnull(host);
    snprintf(db, sizeof db, "rl_%ld_%d", (long)time(NULL), (int)getpid());
    snprintf(conninfo, sizeof conninfo, "postgresql:///postgres?host=%s&user=mlc", host);
    PGconn *c = PQconnectdb(conninfo);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", db);
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(g_store_url, sizeof g_store_url, "postgresql:///%s?host=%s&user=mlc", db, host);
}

static mlc_err lim_open(const char *dir, int limit, int window_ms, mlc_ratelimit **rl, mlc_error *err)
{
    if (!g_store)
        return mlc_ratelimit_open(dir, "shipstation-v1", "fp0123abcd", limit, window_ms, rl, err);
    if (!g_st || g_st_pid != getpid()) {
        char path[512];
        snprintf(path, sizeof path, "%s/state.db", dir);
        mlc_err rc = mlc_store_open(g_store == 2 ? g_store_url : path, 0, &g_st, err);
        if (rc)
            return rc;
        g_st_pid = getpid();
    }
    return mlc_sharing_ratelimit_open(g_st, "shipstation-v1", "fp0123abcd", limit, window_ms, rl, err);
}

/* Ends store mode (the parent's store; call before removing dir). */
static void lim_store_done(void)
{
    if (g_st && g_st_pid == getpid())
        mlc_store_close(g_st);
    g_st = NULL;
    g_store = 0;
}

static mlc_ratelimit *open_rl(const char *dir, int limit, int window_s)
{
    mlc_ratelimit *rl = NULL;
    mlc_error err;
    mlc_error_clear(&err);
    mlc_err rc = lim_open(dir, limit, window_s * 1000, &rl, &err);
    ck_assert_msg(rc == MLC_OK, "open: %s", err.msg);
    ck_assert_ptr_nonnull(rl);
    return rl;
}

static void state_path(const char *dir, char *out, size_t n)
{
    snprintf(out, n, "%s/ratelimit/shipstation-v1-fp0123abcd.state", dir);
}

/* ---- workers ----------------------------------------------------------- */

/* Takes slots until `deadline`, writing the ms of each slot obtained before it
 * to `out`. Runs in a forked child; returns the exit status. */
/* A V1-like server model shared by the workers: fixed windows of WINDOW_MS whose
 * grid is offset from the test start, LIMIT per window, counted in a file under
 * flock. Fills the headers it would send and returns the status. */
typedef struct server_model {
    const char *path;   /* NULL: no server headers at all */
    int64_t origin;     /* start of window 0 */
} server_model;

static int server_handle(const server_model *sm, char *lim, char *rem, char *reset,
                         size_t n)
{
    int fd = open(sm->path, O_RDWR | O_CREAT, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
        return -1;
    long long win = -1, count = 0;
    char buf[64] = { 0 };
    if (pread(fd, buf, sizeof buf - 1, 0) > 0)
        sscanf(buf, "%lld %lld", &win, &count);
    int64_t t = now_ms();
    long long w = (long long)((t - sm->origin) / WINDOW_MS);
    if (w != win) {
        win = w;
        count = 0;
    }
    int status = 200;
    if (count >= LIMIT)
        status = 429;
    else
        count++;
    int len = snprintf(buf, sizeof buf, "%lld %lld\n", win, count);
    if (pwrite(fd, buf, (size_t)len, 0) != len || ftruncate(fd, len) != 0)
        status = -1;
    flock(fd, LOCK_UN);
    close(fd);
    int64_t end = sm->origin + (win + 1) * WINDOW_MS;
    snprintf(lim, n, "%d", LIMIT);
    snprintf(rem, n, "%lld", LIMIT - count);
    snprintf(reset, n, "%.3f", (double)(end - t) / 1000.0);
    return status;
}

static int worker(const char *dir, int limit, int window_s, int64_t deadline, const char *out,
                  const server_model *sm)
{
    mlc_ratelimit *rl = NULL;
    if (lim_open(dir, limit, window_s * 1000, &rl, NULL))
        return 2;
    FILE *f = fopen(out, "w");
    if (!f)
        return 3;
    for (;;) {
        if (mlc_ratelimit_acquire(rl, NULL) != MLC_OK)
            return 4;
        int64_t t = now_ms();
        if (t >= deadline)
            break;
        if (sm->path) {
            char lim[32], rem[32], reset[32];
            int status = server_handle(sm, lim, rem, reset, sizeof lim);
            if (status < 0)
                return 5;
            fprintf(f, "%lld %d\n", (long long)t, status);
            mlc_ratelimit_observe(rl, status, lim, rem, reset,
                                  status == 429 ? reset : NULL);
        } else {
            fprintf(f, "%lld 200\n", (long long)t);
            /* the "response": no headers, as from a server that sends none */
            mlc_ratelimit_observe(rl, 200, NULL, NULL, NULL, NULL);
        }
    }
    fclose(f);
    mlc_ratelimit_close(rl);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Runs nproc workers for `windows` windows; checks the sliding-window bound and
 * returns the fraction of the allowed requests that were made. */
static double run_workers(int nproc, int windows, int with_server)
{
    char *dir = make_dir();
    int64_t start = now_ms() + 50;   /* children start together-ish */
    char spath[512];
    snprintf(spath, sizeof spath, "%s/server", dir);
    /* the server's window grid is 300 ms off ours: it starts before the test */
    server_model sm = { with_server ? spath : NULL, start - WINDOW_MS + 300 };
    int n429 = 0;
    int64_t deadline = start + (int64_t)windows * WINDOW_MS;
    pid_t pids[16];
    for (int i = 0; i < nproc; i++) {
        char out[512];
        snprintf(out, sizeof out, "%s/ts-%d", dir, i);
        pid_t p = fork();
        ck_assert_int_ge(p, 0);
        if (p == 0) {
            while (now_ms() < start)
                usleep(1000);
            _exit(worker(dir, LIMIT, WINDOW_S, deadline, out, &sm));
        }
        pids[i] = p;
    }
    for (int i = 0; i < nproc; i++) {
        int st = 0;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker %d failed (%d)", i, st);
    }
    size_t n = 0, cap = 1024;
    int64_t *ts = malloc(cap * sizeof *ts);
    int per_child[16] = { 0 };
    for (int i = 0; i < nproc; i++) {
        char out[512];
        snprintf(out, sizeof out, "%s/ts-%d", dir, i);
        FILE *f = fopen(out, "r");
        ck_assert_ptr_nonnull(f);
        long long v;
        int status;
        while (fscanf(f, "%lld %d", &v, &status) == 2) {
            n429 += status == 429;
            if (n == cap)
                ts = realloc(ts, (cap *= 2) * sizeof *ts);
            ts[n++] = v;
            per_child[i]++;
        }
        fclose(f);
    }
    qsort(ts, n, sizeof *ts, cmp_i64);
    /* No interval of WINDOW_MS holds more than LIMIT: the (i+LIMIT)-th request is
     * at least one window after the i-th. This implies any fixed window too. */
    for (size_t i = 0; i + LIMIT < n; i++)
        ck_assert_msg(ts[i + LIMIT] - ts[i] >= WINDOW_MS,
                      "requests %zu and %zu only %lld ms apart", i, i + LIMIT,
                      (long long)(ts[i + LIMIT] - ts[i]));
    double allowed = (double)LIMIT * windows;
    double used = (double)n / allowed;
    fprintf(stderr, "ratelimit%s: %d process(es), %s, %d x %d/%ds: %zu requests of %.0f allowed"
            " (%.1f%%), %d 429s; per process:", g_store == 2 ? " (postgresql)" : g_store ? " (store)" : "", nproc,
            with_server ? "V1 headers" : "no headers", windows, LIMIT, WINDOW_S, n, allowed,
            used * 100, n429);
    for (int i = 0; i < nproc; i++)
        fprintf(stderr, " %d", per_child[i]);
    fprintf(stderr, "\n");
    free(ts);
    if (g_st && g_st_pid == getpid()) {
        mlc_store_close(g_st);
        g_st = NULL;
    }
    rm_rf(dir);
    free(dir);
    ck_assert_int_eq(n429, 0);
    return used;
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(test_single_process_rate)
{
    double used = run_workers(1, 3, 0);
    ck_assert_msg(used >= 0.90, "single process used only %.1f%%", used * 100);
    ck_assert_msg(used <= 1.0, "single process used %.1f%% > 100%%", used * 100);
}
END_TEST

START_TEST(test_four_processes_rate)
{
    double used = run_workers(4, 4, 0);
    ck_assert_msg(used >= 0.90, "four processes used only %.1f%%", used * 100);
    ck_assert_msg(used <= 1.0, "four processes used %.1f%% > 100%%", used * 100);
}
END_TEST

/* A window shorter than a second is kept to the millisecond (shipstation.rate_window
 * of 0.25 used to round to 0 s and fall back to 60 s): with 2 per 250 ms the third
 * slot comes a window after the first, not at once and not a minute later. */
START_TEST(test_subsecond_window)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = NULL;
    mlc_error err;
    ck_assert_int_eq(mlc_ratelimit_open(dir, "ss", "fp", 2, 250, &rl, &err), MLC_OK);
    int64_t t0 = now_ms();
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(mlc_ratelimit_acquire(rl, &err), MLC_OK);
    int64_t took = now_ms() - t0;
    ck_assert_msg(took >= 240, "third slot after %lld ms, before the 250 ms window passed", (long long)took);
    ck_assert_msg(took < 5000, "third slot after %lld ms: the window was not 250 ms", (long long)took);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* Same against a V1-like server whose fixed window is not aligned with ours and
 * which reports X-Rate-Limit-* on every response: zero 429s, >= 90% used. */
START_TEST(test_single_process_v1_server)
{
    double used = run_workers(1, 3, 1);
    ck_assert_msg(used >= 0.90, "single process used only %.1f%%", used * 100);
}
END_TEST

START_TEST(test_four_processes_v1_server)
{
    double used = run_workers(4, 4, 1);
    ck_assert_msg(used >= 0.90, "four processes used only %.1f%%", used * 100);
}
END_TEST

START_TEST(test_open_args_and_file)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = (mlc_ratelimit *)1;
    mlc_error err;
    ck_assert_int_eq(mlc_ratelimit_open(dir, "../etc", "fp", 40, 60000, &rl, &err), MLC_ERR_USAGE);
    ck_assert_ptr_null(rl);
    ck_assert_int_eq(mlc_ratelimit_open(dir, "ss", "a/b", 40, 60, &rl, &err), MLC_ERR_USAGE);
    ck_assert_int_eq(mlc_ratelimit_open(dir, "ss", "fp", 0, 60000, &rl, &err), MLC_ERR_USAGE);
    ck_assert_int_eq(mlc_ratelimit_open(dir, "ss", "fp", 40, 0, &rl, &err), MLC_ERR_USAGE);
    ck_assert_int_eq(mlc_ratelimit_open(NULL, "ss", "fp", 40, 60000, &rl, &err), MLC_ERR_USAGE);

    /* state_dir may not exist yet */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/new", dir);
    rl = open_rl(sub, LIMIT, 60);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, &err), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 1);
    char path[600];
    state_path(sub, path, sizeof path);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    mlc_ratelimit_close(rl);
    mlc_ratelimit_close(NULL);

    /* a second limiter on the same key sees the same budget */
    rl = open_rl(sub, LIMIT, 60);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 1);
    ck_assert_int_eq(mlc_ratelimit_set_margin(rl, 5, 0), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 6);
    ck_assert_int_eq(mlc_ratelimit_set_margin(rl, -1, 0), MLC_ERR_USAGE);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* Forks a child that opens its own limiter, acquires once, and reports the ms
 * at which it got the slot through a pipe. */
static pid_t spawn_acquirer(const char *dir, int limit, int window_s, int *rfd)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0) {
        close(fds[0]);
        mlc_ratelimit *rl = NULL;
        if (lim_open(dir, limit, window_s * 1000, &rl, NULL))
            _exit(2);
        if (mlc_ratelimit_acquire(rl, NULL) != MLC_OK)
            _exit(3);
        int64_t t = now_ms();
        if (write(fds[1], &t, sizeof t) != (ssize_t)sizeof t)
            _exit(4);
        mlc_ratelimit_close(rl);
        _exit(0);
    }
    close(fds[1]);
    *rfd = fds[0];
    return p;
}

static int64_t reap_acquirer(pid_t p, int rfd)
{
    int64_t t = -1;
    ck_assert_int_eq(read(rfd, &t, sizeof t), (ssize_t)sizeof t);
    close(rfd);
    int st = 0;
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return t;
}

/* A request still in flight counts as made now, however long ago it was acquired:
 * a process starved between acquire and send (or a slow connect) may reach the
 * server at any moment. Limit 1, window 300 ms: the parent's request is out for
 * 600 ms; another process waits until a window after the parent's response,
 * where it used to get the slot as soon as the acquire was a window old. */
START_TEST(test_inflight_entry_holds_its_slot)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = NULL;
    ck_assert_int_eq(lim_open(dir, 1, 300, &rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0) {
        close(fds[0]);
        mlc_ratelimit *c = NULL;
        usleep(350 * 1000); /* past the parent's acquire + window */
        if (lim_open(dir, 1, 300, &c, NULL) || mlc_ratelimit_acquire(c, NULL) != MLC_OK)
            _exit(3);
        int64_t t = now_ms();
        if (write(fds[1], &t, sizeof t) != (ssize_t)sizeof t)
            _exit(4);
        mlc_ratelimit_close(c);
        _exit(0);
    }
    close(fds[1]);
    usleep(600 * 1000);
    int64_t answered = now_ms();
    mlc_ratelimit_observe(rl, 200, NULL, NULL, NULL, NULL);
    int64_t t = reap_acquirer(p, fds[0]);
    ck_assert_msg(t >= answered + 300 - 5, "the other process got the slot %lld ms after the answer (window 300)",
                  (long long)(t - answered));
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* An answered request's stamp is never earlier than the answer. The limiter's clock
 * has millisecond steps; an answer read at 12.7 ms was stamped 12, which let the next
 * request out at 12 + window: 0.1-0.9 ms less than a window after a server that
 * counted the first at 12.6 (the flaky '4 processes: zero 429s' of test_ratelimit.sh:
 * 61 requests within 2999.85 ms at mlc-sim, a 429 when one of its fixed windows began
 * with the first). Limit 1, window 20 ms, measured in nanoseconds: the "server" counts
 * each request just before its answer is observed, the next one leaves just after its
 * acquire returns; they must be a whole window apart, every time. Once on the file and
 * once on a store's shared value (the same operations, another rereading). */
static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stamp_not_before_answer(int store)
{
    char *dir = make_dir();
    g_store = store;
    mlc_ratelimit *rl = NULL;
    ck_assert_int_eq(lim_open(dir, 1, 20, &rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    int64_t min_gap = INT64_MAX;
    for (int i = 0; i < 25; i++) {
        int64_t counted = now_ns();   /* the server counts it, then answers */
        mlc_ratelimit_observe(rl, 200, NULL, NULL, NULL, NULL);
        ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
        int64_t next = now_ns();      /* the next request reaches the server after this */
        if (next - counted < min_gap)
            min_gap = next - counted;
    }
    mlc_ratelimit_close(rl);
    lim_store_done();
    rm_rf(dir);
    free(dir);
    ck_assert_msg(min_gap >= 20 * 1000000LL, "two requests %.3f ms apart at the server (window 20 ms)",
                  (double)min_gap / 1e6);
}

START_TEST(test_stamp_not_before_answer)
{
    stamp_not_before_answer(0);
    stamp_not_before_answer(1);
}
END_TEST

/* An in-flight entry whose process died is not waited for forever: it counts from
 * its acquire time again after RL_INFLIGHT_MAX_MS; here only its bound is checked
 * indirectly: a transport error (observe with status 0) frees the slot like an answer. */
START_TEST(test_inflight_entry_released_by_transport_error)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = NULL;
    ck_assert_int_eq(lim_open(dir, 1, 200, &rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    mlc_ratelimit_observe(rl, 0, NULL, NULL, NULL, NULL);
    int64_t t0 = now_ms();
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    int64_t waited = now_ms() - t0;
    ck_assert_msg(waited >= 195 && waited < 1000, "waited %lld ms (window 200)", (long long)waited);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_429_retry_after_blocks_others)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = open_rl(dir, LIMIT, 60);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    int64_t t0 = now_ms();
    mlc_ratelimit_observe(rl, 429, NULL, NULL, NULL, "2");
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 0);
    int r1, r2;
    pid_t a = spawn_acquirer(dir, LIMIT, 60, &r1);
    pid_t b = spawn_acquirer(dir, LIMIT, 60, &r2);
    int64_t ta = reap_acquirer(a, r1), tb = reap_acquirer(b, r2);
    ck_assert_msg(ta >= t0 + 2000, "other process went %lld ms after a 429 Retry-After: 2",
                  (long long)(ta - t0));
    ck_assert_msg(tb >= t0 + 2000, "other process went %lld ms after a 429 Retry-After: 2",
                  (long long)(tb - t0));
    /* not absurdly late either (generous: this is about correctness) */
    ck_assert_int_lt(ta, t0 + 10000);
    ck_assert_int_gt(mlc_ratelimit_remaining(rl), 0);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_429_http_date)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = open_rl(dir, LIMIT, 60);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    time_t until = time(NULL) + 2;
    struct tm tm;
    gmtime_r(&until, &tm);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    mlc_ratelimit_observe(rl, 429, NULL, NULL, NULL, date);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 0);
    int r;
    pid_t p = spawn_acquirer(dir, LIMIT, 60, &r);
    int64_t t = reap_acquirer(p, r);
    ck_assert_int_ge(t, (int64_t)until * 1000);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_v1_remaining_zero_blocks_until_reset)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = open_rl(dir, LIMIT, 60);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    int64_t t0 = now_ms();
    mlc_ratelimit_observe(rl, 200, "40", "0", "1", NULL);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 0);
    int r;
    pid_t p = spawn_acquirer(dir, LIMIT, 60, &r);
    int64_t t = reap_acquirer(p, r);
    ck_assert_msg(t >= t0 + 1000, "went %lld ms after remaining 0, reset 1", (long long)(t - t0));
    ck_assert_int_lt(t, t0 + 10000);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* The server is the truth when it says less remains than we think. */
START_TEST(test_v1_reconcile)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = open_rl(dir, LIMIT, 60);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    int64_t t0 = now_ms();
    /* someone else used the key: 3 left in the server's window, which ends in 1 s */
    mlc_ratelimit_observe(rl, 200, "40", "3", "1", NULL);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
        ck_assert_int_lt(now_ms(), t0 + 900);    /* these three do not wait */
    }
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 0);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);   /* waits for the reset */
    ck_assert_int_ge(now_ms(), t0 + 1000);
    /* a new server window saying more than we think does not raise our budget:
     * we made 5 requests in our own last window */
    mlc_ratelimit_observe(rl, 200, "40", "39", "59", NULL);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 5);
    /* a lower server limit wins over our configuration */
    mlc_ratelimit_observe(rl, 200, "10", "39", "59", NULL);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 10 - 5);
    /* malformed headers are ignored */
    mlc_ratelimit_observe(rl, 200, "x", "-4", "soon", NULL);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 10 - 5);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* A 429 without any timing header blocks for one window; the margin lengthens
 * server-given waits. */
START_TEST(test_429_without_headers_and_margin)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = open_rl(dir, LIMIT, 1);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    int64_t t0 = now_ms();
    mlc_ratelimit_observe(rl, 429, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 0);
    int r;
    pid_t p = spawn_acquirer(dir, LIMIT, 1, &r);
    int64_t t = reap_acquirer(p, r);
    ck_assert_int_ge(t, t0 + 1000);

    ck_assert_int_eq(mlc_ratelimit_set_margin(rl, 0, 500), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    t0 = now_ms();
    mlc_ratelimit_observe(rl, 429, NULL, NULL, NULL, "1");
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_ge(now_ms(), t0 + 1500);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

static void write_file(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 1 << 16);
    *n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

START_TEST(test_corrupt_state_recovered)
{
    char *dir = make_dir();
    char path[600];
    state_path(dir, path, sizeof path);
    mlc_ratelimit *rl = open_rl(dir, LIMIT, 60);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 6);
    size_t n;
    char *good = read_all(path, &n);
    ck_assert_uint_gt(n, 20);

    /* truncated: treated as empty state, rewritten on the next acquire */
    write_file(path, good, n / 2);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 1);

    /* garbage */
    write_file(path, "\x01\x02garbage\n\xff", 11);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 1);

    /* one flipped digit: the checksum catches it */
    char *bad = strdup(good);
    char *dig = strstr(bad, "entries ");
    ck_assert_ptr_nonnull(dig);
    dig[8] = dig[8] == '9' ? '8' : (char)(dig[8] + 1);
    write_file(path, bad, n);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 1);

    /* empty file, and a file far too large */
    write_file(path, "", 0);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    size_t big = 8u << 20;
    char *junk = malloc(big);
    memset(junk, '7', big);
    write_file(path, junk, big);
    free(junk);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 1);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_lt(sb.st_size, 4096);

    /* a fresh process on the recovered file is fine too */
    int r;
    pid_t p = spawn_acquirer(dir, LIMIT, 60, &r);
    reap_acquirer(p, r);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 2);

    free(bad);
    free(good);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

/* Entries dated in the future (the clock stepped back, or a bad value that still
 * verifies) count as made now instead of blocking until then. The file format is
 * the one documented in ratelimit.c. */
START_TEST(test_future_entries_clamped)
{
    char *dir = make_dir();
    mlc_ratelimit *rl = open_rl(dir, 2, 1);
    char path[600];
    state_path(dir, path, sizeof path);
    long long year = now_ms() + 365LL * 24 * 3600 * 1000;
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "mlc-ratelimit 1\nblocked_until 0\nserver 0 -1 0\nentries 2\n"
                     "%lld 1\n%lld 2\n", year, year);
    n += snprintf(buf + n, sizeof buf - (size_t)n, "sum %08x\n", fnv1a(buf, (size_t)n));
    write_file(path, buf, (size_t)n);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 0);   /* the file was read as valid */
    int64_t t0 = now_ms();
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_lt(now_ms(), t0 + 5000);
    mlc_ratelimit_close(rl);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* ---- the budget in a store's shared value ------------------------------ */

/* Four processes, each with its own store handle on one database (as four
 * workers on two hosts sharing a PostgreSQL state): together within the limit,
 * at least 90% of it used, no 429 from the V1-like server. */
START_TEST(test_store_four_processes_v1_server)
{
    g_store = 1;
    double used = run_workers(4, 4, 1);
    lim_store_done();
    ck_assert_msg(used >= 0.90, "four processes (store) used only %.1f%%", used * 100);
    ck_assert_msg(used <= 1.0, "four processes (store) used %.1f%% > 100%%", used * 100);
}
END_TEST

START_TEST(test_store_four_processes_rate)
{
    g_store = 1;
    double used = run_workers(4, 3, 0);
    lim_store_done();
    ck_assert_msg(used >= 0.90, "four processes (store) used only %.1f%%", used * 100);
}
END_TEST

/* A 429 seen by one process blocks the others through the shared value; the
 * budget is in the store, not in a state file; a corrupt value is started over. */
START_TEST(test_store_429_blocks_others_and_no_file)
{
    char *dir = make_dir();
    g_store = 1;
    mlc_ratelimit *rl = open_rl(dir, LIMIT, 60);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 1);
    int64_t t0 = now_ms();
    mlc_ratelimit_observe(rl, 429, NULL, NULL, NULL, "1");
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), 0);
    int r1;
    pid_t a = spawn_acquirer(dir, LIMIT, 60, &r1);
    int64_t ta = reap_acquirer(a, r1);
    ck_assert_msg(ta >= t0 + 1000, "other process went %lld ms after a 429 Retry-After: 1",
                  (long long)(ta - t0));
    ck_assert_int_lt(ta, t0 + 8000);
    char path[512];
    struct stat sb;
    state_path(dir, path, sizeof path);
    ck_assert_int_ne(stat(path, &sb), 0);
    unsigned char *v;
    size_t n;
    mlc_error err;
    ck_assert_int_eq(mlc_store_shared_get(g_st, "ratelimit:shipstation-v1-fp0123abcd", &v, &n, &err), MLC_OK);
    ck_assert_ptr_nonnull(v);
    ck_assert(n > 16 && memcmp(v, "mlc-ratelimit 1\n", 16) == 0);
    free(v);
    /* two acquires so far (ours and the child's) */
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 2);
    /* a corrupt value is treated as empty state, never fatal */
    ck_assert_int_eq(mlc_store_begin(g_st, &err), MLC_OK);
    ck_assert_int_eq(mlc_store_commit(g_st, &err), MLC_OK);
    {
        static const char junk[] = "mlc-ratelimit 1\nblocked_until 99999999999999\n";
        sqlite3 *db;
        snprintf(path, sizeof path, "%s/state.db", dir);
        ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_stmt *q;
        ck_assert_int_eq(sqlite3_prepare_v2(db, "UPDATE shared SET value=? WHERE name=?", -1, &q, NULL), SQLITE_OK);
        sqlite3_bind_blob(q, 1, junk, (int)sizeof junk - 1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, "ratelimit:shipstation-v1-fp0123abcd", -1, SQLITE_STATIC);
        ck_assert_int_eq(sqlite3_step(q), SQLITE_DONE);
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT);
    ck_assert_int_eq(mlc_ratelimit_acquire(rl, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ratelimit_remaining(rl), LIMIT - 1);
    mlc_ratelimit_close(rl);
    /* arguments */
    ck_assert_int_eq(mlc_sharing_ratelimit_open(g_st, "ss", "fp", MLC_RATELIMIT_SHARED_MAX_LIMIT + 1, 60000, &rl,
                                                &err),
                     MLC_ERR_USAGE);
    ck_assert_int_eq(mlc_ratelimit_open_shared(NULL, NULL, "ss", "fp", 40, 60000, &rl, &err), MLC_ERR_USAGE);
    lim_store_done();
    rm_rf(dir);
    free(dir);
}
END_TEST

/* The same on PostgreSQL (the harness cluster): four processes, four sessions. */
START_TEST(test_pg_four_processes_v1_server)
{
    pg_fresh();
    g_store = 2;
    double used = run_workers(4, 4, 1);
    lim_store_done();
    ck_assert_msg(used >= 0.90, "four processes (postgresql) used only %.1f%%", used * 100);
    ck_assert_msg(used <= 1.0, "four processes (postgresql) used %.1f%% > 100%%", used * 100);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_open_args_and_file);
    tcase_add_test(tc, test_inflight_entry_holds_its_slot);
    tcase_add_test(tc, test_inflight_entry_released_by_transport_error);
    tcase_add_test(tc, test_stamp_not_before_answer);
    tcase_add_test(tc, test_corrupt_state_recovered);
    tcase_add_test(tc, test_future_entries_clamped);
    tcase_add_test(tc, test_v1_reconcile);
    tcase_add_test(tc, test_v1_remaining_zero_blocks_until_reset);
    tcase_add_test(tc, test_429_retry_after_blocks_others);
    tcase_add_test(tc, test_429_http_date);
    tcase_add_test(tc, test_429_without_headers_and_margin);
    tcase_add_test(tc, test_subsecond_window);
    tcase_add_test(tc, test_single_process_rate);
    tcase_add_test(tc, test_four_processes_rate);
    tcase_add_test(tc, test_single_process_v1_server);
    tcase_add_test(tc, test_four_processes_v1_server);
    tcase_add_test(tc, test_store_429_blocks_others_and_no_file);
    tcase_add_test(tc, test_store_four_processes_rate);
    tcase_add_test(tc, test_store_four_processes_v1_server);
    suite_add_tcase(s, tc);
    if (getenv("MLC_TEST_PG_HOST")) {
        TCase *pg = tcase_create("postgresql");
        tcase_set_timeout(pg, 60);
        tcase_add_test(pg, test_pg_four_processes_v1_server);
        suite_add_tcase(s, pg);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
