/*
 * replay.c: `mlc replay`: the operator re-posts receipts that did not post
 * (exhausted; needs_review only with --force and a --reason), by id, by filter
 * or from receipt records on standard input, through the same exactly-once path
 * as post-receipts (lib/receipt's mlc_receipt_replay), and prints receipt
 * records with their new status (see man/mlc-replay.1).
 * Not here: the protocol itself (lib/receipt), M3 calls, SQL.
 */
#include "builtin.h"
#include "cmd.h"
#include "jsonl.h"
#include "m3.h"
#include "receipt.h"
#include "receipt_out.h"
#include "record.h"
#include "store.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: mlc replay [--dry-run] [--force --reason TEXT] RECEIPT_ID...\n"
    "       mlc replay [--dry-run] [--force --reason TEXT] --exhausted | --needs-review [--po PUNO]\n"
    "       mlc queue --state exhausted | mlc replay [--dry-run]\n"
    "\n"
    "Re-posts receipts to CloudSuite through the same exactly-once path as post-receipts,\n"
    "and writes receipt records with their new status. Exhausted (and queued or pending)\n"
    "receipts are replayed at once; needs_review ones only with --force after you checked\n"
    "the PO line in CloudSuite; posted, already_posted, in_doubt and voided ones are left\n"
    "alone (and said so). Before a receipt is offered or posted again, the PO line's receipt\n"
    "transactions in M3 are read: one M3 already carries (its delivery note on the line) is\n"
    "recorded already_posted instead.\n"
    "Without ids or filters, receipt ids or receipt records are read from standard input.\n"
    "\n"
    "      --exhausted     every exhausted receipt\n"
    "      --needs-review  every receipt waiting for review (needs --force to post them)\n"
    "  -p, --po PUNO       with --exhausted/--needs-review: only receipts of this PO\n"
    "  -f, --force         replay needs_review receipts too (requires --reason)\n"
    "  -r, --reason TEXT   why, recorded in the audit trail (required with --force)\n"
    "  -n, --dry-run       show what would be replayed; change nothing\n"
    "  -h, --help          this help\n";

#define CMD_NAME "replay"

typedef struct replay_run {
    mlc_log *log;
    long long cono; /* the profile's company (cloudsuite.cono) */
    mlc_store *st;     /* for the BOD fields of a record; NULL until opened */
    mlc_jsonl_writer *w;
    int out_closed;
    long failed, transient, rejected;
    int64_t *ids;
    size_t n, cap;
    long done; /* receipts reported back, for the progress line */
} replay_run;

static void emit(replay_run *p, cJSON *rec)
{
    mlc_error e;
    if (rec && !p->out_closed) {
        mlc_err rc = mlc_jsonl_write(p->w, rec, &e);
        if (rc) {
            p->out_closed = 1;
            if (rc != MLC_ERR_PIPE)
                mlc_log_error(p->log, "%s", e.msg);
        }
    }
    cJSON_Delete(rec);
}

static void on_receipt(void *ud, const mlc_store_receipt *row, const char *status)
{
    replay_run *p = ud;
    if (!strcmp(status, "exhausted") || !strcmp(status, "needs_review"))
        p->failed++;
    else if (!strcmp(status, "queued") || !strcmp(status, "pending") || !strcmp(status, "in_flight") ||
             !strcmp(status, "in_doubt"))
        p->transient++;
    cJSON *rec = receipt_record(row, status);
    receipt_record_add_bod(rec, p->st, row->id);
    emit(p, rec);
    mlc_log_progress(p->log, "receipts", ++p->done, (long)p->n);
}

/* Adds an id once (order kept); -1 on out of memory. */
static int add_id(replay_run *p, int64_t id)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->ids[i] == id)
            return 0;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 32;
        int64_t *n = realloc(p->ids, nc * sizeof *n);
        if (!n)
            return -1;
        p->ids = n;
        p->cap = nc;
    }
    p->ids[p->n++] = id;
    return 0;
}

