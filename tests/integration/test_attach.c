/*
 * Attachment: a client that has sent a request for a key is attached to
 * that key's session until it disconnects. What the child sends unasked
 * reaches the attached clients it is for, stamped with the session:
 * list changes every client that took notifications, log messages the
 * clients that set a level (at or above it), resource updates the
 * clients subscribed to the URI. The child hears the most verbose level
 * asked for, one subscribe per URI and its unsubscribe after the last
 * subscriber leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"

/* ATTACH_MAX_SUBSCRIPTIONS in daemon/attach.h. */
#define MAX_SUBSCRIPTIONS	64

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

/* broker/hello {"notifications": true}. */
static void
take_notifications(struct client *c)
{
	cJSON	*r;

	r = rpc(c, "broker/hello", "{\"notifications\":true}");
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
}

/* A result's _meta["mcp-broker/session"] (fails if none). */
static cJSON *
session_meta_of(cJSON *result)
{
	cJSON	*meta;

	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(result, "_meta"),
	    "mcp-broker/session");
	ck_assert_ptr_nonnull(meta);
	ck_assert_ptr_nonnull(json_string(meta, "id"));
	return (meta);
}

/* A request on fake/thread with params (JSON members, no braces). */
static cJSON *
call(struct client *c, const char *method, const char *thread,
    const char *members)
{
	char	params[512];

	snprintf(params, sizeof params, "{\"server\":\"fake\",\"thread\":"
	    "\"%s\"%s%s}", thread, *members != '\0' ? "," : "", members);
	return (rpc(c, method, params));
}

/* logging/setLevel on fake/thread: answered {} by the broker. */
static void
set_level(struct client *c, const char *thread, const char *level)
{
	char	members[64];
	cJSON	*r;

	snprintf(members, sizeof members, "\"level\":\"%s\"", level);
	r = call(c, "logging/setLevel", thread, members);
	session_meta_of(result_of(r));
	cJSON_Delete(r);
}

/* resources/subscribe or unsubscribe {uri} on fake/t1, succeeding. */
static void
subscription(struct client *c, const char *method, const char *uri)
{
	char	members[256];
	cJSON	*r;

	snprintf(members, sizeof members, "\"uri\":\"%s\"", uri);
	r = call(c, method, "t1", members);
	session_meta_of(result_of(r));
	cJSON_Delete(r);
}

/* A tool's structuredContent (the caller deletes *response). */
static cJSON *
structured(struct client *c, const char *thread, const char *tool,
    const char *args, cJSON **response)
{
	*response = tool_call(c, "fake", thread, tool, args);
	return (cJSON_GetObjectItem(result_of(*response),
	    "structuredContent"));
}

/*
 * The client's next message is the notification method, stamped with
 * fake/thread's session; returns its params (the caller deletes *msg).
 */
static cJSON *
expect_note(struct client *c, const char *method, const char *thread,
    cJSON **msg)
{
	cJSON	*params, *meta;

	*msg = recv_msg(c);
	ck_assert_ptr_nonnull(json_string(*msg, "method"));
	ck_assert_str_eq(json_string(*msg, "method"), method);
	params = cJSON_GetObjectItem(*msg, "params");
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(params, "_meta"),
	    "mcp-broker/session");
	ck_assert_ptr_nonnull(meta);
	ck_assert_str_eq(json_string(meta, "server"), "fake");
	ck_assert_str_eq(json_string(meta, "thread"), thread);
	ck_assert_ptr_nonnull(json_string(meta, "id"));
	ck_assert_double_eq(json_number(meta, "generation"), 1);
	return (params);
}

/* Nothing is waiting for the client: its next message answers a call. */
static void
expect_quiet(struct client *c, const char *thread)
{
	cJSON	*m;

	send_call(c, 900, "fake", thread, "echo", "{\"text\":\"q\"}", NULL);
	m = recv_msg(c);
	ck_assert_msg(cJSON_GetObjectItem(m, "method") == NULL, "unexpected %s",
	    cJSON_PrintUnformatted(m));
	ck_assert_double_eq(json_number(m, "id"), 900);
	cJSON_Delete(m);
}

