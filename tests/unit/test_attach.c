/*
 * Attachments (daemon/attach.c) between fake clients and a session's
 * attachment set: each client attached once, detached when it goes or
 * the session ends; list changes, log messages and resource updates
 * reach the clients they are for, each once and stamped; the child is
 * told the most verbose level asked for and a URI's first subscribe and
 * last unsubscribe only.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "attach.h"
#include "fake_front.h"
#include "front.h"
#include "log.h"

#define STAMP	"{\"id\":\"s1\",\"generation\":1,\"server\":\"x\"," \
		"\"thread\":\"t\"}"

static struct attach_set	*set;
static cJSON			*child;		/* what the child was sent */
static struct fake_front	 a, b, c;

/* The set's way to the child: every message kept. */
static void
write_child(cJSON *msg, void *arg)
{
	(void)arg;
	cJSON_AddItemToArray(child, msg);
}

static void
setup(void)
{
	child = cJSON_CreateArray();
	set = attach_set_new(write_child, NULL, NULL);
	fake_front_init(&a, NULL, 1000, 0);
	fake_front_init(&b, NULL, 1000, 0);
	fake_front_init(&c, NULL, 1000, 0);
}

static void
teardown(void)
{
	attach_front_gone(&a.front);
	attach_front_gone(&b.front);
	attach_front_gone(&c.front);
	attach_set_free(set);
	fake_front_clear(&a);
	fake_front_clear(&b);
	fake_front_clear(&c);
	cJSON_Delete(child);
}

/* A request's text after its id, as the session holds it. */
static enum attach_verdict
request(struct fake_front *ff, const char *method, const char *params,
    int modern)
{
	const char	*message = NULL;
	char		 tail[1024];
	int		 n;

	n = snprintf(tail, sizeof tail, ",\"method\":\"%s\",\"params\":%s}\n",
	    method, params);
	return (attach_request(set, &ff->front, tail, (size_t)n, modern,
	    &message));
}

/* The child's n-th message's method and params[member]. */
static void
expect_child(int n, const char *method, const char *member,
    const char *value)
{
	cJSON	*m = cJSON_GetArrayItem(child, n);

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(m,
	    "method")), method);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(m, "params"), member)), value);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(m, "id"));
}

/* Send a notification line of the child's. */
static void
notify(enum attach_to to, const char *arg, const char *line)
{
	attach_notify(set, to, arg, line, strlen(line), STAMP,
	    strlen(STAMP));
}

/* The client's next message: method, stamped with the session. */
static cJSON *
expect_sent(struct fake_front *ff, const char *method)
{
	cJSON	*m = fake_front_pop(ff), *stamp;

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(m,
	    "method")), method);
	stamp = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    m, "params"), "_meta"), "mcp-broker/session");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(stamp,
	    "id")), "s1");
	return (m);
}

START_TEST(test_a_client_is_attached_once)
{
	struct attach	*x;

	x = attach_get(set, &a.front);
	ck_assert_ptr_eq(attach_get(set, &a.front), x);
	attach_get(set, &b.front);
	ck_assert_ptr_eq(attach_get(set, &a.front), x);
	ck_assert_uint_eq(attach_count(set), 2);
}
END_TEST

/* Found from either side: a client of many sessions, a session of many
   clients. */
START_TEST(test_an_attachment_is_found_among_many)
{
	struct attach_set	*more[3];
	struct attach		*x[3], *y[3];
	int			 i;

	for (i = 0; i < 3; i++) {
		more[i] = attach_set_new(write_child, NULL, NULL);
		x[i] = attach_get(more[i], &a.front);
	}
	y[0] = attach_get(set, &a.front);
	y[1] = attach_get(set, &b.front);
	y[2] = attach_get(set, &c.front);
	for (i = 0; i < 3; i++)
		ck_assert_ptr_eq(attach_get(more[i], &a.front), x[i]);
	ck_assert_ptr_eq(attach_get(set, &c.front), y[2]);
	ck_assert_ptr_eq(attach_get(set, &a.front), y[0]);
	ck_assert_ptr_eq(attach_get(set, &b.front), y[1]);
	ck_assert_uint_eq(attach_count(set), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(attach_count(more[i]), 1);
		attach_set_free(more[i]);
	}
}
END_TEST

