/*
 * test_stock.c: unit tests of lib/stock against stub servers: the warehouse
 * mapping, stock adjusted to M3's on-hand exactly and only where it differs (no
 * request when equal, levels listed once), fractional on-hand as whole units, an
 * unknown location reported, dry run posts nothing, and a prefetch of several
 * SKUs in one bulk read whose adjust failures stay with their own SKU.
 */
#include "item.h"
#include "stock.h"
#include "stubclients.h"

typedef struct fx {
    stub_clients c;
    mlc_config *cfg;
    mlc_item *it;
    mlc_stock *st;
} fx;

static void fx_init(fx *f, const char *mapping)
{
    stub_clients_init(&f->c);
    f->cfg = stub_config(mapping, "");
    mlc_error e = {0};
    ck_assert_msg(mlc_item_new(f->cfg, f->c.m3, &f->it, &e) == MLC_OK, "%s", e.msg);
    ck_assert_msg(mlc_stock_new(f->cfg, f->c.m3, f->c.ss, f->it, &f->st, &e) == MLC_OK, "%s", e.msg);
}

static void fx_free(fx *f)
{
    mlc_stock_free(f->st);
    mlc_item_free(f->it);
    mlc_config_free(f->cfg);
    stub_clients_free(&f->c);
}

START_TEST(warehouse_mapping)
{
    mlc_config *c = stub_config("      warehouses:\n"
                                "        WH1: {inventory_location_id: se-1}\n"
                                "        WH2: {warehouse_id: se-9}\n"
                                "        WH3: {inventory_warehouse_id: se-3}\n",
                                "");
    mlc_stock *s = NULL;
    mlc_error e = {0};
    ck_assert_msg(mlc_stock_new(c, NULL, NULL, NULL, &s, &e) == MLC_OK, "%s", e.msg);
    ck_assert_uint_eq(mlc_stock_warehouses(s), 2); /* WH2 has no inventory mapping */
    mlc_stock_free(s);
    mlc_config_free(c);
}
END_TEST

/* one bulk answer: GetItmWhsBal for WH1 and WH9 */
#define BALS(q1, q2)                                                                                         \
    (stub_reply)                                                                                             \
    {                                                                                                        \
        .status = 200, .body = "{\"results\":[{\"transaction\":\"GetItmWhsBal\",\"records\":[{\"ITNO\":\"S1\","     \
                               "\"WHLO\":\"WH1\",\"STQT\":\"" q1 "\"}]},{\"transaction\":\"GetItmWhsBal\","       \
                               "\"records\":[{\"ITNO\":\"S1\",\"WHLO\":\"WH9\",\"STQT\":\"" q2 "\"}]}],"           \
                               "\"nrOfSuccessfullTransactions\":2,\"nrOfFailedTransactions\":0}"           \
    }

START_TEST(stock_adjust_exact)
{
    fx f;
    fx_init(&f, "      warehouses:\n        WH1: {inventory_location_id: se-4001}\n"
                "        WH9: {inventory_location_id: se-4999}\n");
    stub_push(f.c.ms, STUB_TOKEN);
    stub_push(f.c.ms, BALS("40", "3"));
    stub_push(f.c.ss_srv, (stub_reply){.status = 200,
                                       .body = "{\"inventory\":[{\"sku\":\"S1\",\"on_hand\":35,\"inventory_location_id\":"
                                               "\"se-4001\"},{\"sku\":\"S2\",\"on_hand\":5,\"inventory_location_id\":"
                                               "\"se-4001\"}],\"total\":2,\"page\":1,\"pages\":1,\"links\":{}}"});
    stub_push(f.c.ss_srv, (stub_reply){.status = 204});
    stub_push(f.c.ss_srv, (stub_reply){.status = 200, .body = "{\"inventory\":[],\"total\":0,\"page\":1,\"pages\":0,"
                                                              "\"links\":{}}"});
    stub_push(f.c.ss_srv, (stub_reply){.status = 404,
                                       .body = "{\"request_id\":\"x\",\"errors\":[{\"error_source\":\"ShipStation\","
                                               "\"error_type\":\"validation\",\"error_code\":\"invalid_identifier\","
                                               "\"message\":\"Inventory location se-4999 not found\"}]}"});
    mlc_stock_level st[2];
    mlc_stock_sync(f.st, "S1", 0, st);
    ck_assert_int_eq(st[0].action, MLC_STOCK_ADJUSTED);
    ck_assert_int_eq(st[0].qty, 40);
    ck_assert_double_eq(st[0].ss_qty, 35);
    ck_assert_int_eq(st[1].action, MLC_STOCK_REPORTED);
    ck_assert_msg(strstr(st[1].reason, "se-4999") != NULL, "%s", st[1].reason);
    ck_assert_int_eq(f.c.ss_srv->nreqs, 4);
    stub_req *q = &f.c.ss_srv->reqs[1];
    ck_assert_str_eq(q->method, "POST");
    cJSON *b = cJSON_Parse(q->body);
    ck_assert_str_eq(cJSON_GetObjectItem(b, "transaction_type")->valuestring, "adjust");
    ck_assert_str_eq(cJSON_GetObjectItem(b, "inventory_location_id")->valuestring, "se-4001");
    ck_assert_str_eq(cJSON_GetObjectItem(b, "sku")->valuestring, "S1");
    ck_assert_double_eq(cJSON_GetObjectItem(b, "quantity")->valuedouble, 40);
    cJSON_Delete(b);
    /* the same SKU again: levels are cached and now equal -> no request to ShipStation */
    stub_push(f.c.ms, BALS("40", "0"));
    stub_push(f.c.ss_srv, (stub_reply){.status = 204});
    mlc_stock_sync(f.st, "S1", 0, st);
    ck_assert_int_eq(st[0].action, MLC_STOCK_UNCHANGED);
    ck_assert_int_eq(st[1].action, MLC_STOCK_UNCHANGED); /* 0 on hand, none at the location */
    ck_assert_int_eq(f.c.ss_srv->nreqs, 4);
    /* fractional M3 on-hand goes as whole units, said in the reason; dry run posts nothing */
    stub_push(f.c.ms, BALS("7.5", "0"));
    mlc_stock_sync(f.st, "S2", 1, st);
    ck_assert_int_eq(st[0].action, MLC_STOCK_ADJUSTED);
    ck_assert_int_eq(st[0].qty, 7);
    ck_assert_msg(strstr(st[0].reason, "7.5") != NULL, "%s", st[0].reason);
    ck_assert_int_eq(f.c.ss_srv->nreqs, 4);
    /* M3: the token, then one bulk read per SKU */
    ck_assert_int_eq(f.c.ms->nreqs, 4);
    ck_assert_str_eq(f.c.ms->reqs[1].method, "POST");
    ck_assert_msg(strstr(f.c.ms->reqs[1].body, "\"WH9\"") && strstr(f.c.ms->reqs[1].body, "GetItmWhsBal"), "%s",
                  f.c.ms->reqs[1].body);
    fx_free(&f);
}
END_TEST

