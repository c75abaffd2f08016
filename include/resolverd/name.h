/* Domain names in wire form: length-prefixed labels ending with the root label (RFC 1035 s3.1).
 * Names are compared case-insensitively and keep their case (RFC 4343). */
#ifndef RESOLVERD_NAME_H
#define RESOLVERD_NAME_H

#include "resolverd/base.h"

#define RD_NAME_MAX      255 /* RFC 1035 s2.3.4, octets including length bytes */
#define RD_LABEL_MAX     63
#define RD_NAME_TEXT_MAX 1024 /* 255 octets, each possibly \DDD, plus dots and NUL */

/* Reads a possibly compressed name at msg[*pos] (msg is the whole message, for pointers).
 * Pointers must point strictly before the pointer itself and before every earlier jump target
 * of the same name, so loops and forward pointers are impossible (RD_EPTR). Labels over 63 or
 * with reserved types 0x40/0x80 give RD_ELABEL, names over 255 octets RD_ENAMELEN, running
 * off the end RD_ETRUNC. On success *pos is just past the name as stored at *pos, the
 * uncompressed name is in out (when out is non-NULL) and its length in *outlen (if non-NULL). */
int rd_name_unpack(const uint8_t *msg, size_t msglen, size_t *pos, uint8_t *out, size_t *outlen);

/* Validates an uncompressed name in buf[0..maxlen) (no pointers allowed); *len gets its size. */
int rd_name_check(const uint8_t *buf, size_t maxlen, size_t *len);

/* Length of a name already known to be valid. */
size_t rd_name_len(const uint8_t *name);
/* Number of labels, not counting the root label. */
int rd_name_labels(const uint8_t *name);

/* Case-insensitive equality of two valid names. */
bool rd_name_eq(const uint8_t *a, const uint8_t *b);
/* Canonical DNS name order (RFC 4034 s6.1): <0, 0, >0. */
int rd_name_cmp(const uint8_t *a, const uint8_t *b);
/* True when name is equal to or below parent. */
bool rd_name_in(const uint8_t *name, const uint8_t *parent);
/* Lowercases ASCII letters in place. */
void rd_name_lower(uint8_t *name);
/* Copies src into dst (RD_NAME_MAX octets), lowercased. */
void rd_name_lower_copy(uint8_t *dst, const uint8_t *src);

/* Parses presentation form (RFC 1035 s5.1: \X and \DDD escapes). A name without a final dot
 * is relative to origin (RD_ESYNTAX if origin is NULL); "@" is origin. */
int rd_name_from_text(const char *text, size_t len, const uint8_t *origin, uint8_t *out,
                      size_t *outlen);
/* Prints a valid name with a trailing dot; unprintable and special octets escaped. Returns the
 * text length (without NUL) or RD_ESPACE. */
int rd_name_to_text(const uint8_t *name, char *out, size_t cap);

#endif
