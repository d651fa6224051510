/*
 * ping.h: the checks of `mlc ping`: log in to each remote system with the
 * profile's credentials and make one cheap read (M3 cloudsuite.programs.ping,
 * default GENERAL/GetUserInfo; ShipStation V2 GET /v2/shipments?page_size=1, V1
 * GET /orders?pageSize=1; with receipts.transport: bod, the ION Messaging
 * Service's ping and the connection point's accepted documents, which must list
 * the documents the profile sends, else a configuration failure naming them).
 *
 * Each result is {"kind":"ping", "system", "ok", "latency_ms", ...what the
 * system tells: tenant, cono, user, divi, token_expires, token_ttl_s, logins;
 * key (fingerprint), rate_remaining, total; logical_id, documents} and on failure
 * "error_kind" and "error" (redacted through the log's secrets).
 *
 * Not here: any write, any retry policy beyond lib/http's, printing (cmd/ping.c).
 * Ownership: result objects/arrays are the caller's (cJSON_Delete), also on error.
 * vault is borrowed and may be NULL (then the credential files of the config).
 */
#ifndef MLC_PING_H
#define MLC_PING_H

#include "ctx.h"
#include "error.h"
#include "vault.h"
#include <cjson/cJSON.h>

/* Return MLC_OK or the failure's code; *result is always set. */
mlc_err mlc_ping_cloudsuite(mlc_ctx *ctx, mlc_vault *vault, cJSON **result);
mlc_err mlc_ping_ims(mlc_ctx *ctx, mlc_vault *vault, cJSON **result);
/* One result per API version with a key, shipstation.api's first (system
 * "shipstation-v2" / "shipstation-v1"), or one "shipstation" failure when the
 * client cannot be built; returns the worst failure (configuration first). */
mlc_err mlc_ping_shipstation(mlc_ctx *ctx, mlc_vault *vault, cJSON **results);

/* 1 for failures about credentials or configuration (exit 78), else 0. */
int mlc_ping_is_config_error(mlc_err e);

#endif
