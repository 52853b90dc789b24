/*
 * The daemon's metrics as OpenMetrics text: what broker/metrics answers
 * and the HTTP front end serves on /metrics.
 *
 * Everything is read from what the daemon keeps anyway (the counters,
 * the session table, the clients, the latency histograms), when asked:
 * nothing is computed per request beyond the histogram's one bucket.
 *
 * A counter's family is named with its _total, as the older Prometheus
 * text format wants it: so the same text passes `promtool check
 * metrics` and Prometheus's OpenMetrics parser, and a scraper asking
 * for either format reads the same series.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config.h"
#include "counters.h"
#include "latency.h"
#include "metrics.h"
#include "session.h"
#include "version.h"
#include "xmalloc.h"

/* The counters, by family name. */
static const struct {
	const char	*name;
	const char	*help;
	size_t		 offset;
} metrics_counters[] = {
#define METRICS_COUNTER(field, help) \
	{ "mcp_broker_" #field "_total", help, \
	    offsetof(struct counters, field) }
	METRICS_COUNTER(requests, "Messages received from clients."),
	METRICS_COUNTER(timeouts, "Requests that ran out of time."),
	METRICS_COUNTER(sessions_started, "Sessions started."),
	METRICS_COUNTER(sessions_evicted,
	    "Idle sessions closed to make room for another."),
	METRICS_COUNTER(sessions_exited,
	    "Sessions whose server exited on its own."),
	METRICS_COUNTER(sessions_expired,
	    "Sessions closed after idle_timeout_s."),
	METRICS_COUNTER(sessions_closed,
	    "Sessions closed by broker/close or a reload."),
	METRICS_COUNTER(reloads, "Configuration reloads that took effect."),
	METRICS_COUNTER(clients_accepted, "Client connections accepted."),
#undef METRICS_COUNTER
};

static const char *const metrics_states[] = { "starting", "ready",
    "closing" };

static void	metrics_label(FILE *, const char *);
static void	metrics_errors(FILE *, const struct counters *);
static void	metrics_sessions(FILE *, struct broker *);
static void	metrics_latency(FILE *, struct broker *);

/* The metrics as OpenMetrics text, ending "# EOF" (caller frees). */
char *
metrics_text(struct broker *b, size_t *len)
{
	const struct counters	*c = broker_counters(b);
	const struct config	*conf = broker_config(b);
	FILE			*f;
	char			*text = NULL;
	size_t			 i;

	if ((f = open_memstream(&text, len)) == NULL)
		fatal("open_memstream");
	fprintf(f, "# TYPE mcp_broker_build_info gauge\n"
	    "# HELP mcp_broker_build_info The daemon's version.\n"
	    "mcp_broker_build_info{version=\"%s\"} 1\n", BROKER_VERSION);
	fprintf(f, "# TYPE mcp_broker_uptime_seconds gauge\n"
	    "# UNIT mcp_broker_uptime_seconds seconds\n"
	    "# HELP mcp_broker_uptime_seconds Seconds since the daemon "
	    "started.\n"
	    "mcp_broker_uptime_seconds %.3f\n", broker_uptime(b));
	for (i = 0; i < sizeof metrics_counters / sizeof *metrics_counters;
	    i++) {
		fprintf(f, "# TYPE %s counter\n# HELP %s %s\n%s %llu\n",
		    metrics_counters[i].name, metrics_counters[i].name,
		    metrics_counters[i].help, metrics_counters[i].name,
		    (unsigned long long)*(const uint64_t *)((const char *)c +
		    metrics_counters[i].offset));
	}
	metrics_errors(f, c);
	fprintf(f, "# TYPE mcp_broker_clients gauge\n"
	    "# HELP mcp_broker_clients Clients connected.\n"
	    "mcp_broker_clients %zu\n", broker_nclients(b));
	fprintf(f, "# TYPE mcp_broker_in_flight gauge\n"
	    "# HELP mcp_broker_in_flight Requests from clients not answered "
	    "yet.\n"
	    "mcp_broker_in_flight %zu\n", broker_in_flight(b));
	fprintf(f, "# TYPE mcp_broker_max_sessions gauge\n"
	    "# HELP mcp_broker_max_sessions Sessions the daemon may hold "
	    "(max_sessions).\n"
	    "mcp_broker_max_sessions %d\n", conf->max_sessions);
	metrics_sessions(f, b);
	metrics_latency(f, b);
	fprintf(f, "# EOF\n");
	if (fclose(f) != 0)
		fatal("open_memstream");
	return (text);
}

