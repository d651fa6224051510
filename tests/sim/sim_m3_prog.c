/*
 * sim_m3_prog.c: the M3 programs mlc-sim implements, over the state's POs, items and
 * balances: PPS200MI GetHead/LstLine/GetLine, PPS001MI Receipt/AdviseLine, MHS850MI
 * AddPOReceipt, MMS200MI LstItmByChgDate/GetItmBasic/AddItmBasic/UpdItmBasic/
 * GetItmWhsBal, GENERAL GetUserInfo/GetCurrentUser and EXPORTMI Select (MPHEAD/MPLINE).
 * Receipts change state as M3 would: RVQA grows, line status 20/35 -> 50 (partly) -> 75
 * (fully received), LMDT becomes the virtual date, on-hand grows, each receipt is logged.
 *
 * Not here: input checks from the catalogue, CONO authorisation and output formatting
 * (sim_m3.c). NOK codes other than XAU0008 are invented, M3-looking ids.
 */
#include "sim_m3.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *m3(void) { return cJSON_GetObjectItem(SIM->st, "m3"); }

static void today(char out[12]) { fmt_m3date(sim_now(), out); }

static double qty_of(const char *s) { return s ? strtod(s, NULL) : 0; }

/* a raw output record: a copy of o plus CONO/DIVI */
static cJSON *raw_with_company(const cJSON *o)
{
    cJSON *r = jclean_copy(o);
    cJSON_DeleteItemFromObject(r, "lines");
    cJSON_DeleteItemFromObject(r, "balances");
    jset_num(r, "CONO", jnum(m3(), "cono", 100));
    if (!cJSON_GetObjectItem(r, "DIVI"))
        jset_str(r, "DIVI", jstr(m3(), "divi"));
    return r;
}

static cJSON *line_raw(cJSON *po, cJSON *l)
{
    cJSON *r = raw_with_company(l);
    static const char *from_head[] = {"PUNO", "WHLO", "SUNO", "FACI", "BUYE", "PURC"};
    for (size_t i = 0; i < sizeof from_head / sizeof from_head[0]; i++)
        if (!cJSON_GetObjectItem(r, from_head[i]) && jstr(po, from_head[i]))
            jset_str(r, from_head[i], jstr(po, from_head[i]));
    cJSON *item = m3_find_item(jstr(l, "ITNO"));
    if (item && !cJSON_GetObjectItem(r, "ITDS"))
        jset_str(r, "ITDS", jstr(item, "ITDS"));
    return r;
}

static cJSON *po_or_nok(m3_ctx *c, const char *puno)
{
    cJSON *po = m3_find_po(puno);
    if (!po)
        m3_nok(c, "WPU0901", "PUNO", "Purchase order number %s does not exist", puno ? puno : "");
    return po;
}

static cJSON *line_or_nok(m3_ctx *c, cJSON *po, const char *pnli, const char *pnls, const char *field)
{
    long li = pnli ? strtol(pnli, NULL, 10) : -1, ls = pnls ? strtol(pnls, NULL, 10) : 0;
    cJSON *l = m3_find_line(po, li, ls);
    if (!l)
        m3_nok(c, "WPN0201", field, "PO line %s %ld/%ld does not exist", jstr(po, "PUNO"), li, ls);
    return l;
}

/* ---- PPS200MI ---- */

static void pps200_gethead(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "PUNO"));
    if (po)
        cJSON_AddItemToArray(c->records, raw_with_company(po));
}

static void pps200_lstline(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "PUNO")), *l;
    if (!po)
        return;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(po, "lines")) {
        if (!m3_room(c))
            break;
        cJSON_AddItemToArray(c->records, line_raw(po, l));
    }
}

static void pps200_getline(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "PUNO"));
    if (!po)
        return;
    cJSON *l = line_or_nok(c, po, m3_in(c, "PNLI"), m3_in(c, "PNLS"), "PNLI");
    if (l)
        cJSON_AddItemToArray(c->records, line_raw(po, l));
}

/* ---- receipts ---- */

static int line_closed(cJSON *l)
{
    return jnum(l, "PUSL", 20) >= 85 || jnum(l, "OEND", 0) == 1;
}

static void set_status(cJSON *l, long st)
{
    char b[8];
    snprintf(b, sizeof b, "%02ld", st);
    jset_str(l, "PUSL", b);
    jset_str(l, "PUST", b);
}

static void bump_lmdt(cJSON *po, cJSON *l)
{
    char d[12];
    today(d);
    jset_str(po, "LMDT", d);
    if (l)
        jset_str(l, "LMDT", d);
}