START_TEST(test_a_client_that_goes_is_detached)
{
	attach_get(set, &a.front);
	attach_get(set, &b.front);
	attach_front_gone(&a.front);
	ck_assert_uint_eq(attach_count(set), 1);
	ck_assert_ptr_null(TAILQ_FIRST(&a.front.attaches));
}
END_TEST

START_TEST(test_a_session_that_ends_detaches_its_clients)
{
	struct attach_set	*other = attach_set_new(write_child, NULL, NULL);
	struct attach		*x;

	x = attach_get(set, &a.front);
	ck_assert_ptr_ne(attach_get(other, &a.front), x);
	ck_assert_ptr_ne(TAILQ_FIRST(&a.front.attaches), x);
	attach_set_free(other);
	ck_assert_ptr_eq(TAILQ_FIRST(&a.front.attaches), x);
	ck_assert_uint_eq(attach_count(set), 1);
}
END_TEST

START_TEST(test_list_changed_reaches_each_client_taking_notifications_once)
{
	a.front.notifications = 1;
	b.front.notifications = 0;
	attach_get(set, &a.front);
	attach_get(set, &a.front);
	attach_get(set, &b.front);
	notify(ATTACH_TO_ALL, NULL, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/tools/list_changed\"}");
	cJSON_Delete(expect_sent(&a, "notifications/tools/list_changed"));
	ck_assert_uint_eq(fake_front_waiting(&a), 0);
	ck_assert_uint_eq(fake_front_waiting(&b), 0);
	ck_assert_uint_eq(fake_front_waiting(&c), 0);
}
END_TEST

START_TEST(test_set_level_is_answered_and_the_child_gets_the_most_verbose)
{
	ck_assert_int_eq(request(&a, "logging/setLevel",
	    "{\"level\":\"error\"}", 0), ATTACH_ANSWER);
	expect_child(0, "logging/setLevel", "level", "error");
	ck_assert_int_eq(request(&b, "logging/setLevel",
	    "{\"level\":\"debug\"}", 0), ATTACH_ANSWER);
	expect_child(1, "logging/setLevel", "level", "debug");
	/* Less verbose than debug: the child is not told. */
	ck_assert_int_eq(request(&c, "logging/setLevel",
	    "{\"level\":\"warning\"}", 0), ATTACH_ANSWER);
	ck_assert_int_eq(cJSON_GetArraySize(child), 2);
	attach_front_gone(&b.front);
	expect_child(2, "logging/setLevel", "level", "warning");
	attach_front_gone(&a.front);
	ck_assert_int_eq(cJSON_GetArraySize(child), 3);
	/* Nobody asks: the level the daemon's log keeps. */
	log_set_level(LOG_LEVEL_ERROR);
	attach_front_gone(&c.front);
	expect_child(3, "logging/setLevel", "level", "error");
	ck_assert_int_eq(attach_child_level(set), attach_level_rank("error"));
}
END_TEST

START_TEST(test_an_unknown_level_is_refused)
{
	ck_assert_int_eq(request(&a, "logging/setLevel",
	    "{\"level\":\"loud\"}", 0), ATTACH_INVALID);
	ck_assert_int_eq(request(&a, "logging/setLevel", "{}", 0),
	    ATTACH_INVALID);
	ck_assert_int_eq(cJSON_GetArraySize(child), 0);
}
END_TEST

