/*
 * webhook.c: `mlc webhook serve` (a libmicrohttpd listener that stores ShipStation
 * notifications in the inbox and answers fast) and `mlc webhook subscribe`
 * (registers the listener's URL at ShipStation). With --on-notify, serve also runs
 * a pipeline soon after notifications arrive (lib/runner: debounced, never two at
 * once, in a clean environment built here). See man/mlc-webhook.1.
 * Not here: checking and storing a notification (lib/webhook), fetching its
 * resource (pull-shipments, lib/shipment).
 */
#include "builtin.h"
#include "cmd.h"
#include "runner.h"
#include "shipstation.h"
#include "store.h"
#include "webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* ---- small file helpers ---- */

/* Reads a small secret/key file; refuses group- or world-readable secrets. */
static char *read_small(const char *path, int secret, mlc_error *err)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        mlc_error_set(err, MLC_ERR_CONFIG, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) == 0 && secret && (st.st_mode & 077)) {
        fclose(f);
        mlc_error_set(err, MLC_ERR_CONFIG, "%s: readable by group or others: chmod 600 it", path);
        return NULL;
    }
    char *buf = calloc(1, 65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (!buf) {
        mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    buf[n] = '\0';
    if (secret)
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
            buf[--n] = '\0';
    return buf;
}

static char *config_file_text(const mlc_config *cfg, const char *key, int secret, mlc_error *err, int *missing)
{
    char *path = mlc_config_file(cfg, key);
    *missing = path == NULL;
    if (!path)
        return NULL;
    char *text = read_small(path, secret, err);
    free(path);
    return text;
}

/* ---- serve ---- */

typedef struct conn_body {
    char *buf;
    size_t len;
    int too_big;
} conn_body;

/* Limits against slow clients (issue 17: 70 connections sending a byte every
 * 3 s locked real notifications out, since libmicrohttpd's idle timeout starts
 * again on every byte). libmicrohttpd caps connections in all and per IP
 * address, and closes idle ones; the whole-request deadline is ours: every
 * connection is tracked from its start (or the end of its last request), and
 * the main thread shuts down the socket of any that runs past the deadline, so
 * libmicrohttpd sees it closed and frees the slot. The tracker holds its own
 * duplicate of the socket descriptor, closed when libmicrohttpd reports the
 * connection closed: a shutdown can never reach a descriptor number reused for
 * something else. */
typedef struct tracked {
    struct MHD_Connection *c;
    int fd;
    time_t start;
    int cut;
} tracked;

typedef struct server {
    mlc_webhook *wh;
    mlc_log *log;
    mlc_runner *runner; /* --on-notify, or NULL */
    pthread_mutex_t mu; /* guards conns: the MHD thread adds and removes, main cuts */
    tracked *conns;
    size_t nconns, cap;
    unsigned request_timeout;
    long cut_total;
} server;

typedef struct serve_limits {
    unsigned max_conn, max_per_ip, request_timeout;
} serve_limits;

#define IDLE_TIMEOUT_S 10

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    server *sv = cls;
    (void)socket_context;
    pthread_mutex_lock(&sv->mu);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        int fd = ci && sv->nconns < sv->cap ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
        if (fd >= 0)
            sv->conns[sv->nconns++] = (tracked){.c = c, .fd = fd, .start = time(NULL)};
    } else {
        for (size_t i = 0; i < sv->nconns; i++)
            if (sv->conns[i].c == c) {
                close(sv->conns[i].fd);
                sv->conns[i] = sv->conns[--sv->nconns];
                break;
            }
    }
    pthread_mutex_unlock(&sv->mu);
}

/* A request was answered: the connection's clock starts again (keep-alive). */
static void restart_clock(server *sv, struct MHD_Connection *c)
{
    pthread_mutex_lock(&sv->mu);
    for (size_t i = 0; i < sv->nconns; i++)
        if (sv->conns[i].c == c)
            sv->conns[i].start = time(NULL);
    pthread_mutex_unlock(&sv->mu);
}

