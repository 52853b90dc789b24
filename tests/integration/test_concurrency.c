/*
 * Many clients at once: one child per key however many ask at the same
 * moment, answers routed back by id across pipelined connections and
 * threads, the LRU table's eviction and its limits (busy sessions, the
 * global and per-server caps), and a client that goes away mid-call
 * disturbing no one else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"

/* How long a sleep keeps a session busy in the capacity tests. */
#define BUSY_MS			1500
/* What "promptly" means for an answer that needs no child. */
#define PROMPT_MS		800
/* How long to wait for the daemon to have a request in flight. */
#define WAIT_BUSY_MS		5000
/* How long an evicted child may take to go. */
#define GONE_MS			5000

#define HERD_CLIENTS		30
#define MESH_CLIENTS		8
#define MESH_REQUESTS		64
#define MESH_THREADS		8

/* The plain fixture, "fake". */
#define FAKE			"\"fake\":{\"command\":\"@FAKE@\"}"

static struct daemon	*d;

static void	 setup_default(void);
static void	 setup_max3(void);
static void	 setup_max2(void);
static void	 setup_capped(void);
static void	 teardown(void);
static cJSON	*find_session(cJSON *, const char *, const char *);
static int	 listed_sessions(cJSON *);
static void	 wait_busy(struct client *, const char *, const char *);

/* "fake", and "slow", whose handshake waits 200 ms. */
static void
setup_default(void)
{
	d = daemon_start("", FAKE ",\"slow\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--startup-delay-ms\",\"200\"]}");
}

/* "fake" with room for three sessions in all. */
static void
setup_max3(void)
{
	d = daemon_start("\"max_sessions\":3", FAKE);
}

/* "fake" with room for two sessions in all. */
static void
setup_max2(void)
{
	d = daemon_start("\"max_sessions\":2", FAKE);
}

