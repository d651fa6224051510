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
 * Also the profile's wiring (token and key files from the config) and the
 * subscription call `mlc webhook subscribe` makes.
 *
 * Not here: the HTTP server (lib/listener), fetching (lib/shipment).
 * Ownership: mlc_webhook_new() -> mlc_webhook_free(); store and log are borrowed.
 */
#ifndef MLC_WEBHOOK_H
#define MLC_WEBHOOK_H

#include "config.h"
#include "error.h"
#include "log.h"
#include "shipstation.h"
#include "store.h"
#include <cjson/cJSON.h>
#include <stddef.h>
#include <time.h>

#define MLC_WEBHOOK_MAX_BODY (64 * 1024)
/* largest secret or public key file read */
#define MLC_WEBHOOK_MAX_FILE (64 * 1024)

typedef struct mlc_webhook mlc_webhook;

/* token: the secret expected as the URL path ("/<token>"), or NULL for "/".
 * key_text: PEM or JWKS text of the V2 signing key, or NULL (no check). */
mlc_err mlc_webhook_new(mlc_store *st, mlc_log *log, const char *token, const char *key_text, mlc_webhook **out,
                        mlc_error *err);
void mlc_webhook_free(mlc_webhook *wh);

/* The profile's path token: the file shipstation.webhook_secret_file (private:
 * our own, no group/world permissions; white space around it ignored), or *token
 * NULL when the key is unset. Free with mlc_secret_free_str (lib/secret). */
mlc_err mlc_webhook_token(const mlc_config *cfg, char **token, mlc_error *err);
/* mlc_webhook_new with the profile's token and shipstation.webhook_public_key_file
 * (PEM or JWKS); warns on log when there is no token. */
mlc_err mlc_webhook_open(mlc_store *st, const mlc_config *cfg, mlc_log *log, mlc_webhook **out, mlc_error *err);

/* Registers target (the listener's public URL with the token) for event at
 * ShipStation: V2 POST /v2/environment/webhooks {event, url}; V1 POST
 * /webhooks/subscribe {target_url, event, store_id (if nonzero), friendly_name}.
 * *result: {"kind":"webhook_subscription","event","api","webhook_id"}, the
 * caller's. */
mlc_err mlc_webhook_subscribe(mlc_ss *ss, mlc_ss_version v, const char *target, const char *event, long long store_id,
                              cJSON **result, mlc_error *err);

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
