/*
 * sim_seed.c: the deterministic seed generator behind --gen-seed N and the default
 * seed (N = 50, identical to tests/sim/seed-default.json): four M3 warehouses (WH9 is
 * deliberately unmapped and holds PO 2000001), twelve suppliers (SUP012 deliberately
 * unmapped, supplier of PO 2000002), items, open POs of order types PP1/PP3, a second
 * company (CONO 200, division BBB) whose POs share the MPHEAD/MPLINE tables with
 * company 100's (four of them with company 100's PO numbers, other lines), and the
 * ShipStation side (carriers, warehouses, products, inventory).
 *
 * Not here: loading or checking a seed (sim_state.c).
 */
#include "sim.h"

#include <math.h>

#include <stdio.h>
#include <string.h>

static uint64_t R;

static long rnd(long lo, long hi) { return lo + (long)(rng_next(&R) % (uint64_t)(hi - lo + 1)); }

static cJSON *address(const char *name, const char *company, const char *street, const char *city,
                      const char *state, const char *zip, const char *phone)
{
    cJSON *a = cJSON_CreateObject();
    jset_str(a, "name", name);
    jset_str(a, "company", company);
    jset_str(a, "street1", street);
    jset_str(a, "city", city);
    jset_str(a, "state", state);
    jset_str(a, "postal_code", zip);
    jset_str(a, "country", "US");
    jset_str(a, "phone", phone);
    return a;
}

static const char *const WHS[][7] = {
    {"WH1", "Reno DC", "1200 Logistics Way", "Reno", "NV", "89502", "775-555-0101"},
    {"WH2", "Columbus DC", "45 Commerce Pkwy", "Columbus", "OH", "43219", "614-555-0102"},
    {"WH3", "Dallas DC", "900 Freight Blvd", "Dallas", "TX", "75212", "214-555-0103"},
    {"WH9", "Overflow (unmapped)", "1 Remote Rd", "Fargo", "ND", "58102", "701-555-0109"},
};

static void gen_warehouses(cJSON *m3, cJSON *ss)
{
    cJSON *mw = jarr(m3, "warehouses"), *sw = jarr(ss, "warehouses");
    for (int i = 0; i < 4; i++) {
        cJSON *w = cJSON_CreateObject();
        char id[16];
        jset_str(w, "WHLO", WHS[i][0]);
        jset_str(w, "name", WHS[i][1]);
        jset_str(w, "FACI", "F01");
        jset(w, "address", address("Receiving", WHS[i][1], WHS[i][2], WHS[i][3], WHS[i][4], WHS[i][5], WHS[i][6]));
        jset_bool(w, "mapped", i < 3);
        snprintf(id, sizeof id, "se-%d", 1001 + i);
        jset_str(w, "v2_warehouse_id", id);
        jset_num(w, "v1_warehouse_id", 1001 + i);
        cJSON_AddItemToArray(mw, w);
        if (i >= 3)
            continue;
        cJSON *v = cJSON_CreateObject(), *a = cJSON_CreateObject();
        jset_str(v, "warehouse_id", id);
        jset_str(v, "name", WHS[i][1]);
        jset_bool(v, "is_default", i == 0);
        jset_str(v, "created_at", "2026-01-05T16:00:00.000Z");
        jset_str(a, "name", "Receiving");
        jset_str(a, "phone", WHS[i][6]);
        jset_str(a, "company_name", WHS[i][1]);
        jset_str(a, "address_line1", WHS[i][2]);
        jset_str(a, "city_locality", WHS[i][3]);
        jset_str(a, "state_province", WHS[i][4]);
        jset_str(a, "postal_code", WHS[i][5]);
        jset_str(a, "country_code", "US");
        jset_str(a, "address_residential_indicator", "no");
        jset(v, "origin_address", a);
        jset(v, "return_address", cJSON_Duplicate(a, 1));
        jset_num(v, "v1_warehouse_id", 1001 + i);
        cJSON_AddItemToArray(sw, v);
    }
}

static const char *const CITIES[][3] = {{"Portland", "OR", "97201"}, {"Denver", "CO", "80202"},
                                        {"Chicago", "IL", "60607"},  {"Atlanta", "GA", "30303"},
                                        {"Phoenix", "AZ", "85004"},  {"Boise", "ID", "83702"}};
static const char *const CARRIERS[][3] = {
    {"se-2001", "ups", "ups_ground"}, {"se-2002", "fedex", "fedex_ground"}, {"se-2003", "stamps_com", "usps_priority_mail"}};