/* "capped" may have one session, "free" has no cap of its own. */
static void
setup_capped(void)
{
	d = daemon_start("",
	    "\"capped\":{\"command\":\"@FAKE@\",\"max_sessions\":1},"
	    "\"free\":{\"command\":\"@FAKE@\"}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* The session of (server, thread) in a broker/status answer, or NULL. */
static cJSON *
find_session(cJSON *status, const char *server, const char *thread)
{
	cJSON	*s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItem(result_of(status),
	    "sessions")) {
		if (strcmp(json_string(s, "server"), server) == 0 &&
		    strcmp(json_string(s, "thread"), thread) == 0)
			return (s);
	}
	return (NULL);
}

/* How many sessions a broker/status answer lists. */
static int
listed_sessions(cJSON *status)
{
	return (cJSON_GetArraySize(cJSON_GetObjectItem(result_of(status),
	    "sessions")));
}

/*
 * Wait until the daemon holds a request of (server, thread) queued or in
 * flight, so that what the test does next happens while it is busy.
 */
static void
wait_busy(struct client *c, const char *server, const char *thread)
{
	long	 deadline = now_ms() + WAIT_BUSY_MS;
	cJSON	*r, *s;
	int	 busy;

	for (;;) {
		r = rpc(c, "broker/status", NULL);
		s = find_session(r, server, thread);
		busy = s != NULL && json_number(s, "in_flight") >= 1;
		cJSON_Delete(r);
		if (busy)
			return;
		ck_assert_msg(now_ms() < deadline, "%s/%s never became busy",
		    server, thread);
		sleep_ms(5);
	}
}

START_TEST(test_concurrent_first_calls_start_exactly_one_child)
{
	struct client	*c[HERD_CLIENTS];
	cJSON		*r, *id;
	pid_t		 pid = 0;
	long		 t0;
	int		 seen[HERD_CLIENTS + 1] = { 0 }, i, n;

	for (i = 0; i < HERD_CLIENTS; i++)
		c[i] = daemon_connect(d);
	/* All of them before anyone reads, well within the 200 ms start. */
	t0 = now_ms();
	for (i = 0; i < HERD_CLIENTS; i++)
		send_call(c[i], i + 1, "slow", "herd", "counter", NULL, NULL);
	ck_assert_msg(now_ms() - t0 < 200, "sending took %ld ms, longer "
	    "than the child's start", now_ms() - t0);

	for (i = 0; i < HERD_CLIENTS; i++) {
		r = recv_msg(c[i]);
		id = cJSON_GetObjectItem(r, "id");
		ck_assert(cJSON_IsNumber(id));
		ck_assert_int_eq(id->valueint, i + 1);
		n = count_of(r);
		ck_assert_msg(n >= 1 && n <= HERD_CLIENTS, "count %d", n);
		ck_assert_msg(!seen[n], "count %d came twice", n);
		seen[n] = 1;
		if (pid == 0)
			pid = pid_of(r);
		ck_assert_int_eq(pid_of(r), pid);
		ck_assert_int_eq(generation_of(r), 1);
		cJSON_Delete(r);
	}

	r = rpc(c[0], "broker/status", NULL);
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_started"), 1);
	ck_assert_int_eq(listed_sessions(r), 1);
	cJSON_Delete(r);
	for (i = 0; i < HERD_CLIENTS; i++)
		client_close(c[i]);
}
END_TEST

START_TEST(test_pipelined_calls_over_many_connections_and_threads_are_each_answered_once)
{
	struct client	*c[MESH_CLIENTS];
	cJSON		*r, *id;
	char		 thread[16], text[32], args[64];
	char		 sid[MESH_THREADS][64];
	const char	*got;
	pid_t		 p0, p5;
	int		 seen[MESH_CLIENTS][MESH_REQUESTS + 1];
	int		 i, j, k;
	char		*cause = NULL;

	memset(seen, 0, sizeof seen);
	memset(sid, 0, sizeof sid);
	for (i = 0; i < MESH_CLIENTS; i++)
		c[i] = daemon_connect(d);
	/* Request j of every connection, then j + 1: all interleaved. */
	for (j = 1; j <= MESH_REQUESTS; j++) {
		for (i = 0; i < MESH_CLIENTS; i++) {
			snprintf(thread, sizeof thread, "t%d",
			    j % MESH_THREADS);
			snprintf(args, sizeof args, "{\"text\":\"c%d-i%d\"}",
			    i, j);
			send_call(c[i], j, "fake", thread, "echo", args, NULL);
		}
	}

	for (i = 0; i < MESH_CLIENTS; i++) {
		for (k = 0; k < MESH_REQUESTS; k++) {
			r = recv_msg(c[i]);
			id = cJSON_GetObjectItem(r, "id");
			ck_assert(cJSON_IsNumber(id));
			j = id->valueint;
			ck_assert_msg(j >= 1 && j <= MESH_REQUESTS,
			    "conn %d: unexpected id %d", i, j);
			ck_assert_msg(!seen[i][j], "conn %d: id %d answered "
			    "twice", i, j);
			seen[i][j] = 1;
			snprintf(text, sizeof text, "c%d-i%d", i, j);
			ck_assert_str_eq(json_string(result_of(r),
			    "structuredContent.text"), text);
			/* Every answer of one thread came from one session. */
			got = session_id_of(r);
			if (sid[j % MESH_THREADS][0] == '\0')
				snprintf(sid[j % MESH_THREADS],
				    sizeof sid[0], "%s", got);
			ck_assert_str_eq(got, sid[j % MESH_THREADS]);
			cJSON_Delete(r);
		}
		/* And nothing more. */
		r = client_recv(c[i], 100, &cause);
		ck_assert_msg(r == NULL, "conn %d: an extra message", i);
		free(cause);
		cause = NULL;
	}
	for (k = 0; k < MESH_THREADS; k++)
		for (j = k + 1; j < MESH_THREADS; j++)
			ck_assert_str_ne(sid[k], sid[j]);

	r = rpc(c[0], "broker/status", NULL);
	ck_assert_int_eq(listed_sessions(r), MESH_THREADS);
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_started"), MESH_THREADS);
	cJSON_Delete(r);

	r = tool_call(c[0], "fake", "t0", "pid", NULL);
	p0 = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c[5], "fake", "t0", "pid", NULL);
	p5 = pid_of(r);
	cJSON_Delete(r);
	ck_assert_int_eq(p0, p5);
	for (i = 0; i < MESH_CLIENTS; i++)
		client_close(c[i]);
}
END_TEST

