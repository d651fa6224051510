/*
 * itemsync.c: the two-way item sync and its no-ping-pong memory (see itemsync.h):
 * the candidate SKUs, the per-SKU decision between M3 and ShipStation with the
 * values remembered after mlc's own writes, the item records, the cursor.
 * Not here: the M3 item calls and field rules (lib/item), products (lib/product),
 * the stock push (lib/stock), SQL (lib/store), options and printing
 * (cmd/sync_items.c).
 */
#include "itemsync.h"

#include "dates.h"
#include "item.h"
#include "product.h"
#include "stock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CURSOR "sync-items"
#define NS_M3 "item:m3"
#define NS_SS "item:ss"

struct mlc_itemsync {
    mlc_itemsync_opts o;
    mlc_store *st;
    mlc_log *log;
    mlc_item *it;
    mlc_product *pr;
    mlc_stock *stock;
    mlc_itemsync_cb cb;
    void *ud;
    char max_day[9]; /* the latest M3 change day listed */
    int ran;
    mlc_itemsync_stats stats;
};

void mlc_itemsync_opts_from_config(const mlc_config *cfg, mlc_itemsync_opts *o)
{
    memset(o, 0, sizeof *o);
    o->to_ss = o->to_m3 = 1;
    o->create_in_m3 = mlc_config_bool(cfg, "mapping.items.create_in_m3");
    o->overlap_days = mlc_config_int(cfg, "cloudsuite.poll_overlap_days");
    o->bulk_read_size = mlc_config_int(cfg, "cloudsuite.bulk_read_size");
}

mlc_err mlc_itemsync_new(const mlc_itemsync_opts *opts, const mlc_config *cfg, mlc_m3 *m3, mlc_ss *ss,
                         mlc_store *st, mlc_log *log, mlc_itemsync **out, mlc_error *err)
{
    *out = NULL;
    mlc_itemsync *s = calloc(1, sizeof *s);
    if (!s)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    s->o = *opts;
    s->st = st;
    s->log = log;
    mlc_err rc = mlc_item_new(cfg, m3, &s->it, err);
    if (!rc)
        rc = mlc_product_new(ss, log, &s->pr, err);
    if (!rc)
        rc = mlc_stock_new(cfg, m3, ss, s->it, &s->stock, err);
    if (rc) {
        mlc_itemsync_free(s);
        return rc;
    }
    *out = s;
    return MLC_OK;
}

void mlc_itemsync_free(mlc_itemsync *s)
{
    if (!s)
        return;
    mlc_stock_free(s->stock);
    mlc_product_free(s->pr);
    mlc_item_free(s->it);
    free(s);
}

int mlc_itemsync_can_write_products(const mlc_itemsync *s) { return mlc_product_can_write(s->pr); }

const mlc_itemsync_stats *mlc_itemsync_stats_get(const mlc_itemsync *s) { return &s->stats; }

static void note_failure(mlc_itemsync *s, const mlc_error *e)
{
    mlc_log_error(s->log, "%s", e->msg);
    s->stats.failed++;
    if (s->stats.worst == MLC_OK || e->code == MLC_ERR_TRANSIENT)
        s->stats.worst = e->code ? e->code : MLC_ERR_REMOTE;
    mlc_outcome_note(&s->stats.out, e->code ? e->code : MLC_ERR_REMOTE);
}

/* ---- records ---- */

typedef struct side_result {
    const char *direction;
    const char *action;
    char reason[400];
    cJSON *fields; /* array of strings */
    cJSON *stock;  /* array or NULL */
} side_result;

static void side_init(side_result *r, const char *direction)
{
    memset(r, 0, sizeof *r);
    r->direction = direction;
    r->action = "unchanged";
    r->fields = cJSON_CreateArray();
}

static void add_reason(side_result *r, const char *fmt, const char *arg)
{
    size_t n = strlen(r->reason);
    if (n && n + 2 < sizeof r->reason) {
        snprintf(r->reason + n, sizeof r->reason - n, "; ");
        n += 2;
    }
    snprintf(r->reason + n, sizeof r->reason - n, fmt, arg);
}

