/*
 * MCP sessions: a process, its MCP client, and the id map that routes
 * each answer back to the request that asked.
 */
#include <sys/wait.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ask.h"
#include "child.h"
#include "clock.h"
#include "config.h"
#include "errors.h"
#include "front.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "mcpclient.h"
#include "process.h"
#include "request.h"
#include "scan.h"
#include "session.h"
#include "task.h"
#include "wire.h"
#include "workdir.h"
#include "xmalloc.h"


struct session {
	struct event_base	*base;
	struct session_cbs	 cbs;
	void			*arg;
	void			*slot;		/* the owner's */
	char			*server;
	char			*thread;
	char			*id;
	char			*dir;		/* session_dir, or NULL */
	uid_t			 uid;
	unsigned		 generation;
	struct log_ctx		 ctx;
	char			*meta_text;	/* {"id","generation"}, printed */
	char			*stamp_text;	/* and "server", "thread" */
	size_t			 meta_len;
	enum session_state	 state;
	int			 busy;
	double			 idle_since;	/* monotonic seconds */

	struct process		*process;
	struct mcpclient	*client;
	struct request_set	*requests;
	struct task_set		*tasks;		/* kept past their answers */
	struct ask_set		*asks;

	struct event		*timer;		/* the start timeout */
	uint64_t		 start_deadline; /* monotonic ms */
	int			 start_timeout_s;

	time_t			 created_at;
	time_t			 last_used_at;
	uint64_t		 calls;
	uint64_t		 garbage_lines;
	double			 garbage_window;	/* monotonic */
	unsigned		 garbage_logged;

	int			 end_code;	/* error for what is left */
	char			*end_why;

	const char		*line;		/* the child's line being
						   handled, or NULL */
	size_t			 line_len;
};

static void	session_line_cb(const char *, size_t, void *);
static void	session_broken_cb(const char *, void *);
static void	session_finished_cb(void *);
static void	session_send_cb(cJSON *, void *);
static void	session_write_text_cb(const char *, size_t, void *);
static void	session_waiting_cb(void *);
static void	session_ready_cb(void *);
static void	session_failed_cb(const char *, void *);
static cJSON	*session_error_data_cb(void *, int);
static void	session_changed_cb(void *);
static void	session_timer_cb(evutil_socket_t, short, void *);

static void	session_send(struct session *, struct request *);
static int	session_fast_answer(struct session *, const char *, size_t);
static void	session_response(struct session *, struct jsonrpc_msg *);
static void	session_refused(struct session *, const char *, size_t,
		    struct jsonrpc_fault *);
static void	session_write(struct session *, const char *, size_t);
static struct request *session_take(struct session *, int64_t);
static void	session_garbage(struct session *, const char *);
static void	session_break(struct session *, int, const char *);
static void	session_arm(struct session *, int);
static int	session_start_left_ms(struct session *);
static char	*session_rfc3339(time_t);
static int	session_spawn(struct session *, const struct session_params *,
		    char **);
static void	session_remove_dir(struct session *);

static cJSON	*session_meta(struct session *);

static const struct process_cbs session_process_cbs = {
	.line = session_line_cb,
	.broken = session_broken_cb,
	.finished = session_finished_cb,
};

static const struct mcpclient_cbs session_client_cbs = {
	.send = session_send_cb,
	.waiting = session_waiting_cb,
	.ready = session_ready_cb,
	.failed = session_failed_cb,
	.upcall = session_upcall_cb,
	.progress = session_progress_cb,
	.cancelled = session_cancelled_cb,
	.may_log = session_may_log_cb,
	.notify = session_notify_cb,
	.task_status = session_task_status_cb,
	.listen = session_listen_cb,
	.elicited = session_elicited_cb,
};

static const struct request_set_ops session_request_ops = {
	.write = session_send_cb,
	.write_text = session_write_text_cb,
	.error_data = session_error_data_cb,
	.changed = session_changed_cb,
};

