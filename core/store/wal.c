/*
 * Write-ahead log of accepted values: segment files mapped MAP_SHARED, records appended with a
 * memcpy. See wal.h for the contracts and the on-disk layout summary; the exact layout is below.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wal.h"

/*
 * Segment: a 16-byte header (magic "LGWWAL1\n", u32 segment size, u32 zero), then records, then
 * zeros up to the preallocated size.
 *
 * Record (8-byte aligned, length a multiple of 8):
 *   0  u32 len     whole record, padding included
 *   4  u32 crc     CRC32C of bytes [0,4) then [8,len)
 *   8  u8  type    REC_VALUE, REC_EVENT, REC_RESOLVE
 * value/event:
 *   9  u8  vtype   gw_wal_vtype_t
 *   10 u8  pk_len, 11 u8 dn_len, 12 u8 id_len, 13..15 zero
 *   16 u64 seq
 *   24 i64 time_ms
 *   32 u64 num     the int or double bits; text length for STRING/JSON
 *   40 pk, dn, id, text (no NULs), zero padding
 * resolve:
 *   16 u64 first, 24 u64 last
 */
#define SEG_MAGIC "LGWWAL1\n"
#define SEG_HDR 16
#define REC_VALUE 1
#define REC_EVENT 2
#define REC_RESOLVE 3
#define VALUE_FIXED 40
#define RESOLVE_LEN 32
#define RESERVE 4096 /* end of each segment kept for resolve records (128 of them) */
#define SEG_MIN (64u * 1024)
#define SEG_MAX (4u * 1024 * 1024)
#define DEFAULT_MAX (32ull * 1024 * 1024)

typedef struct seg {
    uint64_t num;
    uint64_t max_seq; /* highest value seq in it (0: none) */
    uint32_t used;    /* bytes of header + records */
} seg_t;

struct gw_wal {
    char *dir;
    int dirfd;
    uint64_t max_bytes;
    uint32_t seg_bytes;
    seg_t *segs;          /* oldest first; the last one is the current segment */
    size_t nseg, capseg;
    uint8_t *map;         /* current segment */
    uint32_t off;         /* its write offset */
    uint32_t synced;      /* offset up to which gw_wal_sync ran */
    uint32_t shed;        /* offset below which the mapping's pages were given back (shed()) */
    bool sync_used;       /* gw_wal_sync was called: roll syncs the old segment too */
    bool blocked;         /* a new segment could not be created: no retry before the next release */
    uint64_t next_num;    /* number of the next segment file */
    uint64_t next_seq, release_seq;
    uint64_t appended, full;
    char err[256];
};

/* ---- CRC32C ------------------------------------------------------------------------ */

static uint32_t g_crc_tab[8][256];
static uint32_t (*g_crc_fn)(uint32_t, const uint8_t *, size_t);
static pthread_once_t g_crc_once = PTHREAD_ONCE_INIT;

static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (n >= 8) { /* slicing by 8 */
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;
        crc = g_crc_tab[7][w & 0xff] ^ g_crc_tab[6][(w >> 8) & 0xff] ^ g_crc_tab[5][(w >> 16) & 0xff] ^
              g_crc_tab[4][(w >> 24) & 0xff] ^ g_crc_tab[3][(w >> 32) & 0xff] ^ g_crc_tab[2][(w >> 40) & 0xff] ^
              g_crc_tab[1][(w >> 48) & 0xff] ^ g_crc_tab[0][w >> 56];
        p += 8;
        n -= 8;
    }
#endif
    while (n--)
        crc = g_crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = (uint32_t)~crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#endif

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        g_crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            g_crc_tab[t][i] = (g_crc_tab[t - 1][i] >> 8) ^ g_crc_tab[0][g_crc_tab[t - 1][i] & 0xff];
    g_crc_fn = crc_sw;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2"))
        g_crc_fn = crc_hw;
#endif
}

