/* test_trace.c: lib/trace writes valid HAR 1.2 with the required fields, and never a
 * secret: Authorization/api-key values masked, form bodies (token requests) and token
 * responses left out, registered secrets masked in URLs and bodies; a failed exchange
 * is an entry with status 0; a count-only trace writes nothing. Also lib/log's run
 * summary (counts, last error, last info even when not shown). */
#include "http.h"
#include "trace.h"
#include "testutil.h"

#include <cjson/cJSON.h>

static cJSON *load(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    ck_assert_ptr_null(strstr(buf, "s3cr3t"));
    ck_assert_ptr_null(strstr(buf, "tok-abcdef"));
    cJSON *j = cJSON_Parse(buf);
    ck_assert_msg(j != NULL, "not JSON: %s", buf);
    return j;
}

START_TEST(har_fields_and_redaction)
{
    char *d = tu_tmpdir(), path[300];
    snprintf(path, sizeof path, "%s/t.har", d);
    mlc_log *log = mlc_log_new(tmpfile(), MLC_LOG_TEXT, MLC_LOG_WARN);
    mlc_log_secret(log, "s3cr3t-webhook-token");
    mlc_trace *t;
    mlc_error e;
    ck_assert_int_eq(mlc_trace_open(path, log, &t, &e), MLC_OK);

    const char *h1[] = {"Authorization: Bearer tok-abcdef", "api-key: s3cr3t-key-0001", "Accept: application/json", NULL};
    mlc_http_header rh[] = {{"Content-Type", "application/json"}, {"X-Rate-Limit-Remaining", "39"}};
    char body1[] = "{\"url\":\"https://h.example/s3cr3t-webhook-token\"}";
    mlc_http_response r1 = {.status = 200, .body = body1, .body_len = strlen(body1), .headers = rh, .nheaders = 2};
    mlc_trace_request q1 = {"GET", "http://127.0.0.1:1/v2/x?page=2&a=s3cr3t-webhook-token", h1, NULL, 0, 0};
    mlc_trace_add(t, &q1, &r1, 1796123400123.0, 12.5, NULL);

    const char *h2[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *form = "grant_type=password&client_secret=s3cr3t-cs&password=s3cr3t-pw";
    char body2[] = "{\"access_token\":\"tok-abcdef\",\"expires_in\":7200}";
    mlc_http_response r2 = {.status = 200, .body = body2, .body_len = strlen(body2)};
    mlc_trace_request q2 = {"POST", "http://127.0.0.1:1/T/as/token.oauth2", h2, form, strlen(form), 1};
    mlc_trace_add(t, &q2, &r2, 1796123401000.0, 3, NULL);

    char body3[] = "{\"refresh_token\":\"tok-abcdef\"}"; /* a token in an answer to a non-form request */
    mlc_http_response r3 = {.status = 200, .body = body3, .body_len = strlen(body3)};
    mlc_trace_request q3 = {"POST", "http://127.0.0.1:1/x", NULL, "{}", 2, 0};
    mlc_trace_add(t, &q3, &r3, 1796123402000.0, 3, NULL);

    mlc_trace_request q4 = {"GET", "http://127.0.0.1:1/down", NULL, NULL, 0, 0};
    mlc_trace_add(t, &q4, NULL, 1796123403000.0, 1, "connection refused");
    ck_assert_int_eq(mlc_trace_count(t), 4);
    ck_assert_int_eq(mlc_trace_close(t, &e), MLC_OK);

    cJSON *j = load(path);
    cJSON *lg = cJSON_GetObjectItem(j, "log");
    ck_assert_str_eq(cJSON_GetObjectItem(lg, "version")->valuestring, "1.2");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(lg, "creator"), "name")->valuestring, "mlc");
    cJSON *en = cJSON_GetObjectItem(lg, "entries");
    ck_assert_int_eq(cJSON_GetArraySize(en), 4);
    cJSON *e0 = cJSON_GetArrayItem(en, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "startedDateTime")->valuestring, "2026-12-01T11:10:00.123Z");
    cJSON *rq = cJSON_GetObjectItem(e0, "request");
    cJSON *hs = cJSON_GetObjectItem(rq, "headers");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(hs, 0), "value")->valuestring, "Bearer ***");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(hs, 1), "value")->valuestring, "***");
    cJSON *qs = cJSON_GetObjectItem(rq, "queryString");
    ck_assert_int_eq(cJSON_GetArraySize(qs), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(qs, 0), "value")->valuestring, "2");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(qs, 1), "value")->valuestring, "***");
    const char *req_fields[] = {"method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize",
                                "bodySize"};
    for (size_t i = 0; i < sizeof req_fields / sizeof *req_fields; i++)
        ck_assert_msg(cJSON_GetObjectItem(rq, req_fields[i]) != NULL, "request.%s", req_fields[i]);
    cJSON *rs = cJSON_GetObjectItem(e0, "response");
    const char *resp_fields[] = {"status", "statusText", "httpVersion", "cookies", "headers", "content",
                                 "redirectURL", "headersSize", "bodySize"};
    for (size_t i = 0; i < sizeof resp_fields / sizeof *resp_fields; i++)
        ck_assert_msg(cJSON_GetObjectItem(rs, resp_fields[i]) != NULL, "response.%s", resp_fields[i]);
    cJSON *ct = cJSON_GetObjectItem(rs, "content");
    ck_assert_str_eq(cJSON_GetObjectItem(ct, "mimeType")->valuestring, "application/json");
    ck_assert_str_eq(cJSON_GetObjectItem(ct, "text")->valuestring, "{\"url\":\"https://h.example/***\"}");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(e0, "cache"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(e0, "timings"), "wait"));

    cJSON *e1 = cJSON_GetArrayItem(en, 1);
    cJSON *pd = cJSON_GetObjectItem(cJSON_GetObjectItem(e1, "request"), "postData");
    ck_assert_str_eq(cJSON_GetObjectItem(pd, "text")->valuestring, "");
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e1, "request"), "bodySize")->valueint, (int)strlen(form));
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(e1, "response"), "content"), "text"));
    cJSON *e2 = cJSON_GetArrayItem(en, 2);
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(e2, "response"), "content"), "text"));
    cJSON *e3 = cJSON_GetArrayItem(en, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e3, "response"), "status")->valueint, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e3, "response"), "_error")->valuestring,
                     "connection refused");
    cJSON_Delete(j);

    /* count only: no file */
    ck_assert_int_eq(mlc_trace_open(NULL, log, &t, &e), MLC_OK);
    mlc_trace_add(t, &q4, NULL, 0, 0, "x");
    ck_assert_int_eq(mlc_trace_count(t), 1);
    mlc_trace_close(t, NULL);
    snprintf(path, sizeof path, "%s/missing/t.har", d);
    ck_assert_int_eq(mlc_trace_open(path, log, &t, &e), MLC_ERR_IO);
    mlc_log_free(log);
    free(d);
}
END_TEST

