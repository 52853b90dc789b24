/*
 * Faults end to end: children that crash, refuse, quit or hang in the
 * handshake, write garbage or over-long lines, ignore SIGTERM or leave
 * grandchildren behind; clients that send bad input or over-long lines.
 * After each fault the daemon must still be alive and the same
 * connection must still get a normal call answered.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"

/* Ids for raw lines, clear of the blocking client's own 1, 2, ... */
#define RAW_ID		4000

static struct daemon	*d;

static cJSON	*exchange(struct client *, const char *);
static char	*padded_request(size_t);
static void	 assert_id_number(cJSON *, int);
static void	 assert_id_null(cJSON *);
static void	 assert_serving(struct client *);
static void	 assert_refused(const char *, int, int);
static void	 assert_session_error(cJSON *, int, const char *,
		     const char *, const char *);
static void	 assert_no_children(void);
static int	 exit_status_of(cJSON *);
static int	 children_now(int *);

/* One well-behaved fake server, "fake". */
static void
setup_fake(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
}

/* Servers that fail the handshake each in its own way, and good ones. */
static void
setup_handshake(void)
{
	d = daemon_start("",
	    "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"refuser\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--fail-handshake\"]},"
	    "\"quitter\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--exit-handshake\"]},"
	    "\"hanger\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--hang-handshake\"],\"start_timeout_s\":1},"
	    "\"badver\":{\"command\":\"@FAKE@\",\"args\":[\"--bad-version\"]},"
	    "\"missing\":{\"command\":\"/nonexistent/mcp\"},"
	    "\"slow\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--startup-delay-ms\",\"300\"]}");
}

/* A good server and one that writes garbage before anything else. */
static void
setup_output(void)
{
	d = daemon_start("",
	    "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"noisy\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--garbage-first\"]}");
}

/* Client lines bounded at 4096 bytes. */
static void
setup_client_limit(void)
{
	d = daemon_start("\"max_message_bytes\":4096",
	    "\"fake\":{\"command\":\"@FAKE@\"}");
}

/*
 * Child lines bounded at 8192 bytes, and a server (a shell script, as
 * the fake cannot) whose first line on stdout is 20000 bytes long.
 */
static void
setup_child_limit(void)
{
	d = daemon_start("\"max_message_bytes\":8192",
	    "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"blurter\":{\"command\":\"/bin/sh\",\"args\":[\"-c\","
	    "\"head -c 20000 /dev/zero | tr '\\\\000' x; echo; "
	    "exec cat >/dev/null\"]}");
}

/* A short close escalation, and a server that ignores SIGTERM. */
static void
setup_close(void)
{
	d = daemon_start("\"shutdown_grace_ms\":200",
	    "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"stubborn\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--ignore-term\"]}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* Send a raw line and return the next message (caller frees). */
static cJSON *
exchange(struct client *c, const char *line)
{
	send_line(c, line);
	return (recv_msg(c));
}

/*
 * A tools/call counter request (id RAW_ID) of exactly len bytes, the
 * length made up by an argument the tool ignores. Caller frees.
 */
static char *
padded_request(size_t len)
{
	static const char	 head[] = "{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"tools/call\",\"params\":{\"server\":\"fake\","
	    "\"thread\":\"pad\",\"name\":\"counter\",\"arguments\":"
	    "{\"pad\":\"";
	static const char	 tail[] = "\"}}}";
	size_t			 fixed = sizeof head - 1 + sizeof tail - 1;
	char			*line;

	ck_assert_uint_gt(len, fixed);
	line = malloc(len + 1);
	ck_assert_ptr_nonnull(line);
	memcpy(line, head, sizeof head - 1);
	memset(line + sizeof head - 1, 'x', len - fixed);
	memcpy(line + len - (sizeof tail - 1), tail, sizeof tail);
	ck_assert_uint_eq(strlen(line), len);
	return (line);
}

/* The message's id is the number want. */
static void
assert_id_number(cJSON *r, int want)
{
	cJSON	*id = cJSON_GetObjectItemCaseSensitive(r, "id");

	ck_assert_msg(cJSON_IsNumber(id) && id->valuedouble == want,
	    "expected id %d", want);
}

/* The message's id is present and null. */
static void
assert_id_null(cJSON *r)
{
	ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "id")),
	    "expected id null");
}

