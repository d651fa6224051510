/*
 * test_sim.c: check tests of mlc-sim itself. Each test starts build/mlc-sim (MLC_BUILD,
 * default "build") as a child with --listen 127.0.0.1:0 --dir <mkdtemp>, reads its ready
 * line, talks to it with libcurl as a client of the real APIs would, and stops it with
 * SIGTERM (it must exit 0). Webhook tests run a small libmicrohttpd receiver.
 *
 * Not here: tests of mlc against the sim (tests/integration).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdarg.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the sim as a child process ---- */

static pid_t SIM_PID;
static char DIR_[256], URL[128], V2KEY[128], V1KEY[256], CI[128], CS[128], SAAK[128], SASK[128];
static char M3[256];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

static void read_line_file(const char *name, char *out, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", DIR_, name);
    char *s = slurp(p);
    ck_assert_ptr_nonnull(s);
    s[strcspn(s, "\n")] = 0;
    snprintf(out, n, "%s", s);
    free(s);
}

static void ionapi_field(cJSON *j, const char *k, char *out, size_t n)
{
    cJSON *v = cJSON_GetObjectItem(j, k);
    ck_assert_msg(cJSON_IsString(v), "tenant.ionapi lacks %s", k);
    snprintf(out, n, "%s", v->valuestring);
}

