/*
 * test_status.c: lib/status: --max-age durations, and the Prometheus textfile
 * written from a status document (samples, label escaping, atomic: no temp file
 * left, mode 0644, an unwritable directory is an error).
 * Not here: gathering from a real profile (tests/integration/test_status.sh).
 */
#include "status.h"
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>

START_TEST(durations)
{
    ck_assert_int_eq(mlc_status_parse_duration("90"), 90);
    ck_assert_int_eq(mlc_status_parse_duration("90s"), 90);
    ck_assert_int_eq(mlc_status_parse_duration("15m"), 900);
    ck_assert_int_eq(mlc_status_parse_duration("2h"), 7200);
    ck_assert_int_eq(mlc_status_parse_duration("1d"), 86400);
    ck_assert_int_eq(mlc_status_parse_duration("0s"), -1);
    ck_assert_int_eq(mlc_status_parse_duration("-5m"), -1);
    ck_assert_int_eq(mlc_status_parse_duration("5x"), -1);
    ck_assert_int_eq(mlc_status_parse_duration("5mm"), -1);
    ck_assert_int_eq(mlc_status_parse_duration(""), -1);
    ck_assert_int_eq(mlc_status_parse_duration("999999999999999999d"), -1);
}
END_TEST

static const char doc_text[] =
    "{\"profile\":\"a\\\"b\",\"status\":\"WARNING\",\"exit_code\":1,"
    "\"commands\":[{\"command\":\"pull-pos\",\"last_success\":\"2026-01-02T03:04:05Z\",\"last_exit_code\":0,"
    "\"last_run_started\":\"2026-01-02T03:04:00Z\",\"last_duration_s\":5,\"runs\":3,\"failures\":1}],"
    "\"cursors\":[{\"stream\":\"po\",\"updated_at\":\"2026-01-02T03:04:05Z\",\"behind_s\":60}],"
    "\"receipts\":{\"queued\":{\"count\":2,\"oldest\":\"2026-01-01T00:00:00Z\"}},"
    "\"ion_token\":{\"state\":\"none\"},\"shipstation_rate\":[{\"api\":\"v2\",\"limit\":200,\"used\":7}],"
    "\"last_error\":null,\"problems\":[]}";

START_TEST(prometheus_file)
{
    char *dir = tu_tmpdir(), p[512];
    snprintf(p, sizeof p, "%s/mlc.prom", dir);
    cJSON *doc = cJSON_Parse(doc_text);
    ck_assert_ptr_nonnull(doc);
    mlc_error err = {0};
    ck_assert_int_eq(mlc_status_write_prometheus(doc, p, &err), MLC_OK);
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "mlc_status{profile=\"a\\\"b\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(buf, "mlc_last_success_timestamp_seconds{profile=\"a\\\"b\",command=\"pull-pos\"} 1767323045\n"));
    ck_assert_ptr_nonnull(strstr(buf, "mlc_receipts{profile=\"a\\\"b\",state=\"queued\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(buf, "mlc_shipstation_rate_used{profile=\"a\\\"b\",api=\"v2\"} 7\n"));
    ck_assert_ptr_null(strstr(buf, "mlc_ion_token_expiry_timestamp_seconds{"));
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    DIR *d = opendir(dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));)
        files += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(files, 1); /* no temporary file left */
    snprintf(p, sizeof p, "%s/missing/mlc.prom", dir);
    ck_assert_int_eq(mlc_status_write_prometheus(doc, p, &err), MLC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "--prometheus"));
    cJSON_Delete(doc);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, durations);
    tcase_add_test(tc, prometheus_file);
    suite_add_tcase(s, tc);
    return s;
}

TU_MAIN(suite)
