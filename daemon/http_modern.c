/*
 * Clients of the handshake-free protocol 2026-07-28 on the Streamable
 * HTTP endpoint (specification 2026-07-28, basic/transports/
 * streamable-http.mdx, basic/versioning.mdx, server/discover.mdx).
 *
 * A POST without Mcp-Session-Id whose request carries the 2026-07-28
 * members in params._meta (or whose MCP-Protocol-Version header names a
 * version that is not a handshake one) stands alone: it is checked the
 * way that transport says (an unsupported version: 400 and -32022 with
 * {supported, requested}; a required _meta member missing: 400 and
 * -32602; MCP-Protocol-Version, Mcp-Method or Mcp-Name missing or not
 * matching the body: 400 and -32020), then
 *
 *  - server/discover is answered by the broker from the session for
 *    (user, server, thread), started if need be: the versions the broker
 *    serves, the child's capabilities, instructions and serverInfo,
 *    whichever generation the child speaks;
 *  - ping is answered {} at once;
 *  - any other request goes to that session as an NDJSON client's would
 *    (server and thread from the URL); a handshake child gets it without
 *    the 2026-07-28 members (mcpclient_prepare), a 2026-07-28 child with
 *    them. An unknown method (-32601) is answered 404, as the transport
 *    says.
 *
 * Each such request is a client of the core of its own (a struct front)
 * for as long as it runs. It declares neither sampling nor elicitation:
 * the protocol has no requests from server to client, so a child's
 * request finds no one here and gets -32601. Its answer comes as
 * application/json, or as text/event-stream when the client accepts one
 * and asked for progress or log messages (its _meta's logLevel), or for
 * subscriptions/listen: its progress and the session's log messages at
 * its level go on that stream before the answer. A client that
 * closes its connection cancels its request (the transport's rule): the
 * child is sent notifications/cancelled. GET and DELETE are not part of
 * the protocol: 405.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "broker.h"
#include "config.h"
#include "dispatch.h"
#include "errors.h"
#include "front.h"
#include "http_mcp_session.h"
#include "http_modern.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "request.h"
#include "scan.h"
#include "version.h"
#include "wire.h"
#include "xmalloc.h"

/*
 * How often connections with a request waiting are looked at for a
 * client that closed (evhttp reads nothing from them meanwhile).
 */
#define HTTP_MODERN_LEFT_MS	250

/* The id of the broker/session call a server/discover waits on. */
#define HTTP_MODERN_DISCOVER_ID	"\"mcp-broker/http-discover\""

/* One request of a 2026-07-28 client, in flight. */
struct http_modern_call {
	struct front			 front;	/* the core's side */
	struct http_modern		*hm;
	struct evhttp_request		*req;	/* NULL: answered, or left */
	struct evhttp_connection	*evcon;	/* req's, until done */
	char				*id;	/* the client's id, as text */
	char				*token;	/* progress token, or NULL */
	size_t				 token_len;
	char				*server_json;
	int				 discover;
	int				 sse;	/* text/event-stream, started */
	int				 done;	/* to be reaped */
	TAILQ_ENTRY(http_modern_call)	 entry;
};
TAILQ_HEAD(http_modern_calls, http_modern_call);

struct http_modern {
	struct broker			*b;
	struct http_modern_calls	 calls;
	struct event			*reap;	/* frees the done ones */
	struct event			*watch;	/* finds clients that left */
};

static void	http_modern_reap_cb(evutil_socket_t, short, void *);
static void	http_modern_watch_cb(evutil_socket_t, short, void *);
static void	http_modern_send_op(void *, cJSON *);
static void	http_modern_send_result_op(void *, const char *, size_t,
		    const char *, size_t, const char *, size_t);
static void	http_modern_send_line_op(void *, const char *, size_t);
static void	http_modern_pause_op(void *);
static void	http_modern_close_op(void *, const char *);
static void	http_modern_deliver(struct http_modern_call *, const char *,
		    size_t);

