/* test_push.c: lib/push's exactly-once shipment protocol against the stub server
 * and a temporary store: the intent is recorded before a V2 create, so a create
 * whose answer is lost is found by its key on the next run, never made twice; a
 * lost answer within a run is resolved by a lookup, and 429/5xx are retried with
 * backoff; a create still possibly executing is not looked up before its
 * settle_after; a changed PO is cancelled and re-created under the next key
 * revision; a closed PO's shipment is cancelled (or left, mapping.closed_po:
 * ignore); V1 upserts by orderKey with orderId; over-received lines are not
 * shipped. Not for the mapping (test_map.c), the wire format of ShipStation
 * (test_shipstation.c) or whole runs (tests/integration/test_push_shipments.sh). */
#include "config.h"
#include "map.h"
#include "push.h"
#include "shipstation.h"
#include "store.h"
#include "stubserver.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <time.h>
#include <unistd.h>

static const char *YAML = "profiles:\n  p:\n"
                          "    cloudsuite: {cono: 100}\n"
                          "    shipstation: {api: v2}\n"
                          "    mapping:\n"
                          "      warehouses:\n"
                          "        WH1: {ship_to: {name: Dock, street1: 1 Main St, city: Austin, state: TX,"
                          " postal_code: '78701', country: US, phone: '5550100'}}\n"
                          "      suppliers:\n"
                          "        S1: {ship_from: {name: Acme, street1: 2 Side St, city: Dallas, state: TX,"
                          " postal_code: '75201', country: US, phone: '5550101'}}\n";

typedef struct fx {
    stub_server *s;
    mlc_ss *ss;
    mlc_config *cfg;
    mlc_map *map;
    mlc_store *st;
    mlc_push *p;
    mlc_push_options o;
    mlc_log *log;
    FILE *logf;
    char *logbuf;
    size_t loglen;
    char *dir, path[400];
    /* the outcomes reported */
    int n;
    mlc_push_action act[16];
    char id[16][64], key[16][64];
} fx;

static void on_outcome(void *ud, const mlc_push_outcome *r)
{
    fx *f = ud;
    if (f->n >= 16)
        return;
    f->act[f->n] = r->action;
    snprintf(f->id[f->n], sizeof f->id[0], "%s", r->shipstation_id ? r->shipstation_id : "");
    snprintf(f->key[f->n], sizeof f->key[0], "%s", r->order_key ? r->order_key : "");
    if (r->body) /* dry run: the key the request carries */
        snprintf(f->key[f->n], sizeof f->key[0], "%s",
                 cJSON_GetObjectItem(r->body, "external_shipment_id")->valuestring);
    f->n++;
}

