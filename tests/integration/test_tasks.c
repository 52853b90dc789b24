/*
 * What outlives its request: tasks (2025-11-25) keep their session busy
 * until they end or their ttl passes, keep their progress token, and
 * their status reaches the clients that created or polled them; a task's
 * own requests to a client go to its creator; tasks/result and
 * 2026-07-28 subscriptions/listen are not cut off by request_timeout_s,
 * and a subscription's notifications reach only its client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* A task call's params beyond name and arguments. */
#define TASK_EXTRA(ttl)	"\"task\":{\"ttl\":" #ttl "}"

static struct daemon	*d;

static void
setup(void)
{
	d = daemon_start("\"idle_timeout_s\":1,\"request_timeout_s\":1",
	    "\"fake\":{\"command\":\"@FAKE@\",\"client_capabilities\":"
	    "{\"sampling\":{}}},"
	    "\"modern\":{\"command\":\"@FAKE@\",\"args\":[\"--modern\"]}");
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

/*
 * The next message that is not a notification (the caller frees it);
 * the notifications before it are counted in *notes if given.
 */
static cJSON *
recv_answer(struct client *c, int *notes)
{
	cJSON	*m;

	for (;;) {
		m = recv_msg(c);
		if (cJSON_GetObjectItem(m, "method") == NULL ||
		    cJSON_GetObjectItem(m, "id") != NULL)
			return (m);
		if (notes != NULL)
			(*notes)++;
		cJSON_Delete(m);
	}
}

/* The next message of method, skipping others (the caller frees it). */
static cJSON *
recv_method(struct client *c, const char *method)
{
	cJSON	*m;

	for (;;) {
		m = recv_msg(c);
		if (cJSON_IsString(cJSON_GetObjectItem(m, "method")) &&
		    strcmp(json_string(m, "method"), method) == 0)
			return (m);
		cJSON_Delete(m);
	}
}

/* Whether nothing reaches c within ms. */
static int
quiet_for(struct client *c, int ms)
{
	cJSON	*m;
	char	*cause = NULL;

	if ((m = client_recv(c, ms, &cause)) == NULL) {
		free(cause);
		return (1);
	}
	cJSON_Delete(m);
	return (0);
}

/* Start a task on (server, thread) under id; its taskId (freed by the
   caller). */
static char *
start_task(struct client *c, long id, const char *thread, const char *args,
    const char *extra)
{
	cJSON	*m;
	char	*task_id;

	send_call(c, id, "fake", thread, "task", args, extra);
	m = recv_answer(c, NULL);
	ck_assert_double_eq(json_number(m, "id"), id);
	task_id = strdup(json_string(result_of(m), "task.taskId"));
	ck_assert_str_eq(json_string(result_of(m), "task.status"), "working");
	cJSON_Delete(m);
	return (task_id);
}

/* Send method (tasks/get, tasks/result) about task_id on (fake, thread) under id. */
static void
send_tasks(struct client *c, long id, const char *method,
    const char *thread, const char *task_id)
{
	char	*line;

	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"%s\","
	    "\"params\":{\"server\":\"fake\",\"thread\":\"%s\","
	    "\"taskId\":\"%s\"}}", id, method, thread, task_id);
	send_line(c, line);
	free(line);
}

START_TEST(test_a_session_running_a_task_is_not_expired)
{
	struct client	*c = daemon_connect(d);
	cJSON		*m;
	char		*task_id;
	pid_t		 pid;

	task_id = start_task(c, 1, "t1", "{\"ms\":3000}", TASK_EXTRA(60000));
	pid = session_pid(c, "fake", "t1");
	/* Twice idle_timeout_s and more, with nothing in flight. */
	sleep_ms(2200);
	ck_assert_int_eq(session_count(c), 1);
	ck_assert_int_eq(session_pid(c, "fake", "t1"), pid);
	send_tasks(c, 2, "tasks/result", "t1", task_id);
	m = recv_answer(c, NULL);
	ck_assert_double_eq(json_number(m, "id"), 2);
	ck_assert_str_eq(json_string(result_of(m), "structuredContent.status"),
	    "completed");
	ck_assert_int_eq(pid_of(m), pid);
	cJSON_Delete(m);
	/* The task ended: the session expires as any idle one does. */
	sleep_ms(2200);
	ck_assert_int_eq(session_count(c), 0);
	free(task_id);
	client_close(c);
}
END_TEST

