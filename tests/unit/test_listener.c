/*
 * test_listener.c: lib/listener over a real loopback socket: a notification on
 * the token path is stored (200) and kicks nothing when there is no runner, a
 * wrong path is 404, a bad --listen address is refused, and a client that sends
 * half a request is cut at the whole-request deadline while mlc_listener_wait()
 * waits for its stop signal.
 */
#include "listener.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

static const char body[] = "{\"resource_url\":\"https://api.shipstation.com/v2/labels/se-1\","
                           "\"resource_type\":\"LABEL_CREATED_V2\"}";

static int dial(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* One request on a fresh connection; returns the HTTP status. */
static int post(unsigned port, const char *path)
{
    int fd = dial(port);
    char req[1024], resp[1024];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     path, strlen(body), body);
    ck_assert_int_eq(send(fd, req, (size_t)n, 0), n);
    ssize_t r = recv(fd, resp, sizeof resp - 1, MSG_WAITALL);
    close(fd);
    ck_assert_int_gt(r, 12);
    resp[r] = '\0';
    return atoi(resp + 9);
}

typedef struct slow {
    unsigned port;
    double cut_after_s; /* -1: never cut */
} slow;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *slow_client(void *ud)
{
    slow *s = ud;
    int fd = dial(s->port);
    const char half[] = "POST /tok HTTP/1.1\r\nHost: x\r\n";
    send(fd, half, sizeof half - 1, 0);
    double t0 = mono();
    struct timeval tv = {6, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[256];
    ssize_t r = recv(fd, b, sizeof b, 0);
    s->cut_after_s = r <= 0 ? mono() - t0 : -1;
    close(fd);
    kill(getpid(), SIGUSR1); /* pending for the process: mlc_listener_wait takes it */
    return NULL;
}

START_TEST(stores_refuses_and_cuts)
{
    char *d = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/w.db", d);
    mlc_store *st = NULL;
    mlc_error e = {0};
    ck_assert_int_eq(mlc_store_open(path, 0, &st, &e), MLC_OK);
    mlc_log *lg = mlc_log_new(fopen("/dev/null", "w"), MLC_LOG_TEXT, MLC_LOG_ERROR);
    mlc_webhook *wh = NULL;
    ck_assert_int_eq(mlc_webhook_new(st, lg, "tok", NULL, &wh, &e), MLC_OK);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the daemon's thread starts */
    mlc_listener *l = NULL;
    mlc_listener_opts o = {
        .listen = "127.0.0.1:0", .max_conn = 8, .max_per_ip = 8, .request_timeout = 1, .wh = wh, .log = lg};
    ck_assert_int_eq(mlc_listener_start(&o, &l, &e), MLC_OK);
    ck_assert_str_eq(mlc_listener_host(l), "127.0.0.1");
    ck_assert_uint_ne(mlc_listener_port(l), 0);
    ck_assert_int_eq(post(mlc_listener_port(l), "/tok"), 200);
    ck_assert_int_eq(post(mlc_listener_port(l), "/other"), 404);
    mlc_store_inbox_item *items = NULL;
    size_t n = 0;
    ck_assert_int_eq(mlc_store_inbox_pending(st, 10, &items, &n, &e), MLC_OK);
    ck_assert_uint_eq(n, 1);
    mlc_store_inbox_free(items, n);

    slow s = {.port = mlc_listener_port(l)};
    pthread_t th;
    pthread_create(&th, NULL, slow_client, &s);
    int sigs[] = {SIGUSR1};
    ck_assert_int_eq(mlc_listener_wait(l, sigs, 1), SIGUSR1);
    pthread_join(th, NULL);
    /* cut by our deadline (1 s, checked every second), long before the 10 s idle limit */
    ck_assert_msg(s.cut_after_s >= 0 && s.cut_after_s < 4, "slow client not cut in time: %.1f", s.cut_after_s);
    mlc_listener_stop(l);

    o.listen = "localhost:80";
    ck_assert_int_eq(mlc_listener_start(&o, &l, &e), MLC_ERR_USAGE);
    ck_assert_int_eq(mlc_listener_addr_ok("127.0.0.1:8080"), 1);
    ck_assert_int_eq(mlc_listener_addr_ok("127.0.0.1:65536"), 0);
    ck_assert_int_eq(mlc_listener_addr_ok("127.0.0.1"), 0);
    mlc_webhook_free(wh);
    mlc_store_close(st);
    mlc_log_free(lg);
    free(d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("listener");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, stores_refuses_and_cuts);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