/* The daemon is alive and c still gets a normal call answered. */
static void
assert_serving(struct client *c)
{
	cJSON	*r;

	ck_assert_msg(daemon_alive(d), "mcp-brokerd is gone");
	r = tool_call(c, "fake", "still-serving", "echo", "{\"text\":\"ok\"}");
	ck_assert_str_eq(json_string(result_of(r), "structuredContent.text"),
	    "ok");
	cJSON_Delete(r);
}

/*
 * Send a bad line on a new connection: the answer is code under id (-1:
 * null), and the same connection then keeps working.
 */
static void
assert_refused(const char *line, int code, int id)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	char		*text;

	r = exchange(c, line);
	text = cJSON_PrintUnformatted(r);
	ck_assert_msg(error_code(r) == code, "%s: expected %d, got %s", line,
	    code, text);
	if (id < 0)
		assert_id_null(r);
	else
		assert_id_number(r, id);
	free(text);
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}

/*
 * r is error code (-32011 or -32012) for (server, thread), and its
 * stderr_tail has a line containing needle (NULL: any stderr_tail).
 */
static void
assert_session_error(cJSON *r, int code, const char *server,
    const char *thread, const char *needle)
{
	cJSON	*data, *tail;
	char	*text;

	text = cJSON_PrintUnformatted(r);
	ck_assert_msg(error_code(r) == code, "expected %d, got %s", code, text);
	data = error_data(r);
	ck_assert_msg(cJSON_IsObject(data), "no data in %s", text);
	ck_assert_str_eq(json_string(data, "server"), server);
	ck_assert_str_eq(json_string(data, "thread"), thread);
	tail = cJSON_GetObjectItemCaseSensitive(data, "stderr_tail");
	ck_assert_msg(cJSON_IsArray(tail), "no stderr_tail in %s", text);
	ck_assert_msg(needle == NULL || tail_has(tail, needle),
	    "stderr_tail lacks \"%s\": %s", needle, text);
	free(text);
}

/* The daemon has no child left, not even a zombie (after a short wait). */
static void
assert_no_children(void)
{
	int	zombies, n;

	if (!wait_no_children(d->pid, 3000)) {
		n = children_of(d->pid, NULL, 0, &zombies);
		ck_abort_msg("mcp-brokerd still has %d children (%d zombies)",
		    n, zombies);
	}
}

/* data.exit_status of an error. */
static int
exit_status_of(cJSON *r)
{
	return ((int)json_number(error_data(r), "exit_status"));
}

/* How many children the daemon has now, and how many are zombies. */
static int
children_now(int *zombies)
{
	return (children_of(d->pid, NULL, 0, zombies));
}

/*
 * Crashes.
 */

