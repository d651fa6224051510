/*
 * creds.c: `mlc creds`: add, list, remove credentials in the profile's encrypted
 * vault, and re-encrypt it under a new key.
 *
 *   mlc creds add cloudsuite --ionapi FILE|-
 *   mlc creds add shipstation [--v2-key-file FILE|-] [--v1-key-file FILE|-]
 *   mlc creds list [--json]
 *   mlc creds rm cloudsuite|shipstation
 *   mlc creds rotate-key
 *
 * Secrets are read from files or stdin, never from argv, and never printed:
 * list shows names, tenant, key fingerprints and token expiry only.
 * Not here: the vault format (lib/vault), .ionapi parsing and tokens (lib/ionapi).
 */
#include "builtin.h"
#include "cmd.h"
#include "ionapi.h"
#include "shipstation.h"
#include "vault.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: mlc creds add cloudsuite|bod --ionapi FILE\n"
    "       mlc creds add shipstation [--v2-key-file FILE] [--v1-key-file FILE]\n"
    "       mlc creds list [--json]\n"
    "       mlc creds rm cloudsuite|bod|shipstation\n"
    "       mlc creds rotate-key\n"
    "\n"
    "Manages the credentials of the profile in its encrypted vault\n"
    "(profile key `vault`, else $STATE_DIR/<profile>.vault).\n"
    "\n"
    "  --ionapi FILE        the .ionapi file downloaded from Infor OS (API Gateway >\n"
    "                       Authorized Apps, a Backend Service with a service account);\n"
    "                       `bod`: the app whose client id is on the IMS connection point\n"
    "                       (receipts.transport: bod), when it is not the profile's own\n"
    "  --v2-key-file FILE   file holding the ShipStation V2 API key\n"
    "  --v1-key-file FILE   file holding the ShipStation V1 \"key:secret\"\n"
    "  --json               list: one JSON object per line\n"
    "  -h, --help           this help\n"
    "\n"
    "FILE may be - for stdin. Secrets are never taken from the command line.\n"
    "The vault key comes from MLC_VAULT_KEY, the file named by MLC_VAULT_KEY_FILE,\n"
    "or a prompt on the terminal; rotate-key takes the new key from MLC_VAULT_NEW_KEY,\n"
    "MLC_VAULT_NEW_KEY_FILE or a prompt. A key file of 32+ bytes without blanks\n"
    "(openssl rand -hex 32) is used as is (HKDF); anything else is stretched (scrypt).\n";

#define MAX_SECRET_FILE (1u << 20)

