/*
 * receipt_out.h: the `receipt` record as post-receipts, replay and queue print it
 * (one shape everywhere). Not here: the ledger itself (lib/store, lib/receipt).
 */
#ifndef MLC_RECEIPT_OUT_H
#define MLC_RECEIPT_OUT_H

#include "store.h"
#include <cjson/cJSON.h>

/* Builds {"kind":"receipt",...} from a ledger row; status overrides the row's state
 * (e.g. "duplicate"); NULL = the row's state. Caller frees. */
cJSON *receipt_record(const mlc_store_receipt *row, const char *status);

/* Adds message_id, document_id and sends of a receipt sent as a BOD (nothing for a
 * REST receipt). */
void receipt_record_add_bod(cJSON *rec, mlc_store *st, int64_t id);

#endif
