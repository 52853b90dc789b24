/*
 * Routing: client requests to sessions by (uid, server, thread), the
 * broker's own methods, and the session table's capacity rules.
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "broker.h"
#include "child.h"
#include "config.h"
#include "conn.h"
#include "errors.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "route.h"
#include "scan.h"
#include "service.h"
#include "session.h"
#include "table.h"
#include "xmalloc.h"

typedef void (*broker_method_fn)(struct broker *, struct conn *, cJSON *,
    const struct route *);

static void	broker_status(struct broker *, struct conn *, cJSON *,
		    const struct route *);
static void	broker_session(struct broker *, struct conn *, cJSON *,
		    const struct route *);
static void	broker_close(struct broker *, struct conn *, cJSON *,
		    const struct route *);
static void	broker_servers(struct broker *, struct conn *, cJSON *,
		    const struct route *);
static void	broker_reload_method(struct broker *, struct conn *, cJSON *,
		    const struct route *);
static void	broker_hello(struct broker *, struct conn *, cJSON *,
		    const struct route *);

/* The counters broker/status shows, by name. */
static const struct {
	const char	*name;
	size_t		 offset;
} broker_counter_names[] = {
#define BROKER_COUNTER(name) { #name, offsetof(struct broker_counters, name) }
	BROKER_COUNTER(sessions_started),
	BROKER_COUNTER(sessions_evicted),
	BROKER_COUNTER(sessions_exited),
	BROKER_COUNTER(sessions_closed),
	BROKER_COUNTER(sessions_expired),
	BROKER_COUNTER(timeouts),
	BROKER_COUNTER(reloads),
	BROKER_COUNTER(requests),
	BROKER_COUNTER(errors),
	BROKER_COUNTER(clients_accepted),
#undef BROKER_COUNTER
};

/* The broker's own methods, by enum route_method. */
static const broker_method_fn broker_methods[] = {
	[ROUTE_STATUS] = broker_status,
	[ROUTE_SESSION] = broker_session,
	[ROUTE_CLOSE] = broker_close,
	[ROUTE_SERVERS] = broker_servers,
	[ROUTE_RELOAD] = broker_reload_method,
	[ROUTE_HELLO] = broker_hello,
};

static void	 broker_forward(struct broker *, struct conn *, cJSON *,
		     const struct route *);
static const struct server_conf *broker_find_server(struct broker *,
		     struct conn *, cJSON *, const char *);
static struct session *broker_session_for(struct broker *, struct conn *,
		     cJSON *, const struct server_conf *, const char *);
static void	 broker_evict(struct broker *, struct table_entry *);
static void	 broker_submit(struct broker *, struct conn *, struct session *,
		     const struct server_conf *, const struct route *,
		     struct request *);
static void	 broker_request_timeout_cb(evutil_socket_t, short, void *);
static void	 broker_request_arm(struct request *);
static void	 broker_idle_cb(evutil_socket_t, short, void *);
static void	 broker_idle_arm(struct broker *, double);
static double	 broker_now(void);
static int	 broker_idle_timeout(struct broker *, const char *);
static void	 broker_add_name(cJSON *, const char *);
static int	 broker_timeout_ms(struct broker *, const struct server_conf *,
		     const struct route *);
static void	 broker_remove(struct broker *, struct table_entry *, int);
static int	 broker_is_admin(struct broker *, struct conn *);
static int	 broker_peer_in_group(gid_t, gid_t, const gid_t *, int);
static int	 broker_visible(struct broker *, struct conn *,
		     struct table_entry *);
static cJSON	*broker_server_data(const char *);
static cJSON	*broker_server_list(struct broker *);
static void	 broker_reply(struct conn *, cJSON *, cJSON *);
static void	 broker_fail(struct conn *, cJSON *, int, cJSON *,
		     const char *, ...) __attribute__((format(printf, 5, 6)));

/* Set up the broker state main owns. */
void
broker_init(struct broker *b, struct event_base *base, struct config *conf,
    const char *config_path)
{
	memset(b, 0, sizeof *b);
	b->base = base;
	b->conf = conf;
	b->config_path = config_path != NULL ? xstrdup(config_path) : NULL;
	b->table = table_new();
	b->children = child_list_new();
	TAILQ_INIT(&b->conns);
	b->started = time(NULL);
	b->euid = geteuid();
	b->level_override = -1;
	b->idle_timer = evtimer_new(base, broker_idle_cb, b);
}

/*
 * Begin shutting down: every session is closed at once, and whatever is
 * queued or in flight is answered -32016. New requests get -32016 too.
 */
void
broker_shutdown(struct broker *b)
{
	struct table_entry	*e, *next;
	struct session		*s;

	b->exiting = 1;
	evtimer_del(b->idle_timer);
	for (e = table_first(b->table); e != NULL; e = next) {
		next = table_next(b->table, e);
		s = table_value(e);
		broker_remove(b, e, 0);
		session_close(s, RPC_SHUTTING_DOWN,
		    "the broker is shutting down");
	}
}

