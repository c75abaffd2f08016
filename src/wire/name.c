/* Domain names in wire form (RFC 1035 s3.1, s4.1.4; RFC 4034 s6.1; RFC 4343). */
#include <stdio.h>
#include <string.h>

#include "resolverd/name.h"
#include "wire/cursor.h"

static inline uint8_t lc(uint8_t c)
{
    return (uint8_t)((unsigned)(c - 'A') < 26u ? c + 32 : c);
}

int rd_name_unpack(const uint8_t *msg, size_t msglen, size_t *pos, uint8_t *out, size_t *outlen)
{
    size_t p = *pos;
    size_t after = 0; /* where the caller resumes: just past the first pointer */
    bool jumped = false;
    size_t limit = p; /* RFC 1035 s4.1.4 extension: every pointer must go strictly below
                         the pointer itself and below every earlier target, so a name is
                         read in bounded steps and loops cannot exist */
    size_t n = 0;
    unsigned jumps = 0;

    for (;;) {
        if (p >= msglen) return RD_ETRUNC;
        uint8_t len = msg[p];
        if ((len & 0xC0) == 0xC0) {
            if (p + 1 >= msglen) return RD_ETRUNC;
            size_t target = ((size_t)(len & 0x3F) << 8) | msg[p + 1];
            /* A name has at most 127 labels, so a valid name never needs more jumps than
             * that; longer chains only cost time (quadratic over a message). */
            if (target >= limit || ++jumps > RD_NAME_MAX / 2) return RD_EPTR;
            if (!jumped) {
                after = p + 2;
                jumped = true;
            }
            limit = target;
            p = target;
            continue;
        }
        if (len & 0xC0) return RD_ELABEL; /* 0x40 extended, 0x80 reserved (RFC 6891 s5) */
        if (n + 1 + len > RD_NAME_MAX) return RD_ENAMELEN;
        if (p + 1 + len > msglen) return RD_ETRUNC;
        if (out) memcpy(out + n, msg + p, 1 + (size_t)len);
        n += 1 + (size_t)len;
        p += 1 + (size_t)len;
        if (len == 0) break;
    }
    *pos = jumped ? after : p;
    if (outlen) *outlen = n;
    return 0;
}

int rd_name_check(const uint8_t *buf, size_t maxlen, size_t *len)
{
    size_t p = 0;
    for (;;) {
        if (p >= maxlen) return RD_ETRUNC;
        uint8_t l = buf[p];
        if (l & 0xC0) return (l & 0xC0) == 0xC0 ? RD_EPTR : RD_ELABEL;
        if (p + 1 + l > RD_NAME_MAX) return RD_ENAMELEN;
        if (p + 1 + l > maxlen) return RD_ETRUNC;
        p += 1 + (size_t)l;
        if (l == 0) break;
    }
    if (len) *len = p;
    return 0;
}

size_t rd_name_len(const uint8_t *name)
{
    size_t p = 0;
    while (name[p]) p += 1 + (size_t)name[p];
    return p + 1;
}

int rd_name_labels(const uint8_t *name)
{
    int n = 0;
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p]) n++;
    return n;
}

bool rd_name_eq(const uint8_t *a, const uint8_t *b)
{
    for (;;) {
        if (*a != *b) return false;
        uint8_t l = *a;
        if (l == 0) return true;
        a++;
        b++;
        for (uint8_t i = 0; i < l; i++)
            if (lc(a[i]) != lc(b[i])) return false;
        a += l;
        b += l;
    }
}

/* Offsets of each label's length octet, for comparing from the root end. */
static int label_offsets(const uint8_t *name, uint8_t off[128])
{
    int n = 0;
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p]) off[n++] = (uint8_t)p;
    return n;
}

int rd_name_cmp(const uint8_t *a, const uint8_t *b)
{
    /* RFC 4034 s6.1: compare labels from the root, each as lowercased octet strings, a
     * shorter label sorting first when it is a prefix of the longer. */
    uint8_t oa[128], ob[128];
    int na = label_offsets(a, oa), nb = label_offsets(b, ob);
    while (na > 0 && nb > 0) {
        const uint8_t *la = a + oa[--na], *lb = b + ob[--nb];
        uint8_t lena = la[0], lenb = lb[0];
        uint8_t m = lena < lenb ? lena : lenb;
        for (uint8_t i = 1; i <= m; i++) {
            int d = (int)lc(la[i]) - (int)lc(lb[i]);
            if (d) return d;
        }
        if (lena != lenb) return (int)lena - (int)lenb;
    }
    return na - nb;
}

