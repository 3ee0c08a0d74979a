/*
 * Settings of a Modbus instance (the `settings` group of its conf.d file):
 * the bus, the register maps (models) with their points, polling groups and
 * services, the devices (slaves) and discovery. Every error is recorded at
 * the offending setting's file:line through the SDK (see docs in
 * plugins/modbus/README.md for the full key list).
 */
#define _GNU_SOURCE
#include "mb_plugin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

static const char *const k_top[] = {
    "transport", "host", "port", "device", "baud", "parity", "data_bits", "stop_bits", "rs485",
    "connect_timeout_ms", "response_timeout_ms", "byte_timeout_ms", "max_failures", "probe_min_ms",
    "probe_max_ms", "reconnect_min_ms", "reconnect_max_ms", "max_gap", "max_registers", "max_bits",
    "models", "devices", "discovery", NULL};
static const char *const k_model[] = {
    "name", "address_base", "interval_ms", "groups", "points", "services", "order",
    "write_multiple", "ident_vendor", "ident_product", "id_value", NULL};
static const char *const k_group[] = {"name", "interval_ms", NULL};
static const char *const k_point[] = {
    "name", "table", "address", "address_base", "type", "order", "bit", "length", "scale",
    "offset", "access", "group", NULL};
static const char *const k_service[] = {"name", "writes", NULL};
static const char *const k_step[] = {"point", "value", "input", NULL};
static const char *const k_device[] = {"id", "model", "unit", "timeout_ms", NULL};
static const char *const k_disc[] = {
    "first", "last", "timeout_ms", "id_prefix", "fc43", "id_register", NULL};
static const char *const k_idreg[] = {"table", "address", "address_base", "type", "order", NULL};

static const char *const access_names[] = {"r", "rw", NULL};
static const char *const transport_names[] = {"tcp", "rtu", NULL};
static const char *const parity_names[] = {"none", "even", "odd", NULL};

/* Reads a uint32 millisecond setting in [min, max]. */
static void get_ms(const lgw_config_t *c, const char *key, uint32_t *out, int64_t min, int64_t max)
{
    int64_t v = *out;
    if (lgw_config_get_int_range(c, key, &v, min, max) == LGW_OK)
        *out = (uint32_t)v;
}

/* Reads a required, non-empty string; returns NULL (error recorded) otherwise. */
static const char *get_name(const lgw_config_t *c, const char *key)
{
    const char *s = NULL;
    if (lgw_config_require(c, key) != LGW_OK)
        return NULL;
    if (lgw_config_get_string(c, key, &s) != LGW_OK)
        return NULL;
    if (!*s) {
        lgw_config_error(lgw_config_child(c, key), "'%s' must not be empty", key);
        return NULL;
    }
    return s;
}

/* Reads an address with its base into a 0-based protocol address. */
static bool get_address(const lgw_config_t *c, int base, unsigned width, uint16_t *out)
{
    int64_t a = 0;
    if (lgw_config_require(c, "address") != LGW_OK)
        return false;
    if (lgw_config_get_int_range(c, "address", &a, base, 65535 + base) != LGW_OK)
        return false;
    a -= base;
    if (a + width > 65536) {
        lgw_config_error(lgw_config_child(c, "address"),
                         "point of %u registers starting at %lld runs past address 65535", width,
                         (long long)(a + base));
        return false;
    }
    *out = (uint16_t)a;
    return true;
}

static lgw_type_t out_type_of(const mb_point_t *p)
{
    switch (p->type) {
    case MB_T_BOOL:
    case MB_T_BIT: return LGW_TYPE_BOOL;
    case MB_T_STRING: return LGW_TYPE_TEXT;
    case MB_T_FLOAT32: return p->scaled ? LGW_TYPE_DOUBLE : LGW_TYPE_FLOAT;
    case MB_T_FLOAT64: return LGW_TYPE_DOUBLE;
    default: return p->scaled ? LGW_TYPE_DOUBLE : LGW_TYPE_INT;
    }
}