START_TEST(test_slow_call_does_not_hold_back_later_answers_on_its_connection)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	long		 t0;

	cJSON_Delete(tool_call(c, "fake", "A", "counter", NULL));
	cJSON_Delete(tool_call(c, "fake", "B", "counter", NULL));

	t0 = now_ms();
	send_call_as(c, cJSON_CreateString("slow"), "fake", "A", "sleep",
	    "{\"ms\":500}", NULL);
	send_call_as(c, cJSON_CreateString("quick"), "fake", "B", "counter",
	    NULL, NULL);

	r = recv_msg(c);
	ck_assert_str_eq(json_string(r, "id"), "quick");
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_msg(now_ms() - t0 < 500, "B's answer took %ld ms",
	    now_ms() - t0);
	cJSON_Delete(r);

	r = recv_msg(c);
	ck_assert_str_eq(json_string(r, "id"), "slow");
	ck_assert_int_eq((int)json_number(result_of(r),
	    "structuredContent.slept_ms"), 500);
	ck_assert_int_ge(now_ms() - t0, 500);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_lru_evicts_least_recently_used_idle_session)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 t2pid, t3pid;

	cJSON_Delete(tool_call(c, "fake", "t1", "counter", NULL));
	r = tool_call(c, "fake", "t2", "counter", NULL);
	t2pid = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "t3", "counter", NULL);
	t3pid = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "t1", "counter", NULL);	/* touch */
	ck_assert_int_eq(count_of(r), 2);
	cJSON_Delete(r);

	r = tool_call(c, "fake", "t4", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(t2pid, GONE_MS), "evicted t2 (pid %ld) "
	    "is still running", (long)t2pid);
	ck_assert(pid_alive(t3pid));

	r = rpc(c, "broker/status", NULL);
	ck_assert_int_eq(listed_sessions(r), 3);
	ck_assert_ptr_nonnull(find_session(r, "fake", "t1"));
	ck_assert_ptr_null(find_session(r, "fake", "t2"));
	ck_assert_ptr_nonnull(find_session(r, "fake", "t3"));
	ck_assert_ptr_nonnull(find_session(r, "fake", "t4"));
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_evicted"), 1);
	cJSON_Delete(r);

	/* The eviction remembered t2's key; its state is gone. */
	r = tool_call(c, "fake", "t2", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 2);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);

	/* That made room by evicting t3, now the least recently used. */
	ck_assert_msg(wait_pid_gone(t3pid, GONE_MS), "t3 (pid %ld) was not "
	    "the one evicted", (long)t3pid);
	r = rpc(c, "broker/status", NULL);
	ck_assert_ptr_null(find_session(r, "fake", "t3"));
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_evicted"), 2);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_eviction_skips_busy_sessions)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r, *s;
	pid_t		 t1pid, t2pid;

	/* t1 is the least recently used of all, but busy... */
	send_call_as(a, cJSON_CreateString("slow"), "fake", "t1", "sleep",
	    "{\"ms\":1500}", NULL);
	wait_busy(b, "fake", "t1");
	/* ...and t2, used after it, the least recently used idle one. */
	r = tool_call(b, "fake", "t2", "counter", NULL);
	t2pid = pid_of(r);
	cJSON_Delete(r);

	r = tool_call(b, "fake", "t3", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(t2pid, GONE_MS), "idle t2 (pid %ld) was "
	    "not evicted", (long)t2pid);

	r = rpc(b, "broker/status", NULL);
	ck_assert_int_eq(listed_sessions(r), 2);
	ck_assert_ptr_nonnull(s = find_session(r, "fake", "t1"));
	ck_assert_int_eq((int)json_number(s, "in_flight"), 1);
	t1pid = (pid_t)json_number(s, "pid");
	ck_assert(pid_alive(t1pid));
	ck_assert_ptr_nonnull(find_session(r, "fake", "t3"));
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_evicted"), 1);
	cJSON_Delete(r);

	/* The busy session was left to finish its call. */
	r = recv_msg(a);
	ck_assert_str_eq(json_string(r, "id"), "slow");
	ck_assert_int_eq((int)json_number(result_of(r),
	    "structuredContent.slept_ms"), 1500);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	ck_assert(pid_alive(t1pid));
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_all_sessions_busy_at_capacity_answers_at_capacity)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r;
	long		 t0, took;
	int		 i;

	send_call_as(a, cJSON_CreateString("s1"), "fake", "t1", "sleep",
	    "{\"ms\":1500}", NULL);
	send_call_as(a, cJSON_CreateString("s2"), "fake", "t2", "sleep",
	    "{\"ms\":1500}", NULL);
	wait_busy(b, "fake", "t1");
	wait_busy(b, "fake", "t2");

	t0 = now_ms();
	r = tool_call(b, "fake", "t3", "counter", NULL);
	took = now_ms() - t0;
	ck_assert_int_eq(error_code(r), -32014);
	ck_assert_str_eq(json_string(error_data(r), "server"), "fake");
	ck_assert_msg(took < PROMPT_MS, "-32014 took %ld ms", took);
	cJSON_Delete(r);

	r = rpc(b, "broker/status", NULL);
	ck_assert_int_eq(listed_sessions(r), 2);
	ck_assert_ptr_null(find_session(r, "fake", "t3"));
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_evicted"), 0);
	cJSON_Delete(r);

	/* Both sleeps finish undisturbed; then there is room again. */
	for (i = 0; i < 2; i++) {
		r = recv_msg(a);
		ck_assert_int_eq((int)json_number(result_of(r),
		    "structuredContent.slept_ms"), 1500);
		cJSON_Delete(r);
	}
	r = tool_call(b, "fake", "t3", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_per_server_cap_evicts_only_within_that_server)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 free_pid, a_pid;

	/* free/x is the least recently used of all; the cap must not care. */
	r = tool_call(c, "free", "x", "counter", NULL);
	free_pid = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "capped", "a", "counter", NULL);
	a_pid = pid_of(r);
	cJSON_Delete(r);

	r = tool_call(c, "capped", "b", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(a_pid, GONE_MS), "capped/a (pid %ld) was "
	    "not evicted", (long)a_pid);
	ck_assert(pid_alive(free_pid));

	r = rpc(c, "broker/status", NULL);
	ck_assert_int_eq(listed_sessions(r), 2);
	ck_assert_ptr_nonnull(find_session(r, "free", "x"));
	ck_assert_ptr_nonnull(find_session(r, "capped", "b"));
	ck_assert_ptr_null(find_session(r, "capped", "a"));
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_evicted"), 1);
	cJSON_Delete(r);

	r = tool_call(c, "free", "x", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(pid_of(r), free_pid);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_per_server_cap_with_its_session_busy_answers_at_capacity)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r;
	long		 t0, took;

	send_call_as(a, cJSON_CreateString("slow"), "capped", "a", "sleep",
	    "{\"ms\":1500}", NULL);
	wait_busy(b, "capped", "a");

	t0 = now_ms();
	r = tool_call(b, "capped", "b", "counter", NULL);
	took = now_ms() - t0;
	ck_assert_int_eq(error_code(r), -32014);
	ck_assert_ptr_nonnull(strstr(json_string(cJSON_GetObjectItem(r,
	    "error"), "message"), "max_sessions"));
	ck_assert_str_eq(json_string(error_data(r), "server"), "capped");
	ck_assert_msg(took < PROMPT_MS, "-32014 took %ld ms", took);
	cJSON_Delete(r);

	/* The other server is not held back by the cap. */
	r = tool_call(b, "free", "y", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);

	r = recv_msg(a);
	ck_assert_str_eq(json_string(r, "id"), "slow");
	ck_assert_int_eq((int)json_number(result_of(r),
	    "structuredContent.slept_ms"), 1500);
	cJSON_Delete(r);
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_client_disconnecting_mid_call_leaves_the_session_to_others)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r, *s;
	pid_t		 pid;

	r = tool_call(b, "fake", "X", "counter", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);

	send_call_as(a, cJSON_CreateString("gone"), "fake", "X", "sleep",
	    "{\"ms\":800}", NULL);
	wait_busy(b, "fake", "X");
	client_close(a);

	/* B's first message is its own answer, not A's late one. */
	send_call_as(b, cJSON_CreateString("after"), "fake", "X", "counter",
	    NULL, NULL);
	r = recv_msg(b);
	ck_assert_str_eq(json_string(r, "id"), "after");
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(pid_of(r), pid);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);

	ck_assert(daemon_alive(d));
	r = rpc(b, "broker/status", NULL);
	ck_assert_ptr_nonnull(s = find_session(r, "fake", "X"));
	ck_assert_int_eq((int)json_number(s, "in_flight"), 0);
	ck_assert_int_eq((int)json_number(s, "pid"), pid);
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_exited"), 0);
	cJSON_Delete(r);
	client_close(b);
}
END_TEST