static void fx_init(fx *f)
{
    mlc_error e = {0};
    memset(f, 0, sizeof *f);
    f->s = stub_start();
    ck_assert_ptr_nonnull(f->s);
    f->logf = open_memstream(&f->logbuf, &f->loglen);
    f->log = mlc_log_new(f->logf, MLC_LOG_TEXT, MLC_LOG_DEBUG);
    mlc_ss_opts so = {.v2_url = f->s->base,
                      .v1_url = f->s->base,
                      .v2_key = "v2key-test",
                      .v1_key = "v1key",
                      .v1_secret = "v1secret",
                      .http = {.timeout_s = 2, .max_attempts = 1, .retry_base_ms = 1, .retry_cap_ms = 2}};
    ck_assert_int_eq(mlc_ss_new_with(&so, &f->ss, &e), MLC_OK);
    ck_assert_msg(mlc_config_load_string(YAML, strlen(YAML), "t.yaml", NULL, &f->cfg, &e) == MLC_OK, "%s", e.msg);
    ck_assert_msg(mlc_map_new(f->cfg, &f->map, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(mlc_push_options_from_config(f->cfg, &f->o, &e), MLC_OK);
    ck_assert_int_eq(f->o.api, MLC_SS_V2);
    ck_assert_int_eq(f->o.cono, 100);
    ck_assert(f->o.cancel_closed); /* mapping.closed_po: cancel, the default */
    /* no wait for a create to settle, short backoff (the settle rule has its own test) */
    f->o.timeout_s = 0;
    f->o.margin_s = 0;
    f->o.max_attempts = 3;
    f->o.base_ms = 1;
    f->o.cap_ms = 2;
    f->dir = tu_tmpdir();
    snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
    ck_assert_msg(mlc_store_open(f->path, 0, &f->st, &e) == MLC_OK, "%s", e.msg);
}

/* A new engine: a new run on the same store (the options as the test set them). */
static void run_start(fx *f)
{
    mlc_error e = {0};
    mlc_push_free(f->p);
    f->p = NULL;
    f->n = 0;
    ck_assert_msg(mlc_push_new(&f->o, f->ss, f->st, f->map, f->log, &f->p, &e) == MLC_OK, "%s", e.msg);
}

static void fx_free(fx *f)
{
    char cmd[500];
    mlc_push_free(f->p);
    mlc_store_close(f->st);
    mlc_map_free(f->map);
    mlc_config_free(f->cfg);
    mlc_ss_free(f->ss);
    stub_stop(f->s);
    mlc_log_free(f->log);
    fclose(f->logf);
    free(f->logbuf);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    ck_assert_int_eq(system(cmd), 0);
    free(f->dir);
}

/* A purchase_order record of PO P1: one line per (ordered, received) pair. */
static void push_po(fx *f, const char *status, double ordered, double received, double ordered2, double received2)
{
    char rec[900];
    snprintf(rec, sizeof rec,
             "{\"kind\":\"purchase_order\",\"cono\":100,\"po\":\"P1\",\"order_type\":\"PP1\",\"warehouse\":\"WH1\","
             "\"supplier\":{\"id\":\"S1\",\"name\":\"Acme\"},\"status\":\"%s\",\"lines\":["
             "{\"line\":10,\"subline\":0,\"item\":\"A\",\"qty_ordered\":%g,\"qty_received\":%g},"
             "{\"line\":20,\"subline\":0,\"item\":\"B\",\"qty_ordered\":%g,\"qty_received\":%g}]}",
             status, ordered, received, ordered2, received2);
    cJSON *r = cJSON_Parse(rec);
    ck_assert_ptr_nonnull(r);
    mlc_push_po(f->p, r, "test", 1, rec, strlen(rec), on_outcome, f);
    cJSON_Delete(r);
}

static void push1(fx *f) { push_po(f, "20", 5, 0, 3, 0); }

static void flush(fx *f) { mlc_push_flush(f->p, on_outcome, f); }

static mlc_store_link *link_of(fx *f)
{
    mlc_store_link *l = NULL;
    ck_assert_int_eq(mlc_store_link_get(f->st, "P1", &l, NULL), MLC_OK);
    return l;
}

/* How often the log says needle. */
static int log_count(fx *f, const char *needle)
{
    int n = 0;
    fflush(f->logf);
    for (const char *p = f->logbuf; p && (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static int count_reqs(fx *f, const char *method, const char *url_prefix)
{
    int n = 0;
    for (int i = 0; i < stub_count(f->s); i++)
        if (!strcmp(f->s->reqs[i].method, method) && !strncmp(f->s->reqs[i].url, url_prefix, strlen(url_prefix)))
            n++;
    return n;
}

#define CREATED_P1(key, id)                                                                                            \
    "{\"shipments\":[{\"external_shipment_id\":\"" key "\",\"shipment_id\":\"" id "\",\"shipment_status\":"            \
    "\"pending\",\"errors\":[]}]}"
#define FOUND(key, id, status)                                                                                         \
    "{\"external_shipment_id\":\"" key "\",\"shipment_id\":\"" id "\",\"shipment_status\":\"" status "\"}"

static void seed_link(fx *f, const char *key, const char *id, const char *hash, const char *status)
{
    char po[32];
    ck_assert_int_eq(mlc_map_parse_order_key(key, &(long long){0}, po, NULL), 0);
    mlc_store_link l = {.po = po,
                        .order_key = (char *)key,
                        .shipstation_id = (char *)id,
                        .api = "v2",
                        .hash = (char *)hash,
                        .status = (char *)status};
    ck_assert_int_eq(mlc_store_link_put(f->st, &l, NULL), MLC_OK);
}

/* The intent is in the store before the create call: a run whose create answer
 * is lost (and not retried: one attempt) leaves it, and the next run finds the
 * shipment by its key instead of creating it a second time. */
START_TEST(intent_before_create_no_second_shipment)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P0", "se-0", "h", "open"); /* not a fresh state */
    f.o.max_attempts = 1;
    run_start(&f);
    stub_push(f.s, (stub_reply){.drop = 1}); /* the create's answer is lost */
    push1(&f);
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "POST", "/v2/shipments"), 1);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_FAILED);
    ck_assert_int_eq(mlc_push_stats_get(f.p)->worst, MLC_ERR_TRANSIENT);
    mlc_store_link *l = link_of(&f);
    ck_assert_str_eq(l->order_key, "mlc-100-P1"); /* the intent */
    ck_assert_ptr_null(l->shipstation_id);
    mlc_store_link_free(l);

    /* the next run: the create did reach ShipStation */
    run_start(&f);
    stub_push(f.s, (stub_reply){.status = 200, .body = FOUND("mlc-100-P1", "se-7", "pending")});
    push1(&f);
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "POST", "/v2/shipments"), 1); /* no second create */
    ck_assert_int_eq(count_reqs(&f, "GET", "/v2/shipments/external_shipment_id/mlc-100-P1"), 1);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_CREATED);
    ck_assert_str_eq(f.id[0], "se-7");
    l = link_of(&f);
    ck_assert_str_eq(l->shipstation_id, "se-7");
    mlc_store_link_free(l);
    fx_free(&f);
}
END_TEST

