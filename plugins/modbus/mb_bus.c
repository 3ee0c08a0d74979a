/*
 * The libmodbus side of a bus. Everything here runs on the bus's worker
 * thread (lgw_worker_t), one request at a time, except mb_bus_open() and
 * mb_bus_close() which run on the loop thread before the worker exists and
 * after it was joined.
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

int mb_bus_read_block(mb_bus_t *b, const mb_block_t *blk, uint16_t *regs, uint8_t *bits)
{
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

/* ---- FC 43/14 over raw frames -------------------------------------------
 * libmodbus 3.1.6 cannot receive a Read Device Identification response (its
 * length logic does not know function 0x2B), so the request is framed,
 * sent and received here on libmodbus's own socket/serial fd. */

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
    uint8_t frame[300], rsp[300];
    size_t n = 0, hdr;
    int fd = modbus_get_socket(b->ctx);
    const uint8_t pdu[] = {0x2B, 0x0E, 0x01, 0x00};
    vendor[0] = product[0] = revision[0] = '\0';
    if (b->rtu) {
        frame[n++] = (uint8_t)unit;
        memcpy(frame + n, pdu, sizeof pdu);
        n += sizeof pdu;
        uint16_t crc = mb_crc16(frame, n);
        frame[n++] = (uint8_t)crc;
        frame[n++] = (uint8_t)(crc >> 8);
        hdr = 1;
    } else {
        uint16_t tid = ++b->tid;
        frame[0] = (uint8_t)(tid >> 8);
        frame[1] = (uint8_t)tid;
        frame[2] = frame[3] = 0;
        frame[4] = 0;
        frame[5] = (uint8_t)(1 + sizeof pdu);
        frame[6] = (uint8_t)unit;
        memcpy(frame + 7, pdu, sizeof pdu);
        n = 7 + sizeof pdu;
        hdr = 7;
    }
    modbus_flush(b->ctx);
    if (!write_all(fd, frame, n))
        return errno ? errno : EIO;
    uint64_t deadline = lgw_monotonic_ms() + timeout_ms;
    size_t got;
    if (b->rtu) {
        got = read_some(fd, rsp, sizeof rsp, sizeof rsp, deadline, 30);
        if (got == 0)
            return ETIMEDOUT;
        if (got < 5 || mb_crc16(rsp, got - 2) != (uint16_t)(rsp[got - 2] | rsp[got - 1] << 8))
            return EMBBADCRC;
        if (rsp[0] != unit)
            return EMBBADSLAVE;
        got -= 2;
    } else {
        got = read_some(fd, rsp, sizeof rsp, 7, deadline, 0);
        if (got < 7)
            return ETIMEDOUT;
        size_t len = (size_t)(rsp[4] << 8 | rsp[5]);
        if (rsp[0] != frame[0] || rsp[1] != frame[1] || len < 2 || len + 6 > sizeof rsp)
            return EMBBADDATA;
        got += read_some(fd, rsp + 7, sizeof rsp - 7, len - 1, deadline, 0);
        if (got < 6 + len)
            return ETIMEDOUT;
        got = 6 + len;
    }
    const uint8_t *p = rsp + hdr;
    size_t plen = got - hdr;
    if (plen >= 2 && p[0] == (0x2B | 0x80))
        return MODBUS_ENOBASE + p[1];
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
