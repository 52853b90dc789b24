/*
 * Request latency per server: a histogram with fixed buckets, kept for
 * as long as the server is configured or a session of it lives, so that
 * observing a request allocates nothing and takes no lookup.
 *
 * The list is the broker's; a session holds the histogram of its server
 * (latency_hold) and lets go of it when it is freed.
 */
#ifndef DAEMON_LATENCY_H
#define DAEMON_LATENCY_H

#include <sys/queue.h>

#include <stdint.h>

struct config;

/* The buckets' upper bounds, in microseconds, and how many there are. */
#define LATENCY_NBOUNDS		16
extern const uint64_t latency_bounds_us[LATENCY_NBOUNDS];

struct latency {
	char			*server;
	unsigned		 refs;
	uint64_t		 buckets[LATENCY_NBOUNDS + 1];	/* last:
								   +Inf */
	uint64_t		 count;
	uint64_t		 sum_us;
	LIST_ENTRY(latency)	 entry;
};
LIST_HEAD(latency_list, latency);

struct latency	*latency_get(struct latency_list *, const char *);
struct latency	*latency_find(struct latency_list *, const char *);
void		 latency_hold(struct latency *);
void		 latency_release(struct latency *);
void		 latency_observe(struct latency *, uint64_t);
void		 latency_hold_servers(struct latency_list *,
		     const struct config *, int);
void		 latency_free_all(struct latency_list *);

#endif
