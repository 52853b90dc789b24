/*
 * libFuzzer target: the bytes a client writes to the broker's socket, up
 * to the point where a request is routed. Framing with a small cap,
 * JSON-RPC parsing, the routing members and broker/ method params,
 * stripping the routing members, and writing a message back; and the fast
 * path for forwarded requests (scan_request, dispatch_forward_text)
 * against all that. Ids kept are the ids as written, a refusal keeps
 * every id it could read, an accepted name follows the name rule on both
 * paths alike, and the line the child gets holds every number of the
 * params byte for byte.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "fuzz.h"
#include "route.h"
#include "scan.h"
#include "wire.h"

/* Small, so lines over the cap are easy to reach. */
#define FUZZ_CLIENT_MAX	4096

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_client_route(const struct jsonrpc_msg *);
static void	fuzz_client_forward(const struct jsonrpc_msg *,
		    const struct route *);
static cJSON	*fuzz_client_fast_id(const struct scan_request *);
static char	*fuzz_client_child_line(const struct scan_request *,
		    size_t *);
static void	fuzz_client_same(const char *, const cJSON *, const cJSON *,
		    const char *, size_t);
static void	fuzz_client_fast(const char *, size_t);
static void	fuzz_client_line(const char *, size_t, void *);

/* cJSON allocates through xmalloc, as in the daemon. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmalloc_cjson_hooks();
	return (0);
}

/*
 * Route a request or notification as the broker would, and strip the
 * routing members from a copy of the params of a forwarded one.
 */
static void
fuzz_client_route(const struct jsonrpc_msg *msg)
{
	static const char *const server_path[] = { "params", "server", NULL };
	struct route		 route;
	struct route_fault	 fault;
	struct scan_member	 m;
	cJSON			*params;
	char			 buf[ROUTE_SERVER_MAX + 1];
	size_t			 n;

	/* The name rule is checked on the text first, as dispatch does. */
	if (route_check_names(msg->line, msg->line_len, &fault) != 0) {
		FUZZ_CHECK(fault.code == RPC_INVALID_PARAMS);
		return;
	}
	if (route_parse(msg->method, msg->params, &route, &fault) != 0) {
		FUZZ_CHECK(fault.code == RPC_METHOD_NOT_FOUND ||
		    fault.code == RPC_INVALID_PARAMS);
		FUZZ_CHECK(memchr(fault.message, '\0',
		    sizeof fault.message) != NULL);
		return;
	}
	/* An accepted name is valid UTF-8 without control characters, and
	   the tree's copy is the whole name the text decodes to. */
	if (route.server != NULL) {
		FUZZ_CHECK(route_check_name("server", route.server,
		    strlen(route.server), 0, &fault) == 0);
		FUZZ_CHECK(scan_path(msg->line, msg->line_len, server_path,
		    &m) == 0);
		scan_string_decode(m.value.p, m.value.len, buf, sizeof buf,
		    &n);
		FUZZ_CHECK(n == strlen(route.server) &&
		    memcmp(buf, route.server, n) == 0);
	}
	if (route.thread != NULL)
		FUZZ_CHECK(route_check_name("thread", route.thread,
		    strlen(route.thread), 0, &fault) == 0);
	if (route.method != ROUTE_FORWARD)
		return;
	fuzz_client_forward(msg, &route);

	FUZZ_CHECK(route.server != NULL && *route.server != '\0');
	FUZZ_CHECK(route.thread != NULL && *route.thread != '\0');
	FUZZ_CHECK(strlen(route.thread) <= ROUTE_THREAD_MAX);
	FUZZ_CHECK(route.timeout_ms >= 0 &&
	    route.timeout_ms <= ROUTE_TIMEOUT_MAX_MS);
	FUZZ_CHECK(route.progress_token == NULL ||
	    cJSON_IsString(route.progress_token) ||
	    cJSON_IsNumber(route.progress_token));

	FUZZ_CHECK((params = cJSON_Duplicate(msg->params, 1)) != NULL);
	route_strip(params);
	/* The child never sees the routing members. */
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(params, "server") == NULL);
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(params, "thread") == NULL);
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(params,
	    "timeout_ms") == NULL);
	cJSON_Delete(params);
}

