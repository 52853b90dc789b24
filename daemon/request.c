/*
 * Requests and upcalls, with the lists that hold them: a front's, and a
 * session's request set (queued, in flight by child id, upcalls).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "attach.h"
#include "clock.h"
#include "counters.h"
#include "errors.h"
#include "front.h"
#include "jsonrpc.h"
#include "latency.h"
#include "log.h"
#include "mcp.h"
#include "request.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

/* Buckets of a set's child-id hash to start with (a power of two). */
#define REQUEST_HASH_MIN	16

enum request_where {
	REQUEST_NOWHERE,	/* not handed to a session yet */
	REQUEST_QUEUED,		/* waiting for the handshake */
	REQUEST_SENT,		/* in flight under child_id */
};

struct request {
	enum request_kind	 kind;
	enum request_where	 where;
	struct front		*front;		/* NULL once finished */
	struct request_set	*set;		/* NULL unless queued or sent */
	struct request_set	*owner;		/* the set that took it, for
						   its finish: kept when it
						   leaves the set to be
						   answered */
	char			*id;		/* the client's id as written:
						   id_small, or allocated */
	size_t			 id_len;
	char			 id_small[24];
	char			*tail;		/* the request for the child:
						   all after the id, newline
						   included */
	size_t			 tail_len;
	int64_t			 child_id;	/* 0 until sent */
	cJSON			*client_token;	/* owned progress token */
	int64_t			 child_token;	/* 0: no progress asked */
	uint64_t		 started_us;	/* monotonic, when it came */

	struct event		 timer;		/* request timeout */
	int			 timer_set;
	long			 timeout_ms;
	long			 max_ms;	/* max_request_timeout_s */
	uint64_t		 deadline_max;	/* monotonic ms */

	TAILQ_ENTRY(request)	 front_entry;
	TAILQ_ENTRY(request)	 set_entry;	/* queue or sent list */
	LIST_ENTRY(request)	 hash_entry;	/* by child_id, once sent */
};
TAILQ_HEAD(request_list, request);
LIST_HEAD(request_bucket, request);

struct upcall {
	struct request_set	*set;
	struct front		*front;		/* NULL once withdrawn */
	char			*child_id;	/* the child's id as written */
	size_t			 child_id_len;
	int64_t			 client_id;	/* the id the client sees */
	TAILQ_ENTRY(upcall)	 set_entry;
	TAILQ_ENTRY(upcall)	 front_entry;
};

struct request_set {
	const struct request_set_ops	*ops;
	void				*arg;
	struct request_list		 queue;
	struct request_list		 sent;
	size_t				 nqueue;
	size_t				 nsent;
	struct request_bucket		*hash;
	size_t				 nbuckets;
	TAILQ_HEAD(, upcall)		 upcalls;
	size_t				 nupcalls;

	struct attach_set		*attach;	/* its clients */
	struct latency			*latency;	/* held, or NULL */
	const struct log_ctx		*ctx;		/* the owner's */
	const int			*access_log;	/* the owner's */
};

/*
 * Whether requests are timed for the latency histograms: always, but in
 * the baseline daemon make bench builds to show what they cost
 * (-DMCPB_NO_HISTOGRAM).
 */
#ifdef MCPB_NO_HISTOGRAM
#define REQUEST_TIMED	0
#else
#define REQUEST_TIMED	1
#endif

/* Longest method or tool name the request log writes. */
#define REQUEST_LOG_NAME	128

static void	request_timeout_cb(evutil_socket_t, short, void *);
static void	request_arm(struct request *);
static void	request_unlink(struct request *);
static void	request_free(struct request *);
static void	request_tell_child(struct request_set *, int64_t,
		    const char *);
static void	request_hash_grow(struct request_set *);
static void	upcall_free(struct upcall *);
static cJSON	*request_id(struct request *);
static void	request_done(struct request *, int, const char *);
static void	request_log(struct request *, struct request_set *,
		    enum log_level, uint64_t, int, const char *);

/*
 * A new request from front under the client's id: id_text as the client
 * wrote it, or (len 0) client_id printed; client_id is taken. It counts
 * toward the front's bound on requests in flight from now on.
 */
