/*
 * MCP server processes: a child, its stdin, stdout and stderr streams,
 * the stderr tail, the close escalation, and the containment of what it
 * starts.
 */
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cgroup.h"
#include "child.h"
#include "clock.h"
#include "escape.h"
#include "frame.h"
#include "log.h"
#include "process.h"
#include "stream.h"
#include "xmalloc.h"

struct process {
	struct process_env	 env;
	const struct log_ctx	*ctx;		/* the owner's */
	struct process_cbs	 cbs;
	void			*arg;

	struct child		*child;
	struct cgroup		*cg;		/* NULL: none */
	pid_t			 pid;
	struct stream		*in;		/* NULL once closed */
	struct stream		*out;
	struct stream		*err;
	struct event		*timer;		/* close escalation */

	char			*tail[PROCESS_STDERR_LINES];
	size_t			 tail_first;
	size_t			 tail_count;

	/* The child's log rate limit: this window's use, what it dropped. */
	struct event		*err_timer;	/* reports what was dropped */
	double			 err_window;	/* when the window began */
	size_t			 err_lines;
	size_t			 err_bytes;
	size_t			 err_dropped;
	size_t			 err_dropped_bytes;

	int			 closing;	/* process_close was called */
	int			 close_step;	/* 0 stdin, 1 TERM, 2 KILL */
	int			 reaped;
	int			 status;
	int			 out_eof;
	int			 err_eof;
	int			 emptied;	/* what it started is gone */
	int			 finished;
};

static struct process *process_new(const struct process_env *,
		    const struct log_ctx *, const struct process_cbs *,
		    void *);
static void	process_wire(struct process *);
static void	process_stdout_cb(struct stream *, const char *, size_t,
		    void *);
static void	process_stderr_cb(struct stream *, const char *, size_t,
		    void *);
static void	process_pipe_event_cb(struct stream *, enum stream_event, int,
		    void *);
static void	process_stdin_event_cb(struct stream *, enum stream_event,
		    int, void *);
static void	process_exit_cb(struct child *, int, void *);
static void	process_timer_cb(evutil_socket_t, short, void *);
static void	process_empty(struct process *);
static void	process_emptied_cb(void *);
static void	process_escalate(struct process *);
static void	process_maybe_finish(struct process *);
static const char *process_add_tail(struct process *, const char *,
		    size_t);
static void	process_log_report(struct process *);
static void	process_log_timer_cb(evutil_socket_t, short, void *);
static int	process_stdin_full(struct process *);
static void	process_log(struct process *, enum log_level, const char *,
		    ...) __attribute__((format(printf, 3, 4)));

/* A process object, not yet running anything. */
static struct process *
process_new(const struct process_env *env, const struct log_ctx *ctx,
    const struct process_cbs *cbs, void *arg)
{
	struct process	*p;

	p = xcalloc(1, sizeof *p);
	p->env = *env;
	p->ctx = ctx;
	p->cbs = *cbs;
	p->arg = arg;
	return (p);
}

/*
 * Start the command of spec. Returns NULL with *cause set if it cannot be
 * started at all (pipes, fork); what goes wrong later is reported.
 */
struct process *
process_spawn(const struct process_env *env, const struct child_spec *spec,
    const struct log_ctx *ctx, const struct process_cbs *cbs, void *arg,
    char **cause)
{
	struct process		*p;
	struct child_spec	 s = *spec;

	p = process_new(env, ctx, cbs, arg);
	s.tag = ctx->session;
	s.join_fd = -1;
	if (env->cgroups != NULL && cgroup_root_path(env->cgroups) != NULL) {
		if ((p->cg = cgroup_create(env->cgroups, ctx->session,
		    env->limits, ctx->server, cause)) == NULL) {
			free(p);
			return (NULL);
		}
		s.join_fd = cgroup_join_fd(p->cg);
	} else if (env->cgroups != NULL)
		cgroup_limits_unapplied(env->limits, ctx->server,
		    cgroup_root_why(env->cgroups));
	p->child = child_spawn(env->children, &s, process_exit_cb, p, cause);
	if (p->cg != NULL)
		cgroup_join_done(p->cg);
	if (p->child == NULL) {
		if (p->cg != NULL) {
			cgroup_remove(p->cg, process_emptied_cb, p);
			cgroup_free(p->cg);
		}
		free(p);
		return (NULL);
	}
	process_wire(p);
	return (p);
}

/*
 * Take over a running process: pid leads its group, fds are our ends of
 * its stdin, stdout and stderr.
 */
