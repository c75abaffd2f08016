#ifndef RD_SERVER_NOTIFY_H
#define RD_SERVER_NOTIFY_H
/* Sends a state line ("READY=1", "RELOADING=1", "STOPPING=1") to systemd if it listens. */
int rd_sd_notify(const char *state);
#endif
