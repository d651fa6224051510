/*
 * receipt.c: the exactly-once receipt protocol (see receipt.h).
 * Not here: SQL (lib/store), the M3 wire format (lib/m3), record output (cmd/).
 */
#include "receipt.h"
#include "record.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "bod.h"
#include "dates.h"
#include "ims.h"
#include "map.h"
#include "setup.h"

#include <openssl/sha.h>

#define POSTER_LOCK "post-receipts" /* the store lock of the one poster per profile */
#define SUDO_MAX 20   /* M3 delivery note number length */
#define BREF_MAX 20

typedef struct po_head {
    char po[32], orty[8], whlo[8], suno[16];
    int known;
} po_head;

/* next_attempt_at of a receipt waiting for its shipment's delivery (post_at: deliver) */
#define WAIT_FOR_DELIVERY ((int64_t)253402300799) /* 9999-12-31T23:59:59Z */

struct mlc_receipt {
    int at_delivery;   /* receipts.post_at: deliver */
    mlc_m3 *m3;
    mlc_store *st;
    const mlc_config *cfg;
    mlc_log *log;
    mlc_map *map;
    mlc_backoff *bo;
    int lock_fd;       /* the lock file of older mlc versions (local store only) */
    int store_locked;  /* holds the store's poster lock */
    int max_attempts;
    size_t bulk, bulk_read;
    po_head *heads;
    size_t nheads, capheads;
    int64_t deadline_s, gateway_s, margin_s; /* a post call's timeout, the ION gateway's, the margin */
    const char *trace_table, *trace_prefix;  /* where a receipt leaves its trace ("" = none) */
    int trace_warned;
    mlc_receipt_stats stats;
    mlc_ctx *stop_ctx; /* asked between calls for a clean stop, or NULL */
    /* receipts.transport: bod (the "BOD transport" section below); NULL ims = rest */
    mlc_ims *ims;
    mlc_bod *bod_receipt, *bod_asn;
    long visible_within, resend_grace;
    char tenant[64];
};

/* One receipt transaction of a PO line as M3 lists it (the receipt's own trace). */
typedef struct trace_row {
    char po[32];
    int line, sub;
    double qty;
    char sudo[SUDO_MAX + 1];
} trace_row;

typedef struct trace_set {
    trace_row *rows;
    size_t n, cap;
    int avail;       /* the trace could be read (else: fall back on RVQA) */
    char why[200];   /* why not, when !avail */
} trace_set;

/* What M3 said about one PO line. */
typedef struct line_state {
    int ok;          /* read succeeded */
    double rvqa, orqa;
    char itno[32], puun[8];   /* item and PO unit (the BOD route names them) */
    char msg[200];   /* M3's message when !ok */
} line_state;

const mlc_receipt_stats *mlc_receipt_stats_get(const mlc_receipt *r) { return &r->stats; }

void mlc_receipt_stop_on(mlc_receipt *r, mlc_ctx *ctx) { r->stop_ctx = ctx; }
static int stopping(mlc_receipt *r) { return r->stop_ctx && mlc_ctx_stopping(r->stop_ctx); }

/* ------------------------------------------------------------------ setup */

/* The poster lock: one poster per profile, on every host that shares the state
 * (mlc_store_lock "post-receipts": released by the database server when a worker
 * dies, by the kernel on SQLite). Holding it, every in_flight row left in the
 * ledger belongs to a dead worker, which mlc_receipt_recover settles once its
 * settle_after has passed. On a local store the lock file of older mlc versions
 * (path) is taken too, so a poster of an older mlc still running during an
 * upgrade is waited for as before. */
static mlc_err take_lock(mlc_receipt *r, const char *path, mlc_error *err)
{
    int got = 0;
    mlc_err rc = mlc_store_lock(r->st, POSTER_LOCK, 0, &got, err);
    if (!rc && !got) {
        mlc_log_info(r->log, "another mlc is posting receipts for this profile: waiting for it");
        rc = mlc_store_lock(r->st, POSTER_LOCK, 1, &got, err);
    }
    if (rc)
        return rc;
    r->store_locked = 1;
    if (mlc_store_is_shared(r->st))
        return MLC_OK;
    r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (r->lock_fd < 0)
        return mlc_error_set(err, MLC_ERR_IO, "%s: %s", path, strerror(errno));
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        mlc_log_info(r->log, "an older mlc is posting receipts for this profile: waiting for it");
        if (flock(r->lock_fd, LOCK_EX) != 0)
            return mlc_error_set(err, MLC_ERR_IO, "%s: lock: %s", path, strerror(errno));
    }
    return MLC_OK;
}

static mlc_err bod_setup(mlc_receipt *r, mlc_error *err);

mlc_err mlc_receipt_new(mlc_m3 *m3, mlc_store *st, const mlc_config *cfg, mlc_log *log, const char *lock_path,
                        mlc_receipt **out, mlc_error *err)
{
    mlc_receipt *r = calloc(1, sizeof *r);
    mlc_err rc;
    *out = NULL;
    if (!r)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    r->m3 = m3;
    r->st = st;
    r->cfg = cfg;
    r->log = log;
    r->lock_fd = -1;
    /* the columns read_heads and read_lines read: M3 sends only these (lib/m3) */
    mlc_m3_columns(m3, mlc_config_str(cfg, "cloudsuite.programs.po_head"), "PUNO,ORTY,WHLO,SUNO");
    mlc_m3_columns(m3, mlc_config_str(cfg, "cloudsuite.programs.po_line"), "RVQA,ORQA");
    if (!strcmp(mlc_config_str(cfg, "receipts.transport"), "bod")) /* the BOD names item and unit */
        mlc_m3_columns(m3, mlc_config_str(cfg, "cloudsuite.programs.po_line"), "ITNO,PUUN");
    r->max_attempts = (int)mlc_config_int(cfg, "receipts.max_attempts");
    r->bulk = (size_t)mlc_config_int(cfg, "cloudsuite.bulk_size");
    r->bulk_read = (size_t)mlc_config_int(cfg, "cloudsuite.bulk_read_size");
    r->deadline_s = mlc_config_int(cfg, "cloudsuite.timeout");
    r->gateway_s = mlc_config_int(cfg, "cloudsuite.gateway_timeout");
    r->margin_s = mlc_config_int(cfg, "retry.in_doubt_margin");
    if (r->deadline_s < 0)
        r->deadline_s = 0;
    if (r->gateway_s < 0)
        r->gateway_s = 0;
    if (r->margin_s < 0)
        r->margin_s = 0;
    r->trace_table = mlc_config_str(cfg, "cloudsuite.receipt_trace_table");
    r->trace_prefix = mlc_config_str(cfg, "cloudsuite.receipt_trace_prefix");
    if (!r->trace_table)
        r->trace_table = "";
    if (!r->trace_prefix)
        r->trace_prefix = "";
    /* both go into an EXPORTMI query: an M3 table name and a two-letter prefix only */
    int bad_table = strlen(r->trace_table) > 10, bad_prefix = strlen(r->trace_prefix) != 2;
    for (const char *c = r->trace_table; *c; c++)
        bad_table |= !(isupper((unsigned char)*c) || isdigit((unsigned char)*c));
    for (const char *c = r->trace_prefix; *c; c++)
        bad_prefix |= !isupper((unsigned char)*c);
    if (bad_table || (*r->trace_table && bad_prefix)) {
        mlc_error_set(err, MLC_ERR_CONFIG, "%s: %s must be %s, not '%s'", mlc_config_path(cfg),
                      bad_table ? "cloudsuite.receipt_trace_table" : "cloudsuite.receipt_trace_prefix",
                      bad_table ? "an M3 table name (A-Z, 0-9, up to 10) or \"\"" : "two letters A-Z",
                      bad_table ? r->trace_table : r->trace_prefix);
        free(r);
        return MLC_ERR_CONFIG;
    }
    if (r->bulk < 1)
        r->bulk = 1;
    if (r->bulk_read < r->bulk)
        r->bulk_read = r->bulk;
    const char *post_at = mlc_config_str(cfg, "receipts.post_at");
    if (strcmp(post_at, "ship") != 0 && strcmp(post_at, "deliver") != 0) {
        free(r);
        return mlc_error_set(err, MLC_ERR_CONFIG, "%s: receipts.post_at must be ship or deliver, not '%s'",
                             mlc_config_path(cfg), post_at);
    }
    r->at_delivery = strcmp(post_at, "deliver") == 0;
    if (r->at_delivery && mlc_setup_ss_api(cfg, NULL) == MLC_SS_V1) {
        free(r);
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             "%s: receipts.post_at: deliver needs ShipStation V2 (V1 reports no delivery)",
                             mlc_config_path(cfg));
    }
    r->bo = mlc_backoff_new(mlc_config_int(cfg, "receipts.base_ms"), mlc_config_int(cfg, "receipts.cap_ms"),
                            r->max_attempts, 0);
    if (!r->bo || (rc = mlc_map_new(cfg, &r->map, err)) != MLC_OK ||
        (lock_path && (rc = take_lock(r, lock_path, err)) != MLC_OK) ||
        (!strcmp(mlc_config_str(cfg, "receipts.transport"), "bod") && (rc = bod_setup(r, err)) != MLC_OK)) {
        rc = r->bo ? (err ? err->code : MLC_ERR_CONFIG) : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        mlc_receipt_free(r);
        return rc;
    }
    *out = r;
    return MLC_OK;
}

void mlc_receipt_free(mlc_receipt *r)
{
    if (!r)
        return;
    if (r->lock_fd >= 0)
        close(r->lock_fd); /* releases the flock */
    if (r->store_locked)
        mlc_store_unlock(r->st, POSTER_LOCK);
    mlc_backoff_free(r->bo);
    mlc_map_free(r->map);
    free(r->heads);
    mlc_ims_free(r->ims);
    mlc_bod_free(r->bod_receipt);
    mlc_bod_free(r->bod_asn);
    free(r);
}

/* ------------------------------------------------------------------ helpers */

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* plain decimals for M3, never exponent notation (lib/record) */
static void fmt_qty(double q, char *buf, size_t cap) { (void)mlc_record_qty_format(q, buf, cap); }

