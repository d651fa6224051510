/*
 * dynlib.h: a shared library loaded at run time (dlopen) and a table of its
 * functions resolved once, for the libraries only some runs need: libxml2 (BOD
 * receipts, lib/bod.c) and libpq (a PostgreSQL state, lib/db_pg.c). Linked
 * normally, each is mapped, relocated and initialised in every mlc process:
 * libxml2 brings ICU and libstdc++ with it, about 2 MiB of peak RSS in every cron
 * run that never builds a BOD (issue 19: every cron command under 16 MiB).
 *
 * Thread-safe: one process-wide lock around loading; a table is filled once and
 * never changed afterwards (the library is never unloaded).
 * Not here: which functions a module needs (the caller's table, typed with the
 * library's own header), packaging (the Debian package still depends on the
 * library: mk/deb.sh).
 */
#ifndef MLC_DYNLIB_H
#define MLC_DYNLIB_H

#include "error.h"
#include <stddef.h>

/* One function: its name in the library and the address of the caller's
 * function pointer that receives it. */
typedef struct mlc_dynlib_sym {
    const char *name;
    void *slot;
} mlc_dynlib_sym;

/* Loads soname (e.g. "libxml2.so.2") unless *loaded is set, fills every slot and
 * sets *loaded. A library or a function that cannot be found is MLC_ERR_CONFIG
 * naming the library, what it is needed for (purpose, e.g. "BOD receipts") and the
 * Debian package that provides it (package); nothing is filled then. */
mlc_err mlc_dynlib_load(const char *soname, const char *purpose, const char *package, const mlc_dynlib_sym *syms,
                        size_t n, int *loaded, mlc_error *err);

#endif
