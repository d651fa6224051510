/*
 * sim_v1.c: ShipStation API V1 (ssapi.shipstation.com) as shipstation.md describes it:
 * HTTP Basic key:secret, 40 requests per minute per key in fixed windows with
 * X-Rate-Limit-Limit/Remaining/Reset on every response, naive Pacific dates with 7
 * fractional digits, ASP.NET-style error bodies (Message/ModelState), and the endpoints
 * mlc uses: /orders (list, get), /orders/createorder (upsert by orderKey; shipped and
 * cancelled orders refuse updates), /orders/createorders (array of at most 100,
 * per-order results), /shipments (create/ship/void date filters, includeShipmentItems),
 * /products (list, get, PUT whole resource), /webhooks/subscribe, /webhooks.
 *
 * Not here: shipping orders (sim_ship.c), webhook delivery (sim_webhook.c).
 */
#include "sim_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *ss(void) { return cJSON_GetObjectItem(SIM->st, "shipstation"); }
static cJSON *v1(void) { return jobj(ss(), "v1"); }
static char SEG[8][96];

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

static cJSON *find_num(cJSON *arr, const char *k, double v)
{
    cJSON *e;
    cJSON_ArrayForEach(e, arr) if (jnum(e, k, -1) == v) return e;
    return NULL;
}

static int in_list(const char *v, const char *const *l)
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

typedef struct v1_list {
    long page, size;
    int desc;
    const char *sort_key;
} v1_list;

static int date_arg(sim_req *rq, sim_resp *rs, const char *name, double *out, double dflt)
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

static int list_parse(sim_req *rq, sim_resp *rs, v1_list *l, const char *const *sorts, const char *const *keys)
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

static void envelope(sim_resp *rs, const char *name, cJSON **items, size_t n, const v1_list *l,
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

/* ---- orders ---- */

static const char *const STATUSES[] = {"awaiting_payment", "awaiting_shipment", "pending_fulfillment",
                                       "shipped", "on_hold", "cancelled", NULL};

static int h_orders_list(sim_req *rq, sim_resp *rs)
{
    static const char *const SORTS[] = {"OrderDate", "ModifyDate", "CreateDate", NULL};
    static const char *const KEYS[] = {"_order", "_modified", "_created"};
    v1_list l;
    double cs, ce, ms, me, os, oe;
    if (!list_parse(rq, rs, &l, SORTS, KEYS) || !date_arg(rq, rs, "createDateStart", &cs, -1e18) ||
        !date_arg(rq, rs, "createDateEnd", &ce, 1e18) || !date_arg(rq, rs, "modifyDateStart", &ms, -1e18) ||
        !date_arg(rq, rs, "modifyDateEnd", &me, 1e18) || !date_arg(rq, rs, "orderDateStart", &os, -1e18) ||
        !date_arg(rq, rs, "orderDateEnd", &oe, 1e18))
        return 0;
    const char *st = req_arg(rq, "orderStatus"), *num = req_arg(rq, "orderNumber");
    const char *name = req_arg(rq, "customerName"), *store = req_arg(rq, "storeId");
    const char *batch = req_arg(rq, "importBatch");
    if (st && !in_list(st, STATUSES)) {
        v1_modelstate(rs, "orderStatus", "The value is not valid for orderStatus.");
        return 0;
    }
    cJSON *arr = jarr(v1(), "orders"), *o;
    cJSON **items = malloc(sizeof(cJSON *) * (size_t)(cJSON_GetArraySize(arr) + 1));
    size_t n = 0;
    cJSON_ArrayForEach(o, arr) {
        double c = jnum(o, "_created", 0), m = jnum(o, "_modified", 0), od = jnum(o, "_order", 0);
        if (c < cs || c > ce || m < ms || m > me || od < os || od > oe)
            continue;
        if (st && strcmp(st, jstrs(o, "orderStatus")) != 0)
            continue;
        if (num && !str_has_prefix(jstrs(o, "orderNumber"), num))
            continue;
        if (name && !strcasestr(jstrs(cJSON_GetObjectItem(o, "shipTo"), "name"), name))
            continue;
        if (store && jnum(cJSON_GetObjectItem(o, "advancedOptions"), "storeId", -1) != atof(store))
            continue;
        if (batch && strcmp(batch, jstrs(o, "_batch")) != 0)
            continue;
        items[n++] = o;
    }
    envelope(rs, "orders", items, n, &l, NULL, rq);
    free(items);
    return 0;
}

static int h_order_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *o = find_num(jarr(v1(), "orders"), "orderId", atof(SEG[1]));
    if (!o)
        v1_error(rs, 404, "The requested order could not be found.");
    else
        resp_json(rs, 200, jclean_copy(o));
    return 0;
}

