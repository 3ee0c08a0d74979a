/*
 * The libmodbus side of a bus. Everything here runs on the bus's worker
 * thread (lgw_worker_t), one request at a time, except mb_bus_open() and
 * mb_bus_close() which run on the loop thread before the worker exists and
 * after it was joined.
 *
 * Requests: RTU uses libmodbus's functions; TCP frames requests here (see
 * tcp_transact()) so late replies of slow slaves are skipped by transaction
 * id instead of failing the next request.
 *
 * Link policy: the connection (TCP socket or serial port) is shared by all
 * slaves of the bus, so a slave's failure never closes it. Only errors that
 * mean the link itself broke (reset, broken pipe, bad fd …) close it; the
 * next request reconnects, no earlier than an exponential backoff allows,
 * forever.
 */
#define _GNU_SOURCE
#include "mb_plugin.h"
#include "mb_crc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

int mb_bus_open(mb_bus_t *b)
{
    if (b->rtu)
        b->ctx = modbus_new_rtu(b->device, b->baud, b->parity, b->data_bits, b->stop_bits);
    else {
        char port[16];
        snprintf(port, sizeof port, "%d", b->port);
        b->ctx = modbus_new_tcp_pi(b->host, port);
    }
    if (!b->ctx)
        return LGW_ENOMEM;
    modbus_set_error_recovery(b->ctx, MODBUS_ERROR_RECOVERY_NONE);
    if (b->byte_timeout_ms)
        modbus_set_byte_timeout(b->ctx, b->byte_timeout_ms / 1000, (b->byte_timeout_ms % 1000) * 1000);
    b->connected = false;
    b->next_connect_ms = 0;
    b->backoff_ms = b->reconnect_min_ms;
    return LGW_OK;
}

void mb_bus_close(mb_bus_t *b)
{
    if (b->ctx) {
        if (b->connected)
            modbus_close(b->ctx);
        modbus_free(b->ctx);
        b->ctx = NULL;
    }
    b->connected = false;
}

static void set_timeout(mb_bus_t *b, uint32_t ms)
{
    modbus_set_response_timeout(b->ctx, ms / 1000, (ms % 1000) * 1000);
}

static int bus_connect(mb_bus_t *b)
{
    uint64_t now = lgw_monotonic_ms();
    if (now < b->next_connect_ms) {
        errno = ENOTCONN;
        return -1;
    }
    /* libmodbus uses the response timeout as TCP connect timeout */
    set_timeout(b, b->connect_timeout_ms);
    if (modbus_connect(b->ctx) != 0) {
        int e = errno;
        lgw_log(b->inst, b->backoff_ms == b->reconnect_min_ms ? LGW_LOG_WARN : LGW_LOG_DEBUG,
                "cannot connect to %s%s%d: %s (retry in %u ms)", b->rtu ? b->device : b->host,
                b->rtu ? "@" : ":", b->rtu ? b->baud : b->port, modbus_strerror(e), b->backoff_ms);
        modbus_close(b->ctx);
        b->next_connect_ms = now + b->backoff_ms;
        b->backoff_ms = b->backoff_ms * 2 > b->reconnect_max_ms ? b->reconnect_max_ms : b->backoff_ms * 2;
        errno = e;
        return -1;
    }
    if (b->rtu && b->rs485 && modbus_rtu_set_serial_mode(b->ctx, MODBUS_RTU_RS485) != 0)
        lgw_log(b->inst, LGW_LOG_WARN, "%s: cannot enable RS-485 mode: %s", b->device, modbus_strerror(errno));
    lgw_log(b->inst, LGW_LOG_INFO, "connected to %s%s%d", b->rtu ? b->device : b->host, b->rtu ? "@" : ":",
            b->rtu ? b->baud : b->port);
    b->connected = true;
    b->backoff_ms = b->reconnect_min_ms;
    return 0;
}

int mb_bus_begin(mb_bus_t *b, int unit, uint32_t timeout_ms)
{
    if (!b->connected && bus_connect(b) != 0)
        return -1;
    if (modbus_set_slave(b->ctx, unit) != 0)
        return -1; /* never talk to the previous unit by mistake */
    set_timeout(b, timeout_ms);
    b->unit = unit;
    b->timeout_ms = timeout_ms;
    return 0;
}

bool mb_err_is_exception(int err)
{
    return err > MODBUS_ENOBASE && err <= EMBXGTAR;
}

