/*
 * store.h: mlc's durable state: one SQLite file per profile
 * ($XDG_STATE_HOME/mlc/<profile>.db by default; WAL, busy timeout), or one
 * PostgreSQL database per profile (`state: postgresql://...`, for several hosts
 * sharing one ledger). Versioned migrations applied on open, safe for several
 * mlc processes (and hosts) at once. Both engines behind lib/db.h.
 *
 * Tables (mlc-internals(7), STATE): cursor (per stream), seen (content hashes per
 * namespace: POs emitted, items synced), link (PO <-> ShipStation), receipt (the
 * exactly-once ledger and retry queue), audit (append-only trail), rejected (bad
 * input), inbox (webhook notifications), run (one row per command run, for
 * `mlc status`), shared (small values every process updates atomically: the
 * request budget, the token cache), outbox (records written to a pipe, kept
 * until the ledger has taken them in).
 *
 * All SQL of mlc lives here, behind functions named for what they do, so that
 * another backend can follow. Not here: HTTP, JSON records, policy (when to
 * retry is lib/backoff's and the caller's; the store only records it).
 *
 * Ownership: mlc_store_open() returns a store closed by mlc_store_close().
 * Strings returned through out-parameters are malloc'd and freed by the caller
 * unless said otherwise. Struct results are freed with their _free function.
 */
#ifndef MLC_STORE_H
#define MLC_STORE_H

#include "error.h"
#include <stddef.h>
#include <stdint.h>

typedef struct mlc_store mlc_store;

#define MLC_STORE_SCHEMA_VERSION 8

/* path: database file (its directory is created 0700), or a postgresql:// URL
 * (then as mlc_store_open_with without password or profile). busy_ms: how long
 * to wait for a lock held by another process before MLC_ERR_BUSY (0 = default 10 s). */
mlc_err mlc_store_open(const char *path, int busy_ms, mlc_store **out, mlc_error *err);

/* Where and how to open a store.
 * location: a SQLite file, or a postgresql:// (postgres://) URL in libpq's form.
 *   A URL holding a password is refused; off loopback only sslmode=verify-full is
 *   accepted (and is the default there) - mlc_store_url_check.
 * password: PostgreSQL only, or NULL (then libpq's own: peer, .pgpass...).
 * profile: recorded in a new PostgreSQL database; a database holding another
 *   profile's state is refused (MLC_ERR_CONFIG). NULL: not checked. */
typedef struct mlc_store_opts {
    const char *location;
    const char *password;
    const char *profile;
    int busy_ms;
} mlc_store_opts;
mlc_err mlc_store_open_with(const mlc_store_opts *o, mlc_store **out, mlc_error *err);
void mlc_store_close(mlc_store *st);
int mlc_store_schema_version(mlc_store *st);
/* 1 if location names PostgreSQL (postgresql:// or postgres://). */
int mlc_store_is_url(const char *location);
/* MLC_ERR_CONFIG with the reason if url may not be used (a password in it; off
 * loopback, an sslmode other than verify-full; not a URL libpq parses). */
mlc_err mlc_store_url_check(const char *url, mlc_error *err);
/* "sqlite" / "postgresql"; and the store's name for messages (file, or URL
 * without password). Borrowed. */
const char *mlc_store_backend(mlc_store *st);
const char *mlc_store_name(mlc_store *st);

/* Explicit transactions (SQLite: IMMEDIATE, takes the write lock at once). Nesting is not supported. */
mlc_err mlc_store_begin(mlc_store *st, mlc_error *err);
mlc_err mlc_store_commit(mlc_store *st, mlc_error *err);
void mlc_store_rollback(mlc_store *st);

/* Current time as RFC 3339 UTC (writes at most 32 bytes). */
void mlc_store_now(char out[32]);

/* ---- cursors: one opaque string per stream ("pull-pos", "pull-shipments:v2"...) ---- */
mlc_err mlc_store_cursor_get(mlc_store *st, const char *stream, char **value, mlc_error *err); /* *value NULL if none */
mlc_err mlc_store_cursor_set(mlc_store *st, const char *stream, const char *value, mlc_error *err);

/* ---- rejected input ---- */
/* line: NUL-terminated text (a PO number, a message) or NULL. */
mlc_err mlc_store_reject(mlc_store *st, const char *command, const char *source, unsigned long lineno,
                         const char *reason, const char *line, mlc_error *err);
