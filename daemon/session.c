/*
 * MCP sessions: one child per key, its handshake, and the id map that
 * routes each answer back to the request that asked.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "broker.h"
#include "child.h"
#include "config.h"
#include "errors.h"
#include "frame.h"
#include "scan.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "conn.h"
#include "session.h"
#include "stream.h"
#include "table.h"
#include "xmalloc.h"

struct session {
	struct broker		*b;
	struct table_entry	*entry;		/* NULL once out of the table */
	char			*server;
	char			*thread;
	uid_t			 uid;
	char			 id[48];
	unsigned		 generation;
	char			*meta_text;	/* session_meta(), printed */
	enum session_state	 state;
	int			 start_timeout_s;
	int			 grace_ms;
	size_t			 max_message;

	struct child		*child;
	pid_t			 pid;
	struct stream		*in;		/* the child's stdin */
	struct stream		*out;		/* stdout */
	struct stream		*err;		/* stderr */
	struct frame		 out_frame;
	struct frame		 err_frame;

	struct request_list	 queue;		/* waiting for the handshake */
	struct request_list	 inflight;	/* sent to the child */
	struct upcall_list	 upcalls;	/* the child's, to clients */
	size_t			 nqueue;
	size_t			 ninflight;
	size_t			 nupcalls;
	int64_t			 next_id;
	int64_t			 init_id;	/* initialize, or 0 */
	int64_t			 discover_id;	/* server/discover, or 0 */
	enum server_protocol	 protocol;	/* as configured */
	int			 modern;	/* 2026-07-28 negotiated */
	cJSON			*client_caps;	/* what the broker declares */
	cJSON			*roots;		/* roots/list answer, or NULL */
	struct timespec		 start_deadline;
	double			 idle_since;	/* monotonic seconds */

	char			*protocol_version;
	cJSON			*server_info;
	cJSON			*capabilities;
	char			*instructions;

	time_t			 created_at;
	time_t			 last_used_at;
	uint64_t		 calls;
	uint64_t		 notes[MCP_NCOUNTED];
	uint64_t		 log_messages;
	uint64_t		 garbage_lines;
	time_t			 garbage_window;
	unsigned		 garbage_logged;

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

static void	session_stdout_cb(struct stream *, struct evbuffer *, void *);
static void	session_stderr_cb(struct stream *, struct evbuffer *, void *);
static void	session_pipe_event_cb(struct stream *, enum stream_event, int,
		    void *);
static void	session_stdin_event_cb(struct stream *, enum stream_event,
		    int, void *);
static void	session_timer_cb(evutil_socket_t, short, void *);
static void	session_exit_cb(struct child *, int, void *);
static void	session_free_cb(evutil_socket_t, short, void *);

static void	session_write(struct session *, cJSON *);
static void	session_send(struct session *, struct request *);
static void	session_line(struct session *, const char *, size_t);
static int	session_fast_answer(struct session *, const char *, size_t);
static struct request *session_take_answered(struct session *, int64_t);
static void	session_handshake_done(struct session *, struct jsonrpc_msg *);
static void	session_discover_done(struct session *, struct jsonrpc_msg *);
static void	session_send_initialize(struct session *);
static void	session_ready(struct session *, const cJSON *, const char *);
static void	session_child_request(struct session *, struct jsonrpc_msg *);
static void	session_child_notification(struct session *,
		    struct jsonrpc_msg *);
static void	session_upcall(struct session *, struct jsonrpc_msg *, int);
static void	session_upcall_free(struct upcall *);
static void	session_drop_upcalls(struct session *);
static void	session_upcall_cancel(struct upcall *, const char *);
static void	session_garbage(struct session *, const char *);
static int	session_start_left_ms(struct session *);
static double	session_now(void);
static int	session_stdin_full(struct session *);
static void	session_stdin_added(struct session *);
static void	session_write_text(struct session *, int64_t, const char *,
		    size_t);
