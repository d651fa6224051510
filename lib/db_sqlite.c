/*
 * db_sqlite.c: the SQLite engine of lib/db.h (one file per profile, WAL, busy
 * timeout). Also the dispatch of every mlc_db_* call to the engine of its
 * handle: a PostgreSQL handle goes to lib/db_pg.c.
 * Not here: tables and queries (lib/store), PostgreSQL itself (lib/db_pg.c).
 */
#include "db.h"
#include "db_impl.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct sq_db {
    mlc_db base;
    sqlite3 *db;
} sq_db;

typedef struct sq_stmt {
    mlc_db_stmt base;
    sqlite3_stmt *s;
    long changes;
} sq_stmt;

#define BUSY_HINT " (another mlc process holds the lock)"

static mlc_err sq_error(sq_db *d, mlc_error *err, const char *what)
{
    int code = sqlite3_errcode(d->db);
    mlc_err e = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? MLC_ERR_BUSY : MLC_ERR_STORE;
    return mlc_error_set(err, e, "%s: %s: %s%s", d->base.name, what, sqlite3_errmsg(d->db),
                         e == MLC_ERR_BUSY ? BUSY_HINT : "");
}

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return 0;
}

mlc_err mlc_db_open_sqlite(const char *path, int busy_ms, mlc_db **out, mlc_error *err)
{
    sq_db *d = calloc(1, sizeof *d);
    mlc_err rc;
    *out = NULL;
    if (!d)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    d->base.kind = MLC_DB_SQLITE;
    snprintf(d->base.name, sizeof d->base.name, "%s", path);
    if (mkdirs(path)) {
        rc = mlc_error_set(err, MLC_ERR_STORE, "%s: cannot create directory: %s", path, strerror(errno));
        free(d);
        return rc;
    }
    mode_t old = umask(077);
    int src = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    umask(old);
    if (src != SQLITE_OK) {
        rc = mlc_error_set(err, MLC_ERR_STORE, "%s: %s", path, d->db ? sqlite3_errmsg(d->db) : "cannot open");
        sqlite3_close(d->db);
        free(d);
        return rc;
    }
    int wait_ms = busy_ms > 0 ? busy_ms : 10000;
    sqlite3_busy_timeout(d->db, wait_ms);
    /* Switching a new database to WAL needs a moment alone with it, and SQLite
     * answers BUSY at once (without its busy handler) when another process is
     * opening the same new file: two mlc processes of one pipeline starting on a
     * fresh state directory do exactly that. Retry within the busy timeout. */
    for (int waited = 0;; waited += 20) {
        rc = mlc_db_exec(&d->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err);
        if (rc != MLC_ERR_BUSY || waited >= wait_ms)
            break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc) {
        mlc_db_close(&d->base);
        return rc;
    }
    *out = &d->base;
    return MLC_OK;
}

void mlc_db_close(mlc_db *db)
{
    if (!db)
        return;
    if (db->kind == MLC_DB_PG) {
        mlc_db_pg_close(db);
        return;
    }
    sqlite3_close(((sq_db *)db)->db);
    free(db);
}

mlc_db_kind mlc_db_kind_of(const mlc_db *db) { return db->kind; }
const char *mlc_db_name(const mlc_db *db) { return db->name; }

mlc_err mlc_db_exec(mlc_db *db, const char *sql, mlc_error *err)
{
    if (db->kind == MLC_DB_PG)
        return mlc_db_pg_exec(db, sql, err);
    sq_db *d = (sq_db *)db;
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int code = sqlite3_errcode(d->db);
        mlc_err e = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? MLC_ERR_BUSY : MLC_ERR_STORE;
        mlc_error_set(err, e, "%s: %s%s", db->name, msg ? msg : "error", e == MLC_ERR_BUSY ? BUSY_HINT : "");
        sqlite3_free(msg);
        return e;
    }
    return MLC_OK;
}

mlc_err mlc_db_begin(mlc_db *db, mlc_error *err)
{
    return mlc_db_exec(db, db->kind == MLC_DB_PG ? "BEGIN" : "BEGIN IMMEDIATE", err);
}

mlc_err mlc_db_commit(mlc_db *db, mlc_error *err) { return mlc_db_exec(db, "COMMIT", err); }

void mlc_db_rollback(mlc_db *db)
{
    mlc_error ignored;
    mlc_db_exec(db, "ROLLBACK", &ignored);
}

int mlc_db_in_transaction(mlc_db *db)
{
    if (db->kind == MLC_DB_PG)
        return mlc_db_pg_in_transaction(db);
    return sqlite3_get_autocommit(((sq_db *)db)->db) == 0;
}

void mlc_db_pin_session(mlc_db *db, int on)
{
    if (db->kind == MLC_DB_PG)
        mlc_db_pg_pin(db, on);
}

mlc_err mlc_db_prepare(mlc_db *db, const char *sql, mlc_db_stmt **out, mlc_error *err)
{
    *out = NULL;
    if (db->kind == MLC_DB_PG)
        return mlc_db_pg_prepare(db, sql, out, err);
    sq_db *d = (sq_db *)db;
    sq_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    s->base.db = db;
    if (sqlite3_prepare_v2(d->db, sql, -1, &s->s, NULL) != SQLITE_OK) {
        free(s);
        return sq_error(d, err, "prepare");
    }
    *out = &s->base;
    return MLC_OK;
}

