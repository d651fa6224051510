/*
 * store.c: lib/store.h on lib/db.h: one SQL text per query, in the dialect both
 * engines accept (SQLite and PostgreSQL, lib/db.h says which), the schema of each
 * engine and its migrations.
 * Not here: any decision about what to do with the state; only its keeping. No
 * engine API (sqlite3_*, PQ*): that is lib/db_sqlite.c and lib/db_pg.c.
 */
#include "store.h"
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct store_lock;

struct mlc_store {
    mlc_db *db;
    struct store_lock *locks; /* named locks held (section "sharing" below) */
};

static void release_locks(mlc_store *st);

/* Migrations: append only; index i upgrades version i to i+1. */
static const char *migrations[] = {
    "CREATE TABLE cursor(stream TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);"
    "CREATE TABLE seen(ns TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL, updated_at TEXT NOT NULL,"
    "  PRIMARY KEY(ns, key));"
    "CREATE TABLE link(po TEXT PRIMARY KEY, order_key TEXT NOT NULL UNIQUE, shipstation_id TEXT,"
    "  api TEXT NOT NULL, hash TEXT, status TEXT NOT NULL DEFAULT 'open', updated_at TEXT NOT NULL);"
    "CREATE INDEX link_ssid ON link(shipstation_id);"
    "CREATE TABLE receipt(id INTEGER PRIMARY KEY, idem_key TEXT NOT NULL UNIQUE, shipment_id TEXT NOT NULL,"
    "  po TEXT NOT NULL, line INTEGER NOT NULL, subline INTEGER NOT NULL DEFAULT 0, qty REAL NOT NULL,"
    "  route TEXT NOT NULL, tracking TEXT, carrier TEXT, ship_date TEXT, state TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
    "  has_before INTEGER NOT NULL DEFAULT 0, rvqa_before REAL, shipment_json TEXT,"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
    "CREATE INDEX receipt_state ON receipt(state, next_attempt_at);"
    "CREATE INDEX receipt_po ON receipt(po);"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, receipt_id INTEGER NOT NULL DEFAULT 0, at TEXT NOT NULL,"
    "  event TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX audit_receipt ON audit(receipt_id);"
    "CREATE TABLE rejected(id INTEGER PRIMARY KEY, at TEXT NOT NULL, command TEXT NOT NULL, source TEXT,"
    "  lineno INTEGER, reason TEXT NOT NULL, line TEXT);"
    "CREATE TABLE inbox(id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, resource_type TEXT,"
    "  resource_url TEXT, body TEXT, processed_at TEXT);",
    /* 2: a PO's routing facts live with its link (V2 carries no custom fields) */
    "ALTER TABLE link ADD COLUMN order_type TEXT;"
    "ALTER TABLE link ADD COLUMN warehouse TEXT;"
    "ALTER TABLE link ADD COLUMN supplier TEXT;",
    /* 3: one row per command run, read by `mlc status` */
    "CREATE TABLE run(id INTEGER PRIMARY KEY, command TEXT NOT NULL, started_at INTEGER NOT NULL,"
    "  ended_at INTEGER NOT NULL DEFAULT 0, exit_code INTEGER NOT NULL DEFAULT -1, counts TEXT, error TEXT);"
    "CREATE INDEX run_command ON run(command, exit_code, started_at);",
    /* 4: webhook notifications whose follow-up fails: retried with backoff, then
     * quarantined (failed_at) with the reason, never blocking the inbox */
    "ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE inbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE inbox ADD COLUMN last_error TEXT;"
    "ALTER TABLE inbox ADD COLUMN failed_at TEXT;",
    /* 5: in-doubt calls (issue 17): when the call started and until when it may still be
     * executing somewhere (deadline + gateway timeout + margin), for receipts and for
     * the create intents of the link table. */
    "ALTER TABLE receipt ADD COLUMN call_started_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE receipt ADD COLUMN settle_after INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE link ADD COLUMN settle_after INTEGER NOT NULL DEFAULT 0;",
    /* 6: the IMS message of a receipt sent as a BOD (one messageId for its life) */
    "CREATE TABLE bod_message(receipt_id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE,"
    "  document_id TEXT NOT NULL, sent_at INTEGER NOT NULL DEFAULT 0, sends INTEGER NOT NULL DEFAULT 0,"
    "  in_doubt INTEGER NOT NULL DEFAULT 0);",
    /* 7: small values shared by every process of the profile (issue 21): the rate
     * budget and the token cache when the state is shared between hosts */
    "CREATE TABLE shared(name TEXT PRIMARY KEY, value BLOB NOT NULL, updated_at TEXT NOT NULL);",
    /* 8: records written to a pipe and not yet taken in by the ledger (issue 17):
     * pull-shipments hands them over again until post-receipts has stored them */
    "CREATE TABLE outbox(ns TEXT NOT NULL, key TEXT NOT NULL, record TEXT NOT NULL,"
    "  emitted_at INTEGER NOT NULL, sent_at INTEGER NOT NULL, sends INTEGER NOT NULL DEFAULT 1,"
    "  PRIMARY KEY(ns, key));"
    "CREATE INDEX receipt_shipment ON receipt(shipment_id);",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* PostgreSQL: the same schema in its types (BIGSERIAL ids, BIGINT, DOUBLE
 * PRECISION, BYTEA for blobs). A new database gets version 6 at once (step 0);
 * versions 1-5 came before PostgreSQL support, so their steps are empty. A migration added to `migrations` above gets its PostgreSQL text here at
 * the same index. mlc_meta records which profile's state the database holds. */
static const char *pg_migrations[] = {
    "CREATE TABLE mlc_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE cursor(stream TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);"
    "CREATE TABLE seen(ns TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL, updated_at TEXT NOT NULL,"
    "  PRIMARY KEY(ns, key));"
    "CREATE TABLE link(po TEXT PRIMARY KEY, order_key TEXT NOT NULL UNIQUE, shipstation_id TEXT,"
    "  api TEXT NOT NULL, hash TEXT, status TEXT NOT NULL DEFAULT 'open', updated_at TEXT NOT NULL,"
    "  order_type TEXT, warehouse TEXT, supplier TEXT, settle_after BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX link_ssid ON link(shipstation_id);"
    "CREATE TABLE receipt(id BIGSERIAL PRIMARY KEY, idem_key TEXT NOT NULL UNIQUE, shipment_id TEXT NOT NULL,"
    "  po TEXT NOT NULL, line BIGINT NOT NULL, subline BIGINT NOT NULL DEFAULT 0, qty DOUBLE PRECISION NOT NULL,"
    "  route TEXT NOT NULL, tracking TEXT, carrier TEXT, ship_date TEXT, state TEXT NOT NULL,"
    "  attempts BIGINT NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL DEFAULT 0, last_error TEXT,"
    "  has_before BIGINT NOT NULL DEFAULT 0, rvqa_before DOUBLE PRECISION, shipment_json TEXT,"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, call_started_at BIGINT NOT NULL DEFAULT 0,"
    "  settle_after BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX receipt_state ON receipt(state, next_attempt_at);"
    "CREATE INDEX receipt_po ON receipt(po);"
    "CREATE TABLE audit(id BIGSERIAL PRIMARY KEY, receipt_id BIGINT NOT NULL DEFAULT 0, at TEXT NOT NULL,"
    "  event TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX audit_receipt ON audit(receipt_id);"
    "CREATE TABLE rejected(id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, command TEXT NOT NULL, source TEXT,"
    "  lineno BIGINT, reason TEXT NOT NULL, line BYTEA);"
    "CREATE TABLE inbox(id BIGSERIAL PRIMARY KEY, received_at TEXT NOT NULL, resource_type TEXT,"
    "  resource_url TEXT, body TEXT, processed_at TEXT, attempts BIGINT NOT NULL DEFAULT 0,"
    "  next_attempt_at BIGINT NOT NULL DEFAULT 0, last_error TEXT, failed_at TEXT);"
    "CREATE TABLE run(id BIGSERIAL PRIMARY KEY, command TEXT NOT NULL, started_at BIGINT NOT NULL,"
    "  ended_at BIGINT NOT NULL DEFAULT 0, exit_code BIGINT NOT NULL DEFAULT -1, counts TEXT, error TEXT);"
    "CREATE INDEX run_command ON run(command, exit_code, started_at);"
    "CREATE TABLE bod_message(receipt_id BIGINT PRIMARY KEY, message_id TEXT NOT NULL UNIQUE,"
    "  document_id TEXT NOT NULL, sent_at BIGINT NOT NULL DEFAULT 0, sends BIGINT NOT NULL DEFAULT 0,"
    "  in_doubt BIGINT NOT NULL DEFAULT 0);",
    NULL, NULL, NULL, NULL, NULL,
    /* 7 */
    "CREATE TABLE shared(name TEXT PRIMARY KEY, value BYTEA NOT NULL, updated_at TEXT NOT NULL);",
    /* 8 */
    "CREATE TABLE outbox(ns TEXT NOT NULL, key TEXT NOT NULL, record TEXT NOT NULL,"
    "  emitted_at BIGINT NOT NULL, sent_at BIGINT NOT NULL, sends BIGINT NOT NULL DEFAULT 1,"
    "  PRIMARY KEY(ns, key));"
    "CREATE INDEX receipt_shipment ON receipt(shipment_id);",
};
_Static_assert(sizeof pg_migrations / sizeof pg_migrations[0] == sizeof migrations / sizeof migrations[0],
               "every migration needs its PostgreSQL text (or NULL when step 0 already has it)");
/* The advisory lock key of schema changes (per database): "mlc schema" */
#define PG_SCHEMA_LOCK "hashtext('mlc schema')"

static mlc_err db_error(mlc_store *st, mlc_error *err, const char *what)
{
    mlc_err e = mlc_db_errcode(st->db);
    return mlc_error_set(err, e ? e : MLC_ERR_STORE, "%s: %s: %s", mlc_db_name(st->db), what,
                         mlc_db_errmsg(st->db));
}

void mlc_store_now(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static mlc_err exec(mlc_store *st, const char *sql, mlc_error *err) { return mlc_db_exec(st->db, sql, err); }

/* ---- small statement helpers ---- */

static mlc_err prep(mlc_store *st, const char *sql, mlc_db_stmt **s, mlc_error *err)
{
    return mlc_db_prepare(st->db, sql, s, err);
}

static void bind_text(mlc_db_stmt *s, int i, const char *v) { mlc_db_bind_text(s, i, v); }

/* Steps a statement expecting DONE (or a first row), then finalizes it;
 * *changes (may be NULL) gets the rows it changed. */
static mlc_err run_n(mlc_store *st, mlc_db_stmt *s, mlc_error *err, const char *what, long *changes)
{
    mlc_err e = mlc_db_step(s) < 0 ? db_error(st, err, what) : MLC_OK;
    if (changes)
        *changes = e ? 0 : mlc_db_changes(s);
    mlc_db_finalize(s);
    return e;
}

static mlc_err run(mlc_store *st, mlc_db_stmt *s, mlc_error *err, const char *what)
{
    return run_n(st, s, err, what, NULL);
}

static char *col_dup(mlc_db_stmt *s, int i)
{
    const char *t = mlc_db_col_text(s, i);
    return t ? strdup(t) : NULL;
}

/* One integer a query selects (-1 if none or on error). */
static int64_t query_int(mlc_store *st, const char *sql)
{
    mlc_db_stmt *s;
    mlc_error ignored;
    int64_t v = -1;
    if (prep(st, sql, &s, &ignored) == MLC_OK) {
        if (mlc_db_step(s) == 1 && !mlc_db_col_null(s, 0))
            v = mlc_db_col_int64(s, 0);
        mlc_db_finalize(s);
    }
    return v;
}

int mlc_store_schema_version(mlc_store *st)
{
    if (mlc_db_kind_of(st->db) == MLC_DB_PG)
        return (int)query_int(st, "SELECT coalesce(max(version), 0) FROM schema_version");
    return (int)query_int(st, "PRAGMA user_version");
}

static mlc_err migrate_sqlite(mlc_store *st, mlc_error *err)
{
    mlc_err rc = exec(st, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    int v = mlc_store_schema_version(st);
    if (v > NMIGRATIONS) {
        mlc_store_rollback(st);
        return mlc_error_set(err, MLC_ERR_STORE, "%s: schema version %d is newer than this mlc (%d)",
                             mlc_db_name(st->db), v, NMIGRATIONS);
    }
    for (; v < NMIGRATIONS; v++) {
        char sql[64];
        if ((rc = exec(st, migrations[v], err)) != MLC_OK) {
            mlc_store_rollback(st);
            return rc;
        }
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
        if ((rc = exec(st, sql, err)) != MLC_OK) {
            mlc_store_rollback(st);
            return rc;
        }
    }
    return exec(st, "COMMIT", err);
}

/* Records the profile in a new PostgreSQL database, or checks it is the one it
 * holds (inside the migration's transaction). */
static mlc_err check_profile(mlc_store *st, const char *profile, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_err rc = prep(st, "SELECT value FROM mlc_meta WHERE key='profile'", &s, err);
    if (rc)
        return rc;
    int r = mlc_db_step(s);
    char *held = r == 1 ? col_dup(s, 0) : NULL;
    if (r < 0)
        rc = db_error(st, err, "read the database's profile");
    mlc_db_finalize(s);
    if (rc)
        return rc;
    if (held) {
        if (profile && strcmp(held, profile) != 0)
            rc = mlc_error_set(err, MLC_ERR_CONFIG,
                               "%s holds the state of profile '%s', not of '%s': refused (one database per profile)",
                               mlc_db_name(st->db), held, profile);
        free(held);
        return rc;
    }
    if (!profile)
        return MLC_OK;
    mlc_store_now(now);
    if ((rc = prep(st, "INSERT INTO mlc_meta(key, value) VALUES('profile', ?), ('created_at', ?)", &s, err)))
        return rc;
    bind_text(s, 1, profile);
    bind_text(s, 2, now);
    return run(st, s, err, "record the profile");
}

/* PostgreSQL: the schema check and every migration in one transaction under a
 * transaction-scoped advisory lock, so that hosts opening a new or old database
 * at once apply each step exactly once (the others wait, then find it done). */
static mlc_err migrate_pg(mlc_store *st, const char *profile, mlc_error *err)
{
    mlc_err rc = exec(st, "BEGIN", err);
    if (!rc)
        rc = exec(st,
                  "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ");"
                  "CREATE TABLE IF NOT EXISTS schema_version(version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL);",
                  err);
    if (rc) {
        mlc_store_rollback(st);
        return rc;
    }
    int v = mlc_store_schema_version(st);
    if (v < 0 || v > NMIGRATIONS) {
        mlc_store_rollback(st);
        if (v < 0)
            return mlc_error_set(err, MLC_ERR_STORE, "%s: cannot read the schema version", mlc_db_name(st->db));
        return mlc_error_set(err, MLC_ERR_STORE, "%s: schema version %d is newer than this mlc (%d)",
                             mlc_db_name(st->db), v, NMIGRATIONS);
    }
    for (; v < NMIGRATIONS && !rc; v++) {
        mlc_db_stmt *s;
        char now[32];
        if (pg_migrations[v] && (rc = exec(st, pg_migrations[v], err)) != MLC_OK)
            break;
        mlc_store_now(now);
        if ((rc = prep(st, "INSERT INTO schema_version(version, applied_at) VALUES(?, ?)", &s, err)))
            break;
        mlc_db_bind_int64(s, 1, v + 1);
        bind_text(s, 2, now);
        rc = run(st, s, err, "record the schema version");
    }
    if (!rc)
        rc = check_profile(st, profile, err);
    if (rc) {
        mlc_store_rollback(st);
        return rc;
    }
    return exec(st, "COMMIT", err);
}

int mlc_store_is_url(const char *location)
{
    return location && (!strncmp(location, "postgresql://", 13) || !strncmp(location, "postgres://", 11));
}

mlc_err mlc_store_url_check(const char *url, mlc_error *err) { return mlc_db_pg_url_check(url, err); }

mlc_err mlc_store_open_with(const mlc_store_opts *o, mlc_store **out, mlc_error *err)
{
    mlc_store *st = calloc(1, sizeof *st);
    mlc_err rc;
    *out = NULL;
    if (!st)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (mlc_store_is_url(o->location)) {
        rc = mlc_db_open_pg(o->location, o->password, o->busy_ms, &st->db, err);
        if (!rc)
            rc = migrate_pg(st, o->profile, err);
    } else {
        rc = mlc_db_open_sqlite(o->location, o->busy_ms, &st->db, err);
        if (!rc)
            rc = migrate_sqlite(st, err);
    }
    if (rc) {
        mlc_store_close(st);
        return rc;
    }
    *out = st;
    return MLC_OK;
}

mlc_err mlc_store_open(const char *path, int busy_ms, mlc_store **out, mlc_error *err)
{
    mlc_store_opts o = {.location = path, .busy_ms = busy_ms};
    return mlc_store_open_with(&o, out, err);
}

void mlc_store_close(mlc_store *st)
{
    if (!st)
        return;
    if (st->db)
        release_locks(st);
    mlc_db_close(st->db);
    free(st);
}

const char *mlc_store_name(mlc_store *st) { return mlc_db_name(st->db); }
const char *mlc_store_backend(mlc_store *st)
{
    return mlc_db_kind_of(st->db) == MLC_DB_PG ? "postgresql" : "sqlite";
}

mlc_err mlc_store_begin(mlc_store *st, mlc_error *err) { return mlc_db_begin(st->db, err); }
mlc_err mlc_store_commit(mlc_store *st, mlc_error *err) { return mlc_db_commit(st->db, err); }
void mlc_store_rollback(mlc_store *st) { mlc_db_rollback(st->db); }


/* ---- cursors ---- */

mlc_err mlc_store_cursor_get(mlc_store *st, const char *stream, char **value, mlc_error *err)
{
    mlc_db_stmt *s;
    *value = NULL;
    mlc_err rc = prep(st, "SELECT value FROM cursor WHERE stream=?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, stream);
    int r = mlc_db_step(s);
    if (r == 1)
        *value = col_dup(s, 0);
    else if (r != 0)
        rc = db_error(st, err, "read cursor");
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_cursor_set(mlc_store *st, const char *stream, const char *value, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st, "INSERT INTO cursor(stream,value,updated_at) VALUES(?,?,?) "
                          "ON CONFLICT(stream) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                      &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, stream);
    bind_text(s, 2, value);
    bind_text(s, 3, now);
    return run(st, s, err, "write cursor");
}

/* ---- rejected ---- */

mlc_err mlc_store_reject(mlc_store *st, const char *command, const char *source, unsigned long lineno,
                         const char *reason, const char *line, mlc_error *err)
{
    return mlc_store_reject_n(st, command, source, lineno, reason, line, line ? strlen(line) : 0, err);
}

mlc_err mlc_store_reject_n(mlc_store *st, const char *command, const char *source, unsigned long lineno,
                           const char *reason, const char *line, size_t len, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st, "INSERT INTO rejected(at,command,source,lineno,reason,line) VALUES(?,?,?,?,?,?)", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, now);
    bind_text(s, 2, command);
    bind_text(s, 3, source);
    mlc_db_bind_int64(s, 4, lineno);
    bind_text(s, 5, reason);
    /* The raw line as a blob, whole: NUL bytes and invalid UTF-8 are kept as is. */
    if (line && len <= INT_MAX)
        mlc_db_bind_blob(s, 6, line, len);
    else
        mlc_db_bind_null(s, 6);
    return run(st, s, err, "record rejected line");
}

long mlc_store_rejected_count(mlc_store *st)
{
    return (long)query_int(st, "SELECT count(*) FROM rejected");
}

/* ---- seen hashes ---- */

mlc_err mlc_store_seen_get(mlc_store *st, const char *ns, const char *key, char **hash, mlc_error *err)
{
    mlc_db_stmt *s;
    *hash = NULL;
    mlc_err rc = prep(st, "SELECT hash FROM seen WHERE ns=? AND key=?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, ns);
    bind_text(s, 2, key);
    int r = mlc_db_step(s);
    if (r == 1)
        *hash = col_dup(s, 0);
    else if (r != 0)
        rc = db_error(st, err, "read hash");
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_seen_check(mlc_store *st, const char *ns, const char *key, const char *hash, int *changed,
                             mlc_error *err)
{
    char *old = NULL;
    mlc_err rc = mlc_store_seen_get(st, ns, key, &old, err);
    if (rc)
        return rc;
    *changed = !old || strcmp(old, hash) != 0;
    free(old);
    return MLC_OK;
}

mlc_err mlc_store_seen_set(mlc_store *st, const char *ns, const char *key, const char *hash, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st, "INSERT INTO seen(ns,key,hash,updated_at) VALUES(?,?,?,?) ON CONFLICT(ns,key) "
                          "DO UPDATE SET hash=excluded.hash, updated_at=excluded.updated_at",
                      &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, ns);
    bind_text(s, 2, key);
    bind_text(s, 3, hash);
    bind_text(s, 4, now);
    return run(st, s, err, "write hash");
}

mlc_err mlc_store_seen_delete(mlc_store *st, const char *ns, const char *key, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "DELETE FROM seen WHERE ns=? AND key=?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, ns);
    bind_text(s, 2, key);
    return run(st, s, err, "delete hash");
}

mlc_err mlc_store_seen_keys(mlc_store *st, const char *ns, size_t max, char ***keys, size_t *n, mlc_error *err)
{
    mlc_db_stmt *s;
    *keys = NULL;
    *n = 0;
    mlc_err rc = prep(st, "SELECT key FROM seen WHERE ns=? ORDER BY updated_at, key LIMIT ?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, ns);
    mlc_db_bind_int64(s, 2, max);
    char **arr = calloc(max ? max : 1, sizeof *arr);
    if (!arr) {
        mlc_db_finalize(s);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    int r = 0;
    while (!rc && *n < max && (r = mlc_db_step(s)) == 1)
        if ((arr[(*n)++] = col_dup(s, 0)) == NULL)
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    if (!rc && r != 1 && r != 0)
        rc = db_error(st, err, "list hashes"); /* not a shorter list that looks complete */
    mlc_db_finalize(s);
    if (rc) {
        mlc_store_keys_free(arr, *n);
        *n = 0;
        return rc;
    }
    *keys = arr;
    return MLC_OK;
}

void mlc_store_keys_free(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* ---- outbox ---- */

mlc_err mlc_store_outbox_put(mlc_store *st, const char *ns, const char *key, const char *record, int64_t emitted_at,
                             mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "INSERT INTO outbox(ns,key,record,emitted_at,sent_at,sends) VALUES(?,?,?,?,?,1) "
                          "ON CONFLICT(ns,key) DO UPDATE SET record=excluded.record, emitted_at=excluded.emitted_at, "
                          "sent_at=excluded.sent_at, sends=1",
                      &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, ns);
    bind_text(s, 2, key);
    bind_text(s, 3, record);
    mlc_db_bind_int64(s, 4, emitted_at);
    mlc_db_bind_int64(s, 5, emitted_at);
    return run(st, s, err, "write outbox");
}

mlc_err mlc_store_outbox_list(mlc_store *st, const char *ns, size_t max, mlc_store_outbox_item **items, size_t *n,
                              mlc_error *err)
{
    mlc_db_stmt *s;
    *items = NULL;
    *n = 0;
    mlc_err rc = prep(st, "SELECT key, record, emitted_at, sent_at, sends FROM outbox WHERE ns=? "
                          "ORDER BY emitted_at, key LIMIT ?",
                      &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, ns);
    mlc_db_bind_int64(s, 2, (int64_t)max);
    mlc_store_outbox_item *arr = calloc(max ? max : 1, sizeof *arr);
    if (!arr) {
        mlc_db_finalize(s);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    int r = 0;
    while (!rc && *n < max && (r = mlc_db_step(s)) == 1) {
        mlc_store_outbox_item *it = &arr[(*n)++];
        it->key = col_dup(s, 0);
        it->record = col_dup(s, 1);
        it->emitted_at = mlc_db_col_int64(s, 2);
        it->sent_at = mlc_db_col_int64(s, 3);
        it->sends = (int)mlc_db_col_int64(s, 4);
        if (!it->key || !it->record)
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    if (!rc && r != 1 && r != 0)
        rc = db_error(st, err, "list outbox"); /* not a shorter list that looks complete */
    mlc_db_finalize(s);
    if (rc) {
        mlc_store_outbox_free(arr, *n);
        *n = 0;
        return rc;
    }
    *items = arr;
    return MLC_OK;
}

void mlc_store_outbox_free(mlc_store_outbox_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].key);
        free(items[i].record);
    }
    free(items);
}

mlc_err mlc_store_outbox_sent(mlc_store *st, const char *ns, const char *key, int64_t sent_at, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "UPDATE outbox SET sent_at=?, sends=sends+1 WHERE ns=? AND key=?", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, sent_at);
    bind_text(s, 2, ns);
    bind_text(s, 3, key);
    return run(st, s, err, "update outbox");
}

mlc_err mlc_store_outbox_delete(mlc_store *st, const char *ns, const char *key, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "DELETE FROM outbox WHERE ns=? AND key=?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, ns);
    bind_text(s, 2, key);
    return run(st, s, err, "delete from outbox");
}

/* ---- links ---- */

void mlc_store_link_free(mlc_store_link *l)
{
    if (!l)
        return;
    free(l->po);
    free(l->order_key);
    free(l->shipstation_id);
    free(l->api);
    free(l->hash);
    free(l->status);
    free(l->order_type);
    free(l->warehouse);
    free(l->supplier);
    free(l);
}

static mlc_err link_query(mlc_store *st, const char *sql, const char *arg, mlc_store_link **out, mlc_error *err)
{
    mlc_db_stmt *s;
    *out = NULL;
    mlc_err rc = prep(st, sql, &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, arg);
    int r = mlc_db_step(s);
    if (r == 1) {
        mlc_store_link *l = calloc(1, sizeof *l);
        if (!l) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        } else {
            l->po = col_dup(s, 0);
            l->order_key = col_dup(s, 1);
            l->shipstation_id = col_dup(s, 2);
            l->api = col_dup(s, 3);
            l->hash = col_dup(s, 4);
            l->status = col_dup(s, 5);
            l->order_type = col_dup(s, 6);
            l->warehouse = col_dup(s, 7);
            l->supplier = col_dup(s, 8);
            l->settle_after = mlc_db_col_int64(s, 9);
            *out = l;
        }
    } else if (r == 0) {
        rc = MLC_ERR_NOTFOUND;
    } else {
        rc = db_error(st, err, "read link");
    }
    mlc_db_finalize(s);
    return rc;
}

#define LINK_COLS \
    "SELECT po,order_key,shipstation_id,api,hash,status,order_type,warehouse,supplier,settle_after FROM link "

mlc_err mlc_store_link_get(mlc_store *st, const char *po, mlc_store_link **out, mlc_error *err)
{
    return link_query(st, LINK_COLS "WHERE po=?", po, out, err);
}

mlc_err mlc_store_link_by_key(mlc_store *st, const char *order_key, mlc_store_link **out, mlc_error *err)
{
    return link_query(st, LINK_COLS "WHERE order_key=?", order_key, out, err);
}

mlc_err mlc_store_link_by_shipstation_id(mlc_store *st, const char *ssid, mlc_store_link **out, mlc_error *err)
{
    return link_query(st, LINK_COLS "WHERE shipstation_id=?", ssid, out, err);
}

mlc_err mlc_store_link_put(mlc_store *st, const mlc_store_link *l, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st,
                      "INSERT INTO link(po,order_key,shipstation_id,api,hash,status,updated_at,order_type,warehouse,"
                      "supplier,settle_after) VALUES(?,?,?,?,?,?,?,?,?,?,?) "
                      "ON CONFLICT(po) DO UPDATE SET order_key=excluded.order_key,"
                      " shipstation_id=coalesce(excluded.shipstation_id, link.shipstation_id), api=excluded.api,"
                      " hash=excluded.hash, status=excluded.status, updated_at=excluded.updated_at,"
                      " order_type=coalesce(excluded.order_type, link.order_type),"
                      " warehouse=coalesce(excluded.warehouse, link.warehouse),"
                      " supplier=coalesce(excluded.supplier, link.supplier), settle_after=excluded.settle_after",
                      &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, l->po);
    bind_text(s, 2, l->order_key);
    bind_text(s, 3, l->shipstation_id);
    bind_text(s, 4, l->api ? l->api : "v2");
    bind_text(s, 5, l->hash);
    bind_text(s, 6, l->status ? l->status : "open");
    bind_text(s, 7, now);
    bind_text(s, 8, l->order_type);
    bind_text(s, 9, l->warehouse);
    bind_text(s, 10, l->supplier);
    mlc_db_bind_int64(s, 11, l->settle_after);
    return run(st, s, err, "write link");
}

mlc_err mlc_store_link_count(mlc_store *st, const char *api, long *n, mlc_error *err)
{
    mlc_db_stmt *s;
    *n = 0;
    mlc_err rc = prep(st, "SELECT count(*) FROM link WHERE api=?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, api);
    if (mlc_db_step(s) == 1)
        *n = (long)mlc_db_col_int64(s, 0);
    else
        rc = db_error(st, err, "count links");
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_link_set_settle(mlc_store *st, const char *po, int64_t settle_after, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "UPDATE link SET settle_after=? WHERE po=?", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, settle_after);
    bind_text(s, 2, po);
    return run(st, s, err, "write link deadline");
}

/* ---- inbox ---- */

mlc_err mlc_store_inbox_add(mlc_store *st, const char *resource_type, const char *resource_url, const char *body,
                            mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st, "INSERT INTO inbox(received_at,resource_type,resource_url,body) VALUES(?,?,?,?)", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, now);
    bind_text(s, 2, resource_type);
    bind_text(s, 3, resource_url);
    bind_text(s, 4, body);
    return run(st, s, err, "store webhook");
}

static mlc_err inbox_select(mlc_store *st, const char *sql, int64_t now, size_t max, mlc_store_inbox_item **items,
                            size_t *n, mlc_error *err)
{
    mlc_db_stmt *s;
    *items = NULL;
    *n = 0;
    mlc_err rc = prep(st, sql, &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, max);
    mlc_db_bind_int64(s, 2, now);
    mlc_store_inbox_item *arr = max ? calloc(max, sizeof *arr) : NULL;
    if (max && !arr) {
        mlc_db_finalize(s);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    int r;
    while ((r = mlc_db_step(s)) == 1 && *n < max) {
        mlc_store_inbox_item *it = &arr[*n];
        it->id = mlc_db_col_int64(s, 0);
        it->resource_type = col_dup(s, 1);
        it->resource_url = col_dup(s, 2);
        it->body = col_dup(s, 3);
        it->attempts = (int)mlc_db_col_int64(s, 4);
        it->next_attempt_at = mlc_db_col_int64(s, 5);
        it->last_error = col_dup(s, 6);
        it->failed_at = col_dup(s, 7);
        it->received_at = col_dup(s, 8);
        it->processed_at = col_dup(s, 9);
        (*n)++;
    }
    if (r != 0 && r != 1)
        rc = db_error(st, err, "read inbox");
    mlc_db_finalize(s);
    *items = arr;
    return rc;
}

#define INBOX_COLS                                                                                                     \
    "id,resource_type,resource_url,body,attempts,next_attempt_at,last_error,failed_at,received_at,"                    \
    "processed_at"

mlc_err mlc_store_inbox_pending(mlc_store *st, size_t max, mlc_store_inbox_item **items, size_t *n, mlc_error *err)
{
    return inbox_select(st,
                        "SELECT " INBOX_COLS " FROM inbox WHERE processed_at IS NULL AND failed_at IS NULL"
                        " AND next_attempt_at <= ?2 ORDER BY id LIMIT ?1",
                        (int64_t)time(NULL), max, items, n, err);
}

mlc_err mlc_store_inbox_list(mlc_store *st, int all, size_t max, mlc_store_inbox_item **items, size_t *n,
                             mlc_error *err)
{
    return inbox_select(st,
                        all ? "SELECT " INBOX_COLS " FROM inbox WHERE ?2 = ?2 ORDER BY id LIMIT ?1"
                            : "SELECT " INBOX_COLS " FROM inbox WHERE processed_at IS NULL AND ?2 = ?2"
                              " ORDER BY id LIMIT ?1",
                        0, max, items, n, err);
}

mlc_err mlc_store_inbox_retry(mlc_store *st, int64_t id, int attempts, int64_t next_attempt_at, const char *error,
                              mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "UPDATE inbox SET attempts=?, next_attempt_at=?, last_error=? WHERE id=?", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, attempts);
    mlc_db_bind_int64(s, 2, next_attempt_at);
    bind_text(s, 3, error);
    mlc_db_bind_int64(s, 4, id);
    return run(st, s, err, "requeue webhook");
}

mlc_err mlc_store_inbox_fail(mlc_store *st, int64_t id, int attempts, const char *reason, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st, "UPDATE inbox SET attempts=?, last_error=?, failed_at=? WHERE id=?", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, attempts);
    bind_text(s, 2, reason);
    bind_text(s, 3, now);
    mlc_db_bind_int64(s, 4, id);
    return run(st, s, err, "quarantine webhook");
}

void mlc_store_inbox_free(mlc_store_inbox_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].resource_type);
        free(items[i].resource_url);
        free(items[i].body);
        free(items[i].last_error);
        free(items[i].failed_at);
        free(items[i].received_at);
        free(items[i].processed_at);
    }
    free(items);
}

