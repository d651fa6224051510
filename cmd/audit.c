/*
 * audit.c: `mlc audit`: prints the audit trail of one receipt, or of every
 * receipt of a shipment or a PO, oldest first: audit records (JSON lines, the
 * detail parsed when it is JSON) or an aligned table (see man/mlc-audit.1).
 * Read-only. Not here: writing the audit (lib/receipt does), SQL (lib/store).
 */
#include "builtin.h"
#include "cmd.h"
#include "jsonl.h"
#include "run.h"
#include "store.h"
#include "table.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: mlc audit RECEIPT_ID [--table]\n"
    "       mlc audit --shipment ID | --po PUNO [--table]\n"
    "\n"
    "Prints the audit trail, oldest first: every step of a receipt (accepted, attempts,\n"
    "responses, M3 messages, queued, exhausted, replays and their reasons) as audit\n"
    "records (JSON lines); --table prints aligned columns instead.\n"
    "\n"
    "      --shipment ID   the trail of every receipt of this ShipStation shipment\n"
    "  -p, --po PUNO       the trail of every receipt of this purchase order\n"
    "  -t, --table         aligned columns for people instead of JSON lines\n"
    "  -h, --help          this help\n";

/* {"kind":"audit","receipt_id":..,"at":..,"event":..,"detail":..}; detail parsed when JSON. */
static cJSON *audit_record(const mlc_store_audit_entry *a)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "kind", "audit");
    cJSON_AddNumberToObject(o, "receipt_id", (double)a->receipt_id);
    cJSON_AddStringToObject(o, "at", a->at ? a->at : "");
    cJSON_AddStringToObject(o, "event", a->event ? a->event : "");
    cJSON *d = NULL;
    if (a->detail && (a->detail[0] == '{' || a->detail[0] == '['))
        d = cJSON_Parse(a->detail);
    if (!d)
        d = a->detail ? cJSON_CreateString(a->detail) : cJSON_CreateNull();
    cJSON_AddItemToObject(o, "detail", d);
    return o;
}

static int print_table(const mlc_store_audit_entry *a, size_t n)
{
    static const char *const head[] = {"AT", "RECEIPT", "EVENT", "DETAIL"};
    cmd_table *t = cmd_table_new(4, head);
    if (!t)
        return MLC_EXIT_OSERR;
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)a[i].receipt_id);
        const char *cells[] = {a[i].at, id, a[i].event, a[i].detail ? a[i].detail : ""};
        if (cmd_table_add(t, cells)) {
            cmd_table_free(t);
            return MLC_EXIT_OSERR;
        }
    }
    cmd_table_print(t, stdout); /* a closed pipe is a quiet end */
    cmd_table_free(t);
    return 0;
}

static int print_records(mlc_ctx *ctx, const mlc_store_audit_entry *a, size_t n)
{
    cmd_run r;
    if (cmd_run_begin(&r, ctx, "audit"))
        return MLC_EXIT_OSERR;
    for (size_t i = 0; i < n; i++)
        if (cmd_run_emit(&r, audit_record(&a[i])))
            break;
    return cmd_run_end(&r);
}

int cmd_audit(int argc, char **argv, mlc_ctx *ctx)
{
    enum { OPT_SHIPMENT = 256 };
    static const struct option longopts[] = {{"shipment", required_argument, 0, OPT_SHIPMENT},
                                             {"po", required_argument, 0, 'p'},
                                             {"table", no_argument, 0, 't'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *shipment = NULL, *po = NULL;
    int c, table = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "p:th", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SHIPMENT: shipment = optarg; break;
        case 'p': po = optarg; break;
        case 't': table = 1; break;
        case 'h': return cmd_help(usage);
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    int nargs = argc - optind;
    if (nargs > 1)
        return cmd_usage_error(usage, "one receipt id at a time");
    if (nargs == 1 && (shipment || po))
        return cmd_usage_error(usage, "a receipt id or --shipment/--po, not both");
    if (nargs == 0 && !shipment && !po)
        return cmd_usage_error(usage, "which receipt? give a RECEIPT_ID, --shipment or --po");
    long long id = 0;
    if (nargs == 1 && (id = cmd_parse_count(argv[optind])) <= 0)
        return cmd_usage_error(usage, "'%s' is not a receipt id (a positive number, as in `mlc queue`)",
                               argv[optind]);

    mlc_store *st;
    mlc_error e;
    if (mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    mlc_store_audit_entry *a = NULL;
    size_t n = 0;
    if (id) {
        mlc_store_receipt *row;
        if (mlc_store_receipt_get(st, id, &row, &e))
            return cmd_fail(ctx, &e);
        mlc_store_receipt_free(row);
        if (mlc_store_audit_list(st, id, &a, &n, &e)) {
            mlc_store_audit_free(a, n);
            return cmd_fail(ctx, &e);
        }
    } else {
        if (mlc_store_audit_list_for(st, shipment, po, &a, &n, &e))
            return cmd_fail(ctx, &e);
        if (n == 0) {
            mlc_store_audit_free(a, n);
            mlc_error_set(&e, MLC_ERR_NOTFOUND, "no receipts%s%s%s%s in the ledger", shipment ? " of shipment " : "",
                          shipment ? shipment : "", po ? " of PO " : "", po ? po : "");
            return cmd_fail(ctx, &e);
        }
    }
    int rc = table ? print_table(a, n) : print_records(ctx, a, n);
    mlc_store_audit_free(a, n);
    return rc;
}
