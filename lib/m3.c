/*
 * m3.c: M3 MI REST v2 client (see m3.h): construction from options, URL building
 * with CONO/DIVI from the transaction table (lib/m3_table.c, generated), column
 * selection, GET execute and bulk POST with bearer token and one replay on 401.
 * Not here: the response parser (lib/m3_parse.c), config (lib/setup.c turns it into
 * mlc_m3_opts), business meaning of programs, retry queues, token handling (ionapi).
 */
#include "m3.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- client ------------------------------------------------------------- */

struct mlc_m3 {
    mlc_ionapi *ion;
    int own_ion;
    mlc_http *http;
    int own_http;
    mlc_vault *vault;
    int own_vault;
    mlc_log *log;
    long long cono;
    char divi[16];
    char *source;
    long last_status; /* HTTP status of the last call's answer, 0 = none */
    int last_sent;    /* the last call's request went out (or may have) */
    int select_columns; /* cloudsuite.select_columns */
    mlc_m3_bulk_company bulk_company; /* cloudsuite.bulk_company */
    struct m3_sel *sel; /* the columns callers read, per transaction */
    size_t nsel;
};

long mlc_m3_last_http_status(const mlc_m3 *m3) { return m3 ? m3->last_status : 0; }
int mlc_m3_last_sent(const mlc_m3 *m3) { return m3 ? m3->last_sent : 0; }

/* ---- URL ---------------------------------------------------------------- */

