/*
 * test_m3.c: unit tests of lib/m3: parsing of the three response shapes (v2
 * results/records/errors with nrOfSuccessfullTransactions, v1 MIRecord/NameValue
 * with ErrorMessage, the bare v1 NOK), padded values, partial list failure, bulk
 * per-transaction results; URL building (encoding, one slash, maxrecs); CONO/DIVI
 * only where the transaction defines them; the 401 refresh-and-replay-once; HTTP
 * status mapping (bare 400 permanent, 5xx transient); column selection (returncols,
 * selectedColumns, cloudsuite.select_columns).
 */
#include "m3.h"
#include "po.h"
#include "stubserver.h"
#include "testutil.h"

#include <curl/curl.h>

static mlc_m3_result *parse_ok(const char *body)
{
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_result_parse(body, strlen(body), "T/T", &r, &err), MLC_OK);
    ck_assert_ptr_nonnull(r);
    return r;
}

START_TEST(v2_records_trimmed)
{
    const char *b =
        "{\"results\":[{\"transaction\":\"LstLine\",\"records\":["
        "{\"CONO\":\"100\",\"PUNO\":\"1000123   \",\"PNLI\":\"10\",\"ITDS\":\"Widget   \",\"ORQA\":5},"
        "{\"CONO\":\"100\",\"PUNO\":\"1000123\",\"PNLI\":\"20\",\"ITDS\":\"   \",\"ORQA\":\"2.5\"}],"
        "\"parameters\":{\"PUNO\":\"1000123\"},\"errorMessage\":null,\"errorCode\":null,"
        "\"errorCfg\":null,\"errorField\":null,\"errorType\":null,\"notProcessed\":false}],"
        "\"bulkJobId\":\"x\",\"wasTerminated\":false,\"terminationReason\":null,"
        "\"nrOfSuccessfullTransactions\":1,\"nrOfFailedTransactions\":0,"
        "\"nrOfNotProcessedTransactions\":0}";
    mlc_m3_result *r = parse_ok(b);
    ck_assert(mlc_m3_result_ok(r));
    ck_assert_uint_eq(mlc_m3_result_count(r), 2);
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "PUNO"), "1000123");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "ITDS"), "Widget");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "ORQA"), "5");
    ck_assert_str_eq(mlc_m3_result_get(r, 1, "ITDS"), "");
    ck_assert_str_eq(mlc_m3_result_get(r, 1, "ORQA"), "2.5");
    ck_assert_ptr_null(mlc_m3_result_get(r, 1, "NOPE"));
    ck_assert_ptr_null(mlc_m3_result_get(r, 2, "PUNO"));
    ck_assert_str_eq(mlc_m3_result_message(r), "");
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(v2_nok)
{
    const char *b =
        "{\"results\":[{\"transaction\":\"Receipt\",\"records\":[],"
        "\"errorMessage\":\"Quantity exceeds open quantity                                  \","
        "\"errorCode\":\"WRV0101\",\"errorField\":\"RVQA\",\"errorType\":\"ServerReturnedNOK\","
        "\"notProcessed\":false}],\"wasTerminated\":false,"
        "\"nrOfSuccessfullTransactions\":0,\"nrOfFailedTransactions\":1}";
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_result_parse(b, strlen(b), "PPS001MI/Receipt", &r, &err),
                     MLC_ERR_REMOTE);
    ck_assert_ptr_nonnull(r);
    ck_assert(!mlc_m3_result_ok(r));
    ck_assert_str_eq(mlc_m3_result_message(r), "Quantity exceeds open quantity");
    ck_assert_str_eq(mlc_m3_result_code(r), "WRV0101");
    ck_assert_str_eq(mlc_m3_result_field(r), "RVQA");
    ck_assert_str_eq(mlc_m3_result_type(r), "ServerReturnedNOK");
    ck_assert_ptr_nonnull(strstr(err.msg, "PPS001MI/Receipt"));
    ck_assert_ptr_nonnull(strstr(err.msg, "Quantity exceeds open quantity"));
    ck_assert_ptr_nonnull(strstr(err.msg, "WRV0101"));
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(v2_counters_only)
{
    /* the counters say something failed although no result carries the error */
    const char *b = "{\"results\":[],\"wasTerminated\":true,\"terminationReason\":\"Job killed\","
                    "\"nrOfSuccessfullTransactions\":0,\"nrOfFailedTransactions\":1}";
    mlc_m3_result *r = NULL;
    ck_assert_int_eq(mlc_m3_result_parse(b, strlen(b), "X/Y", &r, NULL), MLC_ERR_REMOTE);
    ck_assert_str_eq(mlc_m3_result_message(r), "Job killed");
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(v2_bulk_per_transaction)
{
    const char *b =
        "{\"results\":["
        "{\"transaction\":\"Receipt\",\"records\":[],\"errorMessage\":null,\"notProcessed\":false},"
        "{\"transaction\":\"Receipt\",\"records\":[],\"errorMessage\":\"PO line is closed   \","
        "\"errorCode\":\"XPO0001\",\"errorType\":\"ServerReturnedNOK\",\"notProcessed\":false},"
        "{\"transaction\":\"Receipt\",\"records\":[],\"errorMessage\":null,\"notProcessed\":true}],"
        "\"wasTerminated\":true,\"nrOfSuccessfullTransactions\":1,\"nrOfFailedTransactions\":1,"
        "\"nrOfNotProcessedTransactions\":1}";
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_result_parse(b, strlen(b), "PPS001MI/Receipt", &r, &err),
                     MLC_ERR_REMOTE);
    ck_assert_uint_eq(mlc_m3_result_tx_count(r), 3);
    ck_assert(mlc_m3_result_tx_ok(r, 0));
    ck_assert(!mlc_m3_result_tx_ok(r, 1));
    ck_assert_str_eq(mlc_m3_result_tx_message(r, 1), "PO line is closed");
    ck_assert_str_eq(mlc_m3_result_tx_code(r, 1), "XPO0001");
    ck_assert(!mlc_m3_result_tx_ok(r, 2));
    ck_assert(mlc_m3_result_tx_not_processed(r, 2));
    ck_assert(!mlc_m3_result_tx_not_processed(r, 1));
    ck_assert_ptr_nonnull(strstr(err.msg, "2 of 3"));
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(v1_records_and_partial_failure)
{
    const char *ok =
        "{\"Program\":\"TST001MI\",\"Transaction\":\"Lst10Out\",\"Metadata\":{\"Field\":"
        "[{\"@name\":\"F001\",\"@type\":\"A\",\"@length\":8}]},\"MIRecord\":["
        "{\"RowIndex\":0,\"NameValue\":[{\"Name\":\"F001\",\"Value\":\"00000001  \"},"
        "{\"Name\":\"F002\",\"Value\":\"AB  \"}]},"
        "{\"RowIndex\":1,\"NameValue\":[{\"Name\":\"F001\",\"Value\":\"00000002\"}]}]}";
    mlc_m3_result *r = parse_ok(ok);
    ck_assert_uint_eq(mlc_m3_result_count(r), 2);
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "F001"), "00000001");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "F002"), "AB");
    ck_assert_str_eq(mlc_m3_result_get(r, 1, "F001"), "00000002");
    mlc_m3_result_free(r);

    const char *partial =
        "{\"Program\":\"TST001MI\",\"Transaction\":\"LstFail\",\"MIRecord\":["
        "{\"RowIndex\":0,\"NameValue\":[{\"Name\":\"RCNT\",\"Value\":\"1\"}]},"
        "{\"RowIndex\":1,\"NameValue\":[{\"Name\":\"RCNT\",\"Value\":\"2\"}]}],"
        "\"ErrorMessage\":{\"@type\":\"ServerReturnedNOK\",\"@code\":\"CPF9898\",\"@cfg\":\"97\","
        "\"@field\":\"RCNT      \",\"Message\":\"Designed to fail!                    \"}}";
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_result_parse(partial, strlen(partial), "TST001MI/LstFail", &r, &err),
                     MLC_ERR_REMOTE);
    ck_assert_uint_eq(mlc_m3_result_count(r), 2); /* rows before the failure are kept */
    ck_assert_str_eq(mlc_m3_result_get(r, 1, "RCNT"), "2");
    ck_assert_str_eq(mlc_m3_result_message(r), "Designed to fail!");
    ck_assert_str_eq(mlc_m3_result_code(r), "CPF9898");
    ck_assert_str_eq(mlc_m3_result_field(r), "RCNT");
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(bare_v1_error)
{
    const char *b = "{\"Message\":\"Not authorized for company 0                          \","
                    "\"@type\":\"ServerReturnedNOK\",\"@code\":\"XAU0008\",\"@cfg\":null,"
                    "\"@field\":\"CONO\"}";
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_result_parse(b, strlen(b), "MMS200MI/GetItmBasic", &r, &err),
                     MLC_ERR_REMOTE);
    ck_assert_str_eq(mlc_m3_result_message(r), "Not authorized for company 0");
    ck_assert_str_eq(mlc_m3_result_code(r), "XAU0008");
    ck_assert_str_eq(mlc_m3_result_field(r), "CONO");
    ck_assert_uint_eq(mlc_m3_result_count(r), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "XAU0008"));
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(v2_numbers_beyond_long_long)
{
    /* found by fuzz/fuzz_m3: a numeric value beyond long long was cast to it
     * (undefined behaviour; aborts under make asan). */
    const char *b = "{\"results\":[{\"transaction\":\"LstLine\",\"records\":[{\"ORQA\":33333333333333333330,"
                    "\"RVQA\":2,\"CAQA\":-1e300,\"IVQA\":2.5}]}]}";
    mlc_m3_result *r = parse_ok(b);
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "ORQA"), "3.33333333333333e+19");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "RVQA"), "2");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "CAQA"), "-1e+300");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "IVQA"), "2.5");
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(v2_odd_values_and_records)
{
    /* the v2 records are flattened in place: every value a trimmed string, whatever
     * its JSON type; entries of "records" that are not objects are dropped */
    const char *b = "{\"results\":[{\"transaction\":\"LstLine\",\"records\":[7,\"x\",null,"
                    "{\"A\":true,\"B\":false,\"C\":null,\"D\":{\"x\":1},\"E\":[1],\"F\":\"v \\t\",\"G\":3},"
                    "[],{\"A\":\"second\"}]}]}";
    mlc_m3_result *r = parse_ok(b);
    ck_assert_uint_eq(mlc_m3_result_count(r), 2);
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "A"), "true");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "B"), "false");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "C"), "");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "D"), "");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "E"), "");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "F"), "v");
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "G"), "3");
    ck_assert_str_eq(mlc_m3_result_get(r, 1, "A"), "second");
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(unrecognised_bodies)
{
    const char *bad[] = {"", "not json", "[1]", "{\"foo\":1}", "<html>502</html>"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mlc_m3_result *r = (mlc_m3_result *)1;
        ck_assert_int_eq(mlc_m3_result_parse(bad[i], strlen(bad[i]), "A/B", &r, NULL),
                         MLC_ERR_REMOTE);
        ck_assert_ptr_null(r);
    }
}
END_TEST

