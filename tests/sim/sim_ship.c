/*
 * sim_ship.c: what happens in the warehouse, driven by the admin API: POST /admin/ship
 * buys labels for V2 shipments (status label_purchased, a label with tracking number
 * and carrier code) and ships V1 orders (status shipped, a V1 shipment), optionally only
 * a fraction of each line (the rest is split into a new pending shipment / order) and
 * optionally voided at once; POST /admin/void voids labels; POST /admin/deliver marks
 * V2 labels delivered. Each fires the webhooks ShipStation would.
 *
 * Not here: the API endpoints that read the results (sim_v1.c, sim_v2.c).
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *ss(void) { return cJSON_GetObjectItem(SIM->st, "shipstation"); }
static cJSON *v2(void) { return jobj(ss(), "v2"); }
static cJSON *v1(void) { return jobj(ss(), "v1"); }

static cJSON *find_by(cJSON *arr, const char *k, const char *v) { return state_lookup(arr, k, v); }

static cJSON *find_num(cJSON *arr, const char *k, double v) { return state_lookup_num(arr, k, v); }

static void tracking_number(const char *carrier, char *out, size_t n)
{
    static const char al[] = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
    uint64_t r = rng_next(&SIM->misc_rng), r2 = rng_next(&SIM->misc_rng);
    if (strcmp(carrier, "ups") == 0) {
        char t[17];
        for (int i = 0; i < 16; i++) {
            t[i] = al[(r ^ (r2 >> i)) % (sizeof al - 1)];
            r /= 7;
        }
        t[16] = 0;
        snprintf(out, n, "1Z%s", t);
    } else if (strcmp(carrier, "fedex") == 0)
        snprintf(out, n, "%012llu", (unsigned long long)(r % 1000000000000ULL));
    else
        snprintf(out, n, "9400%09llu%09llu", (unsigned long long)(r % 1000000000ULL),
                 (unsigned long long)(r2 % 1000000000ULL));
}

static long shipped_part(long q, double fraction)
{
    if (fraction <= 0 || fraction >= 1)
        return q;
    long s = (long)floor((double)q * fraction);
    if (s < 1)
        s = 1;
    return s > q ? q : s;
}

static void skip(cJSON *out, const char *id, const char *why)
{
    cJSON *s = cJSON_CreateObject();
    jset_str(s, "id", id);
    jset_str(s, "reason", why);
    cJSON_AddItemToArray(jarr(out, "skipped"), s);
}

static void unique_suffix(cJSON *arr, const char *key, const char *base, char *out, size_t n)
{
    for (int i = 2;; i++) {
        snprintf(out, n, "%.44s-%d", base, i);
        if (!find_by(arr, key, out))
            return;
    }
}

/* ---- V2 ---- */

/* splits items into shipped and remaining quantities; returns 1 if something remains */
static int split_items(cJSON *items, cJSON *rest, double fraction, const char *qty_key)
{
    int remains = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, items) {
        long q = (long)jnum(it, qty_key, 0), s = shipped_part(q, fraction);
        if (q - s > 0) {
            cJSON *r = cJSON_Duplicate(it, 1);
            jset_num(r, qty_key, (double)(q - s));
            cJSON_AddItemToArray(rest, r);
            remains = 1;
        }
        jset_num(it, qty_key, (double)s);
    }
    return remains;
}

static void v2_split_rest(cJSON *s, cJSON *rest_items)
{
    cJSON *in = jclean_copy(s);
    static const char *const DROP[] = {"shipment_id", "created_at", "modified_at", "total_weight",
                                       "shipment_status", "ship_date", NULL};
    for (const char *const *k = DROP; *k; k++)
        cJSON_DeleteItemFromObject(in, *k);
    jset(in, "items", rest_items);
    const char *ext = jstr(s, "external_shipment_id");
    if (ext) {
        char e[64];
        unique_suffix(jarr(v2(), "shipments"), "external_shipment_id", ext, e, sizeof e);
        jset_str(in, "external_shipment_id", e);
    }
    v2_shipment_new(in);
    cJSON_Delete(in);
}

