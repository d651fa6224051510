/*
 * webhook.h: what `mlc webhook serve` does with one incoming HTTP request from
 * ShipStation, independent of the HTTP server (so it can be unit-tested and
 * fuzzed): check the shared-secret path token, the size, the V2 RSA-SHA256
 * signature when a public key is configured, and the thin payload
 * {"resource_url","resource_type"}; then store it in the inbox (lib/store).
 * Nothing is fetched here: pull-shipments fetches resource_url later, and only
 * from the configured ShipStation host.
 *
 * V2 signatures (research: ShipStation's webhook-validation guide): headers
 * x-shipengine-rsa-sha256-key-id, x-shipengine-rsa-sha256-signature (base64
 * RSASSA-PKCS1-v1_5 over "<timestamp>.<raw body>", SHA-256) and
 * x-shipengine-timestamp (ISO 8601, at most 5 minutes off). [UNVERIFIED]
 * whether the timestamp is part of the signed string: the stored copy of the
 * guide is cut off; this follows the independent verifiers. The key file is a
 * PEM public key or a JWKS document ({"keys":[{"kid","n","e"}]}).
 *
 * Not here: the HTTP server (cmd/webhook.c), fetching (lib/shipment).
 * Ownership: mlc_webhook_new() -> mlc_webhook_free(); store and log are borrowed.
 */
#ifndef MLC_WEBHOOK_H
#define MLC_WEBHOOK_H

#include "error.h"
#include "log.h"
#include "store.h"
#include <stddef.h>
#include <time.h>

#define MLC_WEBHOOK_MAX_BODY (64 * 1024)

typedef struct mlc_webhook mlc_webhook;

/* token: the secret expected as the URL path ("/<token>"), or NULL for "/".
 * key_text: PEM or JWKS text of the V2 signing key, or NULL (no check). */
mlc_err mlc_webhook_new(mlc_store *st, mlc_log *log, const char *token, const char *key_text, mlc_webhook **out,
                        mlc_error *err);
void mlc_webhook_free(mlc_webhook *wh);

typedef struct mlc_webhook_request {
    const char *method, *path;
    const char *body;
    size_t body_len;
    const char *sig_key_id, *signature, *timestamp; /* x-shipengine-* headers, or NULL */
    time_t now;
} mlc_webhook_request;

/* Returns the HTTP status to answer (200 stored, 400 bad payload or signature,
 * 404 wrong path, 405 not POST, 413 too large, 500 store failure) and a short
 * reason in msg (never a secret). */
int mlc_webhook_handle(mlc_webhook *wh, const mlc_webhook_request *rq, char *msg, size_t msgcap);

#endif
