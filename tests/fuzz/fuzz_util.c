/* Implementation of fuzz_util.h (see there). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fuzz_util.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

char *fz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

int fz_split(const uint8_t *data, size_t size, int want, fz_fields_t *out)
{
    memset(out, 0, sizeof *out);
    if (want < 1)
        want = 1;
    if (want > FZ_MAX_FIELDS)
        want = FZ_MAX_FIELDS;
    if (!(out->buf = fz_strndup(data, size)))
        return -1;
    static char empty[1];
    for (int i = 0; i < FZ_MAX_FIELDS; i++)
        out->f[i] = empty;
    char *p = out->buf, *end = out->buf + size;
    for (;;) {
        out->f[out->n] = p;
        char *nl = out->n + 1 < want ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        if (!nl) {
            out->len[out->n++] = (size_t)(end - p);
            break;
        }
        *nl = '\0';
        out->len[out->n++] = (size_t)(nl - p);
        p = nl + 1;
    }
    return 0;
}

void fz_fields_free(fz_fields_t *f)
{
    free(f->buf);
    f->buf = NULL;
}

int fz_memfile(const void *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (size) {
        ssize_t w = write(fd, p, size);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        size -= (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}
