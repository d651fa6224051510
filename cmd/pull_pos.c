/*
 * pull_pos.c: `mlc pull-pos`: emits one purchase_order record per CloudSuite PO
 * changed since the stored cursor (see man/mlc-pull-pos.1).
 *
 * The cursor is a change day; each poll re-reads poll_overlap_days before it and
 * drops POs whose content hash is unchanged, so a PO is neither missed nor
 * re-emitted. The cursor and hashes advance only after the records were written.
 * Not here: M3 calls (lib/po, lib/m3), state (lib/store).
 */
#include "builtin.h"
#include "cmd.h"
#include "dates.h"
#include "jsonl.h"
#include "m3.h"
#include "po.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: mlc pull-pos [--since DATE] [--po PUNO] [--status LO-HI] [--limit N] [--no-cursor]\n"
    "\n"
    "Emits a purchase_order record (JSON line) for each CloudSuite PO changed since the\n"
    "last run. The cursor advances only after the records are written.\n"
    "\n"
    "  --since DATE     poll from this day (YYYY-MM-DD or RFC 3339) instead of the cursor\n"
    "  --po PUNO        emit this one PO (cursor and hashes untouched)\n"
    "  --status LO-HI   lowest-status range of POs open for shipping (default cloudsuite.po_statuses)\n"
    "  --limit N        emit at most N records (the cursor then stays where it was)\n"
    "  --no-cursor      neither read nor move the cursor or the hashes: emit every match\n"
    "  -h, --help       this help\n";

#define CURSOR "pull-pos"

typedef struct pull_opts {
    const char *since, *po, *status;
    long long limit;
    int no_cursor;
} pull_opts;

static int parse_opts(int argc, char **argv, pull_opts *o)
{
    static const struct option longopts[] = {
        {"since", required_argument, 0, 's'}, {"po", required_argument, 0, 'p'},
        {"status", required_argument, 0, 't'}, {"limit", required_argument, 0, 'l'},
        {"no-cursor", no_argument, 0, 'n'},   {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    memset(o, 0, sizeof *o);
    o->limit = -1;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->since = optarg; break;
        case 'p': o->po = optarg; break;
        case 't': o->status = optarg; break;
        case 'n': o->no_cursor = 1; break;
        case 'l':
            if ((o->limit = cmd_parse_count(optarg)) < 0)
                return cmd_usage_error(usage, "--limit needs a number, not '%s'", optarg);
            break;
        case 'h': return -1;
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    if (optind < argc)
        return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind]);
    return 0;
}

/* --since as a yyyyMMdd day. */
static int since_day(const char *since, char day[9])
{
    time_t t;
    char buf[40];
    if (mlc_dates_parse_rfc3339(since, &t) != 0) {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", since);
        if (strlen(since) != 10 || mlc_dates_parse_rfc3339(buf, &t) != 0)
            return -1;
    }
    mlc_dates_format_m3(t, day);
    return 0;
}

static void day_minus(const char *day, int days, char out[9])
{
    time_t t;
    if (mlc_dates_parse_m3(day, &t)) {
        snprintf(out, 9, "19000101");
        return;
    }
    mlc_dates_format_m3(t - (time_t)days * 86400, out);
}

typedef struct pull_run {
    mlc_ctx *ctx;
    const mlc_config *cfg;
    mlc_store *st;
    mlc_m3 *m3;
    mlc_jsonl_writer *w;
    pull_opts opts;
    int lo, hi;
    long emitted, unchanged, closed_skipped, failed;
    mlc_err worst;
    int stop; /* output closed or limit reached */
    int limited;
} pull_run;

static int limit_reached(pull_run *r)
{
    if (r->opts.limit >= 0 && r->emitted >= r->opts.limit) {
        r->stop = 1;
        r->limited = 1;
    }
    return r->limited;
}

