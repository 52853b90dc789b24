/*
 * A child's requests to clients go to a client that can answer them,
 * chosen in a stated order; what follows such a request (the client's
 * progress, the child's notifications/elicitation/complete) finds its
 * way; a 2026-07-28 client's own capabilities reach a modern child;
 * errors name their session; ping to a modern child is the broker's to
 * answer; and the server/discover probe follows the spec's stdio rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

#define META_SESSION	"mcp-broker/session"
#define META_CAPS	"io.modelcontextprotocol/clientCapabilities"
#define META_INFO	"io.modelcontextprotocol/clientInfo"
#define ASK_ID		61
#define STUCK_ID	62

/* A sampling request with tools, written by the child as it is. */
#define SAMPLE_TOOLS	"{\"jsonrpc\":\"2.0\",\"id\":\"raw-1\"," \
			"\"method\":" \
			"\"sampling/createMessage\",\"params\":{\"messages\":" \
			"[],\"maxTokens\":5,\"tools\":[{\"name\":\"t\"," \
			"\"inputSchema\":{\"type\":\"object\"}}]}}"
#define SAMPLE_PLAIN	"{\"jsonrpc\":\"2.0\",\"id\":\"raw-1\"," \
			"\"method\":" \
			"\"sampling/createMessage\",\"params\":{\"messages\":" \
			"[],\"maxTokens\":5}}"
#define ELICIT_URL	"{\"jsonrpc\":\"2.0\",\"id\":\"raw-1\",\"method\":" \
			"\"elicitation/create\",\"params\":{\"mode\":\"url\"," \
			"\"elicitationId\":\"el-7\",\"url\":" \
			"\"https://example.org/auth\",\"message\":\"Sign in\"}}"
#define ELICIT_FORM	"{\"jsonrpc\":\"2.0\",\"id\":\"raw-1\",\"method\":" \
			"\"elicitation/create\",\"params\":{\"message\":" \
			"\"Name?\",\"requestedSchema\":{\"type\":\"object\"," \
			"\"properties\":{}}}}"
#define COMPLETE_EL7	"{\"jsonrpc\":\"2.0\",\"method\":" \
			"\"notifications/elicitation/complete\",\"params\":" \
			"{\"elicitationId\":\"el-7\"}}"

static struct daemon	*d;

static void
setup(void)
{
	d = daemon_start("",
	    "\"asker\":{\"command\":\"@FAKE@\",\"client_capabilities\":"
	    "{\"sampling\":{\"tools\":{}},\"elicitation\":{\"form\":{},"
	    "\"url\":{}}}},"
	    "\"plain\":{\"command\":\"@FAKE@\"},"
	    "\"modern\":{\"command\":\"@FAKE@\",\"args\":[\"--modern\"]},"
	    "\"modern_rooted\":{\"command\":\"@FAKE@\",\"args\":[\"--modern\"],"
	    "\"roots\":[\"file:///tmp/a\"]},"
	    "\"future\":{\"command\":\"@FAKE@\",\"args\":"
	    "[\"--discover-future\"]},"
	    "\"reserved\":{\"command\":\"@FAKE@\",\"args\":"
	    "[\"--discover-reserved\"]}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
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

/* One member of an object, by its whole name (which may hold dots). */
static cJSON *
member(cJSON *o, const char *name)
{
	return (cJSON_GetObjectItemCaseSensitive(o, name));
}

/* Whether m is the response to the number id. */
static int
is_response(cJSON *m, int id)
{
	cJSON	*mid = member(m, "id");

	return (member(m, "method") == NULL && cJSON_IsNumber(mid) &&
	    mid->valuedouble == id);
}

/* Read until the response to id (caller frees); others are skipped. */
static cJSON *
await_response(struct client *c, int id)
{
	cJSON	*m;

	for (;;) {
		m = recv_msg(c);
		if (is_response(m, id))
			return (m);
		cJSON_Delete(m);
	}
}

/* Read the next message: it must be the broker's request for method. */
static cJSON *
await_request(struct client *c, const char *method)
{
	cJSON	*m;
	char	*text;

	m = recv_msg(c);
	text = cJSON_PrintUnformatted(m);
	ck_assert_msg(cJSON_IsString(member(m, "method")) &&
	    strcmp(member(m, "method")->valuestring, method) == 0 &&
	    member(m, "id") != NULL, "expected a request %s, got %s", method,
	    text);
	free(text);
	return (m);
}

/* Answer the broker's request req with result (JSON text). */
static void
answer_request(struct client *c, cJSON *req, const char *result)
{
	char	*id, *line;

	id = cJSON_PrintUnformatted(member(req, "id"));
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":%s}", id,
	    result);
	send_line(c, line);
	free(line);
	free(id);
}

/* Send raw_ask of line (the child's request as text) under ASK_ID. */
static void
send_ask(struct client *c, const char *server, const char *thread,
    const char *line)
{
	cJSON	*args;
	char	*text;

	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "line", line);
	text = cJSON_PrintUnformatted(args);
	send_call(c, ASK_ID, server, thread, "raw_ask", text, NULL);
	free(text);
	cJSON_Delete(args);
}

