/*
 * Routing: client requests to sessions by (uid, server, thread), the
 * broker's own methods, and the session table's capacity rules.
 */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker.h"
#include "child.h"
#include "config.h"
#include "conn.h"
#include "errors.h"
#include "jsonrpc.h"
#include "log.h"
#include "session.h"
#include "table.h"
#include "xmalloc.h"

/* Longest thread name accepted (it is a key, shown in tables and logs). */
#define BROKER_THREAD_MAX	256

typedef void (*broker_method_fn)(struct broker *, struct conn *, cJSON *,
    cJSON *);

static void	broker_status(struct broker *, struct conn *, cJSON *,
		    cJSON *);
static void	broker_session(struct broker *, struct conn *, cJSON *,
		    cJSON *);
static void	broker_close(struct broker *, struct conn *, cJSON *,
		    cJSON *);
static void	broker_servers(struct broker *, struct conn *, cJSON *,
		    cJSON *);

static const struct {
	const char		*name;
	const char		*keys[4];	/* params accepted */
	broker_method_fn	 fn;
} broker_methods[] = {
	{ "broker/status", { NULL }, broker_status },
	{ "broker/session", { "server", "thread", "create", NULL },
	    broker_session },
	{ "broker/close", { "server", "thread", "all", NULL }, broker_close },
	{ "broker/servers", { NULL }, broker_servers },
};

static void	 broker_forward(struct broker *, struct conn *, cJSON *);
static int	 broker_route_params(struct broker *, struct conn *, cJSON *,
		     cJSON *, const struct server_conf **, const char **);
static struct session *broker_session_for(struct broker *, struct conn *,
		     cJSON *, const struct server_conf *, const char *);
static void	 broker_evict(struct broker *, struct table_entry *);
static void	 broker_remove(struct broker *, struct table_entry *, int);
static int	 broker_is_admin(struct broker *, struct conn *);
static int	 broker_visible(struct broker *, struct conn *,
		     struct table_entry *);
static cJSON	*broker_server_data(const char *);
static cJSON	*broker_server_list(struct broker *);
static int	 broker_param_string(cJSON *, const char *, const char **);
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
	free(b->config_path);
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
	cJSON		*id, *params, *key;
	const char	*method;
	size_t		 i, k;

	id = cJSON_DetachItemFromObjectCaseSensitive(msg, "id");
	method = cJSON_GetObjectItemCaseSensitive(msg, "method")->valuestring;
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");

	if (b->exiting) {
		broker_fail(c, id, RPC_SHUTTING_DOWN, NULL, "The broker is "
		    "shutting down; retry once it is back.");
		cJSON_Delete(msg);
		return;
	}
	if (strncmp(method, "broker/", 7) != 0) {
		cJSON_AddItemToObject(msg, "id", id);
		broker_forward(b, c, msg);
		return;
	}

	for (i = 0; i < sizeof broker_methods / sizeof *broker_methods; i++) {
		if (strcmp(method, broker_methods[i].name) == 0)
			break;
	}
	if (i == sizeof broker_methods / sizeof *broker_methods) {
		broker_fail(c, id, RPC_METHOD_NOT_FOUND, NULL, "Unknown broker "
		    "method '%.64s'; see broker/status, broker/session, "
		    "broker/close and broker/servers.", method);
		goto out;
	}
	if (params != NULL && !cJSON_IsObject(params)) {
		broker_fail(c, id, RPC_INVALID_PARAMS, NULL, "%s: params must "
		    "be an object.", method);
		goto out;
	}
	cJSON_ArrayForEach(key, params) {
		for (k = 0; broker_methods[i].keys[k] != NULL; k++) {
			if (strcmp(key->string, broker_methods[i].keys[k]) == 0)
				break;
		}
		if (broker_methods[i].keys[k] == NULL) {
			broker_fail(c, id, RPC_INVALID_PARAMS, NULL, "%s: "
			    "unknown parameter '%.64s'.", method, key->string);
			goto out;
		}
	}
	broker_methods[i].fn(b, c, id, params);
out:
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
 * Check and strip the routing members of a forwarded request's params:
 * server and thread (required strings), timeout_ms (optional, positive).
 * Returns 0, or -1 after answering the error.
 */