/* Free what broker_init() made; sessions and conns must be gone. */
void
broker_free(struct broker *b)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&b->conns)) != NULL)
		conn_drop(c, "the broker is exiting");
	table_free(b->table);
	child_list_free(b->children);
	event_free(b->idle_timer);
	free(b->config_path);
	free(b->socket_override);
}

/* Answer id with result on c; takes both. */
static void
broker_reply(struct conn *c, cJSON *id, cJSON *result)
{
	conn_send(c, jsonrpc_result(id, result));
}

/* Answer id with an error on c; takes id and data. */
static void
broker_fail(struct conn *c, cJSON *id, int code, cJSON *data,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*message;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	conn_send_error(c, id, code, message, data);
	free(message);
}

/* {"server": name}: the data of -32010 and -32014. */
static cJSON *
broker_server_data(const char *server)
{
	cJSON	*data;

	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "server", server);
	return (data);
}

/*
 * A request from a client; takes msg. broker/ methods are answered here,
 * everything else is forwarded to the session for its key.
 */
void
broker_dispatch(struct broker *b, struct conn *c, cJSON *msg)
{
	struct route		 route;
	struct route_fault	 fault;
	cJSON			*id, *params;
	const char		*method;

	method = cJSON_GetObjectItemCaseSensitive(msg, "method")->valuestring;
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (b->exiting) {
		broker_fail(c, cJSON_DetachItemFromObjectCaseSensitive(msg, "id"),
		    RPC_SHUTTING_DOWN, NULL, "The broker is shutting down; "
		    "retry once it is back.");
		cJSON_Delete(msg);
		return;
	}
	if (route_parse(method, params, &route, &fault) != 0) {
		conn_send_error(c, cJSON_DetachItemFromObjectCaseSensitive(msg,
		    "id"), fault.code, fault.message, NULL);
		cJSON_Delete(msg);
		return;
	}
	if (route.method == ROUTE_FORWARD) {
		broker_forward(b, c, msg, &route);
		return;
	}
	id = cJSON_DetachItemFromObjectCaseSensitive(msg, "id");
	if (route.method >= sizeof broker_methods / sizeof *broker_methods ||
	    broker_methods[route.method] == NULL)
		broker_fail(c, id, RPC_METHOD_NOT_FOUND, NULL, "%s is not "
		    "supported by this version of mcp-broker.", method);
	else
		broker_methods[route.method](b, c, id, &route);
	cJSON_Delete(msg);
}

/*
 * A notification from a client; takes msg. notifications/cancelled for
 * one of its requests is passed on to the child under the child's id;
 * the rest have nowhere to go and are dropped.
 */
void
broker_notify(struct broker *b, struct conn *c, cJSON *msg)
{
	struct request	*req;
	cJSON		*method, *params, *id;

	(void)b;
	method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (strcmp(method->valuestring, "notifications/cancelled") == 0 &&
	    (id = cJSON_GetObjectItemCaseSensitive(params, "requestId")) !=
	    NULL && (req = conn_find_request(c, id)) != NULL) {
		if (req->session != NULL)
			session_cancel(req->session, req);
		request_free(req);
	}
	cJSON_Delete(msg);
}

/*
 * The configured, enabled server called name, or NULL after answering
 * -32010 (a copy of id) on c.
 */
static const struct server_conf *
broker_find_server(struct broker *b, struct conn *c, cJSON *id,
    const char *name)
{
	const struct server_conf	*sc;

	sc = config_find_server(b->conf, name);
	if (sc == NULL || sc->disabled) {
		broker_fail(c, cJSON_Duplicate(id, 1), RPC_UNKNOWN_SERVER,
		    broker_server_data(name), sc == NULL ? "Unknown server "
		    "'%.64s'; broker/servers lists the configured ones." :
		    "Server '%.64s' is disabled in the configuration.", name);
		return (NULL);
	}
	return (sc);
}

/*
 * The session for (client uid, server, thread): the live one, or a new
 * one (evicting the least recently used idle session at a cap). Returns
 * NULL after answering the error.
 */
