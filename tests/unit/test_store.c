/* test_store.c: lib/store: migrations (a version-2 database gains the run table),
 * cursors (listed), links, the receipt ledger (oldest per state), audit, run
 * records (last success, last run, last error, pruning),
 * (per receipt, per shipment and per PO),
 * two writer processes at once, two processes claiming the same receipts, a
 * locked database, and the sharing between processes: named locks (exclusion,
 * release by unlock/close/death) and a shared counter incremented by four
 * processes at once; the outbox of records awaiting the ledger, and
 * mlc_receipt_taken_in, the ledger's acknowledgement of a shipment record.
 * Every case runs on SQLite (tcase "sqlite") and, when tests/run.sh started a
 * PostgreSQL cluster (tests/pg.sh; MLC_TEST_PG_HOST = its socket directory), on
 * PostgreSQL too (tcase "postgresql": a fresh database per case). Without it the
 * PostgreSQL cases are not run and tests/run.sh reports them as skipped. The
 * "url" tcase checks the URL rules (no server needed). */
#include "map.h"
#include "push.h"
#include "receipt.h"
#include "store.h"
#include "testutil.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int g_pg; /* the backend of the running tcase (set by its fixture, inherited by the fork) */

static void use_sqlite(void) { g_pg = 0; }
static void use_pg(void) { g_pg = 1; }

/* A fresh, empty PostgreSQL database on the harness cluster; its URL into url. */
static void pg_fresh(char *url, size_t cap)
{
    static int n;
    const char *host = getenv("MLC_TEST_PG_HOST");
    char conninfo[600], sql[128], db[64];
    ck_assert_ptr_nonnull(host);
    snprintf(db, sizeof db, "ut_%ld_%d_%d", (long)time(NULL), (int)getpid(), n++);
    snprintf(conninfo, sizeof conninfo, "postgresql:///postgres?host=%s&user=mlc", host);
    PGconn *c = PQconnectdb(conninfo);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", db);
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(url, cap, "postgresql:///%s?host=%s&user=mlc", db, host);
}

/* A fresh store location of the tcase's backend: a file under a new directory
 * (*dir_out, freed by the caller), or a new database. */
static void fresh_location(char **dir_out, char *path, size_t cap)
{
    char *d = tu_tmpdir();
    if (g_pg)
        pg_fresh(path, cap);
    else
        snprintf(path, cap, "%s/sub/p.db", d);
    *dir_out = d;
}

static mlc_store *open_tmp(char **dir_out, char *path, size_t cap)
{
    mlc_store *st = NULL;
    mlc_error e;
    fresh_location(dir_out, path, cap);
    ck_assert_msg(mlc_store_open(path, 0, &st, &e) == MLC_OK, "%s", e.msg);
    ck_assert_str_eq(mlc_store_backend(st), g_pg ? "postgresql" : "sqlite");
    return st;
}

/* The raw bytes of the single value sql selects, read behind the store's back. */
static void *raw_blob(const char *path, const char *sql, size_t *len)
{
    void *out = NULL;
    if (g_pg) {
        PGconn *c = PQconnectdb(path);
        ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
        PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 1);
        ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
        ck_assert_int_eq(PQntuples(r), 1);
        *len = (size_t)PQgetlength(r, 0, 0);
        out = malloc(*len + 1);
        memcpy(out, PQgetvalue(r, 0, 0), *len);
        PQclear(r);
        PQfinish(c);
        return out;
    }
    sqlite3 *db;
    sqlite3_stmt *q;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    *len = (size_t)sqlite3_column_bytes(q, 0);
    out = malloc(*len + 1);
    memcpy(out, sqlite3_column_blob(q, 0), *len);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return out;
}

START_TEST(migrates_and_reopens)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    ck_assert_int_eq(mlc_store_schema_version(st), MLC_STORE_SCHEMA_VERSION);
    ck_assert_int_eq(mlc_store_cursor_set(st, "pull-pos", "2026-11-01T00:00:00Z", &e), MLC_OK);
    mlc_store_close(st);
    ck_assert_int_eq(mlc_store_open(path, 0, &st, &e), MLC_OK);
    char *v;
    ck_assert_int_eq(mlc_store_cursor_get(st, "pull-pos", &v, &e), MLC_OK);
    ck_assert_str_eq(v, "2026-11-01T00:00:00Z");
    free(v);
    ck_assert_int_eq(mlc_store_cursor_get(st, "nope", &v, &e), MLC_OK);
    ck_assert_ptr_null(v);
    mlc_store_close(st);
    free(d);
}
END_TEST

/* The inbox: a failing notification is retried later, then quarantined; neither
 * comes back as due now, and the operator's list shows both. */