/* The text raw_ask answered with: the client's answer as the child read
   it (the caller frees the response it is in). */
static const char *
asked_answer(cJSON *r)
{
	cJSON	*text;

	text = member(cJSON_GetArrayItem(member(result_of(r), "content"), 0),
	    "text");
	ck_assert_msg(cJSON_IsString(text), "raw_ask answered no text");
	return (text->valuestring);
}

/*
 * The child's request line goes to nobody on (server, thread) for c: the
 * child gets -32601 naming the capability missing.
 */
static void
assert_refused(struct client *c, const char *thread, const char *line,
    const char *capability)
{
	cJSON		*r;
	const char	*text;

	send_ask(c, "asker", thread, line);
	r = await_response(c, ASK_ID);
	text = asked_answer(r);
	ck_assert_msg(strstr(text, "-32601") != NULL, "not refused: %s", text);
	ck_assert_msg(strstr(text, capability) != NULL, "the refusal does "
	    "not name %s: %s", capability, text);
	cJSON_Delete(r);
}

/* The child's request line reaches c, whose answer reaches the child. */
static void
assert_asked(struct client *c, const char *thread, const char *line,
    const char *method)
{
	cJSON	*req, *r;

	send_ask(c, "asker", thread, line);
	req = await_request(c, method);
	answer_request(c, req, "{\"action\":\"decline\"}");
	cJSON_Delete(req);
	r = await_response(c, ASK_ID);
	ck_assert_msg(strstr(asked_answer(r), "decline") != NULL,
	    "the child did not get the answer: %s", asked_answer(r));
	cJSON_Delete(r);
}

/* A request of c's on (server, thread) the child never answers. */
static void
send_stuck(struct client *c, const char *server, const char *thread)
{
	send_call(c, STUCK_ID, server, thread, "raw_lines",
	    "{\"lines\":[]}", "\"timeout_ms\":20000");
	wait_in_flight(c, server, thread, 1);
}

START_TEST(test_sampling_with_tools_goes_only_to_a_client_declaring_them)
{
	struct client	*c = daemon_connect(d);

	hello(c, "{\"sampling\":{}}");
	assert_refused(c, "t", SAMPLE_TOOLS, "sampling.tools");
	assert_asked(c, "t", SAMPLE_PLAIN, "sampling/createMessage");
	hello(c, "{\"sampling\":{\"tools\":{}}}");
	assert_asked(c, "t", SAMPLE_TOOLS, "sampling/createMessage");
	client_close(c);
}
END_TEST