/* A bare receipt id line ("42", spaces allowed): the id, else 0. */
static long long bare_id(const char *line)
{
    char buf[32];
    size_t k = 0;
    for (const char *s = line; s && *s; s++) {
        if (isspace((unsigned char)*s))
            continue;
        if (!isdigit((unsigned char)*s) || k + 1 >= sizeof buf)
            return 0;
        buf[k++] = *s;
    }
    buf[k] = 0;
    long long v = k ? cmd_parse_count(buf) : 0;
    return v > 0 ? v : 0;
}

/* A receipt record names its ledger row by receipt_id; its po, line and
 * subline, where given, must be that row's. 1 (err set) if they are not. */
static int row_disagrees(mlc_store *st, const cJSON *rec, mlc_error *err)
{
    mlc_store_receipt *row = NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "receipt_id");
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(rec, "po");
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(rec, "line");
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(rec, "subline");
    int bad = 0;
    if (mlc_store_receipt_get(st, (int64_t)id->valuedouble, &row, err) != MLC_OK)
        return 0; /* an unknown id is reported by the replay itself */
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

/* Reads receipt ids or receipt records from stdin; other kinds pass through. */
static mlc_err read_stdin(replay_run *p, mlc_store *st, mlc_error *err)
{
    mlc_jsonl_reader *rd = mlc_jsonl_reader_new(stdin, "stdin", 0);
    if (!rd)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    mlc_err rc = MLC_OK;
    for (;;) {
        cJSON *rec = NULL;
        mlc_error e;
        mlc_err rr = mlc_jsonl_read(rd, &rec, &e);
        if (rr == MLC_ERR_EOF)
            break;
        unsigned long lineno = mlc_jsonl_reader_lineno(rd);
        if (rr == MLC_ERR_INPUT) {
            long long id = bare_id(mlc_jsonl_reader_line(rd));
            if (id > 0) {
                if (add_id(p, id)) {
                    rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                    break;
                }
                continue;
            }
            p->rejected++;
            mlc_log_error(p->log, "%s (expected a receipt id or a receipt record)", e.msg);
            mlc_store_reject_n(st, CMD_NAME, "stdin", lineno, e.msg, mlc_jsonl_reader_line(rd),
                               mlc_jsonl_reader_line_len(rd), &e);
            continue;
        }
        if (rr) {
            *err = e;
            rc = rr;
            break;
        }
        const char *kind = mlc_jsonl_kind(rec);
        if (kind && !strcmp(kind, "receipt")) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "receipt_id");
            char msg[MLC_ERROR_MSG_MAX + 32];
            mlc_error ce;
            if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9007199254740992.0 ||
                id->valuedouble != (double)(int64_t)id->valuedouble) {
                snprintf(msg, sizeof msg, "stdin:%lu: receipt record without a valid 'receipt_id'", lineno);
                p->rejected++;
                mlc_log_error(p->log, "%s", msg);
                mlc_store_reject_n(st, CMD_NAME, "stdin", lineno, msg, mlc_jsonl_reader_line(rd),
                                   mlc_jsonl_reader_line_len(rd), &e);
            } else if (mlc_record_check(rec, p->cono, &ce) || row_disagrees(st, rec, &ce)) {
                snprintf(msg, sizeof msg, "stdin:%lu: %s", lineno, ce.msg);
                p->rejected++;
                mlc_log_error(p->log, "%s", msg);
                mlc_store_reject_n(st, CMD_NAME, "stdin", lineno, msg, mlc_jsonl_reader_line(rd),
                                   mlc_jsonl_reader_line_len(rd), &e);
            } else if (add_id(p, (int64_t)id->valuedouble)) {
                cJSON_Delete(rec);
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                break;
            }
            cJSON_Delete(rec);
        } else {
            emit(p, rec); /* records of other kinds pass through */
        }
    }
    mlc_jsonl_reader_free(rd);
    return rc;
}