static bool read_point(const lgw_config_t *c, mb_model_t *m, mb_point_t *p, int model_base,
                       int model_order)
{
    int errs = lgw_config_error_count(c);
    lgw_config_check_keys(c, k_point);
    const char *name = get_name(c, "name");
    p->name = dupstr(name);
    p->scale = 1.0;
    int idx = -1;
    if (lgw_config_require(c, "table") == LGW_OK &&
        lgw_config_get_choice(c, "table", mb_table_names, &idx) == LGW_OK)
        p->table = (mb_table_t)idx;
    else
        return false;
    bool bit_table = p->table == MB_TABLE_COIL || p->table == MB_TABLE_DISCRETE;
    int t = bit_table ? MB_T_BOOL : -1;
    int rc = lgw_config_get_choice(c, "type", mb_type_names, &t);
    if (rc == LGW_ENOENT && !bit_table) {
        lgw_config_error(c, "missing required setting 'type' (registers have no default type)");
        return false;
    }
    if (t < 0)
        return false;
    p->type = (mb_type_t)t;
    if (bit_table != (p->type == MB_T_BOOL)) {
        lgw_config_error(lgw_config_child(c, "type"), bit_table
                             ? "a %s point must have type 'bool'"
                             : "type 'bool' is for coils and discrete inputs; use 'bit' for a bit of a %s register",
                         mb_table_names[p->table]);
        return false;
    }
    int order = model_order;
    lgw_config_get_choice(c, "order", mb_order_names, &order);
    p->order = (mb_order_t)order;
    if (p->type == MB_T_BIT) {
        int64_t b = 0;
        if (lgw_config_require(c, "bit") == LGW_OK && lgw_config_get_int_range(c, "bit", &b, 0, 15) == LGW_OK)
            p->bit = (uint8_t)b;
    } else if (lgw_config_child(c, "bit")) {
        lgw_config_error(lgw_config_child(c, "bit"), "'bit' is only valid with type 'bit'");
    }
    unsigned str_regs = 0;
    if (p->type == MB_T_STRING) {
        int64_t len = 1;
        if (lgw_config_require(c, "length") == LGW_OK &&
            lgw_config_get_int_range(c, "length", &len, 1, MB_MAX_REGS) == LGW_OK)
            str_regs = (unsigned)len;
        else
            return false;
    } else if (lgw_config_child(c, "length")) {
        lgw_config_error(lgw_config_child(c, "length"), "'length' (registers) is only valid with type 'string'");
    }
    p->regs = (uint16_t)mb_type_regs(p->type, str_regs);
    int64_t base = model_base;
    lgw_config_get_int_range(c, "address_base", &base, 0, 1);
    if (!get_address(c, (int)base, p->regs, &p->address))
        return false;
    lgw_config_get_double(c, "scale", &p->scale);
    lgw_config_get_double(c, "offset", &p->offset);
    if (p->scale == 0.0 || !isfinite(p->scale) || !isfinite(p->offset))
        lgw_config_error(lgw_config_child(c, "scale"), "scale must be a finite, non-zero number");
    p->scaled = p->scale != 1.0 || p->offset != 0.0;
    /* An integer register times 0.01 has exactly two decimals: report 4.06, not the
     * binary product 4.0600000000000005. Scales with more than 9 decimals are left alone. */
    p->round_to = 0;
    if (p->scaled) {
        double pow10 = 1.0;
        int d = 0;
        while (d <= 9 && (fabs(p->scale * pow10 - nearbyint(p->scale * pow10)) > 1e-9 * fabs(p->scale * pow10) + 1e-12 ||
                          fabs(p->offset * pow10 - nearbyint(p->offset * pow10)) > 1e-9 * fabs(p->offset * pow10) + 1e-12)) {
            pow10 *= 10.0;
            d++;
        }
        if (d <= 9)
            p->round_to = pow10;
    }
    if (p->scaled && (p->type == MB_T_BOOL || p->type == MB_T_BIT || p->type == MB_T_STRING))
        lgw_config_error(lgw_config_child(c, lgw_config_child(c, "scale") ? "scale" : "offset"),
                         "scale/offset do not apply to type '%s'", mb_type_names[p->type]);
    int acc = 0;
    lgw_config_get_choice(c, "access", access_names, &acc);
    p->writable = acc == 1;
    if (p->writable && (p->table == MB_TABLE_DISCRETE || p->table == MB_TABLE_INPUT))
        lgw_config_error(lgw_config_child(c, "access"), "%s points are read-only",
                         mb_table_names[p->table]);
    if (p->writable && p->regs > MODBUS_MAX_WRITE_REGISTERS)
        lgw_config_error(lgw_config_child(c, "length"), "a writable string has at most %d registers (FC 16)",
                         MODBUS_MAX_WRITE_REGISTERS);
    const char *gname = "default";
    lgw_config_get_string(c, "group", &gname);
    p->group = (unsigned)-1;
    for (size_t g = 0; g < m->ngroups; g++)
        if (strcmp(m->groups[g].name, gname) == 0)
            p->group = (unsigned)g;
    if (p->group == (unsigned)-1)
        lgw_config_error(lgw_config_child(c, "group"), "unknown polling group '%s'", gname);
    p->out_type = out_type_of(p);
    return lgw_config_error_count(c) == errs;
}