static int valid_name(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_')
            return 0;
    return n > 0 && n <= max;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void sb_enc(sbuf *b, const char *s)
{
    char *e = mlc_http_urlencode(s);
    if (!e) {
        b->oom = 1;
        return;
    }
    sb_add(b, e);
    free(e);
}

/* ---- column selection --------------------------------------------------
 * M3 answers every output field of a transaction unless asked for fewer: a GET
 * names them in the matrix parameter returncols (m3-odin's MIServiceCore builds
 * ";returncols=CUNO"; Doppio sends "returncols=MINM,TRNM,SIMU"), a bulk request per
 * transaction in selectedColumns (a string array in BulkMIService's request model)
 * [CODE, research: infor.md section 3, "Matrix parameters" and "v2 bulk"].  PPS200MI
 * GetHead has 61 output fields, LstLine 95, MMS200MI GetItmBasic 118: mlc reads 2-11
 * of them, and the rest was most of a cron run's memory.  [UNVERIFIED] what M3 does
 * with a column name the transaction does not have (the research has no example):
 * cloudsuite.select_columns: false turns the selection off. */
typedef struct m3_sel {
    char *pgm_trn;
    char *cols; /* "A,B,C"; NULL: every column (a name we could not pass on) */
} m3_sel;

static int col_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

static int has_col(const char *list, const char *name, size_t n)
{
    for (const char *p = list; p && *p;) {
        size_t l = strcspn(p, ",");
        if (l == n && strncmp(p, name, n) == 0)
            return 1;
        p += l;
        if (*p == ',')
            p++;
    }
    return 0;
}

static m3_sel *find_sel(const mlc_m3 *m3, const char *pgm_trn)
{
    for (size_t i = 0; i < m3->nsel; i++)
        if (strcmp(m3->sel[i].pgm_trn, pgm_trn) == 0)
            return &m3->sel[i];
    return NULL;
}

void mlc_m3_columns(mlc_m3 *m3, const char *pgm_trn, const char *cols)
{
    if (!m3 || !pgm_trn || !cols)
        return;
    m3_sel *s = find_sel(m3, pgm_trn);
    if (!s) {
        m3_sel *grown = realloc(m3->sel, (m3->nsel + 1) * sizeof *grown);
        if (!grown)
            return; /* no selection: every column, as before */
        m3->sel = grown;
        s = &m3->sel[m3->nsel];
        s->pgm_trn = strdup(pgm_trn);
        s->cols = strdup("");
        if (!s->pgm_trn || !s->cols) {
            free(s->pgm_trn);
            free(s->cols);
            return;
        }
        m3->nsel++;
    } else if (!s->cols)
        return; /* already every column */
    for (const char *p = cols; *p;) {
        p += strspn(p, ", ");
        size_t l = strcspn(p, ", ");
        if (l == 0)
            break;
        if (!col_name_ok(p, l)) {
            free(s->cols); /* a name we cannot pass on: ask for every column */
            s->cols = NULL;
            return;
        }
        if (!has_col(s->cols, p, l)) {
            size_t ol = strlen(s->cols);
            char *grown = realloc(s->cols, ol + l + 2);
            if (!grown) {
                free(s->cols);
                s->cols = NULL;
                return;
            }
            s->cols = grown;
            snprintf(s->cols + ol, l + 2, "%s%.*s", ol ? "," : "", (int)l, p);
        }
        p += l;
    }
}

/* The columns to ask pgm/trn for, or NULL for every column. */
static const char *selected(const mlc_m3 *m3, const char *pgm, const char *trn)
{
    if (!m3->select_columns || m3->nsel == 0)
        return NULL;
    char key[64];
    snprintf(key, sizeof key, "%s/%s", pgm, trn);
    const m3_sel *s = find_sel(m3, key);
    return s && s->cols && *s->cols ? s->cols : NULL;
}

/* cols: ;returncols=, or NULL; session_cono > 0: ;cono= (the API session's company). */
static char *build_url(const char *api_base, const char *pgm, const char *trn, const mlc_m3_field *in,
                       size_t nin, int maxrecs, const char *cols, long long session_cono);

char *mlc_m3_build_url(const char *api_base, const char *pgm, const char *trn,
                       const mlc_m3_field *in, size_t nin, int maxrecs)
{
    return build_url(api_base, pgm, trn, in, nin, maxrecs, NULL, 0);
}

static char *build_url(const char *api_base, const char *pgm, const char *trn, const mlc_m3_field *in,
                       size_t nin, int maxrecs, const char *cols, long long session_cono)
{
    sbuf b = {0};
    size_t bl = strlen(api_base);
    while (bl > 0 && api_base[bl - 1] == '/')
        bl--;
    char *base = strndup(api_base, bl);
    if (!base)
        return NULL;
    sb_add(&b, base);
    free(base);
    sb_add(&b, "/M3/m3api-rest/v2/execute/");
    sb_enc(&b, pgm);
    sb_add(&b, "/");
    sb_enc(&b, trn);
    char mr[32];
    snprintf(mr, sizeof mr, ";maxrecs=%d", maxrecs < 0 ? 0 : maxrecs);
    sb_add(&b, mr);
    if (cols) {
        sb_add(&b, ";returncols=");
        sb_add(&b, cols); /* names checked by mlc_m3_columns: letters, digits, '_' and ',' */
    }
    if (session_cono > 0) {
        snprintf(mr, sizeof mr, ";cono=%lld", session_cono);
        sb_add(&b, mr);
    }
    for (size_t i = 0; i < nin; i++) {
        sb_add(&b, i == 0 ? "?" : "&");
        sb_enc(&b, in[i].name);
        sb_add(&b, "=");
        sb_enc(&b, in[i].value ? in[i].value : "");
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- construction ------------------------------------------------------- */

void mlc_m3_free(mlc_m3 *m3)
{
    if (!m3)
        return;
    if (m3->own_ion)
        mlc_ionapi_free(m3->ion);
    if (m3->own_http)
        mlc_http_free(m3->http);
    if (m3->own_vault)
        mlc_vault_free(m3->vault);
    free(m3->source);
    for (size_t i = 0; i < m3->nsel; i++) {
        free(m3->sel[i].pgm_trn);
        free(m3->sel[i].cols);
    }
    free(m3->sel);
    free(m3);
}

mlc_err mlc_m3_new_with(const mlc_m3_opts *o, mlc_m3 **out, mlc_error *err)
{
    *out = NULL;
    mlc_m3 *m = calloc(1, sizeof *m);
    if (!m) {
        if (o->own_ion)
            mlc_ionapi_free(o->ion);
        if (o->own_vault)
            mlc_vault_free(o->vault);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    /* from here on mlc_m3_free() frees what the options handed over */
    m->ion = o->ion;
    m->own_ion = o->own_ion;
    m->vault = o->vault;
    m->own_vault = o->own_vault;
    m->http = o->http;
    m->log = o->log;
    m->cono = o->cono > 0 ? o->cono : 0;
    snprintf(m->divi, sizeof m->divi, "%s", o->divi ? o->divi : "");
    m->select_columns = !o->all_columns;
    m->bulk_company = o->bulk_company;
    mlc_err rc = MLC_OK;
    if (!m->ion)
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "M3: no ION API credentials");
    if (!rc && o->source && !(m->source = strdup(o->source)))
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (!rc && !m->http) {
        /* the client's own HTTP handle: the ION API and token URLs are checked
         * (https, or http to loopback) and the token functions attached to it */
        mlc_ionapi_register_secrets(m->ion, m->log);
        rc = mlc_http_check_url(mlc_ionapi_api_base(m->ion), err);
        if (!rc)
            rc = mlc_http_check_url(mlc_ionapi_token_url(m->ion), err);
        mlc_http_opts ho = o->http_opts;
        if (!ho.log)
            ho.log = m->log;
        if (!rc && (rc = mlc_http_new(&ho, &m->http, err)) == MLC_OK) {
            m->own_http = 1;
            mlc_ionapi_attach(m->ion, m->http, m->vault, m->log, o->token_margin);
        }
    }
    if (rc) {
        mlc_m3_free(m);
        return rc;
    }
    *out = m;
    return MLC_OK;
}

void mlc_m3_set_select_columns(mlc_m3 *m3, int on)
{
    if (m3)
        m3->select_columns = on != 0;
}

mlc_ionapi *mlc_m3_ionapi(mlc_m3 *m3) { return m3->ion; }
mlc_http *mlc_m3_http(mlc_m3 *m3) { return m3->http; }
mlc_vault *mlc_m3_vault(mlc_m3 *m3) { return m3->vault; }
long long mlc_m3_cono(const mlc_m3 *m3) { return m3->cono; }
const char *mlc_m3_divi(const mlc_m3 *m3) { return m3->divi; }
const char *mlc_m3_source(const mlc_m3 *m3) { return m3->source ? m3->source : "(given)"; }

/* ---- execution ---------------------------------------------------------- */

static int has_field(const mlc_m3_field *in, size_t nin, const char *name)
{
    for (size_t i = 0; i < nin; i++)
        if (in[i].name && strcasecmp(in[i].name, name) == 0)
            return 1;
    return 0;
}

/* The caller's fields plus CONO/DIVI where the transaction defines them.
 * *out is malloc'd (names/values borrowed, except the cono buffer given). */
static mlc_err with_company(const mlc_m3 *m3, const char *pgm, const char *trn,
                            const mlc_m3_field *in, size_t nin, char conobuf[24],
                            mlc_m3_field **out, size_t *nout, mlc_error *err)
{
    mlc_m3_field *f = malloc((nin + 2) * sizeof *f);
    if (!f)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < nin; i++) {
        if (!in[i].name || !valid_name(in[i].name, 16)) {
            free(f);
            return mlc_error_set(err, MLC_ERR_INPUT, "M3 %s/%s: invalid input field name '%.20s'",
                                 pgm, trn, in[i].name ? in[i].name : "(null)");
        }
        f[i] = in[i];
    }
    size_t n = nin;
    int flags = mlc_m3_transaction_flags(pgm, trn);
    if (flags > 0) {
        if ((flags & 1) && m3->cono > 0 && !has_field(in, nin, "CONO")) {
            snprintf(conobuf, 24, "%lld", m3->cono);
            f[n].name = "CONO";
            f[n++].value = conobuf;
        }
        if ((flags & 2) && m3->divi[0] && !has_field(in, nin, "DIVI")) {
            f[n].name = "DIVI";
            f[n++].value = m3->divi;
        }
    }
    *out = f;
    *nout = n;
    return MLC_OK;
}

/* Sends with the bearer token; replays once after a 401 with a fresh token. */
static mlc_err send_authed(mlc_m3 *m3, mlc_http_request *req, const char *what,
                           mlc_http_response *resp, mlc_error *err)
{
    const char *hdrs[5];
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *auth = NULL;
        mlc_err rc = mlc_ionapi_authorization(m3->ion, &auth, err);
        if (rc)
            return rc;
        int h = 0;
        hdrs[h++] = auth;
        hdrs[h++] = "Accept: application/json";
        if (req->body)
            hdrs[h++] = "Content-Type: application/json";
        hdrs[h] = NULL;
        req->headers = hdrs;
        m3->last_sent = 1;
        rc = mlc_http_do(m3->http, req, resp, err);
        if (rc == MLC_OK && resp->status == 401 && attempt == 0) {
            if (m3->log)
                mlc_log_info(m3->log, "M3 %s: 401, refreshing the token and retrying once", what);
            mlc_ionapi_invalidate(m3->ion);
            mlc_http_response_free(resp);
            continue;
        }
        return rc;
    }
    return MLC_OK;
}

static mlc_err map_status(const mlc_http_response *resp, const char *what,
                          mlc_m3_result **out, mlc_error *err)
{
    long st = resp->status;
    if (st / 100 == 2) {
        mlc_err rc = mlc_m3_result_parse(resp->body, resp->body_len, what, out, err);
        mlc_m3_result_set_http_status(*out, st);
        return rc;
    }
    /* a 4xx/5xx may still carry an M3 error body: use its message if so */
    mlc_m3_result *r = NULL;
    mlc_error perr = {0};
    mlc_err prc = resp->body_len ? mlc_m3_result_parse(resp->body, resp->body_len, what, &r, &perr)
                                 : MLC_ERR_REMOTE;
    const char *msg = (prc == MLC_ERR_REMOTE && r) ? perr.msg : NULL;
    mlc_m3_result_set_http_status(r, st);
    mlc_err rc;
    if (st == 401)
        rc = mlc_error_set(err, MLC_ERR_AUTH, "M3 %s: HTTP 401 even with a fresh token (the "
                           "service account may lack M3 access)", what);
    else if (st == 403)
        rc = mlc_error_set(err, MLC_ERR_AUTH, "M3 %s: HTTP 403 forbidden%s%s", what,
                           msg ? ": " : "", msg ? msg : "");
    else if (mlc_http_status_transient(st))
        rc = mlc_error_set(err, MLC_ERR_TRANSIENT, "M3 %s: HTTP %ld%s", what, st,
                           st == 504 ? " (gateway timeout)" : "");
    else if (st == 400 && !msg)
        rc = mlc_error_set(err, MLC_ERR_REMOTE,
                           "M3 %s: HTTP 400 (unknown program/transaction or invalid input)", what);
    else if (st == 404)
        rc = mlc_error_set(err, MLC_ERR_REMOTE, "M3 %s: HTTP 404 (check the ION API URL `iu` "
                           "and tenant `ti`)", what);
    else
        rc = mlc_error_set(err, st >= 500 ? MLC_ERR_TRANSIENT : MLC_ERR_REMOTE,
                           "M3 %s: HTTP %ld%s%s", what, st, msg ? ": " : "", msg ? msg : "");
    *out = r;
    return rc;
}

static int split_pgm_trn(const char *pgm_trn, char pgm[32], char trn[32])
{
    const char *slash = pgm_trn ? strchr(pgm_trn, '/') : NULL;
    if (!slash || slash == pgm_trn || (size_t)(slash - pgm_trn) >= 32 || strlen(slash + 1) >= 32)
        return -1;
    memcpy(pgm, pgm_trn, (size_t)(slash - pgm_trn));
    pgm[slash - pgm_trn] = '\0';
    strcpy(trn, slash + 1);
    return 0;
}

mlc_err mlc_m3_execute_trn(mlc_m3 *m3, const char *pgm, const char *trn, const mlc_m3_field *in,
                        size_t nin, int maxrecs, mlc_m3_result **out, mlc_error *err)
{
    *out = NULL;
    if (!pgm || !trn || !valid_name(pgm, 16) || !valid_name(trn, 24))
        return mlc_error_set(err, MLC_ERR_CONFIG, "M3: invalid program/transaction '%s/%s'",
                             pgm ? pgm : "", trn ? trn : "");
    char what[64];
    snprintf(what, sizeof what, "%s/%s", pgm, trn);
    char conobuf[24];
    mlc_m3_field *f = NULL;
    size_t nf = 0;
    mlc_err rc = with_company(m3, pgm, trn, in, nin, conobuf, &f, &nf, err);
    if (rc)
        return rc;
    /* EXPORTMI has no CONO input and refuses a company in its query: it reads the
     * API session's company ("M3 company is always set to the company used by the
     * API session", Infor M3 UDI 16.x, EXPORTMI page, docs.infor.com/m3udi/16.x/
     * en-us/m3beud/appfoundhs/uof1644857333894.html). The session's company is set
     * with the ;cono= matrix parameter (research: infor.md, m3-odin URL builder), so
     * the profile's company is named there, not left to the service account's
     * default company. */
    long long session_cono = strcmp(pgm, "EXPORTMI") == 0 ? m3->cono : 0;
    char *url = build_url(mlc_ionapi_api_base(m3->ion), pgm, trn, f, nf, maxrecs, selected(m3, pgm, trn),
                          session_cono);
    free(f);
    if (!url)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    mlc_http_request req = {.method = "GET", .url = url};
    mlc_http_response resp = {0};
    m3->last_status = 0;
    m3->last_sent = 0;
    rc = send_authed(m3, &req, what, &resp, err);
    m3->last_status = rc == MLC_OK || rc == MLC_ERR_TRANSIENT ? resp.status : 0;
    if (rc == MLC_OK || (rc == MLC_ERR_TRANSIENT && resp.status))
        rc = map_status(&resp, what, out, err);
    mlc_http_response_free(&resp);
    free(url);
    return rc;
}

mlc_err mlc_m3_execute(mlc_m3 *m3, const char *pgm_trn, const mlc_m3_field *in, size_t nin,
                       int maxrecs, mlc_m3_result **out, mlc_error *err)
{
    char pgm[32], trn[32];
    *out = NULL;
    if (split_pgm_trn(pgm_trn, pgm, trn) != 0)
        return mlc_error_set(err, MLC_ERR_CONFIG, "M3: '%s' is not PROGRAM/TRANSACTION",
                             pgm_trn ? pgm_trn : "");
    return mlc_m3_execute_trn(m3, pgm, trn, in, nin, maxrecs, out, err);
}

mlc_err mlc_m3_bulk(mlc_m3 *m3, const char *pgm_trn, const mlc_m3_record *recs, size_t n,
                    int idempotent, mlc_m3_result **out, mlc_error *err)
{
    char pgm[32], trn[32];
    *out = NULL;
    if (split_pgm_trn(pgm_trn, pgm, trn) != 0 || !valid_name(pgm, 16) || !valid_name(trn, 24))
        return mlc_error_set(err, MLC_ERR_CONFIG, "M3: '%s' is not PROGRAM/TRANSACTION",
                             pgm_trn ? pgm_trn : "");
    if (n == 0)
        return mlc_error_set(err, MLC_ERR_USAGE, "M3 %s: bulk request with no records", pgm_trn);
    cJSON *body = cJSON_CreateObject();
    cJSON *txs = cJSON_AddArrayToObject(body, "transactions");
    cJSON_AddStringToObject(body, "program", pgm);
    /* every record of each transaction: the server's default (100, as for
     * maxrecs) would cut a long list such as a PO's lines without a word.
     * [INFERENCE] 0 meaning "no limit" here is how public clients use maxrecs=0
     * (research: infor.md); a C# client sends maxReturnedRecords 0 in the body and
     * BulkMIService maxrecs=0 on the bulk URL (both named below); no Infor page we
     * have says what 0 means for the bulk body. */
    cJSON_AddNumberToObject(body, "maxReturnedRecords", 0);
    /* The session's company: a transaction without a CONO field (EXPORTMI, whose
     * rows are "always" the API session company's: Infor M3 UDI 16.x, EXPORTMI page,
     * docs.infor.com/m3udi/16.x/en-us/m3beud/appfoundhs/uof1644857333894.html) would
     * otherwise read the service account's default company. How a bulk request sets
     * it is known only from public clients, not from an Infor page [CODE, research:
     * infor.md section 3, "How CONO/DIVI are passed"]: BulkMIService (TypeScript,
     * IBulkMIRequest) puts a numeric "cono" and a "divi" at the top of the body AND
     * cono/divi query parameters on the URL ("?format=COMPACT&cono=..&divi=..
     * &maxrecs=0"); inforion sends "cono": 409 in the body only; a C# client's
     * RequestRoot sets cono, divi and maxReturnedRecords 0 in the body only.
     * [UNVERIFIED] which one a tenant's m3api-rest honours: cloudsuite.bulk_company
     * picks both (default, as BulkMIService), body or query. */
    int co_body = m3->cono > 0 && m3->bulk_company != MLC_M3_BULK_COMPANY_QUERY;
    int co_query = m3->cono > 0 && m3->bulk_company != MLC_M3_BULK_COMPANY_BODY;
    if (co_body) {
        cJSON_AddNumberToObject(body, "cono", (double)m3->cono);
        if (m3->divi[0])
            cJSON_AddStringToObject(body, "divi", m3->divi);
    }
    mlc_err rc = MLC_OK;
    const char *cols = selected(m3, pgm, trn);
    for (size_t i = 0; !rc && i < n; i++) {
        char conobuf[24];
        mlc_m3_field *f = NULL;
        size_t nf = 0;
        rc = with_company(m3, pgm, trn, recs[i].fields, recs[i].nfields, conobuf, &f, &nf, err);
        if (rc)
            break;
        cJSON *tx = cJSON_CreateObject();
        cJSON_AddStringToObject(tx, "transaction", trn);
        cJSON *rec = cJSON_AddObjectToObject(tx, "record");
        for (size_t k = 0; k < nf; k++)
            cJSON_AddStringToObject(rec, f[k].name, f[k].value ? f[k].value : "");
        if (cols) {
            cJSON *sc = cJSON_AddArrayToObject(tx, "selectedColumns");
            for (const char *p = cols; *p;) {
                size_t l = strcspn(p, ",");
                char name[17];
                snprintf(name, sizeof name, "%.*s", (int)l, p);
                cJSON_AddItemToArray(sc, cJSON_CreateString(name));
                p += l + (p[l] == ',');
            }
        }
        cJSON_AddItemToArray(txs, tx);
        free(f);
    }
    char *json = rc ? NULL : cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (rc)
        return rc;
    if (!json)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    sbuf ub = {0};
    sb_add(&ub, mlc_ionapi_api_base(m3->ion));
    sb_add(&ub, "/M3/m3api-rest/v2/execute");
    if (co_query) {
        char cono[32];
        snprintf(cono, sizeof cono, "?cono=%lld", m3->cono);
        sb_add(&ub, cono);
        if (m3->divi[0]) {
            sb_add(&ub, "&divi=");
            sb_enc(&ub, m3->divi);
        }
    }
    if (ub.oom) {
        free(ub.p);
        free(json);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    char *url = ub.p;
    char what[80];
    snprintf(what, sizeof what, "%s (bulk of %zu)", pgm_trn, n);
    mlc_http_request req = {.method = "POST", .url = url, .body = json,
                            .body_len = strlen(json), .idempotent = idempotent};
    mlc_http_response resp = {0};
    m3->last_status = 0;
    m3->last_sent = 0;
    rc = send_authed(m3, &req, what, &resp, err);
    m3->last_status = rc == MLC_OK || rc == MLC_ERR_TRANSIENT ? resp.status : 0;
    if (rc == MLC_OK || (rc == MLC_ERR_TRANSIENT && resp.status))
        rc = map_status(&resp, what, out, err);
    mlc_http_response_free(&resp);
    free(url);
    free(json);
    return rc;
}

