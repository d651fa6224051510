/*
 * run.c: the input loop, record output and exit-code rule shared by the
 * record-moving subcommands (see run.h).
 * Not here: any command's records or options.
 */
#include "run.h"

#include <stdio.h>
#include <string.h>

int cmd_run_begin(cmd_run *r, mlc_ctx *ctx, const char *name)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->log = mlc_ctx_log(ctx);
    r->name = name;
    r->w = mlc_jsonl_writer_new(stdout);
    return r->w ? 0 : MLC_EXIT_OSERR;
}

int cmd_run_exit(const cmd_run *r) { return mlc_outcome_exit_code(&r->out); }

int cmd_run_flush(cmd_run *r)
{
    mlc_error e;
    if (r->w && !r->out_closed) {
        mlc_err rc = mlc_jsonl_writer_flush(r->w, &e);
        if (rc && rc != MLC_ERR_PIPE)
            cmd_run_fail(r, &e);
        r->out_closed = rc != MLC_OK;
    }
    return r->out_closed ? -1 : 0;
}

int cmd_run_end(cmd_run *r)
{
    cmd_run_flush(r);
    mlc_jsonl_writer_free(r->w);
    r->w = NULL;
    mlc_jsonl_reader_free(r->rd);
    r->rd = NULL;
    if (r->in && r->in != stdin)
        fclose(r->in);
    r->in = NULL;
    return cmd_run_exit(r);
}

int cmd_run_closed(const cmd_run *r) { return r->out_closed; }

int cmd_run_emit(cmd_run *r, cJSON *rec)
{
    mlc_error e;
    if (!rec) {
        mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
        cmd_run_fail(r, &e);
        r->out_closed = 1;
        return -1;
    }
    if (r->out_closed) {
        cJSON_Delete(rec);
        return -1;
    }
    mlc_err rc = mlc_jsonl_write(r->w, rec, &e);
    cJSON_Delete(rec);
    if (rc) {
        r->out_closed = 1;
        if (rc != MLC_ERR_PIPE) /* EPIPE: the reader went away, a quiet end */
            cmd_run_fail(r, &e);
        return -1;
    }
    r->emitted++;
    return 0;
}

void cmd_run_note(cmd_run *r, const mlc_error *e)
{
    if (e->code != MLC_ERR_PIPE)
        mlc_log_error(r->log, "%s", e->msg[0] ? e->msg : mlc_err_name(e->code));
    mlc_outcome_note(&r->out, e->code);
}

void cmd_run_add(cmd_run *r, const mlc_outcome *o)
{
    r->out.failed += o->failed;
    r->out.later += o->later;
    mlc_outcome_stop(&r->out, o->stopped);
}

int cmd_run_fail(cmd_run *r, const mlc_error *e)
{
    if (e->code != MLC_ERR_PIPE)
        mlc_log_error(r->log, "%s", e->msg[0] ? e->msg : mlc_err_name(e->code));
    else
        r->out_closed = 1;
    mlc_outcome_stop(&r->out, e->code);
    return cmd_run_exit(r);
}

unsigned long cmd_run_lineno(const cmd_run *r) { return r->rd ? mlc_jsonl_reader_lineno(r->rd) : 0; }

/* The reason as stored and logged: "SOURCE:LINE: msg" (msg as is when the
 * reader already put the place in front). */
static void place(const cmd_run *r, const char *msg, char *out, size_t n)
{
    char pre[300];
    snprintf(pre, sizeof pre, "%s:%lu:", r->source, cmd_run_lineno(r));
    if (!strncmp(msg, pre, strlen(pre)))
        snprintf(out, n, "%s", msg);
    else
        snprintf(out, n, "%s %s", pre, msg);
}

static void reject(cmd_run *r, const char *msg, const char *hint)
{
    char reason[MLC_ERROR_MSG_MAX + 320];
    mlc_error e;
    place(r, msg, reason, sizeof reason);
    r->rejected++;
    r->out.failed++;
    mlc_log_error(r->log, "%s%s%s", reason, hint ? " " : "", hint ? hint : "");
    if (r->st && mlc_store_reject_n(r->st, r->name, r->source, cmd_run_lineno(r), reason, mlc_jsonl_reader_line(r->rd),
                                    mlc_jsonl_reader_line_len(r->rd), &e))
        mlc_log_error(r->log, "%s", e.msg); /* the line is on stderr above: not lost */
}

void cmd_run_reject(cmd_run *r, const char *msg) { reject(r, msg, NULL); }

mlc_err cmd_run_open(cmd_run *r, const char *file, mlc_store *st, mlc_error *err)
{
    r->in = file ? fopen(file, "rb") : stdin;
    if (!r->in)
        return mlc_error_set(err, MLC_ERR_IO, "%s: cannot open", file);
    r->source = file ? file : "stdin";
    r->st = st;
    r->rd = mlc_jsonl_reader_new(r->in, r->source, 0);
    return r->rd ? MLC_OK : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
}

mlc_err cmd_run_read(cmd_run *r, cmd_run_record_fn on_record, cmd_run_bad_fn on_bad, void *ud, mlc_error *err)
{
    for (;;) {
        cJSON *rec = NULL;
        mlc_error e;
        mlc_err rr = mlc_jsonl_read(r->rd, &rec, &e);
        if (rr == MLC_ERR_EOF)
            return MLC_OK;
        if (rr == MLC_ERR_INPUT) {
            if (!on_bad || !on_bad(r, ud))
                reject(r, e.msg, r->bad_hint);
            continue;
        }
        if (rr == MLC_OK) {
            mlc_error_clear(&e);
            rr = on_record(r, rec, ud, &e);
            if (rr == MLC_ERR_INPUT) {
                reject(r, e.msg, NULL);
                continue;
            }
        }
        if (rr) {
            *err = e;
            return rr;
        }
    }
}
