/*
 * db_pg.c: the PostgreSQL engine of lib/db.h, on libpq. One connection per
 * handle; every statement is one PQexecParams round trip (an unnamed prepared
 * statement) with its parameter types given (int8, float8, text, bytea) and
 * results in text form. `?`/`?N` placeholders become $N outside quoted text.
 *
 * A serialization failure or a deadlock outside an explicit transaction is tried
 * again (up to 3 times, a few ms apart; PostgreSQL rolled the statement back, so
 * it ran not at all); inside one it is MLC_ERR_BUSY for the caller, as is a lock
 * wait beyond lock_timeout (the store's busy time). A lost connection is reported
 * naming the server and re-established (PQreset) before the next statement; the
 * statement that was cut off is never re-sent blindly (its outcome is unknown).
 * Server notices are dropped (a library does not print).
 * libpq is not linked: it is loaded (lib/dynlib) when the first PostgreSQL URL is
 * checked or opened, so SQLite runs do not map it; MLC_ERR_CONFIG naming
 * libpq.so.5 when it cannot be.
 * Not here: tables and queries (lib/store), URL and password policy (lib/store),
 * SQLite (lib/db_sqlite.c, which also dispatches here).
 */
#include "db.h"
#include "db_impl.h"
#include "dynlib.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef MLC_LIBPQ_SONAME
#define MLC_LIBPQ_SONAME "libpq.so.5"
#endif

typedef struct pg_db {
    mlc_db base;
    PGconn *conn;
    int busy_ms;
    int pinned; /* holds session state: never re-established behind the caller's back */
} pg_db;

typedef struct pg_param {
    mlc_db_type type;
    char *value; /* text form, or the bytes of a bytea (binary format) */
    int len;
} pg_param;

typedef struct pg_stmt {
    mlc_db_stmt base;
    char *sql; /* translated to $N */
    int nparams;
    pg_param *params;
    PGresult *res;
    int row, nrows; /* row: the current one (-1 before the first) */
    long changes;
    unsigned char **blobs; /* unescaped bytea of the current row, per column */
    size_t *blob_lens;
    int nblobs;
} pg_stmt;

/* The OIDs of the built-in types (pg_type.dat; stable since PostgreSQL 7). */
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701
#define OID_BYTEA 17

#define BUSY_HINT " (another mlc process holds the lock)"

/* libpq is loaded when a PostgreSQL state is first named (lib/dynlib): a run on
 * SQLite does not map it. Called through this table, typed by libpq-fe.h. */
static struct {
    __typeof__(PQclear) *PQclear;
    __typeof__(PQcmdTuples) *PQcmdTuples;
    __typeof__(PQconnectdbParams) *PQconnectdbParams;
    __typeof__(PQconninfoFree) *PQconninfoFree;
    __typeof__(PQconninfoParse) *PQconninfoParse;
    __typeof__(PQdb) *PQdb;
    __typeof__(PQerrorMessage) *PQerrorMessage;
    __typeof__(PQexec) *PQexec;
    __typeof__(PQexecParams) *PQexecParams;
    __typeof__(PQfinish) *PQfinish;
    __typeof__(PQfreemem) *PQfreemem;
    __typeof__(PQgetisnull) *PQgetisnull;
    __typeof__(PQgetvalue) *PQgetvalue;
    __typeof__(PQhost) *PQhost;
    __typeof__(PQnfields) *PQnfields;
    __typeof__(PQntuples) *PQntuples;
    __typeof__(PQparameterStatus) *PQparameterStatus;
    __typeof__(PQport) *PQport;
    __typeof__(PQreset) *PQreset;
    __typeof__(PQresultErrorField) *PQresultErrorField;
    __typeof__(PQresultErrorMessage) *PQresultErrorMessage;
    __typeof__(PQresultStatus) *PQresultStatus;
    __typeof__(PQsetNoticeProcessor) *PQsetNoticeProcessor;
    __typeof__(PQstatus) *PQstatus;
    __typeof__(PQtransactionStatus) *PQtransactionStatus;
    __typeof__(PQunescapeBytea) *PQunescapeBytea;
    __typeof__(PQuser) *PQuser;
} pq;
static int pq_loaded;

