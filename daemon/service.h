/*
 * systemd integration through libsystemd (sd-daemon(3)): readiness and
 * state notifications, the watchdog, and socket activation. Every call
 * is a no-op when the daemon does not run under systemd.
 */
#ifndef DAEMON_SERVICE_H
#define DAEMON_SERVICE_H

/* How often STATUS= may change, at most. */
#define SERVICE_STATUS_INTERVAL_MS	2000

struct broker;
struct service;

struct service	*service_new(struct broker *);
void		 service_free(struct service *);
void		 service_ready(struct service *);
void		 service_reloading(struct service *);
void		 service_stopping(struct service *);
int		 service_listen_fd(char **);

#endif
