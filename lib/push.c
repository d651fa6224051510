/*
 * push.c: the shipment push protocol (see push.h): intent before create, key
 * lookup after a lost answer, the batch retry with backoff, cancel and
 * re-create, closed POs, the dry run's plan. Outcomes go to the caller's
 * callback.
 * Not here: reading input or writing records (cmd/push_shipments.c), mapping
 * (lib/map), the API calls (lib/inbound), SQL (lib/store).
 */
#include "push.h"

#include "backoff.h"
#include "dates.h"
#include "inbound.h"
#include "po.h"
#include "record.h"
#include "setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMD_NAME "push-shipments" /* the stream rejects are filed under */

typedef struct pending {
    cJSON *payload; /* owned */
    char po[32];
    char key[64];
    char hash[65];
    mlc_push_action action; /* created | updated */
} pending;

struct mlc_push {
    mlc_push_options o;
    mlc_ss *ss;
    mlc_store *st;
    const mlc_map *map;
    mlc_log *log;
    mlc_ctx *stop_ctx;
    mlc_backoff *bo;
    pending *batch;
    size_t nbatch;
    int fresh; /* V2 and no link in the store: look keys up before creating */
    mlc_push_stats stats;
    mlc_push_cb cb; /* of the current call */
    void *ud;
};

const char *mlc_push_action_name(mlc_push_action a)
{
    static const char *const names[] = {"created", "updated",  "unchanged", "cancelled", "in_doubt",
                                        "request", "rejected", "failed",    "not_pushed"};
    return (size_t)a < sizeof names / sizeof names[0] ? names[a] : "unchanged";
}

mlc_err mlc_push_options_from_config(const mlc_config *cfg, mlc_push_options *o, mlc_error *err)
{
    (void)err;
    memset(o, 0, sizeof *o);
    o->api = mlc_setup_ss_api(cfg, NULL);
    o->batch_max = 100;
    o->cono = mlc_config_int(cfg, "cloudsuite.cono");
    const char *closed = mlc_config_str(cfg, "mapping.closed_po");
    o->cancel_closed = closed && strcmp(closed, "cancel") == 0;
    o->closed_status = MLC_PUSH_PO_CLOSED_STATUS;
    o->timeout_s = mlc_config_int(cfg, "shipstation.timeout");
    o->margin_s = mlc_config_int(cfg, "retry.in_doubt_margin");
    o->max_attempts = (int)mlc_config_int(cfg, "retry.max_attempts");
    o->base_ms = (long)mlc_config_int(cfg, "retry.base_ms");
    o->cap_ms = (long)mlc_config_int(cfg, "retry.cap_ms");
    return MLC_OK;
}

/* ---- reporting ---- */

static void report(mlc_push *p, mlc_push_action a, const char *po, const char *key, const char *id)
{
    mlc_push_outcome out = {
        .action = a, .po = po, .order_key = key, .shipstation_id = id && *id ? id : NULL, .api = p->o.api};
    switch (a) {
    case MLC_PUSH_CREATED:
        p->stats.created++;
        break;
    case MLC_PUSH_UPDATED:
        p->stats.updated++;
        break;
    case MLC_PUSH_CANCELLED:
        p->stats.cancelled++;
        break;
    case MLC_PUSH_IN_DOUBT:
        p->stats.in_doubt++;
        if (p->stats.worst == MLC_OK)
            p->stats.worst = MLC_ERR_TRANSIENT; /* exit 75: a later run settles it */
        break;
    default:
        p->stats.unchanged++;
        break;
    }
    if (p->cb)
        p->cb(p->ud, &out);
}

static void reject(mlc_push *p, const char *po, const char *source, unsigned long lineno, const mlc_error *why,
                   const char *line, size_t len)
{
    mlc_error e;
    mlc_push_outcome out = {
        .action = MLC_PUSH_REJECTED, .po = po, .api = p->o.api, .error = why, .source = source, .lineno = lineno};
    p->stats.rejected++;
    if (p->cb)
        p->cb(p->ud, &out);
    if (p->st && !p->o.dry_run && mlc_store_reject_n(p->st, CMD_NAME, source, lineno, why->msg, line, len, &e))
        mlc_log_error(p->log, "%s", e.msg);
}