/* The raw input line, len bytes, stored whole as a blob: a NUL byte or invalid
 * UTF-8 inside it is kept, not cut off. */
mlc_err mlc_store_reject_n(mlc_store *st, const char *command, const char *source, unsigned long lineno,
                           const char *reason, const char *line, size_t len, mlc_error *err);
long mlc_store_rejected_count(mlc_store *st);

/* ---- seen-content hashes (pull-pos "po", sync-items "item:m3"/"item:ss") ---- */
/* *changed = 1 if key is new or its hash differs (nothing is written). */
mlc_err mlc_store_seen_check(mlc_store *st, const char *ns, const char *key, const char *hash, int *changed,
                             mlc_error *err);
mlc_err mlc_store_seen_set(mlc_store *st, const char *ns, const char *key, const char *hash, mlc_error *err);
/* Looks up the hash only (*hash NULL if none). */
mlc_err mlc_store_seen_get(mlc_store *st, const char *ns, const char *key, char **hash, mlc_error *err);
mlc_err mlc_store_seen_delete(mlc_store *st, const char *ns, const char *key, mlc_error *err);
/* Every key of a namespace (up to max), oldest first; free with mlc_store_keys_free. */
mlc_err mlc_store_seen_keys(mlc_store *st, const char *ns, size_t max, char ***keys, size_t *n, mlc_error *err);
void mlc_store_keys_free(char **keys, size_t n);

/* ---- outbox: records a command wrote to its output (a pipe) and keeps until
 * their consumer has taken them in (pull-shipments: until post-receipts' ledger
 * holds them; pull-pos: until push-shipments' link table does), per namespace
 * ("shipment", "po") and key (the shipment_id, the PO number). ---- */
typedef struct mlc_store_outbox_item {
    char *key;
    char *record;        /* the record as written (JSON text) */
    int64_t emitted_at;  /* unix s this content was first written */
    int64_t sent_at;     /* unix s it was last written */
    int sends;           /* times written */
} mlc_store_outbox_item;
/* Keeps (or replaces: a changed record starts over, sends 1) key's record. */
mlc_err mlc_store_outbox_put(mlc_store *st, const char *ns, const char *key, const char *record, int64_t emitted_at,
                             mlc_error *err);
/* Up to max records of a namespace, oldest emitted_at first; free with
 * mlc_store_outbox_free. */
mlc_err mlc_store_outbox_list(mlc_store *st, const char *ns, size_t max, mlc_store_outbox_item **items, size_t *n,
                              mlc_error *err);
void mlc_store_outbox_free(mlc_store_outbox_item *items, size_t n);
/* The record was written again at sent_at (sends + 1). */
mlc_err mlc_store_outbox_sent(mlc_store *st, const char *ns, const char *key, int64_t sent_at, mlc_error *err);
/* Taken in (or given up): forgotten. A key not held is no error. */
mlc_err mlc_store_outbox_delete(mlc_store *st, const char *ns, const char *key, mlc_error *err);

/* ---- links: PO <-> ShipStation ---- */
typedef struct mlc_store_link {
    char *po;
    char *order_key;        /* mlc's idempotency key (external_shipment_id / orderKey) */
    char *shipstation_id;   /* se-... or V1 orderId, NULL until known */
    char *api;              /* "v2" / "v1" */
    char *hash;             /* content hash of the payload last sent */
    char *status;           /* open / cancelled / shipped */
    /* the PO's routing facts as sent (M3 ORTY, WHLO, SUNO), NULL if unknown; a
     * put with NULL keeps what the link had */
    char *order_type, *warehouse, *supplier;
    int64_t settle_after;   /* an intent whose create call may still be executing until
                             * then (unix s; 0 = none): not looked up before */
} mlc_store_link;
void mlc_store_link_free(mlc_store_link *l);
/* MLC_ERR_NOTFOUND if no link (no message set). */
mlc_err mlc_store_link_get(mlc_store *st, const char *po, mlc_store_link **out, mlc_error *err);
mlc_err mlc_store_link_by_key(mlc_store *st, const char *order_key, mlc_store_link **out, mlc_error *err);
mlc_err mlc_store_link_by_shipstation_id(mlc_store *st, const char *ssid, mlc_store_link **out, mlc_error *err);
mlc_err mlc_store_link_put(mlc_store *st, const mlc_store_link *l, mlc_error *err);
/* How many links of an API ("v2"/"v1") the store holds (0: a fresh state). */
mlc_err mlc_store_link_count(mlc_store *st, const char *api, long *n, mlc_error *err);
/* Records, as a create call starts, until when it may still be executing. */
mlc_err mlc_store_link_set_settle(mlc_store *st, const char *po, int64_t settle_after, mlc_error *err);

