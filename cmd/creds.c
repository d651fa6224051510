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
 * Not here: the vault format (lib/vault), .ionapi parsing, its vault entry and
 * tokens (lib/ionapi), ShipStation key files and their vault entry (lib/sscreds),
 * reading secret files (lib/secret).
 */
#include "builtin.h"
#include "cmd.h"
#include "ionapi.h"
#include "run.h"
#include "secret.h"
#include "sscreds.h"
#include "vault.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static int add_cloudsuite(mlc_ctx *ctx, const mlc_config *cfg, const char *file, const char *what)
{
    mlc_error err = {0};
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_ionapi *ion = NULL;
    mlc_vault *v = NULL;
    mlc_err rc = mlc_ionapi_read(file, MLC_SECRET_STDIN, &ion, &err);
    if (rc)
        return cmd_fail(ctx, &err);
    mlc_ionapi_register_secrets(ion, log);
    if (!mlc_ionapi_has_service_account(ion))
        mlc_log_warn(log, "%s has no service account keys (saak/sask): mlc cannot log in with it; "
                          "download the credentials of a Backend Service with \"Create Service "
                          "Account\" ticked",
                     file);
    rc = mlc_ionapi_check_urls(ion, &err);
    if (!rc)
        rc = mlc_vault_open_for_update(cfg, log, &v, &err);
    if (!rc)
        rc = mlc_ionapi_store(ion, v, !strcmp(what, "bod"), &err);
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

static int add_shipstation(mlc_ctx *ctx, const mlc_config *cfg, const char *v2file,
                           const char *v1file)
{
    mlc_error err = {0};
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_sscreds c = {0};
    mlc_vault *v = NULL;
    mlc_err rc = MLC_OK;
    if (v2file)
        rc = mlc_sscreds_read_key(v2file, 0, MLC_SECRET_STDIN, &c, &err);
    if (!rc && v1file)
        rc = mlc_sscreds_read_key(v1file, 1, MLC_SECRET_STDIN, &c, &err);
    mlc_log_secret(log, c.v2_key);
    mlc_log_secret(log, c.v1_key);
    mlc_log_secret(log, c.v1_secret);
    if (!rc)
        rc = mlc_vault_open_for_update(cfg, log, &v, &err);
    if (!rc)
        rc = mlc_sscreds_store(v, &c, &err);
    if (!rc)
        mlc_log_info(log, "shipstation credentials (%s%s%s) stored in %s", c.v2_key ? "V2" : "",
                     c.v2_key && c.v1_key ? ", " : "", c.v1_key ? "V1" : "", mlc_vault_file(v));
    mlc_sscreds_clear(&c);
    mlc_vault_free(v);
    return rc ? cmd_fail(ctx, &err) : 0;
}

/* One description: a record (cmd/run; o stays the caller's) with --json, else a line. */
static void emit(cmd_run *r, int json, const cJSON *o)
{
    if (json) {
        cmd_run_emit(r, cJSON_CreateObjectReference(o->child));
        return;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
    int vault = cJSON_IsString(src) && strcmp(src->valuestring, "vault") == 0;
    printf("%-12s %-8s", name->valuestring, cJSON_IsString(src) ? (vault ? "vault" : "file") : "-");
    const cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        if (!strcmp(c->string, "kind") || !strcmp(c->string, "name") || !strcmp(c->string, "source"))
            continue;
        if (cJSON_IsString(c))
            printf(" %s=%s", c->string, c->valuestring);
        else if (cJSON_IsNumber(c))
            printf(" %s=%lld", c->string, (long long)c->valuedouble);
        else if (cJSON_IsBool(c))
            printf(" %s=%s", c->string, cJSON_IsTrue(c) ? "yes" : "no");
    }
    if (cJSON_IsString(src) && !vault)
        printf(" file=%s", src->valuestring);
    printf("\n");
}

/* Prints what the profile has (never a secret); the exit code. */
static int list(mlc_ctx *ctx, const mlc_config *cfg, mlc_vault *v, int json)
{
    cmd_run r;
    if (cmd_run_begin(&r, ctx, "creds"))
        return MLC_EXIT_OSERR;
    cJSON *o[2] = {mlc_ionapi_describe_profile(cfg, v, r.log), mlc_sscreds_describe(cfg, v)};
    for (int i = 0; i < 2; i++)
        if (o[i])
            emit(&r, json, o[i]);
    if (!o[0] && !o[1] && !json)
        fprintf(stderr, "mlc creds: no credentials for profile %s (see mlc creds add)\n",
                mlc_config_profile(cfg));
    cJSON_Delete(o[0]);
    cJSON_Delete(o[1]);
    return cmd_run_end(&r);
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
    int add = !strcmp(act, "add"), rm_ = !strcmp(act, "rm"), list_ = !strcmp(act, "list");
    int ion = what && (!strcmp(what, "cloudsuite") || !strcmp(what, "bod"));
    int ss = what && !strcmp(what, "shipstation");
    if (!add && !rm_ && !list_ && strcmp(act, "rotate-key"))
        return cmd_usage_error(usage, "unknown action '%s'", act);
    if ((add || rm_) && !ion && !ss)
        return cmd_usage_error(usage, "%s needs cloudsuite, bod or shipstation", act);
    if (!add && !rm_ && what)
        return cmd_usage_error(usage, "%s takes no further arguments", act);
    if (ionapi && !(add && ion))
        return cmd_usage_error(usage, "--ionapi goes with `add cloudsuite` or `add bod`");
    if ((v1 || v2) && !(add && ss))
        return cmd_usage_error(usage, "--v2-key-file/--v1-key-file go with `add shipstation`");
    if (json && !list_)
        return cmd_usage_error(usage, "--json goes with list");
    if (v1 && v2 && !strcmp(v1, "-") && !strcmp(v2, "-"))
        return cmd_usage_error(usage, "only one key can come from stdin");
    if (add && ion && !ionapi)
        return cmd_usage_error(usage, "add %s needs --ionapi FILE", what);
    if (add && ss && !v1 && !v2)
        return cmd_usage_error(usage, "add shipstation needs --v2-key-file and/or --v1-key-file");
    if (mlc_ctx_config(ctx, &cfg, &err) != MLC_OK)
        return cmd_fail(ctx, &err);
    if (add)
        return ss ? add_shipstation(ctx, cfg, v2, v1) : add_cloudsuite(ctx, cfg, ionapi, what);
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_vault *v = NULL;
    mlc_err rc = mlc_vault_open_profile(cfg, log, MLC_VAULT_PROMPT, &v, &err);
    if (rc == MLC_ERR_NOTFOUND && rm_) /* exit 1, as for a record not found */
        mlc_error_set(&err, rc, "no vault for profile %s: nothing to remove", mlc_config_profile(cfg));
    if (rc && !(rc == MLC_ERR_NOTFOUND && list_))
        return cmd_fail(ctx, &err);
    if (list_) {
        int code = list(ctx, cfg, v, json);
        mlc_vault_free(v);
        return code;
    }
    if (rm_ && ss) {
        rc = mlc_sscreds_remove(v, &err);
    } else if (rm_) {
        mlc_http_opts ho = {.timeout_s = (long)mlc_config_int(cfg, "cloudsuite.timeout"),
                            .max_attempts = 2, .log = log, .trace = mlc_ctx_trace(ctx)};
        rc = mlc_ionapi_remove(v, !strcmp(what, "bod"), &ho, log, &err);
    } else {
        rc = mlc_vault_rotate(v, &err);
    }
    if (!rc && rm_)
        mlc_log_info(log, "%s credentials removed from %s", what, mlc_vault_file(v));
    else if (!rc)
        mlc_log_info(log, "vault %s re-encrypted under the new key (%s)", mlc_vault_file(v),
                     mlc_vault_kdf(v) == MLC_VAULT_KDF_HKDF ? "key file, HKDF-SHA256"
                                                            : "passphrase, scrypt");
    mlc_vault_free(v);
    return rc ? cmd_fail(ctx, &err) : 0;
}
