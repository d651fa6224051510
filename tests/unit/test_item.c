/*
 * test_item.c: unit tests of lib/item: canonical values from M3 records and V1/V2
 * products (unit conversion), comparison tolerances, the per-field ownership plan
 * (cloudsuite, shipstation, newest with and without remembered values), the
 * remembered-values codec, mapping checks, and against stub servers (lib/product):
 * the V1 PUT carries the whole resource.  Stock: test_stock.c; the sync:
 * test_itemsync.c.
 */
#include "item.h"
#include "product.h"
#include "stubclients.h"

#include <math.h>

static mlc_config *cfg_of(const char *mapping) { return stub_config(mapping, ""); }

static mlc_item *item_of(mlc_config *c)
{
    mlc_item *it = NULL;
    mlc_error e = {0};
    ck_assert_msg(mlc_item_new(c, NULL, &it, &e) == MLC_OK, "%s", e.msg);
    return it;
}

static void vals(mlc_item_values *v, const char *name, const char *w, const char *l, time_t at)
{
    memset(v, 0, sizeof *v);
    snprintf(v->sku, sizeof v->sku, "S1");
    snprintf(v->v[MLC_ITEM_NAME], MLC_ITEM_VALUE_MAX, "%s", name);
    snprintf(v->v[MLC_ITEM_WEIGHT], MLC_ITEM_VALUE_MAX, "%s", w);
    snprintf(v->v[MLC_ITEM_LENGTH], MLC_ITEM_VALUE_MAX, "%s", l);
    snprintf(v->v[MLC_ITEM_WIDTH], MLC_ITEM_VALUE_MAX, "0.00");
    snprintf(v->v[MLC_ITEM_HEIGHT], MLC_ITEM_VALUE_MAX, "0.00");
    v->changed_at = at;
}

START_TEST(same_tolerances)
{
    ck_assert_str_eq(mlc_item_field_name(MLC_ITEM_CUSTOMS_DESC), "customs_description");
    ck_assert_ptr_null(mlc_item_field_name(MLC_ITEM__NFIELDS));
    ck_assert(mlc_item_same(MLC_ITEM_WEIGHT, "52.91", "52.92"));
    ck_assert(!mlc_item_same(MLC_ITEM_WEIGHT, "52.91", "52.95"));
    ck_assert(mlc_item_same(MLC_ITEM_LENGTH, "", "0.00"));
    ck_assert(mlc_item_same(MLC_ITEM_NAME, "Widget", "Widget"));
    ck_assert(!mlc_item_same(MLC_ITEM_NAME, "Widget", "widget"));
    /* M3 ITDS keeps 30 characters of a longer product name */
    ck_assert(mlc_item_same(MLC_ITEM_NAME, "123456789012345678901234567890", "123456789012345678901234567890 and more"));
    ck_assert(!mlc_item_same(MLC_ITEM_NAME, "12345678901234567890123456789X", "123456789012345678901234567890 and more"));
}
END_TEST

START_TEST(plan_by_owner)
{
    mlc_item_owner o[MLC_ITEM__NFIELDS] = {MLC_OWNER_CLOUDSUITE, MLC_OWNER_SHIPSTATION, MLC_OWNER_CLOUDSUITE,
                                           MLC_OWNER_CLOUDSUITE, MLC_OWNER_CLOUDSUITE, MLC_OWNER_CLOUDSUITE};
    mlc_item_values m3, ss;
    mlc_item_plan_out p;
    vals(&m3, "A", "10.00", "1.00", 0);
    vals(&ss, "B", "12.00", "1.00", 0);
    mlc_item_plan(o, &m3, NULL, &ss, NULL, &p);
    ck_assert_int_eq(p.act[MLC_ITEM_NAME], MLC_ACT_TO_SS);
    ck_assert_int_eq(p.act[MLC_ITEM_WEIGHT], MLC_ACT_TO_M3);
    ck_assert_int_eq(p.act[MLC_ITEM_LENGTH], MLC_ACT_NONE);
    ck_assert_uint_eq(p.to_ss, 1u << MLC_ITEM_NAME);
    ck_assert_uint_eq(p.to_m3, 1u << MLC_ITEM_WEIGHT);
    /* equal sides: nothing, whoever owns */
    mlc_item_plan(o, &m3, NULL, &m3, NULL, &p);
    ck_assert_uint_eq(p.to_ss | p.to_m3, 0);
}
END_TEST

