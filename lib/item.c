/*
 * item.c: M3 items <-> ShipStation products and stock (see item.h).
 * Not here: which items to look at, remembered values, records (cmd/sync_items.c).
 */
#include "item.h"

#include "dates.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define M3_NAME_MAX 30 /* ITDS */
#define M3_DESC2_MAX 60 /* FUDS */
#define TOLERANCE 0.02

typedef struct item_whs {
    char whlo[16];
    char location[64];  /* inventory_location_id, may be "" */
    char warehouse[64]; /* inventory_warehouse_id, may be "" */
    cJSON *levels;      /* GET /v2/inventory rows of this location/warehouse, loaded once */
    mlc_err load_err;
    char load_msg[MLC_ERROR_MSG_MAX];
} item_whs;

typedef struct product_ref {
    const char *sku;
    const cJSON *p;
} product_ref;

typedef struct sku_itno {
    char *sku, *itno;
} sku_itno;

/* The M3 side of one SKU as read by mlc_item_m3_prefetch. */
typedef struct m3_cached {
    char *sku;
    int basic;           /* 0 not read (ask M3), 1 read into v, 2 M3 has no such item */
    mlc_item_values v;
    mlc_item_stock *bal; /* nwhs balances, or NULL (ask M3) */
} m3_cached;

struct mlc_item {
    const mlc_config *cfg;
    mlc_m3 *m3;
    mlc_ss *ss;
    mlc_log *log;
    mlc_item_owner owners[MLC_ITEM__NFIELDS];
    double weight_to_oz, length_to_in;
    const char *sku_field;
    item_whs *whs;
    size_t nwhs;
    /* products */
    cJSON *products; /* array of the listed products (moved out of the pages) */
    product_ref *index;
    size_t nindex;
    int products_v1;
    /* sku -> ITNO when sku_field is not ITNO */
    sku_itno *skumap;
    size_t nskumap;
    int skumap_loaded;
    /* mlc_item_m3_prefetch: sorted by sku */
    m3_cached *cache;
    size_t ncache;
};

static const char *const FIELD_NAMES[MLC_ITEM__NFIELDS] = {"name",  "weight", "length",
                                                           "width", "height", "customs_description"};
static const char *const M3_FIELDS[MLC_ITEM__NFIELDS] = {"ITDS", "GRWE", "ILEN", "IWID", "IHEI", "FUDS"};
static const char *const V1_FIELDS[MLC_ITEM__NFIELDS] = {"name",  "weightOz", "length",
                                                         "width", "height",   "customsDescription"};

static int is_text(mlc_item_field f) { return f == MLC_ITEM_NAME || f == MLC_ITEM_CUSTOMS_DESC; }

const char *mlc_item_field_name(mlc_item_field f)
{
    return (unsigned)f < MLC_ITEM__NFIELDS ? FIELD_NAMES[f] : NULL;
}

int mlc_item_same(mlc_item_field f, const char *a, const char *b)
{
    if (!a)
        a = "";
    if (!b)
        b = "";
    if (is_text(f)) {
        if (strcmp(a, b) == 0)
            return 1;
        /* M3 keeps 30 (ITDS) / 60 (FUDS) characters of a longer product text */
        size_t cut = f == MLC_ITEM_NAME ? M3_NAME_MAX : M3_DESC2_MAX, la = strlen(a), lb = strlen(b);
        if (la == cut && lb > cut)
            return strncmp(a, b, cut) == 0;
        if (lb == cut && la > cut)
            return strncmp(a, b, cut) == 0;
        return 0;
    }
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea == a)
        x = 0;
    if (eb == b)
        y = 0;
    return fabs(x - y) <= TOLERANCE + 1e-9;
}

/* ---- plan ---- */