START_TEST(test_an_empty_elicitation_capability_means_form_only)
{
	struct client	*c = daemon_connect(d);

	hello(c, "{\"elicitation\":{}}");
	assert_refused(c, "e", ELICIT_URL, "elicitation.url");
	assert_asked(c, "e", ELICIT_FORM, "elicitation/create");
	hello(c, "{\"elicitation\":{\"url\":{}}}");
	assert_refused(c, "e", ELICIT_FORM, "elicitation.form");
	assert_asked(c, "e", ELICIT_URL, "elicitation/create");
	hello(c, "{\"elicitation\":{\"form\":{},\"url\":{}}}");
	assert_asked(c, "e", ELICIT_FORM, "elicitation/create");
	client_close(c);
}
END_TEST

START_TEST(test_the_oldest_in_flight_client_that_can_answer_is_asked)
{
	struct client	*older = daemon_connect(d);
	struct client	*c = daemon_connect(d);

	/* The older request's client declared nothing: it is passed over. */
	send_stuck(older, "asker", "o");
	hello(c, "{\"sampling\":{}}");
	assert_asked(c, "o", SAMPLE_PLAIN, "sampling/createMessage");
	client_close(c);
	client_close(older);
}
END_TEST

START_TEST(test_of_two_able_clients_the_oldest_in_flight_is_asked)
{
	struct client	*older = daemon_connect(d);
	struct client	*c = daemon_connect(d);
	cJSON		*req, *r;

	hello(older, "{\"sampling\":{}}");
	hello(c, "{\"sampling\":{}}");
	send_stuck(older, "asker", "o2");
	send_ask(c, "asker", "o2", SAMPLE_PLAIN);
	req = await_request(older, "sampling/createMessage");
	answer_request(older, req, "{\"from\":\"older\"}");
	cJSON_Delete(req);
	r = await_response(c, ASK_ID);
	ck_assert_msg(strstr(asked_answer(r), "older") != NULL, "the child "
	    "got %s", asked_answer(r));
	cJSON_Delete(r);
	client_close(c);
	client_close(older);
}
END_TEST

START_TEST(test_a_clients_progress_on_a_childs_request_reaches_the_child)
{
	struct client	*c = daemon_connect(d);
	cJSON		*req, *token, *r, *progress, *p;
	char		*line, *tok;

	hello(c, "{\"sampling\":{}}");
	send_call(c, ASK_ID, "asker", "p", "ask_progress", NULL, NULL);
	req = await_request(c, "sampling/createMessage");
	/* The client sees a token of its own: the request's id. */
	token = member(member(member(req, "params"), "_meta"),
	    "progressToken");
	ck_assert_msg(cJSON_IsNumber(token) && cJSON_Compare(token,
	    member(req, "id"), 1), "the progress token is not the request's "
	    "id");
	tok = cJSON_PrintUnformatted(token);
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progressToken\":%s,"
	    "\"progress\":1,\"total\":2,\"message\":\"half\"}}", tok);
	send_line(c, line);
	free(line);
	/* A token of no request to it goes nowhere. */
	send_line(c, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progressToken\":987654,\"progress\":5}}");
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progressToken\":%s,"
	    "\"progress\":2,\"total\":2}}", tok);
	send_line(c, line);
	free(line);
	free(tok);
	answer_request(c, req, "{\"model\":\"m\"}");
	cJSON_Delete(req);

	r = await_response(c, ASK_ID);
	progress = member(member(result_of(r), "structuredContent"),
	    "progress");
	ck_assert_int_eq(cJSON_GetArraySize(progress), 2);
	p = cJSON_GetArrayItem(progress, 0);
	ck_assert_str_eq(json_string(p, "progressToken"), "fake-up-1");
	ck_assert_int_eq((int)json_number(p, "progress"), 1);
	ck_assert_str_eq(json_string(p, "message"), "half");
	p = cJSON_GetArrayItem(progress, 1);
	ck_assert_str_eq(json_string(p, "progressToken"), "fake-up-1");
	ck_assert_int_eq((int)json_number(p, "progress"), 2);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_elicitation_complete_goes_to_the_client_that_was_asked)
{
	struct client	*asked = daemon_connect(d);
	struct client	*other = daemon_connect(d);
	cJSON		*req, *r, *m, *meta, *lines;
	char		*args, *text;

	hello(asked, "{\"elicitation\":{\"url\":{}}}");
	hello(other, "{\"elicitation\":{\"url\":{}}}");
	send_ask(asked, "asker", "u", ELICIT_URL);
	req = await_request(asked, "elicitation/create");
	answer_request(asked, req, "{\"action\":\"accept\"}");
	cJSON_Delete(req);
	cJSON_Delete(await_response(asked, ASK_ID));

	/* The completion comes during another client's call. */
	lines = cJSON_CreateArray();
	cJSON_AddItemToArray(lines, cJSON_CreateString(COMPLETE_EL7));
	cJSON_AddItemToArray(lines, cJSON_CreateString(COMPLETE_EL7));
	cJSON_AddItemToArray(lines, cJSON_CreateString("{\"jsonrpc\":\"2.0\","
	    "\"id\":@ID@,\"result\":{\"content\":[]}}"));
	text = cJSON_PrintUnformatted(lines);
	cJSON_Delete(lines);
	xasprintf(&args, "{\"lines\":%s}", text);
	free(text);
	send_call(other, ASK_ID, "asker", "u", "raw_lines", args, NULL);
	free(args);
	m = recv_msg(other);
	ck_assert_msg(is_response(m, ASK_ID), "the other client got more "
	    "than its answer");
	cJSON_Delete(m);

	m = recv_msg(asked);
	ck_assert_str_eq(json_string(m, "method"),
	    "notifications/elicitation/complete");
	ck_assert_str_eq(json_string(m, "params.elicitationId"), "el-7");
	meta = member(member(member(m, "params"), "_meta"), META_SESSION);
	ck_assert_str_eq(json_string(meta, "server"), "asker");
	ck_assert_str_eq(json_string(meta, "thread"), "u");
	cJSON_Delete(m);
	/* Once only: the second went nowhere, so the next message is the
	   answer to status. */
	send_line(asked, "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":"
	    "\"broker/status\"}");
	r = recv_msg(asked);
	ck_assert_msg(is_response(r, 77), "a second completion came: %s",
	    cJSON_PrintUnformatted(r));
	cJSON_Delete(r);
	client_close(other);
	client_close(asked);
}
END_TEST

