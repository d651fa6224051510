/*
 * test_replay.c: the set of receipts `mlc replay` re-posts (lib/replay): ids
 * once in the order given, bare id lines, receipt records without a usable id.
 */
#include "replay.h"
#include "testutil.h"

START_TEST(ids_once_in_order)
{
    mlc_replay_set *s = mlc_replay_set_new();
    mlc_error e;
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(mlc_replay_set_add(s, 100 - i % 50, &e), MLC_OK);
    ck_assert_uint_eq(mlc_replay_set_count(s), 50);
    ck_assert_int_eq((int)mlc_replay_set_ids(s)[0], 100);
    ck_assert_int_eq((int)mlc_replay_set_ids(s)[49], 51);
    mlc_replay_set_free(s);
}
END_TEST

START_TEST(bare_ids)
{
    ck_assert_int_eq(mlc_replay_bare_id("42"), 42);
    ck_assert_int_eq(mlc_replay_bare_id("  7 \t"), 7);
    ck_assert_int_eq(mlc_replay_bare_id("0"), 0);
    ck_assert_int_eq(mlc_replay_bare_id("-3"), 0);
    ck_assert_int_eq(mlc_replay_bare_id("4x2"), 0);
    ck_assert_int_eq(mlc_replay_bare_id(""), 0);
    ck_assert_int_eq(mlc_replay_bare_id("99999999999999999999999"), 0);
    ck_assert_int_eq(mlc_replay_bare_id(NULL), 0);
}
END_TEST

START_TEST(records_need_a_whole_receipt_id)
{
    static const char *const bad[] = {"{\"kind\":\"receipt\"}", "{\"kind\":\"receipt\",\"receipt_id\":\"3\"}",
                                      "{\"kind\":\"receipt\",\"receipt_id\":0}",
                                      "{\"kind\":\"receipt\",\"receipt_id\":2.5}"};
    mlc_replay_set *s = mlc_replay_set_new();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mlc_error e = {0};
        cJSON *rec = cJSON_Parse(bad[i]);
        ck_assert_int_eq(mlc_replay_set_add_record(s, NULL, rec, 0, &e), MLC_ERR_INPUT);
        ck_assert_ptr_nonnull(strstr(e.msg, "receipt_id"));
        cJSON_Delete(rec);
    }
    ck_assert_uint_eq(mlc_replay_set_count(s), 0);
    mlc_replay_set_free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ids_once_in_order);
    tcase_add_test(tc, bare_ids);
    tcase_add_test(tc, records_need_a_whole_receipt_id);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