static void fail(mlc_push *p, const char *po, const mlc_error *e)
{
    mlc_push_outcome out = {.action = MLC_PUSH_FAILED, .po = po, .api = p->o.api, .error = e};
    p->stats.failed++;
    if (p->stats.worst == MLC_OK || e->code == MLC_ERR_TRANSIENT)
        p->stats.worst = e->code;
    if (p->cb)
        p->cb(p->ud, &out);
}

/* After a stop signal a PO read is not pushed: its pull-pos content hash is
 * forgotten so that the next pull-pos emits it again (nothing read is lost). */
static void not_pushed(mlc_push *p, const char *po)
{
    mlc_error e;
    mlc_push_outcome out = {.action = MLC_PUSH_NOT_PUSHED, .po = po, .api = p->o.api};
    p->stats.not_pushed++;
    if (p->st && mlc_store_seen_delete(p->st, "po", po, &e))
        mlc_log_error(p->log, "PO %s: %s", po, e.msg);
    if (p->cb)
        p->cb(p->ud, &out);
}

static int stopping(mlc_push *p) { return p->stop_ctx && mlc_ctx_stopping(p->stop_ctx); }
static int stop_asked(void *ud) { return stopping(ud); }

/* ---- links ---- */

static char *rec_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static const char *api_name(const mlc_push *p) { return p->o.api == MLC_SS_V1 ? "v1" : "v2"; }

/* rec: the PO record, whose routing facts (order type, warehouse, supplier) the
 * link keeps for receipts (V2 shipments carry no custom fields); NULL keeps the
 * link's facts as they are. */
static void link_save(mlc_push *p, const char *po, const char *key, const char *id, const char *hash,
                      const char *status, const cJSON *rec)
{
    mlc_error e;
    mlc_store_link l = {.po = (char *)po,
                        .order_key = (char *)key,
                        .shipstation_id = (char *)id,
                        .api = (char *)api_name(p),
                        .hash = (char *)hash,
                        .status = (char *)status,
                        .order_type = rec_str(rec, "order_type"),
                        .warehouse = rec_str(rec, "warehouse"),
                        .supplier = rec_str(cJSON_GetObjectItemCaseSensitive(rec, "supplier"), "id")};
    if (mlc_store_link_put(p->st, &l, &e)) {
        fail(p, po, &e);
        p->stats.worst = e.code;
    }
}

static void set_settle(mlc_push *p, const char *po, int64_t when)
{
    mlc_error e;
    if (mlc_store_link_set_settle(p->st, po, when, &e))
        mlc_log_error(p->log, "%s", e.msg);
}

/* ---- V2 create with intent, lookup and retry ---- */

static void batch_clear(mlc_push *p)
{
    for (size_t i = 0; i < p->nbatch; i++)
        cJSON_Delete(p->batch[i].payload);
    p->nbatch = 0;
}

static void batch_not_pushed(mlc_push *p)
{
    for (size_t i = 0; i < p->nbatch; i++)
        not_pushed(p, p->batch[i].po);
    batch_clear(p);
}

static void settle(mlc_push *p, pending *q, const mlc_inbound_result *res)
{
    link_save(p, q->po, q->key, res->id, q->hash, "open", NULL);
    report(p, q->action, q->po, q->key, res->id);
}

/* After a transient failure the outcome is unknown: look each key up. Returns
 * how many are still unresolved (moved to the front of the batch). */
static size_t resolve_unknown(mlc_push *p)
{
    size_t left = 0;
    for (size_t i = 0; i < p->nbatch; i++) {
        pending *q = &p->batch[i];
        mlc_inbound_result found;
        mlc_error e;
        if (mlc_inbound_v2_find(p->ss, q->key, &found, &e) == MLC_OK) {
            settle(p, q, &found);
            cJSON_Delete(q->payload);
        } else {
            p->batch[left++] = *q; /* not there, or not known yet: create again */
        }
    }
    return left;
}

/* The create call's answer, PO by PO. */
static void settle_answers(mlc_push *p, const mlc_inbound_result *res)
{
    for (size_t i = 0; i < p->nbatch; i++) {
        mlc_inbound_result found;
        mlc_error fe;
        if (res[i].ok) {
            settle(p, &p->batch[i], &res[i]);
        } else if (mlc_inbound_v2_find(p->ss, p->batch[i].key, &found, &fe) == MLC_OK) {
            /* refused because it already exists (an earlier run's create that we
             * never heard back from): link it */
            settle(p, &p->batch[i], &found);
        } else {
            mlc_error re;
            mlc_error_set(&re, MLC_ERR_REMOTE, "ShipStation refused the shipment: %s", res[i].error);
            fail(p, p->batch[i].po, &re);
            if (p->st)
                mlc_store_reject(p->st, CMD_NAME, "shipstation", 0, re.msg, p->batch[i].po, &re);
        }
    }
}

