/*
 * listener.c: the libmicrohttpd listener of `mlc webhook serve` (see listener.h):
 * request bodies, connection tracking, the whole-request deadline.
 * Not here: checking or storing a notification (lib/webhook).
 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IDLE_TIMEOUT_S 10

typedef struct conn_body {
    char *buf;
    size_t len;
    int too_big;
} conn_body;

typedef struct tracked {
    struct MHD_Connection *c;
    int fd;
    time_t start;
    int cut;
} tracked;

struct mlc_listener {
    mlc_webhook *wh;
    mlc_log *log;
    mlc_runner *runner;
    struct MHD_Daemon *d;
    pthread_mutex_t mu; /* guards conns: the MHD thread adds and removes, wait() cuts */
    tracked *conns;
    size_t nconns, cap;
    unsigned request_timeout;
    long cut_total;
    char host[INET_ADDRSTRLEN];
    unsigned port;
};

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    mlc_listener *sv = cls;
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
static void restart_clock(mlc_listener *sv, struct MHD_Connection *c)
{
    pthread_mutex_lock(&sv->mu);
    for (size_t i = 0; i < sv->nconns; i++)
        if (sv->conns[i].c == c)
            sv->conns[i].start = time(NULL);
    pthread_mutex_unlock(&sv->mu);
}

/* Cuts connections past the whole-request deadline (shutdown of our duplicate). */
static void cut_slow(mlc_listener *sv)
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
    mlc_listener *sv = cls;
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
    if (!s || sscanf(s, "%63[^:]:%d%n", host, &port, &n) != 2 || s[n] || port < 0 || port > 65535)
        return -1;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int mlc_listener_addr_ok(const char *s)
{
    struct sockaddr_in sa;
    return parse_listen(s, &sa) == 0;
}

mlc_err mlc_listener_start(const mlc_listener_opts *o, mlc_listener **out, mlc_error *err)
{
    struct sockaddr_in sa;
    if (parse_listen(o->listen, &sa))
        return mlc_error_set(err, MLC_ERR_USAGE, "--listen needs IPv4ADDR:PORT, not '%s'", o->listen ? o->listen : "");
    mlc_listener *l = calloc(1, sizeof *l);
    if (l)
        l->conns = calloc((size_t)o->max_conn + 16, sizeof *l->conns);
    if (!l || !l->conns) {
        free(l);
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    }
    l->cap = (size_t)o->max_conn + 16;
    l->wh = o->wh;
    l->log = o->log;
    l->runner = o->runner;
    l->request_timeout = o->request_timeout;
    pthread_mutex_init(&l->mu, NULL);
    l->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_done, l,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, o->max_conn,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_ip, MHD_OPTION_END);
    if (!l->d) {
        mlc_listener_stop(l);
        return mlc_error_set(err, MLC_ERR_UNAVAILABLE, "cannot listen on %s", o->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
    l->port = info ? info->port : 0;
    inet_ntop(AF_INET, &sa.sin_addr, l->host, sizeof l->host);
    *out = l;
    return MLC_OK;
}

const char *mlc_listener_host(const mlc_listener *l) { return l->host; }
unsigned mlc_listener_port(const mlc_listener *l) { return l->port; }

int mlc_listener_wait(mlc_listener *l, const int *signals, size_t n)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < n; i++)
        sigaddset(&set, signals[i]);
    int sig;
    struct timespec tick = {1, 0};
    while ((sig = sigtimedwait(&set, NULL, &tick)) < 0)
        cut_slow(l); /* a second passed (EAGAIN) or another signal (EINTR) */
    return sig;
}

void mlc_listener_stop(mlc_listener *l)
{
    if (!l)
        return;
    if (l->d)
        MHD_stop_daemon(l->d);
    for (size_t i = 0; i < l->nconns; i++)
        close(l->conns[i].fd);
    free(l->conns);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
