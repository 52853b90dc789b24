/*
 * MCP Streamable HTTP (specification 2025-11-25, basic/transports.mdx)
 * at /mcp/{server}/{thread}, each a percent-encoded path segment held to
 * the name rule of every request.
 *
 * initialize makes an HTTP MCP session (http_mcp_session.c), answered
 * by the broker itself from the child's own handshake, and issues the
 * Mcp-Session-Id that names it: random, and naming this HTTP client's
 * session, not the child, so a second initialize on the same URL
 * reaches the same child and its state. Every later message names its
 * session with that header (none: 400; unknown or ended: 404). GET opens
 * the session's standalone event stream, DELETE ends the session (the
 * child keeps running). A POST without Mcp-Session-Id from a client of
 * the handshake-free 2026-07-28 protocol stands alone (http_modern.c).
 *
 * HTTP MCP sessions are clients: they count toward max_clients and
 * max_clients_per_uid. At a bound, initialize ends the least recently
 * used idle session of the same user to make room, else gets 503.
 */
#include <sys/queue.h>
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "broker.h"
#include "config.h"
#include "errors.h"
#include "http_mcp.h"
#include "http_mcp_session.h"
#include "http_modern.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "route.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

/*
 * A session, from its initialize on: known by its id once that is
 * answered. Listed before, so that closing a connection or the endpoint
 * reaches a session still waiting for its child as well.
 */
struct http_mcp_entry {
	struct http_mcp_session		*hs;
	int				 known;
	TAILQ_ENTRY(http_mcp_entry)	 entry;
};
TAILQ_HEAD(http_mcp_entries, http_mcp_entry);

struct http_mcp {
	struct broker			*b;
	struct http_mcp_entries		 sessions;	/* least recent first */
	struct http_modern		*modern;	/* 2026-07-28 clients */
};

/* The MCP endpoint of broker b, without sessions yet. */
struct http_mcp *
http_mcp_new(struct broker *b)
{
	struct http_mcp	*hm;

	hm = xcalloc(1, sizeof *hm);
	hm->b = b;
	TAILQ_INIT(&hm->sessions);
	hm->modern = http_modern_new(b);
	return (hm);
}

/* End every session, then free the endpoint. */
void
http_mcp_free(struct http_mcp *hm)
{
	struct http_mcp_entry	*e;

	if (hm == NULL)
		return;
	/* Each end takes its entry off (http_mcp_ended_cb). */
	while ((e = TAILQ_FIRST(&hm->sessions)) != NULL)
		http_mcp_session_end(e->hs, "the HTTP endpoint is closing");
	http_modern_free(hm->modern);
	free(hm);
}

/* A session answered its initialize: it is known by its id now. */
static void
http_mcp_ready_cb(struct http_mcp_session *hs, void *arg)
{
	struct http_mcp		*hm = arg;
	struct http_mcp_entry	*e;

	TAILQ_FOREACH(e, &hm->sessions, entry) {
		if (e->hs == hs) {
			e->known = 1;
			TAILQ_REMOVE(&hm->sessions, e, entry);
			TAILQ_INSERT_TAIL(&hm->sessions, e, entry);
			return;
		}
	}
}

/* A known session ended: forget it. */
static void
http_mcp_ended_cb(struct http_mcp_session *hs, void *arg)
{
	struct http_mcp		*hm = arg;
	struct http_mcp_entry	*e;

	TAILQ_FOREACH(e, &hm->sessions, entry) {
		if (e->hs == hs) {
			TAILQ_REMOVE(&hm->sessions, e, entry);
			free(e);
			return;
		}
	}
}

/*
 * A connection evhttp is freeing: the sessions forget the requests of
 * it they hold, which evhttp frees with it.
 */
void
http_mcp_conn_closed(struct http_mcp *hm, struct evhttp_connection *evcon)
{
	struct http_mcp_entry	*e;

	TAILQ_FOREACH(e, &hm->sessions, entry)
		http_mcp_session_conn_closed(e->hs, evcon);
	http_modern_conn_closed(hm->modern, evcon);
}

/*
 * Split /mcp/SERVER/THREAD into its two names, percent-decoded and
 * checked by the name rule. 0, or -1 with the HTTP answer sent
 * (*status set).
 */
static int
http_mcp_path(struct evhttp_request *req, const char *path, char **server,
    char **thread, int *status)
{
	struct route_fault	 fault;

	switch (route_http_path(path, server, thread, &fault)) {
	case 0:
		return (0);
	case -1:
		*status = http_mcp_session_reply_error(req, 404, "Not Found",
		    NULL, RPC_INVALID_REQUEST, NULL, "No such path; the MCP "
		    "endpoint is /mcp/SERVER/THREAD.");
		return (-1);
	default:
		*status = http_mcp_session_reply_error(req, 400, "Bad Request",
		    NULL, fault.code, NULL, "%s", fault.message);
		return (-1);
	}
}

