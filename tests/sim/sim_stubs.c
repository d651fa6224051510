/* sim_stubs.c: temporary */
#include "sim.h"
#include <stdio.h>
void v2_error(sim_resp *rs, int status, const char *type, const char *code, const char *fmt, ...) { (void)type; (void)code; resp_text(rs, status, "text/plain", fmt); }
void v1_error(sim_resp *rs, int status, const char *msg) { resp_text(rs, status, "text/plain", msg); }
sim_handler route_v2(sim_req *rq) { (void)rq; return NULL; }
sim_handler route_v1(sim_req *rq) { (void)rq; return NULL; }
int ship_admin(cJSON *req, cJSON *out, char *err, size_t errlen) { (void)req; (void)out; snprintf(err, errlen, "todo"); return -1; }
int void_admin(cJSON *req, cJSON *out, char *err, size_t errlen) { (void)req; (void)out; snprintf(err, errlen, "todo"); return -1; }
int deliver_admin(cJSON *req, cJSON *out, char *err, size_t errlen) { (void)req; (void)out; snprintf(err, errlen, "todo"); return -1; }
int webhook_start(void) { return 0; }
void webhook_stop(void) {}
