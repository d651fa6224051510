/*
 * pull_pos.c: `mlc pull-pos`: emits one purchase_order record per CloudSuite PO
 * changed since the stored cursor (see man/mlc-pull-pos.1).
 *
 * Which POs are emitted and when the cursor moves is lib/popull's (the cursor
 * advances only after the records were written); this file parses the options,
 * writes the records (cmd/run) and reports. Records written before that
 * push-shipments never linked (its reader died) are written again first
 * (redelivery, lib/popull).
 * Not here: M3 calls (lib/po, lib/m3), state (lib/store), the protocol (lib/popull).
 */
#include "builtin.h"
#include "cmd.h"
#include "dates.h"
#include "m3.h"
#include "po.h"
#include "popull.h"
#include "run.h"
#include "store.h"

#include <string.h>

static const char usage[] =
    "usage: mlc pull-pos [--since DATE] [--po PUNO] [--status LO-HI] [--limit N] [--no-cursor]\n"
    "                    [--no-redeliver]\n"
    "\n"
    "Emits a purchase_order record (JSON line) for each CloudSuite PO changed since the\n"
    "last run. The cursor advances only after the records are written. Records written\n"
    "before that push-shipments has not linked yet (its reader died) come first, written\n"
    "again (source \"redeliver\"; cloudsuite.redeliver_hours).\n"
    "\n"
    "  --since DATE     poll from this day (YYYY-MM-DD or RFC 3339) instead of the cursor\n"
    "  --po PUNO        emit this one PO (cursor and hashes untouched)\n"
    "  --status LO-HI   lowest-status range of POs open for shipping (default cloudsuite.po_statuses)\n"
    "  --limit N        emit at most N records (the cursor then stays where it was)\n"
    "  --no-cursor      neither read nor move the cursor or the hashes: emit every match\n"
    "  --no-redeliver   write nothing again this run (what is kept stays kept)\n"
    "  -h, --help       this help\n";

typedef struct pull_opts {
    const char *since, *po, *status;
    long long limit;
    int no_cursor, no_redeliver;
} pull_opts;

static int parse_opts(int argc, char **argv, pull_opts *o)
{
    static const struct option longopts[] = {
        {"since", required_argument, 0, 's'}, {"po", required_argument, 0, 'p'},
        {"status", required_argument, 0, 't'}, {"limit", required_argument, 0, 'l'},
        {"no-cursor", no_argument, 0, 'n'},   {"no-redeliver", no_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},
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
        case 'R': o->no_redeliver = 1; break;
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

static mlc_err emit(void *ud, cJSON *rec)
{
    return cmd_run_emit(ud, rec) ? MLC_ERR_PIPE : MLC_OK;
}

static void failed(void *ud, const mlc_error *e, long n)
{
    cmd_run *r = ud;
    cmd_run_note(r, e);
    for (long i = 1; i < n; i++) /* a whole bulk read: every PO in it */
        mlc_outcome_note(&r->out, e->code);
}

/* --po: the one PO, cursor and hashes untouched. */
static void pull_one(cmd_run *r, mlc_m3 *m3, const mlc_config *cfg, const pull_opts *o)
{
    mlc_error e;
    cJSON *rec = NULL;
    if (mlc_po_fetch(m3, cfg, o->po, NULL, &rec, &e) != MLC_OK)
        cmd_run_fail(r, &e);
    else if (o->limit != 0)
        cmd_run_emit(r, rec);
    else
        cJSON_Delete(rec);
}

/* The poll (lib/popull); 0, or MLC_EXIT_USAGE for a bad --since. */
static int poll(cmd_run *r, mlc_m3 *m3, const mlc_config *cfg, mlc_store *st, const pull_opts *o, int lo, int hi)
{
    char since[9];
    mlc_popull_opts po = {.lo = lo, .hi = hi, .limit = o->limit, .no_cursor = o->no_cursor};
    mlc_popull *p = NULL;
    mlc_error e;
    if (o->since && mlc_dates_since_day(o->since, since))
        return cmd_usage_error(usage, "--since needs YYYY-MM-DD or RFC 3339, not '%s'", o->since);
    po.since_day = o->since ? since : NULL;
    if (mlc_popull_new(m3, cfg, st, r->log, &po, &p, &e)) {
        cmd_run_fail(r, &e);
        return 0;
    }
    mlc_popull_stop_on(p, r->ctx);
    /* first what earlier runs wrote and push-shipments never linked (a reader that
     * died): in order, before any newer version of the same PO */
    if ((!o->no_redeliver && mlc_popull_redeliver(p, emit, r, &e)) || mlc_popull_poll(p, emit, failed, r, &e) ||
        mlc_popull_commit(p, cmd_run_flush(r) == 0, &e)) { /* the records are out before the cursor moves */
        cmd_run_fail(r, &e);
    } else {
        const mlc_popull_stats *s = mlc_popull_stats_get(p);
        mlc_log_info(r->log,
                     "%ld emitted, %ld unchanged, %ld not open, %ld failed, %ld written again (not linked by "
                     "push-shipments yet), %ld given up",
                     s->emitted, s->unchanged, s->closed_skipped, s->failed, s->outbox.redelivered, s->outbox.given_up);
    }
    mlc_popull_free(p);
    return 0;
}

int cmd_pull_pos(int argc, char **argv, mlc_ctx *ctx)
{
    pull_opts o;
    const mlc_config *cfg;
    mlc_store *st = NULL;
    mlc_m3 *m3 = NULL;
    cmd_run r;
    mlc_error e;
    int lo, hi, rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc < 0 ? cmd_help(usage) : rc;
    if (mlc_ctx_config(ctx, &cfg, &e))
        return cmd_fail(ctx, &e);
    const char *statuses = o.status ? o.status : mlc_config_str(cfg, "cloudsuite.po_statuses");
    if (mlc_po_parse_statuses(statuses, &lo, &hi))
        return cmd_usage_error(usage, "--status needs LO-HI (e.g. 15-50), not '%s'", statuses);
    if (!o.no_cursor && !o.po && mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    if (mlc_m3_new(ctx, NULL, &m3, &e))
        return cmd_fail(ctx, &e);
    if (cmd_run_begin(&r, ctx, "pull-pos")) {
        mlc_m3_free(m3);
        return MLC_EXIT_OSERR;
    }
    if (o.po)
        pull_one(&r, m3, cfg, &o);
    else
        rc = poll(&r, m3, cfg, st, &o, lo, hi);
    int end = cmd_run_end(&r);
    mlc_m3_free(m3);
    return rc ? rc : end;
}