static void audit(mlc_receipt *r, int64_t id, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void audit(mlc_receipt *r, int64_t id, const char *event, const char *fmt, ...)
{
    char detail[2048];
    va_list ap;
    mlc_error e;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    mlc_log_redact(r->log, detail);
    if (mlc_store_audit(r->st, id, event, detail, &e))
        mlc_log_error(r->log, "audit: %s", e.msg);
}

/* JSON-escapes s into buf (for audit details): always a complete JSON string,
 * the text cut (at a UTF-8 boundary) when it does not fit. */
static const char *jesc(const char *s, char *buf, size_t cap)
{
    size_t len = s ? strlen(s) : 0;
    snprintf(buf, cap, "\"\"");
    for (;;) {
        char *cut = strndup(s ? s : "", len);
        cJSON *str = cut ? cJSON_CreateString(cut) : NULL;
        char *p = str ? cJSON_PrintUnformatted(str) : NULL;
        int fits = p && strlen(p) < cap;
        if (fits)
            snprintf(buf, cap, "%s", p);
        free(p);
        cJSON_Delete(str);
        free(cut);
        if (fits || len == 0)
            return buf;
        len /= 2;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
}

static void report(mlc_receipt *r, mlc_receipt_cb cb, void *ud, int64_t id, const char *status)
{
    mlc_store_receipt *row = NULL;
    mlc_error e;
    if (!cb)
        return;
    if (mlc_store_receipt_get(r->st, id, &row, &e) == MLC_OK) {
        cb(ud, row, status);
        mlc_store_receipt_free(row);
    } else {
        mlc_log_error(r->log, "%s", e.msg);
    }
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

static void set_state(mlc_receipt *r, const mlc_store_receipt *row, mlc_receipt_state st, int attempts,
                      int64_t next, const char *msg)
{
    mlc_error e;
    if (mlc_store_receipt_update(r->st, row->id, st, attempts, next, msg, -1, 0, &e))
        mlc_log_error(r->log, "receipt %lld: %s", (long long)row->id, e.msg);
}

/* A transient failure: queue with backoff, or exhausted when attempts ran out. */
static const char *retry_later(mlc_receipt *r, const mlc_store_receipt *row, int attempts, const char *why)
{
    char esc[600];
    if (attempts >= r->max_attempts) {
        set_state(r, row, MLC_RECEIPT_EXHAUSTED, attempts, 0, why);
        audit(r, row->id, "exhausted", "{\"attempts\":%d,\"error\":%s}", attempts, jesc(why, esc, sizeof esc));
        r->stats.exhausted++;
        return "exhausted";
    }
    long ms = mlc_backoff_delay_ms(r->bo, attempts - 1 < 0 ? 0 : attempts - 1);
    int64_t next = now_s() + (ms + 999) / 1000;
    set_state(r, row, MLC_RECEIPT_QUEUED, attempts, next, why);
    audit(r, row->id, "queued", "{\"attempts\":%d,\"next_attempt_at\":%lld,\"error\":%s}", attempts,
          (long long)next, jesc(why, esc, sizeof esc));
    r->stats.queued++;
    return "queued";
}

/* ------------------------------------------------------------------ accept */

/* po_line: "PO/line/sub" or a line number (subline 0, PO from the record). */
static int item_line(const cJSON *item, const char *rec_po, char po[32], int *line, int *sub)
{
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(item, "po_line");
    if (cJSON_IsString(pl))
        return mlc_map_parse_line_key(pl->valuestring, po, line, sub);
    if (cJSON_IsNumber(pl) && rec_po && pl->valuedouble == floor(pl->valuedouble) && pl->valuedouble >= 0 &&
        pl->valuedouble <= INT_MAX) {
        snprintf(po, 32, "%s", rec_po);
        *line = (int)pl->valuedouble;
        *sub = 0;
        return 0;
    }
    return -1;
}

typedef struct agg_line {
    char po[32];
    int line, sub;
    double qty;
} agg_line;

static mlc_err check_shipment(const cJSON *s, mlc_error *err)
{
    const char *kind = jstr(s, "kind");
    if (!kind || strcmp(kind, "shipment") != 0)
        return mlc_error_set(err, MLC_ERR_INPUT, "not a shipment record");
    const char *id = jstr(s, "shipment_id");
    if (!id)
        return mlc_error_set(err, MLC_ERR_INPUT, "missing field 'shipment_id'");
    if (strlen(id) > 64 || strchr(id, '/'))
        return mlc_error_set(err, MLC_ERR_INPUT, "field 'shipment_id' is not a shipment id");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    if (!cJSON_IsArray(items))
        return mlc_error_set(err, MLC_ERR_INPUT, "missing array 'items'");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "voided");
    if (v && !cJSON_IsBool(v) && !cJSON_IsNull(v))
        return mlc_error_set(err, MLC_ERR_INPUT, "field 'voided' must be true or false");
    return MLC_OK;
}

static mlc_err aggregate(const cJSON *s, agg_line **out, size_t *n, mlc_error *err)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items"), *it;
    size_t cap = (size_t)cJSON_GetArraySize(items) + 1, i = 0;
    agg_line *arr = calloc(cap, sizeof *arr);
    *n = 0;
    if (!arr)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(it, "qty");
        char po[32];
        int line, sub;
        if (!cJSON_IsObject(it) || !cJSON_IsNumber(q) || q->valuedouble < 0 || !isfinite(q->valuedouble)) {
            free(arr);
            return mlc_error_set(err, MLC_ERR_INPUT, "items[%zu]: 'qty' must be a number >= 0", i);
        }
        if (item_line(it, jstr(s, "po"), po, &line, &sub)) {
            free(arr);
            return mlc_error_set(err, MLC_ERR_INPUT, "items[%zu]: 'po_line' must be \"PO/line/subline\" or a line number",
                                 i);
        }
        i++;
        if (q->valuedouble == 0)
            continue;
        size_t k;
        for (k = 0; k < *n; k++)
            if (!strcmp(arr[k].po, po) && arr[k].line == line && arr[k].sub == sub)
                break;
        if (k == *n) {
            snprintf(arr[k].po, sizeof arr[k].po, "%s", po);
            arr[k].line = line;
            arr[k].sub = sub;
            (*n)++;
        }
        arr[k].qty += q->valuedouble;
    }
    *out = arr;
    return MLC_OK;
}

static void handle_void(mlc_receipt *r, const cJSON *s, mlc_receipt_cb cb, void *ud)
{
    mlc_store_receipt_filter f = {.shipment_id = jstr(s, "shipment_id")};
    mlc_store_receipt **rows = NULL;
    size_t n = 0;
    mlc_error e;
    if (mlc_store_receipt_list(r->st, &f, &rows, &n, &e)) {
        mlc_log_error(r->log, "%s", e.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        mlc_store_receipt *row = rows[i];
        switch (row->state) {
        case MLC_RECEIPT_PENDING:
        case MLC_RECEIPT_QUEUED:
        case MLC_RECEIPT_EXHAUSTED:
            set_state(r, row, MLC_RECEIPT_VOIDED, row->attempts, 0, "label voided before the receipt was posted");
            audit(r, row->id, "voided", "{\"before_post\":true}");
            r->stats.voided++;
            report(r, cb, ud, row->id, "voided");
            break;
        case MLC_RECEIPT_POSTED:
            if (strcmp(mlc_config_str(r->cfg, "receipts.void_after_receipt"), "review") == 0) {
                set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0,
                          "label voided after the receipt was posted: reverse it in M3 if the goods did not come");
                r->stats.needs_review++;
                report(r, cb, ud, row->id, "needs_review");
            }
            audit(r, row->id, "voided_after_post", "{\"policy\":\"%s\"}",
                  mlc_config_str(r->cfg, "receipts.void_after_receipt"));
            break;
        default:
            audit(r, row->id, "voided_ignored", "{\"state\":\"%s\"}", mlc_receipt_state_name(row->state));
            break;
        }
    }
    mlc_store_receipts_free(rows, n);
}

/* Optional dispatch advice at ship time (receipts.advise_at_ship): makes the
 * shipped quantity visible as in transit in M3 before the receipt. Informational:
 * a failure is logged and audited, never blocks the receipt. */
static void advise(mlc_receipt *r, mlc_store_receipt *rows, size_t n)
{
    if (n == 0 || !mlc_config_bool(r->cfg, "receipts.advise_at_ship") || stopping(r))
        return; /* informational: after a stop signal no new call starts for it */
    mlc_m3_record *recs = calloc(n, sizeof *recs);
    mlc_m3_field *f = calloc(n * 5, sizeof *f);
    char (*num)[3][32] = calloc(n, sizeof *num);
    if (!recs || !f || !num)
        goto out;
    for (size_t i = 0; i < n; i++) {
        snprintf(num[i][0], sizeof num[i][0], "%d", rows[i].line);
        snprintf(num[i][1], sizeof num[i][1], "%d", rows[i].subline);
        fmt_qty(rows[i].qty, num[i][2], sizeof num[i][2]);
        size_t k = 0;
        f[5 * i + k++] = (mlc_m3_field){"PUNO", rows[i].po};
        f[5 * i + k++] = (mlc_m3_field){"PNLI", num[i][0]};
        f[5 * i + k++] = (mlc_m3_field){"PNLS", num[i][1]};
        f[5 * i + k++] = (mlc_m3_field){"ADQA", num[i][2]};
        if (rows[i].tracking && *rows[i].tracking && strlen(rows[i].tracking) <= SUDO_MAX)
            f[5 * i + k++] = (mlc_m3_field){"SUDO", rows[i].tracking};
        recs[i] = (mlc_m3_record){&f[5 * i], k};
    }
    mlc_m3_result *res = NULL;
    mlc_error e;
    r->stats.m3_calls++;
    mlc_err rc = mlc_m3_bulk(r->m3, mlc_config_str(r->cfg, "cloudsuite.programs.advise"), recs, n, 0, &res, &e);
    for (size_t i = 0; i < n; i++) {
        int ok = (rc == MLC_OK || rc == MLC_ERR_REMOTE) && res && i < mlc_m3_result_tx_count(res) &&
                 mlc_m3_result_tx_ok(res, i);
        char esc[400];
        if (ok)
            audit(r, rows[i].id, "advised", "{\"qty\":%s}", num[i][2]);
        else
            audit(r, rows[i].id, "advise_failed", "{\"error\":%s}",
                  jesc(res && i < mlc_m3_result_tx_count(res) ? mlc_m3_result_tx_message(res, i) : e.msg, esc,
                       sizeof esc));
    }
    if (rc && rc != MLC_ERR_REMOTE)
        mlc_log_warn(r->log, "dispatch advice not sent (%s): the receipts go on", e.msg);
    mlc_m3_result_free(res);
out:
    free(recs);
    free(f);
    free(num);
}

static void bod_advise(mlc_receipt *r, mlc_store_receipt *rows, size_t n);

/* A receipt that waited for delivery becomes due now; 1 if it did wait. */
static int release_delivered(mlc_receipt *r, int64_t id)
{
    mlc_store_receipt *row = NULL;
    mlc_error e;
    int waited = 0;
    if (mlc_store_receipt_get(r->st, id, &row, &e) == MLC_OK && row->state == MLC_RECEIPT_PENDING &&
        row->next_attempt_at == WAIT_FOR_DELIVERY) {
        set_state(r, row, MLC_RECEIPT_PENDING, row->attempts, 0, NULL);
        audit(r, id, "delivered", "{}");
        waited = 1;
    }
    mlc_store_receipt_free(row);
    return waited;
}

/* Whether a record's label is another one than the voided row's: its tracking
 * number differs (a label bought after the void has its own). The voided label's
 * own record coming again (a replayed file, a late notification) is not. */
static int new_label(const char *voided_tracking, const char *tracking)
{
    return tracking && *tracking && (!voided_tracking || strcmp(voided_tracking, tracking) != 0);
}

/* A voided row (the label voided before its receipt was posted) and a record of the
 * same shipment line under a new label: the shipment was shipped again, so the row
 * starts over with the new label (*created = 1, as a new row). The same label's
 * record again leaves it voided (a duplicate). */
static mlc_err relabel(mlc_receipt *r, mlc_store_receipt *row, int *created, mlc_error *err)
{
    mlc_store_receipt *old = NULL;
    mlc_err rc = mlc_store_receipt_get(r->st, row->id, &old, err);
    if (rc)
        return rc;
    int revived = 0;
    if (old->state == MLC_RECEIPT_VOIDED && new_label(old->tracking, row->tracking))
        rc = mlc_store_receipt_relabel(r->st, row->id, row->tracking, row->carrier, row->ship_date,
                                       row->shipment_json, &revived, err);
    if (!rc && revived) {
        char a[160], b[160];
        audit(r, row->id, "relabelled", "{\"voided_tracking\":%s,\"tracking\":%s}",
              jesc(old->tracking ? old->tracking : "", a, sizeof a), jesc(row->tracking, b, sizeof b));
        row->state = MLC_RECEIPT_PENDING;
        *created = 1;
    }
    mlc_store_receipt_free(old);
    return rc;
}

mlc_err mlc_receipt_accept(mlc_receipt *r, const cJSON *s, mlc_receipt_cb cb, void *ud, mlc_error *err)
{
    mlc_err rc = check_shipment(s, err);
    if (rc)
        return rc;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "voided"))) {
        handle_void(r, s, cb, ud);
        return MLC_OK;
    }
    agg_line *lines = NULL;
    size_t n = 0;
    if ((rc = aggregate(s, &lines, &n, err)) != MLC_OK)
        return rc;
    char *json = cJSON_PrintUnformatted(s);
    const char *sid = jstr(s, "shipment_id"), *otype = jstr(s, "order_type");
    mlc_store_receipt *fresh = calloc(n ? n : 1, sizeof *fresh);
    /* the rows kept in fresh outlive one iteration (dispatch advice after the loop), so
     * their keys do too */
    char (*keys)[160] = calloc(n ? n : 1, sizeof *keys);
    size_t nfresh = 0;
    if (!fresh || !keys) {
        free(fresh);
        free(keys);
        free(json);
        free(lines);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && !rc; i++) {
        char *key = keys[i];
        snprintf(key, sizeof keys[i], "%s/%s/%d/%d", sid, lines[i].po, lines[i].line, lines[i].sub);
        mlc_store_receipt row = {
            .idem_key = key,
            .shipment_id = (char *)sid,
            .po = lines[i].po,
            .line = lines[i].line,
            .subline = lines[i].sub,
            .qty = lines[i].qty,
            .route = otype ? (char *)mlc_map_route_name(mlc_map_route(r->map, otype)) : "unknown",
            .tracking = (char *)jstr(s, "tracking_number"),
            .carrier = (char *)jstr(s, "carrier"),
            .ship_date = (char *)jstr(s, "ship_date"),
            .shipment_json = json,
        };
        int created;
        if ((rc = mlc_store_receipt_add(r->st, &row, &created, err)) != MLC_OK)
            break;
        if (!created && row.state == MLC_RECEIPT_VOIDED && (rc = relabel(r, &row, &created, err)) != MLC_OK)
            break;
        int delivered = cJSON_IsTrue(cJSON_GetObjectItem(s, "delivered"));
        if (created && r->at_delivery && !delivered) {
            r->stats.accepted++;
            set_state(r, &row, MLC_RECEIPT_PENDING, 0, WAIT_FOR_DELIVERY, "waiting for delivery");
            audit(r, row.id, "waiting_for_delivery", "{\"shipment\":%s}", json ? json : "null");
            report(r, cb, ud, row.id, "pending");
            fresh[nfresh++] = row;
        } else if (!created && r->at_delivery && delivered && release_delivered(r, row.id)) {
            /* due now: post_due reports what becomes of it */
        } else if (created) {
            r->stats.accepted++;
            fresh[nfresh++] = row; /* borrowed fields live until the function returns */
            char src[96];
            audit(r, row.id, "accepted", "{\"source\":%s,\"shipment\":%s}",
                  jesc(jstr(s, "source") ? jstr(s, "source") : "stdin", src, sizeof src), json ? json : "null");
        } else {
            r->stats.duplicates++;
            char src[96];
            audit(r, row.id, "duplicate", "{\"source\":%s}",
                  jesc(jstr(s, "source") ? jstr(s, "source") : "stdin", src, sizeof src));
            report(r, cb, ud, row.id, "duplicate");
        }
    }
    if (!rc && r->ims)
        bod_advise(r, fresh, nfresh);
    else if (!rc)
        advise(r, fresh, nfresh);
    free(fresh);
    free(keys);
    free(json);
    free(lines);
    return rc;
}

