/*
 * shipment.c: ShipStation shipments -> shipment records (see shipment.h).
 * Not here: receipts, cursors, printing.
 */
#include "shipment.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "dates.h"
#include "map.h"
#include "receipt.h"

#define PAGE_SIZE 100

#define OUTBOX "shipment" /* the outbox namespace of records awaiting the ledger */
#define OUTBOX_MAX 2000   /* records looked at per run, oldest first (the rest: the next runs) */

struct mlc_shipment {
    int track_deliveries;
    int64_t redeliver_s;   /* written again until taken in, this long (0 = never) */
    long long cono;        /* the profile's company, for the same checks as post-receipts */
    double *label_orders; /* V1 orderIds with a label shipment seen by this poll */
    size_t nlabel_orders, caplabel_orders;
    mlc_ss *ss;
    mlc_store *st;
    const mlc_config *cfg;
    mlc_log *log;
    mlc_shipment_stats stats;
};

const mlc_shipment_stats *mlc_shipment_stats_get(const mlc_shipment *s) { return &s->stats; }

mlc_err mlc_shipment_new(mlc_ss *ss, mlc_store *st, const mlc_config *cfg, mlc_log *log, mlc_shipment **out,
                         mlc_error *err)
{
    mlc_shipment *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    s->ss = ss;
    s->st = st;
    s->cfg = cfg;
    s->log = log;
    s->redeliver_s = cfg ? (int64_t)mlc_config_int(cfg, "shipstation.redeliver_hours") * 3600 : 0;
    s->cono = cfg ? mlc_config_int(cfg, "cloudsuite.cono") : 0;
    *out = s;
    return MLC_OK;
}

void mlc_shipment_redeliver_within(mlc_shipment *s, int64_t seconds) { s->redeliver_s = seconds > 0 ? seconds : 0; }

void mlc_shipment_free(mlc_shipment *s)
{
    if (s)
        free(s->label_orders);
    free(s);
}

/* ------------------------------------------------------------ conversions */

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static void add_str(cJSON *o, const char *name, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

/* Normalises a time to RFC 3339 UTC seconds; pacific: the value is V1 naive time. */
static void add_time(cJSON *o, const char *name, const char *v, int pacific)
{
    time_t t;
    char buf[32], tmp[40];
    int ok = 0;
    if (v && pacific) {
        ok = mlc_dates_parse_pacific(v, &t) == 0;
        if (!ok && strlen(v) == 10) { /* a bare date: Pacific midnight */
            snprintf(tmp, sizeof tmp, "%s 00:00:00", v);
            ok = mlc_dates_parse_pacific(tmp, &t) == 0;
        }
    } else if (v) {
        ok = mlc_dates_parse_rfc3339(v, &t) == 0;
    }
    if (ok) {
        mlc_dates_format_rfc3339(t, buf);
        cJSON_AddStringToObject(o, name, buf);
    } else {
        cJSON_AddNullToObject(o, name);
    }
}

/* PO and tags from the key and custom fields; 0 if the shipment is one of mlc's. */
static int mlc_identity(const char *key, const cJSON *adv, const char *f1, const char *f2, const char *f3,
                        char po[32], char orty[16], char whlo[16], char suno[16])
{
    long long cono;
    if (mlc_map_parse_order_key(key, &cono, po, NULL) != 0)
        return -1;
    const char *fields[3] = {f1 ? jstr(adv, f1) : NULL, f2 ? jstr(adv, f2) : NULL, f3 ? jstr(adv, f3) : NULL};
    if (mlc_map_parse_tags(fields, 3, "ORTY", orty, 16))
        orty[0] = '\0';
    if (mlc_map_parse_tags(fields, 3, "WHLO", whlo, 16))
        whlo[0] = '\0';
    if (mlc_map_parse_tags(fields, 3, "SUNO", suno, 16))
        suno[0] = '\0';
    return 0;
}

static cJSON *record_head(const char *id, const char *key, const char *po, const char *orty, const char *whlo,
                          const char *suno)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "kind", "shipment");
    cJSON_AddStringToObject(r, "shipment_id", id);
    cJSON_AddStringToObject(r, "order_key", key);
    cJSON_AddStringToObject(r, "po", po);
    add_str(r, "order_type", orty);
    add_str(r, "warehouse", whlo);
    add_str(r, "supplier", suno);
    return r;
}

static void add_item(cJSON *items, const char *sku, double qty, const char *key)
{
    char po[32];
    int line, sub;
    if (!key || mlc_map_parse_line_key(key, po, &line, &sub) != 0)
        return; /* not a line mlc created: nothing to receive */
    cJSON *it = cJSON_CreateObject();
    add_str(it, "sku", sku);
    cJSON_AddNumberToObject(it, "qty", qty);
    cJSON_AddStringToObject(it, "po_line", key);
    cJSON_AddItemToArray(items, it);
}

