/*
 * Request latency histograms, one per server name.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "latency.h"
#include "xmalloc.h"

/*
 * From a cached answer (a millisecond) to a browser that takes minutes:
 * the spread of MCP tools. The last bucket (+Inf) takes the rest.
 */
const uint64_t latency_bounds_us[LATENCY_NBOUNDS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 120000000
};

/*
 * The histogram of server, made (empty) if it has none: held once by
 * the caller.
 */
struct latency *
latency_get(struct latency_list *list, const char *server)
{
	struct latency	*l;

	LIST_FOREACH(l, list, entry) {
		if (strcmp(l->server, server) == 0) {
			l->refs++;
			return (l);
		}
	}
	l = xcalloc(1, sizeof *l);
	l->server = xstrdup(server);
	l->refs = 1;
	LIST_INSERT_HEAD(list, l, entry);
	return (l);
}

/* The histogram of server, or NULL; no reference is taken. */
struct latency *
latency_find(struct latency_list *list, const char *server)
{
	struct latency	*l;

	LIST_FOREACH(l, list, entry) {
		if (strcmp(l->server, server) == 0)
			return (l);
	}
	return (NULL);
}

/* Hold one more reference to a histogram. */
void
latency_hold(struct latency *l)
{
	l->refs++;
}

/* Let go of a histogram; the last reference frees it and its counts. */
void
latency_release(struct latency *l)
{
	if (l == NULL || --l->refs > 0)
		return;
	LIST_REMOVE(l, entry);
	free(l->server);
	free(l);
}

/* Count one request that took us microseconds. */
void
latency_observe(struct latency *l, uint64_t us)
{
	size_t	i;

	for (i = 0; i < LATENCY_NBOUNDS; i++) {
		if (us <= latency_bounds_us[i])
			break;
	}
	l->buckets[i]++;
	l->count++;
	l->sum_us += us;
}

/* Free every histogram, whoever holds it (the daemon is exiting). */
void
latency_free_all(struct latency_list *list)
{
	struct latency	*l;

	while ((l = LIST_FIRST(list)) != NULL) {
		LIST_REMOVE(l, entry);
		free(l->server);
		free(l);
	}
}

/*
 * Hold (or let go of) the histogram of each server of conf: a server
 * keeps its counts while it is configured, and across reloads.
 */
void
latency_hold_servers(struct latency_list *list, const struct config *conf,
    int hold)
{
	size_t	i;

	for (i = 0; i < conf->nservers; i++) {
		if (hold)
			latency_get(list, conf->servers[i].name);
		else
			latency_release(latency_find(list,
			    conf->servers[i].name));
	}
}
