/*
 * One HTTP MCP session of the Streamable HTTP endpoint (http_mcp.c): an
 * Mcp-Session-Id, the client it names, and the HTTP exchanges open for
 * it. It embeds a struct front: the core sends it answers, progress and
 * the child's requests like to any client, and this file routes each to
 * the exchange it belongs to:
 *
 *  - an answer to the POST that carried its request (application/json,
 *    or the last event of that POST's text/event-stream);
 *  - progress to the POST whose progress token it carries;
 *  - the child's requests (sampling, elicitation) and other
 *    notifications to the oldest POST answered as an event stream, else
 *    the session's standalone GET stream; with neither, a request fails
 *    at once rather than leave the child waiting.
 *
 * A POST is answered as an event stream when the client accepts one and
 * the request carries a progress token or the client declared sampling
 * or elicitation (its call may draw a request to it). A client that
 * goes away leaves its request running (the specification's rule: a
 * disconnect is no cancel); the answer is dropped. Open streams get a
 * comment every HTTP_MCP_KEEPALIVE_S, which finds clients that left; a
 * session with nothing open ends after broker.idle_timeout_s.
 */
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "broker.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "errors.h"
#include "front.h"
#include "http_mcp_session.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "request.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

/* The id of the broker/session call an initialize waits on. */
#define HTTP_MCP_INIT_ID	"\"mcp-broker/http-initialize\""

enum http_mcp_kind {
	HTTP_MCP_CALL,		/* a client's request, forwarded */
	HTTP_MCP_INIT,		/* initialize, waiting on broker/session */
};

/* One POSTed request waiting for its answer. */
struct http_mcp_exchange {
	struct http_mcp_session		*hs;
	struct evhttp_request		*req;	/* NULL: the client left */
	struct evhttp_connection	*evcon;	/* req's, until it left */
	enum http_mcp_kind		 kind;
	char				*id;	/* the answer's id, as text */
	size_t				 id_len;
	char				*client_id;	/* INIT: initialize's */
	char				*token;	/* progress token, or NULL */
	size_t				 token_len;
	char				 version[16];	/* INIT: to answer */
	int				 sse;	/* text/event-stream, started */
	TAILQ_ENTRY(http_mcp_exchange)	 entry;
};
TAILQ_HEAD(http_mcp_exchanges, http_mcp_exchange);

struct http_mcp_session {
	struct front			 front;	/* the core's side */
	struct broker			*b;
	char				 id[HTTP_MCP_ID_BYTES * 2 + 1];
	char				*server;
	char				*thread;
	char				*server_json;	/* as JSON strings */
	char				*thread_json;
	double				 last_used;	/* monotonic */
	int				 known;	/* initialize answered */
	int				 dead;
	struct http_mcp_exchanges	 exchanges;
	struct evhttp_request		*stream;	/* GET, or NULL */
	struct evhttp_connection	*stream_evcon;	/* stream's */
	struct event			*tick;	/* keep-alive, expiry */
	struct event			*kill;	/* end from a callback */
	http_mcp_session_cb		 ready;
	http_mcp_session_cb		 ended;
	void				*arg;
};

static void	http_mcp_session_free_cb(evutil_socket_t, short, void *);
static void	http_mcp_kill_cb(evutil_socket_t, short, void *);
static void	http_mcp_tick_cb(evutil_socket_t, short, void *);
static int	http_mcp_req_alive(struct evhttp_request *);
static void	http_mcp_exchange_finish(struct http_mcp_exchange *,
		    const char *, size_t);
static void	http_mcp_send_op(void *, cJSON *);
static void	http_mcp_send_result_op(void *, const char *, size_t,
		    const char *, size_t, const char *, size_t);
static void	http_mcp_send_line_op(void *, const char *, size_t);
static void	http_mcp_pause_op(void *);
static void	http_mcp_resume_op(void *);
static void	http_mcp_close_op(void *, const char *);
static void	http_mcp_deliver(struct http_mcp_session *, const char *,
		    size_t);

/* What an HTTP MCP session does for the core. */
static const struct front_ops http_mcp_ops = {
	.send = http_mcp_send_op,
	.send_result = http_mcp_send_result_op,
	.send_line = http_mcp_send_line_op,
	.pause = http_mcp_pause_op,
	.resume = http_mcp_resume_op,
	.close = http_mcp_close_op,
};