/* ---- webhook inbox ---- */
mlc_err mlc_store_inbox_add(mlc_store *st, const char *resource_type, const char *resource_url, const char *body,
                            mlc_error *err);
typedef struct mlc_store_inbox_item {
    int64_t id;
    char *resource_type;
    char *resource_url;
    char *body;
    int attempts;            /* follow-ups that failed so far */
    int64_t next_attempt_at; /* unix seconds; 0 = now */
    char *last_error;        /* why the last follow-up failed, or NULL */
    char *failed_at;         /* quarantined (RFC 3339), or NULL */
    char *received_at, *processed_at;
} mlc_store_inbox_item;
/* Up to max items to fetch now (not processed, not failed, next attempt due),
 * oldest first; *n set. Free with mlc_store_inbox_free. */
mlc_err mlc_store_inbox_pending(mlc_store *st, size_t max, mlc_store_inbox_item **items, size_t *n, mlc_error *err);
/* Up to max items for operators: every one not processed (waiting, retrying,
 * failed), or with all every one. */
mlc_err mlc_store_inbox_list(mlc_store *st, int all, size_t max, mlc_store_inbox_item **items, size_t *n,
                             mlc_error *err);
void mlc_store_inbox_free(mlc_store_inbox_item *items, size_t n);
mlc_err mlc_store_inbox_done(mlc_store *st, int64_t id, mlc_error *err);
/* A follow-up failed, to be tried again at next_attempt_at. */
mlc_err mlc_store_inbox_retry(mlc_store *st, int64_t id, int attempts, int64_t next_attempt_at, const char *error,
                              mlc_error *err);
/* Quarantined: never fetched again, kept with its reason for `mlc queue --webhooks`. */
mlc_err mlc_store_inbox_fail(mlc_store *st, int64_t id, int attempts, const char *reason, mlc_error *err);

/* ---- receipt ledger (exactly-once protocol, mlc-internals(7)) ---- */
typedef enum {
    MLC_RECEIPT_PENDING,
    MLC_RECEIPT_IN_FLIGHT,
    MLC_RECEIPT_POSTED,
    MLC_RECEIPT_QUEUED,        /* transient failure, waiting for next_attempt_at */
    MLC_RECEIPT_EXHAUSTED,
    MLC_RECEIPT_NEEDS_REVIEW,
    MLC_RECEIPT_VOIDED,        /* shipment voided before posting */
    MLC_RECEIPT_IN_DOUBT,      /* the post's outcome is unknown: settled after settle_after */
    MLC_RECEIPT_ALREADY_POSTED,/* M3 already carries it (its delivery note on the line): not posted */
    MLC_RECEIPT_SENT,          /* BOD route: queued in ION (IMS 2xx), not yet seen in M3 */
    MLC_RECEIPT__COUNT
} mlc_receipt_state;
const char *mlc_receipt_state_name(mlc_receipt_state s);
int mlc_receipt_state_parse(const char *s, mlc_receipt_state *out);

typedef struct mlc_store_receipt {
    int64_t id;
    char *idem_key;           /* shipment_id/po/line/subline */
    char *shipment_id;
    char *po;
    int line, subline;
    double qty;
    char *route;              /* po_receipt / goods_receipt */
    char *tracking;           /* delivery note text */
    char *carrier;
    char *ship_date;          /* RFC 3339 */
    mlc_receipt_state state;
    int attempts;
    int64_t next_attempt_at;  /* unix seconds, 0 = now */
    char *last_error;
    int has_before;           /* rvqa_before valid */
    double rvqa_before;       /* PO line received qty read before the post */
    char *shipment_json;      /* the original shipment record */
    char *created_at, *updated_at;
    int64_t call_started_at;  /* unix s the last post call started (0 = none) */
    int64_t settle_after;     /* in_flight/in_doubt: the call may still be executing until
                               * then (deadline + gateway timeout + margin); -1 = claimed,
                               * no call sent yet; 0 = unknown (rows of schema 1) */
} mlc_store_receipt;
void mlc_store_receipt_free(mlc_store_receipt *r);
void mlc_store_receipts_free(mlc_store_receipt **rs, size_t n);