START_TEST(test_a_modern_child_is_sent_no_set_level)
{
	ck_assert_int_eq(request(&a, "logging/setLevel",
	    "{\"level\":\"info\"}", 1), ATTACH_ANSWER);
	ck_assert_int_eq(cJSON_GetArraySize(child), 0);
	ck_assert_int_eq(request(&a, "resources/subscribe",
	    "{\"uri\":\"u\"}", 1), ATTACH_FORWARD);
}
END_TEST

START_TEST(test_a_request_log_level_in_meta_sets_the_clients_level)
{
	ck_assert_int_eq(request(&a, "tools/call", "{\"name\":\"x\","
	    "\"_meta\":{\"io.modelcontextprotocol/logLevel\":\"notice\"}}",
	    0), ATTACH_FORWARD);
	expect_child(0, "logging/setLevel", "level", "notice");
	notify(ATTACH_TO_LOG, "info", "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/message\",\"params\":{\"level\":\"info\"}}");
	ck_assert_uint_eq(fake_front_waiting(&a), 0);
	notify(ATTACH_TO_LOG, "notice", "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/message\",\"params\":{\"level\":\"notice\"}}");
	cJSON_Delete(expect_sent(&a, "notifications/message"));
}
END_TEST

START_TEST(test_log_messages_reach_clients_at_their_level_only)
{
	a.front.notifications = 1;
	attach_get(set, &a.front);
	request(&b, "logging/setLevel", "{\"level\":\"info\"}", 0);
	request(&c, "logging/setLevel", "{\"level\":\"error\"}", 0);
	notify(ATTACH_TO_LOG, "warning", "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/message\",\"params\":{\"level\":\"warning\","
	    "\"data\":\"w\"}}");
	ck_assert_uint_eq(fake_front_waiting(&a), 0);
	cJSON_Delete(expect_sent(&b, "notifications/message"));
	ck_assert_uint_eq(fake_front_waiting(&c), 0);
	notify(ATTACH_TO_LOG, "error", "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/message\",\"params\":{\"level\":\"error\"}}");
	cJSON_Delete(expect_sent(&b, "notifications/message"));
	cJSON_Delete(expect_sent(&c, "notifications/message"));
}
END_TEST