/*
 * A new session of uid (admin: an admin) for server and thread, its id
 * drawn; ready is called once initialize has made it known by its id,
 * ended when it ends.
 */
struct http_mcp_session *
http_mcp_session_new(struct broker *b, uid_t uid, int admin,
    const char *server, const char *thread, http_mcp_session_cb ready,
    http_mcp_session_cb ended, void *arg)
{
	struct http_mcp_session	*hs;
	struct event_base	*base = broker_base(b);
	struct timeval		 tv = { HTTP_MCP_KEEPALIVE_S, 0 };
	unsigned char		 rnd[HTTP_MCP_ID_BYTES];
	size_t			 i;
	int			 idle_s;
	cJSON			*s;

	hs = xcalloc(1, sizeof *hs);
	hs->b = b;
	hs->ready = ready;
	hs->ended = ended;
	hs->arg = arg;
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		fatal("getrandom");
	for (i = 0; i < sizeof rnd; i++)
		snprintf(hs->id + 2 * i, 3, "%02x", rnd[i]);
	hs->server = xstrdup(server);
	hs->thread = xstrdup(thread);
	s = cJSON_CreateString(server);
	hs->server_json = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	s = cJSON_CreateString(thread);
	hs->thread_json = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	hs->last_used = clock_s();
	TAILQ_INIT(&hs->exchanges);
	front_init(&hs->front, &http_mcp_ops, hs, broker_counters(b), uid, 0,
	    admin);
	/* An MCP client over HTTP takes the child's notifications. */
	hs->front.notifications = 1;
	broker_front_add(b, &hs->front);

	/*
	 * Ticks often enough to see a short idle_timeout_s pass, and to keep
	 * an event stream alive within broker.http.idle_timeout_s (evhttp
	 * closes a connection that long without a write).
	 */
	idle_s = broker_config(b)->idle_timeout_s;
	if (idle_s > 0 && idle_s / 2 < tv.tv_sec)
		tv.tv_sec = idle_s / 2 > 0 ? idle_s / 2 : 1;
	idle_s = broker_config(b)->http.idle_timeout_s;
	if (idle_s / 2 < tv.tv_sec)
		tv.tv_sec = idle_s / 2 > 0 ? idle_s / 2 : 1;
	hs->tick = event_new(base, -1, EV_PERSIST, http_mcp_tick_cb, hs);
	evtimer_add(hs->tick, &tv);
	hs->kill = event_new(base, -1, 0, http_mcp_kill_cb, hs);
	return (hs);
}

/*
 * End a session: later requests naming it get 404, its requests still
 * in flight are cancelled at the child, its open exchanges finish. The
 * child keeps running. Freed later, from a deferred event.
 */
void
http_mcp_session_end(struct http_mcp_session *hs, const char *why)
{
	struct http_mcp_exchange	*ex;
	struct timeval			 tv = { 0, 0 };

	if (hs->dead)
		return;
	hs->dead = 1;
	log_debug("http client %llu: MCP session ended (%s)",
	    (unsigned long long)hs->front.serial, why);
	/* Known or still waiting for its initialize, the endpoint lists it. */
	hs->ended(hs, hs->arg);
	broker_front_gone(hs->b, &hs->front);
	while ((ex = TAILQ_FIRST(&hs->exchanges)) != NULL)
		http_mcp_exchange_finish(ex, NULL, 0);
	if (hs->stream != NULL)
		evhttp_send_reply_end(hs->stream);
	hs->stream = NULL;
	event_del(hs->tick);
	event_del(hs->kill);
	event_base_once(broker_base(hs->b), -1, EV_TIMEOUT,
	    http_mcp_session_free_cb, hs, &tv);
}

/* Free an ended session. */
static void
http_mcp_session_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_mcp_session	*hs = arg;

	(void)fd;
	(void)events;
	event_free(hs->tick);
	event_free(hs->kill);
	free(hs->server);
	free(hs->thread);
	free(hs->server_json);
	free(hs->thread_json);
	free(hs);
}

/* End a session from outside the callback that decided it. */
static void
http_mcp_kill_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	http_mcp_session_end(arg, "initialize failed");
}