/* Called from the main thread about once a second: cuts connections past the
 * whole-request deadline (shutdown of our duplicate descriptor). */
static void cut_slow(server *sv)
{
    time_t now = time(NULL);
    long cut = 0;
    pthread_mutex_lock(&sv->mu);
    for (size_t i = 0; i < sv->nconns; i++) {
        tracked *t = &sv->conns[i];
        if (!t->cut && now - t->start >= (time_t)sv->request_timeout) {
            shutdown(t->fd, SHUT_RDWR);
            t->cut = 1;
            cut++;
        }
    }
    pthread_mutex_unlock(&sv->mu);
    if (cut) {
        sv->cut_total += cut;
        mlc_log_warn(sv->log, "closed %ld connection(s) past the %u s request deadline (%ld in all)", cut,
                     sv->request_timeout, sv->cut_total);
    }
}

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

/* The on-notify command's environment: only what a pipeline of mlc commands needs
 * (documented in mlc-webhook(1)); everything else of the listener's is dropped. */
static char **clean_env(const mlc_config *cfg)
{
    static const char *const pass[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "XDG_CONFIG_HOME",
                                       "XDG_STATE_HOME", "MLC_STATE_DIR", "MLC_VAULT_KEY", "MLC_VAULT_KEY_FILE"};
    size_t n = sizeof pass / sizeof *pass;
    char **env = calloc(n + 4, sizeof *env);
    size_t k = 0;
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(pass[i]);
        if (!v && !strcmp(pass[i], "PATH"))
            v = "/usr/local/bin:/usr/bin:/bin";
        if (v && asprintf(&env[k], "%s=%s", pass[i], v) > 0)
            k++;
    }
    const char *path = mlc_config_path(cfg);
    if (path && strcmp(path, "(none)") && asprintf(&env[k], "MLC_CONFIG=%s", path) > 0)
        k++;
    if (asprintf(&env[k], "MLC_PROFILE=%s", mlc_config_profile(cfg)) > 0)
        k++;
    if (asprintf(&env[k], "MLC_ON_NOTIFY=1") > 0)
        k++;
    env[k] = NULL;
    return env;
}

