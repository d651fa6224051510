/*
 * sim_v2.c: ShipStation API V2 (api.shipstation.com/v2, ShipEngine style) as the
 * OpenAPI file in shared/research describes it: the api-key header, 200 requests per
 * minute with 429 + Retry-After, error_response_body with request_id, se- ids, the
 * paged envelope with links, and the endpoints mlc uses: shipments (list, create with
 * per-shipment errors, get, by external_shipment_id, update, cancel), labels (list,
 * get, void), warehouses, carriers, products, inventory (GET, POST 204) and
 * environment/webhooks.
 *
 * Not here: creating labels by shipping (sim_ship.c, driven by POST /admin/ship),
 * webhook delivery (sim_webhook.c).
 */
#include "sim_list.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *ss(void) { return cJSON_GetObjectItem(SIM->st, "shipstation"); }
static cJSON *v2(void) { return cJSON_GetObjectItem(ss(), "v2"); }

void v2_error(sim_resp *rs, int status, const char *type, const char *code, const char *fmt, ...)
{
    char msg[512], id[37];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    make_uuid(id);
    cJSON *j = cJSON_CreateObject(), *errs = cJSON_AddArrayToObject(j, "errors"), *e = cJSON_CreateObject();
    jset_str(j, "request_id", id);
    jset_str(e, "error_source", "ShipStation");
    jset_str(e, "error_type", type);
    jset_str(e, "error_code", code);
    jset_str(e, "message", msg);
    cJSON_AddItemToArray(errs, e);
    resp_json(rs, status, j);
}

static void bad_field(sim_resp *rs, const char *fmt, const char *what)
{
    v2_error(rs, 400, "validation", "invalid_field_value", fmt, what);
}

static cJSON *find_by(cJSON *arr, const char *k, const char *v)
{
    cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const char *s = jstr(e, k);
        if (s && v && strcmp(s, v) == 0)
            return e;
    }
    return NULL;
}

static void not_found(sim_resp *rs, const char *what, const char *id)
{
    v2_error(rs, 404, "validation", "invalid_identifier", "%s %s was not found", what, id);
}

/* ---- auth and rate limit, around every V2 handler ---- */

static int v2_gate(sim_req *rq, sim_resp *rs)
{
    const char *key = req_header(rq, "api-key");
    if (!key || strcmp(key, SIM->v2key) != 0) {
        v2_error(rs, 401, "security", "unauthorized", "The request was not authorized. Check the API-Key header.");
        return 0;
    }
    int rem, reset;
    if (SIM->lim_v2 > 0 && !ratelimit_take("v2", SIM->lim_v2, &rem, &reset)) {
        v2_error(rs, 429, "system", "rate_limit_exceeded",
                 "You have exceeded the rate limit. Please see the Retry-After header.");
        resp_header(rs, "Retry-After", "%d", reset);
        return 0;
    }
    return 1;
}

static cJSON *body_object(sim_req *rq, sim_resp *rs)
{
    cJSON *b = rq->body ? cJSON_Parse(rq->body) : NULL;
    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        if (!rq->body || !rq->body_len)
            v2_error(rs, 400, "validation", "request_body_required", "A request body is required");
        else
            v2_error(rs, 400, "validation", "invalid_object", "The request body is not a valid JSON object");
        return NULL;
    }
    return b;
}

/* ---- common list arguments ---- */

typedef struct list_args {
    long page, page_size;
    int desc;
    const char *sort_key; /* internal epoch member */
    double c_start, c_end, m_start, m_end;
} list_args;

static int time_arg(sim_req *rq, sim_resp *rs, const char *name, double *out, double dflt)
{
    const char *v = req_arg(rq, name);
    *out = dflt;
    if (v && parse_rfc3339(v, out) != 0) {
        bad_field(rs, "%s must be an ISO 8601 date-time", name);
        return 0;
    }
    return 1;
}

