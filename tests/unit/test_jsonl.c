/* test_jsonl.c: lib/jsonl reader and writer, including hostile input. */
#include "jsonl.h"
#include "testutil.h"

#include <errno.h>
#include <signal.h>

static mlc_err read_one(mlc_jsonl_reader *r, cJSON **j, mlc_error *e)
{
    *j = NULL;
    return mlc_jsonl_read(r, j, e);
}

START_TEST(reads_objects_crlf_and_blank_lines)
{
    const char in[] = "{\"kind\":\"a\",\"n\":1}\r\n\n   \r\n{\"kind\":\"b\"}";
    FILE *f = tu_memfile(in, sizeof in - 1);
    mlc_jsonl_reader *r = mlc_jsonl_reader_new(f, "t", 0);
    cJSON *j;
    mlc_error e;
    ck_assert_int_eq(read_one(r, &j, &e), MLC_OK);
    ck_assert_str_eq(mlc_jsonl_kind(j), "a");
    ck_assert_uint_eq(mlc_jsonl_reader_lineno(r), 1);
    cJSON_Delete(j);
    ck_assert_int_eq(read_one(r, &j, &e), MLC_OK);
    ck_assert_str_eq(mlc_jsonl_kind(j), "b");
    ck_assert_uint_eq(mlc_jsonl_reader_lineno(r), 4);
    cJSON_Delete(j);
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_EOF);
    mlc_jsonl_reader_free(r);
    fclose(f);
}
END_TEST

START_TEST(bad_lines_name_the_line_and_reading_goes_on)
{
    const char in[] = "{\"kind\":\"ok\"}\n{\"kind\":\"trunc\n[1,2]\n\"str\"\n{\"a\":1} x\n\xff\xfe{}\n{\"kind\":\"last\"}\n";
    FILE *f = tu_memfile(in, sizeof in - 1);
    mlc_jsonl_reader *r = mlc_jsonl_reader_new(f, "stdin", 0);
    cJSON *j;
    mlc_error e;
    ck_assert_int_eq(read_one(r, &j, &e), MLC_OK);
    cJSON_Delete(j);
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "stdin:2"));
    ck_assert_ptr_nonnull(strstr(e.msg, "invalid JSON"));
    ck_assert_str_eq(mlc_jsonl_reader_line(r), "{\"kind\":\"trunc");
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "stdin:3: a record must be a JSON object"));
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "stdin:4"));
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "trailing data"));
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "stdin:6: invalid UTF-8"));
    ck_assert_int_eq(read_one(r, &j, &e), MLC_OK);
    ck_assert_str_eq(mlc_jsonl_kind(j), "last");
    ck_assert_uint_eq(mlc_jsonl_reader_lineno(r), 7);
    cJSON_Delete(j);
    mlc_jsonl_reader_free(r);
    fclose(f);
}
END_TEST

START_TEST(ten_megabyte_line_is_rejected_in_constant_memory)
{
    FILE *f = tmpfile();
    size_t big = 10u * 1024 * 1024;
    char *chunk = malloc(65536);
    memset(chunk, 'a', 65536);
    fputs("{\"kind\":\"x\",\"pad\":\"", f);
    for (size_t n = 0; n < big; n += 65536)
        fwrite(chunk, 1, 65536, f);
    fputs("\"}\n{\"kind\":\"after\"}\n", f);
    free(chunk);
    rewind(f);
    mlc_jsonl_reader *r = mlc_jsonl_reader_new(f, "big", 0);
    cJSON *j;
    mlc_error e;
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "big:1: line of"));
    ck_assert_ptr_nonnull(strstr(e.msg, "exceeds the limit of 1048576"));
    ck_assert_uint_eq(strlen(mlc_jsonl_reader_line(r)), 1048576);
    ck_assert_int_eq(read_one(r, &j, &e), MLC_OK);
    ck_assert_str_eq(mlc_jsonl_kind(j), "after");
    cJSON_Delete(j);
    mlc_jsonl_reader_free(r);
    fclose(f);
}
END_TEST

START_TEST(custom_limit_and_nul_byte)
{
    const char in[] = "{\"k\":\"0123456789\"}\n{\"a\":\"\0\"}\n{}\n";
    FILE *f = tu_memfile(in, sizeof in - 1);
    mlc_jsonl_reader *r = mlc_jsonl_reader_new(f, "t", 10);
    cJSON *j;
    mlc_error e;
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "limit of 10"));
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "NUL"));
    ck_assert_int_eq(read_one(r, &j, &e), MLC_OK);
    cJSON_Delete(j);
    mlc_jsonl_reader_free(r);
    fclose(f);
}
END_TEST

