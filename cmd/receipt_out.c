/*
 * receipt_out.c: builds `receipt` records from ledger rows (see receipt_out.h).
 */
#include "receipt_out.h"

#include <time.h>

#include "dates.h"

static void add_str(cJSON *o, const char *name, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

cJSON *receipt_record(const mlc_store_receipt *row, const char *status)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "receipt");
    cJSON_AddNumberToObject(o, "receipt_id", (double)row->id);
    add_str(o, "shipment_id", row->shipment_id);
    add_str(o, "po", row->po);
    cJSON_AddNumberToObject(o, "line", row->line);
    cJSON_AddNumberToObject(o, "subline", row->subline);
    cJSON_AddNumberToObject(o, "qty", row->qty);
    add_str(o, "route", row->route);
    add_str(o, "status", status ? status : mlc_receipt_state_name(row->state));
    cJSON_AddNumberToObject(o, "attempts", row->attempts);
    add_str(o, "tracking_number", row->tracking);
    add_str(o, "carrier", row->carrier);
    if (row->next_attempt_at > 0) {
        char buf[32];
        mlc_dates_format_rfc3339((time_t)row->next_attempt_at, buf);
        cJSON_AddStringToObject(o, "next_attempt_at", buf);
    } else {
        cJSON_AddNullToObject(o, "next_attempt_at");
    }
    add_str(o, "last_error", row->last_error);
    if (row->state == MLC_RECEIPT_IN_DOUBT && row->settle_after > 0) {
        char buf[32];
        mlc_dates_format_rfc3339((time_t)row->settle_after, buf);
        cJSON_AddStringToObject(o, "settle_after", buf); /* settled by the first run after this */
    }
    add_str(o, "updated_at", row->updated_at);
    return o;
}

void receipt_record_add_bod(cJSON *rec, mlc_store *st, int64_t id)
{
    mlc_store_bod *b = NULL;
    mlc_error e;
    if (!rec || !st || mlc_store_bod_get(st, id, &b, &e) != MLC_OK)
        return;
    cJSON_AddStringToObject(rec, "message_id", b->message_id);
    cJSON_AddStringToObject(rec, "document_id", b->document_id);
    cJSON_AddNumberToObject(rec, "sends", b->sends);
    cJSON_AddBoolToObject(rec, "send_in_doubt", b->in_doubt);
    mlc_store_bod_free(b);
}
