/*
 * m3_parse.c: the M3 MI response parser and the result accessors (see m3.h):
 * the v2 {results[]} shape, the v1 {MIRecord[]} shape and the bare v1 error, every
 * value right-trimmed, the first NOK as the error message.
 * Not here: requests, URLs, tokens (lib/m3.c), which program does what (callers).
 */
#include "m3.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- results ------------------------------------------------------------ */

typedef struct m3_tx {
    char *transaction;
    cJSON *records; /* array of objects {FIELD: "trimmed value"} */
    int ok;
    int not_processed;
    char *message, *code, *type, *field;
} m3_tx;

struct mlc_m3_result {
    m3_tx *tx;
    size_t ntx;
    int ok;
    long http_status;
    int terminated;
};

static const char *nz(const char *s) { return s ? s : ""; }

/* Length of s without its trailing blanks (M3 pads alphanumeric fields). */
static size_t rtrim_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return n;
}

static char *rtrim_dup(const char *s) { return strndup(s, rtrim_len(s)); }

/* A JSON scalar as a trimmed string; NULL for null/absent. */
static char *scalar_str(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsString(v))
        return rtrim_dup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        char buf[64];
        double d = v->valuedouble;
        if (fabs(d) < 9.2e18 && d == (double)(long long)d) /* the cast is undefined out of range */
            snprintf(buf, sizeof buf, "%lld", (long long)d);
        else
            snprintf(buf, sizeof buf, "%.15g", d);
        return strdup(buf);
    }
    if (cJSON_IsBool(v))
        return strdup(cJSON_IsTrue(v) ? "true" : "false");
    return NULL;
}

void mlc_m3_result_free(mlc_m3_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ntx; i++) {
        free(r->tx[i].transaction);
        cJSON_Delete(r->tx[i].records);
        free(r->tx[i].message);
        free(r->tx[i].code);
        free(r->tx[i].type);
        free(r->tx[i].field);
    }
    free(r->tx);
    free(r);
}

static m3_tx *add_tx(mlc_m3_result *r)
{
    m3_tx *n = realloc(r->tx, (r->ntx + 1) * sizeof *n);
    if (!n)
        return NULL;
    r->tx = n;
    m3_tx *t = &n[r->ntx++];
    memset(t, 0, sizeof *t);
    t->ok = 1;
    t->records = cJSON_CreateArray();
    return t->records ? t : NULL;
}

/* Turns a parsed record object into the flat shape in place (every value a
 * right-trimmed string), so the v2 records need no copy: strings are cut where
 * their trailing blanks start, other scalars become their text, anything else "". */
static int flatten_in_place(cJSON *rec)
{
    cJSON *f;
    cJSON_ArrayForEach(f, rec)
    {
        if (cJSON_IsString(f)) {
            f->valuestring[rtrim_len(f->valuestring)] = '\0';
            continue;
        }
        char *v = scalar_str(f);
        cJSON *str = cJSON_CreateString(v ? v : "");
        free(v);
        if (!str)
            return -1;
        cJSON *old = f;
        str->string = old->string; /* the key moves over; old is freed without it */
        old->string = NULL;
        f = str; /* the loop goes on from the replacement, which takes old's place */
        cJSON_ReplaceItemViaPointer(rec, old, str);
    }
    return 0;
}

/* Takes the v2 "records" array out of the parsed response into t->records, in
 * place: objects are flattened, anything else in the array is dropped. */
static int take_v2_records(m3_tx *t, cJSON *res)
{
    cJSON *recs = cJSON_GetObjectItemCaseSensitive(res, "records");
    if (!cJSON_IsArray(recs))
        return 0;
    cJSON_DetachItemViaPointer(res, recs);
    cJSON *rec = recs->child;
    while (rec) {
        cJSON *next = rec->next;
        if (!cJSON_IsObject(rec))
            cJSON_Delete(cJSON_DetachItemViaPointer(recs, rec));
        else if (flatten_in_place(rec) != 0) {
            cJSON_Delete(recs);
            return -1;
        }
        rec = next;
    }
    cJSON_Delete(t->records);
    t->records = recs;
    return 0;
}

static void set_tx_error(m3_tx *t, const cJSON *msg, const cJSON *code, const cJSON *type,
                         const cJSON *field)
{
    t->ok = 0;
    free(t->message);
    free(t->code);
    free(t->type);
    free(t->field);
    t->message = scalar_str(msg);
    t->code = scalar_str(code);
    t->type = scalar_str(type);
    t->field = scalar_str(field);
    if (!t->message || !*t->message) {
        free(t->message);
        t->message = strdup(t->type && *t->type ? t->type : "M3 returned an error");
    }
}