static void add_stock(const char *itno, const char *whlo, double q)
{
    cJSON *item = m3_find_item(itno);
    if (!item)
        return;
    cJSON *bal = jobj(item, "balances");
    jset_num(bal, whlo, jnum(bal, whlo, 0) + q);
}

typedef struct receipt_in {
    const char *trdt, *sudo, *resp, *route, *whsl, *bano;
    int oend;
    double qty;
} receipt_in;

/* the shared receiving logic of PPS001MI/Receipt and MHS850MI/AddPOReceipt */
static int receive(m3_ctx *c, cJSON *po, cJSON *l, const receipt_in *r, const char *qty_field)
{
    double orqa = jnum(l, "ORQA", 0), rvqa = jnum(l, "RVQA", 0), open = orqa - rvqa;
    if (line_closed(l)) {
        m3_nok(c, "WPU0305", "PNLI", "PO line %s/%ld is closed, status %s", jstr(po, "PUNO"),
               (long)jnum(l, "PNLI", 0), jstr(l, "PUSL") ? jstr(l, "PUSL") : "85");
        return 0;
    }
    if (!(r->qty > 0)) {
        m3_nok(c, "WRV0103", qty_field, "Received quantity must be greater than zero");
        return 0;
    }
    if (r->qty > open + 1e-9) {
        m3_nok(c, "WRV0102", qty_field, "Received quantity %g is more than the remaining quantity %g", r->qty, open);
        return 0;
    }
    rvqa += r->qty;
    jset_num(l, "RVQA", rvqa);
    double tnqa = jnum(l, "TNQA", 0);
    if (tnqa > 0)
        jset_num(l, "TNQA", tnqa > r->qty ? tnqa - r->qty : 0);
    jset_str(l, "RCDT", r->trdt);
    if (r->oend)
        jset_num(l, "OEND", 1);
    set_status(l, (rvqa >= orqa - 1e-9 || r->oend) ? 75 : 50);
    bump_lmdt(po, l);
    m3_head_status(po);
    add_stock(jstr(l, "ITNO"), jstr(po, "WHLO"), r->qty);
    cJSON *rec = cJSON_CreateObject();
    char t[40], repn[16];
    fmt_rfc3339(sim_now(), t);
    snprintf(repn, sizeof repn, "%ld", 1000000 + next_id("repn"));
    jset_str(rec, "PUNO", jstr(po, "PUNO"));
    jset_num(rec, "PNLI", jnum(l, "PNLI", 0));
    jset_num(rec, "PNLS", jnum(l, "PNLS", 0));
    jset_str(rec, "ITNO", jstr(l, "ITNO"));
    jset_str(rec, "WHLO", jstr(po, "WHLO"));
    jset_num(rec, "RVQA", r->qty);
    jset_str(rec, "TRDT", r->trdt);
    jset_str(rec, "SUDO", r->sudo ? r->sudo : "");
    jset_str(rec, "RESP", r->resp ? r->resp : "");
    jset_str(rec, "REPN", repn);
    jset_num(rec, "OEND", r->oend);
    jset_str(rec, "route", r->route);
    jset_str(rec, "time", t);
    cJSON_AddItemToArray(jarr(m3(), "receipts"), rec);
    return 1;
}

static void pps001_receipt(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "PUNO"));
    if (!po)
        return;
    cJSON *l = line_or_nok(c, po, m3_in(c, "PNLI"), m3_in(c, "PNLS"), "PNLI");
    if (!l)
        return;
    const char *whlo = m3_in(c, "WHLO");
    if (whlo && strcmp(whlo, jstrs(po, "WHLO") ? jstrs(po, "WHLO") : "") != 0) {
        m3_nok(c, "WWH0103", "WHLO", "Warehouse %s is not the warehouse of purchase order %s", whlo,
               jstr(po, "PUNO"));
        return;
    }
    receipt_in r = {.trdt = m3_in(c, "TRDT"), .sudo = m3_in(c, "SUDO"), .resp = m3_in(c, "RESP"),
                    .route = "PPS001MI", .oend = m3_in(c, "OEND") && atoi(m3_in(c, "OEND")) == 1,
                    .qty = qty_of(m3_in(c, "RVQA"))};
    receive(c, po, l, &r, "RVQA");
}