/* A session's timer: keep its streams alive; end it once idle. */
static void
http_mcp_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_mcp_session		*hs = arg;
	struct http_mcp_exchange	*ex;
	struct evbuffer			*chunk;
	int				 idle_s;

	(void)fd;
	(void)events;
	if (hs->stream != NULL && !http_mcp_req_alive(hs->stream)) {
		evhttp_send_reply_end(hs->stream);
		hs->stream = NULL;
	}
	TAILQ_FOREACH(ex, &hs->exchanges, entry) {
		if (ex->req != NULL && !http_mcp_req_alive(ex->req)) {
			/* Freed by evhttp; the answer will be dropped. */
			evhttp_send_reply_end(ex->req);
			ex->req = NULL;
		}
	}
	chunk = evbuffer_new();
	if (hs->stream != NULL) {
		evbuffer_add(chunk, ":\n\n", 3);
		evhttp_send_reply_chunk(hs->stream, chunk);
		hs->last_used = clock_s();
	}
	TAILQ_FOREACH(ex, &hs->exchanges, entry) {
		if (ex->sse && ex->req != NULL) {
			evbuffer_add(chunk, ":\n\n", 3);
			evhttp_send_reply_chunk(ex->req, chunk);
		}
	}
	evbuffer_free(chunk);
	if (!TAILQ_EMPTY(&hs->exchanges))
		hs->last_used = clock_s();
	/* idle_timeout_s 0: never. */
	idle_s = broker_config(hs->b)->idle_timeout_s;
	if (idle_s > 0 && clock_s() - hs->last_used >= idle_s)
		http_mcp_session_end(hs, "idle (idle_timeout_s)");
}

/* Whether the client of req is still there to be written to. */
static int
http_mcp_req_alive(struct evhttp_request *req)
{
	return (req != NULL && evhttp_request_get_connection(req) != NULL);
}

/*
 * Answer req with status and a JSON-RPC error under id_text (NULL:
 * null); takes data (NULL: none).
 */
int
http_mcp_session_reply_error(struct evhttp_request *req, int status,
    const char *reason, const char *id_text, int code, cJSON *data,
    const char *fmt, ...)
{
	struct evbuffer	*body;
	va_list		 ap;
	cJSON		*err, *id;
	char		*message, *text;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	id = id_text != NULL ? jsonrpc_id_raw(id_text, strlen(id_text)) : NULL;
	err = jsonrpc_error(id, code, message, data);
	text = cJSON_PrintUnformatted(err);
	cJSON_Delete(err);
	free(message);
	body = evbuffer_new();
	evbuffer_add(body, text, strlen(text));
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, status, reason, body);
	evbuffer_free(body);
	return (status);
}

/* Answer req 202 Accepted, without a body. */
static int
http_mcp_session_accepted(struct evhttp_request *req)
{
	evhttp_send_reply(req, 202, "Accepted", NULL);
	return (202);
}

/* Answer req with one JSON-RPC message as application/json. */
static void
http_mcp_reply_json(struct evhttp_request *req, const char *text,
    size_t len, const char *session_id)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*body;

	body = evbuffer_new();
	evbuffer_add(body, text, len);
	evhttp_add_header(out, "Content-Type", "application/json");
	if (session_id != NULL)
		evhttp_add_header(out, "Mcp-Session-Id", session_id);
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
}

/* Start an event stream on req. */
static void
http_mcp_stream_start(struct evhttp_request *req)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);

	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_send_reply_start(req, 200, "OK");
}

/* Write one message as an event (data: TEXT) on a started stream. */
static void
http_mcp_stream_event(struct evhttp_request *req, const char *text,
    size_t len)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct evbuffer			*chunk;

	/* A client that does not read its stream loses events, not the
	   daemon's memory. */
	if ((evcon = evhttp_request_get_connection(req)) != NULL &&
	    (bev = evhttp_connection_get_bufferevent(evcon)) != NULL &&
	    evbuffer_get_length(bufferevent_get_output(bev)) >
	    HTTP_MCP_STREAM_MAX) {
		log_debug("http: dropping an event for a client that does "
		    "not read (HTTP_MCP_STREAM_MAX)");
		return;
	}
	chunk = evbuffer_new();
	evbuffer_add(chunk, "data: ", 6);
	evbuffer_add(chunk, text, len);
	evbuffer_add(chunk, "\n\n", 2);
	evhttp_send_reply_chunk(req, chunk);
	evbuffer_free(chunk);
}