static void	session_log(struct session *, enum log_level, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
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
	{
		cJSON	*meta = session_meta(s);

		s->meta_text = cJSON_PrintUnformatted(meta);
		cJSON_Delete(meta);
	}
	TAILQ_INIT(&s->queue);
	TAILQ_INIT(&s->inflight);
	frame_init(&s->out_frame, s->max_message);
	frame_init(&s->err_frame, SESSION_STDERR_LINE_MAX);

	fd = child_take_stdin(s->child);
	evutil_make_socket_nonblocking(fd);
	s->in = stream_new(b->base, fd, STREAM_WRITE, NULL,
	    session_stdin_event_cb, s);

	fd = child_take_stdout(s->child);
	evutil_make_socket_nonblocking(fd);
	s->out = stream_new(b->base, fd, STREAM_READ, session_stdout_cb,
	    session_pipe_event_cb, s);

	fd = child_take_stderr(s->child);
	evutil_make_socket_nonblocking(fd);
	s->err = stream_new(b->base, fd, STREAM_READ, session_stderr_cb,
	    session_pipe_event_cb, s);

	s->timer = evtimer_new(b->base, session_timer_cb, s);
	clock_gettime(CLOCK_MONOTONIC, &s->start_deadline);
	s->start_deadline.tv_sec += s->start_timeout_s;

	/* What the broker can serve the child, and declares it can. */
	s->client_caps = sc->client_capabilities != NULL ?
	    cJSON_Duplicate(sc->client_capabilities, 1) : cJSON_CreateObject();
	if (sc->roots_set) {
		size_t	 i;
		cJSON	*root;

		cJSON_AddObjectToObject(s->client_caps, "roots");
		s->roots = cJSON_CreateArray();
		for (i = 0; i < sc->nroots; i++) {
			root = cJSON_CreateObject();
			cJSON_AddStringToObject(root, "uri", sc->roots[i].uri);
			if (sc->roots[i].name != NULL)
				cJSON_AddStringToObject(root, "name",
				    sc->roots[i].name);
			cJSON_AddItemToArray(s->roots, root);
		}
	}
	s->protocol = sc->protocol;
	TAILQ_INIT(&s->upcalls);

	/*
	 * The spec's stdio rule for a server of unknown generation: probe
	 * server/discover first; a result (or a recognised modern error)
	 * means 2026-07-28, anything else a handshake server.
	 */
	if (s->protocol == SERVER_PROTOCOL_LEGACY)
		session_send_initialize(s);
	else {
		s->discover_id = s->next_id++;
		session_write(s, jsonrpc_request(cJSON_CreateNumber(
		    (double)s->discover_id), "server/discover",
		    mcp_discover_params(s->client_caps)));
		if (s->protocol == SERVER_PROTOCOL_AUTO &&
		    session_start_left_ms(s) > SESSION_DISCOVER_TIMEOUT_MS)
			session_arm(s, SESSION_DISCOVER_TIMEOUT_MS);
		else
			session_arm(s, session_start_left_ms(s));
	}

	b->counters.sessions_started++;
	session_log(s, LOG_LEVEL_INFO, "session %s: starting %s for thread %s "
	    "(uid %ld, pid %ld, generation %u)", s->id, s->server, s->thread,
	    (long)uid, (long)s->pid, generation);
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

/* Milliseconds left of the start timeout (at least 1). */
static int
session_start_left_ms(struct session *s)
{
	struct timespec	now;
	long		ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (s->start_deadline.tv_sec - now.tv_sec) * 1000L +
	    (s->start_deadline.tv_nsec - now.tv_nsec) / 1000000L;
	return (ms < 1 ? 1 : (int)ms);
}

/* Log a line about this session, with its fields for the journal. */
static void
session_log(struct session *s, enum log_level level, const char *fmt, ...)
{
	struct log_ctx	ctx;
	va_list		ap;

	ctx.server = s->server;
	ctx.thread = s->thread;
	ctx.session = s->id;
	ctx.pid = (long)s->pid;
	va_start(ap, fmt);
	log_ctx_vat(level, &ctx, fmt, ap);
	va_end(ap);
}

/* Monotonic seconds, for idle expiry. */
static double
session_now(void)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
}

