/*
 * test_itemsync.c: unit tests of lib/itemsync against stub servers and a
 * temporary store: a change synced M3 -> ShipStation is remembered and not taken
 * for a new change on the next run (no ping-pong; the re-run writes nothing and
 * moves on from the cursor less the overlap), both directions in one SKU with the
 * re-read M3 side remembered, the newest-wins rule fed by the remembered values,
 * dry run plans without writing, remembering or moving the cursor, and a failed
 * write that is retried by the next run (nothing remembered for the failed side).
 */
#include "item.h"
#include "itemsync.h"
#include "store.h"
#include "stubclients.h"

typedef struct fx {
    stub_clients c;
    mlc_config *cfg;
    mlc_store *st;
    cJSON *out; /* the records of the last run */
    mlc_itemsync_stats stats;
} fx;

static void fx_init(fx *f, const char *mapping)
{
    memset(f, 0, sizeof *f);
    stub_clients_init(&f->c);
    f->cfg = stub_config(mapping, "");
    char path[512];
    snprintf(path, sizeof path, "%s/s.db", f->c.dir);
    mlc_error e = {0};
    ck_assert_msg(mlc_store_open(path, 0, &f->st, &e) == MLC_OK, "%s", e.msg);
}

static void fx_free(fx *f)
{
    cJSON_Delete(f->out);
    mlc_store_close(f->st);
    mlc_config_free(f->cfg);
    stub_clients_free(&f->c);
}

static int collect(void *ud, const mlc_itemsync_outcome *o)
{
    fx *f = ud;
    ck_assert_str_eq(cJSON_GetObjectItem(o->record, "sku")->valuestring, o->sku);
    ck_assert_str_eq(cJSON_GetObjectItem(o->record, "action")->valuestring, o->action);
    cJSON_AddItemToArray(f->out, cJSON_Duplicate(o->record, 1));
    return 0;
}

/* One run as `mlc sync-items` makes it: run, then finish. */
static void run(fx *f, const mlc_itemsync_opts *o)
{
    mlc_itemsync *s = NULL;
    mlc_error e = {0};
    cJSON_Delete(f->out);
    f->out = cJSON_CreateArray();
    ck_assert_msg(mlc_itemsync_new(o, f->cfg, f->c.m3, f->c.ss, f->st, NULL, &s, &e) == MLC_OK, "%s", e.msg);
    ck_assert_msg(mlc_itemsync_run(s, collect, f, &e) == MLC_OK, "%s", e.msg);
    ck_assert_msg(mlc_itemsync_finish(s, &e) == MLC_OK, "%s", e.msg);
    f->stats = *mlc_itemsync_stats_get(s);
    mlc_itemsync_free(s);
}

static const char *rec_str(const fx *f, int i, const char *key)
{
    const cJSON *x = cJSON_GetObjectItem(cJSON_GetArrayItem(f->out, i), key);
    return cJSON_IsString(x) ? x->valuestring : "";
}

/* fields_changed of record i joined with commas */
static const char *rec_fields(const fx *f, int i)
{
    static char buf[256];
    buf[0] = '\0';
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(cJSON_GetArrayItem(f->out, i), "fields_changed"))
    {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "", x->valuestring);
    }
    return buf;
}

static char *remembered(fx *f, const char *ns, const char *sku)
{
    char *v = NULL;
    mlc_error e = {0};
    ck_assert_msg(mlc_store_seen_get(f->st, ns, sku, &v, &e) == MLC_OK, "%s", e.msg);
    return v;
}

static char *cursor(fx *f)
{
    char *v = NULL;
    mlc_error e = {0};
    ck_assert_msg(mlc_store_cursor_get(f->st, "sync-items", &v, &e) == MLC_OK, "%s", e.msg);
    return v;
}

