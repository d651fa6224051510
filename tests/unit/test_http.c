/*
 * test_http.c: unit tests of lib/http: loopback-only plain http, URL encoding,
 * header and form redaction (also in debug logs), header capture, transient
 * classification, retries of idempotent requests only, Retry-After, body cap,
 * timeouts and refused connections.  Uses the scripted stub server.
 */
#include "http.h"
#include "log.h"
#include "stubserver.h"
#include "testutil.h"

#include <curl/curl.h>

static mlc_http *new_http(int attempts, long timeout_s, size_t max_body, mlc_log *log)
{
    mlc_http *h = NULL;
    mlc_http_opts o = {.timeout_s = timeout_s, .max_body = max_body, .retry_base_ms = 10,
                       .retry_cap_ms = 50, .max_attempts = attempts, .seed = 42, .log = log};
    ck_assert_int_eq(mlc_http_new(&o, &h, NULL), MLC_OK);
    return h;
}

START_TEST(loopback_hosts)
{
    const char *yes[] = {"127.0.0.1", "127.1.2.3", "127.255.255.255", "localhost", "LOCALHOST",
                         "::1", "[::1]"};
    const char *no[] = {"128.0.0.1", "10.0.0.1", "example.com", "127.0.0.1.evil.com", "127.0.0",
                        "127.0.0.256", "1270.0.0.1", "", "::2", "localhost.evil.com", "0.0.0.0"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        ck_assert_msg(mlc_http_host_is_loopback(yes[i]), "%s should be loopback", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        ck_assert_msg(!mlc_http_host_is_loopback(no[i]), "%s should not be loopback", no[i]);
}
END_TEST

START_TEST(plain_http_only_to_loopback)
{
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_check_url("https://api.shipstation.com/v2/x", &err), MLC_OK);
    ck_assert_int_eq(mlc_http_check_url("http://127.0.0.1:8080/x", &err), MLC_OK);
    ck_assert_int_eq(mlc_http_check_url("http://localhost/x", &err), MLC_OK);
    ck_assert_int_eq(mlc_http_check_url("http://[::1]:99/x", &err), MLC_OK);
    ck_assert_int_eq(mlc_http_check_url("http://api.shipstation.com/v2/x", &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "loopback"));
    ck_assert_int_eq(mlc_http_check_url("http://127.0.0.1.nip.io/x", &err), MLC_ERR_CONFIG);
    ck_assert_int_eq(mlc_http_check_url("ftp://127.0.0.1/x", &err), MLC_ERR_CONFIG);
    ck_assert_int_eq(mlc_http_check_url("file:///etc/passwd", &err), MLC_ERR_CONFIG);

    /* and mlc_http_do refuses before connecting */
    mlc_http *h = new_http(1, 5, 0, NULL);
    mlc_http_request req = {.method = "GET", .url = "http://example.invalid/x"};
    mlc_http_response resp;
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_CONFIG);
    ck_assert_int_eq(resp.status, 0);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
}
END_TEST

/* A URL with user information never shows it: not in a refusal, not in a
 * connection error (an .ionapi "iu"/"pu" may carry one). */
START_TEST(userinfo_is_masked_in_messages)
{
    char b[128];
    ck_assert_str_eq(mlc_http_url_masked("https://user:pw@h.example/x?q=1", b, sizeof b),
                     "https://***@h.example/x?q=1");
    ck_assert_str_eq(mlc_http_url_masked("https://h.example/a@b", b, sizeof b), "https://h.example/a@b");
    ck_assert_str_eq(mlc_http_url_masked("u:p@a@h/x", b, sizeof b), "***@h/x");
    ck_assert_str_eq(mlc_http_url_masked("https://h.example", b, sizeof b), "https://h.example");
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_check_url("ftp://user:s3cret@127.0.0.1/x", &err), MLC_ERR_CONFIG);
    ck_assert_msg(!strstr(err.msg, "s3cret") && strstr(err.msg, "***@127.0.0.1"), "%s", err.msg);
    ck_assert_int_eq(mlc_http_check_url("https://user:s3cret@exa mple/x", &err), MLC_ERR_CONFIG);
    ck_assert_msg(!strstr(err.msg, "s3cret"), "%s", err.msg);
    /* a connection error names the URL, masked */
    stub_server *s = stub_start();
    char url[160];
    snprintf(url, sizeof url, "http://user:s3cret@%s/x", s->base + strlen("http://"));
    stub_stop(s);
    mlc_http *h = new_http(1, 5, 0, NULL);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_UNAVAILABLE);
    ck_assert_msg(!strstr(err.msg, "s3cret") && strstr(err.msg, "***@"), "%s", err.msg);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
}
END_TEST