/* An earlier run's create that may still be executing (its settle_after is
 * ahead) is reported in_doubt and not looked up, nor created again. */
START_TEST(settle_window_no_lookup_before_deadline)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P0", "se-0", "h", "open");
    f.o.max_attempts = 1;
    f.o.timeout_s = 60; /* a create may run for a minute */
    run_start(&f);
    stub_push(f.s, (stub_reply){.drop = 1});
    time_t t0 = time(NULL);
    push1(&f);
    flush(&f);
    mlc_store_link *l = link_of(&f);
    ck_assert_int_ge(l->settle_after, (int64_t)t0 + 60);
    mlc_store_link_free(l);
    int before = stub_count(f.s);

    run_start(&f);
    push1(&f);
    flush(&f);
    ck_assert_int_eq(stub_count(f.s), before); /* no lookup, no create */
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_IN_DOUBT);
    ck_assert_str_eq(f.key[0], "mlc-100-P1");
    ck_assert_int_eq(mlc_push_stats_get(f.p)->worst, MLC_ERR_TRANSIENT);
    fx_free(&f);
}
END_TEST

/* Within a run: the create's answer is lost; after the wait the key is looked
 * up, found, and linked; no second create. */
START_TEST(resolve_after_lost_answer)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P0", "se-0", "h", "open");
    run_start(&f);
    stub_push(f.s, (stub_reply){.drop = 1});
    stub_push(f.s, (stub_reply){.status = 200, .body = FOUND("mlc-100-P1", "se-8", "pending")});
    push1(&f);
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "POST", "/v2/shipments"), 1);
    ck_assert_int_eq(count_reqs(&f, "GET", "/v2/shipments/external_shipment_id/mlc-100-P1"), 1);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_CREATED);
    ck_assert_str_eq(f.id[0], "se-8");
    ck_assert_int_eq(mlc_push_stats_get(f.p)->worst, MLC_OK);
    fx_free(&f);
}
END_TEST