/* cJSON turns "\u0000" into a NUL that cuts the string: the reader refuses
 * it, naming line and column; an escaped backslash before "u0000" is no NUL. */
START_TEST(nul_escape_in_a_string_is_refused)
{
    const char in[] = "{\"a\":\"x\\u0000y\"}\n{\"a\":\"x\\\\u0000\"}\n{\"a\\u0000\":1}\n";
    FILE *f = tu_memfile(in, sizeof in - 1);
    mlc_jsonl_reader *r = mlc_jsonl_reader_new(f, "t", 0);
    cJSON *j;
    mlc_error e;
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "t:1:8:") && strstr(e.msg, "NUL"), "%s", e.msg);
    ck_assert_int_eq(read_one(r, &j, &e), MLC_OK);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "a")->valuestring, "x\\u0000");
    cJSON_Delete(j);
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "t:3:"));
    mlc_jsonl_reader_free(r);
    fclose(f);
}
END_TEST

START_TEST(raw_line_with_nul_keeps_its_length)
{
    const char in[] = "{\"a\":\"\0tail\"}\n";
    FILE *f = tu_memfile(in, sizeof in - 1);
    mlc_jsonl_reader *r = mlc_jsonl_reader_new(f, "t", 0);
    cJSON *j;
    mlc_error e;
    ck_assert_int_eq(read_one(r, &j, &e), MLC_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "t:1:7: NUL"));
    ck_assert_uint_eq(mlc_jsonl_reader_line_len(r), sizeof in - 2);
    ck_assert_int_eq(memcmp(mlc_jsonl_reader_line(r), in, sizeof in - 2), 0);
    mlc_jsonl_reader_free(r);
    fclose(f);
}
END_TEST

START_TEST(utf8_validation)
{
    ck_assert(mlc_jsonl_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 16));
    ck_assert(!mlc_jsonl_utf8_valid("\xc0\xaf", 2));         /* overlong */
    ck_assert(!mlc_jsonl_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ck_assert(!mlc_jsonl_utf8_valid("\xe2\x82", 2));         /* truncated */
    ck_assert(!mlc_jsonl_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}
END_TEST

START_TEST(writer_writes_compact_lines)
{
    FILE *f = tmpfile();
    mlc_jsonl_writer *w = mlc_jsonl_writer_new(f);
    mlc_error e;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "receipt");
    cJSON_AddNumberToObject(o, "qty", 5);
    /* a record larger than the initial buffer */
    char *pad = malloc(20000);
    memset(pad, 'x', 19999);
    pad[19999] = 0;
    cJSON_AddStringToObject(o, "pad", pad);
    free(pad);
    ck_assert_int_eq(mlc_jsonl_write(w, o, &e), MLC_OK);
    ck_assert_int_eq(mlc_jsonl_write(w, o, &e), MLC_OK);
    ck_assert_int_eq(mlc_jsonl_writer_flush(w, &e), MLC_OK);
    ck_assert_uint_eq(mlc_jsonl_writer_count(w), 2);
    cJSON_Delete(o);
    rewind(f);
    char *line = NULL;
    size_t cap = 0;
    ck_assert_int_gt(getline(&line, &cap, f), 20000);
    ck_assert(strncmp(line, "{\"kind\":\"receipt\",\"qty\":5,", 26) == 0);
    ck_assert_int_eq(line[strlen(line) - 1], '\n');
    free(line);
    mlc_jsonl_writer_free(w);
    fclose(f);
}
END_TEST

START_TEST(writer_reports_closed_pipe)
{
    int fds[2];
    signal(SIGPIPE, SIG_IGN);
    ck_assert_int_eq(pipe(fds), 0);
    close(fds[0]);
    FILE *f = fdopen(fds[1], "w");
    mlc_jsonl_writer *w = mlc_jsonl_writer_new(f);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "x");
    mlc_error e;
    ck_assert_int_eq(mlc_jsonl_write(w, o, &e), MLC_ERR_PIPE);
    cJSON_Delete(o);
    mlc_jsonl_writer_free(w);
    fclose(f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jsonl");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, reads_objects_crlf_and_blank_lines);
    tcase_add_test(tc, bad_lines_name_the_line_and_reading_goes_on);
    tcase_add_test(tc, ten_megabyte_line_is_rejected_in_constant_memory);
    tcase_add_test(tc, custom_limit_and_nul_byte);
    tcase_add_test(tc, nul_escape_in_a_string_is_refused);
    tcase_add_test(tc, raw_line_with_nul_keeps_its_length);
    tcase_add_test(tc, utf8_validation);
    tcase_add_test(tc, writer_writes_compact_lines);
    tcase_add_test(tc, writer_reports_closed_pipe);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