/*
 * The full path's line for the child (dispatch_tail, then the session's
 * {"jsonrpc":"2.0","id":7 in front): one line jsonrpc_parse accepts, a
 * request for the same method without the routing members, and every
 * number of the client's params in it byte for byte.
 */
static void
fuzz_client_forward(const struct jsonrpc_msg *msg, const struct route *route)
{
	static const char *const path[] = { "params", "_meta",
					    "progressToken", NULL };
	static const char *const names[] = { "server", "thread",
					     "timeout_ms" };
	const struct wire_edit	 e[] = {
		{ WIRE_DELETE, { "jsonrpc", NULL }, NULL, 0 },
		{ WIRE_DELETE, { "id", NULL }, NULL, 0 },
		{ WIRE_DELETE, { "params", "server", NULL }, NULL, 0 },
		{ WIRE_DELETE, { "params", "thread", NULL }, NULL, 0 },
		{ WIRE_DELETE, { "params", "timeout_ms", NULL }, NULL, 0 },
		{ WIRE_SET, { "params", "_meta", "progressToken", NULL },
		    "77", 2 },
	};
	struct scan_member	 params, m;
	struct scan_span	 skip[4];
	struct jsonrpc_msg	 sent;
	struct jsonrpc_fault	 fault;
	char			*tail, *line, *end;
	size_t			 len, i;

	tail = wire_rewrite(msg->line, msg->line_len, e, route->progress_token
	    != NULL ? 6 : 5, 1, &len);
	FUZZ_CHECK(tail != NULL && len >= 2 && tail[len - 1] == '\n');
	FUZZ_CHECK(memchr(tail, '\n', len - 1) == NULL);
	tail[0] = ',';
	line = xmalloc(wire_request_size(len));
	end = wire_request_fill(line, 7, tail, len);
	if (jsonrpc_parse(line, (size_t)(end - line) - 1, &sent, &fault) != 0) {
		fprintf(stderr, "the full path sent the child a line it "
		    "refuses (%s): %.*s", fault.message, (int)(end - line),
		    line);
		abort();
	}
	FUZZ_CHECK(sent.kind == JSONRPC_REQUEST);
	FUZZ_CHECK(strcmp(sent.method, msg->method) == 0);
	FUZZ_CHECK(sent.id_len == 1 && *sent.id_text == '7');
	for (i = 0; i < 3; i++)
		FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(sent.params,
		    names[i]) == NULL);

	FUZZ_CHECK(scan_find(msg->line, msg->line_len, "params", &params) ==
	    0);
	memset(skip, 0, sizeof skip);
	for (i = 0; i < 3; i++) {
		if (scan_find(params.value.p, params.value.len, names[i],
		    &m) == 0)
			skip[i] = m.value;
	}
	if (route->progress_token != NULL &&
	    scan_path(msg->line, msg->line_len, path, &m) == 0)
		skip[3] = m.value;
	fuzz_check_numbers(params.value.p, params.value.len, skip, 4, line,
	    (size_t)(end - line));
	jsonrpc_msg_clear(&sent);
	free(line);
	free(tail);
}

/* The id broker_forward_text keeps for the client's answer. */
static cJSON *
fuzz_client_fast_id(const struct scan_request *rq)
{
	cJSON	*id = scan_request_id(rq);

	FUZZ_CHECK(id != NULL);
	return (id);
}

/*
 * The line broker_forward_text has the child sent, 7 for the child's id:
 * wire_request_fill() of wire_request_tail(), {"jsonrpc":"2.0","id":7
 * then ,"method":M,"params":{ the members other than server and thread
 * joined by "," and }}\n. The caller frees it.
 */
