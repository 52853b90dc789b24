/*
 * MCP sessions: one child per key, its handshake, and the id map that
 * routes each answer back to the request that asked.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "broker.h"
#include "child.h"
#include "config.h"
#include "errors.h"
#include "frame.h"
#include "jsonrpc.h"
#include "log.h"
#include "session.h"
#include "table.h"
#include "xmalloc.h"

/* The version the broker asks for, and the ones it accepts in answer. */
#define SESSION_PROTOCOL_VERSION	"2025-11-25"
static const char *session_versions[] = {
	"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
};

struct session {
	struct broker		*b;
	struct table_entry	*entry;		/* NULL once out of the table */
	char			*server;
	char			*thread;
	uid_t			 uid;
	char			 id[48];
	unsigned		 generation;
	enum session_state	 state;
	int			 start_timeout_s;
	int			 grace_ms;
	size_t			 max_message;

	struct child		*child;
	pid_t			 pid;
	struct bufferevent	*in;
	struct bufferevent	*out;
	struct bufferevent	*err;
	struct frame		 out_frame;
	struct frame		 err_frame;

	struct request_list	 queue;		/* waiting for the handshake */
	struct request_list	 inflight;	/* sent to the child */
	size_t			 nqueue;
	size_t			 ninflight;
	int64_t			 next_id;
	int64_t			 init_id;

	char			*protocol_version;
	cJSON			*server_info;
	cJSON			*capabilities;
	char			*instructions;

	time_t			 created_at;
	time_t			 last_used_at;
	uint64_t		 calls;

	char			*tail[SESSION_STDERR_LINES];
	size_t			 tail_first;
	size_t			 tail_count;

	struct event		*timer;
	int			 close_step;	/* 0 stdin, 1 TERM, 2 KILL */
	int			 reaped;
	int			 status;
	int			 out_eof;
	int			 err_eof;
	int			 end_code;	/* error for what is left */
	int			 discard;	/* stdout is past saving */
	char			*end_why;
	int			 finished;
};

static void	session_stdout_cb(struct bufferevent *, void *);
static void	session_stderr_cb(struct bufferevent *, void *);
static void	session_pipe_event_cb(struct bufferevent *, short, void *);
static void	session_stdin_event_cb(struct bufferevent *, short, void *);
static void	session_timer_cb(evutil_socket_t, short, void *);
static void	session_exit_cb(struct child *, int, void *);
static void	session_free_cb(evutil_socket_t, short, void *);

