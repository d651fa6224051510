/*
 * sim_m3.c: M3 MI REST v2 through the ION gateway: GET /{ti}/M3/m3api-rest/v2/execute/
 * PGM/TRN with matrix (;maxrecs=;cono=;divi=;returncols=) and query options, and the
 * bulk POST /{ti}/M3/m3api-rest/v2/execute. It owns the v2 envelope (results[],
 * nrOfSuccessfullTransactions [sic]), the bearer check, the field catalogue checks
 * (MandatoryInputFieldNotFound, InputFieldTooLong, types), CONO authorisation (XAU0008),
 * maxrecs/returncols/righttrim/excludempty and output formatting (A fields blank-padded
 * to their length unless righttrim).
 *
 * Not here: what a transaction does (sim_m3_prog.c).
 */
#include "sim_m3.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *CAT;

int m3_catalogue_init(void)
{
    CAT = cJSON_Parse(sim_catalogue_json);
    if (!CAT)
        fprintf(stderr, "mlc-sim: the built-in M3 catalogue does not parse\n");
    return CAT ? 0 : -1;
}

void m3_catalogue_free(void)
{
    cJSON_Delete(CAT);
    CAT = NULL;
}

static cJSON *cat_entry(const char *pgm, const char *trn)
{
    cJSON *p = cJSON_GetObjectItemCaseSensitive(CAT, pgm);
    return p ? cJSON_GetObjectItemCaseSensitive(p, trn) : NULL;
}

/* ---- helpers for programs ---- */