#define SQ(st) (((sq_stmt *)(st))->s)
#define IS_PG(st) ((st)->db->kind == MLC_DB_PG)

void mlc_db_bind_int64(mlc_db_stmt *s, int i, int64_t v)
{
    if (IS_PG(s))
        mlc_db_pg_bind(s, i, MLC_DB_T_INT8, &v, sizeof v);
    else
        sqlite3_bind_int64(SQ(s), i, (sqlite3_int64)v);
}

void mlc_db_bind_double(mlc_db_stmt *s, int i, double v)
{
    if (IS_PG(s))
        mlc_db_pg_bind(s, i, MLC_DB_T_FLOAT8, &v, sizeof v);
    else
        sqlite3_bind_double(SQ(s), i, v);
}

void mlc_db_bind_text(mlc_db_stmt *s, int i, const char *v)
{
    if (!v)
        mlc_db_bind_null(s, i);
    else if (IS_PG(s))
        mlc_db_pg_bind(s, i, MLC_DB_T_TEXT, v, strlen(v));
    else
        sqlite3_bind_text(SQ(s), i, v, -1, SQLITE_TRANSIENT);
}

void mlc_db_bind_blob(mlc_db_stmt *s, int i, const void *v, size_t len)
{
    if (!v || len > INT_MAX)
        mlc_db_bind_null(s, i);
    else if (IS_PG(s))
        mlc_db_pg_bind(s, i, MLC_DB_T_BYTEA, v, len);
    else
        sqlite3_bind_blob(SQ(s), i, v, (int)len, SQLITE_TRANSIENT);
}

void mlc_db_bind_null(mlc_db_stmt *s, int i)
{
    if (IS_PG(s))
        mlc_db_pg_bind(s, i, MLC_DB_T_NULL, NULL, 0);
    else
        sqlite3_bind_null(SQ(s), i);
}

int mlc_db_step(mlc_db_stmt *s)
{
    s->db->last_code = MLC_OK;
    s->db->last_msg[0] = '\0';
    if (IS_PG(s))
        return mlc_db_pg_step(s);
    sq_stmt *q = (sq_stmt *)s;
    sqlite3 *h = ((sq_db *)s->db)->db;
    int r = sqlite3_step(q->s);
    if (r == SQLITE_ROW || r == SQLITE_DONE) {
        q->changes = sqlite3_changes(h);
        return r == SQLITE_ROW;
    }
    int code = sqlite3_errcode(h);
    s->db->last_code = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? MLC_ERR_BUSY : MLC_ERR_STORE;
    snprintf(s->db->last_msg, sizeof s->db->last_msg, "%s%s", sqlite3_errmsg(h),
             s->db->last_code == MLC_ERR_BUSY ? BUSY_HINT : "");
    return -1;
}

mlc_err mlc_db_errcode(const mlc_db *db) { return db->last_code; }
const char *mlc_db_errmsg(const mlc_db *db) { return db->last_msg[0] ? db->last_msg : "no row"; }

long mlc_db_changes(const mlc_db_stmt *s) { return IS_PG(s) ? mlc_db_pg_changes(s) : ((const sq_stmt *)s)->changes; }

int mlc_db_col_null(mlc_db_stmt *s, int i)
{
    return IS_PG(s) ? mlc_db_pg_col_text(s, i) == NULL : sqlite3_column_type(SQ(s), i) == SQLITE_NULL;
}

int64_t mlc_db_col_int64(mlc_db_stmt *s, int i)
{
    if (IS_PG(s)) {
        const char *t = mlc_db_pg_col_text(s, i);
        return t ? (int64_t)strtoll(t, NULL, 10) : 0;
    }
    return (int64_t)sqlite3_column_int64(SQ(s), i);
}

double mlc_db_col_double(mlc_db_stmt *s, int i)
{
    if (IS_PG(s)) {
        const char *t = mlc_db_pg_col_text(s, i);
        return t ? strtod(t, NULL) : 0;
    }
    return sqlite3_column_double(SQ(s), i);
}

const char *mlc_db_col_text(mlc_db_stmt *s, int i)
{
    return IS_PG(s) ? mlc_db_pg_col_text(s, i) : (const char *)sqlite3_column_text(SQ(s), i);
}

const void *mlc_db_col_blob(mlc_db_stmt *s, int i, size_t *len)
{
    if (IS_PG(s))
        return mlc_db_pg_col_blob(s, i, len);
    const void *p = sqlite3_column_blob(SQ(s), i);
    *len = (size_t)sqlite3_column_bytes(SQ(s), i);
    return p;
}

void mlc_db_finalize(mlc_db_stmt *s)
{
    if (!s)
        return;
    if (IS_PG(s)) {
        mlc_db_pg_finalize(s);
        return;
    }
    sqlite3_finalize(SQ(s));
    free(s);
}