/* Whether the ledger already reflects the record: handing it to accept again would
 * change nothing (every PO line has its row, whatever its state; a delivered
 * record's rows no longer wait for delivery; a voided record's unposted rows are
 * voided). The same checks as post-receipts first: a record it refuses is never
 * taken in. */
/* The checks of post-receipts (on_record, then accept) and the PO lines a
 * record ships (*lines NULL and *n 0 for a void). */
static mlc_err acceptable(const cJSON *s, long long cono, agg_line **lines, size_t *n, mlc_error *err)
{
    *lines = NULL;
    *n = 0;
    mlc_err rc = mlc_record_check(s, cono, err);
    if (!rc)
        rc = check_shipment(s, err);
    if (!rc && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "voided")))
        rc = aggregate(s, lines, n, err);
    return rc;
}

mlc_err mlc_receipt_wants(const cJSON *s, long long cono, int *wants, mlc_error *err)
{
    agg_line *lines = NULL;
    size_t n = 0;
    *wants = 0;
    mlc_err rc = acceptable(s, cono, &lines, &n, err);
    free(lines);
    if (!rc)
        *wants = n > 0 || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "voided"));
    return rc;
}

mlc_err mlc_receipt_taken_in(mlc_store *st, const cJSON *s, long long cono, int *taken, mlc_error *err)
{
    agg_line *lines = NULL;
    size_t n = 0;
    *taken = 0;
    mlc_err rc = acceptable(s, cono, &lines, &n, err);
    if (rc)
        return rc;
    int voided = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "voided"));
    if (!voided && n == 0) {
        free(lines);
        *taken = 1; /* nothing to receive: no row will ever stand for it */
        return MLC_OK;
    }
    mlc_store_receipt_filter f = {.shipment_id = jstr(s, "shipment_id")};
    mlc_store_receipt **rows = NULL;
    size_t nrows = 0;
    if ((rc = mlc_store_receipt_list(st, &f, &rows, &nrows, err)) != MLC_OK) {
        free(lines);
        return rc;
    }
    int delivered = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "delivered")), yes = 1;
    for (size_t i = 0; yes && i < nrows; i++) {
        mlc_receipt_state rs = rows[i]->state;
        if (voided)
            yes = rs != MLC_RECEIPT_PENDING && rs != MLC_RECEIPT_QUEUED && rs != MLC_RECEIPT_EXHAUSTED;
        else if (rs == MLC_RECEIPT_VOIDED) /* shipped again under a new label: accept revives it */
            yes = !new_label(rows[i]->tracking, jstr(s, "tracking_number"));
        else if (delivered)
            yes = !(rs == MLC_RECEIPT_PENDING && rows[i]->next_attempt_at == WAIT_FOR_DELIVERY);
    }
    for (size_t k = 0; yes && k < n; k++) { /* every line has its row (the key accept writes) */
        int found = 0;
        for (size_t i = 0; !found && i < nrows; i++)
            found = !strcmp(rows[i]->po, lines[k].po) && rows[i]->line == lines[k].line &&
                    rows[i]->subline == lines[k].sub;
        yes = found;
    }
    mlc_store_receipts_free(rows, nrows);
    free(lines);
    *taken = yes;
    return MLC_OK;
}

/* ------------------------------------------------------------------ M3 reads */

static po_head *head_slot(mlc_receipt *r, const char *po)
{
    for (size_t i = 0; i < r->nheads; i++)
        if (!strcmp(r->heads[i].po, po))
            return &r->heads[i];
    if (r->nheads == r->capheads) {
        size_t nc = r->capheads ? r->capheads * 2 : 64;
        po_head *nh = realloc(r->heads, nc * sizeof *nh);
        if (!nh)
            return NULL;
        r->heads = nh;
        r->capheads = nc;
    }
    po_head *h = &r->heads[r->nheads++];
    memset(h, 0, sizeof *h);
    snprintf(h->po, sizeof h->po, "%s", po);
    return h;
}

/* Fills po heads (ORTY, WHLO, SUNO) for rows that need them, in one bulk read.
 * Heads are kept by index: head_slot() may move the array. */
static mlc_err load_heads(mlc_receipt *r, mlc_store_receipt **rows, size_t n, mlc_error *err)
{
    mlc_m3_record *recs = calloc(n ? n : 1, sizeof *recs);
    mlc_m3_field *fields = calloc(n ? n : 1, sizeof *fields);
    size_t *want = calloc(n ? n : 1, sizeof *want);
    size_t k = 0;
    mlc_err rc = MLC_OK;
    if (!recs || !fields || !want) {
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        po_head *h = head_slot(r, rows[i]->po);
        if (!h) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            goto out;
        }
        size_t idx = (size_t)(h - r->heads), j;
        if (h->known)
            continue;
        for (j = 0; j < k; j++)
            if (want[j] == idx)
                break;
        if (j == k)
            want[k++] = idx;
    }
    if (k == 0)
        goto out;
    for (size_t j = 0; j < k; j++) {
        fields[j] = (mlc_m3_field){"PUNO", r->heads[want[j]].po};
        recs[j] = (mlc_m3_record){&fields[j], 1};
    }
    mlc_m3_result *res = NULL;
    r->stats.m3_calls++;
    rc = mlc_m3_bulk(r->m3, mlc_config_str(r->cfg, "cloudsuite.programs.po_head"), recs, k, 1, &res, err);
    if (rc == MLC_OK || (rc == MLC_ERR_REMOTE && res)) {
        rc = MLC_OK;
        for (size_t j = 0; j < k && j < mlc_m3_result_tx_count(res); j++) {
            po_head *h = &r->heads[want[j]];
            const char *v;
            if (!mlc_m3_result_tx_ok(res, j) || mlc_m3_result_tx_record_count(res, j) == 0)
                continue;
            if ((v = mlc_m3_result_tx_get(res, j, 0, "PUNO")) && strcmp(v, h->po) != 0)
                continue; /* an answer for another PO: never trust it */
            if ((v = mlc_m3_result_tx_get(res, j, 0, "ORTY")))
                snprintf(h->orty, sizeof h->orty, "%s", v);
            if ((v = mlc_m3_result_tx_get(res, j, 0, "WHLO")))
                snprintf(h->whlo, sizeof h->whlo, "%s", v);
            if ((v = mlc_m3_result_tx_get(res, j, 0, "SUNO")))
                snprintf(h->suno, sizeof h->suno, "%s", v);
            h->known = 1;
        }
    }
    mlc_m3_result_free(res);
out:
    free(recs);
    free(fields);
    free(want);
    return rc;
}

/* Reads RVQA/ORQA of each row's PO line in bulk calls of bulk_read. */
static mlc_err read_lines(mlc_receipt *r, mlc_store_receipt **rows, size_t n, line_state *out, mlc_error *err)
{
    const char *pgm = mlc_config_str(r->cfg, "cloudsuite.programs.po_line");
    for (size_t base = 0; base < n; base += r->bulk_read) {
        size_t k = n - base < r->bulk_read ? n - base : r->bulk_read;
        mlc_m3_record *recs = calloc(k, sizeof *recs);
        mlc_m3_field *fields = calloc(k * 3, sizeof *fields);
        char (*nums)[2][16] = calloc(k, sizeof *nums);
        if (!recs || !fields || !nums) {
            free(recs);
            free(fields);
            free(nums);
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < k; i++) {
            mlc_store_receipt *row = rows[base + i];
            snprintf(nums[i][0], sizeof nums[i][0], "%d", row->line);
            snprintf(nums[i][1], sizeof nums[i][1], "%d", row->subline);
            fields[3 * i] = (mlc_m3_field){"PUNO", row->po};
            fields[3 * i + 1] = (mlc_m3_field){"PNLI", nums[i][0]};
            fields[3 * i + 2] = (mlc_m3_field){"PNLS", nums[i][1]};
            recs[i] = (mlc_m3_record){&fields[3 * i], 3};
        }
        mlc_m3_result *res = NULL;
        r->stats.m3_calls++;
        mlc_err rc = mlc_m3_bulk(r->m3, pgm, recs, k, 1, &res, err);
        free(recs);
        free(fields);
        free(nums);
        if (rc != MLC_OK && !(rc == MLC_ERR_REMOTE && res && mlc_m3_result_tx_count(res) == k)) {
            mlc_m3_result_free(res);
            return rc; /* call-level failure: nothing decided */
        }
        for (size_t i = 0; i < k; i++) {
            line_state *ls = &out[base + i];
            memset(ls, 0, sizeof *ls);
            if (!mlc_m3_result_tx_ok(res, i) || mlc_m3_result_tx_record_count(res, i) == 0) {
                const char *m = mlc_m3_result_tx_message(res, i);
                snprintf(ls->msg, sizeof ls->msg, "%s", m && *m ? m : "PO line not found");
                continue;
            }
            const char *rv = mlc_m3_result_tx_get(res, i, 0, "RVQA");
            const char *oq = mlc_m3_result_tx_get(res, i, 0, "ORQA");
            ls->ok = rv != NULL;
            const char *it = mlc_m3_result_tx_get(res, i, 0, "ITNO"), *un = mlc_m3_result_tx_get(res, i, 0, "PUUN");
            snprintf(ls->itno, sizeof ls->itno, "%s", it ? it : "");
            snprintf(ls->puun, sizeof ls->puun, "%s", un ? un : "");
            ls->rvqa = rv ? strtod(rv, NULL) : 0;
            ls->orqa = oq ? strtod(oq, NULL) : 0;
            if (!ls->ok)
                snprintf(ls->msg, sizeof ls->msg, "GetLine returned no RVQA");
        }
        mlc_m3_result_free(res);
    }
    return MLC_OK;
}

/* ------------------------------------------------------------------ the receipt's trace */

