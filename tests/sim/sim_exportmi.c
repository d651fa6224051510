/*
 * sim_exportmi.c: EXPORTMI/Select over MPHEAD (IA columns), MPLINE (IB columns) and MPLIND
 * (IC columns: the PO line transactions, one row per receipt in m3.receipts): a small
 * parser for "COLS from TABLE [where COL >=|<=|= VALUE [and ...]]", one REPL record per row
 * joined by SEPC; anything else is refused with a NOK.
 *
 * What the real EXPORTMI refuses or does, as far as public documentation says (Infor M3
 * UDI 16.x, "EXPORTMI", docs.infor.com/m3udi/16.x/en-us/m3beud/appfoundhs/
 * uof1644857333894.html): one table per query (no joins); "Filters including company
 * selections are not supported" (a CONO condition is refused here) and "M3 company is
 * always set to the company used by the API session": the rows are those of the
 * session's company (the CONO input, the ;cono= matrix parameter, else the user's
 * default company), never another's; division filters only for a session on a global
 * (blank) division. Keywords in small letters, only and/or joining conditions (Infor SCP
 * 2022.x release notes, "Support for M3 EXPORTMI API", docs.infor.com/scp/2022.x/en-us/
 * sopolh2/release_notes_2022/pig1654097322543.html; "or" is not implemented here). REPL is
 * 984 characters (m3-transactions.json). Unknown tables and columns are refused.
 * [UNVERIFIED] limits, configurable in the state (POST /admin/m3): the longest QERY
 * (m3.exportmi_max_query, default 1000 characters) and the most rows one call returns
 * whatever maxrecs asks (m3.exportmi_max_rows, default 10000; the answer is cut without a
 * word, the worst case for a client). No public page gives either number.
 *
 * Not here: other programs.
 */
#include "sim_m3.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- EXPORTMI/Select ---- */

#define QMAX 24
typedef struct qcond {
    char col[8], op[3], val[64];
} qcond;

typedef struct query {
    char cols[QMAX][8];
    int ncols;
    int line;  /* 0 MPHEAD, 1 MPLINE or MPLIND */
    int trace; /* MPLIND */
    qcond cond[QMAX];
    int ncond;
    long cono; /* the session's company */
} query;

static const char *HEAD_COLS = " CONO DIVI PUNO FACI WHLO SUNO ORTY PUDT DWDT LMDT RGDT PUSL PUST CUCD BUYE "
                               "PURC TEPY MODL TEDL POTC NTAM ";
static const char *LINE_COLS = " CONO DIVI PUNO PNLI PNLS ITNO PITD FACI WHLO SUNO ORQA RVQA TNQA CAQA PUUN PUPR "
                               "DWDT CODT RCDT LMDT RGDT PUSL PUST OEND ";

/* MPLIND, the PO line transactions (receipts). [UNVERIFIED] No public Infor page listing
 * its columns was found (searched: docs, pages, code, issues corpora, 2026-12-01); the IC
 * prefix and the names follow M3's naming (PUNO PNLI PNLS as on MPLINE, REPN receiving
 * number, SUDO delivery note, RPQA reported quantity, TRDT transaction date). A tenant
 * lists the real ones with EXPORTMI/LstFields FILE=MPLIND; mlc takes the table and prefix
 * from cloudsuite.receipt_trace_table/_prefix (mlc.yaml(5)). */
static const char *TRACE_COLS = " CONO DIVI PUNO PNLI PNLS REPN ITNO WHLO RPQA SUDO TRDT RESP ";

static int known_col(const query *q, const char *col)
{
    const char *pre = q->trace ? "IC" : q->line ? "IB" : "IA";
    if (strlen(col) != 6 || strncmp(col, pre, 2) != 0)
        return 0;
    char key[8];
    snprintf(key, sizeof key, " %.4s ", col + 2);
    return strstr(q->trace ? TRACE_COLS : q->line ? LINE_COLS : HEAD_COLS, key) != NULL;
}

