/*
 * One HTTP MCP session (an Mcp-Session-Id) of the Streamable HTTP
 * endpoint: a client of the core like an NDJSON connection, whose
 * messages come as POSTs and whose answers, progress and server
 * requests go back on the HTTP exchanges it has open.
 */
#ifndef DAEMON_HTTP_MCP_SESSION_H
#define DAEMON_HTTP_MCP_SESSION_H

#include <sys/types.h>

#include <stddef.h>

#include <cJSON.h>

/* Random bytes in an Mcp-Session-Id (written as hex). */
#define HTTP_MCP_ID_BYTES	16
/* Seconds between keep-alive comments on an open event stream. */
#define HTTP_MCP_KEEPALIVE_S	15

/*
 * The most bytes an event stream may have waiting for its client; past
 * it events are dropped (a client that does not read grows no memory).
 */
#define HTTP_MCP_STREAM_MAX	(64u * 1024 * 1024)

struct broker;
struct evhttp_connection;
struct evhttp_request;
struct http_mcp_session;
struct jsonrpc_msg;

/* Told when a session becomes known by its id, and when it ends. */
typedef void (*http_mcp_session_cb)(struct http_mcp_session *, void *);

struct http_mcp_session *http_mcp_session_new(struct broker *, uid_t, int,
		     const char *, const char *, http_mcp_session_cb,
		     http_mcp_session_cb, void *);
void		 http_mcp_session_end(struct http_mcp_session *,
		     const char *);
uid_t		 http_mcp_session_uid(struct http_mcp_session *);
int		 http_mcp_session_is(struct http_mcp_session *, uid_t,
		     const char *, const char *, const char *);
int		 http_mcp_session_idle(struct http_mcp_session *);
void		 http_mcp_session_touch(struct http_mcp_session *);
void		 http_mcp_session_conn_closed(struct http_mcp_session *,
		     struct evhttp_connection *);

int		 http_mcp_session_initialize(struct http_mcp_session *,
		     struct evhttp_request *, struct jsonrpc_msg *);
int		 http_mcp_session_call(struct http_mcp_session *,
		     struct evhttp_request *, struct jsonrpc_msg *);
int		 http_mcp_session_pass(struct http_mcp_session *,
		     struct evhttp_request *, const char *, const char *,
		     size_t);
int		 http_mcp_session_stream(struct http_mcp_session *,
		     struct evhttp_request *);

int		 http_mcp_session_accepts(struct evhttp_request *,
		     const char *);
int		 http_mcp_session_reply_error(struct evhttp_request *, int,
		     const char *, const char *, int, cJSON *, const char *,
		     ...) __attribute__((format(printf, 7, 8)));

#endif
