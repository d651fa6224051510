/*
 * sim_v2_shipments.c: ShipStation V2 shipments and labels: list with filters, create with
 * per-shipment validation against the create schema (unique external_shipment_id), get, get
 * by external id, update while pending, cancel; labels list, get, void, track.
 *
 * Not here: buying labels (sim_ship.c, from POST /admin/ship), the router (sim_v2.c).
 */
#include "sim_v2.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shipments ---- */

static const char *const SHIPMENT_STATUS[] = {"pending", "processing", "label_purchased", "cancelled", NULL};

int v2_h_shipments_list(sim_req *rq, sim_resp *rs)
{
    v2_list_args a;
    if (!v2_list_args_parse(rq, rs, &a, 500, 25, 1))
        return 0;
    const char *st = req_arg(rq, "shipment_status"), *ext = req_arg(rq, "external_shipment_id");
    const char *num = req_arg(rq, "shipment_number"), *name = req_arg(rq, "ship_to_name");
    if (st && !v2_in_list(st, SHIPMENT_STATUS)) {
        v2_bad_field(rs, "shipment_status '%s' is not valid", st);
        return 0;
    }
    cJSON *arr = jarr(v2_root(), "shipments"), *s;
    cJSON **items = malloc(sizeof(cJSON *) * (size_t)(cJSON_GetArraySize(arr) + 1));
    size_t n = 0;
    cJSON_ArrayForEach(s, arr) {
        double c = jnum(s, "_created", 0), m = jnum(s, "_modified", 0);
        if (c < a.c_start || c > a.c_end || m < a.m_start || m > a.m_end)
            continue;
        if (st && strcmp(st, jstrs(s, "shipment_status")) != 0)
            continue;
        if (ext && (!jstrs(s, "external_shipment_id") || strcmp(ext, jstrs(s, "external_shipment_id")) != 0))
            continue;
        if (num && (!jstrs(s, "shipment_number") || strcmp(num, jstrs(s, "shipment_number")) != 0))
            continue;
        if (name && !strcasestr(jstrs(cJSON_GetObjectItem(s, "ship_to"), "name"), name))
            continue;
        items[n++] = s;
    }
    v2_paged(rq, rs, "shipments", items, n, &a);
    free(items);
    return 0;
}

static const char *const CREATE_KEYS[] = {
    "validate_address", "external_shipment_id", "carrier_id", "create_sales_order", "store_id",
    "notes_from_buyer", "notes_for_gift", "is_gift", "zone", "display_scheme", "assigned_user",
    "shipment_status", "amount_paid", "shipping_paid", "tax_paid", "ship_to", "ship_from", "items",
    "packages", "service_code", "requested_shipment_service", "shipping_rule_id", "external_order_id",
    "hold_until_date", "ship_by_date", "retail_rate", "tax_identifiers", "shipment_number", "ship_date",
    "warehouse_id", "return_to", "is_return", "confirmation", "customs", "advanced_options",
    "insurance_provider", "tags", "order_source_code", "comparison_rate_type", NULL};

static const char *const ADDRESS_REQUIRED[] = {"name", "phone", "address_line1", "city_locality",
                                               "state_province", "postal_code", "country_code", NULL};
static const char *const ADDRESS_KEYS[] = {
    "name", "phone", "email", "company_name", "address_line1", "address_line2", "address_line3",
    "city_locality", "state_province", "postal_code", "country_code", "address_residential_indicator",
    "instructions", "geolocation", NULL};

static void add_err(cJSON *errs, const char *fmt, const char *a)
{
    char m[256];
    snprintf(m, sizeof m, fmt, a);
    cJSON_AddItemToArray(errs, cJSON_CreateString(m));
}

static void check_address(const cJSON *addr, const char *which, cJSON *errs)
{
    char m[128];
    if (!cJSON_IsObject(addr)) {
        add_err(errs, "%s must be an address object", which);
        return;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, addr) if (!v2_in_list(f->string, ADDRESS_KEYS))
    {
        snprintf(m, sizeof m, "%s.%s", which, f->string);
        add_err(errs, "%s is not a known field", m);
    }
    for (const char *const *k = ADDRESS_REQUIRED; *k; k++) {
        const char *v = jstr(addr, *k);
        if (!v || !v[0]) {
            snprintf(m, sizeof m, "%s.%s", which, *k);
            add_err(errs, "%s is required", m);
        }
    }
    const char *cc = jstr(addr, "country_code");
    if (cc && strlen(cc) != 2)
        add_err(errs, "%s.country_code must be a two-letter ISO code", which);
    const char *ri = jstr(addr, "address_residential_indicator");
    if (ri && strcmp(ri, "yes") && strcmp(ri, "no") && strcmp(ri, "unknown"))
        add_err(errs, "%s.address_residential_indicator must be yes, no or unknown", which);
}