/*
 * Spawn the child for a key and begin its handshake. Requests submitted
 * meanwhile wait. Returns NULL with *cause set if the child cannot be
 * started at all (pipes, fork); later failures end the session instead.
 */
struct session *
session_start(const struct session_params *sp, const struct session_cbs *cbs,
    void *arg, char **cause)
{
	const struct server_conf	*sc = sp->server;
	struct session			*s;
	cJSON				*meta;

	s = xcalloc(1, sizeof *s);
	s->base = sp->env->base;
	s->cbs = *cbs;
	s->arg = arg;
	s->server = xstrdup(sc->name);
	s->thread = xstrdup(sp->thread);
	s->id = xstrdup(sp->id);
	s->uid = sp->uid;
	s->generation = sp->generation;
	s->ctx.server = s->server;
	s->ctx.thread = s->thread;
	s->ctx.session = s->id;

	if (session_spawn(s, sp, cause) != 0) {
		session_remove_dir(s);
		free(s->server);
		free(s->thread);
		free(s->id);
		free(s);
		return (NULL);
	}
	s->ctx.pid = (long)process_pid(s->process);
	s->state = SESSION_STARTING;
	s->busy = 1;
	s->start_timeout_s = sp->start_timeout_s;
	s->start_deadline = clock_ms() + (uint64_t)s->start_timeout_s * 1000;
	s->created_at = s->last_used_at = time(NULL);
	meta = session_meta(s);
	s->meta_text = cJSON_PrintUnformatted(meta);
	s->meta_len = strlen(s->meta_text);
	cJSON_AddStringToObject(meta, "server", s->server);
	cJSON_AddStringToObject(meta, "thread", s->thread);
	s->stamp_text = cJSON_PrintUnformatted(meta);
	cJSON_Delete(meta);
	s->requests = request_set_new(&session_request_ops, s);
	s->asks = ask_set_new(session_write_text_cb, s);
	request_set_watch(s->requests, sp->latency, &s->ctx, sp->access_log);
	s->tasks = task_set_new(s->base, &s->ctx, s->stamp_text,
	    sp->task_max_ms, session_changed_cb, s);
	s->client = mcpclient_new(sc, &s->ctx, &session_client_cbs, s);
	s->timer = evtimer_new(s->base, session_timer_cb, s);

	session_log(s, LOG_LEVEL_INFO, "session %s: starting %s for thread %s "
	    "(uid %ld, pid %ld, generation %u)", s->id, s->server, s->thread,
	    (long)s->uid, s->ctx.pid, s->generation);
	session_arm(s, mcpclient_start(s->client, session_start_left_ms(s)));
	return (s);
}

/*
 * Make the session's directory if its server wants one, expand its args
 * and env for this session, and spawn the child: in the session
 * directory unless the server sets its own cwd.
 */
static int
session_spawn(struct session *s, const struct session_params *sp,
    char **cause)
{
	const struct server_conf	*sc = sp->server;
	struct child_spec		 spec;
	struct workdir_values		 v;
	char				**argv = NULL, **env;

	if (sc->session_dir && workdir_create(sp->state_dir, s->id, &s->dir,
	    cause) != 0)
		return (-1);
	v.session_dir = s->dir;
	v.thread = s->thread;
	v.server = s->server;
	v.session_id = s->id;
	spec.argv = sc->argv;
	if (sc->templates)
		spec.argv = argv = workdir_expand_list(sc->argv, &v);
	spec.env = env = workdir_env(sc->env, sc->templates, &v);
	spec.cwd = sc->cwd != NULL ? sc->cwd : s->dir;
	s->process = process_spawn(sp->env, &spec, &s->ctx,
	    &session_process_cbs, s, cause);
	workdir_free_list(argv);
	workdir_free_list(env);
	return (s->process != NULL ? 0 : -1);
}

/* Remove the session's directory, if it has one; a failure is logged. */
static void
session_remove_dir(struct session *s)
{
	if (s->dir != NULL) {
		workdir_discard(s->dir);
		free(s->dir);
		s->dir = NULL;
	}
}