static int
broker_route_params(struct broker *b, struct conn *c, cJSON *id,
    cJSON *params, const struct server_conf **scp, const char **threadp)
{
	const struct server_conf	*sc;
	cJSON				*server, *thread, *timeout;

	server = cJSON_GetObjectItemCaseSensitive(params, "server");
	thread = cJSON_GetObjectItemCaseSensitive(params, "thread");
	timeout = cJSON_GetObjectItemCaseSensitive(params, "timeout_ms");
	if (!cJSON_IsObject(params) || !cJSON_IsString(server) ||
	    *server->valuestring == '\0') {
		broker_fail(c, cJSON_Duplicate(id, 1), RPC_INVALID_PARAMS,
		    NULL, "params.server must be a non-empty string naming a "
		    "configured MCP server.");
		return (-1);
	}
	if (!cJSON_IsString(thread) || *thread->valuestring == '\0' ||
	    strlen(thread->valuestring) > BROKER_THREAD_MAX) {
		broker_fail(c, cJSON_Duplicate(id, 1), RPC_INVALID_PARAMS,
		    NULL, "params.thread must be a non-empty string of at most "
		    "%d bytes naming the agent's conversation.",
		    BROKER_THREAD_MAX);
		return (-1);
	}
	if (timeout != NULL && (!cJSON_IsNumber(timeout) ||
	    timeout->valuedouble < 1 || timeout->valuedouble > 1e9)) {
		broker_fail(c, cJSON_Duplicate(id, 1), RPC_INVALID_PARAMS,
		    NULL, "params.timeout_ms must be a positive number of "
		    "milliseconds.");
		return (-1);
	}
	sc = config_find_server(b->conf, server->valuestring);
	if (sc == NULL || sc->disabled) {
		broker_fail(c, cJSON_Duplicate(id, 1), RPC_UNKNOWN_SERVER,
		    broker_server_data(server->valuestring), sc == NULL ?
		    "Unknown server '%.64s'; broker/servers lists the "
		    "configured ones." : "Server '%.64s' is disabled in the "
		    "configuration.", server->valuestring);
		return (-1);
	}
	*scp = sc;
	*threadp = thread->valuestring;
	return (0);
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
broker_forward(struct broker *b, struct conn *c, cJSON *msg)
{
	const struct server_conf	*sc;
	struct session			*s;
	struct request			*req;
	cJSON				*id, *params;
	const char			*thread;

	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (broker_route_params(b, c, id, params, &sc, &thread) != 0 ||
	    (s = broker_session_for(b, c, id, sc, thread)) == NULL) {
		cJSON_Delete(msg);
		return;
	}
	req = xcalloc(1, sizeof *req);
	req->kind = REQUEST_FORWARD;
	req->client_id = cJSON_DetachItemFromObjectCaseSensitive(msg, "id");
	cJSON_AddNumberToObject(msg, "id", 0);	/* the session sets it */
	cJSON_DeleteItemFromObjectCaseSensitive(params, "server");
	cJSON_DeleteItemFromObjectCaseSensitive(params, "thread");
	cJSON_DeleteItemFromObjectCaseSensitive(params, "timeout_ms");
	req->msg = msg;
	conn_add_request(c, req);
	session_submit(s, req);
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

/* Send a child's answer (taken) to the client under its own id. */
void
request_answer(struct request *req, cJSON *answer)
{
	if (req->conn != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(answer, "id");
		cJSON_AddItemToObject(answer, "id", req->client_id);
		req->client_id = NULL;
		if (cJSON_GetObjectItemCaseSensitive(answer, "error") != NULL)
			conn_broker(req->conn)->counters.errors++;
		conn_send(req->conn, answer);
	} else
		cJSON_Delete(answer);
	request_free(req);
}

/* Answer the request with an error; takes data. */
void
request_fail(struct request *req, int code, const char *message,
    cJSON *data)
{
	if (req->conn != NULL) {
		conn_send_error(req->conn, req->client_id, code, message,
		    data);
		req->client_id = NULL;
	} else
		cJSON_Delete(data);
	request_free(req);
}

/* Free a request no session holds any more. */
void
request_free(struct request *req)
{
	if (req->conn != NULL)
		conn_remove_request(req->conn, req);
	cJSON_Delete(req->client_id);
	cJSON_Delete(req->msg);
	free(req);
}

/* Root and the daemon's own user see and manage every session. */
static int
broker_is_admin(struct broker *b, struct conn *c)
{
	return (conn_uid(c) == 0 || conn_uid(c) == b->euid);
}

/* Whether c may see (and close) the session of e. */
static int
broker_visible(struct broker *b, struct conn *c, struct table_entry *e)
{
	return (broker_is_admin(b, c) || table_uid(e) == conn_uid(c));
}

/* broker/status: the daemon, its sessions, servers and counters. */
static void
broker_status(struct broker *b, struct conn *c, cJSON *id, cJSON *params)
{
	struct table_entry	*e;
	cJSON			*r, *list, *counters;

	(void)params;
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
	cJSON_AddNumberToObject(counters, "sessions_started",
	    (double)b->counters.sessions_started);
	cJSON_AddNumberToObject(counters, "sessions_evicted",
	    (double)b->counters.sessions_evicted);
	cJSON_AddNumberToObject(counters, "sessions_exited",
	    (double)b->counters.sessions_exited);
	cJSON_AddNumberToObject(counters, "sessions_closed",
	    (double)b->counters.sessions_closed);
	cJSON_AddNumberToObject(counters, "requests",
	    (double)b->counters.requests);
	cJSON_AddNumberToObject(counters, "errors",
	    (double)b->counters.errors);
	cJSON_AddNumberToObject(counters, "clients_accepted",
	    (double)b->counters.clients_accepted);
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
broker_servers(struct broker *b, struct conn *c, cJSON *id, cJSON *params)
{
	(void)params;
	broker_reply(c, id, broker_server_list(b));
}

/* A string member of broker/ params: NULL if absent, -1 if not a string. */
static int
broker_param_string(cJSON *params, const char *name, const char **value)
{
	cJSON	*item;

	*value = NULL;
	if ((item = cJSON_GetObjectItemCaseSensitive(params, name)) == NULL)
		return (0);
	if (!cJSON_IsString(item) || *item->valuestring == '\0')
		return (-1);
	*value = item->valuestring;
	return (0);
}

/*
 * broker/session: one of the caller's sessions in full. With "create":
 * true a missing session is started and the answer waits until it is
 * ready (or fails with -32011 like any request).
 */
static void
broker_session(struct broker *b, struct conn *c, cJSON *id, cJSON *params)
{
	const struct server_conf	*sc;
	struct table_entry		*e;
	struct session			*s;
	struct request			*req;
	cJSON				*create, *data;
	const char			*server, *thread;

	create = cJSON_GetObjectItemCaseSensitive(params, "create");
	if (create != NULL && !cJSON_IsBool(create)) {
		broker_fail(c, id, RPC_INVALID_PARAMS, NULL, "broker/session: "
		    "create must be true or false.");
		return;
	}
	if (broker_param_string(params, "server", &server) != 0 ||
	    broker_param_string(params, "thread", &thread) != 0 ||
	    server == NULL || thread == NULL) {
		broker_fail(c, id, RPC_INVALID_PARAMS, NULL, "broker/session: "
		    "server and thread must be non-empty strings.");
		return;
	}
	if ((e = table_find(b->table, conn_uid(c), server, thread)) != NULL) {
		broker_reply(c, id, session_describe(table_value(e), 1));
		return;
	}
	if (!cJSON_IsTrue(create)) {
		data = broker_server_data(server);
		cJSON_AddStringToObject(data, "thread", thread);
		broker_fail(c, id, RPC_INVALID_PARAMS, data, "No session for "
		    "server '%.64s' thread '%.256s'; pass \"create\": true to "
		    "start one.", server, thread);
		return;
	}
	if ((sc = config_find_server(b->conf, server)) == NULL ||
	    sc->disabled) {
		broker_fail(c, id, RPC_UNKNOWN_SERVER, broker_server_data(server),
		    sc == NULL ? "Unknown server '%.64s'; broker/servers lists "
		    "the configured ones." : "Server '%.64s' is disabled in the "
		    "configuration.", server);
		return;
	}
	if ((s = broker_session_for(b, c, id, sc, thread)) == NULL) {
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
broker_close(struct broker *b, struct conn *c, cJSON *id, cJSON *params)
{
	struct table_entry	*e, *next;
	struct session		*s;
	cJSON			*all, *r;
	const char		*server, *thread;
	int			 closed = 0;

	all = cJSON_GetObjectItemCaseSensitive(params, "all");
	if (broker_param_string(params, "server", &server) != 0 ||
	    broker_param_string(params, "thread", &thread) != 0 ||
	    (all != NULL && (!cJSON_IsTrue(all) || server != NULL ||
	    thread != NULL)) || (all == NULL && server == NULL &&
	    thread == NULL)) {
		broker_fail(c, id, RPC_INVALID_PARAMS, NULL, "broker/close "
		    "takes {\"thread\"}, {\"server\"}, {\"server\", "
		    "\"thread\"} (non-empty strings) or {\"all\": true}.");
		return;
	}
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
