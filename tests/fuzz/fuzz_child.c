/*
 * libFuzzer target: the bytes an MCP server writes on its stdout. First
 * as the broker reads them without a session around: framing, JSON-RPC
 * parsing, the fast path for plain results, the handshake checks, the
 * _meta members the broker sets, progress tokens, log levels, and writing
 * a message back. Then through a session's requests, attachments, tasks
 * and asks (see fuzz_session_new): answers, task creation and status,
 * progress, subscriptions' notifications, log messages, list changes,
 * resource updates and elicitation completions reaching their clients.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/event.h>

#include "ask.h"
#include "attach.h"
#include "counters.h"
#include "errors.h"
#include "front.h"
#include "fuzz.h"
#include "log.h"
#include "mcp.h"
#include "request.h"
#include "scan.h"
#include "task.h"
#include "wire.h"

/* The daemon's default max_message_bytes is larger; this one is reached. */
#define FUZZ_CHILD_MAX	8192

/* The broker's token for a forwarded request's progress. */
#define FUZZ_CHILD_TOKEN	7

/* The client's id and the session meta of a fast-path result. */
#define FUZZ_CHILD_FAST_ID	"7"
#define FUZZ_CHILD_FAST_META	"{\"id\":\"x\",\"generation\":1}"

int	LLVMFuzzerInitialize(int *, char ***);

/* Where task deadlines are armed (fuzz_session_new). */
static struct event_base	*fuzz_base;
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static cJSON	*fuzz_child_session_meta(void);
static void	fuzz_child_set_meta(cJSON *);
static void	fuzz_child_response(struct jsonrpc_msg *);
static void	fuzz_child_request(struct jsonrpc_msg *);
static int	fuzz_child_id_is(const cJSON *, int64_t);
static int	fuzz_child_same(const cJSON *, const cJSON *);
static void	fuzz_child_fast(const char *, size_t);
static void	fuzz_child_line(const char *, size_t, void *);
static void	fuzz_child_passed(struct jsonrpc_msg *);
static int	fuzz_child_meta_blocked(const char *, size_t,
		    const char *const *);

/* cJSON allocates through xmalloc, and only errors are logged. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmalloc_cjson_hooks();
	log_init(LOG_LEVEL_ERROR);
	/* Task deadlines are armed on it; it never runs. */
	FUZZ_CHECK((fuzz_base = event_base_new()) != NULL);
	return (0);
}

/* What session_meta() builds: {"id":…,"generation":…}; caller owns it. */
static cJSON *
fuzz_child_session_meta(void)
{
	cJSON	*meta;

	meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "id", "s-1");
	cJSON_AddNumberToObject(meta, "generation", 1);
	return (meta);
}

/* Set _meta["mcp-broker/session"] on obj; an object must then show it. */
static void
fuzz_child_set_meta(cJSON *obj)
{
	const cJSON	*meta, *session;

	mcp_set_result_meta(obj, fuzz_child_session_meta());
	if (!cJSON_IsObject(obj))
		return;
	meta = cJSON_GetObjectItemCaseSensitive(obj, "_meta");
	FUZZ_CHECK(cJSON_IsObject(meta));
	session = cJSON_GetObjectItemCaseSensitive(meta, MCP_META_SESSION);
	FUZZ_CHECK(session != NULL);
}

/*
 * A response: the handshake checks (initialize, server/discover), then
 * the session _meta every forwarded result gets.
 */
static void
fuzz_child_response(struct jsonrpc_msg *msg)
{
	const cJSON	*version;
	char		 why[160];

	why[0] = '\0';
	if (mcp_check_initialize(msg->result, why, sizeof why) == 0) {
		version = cJSON_GetObjectItemCaseSensitive(msg->result,
		    "protocolVersion");
		FUZZ_CHECK(cJSON_IsString(version));
		FUZZ_CHECK(mcp_handshake_version(version->valuestring));
	} else
		FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', sizeof why));

	why[0] = '\0';
	if (mcp_check_discover(msg->result, why, sizeof why) != 0)
		FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', sizeof why));

	if (msg->error != NULL && mcp_modern_error(msg->error))
		FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(msg->error,
		    "code")->valuedouble == MCP_ERROR_UNSUPPORTED_VERSION);

	if (msg->result != NULL)
		fuzz_child_set_meta(msg->result);
}

/*
 * A request or notification: its progress token and log level, a copy
 * of its params with the broker's token and modern _meta set (what a
 * forwarded request gets), the session _meta an upcall gets, and the
 * notification counters.
 */
static void
fuzz_child_request(struct jsonrpc_msg *msg)
{
	const cJSON	*token, *level, *version;
	cJSON		*copy, *caps;
	enum log_level	 lvl;
	int		 i, object_meta;

	token = mcp_progress_token(msg->params);
	FUZZ_CHECK(token == NULL || cJSON_IsString(token) ||
	    cJSON_IsNumber(token) || cJSON_IsRaw(token));

	if (msg->params != NULL) {
		FUZZ_CHECK((copy = cJSON_Duplicate(msg->params, 1)) != NULL);
		object_meta = cJSON_IsObject(copy) && cJSON_IsObject(
		    cJSON_GetObjectItemCaseSensitive(copy, "_meta"));
		mcp_set_progress_token(copy,
		    cJSON_CreateNumber(FUZZ_CHILD_TOKEN));
		if (object_meta) {
			token = mcp_progress_token(copy);
			FUZZ_CHECK(cJSON_IsNumber(token) &&
			    token->valuedouble == FUZZ_CHILD_TOKEN);
		}
		if (cJSON_IsObject(copy)) {
			caps = cJSON_CreateObject();
			cJSON_AddObjectToObject(caps, "sampling");
			mcp_add_modern_meta(copy, caps);
			cJSON_Delete(caps);
			version = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(copy, "_meta"),
			    MCP_META_VERSION);
			FUZZ_CHECK(cJSON_IsString(version) && strcmp(
			    version->valuestring, MCP_VERSION_MODERN) == 0);
		}
		cJSON_Delete(copy);
	}

	if (msg->kind == JSONRPC_REQUEST) {
		if (msg->params == NULL)
			copy = cJSON_CreateObject();
		else
			copy = cJSON_Duplicate(msg->params, 1);
		fuzz_child_set_meta(copy);
		cJSON_Delete(copy);
	}

	level = cJSON_GetObjectItemCaseSensitive(msg->params, "level");
	if (cJSON_IsString(level)) {
		lvl = mcp_log_level(level->valuestring);
		FUZZ_CHECK(lvl >= LOG_LEVEL_DEBUG && lvl <= LOG_LEVEL_ERROR);
	}

	if ((i = mcp_counted_notification(msg->method)) != -1) {
		FUZZ_CHECK(i >= 0 && i < MCP_NCOUNTED);
		FUZZ_CHECK(strcmp(msg->method,
		    mcp_counted_notifications[i]) == 0);
	}
}