/* What a 2026-07-28 request does for the core. */
static const struct front_ops http_modern_ops = {
	.send = http_modern_send_op,
	.send_result = http_modern_send_result_op,
	.send_line = http_modern_send_line_op,
	.pause = http_modern_pause_op,
	.resume = http_modern_pause_op,
	.close = http_modern_close_op,
};

/* The 2026-07-28 side of broker b's HTTP endpoint. */
struct http_modern *
http_modern_new(struct broker *b)
{
	struct http_modern	*hm;

	hm = xcalloc(1, sizeof *hm);
	hm->b = b;
	TAILQ_INIT(&hm->calls);
	hm->reap = event_new(broker_base(b), -1, 0, http_modern_reap_cb, hm);
	hm->watch = event_new(broker_base(b), -1, 0, http_modern_watch_cb, hm);
	return (hm);
}

/* Take c off the core and the endpoint, and free it. */
static void
http_modern_call_free(struct http_modern_call *c)
{
	/* Requests still in flight (the client left) are cancelled. */
	broker_front_gone(c->hm->b, &c->front);
	TAILQ_REMOVE(&c->hm->calls, c, entry);
	free(c->id);
	free(c->token);
	free(c->server_json);
	free(c);
}

/* Free the endpoint and every request it still holds. */
void
http_modern_free(struct http_modern *hm)
{
	struct http_modern_call	*c;

	if (hm == NULL)
		return;
	while ((c = TAILQ_FIRST(&hm->calls)) != NULL) {
		if (c->req != NULL)
			evhttp_send_reply_end(c->req);
		http_modern_call_free(c);
	}
	event_free(hm->reap);
	event_free(hm->watch);
	free(hm);
}

/* Free the requests that are over, outside the callbacks that ended them. */
static void
http_modern_reap_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_modern	*hm = arg;
	struct http_modern_call	*c, *next;

	(void)fd;
	(void)events;
	for (c = TAILQ_FIRST(&hm->calls); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->done)
			http_modern_call_free(c);
	}
}

/* c is over: nothing more goes to its client; freed soon. */
static void
http_modern_call_done(struct http_modern_call *c)
{
	c->done = 1;
	c->front.gone = 1;
	c->req = NULL;
	c->evcon = NULL;
	event_active(c->hm->reap, EV_TIMEOUT, 1);
}

/*
 * c's client is gone before its answer: c ends, which cancels its
 * request at the child (closing the stream is the transport's cancel).
 * A request evhttp took off its connection is ours to free: evhttp
 * 2.1 does that to an unfinished request when a write fails or times
 * out (evhttp_connection_incoming_fail), then frees the connection.
 */
static void
http_modern_call_left(struct http_modern_call *c)
{
	log_debug("http client %llu: left before its answer; cancelling",
	    (unsigned long long)c->front.serial);
	if (evhttp_request_get_connection(c->req) == NULL)
		evhttp_send_reply_end(c->req);	/* frees it */
	http_modern_call_done(c);
}

/*
 * Look at the connections of requests still waiting: one whose client
 * closed it is freed, which cancels its request.
 */
static void
http_modern_watch_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_modern		*hm = arg;
	struct http_modern_call		*c;
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct timeval			 tv = { 0, HTTP_MODERN_LEFT_MS * 1000 };
	ssize_t				 n;
	char				 byte;
	int				 waiting = 0;

	(void)fd;
	(void)events;
	TAILQ_FOREACH(c, &hm->calls, entry) {
		if (c->done || c->req == NULL)
			continue;
		if ((evcon = evhttp_request_get_connection(c->req)) == NULL) {
			/* Let go by evhttp without a close seen. */
			http_modern_call_left(c);
			continue;
		}
		if ((bev = evhttp_connection_get_bufferevent(evcon)) == NULL) {
			waiting = 1;
			continue;
		}
		n = recv(bufferevent_getfd(bev), &byte, 1,
		    MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR)) {
			/* Done first: evhttp frees the request with evcon. */
			http_modern_call_left(c);
			evhttp_connection_free(evcon);
			continue;
		}
		waiting = 1;
	}
	if (waiting)
		evtimer_add(hm->watch, &tv);
}