static cJSON *v2_label(cJSON *s, const char *carrier_id, const char *carrier_code, double now)
{
    cJSON *l = cJSON_CreateObject(), *cost = cJSON_CreateObject();
    char id[32], tn[40], t[40], url[160];
    fresh_se_id(id, sizeof id, "v2_label", 9000000, jarr(v2(), "labels"), "label_id");
    tracking_number(carrier_code, tn, sizeof tn);
    fmt_rfc3339(now, t);
    jset_str(l, "label_id", id);
    jset_str(l, "status", "completed");
    jset_str(l, "shipment_id", jstr(s, "shipment_id"));
    jset(l, "external_shipment_id", cJSON_Duplicate(cJSON_GetObjectItem(s, "external_shipment_id"), 1));
    jset(l, "external_order_id", cJSON_Duplicate(cJSON_GetObjectItem(s, "external_order_id"), 1));
    jset_str(l, "ship_date", t);
    jset_str(l, "created_at", t);
    jset_num(cost, "amount", 7.5 + (double)(rng_next(&SIM->misc_rng) % 2000) / 100.0);
    jset_str(cost, "currency", "usd");
    jset(l, "shipment_cost", cost);
    cJSON *ins = cJSON_CreateObject();
    jset_num(ins, "amount", 0);
    jset_str(ins, "currency", "usd");
    jset(l, "insurance_cost", ins);
    jset_str(l, "tracking_number", tn);
    jset_bool(l, "is_return_label", 0);
    jset_str(l, "batch_id", "");
    jset_str(l, "carrier_id", carrier_id);
    jset_str(l, "carrier_code", carrier_code);
    /* V2 creates carry no service (the contract declares none): the carrier's default */
    cJSON *car = find_by(jarr(ss(), "carriers"), "carrier_id", carrier_id);
    const char *svc = jstr(s, "service_code") ? jstr(s, "service_code") : jstr(car, "default_service_code");
    jset_str(l, "service_code", svc ? svc : "ground");
    jset_str(l, "package_code", "package");
    jset_bool(l, "voided", 0);
    jset(l, "voided_at", cJSON_CreateNull());
    jset_bool(l, "trackable", 1);
    jset_str(l, "tracking_status", "in_transit");
    snprintf(url, sizeof url, "%s/v2/downloads/1/%s.pdf", SIM->base_url, id);
    cJSON *dl = cJSON_CreateObject();
    jset_str(dl, "href", url);
    jset_str(dl, "pdf", url);
    jset(l, "label_download", dl);
    jset(l, "packages", cJSON_Duplicate(cJSON_GetObjectItem(s, "packages"), 1));
    jset(l, "ship_to", cJSON_Duplicate(cJSON_GetObjectItem(s, "ship_to"), 1));
    jset_num_front(l, "_created", now);
    jset_num_front(l, "_seq", (double)next_id("seq"));
    cJSON_AddItemToArray(jarr(v2(), "labels"), l);
    return l;
}

static void carrier_of(cJSON *s, const char **id, const char **code)
{
    cJSON *cars = jarr(ss(), "carriers");
    cJSON *c = find_by(cars, "carrier_id", jstr(s, "carrier_id"));
    if (!c)
        c = cJSON_GetArrayItem(cars, 0);
    *id = c ? jstrs(c, "carrier_id") : "se-0";
    *code = c && jstr(c, "carrier_code") ? jstr(c, "carrier_code") : "ups";
}

static void v2_ship(cJSON *s, double fraction, int voided, cJSON *out)
{
    const char *st = jstrs(s, "shipment_status");
    if (strcmp(st, "pending") && strcmp(st, "processing")) {
        skip(out, jstr(s, "shipment_id"), "shipment is not pending");
        return;
    }
    double now = sim_now();
    cJSON *rest = cJSON_CreateArray();
    if (split_items(cJSON_GetObjectItem(s, "items"), rest, fraction, "quantity"))
        v2_split_rest(s, rest);
    else
        cJSON_Delete(rest);
    const char *cid, *ccode;
    carrier_of(s, &cid, &ccode);
    cJSON *l = v2_label(s, cid, ccode, now);
    char t[40], res[160];
    fmt_rfc3339(now, t);
    jset_str(s, "shipment_status", "label_purchased");
    jset_str(s, "ship_date", t);
    jset_str(s, "modified_at", t);
    jset_num_front(s, "_modified", now);
    if (!jstr(s, "carrier_id"))
        jset_str(s, "carrier_id", cid);
    snprintf(res, sizeof res, "/v2/labels/%s", jstr(l, "label_id"));
    webhook_fire("v2", "label_created_v2", res, NULL);
    snprintf(res, sizeof res, "/v2/labels?shipment_id=%s", jstr(s, "shipment_id"));
    webhook_fire("v2", "fulfillment_shipped_v2", res, NULL);
    if (voided)
        v2_label_void(l);
    cJSON *r = cJSON_CreateObject();
    jset_str(r, "system", "v2");
    jset_str(r, "shipment_id", jstr(s, "shipment_id"));
    jset_str(r, "label_id", jstr(l, "label_id"));
    jset_str(r, "tracking_number", jstr(l, "tracking_number"));
    jset_str(r, "carrier_code", ccode);
    jset_bool(r, "voided", voided);
    cJSON_AddItemToArray(jarr(out, "shipped"), r);
}