mlc_err mlc_shipment_from_v2(const cJSON *sh, const cJSON *labels, const char *source, cJSON **out, mlc_error *err)
{
    char po[32], orty[16], whlo[16], suno[16];
    const char *id = jstr(sh, "shipment_id"), *key = jstr(sh, "external_shipment_id");
    *out = NULL;
    if (!cJSON_IsObject(sh) || !id)
        return mlc_error_set(err, MLC_ERR_REMOTE, "V2 shipment without shipment_id");
    /* V2 carries no custom fields (create_shipment_request declares none): the
     * routing facts come from mlc's link (mlc_shipment_add_link_facts) or M3 */
    if (!key || mlc_identity(key, NULL, NULL, NULL, NULL, po, orty, whlo, suno))
        return MLC_OK;
    const cJSON *l, *live = NULL, *dead = NULL;
    cJSON_ArrayForEach(l, labels)
    {
        const char *st = jstr(l, "status");
        if (cJSON_IsTrue(cJSON_GetObjectItem(l, "voided")) || (st && !strcmp(st, "voided")))
            dead = l;
        else if (jstr(l, "tracking_number") && (!st || !strcmp(st, "completed")))
            live = l;
    }
    const cJSON *lab = live ? live : dead;
    if (!lab)
        return MLC_OK; /* no label yet: not shipped */
    cJSON *r = record_head(id, key, po, orty, whlo, suno);
    add_str(r, "tracking_number", jstr(lab, "tracking_number"));
    add_str(r, "carrier", jstr(lab, "carrier_code"));
    add_str(r, "service", jstr(lab, "service_code") ? jstr(lab, "service_code") : jstr(sh, "service_code"));
    add_time(r, "ship_date", jstr(lab, "ship_date") ? jstr(lab, "ship_date") : jstr(sh, "ship_date"), 0);
    cJSON_AddBoolToObject(r, "voided", live == NULL);
    const char *ts = live ? jstr(live, "tracking_status") : NULL;
    cJSON_AddBoolToObject(r, "delivered", ts && !strcmp(ts, "delivered"));
    cJSON_AddStringToObject(r, "source", source);
    cJSON *items = cJSON_AddArrayToObject(r, "items");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sh, "items"))
    {
        const cJSON *q = cJSON_GetObjectItem(it, "quantity");
        if (cJSON_IsNumber(q))
            add_item(items, jstr(it, "sku"), q->valuedouble, jstr(it, "external_order_item_id"));
    }
    *out = r;
    return MLC_OK;
}

mlc_err mlc_shipment_from_v1(const cJSON *sh, const char *source, cJSON **out, mlc_error *err)
{
    char po[32], orty[16], whlo[16], suno[16], id[48];
    const cJSON *sid = cJSON_GetObjectItem(sh, "shipmentId");
    const char *key = jstr(sh, "orderKey");
    *out = NULL;
    if (!cJSON_IsObject(sh) || !cJSON_IsNumber(sid))
        return mlc_error_set(err, MLC_ERR_REMOTE, "V1 shipment without shipmentId");
    if (!key || mlc_identity(key, cJSON_GetObjectItem(sh, "advancedOptions"), "customField1", "customField2",
                             "customField3", po, orty, whlo, suno))
        return MLC_OK;
    snprintf(id, sizeof id, "v1-%.0f", sid->valuedouble);
    cJSON *r = record_head(id, key, po, orty, whlo, suno);
    add_str(r, "tracking_number", jstr(sh, "trackingNumber"));
    add_str(r, "carrier", jstr(sh, "carrierCode"));
    add_str(r, "service", jstr(sh, "serviceCode"));
    add_time(r, "ship_date", jstr(sh, "shipDate") ? jstr(sh, "shipDate") : jstr(sh, "createDate"), 1);
    cJSON_AddBoolToObject(r, "voided", cJSON_IsTrue(cJSON_GetObjectItem(sh, "voided")));
    cJSON_AddStringToObject(r, "source", source);
    cJSON *items = cJSON_AddArrayToObject(r, "items");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(sh, "shipmentItems"))
    {
        const cJSON *q = cJSON_GetObjectItem(it, "quantity");
        if (cJSON_IsNumber(q))
            add_item(items, jstr(it, "sku"), q->valuedouble, jstr(it, "lineItemKey"));
    }
    *out = r;
    return MLC_OK;
}

mlc_err mlc_shipment_add_link_facts(mlc_store *st, cJSON *rec, mlc_error *err)
{
    static const char *const names[3] = {"order_type", "warehouse", "supplier"};
    mlc_store_link *l = NULL;
    const char *key = jstr(rec, "order_key"), *po = jstr(rec, "po");
    mlc_err rc = key ? mlc_store_link_by_key(st, key, &l, err) : MLC_ERR_NOTFOUND;
    if (rc == MLC_ERR_NOTFOUND && po)
        rc = mlc_store_link_get(st, po, &l, err);
    if (rc == MLC_ERR_NOTFOUND)
        return MLC_OK; /* another install's shipment, or lost state: M3 is asked at receipt time */
    if (rc)
        return rc;
    /* the link by PO number may be another company's PO: only a matching key counts */
    if (key && l->order_key && strcmp(l->order_key, key) != 0) {
        long long c1 = 0, c2 = 0;
        char p1[32], p2[32];
        if (mlc_map_parse_order_key(key, &c1, p1, NULL) || mlc_map_parse_order_key(l->order_key, &c2, p2, NULL) ||
            c1 != c2) {
            mlc_store_link_free(l);
            return MLC_OK;
        }
    }
    const char *vals[3] = {l->order_type, l->warehouse, l->supplier};
    for (int i = 0; i < 3; i++)
        if (vals[i] && *vals[i] && !jstr(rec, names[i]))
            cJSON_ReplaceItemInObjectCaseSensitive(rec, names[i], cJSON_CreateString(vals[i]));
    mlc_store_link_free(l);
    return MLC_OK;
}

mlc_err mlc_shipment_from_v1_fulfillment(const cJSON *order, const cJSON *f, const char *source, cJSON **out,
                                        mlc_error *err)
{
    char po[32], orty[16], whlo[16], suno[16], id[48];
    const cJSON *fid = cJSON_GetObjectItem(f, "fulfillmentId");
    const char *key = jstr(order, "orderKey");
    *out = NULL;
    if (!cJSON_IsObject(f) || !cJSON_IsNumber(fid))
        return mlc_error_set(err, MLC_ERR_REMOTE, "V1 fulfillment without fulfillmentId");
    if (!key || mlc_identity(key, cJSON_GetObjectItem(order, "advancedOptions"), "customField1", "customField2",
                             "customField3", po, orty, whlo, suno))
        return MLC_OK;
    snprintf(id, sizeof id, "v1-f%.0f", fid->valuedouble);
    cJSON *r = record_head(id, key, po, orty, whlo, suno);
    add_str(r, "tracking_number", jstr(f, "trackingNumber"));
    add_str(r, "carrier", jstr(f, "carrierCode"));
    add_str(r, "service", jstr(order, "serviceCode"));
    add_time(r, "ship_date", jstr(f, "shipDate") ? jstr(f, "shipDate") : jstr(f, "createDate"), 1);
    cJSON_AddBoolToObject(r, "voided", cJSON_IsTrue(cJSON_GetObjectItem(f, "voided")));
    cJSON_AddStringToObject(r, "source", source);
    cJSON *items = cJSON_AddArrayToObject(r, "items");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(order, "items")) /* marked shipped: the whole order */
    {
        const cJSON *q = cJSON_GetObjectItem(it, "quantity");
        if (cJSON_IsNumber(q))
            add_item(items, jstr(it, "sku"), q->valuedouble, jstr(it, "lineItemKey"));
    }
    *out = r;
    return MLC_OK;
}