struct process *
process_adopt(const struct process_env *env, pid_t pid, const int fds[3],
    const struct log_ctx *ctx, const struct process_cbs *cbs, void *arg)
{
	struct process	*p;

	p = process_new(env, ctx, cbs, arg);
	p->child = child_adopt(env->children, pid, fds, process_exit_cb, p);
	process_wire(p);
	return (p);
}

/* Put the child's pipes on streams, in line mode for stdout and stderr. */
static void
process_wire(struct process *p)
{
	int	fd;

	p->pid = child_pid(p->child);
	fd = child_take_stdin(p->child);
	evutil_make_socket_nonblocking(fd);
	p->in = stream_new(p->env.base, p->env.queue, fd, STREAM_WRITE, NULL,
	    process_stdin_event_cb, p);

	fd = child_take_stdout(p->child);
	evutil_make_socket_nonblocking(fd);
	p->out = stream_new(p->env.base, p->env.queue, fd, STREAM_READ, NULL,
	    process_pipe_event_cb, p);
	stream_set_lines(p->out, p->env.max_message, 0, process_stdout_cb);

	fd = child_take_stderr(p->child);
	evutil_make_socket_nonblocking(fd);
	p->err = stream_new(p->env.base, p->env.queue, fd, STREAM_READ, NULL,
	    process_pipe_event_cb, p);
	stream_set_lines(p->err, PROCESS_STDERR_LINE_MAX, STREAM_LINES_SPLIT,
	    process_stderr_cb);

	p->timer = evtimer_new(p->env.base, process_timer_cb, p);
	p->err_timer = evtimer_new(p->env.base, process_log_timer_cb, p);
	p->err_window = clock_s();
}

/* Free a finished process (or one never started). */
void
process_free(struct process *p)
{
	size_t	i;

	if (p->in != NULL)
		stream_free(p->in);
	stream_free(p->out);
	stream_free(p->err);
	event_free(p->timer);
	if (p->err_timer != NULL) {
		process_log_report(p);
		event_free(p->err_timer);
	}
	child_free(p->child);
	cgroup_free(p->cg);
	for (i = 0; i < p->tail_count; i++)
		free(p->tail[(p->tail_first + i) % PROCESS_STDERR_LINES]);
	free(p);
}

/* Log a line about this process, with its fields for the journal. */
static void
process_log(struct process *p, enum log_level level, const char *fmt, ...)
{
	struct log_ctx	ctx = *p->ctx;
	va_list		ap;

	ctx.pid = (long)p->pid;
	va_start(ap, fmt);
	log_ctx_vat(level, &ctx, fmt, ap);
	va_end(ap);
}

/* Send one message to the child; takes msg. */
void
process_send(struct process *p, cJSON *msg)
{
	if (p->in == NULL) {
		cJSON_Delete(msg);
		return;
	}
	frame_write(stream_output(p->in), msg);
	cJSON_Delete(msg);
	process_written(p);
}

/* Where bytes for the child's stdin go; NULL once it is closed. */
struct evbuffer *
process_output(struct process *p)
{
	return (p->in != NULL ? stream_output(p->in) : NULL);
}

/*
 * Whether the pipe to the child's stdin is full, i.e. the child is not
 * reading. A burst of requests (those that queued during the handshake)
 * can pass the buffer bound before the loop wrote a byte; only a full
 * pipe shows the child is stuck.
 */
static int
process_stdin_full(struct process *p)
{
	struct pollfd	pfd;

	pfd.fd = stream_fd(p->in);
	pfd.events = POLLOUT;
	return (poll(&pfd, 1, 0) == 0);
}

/*
 * Bytes were added for the child's stdin: queue them for writing. A child
 * whose stdin backs up past the bound while its pipe is full is not
 * reading: the process is broken.
 */
void
process_written(struct process *p)
{
	struct evbuffer	*buf;
	size_t		 max = p->env.max_message * PROCESS_STDIN_MAX_FACTOR;
	char		*why;

	if (p->in == NULL)
		return;
	buf = stream_output(p->in);
	stream_written(p->in);
	if (evbuffer_get_length(buf) > max && process_stdin_full(p)) {
		xasprintf(&why, "stopped reading its stdin (over %zu bytes "
		    "waiting, %d x max_message_bytes)", evbuffer_get_length(buf),
		    PROCESS_STDIN_MAX_FACTOR);
		p->cbs.broken(why, p->arg);
		free(why);
	}
}

/* One line of the child's stdout. */
static void
process_stdout_cb(struct stream *st, const char *data, size_t len, void *arg)
{
	struct process	*p = arg;

	(void)st;
	p->cbs.line(data, len, p->arg);
}