static int list_args_parse(sim_req *rq, sim_resp *rs, list_args *a, long max_size, long dflt_size,
                           int has_modified)
{
    a->page = 1;
    a->page_size = dflt_size;
    a->desc = 1;
    a->sort_key = "_created";
    if (!parse_long_arg(req_arg(rq, "page"), 1, 1000000, &a->page)) {
        bad_field(rs, "%s must be an integer >= 1", "page");
        return 0;
    }
    if (!parse_long_arg(req_arg(rq, "page_size"), 1, max_size, &a->page_size)) {
        bad_field(rs, "%s is out of range", "page_size");
        return 0;
    }
    const char *sd = req_arg(rq, "sort_dir"), *sb = req_arg(rq, "sort_by");
    if (sd && strcmp(sd, "asc") && strcmp(sd, "desc")) {
        bad_field(rs, "%s must be asc or desc", "sort_dir");
        return 0;
    }
    a->desc = !sd || strcmp(sd, "desc") == 0;
    if (sb) {
        if (strcmp(sb, "created_at") == 0)
            a->sort_key = "_created";
        else if (has_modified && strcmp(sb, "modified_at") == 0)
            a->sort_key = "_modified";
        else {
            bad_field(rs, "%s is not a valid sort_by value", sb);
            return 0;
        }
    }
    return time_arg(rq, rs, "created_at_start", &a->c_start, -1e18) &&
           time_arg(rq, rs, "created_at_end", &a->c_end, 1e18) &&
           (!has_modified || (time_arg(rq, rs, "modified_at_start", &a->m_start, -1e18) &&
                              time_arg(rq, rs, "modified_at_end", &a->m_end, 1e18)));
}

static void paged(sim_req *rq, sim_resp *rs, const char *name, cJSON **items, size_t n, const list_args *a)
{
    list_sort(items, n, a->sort_key, a->desc);
    long pages;
    cJSON *page = list_page(items, n, a->page, a->page_size, &pages);
    cJSON *j = cJSON_CreateObject();
    jset(j, name, page);
    jset_num(j, "total", (double)n);
    jset_num(j, "page", (double)a->page);
    jset_num(j, "pages", (double)pages);
    jset(j, "links", v2_links(rq, a->page, pages));
    resp_json(rs, 200, j);
}

/* ---- shipments ---- */

static const char *const SHIPMENT_STATUS[] = {"pending", "processing", "label_purchased", "cancelled", NULL};

static int in_list(const char *v, const char *const *l)
{
    for (; v && *l; l++)
        if (strcmp(v, *l) == 0)
            return 1;
    return 0;
}

static int h_shipments_list(sim_req *rq, sim_resp *rs)
{
    list_args a;
    if (!list_args_parse(rq, rs, &a, 500, 25, 1))
        return 0;
    const char *st = req_arg(rq, "shipment_status"), *ext = req_arg(rq, "external_shipment_id");
    const char *num = req_arg(rq, "shipment_number"), *name = req_arg(rq, "ship_to_name");
    if (st && !in_list(st, SHIPMENT_STATUS)) {
        bad_field(rs, "shipment_status '%s' is not valid", st);
        return 0;
    }
    cJSON *arr = jarr(v2(), "shipments"), *s;
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
    paged(rq, rs, "shipments", items, n, &a);
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
    cJSON_ArrayForEach(f, addr) if (!in_list(f->string, ADDRESS_KEYS))
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
        cJSON_ArrayForEach(f, it) if (f->string && !in_list(f->string, KEYS))
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
        cJSON_ArrayForEach(f, p) if (f->string && !in_list(f->string, KEYS))
            add_err(errs, "packages: %s is not a known field", f->string);
        const cJSON *w = cJSON_GetObjectItem(p, "weight");
        const char *u = jstr(w, "unit");
        if (!cJSON_IsObject(w) || jnum(w, "value", -1) <= 0 || !u || !in_list(u, UNITS))
            add_err(errs, "%s: weight needs a value > 0 and a unit (pound, ounce, gram, kilogram)", "packages");
    }
}

