/* Pieces shared by the stream transports (src/net/tcp.c for TCP and DoT; DoH through the
 * HTTP layer) that do not depend on how bytes move. Internal to src/net. */
#ifndef RD_NET_STREAM_H
#define RD_NET_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one read's answers are gathered into before they go down the stack together: the
 * largest plaintext of one TLS record (RFC 8446 s5.1, RFC 5246 s6.2.1), so a batch is one
 * record and one write. */
#define RD_STREAM_BATCH_MAX 16384

/* RFC 8467 s4.1 block size for responses. */
#define RD_STREAM_PAD_BLOCK 468

/* True when the query carries an EDNS Padding option (RFC 7830): the client wants padded
 * responses (RFC 8467 s4.1). */
bool rd__stream_query_padded(const uint8_t *q, size_t len);
/* Pads the response in msg[0..len) (room up to cap) to a multiple of RD_STREAM_PAD_BLOCK by
 * appending a Padding option to its OPT record. Returns the new length; len unchanged when
 * it has no OPT, already has padding, or the padded message would not fit. */
size_t rd__stream_pad(uint8_t *msg, size_t len, size_t cap);

#endif