static void trim_in_place(char *v)
{
    size_t a = 0, n = strlen(v);
    while (v[a] == ' ')
        a++;
    while (n > a && (v[n - 1] == ' ' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    memmove(v, v + a, n - a);
    v[n - a] = '\0';
}

/* The delivery note mlc sends for a row (SUDO: the tracking number, cut to 20). */
static void row_sudo(const mlc_store_receipt *row, char out[SUDO_MAX + 1])
{
    snprintf(out, SUDO_MAX + 1, "%s", row->tracking ? row->tracking : "");
    trim_in_place(out);
}

static int trace_add(trace_set *ts, const trace_row *t)
{
    if (ts->n == ts->cap) {
        size_t nc = ts->cap ? ts->cap * 2 : 64;
        trace_row *nr = realloc(ts->rows, nc * sizeof *nr);
        if (!nr)
            return -1;
        ts->rows = nr;
        ts->cap = nc;
    }
    ts->rows[ts->n++] = *t;
    return 0;
}

static void trace_free(trace_set *ts)
{
    free(ts->rows);
    memset(ts, 0, sizeof *ts);
}

/* One REPL row "PUNO;PNLI;PNLS;RPQA;SUDO" (5 fields, the delivery note may be blank). */
static int trace_parse(const char *repl, trace_row *t)
{
    char buf[400], *f[5];
    size_t k = 0;
    snprintf(buf, sizeof buf, "%s", repl);
    char *p = buf;
    for (; k < 5; k++) {
        f[k] = p;
        char *sep = strchr(p, ';');
        if (!sep) {
            k++;
            break;
        }
        *sep = '\0';
        p = sep + 1;
    }
    if (k != 5)
        return -1;
    for (size_t i = 0; i < 5; i++)
        trim_in_place(f[i]);
    char *end;
    memset(t, 0, sizeof *t);
    snprintf(t->po, sizeof t->po, "%s", f[0]);
    long li = strtol(f[1], &end, 10);
    if (!*f[1] || *end)
        return -1;
    long ls = *f[2] ? strtol(f[2], &end, 10) : 0;
    if (*f[2] && *end)
        return -1;
    t->qty = strtod(f[3], &end);
    if (!*f[3] || *end)
        return -1;
    t->line = (int)li;
    t->sub = (int)ls;
    snprintf(t->sudo, sizeof t->sudo, "%s", f[4]);
    return 0;
}

static int po_quotable(const char *po)
{
    if (!*po || strlen(po) > 20)
        return 0;
    for (const char *c = po; *c; c++)
        if (*c == '\'' || *c == '\\' || (unsigned char)*c < 0x20)
            return 0;
    return 1;
}

/* Reads the receipt transactions of the POs of rows with a delivery note: one
 * EXPORTMI/Select per PO on the trace table, in bulk calls of bulk_read. ts->avail = 0
 * (with the reason) when there is no trace to read: no table configured, or M3
 * refused the query (a tenant without the table or the columns). A call-level failure
 * (transient) is returned: nothing can be decided then. */
static mlc_err read_trace(mlc_receipt *r, mlc_store_receipt **rows, size_t n, trace_set *ts, mlc_error *err)
{
    memset(ts, 0, sizeof *ts);
    if (!*r->trace_table) {
        snprintf(ts->why, sizeof ts->why, "no trace table configured (cloudsuite.receipt_trace_table)");
        return MLC_OK;
    }
    ts->avail = 1;
    const char *pgm = mlc_config_str(r->cfg, "cloudsuite.programs.po_changed");
    if (!pgm || strncmp(pgm, "EXPORTMI/", 9) != 0)
        pgm = "EXPORTMI/Select";
    /* distinct POs of the rows that have a delivery note */
    const char **pos = calloc(n ? n : 1, sizeof *pos);
    size_t np = 0;
    if (!pos)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char sudo[SUDO_MAX + 1];
        row_sudo(rows[i], sudo);
        if (!*sudo || !po_quotable(rows[i]->po))
            continue;
        size_t j;
        for (j = 0; j < np; j++)
            if (!strcmp(pos[j], rows[i]->po))
                break;
        if (j == np)
            pos[np++] = rows[i]->po;
    }
    const char *x = r->trace_prefix;
    mlc_err rc = MLC_OK;
    for (size_t base = 0; base < np && !rc && ts->avail; base += r->bulk_read) {
        size_t k = np - base < r->bulk_read ? np - base : r->bulk_read;
        mlc_m3_record *recs = calloc(k, sizeof *recs);
        mlc_m3_field *fields = calloc(k * 3, sizeof *fields);
        char (*q)[256] = calloc(k, sizeof *q);
        if (!recs || !fields || !q) {
            free(recs);
            free(fields);
            free(q);
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < k; i++) {
            snprintf(q[i], sizeof q[i], "%sPUNO, %sPNLI, %sPNLS, %sRPQA, %sSUDO from %s where %sPUNO = '%s'", x, x, x,
                     x, x, r->trace_table, x, pos[base + i]);
            fields[3 * i] = (mlc_m3_field){"QERY", q[i]};
            fields[3 * i + 1] = (mlc_m3_field){"SEPC", ";"};
            fields[3 * i + 2] = (mlc_m3_field){"HDRS", "0"};
            recs[i] = (mlc_m3_record){&fields[3 * i], 3};
        }
        mlc_m3_result *res = NULL;
        mlc_error e;
        r->stats.m3_calls++;
        mlc_err cr = mlc_m3_bulk(r->m3, pgm, recs, k, 1, &res, &e);
        free(recs);
        free(fields);
        free(q);
        if (cr != MLC_OK && !(cr == MLC_ERR_REMOTE && res && mlc_m3_result_tx_count(res) == k)) {
            if (cr == MLC_ERR_REMOTE) {
                ts->avail = 0; /* an answer, but not one per query: no trace to go by */
                snprintf(ts->why, sizeof ts->why, "%s on %s: %s", pgm, r->trace_table, e.msg);
            } else {
                rc = mlc_error_set(err, cr, "reading receipt transactions (%s on %s): %s", pgm, r->trace_table,
                                   e.msg);
            }
            mlc_m3_result_free(res);
            break;
        }
        for (size_t i = 0; i < k && ts->avail; i++) {
            if (!mlc_m3_result_tx_ok(res, i)) {
                const char *m = mlc_m3_result_tx_message(res, i);
                ts->avail = 0;
                snprintf(ts->why, sizeof ts->why, "%s on %s refused: %s", pgm, r->trace_table, m ? m : "NOK");
                break;
            }
            for (size_t j = 0; j < mlc_m3_result_tx_record_count(res, i); j++) {
                const char *repl = mlc_m3_result_tx_get(res, i, j, "REPL");
                trace_row t;
                if (!repl || trace_parse(repl, &t) || strcmp(t.po, pos[base + i]) != 0) {
                    ts->avail = 0; /* an answer we cannot read is no evidence either way */
                    snprintf(ts->why, sizeof ts->why, "%s on %s: unexpected row '%.60s'", pgm, r->trace_table,
                             repl ? repl : "");
                    break;
                }
                if (trace_add(ts, &t)) {
                    mlc_m3_result_free(res);
                    free(pos);
                    return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                }
            }
        }
        mlc_m3_result_free(res);
    }
    free(pos);
    if (!ts->avail && !r->trace_warned) {
        mlc_log_warn(r->log, "no receipt trace to read (%s): in-doubt receipts are settled by RVQA alone", ts->why);
        r->trace_warned = 1;
    }
    return rc;
}

/* Whether M3 carries this row's receipt: the line holds more receipt transactions
 * with its delivery note and its quantity than the ledger's other rows of that line
 * and note account for (a tracking number belongs to one shipment; two ledger rows
 * share one only when one shipment was fed twice under two ids, or when two tracking
 * numbers agree in the 20 characters SUDO keeps: the quantity tells most of those
 * apart). With receipts.over_shipment: cap the quantity sent may have been the open
 * quantity, so a smaller one matches too. -1: no trace to go by (no delivery note,
 * or the trace could not be read); *matches: how many transactions matched.
 * 2: carried, but more often than the ledger can account for: more matching
 * transactions than this row plus every other row of the line and note that may
 * have reached M3 (any state but pending and voided). M3 counted the receipt
 * twice (on the BOD route a redelivered message that M3 did not refuse, which
 * ion-bod.md cannot confirm M3 does); the callers that settle a row send it to
 * needs_review, the others take it as carried. */
static int in_m3(mlc_receipt *r, const mlc_store_receipt *row, const trace_set *ts, int *matches)
{
    char sudo[SUDO_MAX + 1];
    row_sudo(row, sudo);
    *matches = 0;
    if (!ts->avail || !*sudo)
        return -1;
    int cap = !strcmp(mlc_config_str(r->cfg, "receipts.over_shipment"), "cap");
    for (size_t i = 0; i < ts->n; i++) {
        const trace_row *t = &ts->rows[i];
        int qty_ok = fabs(t->qty - row->qty) < 1e-6 || (cap && t->qty > 0 && t->qty < row->qty);
        if (!strcmp(t->po, row->po) && t->line == row->line && t->sub == row->subline && !strcmp(t->sudo, sudo) &&
            qty_ok)
            (*matches)++;
    }
    if (*matches == 0)
        return 0;
    mlc_store_receipt_filter f = {.po = row->po};
    mlc_store_receipt **others = NULL;
    size_t n = 0;
    mlc_error e;
    int used = 0, maybe = 0;
    if (mlc_store_receipt_list(r->st, &f, &others, &n, &e) != MLC_OK) {
        mlc_log_error(r->log, "%s", e.msg);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char os[SUDO_MAX + 1];
        row_sudo(others[i], os);
        if (others[i]->id == row->id || others[i]->line != row->line || others[i]->subline != row->subline ||
            strcmp(os, sudo) || !(fabs(others[i]->qty - row->qty) < 1e-6 || cap))
            continue;
        if (others[i]->state == MLC_RECEIPT_POSTED || others[i]->state == MLC_RECEIPT_ALREADY_POSTED)
            used++;
        if (others[i]->state != MLC_RECEIPT_PENDING && others[i]->state != MLC_RECEIPT_VOIDED)
            maybe++;
    }
    mlc_store_receipts_free(others, n);
    if (*matches > maybe + 1)
        return 2;
    return *matches > used;
}

/* The needs_review reason of a row M3 counted more often than it was sent (in_m3 == 2). */
static void over_count_msg(const mlc_store_receipt *row, const char *sudo, int matches, const char *message_id,
                           char *msg, size_t n)
{
    snprintf(msg, n,
             "M3 shows this receipt %d times (delivery note %s, quantity %g on PO line %s/%d/%d), more than the "
             "ledger sent it%s%s%s: M3 counted it twice; check the line's receipts in M3 and reverse the extra "
             "one, then `mlc replay --force --reason` records it",
             matches, sudo, row->qty, row->po, row->line, row->subline, message_id ? " (BOD " : "",
             message_id ? message_id : "", message_id ? ", probably delivered twice by ION and applied twice)" : "");
}

/* ------------------------------------------------------------------ reconcile */

static int qeq(double a, double b) { return fabs(a - b) < 1e-6; }

/* Decides an in_flight row from a fresh reading of its line. */
static const char *reconcile_row(mlc_receipt *r, mlc_store_receipt *row, const line_state *now, const char *why)
{
    char esc[600];
    if (!now->ok) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot re-read the PO line to reconcile: %s", now->msg);
        set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, msg);
        audit(r, row->id, "needs_review", "{\"error\":%s}", jesc(msg, esc, sizeof esc));
        r->stats.needs_review++;
        return "needs_review";
    }
    double delta = now->rvqa - row->rvqa_before;
    if (qeq(delta, row->qty)) {
        set_state(r, row, MLC_RECEIPT_POSTED, row->attempts, 0, NULL);
        audit(r, row->id, "posted",
              "{\"reconciled\":true,\"rvqa_before\":%g,\"rvqa_now\":%g,\"after\":%s}", row->rvqa_before, now->rvqa,
              jesc(why, esc, sizeof esc));
        r->stats.posted++;
        return "posted";
    }
    if (qeq(delta, 0)) {
        audit(r, row->id, "not_applied", "{\"rvqa_before\":%g,\"rvqa_now\":%g,\"after\":%s}", row->rvqa_before,
              now->rvqa, jesc(why, esc, sizeof esc));
        return retry_later(r, row, row->attempts, why);
    }
    char msg[300];
    snprintf(msg, sizeof msg,
             "received quantity moved from %g to %g, neither 0 nor %g: cannot tell whether this receipt was posted",
             row->rvqa_before, now->rvqa, row->qty);
    set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, msg);
    audit(r, row->id, "needs_review", "{\"error\":%s}", jesc(msg, esc, sizeof esc));
    r->stats.needs_review++;
    return "needs_review";
}

/* Settles rows whose call cannot still be executing: by the receipt's own trace in
 * M3 (its delivery note on the line) where there is one, else by the RVQA delta, and
 * the audit says which. A read that fails leaves them as they are (in_doubt). */
static mlc_err settle_rows(mlc_receipt *r, mlc_store_receipt **rows, size_t n, const char *why,
                           mlc_receipt_cb cb, void *ud, mlc_error *err)
{
    if (n == 0)
        return MLC_OK;
    trace_set ts;
    mlc_err rc = read_trace(r, rows, n, &ts, err);
    if (rc)
        return rc;
    mlc_store_receipt **fb = calloc(n, sizeof *fb);
    line_state *ls = calloc(n, sizeof *ls);
    int *verdict = calloc(n, sizeof *verdict), *matches = calloc(n, sizeof *matches);
    size_t nfb = 0;
    if (!fb || !ls || !verdict || !matches) {
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if ((verdict[i] = in_m3(r, rows[i], &ts, &matches[i])) < 0)
            fb[nfb++] = rows[i];
    if (nfb && (rc = read_lines(r, fb, nfb, ls, err)) != MLC_OK)
        goto out; /* rows stay in doubt: the next run settles them */
    char esc[800], dn[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        mlc_store_receipt *row = rows[i];
        char sudo[SUDO_MAX + 1];
        row_sudo(row, sudo);
        const char *status;
        if (verdict[i] == 2) {
            char msg[500];
            over_count_msg(row, sudo, matches[i], NULL, msg, sizeof msg);
            set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, msg);
            audit(r, row->id, "needs_review",
                  "{\"settled_by\":\"delivery_note\",\"trace\":\"%s\",\"delivery_note\":%s,\"matches\":%d,"
                  "\"double_count\":true,\"error\":%s}",
                  r->trace_table, jesc(sudo, dn, sizeof dn), matches[i], jesc(msg, esc, sizeof esc));
            r->stats.needs_review++;
            status = "needs_review";
        } else if (verdict[i] == 1) {
            set_state(r, row, MLC_RECEIPT_POSTED, row->attempts, 0, NULL);
            audit(r, row->id, "posted",
                  "{\"settled_by\":\"delivery_note\",\"trace\":\"%s\",\"delivery_note\":%s,\"matches\":%d,\"after\":%s}",
                  r->trace_table, jesc(sudo, dn, sizeof dn), matches[i], jesc(why, esc, sizeof esc));
            r->stats.posted++;
            status = "posted";
        } else if (verdict[i] == 0) {
            audit(r, row->id, "not_applied",
                  "{\"settled_by\":\"delivery_note\",\"trace\":\"%s\",\"delivery_note\":%s,\"after\":%s}", r->trace_table,
                  jesc(sudo, dn, sizeof dn), jesc(why, esc, sizeof esc));
            status = retry_later(r, row, row->attempts,
                                 "the call in doubt was not applied (no receipt with its delivery note in M3)");
        } else {
            char fwhy[300];
            snprintf(fwhy, sizeof fwhy, "%s", *sudo ? ts.why : "the receipt has no delivery note (no tracking number)");
            audit(r, row->id, "settle_fallback", "{\"settled_by\":\"rvqa\",\"why\":%s}", jesc(fwhy, esc, sizeof esc));
            status = reconcile_row(r, row, &ls[k++], why);
        }
        report(r, cb, ud, row->id, status);
    }
out:
    trace_free(&ts);
    free(fb);
    free(ls);
    free(verdict);
    free(matches);
    return rc;
}

