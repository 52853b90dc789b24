/*
 * Every byte passes through: numbers, strings (escape forms included)
 * and key order reach the child and come back exactly as written, on the
 * fast path and on each slow one (timeout_ms, a progress token, a result
 * with _meta, an error with data, progress, a server's request to a
 * client and its answer, the 2026-07-28 _meta). Ids of every form are
 * echoed and can be cancelled; a refusal carries the id whenever it
 * could be read; a child's answer the broker cannot pass on fails its
 * request at once. Names (server, thread) are refused at the door.
 *
 * The fixture's raw_echo, raw_lines and raw_ask tools show the bytes the
 * child read and write the bytes a test chooses.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* What "promptly" means for an answer the broker fails at once. */
#define PROMPT_MS	2000
/* How long a test waits to be sure no answer comes. */
#define QUIET_MS	2500

/* Values a tree cannot hold or would re-print, in an order to keep. */
#define TRICKY	"{\"z\":1,\"big\":12345678901234567,\"huge\":1e400," \
		"\"negz\":-0,\"one\":1.0,\"sci\":1E+2," \
		"\"long\":123456789012345678901234567890," \
		"\"vast\":1234567890123456789012345678901234567890" \
		"123456789012345678901234567890e-5," \
		"\"e\":\"\\u00e9\",\"s\":\"\\/\",\"a\":[1.50,-0.0e-0]}"

static struct daemon	*d;

static void	 setup(void);
static void	 teardown(void);
static char	*echoed(struct client *, const char *);
static char	*raw_call(struct client *, const char *, const char *,
		     const char *, const char *, const char *);
static void	 expect_has(const char *, const char *);
static void	 expect_lacks(const char *, const char *);
static void	 expect_server_error(struct client *, const char *);
static void	 expect_refusal(struct client *, const char *, const char *,
		     int, const char *);
static int	 quiet(struct client *, int);
static int	 cancels_seen(struct client *);

/* A plain fake "fake", one that may sample, and a 2026-07-28 one. */
static void
setup(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"asker\":{\"command\":\"@FAKE@\",\"client_capabilities\":"
	    "{\"sampling\":{}}},"
	    "\"modern\":{\"command\":\"@FAKE@\",\"args\":[\"--modern\"],"
	    "\"protocol\":\"2026-07-28\"}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* haystack must hold needle. */
static void
expect_has(const char *haystack, const char *needle)
{
	ck_assert_msg(strstr(haystack, needle) != NULL, "%s\nlacks\n%s",
	    haystack, needle);
}

/* haystack must not hold needle. */
static void
expect_lacks(const char *haystack, const char *needle)
{
	ck_assert_msg(strstr(haystack, needle) == NULL, "%s\nholds\n%s",
	    haystack, needle);
}

/*
 * Send line (a tools/call of raw_echo) and return the request line the
 * child read (the caller frees it).
 */
static char *
echoed(struct client *c, const char *line)
{
	cJSON	*msg, *text;
	char	*copy;

	send_line(c, line);
	msg = recv_msg(c);
	text = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    result_of(msg), "content"), 0), "text");
	ck_assert_msg(cJSON_IsString(text), "no text in the answer");
	copy = xstrdup(text->valuestring);
	cJSON_Delete(msg);
	return (copy);
}

/*
 * Call raw_lines on server/thread under id (JSON text) with the lines
 * given (one or two; @ID@ and @TOKEN@ filled in by the child), extra
 * params members (text, "" none), and return the next line the client
 * gets, as the broker wrote it.
 */
static char *
raw_call(struct client *c, const char *id, const char *extra,
    const char *first, const char *second, const char *server)
{
	cJSON	*lines;
	char	*text, *line;

	lines = cJSON_CreateArray();
	cJSON_AddItemToArray(lines, cJSON_CreateString(first));
	if (second != NULL)
		cJSON_AddItemToArray(lines, cJSON_CreateString(second));
	text = cJSON_PrintUnformatted(lines);
	cJSON_Delete(lines);
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"%s\",\"thread\":\"t\","
	    "%s\"name\":\"raw_lines\",\"arguments\":{\"lines\":%s}}}", id,
	    server, extra, text);
	send_line(c, line);
	free(line);
	free(text);
	return (recv_line(c));
}