START_TEST(test_crash_mid_call_is_session_lost_and_next_call_restarts)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pid1;
	int		 zombies;

	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 1);
	pid1 = pid_of(r);
	cJSON_Delete(r);

	r = tool_call(c, "fake", "t", "crash", "{\"code\":3}");
	assert_session_error(r, -32012, "fake", "t",
	    "fake-mcp: crashing on purpose");
	ck_assert_int_eq(exit_status_of(r), 3);
	ck_assert_ptr_null(cJSON_GetObjectItem(error_data(r), "signal"));
	cJSON_Delete(r);

	/* The answer comes only once the child is reaped: no zombie. */
	ck_assert(!pid_alive(pid1));
	ck_assert_int_eq(children_now(&zombies), 0);
	ck_assert_int_eq(zombies, 0);
	ck_assert(daemon_alive(d));

	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(generation_of(r), 2);
	ck_assert_int_ne(pid_of(r), pid1);
	cJSON_Delete(r);

	ck_assert_int_eq(status_counter(c, "sessions_exited"), 1);
	ck_assert_int_eq(status_counter(c, "sessions_started"), 2);
	ck_assert_int_eq(children_now(&zombies), 1);
	ck_assert_int_eq(zombies, 0);
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_crash_fails_every_request_in_flight)
{
	static const char	 lines[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/call\",\"params\":{\"server\":\"fake\","
	    "\"thread\":\"f\",\"name\":\"crash\"}}\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
	    "\"params\":{\"server\":\"fake\",\"thread\":\"f\","
	    "\"name\":\"counter\"}}\n";
	struct client		*c = daemon_connect(d);
	cJSON			*r;
	char			*cause = NULL;
	int			 i;

	cJSON_Delete(tool_call(c, "fake", "f", "counter", NULL));
	/*
	 * Both lines in one write, so both are in flight before the crash;
	 * the fake reads the counter call only after it: both are lost.
	 */
	ck_assert_int_eq(client_send_raw(c, lines, strlen(lines), &cause), 0);
	for (i = 1; i <= 2; i++) {
		r = recv_msg(c);
		assert_id_number(r, i);
		assert_session_error(r, -32012, "fake", "f",
		    "fake-mcp: crashing on purpose");
		ck_assert_int_eq(exit_status_of(r), 3);
		cJSON_Delete(r);
	}
	r = tool_call(c, "fake", "f", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 2);
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_crash_kills_the_grandchildren_of_the_child)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 grandchild;

	r = tool_call(c, "fake", "g", "spawn_grandchild", NULL);
	grandchild = (pid_t)json_number(result_of(r),
	    "structuredContent.grandchild_pid");
	cJSON_Delete(r);
	ck_assert(pid_alive(grandchild));

	r = tool_call(c, "fake", "g", "crash", NULL);
	assert_session_error(r, -32012, "fake", "g",
	    "fake-mcp: crashing on purpose");
	ck_assert_int_eq(exit_status_of(r), 3);
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(grandchild, 2000),
	    "grandchild %ld outlived its crashed parent", (long)grandchild);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

/*
 * Handshake failures and sessions that are slow to start.
 */

START_TEST(test_refused_handshake_is_start_failed)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "refuser", "h", "counter", NULL);
	assert_session_error(r, -32011, "refuser", "h",
	    "fake-mcp: refusing handshake");
	cJSON_Delete(r);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_exit_during_handshake_is_start_failed_with_status)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "quitter", "h", "counter", NULL);
	assert_session_error(r, -32011, "quitter", "h",
	    "fake-mcp: exiting during handshake");
	ck_assert_int_eq(exit_status_of(r), 7);
	cJSON_Delete(r);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_hung_handshake_times_out_after_start_timeout)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	long		 t0, elapsed;

	t0 = now_ms();
	r = tool_call(c, "hanger", "h", "counter", NULL);
	elapsed = now_ms() - t0;
	assert_session_error(r, -32011, "hanger", "h",
	    "fake-mcp: not answering initialize");
	ck_assert_ptr_nonnull(strstr(json_string(r, "error.message"),
	    "start_timeout_s"));
	ck_assert_msg(elapsed >= 900 && elapsed < 5000,
	    "answered after %ld ms, start_timeout_s is 1", elapsed);
	cJSON_Delete(r);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_unknown_protocol_version_is_start_failed)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "badver", "h", "counter", NULL);
	assert_session_error(r, -32011, "badver", "h", "fake-mcp started");
	ck_assert_ptr_nonnull(strstr(json_string(r, "error.message"),
	    "1999-01-01"));
	cJSON_Delete(r);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_command_that_does_not_exist_is_start_failed)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "missing", "h", "counter", NULL);
	assert_session_error(r, -32011, "missing", "h", "cannot execute");
	ck_assert_int_eq(exit_status_of(r), 127);
	cJSON_Delete(r);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_requests_queued_for_a_failed_start_all_get_start_failed)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	char		 buf[2048], *cause = NULL;
	size_t		 n = 0;
	int		 i;

	for (i = 1; i <= 3; i++) {
		n += (size_t)snprintf(buf + n, sizeof buf - n,
		    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\","
		    "\"params\":{\"server\":\"refuser\",\"thread\":\"q\","
		    "\"name\":\"counter\"}}\n", i);
		ck_assert_uint_lt(n, sizeof buf);
	}
	ck_assert_int_eq(client_send_raw(c, buf, n, &cause), 0);
	for (i = 1; i <= 3; i++) {
		r = recv_msg(c);
		assert_id_number(r, i);
		assert_session_error(r, -32011, "refuser", "q",
		    "fake-mcp: refusing handshake");
		cJSON_Delete(r);
	}
	/* One child tried, and it is gone. */
	ck_assert_int_eq(status_counter(c, "sessions_started"), 1);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_requests_queued_during_start_are_answered_in_order)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	char		 buf[2048], *cause = NULL;
	size_t		 n = 0;
	long		 t0;
	pid_t		 pid = 0;
	int		 i, zombies;

	for (i = 1; i <= 5; i++) {
		n += (size_t)snprintf(buf + n, sizeof buf - n,
		    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\","
		    "\"params\":{\"server\":\"slow\",\"thread\":\"q\","
		    "\"name\":\"counter\"}}\n", i);
		ck_assert_uint_lt(n, sizeof buf);
	}
	t0 = now_ms();
	ck_assert_int_eq(client_send_raw(c, buf, n, &cause), 0);
	for (i = 1; i <= 5; i++) {
		r = recv_msg(c);
		assert_id_number(r, i);
		ck_assert_int_eq(count_of(r), i);
		ck_assert_int_eq(generation_of(r), 1);
		if (i == 1)
			pid = pid_of(r);
		else
			ck_assert_int_eq(pid_of(r), pid);
		cJSON_Delete(r);
	}
	/* They did wait for the child's 300 ms start. */
	ck_assert_int_ge(now_ms() - t0, 250);
	ck_assert_int_eq(status_counter(c, "sessions_started"), 1);
	ck_assert_int_eq(children_now(&zombies), 1);
	assert_serving(c);
	client_close(c);
}
END_TEST

