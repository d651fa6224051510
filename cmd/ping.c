/*
 * ping.c: `mlc ping`: authenticate to CloudSuite and ShipStation and make one
 * cheap read on each (M3 cloudsuite.programs.ping, default GENERAL/GetUserInfo;
 * ShipStation V2 GET /v2/shipments?page_size=1, V1 GET /orders?pageSize=1).
 * Prints per system ok/FAIL, latency, tenant and company, token expiry and
 * rate-limit headroom; --json writes one JSON object per system.
 * With receipts.transport: bod, also the ION Messaging Service: GET service/ping
 * and the connection point's acceptedDocuments, which must list the documents
 * the profile sends (otherwise a configuration failure naming what is missing).
 * Exit 0 only if every system is ok; 78 if a failure is about credentials or
 * configuration, else 69.
 * Not here: any write, any retry policy beyond lib/http's.
 */
#include "bod.h"
#include "builtin.h"
#include "cmd.h"
#include "ims.h"
#include "m3.h"
#include "shipstation.h"
#include "vault.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: mlc ping [--json]\n"
    "\n"
    "Logs in to CloudSuite (ION API) and ShipStation with the profile's credentials and\n"
    "makes one cheap read on each. Prints, per system: ok or FAIL, latency, tenant and\n"
    "company (CONO), token expiry, rate-limit headroom. With receipts.transport: bod,\n"
    "also the ION Messaging Service (system ion-ims): ping, and the connection point's\n"
    "accepted documents, which must include the documents the profile sends.\n"
    "\n"
    "  --json       one JSON object per system on stdout\n"
    "  -h, --help   this help\n"
    "\n"
    "Exit status: 0 all ok; 78 credentials or configuration wrong; 69 a system is\n"
    "unreachable or failing.\n";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void iso_time(long long t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int is_config_error(mlc_err e)
{
    return e == MLC_ERR_AUTH || e == MLC_ERR_CONFIG || e == MLC_ERR_CRYPTO || e == MLC_ERR_INPUT;
}

static void emit(int json, cJSON *o)
{
    if (json) {
        char *s = cJSON_PrintUnformatted(o);
        if (s)
            printf("%s\n", s);
        free(s);
        return;
    }
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(o, "system");
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(o, "latency_ms");
    printf("%-14s %-4s", sys->valuestring, cJSON_IsTrue(ok) ? "ok" : "FAIL");
    if (cJSON_IsNumber(lat))
        printf(" %6.0f ms", lat->valuedouble);
    const cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        if (!strcmp(c->string, "kind") || !strcmp(c->string, "system") ||
            !strcmp(c->string, "ok") || !strcmp(c->string, "latency_ms") ||
            !strcmp(c->string, "error"))
            continue;
        if (cJSON_IsString(c))
            printf("  %s=%s", c->string, c->valuestring);
        else if (cJSON_IsNumber(c))
            printf("  %s=%.0f", c->string, c->valuedouble);
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (cJSON_IsString(e))
        printf("  error: %s", e->valuestring);
    printf("\n");
}

static cJSON *result_obj(const char *system)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "ping");
    cJSON_AddStringToObject(o, "system", system);
    return o;
}

static void set_fail(cJSON *o, const mlc_error *err, mlc_log *log)
{
    char msg[MLC_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg[0] ? err->msg : mlc_err_name(err->code));
    mlc_log_redact(log, msg);
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "error_kind", mlc_err_name(err->code));
    cJSON_AddStringToObject(o, "error", msg);
}

