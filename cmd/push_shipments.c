/*
 * push_shipments.c: `mlc push-shipments`: reads purchase_order records and creates
 * or updates the matching inbound shipments in ShipStation, in bulk, exactly one
 * per PO (see man/mlc-push-shipments.1).
 *
 * Idempotency: mlc's key (external_shipment_id / orderKey) is recorded in the
 * store's link table BEFORE a V2 create ("intent"); a later run that finds an
 * intent without a ShipStation id looks the key up before creating again, so a
 * crash or a lost response never makes a second shipment. V1 upserts by
 * orderKey (with an intent and its deadline too, see below). An unchanged PO (same payload hash) costs no API call.
 *
 * In doubt (issue 17): a create whose outcome is unknown (timeout, reset, broken
 * answer, a killed run) may still be executing in ShipStation. Its intent records,
 * when the call starts, until when (deadline shipstation.timeout + retry.in_doubt_margin);
 * the key is looked up (V2) or upserted again (V1: a new PO's upsert records an
 * intent too) only after that, never before. A fresh state (no V2 link at
 * all: a lost or moved state directory) looks every key up before creating:
 * ShipStation is the memory, the link table a cache.
 * Not here: mapping (lib/map), the API calls (lib/inbound), SQL (lib/store).
 */
#include "backoff.h"
#include "builtin.h"
#include "dates.h"
#include "cmd.h"
#include "inbound.h"
#include "jsonl.h"
#include "map.h"
#include "po.h"
#include "record.h"
#include "shipstation.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

static const char usage[] = "usage: mlc push-shipments [--dry-run] [--api v1|v2] [--batch N] [FILE]\n"
                            "\n"
                            "Reads purchase_order records (JSON lines, from FILE or standard input) and creates\n"
                            "or updates one ShipStation inbound shipment per PO; writes inbound_shipment records.\n"
                            "Records of other kinds pass through unchanged.\n"
                            "\n"
                            "  --dry-run     print the requests it would send (kind shipstation_request), with the\n"
                            "                keys the real run would use; no calls, no state changes, no credentials\n"
                            "  --api V       v2 or v1 (default: shipstation.api)\n"
                            "  --batch N     shipments per create call (default 100; V1 at most 100)\n"
                            "  -h, --help    this help\n";

#define CMD_NAME "push-shipments"

typedef struct pending {
    cJSON *payload;     /* owned */
    char po[32];
    char key[64];
    char hash[65];
    const char *action; /* "created" | "updated" */
} pending;

typedef struct push_run {
    mlc_ctx *ctx;
    mlc_log *log;
    const mlc_config *cfg;
    mlc_store *st;
    mlc_ss *ss;
    mlc_map *map;
    mlc_jsonl_writer *w;
    const char *source; /* input name for messages and rejects: FILE or "stdin" */
    mlc_ss_version api;
    int dry_run;
    size_t batch_max;
    pending *batch;
    size_t nbatch;
    long created, updated, unchanged, cancelled, rejected, failed, not_pushed, in_doubt;
    int fresh;           /* V2 and no link in the store: look keys up before creating */
    long long timeout_s, margin_s;
    mlc_err worst;
    int out_closed;
} push_run;

/* ---- output ---- */

static void emit(push_run *r, cJSON *rec)
{
    mlc_error e;
    if (r->out_closed) {
        cJSON_Delete(rec);
        return;
    }
    mlc_err rc = mlc_jsonl_write(r->w, rec, &e);
    if (rc == MLC_ERR_PIPE)
        r->out_closed = 1;
    else if (rc) {
        mlc_log_error(r->log, "%s", e.msg);
        r->worst = rc;
        r->out_closed = 1;
    }
    cJSON_Delete(rec);
}

static void emit_result(push_run *r, const char *po, const char *key, const char *id, const char *action)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "inbound_shipment");
    cJSON_AddStringToObject(o, "po", po);
    cJSON_AddStringToObject(o, "order_key", key);
    if (id && *id)
        cJSON_AddStringToObject(o, "shipstation_id", id);
    else
        cJSON_AddNullToObject(o, "shipstation_id");
    cJSON_AddStringToObject(o, "api", r->api == MLC_SS_V1 ? "v1" : "v2");
    cJSON_AddStringToObject(o, "action", action);
    emit(r, o);
    if (!strcmp(action, "created"))
        r->created++;
    else if (!strcmp(action, "updated"))
        r->updated++;
    else if (!strcmp(action, "cancelled"))
        r->cancelled++;
    else if (!strcmp(action, "in_doubt")) {
        r->in_doubt++;
        if (r->worst == MLC_OK)
            r->worst = MLC_ERR_TRANSIENT; /* exit 75: a later run settles it */
    } else
        r->unchanged++;
}