/* Free a session that is over (or never ran a request), and its directory. */
void
session_free(struct session *s)
{
	session_remove_dir(s);
	process_free(s->process);
	request_set_free(s->requests);
	task_set_free(s->tasks);
	ask_set_free(s->asks);
	mcpclient_free(s->client);
	event_free(s->timer);
	free(s->end_why);
	free(s->meta_text);
	free(s->stamp_text);
	free(s->server);
	free(s->thread);
	free(s->id);
	free(s);
}

/* (Re)arm the start timer, in milliseconds. */
static void
session_arm(struct session *s, int ms)
{
	struct timeval	tv;

	clock_tv(ms, &tv);
	evtimer_add(s->timer, &tv);
}

/* Milliseconds left of the start timeout (at least 1). */
static int
session_start_left_ms(struct session *s)
{
	uint64_t	now = clock_ms();

	if (now + 1 >= s->start_deadline)
		return (1);
	return ((int)(s->start_deadline - now));
}

/* Log a line about this session, with its fields for the journal. */
void
session_log(struct session *s, enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_ctx_vat(level, &s->ctx, fmt, ap);
	va_end(ap);
}

/* Write a message (taken) to the child. */
static void
session_send_cb(cJSON *msg, void *arg)
{
	struct session	*s = arg;

	process_send(s->process, msg);
}

/* Write a line (without its newline) to the child. */
static void
session_write(struct session *s, const char *line, size_t len)
{
	struct evbuffer	*out;

	if ((out = process_output(s->process)) == NULL)
		return;
	if (evbuffer_add(out, line, len) != 0 ||
	    (len > 0 && line[len - 1] != '\n' && evbuffer_add(out, "\n", 1)))
		fatalx("evbuffer_add");
	process_written(s->process);
}

/* Write a message written as text to the child (request set's op). */
static void
session_write_text_cb(const char *line, size_t len, void *arg)
{
	session_write(arg, line, len);
}

/*
 * Keep the owner's view current: a session with requests queued or in
 * flight, or still starting, is busy and can be neither evicted nor
 * expired.
 */
static void
session_changed_cb(void *arg)
{
	struct session	*s = arg;
	int		 busy;

	busy = s->state == SESSION_STARTING ||
	    request_set_busy(s->requests) || task_set_busy(s->tasks);
	if (busy == s->busy)
		return;
	s->busy = busy;
	if (!busy)
		s->idle_since = clock_s();
	s->cbs.busy(s, busy, s->arg);
}

/*
 * Take a request for this session: queue it while the handshake runs,
 * send it when ready. It stays the request module's; the session lists it.
 */
void
session_submit(struct session *s, struct request *req)
{
	s->last_used_at = time(NULL);
	if (s->state == SESSION_STARTING) {
		request_queue(s->requests, req);
		return;
	}
	session_send(s, req);
}

/* Send a request to the ready child under a session-unique id. */
static void
session_send(struct session *s, struct request *req)
{
	struct evbuffer_iovec	 v;
	struct evbuffer		*out;
	const char		*tail;
	char			*line, *ready, *end;
	size_t			 len, ready_len;
	int64_t			 id;

	if (request_kind(req) == REQUEST_SESSION_INFO) {
		/* An HTTP client's initialize: attached as if queued. */
		request_own(s->requests, req);
		request_answer(req, jsonrpc_result(NULL,
		    session_describe(s, 1)));
		return;
	}
	tail = request_text(req, &len);
	request_own(s->requests, req);
	if (mcpclient_answers(s->client, tail, len)) {
		request_answer_text(req, s->meta_text, s->meta_len, "", 0);
		return;
	}
	if (session_attach_request(s, req))
		return;
	id = mcpclient_next_id(s->client);
	s->calls++;
	request_send(s->requests, req, id);
	task_sent(s->tasks, req);
	if (!mcpclient_needs_prepare(s->client, tail, len)) {
		/* Checked as text on arrival: only the id goes in front. */
		if ((out = process_output(s->process)) == NULL)
			return;
		if (evbuffer_reserve_space(out, (ev_ssize_t)
		    wire_request_size(len), &v, 1) != 1)
			fatalx("evbuffer_reserve_space");
		v.iov_len = (size_t)(wire_request_fill(v.iov_base, id, tail,
		    len) - (char *)v.iov_base);
		evbuffer_commit_space(out, &v, 1);
		process_written(s->process);
		return;
	}
	line = xmalloc(wire_request_size(len));
	end = wire_request_fill(line, id, tail, len);
	if ((ready = mcpclient_prepare(s->client, line, (size_t)(end - line),
	    &ready_len)) != NULL)
		session_write(s, ready, ready_len);
	else
		session_write(s, line, (size_t)(end - line));
	free(ready);
	free(line);
}

