/*
 * ping.c: the checks of `mlc ping` (see ping.h).
 * Not here: printing, exit codes (cmd/ping.c).
 */
#include "ping.h"
#include "bod.h"
#include "dates.h"
#include "ims.h"
#include "m3.h"
#include "shipstation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int mlc_ping_is_config_error(mlc_err e)
{
    return e == MLC_ERR_AUTH || e == MLC_ERR_CONFIG || e == MLC_ERR_CRYPTO || e == MLC_ERR_INPUT;
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
mlc_err mlc_ping_cloudsuite(mlc_ctx *ctx, mlc_vault *vault, cJSON **result)
{
    mlc_log *log = mlc_ctx_log(ctx);
    const mlc_config *cfg = NULL;
    mlc_error err = {0};
    cJSON *o = result_obj("cloudsuite");
    mlc_m3 *m3 = NULL;
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, &err);
    if (!rc)
        rc = mlc_m3_new(ctx, vault, &m3, &err);
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
            mlc_dates_format_rfc3339((time_t)exp, when);
            cJSON_AddStringToObject(o, "token_expires", when);
            cJSON_AddNumberToObject(o, "token_ttl_s", (double)(exp - (long long)time(NULL)));
        }
        cJSON_AddNumberToObject(o, "logins", mlc_ionapi_login_count(ion));
    }
    if (rc)
        set_fail(o, &err, log);
    else
        cJSON_AddBoolToObject(o, "ok", 1);
    *result = o;
    mlc_m3_result_free(r);
    mlc_m3_free(m3);
    return rc;
}

/* receipts.transport: bod: IMS ping + the connection point's accepted documents. */
mlc_err mlc_ping_ims(mlc_ctx *ctx, mlc_vault *vault, cJSON **result)
{
    mlc_log *log = mlc_ctx_log(ctx);
    const mlc_config *cfg = NULL;
    mlc_error cerr = {0};
    if (mlc_ctx_config(ctx, &cfg, &cerr)) {
        *result = result_obj("ion-ims");
        set_fail(*result, &cerr, log);
        return cerr.code;
    }
    mlc_error err = {0};
    cJSON *o = result_obj("ion-ims");
    mlc_m3 *m3 = NULL;
    mlc_ims *ims = NULL;
    char **acc = NULL;
    size_t nacc = 0;
    const char *docs[2] = {mlc_config_str(cfg, "bod.receipt_document"), mlc_config_bool(cfg, "bod.advance_ship_notice")
                                                                            ? mlc_config_str(cfg, "bod.asn_document")
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
    *result = o;
    mlc_ims_list_free(acc, nacc);
    mlc_ims_free(ims);
    mlc_m3_free(m3);
    return rc;
}

static mlc_err ping_ss_version(mlc_ss *ss, mlc_ss_version v, mlc_log *log, cJSON *results)
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
    cJSON_AddItemToArray(results, o);
    mlc_ss_response_free(&resp);
    return rc;
}

mlc_err mlc_ping_shipstation(mlc_ctx *ctx, mlc_vault *vault, cJSON **results)
{
    mlc_log *log = mlc_ctx_log(ctx);
    mlc_error err = {0};
    mlc_ss *ss = NULL;
    *results = cJSON_CreateArray();
    mlc_err rc = mlc_ss_new(ctx, vault, &ss, &err);
    if (rc) {
        cJSON *o = result_obj("shipstation");
        set_fail(o, &err, log);
        cJSON_AddItemToArray(*results, o);
        return rc;
    }
    mlc_err worst = MLC_OK;
    mlc_ss_version order[2] = {mlc_ss_preferred(ss), mlc_ss_preferred(ss) == MLC_SS_V2 ? MLC_SS_V1 : MLC_SS_V2};
    for (int i = 0; i < 2; i++) {
        if (!mlc_ss_has(ss, order[i]))
            continue;
        mlc_err r = ping_ss_version(ss, order[i], log, *results);
        if (r && (!worst || mlc_ping_is_config_error(r)))
            worst = r;
    }
    mlc_ss_free(ss);
    return worst;
}