/* 429 and 503 on the create, with backoff. A 429 is a refusal before anything was
 * done: created again after the wait, no settle, no lookup. A 503 leaves the outcome
 * unknown: looked up (not found), then created again. */
START_TEST(retry_with_backoff_on_429_and_5xx)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P0", "se-0", "h", "open");
    f.o.base_ms = 50;
    f.o.cap_ms = 50;
    run_start(&f);
    stub_push(f.s, (stub_reply){.status = 429, .headers = "Retry-After: 0\n",
                                .body = "{\"errors\":[{\"message\":\"slow down\"}]}"});
    stub_push(f.s, (stub_reply){.status = 503, .body = "{}"});
    stub_push(f.s, (stub_reply){.status = 404, .body = "{}"});
    stub_push(f.s, (stub_reply){.status = 200, .body = CREATED_P1("mlc-100-P1", "se-9")});
    push1(&f);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    flush(&f);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ck_assert_int_eq(count_reqs(&f, "POST", "/v2/shipments"), 3);
    ck_assert_int_eq(count_reqs(&f, "GET", "/v2/shipments/external_shipment_id/"), 1);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_CREATED);
    ck_assert_str_eq(f.id[0], "se-9");
    /* two waits (full jitter in [0, 50] ms); only the 503's is followed by a lookup */
    ck_assert_int_eq(log_count(&f, "creates again in"), 1);
    ck_assert_int_eq(log_count(&f, "in doubt; looking the keys up in"), 1);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    ck_assert_int_lt(ms, 5000);
    fx_free(&f);

    /* out of attempts: the PO fails, its intent stays for the next run */
    fx_init(&f);
    f.o.max_attempts = 2;
    seed_link(&f, "mlc-100-P1", NULL, NULL, "open"); /* an earlier run's intent, settled */
    run_start(&f);
    int before = count_reqs(&f, "POST", "/v2/shipments");
    stub_push(f.s, (stub_reply){.status = 404, .body = "{}"}); /* the intent's lookup */
    stub_push(f.s, (stub_reply){.status = 500, .body = "{}"});
    stub_push(f.s, (stub_reply){.status = 404, .body = "{}"});
    stub_push(f.s, (stub_reply){.status = 502, .body = "{}"});
    push1(&f);
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "POST", "/v2/shipments") - before, 2);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_FAILED);
    ck_assert_int_eq(mlc_push_stats_get(f.p)->worst, MLC_ERR_TRANSIENT);
    mlc_store_link *l = link_of(&f);
    ck_assert_str_eq(l->order_key, "mlc-100-P1");
    ck_assert_ptr_null(l->shipstation_id);
    mlc_store_link_free(l);
    fx_free(&f);
}
END_TEST

/* A linked PO whose content changed: cancel, then create under the next revision. */
START_TEST(cancel_and_recreate_on_change)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P1", "se-1", "an-older-hash", "open");
    run_start(&f);
    stub_push(f.s, (stub_reply){.status = 200, .body = "{}"});
    stub_push(f.s, (stub_reply){.status = 200, .body = CREATED_P1("mlc-100-P1.r2", "se-2")});
    push1(&f);
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "PUT", "/v2/shipments/se-1/cancel"), 1);
    ck_assert_int_eq(count_reqs(&f, "POST", "/v2/shipments"), 1);
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].body, "\"external_shipment_id\":\"mlc-100-P1.r2\""));
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_UPDATED);
    ck_assert_str_eq(f.key[0], "mlc-100-P1.r2");
    mlc_store_link *l = link_of(&f);
    ck_assert_str_eq(l->order_key, "mlc-100-P1.r2");
    ck_assert_str_eq(l->shipstation_id, "se-2");
    mlc_store_link_free(l);

    /* the same content again: unchanged, no call */
    run_start(&f);
    int before = stub_count(f.s);
    push1(&f);
    flush(&f);
    ck_assert_int_eq(stub_count(f.s), before);
    ck_assert_int_eq(f.act[0], MLC_PUSH_UNCHANGED);
    fx_free(&f);
}
END_TEST

