/*
 * sync_items.c: `mlc sync-items`: keeps CloudSuite items and ShipStation products
 * and stock aligned, both ways, field by field as mapping.items.owners says (see
 * man/mlc-sync-items.1).  Emits one `item` record per SKU and direction.
 *
 * Which SKUs a run looks at: M3 items changed since the cursor (a change day, read
 * with cloudsuite.poll_overlap_days of overlap), and every ShipStation product whose
 * synced fields differ from what mlc last saw or wrote there, or from what it last
 * saw in M3.  After its own writes mlc remembers the values it wrote on each side
 * (store namespaces "item:m3" and "item:ss"), so its writes are not taken for new
 * changes on the next run: no ping-pong.  Values are not remembered for a side
 * whose change is still waiting for the other direction.
 * Not here: the M3/ShipStation calls and the field rules (lib/item), SQL (lib/store).
 */
#include "builtin.h"
#include "cmd.h"
#include "dates.h"
#include "item.h"
#include "jsonl.h"
#include "m3.h"
#include "shipstation.h"
#include "store.h"

#include <stdlib.h>
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

#define CURSOR "sync-items"
#define NS_M3 "item:m3"
#define NS_SS "item:ss"

typedef struct sync_opts {
    int to_ss, to_m3, dry_run;
    const char *sku, *since;
} sync_opts;

typedef struct sync_run {
    mlc_ctx *ctx;
    mlc_log *log;
    const mlc_config *cfg;
    mlc_store *st;
    mlc_m3 *m3;
    mlc_ss *ss;
    mlc_item *it;
    mlc_jsonl_writer *w;
    sync_opts o;
    long n_updated, n_created, n_unchanged, n_reported, n_skipped, n_failed;
    mlc_err worst;
    int stop;
} sync_run;

static int parse_opts(int argc, char **argv, sync_opts *o)
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

static void note_failure(sync_run *r, const mlc_error *e)
{
    mlc_log_error(r->log, "%s", e->msg);
    r->n_failed++;
    if (r->worst == MLC_OK || e->code == MLC_ERR_TRANSIENT)
        r->worst = e->code ? e->code : MLC_ERR_REMOTE;
}

/* ---- records ---- */

typedef struct side_result {
    const char *direction;
    const char *action;
    char reason[400];
    cJSON *fields; /* array of strings */
    cJSON *stock;  /* array or NULL */
} side_result;

static void side_init(side_result *s, const char *direction)
{
    memset(s, 0, sizeof *s);
    s->direction = direction;
    s->action = "unchanged";
    s->fields = cJSON_CreateArray();
}

static void add_reason(side_result *s, const char *fmt, const char *arg)
{
    size_t n = strlen(s->reason);
    if (n && n + 2 < sizeof s->reason) {
        snprintf(s->reason + n, sizeof s->reason - n, "; ");
        n += 2;
    }
    snprintf(s->reason + n, sizeof s->reason - n, fmt, arg);
}

