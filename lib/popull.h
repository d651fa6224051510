/*
 * popull.h: the pull-pos protocol: which changed CloudSuite POs are emitted as
 * purchase_order records, and when the cursor may move (see mlc-pull-pos(1)).
 *
 * The cursor (stream "pull-pos") is a change day; each poll re-reads
 * cloudsuite.poll_overlap_days before it and drops POs whose content hash
 * (mlc_po_hash, store namespace "po") is the one already emitted, so a PO is
 * neither missed nor re-emitted. A PO never emitted whose lowest line status is
 * outside the open range is skipped. Hashes are written after each record is
 * out; the cursor moves only when every changed PO was handled and written
 * (mlc_popull_commit). A record written is also kept (store outbox, namespace
 * "po") until push-shipments' link table reflects it, and written again first by
 * the next runs (redelivery, below): a reader that dies before linking a PO does
 * not lose it to its content hash.
 *
 * Not here: M3 calls and the record's shape (lib/po), SQL (lib/store), writing
 * records (the caller's emit callback), option parsing (cmd/pull_pos.c), what
 * push-shipments makes of a record (lib/push: mlc_push_wants, mlc_push_taken_in).
 * Ownership: m3, cfg, st and log are borrowed and must outlive the poller;
 * records passed to emit belong to the callback.
 */
#ifndef MLC_POPULL_H
#define MLC_POPULL_H

#include "config.h"
#include "ctx.h"
#include "error.h"
#include "log.h"
#include "m3.h"
#include "outbox.h"
#include "store.h"
#include <cjson/cJSON.h>

typedef struct mlc_popull mlc_popull;

typedef struct mlc_popull_opts {
    const char *since_day; /* yyyyMMdd to poll from instead of the cursor, or NULL */
    int lo, hi;            /* lowest-status range of POs open for shipping */
    long long limit;       /* emit at most this many records (the cursor then stays); -1: all */
    int no_cursor;         /* neither read nor move the cursor or the content hashes */
} mlc_popull_opts;

typedef struct mlc_popull_stats {
    long changed, emitted, unchanged, closed_skipped, failed;
    mlc_outbox_counts outbox; /* the outbox (mlc_popull_redeliver), this run */
} mlc_popull_stats;

/* Writes rec (the callback's). MLC_OK when it is out; any other code: nothing
 * more is emitted (e.g. the reader went away) and the cursor stays. */
typedef mlc_err (*mlc_popull_emit_fn)(void *ud, cJSON *rec);
/* n POs failed with e (n > 1: a whole bulk read failed); the poll goes on and
 * the cursor stays. */
typedef void (*mlc_popull_fail_fn)(void *ud, const mlc_error *e, long n);

/* st may be NULL only with no_cursor. */
mlc_err mlc_popull_new(mlc_m3 *m3, const mlc_config *cfg, mlc_store *st, mlc_log *log, const mlc_popull_opts *o,
                       mlc_popull **out, mlc_error *err);
void mlc_popull_free(mlc_popull *p);
/* After SIGTERM/SIGINT on ctx the chunk in hand is finished and no new read starts. */
void mlc_popull_stop_on(mlc_popull *p, mlc_ctx *ctx);
/* Polls from since_day, or the cursor minus the overlap, or (first run,
 * no_cursor) mlc_po_initial_day; reads the changed POs in chunks of
 * cloudsuite.bulk_read_size and emits each one as above. Returns an error that
 * stopped the poll before any PO was read (cursor, the list of changes); a PO
 * that fails is reported to fail and the poll goes on. */
mlc_err mlc_popull_poll(mlc_popull *p, mlc_popull_emit_fn emit, mlc_popull_fail_fn fail, void *ud, mlc_error *err);
/* Moves the cursor to the latest change day seen when the poll handled every
 * changed PO and the caller's output was written whole (written = 1, i.e. its
 * final flush worked): no failure, no limit reached, no stop, no refused
 * record. Does nothing otherwise, or with no_cursor. */
mlc_err mlc_popull_commit(mlc_popull *p, int written, mlc_error *err);
const mlc_popull_stats *mlc_popull_stats_get(const mlc_popull *p);

/* Redelivery (mlc-pull-pos(1), REDELIVERY), the twin of pull-shipments': each
 * record push-shipments would act on (mlc_push_wants) is kept in the store's
 * outbox (namespace "po", key the PO number) when written. mlc_popull_redeliver()
 * looks at every record kept: taken in (mlc_push_taken_in: linked with the same
 * content, or rejected by push-shipments' checks) -> forgotten; kept longer than
 * the window -> forgotten with a warning and an audit event redelivery_expired;
 * else written again, as it was, with "source":"redeliver" (counted against
 * --limit). The window is cloudsuite.redeliver_hours (0: nothing is kept or
 * written again; also off with no_cursor or when the mapping cannot be read). An emit error stops it, as in the poll
 * (which then emits nothing; mlc_popull_commit does not move the cursor); the
 * error returned is the store's. Run it before mlc_popull_poll (same emit). */
mlc_err mlc_popull_redeliver(mlc_popull *p, mlc_popull_emit_fn emit, void *ud, mlc_error *err);

#endif