mlc_err mlc_store_inbox_done(mlc_store *st, int64_t id, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st, "UPDATE inbox SET processed_at=? WHERE id=?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, now);
    mlc_db_bind_int64(s, 2, id);
    return run(st, s, err, "mark webhook done");
}

/* ---- BOD messages ---- */

void mlc_store_bod_free(mlc_store_bod *b)
{
    if (!b)
        return;
    free(b->message_id);
    free(b->document_id);
    free(b);
}

mlc_err mlc_store_bod_get(mlc_store *st, int64_t receipt_id, mlc_store_bod **out, mlc_error *err)
{
    mlc_db_stmt *s;
    *out = NULL;
    mlc_err rc = prep(st,
                      "SELECT receipt_id, message_id, document_id, sent_at, sends, in_doubt FROM bod_message"
                      " WHERE receipt_id=?",
                      &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, receipt_id);
    int r = mlc_db_step(s);
    if (r == 1) {
        mlc_store_bod *b = calloc(1, sizeof *b);
        if (b) {
            b->receipt_id = mlc_db_col_int64(s, 0);
            b->message_id = col_dup(s, 1);
            b->document_id = col_dup(s, 2);
            b->sent_at = mlc_db_col_int64(s, 3);
            b->sends = (int)mlc_db_col_int64(s, 4);
            b->in_doubt = (int)mlc_db_col_int64(s, 5);
        }
        if (!b || !b->message_id || !b->document_id) {
            mlc_store_bod_free(b);
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        } else {
            *out = b;
        }
    } else if (r == 0) {
        rc = mlc_error_set(err, MLC_ERR_NOTFOUND, "receipt %lld has no BOD message", (long long)receipt_id);
    } else {
        rc = db_error(st, err, "read bod_message");
    }
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_bod_get_or_create(mlc_store *st, int64_t receipt_id, const char *message_id,
                                    const char *document_id, mlc_store_bod **out, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st,
                      "INSERT INTO bod_message(receipt_id, message_id, document_id) VALUES(?,?,?)"
                      " ON CONFLICT(receipt_id) DO NOTHING",
                      &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, receipt_id);
    bind_text(s, 2, message_id);
    bind_text(s, 3, document_id);
    rc = run(st, s, err, "add bod_message");
    if (rc)
        return rc;
    return mlc_store_bod_get(st, receipt_id, out, err);
}