static bool read_services(const lgw_config_t *list, mb_model_t *m)
{
    size_t n = lgw_config_count(list);
    if (lgw_config_kind(list) != LGW_CFG_LIST) {
        lgw_config_error(list, "'services' must be a list: ( { name = ...; writes = ( ... ); } )");
        return false;
    }
    m->services = calloc(n ? n : 1, sizeof *m->services);
    if (!m->services)
        return false;
    for (size_t i = 0; i < n; i++) {
        const lgw_config_t *sc = lgw_config_at(list, i);
        mb_service_t *s = &m->services[m->nservices++];
        lgw_config_check_keys(sc, k_service);
        s->name = dupstr(get_name(sc, "name"));
        for (size_t k = 0; s->name && k + 1 < m->nservices; k++)
            if (m->services[k].name && strcmp(m->services[k].name, s->name) == 0)
                lgw_config_error(lgw_config_child(sc, "name"), "duplicate service '%s'", s->name);
        const lgw_config_t *w = lgw_config_child(sc, "writes");
        if (lgw_config_require(sc, "writes") != LGW_OK)
            continue;
        size_t ns = lgw_config_count(w);
        if (lgw_config_kind(w) != LGW_CFG_LIST || ns == 0) {
            lgw_config_error(w, "'writes' must be a non-empty list of { point = ...; value = ... | input = ...; }");
            continue;
        }
        s->steps = calloc(ns, sizeof *s->steps);
        if (!s->steps)
            return false;
        for (size_t k = 0; k < ns; k++) {
            const lgw_config_t *st = lgw_config_at(w, k);
            mb_step_t *step = &s->steps[s->nsteps];
            lgw_config_check_keys(st, k_step);
            const char *pname = get_name(st, "point");
            if (!pname)
                continue;
            int pi = mb_point_find(m, pname);
            if (pi < 0) {
                lgw_config_error(lgw_config_child(st, "point"), "unknown point '%s'", pname);
                continue;
            }
            if (!m->points[pi].writable) {
                lgw_config_error(lgw_config_child(st, "point"), "point '%s' is not writable (access = \"rw\")", pname);
                continue;
            }
            step->point = (unsigned)pi;
            const lgw_config_t *val = lgw_config_child(st, "value");
            const char *arg = NULL;
            lgw_config_get_string(st, "input", &arg);
            if ((val != NULL) == (arg != NULL)) {
                lgw_config_error(st, "a write step needs exactly one of 'value' or 'input'");
                continue;
            }
            if (arg) {
                step->arg = dupstr(arg);
            } else {
                switch (lgw_config_kind(val)) {
                case LGW_CFG_INT: { int64_t v = 0; lgw_config_get_int(val, NULL, &v); step->value = lgw_value_new_int(v); break; }
                case LGW_CFG_FLOAT: { double v = 0; lgw_config_get_double(val, NULL, &v); step->value = lgw_value_new_double(v); break; }
                case LGW_CFG_BOOL: { bool v = false; lgw_config_get_bool(val, NULL, &v); step->value = lgw_value_new_bool(v); break; }
                case LGW_CFG_STRING: { const char *v = ""; lgw_config_get_string(val, NULL, &v); step->value = lgw_value_new_text(v); break; }
                default: lgw_config_error(val, "'value' must be a number, bool or string"); continue;
                }
            }
            s->nsteps++;
        }
    }
    return true;
}

