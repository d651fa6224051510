/*
 * push.h: purchase orders to ShipStation inbound shipments, exactly one per PO
 * (mlc-internals(7), EXACTLY-ONCE SHIPMENT CREATES). The engine behind
 * push-shipments.
 *
 *  intent:   mlc's key (external_shipment_id / orderKey, lib/map) is recorded in
 *            the store's link table BEFORE a V2 create; a later run that finds an
 *            intent without a ShipStation id looks the key up before creating
 *            again, so a crash or a lost answer never makes a second shipment.
 *            V1 upserts by orderKey, with an intent and its deadline too.
 *  batches:  creates go out mlc_push_options.batch_max at a time; an unchanged PO
 *            (same payload hash, open link) costs no call.
 *  in doubt: a create whose outcome is unknown (timeout, reset, broken answer, a
 *            killed run) may still be executing in ShipStation. Its intent records
 *            until when (settle_after = start + shipstation.timeout +
 *            retry.in_doubt_margin); the key is looked up (V2) or upserted again
 *            (V1) only after that, never before. Within a run a V2 batch is
 *            retried with backoff (retry.*) after that wait and a lookup of each
 *            key; a PO whose create is still in doubt from an earlier run is
 *            reported in_doubt.
 *  fresh:    no V2 link at all (a lost or moved state directory): every key is
 *            looked up, revision by revision, before anything is created.
 *            ShipStation is the memory, the link table a cache.
 *  changes:  V2 has no update: a changed linked PO is cancelled and re-created
 *            under the next key revision; V1 upserts with its orderId.
 *  closed:   a PO whose status is MLC_PUSH_PO_CLOSED_STATUS or more has its open
 *            shipment cancelled (mapping.closed_po: cancel) or left (ignore).
 *  stop:     once mlc_ctx_stopping() is true no new call starts: the POs not
 *            pushed get their pull-pos content hash forgotten (the next pull-pos
 *            emits them again); intents stay for the next run.
 *  dry run:  the request each PO would cause, with the key the real run would
 *            use (from the link table when a store is given; it is only read).
 *
 * Every PO's outcome goes to the caller's callback (mlc_push_cb), as
 * lib/receipt reports; this module prints nothing.
 *
 * Not here: mapping (lib/map), the API calls (lib/inbound), SQL (lib/store),
 * reading input lines and writing records (cmd/push_shipments.c).
 * Ownership: mlc_push_new() -> mlc_push_free(); ss, store, map and log are
 * borrowed (ss and store may be NULL in a dry run) and must outlive the engine.
 * Everything an outcome points to is valid only during the callback.
 */
#ifndef MLC_PUSH_H
#define MLC_PUSH_H

#include "config.h"
#include "ctx.h"
#include "error.h"
#include "log.h"
#include "map.h"
#include "shipstation.h"
#include "store.h"
#include <cjson/cJSON.h>
#include <stddef.h>

/* M3 purchase-order status (MPLINE PUSL; a PO record's "status" is its lowest
 * line status, lib/po) from which the PO is finished in M3 and needs no inbound
 * shipment any more. In M3's two-digit ladder 85 comes after 75 (received in
 * full) and is usually read as "invoiced" (the line closed by invoice matching);
 * that reading is not confirmed by a public Infor source. 85 is the threshold
 * mlc-push-shipments(1) documents. */
#define MLC_PUSH_PO_CLOSED_STATUS 85

typedef struct mlc_push mlc_push;

/* Everything the engine reads from the profile, resolved once. */
typedef struct mlc_push_options {
    mlc_ss_version api;   /* shipstation.api (v1 | v2) */
    size_t batch_max;     /* shipments per create call (100; V1 at most MLC_INBOUND_V1_MAX) */
    long long cono;       /* cloudsuite.cono: a record of another company is rejected */
    int cancel_closed;    /* mapping.closed_po: cancel (1) | ignore (0) */
    int closed_status;    /* MLC_PUSH_PO_CLOSED_STATUS */
    long long timeout_s;  /* shipstation.timeout: how long a create may run */
    long long margin_s;   /* retry.in_doubt_margin */
    int max_attempts;     /* retry.max_attempts: create calls per batch */
    long base_ms, cap_ms; /* retry.base_ms, retry.cap_ms */
    int dry_run;          /* no calls, no writes */
} mlc_push_options;

/* The one place that reads the profile's settings for the push. */
mlc_err mlc_push_options_from_config(const mlc_config *cfg, mlc_push_options *o, mlc_error *err);

