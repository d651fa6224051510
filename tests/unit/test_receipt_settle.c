/* test_receipt_settle.c: lib/receipt's in-doubt protocol against the stub server
 * (issue 17): a post whose outcome is unknown stays in_doubt with its deadline
 * recorded when the call started; nothing is read or decided before that; after
 * it, the receipt is settled by its delivery note in M3's receipt transactions
 * (EXPORTMI on MPLIND), by RVQA only when it has no delivery note; a receipt M3
 * already carries is already_posted, never posted. Not for the wire format of M3
 * (test_m3.c) or whole runs (tests/integration/test_in_doubt.sh). */
#include "config.h"
#include "http.h"
#include "ionapi.h"
#include "m3.h"
#include "receipt.h"
#include "store.h"
#include "stubserver.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <unistd.h>

typedef struct fx {
    stub_server *s;
    mlc_http *http;
    mlc_ionapi *ion;
    mlc_m3 *m3;
    mlc_config *cfg;
    mlc_store *st;
    mlc_receipt *r;
    char *dir;
    char last[32]; /* the last status reported */
    int reports;
} fx;

static void on_status(void *ud, const mlc_store_receipt *row, const char *status)
{
    fx *f = ud;
    (void)row;
    snprintf(f->last, sizeof f->last, "%s", status);
    f->reports++;
}

static const char *YAML = "profiles:\n  p:\n"
                          "    cloudsuite: {cono: 100, timeout: 1, gateway_timeout: 1}\n"
                          "    retry: {in_doubt_margin: 0}\n"
                          "    receipts: {base_ms: 1, cap_ms: 2}\n"
                          "    mapping:\n      order_types: {PP1: po_receipt}\n";

static void fx_init(fx *f)
{
    mlc_error e = {0};
    char t[1024], path[300];
    memset(f, 0, sizeof *f);
    f->s = stub_start();
    snprintf(t, sizeof t,
             "{\"ti\":\"TEN\",\"ci\":\"TEN~c\",\"cs\":\"cs_secret_1\",\"iu\":\"%s\","
             "\"pu\":\"%s/TEN/as/\",\"ot\":\"token.oauth2\",\"saak\":\"TEN#a\",\"sask\":\"s_sk_1\"}",
             f->s->base, f->s->base);
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "t", &f->ion, NULL), MLC_OK);
    mlc_http_opts o = {.timeout_s = 1, .max_attempts = 1, .retry_base_ms = 1, .retry_cap_ms = 2};
    ck_assert_int_eq(mlc_http_new(&o, &f->http, NULL), MLC_OK);
    mlc_ionapi_attach(f->ion, f->http, NULL, NULL, 300);
    ck_assert_int_eq(mlc_m3_new_with(&(mlc_m3_opts){.ion = f->ion, .http = f->http, .cono = 100}, &f->m3, NULL), MLC_OK);
    ck_assert_msg(mlc_config_load_string(YAML, strlen(YAML), "t.yaml", NULL, &f->cfg, &e) == MLC_OK, "%s", e.msg);
    f->dir = tu_tmpdir();
    snprintf(path, sizeof path, "%s/s.db", f->dir);
    ck_assert_msg(mlc_store_open(path, 0, &f->st, &e) == MLC_OK, "%s", e.msg);
    ck_assert_msg(mlc_receipt_new(f->m3, f->st, f->cfg, NULL, NULL, &f->r, &e) == MLC_OK, "%s", e.msg);
    stub_push(f->s, (stub_reply){.status = 200, .body = "{\"access_token\":\"AT_1\",\"expires_in\":3600}"});
}