mlc_err mlc_store_bod_update(mlc_store *st, int64_t receipt_id, int64_t sent_at, int sends, int in_doubt,
                             mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "UPDATE bod_message SET sent_at=?, sends=?, in_doubt=? WHERE receipt_id=?", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, sent_at);
    mlc_db_bind_int64(s, 2, sends);
    mlc_db_bind_int64(s, 3, in_doubt);
    mlc_db_bind_int64(s, 4, receipt_id);
    return run(st, s, err, "update bod_message");
}

/* ---- receipts ---- */

static const char *state_names[MLC_RECEIPT__COUNT] = {
    "pending", "in_flight", "posted",  "queued", "exhausted", "needs_review",
    "voided",  "in_doubt",  "already_posted", "sent",
};

const char *mlc_receipt_state_name(mlc_receipt_state s)
{
    return (int)s >= 0 && s < MLC_RECEIPT__COUNT ? state_names[s] : "unknown";
}

int mlc_receipt_state_parse(const char *s, mlc_receipt_state *out)
{
    for (int i = 0; i < MLC_RECEIPT__COUNT; i++)
        if (strcmp(s, state_names[i]) == 0) {
            *out = (mlc_receipt_state)i;
            return 0;
        }
    return -1;
}

void mlc_store_receipt_free(mlc_store_receipt *r)
{
    if (!r)
        return;
    free(r->idem_key);
    free(r->shipment_id);
    free(r->po);
    free(r->route);
    free(r->tracking);
    free(r->carrier);
    free(r->ship_date);
    free(r->last_error);
    free(r->shipment_json);
    free(r->created_at);
    free(r->updated_at);
    free(r);
}

