/*
 * sim_record.c: mlc-sim --record FILE: every exchange with the M3, V2 and V1 stand-ins
 * appended to FILE as one JSON line {api, method, path, query, body, status, response}
 * (body and response parsed when they are JSON, else the text; status is the HTTP
 * status or the fault word: reset, timeout, commit_drop; "fault" names an injected
 * fault that answered or shaped the exchange), for the contract check of
 * tests/integration/test_contracts.sh (tests/contracts/).
 *
 * Never recorded: headers (credentials travel there), ION token calls (their bodies
 * carry the client secret and the service-account keys) and the admin API.
 * Not here: judging the traffic (tests/contracts/ and sim_contract.c).
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *rec_file;
static pthread_mutex_t rec_mu = PTHREAD_MUTEX_INITIALIZER;

int record_open(const char *path)
{
    rec_file = fopen(path, "ae");
    if (!rec_file)
        return -1;
    return 0;
}

void record_close(void)
{
    if (rec_file)
        fclose(rec_file);
    rec_file = NULL;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    cJSON *q = cls, *old = cJSON_GetObjectItemCaseSensitive(q, key);
    cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateString("");
    if (!old) {
        cJSON_AddItemToObject(q, key, v);
    } else if (cJSON_IsArray(old)) {
        cJSON_AddItemToArray(old, v);
    } else { /* a repeated argument: kept as a list */
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, cJSON_Duplicate(old, 1));
        cJSON_AddItemToArray(arr, v);
        cJSON_ReplaceItemInObjectCaseSensitive(q, key, arr);
    }
    return MHD_YES;
}

static cJSON *json_or_text(const char *s)
{
    if (!s || !*s)
        return cJSON_CreateNull();
    cJSON *j = cJSON_Parse(s);
    return j ? j : cJSON_CreateString(s);
}

void record_exchange(sim_req *rq, const sim_resp *rs, const char *status_word)
{
    const char *api = rq->system == '2' ? "v2" : rq->system == '1' ? "v1" : rq->system == 'M' ? "m3" : NULL;
    if (!rec_file || !api)
        return;
    cJSON *o = cJSON_CreateObject(), *q = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "api", api);
    cJSON_AddStringToObject(o, "method", rq->method);
    cJSON_AddStringToObject(o, "path", rq->path);
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, add_arg, q);
    cJSON_AddItemToObject(o, "query", q);
    cJSON_AddItemToObject(o, "body", json_or_text(rq->body));
    if (status_word) {
        cJSON_AddStringToObject(o, "status", status_word);
        cJSON_AddNullToObject(o, "response");
    } else {
        cJSON_AddNumberToObject(o, "status", rs->status);
        cJSON_AddItemToObject(o, "response", json_or_text(rs->body));
    }
    if (rq->fault[0]) /* an injected fault answered (or shaped) it, not the service model */
        cJSON_AddStringToObject(o, "fault", rq->fault);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line)
        return;
    pthread_mutex_lock(&rec_mu);
    fputs(line, rec_file);
    fputc('\n', rec_file);
    fflush(rec_file);
    pthread_mutex_unlock(&rec_mu);
    free(line);
}