START_TEST(test_one_child_process_per_live_session)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *s;
	char		 thread[16];
	pid_t		 kids[16];
	int		 i, k, n, zombies, found;

	/* Five threads started at once on one connection. */
	for (i = 1; i <= 5; i++) {
		snprintf(thread, sizeof thread, "t%d", i);
		send_call(c, 100 + i, "fake", thread, "counter", NULL, NULL);
	}
	for (i = 1; i <= 5; i++) {
		r = recv_msg(c);
		ck_assert_int_eq(count_of(r), 1);
		cJSON_Delete(r);
	}

	n = children_of(d->pid, kids, 16, &zombies);
	ck_assert_int_eq(n, 5);
	ck_assert_int_eq(zombies, 0);

	/* They are exactly the sessions' children. */
	r = rpc(c, "broker/status", NULL);
	ck_assert_int_eq(listed_sessions(r), 5);
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(result_of(r), "sessions")) {
		found = 0;
		for (k = 0; k < n; k++)
			if (kids[k] == (pid_t)json_number(s, "pid"))
				found++;
		ck_assert_msg(found == 1, "session %s has pid %ld, not a child "
		    "of the daemon", json_string(s, "thread"),
		    (long)json_number(s, "pid"));
	}
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

static Suite *
concurrency_suite(void)
{
	Suite	*s = suite_create("concurrency");
	TCase	*tc;

	tc = harness_add_tcase(s, "many clients", setup_default, teardown, 60);
	tcase_add_test(tc, test_concurrent_first_calls_start_exactly_one_child);
	tcase_add_test(tc,
	    test_pipelined_calls_over_many_connections_and_threads_are_each_answered_once);
	tcase_add_test(tc,
	    test_slow_call_does_not_hold_back_later_answers_on_its_connection);
	tcase_add_test(tc,
	    test_client_disconnecting_mid_call_leaves_the_session_to_others);
	tcase_add_test(tc, test_one_child_process_per_live_session);

	tc = harness_add_tcase(s, "lru of three", setup_max3, teardown, 60);
	tcase_add_test(tc, test_lru_evicts_least_recently_used_idle_session);

	tc = harness_add_tcase(s, "capacity of two", setup_max2, teardown, 60);
	tcase_add_test(tc, test_eviction_skips_busy_sessions);
	tcase_add_test(tc,
	    test_all_sessions_busy_at_capacity_answers_at_capacity);

	tc = harness_add_tcase(s, "per-server cap", setup_capped, teardown, 60);
	tcase_add_test(tc, test_per_server_cap_evicts_only_within_that_server);
	tcase_add_test(tc,
	    test_per_server_cap_with_its_session_busy_answers_at_capacity);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(concurrency_suite()));
}