START_TEST(test_a_task_past_its_ttl_stops_keeping_the_session_busy)
{
	struct client	*c = daemon_connect(d);
	char		*task_id;
	long		 start = now_ms();

	task_id = start_task(c, 1, "t1", "{\"never\":1}", TASK_EXTRA(1500));
	sleep_ms(1000);
	ck_assert_int_eq(session_count(c), 1);
	ck_assert_msg(wait_log(d, 5000, "passed its ttl (1500 ms)", NULL),
	    "no log of the ttl");
	while (session_count(c) != 0 && now_ms() - start < 6000)
		sleep_ms(100);
	ck_assert_int_eq(session_count(c), 0);
	free(task_id);
	client_close(c);
}
END_TEST

START_TEST(test_progress_after_the_task_was_created_reaches_its_creator)
{
	struct client	*c = daemon_connect(d);
	cJSON		*m;
	char		*task_id;
	int		 i;

	task_id = start_task(c, 1, "t1", "{\"ms\":800,\"steps\":3}",
	    TASK_EXTRA(60000) ",\"_meta\":{\"progressToken\":\"p-1\"}");
	for (i = 1; i <= 3; i++) {
		m = recv_method(c, "notifications/progress");
		ck_assert_str_eq(json_string(m, "params.progressToken"), "p-1");
		ck_assert_double_eq(json_number(m, "params.progress"), i);
		cJSON_Delete(m);
	}
	free(task_id);
	client_close(c);
}
END_TEST

START_TEST(test_tasks_result_outlives_request_timeout_s)
{
	struct client	*c = daemon_connect(d);
	cJSON		*m;
	char		*task_id;
	long		 start;

	task_id = start_task(c, 1, "t1", "{\"ms\":2500}", TASK_EXTRA(60000));
	start = now_ms();
	send_tasks(c, 2, "tasks/result", "t1", task_id);
	m = recv_answer(c, NULL);
	ck_assert_double_eq(json_number(m, "id"), 2);
	ck_assert_str_eq(json_string(result_of(m), "structuredContent.taskId"),
	    task_id);
	ck_assert_msg(now_ms() - start >= 1500, "answered after %ld ms",
	    now_ms() - start);
	cJSON_Delete(m);
	free(task_id);
	client_close(c);
}
END_TEST

START_TEST(test_task_status_reaches_its_creator_and_poller_only)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	struct client	*other = daemon_connect(d);
	cJSON		*m, *meta;
	char		*task_id;

	hello(other, "{\"notifications\":true}");
	task_id = start_task(a, 1, "t1", "{\"ms\":1500}", TASK_EXTRA(60000));
	send_tasks(b, 2, "tasks/get", "t1", task_id);
	m = recv_answer(b, NULL);
	ck_assert_str_eq(json_string(result_of(m), "status"), "working");
	cJSON_Delete(m);
	/* Attached to the session, but neither created nor polled it. */
	cJSON_Delete(tool_call(other, "fake", "t1", "echo", "{\"text\":\"x\"}"));

	m = recv_method(a, "notifications/tasks/status");
	while (strcmp(json_string(m, "params.status"), "completed") != 0) {
		cJSON_Delete(m);
		m = recv_method(a, "notifications/tasks/status");
	}
	ck_assert_str_eq(json_string(m, "params.taskId"), task_id);
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m,
	    "params"), "_meta"), "mcp-broker/session");
	ck_assert_str_eq(json_string(meta, "server"), "fake");
	ck_assert_str_eq(json_string(meta, "thread"), "t1");
	cJSON_Delete(m);
	m = recv_method(b, "notifications/tasks/status");
	ck_assert_str_eq(json_string(m, "params.status"), "completed");
	cJSON_Delete(m);
	ck_assert(quiet_for(other, 500));
	free(task_id);
	client_close(a);
	client_close(b);
	client_close(other);
}
END_TEST

