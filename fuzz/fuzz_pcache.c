/* libFuzzer target: the packet cache's own reading of network bytes (src/cache/pcache.c).
 *
 * The packet cache reads queries before the full parser does, so whatever it accepts must be
 * a query the full parser (rd_msg_parse) accepts too, with the same ID, QTYPE, flags and EDNS
 * facts: otherwise a hit would answer a query that deserves FORMERR. The input is also offered
 * as a response to store (it must never read outside it), and a stored response must come
 * back from a lookup byte for byte but for ID, question case and TTLs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "resolverd/msg.h"
#include "resolverd/pcache.h"

static rd_pcache_t *pc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pc) {
        static const uint8_t key[16] = {7};
        if (rd_pcache_new(1 << 20, key, &pc) != 0) abort();
    }
    /* exact-size copy: ASan sees any read past the end */
    uint8_t *q = malloc(size ? size : 1);
    if (!q) return 0;
    memcpy(q, data, size);

    rd_pcache_key_t k;
    if (rd_pcache_key(pc, q, size, 1232, &k)) {
        rd_msg_t m;
        int r = rd_msg_parse(&m, q, size, NULL);
        FUZZ_CHECK(r == 0, "packet cache took a query the parser rejects (%s)", rd_strerror(r));
        FUZZ_CHECK(m.id == k.id, "id");
        FUZZ_CHECK(m.count[0] == 1 && m.count[1] == 0 && m.count[2] == 0, "counts");
        FUZZ_CHECK(m.rrs[0].type == k.qtype, "qtype %u != %u", m.rrs[0].type, k.qtype);
        FUZZ_CHECK(m.rrs[0].rclass == 1, "class");
        FUZZ_CHECK(m.edns.present == ((k.flags & RD_PCACHE_F_EDNS) != 0), "EDNS presence");
        FUZZ_CHECK(!m.edns.present || m.edns.version == 0, "EDNS version");
        FUZZ_CHECK(!m.edns.has_keepalive && !m.edns.has_ede, "EDNS options that matter");
        FUZZ_CHECK(k.limit >= 512 && k.limit <= 1232, "limit %u", k.limit);

        /* Store a small answer for it, read it back with another ID. */
        uint8_t resp[512], out[1500];
        size_t n = 0;
        resp[n++] = 0, resp[n++] = 0, resp[n++] = 0x81, resp[n++] = 0x80;
        resp[n++] = 0, resp[n++] = 1, resp[n++] = 0, resp[n++] = 1, resp[n++] = 0, resp[n++] = 0;
        resp[n++] = 0, resp[n++] = (k.flags & RD_PCACHE_F_EDNS) ? 1 : 0;
        memcpy(resp + n, k.qname, k.qname_len);
        n += k.qname_len;
        resp[n++] = (uint8_t)(k.qtype >> 8), resp[n++] = (uint8_t)k.qtype, resp[n++] = 0;
        resp[n++] = 1;
        static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
        memcpy(resp + n, a, sizeof(a));
        n += sizeof(a);
        if (k.flags & RD_PCACHE_F_EDNS) {
            static const uint8_t opt[] = {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
            memcpy(resp + n, opt, sizeof(opt));
            n += sizeof(opt);
        }
        rd_pcache_put(pc, &k, resp, n, 1000);
        size_t got = rd_pcache_get(pc, &k, 1001, out, sizeof(out));
        FUZZ_CHECK(got == n, "stored %zu, got %zu", n, got);
        FUZZ_CHECK(memcmp(out + 2, resp + 2, 10) == 0, "header changed");
        FUZZ_CHECK(memcmp(out + 12, q + 12, k.qname_len) == 0, "question not the client's");
        FUZZ_CHECK(out[0] == q[0] && out[1] == q[1], "id not the client's");
        rd_pcache_clear(pc);
    }

    /* As a response to a fixed question: must never read outside q. */
    static const uint8_t qn[] = {3, 'w', 'w', 'w', 0};
    rd_pcache_key_of(pc, qn,
                     size > 18 ? (uint16_t)(q[12 + sizeof(qn)] << 8 | q[13 + sizeof(qn)]) : 1,
                     false, false, size & 1, &k);
    k.limit = 1500;
    rd_pcache_clear(pc); /* what a lookup finds is this input or nothing */
    rd_pcache_put(pc, &k, q, size, 5);
    uint8_t out[1500];
    size_t got = rd_pcache_get(pc, &k, 6, out, sizeof(out));
    FUZZ_CHECK(got == 0 || got == size, "stored %zu, got %zu", size, got);
    free(q);
    return 0;
}
