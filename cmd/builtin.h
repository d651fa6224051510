/*
 * builtin.h: the table of mlc subcommands (git's builtin table is the model).
 *
 * Each subcommand lives in cmd/<name>.c as
 *     int cmd_<name>(int argc, char **argv, mlc_ctx *ctx);
 * argv[0] is the subcommand name; shared options (--config, --profile,
 * --log-format, -q, -v) are already removed and applied to ctx by cmd/mlc.c.
 * It returns an exit code from the table in error.h / mlc(1).
 *
 * To add a subcommand: write cmd/<name>.c, add one MLC_BUILTIN line below (kept
 * in alphabetical order), write man/mlc-<name>.1. Nothing else.
 * Not here: option parsing helpers (cmd/cmd.h) or any library logic.
 */
#ifndef MLC_BUILTIN_H
#define MLC_BUILTIN_H

#include "ctx.h"

/* X-macro: MLC_BUILTIN(name-as-typed, c-identifier, one-line summary) */
#define MLC_BUILTINS(MLC_BUILTIN) \
    MLC_BUILTIN("audit", audit, "print the audit trail of a receipt, a shipment or a PO, oldest first") \
    MLC_BUILTIN("creds", creds, "add, list, remove credentials in the encrypted vault") \
    MLC_BUILTIN("ping", ping, "log in to CloudSuite and ShipStation and make one cheap read") \
    MLC_BUILTIN("post-receipts", post_receipts, "post goods receipts to CloudSuite for shipped PO lines, exactly once") \
    MLC_BUILTIN("pull-pos", pull_pos, "emit CloudSuite purchase orders changed since the last run") \
    MLC_BUILTIN("pull-shipments", pull_shipments, "emit ShipStation shipments that shipped or were voided") \
    MLC_BUILTIN("push-shipments", push_shipments, "create or update ShipStation inbound shipments from POs") \
    MLC_BUILTIN("queue", queue, "list receipts: pending, queued, exhausted, needs review, posted") \
    MLC_BUILTIN("replay", replay, "re-post exhausted or reviewed receipts through the exactly-once path") \
    MLC_BUILTIN("state", state, "the state store: copy SQLite state into PostgreSQL (verified), set its password") \
    MLC_BUILTIN("status", status, "one look at the profile's health: runs, cursors, receipts, token, rate budget") \
    MLC_BUILTIN("sync-items", sync_items, "align CloudSuite items with ShipStation products and stock, both ways") \
    MLC_BUILTIN("version", version, "print mlc's version") \
    MLC_BUILTIN("webhook", webhook, "receive ShipStation webhooks (serve) and register them (subscribe)")

#define MLC_DECLARE(name, id, summary) int cmd_##id(int argc, char **argv, mlc_ctx *ctx);
MLC_BUILTINS(MLC_DECLARE)
#undef MLC_DECLARE

#endif
