/*
 * What passes between a session's child and its clients besides answers:
 * the child's requests to a client (sampling, elicitation), their
 * withdrawal and completion, its progress, and its notifications, which
 * go to the clients attached to the session that asked for them
 * (attach.c), and the requests through which clients ask.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ask.h"
#include "attach.h"
#include "errors.h"
#include "front.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "process.h"
#include "request.h"
#include "scan.h"
#include "session.h"
#include "task.h"
#include "wire.h"
#include "xmalloc.h"

/* What a child's sampling (or elicitation) request needs of a client. */
static enum front_need
session_upcall_need(const struct jsonrpc_msg *msg, int sampling)
{
	const cJSON	*mode;

	if (sampling)
		return (cJSON_GetObjectItemCaseSensitive(msg->params,
		    "tools") != NULL ? FRONT_NEED_SAMPLING_TOOLS :
		    FRONT_NEED_SAMPLING);
	mode = cJSON_GetObjectItemCaseSensitive(msg->params, "mode");
	return (cJSON_IsString(mode) && strcmp(mode->valuestring, "url") ==
	    0 ? FRONT_NEED_ELICIT_URL : FRONT_NEED_ELICIT_FORM);
}

/* req, or the first request in flight after it that does more than
   wait (task_long_lived); NULL if none. */
static struct request *
session_upcall_next(struct request *req)
{
	while (req != NULL && task_long_lived(request_kind(req)))
		req = request_next_sent(req);
	return (req);
}

/*
 * The client a child's request goes to, of those whose declared
 * capabilities cover need; NULL if none.
 */
static struct front *
session_upcall_route(struct session *s, struct jsonrpc_msg *msg,
    enum front_need need)
{
	struct request_set	*set = session_requests(s);
	struct request		*req;
	struct front		*f;
	const char		*line;
	size_t			 len;

	(void)msg;
	/*
	 * 1. The task the request is for
	 *    (_meta["io.modelcontextprotocol/related-task"]): its client,
	 *    and nobody else, even if it cannot answer or has gone.
	 */
	line = session_line(s, &len);
	if (task_upcall_front(session_tasks(s), line, len, &f))
		return (f != NULL && front_can_answer(f, need) ? f : NULL);

	/*
	 * 2. The one request in flight on the session: its client. 3. Else
	 * the client with the oldest request in flight that can. Requests
	 * that only wait (tasks/result, subscriptions/listen) are no
	 * request's cause: they do not count.
	 */
	if ((req = session_upcall_next(request_first_sent(set))) != NULL &&
	    session_upcall_next(request_next_sent(req)) == NULL &&
	    front_can_answer(request_front(req), need))
		return (request_front(req));
	for (; req != NULL; req = session_upcall_next(request_next_sent(req))) {
		if (front_can_answer(request_front(req), need))
			return (request_front(req));
	}
	return (NULL);
}

/*
 * Pass a sampling (or elicitation) request to a client
 * (session_upcall_route), under an id of the broker's, stamped with the
 * session; a progress token becomes the upcall's id, and a URL-mode
 * elicitation's id is remembered for its completion. Nobody to ask:
 * -32601 naming the capability missing.
 */