/* The child's level as its log_level tool says (NULL: never set). */
static char *
child_level(struct client *c)
{
	cJSON	*r, *level;
	char	*s;

	level = cJSON_GetObjectItem(structured(c, "t1", "log_level", NULL,
	    &r), "level");
	s = cJSON_IsString(level) ? strdup(level->valuestring) : NULL;
	cJSON_Delete(r);
	return (s);
}

/* Wait until the child's level is level (the client leaving is seen by
   the daemon a moment later). */
static void
wait_child_level(struct client *c, const char *level)
{
	char	*now = NULL;
	long	 deadline = now_ms() + 5000;

	for (;;) {
		free(now);
		now = child_level(c);
		if ((now != NULL && strcmp(now, level) == 0) ||
		    now_ms() > deadline)
			break;
		sleep_ms(20);
	}
	ck_assert_msg(now != NULL && strcmp(now, level) == 0, "child level "
	    "%s, expected %s", now != NULL ? now : "unset", level);
	free(now);
}

START_TEST(test_list_changed_reaches_attached_clients_taking_notifications)
{
	static const char *const kinds[] = { "tools", "resources", "prompts" };
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	struct client	*c = daemon_connect(d), *o = daemon_connect(d);
	char		 args[64], method[64];
	cJSON		*m, *r;
	size_t		 i;

	take_notifications(a);
	take_notifications(b);
	take_notifications(o);
	cJSON_Delete(tool_call(b, "fake", "t1", "echo", "{\"text\":\"b\"}"));
	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"c\"}"));
	cJSON_Delete(tool_call(o, "fake", "t2", "echo", "{\"text\":\"o\"}"));
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		snprintf(args, sizeof args, "{\"kind\":\"%s\"}", kinds[i]);
		snprintf(method, sizeof method,
		    "notifications/%s/list_changed", kinds[i]);
		send_call(a, 5, "fake", "t1", "list_changed", args, NULL);
		expect_note(a, method, "t1", &m);
		cJSON_Delete(m);
		r = recv_msg(a);
		ck_assert_double_eq(json_number(r, "id"), 5);
		cJSON_Delete(r);
		expect_note(b, method, "t1", &m);
		cJSON_Delete(m);
	}
	/* Attached without hello, and attached elsewhere: nothing. */
	expect_quiet(c, "t1");
	expect_quiet(o, "t2");
	client_close(a);
	client_close(b);
	client_close(c);
	client_close(o);
}
END_TEST

START_TEST(test_a_log_message_reaches_clients_that_set_a_level_at_it)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	struct client	*c = daemon_connect(d);
	cJSON		*m, *params, *r;

	take_notifications(c);
	set_level(a, "t1", "warning");
	set_level(b, "t1", "debug");
	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"c\"}"));

	/* info: below a's level, at or above b's. */
	send_call(c, 5, "fake", "t1", "log",
	    "{\"level\":\"info\",\"data\":\"one\"}", NULL);
	r = recv_msg(c);
	ck_assert_msg(cJSON_GetObjectItem(r, "method") == NULL, "c got %s",
	    cJSON_PrintUnformatted(r));
	cJSON_Delete(r);
	params = expect_note(b, "notifications/message", "t1", &m);
	ck_assert_str_eq(json_string(params, "level"), "info");
	ck_assert_str_eq(json_string(params, "data"), "one");
	cJSON_Delete(m);

	/* error: both. */
	cJSON_Delete(tool_call(c, "fake", "t1", "log",
	    "{\"level\":\"error\",\"data\":\"two\"}"));
	params = expect_note(a, "notifications/message", "t1", &m);
	ck_assert_str_eq(json_string(params, "data"), "two");
	cJSON_Delete(m);
	params = expect_note(b, "notifications/message", "t1", &m);
	ck_assert_str_eq(json_string(params, "data"), "two");
	cJSON_Delete(m);
	expect_quiet(a, "t1");
	expect_quiet(c, "t1");
	client_close(a);
	client_close(b);
	client_close(c);
}
END_TEST

START_TEST(test_the_childs_level_follows_the_most_verbose_asker)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	struct client	*c = daemon_connect(d);
	char		*level;

	level = child_level(c);
	ck_assert_ptr_null(level);
	set_level(a, "t1", "error");
	wait_child_level(c, "error");
	set_level(b, "t1", "debug");
	wait_child_level(c, "debug");
	/* A less verbose asker changes nothing: the child reads its
	   stdin in order, so a level sent for it would show at once. */
	set_level(a, "t1", "critical");
	level = child_level(c);
	ck_assert_str_eq(level, "debug");
	free(level);
	client_close(b);
	wait_child_level(c, "critical");
	client_close(a);
	/* Nobody asks any more: the level the daemon logs at (debug). */
	wait_child_level(c, "debug");
	client_close(c);
}
END_TEST

