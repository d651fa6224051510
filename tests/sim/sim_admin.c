/*
 * sim_admin.c: the admin API under /admin/ that tests use to seed, steer and inspect
 * the sim: state, seed, po, clock, ship, void, deliver, faults, webhooks. Admin
 * requests are never faulted or rate limited and need no credentials (loopback only).
 *
 * Not here: shipping itself (sim_ship.c), fault rules (sim_faults.c), webhook delivery
 * (sim_webhook.c).
 */
#include "sim_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void admin_error(sim_resp *rs, int status, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    jset_str(j, "error", msg);
    resp_json(rs, status, j);
}

static cJSON *body_json(sim_req *rq, sim_resp *rs)
{
    cJSON *b = rq->body && rq->body_len ? cJSON_Parse(rq->body) : cJSON_CreateObject();
    if (!cJSON_IsObject(b)) {
        cJSON_Delete(b);
        admin_error(rs, 400, "the body must be a JSON object");
        return NULL;
    }
    return b;
}

/* ?path=m3.receipts (dotted members, numeric array indexes) dumps one subtree, which
 * keeps tests against 100k-PO seeds fast */
static int h_state(sim_req *rq, sim_resp *rs)
{
    const char *path = req_arg(rq, "path");
    if (!path || !path[0]) {
        resp_json(rs, 200, state_dump());
        return 0;
    }
    cJSON *root = SIM->st, *dump = NULL;
    if (str_has_prefix(path, "counters") || str_has_prefix(path, "faults") || str_has_prefix(path, "clock"))
        root = dump = state_meta();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *cur = root;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, atoi(t)) : cJSON_GetObjectItemCaseSensitive(cur, t);
    if (!cur)
        admin_error(rs, 404, "no such path in the state");
    else
        resp_json(rs, 200, jclean_copy(cur));
    cJSON_Delete(dump);
    return 0;
}

static int h_seed(sim_req *rq, sim_resp *rs)
{
    cJSON *b = body_json(rq, rs);
    if (!b)
        return 0;
    char err[256];
    if (state_load(b, err, sizeof err) != 0) {
        admin_error(rs, 400, err);
        return 0;
    }
    cJSON_Delete(SIM->counts);
    SIM->counts = cJSON_CreateObject();
    SIM->logins = SIM->refreshes = SIM->n429 = 0;
    ratelimit_reset();
    ratelimit_reset_counters();
    cJSON *j = cJSON_CreateObject();
    jset_bool(j, "ok", 1);
    resp_json(rs, 200, j);
    return 0;
}

static void merge_fields(cJSON *dst, cJSON *src, const char *skip1, const char *skip2)
{
    cJSON *f;
    cJSON_ArrayForEach(f, src) {
        if (strcmp(f->string, skip1) == 0 || strcmp(f->string, skip2) == 0 || f->string[0] == '_')
            continue;
        jset(dst, f->string, cJSON_Duplicate(f, 1));
    }
}

static int po_lines(cJSON *po, cJSON *lines, char *d, char *err, size_t errlen)
{
    cJSON *ln;
    cJSON_ArrayForEach(ln, lines) {
        long pnli = (long)jnum(ln, "PNLI", -1), pnls = (long)jnum(ln, "PNLS", 0);
        if (pnli < 0) {
            snprintf(err, errlen, "every line needs a PNLI");
            return -1;
        }
        cJSON *l = m3_find_line(po, pnli, pnls);
        if (!l) {
            l = cJSON_CreateObject();
            jset_num(l, "PNLI", (double)pnli);
            jset_num(l, "PNLS", (double)pnls);
            jset_num(l, "RVQA", 0);
            jset_str(l, "PUSL", "20");
            jset_str(l, "PUST", "20");
            cJSON_AddItemToArray(jarr(po, "lines"), l);
        }
        merge_fields(l, ln, "reopen", "_");
        if (jbool(ln, "reopen", 0)) {
            jset_num(l, "OEND", 0);
            const char *st = jnum(l, "RVQA", 0) > 0 ? "50" : "20";
            jset_str(l, "PUSL", st);
            jset_str(l, "PUST", st);
        }
        if (!cJSON_GetObjectItem(ln, "LMDT"))
            jset_str(l, "LMDT", d);
    }
    return 0;
}