/* ------------------------------------------------------------ emitting */

/* Emits the record unless its content is unchanged since it was last emitted. */
/* 1 if rec is another company's shipment (its order_key names a company and the
 * profile sets another one): one ShipStation account may serve several
 * profiles, and each takes only its own company's shipments. */
static int other_company(const mlc_shipment *s, const cJSON *rec)
{
    long long mine = mlc_config_int(s->cfg, "cloudsuite.cono"), cono;
    char po[32];
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(rec, "order_key");
    return mine > 0 && cJSON_IsString(k) && mlc_map_parse_order_key(k->valuestring, &cono, po, NULL) == 0 &&
           cono != mine;
}

/* The text to keep in the outbox for rec (*text NULL: nothing to keep), while
 * redelivery is on: every record post-receipts would act on. Whether the ledger
 * has it is not asked here: its reader is taking it (and perhaps an older version
 * redelivered just before) in right now; the next run asks. A record
 * post-receipts would refuse is not kept: handing it over again would only be
 * refused again. */
static mlc_err outbox_text(mlc_shipment *s, const cJSON *rec, char **text, mlc_error *err)
{
    int wants = 0;
    mlc_error ie;
    *text = NULL;
    if (s->redeliver_s <= 0)
        return MLC_OK;
    if (mlc_receipt_wants(rec, s->cono, &wants, &ie) != MLC_OK) {
        mlc_log_debug(s->log, "shipment %s not kept for redelivery (post-receipts refuses it: %s)",
                      cJSON_GetObjectItem(rec, "shipment_id")->valuestring, ie.msg);
        return MLC_OK;
    }
    if (wants && !(*text = cJSON_PrintUnformatted(rec)))
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    return MLC_OK;
}

static mlc_err emit_if_changed(mlc_shipment *s, cJSON *rec, mlc_shipment_emit emit, void *ud, mlc_error *err)
{
    char hash[65];
    int changed = 1;
    if (other_company(s, rec)) {
        s->stats.skipped++;
        mlc_log_debug(s->log, "shipment of another company skipped (%s)",
                      cJSON_GetObjectItemCaseSensitive(rec, "order_key")->valuestring);
        cJSON_Delete(rec);
        return MLC_OK;
    }
    cJSON *copy = cJSON_Duplicate(rec, 1);
    if (!copy) {
        cJSON_Delete(rec);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "source");
    mlc_map_hash(copy, hash);
    cJSON_Delete(copy);
    char id[80];
    snprintf(id, sizeof id, "%s", cJSON_GetObjectItem(rec, "shipment_id")->valuestring);
    mlc_err rc = mlc_store_seen_check(s->st, "shipment", id, hash, &changed, err);
    if (rc || !changed) {
        if (!rc)
            s->stats.unchanged++;
        cJSON_Delete(rec);
        return rc;
    }
    int awaiting = s->track_deliveries && cJSON_IsFalse(cJSON_GetObjectItem(rec, "delivered")) &&
                   !cJSON_IsTrue(cJSON_GetObjectItem(rec, "voided"));
    char *keep = NULL;
    if ((rc = outbox_text(s, rec, &keep, err)) != MLC_OK) {
        cJSON_Delete(rec);
        return rc;
    }
    if ((rc = emit(ud, rec)) != MLC_OK) {
        free(keep);
        return rc;
    }
    s->stats.emitted++;
    /* kept before the hash is: a death in between writes it again, never loses it;
     * a version that needs no keeping replaces (drops) an older one kept */
    if (keep)
        rc = mlc_store_outbox_put(s->st, OUTBOX, id, keep, (int64_t)time(NULL), err);
    else if (s->redeliver_s > 0)
        rc = mlc_store_outbox_delete(s->st, OUTBOX, id, err);
    free(keep);
    if (rc || (rc = mlc_store_seen_set(s->st, "shipment", id, hash, err)) != MLC_OK)
        return rc;
    /* shipped, not yet delivered: asked again by mlc_shipment_poll_deliveries */
    return awaiting ? mlc_store_seen_set(s->st, "awaiting_delivery", id, "1", err)
                    : mlc_store_seen_delete(s->st, "awaiting_delivery", id, err);
}

static int seen_before(mlc_shipment *s, const char *id)
{
    char *h = NULL;
    mlc_error e;
    if (mlc_store_seen_get(s->st, "shipment", id, &h, &e) != MLC_OK)
        return 0;
    int yes = h != NULL;
    free(h);
    return yes;
}

/* ------------------------------------------------------------ redelivery */

typedef struct shipment_walk {
    mlc_shipment *s;
    mlc_shipment_emit emit;
    void *ud;
} shipment_walk;

static mlc_err walk_taken(void *ud, const cJSON *rec, int *taken, mlc_error *err)
{
    mlc_shipment *s = ((shipment_walk *)ud)->s;
    return mlc_receipt_taken_in(s->st, rec, s->cono, taken, err);
}

static mlc_err walk_emit(void *ud, const mlc_store_outbox_item *it, cJSON *rec, mlc_error *err)
{
    (void)it;
    (void)err;
    shipment_walk *w = ud;
    return w->emit(w->ud, rec);
}