static bool read_model(const lgw_config_t *c, mb_model_t *m)
{
    lgw_config_check_keys(c, k_model);
    m->name = dupstr(get_name(c, "name"));
    int64_t base = 0;
    /* The address base is explicit: the classic off-by-one of Modbus maps. */
    if (lgw_config_require(c, "address_base") == LGW_OK)
        lgw_config_get_int_range(c, "address_base", &base, 0, 1);
    int order = MB_ORDER_ABCD;
    lgw_config_get_choice(c, "order", mb_order_names, &order);
    lgw_config_get_bool(c, "write_multiple", &m->write_multiple);
    const char *s = NULL;
    if (lgw_config_get_string(c, "ident_vendor", &s) == LGW_OK)
        m->ident_vendor = dupstr(s);
    s = NULL;
    if (lgw_config_get_string(c, "ident_product", &s) == LGW_OK)
        m->ident_product = dupstr(s);
    if (lgw_config_get_int(c, "id_value", &m->id_value) == LGW_OK)
        m->has_id_value = true;

    /* groups: the implicit "default" one first */
    const lgw_config_t *gl = lgw_config_child(c, "groups");
    size_t ng = lgw_config_count(gl);
    if (gl && lgw_config_kind(gl) != LGW_CFG_LIST) {
        lgw_config_error(gl, "'groups' must be a list: ( { name = ...; interval_ms = ...; } )");
        ng = 0;
    }
    m->groups = calloc(ng + 1, sizeof *m->groups);
    if (!m->groups)
        return false;
    m->groups[0].name = strdup("default");
    m->groups[0].interval_ms = 1000;
    get_ms(c, "interval_ms", &m->groups[0].interval_ms, 10, 86400000);
    m->ngroups = 1;
    for (size_t i = 0; i < ng; i++) {
        const lgw_config_t *gc = lgw_config_at(gl, i);
        lgw_config_check_keys(gc, k_group);
        const char *gname = get_name(gc, "name");
        if (!gname)
            continue;
        for (size_t k = 0; k < m->ngroups; k++)
            if (strcmp(m->groups[k].name, gname) == 0)
                lgw_config_error(lgw_config_child(gc, "name"), "duplicate polling group '%s'", gname);
        mb_group_t *g = &m->groups[m->ngroups++];
        g->name = strdup(gname);
        g->interval_ms = 1000;
        if (lgw_config_require(gc, "interval_ms") == LGW_OK)
            get_ms(gc, "interval_ms", &g->interval_ms, 10, 86400000);
    }

    const lgw_config_t *pl = lgw_config_child(c, "points");
    size_t np = lgw_config_count(pl);
    if (lgw_config_require(c, "points") != LGW_OK)
        return false;
    if (lgw_config_kind(pl) != LGW_CFG_LIST || np == 0) {
        lgw_config_error(pl, "'points' must be a non-empty list: ( { name = ...; table = ...; address = ...; } )");
        return false;
    }
    m->points = calloc(np, sizeof *m->points);
    if (!m->points)
        return false;
    for (size_t i = 0; i < np; i++) {
        const lgw_config_t *pc = lgw_config_at(pl, i);
        mb_point_t *p = &m->points[m->npoints];
        if (lgw_config_kind(pc) != LGW_CFG_GROUP) {
            lgw_config_error(pc, "a point must be a group { name = ...; ... }");
            continue;
        }
        bool ok = read_point(pc, m, p, (int)base, order);
        m->npoints++;
        if (ok && mb_point_find(m, p->name) != (int)(m->npoints - 1))
            lgw_config_error(lgw_config_child(pc, "name"), "duplicate point '%s'", p->name);
    }
    const lgw_config_t *sl = lgw_config_child(c, "services");
    if (sl && !read_services(sl, m))
        return false;
    return true;
}