static char *
fuzz_client_child_line(const struct scan_request *rq, size_t *len)
{
	char	*line, *tail, *end;
	size_t	 tail_len, cap;

	tail = wire_request_tail(rq, &tail_len);
	FUZZ_CHECK(tail_len == wire_request_tail_size(rq));
	cap = wire_request_size(tail_len);
	line = xmalloc(cap);
	end = wire_request_fill(line, 7, tail, tail_len);
	free(tail);
	*len = (size_t)(end - line);
	FUZZ_CHECK(*len <= cap);
	return (line);
}

/*
 * a and b must print alike (members in the same order): linear, unlike
 * cJSON_Compare on deep trees. Else abort, saying what and where.
 */
static void
fuzz_client_same(const char *what, const cJSON *a, const cJSON *b,
    const char *line, size_t len)
{
	char	*ta, *tb;

	ta = fuzz_print(a);
	tb = fuzz_print(b);
	if (strcmp(ta, tb) != 0) {
		fprintf(stderr, "fast path: %s %s, full path %s, for %.*s\n",
		    what, ta, tb, (int)len, line);
		abort();
	}
	free(ta);
	free(tb);
}

/*
 * The fast path for a forwarded request (conn_line, broker_forward_text):
 * a line scan_request takes must be a request jsonrpc_parse reads with
 * the same method and id, that route_parse forwards to the same server
 * and thread with nothing to rewrite (or refuses, where the daemon
 * declines the fast path: an empty server or thread, a thread too long);
 * and the child's line must be {"jsonrpc":"2.0","id":7,"method":M,
 * "params":P}, P the params after route_strip, members in their order.
 */