/* Whether id, as jsonrpc_parse keeps it, is the integer want. */
static int
fuzz_child_id_is(const cJSON *id, int64_t want)
{
	char	*end;

	if (cJSON_IsNumber(id))
		return (id->valuedouble == (double)want);
	/* Beyond an int, the id is kept as the text the child wrote. */
	if (cJSON_IsRaw(id))
		return (strtoll(id->valuestring, &end, 10) == want &&
		    *end == '\0');
	return (0);
}

/*
 * Whether two trees hold the same JSON, members in the same order. Not
 * cJSON_Compare: it compares each object both ways at every level, which
 * takes 2^depth steps (84 s for a result nested 60 deep), calls a number
 * that overflowed to infinity unequal to itself, and pairs repeated keys
 * wrongly.
 */
static int
fuzz_child_same(const cJSON *a, const cJSON *b)
{
	char	*ta, *tb;
	int	 same;

	ta = fuzz_print(a);
	tb = fuzz_print(b);
	same = strcmp(ta, tb) == 0;
	free(ta);
	free(tb);
	return (same);
}

/*
 * The fast path (proto/scan.h, session_fast_answer): a line scan_result
 * takes must be a response jsonrpc_parse reads alike, with a result that
 * has no _meta; and the line the daemon writes for it, the session _meta
 * spliced before the child's members, must be a response jsonrpc_parse
 * accepts whose result, _meta aside, is the child's.
 */
static void
fuzz_child_fast(const char *line, size_t len)
{
	struct scan_result	 r;
	struct jsonrpc_msg	 msg, sent;
	struct jsonrpc_fault	 fault;
	const cJSON		*session;
	char			*text, *end;
	size_t			 n, size;

	if (scan_result(line, len, &r) != 0)
		return;
	FUZZ_CHECK(r.id > -1000000000000000 && r.id < 1000000000000000);
	FUZZ_CHECK(r.body >= line && r.body_len <= len &&
	    r.body + r.body_len <= line + len);
	if (jsonrpc_parse(line, len, &msg, &fault) != 0) {
		fprintf(stderr, "scan_result took a line jsonrpc_parse "
		    "refuses (%d %s)\n", fault.code, fault.message);
		abort();
	}
	FUZZ_CHECK(msg.kind == JSONRPC_RESPONSE);
	FUZZ_CHECK(cJSON_IsObject(msg.result));
	FUZZ_CHECK(fuzz_child_id_is(msg.id, r.id));
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(msg.result, "_meta") ==
	    NULL);

	/* conn_send_result's line, under the client's id: one line. */
	size = wire_result_size(strlen(FUZZ_CHILD_FAST_ID),
	    strlen(FUZZ_CHILD_FAST_META), r.body_len);
	text = xmalloc(size);
	end = wire_result_fill(text, FUZZ_CHILD_FAST_ID,
	    strlen(FUZZ_CHILD_FAST_ID), FUZZ_CHILD_FAST_META,
	    strlen(FUZZ_CHILD_FAST_META), r.body, r.body_len);
	n = (size_t)(end - text);
	FUZZ_CHECK(n == size && text[n - 1] == '\n');
	FUZZ_CHECK(memchr(text, '\n', n - 1) == NULL);
	if (jsonrpc_parse(text, n - 1, &sent, &fault) != 0) {
		fprintf(stderr, "the fast path wrote a line jsonrpc_parse "
		    "refuses (%d %s)\n", fault.code, fault.message);
		abort();
	}
	FUZZ_CHECK(sent.kind == JSONRPC_RESPONSE);
	FUZZ_CHECK(cJSON_IsObject(sent.result));
	session = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(sent.result, "_meta"),
	    MCP_META_SESSION);
	FUZZ_CHECK(cJSON_IsObject(session));
	cJSON_DeleteItemFromObjectCaseSensitive(sent.result, "_meta");
	if (!fuzz_child_same(sent.result, msg.result)) {
		fprintf(stderr, "the fast path changed the result: %.*s\n",
		    (int)n, text);
		abort();
	}
	jsonrpc_msg_clear(&sent);
	jsonrpc_msg_clear(&msg);
	free(text);
}

/*
 * What the broker passes on of a message it accepted, written from the
 * child's text (request_answer_line, request_progress, the upcall): one
 * line jsonrpc_parse accepts, with the broker's edits made, and every
 * number the child wrote in it byte for byte but those of the values the
 * broker replaces.
 */
/*
 * Whether the object two keys up path (its _meta, or for a token its
 * params) is there but not an object, so nothing can be set in it.
 */
static int
fuzz_child_meta_blocked(const char *line, size_t len,
    const char *const *path)
{
	const char		*parent[3];
	struct scan_member	 m;

	parent[0] = path[0];
	parent[1] = path[1] != NULL && path[2] != NULL ? path[1] : NULL;
	parent[2] = NULL;
	if (scan_path(line, len, parent, &m) != 0)
		return (0);
	return (*m.value.p != '{');
}

static void
fuzz_child_passed(struct jsonrpc_msg *msg)
{
	static const char *const meta_path[] = { "result", "_meta",
						 MCP_META_SESSION, NULL };
	static const char *const token_path[] = { "params", "progressToken",
						  NULL };
	static const char *const up_path[] = { "params", "_meta",
					       MCP_META_SESSION, NULL };
	struct wire_edit	 e[2];
	struct scan_span	 skip[2];
	struct scan_member	 m;
	struct jsonrpc_msg	 sent;
	struct jsonrpc_fault	 fault;
	const char *const	*path = NULL;
	char			*out;
	size_t			 len, n = 0;

	memset(e, 0, sizeof e);
	memset(skip, 0, sizeof skip);
	if (msg->kind == JSONRPC_RESPONSE) {
		if (msg->result != NULL && !cJSON_IsObject(msg->result))
			return;		/* failed with -32603 instead */
		e[n++] = (struct wire_edit){ WIRE_SET, { "id", NULL },
		    FUZZ_CHILD_FAST_ID, 1 };
		if (msg->result != NULL) {
			e[n++] = (struct wire_edit){ WIRE_SET, { "result",
			    "_meta", MCP_META_SESSION, NULL },
			    FUZZ_CHILD_FAST_META,
			    strlen(FUZZ_CHILD_FAST_META) };
			path = meta_path;
		}
	} else if (msg->kind == JSONRPC_NOTIFICATION &&
	    strcmp(msg->method, "notifications/progress") == 0) {
		if (!cJSON_IsObject(msg->params))
			return;
		e[n++] = (struct wire_edit){ WIRE_SET, { "params",
		    "progressToken", NULL }, "\"tok\"", 5 };
		path = token_path;
	} else if (msg->kind == JSONRPC_REQUEST) {
		e[n++] = (struct wire_edit){ WIRE_SET, { "id", NULL }, "1", 1 };
		if (msg->params == NULL || cJSON_IsObject(msg->params)) {
			e[n++] = (struct wire_edit){ WIRE_SET, { "params",
			    "_meta", MCP_META_SESSION, NULL },
			    FUZZ_CHILD_FAST_META,
			    strlen(FUZZ_CHILD_FAST_META) };
			path = up_path;
		}
	} else
		return;
	out = wire_rewrite(msg->line, msg->line_len, e, n, 0, &len);
	if (out == NULL) {
		/* Refused only where a set would cross a non-object _meta
		   (the broker fails the request instead). */
		FUZZ_CHECK(path != NULL && scan_path(msg->line, msg->line_len,
		    path, &m) != 0);
		FUZZ_CHECK(fuzz_child_meta_blocked(msg->line, msg->line_len,
		    path));
		return;
	}
	FUZZ_CHECK(memchr(out, '\n', len) == NULL);
	if (jsonrpc_parse(out, len, &sent, &fault) != 0) {
		fprintf(stderr, "the broker would pass on a line it refuses "
		    "(%s): %.*s\n", fault.message, (int)len, out);
		abort();
	}
	FUZZ_CHECK(sent.kind == msg->kind);
	if (msg->kind != JSONRPC_NOTIFICATION)
		FUZZ_CHECK(sent.id_len == 1);
	if (path != NULL) {
		FUZZ_CHECK(scan_path(out, len, path, &m) == 0);
		if (scan_path(msg->line, msg->line_len, path, &m) == 0)
			skip[0] = m.value;
	}
	/* The id the child wrote is replaced; its numbers go elsewhere. */
	if (msg->id_text != NULL) {
		skip[1].p = msg->id_text;
		skip[1].len = msg->id_len;
	}
	fuzz_check_numbers(msg->line, msg->line_len, skip, 2, out, len);
	jsonrpc_msg_clear(&sent);
	free(out);
}

