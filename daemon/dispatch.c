/*
 * Dispatch: a client's messages to the broker, and the broker's own
 * methods.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "counters.h"
#include "dispatch.h"
#include "errors.h"
#include "front.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "request.h"
#include "route.h"
#include "scan.h"
#include "session.h"
#include "version.h"
#include "wire.h"
#include "xmalloc.h"

/* Longest server name the request fast path copies (config allows 64). */
#define DISPATCH_SERVER_MAX	64

typedef void (*dispatch_method_fn)(struct broker *, struct front *, cJSON *,
    const struct route *);

static void	dispatch_status(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_session(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_close(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_servers(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_reload(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_hello(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_forward(struct broker *, struct front *, cJSON *,
		    const struct route *);
static int	dispatch_forward_text(struct broker *, struct front *,
		    const struct scan_request *);
static long	dispatch_timeout_ms(struct broker *,
		    const struct server_conf *, long);
static void	dispatch_reply(struct front *, cJSON *, cJSON *);

/* The counters broker/status shows, by name. */
static const struct {
	const char	*name;
	size_t		 offset;
} dispatch_counters[] = {
#define DISPATCH_COUNTER(name) { #name, offsetof(struct counters, name) }
	DISPATCH_COUNTER(sessions_started),
	DISPATCH_COUNTER(sessions_evicted),
	DISPATCH_COUNTER(sessions_exited),
	DISPATCH_COUNTER(sessions_closed),
	DISPATCH_COUNTER(sessions_expired),
	DISPATCH_COUNTER(timeouts),
	DISPATCH_COUNTER(reloads),
	DISPATCH_COUNTER(requests),
	DISPATCH_COUNTER(errors),
	DISPATCH_COUNTER(clients_accepted),
#undef DISPATCH_COUNTER
};

/* The broker's own methods, by enum route_method. */
static const dispatch_method_fn dispatch_methods[] = {
	[ROUTE_STATUS] = dispatch_status,
	[ROUTE_SESSION] = dispatch_session,
	[ROUTE_CLOSE] = dispatch_close,
	[ROUTE_SERVERS] = dispatch_servers,
	[ROUTE_RELOAD] = dispatch_reload,
	[ROUTE_HELLO] = dispatch_hello,
};

/*
 * One line from a client of a line-based front end: the fast path for a
 * plain forwarded request, else the full parser and the message's kind.
 */
void
dispatch_line(struct broker *b, struct front *f, const char *data,
    size_t len)
{
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;
	struct scan_request	 rq;

	if (scan_request(data, len, &rq) == 0 &&
	    dispatch_forward_text(b, f, &rq) == 0) {
		broker_counters(b)->requests++;
		return;
	}
	if (jsonrpc_parse(data, len, &msg, &fault) != 0) {
		front_send_error(f, fault.id, fault.code, fault.message, NULL);
		return;
	}
	switch (msg.kind) {
	case JSONRPC_REQUEST:
		broker_counters(b)->requests++;
		dispatch_request(b, f, msg.root);
		break;
	case JSONRPC_NOTIFICATION:
		dispatch_notification(b, f, msg.root);
		break;
	case JSONRPC_RESPONSE:
		dispatch_response(b, f, msg.root);
		break;
	}
}

/* Answer id with result on f; takes both. */
static void
dispatch_reply(struct front *f, cJSON *id, cJSON *result)
{
	front_send(f, jsonrpc_result(id, result));
}

/*
 * A request from a client; takes msg. broker/ methods are answered here,
 * everything else is forwarded to the session for its key.
 */
void
dispatch_request(struct broker *b, struct front *f, cJSON *msg)
{
	struct route		 route;
	struct route_fault	 fault;
	cJSON			*id, *params;
	const char		*method;

	method = cJSON_GetObjectItemCaseSensitive(msg, "method")->valuestring;
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (broker_exiting(b)) {
		front_send_errorf(f, cJSON_DetachItemFromObjectCaseSensitive(msg,
		    "id"), RPC_SHUTTING_DOWN, NULL, "The broker is shutting "
		    "down; retry once it is back.");
		cJSON_Delete(msg);
		return;
	}
	if (route_parse(method, params, &route, &fault) != 0) {
		front_send_error(f, cJSON_DetachItemFromObjectCaseSensitive(msg,
		    "id"), fault.code, fault.message, NULL);
		cJSON_Delete(msg);
		return;
	}
	if (route.method == ROUTE_FORWARD) {
		dispatch_forward(b, f, msg, &route);
		return;
	}
	id = cJSON_DetachItemFromObjectCaseSensitive(msg, "id");
	if (route.method >= sizeof dispatch_methods /
	    sizeof *dispatch_methods || dispatch_methods[route.method] == NULL)
		front_send_errorf(f, id, RPC_METHOD_NOT_FOUND, NULL, "%s is not "
		    "supported by this version of mcp-broker.", method);
	else
		dispatch_methods[route.method](b, f, id, &route);
	cJSON_Delete(msg);
}

/*
 * A notification from a client; takes msg. notifications/cancelled for
 * one of its requests is passed on to the child under the child's id;
 * the rest have nowhere to go and are dropped.
 */
void
dispatch_notification(struct broker *b, struct front *f, cJSON *msg)
{
	struct request	*req;
	cJSON		*method, *params, *id;

	(void)b;
	method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (strcmp(method->valuestring, "notifications/cancelled") == 0 &&
	    (id = cJSON_GetObjectItemCaseSensitive(params, "requestId")) !=
	    NULL && (req = request_find(f, id)) != NULL)
		request_cancel(req);
	cJSON_Delete(msg);
}

/*
 * A response from a client (takes msg): the answer to a child's request
 * the broker passed it, which goes back to that child.
 */
void
dispatch_response(struct broker *b, struct front *f, cJSON *msg)
{
	struct upcall	*up;

	(void)b;
	up = upcall_find(f, cJSON_GetObjectItemCaseSensitive(msg, "id"));
	if (up != NULL) {
		upcall_answer(up, msg);
		return;
	}
	log_debug("client %llu: ignoring a response to no request of the "
	    "broker's", (unsigned long long)f->serial);
	cJSON_Delete(msg);
}

/*
 * The timeout for a request: the call's own timeout_ms (0: none), else
 * the server's or the broker's.
 */
static long
dispatch_timeout_ms(struct broker *b, const struct server_conf *sc,
    long call_ms)
{
	if (call_ms > 0)
		return (call_ms);
	if (sc->request_timeout_s != CONFIG_UNSET)
		return ((long)sc->request_timeout_s * 1000);
	return ((long)broker_config(b)->request_timeout_s * 1000);
}

/* Forward an MCP request to its session; takes msg. */
static void
dispatch_forward(struct broker *b, struct front *f, cJSON *msg,
    const struct route *route)
{
	const struct server_conf	*sc;
	struct session			*s;
	struct request			*req;
	cJSON				*id;

	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	if ((sc = broker_find_server(b, f, id, route->server)) == NULL ||
	    (s = broker_session_for(b, f, id, sc, route->thread)) == NULL) {
		cJSON_Delete(msg);
		return;
	}
	req = request_new(f, REQUEST_FORWARD,
	    cJSON_DetachItemFromObjectCaseSensitive(msg, "id"), NULL, 0);
	cJSON_AddNumberToObject(msg, "id", 0);	/* the session sets it */
	route_strip(cJSON_GetObjectItemCaseSensitive(msg, "params"));
	request_set_msg(req, msg);
	if (route->progress_token != NULL) {
		/* Tokens must be unique among a child's active requests,
		   and two clients may well pick the same one. */
		request_set_token(req,
		    cJSON_Duplicate(route->progress_token, 1));
		request_set_child_token(req, broker_next_token(b));
	}
	broker_submit(b, s, req, dispatch_timeout_ms(b, sc,
	    route->timeout_ms));
}

/*
 * The fast path for the common request: a forwarded call that needs no
 * rewriting beyond its routing members, scanned as text by
 * scan_request(). It is passed on as text, never built into a tree.
 * Returns 0 once the request is taken or answered, -1 if the full parser
 * must look at it (nothing was done then).
 */
static int
dispatch_forward_text(struct broker *b, struct front *f,
    const struct scan_request *rq)
{
	const struct server_conf	*sc;
	struct session			*s;
	struct request			*req;
	cJSON				*id;
	char				 server[DISPATCH_SERVER_MAX + 1];
	char				 thread[ROUTE_THREAD_MAX + 1], *tail;
	size_t				 len;

	if (broker_exiting(b) || rq->server_len == 0 || rq->thread_len == 0 ||
	    rq->server_len >= sizeof server || rq->thread_len > ROUTE_THREAD_MAX)
		return (-1);

	id = scan_request_id(rq);
	memcpy(server, rq->server, rq->server_len);
	server[rq->server_len] = '\0';
	memcpy(thread, rq->thread, rq->thread_len);
	thread[rq->thread_len] = '\0';
	if ((sc = broker_find_server(b, f, id, server)) == NULL ||
	    (s = broker_session_for(b, f, id, sc, thread)) == NULL) {
		cJSON_Delete(id);
		return (0);
	}
	req = request_new(f, REQUEST_FORWARD, id, rq->id, rq->id_len);
	tail = wire_request_tail(rq, &len);
	request_set_text(req, tail, len);
	/* The fast path takes no timeout_ms: the server's applies. */
	broker_submit(b, s, req, dispatch_timeout_ms(b, sc, 0));
	return (0);
}

/* broker/status: the daemon, its sessions, servers and counters. */
static void
dispatch_status(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	const struct counters	*counters = broker_counters(b);
	cJSON			*r, *list;
	size_t			 i;

	(void)route;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "version", BROKER_VERSION);
	cJSON_AddNumberToObject(r, "pid", getpid());
	cJSON_AddNumberToObject(r, "uptime_s", (double)(long)broker_uptime(b));
	cJSON_AddNumberToObject(r, "max_sessions",
	    broker_config(b)->max_sessions);
	cJSON_AddNumberToObject(r, "clients", (double)broker_nclients(b));
	cJSON_AddItemToObject(r, "sessions", broker_list_sessions(b, f));
	cJSON_AddItemToObject(r, "servers", broker_list_servers(b));
	list = cJSON_AddObjectToObject(r, "counters");
	for (i = 0; i < sizeof dispatch_counters / sizeof *dispatch_counters;
	    i++)
		cJSON_AddNumberToObject(list, dispatch_counters[i].name,
		    (double)*(const uint64_t *)((const char *)counters +
		    dispatch_counters[i].offset));
	dispatch_reply(f, id, r);
}

/* broker/servers: the configured servers. */
static void
dispatch_servers(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	(void)route;
	dispatch_reply(f, id, broker_list_servers(b));
}

/*
 * broker/session: one of the caller's sessions in full. With "create":
 * true a missing session is started and the answer waits until it is
 * ready (or fails with -32011 like any request).
 */
static void
dispatch_session(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	const struct server_conf	*sc;
	struct session			*s;
	cJSON				*data;

	s = broker_lookup(b, f->uid, route->server, route->thread);
	if (s != NULL) {
		dispatch_reply(f, id, session_describe(s, 1));
		return;
	}
	if (!route->create) {
		data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "server", route->server);
		cJSON_AddStringToObject(data, "thread", route->thread);
		front_send_errorf(f, id, RPC_INVALID_PARAMS, data, "No session for "
		    "server '%.64s' thread '%.256s'; pass \"create\": true to "
		    "start one.", route->server, route->thread);
		return;
	}
	if ((sc = broker_find_server(b, f, id, route->server)) == NULL ||
	    (s = broker_session_for(b, f, id, sc, route->thread)) == NULL) {
		cJSON_Delete(id);
		return;
	}
	session_submit(s, request_new(f, REQUEST_SESSION_INFO, id, NULL, 0));
}

/*
 * broker/close: the caller's sessions matching {"thread"}, {"server"},
 * {"server","thread"} or {"all":true}. The keys are forgotten, so the
 * next session for one starts at generation 1.
 */
static void
dispatch_close(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	cJSON	*r, *data;
	int	 closed;

	if (route->server != NULL &&
	    config_find_server(broker_config(b), route->server) == NULL) {
		data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "server", route->server);
		front_send_errorf(f, id, RPC_UNKNOWN_SERVER, data, "Unknown server "
		    "'%.64s'; broker/servers lists the configured ones.",
		    route->server);
		return;
	}
	closed = broker_close_matching(b, f, route->server, route->thread);
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "closed", closed);
	dispatch_reply(f, id, r);
}

/* broker/hello: what this client can answer for the servers. */
static void
dispatch_hello(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	cJSON	*r;

	(void)b;
	f->can_sample = route->sampling;
	f->can_elicit = route->elicitation;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "version", BROKER_VERSION);
	cJSON_AddNumberToObject(r, "uid", f->uid);
	cJSON_AddBoolToObject(r, "admin", f->admin);
	dispatch_reply(f, id, r);
}

/* broker/reload: re-read the config file (admins only). */
static void
dispatch_reload(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	cJSON	*result, *errors, *data;

	(void)route;
	if (!f->admin) {
		front_send_errorf(f, id, RPC_FORBIDDEN, NULL, "Only root, the "
		    "daemon's own user and admin_group may reload the "
		    "configuration.");
		return;
	}
	if (broker_reload(b, &result, &errors) != 0) {
		data = cJSON_CreateObject();
		cJSON_AddItemToObject(data, "errors", errors);
		front_send_errorf(f, id, RPC_CONFIG_INVALID, data, "The "
		    "configuration file is invalid; nothing was changed.");
		return;
	}
	dispatch_reply(f, id, result);
}