/* One line from the child's stdout. */
static void
session_line_cb(const char *data, size_t len, void *arg)
{
	struct session		*s = arg;
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;

	if (s->state == SESSION_READY && session_fast_answer(s, data, len))
		return;
	if (jsonrpc_parse(data, len, &msg, &fault) != 0) {
		session_refused(s, data, len, &fault);
		jsonrpc_fault_clear(&fault);
		return;
	}
	s->line = data;
	s->line_len = len;
	switch (msg.kind) {
	case JSONRPC_RESPONSE:
		if (!mcpclient_response(s->client, &msg))
			session_response(s, &msg);
		break;
	case JSONRPC_REQUEST:
		mcpclient_request(s->client, &msg);
		break;
	case JSONRPC_NOTIFICATION:
		mcpclient_notification(s->client, &msg);
		break;
	}
	s->line = NULL;
	jsonrpc_msg_clear(&msg);
}

/*
 * The request in flight the child's id text names (the broker's ids are
 * plain integers of at most 15 digits; others are not ours), taken out of
 * the session; NULL (logged) if none.
 */
static struct request *
session_take_text(struct session *s, const char *id, size_t len)
{
	int64_t	n = 0;
	size_t	i;

	if (id == NULL)
		return (NULL);
	for (i = 0; i < len && len <= 15 && *id != '0'; i++) {
		if (id[i] < '0' || id[i] > '9')
			break;
		n = n * 10 + (id[i] - '0');
	}
	if (len == 0 || i < len) {
		session_log(s, LOG_LEVEL_DEBUG, "session %s: dropping an "
		    "answer to id %.*s, which is none of the broker's", s->id,
		    (int)(len > 64 ? 64 : len), id);
		return (NULL);
	}
	return (session_take(s, n));
}

/*
 * An answer from the child to a forwarded request: passed on byte for
 * byte under the client's id, a result with the session's _meta added.
 * A result that is not an object cannot carry it, and MCP results are
 * objects: the request fails at once instead.
 */
static void
session_response(struct session *s, struct jsonrpc_msg *msg)
{
	struct request	*req;
	const cJSON	*data;
	char		*message, *alt;
	size_t		 len;

	if ((req = session_take_text(s, msg->id_text, msg->id_len)) == NULL)
		return;
	if (msg->result != NULL && !cJSON_IsObject(msg->result)) {
		xasprintf(&message, "The server's answer could not be passed "
		    "on: its result is not a JSON object.");
		session_log(s, LOG_LEVEL_WARNING, "session %s: %s thread %s: "
		    "%s", s->id, s->server, s->thread, message);
		request_fail(req, RPC_INTERNAL_ERROR, message,
		    session_error_data(s, 0));
		free(message);
		return;
	}
	/* An error's data gains the session if it is an object or absent;
	   any other value is the child's to keep. */
	data = cJSON_GetObjectItemCaseSensitive(msg->error, "data");
	alt = session_answering(s, req, msg, &len);
	if (request_answer_line(req, alt != NULL ? alt : s->line, alt != NULL ?
	    len : s->line_len, data == NULL || cJSON_IsObject(data) ?
	    s->meta_text : NULL, s->meta_len, msg->error != NULL) != 0)
		request_fail(req, RPC_INTERNAL_ERROR, "The server's answer "
		    "could not be passed on: its result._meta is not a JSON "
		    "object.", session_error_data(s, 0));
	free(alt);
}