static struct session *
broker_session_for(struct broker *b, struct conn *c, cJSON *id,
    const struct server_conf *sc, const char *thread)
{
	struct table_entry	*e, *victim;
	struct session		*s;
	cJSON			*data;
	char			*cause;
	uid_t			 uid = conn_uid(c);
	unsigned		 generation;

	if ((e = table_find(b->table, uid, sc->name, thread)) != NULL) {
		table_touch(b->table, e);
		return (table_value(e));
	}

	if (sc->max_sessions > 0 &&
	    table_count_server(b->table, sc->name) >=
	    (size_t)sc->max_sessions) {
		if ((victim = table_lru_idle(b->table, sc->name)) == NULL) {
			broker_fail(c, cJSON_Duplicate(id, 1), RPC_AT_CAPACITY,
			    broker_server_data(sc->name), "All %d sessions of "
			    "server '%s' are busy (mcpServers.%s.max_sessions); "
			    "retry when one is idle.", sc->max_sessions,
			    sc->name, sc->name);
			return (NULL);
		}
		broker_evict(b, victim);
	}
	if (table_count(b->table) >= (size_t)b->conf->max_sessions) {
		if ((victim = table_lru_idle(b->table, NULL)) == NULL) {
			broker_fail(c, cJSON_Duplicate(id, 1), RPC_AT_CAPACITY,
			    broker_server_data(sc->name), "All %d sessions are "
			    "busy (broker.max_sessions); retry when one is "
			    "idle.", b->conf->max_sessions);
			return (NULL);
		}
		broker_evict(b, victim);
	}

	generation = table_recall(b->table, uid, sc->name, thread) + 1;
	if ((s = session_start(b, sc, uid, thread, generation, &cause)) ==
	    NULL) {
		data = broker_server_data(sc->name);
		cJSON_AddStringToObject(data, "thread", thread);
		cJSON_AddItemToObject(data, "stderr_tail",
		    cJSON_CreateArray());
		broker_fail(c, cJSON_Duplicate(id, 1), RPC_START_FAILED, data,
		    "Could not start server '%s': %s.", sc->name, cause);
		log_warnx("cannot start %s: %s", sc->name, cause);
		free(cause);
		return (NULL);
	}
	table_forget(b->table, uid, sc->name, thread);
	e = table_insert(b->table, uid, sc->name, thread, s);
	session_set_entry(s, e);
	return (s);
}

/* Forward an MCP request to its session; takes msg. */
static void
broker_forward(struct broker *b, struct conn *c, cJSON *msg,
    const struct route *route)
{
	const struct server_conf	*sc;
	struct session			*s;
	struct request			*req;
	cJSON				*id, *params;

	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	if ((sc = broker_find_server(b, c, id, route->server)) == NULL ||
	    (s = broker_session_for(b, c, id, sc, route->thread)) == NULL) {
		cJSON_Delete(msg);
		return;
	}
	req = xcalloc(1, sizeof *req);
	req->kind = REQUEST_FORWARD;
	req->client_id = cJSON_DetachItemFromObjectCaseSensitive(msg, "id");
	cJSON_AddNumberToObject(msg, "id", 0);	/* the session sets it */
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	route_strip(params);
	if (route->progress_token != NULL) {
		/* Tokens must be unique among a child's active requests,
		   and two clients may well pick the same one. */
		req->client_token = cJSON_Duplicate(route->progress_token, 1);
		req->child_token = ++b->next_token;
		mcp_set_progress_token(params,
		    cJSON_CreateNumber((double)req->child_token));
	}
	req->msg = msg;
	broker_submit(b, c, s, sc, route, req);
}

/*
 * Start a forwarded request's clock and hand it to its session: the
 * common end of broker_forward() and broker_forward_text().
 */
static void
broker_submit(struct broker *b, struct conn *c, struct session *s,
    const struct server_conf *sc, const struct route *route,
    struct request *req)
{
	struct timeval	now, max;

	req->timeout_ms = broker_timeout_ms(b, sc, route);
	evtimer_assign(&req->timer, b->base, broker_request_timeout_cb, req);
	req->timer_set = 1;
	evutil_gettimeofday(&now, NULL);
	max.tv_sec = b->conf->max_request_timeout_s;
	max.tv_usec = 0;
	req->max_ms = (long)max.tv_sec * 1000;
	timeradd(&now, &max, &req->deadline_max);
	broker_request_arm(req);
	conn_add_request(c, req);
	session_submit(s, req);
}

/*
 * The fast path for the common request: a forwarded call that needs no
 * rewriting beyond its routing members, scanned as text by
 * scan_request(). It is passed on as text, never built into a tree.
 * Returns 0 once the request is taken or answered, -1 if the full parser
 * must look at it (nothing was done then).
 */
