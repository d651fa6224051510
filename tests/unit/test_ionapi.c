/*
 * test_ionapi.c: unit tests of lib/ionapi: lenient parsing (each missing key,
 * invalid JSON, binary garbage, huge file, wrong types; no secret in any error),
 * URL joining, and the token life cycle against the stub server: password grant
 * form, cache in the vault reused by a second instance, refresh before expiry,
 * refused refresh falling back to a login, invalid_grant / invalid_client,
 * revoke; the vault entries `mlc creds` writes (store, resolve, describe,
 * remove) and reading a file or stdin; the token cache shared between hosts
 * through a store (lib/sharing): two "hosts" log in once, the token is sealed at
 * rest (not in clear, tampering and other credentials rejected), concurrent
 * logins serialised (on PostgreSQL too with MLC_TEST_PG_HOST), revoke.
 */
#include "ionapi.h"
#include "secret.h"
#include "sharing.h"
#include "store.h"
#include "stubserver.h"
#include "testutil.h"

#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CS "CLIENTSECRET_zz9"
#define SASK "SASKSECRET_qq7"
#define SAAK "TENANT_X#SAAKKEY_ww3"

static char *ionapi_text(const char *skip, const char *pu, const char *iu)
{
    const char *keys[][2] = {{"ti", "TENANT_X"}, {"cn", "app"},     {"ci", "TENANT_X~cid"},
                             {"cs", CS},         {"iu", iu},        {"pu", pu},
                             {"oa", "authorization.oauth2"},       {"ot", "token.oauth2"},
                             {"or", "revoke_token.oauth2"},        {"saak", SAAK},
                             {"sask", SASK},     {"ev", "U1"},      {"v", "1.0"}};
    char *buf = malloc(4096);
    strcpy(buf, "{");
    int first = 1;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (skip && strcmp(skip, keys[i][0]) == 0)
            continue;
        char item[512];
        snprintf(item, sizeof item, "%s\n  \"%s\": \"%s\"", first ? "" : ",", keys[i][0],
                 keys[i][1]);
        strcat(buf, item);
        first = 0;
    }
    strcat(buf, "\n}\n");
    return buf;
}

static void assert_no_secret(const char *msg)
{
    ck_assert_msg(!strstr(msg, CS) && !strstr(msg, SASK) && !strstr(msg, "SAAKKEY"),
                  "secret in error: %s", msg);
}

START_TEST(parses_valid_file)
{
    char *t = ionapi_text(NULL, "https://sso.example.com/TENANT_X/as/", "https://ion.example.com");
    mlc_ionapi *ion = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "x.ionapi", &ion, &err), MLC_OK);
    ck_assert_str_eq(mlc_ionapi_tenant(ion), "TENANT_X");
    ck_assert_str_eq(mlc_ionapi_token_url(ion), "https://sso.example.com/TENANT_X/as/token.oauth2");
    ck_assert_str_eq(mlc_ionapi_revoke_url(ion),
                     "https://sso.example.com/TENANT_X/as/revoke_token.oauth2");
    ck_assert_str_eq(mlc_ionapi_api_base(ion), "https://ion.example.com/TENANT_X");
    ck_assert(mlc_ionapi_has_service_account(ion));
    ck_assert_uint_eq(strlen(mlc_ionapi_fingerprint(ion)), 8);
    /* round trip through JSON (the vault form) keeps the identity */
    cJSON *j = mlc_ionapi_to_json(ion);
    mlc_ionapi *ion2 = NULL;
    ck_assert_int_eq(mlc_ionapi_from_json(j, "vault", &ion2, &err), MLC_OK);
    ck_assert_str_eq(mlc_ionapi_fingerprint(ion), mlc_ionapi_fingerprint(ion2));
    cJSON_Delete(j);
    mlc_ionapi_free(ion2);
    mlc_ionapi_free(ion);
    free(t);
}
END_TEST

START_TEST(each_missing_key)
{
    const char *req[] = {"ti", "ci", "cs", "iu", "pu", "ot"};
    for (size_t i = 0; i < 6; i++) {
        char *t = ionapi_text(req[i], "https://s/x/as/", "https://i");
        mlc_ionapi *ion = NULL;
        mlc_error err = {0};
        ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "cust.ionapi", &ion, &err), MLC_ERR_CONFIG);
        ck_assert_ptr_null(ion);
        char want[64];
        snprintf(want, sizeof want, "\"%s\"", req[i]);
        ck_assert_msg(strstr(err.msg, want), "message does not name %s: %s", req[i], err.msg);
        ck_assert_ptr_nonnull(strstr(err.msg, "cust.ionapi"));
        assert_no_secret(err.msg);
        free(t);
    }
    /* saak without sask */
    char *t = ionapi_text("sask", "https://s/x/as/", "https://i");
    mlc_ionapi *ion = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "f", &ion, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "sask"));
    assert_no_secret(err.msg);
    free(t);
    /* neither: parses, but cannot log in */
    char *t2 = strdup("{\"ti\":\"T\",\"ci\":\"c\",\"cs\":\"" CS "\",\"iu\":\"https://i\","
                      "\"pu\":\"https://p\",\"ot\":\"token.oauth2\"}");
    ck_assert_int_eq(mlc_ionapi_parse(t2, strlen(t2), "f", &ion, &err), MLC_OK);
    ck_assert(!mlc_ionapi_has_service_account(ion));
    mlc_ionapi_free(ion);
    free(t2);
}
END_TEST