void mlc_store_receipts_free(mlc_store_receipt **rs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mlc_store_receipt_free(rs[i]);
    free(rs);
}

#define RECEIPT_COLS                                                                                           \
    "SELECT id,idem_key,shipment_id,po,line,subline,qty,route,tracking,carrier,ship_date,state,attempts,"     \
    "next_attempt_at,last_error,has_before,rvqa_before,shipment_json,created_at,updated_at,call_started_at,"     \
    "settle_after FROM receipt "

static mlc_store_receipt *receipt_row(mlc_db_stmt *s)
{
    mlc_store_receipt *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->id = mlc_db_col_int64(s, 0);
    r->idem_key = col_dup(s, 1);
    r->shipment_id = col_dup(s, 2);
    r->po = col_dup(s, 3);
    r->line = (int)mlc_db_col_int64(s, 4);
    r->subline = (int)mlc_db_col_int64(s, 5);
    r->qty = mlc_db_col_double(s, 6);
    r->route = col_dup(s, 7);
    r->tracking = col_dup(s, 8);
    r->carrier = col_dup(s, 9);
    r->ship_date = col_dup(s, 10);
    const char *state = mlc_db_col_text(s, 11);
    if (!state || mlc_receipt_state_parse(state, &r->state))
        r->state = MLC_RECEIPT_NEEDS_REVIEW;
    r->attempts = (int)mlc_db_col_int64(s, 12);
    r->next_attempt_at = mlc_db_col_int64(s, 13);
    r->last_error = col_dup(s, 14);
    r->has_before = (int)mlc_db_col_int64(s, 15);
    r->rvqa_before = mlc_db_col_double(s, 16);
    r->shipment_json = col_dup(s, 17);
    r->created_at = col_dup(s, 18);
    r->updated_at = col_dup(s, 19);
    r->call_started_at = mlc_db_col_int64(s, 20);
    r->settle_after = mlc_db_col_int64(s, 21);
    return r;
}

