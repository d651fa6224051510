/*
 * secret.c: reading small private files and wiping secret memory (see secret.h).
 * Not here: what the secrets are for.
 */
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void mlc_secret_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

void mlc_secret_free(void *p, size_t n)
{
    if (p) {
        mlc_secret_wipe(p, n);
        free(p);
    }
}

void mlc_secret_free_str(char *s)
{
    if (s)
        mlc_secret_free(s, strlen(s));
}

static void wipe_tree(cJSON *j)
{
    for (cJSON *c = j; c; c = c->next) {
        if (c->valuestring)
            mlc_secret_wipe(c->valuestring, strlen(c->valuestring));
        if (c->child)
            wipe_tree(c->child);
    }
}

void mlc_secret_json_free(cJSON *j)
{
    if (!j)
        return;
    wipe_tree(j->child);
    if (j->valuestring)
        mlc_secret_wipe(j->valuestring, strlen(j->valuestring));
    cJSON_Delete(j);
}

char *mlc_secret_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int mlc_secret_single_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

void mlc_secret_fingerprint(const char *s, char out[9])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)s, strlen(s), md);
    for (int i = 0; i < 4; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    mlc_secret_wipe(md, sizeof md);
}

/* "what path" or "path" for messages */
#define NAME_FMT "%s%s%s"
#define NAME_ARGS(what, path) (what) ? (what) : "", (what) ? " " : "", (path)

mlc_err mlc_secret_check_private(const char *path, const char *what, mlc_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return mlc_error_set(err, errno == ENOENT ? MLC_ERR_NOTFOUND : MLC_ERR_IO, NAME_FMT ": %s",
                             NAME_ARGS(what, path), strerror(errno));
    if (!S_ISREG(st.st_mode))
        return mlc_error_set(err, MLC_ERR_CONFIG, NAME_FMT ": not a regular file", NAME_ARGS(what, path));
    if (st.st_uid != geteuid())
        return mlc_error_set(err, MLC_ERR_CONFIG, NAME_FMT ": owned by uid %u, not by you (%u)", NAME_ARGS(what, path),
                             (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & 077)
        return mlc_error_set(err, MLC_ERR_CONFIG,
                             NAME_FMT ": permissions %04o are too open (group/world accessible); "
                                      "run: chmod 600 %s",
                             NAME_ARGS(what, path), (unsigned)(st.st_mode & 07777), path);
    return MLC_OK;
}

/* "larger than 1 MiB", "larger than 64 KiB", "larger than 100 bytes" */
static mlc_err too_large(const char *what, const char *path, size_t max, mlc_error *err)
{
    char lim[32];
    if (max >= (1u << 20) && max % (1u << 20) == 0)
        snprintf(lim, sizeof lim, "%zu MiB", max >> 20);
    else if (max >= 1024 && max % 1024 == 0)
        snprintf(lim, sizeof lim, "%zu KiB", max >> 10);
    else
        snprintf(lim, sizeof lim, "%zu bytes", max);
    return mlc_error_set(err, MLC_ERR_CONFIG, NAME_FMT ": larger than %s", NAME_ARGS(what, path), lim);
}

mlc_err mlc_secret_read(const char *path, size_t max, const char *what, int flags, char **out, size_t *outlen,
                        mlc_error *err)
{
    int use_stdin = (flags & MLC_SECRET_STDIN) && strcmp(path, "-") == 0;
    if (!use_stdin && (flags & MLC_SECRET_PRIVATE)) {
        mlc_err rc = mlc_secret_check_private(path, what, err);
        if (rc)
            return rc;
    }
    int fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mlc_error_set(err, errno == ENOENT ? MLC_ERR_NOTFOUND : MLC_ERR_CONFIG, NAME_FMT ": %s",
                             NAME_ARGS(what, path), strerror(errno));
    struct stat st;
    size_t cap = 4096;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((size_t)st.st_size > max) {
            if (!use_stdin)
                close(fd);
            return too_large(what, path, max, err);
        }
        cap = (size_t)st.st_size + 1;
    }
    size_t len = 0;
    char *buf = malloc(cap);
    mlc_err rc = buf ? MLC_OK : mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
    while (!rc) {
        if (len + 1 >= cap) { /* full: grow (a file that grew, a pipe) */
            if (len > max) {
                rc = too_large(what, path, max, err);
                break;
            }
            char *nb = malloc(cap * 2);
            if (!nb) {
                rc = mlc_error_set(err, MLC_ERR_NOMEM, "out of memory");
                break;
            }
            memcpy(nb, buf, len);
            mlc_secret_free(buf, cap);
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = mlc_error_set(err, MLC_ERR_IO, NAME_FMT ": %s", NAME_ARGS(what, path), strerror(errno));
        else if (r == 0)
            break;
        else
            len += (size_t)r;
    }
    if (!rc && len > max)
        rc = too_large(what, path, max, err);
    if (!use_stdin)
        close(fd);
    if (rc) {
        mlc_secret_free(buf, cap);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    if (outlen)
        *outlen = len;
    return MLC_OK;
}
