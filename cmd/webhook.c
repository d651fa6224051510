/*
 * webhook.c: `mlc webhook serve` (a libmicrohttpd listener that stores ShipStation
 * notifications in the inbox and answers fast) and `mlc webhook subscribe`
 * (registers the listener's URL at ShipStation). With --on-notify, serve also runs
 * a pipeline soon after notifications arrive (lib/runner: debounced, never two at
 * once, in a clean environment built here). See man/mlc-webhook.1.
 * Not here: the listener and its limits (lib/listener), checking and storing a
 * notification, the token file and the subscription call (lib/webhook), the
 * on-notify environment (lib/runner), fetching (pull-shipments, lib/shipment).
 */
#include "builtin.h"
#include "cmd.h"
#include "listener.h"
#include "run.h"
#include "runner.h"
#include "secret.h"
#include "setup.h"
#include "shipstation.h"
#include "store.h"
#include "webhook.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: mlc webhook serve [--listen ADDR:PORT] [--on-notify CMD [--debounce DURATION]]\n"
    "                         [--max-connections N] [--max-per-client N] [--request-timeout S]\n"
    "       mlc webhook subscribe --url BASE_URL [--event EVENT]... [--api v1|v2]\n"
    "\n"
    "serve: receives ShipStation webhooks (V1 SHIP_NOTIFY, V2 fulfillment/label events),\n"
    "checks them (secret path token, size, V2 signature when a public key is configured)\n"
    "and stores them in the state database's inbox; `mlc pull-shipments` fetches them.\n"
    "Prints one line 'mlc webhook listening url=...' (without the token) and runs until\n"
    "SIGTERM or SIGINT.\n"
    "\n"
    "subscribe: registers BASE_URL followed by the secret token at ShipStation (the token\n"
    "is read from shipstation.webhook_secret_file, never from the command line).\n"
    "\n"
    "  --listen ADDR:PORT  address to listen on (default 127.0.0.1:8080; port 0 = any)\n"
    "  --on-notify CMD     run CMD (/bin/sh -c, clean environment, see mlc-webhook(1)) soon\n"
    "                      after notifications are stored; never two at once; e.g.\n"
    "                      'mlc pull-shipments --webhooks-only | mlc post-receipts'\n"
    "  --debounce DURATION wait this long after a notification before running CMD, so a\n"
    "                      burst makes one run (default 2s; ms, s or m)\n"
    "  --max-connections N connections at once, all clients (default 64)\n"
    "  --max-per-client N  connections at once from one IP address (default 8)\n"
    "  --request-timeout S whole-request limit in seconds, however slowly bytes come\n"
    "                      (default 15; the idle limit is 10 s)\n"
    "  --url BASE_URL      public URL of the listener, e.g. https://hooks.example.com\n"
    "  --event EVENT       event to subscribe (default: SHIP_NOTIFY on v1,\n"
    "                      fulfillment_shipped_v2 on v2); repeatable\n"
    "  --api V             v2 or v1 (default: shipstation.api)\n"
    "  -h, --help          this help\n";

/* --debounce: N, Nms, Ns or Nm -> ms; -1 on junk. */
static long parse_debounce(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno || v < 0 || v > 3600000)
        return -1;
    if (!strcmp(end, "ms"))
        return v;
    if (!*end || !strcmp(end, "s"))
        return v <= 3600 ? v * 1000 : -1;
    if (!strcmp(end, "m"))
        return v <= 60 ? v * 60000 : -1;
    return -1;
}

static int serve(mlc_ctx *ctx, mlc_listener_opts *lo, const char *on_notify, long debounce_ms)
{
    const mlc_config *cfg;
    mlc_store *st;
    mlc_error e;
    mlc_listener *l = NULL;
    if (!mlc_listener_addr_ok(lo->listen))
        return cmd_usage_error(usage, "--listen needs IPv4ADDR:PORT, not '%s'", lo->listen);
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    lo->log = mlc_ctx_log(ctx);
    if (mlc_webhook_open(st, cfg, lo->log, &lo->wh, &e))
        return cmd_fail(ctx, &e);
    /* Block the stop signals before the listener and the runner start their
     * threads, then wait for them here. */
    static const int stop[] = {SIGTERM, SIGINT};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    mlc_err rc = MLC_OK;
    if (on_notify) {
        char **env = mlc_runner_clean_env(mlc_config_path(cfg), mlc_config_profile(cfg));
        mlc_runner_opts ro = {.command = on_notify, .debounce_ms = debounce_ms,
                              .env = (const char *const *)env, .log = lo->log};
        rc = env ? mlc_runner_start(&ro, &lo->runner, &e) : mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
        mlc_runner_env_free(env);
    }
    if (!rc)
        rc = mlc_listener_start(lo, &l, &e);
    if (rc) {
        mlc_runner_stop(lo->runner);
        mlc_webhook_free(lo->wh);
        return cmd_fail(ctx, &e);
    }
    printf("mlc webhook listening url=http://%s:%u/\n", mlc_listener_host(l), mlc_listener_port(l));
    fflush(stdout);
    int sig = mlc_listener_wait(l, stop, 2);
    mlc_listener_stop(l);
    mlc_runner_stop(lo->runner); /* after the listener: no kick can come any more */
    mlc_webhook_free(lo->wh);
    mlc_log_info(lo->log, "stopped by signal %d", sig);
    return 0;
}