static void emit(mlc_itemsync *s, const char *sku, side_result *r)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "kind", "item");
    cJSON_AddStringToObject(rec, "sku", sku);
    cJSON_AddStringToObject(rec, "direction", r->direction);
    cJSON_AddItemToObject(rec, "fields_changed", r->fields);
    r->fields = NULL;
    cJSON_AddStringToObject(rec, "action", r->action);
    if (r->reason[0])
        cJSON_AddStringToObject(rec, "reason", r->reason);
    if (r->stock) {
        cJSON_AddItemToObject(rec, "stock", r->stock);
        r->stock = NULL;
    }
    if (s->o.dry_run)
        cJSON_AddTrueToObject(rec, "dry_run");
    const char *a = r->action;
    if (!strcmp(a, "updated"))
        s->stats.updated++;
    else if (!strcmp(a, "created"))
        s->stats.created++;
    else if (!strcmp(a, "reported"))
        s->stats.reported++;
    else if (!strcmp(a, "skipped"))
        s->stats.skipped++;
    else
        s->stats.unchanged++;
    if (!s->stats.stopped && s->cb) {
        mlc_itemsync_outcome o = {sku, r->direction, r->action, r->reason, rec};
        if (s->cb(s->ud, &o))
            s->stats.stopped = 1;
    }
    cJSON_Delete(rec);
}

static void add_fields(cJSON *arr, unsigned mask)
{
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        if (mask & (1u << f))
            cJSON_AddItemToArray(arr, cJSON_CreateString(mlc_item_field_name((mlc_item_field)f)));
}

/* ---- remembered values ---- */

/* 1 remembered, 0 not, -1 the store failed (err set). */
static int prev_get(mlc_itemsync *s, const char *ns, const char *sku, mlc_item_values *out, mlc_error *err)
{
    char *t = NULL;
    if (mlc_store_seen_get(s->st, ns, sku, &t, err) != MLC_OK)
        return -1;
    int ok = t && mlc_item_values_decode(t, out) == 0;
    free(t);
    return ok ? 1 : 0;
}

static void prev_set(mlc_itemsync *s, const char *ns, const mlc_item_values *v)
{
    mlc_error e = {0};
    if (s->o.dry_run)
        return;
    char *t = mlc_item_values_encode(v);
    if (!t || mlc_store_seen_set(s->st, ns, v->sku, t, &e) != MLC_OK) {
        if (!t)
            mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
        note_failure(s, &e);
    }
    free(t);
}

static int values_same(const mlc_item_values *a, const mlc_item_values *b)
{
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        if (!mlc_item_same((mlc_item_field)f, a->v[f], b->v[f]))
            return 0;
    return 1;
}

static void copy_fields(mlc_item_values *dst, const mlc_item_values *src, unsigned mask)
{
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        if (mask & (1u << f))
            memcpy(dst->v[f], src->v[f], sizeof dst->v[f]);
}

/* ---- stock ---- */

static const char *stock_action_name(mlc_stock_action a)
{
    switch (a) {
    case MLC_STOCK_ADJUSTED: return "adjusted";
    case MLC_STOCK_REPORTED: return "reported";
    case MLC_STOCK_FAILED: return "failed";
    default: return "unchanged";
    }
}

/* Stock for a SKU on both sides: fills r (fields, stock, reasons). */
static void sync_stock(mlc_itemsync *s, const char *sku, side_result *r, int *changed, int *reported)
{
    size_t n = mlc_stock_warehouses(s->stock);
    if (n == 0)
        return;
    mlc_stock_level *st = calloc(n, sizeof *st);
    if (!st)
        return;
    mlc_stock_sync(s->stock, sku, s->o.dry_run, st);
    r->stock = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "warehouse", st[i].warehouse);
        if (st[i].location[0])
            cJSON_AddStringToObject(o, "inventory_location_id", st[i].location);
        cJSON_AddStringToObject(o, "action", stock_action_name(st[i].action));
        if (st[i].action == MLC_STOCK_ADJUSTED || st[i].action == MLC_STOCK_UNCHANGED) {
            cJSON_AddNumberToObject(o, "from", st[i].ss_qty);
            cJSON_AddNumberToObject(o, "to", (double)st[i].qty);
        }
        if (st[i].reason[0])
            cJSON_AddStringToObject(o, "reason", st[i].reason);
        cJSON_AddItemToArray(r->stock, o);
        char name[40];
        switch (st[i].action) {
        case MLC_STOCK_ADJUSTED:
            snprintf(name, sizeof name, "stock:%s", st[i].warehouse);
            cJSON_AddItemToArray(r->fields, cJSON_CreateString(name));
            *changed = 1;
            break;
        case MLC_STOCK_REPORTED:
            *reported = 1;
            add_reason(r, "%s", st[i].reason);
            break;
        case MLC_STOCK_FAILED: {
            mlc_error e = {0};
            mlc_error_set(&e, st[i].err ? st[i].err : MLC_ERR_REMOTE, "%s: stock %s: %s", sku, st[i].warehouse,
                          st[i].reason);
            note_failure(s, &e);
            add_reason(r, "%s", st[i].reason);
            break;
        }
        default: break;
        }
    }
    free(st);
}

