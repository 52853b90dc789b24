/*
 * What passes between a session's child and its clients besides answers:
 * the child's requests to a client (sampling, elicitation) and their
 * withdrawal, its progress, and its log messages, which go to the
 * clients that take notifications and have a request in flight on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * Pass a sampling (or elicitation) request to a client: the creator of
 * the task it names as its related task, else the one with the oldest
 * request in flight on this session that opted in with broker/hello.
 * Nobody to ask: -32601.
 */
void
session_upcall_cb(struct jsonrpc_msg *msg, int sampling, void *arg)
{
	struct session		*s = arg;
	struct request_set	*set = session_requests(s);
	struct request		*req;
	struct upcall		*up;
	struct front		*f = NULL;
	struct wire_edit	 e[2] = {
		{ WIRE_SET, { "id", NULL }, NULL, 0 },
		{ WIRE_SET, { "params", "_meta", MCP_META_SESSION, NULL },
		    NULL, 0 },
	};
	const char		*line;
	char			 id[24], *out;
	size_t			 len, out_len;
	int			 n;

	line = session_line(s, &len);
	f = task_upcall_front(session_tasks(s), line, len, sampling);
	for (req = request_first_sent(set); f == NULL && req != NULL;
	    req = request_next_sent(req)) {
		if (front_can_ask(request_front(req), sampling)) {
			f = request_front(req);
			break;
		}
	}
	if (f == NULL || upcall_count(set) >= SESSION_MAX_UPCALLS) {
		process_send(session_process(s), jsonrpc_error(jsonrpc_id_raw(
		    msg->id_text, msg->id_len), RPC_METHOD_NOT_FOUND, f == NULL ?
		    "No client of this session can answer this request now." :
		    "Too many requests to clients are waiting "
		    "(SESSION_MAX_UPCALLS).", NULL));
		return;
	}
	up = upcall_new(set, f, msg->id_text, msg->id_len);

	/* Passed on byte for byte, but under the client's id and telling
	   it which session asks. */
	n = snprintf(id, sizeof id, "%lld", (long long)upcall_client_id(up));
	e[0].text = id;
	e[0].len = (size_t)n;
	e[1].text = session_stamp(s);
	e[1].len = strlen(e[1].text);
	out = wire_rewrite(line, len, e, msg->params == NULL ||
	    cJSON_IsObject(msg->params) ? 2 : 1, 0, &out_len);
	if (out != NULL)
		front_send_line(f, out, out_len);
	else
		upcall_fail(up, "The request could not be passed on: its "
		    "params._meta is not a JSON object.");
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
 * A log message from the child (notifications/message, the line being
 * handled): to each client that takes notifications and has a request
 * in flight on the session, stamped with the session.
 */
void
session_notify_cb(void *arg)
{
	struct session	*s = arg;
	const char	*line, *stamp = session_stamp(s);
	size_t		 len;

	line = session_line(s, &len);
	request_set_notify(session_requests(s), line, len, stamp,
	    strlen(stamp));
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
