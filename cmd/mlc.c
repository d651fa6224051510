/*
 * mlc.c: the `mlc` dispatcher. Parses the options shared by every subcommand
 * (--config, --profile, --log-format, --trace, --no-progress, -q, -v), builds the
 * context, and runs the subcommand from the table in builtin.h, recording the run
 * in the store for `mlc status` (lib/ctx). Unknown names exit 64 with the
 * closest suggestion.
 *
 * Not here: any subcommand's own options or work.
 */
#include "builtin.h"
#include "cmd.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

typedef struct builtin {
    const char *name;
    int (*fn)(int, char **, mlc_ctx *);
    const char *summary;
} builtin;

#define MLC_ENTRY(n, id, s) {n, cmd_##id, s},
static const builtin builtins[] = {MLC_BUILTINS(MLC_ENTRY)};
#undef MLC_ENTRY
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

static const char global_usage[] =
    "usage: mlc [--config FILE] [--profile NAME] [--log-format text|json] [--trace FILE.har]\n"
    "           [--no-progress] [-q] [-v] COMMAND [ARGS]\n"
    "       mlc help COMMAND | mlc COMMAND --help | mlc --version\n";

static void print_help(FILE *out)
{
    fputs(global_usage, out);
    fputs("\nmlc connects Infor CloudSuite (M3) with ShipStation through JSON-lines pipes:\n"
          "  mlc pull-pos | mlc push-shipments        POs become inbound shipments\n"
          "  mlc pull-shipments | mlc post-receipts   shipments become goods receipts\n\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < NBUILTINS; i++)
        fprintf(out, "  %-16s %s\n", builtins[i].name, builtins[i].summary);
    fputs("\nShared options (before or after COMMAND):\n"
          "  --config FILE       configuration file (default $MLC_CONFIG, ~/.config/mlc/mlc.yaml)\n"
          "  --profile NAME      profile in the configuration (default $MLC_PROFILE, default_profile)\n"
          "  --log-format FMT    text (default) or json, on stderr\n"
          "  --trace FILE        write every HTTP exchange to FILE as HAR 1.2, secrets redacted\n"
          "  --no-progress       no progress line, even on a terminal\n"
          "  -q, --quiet         errors only\n"
          "  -v, --verbose       more detail (twice: debug)\n"
          "\nSee mlc(1) and mlc-COMMAND(1).\n",
          out);
}

static const builtin *find_builtin(const char *name)
{
    for (size_t i = 0; i < NBUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    const builtin *best = NULL;
    size_t best_d = 99;
    for (size_t i = 0; i < NBUILTINS; i++) {
        size_t d = cmd_edit_distance(name, builtins[i].name);
        if (d < best_d) {
            best_d = d;
            best = &builtins[i];
        }
    }
    fprintf(stderr, "mlc: '%s' is not an mlc command.", name);
    if (best && best_d <= 3)
        fprintf(stderr, " Did you mean '%s'?", best->name);
    fputs(" See 'mlc --help'.\n", stderr);
    return MLC_EXIT_USAGE;
}

/* Takes the shared options out of argv wherever they are (until "--").
 * Returns -1 on a usage error; sets show_help and show_version for bare flags
 * seen before the command name. */
static int take_shared_options(int *argc, char **argv, mlc_ctx_opts *o, const char **trace, int *show_help,
                               int *show_version)
{
    int out = 1, seen_cmd = 0, verbosity = 0, quiet = 0;
    for (int i = 1; i < *argc; i++) {
        char *a = argv[i];
        const char **slot = NULL;
        const char *val = NULL;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (!strcmp(a, "--config") || !strcmp(a, "--profile") || !strcmp(a, "--log-format") ||
            !strcmp(a, "--trace")) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "mlc: %s needs a value\n", a);
                return -1;
            }
            val = argv[++i];
        } else if (!strncmp(a, "--config=", 9) || !strncmp(a, "--profile=", 10) || !strncmp(a, "--log-format=", 13) ||
                   !strncmp(a, "--trace=", 8)) {
            val = strchr(a, '=') + 1;
        }
        if (val) {
            if (!strncmp(a, "--config", 8))
                slot = &o->config_path;
            else if (!strncmp(a, "--profile", 9))
                slot = &o->profile;
            else if (!strncmp(a, "--trace", 7))
                slot = trace;
            else if (mlc_log_parse_format(val, &o->log_format)) {
                fprintf(stderr, "mlc: --log-format must be text or json, not '%s'\n", val);
                return -1;
            }
            if (slot)
                *slot = val;
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strcmp(a, "--no-progress"))
            o->no_progress = 1;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
            verbosity++;
        else if (!strcmp(a, "-vv"))
            verbosity += 2;
        else if (!seen_cmd && (!strcmp(a, "--help") || !strcmp(a, "-h")))
            *show_help = 1;
        else if (!seen_cmd && !strcmp(a, "--version"))
            *show_version = 1;
        else if (!seen_cmd && a[0] == '-') {
            fprintf(stderr, "mlc: unknown option '%s' before the command\n", a);
            return -1;
        } else {
            argv[out++] = a;
            seen_cmd = 1;
        }
    }
    argv[out] = NULL;
    *argc = out;
    o->log_level = quiet ? MLC_LOG_ERROR : verbosity >= 2 ? MLC_LOG_DEBUG : verbosity == 1 ? MLC_LOG_INFO : MLC_LOG_WARN;
    return 0;
}