static void check_shipment(const cJSON *s, cJSON *errs, const cJSON *batch, int idx)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, s) if (!in_list(f->string, CREATE_KEYS)) add_err(errs, "%s is not a known or writable field",
                                                                            f->string);
    check_address(cJSON_GetObjectItem(s, "ship_to"), "ship_to", errs);
    const char *wh = jstr(s, "warehouse_id");
    const cJSON *from = cJSON_GetObjectItem(s, "ship_from");
    if (from && !cJSON_IsNull(from))
        check_address(from, "ship_from", errs);
    else if (!wh)
        add_err(errs, "%s", "Either ship_from or warehouse_id must be specified");
    if (wh && !find_by(jarr(ss(), "warehouses"), "warehouse_id", wh))
        add_err(errs, "warehouse_id %s was not found", wh);
    const char *car = jstr(s, "carrier_id");
    if (car && !find_by(jarr(ss(), "carriers"), "carrier_id", car))
        add_err(errs, "carrier_id %s was not found", car);
    const char *st = jstr(s, "shipment_status");
    if (cJSON_GetObjectItem(s, "shipment_status") && (!st || !in_list(st, SHIPMENT_STATUS)))
        add_err(errs, "%s", "shipment_status is not valid");
    check_items(cJSON_GetObjectItem(s, "items"), errs);
    check_packages(cJSON_GetObjectItem(s, "packages"), errs);
    const cJSON *ext = cJSON_GetObjectItem(s, "external_shipment_id");
    if (ext && !cJSON_IsNull(ext)) {
        if (!cJSON_IsString(ext) || strlen(ext->valuestring) > 50)
            add_err(errs, "%s", "external_shipment_id must be a string of at most 50 characters");
        else if (find_by(jarr(v2(), "shipments"), "external_shipment_id", ext->valuestring))
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

static cJSON *total_weight(const cJSON *s)
{
    double oz = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(s, "packages")) {
        const cJSON *w = cJSON_GetObjectItem(p, "weight");
        const char *u = jstr(w, "unit");
        double v = jnum(w, "value", 0);
        oz += !u ? 0 : strcmp(u, "pound") == 0 ? v * 16 : strcmp(u, "gram") == 0 ? v / 28.3495
              : strcmp(u, "kilogram") == 0 ? v * 35.274 : v;
    }
    cJSON *w = cJSON_CreateObject();
    jset_num(w, "value", oz / 16.0);
    jset_str(w, "unit", "pound");
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
        cJSON *w = find_by(jarr(ss(), "warehouses"), "warehouse_id", jstr(n, "warehouse_id"));
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
    jset_num(n, "_created", now);
    jset_num(n, "_modified", now);
    jset_num(n, "_seq", (double)next_id("seq"));
}

cJSON *v2_shipment_new(const cJSON *in)
{
    cJSON *n = cJSON_Duplicate(in, 1);
    char id[32];
    snprintf(id, sizeof id, "se-%ld", 5000000 + next_id("v2_shipment"));
    cJSON_DeleteItemFromObject(n, "validate_address");
    cJSON_DeleteItemFromObject(n, "create_sales_order");
    jset_str(n, "shipment_id", id);
    fill_defaults(n, sim_now());
    cJSON_AddItemToArray(jarr(v2(), "shipments"), n);
    return n;
}