void m3_nok(m3_ctx *c, const char *code, const char *field, const char *fmt, ...)
{
    c->nok = 1;
    snprintf(c->type, sizeof c->type, "ServerReturnedNOK");
    snprintf(c->code, sizeof c->code, "%s", code ? code : "");
    snprintf(c->field, sizeof c->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
}

const char *m3_in(m3_ctx *c, const char *field)
{
    const char *v = jstr(c->in, field);
    return v && v[0] ? v : NULL;
}

int m3_room(m3_ctx *c)
{
    return c->maxrecs <= 0 || cJSON_GetArraySize(c->records) < c->maxrecs;
}

/* ---- options ---- */

typedef struct m3_opts {
    long maxrecs;
    int righttrim, excludempty;
    char returncols[512];
    long cono;
    int have_cono;
} m3_opts;

static int truthy(const char *v) { return v && (str_ieq(v, "true") || strcmp(v, "1") == 0); }

static const char *const CONTROLS[] = {"maxrecs", "returncols", "righttrim", "excludempty", "metadata", "cono",
                                       "divi", "format", "extendedresult", "m3user", "_rid", "lanc",
                                       "dateformat", "timezone", "locale", NULL};

static int is_control(const char *k)
{
    for (int i = 0; CONTROLS[i]; i++)
        if (strcasecmp(k, CONTROLS[i]) == 0)
            return 1;
    return 0;
}

static void set_control(m3_opts *o, const char *k, const char *v)
{
    if (str_ieq(k, "maxrecs"))
        o->maxrecs = strtol(v, NULL, 10);
    else if (str_ieq(k, "righttrim"))
        o->righttrim = truthy(v);
    else if (str_ieq(k, "excludempty"))
        o->excludempty = truthy(v);
    else if (str_ieq(k, "returncols"))
        snprintf(o->returncols, sizeof o->returncols, "%s", v);
    else if (str_ieq(k, "cono") && v[0]) {
        o->cono = strtol(v, NULL, 10);
        o->have_cono = 1;
    }
}

static int is_upper_field(const char *k)
{
    if (!*k)
        return 0;
    for (; *k; k++)
        if (!(isupper((unsigned char)*k) || isdigit((unsigned char)*k)))
            return 0;
    return 1;
}

/* ---- input validation against the catalogue ---- */

static int numeric(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    int digits = 0, dot = 0;
    for (; *s; s++) {
        if (isdigit((unsigned char)*s))
            digits++;
        else if ((*s == '.' || *s == ',') && !dot)
            dot = 1;
        else
            return 0;
    }
    return digits > 0;
}

static cJSON *find_input(cJSON *ins, const char *name)
{
    cJSON *i;
    cJSON_ArrayForEach(i, ins)
        if (strcmp(cJSON_GetArrayItem(i, 0)->valuestring, name) == 0)
            return i;
    return NULL;
}

static void err_type(m3_ctx *c, const char *type, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err_type(m3_ctx *c, const char *type, const char *field, const char *fmt, ...)
{
    c->nok = 1;
    snprintf(c->type, sizeof c->type, "%s", type);
    c->code[0] = 0;
    snprintf(c->field, sizeof c->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
}

static int validate_inputs(m3_ctx *c, cJSON *cat)
{
    cJSON *ins = cJSON_GetObjectItem(cat, "i"), *f;
    cJSON_ArrayForEach(f, c->in) {
        cJSON *def = find_input(ins, f->string);
        if (!def && strcmp(jstrs(cJSON_GetObjectItem(SIM->st, "m3"), "unknown_fields"), "ignore") == 0)
            continue; /* a switch: whether real M3 refuses unknown fields is not documented */
        if (!def) {
            m3_nok(c, "", f->string, "Field %s does not exist in transaction %s", f->string, c->trn);
            return 0;
        }
        const char *type = cJSON_GetArrayItem(def, 2)->valuestring;
        int len = cJSON_GetArrayItem(def, 3)->valueint;
        const char *v = f->valuestring;
        if (len > 0 && (int)strlen(v) > len) {
            err_type(c, "InputFieldTooLong", f->string, "Input field %s is too long, max length %d", f->string,
                     len);
            return 0;
        }
        long ymd;
        if (v[0] && type[0] == 'N' && !numeric(v)) {
            m3_nok(c, "WNU0101", f->string, "Field %s must be numeric", f->string);
            return 0;
        }
        if (v[0] && type[0] == 'D' && parse_m3date(v, &ymd) != 0) {
            m3_nok(c, "WDT0101", f->string, "Date %s is invalid, format is yyyyMMdd", v);
            return 0;
        }
    }
    cJSON_ArrayForEach(f, ins) {
        const char *name = cJSON_GetArrayItem(f, 0)->valuestring;
        if (cJSON_GetArrayItem(f, 1)->valueint && !m3_in(c, name)) {
            err_type(c, "MandatoryInputFieldNotFound", name, "Mandatory input field %s not found", name);
            return 0;
        }
    }
    return 1;
}

static int authorised(m3_ctx *c, const m3_opts *o)
{
    cJSON *m3 = cJSON_GetObjectItem(SIM->st, "m3");
    long mine = (long)jnum(m3, "cono", 100);
    const char *rc = m3_in(c, "CONO");
    c->cono = rc ? strtol(rc, NULL, 10) : o->have_cono ? o->cono : mine;
    if (c->cono != mine && !m3_company_known(c->cono)) {
        m3_nok(c, "XAU0008", "CONO", "Not authorized for company %ld", c->cono);
        return 0;
    }
    return 1;
}

/* ---- output formatting ---- */

static void fmt_value(const cJSON *v, char *out, size_t n)
{
    if (cJSON_IsString(v))
        snprintf(out, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d)
            snprintf(out, n, "%lld", (long long)d);
        else {
            snprintf(out, n, "%.6f", d);
            char *e = out + strlen(out) - 1;
            while (*e == '0')
                *e-- = 0;
        }
    } else if (cJSON_IsBool(v))
        snprintf(out, n, "%d", cJSON_IsTrue(v) ? 1 : 0);
    else
        out[0] = 0;
}

static int col_selected(const char *cols, const char *name)
{
    if (!cols || !cols[0])
        return 1;
    size_t nl = strlen(name);
    for (const char *p = cols; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t l = strcspn(p, ", ");
        if (l == nl && strncmp(p, name, l) == 0)
            return 1;
        p += l;
    }
    return 0;
}

static cJSON *format_record(const cJSON *raw, cJSON *outs, const m3_opts *o, const char *cols)
{
    cJSON *rec = cJSON_CreateObject(), *f;
    cJSON_ArrayForEach(f, outs) {
        const char *name = cJSON_GetArrayItem(f, 0)->valuestring;
        const char *type = cJSON_GetArrayItem(f, 1)->valuestring;
        int len = cJSON_GetArrayItem(f, 2)->valueint;
        if (!col_selected(cols, name))
            continue;
        char val[1200];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(raw, name);
        fmt_value(v, val, sizeof val);
        if (!val[0] && type[0] == 'N')
            snprintf(val, sizeof val, "0");
        if (o->excludempty && (!val[0] || (type[0] == 'N' && strcmp(val, "0") == 0)))
            continue;
        if (type[0] == 'A' && !o->righttrim && len > 0 && (int)strlen(val) < len && len < (int)sizeof val) {
            size_t l = strlen(val);
            memset(val + l, ' ', (size_t)len - l);
            val[len] = 0;
        }
        jset_str(rec, name, val);
    }
    return rec;
}

static void pad_msg(char *out, size_t n, const char *msg, int trim)
{
    snprintf(out, n, "%-130s", msg);
    if (trim) {
        size_t l = strlen(out);
        while (l && out[l - 1] == ' ')
            out[--l] = 0;
    }
}

/* ---- one transaction ---- */

/* Every name in returncols/selectedColumns must be an output field of the
 * transaction. [UNVERIFIED] what M3 answers for one that is not (the research has
 * no example): the sim refuses it with a NOK naming the field, so a column mlc
 * reads but forgot to ask for, or misspelt, fails the tests instead of reading
 * blank. 0 when all are known. */
static int unknown_column(m3_ctx *c, const cJSON *cat, const char *cols)
{
    for (const char *p = cols ? cols : ""; *p;) {
        p += strspn(p, ", ");
        size_t l = strcspn(p, ", ");
        if (l == 0)
            break;
        int known = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(cat, "o"))
        {
            const char *name = cJSON_GetArrayItem(f, 0)->valuestring;
            if (strlen(name) == l && strncmp(name, p, l) == 0)
                known = 1;
        }
        if (!known) {
            char name[40];
            snprintf(name, sizeof name, "%.*s", (int)(l < 32 ? l : 32), p);
            err_type(c, "ServerReturnedNOK", name, "Output field %s does not exist in %s/%s", name, c->pgm,
                     c->trn);
            return 1;
        }
        p += l;
    }
    return 0;
}

/* the m3_partial fault: a list that returns some records, then fails (KB 2159861) */
static void partial_failure(m3_ctx *c)
{
    int n = cJSON_GetArraySize(c->records);
    if (c->nok || n < 1)
        return;
    for (int keep = (n + 1) / 2; cJSON_GetArraySize(c->records) > keep;)
        cJSON_DeleteItemFromArray(c->records, keep);
    m3_nok(c, "CPF9898", "", "Transaction %s ended abnormally after %d records", c->trn, (n + 1) / 2);
}

static cJSON *run_one(const char *pgm, const char *trn, cJSON *in, const m3_opts *o, const char *cols,
                      int *ok, int partial)
{
    m3_ctx c = {0};
    c.pgm = pgm;
    c.trn = trn;
    c.in = in;
    c.records = cJSON_CreateArray();
    c.maxrecs = o->maxrecs;
    cJSON *cat = cat_entry(pgm, trn);
    m3_fn fn = m3_program(pgm, trn);
    if (!cat || !fn)
        err_type(&c, "TransactionNotFound", "", "Transaction %s/%s does not exist", pgm, trn);
    else if (!unknown_column(&c, cat, cols) && validate_inputs(&c, cat) && authorised(&c, o)) {
        fn(&c);
        if (partial)
            partial_failure(&c);
    }
    char label[96];
    snprintf(label, sizeof label, "M3 %s/%s", pgm, trn);
    count_add(label, c.nok ? "NOK" : "OK");
    cJSON *res = cJSON_CreateObject();
    jset_str(res, "transaction", trn);
    cJSON *recs = cJSON_AddArrayToObject(res, "records");
    if (!c.nok || partial) {
        cJSON *r;
        cJSON_ArrayForEach(r, c.records)
            cJSON_AddItemToArray(recs, format_record(r, cJSON_GetObjectItem(cat, "o"), o, cols));
    }
    jset(res, "parameters", cJSON_Duplicate(in, 1));
    char msg[400];
    pad_msg(msg, sizeof msg, c.msg, o->righttrim);
    jset(res, "errorMessage", c.nok ? cJSON_CreateString(msg) : cJSON_CreateNull());
    jset(res, "errorCode", c.nok && c.code[0] ? cJSON_CreateString(c.code) : cJSON_CreateNull());
    jset(res, "errorCfg", cJSON_CreateNull());
    jset(res, "errorField", c.nok && c.field[0] ? cJSON_CreateString(c.field) : cJSON_CreateNull());
    jset(res, "errorType", c.nok ? cJSON_CreateString(c.type) : cJSON_CreateNull());
    jset_bool(res, "notProcessed", 0);
    cJSON_Delete(c.records);
    *ok = !c.nok;
    return res;
}

static cJSON *envelope(cJSON *results, int nok, int nfail)
{
    cJSON *e = cJSON_CreateObject();
    jset(e, "results", results);
    char id[37];
    make_uuid(id);
    jset_str(e, "bulkJobId", id);
    jset_bool(e, "wasTerminated", 0);
    jset(e, "terminationReason", cJSON_CreateNull());
    jset(e, "terminationErrorType", cJSON_CreateNull());
    jset_num(e, "nrOfSuccessfullTransactions", nok);
    jset_num(e, "nrOfFailedTransactions", nfail);
    jset_num(e, "nrOfNotProcessedTransactions", 0);
    return e;
}

static char *trimmed(const char *v)
{
    char *s = xstrdup(v);
    size_t l = strlen(s);
    while (l && s[l - 1] == ' ')
        s[--l] = 0;
    return s;
}

/* ---- GET .../execute/PGM/TRN;matrix?query ---- */

typedef struct get_args {
    m3_opts *o;
    cJSON *in;
} get_args;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    get_args *a = cls;
    if (!v)
        v = "";
    if (is_upper_field(k)) {
        char *t = trimmed(v);
        jset_str(a->in, k, t);
        free(t);
    } else if (is_control(k))
        set_control(a->o, k, v);
    return MHD_YES;
}