START_TEST(url_building)
{
    mlc_m3_field in[] = {{"PUNO", "10 00/1&2"}, {"ITNO", "A+B"}};
    char *u = mlc_m3_build_url("https://ion.example.com/T_X/", "PPS200MI", "GetLine", in, 2, 0);
    ck_assert_str_eq(u, "https://ion.example.com/T_X/M3/m3api-rest/v2/execute/PPS200MI/GetLine"
                        ";maxrecs=0?PUNO=10%2000%2F1%262&ITNO=A%2BB");
    free(u);
    u = mlc_m3_build_url("https://ion.example.com/T_X", "GENERAL", "GetUserInfo", NULL, 0, 1);
    ck_assert_str_eq(u, "https://ion.example.com/T_X/M3/m3api-rest/v2/execute/GENERAL/GetUserInfo"
                        ";maxrecs=1");
    free(u);
}
END_TEST

START_TEST(transaction_table)
{
    ck_assert_int_eq(mlc_m3_transaction_flags("PPS001MI", "Receipt"), 1);
    ck_assert_int_eq(mlc_m3_transaction_flags("MHS850MI", "AddWhsHead"), 3);
    ck_assert_int_eq(mlc_m3_transaction_flags("GENERAL", "GetUserInfo"), 0);
    ck_assert_int_eq(mlc_m3_transaction_flags("EXPORTMI", "Select"), 0);
    ck_assert_int_eq(mlc_m3_transaction_flags("NOPE01MI", "Nothing"), -1);
    /* the generated table's ends and both flags (bsearch over the whole sorted table) */
    ck_assert_int_eq(mlc_m3_transaction_flags("CRS610MI", "Add"), 3);
    ck_assert_int_eq(mlc_m3_transaction_flags("PPS320MI", "PutawaySSCC"), 0);
    ck_assert_int_eq(mlc_m3_transaction_flags("MMS005MI", "GetFaclist"), 3);
    ck_assert_int_eq(mlc_m3_transaction_flags("PPS200MI", "GetHead"), 1);
    /* names are exact: case, a missing part, a name too long for any row */
    ck_assert_int_eq(mlc_m3_transaction_flags("pps001mi", "Receipt"), -1);
    ck_assert_int_eq(mlc_m3_transaction_flags("PPS001MI", "receipt"), -1);
    ck_assert_int_eq(mlc_m3_transaction_flags(NULL, "Receipt"), -1);
    ck_assert_int_eq(mlc_m3_transaction_flags("PPS001MI", NULL), -1);
    char longname[100];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(mlc_m3_transaction_flags("PPS001MI", longname), -1);
}
END_TEST

