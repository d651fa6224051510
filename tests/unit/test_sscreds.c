/*
 * test_sscreds.c: lib/sscreds: key text parsing (V2 key, V1 key:secret, empty,
 * two lines, binary, no colon), key files (private required, missing), the vault
 * entry round trip (store, merge of a second version, resolve, describe with
 * fingerprints only, remove), and the config's key files when the vault has no
 * entry.
 */
#include "secret.h"
#include "sscreds.h"
#include "testutil.h"

#include <sys/stat.h>

START_TEST(parse_key_text)
{
    mlc_sscreds c = {0};
    mlc_error err = {0};
    char k2[] = "  v2-KEY-abc \n";
    ck_assert_int_eq(mlc_sscreds_parse_key(k2, strlen(k2), "t", 0, &c, &err), MLC_OK);
    ck_assert_str_eq(c.v2_key, "v2-KEY-abc");
    char k1[] = "key1:sec:ret1\n";
    ck_assert_int_eq(mlc_sscreds_parse_key(k1, strlen(k1), "t", 1, &c, &err), MLC_OK);
    ck_assert_str_eq(c.v1_key, "key1");
    ck_assert_str_eq(c.v1_secret, "sec:ret1");
    char empty[] = " \n";
    ck_assert_int_eq(mlc_sscreds_parse_key(empty, strlen(empty), "f", 0, &c, &err), MLC_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "f: empty");
    char two[] = "abc\ndef\n";
    ck_assert_int_eq(mlc_sscreds_parse_key(two, strlen(two), "f", 0, &c, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "single line"));
    ck_assert_ptr_null(strstr(err.msg, "abc"));
    char bin[] = "ab\0cd";
    ck_assert_int_eq(mlc_sscreds_parse_key(bin, 5, "f", 0, &c, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "binary"));
    char nocolon[] = "keyonly";
    ck_assert_int_eq(mlc_sscreds_parse_key(nocolon, strlen(nocolon), "f", 1, &c, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "key:secret"));
    char nosecret[] = "key:";
    ck_assert_int_eq(mlc_sscreds_parse_key(nosecret, strlen(nosecret), "f", 1, &c, &err), MLC_ERR_CONFIG);
    /* the keys parsed before the failures are still there */
    ck_assert_str_eq(c.v2_key, "v2-KEY-abc");
    mlc_sscreds_clear(&c);
    ck_assert_ptr_null(c.v2_key);
    mlc_sscreds_clear(&c); /* twice is fine */
}
END_TEST

START_TEST(key_files)
{
    char *dir = tu_tmpdir(), p[512];
    snprintf(p, sizeof p, "%s/v1.key", dir);
    tu_write(p, "k1:s1\n", 6);
    chmod(p, 0644);
    mlc_sscreds c = {0};
    mlc_error err = {0};
    ck_assert_int_eq(mlc_sscreds_read_key(p, 1, MLC_SECRET_PRIVATE, &c, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "chmod 600"));
    ck_assert_int_eq(mlc_sscreds_read_key(p, 1, 0, &c, &err), MLC_OK); /* creds add: any readable file */
    chmod(p, 0600);
    ck_assert_int_eq(mlc_sscreds_read_key(p, 1, MLC_SECRET_PRIVATE, &c, &err), MLC_OK);
    ck_assert_str_eq(c.v1_key, "k1");
    ck_assert_str_eq(c.v1_secret, "s1");
    snprintf(p, sizeof p, "%s/none.key", dir);
    ck_assert_int_eq(mlc_sscreds_read_key(p, 0, MLC_SECRET_PRIVATE, &c, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "no such file"));
    mlc_sscreds_clear(&c);
    free(dir);
}
END_TEST