/*
 * One line of the child's stderr: kept in the tail, told to whoever the
 * env names, and logged within the rate limit.
 */
static void
process_stderr_cb(struct stream *st, const char *data, size_t len, void *arg)
{
	struct process	*p = arg;
	const char	*line;

	(void)st;
	line = process_add_tail(p, data, len);
	if (p->env.stderr_line != NULL)
		p->env.stderr_line(p->ctx->session, line, p->env.stderr_arg);
	if (process_log_allow(p, len))
		process_log(p, LOG_LEVEL_INFO, "session %s: %s[%ld] stderr: "
		    "%.*s", p->ctx->session, p->ctx->server, (long)p->pid,
		    (int)len, data);
}

/*
 * Append one stderr line to the tail ring, made valid UTF-8: the tail
 * goes out in JSON (broker/session, broker/logs, error data), which a
 * stray byte of the child's would make unreadable. Returns the line kept.
 */
static const char *
process_add_tail(struct process *p, const char *data, size_t len)
{
	size_t	slot;

	if (p->tail_count == PROCESS_STDERR_LINES) {
		free(p->tail[p->tail_first]);
		p->tail_first = (p->tail_first + 1) % PROCESS_STDERR_LINES;
		p->tail_count--;
	}
	slot = (p->tail_first + p->tail_count) % PROCESS_STDERR_LINES;
	p->tail[slot] = escape_utf8(data, len);
	p->tail_count++;
	return (p->tail[slot]);
}

/*
 * Whether a line of len bytes the child wrote for the log (a stderr line,
 * a log notification) may be logged: yes while the window has lines and
 * bytes left; otherwise it is counted, and the window's end reports how
 * many were dropped.
 */
int
process_log_allow(struct process *p, size_t len)
{
	struct timeval	tv;
	double		now = clock_s(), left;

	if (p->err_dropped == 0 &&
	    now - p->err_window >= PROCESS_LOG_WINDOW_S) {
		p->err_window = now;
		p->err_lines = p->err_bytes = 0;
	}
	if (p->err_dropped == 0 && p->err_lines < PROCESS_LOG_LINES &&
	    p->err_bytes + len <= PROCESS_LOG_BYTES) {
		p->err_lines++;
		p->err_bytes += len;
		return (1);
	}
	if (p->err_dropped++ == 0) {
		left = p->err_window + PROCESS_LOG_WINDOW_S - now;
		clock_tv(left > 0 ? (int)(left * 1000) + 1 : 0, &tv);
		evtimer_add(p->err_timer, &tv);
	}
	p->err_dropped_bytes += len;
	return (0);
}

/* Say how many lines the window dropped, and start a new one. */
static void
process_log_report(struct process *p)
{
	if (p->err_dropped != 0)
		process_log(p, LOG_LEVEL_WARNING, "session %s: %zu lines of "
		    "stderr and log messages (%zu bytes) not logged in the "
		    "last %d s (rate limit: PROCESS_LOG_LINES %d lines, "
		    "PROCESS_LOG_BYTES %d bytes per %d s)",
		    p->ctx->session, p->err_dropped,
		    p->err_dropped_bytes, PROCESS_LOG_WINDOW_S,
		    PROCESS_LOG_LINES, PROCESS_LOG_BYTES,
		    PROCESS_LOG_WINDOW_S);
	p->err_dropped = p->err_dropped_bytes = 0;
	p->err_lines = p->err_bytes = 0;
	p->err_window = clock_s();
}

/* The end of a window that dropped lines. */
static void
process_log_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	process_log_report(arg);
}

/* EOF, an error or an over-long line on stdout or stderr. */
static void
process_pipe_event_cb(struct stream *st, enum stream_event what, int error,
    void *arg)
{
	struct process	*p = arg;
	char		*why;

	if (what == STREAM_DRAINED)
		return;
	if (what == STREAM_TOO_LONG) {
		/* Only stdout has a bound; the rest is discarded. */
		xasprintf(&why, "wrote a line over %zu bytes "
		    "(max_message_bytes)", p->env.max_message);
		p->cbs.broken(why, p->arg);
		free(why);
		return;
	}
	if (what == STREAM_ERROR)
		process_log(p, LOG_LEVEL_DEBUG, "session %s: reading %s: %s",
		    p->ctx->session, st == p->out ? "stdout" : "stderr",
		    strerror(error));
	if (st == p->out) {
		p->out_eof = 1;
		/* No more answers can come: the child is gone or broken. */
		if (!p->closing)
			p->cbs.broken(NULL, p->arg);
	} else
		p->err_eof = 1;
	process_maybe_finish(p);
}