/* ---- against the stub: company fields, 401 replay, status mapping ------- */

typedef struct fx {
    stub_server *s;
    mlc_http *http;
    mlc_ionapi *ion;
    mlc_m3 *m3;
} fx;

static void fx_init(fx *f, long long cono, const char *divi)
{
    f->s = stub_start();
    char t[1024];
    snprintf(t, sizeof t,
             "{\"ti\":\"TEN\",\"ci\":\"TEN~c\",\"cs\":\"cs_secret_1\",\"iu\":\"%s\","
             "\"pu\":\"%s/TEN/as/\",\"ot\":\"token.oauth2\",\"saak\":\"TEN#a\",\"sask\":\"s_sk_1\"}",
             f->s->base, f->s->base);
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "t", &f->ion, NULL), MLC_OK);
    mlc_http_opts o = {.timeout_s = 5, .max_attempts = 2, .retry_base_ms = 1, .retry_cap_ms = 5};
    ck_assert_int_eq(mlc_http_new(&o, &f->http, NULL), MLC_OK);
    mlc_ionapi_attach(f->ion, f->http, NULL, NULL, 300);
    ck_assert_int_eq(mlc_m3_new_with(&(mlc_m3_opts){.ion = f->ion, .http = f->http, .cono = cono, .divi = divi}, &f->m3, NULL), MLC_OK);
}

