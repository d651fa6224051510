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

/* One ShipStation inventory level: the three fields read of a GET /v2/inventory
 * row (a whole row is ~800 bytes as cJSON; a run holds every level of every
 * mapped warehouse). */
typedef struct stock_lvl {
    char *sku; /* NULL when the row has none */
    char *loc; /* inventory_location_id */
    double on_hand;
} stock_lvl;

typedef struct stock_whs {
    char whlo[16];
    char location[64];  /* inventory_location_id, may be "" */
    char warehouse[64]; /* inventory_warehouse_id, may be "" */
    stock_lvl *lv;      /* the levels of this location/warehouse, in listed order, loaded once */
    size_t nlv, caplv;
    int loaded;
    mlc_err load_err;
    char load_msg[MLC_ERROR_MSG_MAX];
} stock_whs;

/* One M3 balance as read by mlc_stock_prefetch: the part of an mlc_stock_level the
 * M3 side sets, a reason only when there is one (a full level is ~320 bytes, and a
 * prefetch holds one per SKU and warehouse). */
typedef struct stock_bal {
    double m3_qty;
    mlc_stock_action action;
    mlc_err err;
    char *reason; /* NULL: none */
} stock_bal;

/* M3 balances of one SKU as read by mlc_stock_prefetch. */
typedef struct stock_cached {
    char *sku;
    stock_bal *bal; /* nwhs balances */
} stock_cached;

struct mlc_stock {
    mlc_m3 *m3;
    mlc_ss *ss;
    mlc_item *it;
    const char *pgm; /* cloudsuite.programs.item_balance */
    size_t bulk;     /* cloudsuite.bulk_size: SKUs per item_balance call of a prefetch */
    stock_whs *whs;
    size_t nwhs;
    stock_cached *cache; /* sorted by sku */
    size_t ncache;
};

static void levels_free(stock_whs *w);

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
    long bulk = mlc_config_int(cfg, "cloudsuite.bulk_size");
    s->bulk = bulk > 0 ? (size_t)bulk : 1;
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
        levels_free(&s->whs[i]);
    free(s->whs);
    mlc_stock_forget(s);
    free(s);
}

size_t mlc_stock_warehouses(const mlc_stock *s) { return s->nwhs; }

/* ---- ShipStation side ---- */

static void levels_free(stock_whs *w)
{
    for (size_t i = 0; i < w->nlv; i++) {
        free(w->lv[i].sku);
        free(w->lv[i].loc);
    }
    free(w->lv);
    w->lv = NULL;
    w->nlv = w->caplv = 0;
    w->loaded = 0;
}

/* Appends a level (sku may be NULL); -1 when out of memory. */
static int level_add(stock_whs *w, const char *sku, const char *loc, double on_hand)
{
    if (w->nlv == w->caplv) {
        size_t cap = w->caplv ? 2 * w->caplv : 64;
        stock_lvl *n = realloc(w->lv, cap * sizeof *n);
        if (!n)
            return -1;
        w->lv = n;
        w->caplv = cap;
    }
    stock_lvl *l = &w->lv[w->nlv];
    l->sku = sku ? strdup(sku) : NULL;
    l->loc = strdup(loc);
    l->on_hand = on_hand;
    if ((sku && !l->sku) || !l->loc) {
        free(l->sku);
        free(l->loc);
        return -1;
    }
    w->nlv++;
    return 0;
}

/* Every inventory level of the warehouse's location (or warehouse), once per run:
 * one paged list instead of a request per SKU. */
static mlc_err load_levels(mlc_stock *s, stock_whs *w, mlc_error *err)
{
    if (w->loaded)
        return MLC_OK;
    if (w->load_err)
        return mlc_error_set(err, w->load_err, "%s", w->load_msg);
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
        /* the fields read, not the rows: the page is freed next */
        const cJSON *e, *arr = cJSON_IsArray(rows) ? rows : NULL;
        cJSON_ArrayForEach(e, arr)
        {
            const char *l = str_at(e, "inventory_location_id");
            if (!rc && l && level_add(w, str_at(e, "sku"), l, num_at(e, "on_hand")) != 0)
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
        const cJSON *href = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(resp.json, "links"), "next"), "href");
        if (rc)
            ;
        else if (next && got > 0 && !(cJSON_IsString(href) && href->valuestring[0] && strlen(href->valuestring) < sizeof path))
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
        levels_free(w);
        w->load_err = rc;
        mlc_error_prefix(err, "inventory of %s", w->location[0] ? w->location : w->warehouse);
        snprintf(w->load_msg, sizeof w->load_msg, "%s", err->msg);
        return rc;
    }
    w->loaded = 1;
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
    for (size_t i = 0; i < w->nlv; i++) {
        const stock_lvl *e = &w->lv[i];
        if (!e->sku || strcmp(e->sku, sku) != 0)
            continue;
        if (!loc[0])
            snprintf(loc, loccap, "%s", e->loc);
        if (strcmp(e->loc, loc) == 0)
            *qty += e->on_hand;
    }
    if (!loc[0] && w->nlv) /* no level for this SKU yet: any location of the warehouse will do */
        snprintf(loc, loccap, "%s", w->lv[0].loc);
    return MLC_OK;
}