#define M3_REPLY(tx, records)                                                                                \
    (stub_reply)                                                                                             \
    {                                                                                                        \
        .status = 200, .body = "{\"results\":[{\"transaction\":\"" tx "\",\"records\":[" records "]}],"             \
                               "\"nrOfSuccessfullTransactions\":1,\"nrOfFailedTransactions\":0}"           \
    }
/* GetItmBasic of S1 (kg, cm): 0.4536 kg = 16.00 oz, 2.54 cm = 1.00 in */
#define M3_S1(name, grwe, lmdt)                                                                              \
    M3_REPLY("GetItmBasic", "{\"ITNO\":\"S1\",\"ITDS\":\"" name "\",\"GRWE\":\"" grwe "\",\"ILEN\":\"2.54\","  \
                            "\"IWID\":\"2.54\",\"IHEI\":\"2.54\",\"FUDS\":\"\",\"LMDT\":\"" lmdt "\"}")
#define CHANGED_S1(lmdt) M3_REPLY("LstItmByChgDate", "{\"ITNO\":\"S1\",\"LMDT\":\"" lmdt "\"}")
#define CHANGED_NONE                                                                                         \
    (stub_reply) { .status = 200, .body = "{\"results\":[{\"transaction\":\"LstItmByChgDate\",\"records\":[]}]}" }
/* V1 product list with S1 */
#define PRODUCTS_S1(name, oz, modified)                                                                      \
    (stub_reply)                                                                                             \
    {                                                                                                        \
        .status = 200, .body = "{\"products\":[{\"productId\":501,\"sku\":\"S1\",\"name\":\"" name "\","            \
                               "\"weightOz\":" oz ",\"length\":1,\"width\":1,\"height\":1,\"active\":true,"   \
                               "\"modifyDate\":\"" modified "\"}],\"total\":1,\"page\":1,\"pages\":1}"         \
    }
#define PUT_OK (stub_reply){.status = 200, .body = "{\"success\":true}"}

/* M3 -> ShipStation, then a re-run: what mlc wrote is not a change. */
START_TEST(no_ping_pong)
{
    fx f;
    fx_init(&f, "      items: {}\n");
    mlc_itemsync_opts o;
    mlc_itemsync_opts_from_config(f.cfg, &o);
    stub_push(f.c.ss_srv, PRODUCTS_S1("Old", "16", "2026-11-01T05:00:00.0000000"));
    stub_push(f.c.ss_srv, PUT_OK);
    stub_push(f.c.ms, STUB_TOKEN);
    stub_push(f.c.ms, CHANGED_S1("20261130"));
    stub_push(f.c.ms, M3_S1("New", "0.4536", "20261130"));
    run(&f, &o);
    ck_assert_int_eq(cJSON_GetArraySize(f.out), 2);
    ck_assert_str_eq(rec_str(&f, 0, "direction"), "to-shipstation");
    ck_assert_str_eq(rec_str(&f, 0, "action"), "updated");
    ck_assert_str_eq(rec_fields(&f, 0), "name");
    ck_assert_str_eq(rec_str(&f, 1, "direction"), "to-cloudsuite");
    ck_assert_str_eq(rec_str(&f, 1, "action"), "unchanged");
    ck_assert_int_eq(f.stats.failed, 0);
    ck_assert_int_eq(f.c.ss_srv->nreqs, 2);
    ck_assert_str_eq(f.c.ss_srv->reqs[1].method, "PUT");
    ck_assert_msg(strstr(f.c.ss_srv->reqs[1].body, "\"name\":\"New\""), "%s", f.c.ss_srv->reqs[1].body);
    char *cur = cursor(&f), *mem = remembered(&f, "item:ss", "S1");
    ck_assert_str_eq(cur, "20261130");
    ck_assert_msg(mem && strstr(mem, "\"name\":\"New\""), "%s", mem ? mem : "(nothing remembered)");
    free(cur);
    free(mem);

    /* re-run: ShipStation now shows what mlc wrote (modified today), M3 has nothing new */
    stub_push(f.c.ss_srv, PRODUCTS_S1("New", "16", "2026-12-01T05:00:00.0000000"));
    stub_push(f.c.ms, CHANGED_NONE);
    run(&f, &o);
    ck_assert_int_eq(cJSON_GetArraySize(f.out), 0);
    ck_assert_int_eq(f.c.ss_srv->nreqs, 3); /* the listing only: no write back */
    ck_assert_int_eq(f.c.ms->nreqs, 4);     /* the change listing only: no item read, no UpdItmBasic */
    ck_assert_msg(strstr(f.c.ms->reqs[3].url, "FLMD=20261129"), "%s", f.c.ms->reqs[3].url); /* 1 day overlap */
    cur = cursor(&f);
    ck_assert_str_eq(cur, "20261130");
    free(cur);
    fx_free(&f);
}
END_TEST