static void check_items(const cJSON *items, cJSON *errs)
{
    const cJSON *it;
    if (!items)
        return;
    if (!cJSON_IsArray(items)) {
        add_err(errs, "%s must be an array", "items");
        return;
    }
    static const char *const KEYS[] = {"name", "sales_order_id", "sales_order_item_id", "quantity", "sku",
                                       "bundle_sku", "external_order_id", "external_order_item_id", "asin",
                                       "order_source_code", "item_id", "allocation_status", "image_url", "weight",
                                       "unit_price", "tax_amount", "shipping_amount", "inventory_location",
                                       "options", "product_id", "fullfilment_sku", "upc", NULL};
    cJSON_ArrayForEach(it, items) {
        const cJSON *f;
        cJSON_ArrayForEach(f, it) if (f->string && !v2_in_list(f->string, KEYS))
            add_err(errs, "items: %s is not a known field", f->string);
        const cJSON *q = cJSON_GetObjectItem(it, "quantity");
        if (!cJSON_IsObject(it) || (q && (!cJSON_IsNumber(q) || q->valuedouble < 0 ||
                                          q->valuedouble != (double)(long)q->valuedouble)))
            add_err(errs, "%s: quantity must be an integer >= 0", "items");
        const cJSON *sku = cJSON_GetObjectItem(it, "sku");
        if (sku && !cJSON_IsString(sku) && !cJSON_IsNull(sku))
            add_err(errs, "%s: sku must be a string", "items");
    }
}

static void check_packages(const cJSON *pk, cJSON *errs)
{
    static const char *const UNITS[] = {"pound", "ounce", "gram", "kilogram", NULL};
    const cJSON *p;
    if (!pk)
        return;
    if (!cJSON_IsArray(pk) || cJSON_GetArraySize(pk) < 1) {
        add_err(errs, "%s must be a non-empty array", "packages");
        return;
    }
    static const char *const KEYS[] = {"shipment_package_id", "package_id", "package_code", "package_name",
                                       "weight", "dimensions", "insured_value", "label_messages",
                                       "external_package_id", "tracking_number", "content_description",
                                       "products", NULL};
    cJSON_ArrayForEach(p, pk) {
        const cJSON *f;
        cJSON_ArrayForEach(f, p) if (f->string && !v2_in_list(f->string, KEYS))
            add_err(errs, "packages: %s is not a known field", f->string);
        const cJSON *w = cJSON_GetObjectItem(p, "weight");
        const char *u = jstr(w, "unit");
        if (!cJSON_IsObject(w) || jnum(w, "value", -1) <= 0 || !u || !v2_in_list(u, UNITS))
            add_err(errs, "%s: weight needs a value > 0 and a unit (pound, ounce, gram, kilogram)", "packages");
    }
}