/*
 * A connection evhttp is freeing: a request of it still waiting is
 * cancelled. Matched on the connection kept at the start, as evhttp may
 * have taken the request off it already.
 */
void
http_modern_conn_closed(struct http_modern *hm, struct evhttp_connection *evcon)
{
	struct http_modern_call	*c;

	TAILQ_FOREACH(c, &hm->calls, entry) {
		if (!c->done && c->req != NULL && c->evcon == evcon)
			http_modern_call_left(c);
	}
}

/* The value of header name of req, or NULL. */
static const char *
http_modern_header(struct evhttp_request *req, const char *name)
{
	return (evhttp_find_header(evhttp_request_get_input_headers(req),
	    name));
}

/* params._meta[name] of msg, or NULL. */
static const cJSON *
http_modern_meta(const struct jsonrpc_msg *msg, const char *name)
{
	const cJSON	*meta;

	meta = cJSON_GetObjectItemCaseSensitive(msg->params, "_meta");
	return (cJSON_GetObjectItemCaseSensitive(meta, name));
}

/*
 * Whether a POST without Mcp-Session-Id is a 2026-07-28 client's: its
 * request carries the protocol's version member, or its
 * MCP-Protocol-Version header names no handshake version, or it is
 * server/discover.
 */
int
http_modern_wants(struct evhttp_request *req, const struct jsonrpc_msg *msg)
{
	const char	*version;

	if (http_modern_header(req, "Mcp-Session-Id") != NULL)
		return (0);
	if (msg->kind == JSONRPC_REQUEST &&
	    (strcmp(msg->method, "server/discover") == 0 ||
	    http_modern_meta(msg, MCP_META_VERSION) != NULL))
		return (1);
	version = http_modern_header(req, "MCP-Protocol-Version");
	return (version != NULL && !mcp_handshake_version(version));
}

/*
 * GET and DELETE without Mcp-Session-Id from a 2026-07-28 client: 405,
 * as that protocol has neither. Returns the status, or 0 if req is not
 * such a client's.
 */
int
http_modern_refuses(struct evhttp_request *req)
{
	const char	*version;

	version = http_modern_header(req, "MCP-Protocol-Version");
	if ((evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_DELETE) ||
	    http_modern_header(req, "Mcp-Session-Id") != NULL ||
	    version == NULL || mcp_handshake_version(version))
		return (0);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    "POST");
	return (http_mcp_session_reply_error(req, 405, "Method Not Allowed",
	    NULL, RPC_INVALID_REQUEST, NULL, "Protocol %s has no GET stream "
	    "and no sessions to DELETE; POST each request.",
	    MCP_VERSION_MODERN));
}

/* One base64 digit's value, or -1. */
static int
http_modern_b64(int ch)
{
	static const char	 digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*p;

	if (ch == '\0' || (p = strchr(digits, ch)) == NULL)
		return (-1);
	return ((int)(p - digits));
}

/*
 * A header value as the transport encodes it: as it is, or the bytes of
 * =?base64?...?= decoded (allocated, NUL-terminated). NULL if the
 * encoding is broken.
 */
