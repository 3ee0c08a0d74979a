/*
 * A file-backed gw_cloud_secret_store_t for tests and development: one file,
 * mode 0600, "product_key=..\ndevice_name=..\ndevice_secret=..\n", replaced
 * atomically (temp file, fsync, rename, fsync of the directory). Not
 * encrypted: production uses the SQLite store.
 */
#include "cloud_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int file_load(void *data, const char *pk, const char *dn, char *out, size_t cap)
{
    const char *path = data;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    char *fpk = NULL, *fdn = NULL, *fds = NULL, *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "product_key=", 12) == 0)
            fpk = line + 12;
        else if (strncmp(line, "device_name=", 12) == 0)
            fdn = line + 12;
        else if (strncmp(line, "device_secret=", 14) == 0)
            fds = line + 14;
    }
    int rc;
    if (!fpk || !fdn || !fds || !*fds) {
        GW_ERROR(CLOUD_LOG, "secret file %s is corrupt", path);
        rc = -1;
    } else if (strcmp(fpk, pk) != 0 || strcmp(fdn, dn) != 0) {
        GW_WARN(CLOUD_LOG, "secret file %s belongs to another device; ignoring it", path);
        rc = 1;
    } else if (strlen(fds) >= cap) {
        rc = -1;
    } else {
        memcpy(out, fds, strlen(fds) + 1);
        rc = 0;
    }
    memset(buf, 0, sizeof buf);
    return rc;
}

static int file_save(void *data, const char *pk, const char *dn, const char *secret)
{
    const char *path = data;
    char tmp[4096], dir[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        GW_ERROR(CLOUD_LOG, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    fchmod(fd, 0600);
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "product_key=%s\ndevice_name=%s\ndevice_secret=%s\n", pk, dn, secret);
    bool ok = n > 0 && n < (int)sizeof buf && write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    memset(buf, 0, sizeof buf);
    ok = (close(fd) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        GW_ERROR(CLOUD_LOG, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

gw_cloud_secret_store_t gw_cloud_secret_file_store(const char *path)
{
    gw_cloud_secret_store_t s = {file_load, file_save, (void *)path};
    return s;
}
