/*
 * The store's encryption key file, <state_dir>/store.key: 32 random bytes, mode 0600.
 *
 * Created once, atomically: RAND_bytes into a temporary file opened O_CREAT|O_EXCL with mode 0600,
 * fsync, renamed into place with RENAME_NOREPLACE (link(2) where that is unsupported) so that two
 * first starts racing never replace each other's key, then the directory fsync'ed so the name
 * survives a power loss. A reader never sees a partial key.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "store_internal.h"

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/** Moves @p tmp to @p dst unless @p dst exists (then returns -1 with errno EEXIST). */
static int rename_noreplace(const char *tmp, const char *dst)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    if (link(tmp, dst) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

static int create_key(gw_store_t *st)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", st->key_path, (long)getpid());
    unlink(tmp); /* a leftover of a crashed first start with our pid */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return st_fail(st, GW_STORE_EIO, "%s: %s", tmp, strerror(errno));
    unsigned char key[GW_STORE_KEY_LEN];
    int rc = GW_STORE_OK;
    if (RAND_bytes(key, sizeof key) != 1)
        rc = st_fail(st, GW_STORE_ECRYPTO, "RAND_bytes failed: no key created");
    else if (fchmod(fd, 0600) != 0 || write_all(fd, key, sizeof key) != 0 || fsync(fd) != 0)
        rc = st_fail(st, GW_STORE_EIO, "%s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == GW_STORE_OK)
        rc = st_fail(st, GW_STORE_EIO, "%s: %s", tmp, strerror(errno));
    if (rc == GW_STORE_OK && rename_noreplace(tmp, st->key_path) != 0) {
        if (errno == EEXIST) {
            rc = GW_STORE_NOTFOUND; /* lost a race: load the winner's key */
        } else {
            rc = st_fail(st, GW_STORE_EIO, "%s: %s", st->key_path, strerror(errno));
        }
    }
    unlink(tmp);
    if (rc == GW_STORE_OK) {
        if (fsync_dir(st->dir) != 0)
            rc = st_fail(st, GW_STORE_EIO, "%s: fsync: %s", st->dir, strerror(errno));
        else
            memcpy(st->key, key, sizeof key);
    }
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static int load_key(gw_store_t *st)
{
    int fd = open(st->key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? GW_STORE_NOTFOUND
                               : st_fail(st, GW_STORE_EIO, "%s: %s", st->key_path, strerror(errno));
    struct stat sb;
    int rc = GW_STORE_OK;
    if (fstat(fd, &sb) != 0) {
        rc = st_fail(st, GW_STORE_EIO, "%s: %s", st->key_path, strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        rc = st_fail(st, GW_STORE_ECRYPTO, "%s: not a regular file", st->key_path);
    } else if (sb.st_mode & 077) {
        rc = st_fail(st, GW_STORE_ECRYPTO, "%s: readable by group or others (mode %03o); chmod 600 it",
                     st->key_path, (unsigned)(sb.st_mode & 0777));
    } else if (sb.st_size != GW_STORE_KEY_LEN) {
        rc = st_fail(st, GW_STORE_ECRYPTO, "%s: %lld bytes, expected %d", st->key_path,
                     (long long)sb.st_size, GW_STORE_KEY_LEN);
    } else {
        size_t got = 0;
        while (got < GW_STORE_KEY_LEN) {
            ssize_t r = read(fd, st->key + got, GW_STORE_KEY_LEN - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got != GW_STORE_KEY_LEN) {
            OPENSSL_cleanse(st->key, sizeof st->key);
            rc = st_fail(st, GW_STORE_EIO, "%s: short read", st->key_path);
        }
    }
    close(fd);
    return rc;
}

int st_key_load_or_create(gw_store_t *st, bool may_create, bool *created)
{
    *created = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = load_key(st);
        if (rc != GW_STORE_NOTFOUND)
            return rc;
        if (!may_create)
            return st_fail(st, GW_STORE_ECRYPTO,
                           "%s is missing but the database holds secrets sealed with it; restore it "
                           "(or move the database away to start afresh)",
                           st->key_path);
        rc = create_key(st);
        if (rc == GW_STORE_OK) {
            *created = true;
            return rc;
        }
        if (rc != GW_STORE_NOTFOUND)
            return rc;
    }
    return st_fail(st, GW_STORE_EIO, "%s: cannot create or load", st->key_path);
}