static const char *const ADDR[] = {"name", "company", "street1", "street2", "street3", "city", "state",
                                   "postalCode", "country", "phone", NULL};

static int check_bool(const cJSON *o, const char *k, const char *path, char *key, size_t kl)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    if (v && !cJSON_IsBool(v) && !cJSON_IsNull(v)) {
        snprintf(key, kl, "%s.%s", path, k);
        return 0;
    }
    return 1;
}

static cJSON *norm_address(const cJSON *a)
{
    cJSON *n = cJSON_CreateObject();
    for (const char *const *k = ADDR; *k; k++) {
        const cJSON *v = cJSON_GetObjectItem(a, *k);
        jset(n, *k, cJSON_IsString(v) ? cJSON_CreateString(v->valuestring) : cJSON_CreateNull());
    }
    const cJSON *r = cJSON_GetObjectItem(a, "residential");
    jset(n, "residential", cJSON_IsBool(r) ? cJSON_Duplicate(r, 1) : cJSON_CreateNull());
    jset_str(n, "addressVerified", "Address not yet validated");
    return n;
}

/* returns NULL when valid, else the ModelState key and message */
static const char *validate_order(const cJSON *o, const char *p, char *key, size_t kl, int bulk)
{
    static const char *const REQ[] = {"orderNumber", "orderDate", "orderStatus", "billTo", "shipTo", NULL};
    for (const char *const *k = REQ; *k; k++) {
        const cJSON *v = cJSON_GetObjectItem(o, *k);
        if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0])) {
            snprintf(key, kl, "%s.%s", p, *k);
            return "The field is required.";
        }
    }
    const char *num = jstr(o, "orderNumber"), *st = jstr(o, "orderStatus");
    double t;
    if (!num || strlen(num) > 50)
        return snprintf(key, kl, "%s.orderNumber", p), "orderNumber must be a string of at most 50 characters.";
    if (!jstr(o, "orderDate") || parse_pacific(jstr(o, "orderDate"), &t) != 0)
        return snprintf(key, kl, "%s.orderDate", p), "The value is not a valid date.";
    if (!in_list(st, STATUSES) || (!bulk && strcmp(st, "pending_fulfillment") == 0))
        return snprintf(key, kl, "%s.orderStatus", p), "The value is not valid for orderStatus.";
    if (!cJSON_IsObject(cJSON_GetObjectItem(o, "billTo")) || !cJSON_IsObject(cJSON_GetObjectItem(o, "shipTo")))
        return snprintf(key, kl, "%s.shipTo", p), "billTo and shipTo must be address objects.";
    if (!check_bool(o, "gift", p, key, kl) || !check_bool(cJSON_GetObjectItem(o, "shipTo"), "residential", p, key, kl))
        return "Booleans must be true or false.";
    const cJSON *items = cJSON_GetObjectItem(o, "items"), *it;
    if (items && !cJSON_IsArray(items) && !cJSON_IsNull(items))
        return snprintf(key, kl, "%s.items", p), "items must be an array.";
    cJSON_ArrayForEach(it, items) {
        const cJSON *q = cJSON_GetObjectItem(it, "quantity");
        if (!cJSON_IsObject(it) || (q && (!cJSON_IsNumber(q) || q->valuedouble != (double)(long)q->valuedouble)))
            return snprintf(key, kl, "%s.items.quantity", p), "quantity must be an integer.";
    }
    const cJSON *w = cJSON_GetObjectItem(o, "weight");
    static const char *const UNITS[] = {"pounds", "ounces", "grams", NULL};
    if (w && !cJSON_IsNull(w) && (!cJSON_IsObject(w) || !in_list(jstr(w, "units"), UNITS)))
        return snprintf(key, kl, "%s.weight.units", p), "units must be pounds, ounces or grams.";
    const char *ad = jstr(cJSON_GetObjectItem(o, "advancedOptions"), "billToParty");
    static const char *const PARTY[] = {"my_account", "my_other_account", "recipient", "third_party", NULL};
    if (ad && !in_list(ad, PARTY))
        return snprintf(key, kl, "%s.advancedOptions.billToParty", p), "The value is not valid for billToParty.";
    return NULL;
}

