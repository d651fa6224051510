/*
 * test_shipstation.c: unit tests of lib/shipstation: auth headers (V2 api-key,
 * V1 Basic), error bodies of both versions in the message, status mapping,
 * pagination envelopes (V2 links, V1 collection, bare arrays), host pinning of
 * absolute URLs (webhook resource_url), the shared rate limiter fed from the
 * response headers, keys never in messages or debug logs.
 */
#include "shipstation.h"
#include "stubserver.h"
#include "testutil.h"
#include <limits.h>

#include <curl/curl.h>

#define V2KEY "TEST_v2key_Secret123"
#define V1KEY "v1keyABC"
#define V1SEC "v1secretXYZ"

typedef struct fx {
    stub_server *s;
    mlc_ss *ss;
    char *dir;
    char *logbuf;
    size_t loglen;
    FILE *logf;
    mlc_log *log;
} fx;

static void fx_init(fx *f, int v2, int v1)
{
    memset(f, 0, sizeof *f);
    f->s = stub_start();
    f->dir = tu_tmpdir();
    f->logf = open_memstream(&f->logbuf, &f->loglen);
    f->log = mlc_log_new(f->logf, MLC_LOG_TEXT, MLC_LOG_DEBUG);
    mlc_ss_opts o = {.v2_url = f->s->base, .v1_url = f->s->base,
                     .v2_key = v2 ? V2KEY : NULL, .v1_key = v1 ? V1KEY : NULL,
                     .v1_secret = v1 ? V1SEC : NULL, .state_dir = f->dir,
                     .rate_limit_v2 = 200, .rate_limit_v1 = 40, .rate_window_ms = 60000,
                     .http = {.timeout_s = 5, .max_attempts = 2, .retry_base_ms = 1,
                              .retry_cap_ms = 5},
                     .log = f->log};
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ss_new_with(&o, &f->ss, &err), MLC_OK);
}

static void fx_free(fx *f)
{
    mlc_ss_free(f->ss);
    stub_stop(f->s);
    mlc_log_free(f->log);
    fclose(f->logf);
    ck_assert_msg(!strstr(f->logbuf, V2KEY) && !strstr(f->logbuf, V1SEC),
                  "key in debug log: %s", f->logbuf);
    free(f->logbuf);
    free(f->dir);
}

START_TEST(v2_auth_and_body)
{
    fx f;
    fx_init(&f, 1, 0);
    f.s->fallback.status = 200;
    f.s->fallback.body = "{\"shipments\":[{\"shipment_id\":\"se-1\"}],\"total\":1,\"page\":1,"
                         "\"pages\":1,\"links\":{\"first\":{\"href\":\"x\"},\"last\":{\"href\":\"x\"},"
                         "\"prev\":{},\"next\":{}}}";
    cJSON *body = cJSON_Parse("[{\"external_shipment_id\":\"PO1\"}]");
    mlc_ss_response r;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V2, "POST", "/v2/shipments", body, 0, &r, &err),
                     MLC_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(r.json);
    mlc_ss_response_free(&r);
    cJSON_Delete(body);
    stub_req *q = &f.s->reqs[0];
    ck_assert_str_eq(q->method, "POST");
    ck_assert_str_eq(q->url, "/v2/shipments");
    ck_assert_ptr_nonnull(strstr(q->headers, V2KEY));
    ck_assert_ptr_nonnull(strstr(q->headers, "application/json"));
    ck_assert_str_eq(q->body, "[{\"external_shipment_id\":\"PO1\"}]");
    /* no V1 credentials: refused without a request */
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V1, "GET", "/orders", NULL, 1, &r, &err),
                     MLC_ERR_CONFIG);
    ck_assert_int_eq(stub_count(f.s), 1);
    ck_assert_str_eq(mlc_ss_fingerprint(f.ss, MLC_SS_V1), "");
    ck_assert_uint_eq(strlen(mlc_ss_fingerprint(f.ss, MLC_SS_V2)), 8);
    fx_free(&f);
}
END_TEST