START_TEST(test_an_unknown_level_is_refused_changing_nothing)
{
	struct client	*a = daemon_connect(d);
	cJSON		*r;
	char		*level;

	r = call(a, "logging/setLevel", "t1", "\"level\":\"loud\"");
	ck_assert_int_eq(error_code(r), -32602);
	ck_assert_ptr_nonnull(strstr(json_string(cJSON_GetObjectItem(r,
	    "error"), "message"), "debug"));
	cJSON_Delete(r);
	level = child_level(a);
	ck_assert_ptr_null(level);
	client_close(a);
}
END_TEST

START_TEST(test_one_subscribe_at_the_child_and_updates_reach_subscribers)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	struct client	*c = daemon_connect(d);
	cJSON		*m, *r, *s, *params;
	long		 deadline;

	subscription(a, "resources/subscribe", "file:///r");
	subscription(b, "resources/subscribe", "file:///r");
	s = structured(c, "t1", "subscriptions", NULL, &r);
	ck_assert_double_eq(json_number(s, "subscribes"), 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s, "uris")),
	    1);
	cJSON_Delete(r);

	/* Updated: to both subscribers, not to c, which asked for it. */
	send_call(c, 5, "fake", "t1", "update", "{\"uri\":\"file:///r\"}",
	    NULL);
	r = recv_msg(c);
	ck_assert_msg(cJSON_GetObjectItem(r, "method") == NULL, "c got %s",
	    cJSON_PrintUnformatted(r));
	cJSON_Delete(r);
	params = expect_note(a, "notifications/resources/updated", "t1", &m);
	ck_assert_str_eq(json_string(params, "uri"), "file:///r");
	cJSON_Delete(m);
	params = expect_note(b, "notifications/resources/updated", "t1", &m);
	ck_assert_str_eq(json_string(params, "uri"), "file:///r");
	cJSON_Delete(m);

	/* Another URI reaches nobody. */
	cJSON_Delete(tool_call(c, "fake", "t1", "update",
	    "{\"uri\":\"file:///other\"}"));
	expect_quiet(a, "t1");
	expect_quiet(b, "t1");

	/* One subscriber left: the child still has it. */
	subscription(a, "resources/unsubscribe", "file:///r");
	s = structured(c, "t1", "subscriptions", NULL, &r);
	ck_assert_double_eq(json_number(s, "unsubscribes"), 0);
	cJSON_Delete(r);
	cJSON_Delete(tool_call(c, "fake", "t1", "update",
	    "{\"uri\":\"file:///r\"}"));
	expect_note(b, "notifications/resources/updated", "t1", &m);
	cJSON_Delete(m);
	expect_quiet(a, "t1");

	/* The last subscriber disconnects: the child is unsubscribed. */
	client_close(b);
	deadline = now_ms() + 5000;
	for (;;) {
		s = structured(c, "t1", "subscriptions", NULL, &r);
		if (json_number(s, "unsubscribes") == 1 || now_ms() > deadline)
			break;
		cJSON_Delete(r);
		sleep_ms(20);
	}
	ck_assert_double_eq(json_number(s, "unsubscribes"), 1);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s, "uris")),
	    0);
	cJSON_Delete(r);
	client_close(a);
	client_close(c);
}
END_TEST

