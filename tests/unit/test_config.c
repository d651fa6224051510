/* test_config.c: lib/config: profiles, schema defaults, errors with file:line:column. */
#include "config.h"
#include "testutil.h"

#include <stdlib.h>
#include <time.h>

static const char good[] =
    "default_profile: acme\n"
    "profiles:\n"
    "  acme:\n"
    "    cloudsuite:\n"
    "      cono: 100\n"
    "      divi: \"AAA\"\n"
    "      programs:\n"
    "        po_receipt: CMS100MI/Custom\n"
    "    mapping:\n"
    "      order_types: {PP1: po_receipt, PP3: goods_receipt}\n"
    "      warehouses:\n"
    "        WH1:\n"
    "          warehouse_id: se-1\n"
    "          ship_to: {name: Dock 1, city: Austin, country: US}\n"
    "  other:\n"
    "    shipstation: {api: v1}\n";

static mlc_config *load(const char *text, const char *profile, mlc_error *e)
{
    mlc_config *c = NULL;
    mlc_config_load_string(text, strlen(text), "/etc/mlc/test.yaml", profile, &c, e);
    return c;
}

START_TEST(values_defaults_and_profiles)
{
    mlc_error e;
    unsetenv("MLC_PROFILE");
    mlc_config *c = load(good, NULL, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_str_eq(mlc_config_profile(c), "acme");
    ck_assert_int_eq(mlc_config_int(c, "cloudsuite.cono"), 100);
    ck_assert_str_eq(mlc_config_str(c, "cloudsuite.divi"), "AAA");
    ck_assert_str_eq(mlc_config_str(c, "cloudsuite.programs.po_receipt"), "CMS100MI/Custom");
    ck_assert_str_eq(mlc_config_str(c, "cloudsuite.programs.po_line"), "PPS200MI/GetLine"); /* default */
    ck_assert_str_eq(mlc_config_str(c, "shipstation.api"), "v2");
    ck_assert_str_eq(mlc_config_str(c, "mapping.order_types.PP3"), "goods_receipt");
    ck_assert_ptr_null(mlc_config_str(c, "mapping.order_types.ZZZ"));
    ck_assert_str_eq(mlc_config_str(c, "mapping.warehouses.WH1.ship_to.city"), "Austin");
    const mlc_config_node *w = mlc_config_node_at(c, "mapping.warehouses");
    ck_assert_uint_eq(mlc_config_node_count(w), 1);
    ck_assert_str_eq(mlc_config_node_key(mlc_config_node_child(w, 0)), "WH1");
    char *f = mlc_config_file(c, "mapping.warehouses.WH1.warehouse_id");
    ck_assert_str_eq(f, "/etc/mlc/se-1");
    free(f);
    mlc_config_free(c);

    c = load(good, "other", &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(mlc_config_str(c, "shipstation.api"), "v1");
    ck_assert_int_eq(mlc_config_int(c, "shipstation.rate_limit_v1"), 40);
    mlc_config_free(c);

    setenv("MLC_PROFILE", "other", 1);
    c = load(good, NULL, &e);
    ck_assert_str_eq(mlc_config_profile(c), "other");
    mlc_config_free(c);
    unsetenv("MLC_PROFILE");
}
END_TEST

START_TEST(unknown_key_names_file_line_column_and_key)
{
    mlc_error e;
    const char *bad = "profiles:\n  p:\n    cloudsuite:\n      cono: 1\n      conoo: 2\n";
    ck_assert_ptr_null(load(bad, NULL, &e));
    ck_assert_int_eq(e.code, MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "/etc/mlc/test.yaml:5:7: unknown key 'profiles.p.cloudsuite.conoo'") != NULL,
                  "%s", e.msg);
    ck_assert_ptr_null(load("profile:\n  x: 1\n", NULL, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "test.yaml:1:1: unknown key 'profile'"));
}
END_TEST

START_TEST(tab_and_syntax_errors_have_positions)
{
    mlc_error e;
    ck_assert_ptr_null(load("profiles:\n\tp: {}\n", NULL, &e));
    ck_assert_msg(strstr(e.msg, "test.yaml:2:") != NULL, "%s", e.msg);
    ck_assert_ptr_null(load("profiles: [\n", NULL, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "test.yaml:"));
}
END_TEST

START_TEST(type_errors_and_duplicates)
{
    mlc_error e;
    ck_assert_ptr_null(load("profiles:\n  p:\n    cloudsuite: {cono: abc}\n", NULL, &e));
    ck_assert_msg(strstr(e.msg, "'profiles.p.cloudsuite.cono' must be an integer, not 'abc'") != NULL, "%s", e.msg);
    ck_assert_ptr_null(load("profiles:\n  p:\n    cloudsuite: 5\n", NULL, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "must be a map"));
    ck_assert_ptr_null(load("profiles:\n  p: {}\n  p: {}\n", NULL, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "duplicate key 'p'"));
    ck_assert_ptr_null(load("profiles:\n  a: {}\n  b: {}\n", NULL, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "choose one with --profile"));
    ck_assert_ptr_null(load(good, "nope", &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "no profile named 'nope'"));
}
END_TEST

START_TEST(integer_ranges_name_file_line_column)
{
    mlc_error e;
    ck_assert_ptr_null(load("profiles:\n  p:\n    cloudsuite:\n      bulk_size: 0\n", NULL, &e));
    ck_assert_int_eq(e.code, MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "/etc/mlc/test.yaml:4:7: 'profiles.p.cloudsuite.bulk_size' must be an integer "
                                "1-10000, not '0'") != NULL,
                  "%s", e.msg);
    ck_assert_ptr_null(load("profiles:\n  p:\n    cloudsuite: {bulk_size: -5}\n", NULL, &e));
    ck_assert_msg(strstr(e.msg, "bulk_size' must be an integer 1-10000, not '-5'") != NULL, "%s", e.msg);
    ck_assert_ptr_null(load("profiles:\n  p:\n    receipts: {max_attempts: 0}\n", NULL, &e));
    ck_assert_ptr_null(load("profiles:\n  p:\n    shipstation: {timeout: -1}\n", NULL, &e));
    mlc_config *c = load("profiles:\n  p:\n    cloudsuite: {bulk_size: 1}\n", NULL, &e);
    ck_assert_ptr_nonnull(c);
    mlc_config_free(c);
}
END_TEST