/* An unknown outcome: the row waits, in_doubt, until its call cannot still be
 * executing anywhere (settle_after). */
static void mark_in_doubt(mlc_receipt *r, mlc_store_receipt *row, int64_t settle_after, const char *why,
                          mlc_receipt_cb cb, void *ud)
{
    char esc[600], when[32];
    mlc_error e;
    set_state(r, row, MLC_RECEIPT_IN_DOUBT, row->attempts, settle_after, why);
    if (mlc_store_receipt_set_call(r->st, row->id, row->call_started_at, settle_after, &e))
        mlc_log_error(r->log, "receipt %lld: %s", (long long)row->id, e.msg);
    row->settle_after = settle_after;
    mlc_dates_format_rfc3339((time_t)settle_after, when);
    audit(r, row->id, "in_doubt", "{\"settle_after\":\"%s\",\"error\":%s}", when, jesc(why, esc, sizeof esc));
    r->stats.in_doubt++;
    report(r, cb, ud, row->id, "in_doubt");
}

static mlc_err bod_recover(mlc_receipt *r, mlc_store_receipt **rows, size_t n, mlc_receipt_cb cb, void *ud,
                           mlc_error *err);
static mlc_err bod_send_rows(mlc_receipt *r, mlc_store_receipt **rows, const line_state *const *ls, size_t n,
                             mlc_receipt_cb cb, void *ud, mlc_error *err);
static mlc_err bod_settle(mlc_receipt *r, mlc_receipt_cb cb, void *ud, mlc_error *err);
static int bod_line_busy(mlc_receipt *r, const mlc_store_receipt *row);

mlc_err mlc_receipt_recover(mlc_receipt *r, mlc_receipt_cb cb, void *ud, mlc_error *err)
{
    mlc_store_receipt_filter f = {.state_mask = 1u << MLC_RECEIPT_IN_FLIGHT | 1u << MLC_RECEIPT_IN_DOUBT};
    mlc_store_receipt **rows = NULL;
    size_t n = 0, nd = 0;
    mlc_err rc = mlc_store_receipt_list(r->st, &f, &rows, &n, err);
    if (rc)
        return rc;
    if (r->ims) {
        /* BOD route: in_flight rows become `sent` in doubt (bod_recover); they are
         * settled by bod_settle, never by the REST settlement below */
        rc = bod_recover(r, rows, n, cb, ud, err);
        if (rc) {
            mlc_store_receipts_free(rows, n);
            return rc;
        }
    }
    mlc_store_receipt **due = calloc(n ? n : 1, sizeof *due);
    if (!due) {
        mlc_store_receipts_free(rows, n);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    int64_t now = now_s();
    for (size_t i = 0; i < n; i++) {
        mlc_store_receipt *row = rows[i];
        if (row->state == MLC_RECEIPT_SENT)
            continue; /* taken over by the BOD route above */
        if (row->state == MLC_RECEIPT_IN_FLIGHT && row->settle_after < 0) {
            /* claimed, but the run died before sending the call: nothing reached M3 */
            audit(r, row->id, "not_sent", "{\"after\":\"recovery after an interrupted run\"}");
            report(r, cb, ud, row->id, retry_later(r, row, row->attempts, "interrupted before the call was sent"));
        } else if (row->settle_after > now) {
            /* the call may still be executing: never decide now */
            if (row->state == MLC_RECEIPT_IN_FLIGHT) {
                mark_in_doubt(r, row, row->settle_after, "interrupted during the call", cb, ud);
            } else {
                r->stats.in_doubt++;
                report(r, cb, ud, row->id, "in_doubt");
            }
        } else if (row->state == MLC_RECEIPT_IN_FLIGHT && !row->has_before) {
            /* cannot happen through the protocol; never guess */
            set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, "in flight without a reading");
            report(r, cb, ud, row->id, "needs_review");
        } else {
            due[nd++] = row;
        }
    }
    if (nd)
        mlc_log_info(r->log, "settling %zu receipts whose outcome was in doubt", nd);
    rc = settle_rows(r, due, nd, "settled after an unknown outcome", cb, ud, err);
    free(due);
    mlc_store_receipts_free(rows, n);
    return rc;
}

/* ------------------------------------------------------------------ posting */

typedef struct post_tx {
    mlc_store_receipt *row;
    mlc_m3_field f[16];
    size_t nf;
    char qty[32], line[16], sub[16], trdt[9], sudo[SUDO_MAX + 1], bref[BREF_MAX + 1];
} post_tx;

static void tx_add(post_tx *t, const char *name, const char *value)
{
    if (value && *value && t->nf < 16)
        t->f[t->nf++] = (mlc_m3_field){name, value};
}

static void build_tx(mlc_receipt *r, post_tx *t, const po_head *h, int goods)
{
    time_t when;
    t->nf = 0;
    fmt_qty(t->row->qty, t->qty, sizeof t->qty);
    snprintf(t->line, sizeof t->line, "%d", t->row->line);
    snprintf(t->sub, sizeof t->sub, "%d", t->row->subline);
    if (!t->row->ship_date || mlc_dates_parse_rfc3339(t->row->ship_date, &when))
        when = time(NULL);
    mlc_dates_format_m3(when, t->trdt);
    snprintf(t->sudo, sizeof t->sudo, "%s", t->row->tracking ? t->row->tracking : "");
    snprintf(t->bref, sizeof t->bref, "%s", t->row->carrier ? t->row->carrier : "");
    if (!goods) {
        tx_add(t, "TRDT", t->trdt);
        tx_add(t, "RESP", mlc_config_str(r->cfg, "cloudsuite.responsible"));
        tx_add(t, "PUNO", t->row->po);
        tx_add(t, "PNLI", t->line);
        tx_add(t, "PNLS", t->sub);
        tx_add(t, "RVQA", t->qty);
        tx_add(t, "SUDO", t->sudo);
        tx_add(t, "BREF", t->bref);
    } else {
        tx_add(t, "WHLO", h->whlo);
        tx_add(t, "E0PA", mlc_config_str(r->cfg, "cloudsuite.whs_partner"));
        tx_add(t, "E065", mlc_config_str(r->cfg, "cloudsuite.whs_message_type"));
        tx_add(t, "SUNO", h->suno);
        tx_add(t, "SUTY", mlc_config_str(r->cfg, "cloudsuite.whs_supplier_type"));
        tx_add(t, "RIDN", t->row->po);
        tx_add(t, "RIDL", t->line);
        tx_add(t, "RIDX", t->sub);
        tx_add(t, "QTY", t->qty);
        tx_add(t, "SUDO", t->sudo);
        tx_add(t, "GEDT", t->trdt);
    }
}

/* Posts claimed rows of one route in bulk chunks; decides each row. */
static mlc_err post_route(mlc_receipt *r, post_tx *txs, size_t n, int goods, mlc_receipt_cb cb, void *ud,
                          mlc_error *err)
{
    const char *pgm = mlc_config_str(r->cfg, goods ? "cloudsuite.programs.whs_receipt" : "cloudsuite.programs.po_receipt");
    mlc_err worst = MLC_OK;
    for (size_t base = 0; base < n; base += r->bulk) {
        size_t k = n - base < r->bulk ? n - base : r->bulk;
        if (stopping(r)) {
            /* clean stop: these rows were claimed but not sent; they go back */
            for (size_t i = base; i < n; i++) {
                mlc_store_receipt *row = txs[i].row;
                mlc_error e;
                if (mlc_store_receipt_update(r->st, row->id, row->state, row->attempts, row->next_attempt_at,
                                             row->last_error, -1, 0, &e))
                    mlc_log_error(r->log, "receipt %lld: %s", (long long)row->id, e.msg);
                audit(r, row->id, "unclaimed", "{\"reason\":\"stop signal before the call\"}");
            }
            break;
        }
        mlc_m3_record *recs = calloc(k, sizeof *recs);
        if (!recs)
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < k; i++) {
            post_tx *t = &txs[base + i];
            recs[i] = (mlc_m3_record){t->f, t->nf};
            char esc[64];
            audit(r, t->row->id, "attempt",
                  "{\"attempt\":%d,\"program\":\"%s\",\"po\":\"%s\",\"line\":%d,\"subline\":%d,\"qty\":%s,"
                  "\"rvqa_before\":%g,\"delivery_note\":%s}",
                  t->row->attempts + 1, pgm, t->row->po, t->row->line, t->row->subline, t->qty, t->row->rvqa_before,
                  jesc(t->sudo, esc, sizeof esc));
        }
        /* Before the call: when it starts and until when it may still be executing
         * anywhere (its deadline, the ION gateway's timeout, a margin), in the ledger. */
        int64_t started = now_s(), settle = started + r->deadline_s + r->gateway_s + r->margin_s;
        for (size_t i = 0; i < k; i++) {
            mlc_store_receipt *row = txs[base + i].row;
            mlc_error se;
            if (mlc_store_receipt_set_call(r->st, row->id, started, settle, &se) != MLC_OK) {
                free(recs);
                return mlc_error_set(err, se.code, "%s", se.msg); /* rows stay claimed, never sent */
            }
            row->call_started_at = started;
            row->settle_after = settle;
            audit(r, row->id, "call_started", "{\"deadline_s\":%lld,\"gateway_timeout_s\":%lld,\"margin_s\":%lld,"
                  "\"settle_after\":%lld}", (long long)r->deadline_s, (long long)r->gateway_s,
                  (long long)r->margin_s, (long long)settle);
        }
        mlc_m3_result *res = NULL;
        mlc_error e;
        r->stats.m3_calls++;
        mlc_err rc = mlc_m3_bulk(r->m3, pgm, recs, k, 0, &res, &e);
        free(recs);
        int per_tx = (rc == MLC_OK || rc == MLC_ERR_REMOTE) && res && mlc_m3_result_tx_count(res) == k;
        if (per_tx) {
            for (size_t i = 0; i < k; i++) {
                mlc_store_receipt *row = txs[base + i].row;
                int attempts = row->attempts + 1;
                char esc[600];
                const char *status;
                if (mlc_m3_result_tx_ok(res, i)) {
                    set_state(r, row, MLC_RECEIPT_POSTED, attempts, 0, NULL);
                    audit(r, row->id, "posted", "{\"attempts\":%d,\"program\":\"%s\"}", attempts, pgm);
                    r->stats.posted++;
                    status = "posted";
                } else if (mlc_m3_result_tx_not_processed(res, i)) {
                    row->attempts = attempts;
                    status = retry_later(r, row, attempts, "not processed: M3 stopped the bulk call early");
                } else {
                    char msg[400];
                    const char *code = mlc_m3_result_tx_code(res, i);
                    snprintf(msg, sizeof msg, "M3 refused the receipt%s%s%s: %s", code && *code ? " (" : "",
                             code ? code : "", code && *code ? ")" : "", mlc_m3_result_tx_message(res, i));
                    set_state(r, row, MLC_RECEIPT_EXHAUSTED, attempts, 0, msg);
                    audit(r, row->id, "exhausted", "{\"attempts\":%d,\"permanent\":true,\"error\":%s}", attempts,
                          jesc(msg, esc, sizeof esc));
                    r->stats.exhausted++;
                    status = "exhausted";
                }
                report(r, cb, ud, row->id, status);
            }
        } else if (!mlc_m3_last_sent(r->m3) || mlc_m3_last_http_status(r->m3) == 429 ||
                   mlc_m3_last_http_status(r->m3) == 503) {
            /* Known not executed: never sent (no token), or refused before M3 ran
             * it (429 quota, 503 unavailable): retried with backoff. */
            for (size_t i = 0; i < k; i++) {
                mlc_store_receipt *row = txs[base + i].row;
                char esc[600];
                row->attempts++;
                audit(r, row->id, "call_failed", "{\"error\":%s,\"executed\":false}", jesc(e.msg, esc, sizeof esc));
                report(r, cb, ud, row->id, retry_later(r, row, row->attempts, e.msg));
            }
            if (!worst)
                worst = mlc_error_set(err, MLC_ERR_TRANSIENT, "%s", e.msg);
        } else {
            /* No per-transaction answer: the call may or may not have been applied
             * (timeout, reset, broken answer), and M3 may still be executing it. The
             * rows stay in doubt until it cannot be (the recorded deadline, or now +
             * gateway timeout + margin if that is later); the next run settles them
             * by their trace in M3. Never read RVQA now: it may not have moved yet. */
            int64_t late = now_s() + r->gateway_s + r->margin_s;
            for (size_t i = 0; i < k; i++) {
                mlc_store_receipt *row = txs[base + i].row;
                char esc[600];
                row->attempts++;
                audit(r, row->id, "call_failed", "{\"error\":%s}", jesc(e.msg, esc, sizeof esc));
                mark_in_doubt(r, row, row->settle_after > late ? row->settle_after : late, e.msg, cb, ud);
            }
            mlc_log_warn(r->log, "%s: %s; %zu receipts in doubt until M3 cannot still be executing them", pgm,
                         e.msg, k);
            if (!worst)
                worst = mlc_error_set(err, MLC_ERR_TRANSIENT, "%s", e.msg);
        }
        mlc_m3_result_free(res);
    }
    return worst;
}