int
broker_forward_text(struct broker *b, struct conn *c,
    const struct scan_request *rq)
{
	const struct server_conf	*sc;
	struct session			*s;
	struct request			*req;
	static const char		 tail_method[] = ",\"method\":";
	static const char		 tail_params[] = ",\"params\":{";
	struct route			 route;
	cJSON				*id;
	char				 server[BROKER_SERVER_MAX + 1];
	char				 thread[ROUTE_THREAD_MAX + 1], *p;
	size_t				 i, len;
	int				 first = 1;

	if (b->exiting || rq->server_len == 0 || rq->thread_len == 0 ||
	    rq->server_len >= sizeof server || rq->thread_len > ROUTE_THREAD_MAX)
		return (-1);

	id = scan_request_id(rq);

	memcpy(server, rq->server, rq->server_len);
	server[rq->server_len] = '\0';
	memcpy(thread, rq->thread, rq->thread_len);
	thread[rq->thread_len] = '\0';
	memset(&route, 0, sizeof route);
	route.method = ROUTE_FORWARD;
	route.server = server;
	route.thread = thread;
	if ((sc = broker_find_server(b, c, id, server)) == NULL ||
	    (s = broker_session_for(b, c, id, sc, thread)) == NULL) {
		cJSON_Delete(id);
		return (0);
	}

	/* ,"method":M,"params":{members but server and thread}}\n */
	len = sizeof tail_method - 1 + rq->method_len + sizeof tail_params - 1 +
	    3;
	for (i = 0; i < rq->nmembers; i++) {
		if (rq->member[i] != NULL)
			len += rq->member_len[i] + 1;
	}
	req = xcalloc(1, sizeof *req);
	req->kind = REQUEST_FORWARD;
	req->client_id = id;
	if (rq->id_len < sizeof req->id_text)
		memcpy(req->id_text, rq->id, rq->id_len);
	req->tail = p = xmalloc(len);
	memcpy(p, tail_method, sizeof tail_method - 1);
	p += sizeof tail_method - 1;
	memcpy(p, rq->method, rq->method_len);
	p += rq->method_len;
	memcpy(p, tail_params, sizeof tail_params - 1);
	p += sizeof tail_params - 1;
	for (i = 0; i < rq->nmembers; i++) {
		if (rq->member[i] == NULL)
			continue;
		if (!first)
			*p++ = ',';
		memcpy(p, rq->member[i], rq->member_len[i]);
		p += rq->member_len[i];
		first = 0;
	}
	memcpy(p, "}}\n", 3);
	p += 3;
	req->tail_len = (size_t)(p - req->tail);
	broker_submit(b, c, s, sc, &route, req);
	return (0);
}

/*
 * A text request bound for a session that needs it as a tree (the
 * 2026-07-28 _meta members go into its params).
 */
void
request_tail_to_msg(struct request *req)
{
	char	*line;

	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":0%.*s",
	    (int)req->tail_len, req->tail);
	req->msg = cJSON_Parse(line);	/* scanned valid on arrival */
	free(line);
	free(req->tail);
	req->tail = NULL;
}

/* Evict an idle session to make room; its key keeps its generation. */
static void
broker_evict(struct broker *b, struct table_entry *e)
{
	struct session	*s = table_value(e);

	b->counters.sessions_evicted++;
	broker_remove(b, e, 1);
	session_close(s, RPC_SESSION_LOST, "evicted: the least recently used "
	    "idle session at capacity");
}

/*
 * Take a session out of the table. remember: the key's next session
 * counts on from this generation (crash, eviction); otherwise the key is
 * forgotten (broker/close) and starts again at 1.
 */
static void
broker_remove(struct broker *b, struct table_entry *e, int remember)
{
	struct session	*s = table_value(e);

	if (remember)
		table_remember(b->table, table_uid(e), table_server(e),
		    table_thread(e), session_generation(s));
	else
		table_forget(b->table, table_uid(e), table_server(e),
		    table_thread(e));
	table_remove(b->table, e);
	session_set_entry(s, NULL);
}

/* A session ended on its own (exit, broken pipe, failed start). */
void
broker_session_ended(struct broker *b, struct session *s)
{
	struct table_entry	*e;

	if ((e = session_entry(s)) == NULL)
		return;
	b->counters.sessions_exited++;
	broker_remove(b, e, 1);
}

/*
 * Send a child's answer (taken) to the client under its own id, and free
 * the request. It leaves its conn first: sending may drop the conn,
 * which frees whatever requests it still holds.
 */
void
request_answer(struct request *req, cJSON *answer)
{
	struct conn	*c = req->conn;

	if (c != NULL) {
		conn_remove_request(c, req);
		cJSON_DeleteItemFromObjectCaseSensitive(answer, "id");
		cJSON_AddItemToObject(answer, "id", req->client_id);
		req->client_id = NULL;
		if (cJSON_GetObjectItemCaseSensitive(answer, "error") != NULL)
			conn_broker(c)->counters.errors++;
		conn_send(c, answer);
	} else
		cJSON_Delete(answer);
	request_free(req);
}

/*
 * Send a child's success result to the client as text: the result's
 * members (body, without braces) with the session's _meta (meta, an
 * object's text) spliced in, under the client's id. Free the request.
 */
void
request_answer_text(struct request *req, const char *meta, const char *body,
    size_t len)
{
	struct conn	*c = req->conn;
	char		 small[128], *id = req->id_text;

	if (c != NULL) {
		conn_remove_request(c, req);
		/* Printed only if the client's text was not kept. */
		if (*id == '\0' && !cJSON_PrintPreallocated(req->client_id,
		    id = small, sizeof small, 0))
			id = cJSON_PrintUnformatted(req->client_id);
		conn_send_result(c, id, meta, body, len);
		if (id != small && id != req->id_text)
			free(id);
	}
	request_free(req);
}