/*
 * A session around the child, as far as it can be had without a process
 * or a loop: the requests in flight (request.c), what clients asked of it
 * (attach.c: log levels, subscriptions), the tasks its answers create
 * (task.c) and the URL elicitations clients were asked for (ask.c). Each
 * line of the child's goes where session.c, mcpclient.c and
 * session_relay.c send it; every line a client gets must be the child's
 * message byte for byte but for the members the broker edits, and must
 * reach the clients it is for.
 */

/* The session's stamp (session_stamp) and _meta (FUZZ_CHILD_FAST_META). */
#define FUZZ_STAMP	"{\"id\":\"s-1\",\"generation\":1,\"server\":\"srv\"," \
			"\"thread\":\"thr\"}"
#define FUZZ_NFRONTS	3
/* The broker's token for request 6's progress, and the client's. */
#define FUZZ_CHILD_TOKEN6	9
#define FUZZ_CLIENT_TOKEN6	"\"tok\""
/* The listen request's client id. */
#define FUZZ_LISTEN_ID		"\"L\""
/* The model's bound on tasks (TASK_MAX_PER_SESSION). */
#define FUZZ_MAX_TASKS		64

/* A client: what it got for the line being handled. */
struct fuzz_front {
	struct front		 front;
	struct counters		 counters;
	int			 target;	/* 1: must get it, 0: must
						   not, -1: may */
	int			 got;
};

/* A member the broker edits in what it sends, and the value it sets. */
struct fuzz_edit {
	const char		*path[5];
	const char		*text;		/* JSON; NULL: any value */
};

/* What a client may be sent for the line being handled. */
struct fuzz_expect {
	const char		*line;		/* NULL: nothing may be sent */
	size_t			 len;
	struct fuzz_edit	 e[4];
	size_t			 n;
};

/* A task the model says the broker keeps, and its creator. */
struct fuzz_task {
	char			*id;
	int			 creator;
};

static const struct log_ctx	 fuzz_ctx = { "srv", "thr", "s-1", 1 };
static struct fuzz_front	 fuzz_fronts[FUZZ_NFRONTS];
static struct request_set	*fuzz_rs;
static struct task_set		*fuzz_ts;
static struct ask_set		*fuzz_as;
static struct fuzz_expect	 fx;
static struct fuzz_task		 fuzz_tasks[FUZZ_MAX_TASKS];
static size_t			 fuzz_ntasks;
static int			 fuzz_model;	/* 0: \u0000 about, no model */
static int			 fuzz_c_uri_known;

static void	fuzz_session_send(void *, cJSON *);
static void	fuzz_session_send_result(void *, const char *, size_t,
		    const char *, size_t, const char *, size_t);
static void	fuzz_session_send_line(void *, const char *, size_t);
static void	fuzz_session_nothing(void *);
static void	fuzz_session_close(void *, const char *);
static void	fuzz_session_write(cJSON *, void *);
static void	fuzz_session_write_text(const char *, size_t, void *);
static cJSON	*fuzz_session_error_data(void *, int);
static void	fuzz_session_ask_write(const char *, size_t, void *);

static const struct front_ops fuzz_front_ops = {
	.send = fuzz_session_send,
	.send_result = fuzz_session_send_result,
	.send_line = fuzz_session_send_line,
	.pause = fuzz_session_nothing,
	.resume = fuzz_session_nothing,
	.close = fuzz_session_close,
};

static const struct request_set_ops fuzz_rs_ops = {
	.write = fuzz_session_write,
	.write_text = fuzz_session_write_text,
	.error_data = fuzz_session_error_data,
	.changed = fuzz_session_nothing,
};

/* The member at path in o, or NULL. */
static cJSON *
fuzz_get(cJSON *o, const char *const *path)
{
	for (; o != NULL && *path != NULL; path++)
		o = cJSON_IsObject(o) ?
		    cJSON_GetObjectItemCaseSensitive(o, *path) : NULL;
	return (o);
}

/*
 * Delete the member at path from o (every one of that key: the broker
 * sets them all, a repeated one too, so no reader sees the child's); with
 * orig (the child's message), the objects on the way that are empty now
 * and that orig lacks go too: the broker made them.
 */
