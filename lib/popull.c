/*
 * popull.c: the pull-pos protocol (see popull.h): content hashes, the open
 * range, the limit, when the cursor may move, and the redelivery of records
 * push-shipments has not taken in (the outbox).
 * Not here: M3 calls (lib/po), writing records (the caller), push-shipments'
 * judgement of a record (lib/push).
 */
#include "popull.h"

#include "dates.h"
#include "map.h"
#include "po.h"
#include "push.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CURSOR "pull-pos"
#define OUTBOX "po"      /* the outbox namespace of records awaiting push-shipments */
#define OUTBOX_MAX 2000  /* records looked at per run (the rest: the next run) */

struct mlc_popull {
    mlc_m3 *m3;
    const mlc_config *cfg;
    mlc_store *st;
    mlc_log *log;
    mlc_ctx *stop_ctx;
    mlc_popull_opts o;
    mlc_popull_stats s;
    mlc_popull_emit_fn emit;
    mlc_popull_fail_fn fail;
    void *ud;
    char max_day[9]; /* the latest change day of this poll, "" before one */
    int stop;        /* the output refused a record, or the limit is reached */
    int limited;
    int64_t redeliver_s;    /* written again until taken in, this long (0 = never) */
    mlc_map *map;           /* push-shipments' mapping and options, to judge as it does */
    mlc_push_options push;
};

mlc_err mlc_popull_new(mlc_m3 *m3, const mlc_config *cfg, mlc_store *st, mlc_log *log, const mlc_popull_opts *o,
                       mlc_popull **out, mlc_error *err)
{
    *out = NULL;
    if (!st && !o->no_cursor)
        return mlc_error_set(err, MLC_ERR_USAGE, "pull-pos: a state store is needed unless no_cursor");
    mlc_popull *p = calloc(1, sizeof *p);
    if (!p)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    p->m3 = m3;
    p->cfg = cfg;
    p->st = st;
    p->log = log;
    p->o = *o;
    if (st && !o->no_cursor && cfg)
        p->redeliver_s = (int64_t)mlc_config_int(cfg, "cloudsuite.redeliver_hours") * 3600;
    mlc_error me;
    if (p->redeliver_s > 0 &&
        (mlc_push_options_from_config(cfg, &p->push, &me) || mlc_map_new(cfg, &p->map, &me))) {
        /* push-shipments refuses to run with this mapping too: nothing to wait for */
        mlc_log_warn(log, "no redelivery of purchase orders (%s)", me.msg);
        p->redeliver_s = 0;
    }
    *out = p;
    return MLC_OK;
}

void mlc_popull_free(mlc_popull *p)
{
    if (p)
        mlc_map_free(p->map);
    free(p);
}

void mlc_popull_stop_on(mlc_popull *p, mlc_ctx *ctx) { p->stop_ctx = ctx; }

static int stopping(const mlc_popull *p) { return p->stop_ctx && mlc_ctx_stopping(p->stop_ctx); }

const mlc_popull_stats *mlc_popull_stats_get(const mlc_popull *p) { return &p->s; }

static int limit_reached(mlc_popull *p)
{
    if (p->o.limit >= 0 && p->s.emitted + p->s.outbox.redelivered >= p->o.limit)
        p->stop = p->limited = 1;
    return p->limited;
}

static void failed(mlc_popull *p, const mlc_error *e, long n)
{
    p->s.failed += n;
    p->fail(p->ud, e, n);
}

/* Emits rec (taken) unless the limit is reached; 0 when it is out. */
static int emit(mlc_popull *p, cJSON *rec)
{
    if (limit_reached(p)) {
        cJSON_Delete(rec);
        return -1; /* --limit 0 emits nothing */
    }
    if (p->emit(p->ud, rec) != MLC_OK) {
        p->stop = 1;
        return -1;
    }
    p->s.emitted++;
    limit_reached(p);
    return 0;
}

/* The text to keep in the outbox for rec (*text NULL: nothing to keep), while
 * redelivery is on: every record push-shipments would act on. Whether its link
 * table has it is not asked here (its reader may be taking an older version in
 * right now); the next run asks. A record push-shipments would reject is not
 * kept: handing it over again would only be rejected again. */