static void emit(sync_run *r, const char *sku, side_result *s)
{
    mlc_error e = {0};
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "kind", "item");
    cJSON_AddStringToObject(rec, "sku", sku);
    cJSON_AddStringToObject(rec, "direction", s->direction);
    cJSON_AddItemToObject(rec, "fields_changed", s->fields);
    s->fields = NULL;
    cJSON_AddStringToObject(rec, "action", s->action);
    if (s->reason[0])
        cJSON_AddStringToObject(rec, "reason", s->reason);
    if (s->stock) {
        cJSON_AddItemToObject(rec, "stock", s->stock);
        s->stock = NULL;
    }
    if (r->o.dry_run)
        cJSON_AddTrueToObject(rec, "dry_run");
    const char *a = s->action;
    if (!strcmp(a, "updated"))
        r->n_updated++;
    else if (!strcmp(a, "created"))
        r->n_created++;
    else if (!strcmp(a, "reported"))
        r->n_reported++;
    else if (!strcmp(a, "skipped"))
        r->n_skipped++;
    else
        r->n_unchanged++;
    if (!r->stop) {
        mlc_err rc = mlc_jsonl_write(r->w, rec, &e);
        if (rc == MLC_ERR_PIPE)
            r->stop = 1;
        else if (rc) {
            mlc_log_error(r->log, "%s", e.msg);
            r->worst = rc;
            r->stop = 1;
        }
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

static int prev_get(sync_run *r, const char *ns, const char *sku, mlc_item_values *out)
{
    mlc_error e = {0};
    char *s = NULL;
    if (mlc_store_seen_get(r->st, ns, sku, &s, &e) != MLC_OK) {
        note_failure(r, &e);
        return -1;
    }
    int ok = s && mlc_item_values_decode(s, out) == 0;
    free(s);
    return ok ? 1 : 0;
}

static void prev_set(sync_run *r, const char *ns, const mlc_item_values *v)
{
    mlc_error e = {0};
    if (r->o.dry_run)
        return;
    char *s = mlc_item_values_encode(v);
    if (!s || mlc_store_seen_set(r->st, ns, v->sku, s, &e) != MLC_OK) {
        if (!s)
            mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
        note_failure(r, &e);
    }
    free(s);
}

static int values_same(const mlc_item_values *a, const mlc_item_values *b)
{
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        if (!mlc_item_same((mlc_item_field)f, a->v[f], b->v[f]))
            return 0;
    return 1;
}

/* ---- one SKU ---- */

static const char *stock_action_name(mlc_item_stock_action a)
{
    switch (a) {
    case MLC_STOCK_ADJUSTED: return "adjusted";
    case MLC_STOCK_REPORTED: return "reported";
    case MLC_STOCK_FAILED: return "failed";
    default: return "unchanged";
    }
}

/* Stock for a SKU on both sides: fills s (fields, stock, reasons). */
static void sync_stock(sync_run *r, const char *sku, side_result *s, int *changed, int *reported)
{
    size_t n = mlc_item_stock_warehouses(r->it);
    if (n == 0)
        return;
    mlc_item_stock *st = calloc(n, sizeof *st);
    if (!st)
        return;
    mlc_item_stock_sync(r->it, sku, r->o.dry_run, st);
    s->stock = cJSON_CreateArray();
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
        cJSON_AddItemToArray(s->stock, o);
        char name[40];
        switch (st[i].action) {
        case MLC_STOCK_ADJUSTED:
            snprintf(name, sizeof name, "stock:%s", st[i].warehouse);
            cJSON_AddItemToArray(s->fields, cJSON_CreateString(name));
            *changed = 1;
            break;
        case MLC_STOCK_REPORTED:
            *reported = 1;
            add_reason(s, "%s", st[i].reason);
            break;
        case MLC_STOCK_FAILED: {
            mlc_error e = {0};
            mlc_error_set(&e, st[i].err ? st[i].err : MLC_ERR_REMOTE, "%s: stock %s: %s", sku, st[i].warehouse,
                          st[i].reason);
            note_failure(r, &e);
            add_reason(s, "%s", st[i].reason);
            break;
        }
        default: break;
        }
    }
    free(st);
}

static void copy_fields(mlc_item_values *dst, const mlc_item_values *src, unsigned mask)
{
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        if (mask & (1u << f))
            memcpy(dst->v[f], src->v[f], sizeof dst->v[f]);
}