static void
fuzz_unset(cJSON *o, const cJSON *orig, const char *const *path)
{
	cJSON		*node[6];
	const cJSON	*onode[6];
	size_t		 d;

	node[0] = o;
	onode[0] = orig;
	for (d = 0; path[d + 1] != NULL; d++) {
		node[d + 1] = cJSON_GetObjectItemCaseSensitive(node[d], path[d]);
		onode[d + 1] = cJSON_IsObject(onode[d]) ?
		    cJSON_GetObjectItemCaseSensitive(onode[d], path[d]) : NULL;
		if (!cJSON_IsObject(node[d + 1]))
			return;
	}
	while (cJSON_GetObjectItemCaseSensitive(node[d], path[d]) != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(node[d], path[d]);
	if (orig == NULL)
		return;
	while (d > 0 && node[d]->child == NULL && onode[d] == NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(node[d - 1],
		    path[d - 1]);
		d--;
	}
}

/*
 * What a client was sent (sent, a message) against the child's message
 * (child): each edit's member is there with its value, and with the
 * edits' members taken off both, the two are the same.
 */
static void
fuzz_session_compare(cJSON *sent, cJSON *child, const struct fuzz_edit *e,
    size_t n, const char *line, size_t len)
{
	cJSON	*v, *want;
	char	*a, *b;
	size_t	 i;

	FUZZ_CHECK(cJSON_IsObject(sent));
	FUZZ_CHECK(child != NULL);
	for (i = 0; i < n; i++) {
		if ((v = fuzz_get(sent, e[i].path)) == NULL) {
			fprintf(stderr, "%s not set in: %.*s\n", e[i].path[
			    e[i].path[1] == NULL ? 0 : 1], (int)len, line);
			abort();
		}
		if (e[i].text != NULL) {
			FUZZ_CHECK((want = cJSON_Parse(e[i].text)) != NULL);
			FUZZ_CHECK(fuzz_child_same(v, want));
			cJSON_Delete(want);
		}
	}
	for (i = 0; i < n; i++) {
		fuzz_unset(sent, child, e[i].path);
		fuzz_unset(child, NULL, e[i].path);
	}
	a = fuzz_print(sent);
	b = fuzz_print(child);
	if (strcmp(a, b) != 0) {
		fprintf(stderr, "a client got the child's message changed:\n"
		    "child: %.*s\nsent:  %.*s\n", (int)fx.len, fx.line,
		    (int)len, line);
		abort();
	}
	free(a);
	free(b);
}

/* One more line for a client: one it may get, once. */
static void
fuzz_session_got(struct fuzz_front *ff)
{
	FUZZ_CHECK(fx.line != NULL);
	if (ff->target == 0) {
		fprintf(stderr, "client %d got a line not for it: %.*s\n",
		    (int)(ff - fuzz_fronts), (int)fx.len, fx.line);
		abort();
	}
	FUZZ_CHECK(++ff->got == 1);
}

/* A line passed on as text: see fuzz_session_compare. */
static void
fuzz_session_send_line(void *arg, const char *line, size_t len)
{
	cJSON	*sent, *child;

	fuzz_session_got(arg);
	FUZZ_CHECK(memchr(line, '\n', len) == NULL);
	if ((sent = cJSON_ParseWithLength(line, len)) == NULL) {
		fprintf(stderr, "a client got a line that is not JSON: "
		    "%.*s\n", (int)len, line);
		abort();
	}
	child = cJSON_ParseWithLength(fx.line, fx.len);
	fuzz_session_compare(sent, child, fx.e, fx.n, line, len);
	cJSON_Delete(sent);
	cJSON_Delete(child);
}

/*
 * The fast path's line (conn_send_result's): the client's id, and the
 * child's result with the session's _meta.
 */
static void
fuzz_session_send_result(void *arg, const char *id, size_t id_len,
    const char *meta, size_t meta_len, const char *body, size_t len)
{
	static const struct fuzz_edit e = { { "_meta", MCP_META_SESSION,
					      NULL }, FUZZ_CHILD_FAST_META };
	cJSON	*sent, *child, *want;
	char	*line, *end;
	size_t	 size;

	fuzz_session_got(arg);
	FUZZ_CHECK(fx.n > 0 && fx.e[0].text != NULL);
	FUZZ_CHECK(id_len == strlen(fx.e[0].text) &&
	    memcmp(id, fx.e[0].text, id_len) == 0);
	size = wire_result_size(id_len, meta_len, len);
	line = xmalloc(size);
	end = wire_result_fill(line, id, id_len, meta, meta_len, body, len);
	FUZZ_CHECK((size_t)(end - line) == size && end[-1] == '\n');
	FUZZ_CHECK((sent = cJSON_ParseWithLength(line, size)) != NULL);
	FUZZ_CHECK((want = cJSON_Parse(fx.e[0].text)) != NULL);
	FUZZ_CHECK(fuzz_child_same(cJSON_GetObjectItemCaseSensitive(sent,
	    "id"), want));
	child = cJSON_ParseWithLength(fx.line, fx.len);
	FUZZ_CHECK(child != NULL);
	fuzz_session_compare(cJSON_GetObjectItemCaseSensitive(sent, "result"),
	    cJSON_GetObjectItemCaseSensitive(child, "result"), &e, 1, line,
	    size);
	cJSON_Delete(want);
	cJSON_Delete(sent);
	cJSON_Delete(child);
	free(line);
}

/* A message the broker made (an error): JSON-RPC that prints. */
static void
fuzz_session_send(void *arg, cJSON *msg)
{
	cJSON	*back;
	char	*text;

	(void)arg;
	text = fuzz_print(msg);
	FUZZ_CHECK((back = cJSON_Parse(text)) != NULL);
	FUZZ_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(back,
	    "error")) || cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(back,
	    "result")));
	cJSON_Delete(back);
	cJSON_Delete(msg);
	free(text);
}

static void
fuzz_session_nothing(void *arg)
{
	(void)arg;
}

static void
fuzz_session_close(void *arg, const char *why)
{
	(void)arg;
	(void)why;
}

/* What the broker sends the child of its own: a JSON-RPC message. */
static void
fuzz_session_write(cJSON *msg, void *arg)
{
	cJSON	*back;
	char	*text;

	(void)arg;
	text = fuzz_print(msg);
	FUZZ_CHECK(memchr(text, '\n', strlen(text)) == NULL);
	FUZZ_CHECK((back = cJSON_Parse(text)) != NULL);
	FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(back,
	    "method")));
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(back, "params") == NULL ||
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(back, "params")));
	cJSON_Delete(back);
	cJSON_Delete(msg);
	free(text);
}

/* A line for the child written as text: one JSON line. */
static void
fuzz_session_write_text(const char *line, size_t len, void *arg)
{
	cJSON	*back;

	(void)arg;
	FUZZ_CHECK(memchr(line, '\n', len) == NULL);
	FUZZ_CHECK((back = cJSON_ParseWithLength(line, len)) != NULL);
	cJSON_Delete(back);
}

static void
fuzz_session_ask_write(const char *line, size_t len, void *arg)
{
	fuzz_session_write_text(line, len, arg);
}

static cJSON *
fuzz_session_error_data(void *arg, int full)
{
	(void)arg;
	(void)full;
	return (cJSON_CreateObject());
}

/* A client request's text after its id, as the session holds it. */
static const char *const fuzz_tails[] = {
	NULL,
	/* 1: A, a task may come of it */
	",\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"task\":{}}}",
	/* 2: B polls t1 */
	",\"method\":\"tasks/get\",\"params\":{\"taskId\":\"t1\"}}",
	/* 3: C waits for t1's result */
	",\"method\":\"tasks/result\",\"params\":{\"taskId\":\"t1\"}}",
	/* 4: A listens */
	",\"method\":\"subscriptions/listen\",\"params\":{}}",
	/* 5: C subscribes, its first subscriber */
	",\"method\":\"resources/subscribe\",\"params\":{\"uri\":"
	    "\"file:///c\"}}",
	/* 6: B, with progress, a task may come of it */
	",\"method\":\"tools/call\",\"params\":{\"name\":\"y\",\"_meta\":"
	    "{\"progressToken\":9},\"task\":{\"ttl\":1000}}}",
};

