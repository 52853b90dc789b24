/*
 * The HTTP front end's TCP listeners (broker.http.listen): every request
 * authenticated by a bearer token of broker.http.tokens_file, checked
 * against the Origin rule, and served /metrics to admins.
 */
#ifndef DAEMON_HTTP_H
#define DAEMON_HTTP_H

/* The most bytes of a request's line and headers together. */
#define HTTP_MAX_HEADERS_BYTES	16384

struct broker;
struct http;

struct http	*http_new(struct broker *, char **);
void		 http_free(struct http *);

#endif