mlc_err mlc_store_receipt_add(mlc_store *st, mlc_store_receipt *r, int *created, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    *created = 0;
    mlc_err rc = prep(st,
                      "INSERT INTO receipt(idem_key,shipment_id,po,line,subline,qty,route,tracking,carrier,ship_date,"
                      "state,shipment_json,created_at,updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,'pending',?,?,?) "
                      "ON CONFLICT(idem_key) DO NOTHING RETURNING id",
                      &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, r->idem_key);
    bind_text(s, 2, r->shipment_id);
    bind_text(s, 3, r->po);
    mlc_db_bind_int64(s, 4, r->line);
    mlc_db_bind_int64(s, 5, r->subline);
    mlc_db_bind_double(s, 6, r->qty);
    bind_text(s, 7, r->route);
    bind_text(s, 8, r->tracking);
    bind_text(s, 9, r->carrier);
    bind_text(s, 10, r->ship_date);
    bind_text(s, 11, r->shipment_json);
    bind_text(s, 12, now);
    bind_text(s, 13, now);
    int step = mlc_db_step(s);
    if (step == 1) {
        *created = 1;
        r->id = mlc_db_col_int64(s, 0);
        r->state = MLC_RECEIPT_PENDING;
    } else if (step < 0) {
        rc = db_error(st, err, "add receipt");
    }
    mlc_db_finalize(s);
    if (rc || *created)
        return rc;
    if ((rc = prep(st, "SELECT id, state FROM receipt WHERE idem_key=?", &s, err)) != MLC_OK)
        return rc;
    bind_text(s, 1, r->idem_key);
    if (mlc_db_step(s) == 1) {
        r->id = mlc_db_col_int64(s, 0);
        const char *state = mlc_db_col_text(s, 1);
        if (!state || mlc_receipt_state_parse(state, &r->state))
            r->state = MLC_RECEIPT_NEEDS_REVIEW;
    } else {
        rc = db_error(st, err, "find receipt");
    }
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_receipt_get(mlc_store *st, int64_t id, mlc_store_receipt **out, mlc_error *err)
{
    mlc_db_stmt *s;
    *out = NULL;
    mlc_err rc = prep(st, RECEIPT_COLS "WHERE id=?", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, id);
    int r = mlc_db_step(s);
    if (r == 1) {
        *out = receipt_row(s);
        if (!*out)
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    } else if (r == 0) {
        rc = mlc_error_set(err, MLC_ERR_NOTFOUND, "no receipt with id %lld", (long long)id);
    } else {
        rc = db_error(st, err, "read receipt");
    }
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_receipt_update(mlc_store *st, int64_t id, mlc_receipt_state state, int attempts,
                                 int64_t next_attempt_at, const char *last_error, int has_before,
                                 double rvqa_before, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st,
                      "UPDATE receipt SET state=?1, attempts=?2, next_attempt_at=?3, last_error=?4, updated_at=?5,"
                      " has_before=CASE WHEN ?7 < 0 THEN has_before ELSE ?7 END,"
                      " rvqa_before=CASE WHEN ?7 < 0 THEN rvqa_before ELSE ?8 END WHERE id=?6",
                      &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, mlc_receipt_state_name(state));
    mlc_db_bind_int64(s, 2, attempts);
    mlc_db_bind_int64(s, 3, next_attempt_at);
    bind_text(s, 4, last_error);
    bind_text(s, 5, now);
    mlc_db_bind_int64(s, 7, has_before);
    mlc_db_bind_double(s, 8, rvqa_before);
    mlc_db_bind_int64(s, 6, id);
    return run(st, s, err, "update receipt");
}

/* "'pending','queued'" for a state mask (names come from the table, never input). */
static void state_in_list(unsigned mask, char *in, size_t cap)
{
    in[0] = '\0';
    for (int i = 0; i < MLC_RECEIPT__COUNT; i++)
        if (mask & (1u << i)) {
            size_t len = strlen(in);
            snprintf(in + len, cap - len, "%s'%s'", len ? "," : "", state_names[i]);
        }
}

mlc_err mlc_store_receipt_relabel(mlc_store *st, int64_t id, const char *tracking, const char *carrier,
                                  const char *ship_date, const char *shipment_json, int *revived, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    *revived = 0;
    mlc_err rc = prep(st,
                      "UPDATE receipt SET tracking=?, carrier=?, ship_date=?, shipment_json=?, state='pending',"
                      " attempts=0, next_attempt_at=0, last_error=NULL, has_before=0, rvqa_before=NULL,"
                      " call_started_at=0, settle_after=0, updated_at=? WHERE id=? AND state='voided' RETURNING id",
                      &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, tracking);
    bind_text(s, 2, carrier);
    bind_text(s, 3, ship_date);
    bind_text(s, 4, shipment_json);
    bind_text(s, 5, now);
    mlc_db_bind_int64(s, 6, id);
    int step = mlc_db_step(s);
    if (step == 1)
        *revived = 1;
    else if (step < 0)
        rc = db_error(st, err, "relabel receipt");
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_receipt_set_route(mlc_store *st, int64_t id, const char *route, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "UPDATE receipt SET route=? WHERE id=?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, route);
    mlc_db_bind_int64(s, 2, id);
    return run(st, s, err, "set receipt route");
}

mlc_err mlc_store_receipt_claim(mlc_store *st, int64_t id, unsigned from_mask, double rvqa_before, int *claimed,
                                mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32], in[256] = "";
    mlc_store_now(now);
    *claimed = 0;
    state_in_list(from_mask, in, sizeof in);
    if (!*in)
        return MLC_OK;
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE receipt SET state='in_flight', has_before=1, rvqa_before=?, updated_at=?,"
             " call_started_at=0, settle_after=-1 WHERE id=? AND state IN (%s)",
             in);
    mlc_err rc = prep(st, sql, &s, err);
    if (rc)
        return rc;
    mlc_db_bind_double(s, 1, rvqa_before);
    bind_text(s, 2, now);
    mlc_db_bind_int64(s, 3, id);
    long changed = 0;
    if ((rc = run_n(st, s, err, "claim receipt", &changed)) == MLC_OK)
        *claimed = changed > 0;
    return rc;
}

mlc_err mlc_store_receipt_set_call(mlc_store *st, int64_t id, int64_t started_at, int64_t settle_after,
                                   mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "UPDATE receipt SET call_started_at=?, settle_after=? WHERE id=?", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, started_at);
    mlc_db_bind_int64(s, 2, settle_after);
    mlc_db_bind_int64(s, 3, id);
    return run(st, s, err, "record the call's deadline");
}

mlc_err mlc_store_receipt_list(mlc_store *st, const mlc_store_receipt_filter *f, mlc_store_receipt ***out,
                               size_t *n, mlc_error *err)
{
    char sql[1024], in[256] = "";
    mlc_db_stmt *s;
    *out = NULL;
    *n = 0;
    state_in_list(f->state_mask, in, sizeof in);
    /* positional parameters, bound below in the same order */
    snprintf(sql, sizeof sql, RECEIPT_COLS "WHERE 1=1%s%s%s%s%s%s%s ORDER BY id%s", *in ? " AND state IN (" : "", in,
             *in ? ")" : "", f->po ? " AND po=?" : "", f->shipment_id ? " AND shipment_id=?" : "",
             f->since ? " AND updated_at>=?" : "", f->due_only ? " AND next_attempt_at<=?" : "",
             f->limit ? " LIMIT ?" : "");
    mlc_err rc = prep(st, sql, &s, err);
    if (rc)
        return rc;
    int i = 0;
    if (f->po)
        bind_text(s, ++i, f->po);
    if (f->shipment_id)
        bind_text(s, ++i, f->shipment_id);
    if (f->since)
        bind_text(s, ++i, f->since);
    if (f->due_only)
        mlc_db_bind_int64(s, ++i, (int64_t)time(NULL));
    if (f->limit)
        mlc_db_bind_int64(s, ++i, (int64_t)f->limit);
    size_t cap = 0;
    mlc_store_receipt **arr = NULL;
    int r;
    while ((r = mlc_db_step(s)) == 1) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            mlc_store_receipt **na = realloc(arr, nc * sizeof *na);
            if (!na) {
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                break;
            }
            arr = na;
            cap = nc;
        }
        if (!(arr[*n] = receipt_row(s))) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            break;
        }
        (*n)++;
    }
    if (!rc && r != 0)
        rc = db_error(st, err, "list receipts");
    mlc_db_finalize(s);
    if (rc) {
        mlc_store_receipts_free(arr, *n);
        *n = 0;
        return rc;
    }
    *out = arr;
    return MLC_OK;
}

mlc_err mlc_store_receipt_counts(mlc_store *st, long counts[MLC_RECEIPT__COUNT], mlc_error *err)
{
    mlc_db_stmt *s;
    memset(counts, 0, sizeof(long) * MLC_RECEIPT__COUNT);
    mlc_err rc = prep(st, "SELECT state, count(*) FROM receipt GROUP BY state", &s, err);
    if (rc)
        return rc;
    while (mlc_db_step(s) == 1) {
        mlc_receipt_state state;
        const char *name = mlc_db_col_text(s, 0);
        if (name && !mlc_receipt_state_parse(name, &state))
            counts[state] = (long)mlc_db_col_int64(s, 1);
    }
    mlc_db_finalize(s);
    return MLC_OK;
}

mlc_err mlc_store_receipt_oldest(mlc_store *st, char *oldest[MLC_RECEIPT__COUNT], mlc_error *err)
{
    mlc_db_stmt *s;
    memset(oldest, 0, sizeof(char *) * MLC_RECEIPT__COUNT);
    mlc_err rc = prep(st, "SELECT state, min(created_at) FROM receipt GROUP BY state", &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = mlc_db_step(s)) == 1) {
        mlc_receipt_state state;
        const char *name = mlc_db_col_text(s, 0);
        if (name && !mlc_receipt_state_parse(name, &state) && !oldest[state])
            oldest[state] = col_dup(s, 1);
    }
    if (r != 0)
        rc = db_error(st, err, "read receipt ages");
    mlc_db_finalize(s);
    return rc;
}

/* ---- cursors, listed ---- */

