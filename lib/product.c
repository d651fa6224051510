/*
 * product.c: ShipStation products for the item sync (see product.h): the paged
 * listing moved into one array, its SKU index, and the V1 whole-resource PUT.
 * Not here: canonical values and the plan (lib/item), stock (lib/stock).
 */
#include "product.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One listed product, kept as its compact JSON text: a V1 product is ~2.8 KiB as
 * a cJSON tree and a run holds every product (issue 19: under 16 MiB per cron
 * run); mlc_product_get parses the one asked for. */
typedef struct product_ref {
    char *sku;
    char *text;
    size_t order; /* place in the listing */
} product_ref;

struct mlc_product {
    mlc_ss *ss;
    mlc_log *log;
    product_ref *index; /* sorted by SKU once loaded */
    size_t nindex, cap;
    cJSON *cur; /* the product mlc_product_get parsed last */
};

/* The V1 product keys of the synced fields, in mlc_item_field order. */
static const char *const V1_FIELDS[MLC_ITEM__NFIELDS] = {"name",  "weightOz", "length",
                                                         "width", "height",   "customsDescription"};

static const char *str_at(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

mlc_err mlc_product_new(mlc_ss *ss, mlc_log *log, mlc_product **out, mlc_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    (*out)->ss = ss;
    (*out)->log = log;
    return MLC_OK;
}

static void refs_free(mlc_product *p)
{
    for (size_t i = 0; i < p->nindex; i++) {
        free(p->index[i].sku);
        free(p->index[i].text);
    }
    free(p->index);
    p->index = NULL;
    p->nindex = p->cap = 0;
    cJSON_Delete(p->cur);
    p->cur = NULL;
}

void mlc_product_free(mlc_product *p)
{
    if (!p)
        return;
    refs_free(p);
    free(p);
}

int mlc_product_can_write(const mlc_product *p) { return p->ss && mlc_ss_has(p->ss, MLC_SS_V1); }

/* The keys of a V2 product that mlc_item_from_product (lib/item_plan.c) reads:
 * keep in step with it. V2 products are read-only, so nothing else of them is
 * kept; a V1 product is kept whole (its PUT sends the whole resource back). */
static const char *const V2_KEPT[] = {"sku", "name", "weight", "dimensions", "customs_description", "modify_date"};

/* Drops the keys of a V2 product that are never read: a whole product is ~2.8 KiB
 * as cJSON, and a run holds every product (issue 19: under 16 MiB per cron run). */
static void slim_v2(cJSON *row)
{
    cJSON *k = cJSON_IsObject(row) ? row->child : NULL;
    while (k) {
        cJSON *next = k->next;
        int keep = 0;
        for (size_t i = 0; !keep && i < sizeof V2_KEPT / sizeof V2_KEPT[0]; i++)
            keep = k->string && strcmp(k->string, V2_KEPT[i]) == 0;
        if (!keep)
            cJSON_Delete(cJSON_DetachItemViaPointer(row, k));
        k = next;
    }
}

/* Keeps the rows of a list page with a non-empty "sku" as text (V2 rows slimmed
 * first); -1 when out of memory. */
static int keep_rows(mlc_product *p, cJSON *page_rows, int v1)
{
    cJSON *e, *arr = cJSON_IsArray(page_rows) ? page_rows : NULL;
    cJSON_ArrayForEach(e, arr)
    {
        const char *sku = str_at(e, "sku");
        if (!sku || !*sku)
            continue;
        if (p->nindex == p->cap) {
            size_t cap = p->cap ? 2 * p->cap : 256;
            product_ref *n = realloc(p->index, cap * sizeof *n);
            if (!n)
                return -1;
            p->index = n;
            p->cap = cap;
        }
        if (!v1)
            slim_v2(e);
        product_ref r = {strdup(sku), cJSON_PrintUnformatted(e), p->nindex};
        if (!r.sku || !r.text) {
            free(r.sku);
            free(r.text);
            return -1;
        }
        p->index[p->nindex++] = r;
    }
    return 0;
}

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const product_ref *)a)->sku, ((const product_ref *)b)->sku);
}

/* by SKU, then in listed order (qsort is not stable) */
static int cmp_listed(const void *a, const void *b)
{
    int c = cmp_ref(a, b);
    size_t x = ((const product_ref *)a)->order, y = ((const product_ref *)b)->order;
    return c ? c : (x > y) - (x < y);
}