/*
 * Bad input from clients.
 */

START_TEST(test_garbage_line_is_parse_error_with_null_id)
{
	assert_refused("this is not json {", -32700, -1);
}
END_TEST

START_TEST(test_batch_is_invalid_request)
{
	assert_refused("[{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"broker/status\"}]", -32600, -1);
}
END_TEST

START_TEST(test_json_scalar_is_invalid_request)
{
	assert_refused("42", -32600, -1);
	assert_refused("\"a string\"", -32600, -1);
}
END_TEST

START_TEST(test_wrong_jsonrpc_version_is_invalid_request)
{
	assert_refused("{\"jsonrpc\":\"1.0\",\"id\":4000,"
	    "\"method\":\"broker/status\"}", -32600, RAW_ID);
}
END_TEST

START_TEST(test_missing_server_is_invalid_params)
{
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,\"method\":"
	    "\"tools/call\",\"params\":{\"thread\":\"t\","
	    "\"name\":\"counter\"}}", -32602, RAW_ID);
}
END_TEST

START_TEST(test_non_string_server_is_invalid_params)
{
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":7,\"thread\":\"t\","
	    "\"name\":\"counter\"}}", -32602, RAW_ID);
}
END_TEST

START_TEST(test_missing_thread_is_invalid_params)
{
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\","
	    "\"name\":\"counter\"}}", -32602, RAW_ID);
}
END_TEST

START_TEST(test_non_string_thread_is_invalid_params)
{
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":"
	    "[\"t\"],\"name\":\"counter\"}}", -32602, RAW_ID);
}
END_TEST

START_TEST(test_params_not_an_object_is_invalid_params)
{
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,\"method\":"
	    "\"tools/call\",\"params\":[\"fake\",\"t\"]}", -32602, RAW_ID);
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,\"method\":"
	    "\"broker/status\",\"params\":[]}", -32602, RAW_ID);
}
END_TEST

START_TEST(test_thread_over_256_bytes_is_invalid_params)
{
	char	 line[1024], thread[258];

	memset(thread, 'a', 257);
	thread[257] = '\0';
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"tools/call\",\"params\":{\"server\":\"fake\","
	    "\"thread\":\"%s\",\"name\":\"counter\"}}", thread);
	assert_refused(line, -32602, RAW_ID);
}
END_TEST