static int h_po(sim_req *rq, sim_resp *rs)
{
    cJSON *b = body_json(rq, rs);
    if (!b)
        return 0;
    const char *puno = jstr(b, "PUNO");
    cJSON *po = m3_find_po(puno);
    char d[12], err[160];
    fmt_m3date(sim_now(), d);
    if (!puno || (!po && !cJSON_IsArray(cJSON_GetObjectItem(b, "lines")))) {
        cJSON_Delete(b);
        admin_error(rs, puno ? 404 : 400, puno ? "no such PO (give \"lines\" to create it)" : "PUNO is required");
        return 0;
    }
    if (!po) {
        po = cJSON_CreateObject();
        jset_str(po, "PUNO", puno);
        jset_str(po, "RGDT", d);
        jarr(po, "lines");
        cJSON_AddItemToArray(jarr(cJSON_GetObjectItem(SIM->st, "m3"), "pos"), po);
    }
    merge_fields(po, b, "lines", "PUNO");
    if (po_lines(po, cJSON_GetObjectItem(b, "lines"), d, err, sizeof err) != 0) {
        cJSON_Delete(b);
        admin_error(rs, 400, err);
        return 0;
    }
    if (!cJSON_GetObjectItem(b, "LMDT"))
        jset_str(po, "LMDT", d);
    if (!cJSON_GetObjectItem(b, "PUSL"))
        m3_head_status(po);
    cJSON_Delete(b);
    resp_json(rs, 200, jclean_copy(po));
    return 0;
}

static int h_clock(sim_req *rq, sim_resp *rs)
{
    cJSON *b = body_json(rq, rs);
    if (!b)
        return 0;
    double t;
    const char *set = jstr(b, "set");
    cJSON *adv = cJSON_GetObjectItem(b, "advance_seconds");
    if (set && parse_rfc3339(set, &t) == 0)
        clock_set(t);
    else if (cJSON_IsNumber(adv))
        clock_set(sim_now() + adv->valuedouble);
    else {
        cJSON_Delete(b);
        admin_error(rs, 400, "give {\"advance_seconds\":N} or {\"set\":\"RFC3339\"}");
        return 0;
    }
    cJSON_Delete(b);
    char now[40];
    fmt_rfc3339(sim_now(), now);
    cJSON *j = cJSON_CreateObject();
    jset_str(j, "clock", now);
    resp_json(rs, 200, j);
    return 0;
}

typedef int (*admin_op)(cJSON *, cJSON *, char *, size_t);

static int run_op(sim_req *rq, sim_resp *rs, admin_op op)
{
    cJSON *b = body_json(rq, rs);
    if (!b)
        return 0;
    cJSON *out = cJSON_CreateObject();
    char err[256];
    if (op(b, out, err, sizeof err) != 0) {
        cJSON_Delete(out);
        admin_error(rs, 400, err);
    } else
        resp_json(rs, 200, out);
    cJSON_Delete(b);
    return 0;
}

static int h_ship(sim_req *rq, sim_resp *rs) { return run_op(rq, rs, ship_admin); }
static int h_void(sim_req *rq, sim_resp *rs) { return run_op(rq, rs, void_admin); }
static int h_deliver(sim_req *rq, sim_resp *rs) { return run_op(rq, rs, deliver_admin); }
static int h_cancel(sim_req *rq, sim_resp *rs) { return run_op(rq, rs, cancel_admin); }
static int h_ims(sim_req *rq, sim_resp *rs) { return run_op(rq, rs, ims_admin); }

static int h_faults(sim_req *rq, sim_resp *rs)
{
    if (strcmp(rq->method, "DELETE") == 0) {
        faults_clear();
        resp_json(rs, 200, cJSON_CreateObject());
        return 0;
    }
    if (strcmp(rq->method, "GET") == 0) {
        resp_json(rs, 200, faults_dump());
        return 0;
    }
    cJSON *b = body_json(rq, rs);
    if (!b)
        return 0;
    char err[256];
    if (faults_set(b, err, sizeof err) != 0)
        admin_error(rs, 400, err);
    else
        resp_json(rs, 200, faults_dump());
    cJSON_Delete(b);
    return 0;
}

/* {"v2_per_minute":200,"v1_per_minute":40,"ion_logins_per_minute":0}; 0 = unlimited */
static int h_limits(sim_req *rq, sim_resp *rs)
{
    cJSON *b = body_json(rq, rs);
    if (!b)
        return 0;
    SIM->lim_v2 = (int)jnum(b, "v2_per_minute", SIM->lim_v2);
    SIM->lim_v1 = (int)jnum(b, "v1_per_minute", SIM->lim_v1);
    SIM->lim_logins = (int)jnum(b, "ion_logins_per_minute", SIM->lim_logins);
    cJSON_Delete(b);
    ratelimit_reset();
    cJSON *j = cJSON_CreateObject();
    jset_num(j, "v2_per_minute", SIM->lim_v2);
    jset_num(j, "v1_per_minute", SIM->lim_v1);
    jset_num(j, "ion_logins_per_minute", SIM->lim_logins);
    resp_json(rs, 200, j);
    return 0;
}