/* ---- V1 ---- */

static void v1_split_rest(cJSON *o, cJSON *rest_items)
{
    cJSON *n = jclean_copy(o);
    char key[64], t[40];
    long id = fresh_id("v1_order", 400000, jarr(v1(), "orders"), "orderId");
    double now = sim_now();
    fmt_pacific(now, t);
    unique_suffix(jarr(v1(), "orders"), "orderKey", jstr(o, "orderKey") ? jstr(o, "orderKey") : "order", key,
                  sizeof key);
    jset_num(n, "orderId", (double)id);
    jset_str(n, "orderKey", key);
    jset_str(n, "orderStatus", "awaiting_shipment");
    jset(n, "items", rest_items);
    jset_str(n, "createDate", t);
    jset_str(n, "modifyDate", t);
    cJSON *adv = jobj(n, "advancedOptions");
    jset_bool(adv, "mergedOrSplit", 1);
    jset_num(adv, "parentId", jnum(o, "orderId", 0));
    jset_bool(jobj(o, "advancedOptions"), "mergedOrSplit", 1);
    jset_num_front(n, "_created", now);
    jset_num_front(n, "_modified", now);
    jset_num_front(n, "_seq", (double)next_id("seq"));
    cJSON_AddItemToArray(jarr(v1(), "orders"), n);
}

static cJSON *v1_items(cJSON *o, const char *created)
{
    cJSON *a = cJSON_CreateArray(), *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "items")) {
        cJSON *c = cJSON_Duplicate(it, 1);
        if (!cJSON_GetObjectItem(c, "createDate"))
            jset_str(c, "createDate", created);
        cJSON_AddItemToArray(a, c);
    }
    return a;
}

static cJSON *v1_shipment(cJSON *o, const char *batch, double now)
{
    cJSON *s = cJSON_CreateObject();
    char t[40], shipdate[16], tn[40];
    const char *carrier = jstr(o, "carrierCode") ? jstr(o, "carrierCode") : "ups";
    fmt_pacific(now, t);
    snprintf(shipdate, sizeof shipdate, "%.10s", t);
    tracking_number(carrier, tn, sizeof tn);
    jset_num(s, "shipmentId", (double)fresh_id("v1_shipment", 600000, jarr(v1(), "shipments"), "shipmentId"));
    jset_num(s, "orderId", jnum(o, "orderId", 0));
    jset_str(s, "orderKey", jstr(o, "orderKey"));
    jset(s, "userId", cJSON_CreateNull());
    jset(s, "customerEmail", cJSON_Duplicate(cJSON_GetObjectItem(o, "customerEmail"), 1));
    jset_str(s, "orderNumber", jstr(o, "orderNumber"));
    jset_str(s, "createDate", t);
    jset_str(s, "shipDate", shipdate);
    jset_num(s, "shipmentCost", 7.5 + (double)(rng_next(&SIM->misc_rng) % 2000) / 100.0);
    jset_num(s, "insuranceCost", 0);
    jset_str(s, "trackingNumber", tn);
    jset_bool(s, "isReturnLabel", 0);
    jset_str(s, "batchNumber", batch);
    jset_str(s, "carrierCode", carrier);
    jset_str(s, "serviceCode", jstr(o, "serviceCode") ? jstr(o, "serviceCode") : "ups_ground");
    jset_str(s, "packageCode", "package");
    jset_str(s, "confirmation", "none");
    jset_num(s, "warehouseId", jnum(cJSON_GetObjectItem(o, "advancedOptions"), "warehouseId", 0));
    jset_bool(s, "voided", 0);
    jset(s, "voidDate", cJSON_CreateNull());
    jset_bool(s, "marketplaceNotified", 0);
    jset(s, "notifyErrorMessage", cJSON_CreateNull());
    jset(s, "shipTo", cJSON_Duplicate(cJSON_GetObjectItem(o, "shipTo"), 1));
    jset(s, "weight", cJSON_Duplicate(cJSON_GetObjectItem(o, "weight"), 1));
    jset(s, "dimensions", cJSON_Duplicate(cJSON_GetObjectItem(o, "dimensions"), 1));
    jset(s, "insuranceOptions", cJSON_Duplicate(cJSON_GetObjectItem(o, "insuranceOptions"), 1));
    jset(s, "advancedOptions", cJSON_Duplicate(cJSON_GetObjectItem(o, "advancedOptions"), 1));
    jset(s, "_items", v1_items(o, t));
    jset(s, "labelData", cJSON_CreateNull());
    jset(s, "formData", cJSON_CreateNull());
    jset_str(s, "_batch", batch);
    jset_num_front(s, "_created", now);
    jset_num_front(s, "_ship", now);
    jset_num_front(s, "_seq", (double)next_id("seq"));
    cJSON_AddItemToArray(jarr(v1(), "shipments"), s);
    return s;
}

