/*
 * Tasks recorded per session, and subscriptions routed by their listen
 * request (see task.h). Everything read from a child's answer or
 * notification is scanned as text; nothing is parsed whole.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "front.h"
#include "log.h"
#include "mcp.h"
#include "request.h"
#include "scan.h"
#include "task.h"
#include "wire.h"
#include "xmalloc.h"

/* Where a child names the task a request of its own is for. */
#define TASK_META_RELATED	"io.modelcontextprotocol/related-task"
/* The 2026-07-28 extension's name in clientCapabilities.extensions. */
#define TASK_EXTENSION		"io.modelcontextprotocol/tasks"

/* A front's place in one task's list of clients. */
struct task_link {
	struct task		*task;
	struct front		*front;		/* NULL: a free slot */
	LIST_ENTRY(task_link)	 entry;		/* the front's list */
};

struct task {
	struct task_set		*set;
	char			 id[TASK_ID_MAX + 1];	/* decoded */
	char			*client_token;	/* JSON text, or NULL */
	int64_t			 child_token;	/* 0: no progress asked */
	long			 ttl_ms;	/* how long it is kept */
	struct event		 timer;		/* its deadline */
	struct task_link	 links[TASK_MAX_FRONTS]; /* [0]: creator */
	TAILQ_ENTRY(task)	 entry;
};

struct task_set {
	struct event_base	*base;
	const struct log_ctx	*ctx;
	const char		*stamp;		/* the session's */
	long			 max_ms;	/* no ttl: kept this long */
	void			(*changed)(void *);
	void			*arg;
	TAILQ_HEAD(, task)	 tasks;
	size_t			 ntasks;
};

static void	task_timeout_cb(evutil_socket_t, short, void *);
static void	task_end(struct task *, const char *);
static struct task *task_find(struct task_set *, const char *);
static void	task_link(struct task *, struct front *, int);
static void	task_create(struct task_set *, struct request *,
		    const char *, size_t);
static int	task_scan_string(const char *, size_t, const char *const *,
		    char *, size_t);
static int	task_terminal(const char *);
static void	task_bad_id(struct task_set *);
static int	task_request_id(struct request *, char *, size_t);
static char	*task_listen_answer(struct request *, const char *, size_t,
		    size_t *);

/*
 * A session's empty set of tasks: tasks without a ttl are kept max_ms;
 * changed(arg) is called when the set turns empty or not. stamp is the
 * session's (see session_stamp()) and outlives the set.
 */
struct task_set *
task_set_new(struct event_base *base, const struct log_ctx *ctx,
    const char *stamp, long max_ms, void (*changed)(void *), void *arg)
{
	struct task_set	*set;

	set = xcalloc(1, sizeof *set);
	set->base = base;
	set->ctx = ctx;
	set->stamp = stamp;
	set->max_ms = max_ms;
	set->changed = changed;
	set->arg = arg;
	TAILQ_INIT(&set->tasks);
	return (set);
}

/* Free a set and the tasks it still records (nobody is told). */
void
task_set_free(struct task_set *set)
{
	struct task	*t;

	set->changed = NULL;
	while ((t = TAILQ_FIRST(&set->tasks)) != NULL)
		task_end(t, NULL);
	free(set);
}

/* Whether a task keeps the session busy. */
int
task_set_busy(struct task_set *set)
{
	return (set->ntasks > 0);
}

/*
 * What a forwarded request is, by its method and params (the caller's):
 * one whose answer or time the broker looks at, or REQUEST_FORWARD.
 */
enum request_kind
task_request_kind(const char *method, const cJSON *params)
{
	const cJSON	*meta, *caps, *ext;

	if (strcmp(method, "tasks/result") == 0)
		return (REQUEST_TASK_RESULT);
	if (strcmp(method, "tasks/get") == 0 ||
	    strcmp(method, "tasks/cancel") == 0)
		return (REQUEST_TASK_POLL);
	if (strcmp(method, "subscriptions/listen") == 0)
		return (REQUEST_LISTEN);
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(params, "task")))
		return (REQUEST_TASK_MAYBE);
	/* 2026-07-28: the server decides, for a client that can take it. */
	meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	caps = cJSON_GetObjectItemCaseSensitive(meta, MCP_META_CAPABILITIES);
	ext = cJSON_GetObjectItemCaseSensitive(caps, "extensions");
	if (cJSON_GetObjectItemCaseSensitive(ext, TASK_EXTENSION) != NULL)
		return (REQUEST_TASK_MAYBE);
	return (REQUEST_FORWARD);
}