/* Answer the request with an error (takes data) and free it. */
void
request_fail(struct request *req, int code, const char *message,
    cJSON *data)
{
	struct conn	*c = req->conn;

	if (c != NULL) {
		conn_remove_request(c, req);
		conn_send_error(c, req->client_id, code, message, data);
		req->client_id = NULL;
	} else
		cJSON_Delete(data);
	request_free(req);
}

/*
 * The request's clock: timeout_ms from now, but never past the request's
 * max_request_timeout_s from its start, however often progress restarts
 * it.
 */
static void
broker_request_arm(struct request *req)
{
	struct timeval	now, tv, left;

	evutil_gettimeofday(&now, NULL);
	tv.tv_sec = req->timeout_ms / 1000;
	tv.tv_usec = (req->timeout_ms % 1000) * 1000;
	if (timercmp(&now, &req->deadline_max, <)) {
		timersub(&req->deadline_max, &now, &left);
		if (timercmp(&left, &tv, <))
			tv = left;
	} else
		timerclear(&tv);
	evtimer_add(&req->timer, &tv);
}

/* The timeout for a request: the call's, else the server's or broker's. */
static int
broker_timeout_ms(struct broker *b, const struct server_conf *sc,
    const struct route *route)
{
	if (route->timeout_ms > 0)
		return ((int)route->timeout_ms);
	if (sc->request_timeout_s != CONFIG_UNSET)
		return (sc->request_timeout_s * 1000);
	return (b->conf->request_timeout_s * 1000);
}

/*
 * A request ran out of time: the client gets -32013, the child a cancel,
 * and a late answer is dropped (the request is no longer in flight).
 */
static void
broker_request_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct request	*req = arg;
	struct session	*s = req->session;
	struct timeval	 now;
	cJSON		*data;
	char		*message;
	long		 limit;

	(void)fd;
	(void)events;
	data = cJSON_CreateObject();
	if (s != NULL) {
		cJSON_AddStringToObject(data, "server", session_server(s));
		cJSON_AddStringToObject(data, "thread", session_thread(s));
	}
	evutil_gettimeofday(&now, NULL);
	if (!timercmp(&now, &req->deadline_max, <)) {
		/* Progress kept it alive up to the hard cap. */
		limit = req->max_ms;
		xasprintf(&message, "The request ran into max_request_timeout_s "
		    "(%ld ms) despite its progress; the server was told to "
		    "cancel it.", limit);
	} else {
		limit = req->timeout_ms;
		xasprintf(&message, "The request timed out after %ld ms "
		    "(timeout_ms or request_timeout_s); the server was told to "
		    "cancel it.", limit);
	}
	cJSON_AddNumberToObject(data, "timeout_ms", (double)limit);
	if (req->conn != NULL)
		conn_broker(req->conn)->counters.timeouts++;
	if (s != NULL)
		session_cancel(s, req);
	request_fail(req, RPC_TIMEOUT, message, data);
	free(message);
}

/*
 * The child reported progress on req: pass it to the client under the
 * client's own token, and restart the request's clock.
 */
void
request_progress(struct request *req, const cJSON *params)
{
	cJSON	*copy;

	broker_request_arm(req);
	if (req->conn == NULL || req->client_token == NULL)
		return;
	copy = cJSON_Duplicate(params, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "progressToken");
	cJSON_AddItemToObject(copy, "progressToken",
	    cJSON_Duplicate(req->client_token, 1));
	conn_send(req->conn, jsonrpc_notification("notifications/progress",
	    copy));
}

/* Free a request no session holds any more. */
void
request_free(struct request *req)
{
	if (req->conn != NULL)
		conn_remove_request(req->conn, req);
	if (req->timer_set)
		evtimer_del(&req->timer);
	cJSON_Delete(req->client_id);
	cJSON_Delete(req->client_token);
	cJSON_Delete(req->msg);
	free(req->tail);
	free(req);
}

/* Whether the peer is an admin: it sees and manages every session. */
static int
broker_is_admin(struct broker *b, struct conn *c)
{
	(void)b;
	return (conn_admin(c));
}

/* Whether gid is the peer's group or one of its supplementary groups. */
static int
broker_peer_in_group(gid_t gid, gid_t primary, const gid_t *groups, int n)
{
	int	i;

	if (gid == primary)
		return (1);
	for (i = 0; i < n; i++) {
		if (groups[i] == gid)
			return (1);
	}
	return (0);
}

/*
 * Whether a peer may use the broker at all: with no allow list, anyone
 * who can open the socket may (its mode and group decide); with one, the
 * peer must be listed by uid or group. Root and the daemon's own user
 * always may.
 */
