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
#include "run.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

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

typedef struct pull_run {
    cmd_run run; /* output, counters, exit code */
    const mlc_config *cfg;
    mlc_store *st;
    mlc_m3 *m3;
    pull_opts opts;
    int lo, hi;
    long unchanged, closed_skipped, failed;
    int stop; /* output closed or limit reached */
    int limited;
} pull_run;

static int limit_reached(pull_run *r)
{
    if (r->opts.limit >= 0 && r->run.emitted >= r->opts.limit)
        r->stop = r->limited = 1;
    return r->limited;
}

/* Writes rec (taken) unless the limit is reached. */
static int write_record(pull_run *r, cJSON *rec)
{
    if (limit_reached(r)) {
        cJSON_Delete(rec);
        return -1; /* --limit 0 emits nothing */
    }
    if (cmd_run_emit(&r->run, rec)) {
        r->stop = 1;
        return -1;
    }
    limit_reached(r);
    return 0;
}

/* n POs failed with e (logged once). */
static void note_failure(pull_run *r, const mlc_error *e, long n)
{
    cmd_run_note(&r->run, e);
    for (long i = 1; i < n; i++)
        mlc_outcome_note(&r->run.out, e->code);
    r->failed += n;
}

/* Emits the record (taken) of a changed PO unless its content hash is the one
 * already emitted (or it was never emitted and is not open for shipping). */
static void handle_record(pull_run *r, const mlc_po_change *c, cJSON *rec)
{
    mlc_error e;
    char hash[65], *old = NULL;
    mlc_po_hash(rec, hash);
    int status = mlc_po_status(rec);
    if (!r->opts.no_cursor && mlc_store_seen_get(r->st, "po", c->po, &old, &e) != MLC_OK) {
        note_failure(r, &e, 1);
    } else if (old && strcmp(old, hash) == 0) {
        r->unchanged++;
    } else if (!old && (status < r->lo || status > r->hi)) {
        r->closed_skipped++; /* never emitted and not open for shipping */
    } else {
        cJSON *out = rec;
        rec = NULL;
        if (write_record(r, out) == 0 && !r->opts.no_cursor &&
            mlc_store_seen_set(r->st, "po", c->po, hash, &e) != MLC_OK)
            note_failure(r, &e, 1);
    }
    cJSON_Delete(rec);
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
        note_failure(r, &e, 1);
    } else if (mlc_po_fetch_many(r->m3, r->cfg, changes, k, recs, errs, &e) != MLC_OK) {
        note_failure(r, &e, (long)k); /* the whole chunk: every PO in it counts as failed */
    } else {
        for (size_t i = 0; i < k; i++) {
            if (recs[i] && !r->stop) {
                handle_record(r, &changes[i], recs[i]);
                recs[i] = NULL;
            } else if (!recs[i] && errs[i].code == MLC_ERR_NOTFOUND) {
                mlc_log_warn(r->run.log, "%s (changed, but no longer readable: skipped)", errs[i].msg);
            } else if (!recs[i]) {
                note_failure(r, &errs[i], 1);
            }
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
        return cmd_run_fail(&r->run, &e);
    write_record(r, rec);
    return cmd_run_exit(&r->run);
}

static int run_poll(pull_run *r)
{
    mlc_error e;
    char from[9], max_day[9], *cursor = NULL;
    if (r->opts.since) {
        if (mlc_dates_since_day(r->opts.since, from))
            return cmd_usage_error(usage, "--since needs YYYY-MM-DD or RFC 3339, not '%s'", r->opts.since);
    } else if (!r->opts.no_cursor) {
        if (mlc_store_cursor_get(r->st, CURSOR, &cursor, &e))
            return cmd_run_fail(&r->run, &e);
        int first = cursor == NULL;
        if (cursor)
            mlc_dates_m3_minus_days(cursor, (int)mlc_config_int(r->cfg, "cloudsuite.poll_overlap_days"), from);
        free(cursor);
        if (first && mlc_po_initial_day(r->m3, r->cfg, from, &e))
            return cmd_run_fail(&r->run, &e);
    } else if (mlc_po_initial_day(r->m3, r->cfg, from, &e)) { /* --no-cursor: the first run's window */
        return cmd_run_fail(&r->run, &e);
    }
    mlc_po_change *changes = NULL;
    size_t n = 0;
    if (mlc_po_changed(r->m3, r->cfg, from, &changes, &n, max_day, &e))
        return cmd_run_fail(&r->run, &e);
    mlc_log_info(r->run.log, "%zu POs changed since %s", n, from);
    limit_reached(r); /* --limit 0: count the changes, fetch none */
    long long per_call = mlc_config_int(r->cfg, "cloudsuite.bulk_read_size");
    size_t chunk = per_call < 1 ? 1 : (size_t)per_call;
    /* a stop signal: the chunk in hand is finished, no new read starts */
    for (size_t base = 0; base < n && !r->stop && !mlc_ctx_stopping(r->run.ctx);) {
        size_t k = n - base < chunk ? n - base : chunk;
        if (r->opts.limit >= 0 && (long long)k > r->opts.limit - r->run.emitted)
            k = (size_t)(r->opts.limit - r->run.emitted); /* >= 1: the limit is not reached yet */
        pull_many(r, &changes[base], k);
        base += k;
        mlc_log_progress(r->run.log, "POs", (long)base, (long)n);
    }
    mlc_log_progress_done(r->run.log);
    mlc_po_changes_free(changes);
    if (cmd_run_flush(&r->run))
        r->stop = 1;
    /* Advance only when every changed PO was handled and written. */
    if (!r->opts.no_cursor && !r->stop && !r->failed && *max_day && !mlc_ctx_stopping(r->run.ctx) &&
        mlc_store_cursor_set(r->st, CURSOR, max_day, &e))
        return cmd_run_fail(&r->run, &e);
    mlc_log_info(r->run.log, "%ld emitted, %ld unchanged, %ld not open, %ld failed", r->run.emitted, r->unchanged,
                 r->closed_skipped, r->failed);
    return cmd_run_exit(&r->run);
}

int cmd_pull_pos(int argc, char **argv, mlc_ctx *ctx)
{
    pull_run r = {0};
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
    if (cmd_run_begin(&r.run, ctx, "pull-pos")) {
        mlc_m3_free(r.m3);
        return MLC_EXIT_OSERR;
    }
    rc = r.opts.po ? run_single(&r) : run_poll(&r);
    int end = cmd_run_end(&r.run);
    mlc_m3_free(r.m3);
    return rc == MLC_EXIT_USAGE ? rc : end;
}