/* ---- one SKU ---- */

static void sync_ss_only(mlc_itemsync *s, const char *sku, const mlc_item_values *ss)
{
    mlc_error e = {0};
    if (!s->o.to_m3)
        return; /* reported by the to-cloudsuite direction */
    side_result r;
    side_init(&r, "to-cloudsuite");
    int remember = 1;
    if (!s->o.create_in_m3) {
        r.action = "reported";
        add_reason(&r, "%s", "SKU only in ShipStation (mapping.items.create_in_m3 is false)");
    } else if (s->o.dry_run || mlc_item_m3_create(s->it, ss, &e) == MLC_OK) {
        r.action = "created";
        for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
            if (ss->v[f][0])
                cJSON_AddItemToArray(r.fields, cJSON_CreateString(mlc_item_field_name((mlc_item_field)f)));
        mlc_item_values m3;
        if (!s->o.dry_run && mlc_item_m3_get(s->it, sku, &m3, &e) == MLC_OK)
            prev_set(s, NS_M3, &m3);
    } else {
        note_failure(s, &e);
        r.action = "skipped";
        add_reason(&r, "%s", e.msg);
        remember = e.code == MLC_ERR_CONFIG; /* a config gap is reported once per change */
    }
    if (remember)
        prev_set(s, NS_SS, ss);
    emit(s, sku, &r);
}

static void sync_m3_only(mlc_itemsync *s, const char *sku, const mlc_item_values *m3)
{
    if (!s->o.to_ss)
        return;
    side_result r;
    side_init(&r, "to-shipstation");
    r.action = "reported";
    add_reason(&r, "%s", "SKU only in CloudSuite: no ShipStation product has it");
    prev_set(s, NS_M3, m3);
    emit(s, sku, &r);
}

/* One side-less outcome: action with a reason. */
static void emit_one(mlc_itemsync *s, const char *sku, const char *action, const char *reason)
{
    side_result r;
    side_init(&r, s->o.to_ss ? "to-shipstation" : "to-cloudsuite");
    r.action = action;
    add_reason(&r, "%s", reason);
    emit(s, sku, &r);
}

/* M3 -> ShipStation: product fields in plan.to_ss, then stock.  Sets *pending when
 * M3's change was not carried over. */
static void to_shipstation(mlc_itemsync *s, const char *sku, const mlc_item_values *m3, mlc_item_values *ss,
                           unsigned mask, int *pending)
{
    mlc_error e = {0};
    side_result r;
    side_init(&r, "to-shipstation");
    int changed = 0, reported = 0, failed = 0;
    if (mask) {
        mlc_item_values target = *ss;
        copy_fields(&target, m3, mask);
        if (!mlc_product_can_write(s->pr)) { /* a setup limit, warned once: not a failure */
            *pending = reported = 1;
            add_reason(&r, "%s", "product fields differ but V2 products are read-only: add V1 credentials");
        } else if (s->o.dry_run || mlc_product_update(s->pr, &target, mask, &e) == MLC_OK) {
            add_fields(r.fields, mask);
            *ss = target;
            changed = 1;
        } else {
            note_failure(s, &e);
            add_reason(&r, "%s", e.msg);
            r.action = "skipped";
            *pending = failed = 1;
        }
    }
    sync_stock(s, sku, &r, &changed, &reported);
    if (!failed)
        r.action = changed ? "updated" : reported ? "reported" : "unchanged";
    emit(s, sku, &r);
}

/* ShipStation -> M3: the fields in mask.  Sets *pending when ShipStation's change
 * was not carried over; *m3 becomes what M3 holds after the write. */