static char *
http_modern_decode(const char *value)
{
	size_t	 len = strlen(value), n = 0, i;
	char	*out;
	int	 v, bits = 0;
	unsigned int acc = 0;

	if (len < 11 || strncmp(value, "=?base64?", 9) != 0 ||
	    strcmp(value + len - 2, "?=") != 0)
		return (xstrdup(value));
	out = xmalloc(len);
	for (i = 9; i < len - 2; i++) {
		if (value[i] == '=')
			break;
		if ((v = http_modern_b64(value[i])) < 0) {
			free(out);
			return (NULL);
		}
		acc = (acc << 6) | (unsigned int)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return (out);
}

/*
 * Mcp-Name against the body's name (tools/call, prompts/get) or uri
 * (resources/read): 0 if they match or the method has none, else -1.
 */
static int
http_modern_check_name(struct evhttp_request *req,
    const struct jsonrpc_msg *msg)
{
	const char	*member, *header;
	const cJSON	*value;
	char		*decoded;
	int		 ok;

	if (strcmp(msg->method, "tools/call") == 0 ||
	    strcmp(msg->method, "prompts/get") == 0)
		member = "name";
	else if (strcmp(msg->method, "resources/read") == 0)
		member = "uri";
	else
		return (0);
	value = cJSON_GetObjectItemCaseSensitive(msg->params, member);
	if ((header = http_modern_header(req, "Mcp-Name")) == NULL)
		return (cJSON_IsString(value) ? -1 : 0);
	if (!cJSON_IsString(value) || (decoded = http_modern_decode(header)) ==
	    NULL)
		return (-1);
	ok = strcmp(decoded, value->valuestring) == 0;
	free(decoded);
	return (ok ? 0 : -1);
}

/*
 * Check a 2026-07-28 request the way its transport says. 0, or -1 with
 * the error answered (*status set).
 */
static int
http_modern_check(struct evhttp_request *req, const struct jsonrpc_msg *msg,
    const char *id, int *status)
{
	const cJSON	*version, *caps;
	const char	*header, *method, *requested;
	cJSON		*data;

	version = http_modern_meta(msg, MCP_META_VERSION);
	header = http_modern_header(req, "MCP-Protocol-Version");
	requested = cJSON_IsString(version) ? version->valuestring : header;
	if (requested != NULL && strcmp(requested, MCP_VERSION_MODERN) != 0) {
		data = cJSON_CreateObject();
		cJSON_AddItemToObject(data, "supported",
		    mcp_supported_versions());
		cJSON_AddStringToObject(data, "requested", requested);
		*status = http_mcp_session_reply_error(req, 400, "Bad Request",
		    id, MCP_ERROR_UNSUPPORTED_VERSION, data, "Unsupported "
		    "protocol version: without an MCP session the broker "
		    "serves %s; handshake versions initialize first.",
		    MCP_VERSION_MODERN);
		return (-1);
	}
	caps = http_modern_meta(msg, MCP_META_CAPABILITIES);
	if (!cJSON_IsString(version) || !cJSON_IsObject(caps)) {
		*status = http_mcp_session_reply_error(req, 400, "Bad Request",
		    id, RPC_INVALID_PARAMS, NULL, "params._meta must carry "
		    "%s (\"%s\") and %s (an object) on every request.",
		    MCP_META_VERSION, MCP_VERSION_MODERN,
		    MCP_META_CAPABILITIES);
		return (-1);
	}
	method = http_modern_header(req, "Mcp-Method");
	if (header == NULL || strcmp(header, version->valuestring) != 0 ||
	    method == NULL || strcmp(method, msg->method) != 0 ||
	    http_modern_check_name(req, msg) != 0) {
		*status = http_mcp_session_reply_error(req, 400, "Bad Request",
		    id, MCP_ERROR_HEADER_MISMATCH, NULL, "Header mismatch: "
		    "MCP-Protocol-Version, Mcp-Method and (for tools/call, "
		    "prompts/get, resources/read) Mcp-Name are required and "
		    "must match the body.");
		return (-1);
	}
	return (0);
}

/* The HTTP status a 2026-07-28 client gets with an error of code. */
static int
http_modern_status(int code, const char **reason)
{
	switch (code) {
	case RPC_METHOD_NOT_FOUND:
	case RPC_UNKNOWN_SERVER:
		*reason = "Not Found";
		return (404);
	case RPC_FORBIDDEN:
		*reason = "Forbidden";
		return (403);
	case RPC_SHUTTING_DOWN:
		*reason = "Service Unavailable";
		return (503);
	case MCP_ERROR_HEADER_MISMATCH:
	case MCP_ERROR_UNSUPPORTED_VERSION:
	case MCP_ERROR_UNSUPPORTED_VERSION + 1:	/* missing capability */
		*reason = "Bad Request";
		return (400);
	default:
		*reason = "OK";
		return (200);
	}
}

/* Answer req with one message as application/json. */
static void
http_modern_reply(struct evhttp_request *req, const char *text, size_t len)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*body;
	struct scan_member	 m;
	const char		*reason = "OK";
	int			 status = 200;
	static const char *const code[] = { "error", "code", NULL };

	if (scan_path(text, len, code, &m) == 0)
		status = http_modern_status((int)strtol(m.value.p, NULL, 10),
		    &reason);
	body = evbuffer_new();
	evbuffer_add(body, text, len);
	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_send_reply(req, status, reason, body);
	evbuffer_free(body);
}

