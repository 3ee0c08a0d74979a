/* The tests' tiny HTTPS server; see https_server.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr */
#endif
#include "https_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static bool write_all(SSL *ssl, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        int w = SSL_write(ssl, c, n > 16384 ? 16384 : (int)n);
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static void serve(hs_t *s, int fd)
{
    SSL *ssl = SSL_new(s->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        return;
    }
    char req[4096];
    size_t got = 0;
    while (got < sizeof req - 1) {
        int r = SSL_read(ssl, req + got, (int)(sizeof req - 1 - got));
        if (r <= 0)
            break;
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[got] = '\0';
    long from = -1;
    const char *rh = strcasestr(req, "\r\nRange: bytes=");
    if (rh)
        from = strtol(rh + strlen("\r\nRange: bytes="), NULL, 10);
    bool cut;
    pthread_mutex_lock(&s->mu);
    if (s->nreq < HS_MAX_REQS)
        s->range_from[s->nreq] = from;
    s->nreq++;
    cut = s->cuts > 0 && s->cut_at > 0;
    if (cut)
        s->cuts--;
    pthread_mutex_unlock(&s->mu);

    size_t start = from > 0 && (size_t)from < s->len ? (size_t)from : 0;
    char head[256];
    if (start > 0)
        snprintf(head, sizeof head,
                 "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\nContent-Range: bytes %zu-%zu/%zu\r\n"
                 "Connection: close\r\n\r\n",
                 s->len - start, start, s->len - 1, s->len);
    else
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", s->len);
    size_t end = cut && s->cut_at > start ? s->cut_at : s->len;
    size_t pause = s->stall_at > start && s->stall_at < end ? s->stall_at : start;
    s->stall_at = 0; /* only once */
    bool ok = write_all(ssl, head, strlen(head)) && write_all(ssl, s->body + start, pause - start);
    while (ok && pause > start && !s->release && !s->stop)
        usleep(10 * 1000);
    if (ok && write_all(ssl, s->body + pause, end - pause) && !cut)
        SSL_shutdown(ssl);
    SSL_free(ssl); /* a cut connection just closes: the client sees a short body */
}

static void *run(void *arg)
{
    hs_t *s = arg;
    while (!s->stop) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(s, fd);
        close(fd);
    }
    return NULL;
}

int hs_start(hs_t *s, const char *cert, const char *key)
{
    pthread_mutex_init(&s->mu, NULL);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return -1;
    }
    s->ctx = ctx;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 8) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        if (s->lfd >= 0)
            close(s->lfd);
        SSL_CTX_free(ctx);
        return -1;
    }
    s->port = ntohs(a.sin_port);
    s->stop = false;
    if (pthread_create(&s->th, NULL, run, s) != 0) {
        close(s->lfd);
        SSL_CTX_free(ctx);
        return -1;
    }
    return 0;
}

void hs_stop(hs_t *s)
{
    if (!s->ctx)
        return;
    s->stop = true;
    pthread_join(s->th, NULL);
    close(s->lfd);
    SSL_CTX_free(s->ctx);
    s->ctx = NULL;
    pthread_mutex_destroy(&s->mu);
}

int hs_requests(hs_t *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nreq;
    pthread_mutex_unlock(&s->mu);
    return n;
}
