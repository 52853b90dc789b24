/*
 * MCP protocol features end to end: progress under the client's own
 * token, the child's requests to clients (sampling, elicitation, roots)
 * and broker/hello, what the broker declares in initialize, the child's
 * notifications, and the handshake-free 2026-07-28 generation
 * (server/discover, per-request _meta, input_required) beside the
 * initialize fallback.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* Ids for raw requests, clear of the blocking client's own 1, 2, ... */
#define RAW_ID			4000
/* What "promptly" and "quickly" mean for an answer. */
#define PROMPT_MS		1000
/* The server/discover probe waits 2 s before initialize ("auto"). */
#define DISCOVER_MIN_MS		1900
#define DISCOVER_MAX_MS		5000
/* How long the daemon's log may take to show a line. */
#define LOG_WAIT_MS		3000

#define META_VERSION		"io.modelcontextprotocol/protocolVersion"
#define META_CAPS		"io.modelcontextprotocol/clientCapabilities"
#define META_INFO		"io.modelcontextprotocol/clientInfo"
#define META_SESSION		"mcp-broker/session"

static struct daemon	*d;

static void	 setup_fake(void);
static void	 setup_upcalls(void);
static void	 setup_modern(void);
static void	 teardown(void);
static int	 is_response(cJSON *, int);
static int	 is_request(cJSON *);
static cJSON	*await_response(struct client *, int, cJSON *);
static cJSON	*await_request(struct client *, const char *);
static void	 answer_request(struct client *, cJSON *, const char *);
static void	 assert_nothing_pending(struct client *);
static cJSON	*call_tool(struct client *, const char *, const char *,
		     const char *, const char *);
static cJSON	*structured(cJSON *);
static cJSON	*member(cJSON *, const char *);
static void	 assert_json_eq(const cJSON *, const char *, const char *);
static void	 assert_progress(cJSON *, const cJSON *, int);
static void	 hello(struct client *, const char *);
static int	 asked_error_code(cJSON *);
static void	 assert_serving(struct client *, const char *, const char *);
static void	 assert_modern_session(struct client *, const char *,
		     const char *);
static void	 assert_modern_meta(struct client *, const char *,
		     const char *);
static void	 assert_input_required_round(struct client *, const char *,
		     const char *);

/* One plain fake server, "fake": nothing declared, no roots. */
static void
setup_fake(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
}

/*
 * A plain fake; "asker", declared able to sample and elicit; "rooted",
 * with two roots and sampling.
 */
static void
setup_upcalls(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"asker\":{\"command\":\"@FAKE@\",\"client_capabilities\":"
	    "{\"sampling\":{},\"elicitation\":{}}},"
	    "\"rooted\":{\"command\":\"@FAKE@\",\"roots\":[\"file:///tmp/a\","
	    "{\"uri\":\"file:///tmp/b\",\"name\":\"B\"}],"
	    "\"client_capabilities\":{\"sampling\":{}}}");
}

/* Servers of either generation under each protocol setting. */
static void
setup_modern(void)
{
	d = daemon_start("",
	    "\"modern\":{\"command\":\"@FAKE@\",\"args\":[\"--modern\"]},"
	    "\"strict\":{\"command\":\"@FAKE@\",\"args\":[\"--modern\"],"
	    "\"protocol\":\"2026-07-28\"},"
	    "\"strict_plain\":{\"command\":\"@FAKE@\","
	    "\"protocol\":\"2026-07-28\"},"
	    "\"plain\":{\"command\":\"@FAKE@\"},"
	    "\"legacy_modern\":{\"command\":\"@FAKE@\",\"args\":[\"--modern\"],"
	    "\"protocol\":\"legacy\"},"
	    "\"legacy_hang\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--discover-hang\"],\"protocol\":\"legacy\"},"
	    "\"hang\":{\"command\":\"@FAKE@\",\"args\":[\"--discover-hang\"]}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* Whether m is the response to the number id. */
static int
is_response(cJSON *m, int id)
{
	cJSON	*mid = cJSON_GetObjectItemCaseSensitive(m, "id");

	return (cJSON_GetObjectItemCaseSensitive(m, "method") == NULL &&
	    cJSON_IsNumber(mid) && mid->valuedouble == id);
}

/* Whether m is a request (a method and an id). */
static int
is_request(cJSON *m)
{
	return (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "method")) &&
	    cJSON_GetObjectItemCaseSensitive(m, "id") != NULL);
}

/*
 * Read until the response to id (returned; caller frees). Progress
 * notifications met on the way are appended to progress (if not NULL);
 * a request from the broker fails the test; anything else is skipped.
 */