/* Inserts a pending receipt (fields of r: idem_key, shipment_id, po, line, subline,
 * qty, route, tracking, carrier, ship_date, shipment_json). *created = 0 and
 * r->id set to the existing row if the idem_key is already known. */
mlc_err mlc_store_receipt_add(mlc_store *st, mlc_store_receipt *r, int *created, mlc_error *err);
mlc_err mlc_store_receipt_get(mlc_store *st, int64_t id, mlc_store_receipt **out, mlc_error *err);
/* Moves a receipt to a state; attempts/next_attempt/last_error/rvqa_before updated
 * as given (has_before < 0 leaves rvqa_before alone). */
mlc_err mlc_store_receipt_update(mlc_store *st, int64_t id, mlc_receipt_state state, int attempts,
                                 int64_t next_attempt_at, const char *last_error, int has_before,
                                 double rvqa_before, mlc_error *err);
/* A voided receipt whose shipment was shipped again under a new label: takes the
 * new label's tracking, carrier, ship date and record, and starts over as pending
 * (attempts, errors, the RVQA before and the call window cleared). Only a row still
 * in state voided changes; *revived says whether this one did. */
mlc_err mlc_store_receipt_relabel(mlc_store *st, int64_t id, const char *tracking, const char *carrier,
                                  const char *ship_date, const char *shipment_json, int *revived, mlc_error *err);
/* Sets the receipt route once it is known. */
mlc_err mlc_store_receipt_set_route(mlc_store *st, int64_t id, const char *route, mlc_error *err);
/* Atomically claims a receipt for posting: moves it from one of the states in
 * `from` to IN_FLIGHT with rvqa_before recorded (settle_after -1: no call yet),
 * only if it is still in one of them. *claimed = 0 if another process got it first. */
mlc_err mlc_store_receipt_claim(mlc_store *st, int64_t id, unsigned from_mask, double rvqa_before, int *claimed,
                                mlc_error *err);
/* Records, just before the call is sent, when it starts and until when it may still
 * be executing (state and the rest unchanged). */
mlc_err mlc_store_receipt_set_call(mlc_store *st, int64_t id, int64_t started_at, int64_t settle_after,
                                   mlc_error *err);

typedef struct mlc_store_receipt_filter {
    unsigned state_mask;      /* bit (1u << state); 0 = all */
    const char *po;           /* NULL = any */
    const char *shipment_id;  /* NULL = any */
    const char *since;        /* RFC 3339, updated_at >= since; NULL = any */
    int due_only;             /* only next_attempt_at <= now */
    size_t limit;             /* 0 = no limit */
} mlc_store_receipt_filter;
mlc_err mlc_store_receipt_list(mlc_store *st, const mlc_store_receipt_filter *f, mlc_store_receipt ***out,
                               size_t *n, mlc_error *err);
/* Counts per state into counts[MLC_RECEIPT__COUNT]. */
mlc_err mlc_store_receipt_counts(mlc_store *st, long counts[MLC_RECEIPT__COUNT], mlc_error *err);

/* Oldest created_at (RFC 3339) of the receipts in each state into
 * oldest[MLC_RECEIPT__COUNT] (NULL where none; free each with free()). */
mlc_err mlc_store_receipt_oldest(mlc_store *st, char *oldest[MLC_RECEIPT__COUNT], mlc_error *err);

/* ---- BOD messages of receipts (receipts.transport: bod) ----
 * One row per receipt: its IMS messageId and BOD documentId, created once and
 * reused on every send; message ids are unique across receipts. */
