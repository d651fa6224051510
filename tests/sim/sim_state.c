/*
 * sim_state.c: the sim's state, kept as one cJSON tree in the seed format (see the SEED
 * section of mlc-sim(1)): loading and checking a seed, dumping the whole state for
 * GET /admin/state, the key indexes that keep lookups in big arrays (100k POs, shipments,
 * orders) fast, and lookups of M3 records (POs, lines, items, warehouses).
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
    if (check_list(m3, "companies", NULL, err, errlen))
        return -1;
    cJSON *co;
    cJSON_ArrayForEach(co, cJSON_GetObjectItem(m3, "companies")) { /* other companies of the same tables */
        if (!cJSON_IsObject(co) || !cJSON_IsNumber(cJSON_GetObjectItem(co, "cono")) ||
            jnum(co, "cono", 0) == jnum(m3, "cono", 100)) {
            snprintf(err, errlen, "every entry of \"companies\" needs a numeric \"cono\" other than m3.cono");
            return -1;
        }
        if (check_list(co, "pos", "PUNO", err, errlen))
            return -1;
        cJSON *po;
        cJSON_ArrayForEach(po, cJSON_GetObjectItem(co, "pos")) {
            jset_num(po, "CONO", jnum(co, "cono", 0));
            if (!jstr(po, "DIVI") && jstr(co, "divi"))
                jset_str(po, "DIVI", jstr(co, "divi"));
            if (!cJSON_IsArray(cJSON_GetObjectItem(po, "lines"))) {
                snprintf(err, errlen, "company %.0f PO %s: \"lines\" must be an array", jnum(co, "cono", 0),
                         jstr(po, "PUNO"));
                return -1;
            }
        }
    }
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
        check_list(v1, "shipments", NULL, err, errlen) || check_list(v1, "webhooks", NULL, err, errlen) ||
        check_list(v1, "fulfillments", NULL, err, errlen))
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
    state_index_reset();
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
    jset_num(c, "rate_sliding_over", (double)ratelimit_sliding_over());
    jset_num(c, "contract_violations", (double)contract_violations());
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

/* Indexes key -> element for the big arrays (100k POs, shipments, orders): one per
 * (array, field), built on first use and kept in step by indexing what was appended
 * since (cJSON keeps the tail at child->prev). Elements of indexed arrays are changed in
 * place and never replaced; code that deletes an element or changes a key in place calls
 * state_index_forget(). A seed replacing the state drops them all. Numeric keys are
 * indexed by their "%.0f" text. */
typedef struct index {
    cJSON *arr;
    char field[32];
    cJSON *tail;
    char **keys;
    cJSON **vals;
    size_t cap, used;
} index_t;

#define NIX 32
static index_t IX[NIX];

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void index_free(index_t *ix)
{
    for (size_t i = 0; i < ix->cap; i++)
        free(ix->keys[i]);
    free(ix->keys);
    free(ix->vals);
    memset(ix, 0, sizeof *ix);
}

static int key_of(const cJSON *e, const char *field, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, field);
    if (cJSON_IsString(v))
        snprintf(out, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(out, n, "%.0f", v->valuedouble);
    else
        return 0;
    return 1;
}

static cJSON *index_get(index_t *ix, const char *key)
{
    if (!ix->cap)
        return NULL;
    char now[128];
    size_t i = hash(key) & (ix->cap - 1);
    for (; ix->keys[i]; i = (i + 1) & (ix->cap - 1))
        if (strcmp(ix->keys[i], key) == 0)
            return key_of(ix->vals[i], ix->field, now, sizeof now) && strcmp(now, key) == 0 ? ix->vals[i] : NULL;
    return NULL;
}

static void index_put(index_t *ix, const char *key, cJSON *v);

static void index_grow(index_t *ix)
{
    index_t old = *ix;
    ix->cap = old.cap ? old.cap * 2 : 256;
    ix->used = 0;
    ix->keys = calloc(ix->cap, sizeof *ix->keys);
    ix->vals = calloc(ix->cap, sizeof *ix->vals);
    if (!ix->keys || !ix->vals)
        abort();
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i]) {
            index_put(ix, old.keys[i], old.vals[i]);
            free(old.keys[i]);
        }
    free(old.keys);
    free(old.vals);
}

/* the first element with a key keeps it */
static void index_put(index_t *ix, const char *key, cJSON *v)
{
    if ((ix->used + 1) * 2 > ix->cap)
        index_grow(ix);
    size_t i = hash(key) & (ix->cap - 1);
    while (ix->keys[i] && strcmp(ix->keys[i], key) != 0)
        i = (i + 1) & (ix->cap - 1);
    if (ix->keys[i])
        return;
    ix->keys[i] = xstrdup(key);
    ix->vals[i] = v;
    ix->used++;
}

static index_t *index_for(cJSON *arr, const char *field)
{
    index_t *free_slot = NULL;
    for (int i = 0; i < NIX; i++) {
        if (IX[i].arr == arr && strcmp(IX[i].field, field) == 0)
            return &IX[i];
        if (!IX[i].arr && !free_slot)
            free_slot = &IX[i];
    }
    if (!free_slot || strlen(field) >= sizeof free_slot->field)
        return NULL;
    free_slot->arr = arr;
    snprintf(free_slot->field, sizeof free_slot->field, "%s", field);
    return free_slot;
}

static void index_sync(index_t *ix)
{
    cJSON *last = ix->arr->child ? ix->arr->child->prev : NULL;
    if (ix->tail == last)
        return;
    char key[128];
    for (cJSON *e = ix->tail ? ix->tail->next : ix->arr->child; e; e = e->next)
        if (key_of(e, ix->field, key, sizeof key))
            index_put(ix, key, e);
    ix->tail = last;
}

cJSON *state_lookup(cJSON *arr, const char *field, const char *key)
{
    if (!cJSON_IsArray(arr) || !key)
        return NULL;
    index_t *ix = index_for(arr, field);
    if (!ix)
        return find_by(arr, field, key);
    index_sync(ix);
    return index_get(ix, key);
}

cJSON *state_lookup_num(cJSON *arr, const char *field, double v)
{
    char key[64];
    snprintf(key, sizeof key, "%.0f", v);
    return state_lookup(arr, field, key);
}

void state_index_forget(cJSON *arr)
{
    for (int i = 0; i < NIX; i++)
        if (IX[i].arr == arr)
            index_free(&IX[i]);
}

void state_index_reset(void)
{
    for (int i = 0; i < NIX; i++)
        index_free(&IX[i]);
}

cJSON *m3_find_po(const char *puno) { return state_lookup(cJSON_GetObjectItem(m3(), "pos"), "PUNO", puno); }
cJSON *m3_find_item(const char *itno) { return state_lookup(cJSON_GetObjectItem(m3(), "items"), "ITNO", itno); }
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
