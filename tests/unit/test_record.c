/* test_record.c: lib/record: one company per profile, keys that agree, and
 * quantities that fit the M3 field, sent as plain decimals. */
#include "record.h"
#include "testutil.h"

static mlc_err check(const char *json, long long cono, mlc_error *e)
{
    cJSON *j = cJSON_Parse(json);
    ck_assert_ptr_nonnull(j);
    mlc_err rc = mlc_record_check(j, cono, e);
    cJSON_Delete(j);
    return rc;
}

START_TEST(company_must_be_the_profiles)
{
    mlc_error e;
    ck_assert_int_eq(check("{\"kind\":\"purchase_order\",\"po\":\"P1\",\"cono\":100}", 100, &e), MLC_OK);
    ck_assert_int_eq(check("{\"kind\":\"purchase_order\",\"po\":\"P1\",\"cono\":200}", 100, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "company 200"));
    ck_assert_ptr_nonnull(strstr(e.msg, "100"));
    ck_assert_int_eq(check("{\"cono\":\"100\"}", 100, &e), MLC_ERR_INPUT);
    ck_assert_int_eq(check("{\"cono\":100.5}", 100, &e), MLC_ERR_INPUT);
    /* a profile without cloudsuite.cono cannot take a record that names a company */
    ck_assert_int_eq(check("{\"cono\":100}", 0, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "cloudsuite.cono"));
    /* order_key carries the company too */
    ck_assert_int_eq(check("{\"kind\":\"shipment\",\"po\":\"P1\",\"order_key\":\"mlc-100-P1\"}", 100, &e), MLC_OK);
    ck_assert_int_eq(check("{\"kind\":\"shipment\",\"po\":\"P1\",\"order_key\":\"mlc-100-P1.r3\"}", 100, &e), MLC_OK);
    ck_assert_int_eq(check("{\"kind\":\"shipment\",\"po\":\"P1\",\"order_key\":\"mlc-200-P1\"}", 100, &e),
                     MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "order_key"));
    ck_assert_int_eq(check("{\"kind\":\"shipment\",\"po\":\"P1\",\"order_key\":\"abc\"}", 100, &e), MLC_ERR_INPUT);
    /* records without a company (receipt ids, other kinds) pass */
    ck_assert_int_eq(check("{\"kind\":\"receipt\",\"receipt_id\":4}", 100, &e), MLC_OK);
}
END_TEST

START_TEST(po_and_po_line_must_agree)
{
    mlc_error e;
    ck_assert_int_eq(check("{\"kind\":\"shipment\",\"po\":\"P1\",\"order_key\":\"mlc-100-P2\"}", 100, &e),
                     MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "P2"));
    ck_assert_int_eq(check("{\"kind\":\"shipment\",\"po\":\"P1\",\"items\":[{\"po_line\":\"P1/10/0\",\"qty\":1},"
                           "{\"po_line\":\"P9/20/0\",\"qty\":1}]}",
                           100, &e),
                     MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "items[1]"));
    ck_assert_ptr_nonnull(strstr(e.msg, "P9"));
    /* without 'po' the key's PO is the one the lines must be on */
    ck_assert_int_eq(check("{\"kind\":\"shipment\",\"order_key\":\"mlc-100-P1\",\"items\":[{\"po_line\":\"P9/1/0\","
                           "\"qty\":1}]}",
                           100, &e),
                     MLC_ERR_INPUT);
    ck_assert_int_eq(check("{\"kind\":\"shipment\",\"po\":\"P1\",\"items\":[{\"po_line\":\"P1/10/0\",\"qty\":2},"
                           "{\"po_line\":20,\"qty\":1}]}",
                           100, &e),
                     MLC_OK);
}
END_TEST

START_TEST(quantities_fit_the_m3_field)
{
    mlc_error e;
    ck_assert_int_eq(mlc_record_check_qty(0, "q", &e), MLC_OK);
    ck_assert_int_eq(mlc_record_check_qty(12, "q", &e), MLC_OK);
    ck_assert_int_eq(mlc_record_check_qty(0.1 + 0.2, "q", &e), MLC_OK);
    ck_assert_int_eq(mlc_record_check_qty(999999999.999999, "q", &e), MLC_OK);
    ck_assert_int_eq(mlc_record_check_qty(1e300, "q", &e), MLC_ERR_INPUT);
    ck_assert_int_eq(mlc_record_check_qty(1e20, "q", &e), MLC_ERR_INPUT);
    ck_assert_int_eq(mlc_record_check_qty(1e9, "q", &e), MLC_ERR_INPUT);
    ck_assert_int_eq(mlc_record_check_qty(1e-9, "q", &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "decimals"));
    ck_assert_int_eq(mlc_record_check_qty(1.0000001, "q", &e), MLC_ERR_INPUT);
    ck_assert_int_eq(mlc_record_check_qty(-1, "q", &e), MLC_ERR_INPUT);
    ck_assert_int_eq(
        check("{\"kind\":\"shipment\",\"po\":\"P1\",\"items\":[{\"po_line\":\"P1/1/0\",\"qty\":1e20}]}", 100, &e),
        MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "items[0].qty"));
}
END_TEST

START_TEST(quantities_are_plain_decimals)
{
    char b[32];
    ck_assert_int_eq(mlc_record_qty_format(12, b, sizeof b), 0);
    ck_assert_str_eq(b, "12");
    mlc_record_qty_format(0.5, b, sizeof b);
    ck_assert_str_eq(b, "0.5");
    mlc_record_qty_format(0.1 + 0.2, b, sizeof b);
    ck_assert_str_eq(b, "0.3");
    mlc_record_qty_format(123456789.125, b, sizeof b);
    ck_assert_str_eq(b, "123456789.125");
    mlc_record_qty_format(0.000001, b, sizeof b);
    ck_assert_str_eq(b, "0.000001");
    mlc_record_qty_format(0, b, sizeof b);
    ck_assert_str_eq(b, "0");
    ck_assert_int_eq(mlc_record_qty_format(1e20, b, sizeof b), -1);
    ck_assert_str_eq(b, "");
    ck_assert_ptr_null(strchr(b, 'e'));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, company_must_be_the_profiles);
    tcase_add_test(tc, po_and_po_line_must_agree);
    tcase_add_test(tc, quantities_fit_the_m3_field);
    tcase_add_test(tc, quantities_are_plain_decimals);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