typedef struct mlc_store_bod {
    int64_t receipt_id;
    char *message_id, *document_id;
    int64_t sent_at;   /* unix seconds of the last send attempt, 0 = never */
    int sends;         /* send attempts */
    int in_doubt;      /* the last send got no answer (or the process died during it) */
} mlc_store_bod;
void mlc_store_bod_free(mlc_store_bod *b);
/* The receipt's message, created with message_id/document_id if it has none
 * (those are ignored when it exists). */
mlc_err mlc_store_bod_get_or_create(mlc_store *st, int64_t receipt_id, const char *message_id,
                                    const char *document_id, mlc_store_bod **out, mlc_error *err);
/* MLC_ERR_NOTFOUND if the receipt has no message. */
mlc_err mlc_store_bod_get(mlc_store *st, int64_t receipt_id, mlc_store_bod **out, mlc_error *err);
mlc_err mlc_store_bod_update(mlc_store *st, int64_t receipt_id, int64_t sent_at, int sends, int in_doubt,
                             mlc_error *err);

/* ---- cursors, listed (for `mlc status`) ---- */
typedef struct mlc_store_cursor {
    char *stream, *value, *updated_at;
} mlc_store_cursor;
mlc_err mlc_store_cursor_list(mlc_store *st, mlc_store_cursor **out, size_t *n, mlc_error *err);
void mlc_store_cursor_list_free(mlc_store_cursor *c, size_t n);

/* ---- command runs (what `mlc status` reads) ---- */
typedef struct mlc_store_run {
    int64_t id;
    char *command;            /* "pull-pos", "webhook serve", ... */
    int64_t started_at;       /* unix seconds */
    int64_t ended_at;         /* unix seconds, 0 while running (or if the process died) */
    int exit_code;            /* -1 while running */
    char *counts;             /* JSON object text, or NULL */
    char *error;              /* the run's last error message (redacted), or NULL */
} mlc_store_run;
/* Records a run that has started; *id for mlc_store_run_end. */
mlc_err mlc_store_run_begin(mlc_store *st, const char *command, int64_t started_at, int64_t *id, mlc_error *err);
/* Completes it. counts (JSON text) and error may be NULL. */
mlc_err mlc_store_run_end(mlc_store *st, int64_t id, int64_t ended_at, int exit_code, const char *counts,
                          const char *error, mlc_error *err);
/* Per command that ever ran: its last successful run (exit code 0) and its last
 * run of any outcome, by command name. last_ok[i] / last[i] may be NULL-filled
 * structs (id 0) when there is none. Free with mlc_store_run_summary_free. */
typedef struct mlc_store_run_summary {
    char *command;
    mlc_store_run last_ok;    /* id 0 if never successful */
    mlc_store_run last;       /* the most recent run */
    long runs, failures;      /* all recorded runs / those with exit code != 0 */
} mlc_store_run_summary;
mlc_err mlc_store_run_summary_list(mlc_store *st, mlc_store_run_summary **out, size_t *n, mlc_error *err);
void mlc_store_run_summary_free(mlc_store_run_summary *s, size_t n);
/* The most recent finished run that recorded an error (*out NULL if none). */
mlc_err mlc_store_run_last_error(mlc_store *st, mlc_store_run **out, mlc_error *err);
void mlc_store_run_free(mlc_store_run *r);
/* Deletes finished runs older than before (unix seconds), keeping each command's
 * last successful run. */
mlc_err mlc_store_run_prune(mlc_store *st, int64_t before, mlc_error *err);

/* ---- audit trail (append-only) ---- */
/* receipt_id may be 0 for events not tied to a receipt. detail: JSON text or plain text,
 * never secrets (callers pass it through mlc_log_redact). */
mlc_err mlc_store_audit(mlc_store *st, int64_t receipt_id, const char *event, const char *detail, mlc_error *err);
typedef struct mlc_store_audit_entry {
    int64_t id, receipt_id;
    char *at, *event, *detail;
} mlc_store_audit_entry;
mlc_err mlc_store_audit_list(mlc_store *st, int64_t receipt_id, mlc_store_audit_entry **out, size_t *n,
                             mlc_error *err);
/* The audit of every receipt of a shipment and/or a PO (NULL = any; at least one
 * must be given, else MLC_ERR_USAGE), oldest first. */
mlc_err mlc_store_audit_list_for(mlc_store *st, const char *shipment_id, const char *po,
                                 mlc_store_audit_entry **out, size_t *n, mlc_error *err);