static void flush_v2(mlc_push *p)
{
    mlc_error e = {0};
    for (int attempt = 0; p->nbatch > 0; attempt++) {
        cJSON **payloads = calloc(p->nbatch, sizeof *payloads);
        mlc_inbound_result *res = calloc(p->nbatch, sizeof *res);
        if (!payloads || !res) {
            free(payloads);
            free(res);
            mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
            for (size_t i = 0; i < p->nbatch; i++)
                fail(p, p->batch[i].po, &e);
            batch_clear(p);
            break;
        }
        time_t started = time(NULL);
        for (size_t i = 0; i < p->nbatch; i++) {
            payloads[i] = p->batch[i].payload;
            /* until when this create may still be executing, should we die in it */
            set_settle(p, p->batch[i].po, (int64_t)started + p->o.timeout_s + p->o.margin_s);
        }
        mlc_err rc = mlc_inbound_v2_create(p->ss, payloads, p->nbatch, res, &e);
        free(payloads);
        if (rc == MLC_OK) {
            settle_answers(p, res);
            free(res);
            batch_clear(p);
            break;
        }
        free(res);
        if (rc != MLC_ERR_TRANSIENT || attempt + 1 >= p->o.max_attempts) {
            /* Intents stay recorded: the next run looks the keys up first. */
            for (size_t i = 0; i < p->nbatch; i++)
                fail(p, p->batch[i].po, &e);
            batch_clear(p);
            break;
        }
        if (stopping(p)) {
            /* no retry after a stop signal: the intents make the next run look up first */
            batch_not_pushed(p);
            break;
        }
        if (e.http_status == 429) {
            /* Refused by the rate limit before anything was done: a known outcome, so
             * no settle wait and no lookup; the same batch again after the wait the
             * server asked for (the limiter also holds every process on the key). */
            long ms = mlc_backoff_delay_ms(p->bo, attempt);
            if (e.retry_after_ms > ms)
                ms = e.retry_after_ms;
            mlc_log_warn(p->log, "create call rate limited (%s): %zu creates again in %ld ms", e.msg,
                         p->nbatch, ms);
            if (mlc_backoff_sleep(ms, stop_asked, p)) {
                batch_not_pushed(p);
                break;
            }
            continue;
        }
        /* The outcome is unknown and ShipStation may still be executing the call: the
         * keys are looked up only once it cannot be (its deadline + the margin, and at
         * least the margin from now), never before. */
        long ms = mlc_backoff_delay_ms(p->bo, attempt);
        time_t now = time(NULL), settle_at = started + (time_t)(p->o.timeout_s + p->o.margin_s);
        if (settle_at < now + (time_t)p->o.margin_s)
            settle_at = now + (time_t)p->o.margin_s;
        if (ms < (long)(settle_at - now) * 1000)
            ms = (long)(settle_at - now) * 1000;
        for (size_t i = 0; i < p->nbatch; i++)
            set_settle(p, p->batch[i].po, (int64_t)settle_at);
        mlc_log_warn(p->log,
                     "create call failed (%s): %zu creates in doubt; looking the keys up in %ld ms, then retrying",
                     e.msg, p->nbatch, ms);
        if (mlc_backoff_sleep(ms, stop_asked, p)) {
            /* stopped while waiting: nothing is looked up before the deadline, nothing
             * new starts; the intents make the next run look up first */
            batch_not_pushed(p);
            break;
        }
        p->nbatch = resolve_unknown(p);
    }
}

/* The V1 intent: a link without id for a new PO (a linked one keeps its id: its
 * upsert carries orderId and cannot make a second order), with its deadline. */