static char *skip_ws(char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

static int word(char **pp, char *out, size_t n)
{
    char *p = skip_ws(*pp);
    size_t l = 0;
    while (p[l] && (isalnum((unsigned char)p[l]) || p[l] == '_'))
        l++;
    if (l == 0 || l >= n)
        return 0;
    memcpy(out, p, l);
    out[l] = 0;
    *pp = p + l;
    return 1;
}

static int parse_cond(query *q, char **pp, char *err, size_t en)
{
    if (q->ncond >= QMAX)
        return snprintf(err, en, "Too many conditions"), 0;
    qcond *c = &q->cond[q->ncond];
    char col[16];
    if (!word(pp, col, sizeof col) || !known_col(q, col))
        return snprintf(err, en, "Invalid column in where clause: %s", col), 0;
    char *p = skip_ws(*pp);
    if (strncmp(p, ">=", 2) == 0 || strncmp(p, "<=", 2) == 0) {
        memcpy(c->op, p, 2);
        c->op[2] = 0;
        p += 2;
    } else if (*p == '=' ) {
        strcpy(c->op, "=");
        p++;
    } else
        return snprintf(err, en, "Unsupported operator after %s", col), 0;
    p = skip_ws(p);
    size_t l = 0;
    if (*p == '\'') {
        char *end = strchr(p + 1, '\'');
        if (!end || (size_t)(end - p - 1) >= sizeof c->val)
            return snprintf(err, en, "Unterminated string"), 0;
        l = (size_t)(end - p - 1);
        memcpy(c->val, p + 1, l);
        p = end + 1;
    } else {
        while (p[l] && (isalnum((unsigned char)p[l]) || p[l] == '.' || p[l] == '-'))
            l++;
        if (l == 0 || l >= sizeof c->val)
            return snprintf(err, en, "Missing value after %s %s", col, c->op), 0;
        memcpy(c->val, p, l);
        p += l;
    }
    c->val[l] = 0;
    snprintf(c->col, sizeof c->col, "%s", col);
    if (strcmp(col + 2, "CONO") == 0)
        return snprintf(err, en, "Filters including company selections are not supported"), 0;
    if (strcmp(col + 2, "DIVI") == 0 && jstr(m3_state(), "divi") && jstr(m3_state(), "divi")[0])
        return snprintf(err, en, "Filters including division need a session on a global division"), 0;
    q->ncond++;
    *pp = p;
    return 1;
}

static int parse_query(const char *text, query *q, char *err, size_t en)
{
    memset(q, 0, sizeof *q);
    char *buf = xstrdup(text), *p = buf;
    char *from = strstr(buf, " from ");
    int ok = 0;
    char tbl[16], kw[16];
    if (!from) {
        snprintf(err, en, "Query must be: columns from table [where ...] (keywords in small letters)");
        goto out;
    }
    *from = 0;
    char *t = from + 6;
    if (!word(&t, tbl, sizeof tbl) || (strcmp(tbl, "MPHEAD") && strcmp(tbl, "MPLINE") && strcmp(tbl, "MPLIND"))) {
        snprintf(err, en, "Table %s is not supported", tbl);
        goto out;
    }
    q->trace = strcmp(tbl, "MPLIND") == 0;
    q->line = q->trace || strcmp(tbl, "MPLINE") == 0;
    for (char *save = NULL, *c = strtok_r(p, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        char col[16];
        char *cp = c;
        if (!word(&cp, col, sizeof col) || *skip_ws(cp) || !known_col(q, col) || q->ncols >= QMAX) {
            snprintf(err, en, "Invalid column %s for table %s", skip_ws(c), tbl);
            goto out;
        }
        snprintf(q->cols[q->ncols++], sizeof q->cols[0], "%s", col);
    }
    if (q->ncols == 0) {
        snprintf(err, en, "No columns selected");
        goto out;
    }
    t = skip_ws(t);
    if (*t) {
        if (!word(&t, kw, sizeof kw) || strcmp(kw, "where") != 0) {
            snprintf(err, en, "Unexpected text after table name");
            goto out;
        }
        do {
            if (!parse_cond(q, &t, err, en))
                goto out;
            t = skip_ws(t);
            if (!*t)
                break;
            if (!word(&t, kw, sizeof kw) || strcmp(kw, "and") != 0) {
                snprintf(err, en, "Only 'and' may join conditions");
                goto out;
            }
        } while (1);
    }
    ok = 1;
out:
    free(buf);
    return ok;
}

static void col_value(const query *q, cJSON *po, cJSON *l, const char *col, char *out, size_t n)
{
    const char *f = col + 2;
    if (q->trace && strcmp(f, "RPQA") == 0)
        f = "RVQA"; /* the receipt's own quantity, as logged in m3.receipts */
    cJSON *src = q->line ? l : po;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, f);
    if (!v && q->line)
        v = cJSON_GetObjectItemCaseSensitive(po, f);
    if (!v && strcmp(f, "CONO") == 0) {
        snprintf(out, n, "%ld", q->cono);
        return;
    }
    if (!v && strcmp(f, "DIVI") == 0)
        v = cJSON_GetObjectItem(m3_state(), "divi");
    out[0] = 0;
    if (cJSON_IsString(v))
        snprintf(out, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) {
        if (v->valuedouble == floor(v->valuedouble))
            snprintf(out, n, "%.0f", v->valuedouble);
        else
            snprintf(out, n, "%g", v->valuedouble);
    }
}

static int cond_true(const char *val, const char *op, const char *want)
{
    char *e1, *e2;
    double a = strtod(val, &e1), b = strtod(want, &e2);
    int cmp;
    if (*val && *want && !*e1 && !*e2)
        cmp = a < b ? -1 : a > b;
    else
        cmp = strcmp(val, want);
    return op[0] == '=' ? cmp == 0 : op[0] == '>' ? cmp >= 0 : cmp <= 0;
}

static int row_matches(const query *q, cJSON *po, cJSON *l)
{
    char v[128];
    for (int i = 0; i < q->ncond; i++) {
        col_value(q, po, l, q->cond[i].col, v, sizeof v);
        if (!cond_true(v, q->cond[i].op, q->cond[i].val))
            return 0;
    }
    return 1;
}

static void add_repl(m3_ctx *c, const char *repl)
{
    cJSON *r = cJSON_CreateObject();
    char buf[985];
    snprintf(buf, sizeof buf, "%s", repl);
    jset_str(r, "REPL", buf);
    cJSON_AddItemToArray(c->records, r);
}

static void emit_row(m3_ctx *c, const query *q, cJSON *po, cJSON *l, const char *sep)
{
    sbuf b = {0};
    char v[256];
    for (int i = 0; i < q->ncols; i++) {
        col_value(q, po, l, q->cols[i], v, sizeof v);
        if (i)
            sb_add(&b, sep);
        sb_add(&b, v);
    }
    add_repl(c, b.s ? b.s : "");
    free(b.s);
}

void exportmi_select(m3_ctx *c)
{
    query q;
    char err[160];
    const char *text = m3_in(c, "QERY");
    long maxq = (long)jnum(m3_state(), "exportmi_max_query", 1000);
    long maxrows = (long)jnum(m3_state(), "exportmi_max_rows", 10000);
    if (maxq > 0 && text && (long)strlen(text) > maxq) {
        m3_nok(c, "XEX0002", "QERY", "Query is longer than %ld characters", maxq);
        return;
    }
    if (!parse_query(text, &q, err, sizeof err)) {
        m3_nok(c, "XEX0001", "QERY", "%s", err);
        return;
    }
    q.cono = c->cono;
    if (maxrows > 0 && (c->maxrecs <= 0 || c->maxrecs > maxrows))
        c->maxrecs = maxrows; /* cut without a word */
    const char *sep = jstr(c->in, "SEPC") && jstr(c->in, "SEPC")[0] ? jstr(c->in, "SEPC") : ";";
    if (m3_in(c, "HDRS") && atoi(m3_in(c, "HDRS")) == 1) {
        sbuf b = {0};
        for (int i = 0; i < q.ncols; i++) {
            if (i)
                sb_add(&b, sep);
            sb_add(&b, q.cols[i]);
        }
        add_repl(c, b.s);
        free(b.s);
    }
    cJSON *po, *l;
    if (q.trace) { /* the session company's receipts only */
        long dflt = (long)jnum(m3_state(), "cono", 100);
        cJSON_ArrayForEach(l, cJSON_GetObjectItem(m3_state(), "receipts")) {
            if (!m3_room(c))
                return;
            if ((long)jnum(l, "CONO", (double)dflt) != c->cono)
                continue;
            po = m3_find_po_in(c->cono, jstr(l, "PUNO"));
            if (po && row_matches(&q, po, l))
                emit_row(c, &q, po, l, sep);
        }
        return;
    }
    cJSON_ArrayForEach(po, m3_company_pos(c->cono)) { /* the session's company only */
        if (!q.line) {
            if (!m3_room(c))
                return;
            if (row_matches(&q, po, NULL))
                emit_row(c, &q, po, NULL, sep);
            continue;
        }
        cJSON_ArrayForEach(l, cJSON_GetObjectItem(po, "lines")) {
            if (!m3_room(c))
                return;
            if (row_matches(&q, po, l))
                emit_row(c, &q, po, l, sep);
        }
    }
}