/* Reads a whole file ("-" = stdin), at most max bytes. */
static mlc_err slurp(const char *path, size_t max, char **out, size_t *outlen, mlc_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    mlc_err rc = MLC_OK;
    while (buf) {
        if (len + 1 >= cap) {
            if (cap > max + 1) {
                rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: larger than %zu bytes", path, max);
                break;
            }
            char *nb = malloc(cap * 2);
            if (!nb) {
                OPENSSL_cleanse(buf, cap);
                free(buf);
                buf = NULL;
                break;
            }
            memcpy(nb, buf, len);
            OPENSSL_cleanse(buf, cap);
            free(buf);
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - 1 - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (!buf)
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    else if (!rc && ferror(f))
        rc = mlc_error_set(err, MLC_ERR_IO, "%s: read error", path);
    if (f != stdin)
        fclose(f);
    if (rc) {
        if (buf) {
            OPENSSL_cleanse(buf, cap);
            free(buf);
        }
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return MLC_OK;
}

static void wipe(char *s, size_t n)
{
    if (s) {
        OPENSSL_cleanse(s, n);
        free(s);
    }
}

/* Trims whitespace in place; returns s. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int single_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static void iso_time(long long t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Opens the profile vault for writing; a new vault asks twice on a terminal. */
static mlc_err open_vault_rw(const mlc_config *cfg, mlc_log *log, mlc_vault **out, mlc_error *err)
{
    char *path = mlc_vault_path(cfg);
    if (!path)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    struct stat st;
    int exists = stat(path, &st) == 0;
    char *pass = NULL;
    int kdf = MLC_VAULT_KDF_SCRYPT;
    mlc_err rc = mlc_vault_key("MLC_VAULT_KEY", "MLC_VAULT_KEY_FILE", 1, !exists, &pass, &kdf, err);
    if (rc == MLC_OK) {
        rc = mlc_vault_open_kdf(path, pass, kdf, 1, log, out, err);
        mlc_vault_passphrase_free(pass);
    } else {
        mlc_error_prefix(err, "vault %s", path);
    }
    free(path);
    return rc;
}

static mlc_err save_new_entry(mlc_vault *v, const char *name, cJSON *entry, mlc_error *err)
{
    mlc_err rc = mlc_vault_lock(v, 30, err);
    if (rc) {
        cJSON_Delete(entry);
        return rc;
    }
    rc = mlc_vault_reload(v, err);
    if (rc == MLC_OK)
        rc = mlc_vault_set(v, name, entry, err);
    else
        cJSON_Delete(entry);
    if (rc == MLC_OK)
        rc = mlc_vault_save(v, err);
    mlc_vault_unlock(v);
    return rc;
}

/* vault entry of an ION credential set: "cloudsuite" or "bod" (the connection point's app) */
static const char *ion_entry(const char *what)
{
    return !strcmp(what, "bod") ? MLC_IONAPI_BOD_ENTRY : MLC_IONAPI_VAULT_ENTRY;
}

static int add_cloudsuite(mlc_ctx *ctx, const mlc_config *cfg, const char *file, const char *what)
{
    mlc_error err = {0};
    mlc_log *log = mlc_ctx_log(ctx);
    char *text = NULL;
    size_t len = 0;
    mlc_err rc = slurp(file, MLC_IONAPI_MAX_FILE, &text, &len, &err);
    if (rc)
        return cmd_fail(ctx, &err);
    mlc_ionapi *ion = NULL;
    rc = mlc_ionapi_parse(text, len, strcmp(file, "-") ? file : "(stdin)", &ion, &err);
    wipe(text, len + 1);
    if (rc)
        return cmd_fail(ctx, &err);
    mlc_ionapi_register_secrets(ion, log);
    if (!mlc_ionapi_has_service_account(ion))
        mlc_log_warn(log, "%s has no service account keys (saak/sask): mlc cannot log in with it; "
                          "download the credentials of a Backend Service with \"Create Service "
                          "Account\" ticked",
                     file);
    rc = mlc_http_check_url(mlc_ionapi_api_base(ion), &err);
    if (!rc)
        rc = mlc_http_check_url(mlc_ionapi_token_url(ion), &err);
    mlc_vault *v = NULL;
    if (!rc)
        rc = open_vault_rw(cfg, log, &v, &err);
    if (!rc) {
        cJSON *entry = cJSON_CreateObject();
        cJSON *j = mlc_ionapi_to_json(ion);
        char when[32];
        iso_time((long long)time(NULL), when, sizeof when);
        if (!entry || !j) {
            cJSON_Delete(entry);
            cJSON_Delete(j);
            rc = mlc_error_set(&err, MLC_ERR_NOMEM, "out of memory");
        } else {
            cJSON_AddItemToObject(entry, "ionapi", j);
            cJSON_AddStringToObject(entry, "added_at", when);
            rc = save_new_entry(v, ion_entry(what), entry, &err);
        }
    }
    if (!rc) {
        mlc_log_info(log, "%s credentials for tenant %s stored in %s", what, mlc_ionapi_tenant(ion),
                     mlc_vault_file(v));
        struct stat st;
        if (strcmp(file, "-") != 0 && stat(file, &st) == 0 && (st.st_mode & 077))
            mlc_log_warn(log, "%s is readable by others; now that it is in the vault, delete it "
                              "or chmod 600 it",
                         file);
    }
    mlc_vault_free(v);
    mlc_ionapi_free(ion);
    return rc ? cmd_fail(ctx, &err) : 0;
}

static mlc_err read_key(const char *file, int v1, char **key, char **secret, mlc_error *err)
{
    char *text = NULL;
    size_t len = 0;
    mlc_err rc = slurp(file, 64 * 1024, &text, &len, err);
    if (rc)
        return rc;
    const char *name = strcmp(file, "-") ? file : "(stdin)";
    char *t = trim(text);
    if (memchr(text, '\0', len) != text + strlen(text) && strlen(text) != len)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: binary data, not a key", name);
    else if (!*t)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: empty", name);
    else if (!single_line(t))
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: expected a single line", name);
    if (!rc && v1) {
        char *colon = strchr(t, ':');
        if (!colon || colon == t || !colon[1])
            rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s: expected \"key:secret\" (ShipStation V1)",
                               name);
        else {
            *key = strndup(t, (size_t)(colon - t));
            *secret = strdup(colon + 1);
        }
    } else if (!rc) {
        *key = strdup(t);
    }
    wipe(text, len + 1);
    return rc;
}

static void set_str(cJSON *o, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddStringToObject(o, k, v);
}

static int add_shipstation(mlc_ctx *ctx, const mlc_config *cfg, const char *v2file,
                           const char *v1file)
{
    mlc_error err = {0};
    mlc_log *log = mlc_ctx_log(ctx);
    char *v2 = NULL, *v1k = NULL, *v1s = NULL;
    mlc_err rc = MLC_OK;
    if (v2file)
        rc = read_key(v2file, 0, &v2, NULL, &err);
    if (!rc && v1file)
        rc = read_key(v1file, 1, &v1k, &v1s, &err);
    mlc_log_secret(log, v2);
    mlc_log_secret(log, v1k);
    mlc_log_secret(log, v1s);
    mlc_vault *v = NULL;
    if (!rc)
        rc = open_vault_rw(cfg, log, &v, &err);
    if (!rc)
        rc = mlc_vault_lock(v, 30, &err);
    if (!rc) {
        rc = mlc_vault_reload(v, &err);
        const cJSON *old = rc ? NULL : mlc_vault_get(v, MLC_SS_VAULT_ENTRY);
        cJSON *e = old ? cJSON_Duplicate(old, 1) : cJSON_CreateObject();
        char when[32];
        iso_time((long long)time(NULL), when, sizeof when);
        if (!rc && !e)
            rc = mlc_error_set(&err, MLC_ERR_NOMEM, "out of memory");
        if (!rc) {
            if (v2)
                set_str(e, "v2_key", v2);
            if (v1k) {
                set_str(e, "v1_key", v1k);
                set_str(e, "v1_secret", v1s);
            }
            set_str(e, "added_at", when);
            rc = mlc_vault_set(v, MLC_SS_VAULT_ENTRY, e, &err);
            if (!rc)
                rc = mlc_vault_save(v, &err);
        } else {
            cJSON_Delete(e);
        }
        mlc_vault_unlock(v);
    }
    if (!rc)
        mlc_log_info(log, "shipstation credentials (%s%s%s) stored in %s", v2 ? "V2" : "",
                     v2 && v1k ? ", " : "", v1k ? "V1" : "", mlc_vault_file(v));
    if (v2)
        wipe(v2, strlen(v2));
    if (v1k)
        wipe(v1k, strlen(v1k));
    if (v1s)
        wipe(v1s, strlen(v1s));
    mlc_vault_free(v);
    return rc ? cmd_fail(ctx, &err) : 0;
}

static void fp8(const char *s, char out[9])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)s, strlen(s), md);
    for (int i = 0; i < 4; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void emit(int json, cJSON *o)
{
    if (json) {
        char *s = cJSON_PrintUnformatted(o);
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
        printf("%-12s %-8s", name->valuestring,
               cJSON_IsString(src) ? (strcmp(src->valuestring, "vault") == 0 ? "vault" : "file")
                                   : "-");
        const cJSON *c;
        cJSON_ArrayForEach(c, o)
        {
            if (!strcmp(c->string, "kind") || !strcmp(c->string, "name") ||
                !strcmp(c->string, "source"))
                continue;
            if (cJSON_IsString(c))
                printf(" %s=%s", c->string, c->valuestring);
            else if (cJSON_IsNumber(c))
                printf(" %s=%lld", c->string, (long long)c->valuedouble);
            else if (cJSON_IsBool(c))
                printf(" %s=%s", c->string, cJSON_IsTrue(c) ? "yes" : "no");
        }
        if (cJSON_IsString(src) && strcmp(src->valuestring, "vault") != 0)
            printf(" file=%s", src->valuestring);
        printf("\n");
    }
}

static int list(mlc_ctx *ctx, const mlc_config *cfg, int json)
{
    mlc_error err = {0};
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_vault *v = NULL;
    mlc_err rc = mlc_vault_open_profile(cfg, log, MLC_VAULT_PROMPT, &v, &err);
    if (rc && rc != MLC_ERR_NOTFOUND)
        return cmd_fail(ctx, &err);
    int shown = 0;

    /* cloudsuite */
    mlc_ionapi *ion = NULL;
    char *src = NULL;
    mlc_error ierr = {0};
    if (mlc_ionapi_resolve(cfg, v, &ion, &src, &ierr) == MLC_OK) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", "credential");
        cJSON_AddStringToObject(o, "name", "cloudsuite");
        cJSON_AddStringToObject(o, "source", src);
        cJSON_AddStringToObject(o, "tenant", mlc_ionapi_tenant(ion));
        cJSON_AddStringToObject(o, "fingerprint", mlc_ionapi_fingerprint(ion));
        cJSON_AddBoolToObject(o, "service_account", mlc_ionapi_has_service_account(ion));
        const cJSON *t = v ? mlc_vault_get(v, MLC_IONAPI_TOKEN_ENTRY) : NULL;
        const cJSON *tfp = cJSON_GetObjectItemCaseSensitive(t, "fingerprint");
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(t, "expires_at");
        if (cJSON_IsString(tfp) && !strcmp(tfp->valuestring, mlc_ionapi_fingerprint(ion)) &&
            cJSON_IsNumber(ex)) {
            char when[32];
            iso_time((long long)ex->valuedouble, when, sizeof when);
            cJSON_AddStringToObject(o, "token_expires", when);
            cJSON_AddBoolToObject(o, "token_valid", (long long)ex->valuedouble > (long long)time(NULL));
        } else {
            cJSON_AddStringToObject(o, "token_expires", "none");
        }
        emit(json, o);
        cJSON_Delete(o);
        shown++;
    } else if (v && mlc_vault_get(v, MLC_IONAPI_VAULT_ENTRY)) {
        mlc_log_warn(log, "%s", ierr.msg);
    }
    mlc_ionapi_free(ion);
    free(src);

    /* shipstation */
    const cJSON *e = v ? mlc_vault_get(v, MLC_SS_VAULT_ENTRY) : NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "credential");
    cJSON_AddStringToObject(o, "name", "shipstation");
    int have = 0;
    const cJSON *k2 = cJSON_GetObjectItemCaseSensitive(e, "v2_key");
    const cJSON *k1 = cJSON_GetObjectItemCaseSensitive(e, "v1_key");
    const cJSON *s1 = cJSON_GetObjectItemCaseSensitive(e, "v1_secret");
    if (e && (cJSON_IsString(k2) || cJSON_IsString(k1))) {
        cJSON_AddStringToObject(o, "source", "vault");
        char fp[9];
        if (cJSON_IsString(k2)) {
            fp8(k2->valuestring, fp);
            cJSON_AddStringToObject(o, "v2_key", fp);
        }
        if (cJSON_IsString(k1) && cJSON_IsString(s1)) {
            size_t n = strlen(k1->valuestring) + strlen(s1->valuestring) + 2;
            char *up = malloc(n);
            if (up) {
                snprintf(up, n, "%s:%s", k1->valuestring, s1->valuestring);
                fp8(up, fp);
                wipe(up, n);
                cJSON_AddStringToObject(o, "v1_key", fp);
            }
        }
        have = 1;
    } else {
        char *p2 = mlc_config_file(cfg, "shipstation.api_key_file");
        char *p1 = mlc_config_file(cfg, "shipstation.v1_key_file");
        if (p2 || p1) {
            cJSON_AddStringToObject(o, "source", p2 ? p2 : p1);
            if (p2)
                cJSON_AddStringToObject(o, "v2_key_file", p2);
            if (p1)
                cJSON_AddStringToObject(o, "v1_key_file", p1);
            have = 1;
        }
        free(p2);
        free(p1);
    }
    if (have) {
        emit(json, o);
        shown++;
    }
    cJSON_Delete(o);
    if (!shown && !json)
        fprintf(stderr, "mlc creds: no credentials for profile %s (see mlc creds add)\n",
                mlc_config_profile(cfg));
    mlc_vault_free(v);
    return 0;
}

