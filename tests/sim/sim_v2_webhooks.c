/*
 * sim_v2_webhooks.c: ShipStation V2 environment/webhooks: list (a bare array), create (spec
 * events plus the *_v2 names; the same event and url twice is 409), get, delete.
 *
 * Not here: delivering webhooks (sim_webhook.c).
 */
#include "sim_v2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- webhooks ---- */

static const char *const EVENTS[] = {
    "batch", "carrier_connected", "order_source_refresh_complete", "rate", "report_complete",
    "sales_orders_imported", "track", "batch_processed_v2", "track_event_v2", "shipment_created_v2",
    "label_created_v2", "fulfillment_shipped_v2", "fulfillment_rejected_v2", "fulfillment_created_v2",
    "fulfillment_updated_v2", "fulfillment_canceled_v2", NULL};

int v2_h_webhooks_list(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    cJSON *a = cJSON_CreateArray(), *w;
    cJSON_ArrayForEach(w, jarr(v2_root(), "webhooks")) cJSON_AddItemToArray(a, jclean_copy(w));
    resp_json(rs, 200, a);
    return 0;
}

int v2_h_webhook_create(sim_req *rq, sim_resp *rs)
{
    cJSON *b = v2_body_object(rq, rs), *f;
    if (!b)
        return 0;
    const char *ev = jstr(b, "event"), *url = jstr(b, "url");
    cJSON_ArrayForEach(f, b) {
        if (strcmp(f->string, "event") && strcmp(f->string, "url") && strcmp(f->string, "headers") &&
            strcmp(f->string, "name") && strcmp(f->string, "store_id")) {
            v2_bad_field(rs, "%s is not a known field", f->string);
            cJSON_Delete(b);
            return 0;
        }
    }
    if (!ev || !url)
        v2_error(rs, 400, "validation", "field_value_required", "event and url are required");
    else if (!v2_in_list(ev, EVENTS))
        v2_bad_field(rs, "event '%s' is not a valid webhook event", ev);
    else if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        v2_bad_field(rs, "url '%s' is not a valid URL", url);
    else {
        cJSON *w;
        cJSON_ArrayForEach(w, jarr(v2_root(), "webhooks")) {
            if (strcmp(jstrs(w, "event"), ev) == 0 && strcmp(jstrs(w, "url"), url) == 0) {
                v2_error(rs, 409, "validation", "webhook_event_type_conflict",
                         "A webhook for %s at this url already exists", ev);
                cJSON_Delete(b);
                return 0;
            }
        }
        char id[32];
        fresh_se_id(id, sizeof id, "v2_webhook", 7000, jarr(v2_root(), "webhooks"), "webhook_id");
        w = cJSON_CreateObject();
        jset_str(w, "webhook_id", id);
        jset_str(w, "url", url);
        jset_str(w, "event", ev);
        jset(w, "headers", cJSON_IsArray(cJSON_GetObjectItem(b, "headers"))
                               ? cJSON_Duplicate(cJSON_GetObjectItem(b, "headers"), 1)
                               : cJSON_CreateArray());
        if (jstr(b, "name"))
            jset_str(w, "name", jstr(b, "name"));
        cJSON_AddItemToArray(jarr(v2_root(), "webhooks"), w);
        resp_json(rs, 200, jclean_copy(w));
    }
    cJSON_Delete(b);
    return 0;
}

int v2_h_webhook_one(sim_req *rq, sim_resp *rs)
{
    cJSON *arr = jarr(v2_root(), "webhooks");
    cJSON *w = v2_find_by(arr, "webhook_id", v2_seg[3]);
    if (!w) {
        v2_not_found(rs, "Webhook", v2_seg[3]);
        return 0;
    }
    if (strcmp(rq->method, "DELETE") == 0) {
        cJSON_Delete(cJSON_DetachItemViaPointer(arr, w));
        state_index_forget(arr);
        resp_text(rs, 204, NULL, NULL);
    } else
        resp_json(rs, 200, jclean_copy(w));
    return 0;
}

