/* Compiled-in root hints: so a resolver with no files at all can still prime (RFC 8109). */
#include "resolverd/zone.h"

extern const unsigned char rd__root_hints_text[];
extern const size_t rd__root_hints_text_len;

const char *rd_root_hints_default(size_t *len)
{
    *len = rd__root_hints_text_len;
    return (const char *)rd__root_hints_text;
}
