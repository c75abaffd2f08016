/* resolverd: command line and start-up. The network front end (configuration, listeners)
 * arrives with issue 4; until then the binary offers its offline tools. */
#include <stdio.h>
#include <string.h>

#include "resolverd/zonefile.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: resolverd [-c FILE] [--check-config] [-v] [--version] [--help]\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("resolverd %s\n", RD_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    }
    usage(stderr);
    fprintf(stderr, "resolverd: the network front end is not built yet (issue 4)\n");
    return 2;
}