static cJSON *
await_response(struct client *c, int id, cJSON *progress)
{
	cJSON	*m, *method;
	char	*text;

	for (;;) {
		m = recv_msg(c);
		if (is_response(m, id))
			return (m);
		if (is_request(m)) {
			text = cJSON_PrintUnformatted(m);
			ck_abort_msg("unexpected request from the broker while "
			    "waiting for answer %d: %s", id, text);
		}
		method = cJSON_GetObjectItemCaseSensitive(m, "method");
		if (progress != NULL && cJSON_IsString(method) &&
		    strcmp(method->valuestring, "notifications/progress") == 0)
			cJSON_AddItemToArray(progress, m);
		else
			cJSON_Delete(m);
	}
}

/*
 * Read until the broker's request for method (returned; caller frees),
 * skipping notifications; a response or another request first fails the
 * test.
 */
static cJSON *
await_request(struct client *c, const char *method)
{
	cJSON	*m, *mm;
	char	*text;

	for (;;) {
		m = recv_msg(c);
		mm = cJSON_GetObjectItemCaseSensitive(m, "method");
		if (is_request(m) && strcmp(mm->valuestring, method) == 0)
			return (m);
		if (mm == NULL || is_request(m)) {
			text = cJSON_PrintUnformatted(m);
			ck_abort_msg("expected a request %s from the broker, "
			    "got %s", method, text);
		}
		cJSON_Delete(m);
	}
}

/* Answer the broker's request req with result (JSON text). */
static void
answer_request(struct client *c, cJSON *req, const char *result)
{
	char	*id, *line;

	id = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(req,
	    "id"));
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":%s}", id,
	    result);
	send_line(c, line);
	free(line);
	free(id);
}

/*
 * Nothing else is on its way to c: a round trip now is answered before
 * any stray message (notifications/progress included) arrives.
 */
static void
assert_nothing_pending(struct client *c)
{
	cJSON	*m;
	char	*text;

	send_line(c, "{\"jsonrpc\":\"2.0\",\"id\":4999,"
	    "\"method\":\"broker/status\"}");
	m = recv_msg(c);
	text = cJSON_PrintUnformatted(m);
	ck_assert_msg(is_response(m, 4999), "a stray message before the "
	    "status answer: %s", text);
	free(text);
	cJSON_Delete(m);
}

/* tools/call on (server, thread), failing on any request the broker sends. */
static cJSON *
call_tool(struct client *c, const char *server, const char *thread,
    const char *tool, const char *args)
{
	send_call(c, RAW_ID, server, thread, tool, args, NULL);
	return (await_response(c, RAW_ID, NULL));
}

/* result.structuredContent of a response (fails if absent). */
static cJSON *
structured(cJSON *r)
{
	cJSON	*sc;

	sc = cJSON_GetObjectItemCaseSensitive(result_of(r),
	    "structuredContent");
	ck_assert_msg(cJSON_IsObject(sc), "no structuredContent");
	return (sc);
}

/* One member of an object, by its whole name (which may hold dots). */
static cJSON *
member(cJSON *o, const char *name)
{
	return (cJSON_GetObjectItemCaseSensitive(o, name));
}

/* got is the JSON value want (text), member order aside. */
static void
assert_json_eq(const cJSON *got, const char *want, const char *what)
{
	cJSON	*w;
	char	*text;

	ck_assert_msg((w = cJSON_Parse(want)) != NULL, "bad JSON in test: %s",
	    want);
	text = got != NULL ? cJSON_PrintUnformatted(got) : NULL;
	ck_assert_msg(got != NULL && cJSON_Compare(got, w, 1), "%s: expected "
	    "%s, got %s", what, want, text != NULL ? text : "nothing");
	free(text);
	cJSON_Delete(w);
}

/*
 * progress holds exactly steps notifications/progress, each under token
 * (type and value), with progress 1, 2, ... in order. Frees progress.
 */
static void
assert_progress(cJSON *progress, const cJSON *token, int steps)
{
	cJSON	*n, *params;
	char	*text;
	int	 i = 0;

	text = cJSON_PrintUnformatted(progress);
	ck_assert_msg(cJSON_GetArraySize(progress) == steps, "expected %d "
	    "progress notifications, got %s", steps, text);
	cJSON_ArrayForEach(n, progress) {
		i++;
		params = member(n, "params");
		ck_assert_msg(cJSON_Compare(member(params, "progressToken"),
		    token, 1), "progress under another token: %s", text);
		ck_assert_msg(json_number(params, "progress") == i,
		    "progress out of order: %s", text);
		ck_assert_int_eq((int)json_number(params, "total"), steps);
	}
	free(text);
	cJSON_Delete(progress);
}

