/*
 * status.h: a profile's health as one document, what `mlc status` shows: per
 * command its last successful run and that run's age, cursors and how far behind
 * they are, receipts by state with the oldest of each, the ION token's expiry
 * (never the token), ShipStation's shared rate budget, the last error, and the
 * problems found with a Nagios level (OK, WARNING, CRITICAL; UNKNOWN when the
 * state cannot be read). Local state only: no remote call, no change.
 *
 * The document (as `mlc status --json` prints it): {"profile", "now",
 * "commands": [{"command", "last_success", "last_success_age_s",
 * "last_run_started", "running", "last_exit_code", "last_duration_s",
 * "last_counts", "runs", "failures"}], "cursors": [{"stream", "value",
 * "updated_at", "behind_s"}], "receipts": {STATE: {"count", "oldest",
 * "oldest_age_s"}}, "ion_token": {"cache": vault|state, "state":
 * valid|expired|none|unknown, "expires_at", "expires_in_s", "reason"},
 * "shipstation_rate": [{"api", "limit", "remaining", "used" | "state",
 * "reason"}], "last_error": {"at", "command",
 * "exit_code", "message"} | null, "status", "exit_code", "problems": [{"level",
 * "message"}]}.
 *
 * Not here: SQL (lib/store), recording runs (cmd/mlc.c + lib/ctx), the text form
 * (cmd/status.c).
 * Ownership: the document from mlc_status_collect() is the caller's (cJSON_Delete).
 */
#ifndef MLC_STATUS_H
#define MLC_STATUS_H

#include "ctx.h"
#include "error.h"
#include <cjson/cJSON.h>
#include <stddef.h>

enum { MLC_STATUS_OK = 0, MLC_STATUS_WARNING = 1, MLC_STATUS_CRITICAL = 2, MLC_STATUS_UNKNOWN = 3 };

/* --max-age: CRITICAL when command ("" = every command that ever ran) has not
 * succeeded within seconds; a named command that never ran is CRITICAL. */
typedef struct mlc_status_max_age {
    char command[64];
    long long seconds;
} mlc_status_max_age;

/* N, Ns, Nm, Nh or Nd -> seconds (> 0); -1 on junk. */
long long mlc_status_parse_duration(const char *s);

/* Reads the profile's state into *doc (see above). An error (the store cannot be
 * read) means UNKNOWN. */
mlc_err mlc_status_collect(mlc_ctx *ctx, const mlc_status_max_age *ma, size_t nma, cJSON **doc, mlc_error *err);

/* Writes doc's metrics to path in the node_exporter textfile-collector format,
 * atomically (temp file beside it, fsync, rename; mode 0644). */
mlc_err mlc_status_write_prometheus(const cJSON *doc, const char *path, mlc_error *err);

#endif