/* Begin the handshake generation: initialize, nothing else until answered. */
static void
session_send_initialize(struct session *s)
{
	s->init_id = s->next_id++;
	session_write(s, jsonrpc_request(cJSON_CreateNumber((double)s->init_id),
	    "initialize", mcp_initialize_params(s->client_caps)));
	session_arm(s, session_start_left_ms(s));
}

/*
 * Whether the pipe to the child's stdin is full, i.e. the child is not
 * reading. A burst of requests (those that queued during the handshake)
 * can pass the buffer bound before the loop wrote a byte; only a full
 * pipe shows the child is stuck.
 */
static int
session_stdin_full(struct session *s)
{
	struct pollfd	pfd;

	pfd.fd = stream_fd(s->in);
	pfd.events = POLLOUT;
	return (poll(&pfd, 1, 0) == 0);
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
	buf = stream_output(s->in);
	frame_write(buf, msg);
	cJSON_Delete(msg);
	session_stdin_added(s);
}

/*
 * Write a text request to the child: {"jsonrpc":"2.0","id":<id> and the
 * tail the client sent, in one contiguous piece of the output.
 */
static void
session_write_text(struct session *s, int64_t id, const char *tail,
    size_t tail_len)
{
	static const char	 head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
	struct evbuffer_iovec	 v;
	char			 digits[24], *p;
	int			 n = 0;

	if (evbuffer_reserve_space(stream_output(s->in), (ev_ssize_t)(sizeof
	    head - 1 + sizeof digits + tail_len), &v, 1) != 1)
		fatalx("evbuffer_reserve_space");
	p = v.iov_base;
	memcpy(p, head, sizeof head - 1);
	p += sizeof head - 1;
	do
		digits[n++] = (char)('0' + id % 10);
	while ((id /= 10) > 0);
	while (n > 0)
		*p++ = digits[--n];
	memcpy(p, tail, tail_len);
	p += tail_len;
	v.iov_len = (size_t)(p - (char *)v.iov_base);
	evbuffer_commit_space(stream_output(s->in), &v, 1);
}

/*
 * Bytes were added for the child's stdin: queue them for writing. A child
 * whose stdin backs up past the bound while its pipe is full is not
 * reading: the session is broken.
 */
static void
session_stdin_added(struct session *s)
{
	struct evbuffer	*buf = stream_output(s->in);

	stream_written(s->in);
	if (evbuffer_get_length(buf) > s->max_message *
	    SESSION_STDIN_MAX_FACTOR && session_stdin_full(s))
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
	if (req->tail != NULL && !s->modern) {
		/* Checked as text on arrival: only the id goes in front. */
		TAILQ_INSERT_TAIL(&s->inflight, req, session_entry);
		s->ninflight++;
		s->calls++;
		session_update_busy(s);
		if (s->in == NULL)
			return;
		session_write_text(s, req->child_id, req->tail,
		    req->tail_len);
		session_stdin_added(s);
		return;
	}
	if (req->tail != NULL)
		request_tail_to_msg(req);
	msg = req->msg;
	req->msg = NULL;
	cJSON_ReplaceItemInObjectCaseSensitive(msg, "id",
	    cJSON_CreateNumber((double)req->child_id));
	if (s->modern) {
		cJSON	*params = cJSON_GetObjectItemCaseSensitive(msg,
		    "params");

		if (params == NULL)
			params = cJSON_AddObjectToObject(msg, "params");
		if (cJSON_IsObject(params))
			mcp_add_modern_meta(params, s->client_caps);
	}
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
	if (busy == table_busy(s->entry))
		return;
	table_set_busy(s->b->table, s->entry, busy);
	if (!busy) {
		s->idle_since = session_now();
		broker_session_idle(s->b, s);
	}
}