/* broker/hello with capabilities (JSON text); fails unless accepted. */
static void
hello(struct client *c, const char *caps)
{
	cJSON	*r;
	char	*params;

	xasprintf(&params, "{\"capabilities\":%s}", caps);
	r = rpc(c, "broker/hello", params);
	free(params);
	result_of(r);
	cJSON_Delete(r);
}

/*
 * The error code the child got for its request to a client (a sample,
 * elicit or roots tool's structuredContent.error.code); its answer must
 * be null.
 */
static int
asked_error_code(cJSON *r)
{
	cJSON	*sc = structured(r);

	ck_assert_msg(cJSON_IsNull(member(sc, "answer")), "the child got an "
	    "answer, not an error");
	return ((int)json_number(sc, "error.code"));
}

/* The daemon is alive and (server, thread) answers a normal call. */
static void
assert_serving(struct client *c, const char *server, const char *thread)
{
	cJSON	*r;

	ck_assert_msg(daemon_alive(d), "mcp-brokerd is gone");
	r = call_tool(c, server, thread, "echo", "{\"text\":\"ok\"}");
	ck_assert_str_eq(json_string(structured(r), "text"), "ok");
	cJSON_Delete(r);
}

/*
 * A call on (server, thread) of a --modern fake works, and the session
 * shows 2026-07-28 and the serverInfo from server/discover.
 */
static void
assert_modern_session(struct client *c, const char *server,
    const char *thread)
{
	cJSON	*r, *info;

	r = call_tool(c, server, thread, "counter", NULL);
	ck_assert_int_eq((int)json_number(structured(r), "count"), 1);
	cJSON_Delete(r);

	r = session_of(c, server, thread);
	info = result_of(r);
	ck_assert_str_eq(json_string(info, "state"), "ready");
	ck_assert_str_eq(json_string(info, "protocol_version"), "2026-07-28");
	ck_assert_str_eq(json_string(info, "server_info.name"),
	    "fake-mcp-modern");
	cJSON_Delete(r);
}

/* A request to (server, thread) carried the 2026-07-28 _meta members. */
static void
assert_modern_meta(struct client *c, const char *server, const char *thread)
{
	cJSON	*r, *meta, *version, *caps, *info;

	r = call_tool(c, server, thread, "meta", NULL);
	meta = member(structured(r), "meta");
	ck_assert_msg(cJSON_IsObject(meta), "the request had no _meta");
	version = member(meta, META_VERSION);
	ck_assert_msg(cJSON_IsString(version), "no " META_VERSION);
	ck_assert_str_eq(version->valuestring, "2026-07-28");
	caps = member(meta, META_CAPS);
	ck_assert_msg(cJSON_IsObject(caps), META_CAPS " is not an object");
	info = member(meta, META_INFO);
	ck_assert_msg(cJSON_IsObject(info), META_INFO " is not an object");
	ck_assert_str_eq(json_string(info, "name"), "mcp-broker");
	cJSON_Delete(r);
}

/*
 * needs_input on (server, thread) comes back input_required verbatim
 * plus the broker's _meta; retried with inputResponses and requestState
 * it reaches the same session and completes.
 */
static void
assert_input_required_round(struct client *c, const char *server,
    const char *thread)
{
	cJSON	*r, *copy, *meta;
	char	*first;

	r = call_tool(c, server, thread, "needs_input", NULL);
	first = xstrdup(session_id_of(r));
	copy = cJSON_Duplicate(result_of(r), 1);
	meta = member(copy, "_meta");
	ck_assert_msg(cJSON_IsObject(member(meta, META_SESSION)),
	    "no _meta[\"" META_SESSION "\"]");
	cJSON_DeleteItemFromObjectCaseSensitive(meta, META_SESSION);
	ck_assert_msg(cJSON_GetArraySize(meta) == 0, "_meta holds more than "
	    "the broker's member");
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "_meta");
	assert_json_eq(copy, "{\"resultType\":\"input_required\","
	    "\"inputRequests\":{\"q1\":{\"method\":\"elicitation/create\","
	    "\"params\":{\"message\":\"Confirm?\",\"requestedSchema\":"
	    "{\"type\":\"object\",\"properties\":{}}}}},"
	    "\"requestState\":\"state-1\"}", "input_required result");
	cJSON_Delete(copy);
	cJSON_Delete(r);

	send_call(c, RAW_ID, server, thread, "needs_input", NULL,
	    "\"inputResponses\":{\"q1\":{\"action\":\"accept\","
	    "\"content\":{}}},\"requestState\":\"state-1\"");
	r = await_response(c, RAW_ID, NULL);
	ck_assert_str_eq(json_string(result_of(r), "resultType"), "complete");
	ck_assert_str_eq(json_string(cJSON_GetArrayItem(member(result_of(r),
	    "content"), 0), "text"), "confirmed");
	assert_json_eq(member(structured(r), "inputResponses"),
	    "{\"q1\":{\"action\":\"accept\",\"content\":{}}}",
	    "inputResponses the server got");
	ck_assert_str_eq(session_id_of(r), first);
	free(first);
	cJSON_Delete(r);
}