/*
 * Whether a request the fast path scanned is one task_request_kind()
 * must see (the fast path leaves it to the full one).
 */
int
task_scan_special(const struct scan_request *rq)
{
	static const char *const methods[] = { "\"tasks/result\"",
	    "\"tasks/get\"", "\"tasks/cancel\"", "\"subscriptions/listen\"" };
	size_t	 i;

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (rq->method_len == strlen(methods[i]) &&
		    memcmp(rq->method, methods[i], rq->method_len) == 0)
			return (1);
	}
	for (i = 0; i < rq->nmembers; i++) {
		if (strncmp(rq->key[i], "\"task\"", 6) == 0)
			return (1);
	}
	return (0);
}

/*
 * Whether a request may outlive request_timeout_s: tasks/result waits
 * for its task, subscriptions/listen until it is cancelled. Both stay
 * bounded by max_request_timeout_s (or the call's own timeout_ms).
 */
int
task_long_lived(enum request_kind kind)
{
	return (kind == REQUEST_TASK_RESULT || kind == REQUEST_LISTEN);
}

/* The recorded task named id, or NULL. */
static struct task *
task_find(struct task_set *set, const char *id)
{
	struct task	*t;

	TAILQ_FOREACH(t, &set->tasks, entry) {
		if (strcmp(t->id, id) == 0)
			return (t);
	}
	return (NULL);
}

/*
 * Add f to the clients told of the task (creator: as its creator, in
 * the first slot). Past TASK_MAX_FRONTS, a poller is not added.
 */
static void
task_link(struct task *t, struct front *f, int creator)
{
	struct task_link	*l = NULL;
	size_t			 i;

	for (i = 0; i < TASK_MAX_FRONTS; i++) {
		if (t->links[i].front == f)
			return;
		if (l == NULL && t->links[i].front == NULL &&
		    (i == 0) == creator)
			l = &t->links[i];
	}
	if (l == NULL) {
		log_ctx_at(LOG_LEVEL_DEBUG, t->set->ctx, "task %s: client %llu "
		    "is not told of its status: it has TASK_MAX_FRONTS (%d) "
		    "clients", t->id, (unsigned long long)f->serial,
		    TASK_MAX_FRONTS);
		return;
	}
	l->task = t;
	l->front = f;
	LIST_INSERT_HEAD(&f->tasks, l, entry);
}

/* Forget a task (why: logged, or NULL), and tell the session. */
static void
task_end(struct task *t, const char *why)
{
	struct task_set	*set = t->set;
	size_t		 i;

	if (why != NULL)
		log_ctx_at(LOG_LEVEL_DEBUG, set->ctx, "session %s: task %s %s",
		    set->ctx->session, t->id, why);
	for (i = 0; i < TASK_MAX_FRONTS; i++) {
		if (t->links[i].front != NULL)
			LIST_REMOVE(&t->links[i], entry);
	}
	evtimer_del(&t->timer);
	TAILQ_REMOVE(&set->tasks, t, entry);
	set->ntasks--;
	free(t->client_token);
	free(t);
	if (set->ntasks == 0 && set->changed != NULL)
		set->changed(set->arg);
}

/* A task's deadline passed without the broker seeing it end. */
static void
task_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct task	*t = arg;

	(void)fd;
	(void)events;
	log_ctx_at(LOG_LEVEL_INFO, t->set->ctx, "session %s: task %s passed "
	    "its ttl (%ld ms) without the broker seeing it end; it no longer "
	    "keeps the session busy", t->set->ctx->session, t->id, t->ttl_ms);
	task_end(t, NULL);
}

/*
 * A forwarded request went to the child: a poll of a task (tasks/get,
 * tasks/result, tasks/cancel) adds its client to those told of the
 * task's status.
 */
void
task_sent(struct task_set *set, struct request *req)
{
	struct task	*t;
	char		 id[TASK_ID_MAX + 2];

	if (request_kind(req) != REQUEST_TASK_POLL &&
	    request_kind(req) != REQUEST_TASK_RESULT)
		return;
	if (task_request_id(req, id, sizeof id) == 0 &&
	    (t = task_find(set, id)) != NULL)
		task_link(t, request_front(req), 0);
}

/*
 * The child answered req with line (valid JSON-RPC), which is about to
 * go to its client: a CreateTaskResult records a task; a terminal
 * status in a poll's answer, or any answer to tasks/result, ends one.
 * Returns the line to pass on instead (allocated, its length in
 * *out_len), or NULL for line itself: a subscription's last answer names
 * it by the client's own id.
 */