static void fx_free(fx *f)
{
    char cmd[400];
    mlc_receipt_free(f->r);
    mlc_store_close(f->st);
    mlc_config_free(f->cfg);
    mlc_m3_free(f->m3);
    mlc_ionapi_free(f->ion);
    mlc_http_free(f->http);
    stub_stop(f->s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    ck_assert_int_eq(system(cmd), 0);
    free(f->dir);
}

#define HEAD "{\"results\":[{\"transaction\":\"GetHead\",\"records\":[{\"PUNO\":\"P1\",\"ORTY\":\"PP1\"}]}]}"
#define LINE(rvqa) \
    "{\"results\":[{\"transaction\":\"GetLine\",\"records\":[{\"PUNO\":\"P1\",\"PNLI\":\"10\",\"RVQA\":\"" rvqa \
    "\",\"ORQA\":\"10\"}]}]}"
#define TRACE(repl) "{\"results\":[{\"transaction\":\"Select\",\"records\":[" repl "]}]}"
#define RECEIPT_OK "{\"results\":[{\"transaction\":\"Receipt\",\"records\":[]}]}"

static void accept_one(fx *f, const char *tracking)
{
    mlc_error e = {0};
    char rec[400];
    snprintf(rec, sizeof rec,
             "{\"kind\":\"shipment\",\"shipment_id\":\"se-1\",\"po\":\"P1\",\"order_type\":\"PP1\",%s%s%s"
             "\"items\":[{\"qty\":5,\"po_line\":\"P1/10/0\"}]}",
             tracking ? "\"tracking_number\":\"" : "", tracking ? tracking : "", tracking ? "\"," : "");
    cJSON *s = cJSON_Parse(rec);
    ck_assert_msg(mlc_receipt_accept(f->r, s, on_status, f, &e) == MLC_OK, "%s", e.msg);
    cJSON_Delete(s);
}

static mlc_store_receipt *row1(fx *f)
{
    mlc_store_receipt *row = NULL;
    mlc_error e = {0};
    ck_assert_msg(mlc_store_receipt_get(f->st, 1, &row, &e) == MLC_OK, "%s", e.msg);
    return row;
}

static int audit_has(fx *f, const char *event, const char *needle)
{
    mlc_store_audit_entry *a = NULL;
    size_t n = 0;
    int hit = 0;
    ck_assert_int_eq(mlc_store_audit_list(f->st, 1, &a, &n, NULL), MLC_OK);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(a[i].event, event) && (!needle || (a[i].detail && strstr(a[i].detail, needle))))
            hit = 1;
    mlc_store_audit_free(a, n);
    return hit;
}

/* A post with no answer: in_doubt, deadline recorded; settled only after it. */
static void post_into_doubt(fx *f, int traced)
{
    mlc_error e = {0};
    int calls = traced ? 5 : 4;
    stub_push(f->s, (stub_reply){.status = 200, .body = HEAD});
    stub_push(f->s, (stub_reply){.status = 200, .body = LINE("0")});
    if (traced) /* no delivery note: no trace to read */
        stub_push(f->s, (stub_reply){.status = 200, .body = TRACE("")}); /* nothing on the line yet */
    stub_push(f->s, (stub_reply){.drop = 1});                             /* the Receipt: no answer */
    mlc_receipt_post_due(f->r, on_status, f, &e);
    ck_assert_str_eq(f->last, "in_doubt");
    ck_assert_int_eq(stub_count(f->s), calls);
    if (traced)
        ck_assert_ptr_nonnull(strstr(f->s->reqs[3].body ? f->s->reqs[3].body : f->s->reqs[3].url, "from MPLIND"));
    mlc_store_receipt *row = row1(f);
    ck_assert_int_eq(row->state, MLC_RECEIPT_IN_DOUBT);
    ck_assert_int_gt(row->call_started_at, 0);
    /* deadline 1 s + gateway 1 s + margin 0, recorded when the call started */
    ck_assert_int_ge(row->settle_after, row->call_started_at + 2);
    ck_assert(audit_has(f, "call_started", "\"deadline_s\":1,\"gateway_timeout_s\":1,\"margin_s\":0"));
    mlc_store_receipt_free(row);
    /* inside the window: recovery decides nothing and asks M3 nothing */
    ck_assert_int_eq(mlc_receipt_recover(f->r, on_status, f, &e), MLC_OK);
    ck_assert_str_eq(f->last, "in_doubt");
    ck_assert_int_eq(stub_count(f->s), calls);
    row = row1(f);
    ck_assert_int_eq(row->state, MLC_RECEIPT_IN_DOUBT);
    int64_t wait = row->settle_after - (int64_t)time(NULL) + 1;
    mlc_store_receipt_free(row);
    if (wait > 0)
        sleep((unsigned)wait);
}

START_TEST(in_doubt_settled_by_delivery_note)
{
    fx f;
    mlc_error e = {0};
    fx_init(&f);
    accept_one(&f, "1ZTRACK");
    post_into_doubt(&f, 1);
    /* M3 applied the orphaned call: the trace shows the delivery note */
    stub_push(f.s, (stub_reply){.status = 200, .body = TRACE("{\"REPL\":\"P1;10;0;5;1ZTRACK\"}")});
    ck_assert_int_eq(mlc_receipt_recover(f.r, on_status, &f, &e), MLC_OK);
    ck_assert_str_eq(f.last, "posted");
    ck_assert_int_eq(stub_count(f.s), 6); /* the trace only: RVQA not read */
    ck_assert(audit_has(&f, "posted", "\"settled_by\":\"delivery_note\""));
    fx_free(&f);
}
END_TEST

