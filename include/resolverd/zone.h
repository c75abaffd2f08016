/* Local zone data shipped with the binary. */
#ifndef RESOLVERD_ZONE_H
#define RESOLVERD_ZONE_H

#include "resolverd/base.h"

/* The IANA root hints compiled into the binary (zones/root.hints): master-file text, origin
 * ".". Used when the configuration names no root-hints file. */
const char *rd_root_hints_default(size_t *len);

#endif
