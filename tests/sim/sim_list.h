/*
 * sim_list.h: paging, sorting, links, path splitting and rate limiting shared by the
 * ShipStation V1 and V2 handlers (sim_list.c).
 *
 * Not here: any endpoint.
 */
#ifndef MLC_SIM_LIST_H
#define MLC_SIM_LIST_H

#include "sim.h"

void ratelimit_reset(void);
/* sorts by the numeric member key (epoch seconds), ties by "_seq" */
void list_sort(cJSON **items, size_t n, const char *key, int desc);
/* copies (without "_" members) the items of one 1-based page */
cJSON *list_page(cJSON **items, size_t n, long page, long size, long *pages);
cJSON *v2_links(sim_req *rq, long page, long pages);
/* 1 ok (out untouched when v is NULL), 0 invalid */
int parse_long_arg(const char *v, long min, long max, long *out);
/* splits "/a/b/c" into segments; -1 if a segment is too long or too many */
int path_split(const char *path, char seg[][96], int max);

#endif
