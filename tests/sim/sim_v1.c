/*
 * sim_v1.c: ShipStation API V1 (ssapi.shipstation.com) as shipstation.md describes it,
 * all but orders: HTTP Basic key:secret, 40 requests per minute per key in fixed windows
 * with X-Rate-Limit-Limit/Remaining/Reset on every response, naive Pacific dates with 7
 * fractional digits, ASP.NET-style error bodies (Message/ModelState), list plumbing,
 * /shipments (create/ship/void date filters, includeShipmentItems), /products (list, get,
 * PUT whole resource), /webhooks/subscribe, /webhooks, and the router.
 *
 * Not here: orders (sim_v1_orders.c), shipping orders (sim_ship.c), webhook delivery
 * (sim_webhook.c).
 */
#include "sim_v1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *v1_ss(void) { return cJSON_GetObjectItem(SIM->st, "shipstation"); }
cJSON *v1_root(void) { return jobj(v1_ss(), "v1"); }
char v1_seg[8][96];

void v1_error(sim_resp *rs, int status, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    jset_str(j, "Message", msg);
    resp_json(rs, status, j);
}

void v1_modelstate(sim_resp *rs, const char *key, const char *msg)
{
    cJSON *j = cJSON_CreateObject(), *ms = cJSON_AddObjectToObject(j, "ModelState");
    jset_str(j, "Message", "The request is invalid.");
    cJSON *a = cJSON_AddArrayToObject(ms, key);
    cJSON_AddItemToArray(a, cJSON_CreateString(msg));
    resp_json(rs, 400, j);
}

cJSON *v1_find_num(cJSON *arr, const char *k, double v) { return state_lookup_num(arr, k, v); }

int v1_in_list(const char *v, const char *const *l)
{
    for (; v && *l; l++)
        if (strcmp(v, *l) == 0)
            return 1;
    return 0;
}

/* ---- gate: auth + rate limit + headers ---- */

static int v1_gate(sim_req *rq, sim_resp *rs)
{
    char user[128], pass[128];
    int rem, reset;
    if (!req_basic_auth(rq, user, sizeof user, pass, sizeof pass) || strcmp(user, SIM->v1key) != 0 ||
        strcmp(pass, SIM->v1secret) != 0) {
        cJSON *j = cJSON_CreateObject();
        jset_str(j, "message", "Invalid API credentials");
        resp_json(rs, 401, j);
        resp_header(rs, "WWW-Authenticate", "Basic realm=\"ShipStation\"");
        return 0;
    }
    int ok = SIM->lim_v1 <= 0 || ratelimit_take("v1", SIM->lim_v1, &rem, &reset);
    if (SIM->lim_v1 <= 0)
        rem = 1000000, reset = 60;
    resp_header(rs, "X-Rate-Limit-Limit", "%d", SIM->lim_v1 > 0 ? SIM->lim_v1 : 1000000);
    resp_header(rs, "X-Rate-Limit-Remaining", "%d", rem);
    resp_header(rs, "X-Rate-Limit-Reset", "%d", reset);
    if (!ok) {
        cJSON *j = cJSON_CreateObject();
        jset_str(j, "message", "Too Many Requests");
        resp_json(rs, 429, j);
        return 0;
    }
    return 1;
}

/* ---- list plumbing ---- */

int v1_date_arg(sim_req *rq, sim_resp *rs, const char *name, double *out, double dflt)
{
    const char *v = req_arg(rq, name);
    *out = dflt;
    if (v && parse_pacific(v, out) != 0) {
        char m[160];
        snprintf(m, sizeof m, "The value '%s' is not valid for %s.", v, name);
        v1_modelstate(rs, name, m);
        return 0;
    }
    return 1;
}