START_TEST(invalid_json)
{
    const char *bad[] = {"", "{", "{\"ti\": \"x\",}", "[1,2]", "\"string\"", "ti=x\nci=y",
                         "{\"ti\":\"T\",\"ci\":\"c\",\"cs\":\"" CS "\" \"iu\":1}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mlc_ionapi *ion = NULL;
        mlc_error err = {0};
        ck_assert_int_eq(mlc_ionapi_parse(bad[i], strlen(bad[i]), "b.ionapi", &ion, &err),
                         MLC_ERR_CONFIG);
        ck_assert_ptr_nonnull(strstr(err.msg, "b.ionapi"));
        assert_no_secret(err.msg);
    }
    /* a key of the wrong type */
    const char *wt = "{\"ti\":5,\"ci\":\"c\",\"cs\":\"s\",\"iu\":\"https://i\",\"pu\":\"https://p\","
                     "\"ot\":\"t\"}";
    mlc_ionapi *ion = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_parse(wt, strlen(wt), "w", &ion, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "\"ti\""));
}
END_TEST

START_TEST(binary_garbage)
{
    unsigned char junk[600];
    unsigned long long x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        junk[i] = (unsigned char)x;
    }
    junk[3] = 0;
    mlc_ionapi *ion = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_parse((char *)junk, sizeof junk, "g.ionapi", &ion, &err),
                     MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "binary"));
    /* valid JSON with a NUL inside is binary too */
    char *t = ionapi_text(NULL, "https://p/", "https://i");
    t[10] = '\0';
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t + 11) + 11, "g", &ion, &err), MLC_ERR_CONFIG);
    free(t);
}
END_TEST

START_TEST(huge_file)
{
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/huge.ionapi", dir);
    size_t n = (1u << 20) + 100;
    char *big = malloc(n);
    memset(big, ' ', n);
    char *t = ionapi_text(NULL, "https://p/", "https://i");
    memcpy(big, t, strlen(t)); /* valid JSON followed by 1 MiB of spaces */
    tu_write(path, big, n);
    mlc_ionapi *ion = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_load(path, &ion, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "1 MiB"));
    ck_assert_int_eq(mlc_ionapi_parse(big, n, "h", &ion, &err), MLC_ERR_CONFIG);
    /* the same content under the limit loads */
    tu_write(path, t, strlen(t));
    ck_assert_int_eq(mlc_ionapi_load(path, &ion, &err), MLC_OK);
    mlc_ionapi_free(ion);
    ck_assert_int_eq(mlc_ionapi_load("/nonexistent/x.ionapi", &ion, &err), MLC_ERR_CONFIG);
    free(t);
    free(big);
    free(dir);
}
END_TEST

START_TEST(url_join_one_slash)
{
    const char *cases[][3] = {{"https://h/T/as/", "token.oauth2", "https://h/T/as/token.oauth2"},
                              {"https://h/T/as", "token.oauth2", "https://h/T/as/token.oauth2"},
                              {"https://h/T/as/", "/token.oauth2", "https://h/T/as/token.oauth2"},
                              {"https://h/T/as//", "//token.oauth2", "https://h/T/as/token.oauth2"},
                              {"https://h/T/as", "/token.oauth2", "https://h/T/as/token.oauth2"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *u = mlc_ionapi_join_url(cases[i][0], cases[i][1]);
        ck_assert_str_eq(u, cases[i][2]);
        free(u);
    }
    /* and the API base: iu with a trailing slash */
    char *t = ionapi_text(NULL, "https://p/T/as", "https://ion.example.com/");
    mlc_ionapi *ion = NULL;
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "f", &ion, NULL), MLC_OK);
    ck_assert_str_eq(mlc_ionapi_api_base(ion), "https://ion.example.com/TENANT_X");
    ck_assert_str_eq(mlc_ionapi_token_url(ion), "https://p/T/as/token.oauth2");
    mlc_ionapi_free(ion);
    free(t);
}
END_TEST

/* ---- token life cycle against the stub ---------------------------------- */