void v1_shipment_void(cJSON *s)
{
    char t[40];
    double now = sim_now();
    fmt_pacific(now, t);
    jset_bool(s, "voided", 1);
    jset_str(s, "voidDate", t);
    jset_num_front(s, "_void", now);
    cJSON *o = find_num(jarr(v1(), "orders"), "orderId", jnum(s, "orderId", -1));
    if (o) {
        jset_str(o, "orderStatus", "awaiting_shipment");
        jset_str(o, "modifyDate", t);
        jset_num_front(o, "_modified", now);
    }
}

static void v1_ship(cJSON *o, double fraction, int voided, const char *batch, cJSON *out)
{
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%.0f", jnum(o, "orderId", 0));
    if (strcmp(jstrs(o, "orderStatus"), "awaiting_shipment") != 0) {
        skip(out, idbuf, "order is not awaiting_shipment");
        return;
    }
    double now = sim_now();
    cJSON *rest = cJSON_CreateArray();
    if (split_items(cJSON_GetObjectItem(o, "items"), rest, fraction, "quantity"))
        v1_split_rest(o, rest);
    else
        cJSON_Delete(rest);
    cJSON *s = v1_shipment(o, batch, now);
    char t[40];
    fmt_pacific(now, t);
    jset_str(o, "orderStatus", "shipped");
    jset_str(o, "shipDate", jstr(s, "shipDate"));
    jset_str(o, "modifyDate", t);
    jset_num_front(o, "_modified", now);
    if (voided)
        v1_shipment_void(s);
    cJSON *r = cJSON_CreateObject();
    jset_str(r, "system", "v1");
    jset_num(r, "orderId", jnum(o, "orderId", 0));
    jset_num(r, "shipmentId", jnum(s, "shipmentId", 0));
    jset_str(r, "tracking_number", jstr(s, "trackingNumber"));
    jset_str(r, "carrier_code", jstr(s, "carrierCode"));
    jset_bool(r, "voided", voided);
    cJSON_AddItemToArray(jarr(out, "shipped"), r);
}

/* ---- admin operations ---- */

static void fire_v1_batch(const char *batch)
{
    char res[200];
    snprintf(res, sizeof res, "/shipments?batchId=%s&includeShipmentItems=False", batch);
    webhook_fire("v1", "SHIP_NOTIFY", res, NULL);
    snprintf(res, sizeof res, "/shipments?batchId=%s&includeShipmentItems=True", batch);
    webhook_fire("v1", "ITEM_SHIP_NOTIFY", res, NULL);
}

int ship_admin(cJSON *req, cJSON *out, char *err, size_t errlen)
{
    int all = jbool(req, "all", 0), voided = jbool(req, "void", 0);
    double fraction = jnum(req, "fraction", 1);
    cJSON *ids = cJSON_GetObjectItem(req, "ids"), *e;
    if (!all && !cJSON_IsArray(ids)) {
        snprintf(err, errlen, "give {\"all\":true} or {\"ids\":[...]}");
        return -1;
    }
    if (fraction <= 0 || fraction > 1) {
        snprintf(err, errlen, "fraction must be in (0, 1]");
        return -1;
    }
    char batch[37];
    make_uuid(batch);
    jarr(out, "shipped");
    jarr(out, "skipped");
    int v1_count = 0;
    if (all) {
        /* split rests are appended while we walk: ship only what existed at the start */
        cJSON *arr = jarr(v2(), "shipments"), *last = arr->child ? arr->child->prev : NULL;
        for (cJSON *s = arr->child, *next; s; s = next) {
            next = s == last ? NULL : s->next;
            if (!strcmp(jstrs(s, "shipment_status"), "pending") || !strcmp(jstrs(s, "shipment_status"), "processing"))
                v2_ship(s, fraction, voided, out);
        }
        arr = jarr(v1(), "orders");
        last = arr->child ? arr->child->prev : NULL;
        for (cJSON *o = arr->child, *next; o; o = next) {
            next = o == last ? NULL : o->next;
            if (!strcmp(jstrs(o, "orderStatus"), "awaiting_shipment")) {
                v1_ship(o, fraction, voided, batch, out);
                v1_count++;
            }
        }
    } else {
        cJSON_ArrayForEach(e, ids) {
            char id[64];
            if (cJSON_IsNumber(e))
                snprintf(id, sizeof id, "%.0f", e->valuedouble);
            else
                snprintf(id, sizeof id, "%s", cJSON_IsString(e) ? e->valuestring : "");
            cJSON *s = find_by(jarr(v2(), "shipments"), "shipment_id", id);
            cJSON *o = s ? NULL : find_num(jarr(v1(), "orders"), "orderId", atof(id));
            if (s)
                v2_ship(s, fraction, voided, out);
            else if (o && id[0]) {
                v1_ship(o, fraction, voided, batch, out);
                v1_count++;
            } else
                skip(out, id, "no such V2 shipment or V1 order");
        }
    }
    if (v1_count)
        fire_v1_batch(batch);
    jset_str(out, "batch_id", batch);
    return 0;
}