/* A new exchange of hs for req; the strings are copied. */
static struct http_mcp_exchange *
http_mcp_exchange_new(struct http_mcp_session *hs, struct evhttp_request *req,
    enum http_mcp_kind kind, const char *id, size_t id_len)
{
	struct http_mcp_exchange	*ex;

	ex = xcalloc(1, sizeof *ex);
	ex->hs = hs;
	ex->req = req;
	ex->evcon = evhttp_request_get_connection(req);
	ex->kind = kind;
	ex->id = xstrndup(id, id_len);
	ex->id_len = id_len;
	TAILQ_INSERT_TAIL(&hs->exchanges, ex, entry);
	return (ex);
}

/* Take ex off its session and free it; its request must be done. */
static void
http_mcp_exchange_free(struct http_mcp_exchange *ex)
{
	TAILQ_REMOVE(&ex->hs->exchanges, ex, entry);
	free(ex->id);
	free(ex->client_id);
	free(ex->token);
	free(ex);
}

/*
 * Finish ex with its answer text (NULL: none can come), and free it. A
 * client that has gone has its request freed by evhttp here.
 */
static void
http_mcp_exchange_finish(struct http_mcp_exchange *ex, const char *text,
    size_t len)
{
	struct evhttp_request	*req = ex->req;

	if (req == NULL)
		/* nothing */;
	else if (!http_mcp_req_alive(req))
		evhttp_send_reply_end(req);	/* frees it */
	else if (ex->sse) {
		if (text != NULL)
			http_mcp_stream_event(req, text, len);
		evhttp_send_reply_end(req);
	} else if (text != NULL)
		http_mcp_reply_json(req, text, len, NULL);
	else if (ex->client_id != NULL)
		/* An initialize cut off: the daemon is stopping, or the
		   session could not be made. */
		http_mcp_session_reply_error(req, 503, "Service Unavailable",
		    ex->client_id, RPC_SHUTTING_DOWN, NULL, "The MCP session "
		    "ended before it was made; initialize again.");
	else
		http_mcp_session_reply_error(req, 404, "Not Found", ex->id,
		    RPC_INVALID_REQUEST, NULL, "The HTTP session has ended; "
		    "initialize again.");
	http_mcp_exchange_free(ex);
}

/* The open exchange of hs that the answer under id (text) belongs to. */
static struct http_mcp_exchange *
http_mcp_exchange_find(struct http_mcp_session *hs, const char *id,
    size_t len)
{
	struct http_mcp_exchange	*ex;

	TAILQ_FOREACH(ex, &hs->exchanges, entry) {
		if (scan_id_equal(ex->id, ex->id_len, id, len))
			return (ex);
	}
	return (NULL);
}

/*
 * Where a message not tied to one request goes: the oldest exchange
 * answered as a stream, else the GET stream; NULL if neither is open.
 */
static struct evhttp_request *
http_mcp_stream_for(struct http_mcp_session *hs)
{
	struct http_mcp_exchange	*ex;

	TAILQ_FOREACH(ex, &hs->exchanges, entry) {
		if (ex->sse && http_mcp_req_alive(ex->req))
			return (ex->req);
	}
	if (http_mcp_req_alive(hs->stream))
		return (hs->stream);
	return (NULL);
}

/* Send one message (a tree) to the HTTP client; takes msg. */
static void
http_mcp_send_op(void *arg, cJSON *msg)
{
	struct http_mcp_session	*hs = arg;
	char			*text;

	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	if (!hs->dead)
		http_mcp_deliver(hs, text, strlen(text));
	free(text);
}

/*
 * Send a success result written from its parts (struct front_ops). An
 * empty result (a ping, logging/setLevel) stays the {} the protocol says
 * it is, without the session's _meta: over HTTP the broker is the MCP
 * server, and a strict client checks it.
 */
static void
http_mcp_send_result_op(void *arg, const char *id, size_t id_len,
    const char *meta, size_t meta_len, const char *body, size_t len)
{
	struct http_mcp_session	*hs = arg;
	char			*text, *end;

	if (hs->dead)
		return;
	if (len == 0) {
		xasprintf(&text, "{\"jsonrpc\":\"2.0\",\"id\":%.*s,"
		    "\"result\":{}}", (int)id_len, id);
		http_mcp_deliver(hs, text, strlen(text));
		free(text);
		return;
	}
	text = xmalloc(wire_result_size(id_len, meta_len, len));
	end = wire_result_fill(text, id, id_len, meta, meta_len, body, len);
	/* Without the newline the line ends with. */
	http_mcp_deliver(hs, text, (size_t)(end - text) - 1);
	free(text);
}

