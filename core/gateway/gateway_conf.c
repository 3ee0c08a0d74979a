/*
 * The gateway's configuration sections and conf.d keys (see gateway_conf.h):
 * validation with file:line errors and the process-wide parsed result.
 */
#include "gateway_conf.h"
#include "cfgdoc.h"
#include "conf.h"
#include "log.h"
#include "cloud_conf.h"
#include "store/store.h"

#include <openssl/crypto.h>

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A table of ("key", "value") pairs from a conf.d list. */
typedef struct pairs {
    size_t n;
    char **key, **val;
} pairs_t;

/* One conf.d instance's gateway settings. */
typedef struct inst_rec {
    char *instance;
    gw_tsl_mapping_t *map;  /* NULL: no `models` */
    bool may_register;
    char *prefix;           /* "" when unset */
    pairs_t names;          /* device id → DeviceName */
    pairs_t ps;             /* ProductKey → ProductSecret (product_register); wiped on free */
    struct inst_rec *next;
} inst_rec_t;

static struct {
    gw_cloud_config_t cloud;  /* filled by gw_cloud_conf_register()'s validator; host NULL = no section */
    char *control_socket;   /* NULL: default */
    unsigned control_mode;
    unsigned login_rate;
    gw_tsl_models_t *models;
    inst_rec_t *insts;
} G = {.control_mode = 0600, .login_rate = 200};

/* ---- helpers ------------------------------------------------------------------ */

/* The node of @p root (or a descendant) declared on @p line, else @p root. */
static const config_setting_t *node_at_line(const config_setting_t *root, int line)
{
    if (!root || (int)config_setting_source_line(root) == line)
        return root;
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        const config_setting_t *c = config_setting_get_elem(root, (unsigned)i);
        if ((int)config_setting_source_line(c) == line)
            return c;
        if (config_setting_is_aggregate(c)) {
            const config_setting_t *d = node_at_line(c, line);
            if (d != c && (int)config_setting_source_line(d) == line)
                return d;
        }
    }
    return root;
}

/* Error sink of the TSL mapping parser. */
static void tsl_err(void *ctx, const config_setting_t *at, const char *file, int line, const char *msg)
{
    (void)file;
    const config_setting_t *root = ctx;
    lgw_config_error(gw_cfg_node(at ? at : node_at_line(root, line)), "%s", msg);
}

/* Resolves @p path relative to the directory of the file @p node comes from. */
static char *resolve(const config_setting_t *node, const char *path)
{
    const char *file = config_setting_source_file(node);
    if (path[0] == '/' || !file)
        return strdup(path);
    char *copy = strdup(file);
    if (!copy)
        return NULL;
    char *out = NULL;
    if (asprintf(&out, "%s/%s", dirname(copy), path) < 0)
        out = NULL;
    free(copy);
    return out;
}

/* ---- main-file sections ---------------------------------------------------------- */

static int tsl_section(const lgw_config_t *section, void *data)
{
    (void)data;
    gw_tsl_models_free(G.models);
    G.models = gw_tsl_models_new();
    if (!section || !G.models)
        return 0;
    static const char *const keys[] = {"models_dir", NULL};
    lgw_config_check_keys(section, keys);
    const char *dir = NULL;
    if (lgw_config_get_string(section, "models_dir", &dir) != LGW_OK || !dir)
        return 0;
    char *abs = resolve(gw_cfg_setting(section), dir);
    char err[2048] = "";
    int rc = abs ? gw_tsl_models_load_dir(G.models, abs, err, sizeof err) : -1;
    if (rc < 0)
        lgw_config_error(lgw_config_child(section, "models_dir"), "cannot read the TSL models directory '%s'",
                         abs ? abs : dir);
    else if (rc > 0)
        lgw_config_error(lgw_config_child(section, "models_dir"), "%d TSL model file(s) refused: %s", rc, err);
    free(abs);
    return 0;
}