static void reject(push_run *r, unsigned long lineno, const char *reason, const char *line, size_t len)
{
    mlc_error e;
    mlc_log_error(r->log, "%s:%lu: %s", r->source, lineno, reason);
    r->rejected++;
    if (r->st && !r->dry_run && mlc_store_reject_n(r->st, CMD_NAME, r->source, lineno, reason, line, len, &e))
        mlc_log_error(r->log, "%s", e.msg);
}

static void fail(push_run *r, const char *po, const mlc_error *e)
{
    mlc_log_error(r->log, "PO %s: %s", po, e->msg);
    r->failed++;
    if (r->worst == MLC_OK || e->code == MLC_ERR_TRANSIENT)
        r->worst = e->code;
}

/* After a stop signal a PO read is not pushed: its pull-pos content hash is
 * forgotten so that the next pull-pos emits it again (nothing read is lost). */
static void not_pushed(push_run *r, const char *po)
{
    mlc_error e;
    r->not_pushed++;
    if (r->st && mlc_store_seen_delete(r->st, "po", po, &e))
        mlc_log_error(r->log, "PO %s: %s", po, e.msg);
}

/* ---- links ---- */

static char *rec_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* rec: the PO record, whose routing facts (order type, warehouse, supplier) the
 * link keeps for receipts (V2 shipments carry no custom fields); NULL keeps the
 * link's facts as they are. */
static void link_save(push_run *r, const char *po, const char *key, const char *id, const char *hash,
                      const char *status, const cJSON *rec)
{
    mlc_error e;
    mlc_store_link l = {.po = (char *)po, .order_key = (char *)key, .shipstation_id = (char *)id,
                        .api = r->api == MLC_SS_V1 ? "v1" : "v2", .hash = (char *)hash, .status = (char *)status,
                        .order_type = rec_str(rec, "order_type"), .warehouse = rec_str(rec, "warehouse"),
                        .supplier = rec_str(cJSON_GetObjectItemCaseSensitive(rec, "supplier"), "id")};
    if (mlc_store_link_put(r->st, &l, &e)) {
        fail(r, po, &e);
        r->worst = e.code;
    }
}

/* ---- V2 create with intent, lookup and retry ---- */

static void batch_clear(push_run *r)
{
    for (size_t i = 0; i < r->nbatch; i++)
        cJSON_Delete(r->batch[i].payload);
    r->nbatch = 0;
}

static void settle(push_run *r, pending *p, const mlc_inbound_result *res)
{
    link_save(r, p->po, p->key, res->id, p->hash, "open", NULL);
    emit_result(r, p->po, p->key, res->id, p->action);
}

/* After a transient failure the outcome is unknown: look each key up. Returns
 * how many are still unresolved (moved to the front of the batch). */
static size_t resolve_unknown(push_run *r)
{
    size_t left = 0;
    for (size_t i = 0; i < r->nbatch; i++) {
        pending *p = &r->batch[i];
        mlc_inbound_result found;
        mlc_error e;
        mlc_err rc = mlc_inbound_v2_find(r->ss, p->key, &found, &e);
        if (rc == MLC_OK) {
            settle(r, p, &found);
            cJSON_Delete(p->payload);
        } else {
            r->batch[left++] = *p; /* not there, or not known yet: create again */
        }
    }
    return left;
}

