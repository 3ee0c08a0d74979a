/*
 * Discovery: scans the configured unit-id range one unit at a time (each
 * unit is one job on the bus worker, so polling of known devices interleaves
 * with the scan). A unit is identified by FC 43/14 Read Device
 * Identification (VendorName/ProductCode matched against the models'
 * ident_vendor/ident_product) and, when that is unsupported or matches no
 * model, by the configured identification register (matched against the
 * models' id_value). Found devices are reported with lgw_device_add() and
 * polled from then on, under the id "<id_prefix><unit>".
 */
#define _GNU_SOURCE
#include "mb_plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void scan_work(void *data)
{
    mb_job_t *j = data;
    mb_bus_t *b = &j->mi->bus;
    const mb_scan_cfg_t *sc = &j->mi->scan;
    j->ident_err = ENOTSUP;
    j->id_err = ENOTSUP;
    if (mb_bus_begin(b, j->unit, sc->timeout_ms) != 0) {
        j->ident_err = j->id_err = errno ? errno : EIO;
        return;
    }
    if (sc->use_fc43) {
        j->ident_err = mb_bus_read_ident(b, j->unit, sc->timeout_ms, j->vendor, j->product, j->revision,
                                         sizeof j->vendor);
        if (j->ident_err && !mb_err_is_exception(j->ident_err)) {
            mb_bus_failed(b, j->ident_err);
            return; /* nobody there (or a broken frame): do not wait twice */
        }
    }
    if (sc->has_id_reg) {
        mb_block_t blk = {.table = (uint8_t)sc->id_table, .address = sc->id_address,
                          .count = (uint16_t)mb_type_regs(sc->id_type, 0)};
        uint16_t regs[4];
        mb_num_t num;
        j->id_err = mb_bus_read_block(b, &blk, regs, NULL);
        if (j->id_err == 0) {
            mb_decode_num(sc->id_type, sc->id_order, regs, &num);
            j->id_value = num.kind == MB_NUM_UINT ? (int64_t)num.u : num.i;
        } else if (!mb_err_is_exception(j->id_err)) {
            mb_bus_failed(b, j->id_err);
        }
    }
}

/* The model a scanned unit identifies as, or NULL. */
static mb_model_t *match_model(mb_inst_t *mi, const mb_job_t *j)
{
    if (j->ident_err == 0) {
        for (size_t i = 0; i < mi->nmodels; i++) {
            mb_model_t *m = &mi->models[i];
            if (!m->ident_vendor && !m->ident_product)
                continue;
            if (m->ident_vendor && strcmp(m->ident_vendor, j->vendor) != 0)
                continue;
            if (m->ident_product && strcmp(m->ident_product, j->product) != 0)
                continue;
            return m;
        }
    }
    if (j->id_err == 0)
        for (size_t i = 0; i < mi->nmodels; i++)
            if (mi->models[i].has_id_value && mi->models[i].id_value == j->id_value)
                return &mi->models[i];
    return NULL;
}

static void scan_next(mb_inst_t *mi);

static void scan_after(void *data, int status)
{
    mb_job_t *j = data;
    mb_inst_t *mi = j->mi;
    mi->scan_busy = false;
    if (status == LGW_OK && mi->running) {
        bool answered = j->ident_err == 0 || j->id_err == 0 || mb_err_is_exception(j->ident_err) ||
                        mb_err_is_exception(j->id_err);
        mb_model_t *m = answered ? match_model(mi, j) : NULL;
        if (m) {
            mb_device_t *d = calloc(1, sizeof *d);
            char id[96];
            snprintf(id, sizeof id, "%s%d", mi->scan.id_prefix, j->unit);
            if (d && !mb_device_find(mi, id)) {
                d->id = strdup(id);
                d->model = m;
                d->unit = j->unit;
                d->timeout_ms = mi->bus.response_timeout_ms;
                d->next = mi->devices;
                mi->devices = d;
                lgw_log(mi->inst, LGW_LOG_INFO, "discovered unit %d: model %s (%s %s %s) as %s", j->unit, m->name,
                        j->vendor, j->product, j->revision, id);
                mb_device_attach(mi, d);
                if (j->ident_err == 0 && j->revision[0])
                    lgw_device_set_firmware(mi->inst, id, j->revision);
            } else {
                free(d);
            }
        } else if (answered) {
            lgw_log(mi->inst, LGW_LOG_INFO, "unit %d answers (vendor '%s', product '%s', id %s) but matches no model",
                    j->unit, j->vendor, j->product, j->id_err == 0 ? "read" : "unread");
        }
    }
    free(j);
    if (status == LGW_OK)
        scan_next(mi);
}

/* Submits the scan of the next unit not yet known, or ends the scan. */
static void scan_next(mb_inst_t *mi)
{
    while (mi->scanning && mi->running && !mi->scan_busy && mi->scan_next <= mi->scan.last) {
        int unit = mi->scan_next++;
        bool known = false;
        for (mb_device_t *d = mi->devices; d; d = d->next)
            known |= d->unit == unit;
        if (known)
            continue;
        mb_job_t *j = calloc(1, sizeof *j);
        if (!j)
            break;
        j->kind = MB_JOB_SCAN;
        j->mi = mi;
        j->unit = unit;
        if (lgw_worker_submit(mi->worker, scan_work, scan_after, j) != LGW_OK) {
            free(j);
            break;
        }
        mi->scan_busy = true;
    }
    if (mi->scanning && !mi->scan_busy) {
        mi->scanning = false;
        lgw_log(mi->inst, LGW_LOG_INFO, "discovery scan of units %d..%d finished", mi->scan.first, mi->scan.last);
    }
}

int mb_discovery(void *data, bool enable)
{
    mb_inst_t *mi = data;
    if (!mi->scan.enabled)
        return LGW_ENOTSUP;
    if (!enable) {
        mi->scanning = false;
        return LGW_OK;
    }
    if (!mi->running)
        return LGW_ESTATE;
    if (mi->scanning)
        return LGW_OK;
    mi->scanning = true;
    mi->scan_next = mi->scan.first;
    lgw_log(mi->inst, LGW_LOG_INFO, "discovery scan of units %d..%d started", mi->scan.first, mi->scan.last);
    scan_next(mi);
    return LGW_OK;
}