/*
 * A line from the child that is not a JSON-RPC message the broker can
 * take. A request of the child's own (it has a method) gets the error
 * back under its id, as a client would; an answer whose id can still be
 * read and names a request in flight fails that request at once with
 * -32603 saying why, rather than at its timeout. Anything else is
 * skipped as garbage.
 */
static void
session_refused(struct session *s, const char *data, size_t len,
    struct jsonrpc_fault *fault)
{
	struct scan_member	 m;
	struct request		*req;
	char			*id, *message, *line;
	size_t			 line_len;

	id = fault->id != NULL ? fault->id->valuestring : NULL;
	if (fault->grammar_ok && scan_find(data, len, "method", &m) == 0) {
		session_garbage(s, fault->message);
		if (id != NULL) {
			line = wire_error_line(id, fault->code,
			    fault->message, &line_len);
			session_write(s, line, line_len);
			free(line);
		}
		return;
	}
	if (s->state != SESSION_READY || (req = session_take_text(s, id,
	    id != NULL ? strlen(id) : 0)) == NULL) {
		session_garbage(s, fault->message);
		return;
	}
	xasprintf(&message, "The server's answer could not be passed on: %s",
	    fault->message);
	session_log(s, LOG_LEVEL_WARNING, "session %s: %s thread %s: %s",
	    s->id, s->server, s->thread, message);
	request_fail(req, RPC_INTERNAL_ERROR, message,
	    session_error_data(s, 0));
	free(message);
}

/*
 * The in-flight request the child answered under id, taken out of the
 * session; NULL (logged) if none is: a late answer to a request that
 * timed out or was cancelled is dropped.
 */
static struct request *
session_take(struct session *s, int64_t id)
{
	struct request	*req;

	if ((req = request_take(s->requests, id)) == NULL) {
		session_log(s, LOG_LEVEL_DEBUG, "session %s: dropping an "
		    "answer to id %lld, which is not in flight", s->id,
		    (long long)id);
		return (NULL);
	}
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
	char			*alt;
	size_t			 alt_len;

	if (scan_result(data, len, &r) != 0)
		return (0);
	if ((req = session_take(s, r.id)) == NULL)
		return (1);
	if ((alt = task_answer(s->tasks, req, data, len, &alt_len)) != NULL)
		request_answer_line(req, alt, alt_len, s->meta_text,
		    s->meta_len, 0);
	else
		request_answer_text(req, s->meta_text, s->meta_len, r.body,
		    r.body_len);
	free(alt);
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
	double	now = clock_s();

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

/* initialize was sent after the probe: wait for it until the deadline. */
static void
session_waiting_cb(void *arg)
{
	struct session	*s = arg;

	session_arm(s, session_start_left_ms(s));
}

/* The handshake is done: send what waited, in order. */
static void
session_ready_cb(void *arg)
{
	struct session	*s = arg;
	struct request	*req;

	/* A late answer to the handshake does not revive a closing session. */
	if (s->state != SESSION_STARTING)
		return;
	evtimer_del(s->timer);
	s->state = SESSION_READY;
	session_log(s, LOG_LEVEL_INFO, "session %s: ready (%s, protocol %s)",
	    s->id, s->server, mcpclient_version(s->client));
	while (s->state == SESSION_READY &&
	    (req = request_dequeue(s->requests)) != NULL)
		session_send(s, req);
	session_changed_cb(s);
}

/* The handshake failed: the session ends as a failed start. */
static void
session_failed_cb(const char *why, void *arg)
{
	session_break(arg, RPC_START_FAILED, why);
}

/* The process broke or exited. */
static void
session_broken_cb(const char *why, void *arg)
{
	session_break(arg, RPC_SESSION_LOST, why);
}

/* The start timer: fall back from the probe, or give up. */
static void
session_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session	*s = arg;
	char		*why;

	(void)fd;
	(void)events;
	if (s->state != SESSION_STARTING)
		return;
	if (session_start_left_ms(s) > 1 && mcpclient_timeout(s->client)) {
		session_arm(s, session_start_left_ms(s));
		return;
	}
	xasprintf(&why, "did not finish the MCP handshake within %d s "
	    "(start_timeout_s)", s->start_timeout_s);
	session_break(s, RPC_START_FAILED, why);
	free(why);
}