/* Send one message written as text. */
static void
http_mcp_send_line_op(void *arg, const char *line, size_t len)
{
	struct http_mcp_session	*hs = arg;

	if (!hs->dead)
		http_mcp_deliver(hs, line, len);
}

/* At FRONT_MAX_IN_FLIGHT: later POSTed requests are refused (429). */
static void
http_mcp_pause_op(void *arg)
{
	(void)arg;
}

/* Below the bound again. */
static void
http_mcp_resume_op(void *arg)
{
	(void)arg;
}

/* The broker drops the client (it is exiting). */
static void
http_mcp_close_op(void *arg, const char *why)
{
	http_mcp_session_end(arg, why);
}

/*
 * The answer to an initialize: the session's server info, capabilities
 * and instructions as broker/session gave them (line), or its error.
 * The HTTP session is known by its id from now on; after an error it
 * ends.
 */
static void
http_mcp_init_answer(struct http_mcp_exchange *ex, const char *line,
    size_t len)
{
	struct http_mcp_session	*hs = ex->hs;
	struct evbuffer		*out;
	char			*text;
	size_t			 text_len;

	out = evbuffer_new();
	if (mcp_initialize_answer(out, ex->client_id, ex->version,
	    hs->server_json, line, len) != 0)
		event_active(hs->kill, EV_TIMEOUT, 1);
	else {
		hs->known = 1;
		hs->ready(hs, hs->arg);
		log_debug("http client %llu: MCP session for %s/%s (uid %ld)",
		    (unsigned long long)hs->front.serial, hs->server,
		    hs->thread, (long)hs->front.uid);
	}
	text_len = evbuffer_get_length(out);
	text = (char *)evbuffer_pullup(out, -1);
	if (http_mcp_req_alive(ex->req))
		http_mcp_reply_json(ex->req, text, text_len, hs->known ?
		    hs->id : NULL);
	else if (ex->req != NULL)
		evhttp_send_reply_end(ex->req);
	evbuffer_free(out);
	http_mcp_exchange_free(ex);
}

/*
 * One message the core sends this session's client, as text: routed to
 * the exchange it belongs to (see the top of the file).
 */
static void
http_mcp_deliver(struct http_mcp_session *hs, const char *text, size_t len)
{
	static const char *const token[] = { "params", "progressToken", NULL };
	struct http_mcp_exchange	*ex;
	struct evhttp_request		*req;
	struct scan_member		 m, id;
	struct upcall			*up;
	int				 has_id;

	has_id = scan_find(text, len, "id", &id) == 0 &&
	    !(id.value.len == 4 && memcmp(id.value.p, "null", 4) == 0);
	if (scan_find(text, len, "method", &m) != 0) {
		/* An answer: to the POST of its request. */
		if (!has_id ||
		    (ex = http_mcp_exchange_find(hs, id.value.p,
		    id.value.len)) == NULL) {
			log_debug("http client %llu: dropping an answer "
			    "nobody waits for", (unsigned long long)
			    hs->front.serial);
			return;
		}
		if (ex->kind == HTTP_MCP_INIT)
			http_mcp_init_answer(ex, text, len);
		else
			http_mcp_exchange_finish(ex, text, len);
		return;
	}
	if (scan_path(text, len, token, &m) == 0) {
		TAILQ_FOREACH(ex, &hs->exchanges, entry) {
			if (ex->token != NULL && scan_id_equal(ex->token,
			    ex->token_len, m.value.p, m.value.len))
				break;
		}
		if (ex != NULL) {
			if (ex->sse && http_mcp_req_alive(ex->req))
				http_mcp_stream_event(ex->req, text, len);
			return;
		}
	}
	if ((req = http_mcp_stream_for(hs)) != NULL) {
		http_mcp_stream_event(req, text, len);
		return;
	}
	if (has_id && (up = upcall_find(&hs->front, id.value.p,
	    id.value.len)) != NULL)
		upcall_fail(up, "The HTTP client has no event stream open "
		    "to take this request (a POST answered as "
		    "text/event-stream, or GET).");
}