START_TEST(v1_basic_auth)
{
    fx f;
    fx_init(&f, 0, 1);
    f.s->fallback.body = "{\"orders\":[],\"total\":0,\"page\":1,\"pages\":0}";
    f.s->fallback.headers = "X-Rate-Limit-Limit: 40\nX-Rate-Limit-Remaining: 39\n"
                            "X-Rate-Limit-Reset: 59\n";
    mlc_ss_response r;
    const cJSON *items = NULL;
    int more = 1;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ss_list_page(f.ss, MLC_SS_V1, "/orders?orderStatus=shipped", "orders", 1,
                                      1, &r, &items, &more, &err),
                     MLC_OK);
    ck_assert_ptr_nonnull(items);
    ck_assert_int_eq(more, 0);
    ck_assert_str_eq(mlc_ss_response_header(&r, "X-Rate-Limit-Remaining"), "39");
    mlc_ss_response_free(&r);
    stub_req *q = &f.s->reqs[0];
    ck_assert_str_eq(q->url, "/orders?orderStatus=shipped&page=1&pageSize=1");
    /* base64("v1keyABC:v1secretXYZ") */
    ck_assert_ptr_nonnull(strstr(q->headers, "Basic djFrZXlBQkM6djFzZWNyZXRYWVo="));
    /* the limiter saw the server's headers */
    int left = mlc_ss_remaining(f.ss, MLC_SS_V1);
    ck_assert_msg(left >= 0 && left <= 39, "remaining %d", left);
    fx_free(&f);
}
END_TEST

START_TEST(v2_error_body)
{
    fx f;
    fx_init(&f, 1, 0);
    stub_push(f.s, (stub_reply){.status = 400,
                                .body = "{\"request_id\":\"aa3d8e8e-462b-4476-9618-72db7f7b7009\","
                                        "\"errors\":[{\"error_source\":\"ShipStation\","
                                        "\"error_type\":\"validation\",\"error_code\":"
                                        "\"invalid_field_value\",\"message\":\"page_size must be "
                                        ">= 1\"}]}"});
    stub_push(f.s, (stub_reply){.status = 401,
                                .body = "{\"request_id\":\"x\",\"errors\":[{\"error_source\":"
                                        "\"ShipStation\",\"error_type\":\"security\",\"error_code\":"
                                        "\"unauthorized\",\"message\":\"The API key is invalid.\"}]}"});
    stub_push(f.s, (stub_reply){.status = 404, .body = "{}"});
    mlc_ss_response r;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V2, "GET", "/v2/shipments?page_size=0", NULL, 1,
                                    &r, &err),
                     MLC_ERR_REMOTE);
    ck_assert_ptr_nonnull(strstr(err.msg, "page_size must be >= 1"));
    ck_assert_ptr_nonnull(strstr(err.msg, "invalid_field_value"));
    ck_assert_ptr_nonnull(strstr(err.msg, "aa3d8e8e"));
    ck_assert_int_eq(r.status, 400);
    mlc_ss_response_free(&r);
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V2, "GET", "/v2/shipments", NULL, 1, &r, &err),
                     MLC_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "The API key is invalid."));
    ck_assert_ptr_null(strstr(err.msg, V2KEY));
    mlc_ss_response_free(&r);
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V2, "GET", "/v2/shipments/se-9", NULL, 1, &r, &err),
                     MLC_ERR_NOTFOUND);
    mlc_ss_response_free(&r);
    fx_free(&f);
}
END_TEST

