/* test_shipment.c: lib/shipment conversions: V2 shipment + labels and V1 shipments
 * (Pacific dates) to shipment records; foreign shipments ignored; the redelivery
 * pass over the outbox (taken in: forgotten; not yet: written again; too old:
 * given up). */
#include "shipment.h"
#include "testutil.h"

static cJSON *v2_shipment(void)
{
    return cJSON_Parse(
        "{\"shipment_id\":\"se-5\",\"external_shipment_id\":\"mlc-100-2000003\",\"shipment_status\":\"label_purchased\","
        "\"items\":[{\"sku\":\"A\",\"quantity\":15,\"external_order_item_id\":\"2000003/10/0\"},"
        "{\"sku\":\"X\",\"quantity\":1,\"external_order_item_id\":\"someone-else\"}]}");
}

START_TEST(v2_with_a_live_label)
{
    cJSON *s = v2_shipment(), *rec = NULL;
    cJSON *labels = cJSON_Parse("[{\"label_id\":\"se-9\",\"status\":\"voided\",\"voided\":true,\"tracking_number\":\"OLD\"},"
                                "{\"label_id\":\"se-10\",\"status\":\"completed\",\"voided\":false,"
                                "\"tracking_number\":\"1Z9\",\"carrier_code\":\"ups\","
                                "\"ship_date\":\"2026-11-20T14:00:04.033Z\"}]");
    mlc_error e;
    ck_assert_int_eq(mlc_shipment_from_v2(s, labels, "poll", &rec, &e), MLC_OK);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "kind")->valuestring, "shipment");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "po")->valuestring, "2000003");
    /* V2 has no custom fields: the routing facts come from the link (below) or M3 */
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(rec, "order_type")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(rec, "warehouse")));
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "tracking_number")->valuestring, "1Z9");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "ship_date")->valuestring, "2026-11-20T14:00:04Z");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(rec, "voided")));
    cJSON *items = cJSON_GetObjectItem(rec, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 1); /* the foreign line is not received */
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "po_line")->valuestring, "2000003/10/0");
    cJSON_Delete(rec);
    cJSON_Delete(labels);
    cJSON_Delete(s);
}
END_TEST

/* The V2 record's routing facts come from mlc's link (by key, or by PO of the
 * same company); without a link they stay null (receipts ask M3). */
START_TEST(v2_routing_facts_from_the_link)
{
    char *d = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/s.db", d);
    mlc_store *st = NULL;
    mlc_error e;
    ck_assert_msg(mlc_store_open(path, 0, &st, &e) == MLC_OK, "%s", e.msg);
    cJSON *s = v2_shipment(), *rec = NULL;
    cJSON *labels = cJSON_Parse("[{\"status\":\"completed\",\"tracking_number\":\"1Z9\"}]");
    ck_assert_int_eq(mlc_shipment_from_v2(s, labels, "poll", &rec, &e), MLC_OK);
    ck_assert_int_eq(mlc_shipment_add_link_facts(st, rec, &e), MLC_OK);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(rec, "order_type"))); /* no link: unknown */
    mlc_store_link l = {.po = "2000003", .order_key = "mlc-100-2000003", .api = "v2", .hash = "h",
                        .order_type = "PP3", .warehouse = "WH3", .supplier = "SUP8"};
    ck_assert_int_eq(mlc_store_link_put(st, &l, &e), MLC_OK);
    ck_assert_int_eq(mlc_shipment_add_link_facts(st, rec, &e), MLC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "order_type")->valuestring, "PP3");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "warehouse")->valuestring, "WH3");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "supplier")->valuestring, "SUP8");
    cJSON_Delete(rec);
    /* a put without facts keeps them (the create's answer, a cancel) */
    mlc_store_link l2 = {.po = "2000003", .order_key = "mlc-100-2000003.r2", .api = "v2", .hash = "h2"};
    ck_assert_int_eq(mlc_store_link_put(st, &l2, &e), MLC_OK);
    /* an older revision of the same PO and company: found by PO */
    rec = NULL;
    ck_assert_int_eq(mlc_shipment_from_v2(s, labels, "poll", &rec, &e), MLC_OK);
    ck_assert_int_eq(mlc_shipment_add_link_facts(st, rec, &e), MLC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "order_type")->valuestring, "PP3");
    cJSON_Delete(rec);
    /* the same PO number in another company: not taken */
    cJSON_ReplaceItemInObject(s, "external_shipment_id", cJSON_CreateString("mlc-200-2000003"));
    rec = NULL;
    ck_assert_int_eq(mlc_shipment_from_v2(s, labels, "poll", &rec, &e), MLC_OK);
    ck_assert_int_eq(mlc_shipment_add_link_facts(st, rec, &e), MLC_OK);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(rec, "order_type")));
    cJSON_Delete(rec);
    cJSON_Delete(labels);
    cJSON_Delete(s);
    mlc_store_close(st);
    unlink(path);
    rmdir(d);
    free(d);
}
END_TEST

