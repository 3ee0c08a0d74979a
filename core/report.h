/*
 * Property and event reports (host.h "Reporting values and events").
 *
 * A report is one allocation: a fixed block holds the first entries and an
 * arena for names and text; only large reports or struct/array values
 * allocate more. Committed reports travel through the host's cross-thread
 * queue to the hub, which hands them to consumers read-only (the accessors
 * below) and frees them afterwards.
 */
#ifndef LINKGW_CORE_REPORT_H
#define LINKGW_CORE_REPORT_H

#include <linkgw/host.h>

/** Number of values in @p r. */
size_t gw_report_count(const lgw_report_t *r);
/** Value @p i of @p r (borrowed, valid while the consumer callback runs); its point name in @p *name. */
const lgw_value_t *gw_report_at(const lgw_report_t *r, size_t i, const char **name);
/** Sampling time, UTC ms. */
int64_t gw_report_time(const lgw_report_t *r);
/** Device id the report is about. */
const char *gw_report_device(const lgw_report_t *r);
/** Event name for event reports, NULL for property reports. */
const char *gw_report_event(const lgw_report_t *r);
/** Instance that reported. */
lgw_instance_t *gw_report_instance(const lgw_report_t *r);

#endif