/*
 * A connection evhttp is freeing: forget the requests of it this
 * session holds. They are matched on the connection kept at the start:
 * when a write fails, times out or finds the client gone, evhttp 2.1
 * takes an unfinished request off its connection (req->evcon = NULL,
 * evhttp_connection_incoming_fail) before it frees the connection, and
 * such a request is ours to free. A POST's client has left: its request
 * runs on at the child and its answer is dropped. The GET stream's
 * place is free for a new one.
 */
void
http_mcp_session_conn_closed(struct http_mcp_session *hs,
    struct evhttp_connection *evcon)
{
	struct http_mcp_exchange	*ex;

	if (hs->stream != NULL && hs->stream_evcon == evcon) {
		log_debug("http client %llu: its GET stream closed",
		    (unsigned long long)hs->front.serial);
		if (evhttp_request_get_connection(hs->stream) == NULL)
			evhttp_send_reply_end(hs->stream);	/* frees it */
		hs->stream = NULL;
		hs->stream_evcon = NULL;
	}
	TAILQ_FOREACH(ex, &hs->exchanges, entry) {
		if (ex->req == NULL || ex->evcon != evcon)
			continue;
		log_debug("http client %llu: left before its answer; the "
		    "request runs on", (unsigned long long)hs->front.serial);
		if (evhttp_request_get_connection(ex->req) == NULL)
			evhttp_send_reply_end(ex->req);	/* frees it */
		ex->req = NULL;
		ex->evcon = NULL;
	}
}

/* The client's capabilities of initialize, declared for its front. */
static void
http_mcp_declare(struct http_mcp_session *hs, const cJSON *params)
{
	const cJSON	*caps;

	caps = cJSON_GetObjectItemCaseSensitive(params, "capabilities");
	front_declare(&hs->front, caps);
}

/*
 * initialize, the session's first message: the client's capabilities
 * are declared for its front, and broker/session starts the child (or
 * finds it) and answers once it is ready.
 */
int
http_mcp_session_initialize(struct http_mcp_session *hs,
    struct evhttp_request *req, struct jsonrpc_msg *msg)
{
	struct http_mcp_exchange	*ex;
	const cJSON			*version;
	char				*line;

	http_mcp_declare(hs, msg->params);
	ex = http_mcp_exchange_new(hs, req, HTTP_MCP_INIT, HTTP_MCP_INIT_ID,
	    strlen(HTTP_MCP_INIT_ID));
	ex->client_id = xstrndup(msg->id_text, msg->id_len);
	version = cJSON_GetObjectItemCaseSensitive(msg->params,
	    "protocolVersion");
	snprintf(ex->version, sizeof ex->version, "%s",
	    cJSON_IsString(version) &&
	    mcp_handshake_version(version->valuestring) ?
	    version->valuestring : MCP_VERSION_HANDSHAKE);
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":" HTTP_MCP_INIT_ID ","
	    "\"method\":\"broker/session\",\"params\":{\"server\":%s,"
	    "\"thread\":%s,\"create\":true}}", hs->server_json,
	    hs->thread_json);
	dispatch_line(hs->b, &hs->front, line, strlen(line));
	free(line);
	return (200);
}

/*
 * A notification or a response of the client: to the core as it is
 * (notifications/initialized is absorbed); 202.
 */
int
http_mcp_session_pass(struct http_mcp_session *hs, struct evhttp_request *req,
    const char *method, const char *body, size_t len)
{
	if (method == NULL || strcmp(method, "notifications/initialized") != 0)
		dispatch_line(hs->b, &hs->front, body, len);
	return (http_mcp_session_accepted(req));
}

/* Whether req's Accept header takes type. */
int
http_mcp_session_accepts(struct evhttp_request *req, const char *type)
{
	const char	*accept;

	accept = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept");
	return (accept != NULL && strcasestr(accept, type) != NULL);
}

/*
 * A request of an established session: passed to the core with server
 * and thread added, answered on this POST (json or event stream).
 */
int
http_mcp_session_call(struct http_mcp_session *hs, struct evhttp_request *req,
    struct jsonrpc_msg *msg)
{
	static const char *const token[] = { "params", "_meta",
	    "progressToken", NULL };
	struct broker			*b = hs->b;
	size_t				 max = broker_config(b)->max_message_bytes;
	struct http_mcp_exchange	*ex;
	struct scan_member		 m;
	cJSON				*data;
	char				*id, *line;
	size_t				 len;
	int				 status;

