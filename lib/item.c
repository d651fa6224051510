/*
 * item.c: the M3 half of lib/item (see item.h): the item mapping (owners, units,
 * SKU field), canonical values from MMS200MI records, and the item calls: the
 * changed-items listing, the SKU -> ITNO map, single and bulk reads (the prefetch
 * cache), UpdItmBasic and AddItmBasic.
 * Not here: the pure field plan and codec (item_plan.c), ShipStation products
 * (lib/product), stock (lib/stock), which items to look at, remembered values and
 * records (lib/itemsync).
 */
#include "item.h"

#include "dates.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct sku_itno {
    char *sku, *itno;
} sku_itno;

/* The M3 side of one SKU as read by mlc_item_m3_prefetch. */
typedef struct m3_cached {
    char *sku;
    int basic;           /* 0 not read (ask M3), 1 read into v, 2 M3 has no such item */
    mlc_item_values v;
} m3_cached;

struct mlc_item {
    const mlc_config *cfg;
    mlc_m3 *m3;
    mlc_item_owner owners[MLC_ITEM__NFIELDS];
    double weight_to_oz, length_to_in;
    const char *sku_field;
    /* cloudsuite.programs.*, resolved once */
    const char *pgm_changed, *pgm_get, *pgm_update, *pgm_add;
    /* sku -> ITNO when sku_field is not ITNO */
    sku_itno *skumap;
    size_t nskumap;
    int skumap_loaded;
    /* mlc_item_m3_prefetch: sorted by sku */
    m3_cached *cache;
    size_t ncache;
};

static const char *const M3_FIELDS[MLC_ITEM__NFIELDS] = {"ITDS", "GRWE", "ILEN", "IWID", "IHEI", "FUDS"};
/* ---- setup ---- */

static int parse_owner(const char *s, mlc_item_owner *o)
{
    if (!s)
        return -1;
    if (strcmp(s, "cloudsuite") == 0)
        *o = MLC_OWNER_CLOUDSUITE;
    else if (strcmp(s, "shipstation") == 0)
        *o = MLC_OWNER_SHIPSTATION;
    else if (strcmp(s, "newest") == 0)
        *o = MLC_OWNER_NEWEST;
    else
        return -1;
    return 0;
}

static int weight_factor(const char *u, double *f)
{
    if (!u || strcmp(u, "kg") == 0)
        *f = 35.27396194958;
    else if (strcmp(u, "g") == 0)
        *f = 0.03527396194958;
    else if (strcmp(u, "lb") == 0)
        *f = 16.0;
    else if (strcmp(u, "oz") == 0)
        *f = 1.0;
    else
        return -1;
    return 0;
}

static int length_factor(const char *u, double *f)
{
    if (!u || strcmp(u, "cm") == 0)
        *f = 1 / 2.54;
    else if (strcmp(u, "mm") == 0)
        *f = 1 / 25.4;
    else if (strcmp(u, "m") == 0)
        *f = 100 / 2.54;
    else if (strcmp(u, "in") == 0)
        *f = 1.0;
    else
        return -1;
    return 0;
}

static mlc_err load_owners(mlc_item *it, mlc_error *err)
{
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        it->owners[f] = MLC_OWNER_CLOUDSUITE;
    const mlc_config_node *n = mlc_config_node_at(it->cfg, "mapping.items.owners");
    for (size_t i = 0; n && i < mlc_config_node_count(n); i++) {
        const mlc_config_node *kid = mlc_config_node_child(n, i);
        const char *k = mlc_config_node_key(kid), *v = mlc_config_node_value(kid);
        mlc_item_owner o;
        if (parse_owner(v, &o))
            return mlc_error_set(err, MLC_ERR_CONFIG,
                                 "mapping.items.owners.%s: '%s' is not cloudsuite, shipstation or newest", k,
                                 v ? v : "(not a value)");
        int found = 0;
        for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
            if (strcmp(k, mlc_item_field_name((mlc_item_field)f)) == 0 ||
                (strcmp(k, "dimensions") == 0 && f >= MLC_ITEM_LENGTH && f <= MLC_ITEM_HEIGHT)) {
                it->owners[f] = o;
                found = 1;
            }
        if (!found)
            return mlc_error_set(err, MLC_ERR_CONFIG,
                                 "mapping.items.owners.%s: unknown field (name, weight, dimensions, length, width, "
                                 "height, customs_description)",
                                 k);
    }
    return MLC_OK;
}