static int parse_v2(mlc_m3_result *r, cJSON *root)
{
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(root, "results");
    cJSON *res;
    cJSON_ArrayForEach(res, results)
    {
        m3_tx *t = add_tx(r);
        if (!t)
            return -1;
        t->transaction = scalar_str(cJSON_GetObjectItemCaseSensitive(res, "transaction"));
        if (take_v2_records(t, res) != 0)
            return -1;
        const cJSON *em = cJSON_GetObjectItemCaseSensitive(res, "errorMessage");
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(res, "errorCode");
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(res, "errorType");
        const cJSON *ef = cJSON_GetObjectItemCaseSensitive(res, "errorField");
        const cJSON *np = cJSON_GetObjectItemCaseSensitive(res, "notProcessed");
        int has_err = (cJSON_IsString(em) && em->valuestring[0]) ||
                      (cJSON_IsString(et) && et->valuestring[0]) ||
                      (cJSON_IsString(ec) && ec->valuestring[0]);
        if (has_err)
            set_tx_error(t, em, ec, et, ef);
        if (cJSON_IsTrue(np)) {
            t->not_processed = 1;
            if (t->ok) {
                cJSON *m = cJSON_CreateString("not processed (bulk job terminated)");
                set_tx_error(t, m, NULL, NULL, NULL);
                cJSON_Delete(m);
            }
        }
    }
    const cJSON *term = cJSON_GetObjectItemCaseSensitive(root, "wasTerminated");
    const cJSON *failed = cJSON_GetObjectItemCaseSensitive(root, "nrOfFailedTransactions");
    r->terminated = cJSON_IsTrue(term);
    int any_fail = 0;
    for (size_t i = 0; i < r->ntx; i++)
        any_fail |= !r->tx[i].ok;
    if (!any_fail && ((cJSON_IsNumber(failed) && failed->valuedouble > 0) || r->terminated)) {
        /* counters say something failed but no result carries it */
        if (r->ntx == 0 && !add_tx(r))
            return -1;
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(root, "terminationReason");
        cJSON *m = cJSON_CreateString(cJSON_IsString(reason) ? reason->valuestring
                                                             : "M3 reported failed transactions");
        set_tx_error(&r->tx[r->ntx - 1], m, NULL,
                     cJSON_GetObjectItemCaseSensitive(root, "terminationErrorType"), NULL);
        cJSON_Delete(m);
    }
    return 0;
}

static void set_v1_error(m3_tx *t, const cJSON *e)
{
    set_tx_error(t, cJSON_GetObjectItemCaseSensitive(e, "Message"),
                 cJSON_GetObjectItemCaseSensitive(e, "@code"),
                 cJSON_GetObjectItemCaseSensitive(e, "@type"),
                 cJSON_GetObjectItemCaseSensitive(e, "@field"));
}

static int parse_v1(mlc_m3_result *r, const cJSON *root)
{
    m3_tx *t = add_tx(r);
    if (!t)
        return -1;
    t->transaction = scalar_str(cJSON_GetObjectItemCaseSensitive(root, "Transaction"));
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "MIRecord");
    const cJSON *rec;
    cJSON_ArrayForEach(rec, recs)
    {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return -1;
        const cJSON *nv;
        cJSON_ArrayForEach(nv, cJSON_GetObjectItemCaseSensitive(rec, "NameValue"))
        {
            char *name = scalar_str(cJSON_GetObjectItemCaseSensitive(nv, "Name"));
            char *val = scalar_str(cJSON_GetObjectItemCaseSensitive(nv, "Value"));
            if (name && *name)
                cJSON_AddStringToObject(o, name, val ? val : "");
            free(name);
            free(val);
        }
        cJSON_AddItemToArray(t->records, o);
    }
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(root, "ErrorMessage");
    if (cJSON_IsObject(em))
        set_v1_error(t, em);
    else if (cJSON_IsString(em) && em->valuestring[0])
        set_tx_error(t, em, NULL, NULL, NULL);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "@type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "ServerReturnedNOK") == 0)
        set_v1_error(t, root);
    return 0;
}