int
broker_peer_allowed(struct broker *b, uid_t uid, gid_t gid,
    const gid_t *groups, int ngroups)
{
	const struct config	*conf = b->conf;
	size_t			 i;

	if (!conf->allow_uids_set && !conf->allow_groups_set)
		return (1);
	if (uid == 0 || uid == b->euid)
		return (1);
	for (i = 0; i < conf->nallow_uids; i++) {
		if (conf->allow_uids[i] == uid)
			return (1);
	}
	for (i = 0; i < conf->nallow_groups; i++) {
		if (broker_peer_in_group(conf->allow_groups[i], gid, groups,
		    ngroups))
			return (1);
	}
	return (0);
}

/* Whether a peer is an admin: root, the daemon's user, admin_group. */
int
broker_peer_admin(struct broker *b, uid_t uid, gid_t gid,
    const gid_t *groups, int ngroups)
{
	if (uid == 0 || uid == b->euid)
		return (1);
	return (b->conf->admin_group_set && broker_peer_in_group(
	    b->conf->admin_group, gid, groups, ngroups));
}

/* Whether c may see (and close) the session of e. */
static int
broker_visible(struct broker *b, struct conn *c, struct table_entry *e)
{
	return (broker_is_admin(b, c) || table_uid(e) == conn_uid(c));
}

/* broker/status: the daemon, its sessions, servers and counters. */
static void
broker_status(struct broker *b, struct conn *c, cJSON *id,
    const struct route *route)
{
	struct table_entry	*e;
	cJSON			*r, *list, *counters;
	size_t			 i;

	(void)route;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "version", BROKER_VERSION);
	cJSON_AddNumberToObject(r, "pid", getpid());
	cJSON_AddNumberToObject(r, "uptime_s",
	    (double)(time(NULL) - b->started));
	cJSON_AddNumberToObject(r, "max_sessions", b->conf->max_sessions);
	cJSON_AddNumberToObject(r, "clients", (double)b->nconns);
	list = cJSON_AddArrayToObject(r, "sessions");
	for (e = table_first(b->table); e != NULL; e = table_next(b->table, e))
		if (broker_visible(b, c, e))
			cJSON_AddItemToArray(list,
			    session_describe(table_value(e), 0));
	cJSON_AddItemToObject(r, "servers", broker_server_list(b));
	counters = cJSON_AddObjectToObject(r, "counters");
	for (i = 0; i < sizeof broker_counter_names /
	    sizeof *broker_counter_names; i++)
		cJSON_AddNumberToObject(counters, broker_counter_names[i].name,
		    (double)*(const uint64_t *)((const char *)&b->counters +
		    broker_counter_names[i].offset));
	broker_reply(c, id, r);
}

/* The configured servers and their session counts (never their env). */
static cJSON *
broker_server_list(struct broker *b)
{
	const struct server_conf	*sc;
	cJSON				*list, *o;
	size_t				 i;

	list = cJSON_CreateArray();
	for (i = 0; i < b->conf->nservers; i++) {
		sc = &b->conf->servers[i];
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", sc->name);
		cJSON_AddNumberToObject(o, "sessions",
		    (double)table_count_server(b->table, sc->name));
		cJSON_AddNumberToObject(o, "max_sessions", sc->max_sessions);
		cJSON_AddBoolToObject(o, "disabled", sc->disabled);
		cJSON_AddItemToArray(list, o);
	}
	return (list);
}

/* broker/servers: the configured servers. */
static void
broker_servers(struct broker *b, struct conn *c, cJSON *id,
    const struct route *route)
{
	(void)route;
	broker_reply(c, id, broker_server_list(b));
}

/*
 * broker/session: one of the caller's sessions in full. With "create":
 * true a missing session is started and the answer waits until it is
 * ready (or fails with -32011 like any request).
 */
static void
broker_session(struct broker *b, struct conn *c, cJSON *id,
    const struct route *route)
{
	const struct server_conf	*sc;
	struct table_entry		*e;
	struct session			*s;
	struct request			*req;
	cJSON				*data;

	e = table_find(b->table, conn_uid(c), route->server, route->thread);
	if (e != NULL) {
		broker_reply(c, id, session_describe(table_value(e), 1));
		return;
	}
	if (!route->create) {
		data = broker_server_data(route->server);
		cJSON_AddStringToObject(data, "thread", route->thread);
		broker_fail(c, id, RPC_INVALID_PARAMS, data, "No session for "
		    "server '%.64s' thread '%.256s'; pass \"create\": true to "
		    "start one.", route->server, route->thread);
		return;
	}
	if ((sc = broker_find_server(b, c, id, route->server)) == NULL ||
	    (s = broker_session_for(b, c, id, sc, route->thread)) == NULL) {
		cJSON_Delete(id);
		return;
	}
	req = xcalloc(1, sizeof *req);
	req->kind = REQUEST_SESSION_INFO;
	req->client_id = id;
	conn_add_request(c, req);
	session_submit(s, req);
}