/* Writing to the child's stdin failed: it closed it or died. */
static void
process_stdin_event_cb(struct stream *st, enum stream_event what, int error,
    void *arg)
{
	struct process	*p = arg;

	(void)st;
	(void)error;
	if (what == STREAM_ERROR)
		p->cbs.broken("closed its stdin", p->arg);
}

/*
 * End the process: stdin EOF, then after the grace SIGTERM to its group,
 * then after another SIGKILL. Calling it again does nothing.
 */
void
process_close(struct process *p)
{
	if (p->closing)
		return;
	p->closing = 1;
	process_escalate(p);
}

/*
 * One step of the close escalation. Once the leader is reaped, what is
 * left of the group is killed at once.
 */
static void
process_escalate(struct process *p)
{
	struct timeval	tv;

	clock_tv(p->env.grace_ms, &tv);
	if (p->reaped) {
		child_kill_group(p->child, SIGKILL);
		evtimer_add(p->timer, &tv);
		process_maybe_finish(p);
		return;
	}
	switch (p->close_step++) {
	case 0:
		if (p->in != NULL) {
			stream_free(p->in);
			p->in = NULL;
		}
		break;
	case 1:
		process_log(p, LOG_LEVEL_DEBUG, "session %s: sending SIGTERM "
		    "to group %ld", p->ctx->session, (long)p->pid);
		child_kill_group(p->child, SIGTERM);
		break;
	default:
		process_log(p, LOG_LEVEL_WARNING, "session %s: %s (pid %ld) "
		    "ignored SIGTERM; sending SIGKILL", p->ctx->session,
		    p->ctx->server, (long)p->pid);
		child_kill_group(p->child, SIGKILL);
		break;
	}
	evtimer_add(p->timer, &tv);
}

/* The escalation's next step, or the last wait after reaping. */
static void
process_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct process	*p = arg;

	(void)fd;
	(void)events;
	if (p->reaped) {
		/* Something outside the group holds the pipes open. */
		p->out_eof = p->err_eof = 1;
		process_maybe_finish(p);
		return;
	}
	process_escalate(p);
}

/* The child exited (from child_reap): what it started goes with it. */
static void
process_exit_cb(struct child *c, int status, void *arg)
{
	struct process	*p = arg;
	char		*how;

	(void)c;
	p->reaped = 1;
	p->status = status;
	how = child_describe_status(status);
	if (!p->closing) {
		process_log(p, LOG_LEVEL_WARNING, "session %s: %s (pid %ld) %s",
		    p->ctx->session, p->ctx->server, (long)p->pid, how);
		p->cbs.broken(NULL, p->arg);
	} else {
		process_log(p, LOG_LEVEL_DEBUG, "session %s: pid %ld %s",
		    p->ctx->session, (long)p->pid, how);
		process_escalate(p);
	}
	free(how);
	process_empty(p);
}

/*
 * Kill whatever the child left running: its cgroup (removed once empty),
 * or without one every descendant carrying the session's tag.
 */
static void
process_empty(struct process *p)
{
	int	n;

	if (p->cg != NULL) {
		cgroup_remove(p->cg, process_emptied_cb, p);
		return;
	}
	if ((n = child_kill_tree(p->ctx->session)) > 0)
		process_log(p, LOG_LEVEL_DEBUG, "session %s: killed %d "
		    "processes it left", p->ctx->session, n);
	process_emptied_cb(p);
}

/* Nothing the child started is left (or its cgroup could not empty). */
static void
process_emptied_cb(void *arg)
{
	struct process	*p = arg;

	p->emptied = 1;
	if (p->child != NULL)
		process_maybe_finish(p);
}

/* The process is over once reaped, both pipes at EOF and emptied. */
static void
process_maybe_finish(struct process *p)
{
	if (p->finished || !p->reaped || !p->out_eof || !p->err_eof ||
	    !p->emptied)
		return;
	p->finished = 1;
	evtimer_del(p->timer);
	p->cbs.finished(p->arg);
}

/* The child's pid, which is also its process group id. */
pid_t
process_pid(struct process *p)
{
	return (p->pid);
}

/* Whether the child was reaped; its wait status into *status if so. */
int
process_status(struct process *p, int *status)
{
	if (p->reaped)
		*status = p->status;
	return (p->reaped);
}

/* The child's last stderr lines, oldest first (caller owns the array). */
cJSON *
process_stderr_tail(struct process *p)
{
	cJSON	*a;
	size_t	 i;

	a = cJSON_CreateArray();
	for (i = 0; i < p->tail_count; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(
		    p->tail[(p->tail_first + i) % PROCESS_STDERR_LINES]));
	return (a);
}
