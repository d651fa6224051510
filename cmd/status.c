/*
 * status.c: `mlc status`: one look at a profile's health, for people (text),
 * programs (--json) and monitoring (--prometheus FILE, the node_exporter
 * textfile-collector format, written atomically), with Nagios-style exit codes
 * (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; see man/mlc-status.1).
 *
 * It never calls a remote system and never changes state.
 * Not here: gathering the state and the Prometheus file (lib/status), SQL
 * (lib/store), recording runs (cmd/mlc.c + lib/ctx).
 */
#include "builtin.h"
#include "cmd.h"
#include "run.h"
#include "status.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: mlc status [--json | --prometheus FILE] [--max-age [COMMAND=]DURATION]...\n"
    "\n"
    "One look at the profile's health: per command its last successful run and that\n"
    "run's age, cursors and how far behind they are, receipts by state with the oldest\n"
    "of each, the ION token's expiry, ShipStation's rate budget used in the current\n"
    "window, and the last error. Reads local state only.\n"
    "\n"
    "  -j, --json              one JSON object instead of text\n"
    "  -p, --prometheus FILE   write the metrics to FILE (node_exporter textfile\n"
    "                          collector format, atomically: temp file + rename)\n"
    "  -m, --max-age [CMD=]DURATION\n"
    "                          CRITICAL when a command has not succeeded within DURATION\n"
    "                          (N s/m/h/d); without CMD= for every command that ever ran\n"
    "                          (repeatable; a named command that never ran is CRITICAL)\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status (Nagios): 0 OK; 1 WARNING (the last run of a command failed, or\n"
    "receipts are queued for retry); 2 CRITICAL (receipts exhausted or needing review,\n"
    "or a command not successful within --max-age); 3 UNKNOWN (state unreadable).\n";

#define MAX_AGES 32

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void fmt_age(double s, char *out, size_t n)
{
    long long t = (long long)(s < 0 ? -s : s);
    if (t >= 86400)
        snprintf(out, n, "%lldd%lldh", t / 86400, (t % 86400) / 3600);
    else if (t >= 3600)
        snprintf(out, n, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(out, n, "%lldm%02llds", t / 60, t % 60);
    else
        snprintf(out, n, "%llds", t);
}

static void print_text(const cJSON *doc, FILE *out)
{
    const cJSON *x;
    char a[32];
    fprintf(out, "profile %s: %s\n", jstr(doc, "profile"), jstr(doc, "status"));
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "problems"))
        fprintf(out, "  %s: %s\n", jstr(x, "level"), jstr(x, "message"));
    fputs("\ncommands:\n", out);
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(doc, "commands");
    if (!cJSON_GetArraySize(cmds))
        fputs("  (no run recorded yet)\n", out);
    cJSON_ArrayForEach(x, cmds)
    {
        const char *ok = jstr(x, "last_success");
        fmt_age(jnum(x, "last_success_age_s", 0), a, sizeof a);
        fprintf(out, "  %-18s last success %s%s%s%s", jstr(x, "command"), ok ? ok : "never", ok ? " (" : "",
                ok ? a : "", ok ? " ago)" : "");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "running")))
            fprintf(out, "; running since %s\n", jstr(x, "last_run_started"));
        else if (jnum(x, "last_exit_code", 0) != 0)
            fprintf(out, "; last run %s failed (exit %.0f)\n", jstr(x, "last_run_started"),
                    jnum(x, "last_exit_code", 0));
        else
            fputs("\n", out);
    }
    fputs("\ncursors:\n", out);
    const cJSON *curs = cJSON_GetObjectItemCaseSensitive(doc, "cursors");
    if (!cJSON_GetArraySize(curs))
        fputs("  (none)\n", out);
    cJSON_ArrayForEach(x, curs)
    {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(x, "behind_s");
        fmt_age(cJSON_IsNumber(b) ? b->valuedouble : 0, a, sizeof a);
        fprintf(out, "  %-18s %s (%s%s, updated %s)\n", jstr(x, "stream"), jstr(x, "value"),
                cJSON_IsNumber(b) ? a : "position not a time", cJSON_IsNumber(b) ? " behind" : "",
                jstr(x, "updated_at"));
    }
    fputs("\nreceipts:\n", out);
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "receipts"))
    {
        const char *old = jstr(x, "oldest");
        fmt_age(jnum(x, "oldest_age_s", 0), a, sizeof a);
        fprintf(out, "  %-18s %6.0f", x->string, jnum(x, "count", 0));
        if (old)
            fprintf(out, "  oldest %s (%s ago)", old, a);
        fputs("\n", out);
    }
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(doc, "ion_token");
    const char *ts = jstr(tok, "state");
    const char *where = jstr(tok, "cache");
    fprintf(out, "\nION token%s: ", where && !strcmp(where, "state") ? " (shared state)" : "");
    if (ts && (!strcmp(ts, "valid") || !strcmp(ts, "expired"))) {
        double in = jnum(tok, "expires_in_s", 0);
        fmt_age(in, a, sizeof a);
        fprintf(out, "%s %s (%s%s%s)\n", !strcmp(ts, "valid") ? "expires" : "expired", jstr(tok, "expires_at"),
                in >= 0 ? "in " : "", a, in >= 0 ? "" : " ago");
    } else {
        fprintf(out, "%s%s%s%s\n", !strcmp(ts ? ts : "", "none") ? "none cached" : ts ? ts : "unknown",
                jstr(tok, "reason") ? " (" : "", jstr(tok, "reason") ? jstr(tok, "reason") : "",
                jstr(tok, "reason") ? ")" : "");
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(doc, "shipstation_rate"))
    {
        if (jstr(x, "state"))
            fprintf(out, "ShipStation %s rate budget: unknown%s%s%s\n", jstr(x, "api"), jstr(x, "reason") ? " (" : "",
                    jstr(x, "reason") ? jstr(x, "reason") : "", jstr(x, "reason") ? ")" : "");
        else
            fprintf(out, "ShipStation %s rate budget: %.0f of %.0f used in the current window\n", jstr(x, "api"),
                    jnum(x, "used", 0), jnum(x, "limit", 0));
    }
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(doc, "last_error");
    if (cJSON_IsObject(le))
        fprintf(out, "last error: %s %s (exit %.0f): %s\n", jstr(le, "at"), jstr(le, "command"),
                jnum(le, "exit_code", 0), jstr(le, "message"));
    else
        fputs("last error: none recorded\n", out);
}