/*
 * broker/close: the caller's sessions matching {"thread"}, {"server"},
 * {"server","thread"} or {"all":true}. The keys are forgotten, so the
 * next session for one starts at generation 1.
 */
static void
broker_close(struct broker *b, struct conn *c, cJSON *id,
    const struct route *route)
{
	struct table_entry	*e, *next;
	struct session		*s;
	cJSON			*r;
	const char		*server = route->server, *thread = route->thread;
	int			 closed = 0;

	if (server != NULL && config_find_server(b->conf, server) == NULL) {
		broker_fail(c, id, RPC_UNKNOWN_SERVER, broker_server_data(server),
		    "Unknown server '%.64s'; broker/servers lists the "
		    "configured ones.", server);
		return;
	}
	for (e = table_first(b->table); e != NULL; e = next) {
		next = table_next(b->table, e);
		if (!broker_visible(b, c, e))
			continue;
		if (server != NULL && strcmp(table_server(e), server) != 0)
			continue;
		if (thread != NULL && strcmp(table_thread(e), thread) != 0)
			continue;
		s = table_value(e);
		broker_remove(b, e, 0);
		session_close(s, RPC_SESSION_LOST, "broker/close");
		b->counters.sessions_closed++;
		closed++;
	}
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "closed", closed);
	broker_reply(c, id, r);
}

/* Monotonic seconds, the clock of idle expiry. */
static double
broker_now(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
}

/* The idle timeout of a server's sessions in seconds; 0: never. */
static int
broker_idle_timeout(struct broker *b, const char *server)
{
	const struct server_conf	*sc;

	sc = config_find_server(b->conf, server);
	if (sc != NULL && sc->idle_timeout_s != CONFIG_UNSET)
		return (sc->idle_timeout_s);
	return (b->conf->idle_timeout_s);
}

/* Make sure the idle timer fires by deadline (monotonic seconds). */
static void
broker_idle_arm(struct broker *b, double deadline)
{
	struct timeval	tv;
	double		left;

	if (b->exiting || (b->idle_deadline != 0 &&
	    b->idle_deadline <= deadline))
		return;
	b->idle_deadline = deadline;
	left = deadline - broker_now();
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6) + 1;
	evtimer_add(b->idle_timer, &tv);
}

/* A session has no request left: it may expire from now on. */
void
broker_session_idle(struct broker *b, struct session *s)
{
	int	timeout = broker_idle_timeout(b, session_server(s));

	if (timeout > 0)
		broker_idle_arm(b, session_idle_since(s) + timeout);
}

/*
 * Close the sessions idle past their timeout. Each server's idle list is
 * in idle order, so only its tail is looked at: the work is one look per
 * server plus one per session that expires, never a walk of them all.
 */
static void
broker_idle_cb(evutil_socket_t fd, short events, void *arg)
{
	struct broker		*b = arg;
	struct table_entry	*e;
	struct session		*s;
	double			 now = broker_now(), next = 0, due;
	size_t			 i;
	int			 timeout;
	char			*why;

	(void)fd;
	(void)events;
	b->idle_deadline = 0;
	for (i = 0; i < b->conf->nservers; i++) {
		timeout = broker_idle_timeout(b, b->conf->servers[i].name);
		if (timeout == 0)
			continue;
		while ((e = table_lru_idle(b->table,
		    b->conf->servers[i].name)) != NULL) {
			s = table_value(e);
			due = session_idle_since(s) + timeout;
			if (due > now) {
				if (next == 0 || due < next)
					next = due;
				break;
			}
			b->counters.sessions_expired++;
			broker_remove(b, e, 1);
			xasprintf(&why, "idle for %d s (idle_timeout_s)",
			    timeout);
			session_close(s, RPC_SESSION_LOST, why);
			free(why);
		}
	}
	if (next != 0)
		broker_idle_arm(b, next);
}

/* broker/hello: what this client can answer for the servers. */
static void
broker_hello(struct broker *b, struct conn *c, cJSON *id,
    const struct route *route)
{
	cJSON	*r;

	conn_set_capabilities(c, route->sampling, route->elicitation);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "version", BROKER_VERSION);
	cJSON_AddNumberToObject(r, "uid", conn_uid(c));
	cJSON_AddBoolToObject(r, "admin", broker_is_admin(b, c));
	broker_reply(c, id, r);
}

/* broker/reload: re-read the config file (admins only). */
static void
broker_reload_method(struct broker *b, struct conn *c, cJSON *id,
    const struct route *route)
{
	cJSON	*result, *errors, *data;

	(void)route;
	if (!broker_is_admin(b, c)) {
		broker_fail(c, id, RPC_FORBIDDEN, NULL, "Only root, the "
		    "daemon's own user and admin_group may reload the "
		    "configuration.");
		return;
	}
	if (broker_reload(b, &result, &errors) != 0) {
		data = cJSON_CreateObject();
		cJSON_AddItemToObject(data, "errors", errors);
		broker_fail(c, id, RPC_CONFIG_INVALID, data, "The configuration "
		    "file is invalid; nothing was changed.");
		return;
	}
	broker_reply(c, id, result);
}