mlc_err mlc_item_new(const mlc_config *cfg, mlc_m3 *m3, mlc_item **out, mlc_error *err)
{
    *out = NULL;
    mlc_item *it = calloc(1, sizeof *it);
    if (!it)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    it->cfg = cfg;
    it->m3 = m3;
    it->sku_field = mlc_config_str(cfg, "mapping.items.sku_field");
    if (!it->sku_field || !*it->sku_field)
        it->sku_field = "ITNO";
    /* the columns this module reads (mlc_item_m3_changed, mlc_item_m3_itno,
     * mlc_item_from_m3): M3 sends only these (lib/m3) */
    const char *changed = it->pgm_changed = mlc_config_str(cfg, "cloudsuite.programs.items_changed");
    const char *get = it->pgm_get = mlc_config_str(cfg, "cloudsuite.programs.item_get");
    it->pgm_update = mlc_config_str(cfg, "cloudsuite.programs.item_update");
    it->pgm_add = mlc_config_str(cfg, "cloudsuite.programs.item_add");
    mlc_m3_columns(m3, changed, "ITNO,LMDT");
    mlc_m3_columns(m3, changed, it->sku_field);
    mlc_m3_columns(m3, get, "ITDS,GRWE,ILEN,IWID,IHEI,FUDS,LMDT");
    mlc_m3_columns(m3, get, it->sku_field);
    mlc_err rc = load_owners(it, err);
    if (!rc && weight_factor(mlc_config_str(cfg, "mapping.items.weight_unit"), &it->weight_to_oz))
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "mapping.items.weight_unit: '%s' is not kg, g, lb or oz",
                           mlc_config_str(cfg, "mapping.items.weight_unit"));
    if (!rc && length_factor(mlc_config_str(cfg, "mapping.items.length_unit"), &it->length_to_in))
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "mapping.items.length_unit: '%s' is not cm, mm, m or in",
                           mlc_config_str(cfg, "mapping.items.length_unit"));
    if (rc) {
        mlc_item_free(it);
        return rc;
    }
    *out = it;
    return MLC_OK;
}

void mlc_item_free(mlc_item *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < it->nskumap; i++) {
        free(it->skumap[i].sku);
        free(it->skumap[i].itno);
    }
    free(it->skumap);
    mlc_item_m3_forget(it);
    free(it);
}

const mlc_item_owner *mlc_item_owners(const mlc_item *it) { return it->owners; }

/* ---- canonical values ---- */

static double num_of(const char *s)
{
    return s && *s ? strtod(s, NULL) : 0;
}

/* Record i of transaction tx. */
static void from_m3_tx(const mlc_item *it, const mlc_m3_result *r, size_t tx, size_t i, mlc_item_values *out)
{
#define G(field) mlc_m3_result_tx_get(r, tx, i, field)
    memset(out, 0, sizeof *out);
    const char *sku = G(it->sku_field);
    snprintf(out->sku, sizeof out->sku, "%s", sku ? sku : "");
    mlc_item_set_text(out->v[MLC_ITEM_NAME], G("ITDS"));
    mlc_item_set_number(out->v[MLC_ITEM_WEIGHT], num_of(G("GRWE")) * it->weight_to_oz);
    mlc_item_set_number(out->v[MLC_ITEM_LENGTH], num_of(G("ILEN")) * it->length_to_in);
    mlc_item_set_number(out->v[MLC_ITEM_WIDTH], num_of(G("IWID")) * it->length_to_in);
    mlc_item_set_number(out->v[MLC_ITEM_HEIGHT], num_of(G("IHEI")) * it->length_to_in);
    mlc_item_set_text(out->v[MLC_ITEM_CUSTOMS_DESC], G("FUDS"));
    time_t t;
    const char *lmdt = G("LMDT");
    if (lmdt && mlc_dates_parse_m3(lmdt, &t) == 0)
        out->changed_at = t;
#undef G
}

