/* test_receipt_lock.c: lib/receipt's poster lock (one poster per profile): an
 * engine made with a lock holds the store's "post-receipts" lock until it is
 * freed or its process dies, and a second poster waits for it. Not for posting
 * or recovery (test_receipt_settle.c, integration tests). */
#include "config.h"
#include "receipt.h"
#include "store.h"
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct fx {
    char *dir;
    char db[512], lock[512];
    mlc_config *cfg;
} fx;

static void fx_init(fx *f)
{
    mlc_error e;
    f->dir = tu_tmpdir();
    snprintf(f->db, sizeof f->db, "%s/p.db", f->dir);
    snprintf(f->lock, sizeof f->lock, "%s/p.post.lock", f->dir);
    ck_assert_int_eq(mlc_config_load_string("", 0, "t.yaml", NULL, &f->cfg, &e), MLC_OK);
}

static void fx_done(fx *f)
{
    char cmd[600];
    mlc_config_free(f->cfg);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    ck_assert_int_eq(system(cmd), 0);
    free(f->dir);
}

/* Whether another process gets the store's poster lock without waiting. */
static int other_gets_lock(const char *db)
{
    pid_t pid = fork();
    if (pid == 0) {
        mlc_store *st;
        mlc_error e;
        int got = 0;
        if (mlc_store_open(db, 0, &st, &e) || mlc_store_lock(st, "post-receipts", 0, &got, &e))
            _exit(3);
        _exit(got ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 3);
    return WEXITSTATUS(status);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(poster_holds_the_store_lock_until_freed)
{
    fx f;
    mlc_error e;
    mlc_store *st;
    mlc_receipt *r;
    fx_init(&f);
    /* a second poster (another process, forked before the lock is taken: a
     * child of fork would share it) waits until the first is freed */
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        mlc_store *s2;
        mlc_receipt *r2;
        char c;
        if (read(pfd[0], &c, 1) != 1)
            _exit(3);
        double t0 = now_s();
        if (mlc_store_open(f.db, 0, &s2, &e) || mlc_receipt_new(NULL, s2, f.cfg, NULL, f.lock, &r2, &e))
            _exit(3);
        double waited = now_s() - t0;
        _exit(waited >= 0.25 ? 0 : 4);
    }
    ck_assert_msg(mlc_store_open(f.db, 0, &st, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(other_gets_lock(f.db), 1);
    ck_assert_msg(mlc_receipt_new(NULL, st, f.cfg, NULL, f.lock, &r, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(other_gets_lock(f.db), 0);
    ck_assert_int_eq(write(pfd[1], "x", 1), 1);
    struct timespec ts = {0, 400 * 1000000L};
    nanosleep(&ts, NULL);
    mlc_receipt_free(r);
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second poster: exit %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    ck_assert_int_eq(other_gets_lock(f.db), 1);
    close(pfd[0]);
    close(pfd[1]);
    mlc_store_close(st);
    fx_done(&f);
}
END_TEST

/* A poster killed with -9 leaves no lock behind: the next one starts at once. */
START_TEST(dead_poster_releases_the_lock)
{
    fx f;
    fx_init(&f);
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        mlc_store *st;
        mlc_receipt *r;
        mlc_error e;
        if (mlc_store_open(f.db, 0, &st, &e) || mlc_receipt_new(NULL, st, f.cfg, NULL, f.lock, &r, &e))
            _exit(3);
        if (write(pfd[1], "x", 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    char c;
    ck_assert_int_eq(read(pfd[0], &c, 1), 1);
    ck_assert_int_eq(other_gets_lock(f.db), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_int_eq(other_gets_lock(f.db), 1);
    close(pfd[0]);
    close(pfd[1]);
    fx_done(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("receipt_lock");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, poster_holds_the_store_lock_until_freed);
    tcase_add_test(tc, dead_poster_releases_the_lock);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
