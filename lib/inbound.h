/*
 * inbound.h: inbound shipments in ShipStation, i.e. what push-shipments does to
 * ShipStation for a PO, per API version:
 *   V2: bulk create (POST /v2/shipments with an array), find by
 *       external_shipment_id (GET /v2/shipments/external_shipment_id/{id}),
 *       cancel (PUT /v2/shipments/{id}/cancel). V2 has no update: a changed PO
 *       is cancelled and re-created under the next key revision (lib/map).
 *   V1: bulk upsert by orderKey (POST /orders/createorders, at most 100), which
 *       also cancels (orderStatus "cancelled").
 *
 * Create is not idempotent on the wire: callers record their intent in the store
 * first and, after a crash or a lost response, find the shipment by its key
 * before creating again (the V1 upsert is safe to repeat).
 *
 * Not here: mapping (lib/map), links (lib/store), the record loop (cmd/).
 * Ownership: results arrays are the caller's; payloads are borrowed.
 */
#ifndef MLC_INBOUND_H
#define MLC_INBOUND_H

#include "error.h"
#include "shipstation.h"

#define MLC_INBOUND_V1_MAX 100

typedef struct mlc_inbound_result {
    int ok;
    char id[64];       /* shipment_id (V2) or orderId (V1) */
    char key[64];      /* external_shipment_id / orderKey echoed back */
    char status[32];   /* shipment_status / orderStatus, if returned */
    char error[256];   /* the system's message when !ok */
} mlc_inbound_result;

/* Creates n V2 shipments in one call; results[i] for payloads[i] (matched by
 * external_shipment_id). MLC_OK when the call went through (check each ok);
 * the call's error otherwise (MLC_ERR_TRANSIENT: outcome unknown). */
mlc_err mlc_inbound_v2_create(mlc_ss *ss, cJSON *const *payloads, size_t n, mlc_inbound_result *results,
                              mlc_error *err);
/* MLC_OK and r filled if a shipment with this external id exists; MLC_ERR_NOTFOUND if not. */
mlc_err mlc_inbound_v2_find(mlc_ss *ss, const char *key, mlc_inbound_result *r, mlc_error *err);
/* MLC_OK if cancelled (or already cancelled). */
mlc_err mlc_inbound_v2_cancel(mlc_ss *ss, const char *shipment_id, mlc_error *err);

/* Upserts n (<= 100) V1 orders in one createorders call. */
mlc_err mlc_inbound_v1_upsert(mlc_ss *ss, cJSON *const *orders, size_t n, mlc_inbound_result *results,
                              mlc_error *err);

#endif
