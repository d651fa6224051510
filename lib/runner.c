/*
 * runner.c: debounced, serialised /bin/sh -c runs (see runner.h).
 * Not here: the command's meaning, HTTP.
 */
#include "runner.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct mlc_runner {
    char *command;
    char **env;
    long debounce_ms;
    long grace_ms;
    mlc_log *log;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    int pending;            /* a run is scheduled */
    double due_ms;          /* when (monotonic) */
    pid_t child;            /* running, or 0 */
    mlc_runner_stats stats;
};

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void mlc_runner_kick(mlc_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stats.kicks++;
    if (!r->pending) {
        r->pending = 1;
        r->due_ms = mono_ms() + (double)r->debounce_ms;
        pthread_cond_signal(&r->cv);
    }
    /* already pending: this kick joins it (also while a run is going: the pending
     * run starts after it) */
    pthread_mutex_unlock(&r->mu);
}

/* Logs the child's output line by line until EOF. */
static void log_output(mlc_runner *r, int fd, long run)
{
    char buf[4096];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', have - (size_t)(start - buf))) != NULL) {
            *nl = '\0';
            mlc_log_info(r->log, "on-notify run %ld: %s", run, start);
            start = nl + 1;
        }
        have -= (size_t)(start - buf);
        memmove(buf, start, have);
        if (have == sizeof buf - 1) { /* a very long line: log it in pieces */
            buf[have] = '\0';
            mlc_log_info(r->log, "on-notify run %ld: %s", run, buf);
            have = 0;
        }
    }
    if (have) {
        buf[have] = '\0';
        mlc_log_info(r->log, "on-notify run %ld: %s", run, buf);
    }
}

static void run_once(mlc_runner *r, long run)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        mlc_log_error(r->log, "on-notify: pipe: %s", strerror(errno));
        return;
    }
    double t0 = mono_ms();
    pid_t pid = fork();
    if (pid < 0) {
        mlc_log_error(r->log, "on-notify: fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return;
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls until exec */
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0 && devnull != 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        /* no other descriptor (the listening socket, the state database) */
        long maxfd = sysconf(_SC_OPEN_MAX);
        for (long fd = 3; fd < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536); fd++)
            close((int)fd);
        execle("/bin/sh", "sh", "-c", r->command, (char *)NULL, r->env);
        _exit(127);
    }
    close(pfd[1]);
    pthread_mutex_lock(&r->mu);
    r->child = pid;
    pthread_mutex_unlock(&r->mu);
    log_output(r, pfd[0], run);
    close(pfd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    double secs = (mono_ms() - t0) / 1000.0;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    pthread_mutex_lock(&r->mu);
    r->child = 0;
    r->stats.last_status = code;
    if (code != 0)
        r->stats.failures++;
    pthread_mutex_unlock(&r->mu);
    if (code == 0)
        mlc_log_info(r->log, "on-notify run %ld: exit 0 after %.1f s", run, secs);
    else if (WIFSIGNALED(st))
        mlc_log_warn(r->log, "on-notify run %ld: killed by signal %d after %.1f s", run, WTERMSIG(st), secs);
    else
        mlc_log_warn(r->log, "on-notify run %ld: exit %d after %.1f s", run, code, secs);
}

static void *loop(void *ud)
{
    mlc_runner *r = ud;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stopping && !r->pending)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stopping)
            break;
        double now = mono_ms();
        if (now < r->due_ms) {
            double at = r->due_ms;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            double wait_ms = at - now;
            ts.tv_sec += (time_t)(wait_ms / 1000);
            ts.tv_nsec += (long)((wait_ms - (double)(long)(wait_ms / 1000) * 1000) * 1e6);
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
            continue;
        }
        r->pending = 0; /* kicks from now on schedule the next run */
        long run = ++r->stats.runs;
        pthread_mutex_unlock(&r->mu);
        run_once(r, run);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