typedef struct fixture {
    stub_server *s;
    mlc_http *http;
    mlc_ionapi *ion;
    char *dir;
    char vault_path[512];
} fixture;

static void fx_init(fixture *f)
{
    f->s = stub_start();
    char pu[128];
    snprintf(pu, sizeof pu, "%s/TENANT_X/as/", f->s->base);
    char *t = ionapi_text(NULL, pu, f->s->base);
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "t", &f->ion, NULL), MLC_OK);
    free(t);
    mlc_http_opts o = {.timeout_s = 5, .max_attempts = 1};
    ck_assert_int_eq(mlc_http_new(&o, &f->http, NULL), MLC_OK);
    f->dir = tu_tmpdir();
    snprintf(f->vault_path, sizeof f->vault_path, "%s/v.vault", f->dir);
}

static void fx_free(fixture *f)
{
    mlc_ionapi_free(f->ion);
    mlc_http_free(f->http);
    stub_stop(f->s);
    free(f->dir);
}

static mlc_ionapi *second_instance(fixture *f)
{
    char pu[128];
    snprintf(pu, sizeof pu, "%s/TENANT_X/as/", f->s->base);
    char *t = ionapi_text(NULL, pu, f->s->base);
    mlc_ionapi *ion = NULL;
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "t", &ion, NULL), MLC_OK);
    free(t);
    return ion;
}

START_TEST(password_grant_and_cache)
{
    fixture f;
    fx_init(&f);
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"access_token\":\"AT_one_abcdef\",\"token_type\":\"bearer\","
                                        "\"expires_in\":7200,\"refresh_token\":\"RT_one_abcdef\"}"});
    mlc_vault *v = NULL;
    ck_assert_int_eq(mlc_vault_open(f.vault_path, "k", 1, NULL, &v, NULL), MLC_OK);
    mlc_ionapi_attach(f.ion, f.http, v, NULL, 300);
    const char *h = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, &err), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_one_abcdef");
    ck_assert_int_eq(stub_count(f.s), 1);
    stub_req *r = &f.s->reqs[0];
    ck_assert_str_eq(r->method, "POST");
    ck_assert_str_eq(r->url, "/TENANT_X/as/token.oauth2");
    ck_assert_ptr_nonnull(strstr(r->body, "grant_type=password"));
    ck_assert_ptr_nonnull(strstr(r->body, "username=TENANT_X%23SAAKKEY_ww3"));
    ck_assert_ptr_nonnull(strstr(r->body, "password=" SASK));
    ck_assert_ptr_nonnull(strstr(r->body, "client_id=TENANT_X~cid"));
    ck_assert_ptr_nonnull(strstr(r->body, "client_secret=" CS));
    ck_assert_ptr_nonnull(strstr(r->headers, "application/x-www-form-urlencoded"));
    ck_assert_int_eq(mlc_ionapi_login_count(f.ion), 1);
    long long exp = mlc_ionapi_token_expiry(f.ion);
    ck_assert(exp >= (long long)time(NULL) + 7190 && exp <= (long long)time(NULL) + 7200);
    /* again: from memory */
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, &err), MLC_OK);
    ck_assert_int_eq(stub_count(f.s), 1);
    mlc_vault_free(v);

    /* a second process (new vault handle, new ionapi) reuses the cached token */
    mlc_vault *v2 = NULL;
    ck_assert_int_eq(mlc_vault_open(f.vault_path, "k", 0, NULL, &v2, NULL), MLC_OK);
    mlc_ionapi *ion2 = second_instance(&f);
    mlc_ionapi_attach(ion2, f.http, v2, NULL, 300);
    ck_assert_int_eq(mlc_ionapi_authorization(ion2, &h, &err), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_one_abcdef");
    ck_assert_int_eq(stub_count(f.s), 1);
    ck_assert_int_eq(mlc_ionapi_login_count(ion2), 0);
    /* the cached token is encrypted: not in clear in the vault file */
    FILE *fp = fopen(f.vault_path, "rb");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    ck_assert_ptr_null(memmem(buf, n, "AT_one", 6));
    mlc_ionapi_free(ion2);
    mlc_vault_free(v2);
    fx_free(&f);
}
END_TEST

START_TEST(refresh_before_expiry)
{
    fixture f;
    fx_init(&f);
    /* lifetime 2 s: the margin shrinks to lifetime/4 = 0 s */
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"access_token\":\"AT_short_1234\",\"expires_in\":2,"
                                        "\"refresh_token\":\"RT_short_1234\"}"});
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"access_token\":\"AT_refreshed_1234\",\"expires_in\":7200}"});
    mlc_ionapi_attach(f.ion, f.http, NULL, NULL, 300);
    const char *h = NULL;
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, NULL), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_short_1234");
    sleep(2);
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, NULL), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_refreshed_1234");
    ck_assert_int_eq(stub_count(f.s), 2);
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].body, "grant_type=refresh_token"));
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].body, "refresh_token=RT_short_1234"));
    ck_assert_int_eq(mlc_ionapi_login_count(f.ion), 1);
    ck_assert_int_eq(mlc_ionapi_refresh_count(f.ion), 1);
    fx_free(&f);
}
END_TEST