/* Nested aliases ("billion laughs"): 9 levels of 9 would be 387 million nodes;
 * loading stops at the node cap, at once and with the position. */
START_TEST(alias_bomb_is_refused_quickly)
{
    static const char bomb[] = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                               "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                               "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                               "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                               "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                               "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                               "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                               "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    mlc_error e;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_ptr_null(load(bomb, NULL, &e));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_eq(e.code, MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "/etc/mlc/test.yaml:") && strstr(e.msg, "aliases"), "%s", e.msg);
    ck_assert_msg(t1.tv_sec - t0.tv_sec < 5, "took %ld s", (long)(t1.tv_sec - t0.tv_sec));
}
END_TEST

START_TEST(choices_are_checked_at_load)
{
    mlc_error e;
    ck_assert_ptr_null(load("profiles:\n  p:\n    receipts:\n      transport: ion\n", NULL, &e));
    ck_assert_int_eq(e.code, MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "test.yaml:4:7: 'profiles.p.receipts.transport' must be one of rest|bod, not 'ion'") !=
                      NULL,
                  "%s", e.msg);
    mlc_config *c = load("profiles:\n  p:\n    receipts: {transport: bod}\n    bod: {logical_id: lid://x}\n",
                         NULL, &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(mlc_config_str(c, "receipts.transport"), "bod");
    ck_assert_str_eq(mlc_config_str(c, "bod.to_logical_id"), "lid://default");
    ck_assert_str_eq(mlc_config_str(c, "bod.receipt_document"), "Process.ReceiveDelivery");
    mlc_config_free(c);
    c = load("profiles:\n  p: {}\n", NULL, &e);
    ck_assert_str_eq(mlc_config_str(c, "receipts.transport"), "rest");
    mlc_config_free(c);
    ck_assert_ptr_null(load("profiles:\n  p:\n    receipts: {post_at: shipped}\n", NULL, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "must be one of ship|deliver"));
}
END_TEST

/* Every enum setting takes only its listed values (issue 18): the three the issue
 * names, the wildcard ones (order types, owners) and the units; shipstation.api in
 * any case (documented), the others exactly. */