struct request *
request_new(struct front *f, enum request_kind kind, cJSON *client_id,
    const char *id_text, size_t id_len)
{
	struct request	*req;
	char		*printed = NULL;

	/* malloc, not calloc: one request a call, and glibc's calloc does
	   not take from the per-thread cache of freed chunks. */
	req = xmalloc(sizeof *req);
	memset(req, 0, sizeof *req);
	req->kind = kind;
	req->front = f;
	if (REQUEST_TIMED)
		req->started_us = clock_us();
	if (id_len == 0) {
		printed = cJSON_PrintUnformatted(client_id);
		id_text = printed != NULL ? printed : "null";
		id_len = strlen(id_text);
	}
	cJSON_Delete(client_id);
	req->id = id_len < sizeof req->id_small ? req->id_small :
	    xmalloc(id_len + 1);
	memcpy(req->id, id_text, id_len);
	req->id[id_len] = '\0';
	req->id_len = id_len;
	free(printed);
	TAILQ_INSERT_TAIL(&f->requests, req, front_entry);
	front_hold(f);
	return (req);
}

/* The request for the child as text after its id (taken). */
void
request_set_text(struct request *req, char *tail, size_t len)
{
	req->tail = tail;
	req->tail_len = len;
}

/* The client's progress token (taken): progress is passed back. */
void
request_set_token(struct request *req, cJSON *token)
{
	req->client_token = token;
}

/*
 * Start the request's clock: timeout_ms, restarted by progress, but
 * never past max_ms from now.
 */
void
request_start_clock(struct request *req, struct event_base *base,
    long timeout_ms, long max_ms)
{
	req->timeout_ms = timeout_ms;
	req->max_ms = max_ms;
	req->deadline_max = clock_ms() + (uint64_t)max_ms;
	/* A subscription lasts until its client or its server ends it. */
	if (req->kind == REQUEST_LISTEN)
		return;
	evtimer_assign(&req->timer, base, request_timeout_cb, req);
	req->timer_set = 1;
	request_arm(req);
}

/* What the request is for. */
enum request_kind
request_kind(struct request *req)
{
	return (req->kind);
}

/* The client that sent the request. */
struct front *
request_front(struct request *req)
{
	return (req->front);
}

/* The request's text for the child after its id, or NULL if none. */
const char *
request_text(struct request *req, size_t *len)
{
	*len = req->tail_len;
	return (req->tail);
}

/* The client's id as a raw item that prints as written; the caller owns
   it. */
static cJSON *
request_id(struct request *req)
{
	return (jsonrpc_id_raw(req->id, req->id_len));
}

/* Whether the client asked for progress on this request. */
int
request_wants_progress(struct request *req)
{
	return (req->client_token != NULL);
}

/*
 * Note the token the child sees (tokens must be unique among a child's
 * requests, and two clients may pick the same one); the request's text
 * already carries it.
 */
void
request_set_child_token(struct request *req, int64_t token)
{
	req->child_token = token;
}

/* The client's id as written, its progress token and the child's. */
const char *
request_ids(struct request *req, size_t *len, const cJSON **client_token,
    int64_t *child_token)
{
	*client_token = req->client_token;
	*child_token = req->child_token;
	*len = req->id_len;
	return (req->id);
}

/* (Re)arm the clock: timeout_ms from now, within the hard cap. */
static void
request_arm(struct request *req)
{
	struct timeval	tv;
	uint64_t	now = clock_ms();
	int64_t		ms = req->timeout_ms;

	if (now >= req->deadline_max)
		ms = 0;
	else if ((uint64_t)ms > req->deadline_max - now)
		ms = (int64_t)(req->deadline_max - now);
	clock_tv(ms, &tv);
	evtimer_add(&req->timer, &tv);
}

/*
 * Take the request off its set (which hears of it) and stop its clock.
 * Nothing is sent here.
 */
static void
request_unlink(struct request *req)
{
	struct request_set	*set = req->set;

	if (set != NULL) {
		if (req->where == REQUEST_QUEUED) {
			TAILQ_REMOVE(&set->queue, req, set_entry);
			set->nqueue--;
		} else {
			TAILQ_REMOVE(&set->sent, req, set_entry);
			LIST_REMOVE(req, hash_entry);
			set->nsent--;
		}
		req->set = NULL;
		req->where = REQUEST_NOWHERE;
		set->ops->changed(set->arg);
	}
	if (req->timer_set) {
		evtimer_del(&req->timer);
		req->timer_set = 0;
	}
}