uint32_t gw_wal_crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&g_crc_once, crc_init);
    return g_crc_fn(crc, buf, len);
}

/* CRC of a record: its length field, then everything after the CRC field. */
static uint32_t rec_crc(const uint8_t *p, uint32_t len)
{
    return g_crc_fn(g_crc_fn(0, p, 4), p + 8, len - 8);
}

/* ---- helpers ----------------------------------------------------------------------- */

static int fail(gw_wal_t *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(gw_wal_t *w, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    return rc;
}

static void seg_name(char *buf, size_t cap, uint64_t num)
{
    snprintf(buf, cap, "%016" PRIx64 ".seg", num);
}

/* Segment number of a file name, or 0 if it is not a segment. */
static uint64_t seg_num(const char *name)
{
    if (strlen(name) != 20 || strcmp(name + 16, ".seg") != 0)
        return 0;
    uint64_t n = 0;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return 0;
        n = n << 4 | (uint64_t)v;
    }
    return n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The segment numbers in @p dirfd, ascending (malloc'ed, *n entries). -1 on error. */
static int list_segments(int dirfd, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        uint64_t num = seg_num(e->d_name);
        if (!num)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *na = realloc(*out, cap * sizeof *na);
            if (!na) {
                rc = -1;
                break;
            }
            *out = na;
        }
        (*out)[(*n)++] = num;
    }
    closedir(d);
    if (rc == 0 && *n)
        qsort(*out, *n, sizeof **out, cmp_u64);
    return rc;
}

/* ---- recovery ---------------------------------------------------------------------- */

typedef struct range {
    uint64_t first, last;
} range_t;