int cmd_status(int argc, char **argv, mlc_ctx *ctx)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"prometheus", required_argument, 0, 'p'},
                                         {"max-age", required_argument, 0, 'm'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int json = 0, c;
    const char *prom = NULL;
    mlc_status_max_age ma[MAX_AGES];
    size_t nma = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+jp:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'p':
            prom = optarg;
            break;
        case 'm': {
            if (nma == MAX_AGES)
                return cmd_usage_error(usage, "status: at most %d --max-age options", MAX_AGES);
            const char *eq = strchr(optarg, '=');
            const char *d = eq ? eq + 1 : optarg;
            if (eq && (eq == optarg || (size_t)(eq - optarg) >= sizeof ma[nma].command))
                return cmd_usage_error(usage, "status: --max-age '%s': bad command name", optarg);
            snprintf(ma[nma].command, sizeof ma[nma].command, "%.*s", eq ? (int)(eq - optarg) : 0, optarg);
            if ((ma[nma].seconds = mlc_status_parse_duration(d)) < 0)
                return cmd_usage_error(usage, "status: --max-age '%s': want a duration such as 90s, 15m, 2h, 1d",
                                       optarg);
            nma++;
            break;
        }
        case 'h':
            return cmd_help(usage);
        default:
            return cmd_usage_error(usage, "status: unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cmd_usage_error(usage, "status: unexpected argument '%s'", argv[optind]);
    if (json && prom)
        return cmd_usage_error(usage, "status: --json and --prometheus exclude each other");

    mlc_log *log = mlc_ctx_log(ctx);
    mlc_error e = {0};
    cJSON *doc = NULL;
    if (mlc_status_collect(ctx, ma, nma, &doc, &e)) {
        mlc_log_error(log, "%s", e.msg);
        return MLC_STATUS_UNKNOWN;
    }
    int out_rc = (int)jnum(doc, "exit_code", MLC_STATUS_UNKNOWN);
    cmd_run r;
    if (cmd_run_begin(&r, ctx, "status"))
        cmd_run_emit(&r, NULL); /* out of memory: nothing is written (UNKNOWN below) */
    if (prom) {
        if (mlc_status_write_prometheus(doc, prom, &e)) {
            mlc_log_error(log, "%s", e.msg);
            out_rc = MLC_STATUS_UNKNOWN;
        }
    } else if (json) {
        cmd_run_emit(&r, doc);
        doc = NULL;
    } else {
        print_text(doc, stdout);
    }
    cJSON_Delete(doc);
    /* output that could not be written is UNKNOWN; a reader that went away
     * (`| head`) changes nothing (mlc(1)) */
    return cmd_run_end(&r) ? MLC_STATUS_UNKNOWN : out_rc;
}