/*
 * Send line; the answer must be error code under exactly id_text (the
 * id as written) with a message holding words.
 */
static void
expect_refusal(struct client *c, const char *line, const char *id_text,
    int code, const char *words)
{
	char	*got, *want;
	cJSON	*msg;

	send_line(c, line);
	got = recv_line(c);
	xasprintf(&want, "\"id\":%s,", id_text);
	expect_has(got, want);
	free(want);
	msg = cJSON_Parse(got);
	ck_assert_msg(error_code(msg) == code, "%s: want code %d", got, code);
	if (words != NULL)
		expect_has(json_string(cJSON_GetObjectItem(msg, "error"),
		    "message"), words);
	cJSON_Delete(msg);
	free(got);
}

/* Whether no line comes from the daemon within ms. */
static int
quiet(struct client *c, int ms)
{
	char	*line, *cause = NULL;
	size_t	 len;

	if ((line = client_recv_line(c, ms, &len, &cause)) == NULL) {
		free(cause);
		return (1);
	}
	fprintf(stderr, "unexpected line: %s\n", line);
	free(line);
	return (0);
}

/* How many cancels fake/t's child has recorded on its stderr. */
static int
cancels_seen(struct client *c)
{
	cJSON	*r, *line;
	int	 n = 0;

	r = session_of(c, "fake", "t");
	cJSON_ArrayForEach(line, cJSON_GetObjectItem(result_of(r),
	    "stderr_tail")) {
		if (cJSON_IsString(line) &&
		    strstr(line->valuestring, "cancelled request") != NULL)
			n++;
	}
	cJSON_Delete(r);
	return (n);
}

/* Client to child. */

START_TEST(test_arguments_reach_the_child_byte_for_byte_on_the_fast_path)
{
	struct client	*c = daemon_connect(d);
	char		*seen;

	seen = echoed(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":\"t\","
	    "\"name\":\"raw_echo\",\"arguments\":" TRICKY "}}");
	expect_has(seen, "\"arguments\":" TRICKY);
	expect_lacks(seen, "\"server\"");
	free(seen);
	client_close(c);
}
END_TEST

START_TEST(test_arguments_reach_the_child_byte_for_byte_with_timeout_ms)
{
	struct client	*c = daemon_connect(d);
	char		*seen;

	seen = echoed(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":\"t\","
	    "\"timeout_ms\":5000,\"name\":\"raw_echo\",\"arguments\":" TRICKY
	    "}}");
	expect_has(seen, "\"arguments\":" TRICKY);
	expect_lacks(seen, "timeout_ms");
	expect_lacks(seen, "\"thread\"");
	free(seen);
	client_close(c);
}
END_TEST

START_TEST(test_arguments_reach_the_child_byte_for_byte_with_a_progress_token)
{
	struct client	*c = daemon_connect(d);
	char		*seen;

	seen = echoed(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":\"t\","
	    "\"name\":\"raw_echo\",\"arguments\":" TRICKY ",\"_meta\":{"
	    "\"before\":1e400,\"progressToken\":\"p\\u00e9\",\"after\":-0}}}");
	expect_has(seen, "\"arguments\":" TRICKY);
	/* Only the token's value is the broker's. */
	expect_has(seen, "\"_meta\":{\"before\":1e400,\"progressToken\":");
	expect_has(seen, ",\"after\":-0}");
	expect_lacks(seen, "p\\u00e9");
	free(seen);
	client_close(c);
}
END_TEST

START_TEST(test_arguments_reach_the_child_byte_for_byte_with_escaped_keys)
{
	struct client	*c = daemon_connect(d);
	char		*seen;

	/* An escaped key is read as what it decodes to, written as it was. */
	seen = echoed(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"serv\\u0065r\":\"fake\","
	    "\"thread\" : \"t\" , \"name\":\"raw_echo\",\"\\u0061rguments\":"
	    TRICKY "}}");
	expect_has(seen, "\"\\u0061rguments\":" TRICKY);
	expect_lacks(seen, "serv");
	free(seen);
	client_close(c);
}
END_TEST

