/*
 * sim_webhook.c: webhook delivery. webhook_fire() (called with the state mutex held)
 * finds the subscriptions for an event (V1 SHIP_NOTIFY & co, V2 *_v2 events and the
 * spec's short names), decides loss and duplicates from a seeded PRNG and queues thin
 * {"resource_url","resource_type"} payloads (V2 ones signed, sim_sign.c); one worker
 * thread POSTs them with libcurl
 * after the configured delay, never holding the state mutex while it does, and logs
 * every attempt in shipstation.webhook_deliveries.
 *
 * Not here: subscribing (sim_v1.c, sim_v2.c), what triggers an event (sim_ship.c).
 */
#include "sim.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct delivery {
    struct delivery *next;
    double due; /* real time */
    char *url, *body, *headers; /* headers: JSON array of {key,value} or NULL */
    int sign;                   /* V2: x-shipengine-rsa-sha256-* headers */
    char resource_type[40];
    char resource_url[300];
} delivery;

static pthread_mutex_t QMU = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t QCV = PTHREAD_COND_INITIALIZER;
static delivery *QUEUE;
static pthread_t WORKER;
static int RUNNING, STOP;

static void free_delivery(delivery *d)
{
    free(d->url);
    free(d->body);
    free(d->headers);
    free(d);
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static long post(const delivery *d)
{
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "User-Agent: mlc-sim webhook");
    cJSON *hdrs = d->headers ? cJSON_Parse(d->headers) : NULL, *e;
    cJSON_ArrayForEach(e, hdrs) {
        char line[300];
        if (jstr(e, "key") && jstr(e, "value")) {
            snprintf(line, sizeof line, "%s: %s", jstr(e, "key"), jstr(e, "value"));
            h = curl_slist_append(h, line);
        }
    }
    cJSON_Delete(hdrs);
    char kid[64], ts[40], line[900], *sig = NULL;
    if (d->sign && sign_webhook(d->body, kid, sizeof kid, ts, sizeof ts, &sig) == 0) {
        snprintf(line, sizeof line, "x-shipengine-rsa-sha256-key-id: %s", kid);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof line, "x-shipengine-rsa-sha256-signature: %s", sig);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof line, "x-shipengine-timestamp: %s", ts);
        h = curl_slist_append(h, line);
        free(sig);
    }
    curl_easy_setopt(c, CURLOPT_URL, d->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static void log_delivery(const char *url, const char *type, const char *res, const char *status, long http)
{
    cJSON *ss = cJSON_GetObjectItem(SIM->st, "shipstation");
    if (!ss)
        return;
    cJSON *e = cJSON_CreateObject();
    char t[40];
    fmt_rfc3339(sim_now(), t);
    jset_str(e, "url", url);
    jset_str(e, "resource_type", type);
    jset_str(e, "resource_url", res);
    jset_str(e, "status", status);
    if (http >= 0)
        jset_num(e, "http_status", (double)http);
    jset_str(e, "time", t);
    cJSON_AddItemToArray(jarr(ss, "webhook_deliveries"), e);
}

static delivery *pop_due(double *wait)
{
    delivery **best = NULL;
    for (delivery **p = &QUEUE; *p; p = &(*p)->next)
        if (!best || (*p)->due < (*best)->due)
            best = p;
    if (!best)
        return NULL;
    double now = real_now();
    if ((*best)->due > now) {
        *wait = (*best)->due - now;
        return NULL;
    }
    delivery *d = *best;
    *best = d->next;
    return d;
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&QMU);
    while (!STOP) {
        double wait = 1.0;
        delivery *d = pop_due(&wait);
        if (!d) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            double w = wait > 1.0 ? 1.0 : wait;
            ts.tv_sec += (time_t)w;
            ts.tv_nsec += (long)((w - (double)(time_t)w) * 1e9);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&QCV, &QMU, &ts);
            continue;
        }
        pthread_mutex_unlock(&QMU);
        long http = post(d);
        pthread_mutex_lock(&SIM->mu);
        log_delivery(d->url, d->resource_type, d->resource_url, http >= 200 && http < 300 ? "delivered" : "failed",
                     http);
        pthread_mutex_unlock(&SIM->mu);
        free_delivery(d);
        pthread_mutex_lock(&QMU);
    }
    pthread_mutex_unlock(&QMU);
    return NULL;
}