START_TEST(vault_entry_round_trip)
{
    char *dir = tu_tmpdir(), vp[512];
    snprintf(vp, sizeof vp, "%s/p.vault", dir);
    mlc_vault *v = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_vault_open(vp, "pass", 1, NULL, &v, &err), MLC_OK);
    ck_assert_ptr_null(mlc_sscreds_describe(NULL, v)); /* nothing yet */
    mlc_sscreds in = {.v2_key = strdup("V2KEY-123456")};
    ck_assert_int_eq(mlc_sscreds_store(v, &in, &err), MLC_OK);
    mlc_sscreds_clear(&in);
    in.v1_key = strdup("V1KEY");
    in.v1_secret = strdup("V1SECRET");
    ck_assert_int_eq(mlc_sscreds_store(v, &in, &err), MLC_OK); /* V1 added, V2 kept */
    mlc_sscreds_clear(&in);
    mlc_vault_free(v);

    ck_assert_int_eq(mlc_vault_open(vp, "pass", 0, NULL, &v, &err), MLC_OK);
    const cJSON *e = mlc_vault_get(v, MLC_SSCREDS_VAULT_ENTRY);
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "added_at")));
    mlc_sscreds out = {0};
    ck_assert_int_eq(mlc_sscreds_resolve(NULL, v, &out, &err), MLC_OK);
    ck_assert_str_eq(out.v2_key, "V2KEY-123456");
    ck_assert_str_eq(out.v1_key, "V1KEY");
    ck_assert_str_eq(out.v1_secret, "V1SECRET");
    ck_assert_str_eq(out.v2_source, "vault");
    ck_assert_str_eq(out.v1_source, "vault");
    mlc_sscreds_clear(&out);

    cJSON *d = mlc_sscreds_describe(NULL, v);
    char *ds = cJSON_PrintUnformatted(d);
    ck_assert_ptr_null(strstr(ds, "V2KEY"));
    ck_assert_ptr_null(strstr(ds, "V1SECRET"));
    char fp2[9], fp1[9];
    mlc_secret_fingerprint("V2KEY-123456", fp2);
    mlc_secret_fingerprint("V1KEY:V1SECRET", fp1);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "v2_key")->valuestring, fp2);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "v1_key")->valuestring, fp1);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "source")->valuestring, "vault");
    free(ds);
    cJSON_Delete(d);

    ck_assert_int_eq(mlc_sscreds_remove(v, &err), MLC_OK);
    ck_assert_int_eq(mlc_sscreds_remove(v, &err), MLC_ERR_NOTFOUND);
    ck_assert_int_eq(mlc_sscreds_resolve(NULL, v, &out, &err), MLC_OK);
    ck_assert_ptr_null(out.v2_key);
    ck_assert_ptr_null(out.v1_key);
    mlc_vault_free(v);
    free(dir);
}
END_TEST

START_TEST(config_key_files)
{
    char *dir = tu_tmpdir(), p[512], yaml[1024], vp[512];
    snprintf(p, sizeof p, "%s/v2.key", dir);
    tu_write(p, "FILEKEY\n", 8);
    chmod(p, 0600);
    snprintf(yaml, sizeof yaml, "profiles:\n  t:\n    shipstation:\n      api_key_file: v2.key\n");
    char cp[512];
    snprintf(cp, sizeof cp, "%s/mlc.yaml", dir);
    tu_write(cp, yaml, strlen(yaml));
    mlc_config *cfg = NULL;
    mlc_error err = {0};
    ck_assert_msg(mlc_config_load(cp, "t", &cfg, &err) == MLC_OK, "%s", err.msg);
    mlc_sscreds c = {0};
    ck_assert_int_eq(mlc_sscreds_resolve(cfg, NULL, &c, &err), MLC_OK);
    ck_assert_str_eq(c.v2_key, "FILEKEY");
    ck_assert_str_eq(c.v2_source, p);
    ck_assert_ptr_null(c.v1_key);
    mlc_sscreds_clear(&c);
    cJSON *d = mlc_sscreds_describe(cfg, NULL);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "v2_key_file")->valuestring, p);
    cJSON_Delete(d);
    /* a vault entry with a V2 key wins over the file */
    snprintf(vp, sizeof vp, "%s/p.vault", dir);
    mlc_vault *v = NULL;
    ck_assert_int_eq(mlc_vault_open(vp, "pass", 1, NULL, &v, &err), MLC_OK);
    mlc_sscreds in = {.v2_key = strdup("VAULTKEY")};
    ck_assert_int_eq(mlc_sscreds_store(v, &in, &err), MLC_OK);
    mlc_sscreds_clear(&in);
    ck_assert_int_eq(mlc_sscreds_resolve(cfg, v, &c, &err), MLC_OK);
    ck_assert_str_eq(c.v2_key, "VAULTKEY");
    ck_assert_str_eq(c.v2_source, "vault");
    mlc_sscreds_clear(&c);
    /* a loose key file is refused */
    mlc_vault_free(v);
    chmod(p, 0644);
    ck_assert_int_eq(mlc_sscreds_resolve(cfg, NULL, &c, &err), MLC_ERR_CONFIG);
    mlc_sscreds_clear(&c);
    mlc_config_free(cfg);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sscreds");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, parse_key_text);
    tcase_add_test(tc, key_files);
    tcase_add_test(tc, vault_entry_round_trip);
    tcase_add_test(tc, config_key_files);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