static void flush_v2(push_run *r)
{
    long long max_attempts = mlc_config_int(r->cfg, "retry.max_attempts");
    mlc_backoff *bo = mlc_backoff_new(mlc_config_int(r->cfg, "retry.base_ms"), mlc_config_int(r->cfg, "retry.cap_ms"),
                                      (int)max_attempts, 0);
    mlc_error e = {0};
    for (int attempt = 0; r->nbatch > 0; attempt++) {
        cJSON **payloads = calloc(r->nbatch, sizeof *payloads);
        mlc_inbound_result *res = calloc(r->nbatch, sizeof *res);
        if (!payloads || !res) {
            free(payloads);
            free(res);
            break;
        }
        time_t started = time(NULL);
        for (size_t i = 0; i < r->nbatch; i++) {
            mlc_error se;
            payloads[i] = r->batch[i].payload;
            /* until when this create may still be executing, should we die in it */
            if (mlc_store_link_set_settle(r->st, r->batch[i].po, (int64_t)started + r->timeout_s + r->margin_s, &se))
                mlc_log_error(r->log, "%s", se.msg);
        }
        mlc_err rc = mlc_inbound_v2_create(r->ss, payloads, r->nbatch, res, &e);
        free(payloads);
        if (rc == MLC_OK) {
            for (size_t i = 0; i < r->nbatch; i++) {
                mlc_inbound_result found;
                mlc_error fe;
                if (res[i].ok) {
                    settle(r, &r->batch[i], &res[i]);
                } else if (mlc_inbound_v2_find(r->ss, r->batch[i].key, &found, &fe) == MLC_OK) {
                    /* refused because it already exists (an earlier run's create
                     * that we never heard back from): link it */
                    settle(r, &r->batch[i], &found);
                } else {
                    mlc_error re;
                    mlc_error_set(&re, MLC_ERR_REMOTE, "ShipStation refused the shipment: %s", res[i].error);
                    fail(r, r->batch[i].po, &re);
                    if (r->st)
                        mlc_store_reject(r->st, CMD_NAME, "shipstation", 0, re.msg, r->batch[i].po, &re);
                }
            }
            free(res);
            batch_clear(r);
            break;
        }
        free(res);
        if (rc != MLC_ERR_TRANSIENT || attempt + 1 >= max_attempts) {
            /* Intents stay recorded: the next run looks the keys up first. */
            for (size_t i = 0; i < r->nbatch; i++)
                fail(r, r->batch[i].po, &e);
            batch_clear(r);
            break;
        }
        if (mlc_ctx_stopping(r->ctx)) {
            /* no retry after a stop signal: the intents make the next run look up first */
            for (size_t i = 0; i < r->nbatch; i++)
                not_pushed(r, r->batch[i].po);
            batch_clear(r);
            break;
        }
        /* The outcome is unknown and ShipStation may still be executing the call: the
         * keys are looked up only once it cannot be (its deadline + the margin, and at
         * least the margin from now), never before. */
        long ms = mlc_backoff_delay_ms(bo, attempt);
        time_t now = time(NULL), settle = started + (time_t)(r->timeout_s + r->margin_s);
        if (settle < now + (time_t)r->margin_s)
            settle = now + (time_t)r->margin_s;
        if (ms < (long)(settle - now) * 1000)
            ms = (long)(settle - now) * 1000;
        for (size_t i = 0; i < r->nbatch; i++) {
            mlc_error se;
            if (mlc_store_link_set_settle(r->st, r->batch[i].po, (int64_t)settle, &se))
                mlc_log_error(r->log, "%s", se.msg);
        }
        mlc_log_warn(r->log, "create call failed (%s): %zu creates in doubt; looking the keys up in %ld ms, then "
                     "retrying", e.msg, r->nbatch, ms);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        r->nbatch = resolve_unknown(r);
    }
    mlc_backoff_free(bo);
}

/* The V1 intent: a link without id for a new PO (a linked one keeps its id: its
 * upsert carries orderId and cannot make a second order), with its deadline. */
static void v1_intent(push_run *r, const pending *p, int64_t settle_after)
{
    mlc_error e;
    mlc_store_link *link = NULL;
    mlc_err rc = mlc_store_link_get(r->st, p->po, &link, &e);
    if (rc == MLC_ERR_NOTFOUND) {
        mlc_store_link l = {.po = (char *)p->po, .order_key = (char *)p->key, .api = "v1", .status = "open",
                            .settle_after = settle_after};
        rc = mlc_store_link_put(r->st, &l, &e);
    } else if (rc == MLC_OK && !link->shipstation_id) {
        rc = mlc_store_link_set_settle(r->st, p->po, settle_after, &e);
    }
    if (rc && rc != MLC_ERR_NOTFOUND)
        mlc_log_error(r->log, "PO %s: %s", p->po, e.msg);
    mlc_store_link_free(link);
}

