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
#include "run.h"
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

typedef struct post_run {
    cmd_run r;
    mlc_receipt *eng;
    long long cono;
} post_run;

static void on_receipt(void *ud, const mlc_store_receipt *row, const char *status)
{
    post_run *p = ud;
    if (!strcmp(status, "exhausted") || !strcmp(status, "needs_review"))
        p->r.out.failed++;
    if (!strcmp(status, "queued") || !strcmp(status, "in_doubt"))
        p->r.out.later++;
    cJSON *rec = receipt_record(row, status);
    mlc_store *st = NULL;
    mlc_error e;
    if (mlc_ctx_store(p->r.ctx, &st, &e) == MLC_OK)
        receipt_record_add_bod(rec, st, row->id);
    cmd_run_emit(&p->r, rec);
}

/* A shipment record is checked and recorded pending (duplicates reported);
 * records of other kinds pass through. */
static mlc_err on_record(cmd_run *r, cJSON *rec, void *ud, mlc_error *err)
{
    post_run *p = ud;
    const char *kind = mlc_jsonl_kind(rec);
    if (!kind || strcmp(kind, "shipment")) {
        cmd_run_emit(r, rec);
        return MLC_OK;
    }
    /* one company per profile, keys that agree, M3-sized quantities */
    mlc_err ar = mlc_record_check(rec, p->cono, err);
    if (!ar)
        ar = mlc_receipt_accept(p->eng, rec, on_receipt, p, err);
    cJSON_Delete(rec);
    return ar;
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
    post_run p = {0};
    int c;
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
    mlc_error e;
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    if (cmd_run_begin(&p.r, ctx, "post-receipts"))
        return MLC_EXIT_OSERR;
    mlc_log *log = p.r.log;
    if (cmd_run_open(&p.r, file, st, &e)) {
        cmd_run_fail(&p.r, &e);
        goto out;
    }
    p.cono = mlc_config_int(cfg, "cloudsuite.cono");
    char lock[PATH_MAX], *dir = mlc_config_state_dir(cfg);
    snprintf(lock, sizeof lock, "%s/%s.post.lock", dir ? dir : ".", mlc_config_profile(cfg));
    free(dir);
    if (mlc_m3_new(ctx, NULL, &m3, &e) || mlc_receipt_new(m3, st, cfg, log, lock, &p.eng, &e)) {
        cmd_run_fail(&p.r, &e);
        goto out;
    }
    mlc_receipt_stop_on(p.eng, ctx);
    /* 1. whatever an interrupted run left in flight */
    if (mlc_receipt_recover(p.eng, on_receipt, &p, &e))
        mlc_log_warn(log, "recovery postponed: %s", e.msg);
    /* 2. record the input as pending (duplicates reported, bad lines rejected) */
    mlc_err er = cmd_run_read(&p.r, on_record, NULL, &p, &e);
    /* 3. post what is due: the new rows and queued retries whose time has come.
     * After SIGTERM/SIGINT the input is still read to its end and recorded
     * (ledger only, no call), so nothing read is lost; nothing new is posted. */
    if (er)
        cmd_run_fail(&p.r, &e); /* the input broke off: nothing is posted */
    else if (mlc_ctx_stopping(ctx))
        mlc_log_warn(log, "stopped: receipts not posted stay pending for the next run");
    else if ((er = mlc_receipt_post_due(p.eng, on_receipt, &p, &e)) == MLC_ERR_TRANSIENT || er == MLC_ERR_UNAVAILABLE)
        p.r.out.later++;
    else if (er)
        cmd_run_fail(&p.r, &e);
    const mlc_receipt_stats *s = mlc_receipt_stats_get(p.eng);
    mlc_log_info(log,
                 "%ld accepted, %ld duplicate, %ld sent as BOD, %ld posted, %ld already posted, %ld queued, "
                 "%ld in doubt, %ld exhausted, %ld needs review, %ld voided, %ld rejected lines, %ld M3 calls",
                 s->accepted, s->duplicates, s->sent, s->posted, s->already_posted, s->queued, s->in_doubt,
                 s->exhausted, s->needs_review, s->voided, p.r.rejected, s->m3_calls);
    /* 0 means every receipt is posted: receipts left pending (waiting for
     * delivery, or for a later run) or queued make it 75, "run again later" */
    if (cmd_run_exit(&p.r) == 0 && left_for_later(st))
        p.r.out.later++;
out:
    mlc_receipt_free(p.eng);
    mlc_m3_free(m3);
    return cmd_run_end(&p.r);
}
