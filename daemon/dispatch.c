/*
 * Dispatch: a client's messages to the broker, and the broker's own
 * methods.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ask.h"
#include "broker.h"
#include "config.h"
#include "counters.h"
#include "dispatch.h"
#include "errors.h"
#include "follow.h"
#include "front.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "proctree.h"
#include "request.h"
#include "route.h"
#include "scan.h"
#include "session.h"
#include "task.h"
#include "version.h"
#include "wire.h"
#include "xmalloc.h"

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
static void	dispatch_metrics(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_hello(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_logs(struct broker *, struct front *, cJSON *,
		    const struct route *);
static void	dispatch_forward(struct broker *, struct front *,
		    struct jsonrpc_msg *, const struct route *);
static char	*dispatch_tail(const struct jsonrpc_msg *, const char *,
		    size_t, size_t *);
static int	dispatch_forward_text(struct broker *, struct front *,
		    const struct scan_request *);
static long	dispatch_timeout_ms(struct broker *,
		    const struct server_conf *, long);
static void	dispatch_reply(struct front *, cJSON *, cJSON *);
static int	dispatch_refused_answer(struct front *, const char *, size_t,
		    struct jsonrpc_fault *);

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
	[ROUTE_METRICS] = dispatch_metrics,
	[ROUTE_LOGS] = dispatch_logs,
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
	struct route_fault	 rfault;
	struct scan_request	 rq;

	if (scan_request(data, len, &rq) == 0 &&
	    dispatch_forward_text(b, f, &rq) == 0) {
		broker_counters(b)->requests++;
		return;
	}
	if (jsonrpc_parse(data, len, &msg, &fault) != 0) {
		if (dispatch_refused_answer(f, data, len, &fault))
			return;
		/* JSON that cJSON cannot hold (a lone surrogate escape): a
		   name holding one breaks the name rule, said as such. */
		if (fault.grammar_ok &&
		    route_check_names(data, len, &rfault) != 0)
			front_send_error(f, fault.id, rfault.code,
			    rfault.message, NULL);
		else
			front_send_error(f, fault.id, fault.code,
			    fault.message, NULL);
		return;
	}
	switch (msg.kind) {
	case JSONRPC_REQUEST:
		broker_counters(b)->requests++;
		dispatch_request(b, f, &msg);
		break;
	case JSONRPC_NOTIFICATION:
		dispatch_notification(b, f, &msg);
		break;
	case JSONRPC_RESPONSE:
		dispatch_response(b, f, &msg);
		break;
	}
	jsonrpc_msg_clear(&msg);
}

/*
 * A client's answer to a server's request that the broker cannot take
 * (fault says why): the server gets the error at once instead of waiting
 * for the client to leave, and the client, whose line was an answer,
 * gets none (it is logged). Returns whether the line was such an answer;
 * takes fault's id if so.
 */
static int
dispatch_refused_answer(struct front *f, const char *data, size_t len,
    struct jsonrpc_fault *fault)
{
	struct scan_member	 m;
	struct upcall		*up;
	char			*message;
	const char		*id;

	if (!fault->grammar_ok || fault->id == NULL ||
	    scan_find(data, len, "method", &m) == 0)
		return (0);
	id = fault->id->valuestring;
	if ((up = upcall_find(f, id, strlen(id))) == NULL)
		return (0);
	xasprintf(&message, "The client's answer could not be passed on: %s",
	    fault->message);
	log_warnx("client %llu: %s", (unsigned long long)f->serial, message);
	upcall_fail(up, message);
	free(message);
	cJSON_Delete(fault->id);
	fault->id = NULL;
	return (1);
}

/* Answer id with result on f; takes both. */
static void
dispatch_reply(struct front *f, cJSON *id, cJSON *result)
{
	front_send(f, jsonrpc_result(id, result));
}

/*
 * A request from a client (msg stays the caller's). broker/ methods are
 * answered here, everything else is forwarded to the session for its
 * key. Every refusal carries the id as the client wrote it.
 */
void
dispatch_request(struct broker *b, struct front *f, struct jsonrpc_msg *msg)
{
	struct route		 route;
	struct route_fault	 fault;
	cJSON			*id;

	id = jsonrpc_id_raw(msg->id_text, msg->id_len);
	if (broker_exiting(b)) {
		front_send_errorf(f, id, RPC_SHUTTING_DOWN, NULL, "The broker "
		    "is shutting down; retry once it is back.");
		return;
	}
	if (route_check_names(msg->line, msg->line_len, &fault) != 0 ||
	    route_parse(msg->method, msg->params, &route, &fault) != 0) {
		front_send_error(f, id, fault.code, fault.message, NULL);
		return;
	}
	if (route.method == ROUTE_FORWARD) {
		cJSON_Delete(id);
		dispatch_forward(b, f, msg, &route);
		return;
	}
	if (route.method >= sizeof dispatch_methods /
	    sizeof *dispatch_methods || dispatch_methods[route.method] == NULL)
		front_send_errorf(f, id, RPC_METHOD_NOT_FOUND, NULL, "%s is not "
		    "supported by this version of mcp-broker.", msg->method);
	else
		dispatch_methods[route.method](b, f, id, &route);
}