void mlc_item_plan(const mlc_item_owner owners[MLC_ITEM__NFIELDS], const mlc_item_values *m3,
                   const mlc_item_values *m3_prev, const mlc_item_values *ss, const mlc_item_values *ss_prev,
                   mlc_item_plan_out *out)
{
    memset(out, 0, sizeof *out);
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++) {
        if (mlc_item_same((mlc_item_field)f, m3->v[f], ss->v[f]))
            continue;
        mlc_item_act a;
        if (owners[f] == MLC_OWNER_CLOUDSUITE) {
            a = MLC_ACT_TO_SS;
        } else if (owners[f] == MLC_OWNER_SHIPSTATION) {
            a = MLC_ACT_TO_M3;
        } else {
            int m3chg = !m3_prev || !mlc_item_same((mlc_item_field)f, m3->v[f], m3_prev->v[f]);
            int sschg = !ss_prev || !mlc_item_same((mlc_item_field)f, ss->v[f], ss_prev->v[f]);
            if (m3chg && !sschg)
                a = MLC_ACT_TO_SS;
            else if (sschg && !m3chg)
                a = MLC_ACT_TO_M3;
            else /* M3 change dates are days: SS wins only from the next day on */
                a = ss->changed_at >= m3->changed_at + 86400 ? MLC_ACT_TO_M3 : MLC_ACT_TO_SS;
        }
        out->act[f] = a;
        if (a == MLC_ACT_TO_SS)
            out->to_ss |= 1u << f;
        else
            out->to_m3 |= 1u << f;
    }
}

/* ---- remembered values ---- */

char *mlc_item_values_encode(const mlc_item_values *v)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "sku", v->sku);
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++)
        cJSON_AddStringToObject(j, FIELD_NAMES[f], v->v[f]);
    cJSON_AddNumberToObject(j, "changed_at", (double)v->changed_at);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

int mlc_item_values_decode(const char *text, mlc_item_values *out)
{
    memset(out, 0, sizeof *out);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sku");
    if (cJSON_IsString(s))
        snprintf(out->sku, sizeof out->sku, "%s", s->valuestring);
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, FIELD_NAMES[f]);
        if (cJSON_IsString(x))
            snprintf(out->v[f], MLC_ITEM_VALUE_MAX, "%s", x->valuestring);
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "changed_at");
    if (cJSON_IsNumber(c))
        out->changed_at = (time_t)c->valuedouble;
    cJSON_Delete(j);
    return 0;
}

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
            if (strcmp(k, FIELD_NAMES[f]) == 0 ||
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

static mlc_err load_warehouses(mlc_item *it, mlc_error *err)
{
    const mlc_config_node *n = mlc_config_node_at(it->cfg, "mapping.warehouses");
    size_t cnt = n ? mlc_config_node_count(n) : 0;
    it->whs = calloc(cnt + 1, sizeof *it->whs);
    if (!it->whs)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        const mlc_config_node *w = mlc_config_node_child(n, i);
        const mlc_config_node *loc = mlc_config_node_get(w, "inventory_location_id");
        const mlc_config_node *wh = mlc_config_node_get(w, "inventory_warehouse_id");
        const char *lv = loc ? mlc_config_node_value(loc) : NULL, *wv = wh ? mlc_config_node_value(wh) : NULL;
        if (!(lv && *lv) && !(wv && *wv))
            continue;
        item_whs *x = &it->whs[it->nwhs++];
        snprintf(x->whlo, sizeof x->whlo, "%s", mlc_config_node_key(w));
        snprintf(x->location, sizeof x->location, "%s", lv ? lv : "");
        snprintf(x->warehouse, sizeof x->warehouse, "%s", wv ? wv : "");
    }
    return MLC_OK;
}