bool rd_name_in(const uint8_t *name, const uint8_t *parent)
{
    size_t ln = rd_name_len(name), lp = rd_name_len(parent);
    if (lp > ln) return false;
    /* Walk labels of name until the remaining suffix has the parent's length; it must also
     * start on a label boundary, which walking guarantees. */
    size_t p = 0;
    while (ln - p > lp) p += 1 + (size_t)name[p];
    return ln - p == lp && rd_name_eq(name + p, parent);
}

void rd_name_lower(uint8_t *name)
{
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p])
        for (uint8_t i = 1; i <= name[p]; i++) name[p + i] = lc(name[p + i]);
}

void rd_name_lower_copy(uint8_t *dst, const uint8_t *src)
{
    size_t p = 0;
    for (;;) {
        uint8_t l = src[p];
        dst[p] = l;
        if (l == 0) return;
        for (uint8_t i = 1; i <= l; i++) dst[p + i] = lc(src[p + i]);
        p += 1 + (size_t)l;
    }
}

int rd_name_from_text(const char *text, size_t len, const uint8_t *origin, uint8_t *out,
                      size_t *outlen)
{
    if (len == 0) return RD_ESYNTAX;
    if (len == 1 && text[0] == '@') {
        if (!origin) return RD_ESYNTAX;
        size_t ol = rd_name_len(origin);
        memcpy(out, origin, ol);
        if (outlen) *outlen = ol;
        return 0;
    }
    if (len == 1 && text[0] == '.') {
        out[0] = 0;
        if (outlen) *outlen = 1;
        return 0;
    }
    size_t n = 0;    /* bytes written */
    size_t lpos = 0; /* position of the current label's length octet */
    bool absolute = false;
    out[0] = 0;
    n = 1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (c == '.') {
            size_t l = n - lpos - 1;
            if (l == 0) return RD_ESYNTAX; /* empty label ("a..b", leading dot) */
            out[lpos] = (uint8_t)l;
            i++;
            if (i == len) {
                absolute = true;
                break;
            }
            if (n >= RD_NAME_MAX) return RD_ENAMELEN;
            lpos = n;
            out[n++] = 0;
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= len) return RD_ESYNTAX;
            unsigned char d = (unsigned char)text[i + 1];
            if (d >= '0' && d <= '9') {
                if (i + 4 > len) return RD_ESYNTAX;
                unsigned v = 0;
                for (int k = 1; k <= 3; k++) {
                    unsigned char e = (unsigned char)text[i + (size_t)k];
                    if (e < '0' || e > '9') return RD_ESYNTAX;
                    v = v * 10 + (unsigned)(e - '0');
                }
                if (v > 255) return RD_ERANGE;
                c = (unsigned char)v;
                i += 4;
            } else {
                c = d;
                i += 2;
            }
        } else {
            i++;
        }
        if (n - lpos - 1 >= RD_LABEL_MAX) return RD_ELABEL;
        if (n >= RD_NAME_MAX) return RD_ENAMELEN;
        out[n++] = c;
    }
    if (!absolute) {
        size_t l = n - lpos - 1;
        if (l == 0) return RD_ESYNTAX;
        out[lpos] = (uint8_t)l;
        if (!origin) return RD_ESYNTAX;
        size_t ol = rd_name_len(origin);
        if (n + ol > RD_NAME_MAX) return RD_ENAMELEN;
        memcpy(out + n, origin, ol);
        n += ol;
    } else {
        if (n >= RD_NAME_MAX) return RD_ENAMELEN;
        out[n++] = 0;
    }
    if (outlen) *outlen = n;
    return 0;
}

int rd_name_to_text(const uint8_t *name, char *out, size_t cap)
{
    size_t n = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (n + 1 >= cap) return RD_ESPACE;                                                        \
        out[n++] = (char)(ch);                                                                     \
    } while (0)
    if (cap == 0) return RD_ESPACE;
    if (name[0] == 0) {
        PUT('.');
        out[n] = 0;
        return (int)n;
    }
    for (size_t p = 0; name[p]; p += 1 + (size_t)name[p]) {
        for (uint8_t i = 1; i <= name[p]; i++) {
            uint8_t c = name[p + i];
            if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' ||
                c == '$') {
                PUT('\\');
                PUT(c);
            } else if (c <= 0x20 || c >= 0x7F) {
                PUT('\\');
                PUT('0' + c / 100);
                PUT('0' + (c / 10) % 10);
                PUT('0' + c % 10);
            } else {
                PUT(c);
            }
        }
        PUT('.');
    }
#undef PUT
    out[n] = 0;
    return (int)n;
}
