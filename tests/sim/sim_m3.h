/*
 * sim_m3.h: what sim_m3.c (the MI REST v2 envelope) shares with sim_m3_prog.c (the
 * programs): one transaction's execution context.
 *
 * Not here: HTTP; the programs see only their input record and write raw records.
 */
#ifndef MLC_SIM_M3_H
#define MLC_SIM_M3_H

#include "sim.h"

typedef struct m3_ctx {
    const char *pgm, *trn;
    cJSON *in;       /* input record: FIELD -> string (trailing blanks trimmed) */
    cJSON *records;  /* output: raw records (strings or numbers), formatted later */
    long maxrecs;    /* 0 = all */
    long cono;
    int nok;
    char type[40], code[16], field[8], msg[256];
} m3_ctx;

typedef void (*m3_fn)(m3_ctx *);

/* the program table of sim_m3_prog.c; NULL if the sim does not implement it */
m3_fn m3_program(const char *pgm, const char *trn);
/* NOK helpers for programs */
void m3_nok(m3_ctx *c, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *m3_in(m3_ctx *c, const char *field); /* NULL if absent or blank */
int m3_room(m3_ctx *c);                           /* 0 when maxrecs is reached */

/* sim_m3_prog.c: shared by the programs */
cJSON *m3_state(void);                 /* state.m3 */
void m3_today(char out[12]);           /* the virtual date, yyyyMMdd */
double m3_qty(const char *s);
cJSON *m3_raw_with_company(const cJSON *o); /* copy without lines/balances, plus CONO/DIVI */
int m3_line_closed(cJSON *l);          /* status 85+ or finish-marked */
int m3_company_known(long cono);       /* the default company or one of m3.companies */
cJSON *m3_company_pos(long cono);      /* that company's POs (NULL if unknown) */
cJSON *m3_find_po_in(long cono, const char *puno);

/* the programs */
void pps200_gethead(m3_ctx *c);
void pps200_lstline(m3_ctx *c);
void pps200_getline(m3_ctx *c);
void pps001_receipt(m3_ctx *c);
void pps001_adviseline(m3_ctx *c);
void mhs850_addporeceipt(m3_ctx *c);
void mms200_lstitmbychgdate(m3_ctx *c);
void mms200_getitmbasic(m3_ctx *c);
void mms200_additmbasic(m3_ctx *c);
void mms200_upditmbasic(m3_ctx *c);
void mms200_getitmwhsbal(m3_ctx *c);
void general_getuserinfo(m3_ctx *c);
void general_getcurrentuser(m3_ctx *c);
void general_getservertime(m3_ctx *c);
void exportmi_select(m3_ctx *c);

#endif
