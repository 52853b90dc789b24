/*
 * What a front end hands the core: each message a client sends, turned
 * into a call on the broker. MCP requests are forwarded to the session
 * of their key; the broker's own methods (broker/status, broker/session,
 * broker/close, broker/servers, broker/reload, broker/hello) are answered
 * here; notifications cancel; responses answer the children's requests.
 */
#ifndef DAEMON_DISPATCH_H
#define DAEMON_DISPATCH_H

#include <stddef.h>

#include <cJSON.h>

struct broker;
struct front;
struct jsonrpc_msg;

void	dispatch_line(struct broker *, struct front *, const char *, size_t);
void	dispatch_request(struct broker *, struct front *,
	    struct jsonrpc_msg *);
void	dispatch_notification(struct broker *, struct front *,
	    struct jsonrpc_msg *);
void	dispatch_response(struct broker *, struct front *,
	    struct jsonrpc_msg *);

#endif