START_TEST(margin_applies)
{
    fixture f;
    fx_init(&f);
    /* 1000 s lifetime, margin 300 s: still fresh now; margin 999 -> capped at 250 */
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"access_token\":\"AT_m_123456\",\"expires_in\":1000}"});
    mlc_ionapi_attach(f.ion, f.http, NULL, NULL, 300);
    const char *h = NULL;
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, NULL), MLC_OK);
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, NULL), MLC_OK);
    ck_assert_int_eq(stub_count(f.s), 1);
    /* invalidate (a 401): no refresh token, so a new login */
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"access_token\":\"AT_m2_123456\",\"expires_in\":1000}"});
    mlc_ionapi_invalidate(f.ion);
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, NULL), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_m2_123456");
    ck_assert_int_eq(mlc_ionapi_login_count(f.ion), 2);
    fx_free(&f);
}
END_TEST

START_TEST(refused_refresh_falls_back_to_login)
{
    fixture f;
    fx_init(&f);
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"access_token\":\"AT_a_123456\",\"expires_in\":3600,"
                                        "\"refresh_token\":\"RT_a_123456\"}"});
    stub_push(f.s, (stub_reply){.status = 400, .body = "{\"error\":\"invalid_grant\"}"});
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"access_token\":\"AT_b_123456\",\"expires_in\":3600}"});
    mlc_ionapi_attach(f.ion, f.http, NULL, NULL, 300);
    const char *h = NULL;
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, NULL), MLC_OK);
    mlc_ionapi_invalidate(f.ion);
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, NULL), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_b_123456");
    ck_assert_int_eq(stub_count(f.s), 3);
    ck_assert_ptr_nonnull(strstr(f.s->reqs[2].body, "grant_type=password"));
    fx_free(&f);
}
END_TEST

START_TEST(wrong_secret_and_wrong_client)
{
    fixture f;
    fx_init(&f);
    stub_push(f.s, (stub_reply){.status = 400,
                                .body = "{\"error\":\"invalid_grant\",\"error_description\":"
                                        "\"bad user " SASK "\"}"});
    stub_push(f.s, (stub_reply){.status = 401, .body = "{\"error\":\"invalid_client\"}"});
    mlc_log *log = mlc_log_new(NULL, MLC_LOG_TEXT, MLC_LOG_ERROR);
    mlc_ionapi_attach(f.ion, f.http, NULL, log, 300);
    const char *h = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, &err), MLC_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "saak/sask"));
    assert_no_secret(err.msg);
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, &err), MLC_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "ci/cs"));
    assert_no_secret(err.msg);
    mlc_log_free(log);
    fx_free(&f);
}
END_TEST

START_TEST(revoke_tokens)
{
    fixture f;
    fx_init(&f);
    stub_push(f.s, (stub_reply){.status = 200,
                                .body = "{\"access_token\":\"AT_r_123456\",\"expires_in\":3600,"
                                        "\"refresh_token\":\"RT_r_123456\"}"});
    mlc_vault *v = NULL;
    ck_assert_int_eq(mlc_vault_open(f.vault_path, "k", 1, NULL, &v, NULL), MLC_OK);
    mlc_ionapi_attach(f.ion, f.http, v, NULL, 300);
    const char *h = NULL;
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, NULL), MLC_OK);
    ck_assert_ptr_nonnull(mlc_vault_get(v, MLC_IONAPI_TOKEN_ENTRY));
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_revoke(f.ion, &err), MLC_OK);
    ck_assert_int_eq(stub_count(f.s), 3);
    ck_assert_str_eq(f.s->reqs[1].url, "/TENANT_X/as/revoke_token.oauth2");
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].body, "token=RT_r_123456"));
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].body, "token_type_hint=refresh_token"));
    ck_assert_ptr_nonnull(strstr(f.s->reqs[1].headers, "Basic "));
    ck_assert_ptr_nonnull(strstr(f.s->reqs[2].body, "token_type_hint=access_token"));
    ck_assert_ptr_null(mlc_vault_get(v, MLC_IONAPI_TOKEN_ENTRY));
    ck_assert_int_eq(mlc_ionapi_token_expiry(f.ion), 0);
    mlc_vault_free(v);
    fx_free(&f);
}
END_TEST

/* `mlc creds add cloudsuite|bod` and `rm`: the vault entry written by
 * mlc_ionapi_store is what mlc_ionapi_resolve reads back (same fingerprint),
 * describe shows no secret, remove takes the entry and its token cache away. */
