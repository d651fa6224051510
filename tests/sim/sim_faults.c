/*
 * sim_faults.c: fault injection rules (POST/DELETE /admin/faults): which request a
 * rule matches ("*", a counting label such as "POST /v2/shipments", a key such as
 * "M3 PPS001MI/Receipt" or "ION token", or a prefix ending in "*"), whether it fires
 * (the next N matches, or a probability drawn from a PRNG seeded by --fault-seed or the
 * rule set's "seed", so runs are reproducible) and the error answer of each system for
 * the 302/404/429/5xx/token_expiry kinds.
 *
 * A latency rule also says when the operation is applied: "commit":"after" (the default:
 * wait, then apply, so a client that gave up or died meanwhile still finds it applied
 * later) or "before" (apply at once, answer late). With "after" and ms beyond the
 * client's timeout, this is an M3 call that keeps executing after its client (or the
 * ION gateway, 504 at its 60 s) has given up on it.
 *
 * Each rule counts the requests it faulted ("fired" in GET /admin/state), so a test
 * can tell its faults really hit the calls it meant to slow or break.
 *
 * Not here: sleeping, dropping and commit-then-drop (sim_http.c carries them out).
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int next_given[32];

static const char *const KINDS[] = {"latency",      "302",         "404",          "429",        "500",
                                    "502",          "503",         "504",          "reset",      "timeout",
                                    "token_expiry", "commit_drop", "commit_reset", "m3_partial", NULL};

static int kind_ok(const char *k)
{
    for (int i = 0; KINDS[i]; i++)
        if (strcmp(KINDS[i], k) == 0)
            return 1;
    return 0;
}

int faults_set(cJSON *req, char *err, size_t errlen)
{
    cJSON *rules = cJSON_GetObjectItem(req, "rules"), *r;
    if (!cJSON_IsArray(rules) || cJSON_GetArraySize(rules) > 32) {
        snprintf(err, errlen, "\"rules\" must be an array of at most 32 rules");
        return -1;
    }
    sim_fault_rule tmp[32];
    int given[32], n = 0;
    cJSON_ArrayForEach(r, rules) {
        const char *m = jstr(r, "match"), *k = NULL;
        char kbuf[16];
        cJSON *kv = cJSON_GetObjectItem(r, "kind");
        if (cJSON_IsNumber(kv)) {
            snprintf(kbuf, sizeof kbuf, "%d", kv->valueint);
            k = kbuf;
        } else
            k = jstr(r, "kind");
        if (!m || !k || !kind_ok(k)) {
            snprintf(err, errlen, "rule %d: needs \"match\" and a known \"kind\"", n);
            return -1;
        }
        memset(&tmp[n], 0, sizeof tmp[n]);
        snprintf(tmp[n].match, sizeof tmp[n].match, "%s", m);
        snprintf(tmp[n].kind, sizeof tmp[n].kind, "%s", k);
        tmp[n].probability = jnum(r, "probability", 0);
        tmp[n].next = (int)jnum(r, "next", 0);
        tmp[n].ms = (long)jnum(r, "ms", 0);
        given[n] = cJSON_GetObjectItem(r, "next") != NULL;
        const char *commit = jstr(r, "commit");
        if (commit && strcmp(k, "latency") != 0) {
            snprintf(err, errlen, "rule %d: \"commit\" goes with kind latency", n);
            return -1;
        }
        if (commit && strcmp(commit, "before") != 0 && strcmp(commit, "after") != 0) {
            snprintf(err, errlen, "rule %d: \"commit\" must be \"before\" or \"after\"", n);
            return -1;
        }
        tmp[n].commit_first = commit && strcmp(commit, "before") == 0;
        if (!given[n] && tmp[n].probability <= 0) {
            snprintf(err, errlen, "rule %d: needs \"probability\" > 0 or \"next\"", n);
            return -1;
        }
        n++;
    }
    memcpy(SIM->rules, tmp, sizeof tmp[0] * (size_t)n);
    memcpy(next_given, given, sizeof given[0] * (size_t)n);
    SIM->nrules = n;
    if (cJSON_IsNumber(cJSON_GetObjectItem(req, "seed")))
        SIM->fault_rng = (uint64_t)jnum(req, "seed", 1);
    if (cJSON_IsNumber(cJSON_GetObjectItem(req, "timeout_ms")))
        SIM->timeout_ms = (long)jnum(req, "timeout_ms", 90000);
    return 0;
}

void faults_clear(void) { SIM->nrules = 0; }

cJSON *faults_dump(void)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < SIM->nrules; i++) {
        cJSON *r = cJSON_CreateObject();
        jset_str(r, "match", SIM->rules[i].match);
        jset_str(r, "kind", SIM->rules[i].kind);
        jset_num(r, "probability", SIM->rules[i].probability);
        if (next_given[i])
            jset_num(r, "next", SIM->rules[i].next);
        jset_num(r, "ms", (double)SIM->rules[i].ms);
        if (strcmp(SIM->rules[i].kind, "latency") == 0)
            jset_str(r, "commit", SIM->rules[i].commit_first ? "before" : "after");
        jset_num(r, "fired", (double)SIM->rules[i].fired);
        cJSON_AddItemToArray(a, r);
    }
    return a;
}

static int one_match(const char *pat, const char *s)
{
    size_t n = strlen(pat);
    if (n && pat[n - 1] == '*')
        return strncmp(pat, s, n - 1) == 0;
    return strcmp(pat, s) == 0;
}

static int matches(const sim_fault_rule *r, const sim_req *rq)
{
    if (one_match(r->match, rq->label))
        return 1;
    for (int i = 0; i < rq->nkeys; i++)
        if (one_match(r->match, rq->keys[i]))
            return 1;
    return 0;
}

int faults_pick(sim_req *rq, sim_fault *f)
{
    for (int i = 0; i < SIM->nrules; i++) {
        sim_fault_rule *r = &SIM->rules[i];
        if (!matches(r, rq))
            continue;
        /* next alone: the next N matches; probability alone: every match with p;
         * both: each of the next N matches with p */
        if (next_given[i] && r->next <= 0)
            continue;
        if (next_given[i])
            r->next--;
        int fire = r->probability > 0 ? rng_unit(&SIM->fault_rng) < r->probability : 1;
        if (fire) {
            r->fired++;
            snprintf(f->kind, sizeof f->kind, "%s", r->kind);
            f->ms = r->ms;
            f->commit_first = r->commit_first;
            return 1;
        }
    }
    return 0;
}