static void sim_start_args(const char *const *extra)
{
    const char *build = getenv("MLC_BUILD") ? getenv("MLC_BUILD") : "build";
    char bin[512];
    snprintf(bin, sizeof bin, "%s/mlc-sim", build);
    snprintf(DIR_, sizeof DIR_, "/tmp/mlc-sim-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(DIR_));
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    SIM_PID = fork();
    ck_assert_int_ge(SIM_PID, 0);
    if (SIM_PID == 0) {
        const char *argv[24] = {bin, "--listen", "127.0.0.1:0", "--dir", DIR_};
        int n = 5;
        for (int i = 0; extra && extra[i] && n < 22; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        dup2(fd[1], 1);
        close(fd[0]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char line[512] = "";
    ck_assert_msg(fgets(line, sizeof line, f) != NULL, "mlc-sim printed no ready line (is %s built?)", bin);
    fclose(f);
    ck_assert_msg(strncmp(line, "mlc-sim ready url=", 18) == 0, "bad ready line: %s", line);
    sscanf(line + 18, "%127s", URL);
    read_line_file("shipstation-v2.key", V2KEY, sizeof V2KEY);
    read_line_file("shipstation-v1.key", V1KEY, sizeof V1KEY);
    char p[512];
    snprintf(p, sizeof p, "%s/tenant.ionapi", DIR_);
    char *txt = slurp(p);
    cJSON *j = cJSON_Parse(txt);
    free(txt);
    ionapi_field(j, "ci", CI, sizeof CI);
    ionapi_field(j, "cs", CS, sizeof CS);
    ionapi_field(j, "saak", SAAK, sizeof SAAK);
    ionapi_field(j, "sask", SASK, sizeof SASK);
    cJSON_Delete(j);
    snprintf(M3, sizeof M3, "%s/SIMTENANT_TST/M3/m3api-rest/v2/execute", URL);
}

static void sim_start(void) { sim_start_args(NULL); }

static void sim_stop(void)
{
    if (SIM_PID <= 0)
        return;
    kill(SIM_PID, SIGTERM);
    int st = 0;
    waitpid(SIM_PID, &st, 0);
    SIM_PID = 0;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", DIR_);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mlc-sim did not exit 0 on SIGTERM (status %d)", st);
}

/* ---- HTTP ---- */

typedef struct resp {
    long status;
    int curl_rc;
    char *body;
    size_t len;
    char headers[4096];
    cJSON *json;
} resp;

static size_t on_body(char *p, size_t s, size_t n, void *u)
{
    resp *r = u;
    char *nb = realloc(r->body, r->len + s * n + 1);
    memcpy(nb + r->len, p, s * n);
    r->body = nb;
    r->len += s * n;
    r->body[r->len] = 0;
    return s * n;
}

static size_t on_header(char *p, size_t s, size_t n, void *u)
{
    resp *r = u;
    size_t used = strlen(r->headers);
    if (used + s * n + 1 < sizeof r->headers) {
        memcpy(r->headers + used, p, s * n);
        r->headers[used + s * n] = 0;
    }
    return s * n;
}

/* auth: "bearer:TOKEN", "v2", "v1", "basic:user:pass" or NULL */
static resp http(const char *method, const char *url, const char *auth, const char *ctype, const char *body,
                 size_t body_len)
{
    resp r = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char line[1200];
    if (auth && strncmp(auth, "bearer:", 7) == 0) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", auth + 7);
        h = curl_slist_append(h, line);
    } else if (auth && strcmp(auth, "v2") == 0) {
        snprintf(line, sizeof line, "api-key: %s", V2KEY);
        h = curl_slist_append(h, line);
    } else if (auth && strcmp(auth, "v1") == 0) {
        curl_easy_setopt(c, CURLOPT_USERPWD, V1KEY);
    } else if (auth && strncmp(auth, "basic:", 6) == 0) {
        curl_easy_setopt(c, CURLOPT_USERPWD, auth + 6);
    }
    if (ctype) {
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    r.curl_rc = (int)curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r.json = r.body ? cJSON_Parse(r.body) : NULL;
    return r;
}

static void rfree(resp *r)
{
    free(r->body);
    cJSON_Delete(r->json);
}

static resp get(const char *auth, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static resp get(const char *auth, const char *fmt, ...)
{
    char url[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(url, sizeof url, fmt, ap);
    va_end(ap);
    return http("GET", url, auth, NULL, NULL, 0);
}

static resp post_json(const char *method, const char *auth, const char *url, const char *json)
{
    return http(method, url, auth, "application/json", json, strlen(json));
}

static resp admin(const char *method, const char *path, const char *json)
{
    char url[512];
    snprintf(url, sizeof url, "%s/admin/%s", URL, path);
    return json ? post_json(method, NULL, url, json) : http(method, url, NULL, NULL, NULL, 0);
}

static const char *js(cJSON *o, const char *path)
{
    /* dotted path with [n] indexes, e.g. "results[0].records[1].RVQA" */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *cur = o;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save)) {
        char *br = strchr(t, '[');
        if (br)
            *br = 0;
        if (*t)
            cur = cJSON_GetObjectItem(cur, t);
        while (br && cur) {
            cur = cJSON_GetArrayItem(cur, atoi(br + 1));
            br = strchr(br + 1, '[');
        }
    }
    static char out[4][4096];
    static int k;
    k = (k + 1) % 4;
    if (cJSON_IsString(cur))
        snprintf(out[k], sizeof out[k], "%s", cur->valuestring);
    else if (cur) {
        char *p = cJSON_PrintUnformatted(cur);
        snprintf(out[k], sizeof out[k], "%s", p);
        free(p);
    } else
        snprintf(out[k], sizeof out[k], "<missing>");
    return out[k];
}

static double jnum_at(cJSON *o, const char *path) { return atof(js(o, path)); }

static void token(char *out, size_t n, char *refresh, size_t rn)
{
    char body[1024];
    snprintf(body, sizeof body, "grant_type=password&username=%s&password=%s&client_id=%s&client_secret=%s", SAAK,
             SASK, CI, CS);
    char url[300];
    snprintf(url, sizeof url, "%s/SIMTENANT_TST/as/token.oauth2", URL);
    /* the keys contain '#' and '~': encode the body properly */
    CURL *c = curl_easy_init();
    char *e1 = curl_easy_escape(c, SAAK, 0), *e2 = curl_easy_escape(c, SASK, 0), *e3 = curl_easy_escape(c, CI, 0),
         *e4 = curl_easy_escape(c, CS, 0);
    snprintf(body, sizeof body, "grant_type=password&username=%s&password=%s&client_id=%s&client_secret=%s", e1,
             e2, e3, e4);
    curl_free(e1);
    curl_free(e2);
    curl_free(e3);
    curl_free(e4);
    curl_easy_cleanup(c);
    resp r = http("POST", url, NULL, "application/x-www-form-urlencoded", body, strlen(body));
    ck_assert_int_eq(r.status, 200);
    snprintf(out, n, "bearer:%s", js(r.json, "access_token"));
    if (refresh)
        snprintf(refresh, rn, "%s", js(r.json, "refresh_token"));
    rfree(&r);
}

/* ---- webhook receiver ---- */

static char HOOK_BODY[8][2048];
static char HOOK_SIG[8][700], HOOK_TS[8][64];
static int HOOK_N;

static enum MHD_Result hook(void *cls, struct MHD_Connection *c, const char *url, const char *m, const char *v,
                            const char *data, size_t *size, void **ctx)
{
    (void)cls;
    (void)url;
    (void)m;
    (void)v;
    if (!*ctx) {
        *ctx = (void *)1;
        HOOK_BODY[HOOK_N % 8][0] = 0;
        const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-shipengine-rsa-sha256-signature");
        const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-shipengine-timestamp");
        snprintf(HOOK_SIG[HOOK_N % 8], sizeof HOOK_SIG[0], "%s", sig ? sig : "");
        snprintf(HOOK_TS[HOOK_N % 8], sizeof HOOK_TS[0], "%s", ts ? ts : "");
        return MHD_YES;
    }
    if (*size) {
        size_t used = strlen(HOOK_BODY[HOOK_N % 8]);
        if (used + *size < sizeof HOOK_BODY[0]) {
            memcpy(HOOK_BODY[HOOK_N % 8] + used, data, *size);
            HOOK_BODY[HOOK_N % 8][used + *size] = 0;
        }
        *size = 0;
        return MHD_YES;
    }
    __atomic_add_fetch(&HOOK_N, 1, __ATOMIC_SEQ_CST);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Daemon *hook_start(int *port)
{
    /* each test counts its own deliveries (tests may share a process: CK_FORK=no) */
    __atomic_store_n(&HOOK_N, 0, __ATOMIC_SEQ_CST);
    memset(HOOK_BODY, 0, sizeof HOOK_BODY);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, hook, NULL,
                                            MHD_OPTION_END);
    ck_assert_ptr_nonnull(d);
    *port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return d;
}

/* How long to wait for webhook deliveries: generous, since it ends as soon as they
 * are in, and under valgrind the sim's delivery thread is many times slower. */
#define HOOK_WAIT_MS 30000

static int wait_hooks(int n, int ms)
{
    for (int i = 0; i < ms / 20 && __atomic_load_n(&HOOK_N, __ATOMIC_SEQ_CST) < n; i++)
        usleep(20000);
    return __atomic_load_n(&HOOK_N, __ATOMIC_SEQ_CST);
}

/* ---- fixtures ---- */

static void setup(void) { sim_start(); }
static void teardown(void) { sim_stop(); }

/* ================= files and process ================= */

START_TEST(test_files_written)
{
    struct stat st;
    const char *secret[] = {"tenant.ionapi", "shipstation-v2.key", "shipstation-v1.key", "mlc.yaml"};
    for (int i = 0; i < 4; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", DIR_, secret[i]);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
    }
    char p[512];
    snprintf(p, sizeof p, "%s/sim.json", DIR_);
    char *s = slurp(p);
    cJSON *j = cJSON_Parse(s);
    free(s);
    ck_assert_str_eq(js(j, "url"), URL);
    ck_assert_str_eq(js(j, "ti"), "SIMTENANT_TST");
    ck_assert_int_eq((int)jnum_at(j, "pid"), SIM_PID);
    cJSON_Delete(j);
    snprintf(p, sizeof p, "%s/mlc.yaml", DIR_);
    s = slurp(p);
    ck_assert_ptr_nonnull(strstr(s, "default_profile: sim"));
    ck_assert_ptr_nonnull(strstr(s, "        PP1: po_receipt"));
    ck_assert_ptr_nonnull(strstr(s, "        WH1:\n          warehouse_id: se-1001"));
    ck_assert_ptr_null(strstr(s, "WH9"));
    ck_assert_ptr_nonnull(strstr(s, "SUP011:"));
    ck_assert_ptr_null(strstr(s, "SUP012"));
    free(s);
    snprintf(p, sizeof p, "%s/tenant.ionapi", DIR_);
    s = slurp(p);
    j = cJSON_Parse(s);
    free(s);
    char pu[200];
    snprintf(pu, sizeof pu, "%s/SIMTENANT_TST/as/", URL);
    ck_assert_str_eq(js(j, "pu"), pu);
    ck_assert_str_eq(js(j, "iu"), URL);
    ck_assert_str_eq(js(j, "ot"), "token.oauth2");
    ck_assert_str_eq(js(j, "or"), "revoke_token.oauth2");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_refuses_non_loopback)
{
    const char *build = getenv("MLC_BUILD") ? getenv("MLC_BUILD") : "build";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/mlc-sim --listen 0.0.0.0:0 --dir /tmp/mlc-sim-never 2>/dev/null", build);
    int st = system(cmd);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 64);
}
END_TEST

START_TEST(test_gen_seed_matches_default)
{
    const char *build = getenv("MLC_BUILD") ? getenv("MLC_BUILD") : "build";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s/mlc-sim --gen-seed 50 | cmp -s - tests/sim/seed-default.json", build);
    if (access("tests/sim/seed-default.json", R_OK) != 0)
        return; /* not run from the source tree */
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ================= ION ================= */

START_TEST(test_ion_grants_and_errors)
{
    char url[300], body[1200], at[1200], rt[200];
    snprintf(url, sizeof url, "%s/SIMTENANT_TST/as/token.oauth2", URL);
    token(at, sizeof at, rt, sizeof rt);
    /* wrong sask -> 400 invalid_grant, client in Basic */
    char basic[300];
    snprintf(basic, sizeof basic, "basic:%s:%s", CI, CS);
    snprintf(body, sizeof body, "grant_type=password&username=x&password=y");
    resp r = http("POST", url, basic, "application/x-www-form-urlencoded", body, strlen(body));
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(js(r.json, "error"), "invalid_grant");
    rfree(&r);
    snprintf(basic, sizeof basic, "basic:%s:wrong", CI);
    r = http("POST", url, basic, "application/x-www-form-urlencoded", body, strlen(body));
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(js(r.json, "error"), "invalid_client");
    rfree(&r);
    /* refresh */
    snprintf(basic, sizeof basic, "basic:%s:%s", CI, CS);
    snprintf(body, sizeof body, "grant_type=refresh_token&refresh_token=%s", rt);
    r = http("POST", url, basic, "application/x-www-form-urlencoded", body, strlen(body));
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((int)jnum_at(r.json, "expires_in"), 7200);
    char at2[1200];
    snprintf(at2, sizeof at2, "bearer:%s", js(r.json, "access_token"));
    rfree(&r);
    r = get(at2, "%s/GENERAL/GetUserInfo", M3);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "results[0].records[0].ZDCONO"), "100");
    rfree(&r);
    /* revoke the refresh token: grant and access token go */
    char rurl[300];
    snprintf(rurl, sizeof rurl, "%s/SIMTENANT_TST/as/revoke_token.oauth2", URL);
    snprintf(body, sizeof body, "token=%s&token_type_hint=refresh_token", rt);
    r = http("POST", rurl, basic, "application/x-www-form-urlencoded", body, strlen(body));
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get(at2, "%s/GENERAL/GetUserInfo", M3);
    ck_assert_int_eq(r.status, 401);
    rfree(&r);
    snprintf(body, sizeof body, "grant_type=refresh_token&refresh_token=%s", rt);
    r = http("POST", url, basic, "application/x-www-form-urlencoded", body, strlen(body));
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(js(r.json, "error"), "invalid_grant");
    rfree(&r);
    r = admin("GET", "state", NULL);
    ck_assert_int_eq((int)jnum_at(r.json, "counters.logins"), 1);
    ck_assert_int_eq((int)jnum_at(r.json, "counters.refreshes"), 1);
    rfree(&r);
}
END_TEST

START_TEST(test_ion_token_expires_on_virtual_clock)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = get(at, "%s/GENERAL/GetCurrentUser", M3);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = admin("POST", "clock", "{\"advance_seconds\":7201}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get(at, "%s/GENERAL/GetCurrentUser", M3);
    ck_assert_int_eq(r.status, 401);
    rfree(&r);
    r = get("bearer:nonsense", "%s/GENERAL/GetCurrentUser", M3);
    ck_assert_int_eq(r.status, 401);
    rfree(&r);
}
END_TEST

/* ================= M3 ================= */

START_TEST(test_m3_get_shapes_and_errors)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = get(at, "%s/PPS200MI/GetHead?PUNO=2000003", M3);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "results[0].records[0].PUNO"), "2000003   "); /* blank-padded to 10 */
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfFailedTransactions"), 0);
    rfree(&r);
    r = get(at, "%s/PPS200MI/LstLine;maxrecs=1;returncols=PNLI,ORQA?PUNO=2000003&righttrim=true", M3);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(r.json, "results"), 0), "records")), 1);
    ck_assert_str_eq(js(r.json, "results[0].records[0].PNLI"), "10");
    ck_assert_str_eq(js(r.json, "results[0].records[0].PUNO"), "<missing>");
    rfree(&r);
    r = get(at, "%s/PPS200MI/NoSuchThing?PUNO=2000003", M3);
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead", M3);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "MandatoryInputFieldNotFound");
    ck_assert_str_eq(js(r.json, "results[0].errorField"), "PUNO");
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfFailedTransactions"), 1);
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=12345678901", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "InputFieldTooLong");
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead;cono=300?PUNO=2000003", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorCode"), "XAU0008");
    ck_assert_ptr_nonnull(strstr(js(r.json, "results[0].errorMessage"), "Not authorized for company 300"));
    rfree(&r);
    /* company 200 (the seed's second company) has its own PO 2000003 */
    r = get(at, "%s/PPS200MI/GetHead;cono=200?PUNO=2000003&righttrim=true", M3);
    ck_assert_str_eq(js(r.json, "results[0].records[0].CONO"), "200");
    ck_assert_str_eq(js(r.json, "results[0].records[0].DIVI"), "BBB");
    ck_assert_str_eq(js(r.json, "results[0].records[0].BUYE"), "BUYER2");
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=2000003&righttrim=true", M3);
    ck_assert_str_eq(js(r.json, "results[0].records[0].CONO"), "100");
    ck_assert_str_eq(js(r.json, "results[0].records[0].BUYE"), "BUYER1");
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=2100005&CONO=100", M3); /* company 200's own PO */
    ck_assert_str_eq(js(r.json, "results[0].errorCode"), "WPU0901");
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=2000003&CONO=300", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorCode"), "XAU0008");
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=9999999&righttrim=true", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "ServerReturnedNOK");
    rfree(&r);
}
END_TEST