/* Keeps the loaded levels in step with an adjust. */
static void level_set(stock_whs *w, const char *sku, const char *loc, double q)
{
    for (size_t i = 0; i < w->nlv; i++)
        if (w->lv[i].sku && strcmp(w->lv[i].sku, sku) == 0 && strcmp(w->lv[i].loc, loc) == 0) {
            w->lv[i].on_hand = q;
            return;
        }
    (void)level_add(w, sku, loc, q); /* out of memory: a run reads each SKU's level once, the loss is harmless */
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
        snprintf(out[i].reason, sizeof out[i].reason, "%s", c->bal[i].reason ? c->bal[i].reason : "");
        ok += out[i].action == MLC_STOCK_UNCHANGED;
    }
    return ok;
}

void mlc_stock_forget(mlc_stock *s)
{
    for (size_t i = 0; i < s->ncache; i++) {
        free(s->cache[i].sku);
        for (size_t w = 0; s->cache[i].bal && w < s->nwhs; w++)
            free(s->cache[i].bal[w].reason);
        free(s->cache[i].bal);
    }
    free(s->cache);
    s->cache = NULL;
    s->ncache = 0;
}

/* Keeps the M3 side of n levels (one SKU) as stock_bal; NULL when out of memory. */
static stock_bal *keep_bal(const mlc_stock_level *l, size_t n)
{
    stock_bal *b = calloc(n, sizeof *b);
    for (size_t i = 0; b && i < n; i++) {
        b[i].m3_qty = l[i].m3_qty;
        b[i].action = l[i].action;
        b[i].err = l[i].err;
        if (l[i].reason[0] && !(b[i].reason = strdup(l[i].reason))) {
            for (size_t j = 0; j < i; j++)
                free(b[j].reason);
            free(b);
            return NULL;
        }
    }
    return b;
}

mlc_err mlc_stock_prefetch(mlc_stock *s, char *const *skus, size_t n, mlc_error *err)
{
    mlc_stock_forget(s);
    if (n == 0 || s->nwhs == 0)
        return MLC_OK;
    stock_cached *c = calloc(n, sizeof *c);
    const char **known = calloc(n, sizeof *known), **itnos = calloc(n, sizeof *itnos);
    /* bulk_size SKUs (x warehouses: transactions) per call, not all n at once: a
     * GetItmWhsBal answer is ~1.2 KiB of parsed JSON per transaction (the echoed
     * parameters, the error fields), so 300 SKUs in 3 warehouses in one call held
     * ~1.4 MiB at once, sync-items' peak (issue 19: under 16 MiB per cron run) */
    size_t per = s->bulk, m = 0;
    mlc_stock_level *bal = NULL;
    mlc_err rc = !c || !known || !itnos ? mlc_error_set(err, MLC_ERR_NOMEM, "out of memory")
                                        : mlc_item_m3_itnos(s->it, skus, n, known, itnos, &m, err);
    if (!rc && m && !(bal = malloc((m < per ? m : per) * s->nwhs * sizeof *bal)))
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (size_t k0 = 0; !rc && k0 < m; k0 += per) {
        size_t kn = m - k0 < per ? m - k0 : per;
        memset(bal, 0, kn * s->nwhs * sizeof *bal);
        m3_balances_many(s, itnos + k0, kn, bal);
        for (size_t k = 0; !rc && k < kn; k++)
            if (!(c[k0 + k].sku = strdup(known[k0 + k])) || !(c[k0 + k].bal = keep_bal(bal + k * s->nwhs, s->nwhs)))
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
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
