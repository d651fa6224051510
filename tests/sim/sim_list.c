/*
 * sim_list.c: what the list endpoints of both ShipStation APIs share: the fixed-window
 * rate limiter per key (virtual time), sorting and slicing a filtered list into a page,
 * and the V2 "links" object rebuilt from the request's own query.
 *
 * Not here: which filters a list takes or its envelope (sim_v2.c, sim_v1.c).
 */
#include "sim_list.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rate limit: fixed windows of 60 virtual seconds ---- */

/* Besides the fixed window (what it enforces: 429 on the limit+1-th request in a
 * window that starts with the first request after the last one expired), every
 * key keeps the times of its last RL_HIST allowed requests, to count the allowed
 * requests that came when `limit` others had already come in the 60 s before
 * (rate_sliding_over): a window aligned differently (a server that starts it
 * elsewhere) would have refused them. A client that keeps its limit in every
 * window, wherever it starts, never makes one; one that only got lucky with the
 * sim's alignment does, every time, where a 429 shows only when a window happens
 * to begin at the right request. */
#define RL_HIST 1024

static struct {
    char key[80];
    double start;
    int used;
    double hist[RL_HIST]; /* allowed requests' times, a ring; hn is how many so far */
    unsigned long hn;
} WIN[32];
static long SLIDING_OVER;

long ratelimit_sliding_over(void) { return SLIDING_OVER; }

int ratelimit_take(const char *key, int limit, int *remaining, int *reset_s)
{
    double now = sim_now();
    int slot = -1;
    for (int i = 0; i < 32; i++) {
        if (strcmp(WIN[i].key, key) == 0) {
            slot = i;
            break;
        }
        if (slot < 0 && !WIN[i].key[0])
            slot = i;
    }
    if (slot < 0)
        slot = 0;
    /* another key's slot, or the admin clock set back: the history starts over */
    if (strcmp(WIN[slot].key, key) != 0 ||
        (WIN[slot].hn && now < WIN[slot].hist[(WIN[slot].hn - 1) % RL_HIST]))
        WIN[slot].hn = 0;
    if (strcmp(WIN[slot].key, key) != 0 || now - WIN[slot].start >= 60.0 || now < WIN[slot].start) {
        snprintf(WIN[slot].key, sizeof WIN[slot].key, "%s", key);
        WIN[slot].start = now;
        WIN[slot].used = 0;
    }
    double left_virtual = 60.0 - (now - WIN[slot].start);
    int reset = (int)ceil(left_virtual / SIM->time_scale);
    *reset_s = reset < 1 ? 1 : reset;
    if (WIN[slot].used >= limit) {
        *remaining = 0;
        return 0;
    }
    WIN[slot].used++;
    *remaining = limit - WIN[slot].used;
    /* the limit-th allowed request before this one: less than 60 s ago (beyond the
     * clock's floating-point noise, ~1e-7 s at today's epoch) is one too many */
    unsigned long hn = WIN[slot].hn;
    if (limit <= RL_HIST && hn >= (unsigned long)limit &&
        now - WIN[slot].hist[(hn - (unsigned long)limit) % RL_HIST] < 60.0 - 1e-6)
        SLIDING_OVER++;
    WIN[slot].hist[hn % RL_HIST] = now;
    WIN[slot].hn = hn + 1;
    return 1;
}

/* new limits or state: the windows and the request history start over (the count
 * of sliding-window excesses is a counter: reset with the others on a state load) */
void ratelimit_reset(void) { memset(WIN, 0, sizeof WIN); }

void ratelimit_reset_counters(void) { SLIDING_OVER = 0; }

/* ---- sorting and paging ---- */

typedef struct sort_row {
    double key, seq;
    cJSON *item;
    int desc;
} sort_row;

static int cmp_rows(const void *a, const void *b)
{
    const sort_row *x = a, *y = b;
    int c = x->key < y->key ? -1 : x->key > y->key;
    if (c == 0)
        c = x->seq < y->seq ? -1 : x->seq > y->seq;
    return x->desc ? -c : c;
}

/* keys are read once, not in every comparison: lists of 100k sort in milliseconds */
void list_sort(cJSON **items, size_t n, const char *key, int desc)
{
    if (n < 2)
        return;
    sort_row *rows = malloc(n * sizeof *rows);
    if (!rows)
        abort();
    for (size_t i = 0; i < n; i++) {
        rows[i].key = jnum(items[i], key, 0);
        rows[i].seq = jnum(items[i], "_seq", (double)i);
        rows[i].item = items[i];
        rows[i].desc = desc;
    }
    qsort(rows, n, sizeof *rows, cmp_rows);
    for (size_t i = 0; i < n; i++)
        items[i] = rows[i].item;
    free(rows);
}

cJSON *list_page(cJSON **items, size_t n, long page, long size, long *pages)
{
    cJSON *a = cJSON_CreateArray();
    *pages = n == 0 ? 0 : (long)((n + (size_t)size - 1) / (size_t)size);
    size_t from = (size_t)(page - 1) * (size_t)size;
    for (size_t i = from; i < n && i < from + (size_t)size; i++)
        cJSON_AddItemToArray(a, jclean_copy(items[i]));
    return a;
}

/* ---- V2 links ---- */

typedef struct qs {
    sbuf b;
} qs;

static void url_encode(sbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            sb_addn(b, (const char *)&c, 1);
        else
            sb_printf(b, "%%%02X", c);
    }
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    qs *q = cls;
    if (strcmp(k, "page") == 0)
        return MHD_YES;
    sb_add(&q->b, q->b.n ? "&" : "?");
    url_encode(&q->b, k);
    sb_add(&q->b, "=");
    url_encode(&q->b, v ? v : "");
    return MHD_YES;
}

static cJSON *href(sim_req *rq, const char *query, long page)
{
    cJSON *l = cJSON_CreateObject();
    char *u;
    if (asprintf(&u, "%s%s%s%spage=%ld", SIM->base_url, rq->path, query, query[0] ? "&" : "?", page) < 0)
        return l;
    jset_str(l, "href", u);
    free(u);
    return l;
}

cJSON *v2_links(sim_req *rq, long page, long pages)
{
    qs q = {{0}};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    const char *query = q.b.s ? q.b.s : "";
    cJSON *links = cJSON_CreateObject();
    jset(links, "first", href(rq, query, 1));
    jset(links, "last", href(rq, query, pages > 0 ? pages : 1));
    jset(links, "prev", page > 1 ? href(rq, query, page - 1) : cJSON_CreateObject());
    jset(links, "next", page < pages ? href(rq, query, page + 1) : cJSON_CreateObject());
    free(q.b.s);
    return links;
}

int parse_long_arg(const char *v, long min, long max, long *out)
{
    if (!v)
        return 1;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < min || n > max)
        return 0;
    *out = n;
    return 1;
}

int path_split(const char *path, char seg[][96], int max)
{
    int n = 0;
    const char *p = path;
    while (*p == '/')
        p++;
    while (*p && n < max) {
        size_t l = strcspn(p, "/");
        if (l >= 96)
            return -1;
        memcpy(seg[n], p, l);
        seg[n][l] = 0;
        n++;
        p += l;
        while (*p == '/')
            p++;
    }
    return *p ? -1 : n;
}