static void v1_intent(mlc_push *p, const pending *q, int64_t settle_after)
{
    mlc_error e;
    mlc_store_link *link = NULL;
    mlc_err rc = mlc_store_link_get(p->st, q->po, &link, &e);
    if (rc == MLC_ERR_NOTFOUND) {
        mlc_store_link l = {.po = (char *)q->po,
                            .order_key = (char *)q->key,
                            .api = "v1",
                            .status = "open",
                            .settle_after = settle_after};
        rc = mlc_store_link_put(p->st, &l, &e);
    } else if (rc == MLC_OK && !link->shipstation_id) {
        rc = mlc_store_link_set_settle(p->st, q->po, settle_after, &e);
    }
    if (rc && rc != MLC_ERR_NOTFOUND)
        mlc_log_error(p->log, "PO %s: %s", q->po, e.msg);
    mlc_store_link_free(link);
}

static void flush_v1(mlc_push *p)
{
    mlc_error e;
    cJSON **orders = calloc(p->nbatch ? p->nbatch : 1, sizeof *orders);
    mlc_inbound_result *res = calloc(p->nbatch ? p->nbatch : 1, sizeof *res);
    if (!orders || !res) {
        mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < p->nbatch; i++)
            fail(p, p->batch[i].po, &e);
    } else {
        time_t started = time(NULL);
        for (size_t i = 0; i < p->nbatch; i++) {
            orders[i] = p->batch[i].payload;
            /* V1 upserts by orderKey, but a second upsert racing an earlier one that
             * ShipStation is still executing could still make two orders: the same
             * rule as V2, an intent (kept with the id of a linked PO) with a deadline */
            v1_intent(p, &p->batch[i], (int64_t)started + p->o.timeout_s + p->o.margin_s);
        }
        mlc_err rc = mlc_inbound_v1_upsert(p->ss, orders, p->nbatch, res, &e);
        for (size_t i = 0; i < p->nbatch; i++) {
            if (rc) {
                if (rc == MLC_ERR_TRANSIENT) /* unknown outcome: not before now + margin */
                    set_settle(p, p->batch[i].po, (int64_t)time(NULL) + p->o.margin_s);
                fail(p, p->batch[i].po, &e);
            } else if (res[i].ok) {
                settle(p, &p->batch[i], &res[i]);
            } else {
                mlc_error re;
                mlc_error_set(&re, MLC_ERR_REMOTE, "ShipStation refused the order: %s", res[i].error);
                fail(p, p->batch[i].po, &re);
            }
        }
    }
    free(orders);
    free(res);
    batch_clear(p);
}

static void flush(mlc_push *p)
{
    if (p->nbatch == 0)
        return;
    if (stopping(p)) {
        /* no new call after a stop signal; the intents stay for the next run */
        batch_not_pushed(p);
        return;
    }
    if (p->o.api == MLC_SS_V1)
        flush_v1(p);
    else
        flush_v2(p);
}

static void enqueue(mlc_push *p, cJSON *payload, const char *po, const char *key, const char *hash,
                    mlc_push_action action)
{
    pending *q = &p->batch[p->nbatch++];
    q->payload = payload;
    snprintf(q->po, sizeof q->po, "%s", po);
    snprintf(q->key, sizeof q->key, "%s", key);
    snprintf(q->hash, sizeof q->hash, "%s", hash);
    q->action = action;
    if (p->nbatch >= p->o.batch_max)
        flush(p);
}

/* ---- one PO ---- */

static void cancel_linked(mlc_push *p, const char *po, mlc_store_link *link)
{
    mlc_error e;
    mlc_err rc;
    if (p->o.api == MLC_SS_V1) {
        /* V1 cancels through the same upsert, orderId included. */
        mlc_inbound_result res;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "orderNumber", po);
        cJSON_AddStringToObject(o, "orderKey", link->order_key);
        cJSON_AddNumberToObject(o, "orderId", strtod(link->shipstation_id, NULL));
        cJSON_AddStringToObject(o, "orderStatus", "cancelled");
        rc = mlc_inbound_v1_upsert(p->ss, &o, 1, &res, &e);
        cJSON_Delete(o);
        if (!rc && !res.ok)
            rc = mlc_error_set(&e, MLC_ERR_REMOTE, "ShipStation refused the cancel: %s", res.error);
    } else {
        rc = mlc_inbound_v2_cancel(p->ss, link->shipstation_id, &e);
    }
    if (rc) {
        fail(p, po, &e);
        return;
    }
    link_save(p, po, link->order_key, link->shipstation_id, link->hash, "cancelled", NULL);
    report(p, MLC_PUSH_CANCELLED, po, link->order_key, link->shipstation_id);
}