void mb_bus_failed(mb_bus_t *b, int err)
{
    if (mb_err_is_exception(err) || !b->connected)
        return;
    switch (err) {
    case ECONNRESET:
    case EPIPE:
    case EBADF:
    case ENOTCONN:
    case ECONNREFUSED:
    case EIO:
    case ENXIO:
        lgw_log(b->inst, LGW_LOG_WARN, "link lost (%s); reconnecting", modbus_strerror(err));
        modbus_close(b->ctx);
        b->connected = false;
        b->next_connect_ms = 0; /* first reconnect at once, then back off */
        break;
    default:
        /* timeout or garbage: drop whatever a late answer left behind */
        modbus_flush(b->ctx);
        break;
    }
}

/* Reads up to @p cap bytes until @p want are in or the line is quiet for
 * @p quiet_ms (RTU frame end) or @p deadline passes. Returns bytes read. */
static size_t read_some(int fd, uint8_t *buf, size_t cap, size_t want, uint64_t deadline, uint32_t quiet_ms)
{
    size_t got = 0;
    while (got < want && got < cap) {
        uint64_t now = lgw_monotonic_ms();
        if (now >= deadline)
            break;
        int wait = (int)(deadline - now);
        if (got > 0 && quiet_ms && (int)quiet_ms < wait)
            wait = (int)quiet_ms;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, wait);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        ssize_t n = read(fd, buf + got, cap - got);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            errno = ECONNRESET;
            return got;
        }
        got += (size_t)n;
    }
    return got;
}


/* ---- Modbus TCP with our own transaction ids ------------------------------
 * libmodbus 3.1.6 answers a reply carrying another transaction id with an
 * error, and the next request then reads the next stale reply, and so on:
 * one slow slave behind a TCP gateway (late replies after our timeout)
 * would make its neighbours fail too. So on TCP the requests are framed here
 * on libmodbus's socket, and replies to earlier requests are skipped until
 * the one matching our transaction id arrives or the timeout passes. */

/* Reads exactly @p n bytes by @p deadline. Returns 0, ETIMEDOUT or ECONNRESET. */
static int read_exact(int fd, uint8_t *buf, size_t n, uint64_t deadline)
{
    size_t got = 0;
    while (got < n) {
        uint64_t now = lgw_monotonic_ms();
        if (now >= deadline)
            return ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)(deadline - now));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return ECONNRESET;
        if (rc == 0)
            return ETIMEDOUT;
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return ECONNRESET;
        got += (size_t)r;
    }
    return 0;
}

/*
 * Sends @p pdu to the selected unit and stores the reply PDU in @p rsp (room
 * for 253 bytes). Returns the reply length, or -1 with errno set (ETIMEDOUT,
 * ECONNRESET, EPIPE, EMBBADDATA, EMBBADSLAVE, or the Modbus exception).
 */
