/*
 * replay.c: the set of receipts `mlc replay` re-posts (see replay.h).
 * Not here: re-posting (lib/receipt), option parsing and records (cmd/replay.c).
 */
#include "replay.h"

#include "record.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mlc_replay_set {
    int64_t *ids;
    size_t n, cap;
};

mlc_replay_set *mlc_replay_set_new(void) { return calloc(1, sizeof(mlc_replay_set)); }

void mlc_replay_set_free(mlc_replay_set *s)
{
    if (s) {
        free(s->ids);
        free(s);
    }
}

const int64_t *mlc_replay_set_ids(const mlc_replay_set *s) { return s->ids; }

size_t mlc_replay_set_count(const mlc_replay_set *s) { return s->n; }

mlc_err mlc_replay_set_add(mlc_replay_set *s, int64_t id, mlc_error *err)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->ids[i] == id)
            return MLC_OK;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 32;
        int64_t *n = realloc(s->ids, nc * sizeof *n);
        if (!n)
            return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        s->ids = n;
        s->cap = nc;
    }
    s->ids[s->n++] = id;
    return MLC_OK;
}

mlc_err mlc_replay_set_add_state(mlc_replay_set *s, mlc_store *st, unsigned state_mask, const char *po, mlc_error *err)
{
    mlc_store_receipt_filter f = {.state_mask = state_mask, .po = po};
    mlc_store_receipt **rows = NULL;
    size_t n = 0;
    mlc_err rc = mlc_store_receipt_list(st, &f, &rows, &n, err);
    for (size_t i = 0; i < n && !rc; i++)
        rc = mlc_replay_set_add(s, rows[i]->id, err);
    if (rows)
        mlc_store_receipts_free(rows, n);
    return rc;
}

long long mlc_replay_bare_id(const char *line)
{
    char buf[32], *end;
    size_t k = 0;
    for (const char *p = line; p && *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        if (!isdigit((unsigned char)*p) || k + 1 >= sizeof buf)
            return 0;
        buf[k++] = *p;
    }
    buf[k] = 0;
    if (!k)
        return 0;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    return errno || *end || v <= 0 ? 0 : v;
}

/* A receipt record names its ledger row by receipt_id; its po, line and
 * subline, where given, must be that row's. 1 (err set) if they are not. */
static int row_disagrees(mlc_store *st, const cJSON *rec, int64_t id, mlc_error *err)
{
    mlc_store_receipt *row = NULL;
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(rec, "po");
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(rec, "line");
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(rec, "subline");
    int bad = 0;
    if (mlc_store_receipt_get(st, id, &row, err) != MLC_OK)
        return 0; /* an unknown id is reported by the check */
    if (cJSON_IsString(po) && row->po && strcmp(po->valuestring, row->po) != 0)
        bad = 1;
    else if ((cJSON_IsNumber(line) && line->valuedouble != row->line) ||
             (cJSON_IsNumber(sub) && sub->valuedouble != row->subline))
        bad = 1;
    if (bad)
        mlc_error_set(err, MLC_ERR_INPUT, "receipt %lld is PO line %s/%d/%d, not the record's po/line",
                      (long long)row->id, row->po ? row->po : "?", row->line, row->subline);
    mlc_store_receipt_free(row);
    return bad;
}

mlc_err mlc_replay_set_add_record(mlc_replay_set *s, mlc_store *st, const cJSON *rec, long long cono, mlc_error *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "receipt_id");
    if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9007199254740992.0 ||
        id->valuedouble != (double)(int64_t)id->valuedouble)
        return mlc_error_set(err, MLC_ERR_INPUT, "receipt record without a valid 'receipt_id'");
    if (mlc_record_check(rec, cono, err) || row_disagrees(st, rec, (int64_t)id->valuedouble, err)) {
        err->code = MLC_ERR_INPUT;
        return MLC_ERR_INPUT;
    }
    return mlc_replay_set_add(s, (int64_t)id->valuedouble, err);
}

mlc_err mlc_replay_set_check(mlc_replay_set *s, mlc_store *st, int force, mlc_log *log, long *unknown, mlc_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        mlc_store_receipt *row;
        mlc_err rc = mlc_store_receipt_get(st, s->ids[i], &row, err);
        if (rc == MLC_ERR_NOTFOUND) {
            (*unknown)++;
            mlc_log_error(log, "receipt %lld: no such receipt (see `mlc queue`)", (long long)s->ids[i]);
            continue;
        }
        if (rc)
            return rc;
        long long id = (long long)row->id;
        switch (row->state) {
        case MLC_RECEIPT_POSTED:
        case MLC_RECEIPT_ALREADY_POSTED:
            mlc_log_warn(log, "receipt %lld: already posted, nothing to replay", id);
            break;
        case MLC_RECEIPT_IN_DOUBT:
            mlc_log_warn(log,
                         "receipt %lld: in doubt (its call may still be executing in M3); `mlc post-receipts` "
                         "settles it by its trace in M3 once it cannot be",
                         id);
            break;
        case MLC_RECEIPT_SENT:
            mlc_log_warn(log,
                         "receipt %lld: sent to ION, waiting for M3: not replayed; `mlc post-receipts` settles it "
                         "(posted once M3 shows it, needs_review after bod.visible_within)",
                         id);
            break;
        case MLC_RECEIPT_VOIDED:
            mlc_log_warn(log, "receipt %lld: voided (its shipment was voided before posting), nothing to replay", id);
            break;
        case MLC_RECEIPT_IN_FLIGHT:
            mlc_log_warn(log,
                         "receipt %lld: in flight from an interrupted run; `mlc post-receipts` reconciles it "
                         "against CloudSuite first",
                         id);
            break;
        case MLC_RECEIPT_NEEDS_REVIEW:
            if (!force)
                mlc_log_error(log,
                              "receipt %lld: needs review (%s): check PO %s line %d in CloudSuite, then "
                              "`mlc replay --force --reason TEXT %lld`",
                              id, row->last_error ? row->last_error : "no error recorded", row->po, row->line, id);
            break;
        default:
            break;
        }
        mlc_store_receipt_free(row);
        s->ids[k++] = s->ids[i];
    }
    s->n = k;
    return MLC_OK;
}
