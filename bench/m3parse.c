/*
 * bench/m3parse.c: the M3 half of `mlc pull-pos` without the network, for the
 * benchmark "parse M3 list responses into purchase_order records" (bench/run.sh).
 * Reads saved M3 response bodies from standard input, one per line, in pairs: a
 * PPS200MI/GetHead body, then the PPS200MI/LstLine body of the same PO. Each pair
 * goes through libmlc's own M3 parser (mlc_m3_result_parse) and record builder
 * (mlc_po_record) and comes out as the purchase_order JSON line pull-pos writes.
 *
 * Not here: HTTP, cursors and content hashes (cmd/pull_pos.c), timing (bench/run.sh).
 * Not installed: a bench tool only.
 *
 * Usage: m3parse DAY <responses >records     (DAY: the change day, yyyyMMdd, for all)
 */
#include "jsonl.h"
#include "m3.h"
#include "po.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One response line parsed, or NULL (with a message naming the line). */
static mlc_m3_result *parse_line(const char *line, size_t len, const char *what, unsigned long lineno)
{
    mlc_m3_result *r = NULL;
    mlc_error e;
    if (mlc_m3_result_parse(line, len, what, &r, &e) != MLC_OK || mlc_m3_result_count(r) == 0) {
        fprintf(stderr, "m3parse: line %lu: %s\n", lineno, r ? mlc_m3_result_message(r) : e.msg);
        mlc_m3_result_free(r);
        return NULL;
    }
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 2 || strlen(argv[1]) != 8) {
        fprintf(stderr, "usage: m3parse DAY <responses >records   (DAY: yyyyMMdd)\n");
        return 64;
    }
    mlc_jsonl_writer *w = mlc_jsonl_writer_new(stdout);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    mlc_m3_result *head = NULL;
    int rc = w ? 0 : 71;
    mlc_error e;
    while (!rc && (n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        if (!head) {
            if (!(head = parse_line(line, (size_t)n, "PPS200MI/GetHead", lineno)))
                rc = 65;
            continue;
        }
        mlc_m3_result *lines = parse_line(line, (size_t)n, "PPS200MI/LstLine", lineno);
        const char *po = mlc_m3_result_get(head, 0, "PUNO");
        cJSON *rec = lines && po ? mlc_po_record(head, lines, po, argv[1], 0, NULL) : NULL;
        if (!rec || mlc_jsonl_write(w, rec, &e) != MLC_OK)
            rc = rec ? 74 : 65;
        cJSON_Delete(rec);
        mlc_m3_result_free(lines);
        mlc_m3_result_free(head);
        head = NULL;
    }
    if (!rc && head) {
        fprintf(stderr, "m3parse: line %lu: a GetHead body without its LstLine body\n", lineno);
        rc = 65;
    }
    if (w && mlc_jsonl_writer_flush(w, &e) != MLC_OK && !rc)
        rc = 74;
    mlc_m3_result_free(head);
    mlc_jsonl_writer_free(w);
    free(line);
    return rc;
}