char *
task_answer(struct task_set *set, struct request *req, const char *line,
    size_t len, size_t *out_len)
{
	static const char *const status_path[] = { "result", "status", NULL };
	enum request_kind	 kind = request_kind(req);
	struct task		*t;
	char			 id[TASK_ID_MAX + 2], status[32];

	if (kind == REQUEST_TASK_MAYBE)
		task_create(set, req, line, len);
	if (kind == REQUEST_LISTEN)
		return (task_listen_answer(req, line, len, out_len));
	if (kind != REQUEST_TASK_POLL && kind != REQUEST_TASK_RESULT)
		return (NULL);
	if (task_request_id(req, id, sizeof id) != 0 ||
	    (t = task_find(set, id)) == NULL)
		return (NULL);
	if (kind == REQUEST_TASK_RESULT)
		task_end(t, "ended: tasks/result was answered");
	else if (task_scan_string(line, len, status_path, status,
	    sizeof status) == 0 && task_terminal(status))
		task_end(t, "ended: a poll saw it end");
	return (NULL);
}

/*
 * The answer (line) that ends a subscription, with
 * result._meta["io.modelcontextprotocol/subscriptionId"], if it has one,
 * set to the client's id of the listen request; NULL if it has none.
 */
static char *
task_listen_answer(struct request *req, const char *line, size_t len,
    size_t *out_len)
{
	static const char *const path[] = { "result", "_meta",
	    MCP_META_SUBSCRIPTION, NULL };
	struct wire_edit	 e = { WIRE_SET, { "result", "_meta",
				    MCP_META_SUBSCRIPTION, NULL }, NULL, 0 };
	struct scan_member	 m;
	const cJSON		*token;
	int64_t			 child_token;

	if (scan_path(line, len, path, &m) != 0)
		return (NULL);
	e.text = request_ids(req, &e.len, &token, &child_token);
	return (wire_rewrite(line, len, &e, 1, 0, out_len));
}

/*
 * Record the task a CreateTaskResult (line) names: 2025-11-25's
 * result.task {taskId, status, ttl}, or 2026-07-28's result
 * {resultType "task", taskId, status, ttlMs}. Anything else is an
 * ordinary answer.
 */
static void
task_create(struct task_set *set, struct request *req, const char *line,
    size_t len)
{
	static const char *const id_path[] = { "result", "task", "taskId",
	    NULL };
	static const char *const status_path[] = { "result", "task",
	    "status", NULL };
	static const char *const ttl_path[] = { "result", "task", "ttl",
	    NULL };
	static const char *const type_path[] = { "result", "resultType",
	    NULL };
	static const char *const id2_path[] = { "result", "taskId", NULL };
	static const char *const status2_path[] = { "result", "status",
	    NULL };
	static const char *const ttl2_path[] = { "result", "ttlMs", NULL };
	const char *const	*ttl_at = ttl_path;
	struct scan_member	 m;
	struct task		*t;
	struct timeval		 tv;
	const cJSON		*client_token;
	char			 id[TASK_ID_MAX + 2], status[32], type[16];
	double			 ttl = -1;
	size_t			 id_len;
	int64_t			 child_token;

	if (task_scan_string(line, len, id_path, id, sizeof id) != 0) {
		if (scan_path(line, len, id_path, &m) == 0) {
			task_bad_id(set);
			return;
		}
		if (task_scan_string(line, len, type_path, type,
		    sizeof type) != 0 || strcmp(type, "task") != 0)
			return;
		if (task_scan_string(line, len, id2_path, id,
		    sizeof id) != 0) {
			task_bad_id(set);
			return;
		}
		ttl_at = ttl2_path;
		if (task_scan_string(line, len, status2_path, status,
		    sizeof status) == 0 && task_terminal(status))
			return;
	} else if (task_scan_string(line, len, status_path, status,
	    sizeof status) == 0 && task_terminal(status))
		return;
	if (task_find(set, id) != NULL)
		return;
	if (set->ntasks >= TASK_MAX_PER_SESSION) {
		log_ctx_at(LOG_LEVEL_WARNING, set->ctx, "session %s: task %s "
		    "is not kept: the session has TASK_MAX_PER_SESSION (%d) "
		    "tasks; it does not keep the session busy, and its "
		    "progress and status after this answer are not passed on",
		    set->ctx->session, id, TASK_MAX_PER_SESSION);
		return;
	}
	if (scan_path(line, len, ttl_at, &m) == 0 && m.value.len > 0 &&
	    (m.value.p[0] == '-' || (m.value.p[0] >= '0' &&
	    m.value.p[0] <= '9')))
		ttl = strtod(m.value.p, NULL);

	t = xcalloc(1, sizeof *t);
	t->set = set;
	memcpy(t->id, id, strlen(id) + 1);
	request_ids(req, &id_len, &client_token, &child_token);
	if (client_token != NULL && child_token != 0) {
		t->client_token = cJSON_PrintUnformatted(client_token);
		t->child_token = child_token;
	}
	/* No ttl, or one past max_request_timeout_s: that long. */
	t->ttl_ms = ttl >= 0 && ttl < (double)set->max_ms ? (long)ttl :
	    set->max_ms;
	evtimer_assign(&t->timer, set->base, task_timeout_cb, t);
	clock_tv(t->ttl_ms, &tv);
	evtimer_add(&t->timer, &tv);
	TAILQ_INSERT_TAIL(&set->tasks, t, entry);
	task_link(t, request_front(req), 1);
	if (set->ntasks++ == 0 && set->changed != NULL)
		set->changed(set->arg);
	log_ctx_at(LOG_LEVEL_DEBUG, set->ctx, "session %s: task %s created, "
	    "kept %ld ms", set->ctx->session, t->id, t->ttl_ms);
}