mlc_err mlc_store_cursor_list(mlc_store *st, mlc_store_cursor **out, size_t *n, mlc_error *err)
{
    mlc_db_stmt *s;
    *out = NULL;
    *n = 0;
    mlc_err rc = prep(st, "SELECT stream, value, updated_at FROM cursor ORDER BY stream", &s, err);
    if (rc)
        return rc;
    size_t cap = 0;
    int r;
    while ((r = mlc_db_step(s)) == 1) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            mlc_store_cursor *g = realloc(*out, nc * sizeof *g);
            if (!g) {
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                break;
            }
            *out = g;
            cap = nc;
        }
        mlc_store_cursor *c = &(*out)[(*n)++];
        c->stream = col_dup(s, 0);
        c->value = col_dup(s, 1);
        c->updated_at = col_dup(s, 2);
        if (!c->stream || !c->value || !c->updated_at) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (!rc && r != 0)
        rc = db_error(st, err, "list cursors");
    mlc_db_finalize(s);
    if (rc) {
        mlc_store_cursor_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void mlc_store_cursor_list_free(mlc_store_cursor *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].stream);
        free(c[i].value);
        free(c[i].updated_at);
    }
    free(c);
}

/* ---- runs ---- */

mlc_err mlc_store_run_begin(mlc_store *st, const char *command, int64_t started_at, int64_t *id, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "INSERT INTO run(command, started_at) VALUES(?,?) RETURNING id", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, command);
    mlc_db_bind_int64(s, 2, started_at);
    if (mlc_db_step(s) == 1)
        *id = mlc_db_col_int64(s, 0);
    else
        rc = db_error(st, err, "record run");
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_run_end(mlc_store *st, int64_t id, int64_t ended_at, int exit_code, const char *counts,
                          const char *error, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "UPDATE run SET ended_at=?, exit_code=?, counts=?, error=? WHERE id=?", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, ended_at);
    mlc_db_bind_int64(s, 2, exit_code);
    bind_text(s, 3, counts);
    bind_text(s, 4, error);
    mlc_db_bind_int64(s, 5, id);
    long changed = 0;
    rc = run_n(st, s, err, "record run end", &changed);
    if (!rc && changed != 1)
        rc = mlc_error_set(err, MLC_ERR_NOTFOUND, "%s: no run %lld", mlc_db_name(st->db), (long long)id);
    return rc;
}

#define RUN_COLS "id, command, started_at, ended_at, exit_code, counts, error"

static int run_from_row(mlc_db_stmt *s, int col, mlc_store_run *r)
{
    memset(r, 0, sizeof *r);
    if (mlc_db_col_null(s, col))
        return 0;
    r->id = mlc_db_col_int64(s, col);
    r->command = col_dup(s, col + 1);
    r->started_at = mlc_db_col_int64(s, col + 2);
    r->ended_at = mlc_db_col_int64(s, col + 3);
    r->exit_code = (int)mlc_db_col_int64(s, col + 4);
    r->counts = col_dup(s, col + 5);
    r->error = col_dup(s, col + 6);
    return r->command ? 0 : -1;
}

static void run_clear(mlc_store_run *r)
{
    free(r->command);
    free(r->counts);
    free(r->error);
    memset(r, 0, sizeof *r);
}

void mlc_store_run_free(mlc_store_run *r)
{
    if (!r)
        return;
    run_clear(r);
    free(r);
}

mlc_err mlc_store_run_summary_list(mlc_store *st, mlc_store_run_summary **out, size_t *n, mlc_error *err)
{
    mlc_db_stmt *s;
    *out = NULL;
    *n = 0;
    mlc_err rc = prep(st,
                      "WITH c AS (SELECT command, count(*) AS runs, sum(CASE WHEN exit_code<>0 AND ended_at>0 THEN 1 ELSE 0 END) AS failures,"
                      "   max(id) AS last_id, max(CASE WHEN exit_code=0 THEN id END) AS ok_id"
                      "   FROM run GROUP BY command)"
                      " SELECT c.command, c.runs, c.failures,"
                      "   l.id, l.command, l.started_at, l.ended_at, l.exit_code, l.counts, l.error,"
                      "   o.id, o.command, o.started_at, o.ended_at, o.exit_code, o.counts, o.error"
                      " FROM c JOIN run l ON l.id=c.last_id LEFT JOIN run o ON o.id=c.ok_id ORDER BY c.command",
                      &s, err);
    if (rc)
        return rc;
    size_t cap = 0;
    int r;
    while ((r = mlc_db_step(s)) == 1) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            mlc_store_run_summary *g = realloc(*out, nc * sizeof *g);
            if (!g) {
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                break;
            }
            *out = g;
            cap = nc;
        }
        mlc_store_run_summary *e = &(*out)[(*n)++];
        memset(e, 0, sizeof *e);
        e->command = col_dup(s, 0);
        e->runs = (long)mlc_db_col_int64(s, 1);
        e->failures = (long)mlc_db_col_int64(s, 2);
        if (!e->command || run_from_row(s, 3, &e->last) || run_from_row(s, 10, &e->last_ok)) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (!rc && r != 0)
        rc = db_error(st, err, "list runs");
    mlc_db_finalize(s);
    if (rc) {
        mlc_store_run_summary_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void mlc_store_run_summary_free(mlc_store_run_summary *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        free(s[i].command);
        run_clear(&s[i].last);
        run_clear(&s[i].last_ok);
    }
    free(s);
}

mlc_err mlc_store_run_last_error(mlc_store *st, mlc_store_run **out, mlc_error *err)
{
    mlc_db_stmt *s;
    *out = NULL;
    mlc_err rc = prep(st,
                      "SELECT " RUN_COLS " FROM run WHERE ended_at>0 AND error IS NOT NULL AND error<>''"
                      " ORDER BY ended_at DESC, id DESC LIMIT 1",
                      &s, err);
    if (rc)
        return rc;
    int r = mlc_db_step(s);
    if (r == 1) {
        mlc_store_run *x = calloc(1, sizeof *x);
        if (!x || run_from_row(s, 0, x)) {
            mlc_store_run_free(x);
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        } else {
            *out = x;
        }
    } else if (r != 0) {
        rc = db_error(st, err, "read last error");
    }
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_run_prune(mlc_store *st, int64_t before, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st,
                      "DELETE FROM run WHERE ended_at>0 AND started_at<? AND id NOT IN"
                      " (SELECT max(id) FROM run WHERE exit_code=0 GROUP BY command)"
                      " AND id NOT IN (SELECT max(id) FROM run GROUP BY command)",
                      &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, before);
    return run(st, s, err, "prune runs");
}

/* ---- audit ---- */

mlc_err mlc_store_audit(mlc_store *st, int64_t receipt_id, const char *event, const char *detail, mlc_error *err)
{
    mlc_db_stmt *s;
    char now[32];
    mlc_store_now(now);
    mlc_err rc = prep(st, "INSERT INTO audit(receipt_id,at,event,detail) VALUES(?,?,?,?)", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, receipt_id);
    bind_text(s, 2, now);
    bind_text(s, 3, event);
    bind_text(s, 4, detail);
    return run(st, s, err, "write audit");
}

/* Steps a prepared audit query (id, receipt_id, at, event, detail) into an array;
 * finalizes the statement. */
static mlc_err collect_audit(mlc_store *st, mlc_db_stmt *s, mlc_store_audit_entry **out, size_t *n,
                             mlc_error *err)
{
    size_t cap = 0;
    mlc_store_audit_entry *arr = NULL;
    mlc_err rc = MLC_OK;
    int r;
    while ((r = mlc_db_step(s)) == 1) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            mlc_store_audit_entry *na = realloc(arr, nc * sizeof *na);
            if (!na) {
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                break;
            }
            arr = na;
            cap = nc;
        }
        arr[*n].id = mlc_db_col_int64(s, 0);
        arr[*n].receipt_id = mlc_db_col_int64(s, 1);
        arr[*n].at = col_dup(s, 2);
        arr[*n].event = col_dup(s, 3);
        arr[*n].detail = col_dup(s, 4);
        (*n)++;
    }
    if (!rc && r != 0)
        rc = db_error(st, err, "list audit");
    mlc_db_finalize(s);
    if (rc) {
        mlc_store_audit_free(arr, *n);
        arr = NULL;
        *n = 0;
    }
    *out = arr;
    return rc;
}

mlc_err mlc_store_audit_list(mlc_store *st, int64_t receipt_id, mlc_store_audit_entry **out, size_t *n,
                             mlc_error *err)
{
    mlc_db_stmt *s;
    *out = NULL;
    *n = 0;
    mlc_err rc = prep(st, "SELECT id,receipt_id,at,event,detail FROM audit WHERE receipt_id=? ORDER BY id", &s, err);
    if (rc)
        return rc;
    mlc_db_bind_int64(s, 1, receipt_id);
    return collect_audit(st, s, out, n, err);
}

/* The audit of every receipt of a shipment and/or a PO, oldest first (by audit id,
 * which is insertion order). Used by `mlc audit --shipment/--po`. */
mlc_err mlc_store_audit_list_for(mlc_store *st, const char *shipment_id, const char *po,
                                 mlc_store_audit_entry **out, size_t *n, mlc_error *err)
{
    mlc_db_stmt *s;
    char sql[512];
    *out = NULL;
    *n = 0;
    if (!shipment_id && !po)
        return mlc_error_set(err, MLC_ERR_USAGE, "audit: a shipment id or a PO is needed");
    snprintf(sql, sizeof sql,
             "SELECT a.id,a.receipt_id,a.at,a.event,a.detail FROM audit a JOIN receipt r ON r.id=a.receipt_id "
             "WHERE 1=1%s%s ORDER BY a.id",
             shipment_id ? " AND r.shipment_id=?" : "", po ? " AND r.po=?" : "");
    mlc_err rc = prep(st, sql, &s, err);
    if (rc)
        return rc;
    int i = 0;
    if (shipment_id)
        bind_text(s, ++i, shipment_id);
    if (po)
        bind_text(s, ++i, po);
    return collect_audit(st, s, out, n, err);
}

void mlc_store_audit_free(mlc_store_audit_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].at);
        free(e[i].event);
        free(e[i].detail);
    }
    free(e);
}

/* ================================================================ sharing ====
 * Named locks and shared values (store.h, "sharing between processes").
 * SQLite: a lock is an flock on a file beside the database. PostgreSQL: a session
 * advisory lock (two-key form: (hashtext('mlc:lock'), hashtext(name)), apart from
 * the schema lock's one-key form) on the store's connection, taken with
 * pg_try_advisory_lock (polled when waiting, so lock_timeout does not cut the
 * wait short); while one is held the connection is pinned: if it is lost it is
 * not silently re-established (the lock would be gone), every later statement
 * fails instead. A shared value is a row of the shared table read and written in
 * one transaction (SQLite: IMMEDIATE; PostgreSQL: under a transaction advisory
 * lock on the name, which also serialises the first insert). */

