/*
 * dynlib.c: loads a shared library with dlopen and resolves a caller's table of
 * functions (see dynlib.h). What it is not: a plugin system (the sonames and the
 * tables are fixed at compile time) or an unloader.
 */
#include "dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

/* a data pointer from dlsym is stored into a function pointer byte for byte
 * (POSIX requires the two to have the same representation) */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "function and data pointers differ in size");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

mlc_err mlc_dynlib_load(const char *soname, const char *purpose, const char *package, const mlc_dynlib_sym *syms,
                        size_t n, int *loaded, mlc_error *err)
{
    mlc_err rc = MLC_OK;
    pthread_mutex_lock(&lock);
    if (*loaded)
        goto out;
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        rc = mlc_error_set(err, MLC_ERR_CONFIG, "%s is needed for %s and cannot be loaded: %s (Debian package %s)",
                           soname, purpose, why ? why : "not found", package);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            rc = mlc_error_set(err, MLC_ERR_CONFIG,
                               "%s (needed for %s) has no function %s: a version mlc was not built for (Debian "
                               "package %s)",
                               soname, purpose, syms[i].name, package);
            for (size_t j = 0; j < i; j++) /* nothing half filled */
                memset(syms[j].slot, 0, sizeof f);
            dlclose(h);
            goto out;
        }
        memcpy(syms[i].slot, &f, sizeof f);
    }
    *loaded = 1;
out:
    pthread_mutex_unlock(&lock);
    return rc;
}
