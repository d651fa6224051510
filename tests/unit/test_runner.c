/* test_runner.c: lib/runner (webhook serve --on-notify): a burst of kicks makes one
 * run after the debounce; a kick during a run makes exactly one more run after it,
 * never two at once; the command sees only the environment given and no inherited
 * descriptor; its output and exit status are logged with secrets masked; stop lets a
 * running command finish and drops a pending one. */
#include "runner.h"
#include "testutil.h"

#include <fcntl.h>
#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *slurp(FILE *f)
{
    static char buf[65536];
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    return buf;
}

static long runs_of(mlc_runner *r)
{
    mlc_runner_stats s;
    mlc_runner_get_stats(r, &s);
    return s.runs;
}

static int wait_runs(mlc_runner *r, long n, long ms)
{
    for (long t = 0; t < ms; t += 20) {
        mlc_runner_stats s;
        mlc_runner_get_stats(r, &s);
        if (s.runs >= n && s.last_status >= 0)
            return 1;
        sleep_ms(20);
    }
    return 0;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

START_TEST(burst_is_one_run_after_the_debounce)
{
    char *d = tu_tmpdir(), cmd[512], out[300];
    snprintf(out, sizeof out, "%s/runs", d);
    snprintf(cmd, sizeof cmd, "echo run >>'%s'", out);
    FILE *lf = tmpfile();
    mlc_log *log = mlc_log_new(lf, MLC_LOG_TEXT, MLC_LOG_INFO);
    const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    mlc_runner_opts o = {.command = cmd, .debounce_ms = 300, .env = env, .log = log};
    mlc_runner *r;
    mlc_error e;
    ck_assert_int_eq(mlc_runner_start(&o, &r, &e), MLC_OK);
    for (int i = 0; i < 5; i++) {
        mlc_runner_kick(r);
        sleep_ms(20);
    }
    sleep_ms(150);
    ck_assert_int_eq(runs_of(r), 0); /* still inside the debounce */
    ck_assert(wait_runs(r, 1, 3000));
    sleep_ms(500);
    ck_assert_int_eq(runs_of(r), 1);
    ck_assert_int_eq(count_lines(out), 1);
    mlc_runner_stop(r);
    ck_assert_ptr_nonnull(strstr(slurp(lf), "on-notify run 1: exit 0 after"));
    mlc_log_free(log);
    fclose(lf);
    free(d);
}
END_TEST

START_TEST(never_two_at_once_and_one_more_after_a_kick_during_a_run)
{
    char *d = tu_tmpdir(), cmd[1024], lock[300], out[300];
    snprintf(lock, sizeof lock, "%s/lock", d);
    snprintf(out, sizeof out, "%s/log", d);
    /* mkdir is atomic: a second run while one holds the lock writes OVERLAP */
    snprintf(cmd, sizeof cmd, "if mkdir '%s' 2>/dev/null; then echo start >>'%s'; sleep 0.6; rmdir '%s'; "
                              "else echo OVERLAP >>'%s'; fi",
             lock, out, lock, out);
    mlc_log *log = mlc_log_new(tmpfile(), MLC_LOG_TEXT, MLC_LOG_WARN);
    const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    mlc_runner_opts o = {.command = cmd, .debounce_ms = 50, .env = env, .log = log};
    mlc_runner *r;
    mlc_error e;
    ck_assert_int_eq(mlc_runner_start(&o, &r, &e), MLC_OK);
    mlc_runner_kick(r);
    sleep_ms(250); /* the first run is going */
    ck_assert_int_eq(runs_of(r), 1);
    for (int i = 0; i < 10; i++) { /* many kicks during it: one more run */
        mlc_runner_kick(r);
        sleep_ms(20);
    }
    ck_assert(wait_runs(r, 2, 5000));
    sleep_ms(900);
    ck_assert_int_eq(runs_of(r), 2);
    mlc_runner_stop(r);
    ck_assert_int_eq(count_lines(out), 2);
    FILE *f = fopen(out, "r");
    char buf[256] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    ck_assert_ptr_null(strstr(buf, "OVERLAP"));
    mlc_log_free(log);
    free(d);
}
END_TEST

START_TEST(clean_environment_no_fds_output_logged_masked)
{
    char *d = tu_tmpdir(), cmd[512], out[300];
    snprintf(out, sizeof out, "%s/env", d);
    int leak = open("/dev/null", O_RDONLY); /* without CLOEXEC, like a listening socket */
    ck_assert_int_ge(leak, 3);
    snprintf(cmd, sizeof cmd, "env >'%s'; ls /proc/self/fd | wc -l >>'%s'; echo 'token is s3cr3t-value'; exit 3",
             out, out);
    setenv("MLC_TEST_NOT_PASSED", "x", 1);
    FILE *lf = tmpfile();
    mlc_log *log = mlc_log_new(lf, MLC_LOG_TEXT, MLC_LOG_INFO);
    mlc_log_secret(log, "s3cr3t-value");
    const char *env[] = {"PATH=/usr/bin:/bin", "MLC_PROFILE=p1", NULL};
    mlc_runner_opts o = {.command = cmd, .debounce_ms = 0, .env = env, .log = log};
    mlc_runner *r;
    mlc_error e;
    ck_assert_int_eq(mlc_runner_start(&o, &r, &e), MLC_OK);
    mlc_runner_kick(r);
    ck_assert(wait_runs(r, 1, 3000));
    mlc_runner_stats s;
    mlc_runner_get_stats(r, &s);
    ck_assert_int_eq(s.last_status, 3);
    ck_assert_int_eq(s.failures, 1);
    mlc_runner_stop(r);
    FILE *f = fopen(out, "r");
    char buf[4096] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "MLC_PROFILE=p1"));
    ck_assert_ptr_null(strstr(buf, "MLC_TEST_NOT_PASSED"));
    ck_assert_ptr_null(strstr(buf, "HOME="));
    /* fds seen by ls: 0, 1, 2 and the one ls opens for the directory */
    char *last = strrchr(buf, '\n');
    while (last > buf && last[-1] != '\n')
        last--;
    ck_assert_int_le(atoi(last), 4);
    char *lg = slurp(lf);
    ck_assert_ptr_nonnull(strstr(lg, "on-notify run 1: token is ***"));
    ck_assert_ptr_null(strstr(lg, "s3cr3t"));
    ck_assert_ptr_nonnull(strstr(lg, "warning: on-notify run 1: exit 3 after"));
    close(leak);
    mlc_log_free(log);
    fclose(lf);
    free(d);
}
END_TEST

