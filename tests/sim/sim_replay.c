/*
 * sim_replay.c: `mlc-sim --replay FILE.har`: answers requests from a HAR file that
 * `mlc --trace` wrote, for regression tests of what a customer sent to support.
 * Each request takes the first unused recorded exchange with the same method and
 * URL path (the query and the host are not compared: the recording was made
 * against another address), and gets its status, Content-Type, rate-limit headers
 * and body. An exchange whose body mlc did not record (ION token requests and
 * responses) is left to the simulator's own handler, so the replaying mlc logs in
 * with the replay sandbox's credentials. A request with no recorded exchange left
 * gets 404 and a line on stderr.
 *
 * Not here: writing HAR (lib/trace), the admin API (never replayed).
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static cJSON *har;        /* the whole file, kept for the process's life */
static cJSON *entries;    /* har.log.entries */
static unsigned char *used;
static int nentries;

int replay_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mlc-sim: --replay %s: cannot open\n", path);
        return -1;
    }
    sbuf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        sb_addn(&b, tmp, n);
    fclose(f);
    har = b.s ? cJSON_Parse(b.s) : NULL;
    free(b.s);
    entries = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(har, "log"), "entries");
    if (!cJSON_IsArray(entries)) {
        fprintf(stderr, "mlc-sim: --replay %s: not a HAR file (no log.entries)\n", path);
        cJSON_Delete(har);
        har = NULL;
        return -1;
    }
    nentries = cJSON_GetArraySize(entries);
    used = calloc((size_t)nentries + 1, 1);
    return used ? 0 : -1;
}

int replay_active(void) { return har != NULL; }

/* The path of a URL: after scheme://host[:port], up to '?' or '#'. */
static int same_path(const char *url, const char *path)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p)
        p = "/";
    size_t n = strcspn(p, "?#");
    return strlen(path) == n && strncmp(p, path, n) == 0;
}

int replay_answer(sim_req *rq, sim_resp *rs)
{
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(e, "request");
        const char *m = jstr(req, "method"), *url = jstr(req, "url");
        if (used[i] || !m || !url || strcmp(m, rq->method) != 0 || !same_path(url, rq->path)) {
            i++;
            continue;
        }
        used[i] = 1;
        const cJSON *resp = cJSON_GetObjectItemCaseSensitive(e, "response");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(resp, "content");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(content, "size");
        const char *text = jstr(content, "text");
        if (!text && cJSON_IsNumber(size) && size->valuedouble > 0)
            return 0; /* not recorded (a token exchange): the sim's own handler answers */
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(resp, "status");
        int status = cJSON_IsNumber(st) ? (int)st->valuedouble : 0;
        if (status < 100) {
            rs->drop = 1; /* the recording got no response: nor does the replay */
            return 1;
        }
        const char *mime = jstr(content, "mimeType");
        resp_text(rs, status, mime && *mime ? mime : "application/octet-stream", text ? text : "");
        const cJSON *h;
        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(resp, "headers"))
        {
            const char *name = jstr(h, "name"), *value = jstr(h, "value");
            if (name && value && (!strncasecmp(name, "X-Rate-Limit-", 13) || !strcasecmp(name, "Retry-After") ||
                                  !strcasecmp(name, "Location")))
                resp_header(rs, name, "%s", value);
        }
        return 1;
    }
    fprintf(stderr, "mlc-sim: replay: no recorded exchange left for %s %s\n", rq->method, rq->path);
    resp_text(rs, 404, "text/plain", "mlc-sim replay: no recorded exchange for this request\n");
    return 1;
}