static resp receipt(const char *at, const char *puno, int pnli, const char *qty, const char *sudo)
{
    return get(at, "%s/PPS001MI/Receipt?TRDT=20261120&RESP=MLC&PUNO=%s&PNLI=%d&PNLS=0&RVQA=%s&SUDO=%s", M3, puno,
               pnli, qty, sudo);
}

START_TEST(test_m3_receipts_change_state)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = admin("POST", "po", "{\"PUNO\":\"2900001\",\"SUNO\":\"SUP001\",\"WHLO\":\"WH1\",\"ORTY\":\"PP1\","
                                 "\"lines\":[{\"PNLI\":10,\"ITNO\":\"ITM00001\",\"ORQA\":10},"
                                 "{\"PNLI\":20,\"ITNO\":\"ITM00002\",\"ORQA\":4,\"PUSL\":\"85\",\"PUST\":\"85\"}]}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get(at, "%s/MMS200MI/GetItmWhsBal?WHLO=WH1&ITNO=ITM00001", M3);
    double before = jnum_at(r.json, "results[0].records[0].STQT");
    rfree(&r);
    r = receipt(at, "2900001", 10, "4", "1ZTRACK1");
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetLine?PUNO=2900001&PNLI=10&PNLS=0&righttrim=true", M3);
    ck_assert_str_eq(js(r.json, "results[0].records[0].RVQA"), "4");
    ck_assert_str_eq(js(r.json, "results[0].records[0].PUSL"), "50");
    rfree(&r);
    r = receipt(at, "2900001", 10, "7", "X"); /* 6 open */
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "ServerReturnedNOK");
    ck_assert_str_eq(js(r.json, "results[0].errorField"), "RVQA");
    rfree(&r);
    r = receipt(at, "2900001", 10, "6", "1ZTRACK2");
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetLine?PUNO=2900001&PNLI=10&righttrim=true", M3);
    ck_assert_str_eq(js(r.json, "results[0].records[0].PUSL"), "75");
    rfree(&r);
    r = receipt(at, "2900001", 20, "1", "X"); /* closed line */
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "ServerReturnedNOK");
    rfree(&r);
    r = get(at, "%s/MMS200MI/GetItmWhsBal?WHLO=WH1&ITNO=ITM00001", M3);
    ck_assert_int_eq((int)jnum_at(r.json, "results[0].records[0].STQT"), (int)before + 10);
    rfree(&r);
    r = admin("GET", "state", NULL);
    cJSON *recs = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "m3"), "receipts");
    ck_assert_int_eq(cJSON_GetArraySize(recs), 2);
    ck_assert_str_eq(js(recs, "[1].SUDO"), "1ZTRACK2");
    ck_assert_str_eq(js(recs, "[1].route"), "PPS001MI");
    ck_assert_int_eq((int)jnum_at(r.json, "counters.requests.M3 PPS001MI/Receipt OK"), 2);
    rfree(&r);
    /* reopen the closed line through admin, then receive it via MHS850MI */
    r = admin("POST", "po", "{\"PUNO\":\"2900001\",\"lines\":[{\"PNLI\":20,\"RVQA\":0,\"reopen\":true}]}");
    rfree(&r);
    r = get(at, "%s/MHS850MI/AddPOReceipt?WHLO=WH1&E0PA=WMS&E065=WMS&SUNO=SUP001&SUTY=0&RIDN=2900001&RIDL=20"
                "&QTY=4&SUDO=DN9",
            M3);
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    ck_assert_str_ne(js(r.json, "results[0].records[0].MSGN"), "<missing>");
    rfree(&r);
    r = admin("GET", "state", NULL);
    ck_assert_str_eq(js(r.json, "m3.receipts[2].route"), "MHS850MI");
    rfree(&r);
    /* the receipts' trace: MPLIND through EXPORTMI, one row per receipt of either route */
    r = get(at, "%s/EXPORTMI/Select?QERY=ICPUNO,ICPNLI,ICPNLS,ICRPQA,ICSUDO%%20from%%20MPLIND%%20where%%20ICPUNO"
                "%%20%%3D%%20%%272900001%%27&righttrim=true",
            M3);
    ck_assert_str_eq(js(r.json, "results[0].records[0].REPL"), "2900001;10;0;4;1ZTRACK1");
    ck_assert_str_eq(js(r.json, "results[0].records[1].REPL"), "2900001;10;0;6;1ZTRACK2");
    ck_assert_str_eq(js(r.json, "results[0].records[2].REPL"), "2900001;20;0;4;DN9");
    ck_assert_str_eq(js(r.json, "results[0].records[3].REPL"), "<missing>");
    rfree(&r);
    r = get(at, "%s/EXPORTMI/Select?QERY=IBSUDO%%20from%%20MPLIND", M3); /* MPLINE's prefix: refused */
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "ServerReturnedNOK");
    rfree(&r);
}
END_TEST

START_TEST(test_m3_exportmi_and_bulk)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = get(at, "%s/EXPORTMI/Select?QERY=IAPUNO,%%20IALMDT%%20from%%20MPHEAD%%20where%%20IALMDT%%20%%3E%%3D%%2020261101"
                     "%%20and%%20IAPUNO%%20%%3D%%20%%272000003%%27&righttrim=true&maxrecs=0",
                 M3);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(js(r.json, "results[0].records[0].REPL"), "2000003;2026"));
    rfree(&r);
    r = get(at, "%s/EXPORTMI/Select?QERY=IAPUNO%%20from%%20MPHEAD%%20where%%20IALMDT%%20%%3E%%2020261101", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "ServerReturnedNOK");
    rfree(&r);
    r = get(at, "%s/EXPORTMI/Select?QERY=IBPUNO,IBPNLI%%20from%%20MPLINE&SEPC=|&maxrecs=3", M3);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(r.json, "results"), 0), "records")), 3);
    ck_assert_ptr_nonnull(strstr(js(r.json, "results[0].records[0].REPL"), "2000001|10"));
    rfree(&r);
    /* the session's company only: company 200's rows with ;cono=200, never company 100's */
    r = get(at, "%s/EXPORTMI/Select;cono=200;maxrecs=0?QERY=IAPUNO,IACONO%%20from%%20MPHEAD&righttrim=true", M3);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(r.json, "results"), 0), "records")), 8);
    ck_assert_str_eq(js(r.json, "results[0].records[0].REPL"), "2000003;200");
    rfree(&r);
    r = get(at, "%s/EXPORTMI/Select;maxrecs=0?QERY=IAPUNO%%20from%%20MPHEAD%%20where%%20IAPUNO%%20%%3D%%20%%272100005%%27", M3);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(r.json, "results"), 0), "records")), 0);
    rfree(&r);
    /* what the real one refuses: a company filter, capital keywords, a long query */
    r = get(at, "%s/EXPORTMI/Select?QERY=IAPUNO%%20from%%20MPHEAD%%20where%%20IACONO%%20%%3D%%20200", M3);
    ck_assert_ptr_nonnull(strstr(js(r.json, "results[0].errorMessage"), "company selections are not supported"));
    rfree(&r);
    r = get(at, "%s/EXPORTMI/Select?QERY=IAPUNO%%20FROM%%20MPHEAD", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorCode"), "XEX0001");
    rfree(&r);
    r = admin("POST", "m3", "{\"exportmi_max_query\":40,\"exportmi_max_rows\":5}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get(at, "%s/EXPORTMI/Select?QERY=IAPUNO,%%20IALMDT%%20from%%20MPHEAD%%20where%%20IALMDT%%20%%3E%%3D%%2020261101", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorCode"), "XEX0002");
    rfree(&r);
    r = get(at, "%s/EXPORTMI/Select;maxrecs=0?QERY=IAPUNO%%20from%%20MPHEAD", M3); /* cut at 5, no error */
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(r.json, "results"), 0), "records")), 5);
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "null");
    rfree(&r);
    r = admin("POST", "m3", "{\"exportmi_max_query\":1000,\"exportmi_max_rows\":10000}");
    rfree(&r);
    /* default maxrecs is 100 */
    r = get(at, "%s/EXPORTMI/Select?QERY=IBPUNO%%20from%%20MPLINE", M3);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(r.json, "results"), 0), "records")), 100);
    rfree(&r);
    r = post_json("POST", at, M3,
                  "{\"program\":\"PPS200MI\",\"cono\":100,\"transactions\":["
                  "{\"transaction\":\"GetHead\",\"record\":{\"PUNO\":\"2000003\"}},"
                  "{\"transaction\":\"GetHead\",\"record\":{\"PUNO\":\"nope\"}},"
                  "{\"transaction\":\"Bogus\",\"record\":{}}]}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfFailedTransactions"), 2);
    ck_assert_str_eq(js(r.json, "results[2].errorType"), "TransactionNotFound");
    rfree(&r);
    r = post_json("POST", at, M3, "{\"program\":");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
}
END_TEST

