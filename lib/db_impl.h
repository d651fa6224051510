/*
 * db_impl.h: what the two engines of lib/db.h share inside libmlc: the common head
 * of a handle and a statement, and the PostgreSQL entry points lib/db_sqlite.c
 * dispatches to. Internal: not installed, not for callers of lib/db.h.
 * Not here: anything a caller of lib/db.h needs (that is db.h).
 */
#ifndef MLC_DB_IMPL_H
#define MLC_DB_IMPL_H

#include "db.h"

struct mlc_db {
    mlc_db_kind kind;
    char name[512];    /* for messages: the file, or postgresql://user@host:port/db (no password) */
    mlc_err last_code; /* the last failed step */
    char last_msg[400];
};

struct mlc_db_stmt {
    mlc_db *db;
};

/* Parameter types as PostgreSQL is told them. */
typedef enum { MLC_DB_T_NULL, MLC_DB_T_INT8, MLC_DB_T_FLOAT8, MLC_DB_T_TEXT, MLC_DB_T_BYTEA } mlc_db_type;

void mlc_db_pg_close(mlc_db *db);
int mlc_db_pg_in_transaction(mlc_db *db);
void mlc_db_pg_pin(mlc_db *db, int on);
mlc_err mlc_db_pg_exec(mlc_db *db, const char *sql, mlc_error *err);
mlc_err mlc_db_pg_prepare(mlc_db *db, const char *sql, mlc_db_stmt **out, mlc_error *err);
void mlc_db_pg_bind(mlc_db_stmt *s, int i, mlc_db_type t, const void *v, size_t len);
int mlc_db_pg_step(mlc_db_stmt *s);
long mlc_db_pg_changes(const mlc_db_stmt *s);
const char *mlc_db_pg_col_text(mlc_db_stmt *s, int i);
const void *mlc_db_pg_col_blob(mlc_db_stmt *s, int i, size_t *len);
void mlc_db_pg_finalize(mlc_db_stmt *s);

#endif