START_TEST(every_enum_value_is_checked_with_its_position)
{
    static const struct {
        const char *yaml, *where, *msg;
    } bad[] = {
        {"profiles:\n  p:\n    shipstation:\n      api: v3\n", "test.yaml:4:7:",
         "'profiles.p.shipstation.api' must be one of v2|v1, not 'v3'"},
        {"profiles:\n  p:\n    mapping:\n      closed_po: cancell\n", "test.yaml:4:7:",
         "'profiles.p.mapping.closed_po' must be one of cancel|ignore, not 'cancell'"},
        {"profiles:\n  p:\n    receipts:\n      over_shipment: capp\n", "test.yaml:4:7:",
         "'profiles.p.receipts.over_shipment' must be one of reject|cap, not 'capp'"},
        {"profiles:\n  p:\n    mapping:\n      order_types:\n        PP1: po_reciept\n", "test.yaml:5:9:",
         "'profiles.p.mapping.order_types.PP1' must be one of po_receipt|goods_receipt"},
        {"profiles:\n  p:\n    mapping:\n      default_route: goods\n", "test.yaml:4:7:",
         "must be one of po_receipt|goods_receipt, not 'goods'"},
        {"profiles:\n  p:\n    mapping:\n      items:\n        owners: {weight: m3}\n", "test.yaml:5:18:",
         "'profiles.p.mapping.items.owners.weight' must be one of cloudsuite|shipstation|newest"},
        {"profiles:\n  p:\n    mapping:\n      items: {weight_unit: kgs}\n", "test.yaml:4:15:",
         "must be one of kg|g|lb|oz, not 'kgs'"},
        {"profiles:\n  p:\n    mapping:\n      items: {length_unit: inch}\n", "test.yaml:4:15:",
         "must be one of cm|mm|m|in, not 'inch'"},
        {"profiles:\n  p:\n    mapping:\n      closed_po: Cancel\n", "test.yaml:4:7:", "not 'Cancel'"},
        {"profiles:\n  p:\n    cloudsuite:\n      bulk_company: url\n", "test.yaml:4:7:",
         "'profiles.p.cloudsuite.bulk_company' must be one of both|body|query, not 'url'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mlc_error e = {0};
        mlc_config *c = load(bad[i].yaml, NULL, &e);
        ck_assert_msg(c == NULL, "accepted: %s", bad[i].yaml);
        ck_assert_int_eq(e.code, MLC_ERR_CONFIG);
        ck_assert_msg(strstr(e.msg, bad[i].where) && strstr(e.msg, bad[i].msg), "%s", e.msg);
    }
    mlc_error e = {0};
    mlc_config *c = load("profiles:\n  p:\n    shipstation: {api: V1}\n"
                         "    mapping:\n      closed_po: ignore\n      order_types: {PP3: goods_receipt}\n"
                         "      items: {owners: {dimensions: newest}, weight_unit: lb, length_unit: in}\n"
                         "    receipts: {over_shipment: cap}\n",
                         NULL, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_str_eq(mlc_config_str(c, "shipstation.api"), "V1");
    mlc_config_free(c);
}
END_TEST

START_TEST(files_missing_and_binary)
{
    mlc_error e;
    mlc_config *c = NULL;
    char *d = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/none.yaml", d);
    ck_assert_int_eq(mlc_config_load(path, NULL, &c, &e), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "No such file"));
    snprintf(path, sizeof path, "%s/bin.yaml", d);
    tu_write(path, "a\0b", 3);
    ck_assert_int_eq(mlc_config_load(path, NULL, &c, &e), MLC_ERR_CONFIG);
    snprintf(path, sizeof path, "%s/ok.yaml", d);
    tu_write(path, good, strlen(good));
    ck_assert_int_eq(mlc_config_load(path, NULL, &c, &e), MLC_OK);
    ck_assert_str_eq(mlc_config_dir(c), d);
    setenv("MLC_STATE_DIR", "/var/lib/x", 1);
    char *sd = mlc_config_state_dir(c);
    ck_assert_str_eq(sd, "/var/lib/x");
    free(sd);
    unsetenv("MLC_STATE_DIR");
    mlc_config_free(c);
    free(d);
}
END_TEST

START_TEST(shipped_example_config_loads)
{
    mlc_config *c = NULL;
    mlc_error e;
    ck_assert_msg(mlc_config_load("examples/mlc.yaml", NULL, &c, &e) == MLC_OK, "%s", e.msg);
    ck_assert_str_eq(mlc_config_profile(c), "acme");
    ck_assert_str_eq(mlc_config_str(c, "mapping.order_types.PP3"), "goods_receipt");
    mlc_config_free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, values_defaults_and_profiles);
    tcase_add_test(tc, unknown_key_names_file_line_column_and_key);
    tcase_add_test(tc, tab_and_syntax_errors_have_positions);
    tcase_add_test(tc, choices_are_checked_at_load);
    tcase_add_test(tc, every_enum_value_is_checked_with_its_position);
    tcase_add_test(tc, type_errors_and_duplicates);
    tcase_add_test(tc, integer_ranges_name_file_line_column);
    tcase_add_test(tc, alias_bomb_is_refused_quickly);
    tcase_add_test(tc, files_missing_and_binary);
    tcase_add_test(tc, shipped_example_config_loads);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