static void	session_write(struct session *, cJSON *);
static void	session_send(struct session *, struct request *);
static void	session_line(struct session *, const char *, size_t);
static void	session_handshake_done(struct session *, struct jsonrpc_msg *);
static void	session_break(struct session *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	session_escalate(struct session *);
static void	session_maybe_finish(struct session *);
static void	session_fail_all(struct session *, int, const char *);
static void	session_update_busy(struct session *);
static void	session_add_tail(struct session *, const char *, size_t);
static void	session_arm(struct session *, int);
static char	*session_rfc3339(time_t);

/*
 * Spawn the child for a key and send it initialize. Requests submitted
 * meanwhile wait. Returns NULL with *cause set if the child cannot be
 * started at all (pipes, fork); later failures end the session instead.
 */
struct session *
session_start(struct broker *b, const struct server_conf *sc, uid_t uid,
    const char *thread, unsigned generation, char **cause)
{
	struct session		*s;
	struct child_spec	 spec;
	cJSON			*params, *info;
	int			 fd;

	spec.argv = sc->argv;
	spec.env = sc->env;
	spec.cwd = sc->cwd;

	s = xcalloc(1, sizeof *s);
	if ((s->child = child_spawn(b->children, &spec, session_exit_cb, s,
	    cause)) == NULL) {
		free(s);
		return (NULL);
	}
	s->b = b;
	s->server = xstrdup(sc->name);
	s->thread = xstrdup(thread);
	s->uid = uid;
	s->generation = generation;
	s->state = SESSION_STARTING;
	s->pid = child_pid(s->child);
	s->start_timeout_s = sc->start_timeout_s != CONFIG_UNSET ?
	    sc->start_timeout_s : b->conf->start_timeout_s;
	s->grace_ms = b->conf->shutdown_grace_ms;
	s->max_message = b->conf->max_message_bytes;
	s->created_at = s->last_used_at = time(NULL);
	s->next_id = 1;
	snprintf(s->id, sizeof s->id, "%" PRIx64 "-%" PRIu64,
	    (uint64_t)b->started, ++b->next_session);
	TAILQ_INIT(&s->queue);
	TAILQ_INIT(&s->inflight);
	frame_init(&s->out_frame, s->max_message);
	frame_init(&s->err_frame, SESSION_STDERR_LINE_MAX);

	fd = child_take_stdin(s->child);
	evutil_make_socket_nonblocking(fd);
	s->in = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->in, NULL, NULL, session_stdin_event_cb, s);
	bufferevent_enable(s->in, EV_WRITE);

	fd = child_take_stdout(s->child);
	evutil_make_socket_nonblocking(fd);
	s->out = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->out, session_stdout_cb, NULL,
	    session_pipe_event_cb, s);
	bufferevent_enable(s->out, EV_READ);

	fd = child_take_stderr(s->child);
	evutil_make_socket_nonblocking(fd);
	s->err = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->err, session_stderr_cb, NULL,
	    session_pipe_event_cb, s);
	bufferevent_enable(s->err, EV_READ);

	s->timer = evtimer_new(b->base, session_timer_cb, s);
	session_arm(s, s->start_timeout_s * 1000);

	/* MCP lifecycle: initialize first, nothing else until answered. */
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "protocolVersion",
	    SESSION_PROTOCOL_VERSION);
	cJSON_AddObjectToObject(params, "capabilities");
	info = cJSON_AddObjectToObject(params, "clientInfo");
	cJSON_AddStringToObject(info, "name", "mcp-broker");
	cJSON_AddStringToObject(info, "version", BROKER_VERSION);
	s->init_id = s->next_id++;
	session_write(s, jsonrpc_request(cJSON_CreateNumber(
	    (double)s->init_id), "initialize", params));

	b->counters.sessions_started++;
	log_info("session %s: starting %s for thread %s (uid %ld, pid %ld, "
	    "generation %u)", s->id, s->server, s->thread, (long)uid,
	    (long)s->pid, generation);
	return (s);
}

/* (Re)arm the session's one timer, in milliseconds. */
static void
session_arm(struct session *s, int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
}

/* Send one message to the child; takes msg. */
static void
session_write(struct session *s, cJSON *msg)
{
	struct evbuffer	*buf;

	if (s->in == NULL) {
		cJSON_Delete(msg);
		return;
	}
	buf = bufferevent_get_output(s->in);
	frame_write(buf, msg);
	cJSON_Delete(msg);
	if (evbuffer_get_length(buf) > s->max_message *
	    SESSION_STDIN_MAX_FACTOR)
		session_break(s, RPC_SESSION_LOST, "stopped reading its stdin "
		    "(over %zu bytes waiting, %d x max_message_bytes)",
		    evbuffer_get_length(buf), SESSION_STDIN_MAX_FACTOR);
}

/*
 * Take a request for this session: queue it while the handshake runs,
 * send it when ready. The session owns it until it is answered.
 */
void
session_submit(struct session *s, struct request *req)
{
	req->session = s;
	s->last_used_at = time(NULL);
	if (s->state == SESSION_STARTING) {
		TAILQ_INSERT_TAIL(&s->queue, req, session_entry);
		s->nqueue++;
		session_update_busy(s);
		return;
	}
	session_send(s, req);
}

/* Send a request to the ready child under a session-unique id. */
static void
session_send(struct session *s, struct request *req)
{
	cJSON	*msg;

	if (req->kind == REQUEST_SESSION_INFO) {
		req->session = NULL;
		request_answer(req, jsonrpc_result(NULL,
		    session_describe(s, 1)));
		session_update_busy(s);
		return;
	}
	req->child_id = s->next_id++;
	msg = req->msg;
	req->msg = NULL;
	cJSON_ReplaceItemInObjectCaseSensitive(msg, "id",
	    cJSON_CreateNumber((double)req->child_id));
	TAILQ_INSERT_TAIL(&s->inflight, req, session_entry);
	s->ninflight++;
	s->calls++;
	session_update_busy(s);
	session_write(s, msg);
}