int mb_point_find(const mb_model_t *m, const char *name)
{
    for (size_t i = 0; i < m->npoints; i++)
        if (m->points[i].name && strcmp(m->points[i].name, name) == 0)
            return (int)i;
    return -1;
}

mb_model_t *mb_model_find(mb_inst_t *mi, const char *name)
{
    for (size_t i = 0; i < mi->nmodels; i++)
        if (mi->models[i].name && strcmp(mi->models[i].name, name) == 0)
            return &mi->models[i];
    return NULL;
}

int mb_group_plan(mb_model_t *m, unsigned gi, const mb_plan_limits_t *lim)
{
    mb_group_t *g = &m->groups[gi];
    size_t n = 0;
    for (size_t i = 0; i < m->npoints; i++)
        n += m->points[i].group == gi;
    g->nspans = n;
    if (n == 0)
        return LGW_OK;
    g->spans = calloc(n, sizeof *g->spans);
    g->blocks = calloc(n, sizeof *g->blocks);
    g->block_off = calloc(n, sizeof *g->block_off);
    if (!g->spans || !g->blocks || !g->block_off)
        return LGW_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < m->npoints; i++) {
        const mb_point_t *p = &m->points[i];
        if (p->group != gi)
            continue;
        g->spans[k].table = (uint8_t)p->table;
        g->spans[k].address = p->address;
        g->spans[k].count = p->regs;
        g->spans[k].point = (uint32_t)i;
        k++;
    }
    g->nblocks = mb_plan(g->spans, n, lim, g->blocks);
    for (size_t b = 0; b < g->nblocks; b++) {
        if (g->blocks[b].table <= MB_TABLE_DISCRETE) {
            g->block_off[b] = g->bit_total;
            g->bit_total += g->blocks[b].count;
        } else {
            g->block_off[b] = g->reg_total;
            g->reg_total += g->blocks[b].count;
        }
    }
    return LGW_OK;
}