START_TEST(test_m3_items)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = get(at, "%s/MMS200MI/AddItmBasic?ITNO=NEW1&ITDS=New%%20item", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "MandatoryInputFieldNotFound");
    rfree(&r);
    r = get(at, "%s/MMS200MI/AddItmBasic?ITNO=NEW1&ITDS=New&STAT=20&RESP=MLC&UNMS=EA&ITTY=FG&MABU=2&PRVG=X", M3);
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    rfree(&r);
    r = admin("POST", "clock", "{\"advance_seconds\":172800}");
    rfree(&r);
    token(at, sizeof at, NULL, 0); /* two virtual days: the old token expired */
    r = get(at, "%s/MMS200MI/UpdItmBasic?ITNO=ITM00005&ITDS=Renamed", M3);
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    rfree(&r);
    r = get(at, "%s/MMS200MI/LstItmByChgDate?FLMD=20261122&righttrim=true", M3);
    ck_assert_str_eq(js(r.json, "results[0].records[0].ITNO"), "ITM00005");
    ck_assert_str_eq(js(r.json, "results[0].records[0].ITDS"), "Renamed");
    rfree(&r);
    r = get(at, "%s/MMS200MI/GetItmBasic?ITNO=NOPE", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorType"), "ServerReturnedNOK");
    rfree(&r);
}
END_TEST

/* ================= ShipStation V2 ================= */

static const char *SHIP_TO = "{\"name\":\"Receiving\",\"phone\":\"775-555-0101\",\"company_name\":\"Reno DC\","
                             "\"address_line1\":\"1200 Logistics Way\",\"city_locality\":\"Reno\","
                             "\"state_province\":\"NV\",\"postal_code\":\"89502\",\"country_code\":\"US\","
                             "\"address_residential_indicator\":\"no\"}"; /* required by the address schema */

static resp v2_create(const char *ext, int qty)
{
    char body[2048], url[300];
    snprintf(body, sizeof body,
             /* ship_from, not warehouse_id: create_shipment_request declares no warehouse_id */
             "{\"shipments\":[{\"external_shipment_id\":\"%s\",\"ship_from\":%s,\"carrier_id\":\"se-2001\","
             "\"ship_to\":%s,\"items\":[{\"sku\":\"ITM00001\",\"name\":\"x\",\"quantity\":%d}],"
             "\"packages\":[{\"weight\":{\"value\":2,\"unit\":\"pound\"}}]}]}",
             ext, SHIP_TO, SHIP_TO, qty);
    snprintf(url, sizeof url, "%s/v2/shipments", URL);
    return post_json("POST", "v2", url, body);
}

START_TEST(test_v2_shipments_flow)
{
    resp r = get(NULL, "%s/v2/shipments", URL);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(js(r.json, "errors[0].error_code"), "unauthorized");
    ck_assert_str_ne(js(r.json, "request_id"), "<missing>");
    rfree(&r);
    r = v2_create("PO-1", 10);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "has_errors"), "false");
    char id[64];
    snprintf(id, sizeof id, "%s", js(r.json, "shipments[0].shipment_id"));
    ck_assert(strncmp(id, "se-", 3) == 0);
    ck_assert_str_eq(js(r.json, "shipments[0].shipment_status"), "pending");
    rfree(&r);
    r = v2_create("PO-1", 3); /* duplicate external id */
    ck_assert_str_eq(js(r.json, "has_errors"), "true");
    ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(r.json, "shipments"), 0), "errors")), 0);
    rfree(&r);
    r = v2_create("PO-2", 4);
    rfree(&r);
    r = get("v2", "%s/v2/shipments?page_size=1&sort_dir=asc", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 2);
    ck_assert_int_eq((int)jnum_at(r.json, "pages"), 2);
    ck_assert_str_eq(js(r.json, "links.prev"), "{}");
    ck_assert_ptr_nonnull(strstr(js(r.json, "links.next.href"), "page=2"));
    ck_assert_str_eq(js(r.json, "shipments[0].shipment_id"), id);
    rfree(&r);
    r = get("v2", "%s/v2/shipments/external_shipment_id/PO-1", URL);
    ck_assert_str_eq(js(r.json, "shipment_id"), id);
    rfree(&r);
    char body[256];
    snprintf(body, sizeof body, "{\"ids\":[\"%s\"]}", id);
    r = admin("POST", "ship", body);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "shipped[0].carrier_code"), "ups");
    rfree(&r);
    r = get("v2", "%s/v2/shipments/%s", URL, id);
    ck_assert_str_eq(js(r.json, "shipment_status"), "label_purchased");
    rfree(&r);
    r = get("v2", "%s/v2/labels?shipment_id=%s", URL, id);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 1);
    ck_assert(strncmp(js(r.json, "labels[0].tracking_number"), "1Z", 2) == 0);
    ck_assert_str_eq(js(r.json, "labels[0].voided"), "false");
    char label[64];
    snprintf(label, sizeof label, "%s", js(r.json, "labels[0].label_id"));
    rfree(&r);
    char url[300];
    snprintf(url, sizeof url, "%s/v2/shipments/%s/cancel", URL, id);
    r = http("PUT", url, "v2", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 400); /* live label */
    rfree(&r);
    snprintf(url, sizeof url, "%s/v2/labels/%s/void", URL, label);
    r = http("PUT", url, "v2", NULL, NULL, 0);
    ck_assert_str_eq(js(r.json, "approved"), "true");
    rfree(&r);
    snprintf(url, sizeof url, "%s/v2/shipments/%s/cancel", URL, id);
    r = http("PUT", url, "v2", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 204);
    rfree(&r);
    r = get("v2", "%s/v2/shipments?shipment_status=nonsense", URL);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(js(r.json, "errors[0].error_type"), "validation");
    rfree(&r);
}
END_TEST

START_TEST(test_v2_partial_ship_splits)
{
    resp r = v2_create("PO-9", 9);
    rfree(&r);
    r = admin("POST", "ship", "{\"all\":true,\"fraction\":0.5}");
    rfree(&r);
    r = get("v2", "%s/v2/shipments?sort_dir=asc", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 2);
    ck_assert_str_eq(js(r.json, "shipments[0].items[0].quantity"), "4");
    ck_assert_str_eq(js(r.json, "shipments[1].items[0].quantity"), "5");
    ck_assert_str_eq(js(r.json, "shipments[1].shipment_status"), "pending");
    ck_assert_str_eq(js(r.json, "shipments[1].shipment_number"), "PO-9");
    rfree(&r);
}
END_TEST

static BIGNUM *b64url_bn(const char *s)
{
    char buf[1024];
    size_t n = strlen(s), i;
    for (i = 0; i < n && i < sizeof buf - 4; i++)
        buf[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (i % 4)
        buf[i++] = '=';
    buf[i] = 0;
    unsigned char raw[800];
    int len = EVP_DecodeBlock(raw, (unsigned char *)buf, (int)i);
    while (i > 0 && buf[i - 1] == '=') {
        len--;
        i--;
    }
    return BN_bin2bn(raw, len, NULL);
}

/* checks a delivery's signature against the sim's /jwks, as a receiver would */
static int signature_ok(const char *ts, const char *sig, const char *body)
{
    resp r = get(NULL, "%s/jwks", URL);
    BIGNUM *n = b64url_bn(js(r.json, "keys[0].n")), *e = b64url_bn(js(r.json, "keys[0].e"));
    rfree(&r);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, "n", n);
    OSSL_PARAM_BLD_push_BN(bld, "e", e);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *key = NULL;
    EVP_PKEY_fromdata_init(pc);
    EVP_PKEY_fromdata(pc, &key, EVP_PKEY_PUBLIC_KEY, params);
    unsigned char raw[600];
    int sl = EVP_DecodeBlock(raw, (const unsigned char *)sig, (int)strlen(sig));
    size_t pad = strlen(sig) >= 2 ? (sig[strlen(sig) - 1] == '=') + (sig[strlen(sig) - 2] == '=') : 0;
    char msg[2200];
    snprintf(msg, sizeof msg, "%s.%s", ts, body);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = key && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(md, raw, (size_t)sl - pad, (unsigned char *)msg, strlen(msg)) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return ok;
}