static void handle_closed(mlc_push *p, const char *po)
{
    mlc_store_link *link = NULL;
    mlc_error e;
    mlc_err rc = mlc_store_link_get(p->st, po, &link, &e);
    if (rc == MLC_ERR_NOTFOUND)
        return; /* never pushed: nothing to cancel */
    if (rc) {
        fail(p, po, &e);
        return;
    }
    if (strcmp(link->status, "open") == 0 && link->shipstation_id && p->o.cancel_closed)
        cancel_linked(p, po, link);
    else
        report(p, MLC_PUSH_UNCHANGED, po, link->order_key, link->shipstation_id);
    mlc_store_link_free(link);
}

/* Dry run: sets the payload's key to the one the real run would send, from the
 * link table when the state database exists (it is only read). Returns 0 when
 * the real run would send nothing (unchanged, or nothing left to ship). The
 * payload's hash is needed only to compare it with a link's. */
static int plan_dry_run(mlc_push *p, const char *po, cJSON *payload)
{
    mlc_store_link *link = NULL;
    mlc_error e;
    int send = 1;
    char hash[65];
    if (cJSON_GetArraySize(cJSON_GetObjectItem(payload, "items")) == 0)
        return 0;
    if (!p->st || mlc_store_link_get(p->st, po, &link, &e) != MLC_OK)
        return 1;
    if (link->shipstation_id && link->hash && !strcmp(link->status, "open") &&
        (mlc_map_hash(payload, hash), !strcmp(link->hash, hash))) {
        send = 0;
    } else if (p->o.api == MLC_SS_V2 && link->shipstation_id && strcmp(link->status, "open") == 0) {
        long long cono;
        char q[32], key[64];
        int rev = 1;
        if (mlc_map_parse_order_key(link->order_key, &cono, q, &rev) == 0) {
            mlc_map_order_key(cono, po, rev + 1, key, sizeof key);
            cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(key));
        }
    } else if (p->o.api == MLC_SS_V2 && !link->shipstation_id) {
        cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(link->order_key));
    }
    mlc_store_link_free(link);
    return send;
}

/* V2, linked PO whose content changed: cancel and re-create under the next revision. */
static void replace_v2(mlc_push *p, const char *po, mlc_store_link *link, cJSON *payload, const char *hash,
                       const cJSON *rec)
{
    mlc_error e;
    long long cono;
    char q[32], key[64];
    int rev = 1;
    if (mlc_inbound_v2_cancel(p->ss, link->shipstation_id, &e) != MLC_OK) {
        mlc_error_prefix(&e, "cannot update shipment %s (already labelled or shipped?)", link->shipstation_id);
        fail(p, po, &e);
        cJSON_Delete(payload);
        return;
    }
    mlc_map_parse_order_key(link->order_key, &cono, q, &rev);
    mlc_map_order_key(cono, po, rev + 1, key, sizeof key);
    cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(key));
    link_save(p, po, key, NULL, hash, "open", rec); /* intent for the new revision */
    enqueue(p, payload, po, key, hash, MLC_PUSH_UPDATED);
}

/* Fresh state: is this PO's shipment already in ShipStation? Its keys are looked up
 * revision by revision (a changed PO was cancelled and re-created under the next
 * one). 1 = handled (linked to the live shipment, or the lookup failed and the PO is
 * left for a later run); 0 = not there: create, under the key now in key (the next
 * revision if only cancelled ones exist; payload updated). */
static int fresh_lookup(mlc_push *p, const char *po, char *key, size_t cap, const char *hash, cJSON *payload,
                        const cJSON *rec)
{
    long long cono;
    char q[32], k[64];
    int rev = 1;
    mlc_error e;
    if (mlc_map_parse_order_key(key, &cono, q, &rev))
        return 0;
    for (int i = 0; i < 50; i++, rev++) {
        mlc_inbound_result found;
        mlc_map_order_key(cono, q, rev, k, sizeof k);
        mlc_err rc = mlc_inbound_v2_find(p->ss, k, &found, &e);
        if (rc == MLC_ERR_NOTFOUND)
            break;
        if (rc) {
            fail(p, po, &e);
            cJSON_Delete(payload);
            return 1;
        }
        if (strcmp(found.status, "cancelled") != 0) {
            /* [limit] the live shipment is linked as it is: a PO changed while the
             * state was lost is updated on its next change, not now */
            link_save(p, po, k, found.id, hash, "open", rec);
            report(p, MLC_PUSH_UNCHANGED, po, k, found.id);
            cJSON_Delete(payload);
            return 1;
        }
    }
    if (rev > 1 && strcmp(k, key) != 0) {
        mlc_map_order_key(cono, q, rev, k, sizeof k);
        snprintf(key, cap, "%s", k);
        cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(key));
    }
    return 0;
}

