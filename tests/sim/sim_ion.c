/*
 * sim_ion.c: the ION API gateway's OAuth 2.0 authorization server for one tenant:
 * POST /{ti}/as/token.oauth2 (password grant with the service-account keys, refresh
 * grant; client credentials in the form body or HTTP Basic) and
 * POST /{ti}/as/revoke_token.oauth2 (Basic ci:cs), with RFC 6749 error bodies, plus
 * the bearer check every M3 path uses. Token lifetimes are virtual seconds.
 * With --second-client a second authorized app (ci2/cs2, its own service account
 * saak2/sask2) gets tokens too; each grant remembers its client id (the IMS
 * connection point checks it: sim_ims.c).
 *
 * Not here: M3 itself (sim_m3.c); the tokens are JWT-shaped but not verifiable.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

static void b64url(const char *in, char *out, size_t outlen)
{
    unsigned char tmp[1024];
    size_t n = strlen(in);
    if (n > 700)
        n = 700;
    int len = EVP_EncodeBlock(tmp, (const unsigned char *)in, (int)n);
    size_t o = 0;
    for (int i = 0; i < len && o + 1 < outlen; i++) {
        char c = (char)tmp[i];
        if (c == '=')
            break;
        out[o++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[o] = 0;
}

static void make_jwt(char *out, size_t outlen, double exp, const char *ci, const char *saak)
{
    char payload[512], h64[128], p64[800], sig[48], jti[37];
    make_uuid(jti);
    snprintf(payload, sizeof payload,
             "{\"scope\":\"null\",\"client_id\":\"%s\",\"jti\":\"%s\",\"ServiceAccount\":\"%s\","
             "\"Identity2\":\"sim-%s\",\"Tenant\":\"%s\",\"EnforceScopesForClient\":\"0\",\"exp\":%.0f}",
             ci, jti, saak, jti, SIM_TENANT, exp);
    b64url("{\"alg\":\"RS256\",\"kid\":\"SimAccessTokenSigningCertificate-1\"}", h64, sizeof h64);
    b64url(payload, p64, sizeof p64);
    char raw[40];
    snprintf(raw, sizeof raw, "%016llx%016llx", (unsigned long long)rng_next(&SIM->misc_rng),
             (unsigned long long)rng_next(&SIM->misc_rng));
    b64url(raw, sig, sizeof sig);
    snprintf(out, outlen, "%s.%s.%s", h64, p64, sig);
}

static void oauth_error(sim_resp *rs, int status, const char *err, const char *desc)
{
    cJSON *j = cJSON_CreateObject();
    jset_str(j, "error", err);
    jset_str(j, "error_description", desc);
    resp_json(rs, status, j);
    resp_header(rs, "Cache-Control", "no-store");
    if (status == 401)
        resp_header(rs, "WWW-Authenticate", "Basic realm=\"%s\"", SIM_TENANT);
}

/* client authentication: 1 ok (*second: the second client), 0 answered */
static int client_ok(sim_req *rq, sim_resp *rs, int basic_only, int *second)
{
    char id[128] = "", secret[128] = "";
    int have = req_basic_auth(rq, id, sizeof id, secret, sizeof secret);
    if (!have && !basic_only)
        have = form_get(rq->body, "client_id", id, sizeof id) &&
               form_get(rq->body, "client_secret", secret, sizeof secret);
    if (!have) {
        oauth_error(rs, 401, "invalid_client", "Client authentication is required");
        return 0;
    }
    *second = SIM->second_client && strcmp(id, SIM->ci2) == 0 && strcmp(secret, SIM->cs2) == 0;
    if (!*second && (strcmp(id, SIM->ci) != 0 || strcmp(secret, SIM->cs) != 0)) {
        oauth_error(rs, 401, "invalid_client", "Invalid client or client credentials");
        return 0;
    }
    return 1;
}

static void prune_grants(double now)
{
    cJSON *g = SIM->tokens->child;
    while (g) {
        cJSON *next = g->next;
        if (jnum(g, "rexp", 0) < now && jnum(g, "exp", 0) < now)
            cJSON_Delete(cJSON_DetachItemViaPointer(SIM->tokens, g));
        g = next;
    }
}

static void issue(sim_resp *rs, cJSON *grant)
{
    double now = sim_now();
    char at[1200];
    int second = jbool(grant, "second", 0);
    make_jwt(at, sizeof at, now + (double)SIM->token_lifetime, second ? SIM->ci2 : SIM->ci,
             second ? SIM->saak2 : SIM->saak);
    jset_str(grant, "access", at);
    jset_num(grant, "exp", now + (double)SIM->token_lifetime);
    cJSON *j = cJSON_CreateObject();
    jset_str(j, "access_token", at);
    jset_str(j, "token_type", "Bearer");
    jset_num(j, "expires_in", (double)SIM->token_lifetime);
    jset_str(j, "refresh_token", jstr(grant, "refresh"));
    files_note_token(at);
    files_note_token(jstr(grant, "refresh"));
    resp_json(rs, 200, j);
    resp_header(rs, "Cache-Control", "no-store");
}