static void read_bus(mb_inst_t *mi, const lgw_config_t *s)
{
    mb_bus_t *b = &mi->bus;
    int tr = 0;
    if (lgw_config_require(s, "transport") == LGW_OK)
        lgw_config_get_choice(s, "transport", transport_names, &tr);
    b->rtu = tr == 1;
    int64_t v;
    if (!b->rtu) {
        const char *h = NULL;
        if (lgw_config_require(s, "host") == LGW_OK && lgw_config_get_string(s, "host", &h) == LGW_OK)
            b->host = dupstr(h);
        v = 502;
        lgw_config_get_int_range(s, "port", &v, 1, 65535);
        b->port = (int)v;
        static const char *const rtu_only[] = {"device", "baud", "parity", "data_bits", "stop_bits", "rs485", NULL};
        for (int i = 0; rtu_only[i]; i++)
            if (lgw_config_child(s, rtu_only[i]))
                lgw_config_error(lgw_config_child(s, rtu_only[i]), "'%s' only applies to transport \"rtu\"", rtu_only[i]);
    } else {
        const char *d = NULL;
        if (lgw_config_require(s, "device") == LGW_OK && lgw_config_get_string(s, "device", &d) == LGW_OK)
            b->device = dupstr(d);
        v = 9600;
        lgw_config_get_int_range(s, "baud", &v, 300, 4000000);
        b->baud = (int)v;
        int par = 0;
        lgw_config_get_choice(s, "parity", parity_names, &par);
        b->parity = "NEO"[par];
        v = 8;
        lgw_config_get_int_range(s, "data_bits", &v, 5, 8);
        b->data_bits = (int)v;
        v = 1;
        lgw_config_get_int_range(s, "stop_bits", &v, 1, 2);
        b->stop_bits = (int)v;
        lgw_config_get_bool(s, "rs485", &b->rs485);
        if (lgw_config_child(s, "host") || lgw_config_child(s, "port"))
            lgw_config_error(lgw_config_child(s, lgw_config_child(s, "host") ? "host" : "port"),
                             "'host'/'port' only apply to transport \"tcp\"");
    }
    b->connect_timeout_ms = 2000;
    b->response_timeout_ms = 500;
    b->byte_timeout_ms = 0; /* libmodbus default */
    b->reconnect_min_ms = 500;
    b->reconnect_max_ms = 30000;
    get_ms(s, "connect_timeout_ms", &b->connect_timeout_ms, 10, 60000);
    get_ms(s, "response_timeout_ms", &b->response_timeout_ms, 10, 60000);
    get_ms(s, "byte_timeout_ms", &b->byte_timeout_ms, 0, 60000);
    get_ms(s, "reconnect_min_ms", &b->reconnect_min_ms, 10, 3600000);
    get_ms(s, "reconnect_max_ms", &b->reconnect_max_ms, 10, 3600000);
    if (b->reconnect_max_ms < b->reconnect_min_ms)
        lgw_config_error(lgw_config_child(s, "reconnect_max_ms"), "reconnect_max_ms must be >= reconnect_min_ms");
}

static void read_discovery(mb_inst_t *mi, const lgw_config_t *d)
{
    mb_scan_cfg_t *sc = &mi->scan;
    sc->enabled = true;
    lgw_config_check_keys(d, k_disc);
    /* never unit 0: on RTU that is a broadcast nobody answers (and some
     * adapters mishandle); 248..255 are reserved */
    int64_t v = 1;
    lgw_config_get_int_range(d, "first", &v, 1, 247);
    sc->first = (int)v;
    v = 247;
    lgw_config_get_int_range(d, "last", &v, 1, 247);
    sc->last = (int)v;
    if (sc->last < sc->first)
        lgw_config_error(lgw_config_child(d, "last"), "'last' must be >= 'first'");
    sc->timeout_ms = 200;
    get_ms(d, "timeout_ms", &sc->timeout_ms, 10, 60000);
    const char *p = "unit";
    lgw_config_get_string(d, "id_prefix", &p);
    sc->id_prefix = dupstr(p);
    sc->use_fc43 = true;
    lgw_config_get_bool(d, "fc43", &sc->use_fc43);
    const lgw_config_t *r = lgw_config_child(d, "id_register");
    if (r) {
        lgw_config_check_keys(r, k_idreg);
        sc->has_id_reg = true;
        int t = MB_TABLE_HOLDING;
        lgw_config_get_choice(r, "table", mb_table_names, &t);
        if (t != MB_TABLE_HOLDING && t != MB_TABLE_INPUT)
            lgw_config_error(lgw_config_child(r, "table"), "the identification register must be 'holding' or 'input'");
        sc->id_table = (mb_table_t)t;
        int ty = MB_T_UINT16;
        lgw_config_get_choice(r, "type", mb_type_names, &ty);
        if (ty < MB_T_INT16 || ty > MB_T_UINT64)
            lgw_config_error(lgw_config_child(r, "type"), "the identification register must have an integer type");
        sc->id_type = (mb_type_t)ty;
        int o = MB_ORDER_ABCD;
        lgw_config_get_choice(r, "order", mb_order_names, &o);
        sc->id_order = (mb_order_t)o;
        int64_t base = 0;
        if (lgw_config_require(r, "address_base") == LGW_OK)
            lgw_config_get_int_range(r, "address_base", &base, 0, 1);
        get_address(r, (int)base, mb_type_regs(sc->id_type, 0), &sc->id_address);
    }
    if (!sc->use_fc43 && !sc->has_id_reg)
        lgw_config_error(d, "discovery needs 'fc43 = true' or an 'id_register' to identify devices");
}