static void gen_suppliers(cJSON *m3, cJSON *ss)
{
    cJSON *sup = jarr(m3, "suppliers"), *car = jarr(ss, "carriers");
    for (int i = 0; i < 3; i++) {
        cJSON *c = cJSON_CreateObject();
        jset_str(c, "carrier_id", CARRIERS[i][0]);
        jset_str(c, "carrier_code", CARRIERS[i][1]);
        jset_str(c, "default_service_code", CARRIERS[i][2]);
        cJSON_AddItemToArray(car, c);
    }
    for (int i = 1; i <= 12; i++) {
        cJSON *s = cJSON_CreateObject();
        char suno[16], name[48], street[48], phone[20];
        const char *const *city = CITIES[i % 6];
        const char *const *carrier = CARRIERS[i % 3];
        snprintf(suno, sizeof suno, "SUP%03d", i);
        snprintf(name, sizeof name, "Supplier %02d Manufacturing", i);
        snprintf(street, sizeof street, "%d Industrial Ave", 100 + i * 7);
        snprintf(phone, sizeof phone, "555-010-%04d", 2000 + i);
        jset_str(s, "SUNO", suno);
        jset_str(s, "SUNM", name);
        jset(s, "address", address("Shipping Dept", name, street, city[0], city[1], city[2], phone));
        jset_str(s, "carrier_id", carrier[0]);
        jset_str(s, "carrier_code", carrier[1]);
        jset_str(s, "service_code", carrier[2]);
        jset_bool(s, "mapped", i != 12);
        cJSON_AddItemToArray(sup, s);
    }
}

static const char *const NOUNS[] = {"Bracket", "Hinge", "Valve", "Sensor", "Cable", "Panel", "Bearing", "Gasket",
                                    "Fitting", "Motor", "Pump", "Switch"};

static void gen_items(cJSON *m3, cJSON *ss, int nitems)
{
    cJSON *items = jarr(m3, "items"), *prods = jarr(ss, "products"), *inv = jarr(ss, "inventory");
    cJSON *locs = jarr(ss, "inventory_locations");
    for (int w = 0; w < 3; w++) {
        cJSON *l = cJSON_CreateObject();
        char id[16], wid[16];
        snprintf(id, sizeof id, "se-%d", 4001 + w);
        snprintf(wid, sizeof wid, "se-%d", 3001 + w);
        jset_str(l, "inventory_location_id", id);
        jset_str(l, "inventory_warehouse_id", wid);
        jset_str(l, "name", WHS[w][1]);
        jset_str(l, "WHLO", WHS[w][0]);
        cJSON_AddItemToArray(locs, l);
    }
    for (int i = 1; i <= nitems; i++) {
        cJSON *it = cJSON_CreateObject(), *bal = cJSON_CreateObject(), *dim = cJSON_CreateObject();
        char itno[16], itds[40], lmdt[12];
        snprintf(itno, sizeof itno, "ITM%05d", i);
        snprintf(itds, sizeof itds, "%s %c%ld", NOUNS[i % 12], 'A' + (int)(i % 26), rnd(10, 99));
        snprintf(lmdt, sizeof lmdt, "202610%02ld", rnd(1, 31));
        double kg = (double)rnd(1, 200) / 10.0;
        jset_str(it, "ITNO", itno);
        jset_str(it, "ITDS", itds);
        jset_str(it, "STAT", "20");
        jset_str(it, "UNMS", "EA");
        jset_str(it, "PUUN", "EA");
        jset_str(it, "ITTY", "FG");
        jset_str(it, "RESP", "MLC");
        jset_num(it, "MABU", 2);
        jset_num(it, "GRWE", kg);
        jset_num(it, "NEWE", kg * 0.9);
        jset_str(it, "RGDT", "20260115");
        jset_str(it, "LMDT", lmdt);
        jset_num(dim, "length", (double)rnd(2, 40));
        jset_num(dim, "width", (double)rnd(2, 30));
        jset_num(dim, "height", (double)rnd(1, 20));
        jset_str(dim, "unit", "inch");
        /* M3 keeps dimensions in its own fields (here in cm, mlc's default
         * mapping.items.length_unit); ShipStation products get the same in inches. */
        jset_num(it, "ILEN", round(jnum(dim, "length", 0) * 254.0) / 100.0);
        jset_num(it, "IWID", round(jnum(dim, "width", 0) * 254.0) / 100.0);
        jset_num(it, "IHEI", round(jnum(dim, "height", 0) * 254.0) / 100.0);
        for (int w = 0; w < 3; w++)
            jset_num(bal, WHS[w][0], (double)rnd(0, 500));
        jset(it, "balances", bal);
        cJSON_AddItemToArray(items, it);
        cJSON *p = cJSON_CreateObject(), *wt = cJSON_CreateObject(), *price = cJSON_CreateObject();
        jset_num(p, "product_id", 10000000 + i);
        jset_str(p, "sku", itno);
        jset_str(p, "name", itds);
        jset_num(price, "amount", (double)rnd(100, 50000) / 100.0);
        jset_str(price, "currency", "usd");
        jset(p, "price", price);
        jset_num(wt, "value", kg * 2.2046);
        jset_str(wt, "unit", "pound");
        jset(p, "weight", wt);
        jset(p, "dimensions", dim);
        jset_bool(p, "active", 1);
        jset_str(p, "create_date", "2026-01-15T17:00:00.000Z");
        jset_str(p, "modify_date", "2026-10-01T17:00:00.000Z");
        cJSON_AddItemToArray(prods, p);
        for (int w = 0; w < 3; w++) {
            cJSON *e = cJSON_CreateObject(), *cost = cJSON_CreateObject();
            char wid[16], lid[16];
            snprintf(wid, sizeof wid, "se-%d", 3001 + w);
            snprintf(lid, sizeof lid, "se-%d", 4001 + w);
            double onhand = jnum(bal, WHS[w][0], 0);
            jset_str(e, "sku", itno);
            jset_num(e, "on_hand", onhand);
            jset_num(e, "allocated", 0);
            jset_num(e, "available", onhand);
            jset_num(cost, "amount", jnum(price, "amount", 0) * 0.6);
            jset_str(cost, "currency", "usd");
            jset(e, "average_cost", cost);
            jset_str(e, "inventory_warehouse_id", wid);
            jset_str(e, "inventory_location_id", lid);
            cJSON_AddItemToArray(inv, e);
        }
    }
}

