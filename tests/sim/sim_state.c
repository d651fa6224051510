/*
 * sim_state.c: the sim's state, kept as one cJSON tree in the seed format (see the SEED
 * section of mlc-sim(1)): loading and checking a seed, dumping the whole state for
 * GET /admin/state, and lookups of M3 records (POs, lines, items, warehouses).
 *
 * Not here: how any API changes the state (each system's file).
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_list(cJSON *parent, const char *k, const char *key_field, char *err, size_t errlen)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(parent, k);
    if (!a) {
        jarr(parent, k);
        return 0;
    }
    if (!cJSON_IsArray(a)) {
        snprintf(err, errlen, "\"%s\" must be an array", k);
        return -1;
    }
    cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsObject(e) || (key_field && !jstr(e, key_field))) {
            snprintf(err, errlen, "every entry of \"%s\" must be an object with a string \"%s\"", k,
                     key_field ? key_field : "?");
            return -1;
        }
    }
    return 0;
}

static int check_m3(cJSON *m3, char *err, size_t errlen)
{
    if (!cJSON_IsObject(m3)) {
        snprintf(err, errlen, "\"m3\" must be an object");
        return -1;
    }
    if (!cJSON_GetObjectItem(m3, "cono"))
        jset_num(m3, "cono", 100);
    if (!jstr(m3, "divi"))
        jset_str(m3, "divi", "AAA");
    if (!jstr(m3, "user"))
        jset_str(m3, "user", "MLCSVC");
    if (!jstr(m3, "responsible"))
        jset_str(m3, "responsible", "MLC");
    jobj(m3, "order_types");
    if (check_list(m3, "warehouses", "WHLO", err, errlen) || check_list(m3, "suppliers", "SUNO", err, errlen) ||
        check_list(m3, "items", "ITNO", err, errlen) || check_list(m3, "pos", "PUNO", err, errlen) ||
        check_list(m3, "receipts", NULL, err, errlen) || check_list(m3, "advices", NULL, err, errlen))
        return -1;
    cJSON *po;
    cJSON_ArrayForEach(po, cJSON_GetObjectItem(m3, "pos")) {
        cJSON *lines = cJSON_GetObjectItem(po, "lines");
        if (!cJSON_IsArray(lines)) {
            snprintf(err, errlen, "PO %s: \"lines\" must be an array", jstr(po, "PUNO"));
            return -1;
        }
        cJSON *l;
        cJSON_ArrayForEach(l, lines) if (!cJSON_IsObject(l) || jnum(l, "PNLI", -1) < 0)
        {
            snprintf(err, errlen, "PO %s: every line needs a numeric PNLI", jstr(po, "PUNO"));
            return -1;
        }
    }
    return 0;
}

static int check_ss(cJSON *ss, char *err, size_t errlen)
{
    if (!cJSON_IsObject(ss)) {
        snprintf(err, errlen, "\"shipstation\" must be an object");
        return -1;
    }
    if (check_list(ss, "carriers", "carrier_id", err, errlen) ||
        check_list(ss, "warehouses", "warehouse_id", err, errlen) ||
        check_list(ss, "products", "sku", err, errlen) || check_list(ss, "inventory", "sku", err, errlen) ||
        check_list(ss, "webhook_deliveries", NULL, err, errlen))
        return -1;
    cJSON *v2 = jobj(ss, "v2"), *v1 = jobj(ss, "v1");
    if (check_list(v2, "shipments", NULL, err, errlen) || check_list(v2, "labels", NULL, err, errlen) ||
        check_list(v2, "webhooks", NULL, err, errlen) || check_list(v1, "orders", NULL, err, errlen) ||
        check_list(v1, "shipments", NULL, err, errlen) || check_list(v1, "webhooks", NULL, err, errlen))
        return -1;
    return 0;
}

int state_load(cJSON *seed, char *err, size_t errlen)
{
    if (!cJSON_IsObject(seed)) {
        snprintf(err, errlen, "the seed must be a JSON object");
        cJSON_Delete(seed);
        return -1;
    }
    double t;
    const char *clock = jstr(seed, "clock");
    if (!clock || parse_rfc3339(clock, &t) != 0) {
        snprintf(err, errlen, "\"clock\" must be an RFC 3339 time");
        cJSON_Delete(seed);
        return -1;
    }
    if (check_m3(jobj(seed, "m3"), err, errlen) != 0 || check_ss(jobj(seed, "shipstation"), err, errlen) != 0) {
        cJSON_Delete(seed);
        return -1;
    }
    jobj(seed, "_ids");
    cJSON_Delete(SIM->st);
    SIM->st = seed;
    clock_set(t);
    return 0;
}

cJSON *state_meta(void)
{
    cJSON *d = cJSON_CreateObject();
    char now[40];
    fmt_rfc3339(sim_now(), now);
    jset_str(d, "clock", now);
    cJSON *c = cJSON_AddObjectToObject(d, "counters");
    jset(c, "requests", cJSON_Duplicate(SIM->counts, 1));
    jset_num(c, "logins", (double)SIM->logins);
    jset_num(c, "refreshes", (double)SIM->refreshes);
    jset_num(c, "rate_limited", (double)SIM->n429);
    jset(d, "faults", faults_dump());
    return d;
}

cJSON *state_dump(void)
{
    cJSON *d = jclean_copy(SIM->st), *meta = state_meta(), *m;
    while ((m = meta->child)) {
        char key[32]; /* jset frees the item's own key before copying it */
        snprintf(key, sizeof key, "%s", m->string);
        jset(d, key, cJSON_DetachItemViaPointer(meta, m));
    }
    cJSON_Delete(meta);
    return d;
}

static cJSON *find_by(cJSON *arr, const char *k, const char *v)
{
    cJSON *e;
    if (!v)
        return NULL;
    cJSON_ArrayForEach(e, arr) {
        const char *s = jstr(e, k);
        if (s && strcmp(s, v) == 0)
            return e;
    }
    return NULL;
}

static cJSON *m3(void) { return cJSON_GetObjectItem(SIM->st, "m3"); }

cJSON *m3_find_po(const char *puno) { return find_by(cJSON_GetObjectItem(m3(), "pos"), "PUNO", puno); }
cJSON *m3_find_item(const char *itno) { return find_by(cJSON_GetObjectItem(m3(), "items"), "ITNO", itno); }
cJSON *m3_find_whs(const char *whlo) { return find_by(cJSON_GetObjectItem(m3(), "warehouses"), "WHLO", whlo); }

cJSON *m3_find_line(cJSON *po, long pnli, long pnls)
{
    cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(po, "lines"))
        if ((long)jnum(l, "PNLI", -1) == pnli && (long)jnum(l, "PNLS", 0) == pnls)
            return l;
    return NULL;
}

static long status_of(cJSON *o, const char *k)
{
    return (long)jnum(o, k, 20);
}

void m3_head_status(cJSON *po)
{
    long lo = 99, hi = 0;
    cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(po, "lines")) {
        long sl = status_of(l, "PUSL"), sh = status_of(l, "PUST");
        if (sl < lo)
            lo = sl;
        if (sh > hi)
            hi = sh;
    }
    if (hi == 0)
        return;
    char b[8];
    snprintf(b, sizeof b, "%02ld", lo);
    jset_str(po, "PUSL", b);
    snprintf(b, sizeof b, "%02ld", hi);
    jset_str(po, "PUST", b);
}