START_TEST(v2_voided_unshipped_and_foreign)
{
    cJSON *s = v2_shipment(), *rec = NULL;
    mlc_error e;
    cJSON *voided = cJSON_Parse("[{\"status\":\"voided\",\"voided\":true,\"tracking_number\":\"T1\"}]");
    ck_assert_int_eq(mlc_shipment_from_v2(s, voided, "webhook", &rec, &e), MLC_OK);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(rec, "voided")));
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "source")->valuestring, "webhook");
    cJSON_Delete(rec);
    rec = NULL;
    ck_assert_int_eq(mlc_shipment_from_v2(s, NULL, "poll", &rec, &e), MLC_OK);
    ck_assert_ptr_null(rec); /* no label: not shipped */
    cJSON_ReplaceItemInObject(s, "external_shipment_id", cJSON_CreateString("ORDER-77"));
    ck_assert_int_eq(mlc_shipment_from_v2(s, voided, "poll", &rec, &e), MLC_OK);
    ck_assert_ptr_null(rec); /* not one of mlc's */
    cJSON *bad = cJSON_Parse("{\"external_shipment_id\":\"mlc-100-1\"}");
    ck_assert_int_eq(mlc_shipment_from_v2(bad, voided, "poll", &rec, &e), MLC_ERR_REMOTE);
    cJSON_Delete(bad);
    cJSON_Delete(voided);
    cJSON_Delete(s);
}
END_TEST

START_TEST(v1_pacific_dates_and_items)
{
    cJSON *s = cJSON_Parse("{\"shipmentId\":123,\"orderKey\":\"mlc-100-2000004\",\"trackingNumber\":\"9400\","
                           "\"carrierCode\":\"stamps_com\",\"shipDate\":\"2026-07-01\","
                           "\"createDate\":\"2026-07-01T05:00:00.0000000\",\"voided\":false,"
                           "\"advancedOptions\":{\"customField2\":\"SUNO:S ORTY:PP1\"},"
                           "\"shipmentItems\":[{\"lineItemKey\":\"2000004/20/0\",\"sku\":\"B\",\"quantity\":4}]}");
    cJSON *rec = NULL;
    mlc_error e;
    ck_assert_int_eq(mlc_shipment_from_v1(s, "poll", &rec, &e), MLC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "shipment_id")->valuestring, "v1-123");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "order_type")->valuestring, "PP1");
    /* a bare V1 date is Pacific midnight: 07:00Z in summer */
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "ship_date")->valuestring, "2026-07-01T07:00:00Z");
    cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "items"), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(it, "qty")->valueint, 4);
    cJSON_Delete(rec);
    cJSON_Delete(s);
}
END_TEST