static int subscribe(mlc_ctx *ctx, const char *base, const char **events, int nevents, const char *api)
{
    const mlc_config *cfg;
    mlc_ss *ss = NULL;
    mlc_error e;
    char *token = NULL;
    cmd_run r;
    if (mlc_ctx_config(ctx, &cfg, &e))
        return cmd_fail(ctx, &e);
    if (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://127.", 11) != 0 &&
        strncmp(base, "http://localhost", 16) != 0)
        return cmd_usage_error(usage, "--url must be https (plain http only for loopback)");
    if (mlc_webhook_token(cfg, &token, &e))
        return cmd_fail(ctx, &e);
    if (mlc_ss_new(ctx, NULL, &ss, &e)) {
        mlc_secret_free_str(token);
        return cmd_fail(ctx, &e);
    }
    if (cmd_run_begin(&r, ctx, "webhook subscribe"))
        cmd_run_emit(&r, NULL); /* out of memory: nothing is tried, exit 71 */
    mlc_log_secret(mlc_ctx_log(ctx), token);
    mlc_ss_version v = mlc_setup_ss_api(cfg, api);
    size_t blen = strlen(base);
    char target[1024];
    snprintf(target, sizeof target, "%s%s%s", base, blen && base[blen - 1] == '/' ? "" : "/", token ? token : "");
    /* one record per subscription; the first failure ends the run */
    for (int i = 0; i < (nevents ? nevents : 1) && !cmd_run_exit(&r); i++) {
        const char *ev = nevents ? events[i] : v == MLC_SS_V1 ? "SHIP_NOTIFY" : "fulfillment_shipped_v2";
        cJSON *out = NULL;
        if (mlc_webhook_subscribe(ss, v, target, ev, mlc_config_int(cfg, "shipstation.store_id"), &out, &e)) {
            cJSON_Delete(out);
            cmd_run_fail(&r, &e);
        } else {
            cmd_run_emit(&r, out ? out : cJSON_CreateObject());
        }
    }
    mlc_secret_wipe(target, sizeof target);
    mlc_secret_free_str(token);
    mlc_ss_free(ss);
    return cmd_run_end(&r);
}

int cmd_webhook(int argc, char **argv, mlc_ctx *ctx)
{
    enum { OPT_MAXCONN = 256, OPT_PERIP, OPT_REQTIMEOUT };
    static const struct option longopts[] = {{"listen", required_argument, 0, 'l'},
                                             {"max-connections", required_argument, 0, OPT_MAXCONN},
                                             {"max-per-client", required_argument, 0, OPT_PERIP},
                                             {"request-timeout", required_argument, 0, OPT_REQTIMEOUT},
                                             {"url", required_argument, 0, 'u'},
                                             {"event", required_argument, 0, 'e'},
                                             {"api", required_argument, 0, 'a'},
                                             {"on-notify", required_argument, 0, 'n'},
                                             {"debounce", required_argument, 0, 'd'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *listen = "127.0.0.1:8080", *url = NULL, *api = NULL, *events[8], *on_notify = NULL;
    int nevents = 0, c;
    long debounce_ms = 2000;
    long long max_conn = 64, max_per_ip = 8, req_timeout = 15;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return argc < 2 ? cmd_usage_error(usage, "webhook needs serve or subscribe") : cmd_help(usage);
    const char *sub = argv[1];
    optind = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case OPT_MAXCONN:
            if ((max_conn = cmd_parse_count(optarg)) < 1 || max_conn > 10000)
                return cmd_usage_error(usage, "--max-connections needs a number 1-10000, not '%s'", optarg);
            break;
        case OPT_PERIP:
            if ((max_per_ip = cmd_parse_count(optarg)) < 1 || max_per_ip > 10000)
                return cmd_usage_error(usage, "--max-per-client needs a number 1-10000, not '%s'", optarg);
            break;
        case OPT_REQTIMEOUT:
            if ((req_timeout = cmd_parse_count(optarg)) < 1 || req_timeout > 3600)
                return cmd_usage_error(usage, "--request-timeout needs seconds 1-3600, not '%s'", optarg);
            break;
        case 'u': url = optarg; break;
        case 'n':
            if (!*optarg)
                return cmd_usage_error(usage, "--on-notify needs a command");
            on_notify = optarg;
            break;
        case 'd':
            if ((debounce_ms = parse_debounce(optarg)) < 0)
                return cmd_usage_error(usage, "--debounce wants a duration such as 2s or 500ms (at most 1h), not '%s'",
                                       optarg);
            break;
        case 'a':
            if (strcmp(optarg, "v1") && strcmp(optarg, "v2"))
                return cmd_usage_error(usage, "--api must be v1 or v2");
            api = optarg;
            break;
        case 'e':
            if (nevents == 8)
                return cmd_usage_error(usage, "at most 8 --event");
            events[nevents++] = optarg;
            break;
        case 'h': return cmd_help(usage);
        default: return cmd_usage_error(usage, "unknown option");
        }
    }
    if (!strcmp(sub, "serve")) {
        mlc_listener_opts lo = {.listen = listen, .max_conn = (unsigned)max_conn,
                                .max_per_ip = (unsigned)(max_per_ip < max_conn ? max_per_ip : max_conn),
                                .request_timeout = (unsigned)req_timeout};
        return serve(ctx, &lo, on_notify, debounce_ms);
    }
    if (!strcmp(sub, "subscribe")) {
        if (!url)
            return cmd_usage_error(usage, "subscribe needs --url");
        return subscribe(ctx, url, events, nevents, api);
    }
    return cmd_usage_error(usage, "unknown webhook command '%s' (serve or subscribe)", sub);
}
