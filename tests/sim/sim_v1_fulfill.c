/*
 * sim_v1_fulfill.c: ShipStation V1 orders shipped outside the label flow, and
 * cancelled: POST /orders/markasshipped (an order awaiting shipment, or on hold,
 * becomes shipped with a fulfillment and no /shipments record), GET /fulfillments
 * with its filters (fulfillmentId, orderId, orderNumber, trackingNumber,
 * recipientName, createDateStart/End, shipDateStart/End, sortBy ShipDate|CreateDate),
 * and the operator's cancel (POST /admin/cancel {"ids":[orderId...]}: the order
 * becomes cancelled, as the ShipStation UI does; createorder with orderStatus
 * cancelled works too). Shapes as ShipStation's V1 documentation shows them
 * (fulfillment: fulfillmentId, orderId, orderNumber, userId, customerEmail,
 * trackingNumber, createDate, shipDate, voidDate, deliveryDate, carrierCode,
 * fulfillmentProviderCode, fulfillmentServiceCode, fulfillmentFee, voidRequested,
 * voided, marketplaceNotified, notifyErrorMessage, shipTo; markasshipped answers
 * {orderId, orderNumber}); dates naive Pacific like the rest of V1.
 *
 * Not here: the label flow (sim_ship.c), other order calls (sim_v1_orders.c).
 */
#include "sim_v1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int v1_h_markasshipped(sim_req *rq, sim_resp *rs)
{
    cJSON *b = rq->body ? cJSON_Parse(rq->body) : NULL;
    const cJSON *id = cJSON_GetObjectItem(b, "orderId");
    double sd = 0;
    const char *ship = jstr(b, "shipDate");
    if (!cJSON_IsObject(b)) {
        v1_modelstate(rs, "apiRequest", "The request body is not valid JSON.");
    } else if (!cJSON_IsNumber(id)) {
        v1_modelstate(rs, "apiRequest.orderId", "The orderId field is required.");
    } else if (!jstr(b, "carrierCode") || !jstr(b, "carrierCode")[0]) {
        v1_modelstate(rs, "apiRequest.carrierCode", "The carrierCode field is required.");
    } else if (ship && parse_pacific(ship, &sd) != 0) {
        v1_modelstate(rs, "apiRequest.shipDate", "The value is not a valid date.");
    } else {
        cJSON *o = v1_find_num(jarr(v1_root(), "orders"), "orderId", id->valuedouble);
        const char *st = o ? jstrs(o, "orderStatus") : "";
        if (!o) {
            v1_error(rs, 404, "The requested order could not be found.");
        } else if (strcmp(st, "awaiting_shipment") && strcmp(st, "on_hold")) {
            char msg[160];
            snprintf(msg, sizeof msg, "Order %s is %s and cannot be marked as shipped.", jstrs(o, "orderNumber"),
                     st);
            v1_error(rs, 400, msg);
        } else {
            double now = sim_now();
            char t[40], d[40];
            fmt_pacific(now, t);
            fmt_pacific(ship ? sd : now, d);
            cJSON *f = cJSON_CreateObject();
            jset_num(f, "fulfillmentId",
                     (double)fresh_id("v1_fulfillment", 33000000, jarr(v1_root(), "fulfillments"), "fulfillmentId"));
            jset_num(f, "orderId", jnum(o, "orderId", 0));
            jset_str(f, "orderNumber", jstrs(o, "orderNumber"));
            jset(f, "userId", cJSON_CreateNull());
            jset(f, "customerEmail", cJSON_Duplicate(cJSON_GetObjectItem(o, "customerEmail"), 1));
            jset(f, "trackingNumber",
                 jstr(b, "trackingNumber") ? cJSON_CreateString(jstr(b, "trackingNumber")) : cJSON_CreateNull());
            jset_str(f, "createDate", t);
            jset_str(f, "shipDate", d);
            jset(f, "voidDate", cJSON_CreateNull());
            jset(f, "deliveryDate", cJSON_CreateNull());
            jset_str(f, "carrierCode", jstr(b, "carrierCode"));
            jset(f, "fulfillmentProviderCode", cJSON_CreateNull());
            jset(f, "fulfillmentServiceCode", cJSON_CreateNull());
            jset_num(f, "fulfillmentFee", 0);
            jset_bool(f, "voidRequested", 0);
            jset_bool(f, "voided", 0);
            jset_bool(f, "marketplaceNotified", jbool(b, "notifySalesChannel", 0));
            jset(f, "notifyErrorMessage", cJSON_CreateNull());
            jset(f, "shipTo", cJSON_Duplicate(cJSON_GetObjectItem(o, "shipTo"), 1));
            jset_num_front(f, "_created", now);
            jset_num_front(f, "_ship", ship ? sd : now);
            jset_num_front(f, "_seq", (double)next_id("seq"));
            cJSON_AddItemToArray(jarr(v1_root(), "fulfillments"), f);
            jset_str(o, "orderStatus", "shipped");
            jset_str(o, "shipDate", d);
            jset_str(o, "modifyDate", t);
            jset_num_front(o, "_modified", now);
            cJSON *r = cJSON_CreateObject();
            jset_num(r, "orderId", jnum(o, "orderId", 0));
            jset_str(r, "orderNumber", jstrs(o, "orderNumber"));
            resp_json(rs, 200, r);
        }
    }
    cJSON_Delete(b);
    return 0;
}

