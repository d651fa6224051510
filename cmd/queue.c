/*
 * queue.c: `mlc queue`: lists the receipt ledger for operators (what is
 * pending, queued for retry, exhausted or waiting for review, with attempts,
 * next attempt and last error), as receipt records or an aligned table (see
 * man/mlc-queue.1). Read-only: it never changes a receipt and never calls a
 * remote system. Not here: replaying (replay.c), the audit trail (audit.c), SQL.
 */
#include "builtin.h"
#include "cmd.h"
#include "dates.h"
#include "jsonl.h"
#include "receipt_out.h"
#include "store.h"
#include "table.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: mlc queue [--state STATE[,STATE...]] [--po PUNO] [--shipment ID] [--since T] [--table]\n"
    "\n"
    "Lists receipts of the ledger, oldest first, as receipt records (JSON lines) with\n"
    "their attempts, next attempt and last error; --table prints aligned columns instead.\n"
    "\n"
    "  -s, --state STATE    only receipts in STATE: pending, in_flight, queued, exhausted,\n"
    "                       needs_review, posted, voided (repeat or comma-separate)\n"
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
    char *end;
    size_t len = strlen(arg);
    if (len >= 2 && isdigit((unsigned char)arg[0]) && strchr("smhd", arg[len - 1])) {
        long long v = strtoll(arg, &end, 10);
        if (end != arg + len - 1 || v < 0)
            return -1;
        long long unit = arg[len - 1] == 's' ? 1 : arg[len - 1] == 'm' ? 60 : arg[len - 1] == 'h' ? 3600 : 86400;
        t = time(NULL) - (time_t)(v * unit);
    } else if (len == 10) {
        char full[32];
        snprintf(full, sizeof full, "%sT00:00:00Z", arg);
        if (mlc_dates_parse_rfc3339(full, &t))
            return -1;
    } else if (mlc_dates_parse_rfc3339(arg, &t)) {
        return -1;
    }
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

int cmd_queue(int argc, char **argv, mlc_ctx *ctx)
{
    enum { OPT_SHIPMENT = 256, OPT_SINCE };
    static const struct option longopts[] = {{"state", required_argument, 0, 's'},
                                             {"po", required_argument, 0, 'p'},
                                             {"shipment", required_argument, 0, OPT_SHIPMENT},
                                             {"since", required_argument, 0, OPT_SINCE},
                                             {"table", no_argument, 0, 't'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    mlc_store_receipt_filter f = {0};
    char since[32], bad[64];
    int c, table = 0;
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
        case 'h': return cmd_help(usage);
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    if (optind < argc)
        return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]);

    mlc_store *st;
    mlc_error e;
    if (mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    mlc_store_receipt **rows;
    size_t n;
    if (mlc_store_receipt_list(st, &f, &rows, &n, &e))
        return cmd_fail(ctx, &e);
    int rc = 0;
    if (table) {
        rc = print_table(rows, n);
    } else {
        mlc_jsonl_writer *w = mlc_jsonl_writer_new(stdout);
        if (!w) {
            rc = MLC_EXIT_OSERR;
        } else {
            for (size_t i = 0; i < n; i++) {
                cJSON *rec = receipt_record(rows[i], NULL);
                mlc_err wr = rec ? mlc_jsonl_write(w, rec, &e) : MLC_ERR_NOMEM;
                cJSON_Delete(rec);
                if (wr == MLC_ERR_PIPE)
                    break;
                if (wr) {
                    rc = wr == MLC_ERR_NOMEM ? MLC_EXIT_OSERR : cmd_fail(ctx, &e);
                    break;
                }
            }
            if (!rc && mlc_jsonl_writer_flush(w, &e) == MLC_ERR_IO)
                rc = cmd_fail(ctx, &e);
            mlc_jsonl_writer_free(w);
        }
    }
    mlc_store_receipts_free(rows, n);
    return rc;
}