/*
 * A -32042 error (URL elicitation required) names the elicitations the
 * request needs first: their completions go to that request's client,
 * not to another client of the session.
 */
START_TEST(test_a_url_elicitation_required_error_routes_its_completion)
{
	struct client	*asked = daemon_connect(d);
	struct client	*other = daemon_connect(d);
	cJSON		*m, *lines;
	char		*args, *text;

	/* other is attached to the session and takes notifications. */
	cJSON_Delete(rpc(other, "broker/hello", "{\"notifications\":true}"));
	cJSON_Delete(tool_call(other, "asker", "u", "echo",
	    "{\"text\":\"x\"}"));
	lines = cJSON_CreateArray();
	cJSON_AddItemToArray(lines, cJSON_CreateString("{\"jsonrpc\":\"2.0\","
	    "\"id\":@ID@,\"error\":{\"code\":-32042,\"message\":\"This "
	    "request requires more information.\",\"data\":{\"elicitations\":"
	    "[{\"mode\":\"url\",\"elicitationId\":\"el-9\",\"url\":"
	    "\"https://example.com/connect\",\"message\":\"Connect\"}]}}}"));
	cJSON_AddItemToArray(lines, cJSON_CreateString("{\"jsonrpc\":\"2.0\","
	    "\"method\":\"notifications/elicitation/complete\",\"params\":"
	    "{\"elicitationId\":\"el-9\"}}"));
	text = cJSON_PrintUnformatted(lines);
	cJSON_Delete(lines);
	xasprintf(&args, "{\"lines\":%s}", text);
	free(text);
	send_call(asked, ASK_ID, "asker", "u", "raw_lines", args, NULL);
	free(args);
	m = recv_msg(asked);
	ck_assert_msg(is_response(m, ASK_ID), "not the answer first");
	ck_assert_int_eq(error_code(m), -32042);
	cJSON_Delete(m);
	m = recv_msg(asked);
	ck_assert_str_eq(json_string(m, "method"),
	    "notifications/elicitation/complete");
	ck_assert_str_eq(json_string(m, "params.elicitationId"), "el-9");
	cJSON_Delete(m);
	/* other: nothing but the answer to status. */
	send_line(other, "{\"jsonrpc\":\"2.0\",\"id\":78,\"method\":"
	    "\"broker/status\"}");
	m = recv_msg(other);
	ck_assert_msg(is_response(m, 78), "the other client got %s",
	    cJSON_PrintUnformatted(m));
	cJSON_Delete(m);
	client_close(other);
	client_close(asked);
}
END_TEST

