/*
 * sim_v2.c: ShipStation API V2 (api.shipstation.com/v2, ShipEngine style) as the
 * OpenAPI file in shared/research describes it, the common part: the api-key header,
 * 200 requests per minute with 429 + Retry-After, error_response_body with request_id,
 * list arguments and the paged envelope with links, and the router. The endpoints live
 * in sim_v2_shipments.c (shipments, labels), sim_v2_stock.c (warehouses, carriers,
 * products, inventory) and sim_v2_webhooks.c (environment/webhooks).
 *
 * Not here: shipping (sim_ship.c), webhook delivery (sim_webhook.c), V1 (sim_v1.c).
 */
#include "sim_v2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char v2_seg[8][96];

cJSON *v2_ss(void) { return cJSON_GetObjectItem(SIM->st, "shipstation"); }
cJSON *v2_root(void) { return cJSON_GetObjectItem(v2_ss(), "v2"); }

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

void v2_bad_field(sim_resp *rs, const char *fmt, const char *what)
{
    v2_error(rs, 400, "validation", "invalid_field_value", fmt, what);
}

cJSON *v2_find_by(cJSON *arr, const char *k, const char *v) { return state_lookup(arr, k, v); }

void v2_not_found(sim_resp *rs, const char *what, const char *id)
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

cJSON *v2_body_object(sim_req *rq, sim_resp *rs)
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

static int time_arg(sim_req *rq, sim_resp *rs, const char *name, double *out, double dflt)
{
    const char *v = req_arg(rq, name);
    *out = dflt;
    if (v && parse_rfc3339(v, out) != 0) {
        v2_bad_field(rs, "%s must be an ISO 8601 date-time", name);
        return 0;
    }
    return 1;
}

int v2_list_args_parse(sim_req *rq, sim_resp *rs, v2_list_args *a, long max_size, long dflt_size,
                           int has_modified)
{
    a->page = 1;
    a->page_size = dflt_size;
    a->desc = 1;
    a->sort_key = "_created";
    if (!parse_long_arg(req_arg(rq, "page"), 1, 1000000, &a->page)) {
        v2_bad_field(rs, "%s must be an integer >= 1", "page");
        return 0;
    }
    if (!parse_long_arg(req_arg(rq, "page_size"), 1, max_size, &a->page_size)) {
        v2_bad_field(rs, "%s is out of range", "page_size");
        return 0;
    }
    const char *sd = req_arg(rq, "sort_dir"), *sb = req_arg(rq, "sort_by");
    if (sd && strcmp(sd, "asc") && strcmp(sd, "desc")) {
        v2_bad_field(rs, "%s must be asc or desc", "sort_dir");
        return 0;
    }
    a->desc = !sd || strcmp(sd, "desc") == 0;
    if (sb) {
        if (strcmp(sb, "created_at") == 0)
            a->sort_key = "_created";
        else if (has_modified && strcmp(sb, "modified_at") == 0)
            a->sort_key = "_modified";
        else {
            v2_bad_field(rs, "%s is not a valid sort_by value", sb);
            return 0;
        }
    }
    return time_arg(rq, rs, "created_at_start", &a->c_start, -1e18) &&
           time_arg(rq, rs, "created_at_end", &a->c_end, 1e18) &&
           (!has_modified || (time_arg(rq, rs, "modified_at_start", &a->m_start, -1e18) &&
                              time_arg(rq, rs, "modified_at_end", &a->m_end, 1e18)));
}

void v2_paged(sim_req *rq, sim_resp *rs, const char *name, cJSON **items, size_t n, const v2_list_args *a)
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

int v2_in_list(const char *v, const char *const *l)
{
    for (; v && *l; l++)
        if (strcmp(v, *l) == 0)
            return 1;
    return 0;
}

/* ---- routing ---- */

/* runs under the state mutex, so the global v2_seg is safe */
static int gated(sim_req *rq, sim_resp *rs)
{
    if (!v2_gate(rq, rs))
        return 0;
    if (path_split(rq->path, v2_seg, 8) < 0)
        memset(v2_seg, 0, sizeof v2_seg);
    return rq->handler(rq, rs);
}

static int v2_h_unknown(sim_req *rq, sim_resp *rs)
{
    v2_error(rs, 404, "validation", "unspecified", "No route for %s %s", rq->method, rq->path);
    return 0;
}

typedef struct v2_route {
    const char *method, *pattern;
    sim_handler h;
} v2_route;

static const v2_route ROUTES[] = {
    {"GET", "/v2/shipments", v2_h_shipments_list},
    {"POST", "/v2/shipments", v2_h_shipments_create},
    {"GET", "/v2/shipments/external_shipment_id/{id}", v2_h_shipment_by_ext},
    {"GET", "/v2/shipments/{id}", v2_h_shipment_get},
    {"PUT", "/v2/shipments/{id}", v2_h_shipment_update},
    {"PUT", "/v2/shipments/{id}/cancel", v2_h_shipment_cancel},
    {"GET", "/v2/labels", v2_h_labels_list},
    {"GET", "/v2/labels/{id}", v2_h_label_get},
    {"PUT", "/v2/labels/{id}/void", v2_h_label_void},
    {"GET", "/v2/labels/{id}/track", v2_h_label_track},
    {"GET", "/v2/warehouses", v2_h_warehouses},
    {"GET", "/v2/warehouses/{id}", v2_h_warehouse_get},
    {"GET", "/v2/carriers", v2_h_carriers},
    {"GET", "/v2/products", v2_h_products},
    {"GET", "/v2/inventory", v2_h_inventory_get},
    {"POST", "/v2/inventory", v2_h_inventory_post},
    {"GET", "/v2/environment/webhooks", v2_h_webhooks_list},
    {"POST", "/v2/environment/webhooks", v2_h_webhook_create},
    {"GET", "/v2/environment/webhooks/{id}", v2_h_webhook_one},
    {"DELETE", "/v2/environment/webhooks/{id}", v2_h_webhook_one},
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

/* GET /jwks: the public key of the webhook signatures (no credentials) */
static int v2_h_jwks(sim_req *rq, sim_resp *rs)
{
    (void)rq;
    resp_text(rs, 200, "application/json", sign_jwks());
    return 0;
}

sim_handler route_v2(sim_req *rq)
{
    if (strcmp(rq->path, "/jwks") == 0 && strcmp(rq->method, "GET") == 0) {
        rq->system = '2';
        snprintf(rq->label, sizeof rq->label, "GET /jwks");
        return v2_h_jwks;
    }
    if (strcmp(rq->path, "/v2") != 0 && !str_has_prefix(rq->path, "/v2/"))
        return NULL;
    rq->system = '2';
    char seg[8][96];
    int n = path_split(rq->path, seg, 8);
    rq->handler = v2_h_unknown;
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