/* V2, an intent from an earlier run: did that create reach ShipStation? */
static void resolve_intent(mlc_push *p, const char *po, mlc_store_link *link, cJSON *payload, const char *hash,
                           const cJSON *rec)
{
    mlc_inbound_result found;
    mlc_error e;
    char key[64];
    snprintf(key, sizeof key, "%s", link->order_key);
    cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(key));
    mlc_err rc = mlc_inbound_v2_find(p->ss, key, &found, &e);
    if (rc == MLC_OK && link->hash && !strcmp(link->hash, hash)) {
        link_save(p, po, key, found.id, hash, "open", rec);
        report(p, MLC_PUSH_CREATED, po, key, found.id);
        cJSON_Delete(payload);
    } else if (rc == MLC_OK) {
        /* it did, but the PO changed since: replace it */
        link->shipstation_id = strdup(found.id);
        replace_v2(p, po, link, payload, hash, rec);
    } else if (rc == MLC_ERR_NOTFOUND) {
        link_save(p, po, key, NULL, hash, "open", rec);
        enqueue(p, payload, po, key, hash, MLC_PUSH_CREATED);
    } else {
        fail(p, po, &e);
        cJSON_Delete(payload);
    }
}

static void handle_po(mlc_push *p, const cJSON *rec, const char *source, unsigned long lineno, const char *line,
                      size_t len)
{
    mlc_error e;
    cJSON *payload = NULL;
    char hash[65];
    const cJSON *pon = cJSON_GetObjectItemCaseSensitive(rec, "po");
    const char *pos = cJSON_IsString(pon) ? pon->valuestring : NULL;
    /* the same checks in the dry run and the real run: both see the same keys */
    if (mlc_record_check(rec, p->o.cono, &e)) {
        reject(p, pos, source, lineno, &e, line, len);
        return;
    }
    const char *po = pos;
    if (!p->o.dry_run && mlc_po_status(rec) >= p->o.closed_status) {
        if (mlc_map_check_po(rec, &e))
            reject(p, pos, source, lineno, &e, line, len);
        else
            handle_closed(p, po);
        return;
    }
    /* the mapping checks the record's shape first (mlc_map_check_po, once) */
    mlc_err rc = p->o.api == MLC_SS_V1 ? mlc_map_po_to_v1(p->map, rec, &payload, &e)
                                       : mlc_map_po_to_v2(p->map, rec, &payload, &e);
    if (rc) {
        reject(p, po, source, lineno, &e, line, len);
        return;
    }
    if (p->o.dry_run) {
        /* the key the real run would use: an earlier intent's, or the next
         * revision of a changed linked shipment (V2); nothing when unchanged */
        if (plan_dry_run(p, po, payload)) {
            mlc_push_outcome out = {.action = MLC_PUSH_REQUEST, .po = po, .api = p->o.api, .body = payload};
            if (p->cb)
                p->cb(p->ud, &out);
        }
        cJSON_Delete(payload);
        return;
    }
    mlc_map_hash(payload, hash);
    const char *key_field = p->o.api == MLC_SS_V1 ? "orderKey" : "external_shipment_id";
    char key[64];
    snprintf(key, sizeof key, "%s", cJSON_GetObjectItem(payload, key_field)->valuestring);
    mlc_store_link *link = NULL;
    rc = mlc_store_link_get(p->st, po, &link, &e);
    if (rc && rc != MLC_ERR_NOTFOUND) {
        fail(p, po, &e);
        cJSON_Delete(payload);
        return;
    }
    int has_items = cJSON_GetArraySize(cJSON_GetObjectItem(payload, "items")) > 0;
    if (link && link->shipstation_id && link->hash && !strcmp(link->hash, hash) && !strcmp(link->status, "open")) {
        report(p, MLC_PUSH_UNCHANGED, po, link->order_key, link->shipstation_id);
        cJSON_Delete(payload);
    } else if (!has_items) {
        /* nothing left to ship (fully received): leave ShipStation as it is */
        if (link)
            report(p, MLC_PUSH_UNCHANGED, po, link->order_key, link->shipstation_id);
        cJSON_Delete(payload);
    } else if (link && !link->shipstation_id && link->settle_after > (int64_t)time(NULL)) {
        /* an earlier run's create may still be executing: never look it up (V2) or upsert
         * it again (V1) before it cannot be */
        char when[32];
        mlc_dates_format_rfc3339((time_t)link->settle_after, when);
        mlc_log_warn(p->log, "PO %s: the create of %s may still be executing in ShipStation; settled after %s", po,
                     link->order_key, when);
        report(p, MLC_PUSH_IN_DOUBT, po, link->order_key, NULL);
        cJSON_Delete(payload);
    } else if (p->o.api == MLC_SS_V1) {
        if (link && link->shipstation_id)
            cJSON_AddNumberToObject(payload, "orderId", strtod(link->shipstation_id, NULL));
        enqueue(p, payload, po, key, hash, link && link->shipstation_id ? MLC_PUSH_UPDATED : MLC_PUSH_CREATED);
    } else if (link && !link->shipstation_id) {
        resolve_intent(p, po, link, payload, hash, rec);
    } else if (link && link->shipstation_id) {
        replace_v2(p, po, link, payload, hash, rec);
    } else if (p->fresh && fresh_lookup(p, po, key, sizeof key, hash, payload, rec)) {
        /* found in ShipStation (linked), or the lookup failed (reported): no create */
    } else {
        link_save(p, po, key, NULL, hash, "open", rec); /* intent before the create */
        enqueue(p, payload, po, key, hash, MLC_PUSH_CREATED);
    }
    mlc_store_link_free(link);
}

