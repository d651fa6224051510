/*
 * stock.c: the stock push, M3 on-hand -> ShipStation inventory `adjust` (see
 * stock.h): the warehouse mapping, M3 balances (bulk, prefetched or per SKU),
 * the inventory levels listed once per warehouse, and the adjust itself.
 * Not here: item fields (lib/item), products (lib/product), which SKUs and the
 * records (lib/itemsync).
 */
#include "stock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct stock_whs {
    char whlo[16];
    char location[64];  /* inventory_location_id, may be "" */
    char warehouse[64]; /* inventory_warehouse_id, may be "" */
    cJSON *levels;      /* GET /v2/inventory rows of this location/warehouse, loaded once */
    mlc_err load_err;
    char load_msg[MLC_ERROR_MSG_MAX];
} stock_whs;

/* M3 balances of one SKU as read by mlc_stock_prefetch. */
typedef struct stock_cached {
    char *sku;
    mlc_stock_level *bal; /* nwhs balances */
} stock_cached;

struct mlc_stock {
    mlc_m3 *m3;
    mlc_ss *ss;
    mlc_item *it;
    const char *pgm; /* cloudsuite.programs.item_balance */
    stock_whs *whs;
    size_t nwhs;
    stock_cached *cache; /* sorted by sku */
    size_t ncache;
};

static const char *str_at(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double num_at(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : cJSON_IsString(x) ? strtod(x->valuestring, NULL) : 0;
}

static mlc_err load_warehouses(mlc_stock *s, const mlc_config *cfg, mlc_error *err)
{
    const mlc_config_node *n = mlc_config_node_at(cfg, "mapping.warehouses");
    size_t cnt = n ? mlc_config_node_count(n) : 0;
    s->whs = calloc(cnt + 1, sizeof *s->whs);
    if (!s->whs)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        const mlc_config_node *w = mlc_config_node_child(n, i);
        const mlc_config_node *loc = mlc_config_node_get(w, "inventory_location_id");
        const mlc_config_node *wh = mlc_config_node_get(w, "inventory_warehouse_id");
        const char *lv = loc ? mlc_config_node_value(loc) : NULL, *wv = wh ? mlc_config_node_value(wh) : NULL;
        if (!(lv && *lv) && !(wv && *wv))
            continue;
        stock_whs *x = &s->whs[s->nwhs++];
        snprintf(x->whlo, sizeof x->whlo, "%s", mlc_config_node_key(w));
        snprintf(x->location, sizeof x->location, "%s", lv ? lv : "");
        snprintf(x->warehouse, sizeof x->warehouse, "%s", wv ? wv : "");
    }
    return MLC_OK;
}

mlc_err mlc_stock_new(const mlc_config *cfg, mlc_m3 *m3, mlc_ss *ss, mlc_item *it, mlc_stock **out,
                      mlc_error *err)
{
    *out = NULL;
    mlc_stock *s = calloc(1, sizeof *s);
    if (!s)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    s->m3 = m3;
    s->ss = ss;
    s->it = it;
    s->pgm = mlc_config_str(cfg, "cloudsuite.programs.item_balance");
    mlc_m3_columns(m3, s->pgm, "STQT"); /* the one column read here: M3 sends only it (lib/m3) */
    mlc_err rc = load_warehouses(s, cfg, err);
    if (rc) {
        mlc_stock_free(s);
        return rc;
    }
    *out = s;
    return MLC_OK;
}

void mlc_stock_free(mlc_stock *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nwhs; i++)
        cJSON_Delete(s->whs[i].levels);
    free(s->whs);
    mlc_stock_forget(s);
    free(s);
}

size_t mlc_stock_warehouses(const mlc_stock *s) { return s->nwhs; }

/* ---- ShipStation side ---- */

/* Every inventory level of the warehouse's location (or warehouse), once per run:
 * one paged list instead of a request per SKU. */
