/*
 * post_receipts.c: `mlc post-receipts`: reads shipment records and posts goods
 * receipts to CloudSuite, exactly once, with a retry queue and an audit trail
 * (see man/mlc-post-receipts.1). The protocol is lib/receipt's.
 * Not here: M3 or SQL details.
 */
#include "builtin.h"
#include "cmd.h"
#include "jsonl.h"
#include "m3.h"
#include "receipt.h"
#include "receipt_out.h"
#include "record.h"
#include "store.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: mlc post-receipts [FILE]\n"
    "\n"
    "Reads shipment records (JSON lines, from FILE or standard input) and posts one goods\n"
    "receipt per shipped PO line to CloudSuite, exactly once. Writes receipt records:\n"
    "status posted, already_posted, duplicate, queued, in_doubt, exhausted, needs_review or\n"
    "voided. Records of other kinds pass through. Before anything new, receipts whose\n"
    "outcome was in doubt (an interrupted run, a timeout) are settled by their trace in M3\n"
    "once their call cannot still be executing, and queued receipts whose time has come\n"
    "are retried. A receipt M3 already carries (same delivery note on the line) is\n"
    "recorded already_posted, never posted again.\n"
    "\n"
    "  -h, --help   this help\n";

#define CMD_NAME "post-receipts"

typedef struct post_run {
    mlc_ctx *ctx;
    mlc_log *log;
    mlc_jsonl_writer *w;
    int out_closed;
    long rejected, bad, transient;
} post_run;

