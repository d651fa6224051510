/*
 * outbox.c: the redelivery walk of outbox.h (pull-shipments and pull-pos).
 * Not here: the outbox table (lib/store.c) or what a consumer takes in.
 */
#include "outbox.h"

#include <stdio.h>
#include <time.h>

#include "dates.h"

/* Kept too long: warned, audited and forgotten. */
static mlc_err give_up(const mlc_outbox_walk *w, const mlc_store_outbox_item *it, mlc_error *err)
{
    char since[32], detail[300];
    mlc_dates_format_rfc3339((time_t)it->emitted_at, since);
    mlc_log_warn(w->log, "%s %s was written %d times since %s %s", w->what, it->key, it->sends, since,
                 w->expired_msg);
    snprintf(detail, sizeof detail, "{\"%s\":\"%.80s\",\"emitted_at\":\"%s\",\"sends\":%d}", w->audit_key, it->key,
             since, it->sends);
    mlc_err rc = mlc_store_audit(w->st, 0, "redelivery_expired", detail, err);
    return rc ? rc : mlc_store_outbox_delete(w->st, w->ns, it->key, err);
}

mlc_err mlc_outbox_redeliver(const mlc_outbox_walk *w, mlc_outbox_counts *c, mlc_error *err)
{
    mlc_store_outbox_item *items = NULL;
    size_t n = 0;
    if (w->redeliver_s <= 0)
        return MLC_OK;
    mlc_err rc = mlc_store_outbox_list(w->st, w->ns, w->max, &items, &n, err);
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; !rc && i < n; i++) {
        const mlc_store_outbox_item *it = &items[i];
        cJSON *rec = cJSON_Parse(it->record);
        int taken = 1;
        mlc_error ie;
        mlc_err tr = rec ? w->taken(w->ud, rec, &taken, &ie) : MLC_ERR_INPUT;
        if (tr && tr != MLC_ERR_INPUT) {
            if (err)
                *err = ie;
            rc = tr;
        } else if (tr || taken) { /* taken in now (or never to be): forgotten */
            c->taken_in++;
            rc = mlc_store_outbox_delete(w->st, w->ns, it->key, err);
        } else if (now - it->emitted_at > w->redeliver_s) {
            c->given_up++;
            rc = give_up(w, it, err);
        } else if (!w->hold || !w->hold(w->ud)) {
            /* written, never taken in (the reader died, or has not stored it yet):
             * again, as it was; the consumer's keys make a second copy change nothing */
            if (!cJSON_ReplaceItemInObjectCaseSensitive(rec, "source", cJSON_CreateString("redeliver")))
                cJSON_AddStringToObject(rec, "source", "redeliver");
            rc = w->emit(w->ud, it, rec, err);
            rec = NULL; /* the callback's now */
            if (!rc) {
                c->redelivered++;
                rc = mlc_store_outbox_sent(w->st, w->ns, it->key, now, err);
            }
        }
        cJSON_Delete(rec);
    }
    mlc_store_outbox_free(items, n);
    return rc;
}