static void to_cloudsuite(mlc_itemsync *s, const char *sku, mlc_item_values *m3, const mlc_item_values *ss,
                          unsigned mask, int *pending)
{
    mlc_error e = {0};
    side_result r;
    side_init(&r, "to-cloudsuite");
    if (mask) {
        mlc_item_values target = *m3;
        copy_fields(&target, ss, mask);
        if (s->o.dry_run || mlc_item_m3_update(s->it, &target, mask, &e) == MLC_OK) {
            add_fields(r.fields, mask);
            r.action = "updated";
            if (!s->o.dry_run && mlc_item_m3_get(s->it, sku, m3, &e) != MLC_OK)
                *m3 = target; /* re-read failed: remember what was written */
        } else {
            note_failure(s, &e);
            r.action = "skipped";
            add_reason(&r, "%s", e.msg);
            *pending = 1;
        }
    }
    emit(s, sku, &r);
}

static void sync_sku(mlc_itemsync *s, const char *sku)
{
    mlc_error e = {0};
    mlc_item_values m3, ss, m3p, ssp;
    mlc_err rc = mlc_item_m3_get(s->it, sku, &m3, &e);
    int have_m3 = rc == MLC_OK;
    if (rc && rc != MLC_ERR_NOTFOUND) {
        note_failure(s, &e);
        emit_one(s, sku, "skipped", e.msg);
        return;
    }
    const cJSON *p = mlc_product_get(s->pr, sku);
    if (p)
        mlc_item_from_product(p, &ss);
    if (!have_m3 && !p) {
        emit_one(s, sku, "reported", "SKU unknown in CloudSuite and in ShipStation");
        return;
    }
    if (!have_m3) {
        sync_ss_only(s, sku, &ss);
        return;
    }
    if (!p) {
        sync_m3_only(s, sku, &m3);
        return;
    }
    int hm = prev_get(s, NS_M3, sku, &m3p, &e), hs = hm < 0 ? -1 : prev_get(s, NS_SS, sku, &ssp, &e);
    if (hm < 0 || hs < 0) {
        note_failure(s, &e);
        return;
    }
    mlc_item_plan_out plan;
    mlc_item_plan(mlc_item_owners(s->it), &m3, hm ? &m3p : NULL, &ss, hs ? &ssp : NULL, &plan);
    int m3_pending = 0, ss_pending = 0; /* a side's change not carried over yet */
    if (s->o.to_ss)
        to_shipstation(s, sku, &m3, &ss, plan.to_ss, &m3_pending);
    else if (plan.to_ss)
        m3_pending = 1;
    if (s->o.to_m3)
        to_cloudsuite(s, sku, &m3, &ss, plan.to_m3, &ss_pending);
    else if (plan.to_m3)
        ss_pending = 1;
    if (!m3_pending)
        prev_set(s, NS_M3, &m3);
    if (!ss_pending)
        prev_set(s, NS_SS, &ss);
}

/* ---- candidates ---- */

typedef struct sku_set {
    char **v;
    size_t n, cap;
} sku_set;