START_TEST(test_arguments_reach_a_modern_child_byte_for_byte)
{
	struct client	*c = daemon_connect(d);
	char		*seen;

	seen = echoed(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"modern\",\"thread\":\"t\","
	    "\"name\":\"raw_echo\",\"arguments\":" TRICKY ",\"_meta\":"
	    "{\"mine\":1E+2}}}");
	expect_has(seen, "\"arguments\":" TRICKY);
	expect_has(seen, "\"_meta\":{\"mine\":1E+2,");
	expect_has(seen, "\"io.modelcontextprotocol/protocolVersion\":"
	    "\"2026-07-28\"");
	free(seen);
	client_close(c);
}
END_TEST

/* Child to client. */

START_TEST(test_a_result_comes_back_byte_for_byte)
{
	struct client	*c = daemon_connect(d);
	char		*got;

	/* Without _meta: the fast path. */
	got = raw_call(c, "\"r1\"", "", "{\"jsonrpc\":\"2.0\",\"id\":@ID@,"
	    "\"result\":" TRICKY "}", NULL, "fake");
	expect_has(got, "\"id\":\"r1\"");
	expect_has(got, TRICKY + 1);
	free(got);
	client_close(c);
}
END_TEST

START_TEST(test_a_result_with_meta_comes_back_byte_for_byte)
{
	struct client	*c = daemon_connect(d);
	char		*got;

	got = raw_call(c, "123456789012", "", "{\"jsonrpc\":\"2.0\","
	    "\"result\":{\"n\":123456789012345678901234567890,\"_meta\":{"
	    "\"k\":-0,\"f\":1.0,\"e\":\"\\u00e9\\/\"},\"x\":1e400},"
	    "\"id\":@ID@}", NULL, "fake");
	expect_has(got, "\"result\":{\"n\":123456789012345678901234567890,"
	    "\"_meta\":{\"k\":-0,\"f\":1.0,\"e\":\"\\u00e9\\/\","
	    "\"mcp-broker/session\":{");
	expect_has(got, "},\"x\":1e400},\"id\":123456789012}");
	free(got);
	client_close(c);
}
END_TEST

START_TEST(test_an_error_with_data_comes_back_byte_for_byte)
{
	struct client	*c = daemon_connect(d);
	char		*got, *want;

	got = raw_call(c, "-0", "", "{\"jsonrpc\":\"2.0\",\"id\":@ID@,"
	    "\"error\":{\"code\":-32000,\"message\":\"m\\u00e9\",\"data\":"
	    TRICKY "}}", NULL, "fake");
	expect_has(got, "\"id\":-0,");
	/* Its data, an object, gains the session and keeps all else. */
	xasprintf(&want, "\"message\":\"m\\u00e9\",\"data\":%.*s,"
	    "\"mcp-broker/session\":{\"id\":\"", (int)strlen(TRICKY) - 1,
	    TRICKY);
	expect_has(got, want);
	expect_has(got, ",\"generation\":1}}}");
	free(want);
	free(got);
	client_close(c);
}
END_TEST

START_TEST(test_progress_comes_back_byte_for_byte_under_the_clients_token)
{
	struct client	*c = daemon_connect(d);
	char		*got;

	got = raw_call(c, "1.5", "\"_meta\":{\"progressToken\":\"to\\u006b\"},",
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
	    "\"params\":{\"progressToken\":@TOKEN@,\"progress\":1.0,"
	    "\"total\":1E+2,\"big\":12345678901234567}}",
	    "{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":{}}", "fake");
	expect_has(got, "\"params\":{\"progressToken\":\"to\\u006b\","
	    "\"progress\":1.0,\"total\":1E+2,\"big\":12345678901234567}");
	free(got);
	got = recv_line(c);
	expect_has(got, "\"id\":1.5");
	free(got);
	client_close(c);
}
END_TEST