int v1_list_parse(sim_req *rq, sim_resp *rs, v1_list *l, const char *const *sorts, const char *const *keys)
{
    l->page = 1;
    l->size = 100;
    l->desc = 0;
    l->sort_key = "_seq";
    if (!parse_long_arg(req_arg(rq, "page"), 1, 1000000, &l->page)) {
        v1_modelstate(rs, "page", "The value is not valid for page.");
        return 0;
    }
    if (!parse_long_arg(req_arg(rq, "pageSize"), 1, 500, &l->size)) {
        v1_modelstate(rs, "pageSize", "pageSize must be between 1 and 500.");
        return 0;
    }
    const char *sd = req_arg(rq, "sortDir"), *sb = req_arg(rq, "sortBy");
    if (sd && !str_ieq(sd, "ASC") && !str_ieq(sd, "DESC")) {
        v1_modelstate(rs, "sortDir", "The value is not valid for sortDir.");
        return 0;
    }
    l->desc = str_ieq(sd, "DESC");
    if (sb) {
        int i;
        for (i = 0; sorts[i] && !str_ieq(sb, sorts[i]); i++)
            ;
        if (!sorts[i]) {
            v1_modelstate(rs, "sortBy", "The value is not valid for sortBy.");
            return 0;
        }
        l->sort_key = keys[i];
    }
    return 1;
}

void v1_envelope(sim_resp *rs, const char *name, cJSON **items, size_t n, const v1_list *l,
                     void (*shape)(cJSON *, sim_req *), sim_req *rq)
{
    list_sort(items, n, l->sort_key, l->desc);
    long pages;
    cJSON *page = list_page(items, n, l->page, l->size, &pages), *e;
    if (shape)
        cJSON_ArrayForEach(e, page) shape(e, rq);
    cJSON *j = cJSON_CreateObject();
    jset(j, name, page);
    jset_num(j, "total", (double)n);
    jset_num(j, "page", (double)l->page);
    jset_num(j, "pages", (double)pages);
    resp_json(rs, 200, j);
}

/* ---- shipments ---- */

static void shape_shipment(cJSON *s, sim_req *rq)
{
    const char *inc = req_arg(rq, "includeShipmentItems");
    cJSON *stored = v1_find_num(jarr(v1_root(), "shipments"), "shipmentId", jnum(s, "shipmentId", -1));
    jset(s, "shipmentItems", str_ieq(inc, "true") && stored
                                 ? cJSON_Duplicate(cJSON_GetObjectItem(stored, "_items"), 1)
                                 : cJSON_CreateNull());
}

static int h_shipments_list(sim_req *rq, sim_resp *rs)
{
    static const char *const SORTS[] = {"ShipDate", "CreateDate", NULL};
    static const char *const KEYS[] = {"_ship", "_created"};
    v1_list l;
    double cs, ce, ss_, se, vs, ve;
    if (!v1_list_parse(rq, rs, &l, SORTS, KEYS) || !v1_date_arg(rq, rs, "createDateStart", &cs, -1e18) ||
        !v1_date_arg(rq, rs, "createDateEnd", &ce, 1e18) || !v1_date_arg(rq, rs, "shipDateStart", &ss_, -1e18) ||
        !v1_date_arg(rq, rs, "shipDateEnd", &se, 1e18) || !v1_date_arg(rq, rs, "voidDateStart", &vs, -1e18) ||
        !v1_date_arg(rq, rs, "voidDateEnd", &ve, 1e18))
        return 0;
    const char *inc = req_arg(rq, "includeShipmentItems");
    if (inc && !str_ieq(inc, "true") && !str_ieq(inc, "false")) {
        v1_modelstate(rs, "includeShipmentItems", "The value is not valid for includeShipmentItems.");
        return 0;
    }
    int void_filter = req_arg(rq, "voidDateStart") || req_arg(rq, "voidDateEnd");
    const char *oid = req_arg(rq, "orderId"), *onum = req_arg(rq, "orderNumber");
    const char *tn = req_arg(rq, "trackingNumber"), *cc = req_arg(rq, "carrierCode");
    const char *batch = req_arg(rq, "batchId");
    cJSON *arr = jarr(v1_root(), "shipments"), *s;
    cJSON **items = malloc(sizeof(cJSON *) * (size_t)(cJSON_GetArraySize(arr) + 1));
    size_t n = 0;
    cJSON_ArrayForEach(s, arr) {
        double c = jnum(s, "_created", 0), sh = jnum(s, "_ship", 0), v = jnum(s, "_void", -1);
        if (c < cs || c > ce || sh < ss_ || sh > se)
            continue;
        if (void_filter && (v < 0 || v < vs || v > ve))
            continue;
        if ((oid && jnum(s, "orderId", -1) != atof(oid)) || (onum && strcmp(onum, jstrs(s, "orderNumber"))) ||
            (tn && strcmp(tn, jstrs(s, "trackingNumber"))) || (cc && strcmp(cc, jstrs(s, "carrierCode"))) ||
            (batch && strcmp(batch, jstrs(s, "_batch"))))
            continue;
        items[n++] = s;
    }
    v1_envelope(rs, "shipments", items, n, &l, shape_shipment, rq);
    free(items);
    return 0;
}