/* Returns MLC_OK or the failure's code. */
static mlc_err ping_cloudsuite(mlc_ctx *ctx, const mlc_config *cfg, mlc_vault *vault, int json)
{
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_error err = {0};
    cJSON *o = result_obj("cloudsuite");
    mlc_m3 *m3 = NULL;
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_new(ctx, vault, &m3, &err);
    if (!rc) {
        mlc_ionapi *ion = mlc_m3_ionapi(m3);
        cJSON_AddStringToObject(o, "tenant", mlc_ionapi_tenant(ion));
        const char *hdr = NULL;
        double t0 = now_ms();
        rc = mlc_ionapi_authorization(ion, &hdr, &err);
        double t1 = now_ms();
        cJSON_AddNumberToObject(o, "auth_ms", (double)(long long)(t1 - t0 + 0.5));
        if (!rc) {
            const char *prog = mlc_config_str(cfg, "cloudsuite.programs.ping");
            if (!prog || !*prog)
                prog = "GENERAL/GetUserInfo";
            cJSON_AddStringToObject(o, "program", prog);
            rc = mlc_m3_execute(m3, prog, NULL, 0, 1, &r, &err);
            double t2 = now_ms();
            cJSON_AddNumberToObject(o, "latency_ms", (double)(long long)(t2 - t1 + 0.5));
        }
        if (!rc) {
            long long cono = mlc_m3_cono(m3);
            const char *ucono = mlc_m3_result_get(r, 0, "ZDCONO");
            if (!ucono)
                ucono = mlc_m3_result_get(r, 0, "CONO");
            if (cono > 0) {
                char b[24];
                snprintf(b, sizeof b, "%lld", cono);
                cJSON_AddStringToObject(o, "cono", b);
            } else if (ucono && *ucono) {
                cJSON_AddStringToObject(o, "cono", ucono);
            }
            const char *user = mlc_m3_result_get(r, 0, "ZZUSID");
            if (!user)
                user = mlc_m3_result_get(r, 0, "USID");
            if (user && *user)
                cJSON_AddStringToObject(o, "user", user);
            if (*mlc_m3_divi(m3))
                cJSON_AddStringToObject(o, "divi", mlc_m3_divi(m3));
        }
        long long exp = mlc_ionapi_token_expiry(ion);
        if (exp > 0) {
            char when[32];
            iso_time(exp, when, sizeof when);
            cJSON_AddStringToObject(o, "token_expires", when);
            cJSON_AddNumberToObject(o, "token_ttl_s", (double)(exp - (long long)time(NULL)));
        }
        cJSON_AddNumberToObject(o, "logins", mlc_ionapi_login_count(ion));
    }
    if (rc)
        set_fail(o, &err, log);
    else
        cJSON_AddBoolToObject(o, "ok", 1);
    /* keep "ok" near the front for the text form: emit handles order */
    emit(json, o);
    cJSON_Delete(o);
    mlc_m3_result_free(r);
    mlc_m3_free(m3);
    return rc;
}

/* receipts.transport: bod: IMS ping + the connection point's accepted documents. */
static mlc_err ping_ims(mlc_ctx *ctx, const mlc_config *cfg, mlc_vault *vault, int json)
{
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_error err = {0};
    cJSON *o = result_obj("ion-ims");
    mlc_m3 *m3 = NULL;
    mlc_ims *ims = NULL;
    char **acc = NULL;
    size_t nacc = 0;
    const char *docs[2] = {mlc_config_str(cfg, "bod.receipt_document"),
                           mlc_config_bool(cfg, "bod.advance_ship_notice") ? mlc_config_str(cfg, "bod.asn_document")
                                                                           : NULL};
    const char *tmpl_keys[2] = {"bod.receipt_template", "bod.asn_template"};
    mlc_err rc = MLC_OK;
    /* the templates must load (well-formed, right root, known placeholders) */
    for (int i = 0; i < 2 && !rc; i++) {
        if (!docs[i])
            continue;
        char *t = mlc_config_file(cfg, tmpl_keys[i]);
        mlc_bod *b = NULL;
        rc = mlc_bod_new(docs[i], t, &b, &err);
        mlc_bod_free(b);
        free(t);
    }
    if (!rc)
        rc = mlc_m3_new(ctx, vault, &m3, &err);
    if (!rc)
        rc = mlc_ims_for_profile(cfg, m3, log, &ims, &err);
    if (!rc) {
        cJSON_AddStringToObject(o, "logical_id", mlc_config_str(cfg, "bod.logical_id"));
        double t0 = now_ms();
        rc = mlc_ims_ping(ims, &err);
        cJSON_AddNumberToObject(o, "latency_ms", (double)(long long)(now_ms() - t0 + 0.5));
    }
    if (!rc)
        rc = mlc_ims_accepted_documents(ims, &acc, &nacc, &err);
    for (int i = 0; i < 2 && !rc; i++) {
        if (docs[i] && !mlc_ims_list_has(acc, nacc, docs[i]))
            rc = mlc_error_set(&err, MLC_ERR_CONFIG,
                               "the connection point %s does not accept %s (ION Desk: add it on the "
                               "connection point's Documents tab, in an active document flow)",
                               mlc_config_str(cfg, "bod.logical_id"), docs[i]);
    }
    if (!rc) {
        char list[256] = "";
        for (int i = 0; i < 2; i++)
            if (docs[i])
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? "," : "", docs[i]);
        cJSON_AddStringToObject(o, "documents", list);
        cJSON_AddBoolToObject(o, "ok", 1);
    } else {
        set_fail(o, &err, log);
    }
    emit(json, o);
    cJSON_Delete(o);
    mlc_ims_list_free(acc, nacc);
    mlc_ims_free(ims);
    mlc_m3_free(m3);
    return rc;
}