static cJSON *norm_items(const cJSON *items, const char *t)
{
    cJSON *a = cJSON_CreateArray(), *it;
    cJSON_ArrayForEach(it, items) {
        cJSON *n = cJSON_Duplicate(it, 1);
        if (!cJSON_GetObjectItem(n, "orderItemId"))
            jset_num(n, "orderItemId", (double)(800000 + next_id("v1_item")));
        static const char *const NULLS[] = {"lineItemKey", "sku", "name", "imageUrl", "weight", "unitPrice",
                                            "taxAmount", "shippingAmount", "warehouseLocation", "productId",
                                            "fulfillmentSku", "upc", NULL};
        for (const char *const *k = NULLS; *k; k++)
            if (!cJSON_GetObjectItem(n, *k))
                jset(n, *k, cJSON_CreateNull());
        if (!cJSON_GetObjectItem(n, "quantity"))
            jset_num(n, "quantity", 0);
        if (!cJSON_GetObjectItem(n, "options"))
            jset(n, "options", cJSON_CreateArray());
        jset_bool(n, "adjustment", jbool(n, "adjustment", 0));
        jset_str(n, "createDate", t);
        jset_str(n, "modifyDate", t);
        cJSON_AddItemToArray(a, n);
    }
    return a;
}

static cJSON *norm_advanced(const cJSON *a)
{
    cJSON *n = cJSON_IsObject(a) ? cJSON_Duplicate(a, 1) : cJSON_CreateObject();
    static const char *const NULLS[] = {"warehouseId", "storeId", "customField1", "customField2", "customField3",
                                        "source", "parentId", "billToParty", "billToAccount", "billToPostalCode",
                                        "billToCountryCode", "billToMyOtherAccount", NULL};
    for (const char *const *k = NULLS; *k; k++)
        if (!cJSON_GetObjectItem(n, *k))
            jset(n, *k, cJSON_CreateNull());
    jset_bool(n, "nonMachinable", jbool(n, "nonMachinable", 0));
    jset_bool(n, "saturdayDelivery", jbool(n, "saturdayDelivery", 0));
    jset_bool(n, "containsAlcohol", jbool(n, "containsAlcohol", 0));
    jset_bool(n, "mergedOrSplit", jbool(n, "mergedOrSplit", 0));
    if (!cJSON_IsArray(cJSON_GetObjectItem(n, "mergedIds")))
        jset(n, "mergedIds", cJSON_CreateArray());
    return n;
}

/* builds the stored order from a request body (validated); old = the order it replaces */
static cJSON *build_order(const cJSON *in, const cJSON *old)
{
    double now = sim_now(), od = now;
    char t[40], o_t[40];
    fmt_pacific(now, t);
    parse_pacific(jstr(in, "orderDate"), &od);
    fmt_pacific(od, o_t);
    cJSON *o = cJSON_Duplicate(in, 1);
    if (old) {
        jset_num(o, "orderId", jnum(old, "orderId", 0));
        jset_str(o, "orderKey", jstr(old, "orderKey"));
        jset_str(o, "createDate", jstr(old, "createDate"));
        jset_num(o, "_created", jnum(old, "_created", now));
        jset_num(o, "_seq", jnum(old, "_seq", 0));
    } else {
        char key[40];
        make_uuid(key);
        jset_num(o, "orderId", (double)(400000 + next_id("v1_order")));
        if (!jstr(in, "orderKey"))
            jset_str(o, "orderKey", key);
        jset_str(o, "createDate", t);
        jset_num(o, "_created", now);
        jset_num(o, "_seq", (double)next_id("seq"));
    }
    jset_str(o, "orderDate", o_t);
    jset_str(o, "modifyDate", t);
    jset_num(o, "_modified", now);
    jset_num(o, "_order", od);
    jset(o, "billTo", norm_address(cJSON_GetObjectItem(in, "billTo")));
    jset(o, "shipTo", norm_address(cJSON_GetObjectItem(in, "shipTo")));
    jset(o, "items", norm_items(cJSON_GetObjectItem(in, "items"), t));
    jset(o, "advancedOptions", norm_advanced(cJSON_GetObjectItem(in, "advancedOptions")));
    static const char *const NULLS[] = {"paymentDate", "shipByDate", "customerId", "customerUsername",
                                        "customerEmail", "orderTotal", "amountPaid", "taxAmount", "shippingAmount",
                                        "customerNotes", "internalNotes", "giftMessage", "paymentMethod",
                                        "requestedShippingService", "carrierCode", "serviceCode", "packageCode",
                                        "confirmation", "shipDate", "holdUntilDate", "weight", "dimensions",
                                        "insuranceOptions", "internationalOptions", "tagIds", "userId",
                                        "externallyFulfilledBy", NULL};
    for (const char *const *k = NULLS; *k; k++)
        if (!cJSON_GetObjectItem(o, *k))
            jset(o, *k, cJSON_CreateNull());
    jset_bool(o, "gift", jbool(o, "gift", 0));
    jset_bool(o, "externallyFulfilled", 0);
    return o;
}

