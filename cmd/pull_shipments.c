/*
 * pull_shipments.c: `mlc pull-shipments`: emits shipment records for inbound
 * shipments that shipped or were voided since the cursor, from the webhook inbox
 * and from polling (see man/mlc-pull-shipments.1).
 * The cursor (the latest ShipStation change time seen, UTC) advances only after
 * the records are written; each poll re-reads an overlap before it, and records
 * whose content did not change are not emitted again. Records written but not
 * yet in post-receipts' ledger are written again first (redelivery,
 * lib/shipment), so a reader that dies does not lose them.
 * Not here: the API calls and conversions (lib/shipment).
 */
#include "builtin.h"
#include "cmd.h"
#include "dates.h"
#include "run.h"
#include "setup.h"
#include "shipment.h"
#include "shipstation.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: mlc pull-shipments [--since DATE] [--api v1|v2] [--overlap SECONDS] [--no-cursor]\n"
    "                          [--no-webhooks | --webhooks-only] [--no-redeliver]\n"
    "\n"
    "Emits a shipment record (JSON line) for each inbound shipment that shipped or was\n"
    "voided in ShipStation since the last run: first the notifications stored by\n"
    "`mlc webhook serve`, then a poll by change date, so nothing is missed when a webhook\n"
    "is lost. Records carry the PO, the PO lines and the tracking number. Records written\n"
    "before that post-receipts' ledger does not hold yet (its reader died) come first,\n"
    "written again (source \"redeliver\"; shipstation.redeliver_hours).\n"
    "\n"
    "  --since DATE       poll from DATE (YYYY-MM-DD or RFC 3339) instead of the cursor\n"
    "  --api V            v2 or v1 (default: shipstation.api)\n"
    "  --overlap SECONDS  re-read this much before the cursor (default 600)\n"
    "  --no-cursor        neither read nor move the cursor\n"
    "  --no-webhooks      leave the webhook inbox alone\n"
    "  --webhooks-only    only the webhook inbox: no poll, cursor unchanged (for\n"
    "                     webhook serve --on-notify; the cron run polls and\n"
    "                     redelivers)\n"
    "  --no-redeliver     write nothing again this run (what is kept stays kept)\n"
    "  -h, --help         this help\n";

typedef struct pull_run {
    cmd_run run;
} pull_run;

static mlc_err emit(void *ud, cJSON *rec)
{
    pull_run *p = ud;
    if (cmd_run_emit(&p->run, rec))
        return MLC_ERR_PIPE; /* output closed (quiet) or failed (said, and the run's code): stop */
    if (mlc_ctx_stopping(p->run.ctx))
        return MLC_ERR_PIPE; /* stop signal: this record is out; end quietly, cursor unchanged */
    return MLC_OK;
}