/*
 * The session req names with Mcp-Session-Id, for uid, server and
 * thread; NULL with the answer sent (400 without the header, 404 for an
 * unknown or ended id) and *status set.
 */
static struct http_mcp_session *
http_mcp_find(struct http_mcp *hm, struct evhttp_request *req, uid_t uid,
    const char *server, const char *thread, int *status)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct http_mcp_entry	*e;
	const char		*id;

	if ((id = evhttp_find_header(in, "Mcp-Session-Id")) == NULL) {
		*status = http_mcp_session_reply_error(req, 400, "Bad Request",
		    NULL, RPC_INVALID_REQUEST, NULL, "An Mcp-Session-Id "
		    "header is required; initialize first.");
		return (NULL);
	}
	TAILQ_FOREACH(e, &hm->sessions, entry) {
		if (e->known &&
		    http_mcp_session_is(e->hs, uid, id, server, thread))
			break;
	}
	if (e == NULL) {
		*status = http_mcp_session_reply_error(req, 404, "Not Found",
		    NULL, RPC_INVALID_REQUEST, NULL, "No such MCP session (it "
		    "ended or was never made here); initialize again.");
		return (NULL);
	}
	/* Most recently used last: the first make room first. */
	TAILQ_REMOVE(&hm->sessions, e, entry);
	TAILQ_INSERT_TAIL(&hm->sessions, e, entry);
	http_mcp_session_touch(e->hs);
	return (e->hs);
}

/*
 * Room for one more client of uid: at a bound, the least recently used
 * idle HTTP session of the same user ends to make it. 0, or -1 with
 * *bound naming the bound reached.
 */
static int
http_mcp_room(struct http_mcp *hm, uid_t uid, int admin, const char **bound)
{
	struct http_mcp_entry	*e;

	while (!broker_client_room(hm->b, uid, admin, bound)) {
		TAILQ_FOREACH(e, &hm->sessions, entry) {
			if (e->known && http_mcp_session_uid(e->hs) == uid &&
			    http_mcp_session_idle(e->hs))
				break;
		}
		if (e == NULL)
			return (-1);
		http_mcp_session_end(e->hs, *bound);
	}
	return (0);
}

/* initialize: a new session, answered once the child is ready. */
static int
http_mcp_initialize(struct http_mcp *hm, struct evhttp_request *req,
    struct jsonrpc_msg *msg, uid_t uid, int admin, const char *server,
    const char *thread)
{
	struct http_mcp_session	*hs;
	struct http_mcp_entry	*e;
	const char		*bound;
	char			*id;
	int			 status;

	if (http_mcp_room(hm, uid, admin, &bound) != 0) {
		id = xstrndup(msg->id_text, msg->id_len);
		status = http_mcp_session_reply_error(req, 503, "Service "
		    "Unavailable", id, RPC_AT_CAPACITY, NULL, "The broker has "
		    "all the clients it may have (%s); end an MCP session "
		    "with DELETE or retry later.", bound);
		free(id);
		return (status);
	}
	hs = http_mcp_session_new(hm->b, uid, admin, server, thread,
	    http_mcp_ready_cb, http_mcp_ended_cb, hm);
	e = xcalloc(1, sizeof *e);
	e->hs = hs;
	TAILQ_INSERT_TAIL(&hm->sessions, e, entry);
	return (http_mcp_session_initialize(hs, req, msg));
}

/*
 * POST: one JSON-RPC message. initialize makes a session; anything else
 * must name one with Mcp-Session-Id.
 */