/* Picks at most one row per PO line, resolves routes, reads the lines, claims
 * and posts. Rows not picked stay due for the next round. */
static mlc_err post_batch(mlc_receipt *r, mlc_store_receipt **rows, size_t n, unsigned from_mask, mlc_receipt_cb cb,
                          void *ud, size_t *handled, mlc_error *err)
{
    mlc_store_receipt **pick = calloc(n, sizeof *pick);
    line_state *ls = calloc(n, sizeof *ls);
    post_tx *txs = calloc(n, sizeof *txs);
    const line_state **tls = calloc(n, sizeof *tls);
    size_t np = 0, nt = 0;
    mlc_err rc = MLC_OK;
    trace_set ts = {0};
    *handled = 0;
    if (!pick || !ls || !txs || !tls) {
        rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* a line with a receipt in doubt waits until that one is settled: a reading of
     * RVQA (the fallback) must always decide */
    mlc_store_receipt_filter df = {.state_mask = 1u << MLC_RECEIPT_IN_DOUBT | 1u << MLC_RECEIPT_IN_FLIGHT};
    mlc_store_receipt **doubt = NULL;
    size_t nd = 0;
    if ((rc = mlc_store_receipt_list(r->st, &df, &doubt, &nd, err)) != MLC_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < nd; j++)
            if (!strcmp(doubt[j]->po, rows[i]->po) && doubt[j]->line == rows[i]->line &&
                doubt[j]->subline == rows[i]->subline)
                break;
        if (j < nd)
            continue;
        if (r->ims && bod_line_busy(r, rows[i]))
            continue; /* BOD route: a line waits while another receipt of it is sent and not yet in M3 */
        for (j = 0; j < np; j++)
            if (!strcmp(pick[j]->po, rows[i]->po) && pick[j]->line == rows[i]->line &&
                pick[j]->subline == rows[i]->subline)
                break;
        if (j == np)
            pick[np++] = rows[i];
    }
    mlc_store_receipts_free(doubt, nd);
    if ((rc = load_heads(r, pick, np, err)) != MLC_OK)
        goto out;
    if ((rc = read_lines(r, pick, np, ls, err)) != MLC_OK)
        goto out; /* nothing claimed: rows stay due */
    /* M3 is the memory, the ledger a cache: a receipt M3 already carries (its delivery
     * note on the line: a lost or fresh state directory, an earlier run's call that
     * was applied after all) is recorded, not posted again. */
    if ((rc = read_trace(r, pick, np, &ts, err)) != MLC_OK)
        goto out; /* nothing claimed: rows stay due */
    for (size_t i = 0; i < np; i++) {
        mlc_store_receipt *row = pick[i];
        po_head *h = head_slot(r, row->po);
        char esc[600];
        int matches = 0;
        (*handled)++;
        if (ls[i].ok && in_m3(r, row, &ts, &matches) >= 1) { /* 2: more than once, carried all the same */
            char sudo[SUDO_MAX + 1], dn[64];
            row_sudo(row, sudo);
            set_state(r, row, MLC_RECEIPT_ALREADY_POSTED, row->attempts, 0, NULL);
            audit(r, row->id, "already_posted", "{\"trace\":\"%s\",\"delivery_note\":%s,\"matches\":%d}",
                  r->trace_table, jesc(sudo, dn, sizeof dn), matches);
            r->stats.already_posted++;
            report(r, cb, ud, row->id, "already_posted");
            continue;
        }
        if (!ls[i].ok) {
            char msg[300];
            snprintf(msg, sizeof msg, "PO line %s/%d/%d cannot be read: %s", row->po, row->line, row->subline,
                     ls[i].msg);
            set_state(r, row, MLC_RECEIPT_EXHAUSTED, row->attempts, 0, msg);
            audit(r, row->id, "exhausted", "{\"permanent\":true,\"error\":%s}", jesc(msg, esc, sizeof esc));
            r->stats.exhausted++;
            report(r, cb, ud, row->id, "exhausted");
            continue;
        }
        if (!strcmp(row->route, "unknown")) {
            if (!h || !h->known) {
                set_state(r, row, MLC_RECEIPT_EXHAUSTED, row->attempts, 0, "PO head cannot be read: route unknown");
                r->stats.exhausted++;
                report(r, cb, ud, row->id, "exhausted");
                continue;
            }
            const char *route = mlc_map_route_name(mlc_map_route(r->map, h->orty));
            mlc_store_receipt_set_route(r->st, row->id, route, err);
            free(row->route);
            row->route = strdup(route);
        }
        double open = ls[i].orqa - ls[i].rvqa;
        if (row->qty > open + 1e-9 && !strcmp(mlc_config_str(r->cfg, "receipts.over_shipment"), "cap")) {
            if (open <= 0) {
                set_state(r, row, MLC_RECEIPT_EXHAUSTED, row->attempts, 0, "nothing open on the PO line (capped)");
                audit(r, row->id, "exhausted", "{\"capped_to\":0}");
                r->stats.exhausted++;
                report(r, cb, ud, row->id, "exhausted");
                continue;
            }
            audit(r, row->id, "capped", "{\"shipped\":%g,\"open\":%g}", row->qty, open);
            row->qty = open; /* the ledger keeps the shipped qty; M3 gets the open qty */
        }
        int claimed = 0;
        if ((rc = mlc_store_receipt_claim(r->st, row->id, from_mask, ls[i].rvqa, &claimed, err)) != MLC_OK)
            goto out;
        if (!claimed)
            continue;
        row->has_before = 1;
        row->rvqa_before = ls[i].rvqa;
        tls[nt] = &ls[i];
        txs[nt++].row = row;
    }
    if (r->ims) {
        /* BOD transport: every claimed row is sent (or left in doubt) now */
        mlc_store_receipt **sel = calloc(nt ? nt : 1, sizeof *sel);
        for (size_t i = 0; sel && i < nt; i++)
            sel[i] = txs[i].row;
        rc = sel ? bod_send_rows(r, sel, tls, nt, cb, ud, err) : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        free(sel);
        goto out;
    }
    /* Two routes: po_receipt rows first, then goods_receipt rows. Every claimed
     * row is posted (or reconciled) now, even when the other route failed:
     * a claimed row is never left in flight on purpose. */
    for (int goods = 0; goods <= 1; goods++) {
        post_tx *sel = calloc(nt ? nt : 1, sizeof *sel);
        size_t ns = 0;
        if (!sel) {
            rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
            break; /* claimed rows stay in flight: the next run reconciles them */
        }
        for (size_t i = 0; i < nt; i++) {
            int is_goods = !strcmp(txs[i].row->route, "goods_receipt");
            if (is_goods != goods)
                continue;
            sel[ns].row = txs[i].row;
            build_tx(r, &sel[ns], head_slot(r, txs[i].row->po), goods);
            ns++;
        }
        if (goods && ns) {
            /* the warehouse route needs WHLO/SUNO from the head */
            mlc_store_receipt **need = calloc(ns, sizeof *need);
            for (size_t i = 0; need && i < ns; i++)
                need[i] = sel[i].row;
            if (need)
                load_heads(r, need, ns, err);
            free(need);
            for (size_t i = 0; i < ns; i++)
                build_tx(r, &sel[i], head_slot(r, sel[i].row->po), goods);
        }
        mlc_err pr = ns ? post_route(r, sel, ns, goods, cb, ud, err) : MLC_OK;
        if (pr && !rc)
            rc = pr;
        free(sel);
    }
out:
    trace_free(&ts);
    free(pick);
    free(ls);
    free(txs);
    free(tls);
    return rc;
}

static mlc_err post_loop(mlc_receipt *r, mlc_store_receipt_filter *f, unsigned from_mask, mlc_receipt_cb cb,
                         void *ud, mlc_error *err)
{
    for (int round = 0; round < 10000 && !stopping(r); round++) {
        mlc_store_receipt **rows = NULL;
        size_t n = 0, handled = 0;
        mlc_err rc = mlc_store_receipt_list(r->st, f, &rows, &n, err);
        if (rc)
            return rc;
        if (n == 0) {
            mlc_store_receipts_free(rows, n);
            break;
        }
        rc = post_batch(r, rows, n, from_mask, cb, ud, &handled, err);
        mlc_store_receipts_free(rows, n);
        if (rc) {
            /* a read failed: nothing more can be decided now */
            if (rc == MLC_ERR_TRANSIENT || rc == MLC_ERR_UNAVAILABLE)
                mlc_log_warn(r->log, "CloudSuite unavailable (%s): receipts stay queued", err ? err->msg : "");
            return rc;
        }
        if (handled == 0)
            break;
    }
    return MLC_OK;
}

mlc_err mlc_receipt_post_due(mlc_receipt *r, mlc_receipt_cb cb, void *ud, mlc_error *err)
{
    if (r->ims) {
        /* BOD route: first see which sent receipts M3 shows now */
        mlc_err rc = bod_settle(r, cb, ud, err);
        if (rc)
            return rc;
    }
    mlc_store_receipt_filter f = {.state_mask = 1u << MLC_RECEIPT_PENDING | 1u << MLC_RECEIPT_QUEUED,
                                  .due_only = 1,
                                  .limit = r->bulk_read};
    return post_loop(r, &f, 1u << MLC_RECEIPT_PENDING | 1u << MLC_RECEIPT_QUEUED, cb, ud, err);
}

/* Before a receipt is replayed (an exhausted one may have been refused only because
 * an earlier call of its own was applied after all): does M3 carry it? If so, and
 * not a dry run, it is recorded already_posted. */
static mlc_err carried_by_m3(mlc_receipt *r, mlc_store_receipt *row, int *carried, int dry_run, mlc_error *err)
{
    trace_set ts;
    int matches = 0;
    *carried = 0;
    mlc_err rc = read_trace(r, &row, 1, &ts, err);
    if (rc)
        return rc;
    if (in_m3(r, row, &ts, &matches) >= 1) { /* 2 (more than once): carried all the same */
        *carried = 1;
        if (!dry_run) {
            char sudo[SUDO_MAX + 1], dn[64];
            row_sudo(row, sudo);
            set_state(r, row, MLC_RECEIPT_ALREADY_POSTED, row->attempts, 0, NULL);
            audit(r, row->id, "already_posted", "{\"trace\":\"%s\",\"delivery_note\":%s,\"matches\":%d,"
                  "\"from\":\"%s\",\"on\":\"replay\"}", r->trace_table, jesc(sudo, dn, sizeof dn), matches,
                  mlc_receipt_state_name(row->state));
            r->stats.already_posted++;
        }
    }
    trace_free(&ts);
    return MLC_OK;
}