/* Free a request once nothing lists it. */
static void
request_free(struct request *req)
{
	if (req->id != req->id_small)
		free(req->id);
	cJSON_Delete(req->client_token);
	free(req->tail);
	free(req);
}

/*
 * Take the request off its front before sending to it: sending may drop
 * the client, which cancels what it still lists. Returns the front.
 */
static struct front *
request_leave_front(struct request *req)
{
	struct front	*f = req->front;

	TAILQ_REMOVE(&f->requests, req, front_entry);
	req->front = NULL;
	front_release(f);
	return (f);
}

/* Answer the request with an answer the broker made (taken), then free
   it. */
void
request_answer(struct request *req, cJSON *answer)
{
	struct front		*f;
	cJSON			*error, *item;
	int			 code = 0;

	request_unlink(req);
	f = request_leave_front(req);
	cJSON_DeleteItemFromObjectCaseSensitive(answer, "id");
	cJSON_AddItemToObject(answer, "id", request_id(req));
	if ((error = cJSON_GetObjectItemCaseSensitive(answer, "error")) !=
	    NULL) {
		item = cJSON_GetObjectItemCaseSensitive(error, "code");
		code = cJSON_IsNumber(item) ? item->valueint : 0;
		counters_error(f->counters, code);
	}
	request_done(req, code, NULL);
	front_send(f, answer);
	request_free(req);
}

/*
 * Answer the request with a success result as text: the result's members
 * (body, without braces) with the session's _meta (meta) spliced in.
 */
void
request_answer_text(struct request *req, const char *meta, size_t meta_len,
    const char *body, size_t len)
{
	struct front		*f;

	request_unlink(req);
	f = request_leave_front(req);
	request_done(req, 0, NULL);
	front_send_result(f, req->id, req->id_len, meta, meta_len, body, len);
	request_free(req);
}

/*
 * Answer the request with the child's answer line (valid JSON-RPC), passed
 * on byte for byte but for its id, which becomes the client's, and, with
 * meta (a JSON text), result._meta["mcp-broker/session"] (an error's
 * error.data["mcp-broker/session"]) set to meta. Returns -1 (nothing
 * done) if the line is not an object.
 */
int
request_answer_line(struct request *req, const char *line, size_t len,
    const char *meta, size_t meta_len, int error)
{
	struct wire_edit	 e[3] = {
		{ WIRE_SET, { "id", NULL }, req->id, req->id_len },
		{ WIRE_SET, { "result", "_meta", MCP_META_SESSION, NULL },
		    meta, meta_len },
		{ WIRE_SET, { "error", "data", MCP_META_SESSION, NULL },
		    meta, meta_len },
	};
	static const char *const code_path[] = { "error", "code", NULL };
	struct scan_member	 m;
	struct front		*f;
	char			*out;
	size_t			 out_len;
	int			 code = 0;

	if (error)
		e[1] = e[2];
	if ((out = wire_rewrite(line, len, e, meta != NULL ? 2 : 1, 0,
	    &out_len)) == NULL)
		return (-1);
	request_unlink(req);
	f = request_leave_front(req);
	if (error) {
		/* The child's code, valid JSON-RPC: an integer. */
		if (scan_path(line, len, code_path, &m) == 0)
			code = (int)strtol(m.value.p, NULL, 10);
		counters_error(f->counters, code);
	}
	request_done(req, code, NULL);
	front_send_line(f, out, out_len);
	free(out);
	request_free(req);
	return (0);
}

/* Answer the request with an error (takes data), then free it. */
void
request_fail(struct request *req, int code, const char *message,
    cJSON *data)
{
	struct front		*f;

	request_unlink(req);
	f = request_leave_front(req);
	request_done(req, code, NULL);
	front_send_error(f, request_id(req), code, message, data);
	request_free(req);
}

/*
 * A request is finished, with code (0: a result) or how it ended (how,
 * when nobody was answered): count its latency on its session's server,
 * and write the request log line. Requests no session took count
 * nowhere.
 */