static void flush_v1(push_run *r)
{
    mlc_error e;
    cJSON **orders = calloc(r->nbatch ? r->nbatch : 1, sizeof *orders);
    mlc_inbound_result *res = calloc(r->nbatch ? r->nbatch : 1, sizeof *res);
    if (orders && res) {
        time_t started = time(NULL);
        for (size_t i = 0; i < r->nbatch; i++) {
            orders[i] = r->batch[i].payload;
            /* V1 upserts by orderKey, but a second upsert racing an earlier one that
             * ShipStation is still executing could still make two orders: the same
             * rule as V2, an intent (kept with the id of a linked PO) with a deadline */
            v1_intent(r, &r->batch[i], (int64_t)started + r->timeout_s + r->margin_s);
        }
        mlc_err rc = mlc_inbound_v1_upsert(r->ss, orders, r->nbatch, res, &e);
        for (size_t i = 0; i < r->nbatch; i++) {
            if (rc) {
                if (rc == MLC_ERR_TRANSIENT) { /* unknown outcome: not before now + margin */
                    mlc_error se;
                    if (mlc_store_link_set_settle(r->st, r->batch[i].po, (int64_t)time(NULL) + r->margin_s, &se))
                        mlc_log_error(r->log, "%s", se.msg);
                }
                fail(r, r->batch[i].po, &e);
            } else if (res[i].ok) {
                settle(r, &r->batch[i], &res[i]);
            } else {
                mlc_error re;
                mlc_error_set(&re, MLC_ERR_REMOTE, "ShipStation refused the order: %s", res[i].error);
                fail(r, r->batch[i].po, &re);
            }
        }
    }
    free(orders);
    free(res);
    batch_clear(r);
}

static void flush(push_run *r)
{
    if (r->nbatch == 0)
        return;
    if (mlc_ctx_stopping(r->ctx)) {
        /* no new call after a stop signal; the intents stay for the next run */
        for (size_t i = 0; i < r->nbatch; i++)
            not_pushed(r, r->batch[i].po);
        batch_clear(r);
        return;
    }
    if (r->api == MLC_SS_V1)
        flush_v1(r);
    else
        flush_v2(r);
}

static void enqueue(push_run *r, cJSON *payload, const char *po, const char *key, const char *hash,
                    const char *action)
{
    pending *p = &r->batch[r->nbatch++];
    p->payload = payload;
    snprintf(p->po, sizeof p->po, "%s", po);
    snprintf(p->key, sizeof p->key, "%s", key);
    snprintf(p->hash, sizeof p->hash, "%s", hash);
    p->action = action;
    if (r->nbatch >= r->batch_max)
        flush(r);
}

/* ---- one PO ---- */

static int po_closed(const cJSON *po)
{
    return mlc_po_status(po) >= 85;
}

static void cancel_linked(push_run *r, const char *po, mlc_store_link *link)
{
    mlc_error e;
    mlc_err rc;
    if (r->api == MLC_SS_V1) {
        /* V1 cancels through the same upsert, orderId included. */
        mlc_inbound_result res;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "orderNumber", po);
        cJSON_AddStringToObject(o, "orderKey", link->order_key);
        cJSON_AddNumberToObject(o, "orderId", strtod(link->shipstation_id, NULL));
        cJSON_AddStringToObject(o, "orderStatus", "cancelled");
        rc = mlc_inbound_v1_upsert(r->ss, &o, 1, &res, &e);
        cJSON_Delete(o);
        if (!rc && !res.ok)
            rc = mlc_error_set(&e, MLC_ERR_REMOTE, "ShipStation refused the cancel: %s", res.error);
    } else {
        rc = mlc_inbound_v2_cancel(r->ss, link->shipstation_id, &e);
    }
    if (rc) {
        fail(r, po, &e);
        return;
    }
    link_save(r, po, link->order_key, link->shipstation_id, link->hash, "cancelled", NULL);
    emit_result(r, po, link->order_key, link->shipstation_id, "cancelled");
}