static mlc_err outbox_text(mlc_popull *p, const cJSON *rec, char **text, mlc_error *err)
{
    int wants = 0;
    mlc_error ie;
    *text = NULL;
    if (p->redeliver_s <= 0)
        return MLC_OK;
    if (mlc_push_wants(p->map, &p->push, rec, &wants, &ie) != MLC_OK) {
        mlc_log_debug(p->log, "PO not kept for redelivery (push-shipments rejects it: %s)", ie.msg);
        return MLC_OK;
    }
    if (wants && !(*text = cJSON_PrintUnformatted(rec)))
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    return MLC_OK;
}

/* Emits the record (taken) of a changed PO unless its content hash is the one
 * already emitted (or it was never emitted and is not open for shipping). */
static void handle_record(mlc_popull *p, const mlc_po_change *c, cJSON *rec)
{
    mlc_error e;
    char hash[65], *old = NULL;
    mlc_po_hash(rec, hash);
    int status = mlc_po_status(rec);
    if (!p->o.no_cursor && mlc_store_seen_get(p->st, "po", c->po, &old, &e) != MLC_OK) {
        failed(p, &e, 1);
    } else if (old && strcmp(old, hash) == 0) {
        p->s.unchanged++;
    } else if (!old && (status < p->o.lo || status > p->o.hi)) {
        p->s.closed_skipped++; /* never emitted and not open for shipping */
    } else {
        char *keep = NULL;
        cJSON *out = rec;
        rec = NULL;
        if (outbox_text(p, out, &keep, &e) != MLC_OK) {
            failed(p, &e, 1);
            cJSON_Delete(out);
        } else if (emit(p, out) == 0 && !p->o.no_cursor) {
            /* kept before the hash is: a death in between writes it again, never
             * loses it; a version that needs no keeping drops an older one kept */
            mlc_err rc = MLC_OK;
            if (keep)
                rc = mlc_store_outbox_put(p->st, OUTBOX, c->po, keep, (int64_t)time(NULL), &e);
            else if (p->redeliver_s > 0)
                rc = mlc_store_outbox_delete(p->st, OUTBOX, c->po, &e);
            if (rc || mlc_store_seen_set(p->st, "po", c->po, hash, &e) != MLC_OK)
                failed(p, &e, 1);
        }
        free(keep);
    }
    cJSON_Delete(rec);
    free(old);
}

/* Reads the k POs of changes with two bulk calls and handles each. */
static void pull_many(mlc_popull *p, const mlc_po_change *changes, size_t k)
{
    mlc_error e;
    cJSON **recs = calloc(k, sizeof *recs);
    mlc_error *errs = calloc(k, sizeof *errs);
    if (!recs || !errs) {
        mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
        failed(p, &e, 1);
    } else if (mlc_po_fetch_many(p->m3, p->cfg, changes, k, recs, errs, &e) != MLC_OK) {
        failed(p, &e, (long)k); /* the whole chunk: every PO in it counts as failed */
    } else {
        for (size_t i = 0; i < k; i++) {
            if (recs[i] && !p->stop) {
                handle_record(p, &changes[i], recs[i]);
                recs[i] = NULL;
            } else if (!recs[i] && errs[i].code == MLC_ERR_NOTFOUND) {
                mlc_log_warn(p->log, "%s (changed, but no longer readable: skipped)", errs[i].msg);
            } else if (!recs[i]) {
                failed(p, &errs[i], 1);
            }
            cJSON_Delete(recs[i]);
        }
    }
    free(recs);
    free(errs);
}

/* ------------------------------------------------------------ redelivery */

typedef struct popull_walk {
    mlc_popull *p;
    mlc_popull_emit_fn emit;
    void *ud;
} popull_walk;

static mlc_err walk_taken(void *ud, const cJSON *rec, int *taken, mlc_error *err)
{
    mlc_popull *p = ((popull_walk *)ud)->p;
    return mlc_push_taken_in(p->st, p->map, &p->push, rec, taken, err);
}

static int walk_hold(void *ud)
{
    mlc_popull *p = ((popull_walk *)ud)->p;
    return p->stop || stopping(p) || limit_reached(p); /* --limit: the rest waits for the next run */
}

/* Written again: the poll below does not write the same PO again in this run
 * (push-shipments forgot its hash when a stop kept it from pushing the PO:
 * mlc-push-shipments(1)). The reader gone (reported by emit): no poll, the
 * cursor stays. */