static void
request_done(struct request *req, int code, const char *how)
{
	struct request_set	*set = req->owner;
	enum log_level		 level;
	uint64_t		 us;

	if (set == NULL)
		return;
	/* A cancel or a timeout is no answer: the child may act late. */
	if (req->child_id != 0)
		attach_answered(set->attach, req->child_id, code == 0 &&
		    how == NULL, how != NULL || code == RPC_TIMEOUT);
	level = set->access_log != NULL && *set->access_log ?
	    LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
	if (!REQUEST_TIMED && !log_enabled(level))
		return;
	/* The baseline build has no start time: it logs 0. */
	us = REQUEST_TIMED ? clock_us() - req->started_us : 0;
	if (REQUEST_TIMED && set->latency != NULL)
		latency_observe(set->latency, us);
	if (set->ctx != NULL && log_enabled(level))
		request_log(req, set, level, us, code, how);
}

/* Write the request log line: who, what, how long, how it ended. */
static void
request_log(struct request *req, struct request_set *set,
    enum log_level level, uint64_t us, int code, const char *how)
{
	static const char *const method_path[] = { "method", NULL };
	static const char *const tool_path[] = { "params", "name", NULL };
	char	 method[REQUEST_LOG_NAME], tool[REQUEST_LOG_NAME];
	char	 outcome[32];

	if (req->kind == REQUEST_SESSION_INFO)
		snprintf(method, sizeof method, "broker/session");
	else
		wire_tail_string(req->tail, req->tail_len, method_path,
		    method, sizeof method);
	tool[0] = '\0';
	if (strcmp(method, "tools/call") == 0)
		wire_tail_string(req->tail, req->tail_len, tool_path, tool,
		    sizeof tool);
	if (how != NULL)
		snprintf(outcome, sizeof outcome, "%s", how);
	else if (code != 0)
		snprintf(outcome, sizeof outcome, "error %d", code);
	else
		snprintf(outcome, sizeof outcome, "ok");
	log_ctx_at(level, set->ctx, "request %s %s: %s%s%s, %.3f ms, %s",
	    set->ctx->server, set->ctx->thread, method, tool[0] != '\0' ?
	    " " : "", tool, (double)us / 1000, outcome);
}

/*
 * What the set's finished requests are counted on and logged as: the
 * histogram of the session's server (held until the set is freed), its
 * log context, and where to read whether every request is logged at
 * info (access_log, which a reload may change) or only at debug.
 */
void
request_set_watch(struct request_set *set, struct latency *l,
    const struct log_ctx *ctx, const int *access_log)
{
	if (l != NULL)
		latency_hold(l);
	latency_release(set->latency);
	set->latency = l;
	set->ctx = ctx;
	set->access_log = access_log;
}

/*
 * The request leaves unanswered (its client cancelled it or went away):
 * a child that has it is told to cancel it, and its late answer will
 * find nothing. Nothing is sent to the client.
 */
void
request_cancel(struct request *req)
{
	struct request_set	*set = req->set;
	int64_t			 child_id = req->child_id;
	int			 sent = req->where == REQUEST_SENT;

	request_unlink(req);
	request_leave_front(req);
	request_done(req, 0, "cancelled");
	if (sent)
		request_tell_child(set, child_id,
		    "the client cancelled or disconnected");
	request_free(req);
}

/* Tell the child to cancel its request child_id. */
static void
request_tell_child(struct request_set *set, int64_t child_id,
    const char *reason)
{
	cJSON	*params;

	params = cJSON_CreateObject();
	cJSON_AddNumberToObject(params, "requestId", (double)child_id);
	cJSON_AddStringToObject(params, "reason", reason);
	set->ops->write(jsonrpc_notification("notifications/cancelled",
	    params), set->arg);
}

/*
 * A request ran out of time: the client gets -32013, the child a cancel,
 * and a late answer is dropped (the request is no longer in flight).
 */