START_TEST(test_v2_webhook_delivery)
{
    int port;
    struct MHD_Daemon *d = hook_start(&port);
    char body[300], url[300];
    snprintf(body, sizeof body, "{\"event\":\"label_created_v2\",\"url\":\"http://127.0.0.1:%d/hook\"}", port);
    snprintf(url, sizeof url, "%s/v2/environment/webhooks", URL);
    resp r = post_json("POST", "v2", url, body);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = post_json("POST", "v2", url, "{\"event\":\"nonsense\",\"url\":\"http://x/\"}");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = v2_create("PO-W", 1);
    rfree(&r);
    r = admin("POST", "ship", "{\"all\":true}");
    rfree(&r);
    ck_assert_int_ge(wait_hooks(1, HOOK_WAIT_MS), 1);
    ck_assert_msg(signature_ok(HOOK_TS[0], HOOK_SIG[0], HOOK_BODY[0]), "bad webhook signature");
    cJSON *p = cJSON_Parse(HOOK_BODY[0]);
    ck_assert_str_eq(js(p, "resource_type"), "LABEL_CREATED_V2");
    char res[400];
    snprintf(res, sizeof res, "%s", js(p, "resource_url"));
    cJSON_Delete(p);
    r = get("v2", "%s", res);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_ne(js(r.json, "tracking_number"), "<missing>");
    rfree(&r);
    r = admin("POST", "deliver", "{\"all\":true}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get("v2", "%s/track", res);
    ck_assert_str_eq(js(r.json, "status_code"), "DE");
    rfree(&r);
    MHD_stop_daemon(d);
}
END_TEST

START_TEST(test_v2_rate_limit)
{
    resp r;
    int n429 = 0, n200 = 0;
    char retry[64] = "";
    for (int i = 0; i < 205; i++) {
        r = get("v2", "%s/v2/warehouses", URL);
        if (r.status == 429) {
            n429++;
            char *h = strcasestr(r.headers, "Retry-After:");
            if (h)
                snprintf(retry, sizeof retry, "%.10s", h + 12);
        } else if (r.status == 200)
            n200++;
        rfree(&r);
    }
    ck_assert_int_eq(n200, 200);
    ck_assert_int_eq(n429, 5);
    ck_assert_int_ge(atoi(retry), 1);
    r = admin("GET", "state", NULL);
    ck_assert_int_eq((int)jnum_at(r.json, "counters.rate_limited"), 5);
    rfree(&r);
}
END_TEST

/* rate_sliding_over: limit 3; one request, 50 s later two, 10.5 s later (a new fixed
 * window) two more. The fourth comes 60.5 s after the first (fine); the fifth 10.5 s
 * after the second with three in the 60 s before it: the fixed window lets it
 * through, a window starting at the second request would not. */
START_TEST(test_v2_rate_sliding_count)
{
    resp r = admin("POST", "limits", "{\"v2_per_minute\":3}");
    rfree(&r);
    for (int i = 0; i < 5; i++) {
        if (i == 1 || i == 3) {
            r = admin("POST", "clock", i == 1 ? "{\"advance_seconds\":50}" : "{\"advance_seconds\":10.5}");
            rfree(&r);
        }
        r = get("v2", "%s/v2/warehouses", URL);
        ck_assert_int_eq(r.status, 200);
        rfree(&r);
    }
    r = admin("GET", "state", NULL);
    ck_assert_int_eq((int)jnum_at(r.json, "counters.rate_limited"), 0);
    ck_assert_int_eq((int)jnum_at(r.json, "counters.rate_sliding_over"), 1);
    rfree(&r);
}
END_TEST

START_TEST(test_v2_inventory)
{
    char url[300];
    snprintf(url, sizeof url, "%s/v2/inventory", URL);
    resp r = post_json("POST", "v2", url,
                       "{\"transaction_type\":\"adjust\",\"sku\":\"ITM00001\",\"quantity\":40,"
                       "\"inventory_location_id\":\"se-4001\"}");
    ck_assert_int_eq(r.status, 204);
    rfree(&r);
    r = post_json("POST", "v2", url,
                  "{\"transaction_type\":\"decrement\",\"sku\":\"ITM00001\",\"quantity\":41,"
                  "\"inventory_location_id\":\"se-4001\"}");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = post_json("POST", "v2", url, "{\"transaction_type\":\"increment\",\"sku\":\"ITM00001\"}");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = get("v2", "%s/v2/inventory?sku=ITM00001&inventory_location_id=se-4001", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "inventory[0].on_hand"), 40);
    ck_assert_int_eq((int)jnum_at(r.json, "inventory[0].available"), 40);
    rfree(&r);
    r = get("v2", "%s/v2/products?sku=ITM00002", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 1);
    rfree(&r);
}
END_TEST

/* ================= ShipStation V1 ================= */

static const char *ORDER =
    "{\"orderNumber\":\"PO-2000004\",\"orderKey\":\"mlc-2000004\",\"orderDate\":\"2026-11-20 06:00:00\","
    "\"orderStatus\":\"awaiting_shipment\",\"billTo\":{\"name\":\"Reno DC\"},"
    "\"shipTo\":{\"name\":\"Receiving\",\"street1\":\"1 A\",\"city\":\"Reno\",\"state\":\"NV\","
    "\"postalCode\":\"89502\",\"country\":\"US\"},"
    "\"items\":[{\"lineItemKey\":\"10\",\"sku\":\"ITM00010\",\"name\":\"x\",\"quantity\":4}],"
    "\"advancedOptions\":{\"warehouseId\":1001}}";

START_TEST(test_v1_orders)
{
    char url[300];
    snprintf(url, sizeof url, "%s/orders/createorder", URL);
    resp r = post_json("POST", "v1", url, ORDER);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strcasestr(r.headers, "X-Rate-Limit-Limit: 40"));
    ck_assert_ptr_nonnull(strcasestr(r.headers, "X-Rate-Limit-Remaining: 39"));
    ck_assert_str_eq(js(r.json, "orderDate"), "2026-11-20T06:00:00.0000000");
    double id = jnum_at(r.json, "orderId");
    rfree(&r);
    r = post_json("POST", "v1", url, ORDER); /* upsert: same order */
    ck_assert_int_eq((int)jnum_at(r.json, "orderId"), (int)id);
    rfree(&r);
    r = post_json("POST", "v1", url, "[1]");
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(js(r.json, "Message"), "The request is invalid.");
    rfree(&r);
    snprintf(url, sizeof url, "%s/orders/createorders", URL);
    r = post_json("POST", "v1", url, ORDER);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_ne(js(r.json, "ModelState"), "<missing>");
    rfree(&r);
    char *many = malloc(200000);
    strcpy(many, "[");
    for (int i = 0; i < 101; i++) {
        strcat(many, i ? "," : "");
        strcat(many, ORDER);
    }
    strcat(many, "]");
    r = post_json("POST", "v1", url, many);
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    free(many);
    r = post_json("POST", "v1", url, "[{\"orderNumber\":\"X\"}]");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "hasErrors"), "true");
    ck_assert_str_eq(js(r.json, "results[0].success"), "false");
    rfree(&r);
    r = get("v1", "%s/orders?modifyDateStart=2026-11-20%%2005:59:00&orderStatus=awaiting_shipment", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 1);
    ck_assert_int_eq((int)jnum_at(r.json, "pages"), 1);
    rfree(&r);
    r = get("v1", "%s/orders?modifyDateStart=2026-11-20%%2007:00:00", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 0);
    rfree(&r);
    r = admin("POST", "ship", "{\"all\":true}");
    rfree(&r);
    snprintf(url, sizeof url, "%s/orders/createorder", URL);
    r = post_json("POST", "v1", url, ORDER);
    ck_assert_int_eq(r.status, 400); /* shipped orders refuse updates */
    rfree(&r);
    r = get(NULL, "%s/orders", URL);
    ck_assert_int_eq(r.status, 401);
    rfree(&r);
}
END_TEST

START_TEST(test_v1_shipments_and_webhook)
{
    int port;
    struct MHD_Daemon *d = hook_start(&port);
    char url[300], body[300];
    snprintf(url, sizeof url, "%s/webhooks/subscribe", URL);
    snprintf(body, sizeof body, "{\"target_url\":\"http://127.0.0.1:%d/h\",\"event\":\"SHIP_NOTIFY\"}", port);
    resp r = post_json("POST", "v1", url, body);
    ck_assert_int_ge(r.status, 200);
    ck_assert_int_lt(r.status, 300);
    rfree(&r);
    snprintf(url, sizeof url, "%s/orders/createorder", URL);
    r = post_json("POST", "v1", url, ORDER);
    rfree(&r);
    r = admin("POST", "ship", "{\"all\":true}");
    rfree(&r);
    ck_assert_int_ge(wait_hooks(1, HOOK_WAIT_MS), 1);
    cJSON *p = cJSON_Parse(HOOK_BODY[0]);
    ck_assert_str_eq(js(p, "resource_type"), "SHIP_NOTIFY");
    char res[400];
    snprintf(res, sizeof res, "%s", js(p, "resource_url"));
    cJSON_Delete(p);
    r = get("v1", "%s", res);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 1);
    ck_assert_str_eq(js(r.json, "shipments[0].shipmentItems"), "null");
    rfree(&r);
    r = get("v1", "%s/shipments?includeShipmentItems=true&createDateStart=2026-11-20%%2000:00:00", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "shipments[0].shipmentItems[0].quantity"), 4);
    ck_assert_int_eq((int)strlen(js(r.json, "shipments[0].createDate")), 27);
    rfree(&r);
    r = admin("POST", "void", "{\"ids\":[600001]}");
    rfree(&r);
    r = get("v1", "%s/shipments?voidDateStart=2026-11-20%%2000:00:00", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 1);
    ck_assert_str_eq(js(r.json, "shipments[0].voided"), "true");
    rfree(&r);
    MHD_stop_daemon(d);
}
END_TEST

