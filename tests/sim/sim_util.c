/*
 * sim_util.c: small helpers every part of mlc-sim uses: cJSON accessors, a string
 * builder, seeded PRNGs and ids, response builders, request header/argument access,
 * form decoding and the request counters.
 *
 * Not here: any API behaviour (each system has its own file).
 */
#include "sim.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *jstrs(const cJSON *o, const char *k)
{
    const char *s = jstr(o, k);
    return s ? s : "";
}

double jnum(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        double d = strtod(v->valuestring, &end);
        if (*end == '\0')
            return d;
    }
    return def;
}

int jbool(const cJSON *o, const char *k, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v);
    return def;
}

cJSON *jarr(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsArray(v)) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
        v = cJSON_AddArrayToObject(o, k);
    }
    return v;
}

cJSON *jobj(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsObject(v)) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
        v = cJSON_AddObjectToObject(o, k);
    }
    return v;
}

void jset(cJSON *o, const char *k, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, k))
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
    else
        cJSON_AddItemToObject(o, k, v);
}

void jset_str(cJSON *o, const char *k, const char *v)
{
    jset(o, k, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

void jset_num(cJSON *o, const char *k, double v) { jset(o, k, cJSON_CreateNumber(v)); }

/* internal "_" numbers (times, sequence) sit first, so list filters find them at once */
void jset_num_front(cJSON *o, const char *k, double v)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    if (it && cJSON_IsNumber(it))
        cJSON_SetNumberValue(it, v);
    else {
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
        it = cJSON_AddNumberToObject(o, k, v);
    }
    if (it && o->child != it) {
        cJSON_DetachItemViaPointer(o, it);
        cJSON_InsertItemInArray(o, 0, it);
    }
}
void jset_bool(cJSON *o, const char *k, int v) { jset(o, k, cJSON_CreateBool(v)); }

void jreplace_inplace(cJSON *dst, cJSON *src)
{
    cJSON *c;
    while ((c = dst->child))
        cJSON_Delete(cJSON_DetachItemViaPointer(dst, c));
    while ((c = src->child)) {
        char key[128]; /* the add frees the item's key before copying it */
        snprintf(key, sizeof key, "%s", c->string ? c->string : "");
        cJSON_AddItemToObject(dst, key, cJSON_DetachItemViaPointer(src, c));
    }
    cJSON_Delete(src);
}

cJSON *jclean_copy(const cJSON *o)
{
    cJSON *c = cJSON_Duplicate(o, 1);
    if (!cJSON_IsObject(c))
        return c;
    cJSON *it = c->child;
    while (it) {
        cJSON *next = it->next;
        if (it->string && it->string[0] == '_')
            cJSON_Delete(cJSON_DetachItemViaPointer(c, it));
        it = next;
    }
    return c;
}

/* splitmix64: small, seedable, good enough for reproducible faults */
uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) / 9007199254740992.0; }

long next_id(const char *counter)
{
    cJSON *ids = jobj(SIM->st, "_ids");
    long v = (long)jnum(ids, counter, 0) + 1;
    jset_num(ids, counter, (double)v);
    return v;
}

/* an id not yet used in arr[key]: seeds may carry ids the counters never issued */
long fresh_id(const char *counter, long base, cJSON *arr, const char *key)
{
    for (;;) {
        long id = base + next_id(counter);
        if (!state_lookup_num(arr, key, (double)id))
            return id;
    }
}

void fresh_se_id(char *out, size_t n, const char *counter, long base, cJSON *arr, const char *key)
{
    for (;;) {
        snprintf(out, n, "se-%ld", base + next_id(counter));
        if (!state_lookup(arr, key, out))
            return;
    }
}

void make_uuid(char out[37])
{
    uint64_t a = rng_next(&SIM->misc_rng), b = rng_next(&SIM->misc_rng);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)((b >> 48) & 0x3fff) | 0x8000,
             (unsigned long long)(b & 0xffffffffffffULL));
}

void resp_text(sim_resp *rs, int status, const char *ctype, const char *text)
{
    rs->status = status;
    free(rs->body);
    rs->body = text ? xstrdup(text) : NULL;
    rs->ctype = ctype;
}

void resp_json(sim_resp *rs, int status, cJSON *j)
{
    rs->status = status;
    free(rs->body);
    rs->body = cJSON_PrintUnformatted(j);
    rs->ctype = "application/json; charset=utf-8";
    cJSON_Delete(j);
}

void resp_header(sim_resp *rs, const char *name, const char *fmt, ...)
{
    int i;
    for (i = 0; i < rs->nhdr; i++)
        if (strcasecmp(rs->hname[i], name) == 0)
            break;
    if (i == rs->nhdr) {
        if (rs->nhdr >= 8)
            return;
        rs->nhdr++;
    }
    snprintf(rs->hname[i], sizeof rs->hname[i], "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rs->hval[i], sizeof rs->hval[i], fmt, ap);
    va_end(ap);
}

const char *req_header(sim_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *req_arg(sim_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

int req_basic_auth(sim_req *rq, char *user, size_t ulen, char *pass, size_t plen)
{
    const char *h = req_header(rq, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return 0;
    const char *b64 = h + 6;
    while (*b64 == ' ')
        b64++;
    size_t n = strlen(b64);
    if (n == 0 || n > 1024 || n % 4)
        return 0;
    unsigned char dec[800];
    int len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
    if (len < 0)
        return 0;
    while (n > 0 && b64[n - 1] == '=') {
        len--;
        n--;
    }
    dec[len] = 0;
    char *colon = memchr(dec, ':', (size_t)len);
    if (!colon)
        return 0;
    *colon = 0;
    snprintf(user, ulen, "%s", (char *)dec);
    snprintf(pass, plen, "%s", colon + 1);
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* x-www-form-urlencoded lookup; returns 1 if key present */
int form_get(const char *body, const char *key, char *out, size_t outlen)
{
    if (!body)
        return 0;
    size_t kl = strlen(key);
    const char *p = body;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t o = 0;
            for (size_t i = kl + 1; i < seg && o + 1 < outlen; i++) {
                char c = p[i];
                if (c == '+')
                    c = ' ';
                else if (c == '%' && i + 2 < seg + 1 && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
                    c = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                    i += 2;
                }
                out[o++] = c;
            }
            out[o] = 0;
            return 1;
        }
        p += seg;
        if (*p == '&')
            p++;
    }
    return 0;
}

int str_ieq(const char *a, const char *b) { return a && b && strcasecmp(a, b) == 0; }
int str_has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns)
            abort();
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

void sb_add(sbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sb_addn(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_addn(b, big, (size_t)n);
    free(big);
}

void count_add(const char *label, const char *status)
{
    char key[256];
    snprintf(key, sizeof key, "%s %s", label, status);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(SIM->counts, key);
    if (v)
        cJSON_SetNumberValue(v, v->valuedouble + 1);
    else
        cJSON_AddNumberToObject(SIM->counts, key, 1);
}
