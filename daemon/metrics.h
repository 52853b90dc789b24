/*
 * The daemon's metrics in the OpenMetrics text format: the counters,
 * gauges of what it holds, and request latency histograms per server.
 * broker/metrics and the HTTP front end's /metrics serve the same text.
 */
#ifndef DAEMON_METRICS_H
#define DAEMON_METRICS_H

#include <stddef.h>

/* What the text is, for an HTTP Content-Type. */
#define METRICS_CONTENT_TYPE \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

struct broker;

char	*metrics_text(struct broker *, size_t *);

#endif