/* A closed PO (status 85 or more): its open shipment is cancelled; with
 * mapping.closed_po: ignore it is left; status 84 is not closed. */
START_TEST(closed_po_cancels_its_shipment)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P1", "se-1", "h", "open");
    f.o.cancel_closed = 0;
    run_start(&f);
    push_po(&f, "85", 5, 0, 3, 0);
    ck_assert_int_eq(stub_count(f.s), 0);
    ck_assert_int_eq(f.act[0], MLC_PUSH_UNCHANGED);

    f.o.cancel_closed = 1;
    run_start(&f);
    stub_push(f.s, (stub_reply){.status = 200, .body = "{}"});
    push_po(&f, "85", 5, 0, 3, 0);
    ck_assert_int_eq(count_reqs(&f, "PUT", "/v2/shipments/se-1/cancel"), 1);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_CANCELLED);
    mlc_store_link *l = link_of(&f);
    ck_assert_str_eq(l->status, "cancelled");
    mlc_store_link_free(l);

    /* already cancelled: nothing more */
    run_start(&f);
    push_po(&f, "99", 5, 0, 3, 0);
    ck_assert_int_eq(stub_count(f.s), 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_UNCHANGED);
    ck_assert_int_eq(MLC_PUSH_PO_CLOSED_STATUS, 85);
    fx_free(&f);
}
END_TEST

/* V1: upsert by orderKey (an intent with its deadline first), then the update
 * carries orderId; a closed PO is cancelled through the same upsert. */
START_TEST(v1_upsert_update_and_cancel)
{
    fx f;
    fx_init(&f);
    f.o.api = MLC_SS_V1;
    run_start(&f);
    stub_push(f.s,
              (stub_reply){.status = 200,
                           .body = "{\"results\":[{\"orderKey\":\"mlc-100-P1\",\"orderId\":77,\"success\":true}]}"});
    push1(&f);
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "POST", "/orders/createorders"), 1);
    ck_assert_ptr_null(strstr(f.s->reqs[0].body, "orderId"));
    ck_assert_int_eq(f.act[0], MLC_PUSH_CREATED);
    ck_assert_str_eq(f.id[0], "77");
    mlc_store_link *l = link_of(&f);
    ck_assert_str_eq(l->api, "v1");
    mlc_store_link_free(l);

    run_start(&f);
    stub_push(f.s,
              (stub_reply){.status = 200,
                           .body = "{\"results\":[{\"orderKey\":\"mlc-100-P1\",\"orderId\":77,\"success\":true}]}"});
    push_po(&f, "20", 6, 0, 3, 0); /* changed */
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "POST", "/orders/createorders"), 2);
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].body, "\"orderId\":77"));
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].body, "\"orderKey\":\"mlc-100-P1\"")); /* V1 stays at revision 1 */
    ck_assert_int_eq(f.act[0], MLC_PUSH_UPDATED);

    run_start(&f);
    stub_push(f.s,
              (stub_reply){.status = 200,
                           .body = "{\"results\":[{\"orderKey\":\"mlc-100-P1\",\"orderId\":77,\"success\":true}]}"});
    push_po(&f, "85", 6, 0, 3, 0);
    ck_assert_int_eq(count_reqs(&f, "POST", "/orders/createorders"), 3);
    ck_assert_ptr_nonnull(strstr(f.s->reqs[2].body, "\"orderStatus\":\"cancelled\""));
    ck_assert_int_eq(f.act[0], MLC_PUSH_CANCELLED);
    fx_free(&f);
}
END_TEST

/* Over-received lines (received >= ordered; receipts.over_shipment decides how
 * receipts treat them, the push only sees no open quantity) are not shipped; a
 * PO with nothing open leaves ShipStation alone. */