/* Whose each request is, its kind and its client id. */
static const struct {
	int			 front;
	enum request_kind	 kind;
	const char		*id;
} fuzz_reqs[] = {
	{ 0, REQUEST_FORWARD, NULL },
	{ 0, REQUEST_TASK_MAYBE, "\"c1\"" },
	{ 1, REQUEST_TASK_POLL, "2" },
	{ 2, REQUEST_TASK_RESULT, "3" },
	{ 0, REQUEST_LISTEN, FUZZ_LISTEN_ID },
	{ 2, REQUEST_FORWARD, "5" },
	{ 1, REQUEST_TASK_MAYBE, "6" },
};
#define FUZZ_NREQS	(sizeof fuzz_reqs / sizeof fuzz_reqs[0])

/* What a client asks of its attachment, as attach_request takes it. */
static void
fuzz_session_ask(int i, const char *method, const char *params,
    enum attach_verdict want)
{
	const char	*message = NULL;
	char		 tail[256];
	int		 n;

	n = snprintf(tail, sizeof tail, ",\"method\":\"%s\",\"params\":%s}\n",
	    method, params);
	FUZZ_CHECK(attach_request(request_set_attach(fuzz_rs),
	    &fuzz_fronts[i].front, tail, (size_t)n, 0, &message) == want);
}

/*
 * The session as the child's output finds it: three clients A, B, C
 * (A and C take list changes; A asked for info logs and B for error ones
 * through a request's _meta; A subscribed to file:///aé, B and C to
 * file:///c, C to urn:x:"q"), the requests of fuzz_reqs in flight under
 * their index, and elicitations asked of A ("el-1") and C (42).
 */
static void
fuzz_session_new(const uint8_t *data, size_t size)
{
	struct request	*req;
	size_t		 i;

	memset(&fx, 0, sizeof fx);
	for (i = 0; i < FUZZ_NFRONTS; i++) {
		memset(&fuzz_fronts[i], 0, sizeof fuzz_fronts[i]);
		front_init(&fuzz_fronts[i].front, &fuzz_front_ops,
		    &fuzz_fronts[i], &fuzz_fronts[i].counters, 1000,
		    (pid_t)(100 + i), 0);
		fuzz_fronts[i].front.serial = i + 1;
	}
	fuzz_fronts[0].front.notifications = 1;
	fuzz_fronts[2].front.notifications = 1;
	fuzz_rs = request_set_new(&fuzz_rs_ops, NULL);
	fuzz_ts = task_set_new(fuzz_base, &fuzz_ctx, FUZZ_STAMP, 60000, NULL,
	    NULL);
	fuzz_as = ask_set_new(fuzz_session_ask_write, NULL);
	fuzz_ntasks = 0;
	fuzz_model = memmem(data, size, "\\u0000", 6) == NULL;
	fuzz_c_uri_known = 1;

	fuzz_session_ask(0, "logging/setLevel", "{\"level\":\"info\"}",
	    ATTACH_ANSWER);
	fuzz_session_ask(1, "tools/list", "{\"_meta\":{\""
	    MCP_META_LOG_LEVEL "\":\"error\"}}", ATTACH_FORWARD);
	fuzz_session_ask(0, "resources/subscribe",
	    "{\"uri\":\"file:///a\\u00e9\"}", ATTACH_FORWARD);
	attach_sent(request_set_attach(fuzz_rs), &fuzz_fronts[0].front, 100);
	attach_answered(request_set_attach(fuzz_rs), 100, 1, 0);
	fuzz_session_ask(2, "resources/subscribe",
	    "{\"uri\":\"urn:x:\\\"q\\\"\"}", ATTACH_FORWARD);
	attach_sent(request_set_attach(fuzz_rs), &fuzz_fronts[2].front, 101);
	attach_answered(request_set_attach(fuzz_rs), 101, 1, 0);

	for (i = 1; i < FUZZ_NREQS; i++) {
		req = request_new(&fuzz_fronts[fuzz_reqs[i].front].front,
		    fuzz_reqs[i].kind, NULL, fuzz_reqs[i].id,
		    strlen(fuzz_reqs[i].id));
		request_set_text(req, xstrdup(fuzz_tails[i]),
		    strlen(fuzz_tails[i]));
		if (i == 6) {
			request_set_token(req, cJSON_Parse(
			    FUZZ_CLIENT_TOKEN6));
			request_set_child_token(req, FUZZ_CHILD_TOKEN6);
		}
		if (i == 5)
			FUZZ_CHECK(attach_request(request_set_attach(fuzz_rs),
			    request_front(req), fuzz_tails[i],
			    strlen(fuzz_tails[i]), 0, &(const char *){ NULL })
			    == ATTACH_FORWARD);
		request_send(fuzz_rs, req, (int64_t)i);
		task_sent(fuzz_ts, req);
	}
	/* B's subscription to file:///c waits for an answer that never
	   comes: it counts all the same. */
	fuzz_session_ask(1, "resources/subscribe", "{\"uri\":\"file:///c\"}",
	    ATTACH_FORWARD);
	attach_sent(request_set_attach(fuzz_rs), &fuzz_fronts[1].front, 102);

	ask_add_elicitation(fuzz_as, &fuzz_fronts[0].front, "\"el-1\"", 6);
	ask_add_elicitation(fuzz_as, &fuzz_fronts[2].front, "42", 2);
}

/* The session ends: what is in flight fails, the clients go. */
static void
fuzz_session_free(void)
{
	size_t	i;

	memset(&fx, 0, sizeof fx);
	request_fail_all(fuzz_rs, -32000, "the session ended");
	for (i = 0; i < FUZZ_NFRONTS; i++) {
		task_front_gone(&fuzz_fronts[i].front);
		ask_front_gone(&fuzz_fronts[i].front);
		request_front_gone(&fuzz_fronts[i].front);
	}
	task_set_free(fuzz_ts);
	ask_set_free(fuzz_as);
	request_set_free(fuzz_rs);
	for (i = 0; i < fuzz_ntasks; i++)
		free(fuzz_tasks[i].id);
}

/* Start handling a child's line: nobody has got it yet. */
static void
fuzz_expect(const char *line, size_t len)
{
	size_t	i;

	memset(&fx, 0, sizeof fx);
	fx.line = line;
	fx.len = len;
	for (i = 0; i < FUZZ_NFRONTS; i++) {
		fuzz_fronts[i].target = 0;
		fuzz_fronts[i].got = 0;
	}
}

