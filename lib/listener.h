/*
 * listener.h: the HTTP listener of `mlc webhook serve`: a libmicrohttpd daemon on
 * an IPv4 address that hands every request to lib/webhook (check and store) and,
 * when one was stored, kicks the on-notify runner (lib/runner).
 *
 * Limits against slow clients (issue 17: 70 connections sending a byte every 3 s
 * locked real notifications out, since libmicrohttpd's idle timeout starts again
 * on every byte): libmicrohttpd caps connections in all (max_conn) and per IP
 * address (max_per_ip) and closes idle ones (10 s); the whole-request deadline
 * (request_timeout) is ours: every connection is tracked from its start (or the
 * end of its last request), and mlc_listener_wait() shuts down the socket of any
 * that runs past the deadline, about once a second, so libmicrohttpd sees it
 * closed and frees the slot. The tracker holds its own duplicate of the socket
 * descriptor, closed when libmicrohttpd reports the connection closed: a shutdown
 * can never reach a descriptor number reused for something else.
 *
 * Not here: what a request means (lib/webhook), the on-notify command
 * (lib/runner), printing the URL (cmd/webhook.c).
 * Ownership: mlc_listener_start() -> mlc_listener_stop(); wh, runner and log are
 * borrowed and must outlive the listener.
 */
#ifndef MLC_LISTENER_H
#define MLC_LISTENER_H

#include "error.h"
#include "log.h"
#include "runner.h"
#include "webhook.h"

#include <stddef.h>

typedef struct mlc_listener mlc_listener;

typedef struct mlc_listener_opts {
    const char *listen;       /* "IPv4ADDR:PORT"; port 0 = any free port */
    unsigned max_conn;        /* connections at once, all clients (>= 1) */
    unsigned max_per_ip;      /* connections at once from one address (>= 1) */
    unsigned request_timeout; /* whole-request deadline, seconds (>= 1) */
    mlc_webhook *wh;
    mlc_runner *runner; /* NULL: no on-notify */
    mlc_log *log;
} mlc_listener_opts;

/* 1 if s is "IPv4ADDR:PORT" (what opts.listen takes), else 0. */
int mlc_listener_addr_ok(const char *s);
/* MLC_ERR_USAGE for a bad address, MLC_ERR_UNAVAILABLE if it cannot listen. */
mlc_err mlc_listener_start(const mlc_listener_opts *o, mlc_listener **out, mlc_error *err);
/* The address and port bound ("127.0.0.1", 8080). */
const char *mlc_listener_host(const mlc_listener *l);
unsigned mlc_listener_port(const mlc_listener *l);
/* Waits for one of the n signals (which the caller has blocked in every thread,
 * before starting the listener), cutting connections past the deadline
 * meanwhile; returns the signal. */
int mlc_listener_wait(mlc_listener *l, const int *signals, size_t n);
/* Stops the daemon and frees; NULL-safe. */
void mlc_listener_stop(mlc_listener *l);

#endif