mlc_err mlc_item_new(const mlc_config *cfg, mlc_m3 *m3, mlc_ss *ss, mlc_log *log, mlc_item **out, mlc_error *err)
{
    *out = NULL;
    mlc_item *it = calloc(1, sizeof *it);
    if (!it)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    it->cfg = cfg;
    it->m3 = m3;
    it->ss = ss;
    it->log = log;
    it->sku_field = mlc_config_str(cfg, "mapping.items.sku_field");
    if (!it->sku_field || !*it->sku_field)
        it->sku_field = "ITNO";
    /* the columns this module reads (mlc_item_m3_changed, itno_of, mlc_item_from_m3,
     * m3_balances): M3 sends only these (lib/m3) */
    const char *changed = mlc_config_str(cfg, "cloudsuite.programs.items_changed");
    const char *get = mlc_config_str(cfg, "cloudsuite.programs.item_get");
    mlc_m3_columns(m3, changed, "ITNO,LMDT");
    mlc_m3_columns(m3, changed, it->sku_field);
    mlc_m3_columns(m3, get, "ITDS,GRWE,ILEN,IWID,IHEI,FUDS,LMDT");
    mlc_m3_columns(m3, get, it->sku_field);
    mlc_m3_columns(m3, mlc_config_str(cfg, "cloudsuite.programs.item_balance"), "STQT");
    mlc_err rc = load_owners(it, err);
    if (!rc && weight_factor(mlc_config_str(cfg, "mapping.items.weight_unit"), &it->weight_to_oz))
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "mapping.items.weight_unit: '%s' is not kg, g, lb or oz",
                           mlc_config_str(cfg, "mapping.items.weight_unit"));
    if (!rc && length_factor(mlc_config_str(cfg, "mapping.items.length_unit"), &it->length_to_in))
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "mapping.items.length_unit: '%s' is not cm, mm, m or in",
                           mlc_config_str(cfg, "mapping.items.length_unit"));
    if (!rc)
        rc = load_warehouses(it, err);
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
    for (size_t i = 0; i < it->nwhs; i++)
        cJSON_Delete(it->whs[i].levels);
    free(it->whs);
    cJSON_Delete(it->products);
    free(it->index);
    for (size_t i = 0; i < it->nskumap; i++) {
        free(it->skumap[i].sku);
        free(it->skumap[i].itno);
    }
    free(it->skumap);
    mlc_item_m3_forget(it);
    free(it);
}

const mlc_item_owner *mlc_item_owners(const mlc_item *it) { return it->owners; }

int mlc_item_can_write_products(const mlc_item *it) { return it->ss && mlc_ss_has(it->ss, MLC_SS_V1); }

/* ---- canonical values ---- */

static void set_num(char *dst, double x)
{
    if (!isfinite(x))
        x = 0;
    snprintf(dst, MLC_ITEM_VALUE_MAX, "%.2f", x);
    if (strcmp(dst, "-0.00") == 0)
        snprintf(dst, MLC_ITEM_VALUE_MAX, "0.00");
}

static void set_text(char *dst, const char *s)
{
    if (!s)
        s = "";
    while (*s == ' ')
        s++;
    snprintf(dst, MLC_ITEM_VALUE_MAX, "%s", s);
    size_t n = strlen(dst);
    while (n && dst[n - 1] == ' ')
        dst[--n] = '\0';
}

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
    set_text(out->v[MLC_ITEM_NAME], G("ITDS"));
    set_num(out->v[MLC_ITEM_WEIGHT], num_of(G("GRWE")) * it->weight_to_oz);
    set_num(out->v[MLC_ITEM_LENGTH], num_of(G("ILEN")) * it->length_to_in);
    set_num(out->v[MLC_ITEM_WIDTH], num_of(G("IWID")) * it->length_to_in);
    set_num(out->v[MLC_ITEM_HEIGHT], num_of(G("IHEI")) * it->length_to_in);
    set_text(out->v[MLC_ITEM_CUSTOMS_DESC], G("FUDS"));
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

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(x))
        return x->valuedouble;
    if (cJSON_IsString(x))
        return strtod(x->valuestring, NULL);
    return 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double v2_weight_oz(const cJSON *w)
{
    double v = jnum(w, "value");
    const char *u = jstr(w, "unit");
    if (!u || strcmp(u, "ounce") == 0)
        return v;
    if (strcmp(u, "pound") == 0)
        return v * 16;
    if (strcmp(u, "gram") == 0)
        return v * 0.03527396194958;
    if (strcmp(u, "kilogram") == 0)
        return v * 35.27396194958;
    return v;
}