static mlc_err ping_ss_version(mlc_ss *ss, mlc_ss_version v, mlc_log *log, int json)
{
    mlc_error err = {0};
    cJSON *o = result_obj(v == MLC_SS_V2 ? "shipstation-v2" : "shipstation-v1");
    cJSON_AddStringToObject(o, "key", mlc_ss_fingerprint(ss, v));
    const char *path = v == MLC_SS_V2 ? "/v2/shipments" : "/orders";
    const char *coll = v == MLC_SS_V2 ? "shipments" : "orders";
    mlc_ss_response resp = {0};
    const cJSON *items = NULL;
    int more = 0;
    double t0 = now_ms();
    mlc_err rc = mlc_ss_list_page(ss, v, path, coll, 1, 1, &resp, &items, &more, &err);
    double t1 = now_ms();
    cJSON_AddNumberToObject(o, "latency_ms", (double)(long long)(t1 - t0 + 0.5));
    const char *lim = mlc_ss_response_header(&resp, "X-Rate-Limit-Limit");
    const char *rem = mlc_ss_response_header(&resp, "X-Rate-Limit-Remaining");
    if (rem) {
        char b[48];
        snprintf(b, sizeof b, "%s%s%s", rem, lim ? "/" : "", lim ? lim : "");
        cJSON_AddStringToObject(o, "rate_remaining", b);
    } else {
        int left = mlc_ss_remaining(ss, v);
        if (left >= 0)
            cJSON_AddNumberToObject(o, "rate_remaining", left);
    }
    if (!rc) {
        int total = -1;
        mlc_ss_page_info(resp.json, NULL, NULL, &total, NULL);
        if (total >= 0)
            cJSON_AddNumberToObject(o, "total", total);
        cJSON_AddBoolToObject(o, "ok", 1);
    } else {
        set_fail(o, &err, log);
    }
    emit(json, o);
    cJSON_Delete(o);
    mlc_ss_response_free(&resp);
    return rc;
}

static mlc_err ping_shipstation(mlc_ctx *ctx, mlc_vault *vault, int json)
{
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_error err = {0};
    mlc_ss *ss = NULL;
    mlc_err rc = mlc_ss_new(ctx, vault, &ss, &err);
    if (rc) {
        cJSON *o = result_obj("shipstation");
        set_fail(o, &err, log);
        emit(json, o);
        cJSON_Delete(o);
        return rc;
    }
    mlc_err worst = MLC_OK;
    mlc_ss_version order[2] = {mlc_ss_preferred(ss),
                               mlc_ss_preferred(ss) == MLC_SS_V2 ? MLC_SS_V1 : MLC_SS_V2};
    for (int i = 0; i < 2; i++) {
        if (!mlc_ss_has(ss, order[i]))
            continue;
        mlc_err r = ping_ss_version(ss, order[i], log, json);
        if (r && (!worst || is_config_error(r)))
            worst = r;
    }
    mlc_ss_free(ss);
    return worst;
}

int cmd_ping(int argc, char **argv, mlc_ctx *ctx)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': return cmd_help(usage);
        default:
            return cmd_usage_error(usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    mlc_error err = {0};
    const mlc_config *cfg = NULL;
    if (mlc_ctx_config(ctx, &cfg, &err) != MLC_OK)
        return cmd_fail(ctx, &err);
    mlc_log *log = mlc_ctx_log(ctx);

    /* one vault for both systems (one prompt at most) */
    mlc_vault *vault = NULL;
    int flags = mlc_vault_key_available() ? MLC_VAULT_CREATE : MLC_VAULT_PROMPT;
    mlc_err vrc = mlc_vault_open_profile(cfg, log, flags, &vault, &err);
    if (vrc && vrc != MLC_ERR_NOTFOUND) {
        if (vrc == MLC_ERR_CONFIG && !mlc_config_str(cfg, "cloudsuite.ionapi") &&
            !mlc_config_str(cfg, "shipstation.api_key_file") &&
            !mlc_config_str(cfg, "shipstation.v1_key_file"))
            return cmd_fail(ctx, &err);
        if (vrc != MLC_ERR_CONFIG)
            return cmd_fail(ctx, &err);
        mlc_log_debug(log, "%s; using the credential files of the config", err.msg);
        vault = NULL;
    }
    mlc_err a = ping_cloudsuite(ctx, cfg, vault, json);
    if (!strcmp(mlc_config_str(cfg, "receipts.transport"), "bod")) {
        mlc_err i = ping_ims(ctx, cfg, vault, json);
        if (i && (!a || is_config_error(i)))
            a = i;
    }
    mlc_err b = ping_shipstation(ctx, vault, json);
    mlc_vault_free(vault);
    if (!a && !b)
        return MLC_EXIT_OK;
    if (is_config_error(a) || is_config_error(b))
        return MLC_EXIT_CONFIG;
    return MLC_EXIT_UNAVAILABLE;
}