START_TEST(v1_fulfillment_whole_order)
{
    cJSON *o = cJSON_Parse("{\"orderId\":77,\"orderKey\":\"mlc-100-2000005\",\"orderStatus\":\"shipped\","
                           "\"advancedOptions\":{\"customField2\":\"SUNO:S ORTY:PP3\",\"customField3\":\"WHLO:WH2\"},"
                           "\"items\":[{\"lineItemKey\":\"2000005/10/0\",\"sku\":\"A\",\"quantity\":3},"
                           "{\"lineItemKey\":\"2000005/20/0\",\"sku\":\"B\",\"quantity\":2},"
                           "{\"lineItemKey\":\"gift-wrap\",\"sku\":\"W\",\"quantity\":1}]}");
    cJSON *f = cJSON_Parse("{\"fulfillmentId\":33000001,\"orderId\":77,\"trackingNumber\":\"1ZM\","
                           "\"carrierCode\":\"fedex\",\"createDate\":\"2026-11-20T06:00:00.0000000\","
                           "\"shipDate\":\"2026-11-20T00:00:00.0000000\",\"voided\":false}");
    cJSON *rec = NULL, *foreign = cJSON_Parse("{\"orderId\":78,\"orderKey\":\"shop-1\",\"items\":[]}");
    mlc_error e;
    ck_assert_int_eq(mlc_shipment_from_v1_fulfillment(o, f, "poll", &rec, &e), MLC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "shipment_id")->valuestring, "v1-f33000001");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "po")->valuestring, "2000005");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "order_type")->valuestring, "PP3");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "tracking_number")->valuestring, "1ZM");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "carrier")->valuestring, "fedex");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "ship_date")->valuestring, "2026-11-20T08:00:00Z"); /* PST */
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(rec, "items")), 2); /* the order's own lines */
    cJSON_Delete(rec);
    rec = NULL;
    ck_assert_int_eq(mlc_shipment_from_v1_fulfillment(foreign, f, "poll", &rec, &e), MLC_OK);
    ck_assert_ptr_null(rec); /* not an order of mlc's */
    cJSON_Delete(foreign);
    cJSON_Delete(f);
    cJSON_Delete(o);
}
END_TEST

typedef struct captured {
    cJSON *recs[8];
    int n;
} captured;

static mlc_err capture(void *ud, cJSON *rec)
{
    captured *c = ud;
    ck_assert_int_lt(c->n, 8);
    c->recs[c->n++] = rec;
    return MLC_OK;
}

static mlc_err reader_gone(void *ud, cJSON *rec)
{
    (void)ud;
    cJSON_Delete(rec);
    return MLC_ERR_PIPE;
}

#define REC(id) "{\"kind\":\"shipment\",\"shipment_id\":\"" id "\",\"order_key\":\"mlc-100-2000003\",\"po\":\"2000003\"," \
                "\"voided\":false,\"source\":\"poll\",\"items\":[{\"sku\":\"A\",\"qty\":3,\"po_line\":\"2000003/10/0\"}]}"

