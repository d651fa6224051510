/*
 * sim.h: the shared declarations of mlc-sim, the local stand-in for Infor ION/M3 and
 * ShipStation V1/V2 that mlc's tests, benchmarks and sandbox run against.
 *
 * One global `sim` holds the configuration, the virtual clock and the state (a cJSON
 * tree in the seed format, see mlc-sim(1)), guarded by one mutex. Every handler runs
 * with that mutex held (the dispatcher takes it); nothing sleeps or does network I/O
 * under it.
 *
 * Not here: anything from mlc's client modules (lib/m3, lib/shipstation, lib/ionapi,
 * lib/map). The sim must understand the public APIs on its own.
 */
#ifndef MLC_SIM_H
#define MLC_SIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr, asprintf, timegm; the Makefile also passes it */
#endif

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_BODY (10u * 1024u * 1024u)
#define SIM_MAX_ADMIN_BODY (1024u * 1024u * 1024u) /* seeds for benchmarks are big */
#define SIM_TENANT "SIMTENANT_TST"

/* ---- one request and its answer ---- */
struct sim_resp;
typedef struct sim_req {
    struct MHD_Connection *conn;
    char method[16];
    char *path;        /* URL path, percent-decoded by MHD, matrix params included */
    char *body;        /* NUL-terminated, may be NULL */
    size_t body_len;
    int too_big;
    size_t max_body;
    char label[160];   /* counting label, e.g. "GET /v2/shipments/{id}" */
    char keys[8][96];  /* fault-match keys besides label, e.g. "M3 PPS001MI/Receipt" */
    int nkeys;
    int (*handler)(struct sim_req *, struct sim_resp *);
    char system;       /* 'I' ION, 'M' M3, '2' V2, '1' V1, 'A' admin, '?' none */
    char fault[16];    /* a fault the handler carries out itself (m3_partial) */
} sim_req;

typedef struct sim_resp {
    int status;
    char *body; /* malloc'd, may be NULL */
    const char *ctype;
    char hname[8][40];
    char hval[8][160];
    int nhdr;
    int drop; /* close the connection without an answer */
} sim_resp;

typedef int (*sim_handler)(sim_req *, sim_resp *);

/* ---- the simulator ---- */
typedef struct sim_fault_rule {
    char match[96];
    char kind[16];
    double probability;
    int next;  /* >0: fault the next N matching requests */
    long ms;
    int commit_first;  /* latency: 1 = apply the operation, then wait; 0 = wait, then apply */
    long fired;        /* requests this rule faulted (GET /admin/state "faults") */
} sim_fault_rule;

typedef struct sim {
    pthread_mutex_t mu;
    cJSON *st;       /* state in seed format (+ counters) */
    cJSON *tokens;   /* ION grants, not dumped */
    cJSON *counts;   /* "LABEL STATUS": n */
    long logins, refreshes, n429;
    /* configuration */
    char dir[1024];
    char base_url[64];
    int port;
    double time_scale;
    long token_lifetime;
    long refresh_lifetime;
    char ci[96], cs[96], saak[96], sask[96], v2key[64], v1key[64], v1secret[64];
    /* --second-client: a second authorized app (its own service account), written
     * to second.ionapi; an IMS connection point may be tied to either (client_id) */
    int second_client;
    char ci2[96], cs2[96], saak2[96], sask2[96];
    /* virtual clock: virt = virt_base + (real - real_base) * time_scale */
    double virt_base, real_base;
    /* faults */
    sim_fault_rule rules[32];
    int nrules;
    uint64_t fault_rng;
    long timeout_ms;
    /* per-minute limits (POST /admin/limits); 0 = no limit */
    int lim_v2, lim_v1, lim_logins;
    /* webhooks */
    long wh_delay_ms;
    double wh_dup_p, wh_loss_p;
    uint64_t wh_rng;
    /* ids and misc */
    uint64_t misc_rng;
    int log_requests;
    volatile int stopping;
} sim_t;