void mlc_item_from_m3(const mlc_item *it, const mlc_m3_result *r, size_t i, mlc_item_values *out)
{
    from_m3_tx(it, r, 0, i, out);
}

/* ---- M3 ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

mlc_err mlc_item_m3_changed(mlc_item *it, const char *from_day, char ***skus, size_t *n, char max_day[9],
                            mlc_error *err)
{
    *skus = NULL;
    *n = 0;
    max_day[0] = '\0';
    const char *pgm = it->pgm_changed;
    mlc_m3_field in[] = {{"FLMD", from_day}};
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_execute(it->m3, pgm, in, from_day && *from_day ? 1 : 0, 0, &r, err);
    if (rc) {
        mlc_m3_result_free(r);
        return mlc_error_prefix(err, "listing changed items (%s)", pgm);
    }
    size_t cnt = mlc_m3_result_count(r), bytes = 0;
    for (size_t i = 0; i < cnt; i++) {
        const char *s = mlc_m3_result_get(r, i, it->sku_field);
        bytes += (s ? strlen(s) : 0) + 1;
    }
    char **arr = malloc((cnt + 1) * sizeof *arr + bytes + 1);
    if (!arr) {
        mlc_m3_result_free(r);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    char *p = (char *)(arr + cnt + 1);
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++) {
        const char *s = mlc_m3_result_get(r, i, it->sku_field);
        const char *d = mlc_m3_result_get(r, i, "LMDT");
        if (d && strlen(d) == 8 && strcmp(d, max_day) > 0)
            snprintf(max_day, 9, "%s", d);
        if (!s || !*s)
            continue;
        strcpy(p, s);
        arr[k++] = p;
        p += strlen(s) + 1;
    }
    qsort(arr, k, sizeof *arr, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp(arr[u - 1], arr[i]) != 0)
            arr[u++] = arr[i];
    mlc_m3_result_free(r);
    *skus = arr;
    *n = u;
    return MLC_OK;
}

/* When the SKU is not ITNO: one full listing maps SKU -> ITNO. */
mlc_err mlc_item_m3_itno(mlc_item *it, const char *sku, const char **itno, mlc_error *err)
{
    *itno = sku;
    if (strcmp(it->sku_field, "ITNO") == 0)
        return MLC_OK;
    if (!it->skumap_loaded) {
        const char *pgm = it->pgm_changed;
        mlc_m3_result *r = NULL;
        mlc_err rc = mlc_m3_execute(it->m3, pgm, NULL, 0, 0, &r, err);
        if (rc) {
            mlc_m3_result_free(r);
            return mlc_error_prefix(err, "listing items for %s (%s)", it->sku_field, pgm);
        }
        size_t cnt = mlc_m3_result_count(r);
        it->skumap = calloc(cnt + 1, sizeof *it->skumap);
        if (!it->skumap) {
            mlc_m3_result_free(r);
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < cnt; i++) {
            const char *s = mlc_m3_result_get(r, i, it->sku_field), *x = mlc_m3_result_get(r, i, "ITNO");
            if (!s || !*s || !x)
                continue;
            it->skumap[it->nskumap].sku = strdup(s);
            it->skumap[it->nskumap].itno = strdup(x);
            it->nskumap++;
        }
        mlc_m3_result_free(r);
        it->skumap_loaded = 1;
    }
    for (size_t i = 0; i < it->nskumap; i++)
        if (it->skumap[i].sku && strcmp(it->skumap[i].sku, sku) == 0) {
            *itno = it->skumap[i].itno;
            return MLC_OK;
        }
    mlc_error_set(err, MLC_ERR_NOTFOUND, "no M3 item has %s %s", it->sku_field, sku);
    return MLC_ERR_NOTFOUND;
}

static int cmp_cached(const void *a, const void *b)
{
    return strcmp(((const m3_cached *)a)->sku, ((const m3_cached *)b)->sku);
}