static int write_record(pull_run *r, cJSON *rec)
{
    mlc_error e;
    if (limit_reached(r))
        return -1; /* --limit 0 emits nothing */
    mlc_err rc = mlc_jsonl_write(r->w, rec, &e);
    if (rc == MLC_ERR_PIPE) {
        r->stop = 1;
        return -1;
    }
    if (rc) {
        mlc_log_error(mlc_ctx_log(r->ctx), "%s", e.msg);
        r->worst = rc;
        r->stop = 1;
        return -1;
    }
    r->emitted++;
    limit_reached(r);
    return 0;
}

static void note_failure(pull_run *r, const mlc_error *e)
{
    mlc_log_error(mlc_ctx_log(r->ctx), "%s", e->msg);
    r->failed++;
    if (r->worst == MLC_OK || e->code == MLC_ERR_TRANSIENT)
        r->worst = e->code;
}

/* Emits the record of a changed PO unless its content hash is the one already
 * emitted (or it was never emitted and is not open for shipping). */
static void handle_record(pull_run *r, const mlc_po_change *c, cJSON *rec)
{
    mlc_error e;
    char hash[65], *old = NULL;
    mlc_po_hash(rec, hash);
    if (!r->opts.no_cursor && mlc_store_seen_get(r->st, "po", c->po, &old, &e) != MLC_OK) {
        note_failure(r, &e);
        return;
    }
    int status = mlc_po_status(rec);
    if (old && strcmp(old, hash) == 0) {
        r->unchanged++;
    } else if (!old && (status < r->lo || status > r->hi)) {
        r->closed_skipped++; /* never emitted and not open for shipping */
    } else if (write_record(r, rec) == 0 && !r->opts.no_cursor) {
        if (mlc_store_seen_set(r->st, "po", c->po, hash, &e) != MLC_OK)
            note_failure(r, &e);
    }
    free(old);
}

/* Reads the k POs of changes with two bulk calls and handles each. */
static void pull_many(pull_run *r, const mlc_po_change *changes, size_t k)
{
    mlc_error e;
    cJSON **recs = calloc(k, sizeof *recs);
    mlc_error *errs = calloc(k, sizeof *errs);
    if (!recs || !errs) {
        mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
        note_failure(r, &e);
    } else if (mlc_po_fetch_many(r->m3, r->cfg, changes, k, recs, errs, &e) != MLC_OK) {
        note_failure(r, &e); /* the whole chunk: every PO in it counts as failed */
        r->failed += (long)k - 1;
    } else {
        for (size_t i = 0; i < k; i++) {
            if (recs[i] && !r->stop)
                handle_record(r, &changes[i], recs[i]);
            else if (!recs[i] && errs[i].code == MLC_ERR_NOTFOUND)
                mlc_log_warn(mlc_ctx_log(r->ctx), "%s (changed, but no longer readable: skipped)", errs[i].msg);
            else if (!recs[i])
                note_failure(r, &errs[i]);
            cJSON_Delete(recs[i]);
        }
    }
    free(recs);
    free(errs);
}

static int run_single(pull_run *r)
{
    mlc_error e;
    cJSON *rec = NULL;
    if (mlc_po_fetch(r->m3, r->cfg, r->opts.po, NULL, &rec, &e) != MLC_OK)
        return cmd_fail(r->ctx, &e);
    write_record(r, rec);
    cJSON_Delete(rec);
    return r->worst ? mlc_err_exit_code(r->worst) : 0;
}