/* ORDER_NOTIFY: orders created together share one import batch and one payload */
static void notify_created(const char *batch, int created)
{
    char res[160];
    if (!created)
        return;
    snprintf(res, sizeof res, "/orders?importBatch=%s", batch);
    webhook_fire("v1", "ORDER_NOTIFY", res, NULL);
    webhook_fire("v1", "ITEM_ORDER_NOTIFY", res, NULL);
}

/* upsert; returns the stored order or NULL with msg set; *created counts new orders
 * that notify (not awaiting_payment) */
static cJSON *upsert(const cJSON *in, char *msg, size_t ml, const char *batch, int *created)
{
    cJSON *arr = jarr(v1(), "orders"), *old = NULL, *e;
    const char *key = jstr(in, "orderKey");
    cJSON_ArrayForEach(e, arr) if (key && strcmp(key, jstrs(e, "orderKey")) == 0) old = e;
    if (!key && cJSON_IsNumber(cJSON_GetObjectItem(in, "orderId"))) /* an update by orderId */
        old = find_num(arr, "orderId", jnum(in, "orderId", -1));
    if (old) {
        const char *st = jstrs(old, "orderStatus");
        if (strcmp(st, "shipped") == 0 || strcmp(st, "cancelled") == 0) {
            snprintf(msg, ml, "Order %s is %s and can no longer be updated.", jstr(old, "orderNumber"), st);
            return NULL;
        }
    }
    cJSON *o = build_order(in, old);
    if (old)
        cJSON_ReplaceItemViaPointer(arr, old, o);
    else {
        cJSON_AddItemToArray(arr, o);
        if (strcmp(jstrs(o, "orderStatus"), "awaiting_payment") != 0) {
            jset_str(o, "_batch", batch);
            (*created)++;
        }
    }
    return o;
}

static int h_createorder(sim_req *rq, sim_resp *rs)
{
    cJSON *b = rq->body ? cJSON_Parse(rq->body) : NULL;
    char key[160], msg[200];
    if (cJSON_IsArray(b)) {
        v1_modelstate(rs, "apiOrder", "Cannot deserialize the current JSON array (e.g. [1,2,3]) into type "
                                      "'SS.OpenApi.Models.Orders.Order' because the type requires a JSON object.");
    } else if (!cJSON_IsObject(b)) {
        v1_modelstate(rs, "apiOrder", "The request body is not valid JSON.");
    } else {
        const char *why = validate_order(b, "apiOrder", key, sizeof key, 0);
        char batch[37];
        int created = 0;
        make_uuid(batch);
        cJSON *o = why ? NULL : upsert(b, msg, sizeof msg, batch, &created);
        notify_created(batch, created);
        if (why)
            v1_modelstate(rs, key, why);
        else if (!o)
            v1_error(rs, 400, msg);
        else
            resp_json(rs, 200, jclean_copy(o));
    }
    cJSON_Delete(b);
    return 0;
}