static int cmp_range(const void *a, const void *b)
{
    const range_t *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static bool covered(const range_t *r, size_t n, uint64_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* first range with first > seq */
        size_t mid = (lo + hi) / 2;
        if (r[mid].first <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && r[lo - 1].last >= seq;
}

/*
 * Decodes the record at @p p (at most @p room bytes). Returns its length, 0 at the clean end
 * (length 0), or -1 when it is torn or garbage. Fills @p v for value records, @p r for resolves.
 */
static long rec_decode(const uint8_t *p, size_t room, int *type, gw_wal_value_t *v, range_t *r)
{
    if (room < 8)
        return 0;
    uint32_t len, crc;
    memcpy(&len, p, 4);
    memcpy(&crc, p + 4, 4);
    if (len == 0)
        return 0;
    if (len < 16 || len % 8 || len > room || rec_crc(p, len) != crc)
        return -1;
    *type = p[8];
    if (*type == REC_RESOLVE) {
        if (len != RESOLVE_LEN)
            return -1;
        memcpy(&r->first, p + 16, 8);
        memcpy(&r->last, p + 24, 8);
        return r->first <= r->last ? (long)len : -1;
    }
    if ((*type != REC_VALUE && *type != REC_EVENT) || len < VALUE_FIXED)
        return -1;
    memset(v, 0, sizeof *v);
    v->event = *type == REC_EVENT;
    v->vtype = (gw_wal_vtype_t)p[9];
    v->pk_len = p[10];
    v->dn_len = p[11];
    v->id_len = p[12];
    memcpy(&v->seq, p + 16, 8);
    memcpy(&v->time_ms, p + 24, 8);
    uint64_t num;
    memcpy(&num, p + 32, 8);
    size_t need = VALUE_FIXED + (size_t)v->pk_len + v->dn_len + v->id_len;
    if (v->vtype < GW_WAL_V_NULL || v->vtype > GW_WAL_V_JSON || !v->pk_len || !v->dn_len || !v->id_len || !v->seq)
        return -1;
    if (v->vtype == GW_WAL_V_STRING || v->vtype == GW_WAL_V_JSON) {
        if (num > GW_WAL_TEXT_MAX)
            return -1;
        v->text_len = (size_t)num;
        need += v->text_len;
    } else {
        memcpy(&v->num, &num, 8);
    }
    if (need > len)
        return -1;
    const char *s = (const char *)p + VALUE_FIXED;
    v->pk = s;
    v->dn = s + v->pk_len;
    v->id = v->dn + v->dn_len;
    v->text = v->id + v->id_len;
    return (long)len;
}

typedef struct mapped {
    const uint8_t *p;
    size_t size;     /* where the scan ends (a torn record shortens it) */
    size_t map_size; /* what was mapped */
} mapped_t;

int gw_wal_recover(const char *dir, gw_wal_recover_fn cb, void *arg, gw_wal_report_t *rep)
{
    pthread_once(&g_crc_once, crc_init);
    memset(rep, 0, sizeof *rep);
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return errno == ENOENT ? GW_WAL_OK : GW_WAL_EIO;
    uint64_t *nums = NULL;
    size_t n = 0;
    if (list_segments(dirfd, &nums, &n) != 0) {
        close(dirfd);
        return GW_WAL_EIO;
    }
    mapped_t *maps = calloc(n ? n : 1, sizeof *maps);
    range_t *ranges = NULL;
    size_t nr = 0, capr = 0;
    int rc = maps ? GW_WAL_OK : GW_WAL_EIO;
    /* pass 1: map every segment, collect the resolve ranges */
    for (size_t i = 0; i < n && rc == GW_WAL_OK; i++) {
        char name[32];
        seg_name(name, sizeof name, nums[i]);
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < SEG_HDR) {
            if (fd >= 0)
                close(fd);
            rep->torn++;
            continue;
        }
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (m == MAP_FAILED) {
            rep->torn++;
            continue;
        }
        rep->segments++;
        if (memcmp(m, SEG_MAGIC, 8) != 0) {
            munmap(m, (size_t)st.st_size);
            rep->torn++;
            continue;
        }
        maps[i].p = m;
        maps[i].size = maps[i].map_size = (size_t)st.st_size;
        for (size_t off = SEG_HDR; off < maps[i].size;) {
            int type;
            gw_wal_value_t v;
            range_t r;
            long len = rec_decode(maps[i].p + off, maps[i].size - off, &type, &v, &r);
            if (len <= 0) {
                if (len < 0)
                    rep->torn++;
                maps[i].size = off; /* pass 2 stops here too */
                break;
            }
            off += (size_t)len;
            if (type == REC_RESOLVE) {
                if (nr == capr) {
                    capr = capr ? capr * 2 : 64;
                    range_t *na = realloc(ranges, capr * sizeof *na);
                    if (!na) {
                        rc = GW_WAL_EIO;
                        break;
                    }
                    ranges = na;
                }
                ranges[nr++] = r;
            }
        }
    }
    if (nr > 1) { /* sort and merge */
        qsort(ranges, nr, sizeof *ranges, cmp_range);
        size_t k = 0;
        for (size_t i = 1; i < nr; i++) {
            if (ranges[i].first <= ranges[k].last + 1) {
                if (ranges[i].last > ranges[k].last)
                    ranges[k].last = ranges[i].last;
            } else {
                ranges[++k] = ranges[i];
            }
        }
        nr = k + 1;
    }
    /* pass 2: the values no range covers, in log order */
    for (size_t i = 0; i < n && rc == GW_WAL_OK; i++) {
        for (size_t off = SEG_HDR; maps[i].p && off < maps[i].size;) {
            int type;
            gw_wal_value_t v;
            range_t r;
            long len = rec_decode(maps[i].p + off, maps[i].size - off, &type, &v, &r);
            if (len <= 0)
                break;
            off += (size_t)len;
            if (type == REC_RESOLVE)
                continue;
            rep->values++;
            if (v.seq > rep->max_seq)
                rep->max_seq = v.seq;
            if (covered(ranges, nr, v.seq)) {
                rep->resolved++;
                continue;
            }
            rep->recovered++;
            if (cb && (rc = cb(arg, &v)) != 0)
                break;
        }
    }
    for (size_t i = 0; maps && i < n; i++)
        if (maps[i].p)
            munmap((void *)maps[i].p, maps[i].map_size);
    free(maps);
    free(ranges);
    free(nums);
    close(dirfd);
    return rc;
}

/* ---- the live log ------------------------------------------------------------------ */

/* Deletes the oldest segments (never the current one) whose values are all below release_seq. */
static void release_segments(gw_wal_t *w)
{
    size_t k = 0;
    while (k + 1 < w->nseg && w->segs[k].max_seq < w->release_seq) {
        char name[32];
        seg_name(name, sizeof name, w->segs[k].num);
        if (unlinkat(w->dirfd, name, 0) != 0 && errno != ENOENT)
            break; /* keep it (and everything after it) rather than break the oldest-first order */
        k++;
    }
    if (k) {
        memmove(w->segs, w->segs + k, (w->nseg - k) * sizeof *w->segs);
        w->nseg -= k;
    }
}

/* Creates the next segment, maps it and makes it current. */
static int roll(gw_wal_t *w)
{
    if (w->blocked)
        return GW_WAL_FULL;
    release_segments(w);
    if ((uint64_t)(w->nseg + 1) * w->seg_bytes > w->max_bytes) {
        w->blocked = true;
        return fail(w, GW_WAL_FULL, "write-ahead log full: %zu segments of %u bytes hold unresolved values", w->nseg,
                    w->seg_bytes);
    }
    if (w->nseg == w->capseg) {
        size_t cap = w->capseg ? w->capseg * 2 : 16;
        seg_t *na = realloc(w->segs, cap * sizeof *na);
        if (!na)
            return fail(w, GW_WAL_FULL, "out of memory");
        w->segs = na;
        w->capseg = cap;
    }
    uint64_t num = w->next_num;
    char name[32];
    seg_name(name, sizeof name, num);
    int fd = openat(w->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        w->blocked = true;
        return fail(w, GW_WAL_FULL, "%s/%s: %s", w->dir, name, strerror(errno));
    }
    int e = posix_fallocate(fd, 0, (off_t)w->seg_bytes);
    void *m = e == 0 ? mmap(NULL, w->seg_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (m == MAP_FAILED) {
        int err = e ? e : errno;
        close(fd);
        unlinkat(w->dirfd, name, 0);
        w->blocked = true;
        return fail(w, GW_WAL_FULL, "%s/%s: cannot allocate %u bytes: %s", w->dir, name, w->seg_bytes, strerror(err));
    }
    close(fd);
    if (w->map) {
        if (w->sync_used && w->off > w->synced)
            gw_wal_sync(w);
        munmap(w->map, w->seg_bytes);
    }
    w->map = m;
    memcpy(w->map, SEG_MAGIC, 8);
    memcpy(w->map + 8, &w->seg_bytes, 4);
    w->off = w->synced = SEG_HDR;
    w->shed = 0;
    w->segs[w->nseg++] = (seg_t){.num = num, .max_seq = 0, .used = SEG_HDR};
    w->next_num = num + 1;
    return GW_WAL_OK;
}

int gw_wal_open(const char *dir, const gw_wal_options_t *opts, gw_wal_t **out, char *err, size_t errlen)
{
    pthread_once(&g_crc_once, crc_init);
    *out = NULL;
    gw_wal_t *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return GW_WAL_EIO;
    }
    w->dirfd = -1;
    w->max_bytes = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX;
    uint64_t seg = opts && opts->segment_bytes ? opts->segment_bytes : w->max_bytes / 8;
    if (seg < SEG_MIN)
        seg = SEG_MIN;
    if (seg > SEG_MAX)
        seg = SEG_MAX;
    w->seg_bytes = (uint32_t)(seg & ~(uint64_t)4095);
    if (w->max_bytes < 2ull * w->seg_bytes)
        w->max_bytes = 2ull * w->seg_bytes;
    w->next_seq = opts && opts->first_seq ? opts->first_seq : 1;
    w->release_seq = w->next_seq;
    int rc = GW_WAL_EIO;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fail(w, rc, "%s: %s", dir, strerror(errno));
        goto out;
    }
    if ((w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fail(w, rc, "%s: %s", dir, strerror(errno));
        goto out;
    }
    uint64_t *nums = NULL;
    size_t n = 0;
    if (list_segments(w->dirfd, &nums, &n) != 0) {
        fail(w, rc, "%s: cannot list: %s", dir, strerror(errno));
        goto out;
    }
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++) { /* oldest first: a crash half-way leaves only old segments */
        char name[32];
        seg_name(name, sizeof name, nums[i]);
        if (unlinkat(w->dirfd, name, 0) != 0 && errno != ENOENT) {
            fail(w, rc, "%s/%s: cannot delete: %s", dir, name, strerror(errno));
            free(nums);
            goto out;
        }
        last = nums[i];
    }
    free(nums);
    w->next_num = last + 1; /* numbering goes on after the old segments */
    rc = roll(w);
out:
    if (rc != GW_WAL_OK) {
        snprintf(err, errlen, "%s", w->err[0] ? w->err : "cannot open the write-ahead log");
        gw_wal_close(w, false);
        return rc;
    }
    *out = w;
    return GW_WAL_OK;
}