mlc_err mlc_runner_start(const mlc_runner_opts *o, mlc_runner **out, mlc_error *err)
{
    *out = NULL;
    if (!o || !o->command || !*o->command || o->debounce_ms < 0)
        return mlc_error_set(err, MLC_ERR_USAGE, "on-notify: empty command or negative debounce");
    mlc_runner *r = calloc(1, sizeof *r);
    if (!r)
        return mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    size_t n = 0;
    while (o->env && o->env[n])
        n++;
    r->env = calloc(n + 1, sizeof *r->env);
    r->command = strdup(o->command);
    int bad = !r->env || !r->command;
    for (size_t i = 0; !bad && i < n; i++)
        bad = !(r->env[i] = strdup(o->env[i]));
    r->debounce_ms = o->debounce_ms;
    r->grace_ms = o->stop_grace_ms > 0 ? o->stop_grace_ms : 10000;
    r->log = o->log;
    r->stats.last_status = -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (bad || pthread_create(&r->thread, NULL, loop, r) != 0) {
        for (size_t i = 0; r->env && i < n; i++)
            mlc_secret_free_str(r->env[i]);
        free(r->env);
        free(r->command);
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        return mlc_error_set(err, bad ? MLC_ERR_NOMEM : MLC_ERR_IO, "on-notify: cannot start the runner");
    }
    *out = r;
    return MLC_OK;
}

void mlc_runner_stop(mlc_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    if (r->pending)
        mlc_log_info(r->log, "on-notify: a pending run is dropped; the polling cron picks its work up");
    r->pending = 0;
    pthread_cond_signal(&r->cv);
    pid_t child = r->child;
    pthread_mutex_unlock(&r->mu);
    if (child > 0) {
        /* let the running pipeline finish, then ask it to stop */
        double end = mono_ms() + (double)r->grace_ms;
        int sent = 0;
        for (;;) {
            pthread_mutex_lock(&r->mu);
            child = r->child;
            pthread_mutex_unlock(&r->mu);
            if (child <= 0)
                break;
            double now = mono_ms();
            if (now >= end && sent < 2) {
                kill(-child, sent == 0 ? SIGTERM : SIGKILL);
                if (sent == 0)
                    mlc_log_warn(r->log, "on-notify: the running command did not finish in time: SIGTERM");
                sent++;
                end = now + 5000;
            }
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    pthread_join(r->thread, NULL);
    for (char **e = r->env; e && *e; e++)
        mlc_secret_free_str(*e); /* may hold MLC_VAULT_KEY */
    free(r->env);
    free(r->command);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

void mlc_runner_get_stats(mlc_runner *r, mlc_runner_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
}

char **mlc_runner_clean_env(const char *config_path, const char *profile)
{
    static const char *const pass[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "XDG_CONFIG_HOME",
                                       "XDG_STATE_HOME", "MLC_STATE_DIR", "MLC_VAULT_KEY", "MLC_VAULT_KEY_FILE"};
    size_t n = sizeof pass / sizeof *pass;
    char **env = calloc(n + 4, sizeof *env);
    size_t k = 0;
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(pass[i]);
        if (!v && !strcmp(pass[i], "PATH"))
            v = "/usr/local/bin:/usr/bin:/bin";
        if (v && asprintf(&env[k], "%s=%s", pass[i], v) > 0)
            k++;
    }
    if (config_path && strcmp(config_path, "(none)") && asprintf(&env[k], "MLC_CONFIG=%s", config_path) > 0)
        k++;
    if (asprintf(&env[k], "MLC_PROFILE=%s", profile ? profile : "") > 0)
        k++;
    if (asprintf(&env[k], "MLC_ON_NOTIFY=1") > 0)
        k++;
    env[k] = NULL;
    return env;
}

void mlc_runner_env_free(char **env)
{
    for (char **e = env; e && *e; e++)
        mlc_secret_free_str(*e); /* may hold MLC_VAULT_KEY */
    free(env);
}