/* A label value, escaped as OpenMetrics says (\\, \", \n). */
static void
metrics_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* Errors answered, by code; codes not listed count as "other". */
static void
metrics_errors(FILE *f, const struct counters *c)
{
	size_t	i;

	fprintf(f, "# TYPE mcp_broker_errors_total counter\n"
	    "# HELP mcp_broker_errors_total Error answers sent to clients, by "
	    "JSON-RPC code.\n");
	for (i = 0; i < COUNTERS_NCODES; i++) {
		fprintf(f, "mcp_broker_errors_total{code=\"%d\"} %llu\n",
		    counters_codes[i],
		    (unsigned long long)c->errors_by_code[i]);
	}
	fprintf(f, "mcp_broker_errors_total{code=\"other\"} %llu\n",
	    (unsigned long long)c->errors_by_code[COUNTERS_NCODES]);
}

/* Sessions by server and state, every configured server listed. */
static void
metrics_sessions(FILE *f, struct broker *b)
{
	const struct config	*conf = broker_config(b);
	size_t			 i, j;

	fprintf(f, "# TYPE mcp_broker_sessions gauge\n"
	    "# HELP mcp_broker_sessions Sessions held, by server and "
	    "state.\n");
	for (i = 0; i < conf->nservers; i++) {
		for (j = 0; j < sizeof metrics_states /
		    sizeof *metrics_states; j++) {
			fprintf(f, "mcp_broker_sessions{server=\"");
			metrics_label(f, conf->servers[i].name);
			fprintf(f, "\",state=\"%s\"} %zu\n", metrics_states[j],
			    broker_count_sessions(b, conf->servers[i].name,
			    (int)j));
		}
	}
}

/* Request latency per server, as cumulative buckets. */
static void
metrics_latency(FILE *f, struct broker *b)
{
	struct latency	*l;
	uint64_t	 n;
	size_t		 i;

	fprintf(f, "# TYPE mcp_broker_request_duration_seconds histogram\n"
	    "# UNIT mcp_broker_request_duration_seconds seconds\n"
	    "# HELP mcp_broker_request_duration_seconds Time from a "
	    "request's arrival to its answer, by server.\n");
	LIST_FOREACH(l, broker_latencies(b), entry) {
		n = 0;
		for (i = 0; i <= LATENCY_NBOUNDS; i++) {
			n += l->buckets[i];
			fprintf(f, "mcp_broker_request_duration_seconds_bucket"
			    "{server=\"");
			metrics_label(f, l->server);
			if (i < LATENCY_NBOUNDS)
				fprintf(f, "\",le=\"%g\"} %llu\n",
				    (double)latency_bounds_us[i] / 1e6,
				    (unsigned long long)n);
			else
				fprintf(f, "\",le=\"+Inf\"} %llu\n",
				    (unsigned long long)n);
		}
		fprintf(f, "mcp_broker_request_duration_seconds_count"
		    "{server=\"");
		metrics_label(f, l->server);
		fprintf(f, "\"} %llu\n", (unsigned long long)l->count);
		fprintf(f, "mcp_broker_request_duration_seconds_sum"
		    "{server=\"");
		metrics_label(f, l->server);
		fprintf(f, "\"} %.6f\n", (double)l->sum_us / 1e6);
	}
}