static void fx_free(fx *f)
{
    mlc_m3_free(f->m3);
    mlc_ionapi_free(f->ion);
    mlc_http_free(f->http);
    stub_stop(f->s);
}

#define TOKEN(n) \
    (stub_reply){.status = 200, .body = "{\"access_token\":\"AT_" #n "_xyz\",\"expires_in\":3600}"}
#define V2OK "{\"results\":[{\"transaction\":\"X\",\"records\":[{\"A\":\"1 \"}]}]," \
             "\"nrOfSuccessfullTransactions\":1,\"nrOfFailedTransactions\":0}"

START_TEST(company_only_where_defined)
{
    fx f;
    fx_init(&f, 100, "AAA");
    stub_push(f.s, TOKEN(1));
    f.s->fallback.body = V2OK;
    mlc_m3_field in[] = {{"PUNO", "P1"}, {"PNLI", "10"}};
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_execute(f.m3, "PPS200MI/GetLine", in, 2, 0, &r, &err), MLC_OK);
    ck_assert_str_eq(mlc_m3_result_get(r, 0, "A"), "1");
    mlc_m3_result_free(r);
    ck_assert_str_eq(f.s->reqs[1].url,
                     "/TEN/M3/m3api-rest/v2/execute/PPS200MI/GetLine;maxrecs=0?PUNO=P1&PNLI=10&CONO=100");
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].headers, "Bearer AT_1_xyz"));
    /* CONO and DIVI both defined */
    ck_assert_int_eq(mlc_m3_execute(f.m3, "MHS850MI/AddWhsHead", NULL, 0, 0, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_ptr_nonnull(strstr(f.s->reqs[2].url, "CONO=100"));
    ck_assert_ptr_nonnull(strstr(f.s->reqs[2].url, "DIVI=AAA"));
    /* neither */
    ck_assert_int_eq(mlc_m3_execute(f.m3, "GENERAL/GetUserInfo", NULL, 0, 1, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_ptr_null(strstr(f.s->reqs[3].url, "CONO"));
    ck_assert_ptr_null(strstr(f.s->reqs[3].url, "DIVI"));
    ck_assert_ptr_null(strstr(f.s->reqs[3].url, "cono"));
    /* EXPORTMI reads the session's company: named as ;cono=, never in the query */
    mlc_m3_field q[] = {{"QERY", "IAPUNO from MPHEAD"}};
    ck_assert_int_eq(mlc_m3_execute(f.m3, "EXPORTMI/Select", q, 1, 0, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_str_eq(f.s->reqs[4].url,
                     "/TEN/M3/m3api-rest/v2/execute/EXPORTMI/Select;maxrecs=0;cono=100?QERY=IAPUNO from MPHEAD");
    /* the caller's CONO wins */
    mlc_m3_field in2[] = {{"CONO", "200"}, {"PUNO", "P1"}};
    ck_assert_int_eq(mlc_m3_execute(f.m3, "PPS200MI/GetHead", in2, 2, 0, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_ptr_nonnull(strstr(f.s->reqs[5].url, "CONO=200"));
    ck_assert_ptr_null(strstr(f.s->reqs[5].url, "CONO=100"));
    /* bad names are refused before any request */
    ck_assert_int_eq(mlc_m3_execute(f.m3, "PPS200MI", NULL, 0, 0, &r, &err), MLC_ERR_CONFIG);
    ck_assert_int_eq(mlc_m3_execute(f.m3, "PPS200MI/Get Line", NULL, 0, 0, &r, &err),
                     MLC_ERR_CONFIG);
    ck_assert_int_eq(stub_count(f.s), 6);
    fx_free(&f);
}
END_TEST

START_TEST(replay_once_on_401)
{
    fx f;
    fx_init(&f, 100, NULL);
    stub_push(f.s, TOKEN(1));
    stub_push(f.s, (stub_reply){.status = 401, .body = ""});
    stub_push(f.s, TOKEN(2));
    stub_push(f.s, (stub_reply){.status = 200, .body = V2OK});
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_execute(f.m3, "GENERAL/GetUserInfo", NULL, 0, 1, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_int_eq(stub_count(f.s), 4);
    ck_assert_ptr_nonnull(strstr(f.s->reqs[3].headers, "Bearer AT_2_xyz"));
    /* 401 twice: one replay only, then an auth error */
    stub_push(f.s, (stub_reply){.status = 401});
    stub_push(f.s, TOKEN(3));
    stub_push(f.s, (stub_reply){.status = 401});
    ck_assert_int_eq(mlc_m3_execute(f.m3, "GENERAL/GetUserInfo", NULL, 0, 1, &r, &err),
                     MLC_ERR_AUTH);
    ck_assert_int_eq(stub_count(f.s), 7);
    mlc_m3_result_free(r);
    fx_free(&f);
}
END_TEST

/* lib/po's bulk reads on the same stub: a PO is only ever built from answers about
 * it, and a short answer never reads as "PO not found" (which pull-pos skips). */
#define HEAD(po) "{\"transaction\":\"GetHead\",\"records\":[{\"PUNO\":\"" po "\",\"ORTY\":\"PP1\"}]}"
#define LINES(po) "{\"transaction\":\"LstLine\",\"records\":[{\"PUNO\":\"" po "\",\"PNLI\":\"10\",\"PUSL\":\"20\"}]}"
START_TEST(po_bulk_answers_checked)
{
    fx f;
    fx_init(&f, 100, "AAA");
    mlc_config *cfg = NULL;
    mlc_error err = {0}, errs[2];
    const char *yaml = "profiles:\n  p:\n    cloudsuite: {cono: 100}\n";
    ck_assert_int_eq(mlc_config_load_string(yaml, strlen(yaml), "t.yaml", NULL, &cfg, &err), MLC_OK);
    mlc_po_change c[2] = {{"P1", "20261101"}, {"P2", "20261101"}};
    cJSON *recs[2];
    stub_push(f.s, TOKEN(1));
    /* in order: both built */
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"results\":[" HEAD("P1") "," HEAD("P2") "]}"});
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"results\":[" LINES("P1") "," LINES("P2") "]}"});
    ck_assert_int_eq(mlc_po_fetch_many(f.m3, cfg, c, 2, recs, errs, &err), MLC_OK);
    ck_assert_ptr_nonnull(recs[0]);
    ck_assert_ptr_nonnull(recs[1]);
    ck_assert_str_eq(cJSON_GetObjectItem(recs[1], "po")->valuestring, "P2");
    cJSON_Delete(recs[0]);
    cJSON_Delete(recs[1]);
    /* lines swapped: neither PO takes the other's lines */
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"results\":[" HEAD("P1") "," HEAD("P2") "]}"});
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"results\":[" LINES("P2") "," LINES("P1") "]}"});
    ck_assert_int_eq(mlc_po_fetch_many(f.m3, cfg, c, 2, recs, errs, &err), MLC_OK);
    ck_assert_ptr_null(recs[0]);
    ck_assert_ptr_null(recs[1]);
    ck_assert_int_eq(errs[0].code, MLC_ERR_REMOTE);
    ck_assert_ptr_nonnull(strstr(errs[0].msg, "answered about PO P2"));
    /* one answer for two POs: a failed call, not two unknown POs */
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"results\":[" HEAD("P1") "," HEAD("P2") "]}"});
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"results\":[" LINES("P1") "]}"});
    ck_assert_int_ne(mlc_po_fetch_many(f.m3, cfg, c, 2, recs, errs, &err), MLC_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "1 answers for 2 POs"));
    ck_assert_ptr_null(recs[0]);
    /* the single fetch is the same read, and an unknown PO is NOTFOUND */
    cJSON *one = NULL;
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"results\":[{\"transaction\":\"GetHead\",\"records\":[],"
                                        "\"errorMessage\":\"Record does not exist\",\"errorType\":\"ServerReturnedNOK\"}]}"});
    stub_push(f.s, (stub_reply){.status = 200, .body = "{\"results\":[" LINES("P9") "]}"});
    ck_assert_int_eq(mlc_po_fetch(f.m3, cfg, "P9", "20261101", &one, &err), MLC_ERR_NOTFOUND);
    ck_assert_ptr_null(one);
    ck_assert_ptr_nonnull(strstr(err.msg, "Record does not exist"));
    mlc_config_free(cfg);
    fx_free(&f);
}
END_TEST