static void check_shipment(const cJSON *s, cJSON *errs, const cJSON *batch, int idx)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, s) if (!v2_in_list(f->string, CREATE_KEYS)) add_err(errs, "%s is not a known or writable field",
                                                                            f->string);
    check_address(cJSON_GetObjectItem(s, "ship_to"), "ship_to", errs);
    const char *wh = jstr(s, "warehouse_id");
    const cJSON *from = cJSON_GetObjectItem(s, "ship_from");
    if (from && !cJSON_IsNull(from))
        check_address(from, "ship_from", errs);
    else if (!wh)
        add_err(errs, "%s", "Either ship_from or warehouse_id must be specified");
    if (wh && !v2_find_by(jarr(v2_ss(), "warehouses"), "warehouse_id", wh))
        add_err(errs, "warehouse_id %s was not found", wh);
    const char *car = jstr(s, "carrier_id");
    if (car && !v2_find_by(jarr(v2_ss(), "carriers"), "carrier_id", car))
        add_err(errs, "carrier_id %s was not found", car);
    const char *st = jstr(s, "shipment_status");
    if (cJSON_GetObjectItem(s, "shipment_status") && (!st || !v2_in_list(st, SHIPMENT_STATUS)))
        add_err(errs, "%s", "shipment_status is not valid");
    check_items(cJSON_GetObjectItem(s, "items"), errs);
    check_packages(cJSON_GetObjectItem(s, "packages"), errs);
    const cJSON *ext = cJSON_GetObjectItem(s, "external_shipment_id");
    if (ext && !cJSON_IsNull(ext)) {
        if (!cJSON_IsString(ext) || strlen(ext->valuestring) > 50)
            add_err(errs, "%s", "external_shipment_id must be a string of at most 50 characters");
        else if (v2_find_by(jarr(v2_root(), "shipments"), "external_shipment_id", ext->valuestring))
            add_err(errs, "A shipment with external_shipment_id '%s' already exists", ext->valuestring);
        else {
            int i = 0;
            const cJSON *o;
            cJSON_ArrayForEach(o, batch) {
                if (i++ >= idx)
                    break;
                const char *oe = jstr(o, "external_shipment_id");
                if (oe && strcmp(oe, ext->valuestring) == 0) {
                    add_err(errs, "external_shipment_id '%s' is repeated in the request", oe);
                    break;
                }
            }
        }
    }
}

/* The sum of the packages' weights, in the first package's unit (a shipment mlc
 * creates has one package); at most 2 of it (the contract's total_weight.value has
 * exclusiveMinimum 2) is given in grams or ounces. No package: 0 pounds, which the
 * contract refuses: see mlc-sim(1) CONTRACT. */
static cJSON *total_weight(const cJSON *s)
{
    static const struct {
        const char *unit;
        double grams;
    } U[] = {{"gram", 1}, {"kilogram", 1000}, {"ounce", 28.349523125}, {"pound", 453.59237}};
    double g = 0;
    const char *unit = NULL;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(s, "packages")) {
        const cJSON *w = cJSON_GetObjectItem(p, "weight");
        const char *u = jstr(w, "unit");
        for (size_t i = 0; u && i < sizeof U / sizeof U[0]; i++)
            if (strcmp(u, U[i].unit) == 0) {
                g += jnum(w, "value", 0) * U[i].grams;
                if (!unit)
                    unit = U[i].unit;
            }
    }
    double per = 453.59237;
    if (!unit)
        unit = "pound";
    for (size_t i = 0; i < sizeof U / sizeof U[0]; i++)
        if (strcmp(unit, U[i].unit) == 0)
            per = U[i].grams;
    if (g > 0 && g / per <= 2) { /* the smaller unit of the same system */
        int metric = strcmp(unit, "gram") == 0 || strcmp(unit, "kilogram") == 0;
        unit = metric ? "gram" : "ounce";
        per = metric ? 1 : 28.349523125;
    }
    cJSON *w = cJSON_CreateObject();
    jset_num(w, "value", round(g / per * 1000) / 1000);
    jset_str(w, "unit", unit);
    return w;
}

static void fill_defaults(cJSON *n, double now)
{
    char t[40];
    fmt_rfc3339(now, t);
    static const char *const NULLS[] = {"carrier_id", "service_code", "external_order_id", "hold_until_date",
                                        "ship_by_date", "external_shipment_id", "customs", "warehouse_id", NULL};
    for (const char *const *k = NULLS; *k; k++)
        if (!cJSON_GetObjectItem(n, *k))
            jset(n, *k, cJSON_CreateNull());
    if (!jstr(n, "shipment_number"))
        jset(n, "shipment_number", jstr(n, "external_shipment_id") ? cJSON_CreateString(jstr(n, "external_shipment_id"))
                                                                   : cJSON_CreateNull());
    if (!jstr(n, "ship_date"))
        jset_str(n, "ship_date", t);
    jset_str(n, "created_at", t);
    jset_str(n, "modified_at", t);
    if (!jstr(n, "shipment_status"))
        jset_str(n, "shipment_status", "pending");
    if (!cJSON_GetObjectItem(n, "ship_from") || cJSON_IsNull(cJSON_GetObjectItem(n, "ship_from"))) {
        cJSON *w = v2_find_by(jarr(v2_ss(), "warehouses"), "warehouse_id", jstr(n, "warehouse_id"));
        jset(n, "ship_from", w ? cJSON_Duplicate(cJSON_GetObjectItem(w, "origin_address"), 1) : cJSON_CreateNull());
    }
    if (!cJSON_GetObjectItem(n, "return_to"))
        jset(n, "return_to", cJSON_Duplicate(cJSON_GetObjectItem(n, "ship_from"), 1));
    if (!cJSON_GetObjectItem(n, "confirmation"))
        jset_str(n, "confirmation", "none");
    if (!cJSON_GetObjectItem(n, "advanced_options"))
        jset(n, "advanced_options", cJSON_CreateObject());
    if (!cJSON_GetObjectItem(n, "insurance_provider"))
        jset_str(n, "insurance_provider", "none");
    if (!cJSON_GetObjectItem(n, "tags"))
        jset(n, "tags", cJSON_CreateArray());
    if (!cJSON_GetObjectItem(n, "items"))
        jset(n, "items", cJSON_CreateArray());
    if (!cJSON_GetObjectItem(n, "packages"))
        jset(n, "packages", cJSON_CreateArray());
    if (!cJSON_GetObjectItem(n, "is_return"))
        jset_bool(n, "is_return", 0);
    jset(n, "total_weight", total_weight(n));
    cJSON *to = cJSON_GetObjectItem(n, "ship_to");
    if (to && !jstr(to, "address_residential_indicator"))
        jset_str(to, "address_residential_indicator", "unknown");
    jset_num_front(n, "_created", now);
    jset_num_front(n, "_modified", now);
    jset_num_front(n, "_seq", (double)next_id("seq"));
}