/* Checks every id before anything is done: unknown ids and rows that will not be
 * replayed are said so on stderr (the engine reports them as records). Drops
 * unknown ids from the list. */
static mlc_err precheck(replay_run *p, mlc_store *st, int force, mlc_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        mlc_store_receipt *row;
        mlc_error e;
        mlc_err rc = mlc_store_receipt_get(st, p->ids[i], &row, &e);
        if (rc == MLC_ERR_NOTFOUND) {
            p->failed++;
            mlc_log_error(p->log, "receipt %lld: no such receipt (see `mlc queue`)", (long long)p->ids[i]);
            continue;
        }
        if (rc) {
            *err = e;
            return rc;
        }
        long long id = (long long)row->id;
        switch (row->state) {
        case MLC_RECEIPT_POSTED:
        case MLC_RECEIPT_ALREADY_POSTED:
            mlc_log_warn(p->log, "receipt %lld: already posted, nothing to replay", id);
            break;
        case MLC_RECEIPT_IN_DOUBT:
            mlc_log_warn(p->log,
                         "receipt %lld: in doubt (its call may still be executing in M3); `mlc post-receipts` "
                         "settles it by its trace in M3 once it cannot be",
                         id);
            break;
        case MLC_RECEIPT_VOIDED:
            mlc_log_warn(p->log, "receipt %lld: voided (its shipment was voided before posting), nothing to replay",
                         id);
            break;
        case MLC_RECEIPT_IN_FLIGHT:
            mlc_log_warn(p->log,
                         "receipt %lld: in flight from an interrupted run; `mlc post-receipts` reconciles it "
                         "against CloudSuite first",
                         id);
            break;
        case MLC_RECEIPT_NEEDS_REVIEW:
            if (!force)
                mlc_log_error(p->log,
                              "receipt %lld: needs review (%s): check PO %s line %d in CloudSuite, then "
                              "`mlc replay --force --reason TEXT %lld`",
                              id, row->last_error ? row->last_error : "no error recorded", row->po, row->line, id);
            break;
        default: break;
        }
        mlc_store_receipt_free(row);
        p->ids[k++] = p->ids[i];
    }
    p->n = k;
    return MLC_OK;
}