int cmd_pull_shipments(int argc, char **argv, mlc_ctx *ctx)
{
    static const struct option longopts[] = {
        {"since", required_argument, 0, 's'}, {"api", required_argument, 0, 'a'},
        {"overlap", required_argument, 0, 'o'}, {"no-cursor", no_argument, 0, 'n'},
        {"no-webhooks", no_argument, 0, 'w'}, {"webhooks-only", no_argument, 0, 'W'},
        {"no-redeliver", no_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *since = NULL, *api = NULL;
    long long overlap = 600;
    int no_cursor = 0, no_webhooks = 0, webhooks_only = 0, no_redeliver = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': since = optarg; break;
        case 'a':
            if (strcmp(optarg, "v1") && strcmp(optarg, "v2"))
                return cmd_usage_error(usage, "--api must be v1 or v2, not '%s'", optarg);
            api = optarg;
            break;
        case 'o':
            if ((overlap = cmd_parse_count(optarg)) < 0)
                return cmd_usage_error(usage, "--overlap needs seconds, not '%s'", optarg);
            break;
        case 'n': no_cursor = 1; break;
        case 'w': no_webhooks = 1; break;
        case 'W': webhooks_only = no_cursor = 1; break;
        case 'R': no_redeliver = 1; break;
        case 'h': return cmd_help(usage);
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    if (optind < argc)
        return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (webhooks_only && (no_webhooks || since))
        return cmd_usage_error(usage, "--webhooks-only excludes --no-webhooks and --since");
    time_t from = 946684800; /* 2000-01-01: the first run reads everything */
    if (since && mlc_dates_parse_day(since, &from))
        return cmd_usage_error(usage, "--since needs YYYY-MM-DD or RFC 3339, not '%s'", since);

    const mlc_config *cfg;
    mlc_store *st;
    mlc_ss *ss = NULL;
    mlc_shipment *sh = NULL;
    mlc_error e;
    pull_run p;
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &st, &e) || mlc_ss_new(ctx, NULL, &ss, &e))
        return cmd_fail(ctx, &e);
    if (cmd_run_begin(&p.run, ctx, "pull-shipments")) {
        mlc_ss_free(ss);
        return MLC_EXIT_OSERR;
    }
    mlc_log *log = p.run.log;
    mlc_ss_version v = mlc_setup_ss_api(cfg, api);
    char stream[48];
    snprintf(stream, sizeof stream, "pull-shipments:%s", v == MLC_SS_V1 ? "v1" : "v2");
    if (!since && !no_cursor) {
        char *cur = NULL;
        time_t t;
        if (mlc_store_cursor_get(st, stream, &cur, &e)) {
            cmd_run_fail(&p.run, &e);
            goto out;
        }
        if (cur && mlc_dates_parse_rfc3339(cur, &t) == 0) {
            from = t - (time_t)overlap;
        } else if (!cur) {
            /* A fresh state (first run, a lost or moved state directory): a bounded
             * lookback, never all history. What is re-emitted is found in M3 by
             * post-receipts (already_posted), not posted again. */
            long long days = mlc_config_int(cfg, "cloudsuite.initial_lookback_days");
            char detail[160], when[32];
            if (days < 0)
                days = 0;
            from = time(NULL) - (time_t)(days * 86400);
            mlc_dates_format_rfc3339(from, when);
            mlc_log_warn(log, "fresh state: no cursor for %s; reading from %s (cloudsuite.initial_lookback_days: %lld)",
                         stream, when, days);
            snprintf(detail, sizeof detail, "{\"stream\":\"%s\",\"from\":\"%s\",\"lookback_days\":%lld}", stream,
                     when, days);
            if (mlc_store_audit(st, 0, "fresh_state", detail, &e))
                mlc_log_error(log, "audit: %s", e.msg);
        }
        free(cur);
    }
    if (mlc_shipment_new(ss, st, cfg, log, &sh, &e)) {
        cmd_run_fail(&p.run, &e);
        goto out;
    }
    int deliveries = v == MLC_SS_V2 && !strcmp(mlc_config_str(cfg, "receipts.post_at"), "deliver");
    mlc_shipment_track_deliveries(sh, deliveries);
    mlc_err er = MLC_OK;
    /* first what earlier runs wrote and no ledger took in (a reader that died): in
     * order, before any newer version of the same shipment */
    if (!no_redeliver && !webhooks_only)
        er = mlc_shipment_redeliver(sh, emit, &p, &e);
    if (!er && !no_webhooks)
        er = mlc_shipment_drain_inbox(sh, 10000, emit, &p, &e);
    time_t latest = from;
    if (!er && !webhooks_only)
        er = mlc_shipment_poll(sh, v, from, &latest, emit, &p, &e);
    if (!er && deliveries && !webhooks_only)
        er = mlc_shipment_poll_deliveries(sh, emit, &p, &e);
    if (er && er != MLC_ERR_PIPE)
        cmd_run_fail(&p.run, &e);
    else if (cmd_run_flush(&p.run) == 0 && !er && !no_cursor && latest > from) {
        char buf[32]; /* the cursor moves only when every record is out */
        mlc_dates_format_rfc3339(latest, buf);
        if (mlc_store_cursor_set(st, stream, buf, &e))
            cmd_run_fail(&p.run, &e);
    }
    const mlc_shipment_stats *s = mlc_shipment_stats_get(sh);
    mlc_log_info(log,
                 "%ld seen, %ld emitted, %ld unchanged, %ld skipped, %ld webhooks (%ld quarantined, %ld to retry), "
                 "%ld refused URLs, %ld API calls, %ld orders cancelled in ShipStation, %ld written again (not in "
                 "the ledger yet), %ld given up",
                 s->seen, s->emitted, s->unchanged, s->skipped, s->inbox, s->webhooks_failed, s->webhooks_retry,
                 s->refused_urls, s->api_calls, s->cancelled, s->outbox.redelivered, s->outbox.given_up);
    /* a quarantined notification needs a look (mlc queue --webhooks): 1; one to
     * be fetched again later: 75; neither stopped the poll */
    p.run.out.failed += s->webhooks_failed;
    p.run.out.later += s->webhooks_retry;
out:
    mlc_shipment_free(sh);
    mlc_ss_free(ss);
    return cmd_run_end(&p.run);
}