START_TEST(test_a_servers_request_and_its_answer_pass_byte_for_byte)
{
	struct client	*c = daemon_connect(d);
	cJSON		*msg, *id, *text;
	char		*got, *answer, *args, *line;

	cJSON_Delete(rpc(c, "broker/hello",
	    "{\"capabilities\":{\"sampling\":{}}}"));
	text = cJSON_CreateString("{\"jsonrpc\":\"2.0\",\"id\":\"raw-1\","
	    "\"method\":\"sampling/createMessage\",\"params\":{\"maxTokens\":"
	    "12345678901234567,\"t\":1e400,\"s\":\"\\/\"}}");
	args = cJSON_PrintUnformatted(text);
	cJSON_Delete(text);
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"asker\",\"thread\":\"t\","
	    "\"name\":\"raw_ask\",\"arguments\":{\"line\":%s}}}", args);
	send_line(c, line);
	free(line);
	free(args);

	got = recv_line(c);
	expect_has(got, "\"params\":{\"maxTokens\":12345678901234567,"
	    "\"t\":1e400,\"s\":\"\\/\",\"_meta\":{\"mcp-broker/session\":");
	msg = cJSON_Parse(got);
	id = cJSON_GetObjectItem(msg, "id");
	ck_assert(cJSON_IsNumber(id));
	xasprintf(&answer, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":"
	    "{\"n\":-0,\"e\":\"\\u00e9\",\"big\":"
	    "123456789012345678901234567890}}", id->valueint);
	cJSON_Delete(msg);
	free(got);
	send_line(c, answer);
	free(answer);

	msg = recv_msg(c);
	text = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    result_of(msg), "content"), 0), "text");
	expect_has(text->valuestring, "\"id\":\"raw-1\"");
	expect_has(text->valuestring, "\"result\":{\"n\":-0,\"e\":\"\\u00e9\","
	    "\"big\":123456789012345678901234567890}");
	cJSON_Delete(msg);
	client_close(c);
}
END_TEST

/* Ids. */

START_TEST(test_every_id_form_can_be_cancelled)
{
	static const char *const ids[] = {
		"123456789012", "-0", "1.5", "\"s\\u00e9\"", "1E+2",
	};
	struct client	*c, *watch;
	char		*line, *cancel;
	size_t		 i;
	long		 deadline;
	int		 before;

	c = daemon_connect(d);
	watch = daemon_connect(d);
	cJSON_Delete(tool_call(watch, "fake", "t", "pid", NULL));
	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		before = cancels_seen(watch);
		xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":"
		    "\"tools/call\",\"params\":{\"server\":\"fake\","
		    "\"thread\":\"t\",\"name\":\"sleep\",\"arguments\":"
		    "{\"ms\":1500}}}", ids[i]);
		send_line(c, line);
		free(line);
		wait_in_flight(watch, "fake", "t", 1);
		/* The same id, written as the client wrote it. */
		xasprintf(&cancel, "{\"jsonrpc\":\"2.0\",\"method\":"
		    "\"notifications/cancelled\",\"params\":{\"requestId\":%s}}",
		    ids[i]);
		send_line(c, cancel);
		free(cancel);
		wait_in_flight(watch, "fake", "t", 0);
		ck_assert_msg(quiet(c, QUIET_MS), "id %s: answered after its "
		    "cancel", ids[i]);
		deadline = now_ms() + QUIET_MS;
		while (cancels_seen(watch) == before && now_ms() < deadline)
			sleep_ms(20);
		ck_assert_msg(cancels_seen(watch) == before + 1, "id %s: the "
		    "child was not told", ids[i]);
	}
	client_close(c);
	client_close(watch);
}
END_TEST

START_TEST(test_a_repeated_key_in_params_is_answered_under_the_readable_id)
{
	struct client	*c = daemon_connect(d);

	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":\"dup\\u002d1\",\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":\"t\","
	    "\"thread\":\"u\"}}", "\"dup\\u002d1\"", -32600, "params.thread");
	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":123456789012345,"
	    "\"method\":\"tools/call\",\"params\":{\"server\":\"fake\","
	    "\"thread\":\"t\",\"_meta\":{\"a\":1,\"a\":2}}}", "123456789012345",
	    -32600, "params._meta.a");
	/* A parse error after the id still answers under it. */
	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":-0,\"method\":\"x\","
	    "\"params\":{\"a\":01}}", "-0", -32700, NULL);
	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":1.50,\"method\":"
	    "\"broker/nosuch\"}", "1.50", -32601, NULL);
	ck_assert_int_eq(session_count(c), 0);
	client_close(c);
}
END_TEST