extern sim_t *SIM;

/* sim_util.c */
const char *jstr(const cJSON *o, const char *k);
const char *jstrs(const cJSON *o, const char *k); /* "" instead of NULL */
double jnum(const cJSON *o, const char *k, double def);
int jbool(const cJSON *o, const char *k, int def);
cJSON *jarr(cJSON *o, const char *k);   /* array member, created if missing */
cJSON *jobj(cJSON *o, const char *k);   /* object member, created if missing */
void jset_str(cJSON *o, const char *k, const char *v);
void jset_num(cJSON *o, const char *k, double v);
void jset_num_front(cJSON *o, const char *k, double v);
void jset_bool(cJSON *o, const char *k, int v);
void jset(cJSON *o, const char *k, cJSON *v); /* replaces */
cJSON *jclean_copy(const cJSON *o);          /* deep copy without "_"-keys */
uint64_t rng_next(uint64_t *s);
double rng_unit(uint64_t *s);
long next_id(const char *counter);           /* state id counters */
long fresh_id(const char *counter, long base, cJSON *arr, const char *key);
void fresh_se_id(char *out, size_t n, const char *counter, long base, cJSON *arr, const char *key);
void make_uuid(char out[37]);
void resp_json(sim_resp *rs, int status, cJSON *j); /* takes j */
void resp_text(sim_resp *rs, int status, const char *ctype, const char *text);
void resp_header(sim_resp *rs, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *req_header(sim_req *rq, const char *name);
const char *req_arg(sim_req *rq, const char *name);
int req_basic_auth(sim_req *rq, char *user, size_t ulen, char *pass, size_t plen);
int form_get(const char *body, const char *key, char *out, size_t outlen);
int str_ieq(const char *a, const char *b);
int str_has_prefix(const char *s, const char *p);
char *xstrdup(const char *s);
typedef struct { char *s; size_t n, cap; } sbuf;
void sb_add(sbuf *b, const char *s);
void sb_addn(sbuf *b, const char *s, size_t n);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void count_add(const char *label, const char *status);

/* sim_time.c */
double real_now(void);
double sim_now(void);                          /* virtual epoch seconds */
void fmt_rfc3339(double t, char out[40]);      /* 2026-11-20T14:00:00.000Z */
int parse_rfc3339(const char *s, double *t);
void fmt_m3date(double t, char out[12]);       /* yyyyMMdd (UTC) */
int parse_m3date(const char *s, long *ymd);
void fmt_pacific(double t, char out[40]);      /* naive PST/PDT, 7 fractional digits */
int parse_pacific(const char *s, double *t);
void clock_set(double virt);

/* sim_contract.c: the V2 OpenAPI file, enforced (--contract FILE) */
int contract_load(const char *path, char *err, size_t errlen);
void contract_free(void);
int contract_loaded(void);
long contract_violations(void); /* answers of the sim that broke the contract */
/* 1: go on; 0: refused, rs holds ShipStation's 400 naming the field */
int contract_check_request(sim_req *rq, sim_resp *rs);
void contract_check_response(sim_req *rq, const sim_resp *rs);

/* sim_record.c (--record FILE) */
int record_open(const char *path);
void record_close(void);
void record_exchange(sim_req *rq, const sim_resp *rs, const char *status_word);

/* sim_http.c */
int sim_http_start(struct MHD_Daemon **d, const char *host, int port, int *bound_port);

/* sim_state.c */
int state_load(cJSON *seed, char *err, size_t errlen); /* takes seed */
cJSON *state_dump(void);
cJSON *state_meta(void); /* clock, counters, faults */
void state_index_reset(void); /* also on exit */
/* indexed lookups in big arrays (see sim_state.c for the rules); NULL = absent */
cJSON *state_lookup(cJSON *arr, const char *field, const char *key);
cJSON *state_lookup_num(cJSON *arr, const char *field, double v);
void state_index_forget(cJSON *arr); /* after deleting an element or changing a key */
void jreplace_inplace(cJSON *dst, cJSON *src); /* dst takes src's members; src is freed */
cJSON *m3_find_po(const char *puno);
cJSON *m3_find_line(cJSON *po, long pnli, long pnls);
cJSON *m3_find_item(const char *itno);
cJSON *m3_find_whs(const char *whlo);
void m3_head_status(cJSON *po);  /* recompute head PUSL/PUST from lines */

/* routers: return a handler and fill label/keys; NULL = not this system */
sim_handler route_ion(sim_req *rq);
sim_handler route_m3(sim_req *rq);
sim_handler route_v2(sim_req *rq);
sim_handler route_v1(sim_req *rq);
sim_handler route_admin(sim_req *rq);
sim_handler route_ims(sim_req *rq);

/* sim_ims.c: IMS v3 and the M3 BOD processor */
void ims_tick(void); /* applies queued documents whose time has come (mutex held) */
int ims_admin(cJSON *req, cJSON *out, char *err, size_t errlen);

/* sim_ion.c */
int ion_bearer_ok(sim_req *rq, sim_resp *rs); /* 0 = answered 401 */
const char *ion_bearer_client(sim_req *rq);   /* the client id a valid bearer token was issued to, or NULL */
void ion_expire_once(void);

/* sim_m3.c */
extern const char *const sim_catalogue_json;
int m3_catalogue_init(void);
void m3_catalogue_free(void);

/* sim_v2.c / sim_v1.c */
void v2_error(sim_resp *rs, int status, const char *type, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void v1_error(sim_resp *rs, int status, const char *msg);
void v1_modelstate(sim_resp *rs, const char *key, const char *msg);
int ratelimit_take(const char *key, int limit, int *remaining, int *reset_s);
long ratelimit_sliding_over(void);   /* counters.rate_sliding_over */
void ratelimit_reset_counters(void);

/* sim_v2.c helpers for sim_ship.c */
cJSON *v2_shipment_new(const cJSON *in);
void v2_label_void(cJSON *l);

/* sim_ship.c */
int ship_admin(cJSON *req, cJSON *out, char *err, size_t errlen);
int void_admin(cJSON *req, cJSON *out, char *err, size_t errlen);
int deliver_admin(cJSON *req, cJSON *out, char *err, size_t errlen);
int cancel_admin(cJSON *req, cJSON *out, char *err, size_t errlen); /* sim_v1_fulfill.c */

/* sim_webhook.c */
int webhook_start(void);
void webhook_stop(void);
/* resource_path starts with '/', the sim's URL is prefixed; data (may be NULL) is taken */
void webhook_fire(const char *system, const char *event, const char *resource_path, cJSON *data);

/* sim_sign.c: V2 webhook signatures */
const char *sign_jwks(void);
int sign_webhook(const char *body, char *kid, size_t kl, char *ts, size_t tl, char **sig);
void sign_free(void);

/* sim_faults.c */
typedef struct { char kind[16]; long ms; int commit_first; } sim_fault;
int faults_pick(sim_req *rq, sim_fault *f); /* 1 = a fault fires */
int faults_set(cJSON *req, char *err, size_t errlen);
void faults_clear(void);
cJSON *faults_dump(void);
void fault_answer(sim_req *rq, sim_resp *rs, const char *kind);

/* sim_seed.c */
cJSON *seed_generate(int npos);

/* sim_files.c */
int files_write(void);
/* Appends an issued ION token to DIR/sim.tokens (for the tests' secret scan). */
void files_note_token(const char *value);

/* sim_replay.c: --replay FILE.har */
int replay_load(const char *path);
int replay_active(void);
/* 1 = answered from the HAR (or 404: none left); 0 = left to the sim's handler. */
int replay_answer(sim_req *rq, sim_resp *rs);

#endif