START_TEST(test_a_tasks_sampling_goes_to_its_creator)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*m;
	char		*b_task, *a_task, *line;

	hello(a, "{\"capabilities\":{\"sampling\":{}}}");
	hello(b, "{\"capabilities\":{\"sampling\":{}}}");
	/* b has the older request in flight: its tasks/result. */
	b_task = start_task(b, 1, "t1", "{\"ms\":1500}", TASK_EXTRA(60000));
	send_tasks(b, 2, "tasks/result", "t1", b_task);
	wait_in_flight(a, "fake", "t1", 1);
	a_task = start_task(a, 3, "t1", "{\"ms\":1000,\"sample\":1}",
	    TASK_EXTRA(60000));
	m = recv_method(a, "sampling/createMessage");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(m, "params"), "_meta"),
	    "io.modelcontextprotocol/related-task"), "taskId"), a_task);
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%.0f,\"result\":{"
	    "\"role\":\"assistant\",\"content\":{\"type\":\"text\","
	    "\"text\":\"hi\"},\"model\":\"m\"}}", json_number(m, "id"));
	send_line(a, line);
	free(line);
	cJSON_Delete(m);
	/* b gets only its own answer. */
	m = recv_answer(b, NULL);
	ck_assert_double_eq(json_number(m, "id"), 2);
	cJSON_Delete(m);
	free(a_task);
	free(b_task);
	client_close(a);
	client_close(b);
}
END_TEST

/*
 * A request that only waits (tasks/result) draws no request of the
 * server's: a plain sampling request goes to the client whose call made
 * it, though the waiting one is older.
 */
START_TEST(test_a_waiting_request_draws_no_sampling)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*m;
	char		*task_id, *line;

	hello(a, "{\"capabilities\":{\"sampling\":{}}}");
	hello(b, "{\"capabilities\":{\"sampling\":{}}}");
	task_id = start_task(a, 1, "t1", "{\"ms\":3000}", TASK_EXTRA(60000));
	send_tasks(a, 2, "tasks/result", "t1", task_id);
	wait_in_flight(b, "fake", "t1", 1);
	send_call(b, 3, "fake", "t1", "sample", NULL, NULL);
	m = recv_method(b, "sampling/createMessage");
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%.0f,\"result\":{"
	    "\"role\":\"assistant\",\"content\":{\"type\":\"text\","
	    "\"text\":\"hi\"},\"model\":\"m\"}}", json_number(m, "id"));
	send_line(b, line);
	free(line);
	cJSON_Delete(m);
	m = recv_answer(b, NULL);
	ck_assert_double_eq(json_number(m, "id"), 3);
	ck_assert_ptr_nonnull(result_of(m));
	cJSON_Delete(m);
	/* a gets its answer only. */
	m = recv_answer(a, NULL);
	ck_assert_double_eq(json_number(m, "id"), 2);
	cJSON_Delete(m);
	free(task_id);
	client_close(a);
	client_close(b);
}
END_TEST

/*
 * A task's request goes to its creator or to nobody: not to another
 * client that could answer it.
 */
START_TEST(test_a_tasks_request_goes_to_no_one_else)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r;
	char		*task_id;
	int		 i, refused = 0;

	hello(b, "{\"capabilities\":{\"sampling\":{}}}");
	/* a declared no sampling; its task asks 400 ms on, while b has
	   the one plain request in flight. */
	task_id = start_task(a, 2, "t1", "{\"ms\":1500,\"sample\":1,"
	    "\"sample_ms\":400}", TASK_EXTRA(60000));
	send_call(b, 1, "fake", "t1", "sleep", "{\"ms\":800}", NULL);
	for (i = 0; i < 50 && !refused; i++) {
		sleep_ms(50);
		r = session_of(a, "fake", "t1");
		refused = tail_has(cJSON_GetObjectItem(result_of(r),
		    "stderr_tail"), "id fake-task-sample: error -32601");
		cJSON_Delete(r);
	}
	ck_assert_msg(refused, "the server's request was not refused");
	/* b got nothing but its own answer. */
	r = recv_answer(b, NULL);
	ck_assert_double_eq(json_number(r, "id"), 1);
	cJSON_Delete(r);
	free(task_id);
	client_close(a);
	client_close(b);
}
END_TEST