START_TEST(test_an_answer_the_broker_cannot_pass_on_fails_the_request_at_once)
{
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":{\"_meta\":"
		    "{\"x\":1,\"x\":2}}}",
		"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":[1,2]}",
		"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":{\"a\":01}}",
		"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":{\"a\":\"\\ud800\"}}",
		/* Its _meta cannot take the broker's member; replacing it
		   would lose the server's bytes. */
		"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":{\"_meta\":"
		    "1e400}}",
	};
	struct client	*c = daemon_connect(d);
	char		*got, *id;
	cJSON		*msg;
	long		 start;
	size_t		 i;

	for (i = 0; i < sizeof lines / sizeof *lines; i++) {
		xasprintf(&id, "\"a%zu\"", i);
		start = now_ms();
		got = raw_call(c, id, "", lines[i], NULL, "fake");
		ck_assert_msg(now_ms() - start < PROMPT_MS, "%s: took %ld ms",
		    lines[i], now_ms() - start);
		msg = cJSON_Parse(got);
		ck_assert_msg(error_code(msg) == -32603, "%s: got %s",
		    lines[i], got);
		expect_has(json_string(cJSON_GetObjectItem(msg, "error"),
		    "message"), "could not be passed on");
		ck_assert_str_eq(json_string(error_data(msg), "server"),
		    "fake");
		if (i == 0)
			expect_has(got, "result._meta.x");
		expect_has(got, id);
		cJSON_Delete(msg);
		free(got);
		free(id);
	}
	client_close(c);
}
END_TEST

/*
 * A request of the child's own that the broker cannot take, under the
 * same id as a request in flight (both sides count from 1), is the
 * child's mistake: it gets the error, and the client's request is
 * answered as usual.
 */
START_TEST(test_a_bad_request_from_the_child_fails_no_client_request)
{
	struct client	*c = daemon_connect(d);
	char		*got;
	cJSON		*msg, *result;

	got = raw_call(c, "\"b1\"", "",
	    "{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"method\":"
	    "\"sampling/createMessage\",\"params\":{\"x\":\"\\ud800\"}}",
	    "{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":{\"ok\":true}}",
	    "fake");
	msg = cJSON_Parse(got);
	result = cJSON_GetObjectItem(msg, "result");
	ck_assert_msg(result != NULL, "the client's request failed: %s", got);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(result, "ok")));
	cJSON_Delete(msg);
	free(got);
	client_close(c);
}
END_TEST

/*
 * The next message on c is raw_ask's answer: the line the server read
 * back, -32603 under its own id "raw-1", with words in the message.
 */
static void
expect_server_error(struct client *c, const char *words)
{
	cJSON	*msg, *text;

	msg = recv_msg(c);
	text = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    result_of(msg), "content"), 0), "text");
	ck_assert_msg(text != NULL, "no tool result");
	expect_has(text->valuestring, "\"id\":\"raw-1\"");
	expect_has(text->valuestring, "\"code\":-32603");
	expect_has(text->valuestring, words);
	cJSON_Delete(msg);
}

/*
 * A client's answer to a server's request that the broker cannot take (a
 * repeated key) fails that request at the server at once, saying why,
 * rather than leaving it until the client goes away.
 */
START_TEST(test_a_refused_answer_from_the_client_fails_the_servers_request)
{
	struct client	*c = daemon_connect(d);
	cJSON		*msg, *id;
	char		*got, *answer, *line;

	cJSON_Delete(rpc(c, "broker/hello",
	    "{\"capabilities\":{\"sampling\":{}}}"));
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"asker\",\"thread\":\"t\","
	    "\"name\":\"raw_ask\",\"arguments\":{\"line\":"
	    "\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":\\\"raw-1\\\","
	    "\\\"method\\\":\\\"sampling/createMessage\\\","
	    "\\\"params\\\":{}}\"}}}");
	send_line(c, line);
	free(line);

	got = recv_line(c);
	msg = cJSON_Parse(got);
	id = cJSON_GetObjectItem(msg, "id");
	ck_assert_msg(cJSON_IsNumber(id), "not a request: %s", got);
	xasprintf(&answer, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":"
	    "{\"a\":1,\"a\":2}}", id->valueint);
	cJSON_Delete(msg);
	free(got);
	send_line(c, answer);
	free(answer);

	/* The server saw an error under its own id, and said so. */
	expect_server_error(c, "could not be passed on");
	client_close(c);
}
END_TEST

