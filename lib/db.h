/*
 * db.h: the small SQL layer under lib/store: one interface, two engines (SQLite
 * in lib/db_sqlite.c, PostgreSQL through libpq in lib/db_pg.c), so that
 * lib/store.c keeps one SQL text per query.
 *
 * The SQL dialect both accept, and the only one lib/store writes: `?` (in order)
 * or `?N` (numbered) placeholders, translated to $N for PostgreSQL outside quoted
 * text; INSERT ... ON CONFLICT (...) DO NOTHING / DO UPDATE; RETURNING; standard
 * functions only (count, min, max, sum, coalesce, CASE). Times are computed in C
 * and bound as values. A parameter's type is the bind call's (int8, float8,
 * text, bytea; PostgreSQL is told explicitly).
 *
 * Errors: lock waits beyond the busy time, serialization failures and deadlocks
 * are MLC_ERR_BUSY; a lost or refused connection is MLC_ERR_STORE naming the
 * server (never a password); anything else MLC_ERR_STORE with the engine's text.
 *
 * Not here: which tables exist (lib/store), connection settings policy (the URL
 * and password checks are lib/store's), printing.
 * Ownership: mlc_db_open_*() -> mlc_db_close(); mlc_db_prepare() ->
 * mlc_db_finalize(). Column text/blob pointers are borrowed, valid until the next
 * step or finalize of their statement.
 */
#ifndef MLC_DB_H
#define MLC_DB_H

#include "error.h"
#include <stddef.h>
#include <stdint.h>

typedef struct mlc_db mlc_db;
typedef struct mlc_db_stmt mlc_db_stmt;
typedef enum { MLC_DB_SQLITE, MLC_DB_PG } mlc_db_kind;

/* path: SQLite file (created 0600). busy_ms: lock wait before MLC_ERR_BUSY. */
mlc_err mlc_db_open_sqlite(const char *path, int busy_ms, mlc_db **out, mlc_error *err);
/* url: a libpq connection URL (postgresql://...). password: NULL or the
 * password (copied into libpq only). busy_ms: lock_timeout. */
mlc_err mlc_db_open_pg(const char *url, const char *password, int busy_ms, mlc_db **out, mlc_error *err);
/* MLC_ERR_CONFIG naming the reason when url may not be used: a password in it,
 * an sslmode weaker than verify-full for a host off loopback, not parseable. */
mlc_err mlc_db_pg_url_check(const char *url, mlc_error *err);
void mlc_db_close(mlc_db *db);
mlc_db_kind mlc_db_kind_of(const mlc_db *db);
/* What to call the database in messages: the file, or postgresql://user@host:port/db. */
const char *mlc_db_name(const mlc_db *db);

/* One or more statements without parameters (DDL, BEGIN...). */
mlc_err mlc_db_exec(mlc_db *db, const char *sql, mlc_error *err);
/* Transactions: BEGIN IMMEDIATE (SQLite: the write lock at once) / BEGIN. */
mlc_err mlc_db_begin(mlc_db *db, mlc_error *err);
mlc_err mlc_db_commit(mlc_db *db, mlc_error *err);
void mlc_db_rollback(mlc_db *db);
/* 1 inside an explicit transaction. */
int mlc_db_in_transaction(mlc_db *db);
/* PostgreSQL: while pinned (on = 1), a lost connection is not re-established:
 * the session holds state (advisory locks) a new one would not have. */
void mlc_db_pin_session(mlc_db *db, int on);

mlc_err mlc_db_prepare(mlc_db *db, const char *sql, mlc_db_stmt **out, mlc_error *err);
/* Parameters count from 1. Text NULL binds SQL NULL. */
void mlc_db_bind_int64(mlc_db_stmt *s, int i, int64_t v);
void mlc_db_bind_double(mlc_db_stmt *s, int i, double v);
void mlc_db_bind_text(mlc_db_stmt *s, int i, const char *v);
void mlc_db_bind_blob(mlc_db_stmt *s, int i, const void *v, size_t len);
void mlc_db_bind_null(mlc_db_stmt *s, int i);
/* 1: a row is ready; 0: done; -1: error (mlc_db_errcode/mlc_db_errmsg say which).
 * The statement runs on the first step; later steps walk its rows. */
int mlc_db_step(mlc_db_stmt *s);
/* The last failed step's error: MLC_ERR_BUSY or MLC_ERR_STORE (MLC_OK if none),
 * and the engine's one-line message (with the hint for BUSY). */
mlc_err mlc_db_errcode(const mlc_db *db);
const char *mlc_db_errmsg(const mlc_db *db);
/* Rows changed by the statement (after its first step). */
long mlc_db_changes(const mlc_db_stmt *s);
int mlc_db_col_null(mlc_db_stmt *s, int i);
int64_t mlc_db_col_int64(mlc_db_stmt *s, int i);
double mlc_db_col_double(mlc_db_stmt *s, int i);
const char *mlc_db_col_text(mlc_db_stmt *s, int i); /* NULL for SQL NULL */
/* Blob column: *len set; NULL for SQL NULL (or an empty blob with *len 0). */
const void *mlc_db_col_blob(mlc_db_stmt *s, int i, size_t *len);
void mlc_db_finalize(mlc_db_stmt *s);

#endif