/*
 * A 2026-07-28 server's task (the tasks extension: resultType "task",
 * ttlMs) keeps its session busy too, until a poll sees it end.
 */
START_TEST(test_a_modern_task_keeps_its_session_until_a_poll_sees_it_end)
{
	struct client	*c = daemon_connect(d);
	cJSON		*m;
	char		*line;
	pid_t		 pid;

	send_line(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"server\":\"modern\",\"thread\":"
	    "\"mt\",\"name\":\"task\",\"arguments\":{\"ms\":2500},"
	    "\"task\":{\"ttl\":60000},\"_meta\":{\""
	    "io.modelcontextprotocol/clientCapabilities\":{\"extensions\":"
	    "{\"io.modelcontextprotocol/tasks\":{}}}}}}");
	m = recv_answer(c, NULL);
	ck_assert_str_eq(json_string(result_of(m), "resultType"), "task");
	ck_assert_str_eq(json_string(result_of(m), "taskId"), "fake-task-1");
	cJSON_Delete(m);
	pid = session_pid(c, "modern", "mt");
	/* Past idle_timeout_s (1 s), the task still running. */
	sleep_ms(2000);
	ck_assert_int_eq(session_pid(c, "modern", "mt"), pid);
	sleep_ms(1000);
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tasks/get\",\"params\":{\"server\":\"modern\",\"thread\":"
	    "\"mt\",\"taskId\":\"fake-task-1\"}}");
	send_line(c, line);
	free(line);
	m = recv_answer(c, NULL);
	ck_assert_str_eq(json_string(result_of(m), "status"), "completed");
	cJSON_Delete(m);
	/* Ended: the session expires as any idle one. */
	sleep_ms(2200);
	ck_assert_int_eq(session_count(c), 0);
	client_close(c);
}
END_TEST