/*
 * A _meta that is not an object can take none of the broker's members:
 * a client's request holding one is refused, and a server's request
 * holding one gets an error back, rather than either being rewritten.
 */
START_TEST(test_a_meta_that_is_not_an_object_is_refused_not_replaced)
{
	struct client	*c = daemon_connect(d);
	char		*line;

	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":\"m1\",\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":\"t\","
	    "\"name\":\"raw_echo\",\"_meta\":7}}", "\"m1\"", -32602,
	    "params._meta must be an object");

	cJSON_Delete(rpc(c, "broker/hello",
	    "{\"capabilities\":{\"sampling\":{}}}"));
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"asker\",\"thread\":\"t\","
	    "\"name\":\"raw_ask\",\"arguments\":{\"line\":"
	    "\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":\\\"raw-1\\\","
	    "\\\"method\\\":\\\"sampling/createMessage\\\","
	    "\\\"params\\\":{\\\"_meta\\\":[1e400]}}\"}}}");
	send_line(c, line);
	free(line);
	/* No request reaches the client: the tool's answer comes next,
	   holding the error the server got. */
	expect_server_error(c, "params._meta is not a JSON object");
	client_close(c);
}
END_TEST

/* Names. */

START_TEST(test_bad_names_are_refused_before_any_lookup)
{
	static const struct {
		const char	*server;
		const char	*thread;
		const char	*words;
	} bad[] = {
		{ "fake", "al\\u0000one", "control characters" },
		{ "fake", "a\\u001fb", "control characters" },
		{ "fake", "a\\u007fb", "control characters" },
		{ "fake", "a\x7f" "b", "control characters" },
		{ "fake", "\\ud800", "valid UTF-8" },
		{ "fake", "x\\udc00y", "valid UTF-8" },
		{ "fake", "\xff\xfe", "valid UTF-8" },
		{ "fake", "\xc0\xaf", "valid UTF-8" },
		{ "fake", "\xed\xa0\x80", "valid UTF-8" },
		{ "fake", "", "non-empty" },
		{ "demo\\u0000x", "t", "control characters" },
		{ "nosuch\\u0000", "t", "control characters" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    "t", "at most 64 bytes" },
	};
	struct client	*c = daemon_connect(d);
	char		*line, *thread;
	size_t		 i;
	int		 m;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		for (m = 0; m < 3; m++) {
			xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":\"n%zu\","
			    "\"method\":\"%s\",\"params\":{\"server\":\"%s\","
			    "\"thread\":\"%s\"%s}}", i, m == 0 ? "tools/call" :
			    m == 1 ? "broker/session" : "broker/close",
			    bad[i].server, bad[i].thread, m == 0 ?
			    ",\"timeout_ms\":100" : m == 1 ? ",\"create\":true" :
			    "");
			send_line(c, line);
			free(line);
			line = recv_line(c);
			xasprintf(&thread, "\"id\":\"n%zu\"", i);
			expect_has(line, thread);
			free(thread);
			expect_has(line, "-32602");
			expect_has(line, bad[i].words);
			free(line);
		}
	}
	/* Too long a thread, by one byte. */
	thread = xmalloc(258);
	memset(thread, 'x', 257);
	thread[257] = '\0';
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":"
	    "\"tools/list\",\"params\":{\"server\":\"fake\",\"thread\":\"%s\"}}",
	    thread);
	expect_refusal(c, line, "9", -32602, "at most 256 bytes");
	free(line);
	thread[256] = '\0';
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":"
	    "\"broker/close\",\"params\":{\"thread\":\"%s\"}}", thread);
	send_line(c, line);
	free(line);
	line = recv_line(c);
	expect_has(line, "\"closed\":0");
	free(line);
	free(thread);
	ck_assert_int_eq(session_count(c), 0);
	client_close(c);
}
END_TEST