/*
 * Progress.
 */

START_TEST(test_progress_reaches_the_client_under_its_own_token)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *progress = cJSON_CreateArray(), *token, *seen;

	send_call(c, RAW_ID, "fake", "p", "progress",
	    "{\"steps\":3,\"interval_ms\":50}",
	    "\"_meta\":{\"progressToken\":\"tok-A\"}");
	r = await_response(c, RAW_ID, progress);
	token = cJSON_CreateString("tok-A");
	assert_progress(progress, token, 3);

	/* The child worked under a token of the broker's, not the client's. */
	seen = member(structured(r), "token");
	ck_assert_msg(seen != NULL && !cJSON_IsNull(seen),
	    "the child got no progress token");
	ck_assert_msg(!cJSON_Compare(seen, token, 1),
	    "the child saw the client's own token");
	cJSON_Delete(token);
	cJSON_Delete(r);
	assert_nothing_pending(c);
	client_close(c);
}
END_TEST

START_TEST(test_same_token_on_two_threads_reaches_only_its_own_client)
{
	struct client	*c1 = daemon_connect(d), *c2 = daemon_connect(d);
	cJSON		*r1, *r2, *p1 = cJSON_CreateArray(),
			*p2 = cJSON_CreateArray(), *token;

	/* Both children run at once, under the same client token. */
	send_call(c1, RAW_ID, "fake", "p1", "progress",
	    "{\"steps\":3,\"interval_ms\":50}",
	    "\"_meta\":{\"progressToken\":7}");
	send_call(c2, RAW_ID, "fake", "p2", "progress",
	    "{\"steps\":3,\"interval_ms\":50}",
	    "\"_meta\":{\"progressToken\":7}");
	r1 = await_response(c1, RAW_ID, p1);
	r2 = await_response(c2, RAW_ID, p2);

	token = cJSON_CreateNumber(7);
	assert_progress(p1, token, 3);
	assert_progress(p2, token, 3);
	ck_assert_msg(!cJSON_Compare(member(structured(r1), "token"),
	    member(structured(r2), "token"), 1),
	    "the two children got the same token");
	cJSON_Delete(token);
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	assert_nothing_pending(c1);
	assert_nothing_pending(c2);
	client_close(c1);
	client_close(c2);
}
END_TEST

START_TEST(test_numeric_and_string_tokens_keep_their_type)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *progress, *token;

	progress = cJSON_CreateArray();
	send_call(c, RAW_ID, "fake", "n", "progress",
	    "{\"steps\":2,\"interval_ms\":20}",
	    "\"_meta\":{\"progressToken\":4242}");
	r = await_response(c, RAW_ID, progress);
	token = cJSON_CreateNumber(4242);
	assert_progress(progress, token, 2);
	ck_assert_msg(!cJSON_Compare(member(structured(r), "token"), token, 1),
	    "the child saw the client's own token");
	cJSON_Delete(token);
	cJSON_Delete(r);

	progress = cJSON_CreateArray();
	send_call(c, RAW_ID, "fake", "n", "progress",
	    "{\"steps\":2,\"interval_ms\":20}",
	    "\"_meta\":{\"progressToken\":\"4242\"}");
	r = await_response(c, RAW_ID, progress);
	token = cJSON_CreateString("4242");
	assert_progress(progress, token, 2);
	cJSON_Delete(token);
	cJSON_Delete(r);
	assert_nothing_pending(c);
	client_close(c);
}
END_TEST

START_TEST(test_call_without_token_gets_no_progress)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *progress = cJSON_CreateArray();

	send_call(c, RAW_ID, "fake", "q", "progress",
	    "{\"steps\":2,\"interval_ms\":20}", NULL);
	r = await_response(c, RAW_ID, progress);
	ck_assert_int_eq(cJSON_GetArraySize(progress), 0);
	ck_assert_msg(cJSON_IsNull(member(structured(r), "token")),
	    "the broker gave the child a token nobody asked for");
	cJSON_Delete(progress);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