START_TEST(v1_error_bodies)
{
    char buf[300];
    cJSON *j = cJSON_Parse("{\"Message\":\"The request is invalid.\",\"ModelState\":"
                           "{\"request.testlabel\":[\"The value '0' is not valid\"]}}");
    mlc_ss_error_text(j, NULL, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "The request is invalid."));
    ck_assert_ptr_nonnull(strstr(buf, "request.testlabel"));
    ck_assert_ptr_nonnull(strstr(buf, "The value '0' is not valid"));
    cJSON_Delete(j);
    j = cJSON_Parse("{\"message\":\"Invalid API credentials\"}");
    mlc_ss_error_text(j, NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "Invalid API credentials");
    cJSON_Delete(j);
    j = cJSON_Parse("{\"Message\":\"An error has occurred.\",\"ExceptionMessage\":\"Object ref\"}");
    mlc_ss_error_text(j, NULL, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "Object ref"));
    cJSON_Delete(j);
    mlc_ss_error_text(NULL, "<html>Bad\nGateway</html>", buf, sizeof buf);
    ck_assert_str_eq(buf, "<html>Bad Gateway</html>");
}
END_TEST

START_TEST(page_info)
{
    int page, pages, total, next;
    cJSON *j = cJSON_Parse("{\"shipments\":[],\"total\":60,\"page\":2,\"pages\":3,\"links\":{}}");
    mlc_ss_page_info(j, &page, &pages, &total, &next);
    ck_assert_int_eq(page, 2);
    ck_assert_int_eq(pages, 3);
    ck_assert_int_eq(total, 60);
    ck_assert_int_eq(next, 1);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"orders\":[],\"total\":60,\"page\":3,\"pages\":3}");
    mlc_ss_page_info(j, &page, &pages, &total, &next);
    ck_assert_int_eq(next, 0);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"items\":[],\"links\":{\"next\":{\"href\":\"/v2/x?page=2\"}}}");
    mlc_ss_page_info(j, &page, &pages, &total, &next);
    ck_assert_int_eq(page, -1);
    ck_assert_int_eq(next, 1);
    cJSON_Delete(j);
    /* found by fuzz/fuzz_shipstation: numbers beyond int were cast to int (undefined) */
    j = cJSON_Parse("{\"orders\":[],\"total\":5e54,\"page\":1,\"pages\":1e10}");
    mlc_ss_page_info(j, &page, &pages, &total, &next);
    ck_assert_int_eq(page, 1);
    ck_assert_int_eq(pages, INT_MAX);
    ck_assert_int_eq(total, INT_MAX);
    ck_assert_int_eq(next, 1);
    cJSON_Delete(j);
}
END_TEST

START_TEST(list_pages)
{
    fx f;
    fx_init(&f, 1, 1);
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"shipments\":[{\"a\":1},{\"a\":2}],\"total\":3,\"page\":1,"
                                        "\"pages\":2,\"links\":{\"next\":{\"href\":\"x\"}}}"});
    stub_push(f.s, (stub_reply){.status = 200, .body = "[{\"warehouseId\":1}]"});
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"nothing\":[]}"});
    mlc_ss_response r;
    const cJSON *items;
    int more;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ss_list_page(f.ss, MLC_SS_V2, "/v2/shipments", "shipments", 1, 2, &r,
                                      &items, &more, &err),
                     MLC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(items), 2);
    ck_assert_int_eq(more, 1);
    ck_assert_str_eq(f.s->reqs[0].url, "/v2/shipments?page=1&page_size=2");
    mlc_ss_response_free(&r);
    ck_assert_int_eq(mlc_ss_list_page(f.ss, MLC_SS_V1, "/warehouses", "warehouses", 1, 100, &r,
                                      &items, &more, &err),
                     MLC_OK);
    ck_assert(cJSON_IsArray(items));
    ck_assert_int_eq(more, 0);
    mlc_ss_response_free(&r);
    ck_assert_int_eq(mlc_ss_list_page(f.ss, MLC_SS_V2, "/v2/products", "products", 1, 100, &r,
                                      &items, &more, &err),
                     MLC_ERR_REMOTE);
    mlc_ss_response_free(&r);
    fx_free(&f);
}
END_TEST