START_TEST(test_a_subscription_outlives_request_timeout_s_and_is_its_own)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*m, *meta, *r;
	pid_t		 pid;

	hello(b, "{\"notifications\":true}");
	send_line(a, "{\"jsonrpc\":\"2.0\",\"id\":\"L1\",\"method\":"
	    "\"subscriptions/listen\",\"params\":{\"server\":\"modern\","
	    "\"thread\":\"t1\",\"notifications\":{\"toolsListChanged\":true}}}");
	m = recv_method(a, "notifications/subscriptions/acknowledged");
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"), "_meta");
	ck_assert_str_eq(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/subscriptionId")->valuestring, "L1");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(meta, "mcp-broker/session"));
	cJSON_Delete(m);
	/* Past request_timeout_s (1 s): no timeout error. */
	ck_assert(quiet_for(a, 1800));
	pid = session_pid(b, "modern", "t1");

	r = tool_call(b, "modern", "t1", "notify_listeners", NULL);
	ck_assert_double_eq(json_number(result_of(r),
	    "structuredContent.listeners"), 1);
	cJSON_Delete(r);
	m = recv_method(a, "notifications/tools/list_changed");
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"), "_meta");
	ck_assert_str_eq(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/subscriptionId")->valuestring, "L1");
	cJSON_Delete(m);
	ck_assert(quiet_for(b, 300));

	/* The subscriber leaves: the child is told to cancel it. */
	client_close(a);
	sleep_ms(300);
	r = session_of(b, "modern", "t1");
	ck_assert_msg(tail_has(cJSON_GetObjectItem(result_of(r),
	    "stderr_tail"), "fake-mcp: cancelled request"),
	    "the child was not told");
	cJSON_Delete(r);
	ck_assert_int_eq(session_pid(b, "modern", "t1"), pid);
	client_close(b);
}
END_TEST

/* A subscription has no clock at all: it outlives max_request_timeout_s. */
START_TEST(test_a_subscription_outlives_max_request_timeout_s)
{
	struct daemon	*own;
	struct client	*a, *b;
	cJSON		*m;

	own = daemon_start("\"request_timeout_s\":1,"
	    "\"max_request_timeout_s\":1", "\"modern\":{\"command\":"
	    "\"@FAKE@\",\"args\":[\"--modern\"]}");
	a = daemon_connect(own);
	send_line(a, "{\"jsonrpc\":\"2.0\",\"id\":\"L1\",\"method\":"
	    "\"subscriptions/listen\",\"params\":{\"server\":\"modern\","
	    "\"thread\":\"t1\",\"notifications\":{\"toolsListChanged\":true}}}");
	m = recv_method(a, "notifications/subscriptions/acknowledged");
	cJSON_Delete(m);
	/* Past max_request_timeout_s (1 s): no timeout error. */
	ck_assert(quiet_for(a, 2500));
	b = daemon_connect(own);
	cJSON_Delete(tool_call(b, "modern", "t1", "notify_listeners", NULL));
	m = recv_method(a, "notifications/tools/list_changed");
	cJSON_Delete(m);
	client_close(a);
	client_close(b);
	daemon_stop_ok(own);
}
END_TEST

START_TEST(test_a_subscription_the_server_ends_is_answered_under_its_id)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*m, *meta;

	send_line(a, "{\"jsonrpc\":\"2.0\",\"id\":\"L2\",\"method\":"
	    "\"subscriptions/listen\",\"params\":{\"server\":\"modern\","
	    "\"thread\":\"t2\",\"notifications\":{}}}");
	cJSON_Delete(recv_method(a, "notifications/subscriptions/acknowledged"));
	cJSON_Delete(tool_call(b, "modern", "t2", "end_listens", NULL));
	m = recv_answer(a, NULL);
	ck_assert_str_eq(json_string(m, "id"), "L2");
	ck_assert_str_eq(json_string(result_of(m), "resultType"), "complete");
	meta = cJSON_GetObjectItem(result_of(m), "_meta");
	ck_assert_str_eq(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/subscriptionId")->valuestring, "L2");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(meta, "mcp-broker/session"));
	cJSON_Delete(m);
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_the_tasks_bound_is_named_in_the_log)
{
	struct client	*c = daemon_connect(d);
	char		*task_id;
	int		 i;

	for (i = 0; i <= 64; i++) {
		task_id = start_task(c, i + 1, "t1", "{\"never\":1}",
		    TASK_EXTRA(60000));
		free(task_id);
	}
	ck_assert_msg(wait_log(d, 3000, "TASK_MAX_PER_SESSION (64)", NULL),
	    "the bound is not named");
	client_close(c);
}
END_TEST

static Suite *
tasks_suite(void)
{
	Suite	*s = suite_create("tasks");
	TCase	*tc;

	tc = harness_add_tcase(s, "tasks", setup, teardown, 30);
	tcase_add_test(tc, test_a_session_running_a_task_is_not_expired);
	tcase_add_test(tc,
	    test_a_task_past_its_ttl_stops_keeping_the_session_busy);
	tcase_add_test(tc,
	    test_progress_after_the_task_was_created_reaches_its_creator);
	tcase_add_test(tc, test_tasks_result_outlives_request_timeout_s);
	tcase_add_test(tc, test_task_status_reaches_its_creator_and_poller_only);
	tcase_add_test(tc, test_a_tasks_sampling_goes_to_its_creator);
	tcase_add_test(tc, test_a_waiting_request_draws_no_sampling);
	tcase_add_test(tc, test_a_tasks_request_goes_to_no_one_else);
	tcase_add_test(tc, test_a_subscription_outlives_max_request_timeout_s);
	tcase_add_test(tc,
	    test_a_modern_task_keeps_its_session_until_a_poll_sees_it_end);
	tcase_add_test(tc,
	    test_a_subscription_outlives_request_timeout_s_and_is_its_own);
	tcase_add_test(tc,
	    test_a_subscription_the_server_ends_is_answered_under_its_id);
	tcase_add_test(tc, test_the_tasks_bound_is_named_in_the_log);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(tasks_suite()));
}
