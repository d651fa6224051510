/*
 * sim_v2_stock.c: ShipStation V2 warehouses, carriers, products (read-only) and inventory
 * (GET levels, POST increment/decrement/adjust/modify answering 204).
 *
 * Not here: shipments (sim_v2_shipments.c), M3 stock (sim_m3_prog.c).
 */
#include "sim_v2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- warehouses, carriers, products ---- */

static cJSON *public_warehouse(const cJSON *w)
{
    cJSON *c = jclean_copy(w);
    cJSON_DeleteItemFromObject(c, "v1_warehouse_id");
    return c;
}

int v2_h_warehouses(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "warehouses"), *w;
    cJSON_ArrayForEach(w, jarr(v2_ss(), "warehouses")) cJSON_AddItemToArray(a, public_warehouse(w));
    resp_json(rs, 200, j);
    return 0;
}

int v2_h_warehouse_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *w = v2_find_by(jarr(v2_ss(), "warehouses"), "warehouse_id", v2_seg[2]);
    if (!w)
        v2_not_found(rs, "Warehouse", v2_seg[2]);
    else
        resp_json(rs, 200, public_warehouse(w));
    return 0;
}

int v2_h_carriers(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "carriers"), *c;
    cJSON_ArrayForEach(c, jarr(v2_ss(), "carriers")) cJSON_AddItemToArray(a, jclean_copy(c));
    jset(j, "errors", cJSON_CreateArray());
    resp_json(rs, 200, j);
    return 0;
}

int v2_h_products(sim_req *rq, sim_resp *rs)
{
    v2_list_args a = {.page = 1, .page_size = 100, .sort_key = "_seq"};
    if (!parse_long_arg(req_arg(rq, "page"), 1, 1000000, &a.page) ||
        !parse_long_arg(req_arg(rq, "page_size"), 1, 100, &a.page_size)) {
        v2_bad_field(rs, "%s is out of range", "page or page_size");
        return 0;
    }
    const char *sku = req_arg(rq, "sku"), *name = req_arg(rq, "name"), *act = req_arg(rq, "active");
    cJSON *arr = jarr(v2_ss(), "products"), *p;
    cJSON **items = malloc(sizeof(cJSON *) * (size_t)(cJSON_GetArraySize(arr) + 1));
    size_t n = 0;
    cJSON_ArrayForEach(p, arr) {
        if (sku && strcmp(sku, jstrs(p, "sku")) != 0)
            continue;
        if (name && !strcasestr(jstrs(p, "name"), name))
            continue;
        if (act && jbool(p, "active", 1) != (strcmp(act, "true") == 0))
            continue;
        items[n++] = p;
    }
    long pages;
    cJSON *page = list_page(items, n, a.page, a.page_size, &pages);
    free(items);
    cJSON *j = cJSON_CreateObject();
    jset(j, "products", page);
    jset_num(j, "total", (double)n);
    jset_num(j, "page", (double)a.page);
    jset_num(j, "pages", (double)pages);
    jset(j, "links", v2_links(rq, a.page, pages));
    resp_json(rs, 200, j);
    return 0;
}

/* ---- inventory ---- */

int v2_h_inventory_get(sim_req *rq, sim_resp *rs)
{
    long limit = 100, page = 1;
    if (!parse_long_arg(req_arg(rq, "limit"), 1, 1000, &limit) ||
        !parse_long_arg(req_arg(rq, "page"), 1, 1000000, &page)) {
        v2_bad_field(rs, "%s is out of range", "limit or page");
        return 0;
    }
    const char *sku = req_arg(rq, "sku"), *wh = req_arg(rq, "inventory_warehouse_id");
    const char *loc = req_arg(rq, "inventory_location_id"), *gb = req_arg(rq, "group_by");
    if (gb && strcmp(gb, "warehouse") && strcmp(gb, "location")) {
        v2_bad_field(rs, "group_by '%s' must be warehouse or location", gb);
        return 0;
    }
    cJSON *arr = jarr(v2_ss(), "inventory"), *e;
    cJSON **items = malloc(sizeof(cJSON *) * (size_t)(cJSON_GetArraySize(arr) + 1));
    size_t n = 0;
    cJSON_ArrayForEach(e, arr) {
        if ((sku && strcmp(sku, jstrs(e, "sku"))) || (wh && strcmp(wh, jstrs(e, "inventory_warehouse_id"))) ||
            (loc && strcmp(loc, jstrs(e, "inventory_location_id"))))
            continue;
        items[n++] = e;
    }
    long pages;
    cJSON *pg = list_page(items, n, page, limit, &pages);
    free(items);
    cJSON *j = cJSON_CreateObject();
    jset(j, "inventory", pg);
    jset_num(j, "total", (double)n);
    jset_num(j, "page", (double)page);
    jset_num(j, "pages", (double)pages);
    jset(j, "links", v2_links(rq, page, pages));
    resp_json(rs, 200, j);
    return 0;
}

