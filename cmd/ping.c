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
 * Not here: the checks themselves (lib/ping), any write.
 */
#include "builtin.h"
#include "cmd.h"
#include "ping.h"
#include "run.h"
#include "vault.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Prints one result and deletes it: a record (cmd/run) with --json, else a line. */
static void emit(cmd_run *r, int json, cJSON *o)
{
    if (!o)
        return;
    if (json) {
        cmd_run_emit(r, o);
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
    cJSON_Delete(o);
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
    cmd_run r;
    if (cmd_run_begin(&r, ctx, "ping")) {
        mlc_vault_free(vault);
        return MLC_EXIT_OSERR;
    }
    cJSON *o = NULL;
    mlc_err a = mlc_ping_cloudsuite(ctx, vault, &o);
    emit(&r, json, o);
    if (!strcmp(mlc_config_str(cfg, "receipts.transport"), "bod")) {
        mlc_err i = mlc_ping_ims(ctx, vault, &o);
        emit(&r, json, o);
        if (i && (!a || mlc_ping_is_config_error(i)))
            a = i;
    }
    mlc_err b = mlc_ping_shipstation(ctx, vault, &o);
    for (cJSON *x = o ? o->child : NULL; x; x = o->child)
        emit(&r, json, cJSON_DetachItemViaPointer(o, x));
    cJSON_Delete(o);
    mlc_vault_free(vault);
    /* a failed check ends the run: credentials or configuration first (78), else
     * the system is unreachable or failing (69), as mlc-ping(1) says */
    if (mlc_ping_is_config_error(a) || mlc_ping_is_config_error(b))
        mlc_outcome_stop(&r.out, MLC_ERR_CONFIG);
    else if (a || b)
        mlc_outcome_stop(&r.out, MLC_ERR_UNAVAILABLE);
    return cmd_run_end(&r);
}