static void
fuzz_expect_edit(const char *p0, const char *p1, const char *p2,
    const char *text)
{
	FUZZ_CHECK(fx.n < 4);
	fx.e[fx.n].path[0] = p0;
	fx.e[fx.n].path[1] = p1;
	fx.e[fx.n].path[2] = p2;
	fx.e[fx.n].path[3] = NULL;
	fx.e[fx.n].text = text;
	fx.n++;
}

/*
 * Done with a line: every client it must reach got it, unless none did
 * because the broker could not make its edits (a _meta not an object).
 */
static void
fuzz_expect_done(void)
{
	struct wire_edit	 e[4];
	char			*out;
	size_t			 i, j, out_len;
	int			 any = 0, all = 1;

	for (i = 0; i < FUZZ_NFRONTS; i++) {
		if (fuzz_fronts[i].got)
			any = 1;
		else if (fuzz_fronts[i].target == 1)
			all = 0;
	}
	if (!all && !any) {
		memset(e, 0, sizeof e);
		for (i = 0; i < fx.n; i++) {
			e[i].op = WIRE_SET;
			for (j = 0; fx.e[i].path[j] != NULL; j++)
				e[i].path[j] = fx.e[i].path[j];
			e[i].text = fx.e[i].text != NULL ? fx.e[i].text : "0";
			e[i].len = strlen(e[i].text);
		}
		if ((out = wire_rewrite(fx.line, fx.len, e, fx.n, 0,
		    &out_len)) == NULL)
			all = 1;
		free(out);
	}
	if (!all) {
		fprintf(stderr, "some clients it is for did not get: %.*s\n",
		    (int)fx.len, fx.line);
		abort();
	}
	fx.line = NULL;
}

/* The model's task named id, or -1. */
static int
fuzz_task_find(const char *id)
{
	size_t	i;

	for (i = 0; i < fuzz_ntasks; i++) {
		if (strcmp(fuzz_tasks[i].id, id) == 0)
			return ((int)i);
	}
	return (-1);
}

static void
fuzz_task_end(int i)
{
	free(fuzz_tasks[i].id);
	fuzz_tasks[i] = fuzz_tasks[--fuzz_ntasks];
}

/* The string at key of o as task.c takes it (TASK_ID_MAX bytes), or NULL. */
static const char *
fuzz_task_string(const cJSON *o, const char *key, size_t max)
{
	const char	*s;

	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return (s != NULL && strlen(s) <= max ? s : NULL);
}

static int
fuzz_task_terminal(const char *s)
{
	return (s != NULL && (strcmp(s, "completed") == 0 ||
	    strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0));
}

/*
 * The model of task_create: a CreateTaskResult (2025-11-25 result.task,
 * or 2026-07-28 result.resultType "task") not already ended records a
 * task, under the bound.
 */
static void
fuzz_task_create(const cJSON *result, int creator)
{
	const cJSON	*task = cJSON_GetObjectItemCaseSensitive(result, "task");
	const char	*id, *status, *type;

	if ((id = fuzz_task_string(task, "taskId", TASK_ID_MAX)) != NULL)
		status = fuzz_task_string(task, "status", 30);
	else {
		type = fuzz_task_string(result, "resultType", 14);
		if (type == NULL || strcmp(type, "task") != 0 ||
		    (id = fuzz_task_string(result, "taskId", TASK_ID_MAX)) ==
		    NULL)
			return;
		status = fuzz_task_string(result, "status", 30);
	}
	if (fuzz_task_terminal(status) || fuzz_task_find(id) != -1 ||
	    fuzz_ntasks >= FUZZ_MAX_TASKS)
		return;
	fuzz_tasks[fuzz_ntasks].id = xstrdup(id);
	fuzz_tasks[fuzz_ntasks].creator = creator;
	fuzz_ntasks++;
}

/* The broker keeps a task exactly when the model does. */
static void
fuzz_task_check(const char *line, size_t len)
{
	if (fuzz_model && task_set_busy(fuzz_ts) != (fuzz_ntasks > 0)) {
		fprintf(stderr, "the broker %s a task, the model %zu, "
		    "after: %.*s\n", task_set_busy(fuzz_ts) ? "keeps" :
		    "keeps no", fuzz_ntasks, (int)len, line);
		abort();
	}
}

/*
 * The child answered request i (root: its message as cJSON reads it):
 * the model's tasks, and C's subscription to file:///c.
 */
static void
fuzz_session_model_answer(size_t i, const cJSON *root)
{
	const cJSON	*result = cJSON_GetObjectItemCaseSensitive(root,
			    "result");
	int		 t;

	if (fuzz_reqs[i].kind == REQUEST_TASK_MAYBE && cJSON_IsObject(result))
		fuzz_task_create(result, fuzz_reqs[i].front);
	if ((t = fuzz_task_find("t1")) != -1) {
		if (fuzz_reqs[i].kind == REQUEST_TASK_RESULT ||
		    (fuzz_reqs[i].kind == REQUEST_TASK_POLL &&
		    fuzz_task_terminal(fuzz_task_string(result, "status",
		    30))))
			fuzz_task_end(t);
	}
	/* An error with a code of 0 keeps it: not modelled. */
	if (i == 5 && !cJSON_IsObject(result))
		fuzz_c_uri_known = 0;
}

/* The request in flight the child's id text names (session_take_text). */
static struct request *
fuzz_session_take(const char *id, size_t len, size_t *index)
{
	struct request	*req;
	int64_t		 n = 0;
	size_t		 i;

	if (id == NULL)
		return (NULL);
	for (i = 0; i < len && len <= 15 && *id != '0'; i++) {
		if (id[i] < '0' || id[i] > '9')
			break;
		n = n * 10 + (id[i] - '0');
	}
	if (len == 0 || i < len)
		return (NULL);
	if ((req = request_take(fuzz_rs, n)) != NULL)
		*index = (size_t)n;
	return (req);
}

/* The edits an answer to request i gets (request_answer_line's). */
static void
fuzz_expect_answer(size_t i, const char *line, size_t len, int error,
    int meta)
{
	static const char *const sub_path[] = { "result", "_meta",
	    MCP_META_SUBSCRIPTION, NULL };
	struct scan_member	m;

	fuzz_expect(line, len);
	fuzz_fronts[fuzz_reqs[i].front].target = 1;
	fuzz_expect_edit("id", NULL, NULL, fuzz_reqs[i].id);
	if (meta)
		fuzz_expect_edit(error ? "error" : "result", error ? "data" :
		    "_meta", MCP_META_SESSION, FUZZ_CHILD_FAST_META);
	if (fuzz_reqs[i].kind == REQUEST_LISTEN &&
	    scan_path(line, len, sub_path, &m) == 0)
		fuzz_expect_edit("result", "_meta", MCP_META_SUBSCRIPTION,
		    fuzz_reqs[i].id);
}