cJSON *v2_shipment_new(const cJSON *in)
{
    cJSON *n = cJSON_Duplicate(in, 1);
    char id[32];
    fresh_se_id(id, sizeof id, "v2_shipment", 5000000, jarr(v2_root(), "shipments"), "shipment_id");
    cJSON_DeleteItemFromObject(n, "validate_address");
    cJSON_DeleteItemFromObject(n, "create_sales_order");
    jset_str(n, "shipment_id", id);
    fill_defaults(n, sim_now());
    cJSON_AddItemToArray(jarr(v2_root(), "shipments"), n);
    return n;
}

int v2_h_shipments_create(sim_req *rq, sim_resp *rs)
{
    cJSON *b = v2_body_object(rq, rs), *f;
    if (!b)
        return 0;
    cJSON *list = cJSON_GetObjectItem(b, "shipments");
    cJSON_ArrayForEach(f, b) if (strcmp(f->string, "shipments") != 0)
    {
        v2_bad_field(rs, "%s is not a known field", f->string);
        cJSON_Delete(b);
        return 0;
    }
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1) {
        v2_error(rs, 400, "validation", "field_value_required", "shipments must be a non-empty array");
        cJSON_Delete(b);
        return 0;
    }
    cJSON *out = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *s;
    int has_errors = 0, idx = 0;
    cJSON_ArrayForEach(s, list) {
        cJSON *errs = cJSON_CreateArray();
        if (!cJSON_IsObject(s))
            add_err(errs, "%s", "each shipment must be an object");
        else
            check_shipment(s, errs, list, idx);
        idx++;
        cJSON *r;
        if (cJSON_GetArraySize(errs) > 0) {
            has_errors = 1;
            r = cJSON_IsObject(s) ? cJSON_Duplicate(s, 1) : cJSON_CreateObject();
            jset(r, "shipment_id", cJSON_CreateNull());
            jset(r, "errors", errs);
        } else {
            cJSON_Delete(errs);
            r = jclean_copy(v2_shipment_new(s));
            jset(r, "errors", cJSON_CreateArray());
            jset(r, "address_validation", cJSON_CreateNull());
            char res[96];
            snprintf(res, sizeof res, "/v2/shipments/%s", jstr(r, "shipment_id"));
            webhook_fire("v2", "shipment_created_v2", res, NULL);
        }
        cJSON_AddItemToArray(arr, r);
    }
    jset_bool(out, "has_errors", has_errors);
    jset(out, "shipments", arr);
    cJSON_Delete(b);
    resp_json(rs, 200, out);
    return 0;
}


static cJSON *shipment_or_404(sim_resp *rs, const char *id)
{
    cJSON *s = v2_find_by(jarr(v2_root(), "shipments"), "shipment_id", id);
    if (!s)
        v2_not_found(rs, "Shipment", id);
    return s;
}

int v2_h_shipment_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *s = shipment_or_404(rs, v2_seg[2]);
    if (s)
        resp_json(rs, 200, jclean_copy(s));
    return 0;
}