/* One SKU, both directions: name owned by ShipStation, weight by CloudSuite. */
START_TEST(both_directions)
{
    fx f;
    fx_init(&f, "      items: {owners: {name: shipstation}}\n");
    mlc_itemsync_opts o;
    mlc_itemsync_opts_from_config(f.cfg, &o);
    o.sku = "S1";
    stub_push(f.c.ss_srv, PRODUCTS_S1("SS name", "16", "2026-11-01T05:00:00.0000000"));
    stub_push(f.c.ss_srv, PUT_OK);
    stub_push(f.c.ms, STUB_TOKEN);
    stub_push(f.c.ms, M3_S1("M3 name", "0.9072", "20261120")); /* 32.00 oz */
    stub_push(f.c.ms, M3_REPLY("UpdItmBasic", ""));
    stub_push(f.c.ms, M3_S1("SS name", "0.9072", "20261201")); /* the re-read after the write */
    run(&f, &o);
    ck_assert_int_eq(cJSON_GetArraySize(f.out), 2);
    ck_assert_str_eq(rec_str(&f, 0, "direction"), "to-shipstation");
    ck_assert_str_eq(rec_str(&f, 0, "action"), "updated");
    ck_assert_str_eq(rec_fields(&f, 0), "weight");
    ck_assert_str_eq(rec_str(&f, 1, "direction"), "to-cloudsuite");
    ck_assert_str_eq(rec_str(&f, 1, "action"), "updated");
    ck_assert_str_eq(rec_fields(&f, 1), "name");
    /* ShipStation got M3's weight and kept its name; M3 got ShipStation's name only */
    ck_assert_msg(strstr(f.c.ss_srv->reqs[1].body, "\"weightOz\":32"), "%s", f.c.ss_srv->reqs[1].body);
    ck_assert_msg(strstr(f.c.ss_srv->reqs[1].body, "\"name\":\"SS name\""), "%s", f.c.ss_srv->reqs[1].body);
    ck_assert_int_eq(f.c.ms->nreqs, 4);
    ck_assert_msg(strstr(f.c.ms->reqs[2].url, "UpdItmBasic") && strstr(f.c.ms->reqs[2].url, "ITDS=SS"),
                  "%s", f.c.ms->reqs[2].url);
    ck_assert_msg(!strstr(f.c.ms->reqs[2].url, "GRWE"), "%s", f.c.ms->reqs[2].url);
    /* remembered: M3 as re-read (its new change day), ShipStation as written */
    char *m3 = remembered(&f, "item:m3", "S1"), *ss = remembered(&f, "item:ss", "S1"), *cur = cursor(&f);
    mlc_item_values v;
    ck_assert_int_eq(mlc_item_values_decode(m3, &v), 0);
    ck_assert_str_eq(v.v[MLC_ITEM_NAME], "SS name");
    ck_assert_int_eq((long)v.changed_at, 1796083200); /* 2026-12-01 */
    ck_assert_int_eq(mlc_item_values_decode(ss, &v), 0);
    ck_assert_str_eq(v.v[MLC_ITEM_WEIGHT], "32.00");
    ck_assert_ptr_null(cur); /* --sku: cursor untouched */
    free(m3);
    free(ss);
    fx_free(&f);
}
END_TEST