int mb_config_read(mb_inst_t *mi, const lgw_config_t *s)
{
    lgw_config_check_keys(s, k_top);
    read_bus(mi, s);
    int64_t v = 3;
    lgw_config_get_int_range(s, "max_failures", &v, 1, 1000);
    mi->max_failures = (unsigned)v;
    mi->probe_min_ms = 1000;
    mi->probe_max_ms = 60000;
    get_ms(s, "probe_min_ms", &mi->probe_min_ms, 10, 3600000);
    get_ms(s, "probe_max_ms", &mi->probe_max_ms, 10, 3600000);
    if (mi->probe_max_ms < mi->probe_min_ms)
        lgw_config_error(lgw_config_child(s, "probe_max_ms"), "probe_max_ms must be >= probe_min_ms");
    v = 8;
    lgw_config_get_int_range(s, "max_gap", &v, 0, MB_MAX_BITS);
    mi->limits.max_gap = (unsigned)v;
    v = MB_MAX_REGS;
    lgw_config_get_int_range(s, "max_registers", &v, 1, MB_MAX_REGS);
    mi->limits.max_regs = (unsigned)v;
    v = MB_MAX_BITS;
    lgw_config_get_int_range(s, "max_bits", &v, 1, MB_MAX_BITS);
    mi->limits.max_bits = (unsigned)v;

    const lgw_config_t *ml = lgw_config_child(s, "models");
    size_t nm = lgw_config_count(ml);
    if (ml && lgw_config_kind(ml) != LGW_CFG_LIST) {
        lgw_config_error(ml, "'models' must be a list: ( { name = ...; points = ( ... ); } )");
        nm = 0;
    }
    mi->models = calloc(nm ? nm : 1, sizeof *mi->models);
    if (!mi->models)
        return LGW_ENOMEM;
    for (size_t i = 0; i < nm; i++) {
        const lgw_config_t *mc = lgw_config_at(ml, i);
        mb_model_t *m = &mi->models[mi->nmodels++];
        if (lgw_config_kind(mc) != LGW_CFG_GROUP) {
            lgw_config_error(mc, "a model must be a group { name = ...; points = ( ... ); }");
            continue;
        }
        if (!read_model(mc, m))
            continue;
        if (m->name && mb_model_find(mi, m->name) != m)
            lgw_config_error(lgw_config_child(mc, "name"), "duplicate model '%s'", m->name);
    }
    if (lgw_config_error_count(s) == 0)
        for (size_t i = 0; i < mi->nmodels; i++)
            for (unsigned g = 0; g < mi->models[i].ngroups; g++)
                if (mb_group_plan(&mi->models[i], g, &mi->limits) != LGW_OK)
                    return LGW_ENOMEM;

    const lgw_config_t *dl = lgw_config_child(s, "devices");
    size_t nd = lgw_config_count(dl);
    if (dl && lgw_config_kind(dl) != LGW_CFG_LIST) {
        lgw_config_error(dl, "'devices' must be a list: ( { id = ...; model = ...; unit = ...; } )");
        nd = 0;
    }
    mb_device_t **tail = &mi->devices;
    for (size_t i = 0; i < nd; i++) {
        const lgw_config_t *dc = lgw_config_at(dl, i);
        lgw_config_check_keys(dc, k_device);
        const char *id = get_name(dc, "id");
        const char *model = get_name(dc, "model");
        int64_t unit = 1;
        if (lgw_config_require(dc, "unit") != LGW_OK ||
            lgw_config_get_int_range(dc, "unit", &unit, mi->bus.rtu ? 1 : 0, mi->bus.rtu ? 247 : 255) != LGW_OK)
            continue;
        if (unit > 247 && unit != 255) { /* what libmodbus (and the protocol) accept */
            lgw_config_error(lgw_config_child(dc, "unit"), "unit must be 0..247 or 255 over TCP");
            continue;
        }
        uint32_t to = mi->bus.response_timeout_ms;
        get_ms(dc, "timeout_ms", &to, 10, 60000);
        if (!id || !model)
            continue;
        mb_model_t *m = mb_model_find(mi, model);
        if (!m) {
            lgw_config_error(lgw_config_child(dc, "model"), "unknown model '%s'", model);
            continue;
        }
        bool dup = false;
        for (mb_device_t *o = mi->devices; o; o = o->next) {
            if (strcmp(o->id, id) == 0) {
                lgw_config_error(lgw_config_child(dc, "id"), "duplicate device id '%s'", id);
                dup = true;
            } else if (o->unit == unit) {
                lgw_config_error(lgw_config_child(dc, "unit"), "unit %lld is already used by device '%s'",
                                 (long long)unit, o->id);
                dup = true;
            }
        }
        if (dup)
            continue;
        mb_device_t *d = calloc(1, sizeof *d);
        if (!d)
            return LGW_ENOMEM;
        d->id = strdup(id);
        d->model = m;
        d->unit = (int)unit;
        d->timeout_ms = to;
        *tail = d;
        tail = &d->next;
    }
    const lgw_config_t *disc = lgw_config_child(s, "discovery");
    if (disc)
        read_discovery(mi, disc);
    return lgw_config_error_count(s) > 0 ? LGW_EINVAL : LGW_OK;
}