static void handle_closed(push_run *r, const char *po)
{
    mlc_store_link *link = NULL;
    mlc_error e;
    mlc_err rc = mlc_store_link_get(r->st, po, &link, &e);
    if (rc == MLC_ERR_NOTFOUND)
        return; /* never pushed: nothing to cancel */
    if (rc) {
        fail(r, po, &e);
        return;
    }
    if (strcmp(link->status, "open") == 0 && link->shipstation_id &&
        strcmp(mlc_config_str(r->cfg, "mapping.closed_po"), "cancel") == 0)
        cancel_linked(r, po, link);
    else
        emit_result(r, po, link->order_key, link->shipstation_id, "unchanged");
    mlc_store_link_free(link);
}

static void dry_run_print(push_run *r, cJSON *payload)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "shipstation_request");
    cJSON_AddStringToObject(o, "api", r->api == MLC_SS_V1 ? "v1" : "v2");
    cJSON_AddStringToObject(o, "method", "POST");
    cJSON_AddStringToObject(o, "path", r->api == MLC_SS_V1 ? "/orders/createorders" : "/v2/shipments");
    cJSON_AddItemToObject(o, "body", payload);
    emit(r, o);
}

/* Dry run: sets the payload's key to the one the real run would send, from the
 * link table when the state database exists (it is only read). Returns 0 when
 * the real run would send nothing (unchanged, or nothing left to ship). */
static int plan_dry_run(push_run *r, const char *po, cJSON *payload, const char *hash)
{
    mlc_store_link *link = NULL;
    mlc_error e;
    int send = 1;
    if (cJSON_GetArraySize(cJSON_GetObjectItem(payload, "items")) == 0)
        return 0;
    if (!r->st || mlc_store_link_get(r->st, po, &link, &e) != MLC_OK)
        return 1;
    if (link->shipstation_id && link->hash && !strcmp(link->hash, hash) && !strcmp(link->status, "open")) {
        send = 0;
    } else if (r->api == MLC_SS_V2 && link->shipstation_id && strcmp(link->status, "open") == 0) {
        long long cono;
        char p[32], key[64];
        int rev = 1;
        if (mlc_map_parse_order_key(link->order_key, &cono, p, &rev) == 0) {
            mlc_map_order_key(cono, po, rev + 1, key, sizeof key);
            cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(key));
        }
    } else if (r->api == MLC_SS_V2 && !link->shipstation_id) {
        cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(link->order_key));
    }
    mlc_store_link_free(link);
    return send;
}

/* V2, linked PO whose content changed: cancel and re-create under the next revision. */
static void replace_v2(push_run *r, const char *po, mlc_store_link *link, cJSON *payload, const char *hash,
                       const cJSON *rec)
{
    mlc_error e;
    long long cono;
    char p[32], key[64];
    int rev = 1;
    if (mlc_inbound_v2_cancel(r->ss, link->shipstation_id, &e) != MLC_OK) {
        mlc_error_prefix(&e, "cannot update shipment %s (already labelled or shipped?)", link->shipstation_id);
        fail(r, po, &e);
        cJSON_Delete(payload);
        return;
    }
    mlc_map_parse_order_key(link->order_key, &cono, p, &rev);
    mlc_map_order_key(cono, po, rev + 1, key, sizeof key);
    cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(key));
    link_save(r, po, key, NULL, hash, "open", rec); /* intent for the new revision */
    enqueue(r, payload, po, key, hash, "updated");
}

/* Fresh state: is this PO's shipment already in ShipStation? Its keys are looked up
 * revision by revision (a changed PO was cancelled and re-created under the next
 * one). 1 = handled (linked to the live shipment, or the lookup failed and the PO is
 * left for a later run); 0 = not there: create, under the key now in key (the next
 * revision if only cancelled ones exist; payload updated). */
static int fresh_lookup(push_run *r, const char *po, char *key, size_t cap, const char *hash, cJSON *payload,
                        const cJSON *rec)
{
    long long cono;
    char p[32], k[64];
    int rev = 1;
    mlc_error e;
    if (mlc_map_parse_order_key(key, &cono, p, &rev))
        return 0;
    for (int i = 0; i < 50; i++, rev++) {
        mlc_inbound_result found;
        mlc_map_order_key(cono, p, rev, k, sizeof k);
        mlc_err rc = mlc_inbound_v2_find(r->ss, k, &found, &e);
        if (rc == MLC_ERR_NOTFOUND)
            break;
        if (rc) {
            fail(r, po, &e);
            cJSON_Delete(payload);
            return 1;
        }
        if (strcmp(found.status, "cancelled") != 0) {
            /* [limit] the live shipment is linked as it is: a PO changed while the
             * state was lost is updated on its next change, not now */
            link_save(r, po, k, found.id, hash, "open", rec);
            emit_result(r, po, k, found.id, "unchanged");
            cJSON_Delete(payload);
            return 1;
        }
    }
    if (rev > 1 && strcmp(k, key) != 0) {
        mlc_map_order_key(cono, p, rev, k, sizeof k);
        snprintf(key, cap, "%s", k);
        cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(key));
    }
    return 0;
}