static void emit(post_run *p, cJSON *rec)
{
    mlc_error e;
    if (!p->out_closed) {
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
    post_run *p = ud;
    if (!strcmp(status, "exhausted") || !strcmp(status, "needs_review"))
        p->bad++;
    if (!strcmp(status, "queued") || !strcmp(status, "in_doubt"))
        p->transient++;
    cJSON *rec = receipt_record(row, status);
    mlc_store *st = NULL;
    mlc_error e;
    if (mlc_ctx_store(p->ctx, &st, &e) == MLC_OK)
        receipt_record_add_bod(rec, st, row->id);
    emit(p, rec);
}

/* 1 if the ledger still holds receipts to post (pending or queued). */
static int left_for_later(mlc_store *st)
{
    mlc_store_receipt_filter f = {.state_mask = 1u << MLC_RECEIPT_PENDING | 1u << MLC_RECEIPT_QUEUED, .limit = 1};
    mlc_store_receipt **rows = NULL;
    size_t n = 0;
    mlc_error e;
    if (mlc_store_receipt_list(st, &f, &rows, &n, &e) != MLC_OK)
        return 0;
    mlc_store_receipts_free(rows, n);
    return n > 0;
}

int cmd_post_receipts(int argc, char **argv, mlc_ctx *ctx)
{
    static const struct option longopts[] = {{"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    post_run p = {.ctx = ctx, .log = mlc_ctx_log(ctx)};
    int c, rc = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h')
            return cmd_help(usage);
        else
            return cmd_usage_error(usage, "unknown option");
    }
    if (optind + 1 < argc)
        return cmd_usage_error(usage, "at most one input file");
    const char *file = optind < argc ? argv[optind] : NULL;

    const mlc_config *cfg;
    mlc_store *st;
    mlc_m3 *m3 = NULL;
    mlc_receipt *eng = NULL;
    mlc_error e;
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    FILE *in = file ? fopen(file, "rb") : stdin;
    if (!in) {
        mlc_error_set(&e, MLC_ERR_IO, "%s: cannot open", file);
        return cmd_fail(ctx, &e);
    }
    char lock[PATH_MAX], *dir = mlc_config_state_dir(cfg);
    snprintf(lock, sizeof lock, "%s/%s.post.lock", dir ? dir : ".", mlc_config_profile(cfg));
    free(dir);
    if (mlc_m3_new(ctx, NULL, &m3, &e) || mlc_receipt_new(m3, st, cfg, p.log, lock, &eng, &e)) {
        rc = cmd_fail(ctx, &e);
        goto out;
    }
    mlc_receipt_stop_on(eng, ctx);
    p.w = mlc_jsonl_writer_new(stdout);
    mlc_jsonl_reader *rd = mlc_jsonl_reader_new(in, file ? file : "stdin", 0);
    if (!p.w || !rd) {
        mlc_jsonl_reader_free(rd);
        rc = MLC_EXIT_OSERR;
        goto out;
    }
    /* 1. whatever an interrupted run left in flight */
    mlc_err er = mlc_receipt_recover(eng, on_receipt, &p, &e);
    if (er)
        mlc_log_warn(p.log, "recovery postponed: %s", e.msg);
    /* 2. record the input as pending (duplicates reported) */
    for (;;) {
        cJSON *rec = NULL;
        mlc_err rr = mlc_jsonl_read(rd, &rec, &e);
        if (rr == MLC_ERR_EOF)
            break;
        if (rr == MLC_ERR_INPUT) {
            p.rejected++;
            mlc_log_error(p.log, "%s", e.msg);
            mlc_store_reject_n(st, CMD_NAME, file ? file : "stdin", mlc_jsonl_reader_lineno(rd), e.msg,
                               mlc_jsonl_reader_line(rd), mlc_jsonl_reader_line_len(rd), &e);
            continue;
        }
        if (rr) {
            mlc_log_error(p.log, "%s", e.msg);
            rc = mlc_err_exit_code(rr);
            break;
        }
        const char *kind = mlc_jsonl_kind(rec);
        if (kind && !strcmp(kind, "shipment")) {
            mlc_error ae;
            /* one company per profile, keys that agree, M3-sized quantities */
            mlc_err ar = mlc_record_check(rec, mlc_config_int(cfg, "cloudsuite.cono"), &ae);
            if (!ar)
                ar = mlc_receipt_accept(eng, rec, on_receipt, &p, &ae);
            if (ar == MLC_ERR_INPUT) {
                p.rejected++;
                mlc_log_error(p.log, "%s:%lu: %s", file ? file : "stdin", mlc_jsonl_reader_lineno(rd), ae.msg);
                mlc_store_reject_n(st, CMD_NAME, file ? file : "stdin", mlc_jsonl_reader_lineno(rd), ae.msg,
                                   mlc_jsonl_reader_line(rd), mlc_jsonl_reader_line_len(rd), &e);
            } else if (ar) {
                mlc_log_error(p.log, "%s", ae.msg);
                rc = mlc_err_exit_code(ar);
                cJSON_Delete(rec);
                break;
            }
            cJSON_Delete(rec);
        } else {
            emit(&p, rec);
        }
    }
    mlc_jsonl_reader_free(rd);
    /* 3. post what is due: the new rows and queued retries whose time has come.
     * After SIGTERM/SIGINT the input is still read to its end and recorded
     * (ledger only, no call), so nothing read is lost; nothing new is posted. */
    if (mlc_ctx_stopping(ctx))
        mlc_log_warn(p.log, "stopped: receipts not posted stay pending for the next run");
    else if (!rc) {
        er = mlc_receipt_post_due(eng, on_receipt, &p, &e);
        if (er && er != MLC_ERR_TRANSIENT && er != MLC_ERR_UNAVAILABLE) {
            rc = cmd_fail(ctx, &e);
        } else if (er) {
            p.transient++;
        }
    }
    const mlc_receipt_stats *s = mlc_receipt_stats_get(eng);
    mlc_log_info(p.log,
                 "%ld accepted, %ld duplicate, %ld sent as BOD, %ld posted, %ld already posted, %ld queued, "
                 "%ld in doubt, %ld exhausted, %ld needs review, %ld voided, %ld rejected lines, %ld M3 calls",
                 s->accepted, s->duplicates, s->sent, s->posted, s->already_posted, s->queued, s->in_doubt,
                 s->exhausted, s->needs_review, s->voided, p.rejected, s->m3_calls);
    mlc_jsonl_writer_flush(p.w, &e);
    /* 0 means every receipt is posted: receipts left pending (waiting for
     * delivery, or for a later run) or queued make it 75, "run again later" */
    if (!rc && !p.bad && !p.rejected && !p.transient && left_for_later(st))
        p.transient++;
    if (!rc)
        rc = (p.bad || p.rejected) ? MLC_EXIT_FAILED : p.transient ? MLC_EXIT_TEMPFAIL : 0;
out:
    mlc_jsonl_writer_free(p.w);
    mlc_receipt_free(eng);
    mlc_m3_free(m3);
    if (file)
        fclose(in);
    return rc;
}