static void
request_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct request		*req = arg;
	struct request_set	*set = req->set;
	cJSON			*data;
	char			*message;
	long			 limit;

	(void)fd;
	(void)events;
	req->timer_set = 0;
	data = set != NULL ? set->ops->error_data(set->arg, 0) :
	    cJSON_CreateObject();
	if (clock_ms() >= req->deadline_max) {
		/* Progress kept it alive up to the hard cap. */
		limit = req->max_ms;
		xasprintf(&message, "The request ran into max_request_timeout_s "
		    "(%ld ms) despite its progress; the server was told to "
		    "cancel it.", limit);
	} else {
		limit = req->timeout_ms;
		xasprintf(&message, "The request timed out after %ld ms "
		    "(timeout_ms or request_timeout_s); the server was told to "
		    "cancel it.", limit);
	}
	cJSON_AddNumberToObject(data, "timeout_ms", (double)limit);
	req->front->counters->timeouts++;
	if (set != NULL && req->where == REQUEST_SENT)
		request_tell_child(set, req->child_id, "the request timed out");
	request_fail(req, RPC_TIMEOUT, message, data);
	free(message);
}

/*
 * The child reported progress on req (its notification line): pass it to
 * the client byte for byte but for the token, which becomes the client's
 * own, and restart the request's clock.
 */
void
request_progress(struct request *req, const char *line, size_t len)
{
	struct wire_edit	 e = { WIRE_SET,
				    { "params", "progressToken", NULL },
				    NULL, 0 };
	char			*token, *out;
	size_t			 out_len;

	if (req->timer_set)
		request_arm(req);
	if (req->client_token == NULL)
		return;
	token = cJSON_PrintUnformatted(req->client_token);
	e.text = token;
	e.len = strlen(token);
	if ((out = wire_rewrite(line, len, &e, 1, 0, &out_len)) != NULL)
		front_send_line(req->front, out, out_len);
	free(out);
	free(token);
}

/*
 * The pending request the client sent under id (its text), or NULL. Ids
 * compare as scan_id_equal() says: strings by what they decode to,
 * numbers by their exact text.
 */
struct request *
request_find(struct front *f, const char *id, size_t len)
{
	struct request	*req;

	TAILQ_FOREACH(req, &f->requests, front_entry) {
		if (scan_id_equal(req->id, req->id_len, id, len))
			return (req);
	}
	return (NULL);
}

/*
 * The client has gone: its requests are cancelled at their children, the
 * children's requests to it are answered with an error, and it is
 * detached from every session.
 */
void
request_front_gone(struct front *f)
{
	struct request	*req;
	struct upcall	*up;

	f->gone = 1;
	while ((req = TAILQ_FIRST(&f->requests)) != NULL)
		request_cancel(req);
	while ((up = TAILQ_FIRST(&f->upcalls)) != NULL)
		upcall_abandon(up);
	attach_front_gone(f);
}

/* A session's empty set of requests. */
struct request_set *
request_set_new(const struct request_set_ops *ops, void *arg)
{
	struct request_set	*set;
	size_t			 i;

	set = xcalloc(1, sizeof *set);
	set->ops = ops;
	set->arg = arg;
	TAILQ_INIT(&set->queue);
	TAILQ_INIT(&set->sent);
	TAILQ_INIT(&set->upcalls);
	set->nbuckets = REQUEST_HASH_MIN;
	set->hash = xcalloc(set->nbuckets, sizeof *set->hash);
	for (i = 0; i < set->nbuckets; i++)
		LIST_INIT(&set->hash[i]);
	set->attach = attach_set_new(ops->write, ops->changed, arg);
	return (set);
}

/*
 * Free a set whose requests are all finished; the upcalls still waiting
 * are withdrawn from their clients.
 */
void
request_set_free(struct request_set *set)
{
	if (set->nqueue + set->nsent != 0)
		fatalx("request set freed with %zu requests",
		    set->nqueue + set->nsent);
	upcall_cancel_all(set, "the session ended");
	attach_set_free(set->attach);
	latency_release(set->latency);
	free(set->hash);
	free(set);
}

/* The session's attachments: the clients its requests came from. */
struct attach_set *
request_set_attach(struct request_set *set)
{
	return (set->attach);
}

/*
 * The set answers the request itself: it is the set's for its finish
 * (the request log, the latency), and its client is attached.
 */
void
request_own(struct request_set *set, struct request *req)
{
	req->owner = set;
	attach_get(set->attach, req->front);
}

/*
 * Whether the set keeps its session busy: requests queued or in flight,
 * or a client's resource subscription held for it.
 */
int
request_set_busy(struct request_set *set)
{
	return (set->nqueue + set->nsent > 0 ||
	    attach_subscribed(set->attach));
}

