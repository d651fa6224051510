/*
 * fuzz_webhook.c: libFuzzer harness for the webhook payload handler (lib/webhook
 * mlc_webhook_handle), the code behind `mlc webhook serve`, storing into an
 * in-memory store; also the signing-key loader (PEM or JWKS, mlc_webhook_new).
 *
 * Not for: the HTTP server (cmd/webhook.c) or fetching resource_url.
 * Built by `make fuzz`.  Input: byte 0 picks the mode, the rest is
 *   mode 0: the body (no signing key);
 *   mode 1: "<signature>\n<timestamp>\n<body>" checked against a fixed RSA key
 *           ("now" is the timestamp itself, so the skew check passes);
 *   mode 2: the signing key text (PEM or JWKS), then one fixed request.
 */
#include "dates.h"
#include "store.h"
#include "webhook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char pem[] = "-----BEGIN PUBLIC KEY-----\n"
                          "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqusTpteZkbLEzwahrIA4\n"
                          "Tm6fPgRvJtjk1JOG0UwB51tK1F9mQKNkcHlGFm1t33AxdEE0/jF9ef9SoT4uJpwq\n"
                          "l046MQo6zAr2ns/waSUKVHafI3OaJOJmdHPDHC/qmnQ8QX4nQvnvSNzjxpMjpG47\n"
                          "juHcduJyu3OUlARz4OoYnXUOQ85YG5w47zbtEaW8igp/zBPBgzaZ5n3QFTzz97az\n"
                          "Iom0Dmp8ezDxKHKvK4ANDXdt2xqbPbEJlL1xEvonCrAcIjvFlII36nqNuSxnv3fM\n"
                          "+cm3huSldkJI6HAxvC484QTruYvYZZS8HQQ1Bbq0WDL5koKph57RN5xDicOSu/gz\n"
                          "LwIDAQAB\n"
                          "-----END PUBLIC KEY-----\n";
static const char fixed_body[] = "{\"resource_url\":\"https://api.shipstation.com/v2/labels?shipment_id=se-1\","
                                 "\"resource_type\":\"fulfillment_shipped_v2\"}";

static mlc_store *st;
static mlc_webhook *plain, *signed_wh;
static unsigned long runs;

/* The store is reopened every 512 inputs so the inbox does not grow without bound. */
static void setup(void)
{
    mlc_error e = {0};
    mlc_webhook_free(plain);
    mlc_webhook_free(signed_wh);
    mlc_store_close(st);
    if (mlc_store_open(":memory:", 0, &st, &e) != MLC_OK || mlc_webhook_new(st, NULL, "tok", NULL, &plain, &e) ||
        mlc_webhook_new(st, NULL, "tok", pem, &signed_wh, &e)) {
        fprintf(stderr, "fuzz_webhook: setup: %s\n", e.msg);
        abort();
    }
}

static int handle(mlc_webhook *wh, const char *body, size_t len, const char *sig, const char *ts)
{
    char msg[128];
    time_t now = 0;
    if (ts)
        mlc_dates_parse_rfc3339(ts, &now);
    mlc_webhook_request rq = {.method = "POST",
                              .path = "/tok",
                              .body = body,
                              .body_len = len,
                              .sig_key_id = "se-1",
                              .signature = sig,
                              .timestamp = ts,
                              .now = now};
    int status = mlc_webhook_handle(wh, &rq, msg, sizeof msg);
    if (status != 200 && status != 400 && status != 413 && status != 500)
        abort(); /* a POST to the right path can only be one of these */
    return status + (int)strlen(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (runs++ % 512 == 0)
        setup();
    if (size < 1)
        return 0;
    char *text = malloc(size); /* the rest, NUL-terminated (headers and key are C strings) */
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    int n = 0;
    switch (data[0] % 3) {
    case 0:
        n = handle(plain, text, size - 1, NULL, NULL);
        break;
    case 1: {
        char *ts = memchr(text, '\n', size - 1), *body;
        if (!ts)
            break;
        *ts++ = '\0';
        body = memchr(ts, '\n', size - 1 - (size_t)(ts - text));
        if (!body)
            break;
        *body++ = '\0';
        n = handle(signed_wh, body, size - 1 - (size_t)(body - text), text, ts);
        break;
    }
    default: {
        mlc_webhook *wh = NULL;
        mlc_error e = {0};
        if (mlc_webhook_new(st, NULL, NULL, text, &wh, &e) == MLC_OK) {
            char msg[64];
            mlc_webhook_request rq = {.method = "POST",
                                      .path = "/",
                                      .body = fixed_body,
                                      .body_len = sizeof fixed_body - 1,
                                      .signature = "AAAA",
                                      .timestamp = "2026-11-27T00:00:00Z",
                                      .now = 1795737600};
            n = mlc_webhook_handle(wh, &rq, msg, sizeof msg);
        }
        mlc_webhook_free(wh);
        break;
    }
    }
    free(text);
    return n == -1; /* keeps n alive; always 0 */
}