/*
 * broker/hello and the child's requests to clients.
 */

START_TEST(test_hello_answers_version_uid_and_admin)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *status, *res;

	status = rpc(c, "broker/status", NULL);
	r = rpc(c, "broker/hello", "{\"capabilities\":{\"sampling\":{},"
	    "\"elicitation\":{}}}");
	res = result_of(r);
	ck_assert_str_eq(json_string(res, "version"),
	    json_string(result_of(status), "version"));
	ck_assert_int_eq((long)json_number(res, "uid"), (long)getuid());
	/* The test runs as the daemon's own user, which is an admin. */
	ck_assert_msg(cJSON_IsTrue(member(res, "admin")), "admin is not true");
	cJSON_Delete(r);
	cJSON_Delete(status);

	/* Saying nothing is a valid hello too. */
	r = rpc(c, "broker/hello", "{}");
	ck_assert(cJSON_IsString(member(result_of(r), "version")));
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_hello_rejects_capabilities_not_of_the_mcp_shape)
{
	static const char *bad[] = {
		"{\"capabilities\":{\"roots\":true}}",
		"{\"capabilities\":{\"sampling\":{\"tools\":1}}}",
		"{\"capabilities\":{\"sampling\":true}}",
		"{\"capabilities\":[\"sampling\"]}",
		"{\"bogus\":{}}",
	};
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = rpc(c, "broker/hello", bad[i]);
		ck_assert_msg(error_code(r) == -32602, "%s: expected -32602, "
		    "got %d", bad[i], error_code(r));
		cJSON_Delete(r);
	}
	client_close(c);
}
END_TEST