static int set_add(sku_set *set, const char *sku)
{
    if (set->n == set->cap) {
        size_t nc = set->cap ? set->cap * 2 : 64;
        char **nv = realloc(set->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        set->v = nv;
        set->cap = nc;
    }
    if (!(set->v[set->n] = strdup(sku)))
        return -1;
    set->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void set_free(sku_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->v[i]);
    free(set->v);
}

/* Sorted, each SKU once. */
static void set_unique(sku_set *set)
{
    if (set->n > 1)
        qsort(set->v, set->n, sizeof *set->v, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (u && strcmp(set->v[u - 1], set->v[i]) == 0) {
            free(set->v[i]);
            continue;
        }
        set->v[u++] = set->v[i];
    }
    set->n = u;
}

/* Products whose values moved since mlc last looked, or that disagree with M3 as last seen. */
static mlc_err product_candidates(mlc_itemsync *s, sku_set *set, mlc_error *err)
{
    for (size_t i = 0; i < mlc_product_count(s->pr); i++) {
        const char *sku = mlc_product_sku(s->pr, i);
        mlc_item_values cur, ssp, m3p;
        mlc_item_from_product(mlc_product_get(s->pr, sku), &cur);
        int hs = prev_get(s, NS_SS, sku, &ssp, err), hm = hs < 0 ? -1 : prev_get(s, NS_M3, sku, &m3p, err);
        if (hs < 0 || hm < 0)
            return err->code ? err->code : MLC_ERR_STORE;
        if (!hs || !values_same(&cur, &ssp) || (hm && !values_same(&cur, &m3p)))
            if (set_add(set, sku))
                return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    return MLC_OK;
}

/* M3 items changed since opts.since_day or the cursor (less the overlap). */
static mlc_err m3_candidates(mlc_itemsync *s, sku_set *set, mlc_error *err)
{
    char from[9] = "";
    if (s->o.since_day) {
        snprintf(from, sizeof from, "%s", s->o.since_day);
    } else {
        char *cursor = NULL;
        if (mlc_store_cursor_get(s->st, CURSOR, &cursor, err))
            return err->code;
        time_t t;
        if (cursor && mlc_dates_parse_m3(cursor, &t) == 0)
            mlc_dates_format_m3(t - (time_t)s->o.overlap_days * 86400, from);
        free(cursor);
    }
    char **skus = NULL;
    size_t n = 0;
    mlc_err rc = mlc_item_m3_changed(s->it, from, &skus, &n, s->max_day, err);
    if (rc)
        return rc;
    mlc_log_info(s->log, "%zu M3 items changed since %s", n, from[0] ? from : "the beginning");
    for (size_t i = 0; !rc && i < n; i++)
        if (set_add(set, skus[i]))
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    free(skus);
    return rc;
}

static mlc_err candidates(mlc_itemsync *s, sku_set *set, mlc_error *err)
{
    if (s->o.sku)
        return set_add(set, s->o.sku) ? mlc_error_set(err, MLC_ERR_NOMEM, "out of memory") : MLC_OK;
    mlc_err rc = s->o.to_ss ? m3_candidates(s, set, err) : MLC_OK;
    size_t before = set->n;
    if (!rc)
        rc = product_candidates(s, set, err);
    if (rc)
        return rc;
    mlc_log_info(s->log, "%zu of %zu ShipStation products changed", set->n - before, mlc_product_count(s->pr));
    set_unique(set);
    return MLC_OK;
}

mlc_err mlc_itemsync_run(mlc_itemsync *s, mlc_itemsync_cb cb, void *ud, mlc_error *err)
{
    sku_set set = {0};
    s->cb = cb;
    s->ud = ud;
    s->max_day[0] = '\0';
    mlc_err rc = mlc_product_load(s->pr, err);
    if (!rc)
        rc = candidates(s, &set, err);
    if (rc) {
        set_free(&set);
        return rc;
    }
    /* the M3 side in bulk, bulk_read_size SKUs at a time, not one read per SKU */
    size_t chunk = s->o.bulk_read_size > 0 ? (size_t)s->o.bulk_read_size : 1;
    for (size_t i = 0; i < set.n && !s->stats.stopped; i += chunk) {
        size_t k = set.n - i < chunk ? set.n - i : chunk;
        mlc_error e = {0};
        if (k > 1 && (mlc_item_m3_prefetch(s->it, set.v + i, k, &e) ||
                      mlc_stock_prefetch(s->stock, set.v + i, k, &e))) {
            mlc_item_m3_forget(s->it);
            mlc_stock_forget(s->stock);
            mlc_log_warn(s->log, "%s: reading these items one at a time", e.msg);
        }
        for (size_t j = i; j < i + k && !s->stats.stopped; j++) {
            sync_sku(s, set.v[j]);
            mlc_log_progress(s->log, "items", (long)j + 1, (long)set.n);
        }
    }
    mlc_item_m3_forget(s->it);
    mlc_stock_forget(s->stock);
    mlc_log_progress_done(s->log);
    set_free(&set);
    s->ran = 1;
    return MLC_OK;
}

mlc_err mlc_itemsync_finish(mlc_itemsync *s, mlc_error *err)
{
    if (!s->ran || s->o.dry_run || s->o.sku || !s->o.to_ss || s->stats.stopped || s->stats.failed ||
        !s->max_day[0])
        return MLC_OK;
    return mlc_store_cursor_set(s->st, CURSOR, s->max_day, err);
}
