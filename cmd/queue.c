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

/* Where the rows go: records through cmd/run, or with --table (t) aligned columns,
 * collected and printed at the end. Begins r; out of memory (NULL t with --table)
 * is recorded by emitting NULL: nothing is written, the exit code is 71. */
static void out_begin(cmd_run *r, mlc_ctx *ctx, int table, const cmd_table *t)
{
    if (cmd_run_begin(r, ctx, "queue") || (table && !t))
        cmd_run_emit(r, NULL);
}

/* One row: rec (taken; NULL with a table) or cells. -1: stop (the reader went
 * away, or out of memory). */
static int out_row(cmd_run *r, cmd_table *t, cJSON *rec, const char *const *cells)
{
    if (!t)
        return cmd_run_emit(r, rec);
    return cmd_table_add(t, cells) ? cmd_run_emit(r, NULL) : 0;
}

static int out_end(cmd_run *r, cmd_table *t)
{
    if (t && !cmd_run_exit(r))
        cmd_table_print(t, stdout); /* a closed pipe is a quiet end */
    cmd_table_free(t);
    return cmd_run_end(r);
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
    cJSON_AddItemToObject(o, name, v ? cJSON_CreateString(v) : cJSON_CreateNull());
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
static int list_webhooks(mlc_ctx *ctx, mlc_store *st, int all, int table)
{
    static const char *const head[] = {"ID", "STATUS", "ATT", "NEXT ATTEMPT", "RECEIVED", "TYPE", "LAST ERROR"};
    mlc_error e;
    mlc_store_inbox_item *items = NULL;
    size_t n = 0;
    cmd_run r;
    if (mlc_store_inbox_list(st, all, 100000, &items, &n, &e))
        return cmd_fail(ctx, &e);
    cmd_table *t = table ? cmd_table_new(7, head) : NULL;
    out_begin(&r, ctx, table, t);
    for (size_t i = 0; i < n; i++) {
        char id[24], att[16], next[32] = "-";
        snprintf(id, sizeof id, "%lld", (long long)items[i].id);
        snprintf(att, sizeof att, "%d", items[i].attempts);
        inbox_next(&items[i], next);
        const char *cells[] = {id,   inbox_status(&items[i]), att, next, items[i].received_at,
                               items[i].resource_type, items[i].last_error};
        if (out_row(&r, t, table ? NULL : webhook_record(&items[i]), cells))
            break;
    }
    mlc_store_inbox_free(items, n);
    return out_end(&r, t);
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
    mlc_store *st;
    mlc_error e;
    if (mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    if (webhooks)
        return list_webhooks(ctx, st, all, table);
    mlc_store_receipt **rows;
    size_t n;
    cmd_run r;
    if (mlc_store_receipt_list(st, &f, &rows, &n, &e))
        return cmd_fail(ctx, &e);
    static const char *const head[] = {"ID",   "STATE", "ATT",      "NEXT ATTEMPT", "PO",
                                       "LINE", "QTY",   "SHIPMENT", "UPDATED",      "LAST ERROR"};
    cmd_table *t = table ? cmd_table_new(10, head) : NULL;
    out_begin(&r, ctx, table, t);
    for (size_t i = 0; i < n; i++) {
        const mlc_store_receipt *x = rows[i];
        char id[24], att[16], next[32] = "-", line[32], qty[32];
        snprintf(id, sizeof id, "%lld", (long long)x->id);
        snprintf(att, sizeof att, "%d", x->attempts);
        if (x->next_attempt_at > 0 && x->state == MLC_RECEIPT_QUEUED)
            mlc_dates_format_rfc3339((time_t)x->next_attempt_at, next);
        else if (x->state == MLC_RECEIPT_IN_DOUBT && x->settle_after > 0)
            mlc_dates_format_rfc3339((time_t)x->settle_after, next); /* settled then, by its trace */
        else if (x->state == MLC_RECEIPT_QUEUED || x->state == MLC_RECEIPT_PENDING)
            snprintf(next, sizeof next, "now");
        int k = snprintf(line, sizeof line, "%d", x->line);
        if (x->subline)
            snprintf(line + k, sizeof line - (size_t)k, "/%d", x->subline);
        snprintf(qty, sizeof qty, "%g", x->qty);
        const char *cells[] = {id, mlc_receipt_state_name(x->state), att, next, x->po, line, qty,
                               x->shipment_id, x->updated_at, x->last_error};
        cJSON *rec = table ? NULL : receipt_record(x, NULL);
        receipt_record_add_bod(rec, st, x->id); /* NULL: nothing */
        if (out_row(&r, t, rec, cells))
            break;
    }
    mlc_store_receipts_free(rows, n);
    return out_end(&r, t);
}