static void harden_process(void)
{
    /* Secrets live in this process's memory: no core dumps, no ptrace by others. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* A closed pipe is an EPIPE from write, handled by lib/jsonl as a quiet end. */
    signal(SIGPIPE, SIG_IGN);
}

/* The name a run is recorded under: the command, plus the action word of the
 * commands that have one ("webhook serve"); NULL for runs not recorded (help,
 * version, status itself, state (it copies the store: a run row would change it), and any --help). */
static const char *run_name(int argc, char **argv, char *buf, size_t n)
{
    static const char *const unrecorded[] = {"version", "status", "state"};
    for (size_t i = 0; i < sizeof unrecorded / sizeof *unrecorded; i++)
        if (!strcmp(argv[0], unrecorded[i]))
            return NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return NULL;
    if (argc > 1 && argv[1][0] != '-' &&
        (!strcmp(argv[0], "webhook") || !strcmp(argv[0], "creds") || !strcmp(argv[0], "queue")))
        snprintf(buf, n, "%s %s", argv[0], argv[1]);
    else
        snprintf(buf, n, "%s", argv[0]);
    return buf;
}

int main(int argc, char **argv)
{
    mlc_ctx_opts opts = {0};
    int show_help = 0, show_version = 0;
    const char *trace = NULL;
    harden_process();
    if (take_shared_options(&argc, argv, &opts, &trace, &show_help, &show_version)) {
        fputs(global_usage, stderr);
        return MLC_EXIT_USAGE;
    }
    if (show_version && argc == 1) {
        printf("mlc %s\n", MLC_VERSION);
        return 0;
    }
    if (argc == 1) {
        print_help(show_help ? stdout : stderr);
        return show_help ? 0 : MLC_EXIT_USAGE;
    }
    /* `mlc help` and `mlc help CMD` */
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            print_help(stdout);
            return 0;
        }
        if (!find_builtin(argv[2]))
            return unknown_command(argv[2]);
        argv[1] = argv[2];
        argv[2] = "--help";
        argc = 3;
    }
    const builtin *b = find_builtin(argv[1]);
    if (!b)
        return unknown_command(argv[1]);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("mlc: cannot initialise libcurl\n", stderr);
        return MLC_EXIT_SOFTWARE;
    }
    mlc_ctx *ctx = mlc_ctx_new(&opts);
    if (!ctx) {
        fputs("mlc: out of memory\n", stderr);
        return MLC_EXIT_OSERR;
    }
    char prog[64], name[64];
    snprintf(prog, sizeof prog, "mlc %s", b->name);
    mlc_log_set_program(mlc_ctx_log(ctx), prog);
    if (trace) {
        mlc_error e = {0};
        if (mlc_ctx_open_trace(ctx, trace, &e)) {
            int rc = cmd_fail(ctx, &e);
            mlc_ctx_free(ctx);
            curl_global_cleanup();
            return rc;
        }
    }
    const char *rname = run_name(argc - 1, argv + 1, name, sizeof name);
    if (rname)
        mlc_ctx_run_start(ctx, rname);
    mlc_ctx_catch_stop_signals(ctx); /* SIGTERM/SIGINT: clean stop (lib/ctx) */
    int rc = mlc_ctx_exit_code(ctx, b->fn(argc - 1, argv + 1, ctx));
    if (rname && rc != MLC_EXIT_USAGE)
        mlc_ctx_run_finish(ctx, rc);
    mlc_ctx_free(ctx);
    curl_global_cleanup();
    return rc;
}