/* bulk: query parameters are control options only (matched case-insensitively) */
static enum MHD_Result collect_control(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    if (is_control(k))
        set_control(cls, k, v ? v : "");
    return MHD_YES;
}

static void parse_matrix(char *seg, m3_opts *o)
{
    char *save = NULL;
    for (char *p = strtok_r(seg, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(p, '=');
        if (!eq)
            continue;
        *eq = 0;
        if (is_control(p))
            set_control(o, p, eq + 1);
    }
}

static const char *EXEC = "/" SIM_TENANT "/M3/m3api-rest/v2/execute";
static const char *EXEC_V1 = "/" SIM_TENANT "/M3/m3api-rest/execute";

/* the v1 shape (MIRecord/NameValue, or a bare error object) of one v2 result */
static cJSON *v1_shape(cJSON *res, const char *pgm, const char *trn)
{
    cJSON *recs = cJSON_GetObjectItem(res, "records"), *r, *f;
    const char *type = jstr(res, "errorType");
    cJSON *err = NULL;
    if (type) {
        err = cJSON_CreateObject();
        jset_str(err, "@type", type);
        jset(err, "@code", cJSON_Duplicate(cJSON_GetObjectItem(res, "errorCode"), 1));
        jset(err, "@cfg", cJSON_CreateNull());
        jset(err, "@field", cJSON_Duplicate(cJSON_GetObjectItem(res, "errorField"), 1));
        jset_str(err, "Message", jstr(res, "errorMessage"));
        if (cJSON_GetArraySize(recs) == 0)
            return err;
    }
    cJSON *out = cJSON_CreateObject(), *fields = cJSON_CreateArray(), *mi = cJSON_CreateArray();
    jset_str(out, "Program", pgm);
    jset_str(out, "Transaction", trn);
    cJSON *cat = cat_entry(pgm, trn);
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(cat, "o")) {
        cJSON *d = cJSON_CreateObject();
        jset_str(d, "@name", cJSON_GetArrayItem(f, 0)->valuestring);
        jset_str(d, "@type", cJSON_GetArrayItem(f, 1)->valuestring);
        jset_num(d, "@length", cJSON_GetArrayItem(f, 2)->valuedouble);
        cJSON_AddItemToArray(fields, d);
    }
    cJSON *meta = cJSON_AddObjectToObject(out, "Metadata");
    jset(meta, "Field", fields);
    int i = 0;
    cJSON_ArrayForEach(r, recs) {
        cJSON *row = cJSON_CreateObject(), *nv = cJSON_CreateArray();
        jset_num(row, "RowIndex", i++);
        cJSON_ArrayForEach(f, r) {
            cJSON *p = cJSON_CreateObject();
            jset_str(p, "Name", f->string);
            jset_str(p, "Value", f->valuestring);
            cJSON_AddItemToArray(nv, p);
        }
        jset(row, "NameValue", nv);
        cJSON_AddItemToArray(mi, row);
    }
    jset(out, "MIRecord", mi);
    if (err)
        jset(out, "ErrorMessage", err);
    return out;
}

