/*
 * The download thread of one firmware task (see ota_fetch.h): HTTPS GET with
 * libcurl, resumed with "Range: bytes=N-" after a cut (or after a restart: the
 * partial file is kept), capped at the task's exact size, then a digest of the
 * whole file compared with the task's sign.
 *
 * libcurl is loaded with dlopen() by the first download, on the download
 * thread, not linked: libcurl drags in some 25 libraries (gnutls, krb5,
 * ldap, ssh2, …) worth ~4 MB of resident memory for the daemon's whole life,
 * while most gateways download firmware a few times a year (bench/modbus
 * measured the daemon's RSS with and without). Only <curl/curl.h> is used at
 * build time, for the types and option numbers, which libcurl keeps
 * ABI-stable within soname 4.
 */
#include "ota_fetch.h"
#include "alink_sign.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int gw_ota_sign_method_parse(const char *s, gw_ota_sign_method_t *out)
{
    if (!s)
        return -1;
    if (!strcmp(s, "Md5")) {
        *out = GW_OTA_MD5;
        return 0;
    }
    if (!strcmp(s, "SHA256") || !strcmp(s, "Sha256")) {
        *out = GW_OTA_SHA256;
        return 0;
    }
    return -1;
}

size_t gw_ota_sign_len(gw_ota_sign_method_t m) { return m == GW_OTA_MD5 ? 32 : 64; }

int gw_ota_file_digest(const char *path, gw_ota_sign_method_t m, char out[65])
{
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx && EVP_DigestInit_ex(ctx, m == GW_OTA_MD5 ? EVP_md5() : EVP_sha256(), NULL) == 1 ? 0 : -1;
    unsigned char buf[65536];
    while (rc == 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -1;
        if (n <= 0)
            break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            rc = -1;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &len) != 1)
        rc = -1;
    EVP_MD_CTX_free(ctx);
    close(fd);
    if (rc == 0) {
        for (unsigned i = 0; i < len && i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    return rc;
}

/* The libcurl entry points we use, resolved by curl_load(). */
static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*perform)(CURL *c);
    CURLcode (*getinfo)(CURL *c, CURLINFO info, ...);
    void (*cleanup)(CURL *c);
    const char *(*strerror)(CURLcode rc);
    curl_version_info_data *(*version_info)(CURLversion age);
} C;

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static int g_curl_rc = -1;
static char g_curl_err[200] = "libcurl not loaded";

#define CURL_SONAME "libcurl.so.4"

static void curl_load(void)
{
    /* never dlclose()d: libcurl keeps global state (and OpenSSL's) until exit */
    void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(g_curl_err, sizeof g_curl_err, "cannot load %s (install libcurl4): %.140s", CURL_SONAME,
                 e ? e : "unknown error");
        return;
    }
    struct {
        void **slot;
        const char *name;
    } syms[] = {
        {(void **)&C.global_init, "curl_global_init"}, {(void **)&C.easy_init, "curl_easy_init"},
        {(void **)&C.setopt, "curl_easy_setopt"},      {(void **)&C.perform, "curl_easy_perform"},
        {(void **)&C.getinfo, "curl_easy_getinfo"},    {(void **)&C.cleanup, "curl_easy_cleanup"},
        {(void **)&C.strerror, "curl_easy_strerror"},  {(void **)&C.version_info, "curl_version_info"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        if (!(*syms[i].slot = dlsym(lib, syms[i].name))) {
            snprintf(g_curl_err, sizeof g_curl_err, "%s lacks %s", CURL_SONAME, syms[i].name);
            return;
        }
    }
    /* 7.84: curl_global_init() is thread-safe (we call it off the loop, beside Paho's threads);
     * 7.85: CURLOPT_PROTOCOLS_STR, which keeps downloads on https */
    const curl_version_info_data *vi = C.version_info(CURLVERSION_NOW);
    if (!vi || vi->version_num < 0x075500) {
        snprintf(g_curl_err, sizeof g_curl_err, "libcurl %s is too old (7.85 or newer needed)",
                 vi && vi->version ? vi->version : "?");
        return;
    }
    if (C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(g_curl_err, sizeof g_curl_err, "libcurl failed to initialise");
        return;
    }
    g_curl_rc = 0;
}