void
session_upcall_cb(struct jsonrpc_msg *msg, int sampling, void *arg)
{
	static const char *const token_path[] = { "params", "_meta",
				    "progressToken", NULL };
	static const char *const elicit_path[] = { "params", "elicitationId",
				    NULL };
	struct session		*s = arg;
	struct request_set	*set = session_requests(s);
	struct upcall		*up;
	struct front		*f;
	struct wire_edit	 e[3] = {
		{ WIRE_SET, { "id", NULL }, NULL, 0 },
		{ WIRE_SET, { "params", "_meta", MCP_META_SESSION, NULL },
		    NULL, 0 },
		{ WIRE_SET, { "params", "_meta", "progressToken", NULL },
		    NULL, 0 },
	};
	struct scan_member	 token, elicit;
	enum front_need		 need = session_upcall_need(msg, sampling);
	const char		*line;
	char			 id[24], *out, *message;
	size_t			 len, out_len, nedits;
	int			 n, has_token;

	f = session_upcall_route(s, msg, need);
	if (f == NULL || upcall_count(set) >= SESSION_MAX_UPCALLS) {
		if (f == NULL)
			xasprintf(&message, "No client of this session that "
			    "declared %s can answer this request now (a "
			    "client declares it with broker/hello or its "
			    "initialize, and must have a request in flight "
			    "here).", front_need_name(need));
		else
			xasprintf(&message, "Too many requests to clients are "
			    "waiting (SESSION_MAX_UPCALLS).");
		process_send(session_process(s), jsonrpc_error(jsonrpc_id_raw(
		    msg->id_text, msg->id_len), RPC_METHOD_NOT_FOUND, message,
		    NULL));
		free(message);
		return;
	}
	up = upcall_new(set, f, msg->id_text, msg->id_len);

	/* Passed on byte for byte, but under the client's id and telling
	   it which session asks. */
	n = snprintf(id, sizeof id, "%lld", (long long)upcall_client_id(up));
	e[0].text = e[2].text = id;
	e[0].len = e[2].len = (size_t)n;
	e[1].text = session_stamp(s);
	e[1].len = strlen(e[1].text);
	line = session_line(s, &len);
	has_token = scan_path(line, len, token_path, &token) == 0;
	nedits = msg->params == NULL || cJSON_IsObject(msg->params) ?
	    (has_token ? 3 : 2) : 1;
	if ((out = wire_rewrite(line, len, e, nedits, 0, &out_len)) == NULL) {
		upcall_fail(up, "The request could not be passed on: its "
		    "params._meta is not a JSON object.");
		return;
	}
	/* Kept before the send, which may drop the client. */
	if (has_token && nedits == 3)
		ask_add_progress(session_asks(s), f, upcall_client_id(up),
		    token.value.p, token.value.len);
	if (need == FRONT_NEED_ELICIT_URL &&
	    scan_path(line, len, elicit_path, &elicit) == 0)
		ask_add_elicitation(session_asks(s), f, elicit.value.p,
		    elicit.value.len);
	front_send_line(f, out, out_len);
	free(out);
}

/*
 * The child's answer to req (msg, the line being handled) on its way to
 * the client: its tasks learn of it (task_answer, whose new line, if any,
 * is returned), and the URL elicitations a -32042 error says the request
 * needs first are remembered for their completions, which then go to
 * that client.
 */
char *
session_answering(struct session *s, struct request *req,
    struct jsonrpc_msg *msg, size_t *out_len)
{
	const cJSON	*code, *list, *item, *id;
	const char	*line;
	char		*text;
	size_t		 len;

	code = cJSON_GetObjectItemCaseSensitive(msg->error, "code");
	if (cJSON_IsNumber(code) && code->valuedouble ==
	    MCP_ERROR_URL_ELICITATION && request_front(req) != NULL) {
		list = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(msg->error, "data"),
		    "elicitations");
		if (!cJSON_IsArray(list))
			list = NULL;
		cJSON_ArrayForEach(item, list) {
			id = cJSON_GetObjectItemCaseSensitive(item,
			    "elicitationId");
			if (!cJSON_IsString(id) ||
			    (text = cJSON_PrintUnformatted(id)) == NULL)
				continue;
			ask_add_elicitation(session_asks(s),
			    request_front(req), text, strlen(text));
			free(text);
		}
	}
	line = session_line(s, &len);
	return (task_answer(session_tasks(s), req, line, len, out_len));
}

/*
 * notifications/elicitation/complete from the child (the line being
 * handled): to the client asked for that elicitationId, stamped with
 * the session; dropped if none is.
 */
void
session_elicited_cb(void *arg)
{
	static const char *const path[] = { "params", "elicitationId", NULL };
	struct session		*s = arg;
	struct wire_edit	 e = { WIRE_SET, { "params", "_meta",
				    MCP_META_SESSION, NULL }, NULL, 0 };
	struct scan_member	 m;
	struct front		*f = NULL;
	const char		*line;
	char			*out;
	size_t			 len, out_len;

	line = session_line(s, &len);
	if (scan_path(line, len, path, &m) == 0)
		f = ask_take_elicitation(session_asks(s), m.value.p,
		    m.value.len);
	if (f == NULL) {
		session_log(s, LOG_LEVEL_DEBUG, "session %s: dropping "
		    "notifications/elicitation/complete for no URL "
		    "elicitation of a client's", session_id(s));
		return;
	}
	e.text = session_stamp(s);
	e.len = strlen(e.text);
	if ((out = wire_rewrite(line, len, &e, 1, 0, &out_len)) != NULL)
		front_send_line(f, out, out_len);
	free(out);
}