/*
 * Progress from the child (its line) for token, which no request in
 * flight has: to the creator of the task whose request had it. Returns
 * whether a task had it.
 */
int
task_progress(struct task_set *set, double token, const char *line,
    size_t len)
{
	struct wire_edit	 e = { WIRE_SET,
				    { "params", "progressToken", NULL },
				    NULL, 0 };
	struct task		*t;
	char			*out;
	size_t			 out_len;

	TAILQ_FOREACH(t, &set->tasks, entry) {
		if (t->child_token != 0 && (double)t->child_token == token)
			break;
	}
	if (t == NULL)
		return (0);
	if (t->links[0].front == NULL)
		return (1);
	e.text = t->client_token;
	e.len = strlen(t->client_token);
	if ((out = wire_rewrite(line, len, &e, 1, 0, &out_len)) != NULL)
		front_send_line(t->links[0].front, out, out_len);
	free(out);
	return (1);
}

/*
 * A task's status from the child (its line: notifications/tasks/status,
 * or with relay 0 a 2026-07-28 notifications/tasks its subscription
 * carries): with relay, to the clients that created or polled the task,
 * stamped with the session; a terminal status ends the task.
 */
void
task_status(struct task_set *set, const char *line, size_t len, int relay)
{
	static const char *const id_path[] = { "params", "taskId", NULL };
	static const char *const status_path[] = { "params", "status", NULL };
	struct wire_edit	 e = { WIRE_SET,
				    { "params", "_meta", MCP_META_SESSION, NULL },
				    NULL, 0 };
	struct front		*to[TASK_MAX_FRONTS];
	struct task		*t;
	char			 id[TASK_ID_MAX + 2], status[32], *out;
	size_t			 i, n = 0, out_len;

	if (task_scan_string(line, len, id_path, id, sizeof id) != 0 ||
	    (t = task_find(set, id)) == NULL) {
		if (relay)
			log_ctx_at(LOG_LEVEL_DEBUG, set->ctx, "session %s: "
			    "dropping the status of a task the broker does "
			    "not keep", set->ctx->session);
		return;
	}
	e.text = set->stamp;
	e.len = strlen(set->stamp);
	/* The clients first: a send may drop its client. */
	for (i = 0; relay && i < TASK_MAX_FRONTS; i++) {
		if (t->links[i].front != NULL)
			to[n++] = t->links[i].front;
	}
	if (task_scan_string(line, len, status_path, status,
	    sizeof status) == 0 && task_terminal(status))
		task_end(t, "ended: its status says so");
	if (n == 0)
		return;
	if ((out = wire_rewrite(line, len, &e, 1, 0, &out_len)) == NULL)
		return;
	for (i = 0; i < n; i++)
		front_send_line(to[i], out, out_len);
	free(out);
}

/*
 * Whether a child's request (its line) belongs to a task the broker keeps,
 * the one it names in params._meta["io.modelcontextprotocol/related-task"]
 * .taskId; if so *f is the task's creator (NULL once it has gone).
 */
int
task_upcall_front(struct task_set *set, const char *line, size_t len,
    struct front **f)
{
	static const char *const path[] = { "params", "_meta",
	    TASK_META_RELATED, "taskId", NULL };
	struct task	*t;
	char		 id[TASK_ID_MAX + 2];