static void handle_po(push_run *r, cJSON *rec, unsigned long lineno, const char *line, size_t len)
{
    mlc_error e;
    cJSON *payload = NULL;
    char hash[65];
    /* the same check in the dry run and the real run: both see the same keys */
    if (mlc_record_check(rec, mlc_config_int(r->cfg, "cloudsuite.cono"), &e) || mlc_map_check_po(rec, &e)) {
        reject(r, lineno, e.msg, line, len);
        return;
    }
    const char *po = cJSON_GetObjectItem(rec, "po")->valuestring;
    if (!r->dry_run && po_closed(rec)) {
        handle_closed(r, po);
        return;
    }
    mlc_err rc = r->api == MLC_SS_V1 ? mlc_map_po_to_v1(r->map, rec, &payload, &e)
                                     : mlc_map_po_to_v2(r->map, rec, &payload, &e);
    if (rc) {
        reject(r, lineno, e.msg, line, len);
        return;
    }
    mlc_map_hash(payload, hash);
    if (r->dry_run) {
        /* the key the real run would use: an earlier intent's, or the next
         * revision of a changed linked shipment (V2); nothing when unchanged */
        if (!plan_dry_run(r, po, payload, hash)) {
            cJSON_Delete(payload);
            return;
        }
        dry_run_print(r, payload);
        return;
    }
    const char *key_field = r->api == MLC_SS_V1 ? "orderKey" : "external_shipment_id";
    char key[64];
    snprintf(key, sizeof key, "%s", cJSON_GetObjectItem(payload, key_field)->valuestring);
    mlc_store_link *link = NULL;
    rc = mlc_store_link_get(r->st, po, &link, &e);
    if (rc && rc != MLC_ERR_NOTFOUND) {
        fail(r, po, &e);
        cJSON_Delete(payload);
        return;
    }
    int has_items = cJSON_GetArraySize(cJSON_GetObjectItem(payload, "items")) > 0;
    if (link && link->shipstation_id && link->hash && !strcmp(link->hash, hash) && !strcmp(link->status, "open")) {
        emit_result(r, po, link->order_key, link->shipstation_id, "unchanged");
        cJSON_Delete(payload);
    } else if (!has_items) {
        /* nothing left to ship (fully received): leave ShipStation as it is */
        if (link)
            emit_result(r, po, link->order_key, link->shipstation_id, "unchanged");
        cJSON_Delete(payload);
    } else if (link && !link->shipstation_id && link->settle_after > (int64_t)time(NULL)) {
        /* an earlier run's create may still be executing: never look it up (V2) or upsert
         * it again (V1) before it cannot be */
        char when[32];
        mlc_dates_format_rfc3339((time_t)link->settle_after, when);
        mlc_log_warn(r->log, "PO %s: the create of %s may still be executing in ShipStation; settled after %s", po,
                     link->order_key, when);
        emit_result(r, po, link->order_key, NULL, "in_doubt");
        cJSON_Delete(payload);
    } else if (r->api == MLC_SS_V1) {
        if (link && link->shipstation_id)
            cJSON_AddNumberToObject(payload, "orderId", strtod(link->shipstation_id, NULL));
        enqueue(r, payload, po, key, hash, link && link->shipstation_id ? "updated" : "created");
    } else if (link && !link->shipstation_id) {
        /* an intent from an earlier run: did that create reach ShipStation? */
        mlc_inbound_result found;
        snprintf(key, sizeof key, "%s", link->order_key);
        cJSON_ReplaceItemInObjectCaseSensitive(payload, "external_shipment_id", cJSON_CreateString(key));
        rc = mlc_inbound_v2_find(r->ss, key, &found, &e);
        if (rc == MLC_OK && link->hash && !strcmp(link->hash, hash)) {
            link_save(r, po, key, found.id, hash, "open", rec);
            emit_result(r, po, key, found.id, "created");
            cJSON_Delete(payload);
        } else if (rc == MLC_OK) {
            /* it did, but the PO changed since: replace it */
            link->shipstation_id = strdup(found.id);
            replace_v2(r, po, link, payload, hash, rec);
        } else if (rc == MLC_ERR_NOTFOUND) {
            link_save(r, po, key, NULL, hash, "open", rec);
            enqueue(r, payload, po, key, hash, "created");
        } else {
            fail(r, po, &e);
            cJSON_Delete(payload);
        }
    } else if (link && link->shipstation_id) {
        replace_v2(r, po, link, payload, hash, rec);
    } else if (r->fresh && fresh_lookup(r, po, key, sizeof key, hash, payload, rec)) {
        /* found in ShipStation (linked), or the lookup failed (reported): no create */
    } else {
        link_save(r, po, key, NULL, hash, "open", rec); /* intent before the create */
        enqueue(r, payload, po, key, hash, "created");
    }
    mlc_store_link_free(link);
}