/* Write one message as an event on c's started stream. */
static void
http_modern_event(struct http_modern_call *c, const char *text, size_t len)
{
	struct evbuffer	*chunk;

	chunk = evbuffer_new();
	evbuffer_add(chunk, "data: ", 6);
	evbuffer_add(chunk, text, len);
	evbuffer_add(chunk, "\n\n", 2);
	evhttp_send_reply_chunk(c->req, chunk);
	evbuffer_free(chunk);
}

/*
 * The DiscoverResult for c's client, from broker/session's answer (line):
 * the versions the broker serves, the child's capabilities, instructions
 * and serverInfo. An error passes as it is, under the client's id.
 * Allocated (NUL-terminated).
 */
static char *
http_modern_discovered(struct http_modern_call *c, const char *line,
    size_t len)
{
	cJSON	*answer, *id, *out, *result, *meta, *session, *item;
	char	*text;

	answer = cJSON_ParseWithLength(line, len);
	id = jsonrpc_id_raw(c->id, strlen(c->id));
	if ((item = cJSON_DetachItemFromObject(answer, "error")) != NULL) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "jsonrpc", "2.0");
		cJSON_AddItemToObject(out, "id", id);
		cJSON_AddItemToObject(out, "error", item);
	} else {
		session = cJSON_GetObjectItemCaseSensitive(answer, "result");
		result = cJSON_CreateObject();
		cJSON_AddStringToObject(result, "resultType", "complete");
		cJSON_AddItemToObject(result, "supportedVersions",
		    mcp_supported_versions());
		item = cJSON_DetachItemFromObject(session, "capabilities");
		cJSON_AddItemToObject(result, "capabilities",
		    cJSON_IsObject(item) ? item : cJSON_CreateObject());
		if (!cJSON_IsObject(item))
			cJSON_Delete(item);
		item = cJSON_DetachItemFromObject(session, "instructions");
		if (cJSON_IsString(item))
			cJSON_AddItemToObject(result, "instructions", item);
		else
			cJSON_Delete(item);
		meta = cJSON_AddObjectToObject(result, "_meta");
		item = cJSON_DetachItemFromObject(session, "server_info");
		if (!cJSON_IsObject(item)) {
			cJSON_Delete(item);
			item = cJSON_CreateObject();
			cJSON_AddItemToObject(item, "name",
			    cJSON_Parse(c->server_json));
			cJSON_AddStringToObject(item, "version",
			    BROKER_VERSION);
		}
		cJSON_AddItemToObject(meta, MCP_META_SERVER_INFO, item);
		item = cJSON_CreateObject();
		cJSON_AddItemToObject(item, "id",
		    cJSON_DetachItemFromObject(session, "id"));
		cJSON_AddItemToObject(item, "generation",
		    cJSON_DetachItemFromObject(session, "generation"));
		cJSON_AddItemToObject(meta, MCP_META_SESSION, item);
		out = jsonrpc_result(id, result);
	}
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	cJSON_Delete(answer);
	return (text);
}

/*
 * One message the core sends c's client, as text: the answer ends the
 * exchange; progress and the request's notifications go on its stream;
 * a request to the client cannot be taken.
 */