static cJSON *gen_line(int n, int nitems, const char *dwdt, long *status)
{
    cJSON *l = cJSON_CreateObject();
    char itno[16];
    snprintf(itno, sizeof itno, "ITM%05ld", rnd(1, nitems));
    long orqa = rnd(1, 20) * 5;
    jset_num(l, "PNLI", n * 10);
    jset_num(l, "PNLS", 0);
    jset_str(l, "ITNO", itno);
    jset_num(l, "ORQA", (double)orqa);
    jset_num(l, "RVQA", 0);
    jset_num(l, "TNQA", 0);
    jset_str(l, "PUUN", "EA");
    jset_num(l, "PUPR", (double)rnd(100, 20000) / 100.0);
    jset_str(l, "DWDT", dwdt);
    *status = rnd(0, 3) == 0 ? 35 : 20;
    char st[4];
    snprintf(st, sizeof st, "%ld", *status);
    jset_str(l, "PUSL", st);
    jset_str(l, "PUST", st);
    return l;
}

static void gen_pos(cJSON *m3, int npos, int nitems)
{
    cJSON *pos = jarr(m3, "pos");
    for (int i = 1; i <= npos; i++) {
        cJSON *po = cJSON_CreateObject(), *lines = cJSON_CreateArray();
        char puno[16], suno[16], pudt[12], dwdt[12], lmdt[12];
        long day = rnd(1, 19);
        snprintf(puno, sizeof puno, "%d", 2000000 + i);
        snprintf(suno, sizeof suno, "SUP%03ld", i == 2 ? 12 : rnd(1, 11));
        snprintf(pudt, sizeof pudt, "202611%02ld", day);
        snprintf(dwdt, sizeof dwdt, "2026%02ld%02ld", day + 10 > 30 ? 12L : 11L, (day + 10) % 30 + 1);
        snprintf(lmdt, sizeof lmdt, "202611%02ld", day + rnd(0, 1));
        jset_str(po, "PUNO", puno);
        jset_str(po, "SUNO", suno);
        jset_str(po, "WHLO", i == 1 ? "WH9" : WHS[rnd(0, 2)][0]);
        jset_str(po, "FACI", "F01");
        jset_str(po, "ORTY", rnd(0, 9) < 7 ? "PP1" : "PP3");
        jset_str(po, "PUDT", pudt);
        jset_str(po, "DWDT", dwdt);
        jset_str(po, "RGDT", pudt);
        jset_str(po, "LMDT", lmdt);
        jset_str(po, "CUCD", "USD");
        jset_str(po, "BUYE", "BUYER1");
        jset_str(po, "PURC", "MLC");
        long nl = rnd(2, 6), st;
        for (int n = 1; n <= nl; n++) {
            cJSON *l = gen_line(n, nitems, dwdt, &st);
            jset_str(l, "LMDT", lmdt);
            if (i % 17 == 5 && n == 1) { /* a closed line now and then */
                jset_num(l, "RVQA", jnum(l, "ORQA", 0));
                jset_str(l, "PUSL", "85");
                jset_str(l, "PUST", "85");
            }
            cJSON_AddItemToArray(lines, l);
        }
        jset(po, "lines", lines);
        m3_head_status(po);
        cJSON_AddItemToArray(pos, po);
    }
}