mlc_err mlc_m3_result_parse(const char *body, size_t len, const char *what,
                            mlc_m3_result **out, mlc_error *err)
{
    *out = NULL;
    if (!what)
        what = "M3";
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: response is not a JSON object", what);
    }
    mlc_m3_result *r = calloc(1, sizeof *r);
    if (!r) {
        cJSON_Delete(root);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    int rc = 0, known = 1;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "@type");
    if (cJSON_GetObjectItemCaseSensitive(root, "results"))
        rc = parse_v2(r, root);
    else if (cJSON_GetObjectItemCaseSensitive(root, "MIRecord") ||
             cJSON_GetObjectItemCaseSensitive(root, "Program") ||
             cJSON_GetObjectItemCaseSensitive(root, "ErrorMessage"))
        rc = parse_v1(r, root);
    else if (cJSON_IsString(type)) {
        /* bare v1 error */
        m3_tx *t = add_tx(r);
        if (!t)
            rc = -1;
        else
            set_v1_error(t, root);
    } else
        known = 0;
    cJSON_Delete(root);
    if (rc != 0) {
        mlc_m3_result_free(r);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    if (!known) {
        mlc_m3_result_free(r);
        return mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: unrecognised response shape", what);
    }
    r->ok = 1;
    for (size_t i = 0; i < r->ntx; i++)
        if (!r->tx[i].ok)
            r->ok = 0;
    *out = r;
    if (!r->ok) {
        const m3_tx *t = NULL;
        for (size_t i = 0; i < r->ntx && !t; i++)
            if (!r->tx[i].ok)
                t = &r->tx[i];
        char extra[160] = "";
        if (t->code && *t->code && t->field && *t->field)
            snprintf(extra, sizeof extra, " (%s, field %s)", t->code, t->field);
        else if (t->code && *t->code)
            snprintf(extra, sizeof extra, " (%s)", t->code);
        else if (t->type && *t->type)
            snprintf(extra, sizeof extra, " (%s)", t->type);
        if (r->ntx > 1) {
            size_t nfail = 0;
            for (size_t i = 0; i < r->ntx; i++)
                nfail += !r->tx[i].ok;
            return mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: %zu of %zu transactions failed; "
                                 "first: %s%s", what, nfail, r->ntx, t->message, extra);
        }
        return mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: %s%s", what, t->message, extra);
    }
    return MLC_OK;
}

static const m3_tx *first_tx(const mlc_m3_result *r)
{
    return r && r->ntx ? &r->tx[0] : NULL;
}

static const m3_tx *first_err(const mlc_m3_result *r)
{
    for (size_t i = 0; r && i < r->ntx; i++)
        if (!r->tx[i].ok)
            return &r->tx[i];
    return NULL;
}

size_t mlc_m3_result_count(const mlc_m3_result *r)
{
    const m3_tx *t = first_tx(r);
    return t ? (size_t)cJSON_GetArraySize(t->records) : 0;
}

const char *mlc_m3_result_get(const mlc_m3_result *r, size_t i, const char *field)
{
    return mlc_m3_result_tx_get(r, 0, i, field);
}

int mlc_m3_result_ok(const mlc_m3_result *r) { return r && r->ok; }
const char *mlc_m3_result_message(const mlc_m3_result *r) { const m3_tx *t = first_err(r); return t ? nz(t->message) : ""; }
const char *mlc_m3_result_code(const mlc_m3_result *r) { const m3_tx *t = first_err(r); return t ? nz(t->code) : ""; }
const char *mlc_m3_result_type(const mlc_m3_result *r) { const m3_tx *t = first_err(r); return t ? nz(t->type) : ""; }
const char *mlc_m3_result_field(const mlc_m3_result *r) { const m3_tx *t = first_err(r); return t ? nz(t->field) : ""; }
long mlc_m3_result_http_status(const mlc_m3_result *r) { return r ? r->http_status : 0; }

size_t mlc_m3_result_tx_count(const mlc_m3_result *r) { return r ? r->ntx : 0; }
int mlc_m3_result_tx_ok(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx && r->tx[tx].ok; }
int mlc_m3_result_tx_not_processed(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx && r->tx[tx].not_processed; }
const char *mlc_m3_result_tx_message(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx ? nz(r->tx[tx].message) : ""; }
const char *mlc_m3_result_tx_code(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx ? nz(r->tx[tx].code) : ""; }
const char *mlc_m3_result_tx_type(const mlc_m3_result *r, size_t tx) { return r && tx < r->ntx ? nz(r->tx[tx].type) : ""; }

size_t mlc_m3_result_tx_record_count(const mlc_m3_result *r, size_t tx)
{
    return r && tx < r->ntx ? (size_t)cJSON_GetArraySize(r->tx[tx].records) : 0;
}

const char *mlc_m3_result_tx_get(const mlc_m3_result *r, size_t tx, size_t i, const char *field)
{
    if (!r || tx >= r->ntx || !field)
        return NULL;
    const cJSON *rec = cJSON_GetArrayItem(r->tx[tx].records, (int)i);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}


void mlc_m3_result_set_http_status(mlc_m3_result *r, long status)
{
    if (r)
        r->http_status = status;
}
