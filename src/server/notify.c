/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET (systemd's documented
 * protocol), so Type=notify units know when we are ready. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/notify.h"

int rd_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t pl = strlen(path);
    if (pl >= sizeof(sa.sun_path)) return -1;
    memcpy(sa.sun_path, path, pl);
    if (sa.sun_path[0] == '@') sa.sun_path[0] = 0; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pl);
    ssize_t r = sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sa, len);
    close(fd);
    return r < 0 ? -1 : 0;
}