static void pps001_adviseline(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "PUNO"));
    if (!po)
        return;
    cJSON *l = line_or_nok(c, po, m3_in(c, "PNLI"), m3_in(c, "PNLS"), "PNLI");
    if (!l)
        return;
    if (line_closed(l)) {
        m3_nok(c, "WPU0305", "PNLI", "PO line %s/%ld is closed", jstr(po, "PUNO"), (long)jnum(l, "PNLI", 0));
        return;
    }
    double open = jnum(l, "ORQA", 0) - jnum(l, "RVQA", 0) - jnum(l, "TNQA", 0);
    double q = m3_in(c, "ADQA") ? qty_of(m3_in(c, "ADQA")) : open;
    if (!(q > 0) || q > open + 1e-9) {
        m3_nok(c, "WAD0102", "ADQA", "Advised quantity %g is not within the open quantity %g", q, open);
        return;
    }
    jset_num(l, "TNQA", jnum(l, "TNQA", 0) + q);
    if (jnum(l, "PUSL", 20) < 35)
        set_status(l, 35);
    bump_lmdt(po, l);
    m3_head_status(po);
    cJSON *a = cJSON_CreateObject();
    char t[40];
    fmt_rfc3339(sim_now(), t);
    jset_str(a, "PUNO", jstr(po, "PUNO"));
    jset_num(a, "PNLI", jnum(l, "PNLI", 0));
    jset_num(a, "PNLS", jnum(l, "PNLS", 0));
    jset_num(a, "ADQA", q);
    jset_str(a, "SUDO", m3_in(c, "SUDO") ? m3_in(c, "SUDO") : "");
    jset_str(a, "time", t);
    cJSON_AddItemToArray(jarr(m3(), "advices"), a);
}

/* ---- MHS850MI ---- */

static void mhs850_addporeceipt(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "RIDN"));
    if (!po)
        return;
    if (strcmp(m3_in(c, "WHLO"), jstrs(po, "WHLO") ? jstrs(po, "WHLO") : "") != 0) {
        m3_nok(c, "WWH0103", "WHLO", "Warehouse %s is not the warehouse of purchase order %s", m3_in(c, "WHLO"),
               jstr(po, "PUNO"));
        return;
    }
    if (strcmp(m3_in(c, "SUNO"), jstrs(po, "SUNO") ? jstrs(po, "SUNO") : "") != 0) {
        m3_nok(c, "WSU0103", "SUNO", "Supplier %s is not the supplier of purchase order %s", m3_in(c, "SUNO"),
               jstr(po, "PUNO"));
        return;
    }
    if (!m3_in(c, "QTY")) {
        m3_nok(c, "WQT0101", "QTY", "Quantity must be entered");
        return;
    }
    cJSON *l = line_or_nok(c, po, m3_in(c, "RIDL"), m3_in(c, "RIDX"), "RIDL");
    if (!l)
        return;
    char trdt[12];
    today(trdt);
    receipt_in r = {.trdt = m3_in(c, "RPDT") ? m3_in(c, "RPDT") : trdt, .sudo = m3_in(c, "SUDO"),
                    .resp = jstr(m3(), "user"), .route = "MHS850MI",
                    .oend = m3_in(c, "OEND") && atoi(m3_in(c, "OEND")) == 1, .qty = qty_of(m3_in(c, "QTY"))};
    if (!receive(c, po, l, &r, "QTY"))
        return;
    cJSON *out = cJSON_CreateObject();
    char msgn[24];
    snprintf(msgn, sizeof msgn, "%015ld", 100000000000000L + next_id("msgn"));
    jset_num(out, "CONO", jnum(m3(), "cono", 100));
    jset_str(out, "MSGN", msgn);
    jset_str(out, "PACN", m3_in(c, "PACN") ? m3_in(c, "PACN") : msgn);
    jset_num(out, "MSLN", 1);
    cJSON_AddItemToArray(c->records, out);
}

/* ---- MMS200MI ---- */

static cJSON *item_or_nok(m3_ctx *c)
{
    cJSON *it = m3_find_item(m3_in(c, "ITNO"));
    if (!it)
        m3_nok(c, "WIT0103", "ITNO", "Item number %s does not exist", m3_in(c, "ITNO"));
    return it;
}

static void mms200_lstitmbychgdate(m3_ctx *c)
{
    long from = m3_in(c, "FLMD") ? atol(m3_in(c, "FLMD")) : 0;
    long to = m3_in(c, "TLMD") ? atol(m3_in(c, "TLMD")) : 99999999;
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(m3(), "items")) {
        long lmdt = (long)jnum(it, "LMDT", 0);
        if (lmdt < from || lmdt > to)
            continue;
        if (!m3_room(c))
            break;
        cJSON_AddItemToArray(c->records, raw_with_company(it));
    }
}

static void mms200_getitmbasic(m3_ctx *c)
{
    cJSON *it = item_or_nok(c);
    if (it)
        cJSON_AddItemToArray(c->records, raw_with_company(it));
}

