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
#include "replay.h"
#include "run.h"
#include "store.h"

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

typedef struct replay_run {
    cmd_run r;
    long long cono;        /* the profile's company (cloudsuite.cono) */
    mlc_store *st;         /* for the BOD fields of a record */
    mlc_replay_set *set;   /* what to replay */
    long done;             /* receipts reported back, for the progress line */
    int oom;               /* out of memory while reading standard input */
} replay_run;

static void on_receipt(void *ud, const mlc_store_receipt *row, const char *status)
{
    replay_run *p = ud;
    if (!strcmp(status, "exhausted") || !strcmp(status, "needs_review"))
        p->r.out.failed++;
    else if (!strcmp(status, "queued") || !strcmp(status, "pending") || !strcmp(status, "in_flight") ||
             !strcmp(status, "in_doubt"))
        p->r.out.later++;
    cJSON *rec = receipt_record(row, status);
    receipt_record_add_bod(rec, p->st, row->id);
    if (rec)
        cmd_run_emit(&p->r, rec);
    mlc_log_progress(p->r.log, "receipts", ++p->done, (long)mlc_replay_set_count(p->set));
}

/* Standard input: receipt records name what to replay; other kinds pass through. */
static mlc_err on_record(cmd_run *r, cJSON *rec, void *ud, mlc_error *err)
{
    replay_run *p = ud;
    const char *kind = mlc_jsonl_kind(rec);
    mlc_err rc = MLC_OK;
    if (kind && !strcmp(kind, "receipt")) {
        rc = mlc_replay_set_add_record(p->set, p->st, rec, p->cono, err);
        cJSON_Delete(rec);
    } else {
        cmd_run_emit(r, rec);
    }
    return rc;
}

/* Standard input: a line that is not JSON may be a bare receipt id. */
static int on_bad(cmd_run *r, void *ud)
{
    replay_run *p = ud;
    long long id = mlc_replay_bare_id(mlc_jsonl_reader_line(r->rd));
    mlc_error e;
    if (id <= 0)
        return 0;
    if (mlc_replay_set_add(p->set, id, &e)) {
        p->oom = 1;
        cmd_run_fail(r, &e);
    }
    return 1;
}

/* Re-posts the set (the poster lock: a replay never runs beside a
 * post-receipts of the same profile; a dry run changes nothing and needs none). */
static void replay(replay_run *p, const mlc_config *cfg, int force, const char *reason, int dry_run)
{
    mlc_m3 *m3 = NULL;
    mlc_receipt *eng = NULL;
    mlc_error e;
    char lock[PATH_MAX], *dir = mlc_config_state_dir(cfg);
    snprintf(lock, sizeof lock, "%s/%s.post.lock", dir ? dir : ".", mlc_config_profile(cfg));
    free(dir);
    if (mlc_m3_new(p->r.ctx, NULL, &m3, &e) ||
        mlc_receipt_new(m3, p->st, cfg, p->r.log, dry_run ? NULL : lock, &eng, &e)) {
        cmd_run_fail(&p->r, &e);
        mlc_m3_free(m3);
        return;
    }
    mlc_receipt_stop_on(eng, p->r.ctx);
    size_t n = mlc_replay_set_count(p->set);
    mlc_err er = mlc_receipt_replay(eng, mlc_replay_set_ids(p->set), n, force, reason, dry_run, on_receipt, p, &e);
    if (er == MLC_ERR_TRANSIENT || er == MLC_ERR_UNAVAILABLE) {
        mlc_log_warn(p->r.log, "%s", e.msg);
        p->r.out.later++;
    } else if (er) {
        cmd_run_fail(&p->r, &e);
    }
    mlc_log_progress_done(p->r.log);
    const mlc_receipt_stats *s = mlc_receipt_stats_get(eng);
    if (!dry_run)
        mlc_log_info(p->r.log,
                     "%zu asked, %ld posted, %ld already posted, %ld queued, %ld in doubt, %ld exhausted, "
                     "%ld needs review, %ld M3 calls",
                     n, s->posted, s->already_posted, s->queued, s->in_doubt, s->exhausted, s->needs_review,
                     s->m3_calls);
    mlc_receipt_free(eng);
    mlc_m3_free(m3);
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
    replay_run p = {0};
    unsigned mask = 0;
    const char *po = NULL, *reason = NULL;
    int c, force = 0, dry_run = 0;
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
    for (int i = optind; i < argc; i++)
        if (cmd_parse_count(argv[i]) <= 0)
            return cmd_usage_error(usage, "'%s' is not a receipt id (a positive number, as in `mlc queue`)", argv[i]);
    int from_stdin = !mask && optind >= argc;
    if (from_stdin && isatty(STDIN_FILENO))
        return cmd_usage_error(usage, "what to replay? give receipt ids, --exhausted or --needs-review, "
                                      "or pipe receipt records (mlc queue --state exhausted | mlc replay)");

    const mlc_config *cfg;
    mlc_error e;
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &p.st, &e))
        return cmd_fail(ctx, &e);
    if (cmd_run_begin(&p.r, ctx, "replay") || !(p.set = mlc_replay_set_new())) {
        cmd_run_end(&p.r);
        return MLC_EXIT_OSERR;
    }
    p.cono = mlc_config_int(cfg, "cloudsuite.cono");
    p.r.bad_hint = "(expected a receipt id or a receipt record)";
    mlc_err rc = MLC_OK;
    for (int i = optind; i < argc && !rc; i++)
        rc = mlc_replay_set_add(p.set, cmd_parse_count(argv[i]), &e);
    if (!rc && from_stdin && !(rc = cmd_run_open(&p.r, NULL, p.st, &e)))
        rc = cmd_run_read(&p.r, on_record, on_bad, &p, &e);
    if (!rc && mask)
        rc = mlc_replay_set_add_state(p.set, p.st, mask, po, &e);
    if (!rc && !p.oom)
        rc = mlc_replay_set_check(p.set, p.st, force, p.r.log, &p.r.out.failed, &e);
    if (rc)
        cmd_run_fail(&p.r, &e);
    else if (p.oom)
        mlc_log_error(p.r.log, "nothing replayed");
    else if (mlc_replay_set_count(p.set) == 0)
        mlc_log_info(p.r.log, "nothing to replay");
    else
        replay(&p, cfg, force, reason, dry_run);
    mlc_replay_set_free(p.set);
    return cmd_run_end(&p.r);
}