static void
http_modern_deliver(struct http_modern_call *c, const char *text, size_t len)
{
	static const char *const token[] = { "params", "progressToken", NULL };
	struct scan_member	 m, id;
	struct upcall		*up;
	char			*discovered;

	if (c->done || c->req == NULL)
		return;
	if (scan_find(text, len, "method", &m) != 0) {
		if (c->discover) {
			discovered = http_modern_discovered(c, text, len);
			http_modern_reply(c->req, discovered,
			    strlen(discovered));
			free(discovered);
		} else if (c->sse) {
			http_modern_event(c, text, len);
			evhttp_send_reply_end(c->req);
		} else
			http_modern_reply(c->req, text, len);
		http_modern_call_done(c);
		return;
	}
	if (scan_find(text, len, "id", &id) == 0) {
		if ((up = upcall_find(&c->front, id.value.p,
		    id.value.len)) != NULL)
			upcall_fail(up, "A client of protocol "
			    MCP_VERSION_MODERN " takes no requests from a "
			    "server.");
		return;
	}
	if (!c->sse)
		return;
	if (scan_path(text, len, token, &m) == 0 && (c->token == NULL ||
	    !scan_id_equal(c->token, c->token_len, m.value.p, m.value.len)))
		return;
	http_modern_event(c, text, len);
}

/* Send one message (a tree) to the client; takes msg. */
static void
http_modern_send_op(void *arg, cJSON *msg)
{
	char	*text;

	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	http_modern_deliver(arg, text, strlen(text));
	free(text);
}

/* Send a success result written from its parts (struct front_ops). */
static void
http_modern_send_result_op(void *arg, const char *id, size_t id_len,
    const char *meta, size_t meta_len, const char *body, size_t len)
{
	char	*text, *end;

	text = xmalloc(wire_result_size(id_len, meta_len, len));
	end = wire_result_fill(text, id, id_len, meta, meta_len, body, len);
	/* Without the newline the line ends with. */
	http_modern_deliver(arg, text, (size_t)(end - text) - 1);
	free(text);
}

/* Send one message written as text. */
static void
http_modern_send_line_op(void *arg, const char *line, size_t len)
{
	http_modern_deliver(arg, line, len);
}

/* One request in flight never reaches FRONT_MAX_IN_FLIGHT. */
static void
http_modern_pause_op(void *arg)
{
	(void)arg;
}

/* The broker drops the client (it is exiting): 503. */
static void
http_modern_close_op(void *arg, const char *why)
{
	struct http_modern_call	*c = arg;

	if (c->done || c->req == NULL)
		return;
	if (c->sse)
		evhttp_send_reply_end(c->req);
	else
		http_mcp_session_reply_error(c->req, 503, "Service "
		    "Unavailable", c->id, RPC_SHUTTING_DOWN, NULL, "The "
		    "broker is shutting down (%s); retry once it is back.",
		    why);
	http_modern_call_done(c);
}

/* A new request of uid for the core, answered on req. */
static struct http_modern_call *
http_modern_call_new(struct http_modern *hm, struct evhttp_request *req,
    uid_t uid, int admin, const char *id, const char *server_json)
{
	struct http_modern_call	*c;

	c = xcalloc(1, sizeof *c);
	c->hm = hm;
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	c->id = xstrdup(id);
	c->server_json = xstrdup(server_json);
	front_init(&c->front, &http_modern_ops, c, broker_counters(hm->b),
	    uid, 0, admin);
	broker_front_add(hm->b, &c->front);
	TAILQ_INSERT_TAIL(&hm->calls, c, entry);
	if (!evtimer_pending(hm->watch, NULL))
		event_active(hm->watch, EV_TIMEOUT, 1);
	return (c);
}

/* server/discover: broker/session starts (or finds) the session. */
static int
http_modern_discover(struct http_modern_call *c, const char *thread_json)
{
	char	*line;

	c->discover = 1;
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":" HTTP_MODERN_DISCOVER_ID
	    ",\"method\":\"broker/session\",\"params\":{\"server\":%s,"
	    "\"thread\":%s,\"create\":true}}", c->server_json, thread_json);
	/* The answer may come at once, and end c. */
	dispatch_line(c->hm->b, &c->front, line, strlen(line));
	free(line);
	return (200);
}

/*
 * A request forwarded to the session: server and thread added, answered
 * as JSON or as an event stream.
 */
