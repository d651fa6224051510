/*
 * receipt.h: goods receipts to CloudSuite, exactly once (mlc-internals(7),
 * EXACTLY-ONCE RECEIPTS). The engine behind post-receipts and replay.
 *
 *  accept:  a shipment record becomes one ledger row per PO line, `pending`, under
 *           the idempotency key shipment_id/po/line/subline; a second sighting is
 *           reported `duplicate` and never posted. A voided shipment voids its
 *           unposted rows (a posted one goes to needs_review, or is only noted in
 *           the audit, as receipts.void_after_receipt says).
 *  post:    due rows (pending, and queued whose time has come) are handled in
 *           batches: the PO lines' received quantity (RVQA) is read first (bulk
 *           PPS200MI/GetLine), each row is claimed `in_flight` with that value,
 *           then posted in bulk (PPS001MI/Receipt or MHS850MI/AddPOReceipt by the
 *           PO's order type). Before the claim, the PO lines' receipt transactions
 *           are read (EXPORTMI on cloudsuite.receipt_trace_table, MPLIND): a row
 *           whose delivery note (SUDO = tracking number) M3 already carries is
 *           `already_posted`, never posted (M3 is the memory, the ledger a cache).
 *           Just before the call, the ledger records when it starts and until when
 *           it may still be executing (settle_after = start + cloudsuite.timeout +
 *           cloudsuite.gateway_timeout + retry.in_doubt_margin). `posted` on
 *           success, `exhausted` with M3's message on a NOK (permanent: not
 *           retried blindly), `queued` when M3 cannot have run it (never sent,
 *           429, 503), and `in_doubt` when the outcome is unknown (timeout, reset,
 *           broken answer): nothing is read or decided before settle_after.
 *  recover: in_flight rows left by a crashed run and in_doubt rows are settled
 *           once past settle_after, by the receipt's own trace in M3 (its
 *           delivery note on the line: posted; absent: queued with backoff,
 *           `exhausted` after receipts.max_attempts); only without a trace (no
 *           tracking number, no readable table) by RVQA: grown by exactly the
 *           quantity means posted, unchanged not posted, anything else
 *           `needs_review`. A claim whose call was never sent is queued at once.
 * Only one poster per profile runs at a time (the store's named lock
 * "post-receipts", which spans hosts when the state is shared and is released
 * when its holder dies), so an in_flight row always belongs to a dead process. A PO line with a row
 * in doubt gets no other row posted until it is settled, so a reading of RVQA
 * (the fallback) always decides.
 * Every step is in the audit trail, with the original shipment JSON.
 *
 * receipts.transport: bod replaces the post step only (see "BOD transport" in
 * receipt.c): rows are sent as BODs through ION (lib/bod, lib/ims), become
 * `sent` on IMS's 2xx, `posted` when the PO line's RVQA shows them, and
 * `needs_review` (with the messageId) when M3 does not within bod.visible_within.
 *
 * Not here: reading shipments from ShipStation (lib/shipment), printing records.
 * Ownership: mlc_receipt_new() -> mlc_receipt_free(); m3, store, config and log
 * are borrowed. Rows passed to the callback are valid only during the call.
 */
#ifndef MLC_RECEIPT_H
#define MLC_RECEIPT_H

#include "config.h"
#include "ctx.h"
#include "error.h"
#include "log.h"
#include "m3.h"
#include "store.h"
#include <cjson/cJSON.h>

typedef struct mlc_receipt mlc_receipt;

/* status: "posted", "already_posted", "duplicate", "queued", "in_doubt", "exhausted",
 * "needs_review", "voided", "pending" (not yet posted, e.g. waiting for another row
 * of the same line), "sent" (BOD route: queued in ION, not yet seen in M3). */
typedef void (*mlc_receipt_cb)(void *ud, const mlc_store_receipt *row, const char *status);