/* ---- products (the shared catalogue, V1 view) ---- */

static cJSON *v1_product(const cJSON *p)
{
    cJSON *v = cJSON_CreateObject(), *extra = cJSON_GetObjectItem(p, "_v1");
    double c = 0;
    char t[40];
    jset_num(v, "productId", jnum(p, "product_id", 0));
    jset_str(v, "sku", jstr(p, "sku"));
    jset_str(v, "name", jstr(p, "name"));
    jset_num(v, "price", jnum(cJSON_GetObjectItem(p, "price"), "amount", 0));
    const cJSON *d = cJSON_GetObjectItem(p, "dimensions");
    jset_num(v, "length", jnum(d, "length", 0));
    jset_num(v, "width", jnum(d, "width", 0));
    jset_num(v, "height", jnum(d, "height", 0));
    const cJSON *w = cJSON_GetObjectItem(p, "weight");
    const char *u = jstr(w, "unit");
    double val = jnum(w, "value", 0);
    jset_num(v, "weightOz", u && !strcmp(u, "pound") ? val * 16 : u && !strcmp(u, "gram") ? val / 28.3495 : val);
    parse_rfc3339(jstr(p, "create_date"), &c);
    fmt_pacific(c, t);
    jset_str(v, "createDate", t);
    parse_rfc3339(jstr(p, "modify_date"), &c);
    fmt_pacific(c, t);
    jset_str(v, "modifyDate", t);
    jset_bool(v, "active", jbool(p, "active", 1));
    static const char *const NULLS[] = {"defaultCost", "internalNotes", "fulfillmentSku", "aliases",
                                        "productCategory", "productType", "warehouseLocation",
                                        "defaultCarrierCode", "defaultServiceCode", "defaultPackageCode",
                                        "defaultIntlCarrierCode", "defaultIntlServiceCode",
                                        "defaultIntlPackageCode", "defaultConfirmation", "defaultIntlConfirmation",
                                        "customsDescription", "customsValue", "customsTariffNo",
                                        "customsCountryCode", "noCustoms", "tags", "upc", "thumbnailUrl", NULL};
    for (const char *const *k = NULLS; *k; k++) {
        const cJSON *x = cJSON_GetObjectItem(extra, *k);
        jset(v, *k, x ? cJSON_Duplicate(x, 1) : cJSON_CreateNull());
    }
    return v;
}

static int h_products_list(sim_req *rq, sim_resp *rs)
{
    static const char *const SORTS[] = {"SKU", "ModifyDate", "CreateDate", NULL};
    static const char *const KEYS[] = {"_seq", "_seq", "_seq"};
    v1_list l;
    if (!v1_list_parse(rq, rs, &l, SORTS, KEYS))
        return 0;
    const char *sku = req_arg(rq, "sku"), *name = req_arg(rq, "name");
    int inactive = str_ieq(req_arg(rq, "showInactive"), "true");
    cJSON *arr = jarr(v1_ss(), "products"), *p;
    cJSON **items = malloc(sizeof(cJSON *) * (size_t)(cJSON_GetArraySize(arr) + 1));
    size_t n = 0;
    cJSON_ArrayForEach(p, arr) {
        if ((sku && strcmp(sku, jstrs(p, "sku"))) || (name && !strcasestr(jstrs(p, "name"), name)) ||
            (!inactive && !jbool(p, "active", 1)))
            continue;
        items[n++] = p;
    }
    long pages = n == 0 ? 0 : (long)((n + (size_t)l.size - 1) / (size_t)l.size);
    cJSON *out = cJSON_CreateArray();
    for (size_t i = (size_t)(l.page - 1) * (size_t)l.size; i < n && i < (size_t)l.page * (size_t)l.size; i++)
        cJSON_AddItemToArray(out, v1_product(items[i]));
    free(items);
    cJSON *j = cJSON_CreateObject();
    jset(j, "products", out);
    jset_num(j, "total", (double)n);
    jset_num(j, "page", (double)l.page);
    jset_num(j, "pages", (double)pages);
    resp_json(rs, 200, j);
    return 0;
}