static mlc_err load_levels(mlc_stock *s, stock_whs *w, mlc_error *err)
{
    if (w->levels)
        return MLC_OK;
    if (w->load_err)
        return mlc_error_set(err, w->load_err, "%s", w->load_msg);
    cJSON *all = cJSON_CreateArray();
    if (!all)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    mlc_err rc = MLC_OK;
    /* GET /v2/inventory declares sku, inventory_warehouse_id, inventory_location_id,
     * group_by and limit, but no page: later pages are read from links.next.href
     * (mlc_ss_request checks it is the configured host). */
    char path[2048];
    if (w->location[0])
        snprintf(path, sizeof path, "/v2/inventory?inventory_location_id=%s&limit=1000", w->location);
    else
        snprintf(path, sizeof path, "/v2/inventory?inventory_warehouse_id=%s&limit=1000", w->warehouse);
    for (int page = 1; page < 100000; page++) {
        mlc_ss_response resp = {0};
        rc = mlc_ss_request(s->ss, MLC_SS_V2, "GET", path, NULL, 1, &resp, err);
        if (rc) {
            mlc_ss_response_free(&resp);
            break;
        }
        cJSON *rows = cJSON_GetObjectItemCaseSensitive(resp.json, "inventory");
        int next = 0;
        mlc_ss_page_info(resp.json, NULL, NULL, NULL, &next);
        int got = cJSON_GetArraySize(rows);
        /* moved, not copied: the page is freed next */
        for (cJSON *e = cJSON_IsArray(rows) ? rows->child : NULL, *nx; e; e = nx) {
            nx = e->next;
            cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(rows, e));
        }
        const cJSON *href = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp.json, "links"), "next"), "href");
        if (next && got > 0 && !(cJSON_IsString(href) && href->valuestring[0] && strlen(href->valuestring) < sizeof path))
            rc = mlc_error_set(err, MLC_ERR_REMOTE, "more inventory pages announced, but no links.next to read them");
        else if (next)
            snprintf(path, sizeof path, "%s", href->valuestring);
        mlc_ss_response_free(&resp);
        if (rc)
            break;
        if (!next || got == 0)
            break;
    }
    if (rc) {
        cJSON_Delete(all);
        w->load_err = rc;
        mlc_error_prefix(err, "inventory of %s", w->location[0] ? w->location : w->warehouse);
        snprintf(w->load_msg, sizeof w->load_msg, "%s", err->msg);
        return rc;
    }
    w->levels = all;
    return MLC_OK;
}

/* On-hand at the location (or the warehouse), and the location if it was not set. */
static mlc_err ss_on_hand(mlc_stock *s, const char *sku, stock_whs *w, double *qty, char *loc, size_t loccap,
                          mlc_error *err)
{
    *qty = 0;
    mlc_err rc = load_levels(s, w, err);
    if (rc)
        return rc;
    const cJSON *e;
    cJSON_ArrayForEach(e, w->levels)
    {
        const char *l = str_at(e, "inventory_location_id"), *k = str_at(e, "sku");
        if (!l || !k || strcmp(k, sku) != 0)
            continue;
        if (!loc[0])
            snprintf(loc, loccap, "%s", l);
        if (strcmp(l, loc) == 0)
            *qty += num_at(e, "on_hand");
    }
    if (!loc[0]) { /* no level for this SKU yet: any location of the warehouse will do */
        cJSON_ArrayForEach(e, w->levels) if (str_at(e, "inventory_location_id"))
        {
            snprintf(loc, loccap, "%s", str_at(e, "inventory_location_id"));
            break;
        }
    }
    return MLC_OK;
}

/* Keeps the loaded levels in step with an adjust. */
static void level_set(stock_whs *w, const char *sku, const char *loc, double q)
{
    cJSON *e;
    cJSON_ArrayForEach(e, w->levels)
    {
        const char *l = str_at(e, "inventory_location_id"), *k = str_at(e, "sku");
        if (l && k && strcmp(k, sku) == 0 && strcmp(l, loc) == 0) {
            cJSON_ReplaceItemInObjectCaseSensitive(e, "on_hand", cJSON_CreateNumber(q));
            return;
        }
    }
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "sku", sku);
    cJSON_AddNumberToObject(e, "on_hand", q);
    cJSON_AddStringToObject(e, "inventory_location_id", loc);
    cJSON_AddItemToArray(w->levels, e);
}

/* A failed ShipStation call: an unknown SKU or location is reported, the rest failed. */
static void ss_failed(mlc_stock_level *l, mlc_err rc, const mlc_error *e)
{
    l->action = rc == MLC_ERR_NOTFOUND || rc == MLC_ERR_REMOTE ? MLC_STOCK_REPORTED : MLC_STOCK_FAILED;
    l->err = rc;
    snprintf(l->reason, sizeof l->reason, "%s", e->msg);
}