/* Read the child's stdout: one MCP message per line. */
static void
session_stdout_cb(struct stream *st, struct evbuffer *in, void *arg)
{
	struct session		*s = arg;
	struct frame_line	 line;

	(void)st;
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

	if (s->state == SESSION_READY && session_fast_answer(s, data, len))
		return;
	if (jsonrpc_parse(data, len, &msg, &fault) != 0) {
		session_garbage(s, fault.message);
		jsonrpc_fault_clear(&fault);
		return;
	}

	switch (msg.kind) {
	case JSONRPC_RESPONSE:
		if (!cJSON_IsNumber(msg.id))
			break;
		if (s->state == SESSION_STARTING && s->discover_id != 0 &&
		    msg.id->valuedouble == (double)s->discover_id) {
			session_discover_done(s, &msg);
			break;
		}
		if (s->state == SESSION_STARTING && s->init_id != 0 &&
		    msg.id->valuedouble == (double)s->init_id) {
			session_handshake_done(s, &msg);
			break;
		}
		/* The broker's ids are small integers; others are not ours. */
		if (msg.id->valuedouble < 1 || msg.id->valuedouble > 1e15 ||
		    msg.id->valuedouble != (double)(int64_t)msg.id->valuedouble ||
		    (req = session_take_answered(s,
		    (int64_t)msg.id->valuedouble)) == NULL)
			break;
		if (msg.result != NULL)
			mcp_set_result_meta(msg.result, session_meta(s));
		answer = msg.root;
		msg.root = NULL;
		request_answer(req, answer);
		session_update_busy(s);
		break;
	case JSONRPC_REQUEST:
		session_child_request(s, &msg);
		break;
	case JSONRPC_NOTIFICATION:
		session_child_notification(s, &msg);
		break;
	}
	jsonrpc_msg_clear(&msg);
}

/*
 * The in-flight request the child answered under id, taken off the
 * session's list; NULL (logged) if none is: a late answer to a request
 * that timed out or was cancelled is dropped.
 */
static struct request *
session_take_answered(struct session *s, int64_t id)
{
	struct request	*req;

	TAILQ_FOREACH(req, &s->inflight, session_entry) {
		if (req->child_id == id)
			break;
	}
	if (req == NULL) {
		session_log(s, LOG_LEVEL_DEBUG, "session %s: dropping an "
		    "answer to id %lld, which is not in flight", s->id,
		    (long long)id);
		return (NULL);
	}
	TAILQ_REMOVE(&s->inflight, req, session_entry);
	s->ninflight--;
	req->session = NULL;
	s->last_used_at = time(NULL);
	return (req);
}

/*
 * The fast path for the common answer, a plain success result: scanned
 * and validated without building a tree, and passed on as text with the
 * session's _meta spliced in. Returns 0 if the line is not of that shape
 * (the full parser then handles it).
 */
static int
session_fast_answer(struct session *s, const char *data, size_t len)
{
	struct scan_result	 r;
	struct request		*req;

	if (scan_result(data, len, &r) != 0)
		return (0);
	if ((req = session_take_answered(s, r.id)) == NULL)
		return (1);
	request_answer_text(req, s->meta_text, r.body, r.body_len);
	session_update_busy(s);
	return (1);
}

/*
 * A line on the child's stdout that is not a JSON-RPC message: skipped
 * (SDKs do the same), and logged at most SESSION_GARBAGE_LOG_MAX times a
 * window so a chatty child cannot flood the log.
 */
static void
session_garbage(struct session *s, const char *why)
{
	time_t	now = time(NULL);

	s->garbage_lines++;
	if (now - s->garbage_window >= SESSION_GARBAGE_WINDOW_S) {
		s->garbage_window = now;
		s->garbage_logged = 0;
	}
	if (s->garbage_logged++ < SESSION_GARBAGE_LOG_MAX)
		session_log(s, LOG_LEVEL_WARNING, "session %s: skipping a "
		    "line from %s that is not a JSON-RPC message (%s)%s", s->id,
		    s->server, why, s->garbage_logged ==
		    SESSION_GARBAGE_LOG_MAX ? "; more in this minute are "
		    "counted, not logged" : "");
}

/*
 * A request from the child: ping and roots/list are answered here,
 * sampling and elicitation go to a client that can answer them, anything
 * else is not served.
 */