	id = xstrndup(msg->id_text, msg->id_len);
	if (strcmp(msg->method, "ping") == 0) {
		xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}",
		    id);
		http_mcp_reply_json(req, line, strlen(line), NULL);
		free(line);
		free(id);
		return (200);
	}
	if (http_mcp_exchange_find(hs, msg->id_text, msg->id_len) != NULL) {
		status = http_mcp_session_reply_error(req, 400, "Bad Request", id,
		    RPC_INVALID_REQUEST, NULL, "A request with this id is "
		    "still in flight in this MCP session; ids must be "
		    "unique.");
		free(id);
		return (status);
	}
	if (hs->front.paused) {
		status = http_mcp_session_reply_error(req, 429, "Too Many Requests", id,
		    RPC_AT_CAPACITY, NULL, "This MCP session has %d requests "
		    "in flight (FRONT_MAX_IN_FLIGHT); wait for some answers.",
		    FRONT_MAX_IN_FLIGHT);
		free(id);
		return (status);
	}
	if ((line = wire_route(msg->line, msg->line_len, hs->server_json,
	    hs->thread_json, 0, &len)) == NULL) {
		status = http_mcp_session_reply_error(req, 400, "Bad Request", id,
		    RPC_INVALID_PARAMS, NULL, "params must be an object (the "
		    "broker adds server and thread to it).");
		free(id);
		return (status);
	}
	if (len > max) {
		data = cJSON_CreateObject();
		cJSON_AddNumberToObject(data, "max_message_bytes", (double)max);
		status = http_mcp_session_reply_error(req, 413, "Payload Too Large", id,
		    RPC_TOO_LARGE, data, "The message with server and thread "
		    "added is longer than max_message_bytes.");
		free(line);
		free(id);
		return (status);
	}
	free(id);

	ex = http_mcp_exchange_new(hs, req, HTTP_MCP_CALL, msg->id_text,
	    msg->id_len);
	if (scan_path(msg->line, msg->line_len, token, &m) == 0) {
		ex->token = xstrndup(m.value.p, m.value.len);
		ex->token_len = m.value.len;
	}
	if (http_mcp_session_accepts(req, "text/event-stream") && (ex->token != NULL ||
	    hs->front.can_sample || hs->front.can_elicit)) {
		ex->sse = 1;
		http_mcp_stream_start(req);
	}
	/* The answer may come at once, and finish ex. */
	dispatch_line(b, &hs->front, line, len);
	free(line);
	return (200);
}

/* GET: the session's standalone event stream (one at a time: 409). */
int
http_mcp_session_stream(struct http_mcp_session *hs,
    struct evhttp_request *req)
{
	if (hs->stream != NULL && http_mcp_req_alive(hs->stream))
		return (http_mcp_session_reply_error(req, 409, "Conflict", NULL,
		    RPC_INVALID_REQUEST, NULL, "This MCP session has its GET "
		    "stream open already; only one may be."));
	if (hs->stream != NULL)
		evhttp_send_reply_end(hs->stream);	/* frees it */
	hs->stream = req;
	hs->stream_evcon = evhttp_request_get_connection(req);
	http_mcp_stream_start(req);
	return (200);
}

/* Whether hs is the session of uid for server and thread called id. */
int
http_mcp_session_is(struct http_mcp_session *hs, uid_t uid, const char *id,
    const char *server, const char *thread)
{
	return (hs->front.uid == uid && strcmp(hs->id, id) == 0 &&
	    strcmp(hs->server, server) == 0 && strcmp(hs->thread, thread) == 0);
}

/* The session's user. */
uid_t
http_mcp_session_uid(struct http_mcp_session *hs)
{
	return (hs->front.uid);
}

/* Whether nothing is open for the session (it may be ended for room). */
int
http_mcp_session_idle(struct http_mcp_session *hs)
{
	return (TAILQ_EMPTY(&hs->exchanges) && hs->stream == NULL);
}

/* The session was named by a request: it is not idle. */
void
http_mcp_session_touch(struct http_mcp_session *hs)
{
	hs->last_used = clock_s();
}