void mlc_item_from_product(const cJSON *p, mlc_item_values *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->sku, sizeof out->sku, "%s", jstr(p, "sku") ? jstr(p, "sku") : "");
    set_text(out->v[MLC_ITEM_NAME], jstr(p, "name"));
    time_t t = 0;
    if (cJSON_GetObjectItemCaseSensitive(p, "productId")) { /* V1 */
        set_num(out->v[MLC_ITEM_WEIGHT], jnum(p, "weightOz"));
        set_num(out->v[MLC_ITEM_LENGTH], jnum(p, "length"));
        set_num(out->v[MLC_ITEM_WIDTH], jnum(p, "width"));
        set_num(out->v[MLC_ITEM_HEIGHT], jnum(p, "height"));
        set_text(out->v[MLC_ITEM_CUSTOMS_DESC], jstr(p, "customsDescription"));
        const char *md = jstr(p, "modifyDate");
        if (md && mlc_dates_parse_pacific(md, &t) == 0)
            out->changed_at = t;
    } else { /* V2 */
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(p, "dimensions");
        const char *u = jstr(d, "unit");
        double f = u && strcmp(u, "centimeter") == 0 ? 1 / 2.54 : 1;
        set_num(out->v[MLC_ITEM_WEIGHT], v2_weight_oz(cJSON_GetObjectItemCaseSensitive(p, "weight")));
        set_num(out->v[MLC_ITEM_LENGTH], jnum(d, "length") * f);
        set_num(out->v[MLC_ITEM_WIDTH], jnum(d, "width") * f);
        set_num(out->v[MLC_ITEM_HEIGHT], jnum(d, "height") * f);
        set_text(out->v[MLC_ITEM_CUSTOMS_DESC], jstr(p, "customs_description"));
        const char *md = jstr(p, "modify_date");
        if (md && mlc_dates_parse_rfc3339(md, &t) == 0)
            out->changed_at = t;
    }
}

/* ---- M3 ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const char *program(const mlc_item *it, const char *key) { return mlc_config_str(it->cfg, key); }

mlc_err mlc_item_m3_changed(mlc_item *it, const char *from_day, char ***skus, size_t *n, char max_day[9],
                            mlc_error *err)
{
    *skus = NULL;
    *n = 0;
    max_day[0] = '\0';
    const char *pgm = program(it, "cloudsuite.programs.items_changed");
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
static mlc_err itno_of(mlc_item *it, const char *sku, const char **itno, mlc_error *err)
{
    *itno = sku;
    if (strcmp(it->sku_field, "ITNO") == 0)
        return MLC_OK;
    if (!it->skumap_loaded) {
        const char *pgm = program(it, "cloudsuite.programs.items_changed");
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
    mlc_err rc = itno_of(it, sku, &itno, err);
    if (rc)
        return rc;
    if (c && c->basic == 2)
        return mlc_error_set(err, MLC_ERR_NOTFOUND, "M3 has no item %s", itno);
    const char *pgm = program(it, "cloudsuite.programs.item_get");
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
            snprintf(b, MLC_ITEM_VALUE_MAX, "%.*s", M3_NAME_MAX, v->v[f]);
            break;
        case MLC_ITEM_CUSTOMS_DESC:
            snprintf(b, MLC_ITEM_VALUE_MAX, "%.*s", M3_DESC2_MAX, v->v[f]);
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
    mlc_err rc = itno_of(it, v->sku, &itno, err);
    if (rc)
        return rc;
    mlc_m3_field in[MLC_ITEM__NFIELDS + 1];
    char bufs[MLC_ITEM__NFIELDS][MLC_ITEM_VALUE_MAX];
    in[0].name = "ITNO";
    in[0].value = itno;
    size_t n = 1 + m3_inputs(it, v, mask, in + 1, bufs);
    const char *pgm = program(it, "cloudsuite.programs.item_update");
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
        if (v->v[f][0] && (is_text((mlc_item_field)f) || strtod(v->v[f], NULL) > 0))
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
    const char *pgm = program(it, "cloudsuite.programs.item_add");
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_execute(it->m3, pgm, in, n, 0, &r, err);
    mlc_m3_result_free(r);
    if (rc)
        return mlc_error_prefix(err, "creating item %s (%s)", v->sku, pgm);
    return mask & dims ? mlc_item_m3_update(it, v, mask & dims, err) : MLC_OK;
}

/* ---- products ---- */

/* Moves the rows of a list page (with a non-empty "sku" if need_sku) to the end
 * of to, instead of copying them: a page and its copy at once were sync-items'
 * peak memory.  The page keeps the rest and is freed by its owner as before. */
static void move_rows(cJSON *to, cJSON *page_rows, int need_sku)
{
    cJSON *e = cJSON_IsArray(page_rows) ? page_rows->child : NULL;
    while (e) {
        cJSON *next = e->next;
        if (!need_sku || (jstr(e, "sku") && *jstr(e, "sku")))
            cJSON_AddItemToArray(to, cJSON_DetachItemViaPointer(page_rows, e));
        e = next;
    }
}

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const product_ref *)a)->sku, ((const product_ref *)b)->sku);
}