START_TEST(host_pinning)
{
    fx f;
    fx_init(&f, 1, 1);
    mlc_error err = {0};
    char ok[160];
    snprintf(ok, sizeof ok, "%s/v2/labels?shipment_id=se-1", f.s->base);
    ck_assert_int_eq(mlc_ss_check_url(f.ss, MLC_SS_V2, ok, &err), MLC_OK);
    ck_assert_int_eq(mlc_ss_check_url(f.ss, MLC_SS_V2, "https://evil.example.com/v2/x", &err),
                     MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(err.msg, "refusing"));
    ck_assert_int_eq(mlc_ss_check_url(f.ss, MLC_SS_V2, "http://127.0.0.1:1/v2/x", &err),
                     MLC_ERR_INPUT); /* other port */
    mlc_ss_response r;
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V1, "GET", "https://attacker.test/shipments",
                                    NULL, 1, &r, &err),
                     MLC_ERR_INPUT);
    ck_assert_int_eq(stub_count(f.s), 0);
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V2, "GET", ok, NULL, 1, &r, &err), MLC_OK);
    mlc_ss_response_free(&r);
    ck_assert_int_eq(stub_count(f.s), 1);
    fx_free(&f);

    /* the public V1 host accepts its numbered siblings only */
    mlc_ss *ss = NULL;
    mlc_ss_opts o = {.v1_key = "k1234", .v1_secret = "s1234"};
    ck_assert_int_eq(mlc_ss_new_with(&o, &ss, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ss_check_url(ss, MLC_SS_V1, "https://ssapi6.shipstation.com/shipments?x=1",
                                      NULL), MLC_OK);
    ck_assert_int_eq(mlc_ss_check_url(ss, MLC_SS_V1, "https://ssapi.shipstation.com.evil.io/x",
                                      NULL), MLC_ERR_INPUT);
    ck_assert_int_eq(mlc_ss_check_url(ss, MLC_SS_V1, "http://ssapi.shipstation.com/x", NULL),
                     MLC_ERR_INPUT);
    mlc_ss_free(ss);
}
END_TEST

START_TEST(plain_http_remote_refused)
{
    mlc_ss *ss = NULL;
    mlc_error err = {0};
    mlc_ss_opts o = {.v2_url = "http://api.shipstation.com", .v2_key = "abcd1234"};
    ck_assert_int_eq(mlc_ss_new_with(&o, &ss, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "loopback"));
}
END_TEST

START_TEST(rate_limited_429)
{
    fx f;
    fx_init(&f, 1, 0);
    stub_push(f.s, (stub_reply){.status = 429, .headers = "Retry-After: 1\n",
                                .body = "{\"request_id\":\"r\",\"errors\":[{\"error_source\":"
                                        "\"ShipStation\",\"error_type\":\"system\",\"error_code\":"
                                        "\"rate_limit_exceeded\",\"message\":\"slow down\"}]}"});
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"ok\":1}"});
    mlc_ss_response r;
    mlc_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V2, "GET", "/v2/x", NULL, 1, &r, &err), MLC_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(el >= 0.9, "retried after %.2f s, before Retry-After", el);
    ck_assert_int_eq(stub_count(f.s), 2);
    mlc_ss_response_free(&r);
    /* a non-idempotent POST gets the 429 back as transient */
    stub_push(f.s, (stub_reply){.status = 429, .headers = "Retry-After: 0\n"});
    ck_assert_int_eq(mlc_ss_request(f.ss, MLC_SS_V2, "POST", "/v2/x", NULL, 0, &r, &err),
                     MLC_ERR_TRANSIENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "429"));
    mlc_ss_response_free(&r);
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("shipstation");
    TCase *tc = tcase_create("shipstation");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, v2_auth_and_body);
    tcase_add_test(tc, v1_basic_auth);
    tcase_add_test(tc, v2_error_body);
    tcase_add_test(tc, v1_error_bodies);
    tcase_add_test(tc, page_info);
    tcase_add_test(tc, list_pages);
    tcase_add_test(tc, host_pinning);
    tcase_add_test(tc, plain_http_remote_refused);
    tcase_add_test(tc, rate_limited_429);
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
