/*
 * libFuzzer target: the bytes an MCP server writes on its stdout, as far
 * as the broker reads them without a session around. Framing, JSON-RPC
 * parsing, the fast path for plain results, the handshake checks, the
 * _meta members the broker sets, progress tokens, log levels, and writing
 * a message back.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "fuzz.h"
#include "log.h"
#include "mcp.h"
#include "scan.h"
#include "wire.h"

/* The daemon's default max_message_bytes is larger; this one is reached. */
#define FUZZ_CHILD_MAX	8192

/* The broker's token for a forwarded request's progress. */
#define FUZZ_CHILD_TOKEN	7

/* The client's id and the session meta of a fast-path result. */
#define FUZZ_CHILD_FAST_ID	"7"
#define FUZZ_CHILD_FAST_META	"{\"id\":\"x\",\"generation\":1}"

int	LLVMFuzzerInitialize(int *, char ***);
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
}

/* Everything one child might write on its stdout. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_feed(data, size, FUZZ_CHILD_MAX, fuzz_child_line, NULL);
	return (0);
}