mlc_err mlc_shipment_redeliver(mlc_shipment *s, mlc_shipment_emit emit, void *ud, mlc_error *err)
{
    shipment_walk sw = {s, emit, ud};
    mlc_outbox_walk w = {.st = s->st,
                         .ns = OUTBOX,
                         .max = OUTBOX_MAX,
                         .redeliver_s = s->redeliver_s,
                         .log = s->log,
                         .what = "shipment",
                         .audit_key = "shipment_id",
                         .expired_msg = "and no ledger took it in (no receipt rows for it): not written again "
                                        "(shipstation.redeliver_hours); if post-receipts should have it, see "
                                        "mlc-pull-shipments(1), REDELIVERY",
                         .taken = walk_taken,
                         .emit = walk_emit,
                         .ud = &sw};
    return mlc_outbox_redeliver(&w, &s->stats.outbox, err);
}

/* ------------------------------------------------------------ V2 */

static mlc_err v2_labels(mlc_shipment *s, const char *shipment_id, mlc_ss_response *resp, const cJSON **labels,
                         mlc_error *err)
{
    char path[160];
    char *esc = curl_easy_escape(NULL, shipment_id, 0);
    if (!esc)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "/v2/labels?shipment_id=%s&page_size=%d", esc, PAGE_SIZE);
    curl_free(esc);
    s->stats.api_calls++;
    mlc_err rc = mlc_ss_request(s->ss, MLC_SS_V2, "GET", path, NULL, 1, resp, err);
    *labels = rc ? NULL : cJSON_GetObjectItem(resp->json, "labels");
    return rc;
}

/* Whether shipment sh needs its labels read (counts the skipped ones). Labels are
 * read for shipped shipments, for ones reported before (a void since), and for
 * any a webhook pointed at; a poll does not spend a call on every pending one. */
static int v2_wants_labels(mlc_shipment *s, const cJSON *sh, const char *source)
{
    const char *id = jstr(sh, "shipment_id"), *status = jstr(sh, "shipment_status");
    long long cono;
    char po[32];
    s->stats.seen++;
    if (!id || !jstr(sh, "external_shipment_id") ||
        mlc_map_parse_order_key(jstr(sh, "external_shipment_id"), &cono, po, NULL) != 0 ||
        (!(status && !strcmp(status, "label_purchased")) && strcmp(source, "webhook") != 0 && !seen_before(s, id))) {
        s->stats.skipped++;
        return 0;
    }
    return 1;
}

/* The record of sh from its labels, emitted if it changed. */
static mlc_err v2_finish(mlc_shipment *s, const cJSON *sh, const cJSON *labels, const char *source,
                         mlc_shipment_emit emit, void *ud, mlc_error *err)
{
    cJSON *rec = NULL;
    mlc_err rc = mlc_shipment_from_v2(sh, labels, source, &rec, err);
    if (!rc && rec && (rc = mlc_shipment_add_link_facts(s->st, rec, err)) != MLC_OK) {
        cJSON_Delete(rec);
        rec = NULL;
    }
    if (!rc && rec)
        rc = emit_if_changed(s, rec, emit, ud, err);
    else if (!rc)
        s->stats.skipped++;
    return rc;
}

/* One shipment with its own labels call (webhooks, delivery checks, and a
 * shipment whose label the list pass did not hold). */
static mlc_err v2_one_labels(mlc_shipment *s, const cJSON *sh, const char *source, mlc_shipment_emit emit, void *ud,
                             mlc_error *err)
{
    mlc_ss_response lr = {0};
    const cJSON *labels = NULL;
    mlc_err rc = v2_labels(s, jstr(sh, "shipment_id"), &lr, &labels, err);
    if (!rc)
        rc = v2_finish(s, sh, labels, source, emit, ud, err);
    mlc_ss_response_free(&lr);
    return rc;
}

static mlc_err v2_one(mlc_shipment *s, const cJSON *sh, const char *source, mlc_shipment_emit emit, void *ud,
                      mlc_error *err)
{
    return v2_wants_labels(s, sh, source) ? v2_one_labels(s, sh, source, emit, ud, err) : MLC_OK;
}

/* Labels by the paged list call, not one call per shipment: before the shipments,
 * GET /v2/labels?created_at_start=<since> (sorted by created_at, ascending, so a
 * label bought meanwhile lands on a later page), matched to the shipments by
 * shipment_id. Buying a label moves its shipment's modified_at, so the labels
 * bought since the poll's start are those of the shipments it finds shipped; a
 * shipment whose label is older (modified again since, or voided) or was bought
 * after the list was read is asked about on its own (GET /v2/labels?shipment_id=),
 * so a label outside the window is never taken for "not shipped". Only the label
 * fields the records use are kept, and only for labels whose external_shipment_id
 * is mlc's key (or absent). page_size: the spec declares a default (25) and
 * no maximum; 200 is [UNVERIFIED] against a real account (mlc-sim allows up to
 * 500), and paging follows `pages`/links whatever page size the server applies
 * (an empty list may say `pages: 0`). */
#define LABEL_PAGE_SIZE 200

typedef struct label_index {
    cJSON *labels;  /* array of trimmed copies */
    cJSON **by_sid; /* sorted by shipment_id */
    size_t n;
} label_index;

static int cmp_label_sid(const void *a, const void *b)
{
    return strcmp(jstr(*(cJSON *const *)a, "shipment_id"), jstr(*(cJSON *const *)b, "shipment_id"));
}

static void label_index_free(label_index *ix)
{
    cJSON_Delete(ix->labels);
    free(ix->by_sid);
    memset(ix, 0, sizeof *ix);
}

static cJSON *label_trim(const cJSON *l)
{
    static const char *const keep[] = {"label_id", "shipment_id", "status", "voided", "tracking_number",
                                       "carrier_code", "service_code", "ship_date", "tracking_status",
                                       "created_at", NULL};
    cJSON *c = cJSON_CreateObject();
    for (int i = 0; c && keep[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, keep[i]);
        if (v)
            cJSON_AddItemToObject(c, keep[i], cJSON_Duplicate(v, 1));
    }
    return c;
}

