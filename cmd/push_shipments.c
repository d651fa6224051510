/*
 * push_shipments.c: `mlc push-shipments`: reads purchase_order records and has
 * lib/push create or update the matching inbound shipments in ShipStation, in
 * bulk, exactly one per PO (see man/mlc-push-shipments.1); writes one
 * inbound_shipment record per outcome (shipstation_request records in a dry run).
 * Not here: the protocol (intent, lookup, retry, cancel; lib/push), mapping
 * (lib/map), the API calls (lib/inbound), SQL (lib/store).
 */
#include "builtin.h"
#include "cmd.h"
#include "jsonl.h"
#include "map.h"
#include "push.h"
#include "run.h"
#include "shipstation.h"
#include "store.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "usage: mlc push-shipments [--dry-run] [--api v1|v2] [--batch N] [FILE]\n"
                            "\n"
                            "Reads purchase_order records (JSON lines, from FILE or standard input) and creates\n"
                            "or updates one ShipStation inbound shipment per PO; writes inbound_shipment records.\n"
                            "Records of other kinds pass through unchanged.\n"
                            "\n"
                            "  --dry-run     print the requests it would send (kind shipstation_request), with the\n"
                            "                keys the real run would use; no calls, no state changes, no credentials\n"
                            "  --api V       v2 or v1 (default: shipstation.api)\n"
                            "  --batch N     shipments per create call (default 100; V1 at most 100)\n"
                            "  -h, --help    this help\n";

/* A field with a literal key and a literal value: neither is copied. */
static void add_lit(cJSON *o, const char *k, const char *v)
{
    cJSON_AddItemToObjectCS(o, k, cJSON_CreateStringReference(v));
}

/* lib/push's per-PO callback: records out, failures to the log. */
static void on_outcome(void *ud, const mlc_push_outcome *r)
{
    cmd_run *o = ud;
    mlc_error e;
    const char *api = r->api == MLC_SS_V1 ? "v1" : "v2";
    cJSON *rec;
    switch (r->action) {
    case MLC_PUSH_REJECTED: /* lib/push keeps the line in the rejected table */
        mlc_log_error(o->log, "%s:%lu: %s", r->source, r->lineno, r->error->msg);
        o->out.failed++;
        return;
    case MLC_PUSH_FAILED: /* counted by its code: failed, later, or the run's trouble */
        e = *r->error;
        e.code = e.code ? e.code : MLC_ERR_REMOTE;
        mlc_error_prefix(&e, "PO %s", r->po);
        cmd_run_note(o, &e);
        return;
    case MLC_PUSH_NOT_PUSHED:
        return;
    case MLC_PUSH_REQUEST:
        rec = cJSON_CreateObject();
        add_lit(rec, "kind", "shipstation_request");
        add_lit(rec, "api", api);
        add_lit(rec, "method", "POST");
        add_lit(rec, "path", r->api == MLC_SS_V1 ? "/orders/createorders" : "/v2/shipments");
        /* the payload stays lib's: a reference to its members */
        cJSON_AddItemToObjectCS(rec, "body", cJSON_CreateObjectReference(r->body->child));
        cmd_run_emit(o, rec);
        return;
    default:
        o->out.later += r->action == MLC_PUSH_IN_DOUBT; /* a later run settles it */
        rec = cJSON_CreateObject();
        add_lit(rec, "kind", "inbound_shipment");
        cJSON_AddStringToObject(rec, "po", r->po);
        cJSON_AddStringToObject(rec, "order_key", r->order_key);
        if (r->shipstation_id)
            cJSON_AddStringToObject(rec, "shipstation_id", r->shipstation_id);
        else
            cJSON_AddNullToObject(rec, "shipstation_id");
        add_lit(rec, "api", api);
        add_lit(rec, "action", mlc_push_action_name(r->action));
        cmd_run_emit(o, rec);
    }
}