static int h_shipments_create(sim_req *rq, sim_resp *rs)
{
    cJSON *b = body_object(rq, rs), *f;
    if (!b)
        return 0;
    cJSON *list = cJSON_GetObjectItem(b, "shipments");
    cJSON_ArrayForEach(f, b) if (strcmp(f->string, "shipments") != 0)
    {
        bad_field(rs, "%s is not a known field", f->string);
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

static char SEG[8][96];

static cJSON *shipment_or_404(sim_resp *rs, const char *id)
{
    cJSON *s = find_by(jarr(v2(), "shipments"), "shipment_id", id);
    if (!s)
        not_found(rs, "Shipment", id);
    return s;
}

static int h_shipment_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *s = shipment_or_404(rs, SEG[2]);
    if (s)
        resp_json(rs, 200, jclean_copy(s));
    return 0;
}

static int h_shipment_by_ext(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *s = find_by(jarr(v2(), "shipments"), "external_shipment_id", SEG[3]);
    if (!s)
        not_found(rs, "Shipment with external_shipment_id", SEG[3]);
    else
        resp_json(rs, 200, jclean_copy(s));
    return 0;
}

static int h_shipment_update(sim_req *rq, sim_resp *rs)
{
    cJSON *s = shipment_or_404(rs, SEG[2]);
    if (!s)
        return 0;
    cJSON *b = body_object(rq, rs);
    if (!b)
        return 0;
    if (strcmp(jstrs(s, "shipment_status"), "pending") != 0) {
        v2_error(rs, 400, "business_rules", "invalid_status", "Shipment %s is %s and cannot be updated", SEG[2],
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
    jset_str(b, "shipment_id", SEG[2]);
    cJSON *n = b;
    fill_defaults(n, sim_now());
    jset_str(n, "created_at", created_at);
    jset_num(n, "_created", created);
    jset_num(n, "_seq", seq);
    cJSON_ReplaceItemViaPointer(jarr(v2(), "shipments"), s, n);
    resp_json(rs, 200, jclean_copy(n));
    return 0;
}

static int h_shipment_cancel(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *s = shipment_or_404(rs, SEG[2]), *l;
    if (!s)
        return 0;
    cJSON_ArrayForEach(l, jarr(v2(), "labels")) {
        const char *sid = jstr(l, "shipment_id");
        if (sid && strcmp(sid, SEG[2]) == 0 && !jbool(l, "voided", 0)) {
            v2_error(rs, 400, "business_rules", "invalid_status",
                     "Shipment %s has a label that must be voided before it can be cancelled", SEG[2]);
            return 0;
        }
    }
    char t[40];
    fmt_rfc3339(sim_now(), t);
    jset_str(s, "shipment_status", "cancelled");
    jset_str(s, "modified_at", t);
    jset_num(s, "_modified", sim_now());
    resp_text(rs, 204, NULL, NULL);
    return 0;
}

/* ---- labels ---- */

static const char *const LABEL_STATUS[] = {"processing", "completed", "error", "voided", NULL};

static int h_labels_list(sim_req *rq, sim_resp *rs)
{
    list_args a;
    if (!list_args_parse(rq, rs, &a, 500, 25, 0))
        return 0;
    const char *sid = req_arg(rq, "shipment_id"), *st = req_arg(rq, "label_status");
    const char *tn = req_arg(rq, "tracking_number"), *car = req_arg(rq, "carrier_id");
    if (st && !in_list(st, LABEL_STATUS)) {
        bad_field(rs, "label_status '%s' is not valid", st);
        return 0;
    }
    cJSON *arr = jarr(v2(), "labels"), *l;
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
    paged(rq, rs, "labels", items, n, &a);
    free(items);
    return 0;
}

static int h_label_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *l = find_by(jarr(v2(), "labels"), "label_id", SEG[2]);
    if (!l)
        not_found(rs, "Label", SEG[2]);
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
    cJSON *s = find_by(jarr(v2(), "shipments"), "shipment_id", jstr(l, "shipment_id")), *o;
    if (!s)
        return;
    jset_str(s, "modified_at", t);
    jset_num(s, "_modified", sim_now());
    cJSON_ArrayForEach(o, jarr(v2(), "labels")) {
        const char *sid = jstr(o, "shipment_id");
        if (sid && strcmp(sid, jstrs(s, "shipment_id")) == 0 && !jbool(o, "voided", 0))
            return;
    }
    jset_str(s, "shipment_status", "pending"); /* no live label left: the shipment can be labelled again */
}

static int h_label_void(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *l = find_by(jarr(v2(), "labels"), "label_id", SEG[2]);
    if (!l) {
        not_found(rs, "Label", SEG[2]);
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
static int h_label_track(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *l = find_by(jarr(v2(), "labels"), "label_id", SEG[2]);
    if (!l) {
        not_found(rs, "Label", SEG[2]);
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
    jset(t, "actual_delivery_date", delivered ? cJSON_CreateString(jstrs(l, "delivered_at")) : cJSON_CreateNull());
    jset_str(e, "occurred_at", jstrs(l, "ship_date"));
    jset_str(e, "description", "Shipment picked up");
    jset_str(e, "status_code", "IT");
    cJSON_AddItemToArray(events, e);
    jset(t, "events", events);
    resp_json(rs, 200, t);
    return 0;
}

/* ---- warehouses, carriers, products ---- */

static cJSON *public_warehouse(const cJSON *w)
{
    cJSON *c = jclean_copy(w);
    cJSON_DeleteItemFromObject(c, "v1_warehouse_id");
    return c;
}

static int h_warehouses(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "warehouses"), *w;
    cJSON_ArrayForEach(w, jarr(ss(), "warehouses")) cJSON_AddItemToArray(a, public_warehouse(w));
    resp_json(rs, 200, j);
    return 0;
}

static int h_warehouse_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *w = find_by(jarr(ss(), "warehouses"), "warehouse_id", SEG[2]);
    if (!w)
        not_found(rs, "Warehouse", SEG[2]);
    else
        resp_json(rs, 200, public_warehouse(w));
    return 0;
}

static int h_carriers(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "carriers"), *c;
    cJSON_ArrayForEach(c, jarr(ss(), "carriers")) cJSON_AddItemToArray(a, jclean_copy(c));
    jset(j, "errors", cJSON_CreateArray());
    resp_json(rs, 200, j);
    return 0;
}

static int h_products(sim_req *rq, sim_resp *rs)
{
    list_args a = {.page = 1, .page_size = 100, .sort_key = "_seq"};
    if (!parse_long_arg(req_arg(rq, "page"), 1, 1000000, &a.page) ||
        !parse_long_arg(req_arg(rq, "page_size"), 1, 100, &a.page_size)) {
        bad_field(rs, "%s is out of range", "page or page_size");
        return 0;
    }
    const char *sku = req_arg(rq, "sku"), *name = req_arg(rq, "name"), *act = req_arg(rq, "active");
    cJSON *arr = jarr(ss(), "products"), *p;
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

static int h_inventory_get(sim_req *rq, sim_resp *rs)
{
    long limit = 100, page = 1;
    if (!parse_long_arg(req_arg(rq, "limit"), 1, 1000, &limit) ||
        !parse_long_arg(req_arg(rq, "page"), 1, 1000000, &page)) {
        bad_field(rs, "%s is out of range", "limit or page");
        return 0;
    }
    const char *sku = req_arg(rq, "sku"), *wh = req_arg(rq, "inventory_warehouse_id");
    const char *loc = req_arg(rq, "inventory_location_id"), *gb = req_arg(rq, "group_by");
    if (gb && strcmp(gb, "warehouse") && strcmp(gb, "location")) {
        bad_field(rs, "group_by '%s' must be warehouse or location", gb);
        return 0;
    }
    cJSON *arr = jarr(ss(), "inventory"), *e;
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
    cJSON_ArrayForEach(e, jarr(ss(), "inventory")) {
        const char *s = jstr(e, "sku"), *l = jstr(e, "inventory_location_id");
        if (s && l && strcmp(s, sku) == 0 && strcmp(l, loc) == 0)
            return e;
    }
    if (!create)
        return NULL;
    cJSON *where = find_by(jarr(ss(), "inventory_locations"), "inventory_location_id", loc);
    e = cJSON_CreateObject();
    jset_str(e, "sku", sku);
    jset_num(e, "on_hand", 0);
    jset_num(e, "allocated", 0);
    jset_num(e, "available", 0);
    jset_str(e, "inventory_warehouse_id", jstr(where, "inventory_warehouse_id"));
    jset_str(e, "inventory_location_id", loc);
    cJSON_AddItemToArray(jarr(ss(), "inventory"), e);
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
        cJSON *where = find_by(jarr(ss(), "inventory_locations"), "inventory_location_id", nl);
        if (!where) {
            not_found(rs, "Inventory location", nl);
            return 0;
        }
        jset_str(e, "inventory_location_id", nl);
        jset_str(e, "inventory_warehouse_id", jstr(where, "inventory_warehouse_id"));
    }
    if (cJSON_IsObject(cJSON_GetObjectItem(b, "new_cost")))
        jset(e, "average_cost", cJSON_Duplicate(cJSON_GetObjectItem(b, "new_cost"), 1));
    return 1;
}

static int h_inventory_post(sim_req *rq, sim_resp *rs)
{
    static const char *const TT[] = {"increment", "decrement", "adjust", "modify", NULL};
    static const char *const COND[] = {"sellable", "damaged", "expired", "qa_hold", NULL};
    cJSON *b = body_object(rq, rs);
    if (!b)
        return 0;
    const char *tt = jstr(b, "transaction_type"), *sku = jstr(b, "sku"), *loc = jstr(b, "inventory_location_id");
    const char *cond = jstr(b, "condition");
    cJSON *q = cJSON_GetObjectItem(b, "quantity");
    if (!tt || !sku || !loc || !q)
        v2_error(rs, 400, "validation", "field_value_required",
                 "transaction_type, sku, quantity and inventory_location_id are required");
    else if (!in_list(tt, TT))
        bad_field(rs, "transaction_type '%s' must be increment, decrement, adjust or modify", tt);
    else if (!cJSON_IsNumber(q) || q->valuedouble != (double)(long)q->valuedouble || q->valuedouble < 0 ||
             (q->valuedouble < 1 && strcmp(tt, "adjust") != 0 && strcmp(tt, "modify") != 0))
        bad_field(rs, "%s must be a positive integer", "quantity");
    else if (cond && !in_list(cond, COND))
        bad_field(rs, "condition '%s' is not valid", cond);
    else if (!find_by(jarr(ss(), "inventory_locations"), "inventory_location_id", loc))
        not_found(rs, "Inventory location", loc);
    else if (!find_by(jarr(ss(), "products"), "sku", sku))
        not_found(rs, "Product with sku", sku);
    else if (inventory_apply(rs, b, tt, sku, loc, q->valuedouble))
        resp_text(rs, 204, NULL, NULL);
    cJSON_Delete(b);
    return 0;
}

/* ---- webhooks ---- */

static const char *const EVENTS[] = {
    "batch", "carrier_connected", "order_source_refresh_complete", "rate", "report_complete",
    "sales_orders_imported", "track", "batch_processed_v2", "track_event_v2", "shipment_created_v2",
    "label_created_v2", "fulfillment_shipped_v2", "fulfillment_rejected_v2", "fulfillment_created_v2",
    "fulfillment_updated_v2", "fulfillment_canceled_v2", NULL};

static int h_webhooks_list(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *a = cJSON_CreateArray(), *w;
    cJSON_ArrayForEach(w, jarr(v2(), "webhooks")) cJSON_AddItemToArray(a, jclean_copy(w));
    resp_json(rs, 200, a);
    return 0;
}

static int h_webhook_create(sim_req *rq, sim_resp *rs)
{
    cJSON *b = body_object(rq, rs), *f;
    if (!b)
        return 0;
    const char *ev = jstr(b, "event"), *url = jstr(b, "url");
    cJSON_ArrayForEach(f, b) {
        if (strcmp(f->string, "event") && strcmp(f->string, "url") && strcmp(f->string, "headers") &&
            strcmp(f->string, "name") && strcmp(f->string, "store_id")) {
            bad_field(rs, "%s is not a known field", f->string);
            cJSON_Delete(b);
            return 0;
        }
    }
    if (!ev || !url)
        v2_error(rs, 400, "validation", "field_value_required", "event and url are required");
    else if (!in_list(ev, EVENTS))
        bad_field(rs, "event '%s' is not a valid webhook event", ev);
    else if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        bad_field(rs, "url '%s' is not a valid URL", url);
    else {
        cJSON *w;
        cJSON_ArrayForEach(w, jarr(v2(), "webhooks")) {
            if (strcmp(jstrs(w, "event"), ev) == 0 && strcmp(jstrs(w, "url"), url) == 0) {
                v2_error(rs, 409, "validation", "webhook_event_type_conflict",
                         "A webhook for %s at this url already exists", ev);
                cJSON_Delete(b);
                return 0;
            }
        }
        char id[32];
        snprintf(id, sizeof id, "se-%ld", 7000 + next_id("v2_webhook"));
        w = cJSON_CreateObject();
        jset_str(w, "webhook_id", id);
        jset_str(w, "url", url);
        jset_str(w, "event", ev);
        jset(w, "headers", cJSON_IsArray(cJSON_GetObjectItem(b, "headers"))
                               ? cJSON_Duplicate(cJSON_GetObjectItem(b, "headers"), 1)
                               : cJSON_CreateArray());
        if (jstr(b, "name"))
            jset_str(w, "name", jstr(b, "name"));
        cJSON_AddItemToArray(jarr(v2(), "webhooks"), w);
        resp_json(rs, 200, jclean_copy(w));
    }
    cJSON_Delete(b);
    return 0;
}

static int h_webhook_one(sim_req *rq, sim_resp *rs)
{
    cJSON *arr = jarr(v2(), "webhooks");
    cJSON *w = find_by(arr, "webhook_id", SEG[3]);
    if (!w) {
        not_found(rs, "Webhook", SEG[3]);
        return 0;
    }
    if (strcmp(rq->method, "DELETE") == 0) {
        cJSON_Delete(cJSON_DetachItemViaPointer(arr, w));
        resp_text(rs, 204, NULL, NULL);
    } else
        resp_json(rs, 200, jclean_copy(w));
    return 0;
}

/* ---- routing ---- */

/* runs under the state mutex, so the static SEG is safe */
static int gated(sim_req *rq, sim_resp *rs)
{
    if (!v2_gate(rq, rs))
        return 0;
    if (path_split(rq->path, SEG, 8) < 0)
        memset(SEG, 0, sizeof SEG);
    return rq->handler(rq, rs);
}

static int h_unknown(sim_req *rq, sim_resp *rs)
{
    v2_error(rs, 404, "validation", "unspecified", "No route for %s %s", rq->method, rq->path);
    return 0;
}

typedef struct v2_route {
    const char *method, *pattern;
    sim_handler h;
} v2_route;

static const v2_route ROUTES[] = {
    {"GET", "/v2/shipments", h_shipments_list},
    {"POST", "/v2/shipments", h_shipments_create},
    {"GET", "/v2/shipments/external_shipment_id/{id}", h_shipment_by_ext},
    {"GET", "/v2/shipments/{id}", h_shipment_get},
    {"PUT", "/v2/shipments/{id}", h_shipment_update},
    {"PUT", "/v2/shipments/{id}/cancel", h_shipment_cancel},
    {"GET", "/v2/labels", h_labels_list},
    {"GET", "/v2/labels/{id}", h_label_get},
    {"PUT", "/v2/labels/{id}/void", h_label_void},
    {"GET", "/v2/labels/{id}/track", h_label_track},
    {"GET", "/v2/warehouses", h_warehouses},
    {"GET", "/v2/warehouses/{id}", h_warehouse_get},
    {"GET", "/v2/carriers", h_carriers},
    {"GET", "/v2/products", h_products},
    {"GET", "/v2/inventory", h_inventory_get},
    {"POST", "/v2/inventory", h_inventory_post},
    {"GET", "/v2/environment/webhooks", h_webhooks_list},
    {"POST", "/v2/environment/webhooks", h_webhook_create},
    {"GET", "/v2/environment/webhooks/{id}", h_webhook_one},
    {"DELETE", "/v2/environment/webhooks/{id}", h_webhook_one},
};

static int pattern_match(const char *pattern, char seg[][96], int n)
{
    char ps[8][96];
    int pn = path_split(pattern, ps, 8);
    if (pn != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(ps[i], "{id}") != 0 && strcmp(ps[i], seg[i]) != 0)
            return 0;
    return 1;
}

sim_handler route_v2(sim_req *rq)
{
    if (strcmp(rq->path, "/v2") != 0 && !str_has_prefix(rq->path, "/v2/"))
        return NULL;
    rq->system = '2';
    char seg[8][96];
    int n = path_split(rq->path, seg, 8);
    rq->handler = h_unknown;
    snprintf(rq->label, sizeof rq->label, "V2 %s (unrouted)", rq->method);
    for (size_t i = 0; n > 0 && i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (strcmp(ROUTES[i].method, rq->method) == 0 && pattern_match(ROUTES[i].pattern, seg, n)) {
            rq->handler = ROUTES[i].h;
            snprintf(rq->label, sizeof rq->label, "%s %s", rq->method, ROUTES[i].pattern);
            break;
        }
    }
    return gated;
}
