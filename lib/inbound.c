/*
 * inbound.c: ShipStation inbound-shipment calls (see inbound.h).
 * Not here: deciding which call to make.
 */
#include "inbound.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const cJSON *v)
{
    if (cJSON_IsString(v))
        snprintf(dst, cap, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(dst, cap, "%.0f", v->valuedouble);
    else
        dst[0] = '\0';
}

static void join_errors(const cJSON *errors, char *buf, size_t cap)
{
    const cJSON *e;
    buf[0] = '\0';
    cJSON_ArrayForEach(e, errors)
    {
        size_t len = strlen(buf);
        const char *msg = cJSON_IsString(e) ? e->valuestring
                          : cJSON_IsString(cJSON_GetObjectItem(e, "message")) ? cJSON_GetObjectItem(e, "message")->valuestring
                                                                             : NULL;
        if (msg)
            snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", msg);
    }
}

mlc_err mlc_inbound_v2_create(mlc_ss *ss, cJSON *const *payloads, size_t n, mlc_inbound_result *results,
                              mlc_error *err)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(body, "shipments");
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemReferenceToArray(arr, payloads[i]);
        memset(&results[i], 0, sizeof results[i]);
        copy_str(results[i].key, sizeof results[i].key, cJSON_GetObjectItem(payloads[i], "external_shipment_id"));
        snprintf(results[i].error, sizeof results[i].error, "no result returned for this shipment");
    }
    mlc_ss_response resp = {0};
    mlc_err rc = mlc_ss_request(ss, MLC_SS_V2, "POST", "/v2/shipments", body, 0, &resp, err);
    cJSON_Delete(body);
    if (rc == MLC_OK) {
        const cJSON *s;
        const cJSON *list = cJSON_GetObjectItem(resp.json, "shipments");
        if (!cJSON_IsArray(list)) {
            mlc_ss_response_free(&resp);
            return mlc_error_set(err, MLC_ERR_REMOTE, "POST /v2/shipments: response has no shipments array");
        }
        cJSON_ArrayForEach(s, list)
        {
            char key[64];
            copy_str(key, sizeof key, cJSON_GetObjectItem(s, "external_shipment_id"));
            for (size_t i = 0; i < n; i++) {
                if (strcmp(results[i].key, key) != 0)
                    continue;
                const cJSON *errors = cJSON_GetObjectItem(s, "errors");
                copy_str(results[i].id, sizeof results[i].id, cJSON_GetObjectItem(s, "shipment_id"));
                copy_str(results[i].status, sizeof results[i].status, cJSON_GetObjectItem(s, "shipment_status"));
                if (cJSON_GetArraySize(errors) > 0 || !results[i].id[0]) {
                    join_errors(errors, results[i].error, sizeof results[i].error);
                    if (!results[i].error[0])
                        snprintf(results[i].error, sizeof results[i].error, "refused without a message");
                } else {
                    results[i].ok = 1;
                    results[i].error[0] = '\0';
                }
                break;
            }
        }
    }
    mlc_ss_response_free(&resp);
    return rc;
}

mlc_err mlc_inbound_v2_find(mlc_ss *ss, const char *key, mlc_inbound_result *r, mlc_error *err)
{
    char path[256];
    char *esc = curl_easy_escape(NULL, key, 0);
    if (!esc)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "/v2/shipments/external_shipment_id/%s", esc);
    curl_free(esc);
    mlc_ss_response resp = {0};
    memset(r, 0, sizeof *r);
    mlc_err rc = mlc_ss_request(ss, MLC_SS_V2, "GET", path, NULL, 1, &resp, err);
    if (rc == MLC_OK) {
        copy_str(r->id, sizeof r->id, cJSON_GetObjectItem(resp.json, "shipment_id"));
        copy_str(r->key, sizeof r->key, cJSON_GetObjectItem(resp.json, "external_shipment_id"));
        copy_str(r->status, sizeof r->status, cJSON_GetObjectItem(resp.json, "shipment_status"));
        r->ok = r->id[0] != '\0';
        if (!r->ok)
            rc = mlc_error_set(err, MLC_ERR_REMOTE, "GET %s: response has no shipment_id", path);
    }
    mlc_ss_response_free(&resp);
    return rc;
}

mlc_err mlc_inbound_v2_cancel(mlc_ss *ss, const char *shipment_id, mlc_error *err)
{
    char path[160];
    char *esc = curl_easy_escape(NULL, shipment_id, 0);
    if (!esc)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "/v2/shipments/%s/cancel", esc);
    curl_free(esc);
    mlc_ss_response resp = {0};
    /* Cancelling twice leaves the same state: safe to retry. */
    mlc_err rc = mlc_ss_request(ss, MLC_SS_V2, "PUT", path, NULL, 1, &resp, err);
    mlc_ss_response_free(&resp);
    return rc;
}

mlc_err mlc_inbound_v1_upsert(mlc_ss *ss, cJSON *const *orders, size_t n, mlc_inbound_result *results,
                              mlc_error *err)
{
    if (n > MLC_INBOUND_V1_MAX)
        return mlc_error_set(err, MLC_ERR_USAGE, "createorders takes at most %d orders", MLC_INBOUND_V1_MAX);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemReferenceToArray(arr, orders[i]);
        memset(&results[i], 0, sizeof results[i]);
        copy_str(results[i].key, sizeof results[i].key, cJSON_GetObjectItem(orders[i], "orderKey"));
        snprintf(results[i].error, sizeof results[i].error, "no result returned for this order");
    }
    mlc_ss_response resp = {0};
    /* Upsert by orderKey: repeating it cannot duplicate, so lib/http may retry. */
    mlc_err rc = mlc_ss_request(ss, MLC_SS_V1, "POST", "/orders/createorders", arr, 1, &resp, err);
    cJSON_Delete(arr);
    if (rc == MLC_OK) {
        const cJSON *list = cJSON_GetObjectItem(resp.json, "results"), *r;
        if (!cJSON_IsArray(list)) {
            mlc_ss_response_free(&resp);
            return mlc_error_set(err, MLC_ERR_REMOTE, "POST /orders/createorders: response has no results array");
        }
        cJSON_ArrayForEach(r, list)
        {
            char key[64];
            copy_str(key, sizeof key, cJSON_GetObjectItem(r, "orderKey"));
            for (size_t i = 0; i < n; i++) {
                if (strcmp(results[i].key, key) != 0)
                    continue;
                copy_str(results[i].id, sizeof results[i].id, cJSON_GetObjectItem(r, "orderId"));
                results[i].ok = cJSON_IsTrue(cJSON_GetObjectItem(r, "success")) && results[i].id[0];
                copy_str(results[i].error, sizeof results[i].error, cJSON_GetObjectItem(r, "errorMessage"));
                if (!results[i].ok && !results[i].error[0])
                    snprintf(results[i].error, sizeof results[i].error, "refused without a message");
                break;
            }
        }
    }
    mlc_ss_response_free(&resp);
    return rc;
}