START_TEST(status_mapping)
{
    fx f;
    fx_init(&f, 0, NULL);
    stub_push(f.s, TOKEN(1));
    stub_push(f.s, (stub_reply){.status = 400, .body = ""});
    stub_push(f.s, (stub_reply){.status = 503});
    stub_push(f.s, (stub_reply){.status = 503});
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"@type\":\"ServerReturnedNOK\",\"@code\":\"XIM0002\","
                                        "\"Message\":\"Customer number is invalid   \"}"});
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_execute(f.m3, "NOPE01MI/Nothing", NULL, 0, 0, &r, &err),
                     MLC_ERR_REMOTE);
    ck_assert_ptr_nonnull(strstr(err.msg, "400"));
    mlc_m3_result_free(r);
    /* 503 twice = retried by http (2 attempts), then transient */
    ck_assert_int_eq(mlc_m3_execute(f.m3, "GENERAL/GetUserInfo", NULL, 0, 0, &r, &err),
                     MLC_ERR_TRANSIENT);
    mlc_m3_result_free(r);
    ck_assert_int_eq(mlc_m3_execute(f.m3, "CRS610MI/GetBasicData", NULL, 0, 0, &r, &err),
                     MLC_ERR_REMOTE);
    ck_assert_str_eq(mlc_m3_result_code(r), "XIM0002");
    ck_assert_str_eq(mlc_m3_result_message(r), "Customer number is invalid");
    mlc_m3_result_free(r);
    /* company 0 = not configured: no CONO added */
    ck_assert_ptr_null(strstr(f.s->reqs[4].url, "CONO"));
    fx_free(&f);
}
END_TEST

