/*
 * Interop: what the real server-everything (2026.8.31, pinned in
 * tests/interop/package.json) sends unasked, through the real
 * mcp-brokerd to the clients attached to its session. It registers a
 * resource when gzip-file-as-resource runs (resources/list_changed),
 * logs "Received Subscribe Resource request" at info for each
 * resources/subscribe and unsubscribe it gets (respecting
 * logging/setLevel), and toggle-subscriber-updates sends
 * resources/updated at once for every URI subscribed. Without node or
 * the package a loud SKIPPED line says what is missing;
 * MCPB_REQUIRE_INTEROP=1 makes that a failure.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "../integration/harness.h"

#define EVERYTHING_JS	"tests/interop/node_modules/@modelcontextprotocol/" \
			"server-everything/dist/index.js"
#define INTEROP_GRACE_MS 5000
#define URI		"demo://resource/static/document/architecture.md"

static char		 node_path[PATH_MAX];
static char		 everything_js[PATH_MAX];
static struct daemon	*d;

/* server-everything as "everything" (transport argument "stdio"). */
static void
setup(void)
{
	cJSON	*root, *broker, *s, *args;
	char	*text;

	root = cJSON_CreateObject();
	broker = cJSON_AddObjectToObject(root, "broker");
	cJSON_AddStringToObject(broker, "socket", "@SOCK@");
	cJSON_AddNumberToObject(broker, "shutdown_grace_ms", INTEROP_GRACE_MS);
	s = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root,
	    "mcpServers"), "everything");
	cJSON_AddStringToObject(s, "command", node_path);
	args = cJSON_AddArrayToObject(s, "args");
	cJSON_AddItemToArray(args, cJSON_CreateString(everything_js));
	cJSON_AddItemToArray(args, cJSON_CreateString("stdio"));
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	d = daemon_start_config(text);
	cJSON_free(text);
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
	cJSON_Delete(rpc(c, "broker/hello", "{\"notifications\":true}"));
}

/* Send method on everything/t1 under id with more params members. */
static void
send_request(struct client *c, long id, const char *method,
    const char *members)
{
	char	line[1024];

	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"%s\",\"params\":{\"server\":\"everything\","
	    "\"thread\":\"t1\"%s%s}}", id, method, *members != '\0' ? "," :
	    "", members);
	send_line(c, line);
}

/*
 * Every message up to the answer to id, the answer last (the caller
 * owns the array); the answer must be a result.
 */
static cJSON *
collect(struct client *c, long id)
{
	cJSON	*all = cJSON_CreateArray(), *m;

	for (;;) {
		m = recv_msg(c);
		cJSON_AddItemToArray(all, m);
		if (cJSON_GetObjectItem(m, "method") == NULL &&
		    json_number(m, "id") == id)
			break;
	}
	ck_assert_ptr_nonnull(result_of(m));
	return (all);
}

/*
 * The first notification method in msgs whose params.data (or uri)
 * holds text (NULL: any), checked to carry the session stamp; or NULL.
 */
static cJSON *
find_note(cJSON *msgs, const char *method, const char *text)
{
	cJSON		*m, *params, *meta, *item;
	const char	*s;

	cJSON_ArrayForEach(m, msgs) {
		item = cJSON_GetObjectItem(m, "method");
		if (!cJSON_IsString(item) || strcmp(item->valuestring,
		    method) != 0)
			continue;
		params = cJSON_GetObjectItem(m, "params");
		if (text != NULL) {
			s = cJSON_GetStringValue(cJSON_GetObjectItem(params,
			    "data"));
			if (s == NULL)
				s = cJSON_GetStringValue(cJSON_GetObjectItem(
				    params, "uri"));
			if (s == NULL || strstr(s, text) == NULL)
				continue;
		}
		meta = cJSON_GetObjectItem(cJSON_GetObjectItem(params,
		    "_meta"), "mcp-broker/session");
		ck_assert_str_eq(json_string(meta, "server"), "everything");
		ck_assert_str_eq(json_string(meta, "thread"), "t1");
		return (m);
	}
	return (NULL);
}

/* Read the client's messages until the notification comes. */
static void
wait_note(struct client *c, const char *method, const char *text)
{
	cJSON	*one = cJSON_CreateArray();

	for (;;) {
		cJSON_AddItemToArray(one, recv_msg(c));
		if (find_note(one, method, text) != NULL)
			break;
		cJSON_Delete(cJSON_DetachItemFromArray(one, 0));
	}
	cJSON_Delete(one);
}

/* What reached c up to the answer of an echo holds no such note. */
static void
expect_no_note(struct client *c, long id, const char *method)
{
	cJSON	*msgs;

	send_request(c, id, "tools/call", "\"name\":\"echo\","
	    "\"arguments\":{\"message\":\"q\"}");
	msgs = collect(c, id);
	ck_assert_msg(find_note(msgs, method, NULL) == NULL, "got %s",
	    cJSON_PrintUnformatted(msgs));
	cJSON_Delete(msgs);
}