static void
fuzz_client_fast(const char *line, size_t len)
{
	struct scan_request	 rq;
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;
	struct route		 route;
	struct route_fault	 rfault;
	const cJSON		*item;
	cJSON			*tree, *id, *params;
	const char		*end;
	char			*text;
	size_t			 i, n;
	int			 routed;

	if (scan_request(line, len, &rq) != 0)
		return;
	FUZZ_CHECK(rq.id != NULL && rq.id >= line && rq.id_len > 0 &&
	    rq.id + rq.id_len <= line + len);
	FUZZ_CHECK(rq.method != NULL && rq.method >= line &&
	    rq.method_len >= 3 && rq.method + rq.method_len <= line + len);
	FUZZ_CHECK(rq.server != NULL && rq.server >= line &&
	    rq.server + rq.server_len <= line + len);
	FUZZ_CHECK(rq.thread != NULL && rq.thread >= line &&
	    rq.thread + rq.thread_len <= line + len);
	FUZZ_CHECK(rq.nmembers >= 2 && rq.nmembers <= SCAN_MAX_KEYS);
	for (i = 0; i < rq.nmembers; i++) {
		FUZZ_CHECK(rq.key[i] >= line && rq.key[i] < line + len &&
		    *rq.key[i] == '"');
		FUZZ_CHECK(rq.member[i] == NULL || (rq.member[i] == rq.key[i] &&
		    rq.member[i] + rq.member_len[i] <= line + len));
	}

	if (jsonrpc_parse(line, len, &msg, &fault) != 0) {
		fprintf(stderr, "scan_request took a line jsonrpc_parse "
		    "refuses (%d %s)\n", fault.code, fault.message);
		abort();
	}
	FUZZ_CHECK(msg.kind == JSONRPC_REQUEST);
	FUZZ_CHECK(strlen(msg.method) == rq.method_len - 2 &&
	    memcmp(msg.method, rq.method + 1, rq.method_len - 2) == 0);
	id = fuzz_client_fast_id(&rq);
	cJSON_Delete(id);
	/* Both paths keep the id as the client wrote it. */
	FUZZ_CHECK(msg.id_len == rq.id_len &&
	    memcmp(msg.id_text, rq.id, rq.id_len) == 0);

	routed = route_check_names(line, len, &rfault) == 0 &&
	    route_parse(msg.method, msg.params, &route, &rfault) == 0;
	if (route_check_name("server", rq.server, rq.server_len, 0,
	    &rfault) != 0 || route_check_name("thread", rq.thread,
	    rq.thread_len, 0, &rfault) != 0) {
		/* dispatch_forward_text declines: the full path refuses. */
		FUZZ_CHECK(!routed);
		jsonrpc_msg_clear(&msg);
		return;
	}
	FUZZ_CHECK(routed);
	FUZZ_CHECK(route.method == ROUTE_FORWARD);
	FUZZ_CHECK(strlen(route.server) == rq.server_len &&
	    memcmp(route.server, rq.server, rq.server_len) == 0);
	FUZZ_CHECK(strlen(route.thread) == rq.thread_len &&
	    memcmp(route.thread, rq.thread, rq.thread_len) == 0);
	FUZZ_CHECK(route.timeout_ms == 0 && route.progress_token == NULL);

	/* The child's line: one JSON value, then the only newline. */
	text = fuzz_client_child_line(&rq, &n);
	FUZZ_CHECK(memchr(text, '\n', n - 1) == NULL);
	if ((tree = cJSON_ParseWithLengthOpts(text, n, &end, 0)) == NULL) {
		fprintf(stderr, "the fast path sent the child a line that "
		    "is not JSON: %.*s", (int)n, text);
		abort();
	}
	FUZZ_CHECK(end == text + n - 1);
	FUZZ_CHECK(cJSON_IsObject(tree));
	item = tree->child;
	FUZZ_CHECK(item != NULL && strcmp(item->string, "jsonrpc") == 0 &&
	    cJSON_IsString(item) && strcmp(item->valuestring, "2.0") == 0);
	item = item->next;
	FUZZ_CHECK(item != NULL && strcmp(item->string, "id") == 0 &&
	    cJSON_IsNumber(item) && item->valuedouble == 7);
	item = item->next;
	FUZZ_CHECK(item != NULL && strcmp(item->string, "method") == 0 &&
	    cJSON_IsString(item) && strcmp(item->valuestring,
	    msg.method) == 0);
	item = item->next;
	FUZZ_CHECK(item != NULL && strcmp(item->string, "params") == 0 &&
	    cJSON_IsObject(item) && item->next == NULL);
	FUZZ_CHECK((params = cJSON_Duplicate(msg.params, 1)) != NULL);
	route_strip(params);
	fuzz_client_same("params", item, params, line, len);
	cJSON_Delete(params);
	cJSON_Delete(tree);
	free(text);
	jsonrpc_msg_clear(&msg);
}

/* One line: the fast path; then parse it, route it, write it back. */
static void
fuzz_client_line(const char *line, size_t len, void *arg)
{
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;

	(void)arg;
	fuzz_client_fast(line, len);
	if (jsonrpc_parse(line, len, &msg, &fault) != 0) {
		FUZZ_CHECK(fault.code == RPC_PARSE_ERROR ||
		    fault.code == RPC_INVALID_REQUEST);
		FUZZ_CHECK(fault.id == NULL || jsonrpc_id_valid(fault.id));
		fuzz_check_id(line, len, fault.id != NULL ?
		    fault.id->valuestring : NULL, fault.id != NULL ?
		    strlen(fault.id->valuestring) : 0);
		jsonrpc_fault_clear(&fault);
		return;
	}
	if (msg.kind == JSONRPC_REQUEST || msg.kind == JSONRPC_NOTIFICATION)
		fuzz_client_route(&msg);
	fuzz_check_id(line, len, msg.id_text, msg.id_len);
	fuzz_check_rewrite(&msg);
	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
}

/* Everything one client connection might send. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_feed(data, size, FUZZ_CLIENT_MAX, fuzz_client_line, NULL);
	return (0);
}