/* Queue a request until its session is ready. */
void
request_queue(struct request_set *set, struct request *req)
{
	req->set = req->owner = set;
	req->where = REQUEST_QUEUED;
	attach_get(set->attach, req->front);
	TAILQ_INSERT_TAIL(&set->queue, req, set_entry);
	set->nqueue++;
	set->ops->changed(set->arg);
}

/* The first queued request, off the queue (and out of the set), or NULL. */
struct request *
request_dequeue(struct request_set *set)
{
	struct request	*req;

	if ((req = TAILQ_FIRST(&set->queue)) == NULL)
		return (NULL);
	TAILQ_REMOVE(&set->queue, req, set_entry);
	set->nqueue--;
	req->set = NULL;
	req->where = REQUEST_NOWHERE;
	return (req);
}

/* The request is sent to the child under child_id: it is in flight. */
void
request_send(struct request_set *set, struct request *req, int64_t child_id)
{
	req->set = req->owner = set;
	req->where = REQUEST_SENT;
	attach_sent(set->attach, req->front, child_id);
	req->child_id = child_id;
	/* Grow first: the new request is hashed once, below. */
	if (++set->nsent > set->nbuckets)
		request_hash_grow(set);
	TAILQ_INSERT_TAIL(&set->sent, req, set_entry);
	LIST_INSERT_HEAD(&set->hash[(uint64_t)child_id & (set->nbuckets - 1)],
	    req, hash_entry);
	set->ops->changed(set->arg);
}

/* Double the child-id hash, for more requests in flight. */
static void
request_hash_grow(struct request_set *set)
{
	struct request	*req;
	size_t		 i;

	free(set->hash);
	set->nbuckets *= 2;
	set->hash = xcalloc(set->nbuckets, sizeof *set->hash);
	for (i = 0; i < set->nbuckets; i++)
		LIST_INIT(&set->hash[i]);
	TAILQ_FOREACH(req, &set->sent, set_entry) {
		LIST_INSERT_HEAD(&set->hash[(uint64_t)req->child_id &
		    (set->nbuckets - 1)], req, hash_entry);
	}
}

/*
 * The request in flight under child_id, taken out of the set to be
 * answered; NULL if none is (a late answer after a timeout or cancel).
 */
struct request *
request_take(struct request_set *set, int64_t child_id)
{
	struct request	*req;

	if ((req = request_find_sent(set, child_id)) == NULL)
		return (NULL);
	TAILQ_REMOVE(&set->sent, req, set_entry);
	LIST_REMOVE(req, hash_entry);
	set->nsent--;
	req->set = NULL;
	req->where = REQUEST_NOWHERE;
	set->ops->changed(set->arg);
	return (req);
}

/* The request in flight under child_id, left there; NULL if none. */
struct request *
request_find_sent(struct request_set *set, int64_t child_id)
{
	struct request	*req;

	LIST_FOREACH(req, &set->hash[(uint64_t)child_id &
	    (set->nbuckets - 1)], hash_entry) {
		if (req->child_id == child_id)
			return (req);
	}
	return (NULL);
}

/* The request in flight whose child-side progress token is token. */
struct request *
request_find_token(struct request_set *set, double token)
{
	struct request	*req;

	TAILQ_FOREACH(req, &set->sent, set_entry) {
		if (req->child_token != 0 &&
		    (double)req->child_token == token)
			return (req);
	}
	return (NULL);
}

/* The oldest request in flight, or NULL. */
struct request *
request_first_sent(struct request_set *set)
{
	return (TAILQ_FIRST(&set->sent));
}

/* The next request in flight after req, or NULL. */
struct request *
request_next_sent(struct request *req)
{
	return (TAILQ_NEXT(req, set_entry));
}

/* Requests queued or in flight. */
size_t
request_set_count(struct request_set *set)
{
	return (set->nqueue + set->nsent);
}

/*
 * Answer everything queued or in flight with an error: code, message and
 * the session's error data.
 */
void
request_fail_all(struct request_set *set, int code, const char *message)
{
	struct request	*req;

	while ((req = TAILQ_FIRST(&set->queue)) != NULL ||
	    (req = TAILQ_FIRST(&set->sent)) != NULL)
		request_fail(req, code, message,
		    set->ops->error_data(set->arg, 1));
}