void gw_wal_close(gw_wal_t *w, bool remove)
{
    if (!w)
        return;
    if (w->map)
        munmap(w->map, w->seg_bytes);
    for (size_t i = 0; remove && w->dirfd >= 0 && i < w->nseg; i++) {
        char name[32];
        seg_name(name, sizeof name, w->segs[i].num);
        unlinkat(w->dirfd, name, 0);
    }
    if (w->dirfd >= 0)
        close(w->dirfd);
    free(w->segs);
    free(w->dir);
    free(w);
}

#define SHED_CHUNK (64u * 1024u)

/*
 * Gives back the pages of the current segment the writer has left behind
 * (whole 64 KiB chunks below the write offset) with MADV_DONTNEED. For a
 * MAP_SHARED file mapping this only unmaps them from the process: their
 * (dirty) contents stay in the page cache and reach the file as before, so
 * nothing changes for a crash of the process — but the daemon's resident
 * memory no longer grows by a whole segment (up to 4 MiB) of log it never
 * reads again. One system call per 64 KiB written.
 */
static void shed(gw_wal_t *w)
{
    uint32_t upto = w->off & ~(SHED_CHUNK - 1);
    if (upto > w->shed && madvise(w->map + w->shed, upto - w->shed, MADV_DONTNEED) == 0)
        w->shed = upto;
}