static long retry_after(void)
{
    long s = (long)ceil(60.0 / SIM->time_scale);
    return s < 1 ? 1 : s;
}

static void answer_v2(sim_resp *rs, int status, const char *kind)
{
    if (status == 429) {
        v2_error(rs, 429, "system", "rate_limit_exceeded", "You have exceeded the rate limit.");
        resp_header(rs, "Retry-After", "%ld", retry_after());
    } else if (strcmp(kind, "token_expiry") == 0)
        v2_error(rs, 401, "security", "unauthorized", "The request was not authorized.");
    else
        v2_error(rs, status, "system", "unspecified", "An unexpected error occurred (injected fault).");
    if (status / 100 == 3) /* a redirect somewhere else: a client must not follow it */
        resp_header(rs, "Location", "%s", "http://127.0.0.1:9/elsewhere");
}

static void answer_v1(sim_resp *rs, int status, const char *kind)
{
    if (status == 429) {
        v1_error(rs, 429, "Too Many Requests");
        resp_header(rs, "X-Rate-Limit-Limit", "40");
        resp_header(rs, "X-Rate-Limit-Remaining", "0");
        resp_header(rs, "X-Rate-Limit-Reset", "%ld", retry_after());
    } else if (strcmp(kind, "token_expiry") == 0)
        v1_error(rs, 401, "Unauthorized");
    else {
        cJSON *j = cJSON_CreateObject();
        jset_str(j, "Message", "An error has occurred.");
        jset_str(j, "ExceptionMessage", "Injected fault.");
        resp_json(rs, status, j);
    }
}

void fault_answer(sim_req *rq, sim_resp *rs, const char *kind)
{
    int status = strcmp(kind, "token_expiry") == 0 ? 401 : atoi(kind);
    if (rq->system == '2') {
        answer_v2(rs, status, kind);
        return;
    }
    if (rq->system == '1') {
        answer_v1(rs, status, kind);
        return;
    }
    if (status == 401) {
        cJSON *j = cJSON_CreateObject();
        jset_str(j, "error", "invalid_token");
        jset_str(j, "error_description", "Bearer token is expired");
        resp_json(rs, 401, j);
        resp_header(rs, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return;
    }
    char body[96];
    snprintf(body, sizeof body, "<html><body><h1>%d</h1>Injected fault</body></html>\n", status);
    resp_text(rs, status, "text/html", body);
    if (status == 429)
        resp_header(rs, "Retry-After", "%ld", retry_after());
}