/*
 * A child's request (its id as written, copied) now waits for the answer
 * of client f, which sees it under an id of its own.
 */
struct upcall *
upcall_new(struct request_set *set, struct front *f, const char *child_id,
    size_t len)
{
	struct upcall	*up;

	up = xcalloc(1, sizeof *up);
	up->set = set;
	up->front = f;
	up->child_id = xstrndup(child_id, len);
	up->child_id_len = len;
	up->client_id = ++f->next_upcall;
	TAILQ_INSERT_TAIL(&set->upcalls, up, set_entry);
	set->nupcalls++;
	TAILQ_INSERT_TAIL(&f->upcalls, up, front_entry);
	return (up);
}

/* The id the client sees. */
int64_t
upcall_client_id(struct upcall *up)
{
	return (up->client_id);
}

/* The upcall the client answers under id (its text), or NULL. */
struct upcall *
upcall_find(struct front *f, const char *id, size_t len)
{
	struct upcall	*up;
	char		 mine[24];
	int		 n;

	TAILQ_FOREACH(up, &f->upcalls, front_entry) {
		n = snprintf(mine, sizeof mine, "%lld",
		    (long long)up->client_id);
		if (scan_id_equal(mine, (size_t)n, id, len))
			return (up);
	}
	return (NULL);
}

/* The upcall the child made under id (its text), or NULL. */
struct upcall *
upcall_find_child(struct request_set *set, const char *id, size_t len)
{
	struct upcall	*up;

	TAILQ_FOREACH(up, &set->upcalls, set_entry) {
		if (scan_id_equal(up->child_id, up->child_id_len, id, len))
			return (up);
	}
	return (NULL);
}

/* Upcalls of the set waiting for clients. */
size_t
upcall_count(struct request_set *set)
{
	return (set->nupcalls);
}

/*
 * The client answered (its answer line, valid JSON-RPC): the answer goes
 * to the child byte for byte but for its id, which becomes the child's.
 */
void
upcall_answer(struct upcall *up, const char *line, size_t len)
{
	struct request_set	*set = up->set;
	struct wire_edit	 e = { WIRE_SET, { "id", NULL }, up->child_id,
				    up->child_id_len };
	char			*out;
	size_t			 out_len;

	out = wire_rewrite(line, len, &e, 1, 0, &out_len);
	upcall_free(up);
	if (out != NULL)
		set->ops->write_text(out, out_len, set->arg);
	free(out);
}

/* The client went away before answering: the child gets an error. */
void
upcall_abandon(struct upcall *up)
{
	upcall_fail(up, "The client asked went away before answering.");
}

/* The upcall cannot be answered: the child gets an error saying why. */
void
upcall_fail(struct upcall *up, const char *message)
{
	struct request_set	*set = up->set;
	cJSON			*id;

	id = jsonrpc_id_raw(up->child_id, up->child_id_len);
	upcall_free(up);
	set->ops->write(jsonrpc_error(id, RPC_INTERNAL_ERROR, message, NULL),
	    set->arg);
}

/*
 * Withdraw the upcall from its client with notifications/cancelled. It
 * leaves every list first: sending may drop the client.
 */
void
upcall_cancel(struct upcall *up, const char *reason)
{
	struct front	*f = up->front;
	cJSON		*params;

	params = cJSON_CreateObject();
	cJSON_AddNumberToObject(params, "requestId", (double)up->client_id);
	cJSON_AddStringToObject(params, "reason", reason);
	upcall_free(up);
	front_send(f, jsonrpc_notification("notifications/cancelled", params));
}

/* Withdraw every upcall of the set from its client. */
void
upcall_cancel_all(struct request_set *set, const char *reason)
{
	struct upcall	*up;

	while ((up = TAILQ_FIRST(&set->upcalls)) != NULL)
		upcall_cancel(up, reason);
}

/* Unlink an upcall from its set and its front, and free it. */
static void
upcall_free(struct upcall *up)
{
	TAILQ_REMOVE(&up->set->upcalls, up, set_entry);
	up->set->nupcalls--;
	TAILQ_REMOVE(&up->front->upcalls, up, front_entry);
	free(up->child_id);
	free(up);
}
