/*
 * The HTTP front end: its TCP listeners (broker.http.listen), every
 * request authenticated by a bearer token of broker.http.tokens_file,
 * and the HTTP connections of the broker's socket (the peer's uid their
 * identity); each request checked against the Origin rule and served
 * /metrics (admins) or the MCP endpoint /mcp/SERVER/THREAD.
 */
#ifndef DAEMON_HTTP_H
#define DAEMON_HTTP_H

#include <sys/types.h>

/* The most bytes of a request's line and headers together. */
#define HTTP_MAX_HEADERS_BYTES	16384
/* The most bytes read from a client and not yet parsed. */
#define HTTP_READ_MAX		(HTTP_MAX_HEADERS_BYTES + 65536)
/*
 * TCP connections that have not yet made a request with a valid token
 * (at most, and for how long each): until then they do not count toward
 * max_clients, so nobody without a token can take the host's clients;
 * past the bound the oldest of them is closed for a new one.
 */
#define HTTP_MAX_UNSERVED	64
#define HTTP_FIRST_REQUEST_S	10

struct broker;
struct http;

struct http	*http_new(struct broker *, char **);
void		 http_free(struct http *);
void		 http_take_local(int, uid_t, int, void *);

#endif