static void free_env(char **env)
{
    for (char **e = env; e && *e; e++) {
        memset(*e, 0, strlen(*e)); /* may hold MLC_VAULT_KEY */
        free(*e);
    }
    free(env);
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *msg)
{
    char body[256];
    snprintf(body, sizeof body, "{\"status\":%d,\"message\":\"%s\"}\n", status, msg);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **con_cls)
{
    server *sv = cls;
    conn_body *b = *con_cls;
    (void)version;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b)
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*size) {
        if (!b->too_big) {
            if (b->len + *size > MLC_WEBHOOK_MAX_BODY) {
                b->too_big = 1;
            } else {
                char *nb = realloc(b->buf, b->len + *size + 1);
                if (!nb)
                    return MHD_NO;
                b->buf = nb;
                memcpy(b->buf + b->len, data, *size);
                b->len += *size;
                b->buf[b->len] = '\0';
            }
        }
        *size = 0;
        return MHD_YES;
    }
    mlc_webhook_request rq = {
        .method = method,
        .path = url,
        .body = b->buf,
        .body_len = b->too_big ? MLC_WEBHOOK_MAX_BODY + 1 : b->len,
        .sig_key_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-shipengine-rsa-sha256-key-id"),
        .signature = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-shipengine-rsa-sha256-signature"),
        .timestamp = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-shipengine-timestamp"),
        .now = time(NULL),
    };
    char msg[160];
    int status = mlc_webhook_handle(sv->wh, &rq, msg, sizeof msg);
    if (status == 200) {
        mlc_log_info(sv->log, "webhook stored (%zu bytes)", b->len);
        mlc_runner_kick(sv->runner);
    } else
        mlc_log_warn(sv->log, "webhook refused: %d %s", status, msg);
    return reply(c, status, msg);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    restart_clock(cls, c);
    conn_body *b = *con_cls;
    if (b) {
        free(b->buf);
        free(b);
        *con_cls = NULL;
    }
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    int port, n = 0;
    memset(sa, 0, sizeof *sa);
    if (sscanf(s, "%63[^:]:%d%n", host, &port, &n) != 2 || s[n] || port < 0 || port > 65535)
        return -1;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int serve(mlc_ctx *ctx, const char *listen, const char *on_notify, long debounce_ms, const serve_limits *lim)
{
    const mlc_config *cfg;
    mlc_store *st;
    mlc_error e;
    struct sockaddr_in sa;
    if (parse_listen(listen, &sa))
        return cmd_usage_error(usage, "--listen needs IPv4ADDR:PORT, not '%s'", listen);
    if (mlc_ctx_config(ctx, &cfg, &e) || mlc_ctx_store(ctx, &st, &e))
        return cmd_fail(ctx, &e);
    int missing_token, missing_key;
    char *token = config_file_text(cfg, "shipstation.webhook_secret_file", 1, &e, &missing_token);
    if (!token && !missing_token)
        return cmd_fail(ctx, &e);
    char *key = config_file_text(cfg, "shipstation.webhook_public_key_file", 0, &e, &missing_key);
    if (!key && !missing_key) {
        free(token);
        return cmd_fail(ctx, &e);
    }
    if (!token)
        mlc_log_warn(mlc_ctx_log(ctx), "no shipstation.webhook_secret_file: anyone who can reach the listener can "
                                       "store notifications (they are only hints: nothing is fetched off-host)");
    server sv = {.log = mlc_ctx_log(ctx), .request_timeout = lim->request_timeout, .cap = (size_t)lim->max_conn + 16};
    sv.conns = calloc(sv.cap, sizeof *sv.conns);
    if (!sv.conns) {
        free(key);
        free(token);
        return MLC_EXIT_OSERR;
    }
    pthread_mutex_init(&sv.mu, NULL);
    mlc_err rc = mlc_webhook_new(st, sv.log, token, key, &sv.wh, &e);
    free(key);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    if (rc) {
        free(sv.conns);
        return cmd_fail(ctx, &e);
    }
    /* Block the stop signals before MHD and the runner start their threads, then
     * wait for them here. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (on_notify) {
        char **env = clean_env(cfg);
        mlc_runner_opts ro = {.command = on_notify, .debounce_ms = debounce_ms,
                              .env = (const char *const *)env, .log = sv.log};
        rc = env ? mlc_runner_start(&ro, &sv.runner, &e) : mlc_error_set(&e, MLC_ERR_NOMEM, "out of memory");
        free_env(env);
        if (rc) {
            mlc_webhook_free(sv.wh);
            free(sv.conns);
            return cmd_fail(ctx, &e);
        }
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, &sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, &sv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, &sv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, lim->max_conn,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->max_per_ip, MHD_OPTION_END);
    if (!d) {
        mlc_runner_stop(sv.runner);
        mlc_webhook_free(sv.wh);
        free(sv.conns);
        mlc_error_set(&e, MLC_ERR_UNAVAILABLE, "cannot listen on %s", listen);
        return cmd_fail(ctx, &e);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    printf("mlc webhook listening url=http://%s:%u/\n", host, info ? info->port : 0);
    fflush(stdout);
    int sig = 0;
    struct timespec tick = {1, 0};
    while ((sig = sigtimedwait(&set, NULL, &tick)) < 0)
        cut_slow(&sv); /* a second passed (EAGAIN) or another signal (EINTR) */
    MHD_stop_daemon(d);
    mlc_runner_stop(sv.runner); /* after the listener: no kick can come any more */
    mlc_webhook_free(sv.wh);
    for (size_t i = 0; i < sv.nconns; i++)
        close(sv.conns[i].fd);
    free(sv.conns);
    pthread_mutex_destroy(&sv.mu);
    mlc_log_info(mlc_ctx_log(ctx), "stopped by signal %d", sig);
    return 0;
}

/* ---- subscribe ---- */