START_TEST(test_thread_of_256_bytes_is_accepted)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	char		 thread[257];

	memset(thread, 'a', 256);
	thread[256] = '\0';
	r = tool_call(c, "fake", thread, "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_unknown_server_names_it)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	int		 zombies;

	r = tool_call(c, "nope", "t", "counter", NULL);
	ck_assert_int_eq(error_code(r), -32010);
	ck_assert_str_eq(json_string(error_data(r), "server"), "nope");
	cJSON_Delete(r);
	ck_assert_int_eq(children_now(&zombies), 0);
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_unknown_broker_method_is_method_not_found)
{
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"broker/nope\",\"params\":{}}", -32601, RAW_ID);
}
END_TEST

START_TEST(test_close_with_bad_params_is_invalid_params)
{
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"broker/close\",\"params\":{}}", -32602, RAW_ID);
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"broker/close\",\"params\":{\"all\":false}}", -32602,
	    RAW_ID);
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"broker/close\",\"params\":{\"thread\":5}}", -32602,
	    RAW_ID);
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"broker/close\",\"params\":{\"all\":true,"
	    "\"thread\":\"t\"}}", -32602, RAW_ID);
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"broker/close\",\"params\":{\"bogus\":1}}", -32602,
	    RAW_ID);
}
END_TEST

START_TEST(test_non_numeric_timeout_is_invalid_params)
{
	assert_refused("{\"jsonrpc\":\"2.0\",\"id\":4000,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"fake\",\"thread\":\"t\","
	    "\"name\":\"counter\",\"timeout_ms\":\"x\"}}", -32602, RAW_ID);
}
END_TEST

START_TEST(test_notifications_get_no_answer)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	/* Not even a forwardable method starts anything without an id. */
	send_line(c, "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\","
	    "\"params\":{\"server\":\"fake\",\"thread\":\"n\","
	    "\"name\":\"counter\"}}");
	send_line(c, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/what\"}");
	send_line(c, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":99}}");
	r = exchange(c, "{\"jsonrpc\":\"2.0\",\"id\":4000,"
	    "\"method\":\"broker/status\"}");
	assert_id_number(r, RAW_ID);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(result_of(r),
	    "sessions")), 0);
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}
END_TEST

/*
 * Line limits: clients.
 */

START_TEST(test_over_size_line_is_refused_and_connection_closed)
{
	struct client	*c = daemon_connect(d), *c2;
	cJSON		*r;
	char		*line, *cause = NULL;

	line = padded_request(10000);
	r = exchange(c, line);
	free(line);
	ck_assert_int_eq(error_code(r), -32015);
	assert_id_null(r);
	ck_assert_int_eq((int)json_number(error_data(r), "max_message_bytes"),
	    4096);
	cJSON_Delete(r);

	/* Closed by the daemon: EOF (or a reset), not a timeout. */
	r = client_recv(c, HARNESS_TIMEOUT_MS, &cause);
	ck_assert_msg(r == NULL, "the connection is still open");
	ck_assert_msg(strstr(cause, "no answer within") == NULL,
	    "the daemon did not close the connection: %s", cause);
	free(cause);
	client_close(c);

	ck_assert(daemon_alive(d));
	c2 = daemon_connect(d);
	assert_serving(c2);
	client_close(c2);
}
END_TEST

START_TEST(test_line_one_byte_over_max_message_bytes_is_refused)
{
	struct client	*c = daemon_connect(d), *c2;
	cJSON		*r;
	char		*line;

	line = padded_request(4097);
	r = exchange(c, line);
	free(line);
	ck_assert_int_eq(error_code(r), -32015);
	cJSON_Delete(r);
	client_close(c);
	c2 = daemon_connect(d);
	assert_serving(c2);
	client_close(c2);
}
END_TEST

START_TEST(test_line_of_exactly_max_message_bytes_is_accepted)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	char		*line;

	line = padded_request(4096);
	r = exchange(c, line);
	free(line);
	assert_id_number(r, RAW_ID);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}
END_TEST

/*
 * Line limits: children.
 */

START_TEST(test_child_line_over_limit_loses_session)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pid1;

	/* Under the bound it goes through. */
	r = tool_call(c, "fake", "h", "huge_line", "{\"bytes\":8000}");
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "h", "counter", NULL);
	pid1 = pid_of(r);
	cJSON_Delete(r);

	r = tool_call(c, "fake", "h", "huge_line", "{\"bytes\":20000}");
	assert_session_error(r, -32012, "fake", "h", "fake-mcp started");
	cJSON_Delete(r);
	ck_assert(wait_pid_gone(pid1, 2000));

	r = tool_call(c, "fake", "h", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 2);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_ne(pid_of(r), pid1);
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_child_line_over_limit_in_handshake_is_start_failed)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "blurter", "b", "counter", NULL);
	assert_session_error(r, -32011, "blurter", "b", NULL);
	cJSON_Delete(r);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