/* lock_path: non-NULL takes the poster lock, mlc_store_lock(st, "post-receipts")
 * (waiting for another poster of the profile, on any host sharing the state),
 * held until mlc_receipt_free; on a local store also this lock file of older mlc
 * versions. NULL: no lock, for tests of a single process. */
mlc_err mlc_receipt_new(mlc_m3 *m3, mlc_store *st, const mlc_config *cfg, mlc_log *log, const char *lock_path,
                        mlc_receipt **out, mlc_error *err);
void mlc_receipt_free(mlc_receipt *r);

/* Clean stop: between M3 calls (BOD route: IMS sends) the engine asks
 * mlc_ctx_stopping(ctx) and, once a stop was asked, starts no new call (nor a
 * BOD re-send or advance ship notice): rows claimed for a call not made go back
 * to their earlier state (nothing is left in flight on purpose), and the post
 * and replay loops return MLC_OK with the rest still due. ctx is borrowed. */
void mlc_receipt_stop_on(mlc_receipt *r, mlc_ctx *ctx);

/* MLC_ERR_INPUT (message names the field) for a malformed shipment record. */
mlc_err mlc_receipt_accept(mlc_receipt *r, const cJSON *shipment, mlc_receipt_cb cb, void *ud, mlc_error *err);
/* The acknowledgement pull-shipments waits for before it forgets a record it
 * wrote (mlc-pull-shipments(1), REDELIVERY): *taken = 1 when the ledger in st
 * already reflects `shipment`, i.e. accepting it again would change nothing:
 * every PO line it ships has its row (any state); if delivered, none of them
 * still waits for delivery; if voided, none of the shipment's rows is pending,
 * queued or exhausted (a record with no line to receive: 1 at once).
 * MLC_ERR_INPUT (the message names the field) when post-receipts would refuse
 * the record (mlc_record_check with the profile's cono, or its shape): it is
 * never taken in. Needs no engine (no M3, no lock): st is borrowed. */
mlc_err mlc_receipt_taken_in(mlc_store *st, const cJSON *shipment, long long cono, int *taken, mlc_error *err);
/* Whether post-receipts would act on `shipment` at all: *wants = 1 when accepting it
 * writes or changes ledger rows (a PO line with a quantity above 0, or a void), 0
 * when there is nothing to take in; MLC_ERR_INPUT as above when it would refuse it.
 * No store needed. */
mlc_err mlc_receipt_wants(const cJSON *shipment, long long cono, int *wants, mlc_error *err);
mlc_err mlc_receipt_recover(mlc_receipt *r, mlc_receipt_cb cb, void *ud, mlc_error *err);
/* Posts everything due. Returns MLC_ERR_TRANSIENT if M3 could not be reached for
 * some rows (they stay queued), MLC_OK otherwise (outcomes via cb). */
mlc_err mlc_receipt_post_due(mlc_receipt *r, mlc_receipt_cb cb, void *ud, mlc_error *err);
/* Operator replay: makes the rows due now and posts them through the same path.
 * exhausted rows are replayed; needs_review only with force (reason recorded);
 * posted, already_posted and in_doubt rows are left alone. A row M3 already
 * carries (its delivery note on the line) is recorded already_posted instead
 * (dry_run: reported so, nothing written). dry_run: report only (M3 is read). */
mlc_err mlc_receipt_replay(mlc_receipt *r, const int64_t *ids, size_t n, int force, const char *reason,
                           int dry_run, mlc_receipt_cb cb, void *ud, mlc_error *err);

/* Counters of this engine's run. */
typedef struct mlc_receipt_stats {
    long accepted, duplicates, posted, queued, exhausted, needs_review, voided, m3_calls;
    long in_doubt, already_posted;
    long sent;   /* BOD route: sends queued in ION (or in doubt) */
} mlc_receipt_stats;
const mlc_receipt_stats *mlc_receipt_stats_get(const mlc_receipt *r);

#endif