static cJSON *product_or_404(sim_resp *rs)
{
    cJSON *p = v1_find_num(jarr(v1_ss(), "products"), "product_id", atof(v1_seg[1]));
    if (!p)
        v1_error(rs, 404, "The requested product could not be found.");
    return p;
}

static int h_product_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *p = product_or_404(rs);
    if (p)
        resp_json(rs, 200, v1_product(p));
    return 0;
}

/* PUT replaces the whole resource: what is left out becomes null */
static int h_product_put(sim_req *rq, sim_resp *rs)
{
    cJSON *p = product_or_404(rs);
    if (!p)
        return 0;
    cJSON *b = rq->body ? cJSON_Parse(rq->body) : NULL;
    if (!cJSON_IsObject(b)) {
        v1_modelstate(rs, "product", "The request body must be a product object.");
        cJSON_Delete(b);
        return 0;
    }
    if (!jstr(b, "sku") || !jstr(b, "name") || jnum(b, "productId", -1) != jnum(p, "product_id", -2)) {
        v1_modelstate(rs, "product", "productId, sku and name are required and productId must match the URL.");
        cJSON_Delete(b);
        return 0;
    }
    char t[40];
    fmt_rfc3339(sim_now(), t);
    jset_str(p, "sku", jstr(b, "sku"));
    state_index_forget(jarr(v1_ss(), "products")); /* the sku may have changed */
    jset_str(p, "name", jstr(b, "name"));
    cJSON *price = jobj(p, "price"), *dim = jobj(p, "dimensions"), *w = jobj(p, "weight");
    jset_num(price, "amount", jnum(b, "price", 0));
    jset_num(dim, "length", jnum(b, "length", 0));
    jset_num(dim, "width", jnum(b, "width", 0));
    jset_num(dim, "height", jnum(b, "height", 0));
    jset_num(w, "value", jnum(b, "weightOz", 0) / 16.0);
    jset_str(w, "unit", "pound");
    jset_bool(p, "active", jbool(b, "active", 0));
    jset_str(p, "modify_date", t);
    cJSON *extra = cJSON_Duplicate(b, 1);
    static const char *const MAPPED[] = {"productId", "sku", "name", "price", "length", "width", "height",
                                         "weightOz", "active", "createDate", "modifyDate", NULL};
    for (const char *const *k = MAPPED; *k; k++)
        cJSON_DeleteItemFromObject(extra, *k);
    jset(p, "_v1", extra);
    cJSON_Delete(b);
    cJSON *j = cJSON_CreateObject();
    jset_bool(j, "success", 1);
    jset_str(j, "message", "The requested product has been updated");
    resp_json(rs, 200, j);
    return 0;
}

/* ---- webhooks ---- */

