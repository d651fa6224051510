/*
 * state.c: `mlc state`: the profile's state store as a whole.
 *   migrate --to URL [--force]  copy the SQLite state into PostgreSQL, verified
 *   set-password                the PostgreSQL password (stdin) into the vault
 * Thin: the copy and its check are lib/store's (mlc_store_copy), the password's
 * keeping lib/ctx's. Not here: the pipelines' use of the state.
 */
#include "builtin.h"
#include "cmd.h"
#include "secret.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] = "usage: mlc state migrate --to postgresql://USER@HOST/DATABASE[?PARAMS] [--force]\n"
                            "       mlc state set-password < FILE\n"
                            "\n"
                            "migrate       copies the profile's SQLite state (STATE_DIR/PROFILE.db) into the\n"
                            "              PostgreSQL database of the URL (created tables, the profile's name\n"
                            "              recorded), then checks every table: row count and content hash on\n"
                            "              both sides, printed one line per table. Stop the profile's timers\n"
                            "              first. A database holding another profile's state is refused (78); one\n"
                            "              already holding this profile's rows is refused unless identical\n"
                            "              (nothing to do) or --force (its rows are replaced). The password comes\n"
                            "              from state_password_file or the vault, never from the URL. Then set\n"
                            "              `state: URL` in the profile.\n"
                            "  --to URL    the target (no password in it; sslmode=verify-full off loopback)\n"
                            "  --force     replace what the target holds of this profile\n"
                            "set-password  reads the PostgreSQL password from standard input (first line) and\n"
                            "              stores it in the profile's vault (entry \"state\"); never an argument.\n"
                            "\n"
                            "Exit: 0 done (or already identical), 1 the copy does not verify, 64 usage,\n"
                            "74 store error, 75 busy, 78 refused (URL, password, target).\n";

static int set_password(mlc_ctx *ctx)
{
    char buf[1100];
    mlc_error err = {0};
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "PostgreSQL password (one line, then Enter): ");
    if (!fgets(buf, sizeof buf, stdin) || (buf[strcspn(buf, "\r\n")] = '\0', !buf[0])) {
        mlc_secret_wipe(buf, sizeof buf);
        return cmd_usage_error(usage, "set-password: no password on standard input");
    }
    char *file = NULL;
    mlc_err rc = mlc_ctx_state_password_save(ctx, buf, &file, &err);
    mlc_secret_wipe(buf, sizeof buf);
    if (rc)
        return cmd_fail(ctx, &err);
    mlc_log_info(mlc_ctx_log(ctx), "the state password is in the vault %s (entry \"state\")", file);
    free(file);
    return 0;
}

static int migrate(mlc_ctx *ctx, const char *to, int force)
{
    mlc_error err = {0};
    const mlc_config *cfg;
    char *from_path = NULL, *pw = NULL, *password = NULL;
    mlc_store *from = NULL, *dst = NULL;
    mlc_store_table_check *checks = NULL;
    size_t n = 0;
    mlc_store_copy_outcome outcome = MLC_STORE_COPY_DONE;
    mlc_err rc = mlc_ctx_config(ctx, &cfg, &err);
    if (!rc)
        rc = mlc_ctx_state_location(ctx, &from_path, &pw, &err);
    mlc_ctx_free_password(pw);
    if (!rc && mlc_store_is_url(from_path))
        rc = mlc_error_set(&err, MLC_ERR_CONFIG,
                           "the profile's state is already in PostgreSQL (state: in %s): migrate copies a SQLite "
                           "state; run it before switching the profile",
                           mlc_config_path(cfg));
    if (!rc && access(from_path, F_OK) != 0)
        rc = mlc_error_set(&err, MLC_ERR_CONFIG, "no SQLite state to migrate at %s", from_path);
    if (!rc && (rc = mlc_store_url_check(to, &err)) != MLC_OK)
        mlc_error_prefix(&err, "--to");
    if (!rc)
        rc = mlc_ctx_state_password(ctx, &password, &err);
    if (!rc)
        rc = mlc_store_open(from_path, 0, &from, &err);
    if (!rc) {
        mlc_store_opts o = {.location = to, .password = password, .profile = mlc_config_profile(cfg)};
        rc = mlc_store_open_with(&o, &dst, &err);
    }
    mlc_ctx_free_password(password);
    if (!rc)
        rc = mlc_store_copy(from, dst, force ? MLC_STORE_COPY_FORCE : 0, &checks, &n, &outcome, &err);
    for (size_t i = 0; i < n && outcome != MLC_STORE_COPY_REFUSED; i++)
        printf("%-12s rows %7ld -> %7ld  hash %.16s -> %.16s  %s\n", checks[i].table, checks[i].rows_from,
               checks[i].rows_to, checks[i].hash_from, checks[i].hash_to, checks[i].same ? "ok" : "DIFFERS");
    if (!rc)
        printf("%s %s to %s: %zu tables verified\n",
               outcome == MLC_STORE_COPY_ALREADY ? "already migrated" : "migrated", from_path, mlc_store_name(dst), n);
    free(checks);
    free(from_path);
    mlc_store_close(from);
    mlc_store_close(dst);
    if (rc && outcome == MLC_STORE_COPY_DIFFERS) {
        mlc_log_error(mlc_ctx_log(ctx), "%s", err.msg);
        return 1;
    }
    return rc ? cmd_fail(ctx, &err) : 0;
}

int cmd_state(int argc, char **argv, mlc_ctx *ctx)
{
    static const struct option opts[] = {{"to", 1, 0, 't'}, {"force", 0, 0, 'f'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *to = NULL;
    int force = 0, c;
    if (argc < 2)
        return cmd_usage_error(usage, "state needs a subcommand: migrate or set-password");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return cmd_help(usage);
    const char *sub = argv[1];
    optind = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            to = optarg;
            break;
        case 'f':
            force = 1;
            break;
        case 'h':
            return cmd_help(usage);
        default:
            return cmd_usage_error(usage, "unknown option");
        }
    }
    if (optind + 1 < argc)
        return cmd_usage_error(usage, "unexpected argument '%s'", argv[optind + 1]);
    if (!strcmp(sub, "set-password")) {
        if (to || force)
            return cmd_usage_error(usage, "set-password takes no options");
        return set_password(ctx);
    }
    if (strcmp(sub, "migrate") != 0)
        return cmd_usage_error(usage, "unknown state subcommand '%s'", sub);
    if (!to)
        return cmd_usage_error(usage, "migrate needs --to postgresql://...");
    if (!mlc_store_is_url(to))
        return cmd_usage_error(usage, "--to must be a postgresql:// URL");
    return migrate(ctx, to, force);
}