static int h_createorders(sim_req *rq, sim_resp *rs)
{
    cJSON *b = rq->body ? cJSON_Parse(rq->body) : NULL, *o;
    if (!cJSON_IsArray(b)) {
        v1_modelstate(rs, "apiOrders", "Cannot deserialize the current JSON object into type "
                                       "'SS.OpenApi.Models.Orders.Order[]' because the type requires a JSON array.");
        cJSON_Delete(b);
        return 0;
    }
    if (cJSON_GetArraySize(b) > 100) {
        v1_modelstate(rs, "apiOrders", "A maximum of 100 orders can be created per request.");
        cJSON_Delete(b);
        return 0;
    }
    cJSON *out = cJSON_CreateObject(), *res = cJSON_CreateArray();
    int has_errors = 0, i = 0, created = 0;
    char batch[37];
    make_uuid(batch);
    cJSON_ArrayForEach(o, b) {
        char key[160], msg[200], p[32];
        snprintf(p, sizeof p, "apiOrders[%d]", i++);
        const char *why = cJSON_IsObject(o) ? validate_order(o, p, key, sizeof key, 1) : "each order must be an object";
        cJSON *stored = why ? NULL : upsert(o, msg, sizeof msg, batch, &created);
        cJSON *r = cJSON_CreateObject();
        if (why)
            snprintf(msg, sizeof msg, "%s: %s", why ? key : "", why);
        jset(r, "orderId", stored ? cJSON_CreateNumber(jnum(stored, "orderId", 0)) : cJSON_CreateNull());
        jset(r, "orderNumber", jstr(o, "orderNumber") ? cJSON_CreateString(jstr(o, "orderNumber")) : cJSON_CreateNull());
        jset(r, "orderKey", stored ? cJSON_CreateString(jstr(stored, "orderKey"))
                            : jstr(o, "orderKey") ? cJSON_CreateString(jstr(o, "orderKey")) : cJSON_CreateNull());
        jset_bool(r, "success", stored != NULL);
        jset(r, "errorMessage", stored ? cJSON_CreateNull() : cJSON_CreateString(msg));
        has_errors |= stored == NULL;
        cJSON_AddItemToArray(res, r);
    }
    notify_created(batch, created);
    jset_bool(out, "hasErrors", has_errors);
    jset(out, "results", res);
    cJSON_Delete(b);
    resp_json(rs, 200, out);
    return 0;
}

/* ---- shipments ---- */

static void shape_shipment(cJSON *s, sim_req *rq)
{
    const char *inc = req_arg(rq, "includeShipmentItems");
    cJSON *stored = find_num(jarr(v1(), "shipments"), "shipmentId", jnum(s, "shipmentId", -1));
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
    if (!list_parse(rq, rs, &l, SORTS, KEYS) || !date_arg(rq, rs, "createDateStart", &cs, -1e18) ||
        !date_arg(rq, rs, "createDateEnd", &ce, 1e18) || !date_arg(rq, rs, "shipDateStart", &ss_, -1e18) ||
        !date_arg(rq, rs, "shipDateEnd", &se, 1e18) || !date_arg(rq, rs, "voidDateStart", &vs, -1e18) ||
        !date_arg(rq, rs, "voidDateEnd", &ve, 1e18))
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
    cJSON *arr = jarr(v1(), "shipments"), *s;
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
    envelope(rs, "shipments", items, n, &l, shape_shipment, rq);
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
    if (!list_parse(rq, rs, &l, SORTS, KEYS))
        return 0;
    const char *sku = req_arg(rq, "sku"), *name = req_arg(rq, "name");
    int inactive = str_ieq(req_arg(rq, "showInactive"), "true");
    cJSON *arr = jarr(ss(), "products"), *p;
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
    cJSON *p = find_num(jarr(ss(), "products"), "product_id", atof(SEG[1]));
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
    if (!cJSON_IsObject(b) || !url || !ev || !in_list(ev, EVENTS) ||
        (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        cJSON *j = cJSON_CreateObject();
        jset_str(j, "message", "Invalid request parameters");
        resp_json(rs, 400, j);
        cJSON_Delete(b);
        return 0;
    }
    long id = 50000 + next_id("v1_webhook");
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
    cJSON_AddItemToArray(jarr(v1(), "webhooks"), w);
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
    jset(j, "webhooks", cJSON_Duplicate(jarr(v1(), "webhooks"), 1));
    resp_json(rs, 200, j);
    return 0;
}

static int h_webhook_delete(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *arr = jarr(v1(), "webhooks");
    cJSON *w = find_num(arr, "WebHookID", atof(SEG[1]));
    if (!w) {
        v1_error(rs, 404, "The requested webhook could not be found.");
        return 0;
    }
    cJSON_Delete(cJSON_DetachItemViaPointer(arr, w));
    resp_text(rs, 200, "application/json", "");
    return 0;
}

/* ---- routing ---- */

static int gated(sim_req *rq, sim_resp *rs)
{
    if (!v1_gate(rq, rs))
        return 0;
    if (path_split(rq->path, SEG, 8) < 0)
        memset(SEG, 0, sizeof SEG);
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
    {"GET", "/orders", h_orders_list},
    {"POST", "/orders/createorder", h_createorder},
    {"POST", "/orders/createorders", h_createorders},
    {"GET", "/orders/{id}", h_order_get},
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
    static const char *const ROOTS[] = {"orders", "shipments", "products", "webhooks", NULL};
    char seg[8][96];
    int n = path_split(rq->path, seg, 8);
    if (n < 1 || !in_list(seg[0], ROOTS))
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
