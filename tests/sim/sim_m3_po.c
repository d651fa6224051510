/*
 * sim_m3_po.c: the purchase-order programs: PPS200MI GetHead/LstLine/GetLine, PPS001MI
 * Receipt/AdviseLine and MHS850MI AddPOReceipt. Receipts change state as M3 would: RVQA
 * grows, line status 20/35 -> 50 (partly) -> 75 (fully received or finish-marked), LMDT
 * becomes the virtual date, on-hand grows, every receipt is logged in m3.receipts.
 *
 * Not here: items (sim_m3_items.c), EXPORTMI (sim_exportmi.c).
 */
#include "sim_m3.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static cJSON *line_raw(cJSON *po, cJSON *l)
{
    cJSON *r = m3_raw_with_company(l);
    if (cJSON_IsNumber(cJSON_GetObjectItem(po, "CONO"))) /* another company's PO */
        jset_num(r, "CONO", jnum(po, "CONO", 0));
    if (jstr(po, "DIVI"))
        jset_str(r, "DIVI", jstr(po, "DIVI"));
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
    cJSON *po = m3_find_po_in(c->cono, puno); /* the session's company */
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

void pps200_gethead(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "PUNO"));
    if (po)
        cJSON_AddItemToArray(c->records, m3_raw_with_company(po));
}

void pps200_lstline(m3_ctx *c)
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

void pps200_getline(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "PUNO"));
    if (!po)
        return;
    cJSON *l = line_or_nok(c, po, m3_in(c, "PNLI"), m3_in(c, "PNLS"), "PNLI");
    if (l)
        cJSON_AddItemToArray(c->records, line_raw(po, l));
}

/* ---- receipts ---- */

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
    m3_today(d);
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
    if (m3_line_closed(l)) {
        m3_nok(c, "WPU0305", "PNLI", "PO line %s/%ld is closed, status %s", jstr(po, "PUNO"),
               (long)jnum(l, "PNLI", 0), jstr(l, "PUSL") ? jstr(l, "PUSL") : "85");
        return 0;
    }
    if (isnan(r->qty)) {
        m3_nok(c, "WRV0104", qty_field, "Received quantity is not a valid number");
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
    jset_num(rec, "CONO", jnum(po, "CONO", jnum(m3_state(), "cono", 100)));
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
    /* real wall-clock ms, for latency measurements (bench: shipped -> received) */
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    jset_num(rec, "real_ms", (double)wall.tv_sec * 1000.0 + (double)wall.tv_nsec / 1e6);
    cJSON_AddItemToArray(jarr(m3_state(), "receipts"), rec);
    return 1;
}

void pps001_receipt(m3_ctx *c)
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
                    .qty = m3_qty(m3_in(c, "RVQA"))};
    receive(c, po, l, &r, "RVQA");
}

void pps001_adviseline(m3_ctx *c)
{
    cJSON *po = po_or_nok(c, m3_in(c, "PUNO"));
    if (!po)
        return;
    cJSON *l = line_or_nok(c, po, m3_in(c, "PNLI"), m3_in(c, "PNLS"), "PNLI");
    if (!l)
        return;
    if (m3_line_closed(l)) {
        m3_nok(c, "WPU0305", "PNLI", "PO line %s/%ld is closed", jstr(po, "PUNO"), (long)jnum(l, "PNLI", 0));
        return;
    }
    double open = jnum(l, "ORQA", 0) - jnum(l, "RVQA", 0) - jnum(l, "TNQA", 0);
    double q = m3_in(c, "ADQA") ? m3_qty(m3_in(c, "ADQA")) : open;
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
    cJSON_AddItemToArray(jarr(m3_state(), "advices"), a);
}

/* ---- MHS850MI ---- */

void mhs850_addporeceipt(m3_ctx *c)
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
    m3_today(trdt);
    receipt_in r = {.trdt = m3_in(c, "RPDT") ? m3_in(c, "RPDT") : trdt, .sudo = m3_in(c, "SUDO"),
                    .resp = jstr(m3_state(), "user"), .route = "MHS850MI",
                    .oend = m3_in(c, "OEND") && atoi(m3_in(c, "OEND")) == 1, .qty = m3_qty(m3_in(c, "QTY"))};
    if (!receive(c, po, l, &r, "QTY"))
        return;
    cJSON *out = cJSON_CreateObject();
    char msgn[24];
    snprintf(msgn, sizeof msgn, "%015ld", 100000000000000L + next_id("msgn"));
    jset_num(out, "CONO", (double)c->cono);
    jset_str(out, "MSGN", msgn);
    jset_str(out, "PACN", m3_in(c, "PACN") ? m3_in(c, "PACN") : msgn);
    jset_num(out, "MSLN", 1);
    cJSON_AddItemToArray(c->records, out);
}