int v1_h_fulfillments_list(sim_req *rq, sim_resp *rs)
{
    static const char *const SORTS[] = {"ShipDate", "CreateDate", NULL};
    static const char *const KEYS[] = {"_ship", "_created"};
    v1_list l;
    double cs, ce, ss, se;
    if (!v1_list_parse(rq, rs, &l, SORTS, KEYS) || !v1_date_arg(rq, rs, "createDateStart", &cs, -1e18) ||
        !v1_date_arg(rq, rs, "createDateEnd", &ce, 1e18) || !v1_date_arg(rq, rs, "shipDateStart", &ss, -1e18) ||
        !v1_date_arg(rq, rs, "shipDateEnd", &se, 1e18))
        return 0;
    const char *fid = req_arg(rq, "fulfillmentId"), *oid = req_arg(rq, "orderId");
    const char *num = req_arg(rq, "orderNumber"), *tn = req_arg(rq, "trackingNumber");
    const char *name = req_arg(rq, "recipientName");
    cJSON *arr = jarr(v1_root(), "fulfillments"), *f;
    cJSON **items = malloc(sizeof(cJSON *) * (size_t)(cJSON_GetArraySize(arr) + 1));
    size_t n = 0;
    cJSON_ArrayForEach(f, arr) {
        double c = jnum(f, "_created", 0), s = jnum(f, "_ship", 0);
        if (c < cs || c > ce || s < ss || s > se)
            continue;
        if ((fid && jnum(f, "fulfillmentId", -1) != atof(fid)) || (oid && jnum(f, "orderId", -1) != atof(oid)) ||
            (num && strcmp(num, jstrs(f, "orderNumber"))) || (tn && strcmp(tn, jstrs(f, "trackingNumber"))) ||
            (name && !strcasestr(jstrs(cJSON_GetObjectItem(f, "shipTo"), "name"), name)))
            continue;
        items[n++] = f;
    }
    v1_envelope(rs, "fulfillments", items, n, &l, NULL, rq);
    free(items);
    return 0;
}

int cancel_admin(cJSON *req, cJSON *out, char *err, size_t errlen)
{
    cJSON *ids = cJSON_GetObjectItem(req, "ids"), *e;
    if (!cJSON_IsArray(ids)) {
        snprintf(err, errlen, "give {\"ids\":[...]} (V1 order ids)");
        return -1;
    }
    jarr(out, "cancelled");
    jarr(out, "skipped");
    cJSON_ArrayForEach(e, ids) {
        double id = cJSON_IsNumber(e) ? e->valuedouble : cJSON_IsString(e) ? atof(e->valuestring) : -1;
        cJSON *o = v1_find_num(jarr(v1_root(), "orders"), "orderId", id);
        const char *st = o ? jstrs(o, "orderStatus") : "";
        if (!o || !strcmp(st, "shipped") || !strcmp(st, "cancelled")) {
            cJSON *s = cJSON_CreateObject();
            jset_num(s, "id", id);
            jset_str(s, "reason", o ? "order is shipped or cancelled already" : "no such V1 order");
            cJSON_AddItemToArray(jarr(out, "skipped"), s);
            continue;
        }
        char t[40];
        double now = sim_now();
        fmt_pacific(now, t);
        jset_str(o, "orderStatus", "cancelled");
        jset_str(o, "modifyDate", t);
        jset_num_front(o, "_modified", now);
        cJSON_AddItemToArray(jarr(out, "cancelled"), cJSON_CreateNumber(id));
    }
    return 0;
}