START_TEST(vault_entry_round_trip)
{
    char *dir = tu_tmpdir(), vp[512];
    snprintf(vp, sizeof vp, "%s/p.vault", dir);
    char *t = ionapi_text(NULL, "https://sso.example.com/TENANT_X/as/", "https://ion.example.com");
    mlc_ionapi *ion = NULL, *back = NULL;
    mlc_vault *v = NULL;
    mlc_error err = {0};
    char *src = NULL;
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "t", &ion, &err), MLC_OK);
    ck_assert_int_eq(mlc_vault_open(vp, "pass", 1, NULL, &v, &err), MLC_OK);
    ck_assert_int_eq(mlc_ionapi_store(ion, v, 0, &err), MLC_OK);
    ck_assert_int_eq(mlc_ionapi_store(ion, v, 1, &err), MLC_OK);
    mlc_vault_free(v);
    ck_assert_int_eq(mlc_vault_open(vp, "pass", 0, NULL, &v, &err), MLC_OK);
    const cJSON *e = mlc_vault_get(v, MLC_IONAPI_VAULT_ENTRY);
    ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "ionapi")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "added_at")));
    ck_assert_int_eq(mlc_ionapi_resolve(NULL, v, &back, &src, &err), MLC_OK);
    ck_assert_str_eq(src, "vault");
    ck_assert_str_eq(mlc_ionapi_fingerprint(back), mlc_ionapi_fingerprint(ion));
    ck_assert_int_eq(mlc_ionapi_has_service_account(back), 1);
    cJSON *d = mlc_ionapi_describe(back, src, v);
    char *ds = cJSON_PrintUnformatted(d);
    assert_no_secret(ds);
    ck_assert_ptr_nonnull(strstr(ds, "\"tenant\":\"TENANT_X\""));
    ck_assert_ptr_nonnull(strstr(ds, "\"token_expires\":\"none\""));
    free(ds);
    cJSON_Delete(d);
    mlc_ionapi_free(back);
    free(src);
    /* the bod entry is its own */
    ck_assert_int_eq(mlc_ionapi_resolve_bod(NULL, v, &back, NULL, &err), MLC_OK);
    mlc_ionapi_free(back);
    /* remove: no token cached, so nothing to revoke and no request is made */
    mlc_http_opts ho = {.timeout_s = 2, .max_attempts = 1};
    ck_assert_int_eq(mlc_ionapi_remove(v, 1, &ho, NULL, &err), MLC_OK);
    ck_assert_ptr_null(mlc_vault_get(v, MLC_IONAPI_BOD_ENTRY));
    ck_assert_ptr_nonnull(mlc_vault_get(v, MLC_IONAPI_VAULT_ENTRY));
    ck_assert_int_eq(mlc_ionapi_remove(v, 1, &ho, NULL, &err), MLC_ERR_NOTFOUND);
    mlc_vault_free(v);
    ck_assert_int_eq(mlc_vault_open(vp, "pass", 0, NULL, &v, &err), MLC_OK);
    ck_assert_ptr_null(mlc_vault_get(v, MLC_IONAPI_BOD_ENTRY));
    mlc_vault_free(v);
    mlc_ionapi_free(ion);
    free(t);
    free(dir);
}
END_TEST

/* creds add reads a file or stdin; a missing file is a configuration error. */
START_TEST(read_file_flags)
{
    char *dir = tu_tmpdir(), p[512];
    snprintf(p, sizeof p, "%s/t.ionapi", dir);
    char *t = ionapi_text(NULL, "https://p/", "https://i");
    tu_write(p, t, strlen(t));
    mlc_ionapi *ion = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_read(p, 0, &ion, &err), MLC_OK);
    mlc_ionapi_free(ion);
    ck_assert_int_eq(mlc_ionapi_read("/nonexistent/t.ionapi", MLC_SECRET_STDIN, &ion, &err), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "no such file"));
    free(t);
    free(dir);
}
END_TEST

/* ---- the token cache shared between hosts (through a store) ------------- */

/* Where the "hosts" of a test share their state: <dir>/state.db, or, once
 * g_pg_url is set, that PostgreSQL database. */
static char g_pg_url[600];

static void state_location(const char *dir, char *out, size_t cap)
{
    if (g_pg_url[0])
        snprintf(out, cap, "%s", g_pg_url);
    else
        snprintf(out, cap, "%s/state.db", dir);
}

static mlc_store *open_store(const char *dir)
{
    char path[600];
    mlc_store *st = NULL;
    mlc_error e;
    state_location(dir, path, sizeof path);
    ck_assert_msg(mlc_store_open(path, 0, &st, &e) == MLC_OK, "%s", e.msg);
    return st;
}

