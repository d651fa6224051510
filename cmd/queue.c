/*
 * queue.c: `mlc queue`: lists the receipt ledger for operators (what is
 * pending, queued for retry, exhausted or waiting for review, with attempts,
 * next attempt and last error), as receipt records or an aligned table (see
 * man/mlc-queue.1), and with --webhooks the webhook inbox (waiting, retrying and
 * quarantined notifications). Read-only: it never changes a receipt and never
 * calls a remote system. Not here: replaying (replay.c), the audit trail (audit.c), SQL.
 */
#include "builtin.h"
#include "cmd.h"
#include "dates.h"
#include "jsonl.h"
#include "receipt_out.h"
#include "run.h"
#include "store.h"
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: mlc queue [--state STATE[,STATE...]] [--po PUNO] [--shipment ID] [--since T] [--table]\n"
    "       mlc queue --webhooks [--all] [--table]\n"
    "\n"
    "Lists receipts of the ledger, oldest first, as receipt records (JSON lines) with\n"
    "their attempts, next attempt and last error; --table prints aligned columns instead.\n"
    "With --webhooks it lists the webhook inbox instead: notifications not fetched yet,\n"
    "to be tried again, or failed (quarantined, with the reason), as webhook records.\n"
    "\n"
    "      --webhooks       the webhook inbox instead of the receipts\n"
    "      --all            with --webhooks: fetched notifications too\n"
    "  -s, --state STATE    only receipts in STATE: pending, in_flight, in_doubt, sent,\n"
    "                       queued, exhausted, needs_review, posted, already_posted,\n"
    "                       voided (repeat or comma-separate); sent = BOD queued in\n"
    "                       ION, not yet in M3\n"
    "  -p, --po PUNO        only receipts of this purchase order\n"
    "      --shipment ID    only receipts of this ShipStation shipment\n"
    "      --since T        only receipts changed at or after T: RFC 3339, YYYY-MM-DD,\n"
    "                       or an age such as 90m, 12h, 7d\n"
    "  -t, --table          aligned columns for people instead of JSON lines\n"
    "  -h, --help           this help\n";

/* Adds the states of a comma-separated list to *mask; -1 names an unknown one. */
static int parse_states(const char *arg, unsigned *mask, char *bad, size_t badcap)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        for (char *p = tok; *p; p++)
            if (*p == '-')
                *p = '_';
        mlc_receipt_state s;
        if (mlc_receipt_state_parse(tok, &s)) {
            snprintf(bad, badcap, "%s", tok);
            return -1;
        }
        *mask |= 1u << s;
    }
    return 0;
}

/* --since: RFC 3339, a day (YYYY-MM-DD, midnight UTC) or an age (N s/m/h/d) -> RFC 3339 UTC. */
static int parse_since(const char *arg, char out[32])
{
    time_t t;
    if (mlc_dates_parse_age(arg, time(NULL), &t) && mlc_dates_parse_day(arg, &t))
        return -1;
    mlc_dates_format_rfc3339(t, out);
    return 0;
}

static int print_table(mlc_store_receipt **rows, size_t n)
{
    static const char *const head[] = {"ID",  "STATE",    "ATT", "NEXT ATTEMPT", "PO",
                                       "LINE", "QTY", "SHIPMENT", "UPDATED", "LAST ERROR"};
    cmd_table *t = cmd_table_new(10, head);
    if (!t)
        return MLC_EXIT_OSERR;
    for (size_t i = 0; i < n; i++) {
        const mlc_store_receipt *r = rows[i];
        char id[24], att[16], next[32] = "-", line[32], qty[32];
        snprintf(id, sizeof id, "%lld", (long long)r->id);
        snprintf(att, sizeof att, "%d", r->attempts);
        if (r->next_attempt_at > 0 && r->state == MLC_RECEIPT_QUEUED)
            mlc_dates_format_rfc3339((time_t)r->next_attempt_at, next);
        else if (r->state == MLC_RECEIPT_IN_DOUBT && r->settle_after > 0)
            mlc_dates_format_rfc3339((time_t)r->settle_after, next); /* settled then, by its trace */
        else if (r->state == MLC_RECEIPT_QUEUED || r->state == MLC_RECEIPT_PENDING)
            snprintf(next, sizeof next, "now");
        if (r->subline)
            snprintf(line, sizeof line, "%d/%d", r->line, r->subline);
        else
            snprintf(line, sizeof line, "%d", r->line);
        snprintf(qty, sizeof qty, "%g", r->qty);
        const char *cells[] = {id, mlc_receipt_state_name(r->state), att, next, r->po, line, qty,
                               r->shipment_id, r->updated_at, r->last_error};
        if (cmd_table_add(t, cells)) {
            cmd_table_free(t);
            return MLC_EXIT_OSERR;
        }
    }
    cmd_table_print(t, stdout); /* a closed pipe is a quiet end */
    cmd_table_free(t);
    return 0;
}

static const char *inbox_status(const mlc_store_inbox_item *it)
{
    return it->failed_at ? "failed" : it->processed_at ? "done" : it->attempts ? "retrying" : "waiting";
}

/* When a waiting notification is tried next (RFC 3339); 0 if it is not waiting. */
static int inbox_next(const mlc_store_inbox_item *it, char next[32])
{
    if (it->next_attempt_at <= 0 || it->failed_at || it->processed_at)
        return 0;
    mlc_dates_format_rfc3339((time_t)it->next_attempt_at, next);
    return 1;
}

