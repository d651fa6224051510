/*
 * runner.h: a shell command run soon after events, debounced and never twice at
 * once: what `mlc webhook serve --on-notify CMD` uses to run the receipt pipeline
 * seconds after ShipStation's notifications arrive instead of at the next cron run.
 *
 * mlc_runner_kick() says "something arrived". The first kick after an idle period
 * schedules a run debounce_ms later; kicks until that run starts join it. A kick
 * while a run is going schedules exactly one more run after it (at the earliest
 * debounce_ms after that kick), so a notification is never left unprocessed and
 * at most one run is pending. Runs happen on the runner's own thread.
 *
 * A run is /bin/sh -c CMD with stdin from /dev/null, stdout and stderr captured
 * and logged line by line at info level (through the log, so registered secrets
 * are masked), no other file descriptor inherited, its own process group, and
 * exactly the environment given (the caller builds a clean one, e.g. with
 * mlc_runner_clean_env()). Its end is
 * logged with the exit status and duration: info when 0, warning otherwise.
 *
 * Not here: what the command does (mlc pull-shipments | mlc post-receipts), the
 * HTTP listener (cmd/webhook.c).
 * Ownership: mlc_runner_start() -> mlc_runner_stop(); command, env strings are
 * copied; the log is borrowed (it must be safe to use from two threads: lib/log
 * serialises its messages).
 */
#ifndef MLC_RUNNER_H
#define MLC_RUNNER_H

#include "error.h"
#include "log.h"

typedef struct mlc_runner mlc_runner;

typedef struct mlc_runner_opts {
    const char *command;         /* for /bin/sh -c */
    long debounce_ms;            /* >= 0 */
    const char *const *env;      /* "NAME=value", NULL-terminated: the whole environment */
    mlc_log *log;
    long stop_grace_ms;          /* on stop, how long a running command may finish before SIGTERM (0 = 10 s) */
} mlc_runner_opts;

mlc_err mlc_runner_start(const mlc_runner_opts *o, mlc_runner **out, mlc_error *err);
/* Thread-safe; cheap. */
void mlc_runner_kick(mlc_runner *r);
/* Stops: a pending run is dropped (the polling cron picks its work up), a running
 * command gets stop_grace_ms to finish, then SIGTERM to its process group (and
 * SIGKILL 5 s later). Joins the thread and frees. NULL-safe. */
void mlc_runner_stop(mlc_runner *r);

typedef struct mlc_runner_stats {
    long runs;                   /* started */
    long failures;               /* nonzero exit or signal */
    long kicks;
    int last_status;             /* exit code of the last run, 128+N for a signal, -1 none */
} mlc_runner_stats;
void mlc_runner_get_stats(mlc_runner *r, mlc_runner_stats *out);

/* The environment for an on-notify command (mlc-webhook(1)): PATH (a default if
 * unset), HOME, LANG, LC_ALL, TZ, TMPDIR, XDG_CONFIG_HOME, XDG_STATE_HOME,
 * MLC_STATE_DIR, MLC_VAULT_KEY, MLC_VAULT_KEY_FILE as this process has them,
 * MLC_CONFIG=config_path (unless NULL or "(none)"), MLC_PROFILE=profile and
 * MLC_ON_NOTIFY=1; nothing else. NULL on ENOMEM. Free with mlc_runner_env_free
 * (which wipes: it may hold the vault key). */
char **mlc_runner_clean_env(const char *config_path, const char *profile);
void mlc_runner_env_free(char **env);

#endif