/* A fresh database on the harness cluster (tests/pg.sh, MLC_TEST_PG_HOST). */
static void pg_fresh(void)
{
    const char *host = getenv("MLC_TEST_PG_HOST");
    char conninfo[600], sql[128], db[64];
    ck_assert_ptr_nonnull(host);
    snprintf(db, sizeof db, "ion_%ld_%d", (long)time(NULL), (int)getpid());
    snprintf(conninfo, sizeof conninfo, "postgresql:///postgres?host=%s&user=mlc", host);
    PGconn *c = PQconnectdb(conninfo);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", db);
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(g_pg_url, sizeof g_pg_url, "postgresql:///%s?host=%s&user=mlc", db, host);
}

/* The raw cached value, straight from the database. */
static int raw_value(const char *dir, unsigned char *buf, size_t cap, size_t *n, const char *mode)
{
    char path[600];
    sqlite3 *db;
    sqlite3_stmt *q;
    snprintf(path, sizeof path, "%s/state.db", dir);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    int found = 0;
    if (!strcmp(mode, "read")) {
        ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT value FROM shared WHERE name LIKE 'ion-token:%'", -1, &q, NULL),
                         SQLITE_OK);
        if (sqlite3_step(q) == SQLITE_ROW) {
            *n = (size_t)sqlite3_column_bytes(q, 0);
            ck_assert_uint_le(*n, cap);
            if (*n)
                memcpy(buf, sqlite3_column_blob(q, 0), *n);
            found = 1;
        }
    } else { /* write buf back */
        ck_assert_int_eq(sqlite3_prepare_v2(db, "UPDATE shared SET value=? WHERE name LIKE 'ion-token:%'", -1, &q, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(q, 1, buf, (int)*n, SQLITE_STATIC);
        found = sqlite3_step(q) == SQLITE_DONE;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return found;
}

#define TOKEN_REPLY(at)                                                                                       \
    (stub_reply)                                                                                              \
    {                                                                                                         \
        .status = 200, .body = "{\"access_token\":\"" at "\",\"token_type\":\"bearer\",\"expires_in\":7200," \
                               "\"refresh_token\":\"RT_" at "\"}"                                             \
    }

START_TEST(shared_cache_two_hosts_log_in_once)
{
    fixture f;
    fx_init(&f);
    stub_push(f.s, TOKEN_REPLY("AT_shared_1"));
    stub_push(f.s, TOKEN_REPLY("AT_shared_2"));
    stub_push(f.s, TOKEN_REPLY("AT_shared_3"));
    /* host A: no vault, the state's store */
    mlc_store *sa = open_store(f.dir), *sb = open_store(f.dir);
    mlc_ionapi_attach(f.ion, f.http, NULL, NULL, 300);
    mlc_sharing_ionapi_cache(f.ion, sa);
    const char *h = NULL;
    mlc_error err = {0};
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, &err), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_shared_1");
    ck_assert_int_eq(stub_count(f.s), 1);

    /* host B: another store handle, another ionapi: no login */
    mlc_ionapi *b = second_instance(&f);
    mlc_ionapi_attach(b, f.http, NULL, NULL, 300);
    mlc_sharing_ionapi_cache(b, sb);
    ck_assert_int_eq(mlc_ionapi_authorization(b, &h, &err), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_shared_1");
    ck_assert_int_eq(stub_count(f.s), 1);
    ck_assert_int_eq(mlc_ionapi_login_count(b), 0);

    /* sealed at rest: neither token in clear in the database file or the value */
    unsigned char buf[8192];
    size_t n = 0;
    ck_assert(raw_value(f.dir, buf, sizeof buf, &n, "read"));
    ck_assert_ptr_null(memmem(buf, n, "AT_shared", 9));
    ck_assert_ptr_null(memmem(buf, n, "RT_", 3));
    char path[600];
    snprintf(path, sizeof path, "%s/state.db", f.dir);
    FILE *fp = fopen(path, "rb");
    static char dbbuf[1 << 20];
    size_t dn = fread(dbbuf, 1, sizeof dbbuf, fp);
    fclose(fp);
    ck_assert_ptr_null(memmem(dbbuf, dn, "AT_shared", 9));

    /* its expiry reads from the clear header (mlc status), as the token holds it */
    ck_assert(mlc_ionapi_token_expiry(b) > 0);
    ck_assert_int_eq(mlc_ionapi_shared_expiry(b, &err), mlc_ionapi_token_expiry(b));
    ck_assert(memcmp(buf, "mlct2", 5) == 0);
    /* the header is authenticated: a changed expiry does not open (host C below
     * logs in again); status, which does not open it, reads what it says */
    buf[5 + 7] ^= 1;
    ck_assert(raw_value(f.dir, buf, sizeof buf, &n, "write"));
    ck_assert_int_eq(mlc_ionapi_shared_expiry(b, &err), mlc_ionapi_token_expiry(b) ^ 1);

    /* a tampered value is not used: host C logs in again (and replaces it) */
    ck_assert(raw_value(f.dir, buf, sizeof buf, &n, "write"));
    mlc_ionapi *c = second_instance(&f);
    mlc_ionapi_attach(c, f.http, NULL, NULL, 300);
    mlc_sharing_ionapi_cache(c, sb);
    ck_assert_int_eq(mlc_ionapi_authorization(c, &h, &err), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_shared_2");
    ck_assert_int_eq(mlc_ionapi_login_count(c), 1);
    ck_assert_int_eq(stub_count(f.s), 2);

    /* other credentials (another client secret) cannot read it: they log in */
    char pu[128];
    snprintf(pu, sizeof pu, "%s/TENANT_X/as/", f.s->base);
    char *t = ionapi_text(NULL, pu, f.s->base);
    char *cs = strstr(t, CS);
    cs[0] = 'X';
    mlc_ionapi *d = NULL;
    ck_assert_int_eq(mlc_ionapi_parse(t, strlen(t), "t", &d, NULL), MLC_OK);
    free(t);
    mlc_ionapi_attach(d, f.http, NULL, NULL, 300);
    mlc_sharing_ionapi_cache(d, sa);
    ck_assert_int_eq(mlc_ionapi_authorization(d, &h, &err), MLC_OK);
    ck_assert_int_eq(mlc_ionapi_login_count(d), 1);
    ck_assert_int_eq(stub_count(f.s), 3);

    /* revoke forgets the shared token: the next host finds none */
    stub_push(f.s, (stub_reply){.status = 200});
    stub_push(f.s, (stub_reply){.status = 200});
    ck_assert_int_eq(mlc_ionapi_revoke(c, &err), MLC_OK);
    ck_assert_int_eq(stub_count(f.s), 5);
    ck_assert(raw_value(f.dir, buf, sizeof buf, &n, "read"));
    ck_assert_uint_eq(n, 0);
    mlc_ionapi_free(b);
    mlc_ionapi_free(c);
    mlc_ionapi_free(d);
    mlc_store_close(sa);
    mlc_store_close(sb);
    fx_free(&f);
}
END_TEST

/* An "mlct1" value, as mlc wrote it before the clear expiry header: magic | nonce |
 * tag | ciphertext, AES-256-GCM under HKDF-SHA256 (key cs \0 sask, salt "mlc ion
 * token cache 1", info the value's name), the name as associated data. */
static size_t seal_v1(const char *name, const char *plain, unsigned char *out)
{
    unsigned char ikm[] = CS "\0" SASK, key[32];
    EVP_KDF *k = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(k);
    OSSL_PARAM p[5] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
                       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, sizeof ikm - 1),
                       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)"mlc ion token cache 1", 21),
                       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)name, strlen(name)),
                       OSSL_PARAM_construct_end()};
    ck_assert_int_eq(EVP_KDF_derive(kc, key, 32, p), 1);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(k);
    unsigned char *nonce = out + 5, *tag = nonce + 12, *ct = tag + 16;
    memcpy(out, "mlct1", 5);
    memset(nonce, 7, 12);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    ck_assert(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
              EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)name, (int)strlen(name)) == 1 &&
              EVP_EncryptUpdate(c, ct, &len, (const unsigned char *)plain, (int)strlen(plain)) == 1 &&
              EVP_EncryptFinal_ex(c, ct + len, &fin) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(c);
    return 5 + 12 + 16 + (size_t)(len + fin);
}