mlc_err mlc_product_load(mlc_product *p, mlc_error *err)
{
    refs_free(p);
    int v1 = mlc_ss_has(p->ss, MLC_SS_V1);
    mlc_ss_version ver = v1 ? MLC_SS_V1 : MLC_SS_V2;
    const char *path = v1 ? "/products" : "/v2/products";
    int size = v1 ? 500 : 100;
    for (int page = 1;; page++) {
        mlc_ss_response resp = {0};
        const cJSON *items = NULL;
        int more = 0;
        mlc_err rc = mlc_ss_list_page(p->ss, ver, path, "products", page, size, &resp, &items, &more, err);
        if (rc) {
            mlc_ss_response_free(&resp);
            return mlc_error_prefix(err, "listing ShipStation products (page %d)", page);
        }
        size_t got = (size_t)cJSON_GetArraySize(items);
        int kept = keep_rows(p, (cJSON *)items, v1); /* the page is freed next */
        mlc_ss_response_free(&resp);
        if (kept != 0)
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        if (!more || got == 0 || page > 100000)
            break;
    }
    if (p->nindex > 1)
        qsort(p->index, p->nindex, sizeof *p->index, cmp_listed);
    size_t u = 0; /* a SKU twice: the first listed wins, the other is logged */
    for (size_t i = 0; i < p->nindex; i++) {
        if (u && strcmp(p->index[u - 1].sku, p->index[i].sku) == 0) {
            mlc_log_warn(p->log, "ShipStation has SKU %s on more than one product: using the first",
                         p->index[i].sku);
            free(p->index[i].sku);
            free(p->index[i].text);
            continue;
        }
        p->index[u++] = p->index[i];
    }
    p->nindex = u;
    return MLC_OK;
}

size_t mlc_product_count(const mlc_product *p) { return p->nindex; }

const char *mlc_product_sku(const mlc_product *p, size_t i) { return i < p->nindex ? p->index[i].sku : NULL; }

static product_ref *find(const mlc_product *p, const char *sku)
{
    if (!p->index || !sku)
        return NULL;
    product_ref key = {(char *)sku, NULL, 0};
    return bsearch(&key, p->index, p->nindex, sizeof key, cmp_ref);
}

const cJSON *mlc_product_get(mlc_product *p, const char *sku)
{
    const product_ref *r = find(p, sku);
    cJSON_Delete(p->cur);
    p->cur = r ? cJSON_Parse(r->text) : NULL;
    return p->cur;
}

mlc_err mlc_product_update(mlc_product *pr, const mlc_item_values *v, unsigned mask, mlc_error *err)
{
    if (!mlc_product_can_write(pr))
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "updating product %s needs ShipStation V1 credentials (V2 products are read-only)",
                             v->sku);
    product_ref *r = find(pr, v->sku);
    cJSON *body = r ? cJSON_Parse(r->text) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "productId");
    if (!body || !id) {
        cJSON_Delete(body);
        return r && !body ? mlc_error_set(err, MLC_ERR_NOMEM, "out of memory")
                          : mlc_error_set(err, MLC_ERR_NOTFOUND, "ShipStation has no V1 product with SKU %s", v->sku);
    }
    for (int f = 0; f < MLC_ITEM__NFIELDS; f++) {
        if (!(mask & (1u << f)))
            continue;
        cJSON *nv = mlc_item_field_is_text((mlc_item_field)f)
                        ? (v->v[f][0] || f == MLC_ITEM_NAME ? cJSON_CreateString(v->v[f]) : cJSON_CreateNull())
                        : cJSON_CreateNumber(strtod(v->v[f], NULL));
        if (cJSON_GetObjectItemCaseSensitive(body, V1_FIELDS[f]))
            cJSON_ReplaceItemInObjectCaseSensitive(body, V1_FIELDS[f], nv);
        else
            cJSON_AddItemToObject(body, V1_FIELDS[f], nv);
    }
    char path[64];
    double idv = cJSON_IsNumber(id) ? id->valuedouble : cJSON_IsString(id) ? strtod(id->valuestring, NULL) : 0;
    snprintf(path, sizeof path, "/products/%.0f", idv);
    mlc_ss_response resp = {0};
    mlc_err rc = mlc_ss_request(pr->ss, MLC_SS_V1, "PUT", path, body, 1, &resp, err);
    if (!rc && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(resp.json, "success"))) {
        const char *m = str_at(resp.json, "message");
        rc = mlc_error_set(err, MLC_ERR_REMOTE, "%s", m ? m : "success: false");
    }
    mlc_ss_response_free(&resp);
    if (rc) {
        cJSON_Delete(body);
        return mlc_error_prefix(err, "updating product %s (PUT %s)", v->sku, path);
    }
    /* keep the index in step with what was written (the SKU is the same: found by it) */
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    free(r->text);
    r->text = text;
    cJSON_Delete(pr->cur); /* a parsed copy of the old text */
    pr->cur = NULL;
    return MLC_OK;
}
