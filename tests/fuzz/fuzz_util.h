/*
 * Helpers shared by the fuzz harnesses of tests/fuzz: cutting one fuzz input
 * into NUL-terminated fields, and handing text to APIs that only read files.
 *
 * Every harness defines LLVMFuzzerTestOneInput(); with clang it is linked
 * with libFuzzer, with gcc with replay_main.c (which runs the seed corpus and
 * the regression inputs). Harnesses never abort on "bad input refused": only
 * the sanitizers (or a crash) make a run fail.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Up to FZ_MAX_FIELDS fields of one input, split at '\n'; the last field
 * takes the rest of the input (newlines included). */
#define FZ_MAX_FIELDS 12
typedef struct fz_fields {
    char *buf;                    /* one malloc'd copy, NUL-terminated pieces */
    char *f[FZ_MAX_FIELDS];       /* fields; missing ones point at "" */
    size_t len[FZ_MAX_FIELDS];    /* byte length of each field (may hold NULs) */
    int n;                        /* fields actually present */
} fz_fields_t;

/* Cuts @p data into at most @p want fields (2..FZ_MAX_FIELDS). Returns 0, or
 * -1 when out of memory (the harness then just returns). */
int fz_split(const uint8_t *data, size_t size, int want, fz_fields_t *out);
void fz_fields_free(fz_fields_t *f);

/* A NUL-terminated malloc'd copy of @p data (embedded NULs kept). */
char *fz_strndup(const uint8_t *data, size_t size);

/* Writes @p data into an anonymous memory file and stores a path that opens
 * it ("/proc/self/fd/N") in @p path. Returns the descriptor (close it when
 * done) or -1. */
int fz_memfile(const void *data, size_t size, char *path, size_t cap);

#endif