START_TEST(inbox_retry_and_quarantine)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    mlc_store_inbox_item *it;
    size_t n;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(mlc_store_inbox_add(st, "fulfillment_shipped_v2", "http://h/v2/x", "{}", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_inbox_pending(st, 10, &it, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 3);
    int64_t a = it[0].id, b = it[1].id;
    ck_assert_int_eq(it[0].attempts, 0);
    mlc_store_inbox_free(it, n);
    ck_assert_int_eq(mlc_store_inbox_retry(st, a, 1, (int64_t)time(NULL) + 3600, "HTTP 404", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_inbox_fail(st, b, 3, "HTTP 302", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_inbox_pending(st, 10, &it, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 1); /* only the third is due */
    ck_assert_int_ne(it[0].id, a);
    ck_assert_int_ne(it[0].id, b);
    mlc_store_inbox_free(it, n);
    ck_assert_int_eq(mlc_store_inbox_list(st, 0, 10, &it, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(it[0].attempts, 1);
    ck_assert_str_eq(it[0].last_error, "HTTP 404");
    ck_assert_ptr_null(it[0].failed_at);
    ck_assert_ptr_nonnull(it[1].failed_at);
    ck_assert_str_eq(it[1].last_error, "HTTP 302");
    mlc_store_inbox_free(it, n);
    /* due again once its time has come */
    ck_assert_int_eq(mlc_store_inbox_retry(st, a, 1, 0, "HTTP 404", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_inbox_pending(st, 10, &it, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 2);
    mlc_store_inbox_free(it, n);
    mlc_store_close(st);
    free(d);
}
END_TEST

START_TEST(links_seen_and_rejected)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    mlc_store_link l = {.po = "1000123", .order_key = "mlc:100:1000123", .api = "v2", .hash = "h1"}, *got;
    ck_assert_int_eq(mlc_store_link_get(st, "1000123", &got, &e), MLC_ERR_NOTFOUND);
    ck_assert_int_eq(mlc_store_link_put(st, &l, &e), MLC_OK);
    l.shipstation_id = "se-5";
    l.hash = "h2";
    ck_assert_int_eq(mlc_store_link_put(st, &l, &e), MLC_OK);
    l.shipstation_id = NULL; /* a later put without id keeps the known id */
    ck_assert_int_eq(mlc_store_link_put(st, &l, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_link_by_shipstation_id(st, "se-5", &got, &e), MLC_OK);
    ck_assert_str_eq(got->po, "1000123");
    ck_assert_str_eq(got->hash, "h2");
    ck_assert_str_eq(got->status, "open");
    mlc_store_link_free(got);
    int changed;
    ck_assert_int_eq(mlc_store_seen_check(st, "po", "1000123", "abc", &changed, &e), MLC_OK);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(mlc_store_seen_set(st, "po", "1000123", "abc", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_seen_check(st, "po", "1000123", "abc", &changed, &e), MLC_OK);
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(mlc_store_seen_check(st, "po", "1000123", "abd", &changed, &e), MLC_OK);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(mlc_store_reject(st, "push-shipments", "stdin", 7, "invalid JSON", "{\"x\xff", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_rejected_count(st), 1);
    /* a raw line with a NUL byte is kept whole, not cut at the NUL */
    static const char raw[] = "{\"a\":\"x\0after the nul\"}";
    ck_assert_int_eq(mlc_store_reject_n(st, "post-receipts", "stdin", 8, "NUL byte", raw, sizeof raw - 1, &e), MLC_OK);
    mlc_store_close(st);
    size_t len;
    void *got_raw = raw_blob(path, "SELECT line FROM rejected WHERE lineno=8", &len);
    ck_assert_uint_eq(len, sizeof raw - 1);
    ck_assert_int_eq(memcmp(got_raw, raw, sizeof raw - 1), 0);
    free(got_raw);
    free(d);
}
END_TEST

START_TEST(receipt_ledger_duplicate_claim_and_audit)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    mlc_store_receipt r = {.idem_key = "se-1/1000123/10/0", .shipment_id = "se-1", .po = "1000123", .line = 10,
                           .qty = 5, .route = "po_receipt", .tracking = "1Z999"};
    int created;
    ck_assert_int_eq(mlc_store_receipt_add(st, &r, &created, &e), MLC_OK);
    ck_assert_int_eq(created, 1);
    int64_t id = r.id;
    mlc_store_receipt dup = r;
    ck_assert_int_eq(mlc_store_receipt_add(st, &dup, &created, &e), MLC_OK);
    ck_assert_int_eq(created, 0);
    ck_assert_int_eq(dup.id, id);
    ck_assert_int_eq(dup.state, MLC_RECEIPT_PENDING);

    int claimed;
    unsigned from = 1u << MLC_RECEIPT_PENDING | 1u << MLC_RECEIPT_QUEUED;
    ck_assert_int_eq(mlc_store_receipt_claim(st, id, from, 3.0, &claimed, &e), MLC_OK);
    ck_assert_int_eq(claimed, 1);
    ck_assert_int_eq(mlc_store_receipt_claim(st, id, from, 3.0, &claimed, &e), MLC_OK);
    ck_assert_int_eq(claimed, 0); /* already in flight: nobody else may post it */

    mlc_store_receipt *got;
    ck_assert_int_eq(mlc_store_receipt_get(st, id, &got, &e), MLC_OK);
    ck_assert_int_eq(got->state, MLC_RECEIPT_IN_FLIGHT);
    ck_assert_int_eq(got->has_before, 1);
    ck_assert(got->rvqa_before == 3.0);
    mlc_store_receipt_free(got);

    ck_assert_int_eq(mlc_store_receipt_update(st, id, MLC_RECEIPT_QUEUED, 1, 0, "HTTP 503", -1, 0, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_receipt_get(st, id, &got, &e), MLC_OK);
    ck_assert_int_eq(got->state, MLC_RECEIPT_QUEUED);
    ck_assert(got->rvqa_before == 3.0); /* kept */
    ck_assert_str_eq(got->last_error, "HTTP 503");
    mlc_store_receipt_free(got);

    mlc_store_receipt_filter f = {.state_mask = 1u << MLC_RECEIPT_QUEUED, .due_only = 1};
    mlc_store_receipt **list;
    size_t n;
    ck_assert_int_eq(mlc_store_receipt_list(st, &f, &list, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 1);
    mlc_store_receipts_free(list, n);
    f.po = "other";
    ck_assert_int_eq(mlc_store_receipt_list(st, &f, &list, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 0);
    mlc_store_receipts_free(list, n);

    ck_assert_int_eq(mlc_store_audit(st, id, "attempt", "{\"status\":503}", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_audit(st, id, "posted", "{}", &e), MLC_OK);
    mlc_store_audit_entry *a;
    ck_assert_int_eq(mlc_store_audit_list(st, id, &a, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(a[0].event, "attempt");
    ck_assert_str_eq(a[1].event, "posted");
    mlc_store_audit_free(a, n);
    long counts[MLC_RECEIPT__COUNT];
    ck_assert_int_eq(mlc_store_receipt_counts(st, counts, &e), MLC_OK);
    ck_assert_int_eq(counts[MLC_RECEIPT_QUEUED], 1);
    mlc_store_close(st);
    free(d);
}
END_TEST

static void writer_child(const char *path, int who)
{
    mlc_store *st;
    mlc_error e;
    if (mlc_store_open(path, 20000, &st, &e))
        _exit(10);
    for (int i = 0; i < 300; i++) {
        char key[64];
        snprintf(key, sizeof key, "s%d/po/%d/0", who, i);
        mlc_store_receipt r = {.idem_key = key, .shipment_id = "s", .po = "po", .line = i, .qty = 1,
                               .route = "po_receipt"};
        int created;
        if (mlc_store_receipt_add(st, &r, &created, &e) || !created)
            _exit(11);
        /* both processes also race on the same keys: exactly one must win each */
        snprintf(key, sizeof key, "shared/po/%d/0", i);
        r.idem_key = key;
        if (mlc_store_receipt_add(st, &r, &created, &e))
            _exit(12);
        if (mlc_store_audit(st, r.id, "race", created ? "won" : "lost", &e))
            _exit(13);
    }
    mlc_store_close(st);
    _exit(0);
}

START_TEST(two_processes_write_at_once)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    pid_t a = fork();
    if (a == 0)
        writer_child(path, 1);
    pid_t b = fork();
    if (b == 0)
        writer_child(path, 2);
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    ck_assert_int_eq(WEXITSTATUS(sa), 0);
    ck_assert_int_eq(WEXITSTATUS(sb), 0);
    long counts[MLC_RECEIPT__COUNT];
    mlc_error e;
    ck_assert_int_eq(mlc_store_receipt_counts(st, counts, &e), MLC_OK);
    ck_assert_int_eq(counts[MLC_RECEIPT_PENDING], 900); /* 300 + 300 own + 300 shared */
    mlc_store_close(st);
    free(d);
}
END_TEST

START_TEST(locked_database_gives_busy)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_store_close(st);
    sqlite3 *other = NULL;
    PGconn *pg = NULL;
    if (g_pg) {
        /* another session holds the table (as a long transaction of another host would) */
        pg = PQconnectdb(path);
        ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
        PQclear(PQexec(pg, "BEGIN; LOCK TABLE cursor IN ACCESS EXCLUSIVE MODE"));
    } else {
        ck_assert_int_eq(sqlite3_open(path, &other), SQLITE_OK);
        ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    }
    mlc_error e;
    mlc_err rc = mlc_store_open(path, 200, &st, &e);
    if (rc == MLC_OK) {
        /* WAL readers may open; the first write must then report busy */
        rc = mlc_store_cursor_set(st, "x", "y", &e);
        mlc_store_close(st);
    }
    ck_assert_int_eq(rc, MLC_ERR_BUSY);
    ck_assert_ptr_nonnull(strstr(e.msg, "another mlc process holds the lock"));
    if (pg) {
        PQclear(PQexec(pg, "ROLLBACK"));
        PQfinish(pg);
    } else {
        sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(other);
    }
    free(d);
}
END_TEST

START_TEST(audit_by_shipment_and_po)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    mlc_store_receipt a = {.idem_key = "se-1/P1/10/0", .shipment_id = "se-1", .po = "P1", .line = 10, .qty = 1,
                           .route = "po_receipt"};
    mlc_store_receipt b = {.idem_key = "se-2/P1/20/0", .shipment_id = "se-2", .po = "P1", .line = 20, .qty = 2,
                           .route = "po_receipt"};
    mlc_store_receipt c = {.idem_key = "se-2/P2/10/0", .shipment_id = "se-2", .po = "P2", .line = 10, .qty = 3,
                           .route = "po_receipt"};
    int created;
    ck_assert_int_eq(mlc_store_receipt_add(st, &a, &created, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_receipt_add(st, &b, &created, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_receipt_add(st, &c, &created, &e), MLC_OK);
    /* interleaved, so "oldest first" is checked across receipts */
    ck_assert_int_eq(mlc_store_audit(st, c.id, "accepted", "{}", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_audit(st, a.id, "accepted", "{}", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_audit(st, b.id, "accepted", "{}", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_audit(st, 0, "unrelated", NULL, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_audit(st, a.id, "posted", "{}", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_audit(st, c.id, "exhausted", "{}", &e), MLC_OK);

    mlc_store_audit_entry *l;
    size_t n;
    ck_assert_int_eq(mlc_store_audit_list_for(st, NULL, "P1", &l, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert(l[0].receipt_id == a.id && !strcmp(l[0].event, "accepted"));
    ck_assert(l[1].receipt_id == b.id);
    ck_assert(l[2].receipt_id == a.id && !strcmp(l[2].event, "posted"));
    ck_assert(l[0].id < l[1].id && l[1].id < l[2].id);
    mlc_store_audit_free(l, n);

    ck_assert_int_eq(mlc_store_audit_list_for(st, "se-2", NULL, &l, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert(l[0].receipt_id == c.id && l[1].receipt_id == b.id && l[2].receipt_id == c.id);
    ck_assert_str_eq(l[2].event, "exhausted");
    mlc_store_audit_free(l, n);

    ck_assert_int_eq(mlc_store_audit_list_for(st, "se-2", "P2", &l, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 2);
    mlc_store_audit_free(l, n);

    ck_assert_int_eq(mlc_store_audit_list_for(st, "se-nope", NULL, &l, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 0);
    mlc_store_audit_free(l, n);
    ck_assert_int_eq(mlc_store_audit_list_for(st, NULL, NULL, &l, &n, &e), MLC_ERR_USAGE);
    mlc_store_close(st);
    free(d);
}
END_TEST

/* Two processes of one pipeline (pull-pos | push-shipments) open the same new
 * database at once: neither may fail with "database is locked". */
START_TEST(two_processes_open_a_new_database_at_once)
{
    char *d = tu_tmpdir();
    /* a PostgreSQL database costs a CREATE DATABASE: fewer rounds there */
    for (int i = 0; i < (g_pg ? 10 : 60); i++) {
        char path[512];
        if (g_pg)
            pg_fresh(path, sizeof path);
        else
            snprintf(path, sizeof path, "%s/fresh%d/p.db", d, i);
        pid_t kids[4];
        for (int k = 0; k < 4; k++) {
            if ((kids[k] = fork()) == 0) {
                mlc_store *st;
                mlc_error e;
                if (mlc_store_open(path, 0, &st, &e) != MLC_OK)
                    _exit(1);
                mlc_store_close(st);
                _exit(0);
            }
        }
        for (int k = 0; k < 4; k++) {
            int status;
            waitpid(kids[k], &status, 0);
            ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "open %d failed in process %d", i, k);
        }
    }
    free(d);
}
END_TEST

START_TEST(runs_last_success_last_error_and_prune)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    int64_t a, b, c, x, y;
    /* pull-pos: ok at 1000, failed at 2000; post-receipts: only failures; push: running */
    ck_assert_int_eq(mlc_store_run_begin(st, "pull-pos", 1000, &a, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_end(st, a, 1010, 0, "{\"errors\":0}", NULL, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_begin(st, "pull-pos", 2000, &b, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_end(st, b, 2005, 75, NULL, "M3 unavailable", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_begin(st, "post-receipts", 1500, &c, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_end(st, c, 2100, 69, NULL, "ION token refused", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_begin(st, "push-shipments", 2200, &x, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_end(st, 9999, 1, 0, NULL, NULL, &e), MLC_ERR_NOTFOUND);

    mlc_store_run_summary *rs;
    size_t n;
    ck_assert_int_eq(mlc_store_run_summary_list(st, &rs, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(rs[0].command, "post-receipts");
    ck_assert_int_eq(rs[0].last_ok.id, 0);
    ck_assert_int_eq(rs[0].last.exit_code, 69);
    ck_assert_str_eq(rs[1].command, "pull-pos");
    ck_assert_int_eq(rs[1].last_ok.id, a);
    ck_assert_int_eq(rs[1].last_ok.ended_at, 1010);
    ck_assert_str_eq(rs[1].last_ok.counts, "{\"errors\":0}");
    ck_assert_int_eq(rs[1].last.id, b);
    ck_assert_str_eq(rs[1].last.error, "M3 unavailable");
    ck_assert_int_eq(rs[1].runs, 2);
    ck_assert_int_eq(rs[1].failures, 1);
    ck_assert_str_eq(rs[2].command, "push-shipments");
    ck_assert_int_eq(rs[2].last.ended_at, 0); /* still running */
    ck_assert_int_eq(rs[2].last.exit_code, -1);
    ck_assert_int_eq(rs[2].failures, 0);
    mlc_store_run_summary_free(rs, n);

    mlc_store_run *le;
    ck_assert_int_eq(mlc_store_run_last_error(st, &le, &e), MLC_OK);
    ck_assert_ptr_nonnull(le);
    ck_assert_str_eq(le->command, "post-receipts");
    ck_assert_str_eq(le->error, "ION token refused");
    mlc_store_run_free(le);

    /* prune: a third pull-pos run makes run a (1000) prunable only if not the last success */
    ck_assert_int_eq(mlc_store_run_begin(st, "pull-pos", 3000, &y, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_end(st, y, 3001, 0, NULL, NULL, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_prune(st, 2500, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_run_summary_list(st, &rs, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(rs[1].runs, 1);          /* a and b pruned, y kept */
    ck_assert_int_eq(rs[1].last_ok.id, y);
    ck_assert_int_eq(rs[0].runs, 1);          /* post-receipts' only (last) run kept */
    ck_assert_int_eq(rs[2].runs, 1);          /* a running run is never pruned */
    mlc_store_run_summary_free(rs, n);
    mlc_store_close(st);
    free(d);
}
END_TEST

START_TEST(cursor_list_oldest_receipts_and_v1_upgrade)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    ck_assert_int_eq(mlc_store_cursor_set(st, "pull-shipments:v2", "2026-11-20T10:00:00Z", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_cursor_set(st, "pull-pos", "20261120", &e), MLC_OK);
    mlc_store_cursor *c;
    size_t n;
    ck_assert_int_eq(mlc_store_cursor_list(st, &c, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(c[0].stream, "pull-pos");
    ck_assert_str_eq(c[0].value, "20261120");
    ck_assert_str_eq(c[1].stream, "pull-shipments:v2");
    ck_assert_ptr_nonnull(c[1].updated_at);
    mlc_store_cursor_list_free(c, n);

    mlc_store_receipt r = {.idem_key = "s1/P1/1/0", .shipment_id = "s1", .po = "P1", .line = 1, .qty = 1,
                           .route = "po_receipt"};
    int created;
    ck_assert_int_eq(mlc_store_receipt_add(st, &r, &created, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_receipt_update(st, r.id, MLC_RECEIPT_EXHAUSTED, 5, 0, "x", -1, 0, &e), MLC_OK);
    char *old[MLC_RECEIPT__COUNT];
    ck_assert_int_eq(mlc_store_receipt_oldest(st, old, &e), MLC_OK);
    ck_assert_ptr_nonnull(old[MLC_RECEIPT_EXHAUSTED]);
    ck_assert_ptr_null(old[MLC_RECEIPT_PENDING]);
    ck_assert_int_eq(old[MLC_RECEIPT_EXHAUSTED][4], '-');
    for (int i = 0; i < MLC_RECEIPT__COUNT; i++)
        free(old[i]);
    mlc_store_close(st);

    /* a database left by an earlier mlc (schema 2: no run table, no in-doubt columns) is
     * upgraded; PostgreSQL databases start at the current schema, reopened as they are */
    sqlite3 *db = NULL;
    if (!g_pg)
        ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    /* (and without the inbox quarantine columns of schema 4) */
    ck_assert_int_eq(g_pg ? SQLITE_OK : sqlite3_exec(db,
                                  "DROP TABLE run; DROP TABLE bod_message; DROP TABLE shared; DROP TABLE outbox;"
                                  "DROP INDEX receipt_shipment; ALTER TABLE inbox DROP COLUMN attempts;"
                                  "ALTER TABLE inbox DROP COLUMN next_attempt_at; ALTER TABLE inbox DROP COLUMN "
                                  "last_error; ALTER TABLE inbox DROP COLUMN failed_at;"
                                  "ALTER TABLE receipt DROP COLUMN call_started_at;"
                                  "ALTER TABLE receipt DROP COLUMN settle_after; ALTER TABLE link DROP COLUMN settle_after;"
                                  "PRAGMA user_version=2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(mlc_store_open(path, 0, &st, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_schema_version(st), MLC_STORE_SCHEMA_VERSION);
    mlc_store_inbox_item *inbox;
    size_t ninbox;
    ck_assert_int_eq(mlc_store_inbox_pending(st, 4, &inbox, &ninbox, &e), MLC_OK);
    mlc_store_inbox_free(inbox, ninbox);
    /* 6: a receipt's BOD message is created once and never changes */
    mlc_store_bod *b = NULL;
    ck_assert_int_eq(mlc_store_bod_get(st, 7, &b, &e), MLC_ERR_NOTFOUND);
    ck_assert_int_eq(mlc_store_bod_get_or_create(st, 7, "mlc-m-1", "MLC-D-1", &b, &e), MLC_OK);
    ck_assert_str_eq(b->message_id, "mlc-m-1");
    mlc_store_bod_free(b);
    ck_assert_int_eq(mlc_store_bod_get_or_create(st, 7, "mlc-m-2", "MLC-D-2", &b, &e), MLC_OK);
    ck_assert_str_eq(b->message_id, "mlc-m-1");
    ck_assert_str_eq(b->document_id, "MLC-D-1");
    mlc_store_bod_free(b);
    ck_assert_int_eq(mlc_store_bod_update(st, 7, 1000, 2, 1, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_bod_get(st, 7, &b, &e), MLC_OK);
    ck_assert(b->sent_at == 1000 && b->sends == 2 && b->in_doubt == 1);
    mlc_store_bod_free(b);
    /* a message id is never given to a second receipt */
    ck_assert_int_ne(mlc_store_bod_get_or_create(st, 8, "mlc-m-1", "MLC-D-8", &b, &e), MLC_OK);
    int64_t id;
    ck_assert_int_eq(mlc_store_run_begin(st, "ping", 1, &id, &e), MLC_OK);
    mlc_store_close(st);
    free(d);
}
END_TEST

 
/* ---- sharing: named locks and shared values ---- */

/* A child process tries the lock without waiting: 1 if it got it. */
static int child_try_lock(const char *path, const char *name)
{
    pid_t pid = fork();
    if (pid == 0) {
        mlc_store *st;
        mlc_error e;
        int got = 0;
        if (mlc_store_open(path, 0, &st, &e) != MLC_OK || mlc_store_lock(st, name, 0, &got, &e) != MLC_OK)
            _exit(3);
        /* closed, so that the lock is gone when it exits (a PostgreSQL server ends the
         * session of a client that merely died a moment later) */
        mlc_store_close(st);
        _exit(got ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 3);
    return WEXITSTATUS(status);
}

/* A lock held by one process is refused to another until it is released by
 * unlock, by close, or by the holder's death (kill -9); names are independent. */
START_TEST(named_lock_excludes_and_is_released)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    int got = 0;
    ck_assert_int_eq(mlc_store_is_shared(st), g_pg); /* a server is shared between hosts */
    ck_assert_int_eq(mlc_store_lock(st, "post-receipts", 1, &got, &e), MLC_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(mlc_store_lock(st, "post-receipts", 0, &got, &e), MLC_ERR_USAGE);
    ck_assert_int_eq(mlc_store_lock(st, "../x", 0, &got, &e), MLC_ERR_USAGE);
    ck_assert_int_eq(mlc_store_lock(st, "", 0, &got, &e), MLC_ERR_USAGE);
    ck_assert_int_eq(child_try_lock(path, "post-receipts"), 0);
    ck_assert_int_eq(child_try_lock(path, "ion-login"), 1);
    mlc_store_unlock(st, "post-receipts");
    mlc_store_unlock(st, "never-taken");
    ck_assert_int_eq(child_try_lock(path, "post-receipts"), 1);

    /* released by close */
    ck_assert_int_eq(mlc_store_lock(st, "post-receipts", 0, &got, &e), MLC_OK);
    ck_assert_int_eq(got, 1);
    ck_assert_int_eq(child_try_lock(path, "post-receipts"), 0);
    mlc_store_close(st);
    ck_assert_int_eq(child_try_lock(path, "post-receipts"), 1);

    /* released by the holder's death */
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t holder = fork();
    if (holder == 0) {
        mlc_store *h;
        int g = 0;
        if (mlc_store_open(path, 0, &h, &e) != MLC_OK || mlc_store_lock(h, "post-receipts", 1, &g, &e) != MLC_OK)
            _exit(3);
        if (write(pfd[1], "x", 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    char c;
    ck_assert_int_eq(read(pfd[0], &c, 1), 1);
    ck_assert_int_eq(child_try_lock(path, "post-receipts"), 0);
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    /* PostgreSQL ends the dead client's session (and its lock) as soon as it sees
     * the connection closed: a moment, not at once */
    int free_again = 0;
    for (int i = 0; i < (g_pg ? 100 : 1) && !free_again; i++) {
        if (i)
            usleep(20000);
        free_again = child_try_lock(path, "post-receipts");
    }
    ck_assert_int_eq(free_again, 1);
    close(pfd[0]);
    close(pfd[1]);
    if (!g_pg) { /* SQLite: the lock file beside the database is private */
        struct stat sb;
        char lp[600];
        snprintf(lp, sizeof lp, "%s.post-receipts.lock", path);
        ck_assert_int_eq(stat(lp, &sb), 0);
        ck_assert_int_eq(sb.st_mode & 0777, 0600);
    }
    free(d);
}
END_TEST

/* Three processes take the lock (waiting) in turn many times; inside it each
 * creates a marker file exclusively and removes it: two holders at once would
 * find the other's marker. */
START_TEST(named_lock_waiters_never_overlap)
{
    char *d, path[512], marker[600];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_store_close(st);
    snprintf(marker, sizeof marker, "%s/inside", d);
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        if ((kids[k] = fork()) == 0) {
            mlc_store *s;
            mlc_error e;
            if (mlc_store_open(path, 0, &s, &e) != MLC_OK)
                _exit(3);
            for (int i = 0; i < 40; i++) {
                int got = 0;
                if (mlc_store_lock(s, "post-receipts", 1, &got, &e) != MLC_OK || !got)
                    _exit(3);
                int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0600);
                if (fd < 0)
                    _exit(2); /* another holder is inside */
                struct timespec ts = {0, 300000L};
                nanosleep(&ts, NULL);
                close(fd);
                unlink(marker);
                mlc_store_unlock(s, "post-receipts");
            }
            mlc_store_close(s);
            _exit(0);
        }
    }
    for (int k = 0; k < 3; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d: exit %d", k,
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    free(d);
}
END_TEST

/* A shared counter: a 32-bit big-endian number. */
static int bump(void *ud, const unsigned char *old, size_t old_len, unsigned char **newv, size_t *new_len)
{
    unsigned v = 0;
    (void)ud;
    if (old && old_len == 4)
        v = (unsigned)old[0] << 24 | (unsigned)old[1] << 16 | (unsigned)old[2] << 8 | old[3];
    v++;
    if (!(*newv = malloc(4)))
        return -1;
    (*newv)[0] = (unsigned char)(v >> 24);
    (*newv)[1] = (unsigned char)(v >> 16);
    (*newv)[2] = (unsigned char)(v >> 8);
    (*newv)[3] = (unsigned char)v;
    *new_len = 4;
    return 1;
}

static int keep(void *ud, const unsigned char *old, size_t old_len, unsigned char **newv, size_t *new_len)
{
    (void)old;
    (void)old_len;
    (void)newv;
    (void)new_len;
    ++*(int *)ud;
    return 0;
}

static int refuse(void *ud, const unsigned char *old, size_t old_len, unsigned char **newv, size_t *new_len)
{
    (void)ud;
    (void)old;
    (void)old_len;
    (void)new_len;
    *newv = malloc(4); /* written, then refused: the store frees it, nothing is written */
    return -1;
}

/* Four processes increment one shared counter 150 times each, at once: the
 * read-modify-write is one transaction, so none of the 600 increments is lost. */
START_TEST(shared_counter_loses_nothing)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    unsigned char *v;
    size_t n;
    ck_assert_int_eq(mlc_store_shared_get(st, "ratelimit:abc", &v, &n, &e), MLC_OK);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    int calls = 0;
    ck_assert_int_eq(mlc_store_shared_update(st, "ratelimit:abc", keep, &calls, &e), MLC_OK);
    ck_assert_int_eq(calls, 1);
    ck_assert_int_eq(mlc_store_shared_get(st, "ratelimit:abc", &v, &n, &e), MLC_OK);
    ck_assert_ptr_null(v); /* keep wrote nothing */
    ck_assert_int_eq(mlc_store_shared_update(st, "bad name", keep, &calls, &e), MLC_ERR_USAGE);
    ck_assert_int_eq(mlc_store_shared_update(st, "ratelimit:abc", refuse, NULL, &e), MLC_ERR_STORE);
    ck_assert_int_eq(mlc_store_shared_get(st, "ratelimit:abc", &v, &n, &e), MLC_OK);
    ck_assert_ptr_null(v);

    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        if ((kids[k] = fork()) == 0) {
            mlc_store *s;
            if (mlc_store_open(path, 0, &s, &e) != MLC_OK)
                _exit(3);
            for (int i = 0; i < 150; i++)
                if (mlc_store_shared_update(s, "ratelimit:abc", bump, NULL, &e) != MLC_OK)
                    _exit(4);
            mlc_store_close(s);
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status;
        waitpid(kids[k], &status, 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d failed", k);
    }
    ck_assert_int_eq(mlc_store_shared_get(st, "ratelimit:abc", &v, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 4);
    unsigned total = (unsigned)v[0] << 24 | (unsigned)v[1] << 16 | (unsigned)v[2] << 8 | v[3];
    ck_assert_uint_eq(total, 600);
    free(v);
    /* another name is another value; inside an explicit transaction it joins it */
    ck_assert_int_eq(mlc_store_begin(st, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_shared_update(st, "ion-token", bump, NULL, &e), MLC_OK);
    mlc_store_rollback(st);
    ck_assert_int_eq(mlc_store_shared_get(st, "ion-token", &v, &n, &e), MLC_OK);
    ck_assert_ptr_null(v);
    mlc_store_close(st);
    free(d);
}
END_TEST

/* Two processes (two connections: on PostgreSQL, as two hosts would be) claim the
 * same receipts at once: every receipt is won by exactly one of them. */
static void claim_child(const char *path, int who, int64_t first, int count)
{
    mlc_store *st;
    mlc_error e;
    if (mlc_store_open(path, 20000, &st, &e))
        _exit(10);
    unsigned from = 1u << MLC_RECEIPT_PENDING | 1u << MLC_RECEIPT_QUEUED;
    for (int i = 0; i < count; i++) {
        int claimed;
        if (mlc_store_receipt_claim(st, first + i, from, (double)who, &claimed, &e))
            _exit(11);
        if (claimed && mlc_store_audit(st, first + i, "claimed", who == 1 ? "one" : "two", &e))
            _exit(12);
    }
    mlc_store_close(st);
    _exit(0);
}

START_TEST(two_processes_claim_the_same_receipts)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    enum { N = 150 };
    int64_t first = 0;
    for (int i = 0; i < N; i++) {
        char key[64];
        int created;
        snprintf(key, sizeof key, "se-c/P/%d/0", i);
        mlc_store_receipt r = {.idem_key = key, .shipment_id = "se-c", .po = "P", .line = i, .qty = 1,
                               .route = "po_receipt"};
        ck_assert_int_eq(mlc_store_receipt_add(st, &r, &created, &e), MLC_OK);
        if (i == 0)
            first = r.id;
        ck_assert_int_eq(r.id, first + i);
    }
    pid_t a = fork();
    if (a == 0)
        claim_child(path, 1, first, N);
    pid_t b = fork();
    if (b == 0)
        claim_child(path, 2, first, N);
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    ck_assert_int_eq(WEXITSTATUS(sa), 0);
    ck_assert_int_eq(WEXITSTATUS(sb), 0);
    int wins[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) {
        mlc_store_audit_entry *a_list;
        size_t n;
        ck_assert_int_eq(mlc_store_audit_list(st, first + i, &a_list, &n, &e), MLC_OK);
        ck_assert_msg(n == 1, "receipt %d claimed %zu times", i, n);
        wins[strcmp(a_list[0].detail, "one") == 0 ? 1 : 2]++;
        mlc_store_receipt *got;
        ck_assert_int_eq(mlc_store_receipt_get(st, first + i, &got, &e), MLC_OK);
        ck_assert_int_eq(got->state, MLC_RECEIPT_IN_FLIGHT);
        /* the rvqa_before recorded is the winner's */
        ck_assert(got->rvqa_before == (strcmp(a_list[0].detail, "one") == 0 ? 1.0 : 2.0));
        mlc_store_receipt_free(got);
        mlc_store_audit_free(a_list, n);
    }
    ck_assert_int_eq(wins[1] + wins[2], N);
    mlc_store_close(st);
    free(d);
}
END_TEST

/* PostgreSQL: a database records the profile whose state it holds; another
 * profile is refused, the same one (or an unchecked open) is let in. */
START_TEST(pg_database_belongs_to_one_profile)
{
    char *d, path[512];
    fresh_location(&d, path, sizeof path);
    mlc_store *st;
    mlc_error e;
    mlc_store_opts o = {.location = path, .profile = "acme"};
    ck_assert_msg(mlc_store_open_with(&o, &st, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(mlc_store_schema_version(st), MLC_STORE_SCHEMA_VERSION);
    mlc_store_close(st);
    o.profile = "globex";
    ck_assert_int_eq(mlc_store_open_with(&o, &st, &e), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "profile 'acme', not of 'globex'"));
    o.profile = "acme";
    ck_assert_int_eq(mlc_store_open_with(&o, &st, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_schema_version(st), MLC_STORE_SCHEMA_VERSION);
    mlc_store_close(st);
    /* a role that must give its password: refused without it, let in with it */
    const char *pwfile = getenv("MLC_TEST_PG_PWFILE");
    if (pwfile) {
        char url[600], pw[128] = "";
        FILE *f = fopen(pwfile, "r");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(pw, sizeof pw, f));
        fclose(f);
        pw[strcspn(pw, "\n")] = '\0';
        snprintf(url, sizeof url, "postgresql:///postgres?host=%s&user=mlc_pw", getenv("MLC_TEST_PG_HOST"));
        mlc_store_opts p = {.location = url, .profile = "acme"};
        ck_assert_int_eq(mlc_store_open_with(&p, &st, &e), MLC_ERR_STORE);
        ck_assert_ptr_nonnull(strstr(e.msg, "cannot connect"));
        ck_assert_ptr_null(strstr(e.msg, pw));
        p.password = "wrong";
        ck_assert_int_eq(mlc_store_open_with(&p, &st, &e), MLC_ERR_STORE);
        ck_assert_ptr_nonnull(strstr(e.msg, "password authentication failed"));
        p.password = pw;
        /* connected: the postgres database is not the role's to create tables in
         * (PostgreSQL 15), which is an error after the login, not of it */
        mlc_err rc = mlc_store_open_with(&p, &st, &e);
        if (rc == MLC_OK)
            mlc_store_close(st);
        else
            ck_assert_msg(strstr(e.msg, "cannot connect") == NULL, "%s", e.msg);
    }
    free(d);
}
END_TEST

/* PostgreSQL: the server ends the session (a restart, a failover): the statement
 * then fails naming the server, the next one reconnects; a store holding a named
 * lock is not reconnected behind its back (the lock went with the session). */
static void terminate_sessions(const char *url)
{
    PGconn *c = PQconnectdb(url);
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
}

START_TEST(pg_lost_connection)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    ck_assert_int_eq(mlc_store_cursor_set(st, "a", "1", &e), MLC_OK);
    terminate_sessions(path);
    mlc_err rc = mlc_store_cursor_set(st, "a", "2", &e);
    ck_assert_int_eq(rc, MLC_ERR_STORE);
    ck_assert_msg(strstr(e.msg, "connection lost") && strstr(e.msg, "postgresql://mlc@"), "%s", e.msg);
    ck_assert_int_eq(mlc_store_cursor_set(st, "a", "3", &e), MLC_OK); /* re-established */
    char *v;
    ck_assert_int_eq(mlc_store_cursor_get(st, "a", &v, &e), MLC_OK);
    ck_assert_str_eq(v, "3");
    free(v);
    int got;
    ck_assert_int_eq(mlc_store_lock(st, "post-receipts", 0, &got, &e), MLC_OK);
    ck_assert_int_eq(got, 1);
    terminate_sessions(path);
    ck_assert_int_eq(mlc_store_cursor_set(st, "a", "4", &e), MLC_ERR_STORE);
    ck_assert_int_eq(mlc_store_cursor_set(st, "a", "5", &e), MLC_ERR_STORE);
    ck_assert_msg(strstr(e.msg, "while holding a lock"), "%s", e.msg);
    mlc_store_close(st);
    free(d);
}
END_TEST

/* A text value that is not UTF-8 (an error text from a remote answer): SQLite keeps
 * the bytes; a UTF-8 PostgreSQL database would refuse the statement, so the invalid
 * bytes are stored as U+FFFD and the write succeeds. */
START_TEST(text_not_utf8_is_stored)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    ck_assert_msg(mlc_store_audit(st, 9, "call_failed", "M3 said: bad \xff\xc3( byte \xe2\x82\xac", &e) == MLC_OK, "%s",
                  e.msg);
    mlc_store_audit_entry *a;
    size_t n;
    ck_assert_int_eq(mlc_store_audit_list(st, 9, &a, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a[0].detail, g_pg ? "M3 said: bad \xef\xbf\xbd\xef\xbf\xbd( byte \xe2\x82\xac"
                                       : "M3 said: bad \xff\xc3( byte \xe2\x82\xac");
    mlc_store_audit_free(a, n);
    mlc_store_close(st);
    free(d);
}
END_TEST

/* The rules of a state URL (no server needed). */
START_TEST(url_rules)
{
    mlc_error e;
    ck_assert(mlc_store_is_url("postgresql://db.example/mlc"));
    ck_assert(mlc_store_is_url("postgres://db.example/mlc"));
    ck_assert(!mlc_store_is_url("/var/lib/mlc/acme.db"));
    ck_assert_int_eq(mlc_store_url_check("postgresql://mlc:hunter2@db.example/mlc?sslmode=verify-full", &e),
                     MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "password"));
    ck_assert_ptr_null(strstr(e.msg, "hunter2"));
    ck_assert_int_eq(mlc_store_url_check("postgresql:///mlc?host=/run/pg&password=hunter2", &e), MLC_ERR_CONFIG);
    ck_assert_ptr_null(strstr(e.msg, "hunter2"));
    /* a URL libpq cannot parse still never echoes its password */
    ck_assert_int_eq(mlc_store_url_check("postgresql://u:hunter2@db.example:notaport/x", &e), MLC_ERR_CONFIG);
    ck_assert_ptr_null(strstr(e.msg, "hunter2"));
    ck_assert_int_eq(mlc_store_url_check("postgresql:///x?host=/run/pg&sslpassword=hunter2", &e), MLC_ERR_CONFIG);
    ck_assert_ptr_null(strstr(e.msg, "hunter2"));
    ck_assert_int_eq(mlc_store_url_check("postgresql://mlc@db.example/mlc?sslmode=require", &e), MLC_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "verify-full"));
    ck_assert_int_eq(mlc_store_url_check("postgresql://mlc@127.0.0.1,db.example/mlc?sslmode=disable", &e),
                     MLC_ERR_CONFIG);
    ck_assert_int_eq(mlc_store_url_check("postgresql://mlc@db.example/mlc?sslmode=verify-full", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_url_check("postgresql://mlc@db.example/mlc", &e), MLC_OK); /* verify-full added */
    ck_assert_int_eq(mlc_store_url_check("postgresql://mlc@localhost/mlc?sslmode=disable", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_url_check("postgresql://mlc@[::1]:5433/mlc?sslmode=disable", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_url_check("postgresql:///mlc?host=/run/postgresql", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_url_check("postgresql://mlc@db.example:notaport/mlc?nonsense=1", &e), MLC_ERR_CONFIG);
    /* an open of a URL with a password fails before any connection is tried */
    mlc_store *st;
    ck_assert_int_eq(mlc_store_open("postgresql://u:hunter2@db.invalid/x", 0, &st, &e), MLC_ERR_CONFIG);
}
END_TEST

/* A shipment record as pull-shipments writes it (company 100, PO 1000123). */
static cJSON *ship_rec(const char *id, int voided, int delivered, const char *items)
{
    char text[800];
    snprintf(text, sizeof text,
             "{\"kind\":\"shipment\",\"shipment_id\":\"%s\",\"order_key\":\"mlc-100-1000123\",\"po\":\"1000123\","
             "\"tracking_number\":\"1Z9\",\"voided\":%s,\"delivered\":%s,\"source\":\"poll\",\"items\":%s}",
             id, voided ? "true" : "false", delivered ? "true" : "false", items);
    cJSON *r = cJSON_Parse(text);
    ck_assert_ptr_nonnull(r);
    return r;
}

static int taken(mlc_store *st, const cJSON *rec)
{
    int t = -1;
    mlc_error e;
    ck_assert_msg(mlc_receipt_taken_in(st, rec, 100, &t, &e) == MLC_OK, "%s", e.msg);
    return t;
}

START_TEST(outbox_and_the_ledger_acknowledgement)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    mlc_store_outbox_item *it;
    size_t n;
    /* kept, written again (sends), replaced by a changed record, forgotten */
    ck_assert_int_eq(mlc_store_outbox_put(st, "shipment", "se-1", "{\"a\":1}", 2000, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_put(st, "shipment", "se-0", "{\"b\":1}", 1000, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_put(st, "other", "se-0", "{}", 10, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_sent(st, "shipment", "se-1", 2500, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_list(st, "shipment", 10, &it, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(it[0].key, "se-0"); /* oldest first */
    ck_assert_str_eq(it[1].key, "se-1");
    ck_assert_str_eq(it[1].record, "{\"a\":1}");
    ck_assert_int_eq(it[1].emitted_at, 2000);
    ck_assert_int_eq(it[1].sent_at, 2500);
    ck_assert_int_eq(it[1].sends, 2);
    mlc_store_outbox_free(it, n);
    ck_assert_int_eq(mlc_store_outbox_put(st, "shipment", "se-1", "{\"a\":2}", 3000, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_list(st, "shipment", 1, &it, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 1); /* max */
    mlc_store_outbox_free(it, n);
    ck_assert_int_eq(mlc_store_outbox_delete(st, "shipment", "se-0", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_delete(st, "shipment", "se-404", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_list(st, "shipment", 10, &it, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(it[0].record, "{\"a\":2}");
    ck_assert_int_eq(it[0].emitted_at, 3000);
    ck_assert_int_eq(it[0].sends, 1); /* a changed record starts over */
    mlc_store_outbox_free(it, n);

    /* the ledger's acknowledgement: every line with a quantity has its row */
    cJSON *rec = ship_rec("se-9", 0, 0,
                          "[{\"qty\":2,\"po_line\":\"1000123/10/0\"},{\"qty\":0,\"po_line\":\"1000123/20/0\"},"
                          "{\"qty\":1,\"po_line\":\"1000123/30/0\"},{\"qty\":1,\"po_line\":\"1000123/30/0\"}]");
    ck_assert_int_eq(taken(st, rec), 0);
    mlc_store_receipt r10 = {.idem_key = "se-9/1000123/10/0", .shipment_id = "se-9", .po = "1000123", .line = 10,
                             .qty = 2, .route = "po_receipt"};
    mlc_store_receipt r30 = {.idem_key = "se-9/1000123/30/0", .shipment_id = "se-9", .po = "1000123", .line = 30,
                             .qty = 2, .route = "po_receipt"};
    mlc_store_receipt other = {.idem_key = "se-8/1000123/30/0", .shipment_id = "se-8", .po = "1000123", .line = 30,
                               .qty = 2, .route = "po_receipt"};
    int created;
    ck_assert_int_eq(mlc_store_receipt_add(st, &r10, &created, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_receipt_add(st, &other, &created, &e), MLC_OK);
    ck_assert_int_eq(taken(st, rec), 0); /* line 30 of another shipment is not this one's */
    ck_assert_int_eq(mlc_store_receipt_add(st, &r30, &created, &e), MLC_OK);
    ck_assert_int_eq(taken(st, rec), 1); /* line 20 shipped nothing: no row stands for it */
    ck_assert_int_eq(mlc_store_receipt_update(st, r30.id, MLC_RECEIPT_EXHAUSTED, 5, 0, "NOK", -1, 0, &e), MLC_OK);
    ck_assert_int_eq(taken(st, rec), 1); /* any state */
    cJSON_Delete(rec);
    /* delivered: rows waiting for the delivery must have been released */
    rec = ship_rec("se-9", 0, 1, "[{\"qty\":2,\"po_line\":\"1000123/10/0\"}]");
    ck_assert_int_eq(mlc_store_receipt_update(st, r10.id, MLC_RECEIPT_PENDING, 0, 253402300799LL, NULL, -1, 0, &e),
                     MLC_OK);
    ck_assert_int_eq(taken(st, rec), 0);
    ck_assert_int_eq(mlc_store_receipt_update(st, r10.id, MLC_RECEIPT_PENDING, 0, 0, NULL, -1, 0, &e), MLC_OK);
    ck_assert_int_eq(taken(st, rec), 1);
    cJSON_Delete(rec);
    /* voided: no unposted row of the shipment left */
    rec = ship_rec("se-9", 1, 0, "[{\"qty\":2,\"po_line\":\"1000123/10/0\"}]");
    ck_assert_int_eq(taken(st, rec), 0); /* line 10 pending, line 30 exhausted */
    ck_assert_int_eq(mlc_store_receipt_update(st, r10.id, MLC_RECEIPT_VOIDED, 0, 0, NULL, -1, 0, &e), MLC_OK);
    ck_assert_int_eq(taken(st, rec), 0);
    ck_assert_int_eq(mlc_store_receipt_update(st, r30.id, MLC_RECEIPT_POSTED, 1, 0, NULL, -1, 0, &e), MLC_OK);
    ck_assert_int_eq(taken(st, rec), 1); /* posted: the void is post-receipts' to report, not to repeat */
    cJSON_Delete(rec);
    rec = ship_rec("se-7", 1, 0, "[{\"qty\":2,\"po_line\":\"1000123/10/0\"}]");
    ck_assert_int_eq(taken(st, rec), 1); /* voided before any row: nothing to undo */
    cJSON_Delete(rec);
    rec = ship_rec("se-6", 0, 0, "[{\"qty\":0,\"po_line\":\"1000123/10/0\"}]");
    ck_assert_int_eq(taken(st, rec), 1); /* nothing to receive */
    cJSON_Delete(rec);
    /* a record post-receipts refuses is never taken in: another company, a bad shape */
    rec = ship_rec("se-5", 0, 0, "[{\"qty\":2,\"po_line\":\"1000123/10/0\"}]");
    int t = -1;
    ck_assert_int_eq(mlc_receipt_taken_in(st, rec, 200, &t, &e), MLC_ERR_INPUT);
    ck_assert_int_eq(mlc_receipt_wants(rec, 200, &t, &e), MLC_ERR_INPUT);
    ck_assert_int_eq(mlc_receipt_wants(rec, 100, &t, &e), MLC_OK);
    ck_assert_int_eq(t, 1); /* a line to receive: worth keeping until the ledger has it */
    cJSON_Delete(rec);
    rec = ship_rec("se-5", 1, 0, "[]");
    ck_assert_int_eq(mlc_receipt_wants(rec, 100, &t, &e), MLC_OK);
    ck_assert_int_eq(t, 1); /* a void: its rows are to be voided */
    cJSON_Delete(rec);
    rec = ship_rec("se-5", 0, 0, "[{\"qty\":0,\"po_line\":\"1000123/10/0\"}]");
    ck_assert_int_eq(mlc_receipt_wants(rec, 100, &t, &e), MLC_OK);
    ck_assert_int_eq(t, 0); /* nothing to receive */
    cJSON_Delete(rec);
    rec = ship_rec("se-5", 0, 0, "[{\"qty\":-1,\"po_line\":\"1000123/10/0\"}]");
    ck_assert_int_eq(mlc_receipt_taken_in(st, rec, 100, &t, &e), MLC_ERR_INPUT);
    cJSON_Delete(rec);
    mlc_store_close(st);
    free(d);
}
END_TEST

/* pull-pos's outbox (namespace "po") beside pull-shipments', and push-shipments'
 * acknowledgement from the link table (mlc_push_taken_in / mlc_push_wants). */
static const char *PO_YAML = "profiles:\n  p:\n"
                             "    cloudsuite: {cono: 100}\n"
                             "    shipstation: {api: v2}\n"
                             "    mapping:\n"
                             "      warehouses:\n"
                             "        WH1: {ship_to: {name: Dock, street1: 1 Main St, city: Austin, state: TX,"
                             " postal_code: '78701', country: US, phone: '5550100'}}\n"
                             "      suppliers:\n"
                             "        S1: {ship_from: {name: Acme, street1: 2 Side St, city: Dallas, state: TX,"
                             " postal_code: '75201', country: US, phone: '5550101'}}\n";

static cJSON *po_rec(int cono, const char *wh, const char *status, double ordered, double received)
{
    char t[700];
    snprintf(t, sizeof t,
             "{\"kind\":\"purchase_order\",\"cono\":%d,\"po\":\"P1\",\"order_type\":\"PP1\",\"warehouse\":\"%s\","
             "\"supplier\":{\"id\":\"S1\",\"name\":\"Acme\"},\"status\":\"%s\",\"lines\":["
             "{\"line\":10,\"subline\":0,\"item\":\"A\",\"qty_ordered\":%g,\"qty_received\":%g}]}",
             cono, wh, status, ordered, received);
    cJSON *r = cJSON_Parse(t);
    ck_assert_ptr_nonnull(r);
    return r;
}

static int po_taken(mlc_store *st, const mlc_map *map, const mlc_push_options *o, cJSON *rec)
{
    int t = -1;
    mlc_error e;
    ck_assert_msg(mlc_push_taken_in(st, map, o, rec, &t, &e) == MLC_OK, "%s", e.msg);
    cJSON_Delete(rec);
    return t;
}

/* A receipt voided before it was posted, and its shipment shipped again under a new
 * label: the row starts over with the new label; the voided label's record again is
 * taken in as it is (a duplicate), the new label's is not until accept revives it. */
START_TEST(relabel_revives_a_voided_receipt)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    int created, revived = -1;
    mlc_store_receipt r = {.idem_key = "se-9/1000123/10/0", .shipment_id = "se-9", .po = "1000123", .line = 10,
                           .qty = 2, .route = "po_receipt", .tracking = "1Z9"};
    ck_assert_int_eq(mlc_store_receipt_add(st, &r, &created, &e), MLC_OK);
    /* only a voided row changes */
    ck_assert_int_eq(mlc_store_receipt_relabel(st, r.id, "1Z10", "ups", "2026-12-01", "{}", &revived, &e), MLC_OK);
    ck_assert_int_eq(revived, 0);
    ck_assert_int_eq(mlc_store_receipt_update(st, r.id, MLC_RECEIPT_VOIDED, 3, 99, "voided", 1, 5, &e), MLC_OK);
    cJSON *old = ship_rec("se-9", 0, 0, "[{\"qty\":2,\"po_line\":\"1000123/10/0\"}]"); /* tracking 1Z9 */
    ck_assert_int_eq(taken(st, old), 1);
    cJSON *fresh = ship_rec("se-9", 0, 0, "[{\"qty\":2,\"po_line\":\"1000123/10/0\"}]");
    cJSON_ReplaceItemInObject(fresh, "tracking_number", cJSON_CreateString("1Z10"));
    ck_assert_int_eq(taken(st, fresh), 0);
    ck_assert_int_eq(mlc_store_receipt_relabel(st, r.id, "1Z10", "ups", "2026-12-01", "{}", &revived, &e), MLC_OK);
    ck_assert_int_eq(revived, 1);
    mlc_store_receipt *got = NULL;
    ck_assert_int_eq(mlc_store_receipt_get(st, r.id, &got, &e), MLC_OK);
    ck_assert_int_eq(got->state, MLC_RECEIPT_PENDING);
    ck_assert_str_eq(got->tracking, "1Z10");
    ck_assert_int_eq(got->attempts, 0);
    ck_assert_int_eq(got->next_attempt_at, 0);
    ck_assert_ptr_null(got->last_error);
    mlc_store_receipt_free(got);
    ck_assert_int_eq(taken(st, fresh), 1);
    ck_assert_int_eq(mlc_store_receipt_relabel(st, r.id, "1Z11", "ups", "2026-12-01", "{}", &revived, &e), MLC_OK);
    ck_assert_int_eq(revived, 0); /* no longer voided: a third label does not reset it */
    cJSON_Delete(old);
    cJSON_Delete(fresh);
    mlc_store_close(st);
    free(d);
}
END_TEST

START_TEST(outbox_po_and_the_link_acknowledgement)
{
    char *d, path[512];
    mlc_store *st = open_tmp(&d, path, sizeof path);
    mlc_error e;
    mlc_config *cfg = NULL;
    mlc_map *map = NULL;
    mlc_push_options o;
    ck_assert_msg(mlc_config_load_string(PO_YAML, strlen(PO_YAML), "t.yaml", NULL, &cfg, &e) == MLC_OK, "%s", e.msg);
    ck_assert_msg(mlc_map_new(cfg, &map, &e) == MLC_OK, "%s", e.msg);
    ck_assert_int_eq(mlc_push_options_from_config(cfg, &o, &e), MLC_OK);
    ck_assert_int_eq(mlc_config_int(cfg, "cloudsuite.redeliver_hours"), 24); /* the default */

    /* the namespaces are apart: a PO number and a shipment id never meet */
    mlc_store_outbox_item *it;
    size_t n;
    ck_assert_int_eq(mlc_store_outbox_put(st, "po", "P1", "{\"po\":\"P1\"}", 100, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_put(st, "shipment", "P1", "{\"s\":1}", 50, &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_list(st, "po", 10, &it, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(it[0].record, "{\"po\":\"P1\"}");
    mlc_store_outbox_free(it, n);
    ck_assert_int_eq(mlc_store_outbox_delete(st, "po", "P1", &e), MLC_OK);
    ck_assert_int_eq(mlc_store_outbox_list(st, "shipment", 10, &it, &n, &e), MLC_OK);
    ck_assert_int_eq(n, 1); /* pull-shipments' record stays */
    mlc_store_outbox_free(it, n);

    /* what push-shipments would act on */
    int w = -1;
    cJSON *rec = po_rec(100, "WH1", "20", 5, 0);
    ck_assert_int_eq(mlc_push_wants(map, &o, rec, &w, &e), MLC_OK);
    ck_assert_int_eq(w, 1); /* items to ship */
    cJSON_Delete(rec);
    rec = po_rec(100, "WH1", "20", 5, 5);
    ck_assert_int_eq(mlc_push_wants(map, &o, rec, &w, &e), MLC_OK);
    ck_assert_int_eq(w, 0); /* all received: nothing to ship */
    cJSON_Delete(rec);
    rec = po_rec(100, "WH1", "85", 5, 0);
    ck_assert_int_eq(mlc_push_wants(map, &o, rec, &w, &e), MLC_OK);
    ck_assert_int_eq(w, 1); /* closed: its shipment is to be cancelled (mapping.closed_po: cancel) */
    cJSON_Delete(rec);
    rec = po_rec(200, "WH1", "20", 5, 0);
    ck_assert_int_eq(mlc_push_wants(map, &o, rec, &w, &e), MLC_ERR_INPUT); /* another company */
    int t = -1;
    ck_assert_int_eq(mlc_push_taken_in(st, map, &o, rec, &t, &e), MLC_ERR_INPUT);
    cJSON_Delete(rec);
    rec = po_rec(100, "WH404", "20", 5, 0);
    ck_assert_int_eq(mlc_push_wants(map, &o, rec, &w, &e), MLC_ERR_INPUT); /* unmapped warehouse */
    cJSON_Delete(rec);

    /* the link table's acknowledgement */
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "20", 5, 0)), 0); /* no link */
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "20", 5, 5)), 1); /* nothing to ship */
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "85", 5, 0)), 1); /* closed, never pushed */
    cJSON *payload = NULL;
    rec = po_rec(100, "WH1", "20", 5, 0);
    ck_assert_int_eq(mlc_map_po_to_v2(map, rec, &payload, &e), MLC_OK);
    cJSON_Delete(rec);
    char hash[65];
    mlc_map_hash(payload, hash);
    cJSON_Delete(payload);
    mlc_store_link l = {.po = "P1", .order_key = "mlc-100-P1", .api = "v2", .hash = hash, .status = "open"};
    ck_assert_int_eq(mlc_store_link_put(st, &l, &e), MLC_OK);
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "20", 5, 0)), 0); /* an intent alone: not yet */
    l.shipstation_id = "se-1";
    ck_assert_int_eq(mlc_store_link_put(st, &l, &e), MLC_OK);
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "20", 5, 0)), 1); /* linked, same content */
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "20", 6, 0)), 0); /* changed since */
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "85", 5, 0)), 0); /* closed: still to cancel */
    l.status = "cancelled";
    ck_assert_int_eq(mlc_store_link_put(st, &l, &e), MLC_OK);
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "85", 5, 0)), 1); /* cancelled */
    o.cancel_closed = 0;
    l.status = "open";
    ck_assert_int_eq(mlc_store_link_put(st, &l, &e), MLC_OK);
    ck_assert_int_eq(po_taken(st, map, &o, po_rec(100, "WH1", "85", 5, 0)), 1); /* closed_po: ignore */

    mlc_map_free(map);
    mlc_config_free(cfg);
    mlc_store_close(st);
    free(d);
}
END_TEST

static void add_cases(TCase *tc)
{
    tcase_add_test(tc, outbox_and_the_ledger_acknowledgement);
    tcase_add_test(tc, outbox_po_and_the_link_acknowledgement);
    tcase_add_test(tc, relabel_revives_a_voided_receipt);
    tcase_add_test(tc, migrates_and_reopens);
    tcase_add_test(tc, links_seen_and_rejected);
    tcase_add_test(tc, inbox_retry_and_quarantine);
    tcase_add_test(tc, receipt_ledger_duplicate_claim_and_audit);
    tcase_add_test(tc, audit_by_shipment_and_po);
    tcase_add_test(tc, two_processes_write_at_once);
    tcase_add_test(tc, two_processes_claim_the_same_receipts);
    tcase_add_test(tc, locked_database_gives_busy);
    tcase_add_test(tc, two_processes_open_a_new_database_at_once);
    tcase_add_test(tc, runs_last_success_last_error_and_prune);
    tcase_add_test(tc, cursor_list_oldest_receipts_and_v1_upgrade);
    tcase_add_test(tc, named_lock_excludes_and_is_released);
    tcase_add_test(tc, named_lock_waiters_never_overlap);
    tcase_add_test(tc, shared_counter_loses_nothing);
    tcase_add_test(tc, text_not_utf8_is_stored);
}

static Suite *suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("sqlite");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, use_sqlite, NULL);
    add_cases(tc);
    suite_add_tcase(s, tc);
    TCase *url = tcase_create("url");
    tcase_add_test(url, url_rules);
    suite_add_tcase(s, url);
    if (getenv("MLC_TEST_PG_HOST")) {
        TCase *pg = tcase_create("postgresql");
        tcase_set_timeout(pg, 120);
        tcase_add_unchecked_fixture(pg, use_pg, NULL);
        add_cases(pg);
        tcase_add_test(pg, pg_database_belongs_to_one_profile);
        tcase_add_test(pg, pg_lost_connection);
        suite_add_tcase(s, pg);
    }
    return s;
}

TU_MAIN(suite)