START_TEST(log_run_summary)
{
    FILE *f = tmpfile();
    mlc_log *log = mlc_log_new(f, MLC_LOG_TEXT, MLC_LOG_WARN);
    mlc_log_secret(log, "s3cr3t-x");
    mlc_log_info(log, "3 posted (not shown at warn level)");
    mlc_log_warn(log, "w1");
    mlc_log_error(log, "e1 s3cr3t-x");
    mlc_log_error(log, "e2");
    ck_assert_int_eq(mlc_log_count(log, MLC_LOG_ERROR), 2);
    ck_assert_int_eq(mlc_log_count(log, MLC_LOG_WARN), 1);
    ck_assert_str_eq(mlc_log_last_error(log), "e2");
    ck_assert_str_eq(mlc_log_last_info(log), "3 posted (not shown at warn level)");
    rewind(f);
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    ck_assert_ptr_null(strstr(buf, "not shown"));
    ck_assert_ptr_nonnull(strstr(buf, "e1 ***"));
    /* a regular file is not a terminal: no progress line */
    ck_assert_int_eq(mlc_log_progress_active(log), 0);
    mlc_log_progress(log, "POs", 1, 2);
    ck_assert_int_eq((long)ftell(f), (long)n);
    mlc_log_free(log);
    fclose(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, har_fields_and_redaction);
    tcase_add_test(tc, log_run_summary);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