/*
 * A request leaves before its answer (its client went, or cancelled it):
 * tell the child if it had it, and forget it so a late answer is dropped.
 * The caller frees the request.
 */
void
session_cancel(struct session *s, struct request *req)
{
	cJSON	*params;

	if (req->child_id == 0) {
		TAILQ_REMOVE(&s->queue, req, session_entry);
		s->nqueue--;
	} else {
		TAILQ_REMOVE(&s->inflight, req, session_entry);
		s->ninflight--;
		params = cJSON_CreateObject();
		cJSON_AddNumberToObject(params, "requestId",
		    (double)req->child_id);
		cJSON_AddStringToObject(params, "reason",
		    "the client cancelled or disconnected");
		session_write(s, jsonrpc_notification(
		    "notifications/cancelled", params));
	}
	req->session = NULL;
	session_update_busy(s);
}

/*
 * Keep the table's view current: a session with requests queued or in
 * flight, or still starting, is busy and can be neither evicted nor
 * expired.
 */
static void
session_update_busy(struct session *s)
{
	int	busy;

	if (s->entry == NULL)
		return;
	busy = s->state == SESSION_STARTING || s->nqueue + s->ninflight > 0;
	if (busy != table_busy(s->entry))
		table_set_busy(s->b->table, s->entry, busy);
}