static mlc_err pq_load(mlc_error *err)
{
    static const mlc_dynlib_sym syms[] = {
        {"PQclear", &pq.PQclear},
        {"PQcmdTuples", &pq.PQcmdTuples},
        {"PQconnectdbParams", &pq.PQconnectdbParams},
        {"PQconninfoFree", &pq.PQconninfoFree},
        {"PQconninfoParse", &pq.PQconninfoParse},
        {"PQdb", &pq.PQdb},
        {"PQerrorMessage", &pq.PQerrorMessage},
        {"PQexec", &pq.PQexec},
        {"PQexecParams", &pq.PQexecParams},
        {"PQfinish", &pq.PQfinish},
        {"PQfreemem", &pq.PQfreemem},
        {"PQgetisnull", &pq.PQgetisnull},
        {"PQgetvalue", &pq.PQgetvalue},
        {"PQhost", &pq.PQhost},
        {"PQnfields", &pq.PQnfields},
        {"PQntuples", &pq.PQntuples},
        {"PQparameterStatus", &pq.PQparameterStatus},
        {"PQport", &pq.PQport},
        {"PQreset", &pq.PQreset},
        {"PQresultErrorField", &pq.PQresultErrorField},
        {"PQresultErrorMessage", &pq.PQresultErrorMessage},
        {"PQresultStatus", &pq.PQresultStatus},
        {"PQsetNoticeProcessor", &pq.PQsetNoticeProcessor},
        {"PQstatus", &pq.PQstatus},
        {"PQtransactionStatus", &pq.PQtransactionStatus},
        {"PQunescapeBytea", &pq.PQunescapeBytea},
        {"PQuser", &pq.PQuser},
    };
    return mlc_dynlib_load(MLC_LIBPQ_SONAME, "a PostgreSQL state", "libpq5", syms, sizeof syms / sizeof syms[0],
                           &pq_loaded, err);
}

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The server's first message line, without the trailing newline. */
static void first_line(const char *msg, char *out, size_t cap)
{
    snprintf(out, cap, "%s", msg && *msg ? msg : "unknown error");
    out[strcspn(out, "\n")] = '\0';
}

static void set_name(pg_db *d)
{
    const char *host = pq.PQhost(d->conn), *port = pq.PQport(d->conn), *user = pq.PQuser(d->conn), *db = pq.PQdb(d->conn);
    snprintf(d->base.name, sizeof d->base.name, "postgresql://%s%s%s:%s/%s", user ? user : "", user && *user ? "@" : "",
             host && *host ? host : "localhost", port && *port ? port : "5432", db ? db : "");
}

static mlc_err session_setup(pg_db *d, mlc_error *err)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SET lock_timeout = %d; SET client_min_messages = warning; SET TIME ZONE 'UTC'",
             d->busy_ms);
    return mlc_db_pg_exec(&d->base, sql, err);
}

/* Loopback: a Unix socket directory (/...) or abstract socket (@...), localhost,
 * 127.0.0.0/8, ::1; "" is libpq's default (PGHOST, else the Unix socket). */
static int host_is_loopback(const char *h, size_t n)
{
    char buf[256];
    if (n == 0) {
        const char *env = getenv("PGHOST");
        return !env || !*env || env[0] == '/' || env[0] == '@' || !strcmp(env, "localhost");
    }
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, h, n);
    buf[n] = '\0';
    return buf[0] == '/' || buf[0] == '@' || !strcmp(buf, "localhost") || !strncmp(buf, "127.", 4) ||
           !strcmp(buf, "::1") || !strcmp(buf, "[::1]");
}

/* 1 if every host (and hostaddr) of a comma-separated list is loopback. */
static int all_loopback(const char *list)
{
    if (!list)
        return host_is_loopback("", 0);
    for (const char *p = list;;) {
        size_t n = strcspn(p, ",");
        if (!host_is_loopback(p, n))
            return 0;
        if (!p[n])
            return 1;
        p += n + 1;
    }
}

/* The checks of mlc_db_pg_url_check; *need_tls set when the URL leaves loopback
 * without naming an sslmode (the caller then asks for verify-full). */
/* 1 if the URL's authority has user:password@ (looked at before parsing, so that
 * a parse error's message can never carry a password). */
