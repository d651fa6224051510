/*
 * sim_v2.h: what the ShipStation V2 files share: the state accessors, the error and
 * validation helpers, list arguments and paging (sim_v2.c), and the handlers the router
 * in sim_v2.c dispatches to (sim_v2_shipments.c, sim_v2_stock.c, sim_v2_webhooks.c).
 *
 * Not here: V1 (sim_v1.c), paging primitives shared with V1 (sim_list.h).
 */
#ifndef MLC_SIM_V2_H
#define MLC_SIM_V2_H

#include "sim_list.h"

typedef struct v2_list_args {
    long page, page_size;
    int desc;
    const char *sort_key; /* internal epoch member */
    double c_start, c_end, m_start, m_end;
} v2_list_args;

/* path segments of the request being handled (set under the state mutex) */
extern char v2_seg[8][96];

cJSON *v2_ss(void);   /* state.shipstation */
cJSON *v2_root(void); /* state.shipstation.v2 */
cJSON *v2_find_by(cJSON *arr, const char *k, const char *v);
int v2_in_list(const char *v, const char *const *l);
void v2_not_found(sim_resp *rs, const char *what, const char *id);
void v2_bad_field(sim_resp *rs, const char *fmt, const char *what);
cJSON *v2_body_object(sim_req *rq, sim_resp *rs);
int v2_list_args_parse(sim_req *rq, sim_resp *rs, v2_list_args *a, long max_size, long dflt_size,
                       int has_modified);
void v2_paged(sim_req *rq, sim_resp *rs, const char *name, cJSON **items, size_t n, const v2_list_args *a);

/* sim_v2_shipments.c */
int v2_h_shipments_list(sim_req *rq, sim_resp *rs);
int v2_h_shipments_create(sim_req *rq, sim_resp *rs);
int v2_h_shipment_get(sim_req *rq, sim_resp *rs);
int v2_h_shipment_by_ext(sim_req *rq, sim_resp *rs);
int v2_h_shipment_update(sim_req *rq, sim_resp *rs);
int v2_h_shipment_cancel(sim_req *rq, sim_resp *rs);
int v2_h_labels_list(sim_req *rq, sim_resp *rs);
int v2_h_label_get(sim_req *rq, sim_resp *rs);
int v2_h_label_void(sim_req *rq, sim_resp *rs);
int v2_h_label_track(sim_req *rq, sim_resp *rs);

/* sim_v2_stock.c */
int v2_h_warehouses(sim_req *rq, sim_resp *rs);
int v2_h_warehouse_get(sim_req *rq, sim_resp *rs);
int v2_h_carriers(sim_req *rq, sim_resp *rs);
int v2_h_products(sim_req *rq, sim_resp *rs);
int v2_h_inventory_get(sim_req *rq, sim_resp *rs);
int v2_h_inventory_post(sim_req *rq, sim_resp *rs);

/* sim_v2_webhooks.c */
int v2_h_webhooks_list(sim_req *rq, sim_resp *rs);
int v2_h_webhook_create(sim_req *rq, sim_resp *rs);
int v2_h_webhook_one(sim_req *rq, sim_resp *rs);

#endif