START_TEST(plan_newest)
{
    mlc_item_owner o[MLC_ITEM__NFIELDS];
    for (int i = 0; i < MLC_ITEM__NFIELDS; i++)
        o[i] = MLC_OWNER_NEWEST;
    mlc_item_values m3, ss, m3p, ssp;
    mlc_item_plan_out p;
    time_t day = 1795000000 - 1795000000 % 86400;
    vals(&m3p, "A", "10.00", "1.00", day - 86400);
    ssp = m3p;
    /* only ShipStation changed: M3 follows, even though M3's day is later */
    vals(&m3, "A", "10.00", "1.00", day + 86400);
    vals(&ss, "B", "10.00", "1.00", day);
    mlc_item_plan(o, &m3, &m3p, &ss, &ssp, &p);
    ck_assert_int_eq(p.act[MLC_ITEM_NAME], MLC_ACT_TO_M3);
    /* only M3 changed */
    vals(&m3, "C", "10.00", "1.00", day);
    vals(&ss, "A", "10.00", "1.00", day + 86400);
    mlc_item_plan(o, &m3, &m3p, &ss, &ssp, &p);
    ck_assert_int_eq(p.act[MLC_ITEM_NAME], MLC_ACT_TO_SS);
    /* both changed: ShipStation on the same day as M3's change day -> CloudSuite */
    vals(&m3, "C", "10.00", "1.00", day);
    vals(&ss, "B", "10.00", "1.00", day + 86399);
    mlc_item_plan(o, &m3, &m3p, &ss, &ssp, &p);
    ck_assert_int_eq(p.act[MLC_ITEM_NAME], MLC_ACT_TO_SS);
    /* ... and from the next day on -> ShipStation */
    ss.changed_at = day + 86400;
    mlc_item_plan(o, &m3, &m3p, &ss, &ssp, &p);
    ck_assert_int_eq(p.act[MLC_ITEM_NAME], MLC_ACT_TO_M3);
    /* nothing remembered: by time as well */
    mlc_item_plan(o, &m3, NULL, &ss, NULL, &p);
    ck_assert_int_eq(p.act[MLC_ITEM_NAME], MLC_ACT_TO_M3);
    ck_assert_uint_eq(p.to_ss, 0);
}
END_TEST

START_TEST(values_codec)
{
    mlc_item_values v, w;
    vals(&v, "Name \"quoted\" \xc3\xa9", "1.50", "2.00", 1234567);
    char *s = mlc_item_values_encode(&v);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(mlc_item_values_decode(s, &w), 0);
    free(s);
    ck_assert_str_eq(w.sku, "S1");
    ck_assert_str_eq(w.v[MLC_ITEM_NAME], v.v[MLC_ITEM_NAME]);
    ck_assert_str_eq(w.v[MLC_ITEM_LENGTH], "2.00");
    ck_assert_int_eq((long)w.changed_at, 1234567);
    ck_assert_int_eq(mlc_item_values_decode("not json", &w), -1);
    ck_assert_int_eq(mlc_item_values_decode(NULL, &w), -1);
}
END_TEST

START_TEST(products_v1_v2)
{
    mlc_item_values v;
    cJSON *p1 = cJSON_Parse("{\"productId\":7,\"sku\":\"S\",\"name\":\" Box \",\"weightOz\":16,\"length\":2,"
                            "\"width\":3.5,\"height\":null,\"customsDescription\":\"Steel\","
                            "\"modifyDate\":\"2026-07-01T05:00:00.0000000\"}");
    mlc_item_from_product(p1, &v);
    ck_assert_str_eq(v.sku, "S");
    ck_assert_str_eq(v.v[MLC_ITEM_NAME], "Box");
    ck_assert_str_eq(v.v[MLC_ITEM_WEIGHT], "16.00");
    ck_assert_str_eq(v.v[MLC_ITEM_WIDTH], "3.50");
    ck_assert_str_eq(v.v[MLC_ITEM_HEIGHT], "0.00");
    ck_assert_str_eq(v.v[MLC_ITEM_CUSTOMS_DESC], "Steel");
    ck_assert_int_eq((long)v.changed_at, 1782907200); /* 05:00 PDT = 12:00Z */
    cJSON_Delete(p1);
    cJSON *p2 = cJSON_Parse("{\"product_id\":7,\"sku\":\"S\",\"name\":\"Box\",\"weight\":{\"value\":2,\"unit\":"
                            "\"pound\"},\"dimensions\":{\"unit\":\"centimeter\",\"length\":2.54,\"width\":5.08,"
                            "\"height\":0},\"modify_date\":\"2026-07-01T12:00:00Z\"}");
    mlc_item_from_product(p2, &v);
    ck_assert_str_eq(v.v[MLC_ITEM_WEIGHT], "32.00");
    ck_assert_str_eq(v.v[MLC_ITEM_LENGTH], "1.00");
    ck_assert_str_eq(v.v[MLC_ITEM_WIDTH], "2.00");
    ck_assert_int_eq((long)v.changed_at, 1782907200);
    cJSON_Delete(p2);
}
END_TEST