mlc_err mlc_receipt_replay(mlc_receipt *r, const int64_t *ids, size_t n, int force, const char *reason,
                           int dry_run, mlc_receipt_cb cb, void *ud, mlc_error *err)
{
    char esc[600];
    mlc_err rc_trace;
    for (size_t i = 0; i < n; i++) {
        mlc_store_receipt *row = NULL;
        mlc_error e;
        if (mlc_store_receipt_get(r->st, ids[i], &row, &e) != MLC_OK) {
            mlc_log_error(r->log, "%s", e.msg);
            continue;
        }
        const char *skip = NULL;
        switch (row->state) {
        case MLC_RECEIPT_POSTED: skip = "posted"; break;
        case MLC_RECEIPT_ALREADY_POSTED: skip = "already posted (found in M3)"; break;
        case MLC_RECEIPT_VOIDED: skip = "voided"; break;
        case MLC_RECEIPT_IN_FLIGHT: skip = "in flight"; break;
        case MLC_RECEIPT_IN_DOUBT: skip = "in doubt (settled by post-receipts once its call cannot be executing)"; break;
        case MLC_RECEIPT_SENT: skip = "sent to ION, waiting for M3 (needs_review after bod.visible_within)"; break;
        case MLC_RECEIPT_NEEDS_REVIEW:
            if (!force)
                skip = "needs_review (check CloudSuite, then replay with --force --reason)";
            break;
        default: break;
        }
        int carried = 0;
        if (!skip && (rc_trace = carried_by_m3(r, row, &carried, dry_run, err)) != MLC_OK) {
            mlc_store_receipt_free(row);
            return rc_trace; /* M3 cannot be read now: nothing offered blindly */
        }
        if (skip) {
            mlc_log_info(r->log, "receipt %lld: %s: nothing to replay", (long long)row->id, skip);
            cb(ud, row, mlc_receipt_state_name(row->state));
        } else if (carried) {
            mlc_log_info(r->log, "receipt %lld: M3 already carries it (its delivery note on PO %s line %d): not replayed",
                         (long long)row->id, row->po, row->line);
            if (!dry_run)
                report(r, cb, ud, row->id, "already_posted");
            else
                cb(ud, row, "already_posted");
        } else if (dry_run) {
            cb(ud, row, "would_replay");
        } else {
            /* Due now, attempts start again: the operator fixed the cause. */
            mlc_store_receipt_update(r->st, row->id, MLC_RECEIPT_QUEUED, 0, 0, row->last_error, -1, 0, &e);
            audit(r, row->id, force && row->state == MLC_RECEIPT_NEEDS_REVIEW ? "replay_forced" : "replay",
                  "{\"from\":\"%s\",\"reason\":%s}", mlc_receipt_state_name(row->state),
                  jesc(reason ? reason : "", esc, sizeof esc));
        }
        mlc_store_receipt_free(row);
    }
    if (dry_run)
        return MLC_OK;
    /* Post exactly the replayed rows (queued and due now), through the same path. */
    mlc_err worst = MLC_OK;
    for (size_t i = 0; i < n && !stopping(r); i++) {
        mlc_store_receipt *row = NULL;
        mlc_error e;
        if (mlc_store_receipt_get(r->st, ids[i], &row, &e) != MLC_OK)
            continue;
        int due = row->state == MLC_RECEIPT_QUEUED && row->next_attempt_at == 0;
        mlc_store_receipt_free(row);
        if (!due)
            continue;
        mlc_store_receipt **one = calloc(1, sizeof *one);
        size_t handled;
        if (!one || mlc_store_receipt_get(r->st, ids[i], &one[0], &e) != MLC_OK) {
            free(one);
            continue;
        }
        mlc_err rc = post_batch(r, one, 1, 1u << MLC_RECEIPT_QUEUED, cb, ud, &handled, err);
        mlc_store_receipts_free(one, 1);
        if (rc && !worst)
            worst = rc;
    }
    return worst;
}

/* ================================================================== BOD transport
 * receipts.transport: bod (issue 20; research: ion-bod.md). The post step sends
 * each claimed row as a BOD (lib/bod) through the ION Messaging Service
 * (lib/ims) instead of calling M3. Everything else (accept, reads, claims, the
 * ledger, audit, replay) is shared with the REST route.
 *
 *  - ids: one messageId and documentId per receipt, derived from the company,
 *    the profile and the idempotency key (so a different receipt never gets
 *    them), stored in the ledger (bod_message) on the first send and reused on
 *    every re-send.
 *  - write-ahead: before a send the message is marked in doubt with its time;
 *    a 2xx clears that and the row becomes `sent` (queued in ION, NOT posted).
 *  - settle (every post run): the same PO-line reads the REST route settles
 *    in-doubt calls with (settle_rows): first the receipt's own trace (its
 *    delivery note and quantity among the line's receipt transactions,
 *    read_trace/in_m3); only a row without one (no tracking number, or no
 *    trace readable) goes by its line's RVQA (PPS200MI/GetLine), and the audit
 *    says which rule decided (settled_by). Shown -> `posted`; not shown ->
 *    wait; after bod.visible_within -> `needs_review` with the messageId (look
 *    it up in ION OneView); RVQA moved by another amount -> `needs_review`;
 *    the trace showing it more often than the ledger sent it (a redelivered
 *    BOD that M3 applied again: in_m3 == 2) -> `needs_review`.
 *  - no answer to a send (timeout, reset, 500/502/504) or a crash during it:
 *    the row is `sent` and in doubt; it is never re-sent blindly: only when M3
 *    still does not show it after bod.resend_grace, with the same messageId.
 *  - refused before queueing (400 bad message: exhausted, permanent; 412/403
 *    configuration: queued, the run fails with exit 78; 429/503/unreachable:
 *    queued with backoff).
 *  - clean stop (SIGTERM/SIGINT): the send in flight finishes and is recorded;
 *    no new send, re-send or advance ship notice starts; rows claimed and not
 *    sent go back to their earlier state (bod_send_rows, as post_route).
 * While a row of a PO line is `sent`, no other row of that line is sent, so a
 * reading of RVQA always decides (as for in_flight rows on the REST route).
 * [INF] that a 503 from the gateway means "not queued" and a 500/502/504 "may
 * be queued": Infor documents neither.
 */

static mlc_err bod_setup(mlc_receipt *r, mlc_error *err)
{
    mlc_err rc = mlc_ims_for_profile(r->cfg, r->m3, r->log, &r->ims, err);
    if (rc)
        return rc;
    char *t = mlc_config_file(r->cfg, "bod.receipt_template");
    rc = mlc_bod_new(mlc_config_str(r->cfg, "bod.receipt_document"), t, &r->bod_receipt, err);
    free(t);
    if (!rc && mlc_config_bool(r->cfg, "bod.advance_ship_notice")) {
        t = mlc_config_file(r->cfg, "bod.asn_template");
        rc = mlc_bod_new(mlc_config_str(r->cfg, "bod.asn_document"), t, &r->bod_asn, err);
        free(t);
    }
    if (rc)
        return rc;
    r->visible_within = (long)mlc_config_int(r->cfg, "bod.visible_within");
    r->resend_grace = (long)mlc_config_int(r->cfg, "bod.resend_grace");
    const char *ti = mlc_config_str(r->cfg, "bod.tenant_id");
    snprintf(r->tenant, sizeof r->tenant, "%s", ti ? ti : mlc_ionapi_tenant(mlc_ims_ionapi(r->ims)));
    return MLC_OK;
}

/* messageId "mlc-<kind>-<32 hex>" and documentId "MLC-<24 hex>" of a receipt:
 * SHA-256 over company, division, profile, kind and the idempotency key. */
static void bod_ids(mlc_receipt *r, const mlc_store_receipt *row, const char *kind, char msg[80], char doc[48])
{
    char in[512], hex[65];
    unsigned char md[SHA256_DIGEST_LENGTH];
    snprintf(in, sizeof in, "%lld/%s/%s/%s/%s", mlc_m3_cono(r->m3), mlc_m3_divi(r->m3),
             mlc_config_profile(r->cfg), kind, row->idem_key);
    SHA256((const unsigned char *)in, strlen(in), md);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(msg, 80, "mlc-%s-%.32s", kind, hex);
    snprintf(doc, 48, "MLC-%s-%.24s", kind, hex);
}

/* bod.warehouses.<WHLO>.accounting_entity (default <CONO>_<DIVI>) and .location (default WHLO).
 * [INF] that M3's accounting entity is <CONO>_<DIVI> and its location the
 * warehouse: the research's skeleton calls both assumptions. */
static void bod_ae_loc(mlc_receipt *r, const char *whlo, char ae[32], char loc[32])
{
    char key[96];
    snprintf(key, sizeof key, "bod.warehouses.%s.accounting_entity", whlo);
    const char *v = mlc_config_str(r->cfg, key);
    if (v)
        snprintf(ae, 32, "%s", v);
    else
        snprintf(ae, 32, "%lld_%s", mlc_m3_cono(r->m3), mlc_m3_divi(r->m3));
    snprintf(key, sizeof key, "bod.warehouses.%s.location", whlo);
    v = mlc_config_str(r->cfg, key);
    snprintf(loc, 32, "%s", v ? v : whlo);
}

static mlc_err bod_build_row(mlc_receipt *r, const mlc_bod *b, const mlc_store_receipt *row, const line_state *ls,
                             const char *doc_id, char **xml, size_t *len, char ae[32], char loc[32], mlc_error *err)
{
    po_head *h = head_slot(r, row->po);
    if (!h || !h->known || !h->whlo[0])
        return mlc_error_set(err, MLC_ERR_INPUT, "PO %s: head not readable, no warehouse for the BOD", row->po);
    bod_ae_loc(r, h->whlo, ae, loc);
    mlc_bod_fields f = {
        .logical_id = mlc_config_str(r->cfg, "bod.logical_id"),
        .tenant_id = r->tenant,
        .accounting_entity = ae,
        .location = loc,
        .document_id = doc_id,
        .puno = row->po,
        .pnli = row->line,
        .pnls = row->subline,
        .item = ls && ls->itno[0] ? ls->itno : NULL,
        .qty = row->qty,
        .unit = ls && ls->puun[0] ? ls->puun : NULL,
        .warehouse = h->whlo,
        .supplier = h->suno[0] ? h->suno : NULL,
        .delivery_note = row->tracking,
        .carrier = row->carrier,
        .date = row->ship_date,
    };
    return mlc_bod_build(b, &f, xml, len, err);
}

/* Sends one row's receipt BOD (the row is claimed in_flight, or `sent` and due
 * for a re-send). Returns the status reported; *cfg_err set for a configuration
 * failure (the run must say so). */
static const char *bod_send_one(mlc_receipt *r, mlc_store_receipt *row, const line_state *ls, mlc_error *cfg_err)
{
    char msgid[80], docid[48], esc[600], ae[32], loc[32];
    mlc_store_bod *m = NULL;
    mlc_error e = {0};
    bod_ids(r, row, "rcv", msgid, docid);
    if (mlc_store_bod_get_or_create(r->st, row->id, msgid, docid, &m, &e) != MLC_OK)
        return retry_later(r, row, row->attempts, e.msg); /* nothing sent */
    char *xml = NULL;
    size_t len = 0;
    if (bod_build_row(r, r->bod_receipt, row, ls, m->document_id, &xml, &len, ae, loc, &e) != MLC_OK) {
        set_state(r, row, MLC_RECEIPT_EXHAUSTED, row->attempts, 0, e.msg);
        audit(r, row->id, "exhausted", "{\"permanent\":true,\"transport\":\"bod\",\"error\":%s}",
              jesc(e.msg, esc, sizeof esc));
        r->stats.exhausted++;
        mlc_store_bod_free(m);
        return "exhausted";
    }
    int attempts = row->attempts + 1;
    int64_t t = now_s();
    /* write-ahead: from here until an answer, the message may be in ION */
    if (mlc_store_bod_update(r->st, row->id, t, m->sends + 1, 1, &e) != MLC_OK) {
        free(xml);
        mlc_store_bod_free(m);
        return retry_later(r, row, row->attempts, e.msg);
    }
    audit(r, row->id, "attempt",
          "{\"attempt\":%d,\"transport\":\"bod\",\"document\":\"%s\",\"message_id\":\"%s\",\"document_id\":\"%s\","
          "\"send\":%d,\"po\":\"%s\",\"line\":%d,\"subline\":%d,\"qty\":%g,\"rvqa_before\":%g,\"bytes\":%zu}",
          attempts, mlc_bod_document_name(r->bod_receipt), m->message_id, m->document_id, m->sends + 1, row->po,
          row->line, row->subline, row->qty, row->rvqa_before, len);
    mlc_ims_message msg = {mlc_bod_document_name(r->bod_receipt), m->message_id, m->document_id, ae, loc, xml, len};
    long status = 0;
    mlc_err rc = mlc_ims_send(r->ims, &msg, &status, &e);
    free(xml);
    const char *out;
    if (rc == MLC_OK) {
        /* `sent` first, then the message out of doubt: a crash between the two
         * leaves it sent in doubt (settled by M3), never in flight with its message
         * out of doubt, which bod_recover takes for a send never begun */
        set_state(r, row, MLC_RECEIPT_SENT, attempts, 0, NULL);
        mlc_store_bod_update(r->st, row->id, t, m->sends + 1, 0, NULL);
        audit(r, row->id, "sent", "{\"message_id\":\"%s\",\"http_status\":%ld,\"queued_in_ion\":true}", m->message_id,
              status);
        r->stats.sent++;
        out = "sent";
    } else if (rc == MLC_ERR_TRANSIENT && status != 429 && status != 503) {
        /* no answer, or a gateway error after the request went out: it may be
         * queued in ION. Never re-sent blindly (see bod_settle). */
        set_state(r, row, MLC_RECEIPT_SENT, attempts, 0, e.msg);
        audit(r, row->id, "send_in_doubt", "{\"message_id\":\"%s\",\"http_status\":%ld,\"error\":%s}", m->message_id,
              status, jesc(e.msg, esc, sizeof esc));
        r->stats.sent++;
        out = "sent";
    } else {
        /* refused before queueing: nothing is in ION */
        mlc_store_bod_update(r->st, row->id, t, m->sends + 1, 0, NULL);
        if (rc == MLC_ERR_REMOTE || rc == MLC_ERR_INPUT) {
            set_state(r, row, MLC_RECEIPT_EXHAUSTED, attempts, 0, e.msg);
            audit(r, row->id, "exhausted", "{\"attempts\":%d,\"permanent\":true,\"message_id\":\"%s\",\"error\":%s}",
                  attempts, m->message_id, jesc(e.msg, esc, sizeof esc));
            r->stats.exhausted++;
            out = "exhausted";
        } else if (rc == MLC_ERR_CONFIG || rc == MLC_ERR_AUTH) {
            out = retry_later(r, row, row->attempts, e.msg); /* not the receipt's fault: not counted */
            if (cfg_err && !cfg_err->code)
                *cfg_err = e;
        } else {
            out = retry_later(r, row, attempts, e.msg);
        }
    }
    mlc_store_bod_free(m);
    return out;
}

