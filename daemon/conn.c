/*
 * Client connections: NDJSON in, JSON-RPC answers out, bounded both ways.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "broker.h"
#include "config.h"
#include "conn.h"
#include "counters.h"
#include "dispatch.h"
#include "errors.h"
#include "frame.h"
#include "front.h"
#include "log.h"
#include "stream.h"
#include "wire.h"
#include "xmalloc.h"

struct conn {
	struct front		 front;		/* the core's side */
	struct broker		*b;
	struct stream		*st;
	size_t			 output_max;
	int			 closing;	/* flush, then free */
	int			 dead;		/* freed from a deferred event */
};

static void	conn_line_cb(struct stream *, const char *, size_t, void *);
static void	conn_event_cb(struct stream *, enum stream_event, int,
		    void *);
static void	conn_free_cb(evutil_socket_t, short, void *);
static void	conn_output_added(struct conn *);
static void	conn_close_after_flush(struct conn *);
static void	conn_send_op(void *, cJSON *);
static void	conn_send_line_op(void *, const char *, size_t);
static void	conn_send_result_op(void *, const char *, size_t,
		    const char *, size_t, const char *, size_t);
static void	conn_pause_op(void *);
static void	conn_resume_op(void *);
static void	conn_close_op(void *, const char *);

/* What a connection does for the core. */
static const struct front_ops conn_ops = {
	.send = conn_send_op,
	.send_result = conn_send_result_op,
	.send_line = conn_send_line_op,
	.pause = conn_pause_op,
	.resume = conn_resume_op,
	.close = conn_close_op,
};

/* Take a new connection from the listener; fd is nonblocking. */
struct conn *
conn_new(struct broker *b, int fd, uid_t uid, pid_t pid, int admin)
{
	struct conn	*c;
	size_t		 max = broker_config(b)->max_message_bytes;

	c = xcalloc(1, sizeof *c);
	c->b = b;
	front_init(&c->front, &conn_ops, c, broker_counters(b), uid, pid,
	    admin);
	c->output_max = max * CONN_OUTPUT_MAX_FACTOR;
	c->st = stream_new(broker_base(b), broker_queue(b), fd,
	    STREAM_READ | STREAM_WRITE, NULL, conn_event_cb, c);
	stream_set_lines(c->st, max, 0, conn_line_cb);
	broker_front_add(b, &c->front);
	log_debug("client %llu: connected (uid %ld, pid %ld)",
	    (unsigned long long)c->front.serial, (long)uid, (long)pid);
	return (c);
}

/*
 * Drop the connection now: its requests still in flight are cancelled at
 * their children and their late answers dropped. Freed later, from a
 * deferred event, since a callback of this conn may be on the stack.
 */
void
conn_drop(struct conn *c, const char *why)
{
	struct timeval	 tv = { 0, 0 };

	if (c->dead)
		return;
	c->dead = 1;
	log_debug("client %llu: dropped (%s)",
	    (unsigned long long)c->front.serial, why);
	stream_stop(c->st);
	broker_front_gone(c->b, &c->front);
	event_base_once(broker_base(c->b), -1, EV_TIMEOUT, conn_free_cb, c,
	    &tv);
}

/* Free a dropped connection. */
static void
conn_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)events;
	stream_free(c->st);
	free(c);
}

/* Send one message to the client; takes msg. */
static void
conn_send_op(void *arg, cJSON *msg)
{
	struct conn	*c = arg;

	if (c->dead) {
		cJSON_Delete(msg);
		return;
	}
	frame_write(stream_output(c->st), msg);
	cJSON_Delete(msg);
	conn_output_added(c);
}

/*
 * Bytes were added to the output: queue them for writing. A client that
 * does not read its answers is dropped once its unsent bytes pass the
 * output bound, rather than letting memory grow.
 */
static void
conn_output_added(struct conn *c)
{
	stream_written(c->st);
	if (evbuffer_get_length(stream_output(c->st)) > c->output_max) {
		log_warnx("client %llu: over %zu unsent bytes (%d x "
		    "max_message_bytes); dropping it",
		    (unsigned long long)c->front.serial, c->output_max,
		    CONN_OUTPUT_MAX_FACTOR);
		conn_drop(c, "output bound");
	}
}

/* Send a success result as text, filled into one piece of the output. */
static void
conn_send_result_op(void *arg, const char *id, size_t id_len,
    const char *meta, size_t meta_len, const char *body, size_t len)
{
	struct conn		*c = arg;
	struct evbuffer_iovec	 v;
	struct evbuffer		*out;

	if (c->dead)
		return;
	out = stream_output(c->st);
	if (evbuffer_reserve_space(out, (ev_ssize_t)wire_result_size(id_len,
	    meta_len, len), &v, 1) != 1)
		fatalx("evbuffer_reserve_space");
	v.iov_len = (size_t)(wire_result_fill(v.iov_base, id, id_len, meta,
	    meta_len, body, len) - (char *)v.iov_base);
	evbuffer_commit_space(out, &v, 1);
	conn_output_added(c);
}

/* Send one message written as text, and its newline. */
static void
conn_send_line_op(void *arg, const char *line, size_t len)
{
	struct conn	*c = arg;
	struct evbuffer	*out;

	if (c->dead)
		return;
	out = stream_output(c->st);
	if (evbuffer_add(out, line, len) != 0 ||
	    evbuffer_add(out, "\n", 1) != 0)
		fatalx("evbuffer_add");
	conn_output_added(c);
}

/* Stop reading: the client is at its bound of requests in flight. */
static void
conn_pause_op(void *arg)
{
	struct conn	*c = arg;

	stream_pause(c->st);
}

/* Read again: lines already buffered are taken at once. */
static void
conn_resume_op(void *arg)
{
	struct conn	*c = arg;

	if (!c->dead && !c->closing)
		stream_resume(c->st);
}

/* The broker drops the client. */
static void
conn_close_op(void *arg, const char *why)
{
	conn_drop(arg, why);
}

/* Stop reading; free the connection once what is queued is written. */
static void
conn_close_after_flush(struct conn *c)
{
	c->closing = 1;
	stream_pause(c->st);
	if (evbuffer_get_length(stream_output(c->st)) == 0)
		conn_drop(c, "closed by the broker");
}

/* One line from the client: a JSON-RPC message for the core. */
static void
conn_line_cb(struct stream *st, const char *data, size_t len, void *arg)
{
	struct conn	*c = arg;

	(void)st;
	dispatch_line(c->b, &c->front, data, len);
}

/*
 * EOF or an error on the socket; a line over the bound; or all written,
 * when closing.
 */
static void
conn_event_cb(struct stream *st, enum stream_event what, int error,
    void *arg)
{
	struct conn	*c = arg;
	cJSON		*data;

	(void)st;
	switch (what) {
	case STREAM_TOO_LONG:
		data = cJSON_CreateObject();
		cJSON_AddNumberToObject(data, "max_message_bytes", (double)
		    broker_config(c->b)->max_message_bytes);
		front_send_error(&c->front, NULL, RPC_TOO_LARGE, "The message "
		    "is longer than max_message_bytes; the connection will be "
		    "closed.", data);
		conn_close_after_flush(c);
		break;
	case STREAM_EOF:
		conn_drop(c, "disconnected");
		break;
	case STREAM_ERROR:
		log_debug("client %llu: %s",
		    (unsigned long long)c->front.serial, strerror(error));
		conn_drop(c, "socket error");
		break;
	case STREAM_DRAINED:
		if (c->closing)
			conn_drop(c, "closed by the broker");
		break;
	}
}