START_TEST(test_subscribe_goes_to_the_child_for_the_first_subscriber_only)
{
	ck_assert_int_eq(request(&a, "resources/subscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_FORWARD);
	/* Sent as the child's request 7, and answered with a result. */
	attach_sent(set, &a.front, 7);
	attach_answered(set, 7, 1, 0);
	ck_assert_int_eq(request(&b, "resources/subscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_ANSWER);
	ck_assert_int_eq(request(&a, "resources/subscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_ANSWER);
	attach_get(set, &c.front);
	notify(ATTACH_TO_SUBSCRIBERS, "file:///r", "{\"jsonrpc\":\"2.0\","
	    "\"method\":\"notifications/resources/updated\",\"params\":"
	    "{\"uri\":\"file:///r\"}}");
	cJSON_Delete(expect_sent(&a, "notifications/resources/updated"));
	cJSON_Delete(expect_sent(&b, "notifications/resources/updated"));
	ck_assert_uint_eq(fake_front_waiting(&c), 0);
	ck_assert_uint_eq(fake_front_waiting(&a), 0);
	/* Another URI reaches nobody. */
	notify(ATTACH_TO_SUBSCRIBERS, "file:///s", "{\"jsonrpc\":\"2.0\","
	    "\"method\":\"notifications/resources/updated\",\"params\":"
	    "{\"uri\":\"file:///s\"}}");
	ck_assert_uint_eq(fake_front_waiting(&a) + fake_front_waiting(&b),
	    0);
	ck_assert_int_eq(cJSON_GetArraySize(child), 0);
}
END_TEST

/* A subscribe to a URI of ATTACH_URI_MAX + 1 bytes is refused. */
static void
long_uri_refused(void)
{
	const char	*message = NULL;
	char		*tail;
	size_t		 n;

	n = strlen(",\"method\":\"resources/subscribe\",\"params\":"
	    "{\"uri\":\"");
	tail = malloc(n + ATTACH_URI_MAX + 16);
	memcpy(tail, ",\"method\":\"resources/subscribe\",\"params\":"
	    "{\"uri\":\"", n);
	memset(tail + n, 'u', ATTACH_URI_MAX + 1);
	n += ATTACH_URI_MAX + 1;
	memcpy(tail + n, "\"}}\n", 4);
	n += 4;
	ck_assert_int_eq(attach_request(set, &c.front, tail, n, 0, &message),
	    ATTACH_INVALID);
	ck_assert_ptr_nonnull(strstr(message, "ATTACH_URI_MAX"));
	/* One byte less is kept. */
	memmove(tail + n - 5, tail + n - 4, 4);
	ck_assert_int_eq(attach_request(set, &c.front, tail, n - 1, 0,
	    &message), ATTACH_FORWARD);
	free(tail);
}

START_TEST(test_a_subscribe_the_child_refuses_is_undone)
{
	ck_assert_int_eq(request(&a, "resources/subscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_FORWARD);
	attach_sent(set, &a.front, 3);
	/* While it is on its way, the next subscriber's goes too. */
	ck_assert_int_eq(request(&b, "resources/subscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_FORWARD);
	attach_sent(set, &b.front, 4);
	attach_answered(set, 3, 0, 0);
	attach_answered(set, 4, 0, 0);
	/* Neither is subscribed: an update reaches nobody; b leaving
	   unsubscribes nothing; the session holds no subscription. */
	notify(ATTACH_TO_SUBSCRIBERS, "file:///r", "{\"jsonrpc\":\"2.0\","
	    "\"method\":\"notifications/resources/updated\",\"params\":"
	    "{\"uri\":\"file:///r\"}}");
	ck_assert_uint_eq(fake_front_waiting(&a) + fake_front_waiting(&b),
	    0);
	ck_assert_int_eq(attach_subscribed(set), 0);
	attach_front_gone(&b.front);
	ck_assert_int_eq(cJSON_GetArraySize(child), 0);
	/* A new subscribe goes to the child again; one cancelled (never
	   answered) is dropped and unsubscribed, as the child may take it
	   late. */
	ck_assert_int_eq(request(&a, "resources/subscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_FORWARD);
	attach_sent(set, &a.front, 5);
	/* A repeat while it is on its way goes too. */
	ck_assert_int_eq(request(&a, "resources/subscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_FORWARD);
	attach_sent(set, &a.front, 6);
	attach_answered(set, 5, 0, 1);
	ck_assert_int_eq(attach_subscribed(set), 1);
	attach_answered(set, 6, 0, 1);
	ck_assert_int_eq(attach_subscribed(set), 0);
	expect_child(0, "resources/unsubscribe", "uri", "file:///r");

	/* A URI too long to keep is refused, and one holding a NUL. */
	long_uri_refused();
	ck_assert_int_eq(request(&c, "resources/subscribe",
	    "{\"uri\":\"file:///c\\u0000x\"}", 0), ATTACH_INVALID);
}
END_TEST

START_TEST(test_unsubscribe_goes_to_the_child_after_the_last_subscriber)
{
	request(&a, "resources/subscribe", "{\"uri\":\"file:///r\"}", 0);
	request(&b, "resources/subscribe", "{\"uri\":\"file:///r\"}", 0);
	ck_assert_int_eq(request(&a, "resources/unsubscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_ANSWER);
	ck_assert_int_eq(cJSON_GetArraySize(child), 0);
	ck_assert_int_eq(request(&b, "resources/unsubscribe",
	    "{\"uri\":\"file:///r\"}", 0), ATTACH_FORWARD);
	ck_assert_int_eq(cJSON_GetArraySize(child), 0);
}
END_TEST

START_TEST(test_the_last_subscriber_leaving_unsubscribes_at_the_child)
{
	request(&a, "resources/subscribe", "{\"uri\":\"file:///r\"}", 0);
	request(&b, "resources/subscribe", "{\"uri\":\"file:///r\"}", 0);
	request(&b, "resources/subscribe", "{\"uri\":\"file:///q\"}", 0);
	attach_front_gone(&a.front);
	ck_assert_int_eq(cJSON_GetArraySize(child), 0);
	attach_front_gone(&b.front);
	ck_assert_int_eq(cJSON_GetArraySize(child), 2);
	expect_child(0, "resources/unsubscribe", "uri", "file:///r");
	expect_child(1, "resources/unsubscribe", "uri", "file:///q");
}
END_TEST

START_TEST(test_subscriptions_are_bounded_per_client)
{
	char	params[64];
	int	i;

	for (i = 0; i < ATTACH_MAX_SUBSCRIPTIONS; i++) {
		snprintf(params, sizeof params, "{\"uri\":\"u%d\"}", i);
		ck_assert_int_eq(request(&a, "resources/subscribe", params,
		    0), ATTACH_FORWARD);
	}
	ck_assert_int_eq(request(&a, "resources/subscribe",
	    "{\"uri\":\"one-more\"}", 0), ATTACH_FULL);
	/* Another client has its own bound. */
	ck_assert_int_eq(request(&b, "resources/subscribe",
	    "{\"uri\":\"one-more\"}", 0), ATTACH_FORWARD);
}
END_TEST

START_TEST(test_other_requests_pass_and_attach)
{
	ck_assert_int_eq(request(&a, "tools/call", "{\"name\":\"x\"}", 0),
	    ATTACH_FORWARD);
	ck_assert_uint_eq(attach_count(set), 1);
	ck_assert_int_eq(cJSON_GetArraySize(child), 0);
}
END_TEST

START_TEST(test_level_names_and_ranks)
{
	ck_assert_int_eq(attach_level_rank("debug"), 0);
	ck_assert_int_eq(attach_level_rank("emergency"), 7);
	ck_assert_int_eq(attach_level_rank("Debug"), -1);
	ck_assert_int_eq(attach_level_rank(NULL), -1);
	ck_assert_str_eq(attach_level_name(3), "warning");
}
END_TEST

static Suite *
attach_suite(void)
{
	Suite	*s = suite_create("attach");
	TCase	*tc = tcase_create("attach");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_a_client_is_attached_once);
	tcase_add_test(tc, test_an_attachment_is_found_among_many);
	tcase_add_test(tc, test_a_client_that_goes_is_detached);
	tcase_add_test(tc, test_a_session_that_ends_detaches_its_clients);
	tcase_add_test(tc,
	    test_list_changed_reaches_each_client_taking_notifications_once);
	tcase_add_test(tc,
	    test_set_level_is_answered_and_the_child_gets_the_most_verbose);
	tcase_add_test(tc, test_an_unknown_level_is_refused);
	tcase_add_test(tc, test_a_modern_child_is_sent_no_set_level);
	tcase_add_test(tc,
	    test_a_request_log_level_in_meta_sets_the_clients_level);
	tcase_add_test(tc, test_log_messages_reach_clients_at_their_level_only);
	tcase_add_test(tc,
	    test_subscribe_goes_to_the_child_for_the_first_subscriber_only);
	tcase_add_test(tc,
	    test_unsubscribe_goes_to_the_child_after_the_last_subscriber);
	tcase_add_test(tc,
	    test_the_last_subscriber_leaving_unsubscribes_at_the_child);
	tcase_add_test(tc, test_a_subscribe_the_child_refuses_is_undone);
	tcase_add_test(tc, test_subscriptions_are_bounded_per_client);
	tcase_add_test(tc, test_other_requests_pass_and_attach);
	tcase_add_test(tc, test_level_names_and_ranks);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(attach_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