/*
 * The session cannot go on (the child exited, broke the protocol or hung
 * in the handshake): it ends, so the next request starts a new
 * generation, and its process is shut down. What is queued or in flight
 * is failed with code once the child's exit and last stderr are known.
 */
static void
session_break(struct session *s, int code, const char *why)
{
	if (s->state == SESSION_CLOSING)
		return;
	/* Whatever ends a session before it is ready is a failed start. */
	if (s->state == SESSION_STARTING)
		code = RPC_START_FAILED;
	s->state = SESSION_CLOSING;
	s->end_code = code;
	evtimer_del(s->timer);
	if (why != NULL) {
		s->end_why = xstrdup(why);
		session_log(s, LOG_LEVEL_WARNING, "session %s: %s thread %s %s",
		    s->id, s->server, s->thread, s->end_why);
	}
	s->cbs.ended(s, s->arg);
	process_close(s->process);
}

/*
 * Close the session on the owner's behalf (broker/close, eviction,
 * shutdown). Its requests are answered now with code; the child gets
 * stdin EOF, then SIGTERM, then SIGKILL of its group.
 */
void
session_close(struct session *s, int code, const char *reason)
{
	char	*message;

	if (s->state == SESSION_CLOSING)
		return;
	s->state = SESSION_CLOSING;
	evtimer_del(s->timer);
	session_log(s, LOG_LEVEL_INFO, "session %s: closing %s thread %s (%s)",
	    s->id, s->server, s->thread, reason);
	xasprintf(&message, "The session for server '%s' thread '%s' was "
	    "closed (%s) before it answered.", s->server, s->thread, reason);
	request_fail_all(s->requests, code, message);
	free(message);
	upcall_cancel_all(s->requests, "the session ended");
	process_close(s->process);
}

/*
 * The process is over: answer what is left, and tell the owner, who
 * frees the session from a deferred event.
 */
static void
session_finished_cb(void *arg)
{
	struct session	*s = arg;
	char		*how, *message;
	int		 status = 0;

	upcall_cancel_all(s->requests, "the session ended");
	if (request_set_count(s->requests) > 0) {
		process_status(s->process, &status);
		how = child_describe_status(status);
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
		request_fail_all(s->requests, s->end_code != 0 ?
		    s->end_code : RPC_SESSION_LOST, message);
		free(message);
		free(how);
	}
	session_log(s, LOG_LEVEL_INFO, "session %s: ended (%s thread %s)",
	    s->id, s->server, s->thread);
	s->cbs.finished(s, s->arg);
}

/* The error data for a request request.c fails. */
static cJSON *
session_error_data_cb(void *arg, int full)
{
	return (session_error_data(arg, full));
}

/*
 * {"server","thread","mcp-broker/session"}, the data of errors about a
 * session; with full, how its child ended ("exit_status" or "signal")
 * and its "stderr_tail".
 */
