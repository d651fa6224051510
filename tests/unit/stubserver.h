/*
 * stubserver.h: a tiny scripted HTTP server (libmicrohttpd) for the unit tests of
 * lib/http, lib/m3 and lib/shipstation: it answers from a queue of canned replies
 * (status, headers, body, delay) and records every request it got (method, URL
 * with query, headers, body), so tests assert on what the client really sent.
 * Header-only, loopback only, one server per test.  Not mlc-sim: no API logic.
 */
#ifndef MLC_STUBSERVER_H
#define MLC_STUBSERVER_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STUB_MAX 64

typedef struct stub_reply {
    int status;
    const char *headers; /* "Name: value\n..." or NULL */
    const char *body;    /* or NULL */
    size_t body_len;     /* 0 = strlen(body) */
    int delay_ms;
    int drop;            /* close the connection without an answer */
} stub_reply;

typedef struct stub_req {
    char method[16];
    char *url;     /* path + "?" + query as received (decoded query args re-joined) */
    char *headers; /* "name: value\n" lines */
    char *body;
    size_t body_len;
} stub_req;

typedef struct stub_server {
    struct MHD_Daemon *d;
    int port;
    char base[64];
    pthread_mutex_t mu;
    stub_reply replies[STUB_MAX];
    int nreplies, next;
    stub_reply fallback;
    stub_req reqs[STUB_MAX];
    int nreqs;
} stub_server;

typedef struct stub_conn {
    char *buf;
    size_t len;
} stub_conn;

static enum MHD_Result stub_hdr_it(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    char **acc = cls;
    size_t old = *acc ? strlen(*acc) : 0;
    size_t add = strlen(k) + (v ? strlen(v) : 0) + 4;
    char *n = realloc(*acc, old + add);
    if (!n)
        return MHD_NO;
    snprintf(n + old, add, "%s: %s\n", k, v ? v : "");
    *acc = n;
    return MHD_YES;
}

static enum MHD_Result stub_arg_it(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    char **acc = cls;
    size_t old = strlen(*acc);
    size_t add = strlen(k) + (v ? strlen(v) : 0) + 3;
    char *n = realloc(*acc, old + add);
    if (!n)
        return MHD_NO;
    snprintf(n + old, add, "%s%s=%s", strchr(n, '?') ? "&" : "?", k, v ? v : "");
    *acc = n;
    return MHD_YES;
}

static enum MHD_Result stub_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    stub_server *s = cls;
    stub_conn *cc = *con_cls;
    if (!cc) {
        cc = calloc(1, sizeof *cc);
        *con_cls = cc;
        return MHD_YES;
    }
    if (*upload_size) {
        char *n = realloc(cc->buf, cc->len + *upload_size + 1);
        if (!n)
            return MHD_NO;
        memcpy(n + cc->len, upload, *upload_size);
        cc->len += *upload_size;
        n[cc->len] = '\0';
        cc->buf = n;
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->mu);
    if (s->nreqs < STUB_MAX) {
        stub_req *r = &s->reqs[s->nreqs++];
        snprintf(r->method, sizeof r->method, "%s", method);
        r->url = strdup(url);
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, stub_arg_it, &r->url);
        r->headers = NULL;
        MHD_get_connection_values(c, MHD_HEADER_KIND, stub_hdr_it, &r->headers);
        r->body = cc->buf ? cc->buf : strdup("");
        r->body_len = cc->len;
        cc->buf = NULL;
    }
    stub_reply rep = s->next < s->nreplies ? s->replies[s->next++] : s->fallback;
    pthread_mutex_unlock(&s->mu);
    if (rep.delay_ms) {
        struct timespec ts = {rep.delay_ms / 1000, (rep.delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rep.drop)
        return MHD_NO; /* closes the connection: the client sees an empty reply */
    const char *body = rep.body ? rep.body : "";
    size_t blen = rep.body_len ? rep.body_len : strlen(body);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(blen, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (rep.headers) {
        char *h = strdup(rep.headers), *save = NULL;
        for (char *line = strtok_r(h, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *colon = strchr(line, ':');
            if (!colon)
                continue;
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            MHD_add_response_header(resp, line, v);
        }
        free(h);
    }
    enum MHD_Result ret = MHD_queue_response(c, rep.status ? (unsigned)rep.status : 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void stub_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    stub_conn *cc = *con_cls;
    if (cc) {
        free(cc->buf);
        free(cc);
        *con_cls = NULL;
    }
}

static inline stub_server *stub_start(void)
{
    stub_server *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->fallback.status = 200;
    s->fallback.body = "{}";
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                            0, NULL, NULL, stub_handler, s, MHD_OPTION_NOTIFY_COMPLETED,
                            stub_completed, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = i ? i->port : 0;
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    return s;
}

static inline void stub_push(stub_server *s, stub_reply r)
{
    pthread_mutex_lock(&s->mu);
    if (s->nreplies < STUB_MAX)
        s->replies[s->nreplies++] = r;
    pthread_mutex_unlock(&s->mu);
}

static inline int stub_count(stub_server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nreqs;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static inline void stub_stop(stub_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    for (int i = 0; i < s->nreqs; i++) {
        free(s->reqs[i].url);
        free(s->reqs[i].headers);
        free(s->reqs[i].body);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

#endif