static int authority_has_password(const char *url)
{
    const char *a = strstr(url, "://");
    if (!a)
        return 0;
    a += 3;
    size_t n = strcspn(a, "/?#");
    const char *at = memchr(a, '@', n);
    for (const char *p = at ? a : NULL; p && p < at; p++)
        if (*p == ':')
            return 1;
    return 0;
}

static mlc_err url_check(const char *url, int *need_tls, mlc_error *err)
{
    char *perr = NULL;
    *need_tls = 0;
    mlc_err lrc = pq_load(err);
    if (lrc)
        return lrc;
    if (authority_has_password(url) || strstr(url, "password="))
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "the state URL holds a password: refused (a config file or a command line is no place "
                             "for it; use state_password_file or `mlc state set-password`)");
    PQconninfoOption *opts = pq.PQconninfoParse(url, &perr);
    if (!opts) {
        char line[300];
        first_line(perr ? perr : "out of memory", line, sizeof line);
        pq.PQfreemem(perr);
        return mlc_error_set(err, MLC_ERR_CONFIG, "state URL: %s", line);
    }
    const char *host = NULL, *hostaddr = NULL, *sslmode = NULL;
    int has_password = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (!strcmp(o->keyword, "password") && *o->val)
            has_password = 1;
        else if (!strcmp(o->keyword, "host"))
            host = o->val;
        else if (!strcmp(o->keyword, "hostaddr"))
            hostaddr = o->val;
        else if (!strcmp(o->keyword, "sslmode"))
            sslmode = o->val;
    }
    mlc_err rc = MLC_OK;
    int loopback = all_loopback(host) && (!hostaddr || all_loopback(hostaddr));
    if (has_password)
        rc = mlc_error_set(err, MLC_ERR_CONFIG,
                           "the state URL holds a password: refused (a config file or a command line is no place "
                           "for it; use state_password_file or `mlc state set-password`)");
    else if (!loopback && sslmode && strcmp(sslmode, "verify-full") != 0)
        rc = mlc_error_set(err, MLC_ERR_CONFIG,
                           "the state URL names a host off loopback with sslmode=%s: refused (only verify-full, "
                           "which checks the server's certificate and name)",
                           sslmode);
    else if (!loopback && !sslmode)
        *need_tls = 1;
    pq.PQconninfoFree(opts);
    return rc;
}

mlc_err mlc_db_pg_url_check(const char *url, mlc_error *err)
{
    int need_tls;
    return url_check(url, &need_tls, err);
}

