/*
 * sim_main.c: mlc-sim's entry point: options, the loopback-only listen address, the
 * seed, credentials, the files written into --dir, the ready line and a clean shutdown
 * on SIGTERM/SIGINT.
 *
 * Not here: request handling (sim_http.c and the per-system files), the seed generator
 * (sim_seed.c), the files' contents (sim_files.c).
 */
#include "sim.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>

sim_t *SIM;

static void usage(FILE *f)
{
    fprintf(f, "usage: mlc-sim --listen 127.0.0.1:PORT --dir DIR [--seed FILE] [--time-scale N]\n"
               "               [--token-lifetime SECONDS] [--fault-seed N] [--log-requests]\n"
               "               [--record FILE] [--contract FILE|none] [--second-client]\n"
               "               [--replay FILE.har]\n"
               "       mlc-sim --gen-seed N\n"
               "See mlc-sim(1).\n");
}

static void random_token(char *out, size_t len, const char *prefix)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char raw[48];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(raw, 1, sizeof raw, f) != sizeof raw) {
        for (size_t i = 0; i < sizeof raw; i++)
            raw[i] = (unsigned char)rng_next(&SIM->misc_rng);
    }
    if (f)
        fclose(f);
    size_t p = (size_t)snprintf(out, len, "%s", prefix);
    for (size_t i = 0; p + 1 < len && i < 32; i++, p++)
        out[p] = al[raw[i] % (sizeof al - 1)];
    out[p < len ? p : len - 1] = 0;
}

static int parse_listen(const char *s, char *host, size_t hlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= hlen)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    if (strncmp(host, "127.", 4) != 0)
        return -2;
    return 0;
}

static cJSON *read_json_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    sbuf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sb_addn(&b, tmp, n);
    fclose(f);
    cJSON *j = b.s ? cJSON_Parse(b.s) : NULL;
    free(b.s);
    return j;
}

static int gen_seed(const char *arg)
{
    long n = strtol(arg, NULL, 10);
    if (n < 1 || n > 10000000) {
        fprintf(stderr, "mlc-sim: --gen-seed wants a number of POs (1..10000000)\n");
        return 64;
    }
    sim_t s = {0};
    SIM = &s;
    s.misc_rng = 1;
    cJSON *seed = seed_generate((int)n);
    char *txt = cJSON_Print(seed);
    fputs(txt, stdout);
    fputc('\n', stdout);
    free(txt);
    cJSON_Delete(seed);
    return fflush(stdout) == 0 ? 0 : 74;
}

typedef struct opts {
    const char *listen, *dir, *seed, *record, *contract, *replay;
    double scale;
    long lifetime;
    unsigned long long fault_seed;
    int log_requests, second_client;
} opts;

static int parse_opts(int argc, char **argv, opts *o)
{
    o->scale = 1;
    o->lifetime = 7200;
    o->fault_seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--gen-seed") == 0 && v)
            exit(gen_seed(v));
        if (strcmp(a, "--log-requests") == 0) {
            o->log_requests = 1;
            continue;
        }
        if (strcmp(a, "--second-client") == 0) {
            o->second_client = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "mlc-sim: %s: missing value or unknown option\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--listen") == 0)
            o->listen = v;
        else if (strcmp(a, "--dir") == 0)
            o->dir = v;
        else if (strcmp(a, "--seed") == 0)
            o->seed = v;
        else if (strcmp(a, "--replay") == 0)
            o->replay = v;
        else if (strcmp(a, "--time-scale") == 0)
            o->scale = strtod(v, NULL);
        else if (strcmp(a, "--token-lifetime") == 0)
            o->lifetime = strtol(v, NULL, 10);
        else if (strcmp(a, "--fault-seed") == 0)
            o->fault_seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--record") == 0)
            o->record = v;
        else if (strcmp(a, "--contract") == 0)
            o->contract = v;
        else {
            fprintf(stderr, "mlc-sim: unknown option %s\n", a);
            return -1;
        }
    }
    if (!o->listen || !o->dir || o->scale <= 0 || o->lifetime <= 0) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static int init_state(const opts *o)
{
    cJSON *seed = o->seed ? read_json_file(o->seed) : seed_generate(50);
    if (!seed) {
        fprintf(stderr, "mlc-sim: %s: cannot read or parse the seed\n", o->seed);
        return -1;
    }
    char err[256];
    if (state_load(seed, err, sizeof err) != 0) {
        fprintf(stderr, "mlc-sim: seed: %s\n", err);
        return -1;
    }
    return 0;
}