/* session_fast_answer. Returns 1 if the line was its. */
static int
fuzz_session_fast(const char *line, size_t len)
{
	struct scan_result	 r;
	struct request		*req;
	cJSON			*root;
	char			*alt;
	size_t			 alt_len, i;

	if (scan_result(line, len, &r) != 0)
		return (0);
	if (r.id < 1 || r.id >= (int64_t)FUZZ_NREQS ||
	    (req = request_take(fuzz_rs, r.id)) == NULL)
		return (1);
	i = (size_t)r.id;
	fuzz_expect_answer(i, line, len, 0, 1);
	if ((alt = task_answer(fuzz_ts, req, line, len, &alt_len)) != NULL)
		FUZZ_CHECK(request_answer_line(req, alt, alt_len,
		    FUZZ_CHILD_FAST_META, strlen(FUZZ_CHILD_FAST_META), 0) ==
		    0);
	else
		request_answer_text(req, FUZZ_CHILD_FAST_META,
		    strlen(FUZZ_CHILD_FAST_META), r.body, r.body_len);
	free(alt);
	FUZZ_CHECK(fuzz_fronts[fuzz_reqs[i].front].got == 1);
	fuzz_expect_done();
	FUZZ_CHECK((root = cJSON_ParseWithLength(line, len)) != NULL);
	fuzz_session_model_answer(i, root);
	cJSON_Delete(root);
	return (1);
}

/* session_response. */
static void
fuzz_session_response(struct jsonrpc_msg *msg)
{
	struct request	*req;
	const cJSON	*data;
	char		*alt;
	size_t		 i = 0, len;
	int		 meta;

	if ((req = fuzz_session_take(msg->id_text, msg->id_len, &i)) == NULL)
		return;
	if (msg->result != NULL && !cJSON_IsObject(msg->result)) {
		if (i == 5)
			fuzz_c_uri_known = 0;
		request_fail(req, RPC_INTERNAL_ERROR, "not an object",
		    cJSON_CreateObject());
		return;
	}
	fuzz_session_model_answer(i, msg->root);
	data = cJSON_GetObjectItemCaseSensitive(msg->error, "data");
	meta = data == NULL || cJSON_IsObject(data);
	fuzz_expect_answer(i, msg->line, msg->line_len, msg->error != NULL,
	    meta);
	alt = task_answer(fuzz_ts, req, msg->line, msg->line_len, &len);
	if (request_answer_line(req, alt != NULL ? alt : msg->line,
	    alt != NULL ? len : msg->line_len, meta ? FUZZ_CHILD_FAST_META :
	    NULL, strlen(FUZZ_CHILD_FAST_META), msg->error != NULL) != 0) {
		if (i == 5)
			fuzz_c_uri_known = 0;
		request_fail(req, RPC_INTERNAL_ERROR, "no _meta",
		    cJSON_CreateObject());
	}
	free(alt);
	fuzz_expect_done();
}

/* A task's status: the model's side of task_status. */
static void
fuzz_session_model_status(const cJSON *params, int relay)
{
	const char	*id;
	int		 t;

	if ((id = fuzz_task_string(params, "taskId", TASK_ID_MAX)) == NULL ||
	    (t = fuzz_task_find(id)) == -1)
		return;
	if (relay)
		fuzz_fronts[fuzz_tasks[t].creator].target = 1;
	if (fuzz_task_terminal(fuzz_task_string(params, "status", 30)))
		fuzz_task_end(t);
}

/* Whom a notification of the child's is for (attach_notify's choice). */
static void
fuzz_session_targets(enum attach_to to, const char *arg)
{
	static const int levels[FUZZ_NFRONTS] = { 1, 4, -1 };
	int		 rank, i;

	switch (to) {
	case ATTACH_TO_ALL:
		for (i = 0; i < FUZZ_NFRONTS; i++)
			fuzz_fronts[i].target =
			    fuzz_fronts[i].front.notifications;
		break;
	case ATTACH_TO_LOG:
		if ((rank = attach_level_rank(arg)) == -1)
			rank = ATTACH_NLEVELS - 1;
		for (i = 0; i < FUZZ_NFRONTS; i++)
			fuzz_fronts[i].target = levels[i] != -1 &&
			    rank >= levels[i];
		break;
	case ATTACH_TO_SUBSCRIBERS:
		if (arg == NULL)
			break;
		if (strcmp(arg, "file:///a\xc3\xa9") == 0)
			fuzz_fronts[0].target = 1;
		if (strcmp(arg, "file:///c") == 0) {
			fuzz_fronts[1].target = 1;
			fuzz_fronts[2].target = fuzz_c_uri_known ? 1 : -1;
		}
		if (strcmp(arg, "urn:x:\"q\"") == 0)
			fuzz_fronts[2].target = 1;
		break;
	}
}

/* session_notify_cb: the fan-out over the attached clients. */
static void
fuzz_session_notify(struct jsonrpc_msg *msg)
{
	const char	*what = NULL;
	enum attach_to	 to = ATTACH_TO_ALL;

	if (strcmp(msg->method, "notifications/message") == 0) {
		to = ATTACH_TO_LOG;
		what = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    msg->params, "level"));
	} else if (strcmp(msg->method, "notifications/resources/updated") ==
	    0) {
		to = ATTACH_TO_SUBSCRIBERS;
		what = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    msg->params, "uri"));
	}
	fuzz_expect(msg->line, msg->line_len);
	fuzz_expect_edit("params", "_meta", MCP_META_SESSION, FUZZ_STAMP);
	fuzz_session_targets(to, what);
	attach_notify(request_set_attach(fuzz_rs), to, what, msg->line,
	    msg->line_len, FUZZ_STAMP, strlen(FUZZ_STAMP));
	fuzz_expect_done();
}

/*
 * session_elicited_cb: to the client asked for that elicitationId; the
 * model does not say which (ids compare as scan_id_equal says), so any
 * one client may get it, once.
 */
static void
fuzz_session_elicited(const char *line, size_t len)
{
	static const char *const path[] = { "params", "elicitationId", NULL };
	struct wire_edit	 e = { WIRE_SET, { "params", "_meta",
				    MCP_META_SESSION, NULL }, FUZZ_STAMP,
				    strlen(FUZZ_STAMP) };
	struct scan_member	 m;
	struct front		*f = NULL;
	char			*out;
	size_t			 out_len, i, n = 0;

	fuzz_expect(line, len);
	fuzz_expect_edit("params", "_meta", MCP_META_SESSION, FUZZ_STAMP);
	for (i = 0; i < FUZZ_NFRONTS; i++)
		fuzz_fronts[i].target = -1;
	if (scan_path(line, len, path, &m) == 0)
		f = ask_take_elicitation(fuzz_as, m.value.p, m.value.len);
	if (f != NULL &&
	    (out = wire_rewrite(line, len, &e, 1, 0, &out_len)) != NULL) {
		front_send_line(f, out, out_len);
		free(out);
	}
	for (i = 0; i < FUZZ_NFRONTS; i++)
		n += (size_t)fuzz_fronts[i].got;
	FUZZ_CHECK(n <= 1);
	fuzz_expect_done();
}

