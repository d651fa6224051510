/* test_setup.c: lib/setup: a profile's config becomes the clients' options (every
 * key it reads, defaults included), the clients are made from those options, the
 * one reading of shipstation.api, and bad values fail with their position. */
#include "setup.h"
#include "testutil.h"

#include <sys/stat.h>

static char *dir;

static void write_private(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    tu_write(p, text, strlen(text));
    ck_assert_int_eq(chmod(p, 0600), 0);
}

/* A config file in dir (relative paths resolve against it); no vault key, no vault. */
static mlc_config *cfg_of(const char *profile_body)
{
    char text[4096], path[512];
    snprintf(text, sizeof text, "profiles:\n  p:\n    state_dir: state\n    vault: none.vault\n%s", profile_body);
    snprintf(path, sizeof path, "%s/mlc.yaml", dir);
    tu_write(path, text, strlen(text));
    mlc_config *c = NULL;
    mlc_error e = {0};
    ck_assert_msg(mlc_config_load(path, NULL, &c, &e) == MLC_OK, "%s", e.msg);
    return c;
}

static void setup(void)
{
    dir = tu_tmpdir();
    unsetenv("MLC_VAULT_KEY");
    unsetenv("MLC_VAULT_KEY_FILE");
    unsetenv("MLC_STATE_DIR");
    unsetenv("MLC_PROFILE");
    write_private("cs.ionapi", "{\"ti\":\"TEN\",\"ci\":\"TEN~c\",\"cs\":\"cs_1\",\"iu\":\"http://127.0.0.1:9\","
                               "\"pu\":\"http://127.0.0.1:9/TEN/as/\",\"ot\":\"token.oauth2\","
                               "\"saak\":\"TEN#a\",\"sask\":\"sk_1\"}\n");
    write_private("v2.key", "v2-key-123\n");
    write_private("v1.key", "v1k:v1s\n");
}

static void teardown(void) { free(dir); }