/* Company 200: 4 POs numbered as company 100's 2000003-2000006 (when there are that
 * many), 4 of its own (2100001-2100004); other suppliers, lines and quantities. Only a
 * query in company 200's session sees them (EXPORTMI, PPS200MI). */
static void gen_other_company(cJSON *m3, int npos, int nitems)
{
    cJSON *co = cJSON_CreateObject(), *pos = cJSON_CreateArray();
    jset_num(co, "cono", 200);
    jset_str(co, "divi", "BBB");
    for (int i = 1; i <= 8; i++) {
        cJSON *po = cJSON_CreateObject(), *lines = cJSON_CreateArray();
        char puno[16], suno[16], lmdt[12];
        long day = rnd(10, 19);
        if (i <= 4 && 2 + i <= npos)
            snprintf(puno, sizeof puno, "%d", 2000002 + i);
        else
            snprintf(puno, sizeof puno, "%d", 2100000 + i);
        snprintf(suno, sizeof suno, "SUP%03ld", rnd(1, 11));
        snprintf(lmdt, sizeof lmdt, "202611%02ld", day);
        jset_num(po, "CONO", 200);
        jset_str(po, "DIVI", "BBB");
        jset_str(po, "PUNO", puno);
        jset_str(po, "SUNO", suno);
        jset_str(po, "WHLO", WHS[i % 2][0]);
        jset_str(po, "FACI", "F01");
        jset_str(po, "ORTY", "PP1");
        jset_str(po, "PUDT", lmdt);
        jset_str(po, "DWDT", "20261130");
        jset_str(po, "RGDT", lmdt);
        jset_str(po, "LMDT", lmdt);
        jset_str(po, "CUCD", "USD");
        jset_str(po, "BUYE", "BUYER2");
        jset_str(po, "PURC", "MLC");
        long st;
        for (int n = 1; n <= 7; n++) { /* 7 lines: company 100's POs have 2 to 6 */
            cJSON *l = gen_line(n, nitems, "20261130", &st);
            jset_str(l, "LMDT", lmdt);
            jset_str(l, "PUSL", "20");
            jset_str(l, "PUST", "20");
            cJSON_AddItemToArray(lines, l);
        }
        jset(po, "lines", lines);
        m3_head_status(po);
        cJSON_AddItemToArray(pos, po);
    }
    jset(co, "pos", pos);
    cJSON_AddItemToArray(jarr(m3, "companies"), co);
}

cJSON *seed_generate(int npos)
{
    R = 20261120;
    int nitems = npos / 20 > 300 ? npos / 20 : 300;
    cJSON *s = cJSON_CreateObject(), *m3 = cJSON_CreateObject(), *ss = cJSON_CreateObject();
    jset_str(s, "clock", "2026-11-20T14:00:00.000Z");
    jset_num(m3, "cono", 100);
    jset_str(m3, "divi", "AAA");
    jset_str(m3, "user", "MLCSVC");
    jset_str(m3, "responsible", "MLC");
    cJSON *ot = jobj(m3, "order_types");
    jset_str(ot, "PP1", "po_receipt");
    jset_str(ot, "PP3", "goods_receipt");
    jset(s, "m3", m3);
    jset(s, "shipstation", ss);
    gen_warehouses(m3, ss);
    gen_suppliers(m3, ss);
    gen_items(m3, ss, nitems);
    gen_pos(m3, npos, nitems);
    gen_other_company(m3, npos, nitems);
    jarr(m3, "receipts");
    jarr(m3, "advices");
    cJSON *v2 = jobj(ss, "v2"), *v1 = jobj(ss, "v1");
    jarr(v2, "shipments");
    jarr(v2, "labels");
    jarr(v2, "webhooks");
    jarr(v1, "orders");
    jarr(v1, "shipments");
    jarr(v1, "webhooks");
    jarr(ss, "webhook_deliveries");
    return s;
}