static int tcp_transact(mb_bus_t *b, const uint8_t *pdu, size_t len, uint8_t *rsp)
{
    int fd = modbus_get_socket(b->ctx);
    uint8_t frame[7 + MODBUS_MAX_PDU_LENGTH];
    if (len > MODBUS_MAX_PDU_LENGTH) {
        errno = EMBMDATA;
        return -1;
    }
    uint16_t tid = ++b->tid;
    frame[0] = (uint8_t)(tid >> 8);
    frame[1] = (uint8_t)tid;
    frame[2] = frame[3] = 0;
    frame[4] = (uint8_t)((len + 1) >> 8);
    frame[5] = (uint8_t)(len + 1);
    frame[6] = (uint8_t)b->unit;
    memcpy(frame + 7, pdu, len);
    if (!write_all(fd, frame, 7 + len)) {
        errno = EPIPE;
        return -1;
    }
    uint64_t deadline = lgw_monotonic_ms() + b->timeout_ms;
    for (;;) {
        uint8_t hdr[7];
        int e = read_exact(fd, hdr, 7, deadline);
        size_t flen = (size_t)(hdr[4] << 8 | hdr[5]);
        if (!e && (flen < 2 || flen > 1 + MODBUS_MAX_PDU_LENGTH || hdr[2] || hdr[3]))
            e = EMBBADDATA; /* not Modbus TCP: resynchronise by flushing */
        if (!e)
            e = read_exact(fd, rsp, flen - 1, deadline);
        if (e) {
            errno = e;
            return -1;
        }
        if (hdr[0] != frame[0] || hdr[1] != frame[1])
            continue; /* a late reply to an earlier request */
        if (hdr[6] != frame[6]) {
            errno = EMBBADSLAVE;
            return -1;
        }
        if (rsp[0] == (pdu[0] | 0x80)) {
            errno = flen >= 3 && rsp[1] >= 1 && rsp[1] <= MODBUS_EXCEPTION_GATEWAY_TARGET ? MODBUS_ENOBASE + rsp[1]
                                                                                          : EMBBADEXC;
            return -1;
        }
        if (rsp[0] != pdu[0]) {
            errno = EMBBADDATA;
            return -1;
        }
        return (int)(flen - 1);
    }
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static int tcp_read_block(mb_bus_t *b, const mb_block_t *blk, uint16_t *regs, uint8_t *bits)
{
    static const uint8_t fcs[] = {1, 2, 4, 3}; /* by mb_table_t */
    uint8_t pdu[5], rsp[MODBUS_MAX_PDU_LENGTH];
    pdu[0] = fcs[blk->table];
    put16(pdu + 1, blk->address);
    put16(pdu + 3, blk->count);
    int n = tcp_transact(b, pdu, sizeof pdu, rsp);
    if (n < 0)
        return errno;
    bool is_bits = blk->table <= MB_TABLE_DISCRETE;
    unsigned bytes = is_bits ? (blk->count + 7u) / 8u : 2u * blk->count;
    if (n < 2 || rsp[1] != bytes || (unsigned)n != 2 + bytes)
        return EMBBADDATA;
    for (unsigned i = 0; i < blk->count; i++) {
        if (is_bits)
            bits[i] = (rsp[2 + i / 8] >> (i % 8)) & 1;
        else
            regs[i] = (uint16_t)(rsp[2 + 2 * i] << 8 | rsp[3 + 2 * i]);
    }
    return 0;
}

int mb_bus_read_block(mb_bus_t *b, const mb_block_t *blk, uint16_t *regs, uint8_t *bits)
{
    if (!b->rtu)
        return tcp_read_block(b, blk, regs, bits);
    int rc;
    switch (blk->table) {
    case MB_TABLE_COIL: rc = modbus_read_bits(b->ctx, blk->address, blk->count, bits); break;
    case MB_TABLE_DISCRETE: rc = modbus_read_input_bits(b->ctx, blk->address, blk->count, bits); break;
    case MB_TABLE_INPUT: rc = modbus_read_input_registers(b->ctx, blk->address, blk->count, regs); break;
    default: rc = modbus_read_registers(b->ctx, blk->address, blk->count, regs); break;
    }
    if (rc == blk->count)
        return 0;
    return rc < 0 ? errno : EMBBADDATA;
}

/* One write request on TCP; checks the echo of address and quantity/value. */
static int tcp_write(mb_bus_t *b, uint8_t fc, uint16_t addr, const uint16_t *regs, unsigned n, bool on)
{
    uint8_t pdu[MODBUS_MAX_PDU_LENGTH], rsp[MODBUS_MAX_PDU_LENGTH];
    size_t len;
    if (n > MODBUS_MAX_WRITE_REGISTERS)
        return EMBMDATA; /* config refuses such points; never overflow */
    pdu[0] = fc;
    put16(pdu + 1, addr);
    switch (fc) {
    case 5: put16(pdu + 3, on ? 0xFF00 : 0x0000); len = 5; break;
    case 6: put16(pdu + 3, regs[0]); len = 5; break;
    case 15: put16(pdu + 3, 1); pdu[5] = 1; pdu[6] = on ? 1 : 0; len = 7; break;
    default:
        put16(pdu + 3, n);
        pdu[5] = (uint8_t)(2 * n);
        for (unsigned i = 0; i < n; i++)
            put16(pdu + 6 + 2 * i, regs[i]);
        len = 6 + 2 * n;
        break;
    }
    int r = tcp_transact(b, pdu, len, rsp);
    if (r < 0)
        return errno;
    if (r != 5 || memcmp(rsp + 1, pdu + 1, fc == 5 || fc == 6 ? 4 : 2) != 0)
        return EMBBADDATA;
    return 0;
}

int mb_bus_write(mb_bus_t *b, const mb_wop_t *op)
{
    int rc;
    uint8_t bit = op->on;
    if (!b->rtu) {
        if (op->table == MB_TABLE_COIL)
            return tcp_write(b, op->multiple ? 15 : 5, op->address, NULL, 1, op->on);
        if (op->bit_rmw) {
            uint16_t r;
            mb_block_t blk = {.table = MB_TABLE_HOLDING, .address = op->address, .count = 1};
            int e = tcp_read_block(b, &blk, &r, NULL);
            if (e)
                return e;
            r = mb_set_bit(r, op->bit, op->on);
            return tcp_write(b, op->multiple ? 16 : 6, op->address, &r, 1, false);
        }
        return tcp_write(b, op->multiple ? 16 : 6, op->address, op->regs, op->n, false);
    }
    if (op->table == MB_TABLE_COIL) {
        rc = op->multiple ? modbus_write_bits(b->ctx, op->address, 1, &bit) : modbus_write_bit(b->ctx, op->address, bit);
    } else if (op->bit_rmw) {
        uint16_t r;
        rc = modbus_read_registers(b->ctx, op->address, 1, &r);
        if (rc == 1) {
            r = mb_set_bit(r, op->bit, op->on);
            rc = op->multiple ? modbus_write_registers(b->ctx, op->address, 1, &r)
                              : modbus_write_register(b->ctx, op->address, r);
        }
    } else if (op->multiple) {
        rc = modbus_write_registers(b->ctx, op->address, op->n, op->regs);
    } else {
        rc = modbus_write_register(b->ctx, op->address, op->regs[0]);
    }
    return rc < 0 ? (errno ? errno : EIO) : 0;
}

/* ---- FC 43/14 Read Device Identification ----------------------------------
 * libmodbus 3.1.6 cannot receive its response (its length logic does not know
 * function 0x2B): TCP goes through tcp_transact(), RTU is framed here. */

/* Copies object text into @p out as printable ASCII. */
static void copy_obj(char *out, size_t cap, const uint8_t *p, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    out[n] = '\0';
}

int mb_bus_read_ident(mb_bus_t *b, int unit, uint32_t timeout_ms, char *vendor, char *product,
                      char *revision, size_t cap)
{
    const uint8_t pdu[] = {0x2B, 0x0E, 0x01, 0x00}; /* basic device identification, from object 0 */
    uint8_t rsp[300];
    const uint8_t *p;
    size_t plen;
    vendor[0] = product[0] = revision[0] = '\0';
    (void)timeout_ms; /* mb_bus_begin() set it */
    if (!b->rtu) {
        int n = tcp_transact(b, pdu, sizeof pdu, rsp);
        if (n < 0)
            return errno;
        p = rsp;
        plen = (size_t)n;
    } else {
        uint8_t frame[8];
        size_t n = 0;
        int fd = modbus_get_socket(b->ctx);
        frame[n++] = (uint8_t)unit;
        memcpy(frame + n, pdu, sizeof pdu);
        n += sizeof pdu;
        uint16_t crc = mb_crc16(frame, n);
        frame[n++] = (uint8_t)crc;
        frame[n++] = (uint8_t)(crc >> 8);
        modbus_flush(b->ctx);
        if (!write_all(fd, frame, n))
            return errno ? errno : EIO;
        /* variable length: the frame ends when the line goes quiet */
        size_t got = read_some(fd, rsp, sizeof rsp, sizeof rsp, lgw_monotonic_ms() + b->timeout_ms, 30);
        if (got == 0)
            return ETIMEDOUT;
        if (got < 5 || mb_crc16(rsp, got - 2) != (uint16_t)(rsp[got - 2] | rsp[got - 1] << 8))
            return EMBBADCRC;
        if (rsp[0] != unit)
            return EMBBADSLAVE;
        p = rsp + 1;
        plen = got - 3;
        if (plen >= 2 && p[0] == (0x2B | 0x80))
            return MODBUS_ENOBASE + p[1];
    }
    if (plen < 7 || p[0] != 0x2B || p[1] != 0x0E)
        return EMBBADDATA;
    size_t nobj = p[6], off = 7;
    for (size_t i = 0; i < nobj; i++) {
        if (off + 2 > plen || off + 2 + p[off + 1] > plen)
            return EMBBADDATA;
        uint8_t id = p[off], len = p[off + 1];
        char *dst = id == 0 ? vendor : id == 1 ? product : id == 2 ? revision : NULL;
        if (dst)
            copy_obj(dst, cap, p + off + 2, len);
        off += 2u + len;
    }
    return 0;
}
