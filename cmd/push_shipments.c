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

typedef struct out {
    mlc_log *log;
    mlc_jsonl_writer *w;
    mlc_err worst; /* of the output and the input, not of the push */
    int closed;
} out;

static void emit(out *o, cJSON *rec)
{
    mlc_error e;
    mlc_err rc = o->closed ? MLC_OK : mlc_jsonl_write(o->w, rec, &e);
    if (rc == MLC_ERR_PIPE)
        o->closed = 1; /* the reader went away: the work goes on, quietly */
    else if (rc) {
        mlc_log_error(o->log, "%s", e.msg);
        o->worst = rc;
        o->closed = 1;
    }
    cJSON_Delete(rec);
}

/* A field with a literal key and a literal value: neither is copied. */
static void add_lit(cJSON *o, const char *k, const char *v)
{
    cJSON_AddItemToObjectCS(o, k, cJSON_CreateStringReference(v));
}

/* lib/push's per-PO callback: records out, failures to the log. */
static void on_outcome(void *ud, const mlc_push_outcome *r)
{
    out *o = ud;
    const char *api = r->api == MLC_SS_V1 ? "v1" : "v2";
    cJSON *rec;
    switch (r->action) {
    case MLC_PUSH_REJECTED:
        mlc_log_error(o->log, "%s:%lu: %s", r->source, r->lineno, r->error->msg);
        return;
    case MLC_PUSH_FAILED:
        mlc_log_error(o->log, "PO %s: %s", r->po, r->error->msg);
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
        emit(o, rec);
        return;
    default:
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
        emit(o, rec);
    }
}

/* 1 if the profile's state database exists (a dry run reads it, never makes it). */
static int state_exists(const mlc_config *cfg)
{
    char path[PATH_MAX], *dir = mlc_config_state_dir(cfg);
    if (!dir)
        return 0;
    snprintf(path, sizeof path, "%s/%s.db", dir, mlc_config_profile(cfg));
    free(dir);
    return access(path, F_OK) == 0;
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

static int finish(mlc_log *log, const mlc_push_stats *s, mlc_err worst)
{
    mlc_log_info(log, "%ld created, %ld updated, %ld unchanged, %ld cancelled, %ld in doubt, %ld rejected, %ld failed",
                 s->created, s->updated, s->unchanged, s->cancelled, s->in_doubt, s->rejected, s->failed);
    if (s->not_pushed)
        mlc_log_warn(log, "stopped: %ld POs not pushed; the next pull-pos emits them again", s->not_pushed);
    if (worst == MLC_ERR_TRANSIENT)
        return MLC_EXIT_TEMPFAIL;
    if (worst && worst != MLC_ERR_REMOTE && worst != MLC_ERR_PIPE)
        return mlc_err_exit_code(worst);
    return (s->rejected || s->failed) ? MLC_EXIT_FAILED : 0;
}

/* Reads the input to its end, handing purchase_orders to lib/push. */
static void run(mlc_push *p, mlc_jsonl_reader *rd, const char *source, out *o)
{
    mlc_error e;
    for (;;) {
        cJSON *rec = NULL;
        mlc_err rr = mlc_jsonl_read(rd, &rec, &e);
        if (rr == MLC_ERR_EOF)
            break;
        if (rr == MLC_ERR_INPUT) {
            mlc_log_error(o->log, "%s", e.msg);
            mlc_push_reject_line(p, source, mlc_jsonl_reader_lineno(rd), e.msg, mlc_jsonl_reader_line(rd),
                                 mlc_jsonl_reader_line_len(rd), NULL, NULL);
            continue;
        }
        if (rr) {
            mlc_log_error(o->log, "%s", e.msg);
            o->worst = rr;
            break;
        }
        const char *kind = mlc_jsonl_kind(rec);
        if (kind && strcmp(kind, "purchase_order") == 0) {
            mlc_push_po(p, rec, source, mlc_jsonl_reader_lineno(rd), mlc_jsonl_reader_line(rd),
                        mlc_jsonl_reader_line_len(rd), on_outcome, o);
            cJSON_Delete(rec);
            mlc_log_progress(o->log, "POs read", (long)mlc_jsonl_reader_lineno(rd), -1);
        } else {
            emit(o, rec); /* pass through */
        }
    }
    mlc_push_flush(p, on_outcome, o);
    mlc_log_progress_done(o->log);
    if (mlc_jsonl_writer_flush(o->w, &e) == MLC_ERR_IO)
        o->worst = MLC_ERR_IO;
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
    out o = {.log = mlc_ctx_log(ctx)};
    if ((rc = parse_opts(argc, argv, &dry_run, &api, &batch, &file)))
        return rc < 0 ? cmd_help(usage) : rc;
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_push_options_from_config(cfg, &po, &e) || mlc_map_new(cfg, &map, &e))
        return cmd_fail(ctx, &e);
    po.dry_run = dry_run;
    if (api)
        po.api = strcmp(api, "v1") == 0 ? MLC_SS_V1 : MLC_SS_V2;
    if (batch)
        po.batch_max = (size_t)batch;
    FILE *in = file ? fopen(file, "rb") : stdin;
    if (!in) {
        mlc_map_free(map);
        mlc_error_set(&e, MLC_ERR_IO, "%s: cannot open", file);
        return cmd_fail(ctx, &e);
    }
    if (dry_run && state_exists(cfg) && mlc_ctx_store(ctx, &st, &e)) {
        mlc_log_warn(o.log, "dry run without the link table: %s", e.msg);
        st = NULL;
    }
    if ((!dry_run && (mlc_ctx_store(ctx, &st, &e) || mlc_ss_new(ctx, NULL, &ss, &e))) ||
        mlc_push_new(&po, ss, st, map, o.log, &p, &e)) {
        rc = cmd_fail(ctx, &e);
        goto out;
    }
    mlc_push_stop_on(p, ctx);
    const char *source = file ? file : "stdin";
    mlc_jsonl_reader *rd = mlc_jsonl_reader_new(in, source, 0);
    o.w = mlc_jsonl_writer_new(stdout);
    if (rd && o.w) {
        run(p, rd, source, &o);
        const mlc_push_stats *s = mlc_push_stats_get(p);
        rc = finish(o.log, s, o.worst ? o.worst : s->worst);
    } else {
        rc = MLC_EXIT_OSERR;
    }
    mlc_jsonl_reader_free(rd);
    mlc_jsonl_writer_free(o.w);
out:
    mlc_push_free(p);
    if (file)
        fclose(in);
    mlc_ss_free(ss);
    mlc_map_free(map);
    return rc;
}