int v2_h_shipment_by_ext(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *s = v2_find_by(jarr(v2_root(), "shipments"), "external_shipment_id", v2_seg[3]);
    if (!s)
        v2_not_found(rs, "Shipment with external_shipment_id", v2_seg[3]);
    else
        resp_json(rs, 200, jclean_copy(s));
    return 0;
}

int v2_h_shipment_update(sim_req *rq, sim_resp *rs)
{
    cJSON *s = shipment_or_404(rs, v2_seg[2]);
    if (!s)
        return 0;
    cJSON *b = v2_body_object(rq, rs);
    if (!b)
        return 0;
    if (strcmp(jstrs(s, "shipment_status"), "pending") != 0) {
        v2_error(rs, 400, "business_rules", "invalid_status", "Shipment %s is %s and cannot be updated", v2_seg[2],
                 jstr(s, "shipment_status"));
        cJSON_Delete(b);
        return 0;
    }
    cJSON_DeleteItemFromObject(b, "shipment_id");
    cJSON_DeleteItemFromObject(b, "created_at");
    cJSON_DeleteItemFromObject(b, "modified_at");
    cJSON_DeleteItemFromObject(b, "total_weight");
    cJSON_DeleteItemFromObject(b, "shipment_status");
    cJSON *errs = cJSON_CreateArray(), *tmp = cJSON_CreateArray();
    /* uniqueness must ignore the shipment itself */
    const char *ext = jstr(b, "external_shipment_id"), *own = jstr(s, "external_shipment_id");
    cJSON *probe = cJSON_Duplicate(b, 1);
    if (ext && own && strcmp(ext, own) == 0)
        cJSON_DeleteItemFromObject(probe, "external_shipment_id");
    check_shipment(probe, errs, tmp, 0);
    cJSON_Delete(probe);
    cJSON_Delete(tmp);
    if (cJSON_GetArraySize(errs) > 0) {
        v2_error(rs, 400, "validation", "invalid_field_value", "%s", cJSON_GetArrayItem(errs, 0)->valuestring);
        cJSON_Delete(errs);
        cJSON_Delete(b);
        return 0;
    }
    cJSON_Delete(errs);
    double created = jnum(s, "_created", 0), seq = jnum(s, "_seq", 0);
    char created_at[40];
    snprintf(created_at, sizeof created_at, "%s", jstr(s, "created_at"));
    jset_str(b, "shipment_id", v2_seg[2]);
    cJSON *n = b;
    fill_defaults(n, sim_now());
    jset_str(n, "created_at", created_at);
    jset_num_front(n, "_created", created);
    jset_num_front(n, "_seq", seq);
    jreplace_inplace(s, n); /* elements of indexed arrays stay where they are */
    state_index_forget(jarr(v2_root(), "shipments")); /* external_shipment_id may have changed */
    resp_json(rs, 200, jclean_copy(s));
    return 0;
}

int v2_h_shipment_cancel(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *s = shipment_or_404(rs, v2_seg[2]), *l;
    if (!s)
        return 0;
    cJSON_ArrayForEach(l, jarr(v2_root(), "labels")) {
        const char *sid = jstr(l, "shipment_id");
        if (sid && strcmp(sid, v2_seg[2]) == 0 && !jbool(l, "voided", 0)) {
            v2_error(rs, 400, "business_rules", "invalid_status",
                     "Shipment %s has a label that must be voided before it can be cancelled", v2_seg[2]);
            return 0;
        }
    }
    char t[40];
    fmt_rfc3339(sim_now(), t);
    jset_str(s, "shipment_status", "cancelled");
    jset_str(s, "modified_at", t);
    jset_num_front(s, "_modified", sim_now());
    resp_text(rs, 204, NULL, NULL);
    return 0;
}

/* ---- labels ---- */

static const char *const LABEL_STATUS[] = {"processing", "completed", "error", "voided", NULL};