START_TEST(test_names_differing_after_an_escaped_nul_never_share_a_child)
{
	struct client	*c = daemon_connect(d);

	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":"
	    "\"al\\u0000one\",\"name\":\"pid\"}}", "1", -32602,
	    "thread must not contain control characters");
	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":"
	    "\"al\\u0000two\",\"name\":\"pid\"}}", "2", -32602, NULL);
	/* "fake\u0000x" is not "fake". */
	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\\u0000x\",\"thread\":"
	    "\"t\",\"name\":\"pid\"}}", "3", -32602,
	    "server must not contain control characters");
	ck_assert_int_eq(session_count(c), 0);
	client_close(c);
}
END_TEST

START_TEST(test_a_raw_nul_byte_is_a_parse_error_under_the_readable_id)
{
	static const char line[] = "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":\"t\","
	    "\0\"name\":\"pid\"}}\n";
	struct client	*c = daemon_connect(d);
	char		*got, *cause = NULL;

	ck_assert_int_eq(client_send_raw(c, line, sizeof line - 1, &cause), 0);
	got = recv_line(c);
	expect_has(got, "\"id\":42,");
	expect_has(got, "-32700");
	free(got);
	/* A raw control byte between tokens is no whitespace either. */
	expect_refusal(c, "{\"jsonrpc\":\"2.0\",\"id\":43,\"method\":"
	    "\"tools/list\",\x01\"params\":{\"server\":\"fake\",\"thread\":"
	    "\"t\"}}", "43", -32700, NULL);
	ck_assert_int_eq(session_count(c), 0);
	client_close(c);
}
END_TEST

static Suite *
bytes_suite(void)
{
	Suite	*s = suite_create("bytes");
	TCase	*tc;

	tc = harness_add_tcase(s, "client to child", setup, teardown, 60);
	tcase_add_test(tc,
	    test_arguments_reach_the_child_byte_for_byte_on_the_fast_path);
	tcase_add_test(tc,
	    test_arguments_reach_the_child_byte_for_byte_with_timeout_ms);
	tcase_add_test(tc,
	    test_arguments_reach_the_child_byte_for_byte_with_a_progress_token);
	tcase_add_test(tc,
	    test_arguments_reach_the_child_byte_for_byte_with_escaped_keys);
	tcase_add_test(tc, test_arguments_reach_a_modern_child_byte_for_byte);

	tc = harness_add_tcase(s, "child to client", setup, teardown, 60);
	tcase_add_test(tc, test_a_result_comes_back_byte_for_byte);
	tcase_add_test(tc, test_a_result_with_meta_comes_back_byte_for_byte);
	tcase_add_test(tc, test_an_error_with_data_comes_back_byte_for_byte);
	tcase_add_test(tc,
	    test_progress_comes_back_byte_for_byte_under_the_clients_token);
	tcase_add_test(tc,
	    test_a_servers_request_and_its_answer_pass_byte_for_byte);

	tc = harness_add_tcase(s, "ids", setup, teardown, 90);
	tcase_add_test(tc, test_every_id_form_can_be_cancelled);
	tcase_add_test(tc,
	    test_a_repeated_key_in_params_is_answered_under_the_readable_id);
	tcase_add_test(tc,
	    test_an_answer_the_broker_cannot_pass_on_fails_the_request_at_once);
	tcase_add_test(tc,
	    test_a_bad_request_from_the_child_fails_no_client_request);
	tcase_add_test(tc,
	    test_a_refused_answer_from_the_client_fails_the_servers_request);
	tcase_add_test(tc,
	    test_a_meta_that_is_not_an_object_is_refused_not_replaced);

	tc = harness_add_tcase(s, "names", setup, teardown, 60);
	tcase_add_test(tc, test_bad_names_are_refused_before_any_lookup);
	tcase_add_test(tc,
	    test_names_differing_after_an_escaped_nul_never_share_a_child);
	tcase_add_test(tc,
	    test_a_raw_nul_byte_is_a_parse_error_under_the_readable_id);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(bytes_suite()));
}