static int h_get(sim_req *rq, sim_resp *rs)
{
    if (!ion_bearer_ok(rq, rs))
        return 0;
    int v1 = str_has_prefix(rq->path, EXEC_V1) ||
             strcmp(jstrs(cJSON_GetObjectItem(SIM->st, "m3"), "v2_response_shape"), "v1") == 0;
    char pgm[32] = "", trn[64] = "";
    char *spec = xstrdup(rq->path + strlen(str_has_prefix(rq->path, EXEC_V1) ? EXEC_V1 : EXEC) + 1);
    char *semi = strchr(spec, ';');
    m3_opts o = {.maxrecs = 100};
    if (semi) {
        *semi = 0;
        parse_matrix(semi + 1, &o);
    }
    char *slash = strchr(spec, '/');
    if (slash && strlen(spec) < sizeof pgm + sizeof trn) {
        *slash = 0;
        snprintf(pgm, sizeof pgm, "%s", spec);
        snprintf(trn, sizeof trn, "%s", slash + 1);
    }
    free(spec);
    if (!cat_entry(pgm, trn) || !m3_program(pgm, trn)) {
        resp_text(rs, 400, "text/plain", "Bad Request\n"); /* the gateway's bare 400 */
        return 0;
    }
    cJSON *in = cJSON_CreateObject();
    get_args a = {&o, in};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    int ok;
    cJSON *results = cJSON_CreateArray();
    cJSON_AddItemToArray(results, run_one(pgm, trn, in, &o, o.returncols, &ok, rq->fault[0] != 0));
    cJSON_Delete(in);
    if (v1) {
        cJSON *one = v1_shape(cJSON_GetArrayItem(results, 0), pgm, trn);
        cJSON_Delete(results);
        resp_json(rs, 200, one);
    } else
        resp_json(rs, 200, envelope(results, ok, !ok));
    return 0;
}