static int run_poll(pull_run *r)
{
    mlc_error e;
    char from[9], max_day[9], *cursor = NULL;
    if (r->opts.since) {
        if (since_day(r->opts.since, from))
            return cmd_usage_error(usage, "--since needs YYYY-MM-DD or RFC 3339, not '%s'", r->opts.since);
    } else if (!r->opts.no_cursor) {
        if (mlc_store_cursor_get(r->st, CURSOR, &cursor, &e))
            return cmd_fail(r->ctx, &e);
        int first = cursor == NULL;
        if (cursor)
            day_minus(cursor, (int)mlc_config_int(r->cfg, "cloudsuite.poll_overlap_days"), from);
        free(cursor);
        if (first && mlc_po_initial_day(r->m3, r->cfg, from, &e))
            return cmd_fail(r->ctx, &e);
    } else if (mlc_po_initial_day(r->m3, r->cfg, from, &e)) { /* --no-cursor: the first run's window */
        return cmd_fail(r->ctx, &e);
    }
    mlc_po_change *changes = NULL;
    size_t n = 0;
    if (mlc_po_changed(r->m3, r->cfg, from, &changes, &n, max_day, &e))
        return cmd_fail(r->ctx, &e);
    mlc_log_info(mlc_ctx_log(r->ctx), "%zu POs changed since %s", n, from);
    limit_reached(r); /* --limit 0: count the changes, fetch none */
    long long per_call = mlc_config_int(r->cfg, "cloudsuite.bulk_read_size");
    size_t chunk = per_call < 1 ? 1 : (size_t)per_call;
    /* a stop signal: the chunk in hand is finished, no new read starts */
    for (size_t base = 0; base < n && !r->stop && !mlc_ctx_stopping(r->ctx);) {
        size_t k = n - base < chunk ? n - base : chunk;
        if (r->opts.limit >= 0 && (long long)k > r->opts.limit - r->emitted)
            k = (size_t)(r->opts.limit - r->emitted); /* >= 1: the limit is not reached yet */
        pull_many(r, &changes[base], k);
        base += k;
        mlc_log_progress(mlc_ctx_log(r->ctx), "POs", (long)base, (long)n);
    }
    mlc_log_progress_done(mlc_ctx_log(r->ctx));
    mlc_po_changes_free(changes);
    if (mlc_jsonl_writer_flush(r->w, &e) == MLC_ERR_PIPE)
        r->stop = 1;
    /* Advance only when every changed PO was handled and written. */
    if (!r->opts.no_cursor && !r->stop && !r->failed && *max_day && !mlc_ctx_stopping(r->ctx)) {
        if (mlc_store_cursor_set(r->st, CURSOR, max_day, &e))
            return cmd_fail(r->ctx, &e);
    }
    mlc_log_info(mlc_ctx_log(r->ctx), "%ld emitted, %ld unchanged, %ld not open, %ld failed", r->emitted,
                 r->unchanged, r->closed_skipped, r->failed);
    if (r->worst)
        return r->worst == MLC_ERR_PIPE ? 0 : mlc_err_exit_code(r->worst);
    return 0;
}

int cmd_pull_pos(int argc, char **argv, mlc_ctx *ctx)
{
    pull_run r = {.ctx = ctx};
    mlc_error e;
    int rc = parse_opts(argc, argv, &r.opts);
    if (rc)
        return rc < 0 ? cmd_help(usage) : rc;
    if (mlc_ctx_config(ctx, &r.cfg, &e))
        return cmd_fail(ctx, &e);
    const char *statuses = r.opts.status ? r.opts.status : mlc_config_str(r.cfg, "cloudsuite.po_statuses");
    if (mlc_po_parse_statuses(statuses, &r.lo, &r.hi))
        return cmd_usage_error(usage, "--status needs LO-HI (e.g. 15-50), not '%s'", statuses);
    if (!r.opts.no_cursor && !r.opts.po && mlc_ctx_store(ctx, &r.st, &e))
        return cmd_fail(ctx, &e);
    if (mlc_m3_new(ctx, NULL, &r.m3, &e))
        return cmd_fail(ctx, &e);
    r.w = mlc_jsonl_writer_new(stdout);
    if (!r.w) {
        mlc_m3_free(r.m3);
        return MLC_EXIT_OSERR;
    }
    rc = r.opts.po ? run_single(&r) : run_poll(&r);
    mlc_jsonl_writer_free(r.w);
    mlc_m3_free(r.m3);
    return rc;
}