START_TEST(test_v1_rate_limit_window)
{
    sim_stop();
    const char *args[] = {"--time-scale", "60", NULL};
    sim_start_args(args);
    int n429 = 0;
    resp r;
    for (int i = 0; i < 41; i++) {
        r = get("v1", "%s/products?pageSize=1", URL);
        if (r.status == 429) {
            n429++;
            ck_assert_ptr_nonnull(strcasestr(r.headers, "X-Rate-Limit-Remaining: 0"));
        }
        rfree(&r);
    }
    ck_assert_int_eq(n429, 1);
    usleep(1100000); /* 60 virtual seconds */
    r = get("v1", "%s/products?pageSize=1", URL);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
}
END_TEST

/* ================= faults and hostile input ================= */

START_TEST(test_faults_429_500_reset_commit_drop)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = admin("POST", "faults",
                   "{\"rules\":[{\"match\":\"GET /v2/warehouses\",\"kind\":\"429\",\"next\":1},"
                   "{\"match\":\"M3 PPS200MI/GetHead\",\"kind\":\"500\",\"next\":1},"
                   "{\"match\":\"GET /v2/carriers\",\"kind\":\"reset\",\"next\":1},"
                   "{\"match\":\"M3 PPS001MI/Receipt\",\"kind\":\"commit_drop\",\"next\":1}]}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get("v2", "%s/v2/warehouses", URL);
    ck_assert_int_eq(r.status, 429);
    ck_assert_ptr_nonnull(strcasestr(r.headers, "Retry-After:"));
    rfree(&r);
    r = get("v2", "%s/v2/warehouses", URL);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=2000003", M3);
    ck_assert_int_eq(r.status, 500);
    rfree(&r);
    r = get("v2", "%s/v2/carriers", URL);
    ck_assert_int_ne(r.curl_rc, 0);
    rfree(&r);
    r = receipt(at, "2000003", 20, "1", "DROP1");
    ck_assert_int_ne(r.curl_rc, 0); /* no answer ... */
    rfree(&r);
    r = admin("GET", "state", NULL);  /* ... but the receipt was applied */
    ck_assert_str_eq(js(r.json, "m3.receipts[0].SUDO"), "DROP1");
    rfree(&r);
    r = admin("DELETE", "faults", NULL);
    rfree(&r);
}
END_TEST

/* latency that commits before the answer, and a bad commit mode refused */
START_TEST(test_faults_latency_commit_before)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = admin("POST", "faults", "{\"rules\":[{\"match\":\"M3 PPS001MI/Receipt\",\"kind\":\"500\",\"next\":1,"
                                     "\"commit\":\"before\"}]}");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = admin("POST", "faults", "{\"rules\":[{\"match\":\"M3 PPS001MI/Receipt\",\"kind\":\"latency\",\"next\":1,"
                                "\"ms\":300,\"commit\":\"sometime\"}]}");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = admin("POST", "faults", "{\"rules\":[{\"match\":\"M3 PPS001MI/Receipt\",\"kind\":\"latency\",\"next\":1,"
                                "\"ms\":300,\"commit\":\"before\"}]}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "[0].commit"), "before");
    rfree(&r);
    r = receipt(at, "2000003", 20, "1", "EARLY1");
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    rfree(&r);
    r = admin("DELETE", "faults", NULL);
    rfree(&r);
}
END_TEST

static void outcome_run(char *out, int n)
{
    resp r = admin("POST", "faults", "{\"seed\":42,\"rules\":[{\"match\":\"*\",\"kind\":\"503\",\"probability\":0.5}]}");
    rfree(&r);
    for (int i = 0; i < n; i++) {
        r = get("v2", "%s/v2/warehouses", URL);
        out[i] = r.status == 503 ? 'x' : '.';
        rfree(&r);
    }
    out[n] = 0;
}

START_TEST(test_faults_reproducible)
{
    char a[33], b[33];
    outcome_run(a, 32);
    outcome_run(b, 32);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strchr(a, 'x'));
    ck_assert_ptr_nonnull(strchr(a, '.'));
}
END_TEST

START_TEST(test_hostile_input)
{
    size_t big = 11u * 1024 * 1024;
    char *blob = malloc(big);
    memset(blob, 'a', big);
    char url[300];
    snprintf(url, sizeof url, "%s/v2/shipments", URL);
    resp r = http("POST", url, "v2", "application/json", blob, big);
    ck_assert(r.status == 413 || r.curl_rc != 0);
    rfree(&r);
    free(blob);
    r = post_json("POST", "v2", url, "{\"shipments\": [ {");
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_ne(js(r.json, "request_id"), "<missing>");
    rfree(&r);
    snprintf(url, sizeof url, "%s/orders/createorder", URL);
    r = post_json("POST", "v1", url, "\x01\x02garbage");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = get(NULL, "%s/no/such/%%00path", URL);
    ck_assert_int_eq(r.status, 404);
    rfree(&r);
    r = admin("POST", "seed", "[not json");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = get("v2", "%s/v2/warehouses", URL); /* still alive */
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
}
END_TEST


static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct slow_call {
    char url[300];
    resp r;
    double secs;
} slow_call;

static void *slow_get(void *arg)
{
    slow_call *c = arg;
    double t0 = now_s();
    c->r = get("v2", "%s", c->url);
    c->secs = now_s() - t0;
    return NULL;
}

START_TEST(test_faults_latency_timeout_token_expiry)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = admin("POST", "faults",
                   "{\"rules\":[{\"match\":\"GET /v2/warehouses\",\"kind\":\"latency\",\"ms\":300,\"next\":1},"
                   "{\"match\":\"GET /v2/carriers\",\"kind\":\"timeout\",\"ms\":1200,\"next\":1},"
                   "{\"match\":\"M3 GENERAL/*\",\"kind\":\"token_expiry\",\"next\":1},"
                   "{\"match\":\"M3 PPS200MI/GetLine\",\"kind\":\"503\",\"next\":1}]}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    double t0 = now_s();
    r = get("v2", "%s/v2/warehouses", URL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(now_s() - t0 >= 0.29);
    rfree(&r);
    slow_call c;
    snprintf(c.url, sizeof c.url, "%s/v2/carriers", URL);
    pthread_t th;
    pthread_create(&th, NULL, slow_get, &c);
    usleep(100000);
    t0 = now_s();
    r = get("v2", "%s/v2/warehouses", URL); /* served while the other is held */
    ck_assert_int_eq(r.status, 200);
    ck_assert(now_s() - t0 < 0.5);
    rfree(&r);
    pthread_join(th, NULL);
    ck_assert_int_ne(c.r.curl_rc, 0);
    ck_assert(c.secs >= 1.1);
    rfree(&c.r);
    r = get(at, "%s/GENERAL/GetUserInfo", M3);
    ck_assert_int_eq(r.status, 401);
    rfree(&r);
    r = get(at, "%s/GENERAL/GetUserInfo", M3); /* only once */
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetLine?PUNO=2000003&PNLI=10", M3);
    ck_assert_int_eq(r.status, 503);
    rfree(&r);
    r = admin("GET", "state?path=counters.requests", NULL);
    ck_assert_int_eq((int)jnum_at(r.json, "GET /v2/carriers timeout"), 1);
    rfree(&r);
}
END_TEST

START_TEST(test_webhook_duplicates_and_loss)
{
    int port;
    struct MHD_Daemon *d = hook_start(&port);
    char body[300], url[300];
    snprintf(body, sizeof body, "{\"event\":\"fulfillment_shipped_v2\",\"url\":\"http://127.0.0.1:%d/hook\"}", port);
    snprintf(url, sizeof url, "%s/v2/environment/webhooks", URL);
    resp r = post_json("POST", "v2", url, body);
    rfree(&r);
    r = admin("POST", "webhooks", "{\"duplicate_probability\":1,\"delay_ms\":100}");
    rfree(&r);
    r = v2_create("PO-D", 1);
    rfree(&r);
    r = admin("POST", "ship", "{\"all\":true}");
    rfree(&r);
    ck_assert_int_eq(wait_hooks(2, HOOK_WAIT_MS), 2);
    cJSON *p = cJSON_Parse(HOOK_BODY[1]);
    ck_assert_str_eq(js(p, "resource_type"), "FULFILLMENT_SHIPPED_V2");
    ck_assert_ptr_nonnull(strstr(js(p, "resource_url"), "/v2/labels?shipment_id=se-"));
    cJSON_Delete(p);
    r = admin("POST", "webhooks", "{\"duplicate_probability\":0,\"loss_probability\":1}");
    rfree(&r);
    r = v2_create("PO-E", 1);
    rfree(&r);
    r = admin("POST", "ship", "{\"all\":true}");
    rfree(&r);
    usleep(300000);
    ck_assert_int_eq(__atomic_load_n(&HOOK_N, __ATOMIC_SEQ_CST), 2);
    usleep(200000); /* the log entry of a delivery is written after its answer */
    r = admin("GET", "state?path=shipstation.webhook_deliveries", NULL);
    int lost = 0, delivered = 0;
    const cJSON *dl;
    cJSON_ArrayForEach(dl, r.json)
    {
        const cJSON *st = cJSON_GetObjectItem(dl, "status");
        lost += cJSON_IsString(st) && !strcmp(st->valuestring, "lost");
        delivered += cJSON_IsString(st) && !strcmp(st->valuestring, "delivered");
    }
    ck_assert_int_eq(lost, 1);
    ck_assert_int_eq(delivered, 2);
    rfree(&r);
    MHD_stop_daemon(d);
}
END_TEST

START_TEST(test_v2_update_pending_only)
{
    resp r = v2_create("PO-U", 2);
    char id[64], url[300], body[2048];
    snprintf(id, sizeof id, "%s", js(r.json, "shipments[0].shipment_id"));
    rfree(&r);
    snprintf(url, sizeof url, "%s/v2/shipments/%s", URL, id);
    snprintf(body, sizeof body,
             "{\"external_shipment_id\":\"PO-U\",\"warehouse_id\":\"se-1002\",\"ship_to\":%s,"
             "\"items\":[{\"sku\":\"ITM00001\",\"quantity\":3}]}", SHIP_TO);
    r = post_json("PUT", "v2", url, body);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "warehouse_id"), "se-1002");
    ck_assert_str_eq(js(r.json, "items[0].quantity"), "3");
    rfree(&r);
    r = admin("POST", "ship", "{\"all\":true}");
    rfree(&r);
    r = post_json("PUT", "v2", url, body);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(js(r.json, "errors[0].error_type"), "business_rules");
    rfree(&r);
}
END_TEST