static mlc_err v2_labels_since(mlc_shipment *s, time_t since, label_index *ix, mlc_error *err)
{
    char a[32], path[160];
    memset(ix, 0, sizeof *ix);
    mlc_dates_format_rfc3339(since, a);
    snprintf(path, sizeof path, "/v2/labels?created_at_start=%s&sort_by=created_at&sort_dir=asc", a);
    if (!(ix->labels = cJSON_CreateArray()))
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (int page = 1;; page++) {
        mlc_ss_response resp = {0};
        const cJSON *items, *l;
        int more = 0;
        s->stats.api_calls++;
        mlc_err rc =
            mlc_ss_list_page(s->ss, MLC_SS_V2, path, "labels", page, LABEL_PAGE_SIZE, &resp, &items, &more, err);
        if (rc) {
            mlc_ss_response_free(&resp);
            label_index_free(ix);
            return rc;
        }
        cJSON_ArrayForEach(l, items)
        {
            /* the account's other labels (customer orders...) are not kept: a label
             * whose external_shipment_id is not mlc's key is not one of mlc's */
            const char *ext = jstr(l, "external_shipment_id");
            long long cono;
            char po[32];
            if (ext && mlc_map_parse_order_key(ext, &cono, po, NULL) != 0)
                continue;
            cJSON *copy = jstr(l, "shipment_id") ? label_trim(l) : NULL;
            if (copy) {
                cJSON_AddItemToArray(ix->labels, copy);
                ix->n++;
            }
        }
        mlc_ss_response_free(&resp);
        if (!more)
            break;
    }
    if (ix->n && !(ix->by_sid = malloc(ix->n * sizeof *ix->by_sid))) {
        label_index_free(ix);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    cJSON *l;
    cJSON_ArrayForEach(l, ix->labels) ix->by_sid[k++] = l;
    if (ix->n > 1)
        qsort(ix->by_sid, ix->n, sizeof *ix->by_sid, cmp_label_sid);
    return MLC_OK;
}

/* The labels of the shipment, as an array of references (the caller deletes the
 * array, not the labels); NULL when out of memory. */
static cJSON *labels_of(const label_index *ix, const char *shipment_id)
{
    cJSON *mine = cJSON_CreateArray();
    size_t lo = 0, hi = ix->n;
    while (mine && lo < hi) { /* the first with this shipment_id */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(jstr(ix->by_sid[mid], "shipment_id"), shipment_id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; mine && lo < ix->n && !strcmp(jstr(ix->by_sid[lo], "shipment_id"), shipment_id); lo++)
        cJSON_AddItemReferenceToArray(mine, ix->by_sid[lo]);
    return mine;
}

static mlc_err poll_v2(mlc_shipment *s, time_t since, time_t *latest, mlc_shipment_emit emit, void *ud,
                       mlc_error *err)
{
    char from[32], path[160];
    label_index ix;
    mlc_err rc = v2_labels_since(s, since, &ix, err);
    if (rc)
        return rc;
    mlc_dates_format_rfc3339(since, from);
    snprintf(path, sizeof path, "/v2/shipments?modified_at_start=%s&sort_by=modified_at&sort_dir=asc", from);
    for (int page = 1; !rc; page++) {
        mlc_ss_response resp = {0};
        const cJSON *items, *sh;
        int more = 0;
        s->stats.api_calls++;
        rc = mlc_ss_list_page(s->ss, MLC_SS_V2, path, "shipments", page, PAGE_SIZE, &resp, &items, &more, err);
        if (rc)
            items = NULL;
        cJSON_ArrayForEach(sh, items)
        {
            time_t t;
            if (jstr(sh, "modified_at") && !mlc_dates_parse_rfc3339(jstr(sh, "modified_at"), &t) && t > *latest)
                *latest = t;
            if (!v2_wants_labels(s, sh, "poll"))
                continue;
            cJSON *mine = labels_of(&ix, jstr(sh, "shipment_id"));
            if (!mine)
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            else if (cJSON_GetArraySize(mine) > 0)
                rc = v2_finish(s, sh, mine, "poll", emit, ud, err);
            else
                rc = v2_one_labels(s, sh, "poll", emit, ud, err);
            cJSON_Delete(mine);
            if (rc)
                break;
        }
        mlc_ss_response_free(&resp);
        if (!rc && !more)
            break;
    }
    label_index_free(&ix);
    return rc;
}

/* ------------------------------------------------------------ V1 */

static mlc_err v1_list(mlc_shipment *s, const char *path, const char *source, time_t *latest, mlc_shipment_emit emit,
                       void *ud, mlc_error *err)
{
    for (int page = 1;; page++) {
        mlc_ss_response resp = {0};
        const cJSON *items, *sh;
        int more = 0;
        s->stats.api_calls++;
        mlc_err rc = mlc_ss_list_page(s->ss, MLC_SS_V1, path, "shipments", page, PAGE_SIZE, &resp, &items, &more, err);
        if (rc) {
            mlc_ss_response_free(&resp);
            return rc;
        }
        cJSON_ArrayForEach(sh, items)
        {
            time_t t;
            const char *ts[2] = {jstr(sh, "createDate"), jstr(sh, "voidDate")};
            for (int i = 0; latest && i < 2; i++)
                if (ts[i] && !mlc_dates_parse_pacific(ts[i], &t) && t > *latest)
                    *latest = t;
            cJSON *rec = NULL;
            s->stats.seen++;
            const cJSON *oid = cJSON_GetObjectItem(sh, "orderId");
            if (cJSON_IsNumber(oid) && !cJSON_IsTrue(cJSON_GetObjectItem(sh, "voided")) &&
                s->nlabel_orders < 1000000) {
                if (s->nlabel_orders == s->caplabel_orders) {
                    size_t nc = s->caplabel_orders ? 2 * s->caplabel_orders : 64;
                    double *na = realloc(s->label_orders, nc * sizeof *na);
                    if (na) {
                        s->label_orders = na;
                        s->caplabel_orders = nc;
                    }
                }
                if (s->nlabel_orders < s->caplabel_orders)
                    s->label_orders[s->nlabel_orders++] = oid->valuedouble;
            }
            rc = mlc_shipment_from_v1(sh, source, &rec, err);
            if (!rc && rec)
                rc = emit_if_changed(s, rec, emit, ud, err);
            else if (!rc)
                s->stats.skipped++;
            if (rc) {
                mlc_ss_response_free(&resp);
                return rc;
            }
        }
        mlc_ss_response_free(&resp);
        if (!more)
            return MLC_OK;
    }
}

/* Every item of a V1 list (all pages) as copies in one array (the caller's). */
static mlc_err v1_collect(mlc_shipment *s, const char *path, const char *collection, cJSON **out, mlc_error *err)
{
    cJSON *all = cJSON_CreateArray();
    *out = NULL;
    if (!all)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (int page = 1;; page++) {
        mlc_ss_response resp = {0};
        const cJSON *items, *it;
        int more = 0;
        s->stats.api_calls++;
        mlc_err rc = mlc_ss_list_page(s->ss, MLC_SS_V1, path, collection, page, PAGE_SIZE, &resp, &items, &more, err);
        if (rc) {
            mlc_ss_response_free(&resp);
            cJSON_Delete(all);
            return rc;
        }
        cJSON_ArrayForEach(it, items) cJSON_AddItemToArray(all, cJSON_Duplicate(it, 1));
        mlc_ss_response_free(&resp);
        if (!more)
            break;
    }
    *out = all;
    return MLC_OK;
}

static void later(const char *pacific, time_t *latest)
{
    time_t t;
    if (latest && pacific && !mlc_dates_parse_pacific(pacific, &t) && t > *latest)
        *latest = t;
}

static int has_label(const mlc_shipment *s, double order_id)
{
    for (size_t i = 0; i < s->nlabel_orders; i++)
        if (s->label_orders[i] == order_id)
            return 1;
    return 0;
}

static const cJSON *order_by_id(const cJSON *orders, double id)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, orders)
    {
        const cJSON *v = cJSON_GetObjectItem(o, "orderId");
        if (cJSON_IsNumber(v) && v->valuedouble == id)
            return o;
    }
    return NULL;
}