START_TEST(test_rejected_hello_opts_in_to_nothing)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = rpc(c, "broker/hello",
	    "{\"capabilities\":{\"sampling\":{},\"bogus\":true}}");
	ck_assert_int_eq(error_code(r), -32602);
	cJSON_Delete(r);
	r = call_tool(c, "asker", "s", "sample", NULL);
	ck_assert_int_eq(asked_error_code(r), -32601);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_sampling_request_reaches_the_client_and_its_answer_the_child)
{
	static const char answer[] = "{\"role\":\"assistant\",\"content\":"
	    "{\"type\":\"text\",\"text\":\"hi\"},\"model\":\"m\"}";
	struct client	*c = daemon_connect(d);
	cJSON		*req, *params, *meta, *r, *sc;
	char		*sid;

	hello(c, "{\"sampling\":{}}");
	send_call(c, RAW_ID, "asker", "s", "sample", NULL, NULL);
	req = await_request(c, "sampling/createMessage");

	/* Under an id of the broker's, the child's params, and who asks. */
	ck_assert_msg(cJSON_IsNumber(member(req, "id")),
	    "the request's id is not the broker's (a number)");
	params = member(req, "params");
	ck_assert_int_eq((int)json_number(params, "maxTokens"), 10);
	ck_assert_str_eq(json_string(cJSON_GetArrayItem(member(params,
	    "messages"), 0), "content.text"), "hello from fake-mcp");
	meta = member(member(params, "_meta"), META_SESSION);
	ck_assert_msg(cJSON_IsObject(meta), "no params._meta[\"" META_SESSION
	    "\"]");
	ck_assert_str_eq(json_string(meta, "server"), "asker");
	ck_assert_str_eq(json_string(meta, "thread"), "s");
	sid = xstrdup(json_string(meta, "id"));

	answer_request(c, req, answer);
	cJSON_Delete(req);
	r = await_response(c, RAW_ID, NULL);
	sc = structured(r);
	assert_json_eq(member(sc, "answer"), answer, "what the child got");
	ck_assert(cJSON_IsNull(member(sc, "error")));
	ck_assert_str_eq(session_id_of(r), sid);
	free(sid);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_elicitation_request_reaches_the_client_and_its_answer_the_child)
{
	static const char answer[] = "{\"action\":\"accept\",\"content\":"
	    "{\"name\":\"Ada\"}}";
	struct client	*c = daemon_connect(d);
	cJSON		*req, *params, *meta, *r, *sc;

	hello(c, "{\"elicitation\":{}}");
	send_call(c, RAW_ID, "asker", "e", "elicit", NULL, NULL);
	req = await_request(c, "elicitation/create");
	ck_assert_msg(cJSON_IsNumber(member(req, "id")),
	    "the request's id is not the broker's (a number)");
	params = member(req, "params");
	ck_assert_str_eq(json_string(params, "message"), "Your name?");
	meta = member(member(params, "_meta"), META_SESSION);
	ck_assert_msg(cJSON_IsObject(meta), "no params._meta[\"" META_SESSION
	    "\"]");
	ck_assert_str_eq(json_string(meta, "server"), "asker");
	ck_assert_str_eq(json_string(meta, "thread"), "e");

	answer_request(c, req, answer);
	cJSON_Delete(req);
	r = await_response(c, RAW_ID, NULL);
	sc = structured(r);
	assert_json_eq(member(sc, "answer"), answer, "what the child got");
	ck_assert(cJSON_IsNull(member(sc, "error")));
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_sampling_without_hello_is_method_not_found)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = call_tool(c, "asker", "s", "sample", NULL);
	ck_assert_int_eq(asked_error_code(r), -32601);
	cJSON_Delete(r);
	r = call_tool(c, "asker", "s", "elicit", NULL);
	ck_assert_int_eq(asked_error_code(r), -32601);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_elicitation_needs_elicitation_in_hello)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	hello(c, "{\"sampling\":{}}");
	r = call_tool(c, "asker", "e", "elicit", NULL);
	ck_assert_int_eq(asked_error_code(r), -32601);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_sampling_not_configured_is_method_not_found)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	hello(c, "{\"sampling\":{},\"elicitation\":{}}");
	r = call_tool(c, "fake", "s", "sample", NULL);
	ck_assert_int_eq(asked_error_code(r), -32601);
	cJSON_Delete(r);
	r = call_tool(c, "fake", "s", "elicit", NULL);
	ck_assert_int_eq(asked_error_code(r), -32601);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_roots_are_answered_from_the_config)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *sc;

	r = call_tool(c, "rooted", "r", "roots", NULL);
	sc = structured(r);
	assert_json_eq(member(sc, "answer"), "{\"roots\":["
	    "{\"uri\":\"file:///tmp/a\"},"
	    "{\"uri\":\"file:///tmp/b\",\"name\":\"B\"}]}", "roots/list answer");
	ck_assert(cJSON_IsNull(member(sc, "error")));
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_roots_not_configured_is_method_not_found)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = call_tool(c, "fake", "r", "roots", NULL);
	ck_assert_int_eq(asked_error_code(r), -32601);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_initialize_declares_nothing_by_default)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *sc;

	r = call_tool(c, "fake", "k", "client_caps", NULL);
	sc = structured(r);
	assert_json_eq(member(sc, "capabilities"), "{}", "capabilities");
	ck_assert_str_eq(json_string(sc, "clientInfo.name"), "mcp-broker");
	ck_assert_str_eq(json_string(sc, "protocolVersion"), "2025-11-25");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_initialize_declares_configured_roots_and_capabilities)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *sc;

	r = call_tool(c, "rooted", "k", "client_caps", NULL);
	sc = structured(r);
	assert_json_eq(member(sc, "capabilities"),
	    "{\"roots\":{},\"sampling\":{}}", "capabilities of rooted");
	ck_assert_str_eq(json_string(sc, "clientInfo.name"), "mcp-broker");
	ck_assert_str_eq(json_string(sc, "protocolVersion"), "2025-11-25");
	cJSON_Delete(r);

	r = call_tool(c, "asker", "k", "client_caps", NULL);
	assert_json_eq(member(structured(r), "capabilities"),
	    "{\"sampling\":{},\"elicitation\":{}}", "capabilities of asker");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_client_leaving_while_asked_fails_the_childs_request)
{
	struct client	*c1 = daemon_connect(d), *c2 = daemon_connect(d);
	cJSON		*r, *req;
	long		 t0, elapsed;

	/*
	 * c1 opted in and has a request queued behind c2's sample, so the
	 * child's sampling request goes to c1 and c2 waits for the tool.
	 */
	hello(c1, "{\"sampling\":{}}");
	r = call_tool(c1, "asker", "g", "counter", NULL);
	cJSON_Delete(r);
	send_call(c1, RAW_ID, "asker", "g", "sleep", "{\"ms\":700}", NULL);
	sleep_ms(150);
	send_call(c2, RAW_ID, "asker", "g", "sample", NULL, NULL);
	sleep_ms(150);
	send_call(c1, RAW_ID + 1, "asker", "g", "counter", NULL, NULL);
	cJSON_Delete(await_response(c1, RAW_ID, NULL));
	req = await_request(c1, "sampling/createMessage");
	cJSON_Delete(req);

	t0 = now_ms();
	client_close(c1);
	r = await_response(c2, RAW_ID, NULL);
	elapsed = now_ms() - t0;
	ck_assert_int_eq(asked_error_code(r), -32603);
	ck_assert_msg(elapsed < PROMPT_MS, "the child's request was failed "
	    "only after %ld ms", elapsed);
	cJSON_Delete(r);
	assert_serving(c2, "asker", "g");
	client_close(c2);
}
END_TEST