/* Read the child's stdout: one MCP message per line. */
static void
session_stdout_cb(struct bufferevent *bev, void *arg)
{
	struct session		*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct frame_line	 line;

	for (;;) {
		if (s->discard) {
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		switch (frame_next(&s->out_frame, in, &line)) {
		case FRAME_AGAIN:
			return;
		case FRAME_TOO_LONG:
			/* The rest of that line would only parse as garbage. */
			s->discard = 1;
			session_break(s, RPC_SESSION_LOST, "wrote a line over "
			    "%zu bytes (max_message_bytes)", s->max_message);
			return;
		case FRAME_LINE:
			session_line(s, line.data, line.len);
			frame_done(&s->out_frame, in, &line);
			break;
		}
	}
}

/* Handle one line from the child. */
static void
session_line(struct session *s, const char *data, size_t len)
{
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;
	struct request		*req;
	cJSON			*answer;

	if (jsonrpc_parse(data, len, &msg, &fault) != 0) {
		log_warnx("session %s: skipping a line from %s that is not a "
		    "JSON-RPC message (%s)", s->id, s->server, fault.message);
		jsonrpc_fault_clear(&fault);
		return;
	}

	switch (msg.kind) {
	case JSONRPC_RESPONSE:
		if (!cJSON_IsNumber(msg.id))
			break;
		if (s->state == SESSION_STARTING &&
		    msg.id->valuedouble == (double)s->init_id) {
			session_handshake_done(s, &msg);
			break;
		}
		TAILQ_FOREACH(req, &s->inflight, session_entry) {
			if ((double)req->child_id == msg.id->valuedouble)
				break;
		}
		if (req == NULL) {
			log_debug("session %s: dropping an answer to id %g, "
			    "which is not in flight", s->id,
			    msg.id->valuedouble);
			break;
		}
		TAILQ_REMOVE(&s->inflight, req, session_entry);
		s->ninflight--;
		req->session = NULL;
		s->last_used_at = time(NULL);
		if (msg.result != NULL && cJSON_IsObject(msg.result)) {
			cJSON	*meta = cJSON_GetObjectItemCaseSensitive(
			    msg.result, "_meta");

			if (!cJSON_IsObject(meta)) {
				cJSON_DeleteItemFromObjectCaseSensitive(
				    msg.result, "_meta");
				meta = cJSON_AddObjectToObject(msg.result,
				    "_meta");
			}
			cJSON_DeleteItemFromObjectCaseSensitive(meta,
			    "mcp-broker/session");
			cJSON_AddItemToObject(meta, "mcp-broker/session",
			    session_meta(s));
		}
		answer = msg.root;
		msg.root = NULL;
		request_answer(req, answer);
		session_update_busy(s);
		break;
	case JSONRPC_REQUEST:
		/* Servers may ping at any time; anything else is unserved. */
		if (strcmp(msg.method, "ping") == 0)
			answer = jsonrpc_result(cJSON_Duplicate(msg.id, 1),
			    cJSON_CreateObject());
		else
			answer = jsonrpc_error(cJSON_Duplicate(msg.id, 1),
			    RPC_METHOD_NOT_FOUND, "The broker does not serve "
			    "this request to servers.", NULL);
		session_write(s, answer);
		break;
	case JSONRPC_NOTIFICATION:
		log_debug("session %s: notification %s", s->id, msg.method);
		break;
	}
	jsonrpc_msg_clear(&msg);
}

/* The answer to initialize: ready, or the session ends as failed. */
static void
session_handshake_done(struct session *s, struct jsonrpc_msg *msg)
{
	struct request	*req;
	const cJSON	*version, *message, *instructions;
	size_t		 i;

	if (msg->error != NULL) {
		message = cJSON_GetObjectItemCaseSensitive(msg->error,
		    "message");
		session_break(s, RPC_START_FAILED, "refused to initialize: %s",
		    message->valuestring);
		return;
	}
	version = cJSON_GetObjectItemCaseSensitive(msg->result,
	    "protocolVersion");
	if (!cJSON_IsString(version)) {
		session_break(s, RPC_START_FAILED, "answered initialize "
		    "without a protocolVersion");
		return;
	}
	for (i = 0; i < sizeof session_versions / sizeof *session_versions;
	    i++) {
		if (strcmp(version->valuestring, session_versions[i]) == 0)
			break;
	}
	if (i == sizeof session_versions / sizeof *session_versions) {
		session_break(s, RPC_START_FAILED, "answered with protocol "
		    "version %.40s, which the broker does not speak",
		    version->valuestring);
		return;
	}

	s->protocol_version = xstrdup(version->valuestring);
	s->server_info = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
	    msg->result, "serverInfo"), 1);
	s->capabilities = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
	    msg->result, "capabilities"), 1);
	instructions = cJSON_GetObjectItemCaseSensitive(msg->result,
	    "instructions");
	if (cJSON_IsString(instructions))
		s->instructions = xstrdup(instructions->valuestring);

	session_write(s, jsonrpc_notification("notifications/initialized",
	    NULL));
	evtimer_del(s->timer);
	s->state = SESSION_READY;
	log_info("session %s: ready (%s, protocol %s)", s->id, s->server,
	    s->protocol_version);

	while ((req = TAILQ_FIRST(&s->queue)) != NULL &&
	    s->state == SESSION_READY) {
		TAILQ_REMOVE(&s->queue, req, session_entry);
		s->nqueue--;
		session_send(s, req);
	}
	session_update_busy(s);
}

/* Keep the child's stderr: a bounded tail of lines, and the log. */
static void
session_stderr_cb(struct bufferevent *bev, void *arg)
{
	struct session		*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct frame_line	 line;
	size_t			 n;

	for (;;) {
		switch (frame_next(&s->err_frame, in, &line)) {
		case FRAME_AGAIN:
			return;
		case FRAME_TOO_LONG:
			/* Keep the head of an over-long line; the rest
			   follows as further lines. */
			n = SESSION_STDERR_LINE_MAX;
			session_add_tail(s, (const char *)evbuffer_pullup(in,
			    (ssize_t)n), n);
			evbuffer_drain(in, n);
			frame_init(&s->err_frame, SESSION_STDERR_LINE_MAX);
			break;
		case FRAME_LINE:
			session_add_tail(s, line.data, line.len);
			frame_done(&s->err_frame, in, &line);
			break;
		}
	}
}