mlc_err mlc_item_products_load(mlc_item *it, mlc_error *err)
{
    cJSON_Delete(it->products);
    free(it->index);
    it->index = NULL;
    it->nindex = 0;
    it->products = cJSON_CreateArray();
    if (!it->products)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    it->products_v1 = mlc_ss_has(it->ss, MLC_SS_V1);
    mlc_ss_version ver = it->products_v1 ? MLC_SS_V1 : MLC_SS_V2;
    const char *path = it->products_v1 ? "/products" : "/v2/products";
    int size = it->products_v1 ? 500 : 100;
    for (int page = 1;; page++) {
        mlc_ss_response resp = {0};
        const cJSON *items = NULL;
        int more = 0;
        mlc_err rc = mlc_ss_list_page(it->ss, ver, path, "products", page, size, &resp, &items, &more, err);
        if (rc) {
            mlc_ss_response_free(&resp);
            return mlc_error_prefix(err, "listing ShipStation products (page %d)", page);
        }
        size_t got = (size_t)cJSON_GetArraySize(items);
        move_rows(it->products, (cJSON *)items, 1); /* the page owns them; it is freed next */
        mlc_ss_response_free(&resp);
        if (!more || got == 0 || page > 100000)
            break;
    }
    size_t cnt = (size_t)cJSON_GetArraySize(it->products);
    it->index = calloc(cnt + 1, sizeof *it->index);
    if (!it->index)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    const cJSON *p;
    cJSON_ArrayForEach(p, it->products)
    {
        it->index[it->nindex].sku = jstr(p, "sku");
        it->index[it->nindex].p = p;
        it->nindex++;
    }
    qsort(it->index, it->nindex, sizeof *it->index, cmp_ref);
    size_t u = 0; /* a SKU twice: the first listed wins, the other is logged */
    for (size_t i = 0; i < it->nindex; i++) {
        if (u && strcmp(it->index[u - 1].sku, it->index[i].sku) == 0) {
            mlc_log_warn(it->log, "ShipStation has SKU %s on more than one product: using the first",
                         it->index[i].sku);
            continue;
        }
        it->index[u++] = it->index[i];
    }
    it->nindex = u;
    return MLC_OK;
}

size_t mlc_item_product_count(const mlc_item *it) { return it->nindex; }

const char *mlc_item_product_sku(const mlc_item *it, size_t i) { return i < it->nindex ? it->index[i].sku : NULL; }

const cJSON *mlc_item_product(const mlc_item *it, const char *sku)
{
    if (!it->index || !sku)
        return NULL;
    product_ref key = {sku, NULL};
    const product_ref *r = bsearch(&key, it->index, it->nindex, sizeof key, cmp_ref);
    return r ? r->p : NULL;
}

mlc_err mlc_item_product_update(mlc_item *it, const mlc_item_values *v, unsigned mask, mlc_error *err)
{
    if (!mlc_item_can_write_products(it))
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "updating product %s needs ShipStation V1 credentials (V2 products are read-only)",
                             v->sku);
    const cJSON *p = mlc_item_product(it, v->sku);
    if (!p || !cJSON_GetObjectItemCaseSensitive(p, "productId"))
        return mlc_error_set(err, MLC_ERR_NOTFOUND, "ShipStation has no V1 product with SKU %s", v->sku);
    cJSON *body = cJSON_Duplicate(p, 1);
    if (!body)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++) {
        if (!(mask & (1u << f)))
            continue;
        cJSON *nv = is_text((mlc_item_field)f) ? (v->v[f][0] || f == MLC_ITEM_NAME ? cJSON_CreateString(v->v[f])
                                                                                    : cJSON_CreateNull())
                                               : cJSON_CreateNumber(strtod(v->v[f], NULL));
        if (cJSON_GetObjectItemCaseSensitive(body, V1_FIELDS[f]))
            cJSON_ReplaceItemInObjectCaseSensitive(body, V1_FIELDS[f], nv);
        else
            cJSON_AddItemToObject(body, V1_FIELDS[f], nv);
    }
    char path[64];
    snprintf(path, sizeof path, "/products/%.0f", jnum(p, "productId"));
    mlc_ss_response resp = {0};
    mlc_err rc = mlc_ss_request(it->ss, MLC_SS_V1, "PUT", path, body, 1, &resp, err);
    if (!rc && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(resp.json, "success"))) {
        const char *m = jstr(resp.json, "message");
        rc = mlc_error_set(err, MLC_ERR_REMOTE, "%s", m ? m : "success: false");
    }
    mlc_ss_response_free(&resp);
    if (rc) {
        cJSON_Delete(body);
        return mlc_error_prefix(err, "updating product %s (PUT %s)", v->sku, path);
    }
    /* keep the index in step with what was written */
    cJSON_ReplaceItemViaPointer(it->products, (cJSON *)p, body);
    for (size_t i = 0; i < it->nindex; i++)
        if (it->index[i].p == p) {
            it->index[i].p = body;
            it->index[i].sku = jstr(body, "sku");
        }
    return MLC_OK;
}