/* Command-line overrides of the profile's options: --dry-run, --api, --batch. */
static int parse_opts(int argc, char **argv, int *dry_run, const char **api, long long *batch, const char **file)
{
    static const struct option longopts[] = {{"dry-run", no_argument, 0, 'n'},
                                             {"api", required_argument, 0, 'a'},
                                             {"batch", required_argument, 0, 'b'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            *dry_run = 1;
            break;
        case 'a':
            if (strcmp(optarg, "v1") && strcmp(optarg, "v2"))
                return cmd_usage_error(usage, "--api must be v1 or v2, not '%s'", optarg);
            *api = optarg;
            break;
        case 'b':
            /* V2's spec sets no maximum for the array; the default stays at 100 a call */
            if ((*batch = cmd_parse_count(optarg)) < 1 || *batch > 10000)
                return cmd_usage_error(usage, "--batch needs a number 1-10000, not '%s'", optarg);
            break;
        case 'h':
            return -1;
        default:
            return cmd_usage_error(usage, "unknown option");
        }
    }
    if (optind + 1 < argc)
        return cmd_usage_error(usage, "at most one input file");
    *file = optind < argc ? argv[optind] : NULL;
    return 0;
}

/* cmd/run's record callback: purchase_orders to lib/push, the rest passes through. */
static mlc_err on_record(cmd_run *r, cJSON *rec, void *ud, mlc_error *err)
{
    const char *kind = mlc_jsonl_kind(rec);
    (void)err;
    if (!kind || strcmp(kind, "purchase_order")) {
        cmd_run_emit(r, rec);
        return MLC_OK;
    }
    mlc_push_po(ud, rec, r->source, cmd_run_lineno(r), mlc_jsonl_reader_line(r->rd), mlc_jsonl_reader_line_len(r->rd),
                on_outcome, r);
    cJSON_Delete(rec);
    mlc_log_progress(r->log, "POs read", (long)cmd_run_lineno(r), -1);
    return MLC_OK;
}

int cmd_push_shipments(int argc, char **argv, mlc_ctx *ctx)
{
    const char *file = NULL, *api = NULL;
    long long batch = 0;
    int dry_run = 0, rc;
    const mlc_config *cfg;
    mlc_map *map = NULL;
    mlc_store *st = NULL;
    mlc_ss *ss = NULL;
    mlc_push *p = NULL;
    mlc_push_options po;
    mlc_error e;
    cmd_run r;
    if ((rc = parse_opts(argc, argv, &dry_run, &api, &batch, &file)))
        return rc < 0 ? cmd_help(usage) : rc;
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_push_options_from_config(cfg, &po, &e) || mlc_map_new(cfg, &map, &e))
        return cmd_fail(ctx, &e);
    po.dry_run = dry_run;
    if (api)
        po.api = strcmp(api, "v1") == 0 ? MLC_SS_V1 : MLC_SS_V2;
    if (batch)
        po.batch_max = (size_t)batch;
    if (cmd_run_begin(&r, ctx, "push-shipments")) {
        mlc_map_free(map);
        return MLC_EXIT_OSERR;
    }
    if (cmd_run_open(&r, file, NULL, &e)) {
        cmd_run_fail(&r, &e);
        goto out;
    }
    if (dry_run && mlc_ctx_state_exists(ctx) && mlc_ctx_store(ctx, &st, &e)) {
        mlc_log_warn(r.log, "dry run without the link table: %s", e.msg);
        st = NULL;
    }
    if ((!dry_run && (mlc_ctx_store(ctx, &st, &e) || mlc_ss_new(ctx, NULL, &ss, &e))) ||
        mlc_push_new(&po, ss, st, map, r.log, &p, &e)) {
        cmd_run_fail(&r, &e);
        goto out;
    }
    mlc_push_stop_on(p, ctx);
    r.st = dry_run ? NULL : st; /* where bad lines are kept (a dry run changes nothing) */
    if (cmd_run_read(&r, on_record, NULL, p, &e))
        cmd_run_fail(&r, &e); /* the input broke off: what was read is still pushed */
    mlc_push_flush(p, on_outcome, &r);
    mlc_log_progress_done(r.log);
    const mlc_push_stats *s = mlc_push_stats_get(p);
    mlc_log_info(r.log,
                 "%ld created, %ld updated, %ld unchanged, %ld cancelled, %ld in doubt, %ld rejected, %ld failed",
                 s->created, s->updated, s->unchanged, s->cancelled, s->in_doubt, s->rejected + r.rejected, s->failed);
    if (s->not_pushed)
        mlc_log_warn(r.log, "stopped: %ld POs not pushed; the next pull-pos emits them again", s->not_pushed);
out:
    mlc_push_free(p);
    mlc_ss_free(ss);
    mlc_map_free(map);
    return cmd_run_end(&r);
}