/*
 * The child's notifications.
 */

START_TEST(test_child_notifications_are_counted_and_logged)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *notes;

	r = call_tool(c, "fake", "notes-thread", "notify_changes", NULL);
	ck_assert(cJSON_IsTrue(member(structured(r), "ok")));
	cJSON_Delete(r);

	r = session_of(c, "fake", "notes-thread");
	notes = member(result_of(r), "notifications");
	ck_assert_msg(cJSON_IsObject(notes), "no notifications object");
	ck_assert_int_eq((int)json_number(notes, "tools/list_changed"), 1);
	ck_assert_int_eq((int)json_number(notes, "resources/list_changed"), 1);
	ck_assert_int_eq((int)json_number(notes, "prompts/list_changed"), 1);
	ck_assert_int_eq((int)json_number(notes, "resources/updated"), 1);
	ck_assert_int_eq((int)json_number(notes, "message"), 1);
	cJSON_Delete(r);

	if (!wait_log(d, LOG_WAIT_MS, "fake", "notes-thread",
	    "something to log", NULL)) {
		daemon_dump_log(d);
		ck_abort_msg("no log line with the server, the thread and the "
		    "message");
	}
	client_close(c);
}
END_TEST

/*
 * 2026-07-28 and the handshake fallback.
 */

START_TEST(test_auto_serves_a_modern_server_without_handshake)
{
	struct client	*c = daemon_connect(d);

	assert_modern_session(c, "modern", "m");
	client_close(c);
}
END_TEST

START_TEST(test_modern_requests_carry_the_protocol_meta)
{
	struct client	*c = daemon_connect(d);

	assert_modern_meta(c, "modern", "m");
	client_close(c);
}
END_TEST

START_TEST(test_input_required_passes_verbatim_and_retry_reaches_the_session)
{
	struct client	*c = daemon_connect(d);

	assert_input_required_round(c, "modern", "i");
	client_close(c);
}
END_TEST

START_TEST(test_protocol_2026_07_28_serves_a_modern_server)
{
	struct client	*c = daemon_connect(d);

	assert_modern_session(c, "strict", "s");
	assert_modern_meta(c, "strict", "s");
	assert_input_required_round(c, "strict", "s");
	client_close(c);
}
END_TEST

START_TEST(test_protocol_2026_07_28_refuses_a_handshake_server)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = call_tool(c, "strict_plain", "s", "counter", NULL);
	ck_assert_int_eq(error_code(r), -32011);
	ck_assert_str_eq(json_string(error_data(r), "server"), "strict_plain");
	ck_assert_str_eq(json_string(error_data(r), "thread"), "s");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_auto_negotiates_the_handshake_with_a_legacy_server_quickly)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	long		 t0, elapsed;

	t0 = now_ms();
	r = call_tool(c, "plain", "a", "counter", NULL);
	elapsed = now_ms() - t0;
	ck_assert_int_eq((int)json_number(structured(r), "count"), 1);
	ck_assert_msg(elapsed < PROMPT_MS, "first answer after %ld ms",
	    elapsed);
	cJSON_Delete(r);

	r = session_of(c, "plain", "a");
	ck_assert_str_eq(json_string(result_of(r), "protocol_version"),
	    "2025-11-25");
	ck_assert_str_eq(json_string(result_of(r), "server_info.name"),
	    "fake-mcp");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_legacy_refused_by_a_modern_server_is_start_failed)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	char		*text;

	/* Had server/discover gone out, this server would have answered. */
	r = call_tool(c, "legacy_modern", "l", "counter", NULL);
	text = cJSON_PrintUnformatted(r);
	ck_assert_msg(error_code(r) == -32011, "expected -32011, got %s",
	    text);
	ck_assert_msg(tail_has(member(error_data(r), "stderr_tail"),
	    "refusing initialize"), "initialize was not refused: %s", text);
	free(text);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_legacy_sends_no_discover)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	long		 t0, elapsed;

	t0 = now_ms();
	r = call_tool(c, "legacy_hang", "l", "counter", NULL);
	elapsed = now_ms() - t0;
	ck_assert_int_eq((int)json_number(structured(r), "count"), 1);
	ck_assert_msg(elapsed < PROMPT_MS, "first answer after %ld ms",
	    elapsed);
	cJSON_Delete(r);

	r = session_of(c, "legacy_hang", "l");
	ck_assert_str_eq(json_string(result_of(r), "protocol_version"),
	    "2025-11-25");
	ck_assert_msg(!tail_has(member(result_of(r), "stderr_tail"),
	    "not answering server/discover"), "server/discover was sent");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_auto_falls_back_to_initialize_after_the_probe_timeout)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	long		 t0, elapsed;

	t0 = now_ms();
	r = call_tool(c, "hang", "h", "counter", NULL);
	elapsed = now_ms() - t0;
	ck_assert_int_eq((int)json_number(structured(r), "count"), 1);
	ck_assert_msg(elapsed >= DISCOVER_MIN_MS, "first answer after only "
	    "%ld ms: the probe was not waited for", elapsed);
	ck_assert_msg(elapsed < DISCOVER_MAX_MS, "first answer after %ld ms",
	    elapsed);
	cJSON_Delete(r);

	r = session_of(c, "hang", "h");
	ck_assert_str_eq(json_string(result_of(r), "protocol_version"),
	    "2025-11-25");
	ck_assert_msg(tail_has(member(result_of(r), "stderr_tail"),
	    "not answering server/discover"), "server/discover was not sent");
	cJSON_Delete(r);
	assert_serving(c, "hang", "h");
	client_close(c);
}
END_TEST