static void
session_child_request(struct session *s, struct jsonrpc_msg *msg)
{
	cJSON	*result, *answer;

	if (strcmp(msg->method, "ping") == 0) {
		session_write(s, jsonrpc_result(cJSON_Duplicate(msg->id, 1),
		    cJSON_CreateObject()));
		return;
	}
	if (strcmp(msg->method, "roots/list") == 0 && s->roots != NULL) {
		result = cJSON_CreateObject();
		cJSON_AddItemToObject(result, "roots",
		    cJSON_Duplicate(s->roots, 1));
		session_write(s, jsonrpc_result(cJSON_Duplicate(msg->id, 1),
		    result));
		return;
	}
	if (strcmp(msg->method, "sampling/createMessage") == 0 &&
	    cJSON_GetObjectItemCaseSensitive(s->client_caps, "sampling")) {
		session_upcall(s, msg, 1);
		return;
	}
	if (strcmp(msg->method, "elicitation/create") == 0 &&
	    cJSON_GetObjectItemCaseSensitive(s->client_caps, "elicitation")) {
		session_upcall(s, msg, 0);
		return;
	}
	answer = jsonrpc_error(cJSON_Duplicate(msg->id, 1),
	    RPC_METHOD_NOT_FOUND, "The broker does not serve this request "
	    "for this server (see its client_capabilities and roots).", NULL);
	session_write(s, answer);
}

/*
 * Pass a sampling (or elicitation) request to a client: the one with the
 * oldest request in flight on this session that opted in with
 * broker/hello. Nobody to ask: -32601.
 */
static void
session_upcall(struct session *s, struct jsonrpc_msg *msg, int sampling)
{
	struct request	*req;
	struct upcall	*up;
	cJSON		*params, *meta;

	TAILQ_FOREACH(req, &s->inflight, session_entry) {
		if (req->conn != NULL && (sampling ?
		    conn_can_sample(req->conn) : conn_can_elicit(req->conn)))
			break;
	}
	if (req == NULL || s->nupcalls >= SESSION_MAX_UPCALLS) {
		session_write(s, jsonrpc_error(cJSON_Duplicate(msg->id, 1),
		    RPC_METHOD_NOT_FOUND, req == NULL ? "No client of this "
		    "session can answer this request now." : "Too many "
		    "requests to clients are waiting (SESSION_MAX_UPCALLS).",
		    NULL));
		return;
	}

	up = xcalloc(1, sizeof *up);
	up->session = s;
	up->child_id = cJSON_Duplicate(msg->id, 1);
	up->client_id = ++s->b->next_upcall;
	TAILQ_INSERT_TAIL(&s->upcalls, up, session_entry);
	s->nupcalls++;
	conn_add_upcall(req->conn, up);

	/* Tell the client which session asks. */
	params = cJSON_Duplicate(msg->params, 1);
	if (params == NULL)
		params = cJSON_CreateObject();
	if (cJSON_IsObject(params)) {
		meta = session_meta(s);
		cJSON_AddStringToObject(meta, "server", s->server);
		cJSON_AddStringToObject(meta, "thread", s->thread);
		mcp_set_result_meta(params, meta);
	}
	conn_send(req->conn, jsonrpc_request(cJSON_CreateNumber(
	    (double)up->client_id), msg->method, params));
}

/* The client answered an upcall: pass the answer (taken) to the child. */
void
session_upcall_answer(struct upcall *up, cJSON *answer)
{
	struct session	*s = up->session;

	cJSON_DeleteItemFromObjectCaseSensitive(answer, "id");
	cJSON_AddItemToObject(answer, "id", cJSON_Duplicate(up->child_id, 1));
	session_write(s, answer);
	session_upcall_free(up);
}

/* The client of an upcall went away: the child gets an error. */
void
session_upcall_abandon(struct upcall *up)
{
	session_write(up->session, jsonrpc_error(cJSON_Duplicate(up->child_id,
	    1), RPC_INTERNAL_ERROR, "The client asked went away before "
	    "answering.", NULL));
	session_upcall_free(up);
}