static int subscribe(mlc_ctx *ctx, const char *base, const char **events, int nevents, const char *api)
{
    const mlc_config *cfg;
    mlc_ss *ss = NULL;
    mlc_error e;
    int missing, rc = 0;
    if (mlc_ctx_config(ctx, &cfg, &e))
        return cmd_fail(ctx, &e);
    if (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://127.", 11) != 0 &&
        strncmp(base, "http://localhost", 16) != 0)
        return cmd_usage_error(usage, "--url must be https (plain http only for loopback)");
    char *token = config_file_text(cfg, "shipstation.webhook_secret_file", 1, &e, &missing);
    if (!token && !missing)
        return cmd_fail(ctx, &e);
    if (mlc_ss_new(ctx, NULL, &ss, &e)) {
        free(token);
        return cmd_fail(ctx, &e);
    }
    mlc_log_secret(mlc_ctx_log(ctx), token);
    mlc_ss_version v = !strcmp(api ? api : mlc_config_str(cfg, "shipstation.api"), "v1") ? MLC_SS_V1 : MLC_SS_V2;
    size_t blen = strlen(base);
    char target[1024];
    snprintf(target, sizeof target, "%s%s%s", base, blen && base[blen - 1] == '/' ? "" : "/", token ? token : "");
    const char *def = v == MLC_SS_V1 ? "SHIP_NOTIFY" : "fulfillment_shipped_v2";
    for (int i = 0; i < (nevents ? nevents : 1) && !rc; i++) {
        const char *ev = nevents ? events[i] : def;
        cJSON *body = cJSON_CreateObject();
        if (v == MLC_SS_V1) {
            cJSON_AddStringToObject(body, "target_url", target);
            cJSON_AddStringToObject(body, "event", ev);
            long long store = mlc_config_int(cfg, "shipstation.store_id");
            if (store)
                cJSON_AddNumberToObject(body, "store_id", (double)store);
            cJSON_AddStringToObject(body, "friendly_name", "mlc");
        } else {
            cJSON_AddStringToObject(body, "event", ev);
            cJSON_AddStringToObject(body, "url", target);
        }
        mlc_ss_response resp = {0};
        mlc_err er = mlc_ss_request(ss, v, "POST", v == MLC_SS_V1 ? "/webhooks/subscribe" : "/v2/environment/webhooks",
                                    body, 0, &resp, &e);
        cJSON_Delete(body);
        if (er) {
            rc = cmd_fail(ctx, &e);
        } else {
            /* V1 answers {"id":..} or {"WebHookID":..} (sources disagree); V2 {"webhook_id":..} */
            const cJSON *id = cJSON_GetObjectItem(resp.json, v == MLC_SS_V1 ? "id" : "webhook_id");
            if (!id && v == MLC_SS_V1)
                id = cJSON_GetObjectItem(resp.json, "WebHookID");
            cJSON *out = cJSON_CreateObject();
            cJSON_AddStringToObject(out, "kind", "webhook_subscription");
            cJSON_AddStringToObject(out, "event", ev);
            cJSON_AddStringToObject(out, "api", v == MLC_SS_V1 ? "v1" : "v2");
            if (cJSON_IsNumber(id))
                cJSON_AddNumberToObject(out, "webhook_id", id->valuedouble);
            else if (cJSON_IsString(id))
                cJSON_AddStringToObject(out, "webhook_id", id->valuestring);
            char *s = cJSON_PrintUnformatted(out);
            printf("%s\n", s ? s : "{}");
            free(s);
            cJSON_Delete(out);
        }
        mlc_ss_response_free(&resp);
    }
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    mlc_ss_free(ss);
    return rc;
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
        serve_limits lim = {(unsigned)max_conn, (unsigned)(max_per_ip < max_conn ? max_per_ip : max_conn),
                            (unsigned)req_timeout};
        return serve(ctx, listen, on_notify, debounce_ms, &lim);
    }
    if (!strcmp(sub, "subscribe")) {
        if (!url)
            return cmd_usage_error(usage, "subscribe needs --url");
        return subscribe(ctx, url, events, nevents, api);
    }
    return cmd_usage_error(usage, "unknown webhook command '%s' (serve or subscribe)", sub);
}