START_TEST(bulk_request)
{
    fx f;
    fx_init(&f, 100, "AAA");
    stub_push(f.s, TOKEN(1));
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"results\":[{\"transaction\":\"Receipt\",\"records\":[]},"
                                        "{\"transaction\":\"Receipt\",\"records\":[],"
                                        "\"errorMessage\":\"Line closed\",\"errorCode\":\"X1\"}],"
                                        "\"nrOfSuccessfullTransactions\":1,"
                                        "\"nrOfFailedTransactions\":1}"});
    mlc_m3_field a[] = {{"PUNO", "P1"}, {"PNLI", "10"}, {"RVQA", "5"}};
    mlc_m3_field b[] = {{"PUNO", "P1"}, {"PNLI", "20"}, {"RVQA", "2"}};
    mlc_m3_record recs[] = {{a, 3}, {b, 3}};
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_m3_bulk(f.m3, "PPS001MI/Receipt", recs, 2, 0, &r, &err), MLC_ERR_REMOTE);
    ck_assert_uint_eq(mlc_m3_result_tx_count(r), 2);
    ck_assert(mlc_m3_result_tx_ok(r, 0));
    ck_assert_str_eq(mlc_m3_result_tx_message(r, 1), "Line closed");
    mlc_m3_result_free(r);
    stub_req *q = &f.s->reqs[1];
    ck_assert_str_eq(q->method, "POST");
    /* the session's company, on the URL and in the body (cloudsuite.bulk_company: both) */
    ck_assert_str_eq(q->url, "/TEN/M3/m3api-rest/v2/execute?cono=100&divi=AAA");
    cJSON *j = cJSON_Parse(q->body);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "program")->valuestring, "PPS001MI");
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "cono")));
    ck_assert_int_eq(cJSON_GetObjectItem(j, "cono")->valueint, 100);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "divi")->valuestring, "AAA");
    /* every record of each transaction: M3's default would stop a list at 100 */
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "maxReturnedRecords")));
    ck_assert_int_eq(cJSON_GetObjectItem(j, "maxReturnedRecords")->valueint, 0);
    cJSON *txs = cJSON_GetObjectItem(j, "transactions");
    ck_assert_int_eq(cJSON_GetArraySize(txs), 2);
    cJSON *rec1 = cJSON_GetObjectItem(cJSON_GetArrayItem(txs, 1), "record");
    ck_assert_str_eq(cJSON_GetObjectItem(rec1, "PNLI")->valuestring, "20");
    ck_assert_str_eq(cJSON_GetObjectItem(rec1, "CONO")->valuestring, "100");
    ck_assert_ptr_null(cJSON_GetObjectItem(rec1, "DIVI")); /* Receipt has no DIVI */
    cJSON_Delete(j);
    /* a failing POST is not retried unless marked idempotent */
    stub_push(f.s, (stub_reply){.status = 502});
    ck_assert_int_eq(mlc_m3_bulk(f.m3, "PPS001MI/Receipt", recs, 2, 0, &r, &err),
                     MLC_ERR_TRANSIENT);
    mlc_m3_result_free(r);
    ck_assert_int_eq(stub_count(f.s), 3);
    fx_free(&f);
}
END_TEST

