/*
 * systemd integration through libsystemd (sd-daemon(3)): readiness and
 * state notifications, the watchdog, and socket activation. Every call
 * is a no-op when the daemon does not run under systemd.
 */
#ifndef DAEMON_SERVICE_H
#define DAEMON_SERVICE_H

/* How often STATUS= may change, at most. */
#define SERVICE_STATUS_INTERVAL_MS	2000

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct service;

/* What STATUS= tells, read from the daemon when it is refreshed. */
struct service_status {
	size_t		 sessions;
	size_t		 clients;
	uint64_t	 requests;	/* so far: the rate is worked out */
	int		 exiting;	/* no more STATUS= lines */
};
typedef void	(*service_status_fn)(struct service_status *, void *);

struct service	*service_new(struct event_base *, service_status_fn, void *);
void		 service_free(struct service *);
void		 service_ready(struct service *);
void		 service_reloading(struct service *);
void		 service_stopping(struct service *);
int		 service_listen_fd(char **);

#endif