static int gateway_section(const lgw_config_t *section, void *data)
{
    (void)data;
    free(G.control_socket);
    G.control_socket = NULL;
    G.control_mode = 0600;
    G.login_rate = 200;
    if (!section)
        return 0;
    static const char *const keys[] = {"control_socket", "control_mode", "login_rate", NULL};
    lgw_config_check_keys(section, keys);
    const char *s = NULL;
    if (lgw_config_get_string(section, "control_socket", &s) == LGW_OK && s) {
        char *abs = resolve(gw_cfg_setting(section), s);
        if (!abs || !*s || strlen(abs) >= 100)
            lgw_config_error(lgw_config_child(section, "control_socket"),
                             "control_socket must be a path of at most 99 bytes");
        else
            G.control_socket = abs, abs = NULL;
        free(abs);
    }
    int64_t v;
    if (lgw_config_get_int(section, "control_mode", &v) == LGW_OK) {
        if (v != 0600 && v != 0660)
            lgw_config_error(lgw_config_child(section, "control_mode"), "control_mode must be 0600 or 0660");
        else
            G.control_mode = (unsigned)v;
    }
    if (lgw_config_get_int_range(section, "login_rate", &v, 1, 200) == LGW_OK)
        G.login_rate = (unsigned)v;
    return 0;
}

/* ---- conf.d keys ------------------------------------------------------------------- */

static void pairs_free(pairs_t *t, bool secret_values)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->key[i]);
        if (secret_values && t->val[i])
            OPENSSL_cleanse(t->val[i], strlen(t->val[i]));
        free(t->val[i]);
    }
    free(t->key);
    free(t->val);
    memset(t, 0, sizeof *t);
}

/*
 * What check_pair() of parse_pairs() answers: NULL when the pair is fine,
 * else the error text written to @p msg.
 */
typedef const char *(*pair_check_fn)(const char *key, const char *val, char *msg, size_t cap);

/*
 * Parses `name = ( ("key", "value"), … )` into @p out: each entry must be a
 * pair of strings passing @p check; a key listed twice (or, with
 * @p unique_vals, a value) is an error. Errors go to the offending entry
 * (file:line); @p shape names the pair for them, e.g. "(\"device id\", \"DeviceName\")".
 */
static void parse_pairs(const config_setting_t *list, const char *name, const char *shape, pair_check_fn check,
                        bool unique_vals, pairs_t *out)
{
    if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
        lgw_config_error(gw_cfg_node(list), "%s must be a list of %s pairs", name, shape);
        return;
    }
    int len = config_setting_length(list);
    out->key = calloc((size_t)len + 1, sizeof *out->key);
    out->val = calloc((size_t)len + 1, sizeof *out->val);
    if (!out->key || !out->val)
        return;
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        const char *k = NULL, *v = NULL, *err;
        char msg[256];
        if (config_setting_is_aggregate(e) && config_setting_length(e) == 2) {
            k = config_setting_get_string_elem(e, 0);
            v = config_setting_get_string_elem(e, 1);
        }
        if (!k || !v) {
            lgw_config_error(gw_cfg_node(e), "%s entry must be %s", name, shape);
            continue;
        }
        if ((err = check(k, v, msg, sizeof msg)) != NULL) {
            lgw_config_error(gw_cfg_node(e), "%s", err);
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < out->n; j++)
            dup |= strcmp(out->key[j], k) == 0 || (unique_vals && strcmp(out->val[j], v) == 0);
        if (dup) {
            lgw_config_error(gw_cfg_node(e), unique_vals ? "%s: '%s' or its value is listed twice" : "%s: '%s' is listed twice",
                             name, k);
            continue;
        }
        char *kc = strdup(k), *vc = strdup(v);
        if (!kc || !vc) {
            free(kc);
            free(vc);
            lgw_config_error(gw_cfg_node(e), "%s: out of memory", name);
            continue;
        }
        out->key[out->n] = kc;
        out->val[out->n] = vc;
        out->n++;
    }
}

/* device_names entries: device id → DeviceName. */
static const char *check_name_pair(const char *id, const char *dn, char *msg, size_t cap)
{
    if (!*id || strlen(id) >= GW_STORE_TEXT_MAX)
        return "device id must be 1..128 characters";
    if (!gw_store_name_valid(dn) || strlen(dn) < 4 || strlen(dn) > 32) {
        snprintf(msg, cap, "DeviceName '%.40s' must be 4..32 characters of A-Z a-z 0-9 _ . : @ -", dn);
        return msg;
    }
    return NULL;
}