/* mcpclient_notification, with session_relay.c's callbacks. */
static void
fuzz_session_notification(struct jsonrpc_msg *msg)
{
	static const char *const cancel_path[] = { "params", "requestId",
	    NULL };
	const cJSON	*meta, *token;
	const char	*line = msg->line;
	size_t		 len = msg->line_len, i;
	struct scan_member m;
	struct request	*req;
	int		 t;

	meta = cJSON_GetObjectItemCaseSensitive(msg->params, "_meta");
	if (cJSON_GetObjectItemCaseSensitive(meta, MCP_META_SUBSCRIPTION) !=
	    NULL) {
		/* session_listen_cb: to the listen request's client. */
		fuzz_expect(line, len);
		fuzz_expect_edit("params", "_meta", MCP_META_SUBSCRIPTION,
		    FUZZ_LISTEN_ID);
		fuzz_expect_edit("params", "_meta", MCP_META_SESSION,
		    FUZZ_STAMP);
		fuzz_fronts[0].target = -1;
		if (fuzz_model)
			fuzz_session_model_status(msg->params, 0);
		task_status(fuzz_ts, line, len, 0);
		t = task_listen_relay(fuzz_rs, line, len, FUZZ_STAMP);
		FUZZ_CHECK((t == 0) == (fuzz_fronts[0].got == 1));
		fuzz_expect_done();
		fuzz_task_check(line, len);
		if (t == 0)
			return;
	}
	if (strcmp(msg->method, "notifications/tasks/status") == 0) {
		fuzz_expect(line, len);
		fuzz_expect_edit("params", "_meta", MCP_META_SESSION,
		    FUZZ_STAMP);
		if (fuzz_model)
			fuzz_session_model_status(msg->params, 1);
		else
			for (i = 0; i < FUZZ_NFRONTS; i++)
				fuzz_fronts[i].target = -1;
		task_status(fuzz_ts, line, len, 1);
		fuzz_expect_done();
		fuzz_task_check(line, len);
		return;
	}
	if (strcmp(msg->method, "notifications/progress") == 0) {
		token = cJSON_GetObjectItemCaseSensitive(msg->params,
		    "progressToken");
		if (!cJSON_IsNumber(token))
			return;
		/* session_progress_cb: request 6's client, or its task's
		   creator (B), under its own token. */
		fuzz_expect(line, len);
		fuzz_expect_edit("params", "progressToken", NULL,
		    FUZZ_CLIENT_TOKEN6);
		if (token->valuedouble == FUZZ_CHILD_TOKEN6)
			fuzz_fronts[1].target = -1;
		if ((req = request_find_token(fuzz_rs, token->valuedouble)) !=
		    NULL) {
			FUZZ_CHECK(req == request_find_sent(fuzz_rs, 6));
			request_progress(req, line, len);
		} else
			(void)task_progress(fuzz_ts, token->valuedouble, line,
			    len);
		fuzz_expect_done();
		return;
	}
	if (strcmp(msg->method, "notifications/message") == 0) {
		fuzz_session_notify(msg);
		return;
	}
	if (strcmp(msg->method, "notifications/cancelled") == 0) {
		/* session_cancelled_cb: no upcall is waiting. */
		if (scan_path(line, len, cancel_path, &m) == 0)
			FUZZ_CHECK(upcall_find_child(fuzz_rs, m.value.p,
			    m.value.len) == NULL);
		return;
	}
	if (strcmp(msg->method, "notifications/elicitation/complete") == 0) {
		fuzz_session_elicited(line, len);
		return;
	}
	if (mcp_counted_notification(msg->method) != -1)
		fuzz_session_notify(msg);
}

/*
 * A request of the child's: a URL-mode elicitation is remembered for A
 * (session_upcall_cb, its client chosen elsewhere).
 */
static void
fuzz_session_request(struct jsonrpc_msg *msg)
{
	static const char *const path[] = { "params", "elicitationId", NULL };
	struct scan_member	 m;
	const char		*mode;

	mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    msg->params, "mode"));
	if (strcmp(msg->method, "elicitation/create") == 0 && mode != NULL &&
	    strcmp(mode, "url") == 0 &&
	    scan_path(msg->line, msg->line_len, path, &m) == 0)
		ask_add_elicitation(fuzz_as, &fuzz_fronts[0].front, m.value.p,
		    m.value.len);
}

/* session_line_cb, with the session above. */
static void
fuzz_session_line(const char *line, size_t len)
{
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;
	struct request		*req;
	struct scan_member	 m;
	size_t			 i;

	if (fuzz_session_fast(line, len)) {
		fuzz_task_check(line, len);
		return;
	}
	if (jsonrpc_parse(line, len, &msg, &fault) != 0) {
		/* session_refused: an answer it can still name fails. */
		if (!(fault.grammar_ok && scan_find(line, len, "method",
		    &m) == 0) && fault.id != NULL && (req = fuzz_session_take(
		    fault.id->valuestring, strlen(fault.id->valuestring),
		    &i)) != NULL) {
			if (i == 5)
				fuzz_c_uri_known = 0;
			request_fail(req, RPC_INTERNAL_ERROR, "refused",
			    cJSON_CreateObject());
		}
		jsonrpc_fault_clear(&fault);
		return;
	}
	switch (msg.kind) {
	case JSONRPC_RESPONSE:
		fuzz_session_response(&msg);
		fuzz_task_check(line, len);
		break;
	case JSONRPC_REQUEST:
		fuzz_session_request(&msg);
		break;
	case JSONRPC_NOTIFICATION:
		fuzz_session_notification(&msg);
		break;
	}
	jsonrpc_msg_clear(&msg);
}

/* One line from the child: parse it, look at it, write it back. */
static void
fuzz_child_line(const char *line, size_t len, void *arg)
{
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;

	(void)arg;
	fuzz_child_fast(line, len);
	if (jsonrpc_parse(line, len, &msg, &fault) != 0) {
		FUZZ_CHECK(fault.code == RPC_PARSE_ERROR ||
		    fault.code == RPC_INVALID_REQUEST);
		fuzz_check_id(line, len, fault.id != NULL ?
		    fault.id->valuestring : NULL, fault.id != NULL ?
		    strlen(fault.id->valuestring) : 0);
		jsonrpc_fault_clear(&fault);
		fuzz_session_line(line, len);
		return;
	}
	fuzz_child_passed(&msg);
	if (msg.kind == JSONRPC_RESPONSE)
		fuzz_child_response(&msg);
	else
		fuzz_child_request(&msg);
	fuzz_check_id(line, len, msg.id_text, msg.id_len);
	fuzz_check_rewrite(&msg);
	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
	fuzz_session_line(line, len);
}

/* Everything one child might write on its stdout. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_session_new(data, size);
	fuzz_feed(data, size, FUZZ_CHILD_MAX, fuzz_child_line, NULL);
	fuzz_session_free();
	return (0);
}