int mlc_store_is_shared(mlc_store *st) { return mlc_db_kind_of(st->db) == MLC_DB_PG; }

static int shared_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- named locks ---- */

struct store_lock {
    struct store_lock *next;
    int fd; /* SQLite: the flock'd file; PostgreSQL: -1 */
    char name[65];
};

static struct store_lock **find_lock(mlc_store *st, const char *name)
{
    struct store_lock **p = &st->locks;
    while (*p && strcmp((*p)->name, name) != 0)
        p = &(*p)->next;
    return p;
}

/* PostgreSQL: one try (*got) at the session advisory lock of name. */
static mlc_err pg_try_lock(mlc_store *st, const char *name, int *got, mlc_error *err)
{
    mlc_db_stmt *s;
    mlc_err rc = prep(st, "SELECT pg_try_advisory_lock(hashtext('mlc:lock'), hashtext(?))", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, name);
    if (mlc_db_step(s) == 1) {
        const char *t = mlc_db_col_text(s, 0);
        *got = t && t[0] == 't';
    } else {
        rc = db_error(st, err, "take lock");
    }
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_lock(mlc_store *st, const char *name, int wait, int *got, mlc_error *err)
{
    char path[PATH_MAX + 80];
    *got = 0;
    if (!shared_name_ok(name))
        return mlc_error_set(err, MLC_ERR_USAGE, "store lock: bad name \"%s\"", name ? name : "");
    if (*find_lock(st, name))
        return mlc_error_set(err, MLC_ERR_USAGE, "store lock %s: already held by this process", name);
    struct store_lock *l = calloc(1, sizeof *l);
    if (!l)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    snprintf(l->name, sizeof l->name, "%s", name);
    l->fd = -1;
    if (mlc_db_kind_of(st->db) == MLC_DB_PG) {
        mlc_err rc;
        while ((rc = pg_try_lock(st, name, got, err)) == MLC_OK && !*got && wait) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (rc || !*got) {
            free(l);
            return rc;
        }
        l->next = st->locks;
        st->locks = l;
        mlc_db_pin_session(st->db, 1);
        return MLC_OK;
    }
    snprintf(path, sizeof path, "%s.%s.lock", mlc_db_name(st->db), name);
    l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (l->fd < 0) {
        mlc_err rc = mlc_error_set(err, MLC_ERR_IO, "%s: %s", path, strerror(errno));
        free(l);
        return rc;
    }
    int r;
    while ((r = flock(l->fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
        ;
    if (r != 0) {
        int e = errno;
        close(l->fd);
        free(l);
        if (e == EWOULDBLOCK)
            return MLC_OK;
        return mlc_error_set(err, MLC_ERR_IO, "%s: lock: %s", path, strerror(e));
    }
    l->next = st->locks;
    st->locks = l;
    *got = 1;
    return MLC_OK;
}

void mlc_store_unlock(mlc_store *st, const char *name)
{
    if (!st || !name)
        return;
    struct store_lock **p = find_lock(st, name);
    struct store_lock *l = *p;
    if (!l)
        return;
    *p = l->next;
    if (l->fd >= 0) {
        close(l->fd); /* closing the only descriptor of the open file releases its flock */
    } else {
        mlc_db_stmt *s;
        mlc_error ignored;
        /* a failure leaves it to the end of the session (close, or the lost connection) */
        if (prep(st, "SELECT pg_advisory_unlock(hashtext('mlc:lock'), hashtext(?))", &s, &ignored) == MLC_OK) {
            bind_text(s, 1, name);
            mlc_db_step(s);
            mlc_db_finalize(s);
        }
        if (!st->locks)
            mlc_db_pin_session(st->db, 0);
    }
    free(l);
}

static void release_locks(mlc_store *st)
{
    while (st->locks)
        mlc_store_unlock(st, st->locks->name);
}

/* ---- shared values ---- */

/* Reads a value inside the current transaction (or outside one). */
static mlc_err shared_read(mlc_store *st, const char *name, unsigned char **value, size_t *len, mlc_error *err)
{
    mlc_db_stmt *s;
    *value = NULL;
    *len = 0;
    mlc_err rc = prep(st, "SELECT value FROM shared WHERE name=?", &s, err);
    if (rc)
        return rc;
    bind_text(s, 1, name);
    int r = mlc_db_step(s);
    if (r == 1) {
        size_t n = 0;
        const void *b = mlc_db_col_blob(s, 0, &n);
        /* one byte more, so that an empty value is a non-NULL pointer */
        *value = malloc(n + 1);
        if (!*value) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        } else {
            if (n > 0)
                memcpy(*value, b, n);
            *len = n;
        }
    } else if (r < 0) {
        rc = db_error(st, err, "read shared value");
    }
    mlc_db_finalize(s);
    return rc;
}

mlc_err mlc_store_shared_get(mlc_store *st, const char *name, unsigned char **value, size_t *len, mlc_error *err)
{
    *value = NULL;
    *len = 0;
    if (!shared_name_ok(name))
        return mlc_error_set(err, MLC_ERR_USAGE, "shared value: bad name \"%s\"", name ? name : "");
    return shared_read(st, name, value, len, err);
}

mlc_err mlc_store_shared_update(mlc_store *st, const char *name, mlc_store_shared_fn fn, void *ud, mlc_error *err)
{
    if (!shared_name_ok(name))
        return mlc_error_set(err, MLC_ERR_USAGE, "shared value: bad name \"%s\"", name ? name : "");
    /* inside the caller's transaction it is part of it; else one of its own */
    int own = !mlc_db_in_transaction(st->db);
    mlc_err rc = own ? mlc_store_begin(st, err) : MLC_OK;
    if (rc)
        return rc;
    unsigned char *old = NULL, *nv = NULL;
    size_t old_len = 0, nv_len = 0;
    if (mlc_db_kind_of(st->db) == MLC_DB_PG) {
        mlc_db_stmt *s;
        if ((rc = prep(st, "SELECT pg_advisory_xact_lock(hashtext('mlc:shared'), hashtext(?))", &s, err)) != MLC_OK)
            goto out;
        bind_text(s, 1, name);
        if ((rc = run(st, s, err, "lock shared value")) != MLC_OK)
            goto out;
    }
    if ((rc = shared_read(st, name, &old, &old_len, err)) != MLC_OK)
        goto out;
    int w = fn(ud, old, old_len, &nv, &nv_len);
    if (w < 0) {
        rc = mlc_error_set(err, MLC_ERR_STORE, "shared value %s: update abandoned", name);
        goto out;
    }
    if (w > 0) {
        mlc_db_stmt *s;
        char now[32];
        if (!nv || nv_len > MLC_STORE_SHARED_MAX) {
            rc = mlc_error_set(err, MLC_ERR_STORE, "shared value %s: %s", name,
                               nv ? "larger than MLC_STORE_SHARED_MAX" : "no value to write");
            goto out;
        }
        mlc_store_now(now);
        if ((rc = prep(st, "INSERT INTO shared(name,value,updated_at) VALUES(?,?,?) ON CONFLICT(name) "
                           "DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                       &s, err)) != MLC_OK)
            goto out;
        bind_text(s, 1, name);
        mlc_db_bind_blob(s, 2, nv, nv_len);
        bind_text(s, 3, now);
        rc = run(st, s, err, "write shared value");
    }
out:
    free(old);
    free(nv);
    if (own) {
        if (rc == MLC_OK)
            rc = mlc_store_commit(st, err);
        if (rc != MLC_OK)
            mlc_store_rollback(st);
    }
    return rc;
}

/* ---- copying a store (mlc state migrate) ---- */

/* Every table, its columns with their kinds (i int64, d double, t text, b blob)
 * and its key (for a stable read order). Keep in step with the migrations. */
static const struct copy_table {
    const char *name, *cols, *kinds, *key;
    int serial; /* id is a BIGSERIAL on PostgreSQL: its sequence follows the copy */
} copy_tables[] = {
    {"cursor", "stream,value,updated_at", "ttt", "stream", 0},
    {"seen", "ns,key,hash,updated_at", "tttt", "ns,key", 0},
    {"link", "po,order_key,shipstation_id,api,hash,status,updated_at,order_type,warehouse,supplier,settle_after",
     "tttttttttti", "po", 0},
    {"receipt",
     "id,idem_key,shipment_id,po,line,subline,qty,route,tracking,carrier,ship_date,state,attempts,"
     "next_attempt_at,last_error,has_before,rvqa_before,shipment_json,created_at,updated_at,call_started_at,"
     "settle_after",
     "itttiidtttttiitidtttii", "id", 1},
    {"audit", "id,receipt_id,at,event,detail", "iittt", "id", 1},
    {"rejected", "id,at,command,source,lineno,reason,line", "itttitb", "id", 1},
    {"inbox", "id,received_at,resource_type,resource_url,body,processed_at,attempts,next_attempt_at,last_error,"
              "failed_at",
     "itttttiitt", "id", 1},
    {"run", "id,command,started_at,ended_at,exit_code,counts,error", "itiiitt", "id", 1},
    {"bod_message", "receipt_id,message_id,document_id,sent_at,sends,in_doubt", "ittiii", "receipt_id", 0},
    {"shared", "name,value,updated_at", "tbt", "name", 0},
    {"outbox", "ns,key,record,emitted_at,sent_at,sends", "tttiii", "ns,key", 0},
};
#define NCOPY ((int)(sizeof copy_tables / sizeof copy_tables[0]))

/* Feeds one value, as read through lib/db (the same on both engines), to a row
 * digest: a tag, the length, the bytes. Doubles as %.17g (exact). */
static void digest_value(EVP_MD_CTX *md, mlc_db_stmt *s, int i, char kind)
{
    char buf[48];
    const void *p = NULL;
    size_t len = 0;
    char tag = kind;
    if (mlc_db_col_null(s, i)) {
        tag = 'N';
    } else if (kind == 'i') {
        len = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)mlc_db_col_int64(s, i));
        p = buf;
    } else if (kind == 'd') {
        len = (size_t)snprintf(buf, sizeof buf, "%.17g", mlc_db_col_double(s, i));
        p = buf;
    } else if (kind == 'b') {
        p = mlc_db_col_blob(s, i, &len);
    } else {
        p = mlc_db_col_text(s, i);
        len = p ? strlen(p) : 0;
    }
    uint64_t l = (uint64_t)len;
    EVP_DigestUpdate(md, &tag, 1);
    EVP_DigestUpdate(md, &l, sizeof l);
    if (len)
        EVP_DigestUpdate(md, p, len);
}

/* Rows and content hash of one table: each row's SHA-256 added up lane by lane
 * (4 x 64 bits), so the order rows come in (collations differ) does not matter
 * and no two rows cancel out. */
static mlc_err table_digest(mlc_store *st, const struct copy_table *t, long *rows, char hex[65], mlc_error *err)
{
    char sql[600];
    mlc_db_stmt *s;
    uint64_t acc[4] = {0, 0, 0, 0};
    snprintf(sql, sizeof sql, "SELECT %s FROM %s", t->cols, t->name);
    mlc_err rc = prep(st, sql, &s, err);
    if (rc)
        return rc;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) {
        mlc_db_finalize(s);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    int ncols = (int)strlen(t->kinds), r;
    *rows = 0;
    while ((r = mlc_db_step(s)) == 1) {
        unsigned char d[32];
        unsigned dn = 0;
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        for (int i = 0; i < ncols; i++)
            digest_value(md, s, i, t->kinds[i]);
        EVP_DigestFinal_ex(md, d, &dn);
        for (int k = 0; k < 4; k++) {
            uint64_t lane;
            memcpy(&lane, d + 8 * k, 8);
            acc[k] += lane;
        }
        (*rows)++;
    }
    if (r < 0)
        rc = db_error(st, err, t->name);
    EVP_MD_CTX_free(md);
    mlc_db_finalize(s);
    for (int k = 0; k < 4; k++)
        snprintf(hex + 16 * k, 17, "%016llx", (unsigned long long)acc[k]);
    return rc;
}

/* Rows per INSERT of the copy: one statement (one round trip on PostgreSQL) per
 * batch instead of per row. 500 rows of the widest table (22 columns) are 11000
 * parameters, below both engines' limits (SQLite 32766, PostgreSQL 65535). */
enum { COPY_BATCH = 500 };

/* "INSERT INTO t(cols) VALUES(?,..),(?,..)..." for `rows` rows (malloc'd). */
static char *copy_insert_sql(const struct copy_table *t, int ncols, int rows)
{
    size_t cap = strlen(t->name) + strlen(t->cols) + 32 + (size_t)rows * (2 * (size_t)ncols + 3);
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    char *o = sql + snprintf(sql, cap, "INSERT INTO %s(%s) VALUES", t->name, t->cols);
    for (int r = 0; r < rows; r++) {
        *o++ = r ? ',' : ' ';
        *o++ = '(';
        for (int i = 0; i < ncols; i++) {
            if (i)
                *o++ = ',';
            *o++ = '?';
        }
        *o++ = ')';
    }
    *o = '\0';
    return sql;
}

/* Copies one table in batches of COPY_BATCH rows (values as read, ids kept);
 * `rows` is its row count (`from` holds still: read in the same transaction). */
static mlc_err copy_rows(mlc_store *from, mlc_store *to, const struct copy_table *t, long rows, mlc_error *err)
{
    char sql[1200];
    int ncols = (int)strlen(t->kinds);
    mlc_db_stmt *rd, *wr = NULL;
    snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", t->cols, t->name, t->key);
    mlc_err rc = prep(from, sql, &rd, err);
    if (rc)
        return rc;
    int full = rows >= COPY_BATCH ? COPY_BATCH : (int)rows, last = (int)(rows % COPY_BATCH);
    char *full_sql = full ? copy_insert_sql(t, ncols, full) : NULL;
    char *last_sql = last && last != full ? copy_insert_sql(t, ncols, last) : NULL;
    if ((full && !full_sql) || (last && last != full && !last_sql))
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    long left = rows;
    int in_batch = 0, r = 0;
    while (!rc && (r = mlc_db_step(rd)) == 1) {
        if (left <= 0) {
            rc = mlc_error_set(err, MLC_ERR_STORE, "store copy: table %s grew while it was copied", t->name);
            break;
        }
        if (!wr && (rc = prep(to, left >= full ? full_sql : last_sql, &wr, err)) != MLC_OK)
            break;
        for (int i = 0, p = in_batch * ncols + 1; i < ncols; i++, p++) {
            size_t len;
            const void *b;
            if (mlc_db_col_null(rd, i))
                mlc_db_bind_null(wr, p);
            else if (t->kinds[i] == 'i')
                mlc_db_bind_int64(wr, p, mlc_db_col_int64(rd, i));
            else if (t->kinds[i] == 'd')
                mlc_db_bind_double(wr, p, mlc_db_col_double(rd, i));
            else if (t->kinds[i] == 'b' && (b = mlc_db_col_blob(rd, i, &len)) != NULL)
                mlc_db_bind_blob(wr, p, b, len);
            else if (t->kinds[i] == 'b')
                mlc_db_bind_blob(wr, p, "", 0);
            else
                mlc_db_bind_text(wr, p, mlc_db_col_text(rd, i));
        }
        /* a batch is full at COPY_BATCH rows, the last one at what is left */
        if (++in_batch == (left >= full ? full : last)) {
            left -= in_batch;
            in_batch = 0;
            rc = run(to, wr, err, t->name);
            wr = NULL;
        }
    }
    if (!rc && r < 0)
        rc = db_error(from, err, t->name);
    if (!rc && (left || in_batch))
        rc = mlc_error_set(err, MLC_ERR_STORE, "store copy: table %s shrank while it was copied", t->name);
    if (wr)
        mlc_db_finalize(wr);
    free(full_sql);
    free(last_sql);
    mlc_db_finalize(rd);
    if (rc || !t->serial || mlc_db_kind_of(to->db) != MLC_DB_PG)
        return rc;
    /* the next id PostgreSQL hands out follows the copied ones */
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', 'id'), coalesce(max(id), 0) + 1, false) FROM %s", t->name,
             t->name);
    return exec(to, sql, err);
}

static mlc_err verify_all(mlc_store *from, mlc_store *to, mlc_store_table_check *c, int *same, mlc_error *err)
{
    *same = 1;
    for (int i = 0; i < NCOPY; i++) {
        size_t ncols = 1;
        for (const char *p = copy_tables[i].cols; *p; p++)
            ncols += *p == ',';
        if (ncols != strlen(copy_tables[i].kinds))
            return mlc_error_set(err, MLC_ERR_STORE, "store copy: table %s: %zu columns, %zu kinds (a bug)",
                                 copy_tables[i].name, ncols, strlen(copy_tables[i].kinds));
    }
    for (int i = 0; i < NCOPY; i++) {
        c[i].table = copy_tables[i].name;
        mlc_err rc = table_digest(from, &copy_tables[i], &c[i].rows_from, c[i].hash_from, err);
        if (!rc)
            rc = table_digest(to, &copy_tables[i], &c[i].rows_to, c[i].hash_to, err);
        if (rc)
            return rc;
        c[i].same = c[i].rows_from == c[i].rows_to && !strcmp(c[i].hash_from, c[i].hash_to);
        *same &= c[i].same;
    }
    return MLC_OK;
}

mlc_err mlc_store_copy(mlc_store *from, mlc_store *to, int flags, mlc_store_table_check **checks, size_t *n,
                       mlc_store_copy_outcome *outcome, mlc_error *err)
{
    mlc_store_table_check *c = calloc(NCOPY, sizeof *c);
    int same;
    *outcome = MLC_STORE_COPY_REFUSED;
    *checks = NULL;
    *n = 0;
    if (!c)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    /* the source holds still while it is read (SQLite: its write lock) */
    mlc_err rc = mlc_db_begin(from->db, err);
    if (rc) {
        free(c);
        return rc;
    }
    if ((rc = verify_all(from, to, c, &same, err)) != MLC_OK)
        goto out;
    long target_rows = 0;
    for (int i = 0; i < NCOPY; i++)
        target_rows += c[i].rows_to;
    if (same && target_rows > 0) {
        *outcome = MLC_STORE_COPY_ALREADY;
        goto out;
    }
    if (target_rows > 0 && !(flags & MLC_STORE_COPY_FORCE)) {
        *outcome = MLC_STORE_COPY_REFUSED;
        rc = mlc_error_set(err, MLC_ERR_CONFIG,
                           "%s already holds %ld rows of this profile's state, not the same as %s: refused "
                           "(--force replaces them)",
                           mlc_db_name(to->db), target_rows, mlc_db_name(from->db));
        goto out;
    }
    if ((rc = mlc_db_begin(to->db, err)) != MLC_OK)
        goto out;
    for (int i = NCOPY - 1; i >= 0 && !rc && target_rows > 0; i--) {
        char sql[80];
        snprintf(sql, sizeof sql, "DELETE FROM %s", copy_tables[i].name);
        rc = exec(to, sql, err);
    }
    for (int i = 0; i < NCOPY && !rc; i++)
        rc = copy_rows(from, to, &copy_tables[i], c[i].rows_from, err);
    if (!rc)
        rc = mlc_db_commit(to->db, err);
    if (rc) {
        mlc_db_rollback(to->db);
        goto out;
    }
    if ((rc = verify_all(from, to, c, &same, err)) != MLC_OK)
        goto out;
    *outcome = same ? MLC_STORE_COPY_DONE : MLC_STORE_COPY_DIFFERS;
    if (!same)
        rc = mlc_error_set(err, MLC_ERR_STORE, "%s: the copy differs from %s (see the table check)",
                           mlc_db_name(to->db), mlc_db_name(from->db));
out:
    mlc_db_rollback(from->db);
    *checks = c;
    *n = NCOPY;
    return rc;
}