mlc_err mlc_db_open_pg(const char *url, const char *password, int busy_ms, mlc_db **out, mlc_error *err)
{
    int need_tls = 0;
    *out = NULL;
    mlc_err crc = url_check(url, &need_tls, err);
    if (crc)
        return crc;
    pg_db *d = calloc(1, sizeof *d);
    if (!d)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    d->base.kind = MLC_DB_PG;
    d->busy_ms = busy_ms > 0 ? busy_ms : 10000;
    /* later keywords override what the URL (expanded from dbname) says */
    const char *keys[6] = {"dbname", "connect_timeout", "application_name", NULL, NULL, NULL};
    const char *vals[6] = {url, "10", "mlc", NULL, NULL, NULL};
    int k = 3;
    if (password) {
        keys[k] = "password";
        vals[k++] = password;
    }
    if (need_tls) {
        keys[k] = "sslmode";
        vals[k] = "verify-full";
    }
    d->conn = pq.PQconnectdbParams(keys, vals, 1);
    if (!d->conn) {
        free(d);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    pq.PQsetNoticeProcessor(d->conn, no_notices, NULL);
    set_name(d);
    if (pq.PQstatus(d->conn) != CONNECTION_OK) {
        char line[400];
        first_line(pq.PQerrorMessage(d->conn), line, sizeof line);
        mlc_error_set(err, MLC_ERR_STORE, "%s: cannot connect: %s", d->base.name, line);
        mlc_db_pg_close(&d->base);
        return MLC_ERR_STORE;
    }
    mlc_err rc = session_setup(d, err);
    if (rc) {
        mlc_db_pg_close(&d->base);
        return rc;
    }
    *out = &d->base;
    return MLC_OK;
}

void mlc_db_pg_close(mlc_db *db)
{
    pg_db *d = (pg_db *)db;
    pq.PQfinish(d->conn);
    free(d);
}

int mlc_db_pg_in_transaction(mlc_db *db) { return pq.PQtransactionStatus(((pg_db *)db)->conn) != PQTRANS_IDLE; }
void mlc_db_pg_pin(mlc_db *db, int on) { ((pg_db *)db)->pinned = on; }

/* Reconnects a connection that was lost, before a new statement. */
static mlc_err ensure_connected(pg_db *d, mlc_error *err)
{
    if (pq.PQstatus(d->conn) == CONNECTION_OK)
        return MLC_OK;
    if (d->pinned)
        return mlc_error_set(err, MLC_ERR_STORE, "%s: connection lost while holding a lock: not re-established",
                             d->base.name);
    pq.PQreset(d->conn);
    if (pq.PQstatus(d->conn) != CONNECTION_OK) {
        char line[400];
        first_line(pq.PQerrorMessage(d->conn), line, sizeof line);
        return mlc_error_set(err, MLC_ERR_STORE, "%s: connection lost and not re-established: %s", d->base.name, line);
    }
    PGresult *r = pq.PQexec(d->conn, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
    pq.PQclear(r);
    char sql[64];
    snprintf(sql, sizeof sql, "SET lock_timeout = %d", d->busy_ms);
    pq.PQclear(pq.PQexec(d->conn, sql));
    return MLC_OK;
}

static int is_busy_state(const char *sqlstate)
{
    return sqlstate && (!strcmp(sqlstate, "40001") || !strcmp(sqlstate, "40P01") || !strcmp(sqlstate, "55P03") ||
                        !strcmp(sqlstate, "57014"));
}

static int is_retryable(const char *sqlstate)
{
    return sqlstate && (!strcmp(sqlstate, "40001") || !strcmp(sqlstate, "40P01"));
}

/* Records a failed result as the handle's last error (res may be NULL: out of
 * memory or a lost connection). */
static mlc_err set_last(pg_db *d, PGresult *res)
{
    char line[360];
    if (pq.PQstatus(d->conn) != CONNECTION_OK) {
        first_line(pq.PQerrorMessage(d->conn), line, sizeof line);
        d->base.last_code = MLC_ERR_STORE;
        snprintf(d->base.last_msg, sizeof d->base.last_msg, "connection lost: %s", line);
        return MLC_ERR_STORE;
    }
    const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    first_line(res ? pq.PQresultErrorMessage(res) : pq.PQerrorMessage(d->conn), line, sizeof line);
    d->base.last_code = is_busy_state(state) ? MLC_ERR_BUSY : MLC_ERR_STORE;
    snprintf(d->base.last_msg, sizeof d->base.last_msg, "%s%s", line,
             d->base.last_code == MLC_ERR_BUSY ? BUSY_HINT : "");
    return d->base.last_code;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

mlc_err mlc_db_pg_exec(mlc_db *db, const char *sql, mlc_error *err)
{
    pg_db *d = (pg_db *)db;
    mlc_err rc = ensure_connected(d, err);
    if (rc)
        return rc;
    PGresult *res = pq.PQexec(d->conn, sql);
    ExecStatusType st = res ? pq.PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = mlc_error_set(err, set_last(d, res), "%s: %s", d->base.name, d->base.last_msg);
    pq.PQclear(res);
    return rc;
}

/* Translates ? and ?N placeholders to $N (outside '...' and "..."); *nparams is
 * the highest number used. */
static char *translate(const char *sql, int *nparams)
{
    /* each ? becomes at most "$" and 10 digits */
    size_t cap = strlen(sql) + 1;
    for (const char *q = strchr(sql, '?'); q; q = strchr(q + 1, '?'))
        cap += 10;
    char *out = malloc(cap), *o = out;
    int seq = 0, max = 0;
    char quote = 0;
    if (!out)
        return NULL;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            *o++ = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            *o++ = *p;
        } else if (*p == '?') {
            int n;
            if (p[1] >= '0' && p[1] <= '9') {
                n = (int)strtol(p + 1, (char **)&p, 10);
                p--;
            } else {
                n = ++seq;
            }
            if (n > max)
                max = n;
            o += snprintf(o, cap - (size_t)(o - out), "$%d", n);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *nparams = max;
    return out;
}

mlc_err mlc_db_pg_prepare(mlc_db *db, const char *sql, mlc_db_stmt **out, mlc_error *err)
{
    pg_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    s->base.db = db;
    s->row = -1;
    s->sql = translate(sql, &s->nparams);
    if (!s->sql || (s->nparams && !(s->params = calloc((size_t)s->nparams, sizeof *s->params)))) {
        mlc_db_pg_finalize(&s->base);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    *out = &s->base;
    return MLC_OK;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid (RFC 3629:
 * no overlongs, no surrogates, nothing above U+10FFFF). */
static int utf8_seq(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (size_t)n > left || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4))
        return 0;
    for (int k = 1; k < n; k++)
        if ((p[k] & 0xC0) != 0x80)
            return 0;
    if ((n == 3 && c == 0xE0 && p[1] < 0xA0) || (n == 3 && c == 0xED && p[1] >= 0xA0) ||
        (n == 4 && c == 0xF0 && p[1] < 0x90) || (n == 4 && c == 0xF4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* Text for a UTF-8 database: each byte that is not part of valid UTF-8 becomes
 * U+FFFD (PostgreSQL refuses the whole statement otherwise; SQLite keeps bytes as
 * they are). Raw input is stored as bytea and never goes through here. */
static char *utf8_text(const char *v, size_t len, size_t *out_len)
{
    char *out = malloc(len * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        int n = utf8_seq((const unsigned char *)v + i, len - i);
        if (n) {
            memcpy(o, v + i, (size_t)n);
            o += n;
            i += (size_t)n;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    *out_len = (size_t)(o - out);
    return out;
}

void mlc_db_pg_bind(mlc_db_stmt *st, int i, mlc_db_type t, const void *v, size_t len)
{
    pg_stmt *s = (pg_stmt *)st;
    if (i < 1 || i > s->nparams)
        return;
    pg_param *p = &s->params[i - 1];
    char buf[40];
    free(p->value);
    p->value = NULL;
    p->type = t;
    p->len = 0;
    switch (t) {
    case MLC_DB_T_INT8:
        snprintf(buf, sizeof buf, "%lld", (long long)*(const int64_t *)v);
        p->value = strdup(buf);
        break;
    case MLC_DB_T_FLOAT8:
        snprintf(buf, sizeof buf, "%.17g", *(const double *)v);
        p->value = strdup(buf);
        break;
    case MLC_DB_T_TEXT:
    case MLC_DB_T_BYTEA: {
        size_t n = len;
        const char *enc = pq.PQparameterStatus(((pg_db *)st->db)->conn, "client_encoding");
        if (t == MLC_DB_T_TEXT && enc && !strcmp(enc, "UTF8")) {
            p->value = utf8_text(v, len, &n);
        } else if ((p->value = malloc(len + 1)) != NULL) {
            memcpy(p->value, v, len);
            p->value[len] = '\0';
        }
        if (p->value)
            p->len = (int)n;
        break;
    }
    case MLC_DB_T_NULL:
        break;
    }
    if (t != MLC_DB_T_NULL && !p->value)
        p->type = MLC_DB_T_NULL; /* out of memory: the statement then fails on a NOT NULL or stores NULL */
}

static void clear_blobs(pg_stmt *s)
{
    for (int i = 0; s->blobs && i < s->nblobs; i++)
        pq.PQfreemem(s->blobs[i]);
    free(s->blobs);
    free(s->blob_lens);
    s->blobs = NULL;
    s->blob_lens = NULL;
    s->nblobs = 0;
}

static PGresult *execute(pg_db *d, pg_stmt *s)
{
    /* on the stack up to MAXP parameters; more (the batched INSERTs of a store
     * copy) on the heap */
    enum { MAXP = 64 };
    Oid types_a[MAXP];
    const char *values_a[MAXP];
    int lens_a[MAXP], formats_a[MAXP];
    Oid *types = types_a;
    const char **values = values_a;
    int *lens = lens_a, *formats = formats_a;
    if (s->nparams > MAXP) {
        types = malloc((size_t)s->nparams * sizeof *types);
        values = malloc((size_t)s->nparams * sizeof *values);
        lens = malloc((size_t)s->nparams * sizeof *lens);
        formats = malloc((size_t)s->nparams * sizeof *formats);
        if (!types || !values || !lens || !formats) {
            free(types);
            free(values);
            free(lens);
            free(formats);
            return NULL;
        }
    }
    for (int i = 0; i < s->nparams; i++) {
        const pg_param *p = &s->params[i];
        types[i] = p->type == MLC_DB_T_INT8     ? OID_INT8
                   : p->type == MLC_DB_T_FLOAT8 ? OID_FLOAT8
                   : p->type == MLC_DB_T_TEXT   ? OID_TEXT
                   : p->type == MLC_DB_T_BYTEA  ? OID_BYTEA
                                                : 0;
        values[i] = p->value;
        lens[i] = p->len;
        formats[i] = p->type == MLC_DB_T_BYTEA ? 1 : 0;
    }
    PGresult *res = pq.PQexecParams(d->conn, s->sql, s->nparams, types, values, lens, formats, 0);
    if (types != types_a) {
        free(types);
        free(values);
        free(lens);
        free(formats);
    }
    return res;
}

int mlc_db_pg_step(mlc_db_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    pg_db *d = (pg_db *)st->db;
    clear_blobs(s);
    if (s->res) {
        s->row++;
        return s->row < s->nrows;
    }
    mlc_error e;
    if (ensure_connected(d, &e)) {
        d->base.last_code = e.code;
        snprintf(d->base.last_msg, sizeof d->base.last_msg, "%s", e.msg);
        return -1;
    }
    for (int attempt = 0;; attempt++) {
        int idle = pq.PQtransactionStatus(d->conn) == PQTRANS_IDLE;
        PGresult *res = execute(d, s);
        ExecStatusType rs = res ? pq.PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) {
            s->res = res;
            s->changes = atol(pq.PQcmdTuples(res));
            s->nrows = rs == PGRES_TUPLES_OK ? pq.PQntuples(res) : 0;
            s->row = 0;
            return s->row < s->nrows;
        }
        const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (idle && attempt < 3 && is_retryable(state) && pq.PQstatus(d->conn) == CONNECTION_OK) {
            pq.PQclear(res);
            pause_ms(5 + attempt * 20);
            continue;
        }
        set_last(d, res);
        pq.PQclear(res);
        return -1;
    }
}

long mlc_db_pg_changes(const mlc_db_stmt *st) { return ((const pg_stmt *)st)->changes; }

const char *mlc_db_pg_col_text(mlc_db_stmt *st, int i)
{
    pg_stmt *s = (pg_stmt *)st;
    if (!s->res || s->row < 0 || s->row >= s->nrows || i < 0 || i >= pq.PQnfields(s->res) ||
        pq.PQgetisnull(s->res, s->row, i))
        return NULL;
    return pq.PQgetvalue(s->res, s->row, i);
}

const void *mlc_db_pg_col_blob(mlc_db_stmt *st, int i, size_t *len)
{
    pg_stmt *s = (pg_stmt *)st;
    const char *t = mlc_db_pg_col_text(st, i);
    *len = 0;
    if (!t)
        return NULL;
    if (!s->blobs) {
        s->nblobs = pq.PQnfields(s->res);
        s->blobs = calloc((size_t)s->nblobs, sizeof *s->blobs);
        s->blob_lens = calloc((size_t)s->nblobs, sizeof *s->blob_lens);
        if (!s->blobs || !s->blob_lens) {
            clear_blobs(s);
            return NULL;
        }
    }
    if (!s->blobs[i])
        s->blobs[i] = pq.PQunescapeBytea((const unsigned char *)t, &s->blob_lens[i]);
    *len = s->blobs[i] ? s->blob_lens[i] : 0;
    return s->blobs[i];
}

void mlc_db_pg_finalize(mlc_db_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    clear_blobs(s);
    pq.PQclear(s->res);
    for (int i = 0; i < s->nparams && s->params; i++)
        free(s->params[i].value);
    free(s->params);
    free(s->sql);
    free(s);
}