/* The _meta (structuredContent.meta) a modern child got for a call on
   server whose params carry extra (JSON members text). */
static cJSON *
modern_meta(struct client *c, const char *server, const char *extra)
{
	cJSON	*r, *meta;

	send_call(c, ASK_ID, server, "m", "meta", NULL, extra);
	r = await_response(c, ASK_ID);
	meta = cJSON_Duplicate(member(member(result_of(r),
	    "structuredContent"), "meta"), 1);
	cJSON_Delete(r);
	return (meta);
}

START_TEST(test_a_modern_clients_own_capabilities_reach_a_modern_child)
{
	struct client	*c = daemon_connect(d);
	cJSON		*meta, *want;

	meta = modern_meta(c, "modern", "\"_meta\":{\"" META_CAPS "\":"
	    "{\"elicitation\":{\"url\":{}},\"sampling\":{\"tools\":{}},"
	    "\"roots\":{\"listChanged\":true}},\"" META_INFO "\":"
	    "{\"name\":\"host\",\"version\":\"2\"}}");
	/* Its own, roots too: the child's requests for input come back to
	   it, in input_required results. */
	want = cJSON_Parse("{\"elicitation\":{\"url\":{}},\"sampling\":"
	    "{\"tools\":{}},\"roots\":{\"listChanged\":true}}");
	ck_assert_msg(cJSON_Compare(member(meta, META_CAPS), want, 1),
	    "the child got %s", cJSON_PrintUnformatted(meta));
	cJSON_Delete(want);
	ck_assert_str_eq(json_string(member(meta, META_INFO), "name"),
	    "host");
	cJSON_Delete(meta);

	/* The broker's roots are for handshake children: nothing is
	   added to a client's own. */
	meta = modern_meta(c, "modern_rooted", "\"_meta\":{\"" META_CAPS
	    "\":{\"sampling\":{}}}");
	want = cJSON_Parse("{\"sampling\":{}}");
	ck_assert_msg(cJSON_Compare(member(meta, META_CAPS), want, 1),
	    "the child got %s", cJSON_PrintUnformatted(meta));
	cJSON_Delete(want);
	ck_assert_str_eq(json_string(member(meta, META_INFO), "name"),
	    "mcp-broker");
	cJSON_Delete(meta);

	/* A client that sends none is declared from the config, without
	   roots: the broker fulfils no input request. */
	meta = modern_meta(c, "modern_rooted", NULL);
	want = cJSON_Parse("{}");
	ck_assert_msg(cJSON_Compare(member(meta, META_CAPS), want, 1),
	    "the child got %s", cJSON_PrintUnformatted(meta));
	cJSON_Delete(want);
	cJSON_Delete(meta);
	client_close(c);
}
END_TEST

/* The session id of (server, thread), from an echo call (caller frees). */
static char *
session_id(struct client *c, const char *server, const char *thread)
{
	cJSON	*r;
	char	*id;

	r = tool_call(c, server, thread, "echo", "{\"text\":\"x\"}");
	id = xstrdup(session_id_of(r));
	cJSON_Delete(r);
	return (id);
}