static void copy_inputs(m3_ctx *c, cJSON *item)
{
    cJSON *f;
    cJSON_ArrayForEach(f, c->in) {
        if (strcmp(f->string, "CONO") == 0 || strcmp(f->string, "ITNO") == 0 || !f->valuestring[0])
            continue;
        jset_str(item, f->string, f->valuestring);
    }
}

static void mms200_additmbasic(m3_ctx *c)
{
    if (m3_find_item(m3_in(c, "ITNO"))) {
        m3_nok(c, "WIT0102", "ITNO", "Item number %s already exists", m3_in(c, "ITNO"));
        return;
    }
    cJSON *it = cJSON_CreateObject();
    char d[12];
    today(d);
    jset_str(it, "ITNO", m3_in(c, "ITNO"));
    copy_inputs(c, it);
    jset_str(it, "RGDT", d);
    jset_str(it, "LMDT", d);
    jobj(it, "balances");
    cJSON_AddItemToArray(jarr(m3(), "items"), it);
}

static void mms200_upditmbasic(m3_ctx *c)
{
    cJSON *it = item_or_nok(c);
    if (!it)
        return;
    char d[12];
    today(d);
    copy_inputs(c, it);
    jset_str(it, "LMDT", d);
}

static double on_order(const char *itno, const char *whlo)
{
    double q = 0;
    cJSON *po, *l;
    cJSON_ArrayForEach(po, cJSON_GetObjectItem(m3(), "pos")) {
        const char *w = jstr(po, "WHLO");
        if (!w || strcmp(w, whlo) != 0)
            continue;
        cJSON_ArrayForEach(l, cJSON_GetObjectItem(po, "lines")) {
            const char *i = jstr(l, "ITNO");
            if (i && strcmp(i, itno) == 0 && !line_closed(l))
                q += jnum(l, "ORQA", 0) - jnum(l, "RVQA", 0);
        }
    }
    return q;
}

static void mms200_getitmwhsbal(m3_ctx *c)
{
    cJSON *it = item_or_nok(c);
    if (!it)
        return;
    const char *whlo = m3_in(c, "WHLO");
    cJSON *bal = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "balances"), whlo);
    if (!m3_find_whs(whlo) || !bal) {
        m3_nok(c, "WWH0203", "WHLO", "Item %s does not exist in warehouse %s", m3_in(c, "ITNO"), whlo);
        return;
    }
    cJSON *r = cJSON_CreateObject();
    jset_num(r, "CONO", jnum(m3(), "cono", 100));
    jset_str(r, "WHLO", whlo);
    jset_str(r, "ITNO", jstr(it, "ITNO"));
    jset_num(r, "STQT", bal->valuedouble);
    jset_num(r, "ALQT", 0);
    jset_num(r, "AVAL", bal->valuedouble);
    jset_num(r, "ORQT", on_order(jstr(it, "ITNO"), whlo));
    cJSON *w = m3_find_whs(whlo);
    jset_str(r, "FACI", jstr(w, "FACI"));
    cJSON_AddItemToArray(c->records, r);
}

/* ---- GENERAL ---- */

static void general_getuserinfo(m3_ctx *c)
{
    cJSON *r = cJSON_CreateObject();
    jset_str(r, "ZZUSID", jstr(m3(), "user"));
    jset_num(r, "ZDCONO", jnum(m3(), "cono", 100));
    jset_str(r, "ZDDIVI", jstr(m3(), "divi"));
    jset_str(r, "ZDFACI", "F01");
    jset_str(r, "ZZWHLO", "WH1");
    jset_str(r, "ZDLANC", "GB");
    jset_str(r, "ZDDTFM", "YMD");
    jset_str(r, "DSEP", "-");
    jset_str(r, "TSEP", ":");
    jset_str(r, "TIZO", "UTC");
    jset_str(r, "USFN", "mlc service account");
    cJSON_AddItemToArray(c->records, r);
}

static void general_getcurrentuser(m3_ctx *c)
{
    cJSON *r = cJSON_CreateObject();
    jset_str(r, "USID", jstr(m3(), "user"));
    jset_num(r, "CONO", jnum(m3(), "cono", 100));
    jset_str(r, "DIVI", jstr(m3(), "divi"));
    jset_str(r, "FACI", "F01");
    jset_str(r, "WHLO", "WH1");
    jset_str(r, "LANC", "GB");
    jset_str(r, "DTFM", "YMD");
    jset_str(r, "TIZO", "UTC");
    jset_str(r, "NAME", "mlc service account");
    cJSON_AddItemToArray(c->records, r);
}

/* ---- EXPORTMI/Select ---- */

#define QMAX 24
typedef struct qcond {
    char col[8], op[3], val[64];
} qcond;