/* ---- bulk POST .../execute ---- */

static cJSON *record_of(const cJSON *rec, int *bad)
{
    cJSON *in = cJSON_CreateObject(), *f;
    cJSON_ArrayForEach(f, rec) {
        char v[1200];
        if (cJSON_IsString(f) || cJSON_IsNumber(f))
            fmt_value(f, v, sizeof v);
        else if (cJSON_IsNull(f))
            v[0] = 0;
        else {
            *bad = 1;
            continue;
        }
        char *t = trimmed(v);
        jset_str(in, f->string, t);
        free(t);
    }
    return in;
}

static void body_options(const cJSON *b, m3_opts *o)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItem(b, "cono")) && (cJSON_IsNumber(v) || cJSON_IsString(v))) {
        o->cono = cJSON_IsNumber(v) ? (long)v->valuedouble : strtol(v->valuestring, NULL, 10);
        o->have_cono = 1;
    }
    if ((v = cJSON_GetObjectItem(b, "maxReturnedRecords")) && cJSON_IsNumber(v))
        o->maxrecs = (long)v->valuedouble;
    if ((v = cJSON_GetObjectItem(b, "rightTrim")) && cJSON_IsBool(v))
        o->righttrim = cJSON_IsTrue(v);
    if ((v = cJSON_GetObjectItem(b, "excludeEmptyValues")) && cJSON_IsBool(v))
        o->excludempty = cJSON_IsTrue(v);
}