static void remember(fx *f, const char *ns, const char *name, const char *weight)
{
    mlc_item_values v;
    memset(&v, 0, sizeof v);
    snprintf(v.sku, sizeof v.sku, "S1");
    snprintf(v.v[MLC_ITEM_NAME], MLC_ITEM_VALUE_MAX, "%s", name);
    snprintf(v.v[MLC_ITEM_WEIGHT], MLC_ITEM_VALUE_MAX, "%s", weight);
    for (int k = MLC_ITEM_LENGTH; k <= MLC_ITEM_HEIGHT; k++)
        snprintf(v.v[k], MLC_ITEM_VALUE_MAX, "1.00");
    char *t = mlc_item_values_encode(&v);
    mlc_error e = {0};
    ck_assert_int_eq(mlc_store_seen_set(f->st, ns, "S1", t, &e), MLC_OK);
    free(t);
}

/* owners newest: the remembered values say which side changed; both changed: the later day wins. */
START_TEST(newest_from_memory)
{
    fx f;
    fx_init(&f, "      items: {owners: {name: newest, weight: newest}}\n");
    remember(&f, "item:m3", "Base", "16.00");
    remember(&f, "item:ss", "Base", "16.00");
    mlc_itemsync_opts o;
    mlc_itemsync_opts_from_config(f.cfg, &o);
    o.sku = "S1";
    /* name changed on both sides, ShipStation two days later; weight changed in M3 only */
    stub_push(f.c.ss_srv, PRODUCTS_S1("SS name", "16", "2026-11-22T05:00:00.0000000"));
    stub_push(f.c.ss_srv, PUT_OK);
    stub_push(f.c.ms, STUB_TOKEN);
    stub_push(f.c.ms, M3_S1("M3 name", "0.9072", "20261120"));
    stub_push(f.c.ms, M3_REPLY("UpdItmBasic", ""));
    stub_push(f.c.ms, M3_S1("SS name", "0.9072", "20261201"));
    run(&f, &o);
    ck_assert_int_eq(cJSON_GetArraySize(f.out), 2);
    ck_assert_str_eq(rec_fields(&f, 0), "weight"); /* to ShipStation: only M3 changed it */
    ck_assert_str_eq(rec_fields(&f, 1), "name");   /* to CloudSuite: ShipStation's change is later */
    /* the same on the same day: CloudSuite wins the tie (M3 keeps days only) */
    remember(&f, "item:m3", "Base", "32.00");
    remember(&f, "item:ss", "Base", "32.00");
    stub_push(f.c.ss_srv, PRODUCTS_S1("SS name", "32", "2026-11-20T05:00:00.0000000"));
    stub_push(f.c.ss_srv, PUT_OK);
    stub_push(f.c.ms, M3_S1("M3 name", "0.9072", "20261120"));
    run(&f, &o);
    ck_assert_int_eq(cJSON_GetArraySize(f.out), 2);
    ck_assert_str_eq(rec_fields(&f, 0), "name");
    ck_assert_str_eq(rec_str(&f, 1, "action"), "unchanged");
    ck_assert_msg(strstr(f.c.ss_srv->reqs[3].body, "\"name\":\"M3 name\""), "%s", f.c.ss_srv->reqs[3].body);
    fx_free(&f);
}
END_TEST