static int
http_modern_forward(struct http_modern_call *c, struct jsonrpc_msg *msg,
    const char *thread_json)
{
	static const char *const token[] = { "params", "_meta",
	    "progressToken", NULL };
	struct broker		*b = c->hm->b;
	size_t			 max = broker_config(b)->max_message_bytes;
	struct evhttp_request	*req = c->req;
	struct scan_member	 m;
	cJSON			*data;
	char			*line;
	size_t			 len;
	int			 status;

	line = wire_route(msg->line, msg->line_len, c->server_json,
	    thread_json, 0, &len);
	if (line == NULL || len > max) {
		data = NULL;
		if (line != NULL) {
			data = cJSON_CreateObject();
			cJSON_AddNumberToObject(data, "max_message_bytes",
			    (double)max);
		}
		status = line == NULL ?
		    http_mcp_session_reply_error(req, 400, "Bad Request",
		    c->id, RPC_INVALID_PARAMS, NULL, "params must be an "
		    "object (the broker adds server and thread to it).") :
		    http_mcp_session_reply_error(req, 413, "Payload Too "
		    "Large", c->id, RPC_TOO_LARGE, data, "The message with "
		    "server and thread added is longer than "
		    "max_message_bytes.");
		free(line);
		http_modern_call_done(c);
		return (status);
	}
	if (scan_path(msg->line, msg->line_len, token, &m) == 0) {
		c->token = xstrndup(m.value.p, m.value.len);
		c->token_len = m.value.len;
	}
	if (http_mcp_session_accepts(req, "text/event-stream") &&
	    (c->token != NULL || http_modern_meta(msg, MCP_META_LOG_LEVEL) !=
	    NULL || strcmp(msg->method, "subscriptions/listen") == 0)) {
		c->sse = 1;
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/event-stream");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Cache-Control", "no-cache");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "X-Accel-Buffering", "no");
		evhttp_send_reply_start(req, 200, "OK");
	}
	/* The answer may come at once, and end c. */
	dispatch_line(b, &c->front, line, len);
	free(line);
	return (200);
}

/*
 * A POST of a 2026-07-28 client (http_modern_wants) for server and
 * thread, of the user uid (admin: an admin). server is configured and
 * enabled: http_mcp_serve answered any other 404 (-32010) before the
 * body was read, ping included. Returns the status it was (or will be)
 * answered with.
 */
int
http_modern_post(struct http_modern *hm, struct evhttp_request *req,
    struct jsonrpc_msg *msg, uid_t uid, int admin, const char *server,
    const char *thread)
{
	struct http_modern_call	*c;
	cJSON			*s;
	char			*id, *server_json, *thread_json, *text;
	int			 status;

	if (msg->kind == JSONRPC_RESPONSE)
		return (http_mcp_session_reply_error(req, 400, "Bad Request",
		    NULL, RPC_INVALID_REQUEST, NULL, "Clients of protocol %s "
		    "send no responses: a server asks nothing of them.",
		    MCP_VERSION_MODERN));
	if (msg->kind == JSONRPC_NOTIFICATION) {
		/* The protocol defines none over HTTP: closing a stream
		   is the cancel. */
		evhttp_send_reply(req, 202, "Accepted", NULL);
		return (202);
	}
	id = xstrndup(msg->id_text, msg->id_len);
	if (http_modern_check(req, msg, id, &status) != 0) {
		free(id);
		return (status);
	}
	if (strcmp(msg->method, "ping") == 0) {
		xasprintf(&text, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":"
		    "{}}", id);
		http_modern_reply(req, text, strlen(text));
		free(text);
		free(id);
		return (200);
	}
	s = cJSON_CreateString(server);
	server_json = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	s = cJSON_CreateString(thread);
	thread_json = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	c = http_modern_call_new(hm, req, uid, admin, id, server_json);
	if (strcmp(msg->method, "server/discover") == 0)
		status = http_modern_discover(c, thread_json);
	else
		status = http_modern_forward(c, msg, thread_json);
	free(server_json);
	free(thread_json);
	free(id);
	return (status);
}