START_TEST(in_doubt_shown_twice_needs_review)
{
    /* M3 shows the receipt twice, the ledger sent it once: M3 counted it twice
     * (on the BOD route a redelivery M3 applied again); never posted */
    fx f;
    mlc_error e = {0};
    fx_init(&f);
    accept_one(&f, "1ZTRACK");
    post_into_doubt(&f, 1);
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = TRACE("{\"REPL\":\"P1;10;0;5;1ZTRACK\"},{\"REPL\":\"P1;10;0;5;1ZTRACK\"}")});
    ck_assert_int_eq(mlc_receipt_recover(f.r, on_status, &f, &e), MLC_OK);
    ck_assert_str_eq(f.last, "needs_review");
    mlc_store_receipt *row = row1(&f);
    ck_assert_int_eq(row->state, MLC_RECEIPT_NEEDS_REVIEW);
    ck_assert_ptr_nonnull(row->last_error);
    ck_assert_ptr_nonnull(strstr(row->last_error, "M3 shows this receipt 2 times"));
    mlc_store_receipt_free(row);
    ck_assert(audit_has(&f, "needs_review", "\"double_count\":true"));
    ck_assert(!audit_has(&f, "posted", NULL));
    fx_free(&f);
}
END_TEST

START_TEST(already_in_m3_twice_is_already_posted)
{
    /* before a first send, M3 carrying it (even twice) means: not posted again */
    fx f;
    mlc_error e = {0};
    fx_init(&f);
    accept_one(&f, "1ZTRACK");
    stub_push(f.s, (stub_reply){.status = 200, .body = HEAD});
    stub_push(f.s, (stub_reply){.status = 200, .body = LINE("10")});
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = TRACE("{\"REPL\":\"P1;10;0;5;1ZTRACK\"},{\"REPL\":\"P1;10;0;5;1ZTRACK\"}")});
    ck_assert_int_eq(mlc_receipt_post_due(f.r, on_status, &f, &e), MLC_OK);
    ck_assert_str_eq(f.last, "already_posted");
    ck_assert_int_eq(stub_count(f.s), 4);
    fx_free(&f);
}
END_TEST

START_TEST(in_doubt_not_applied_is_queued)
{
    fx f;
    mlc_error e = {0};
    fx_init(&f);
    accept_one(&f, "1ZTRACK");
    post_into_doubt(&f, 1);
    /* another shipment's receipt on the line, not ours */
    stub_push(f.s, (stub_reply){.status = 200, .body = TRACE("{\"REPL\":\"P1;10;0;5;1ZOTHER\"}")});
    ck_assert_int_eq(mlc_receipt_recover(f.r, on_status, &f, &e), MLC_OK);
    ck_assert_str_eq(f.last, "queued");
    ck_assert(audit_has(&f, "not_applied", "\"settled_by\":\"delivery_note\""));
    fx_free(&f);
}
END_TEST

START_TEST(no_delivery_note_falls_back_on_rvqa)
{
    fx f;
    mlc_error e = {0};
    fx_init(&f);
    accept_one(&f, NULL);
    post_into_doubt(&f, 0);
    stub_push(f.s, (stub_reply){.status = 200, .body = LINE("5")}); /* RVQA grew by the quantity */
    ck_assert_int_eq(mlc_receipt_recover(f.r, on_status, &f, &e), MLC_OK);
    ck_assert_str_eq(f.last, "posted");
    ck_assert(audit_has(&f, "settle_fallback", "no delivery note"));
    ck_assert(audit_has(&f, "posted", "\"reconciled\":true"));
    fx_free(&f);
}
END_TEST

START_TEST(already_in_m3_is_not_posted)
{
    fx f;
    mlc_error e = {0};
    fx_init(&f);
    accept_one(&f, "1ZTRACK");
    stub_push(f.s, (stub_reply){.status = 200, .body = HEAD});
    stub_push(f.s, (stub_reply){.status = 200, .body = LINE("5")});
    stub_push(f.s, (stub_reply){.status = 200, .body = TRACE("{\"REPL\":\"P1;10;0;5;1ZTRACK\"}")});
    ck_assert_int_eq(mlc_receipt_post_due(f.r, on_status, &f, &e), MLC_OK);
    ck_assert_str_eq(f.last, "already_posted");
    ck_assert_int_eq(stub_count(f.s), 4); /* token, head, line, trace: no Receipt call */
    mlc_store_receipt *row = row1(&f);
    ck_assert_int_eq(row->state, MLC_RECEIPT_ALREADY_POSTED);
    mlc_store_receipt_free(row);
    fx_free(&f);
}
END_TEST

