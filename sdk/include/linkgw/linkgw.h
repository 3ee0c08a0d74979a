/*
 * linkgw plugin SDK — umbrella header. A plugin includes just this.
 *
 * Copyright (c) the linkgw developers. Licensed under the MIT license.
 *
 *   common.h  ABI version, visibility macros, result codes, handle types
 *   value.h   typed values (the TSL data types)
 *   config.h  reading an instance's conf.d settings, with file:line errors
 *   plugin.h  what a plugin exports and the callbacks it implements
 *   host.h    what the host offers: registration, logging, timers, fd
 *             watches, workers, device models, reports, request completion
 */
#ifndef LINKGW_LINKGW_H
#define LINKGW_LINKGW_H

#include "common.h"
#include "value.h"
#include "config.h"
#include "plugin.h"
#include "host.h"

#endif /* LINKGW_LINKGW_H */
