/*
 * Client connections: NDJSON in, JSON-RPC answers out, bounded both ways.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "broker.h"
#include "config.h"
#include "conn.h"
#include "errors.h"
#include "frame.h"
#include "jsonrpc.h"
#include "log.h"
#include "scan.h"
#include "session.h"
#include "stream.h"
#include "xmalloc.h"

struct conn {
	struct broker		*b;
	struct stream		*st;
	uid_t			 uid;
	pid_t			 pid;
	int			 admin;		/* may see and close all */
	uint64_t		 serial;
	struct frame		 frame;
	struct request_list	 requests;
	size_t			 nrequests;
	struct upcall_list	 upcalls;	/* asked of this client */
	int			 can_sample;	/* broker/hello */
	int			 can_elicit;
	size_t			 output_max;
	int			 paused;	/* reading stopped: in flight */
	int			 closing;	/* flush, then free */
	int			 dead;		/* freed from a deferred event */
	TAILQ_ENTRY(conn)	 entry;
};

static void	conn_read_cb(struct stream *, struct evbuffer *, void *);
static void	conn_event_cb(struct stream *, enum stream_event, int,
		    void *);
static void	conn_free_cb(evutil_socket_t, short, void *);
static void	conn_line(struct conn *, const char *, size_t);
static void	conn_output_added(struct conn *);

/* Take a new connection from the listener; fd is nonblocking. */
struct conn *
conn_new(struct broker *b, int fd, uid_t uid, pid_t pid, int admin)
{
	struct conn	*c;

	c = xcalloc(1, sizeof *c);
	c->b = b;
	c->uid = uid;
	c->pid = pid;
	c->admin = admin;
	c->serial = ++b->counters.clients_accepted;
	c->output_max = b->conf->max_message_bytes * CONN_OUTPUT_MAX_FACTOR;
	frame_init(&c->frame, b->conf->max_message_bytes);
	TAILQ_INIT(&c->requests);
	TAILQ_INIT(&c->upcalls);
	c->st = stream_new(b->base, fd, STREAM_READ | STREAM_WRITE,
	    conn_read_cb, conn_event_cb, c);
	TAILQ_INSERT_TAIL(&b->conns, c, entry);
	b->nconns++;
	log_debug("client %llu: connected (uid %ld, pid %ld)",
	    (unsigned long long)c->serial, (long)uid, (long)pid);
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
	struct request	*req;
	struct upcall	*up;
	struct timeval	 tv = { 0, 0 };

	if (c->dead)
		return;
	c->dead = 1;
	log_debug("client %llu: dropped (%s)", (unsigned long long)c->serial,
	    why);
	stream_stop(c->st);
	while ((req = TAILQ_FIRST(&c->requests)) != NULL) {
		if (req->session != NULL)
			session_cancel(req->session, req);
		request_free(req);
	}
	while ((up = TAILQ_FIRST(&c->upcalls)) != NULL)
		session_upcall_abandon(up);
	TAILQ_REMOVE(&c->b->conns, c, entry);
	c->b->nconns--;
	event_base_once(c->b->base, -1, EV_TIMEOUT, conn_free_cb, c, &tv);
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

/*
 * Send one message to the client; takes msg. A client that does not read
 * its answers is dropped once its unsent bytes pass the output bound,
 * rather than letting the daemon's memory grow.
 */
void
conn_send(struct conn *c, cJSON *msg)
{
	struct evbuffer	*out;

	if (c->dead) {
		cJSON_Delete(msg);
		return;
	}
	out = stream_output(c->st);
	frame_write(out, msg);
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
		    (unsigned long long)c->serial, c->output_max,
		    CONN_OUTPUT_MAX_FACTOR);
		conn_drop(c, "output bound");
	}
}

/*
 * Send {"jsonrpc":"2.0","id":id,"result":{"_meta":{"mcp-broker/session":
 * meta},body}} without building a tree: id is the id's JSON text, body
 * the text of the child's result members, copied once into the output.
 */
void
conn_send_result(struct conn *c, const char *id, const char *meta,
    const char *body, size_t len)
{
	static const char	 head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
	static const char	 mid[] =
	    ",\"result\":{\"_meta\":{\"mcp-broker/session\":";
	struct evbuffer_iovec	 v;
	size_t			 id_len, meta_len, total;
	char			*p;

	if (c->dead)
		return;
	id_len = strlen(id);
	meta_len = strlen(meta);
	total = sizeof head - 1 + id_len + sizeof mid - 1 + meta_len + 2 +
	    len + 3;
	/* One contiguous piece of the output, filled in place. */
	if (evbuffer_reserve_space(stream_output(c->st), (ev_ssize_t)total,
	    &v, 1) != 1)
		fatalx("evbuffer_reserve_space");
	p = v.iov_base;
	memcpy(p, head, sizeof head - 1);
	p += sizeof head - 1;
	memcpy(p, id, id_len);
	p += id_len;
	memcpy(p, mid, sizeof mid - 1);
	p += sizeof mid - 1;
	memcpy(p, meta, meta_len);
	p += meta_len;
	*p++ = '}';
	if (len > 0) {
		*p++ = ',';
		memcpy(p, body, len);
		p += len;
	}
	memcpy(p, "}}\n", 3);
	p += 3;
	v.iov_len = (size_t)(p - (char *)v.iov_base);
	evbuffer_commit_space(stream_output(c->st), &v, 1);
	conn_output_added(c);
}

/* Send a JSON-RPC error; takes id (NULL: null) and data. */
void
conn_send_error(struct conn *c, cJSON *id, int code, const char *message,
    cJSON *data)
{
	c->b->counters.errors++;
	conn_send(c, jsonrpc_error(id, code, message, data));
}