int webhook_start(void)
{
    STOP = 0;
    if (pthread_create(&WORKER, NULL, worker, NULL) != 0)
        return -1;
    RUNNING = 1;
    return 0;
}

void webhook_stop(void)
{
    if (!RUNNING)
        return;
    pthread_mutex_lock(&QMU);
    STOP = 1;
    pthread_cond_broadcast(&QCV);
    pthread_mutex_unlock(&QMU);
    pthread_join(WORKER, NULL);
    RUNNING = 0;
    while (QUEUE) {
        delivery *d = QUEUE;
        QUEUE = d->next;
        free_delivery(d);
    }
}

static void enqueue(const char *url, const char *body, const cJSON *headers, const char *type, const char *res,
                    double delay_s, int sign)
{
    delivery *d = calloc(1, sizeof *d);
    if (!d)
        return;
    d->sign = sign;
    d->url = xstrdup(url);
    d->body = xstrdup(body);
    d->headers = headers ? cJSON_PrintUnformatted(headers) : NULL;
    d->due = real_now() + delay_s;
    snprintf(d->resource_type, sizeof d->resource_type, "%s", type);
    snprintf(d->resource_url, sizeof d->resource_url, "%s", res);
    pthread_mutex_lock(&QMU);
    d->next = QUEUE;
    QUEUE = d;
    pthread_cond_signal(&QCV);
    pthread_mutex_unlock(&QMU);
}

/* does a V2 subscription's event name cover the fired event? */
static int v2_covers(const char *sub, const char *ev)
{
    if (strcasecmp(sub, ev) == 0)
        return 1;
    return (strcasecmp(sub, "track") == 0 && strcmp(ev, "track_event_v2") == 0) ||
           (strcasecmp(sub, "batch") == 0 && strcmp(ev, "batch_processed_v2") == 0);
}

static void fire_one(const char *url, const cJSON *headers, const char *type, const char *res, const cJSON *data,
                     int sign)
{
    if (rng_unit(&SIM->wh_rng) < SIM->wh_loss_p) {
        log_delivery(url, type, res, "lost", -1);
        return;
    }
    cJSON *p = cJSON_CreateObject();
    jset_str(p, "resource_url", res);
    jset_str(p, "resource_type", type);
    if (data)
        jset(p, "data", cJSON_Duplicate(data, 1));
    char *body = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    double delay = (double)SIM->wh_delay_ms / 1000.0;
    enqueue(url, body, headers, type, res, delay, sign);
    if (rng_unit(&SIM->wh_rng) < SIM->wh_dup_p)
        enqueue(url, body, headers, type, res, delay + 0.05, sign);
    free(body);
}

void webhook_fire(const char *system, const char *event, const char *resource_path, cJSON *data)
{
    cJSON *ss = cJSON_GetObjectItem(SIM->st, "shipstation");
    char res[300], type[48];
    snprintf(res, sizeof res, "%s%s", SIM->base_url, resource_path);
    cJSON *w;
    if (strcmp(system, "v2") == 0) {
        size_t i = 0;
        for (; event[i] && i + 1 < sizeof type; i++)
            type[i] = (char)(event[i] >= 'a' && event[i] <= 'z' ? event[i] - 32 : event[i]);
        type[i] = 0;
        cJSON_ArrayForEach(w, cJSON_GetObjectItem(cJSON_GetObjectItem(ss, "v2"), "webhooks"))
            if (jstr(w, "event") && v2_covers(jstr(w, "event"), event))
                fire_one(jstr(w, "url"), cJSON_GetObjectItem(w, "headers"), type, res, data, 1);
    } else {
        snprintf(type, sizeof type, "%s", event);
        cJSON_ArrayForEach(w, cJSON_GetObjectItem(cJSON_GetObjectItem(ss, "v1"), "webhooks"))
            if (jstrs(w, "HookType") && strcmp(jstrs(w, "HookType"), event) == 0)
                fire_one(jstr(w, "Url"), NULL, type, res, data, 0);
    }
    cJSON_Delete(data);
}