START_TEST(m3_record_units)
{
    const char *body = "{\"results\":[{\"transaction\":\"GetItmBasic\",\"records\":[{\"ITNO\":\"S1 \","
                       "\"ITDS\":\"Widget   \",\"GRWE\":\"1.5\",\"ILEN\":\"10\",\"IWID\":\"25.4\",\"IHEI\":\"0\","
                       "\"FUDS\":\"\",\"ITNE\":\"EXT-1\",\"LMDT\":\"20261101\"}]}]}";
    mlc_m3_result *r = NULL;
    ck_assert_int_eq(mlc_m3_result_parse(body, strlen(body), "MMS200MI/GetItmBasic", &r, NULL), MLC_OK);
    mlc_config *c = cfg_of("      items: {weight_unit: kg, length_unit: mm}\n");
    mlc_item *it = item_of(c);
    mlc_item_values v;
    mlc_item_from_m3(it, r, 0, &v);
    ck_assert_str_eq(v.sku, "S1");
    ck_assert_str_eq(v.v[MLC_ITEM_NAME], "Widget");
    ck_assert_str_eq(v.v[MLC_ITEM_WEIGHT], "52.91");
    ck_assert_str_eq(v.v[MLC_ITEM_LENGTH], "0.39");
    ck_assert_str_eq(v.v[MLC_ITEM_WIDTH], "1.00");
    ck_assert_int_eq((long)v.changed_at, 1793491200);
    mlc_item_free(it);
    mlc_config_free(c);
    c = cfg_of("      items: {sku_field: ITNE}\n");
    it = item_of(c);
    mlc_item_from_m3(it, r, 0, &v);
    ck_assert_str_eq(v.sku, "EXT-1");
    ck_assert_str_eq(v.v[MLC_ITEM_LENGTH], "3.94"); /* default cm */
    mlc_item_free(it);
    mlc_config_free(c);
    mlc_m3_result_free(r);
}
END_TEST

START_TEST(mapping_checks)
{
    static const char *const bad[] = {
        "      items: {owners: {colour: cloudsuite}}\n",
    };
    /* a value outside an enum's list is refused when the config loads (lib/config) */
    static const char *const bad_at_load[] = {
        "      items: {owners: {weight: whoever}}\n",
        "      items: {weight_unit: stone}\n",
        "      items: {length_unit: ft}\n",
    };
    for (size_t i = 0; i < sizeof bad_at_load / sizeof bad_at_load[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "profiles:\n  t:\n    mapping:\n%s", bad_at_load[i]);
        mlc_config *c = NULL;
        mlc_error e = {0};
        ck_assert_int_eq(mlc_config_load_string(text, strlen(text), "t.yaml", "t", &c, &e), MLC_ERR_CONFIG);
        ck_assert_msg(strstr(e.msg, "t.yaml:4:") && strstr(e.msg, "mapping.items."), "%s", e.msg);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mlc_config *c = cfg_of(bad[i]);
        mlc_item *it = NULL;
        mlc_error e = {0};
        ck_assert_int_eq(mlc_item_new(c, NULL, &it, &e), MLC_ERR_CONFIG);
        ck_assert_ptr_null(it);
        ck_assert_msg(strstr(e.msg, "mapping.items."), "%s", e.msg);
        mlc_config_free(c);
    }
    mlc_config *c = cfg_of("      items: {owners: {dimensions: shipstation, name: newest}}\n"
                           "      warehouses:\n"
                           "        WH1: {inventory_location_id: se-1}\n"
                           "        WH2: {warehouse_id: se-9}\n"
                           "        WH3: {inventory_warehouse_id: se-3}\n");
    mlc_item *it = item_of(c);
    const mlc_item_owner *o = mlc_item_owners(it);
    mlc_product *pr = NULL;
    ck_assert_int_eq(mlc_product_new(NULL, NULL, &pr, NULL), MLC_OK);
    ck_assert_int_eq(o[MLC_ITEM_NAME], MLC_OWNER_NEWEST);
    ck_assert_int_eq(o[MLC_ITEM_WEIGHT], MLC_OWNER_CLOUDSUITE);
    ck_assert_int_eq(o[MLC_ITEM_LENGTH], MLC_OWNER_SHIPSTATION);
    ck_assert_int_eq(o[MLC_ITEM_HEIGHT], MLC_OWNER_SHIPSTATION);
    ck_assert(!mlc_product_can_write(pr));
    mlc_product_free(pr);
    mlc_item_free(it);
    mlc_config_free(c);
}
END_TEST