static m3_cached *cached(mlc_item *it, const char *sku)
{
    m3_cached key = {.sku = (char *)sku};
    return it->ncache ? bsearch(&key, it->cache, it->ncache, sizeof *it->cache, cmp_cached) : NULL;
}

/* After mlc writes an item, its next read goes to M3. */
static void uncache_basic(mlc_item *it, const char *sku)
{
    m3_cached *c = cached(it, sku);
    if (c)
        c->basic = 0;
}

mlc_err mlc_item_m3_get(mlc_item *it, const char *sku, mlc_item_values *out, mlc_error *err)
{
    const char *itno;
    const m3_cached *c = cached(it, sku);
    if (c && c->basic == 1) {
        *out = c->v;
        return MLC_OK;
    }
    mlc_err rc = mlc_item_m3_itno(it, sku, &itno, err);
    if (rc)
        return rc;
    if (c && c->basic == 2)
        return mlc_error_set(err, MLC_ERR_NOTFOUND, "M3 has no item %s", itno);
    const char *pgm = it->pgm_get;
    mlc_m3_field in[] = {{"ITNO", itno}};
    mlc_m3_result *r = NULL;
    rc = mlc_m3_execute(it->m3, pgm, in, 1, 1, &r, err);
    if (rc == MLC_ERR_REMOTE && r && mlc_m3_result_count(r) == 0 &&
        (strcmp(mlc_m3_result_code(r), "WIT0103") == 0 || strcmp(mlc_m3_result_field(r), "ITNO") == 0)) {
        mlc_m3_result_free(r);
        return mlc_error_set(err, MLC_ERR_NOTFOUND, "M3 has no item %s", itno);
    }
    if (rc || mlc_m3_result_count(r) == 0) {
        if (!rc)
            rc = mlc_error_set(err, MLC_ERR_NOTFOUND, "M3 has no item %s", itno);
        mlc_m3_result_free(r);
        return rc == MLC_ERR_NOTFOUND ? rc : mlc_error_prefix(err, "reading item %s (%s)", itno, pgm);
    }
    mlc_item_from_m3(it, r, 0, out);
    snprintf(out->sku, sizeof out->sku, "%s", sku);
    mlc_m3_result_free(r);
    return MLC_OK;
}

/* M3 number text: value with up to `dec` decimals, trailing zeros dropped. */
static void m3_num(char *dst, size_t cap, double x, int dec)
{
    if (!isfinite(x) || x < 0)
        x = 0;
    snprintf(dst, cap, "%.*f", dec, x);
    if (strchr(dst, '.')) {
        size_t n = strlen(dst);
        while (n && dst[n - 1] == '0')
            dst[--n] = '\0';
        if (n && dst[n - 1] == '.')
            dst[--n] = '\0';
    }
}

/* Fields of v in mask as M3 inputs (bufs holds the texts). */
static size_t m3_inputs(const mlc_item *it, const mlc_item_values *v, unsigned mask, mlc_m3_field *in,
                        char bufs[][MLC_ITEM_VALUE_MAX])
{
    size_t n = 0;
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++) {
        if (!(mask & (1u << f)))
            continue;
        char *b = bufs[f];
        double x = strtod(v->v[f], NULL);
        switch ((mlc_item_field)f) {
        case MLC_ITEM_NAME:
            snprintf(b, MLC_ITEM_VALUE_MAX, "%.*s", MLC_ITEM_M3_NAME_MAX, v->v[f]);
            break;
        case MLC_ITEM_CUSTOMS_DESC:
            snprintf(b, MLC_ITEM_VALUE_MAX, "%.*s", MLC_ITEM_M3_DESC_MAX, v->v[f]);
            break;
        case MLC_ITEM_WEIGHT:
            m3_num(b, MLC_ITEM_VALUE_MAX, x / it->weight_to_oz, 4);
            break;
        default:
            m3_num(b, MLC_ITEM_VALUE_MAX, x / it->length_to_in, 2);
            break;
        }
        in[n].name = M3_FIELDS[f];
        in[n].value = b;
        n++;
    }
    return n;
}