	if (set->ntasks == 0 ||
	    task_scan_string(line, len, path, id, sizeof id) != 0 ||
	    (t = task_find(set, id)) == NULL)
		return (0);
	*f = t->links[0].front;
	return (1);
}

/* A client has gone: it is told of no task any more. */
void
task_front_gone(struct front *f)
{
	struct task_link	*l;

	while ((l = LIST_FIRST(&f->tasks)) != NULL) {
		LIST_REMOVE(l, entry);
		l->front = NULL;
	}
}

/*
 * A child's notification (its line) for a subscription, named by
 * params._meta["io.modelcontextprotocol/subscriptionId"], the child's
 * id of the subscriptions/listen request: to that request's client only,
 * under the client's own id, stamped with the session. Returns 0 if it
 * went, -1 if no listen request in flight has that id.
 */
int
task_listen_relay(struct request_set *rs, const char *line, size_t len,
    const char *stamp)
{
	static const char *const path[] = { "params", "_meta",
	    MCP_META_SUBSCRIPTION, NULL };
	struct wire_edit	 e[2] = {
		{ WIRE_SET, { "params", "_meta", MCP_META_SUBSCRIPTION,
		    NULL }, NULL, 0 },
		{ WIRE_SET, { "params", "_meta", MCP_META_SESSION, NULL },
		    NULL, 0 },
	};
	struct scan_member	 m;
	struct request		*req;
	const cJSON		*token;
	char			*out, *end;
	size_t			 out_len;
	long long		 child_id;
	int64_t			 child_token;

	if (scan_path(line, len, path, &m) != 0 || m.value.len > 15)
		return (-1);
	child_id = strtoll(m.value.p, &end, 10);
	if (end != m.value.p + m.value.len ||
	    (req = request_find_sent(rs, child_id)) == NULL ||
	    request_kind(req) != REQUEST_LISTEN)
		return (-1);
	e[0].text = request_ids(req, &e[0].len, &token, &child_token);
	e[1].text = stamp;
	e[1].len = strlen(stamp);
	if ((out = wire_rewrite(line, len, e, 2, 0, &out_len)) == NULL)
		return (-1);
	front_send_line(request_front(req), out, out_len);
	free(out);
	return (0);
}

/*
 * The string at path in line, decoded into buf (size bytes, NUL
 * included). Returns -1 if it is not there, not a string or too long.
 */
static int
task_scan_string(const char *line, size_t len, const char *const *path,
    char *buf, size_t size)
{
	struct scan_member	 m;
	size_t			 n;

	if (scan_path(line, len, path, &m) != 0 || m.value.len < 2 ||
	    m.value.p[0] != '"')
		return (-1);
	scan_string_decode(m.value.p, m.value.len, buf, size - 1, &n);
	if (n >= size - 1 || memchr(buf, '\0', n) != NULL)
		return (-1);
	buf[n] = '\0';
	return (0);
}

/*
 * A CreateTaskResult whose taskId the broker cannot keep (not a string,
 * longer than TASK_ID_MAX bytes, or holding a NUL): the answer passes
 * on, but the task is not kept, and the log says why.
 */
static void
task_bad_id(struct task_set *set)
{
	log_ctx_at(LOG_LEVEL_WARNING, set->ctx, "session %s: a task is not "
	    "kept: its taskId is not a string of at most TASK_ID_MAX (%d) "
	    "bytes without NUL; it does not keep the session busy, and its "
	    "progress and status after this answer are not passed on",
	    set->ctx->session, TASK_ID_MAX);
}

/*
 * params.taskId of a client's request (its text after the id), decoded
 * into buf; -1 if it is not a string that fits without a NUL.
 */
static int
task_request_id(struct request *req, char *buf, size_t size)
{
	struct scan_iter	 it;
	struct scan_member	 m;
	const char		*tail;
	size_t			 len;
	static const char *const path[] = { "taskId", NULL };

	tail = request_text(req, &len);
	if (tail == NULL)
		return (-1);
	it.p = tail;
	it.end = tail + len;
	it.started = 1;
	while (scan_iter_next(&it, &m) == 1) {
		if (scan_key_equal(&m.key, "params"))
			return (task_scan_string(m.value.p, m.value.len, path,
			    buf, size));
	}
	return (-1);
}

/* Whether a task status is terminal. */
static int
task_terminal(const char *status)
{
	return (strcmp(status, "completed") == 0 ||
	    strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0);
}