static int rm(mlc_ctx *ctx, const mlc_config *cfg, const char *what)
{
    mlc_error err = {0};
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_vault *v = NULL;
    mlc_err rc = mlc_vault_open_profile(cfg, log, MLC_VAULT_PROMPT, &v, &err);
    if (rc == MLC_ERR_NOTFOUND) {
        mlc_log_error(log, "no vault for profile %s: nothing to remove", mlc_config_profile(cfg));
        return MLC_EXIT_FAILED;
    }
    if (rc)
        return cmd_fail(ctx, &err);
    rc = mlc_vault_lock(v, 30, &err);
    if (!rc)
        rc = mlc_vault_reload(v, &err);
    if (!rc && (strcmp(what, "cloudsuite") == 0 || strcmp(what, "bod") == 0)) {
        const cJSON *e = mlc_vault_get(v, ion_entry(what));
        if (!e) {
            rc = mlc_error_set(&err, MLC_ERR_NOTFOUND, "no %s credentials in %s", what,
                               mlc_vault_file(v));
        } else {
            mlc_ionapi *ion = NULL;
            mlc_error ierr = {0};
            const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "ionapi");
            if (mlc_ionapi_from_json(inner ? inner : e, "vault entry", &ion, &ierr) == MLC_OK) {
                mlc_http *http = NULL;
                mlc_http_opts ho = {.timeout_s = (long)mlc_config_int(cfg, "cloudsuite.timeout"),
                                    .max_attempts = 2, .log = log, .trace = mlc_ctx_trace(ctx)};
                if (mlc_http_new(&ho, &http, &ierr) == MLC_OK) {
                    mlc_ionapi_attach(ion, http, v, log, 0);
                    if (mlc_ionapi_revoke(ion, &ierr) != MLC_OK)
                        mlc_log_warn(log, "token not revoked (%s); it expires on its own",
                                     ierr.msg);
                }
                mlc_http_free(http);
                mlc_ionapi_free(ion);
            }
            mlc_vault_remove(v, strcmp(what, "bod") ? MLC_IONAPI_TOKEN_ENTRY : MLC_IONAPI_BOD_TOKEN_ENTRY, NULL);
            mlc_vault_remove(v, ion_entry(what), NULL);
            rc = mlc_vault_save(v, &err);
        }
    } else if (!rc) {
        rc = mlc_vault_remove(v, MLC_SS_VAULT_ENTRY, &err);
        if (!rc)
            rc = mlc_vault_save(v, &err);
    }
    mlc_vault_unlock(v);
    if (!rc)
        mlc_log_info(log, "%s credentials removed from %s", what, mlc_vault_file(v));
    mlc_vault_free(v);
    return rc ? cmd_fail(ctx, &err) : 0;
}