static int
http_mcp_post(struct http_mcp *hm, struct evhttp_request *req, uid_t uid,
    int admin, const char *server, const char *thread)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq	*headers = evhttp_request_get_input_headers(req);
	struct http_mcp_session	*hs;
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;
	struct scan_member	 m;
	const char		*body, *version;
	size_t			 len = evbuffer_get_length(in);
	int			 status;

	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	/*
	 * A body may be laid out on many lines, as JSON allows; what reaches
	 * a child is one line, or a newline in it would cut the message
	 * there (and start another, of the client's making).
	 */
	if (len > 0)
		wire_one_line((char *)body, len);
	if (jsonrpc_parse(body, len, &msg, &fault) != 0) {
		/* A malformed answer to a child's request: the child is
		   told at once (dispatch_line). */
		if (fault.grammar_ok && fault.id != NULL &&
		    scan_find(body, len, "method", &m) != 0) {
			jsonrpc_fault_clear(&fault);
			if ((hs = http_mcp_find(hm, req, uid, server,
			    thread, &status)) == NULL)
				return (status);
			return (http_mcp_session_pass(hs, req, NULL, body,
			    len));
		}
		status = http_mcp_session_reply_error(req, 400, "Bad Request",
		    fault.id != NULL ? fault.id->valuestring : NULL,
		    fault.code, NULL, "%s", fault.message);
		jsonrpc_fault_clear(&fault);
		return (status);
	}
	if (msg.kind == JSONRPC_REQUEST &&
	    strcmp(msg.method, "initialize") == 0) {
		status = http_mcp_initialize(hm, req, &msg, uid, admin, server,
		    thread);
		jsonrpc_msg_clear(&msg);
		return (status);
	}
	if (http_modern_wants(req, &msg)) {
		status = http_modern_post(hm->modern, req, &msg, uid, admin,
		    server, thread);
		jsonrpc_msg_clear(&msg);
		return (status);
	}
	if ((hs = http_mcp_find(hm, req, uid, server, thread,
	    &status)) == NULL) {
		jsonrpc_msg_clear(&msg);
		return (status);
	}
	version = evhttp_find_header(headers, "MCP-Protocol-Version");
	if (version != NULL && !mcp_handshake_version(version)) {
		status = http_mcp_session_reply_error(req, 400, "Bad Request", NULL,
		    RPC_INVALID_REQUEST, NULL, "MCP-Protocol-Version %.32s is "
		    "not one the broker speaks here.", version);
		jsonrpc_msg_clear(&msg);
		return (status);
	}
	switch (msg.kind) {
	case JSONRPC_REQUEST:
		status = http_mcp_session_call(hs, req, &msg);
		break;
	case JSONRPC_NOTIFICATION:
		status = http_mcp_session_pass(hs, req, msg.method, body, len);
		break;
	case JSONRPC_RESPONSE:
	default:
		status = http_mcp_session_pass(hs, req, NULL, body, len);
		break;
	}
	jsonrpc_msg_clear(&msg);
	return (status);
}

/* GET: the session's standalone event stream (one at a time). */
static int
http_mcp_get(struct http_mcp *hm, struct evhttp_request *req, uid_t uid,
    const char *server, const char *thread)
{
	struct http_mcp_session	*hs;
	int			 status;

	if (!http_mcp_session_accepts(req, "text/event-stream")) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, POST, DELETE");
		return (http_mcp_session_reply_error(req, 405, "Method Not Allowed",
		    NULL, RPC_INVALID_REQUEST, NULL, "GET opens an event "
		    "stream: send Accept: text/event-stream."));
	}
	if ((hs = http_mcp_find(hm, req, uid, server, thread,
	    &status)) == NULL)
		return (status);
	return (http_mcp_session_stream(hs, req));
}

/* DELETE: end the session (the child keeps running). */
static int
http_mcp_delete(struct http_mcp *hm, struct evhttp_request *req, uid_t uid,
    const char *server, const char *thread)
{
	struct http_mcp_session	*hs;
	int			 status;

	if ((hs = http_mcp_find(hm, req, uid, server, thread,
	    &status)) == NULL)
		return (status);
	http_mcp_session_end(hs, "DELETE");
	evhttp_send_reply(req, 200, "OK", NULL);
	return (200);
}

/*
 * One authenticated request for a path under /mcp/, for the user uid
 * (admin: an admin). Returns the status it was (or will be) answered
 * with.
 */
int
http_mcp_serve(struct http_mcp *hm, struct evhttp_request *req,
    const char *path, uid_t uid, int admin)
{
	const struct server_conf	*sc;
	cJSON				*data;
	char				*server, *thread;
	int				 status;

	if (broker_exiting(hm->b))
		return (http_mcp_session_reply_error(req, 503, "Service Unavailable",
		    NULL, RPC_SHUTTING_DOWN, NULL, "The broker is shutting "
		    "down; retry once it is back."));
	if (http_mcp_path(req, path, &server, &thread, &status) != 0)
		return (status);
	sc = config_find_server(broker_config(hm->b), server);
	if (sc == NULL || sc->disabled) {
		data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "server", server);
		status = http_mcp_session_reply_error(req, 404, "Not Found", NULL,
		    RPC_UNKNOWN_SERVER, data, "Unknown server '%.64s'; "
		    "broker/servers lists the configured ones.", server);
	} else if ((status = http_modern_refuses(req)) == 0) {
		switch (evhttp_request_get_command(req)) {
		case EVHTTP_REQ_POST:
			status = http_mcp_post(hm, req, uid, admin, server,
			    thread);
			break;
		case EVHTTP_REQ_GET:
			status = http_mcp_get(hm, req, uid, server, thread);
			break;
		case EVHTTP_REQ_DELETE:
			status = http_mcp_delete(hm, req, uid, server, thread);
			break;
		default:
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Allow", "GET, POST, DELETE");
			status = http_mcp_session_reply_error(req, 405, "Method Not "
			    "Allowed", NULL, RPC_INVALID_REQUEST, NULL, "The "
			    "MCP endpoint takes POST, GET and DELETE.");
			break;
		}
	}
	free(server);
	free(thread);
	return (status);
}