static int h_subscribe(sim_req *rq, sim_resp *rs)
{
    static const char *const EVENTS[] = {"ORDER_NOTIFY", "ITEM_ORDER_NOTIFY", "SHIP_NOTIFY", "ITEM_SHIP_NOTIFY",
                                         "FULFILLMENT_SHIPPED", "FULFILLMENT_REJECTED", NULL};
    cJSON *b = rq->body ? cJSON_Parse(rq->body) : NULL;
    const char *url = jstr(b, "target_url"), *ev = jstr(b, "event");
    if (!cJSON_IsObject(b) || !url || !ev || !v1_in_list(ev, EVENTS) ||
        (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        cJSON *j = cJSON_CreateObject();
        jset_str(j, "message", "Invalid request parameters");
        resp_json(rs, 400, j);
        cJSON_Delete(b);
        return 0;
    }
    long id = fresh_id("v1_webhook", 50000, jarr(v1_root(), "webhooks"), "WebHookID");
    cJSON *w = cJSON_CreateObject();
    jset_bool(w, "IsLabelAPIHook", 0);
    jset_num(w, "WebHookID", (double)id);
    jset_num(w, "SellerID", 0);
    jset(w, "StoreID", cJSON_IsNumber(cJSON_GetObjectItem(b, "store_id"))
                           ? cJSON_CreateNumber(jnum(b, "store_id", 0)) : cJSON_CreateNull());
    jset_str(w, "HookType", ev);
    jset_str(w, "MessageFormat", "Json");
    jset_str(w, "Url", url);
    jset(w, "Name", jstr(b, "friendly_name") ? cJSON_CreateString(jstr(b, "friendly_name")) : cJSON_CreateNull());
    jset(w, "BulkCopyBatchID", cJSON_CreateNull());
    jset(w, "BulkCopyRecordID", cJSON_CreateNull());
    jset_bool(w, "Active", 1);
    jset(w, "WebhookLogs", cJSON_CreateArray());
    jset(w, "Seller", cJSON_CreateNull());
    jset(w, "Store", cJSON_CreateNull());
    cJSON_AddItemToArray(jarr(v1_root(), "webhooks"), w);
    cJSON_Delete(b);
    cJSON *j = cJSON_CreateObject();
    jset_num(j, "id", (double)id);
    resp_json(rs, 201, j);
    return 0;
}

static int h_webhooks_list(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *j = cJSON_CreateObject();
    jset(j, "webhooks", cJSON_Duplicate(jarr(v1_root(), "webhooks"), 1));
    resp_json(rs, 200, j);
    return 0;
}

static int h_webhook_delete(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *arr = jarr(v1_root(), "webhooks");
    cJSON *w = v1_find_num(arr, "WebHookID", atof(v1_seg[1]));
    if (!w) {
        v1_error(rs, 404, "The requested webhook could not be found.");
        return 0;
    }
    cJSON_Delete(cJSON_DetachItemViaPointer(arr, w));
    state_index_forget(arr);
    resp_text(rs, 200, "application/json", "");
    return 0;
}

/* ---- routing ---- */

static int gated(sim_req *rq, sim_resp *rs)
{
    if (!v1_gate(rq, rs))
        return 0;
    if (path_split(rq->path, v1_seg, 8) < 0)
        memset(v1_seg, 0, sizeof v1_seg);
    return rq->handler(rq, rs);
}

static int h_unknown(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    v1_error(rs, 404, "No HTTP resource was found that matches the request URI.");
    return 0;
}

static const struct {
    const char *method, *pattern;
    sim_handler h;
} ROUTES[] = {
    {"GET", "/orders", v1_h_orders_list},
    {"POST", "/orders/createorder", v1_h_createorder},
    {"POST", "/orders/createorders", v1_h_createorders},
    {"POST", "/orders/markasshipped", v1_h_markasshipped},
    {"GET", "/orders/{id}", v1_h_order_get},
    {"GET", "/fulfillments", v1_h_fulfillments_list},
    {"GET", "/shipments", h_shipments_list},
    {"GET", "/products", h_products_list},
    {"GET", "/products/{id}", h_product_get},
    {"PUT", "/products/{id}", h_product_put},
    {"POST", "/webhooks/subscribe", h_subscribe},
    {"GET", "/webhooks", h_webhooks_list},
    {"DELETE", "/webhooks/{id}", h_webhook_delete},
};

static int matches(const char *pattern, char seg[][96], int n)
{
    char ps[8][96];
    if (path_split(pattern, ps, 8) != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(ps[i], "{id}") && strcmp(ps[i], seg[i]))
            return 0;
    return 1;
}

sim_handler route_v1(sim_req *rq)
{
    static const char *const ROOTS[] = {"orders", "shipments", "fulfillments", "products", "webhooks", NULL};
    char seg[8][96];
    int n = path_split(rq->path, seg, 8);
    if (n < 1 || !v1_in_list(seg[0], ROOTS))
        return NULL;
    rq->system = '1';
    rq->handler = h_unknown;
    snprintf(rq->label, sizeof rq->label, "V1 %s (unrouted)", rq->method);
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (strcmp(ROUTES[i].method, rq->method) == 0 && matches(ROUTES[i].pattern, seg, n)) {
            /* /orders/createorder must not be read as /orders/{id} */
            if (strcmp(ROUTES[i].pattern, "/orders/{id}") == 0 && strspn(seg[1], "0123456789") != strlen(seg[1]))
                continue;
            rq->handler = ROUTES[i].h;
            snprintf(rq->label, sizeof rq->label, "%s %s", rq->method, ROUTES[i].pattern);
            break;
        }
    }
    return gated;
}