/* Room for @p len bytes in the current segment (@p limit = usable end), rolling if needed. */
static int make_room(gw_wal_t *w, uint32_t len, uint32_t limit)
{
    if (w->off + len <= limit)
        return GW_WAL_OK;
    int rc = roll(w);
    if (rc == GW_WAL_OK && w->off + len > limit)
        return fail(w, GW_WAL_EINVAL, "a record of %u bytes does not fit a segment of %u bytes", len, w->seg_bytes);
    return rc;
}

int gw_wal_append(gw_wal_t *w, gw_wal_value_t *v)
{
    size_t pl = strlen(v->pk), dl = strlen(v->dn), il = strlen(v->id);
    bool text = v->vtype == GW_WAL_V_STRING || v->vtype == GW_WAL_V_JSON;
    if (!pl || !dl || !il || pl > GW_WAL_NAME_MAX || dl > GW_WAL_NAME_MAX || il > GW_WAL_NAME_MAX ||
        v->vtype < GW_WAL_V_NULL || v->vtype > GW_WAL_V_JSON || (text && (!v->text || v->text_len > GW_WAL_TEXT_MAX)))
        return GW_WAL_EINVAL;
    size_t tl = text ? v->text_len : 0;
    uint32_t len = (uint32_t)((VALUE_FIXED + pl + dl + il + tl + 7) & ~(size_t)7);
    int room = make_room(w, len, w->seg_bytes - RESERVE);
    if (room != GW_WAL_OK) {
        if (room == GW_WAL_FULL)
            w->full++;
        return room;
    }
    uint8_t *p = w->map + w->off;
    v->seq = w->next_seq++;
    v->pk_len = (uint8_t)pl;
    v->dn_len = (uint8_t)dl;
    v->id_len = (uint8_t)il;
    p[8] = v->event ? REC_EVENT : REC_VALUE;
    p[9] = (uint8_t)v->vtype;
    p[10] = (uint8_t)pl;
    p[11] = (uint8_t)dl;
    p[12] = (uint8_t)il;
    p[13] = p[14] = p[15] = 0;
    memcpy(p + 16, &v->seq, 8);
    memcpy(p + 24, &v->time_ms, 8);
    uint64_t num = text ? (uint64_t)tl : 0;
    if (!text)
        memcpy(&num, &v->num, 8);
    memcpy(p + 32, &num, 8);
    uint8_t *s = p + VALUE_FIXED;
    memcpy(s, v->pk, pl);
    memcpy(s + pl, v->dn, dl);
    memcpy(s + pl + dl, v->id, il);
    if (tl)
        memcpy(s + pl + dl + il, v->text, tl);
    size_t end = VALUE_FIXED + pl + dl + il + tl;
    memset(p + end, 0, len - end);
    memcpy(p, &len, 4);
    uint32_t crc = rec_crc(p, len);
    memcpy(p + 4, &crc, 4);
    w->off += len;
    shed(w);
    seg_t *cur = &w->segs[w->nseg - 1];
    cur->used = w->off;
    cur->max_seq = v->seq;
    w->appended++;
    return GW_WAL_OK;
}