typedef struct query {
    char cols[QMAX][8];
    int ncols;
    int line; /* 0 MPHEAD, 1 MPLINE */
    qcond cond[QMAX];
    int ncond;
} query;

static const char *HEAD_COLS = " CONO DIVI PUNO FACI WHLO SUNO ORTY PUDT DWDT LMDT RGDT PUSL PUST CUCD BUYE "
                               "PURC TEPY MODL TEDL POTC NTAM ";
static const char *LINE_COLS = " CONO DIVI PUNO PNLI PNLS ITNO PITD FACI WHLO SUNO ORQA RVQA TNQA CAQA PUUN PUPR "
                               "DWDT CODT RCDT LMDT RGDT PUSL PUST OEND ";

static int known_col(const query *q, const char *col)
{
    const char *pre = q->line ? "IB" : "IA";
    if (strlen(col) != 6 || strncmp(col, pre, 2) != 0)
        return 0;
    char key[8];
    snprintf(key, sizeof key, " %.4s ", col + 2);
    return strstr(q->line ? LINE_COLS : HEAD_COLS, key) != NULL;
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
    q->ncond++;
    *pp = p;
    return 1;
}

static int parse_query(const char *text, query *q, char *err, size_t en)
{
    memset(q, 0, sizeof *q);
    char *buf = xstrdup(text), *p = buf;
    char *from = strcasestr(buf, " from ");
    int ok = 0;
    char tbl[16], kw[16];
    if (!from) {
        snprintf(err, en, "Query must be: columns from table [where ...]");
        goto out;
    }
    *from = 0;
    char *t = from + 6;
    if (!word(&t, tbl, sizeof tbl) || (strcmp(tbl, "MPHEAD") && strcmp(tbl, "MPLINE"))) {
        snprintf(err, en, "Table %s is not supported", tbl);
        goto out;
    }
    q->line = strcmp(tbl, "MPLINE") == 0;
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
        if (!word(&t, kw, sizeof kw) || strcasecmp(kw, "where") != 0) {
            snprintf(err, en, "Unexpected text after table name");
            goto out;
        }
        do {
            if (!parse_cond(q, &t, err, en))
                goto out;
            t = skip_ws(t);
            if (!*t)
                break;
            if (!word(&t, kw, sizeof kw) || strcasecmp(kw, "and") != 0) {
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
    cJSON *src = q->line ? l : po;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, f);
    if (!v && q->line)
        v = cJSON_GetObjectItemCaseSensitive(po, f);
    if (!v && strcmp(f, "CONO") == 0)
        v = cJSON_GetObjectItem(m3(), "cono");
    if (!v && strcmp(f, "DIVI") == 0)
        v = cJSON_GetObjectItem(m3(), "divi");
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

static void exportmi_select(m3_ctx *c)
{
    query q;
    char err[160];
    if (!parse_query(m3_in(c, "QERY"), &q, err, sizeof err)) {
        m3_nok(c, "XEX0001", "QERY", "%s", err);
        return;
    }
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
    cJSON_ArrayForEach(po, cJSON_GetObjectItem(m3(), "pos")) {
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

static const struct {
    const char *pgm, *trn;
    m3_fn fn;
} PROGRAMS[] = {
    {"PPS200MI", "GetHead", pps200_gethead},
    {"PPS200MI", "LstLine", pps200_lstline},
    {"PPS200MI", "GetLine", pps200_getline},
    {"PPS001MI", "Receipt", pps001_receipt},
    {"PPS001MI", "AdviseLine", pps001_adviseline},
    {"MHS850MI", "AddPOReceipt", mhs850_addporeceipt},
    {"MMS200MI", "LstItmByChgDate", mms200_lstitmbychgdate},
    {"MMS200MI", "GetItmBasic", mms200_getitmbasic},
    {"MMS200MI", "AddItmBasic", mms200_additmbasic},
    {"MMS200MI", "UpdItmBasic", mms200_upditmbasic},
    {"MMS200MI", "GetItmWhsBal", mms200_getitmwhsbal},
    {"GENERAL", "GetUserInfo", general_getuserinfo},
    {"GENERAL", "GetCurrentUser", general_getcurrentuser},
    {"EXPORTMI", "Select", exportmi_select},
};

m3_fn m3_program(const char *pgm, const char *trn)
{
    for (size_t i = 0; i < sizeof PROGRAMS / sizeof PROGRAMS[0]; i++)
        if (strcmp(PROGRAMS[i].pgm, pgm) == 0 && strcmp(PROGRAMS[i].trn, trn) == 0)
            return PROGRAMS[i].fn;
    return NULL;
}
