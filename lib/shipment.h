/*
 * shipment.h: ShipStation shipments as mlc sees them: `shipment` records
 * (mlc-internals(7), RECORDS) for inbound shipments that shipped or were voided, from
 *   - V2 polling: GET /v2/shipments?modified_at_start= (sorted by modified_at),
 *     then, per page of shipments, the labels for tracking number and carrier by
 *     the paged GET /v2/labels?created_at_start=&created_at_end= over the page's
 *     window, matched by shipment_id (GET /v2/labels?shipment_id= only for a
 *     shipment the list did not cover, a webhook, a delivery check);
 *   - V1 polling: GET /shipments?createDateStart= (and voidDateStart= for voids)
 *     with includeShipmentItems=true; V1 dates are naive Pacific time, converted
 *     to UTC here (lib/dates); orders marked shipped without a label (no
 *     /shipments record, a fulfillment): GET /fulfillments?createDateStart= joined
 *     by orderId to GET /orders?orderStatus=shipped&modifyDateStart=, shipment_id
 *     "v1-f<fulfillmentId>" (the label route's are "v1-<shipmentId>"; one of
 *     an order with both is left to the label shipment); orders cancelled in
 *     ShipStation (GET /orders?orderStatus=cancelled&modifyDateStart=) are never
 *     received, each reported once (log warning, audit event order_cancelled);
 *   - the webhook inbox (lib/store) filled by `mlc webhook serve`: each
 *     notification's resource_url is fetched only if its scheme and host are the
 *     configured ShipStation host (mlc_ss_check_url), so the key never leaves.
 * Only shipments mlc created are reported: their key parses as mlc's order key.
 * Each record carries its PO, the PO lines (item keys "PO/line/subline"), and the
 * order type, warehouse and supplier: V1 reads them back from the custom fields,
 * V2 (no custom fields in its contract) from mlc's link table; null when neither
 * knows them (receipts then ask M3).
 * A record is emitted again only when its content changed (content hash in the
 * store), so overlapping polls and duplicate webhooks do not repeat it, or when
 * it was written but post-receipts' ledger never took it in (redelivery, below).
 *
 * Not here: receipts (lib/receipt), cursors' policy (cmd/pull_shipments.c).
 * Ownership: mlc_shipment_new() -> mlc_shipment_free(); ss, store, config and
 * log are borrowed. Records handed to the emit callback belong to the callback.
 */
#ifndef MLC_SHIPMENT_H
#define MLC_SHIPMENT_H

#include "config.h"
#include "error.h"
#include "log.h"
#include "shipstation.h"
#include "outbox.h"
#include "store.h"
#include <cjson/cJSON.h>
#include <time.h>

typedef struct mlc_shipment mlc_shipment;

/* Returns MLC_OK to go on; anything else stops the poll (e.g. MLC_ERR_PIPE). */
typedef mlc_err (*mlc_shipment_emit)(void *ud, cJSON *record);

mlc_err mlc_shipment_new(mlc_ss *ss, mlc_store *st, const mlc_config *cfg, mlc_log *log, mlc_shipment **out,
                         mlc_error *err);
void mlc_shipment_free(mlc_shipment *s);

/* Polls shipments modified (V2) or created/voided (V1) at or after since;
 * *latest: the latest change time seen (unchanged if none). */
mlc_err mlc_shipment_poll(mlc_shipment *s, mlc_ss_version v, time_t since, time_t *latest, mlc_shipment_emit emit,
                          void *ud, mlc_error *err);
/* Delivery tracking (receipts.post_at: deliver): records carry "delivered"
 * (V2 label tracking_status); shipped-but-undelivered shipments are remembered
 * and mlc_shipment_poll_deliveries() asks ShipStation about each of them again,
 * since a delivery need not change a shipment's modified_at. */
void mlc_shipment_track_deliveries(mlc_shipment *s, int on);
mlc_err mlc_shipment_poll_deliveries(mlc_shipment *s, mlc_shipment_emit emit, void *ud, mlc_error *err);
/* Drains the webhook inbox (up to max notifications due now). A notification
 * whose follow-up GET fails is this notification's problem, never the run's:
 * permanent failures (4xx, redirect) are retried up to
 * shipstation.webhook_max_attempts times, then quarantined (failed, with the
 * reason); a refused resource_url (another host, user information) at once;
 * transient failures are retried with backoff (retry.base_ms, retry.cap_ms) and
 * leave the rest for the next run. Returns an error only when the store or the
 * output fails (MLC_ERR_PIPE when the reader went away). */
mlc_err mlc_shipment_drain_inbox(mlc_shipment *s, size_t max, mlc_shipment_emit emit, void *ud, mlc_error *err);

/* Redelivery (mlc-pull-shipments(1), REDELIVERY). A record written is kept in
 * the store's outbox (namespace "shipment", key shipment_id) until the ledger of
 * post-receipts reflects it (mlc_receipt_taken_in), so that a reader that dies
 * before storing it does not lose it: the content hash alone would never let it
 * out again. mlc_shipment_redeliver() looks at every record kept: taken in (or
 * refused by post-receipts' checks) -> forgotten; kept longer than the window ->
 * forgotten with a warning and an audit event redelivery_expired; else written
 * again, as it was, with source "redeliver". Records post-receipts would refuse
 * or that have nothing to receive are never kept. The window is
 * shipstation.redeliver_hours (0: nothing is kept or written again), or
 * mlc_shipment_redeliver_within(seconds). MLC_ERR_PIPE from emit stops it. */
void mlc_shipment_redeliver_within(mlc_shipment *s, int64_t seconds);
mlc_err mlc_shipment_redeliver(mlc_shipment *s, mlc_shipment_emit emit, void *ud, mlc_error *err);

/* Pure conversions (tested on their own). labels: the V2 labels of the shipment
 * (array, may be NULL). *out NULL (and MLC_OK) when the shipment is not one of
 * mlc's or has not shipped. */
mlc_err mlc_shipment_from_v2(const cJSON *shipment, const cJSON *labels, const char *source, cJSON **out,
                             mlc_error *err);
mlc_err mlc_shipment_from_v1(const cJSON *shipment, const char *source, cJSON **out, mlc_error *err);
/* V2 records leave from_v2 without order_type/warehouse/supplier (V2 has no
 * custom fields): fills the null ones from mlc's link of the order key (or of the
 * PO, same company). No link: left null, and receipts ask M3 (PPS200MI/GetHead). */
mlc_err mlc_shipment_add_link_facts(mlc_store *st, cJSON *rec, mlc_error *err);
/* A V1 order marked shipped without a label: the whole order (its items) shipped
 * as its fulfillment says (tracking number, carrier, ship date, voided). */
mlc_err mlc_shipment_from_v1_fulfillment(const cJSON *order, const cJSON *fulfillment, const char *source,
                                        cJSON **out, mlc_error *err);

typedef struct mlc_shipment_stats {
    long seen, emitted, unchanged, skipped, inbox, refused_urls, api_calls, cancelled;
    long webhooks_failed, webhooks_retry; /* quarantined / to be tried again, this run */
    mlc_outbox_counts outbox; /* the outbox (mlc_shipment_redeliver), this run */
} mlc_shipment_stats;
const mlc_shipment_stats *mlc_shipment_stats_get(const mlc_shipment *s);

#endif