int gw_wal_resolve(gw_wal_t *w, uint64_t first, uint64_t last)
{
    if (first > last)
        return GW_WAL_EINVAL;
    if (make_room(w, RESOLVE_LEN, w->seg_bytes) != GW_WAL_OK)
        return GW_WAL_FULL;
    uint8_t *p = w->map + w->off;
    uint32_t len = RESOLVE_LEN;
    memset(p + 8, 0, 8);
    p[8] = REC_RESOLVE;
    memcpy(p + 16, &first, 8);
    memcpy(p + 24, &last, 8);
    memcpy(p, &len, 4);
    uint32_t crc = rec_crc(p, len);
    memcpy(p + 4, &crc, 4);
    w->off += len;
    shed(w);
    w->segs[w->nseg - 1].used = w->off;
    return GW_WAL_OK;
}

void gw_wal_release_below(gw_wal_t *w, uint64_t seq)
{
    if (seq > w->release_seq)
        w->release_seq = seq;
    w->blocked = false; /* worth one more try at creating a segment */
    release_segments(w);
}

int gw_wal_sync(gw_wal_t *w)
{
    w->sync_used = true;
    if (!w->map || w->off <= w->synced)
        return GW_WAL_OK;
    long pg = sysconf(_SC_PAGESIZE);
    uint32_t start = w->synced & ~(uint32_t)(pg - 1);
    int rc = msync(w->map + start, w->off - start, MS_SYNC);
    if (rc != 0)
        return fail(w, GW_WAL_EIO, "msync: %s", strerror(errno));
    w->synced = w->off;
    return GW_WAL_OK;
}

uint64_t gw_wal_next_seq(const gw_wal_t *w)
{
    return w->next_seq;
}

void gw_wal_stats(const gw_wal_t *w, gw_wal_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->segments = w->nseg;
    out->bytes = (uint64_t)w->nseg * w->seg_bytes;
    for (size_t i = 0; i < w->nseg; i++)
        out->used += w->segs[i].used;
    out->appended = w->appended;
    out->full = w->full;
}

const char *gw_wal_errmsg(const gw_wal_t *w)
{
    return w ? w->err : "";
}