START_TEST(test_resources_list_changed_reaches_clients_taking_notifications)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	struct client	*c = daemon_connect(d);
	cJSON		*msgs;

	take_notifications(a);
	take_notifications(b);
	expect_no_note(b, 1, "notifications/resources/list_changed");
	expect_no_note(c, 1, "notifications/resources/list_changed");
	send_request(a, 2, "tools/call", "\"name\":\"gzip-file-as-resource\","
	    "\"arguments\":{\"name\":\"hello.gz\","
	    "\"data\":\"data:text/plain,hello\"}");
	msgs = collect(a, 2);
	ck_assert_msg(find_note(msgs, "notifications/resources/list_changed",
	    NULL) != NULL, "no list_changed in %s",
	    cJSON_PrintUnformatted(msgs));
	cJSON_Delete(msgs);
	wait_note(b, "notifications/resources/list_changed", NULL);
	expect_no_note(c, 3, "notifications/resources/list_changed");
	client_close(a);
	client_close(b);
	client_close(c);
}
END_TEST

START_TEST(test_log_messages_reach_only_the_client_that_set_a_level)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*msgs, *r;

	take_notifications(b);
	expect_no_note(b, 1, "notifications/message");
	r = rpc(a, "logging/setLevel", "{\"server\":\"everything\","
	    "\"thread\":\"t1\",\"level\":\"debug\"}");
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
	send_request(a, 2, "resources/subscribe", "\"uri\":\"" URI "\"");
	msgs = collect(a, 2);
	ck_assert_msg(find_note(msgs, "notifications/message",
	    "Received Subscribe Resource request") != NULL, "no log in %s",
	    cJSON_PrintUnformatted(msgs));
	cJSON_Delete(msgs);
	expect_no_note(b, 3, "notifications/message");
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_subscriptions_are_shared_and_updates_reach_both)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*msgs, *r;

	r = rpc(a, "logging/setLevel", "{\"server\":\"everything\","
	    "\"thread\":\"t1\",\"level\":\"info\"}");
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
	send_request(a, 1, "resources/subscribe", "\"uri\":\"" URI "\"");
	msgs = collect(a, 1);
	ck_assert_ptr_nonnull(find_note(msgs, "notifications/message",
	    "Received Subscribe Resource request"));
	cJSON_Delete(msgs);
	/* b's subscribe is the broker's to answer: the server logs none. */
	r = rpc(b, "resources/subscribe", "{\"server\":\"everything\","
	    "\"thread\":\"t1\",\"uri\":\"" URI "\"}");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    result_of(r), "_meta"), "mcp-broker/session"));
	cJSON_Delete(r);
	send_request(a, 2, "tools/call",
	    "\"name\":\"toggle-subscriber-updates\",\"arguments\":{}");
	msgs = collect(a, 2);
	ck_assert_ptr_null(find_note(msgs, "notifications/message",
	    "Received Subscribe Resource request"));
	/* The server sends it without waiting: before or after the
	   answer. */
	if (find_note(msgs, "notifications/resources/updated", URI) == NULL)
		wait_note(a, "notifications/resources/updated", URI);
	cJSON_Delete(msgs);
	wait_note(b, "notifications/resources/updated", URI);
	cJSON_Delete(tool_call(a, "everything", "t1",
	    "toggle-subscriber-updates", "{}"));

	/* a leaves the subscription: the server hears nothing yet. */
	send_request(a, 3, "resources/unsubscribe", "\"uri\":\"" URI "\"");
	msgs = collect(a, 3);
	ck_assert_ptr_null(find_note(msgs, "notifications/message",
	    "Received Unsubscribe Resource request"));
	cJSON_Delete(msgs);
	/* b, the last subscriber, disconnects: now it does (and logs it
	   to a, which still has a level). */
	client_close(b);
	wait_note(a, "notifications/message",
	    "Received Unsubscribe Resource request");
	client_close(a);
}
END_TEST

static Suite *
everything_notify_suite(void)
{
	Suite	*s = suite_create("everything_notify");
	TCase	*tc;

	tc = harness_add_tcase(s, "everything_notify", setup, teardown, 90);
	tcase_add_test(tc,
	    test_resources_list_changed_reaches_clients_taking_notifications);
	tcase_add_test(tc,
	    test_log_messages_reach_only_the_client_that_set_a_level);
	tcase_add_test(tc,
	    test_subscriptions_are_shared_and_updates_reach_both);
	return (s);
}

int
main(void)
{
	const char	*require = getenv("MCPB_REQUIRE_INTEROP");

	snprintf(everything_js, sizeof everything_js, "%s",
	    harness_top_path(EVERYTHING_JS));
	if (harness_find_program("node", node_path, sizeof node_path) != 0 ||
	    access(everything_js, R_OK) != 0) {
		fprintf(stderr, "*** SKIPPED: interop tests need node and npm "
		    "packages (run make npm-deps): node, %s ***\n",
		    everything_js);
		if (require != NULL && strcmp(require, "1") == 0) {
			fprintf(stderr, "*** MCPB_REQUIRE_INTEROP=1: a skip is "
			    "a failure ***\n");
			return (1);
		}
		return (0);
	}
	return (harness_run_suite(everything_notify_suite()));
}