int cmd_replay(int argc, char **argv, mlc_ctx *ctx)
{
    enum { OPT_EXHAUSTED = 256, OPT_REVIEW };
    static const struct option longopts[] = {{"exhausted", no_argument, 0, OPT_EXHAUSTED},
                                             {"needs-review", no_argument, 0, OPT_REVIEW},
                                             {"po", required_argument, 0, 'p'},
                                             {"force", no_argument, 0, 'f'},
                                             {"reason", required_argument, 0, 'r'},
                                             {"dry-run", no_argument, 0, 'n'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    replay_run p = {.log = mlc_ctx_log(ctx)};
    unsigned mask = 0;
    const char *po = NULL, *reason = NULL;
    int c, force = 0, dry_run = 0, rc = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "p:fr:nh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_EXHAUSTED: mask |= 1u << MLC_RECEIPT_EXHAUSTED; break;
        case OPT_REVIEW: mask |= 1u << MLC_RECEIPT_NEEDS_REVIEW; break;
        case 'p': po = optarg; break;
        case 'f': force = 1; break;
        case 'r': reason = optarg; break;
        case 'n': dry_run = 1; break;
        case 'h': return cmd_help(usage);
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    if (force && (!reason || !*reason))
        return cmd_usage_error(usage, "--force needs --reason TEXT (what you checked in CloudSuite)");
    if (po && !mask)
        return cmd_usage_error(usage, "--po narrows --exhausted or --needs-review");
    if (mask && optind < argc)
        return cmd_usage_error(usage, "receipt ids or --exhausted/--needs-review, not both");
    for (int i = optind; i < argc; i++) {
        long long id = cmd_parse_count(argv[i]);
        if (id <= 0)
            return cmd_usage_error(usage, "'%s' is not a receipt id (a positive number, as in `mlc queue`)", argv[i]);
        if (add_id(&p, id)) {
            free(p.ids);
            return MLC_EXIT_OSERR;
        }
    }
    int from_stdin = !mask && optind >= argc;
    if (from_stdin && isatty(STDIN_FILENO)) {
        free(p.ids);
        return cmd_usage_error(usage, "what to replay? give receipt ids, --exhausted or --needs-review, "
                                      "or pipe receipt records (mlc queue --state exhausted | mlc replay)");
    }

    const mlc_config *cfg;
    mlc_store *st;
    mlc_m3 *m3 = NULL;
    mlc_receipt *eng = NULL;
    mlc_error e;
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &st, &e)) {
        free(p.ids);
        return cmd_fail(ctx, &e);
    }
    p.st = st;
    if (!(p.w = mlc_jsonl_writer_new(stdout))) {
        rc = MLC_EXIT_OSERR;
        goto out;
    }
    p.cono = mlc_config_int(cfg, "cloudsuite.cono");
    if (from_stdin) {
        mlc_err rr = read_stdin(&p, st, &e);
        if (rr) {
            rc = cmd_fail(ctx, &e);
            goto out;
        }
    } else if (mask) {
        mlc_store_receipt_filter f = {.state_mask = mask, .po = po};
        mlc_store_receipt **rows;
        size_t n;
        if (mlc_store_receipt_list(st, &f, &rows, &n, &e)) {
            rc = cmd_fail(ctx, &e);
            goto out;
        }
        for (size_t i = 0; i < n && !rc; i++)
            if (add_id(&p, rows[i]->id))
                rc = MLC_EXIT_OSERR;
        mlc_store_receipts_free(rows, n);
        if (rc)
            goto out;
    }
    if (precheck(&p, st, force, &e)) {
        rc = cmd_fail(ctx, &e);
        goto out;
    }
    if (p.n == 0) {
        mlc_log_info(p.log, "nothing to replay");
    } else {
        /* The poster lock: a replay never runs beside a post-receipts of the same
         * profile (a dry run changes nothing and needs none). */
        char lock[PATH_MAX], *dir = mlc_config_state_dir(cfg);
        snprintf(lock, sizeof lock, "%s/%s.post.lock", dir ? dir : ".", mlc_config_profile(cfg));
        free(dir);
        if (mlc_m3_new(ctx, NULL, &m3, &e) ||
            mlc_receipt_new(m3, st, cfg, p.log, dry_run ? NULL : lock, &eng, &e)) {
            rc = cmd_fail(ctx, &e);
            goto out;
        }
        mlc_receipt_stop_on(eng, ctx);
        mlc_err er = mlc_receipt_replay(eng, p.ids, p.n, force, reason, dry_run, on_receipt, &p, &e);
        if (er == MLC_ERR_TRANSIENT || er == MLC_ERR_UNAVAILABLE) {
            mlc_log_warn(p.log, "%s", e.msg);
            p.transient++;
        } else if (er) {
            rc = cmd_fail(ctx, &e);
        }
        mlc_log_progress_done(p.log);
        const mlc_receipt_stats *s = mlc_receipt_stats_get(eng);
        if (!dry_run)
            mlc_log_info(p.log,
                         "%zu asked, %ld posted, %ld already posted, %ld queued, %ld in doubt, %ld exhausted, "
                         "%ld needs review, %ld M3 calls",
                         p.n, s->posted, s->already_posted, s->queued, s->in_doubt, s->exhausted, s->needs_review,
                         s->m3_calls);
    }
    mlc_jsonl_writer_flush(p.w, &e);
    if (!rc)
        rc = (p.failed || p.rejected) ? MLC_EXIT_FAILED : p.transient ? MLC_EXIT_TEMPFAIL : 0;
out:
    mlc_jsonl_writer_free(p.w);
    mlc_receipt_free(eng);
    mlc_m3_free(m3);
    free(p.ids);
    return rc;
}
