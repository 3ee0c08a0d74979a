/*
 * The gateway's DeviceSecret kept in the encrypted SQLite store (core/store):
 * the production gw_cloud_secret_store_t. Built when gw_store is in the tree.
 */
#ifndef LINKGW_CORE_CLOUD_SECRET_DB_H
#define LINKGW_CORE_CLOUD_SECRET_DB_H

#include "cloud.h"

struct gw_store;

/**
 * A secret store over gw_store_gateway_get/_set (the gateway row, sealed with
 * the store key; durable when save returns 0). @p st is borrowed and must
 * outlive the store. A stored row for another pk/dn reads as "none" (logged).
 */
gw_cloud_secret_store_t gw_cloud_secret_store_db(struct gw_store *st);

#endif