/* Stop reading; free the connection once what is queued is written. */
void
conn_close_after_flush(struct conn *c)
{
	c->closing = 1;
	stream_pause(c->st);
	if (evbuffer_get_length(stream_output(c->st)) == 0)
		conn_drop(c, "closed by the broker");
}

/* The peer's uid, from SO_PEERCRED at accept. */
uid_t
conn_uid(struct conn *c)
{
	return (c->uid);
}

/* A request of this client is now pending; pause reading at the bound. */
void
conn_add_request(struct conn *c, struct request *req)
{
	req->conn = c;
	TAILQ_INSERT_TAIL(&c->requests, req, conn_entry);
	if (++c->nrequests >= CONN_MAX_IN_FLIGHT && !c->paused) {
		c->paused = 1;
		stream_pause(c->st);
	}
}

/* A request of this client is done; resume reading below the bound. */
void
conn_remove_request(struct conn *c, struct request *req)
{
	TAILQ_REMOVE(&c->requests, req, conn_entry);
	req->conn = NULL;
	if (--c->nrequests < CONN_MAX_IN_FLIGHT && c->paused && !c->dead &&
	    !c->closing) {
		c->paused = 0;
		/* Lines may already be buffered: they are read at once. */
		stream_resume(c->st);
	}
}

/* The pending request this client sent under id, or NULL. */
struct request *
conn_find_request(struct conn *c, const cJSON *id)
{
	struct request	*req;

	TAILQ_FOREACH(req, &c->requests, conn_entry) {
		if (cJSON_Compare(req->client_id, id, 1))
			return (req);
	}
	return (NULL);
}

/* Lines from the client: each a JSON-RPC message. */
static void
conn_read_cb(struct stream *st, struct evbuffer *in, void *arg)
{
	struct conn		*c = arg;
	struct frame_line	 line;
	cJSON			*data;

	(void)st;
	while (!c->dead && !c->closing && !c->paused) {
		switch (frame_next(&c->frame, in, &line)) {
		case FRAME_AGAIN:
			return;
		case FRAME_TOO_LONG:
			data = cJSON_CreateObject();
			cJSON_AddNumberToObject(data, "max_message_bytes",
			    (double)c->frame.max);
			conn_send_error(c, NULL, RPC_TOO_LARGE, "The message is "
			    "longer than max_message_bytes; the connection "
			    "will be closed.", data);
			evbuffer_drain(in, evbuffer_get_length(in));
			conn_close_after_flush(c);
			return;
		case FRAME_LINE:
			conn_line(c, line.data, line.len);
			frame_done(&c->frame, in, &line);
			break;
		}
	}
}

/* One line from the client. */
static void
conn_line(struct conn *c, const char *data, size_t len)
{
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;
	struct scan_request	 rq;
	struct upcall		*up;

	if (scan_request(data, len, &rq) == 0 &&
	    broker_forward_text(c->b, c, &rq) == 0) {
		c->b->counters.requests++;
		return;
	}
	if (jsonrpc_parse(data, len, &msg, &fault) != 0) {
		conn_send_error(c, fault.id, fault.code, fault.message, NULL);
		return;
	}
	switch (msg.kind) {
	case JSONRPC_REQUEST:
		c->b->counters.requests++;
		broker_dispatch(c->b, c, msg.root);
		break;
	case JSONRPC_NOTIFICATION:
		broker_notify(c->b, c, msg.root);
		break;
	case JSONRPC_RESPONSE:
		TAILQ_FOREACH(up, &c->upcalls, conn_entry) {
			if (cJSON_IsNumber(msg.id) &&
			    msg.id->valuedouble == (double)up->client_id)
				break;
		}
		if (up != NULL)
			session_upcall_answer(up, msg.root);
		else {
			log_debug("client %llu: ignoring a response to no "
			    "request of the broker's",
			    (unsigned long long)c->serial);
			cJSON_Delete(msg.root);
		}
		break;
	}
}

/* EOF or an error on the socket; or all written, when closing. */
static void
conn_event_cb(struct stream *st, enum stream_event what, int error,
    void *arg)
{
	struct conn	*c = arg;

	(void)st;
	switch (what) {
	case STREAM_EOF:
		conn_drop(c, "disconnected");
		break;
	case STREAM_ERROR:
		log_debug("client %llu: %s", (unsigned long long)c->serial,
		    strerror(error));
		conn_drop(c, "socket error");
		break;
	case STREAM_DRAINED:
		if (c->closing)
			conn_drop(c, "closed by the broker");
		break;
	}
}

/* Whether the peer is an admin (root, the daemon's user, admin_group). */
int
conn_admin(struct conn *c)
{
	return (c->admin);
}

/* The broker this connection belongs to. */
struct broker *
conn_broker(struct conn *c)
{
	return (c->b);
}

/* What the client said it can answer (broker/hello). */
void
conn_set_capabilities(struct conn *c, int sampling, int elicitation)
{
	c->can_sample = sampling;
	c->can_elicit = elicitation;
}

/* Whether the client takes sampling/createMessage requests. */
int
conn_can_sample(struct conn *c)
{
	return (c->can_sample && !c->dead);
}

/* Whether the client takes elicitation/create requests. */
int
conn_can_elicit(struct conn *c)
{
	return (c->can_elicit && !c->dead);
}

/* A child's request now waits for this client's answer. */
void
conn_add_upcall(struct conn *c, struct upcall *up)
{
	up->conn = c;
	TAILQ_INSERT_TAIL(&c->upcalls, up, conn_entry);
}

/* A child's request no longer waits for this client. */
void
conn_remove_upcall(struct conn *c, struct upcall *up)
{
	TAILQ_REMOVE(&c->upcalls, up, conn_entry);
	up->conn = NULL;
}