/* Orders marked shipped outside the label flow (POST /orders/markasshipped, another
 * app, the UI) have a fulfillment and no /shipments record: the fulfillments created
 * since the poll's start, joined by orderId to the shipped orders modified since
 * then (marking an order shipped modifies it), one list each, not a call per order.
 * A fulfillment whose order the list does not hold is read with GET /orders/{id}. A
 * fulfillment of an order that also has a label shipment in this poll is left to
 * the shipment (one receipt per PO line and physical shipment). */
static mlc_err poll_v1_fulfillments(mlc_shipment *s, const char *esc_from, time_t *latest, mlc_shipment_emit emit,
                                    void *ud, mlc_error *err)
{
    char path[240];
    cJSON *fuls = NULL, *orders = NULL;
    snprintf(path, sizeof path, "/fulfillments?createDateStart=%s&sortBy=CreateDate&sortDir=ASC", esc_from);
    mlc_err rc = v1_collect(s, path, "fulfillments", &fuls, err);
    if (!rc && cJSON_GetArraySize(fuls) > 0) {
        snprintf(path, sizeof path, "/orders?orderStatus=shipped&modifyDateStart=%s&sortBy=ModifyDate&sortDir=ASC",
                 esc_from);
        rc = v1_collect(s, path, "orders", &orders, err);
    }
    const cJSON *f, *list = rc ? NULL : fuls;
    cJSON_ArrayForEach(f, list)
    {
        const cJSON *oid = cJSON_GetObjectItem(f, "orderId");
        later(jstr(f, "createDate"), latest);
        s->stats.seen++;
        if (!cJSON_IsNumber(oid) || has_label(s, oid->valuedouble)) {
            s->stats.skipped++;
            continue;
        }
        const cJSON *o = order_by_id(orders, oid->valuedouble);
        mlc_ss_response one = {0};
        if (!o) { /* not among the shipped orders modified since: ask for it */
            char op[64];
            snprintf(op, sizeof op, "/orders/%.0f", oid->valuedouble);
            s->stats.api_calls++;
            rc = mlc_ss_request(s->ss, MLC_SS_V1, "GET", op, NULL, 1, &one, err);
            if (rc == MLC_ERR_NOTFOUND) {
                rc = MLC_OK;
                s->stats.skipped++;
                mlc_ss_response_free(&one);
                continue;
            }
            o = one.json;
        }
        cJSON *rec = NULL;
        const char *st = o ? jstr(o, "orderStatus") : NULL;
        if (!rc && st && strcmp(st, "cancelled") == 0) {
            s->stats.skipped++; /* reported with the cancelled orders, never received */
        } else if (!rc) {
            rc = mlc_shipment_from_v1_fulfillment(o, f, "poll", &rec, err);
            if (!rc && rec)
                rc = emit_if_changed(s, rec, emit, ud, err);
            else if (!rc)
                s->stats.skipped++;
        }
        mlc_ss_response_free(&one);
        if (rc)
            break;
    }
    cJSON_Delete(fuls);
    cJSON_Delete(orders);
    return rc;
}

/* Orders of mlc cancelled in ShipStation: never received; each reported once, on
 * standard error and in the audit trail (event order_cancelled). */