/*
 * What children write.
 */

START_TEST(test_garbage_on_child_stdout_is_skipped)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pid;

	r = tool_call(c, "fake", "g", "counter", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "g", "garbage", NULL);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    result_of(r), "structuredContent"), "ok")));
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "g", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(pid_of(r), pid);
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_garbage_before_handshake_is_skipped)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "noisy", "g", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_child_ping_is_answered_by_broker)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *pong;

	r = tool_call(c, "fake", "p", "ping_broker", NULL);
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(result_of(r), "isError")));
	pong = cJSON_GetObjectItem(cJSON_GetObjectItem(result_of(r),
	    "structuredContent"), "pong");
	ck_assert_msg(cJSON_IsObject(pong), "pong is not an object");
	ck_assert_int_eq(cJSON_GetArraySize(pong), 0);
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_stderr_tail_keeps_last_20_lines)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *tail = NULL;
	long		 deadline;
	int		 n = 0;

	r = tool_call(c, "fake", "e", "stderr", "{\"lines\":50}");
	ck_assert_int_eq((int)json_number(result_of(r),
	    "structuredContent.written"), 50);
	cJSON_Delete(r);

	/* stderr is another pipe: give the daemon a moment to read it all. */
	deadline = now_ms() + 3000;
	for (;;) {
		r = session_of(c, "fake", "e");
		tail = cJSON_GetObjectItem(result_of(r), "stderr_tail");
		ck_assert(cJSON_IsArray(tail));
		n = cJSON_GetArraySize(tail);
		if (n > 0 && cJSON_IsString(cJSON_GetArrayItem(tail, n - 1)) &&
		    strcmp(cJSON_GetArrayItem(tail, n - 1)->valuestring,
		    "fake-mcp stderr line 50") == 0)
			break;
		ck_assert_msg(now_ms() < deadline, "line 50 never reached "
		    "stderr_tail");
		cJSON_Delete(r);
		sleep_ms(20);
	}
	ck_assert_int_eq(n, 20);
	ck_assert_str_eq(cJSON_GetArrayItem(tail, 0)->valuestring,
	    "fake-mcp stderr line 31");
	cJSON_Delete(r);
	assert_serving(c);
	client_close(c);
}
END_TEST

/*
 * Closing: the escalation and process groups.
 */

START_TEST(test_child_ignoring_sigterm_is_killed_after_grace)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pid;
	long		 t0, elapsed;

	r = tool_call(c, "stubborn", "s", "pid", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);

	t0 = now_ms();
	ck_assert_int_eq(close_sessions(c,
	    "{\"server\":\"stubborn\",\"thread\":\"s\"}"), 1);

	/* stdin EOF does not end it, and SIGTERM waits for the grace. */
	sleep_ms(150);
	ck_assert_msg(pid_alive(pid), "pid %ld gone before the grace ran out",
	    (long)pid);
	ck_assert_msg(wait_pid_gone(pid, 1000), "pid %ld survived the close "
	    "escalation", (long)pid);
	/* EOF at 0, SIGTERM (ignored) at 200 ms, SIGKILL at 400 ms. */
	elapsed = now_ms() - t0;
	ck_assert_msg(elapsed >= 350, "gone after %ld ms: it was not SIGKILL "
	    "after two graces", elapsed);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

START_TEST(test_close_kills_the_grandchildren_of_the_child)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 grandchild, pid;

	r = tool_call(c, "fake", "g", "spawn_grandchild", NULL);
	grandchild = (pid_t)json_number(result_of(r),
	    "structuredContent.grandchild_pid");
	cJSON_Delete(r);
	r = tool_call(c, "fake", "g", "pid", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);
	ck_assert(pid_alive(grandchild));

	ck_assert_int_eq(close_sessions(c,
	    "{\"server\":\"fake\",\"thread\":\"g\"}"), 1);
	ck_assert(wait_pid_gone(pid, 2000));
	ck_assert_msg(wait_pid_gone(grandchild, 2000),
	    "grandchild %ld outlived broker/close", (long)grandchild);
	assert_no_children();
	assert_serving(c);
	client_close(c);
}
END_TEST