/* Progress from the child: to the client that asked for it. */
void
session_progress_cb(const cJSON *params, double token, void *arg)
{
	struct session	*s = arg;
	struct request	*req;
	const char	*line;
	size_t		 len;

	(void)params;
	line = session_line(s, &len);
	if ((req = request_find_token(session_requests(s), token)) != NULL)
		request_progress(req, line, len);
	else if (!task_progress(session_tasks(s), token, line, len))
		session_log(s, LOG_LEVEL_DEBUG, "session %s: dropping "
		    "progress for token %g", session_id(s), token);
}

/* The child withdrew a request it made of a client. */
void
session_cancelled_cb(const cJSON *id, void *arg)
{
	static const char *const path[] = { "params", "requestId", NULL };
	struct session		*s = arg;
	struct upcall		*up;
	struct scan_member	 m;
	const char		*line;
	size_t			 len;

	line = session_line(s, &len);
	if (id == NULL || scan_path(line, len, path, &m) != 0)
		return;
	if ((up = upcall_find_child(session_requests(s), m.value.p,
	    m.value.len)) != NULL)
		upcall_cancel(up, "the server cancelled it");
}

/* A log message of the child's shares its stderr's budget in the log. */
int
session_may_log_cb(size_t len, void *arg)
{
	struct process	*p = session_process(arg);

	return (p == NULL || process_log_allow(p, len));
}

/*
 * A notification from the child for its clients (the line being
 * handled), stamped with the session: a log message to the attached
 * clients whose level it meets, a resource update to the clients
 * subscribed to its URI, a list change to every attached client that
 * takes notifications.
 */
void
session_notify_cb(struct jsonrpc_msg *msg, void *arg)
{
	static const char *const uri_path[] = { "params", "uri", NULL };
	struct session	*s = arg;
	const char	*line, *stamp = session_stamp(s), *what = NULL;
	enum attach_to	 to = ATTACH_TO_ALL;
	size_t		 len;

	if (strcmp(msg->method, "notifications/message") == 0) {
		to = ATTACH_TO_LOG;
		what = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    msg->params, "level"));
	}
	line = session_line(s, &len);
	if (strcmp(msg->method, "notifications/resources/updated") == 0) {
		/* A uri cut short at a NUL is nobody's. */
		to = ATTACH_TO_SUBSCRIBERS;
		what = attach_holds_nul(line, len, uri_path) ? NULL :
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    msg->params, "uri"));
	}
	attach_notify(request_set_attach(session_requests(s)), to, what, line,
	    len, stamp, strlen(stamp));
}

/*
 * A client's request on its way to the child: the client is attached,
 * and what it asks of its attachment (a log level, a subscription) is
 * answered here when the child need not hear of it. Returns 1 if the
 * request was answered.
 */
int
session_attach_request(struct session *s, struct request *req)
{
	const char	*tail, *meta, *message = "";
	size_t		 len, meta_len;
	int		 modern;
	cJSON		*data;

	if ((tail = request_text(req, &len)) == NULL)
		return (0);
	meta = session_meta_text(s, &meta_len, &modern);
	switch (attach_request(request_set_attach(session_requests(s)),
	    request_front(req), tail, len, modern, &message)) {
	case ATTACH_FORWARD:
		return (0);
	case ATTACH_ANSWER:
		request_answer_text(req, meta, meta_len, NULL, 0);
		break;
	case ATTACH_INVALID:
		request_fail(req, RPC_INVALID_PARAMS, message,
		    session_error_data(s, 0));
		break;
	case ATTACH_FULL:
		data = session_error_data(s, 0);
		cJSON_AddNumberToObject(data, "max_subscriptions",
		    ATTACH_MAX_SUBSCRIPTIONS);
		request_fail(req, RPC_AT_CAPACITY, "Too many resource "
		    "subscriptions on this session for one client "
		    "(ATTACH_MAX_SUBSCRIPTIONS); unsubscribe from some first.",
		    data);
		break;
	}
	return (1);
}

/*
 * A task's status from the child (notifications/tasks/status): to the
 * clients that created or polled that task.
 */
void
session_task_status_cb(void *arg)
{
	struct session	*s = arg;
	const char	*line;
	size_t		 len;

	line = session_line(s, &len);
	task_status(session_tasks(s), line, len, 1);
}

/*
 * A notification of the child's for a subscription (it names one): to
 * the client whose subscriptions/listen it is. Returns -1 if no listen
 * request in flight has that id.
 */
int
session_listen_cb(void *arg)
{
	struct session	*s = arg;
	const char	*line;
	size_t		 len;

	line = session_line(s, &len);
	/* A 2026-07-28 task's status comes on a subscription. */
	task_status(session_tasks(s), line, len, 0);
	return (task_listen_relay(session_requests(s), line, len,
	    session_stamp(s)));
}