static mlc_err poll_v1_cancelled(mlc_shipment *s, const char *esc_from, time_t *latest, mlc_error *err)
{
    char path[240];
    cJSON *orders = NULL;
    snprintf(path, sizeof path, "/orders?orderStatus=cancelled&modifyDateStart=%s&sortBy=ModifyDate&sortDir=ASC",
             esc_from);
    mlc_err rc = v1_collect(s, path, "orders", &orders, err);
    const cJSON *o, *list = rc ? NULL : orders;
    cJSON_ArrayForEach(o, list)
    {
        char po[32], id[32], *h = NULL;
        long long cono;
        const cJSON *oid = cJSON_GetObjectItem(o, "orderId");
        later(jstr(o, "modifyDate"), latest);
        if (!cJSON_IsNumber(oid) || !jstr(o, "orderKey") ||
            mlc_map_parse_order_key(jstr(o, "orderKey"), &cono, po, NULL) != 0)
            continue;
        snprintf(id, sizeof id, "%.0f", oid->valuedouble);
        if ((rc = mlc_store_seen_get(s->st, "v1-cancelled", id, &h, err)) != MLC_OK)
            break;
        int known = h != NULL;
        free(h);
        if (known)
            continue;
        s->stats.cancelled++;
        if (s->log)
            mlc_log_warn(s->log, "ShipStation order %s (%s, PO %s) was cancelled in ShipStation: nothing is "
                                 "received for it",
                         id, jstr(o, "orderKey"), po);
        char detail[400];
        snprintf(detail, sizeof detail,
                 "{\"order_id\":%s,\"order_key\":\"%s\",\"po\":\"%s\",\"modify_date\":\"%s\"}", id,
                 jstr(o, "orderKey"), po, jstr(o, "modifyDate") ? jstr(o, "modifyDate") : "");
        if ((rc = mlc_store_audit(s->st, 0, "order_cancelled", detail, err)) != MLC_OK ||
            (rc = mlc_store_seen_set(s->st, "v1-cancelled", id, "1", err)) != MLC_OK)
            break;
    }
    cJSON_Delete(orders);
    return rc;
}

static mlc_err poll_v1(mlc_shipment *s, time_t since, time_t *latest, mlc_shipment_emit emit, void *ud,
                       mlc_error *err)
{
    char from[32], path[200];
    mlc_dates_format_pacific(since, from);
    char *esc = curl_easy_escape(NULL, from, 0);
    if (!esc)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    snprintf(path, sizeof path, "/shipments?createDateStart=%s&includeShipmentItems=true&sortBy=CreateDate&sortDir=ASC",
             esc);
    mlc_err rc = v1_list(s, path, "poll", latest, emit, ud, err);
    if (!rc) {
        /* Voids do not change createDate: ask for them on their own. */
        snprintf(path, sizeof path, "/shipments?voidDateStart=%s&includeShipmentItems=true", esc);
        rc = v1_list(s, path, "poll", latest, emit, ud, err);
    }
    if (!rc)
        rc = poll_v1_fulfillments(s, esc, latest, emit, ud, err);
    if (!rc)
        rc = poll_v1_cancelled(s, esc, latest, err);
    curl_free(esc);
    return rc;
}

mlc_err mlc_shipment_poll(mlc_shipment *s, mlc_ss_version v, time_t since, time_t *latest, mlc_shipment_emit emit,
                          void *ud, mlc_error *err)
{
    return v == MLC_SS_V1 ? poll_v1(s, since, latest, emit, ud, err) : poll_v2(s, since, latest, emit, ud, err);
}

void mlc_shipment_track_deliveries(mlc_shipment *s, int on) { s->track_deliveries = on; }

mlc_err mlc_shipment_poll_deliveries(mlc_shipment *s, mlc_shipment_emit emit, void *ud, mlc_error *err)
{
    char **ids = NULL;
    size_t n = 0;
    mlc_err rc = mlc_store_seen_keys(s->st, "awaiting_delivery", 1000, &ids, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char path[160];
        char *esc = curl_easy_escape(NULL, ids[i], 0);
        if (!esc) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            break;
        }
        snprintf(path, sizeof path, "/v2/shipments/%s", esc);
        curl_free(esc);
        mlc_ss_response sr = {0};
        s->stats.api_calls++;
        rc = mlc_ss_request(s->ss, MLC_SS_V2, "GET", path, NULL, 1, &sr, err);
        if (rc == MLC_ERR_NOTFOUND) {
            rc = mlc_store_seen_delete(s->st, "awaiting_delivery", ids[i], err);
        } else if (!rc) {
            rc = v2_one(s, sr.json, "poll", emit, ud, err);
        }
        mlc_ss_response_free(&sr);
    }
    mlc_store_keys_free(ids, n);
    return rc;
}

/* ------------------------------------------------------------ webhook inbox */

/* V1 resources are shipment lists; make sure they carry the items. Caller frees. */
static char *with_items(const char *url)
{
    size_t n = strlen(url) + 40;
    char *u = malloc(n);
    if (!u)
        return NULL;
    const char *p = strstr(url, "includeShipmentItems=");
    if (p) {
        snprintf(u, n, "%.*sincludeShipmentItems=true%s", (int)(p - url), url,
                 p + strcspn(p, "&"));
    } else {
        snprintf(u, n, "%s%sincludeShipmentItems=true", url, strchr(url, '?') ? "&" : "?");
    }
    return u;
}

static mlc_err drain_v2(mlc_shipment *s, const char *url, mlc_shipment_emit emit, void *ud, mlc_error *err)
{
    mlc_ss_response resp = {0};
    char label_url[2100];
    /* A tracking event points at /v2/labels/{id}/track, which has no shipment id:
     * the label itself has. */
    size_t len = strlen(url);
    if (len > 6 && len < sizeof label_url && strcmp(url + len - 6, "/track") == 0 && strstr(url, "/v2/labels/")) {
        snprintf(label_url, sizeof label_url, "%.*s", (int)(len - 6), url);
        url = label_url;
    }
    s->stats.api_calls++;
    mlc_err rc = mlc_ss_request(s->ss, MLC_SS_V2, "GET", url, NULL, 1, &resp, err);
    if (rc) {
        mlc_ss_response_free(&resp);
        return rc;
    }
    /* A label, a list of labels, a shipment, or a list of shipments. */
    const cJSON *list = cJSON_GetObjectItem(resp.json, "labels");
    if (!list)
        list = cJSON_GetObjectItem(resp.json, "shipments");
    cJSON *single = NULL;
    if (!list && cJSON_IsObject(resp.json)) {
        single = cJSON_CreateArray();
        cJSON_AddItemReferenceToArray(single, resp.json);
        list = single;
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, list)
    {
        const char *sid = jstr(o, "shipment_id");
        if (!sid)
            continue;
        if (jstr(o, "external_shipment_id") && cJSON_GetObjectItem(o, "items")) {
            rc = v2_one(s, o, "webhook", emit, ud, err); /* already a shipment */
        } else {
            char path[160];
            char *esc = curl_easy_escape(NULL, sid, 0);
            if (!esc) {
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                break;
            }
            snprintf(path, sizeof path, "/v2/shipments/%s", esc);
            curl_free(esc);
            mlc_ss_response sr = {0};
            s->stats.api_calls++;
            rc = mlc_ss_request(s->ss, MLC_SS_V2, "GET", path, NULL, 1, &sr, err);
            if (!rc)
                rc = v2_one(s, sr.json, "webhook", emit, ud, err);
            mlc_ss_response_free(&sr);
        }
        if (rc)
            break;
    }
    cJSON_Delete(single);
    mlc_ss_response_free(&resp);
    return rc;
}

