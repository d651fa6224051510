/* test_log.c: lib/log masks registered secrets in text and JSON output; lib/error's exit codes. */
#include "error.h"
#include "log.h"
#include "testutil.h"

#include <cjson/cJSON.h>

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
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