int gw_ota_fetch_global_init(const char **why)
{
    pthread_once(&g_curl_once, curl_load);
    if (why)
        *why = g_curl_rc == 0 ? "" : g_curl_err;
    return g_curl_rc;
}

/* State of one attempt (one HTTP request). */
typedef struct attempt {
    gw_ota_fetch_t *f;
    CURL *curl;
    int fd;
    int64_t off;       /* bytes in the file */
    bool first_write;
    bool too_large;
    bool io_error;
} attempt_t;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    attempt_t *a = userdata;
    size_t n = size * nmemb;
    if (a->first_write) {
        a->first_write = false;
        long code = 0;
        C.getinfo(a->curl, CURLINFO_RESPONSE_CODE, &code);
        if (a->off > 0 && code == 200) { /* the server ignored Range: start over */
            if (ftruncate(a->fd, 0) != 0 || lseek(a->fd, 0, SEEK_SET) != 0) {
                a->io_error = true;
                return 0;
            }
            a->off = 0;
        }
    }
    if (a->off + (int64_t)n > a->f->size) {
        a->too_large = true;
        return 0;
    }
    for (size_t done = 0; done < n;) {
        ssize_t w = write(a->fd, ptr + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            a->io_error = true;
            return 0;
        }
        done += (size_t)w;
    }
    a->off += (int64_t)n;
    atomic_store(&a->f->got, a->off);
    uv_async_send(a->f->wake);
    return n;
}

static int on_xfer(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    gw_ota_fetch_t *f = userdata;
    return atomic_load(&f->cancel) ? 1 : 0;
}

/* Sleeps @p ms in small steps; false when cancelled meanwhile. */
static bool pause_ms(gw_ota_fetch_t *f, unsigned ms)
{
    for (unsigned slept = 0; slept < ms; slept += 50) {
        if (atomic_load(&f->cancel))
            return false;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !atomic_load(&f->cancel);
}

/* Errors another attempt cannot fix. */
static bool permanent(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_ABORTED_BY_CALLBACK:
        return true;
    default:
        return false;
    }
}

/* Records the outcome step and its description. */
#define fail(f, st, ...)                                      \
    do {                                                      \
        (f)->step = (st);                                     \
        snprintf((f)->desc, sizeof (f)->desc, __VA_ARGS__);   \
    } while (0)

