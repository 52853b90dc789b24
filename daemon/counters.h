/*
 * What the daemon counts, shown by broker/status. One struct, shared by
 * the modules that count (a front end counts errors it sends, a request
 * its timeout, the broker sessions), each given a pointer to it.
 */
#ifndef DAEMON_COUNTERS_H
#define DAEMON_COUNTERS_H

#include <stdint.h>

struct counters {
	uint64_t	sessions_started;
	uint64_t	sessions_evicted;
	uint64_t	sessions_exited;
	uint64_t	sessions_expired;
	uint64_t	sessions_closed;
	uint64_t	timeouts;
	uint64_t	reloads;
	uint64_t	requests;
	uint64_t	errors;
	uint64_t	clients_accepted;
};

#endif