START_TEST(over_received_lines_are_not_shipped)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P0", "se-0", "h", "open");
    run_start(&f);
    stub_push(f.s, (stub_reply){.status = 200, .body = CREATED_P1("mlc-100-P1", "se-3")});
    push_po(&f, "20", 5, 7, 3, 1); /* line 10 over-received, line 20 has 2 open */
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "POST", "/v2/shipments"), 1);
    const char *body = f.s->reqs[0].body;
    ck_assert_ptr_null(strstr(body, "\"P1/10/0\""));
    ck_assert_ptr_nonnull(strstr(body, "\"external_order_item_id\":\"P1/20/0\""));
    ck_assert_ptr_nonnull(strstr(body, "\"quantity\":2"));
    ck_assert_int_eq(f.act[0], MLC_PUSH_CREATED);

    run_start(&f);
    push_po(&f, "50", 5, 5, 3, 4); /* everything received, and more */
    flush(&f);
    ck_assert_int_eq(stub_count(f.s), 1); /* no cancel, no create */
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_UNCHANGED);
    fx_free(&f);
}
END_TEST

/* A fresh state (no V2 link): the key is looked up before anything is created;
 * a live shipment is linked, not created again. */
START_TEST(fresh_state_looks_up_first)
{
    fx f;
    fx_init(&f);
    run_start(&f);
    stub_push(f.s, (stub_reply){.status = 200, .body = FOUND("mlc-100-P1", "se-4", "pending")});
    push1(&f);
    flush(&f);
    ck_assert_int_eq(count_reqs(&f, "POST", "/v2/shipments"), 0);
    ck_assert_int_eq(f.act[0], MLC_PUSH_UNCHANGED);
    ck_assert_str_eq(f.id[0], "se-4");
    fx_free(&f);
}
END_TEST

/* Within a run, the lookup after a lost answer waits until the create cannot be
 * executing any more: its start + shipstation.timeout (+ the margin). */
START_TEST(lookup_waits_for_the_deadline)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P0", "se-0", "h", "open");
    f.o.timeout_s = 2;
    run_start(&f);
    stub_push(f.s, (stub_reply){.drop = 1});
    stub_push(f.s, (stub_reply){.status = 200, .body = FOUND("mlc-100-P1", "se-5", "pending")});
    push1(&f);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    flush(&f);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    ck_assert_int_ge(ms, 900); /* at least a whole second of the 2 s deadline was left */
    ck_assert_int_eq(f.act[0], MLC_PUSH_CREATED);
    ck_assert_str_eq(f.id[0], "se-5");
    fx_free(&f);
}
END_TEST

/* The dry run sends nothing and uses the key the real run would: an intent's. */
START_TEST(dry_run_plans_the_real_key)
{
    fx f;
    fx_init(&f);
    seed_link(&f, "mlc-100-P1", "se-1", "old", "open");
    f.o.dry_run = 1;
    mlc_error e = {0};
    f.n = 0;
    ck_assert_int_eq(mlc_push_new(&f.o, NULL, f.st, f.map, NULL, &f.p, &e), MLC_OK);
    push1(&f);
    flush(&f);
    ck_assert_int_eq(stub_count(f.s), 0);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(f.act[0], MLC_PUSH_REQUEST);
    ck_assert_str_eq(f.key[0], "mlc-100-P1.r2"); /* the next revision of the changed, linked PO */
    fx_free(&f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("push");
    TCase *tc = tcase_create("protocol");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, intent_before_create_no_second_shipment);
    tcase_add_test(tc, settle_window_no_lookup_before_deadline);
    tcase_add_test(tc, resolve_after_lost_answer);
    tcase_add_test(tc, retry_with_backoff_on_429_and_5xx);
    tcase_add_test(tc, lookup_waits_for_the_deadline);
    tcase_add_test(tc, cancel_and_recreate_on_change);
    tcase_add_test(tc, closed_po_cancels_its_shipment);
    tcase_add_test(tc, v1_upsert_update_and_cancel);
    tcase_add_test(tc, over_received_lines_are_not_shipped);
    tcase_add_test(tc, fresh_state_looks_up_first);
    tcase_add_test(tc, dry_run_plans_the_real_key);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
