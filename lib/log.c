/*
 * log.c: stderr logging with secret masking.  See log.h.
 * Not here: anything that writes to stdout.
 */
#include "log.h"
#include "secret.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_MSG_MAX 4096

struct mlc_log {
    pthread_mutex_t mu;        /* messages may come from two threads (webhook serve) */
    FILE *out;
    mlc_log_format fmt;
    mlc_log_level level;
    char program[64];
    char **secrets;
    size_t nsecrets;
    long counts[2];            /* errors, warnings logged */
    char last_error[512];
    char last_info[512];
    int progress_off;          /* --no-progress */
    int progress_tty;          /* -1 unknown, 0 no, 1 yes */
    int progress_shown;        /* a progress line is on the screen */
    double progress_t0;        /* monotonic seconds at the first update */
    double progress_drawn;     /* when it was last drawn */
    char progress_what[64];
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
    log->progress_tty = -1;
    pthread_mutex_init(&log->mu, NULL);
    snprintf(log->program, sizeof log->program, "mlc");
    return log;
}

void mlc_log_free(mlc_log *log)
{
    if (!log)
        return;
    for (size_t i = 0; i < log->nsecrets; i++)
        mlc_secret_free_str(log->secrets[i]);
    free(log->secrets);
    pthread_mutex_destroy(&log->mu);
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

long mlc_log_count(const mlc_log *log, mlc_log_level level)
{
    return log && level <= MLC_LOG_WARN ? log->counts[level] : 0;
}
const char *mlc_log_last_error(const mlc_log *log) { return log ? log->last_error : ""; }
const char *mlc_log_last_info(const mlc_log *log) { return log ? log->last_info : ""; }

void mlc_log_msg(mlc_log *log, mlc_log_level level, const char *fmt, ...)
{
    char msg[LOG_MSG_MAX];
    va_list ap;
    if (!log)
        return;
    int keep = level <= MLC_LOG_INFO;
    if (level > log->level && !keep)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mlc_log_redact(log, msg);
    pthread_mutex_lock(&log->mu);
    if (level <= MLC_LOG_WARN)
        log->counts[level]++;
    if (level == MLC_LOG_ERROR)
        snprintf(log->last_error, sizeof log->last_error, "%s", msg);
    else if (level == MLC_LOG_INFO)
        snprintf(log->last_info, sizeof log->last_info, "%s", msg);
    if (level > log->level) {
        pthread_mutex_unlock(&log->mu);
        return;
    }
    mlc_log_progress_done(log);
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
    pthread_mutex_unlock(&log->mu);
}

/* ---- progress ------------------------------------------------------------ */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void mlc_log_set_progress(mlc_log *log, int enabled)
{
    if (log)
        log->progress_off = !enabled;
}

int mlc_log_progress_active(const mlc_log *log)
{
    if (!log || log->progress_off || log->fmt == MLC_LOG_JSON)
        return 0;
    if (log->progress_tty < 0) {
        FILE *out = log->out ? log->out : stderr;
        const char *term = getenv("TERM");
        int fd = fileno(out);
        ((mlc_log *)log)->progress_tty = fd >= 0 && isatty(fd) && term && *term && strcmp(term, "dumb") != 0;
    }
    return log->progress_tty;
}

static void draw(mlc_log *log, const char *line)
{
    FILE *out = log->out ? log->out : stderr;
    /* \r, the line, clear to the end of the line */
    fprintf(out, "\r%s: %s\033[K", log->program, line);
    fflush(out);
    log->progress_shown = 1;
}

static void fmt_duration(double s, char *out, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(out, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(out, n, "%lds", t);
}

void mlc_log_progress(mlc_log *log, const char *what, long done, long total)
{
    if (!mlc_log_progress_active(log))
        return;
    double now = mono_s();
    if (!log->progress_shown || strcmp(log->progress_what, what) != 0) {
        if (strcmp(log->progress_what, what) != 0 || log->progress_t0 == 0)
            log->progress_t0 = now;
        snprintf(log->progress_what, sizeof log->progress_what, "%s", what);
    } else if (now - log->progress_drawn < 0.1 && !(total >= 0 && done >= total)) {
        return;
    }
    log->progress_drawn = now;
    double el = now - log->progress_t0;
    double rate = el > 0.05 ? done / el : 0;
    char line[160], eta[32] = "", rt[32] = "";
    if (rate > 0)
        snprintf(rt, sizeof rt, ", %.1f/s", rate);
    if (total >= 0 && rate > 0 && done < total) {
        char d[24];
        fmt_duration((total - done) / rate, d, sizeof d);
        snprintf(eta, sizeof eta, ", ETA %s", d);
    }
    if (total >= 0)
        snprintf(line, sizeof line, "%s: %ld/%ld%s%s", what, done, total, rt, eta);
    else
        snprintf(line, sizeof line, "%s: %ld%s", what, done, rt);
    draw(log, line);
}

void mlc_log_progress_wait(mlc_log *log, long wait_ms, const char *what)
{
    if (!mlc_log_progress_active(log))
        return;
    char line[160];
    snprintf(line, sizeof line, "waiting %ld s for %s", (wait_ms + 999) / 1000, what);
    draw(log, line);
    log->progress_drawn = 0; /* the next count update redraws at once */
}

void mlc_log_progress_done(mlc_log *log)
{
    if (!log || !log->progress_shown)
        return;
    FILE *out = log->out ? log->out : stderr;
    fputs("\r\033[K", out);
    fflush(out);
    log->progress_shown = 0;
}
