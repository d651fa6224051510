/*
 * outbox.h: the redelivery walk shared by pull-shipments and pull-pos: the records
 * a command wrote to its output and keeps in the store's outbox (mlc_store_outbox_*)
 * until their consumer has taken them in are looked at once a run, oldest first:
 * taken in -> forgotten; kept longer than the window -> given up (warning + audit
 * event redelivery_expired); otherwise written again with "source":"redeliver".
 *
 * Not here: what "taken in" means (the caller's taken callback: post-receipts'
 * ledger, push-shipments' link table), keeping records (the commands' emit paths),
 * the SQL (lib/store).
 */
#ifndef MLC_OUTBOX_H
#define MLC_OUTBOX_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "log.h"
#include "store.h"

typedef struct mlc_outbox_walk {
    mlc_store *st;
    const char *ns;          /* the outbox namespace ("shipment", "po") */
    size_t max;              /* records looked at per run */
    int64_t redeliver_s;     /* the window; <= 0: no walk */
    mlc_log *log;
    const char *what;        /* in messages: "shipment", "PO" */
    const char *audit_key;   /* the audit detail's key field: "shipment_id", "po" */
    const char *expired_msg; /* the warning's tail after "... was written N times since T " */
    /* Whether the consumer took rec in (*taken); MLC_ERR_INPUT: it never will (forgotten). */
    mlc_err (*taken)(void *ud, const cJSON *rec, int *taken, mlc_error *err);
    /* Nonzero: write nothing more this run (a stop, --limit); the rest waits. */
    int (*hold)(void *ud);
    /* Writes rec, the kept record it->record marked "source":"redeliver" (the
     * callback owns rec). An error ends the walk and is returned (err filled where
     * the callback says why). */
    mlc_err (*emit)(void *ud, const mlc_store_outbox_item *it, cJSON *rec, mlc_error *err);
    void *ud;
} mlc_outbox_walk;

typedef struct mlc_outbox_counts {
    long taken_in, given_up, redelivered;
} mlc_outbox_counts;

/* One walk; counts are added to *c. */
mlc_err mlc_outbox_redeliver(const mlc_outbox_walk *w, mlc_outbox_counts *c, mlc_error *err);

#endif