/* The session ends: its clients stop waiting for answers to the child. */
static void
session_drop_upcalls(struct session *s)
{
	struct upcall	*up;

	while ((up = TAILQ_FIRST(&s->upcalls)) != NULL)
		session_upcall_cancel(up, "the session ended");
}

/*
 * Withdraw an upcall from its client with notifications/cancelled, and
 * free it. It leaves the conn first: sending may drop the conn, which
 * abandons whatever upcalls it still holds.
 */
static void
session_upcall_cancel(struct upcall *up, const char *reason)
{
	struct conn	*c = up->conn;
	cJSON		*params;

	conn_remove_upcall(c, up);
	params = cJSON_CreateObject();
	cJSON_AddNumberToObject(params, "requestId", (double)up->client_id);
	cJSON_AddStringToObject(params, "reason", reason);
	session_upcall_free(up);
	conn_send(c, jsonrpc_notification("notifications/cancelled", params));
}

/* Unlink an upcall from its session and conn and free it. */
static void
session_upcall_free(struct upcall *up)
{
	TAILQ_REMOVE(&up->session->upcalls, up, session_entry);
	up->session->nupcalls--;
	if (up->conn != NULL)
		conn_remove_upcall(up->conn, up);
	cJSON_Delete(up->child_id);
	free(up);
}

/*
 * A notification from the child: progress goes to the client that asked,
 * log messages to the log, list changes are counted.
 */
static void
session_child_notification(struct session *s, struct jsonrpc_msg *msg)
{
	struct request	*req;
	struct upcall	*up;
	const cJSON	*token, *level, *logger, *data, *id;
	char		*text;
	int		 i;

	if (strcmp(msg->method, "notifications/progress") == 0) {
		token = cJSON_GetObjectItemCaseSensitive(msg->params,
		    "progressToken");
		if (!cJSON_IsNumber(token))
			return;
		TAILQ_FOREACH(req, &s->inflight, session_entry) {
			if (req->child_token != 0 &&
			    (double)req->child_token == token->valuedouble) {
				request_progress(req, msg->params);
				return;
			}
		}
		session_log(s, LOG_LEVEL_DEBUG, "session %s: dropping "
		    "progress for token %g", s->id, token->valuedouble);
		return;
	}
	if (strcmp(msg->method, "notifications/message") == 0) {
		s->log_messages++;
		level = cJSON_GetObjectItemCaseSensitive(msg->params, "level");
		logger = cJSON_GetObjectItemCaseSensitive(msg->params,
		    "logger");
		data = cJSON_GetObjectItemCaseSensitive(msg->params, "data");
		text = cJSON_IsString(data) ? xstrdup(data->valuestring) :
		    cJSON_PrintUnformatted(data);
		session_log(s, mcp_log_level(cJSON_IsString(level) ?
		    level->valuestring : NULL), "session %s: %s thread %s: "
		    "%s%s%s: %.512s", s->id, s->server, s->thread,
		    cJSON_IsString(level) ? level->valuestring : "log",
		    cJSON_IsString(logger) ? " " : "",
		    cJSON_IsString(logger) ? logger->valuestring : "",
		    text != NULL ? text : "");
		free(text);
		return;
	}
	if (strcmp(msg->method, "notifications/cancelled") == 0) {
		id = cJSON_GetObjectItemCaseSensitive(msg->params, "requestId");
		TAILQ_FOREACH(up, &s->upcalls, session_entry) {
			if (cJSON_Compare(up->child_id, id, 1))
				break;
		}
		if (up != NULL)
			session_upcall_cancel(up, "the server cancelled it");
		return;
	}
	if ((i = mcp_counted_notification(msg->method)) != -1) {
		s->notes[i]++;
		session_log(s, LOG_LEVEL_DEBUG, "session %s: %s", s->id,
		    msg->method);
		return;
	}
	session_log(s, LOG_LEVEL_DEBUG, "session %s: ignoring notification %s",
	    s->id, msg->method);
}