int mb_models_declare(mb_inst_t *mi)
{
    for (size_t i = 0; i < mi->nmodels; i++) {
        mb_model_t *m = &mi->models[i];
        lgw_model_t *lm = lgw_model_new(mi->inst, m->name);
        if (!lm)
            return LGW_ENOMEM;
        for (size_t k = 0; k < m->npoints; k++)
            lgw_model_add_point(lm, m->points[k].name, m->points[k].out_type,
                                m->points[k].writable ? LGW_ACCESS_RW : LGW_ACCESS_READ);
        for (size_t k = 0; k < m->nservices; k++)
            lgw_model_add_service(lm, m->services[k].name);
        int rc = lgw_model_commit(lm);
        if (rc != LGW_OK)
            return rc;
    }
    return LGW_OK;
}

static void free_model(mb_model_t *m)
{
    free(m->name);
    for (size_t i = 0; i < m->npoints; i++)
        free(m->points[i].name);
    free(m->points);
    for (size_t g = 0; g < m->ngroups; g++) {
        free(m->groups[g].name);
        free(m->groups[g].spans);
        free(m->groups[g].blocks);
        free(m->groups[g].block_off);
    }
    free(m->groups);
    for (size_t s = 0; s < m->nservices; s++) {
        free(m->services[s].name);
        for (size_t k = 0; k < m->services[s].nsteps; k++) {
            free(m->services[s].steps[k].arg);
            lgw_value_free(m->services[s].steps[k].value);
        }
        free(m->services[s].steps);
    }
    free(m->services);
    free(m->ident_vendor);
    free(m->ident_product);
}

void mb_config_free(mb_inst_t *mi)
{
    while (mi->devices) {
        mb_device_t *d = mi->devices;
        mi->devices = d->next;
        mb_device_free(d);
    }
    for (size_t i = 0; i < mi->nmodels; i++)
        free_model(&mi->models[i]);
    free(mi->models);
    mi->models = NULL;
    mi->nmodels = 0;
    free(mi->bus.host);
    free(mi->bus.device);
    free(mi->scan.id_prefix);
}