mlc_err mlc_item_m3_update(mlc_item *it, const mlc_item_values *v, unsigned mask, mlc_error *err)
{
    const char *itno;
    mlc_err rc = mlc_item_m3_itno(it, v->sku, &itno, err);
    if (rc)
        return rc;
    mlc_m3_field in[MLC_ITEM__NFIELDS + 1];
    char bufs[MLC_ITEM__NFIELDS][MLC_ITEM_VALUE_MAX];
    in[0].name = "ITNO";
    in[0].value = itno;
    size_t n = 1 + m3_inputs(it, v, mask, in + 1, bufs);
    const char *pgm = it->pgm_update;
    mlc_m3_result *r = NULL;
    uncache_basic(it, v->sku);
    rc = mlc_m3_execute(it->m3, pgm, in, n, 0, &r, err);
    mlc_m3_result_free(r);
    return rc ? mlc_error_prefix(err, "updating item %s (%s)", itno, pgm) : MLC_OK;
}

mlc_err mlc_item_m3_create(mlc_item *it, const mlc_item_values *v, mlc_error *err)
{
    static const char *const MANDATORY[] = {"STAT", "ITNO", "ITDS", "RESP", "UNMS", "ITTY", "MABU", "PRVG", NULL};
    mlc_m3_field in[64];
    char bufs[MLC_ITEM__NFIELDS][MLC_ITEM_VALUE_MAX];
    size_t n = 0;
    if (strcmp(it->sku_field, "ITNO") != 0)
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "creating items needs mapping.items.sku_field ITNO (the SKU becomes the item number)");
    uncache_basic(it, v->sku);
    in[n].name = "ITNO";
    in[n++].value = v->sku;
    unsigned mask = 0, dims = (1u << MLC_ITEM_LENGTH) | (1u << MLC_ITEM_WIDTH) | (1u << MLC_ITEM_HEIGHT);
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        if (v->v[f][0] && (mlc_item_field_is_text((mlc_item_field)f) || strtod(v->v[f], NULL) > 0))
            mask |= 1u << f;
    /* AddItmBasic has no ILEN/IWID/IHEI: they follow with UpdItmBasic */
    n += m3_inputs(it, v, mask & ~dims, in + n, bufs);
    const mlc_config_node *ni = mlc_config_node_at(it->cfg, "mapping.items.new_item");
    for (size_t i = 0; ni && i < mlc_config_node_count(ni) && n < 63; i++) {
        const mlc_config_node *kid = mlc_config_node_child(ni, i);
        const char *k = mlc_config_node_key(kid), *val = mlc_config_node_value(kid);
        int dup = 0;
        for (size_t j = 0; j < n; j++)
            if (strcmp(in[j].name, k) == 0)
                dup = 1;
        if (!dup && val) {
            in[n].name = k;
            in[n++].value = val;
        }
    }
    int has_resp = 0;
    for (size_t j = 0; j < n; j++)
        if (strcmp(in[j].name, "RESP") == 0)
            has_resp = 1;
    if (!has_resp && mlc_config_str(it->cfg, "cloudsuite.responsible")) {
        in[n].name = "RESP";
        in[n++].value = mlc_config_str(it->cfg, "cloudsuite.responsible");
    }
    for (const char *const *m = MANDATORY; *m; m++) {
        int have = 0;
        for (size_t j = 0; j < n; j++)
            if (strcmp(in[j].name, *m) == 0 && in[j].value[0])
                have = 1;
        if (!have)
            return mlc_error_set(err, MLC_ERR_CONFIG,
                                 "creating item %s: mandatory field %s has no value (set mapping.items.new_item.%s)",
                                 v->sku, *m, *m);
    }
    const char *pgm = it->pgm_add;
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_execute(it->m3, pgm, in, n, 0, &r, err);
    mlc_m3_result_free(r);
    if (rc)
        return mlc_error_prefix(err, "creating item %s (%s)", v->sku, pgm);
    return mask & dims ? mlc_item_m3_update(it, v, mask & dims, err) : MLC_OK;
}

void mlc_item_m3_forget(mlc_item *it)
{
    for (size_t i = 0; i < it->ncache; i++)
        free(it->cache[i].sku);
    free(it->cache);
    it->cache = NULL;
    it->ncache = 0;
}