START_TEST(redelivery_until_the_ledger_has_it)
{
    static const char *YAML = "profiles:\n  p:\n    cloudsuite: {cono: 100}\n";
    char *d = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/s.db", d);
    mlc_store *st = NULL;
    mlc_config *cfg = NULL;
    mlc_shipment *sh = NULL;
    mlc_error e;
    ck_assert_msg(mlc_store_open(path, 0, &st, &e) == MLC_OK, "%s", e.msg);
    ck_assert_msg(mlc_config_load_string(YAML, strlen(YAML), "t.yaml", NULL, &cfg, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(mlc_shipment_new(NULL, st, cfg, NULL, &sh, &e), MLC_OK);
    int64_t now = (int64_t)time(NULL);
    ck_assert_int_eq(mlc_store_outbox_put(st, "shipment", "se-1", REC("se-1"), now - 60, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_put(st, "shipment", "se-2", REC("se-2"), now - 30, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_put(st, "shipment", "se-3", REC("se-3"), now - 25 * 3600, &e), MLC_OK);
    /* se-2 is in the ledger: post-receipts stored it before its reader died */
    mlc_store_receipt r = {.idem_key = "se-2/2000003/10/0", .shipment_id = "se-2", .po = "2000003", .line = 10,
                           .qty = 3, .route = "po_receipt"};
    int created;
    ck_assert_int_eq(mlc_store_receipt_add(st, &r, &created, &e), MLC_OK);

    captured c = {0};
    ck_assert_msg(mlc_shipment_redeliver(sh, capture, &c, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(c.n, 1); /* se-1 only: se-2 taken in, se-3 past the default 24 hours */
    ck_assert_str_eq(cJSON_GetObjectItem(c.recs[0], "shipment_id")->valuestring, "se-1");
    ck_assert_str_eq(cJSON_GetObjectItem(c.recs[0], "source")->valuestring, "redeliver");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c.recs[0], "items"), 0), "po_line")
                         ->valuestring,
                     "2000003/10/0");
    cJSON_Delete(c.recs[0]);
    const mlc_shipment_stats *stats = mlc_shipment_stats_get(sh);
    ck_assert_int_eq(stats->outbox.redelivered, 1);
    ck_assert_int_eq(stats->outbox.taken_in, 1);
    ck_assert_int_eq(stats->outbox.given_up, 1);
    mlc_store_outbox_item *it;
    size_t n;
    ck_assert_int_eq(mlc_store_outbox_list(st, "shipment", 10, &it, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(it[0].key, "se-1");
    ck_assert_int_eq(it[0].sends, 2);
    ck_assert_int_eq(it[0].emitted_at, now - 60); /* the window runs from the first write */
    mlc_store_outbox_free(it, n);
    mlc_store_audit_entry *a;
    ck_assert_int_eq(mlc_store_audit_list(st, 0, &a, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(a[0].event, "redelivery_expired");
    ck_assert_ptr_nonnull(strstr(a[0].detail, "\"shipment_id\":\"se-3\""));
    mlc_store_audit_free(a, n);

    /* the reader went away: stopped, still kept; redelivery off: nothing */
    ck_assert_int_eq(mlc_shipment_redeliver(sh, reader_gone, NULL, &e), MLC_ERR_PIPE);
    mlc_shipment_redeliver_within(sh, 0);
    c.n = 0;
    ck_assert_int_eq(mlc_shipment_redeliver(sh, capture, &c, &e), MLC_OK);
    ck_assert_int_eq(c.n, 0);
    ck_assert_int_eq(mlc_store_outbox_list(st, "shipment", 10, &it, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 1);
    mlc_store_outbox_free(it, n);
    /* once the ledger holds it, it is forgotten */
    mlc_shipment_redeliver_within(sh, 3600);
    mlc_store_receipt r1 = {.idem_key = "se-1/2000003/10/0", .shipment_id = "se-1", .po = "2000003", .line = 10,
                            .qty = 3, .route = "po_receipt"};
    ck_assert_int_eq(mlc_store_receipt_add(st, &r1, &created, &e), MLC_OK);
    ck_assert_int_eq(mlc_shipment_redeliver(sh, capture, &c, &e), MLC_OK);
    ck_assert_int_eq(c.n, 0);
    ck_assert_int_eq(mlc_store_outbox_list(st, "shipment", 10, &it, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 0);
    mlc_store_outbox_free(it, n);

    mlc_shipment_free(sh);
    mlc_config_free(cfg);
    mlc_store_close(st);
    unlink(path);
    rmdir(d);
    free(d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("shipment");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, v2_with_a_live_label);
    tcase_add_test(tc, v2_routing_facts_from_the_link);
    tcase_add_test(tc, v2_voided_unshipped_and_foreign);
    tcase_add_test(tc, v1_pacific_dates_and_items);
    tcase_add_test(tc, v1_fulfillment_whole_order);
    tcase_add_test(tc, redelivery_until_the_ledger_has_it);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