/* M3 behaviour switches: {"v2_response_shape":"v1"|"v2","unknown_fields":"refuse"|"ignore"} */
static int h_m3(sim_req *rq, sim_resp *rs)
{
    cJSON *b = body_json(rq, rs);
    if (!b)
        return 0;
    const char *shape = jstr(b, "v2_response_shape"), *unk = jstr(b, "unknown_fields");
    cJSON *m3 = cJSON_GetObjectItem(SIM->st, "m3");
    cJSON *mq = cJSON_GetObjectItem(b, "exportmi_max_query"), *mr = cJSON_GetObjectItem(b, "exportmi_max_rows");
    if (shape && strcmp(shape, "v1") && strcmp(shape, "v2")) {
        admin_error(rs, 400, "v2_response_shape must be v1 or v2");
    } else if (unk && strcmp(unk, "refuse") && strcmp(unk, "ignore")) {
        admin_error(rs, 400, "unknown_fields must be refuse or ignore");
    } else if ((mq && (!cJSON_IsNumber(mq) || mq->valuedouble < 0)) ||
               (mr && (!cJSON_IsNumber(mr) || mr->valuedouble < 0))) {
        admin_error(rs, 400, "exportmi_max_query and exportmi_max_rows must be numbers >= 0 (0: no limit)");
    } else {
        if (shape)
            jset_str(m3, "v2_response_shape", shape);
        if (unk)
            jset_str(m3, "unknown_fields", unk);
        if (mq)
            jset_num(m3, "exportmi_max_query", mq->valuedouble);
        if (mr)
            jset_num(m3, "exportmi_max_rows", mr->valuedouble);
        cJSON *j = cJSON_CreateObject();
        jset_str(j, "v2_response_shape", jstr(m3, "v2_response_shape") ? jstr(m3, "v2_response_shape") : "v2");
        jset_str(j, "unknown_fields", jstr(m3, "unknown_fields") ? jstr(m3, "unknown_fields") : "refuse");
        jset_num(j, "exportmi_max_query", jnum(m3, "exportmi_max_query", 1000));
        jset_num(j, "exportmi_max_rows", jnum(m3, "exportmi_max_rows", 10000));
        resp_json(rs, 200, j);
    }
    cJSON_Delete(b);
    return 0;
}

static int h_webhooks(sim_req *rq, sim_resp *rs)
{
    cJSON *b = body_json(rq, rs);
    if (!b)
        return 0;
    SIM->wh_delay_ms = (long)jnum(b, "delay_ms", (double)SIM->wh_delay_ms);
    SIM->wh_dup_p = jnum(b, "duplicate_probability", SIM->wh_dup_p);
    SIM->wh_loss_p = jnum(b, "loss_probability", SIM->wh_loss_p);
    if (cJSON_IsNumber(cJSON_GetObjectItem(b, "seed")))
        SIM->wh_rng = (uint64_t)jnum(b, "seed", 1);
    cJSON_Delete(b);
    cJSON *j = cJSON_CreateObject();
    jset_num(j, "delay_ms", (double)SIM->wh_delay_ms);
    jset_num(j, "duplicate_probability", SIM->wh_dup_p);
    jset_num(j, "loss_probability", SIM->wh_loss_p);
    resp_json(rs, 200, j);
    return 0;
}

static const struct {
    const char *method, *path;
    sim_handler h;
} ADMIN[] = {
    {"GET", "/admin/state", h_state},     {"POST", "/admin/seed", h_seed},
    {"POST", "/admin/po", h_po},          {"POST", "/admin/clock", h_clock},
    {"POST", "/admin/ship", h_ship},      {"POST", "/admin/void", h_void},
    {"POST", "/admin/deliver", h_deliver}, {"POST", "/admin/cancel", h_cancel},
    {"POST", "/admin/faults", h_faults},
    {"DELETE", "/admin/faults", h_faults}, {"GET", "/admin/faults", h_faults},
    {"POST", "/admin/webhooks", h_webhooks},   {"POST", "/admin/m3", h_m3},
    {"POST", "/admin/limits", h_limits},  {"POST", "/admin/ims", h_ims},
};

sim_handler route_admin(sim_req *rq)
{
    if (!str_has_prefix(rq->path, "/admin/"))
        return NULL;
    rq->system = 'A';
    for (size_t i = 0; i < sizeof ADMIN / sizeof ADMIN[0]; i++) {
        if (strcmp(rq->path, ADMIN[i].path) == 0 && strcmp(rq->method, ADMIN[i].method) == 0) {
            snprintf(rq->label, sizeof rq->label, "%s %s", rq->method, rq->path);
            return ADMIN[i].h;
        }
    }
    return NULL;
}