static Suite *
faults_suite(void)
{
	Suite	*s = suite_create("faults");
	TCase	*tc;

	tc = harness_add_tcase(s, "crash", setup_fake, teardown, 60);
	tcase_add_test(tc,
	    test_crash_mid_call_is_session_lost_and_next_call_restarts);
	tcase_add_test(tc, test_crash_fails_every_request_in_flight);
	tcase_add_test(tc, test_crash_kills_the_grandchildren_of_the_child);

	tc = harness_add_tcase(s, "handshake", setup_handshake, teardown, 60);
	tcase_add_test(tc, test_refused_handshake_is_start_failed);
	tcase_add_test(tc,
	    test_exit_during_handshake_is_start_failed_with_status);
	tcase_add_test(tc, test_hung_handshake_times_out_after_start_timeout);
	tcase_add_test(tc, test_unknown_protocol_version_is_start_failed);
	tcase_add_test(tc, test_command_that_does_not_exist_is_start_failed);
	tcase_add_test(tc,
	    test_requests_queued_for_a_failed_start_all_get_start_failed);
	tcase_add_test(tc,
	    test_requests_queued_during_start_are_answered_in_order);

	tc = harness_add_tcase(s, "client input", setup_fake, teardown, 60);
	tcase_add_test(tc, test_garbage_line_is_parse_error_with_null_id);
	tcase_add_test(tc, test_batch_is_invalid_request);
	tcase_add_test(tc, test_json_scalar_is_invalid_request);
	tcase_add_test(tc, test_wrong_jsonrpc_version_is_invalid_request);
	tcase_add_test(tc, test_missing_server_is_invalid_params);
	tcase_add_test(tc, test_non_string_server_is_invalid_params);
	tcase_add_test(tc, test_missing_thread_is_invalid_params);
	tcase_add_test(tc, test_non_string_thread_is_invalid_params);
	tcase_add_test(tc, test_params_not_an_object_is_invalid_params);
	tcase_add_test(tc, test_thread_over_256_bytes_is_invalid_params);
	tcase_add_test(tc, test_thread_of_256_bytes_is_accepted);
	tcase_add_test(tc, test_unknown_server_names_it);
	tcase_add_test(tc, test_unknown_broker_method_is_method_not_found);
	tcase_add_test(tc, test_close_with_bad_params_is_invalid_params);
	tcase_add_test(tc, test_non_numeric_timeout_is_invalid_params);
	tcase_add_test(tc, test_notifications_get_no_answer);

	tc = harness_add_tcase(s, "client line limit", setup_client_limit,
	    teardown, 60);
	tcase_add_test(tc,
	    test_over_size_line_is_refused_and_connection_closed);
	tcase_add_test(tc,
	    test_line_one_byte_over_max_message_bytes_is_refused);
	tcase_add_test(tc, test_line_of_exactly_max_message_bytes_is_accepted);

	tc = harness_add_tcase(s, "child line limit", setup_child_limit,
	    teardown, 60);
	tcase_add_test(tc, test_child_line_over_limit_loses_session);
	tcase_add_test(tc,
	    test_child_line_over_limit_in_handshake_is_start_failed);

	tc = harness_add_tcase(s, "child output", setup_output, teardown, 60);
	tcase_add_test(tc, test_garbage_on_child_stdout_is_skipped);
	tcase_add_test(tc, test_garbage_before_handshake_is_skipped);
	tcase_add_test(tc, test_child_ping_is_answered_by_broker);
	tcase_add_test(tc, test_stderr_tail_keeps_last_20_lines);

	tc = harness_add_tcase(s, "close escalation", setup_close,
	    teardown, 60);
	tcase_add_test(tc, test_child_ignoring_sigterm_is_killed_after_grace);
	tcase_add_test(tc, test_close_kills_the_grandchildren_of_the_child);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(faults_suite()));
}