typedef struct raw_put {
    const unsigned char *b;
    size_t n;
} raw_put;

static int put_raw(void *ud, const unsigned char *old, size_t old_len, unsigned char **newv, size_t *new_len)
{
    const raw_put *r = ud;
    (void)old;
    (void)old_len;
    *newv = malloc(r->n);
    memcpy(*newv, r->b, r->n);
    *new_len = r->n;
    return 1;
}

/* A value an older mlc wrote (no clear expiry header) still serves: its token is
 * adopted without a login, and its expiry is read (status) by opening it. */
START_TEST(shared_cache_reads_values_of_older_mlc)
{
    fixture f;
    fx_init(&f);
    mlc_store *st = open_store(f.dir);
    mlc_ionapi_attach(f.ion, f.http, NULL, NULL, 300);
    mlc_sharing_ionapi_cache(f.ion, st);
    long long now = (long long)time(NULL);
    char name[128], plain[512];
    snprintf(name, sizeof name, "ion-token:%s:%s", MLC_IONAPI_TOKEN_ENTRY, mlc_ionapi_fingerprint(f.ion));
    snprintf(plain, sizeof plain,
             "{\"fingerprint\":\"%s\",\"tenant\":\"TENANT_X\",\"access_token\":\"AT_older_1\",\"refresh_token\":"
             "\"RT_older_1\",\"token_type\":\"Bearer\",\"expires_at\":%lld,\"refresh_at\":%lld,\"obtained_at\":%lld}",
             mlc_ionapi_fingerprint(f.ion), now + 3600, now + 3000, now);
    unsigned char b[1024];
    raw_put r = {b, seal_v1(name, plain, b)};
    mlc_error err = {0};
    ck_assert_msg(mlc_store_shared_update(st, name, put_raw, &r, &err) == MLC_OK, "%s", err.msg);
    ck_assert_int_eq(mlc_ionapi_shared_expiry(f.ion, &err), now + 3600);
    const char *h = NULL;
    ck_assert_int_eq(mlc_ionapi_authorization(f.ion, &h, &err), MLC_OK);
    ck_assert_str_eq(h, "Authorization: Bearer AT_older_1");
    ck_assert_int_eq(stub_count(f.s), 0);
    /* a value that is not ours at all: the expiry is unknown, with a reason */
    raw_put junk = {(const unsigned char *)"not a sealed value", 18};
    ck_assert_int_eq(mlc_store_shared_update(st, name, put_raw, &junk, &err), MLC_OK);
    ck_assert_int_eq(mlc_ionapi_shared_expiry(f.ion, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "not one these credentials sealed"));
    mlc_store_close(st);
    fx_free(&f);
}
END_TEST

