/*
 * test_ims.c: unit tests of lib/ims that need no server: the logical id is
 * checked, the ParameterRequest carries what IMS documents, a message over 5 MB
 * or with over-long ids is refused before anything is sent (the .ionapi points
 * at a closed port and no token is ever asked for), accepted-document matching.
 * The HTTP exchanges themselves are tested against mlc-sim (test_bod.sh).
 */
#include "ims.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>

static const char ionapi[] = "{\"ti\":\"T_TST\",\"ci\":\"T_TST~c\",\"cs\":\"sec\",\"iu\":\"http://127.0.0.1:1\","
                             "\"pu\":\"http://127.0.0.1:1/T_TST/as/\",\"ot\":\"token.oauth2\","
                             "\"saak\":\"a\",\"sask\":\"b\"}";

static mlc_ionapi *ion;
static mlc_http *http;

static void setup(void)
{
    mlc_error e;
    ck_assert_int_eq(mlc_ionapi_parse(ionapi, strlen(ionapi), "t.ionapi", &ion, &e), MLC_OK);
    mlc_http_opts o = {.max_attempts = 1, .timeout_s = 2};
    ck_assert_int_eq(mlc_http_new(&o, &http, &e), MLC_OK);
    mlc_ionapi_attach(ion, http, NULL, NULL, 0);
}

static void teardown(void)
{
    mlc_ionapi_free(ion);
    mlc_http_free(http);
}

START_TEST(logical_id_is_checked)
{
    mlc_ims *m = NULL;
    mlc_error e;
    ck_assert_int_eq(mlc_ims_new(http, ion, NULL, NULL, NULL, &m, &e), MLC_ERR_CONFIG);
    ck_assert_int_eq(mlc_ims_new(http, ion, "infor.ims.mlc", NULL, NULL, &m, &e), MLC_ERR_CONFIG);
    ck_assert_int_eq(mlc_ims_new(http, ion, "lid://Infor.IMS", NULL, NULL, &m, &e), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "only a-z"));
    ck_assert_int_eq(mlc_ims_new(http, ion, "lid://infor.ims.mlc_1-a", NULL, NULL, &m, &e), MLC_OK);
    mlc_ims_free(m);
}
END_TEST

START_TEST(parameter_request_fields)
{
    mlc_ims *m = NULL;
    mlc_error e;
    ck_assert_int_eq(mlc_ims_new(http, ion, "lid://infor.ims.mlc", NULL, NULL, &m, &e), MLC_OK);
    mlc_ims_message msg = {"Process.ReceiveDelivery", "mlc-rcv-1", "MLC-rcv-1", "100_AAA", "WH1", "<x/>", 4};
    char *p = mlc_ims_parameter_request(m, &msg);
    cJSON *j = cJSON_Parse(p);
    ck_assert_ptr_nonnull(j);
    const char *want[][2] = {{"documentName", "Process.ReceiveDelivery"},
                             {"messageId", "mlc-rcv-1"},
                             {"fromLogicalId", "lid://infor.ims.mlc"},
                             {"toLogicalId", "lid://default"},
                             {"encoding", "NONE"},
                             {"characterSet", "UTF-8"},
                             {"accountingEntity", "100_AAA"},
                             {"location", "WH1"},
                             {"documentId", "MLC-rcv-1"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, want[i][0]);
        ck_assert_msg(cJSON_IsString(v) && !strcmp(v->valuestring, want[i][1]), "%s", want[i][0]);
    }
    cJSON_Delete(j);
    free(p);
    mlc_ims_free(m);
}
END_TEST

START_TEST(too_big_or_too_long_is_refused_before_sending)
{
    mlc_ims *m = NULL;
    mlc_error e;
    ck_assert_int_eq(mlc_ims_new(http, ion, "lid://infor.ims.mlc", NULL, NULL, &m, &e), MLC_OK);
    size_t big = MLC_IMS_MAX_MESSAGE + 1;
    char *xml = malloc(big);
    ck_assert_ptr_nonnull(xml);
    memset(xml, 'x', big);
    mlc_ims_message msg = {"Process.ReceiveDelivery", "mlc-rcv-1", "MLC-rcv-1", "100_AAA", "WH1", xml, big};
    long status = -1;
    ck_assert_int_eq(mlc_ims_send(m, &msg, &status, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "over ION's"));
    ck_assert_int_eq(status, 0);
    msg.len = 10;
    msg.location = "LOCATION-LONGER-THAN-22";
    ck_assert_int_eq(mlc_ims_send(m, &msg, &status, &e), MLC_ERR_INPUT);
    /* no token was asked for: nothing went out */
    ck_assert_int_eq(mlc_ionapi_login_count(ion), 0);
    free(xml);
    mlc_ims_free(m);
}
END_TEST

START_TEST(accepted_documents_match)
{
    char *names[] = {"Sync.AdvanceShipNotice", "ProcessReceiveDelivery"};
    ck_assert(mlc_ims_list_has(names, 2, "Sync.AdvanceShipNotice"));
    ck_assert(mlc_ims_list_has(names, 2, "Process.ReceiveDelivery"));
    ck_assert(!mlc_ims_list_has(names, 2, "Sync.ReceiveDelivery"));
    ck_assert(!mlc_ims_list_has(names, 0, "Sync.AdvanceShipNotice"));
}
END_TEST

static Suite *suite(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Suite *s = suite_create("ims");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, logical_id_is_checked);
    tcase_add_test(tc, parameter_request_fields);
    tcase_add_test(tc, too_big_or_too_long_is_refused_before_sending);
    tcase_add_test(tc, accepted_documents_match);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