START_TEST(dry_run_writes_nothing)
{
    fx f;
    fx_init(&f, "      items: {}\n");
    mlc_itemsync_opts o;
    mlc_itemsync_opts_from_config(f.cfg, &o);
    o.dry_run = 1;
    stub_push(f.c.ss_srv, PRODUCTS_S1("Old", "16", "2026-11-01T05:00:00.0000000"));
    stub_push(f.c.ms, STUB_TOKEN);
    stub_push(f.c.ms, CHANGED_S1("20261130"));
    stub_push(f.c.ms, M3_S1("New", "0.4536", "20261130"));
    run(&f, &o);
    ck_assert_int_eq(cJSON_GetArraySize(f.out), 2);
    ck_assert_str_eq(rec_str(&f, 0, "action"), "updated"); /* the plan */
    ck_assert_str_eq(rec_fields(&f, 0), "name");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(f.out, 0), "dry_run")));
    ck_assert_int_eq(f.c.ss_srv->nreqs, 1); /* the listing, no PUT */
    ck_assert_int_eq(f.c.ms->nreqs, 3);
    char *cur = cursor(&f), *m3 = remembered(&f, "item:m3", "S1"), *ss = remembered(&f, "item:ss", "S1");
    ck_assert_ptr_null(cur);
    ck_assert_ptr_null(m3);
    ck_assert_ptr_null(ss);
    fx_free(&f);
}
END_TEST

/* A failed product write: reported, counted, the cursor stays, and the next run
 * (which lists the item again) writes it. */
START_TEST(failed_write_retried)
{
    fx f;
    fx_init(&f, "      items: {}\n");
    mlc_itemsync_opts o;
    mlc_itemsync_opts_from_config(f.cfg, &o);
    stub_push(f.c.ss_srv, PRODUCTS_S1("Old", "16", "2026-11-01T05:00:00.0000000"));
    stub_push(f.c.ss_srv, (stub_reply){.status = 503, .body = "{}"});
    stub_push(f.c.ms, STUB_TOKEN);
    stub_push(f.c.ms, CHANGED_S1("20261130"));
    stub_push(f.c.ms, M3_S1("New", "0.4536", "20261130"));
    run(&f, &o);
    ck_assert_int_eq(cJSON_GetArraySize(f.out), 2);
    ck_assert_str_eq(rec_str(&f, 0, "action"), "skipped");
    ck_assert_msg(rec_str(&f, 0, "reason")[0], "no reason");
    ck_assert_int_eq(f.stats.failed, 1);
    ck_assert_int_eq(f.stats.worst, MLC_ERR_TRANSIENT);
    /* counted by the one rule: left for later (75), not failed */
    ck_assert_int_eq(f.stats.out.later, 1);
    ck_assert_int_eq(f.stats.out.failed, 0);
    ck_assert_int_eq(mlc_outcome_exit_code(&f.stats.out), MLC_EXIT_TEMPFAIL);
    char *cur = cursor(&f), *m3 = remembered(&f, "item:m3", "S1");
    ck_assert_ptr_null(cur); /* a run with a failure does not move the cursor */
    ck_assert_ptr_null(m3);  /* M3's change is still to be carried over */
    /* the next run lists it again (no cursor) and writes it */
    stub_push(f.c.ss_srv, PRODUCTS_S1("Old", "16", "2026-11-01T05:00:00.0000000"));
    stub_push(f.c.ss_srv, PUT_OK);
    stub_push(f.c.ms, CHANGED_S1("20261130"));
    stub_push(f.c.ms, M3_S1("New", "0.4536", "20261130"));
    run(&f, &o);
    ck_assert_str_eq(rec_str(&f, 0, "action"), "updated");
    ck_assert_int_eq(f.stats.failed, 0);
    ck_assert_int_eq(f.c.ss_srv->nreqs, 4);
    ck_assert_str_eq(f.c.ss_srv->reqs[3].method, "PUT");
    cur = cursor(&f);
    ck_assert_str_eq(cur, "20261130");
    free(cur);
    fx_free(&f);
}
END_TEST

static Suite *itemsync_suite(void)
{
    Suite *s = suite_create("itemsync");
    TCase *t = tcase_create("stub");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, no_ping_pong);
    tcase_add_test(t, both_directions);
    tcase_add_test(t, newest_from_memory);
    tcase_add_test(t, dry_run_writes_nothing);
    tcase_add_test(t, failed_write_retried);
    suite_add_tcase(s, t);
    return s;
}

TU_MAIN(itemsync_suite)
