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

#endif