/* Append name to a JSON array of strings. */
static void
broker_add_name(cJSON *list, const char *name)
{
	cJSON_AddItemToArray(list, cJSON_CreateString(name));
}

/*
 * Re-read the config file. A bad file changes nothing: returns -1 with
 * *errors (the messages). Otherwise the new config takes over: sessions
 * of servers removed, disabled or started differently are closed, others
 * keep theirs; returns 0 with *result ({"added","removed","changed"}).
 */
int
broker_reload(struct broker *b, cJSON **result, cJSON **errors)
{
	const struct server_conf	*old, *new;
	struct config_diag		 diag;
	struct config			*conf;
	struct table_entry		*e, *next;
	struct session			*s;
	cJSON				*added, *removed, *changed, *item;
	size_t				 i;

	service_reloading(b->service);
	memset(&diag, 0, sizeof diag);
	conf = config_load(b->config_path, &diag);
	for (i = 0; i < diag.nwarnings; i++)
		log_warnx("reload: %s: %s", b->config_path, diag.warnings[i]);
	if (conf == NULL) {
		service_ready(b->service);
		*errors = cJSON_CreateArray();
		for (i = 0; i < diag.nerrors; i++) {
			log_warnx("reload: %s: %s", b->config_path,
			    diag.errors[i]);
			broker_add_name(*errors, diag.errors[i]);
		}
		log_warnx("reload: %s is invalid; nothing was changed",
		    b->config_path);
		config_diag_clear(&diag);
		return (-1);
	}
	config_diag_clear(&diag);

	/* The socket is bound once; its path and mode stay as they are. */
	if (b->socket_override != NULL ||
	    strcmp(conf->socket, b->conf->socket) != 0 ||
	    conf->socket_mode != b->conf->socket_mode ||
	    conf->socket_group_set != b->conf->socket_group_set ||
	    conf->socket_group != b->conf->socket_group) {
		if (b->socket_override == NULL)
			log_warnx("reload: socket, socket_mode and socket_group "
			    "changes take effect at the next start");
		free(conf->socket);
		conf->socket = xstrdup(b->conf->socket);
		conf->socket_mode = b->conf->socket_mode;
		conf->socket_group = b->conf->socket_group;
		conf->socket_group_set = b->conf->socket_group_set;
	}
	if (b->level_override != -1)
		conf->log_level = (enum log_level)b->level_override;

	added = cJSON_CreateArray();
	removed = cJSON_CreateArray();
	changed = cJSON_CreateArray();
	for (i = 0; i < b->conf->nservers; i++) {
		old = &b->conf->servers[i];
		if ((new = config_find_server(conf, old->name)) == NULL)
			broker_add_name(removed, old->name);
		else if (!config_server_equal(old, new) ||
		    (new->disabled && !old->disabled))
			broker_add_name(changed, old->name);
	}
	for (i = 0; i < conf->nservers; i++) {
		if (config_find_server(b->conf, conf->servers[i].name) == NULL)
			broker_add_name(added, conf->servers[i].name);
	}

	for (e = table_first(b->table); e != NULL; e = next) {
		next = table_next(b->table, e);
		cJSON_ArrayForEach(item, removed) {
			if (strcmp(item->valuestring, table_server(e)) == 0)
				break;
		}
		if (item == NULL) {
			cJSON_ArrayForEach(item, changed) {
				if (strcmp(item->valuestring,
				    table_server(e)) == 0)
					break;
			}
		}
		if (item == NULL)
			continue;
		s = table_value(e);
		broker_remove(b, e, 1);
		b->counters.sessions_closed++;
		session_close(s, RPC_SESSION_LOST, "its server's configuration "
		    "changed on reload");
	}

	config_free(b->conf);
	b->conf = conf;
	log_set_level(conf->log_level);
	/* Idle timeouts may have changed: look at every server again. */
	evtimer_del(b->idle_timer);
	b->idle_deadline = 0;
	broker_idle_arm(b, broker_now());
	b->counters.reloads++;
	log_info("reloaded %s: %d added, %d removed, %d changed",
	    b->config_path, cJSON_GetArraySize(added),
	    cJSON_GetArraySize(removed), cJSON_GetArraySize(changed));

	service_ready(b->service);
	*result = cJSON_CreateObject();
	cJSON_AddItemToObject(*result, "added", added);
	cJSON_AddItemToObject(*result, "removed", removed);
	cJSON_AddItemToObject(*result, "changed", changed);
	return (0);
}
