/*
 * A server's log messages (notifications/message) reach the clients
 * attached to its session that asked for logs (logging/setLevel, which
 * the broker answers), stamped with the session; nobody else gets them,
 * whether it took notifications with broker/hello or not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"

static struct daemon	*d;

static void
setup(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* broker/hello with params (JSON text), expecting a result. */
static void
hello(struct client *c, const char *params)
{
	cJSON	*r;

	r = rpc(c, "broker/hello", params);
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
}

/* logging/setLevel for fake/t1, answered by the broker. */
static void
set_level(struct client *c, const char *level)
{
	char	params[128];
	cJSON	*r;

	snprintf(params, sizeof params, "{\"server\":\"fake\","
	    "\"thread\":\"t1\",\"level\":\"%s\"}", level);
	r = rpc(c, "logging/setLevel", params);
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
}

START_TEST(test_a_client_that_set_a_level_gets_the_log_message)
{
	struct client	*c = daemon_connect(d);
	cJSON		*m, *params, *meta;

	set_level(c, "info");
	send_call(c, 5, "fake", "t1", "notify", NULL, NULL);
	m = recv_msg(c);
	ck_assert_str_eq(json_string(m, "method"), "notifications/message");
	params = cJSON_GetObjectItem(m, "params");
	ck_assert_str_eq(json_string(params, "level"), "info");
	ck_assert_str_eq(json_string(params, "data"), "hello");
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(params, "_meta"),
	    "mcp-broker/session");
	ck_assert_str_eq(json_string(meta, "server"), "fake");
	ck_assert_str_eq(json_string(meta, "thread"), "t1");
	ck_assert_double_eq(json_number(meta, "generation"), 1);
	ck_assert_ptr_nonnull(json_string(meta, "id"));
	cJSON_Delete(m);
	m = recv_msg(c);
	ck_assert_ptr_nonnull(result_of(m));
	cJSON_Delete(m);
	client_close(c);
}
END_TEST

START_TEST(test_a_client_that_asked_for_no_logs_gets_only_its_answer)
{
	struct client	*c = daemon_connect(d);
	cJSON		*m;

	hello(c, "{\"notifications\":true}");
	send_call(c, 5, "fake", "t1", "notify", NULL, NULL);
	m = recv_msg(c);
	ck_assert_ptr_nonnull(result_of(m));
	ck_assert_double_eq(json_number(m, "id"), 5);
	cJSON_Delete(m);
	client_close(c);
}
END_TEST

/* Attached and taking notifications is not asking for logs. */
START_TEST(test_an_attached_client_without_a_level_gets_nothing)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*m;

	set_level(a, "debug");
	hello(b, "{\"notifications\":true}");
	cJSON_Delete(tool_call(b, "fake", "t1", "echo", "{\"text\":\"x\"}"));
	send_call(a, 5, "fake", "t1", "notify", NULL, NULL);
	m = recv_msg(a);
	ck_assert_str_eq(json_string(m, "method"), "notifications/message");
	cJSON_Delete(m);
	cJSON_Delete(recv_msg(a));
	/* b's next message is the answer to its own next call. */
	send_call(b, 6, "fake", "t1", "echo", "{\"text\":\"y\"}", NULL);
	m = recv_msg(b);
	ck_assert_ptr_nonnull(result_of(m));
	ck_assert_double_eq(json_number(m, "id"), 6);
	cJSON_Delete(m);
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_notifications_must_be_a_boolean)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = rpc(c, "broker/hello", "{\"notifications\":\"yes\"}");
	ck_assert_int_eq(error_code(r), -32602);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite	*s = suite_create("relay");
	TCase	*tc;

	tc = harness_add_tcase(s, "relay", setup, teardown, 30);
	tcase_add_test(tc, test_a_client_that_set_a_level_gets_the_log_message);
	tcase_add_test(tc,
	    test_a_client_that_asked_for_no_logs_gets_only_its_answer);
	tcase_add_test(tc,
	    test_an_attached_client_without_a_level_gets_nothing);
	tcase_add_test(tc, test_notifications_must_be_a_boolean);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(relay_suite()));
}