START_TEST(refused_by_the_gateway_is_queued_not_in_doubt)
{
    /* a 503 (or 429) answer: M3 did not run the call; no window to wait for */
    fx f;
    mlc_error e = {0};
    fx_init(&f);
    accept_one(&f, "1ZTRACK");
    stub_push(f.s, (stub_reply){.status = 200, .body = HEAD});
    stub_push(f.s, (stub_reply){.status = 200, .body = LINE("0")});
    stub_push(f.s, (stub_reply){.status = 200, .body = TRACE("")});
    stub_push(f.s, (stub_reply){.status = 503, .body = "<html>unavailable</html>"});
    mlc_receipt_post_due(f.r, on_status, &f, &e);
    ck_assert_str_eq(f.last, "queued");
    ck_assert(audit_has(&f, "call_failed", "\"executed\":false"));
    ck_assert(!audit_has(&f, "in_doubt", NULL));
    fx_free(&f);
}
END_TEST

START_TEST(same_note_other_quantity_is_not_ours)
{
    /* SUDO keeps 20 characters: another shipment's note may read the same; its
     * quantity differs, so this receipt is posted, not taken as already there */
    fx f;
    mlc_error e = {0};
    fx_init(&f);
    accept_one(&f, "1ZTRACK");
    stub_push(f.s, (stub_reply){.status = 200, .body = HEAD});
    stub_push(f.s, (stub_reply){.status = 200, .body = LINE("3")});
    stub_push(f.s, (stub_reply){.status = 200, .body = TRACE("{\"REPL\":\"P1;10;0;3;1ZTRACK\"}")});
    stub_push(f.s, (stub_reply){.status = 200, .body = RECEIPT_OK});
    ck_assert_int_eq(mlc_receipt_post_due(f.r, on_status, &f, &e), MLC_OK);
    ck_assert_str_eq(f.last, "posted");
    ck_assert_int_eq(stub_count(f.s), 5);
    fx_free(&f);
}
END_TEST

START_TEST(killed_before_the_call_is_not_in_doubt)
{
    /* a claim whose call was never sent (settle_after -1) goes back to the queue at once */
    fx f;
    mlc_error e = {0};
    int claimed = 0;
    fx_init(&f);
    accept_one(&f, "1ZTRACK");
    ck_assert_int_eq(mlc_store_receipt_claim(f.st, 1, 1u << MLC_RECEIPT_PENDING, 0, &claimed, &e), MLC_OK);
    ck_assert_int_eq(claimed, 1);
    ck_assert_int_eq(mlc_receipt_recover(f.r, on_status, &f, &e), MLC_OK);
    ck_assert_str_eq(f.last, "queued");
    ck_assert_int_eq(stub_count(f.s), 0);
    fx_free(&f);
}
END_TEST

START_TEST(trace_table_and_prefix_are_checked)
{
    /* they go into an EXPORTMI query: anything but a table name / two letters is refused */
    static const char *bad[] = {"    cloudsuite: {receipt_trace_table: \"MPLIND where 1=1\"}\n",
                                "    cloudsuite: {receipt_trace_prefix: \"I'\"}\n",
                                "    cloudsuite: {receipt_trace_table: mplind}\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[300];
        mlc_config *cfg = NULL;
        mlc_receipt *r = NULL;
        mlc_error e = {0};
        snprintf(yaml, sizeof yaml, "profiles:\n  p:\n%s", bad[i]);
        ck_assert_msg(mlc_config_load_string(yaml, strlen(yaml), "t.yaml", NULL, &cfg, &e) == MLC_OK, "%s", e.msg);
        ck_assert_int_eq(mlc_receipt_new(NULL, NULL, cfg, NULL, NULL, &r, &e), MLC_ERR_CONFIG);
        ck_assert_ptr_nonnull(strstr(e.msg, "receipt_trace_"));
        mlc_config_free(cfg);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("receipt_settle");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, in_doubt_settled_by_delivery_note);
    tcase_add_test(tc, in_doubt_not_applied_is_queued);
    tcase_add_test(tc, in_doubt_shown_twice_needs_review);
    tcase_add_test(tc, already_in_m3_twice_is_already_posted);
    tcase_add_test(tc, no_delivery_note_falls_back_on_rvqa);
    tcase_add_test(tc, already_in_m3_is_not_posted);
    tcase_add_test(tc, killed_before_the_call_is_not_in_doubt);
    tcase_add_test(tc, refused_by_the_gateway_is_queued_not_in_doubt);
    tcase_add_test(tc, trace_table_and_prefix_are_checked);
    tcase_add_test(tc, same_note_other_quantity_is_not_ours);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
