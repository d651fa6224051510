/*
 * log.c: stderr logging with secret masking.  See log.h.
 * Not here: anything that writes to stdout.
 */
#include "log.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MSG_MAX 4096

struct mlc_log {
    FILE *out;
    mlc_log_format fmt;
    mlc_log_level level;
    char program[64];
    char **secrets;
    size_t nsecrets;
};

static const char *level_names[] = {"error", "warn", "info", "debug"};

mlc_log *mlc_log_new(FILE *out, mlc_log_format fmt, mlc_log_level level)
{
    mlc_log *log = calloc(1, sizeof *log);
    if (!log)
        return NULL;
    log->out = out;
    log->fmt = fmt;
    log->level = level;
    snprintf(log->program, sizeof log->program, "mlc");
    return log;
}

void mlc_log_free(mlc_log *log)
{
    if (!log)
        return;
    for (size_t i = 0; i < log->nsecrets; i++) {
        OPENSSL_cleanse(log->secrets[i], strlen(log->secrets[i]));
        free(log->secrets[i]);
    }
    free(log->secrets);
    free(log);
}

void mlc_log_set_level(mlc_log *log, mlc_log_level level) { log->level = level; }
void mlc_log_set_format(mlc_log *log, mlc_log_format fmt) { log->fmt = fmt; }
mlc_log_level mlc_log_get_level(const mlc_log *log) { return log ? log->level : MLC_LOG_WARN; }

void mlc_log_set_program(mlc_log *log, const char *name)
{
    snprintf(log->program, sizeof log->program, "%s", name);
}

int mlc_log_parse_format(const char *s, mlc_log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = MLC_LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = MLC_LOG_JSON;
    else
        return -1;
    return 0;
}

void mlc_log_secret(mlc_log *log, const char *secret)
{
    if (!log || !secret || strlen(secret) < 4)
        return;
    for (size_t i = 0; i < log->nsecrets; i++)
        if (strcmp(log->secrets[i], secret) == 0)
            return;
    char **grown = realloc(log->secrets, (log->nsecrets + 1) * sizeof *grown);
    if (!grown)
        return;
    log->secrets = grown;
    log->secrets[log->nsecrets] = strdup(secret);
    if (log->secrets[log->nsecrets])
        log->nsecrets++;
}

void mlc_log_redact(const mlc_log *log, char *buf)
{
    if (!log || !buf)
        return;
    for (size_t i = 0; i < log->nsecrets; i++) {
        const char *s = log->secrets[i];
        size_t n = strlen(s);
        char *p;
        while ((p = strstr(buf, s)) != NULL) {
            memcpy(p, "***", 3);
            memmove(p + 3, p + n, strlen(p + n) + 1);
        }
    }
}

void mlc_log_msg(mlc_log *log, mlc_log_level level, const char *fmt, ...)
{
    char msg[LOG_MSG_MAX];
    va_list ap;
    if (!log || level > log->level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mlc_log_redact(log, msg);
    FILE *out = log->out ? log->out : stderr;
    if (log->fmt == MLC_LOG_JSON) {
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ts", ts);
        cJSON_AddStringToObject(o, "level", level_names[level]);
        cJSON_AddStringToObject(o, "program", log->program);
        cJSON_AddStringToObject(o, "msg", msg);
        char *s = cJSON_PrintUnformatted(o);
        if (s)
            fprintf(out, "%s\n", s);
        free(s);
        cJSON_Delete(o);
    } else if (level == MLC_LOG_ERROR || level == MLC_LOG_WARN) {
        fprintf(out, "%s: %s%s\n", log->program, level == MLC_LOG_WARN ? "warning: " : "", msg);
    } else {
        fprintf(out, "%s: %s\n", log->program, msg);
    }
    fflush(out);
}