cJSON *
session_error_data(struct session *s, int full)
{
	cJSON	*data;
	int	 status;

	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "server", s->server);
	cJSON_AddStringToObject(data, "thread", s->thread);
	cJSON_AddItemToObject(data, MCP_META_SESSION, session_meta(s));
	if (!full)
		return (data);
	if (process_status(s->process, &status) && WIFEXITED(status))
		cJSON_AddNumberToObject(data, "exit_status",
		    WEXITSTATUS(status));
	if (process_status(s->process, &status) && WIFSIGNALED(status))
		cJSON_AddNumberToObject(data, "signal", WTERMSIG(status));
	cJSON_AddItemToObject(data, "stderr_tail",
	    process_stderr_tail(s->process));
	return (data);
}

/* Where the session is in its life. */
enum session_state
session_state(struct session *s)
{
	return (s->state);
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

/* The session's id, unique for the daemon's life. */
const char *
session_id(struct session *s)
{
	return (s->id);
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

/* Since when (monotonic seconds) the session has been idle. */
double
session_idle_since(struct session *s)
{
	return (s->idle_since);
}

/* What the owner keeps with the session (its table entry). */
void *
session_slot(struct session *s)
{
	return (s->slot);
}

/* Set what the owner keeps with the session. */
void
session_set_slot(struct session *s, void *slot)
{
	s->slot = slot;
}

/* The session's requests and upcalls (session_relay.c's way in). */
struct request_set *
session_requests(struct session *s)
{
	return (s->requests);
}

/* The session's tasks (session_relay.c's way in). */
struct task_set *
session_tasks(struct session *s)
{
	return (s->tasks);
}

/* What the session keeps of its upcalls once passed on. */
struct ask_set *
session_asks(struct session *s)
{
	return (s->asks);
}

/* The child's line being handled (len in *len), or NULL. */
const char *
session_line(struct session *s, size_t *len)
{
	*len = s->line_len;
	return (s->line);
}

/* The session's process, or NULL once it is gone. */
struct process *
session_process(struct session *s)
{
	return (s->process);
}

/*
 * What the session stamps on a message it sends a client unasked:
 * {"id","generation","server","thread"} as JSON text (the session's).
 */
const char *
session_stamp(struct session *s)
{
	return (s->stamp_text);
}

/* The session's _meta as JSON text, and whether its child speaks
   2026-07-28. */
const char *
session_meta_text(struct session *s, size_t *len, int *modern)
{
	*len = s->meta_len;
	*modern = mcpclient_modern(s->client);
	return (s->meta_text);
}

/* {"id","generation"}: the session's _meta (the caller owns it). */
static cJSON *
session_meta(struct session *s)
{
	cJSON	*meta;

	meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "id", s->id);
	cJSON_AddNumberToObject(meta, "generation", s->generation);
	return (meta);
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
	size_t	 pending = request_set_count(s->requests);

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "server", s->server);
	cJSON_AddStringToObject(o, "thread", s->thread);
	cJSON_AddStringToObject(o, "id", s->id);
	cJSON_AddNumberToObject(o, "generation", s->generation);
	cJSON_AddNumberToObject(o, "uid", s->uid);
	cJSON_AddNumberToObject(o, "pid", process_pid(s->process));
	cJSON_AddStringToObject(o, "state", states[s->state]);
	t = session_rfc3339(s->created_at);
	cJSON_AddStringToObject(o, "created_at", t);
	free(t);
	t = session_rfc3339(s->last_used_at);
	cJSON_AddStringToObject(o, "last_used_at", t);
	free(t);
	cJSON_AddNumberToObject(o, "age_s", (double)(now - s->created_at));
	cJSON_AddNumberToObject(o, "idle_s", pending > 0 ? 0 :
	    (double)(now - s->last_used_at));
	cJSON_AddNumberToObject(o, "calls", (double)s->calls);
	cJSON_AddNumberToObject(o, "in_flight", (double)pending);
	if (!full)
		return (o);
	mcpclient_describe(s->client, o);
	cJSON_AddNumberToObject(o, "garbage_lines", (double)s->garbage_lines);
	cJSON_AddItemToObject(o, "stderr_tail",
	    process_stderr_tail(s->process));
	return (o);
}