static mlc_err walk_emit(void *ud, const mlc_store_outbox_item *it, cJSON *rec, mlc_error *err)
{
    popull_walk *w = ud;
    char hash[65];
    cJSON *kept = cJSON_Parse(it->record); /* the hash is the record's as written, before "source" */
    mlc_po_hash(kept ? kept : rec, hash);
    cJSON_Delete(kept);
    if (w->emit(w->ud, rec)) {
        w->p->stop = 1;
        return MLC_ERR_PIPE;
    }
    return mlc_store_seen_set(w->p->st, "po", it->key, hash, err);
}

mlc_err mlc_popull_redeliver(mlc_popull *p, mlc_popull_emit_fn emit_fn, void *ud, mlc_error *err)
{
    popull_walk pw = {p, emit_fn, ud};
    mlc_outbox_walk w = {.st = p->st,
                         .ns = OUTBOX,
                         .max = OUTBOX_MAX,
                         .redeliver_s = p->redeliver_s,
                         .log = p->log,
                         .what = "PO",
                         .audit_key = "po",
                         .expired_msg = "and push-shipments never took it in (no shipment link with its content): "
                                        "not written again (cloudsuite.redeliver_hours); if it should have a "
                                        "shipment, see mlc-pull-pos(1), REDELIVERY",
                         .taken = walk_taken,
                         .hold = walk_hold,
                         .emit = walk_emit,
                         .ud = &pw};
    mlc_err rc = mlc_outbox_redeliver(&w, &p->s.outbox, err);
    return rc == MLC_ERR_PIPE && p->stop ? MLC_OK : rc;
}

/* The day this poll starts from. */
static mlc_err from_day(mlc_popull *p, char from[9], mlc_error *err)
{
    char *cursor = NULL;
    if (p->o.since_day) {
        snprintf(from, 9, "%s", p->o.since_day);
        return MLC_OK;
    }
    if (p->o.no_cursor) /* the first run's window */
        return mlc_po_initial_day(p->m3, p->cfg, from, err);
    mlc_err rc = mlc_store_cursor_get(p->st, CURSOR, &cursor, err);
    if (rc)
        return rc;
    if (!cursor)
        return mlc_po_initial_day(p->m3, p->cfg, from, err);
    mlc_dates_m3_minus_days(cursor, (int)mlc_config_int(p->cfg, "cloudsuite.poll_overlap_days"), from);
    free(cursor);
    return MLC_OK;
}

mlc_err mlc_popull_poll(mlc_popull *p, mlc_popull_emit_fn emit_fn, mlc_popull_fail_fn fail_fn, void *ud, mlc_error *err)
{
    char from[9];
    mlc_po_change *changes = NULL;
    size_t n = 0;
    p->emit = emit_fn;
    p->fail = fail_fn;
    p->ud = ud;
    if (p->stop && !p->limited)
        return MLC_OK; /* the reader went away during the redelivery */
    mlc_err rc = from_day(p, from, err);
    if (!rc)
        rc = mlc_po_changed(p->m3, p->cfg, from, &changes, &n, p->max_day, err);
    if (rc)
        return rc;
    p->s.changed = (long)n;
    mlc_log_info(p->log, "%zu POs changed since %s", n, from);
    limit_reached(p); /* --limit 0: count the changes, fetch none */
    long long per_call = mlc_config_int(p->cfg, "cloudsuite.bulk_read_size");
    size_t chunk = per_call < 1 ? 1 : (size_t)per_call;
    /* a stop signal: the chunk in hand is finished, no new read starts */
    for (size_t base = 0; base < n && !p->stop && !stopping(p);) {
        size_t k = n - base < chunk ? n - base : chunk;
        if (p->o.limit >= 0 && (long long)k > p->o.limit - p->s.emitted)
            k = (size_t)(p->o.limit - p->s.emitted); /* >= 1: the limit is not reached yet */
        pull_many(p, &changes[base], k);
        base += k;
        mlc_log_progress(p->log, "POs", (long)base, (long)n);
    }
    mlc_log_progress_done(p->log);
    mlc_po_changes_free(changes);
    return MLC_OK;
}

mlc_err mlc_popull_commit(mlc_popull *p, int written, mlc_error *err)
{
    /* Advance only when every changed PO was handled and written. */
    if (p->o.no_cursor || !written || p->stop || p->s.failed || !p->max_day[0] || stopping(p))
        return MLC_OK;
    return mlc_store_cursor_set(p->st, CURSOR, p->max_day, err);
}