void mlc_store_audit_free(mlc_store_audit_entry *e, size_t n);

/* ---- sharing between processes (and, on a shared backend, hosts) ----
 * Named locks and small shared values, for what must be one per profile however
 * many processes or hosts run it: the receipt poster, the ShipStation request
 * budget, the ION login. mlc-internals(7), STATE. */

/* 1 when the state is shared between hosts (a database server), 0 for a local
 * SQLite file. Callers use it to choose where cross-process state lives. */
int mlc_store_is_shared(mlc_store *st);

/* Names: 1-64 characters of [A-Za-z0-9._:-] (else MLC_ERR_USAGE). */

/* A named exclusive lock seen by every process sharing the state (and every host
 * on a shared backend). wait: 1 blocks until it is free, 0 tries once. *got = 1
 * when held, 0 when another holder has it (only with wait 0). Released by
 * mlc_store_unlock, mlc_store_close, or the death of the process (SQLite: flock
 * on "<db>.<name>.lock", 0600; a server: the session ends with it). Taking a name
 * this store already holds is MLC_ERR_USAGE; two stores of one process exclude
 * each other like two processes do. A child of fork() shares the parent's locks
 * (SQLite: the descriptor) until it execs or exits: fork before locking. */
mlc_err mlc_store_lock(mlc_store *st, const char *name, int wait, int *got, mlc_error *err);
/* Releases a lock taken by mlc_store_lock; a name not held is ignored. */
void mlc_store_unlock(mlc_store *st, const char *name);

#define MLC_STORE_SHARED_MAX 65536 /* largest shared value, bytes */
/* Reads the value (old NULL, old_len 0 when there is none) and decides: return 1
 * with *newv (malloc'd, taken over by the store, at most MLC_STORE_SHARED_MAX
 * bytes) and *new_len to write it, 0 to keep the value as is, -1 to abort
 * (MLC_ERR_STORE, nothing written). It may be called more than once (a retried
 * transaction): no side effects beyond ud. Never sleep or call out inside it. */
typedef int (*mlc_store_shared_fn)(void *ud, const unsigned char *old, size_t old_len, unsigned char **newv,
                                   size_t *new_len);
/* Runs fn on the named value in one transaction: concurrent updates of a name
 * (any process, any host) are serialised and none is lost. Inside an explicit
 * transaction (mlc_store_begin) it runs as part of it. */
mlc_err mlc_store_shared_update(mlc_store *st, const char *name, mlc_store_shared_fn fn, void *ud,
                                mlc_error *err);
/* The value as last written (*value malloc'd, NULL and *len 0 when none). */
mlc_err mlc_store_shared_get(mlc_store *st, const char *name, unsigned char **value, size_t *len, mlc_error *err);

/* ---- copying a whole store (mlc state migrate) ----
 * Copies every table of `from` into `to` (ids kept; PostgreSQL sequences follow)
 * in one transaction of `to`, `from` held still meanwhile, then verifies per table
 * the row count and a content hash computed the same way on both sides (per row a
 * SHA-256 of every value as read, summed: order-free). `to` must be empty, hold
 * the very same content (then nothing is written: MLC_STORE_COPY_ALREADY), or
 * flags has MLC_STORE_COPY_FORCE (its rows are replaced); otherwise
 * MLC_ERR_CONFIG and MLC_STORE_COPY_REFUSED. A copy that does not verify is
 * MLC_ERR_STORE with MLC_STORE_COPY_DIFFERS. *checks (free()) has one entry per table whenever set. */
typedef enum {
    MLC_STORE_COPY_DONE,
    MLC_STORE_COPY_ALREADY,
    MLC_STORE_COPY_REFUSED,
    MLC_STORE_COPY_DIFFERS /* copied, but the check found a difference */
} mlc_store_copy_outcome;
enum { MLC_STORE_COPY_FORCE = 1 };
typedef struct mlc_store_table_check {
    const char *table;  /* static */
    long rows_from, rows_to;
    char hash_from[65], hash_to[65];
    int same;
} mlc_store_table_check;
mlc_err mlc_store_copy(mlc_store *from, mlc_store *to, int flags, mlc_store_table_check **checks, size_t *n,
                       mlc_store_copy_outcome *outcome, mlc_error *err);

#endif
