/*
 * The broker end to end: state persists within a thread and not across
 * threads, routing by key, the _meta it adds, and its own methods.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"

static struct daemon	*d;

/* One fake server, "fake", and a disabled one. */
static void
setup(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"off\":{\"command\":\"@FAKE@\",\"disabled\":true}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

START_TEST(test_state_persists_within_a_thread)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	int		 i;

	for (i = 1; i <= 3; i++) {
		r = tool_call(c, "fake", "t1", "counter", NULL);
		ck_assert_int_eq(count_of(r), i);
		cJSON_Delete(r);
	}
	client_close(c);
}
END_TEST

START_TEST(test_threads_get_separate_children)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r1, *r2;

	r1 = tool_call(c, "fake", "t1", "counter", NULL);
	r2 = tool_call(c, "fake", "t2", "counter", NULL);
	ck_assert_int_eq(count_of(r1), 1);
	ck_assert_int_eq(count_of(r2), 1);
	ck_assert_int_ne(pid_of(r1), pid_of(r2));
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	client_close(c);
}
END_TEST

START_TEST(test_same_thread_from_two_connections_reaches_one_child)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r1, *r2;

	r1 = tool_call(a, "fake", "shared", "counter", NULL);
	r2 = tool_call(b, "fake", "shared", "counter", NULL);
	ck_assert_int_eq(count_of(r1), 1);
	ck_assert_int_eq(count_of(r2), 2);
	ck_assert_int_eq(pid_of(r1), pid_of(r2));
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_result_carries_session_meta)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r1, *r2, *r3;

	r1 = tool_call(c, "fake", "m", "counter", NULL);
	r2 = tool_call(c, "fake", "m", "counter", NULL);
	r3 = tool_call(c, "fake", "other", "counter", NULL);
	ck_assert_int_eq(generation_of(r1), 1);
	ck_assert_str_eq(session_id_of(r1), session_id_of(r2));
	ck_assert_str_ne(session_id_of(r1), session_id_of(r3));
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	cJSON_Delete(r3);
	client_close(c);
}
END_TEST

START_TEST(test_routing_members_are_stripped_and_ids_kept)
{
	struct client	*c = daemon_connect(d);
	const char	*line = "{\"jsonrpc\":\"2.0\",\"id\":\"my-id-7\","
	    "\"method\":\"tools/call\",\"params\":{\"server\":\"fake\","
	    "\"thread\":\"ids\",\"name\":\"echo\",\"arguments\":{\"text\":"
	    "\"hi\"}}}\n";
	cJSON		*r;
	char		*cause = NULL;

	ck_assert_int_eq(client_send_raw(c, line, strlen(line), &cause), 0);
	r = client_recv(c, HARNESS_TIMEOUT_MS, &cause);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(json_string(r, "id"), "my-id-7");
	ck_assert_str_eq(json_string(result_of(r), "structuredContent.text"),
	    "hi");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_other_mcp_methods_are_forwarded)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = rpc(c, "tools/list", "{\"server\":\"fake\",\"thread\":\"l\"}");
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(result_of(r), "tools")));
	cJSON_Delete(r);
	r = rpc(c, "resources/list", "{\"server\":\"fake\",\"thread\":\"l\"}");
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(result_of(r),
	    "resources")));
	cJSON_Delete(r);
	/* The child's own errors come back verbatim. */
	r = rpc(c, "no/such/method", "{\"server\":\"fake\",\"thread\":\"l\"}");
	ck_assert_int_eq(error_code(r), -32601);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_status_lists_sessions_and_counters)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *s, *sessions;
	int		 found = 0;

	cJSON_Delete(tool_call(c, "fake", "st1", "counter", NULL));
	cJSON_Delete(tool_call(c, "fake", "st1", "counter", NULL));
	r = rpc(c, "broker/status", NULL);
	sessions = cJSON_GetObjectItem(result_of(r), "sessions");
	ck_assert_int_eq(cJSON_GetArraySize(sessions), 1);
	cJSON_ArrayForEach(s, sessions) {
		ck_assert_str_eq(json_string(s, "server"), "fake");
		ck_assert_str_eq(json_string(s, "thread"), "st1");
		ck_assert_str_eq(json_string(s, "state"), "ready");
		ck_assert_int_eq((int)json_number(s, "calls"), 2);
		ck_assert_int_eq((int)json_number(s, "in_flight"), 0);
		ck_assert_int_eq((int)json_number(s, "generation"), 1);
		ck_assert(pid_alive((pid_t)json_number(s, "pid")));
		ck_assert_int_eq(strlen(json_string(s, "created_at")), 20);
		found++;
	}
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_started"), 1);
	ck_assert_int_eq((int)json_number(result_of(r), "counters.requests"),
	    3);
	ck_assert_int_eq((int)json_number(result_of(r), "pid"), d->pid);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_session_method_shows_handshake_and_create)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = rpc(c, "broker/session", "{\"server\":\"fake\",\"thread\":\"x\"}");
	ck_assert_int_eq(error_code(r), -32602);
	cJSON_Delete(r);

	r = rpc(c, "broker/session",
	    "{\"server\":\"fake\",\"thread\":\"x\",\"create\":true}");
	ck_assert_str_eq(json_string(result_of(r), "state"), "ready");
	ck_assert_str_eq(json_string(result_of(r), "protocol_version"),
	    "2025-11-25");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(result_of(r),
	    "server_info")));
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(result_of(r),
	    "stderr_tail")));
	cJSON_Delete(r);

	r = rpc(c, "broker/session", "{\"server\":\"fake\",\"thread\":\"x\"}");
	ck_assert_int_eq((int)json_number(result_of(r), "generation"), 1);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_servers_lists_config_without_env)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *s;
	int		 n = 0;

	r = rpc(c, "broker/servers", NULL);
	cJSON_ArrayForEach(s, result_of(r)) {
		ck_assert_ptr_null(cJSON_GetObjectItem(s, "env"));
		ck_assert_ptr_null(cJSON_GetObjectItem(s, "command"));
		n++;
	}
	ck_assert_int_eq(n, 2);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_disabled_server_is_refused)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "off", "t", "counter", NULL);
	ck_assert_int_eq(error_code(r), -32010);
	ck_assert_str_eq(json_string(error_data(r), "server"), "off");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

static Suite *
basic_suite(void)
{
	Suite	*s = suite_create("basic");
	TCase	*tc = harness_add_tcase(s, "end to end", setup, teardown, 60);

	tcase_add_test(tc, test_state_persists_within_a_thread);
	tcase_add_test(tc, test_threads_get_separate_children);
	tcase_add_test(tc, test_same_thread_from_two_connections_reaches_one_child);
	tcase_add_test(tc, test_result_carries_session_meta);
	tcase_add_test(tc, test_routing_members_are_stripped_and_ids_kept);
	tcase_add_test(tc, test_other_mcp_methods_are_forwarded);
	tcase_add_test(tc, test_status_lists_sessions_and_counters);
	tcase_add_test(tc, test_session_method_shows_handshake_and_create);
	tcase_add_test(tc, test_servers_lists_config_without_env);
	tcase_add_test(tc, test_disabled_server_is_refused);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(basic_suite()));
}