/* ShipStation side of one warehouse, once l->m3_qty is known. */
static void stock_one(mlc_stock *s, const char *sku, stock_whs *w, int dry_run, mlc_stock_level *l)
{
    mlc_error e = {0};
    mlc_err rc = ss_on_hand(s, sku, w, &l->ss_qty, l->location, sizeof l->location, &e);
    if (rc) {
        ss_failed(l, rc, &e);
        return;
    }
    if (!l->location[0]) {
        l->action = MLC_STOCK_REPORTED;
        snprintf(l->reason, sizeof l->reason,
                 "no inventory location known in ShipStation warehouse %s: set "
                 "mapping.warehouses.%s.inventory_location_id",
                 w->warehouse, w->whlo);
        return;
    }
    double q = l->m3_qty < 0 ? 0 : floor(l->m3_qty + 1e-9);
    l->qty = (long)q;
    if (fabs(l->ss_qty - q) < 1e-9) {
        l->action = MLC_STOCK_UNCHANGED;
        return;
    }
    if (q != l->m3_qty)
        snprintf(l->reason, sizeof l->reason, "M3 on-hand %g sent as %ld whole units", l->m3_qty, l->qty);
    if (dry_run) {
        l->action = MLC_STOCK_ADJUSTED;
        return;
    }
    cJSON *body = cJSON_CreateObject();
    char why[64];
    snprintf(why, sizeof why, "mlc sync-items: M3 %s on-hand", w->whlo);
    cJSON_AddStringToObject(body, "transaction_type", "adjust");
    cJSON_AddStringToObject(body, "inventory_location_id", l->location);
    cJSON_AddStringToObject(body, "sku", sku);
    cJSON_AddNumberToObject(body, "quantity", q);
    cJSON_AddStringToObject(body, "condition", "sellable");
    cJSON_AddStringToObject(body, "reason", why);
    mlc_ss_response resp = {0};
    /* adjust sets an absolute quantity: repeating it is harmless */
    rc = mlc_ss_request(s->ss, MLC_SS_V2, "POST", "/v2/inventory", body, 1, &resp, &e);
    cJSON_Delete(body);
    mlc_ss_response_free(&resp);
    if (rc) {
        ss_failed(l, rc, &e);
        return;
    }
    level_set(w, sku, l->location, q);
    l->action = MLC_STOCK_ADJUSTED;
}

/* ---- M3 side ---- */

static void all_failed(mlc_stock_level *out, size_t n, mlc_err rc, const char *fmt, const char *a, const char *b)
{
    for (size_t i = 0; i < n; i++) {
        out[i].action = MLC_STOCK_FAILED;
        out[i].err = rc;
        snprintf(out[i].reason, sizeof out[i].reason, fmt, a, b);
    }
}

/* M3 on-hand of n items in every mapped warehouse: one bulk read (GetItmWhsBal per
 * item and warehouse).  Fills out[k * nwhs + i] (m3_qty, or marks it reported or
 * failed); returns the number of balances read. */
static size_t m3_balances_many(mlc_stock *s, const char *const *itnos, size_t n, mlc_stock_level *out)
{
    mlc_error e = {0};
    size_t nrec = n * s->nwhs, ok = 0;
    mlc_m3_field *fields = calloc(2 * nrec, sizeof *fields);
    mlc_m3_record *recs = calloc(nrec, sizeof *recs);
    if (!fields || !recs) {
        free(fields);
        free(recs);
        all_failed(out, nrec, MLC_ERR_NOMEM, "%s%s", "out of memory", "");
        return 0;
    }
    for (size_t i = 0; i < nrec; i++) {
        fields[2 * i] = (mlc_m3_field){"WHLO", s->whs[i % s->nwhs].whlo};
        fields[2 * i + 1] = (mlc_m3_field){"ITNO", itnos[i / s->nwhs]};
        recs[i] = (mlc_m3_record){&fields[2 * i], 2};
    }
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_bulk(s->m3, s->pgm, recs, nrec, 1, &r, &e);
    free(fields);
    free(recs);
    if (rc != MLC_OK && !(rc == MLC_ERR_REMOTE && r && mlc_m3_result_tx_count(r) == nrec)) {
        all_failed(out, nrec, rc, "M3 %s: %s", s->pgm, e.msg); /* call-level failure */
        mlc_m3_result_free(r);
        return 0;
    }
    for (size_t i = 0; i < nrec; i++) {
        const char *q = mlc_m3_result_tx_ok(r, i) ? mlc_m3_result_tx_get(r, i, 0, "STQT") : NULL;
        if (!q) { /* e.g. the item is not stocked in that warehouse */
            const char *m = mlc_m3_result_tx_message(r, i);
            out[i].action = MLC_STOCK_REPORTED;
            snprintf(out[i].reason, sizeof out[i].reason, "M3 %s %s: %s", s->pgm, s->whs[i % s->nwhs].whlo,
                     m && *m ? m : "no balance");
            continue;
        }
        out[i].m3_qty = *q ? strtod(q, NULL) : 0;
        out[i].action = MLC_STOCK_UNCHANGED;
        ok++;
    }
    mlc_m3_result_free(r);
    return ok;
}

