/* test_log.c: lib/log masks registered secrets in text and JSON output; the
 * progress line on a pseudo-terminal (count, rate, ETA when the total is known,
 * redraw throttling, clearing) and never on a file; lib/error's exit codes. */
#include "error.h"
#include "log.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <pty.h>
#include <time.h>

static char *slurp(FILE *f)
{
    static char buf[8192];
    size_t n;
    rewind(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    return buf;
}

START_TEST(secrets_are_masked_everywhere)
{
    FILE *f = tmpfile();
    mlc_log *log = mlc_log_new(f, MLC_LOG_TEXT, MLC_LOG_DEBUG);
    mlc_log_secret(log, "s3cr3t-token");
    mlc_log_secret(log, "abc"); /* too short: ignored, or every "abc" would vanish */
    mlc_log_error(log, "Authorization: Bearer s3cr3t-token and again s3cr3t-token; abc");
    char *out = slurp(f);
    ck_assert_ptr_null(strstr(out, "s3cr3t"));
    ck_assert_ptr_nonnull(strstr(out, "Bearer *** and again ***; abc"));
    char buf[64] = "x=s3cr3t-token;";
    mlc_log_redact(log, buf);
    ck_assert_str_eq(buf, "x=***;");
    mlc_log_free(log);
    fclose(f);
}
END_TEST

START_TEST(json_format_and_levels)
{
    FILE *f = tmpfile();
    mlc_log *log = mlc_log_new(f, MLC_LOG_JSON, MLC_LOG_WARN);
    mlc_log_set_program(log, "mlc test");
    mlc_log_secret(log, "hunter22");
    mlc_log_info(log, "hidden at warn level");
    mlc_log_warn(log, "quote \" and secret hunter22");
    char *out = slurp(f);
    ck_assert_ptr_null(strstr(out, "hidden"));
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "program")->valuestring, "mlc test");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "msg")->valuestring, "quote \" and secret ***");
    cJSON_Delete(j);
    mlc_log_free(log);
    fclose(f);
}
END_TEST