static void sync_ss_only(sync_run *r, const char *sku, const mlc_item_values *ss)
{
    mlc_error e = {0};
    if (!r->o.to_m3)
        return; /* reported by the to-cloudsuite direction */
    side_result s;
    side_init(&s, "to-cloudsuite");
    int remember = 1;
    if (!mlc_config_bool(r->cfg, "mapping.items.create_in_m3")) {
        s.action = "reported";
        add_reason(&s, "%s", "SKU only in ShipStation (mapping.items.create_in_m3 is false)");
    } else if (r->o.dry_run || mlc_item_m3_create(r->it, ss, &e) == MLC_OK) {
        s.action = "created";
        for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
            if (ss->v[f][0])
                cJSON_AddItemToArray(s.fields, cJSON_CreateString(mlc_item_field_name((mlc_item_field)f)));
        mlc_item_values m3;
        if (!r->o.dry_run) {
            if (mlc_item_m3_get(r->it, sku, &m3, &e) == MLC_OK)
                prev_set(r, NS_M3, &m3);
        }
    } else {
        note_failure(r, &e);
        s.action = "skipped";
        add_reason(&s, "%s", e.msg);
        remember = e.code == MLC_ERR_CONFIG; /* a config gap is reported once per change */
    }
    if (remember)
        prev_set(r, NS_SS, ss);
    emit(r, sku, &s);
}

static void sync_m3_only(sync_run *r, const char *sku, const mlc_item_values *m3)
{
    if (!r->o.to_ss)
        return;
    side_result s;
    side_init(&s, "to-shipstation");
    s.action = "reported";
    add_reason(&s, "%s", "SKU only in CloudSuite: no ShipStation product has it");
    prev_set(r, NS_M3, m3);
    emit(r, sku, &s);
}

static void sync_sku(sync_run *r, const char *sku)
{
    mlc_error e = {0};
    mlc_item_values m3, ss, m3p, ssp;
    mlc_err rc = mlc_item_m3_get(r->it, sku, &m3, &e);
    int have_m3 = rc == MLC_OK;
    if (rc && rc != MLC_ERR_NOTFOUND) {
        note_failure(r, &e);
        side_result s;
        side_init(&s, r->o.to_ss ? "to-shipstation" : "to-cloudsuite");
        s.action = "skipped";
        add_reason(&s, "%s", e.msg);
        emit(r, sku, &s);
        return;
    }
    const cJSON *p = mlc_item_product(r->it, sku);
    if (p)
        mlc_item_from_product(p, &ss);
    if (!have_m3 && !p) {
        side_result s;
        side_init(&s, r->o.to_ss ? "to-shipstation" : "to-cloudsuite");
        s.action = "reported";
        add_reason(&s, "%s", "SKU unknown in CloudSuite and in ShipStation");
        emit(r, sku, &s);
        return;
    }
    if (!have_m3) {
        sync_ss_only(r, sku, &ss);
        return;
    }
    if (!p) {
        sync_m3_only(r, sku, &m3);
        return;
    }
    int hm = prev_get(r, NS_M3, sku, &m3p), hs = prev_get(r, NS_SS, sku, &ssp);
    if (hm < 0 || hs < 0)
        return;
    mlc_item_plan_out plan;
    mlc_item_plan(mlc_item_owners(r->it), &m3, hm ? &m3p : NULL, &ss, hs ? &ssp : NULL, &plan);
    int m3_pending = 0, ss_pending = 0; /* a side's change not carried over yet */

    if (r->o.to_ss) {
        side_result s;
        side_init(&s, "to-shipstation");
        int changed = 0, reported = 0, failed = 0;
        if (plan.to_ss) {
            mlc_item_values target = ss;
            copy_fields(&target, &m3, plan.to_ss);
            if (!mlc_item_can_write_products(r->it)) { /* a setup limit, warned once: not a failure */
                m3_pending = reported = 1;
                add_reason(&s, "%s", "product fields differ but V2 products are read-only: add V1 credentials");
            } else if (r->o.dry_run || mlc_item_product_update(r->it, &target, plan.to_ss, &e) == MLC_OK) {
                add_fields(s.fields, plan.to_ss);
                ss = target;
                changed = 1;
            } else {
                note_failure(r, &e);
                add_reason(&s, "%s", e.msg);
                s.action = "skipped";
                m3_pending = failed = 1;
            }
        }
        sync_stock(r, sku, &s, &changed, &reported);
        if (!failed)
            s.action = changed ? "updated" : reported ? "reported" : "unchanged";
        emit(r, sku, &s);
    } else if (plan.to_ss) {
        m3_pending = 1;
    }

    if (r->o.to_m3) {
        side_result s;
        side_init(&s, "to-cloudsuite");
        if (plan.to_m3) {
            mlc_item_values target = m3;
            copy_fields(&target, &ss, plan.to_m3);
            if (r->o.dry_run || mlc_item_m3_update(r->it, &target, plan.to_m3, &e) == MLC_OK) {
                add_fields(s.fields, plan.to_m3);
                s.action = "updated";
                if (!r->o.dry_run && mlc_item_m3_get(r->it, sku, &m3, &e) != MLC_OK)
                    m3 = target; /* re-read failed: remember what was written */
            } else {
                note_failure(r, &e);
                s.action = "skipped";
                add_reason(&s, "%s", e.msg);
                ss_pending = 1;
            }
        }
        emit(r, sku, &s);
    } else if (plan.to_m3) {
        ss_pending = 1;
    }
    if (!m3_pending)
        prev_set(r, NS_M3, &m3);
    if (!ss_pending)
        prev_set(r, NS_SS, &ss);
}