/* ---- main loop ---- */

/* 1 if the profile's state database exists (a dry run reads it, never makes it). */
static int state_exists(const mlc_config *cfg)
{
    char path[PATH_MAX], *dir = mlc_config_state_dir(cfg);
    if (!dir)
        return 0;
    snprintf(path, sizeof path, "%s/%s.db", dir, mlc_config_profile(cfg));
    free(dir);
    return access(path, F_OK) == 0;
}

static int parse_opts(int argc, char **argv, push_run *r, const char **file, const char **api)
{
    static const struct option longopts[] = {{"dry-run", no_argument, 0, 'n'},
                                             {"api", required_argument, 0, 'a'},
                                             {"batch", required_argument, 0, 'b'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c;
    long long n;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': r->dry_run = 1; break;
        case 'a':
            if (strcmp(optarg, "v1") && strcmp(optarg, "v2"))
                return cmd_usage_error(usage, "--api must be v1 or v2, not '%s'", optarg);
            *api = optarg;
            break;
        case 'b':
            /* V2's spec sets no maximum for the array; the default stays at 100 a call */
            if ((n = cmd_parse_count(optarg)) < 1 || n > 10000)
                return cmd_usage_error(usage, "--batch needs a number 1-10000, not '%s'", optarg);
            r->batch_max = (size_t)n;
            break;
        case 'h': return -1;
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    if (optind + 1 < argc)
        return cmd_usage_error(usage, "at most one input file");
    *file = optind < argc ? argv[optind] : NULL;
    return 0;
}

static int finish(push_run *r)
{
    mlc_log_info(r->log, "%ld created, %ld updated, %ld unchanged, %ld cancelled, %ld in doubt, %ld rejected, %ld failed",
                 r->created, r->updated, r->unchanged, r->cancelled, r->in_doubt, r->rejected, r->failed);
    if (r->not_pushed)
        mlc_log_warn(r->log, "stopped: %ld POs not pushed; the next pull-pos emits them again", r->not_pushed);
    if (r->worst == MLC_ERR_TRANSIENT)
        return MLC_EXIT_TEMPFAIL;
    if (r->worst && r->worst != MLC_ERR_REMOTE && r->worst != MLC_ERR_PIPE)
        return mlc_err_exit_code(r->worst);
    return (r->rejected || r->failed) ? MLC_EXIT_FAILED : 0;
}

int cmd_push_shipments(int argc, char **argv, mlc_ctx *ctx)
{
    push_run r = {.ctx = ctx, .log = mlc_ctx_log(ctx), .batch_max = 100};
    const char *file = NULL, *api = NULL;
    mlc_error e;
    int rc = parse_opts(argc, argv, &r, &file, &api);
    if (rc)
        return rc < 0 ? cmd_help(usage) : rc;
    if (mlc_ctx_config(ctx, &r.cfg, &e) || mlc_map_new(r.cfg, &r.map, &e))
        return cmd_fail(ctx, &e);
    if (!api)
        api = mlc_config_str(r.cfg, "shipstation.api");
    r.api = strcmp(api, "v1") == 0 ? MLC_SS_V1 : MLC_SS_V2;
    if (r.api == MLC_SS_V1 && r.batch_max > MLC_INBOUND_V1_MAX)
        r.batch_max = MLC_INBOUND_V1_MAX;
    FILE *in = file ? fopen(file, "rb") : stdin;
    if (!in) {
        mlc_map_free(r.map);
        mlc_error_set(&e, MLC_ERR_IO, "%s: cannot open", file);
        return cmd_fail(ctx, &e);
    }
    if (r.dry_run && state_exists(r.cfg) && mlc_ctx_store(ctx, &r.st, &e))
        mlc_log_warn(r.log, "dry run without the link table: %s", e.msg);
    if (!r.dry_run && (mlc_ctx_store(ctx, &r.st, &e) || mlc_ss_new(ctx, NULL, &r.ss, &e))) {
        if (file)
            fclose(in);
        mlc_map_free(r.map);
        return cmd_fail(ctx, &e);
    }
    r.timeout_s = mlc_config_int(r.cfg, "shipstation.timeout");
    r.margin_s = mlc_config_int(r.cfg, "retry.in_doubt_margin");
    if (r.timeout_s < 0)
        r.timeout_s = 0;
    if (r.margin_s < 0)
        r.margin_s = 0;
    if (!r.dry_run && r.api == MLC_SS_V2) {
        long nlinks = 0;
        if (mlc_store_link_count(r.st, "v2", &nlinks, &e) == MLC_OK && nlinks == 0) {
            r.fresh = 1;
            mlc_log_warn(r.log, "fresh state: no shipment links in the store; each PO's key is looked up in "
                         "ShipStation before anything is created");
            if (mlc_store_audit(r.st, 0, "fresh_state", "{\"stream\":\"push-shipments:v2\"}", &e))
                mlc_log_error(r.log, "audit: %s", e.msg);
        }
    }
    r.batch = calloc(r.batch_max, sizeof *r.batch);
    r.source = file ? file : "stdin";
    mlc_jsonl_reader *rd = mlc_jsonl_reader_new(in, r.source, 0);
    r.w = mlc_jsonl_writer_new(stdout);
    if (!r.batch || !rd || !r.w) {
        rc = MLC_EXIT_OSERR;
        goto out;
    }
    for (;;) {
        cJSON *rec = NULL;
        mlc_err rr = mlc_jsonl_read(rd, &rec, &e);
        if (rr == MLC_ERR_EOF)
            break;
        if (rr == MLC_ERR_INPUT) {
            r.rejected++;
            mlc_log_error(r.log, "%s", e.msg);
            if (r.st && !r.dry_run &&
                mlc_store_reject_n(r.st, CMD_NAME, r.source, mlc_jsonl_reader_lineno(rd), e.msg,
                                   mlc_jsonl_reader_line(rd), mlc_jsonl_reader_line_len(rd), &e))
                mlc_log_error(r.log, "%s", e.msg);
            continue;
        }
        if (rr) {
            mlc_log_error(r.log, "%s", e.msg);
            r.worst = rr;
            break;
        }
        const char *kind = mlc_jsonl_kind(rec);
        const cJSON *pon = cJSON_GetObjectItemCaseSensitive(rec, "po");
        if (kind && strcmp(kind, "purchase_order") == 0 && !r.dry_run && mlc_ctx_stopping(ctx) && cJSON_IsString(pon)) {
            /* stop signal: read on to the end, push nothing new */
            not_pushed(&r, pon->valuestring);
            cJSON_Delete(rec);
        } else if (kind && strcmp(kind, "purchase_order") == 0) {
            handle_po(&r, rec, mlc_jsonl_reader_lineno(rd), mlc_jsonl_reader_line(rd), mlc_jsonl_reader_line_len(rd));
            cJSON_Delete(rec);
            mlc_log_progress(r.log, "POs read", (long)mlc_jsonl_reader_lineno(rd), -1);
        } else {
            emit(&r, rec); /* pass through */
        }
    }
    flush(&r);
    mlc_log_progress_done(r.log);
    if (mlc_jsonl_writer_flush(r.w, &e) == MLC_ERR_IO)
        r.worst = MLC_ERR_IO;
    rc = finish(&r);
out:
    batch_clear(&r);
    free(r.batch);
    mlc_jsonl_reader_free(rd);
    mlc_jsonl_writer_free(r.w);
    if (file)
        fclose(in);
    mlc_ss_free(r.ss);
    mlc_map_free(r.map);
    return rc;
}
