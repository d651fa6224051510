/* test_receipt_input.c: lib/receipt input checks of mlc_receipt_accept (shipment
 * records that must be rejected before anything reaches the ledger). Not for the
 * posting, recovery or replay paths (integration tests, mlc-sim). */
#include "config.h"
#include "receipt.h"
#include "store.h"
#include "testutil.h"

#include <cjson/cJSON.h>

START_TEST(numeric_po_line_beyond_int_is_rejected)
{
    /* found by fuzz/fuzz_jsonl: an integral po_line too big for an int was
     * converted to int (undefined; INT_MIN on x86) and entered the ledger. */
    mlc_error e;
    mlc_config *cfg;
    mlc_store *st;
    mlc_receipt *r;
    char *dir = tu_tmpdir(), path[256];
    snprintf(path, sizeof path, "%s/s.db", dir);
    ck_assert_int_eq(mlc_config_load_string("", 0, "t.yaml", NULL, &cfg, &e), MLC_OK);
    ck_assert_msg(mlc_store_open(path, 0, &st, &e) == MLC_OK, "%s", e.msg);
    ck_assert_msg(mlc_receipt_new(NULL, st, cfg, NULL, NULL, &r, &e) == MLC_OK, "%s", e.msg);
    cJSON *s = cJSON_Parse("{\"kind\":\"shipment\",\"shipment_id\":\"se-1\",\"po\":\"1000123\","
                           "\"items\":[{\"qty\":1,\"po_line\":1e30}]}");
    ck_assert_int_eq(mlc_receipt_accept(r, s, NULL, NULL, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "po_line"));
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "items"), 0), "po_line",
                              cJSON_CreateNumber(10));
    ck_assert_msg(mlc_receipt_accept(r, s, NULL, NULL, &e) == MLC_OK, "%s", e.msg);
    cJSON_Delete(s);
    mlc_receipt_free(r);
    mlc_store_close(st);
    mlc_config_free(cfg);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(path), 0);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("receipt_input");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, numeric_po_line_beyond_int_is_rejected);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