static void add_str(cJSON *o, const char *name, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static cJSON *webhook_record(const mlc_store_inbox_item *it)
{
    cJSON *o = cJSON_CreateObject();
    char next[32];
    cJSON_AddStringToObject(o, "kind", "webhook");
    cJSON_AddNumberToObject(o, "inbox_id", (double)it->id);
    cJSON_AddStringToObject(o, "status", inbox_status(it));
    cJSON_AddStringToObject(o, "received_at", it->received_at ? it->received_at : "");
    add_str(o, "resource_type", it->resource_type);
    add_str(o, "resource_url", it->resource_url);
    cJSON_AddNumberToObject(o, "attempts", it->attempts);
    add_str(o, "next_attempt_at", inbox_next(it, next) ? next : NULL);
    add_str(o, "last_error", it->last_error);
    add_str(o, "failed_at", it->failed_at);
    return o;
}

/* `mlc queue --webhooks`: the inbox, read-only. */
static int list_webhooks(mlc_ctx *ctx, int all, int table)
{
    mlc_store *st;
    mlc_error e;
    mlc_store_inbox_item *items = NULL;
    size_t n = 0;
    int rc = 0;
    if (mlc_ctx_store(ctx, &st, &e) || mlc_store_inbox_list(st, all, 100000, &items, &n, &e))
        return cmd_fail(ctx, &e);
    if (table) {
        static const char *const head[] = {"ID", "STATUS", "ATT", "NEXT ATTEMPT", "RECEIVED", "TYPE", "LAST ERROR"};
        cmd_table *t = cmd_table_new(7, head);
        for (size_t i = 0; t && i < n && !rc; i++) {
            char id[24], att[16], next[32] = "-";
            snprintf(id, sizeof id, "%lld", (long long)items[i].id);
            snprintf(att, sizeof att, "%d", items[i].attempts);
            inbox_next(&items[i], next);
            const char *cells[] = {id,   inbox_status(&items[i]), att, next, items[i].received_at,
                                   items[i].resource_type, items[i].last_error};
            if (cmd_table_add(t, cells))
                rc = MLC_EXIT_OSERR;
        }
        if (!t)
            rc = MLC_EXIT_OSERR;
        else if (!rc)
            cmd_table_print(t, stdout);
        cmd_table_free(t);
    } else {
        cmd_run r;
        if (cmd_run_begin(&r, ctx, "queue"))
            rc = MLC_EXIT_OSERR;
        for (size_t i = 0; !rc && i < n; i++)
            if (cmd_run_emit(&r, webhook_record(&items[i])))
                break;
        if (!rc)
            rc = cmd_run_end(&r);
    }
    mlc_store_inbox_free(items, n);
    return rc;
}

int cmd_queue(int argc, char **argv, mlc_ctx *ctx)
{
    enum { OPT_SHIPMENT = 256, OPT_SINCE, OPT_WEBHOOKS, OPT_ALL };
    static const struct option longopts[] = {{"state", required_argument, 0, 's'},
                                             {"po", required_argument, 0, 'p'},
                                             {"shipment", required_argument, 0, OPT_SHIPMENT},
                                             {"since", required_argument, 0, OPT_SINCE},
                                             {"table", no_argument, 0, 't'},
                                             {"webhooks", no_argument, 0, OPT_WEBHOOKS},
                                             {"all", no_argument, 0, OPT_ALL},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    mlc_store_receipt_filter f = {0};
    char since[32], bad[64];
    int c, table = 0, webhooks = 0, all = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "s:p:th", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_states(optarg, &f.state_mask, bad, sizeof bad))
                return cmd_usage_error(usage, "--state: unknown state '%s'", bad);
            break;
        case 'p': f.po = optarg; break;
        case OPT_SHIPMENT: f.shipment_id = optarg; break;
        case OPT_SINCE:
            if (parse_since(optarg, since))
                return cmd_usage_error(usage, "--since: '%s' is not RFC 3339, YYYY-MM-DD or an age like 12h",
                                       optarg);
            f.since = since;
            break;
        case 't': table = 1; break;
        case OPT_WEBHOOKS: webhooks = 1; break;
        case OPT_ALL: all = 1; break;
        case 'h': return cmd_help(usage);
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    if (optind < argc)
        return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    if (all && !webhooks)
        return cmd_usage_error(usage, "--all goes with --webhooks");
    if (webhooks && (f.state_mask || f.po || f.shipment_id || f.since))
        return cmd_usage_error(usage,
                               "--webhooks lists the inbox: --state, --po, --shipment and --since are for receipts");
    if (webhooks)
        return list_webhooks(ctx, all, table);

    mlc_store *st;
    mlc_error e;
    if (mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    mlc_store_receipt **rows;
    size_t n;
    if (mlc_store_receipt_list(st, &f, &rows, &n, &e))
        return cmd_fail(ctx, &e);
    int rc = 0;
    cmd_run r;
    if (table) {
        rc = print_table(rows, n);
    } else if (!(rc = cmd_run_begin(&r, ctx, "queue"))) {
        for (size_t i = 0; i < n; i++) {
            cJSON *rec = receipt_record(rows[i], NULL);
            receipt_record_add_bod(rec, st, rows[i]->id);
            if (cmd_run_emit(&r, rec))
                break;
        }
        rc = cmd_run_end(&r);
    }
    mlc_store_receipts_free(rows, n);
    return rc;
}
