/*
 * ims.h: the ION Messaging Service (IMS v3) reached through the ION API gateway:
 * the sender side a connector needs (research: ion-bod.md §1).
 *
 *   GET  {iu}/{ti}/IONSERVICES/api/ion/messaging/service/ping
 *   GET  .../service/v3/{logicalId without lid://}/acceptedDocuments
 *   POST .../service/v3/multipartMessage   parts ParameterRequest (JSON) and
 *                                          MessagePayload (the BOD XML)
 *
 * A 2xx from the send means "queued in ION", never "applied in M3".  Statuses:
 * 400 -> MLC_ERR_REMOTE (bad message: permanent); 412 (and 503 on ping) ->
 * MLC_ERR_CONFIG (connection point inactive, or no active document flow); 401
 * -> the token is refreshed and the call repeated once (nothing was taken);
 * 403 -> MLC_ERR_AUTH (the client id is not the connection point's).  A send
 * is never retried here on a transient failure or timeout (the caller decides,
 * after looking at M3).  A payload over MLC_IMS_MAX_MESSAGE is refused before
 * anything is sent.
 *
 * Not here: building BODs (lib/bod), the ledger (lib/receipt), tokens (lib/ionapi).
 * Ownership: mlc_ims_new() -> mlc_ims_free(); http, ion and log are borrowed and
 * must outlive it.  Lists returned are freed with mlc_ims_list_free().
 */
#ifndef MLC_IMS_H
#define MLC_IMS_H

#include "error.h"
#include "http.h"
#include "config.h"
#include "ionapi.h"
#include "log.h"
#include <stddef.h>

typedef struct mlc_ims mlc_ims;

/* [DOC] "Integration Maximum Message Size ... 5 MB" (Infor OS usage limits).
 * [INF] the limit is on the message ION stores and routes, the BOD itself (the
 * MessagePayload part), not on the multipart request around it (ParameterRequest
 * and framing, a few hundred bytes); Infor does not say whether MB means 10^6 or
 * 2^20 bytes: the smaller, 5,000,000, is used, so mlc never sends what either
 * reading refuses. mlc-sim's 413 applies the same rule. */
#define MLC_IMS_MAX_MESSAGE 5000000u

/* logical_id: the connection point's "lid://..." (fromLogicalId);
 * to_logical_id: NULL = "lid://default". */
mlc_err mlc_ims_new(mlc_http *http, mlc_ionapi *ion, const char *logical_id, const char *to_logical_id, mlc_log *log,
                    mlc_ims **out, mlc_error *err);
void mlc_ims_free(mlc_ims *ims);

/* The profile's sender (receipts.transport: bod): bod.logical_id and
 * bod.to_logical_id; the credentials of mlc_ionapi_resolve_bod() when the profile
 * has them (own token and connection, owned by the ims), else m3's. */
struct mlc_m3;
mlc_err mlc_ims_for_profile(const mlc_config *cfg, struct mlc_m3 *m3, mlc_log *log, mlc_ims **out, mlc_error *err);
/* The credentials in use (tenant for TenantID). */
mlc_ionapi *mlc_ims_ionapi(mlc_ims *ims);

/* GET service/ping: MLC_OK on 200. */
mlc_err mlc_ims_ping(mlc_ims *ims, mlc_error *err);

/* GET service/v3/{lid}/acceptedDocuments: the document names the connection
 * point may send (e.g. "Process.ReceiveDelivery"). */
mlc_err mlc_ims_accepted_documents(mlc_ims *ims, char ***names, size_t *n, mlc_error *err);
void mlc_ims_list_free(char **names, size_t n);
/* 1 if document ("Verb.Noun") is in the list (also matched as "VerbNoun"). */
int mlc_ims_list_has(char *const *names, size_t n, const char *document);

typedef struct mlc_ims_message {
    const char *document_name;     /* "Process.ReceiveDelivery" */
    const char *message_id;        /* stable per receipt, reused on every retry */
    const char *document_id;       /* <= 100 chars [DOC] */
    const char *accounting_entity; /* <= 22 chars [DOC] */
    const char *location;          /* <= 22 chars [DOC] */
    const char *payload;           /* the BOD XML */
    size_t len;
} mlc_ims_message;

/* POST service/v3/multipartMessage.  *status: the HTTP status (0 if none arrived).
 * MLC_OK on any 2xx; MLC_ERR_TRANSIENT when no answer came or a 429/5xx (the
 * message may or may not be queued); others as above. */
mlc_err mlc_ims_send(mlc_ims *ims, const mlc_ims_message *msg, long *status, mlc_error *err);

/* The ParameterRequest JSON of msg (tests, --trace). Caller frees. */
char *mlc_ims_parameter_request(const mlc_ims *ims, const mlc_ims_message *msg);

#endif