/* ---- against stub servers ---- */

START_TEST(put_whole_resource)
{
    stub_clients f;
    stub_clients_init(&f);
    mlc_product *pr = NULL;
    ck_assert_int_eq(mlc_product_new(f.ss, NULL, &pr, NULL), MLC_OK);
    stub_push(f.ss_srv, (stub_reply){.status = 200,
                                     .body = "{\"products\":[{\"productId\":501,\"sku\":\"S1\",\"name\":\"Old\","
                                             "\"weightOz\":16,\"length\":1,\"width\":1,\"height\":1,"
                                             "\"customsTariffNo\":\"8302.10\",\"tags\":[{\"tagId\":3}],"
                                             "\"active\":true}],\"total\":1,\"page\":1,\"pages\":1}"});
    stub_push(f.ss_srv, (stub_reply){.status = 200, .body = "{\"success\":true,\"message\":\"ok\"}"});
    mlc_error e = {0};
    ck_assert_msg(mlc_product_load(pr, &e) == MLC_OK, "%s", e.msg);
    ck_assert_uint_eq(mlc_product_count(pr), 1);
    ck_assert_ptr_null(mlc_product_get(pr, "S2"));
    mlc_item_values v;
    mlc_item_from_product(mlc_product_get(pr, "S1"), &v);
    snprintf(v.v[MLC_ITEM_NAME], MLC_ITEM_VALUE_MAX, "New name");
    snprintf(v.v[MLC_ITEM_WEIGHT], MLC_ITEM_VALUE_MAX, "52.91");
    ck_assert_msg(mlc_product_update(pr, &v, 1u << MLC_ITEM_NAME, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(f.ss_srv->nreqs, 2);
    ck_assert(strstr(f.ss_srv->reqs[0].url, "/products?page=1&pageSize=500") != NULL);
    stub_req *q = &f.ss_srv->reqs[1];
    ck_assert_str_eq(q->method, "PUT");
    ck_assert_str_eq(q->url, "/products/501");
    cJSON *b = cJSON_Parse(q->body);
    ck_assert_str_eq(cJSON_GetObjectItem(b, "name")->valuestring, "New name");
    ck_assert_double_eq(cJSON_GetObjectItem(b, "weightOz")->valuedouble, 16); /* not in the mask */
    ck_assert_str_eq(cJSON_GetObjectItem(b, "customsTariffNo")->valuestring, "8302.10");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b, "tags")), 1);
    ck_assert_double_eq(cJSON_GetObjectItem(b, "productId")->valuedouble, 501);
    cJSON_Delete(b);
    /* the index follows what was written */
    mlc_item_from_product(mlc_product_get(pr, "S1"), &v);
    ck_assert_str_eq(v.v[MLC_ITEM_NAME], "New name");
    mlc_product_free(pr);
    stub_clients_free(&f);
}
END_TEST

static Suite *item_suite(void)
{
    Suite *s = suite_create("item");
    TCase *t = tcase_create("pure");
    tcase_add_test(t, same_tolerances);
    tcase_add_test(t, plan_by_owner);
    tcase_add_test(t, plan_newest);
    tcase_add_test(t, values_codec);
    tcase_add_test(t, products_v1_v2);
    tcase_add_test(t, m3_record_units);
    tcase_add_test(t, mapping_checks);
    suite_add_tcase(s, t);
    TCase *n = tcase_create("stub");
    tcase_set_timeout(n, 30);
    tcase_add_test(n, put_whole_resource);
    suite_add_tcase(s, n);
    return s;
}

TU_MAIN(item_suite)