/* ---- what push-shipments makes of a record (pull-pos's redelivery) ---- */

/* The checks of handle_po, without ShipStation or the store: MLC_ERR_INPUT when
 * it would reject the record; *closed for a closed PO; else *payload (the
 * caller's) when it has items to ship, NULL when nothing is left to ship. */
static mlc_err judge(const mlc_map *map, const mlc_push_options *o, const cJSON *rec, int *closed, cJSON **payload,
                     mlc_error *err)
{
    *closed = 0;
    *payload = NULL;
    mlc_err rc = mlc_record_check(rec, o->cono, err);
    if (rc)
        return rc;
    if (mlc_po_status(rec) >= o->closed_status) {
        *closed = 1;
        return mlc_map_check_po(rec, err);
    }
    rc = o->api == MLC_SS_V1 ? mlc_map_po_to_v1(map, rec, payload, err) : mlc_map_po_to_v2(map, rec, payload, err);
    if (rc)
        return rc;
    if (cJSON_GetArraySize(cJSON_GetObjectItem(*payload, "items")) <= 0) {
        cJSON_Delete(*payload);
        *payload = NULL;
    }
    return MLC_OK;
}

mlc_err mlc_push_wants(const mlc_map *map, const mlc_push_options *o, const cJSON *rec, int *wants, mlc_error *err)
{
    int closed;
    cJSON *payload;
    *wants = 0;
    mlc_err rc = judge(map, o, rec, &closed, &payload, err);
    if (rc)
        return rc;
    *wants = payload != NULL || (closed && o->cancel_closed);
    cJSON_Delete(payload);
    return MLC_OK;
}

mlc_err mlc_push_taken_in(mlc_store *st, const mlc_map *map, const mlc_push_options *o, const cJSON *rec, int *taken,
                          mlc_error *err)
{
    int closed;
    cJSON *payload;
    char hash[65];
    *taken = 0;
    mlc_err rc = judge(map, o, rec, &closed, &payload, err);
    if (rc)
        return rc;
    if (!closed && !payload) {
        *taken = 1; /* nothing left to ship: push-shipments leaves ShipStation as it is */
        return MLC_OK;
    }
    if (payload)
        mlc_map_hash(payload, hash);
    cJSON_Delete(payload);
    const char *po = rec_str(rec, "po");
    if (!po)
        return mlc_error_set(err, MLC_ERR_INPUT, "field 'po' is missing");
    mlc_store_link *link = NULL;
    rc = mlc_store_link_get(st, po, &link, err);
    if (rc == MLC_ERR_NOTFOUND) {
        *taken = closed; /* closed and never pushed: nothing to cancel */
        return MLC_OK;
    }
    if (rc)
        return rc;
    int open = strcmp(link->status, "open") == 0;
    if (closed) /* cancelled, or not to be cancelled */
        *taken = !(open && link->shipstation_id && o->cancel_closed);
    else /* an intent alone is not enough: the create may never have been sent */
        *taken = open && link->shipstation_id && link->hash && strcmp(link->hash, hash) == 0;
    mlc_store_link_free(link);
    return MLC_OK;
}