/* ---- stock ---- */

size_t mlc_item_stock_warehouses(const mlc_item *it) { return it->nwhs; }

/* Every inventory level of the warehouse's location (or warehouse), once per run:
 * one paged list instead of a request per SKU. */
static mlc_err load_levels(mlc_item *it, item_whs *w, mlc_error *err)
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
        rc = mlc_ss_request(it->ss, MLC_SS_V2, "GET", path, NULL, 1, &resp, err);
        if (rc) {
            mlc_ss_response_free(&resp);
            break;
        }
        cJSON *rows = cJSON_GetObjectItemCaseSensitive(resp.json, "inventory");
        int next = 0;
        mlc_ss_page_info(resp.json, NULL, NULL, NULL, &next);
        int got = cJSON_GetArraySize(rows);
        move_rows(all, rows, 0);
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
static mlc_err ss_on_hand(mlc_item *it, const char *sku, item_whs *w, double *qty, char *loc, size_t loccap,
                          mlc_error *err)
{
    *qty = 0;
    mlc_err rc = load_levels(it, w, err);
    if (rc)
        return rc;
    const cJSON *e;
    cJSON_ArrayForEach(e, w->levels)
    {
        const char *l = jstr(e, "inventory_location_id"), *s = jstr(e, "sku");
        if (!l || !s || strcmp(s, sku) != 0)
            continue;
        if (!loc[0])
            snprintf(loc, loccap, "%s", l);
        if (strcmp(l, loc) == 0)
            *qty += jnum(e, "on_hand");
    }
    if (!loc[0]) { /* no level for this SKU yet: any location of the warehouse will do */
        cJSON_ArrayForEach(e, w->levels) if (jstr(e, "inventory_location_id"))
        {
            snprintf(loc, loccap, "%s", jstr(e, "inventory_location_id"));
            break;
        }
    }
    return MLC_OK;
}