/* product_secrets entries: ProductKey → ProductSecret (never echoed). */
static const char *check_secret_pair(const char *pk, const char *ps, char *msg, size_t cap)
{
    if (!gw_store_name_valid(pk) || strlen(pk) > 32) {
        snprintf(msg, cap, "ProductKey '%.40s' must be 1..32 characters of A-Z a-z 0-9 _ . : @ -", pk);
        return msg;
    }
    if (!gw_store_secret_valid(ps)) {
        snprintf(msg, cap, "the ProductSecret of %s is not a valid secret (printable, 1..64 bytes)", pk);
        return msg;
    }
    return NULL;
}

static void rec_free(inst_rec_t *r)
{
    if (!r)
        return;
    gw_tsl_mapping_free(r->map);
    pairs_free(&r->names, false);
    pairs_free(&r->ps, true);
    free(r->prefix);
    free(r->instance);
    free(r);
}

static inst_rec_t *rec_find(const char *instance)
{
    for (inst_rec_t *r = G.insts; r; r = r->next)
        if (strcmp(r->instance, instance) == 0)
            return r;
    return NULL;
}

static void rec_replace(inst_rec_t *nr)
{
    for (inst_rec_t **pp = &G.insts; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->instance, nr->instance) == 0) {
            inst_rec_t *old = *pp;
            nr->next = old->next;
            *pp = nr;
            rec_free(old);
            return;
        }
    }
    nr->next = G.insts;
    G.insts = nr;
}

/* Parses the `subdevice` group @p g into @p r. */
static void parse_subdevice(const config_setting_t *g, inst_rec_t *r)
{
    const lgw_config_t *n = gw_cfg_node(g);
    if (!config_setting_is_group(g)) {
        lgw_config_error(n, "'subdevice' must be a group");
        return;
    }
    static const char *const keys[] = {"register", "device_name_prefix", "device_names", "product_secrets", NULL};
    lgw_config_check_keys(n, keys);
    lgw_config_get_bool(n, "register", &r->may_register);
    /* the seed's table from sub-device product to ProductKey + ProductSecret: devices of a listed
     * product get their DeviceSecret with the signed product_register instead of sub/register */
    const config_setting_t *ps = config_setting_get_member(g, "product_secrets");
    if (ps && !r->may_register)
        lgw_config_error(gw_cfg_node(ps), "product_secrets needs register = true");
    else if (ps)
        parse_pairs(ps, "product_secrets", "(\"ProductKey\", \"ProductSecret\")", check_secret_pair, false, &r->ps);
    const char *p = NULL;
    if (lgw_config_get_string(n, "device_name_prefix", &p) == LGW_OK && p) {
        char probe[GW_STORE_NAME_MAX + 8];
        snprintf(probe, sizeof probe, "%sX", p);
        if (strlen(p) > 32 || !gw_store_name_valid(probe))
            lgw_config_error(lgw_config_child(n, "device_name_prefix"),
                             "device_name_prefix: at most 32 characters of A-Z a-z 0-9 _ . : @ -");
        else
            free(r->prefix), r->prefix = strdup(p);
    }
    const config_setting_t *list = config_setting_get_member(g, "device_names");
    if (list)
        parse_pairs(list, "device_names", "(\"device id\", \"DeviceName\")", check_name_pair, true, &r->names);
}

/*
 * Both keys parse the whole instance record (models + subdevice) from the
 * file's root, so a record always reflects one read of one file; the
 * `subdevice` validator only works when the file has no `models` key.
 */
static int instance_keys(const char *instance, const config_setting_t *root)
{
    int before = lgw_config_error_count(gw_cfg_node(root));
    inst_rec_t *r = calloc(1, sizeof *r);
    if (!r || !(r->instance = strdup(instance)) || !(r->prefix = strdup(""))) {
        rec_free(r);
        return -1;
    }
    const config_setting_t *models = config_setting_get_member(root, "models");
    if (models) {
        if (!config_setting_is_group(models)) {
            lgw_config_error(gw_cfg_node(models), "'models' must be a group");
        } else {
            if (!G.models)
                G.models = gw_tsl_models_new();
            r->map = gw_tsl_mapping_parse(models, G.models, tsl_err, (void *)models, NULL);
        }
    }
    const config_setting_t *sub = config_setting_get_member(root, "subdevice");
    if (sub)
        parse_subdevice(sub, r);
    if (lgw_config_error_count(gw_cfg_node(root)) > before) {
        rec_free(r);
        return -1;
    }
    rec_replace(r);
    return 0;
}

