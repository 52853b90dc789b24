/*
 * What the daemon counts, shown by broker/status. One struct, shared by
 * the modules that count (a front end counts errors it sends, a request
 * its timeout, the broker sessions), each given a pointer to it.
 */
#ifndef DAEMON_COUNTERS_H
#define DAEMON_COUNTERS_H

#include <stdint.h>

/*
 * The error codes counted one by one (JSON-RPC's, the broker's and the
 * MCP ones servers send); any other code is counted as "other", so a
 * server inventing codes cannot grow the table.
 */
#define COUNTERS_NCODES	17

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
	/* errors by code: counters_codes[i], the last any other code */
	uint64_t	errors_by_code[COUNTERS_NCODES + 1];
};

extern const int counters_codes[COUNTERS_NCODES];

void	counters_error(struct counters *, int);

#endif