static int rotate(mlc_ctx *ctx, const mlc_config *cfg)
{
    mlc_error err = {0};
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_vault *v = NULL;
    mlc_err rc = mlc_vault_open_profile(cfg, log, MLC_VAULT_PROMPT, &v, &err);
    if (rc)
        return cmd_fail(ctx, &err);
    char *np = NULL;
    int kdf = MLC_VAULT_KDF_SCRYPT;
    rc = mlc_vault_key("MLC_VAULT_NEW_KEY", "MLC_VAULT_NEW_KEY_FILE", 1, 1, &np, &kdf, &err);
    if (!rc)
        rc = mlc_vault_rekey(v, np, kdf, &err);
    mlc_vault_passphrase_free(np);
    if (!rc)
        mlc_log_info(log, "vault %s re-encrypted under the new key (%s)", mlc_vault_file(v),
                     mlc_vault_kdf(v) == MLC_VAULT_KDF_HKDF ? "key file, HKDF-SHA256"
                                                            : "passphrase, scrypt");
    mlc_vault_free(v);
    return rc ? cmd_fail(ctx, &err) : 0;
}

int cmd_creds(int argc, char **argv, mlc_ctx *ctx)
{
    static const struct option opts[] = {
        {"ionapi", required_argument, 0, 'i'},  {"v2-key-file", required_argument, 0, '2'},
        {"v1-key-file", required_argument, 0, '1'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *ionapi = NULL, *v2 = NULL, *v1 = NULL;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    /* GNU getopt permutes: options may come before or after the action words */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': ionapi = optarg; break;
        case '2': v2 = optarg; break;
        case '1': v1 = optarg; break;
        case 'j': json = 1; break;
        case 'h': return cmd_help(usage);
        default:
            return cmd_usage_error(usage, "unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
    }
    int nwords = argc - optind;
    if (nwords > 2)
        return cmd_usage_error(usage, "too many arguments");
    const char *words[2] = {nwords > 0 ? argv[optind] : NULL, nwords > 1 ? argv[optind + 1] : NULL};
    if (nwords == 0)
        return cmd_usage_error(usage, "missing action (add, list, rm, rotate-key)");
    const mlc_config *cfg = NULL;
    mlc_error err = {0};
    const char *act = words[0], *what = words[1];
    if (strcmp(act, "add") && strcmp(act, "list") && strcmp(act, "rm") &&
        strcmp(act, "rotate-key"))
        return cmd_usage_error(usage, "unknown action '%s'", act);
    if ((!strcmp(act, "add") || !strcmp(act, "rm")) &&
        (!what || (strcmp(what, "cloudsuite") && strcmp(what, "bod") && strcmp(what, "shipstation"))))
        return cmd_usage_error(usage, "%s needs cloudsuite, bod or shipstation", act);
    if ((!strcmp(act, "list") || !strcmp(act, "rotate-key")) && what)
        return cmd_usage_error(usage, "%s takes no further arguments", act);
    if (ionapi && (strcmp(act, "add") || (strcmp(what, "cloudsuite") && strcmp(what, "bod"))))
        return cmd_usage_error(usage, "--ionapi goes with `add cloudsuite` or `add bod`");
    if ((v1 || v2) && (strcmp(act, "add") || strcmp(what, "shipstation")))
        return cmd_usage_error(usage, "--v2-key-file/--v1-key-file go with `add shipstation`");
    if (json && strcmp(act, "list"))
        return cmd_usage_error(usage, "--json goes with list");
    if (v1 && v2 && !strcmp(v1, "-") && !strcmp(v2, "-"))
        return cmd_usage_error(usage, "only one key can come from stdin");
    if (!strcmp(act, "add") && (!strcmp(what, "cloudsuite") || !strcmp(what, "bod")) && !ionapi)
        return cmd_usage_error(usage, "add %s needs --ionapi FILE", what);
    if (!strcmp(act, "add") && !strcmp(what, "shipstation") && !v1 && !v2)
        return cmd_usage_error(usage, "add shipstation needs --v2-key-file and/or --v1-key-file");
    if (mlc_ctx_config(ctx, &cfg, &err) != MLC_OK)
        return cmd_fail(ctx, &err);
    if (!strcmp(act, "add"))
        return strcmp(what, "shipstation") ? add_cloudsuite(ctx, cfg, ionapi, what)
                                           : add_shipstation(ctx, cfg, v2, v1);
    if (!strcmp(act, "list"))
        return list(ctx, cfg, json);
    if (!strcmp(act, "rm"))
        return rm(ctx, cfg, what);
    return rotate(ctx, cfg);
}
