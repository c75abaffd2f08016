/* Whole-file reads, bounded: a file can never make us hold more than the caller's limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/file.h"

int rd__file_read(const char *path, size_t max, char **out, size_t *outlen, int *err_no)
{
    struct stat sb;
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap;
    int rc = RD_EIO;
    if (!f) {
        *err_no = errno;
        return RD_EIO;
    }
    if (fstat(fileno(f), &sb) != 0) {
        *err_no = errno;
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        *err_no = EISDIR;
        goto fail;
    }
    if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > max) {
        *err_no = EFBIG;
        rc = RD_ELIMIT;
        goto fail;
    }
    /* Regular files: their size (+1 to see EOF in one read); pipes and the like grow. */
    cap = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 1 : 65536;
    for (;;) {
        if (!buf || len == cap) {
            if (buf) cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                *err_no = ENOMEM;
                rc = RD_ENOMEM;
                goto fail;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len > max) {
            *err_no = EFBIG;
            rc = RD_ELIMIT;
            goto fail;
        }
        if (n == 0) {
            if (ferror(f)) {
                *err_no = EIO;
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    *out = buf;
    *outlen = len;
    return 0;
fail:
    free(buf);
    fclose(f);
    return rc;
}
