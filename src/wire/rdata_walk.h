/* Internal: walk the fields of one rdata by its type descriptor. */
#ifndef RD_WIRE_RDATA_WALK_H
#define RD_WIRE_RDATA_WALK_H

#include "resolverd/base.h"

/* Called once per field with its extent in msg (a name's extent is its in-place part). */
typedef int (*rd_rdata_field_cb)(void *ctx, int kind, const uint8_t *msg, size_t at, size_t len);

/* Validates rdata at msg[pos..pos+rdlen) and calls cb per field. pos == 0 means a standalone
 * uncompressed rdata: compression pointers are refused. */
int rd__rdata_walk(const uint8_t *msg, size_t msglen, size_t pos, uint16_t rdlen, uint16_t type,
                   rd_rdata_field_cb cb, void *ctx);

#endif
