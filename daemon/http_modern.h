/*
 * Clients of the handshake-free protocol 2026-07-28 on the Streamable
 * HTTP endpoint: every POST is one request that stands alone (no
 * Mcp-Session-Id), served from the session for (its user, server,
 * thread) whichever protocol generation the child speaks.
 */
#ifndef DAEMON_HTTP_MODERN_H
#define DAEMON_HTTP_MODERN_H

#include <sys/types.h>

struct broker;
struct evhttp_connection;
struct evhttp_request;
struct http_modern;
struct jsonrpc_msg;

struct http_modern *http_modern_new(struct broker *);
void		 http_modern_free(struct http_modern *);
int		 http_modern_wants(struct evhttp_request *,
		     const struct jsonrpc_msg *);
int		 http_modern_refuses(struct evhttp_request *);
int		 http_modern_post(struct http_modern *, struct evhttp_request *,
		     struct jsonrpc_msg *, uid_t, int, const char *,
		     const char *);
void		 http_modern_conn_closed(struct http_modern *,
		     struct evhttp_connection *);

#endif
