/*
 * run.h: the plumbing every record-moving subcommand shares, so each command
 * file reads "parse options, call lib, report":
 *   - the JSON-lines input loop, with bad lines reported the same way
 *     everywhere ("SOURCE:LINE: reason" on stderr and the line kept whole in the
 *     store's rejected table) and the loop going on with the next line;
 *   - record output on standard output, where a reader that went away (EPIPE,
 *     `| head`) ends the output quietly: nothing more is written, no message;
 *   - the counters and the one rule from a run's outcome to its exit code
 *     (mlc_outcome_exit_code() in lib/error.h, mlc(1) EXIT STATUS).
 *
 * Use:
 *     cmd_run r;
 *     if (cmd_run_begin(&r, ctx, "post-receipts")) return MLC_EXIT_OSERR;
 *     if (cmd_run_open(&r, file, st, &e)) ... cmd_run_fail(&r, &e) ...
 *     ... cmd_run_read(&r, on_record, NULL, ud, &e) ...
 *     ... cmd_run_emit(&r, rec) for every record, cmd_run_note(&r, &e) for a
 *     record that failed, r.out.later++ / r.out.failed++ for outcomes ...
 *     return cmd_run_end(&r);            (flushes, frees, the exit code)
 * An error that ends the run early: cmd_run_fail(&r, &e), then clean up and
 * `return cmd_run_end(&r)` (the stop decides the code).
 * Adopting it in a command: its own "write, stop quietly on EPIPE" becomes
 * cmd_run_emit; its note_failure/worst-error bookkeeping becomes cmd_run_note
 * (or out.failed/out.later for outcomes it counts itself); its exit-code lines
 * become `return cmd_run_end(&r)`; its input loop becomes cmd_run_open/read
 * with a record callback returning MLC_ERR_INPUT for a line to reject.
 *
 * Not here: what a record means (lib/), option parsing (cmd.h), stop signals
 * (lib/ctx; the dispatcher turns them into 130/143).
 * Ownership: the struct lives on the caller's stack; cmd_run_emit takes the
 * record; the input FILE is opened by cmd_run_open and closed by cmd_run_end.
 */
#ifndef MLC_CMD_RUN_H
#define MLC_CMD_RUN_H

#include "ctx.h"
#include "error.h"
#include "jsonl.h"
#include "store.h"

typedef struct cmd_run {
    mlc_ctx *ctx;
    mlc_log *log;
    const char *name;    /* the command, as it is named in the rejected table */
    mlc_jsonl_writer *w; /* standard output */
    int out_closed;      /* the reader went away or output failed: nothing more is written */
    long emitted;        /* records written */
    long rejected;       /* input lines rejected (also counted in out.failed) */
    mlc_outcome out;     /* failed / later / stopped: the exit code */
    /* the input opened by cmd_run_open (NULL without one) */
    FILE *in;
    mlc_jsonl_reader *rd;
    const char *source;   /* "stdin" or the file name */
    mlc_store *st;        /* where rejected lines are kept; NULL: stderr only */
    const char *bad_hint; /* appended on stderr to a line that is not JSON, e.g.
                             "(expected a receipt id or a receipt record)" */
} cmd_run;

/* Sets up r for ctx (log, writer on stdout). 0, or MLC_EXIT_OSERR out of memory. */
int cmd_run_begin(cmd_run *r, mlc_ctx *ctx, const char *name);
/* Flushes and frees the writer; returns cmd_run_exit(r). */
int cmd_run_end(cmd_run *r);
/* The exit code so far, by the one rule (lib/error.h mlc_outcome_exit_code). */
int cmd_run_exit(const cmd_run *r);

/* Writes rec (taken, NULL counts as out of memory) as one JSON line. 0 when
 * written; -1 when not: the output is closed (EPIPE: quiet) or failed (logged,
 * recorded as the run's stop, exit 74). */
int cmd_run_emit(cmd_run *r, cJSON *rec);
/* Flushes what was written: 0, or -1 when the output is closed (as emit). */
int cmd_run_flush(cmd_run *r);
/* 1 once nothing more can be written (the reader went away). */
int cmd_run_closed(const cmd_run *r);

/* One record failed with e: logs e's message and counts it by its code
 * (mlc_outcome_note: failed, later, or the run's trouble). */
void cmd_run_note(cmd_run *r, const mlc_error *e);
/* Adds what a lib engine counted by the same rule (its failed, later and
 * stop) to the run's outcome; the run's own stop, if any, comes first. */
void cmd_run_add(cmd_run *r, const mlc_outcome *o);
/* An error that ends the run: logs it (not PIPE, which is a quiet end), records
 * it as the stop, returns the exit code. */
int cmd_run_fail(cmd_run *r, const mlc_error *e);

/* Called with each record read (rec is the callee's). MLC_OK: go on.
 * MLC_ERR_INPUT with err set: the line is rejected (cmd_run_reject with err's
 * message) and the loop goes on. Any other code: the loop stops and
 * cmd_run_read returns it with err. */
typedef mlc_err (*cmd_run_record_fn)(cmd_run *r, cJSON *rec, void *ud, mlc_error *err);
/* Called with a line that is not a JSON object (the raw text is
 * mlc_jsonl_reader_line(r->rd)); returns 1 if it took the line, 0 to have it
 * rejected. NULL: every such line is rejected. */
typedef int (*cmd_run_bad_fn)(cmd_run *r, void *ud);

/* Opens the input: file, or standard input when NULL; bad lines go to st's
 * rejected table (NULL: stderr only). MLC_OK, or MLC_ERR_IO (cannot open) /
 * MLC_ERR_NOMEM with err set. cmd_run_end closes it. */
mlc_err cmd_run_open(cmd_run *r, const char *file, mlc_store *st, mlc_error *err);
/* Reads the opened input to its end. Bad lines are rejected and reading goes
 * on, so nothing after a bad line is lost. Returns MLC_OK at the end of the
 * input, else the error that stopped it (a read error, a callback's error), err
 * set; the caller decides (usually cmd_run_fail). */
mlc_err cmd_run_read(cmd_run *r, cmd_run_record_fn on_record, cmd_run_bad_fn on_bad, void *ud, mlc_error *err);
/* Rejects the input line being read: "SOURCE:LINE: msg" on stderr (msg as is
 * when it already starts with SOURCE:), the line whole in the rejected table
 * with the same reason; counts it rejected and failed. */
void cmd_run_reject(cmd_run *r, const char *msg);
/* The input line number last read (0 without input). */
unsigned long cmd_run_lineno(const cmd_run *r);

#endif