static void selected_cols(const cJSON *t, char *out, size_t n, const char *dflt)
{
    const cJSON *sc = cJSON_GetObjectItem(t, "selectedColumns"), *c;
    snprintf(out, n, "%s", dflt);
    if (!cJSON_IsArray(sc))
        return;
    out[0] = 0;
    size_t used = 0;
    cJSON_ArrayForEach(c, sc) if (cJSON_IsString(c) && used + strlen(c->valuestring) + 2 < n)
    {
        used += (size_t)snprintf(out + used, n - used, "%s%s", used ? "," : "", c->valuestring);
    }
}

static int h_bulk(sim_req *rq, sim_resp *rs)
{
    if (!ion_bearer_ok(rq, rs))
        return 0;
    cJSON *b = rq->body ? cJSON_Parse(rq->body) : NULL;
    const char *pgm = jstr(b, "program");
    cJSON *ts = cJSON_GetObjectItem(b, "transactions");
    if (!cJSON_IsObject(b) || !pgm || !cJSON_IsArray(ts) || !cJSON_GetObjectItemCaseSensitive(CAT, pgm)) {
        cJSON_Delete(b);
        resp_text(rs, 400, "text/plain", "Bad Request\n");
        return 0;
    }
    m3_opts o = {.maxrecs = 100};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_control, &o);
    body_options(b, &o);
    cJSON *results = cJSON_CreateArray(), *t;
    int nok = 0, nfail = 0;
    cJSON_ArrayForEach(t, ts) {
        const char *trn = jstr(t, "transaction");
        int bad = 0, ok = 0;
        cJSON *in = record_of(cJSON_GetObjectItem(t, "record"), &bad);
        char cols[512];
        selected_cols(t, cols, sizeof cols, o.returncols);
        cJSON *res = run_one(pgm, trn ? trn : "", in, &o, cols, &ok, rq->fault[0] != 0);
        cJSON_Delete(in);
        cJSON_AddItemToArray(results, res);
        ok ? nok++ : nfail++;
    }
    cJSON_Delete(b);
    resp_json(rs, 200, envelope(results, nok, nfail));
    return 0;
}

sim_handler route_m3(sim_req *rq)
{
    size_t el = strlen(EXEC);
    if (str_has_prefix(rq->path, EXEC_V1) && rq->path[strlen(EXEC_V1)] == '/' && strcmp(rq->method, "GET") == 0) {
        char spec[96];
        rq->system = 'M';
        snprintf(spec, sizeof spec, "%s", rq->path + strlen(EXEC_V1) + 1);
        spec[strcspn(spec, ";")] = 0;
        snprintf(rq->label, sizeof rq->label, "M3 GET v1");
        snprintf(rq->keys[rq->nkeys++], sizeof rq->keys[0], "M3 %s", spec);
        return h_get;
    }
    if (!str_has_prefix(rq->path, EXEC))
        return NULL;
    rq->system = 'M';
    if (rq->path[el] == '\0' && strcmp(rq->method, "POST") == 0) {
        snprintf(rq->label, sizeof rq->label, "M3 bulk");
        cJSON *b = rq->body ? cJSON_Parse(rq->body) : NULL;
        const char *pgm = jstr(b, "program");
        cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItem(b, "transactions")) {
            char key[96];
            if (!pgm || !jstr(t, "transaction"))
                continue;
            snprintf(key, sizeof key, "M3 %s/%s", pgm, jstr(t, "transaction"));
            int seen = 0;
            for (int i = 0; i < rq->nkeys; i++)
                seen |= strcmp(rq->keys[i], key) == 0;
            if (!seen && rq->nkeys < 8)
                snprintf(rq->keys[rq->nkeys++], sizeof rq->keys[0], "%s", key);
        }
        cJSON_Delete(b);
        return h_bulk;
    }
    if (rq->path[el] == '/' && strcmp(rq->method, "GET") == 0) {
        char spec[96];
        snprintf(spec, sizeof spec, "%s", rq->path + el + 1);
        spec[strcspn(spec, ";")] = 0;
        snprintf(rq->label, sizeof rq->label, "M3 GET");
        snprintf(rq->keys[rq->nkeys++], sizeof rq->keys[0], "M3 %s", spec);
        return h_get;
    }
    snprintf(rq->label, sizeof rq->label, "M3 %s (unrouted)", rq->method);
    return NULL;
}