START_TEST(urlencode)
{
    char *e = mlc_http_urlencode("a b&c=d/é~._-");
    ck_assert_str_eq(e, "a%20b%26c%3Dd%2F%C3%A9~._-");
    free(e);
}
END_TEST

START_TEST(redact_headers)
{
    char out[256];
    mlc_http_redact_header("Authorization: Bearer eyJhbGciOi.secret.part", out, sizeof out);
    ck_assert_str_eq(out, "Authorization: Bearer ***");
    mlc_http_redact_header("authorization: Basic U2hpcFN0YXRpb246Um9ja3M=", out, sizeof out);
    ck_assert_ptr_null(strstr(out, "U2hp"));
    mlc_http_redact_header("api-key: TEST_abcdefgh12345", out, sizeof out);
    ck_assert_str_eq(out, "api-key: ***");
    mlc_http_redact_header("API-Key: TEST_abcdefgh12345", out, sizeof out);
    ck_assert_ptr_null(strstr(out, "TEST_"));
    mlc_http_redact_header("Content-Type: application/json", out, sizeof out);
    ck_assert_str_eq(out, "Content-Type: application/json");
}
END_TEST

START_TEST(redact_form)
{
    char body[] = "grant_type=password&username=T%23SAAK1&password=SASK%2Fsecret&client_id=T~ci"
                  "&client_secret=CSsecret&refresh_token=RTsecret&scope=";
    mlc_http_redact_form(body);
    ck_assert_ptr_null(strstr(body, "SAAK1"));
    ck_assert_ptr_null(strstr(body, "SASK"));
    ck_assert_ptr_null(strstr(body, "CSsecret"));
    ck_assert_ptr_null(strstr(body, "RTsecret"));
    ck_assert_ptr_nonnull(strstr(body, "grant_type=password"));
    ck_assert_ptr_nonnull(strstr(body, "client_id=T~ci"));
    ck_assert_ptr_nonnull(strstr(body, "password=***"));
}
END_TEST