static int models_key(const char *instance, const lgw_config_t *setting, void *data)
{
    (void)data;
    const config_setting_t *s = gw_cfg_setting(setting);
    return instance_keys(instance, config_setting_parent(s));
}

static int subdevice_key(const char *instance, const lgw_config_t *setting, void *data)
{
    (void)data;
    const config_setting_t *s = gw_cfg_setting(setting);
    const config_setting_t *root = config_setting_parent(s);
    if (config_setting_get_member(root, "models"))
        return 0; /* done by models_key */
    return instance_keys(instance, root);
}

int gw_gwconf_register(void)
{
    if (gw_cloud_conf_register(&G.cloud) != LGW_OK ||
        gw_conf_register_section("tsl", tsl_section, NULL) != LGW_OK ||
        gw_conf_register_section("gateway", gateway_section, NULL) != LGW_OK ||
        gw_conf_register_instance_key("models", models_key, NULL) != LGW_OK ||
        gw_conf_register_instance_key("subdevice", subdevice_key, NULL) != LGW_OK)
        return LGW_EINVAL;
    return LGW_OK;
}

/* ---- queries ------------------------------------------------------------------------ */

const gw_cloud_config_t *gw_gwconf_cloud(void) { return G.cloud.host ? &G.cloud : NULL; }

const char *gw_gwconf_control_socket(const char *state_dir, char *buf, size_t cap)
{
    if (G.control_socket)
        snprintf(buf, cap, "%s", G.control_socket);
    else
        snprintf(buf, cap, "%s/linkgw.sock", state_dir ? state_dir : ".");
    return buf;
}

unsigned gw_gwconf_control_mode(void) { return G.control_mode; }
unsigned gw_gwconf_login_rate(void) { return G.login_rate; }

const gw_tsl_models_t *gw_gwconf_tsl_models(void)
{
    if (!G.models)
        G.models = gw_tsl_models_new();
    return G.models;
}

const gw_tsl_model_map_t *gw_gwconf_model_map(const char *instance, const char *model)
{
    inst_rec_t *r = instance && model ? rec_find(instance) : NULL;
    return r && r->map ? gw_tsl_mapping_model(r->map, model) : NULL;
}

const char *gw_gwconf_product_key(const char *instance, const char *model)
{
    const gw_tsl_model_map_t *mm = gw_gwconf_model_map(instance, model);
    return mm && mm->tsl ? mm->tsl->product_key : NULL;
}

bool gw_gwconf_device_name(const char *instance, const char *device_id, char *out, size_t cap)
{
    inst_rec_t *r = instance ? rec_find(instance) : NULL;
    if (r) {
        for (size_t i = 0; i < r->names.n; i++) {
            if (strcmp(r->names.key[i], device_id) == 0) {
                snprintf(out, cap, "%s", r->names.val[i]);
                return true;
            }
        }
    }
    int n = snprintf(out, cap, "%s%s", r ? r->prefix : "", device_id);
    return n > 0 && (size_t)n < cap && gw_store_name_valid(out);
}

bool gw_gwconf_may_register(const char *instance)
{
    inst_rec_t *r = instance ? rec_find(instance) : NULL;
    return r && r->may_register;
}

const char *gw_gwconf_product_secret(const char *instance, const char *product_key)
{
    inst_rec_t *r = instance && product_key ? rec_find(instance) : NULL;
    for (size_t i = 0; r && i < r->ps.n; i++)
        if (strcmp(r->ps.key[i], product_key) == 0)
            return r->ps.val[i];
    return NULL;
}

void gw_gwconf_free(void)
{
    while (G.insts) {
        inst_rec_t *r = G.insts;
        G.insts = r->next;
        rec_free(r);
    }
    gw_cloud_config_free(&G.cloud);
    gw_tsl_models_free(G.models);
    G.models = NULL;
    free(G.control_socket);
    G.control_socket = NULL;
}

__attribute__((destructor)) static void gwconf_atexit(void) { gw_gwconf_free(); }