static mlc_err bod_send_rows(mlc_receipt *r, mlc_store_receipt **rows, const line_state *const *ls, size_t n,
                             mlc_receipt_cb cb, void *ud, mlc_error *err)
{
    mlc_error cfg_err = {0};
    for (size_t i = 0; i < n; i++) {
        if (stopping(r)) {
            /* clean stop, as post_route: the send in flight (if any) has finished and
             * is recorded; the rows claimed but not sent go back to their earlier
             * state, never left in flight (that would make them `sent` in doubt) */
            for (size_t j = i; j < n; j++) {
                mlc_store_receipt *row = rows[j];
                mlc_error e;
                if (mlc_store_receipt_update(r->st, row->id, row->state, row->attempts, row->next_attempt_at,
                                             row->last_error, -1, 0, &e))
                    mlc_log_error(r->log, "receipt %lld: %s", (long long)row->id, e.msg);
                audit(r, row->id, "unclaimed", "{\"reason\":\"stop signal before the send\",\"transport\":\"bod\"}");
            }
            break;
        }
        report(r, cb, ud, rows[i]->id, bod_send_one(r, rows[i], ls[i], &cfg_err));
    }
    if (cfg_err.code) {
        if (err)
            *err = cfg_err;
        return cfg_err.code;
    }
    return MLC_OK;
}

static int bod_line_busy(mlc_receipt *r, const mlc_store_receipt *row)
{
    mlc_store_receipt_filter f = {.state_mask = 1u << MLC_RECEIPT_SENT, .po = row->po};
    mlc_store_receipt **rows = NULL;
    size_t n = 0;
    mlc_error e;
    int busy = 0;
    if (mlc_store_receipt_list(r->st, &f, &rows, &n, &e) != MLC_OK)
        return 1; /* cannot tell: wait */
    for (size_t i = 0; i < n; i++)
        busy |= rows[i]->id != row->id && rows[i]->line == row->line && rows[i]->subline == row->subline;
    mlc_store_receipts_free(rows, n);
    return busy;
}

static mlc_err bod_settle(mlc_receipt *r, mlc_receipt_cb cb, void *ud, mlc_error *err)
{
    mlc_store_receipt_filter f = {.state_mask = 1u << MLC_RECEIPT_SENT};
    mlc_store_receipt **rows = NULL;
    size_t n = 0;
    mlc_err rc = mlc_store_receipt_list(r->st, &f, &rows, &n, err);
    if (rc || n == 0) {
        mlc_store_receipts_free(rows, n);
        return rc;
    }
    line_state *ls = calloc(n, sizeof *ls);
    if (!ls) {
        mlc_store_receipts_free(rows, n);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    /* the REST route's settlement reads: the receipt's trace first, RVQA without
     * one. The lines are read for every row all the same: a re-send needs the
     * item and unit, and a failed reading of either leaves every row `sent`. */
    trace_set ts;
    rc = read_trace(r, rows, n, &ts, err);
    if (!rc)
        rc = load_heads(r, rows, n, err);
    if (!rc)
        rc = read_lines(r, rows, n, ls, err);
    mlc_error cfg_err = {0};
    for (size_t i = 0; !rc && i < n; i++) {
        mlc_store_receipt *row = rows[i];
        mlc_store_bod *m = NULL;
        mlc_error e;
        char esc[800], msg[500], by[700], sudo[SUDO_MAX + 1], dn[64];
        if (mlc_store_bod_get(r->st, row->id, &m, &e) != MLC_OK) {
            set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, "sent without a message record");
            r->stats.needs_review++;
            report(r, cb, ud, row->id, "needs_review");
            continue;
        }
        int64_t age = now_s() - m->sent_at;
        double delta = ls[i].rvqa - row->rvqa_before;
        int matches = 0, verdict = in_m3(r, row, &ts, &matches);
        row_sudo(row, sudo);
        /* shown: 1 yes, 0 no, -1 cannot tell (RVQA moved by another amount, or unread) */
        int shown;
        if (verdict == 2) {
            over_count_msg(row, sudo, matches, m->message_id, msg, sizeof msg);
            set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, msg);
            audit(r, row->id, "needs_review",
                  "{\"message_id\":\"%s\",\"settled_by\":\"delivery_note\",\"trace\":\"%s\",\"delivery_note\":%s,"
                  "\"matches\":%d,\"double_count\":true,\"sends\":%d,\"error\":%s}",
                  m->message_id, r->trace_table, jesc(sudo, dn, sizeof dn), matches, m->sends,
                  jesc(msg, esc, sizeof esc));
            r->stats.needs_review++;
            report(r, cb, ud, row->id, "needs_review");
            mlc_store_bod_free(m);
            continue;
        }
        if (verdict >= 0) {
            shown = verdict;
            snprintf(by, sizeof by,
                     "\"settled_by\":\"delivery_note\",\"trace\":\"%s\",\"delivery_note\":%s,\"matches\":%d",
                     r->trace_table, jesc(sudo, dn, sizeof dn), matches);
        } else {
            shown = !ls[i].ok ? 0 : qeq(delta, row->qty) ? 1 : qeq(delta, 0) ? 0 : -1;
            snprintf(by, sizeof by, "\"settled_by\":\"rvqa\",\"why\":%s,\"rvqa_before\":%g,\"rvqa_now\":%g",
                     jesc(*sudo ? ts.why : "the receipt has no delivery note (no tracking number)", esc, sizeof esc),
                     row->rvqa_before, ls[i].rvqa);
        }
        if (shown == 1) {
            set_state(r, row, MLC_RECEIPT_POSTED, row->attempts, 0, NULL);
            audit(r, row->id, "posted", "{\"transport\":\"bod\",\"message_id\":\"%s\",%s,\"sends\":%d}", m->message_id,
                  by, m->sends);
            r->stats.posted++;
            report(r, cb, ud, row->id, "posted");
        } else if (shown < 0) {
            snprintf(msg, sizeof msg,
                     "received quantity moved from %g to %g, neither 0 nor %g after BOD %s: cannot tell whether "
                     "this receipt was applied",
                     row->rvqa_before, ls[i].rvqa, row->qty, m->message_id);
            set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, msg);
            audit(r, row->id, "needs_review", "{\"message_id\":\"%s\",%s,\"error\":%s}", m->message_id, by,
                  jesc(msg, esc, sizeof esc));
            r->stats.needs_review++;
            report(r, cb, ud, row->id, "needs_review");
        } else if (m->in_doubt && age >= r->resend_grace && ls[i].ok && row->attempts < r->max_attempts &&
                   !stopping(r)) {
            /* M3 does not show it and the last send got no answer: same messageId again
             * (not after a stop signal: no new send starts, the next run re-sends) */
            audit(r, row->id, "resend", "{\"message_id\":\"%s\",\"after_s\":%lld,%s}", m->message_id, (long long)age,
                  by);
            report(r, cb, ud, row->id, bod_send_one(r, row, &ls[i], &cfg_err));
        } else if ((!m->in_doubt && age >= r->visible_within) || (m->in_doubt && row->attempts >= r->max_attempts)) {
            snprintf(msg, sizeof msg,
                     "sent to ION as messageId %s %lld s ago, but M3 does not show it%s: look the message up in ION "
                     "OneView; once fixed, `mlc replay --force` sends it again with the same messageId",
                     m->message_id, (long long)age, ls[i].ok ? "" : " (the PO line cannot be read)");
            set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, msg);
            audit(r, row->id, "needs_review", "{\"message_id\":\"%s\",%s,\"error\":%s}", m->message_id, by,
                  jesc(msg, esc, sizeof esc));
            r->stats.needs_review++;
            report(r, cb, ud, row->id, "needs_review");
        } else {
            report(r, cb, ud, row->id, "sent"); /* still waiting for M3 */
        }
        mlc_store_bod_free(m);
    }
    trace_free(&ts);
    free(ls);
    mlc_store_receipts_free(rows, n);
    if (!rc && cfg_err.code) {
        if (err)
            *err = cfg_err;
        rc = cfg_err.code;
    }
    return rc;
}

/* in_flight rows after a crash on the BOD route. A row whose message is not
 * marked in doubt was claimed, but the run died before the write-ahead of its
 * send (bod_send_one): nothing of this claim reached ION, so it is queued again
 * at once (as the REST route's claimed rows with no call recorded). Otherwise the
 * send may have happened: the row becomes `sent` in doubt from now (re-sent only
 * if M3 still does not show it after the grace). */
static mlc_err bod_recover(mlc_receipt *r, mlc_store_receipt **rows, size_t n, mlc_receipt_cb cb, void *ud,
                           mlc_error *err)
{
    for (size_t i = 0; i < n; i++) {
        mlc_store_receipt *row = rows[i];
        char msgid[80], docid[48];
        mlc_store_bod *m = NULL;
        if (row->state != MLC_RECEIPT_IN_FLIGHT)
            continue;
        bod_ids(r, row, "rcv", msgid, docid);
        mlc_err rc = mlc_store_bod_get_or_create(r->st, row->id, msgid, docid, &m, err);
        if (!rc && !m->in_doubt) {
            audit(r, row->id, "not_sent", "{\"after\":\"recovery after an interrupted run\",\"transport\":\"bod\"}");
            report(r, cb, ud, row->id, retry_later(r, row, row->attempts, "interrupted before the BOD was sent"));
            row->state = MLC_RECEIPT_SENT; /* decided: the REST recovery must not touch it */
            mlc_store_bod_free(m);
            continue;
        }
        if (!rc)
            rc = mlc_store_bod_update(r->st, row->id, now_s(), m->sends, 1, err);
        if (rc) {
            mlc_store_bod_free(m);
            return rc; /* stays in flight: the next run tries again */
        }
        if (!row->has_before) {
            set_state(r, row, MLC_RECEIPT_NEEDS_REVIEW, row->attempts, 0, "in flight without a reading");
            row->state = MLC_RECEIPT_SENT; /* decided: the REST settlement must not touch it */
            report(r, cb, ud, row->id, "needs_review");
        } else {
            set_state(r, row, MLC_RECEIPT_SENT, row->attempts, 0, "interrupted during a BOD send: in doubt");
            row->state = MLC_RECEIPT_SENT;
            audit(r, row->id, "send_in_doubt", "{\"message_id\":\"%s\",\"recovered\":true}", m->message_id);
            report(r, cb, ud, row->id, "sent");
        }
        mlc_store_bod_free(m);
    }
    return MLC_OK;
}

/* Advance ship notices at ship time (bod.advance_ship_notice): one
 * Sync.AdvanceShipNotice per new row, with its own stable ids. Informational, as
 * the REST route's dispatch advice: a failure is audited, never blocks the receipt. */
static void bod_advise(mlc_receipt *r, mlc_store_receipt *rows, size_t n)
{
    if (!r->bod_asn || n == 0 || stopping(r))
        return; /* informational: after a stop signal no new send starts for it */
    mlc_store_receipt **ptrs = calloc(n, sizeof *ptrs);
    line_state *ls = calloc(n, sizeof *ls);
    mlc_error e = {0};
    char esc[600];
    if (!ptrs || !ls)
        goto out;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &rows[i];
    if (load_heads(r, ptrs, n, &e) != MLC_OK || read_lines(r, ptrs, n, ls, &e) != MLC_OK) {
        for (size_t i = 0; i < n; i++)
            audit(r, rows[i].id, "asn_failed", "{\"error\":%s}", jesc(e.msg, esc, sizeof esc));
        mlc_log_warn(r->log, "advance ship notices not sent (%s): the receipts go on", e.msg);
        goto out;
    }
    for (size_t i = 0; i < n && !stopping(r); i++) {
        char msgid[80], docid[48], ae[32], loc[32], *xml = NULL;
        size_t len = 0;
        long status = 0;
        bod_ids(r, &rows[i], "asn", msgid, docid);
        mlc_err rc = bod_build_row(r, r->bod_asn, &rows[i], &ls[i], docid, &xml, &len, ae, loc, &e);
        if (!rc) {
            mlc_ims_message msg = {mlc_bod_document_name(r->bod_asn), msgid, docid, ae, loc, xml, len};
            rc = mlc_ims_send(r->ims, &msg, &status, &e);
        }
        free(xml);
        if (!rc)
            audit(r, rows[i].id, "asn_sent", "{\"message_id\":\"%s\",\"qty\":%g}", msgid, rows[i].qty);
        else
            audit(r, rows[i].id, "asn_failed", "{\"message_id\":\"%s\",\"error\":%s}", msgid,
                  jesc(e.msg, esc, sizeof esc));
    }
out:
    free(ptrs);
    free(ls);
}
