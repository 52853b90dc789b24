/*
 * MCP Streamable HTTP at /mcp/{server}/{thread}: the broker is the MCP
 * server for an HTTP client. Each HTTP MCP session (http_mcp_session.c)
 * is a client of the core like an NDJSON connection, reaching the
 * session for (its user, server, thread).
 */
#ifndef DAEMON_HTTP_MCP_H
#define DAEMON_HTTP_MCP_H

#include <sys/types.h>

struct broker;
struct evhttp_connection;
struct evhttp_request;
struct http_mcp;

struct http_mcp	*http_mcp_new(struct broker *);
void		 http_mcp_free(struct http_mcp *);
int		 http_mcp_serve(struct http_mcp *, struct evhttp_request *,
		     const char *, uid_t, int);
void		 http_mcp_conn_closed(struct http_mcp *,
		     struct evhttp_connection *);

#endif