/* A bulk EXPORTMI (no CONO field) still names the session's company: where
 * cloudsuite.bulk_company says; no company configured: none at all. */
START_TEST(bulk_company)
{
    static const struct {
        mlc_m3_bulk_company mode;
        long long cono;
        const char *divi, *url;
        int in_body;
    } cases[] = {
        {MLC_M3_BULK_COMPANY_BOTH, 200, "BBB", "/TEN/M3/m3api-rest/v2/execute?cono=200&divi=BBB", 1},
        {MLC_M3_BULK_COMPANY_BODY, 200, "BBB", "/TEN/M3/m3api-rest/v2/execute", 1},
        {MLC_M3_BULK_COMPANY_QUERY, 200, NULL, "/TEN/M3/m3api-rest/v2/execute?cono=200", 0},
        {MLC_M3_BULK_COMPANY_BOTH, 0, "BBB", "/TEN/M3/m3api-rest/v2/execute", 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        fx f;
        f.s = stub_start();
        char t[1024];
        snprintf(t, sizeof t,
                 "{\"ti\":\"TEN\",\"ci\":\"TEN~c\",\"cs\":\"cs_secret_1\",\"iu\":\"%s\","
                 "\"pu\":\"%s/TEN/as/\",\"ot\":\"token.oauth2\",\"saak\":\"TEN#a\",\"sask\":\"s_sk_1\"}",
                 f.s->base, f.s->base);
        ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "t", &f.ion, NULL), MLC_OK);
        mlc_http_opts o = {.timeout_s = 5, .max_attempts = 2, .retry_base_ms = 1, .retry_cap_ms = 5};
        ck_assert_int_eq(mlc_http_new(&o, &f.http, NULL), MLC_OK);
        mlc_ionapi_attach(f.ion, f.http, NULL, NULL, 300);
        ck_assert_int_eq(mlc_m3_new_with(&(mlc_m3_opts){.ion = f.ion, .http = f.http, .cono = cases[c].cono,
                                                        .divi = cases[c].divi, .bulk_company = cases[c].mode},
                                         &f.m3, NULL),
                         MLC_OK);
        stub_push(f.s, TOKEN(1));
        f.s->fallback.body = V2OK;
        mlc_m3_field in[] = {{"QERY", "ICPUNO from MPLIND where ICPUNO = '1'"}};
        mlc_m3_record recs[] = {{in, 1}};
        mlc_m3_result *r = NULL;
        mlc_error err = {0};
        ck_assert_int_eq(mlc_m3_bulk(f.m3, "EXPORTMI/Select", recs, 1, 1, &r, &err), MLC_OK);
        mlc_m3_result_free(r);
        stub_req *q = &f.s->reqs[1];
        ck_assert_str_eq(q->url, cases[c].url);
        cJSON *j = cJSON_Parse(q->body);
        ck_assert_ptr_nonnull(j);
        cJSON *cono = cJSON_GetObjectItem(j, "cono"), *divi = cJSON_GetObjectItem(j, "divi");
        if (cases[c].in_body) {
            ck_assert(cJSON_IsNumber(cono));
            ck_assert_int_eq((long long)cono->valuedouble, cases[c].cono);
            ck_assert_str_eq(divi->valuestring, cases[c].divi);
        } else {
            ck_assert_ptr_null(cono);
            ck_assert_ptr_null(divi);
        }
        /* EXPORTMI has no CONO field: the record carries none */
        cJSON *rec = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "transactions"), 0), "record");
        ck_assert_ptr_null(cJSON_GetObjectItem(rec, "CONO"));
        cJSON_Delete(j);
        fx_free(&f);
    }
}
END_TEST