/*
 * A notification from a client (msg stays the caller's).
 * notifications/cancelled for one of its requests (requestId as it sent
 * the id: strings compare by what they decode to, numbers by their text)
 * is passed on to the child under the child's id, or ends a follow of
 * broker/logs; notifications/progress for a child's request to it goes
 * to that child (ask.c); the rest have nowhere to go and are dropped.
 */
void
dispatch_notification(struct broker *b, struct front *f,
    struct jsonrpc_msg *msg)
{
	static const char *const path[] = { "params", "requestId", NULL };
	struct scan_member	 m;
	struct request		*req;

	if (strcmp(msg->method, "notifications/progress") == 0) {
		ask_progress(f, msg->line, msg->line_len);
		return;
	}
	if (strcmp(msg->method, "notifications/cancelled") != 0 ||
	    scan_path(msg->line, msg->line_len, path, &m) != 0)
		return;
	if ((req = request_find(f, m.value.p, m.value.len)) != NULL)
		request_cancel(req);
	else
		follow_cancel(broker_follows(b), f, m.value.p, m.value.len);
}

/*
 * A response from a client (msg stays the caller's): the answer to a
 * child's request the broker passed it, which goes back to that child.
 */
void
dispatch_response(struct broker *b, struct front *f, struct jsonrpc_msg *msg)
{
	struct upcall	*up;

	(void)b;
	if (msg->id_text != NULL &&
	    (up = upcall_find(f, msg->id_text, msg->id_len)) != NULL) {
		upcall_answer(up, msg->line, msg->line_len);
		return;
	}
	log_debug("client %llu: ignoring a response to no request of the "
	    "broker's", (unsigned long long)f->serial);
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

/*
 * The forwarded request's text after its id, for the child, from the
 * client's line: byte for byte but for the routing members (removed),
 * the progress token (token: the broker's, or NULL) and the id and
 * jsonrpc members (the session writes them in front). Allocated, with
 * its newline; *lenp gets its length.
 */
static char *
dispatch_tail(const struct jsonrpc_msg *msg, const char *token,
    size_t token_len, size_t *lenp)
{
	const struct wire_edit	 e[] = {
		{ WIRE_DELETE, { "jsonrpc", NULL }, NULL, 0 },
		{ WIRE_DELETE, { "id", NULL }, NULL, 0 },
		{ WIRE_DELETE, { "params", "server", NULL }, NULL, 0 },
		{ WIRE_DELETE, { "params", "thread", NULL }, NULL, 0 },
		{ WIRE_DELETE, { "params", "timeout_ms", NULL }, NULL, 0 },
		{ WIRE_SET, { "params", "_meta", "progressToken", NULL },
		    token, token_len },
	};
	char	*tail;

	tail = wire_rewrite(msg->line, msg->line_len, e, token != NULL ?
	    6 : 5, 1, lenp);
	/* {"method":...} becomes ,"method":...}: what follows the id. */
	if (tail != NULL)
		tail[0] = ',';
	return (tail);
}

/* Forward an MCP request to its session (msg stays the caller's). */
static void
dispatch_forward(struct broker *b, struct front *f, struct jsonrpc_msg *msg,
    const struct route *route)
{
	const struct server_conf	*sc;
	struct session			*s;
	struct request			*req;
	static const char *const	 path[] = { "params", "_meta",
					    "progressToken", NULL };
	struct scan_member		 m;
	cJSON				*id;
	char				 token[24], *tail;
	size_t				 len;
	int64_t				 child_token = 0;
	int				 n = 0;
	enum request_kind		 kind;

	id = jsonrpc_id_raw(msg->id_text, msg->id_len);
	if ((sc = broker_find_server(b, f, id, route->server)) == NULL ||
	    (s = broker_session_for(b, f, id, sc, route->thread)) == NULL) {
		cJSON_Delete(id);
		return;
	}
	if (route->progress_token != NULL) {
		/* Tokens must be unique among a child's active requests,
		   and two clients may well pick the same one. */
		child_token = broker_next_token(b);
		n = snprintf(token, sizeof token, "%lld",
		    (long long)child_token);
	}
	if ((tail = dispatch_tail(msg, n > 0 ? token : NULL, (size_t)n,
	    &len)) == NULL)
		fatalx("dispatch_forward: a parsed line is not an object");
	kind = task_request_kind(msg->method, msg->params);
	req = request_new(f, kind, id, msg->id_text, msg->id_len);
	request_set_text(req, tail, len);
	if (child_token != 0 && scan_path(msg->line, msg->line_len, path,
	    &m) == 0) {
		request_set_token(req, jsonrpc_id_raw(m.value.p, m.value.len));
		request_set_child_token(req, child_token);
	}
	/* Waiting for a task or a subscription: not request_timeout_s. */
	broker_submit(b, s, req, route->timeout_ms == 0 &&
	    task_long_lived(kind) ? (long)broker_config(b)->
	    max_request_timeout_s * 1000 : dispatch_timeout_ms(b, sc,
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
	struct route_fault		 fault;
	cJSON				*id;
	char				 server[ROUTE_SERVER_MAX + 1];
	char				 thread[ROUTE_THREAD_MAX + 1], *tail;
	size_t				 len;

	/* A name the rule refuses is refused by the full path, and so is a
	   request about tasks or subscriptions. */
	if (broker_exiting(b) || task_scan_special(rq) ||
	    route_check_name("server", rq->server, rq->server_len, 0,
	    &fault) != 0 ||
	    route_check_name("thread", rq->thread, rq->thread_len, 0,
	    &fault) != 0)
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

	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "version", BROKER_VERSION);
	cJSON_AddNumberToObject(r, "pid", getpid());
	cJSON_AddNumberToObject(r, "uptime_s", (double)(long)broker_uptime(b));
	cJSON_AddNumberToObject(r, "max_sessions",
	    broker_config(b)->max_sessions);
	cJSON_AddNumberToObject(r, "clients", (double)broker_nclients(b));
	list = broker_list_sessions(b, f);
	if (route->rss)
		proctree_add_rss(broker_proctree_cache(b), list);
	cJSON_AddItemToObject(r, "sessions", list);
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
	/* With create, a session still starting is described once ready,
	   as a new one is: its capabilities are not known before. */
	if (s != NULL && !(route->create &&
	    session_state(s) == SESSION_STARTING)) {
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
	if (s == NULL && ((sc = broker_find_server(b, f, id,
	    route->server)) == NULL ||
	    (s = broker_session_for(b, f, id, sc, route->thread)) == NULL)) {
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

/*
 * broker/logs: the stderr tail of a session the caller may see (its own,
 * or for an admin anyone's), and with "follow": true each new line after
 * it until the session is over (follow.c).
 */
static void
dispatch_logs(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	struct session	*s;
	cJSON		*data, *tail, *r;

	s = broker_lookup_visible(b, f, route->server, route->thread);
	if (s == NULL) {
		data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "server", route->server);
		cJSON_AddStringToObject(data, "thread", route->thread);
		front_send_errorf(f, id, RPC_INVALID_PARAMS, data, "No session "
		    "for server '%.64s' thread '%.256s'.", route->server,
		    route->thread);
		return;
	}
	data = session_error_data(s, 1);
	tail = cJSON_DetachItemFromObjectCaseSensitive(data, "stderr_tail");
	cJSON_Delete(data);
	if (route->follow) {
		follow_start(broker_follows(b), f, id, s, tail);
		return;
	}
	r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "lines", tail);
	dispatch_reply(f, id, r);
}

/* broker/hello: what this client can answer for the servers. */
static void
dispatch_hello(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	cJSON	*r;

	(void)b;
	front_declare(f, route->capabilities);
	f->notifications = route->notifications;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "version", BROKER_VERSION);
	cJSON_AddNumberToObject(r, "uid", f->uid);
	cJSON_AddBoolToObject(r, "admin", f->admin);
	dispatch_reply(f, id, r);
}

/*
 * broker/metrics: the OpenMetrics text /metrics serves (admins only: it
 * counts every user's sessions).
 */
static void
dispatch_metrics(struct broker *b, struct front *f, cJSON *id,
    const struct route *route)
{
	cJSON	*r;
	char	*text;
	size_t	 len;

	(void)route;
	if (!f->admin) {
		front_send_errorf(f, id, RPC_FORBIDDEN, NULL, "Only root, the "
		    "daemon's own user and admin_group may read the "
		    "metrics.");
		return;
	}
	text = metrics_text(b, &len);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "content_type", METRICS_CONTENT_TYPE);
	cJSON_AddStringToObject(r, "text", text);
	free(text);
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