START_TEST(headers_captured_and_sent)
{
    stub_server *s = stub_start();
    ck_assert_ptr_nonnull(s);
    stub_push(s, (stub_reply){.status = 200,
                              .headers = "X-Rate-Limit-Limit: 40\nX-Rate-Limit-Remaining: 7\n"
                                         "X-Rate-Limit-Reset: 12\n",
                              .body = "{\"ok\":true}"});
    mlc_http *h = new_http(3, 5, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/path?x=1", s->base);
    const char *hdrs[] = {"api-key: K123", NULL};
    mlc_http_request req = {.method = "GET", .url = url, .headers = hdrs};
    mlc_http_response resp;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_OK);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_str_eq(resp.body, "{\"ok\":true}");
    ck_assert_str_eq(mlc_http_response_header(&resp, "x-rate-limit-remaining"), "7");
    ck_assert_str_eq(mlc_http_response_header(&resp, "X-Rate-Limit-Reset"), "12");
    ck_assert_ptr_null(mlc_http_response_header(&resp, "Retry-After"));
    ck_assert_int_eq(resp.attempts, 1);
    ck_assert_int_eq(stub_count(s), 1);
    ck_assert_ptr_nonnull(strstr(s->reqs[0].headers, "K123"));
    ck_assert_str_eq(s->reqs[0].url, "/path?x=1");
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

START_TEST(get_retried_on_transient)
{
    stub_server *s = stub_start();
    stub_push(s, (stub_reply){.status = 503, .body = "busy"});
    stub_push(s, (stub_reply){.status = 429, .headers = "Retry-After: 1\n", .body = "slow down"});
    stub_push(s, (stub_reply){.status = 200, .body = "done"});
    mlc_http *h = new_http(5, 5, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/r", s->base);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    mlc_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_int_eq(resp.status, 200);
    ck_assert_int_eq(resp.attempts, 3);
    ck_assert_int_eq(stub_count(s), 3);
    /* Retry-After: 1 was honoured (backoff alone is capped at 50 ms) */
    ck_assert_msg(el >= 0.95, "waited only %.3f s", el);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

START_TEST(long_retry_after_not_slept)
{
    stub_server *s = stub_start();
    s->fallback.status = 503;
    s->fallback.headers = "Retry-After: 3600\n";
    mlc_http *h = new_http(5, 5, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/r", s->base);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    mlc_error err = {0};
    time_t t0 = time(NULL);
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_TRANSIENT);
    ck_assert(time(NULL) - t0 < 5);
    ck_assert_int_eq(stub_count(s), 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "3600"));
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

START_TEST(gives_up_after_max_attempts)
{
    stub_server *s = stub_start();
    s->fallback.status = 502;
    s->fallback.body = "bad gateway";
    mlc_http *h = new_http(3, 5, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/r", s->base);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_TRANSIENT);
    ck_assert_int_eq(resp.status, 502);
    ck_assert_int_eq(stub_count(s), 3);
    ck_assert_ptr_nonnull(strstr(err.msg, "502"));
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

START_TEST(post_not_retried_unless_idempotent)
{
    stub_server *s = stub_start();
    s->fallback.status = 500;
    mlc_http *h = new_http(4, 5, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/p", s->base);
    mlc_http_request req = {.method = "POST", .url = url, .body = "{\"a\":1}", .body_len = 7};
    mlc_http_response resp;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_TRANSIENT);
    ck_assert_int_eq(stub_count(s), 1);
    ck_assert_str_eq(s->reqs[0].body, "{\"a\":1}");
    mlc_http_response_free(&resp);
    req.idempotent = 1;
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_TRANSIENT);
    ck_assert_int_eq(stub_count(s), 5);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

START_TEST(permanent_4xx_is_ok_and_not_retried)
{
    stub_server *s = stub_start();
    s->fallback.status = 400;
    s->fallback.body = "nope";
    mlc_http *h = new_http(4, 5, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/p", s->base);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, NULL), MLC_OK);
    ck_assert_int_eq(resp.status, 400);
    ck_assert_int_eq(stub_count(s), 1);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

START_TEST(empty_reply_is_transient)
{
    stub_server *s = stub_start();
    s->fallback.drop = 1;
    mlc_http *h = new_http(2, 5, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/drop", s->base);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_TRANSIENT);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_int_eq(stub_count(s), 2);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

START_TEST(timeout_is_transient)
{
    stub_server *s = stub_start();
    s->fallback.delay_ms = 2500;
    mlc_http *h = new_http(1, 1, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/slow", s->base);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_TRANSIENT);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

START_TEST(refused_is_unavailable)
{
    /* a port nothing listens on: start and stop a server to learn a free one */
    stub_server *s = stub_start();
    char url[128];
    snprintf(url, sizeof url, "%s/x", s->base);
    stub_stop(s);
    mlc_http *h = new_http(3, 5, 0, NULL);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_UNAVAILABLE);
    ck_assert_int_eq(resp.attempts, 1);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
}
END_TEST

START_TEST(body_cap)
{
    stub_server *s = stub_start();
    size_t n = 200000;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    s->fallback.body = big;
    mlc_http *h = new_http(1, 5, 100000, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/big", s->base);
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_ERR_REMOTE);
    ck_assert_ptr_nonnull(strstr(err.msg, "exceeds"));
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    /* under the cap it arrives whole */
    h = new_http(1, 5, 300000, NULL);
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, &err), MLC_OK);
    ck_assert_uint_eq(resp.body_len, n);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
    free(big);
}
END_TEST

START_TEST(debug_log_redacted)
{
    stub_server *s = stub_start();
    s->fallback.body = "{\"access_token\":\"AT_very_secret_token\",\"expires_in\":3600}";
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *lf = open_memstream(&logbuf, &loglen);
    mlc_log *log = mlc_log_new(lf, MLC_LOG_TEXT, MLC_LOG_DEBUG);
    mlc_http *h = new_http(1, 5, 0, log);
    char url[128];
    snprintf(url, sizeof url, "%s/token", s->base);
    const char *hdrs[] = {"Authorization: Bearer BEARER_secret_abc", "api-key: APIKEY_secret_xyz",
                          NULL};
    const char *form = "grant_type=password&username=SAAK_secret&password=SASK_secret"
                       "&client_id=cid&client_secret=CS_secret";
    mlc_http_request req = {.method = "POST", .url = url, .headers = hdrs, .body = form,
                            .body_len = strlen(form), .form_body = 1};
    mlc_http_response resp;
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, NULL), MLC_OK);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    fclose(lf);
    ck_assert_ptr_nonnull(strstr(logbuf, "> POST"));  /* debug output exists */
    const char *secrets[] = {"BEARER_secret", "APIKEY_secret", "SAAK_secret", "SASK_secret",
                             "CS_secret", "AT_very_secret"};
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
        ck_assert_msg(!strstr(logbuf, secrets[i]), "%s leaked into the debug log", secrets[i]);
    mlc_log_free(log);
    free(logbuf);
    stub_stop(s);
}
END_TEST

static mlc_err count_before(void *ud, mlc_error *err)
{
    (void)err;
    ((int *)ud)[0]++;
    return MLC_OK;
}

static void count_after(void *ud, const mlc_http_response *r)
{
    int *c = ud;
    c[1]++;
    if (r->status == 429 && mlc_http_response_header(r, "Retry-After"))
        c[2]++;
}

START_TEST(hooks_called_per_attempt)
{
    stub_server *s = stub_start();
    stub_push(s, (stub_reply){.status = 429, .headers = "Retry-After: 0\n"});
    stub_push(s, (stub_reply){.status = 200});
    mlc_http *h = new_http(3, 5, 0, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/h", s->base);
    int counts[3] = {0, 0, 0};
    mlc_http_request req = {.method = "GET", .url = url, .before = count_before,
                            .after = count_after, .hook_ud = counts};
    mlc_http_response resp;
    ck_assert_int_eq(mlc_http_do(h, &req, &resp, NULL), MLC_OK);
    ck_assert_int_eq(counts[0], 2);
    ck_assert_int_eq(counts[1], 2);
    ck_assert_int_eq(counts[2], 1);
    mlc_http_response_free(&resp);
    mlc_http_free(h);
    stub_stop(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, loopback_hosts);
    tcase_add_test(tc, plain_http_only_to_loopback);
    tcase_add_test(tc, userinfo_is_masked_in_messages);
    tcase_add_test(tc, urlencode);
    tcase_add_test(tc, redact_headers);
    tcase_add_test(tc, redact_form);
    tcase_add_test(tc, headers_captured_and_sent);
    tcase_add_test(tc, get_retried_on_transient);
    tcase_add_test(tc, long_retry_after_not_slept);
    tcase_add_test(tc, gives_up_after_max_attempts);
    tcase_add_test(tc, post_not_retried_unless_idempotent);
    tcase_add_test(tc, permanent_4xx_is_ok_and_not_retried);
    tcase_add_test(tc, empty_reply_is_transient);
    tcase_add_test(tc, timeout_is_transient);
    tcase_add_test(tc, refused_is_unavailable);
    tcase_add_test(tc, body_cap);
    tcase_add_test(tc, debug_log_redacted);
    tcase_add_test(tc, hooks_called_per_attempt);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
