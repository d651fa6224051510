/*
 * sim_v1.h: what the ShipStation V1 files share: state accessors, error bodies, the
 * gate, date arguments, list parsing and the envelope (sim_v1.c), and the order
 * handlers (sim_v1_orders.c) the router in sim_v1.c dispatches to.
 *
 * Not here: V2 (sim_v2.h).
 */
#ifndef MLC_SIM_V1_H
#define MLC_SIM_V1_H

#include "sim_list.h"

typedef struct v1_list {
    long page, size;
    int desc;
    const char *sort_key;
} v1_list;

/* path segments of the request being handled (set under the state mutex) */
extern char v1_seg[8][96];

cJSON *v1_ss(void);   /* state.shipstation */
cJSON *v1_root(void); /* state.shipstation.v1 */
cJSON *v1_find_num(cJSON *arr, const char *k, double v);
int v1_in_list(const char *v, const char *const *l);
int v1_date_arg(sim_req *rq, sim_resp *rs, const char *name, double *out, double dflt);
int v1_list_parse(sim_req *rq, sim_resp *rs, v1_list *l, const char *const *sorts, const char *const *keys);
void v1_envelope(sim_resp *rs, const char *name, cJSON **items, size_t n, const v1_list *l,
                 void (*shape)(cJSON *, sim_req *), sim_req *rq);

/* sim_v1_orders.c */
int v1_h_orders_list(sim_req *rq, sim_resp *rs);
int v1_h_order_get(sim_req *rq, sim_resp *rs);
int v1_h_createorder(sim_req *rq, sim_resp *rs);
int v1_h_createorders(sim_req *rq, sim_resp *rs);

/* sim_v1_fulfill.c */
int v1_h_markasshipped(sim_req *rq, sim_resp *rs);
int v1_h_fulfillments_list(sim_req *rq, sim_resp *rs);

#endif