static cJSON *inventory_at(const char *sku, const char *loc, int create)
{
    cJSON *e;
    cJSON_ArrayForEach(e, jarr(v2_ss(), "inventory")) {
        const char *s = jstr(e, "sku"), *l = jstr(e, "inventory_location_id");
        if (s && l && strcmp(s, sku) == 0 && strcmp(l, loc) == 0)
            return e;
    }
    if (!create)
        return NULL;
    cJSON *where = v2_find_by(jarr(v2_ss(), "inventory_locations"), "inventory_location_id", loc);
    e = cJSON_CreateObject();
    jset_str(e, "sku", sku);
    jset_num(e, "on_hand", 0);
    jset_num(e, "allocated", 0);
    jset_num(e, "available", 0);
    jset_str(e, "inventory_warehouse_id", jstr(where, "inventory_warehouse_id"));
    jset_str(e, "inventory_location_id", loc);
    cJSON_AddItemToArray(jarr(v2_ss(), "inventory"), e);
    return e;
}

static void set_on_hand(cJSON *e, double q)
{
    jset_num(e, "on_hand", q);
    jset_num(e, "available", q - jnum(e, "allocated", 0));
}

static int inventory_apply(sim_resp *rs, cJSON *b, const char *tt, const char *sku, const char *loc, double q)
{
    if (strcmp(tt, "increment") == 0 || strcmp(tt, "adjust") == 0) {
        cJSON *e = inventory_at(sku, loc, 1);
        set_on_hand(e, strcmp(tt, "adjust") == 0 ? q : jnum(e, "on_hand", 0) + q);
        if (cJSON_IsObject(cJSON_GetObjectItem(b, "cost")))
            jset(e, "average_cost", cJSON_Duplicate(cJSON_GetObjectItem(b, "cost"), 1));
        return 1;
    }
    cJSON *e = inventory_at(sku, loc, 0);
    if (!e) {
        v2_error(rs, 400, "business_rules", "invalid_identifier", "No inventory for sku %s at location %s", sku, loc);
        return 0;
    }
    if (strcmp(tt, "decrement") == 0) {
        if (jnum(e, "on_hand", 0) < q) {
            v2_error(rs, 400, "business_rules", "invalid_field_value",
                     "Cannot decrement %s by %g: only %g on hand", sku, q, jnum(e, "on_hand", 0));
            return 0;
        }
        set_on_hand(e, jnum(e, "on_hand", 0) - q);
        return 1;
    }
    const char *nl = jstr(b, "new_inventory_location_id"); /* modify */
    if (nl) {
        cJSON *where = v2_find_by(jarr(v2_ss(), "inventory_locations"), "inventory_location_id", nl);
        if (!where) {
            v2_not_found(rs, "Inventory location", nl);
            return 0;
        }
        jset_str(e, "inventory_location_id", nl);
        jset_str(e, "inventory_warehouse_id", jstr(where, "inventory_warehouse_id"));
    }
    if (cJSON_IsObject(cJSON_GetObjectItem(b, "new_cost")))
        jset(e, "average_cost", cJSON_Duplicate(cJSON_GetObjectItem(b, "new_cost"), 1));
    return 1;
}

int v2_h_inventory_post(sim_req *rq, sim_resp *rs)
{
    static const char *const TT[] = {"increment", "decrement", "adjust", "modify", NULL};
    static const char *const COND[] = {"sellable", "damaged", "expired", "qa_hold", NULL};
    cJSON *b = v2_body_object(rq, rs);
    if (!b)
        return 0;
    const char *tt = jstr(b, "transaction_type"), *sku = jstr(b, "sku"), *loc = jstr(b, "inventory_location_id");
    const char *cond = jstr(b, "condition");
    cJSON *q = cJSON_GetObjectItem(b, "quantity");
    if (!tt || !sku || !loc || !q)
        v2_error(rs, 400, "validation", "field_value_required",
                 "transaction_type, sku, quantity and inventory_location_id are required");
    else if (!v2_in_list(tt, TT))
        v2_bad_field(rs, "transaction_type '%s' must be increment, decrement, adjust or modify", tt);
    else if (!cJSON_IsNumber(q) || q->valuedouble != (double)(long)q->valuedouble || q->valuedouble < 0 ||
             (q->valuedouble < 1 && strcmp(tt, "adjust") != 0 && strcmp(tt, "modify") != 0))
        v2_bad_field(rs, "%s must be a positive integer", "quantity");
    else if (cond && !v2_in_list(cond, COND))
        v2_bad_field(rs, "condition '%s' is not valid", cond);
    else if (!v2_find_by(jarr(v2_ss(), "inventory_locations"), "inventory_location_id", loc))
        v2_not_found(rs, "Inventory location", loc);
    else if (!v2_find_by(jarr(v2_ss(), "products"), "sku", sku))
        v2_not_found(rs, "Product with sku", sku);
    else if (inventory_apply(rs, b, tt, sku, loc, q->valuedouble))
        resp_text(rs, 204, NULL, NULL);
    cJSON_Delete(b);
    return 0;
}