static Suite *
protocol_suite(void)
{
	Suite	*s = suite_create("protocol");
	TCase	*tc;

	tc = harness_add_tcase(s, "progress", setup_fake, teardown, 90);
	tcase_add_test(tc, test_progress_reaches_the_client_under_its_own_token);
	tcase_add_test(tc,
	    test_same_token_on_two_threads_reaches_only_its_own_client);
	tcase_add_test(tc, test_numeric_and_string_tokens_keep_their_type);
	tcase_add_test(tc, test_call_without_token_gets_no_progress);

	tc = harness_add_tcase(s, "requests to clients", setup_upcalls,
	    teardown, 90);
	tcase_add_test(tc, test_hello_answers_version_uid_and_admin);
	tcase_add_test(tc,
	    test_hello_rejects_capabilities_not_of_the_mcp_shape);
	tcase_add_test(tc, test_rejected_hello_opts_in_to_nothing);
	tcase_add_test(tc,
	    test_sampling_request_reaches_the_client_and_its_answer_the_child);
	tcase_add_test(tc,
	    test_elicitation_request_reaches_the_client_and_its_answer_the_child);
	tcase_add_test(tc, test_sampling_without_hello_is_method_not_found);
	tcase_add_test(tc, test_elicitation_needs_elicitation_in_hello);
	tcase_add_test(tc, test_sampling_not_configured_is_method_not_found);
	tcase_add_test(tc, test_roots_are_answered_from_the_config);
	tcase_add_test(tc, test_roots_not_configured_is_method_not_found);
	tcase_add_test(tc, test_initialize_declares_nothing_by_default);
	tcase_add_test(tc,
	    test_initialize_declares_configured_roots_and_capabilities);
	tcase_add_test(tc,
	    test_client_leaving_while_asked_fails_the_childs_request);

	tc = harness_add_tcase(s, "notifications", setup_fake, teardown, 90);
	tcase_add_test(tc, test_child_notifications_are_counted_and_logged);

	tc = harness_add_tcase(s, "2026-07-28", setup_modern, teardown, 90);
	tcase_add_test(tc, test_auto_serves_a_modern_server_without_handshake);
	tcase_add_test(tc, test_modern_requests_carry_the_protocol_meta);
	tcase_add_test(tc,
	    test_input_required_passes_verbatim_and_retry_reaches_the_session);
	tcase_add_test(tc, test_protocol_2026_07_28_serves_a_modern_server);
	tcase_add_test(tc, test_protocol_2026_07_28_refuses_a_handshake_server);
	tcase_add_test(tc,
	    test_auto_negotiates_the_handshake_with_a_legacy_server_quickly);
	tcase_add_test(tc,
	    test_legacy_refused_by_a_modern_server_is_start_failed);
	tcase_add_test(tc, test_legacy_sends_no_discover);
	tcase_add_test(tc,
	    test_auto_falls_back_to_initialize_after_the_probe_timeout);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(protocol_suite()));
}