START_TEST(stop_waits_for_a_run_and_drops_a_pending_one)
{
    char *d = tu_tmpdir(), cmd[512], out[300];
    snprintf(out, sizeof out, "%s/done", d);
    snprintf(cmd, sizeof cmd, "sleep 0.4; echo done >>'%s'", out);
    mlc_log *log = mlc_log_new(tmpfile(), MLC_LOG_TEXT, MLC_LOG_WARN);
    const char *env[] = {"PATH=/usr/bin:/bin", NULL};
    mlc_runner_opts o = {.command = cmd, .debounce_ms = 0, .env = env, .log = log};
    mlc_runner *r;
    mlc_error e;
    ck_assert_int_eq(mlc_runner_start(&o, &r, &e), MLC_OK);
    mlc_runner_kick(r);
    sleep_ms(150);
    mlc_runner_kick(r); /* pending behind the running one */
    mlc_runner_stop(r);
    ck_assert_int_eq(count_lines(out), 1); /* the running one finished, the pending one never ran */
    mlc_runner_opts bad = {.command = "", .env = env, .log = log};
    ck_assert_int_eq(mlc_runner_start(&bad, &r, &e), MLC_ERR_USAGE);
    mlc_log_free(log);
    free(d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, burst_is_one_run_after_the_debounce);
    tcase_add_test(tc, never_two_at_once_and_one_more_after_a_kick_during_a_run);
    tcase_add_test(tc, clean_environment_no_fds_output_logged_masked);
    tcase_add_test(tc, stop_waits_for_a_run_and_drops_a_pending_one);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