/* GetItmBasic of n items in one bulk call into c[k].basic/v (left 0 where M3's
 * answer does not settle it: the single read then asks again and reports). */
static mlc_err basics_many(mlc_item *it, m3_cached *c, const char *const *itnos, size_t n, mlc_error *err)
{
    const char *pgm = it->pgm_get;
    mlc_m3_field *fields = calloc(n, sizeof *fields);
    mlc_m3_record *recs = calloc(n, sizeof *recs);
    if (!fields || !recs) {
        free(fields);
        free(recs);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < n; k++) {
        fields[k] = (mlc_m3_field){"ITNO", itnos[k]};
        recs[k] = (mlc_m3_record){&fields[k], 1};
    }
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_bulk(it->m3, pgm, recs, n, 1, &r, err);
    free(fields);
    free(recs);
    if (rc == MLC_ERR_REMOTE && r && mlc_m3_result_tx_count(r) == n)
        rc = MLC_OK; /* per transaction */
    else if (!rc && mlc_m3_result_tx_count(r) != n)
        rc = mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: %zu answers for %zu items", pgm,
                           mlc_m3_result_tx_count(r), n);
    for (size_t k = 0; !rc && k < n; k++) {
        if (mlc_m3_result_tx_not_processed(r, k))
            continue;
        if (mlc_m3_result_tx_ok(r, k) && mlc_m3_result_tx_record_count(r, k) > 0) {
            const char *x = mlc_m3_result_tx_get(r, k, 0, "ITNO");
            if (x && strcmp(x, itnos[k]) != 0)
                continue; /* an answer about another item is never taken for this one */
            from_m3_tx(it, r, k, 0, &c[k].v);
            snprintf(c[k].v.sku, sizeof c[k].v.sku, "%s", c[k].sku);
            c[k].basic = 1;
        } else if (!mlc_m3_result_tx_ok(r, k) && strcmp(mlc_m3_result_tx_code(r, k), "WIT0103") == 0) {
            c[k].basic = 2; /* as the single read: WIT0103 is "no such item" */
        }
    }
    mlc_m3_result_free(r);
    return rc ? mlc_error_prefix(err, "reading %zu items (%s bulk)", n, pgm) : MLC_OK;
}

mlc_err mlc_item_m3_itnos(mlc_item *it, char *const *skus, size_t n, const char **known, const char **itnos,
                         size_t *m, mlc_error *err)
{
    *m = 0;
    for (size_t k = 0; k < n; k++) {
        const char *itno;
        mlc_error e = {0};
        mlc_err rc = mlc_item_m3_itno(it, skus[k], &itno, &e);
        if (rc == MLC_ERR_NOTFOUND)
            continue; /* the single read reports it */
        if (rc) {
            *err = e;
            return rc;
        }
        known[*m] = skus[k];
        itnos[(*m)++] = itno;
    }
    return MLC_OK;
}

mlc_err mlc_item_m3_prefetch(mlc_item *it, char *const *skus, size_t n, mlc_error *err)
{
    mlc_item_m3_forget(it);
    if (n == 0)
        return MLC_OK;
    m3_cached *c = calloc(n, sizeof *c);
    const char **known = calloc(n, sizeof *known), **itnos = calloc(n, sizeof *itnos);
    size_t m = 0;
    mlc_err rc = !c || !known || !itnos ? mlc_error_set(err, MLC_ERR_NOMEM, "out of memory")
                                        : mlc_item_m3_itnos(it, skus, n, known, itnos, &m, err);
    for (size_t k = 0; !rc && k < m; k++)
        if (!(c[k].sku = strdup(known[k])))
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (!rc && m)
        rc = basics_many(it, c, itnos, m, err);
    free(known);
    free(itnos);
    it->cache = c;
    it->ncache = c ? n : 0; /* entries past m hold nothing */
    if (rc) {
        mlc_item_m3_forget(it);
        return rc;
    }
    it->ncache = m;
    if (m > 1)
        qsort(it->cache, m, sizeof *it->cache, cmp_cached);
    return MLC_OK;
}