/* A URL with userinfo (user@host) is refused outright: it is the classic way to
 * make a URL look like one host while it goes to another. */
static int has_userinfo(const char *url)
{
    CURLU *u = curl_url();
    char *user = NULL;
    int bad = !u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
              curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK;
    curl_free(user);
    curl_url_cleanup(u);
    return bad;
}

/* The follow-up of one notification failed: a failure of the store or of the
 * output ends the drain (returned); anything else is this notification's own
 * problem. Permanent ones (4xx, a redirect, our key refused) are retried a few
 * times (ShipStation may not show a resource yet), then quarantined with the
 * reason; transient ones (429, 5xx, timeout, unreachable) are retried with
 * backoff. Either way the inbox goes on and polling is never blocked. *stop is
 * set after a transient failure: the rest waits for the next run. */
static mlc_err item_failed(mlc_shipment *s, const mlc_store_inbox_item *it, mlc_err code, const char *why,
                           mlc_backoff *bo, int *stop, mlc_error *err)
{
    if (code == MLC_ERR_PIPE || code == MLC_ERR_NOMEM || code == MLC_ERR_STORE || code == MLC_ERR_BUSY ||
        code == MLC_ERR_IO)
        return code;
    int attempts = it->attempts + 1;
    int transient = code == MLC_ERR_TRANSIENT || code == MLC_ERR_UNAVAILABLE;
    long long max = mlc_config_int(s->cfg, "shipstation.webhook_max_attempts");
    if (!transient && attempts >= max) {
        s->stats.webhooks_failed++;
        mlc_log_error(s->log, "webhook %lld quarantined after %d attempts: %s (see mlc queue --webhooks)",
                      (long long)it->id, attempts, why);
        mlc_store_audit(s->st, 0, "webhook_failed", why, NULL);
        return mlc_store_inbox_fail(s->st, it->id, attempts, why, err);
    }
    long ms = mlc_backoff_delay_ms(bo, attempts - 1);
    int64_t next = (int64_t)time(NULL) + (ms + 999) / 1000;
    s->stats.webhooks_retry++;
    if (transient)
        *stop = 1;
    mlc_log_warn(s->log, "webhook %lld: %s; tried again in %ld s (attempt %d%s)", (long long)it->id, why,
                 (ms + 999) / 1000, attempts, transient ? "" : " of the limit");
    return mlc_store_inbox_retry(s->st, it->id, attempts, next, why, err);
}

mlc_err mlc_shipment_drain_inbox(mlc_shipment *s, size_t max, mlc_shipment_emit emit, void *ud, mlc_error *err)
{
    mlc_store_inbox_item *items = NULL;
    size_t n = 0;
    int stop = 0;
    mlc_err rc = mlc_store_inbox_pending(s->st, max, &items, &n, err);
    if (rc)
        return rc;
    mlc_backoff *bo = mlc_backoff_new((long)mlc_config_int(s->cfg, "retry.base_ms"),
                                      (long)mlc_config_int(s->cfg, "retry.cap_ms"), 0, 0);
    if (!bo) {
        mlc_store_inbox_free(items, n);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && !rc && !stop; i++) {
        const char *url = items[i].resource_url;
        mlc_error ce, ie = {0};
        mlc_err ir = MLC_OK;
        const char *refused = NULL;
        s->stats.inbox++;
        if (!url || !*url) {
            mlc_log_warn(s->log, "webhook %lld (%s) has no resource_url: nothing to fetch",
                         (long long)items[i].id, items[i].resource_type ? items[i].resource_type : "?");
        } else if (has_userinfo(url)) {
            refused = "refused resource_url (user information in the URL)";
        } else if (mlc_ss_has(s->ss, MLC_SS_V2) && mlc_ss_check_url(s->ss, MLC_SS_V2, url, &ce) == MLC_OK &&
                   strstr(url, "/v2/")) {
            ir = drain_v2(s, url, emit, ud, &ie);
        } else if (mlc_ss_has(s->ss, MLC_SS_V1) && mlc_ss_check_url(s->ss, MLC_SS_V1, url, &ce) == MLC_OK) {
            char *u = with_items(url);
            ir = u ? v1_list(s, u, "webhook", NULL, emit, ud, &ie) : mlc_error_set(&ie, MLC_ERR_NOMEM, "out of memory");
            free(u);
        } else {
            /* never send the key anywhere else */
            refused = "refused resource_url (not the configured ShipStation host)";
        }
        if (refused) {
            /* a refused host never becomes acceptable: quarantined at once */
            s->stats.refused_urls++;
            s->stats.webhooks_failed++;
            mlc_log_warn(s->log, "webhook %lld: %s", (long long)items[i].id, refused);
            mlc_store_audit(s->st, 0, "webhook_refused", items[i].resource_type, NULL);
            rc = mlc_store_inbox_fail(s->st, items[i].id, items[i].attempts, refused, err);
        } else if (ir) {
            rc = item_failed(s, &items[i], ir, ie.msg, bo, &stop, err);
            if (rc && rc == ir && err)
                *err = ie;
        } else {
            rc = mlc_store_inbox_done(s->st, items[i].id, err);
        }
    }
    mlc_backoff_free(bo);
    mlc_store_inbox_free(items, n);
    return rc;
}