/* The answer to initialize: ready, or the session ends as failed. */
static void
session_handshake_done(struct session *s, struct jsonrpc_msg *msg)
{
	const cJSON	*message;
	char		 why[160];

	if (msg->error != NULL) {
		message = cJSON_GetObjectItemCaseSensitive(msg->error,
		    "message");
		session_break(s, RPC_START_FAILED, "refused to initialize: "
		    "%.200s", message->valuestring);
		return;
	}
	if (mcp_check_initialize(msg->result, why, sizeof why) != 0) {
		session_break(s, RPC_START_FAILED, "%s", why);
		return;
	}
	session_write(s, jsonrpc_notification("notifications/initialized",
	    NULL));
	session_ready(s, msg->result, cJSON_GetObjectItemCaseSensitive(
	    msg->result, "protocolVersion")->valuestring);
}

/*
 * The answer to server/discover: a 2026-07-28 server is ready at once;
 * under "auto" any other answer means a handshake server.
 */
static void
session_discover_done(struct session *s, struct jsonrpc_msg *msg)
{
	char		 why[160] = "refused server/discover";

	s->discover_id = 0;
	if (msg->result != NULL &&
	    mcp_check_discover(msg->result, why, sizeof why) == 0) {
		s->modern = 1;
		session_ready(s, msg->result, MCP_VERSION_MODERN);
		return;
	}
	if (msg->error != NULL && mcp_modern_error(msg->error)) {
		session_break(s, RPC_START_FAILED, "speaks a protocol version "
		    "the broker does not (server/discover answered -32022)");
		return;
	}
	if (s->protocol == SERVER_PROTOCOL_MODERN) {
		session_break(s, RPC_START_FAILED, "%s, but its protocol is "
		    "set to %s", why, MCP_VERSION_MODERN);
		return;
	}
	session_log(s, LOG_LEVEL_DEBUG, "session %s: no 2026-07-28 answer to "
	    "server/discover; using initialize", s->id);
	session_send_initialize(s);
}

/*
 * The handshake is done: keep what the server said about itself, then
 * send what waited, in order.
 */
static void
session_ready(struct session *s, const cJSON *result, const char *version)
{
	struct request	*req;
	const cJSON	*info, *instructions;

	s->protocol_version = xstrdup(version);
	info = cJSON_GetObjectItemCaseSensitive(result, "serverInfo");
	if (info == NULL)
		info = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(result, "_meta"),
		    MCP_META_SERVER_INFO);
	s->server_info = cJSON_Duplicate(info, 1);
	s->capabilities = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
	    result, "capabilities"), 1);
	instructions = cJSON_GetObjectItemCaseSensitive(result,
	    "instructions");
	if (cJSON_IsString(instructions))
		s->instructions = xstrdup(instructions->valuestring);

	evtimer_del(s->timer);
	s->state = SESSION_READY;
	session_log(s, LOG_LEVEL_INFO, "session %s: ready (%s, protocol %s)",
	    s->id, s->server, s->protocol_version);

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
session_stderr_cb(struct stream *st, struct evbuffer *in, void *arg)
{
	struct session		*s = arg;
	struct frame_line	 line;
	size_t			 n;

	(void)st;
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
	session_log(s, LOG_LEVEL_INFO, "session %s: %s[%ld] stderr: %s", s->id,
	    s->server, (long)s->pid, s->tail[slot]);
}