/* Three SKUs prefetched in one bulk read; only the two whose on-hand differs are
 * adjusted, and a failed adjust is that SKU's alone. */
START_TEST(prefetch_and_failures_per_sku)
{
    fx f;
    fx_init(&f, "      warehouses:\n        WH1: {inventory_location_id: se-4001}\n");
    stub_push(f.c.ms, STUB_TOKEN);
    stub_push(f.c.ms, (stub_reply){.status = 200,
                                   .body = "{\"results\":["
                                           "{\"transaction\":\"GetItmWhsBal\",\"records\":[{\"STQT\":\"12\"}]},"
                                           "{\"transaction\":\"GetItmWhsBal\",\"records\":[{\"STQT\":\"5\"}]},"
                                           "{\"transaction\":\"GetItmWhsBal\",\"records\":[{\"STQT\":\"8\"}]}],"
                                           "\"nrOfSuccessfullTransactions\":3,\"nrOfFailedTransactions\":0}"});
    stub_push(f.c.ss_srv, (stub_reply){.status = 200,
                                       .body = "{\"inventory\":[{\"sku\":\"S1\",\"on_hand\":10,\"inventory_location_id\":"
                                               "\"se-4001\"},{\"sku\":\"S2\",\"on_hand\":5,\"inventory_location_id\":"
                                               "\"se-4001\"}],\"total\":2,\"page\":1,\"pages\":1,\"links\":{}}"});
    stub_push(f.c.ss_srv, (stub_reply){.status = 500, .body = "{}"}); /* S1's adjust */
    stub_push(f.c.ss_srv, (stub_reply){.status = 204});               /* S3's adjust */
    char *skus[] = {"S1", "S2", "S3"};
    mlc_error e = {0};
    ck_assert_msg(mlc_stock_prefetch(f.st, skus, 3, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(f.c.ms->nreqs, 2); /* the token and one bulk read */
    mlc_stock_level s1, s2, s3;
    mlc_stock_sync(f.st, "S1", 0, &s1);
    mlc_stock_sync(f.st, "S2", 0, &s2);
    mlc_stock_sync(f.st, "S3", 0, &s3);
    ck_assert_int_eq(f.c.ms->nreqs, 2); /* answered from the prefetch */
    ck_assert_int_eq(s1.action, MLC_STOCK_FAILED);
    ck_assert_int_eq(s1.err, MLC_ERR_TRANSIENT);
    ck_assert_msg(s1.reason[0] != '\0', "no reason");
    ck_assert_int_eq(s2.action, MLC_STOCK_UNCHANGED);
    ck_assert_int_eq(s3.action, MLC_STOCK_ADJUSTED);
    ck_assert_double_eq(s3.ss_qty, 0);
    ck_assert_int_eq(s3.qty, 8);
    /* one listing and two adjusts: none for S2, whose on-hand is equal */
    ck_assert_int_eq(f.c.ss_srv->nreqs, 3);
    ck_assert_msg(strstr(f.c.ss_srv->reqs[1].body, "\"S1\""), "%s", f.c.ss_srv->reqs[1].body);
    ck_assert_msg(strstr(f.c.ss_srv->reqs[2].body, "\"S3\""), "%s", f.c.ss_srv->reqs[2].body);
    /* the failed SKU again: its level was not changed, so it is tried again */
    stub_push(f.c.ss_srv, (stub_reply){.status = 204});
    mlc_stock_sync(f.st, "S1", 0, &s1);
    ck_assert_int_eq(s1.action, MLC_STOCK_ADJUSTED);
    ck_assert_double_eq(s1.ss_qty, 10);
    ck_assert_int_eq(f.c.ss_srv->nreqs, 4);
    mlc_stock_forget(f.st);
    fx_free(&f);
}
END_TEST

static Suite *stock_suite(void)
{
    Suite *s = suite_create("stock");
    TCase *t = tcase_create("stub");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, warehouse_mapping);
    tcase_add_test(t, stock_adjust_exact);
    tcase_add_test(t, prefetch_and_failures_per_sku);
    suite_add_tcase(s, t);
    return s;
}

TU_MAIN(stock_suite)
