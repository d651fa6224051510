/*
 * test_error.c: the mlc_err -> exit code table and the one rule from a run's
 * outcome to its exit code (lib/error, mlc(1) EXIT STATUS).
 */
#include "error.h"
#include "testutil.h"

START_TEST(table_matches_mlc_1)
{
    ck_assert_int_eq(mlc_err_exit_code(MLC_OK), 0);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_PIPE), 0);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_INPUT), 65);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_TRANSIENT), 75);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_STORE), 74);
    ck_assert_int_eq(mlc_err_exit_code(MLC_ERR_AUTH), 78);
    ck_assert_int_eq(mlc_err_exit_code((mlc_err)999), 70);
}
END_TEST

START_TEST(nothing_happened_is_zero)
{
    mlc_outcome o = {0};
    ck_assert_int_eq(mlc_outcome_exit_code(&o), 0);
    /* the reader going away is never an error by itself */
    mlc_outcome_note(&o, MLC_ERR_PIPE);
    mlc_outcome_stop(&o, MLC_ERR_PIPE);
    mlc_outcome_note(&o, MLC_ERR_EOF);
    mlc_outcome_note(&o, MLC_OK);
    ck_assert_int_eq(mlc_outcome_exit_code(&o), 0);
    ck_assert_int_eq(o.failed + o.later, 0);
}
END_TEST

START_TEST(record_errors_are_classified)
{
    mlc_outcome o = {0};
    mlc_outcome_note(&o, MLC_ERR_TRANSIENT);
    mlc_outcome_note(&o, MLC_ERR_BUSY);
    ck_assert_int_eq(o.later, 2);
    ck_assert_int_eq(mlc_outcome_exit_code(&o), 75);
    mlc_outcome_note(&o, MLC_ERR_REMOTE);
    mlc_outcome_note(&o, MLC_ERR_INPUT);
    mlc_outcome_note(&o, MLC_ERR_NOTFOUND);
    ck_assert_int_eq(o.failed, 3);
    /* a failure outranks "run again later": running again does not fix it */
    ck_assert_int_eq(mlc_outcome_exit_code(&o), 1);
    /* a record error that says the run itself is in trouble outranks both */
    mlc_outcome_note(&o, MLC_ERR_STORE);
    ck_assert_int_eq(o.stopped, MLC_ERR_STORE);
    ck_assert_int_eq(mlc_outcome_exit_code(&o), 74);
}
END_TEST

START_TEST(the_first_stop_wins)
{
    mlc_outcome o = {.failed = 4, .later = 2};
    mlc_outcome_stop(&o, MLC_ERR_UNAVAILABLE);
    mlc_outcome_stop(&o, MLC_ERR_CONFIG);
    mlc_outcome_note(&o, MLC_ERR_NOMEM);
    ck_assert_int_eq(mlc_outcome_exit_code(&o), 69);
    mlc_outcome o2 = {.later = 1};
    mlc_outcome_stop(&o2, MLC_ERR_TRANSIENT); /* a stop for a later run stays 75 */
    ck_assert_int_eq(mlc_outcome_exit_code(&o2), 75);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, table_matches_mlc_1);
    tcase_add_test(tc, nothing_happened_is_zero);
    tcase_add_test(tc, record_errors_are_classified);
    tcase_add_test(tc, the_first_stop_wins);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