START_TEST(m3_options_from_config)
{
    mlc_config *c = cfg_of("    cloudsuite:\n      ionapi: cs.ionapi\n      cono: 7\n      divi: BBB\n"
                           "      timeout: 42\n      token_margin: 120\n      select_columns: false\n"
                           "      bulk_company: query\n"
                           "    retry: {base_ms: 11, cap_ms: 22, max_attempts: 3}\n");
    mlc_setup_m3 s;
    mlc_error e = {0};
    ck_assert_msg(mlc_setup_m3_opts(c, NULL, NULL, NULL, &s, &e) == MLC_OK, "%s", e.msg);
    ck_assert_ptr_nonnull(s.opts.ion);
    ck_assert_int_eq(s.opts.own_ion, 1);
    ck_assert_ptr_null(s.opts.vault); /* no vault key: no vault, the token is not cached */
    ck_assert_ptr_null(s.opts.http);
    ck_assert_int_eq(s.opts.cono, 7);
    ck_assert_str_eq(s.opts.divi, "BBB");
    ck_assert_int_eq(s.opts.all_columns, 1);
    ck_assert_int_eq(s.opts.bulk_company, MLC_M3_BULK_COMPANY_QUERY);
    ck_assert_int_eq(s.opts.token_margin, 120);
    ck_assert_int_eq(s.opts.http_opts.timeout_s, 42);
    ck_assert_int_eq(s.opts.http_opts.retry_base_ms, 11);
    ck_assert_int_eq(s.opts.http_opts.retry_cap_ms, 22);
    ck_assert_int_eq(s.opts.http_opts.max_attempts, 3);
    ck_assert_ptr_nonnull(strstr(s.opts.source, "/cs.ionapi"));
    mlc_m3 *m3 = NULL;
    ck_assert_msg(mlc_m3_new_with(&s.opts, &m3, &e) == MLC_OK, "%s", e.msg);
    mlc_setup_m3_handed_over(&s);
    mlc_setup_m3_release(&s);
    ck_assert_int_eq(mlc_m3_cono(m3), 7);
    ck_assert_str_eq(mlc_m3_divi(m3), "BBB");
    ck_assert_ptr_nonnull(strstr(mlc_m3_source(m3), "/cs.ionapi"));
    ck_assert_str_eq(mlc_ionapi_tenant(mlc_m3_ionapi(m3)), "TEN");
    ck_assert_ptr_nonnull(mlc_m3_http(m3));
    mlc_m3_free(m3);
    mlc_config_free(c);

    /* defaults: no company, columns selected, the schema's timeouts */
    c = cfg_of("    cloudsuite: {ionapi: cs.ionapi}\n");
    ck_assert_msg(mlc_setup_m3_opts(c, NULL, NULL, NULL, &s, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(s.opts.cono, 0);
    ck_assert_ptr_null(s.opts.divi);
    ck_assert_int_eq(s.opts.all_columns, 0);
    ck_assert_int_eq(s.opts.http_opts.timeout_s, 65);
    ck_assert_int_eq(s.opts.token_margin, 300);
    mlc_setup_m3_release(&s); /* not handed over: frees the ion too (ASan would say) */
    mlc_config_free(c);

    /* no credentials at all: a configuration error naming the key */
    c = cfg_of("    cloudsuite: {cono: 1}\n");
    ck_assert_int_eq(mlc_setup_m3_opts(c, NULL, NULL, NULL, &s, &e), MLC_ERR_CONFIG);
    mlc_setup_m3_release(&s);
    mlc_config_free(c);
}
END_TEST

START_TEST(ss_options_from_config)
{
    mlc_config *c = cfg_of("    shipstation:\n      api: V1\n      api_key_file: v2.key\n      v1_key_file: v1.key\n"
                           "      v2_url: http://127.0.0.1:8/\n      v1_url: http://127.0.0.1:7\n"
                           "      timeout: 9\n      rate_limit_v2: 50\n      rate_limit_v1: 5\n      rate_window: 2.5\n"
                           "    retry: {base_ms: 11, cap_ms: 22, max_attempts: 3}\n");
    mlc_setup_ss s;
    mlc_error e = {0};
    ck_assert_msg(mlc_setup_ss_opts(c, NULL, NULL, NULL, &s, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(s.opts.api, MLC_SS_V1);
    ck_assert_str_eq(s.opts.v2_key, "v2-key-123");
    ck_assert_str_eq(s.opts.v1_key, "v1k");
    ck_assert_str_eq(s.opts.v1_secret, "v1s");
    ck_assert_ptr_nonnull(strstr(s.opts.v2_source, "/v2.key"));
    ck_assert_ptr_nonnull(strstr(s.opts.v1_source, "/v1.key"));
    ck_assert_str_eq(s.opts.v2_url, "http://127.0.0.1:8/");
    ck_assert_str_eq(s.opts.v1_url, "http://127.0.0.1:7");
    ck_assert_int_eq(s.opts.rate_limit_v2, 50);
    ck_assert_int_eq(s.opts.rate_limit_v1, 5);
    ck_assert_int_eq(s.opts.rate_window_ms, 2500);
    ck_assert_int_eq(s.opts.http.timeout_s, 9);
    ck_assert_int_eq(s.opts.http.retry_base_ms, 11);
    ck_assert_int_eq(s.opts.http.retry_cap_ms, 22);
    ck_assert_int_eq(s.opts.http.max_attempts, 3);
    ck_assert_ptr_nonnull(strstr(s.opts.state_dir, "/state"));
    mlc_ss *ss = NULL;
    ck_assert_msg(mlc_ss_new_with(&s.opts, &ss, &e) == MLC_OK, "%s", e.msg);
    mlc_setup_ss_release(&s);
    ck_assert_ptr_null(s.opts.v2_key);
    ck_assert_int_eq(mlc_ss_preferred(ss), MLC_SS_V1);
    ck_assert_int_eq(mlc_ss_has(ss, MLC_SS_V2), 1);
    ck_assert_int_eq(mlc_ss_has(ss, MLC_SS_V1), 1);
    ck_assert_str_eq(mlc_ss_base_url(ss, MLC_SS_V2), "http://127.0.0.1:8");
    ck_assert_ptr_nonnull(strstr(mlc_ss_source(ss, MLC_SS_V1), "/v1.key"));
    mlc_ss_free(ss);
    mlc_config_free(c);

    /* defaults: V2 preferred, the public hosts, the schema's limits */
    c = cfg_of("    shipstation: {api_key_file: v2.key}\n");
    ck_assert_msg(mlc_setup_ss_opts(c, NULL, NULL, NULL, &s, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(s.opts.api, MLC_SS_V2);
    ck_assert_ptr_null(s.opts.v1_key);
    ck_assert_str_eq(s.opts.v2_url, "https://api.shipstation.com");
    ck_assert_int_eq(s.opts.rate_limit_v2, 200);
    ck_assert_int_eq(s.opts.rate_window_ms, 60000);
    ck_assert_int_eq(s.opts.http.timeout_s, 30);
    mlc_setup_ss_release(&s);
    mlc_config_free(c);
}
END_TEST

START_TEST(bad_values_fail_with_their_position)
{
    mlc_config *c = cfg_of("    shipstation:\n      api_key_file: v2.key\n      rate_window: 0\n");
    mlc_setup_ss s;
    mlc_error e = {0};
    ck_assert_int_eq(mlc_setup_ss_opts(c, NULL, NULL, NULL, &s, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "/mlc.yaml:7:7: shipstation.rate_window: 0 is not between"), "%s", e.msg);
    mlc_setup_ss_release(&s);
    mlc_config_free(c);

    c = cfg_of("    shipstation: {v1_key_file: v2.key}\n"); /* no "key:secret" */
    ck_assert_int_eq(mlc_setup_ss_opts(c, NULL, NULL, NULL, &s, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "v2.key: expected \"key:secret\""), "%s", e.msg);
    mlc_setup_ss_release(&s);
    mlc_config_free(c);

    c = cfg_of("    shipstation: {}\n");
    ck_assert_int_eq(mlc_setup_ss_opts(c, NULL, NULL, NULL, &s, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "no ShipStation credentials"), "%s", e.msg);
    mlc_setup_ss_release(&s);
    mlc_config_free(c);

    /* an enum value outside its list never reaches setup: the load names it */
    char text[] = "profiles:\n  p:\n    shipstation:\n      api: v3\n";
    mlc_config *bad = NULL;
    ck_assert_int_eq(mlc_config_load_string(text, strlen(text), "x.yaml", NULL, &bad, &e), MLC_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, "x.yaml:4:7: 'profiles.p.shipstation.api' must be one of v2|v1, not 'v3'"), "%s",
                  e.msg);
}
END_TEST

START_TEST(shipstation_api_is_read_once_in_any_case)
{
    static const struct {
        const char *value;
        mlc_ss_version want;
    } cases[] = {{"v1", MLC_SS_V1}, {"V1", MLC_SS_V1}, {"v2", MLC_SS_V2}, {"V2", MLC_SS_V2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[128];
        snprintf(body, sizeof body, "    shipstation: {api: %s}\n", cases[i].value);
        mlc_config *c = cfg_of(body);
        ck_assert_int_eq(mlc_setup_ss_api(c, NULL), cases[i].want);
        /* a command's --api wins over the profile */
        ck_assert_int_eq(mlc_setup_ss_api(c, "v2"), MLC_SS_V2);
        ck_assert_int_eq(mlc_setup_ss_api(c, "v1"), MLC_SS_V1);
        mlc_config_free(c);
    }
    mlc_config *c = cfg_of("");
    ck_assert_int_eq(mlc_setup_ss_api(c, NULL), MLC_SS_V2); /* the default */
    mlc_config_free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("setup");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, m3_options_from_config);
    tcase_add_test(tc, ss_options_from_config);
    tcase_add_test(tc, bad_values_fail_with_their_position);
    tcase_add_test(tc, shipstation_api_is_read_once_in_any_case);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