static void init_sim(sim_t *s, const opts *o)
{
    memset(s, 0, sizeof *s);
    SIM = s;
    pthread_mutex_init(&s->mu, NULL);
    s->time_scale = o->scale;
    s->log_requests = o->log_requests;
    s->lim_v2 = 200;
    s->lim_v1 = 40;
    s->token_lifetime = o->lifetime;
    s->refresh_lifetime = o->lifetime * 12 > 86400 ? o->lifetime * 12 : 86400;
    s->fault_rng = o->fault_seed;
    s->wh_rng = o->fault_seed ^ 0x5bd1e995ULL;
    s->misc_rng = o->fault_seed * 7919 + 17;
    s->timeout_ms = (long)(90000.0 / o->scale);
    if (s->timeout_ms < 1)
        s->timeout_ms = 1;
    s->tokens = cJSON_CreateArray();
    s->counts = cJSON_CreateObject();
    snprintf(s->dir, sizeof s->dir, "%s", o->dir);
    snprintf(s->ci, sizeof s->ci, "%s~", SIM_TENANT);
    random_token(s->ci + strlen(s->ci), sizeof s->ci - strlen(s->ci), "");
    random_token(s->cs, sizeof s->cs, "");
    snprintf(s->saak, sizeof s->saak, "%s#", SIM_TENANT);
    random_token(s->saak + strlen(s->saak), sizeof s->saak - strlen(s->saak), "");
    random_token(s->sask, sizeof s->sask, "");
    s->second_client = o->second_client;
    if (s->second_client) {
        snprintf(s->ci2, sizeof s->ci2, "%s~ims-", SIM_TENANT);
        random_token(s->ci2 + strlen(s->ci2), sizeof s->ci2 - strlen(s->ci2), "");
        random_token(s->cs2, sizeof s->cs2, "");
        snprintf(s->saak2, sizeof s->saak2, "%s#", SIM_TENANT);
        random_token(s->saak2 + strlen(s->saak2), sizeof s->saak2 - strlen(s->saak2), "");
        random_token(s->sask2, sizeof s->sask2, "");
    }
    random_token(s->v2key, sizeof s->v2key, "");
    random_token(s->v1key, sizeof s->v1key, "");
    random_token(s->v1secret, sizeof s->v1secret, "");
}

static void free_sim(sim_t *s)
{
    state_index_reset();
    cJSON_Delete(s->st);
    cJSON_Delete(s->tokens);
    cJSON_Delete(s->counts);
    m3_catalogue_free();
    sign_free();
    pthread_mutex_destroy(&s->mu);
}

int main(int argc, char **argv)
{
    opts o = {0};
    if (parse_opts(argc, argv, &o) != 0)
        return 64;
    char host[64];
    int port;
    int pr = parse_listen(o.listen, host, sizeof host, &port);
    if (pr != 0) {
        fprintf(stderr, "mlc-sim: --listen %s: %s\n", o.listen,
                pr == -2 ? "refusing a non-loopback address" : "expected HOST:PORT");
        return 64;
    }
    if (mkdir(o.dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "mlc-sim: %s: %s\n", o.dir, strerror(errno));
        return 74;
    }
    if (o.record && record_open(o.record) != 0) {
        fprintf(stderr, "mlc-sim: --record %s: %s\n", o.record, strerror(errno));
        return 73;
    }
#ifndef SIM_CONTRACT_FILE
#define SIM_CONTRACT_FILE "tests/contracts/shipstation-v2-openapi.yaml"
#endif
    char cerr[512];
    const char *contract = o.contract ? o.contract : SIM_CONTRACT_FILE;
    if (strcmp(contract, "none") != 0 && contract_load(contract, cerr, sizeof cerr) != 0) {
        if (o.contract) {
            fprintf(stderr, "mlc-sim: --contract %s\n", cerr);
            return 66;
        }
        fprintf(stderr, "mlc-sim: %s: V2 requests are NOT checked against the contract (give --contract FILE)\n",
                cerr);
    }
    static sim_t sim;
    init_sim(&sim, &o);
    if (m3_catalogue_init() != 0 || init_state(&o) != 0 || (o.replay && replay_load(o.replay) != 0)) {
        free_sim(&sim);
        return 65;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct MHD_Daemon *d = NULL;
    int rc = 0;
    if (webhook_start() != 0 || sim_http_start(&d, host, port, &sim.port) != 0) {
        fprintf(stderr, "mlc-sim: cannot listen on %s\n", o.listen);
        rc = 69;
    } else {
        snprintf(sim.base_url, sizeof sim.base_url, "http://%s:%d", host, sim.port);
        if (files_write() != 0) {
            rc = 74;
        } else {
            printf("mlc-sim ready url=%s dir=%s\n", sim.base_url, sim.dir);
            fflush(stdout);
            int sig;
            sigwait(&set, &sig);
        }
    }
    sim.stopping = 1;
    if (d)
        MHD_stop_daemon(d);
    webhook_stop();
    curl_global_cleanup();
    free_sim(&sim);
    record_close();
    contract_free();
    return rc;
}