int void_admin(cJSON *req, cJSON *out, char *err, size_t errlen)
{
    cJSON *ids = cJSON_GetObjectItem(req, "ids"), *e;
    if (!cJSON_IsArray(ids)) {
        snprintf(err, errlen, "give {\"ids\":[...]} (V2 label or shipment ids, V1 shipment or order ids)");
        return -1;
    }
    jarr(out, "voided");
    jarr(out, "skipped");
    cJSON_ArrayForEach(e, ids) {
        char id[64];
        int hit = 0;
        if (cJSON_IsNumber(e))
            snprintf(id, sizeof id, "%.0f", e->valuedouble);
        else
            snprintf(id, sizeof id, "%s", cJSON_IsString(e) ? e->valuestring : "");
        cJSON *l;
        cJSON_ArrayForEach(l, jarr(v2(), "labels")) {
            if (jbool(l, "voided", 0) || (strcmp(jstrs(l, "label_id"), id) && strcmp(jstrs(l, "shipment_id"), id)))
                continue;
            v2_label_void(l);
            cJSON_AddItemToArray(jarr(out, "voided"), cJSON_CreateString(jstr(l, "label_id")));
            hit = 1;
        }
        double num = atof(id);
        cJSON *s;
        cJSON_ArrayForEach(s, jarr(v1(), "shipments")) {
            if (!id[0] || jbool(s, "voided", 0) || (jnum(s, "shipmentId", -1) != num && jnum(s, "orderId", -1) != num))
                continue;
            v1_shipment_void(s);
            cJSON_AddItemToArray(jarr(out, "voided"), cJSON_CreateNumber(jnum(s, "shipmentId", 0)));
            hit = 1;
        }
        if (!hit)
            skip(out, id, "nothing to void");
    }
    return 0;
}

int deliver_admin(cJSON *req, cJSON *out, char *err, size_t errlen)
{
    int all = jbool(req, "all", 0);
    cJSON *ids = cJSON_GetObjectItem(req, "ids"), *l, *e;
    if (!all && !cJSON_IsArray(ids)) {
        snprintf(err, errlen, "give {\"all\":true} or {\"ids\":[...]} (V2 label or shipment ids)");
        return -1;
    }
    jarr(out, "delivered");
    cJSON_ArrayForEach(l, jarr(v2(), "labels")) {
        if (jbool(l, "voided", 0) || !strcmp(jstrs(l, "tracking_status"), "delivered"))
            continue;
        int want = all;
        cJSON_ArrayForEach(e, ids) if (cJSON_IsString(e) && (!strcmp(e->valuestring, jstrs(l, "label_id")) ||
                                                             !strcmp(e->valuestring, jstrs(l, "shipment_id")))) want = 1;
        if (!want)
            continue;
        char t[40];
        fmt_rfc3339(sim_now(), t);
        jset_str(l, "tracking_status", "delivered");
        jset_str(l, "_delivered_at", t); /* internal: the label schema has no such field */
        cJSON *d = cJSON_CreateObject();
        jset_str(d, "tracking_number", jstr(l, "tracking_number"));
        jset_str(d, "status_code", "DE");
        jset_str(d, "carrier_code", jstr(l, "carrier_code"));
        jset_str(d, "status_description", "Delivered");
        char res[120];
        snprintf(res, sizeof res, "/v2/labels/%s/track", jstr(l, "label_id"));
        webhook_fire("v2", "track_event_v2", res, d);
        cJSON_AddItemToArray(jarr(out, "delivered"), cJSON_CreateString(jstr(l, "label_id")));
    }
    return 0;
}