/* Append one stderr line to the tail ring and log it. */
static void
session_add_tail(struct session *s, const char *data, size_t len)
{
	size_t	slot;

	if (s->tail_count == SESSION_STDERR_LINES) {
		free(s->tail[s->tail_first]);
		s->tail_first = (s->tail_first + 1) % SESSION_STDERR_LINES;
		s->tail_count--;
	}
	slot = (s->tail_first + s->tail_count) % SESSION_STDERR_LINES;
	s->tail[slot] = xstrndup(data, len);
	s->tail_count++;
	log_info("session %s: %s[%ld] stderr: %s", s->id, s->server,
	    (long)s->pid, s->tail[slot]);
}

/* EOF or an error on stdout or stderr. */
static void
session_pipe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	bufferevent_disable(bev, EV_READ);
	if (bev == s->out) {
		s->out_eof = 1;
		/* No more answers can come: the child is gone or broken. */
		if (s->state != SESSION_CLOSING)
			session_break(s, s->state == SESSION_STARTING ?
			    RPC_START_FAILED : RPC_SESSION_LOST, NULL);
	} else {
		/* Whatever is buffered without a final newline is a line. */
		struct evbuffer	*in = bufferevent_get_input(bev);
		size_t		 n = evbuffer_get_length(in);

		if (n > 0)
			session_add_tail(s, (const char *)evbuffer_pullup(in,
			    (ssize_t)n), n);
		evbuffer_drain(in, n);
		s->err_eof = 1;
	}
	session_maybe_finish(s);
}

/* Writing to the child's stdin failed: it closed it or died. */
static void
session_stdin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF))
		session_break(s, s->state == SESSION_STARTING ?
		    RPC_START_FAILED : RPC_SESSION_LOST, "closed its stdin");
}

/*
 * The session cannot go on (the child exited, broke the protocol or hung
 * in the handshake): leave the table so the next request starts a new
 * generation, and shut the child down. What is queued or in flight is
 * failed with code once the child's exit and last stderr are known.
 */
static void
session_break(struct session *s, int code, const char *fmt, ...)
{
	va_list	ap;

	if (s->state == SESSION_CLOSING)
		return;
	s->state = SESSION_CLOSING;
	s->end_code = code;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&s->end_why, fmt, ap) == -1)
			s->end_why = NULL;
		va_end(ap);
		log_warnx("session %s: %s thread %s %s", s->id, s->server,
		    s->thread, s->end_why);
	}
	broker_session_ended(s->b, s);
	session_escalate(s);
}

/*
 * Close the session on the broker's behalf (broker/close, eviction,
 * shutdown). Its requests are answered now with code; the child gets
 * stdin EOF, then SIGTERM, then SIGKILL of its group. The caller has
 * already taken the session out of the table.
 */
void
session_close(struct session *s, int code, const char *reason)
{
	char	*message;

	if (s->state == SESSION_CLOSING)
		return;
	s->state = SESSION_CLOSING;
	log_info("session %s: closing %s thread %s (%s)", s->id, s->server,
	    s->thread, reason);
	xasprintf(&message, "The session for server '%s' thread '%s' was "
	    "closed (%s) before it answered.", s->server, s->thread, reason);
	session_fail_all(s, code, message);
	free(message);
	session_escalate(s);
}

/*
 * One step of the close escalation: stdin EOF, then after the grace
 * SIGTERM to the group, then after another SIGKILL. Once the leader is
 * reaped, what is left of the group is killed at once.
 */
static void
session_escalate(struct session *s)
{
	if (s->reaped) {
		child_kill_group(s->child, SIGKILL);
		session_arm(s, s->grace_ms);
		session_maybe_finish(s);
		return;
	}
	switch (s->close_step++) {
	case 0:
		if (s->in != NULL) {
			bufferevent_free(s->in);
			s->in = NULL;
		}
		break;
	case 1:
		log_debug("session %s: sending SIGTERM to group %ld", s->id,
		    (long)s->pid);
		child_kill_group(s->child, SIGTERM);
		break;
	default:
		log_warnx("session %s: %s (pid %ld) ignored SIGTERM; sending "
		    "SIGKILL", s->id, s->server, (long)s->pid);
		child_kill_group(s->child, SIGKILL);
		break;
	}
	session_arm(s, s->grace_ms);
}

