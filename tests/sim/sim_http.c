/*
 * sim_http.c: the libmicrohttpd front door of mlc-sim: body collection (10 MB cap,
 * 413 beyond), routing to the five systems (admin, ION, M3, V2, V1), the fault hook
 * (latency, errors, reset, timeout, commit-then-drop), the state mutex and the request
 * counters.
 *
 * Not here: what any endpoint answers (each system's file), which fault fires
 * (sim_faults.c).
 */
#include "sim.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_ms(long ms)
{
    while (ms > 0 && !SIM->stopping) {
        long step = ms > 50 ? 50 : ms;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static void free_req(sim_req *rq)
{
    if (!rq)
        return;
    free(rq->path);
    free(rq->body);
    free(rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free_req(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result send_resp(sim_req *rq, sim_resp *rs)
{
    const char *body = rs->body ? rs->body : "";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (rs->body && rs->status != 204)
        MHD_add_response_header(r, "Content-Type", rs->ctype ? rs->ctype : "application/json");
    for (int i = 0; i < rs->nhdr; i++)
        MHD_add_response_header(r, rs->hname[i], rs->hval[i]);
    enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static ssize_t cut_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* commit_drop: the status line and headers go out, the body never does, so the client
 * sees a broken answer (libcurl: "transfer closed with N bytes remaining") and, having
 * received bytes, does not silently resend the request */
static enum MHD_Result send_cut(sim_req *rq, sim_resp *rs)
{
    size_t len = rs->body ? strlen(rs->body) : 0;
    struct MHD_Response *r = MHD_create_response_from_callback(len + 64, 1024, cut_body, NULL, NULL);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", rs->ctype ? rs->ctype : "application/json");
    enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static sim_handler route(sim_req *rq)
{
    sim_handler h;
    if ((h = route_admin(rq)) || (h = route_ion(rq)) || (h = route_ims(rq)) || (h = route_m3(rq)) ||
        (h = route_v2(rq)) ||
        (h = route_v1(rq)))
        return h;
    return NULL;
}

static void answer_413(sim_req *rq, sim_resp *rs)
{
    switch (rq->system) {
    case '2':
        v2_error(rs, 413, "validation", "invalid_field_value", "The request body is too large");
        break;
    case '1':
        v1_error(rs, 413, "The request entity is too large.");
        break;
    default:
        resp_text(rs, 413, "text/plain", "Request Entity Too Large\n");
    }
}

static enum MHD_Result finish(sim_req *rq, sim_resp *rs, const char *status_word)
{
    char st[16];
    pthread_mutex_lock(&SIM->mu);
    snprintf(st, sizeof st, "%d", rs->status);
    count_add(rq->label, status_word ? status_word : st);
    if (rs->status == 429)
        SIM->n429++;
    if (SIM->log_requests) /* the path only: queries may carry values, never credentials */
        fprintf(stderr, "mlc-sim: %s %s -> %s\n", rq->method, rq->path, status_word ? status_word : st);
    pthread_mutex_unlock(&SIM->mu);
    record_exchange(rq, rs, status_word);
    enum MHD_Result ret;
    if (status_word && strcmp(status_word, "commit_drop") == 0)
        ret = send_cut(rq, rs);
    else
        ret = (rs->drop || status_word) ? MHD_NO : send_resp(rq, rs);
    free(rs->body);
    return ret;
}

static enum MHD_Result dispatch(sim_req *rq)
{
    sim_resp rs = {0};
    rs.status = 500;
    pthread_mutex_lock(&SIM->mu);
    ims_tick();
    sim_handler h = route(rq);
    int replayed = replay_active() && rq->system != 'A' && strncmp(rq->path, "/admin/", 7) != 0 &&
                   replay_answer(rq, &rs);
    pthread_mutex_unlock(&SIM->mu);
    if (replayed) {
        if (!h)
            snprintf(rq->label, sizeof rq->label, "%s (replayed)", rq->method);
        return finish(rq, &rs, NULL);
    }
    if (!h) {
        snprintf(rq->label, sizeof rq->label, "%s (unrouted)", rq->method);
        resp_text(&rs, 404, "text/plain", "Not Found\n");
        return finish(rq, &rs, NULL);
    }
    if (rq->too_big) {
        answer_413(rq, &rs);
        return finish(rq, &rs, NULL);
    }
    sim_fault f = {{0}, 0, 0};
    int fires = 0;
    if (rq->system != 'A') {
        pthread_mutex_lock(&SIM->mu);
        fires = faults_pick(rq, &f);
        pthread_mutex_unlock(&SIM->mu);
    }
    if (fires && strcmp(f.kind, "m3_partial") == 0) {
        snprintf(rq->fault, sizeof rq->fault, "%s", f.kind);
        fires = 0;
    }
    if (fires && strcmp(f.kind, "latency") == 0 && f.commit_first) {
        /* applied now, answered late: a client that gives up meanwhile never hears of it */
        pthread_mutex_lock(&SIM->mu);
        h(rq, &rs);
        pthread_mutex_unlock(&SIM->mu);
        sleep_ms(f.ms > 0 ? f.ms : 200);
        return finish(rq, &rs, NULL);
    }
    if (fires && strcmp(f.kind, "latency") == 0) {
        /* applied after the wait, whether the client is still there or not (M3 goes on
         * executing a call its client has given up on) */
        sleep_ms(f.ms > 0 ? f.ms : 200);
        fires = 0;
    }
    if (fires && strcmp(f.kind, "reset") == 0)
        return finish(rq, &rs, "reset");
    if (fires && strcmp(f.kind, "timeout") == 0) {
        sleep_ms(f.ms > 0 ? f.ms : SIM->timeout_ms);
        return finish(rq, &rs, "timeout");
    }
    if (fires && f.ms > 0 && strcmp(f.kind, "commit_drop") && strcmp(f.kind, "commit_reset"))
        sleep_ms(f.ms); /* e.g. a 504 after the gateway's 60 s */
    pthread_mutex_lock(&SIM->mu);
    int commit = fires && (strcmp(f.kind, "commit_drop") == 0 || strcmp(f.kind, "commit_reset") == 0);
    if (fires && !commit) {
        snprintf(rq->fault, sizeof rq->fault, "%s", f.kind); /* the recording marks it */
        fault_answer(rq, &rs, f.kind);
    }
    else if (contract_check_request(rq, &rs))
        h(rq, &rs);
    if (!fires)
        contract_check_response(rq, &rs);
    pthread_mutex_unlock(&SIM->mu);
    if (commit)
        return finish(rq, &rs, f.kind);
    return finish(rq, &rs, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    sim_req *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->conn = conn;
        snprintf(rq->method, sizeof rq->method, "%s", method);
        rq->path = xstrdup(url);
        rq->system = '?';
        *con_cls = rq;
        rq->max_body = str_has_prefix(url, "/admin/") ? SIM_MAX_ADMIN_BODY : SIM_MAX_BODY;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > rq->max_body) {
            rq->too_big = 1;
            return dispatch(rq);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!rq->too_big) {
            if (rq->body_len + *upload_data_size > rq->max_body) {
                rq->too_big = 1;
                free(rq->body);
                rq->body = NULL;
                rq->body_len = 0;
            } else {
                char *nb = realloc(rq->body, rq->body_len + *upload_data_size + 1);
                if (!nb)
                    return MHD_NO;
                memcpy(nb + rq->body_len, upload_data, *upload_data_size);
                rq->body = nb;
                rq->body_len += *upload_data_size;
                rq->body[rq->body_len] = 0;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(rq);
}

/* MHD's own messages; the deliberate drops (reset, timeout, commit_drop) are not news */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!strstr(msg, "Application reported internal error") && !strstr(msg, "application reported error generating"))
        fputs(msg, stderr);
}

int sim_http_start(struct MHD_Daemon **d, const char *host, int port, int *bound_port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    *d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                              MHD_USE_ERROR_LOG,
                          0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                          NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                          (unsigned int)300, MHD_OPTION_END);
    if (!*d)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(*d, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info ? (int)info->port : port;
    return 0;
}
