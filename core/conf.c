/* Main configuration file, conf.d files and the module registry; see conf.h. */
#include "conf.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- registry ------------------------------------------------------------ */

#define MAX_REG 32

typedef struct reg {
    char name[64];
    gw_conf_section_fn section;
    gw_conf_key_fn key;
    void *data;
} reg_t;

static reg_t g_sections[MAX_REG], g_keys[MAX_REG];
static size_t g_nsections, g_nkeys;

static const char *const MAIN_KEYS[] = {"log_level", "conf_dir", "state_dir", "plugin_dir", "request_timeout_ms",
                                        NULL};
static const char *const INST_KEYS[] = {"plugin", "enabled", "settings", NULL};

static bool in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static reg_t *find_reg(reg_t *regs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(regs[i].name, name) == 0)
            return &regs[i];
    return NULL;
}

int gw_conf_register_section(const char *name, gw_conf_section_fn fn, void *data)
{
    if (!name || !*name || strlen(name) >= sizeof g_sections[0].name || !fn || in_list(MAIN_KEYS, name) ||
        find_reg(g_sections, g_nsections, name) || g_nsections == MAX_REG)
        return LGW_EINVAL;
    reg_t *r = &g_sections[g_nsections++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->section = fn;
    r->data = data;
    return LGW_OK;
}

int gw_conf_register_instance_key(const char *name, gw_conf_key_fn fn, void *data)
{
    if (!name || !*name || strlen(name) >= sizeof g_keys[0].name || !fn || in_list(INST_KEYS, name) ||
        find_reg(g_keys, g_nkeys, name) || g_nkeys == MAX_REG)
        return LGW_EINVAL;
    reg_t *r = &g_keys[g_nkeys++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->key = fn;
    r->data = data;
    return LGW_OK;
}

void gw_conf_registry_clear(void) { g_nsections = g_nkeys = 0; }

/* ---- helpers ---------------------------------------------------------------- */

uint64_t gw_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* Reads a whole (small) file; NULL with errno set on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
        if (n + 1 == cap) {
            if (cap >= (16u << 20)) { /* 16 MiB: not a config file */
                free(buf);
                buf = NULL;
                errno = EFBIG;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
        errno = EIO;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

/* @p p made absolute against directory @p base (unless already absolute). */
static char *resolve(const char *base, const char *p)
{
    char *out;
    if (p[0] == '/' || !base)
        return strdup(p);
    return asprintf(&out, "%s/%s", base, p) < 0 ? NULL : out;
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

/* Reads a non-empty string member into @p *out (replacing it), resolved against @p base. */
static void get_path(const lgw_config_t *root, const char *name, const char *base, char **out)
{
    const char *s;
    if (lgw_config_get_string(root, name, &s) != LGW_OK)
        return;
    if (!*s) {
        lgw_config_error(lgw_config_child(root, name), "setting '%s' must not be empty", name);
        return;
    }
    char *r = resolve(base, s);
    if (r) {
        free(*out);
        *out = r;
    }
}

/* ---- main file ------------------------------------------------------------ */

int gw_main_conf_load(gw_main_conf_t *mc, const char *path, gw_errors_t *errs)
{
    memset(mc, 0, sizeof *mc);
    mc->path = strdup(path);
    mc->log_level = LGW_LOG_INFO;
    mc->request_timeout_ms = 10000;
    char *base = dir_of(path);
    mc->conf_dir = resolve(base, "conf.d");
    mc->state_dir = strdup("/var/lib/linkgw");
    mc->plugin_dir = strdup(LINKGW_PLUGIN_DIR);

    size_t before = errs->n;
    gw_cfgdoc_t doc;
    if (gw_cfgdoc_load(&doc, path, errs) != LGW_OK) {
        gw_cfgdoc_free(&doc);
        free(base);
        return LGW_EINVAL;
    }
    const lgw_config_t *root = gw_cfgdoc_root(&doc);
    static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
    int lv;
    if (lgw_config_get_choice(root, "log_level", levels, &lv) == LGW_OK)
        mc->log_level = (lgw_log_level_t)lv;
    get_path(root, "conf_dir", base, &mc->conf_dir);
    get_path(root, "state_dir", base, &mc->state_dir);
    get_path(root, "plugin_dir", base, &mc->plugin_dir);
    int64_t t;
    if (lgw_config_get_int_range(root, "request_timeout_ms", &t, 1, 3600000) == LGW_OK)
        mc->request_timeout_ms = (uint64_t)t;

    bool seen[MAX_REG] = {false};
    for (size_t i = 0; i < lgw_config_count(root); i++) {
        const lgw_config_t *m = lgw_config_at(root, i);
        const char *name = lgw_config_name(m);
        if (in_list(MAIN_KEYS, name))
            continue;
        reg_t *r = find_reg(g_sections, g_nsections, name);
        if (!r) {
            lgw_config_error(m, "unknown setting '%s'", name);
            continue;
        }
        seen[r - g_sections] = true;
        if (lgw_config_kind(m) != LGW_CFG_GROUP) {
            lgw_config_error(m, "setting '%s' must be a group, not %s", name,
                             gw_config_kind_name(lgw_config_kind(m)));
            continue;
        }
        gw_cfgdoc_set_current(&doc);
        r->section(m, r->data);
        gw_cfgdoc_set_current(NULL);
    }
    for (size_t i = 0; i < g_nsections; i++) {
        if (seen[i])
            continue;
        gw_cfgdoc_set_current(&doc);
        g_sections[i].section(NULL, g_sections[i].data);
        gw_cfgdoc_set_current(NULL);
    }
    gw_cfgdoc_free(&doc);
    free(base);
    if (!mc->path || !mc->conf_dir || !mc->state_dir || !mc->plugin_dir) {
        gw_errors_add(errs, path, 0, "out of memory");
        return LGW_ENOMEM;
    }
    return errs->n == before ? LGW_OK : LGW_EINVAL;
}

void gw_main_conf_free(gw_main_conf_t *mc)
{
    free(mc->path);
    free(mc->conf_dir);
    free(mc->state_dir);
    free(mc->plugin_dir);
    memset(mc, 0, sizeof *mc);
}

/* ---- conf.d files ------------------------------------------------------------ */

static bool valid_name(const char *s, bool allow_dot)
{
    if (!*s || *s == '.' || *s == '-')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-' || (allow_dot && *s == '.')))
            return false;
    return true;
}

int gw_inst_conf_load(gw_inst_conf_t *ic, const char *path, const char *plugin_dir, gw_errors_t *errs)
{
    memset(ic, 0, sizeof *ic);
    ic->enabled = true;
    ic->path = strdup(path);
    const char *slash = strrchr(path, '/');
    const char *file = slash ? slash + 1 : path;
    size_t flen = strlen(file);
    ic->name = strndup(file, flen > 5 && strcmp(file + flen - 5, ".conf") == 0 ? flen - 5 : flen);
    size_t before = errs->n;

    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text) {
        gw_errors_add(errs, path, 0, "cannot read file: %s", strerror(errno));
        gw_cfgdoc_load_string(&ic->doc, path, "", errs); /* keep doc valid for free */
        return LGW_EINVAL;
    }
    ic->hash = gw_hash64(text, len);
    if (strlen(text) != len) {
        gw_errors_add(errs, path, 0, "file contains NUL bytes");
        free(text);
        gw_cfgdoc_load_string(&ic->doc, path, "", errs);
        return LGW_EINVAL;
    }
    int rc = gw_cfgdoc_load_string(&ic->doc, path, text, errs);
    free(text);
    if (rc != LGW_OK)
        return LGW_EINVAL;
    if (!ic->name || !valid_name(ic->name, true))
        gw_errors_add(errs, path, 0, "instance name '%s' (the file name without .conf) may only use letters, "
                      "digits, '_', '-' and '.'", ic->name ? ic->name : "");

    const lgw_config_t *root = gw_cfgdoc_root(&ic->doc);
    lgw_config_get_bool(root, "enabled", &ic->enabled);
    const char *plugin = NULL;
    if (lgw_config_require(root, "plugin") == LGW_OK &&
        lgw_config_get_string(root, "plugin", &plugin) == LGW_OK) {
        const lgw_config_t *pn = lgw_config_child(root, "plugin");
        ic->plugin_line = lgw_config_line(pn);
        if (strchr(plugin, '/')) {
            if (plugin[0] != '/')
                lgw_config_error(pn, "plugin path '%s' must be absolute (or a plain plugin name)", plugin);
            else
                ic->plugin_path = strdup(plugin);
        } else if (!valid_name(plugin, false)) {
            lgw_config_error(pn, "invalid plugin name '%s'", plugin);
        } else if (asprintf(&ic->plugin_path, "%s/%s.so", plugin_dir, plugin) < 0) {
            ic->plugin_path = NULL;
        }
    }
    const lgw_config_t *settings = lgw_config_child(root, "settings");
    if (settings && lgw_config_kind(settings) != LGW_CFG_GROUP) {
        lgw_config_error(settings, "setting 'settings' must be a group, not %s",
                         gw_config_kind_name(lgw_config_kind(settings)));
        settings = NULL;
    }
    for (size_t i = 0; i < lgw_config_count(root); i++) {
        const lgw_config_t *m = lgw_config_at(root, i);
        const char *name = lgw_config_name(m);
        if (in_list(INST_KEYS, name))
            continue;
        reg_t *r = find_reg(g_keys, g_nkeys, name);
        if (!r) {
            lgw_config_error(m, "unknown setting '%s'", name);
            continue;
        }
        gw_cfgdoc_set_current(&ic->doc);
        r->key(ic->name, m, r->data);
        gw_cfgdoc_set_current(NULL);
    }
    if (!settings && !lgw_config_child(root, "settings"))
        settings = gw_cfg_node(config_setting_add(gw_cfg_setting(root), "settings", CONFIG_TYPE_GROUP));
    ic->settings = settings;
    return errs->n == before && ic->settings ? LGW_OK : LGW_EINVAL;
}

void gw_inst_conf_free(gw_inst_conf_t *ic)
{
    gw_cfgdoc_free(&ic->doc);
    free(ic->name);
    free(ic->path);
    free(ic->plugin_path);
    memset(ic, 0, sizeof *ic);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char **gw_confd_list(const char *dir, gw_errors_t *errs)
{
    DIR *d = opendir(dir);
    if (!d) {
        gw_errors_add(errs, dir, 0, "cannot read conf.d directory: %s", strerror(errno));
        return NULL;
    }
    size_t n = 0, cap = 8;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0 || e->d_name[0] == '.')
            continue;
        if (n + 1 >= cap) {
            char **nn = realloc(names, (cap *= 2) * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n] = NULL;
        if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0)
            break;
        n++;
    }
    closedir(d);
    if (!names)
        return NULL;
    names[n] = NULL;
    qsort(names, n, sizeof *names, cmp_str);
    return names;
}

void gw_confd_list_free(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}