/* mlc_m3_columns: returncols on a GET, selectedColumns per bulk transaction, the
 * union of every caller's columns, a bad name or the switch off: every column */
START_TEST(selected_columns)
{
    fx f;
    fx_init(&f, 0, NULL);
    stub_push(f.s, TOKEN(1));
    f.s->fallback.body = V2OK;
    mlc_m3_result *r = NULL;
    mlc_error err = {0};
    mlc_m3_field in[] = {{"PUNO", "P1"}};
    mlc_m3_columns(f.m3, "PPS200MI/GetHead", "PUNO,ORTY");
    mlc_m3_columns(f.m3, "PPS200MI/GetHead", " ORTY, WHLO,PUNO"); /* adds WHLO only */
    mlc_m3_columns(f.m3, "MMS200MI/GetItmBasic", "ITNO,bad-name"); /* every column */
    ck_assert_int_eq(mlc_m3_execute(f.m3, "PPS200MI/GetHead", in, 1, 0, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_str_eq(f.s->reqs[1].url,
                     "/TEN/M3/m3api-rest/v2/execute/PPS200MI/GetHead;maxrecs=0;returncols=PUNO,ORTY,WHLO?PUNO=P1");
    /* a transaction nobody declared: every column */
    ck_assert_int_eq(mlc_m3_execute(f.m3, "PPS200MI/GetLine", in, 1, 0, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_ptr_null(strstr(f.s->reqs[2].url, "returncols"));
    ck_assert_int_eq(mlc_m3_execute(f.m3, "MMS200MI/GetItmBasic", NULL, 0, 1, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_ptr_null(strstr(f.s->reqs[3].url, "returncols"));
    /* bulk: each transaction names them */
    mlc_m3_record recs[] = {{in, 1}, {in, 1}};
    ck_assert_int_eq(mlc_m3_bulk(f.m3, "PPS200MI/GetHead", recs, 2, 1, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    cJSON *j = cJSON_Parse(f.s->reqs[4].body);
    ck_assert_ptr_nonnull(j);
    cJSON *t;
    int n = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(j, "transactions"))
    {
        char *sc = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "selectedColumns"));
        ck_assert_str_eq(sc, "[\"PUNO\",\"ORTY\",\"WHLO\"]");
        free(sc);
        n++;
    }
    ck_assert_int_eq(n, 2);
    cJSON_Delete(j);
    /* cloudsuite.select_columns: false */
    mlc_m3_set_select_columns(f.m3, 0);
    ck_assert_int_eq(mlc_m3_execute(f.m3, "PPS200MI/GetHead", in, 1, 0, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_ptr_null(strstr(f.s->reqs[5].url, "returncols"));
    ck_assert_int_eq(mlc_m3_bulk(f.m3, "PPS200MI/GetHead", recs, 2, 1, &r, &err), MLC_OK);
    mlc_m3_result_free(r);
    ck_assert_ptr_null(strstr(f.s->reqs[6].body, "selectedColumns"));
    mlc_m3_columns(NULL, "PPS200MI/GetHead", "PUNO"); /* safe */
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("m3");
    TCase *tc = tcase_create("m3");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, v2_records_trimmed);
    tcase_add_test(tc, v2_nok);
    tcase_add_test(tc, v2_counters_only);
    tcase_add_test(tc, v2_bulk_per_transaction);
    tcase_add_test(tc, v1_records_and_partial_failure);
    tcase_add_test(tc, bare_v1_error);
    tcase_add_test(tc, v2_odd_values_and_records);
    tcase_add_test(tc, unrecognised_bodies);
    tcase_add_test(tc, v2_numbers_beyond_long_long);
    tcase_add_test(tc, url_building);
    tcase_add_test(tc, transaction_table);
    tcase_add_test(tc, company_only_where_defined);
    tcase_add_test(tc, replay_once_on_401);
    tcase_add_test(tc, status_mapping);
    tcase_add_test(tc, bulk_request);
    tcase_add_test(tc, bulk_company);
    tcase_add_test(tc, selected_columns);
    tcase_add_test(tc, po_bulk_answers_checked);
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