START_TEST(test_v1_pacific_dst)
{
    resp r = admin("POST", "clock", "{\"set\":\"2026-07-01T19:30:00Z\"}");
    rfree(&r);
    char url[300];
    snprintf(url, sizeof url, "%s/orders/createorder", URL);
    r = post_json("POST", "v1", url, ORDER);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strncmp(js(r.json, "modifyDate"), "2026-07-01T12:30:00", 19) == 0); /* PDT, UTC-7 */
    rfree(&r);
    r = get("v1", "%s/orders?modifyDateStart=2026-07-01%%2012:29:00&modifyDateEnd=2026-07-01%%2012:31:00", URL);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 1);
    rfree(&r);
    r = admin("POST", "clock", "{\"set\":\"2026-12-01T19:30:00Z\"}");
    rfree(&r);
    snprintf(url, sizeof url, "%s/orders/createorder", URL);
    r = post_json("POST", "v1", url, ORDER);
    ck_assert(strncmp(js(r.json, "modifyDate"), "2026-12-01T11:30:00", 19) == 0); /* PST, UTC-8 */
    rfree(&r);
    r = get("v1", "%s/orders?modifyDateStart=2026-13-45%%2000:00:00", URL);
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
}
END_TEST

START_TEST(test_m3_advise_and_goods_receipt_state)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = get(at, "%s/PPS001MI/AdviseLine?PUNO=2000003&PNLI=10&ADQA=2&SUDO=ASN1", M3);
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetLine?PUNO=2000003&PNLI=10&righttrim=true", M3);
    ck_assert_str_eq(js(r.json, "results[0].records[0].TNQA"), "2");
    ck_assert_int_ge(atoi(js(r.json, "results[0].records[0].PUSL")), 35);
    rfree(&r);
    r = admin("GET", "state?path=m3.advices", NULL);
    ck_assert_str_eq(js(r.json, "[0].SUDO"), "ASN1");
    rfree(&r);
}
END_TEST

START_TEST(test_token_lifetime_time_scale)
{
    sim_stop();
    const char *args[] = {"--time-scale", "60", "--token-lifetime", "60", NULL};
    sim_start_args(args);
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = get(at, "%s/GENERAL/GetUserInfo", M3);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    usleep(1200000); /* 72 virtual seconds */
    r = get(at, "%s/GENERAL/GetUserInfo", M3);
    ck_assert_int_eq(r.status, 401);
    rfree(&r);
}
END_TEST

START_TEST(test_hostile_seed)
{
    resp r = admin("POST", "seed",
                   "{\"clock\":\"2026-11-20T14:00:00Z\",\"m3\":{\"pos\":[{\"PUNO\":\"1\",\"lines\":[{\"PNLI\":10}]}],"
                   "\"items\":[{\"ITNO\":\"I\"}],\"warehouses\":[{\"WHLO\":\"W\"}]},"
                   "\"shipstation\":{\"carriers\":[{\"carrier_id\":\"c\"}],\"products\":[{\"sku\":\"a\"}],"
                   "\"inventory\":[{\"sku\":\"a\"}],\"warehouses\":[{\"warehouse_id\":\"w\"}],"
                   "\"v2\":{\"shipments\":[{},{\"shipment_id\":\"se-1\",\"shipment_status\":\"pending\"}],"
                   "\"labels\":[{}],\"webhooks\":[{}]},"
                   "\"v1\":{\"orders\":[{},{\"orderId\":5,\"orderStatus\":\"awaiting_shipment\"}],"
                   "\"shipments\":[{}],\"webhooks\":[{}]}}}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    char at[1200];
    token(at, sizeof at, NULL, 0);
    const char *v2paths[] = {"/v2/shipments", "/v2/shipments?shipment_status=pending&external_shipment_id=x",
                             "/v2/labels?shipment_id=se-1", "/v2/products?name=x", "/v2/inventory?sku=a",
                             "/v2/warehouses", "/v2/carriers", "/v2/environment/webhooks",
                             "/v2/shipments/external_shipment_id/x"};
    for (size_t i = 0; i < sizeof v2paths / sizeof v2paths[0]; i++) {
        r = get("v2", "%s%s", URL, v2paths[i]);
        ck_assert_msg(r.status > 0 && r.status < 500, "%s: %ld", v2paths[i], r.status);
        rfree(&r);
    }
    const char *v1paths[] = {"/orders?orderNumber=x&customerName=y", "/shipments?includeShipmentItems=true",
                             "/products?name=x", "/webhooks", "/orders/5"};
    for (size_t i = 0; i < sizeof v1paths / sizeof v1paths[0]; i++) {
        r = get("v1", "%s%s", URL, v1paths[i]);
        ck_assert_msg(r.status > 0 && r.status < 500, "%s: %ld", v1paths[i], r.status);
        rfree(&r);
    }
    r = admin("POST", "ship", "{\"all\":true,\"fraction\":0.5}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = admin("POST", "void", "{\"ids\":[\"se-1\",5,\"\"]}");
    rfree(&r);
    r = admin("POST", "deliver", "{\"all\":true}");
    rfree(&r);
    r = get(at, "%s/PPS001MI/Receipt?TRDT=20261120&RESP=X&PUNO=1&PNLI=10&PNLS=0&RVQA=1", M3);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get(at, "%s/EXPORTMI/Select?QERY=IBPUNO,IBORQA%%20from%%20MPLINE", M3);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = get(at, "%s/MMS200MI/GetItmWhsBal?WHLO=W&ITNO=I", M3);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = admin("GET", "state", NULL);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    /* ids the seed already uses are not issued again */
    r = admin("POST", "seed", "{\"clock\":\"2026-11-20T14:00:00Z\",\"shipstation\":{\"carriers\":[{\"carrier_id\":"
                              "\"se-2001\",\"carrier_code\":\"ups\"}],\"warehouses\":"
                              "[{\"warehouse_id\":\"se-1001\"}],\"v2\":{\"shipments\":[{\"shipment_id\":"
                              "\"se-5000001\",\"shipment_status\":\"pending\"}]}}}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = v2_create("PO-NEW", 1);
    ck_assert_str_eq(js(r.json, "has_errors"), "false");
    ck_assert_str_ne(js(r.json, "shipments[0].shipment_id"), "se-5000001");
    rfree(&r);
}
END_TEST

START_TEST(test_m3_v1_shape_and_partial)
{
    char at[1200];
    token(at, sizeof at, NULL, 0);
    resp r = get(at, "%s/SIMTENANT_TST/M3/m3api-rest/execute/PPS200MI/GetHead?PUNO=2000003", URL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "Program"), "PPS200MI");
    ck_assert_str_eq(js(r.json, "MIRecord[0].NameValue[1].Name"), "PUNO");
    ck_assert_str_eq(js(r.json, "Metadata.Field[1].@name"), "PUNO");
    rfree(&r);
    r = admin("POST", "m3", "{\"v2_response_shape\":\"v1\"}");
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=nope", M3);
    ck_assert_str_eq(js(r.json, "@type"), "ServerReturnedNOK");
    ck_assert_str_ne(js(r.json, "Message"), "<missing>");
    rfree(&r);
    r = admin("POST", "m3", "{\"v2_response_shape\":\"v2\"}");
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=2000003&ZZZZ=1", M3);
    ck_assert_str_eq(js(r.json, "results[0].errorField"), "ZZZZ");
    rfree(&r);
    r = admin("POST", "m3", "{\"unknown_fields\":\"ignore\"}");
    rfree(&r);
    r = get(at, "%s/PPS200MI/GetHead?PUNO=2000003&ZZZZ=1", M3);
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfSuccessfullTransactions"), 1);
    rfree(&r);
    r = admin("POST", "faults", "{\"rules\":[{\"match\":\"M3 PPS200MI/LstLine\",\"kind\":\"m3_partial\",\"next\":1}]}");
    rfree(&r);
    r = get(at, "%s/PPS200MI/LstLine?PUNO=2000003", M3);
    ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
                         cJSON_GetObjectItem(r.json, "results"), 0), "records")), 0);
    ck_assert_str_eq(js(r.json, "results[0].errorCode"), "CPF9898");
    ck_assert_int_eq((int)jnum_at(r.json, "nrOfFailedTransactions"), 1);
    rfree(&r);
}
END_TEST

