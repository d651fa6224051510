/* test_map.c: lib/map: PO records to V2/V1 payloads, routes, keys, rejections. */
#include "map.h"
#include "testutil.h"

static const char cfg_text[] =
    "profiles:\n"
    "  p:\n"
    "    shipstation: {store_id: 77}\n"
    "    mapping:\n"
    "      order_types: {PP1: po_receipt, PP3: goods_receipt}\n"
    "      warehouses:\n"
    "        WH1:\n"
    "          warehouse_id: se-1001\n"
    "          v1_warehouse_id: 1001\n"
    "          ship_to: {name: Receiving, company: Acme, street1: 1 Dock Rd, city: Austin, state: TX,\n"
    "                    postal_code: \"78701\", country: US, phone: \"5125550100\"}\n"
    "        WH2:\n"
    "          ship_to: {name: Receiving, street1: 2 Dock Rd, city: Austin, state: TX, country: US}\n"
    "      suppliers:\n"
    "        SUP1:\n"
    "          ship_from: {name: Shipping, company: Widgets, street1: 9 Mill St, city: Dallas, state: TX,\n"
    "                      postal_code: \"75201\", country: US, phone: \"2145550100\"}\n"
    "          carrier_id: se-2001\n"
    "          carrier_code: ups\n"
    "      defaults: {service_code: ups_ground}\n";

static const char po_text[] =
    "{\"kind\":\"purchase_order\",\"cono\":100,\"divi\":\"AAA\",\"po\":\"1000123\",\"order_type\":\"PP3\","
    "\"supplier\":{\"id\":\"SUP1\",\"name\":\"Widgets Inc\"},\"warehouse\":\"WH1\",\"status\":\"20\","
    "\"changed_at\":\"2026-11-27T00:00:00Z\",\"lines\":["
    "{\"line\":10,\"subline\":0,\"item\":\"A1\",\"description\":\"Bolt\",\"qty_ordered\":5,\"qty_received\":2},"
    "{\"line\":20,\"subline\":0,\"item\":\"B2\",\"qty_ordered\":3,\"qty_received\":3}]}";

static mlc_config *cfg;
static mlc_map *map;

static void setup(void)
{
    mlc_error e;
    ck_assert_int_eq(mlc_config_load_string(cfg_text, strlen(cfg_text), "t.yaml", NULL, &cfg, &e), MLC_OK);
    ck_assert_int_eq(mlc_map_new(cfg, &map, &e), MLC_OK);
}

static void teardown(void)
{
    mlc_map_free(map);
    mlc_config_free(cfg);
}

START_TEST(v2_payload_carries_po_keys_and_open_quantities)
{
    cJSON *po = cJSON_Parse(po_text), *s;
    mlc_error e;
    ck_assert_msg(mlc_map_po_to_v2(map, po, &s, &e) == MLC_OK, "%s", e.msg);
    ck_assert_str_eq(cJSON_GetObjectItem(s, "external_shipment_id")->valuestring, "mlc-100-1000123");
    ck_assert_str_eq(cJSON_GetObjectItem(s, "carrier_id")->valuestring, "se-2001");
    /* the V2 contract declares neither service_code nor custom fields */
    ck_assert_ptr_null(cJSON_GetObjectItem(s, "service_code"));
    ck_assert_ptr_null(cJSON_GetObjectItem(s, "advanced_options"));
    cJSON *to = cJSON_GetObjectItem(s, "ship_to"), *from = cJSON_GetObjectItem(s, "ship_from");
    ck_assert_str_eq(cJSON_GetObjectItem(to, "address_line1")->valuestring, "1 Dock Rd");
    ck_assert_str_eq(cJSON_GetObjectItem(to, "address_residential_indicator")->valuestring, "no");
    ck_assert_str_eq(cJSON_GetObjectItem(from, "city_locality")->valuestring, "Dallas");
    ck_assert_ptr_null(cJSON_GetObjectItem(s, "warehouse_id")); /* would mean "ship from" */
    cJSON *items = cJSON_GetObjectItem(s, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 1); /* line 20 fully received */
    cJSON *it = cJSON_GetArrayItem(items, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(it, "external_order_item_id")->valuestring, "1000123/10/0");
    ck_assert_int_eq(cJSON_GetObjectItem(it, "quantity")->valueint, 3);
    ck_assert_str_eq(cJSON_GetObjectItem(it, "external_order_id")->valuestring, "1000123");
    ck_assert_ptr_null(cJSON_GetObjectItem(s, "packages")); /* no weights known: no package */
    char h1[65], h2[65];
    mlc_map_hash(s, h1);
    mlc_map_hash(s, h2);
    ck_assert_str_eq(h1, h2);
    ck_assert_uint_eq(strlen(h1), 64);
    cJSON_Delete(s);
    cJSON_Delete(po);
}
END_TEST