/* One HTTP request continuing the file; returns true when the file is complete. */
static bool attempt_once(gw_ota_fetch_t *f, bool *retry)
{
    *retry = false;
    attempt_t a = {.f = f, .fd = -1, .first_write = true};
    a.fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (a.fd < 0 || fstat(a.fd, &st) != 0) {
        fail(f, -2, "cannot write the image file: %s", strerror(errno));
        if (a.fd >= 0)
            close(a.fd);
        return false;
    }
    a.off = st.st_size;
    if (a.off > f->size && ftruncate(a.fd, 0) == 0)
        a.off = 0;
    if (lseek(a.fd, a.off, SEEK_SET) < 0) {
        fail(f, -2, "cannot seek in the image file: %s", strerror(errno));
        close(a.fd);
        return false;
    }
    atomic_store(&f->got, a.off);
    if (a.off == f->size) {
        close(a.fd);
        return true;
    }
    a.curl = C.easy_init();
    if (!a.curl) {
        fail(f, -2, "cannot create a transfer");
        close(a.fd);
        return false;
    }
    char range[48], err[CURL_ERROR_SIZE] = "";
    CURL *c = a.curl;
    C.setopt(c, CURLOPT_URL, f->url);
    if (C.setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
        C.setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK) {
        /* never download over anything but https, nor follow a redirect elsewhere */
        fail(f, -2, "libcurl cannot be limited to https");
        C.cleanup(c);
        close(a.fd);
        return false;
    }
    C.setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    C.setopt(c, CURLOPT_MAXREDIRS, 5L);
    C.setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    C.setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (f->ca_file)
        C.setopt(c, CURLOPT_CAINFO, f->ca_file);
    C.setopt(c, CURLOPT_NOSIGNAL, 1L);
    C.setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    C.setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    C.setopt(c, CURLOPT_LOW_SPEED_TIME, (long)f->stall_timeout_s);
    C.setopt(c, CURLOPT_FAILONERROR, 1L);
    C.setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->size);
    C.setopt(c, CURLOPT_ERRORBUFFER, err);
    C.setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    C.setopt(c, CURLOPT_WRITEDATA, &a);
    C.setopt(c, CURLOPT_NOPROGRESS, 0L);
    C.setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
    C.setopt(c, CURLOPT_XFERINFODATA, f);
    C.setopt(c, CURLOPT_USERAGENT, "linkgw-ota/" LINKGW_VERSION);
    if (a.off > 0) {
        snprintf(range, sizeof range, "%lld-", (long long)a.off);
        C.setopt(c, CURLOPT_RANGE, range);
        atomic_fetch_add(&f->resumed, 1);
    }
    CURLcode rc = C.perform(c);
    long http = 0;
    C.getinfo(c, CURLINFO_RESPONSE_CODE, &http);
    C.cleanup(c);
    bool io_ok = fsync(a.fd) == 0;
    close(a.fd);
    if (atomic_load(&f->cancel)) {
        fail(f, -2, "download cancelled");
        return false;
    }
    if (a.too_large || rc == CURLE_FILESIZE_EXCEEDED) { /* by the body, or announced by Content-Length */
        unlink(f->path);
        fail(f, -2, "the server sent more than the task's size (%lld bytes)", (long long)f->size);
        return false;
    }
    if (a.io_error || !io_ok) {
        fail(f, -2, "cannot write the image file: %s", strerror(errno));
        return false;
    }
    if (rc == CURLE_OK && a.off == f->size)
        return true;
    if (rc == CURLE_OK) {
        fail(f, -2, "the server sent %lld bytes fewer than the task's size", (long long)(f->size - a.off));
        *retry = true;
        return false;
    }
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        if (http == 416 && unlink(f->path) == 0) { /* our partial file is not a prefix any more */
            fail(f, -2, "HTTP 416 on resume");
            *retry = true;
            return false;
        }
        fail(f, -2, "download refused: HTTP %ld", http);
        *retry = http >= 500;
        return false;
    }
    fail(f, -2, "download failed: %.120s", err[0] ? err : C.strerror(rc));
    *retry = !permanent(rc);
    return false;
}

static void fetch_main(void *arg)
{
    gw_ota_fetch_t *f = arg;
    bool complete = false;
    const char *why = NULL;
    bool usable = gw_ota_fetch_global_init(&why) == 0;
    if (!usable)
        fail(f, -2, "download impossible: %.100s", why);
    for (unsigned i = 0; usable && !complete && i <= f->retries; i++) {
        if (i > 0 && !pause_ms(f, f->retry_delay_ms)) {
            fail(f, -2, "download cancelled");
            break;
        }
        bool retry;
        complete = attempt_once(f, &retry);
        if (!complete && !retry)
            break;
    }
    if (complete) {
        char got[65];
        if (gw_ota_file_digest(f->path, f->method, got) != 0) {
            fail(f, -3, "cannot read the image to verify it: %s", strerror(errno));
        } else if (!gw_alink_hex_equal(got, f->sign)) {
            f->step = -3;
            snprintf(f->desc, sizeof f->desc, "%s mismatch: the image has %s", f->method == GW_OTA_MD5 ? "Md5" : "SHA256",
                     got);
            unlink(f->path); /* a wrong image is never resumed */
        } else {
            f->step = 0;
            f->desc[0] = '\0';
        }
    }
    atomic_store(&f->finished, true);
    uv_async_send(f->wake);
}

int gw_ota_fetch_start(gw_ota_fetch_t *f)
{
    atomic_init(&f->got, 0);
    atomic_init(&f->cancel, false);
    atomic_init(&f->finished, false);
    atomic_init(&f->resumed, 0);
    f->step = -2;
    snprintf(f->desc, sizeof f->desc, "download failed");
    if (uv_thread_create(&f->thread, fetch_main, f) != 0)
        return -1;
    f->started = true;
    return 0;
}

void gw_ota_fetch_join(gw_ota_fetch_t *f)
{
    if (f->started) {
        uv_thread_join(&f->thread);
        f->started = false;
    }
}
