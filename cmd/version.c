/*
 * version.c: `mlc version` (also `mlc --version`): prints the version.
 */
#include "builtin.h"
#include "cmd.h"

#include <string.h>

static const char usage[] = "usage: mlc version\n\nPrints mlc's version and exits.\n";

int cmd_version(int argc, char **argv, mlc_ctx *ctx)
{
    (void)ctx;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return cmd_help(usage);
    if (argc > 1)
        return cmd_usage_error(usage, "version takes no arguments");
    printf("mlc %s\n", MLC_VERSION);
    return 0;
}