/* What the pty's master side has received since the last call (NUL-terminated). */
static char *pty_take(int master)
{
    static char buf[8192];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(master, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = 0;
    return buf;
}

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

START_TEST(progress_line_on_a_terminal_only)
{
    int master = -1, slave = -1;
    ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    FILE *tty = fdopen(slave, "w");
    ck_assert_ptr_nonnull(tty);
    setenv("TERM", "xterm", 1);
    mlc_log *log = mlc_log_new(tty, MLC_LOG_TEXT, MLC_LOG_INFO);
    mlc_log_set_program(log, "mlc sync-items");
    ck_assert_int_eq(mlc_log_progress_active(log), 1);

    /* the first update: count and total, no rate yet (nothing to measure) */
    double t0a = mono(), t0b, t1a, t1b;
    mlc_log_progress(log, "items", 0, 66);
    t0b = mono();
    char *o = pty_take(master);
    ck_assert_str_eq(o, "\rmlc sync-items: items: 0/66\033[K");
    /* 1.2 s later, 6 done: the rate since the first update (about 5/s) and the ETA
     * of the 60 left at that rate (about 12 s), within what this test measured */
    pause_ms(1200);
    t1a = mono();
    mlc_log_progress(log, "items", 6, 66);
    t1b = mono();
    double el_min = t1a - t0b, el_max = t1b - t0a;
    o = pty_take(master);
    double rate = 0;
    int eta = -1, used = 0;
    ck_assert_msg(sscanf(o, "\rmlc sync-items: items: 6/66, %lf/s, ETA %ds\033[K%n", &rate, &eta, &used) == 2 &&
                      used == (int)strlen(o),
                  "got [%s]", o);
    ck_assert_msg(rate >= 6 / el_max - 0.051 && rate <= 6 / el_min + 0.051, "rate %g, elapsed %g-%g s", rate, el_min,
                  el_max);
    ck_assert_msg(eta >= (int)(60 * el_min / 6 + 0.5) && eta <= (int)(60 * el_max / 6 + 0.5),
                  "ETA %d s for 60 left after 6 in %g-%g s", eta, el_min, el_max);
    /* a redraw within 0.1 s is skipped, except the last one */
    mlc_log_progress(log, "items", 6, 100);
    ck_assert_str_eq(pty_take(master), "");
    mlc_log_progress(log, "items", 66, 66);
    o = pty_take(master);
    ck_assert_msg(strstr(o, "items: 66/66, ") && strstr(o, "/s\033[K") && !strstr(o, "ETA"), "got [%s]", o);
    /* total unknown: count and rate, never an ETA */
    mlc_log_progress(log, "POs read", 3, -1);
    o = pty_take(master);
    ck_assert_str_eq(o, "\rmlc sync-items: POs read: 3\033[K");
    pause_ms(150);
    mlc_log_progress(log, "POs read", 9, -1);
    o = pty_take(master);
    ck_assert_msg(sscanf(o, "\rmlc sync-items: POs read: 9, %lf/s\033[K%n", &rate, &used) == 1 &&
                      used == (int)strlen(o) && !strstr(o, "ETA"),
                  "got [%s]", o);
    /* a rate-window wait, then done clears the line */
    mlc_log_progress_wait(log, 11500, "ShipStation's rate window");
    ck_assert_str_eq(pty_take(master), "\rmlc sync-items: waiting 12 s for ShipStation's rate window\033[K");
    mlc_log_progress_done(log);
    ck_assert_str_eq(pty_take(master), "\r\033[K");
    /* any message clears it first */
    mlc_log_progress(log, "items", 1, 2);
    pty_take(master);
    mlc_log_warn(log, "a warning");
    o = pty_take(master);
    ck_assert_msg(strncmp(o, "\r\033[K", 4) == 0 && strstr(o, "a warning"), "got [%s]", o);
    mlc_log_free(log);
    /* --no-progress, TERM=dumb: nothing */
    log = mlc_log_new(tty, MLC_LOG_TEXT, MLC_LOG_INFO);
    mlc_log_set_progress(log, 0);
    mlc_log_progress(log, "items", 1, 2);
    mlc_log_free(log);
    setenv("TERM", "dumb", 1);
    log = mlc_log_new(tty, MLC_LOG_TEXT, MLC_LOG_INFO);
    mlc_log_progress(log, "items", 1, 2);
    mlc_log_free(log);
    ck_assert_str_eq(pty_take(master), "");
    setenv("TERM", "xterm", 1);
    fclose(tty);
    close(master);

    /* a file (or a pipe, cron, a log): never a progress line */
    FILE *f = tmpfile();
    log = mlc_log_new(f, MLC_LOG_TEXT, MLC_LOG_INFO);
    ck_assert_int_eq(mlc_log_progress_active(log), 0);
    mlc_log_progress(log, "items", 1, 2);
    mlc_log_progress_wait(log, 1000, "ShipStation's rate window");
    mlc_log_progress_done(log);
    ck_assert_str_eq(slurp(f), "");
    mlc_log_free(log);
    fclose(f);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    FILE *pw = fdopen(p[1], "w");
    log = mlc_log_new(pw, MLC_LOG_TEXT, MLC_LOG_INFO);
    mlc_log_progress(log, "items", 1, 2);
    mlc_log_progress_done(log);
    mlc_log_free(log);
    fclose(pw);
    char c;
    ck_assert_int_eq(read(p[0], &c, 1), 0);
    close(p[0]);
}
END_TEST

START_TEST(exit_codes_follow_the_table)
{
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_USAGE), 64);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_INPUT), 65);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_UNAVAILABLE), 69);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_TRANSIENT), 75);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_CONFIG), 78);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_PIPE), 0);
    mlc_error e;
    ck_assert_int_eq(mlc_error_set(&e, MLC_ERR_INPUT, "line %d", 3), MLC_ERR_INPUT);
    mlc_error_prefix(&e, "stdin");
    ck_assert_str_eq(e.msg, "stdin: line 3");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, secrets_are_masked_everywhere);
    tcase_add_test(tc, json_format_and_levels);
    tcase_add_test(tc, exit_codes_follow_the_table);
    tcase_add_test(tc, progress_line_on_a_terminal_only);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