static int h_token(sim_req *rq, sim_resp *rs)
{
    char gt[64] = "", user[128] = "", pass[128] = "", rt[128] = "";
    if (strcmp(rq->method, "POST") != 0) {
        oauth_error(rs, 405, "invalid_request", "Only POST is supported");
        return 0;
    }
    int second = 0;
    if (!client_ok(rq, rs, 0, &second))
        return 0;
    if (!form_get(rq->body, "grant_type", gt, sizeof gt)) {
        oauth_error(rs, 400, "invalid_request", "Missing grant_type parameter");
        return 0;
    }
    double now = sim_now();
    prune_grants(now);
    if (strcmp(gt, "password") == 0) {
        form_get(rq->body, "username", user, sizeof user);
        form_get(rq->body, "password", pass, sizeof pass);
        if (strcmp(user, second ? SIM->saak2 : SIM->saak) != 0 || strcmp(pass, second ? SIM->sask2 : SIM->sask) != 0) {
            oauth_error(rs, 400, "invalid_grant", "Invalid resource owner credentials");
            return 0;
        }
        int rem, reset;
        if (SIM->lim_logins > 0 && !ratelimit_take("ion-login", SIM->lim_logins, &rem, &reset)) {
            oauth_error(rs, 429, "too_many_requests", "Service account authentication quota exceeded");
            resp_header(rs, "Retry-After", "%d", reset);
            return 0;
        }
        SIM->logins++;
        cJSON *g = cJSON_CreateObject();
        char r[80];
        snprintf(r, sizeof r, "%016llx%016llx", (unsigned long long)rng_next(&SIM->misc_rng),
                 (unsigned long long)rng_next(&SIM->misc_rng));
        jset_str(g, "refresh", r);
        jset_num(g, "rexp", now + (double)SIM->refresh_lifetime);
        jset_bool(g, "revoked", 0);
        if (second)
            jset_bool(g, "second", 1);
        cJSON_AddItemToArray(SIM->tokens, g);
        issue(rs, g);
        return 0;
    }
    if (strcmp(gt, "refresh_token") == 0) {
        form_get(rq->body, "refresh_token", rt, sizeof rt);
        cJSON *g;
        cJSON_ArrayForEach(g, SIM->tokens) {
            const char *r = jstr(g, "refresh");
            if (r && rt[0] && strcmp(r, rt) == 0)
                break;
        }
        if (!g || jbool(g, "revoked", 0) || jnum(g, "rexp", 0) <= now || jbool(g, "second", 0) != second) {
            oauth_error(rs, 400, "invalid_grant", "Refresh token is invalid, expired or revoked");
            return 0;
        }
        SIM->refreshes++;
        issue(rs, g);
        return 0;
    }
    oauth_error(rs, 400, "unsupported_grant_type", "Unsupported grant type");
    return 0;
}

static int h_revoke(sim_req *rq, sim_resp *rs)
{
    char tok[1200] = "", hint[40] = "";
    if (strcmp(rq->method, "POST") != 0) {
        oauth_error(rs, 405, "invalid_request", "Only POST is supported");
        return 0;
    }
    int second = 0;
    if (!client_ok(rq, rs, 1, &second))
        return 0;
    if (!form_get(rq->body, "token", tok, sizeof tok) || !tok[0]) {
        oauth_error(rs, 400, "invalid_request", "Missing token parameter");
        return 0;
    }
    form_get(rq->body, "token_type_hint", hint, sizeof hint);
    cJSON *g;
    cJSON_ArrayForEach(g, SIM->tokens) {
        const char *r = jstr(g, "refresh"), *a = jstr(g, "access");
        if (r && strcmp(r, tok) == 0) {
            jset_bool(g, "revoked", 1); /* the grant and its access token go */
            jset_num(g, "exp", 0);
        } else if (a && strcmp(a, tok) == 0) {
            jset_num(g, "exp", 0);
        }
    }
    resp_text(rs, 200, "application/json", NULL); /* RFC 7009: 200 even for unknown tokens */
    return 0;
}

sim_handler route_ion(sim_req *rq)
{
    const char *pre = "/" SIM_TENANT "/as/";
    if (!str_has_prefix(rq->path, pre))
        return NULL;
    const char *rest = rq->path + strlen(pre);
    rq->system = 'I';
    if (strcmp(rest, "token.oauth2") == 0) {
        snprintf(rq->label, sizeof rq->label, "ION token");
        return h_token;
    }
    if (strcmp(rest, "revoke_token.oauth2") == 0) {
        snprintf(rq->label, sizeof rq->label, "ION revoke");
        return h_revoke;
    }
    return NULL;
}

static cJSON *bearer_grant(sim_req *rq, const char **why)
{
    const char *h = req_header(rq, "Authorization");
    *why = "Bearer token is missing";
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        const char *tok = h + 7;
        double now = sim_now();
        cJSON *g;
        *why = "Bearer token is invalid";
        cJSON_ArrayForEach(g, SIM->tokens) {
            const char *a = jstr(g, "access");
            if (a && strcmp(a, tok) == 0) {
                if (!jbool(g, "revoked", 0) && jnum(g, "exp", 0) > now)
                    return g;
                *why = "Bearer token is expired or revoked";
                break;
            }
        }
    }
    return NULL;
}

const char *ion_bearer_client(sim_req *rq)
{
    const char *why;
    cJSON *g = bearer_grant(rq, &why);
    return !g ? NULL : jbool(g, "second", 0) ? SIM->ci2 : SIM->ci;
}

int ion_bearer_ok(sim_req *rq, sim_resp *rs)
{
    const char *why;
    if (bearer_grant(rq, &why))
        return 1;
    cJSON *j = cJSON_CreateObject();
    jset_str(j, "error", "invalid_token");
    jset_str(j, "error_description", why);
    resp_json(rs, 401, j);
    resp_header(rs, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return 0;
}