/* The one timer: start timeout, close escalation, or last wait. */
static void
session_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)events;
	if (s->state == SESSION_STARTING) {
		session_break(s, RPC_START_FAILED, "did not finish the MCP "
		    "handshake within %d s (start_timeout_s)",
		    s->start_timeout_s);
		return;
	}
	if (s->reaped) {
		/* Something outside the group holds the pipes open. */
		s->out_eof = s->err_eof = 1;
		session_maybe_finish(s);
		return;
	}
	session_escalate(s);
}

/* The child exited (from child_reap). */
static void
session_exit_cb(struct child *c, int status, void *arg)
{
	struct session	*s = arg;
	char		*how;

	(void)c;
	s->reaped = 1;
	s->status = status;
	how = child_describe_status(status);
	if (s->state != SESSION_CLOSING) {
		log_warnx("session %s: %s (pid %ld) %s", s->id, s->server,
		    (long)s->pid, how);
		session_break(s, s->state == SESSION_STARTING ?
		    RPC_START_FAILED : RPC_SESSION_LOST, NULL);
	} else {
		log_debug("session %s: pid %ld %s", s->id, (long)s->pid, how);
		session_escalate(s);
	}
	free(how);
}

/*
 * The session is over once its child is reaped and both its pipes are at
 * EOF: answer what is left and free it from a deferred event.
 */
static void
session_maybe_finish(struct session *s)
{
	struct timeval	 tv = { 0, 0 };
	char		*how, *message;

	if (s->finished || !s->reaped || !s->out_eof || !s->err_eof)
		return;
	s->finished = 1;
	evtimer_del(s->timer);

	if (s->nqueue + s->ninflight > 0) {
		how = child_describe_status(s->status);
		if (s->end_code == RPC_START_FAILED)
			xasprintf(&message, "The MCP server '%s' failed to "
			    "start for thread '%s': its process %s.",
			    s->server, s->thread, s->end_why != NULL ?
			    s->end_why : how);
		else
			xasprintf(&message, "The MCP server '%s' for thread "
			    "'%s' ended before answering: its process %s. Its "
			    "state is lost; the next request starts a new "
			    "session.", s->server, s->thread,
			    s->end_why != NULL ? s->end_why : how);
		session_fail_all(s, s->end_code != 0 ? s->end_code :
		    RPC_SESSION_LOST, message);
		free(message);
		free(how);
	}
	log_info("session %s: ended (%s thread %s)", s->id, s->server,
	    s->thread);
	event_base_once(s->b->base, -1, EV_TIMEOUT, session_free_cb, s, &tv);
}

/* Answer everything queued or in flight with an error. */
static void
session_fail_all(struct session *s, int code, const char *message)
{
	struct request	*req;
	cJSON		*data;

	while ((req = TAILQ_FIRST(&s->queue)) != NULL ||
	    (req = TAILQ_FIRST(&s->inflight)) != NULL) {
		if (req->child_id == 0) {
			TAILQ_REMOVE(&s->queue, req, session_entry);
			s->nqueue--;
		} else {
			TAILQ_REMOVE(&s->inflight, req, session_entry);
			s->ninflight--;
		}
		req->session = NULL;
		data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "server", s->server);
		cJSON_AddStringToObject(data, "thread", s->thread);
		if (s->reaped && WIFEXITED(s->status))
			cJSON_AddNumberToObject(data, "exit_status",
			    WEXITSTATUS(s->status));
		if (s->reaped && WIFSIGNALED(s->status))
			cJSON_AddNumberToObject(data, "signal",
			    WTERMSIG(s->status));
		cJSON_AddItemToObject(data, "stderr_tail",
		    session_stderr_tail(s));
		request_fail(req, code, message, data);
	}
	session_update_busy(s);
}

