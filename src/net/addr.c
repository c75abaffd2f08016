/* rd_addr_t <-> struct sockaddr: the one place the shell crosses between them. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "server/server.h"

void rd_addr_from_sockaddr(const struct sockaddr *sa, rd_addr_t *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        out->family = 4;
        memcpy(out->addr, &s4->sin_addr, 4);
        out->port = ntohs(s4->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        out->family = 6;
        memcpy(out->addr, &s6->sin6_addr, 16);
        out->port = ntohs(s6->sin6_port);
    }
}

int rd_addr_to_sockaddr(const rd_addr_t *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, a->addr, 4);
        s4->sin_port = htons(a->port);
        return AF_INET;
    }
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    memcpy(&s6->sin6_addr, a->addr, 16);
    s6->sin6_port = htons(a->port);
    return AF_INET6;
}