int v2_h_labels_list(sim_req *rq, sim_resp *rs)
{
    v2_list_args a;
    if (!v2_list_args_parse(rq, rs, &a, 500, 25, 0))
        return 0;
    const char *sid = req_arg(rq, "shipment_id"), *st = req_arg(rq, "label_status");
    const char *tn = req_arg(rq, "tracking_number"), *car = req_arg(rq, "carrier_id");
    if (st && !v2_in_list(st, LABEL_STATUS)) {
        v2_bad_field(rs, "label_status '%s' is not valid", st);
        return 0;
    }
    cJSON *arr = jarr(v2_root(), "labels"), *l;
    cJSON **items = malloc(sizeof(cJSON *) * (size_t)(cJSON_GetArraySize(arr) + 1));
    size_t n = 0;
    cJSON_ArrayForEach(l, arr) {
        double c = jnum(l, "_created", 0);
        if (c < a.c_start || c > a.c_end)
            continue;
        if ((sid && strcmp(sid, jstrs(l, "shipment_id"))) || (st && strcmp(st, jstrs(l, "status"))) ||
            (tn && strcmp(tn, jstrs(l, "tracking_number"))) || (car && strcmp(car, jstrs(l, "carrier_id"))))
            continue;
        items[n++] = l;
    }
    v2_paged(rq, rs, "labels", items, n, &a);
    free(items);
    return 0;
}

int v2_h_label_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *l = v2_find_by(jarr(v2_root(), "labels"), "label_id", v2_seg[2]);
    if (!l)
        v2_not_found(rs, "Label", v2_seg[2]);
    else
        resp_json(rs, 200, jclean_copy(l));
    return 0;
}

void v2_label_void(cJSON *l)
{
    char t[40];
    fmt_rfc3339(sim_now(), t);
    jset_bool(l, "voided", 1);
    jset_str(l, "voided_at", t);
    jset_str(l, "status", "voided");
    cJSON *s = v2_find_by(jarr(v2_root(), "shipments"), "shipment_id", jstr(l, "shipment_id")), *o;
    if (!s)
        return;
    jset_str(s, "modified_at", t);
    jset_num_front(s, "_modified", sim_now());
    cJSON_ArrayForEach(o, jarr(v2_root(), "labels")) {
        const char *sid = jstr(o, "shipment_id");
        if (sid && strcmp(sid, jstrs(s, "shipment_id")) == 0 && !jbool(o, "voided", 0))
            return;
    }
    jset_str(s, "shipment_status", "pending"); /* no live label left: the shipment can be labelled again */
}

int v2_h_label_void(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *l = v2_find_by(jarr(v2_root(), "labels"), "label_id", v2_seg[2]);
    if (!l) {
        v2_not_found(rs, "Label", v2_seg[2]);
        return 0;
    }
    cJSON *j = cJSON_CreateObject();
    if (jbool(l, "voided", 0)) {
        jset_bool(j, "approved", 0);
        jset_str(j, "message", "The label has already been voided.");
    } else {
        v2_label_void(l);
        jset_bool(j, "approved", 1);
        jset_str(j, "message", "Request for refund submitted.  This label has been voided.");
    }
    resp_json(rs, 200, j);
    return 0;
}

/* GET /v2/labels/{id}/track: status codes AC (accepted), IT (in transit), DE (delivered) */
int v2_h_label_track(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *l = v2_find_by(jarr(v2_root(), "labels"), "label_id", v2_seg[2]);
    if (!l) {
        v2_not_found(rs, "Label", v2_seg[2]);
        return 0;
    }
    int delivered = strcmp(jstrs(l, "tracking_status"), "delivered") == 0;
    cJSON *t = cJSON_CreateObject(), *events = cJSON_CreateArray(), *e = cJSON_CreateObject();
    jset_str(t, "tracking_number", jstrs(l, "tracking_number"));
    jset_str(t, "status_code", delivered ? "DE" : "IT");
    jset_str(t, "status_description", delivered ? "Delivered" : "In Transit");
    jset_str(t, "carrier_code", jstrs(l, "carrier_code"));
    jset_str(t, "carrier_status_code", delivered ? "D" : "I");
    jset_str(t, "carrier_status_description", delivered ? "Delivered" : "In transit");
    jset_str(t, "ship_date", jstrs(l, "ship_date"));
    jset(t, "estimated_delivery_date", cJSON_CreateNull());
    jset(t, "actual_delivery_date", delivered ? cJSON_CreateString(jstrs(l, "_delivered_at")) : cJSON_CreateNull());
    jset_str(e, "occurred_at", jstrs(l, "ship_date"));
    jset_str(e, "description", "Shipment picked up");
    jset_str(e, "status_code", "IT");
    cJSON_AddItemToArray(events, e);
    jset(t, "events", events);
    resp_json(rs, 200, t);
    return 0;
}