static int cmp_cached(const void *a, const void *b)
{
    return strcmp(((const stock_cached *)a)->sku, ((const stock_cached *)b)->sku);
}

static size_t m3_balances(mlc_stock *s, const char *sku, const char *itno, mlc_stock_level *out)
{
    stock_cached key = {.sku = (char *)sku};
    const stock_cached *c =
        s->ncache ? bsearch(&key, s->cache, s->ncache, sizeof *s->cache, cmp_cached) : NULL;
    size_t ok = 0;
    if (!c)
        return m3_balances_many(s, &itno, 1, out);
    for (size_t i = 0; i < s->nwhs; i++) {
        out[i].m3_qty = c->bal[i].m3_qty;
        out[i].action = c->bal[i].action;
        out[i].err = c->bal[i].err;
        snprintf(out[i].reason, sizeof out[i].reason, "%s", c->bal[i].reason);
        ok += out[i].action == MLC_STOCK_UNCHANGED;
    }
    return ok;
}

void mlc_stock_forget(mlc_stock *s)
{
    for (size_t i = 0; i < s->ncache; i++) {
        free(s->cache[i].sku);
        free(s->cache[i].bal);
    }
    free(s->cache);
    s->cache = NULL;
    s->ncache = 0;
}

mlc_err mlc_stock_prefetch(mlc_stock *s, char *const *skus, size_t n, mlc_error *err)
{
    mlc_stock_forget(s);
    if (n == 0 || s->nwhs == 0)
        return MLC_OK;
    stock_cached *c = calloc(n, sizeof *c);
    const char **known = calloc(n, sizeof *known), **itnos = calloc(n, sizeof *itnos);
    mlc_stock_level *bal = NULL;
    size_t m = 0;
    mlc_err rc = !c || !known || !itnos ? mlc_error_set(err, MLC_ERR_NOMEM, "out of memory")
                                        : mlc_item_m3_itnos(s->it, skus, n, known, itnos, &m, err);
    if (!rc && m && !(bal = calloc(m * s->nwhs, sizeof *bal)))
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (!rc && m)
        m3_balances_many(s, itnos, m, bal);
    for (size_t k = 0; !rc && k < m; k++) {
        if (!(c[k].sku = strdup(known[k])) || !(c[k].bal = malloc(s->nwhs * sizeof *bal)))
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        else
            memcpy(c[k].bal, bal + k * s->nwhs, s->nwhs * sizeof *bal);
    }
    free(bal);
    free(known);
    free(itnos);
    s->cache = c;
    s->ncache = c ? n : 0; /* entries past m hold nothing */
    if (rc) {
        mlc_stock_forget(s);
        return rc;
    }
    s->ncache = m;
    if (m > 1)
        qsort(s->cache, m, sizeof *s->cache, cmp_cached);
    return MLC_OK;
}

void mlc_stock_sync(mlc_stock *s, const char *sku, int dry_run, mlc_stock_level *out)
{
    mlc_error e = {0};
    const char *itno;
    if (s->nwhs == 0)
        return;
    for (size_t i = 0; i < s->nwhs; i++) {
        memset(&out[i], 0, sizeof out[i]);
        snprintf(out[i].warehouse, sizeof out[i].warehouse, "%s", s->whs[i].whlo);
        snprintf(out[i].location, sizeof out[i].location, "%s", s->whs[i].location);
    }
    mlc_err rc = mlc_item_m3_itno(s->it, sku, &itno, &e);
    if (rc) {
        for (size_t i = 0; i < s->nwhs; i++) {
            out[i].action = rc == MLC_ERR_NOTFOUND ? MLC_STOCK_REPORTED : MLC_STOCK_FAILED;
            out[i].err = rc;
            snprintf(out[i].reason, sizeof out[i].reason, "%s", e.msg);
        }
        return;
    }
    if (m3_balances(s, sku, itno, out) == 0)
        return;
    for (size_t i = 0; i < s->nwhs; i++)
        if (out[i].action == MLC_STOCK_UNCHANGED)
            stock_one(s, sku, &s->whs[i], dry_run, &out[i]);
}
