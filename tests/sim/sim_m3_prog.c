/*
 * sim_m3_prog.c: the table of M3 programs mlc-sim implements and the helpers they share
 * (state access, the virtual date, raw records with CONO/DIVI, closed-line test, the
 * companies: the user's default company m3.cono with m3.pos, and any other company the
 * user may use in m3.companies [{"cono","divi","pos"}], whose POs are rows of the same
 * MPHEAD/MPLINE tables, told apart by CONO; their PO numbers may repeat company 100's).
 *
 * Not here: the programs (sim_m3_po.c, sim_m3_items.c, sim_exportmi.c), input checks, CONO
 * authorisation and output formatting (sim_m3.c). NOK codes other than XAU0008 are
 * invented, M3-looking ids.
 */
#include "sim_m3.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *m3_state(void) { return cJSON_GetObjectItem(SIM->st, "m3"); }

void m3_today(char out[12]) { fmt_m3date(sim_now(), out); }

/* An M3 numeric field takes a plain decimal ("12", "-3", "0.5"): exponent
 * notation or junk is not a number to M3 (NAN here, refused by the caller). */
double m3_qty(const char *s)
{
    if (!s || !*s)
        return 0;
    const char *p = s + (*s == '-');
    size_t digits = strspn(p, "0123456789");
    if (p[digits] == '.')
        p += digits + 1 + strspn(p + digits + 1, "0123456789");
    else
        p += digits;
    if (*p || digits == 0)
        return NAN;
    return strtod(s, NULL);
}

/* a raw output record: a copy of o plus CONO/DIVI (o's own, else the default company's) */
cJSON *m3_raw_with_company(const cJSON *o)
{
    cJSON *r = jclean_copy(o);
    cJSON_DeleteItemFromObject(r, "lines");
    cJSON_DeleteItemFromObject(r, "balances");
    if (!cJSON_IsNumber(cJSON_GetObjectItem(r, "CONO")))
        jset_num(r, "CONO", jnum(m3_state(), "cono", 100));
    if (!cJSON_GetObjectItem(r, "DIVI"))
        jset_str(r, "DIVI", jstr(m3_state(), "divi"));
    return r;
}

static cJSON *other_company(long cono)
{
    cJSON *co;
    cJSON_ArrayForEach(co, cJSON_GetObjectItem(m3_state(), "companies"))
        if ((long)jnum(co, "cono", -1) == cono)
            return co;
    return NULL;
}

int m3_company_known(long cono)
{
    return cono == (long)jnum(m3_state(), "cono", 100) || other_company(cono) != NULL;
}

cJSON *m3_company_pos(long cono)
{
    if (cono == (long)jnum(m3_state(), "cono", 100))
        return cJSON_GetObjectItem(m3_state(), "pos");
    cJSON *co = other_company(cono);
    return co ? cJSON_GetObjectItem(co, "pos") : NULL;
}

cJSON *m3_find_po_in(long cono, const char *puno)
{
    if (cono == (long)jnum(m3_state(), "cono", 100))
        return m3_find_po(puno);
    cJSON *po;
    cJSON_ArrayForEach(po, m3_company_pos(cono))
        if (puno && jstr(po, "PUNO") && strcmp(jstr(po, "PUNO"), puno) == 0)
            return po;
    return NULL;
}

int m3_line_closed(cJSON *l)
{
    return jnum(l, "PUSL", 20) >= 85 || jnum(l, "OEND", 0) == 1;
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
    {"GENERAL", "GetServerTime", general_getservertime},
    {"EXPORTMI", "Select", exportmi_select},
};

m3_fn m3_program(const char *pgm, const char *trn)
{
    for (size_t i = 0; i < sizeof PROGRAMS / sizeof PROGRAMS[0]; i++)
        if (strcmp(PROGRAMS[i].pgm, pgm) == 0 && strcmp(PROGRAMS[i].trn, trn) == 0)
            return PROGRAMS[i].fn;
    return NULL;
}