START_TEST(test_a_client_over_the_subscription_bound_is_refused)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r;
	char		 uri[64];
	int		 i;

	for (i = 0; i < MAX_SUBSCRIPTIONS; i++) {
		snprintf(uri, sizeof uri, "file:///r%d", i);
		subscription(a, "resources/subscribe", uri);
	}
	r = call(a, "resources/subscribe", "t1", "\"uri\":\"file:///more\"");
	ck_assert_int_eq(error_code(r), -32014);
	ck_assert_ptr_nonnull(strstr(json_string(cJSON_GetObjectItem(r,
	    "error"), "message"), "ATTACH_MAX_SUBSCRIPTIONS"));
	ck_assert_double_eq(json_number(error_data(r), "max_subscriptions"),
	    MAX_SUBSCRIPTIONS);
	cJSON_Delete(r);
	/* The bound is per client. */
	subscription(b, "resources/subscribe", "file:///more");
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_a_subscribe_the_server_refuses_subscribes_nobody)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	struct client	*c = daemon_connect(d);
	cJSON		*r, *s, *m;

	r = call(a, "resources/subscribe", "t1", "\"uri\":\"refuse:r\"");
	ck_assert_int_eq(error_code(r), -32602);
	cJSON_Delete(r);
	/* b's subscribe is not answered by the broker: it reaches the
	   server, which refuses it too. */
	r = call(b, "resources/subscribe", "t1", "\"uri\":\"refuse:r\"");
	ck_assert_int_eq(error_code(r), -32602);
	cJSON_Delete(r);
	s = structured(c, "t1", "subscriptions", NULL, &r);
	ck_assert_double_eq(json_number(s, "subscribes"), 2);
	cJSON_Delete(r);
	/* Nobody is subscribed: an update reaches nobody. */
	cJSON_Delete(tool_call(c, "fake", "t1", "update",
	    "{\"uri\":\"refuse:r\"}"));
	expect_quiet(a, "t1");
	expect_quiet(b, "t1");
	/* A subscription the server takes still works after; an update
	   for its uri cut short at a NUL is nobody's. */
	subscription(a, "resources/subscribe", "file:///ok");
	cJSON_Delete(tool_call(c, "fake", "t1", "raw_lines", "{\"lines\":["
	    "\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"method\\\":"
	    "\\\"notifications/resources/updated\\\",\\\"params\\\":"
	    "{\\\"uri\\\":\\\"file:///ok\\\\u0000x\\\"}}\","
	    "\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":@ID@,"
	    "\\\"result\\\":{\\\"content\\\":[]}}\"]}"));
	expect_quiet(a, "t1");
	cJSON_Delete(tool_call(c, "fake", "t1", "update",
	    "{\"uri\":\"file:///ok\"}"));
	expect_note(a, "notifications/resources/updated", "t1", &m);
	cJSON_Delete(m);
	client_close(a);
	client_close(b);
	client_close(c);
}
END_TEST

/*
 * A session with a resource subscription is not idle: it outlives
 * idle_timeout_s while its subscriber stays, and expires once it leaves.
 */
START_TEST(test_a_subscription_keeps_its_session_from_idle_expiry)
{
	struct daemon	*own;
	struct client	*a, *watch;
	int		 i, n = 1;

	daemon_stop_ok(d);
	own = daemon_start("\"idle_timeout_s\":1",
	    "\"fake\":{\"command\":\"@FAKE@\"}");
	d = own;
	a = daemon_connect(d);
	watch = daemon_connect(d);
	subscription(a, "resources/subscribe", "file:///r");
	sleep_ms(2500);
	ck_assert_int_eq(session_count(watch), 1);
	client_close(a);
	for (i = 0; i < 60 && n > 0; i++) {
		sleep_ms(100);
		n = session_count(watch);
	}
	ck_assert_msg(n == 0, "the session did not expire once its "
	    "subscriber left");
	client_close(watch);
}
END_TEST

static Suite *
attach_suite(void)
{
	Suite	*s = suite_create("attach");
	TCase	*tc;

	tc = harness_add_tcase(s, "attach", setup, teardown, 60);
	tcase_add_test(tc,
	    test_list_changed_reaches_attached_clients_taking_notifications);
	tcase_add_test(tc,
	    test_a_log_message_reaches_clients_that_set_a_level_at_it);
	tcase_add_test(tc,
	    test_the_childs_level_follows_the_most_verbose_asker);
	tcase_add_test(tc, test_an_unknown_level_is_refused_changing_nothing);
	tcase_add_test(tc,
	    test_one_subscribe_at_the_child_and_updates_reach_subscribers);
	tcase_add_test(tc,
	    test_a_client_over_the_subscription_bound_is_refused);
	tcase_add_test(tc,
	    test_a_subscribe_the_server_refuses_subscribes_nobody);
	tcase_add_test(tc,
	    test_a_subscription_keeps_its_session_from_idle_expiry);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(attach_suite()));
}
