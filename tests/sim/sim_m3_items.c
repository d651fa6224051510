/*
 * sim_m3_items.c: the item programs MMS200MI LstItmByChgDate/GetItmBasic/AddItmBasic/
 * UpdItmBasic/GetItmWhsBal and the user programs GENERAL GetUserInfo/GetCurrentUser.
 *
 * Not here: purchase orders (sim_m3_po.c).
 */
#include "sim_m3.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- MMS200MI ---- */

static cJSON *item_or_nok(m3_ctx *c)
{
    cJSON *it = m3_find_item(m3_in(c, "ITNO"));
    if (!it)
        m3_nok(c, "WIT0103", "ITNO", "Item number %s does not exist", m3_in(c, "ITNO"));
    return it;
}

void mms200_lstitmbychgdate(m3_ctx *c)
{
    long from = m3_in(c, "FLMD") ? atol(m3_in(c, "FLMD")) : 0;
    long to = m3_in(c, "TLMD") ? atol(m3_in(c, "TLMD")) : 99999999;
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(m3_state(), "items")) {
        long lmdt = (long)jnum(it, "LMDT", 0);
        if (lmdt < from || lmdt > to)
            continue;
        if (!m3_room(c))
            break;
        cJSON_AddItemToArray(c->records, m3_raw_with_company(it));
    }
}

void mms200_getitmbasic(m3_ctx *c)
{
    cJSON *it = item_or_nok(c);
    if (it)
        cJSON_AddItemToArray(c->records, m3_raw_with_company(it));
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

void mms200_additmbasic(m3_ctx *c)
{
    if (m3_find_item(m3_in(c, "ITNO"))) {
        m3_nok(c, "WIT0102", "ITNO", "Item number %s already exists", m3_in(c, "ITNO"));
        return;
    }
    cJSON *it = cJSON_CreateObject();
    char d[12];
    m3_today(d);
    jset_str(it, "ITNO", m3_in(c, "ITNO"));
    copy_inputs(c, it);
    jset_str(it, "RGDT", d);
    jset_str(it, "LMDT", d);
    jobj(it, "balances");
    cJSON_AddItemToArray(jarr(m3_state(), "items"), it);
}

void mms200_upditmbasic(m3_ctx *c)
{
    cJSON *it = item_or_nok(c);
    if (!it)
        return;
    char d[12];
    m3_today(d);
    copy_inputs(c, it);
    jset_str(it, "LMDT", d);
}

static double on_order(const char *itno, const char *whlo)
{
    double q = 0;
    cJSON *po, *l;
    cJSON_ArrayForEach(po, cJSON_GetObjectItem(m3_state(), "pos")) {
        const char *w = jstr(po, "WHLO");
        if (!w || strcmp(w, whlo) != 0)
            continue;
        cJSON_ArrayForEach(l, cJSON_GetObjectItem(po, "lines")) {
            const char *i = jstr(l, "ITNO");
            if (i && strcmp(i, itno) == 0 && !m3_line_closed(l))
                q += jnum(l, "ORQA", 0) - jnum(l, "RVQA", 0);
        }
    }
    return q;
}

void mms200_getitmwhsbal(m3_ctx *c)
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
    jset_num(r, "CONO", jnum(m3_state(), "cono", 100));
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

void general_getuserinfo(m3_ctx *c)
{
    cJSON *r = cJSON_CreateObject();
    jset_str(r, "ZZUSID", jstr(m3_state(), "user"));
    jset_num(r, "ZDCONO", jnum(m3_state(), "cono", 100));
    jset_str(r, "ZDDIVI", jstr(m3_state(), "divi"));
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

/* the virtual clock: DATE yyyyMMdd, TIME HHmmss, LMTS milliseconds since the epoch */
void general_getservertime(m3_ctx *c)
{
    cJSON *r = cJSON_CreateObject();
    char d[12], t[40], hms[8];
    double now = sim_now();
    m3_today(d);
    fmt_rfc3339(now, t); /* yyyy-mm-ddTHH:MM:SS... */
    snprintf(hms, sizeof hms, "%.2s%.2s%.2s", t + 11, t + 14, t + 17);
    jset_str(r, "DATE", d);
    jset_str(r, "TIME", hms);
    jset_num(r, "LMTS", floor(now * 1000));
    cJSON_AddItemToArray(c->records, r);
}

void general_getcurrentuser(m3_ctx *c)
{
    cJSON *r = cJSON_CreateObject();
    jset_str(r, "USID", jstr(m3_state(), "user"));
    jset_num(r, "CONO", jnum(m3_state(), "cono", 100));
    jset_str(r, "DIVI", jstr(m3_state(), "divi"));
    jset_str(r, "FACI", "F01");
    jset_str(r, "WHLO", "WH1");
    jset_str(r, "LANC", "GB");
    jset_str(r, "DTFM", "YMD");
    jset_str(r, "TIZO", "UTC");
    jset_str(r, "NAME", "mlc service account");
    cJSON_AddItemToArray(c->records, r);
}