START_TEST(test_a_timeout_names_its_session)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *meta;
	char		*sid;

	sid = session_id(c, "plain", "to");
	send_call(c, ASK_ID, "plain", "to", "sleep", "{\"ms\":3000}",
	    "\"timeout_ms\":200");
	r = await_response(c, ASK_ID);
	ck_assert_int_eq(error_code(r), -32013);
	meta = member(error_data(r), META_SESSION);
	ck_assert_str_eq(json_string(meta, "id"), sid);
	ck_assert_int_eq((int)json_number(meta, "generation"), 1);
	ck_assert_str_eq(json_string(error_data(r), "server"), "plain");
	free(sid);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_a_lost_session_names_itself)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *meta;
	char		*sid;

	sid = session_id(c, "plain", "lost");
	r = tool_call(c, "plain", "lost", "crash", NULL);
	ck_assert_int_eq(error_code(r), -32012);
	meta = member(error_data(r), META_SESSION);
	ck_assert_str_eq(json_string(meta, "id"), sid);
	ck_assert_int_eq((int)json_number(meta, "generation"), 1);
	free(sid);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

/*
 * The child answers a call with error (the text of its error member);
 * the client must read want (with SID the session's id) byte for byte.
 */
static void
assert_error_line(struct client *c, const char *thread, const char *error,
    const char *want)
{
	cJSON	*args, *lines;
	char	*sid, *text, *line, *expect, *at;

	sid = session_id(c, "plain", thread);
	args = cJSON_CreateObject();
	lines = cJSON_AddArrayToObject(args, "lines");
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"error\":%s}",
	    error);
	cJSON_AddItemToArray(lines, cJSON_CreateString(line));
	free(line);
	text = cJSON_PrintUnformatted(args);
	cJSON_Delete(args);
	send_call(c, ASK_ID, "plain", thread, "raw_lines", text, NULL);
	free(text);
	line = recv_line(c);
	if ((at = strstr(want, "SID")) != NULL)
		xasprintf(&expect, "%.*s%s%s", (int)(at - want), want, sid,
		    at + 3);
	else
		expect = xstrdup(want);
	ck_assert_str_eq(line, expect);
	free(expect);
	free(line);
	free(sid);
}

START_TEST(test_a_childs_error_gains_its_session_byte_for_byte)
{
	struct client	*c = daemon_connect(d);

	assert_error_line(c, "eo", "{\"code\":-32000,\"message\":\"m\","
	    "\"data\":{\"k\":[1,2.50],\"s\":\"\\u00e9\"}}",
	    "{\"jsonrpc\":\"2.0\",\"id\":61,\"error\":{\"code\":-32000,"
	    "\"message\":\"m\",\"data\":{\"k\":[1,2.50],\"s\":\"\\u00e9\","
	    "\"mcp-broker/session\":{\"id\":\"SID\",\"generation\":1}}}}");
	assert_error_line(c, "ea", "{\"code\":-32602,\"message\":\"no\"}",
	    "{\"jsonrpc\":\"2.0\",\"id\":61,\"error\":{\"code\":-32602,"
	    "\"message\":\"no\",\"data\":{\"mcp-broker/session\":"
	    "{\"id\":\"SID\",\"generation\":1}}}}");
	assert_error_line(c, "es", "{\"code\":-32000,\"message\":\"m\","
	    "\"data\":\"text \\u00e9 1.50\"}",
	    "{\"jsonrpc\":\"2.0\",\"id\":61,\"error\":{\"code\":-32000,"
	    "\"message\":\"m\",\"data\":\"text \\u00e9 1.50\"}}");
	assert_error_line(c, "en", "{\"code\":-32000,\"message\":\"m\","
	    "\"data\":[1]}", "{\"jsonrpc\":\"2.0\",\"id\":61,\"error\":"
	    "{\"code\":-32000,\"message\":\"m\",\"data\":[1]}}");
	client_close(c);
}
END_TEST

/* Whether the stderr tail of (server, thread) has needle. */
static int
stderr_has(struct client *c, const char *server, const char *thread,
    const char *needle)
{
	cJSON	*r;
	int	 has;

	r = session_of(c, server, thread);
	has = tail_has(member(result_of(r), "stderr_tail"), needle);
	cJSON_Delete(r);
	return (has);
}