START_TEST(test_admin_limits)
{
    resp r = admin("POST", "limits", "{\"v2_per_minute\":3,\"ion_logins_per_minute\":2}");
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    int codes[4];
    for (int i = 0; i < 4; i++) {
        r = get("v2", "%s/v2/warehouses", URL);
        codes[i] = (int)r.status;
        rfree(&r);
    }
    ck_assert_int_eq(codes[2], 200);
    ck_assert_int_eq(codes[3], 429);
    char at[1200];
    token(at, sizeof at, NULL, 0);
    token(at, sizeof at, NULL, 0);
    char url[300], body[1200];
    snprintf(url, sizeof url, "%s/SIMTENANT_TST/as/token.oauth2", URL);
    char basic[300];
    snprintf(basic, sizeof basic, "basic:%s:%s", CI, CS);
    CURL *c = curl_easy_init();
    char *u = curl_easy_escape(c, SAAK, 0), *p = curl_easy_escape(c, SASK, 0);
    snprintf(body, sizeof body, "grant_type=password&username=%s&password=%s", u, p);
    curl_free(u);
    curl_free(p);
    curl_easy_cleanup(c);
    r = http("POST", url, basic, "application/x-www-form-urlencoded", body, strlen(body));
    ck_assert_int_eq(r.status, 429);
    rfree(&r);
}
END_TEST

START_TEST(test_v1_products_and_hooks)
{
    char url[300];
    resp r = get("v1", "%s/products/10000003", URL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "sku"), "ITM00003");
    rfree(&r);
    snprintf(url, sizeof url, "%s/products/10000003", URL);
    r = post_json("PUT", "v1", url, "{\"productId\":10000003,\"sku\":\"ITM00003\",\"name\":\"Renamed\",\"weightOz\":32}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(js(r.json, "success"), "true");
    rfree(&r);
    r = get("v1", "%s/products/10000003", URL);
    ck_assert_str_eq(js(r.json, "name"), "Renamed");
    ck_assert_str_eq(js(r.json, "price"), "0"); /* left out: the whole resource is replaced */
    rfree(&r);
    r = get("v2", "%s/v2/products?sku=ITM00003", URL);
    ck_assert_str_eq(js(r.json, "products[0].weight.value"), "2");
    rfree(&r);
    r = post_json("PUT", "v1", url, "{\"sku\":\"ITM00003\"}");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    /* ORDER_NOTIFY on creation, webhook list and delete */
    int port;
    struct MHD_Daemon *d = hook_start(&port);
    char body[300];
    snprintf(url, sizeof url, "%s/webhooks/subscribe", URL);
    snprintf(body, sizeof body, "{\"target_url\":\"http://127.0.0.1:%d/o\",\"event\":\"ORDER_NOTIFY\"}", port);
    r = post_json("POST", "v1", url, body);
    double id = jnum_at(r.json, "id");
    rfree(&r);
    r = post_json("POST", "v1", url, "{\"target_url\":\"ftp://x\",\"event\":\"SHIP_NOTIFY\"}");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    snprintf(url, sizeof url, "%s/orders/createorders", URL);
    char many[4096];
    snprintf(many, sizeof many, "[%s]", ORDER);
    r = post_json("POST", "v1", url, many);
    rfree(&r);
    ck_assert_int_ge(wait_hooks(1, HOOK_WAIT_MS), 1);
    cJSON *p = cJSON_Parse(HOOK_BODY[0]);
    ck_assert_str_eq(js(p, "resource_type"), "ORDER_NOTIFY");
    char res[400];
    snprintf(res, sizeof res, "%s", js(p, "resource_url"));
    cJSON_Delete(p);
    ck_assert_str_eq(HOOK_SIG[0], ""); /* V1 is not signed */
    r = get("v1", "%s", res);
    ck_assert_int_eq((int)jnum_at(r.json, "total"), 1);
    rfree(&r);
    r = get("v1", "%s/webhooks", URL);
    ck_assert_str_eq(js(r.json, "webhooks[0].HookType"), "ORDER_NOTIFY");
    rfree(&r);
    snprintf(url, sizeof url, "%s/webhooks/%.0f", URL, id);
    r = http("DELETE", url, "v1", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 200);
    rfree(&r);
    r = http("DELETE", url, "v1", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 404);
    rfree(&r);
    MHD_stop_daemon(d);
}
END_TEST

START_TEST(test_v2_webhooks_crud)
{
    char url[300];
    snprintf(url, sizeof url, "%s/v2/environment/webhooks", URL);
    resp r = post_json("POST", "v2", url, "{\"event\":\"track\",\"url\":\"http://127.0.0.1:9/x\"}");
    ck_assert_int_eq(r.status, 200);
    char id[64];
    snprintf(id, sizeof id, "%s", js(r.json, "webhook_id"));
    rfree(&r);
    r = post_json("POST", "v2", url, "{\"event\":\"track\",\"url\":\"http://127.0.0.1:9/x\"}");
    ck_assert_int_eq(r.status, 409);
    rfree(&r);
    r = post_json("POST", "v2", url, "{\"event\":\"track\",\"url\":\"http://127.0.0.1:9/y\",\"color\":\"red\"}");
    ck_assert_int_eq(r.status, 400);
    rfree(&r);
    r = get("v2", "%s/v2/environment/webhooks", URL);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    rfree(&r);
    snprintf(url, sizeof url, "%s/v2/environment/webhooks/%s", URL, id);
    r = http("DELETE", url, "v2", NULL, NULL, 0);
    ck_assert_int_eq(r.status, 204);
    rfree(&r);
    r = get("v2", "%s/v2/environment/webhooks/%s", URL, id);
    ck_assert_int_eq(r.status, 404);
    rfree(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mlc-sim");
    TCase *t = tcase_create("sim");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 30);
    tcase_add_test(t, test_files_written);
    tcase_add_test(t, test_ion_grants_and_errors);
    tcase_add_test(t, test_ion_token_expires_on_virtual_clock);
    tcase_add_test(t, test_m3_get_shapes_and_errors);
    tcase_add_test(t, test_m3_receipts_change_state);
    tcase_add_test(t, test_m3_exportmi_and_bulk);
    tcase_add_test(t, test_m3_items);
    tcase_add_test(t, test_v2_shipments_flow);
    tcase_add_test(t, test_v2_partial_ship_splits);
    tcase_add_test(t, test_v2_webhook_delivery);
    tcase_add_test(t, test_v2_rate_limit);
    tcase_add_test(t, test_v2_rate_sliding_count);
    tcase_add_test(t, test_v2_inventory);
    tcase_add_test(t, test_v1_orders);
    tcase_add_test(t, test_v1_shipments_and_webhook);
    tcase_add_test(t, test_v1_rate_limit_window);
    tcase_add_test(t, test_faults_429_500_reset_commit_drop);
    tcase_add_test(t, test_faults_latency_commit_before);
    tcase_add_test(t, test_faults_reproducible);
    tcase_add_test(t, test_hostile_input);
    tcase_add_test(t, test_faults_latency_timeout_token_expiry);
    tcase_add_test(t, test_webhook_duplicates_and_loss);
    tcase_add_test(t, test_v2_update_pending_only);
    tcase_add_test(t, test_v1_pacific_dst);
    tcase_add_test(t, test_m3_advise_and_goods_receipt_state);
    tcase_add_test(t, test_token_lifetime_time_scale);
    tcase_add_test(t, test_hostile_seed);
    tcase_add_test(t, test_m3_v1_shape_and_partial);
    tcase_add_test(t, test_admin_limits);
    tcase_add_test(t, test_v1_products_and_hooks);
    tcase_add_test(t, test_v2_webhooks_crud);
    suite_add_tcase(s, t);
    TCase *p = tcase_create("process");
    tcase_add_test(p, test_refuses_non_loopback);
    tcase_add_test(p, test_gen_seed_matches_default);
    suite_add_tcase(s, p);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