typedef enum mlc_push_action {
    MLC_PUSH_CREATED,   /* an inbound_shipment record: a new shipment (or an earlier run's, found) */
    MLC_PUSH_UPDATED,   /* V2: cancelled and re-created under the next revision; V1: upserted */
    MLC_PUSH_UNCHANGED, /* nothing sent (same content, nothing left to ship, closed and ignored) */
    MLC_PUSH_CANCELLED, /* a closed PO's shipment cancelled */
    MLC_PUSH_IN_DOUBT,  /* an earlier create may still be executing: settled by a later run */
    MLC_PUSH_REQUEST,   /* dry run: the request the PO would cause (body) */
    MLC_PUSH_REJECTED,  /* bad input (error; stored as a reject unless a dry run) */
    MLC_PUSH_FAILED,    /* a call or the store failed (error) */
    MLC_PUSH_NOT_PUSHED /* a stop signal came first */
} mlc_push_action;

typedef struct mlc_push_outcome {
    mlc_push_action action;
    const char *po;             /* NULL for an input line that is no PO */
    const char *order_key;      /* NULL if none (e.g. a closed PO never pushed) */
    const char *shipstation_id; /* NULL until known */
    mlc_ss_version api;
    const cJSON *body;      /* MLC_PUSH_REQUEST: the payload */
    const mlc_error *error; /* MLC_PUSH_REJECTED / MLC_PUSH_FAILED */
    const char *source;     /* MLC_PUSH_REJECTED: input name and line */
    unsigned long lineno;
} mlc_push_outcome;

/* "created", "updated", ... as records and logs name them. */
const char *mlc_push_action_name(mlc_push_action a);

typedef void (*mlc_push_cb)(void *ud, const mlc_push_outcome *o);

/* A V2 run (not a dry run) on a store without any V2 link is a fresh state: said
 * in the log and the audit trail, and every key is looked up first. */
/* pull-pos's redelivery (mlc-pull-pos(1), REDELIVERY) asks what push-shipments
 * makes of a purchase_order record, with the same checks and mapping as the real
 * run and no ShipStation call. MLC_ERR_INPUT (the message names the field) when
 * push-shipments would reject it (company, shape, mapping): never taken in.
 * mlc_push_wants: *wants = 1 when pushing it would create, change or cancel a
 * shipment (items left to ship, or closed with mapping.closed_po: cancel); no
 * store needed. mlc_push_taken_in: *taken = 1 when the link table in st (borrowed)
 * already reflects it: an open link with a ShipStation id whose payload hash is
 * the record's (an intent alone is not: its create may never have been sent);
 * for a closed PO, no open linked shipment left to cancel; nothing left to ship:
 * 1 at once. */
mlc_err mlc_push_wants(const mlc_map *map, const mlc_push_options *o, const cJSON *rec, int *wants, mlc_error *err);
mlc_err mlc_push_taken_in(mlc_store *st, const mlc_map *map, const mlc_push_options *o, const cJSON *rec, int *taken,
                          mlc_error *err);

mlc_err mlc_push_new(const mlc_push_options *o, mlc_ss *ss, mlc_store *st, const mlc_map *map, mlc_log *log,
                     mlc_push **out, mlc_error *err);
void mlc_push_free(mlc_push *p);
/* Stop flag: ctx borrowed (see "stop" above). */
void mlc_push_stop_on(mlc_push *p, mlc_ctx *ctx);

/* One purchase_order record; source/lineno/line/len name the input line for
 * rejects. Outcomes of POs waiting in the batch arrive in a later call. */
void mlc_push_po(mlc_push *p, const cJSON *rec, const char *source, unsigned long lineno, const char *line, size_t len,
                 mlc_push_cb cb, void *ud);
/* An input line that is not a record (reason: why): counted and stored as a reject. */
void mlc_push_reject_line(mlc_push *p, const char *source, unsigned long lineno, const char *reason, const char *line,
                          size_t len, mlc_push_cb cb, void *ud);
/* Sends what is waiting in the batch (the end of the input). */
void mlc_push_flush(mlc_push *p, mlc_push_cb cb, void *ud);

typedef struct mlc_push_stats {
    long created, updated, unchanged, cancelled, in_doubt, rejected, failed, not_pushed;
    /* the run's deciding error: MLC_ERR_TRANSIENT when something is left in doubt
     * or to retry, else the first error (MLC_OK if none) */
    mlc_err worst;
} mlc_push_stats;
const mlc_push_stats *mlc_push_stats_get(const mlc_push *p);

#endif