/* Free a finished session (deferred: never inside its own callbacks). */
static void
session_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session	*s = arg;
	size_t		 i;

	(void)fd;
	(void)events;
	if (s->in != NULL)
		bufferevent_free(s->in);
	bufferevent_free(s->out);
	bufferevent_free(s->err);
	event_free(s->timer);
	child_free(s->child);
	for (i = 0; i < s->tail_count; i++)
		free(s->tail[(s->tail_first + i) % SESSION_STDERR_LINES]);
	cJSON_Delete(s->server_info);
	cJSON_Delete(s->capabilities);
	free(s->protocol_version);
	free(s->instructions);
	free(s->end_why);
	free(s->server);
	free(s->thread);
	free(s);
}

/* Link the session to its table entry (NULL: it left the table). */
void
session_set_entry(struct session *s, struct table_entry *e)
{
	s->entry = e;
	session_update_busy(s);
}

/* The session's table entry, or NULL once it left the table. */
struct table_entry *
session_entry(struct session *s)
{
	return (s->entry);
}

/* The configured server's name. */
const char *
session_server(struct session *s)
{
	return (s->server);
}

/* The client's thread name. */
const char *
session_thread(struct session *s)
{
	return (s->thread);
}

/* The uid that owns the session. */
uid_t
session_uid(struct session *s)
{
	return (s->uid);
}

/* How many children this key has had, this one included. */
unsigned
session_generation(struct session *s)
{
	return (s->generation);
}

/* Where the session is in its life. */
enum session_state
session_state(struct session *s)
{
	return (s->state);
}

/* A time as RFC 3339 UTC; the caller frees it. */
static char *
session_rfc3339(time_t t)
{
	struct tm	tm;
	char		buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (xstrdup(buf));
}

/* The child's last stderr lines, oldest first (caller owns the array). */
cJSON *
session_stderr_tail(struct session *s)
{
	cJSON	*a;
	size_t	 i;

	a = cJSON_CreateArray();
	for (i = 0; i < s->tail_count; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(
		    s->tail[(s->tail_first + i) % SESSION_STDERR_LINES]));
	return (a);
}

/* {"id","generation"}: what every forwarded result carries. */
cJSON *
session_meta(struct session *s)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", s->id);
	cJSON_AddNumberToObject(o, "generation", s->generation);
	return (o);
}

/*
 * The session as broker/status (full 0) or broker/session (full 1) shows
 * it. The caller owns the object.
 */
cJSON *
session_describe(struct session *s, int full)
{
	static const char *states[] = { "starting", "ready", "closing" };
	cJSON	*o;
	char	*t;
	time_t	 now = time(NULL);

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "server", s->server);
	cJSON_AddStringToObject(o, "thread", s->thread);
	cJSON_AddStringToObject(o, "id", s->id);
	cJSON_AddNumberToObject(o, "generation", s->generation);
	cJSON_AddNumberToObject(o, "uid", s->uid);
	cJSON_AddNumberToObject(o, "pid", s->pid);
	cJSON_AddStringToObject(o, "state", states[s->state]);
	t = session_rfc3339(s->created_at);
	cJSON_AddStringToObject(o, "created_at", t);
	free(t);
	t = session_rfc3339(s->last_used_at);
	cJSON_AddStringToObject(o, "last_used_at", t);
	free(t);
	cJSON_AddNumberToObject(o, "age_s", (double)(now - s->created_at));
	cJSON_AddNumberToObject(o, "idle_s", s->nqueue + s->ninflight > 0 ?
	    0 : (double)(now - s->last_used_at));
	cJSON_AddNumberToObject(o, "calls", (double)s->calls);
	cJSON_AddNumberToObject(o, "in_flight",
	    (double)(s->nqueue + s->ninflight));
	if (!full)
		return (o);

	if (s->protocol_version != NULL)
		cJSON_AddStringToObject(o, "protocol_version",
		    s->protocol_version);
	else
		cJSON_AddNullToObject(o, "protocol_version");
	cJSON_AddItemToObject(o, "server_info", s->server_info != NULL ?
	    cJSON_Duplicate(s->server_info, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "capabilities", s->capabilities != NULL ?
	    cJSON_Duplicate(s->capabilities, 1) : cJSON_CreateNull());
	if (s->instructions != NULL)
		cJSON_AddStringToObject(o, "instructions", s->instructions);
	cJSON_AddItemToObject(o, "stderr_tail", session_stderr_tail(s));
	return (o);
}
