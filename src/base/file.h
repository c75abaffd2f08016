/* Whole-file reads for configuration and zone files: the only file input of the core. */
#ifndef RD_BASE_FILE_H
#define RD_BASE_FILE_H

#include "resolverd/base.h"

/* Reads at most max octets of path into a malloc'd buffer (one spare octet for a NUL). On
 * failure returns RD_EIO, RD_ELIMIT (larger than max) or RD_ENOMEM, with *err_no an errno
 * value for messages (EFBIG when too large, EISDIR for a directory). */
int rd__file_read(const char *path, size_t max, char **out, size_t *outlen, int *err_no);

#endif