/* Three processes (hosts) need a token at once while the login is slow: the
 * store's login lock lets one log in, the others wait and take its token. */
static void concurrent_logins(void)
{
    fixture f;
    fx_init(&f);
    stub_reply slow = TOKEN_REPLY("AT_conc_1");
    slow.delay_ms = 600;
    stub_push(f.s, slow);
    stub_push(f.s, TOKEN_REPLY("AT_conc_2"));
    stub_push(f.s, TOKEN_REPLY("AT_conc_3"));
    mlc_store *st = open_store(f.dir); /* creates the schema before the children start */
    mlc_store_close(st);
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        if ((kids[k] = fork()) == 0) {
            mlc_store *s = NULL;
            mlc_error e;
            char path[600];
            state_location(f.dir, path, sizeof path);
            if (mlc_store_open(path, 0, &s, &e))
                _exit(3);
            mlc_http *http = NULL;
            mlc_http_opts o = {.timeout_s = 5, .max_attempts = 1};
            if (mlc_http_new(&o, &http, NULL))
                _exit(3);
            mlc_ionapi *ion = second_instance(&f);
            mlc_ionapi_attach(ion, http, NULL, NULL, 300);
            mlc_sharing_ionapi_cache(ion, s);
            const char *h = NULL;
            if (mlc_ionapi_authorization(ion, &h, &e) != MLC_OK)
                _exit(4);
            _exit(strcmp(h, "Authorization: Bearer AT_conc_1") == 0 ? 0 : 5);
        }
    }
    for (int k = 0; k < 3; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "host %d: exit %d", k,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    ck_assert_int_eq(stub_count(f.s), 1);
    fx_free(&f);
}

START_TEST(shared_cache_concurrent_logins_serialised)
{
    g_pg_url[0] = '\0';
    concurrent_logins();
}
END_TEST

/* The same three hosts on PostgreSQL: the login lock is a session lock there. */
START_TEST(shared_cache_concurrent_logins_pg)
{
    pg_fresh();
    concurrent_logins();
    g_pg_url[0] = '\0';
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ionapi");
    TCase *tc = tcase_create("ionapi");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, parses_valid_file);
    tcase_add_test(tc, each_missing_key);
    tcase_add_test(tc, invalid_json);
    tcase_add_test(tc, binary_garbage);
    tcase_add_test(tc, huge_file);
    tcase_add_test(tc, url_join_one_slash);
    tcase_add_test(tc, password_grant_and_cache);
    tcase_add_test(tc, refresh_before_expiry);
    tcase_add_test(tc, margin_applies);
    tcase_add_test(tc, refused_refresh_falls_back_to_login);
    tcase_add_test(tc, wrong_secret_and_wrong_client);
    tcase_add_test(tc, revoke_tokens);
    tcase_add_test(tc, vault_entry_round_trip);
    tcase_add_test(tc, read_file_flags);
    tcase_add_test(tc, shared_cache_two_hosts_log_in_once);
    tcase_add_test(tc, shared_cache_reads_values_of_older_mlc);
    tcase_add_test(tc, shared_cache_concurrent_logins_serialised);
    if (getenv("MLC_TEST_PG_HOST"))
        tcase_add_test(tc, shared_cache_concurrent_logins_pg);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