/* EOF or an error on stdout or stderr. */
static void
session_pipe_event_cb(struct stream *st, enum stream_event what, int error,
    void *arg)
{
	struct session	*s = arg;

	if (what == STREAM_DRAINED)
		return;
	if (what == STREAM_ERROR)
		session_log(s, LOG_LEVEL_DEBUG, "session %s: reading %s: %s",
		    s->id, st == s->out ? "stdout" : "stderr",
		    strerror(error));
	if (st == s->out) {
		s->out_eof = 1;
		/* No more answers can come: the child is gone or broken. */
		if (s->state != SESSION_CLOSING)
			session_break(s, RPC_SESSION_LOST, NULL);
	} else {
		/* Whatever is buffered without a final newline is a line. */
		struct evbuffer	*in = stream_input(st);
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
session_stdin_event_cb(struct stream *st, enum stream_event what, int error,
    void *arg)
{
	struct session	*s = arg;

	(void)st;
	(void)error;
	if (what == STREAM_ERROR)
		session_break(s, RPC_SESSION_LOST, "closed its stdin");
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
	/* Whatever ends a session before it is ready is a failed start. */
	if (s->state == SESSION_STARTING)
		code = RPC_START_FAILED;
	s->state = SESSION_CLOSING;
	s->end_code = code;
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&s->end_why, fmt, ap) == -1)
			s->end_why = NULL;
		va_end(ap);
		session_log(s, LOG_LEVEL_WARNING, "session %s: %s thread %s %s",
		    s->id, s->server, s->thread, s->end_why);
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
	session_log(s, LOG_LEVEL_INFO, "session %s: closing %s thread %s (%s)",
	    s->id, s->server, s->thread, reason);
	xasprintf(&message, "The session for server '%s' thread '%s' was "
	    "closed (%s) before it answered.", s->server, s->thread, reason);
	session_fail_all(s, code, message);
	free(message);
	session_drop_upcalls(s);
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
			stream_free(s->in);
			s->in = NULL;
		}
		break;
	case 1:
		session_log(s, LOG_LEVEL_DEBUG, "session %s: sending SIGTERM "
		    "to group %ld", s->id, (long)s->pid);
		child_kill_group(s->child, SIGTERM);
		break;
	default:
		session_log(s, LOG_LEVEL_WARNING, "session %s: %s (pid %ld) "
		    "ignored SIGTERM; sending SIGKILL", s->id, s->server,
		    (long)s->pid);
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
		if (s->discover_id != 0 &&
		    s->protocol == SERVER_PROTOCOL_AUTO &&
		    session_start_left_ms(s) > 1) {
			/* Silence to the probe: a handshake server. A late
			   answer to it is dropped as not in flight. */
			session_log(s, LOG_LEVEL_DEBUG, "session %s: no "
			    "answer to server/discover in %d ms; using "
			    "initialize", s->id, SESSION_DISCOVER_TIMEOUT_MS);
			s->discover_id = 0;
			session_send_initialize(s);
			return;
		}
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
		session_log(s, LOG_LEVEL_WARNING, "session %s: %s (pid %ld) %s",
		    s->id, s->server, (long)s->pid, how);
		session_break(s, RPC_SESSION_LOST, NULL);
	} else {
		session_log(s, LOG_LEVEL_DEBUG, "session %s: pid %ld %s", s->id,
		    (long)s->pid, how);
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
	session_drop_upcalls(s);

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
	session_log(s, LOG_LEVEL_INFO, "session %s: ended (%s thread %s)",
	    s->id, s->server, s->thread);
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
		stream_free(s->in);
	stream_free(s->out);
	stream_free(s->err);
	event_free(s->timer);
	child_free(s->child);
	for (i = 0; i < s->tail_count; i++)
		free(s->tail[(s->tail_first + i) % SESSION_STDERR_LINES]);
	cJSON_Delete(s->server_info);
	cJSON_Delete(s->capabilities);
	cJSON_Delete(s->client_caps);
	cJSON_Delete(s->roots);
	free(s->protocol_version);
	free(s->instructions);
	free(s->end_why);
	free(s->meta_text);
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

/* How many children this key has had, this one included. */
unsigned
session_generation(struct session *s)
{
	return (s->generation);
}

/* Since when (monotonic seconds) the session has been idle. */
double
session_idle_since(struct session *s)
{
	return (s->idle_since);
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
	cJSON	*o, *notes;
	char	*t;
	int	 i;
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
	notes = cJSON_AddObjectToObject(o, "notifications");
	for (i = 0; i < MCP_NCOUNTED; i++)
		cJSON_AddNumberToObject(notes, mcp_counted_notifications[i] +
		    strlen("notifications/"), (double)s->notes[i]);
	cJSON_AddNumberToObject(notes, "message", (double)s->log_messages);
	cJSON_AddNumberToObject(o, "garbage_lines", (double)s->garbage_lines);
	cJSON_AddItemToObject(o, "stderr_tail", session_stderr_tail(s));
	return (o);
}
