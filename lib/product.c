/*
 * product.c: ShipStation products for the item sync (see product.h): the paged
 * listing moved into one array, its SKU index, and the V1 whole-resource PUT.
 * Not here: canonical values and the plan (lib/item), stock (lib/stock).
 */
#include "product.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct product_ref {
    const char *sku;
    const cJSON *p;
} product_ref;

struct mlc_product {
    mlc_ss *ss;
    mlc_log *log;
    cJSON *products; /* array of the listed products (moved out of the pages) */
    product_ref *index;
    size_t nindex;
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

void mlc_product_free(mlc_product *p)
{
    if (!p)
        return;
    cJSON_Delete(p->products);
    free(p->index);
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

/* Moves the rows of a list page with a non-empty "sku" to the end of to, instead
 * of copying them: a page and its copy at once were sync-items' peak memory.  The
 * page keeps the rest and is freed by its owner as before. v1: V1 rows (kept whole),
 * else V2 rows (slimmed). */
static void move_rows(cJSON *to, cJSON *page_rows, int v1)
{
    cJSON *e = cJSON_IsArray(page_rows) ? page_rows->child : NULL;
    while (e) {
        cJSON *next = e->next;
        if (str_at(e, "sku") && *str_at(e, "sku")) {
            cJSON *row = cJSON_DetachItemViaPointer(page_rows, e);
            if (!v1)
                slim_v2(row);
            cJSON_AddItemToArray(to, row);
        }
        e = next;
    }
}

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const product_ref *)a)->sku, ((const product_ref *)b)->sku);
}

mlc_err mlc_product_load(mlc_product *p, mlc_error *err)
{
    cJSON_Delete(p->products);
    free(p->index);
    p->index = NULL;
    p->nindex = 0;
    p->products = cJSON_CreateArray();
    if (!p->products)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
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
        move_rows(p->products, (cJSON *)items, v1); /* the page owns them; it is freed next */
        mlc_ss_response_free(&resp);
        if (!more || got == 0 || page > 100000)
            break;
    }
    size_t cnt = (size_t)cJSON_GetArraySize(p->products);
    p->index = calloc(cnt + 1, sizeof *p->index);
    if (!p->index)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    const cJSON *x;
    cJSON_ArrayForEach(x, p->products)
    {
        p->index[p->nindex].sku = str_at(x, "sku");
        p->index[p->nindex].p = x;
        p->nindex++;
    }
    qsort(p->index, p->nindex, sizeof *p->index, cmp_ref);
    size_t u = 0; /* a SKU twice: the first listed wins, the other is logged */
    for (size_t i = 0; i < p->nindex; i++) {
        if (u && strcmp(p->index[u - 1].sku, p->index[i].sku) == 0) {
            mlc_log_warn(p->log, "ShipStation has SKU %s on more than one product: using the first",
                         p->index[i].sku);
            continue;
        }
        p->index[u++] = p->index[i];
    }
    p->nindex = u;
    return MLC_OK;
}

size_t mlc_product_count(const mlc_product *p) { return p->nindex; }

const char *mlc_product_sku(const mlc_product *p, size_t i) { return i < p->nindex ? p->index[i].sku : NULL; }

const cJSON *mlc_product_get(const mlc_product *p, const char *sku)
{
    if (!p->index || !sku)
        return NULL;
    product_ref key = {sku, NULL};
    const product_ref *r = bsearch(&key, p->index, p->nindex, sizeof key, cmp_ref);
    return r ? r->p : NULL;
}

mlc_err mlc_product_update(mlc_product *pr, const mlc_item_values *v, unsigned mask, mlc_error *err)
{
    if (!mlc_product_can_write(pr))
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "updating product %s needs ShipStation V1 credentials (V2 products are read-only)",
                             v->sku);
    const cJSON *p = mlc_product_get(pr, v->sku);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "productId");
    if (!p || !id)
        return mlc_error_set(err, MLC_ERR_NOTFOUND, "ShipStation has no V1 product with SKU %s", v->sku);
    cJSON *body = cJSON_Duplicate(p, 1);
    if (!body)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
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
    /* keep the index in step with what was written */
    cJSON_ReplaceItemViaPointer(pr->products, (cJSON *)p, body);
    for (size_t i = 0; i < pr->nindex; i++)
        if (pr->index[i].p == p) {
            pr->index[i].p = body;
            pr->index[i].sku = str_at(body, "sku");
        }
    return MLC_OK;
}