/* Send ping on (server, thread); its answer must be an object. */
static void
ping(struct client *c, const char *server, const char *thread)
{
	cJSON	*r;
	char	*params;

	xasprintf(&params, "{\"server\":\"%s\",\"thread\":\"%s\"}", server,
	    thread);
	r = rpc(c, "ping", params);
	free(params);
	ck_assert(cJSON_IsObject(result_of(r)));
	ck_assert_ptr_nonnull(member(member(result_of(r), "_meta"),
	    META_SESSION));
	cJSON_Delete(r);
}

START_TEST(test_ping_to_a_modern_child_is_answered_by_the_broker)
{
	struct client	*c = daemon_connect(d);
	int		 i;

	/* A handshake child gets it (and says so on stderr). */
	ping(c, "plain", "pg");
	for (i = 0; i < 50 && !stderr_has(c, "plain", "pg", "fake-mcp: ping");
	    i++)
		sleep_ms(20);
	ck_assert_msg(i < 50, "the handshake child did not see the ping");

	ping(c, "modern", "pg");
	cJSON_Delete(tool_call(c, "modern", "pg", "stderr",
	    "{\"lines\":1}"));
	ck_assert_msg(!stderr_has(c, "modern", "pg", "fake-mcp: ping"),
	    "the modern child saw the ping");
	client_close(c);
}
END_TEST

/* A call on server fails to start, with a message holding what. */
static void
assert_start_fails(struct client *c, const char *server, const char *what)
{
	cJSON		*r;
	const char	*message;

	r = tool_call(c, server, "d", "echo", "{\"text\":\"x\"}");
	ck_assert_int_eq(error_code(r), -32011);
	message = json_string(r, "error.message");
	ck_assert_msg(message != NULL && strstr(message, what) != NULL,
	    "the start failed otherwise: %s", message);
	cJSON_Delete(r);
}

START_TEST(test_a_discover_result_without_a_shared_version_is_no_fallback)
{
	struct client	*c = daemon_connect(d);

	assert_start_fails(c, "future", "2026-07-28-era");
	client_close(c);
}
END_TEST

START_TEST(test_a_defined_modern_error_to_discover_is_no_fallback)
{
	struct client	*c = daemon_connect(d);

	assert_start_fails(c, "reserved", "-32021");
	client_close(c);
}
END_TEST

static Suite *
upcall_suite(void)
{
	Suite	*s = suite_create("upcall");
	TCase	*tc;

	tc = harness_add_tcase(s, "routing", setup, teardown, 60);
	tcase_add_test(tc,
	    test_sampling_with_tools_goes_only_to_a_client_declaring_them);
	tcase_add_test(tc,
	    test_an_empty_elicitation_capability_means_form_only);
	tcase_add_test(tc,
	    test_the_oldest_in_flight_client_that_can_answer_is_asked);
	tcase_add_test(tc,
	    test_of_two_able_clients_the_oldest_in_flight_is_asked);
	tcase_add_test(tc,
	    test_a_clients_progress_on_a_childs_request_reaches_the_child);
	tcase_add_test(tc,
	    test_elicitation_complete_goes_to_the_client_that_was_asked);
	tcase_add_test(tc,
	    test_a_url_elicitation_required_error_routes_its_completion);

	tc = harness_add_tcase(s, "envelopes", setup, teardown, 60);
	tcase_add_test(tc,
	    test_a_modern_clients_own_capabilities_reach_a_modern_child);
	tcase_add_test(tc, test_a_timeout_names_its_session);
	tcase_add_test(tc, test_a_lost_session_names_itself);
	tcase_add_test(tc, test_a_childs_error_gains_its_session_byte_for_byte);
	tcase_add_test(tc,
	    test_ping_to_a_modern_child_is_answered_by_the_broker);
	tcase_add_test(tc,
	    test_a_discover_result_without_a_shared_version_is_no_fallback);
	tcase_add_test(tc, test_a_defined_modern_error_to_discover_is_no_fallback);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(upcall_suite()));
}