START_TEST(v2_package_with_the_summed_weight)
{
    cJSON *po = cJSON_Parse(po_text), *s;
    mlc_error e;
    cJSON *lines = cJSON_GetObjectItem(po, "lines");
    cJSON_AddNumberToObject(cJSON_GetArrayItem(lines, 0), "weight", 1.25); /* kg per unit, 3 open */
    cJSON_AddNullToObject(cJSON_GetArrayItem(lines, 1), "weight");          /* fully received: not counted */
    ck_assert_msg(mlc_map_po_to_v2(map, po, &s, &e) == MLC_OK, "%s", e.msg);
    cJSON *pk = cJSON_GetObjectItem(s, "packages");
    ck_assert_int_eq(cJSON_GetArraySize(pk), 1);
    cJSON *w = cJSON_GetObjectItem(cJSON_GetArrayItem(pk, 0), "weight");
    ck_assert_double_eq_tol(cJSON_GetObjectItem(w, "value")->valuedouble, 3.75, 1e-9);
    ck_assert_str_eq(cJSON_GetObjectItem(w, "unit")->valuestring, "kilogram");
    cJSON_Delete(s);
    /* at most 1 kg: sent in grams (the contract's weight.value must exceed 1) */
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(lines, 0), "weight", cJSON_CreateNumber(0.2));
    ck_assert_msg(mlc_map_po_to_v2(map, po, &s, &e) == MLC_OK, "%s", e.msg);
    w = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "packages"), 0), "weight");
    ck_assert_double_eq_tol(cJSON_GetObjectItem(w, "value")->valuedouble, 600, 1e-9);
    ck_assert_str_eq(cJSON_GetObjectItem(w, "unit")->valuestring, "gram");
    cJSON_Delete(s);
    /* an open line without a weight: no package rather than a wrong one */
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(lines, 1), "qty_received", cJSON_CreateNumber(0));
    ck_assert_msg(mlc_map_po_to_v2(map, po, &s, &e) == MLC_OK, "%s", e.msg);
    ck_assert_ptr_null(cJSON_GetObjectItem(s, "packages"));
    cJSON_Delete(s);
    cJSON_Delete(po);
}
END_TEST

START_TEST(v1_payload)
{
    cJSON *po = cJSON_Parse(po_text), *o;
    mlc_error e;
    ck_assert_msg(mlc_map_po_to_v1(map, po, &o, &e) == MLC_OK, "%s", e.msg);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "orderKey")->valuestring, "mlc-100-1000123");
    ck_assert_str_eq(cJSON_GetObjectItem(o, "orderDate")->valuestring, "2026-11-26 16:00:00");
    ck_assert_str_eq(cJSON_GetObjectItem(o, "carrierCode")->valuestring, "ups");
    cJSON *adv = cJSON_GetObjectItem(o, "advancedOptions");
    ck_assert_int_eq(cJSON_GetObjectItem(adv, "warehouseId")->valueint, 1001);
    ck_assert_int_eq(cJSON_GetObjectItem(adv, "storeId")->valueint, 77);
    cJSON *it = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "items"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(it, "lineItemKey")->valuestring, "1000123/10/0");
    /* V1 documents custom fields: the PO's tags travel there */
    const char *f[3] = {cJSON_GetObjectItem(adv, "customField1")->valuestring,
                        cJSON_GetObjectItem(adv, "customField2")->valuestring,
                        cJSON_GetObjectItem(adv, "customField3")->valuestring};
    char tag[32];
    ck_assert_int_eq(mlc_map_parse_tags(f, 3, "ORTY", tag, sizeof tag), 0);
    ck_assert_str_eq(tag, "PP3");
    ck_assert_int_eq(mlc_map_parse_tags(f, 3, "WHLO", tag, sizeof tag), 0);
    ck_assert_str_eq(tag, "WH1");
    ck_assert_int_eq(mlc_map_parse_tags(f, 3, "SUNO", tag, sizeof tag), 0);
    ck_assert_str_eq(tag, "SUP1");
    ck_assert_int_ne(mlc_map_parse_tags(f, 3, "NOPE", tag, sizeof tag), 0);
    cJSON_Delete(o);
    cJSON_Delete(po);
}
END_TEST

START_TEST(unmappable_pos_are_rejected_with_reasons)
{
    mlc_error e;
    cJSON *po = cJSON_Parse(po_text), *s = NULL;
    cJSON_ReplaceItemInObject(po, "warehouse", cJSON_CreateString("WH9"));
    ck_assert_int_eq(mlc_map_po_to_v2(map, po, &s, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "warehouse 'WH9' is not in mapping.warehouses"));
    cJSON_ReplaceItemInObject(po, "warehouse", cJSON_CreateString("WH2"));
    ck_assert_int_eq(mlc_map_po_to_v2(map, po, &s, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "ship_to lacks 'postal_code'"));
    cJSON_ReplaceItemInObject(po, "warehouse", cJSON_CreateString("WH1"));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(po, "supplier"), "id", cJSON_CreateString("SUP2"));
    ck_assert_int_eq(mlc_map_po_to_v2(map, po, &s, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "supplier 'SUP2' has no address"));
    cJSON_DeleteItemFromObject(po, "lines");
    ck_assert_int_eq(mlc_map_po_to_v2(map, po, &s, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "missing array 'lines'"));
    ck_assert_ptr_null(s);
    cJSON_Delete(po);
    po = cJSON_Parse("{\"kind\":\"purchase_order\",\"po\":\"1\",\"cono\":\"100\"}");
    ck_assert_int_eq(mlc_map_check_po(po, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "cono"));
    cJSON_Delete(po);
}
END_TEST

