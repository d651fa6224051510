/*
 * sync_items.c: `mlc sync-items`: keeps CloudSuite items and ShipStation products
 * and stock aligned, both ways, field by field as mapping.items.owners says (see
 * man/mlc-sync-items.1).  Parses the options, runs lib/itemsync and writes its
 * `item` records (one per SKU and direction) as JSON lines, then the summary.
 * Not here: which SKUs, the no-ping-pong memory, the cursor (lib/itemsync); the
 * M3/ShipStation calls and field rules (lib/item, lib/product, lib/stock).
 */
#include "builtin.h"
#include "cmd.h"
#include "dates.h"
#include "itemsync.h"
#include "jsonl.h"
#include "m3.h"
#include "run.h"
#include "shipstation.h"
#include "store.h"

#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: mlc sync-items [--direction both|to-shipstation|to-cloudsuite] [--sku SKU] [--dry-run]\n"
    "                      [--since DATE]\n"
    "\n"
    "Aligns CloudSuite items with ShipStation products and stock, field by field as\n"
    "mapping.items.owners says; writes one item record (JSON line) per SKU and direction.\n"
    "\n"
    "  --direction D   both (default), to-shipstation (products and stock from M3) or\n"
    "                  to-cloudsuite (M3 items from ShipStation products)\n"
    "  --sku SKU       this one SKU only (cursor untouched)\n"
    "  --dry-run       show the plan: reads both systems, writes nothing, moves no cursor\n"
    "  --since DATE    M3 items changed since this day (YYYY-MM-DD or RFC 3339) instead of\n"
    "                  the cursor\n"
    "  -h, --help      this help\n";

typedef struct cli_opts {
    int to_ss, to_m3, dry_run;
    const char *sku, *since;
    char since_day[9];
} cli_opts;

static int parse_opts(int argc, char **argv, cli_opts *o)
{
    static const struct option longopts[] = {{"direction", required_argument, 0, 'd'},
                                             {"sku", required_argument, 0, 's'},
                                             {"dry-run", no_argument, 0, 'n'},
                                             {"since", required_argument, 0, 'S'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    memset(o, 0, sizeof *o);
    o->to_ss = o->to_m3 = 1;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (strcmp(optarg, "both") == 0)
                o->to_ss = o->to_m3 = 1;
            else if (strcmp(optarg, "to-shipstation") == 0)
                o->to_ss = 1, o->to_m3 = 0;
            else if (strcmp(optarg, "to-cloudsuite") == 0)
                o->to_ss = 0, o->to_m3 = 1;
            else
                return cmd_usage_error(usage, "--direction is both, to-shipstation or to-cloudsuite, not '%s'",
                                       optarg);
            break;
        case 's':
            if (!*optarg || strlen(optarg) >= 64)
                return cmd_usage_error(usage, "--sku needs a SKU of 1 to 63 characters");
            o->sku = optarg;
            break;
        case 'n': o->dry_run = 1; break;
        case 'S': o->since = optarg; break;
        case 'h': return -1;
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    if (optind < argc)
        return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    return 0;
}

/* Each outcome's record out; nonzero (stop after this SKU, the cursor stays)
 * once nothing more can be written. */
static int on_item(void *ud, const mlc_itemsync_outcome *o)
{
    /* the record stays lib's: a reference to its members */
    return cmd_run_emit(ud, cJSON_CreateObjectReference(o->record->child)) != 0;
}

/* The sync, then the cursor once every record was delivered; the counts go
 * into r by the one rule. */
static void run(cmd_run *r, mlc_itemsync *s)
{
    mlc_error e = {0};
    if (mlc_itemsync_run(s, on_item, r, &e)) {
        cmd_run_fail(r, &e);
        return;
    }
    if (cmd_run_flush(r) == 0 && mlc_itemsync_finish(s, &e)) {
        cmd_run_fail(r, &e);
        return;
    }
    const mlc_itemsync_stats *n = mlc_itemsync_stats_get(s);
    mlc_log_info(r->log, "%ld updated, %ld created, %ld unchanged, %ld reported, %ld skipped, %ld failed",
                 n->updated, n->created, n->unchanged, n->reported, n->skipped, n->failed);
    cmd_run_add(r, &n->out);
}

int cmd_sync_items(int argc, char **argv, mlc_ctx *ctx)
{
    cli_opts o;
    cmd_run r;
    mlc_error e = {0};
    const mlc_config *cfg;
    mlc_store *st;
    mlc_m3 *m3 = NULL;
    mlc_ss *ss = NULL;
    mlc_itemsync *s = NULL;
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc < 0 ? cmd_help(usage) : rc;
    if (o.since && mlc_dates_since_day(o.since, o.since_day))
        return cmd_usage_error(usage, "--since needs YYYY-MM-DD or RFC 3339, not '%s'", o.since);
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    mlc_itemsync_opts so;
    mlc_itemsync_opts_from_config(cfg, &so);
    so.to_ss = o.to_ss;
    so.to_m3 = o.to_m3;
    so.dry_run = o.dry_run;
    so.sku = o.sku;
    so.since_day = o.since ? o.since_day : NULL;
    if (mlc_m3_new(ctx, NULL, &m3, &e) || mlc_ss_new(ctx, NULL, &ss, &e) ||
        mlc_itemsync_new(&so, cfg, m3, ss, st, mlc_ctx_log(ctx), &s, &e)) {
        mlc_ss_free(ss);
        mlc_m3_free(m3);
        return cmd_fail(ctx, &e);
    }
    if (o.to_ss && !mlc_itemsync_can_write_products(s))
        mlc_log_warn(mlc_ctx_log(ctx), "no ShipStation V1 credentials: product fields are compared, not "
                                       "written (V2 products are read-only); stock is still synced");
    if ((rc = cmd_run_begin(&r, ctx, "sync-items")) == 0) {
        run(&r, s);
        rc = cmd_run_end(&r);
    }
    mlc_itemsync_free(s);
    mlc_ss_free(ss);
    mlc_m3_free(m3);
    return rc;
}