/* ---- candidates ---- */

typedef struct sku_set {
    char **v;
    size_t n, cap;
} sku_set;

static int set_add(sku_set *s, const char *sku)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    if (!(s->v[s->n] = strdup(sku)))
        return -1;
    s->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void set_free(sku_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* Products whose values moved since mlc last looked, or that disagree with M3 as last seen. */
static int product_candidates(sync_run *r, sku_set *set)
{
    for (size_t i = 0; i < mlc_item_product_count(r->it); i++) {
        const char *sku = mlc_item_product_sku(r->it, i);
        mlc_item_values cur, ssp, m3p;
        mlc_item_from_product(mlc_item_product(r->it, sku), &cur);
        int hs = prev_get(r, NS_SS, sku, &ssp), hm = prev_get(r, NS_M3, sku, &m3p);
        if (hs < 0 || hm < 0)
            return -1;
        if (!hs || !values_same(&cur, &ssp) || (hm && !values_same(&cur, &m3p)))
            if (set_add(set, sku))
                return -1;
    }
    return 0;
}

static int run(sync_run *r)
{
    mlc_error e = {0};
    char from[9] = "", max_day[9] = "";
    sku_set set = {0};
    if (mlc_item_products_load(r->it, &e))
        return cmd_fail(r->ctx, &e);
    if (r->o.sku) {
        if (set_add(&set, r->o.sku)) {
            set_free(&set);
            return MLC_EXIT_OSERR;
        }
    } else {
        if (r->o.to_ss) {
            if (r->o.since) {
                if (since_day(r->o.since, from)) {
                    set_free(&set);
                    return cmd_usage_error(usage, "--since needs YYYY-MM-DD or RFC 3339, not '%s'", r->o.since);
                }
            } else {
                char *cursor = NULL;
                if (mlc_store_cursor_get(r->st, CURSOR, &cursor, &e))
                    return cmd_fail(r->ctx, &e);
                time_t t;
                if (cursor && mlc_dates_parse_m3(cursor, &t) == 0)
                    mlc_dates_format_m3(t - (time_t)mlc_config_int(r->cfg, "cloudsuite.poll_overlap_days") * 86400,
                                        from);
                free(cursor);
            }
            char **skus = NULL;
            size_t n = 0;
            if (mlc_item_m3_changed(r->it, from, &skus, &n, max_day, &e))
                return cmd_fail(r->ctx, &e);
            mlc_log_info(r->log, "%zu M3 items changed since %s", n, from[0] ? from : "the beginning");
            for (size_t i = 0; i < n; i++)
                if (set_add(&set, skus[i])) {
                    free(skus);
                    set_free(&set);
                    return MLC_EXIT_OSERR;
                }
            free(skus);
        }
        size_t before = set.n;
        if (product_candidates(r, &set)) {
            set_free(&set);
            return mlc_err_exit_code(r->worst ? r->worst : MLC_ERR_NOMEM);
        }
        mlc_log_info(r->log, "%zu of %zu ShipStation products changed", set.n - before,
                     mlc_item_product_count(r->it));
        if (set.n > 1)
            qsort(set.v, set.n, sizeof *set.v, cmp_str);
        size_t u = 0;
        for (size_t i = 0; i < set.n; i++) {
            if (u && strcmp(set.v[u - 1], set.v[i]) == 0) {
                free(set.v[i]);
                continue;
            }
            set.v[u++] = set.v[i];
        }
        set.n = u;
    }
    /* the M3 side in bulk, bulk_read_size SKUs at a time, not one read per SKU */
    long long per_call = mlc_config_int(r->cfg, "cloudsuite.bulk_read_size");
    size_t chunk = per_call > 0 ? (size_t)per_call : 1;
    for (size_t i = 0; i < set.n && !r->stop; i += chunk) {
        size_t k = set.n - i < chunk ? set.n - i : chunk;
        if (k > 1 && mlc_item_m3_prefetch(r->it, set.v + i, k, &e))
            mlc_log_warn(r->log, "%s: reading these items one at a time", e.msg);
        for (size_t j = i; j < i + k && !r->stop; j++) {
            sync_sku(r, set.v[j]);
            mlc_log_progress(r->log, "items", (long)j + 1, (long)set.n);
        }
    }
    mlc_item_m3_forget(r->it);
    mlc_log_progress_done(r->log);
    set_free(&set);
    if (mlc_jsonl_writer_flush(r->w, &e) == MLC_ERR_PIPE)
        r->stop = 1;
    if (!r->o.dry_run && !r->o.sku && r->o.to_ss && !r->stop && !r->n_failed && max_day[0]) {
        if (mlc_store_cursor_set(r->st, CURSOR, max_day, &e))
            return cmd_fail(r->ctx, &e);
    }
    mlc_log_info(r->log, "%ld updated, %ld created, %ld unchanged, %ld reported, %ld skipped, %ld failed",
                 r->n_updated, r->n_created, r->n_unchanged, r->n_reported, r->n_skipped, r->n_failed);
    if (r->worst)
        return r->worst == MLC_ERR_PIPE ? 0 : mlc_err_exit_code(r->worst);
    return 0;
}

int cmd_sync_items(int argc, char **argv, mlc_ctx *ctx)
{
    sync_run r = {.ctx = ctx, .log = mlc_ctx_log(ctx)};
    mlc_error e = {0};
    int rc = parse_opts(argc, argv, &r.o);
    if (rc)
        return rc < 0 ? cmd_help(usage) : rc;
    if (r.o.since && since_day(r.o.since, (char[9]){0}))
        return cmd_usage_error(usage, "--since needs YYYY-MM-DD or RFC 3339, not '%s'", r.o.since);
    if (mlc_ctx_config(ctx, &r.cfg, &e) || mlc_ctx_store(ctx, &r.st, &e))
        return cmd_fail(ctx, &e);
    if (mlc_m3_new(ctx, NULL, &r.m3, &e))
        return cmd_fail(ctx, &e);
    if (mlc_ss_new(ctx, NULL, &r.ss, &e)) {
        mlc_m3_free(r.m3);
        return cmd_fail(ctx, &e);
    }
    if (mlc_item_new(r.cfg, r.m3, r.ss, r.log, &r.it, &e)) {
        mlc_ss_free(r.ss);
        mlc_m3_free(r.m3);
        return cmd_fail(ctx, &e);
    }
    if (r.o.to_ss && !mlc_item_can_write_products(r.it))
        mlc_log_warn(r.log, "no ShipStation V1 credentials: product fields are compared, not written "
                            "(V2 products are read-only); stock is still synced");
    r.w = mlc_jsonl_writer_new(stdout);
    if (!r.w)
        rc = MLC_EXIT_OSERR;
    else
        rc = run(&r);
    mlc_jsonl_writer_free(r.w);
    mlc_item_free(r.it);
    mlc_ss_free(r.ss);
    mlc_m3_free(r.m3);
    return rc;
}