/* Keeps the loaded levels in step with an adjust. */
static void level_set(item_whs *w, const char *sku, const char *loc, double q)
{
    cJSON *e;
    cJSON_ArrayForEach(e, w->levels)
    {
        const char *l = jstr(e, "inventory_location_id"), *s = jstr(e, "sku");
        if (l && s && strcmp(s, sku) == 0 && strcmp(l, loc) == 0) {
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

/* ShipStation side of one warehouse, once s->m3_qty is known. */
static void stock_one(mlc_item *it, const char *sku, item_whs *w, int dry_run, mlc_item_stock *s)
{
    mlc_error e = {0};
    mlc_err rc;
    rc = ss_on_hand(it, sku, w, &s->ss_qty, s->location, sizeof s->location, &e);
    if (rc) {
        s->action = rc == MLC_ERR_NOTFOUND || rc == MLC_ERR_REMOTE ? MLC_STOCK_REPORTED : MLC_STOCK_FAILED;
        s->err = rc;
        snprintf(s->reason, sizeof s->reason, "%s", e.msg);
        return;
    }
    if (!s->location[0]) {
        s->action = MLC_STOCK_REPORTED;
        snprintf(s->reason, sizeof s->reason,
                 "no inventory location known in ShipStation warehouse %s: set "
                 "mapping.warehouses.%s.inventory_location_id",
                 w->warehouse, w->whlo);
        return;
    }
    double q = s->m3_qty < 0 ? 0 : floor(s->m3_qty + 1e-9);
    s->qty = (long)q;
    if (fabs(s->ss_qty - q) < 1e-9) {
        s->action = MLC_STOCK_UNCHANGED;
        return;
    }
    if (q != s->m3_qty)
        snprintf(s->reason, sizeof s->reason, "M3 on-hand %g sent as %ld whole units", s->m3_qty, s->qty);
    if (dry_run) {
        s->action = MLC_STOCK_ADJUSTED;
        return;
    }
    cJSON *body = cJSON_CreateObject();
    char why[64];
    snprintf(why, sizeof why, "mlc sync-items: M3 %s on-hand", w->whlo);
    cJSON_AddStringToObject(body, "transaction_type", "adjust");
    cJSON_AddStringToObject(body, "inventory_location_id", s->location);
    cJSON_AddStringToObject(body, "sku", sku);
    cJSON_AddNumberToObject(body, "quantity", q);
    cJSON_AddStringToObject(body, "condition", "sellable");
    cJSON_AddStringToObject(body, "reason", why);
    mlc_ss_response resp = {0};
    /* adjust sets an absolute quantity: repeating it is harmless */
    rc = mlc_ss_request(it->ss, MLC_SS_V2, "POST", "/v2/inventory", body, 1, &resp, &e);
    cJSON_Delete(body);
    mlc_ss_response_free(&resp);
    if (rc) {
        s->action = rc == MLC_ERR_NOTFOUND || rc == MLC_ERR_REMOTE ? MLC_STOCK_REPORTED : MLC_STOCK_FAILED;
        s->err = rc;
        snprintf(s->reason, sizeof s->reason, "%s", e.msg);
        return;
    }
    level_set(w, sku, s->location, q);
    s->action = MLC_STOCK_ADJUSTED;
}

/* M3 on-hand of n items in every mapped warehouse: one bulk read (GetItmWhsBal per
 * item and warehouse).  Fills out[k * nwhs + i] (m3_qty, or marks it reported or
 * failed); returns the number of balances read. */
static size_t m3_balances_many(mlc_item *it, const char *const *itnos, size_t n, mlc_item_stock *out)
{
    mlc_error e = {0};
    const char *pgm = program(it, "cloudsuite.programs.item_balance");
    size_t nrec = n * it->nwhs, ok = 0;
    mlc_m3_field *fields = calloc(2 * nrec, sizeof *fields);
    mlc_m3_record *recs = calloc(nrec, sizeof *recs);
    if (!fields || !recs) {
        free(fields);
        free(recs);
        for (size_t i = 0; i < nrec; i++) {
            out[i].action = MLC_STOCK_FAILED;
            out[i].err = MLC_ERR_NOMEM;
            snprintf(out[i].reason, sizeof out[i].reason, "out of memory");
        }
        return 0;
    }
    for (size_t i = 0; i < nrec; i++) {
        fields[2 * i] = (mlc_m3_field){"WHLO", it->whs[i % it->nwhs].whlo};
        fields[2 * i + 1] = (mlc_m3_field){"ITNO", itnos[i / it->nwhs]};
        recs[i] = (mlc_m3_record){&fields[2 * i], 2};
    }
    mlc_m3_result *r = NULL;
    mlc_err rc = mlc_m3_bulk(it->m3, pgm, recs, nrec, 1, &r, &e);
    free(fields);
    free(recs);
    if (rc != MLC_OK && !(rc == MLC_ERR_REMOTE && r && mlc_m3_result_tx_count(r) == nrec)) {
        for (size_t i = 0; i < nrec; i++) { /* call-level failure */
            out[i].action = MLC_STOCK_FAILED;
            out[i].err = rc;
            snprintf(out[i].reason, sizeof out[i].reason, "M3 %s: %s", pgm, e.msg);
        }
        mlc_m3_result_free(r);
        return 0;
    }
    for (size_t i = 0; i < nrec; i++) {
        const char *q = mlc_m3_result_tx_ok(r, i) ? mlc_m3_result_tx_get(r, i, 0, "STQT") : NULL;
        if (!q) { /* e.g. the item is not stocked in that warehouse */
            const char *m = mlc_m3_result_tx_message(r, i);
            out[i].action = MLC_STOCK_REPORTED;
            snprintf(out[i].reason, sizeof out[i].reason, "M3 %s %s: %s", pgm, it->whs[i % it->nwhs].whlo,
                     m && *m ? m : "no balance");
            continue;
        }
        out[i].m3_qty = num_of(q);
        out[i].action = MLC_STOCK_UNCHANGED;
        ok++;
    }
    mlc_m3_result_free(r);
    return ok;
}

static size_t m3_balances(mlc_item *it, const char *sku, const char *itno, mlc_item_stock *out)
{
    const m3_cached *c = cached(it, sku);
    size_t ok = 0;
    if (!c || !c->bal)
        return m3_balances_many(it, &itno, 1, out);
    for (size_t i = 0; i < it->nwhs; i++) {
        out[i].m3_qty = c->bal[i].m3_qty;
        out[i].action = c->bal[i].action;
        out[i].err = c->bal[i].err;
        snprintf(out[i].reason, sizeof out[i].reason, "%s", c->bal[i].reason);
        ok += out[i].action == MLC_STOCK_UNCHANGED;
    }
    return ok;
}

void mlc_item_m3_forget(mlc_item *it)
{
    for (size_t i = 0; i < it->ncache; i++) {
        free(it->cache[i].sku);
        free(it->cache[i].bal);
    }
    free(it->cache);
    it->cache = NULL;
    it->ncache = 0;
}

/* GetItmBasic of n items in one bulk call into c[k].basic/v (left 0 where M3's
 * answer does not settle it: the single read then asks again and reports). */
static mlc_err basics_many(mlc_item *it, m3_cached *c, const char *const *itnos, size_t n, mlc_error *err)
{
    const char *pgm = program(it, "cloudsuite.programs.item_get");
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

mlc_err mlc_item_m3_prefetch(mlc_item *it, char *const *skus, size_t n, mlc_error *err)
{
    mlc_item_m3_forget(it);
    if (n == 0)
        return MLC_OK;
    m3_cached *c = calloc(n, sizeof *c);
    const char **itnos = calloc(n, sizeof *itnos);
    mlc_err rc = MLC_OK;
    size_t m = 0;
    if (!c || !itnos)
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) {
        const char *itno;
        mlc_error e = {0};
        mlc_err r1 = itno_of(it, skus[k], &itno, &e);
        if (r1 == MLC_ERR_NOTFOUND)
            continue; /* the single read reports it */
        if (r1) {
            rc = r1;
            *err = e;
            break;
        }
        if (!(c[m].sku = strdup(skus[k]))) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            break;
        }
        itnos[m++] = itno;
    }
    if (!rc && m)
        rc = basics_many(it, c, itnos, m, err);
    if (!rc && m && it->nwhs) {
        mlc_item_stock *bal = calloc(m * it->nwhs, sizeof *bal);
        if (!bal) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        } else {
            m3_balances_many(it, itnos, m, bal);
            for (size_t k = 0; k < m && !rc; k++) {
                if (!(c[k].bal = malloc(it->nwhs * sizeof *bal)))
                    rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                else
                    memcpy(c[k].bal, bal + k * it->nwhs, it->nwhs * sizeof *bal);
            }
            free(bal);
        }
    }
    free(itnos);
    it->cache = c;
    it->ncache = c ? m : 0;
    if (rc) {
        mlc_item_m3_forget(it); /* entries past m hold nothing */
        return rc;
    }
    if (m > 1)
        qsort(it->cache, m, sizeof *it->cache, cmp_cached);
    return MLC_OK;
}

void mlc_item_stock_sync(mlc_item *it, const char *sku, int dry_run, mlc_item_stock *out)
{
    mlc_error e = {0};
    const char *itno;
    if (it->nwhs == 0)
        return;
    for (size_t i = 0; i < it->nwhs; i++) {
        memset(&out[i], 0, sizeof out[i]);
        snprintf(out[i].warehouse, sizeof out[i].warehouse, "%s", it->whs[i].whlo);
        snprintf(out[i].location, sizeof out[i].location, "%s", it->whs[i].location);
    }
    mlc_err rc = itno_of(it, sku, &itno, &e);
    if (rc) {
        for (size_t i = 0; i < it->nwhs; i++) {
            out[i].action = rc == MLC_ERR_NOTFOUND ? MLC_STOCK_REPORTED : MLC_STOCK_FAILED;
            out[i].err = rc;
            snprintf(out[i].reason, sizeof out[i].reason, "%s", e.msg);
        }
        return;
    }
    if (m3_balances(it, sku, itno, out) == 0)
        return;
    for (size_t i = 0; i < it->nwhs; i++)
        if (out[i].action == MLC_STOCK_UNCHANGED)
            stock_one(it, sku, &it->whs[i], dry_run, &out[i]);
}
