/*
 * A set of TSL models keyed by ProductKey, and the loader of a models
 * directory (one thing-model JSON file per product).
 */
#include "tsl_model.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_tsl_models {
    gw_tsl_model_t **v; /* sorted by product_key */
    size_t n, cap;
};

gw_tsl_models_t *gw_tsl_models_new(void)
{
    return calloc(1, sizeof(gw_tsl_models_t));
}

void gw_tsl_models_free(gw_tsl_models_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        gw_tsl_model_free(set->v[i]);
    free(set->v);
    free(set);
}

/* Index where @p pk is or would be inserted. */
static size_t lower_bound(const gw_tsl_models_t *set, const char *pk)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(set->v[mid]->product_key, pk) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int gw_tsl_models_add(gw_tsl_models_t *set, gw_tsl_model_t *m, char *err, size_t errlen)
{
    if (!set || !m) {
        gw_tsl_model_free(m);
        return -1;
    }
    size_t i = lower_bound(set, m->product_key);
    if (i < set->n && strcmp(set->v[i]->product_key, m->product_key) == 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: productKey \"%s\" is already defined by %s", m->source, m->product_key,
                     set->v[i]->source);
        gw_tsl_model_free(m);
        return -1;
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        gw_tsl_model_t **v = realloc(set->v, cap * sizeof *v);
        if (!v) {
            if (err && errlen)
                snprintf(err, errlen, "%s: out of memory", m->source);
            gw_tsl_model_free(m);
            return -1;
        }
        set->v = v;
        set->cap = cap;
    }
    memmove(&set->v[i + 1], &set->v[i], (set->n - i) * sizeof *set->v);
    set->v[i] = m;
    set->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "line\n" to err (bounded). */
static void append_err(char *err, size_t errlen, const char *line)
{
    if (!err || !errlen)
        return;
    size_t used = strlen(err);
    if (used + 1 < errlen)
        snprintf(err + used, errlen - used, "%s\n", line);
}

int gw_tsl_models_load_dir(gw_tsl_models_t *set, const char *dir, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open models directory\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int failed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(names, cap * sizeof *nv);
            if (!nv)
                break;
            names = nv;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char path[4096], msg[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        gw_tsl_model_t *m = gw_tsl_model_load_file(path, msg, sizeof msg);
        if (!m || gw_tsl_models_add(set, m, msg, sizeof msg) != 0) {
            append_err(err, errlen, msg);
            failed++;
        }
    }
    free(names);
    return failed;
}

const gw_tsl_model_t *gw_tsl_models_find(const gw_tsl_models_t *set, const char *pk)
{
    if (!set || !pk)
        return NULL;
    size_t i = lower_bound(set, pk);
    return i < set->n && strcmp(set->v[i]->product_key, pk) == 0 ? set->v[i] : NULL;
}

size_t gw_tsl_models_count(const gw_tsl_models_t *set)
{
    return set ? set->n : 0;
}

const gw_tsl_model_t *gw_tsl_models_at(const gw_tsl_models_t *set, size_t i)
{
    return set && i < set->n ? set->v[i] : NULL;
}
