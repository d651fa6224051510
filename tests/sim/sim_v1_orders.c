/*
 * sim_v1_orders.c: ShipStation V1 orders: GET /orders with its filters, GET
 * /orders/{id}, POST /orders/createorder (one object; upsert by orderKey or orderId;
 * shipped and cancelled orders refuse updates) and POST /orders/createorders (an array of
 * at most 100, per-order results in an HTTP 200), with the ORDER_NOTIFY webhooks of an
 * import batch.
 *
 * Not here: shipping an order (sim_ship.c), the V1 gate and router (sim_v1.c).
 */
#include "sim_v1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- orders ---- */

static const char *const STATUSES[] = {"awaiting_payment", "awaiting_shipment", "pending_fulfillment",
                                       "shipped", "on_hold", "cancelled", NULL};

int v1_h_orders_list(sim_req *rq, sim_resp *rs)
{
    static const char *const SORTS[] = {"OrderDate", "ModifyDate", "CreateDate", NULL};
    static const char *const KEYS[] = {"_order", "_modified", "_created"};
    v1_list l;
    double cs, ce, ms, me, os, oe;
    if (!v1_list_parse(rq, rs, &l, SORTS, KEYS) || !v1_date_arg(rq, rs, "createDateStart", &cs, -1e18) ||
        !v1_date_arg(rq, rs, "createDateEnd", &ce, 1e18) || !v1_date_arg(rq, rs, "modifyDateStart", &ms, -1e18) ||
        !v1_date_arg(rq, rs, "modifyDateEnd", &me, 1e18) || !v1_date_arg(rq, rs, "orderDateStart", &os, -1e18) ||
        !v1_date_arg(rq, rs, "orderDateEnd", &oe, 1e18))
        return 0;
    const char *st = req_arg(rq, "orderStatus"), *num = req_arg(rq, "orderNumber");
    const char *name = req_arg(rq, "customerName"), *store = req_arg(rq, "storeId");
    const char *batch = req_arg(rq, "importBatch");
    if (st && !v1_in_list(st, STATUSES)) {
        v1_modelstate(rs, "orderStatus", "The value is not valid for orderStatus.");
        return 0;
    }
    cJSON *arr = jarr(v1_root(), "orders"), *o;
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
    v1_envelope(rs, "orders", items, n, &l, NULL, rq);
    free(items);
    return 0;
}

int v1_h_order_get(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *o = v1_find_num(jarr(v1_root(), "orders"), "orderId", atof(v1_seg[1]));
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
    if (!v1_in_list(st, STATUSES) || (!bulk && strcmp(st, "pending_fulfillment") == 0))
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
    if (w && !cJSON_IsNull(w) && (!cJSON_IsObject(w) || !v1_in_list(jstr(w, "units"), UNITS)))
        return snprintf(key, kl, "%s.weight.units", p), "units must be pounds, ounces or grams.";
    const char *ad = jstr(cJSON_GetObjectItem(o, "advancedOptions"), "billToParty");
    static const char *const PARTY[] = {"my_account", "my_other_account", "recipient", "third_party", NULL};
    if (ad && !v1_in_list(ad, PARTY))
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
        jset_num_front(o, "_created", jnum(old, "_created", now));
        jset_num_front(o, "_seq", jnum(old, "_seq", 0));
    } else {
        char key[40];
        make_uuid(key);
        jset_num(o, "orderId", (double)fresh_id("v1_order", 400000, jarr(v1_root(), "orders"), "orderId"));
        if (!jstr(in, "orderKey"))
            jset_str(o, "orderKey", key);
        jset_str(o, "createDate", t);
        jset_num_front(o, "_created", now);
        jset_num_front(o, "_seq", (double)next_id("seq"));
    }
    jset_str(o, "orderDate", o_t);
    jset_str(o, "modifyDate", t);
    jset_num_front(o, "_modified", now);
    jset_num_front(o, "_order", od);
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
    cJSON *arr = jarr(v1_root(), "orders");
    const char *key = jstr(in, "orderKey");
    cJSON *old = key ? state_lookup(arr, "orderKey", key) : NULL;
    if (!key && cJSON_IsNumber(cJSON_GetObjectItem(in, "orderId"))) /* an update by orderId */
        old = v1_find_num(arr, "orderId", jnum(in, "orderId", -1));
    if (old) {
        const char *st = jstrs(old, "orderStatus");
        if (strcmp(st, "shipped") == 0 || strcmp(st, "cancelled") == 0) {
            snprintf(msg, ml, "Order %s is %s and can no longer be updated.", jstr(old, "orderNumber"), st);
            return NULL;
        }
    }
    cJSON *o = build_order(in, old);
    if (old) {
        jreplace_inplace(old, o); /* elements of indexed arrays stay where they are */
        o = old;
    } else {
        cJSON_AddItemToArray(arr, o);
        if (strcmp(jstrs(o, "orderStatus"), "awaiting_payment") != 0) {
            jset_str(o, "_batch", batch);
            (*created)++;
        }
    }
    return o;
}

int v1_h_createorder(sim_req *rq, sim_resp *rs)
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

int v1_h_createorders(sim_req *rq, sim_resp *rs)
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