/* ---- the engine ---- */

mlc_err mlc_push_new(const mlc_push_options *o, mlc_ss *ss, mlc_store *st, const mlc_map *map, mlc_log *log,
                     mlc_push **out, mlc_error *err)
{
    *out = NULL;
    if (!o->dry_run && (!ss || !st))
        return mlc_error_set(err, MLC_ERR_CONFIG, "push: a real run needs ShipStation and the store");
    mlc_push *p = calloc(1, sizeof *p);
    if (!p)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    p->o = *o;
    if (p->o.batch_max < 1)
        p->o.batch_max = 1;
    if (p->o.api == MLC_SS_V1 && p->o.batch_max > MLC_INBOUND_V1_MAX)
        p->o.batch_max = MLC_INBOUND_V1_MAX;
    if (p->o.timeout_s < 0)
        p->o.timeout_s = 0;
    if (p->o.margin_s < 0)
        p->o.margin_s = 0;
    p->ss = ss;
    p->st = st;
    p->map = map;
    p->log = log;
    p->batch = calloc(p->o.batch_max, sizeof *p->batch);
    p->bo = mlc_backoff_new(p->o.base_ms < 0 ? 0 : p->o.base_ms, p->o.cap_ms < 0 ? 0 : p->o.cap_ms,
                            p->o.max_attempts < 0 ? 0 : p->o.max_attempts, 0);
    if (!p->batch || !p->bo) {
        mlc_push_free(p);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    if (!p->o.dry_run && p->o.api == MLC_SS_V2) {
        long nlinks = 0;
        mlc_error e;
        if (mlc_store_link_count(st, "v2", &nlinks, &e) == MLC_OK && nlinks == 0) {
            p->fresh = 1;
            mlc_log_warn(log, "fresh state: no shipment links in the store; each PO's key is looked up in "
                              "ShipStation before anything is created");
            if (mlc_store_audit(st, 0, "fresh_state", "{\"stream\":\"push-shipments:v2\"}", &e))
                mlc_log_error(log, "audit: %s", e.msg);
        }
    }
    *out = p;
    return MLC_OK;
}

void mlc_push_free(mlc_push *p)
{
    if (!p)
        return;
    batch_clear(p);
    free(p->batch);
    mlc_backoff_free(p->bo);
    free(p);
}

void mlc_push_stop_on(mlc_push *p, mlc_ctx *ctx) { p->stop_ctx = ctx; }

void mlc_push_po(mlc_push *p, const cJSON *rec, const char *source, unsigned long lineno, const char *line, size_t len,
                 mlc_push_cb cb, void *ud)
{
    const cJSON *pon = cJSON_GetObjectItemCaseSensitive(rec, "po");
    p->cb = cb;
    p->ud = ud;
    if (!p->o.dry_run && stopping(p) && cJSON_IsString(pon))
        not_pushed(p, pon->valuestring); /* stop signal: read on to the end, push nothing new */
    else
        handle_po(p, rec, source, lineno, line, len);
}

void mlc_push_reject_line(mlc_push *p, const char *source, unsigned long lineno, const char *reason, const char *line,
                          size_t len, mlc_push_cb cb, void *ud)
{
    mlc_error why;
    p->cb = cb;
    p->ud = ud;
    mlc_error_set(&why, MLC_ERR_INPUT, "%s", reason);
    reject(p, NULL, source, lineno, &why, line, len);
}

void mlc_push_flush(mlc_push *p, mlc_push_cb cb, void *ud)
{
    p->cb = cb;
    p->ud = ud;
    flush(p);
}

const mlc_push_stats *mlc_push_stats_get(const mlc_push *p) { return &p->stats; }