START_TEST(routes_and_keys)
{
    ck_assert_int_eq(mlc_map_route(map, "PP3"), MLC_ROUTE_GOODS_RECEIPT);
    ck_assert_int_eq(mlc_map_route(map, "PP1"), MLC_ROUTE_PO_RECEIPT);
    ck_assert_int_eq(mlc_map_route(map, "ZZ"), MLC_ROUTE_PO_RECEIPT);
    ck_assert_int_eq(mlc_map_route(map, NULL), MLC_ROUTE_PO_RECEIPT);
    long long cono;
    char po[32];
    int line, sub;
    int rev;
    char key[64];
    ck_assert_int_eq(mlc_map_parse_order_key("mlc-100-1000123", &cono, po, &rev), 0);
    ck_assert_int_eq(cono, 100);
    ck_assert_str_eq(po, "1000123");
    ck_assert_int_eq(rev, 1);
    mlc_map_order_key(100, "1000123", 3, key, sizeof key);
    ck_assert_str_eq(key, "mlc-100-1000123.r3");
    ck_assert_int_eq(mlc_map_parse_order_key(key, &cono, po, &rev), 0);
    ck_assert_int_eq(rev, 3);
    ck_assert_str_eq(po, "1000123");
    ck_assert_int_ne(mlc_map_parse_order_key("mlc-100-1000123.x3", &cono, po, &rev), 0);
    ck_assert_int_ne(mlc_map_parse_order_key("other-100-1", &cono, po, &rev), 0);
    ck_assert_int_eq(mlc_map_parse_line_key("1000123/20/1", po, &line, &sub), 0);
    ck_assert_int_eq(line, 20);
    ck_assert_int_eq(sub, 1);
    ck_assert_int_ne(mlc_map_parse_line_key("1000123/x/1", po, &line, &sub), 0);
    ck_assert_int_ne(mlc_map_parse_line_key("1000123/-10/0", po, &line, &sub), 0);
    ck_assert_int_ne(mlc_map_parse_line_key("1000123/99999999999/0", po, &line, &sub), 0);
    ck_assert_int_ne(mlc_map_parse_line_key("1000123/10/0x", po, &line, &sub), 0);
    ck_assert_int_ne(mlc_map_parse_line_key("/10/0", po, &line, &sub), 0);
    mlc_config *bad;
    mlc_error e;
    const char *t = "profiles:\n  p:\n    mapping:\n      order_types: {PP1: receipt}\n";
    /* refused when the config loads (an enum value, lib/config), with its position */
    ck_assert_int_eq(mlc_config_load_string(t, strlen(t), "b.yaml", NULL, &bad, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "b.yaml:4:21: 'profiles.p.mapping.order_types.PP1' must be one of"), "%s", e.msg);
}
END_TEST

START_TEST(line_numbers_beyond_int_are_rejected)
{
    /* found by fuzz/fuzz_jsonl: an integral line or subline too big for an int
     * passed the check and was converted to int (undefined) by the mapping. */
    mlc_error e;
    cJSON *s = NULL, *po = cJSON_Parse(po_text);
    cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(po, "lines"), 0);
    cJSON_ReplaceItemInObject(l0, "line", cJSON_CreateNumber(4.3e46));
    ck_assert_int_eq(mlc_map_check_po(po, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "'line' must be an integer"));
    ck_assert_int_eq(mlc_map_po_to_v2(map, po, &s, &e), MLC_ERR_INPUT);
    ck_assert_ptr_null(s);
    cJSON_ReplaceItemInObject(l0, "line", cJSON_CreateNumber(10));
    cJSON_ReplaceItemInObject(l0, "subline", cJSON_CreateNumber(1e30));
    ck_assert_int_eq(mlc_map_check_po(po, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "'subline' must be an integer"));
    cJSON_ReplaceItemInObject(l0, "subline", cJSON_CreateNumber(0.5));
    ck_assert_int_eq(mlc_map_check_po(po, &e), MLC_ERR_INPUT);
    cJSON_ReplaceItemInObject(l0, "subline", cJSON_CreateNumber(2147483647));
    ck_assert_int_eq(mlc_map_check_po(po, &e), MLC_OK);
    cJSON_Delete(po);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("map");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, v2_payload_carries_po_keys_and_open_quantities);
    tcase_add_test(tc, v2_package_with_the_summed_weight);
    tcase_add_test(tc, v1_payload);
    tcase_add_test(tc, unmappable_pos_are_rejected_with_reasons);
    tcase_add_test(tc, routes_and_keys);
    tcase_add_test(tc, line_numbers_beyond_int_are_rejected);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
