/*
 * Closing sessions: every broker/close form, the close escalation (stdin
 * EOF, SIGTERM, SIGKILL of the group), what happens to requests in flight,
 * and the daemon's own shutdown on SIGTERM. Nothing may be left behind: no
 * child, no grandchild, no zombie.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

/* Each step of the close escalation in the fixture's config. */
#define GRACE_MS	300
/* How long a test waits for a closed session's processes to go. */
#define GONE_MS		3000

static struct daemon	*d;

/*
 * Two plain fake servers, s1 and s2, one that only exits on SIGTERM
 * ("linger"), one that ignores SIGTERM too ("stubborn") and one that
 * never finishes its handshake ("hang").
 */
static void
setup(void)
{
	char	broker[64];

	snprintf(broker, sizeof broker, "\"shutdown_grace_ms\":%d", GRACE_MS);
	d = daemon_start(broker,
	    "\"s1\":{\"command\":\"@FAKE@\"},"
	    "\"s2\":{\"command\":\"@FAKE@\"},"
	    "\"linger\":{\"command\":\"@FAKE@\",\"args\":[\"--linger\"]},"
	    "\"stubborn\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--ignore-term\"]},"
	    "\"hang\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--hang-handshake\"]}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* Start (or reach) the session for (server, thread); returns its pid. */
static pid_t
start_session(struct client *c, const char *server, const char *thread)
{
	cJSON	*r;
	pid_t	 pid;

	r = tool_call(c, server, thread, "pid", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);
	ck_assert(pid_alive(pid));
	return (pid);
}

/* Wait up to ms until ppid has no zombie child; returns 1 if so. */
static int
wait_no_zombies(pid_t ppid, int ms)
{
	long	deadline = now_ms() + ms;
	int	zombies;

	for (;;) {
		children_of(ppid, NULL, 0, &zombies);
		if (zombies == 0)
			return (1);
		if (now_ms() > deadline)
			return (0);
		sleep_ms(10);
	}
}

/* The daemon's children now: exactly the pids given (want, n of them). */
static void
assert_children_are(const pid_t *want, int n)
{
	pid_t	pids[64];
	int	count, zombies, i, j;

	ck_assert_msg(wait_no_zombies(d->pid, GONE_MS),
	    "mcp-brokerd left zombie children");
	count = children_of(d->pid, pids, 64, &zombies);
	ck_assert_int_eq(count, n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < count; j++) {
			if (pids[j] == want[i])
				break;
		}
		ck_assert_msg(j < count, "pid %ld is not a child of the "
		    "daemon any more", (long)want[i]);
	}
}

START_TEST(test_close_thread_closes_it_on_every_server)
{
	struct client	*c = daemon_connect(d);
	pid_t		 a1, a2, b1;
	cJSON		*r;

	a1 = start_session(c, "s1", "a");
	a2 = start_session(c, "s2", "a");
	b1 = start_session(c, "s1", "b");
	cJSON_Delete(tool_call(c, "s1", "b", "counter", NULL));

	ck_assert_int_eq(close_sessions(c, "{\"thread\":\"a\"}"), 2);
	ck_assert_msg(wait_pid_gone(a1, GONE_MS), "s1/a pid %ld still alive",
	    (long)a1);
	ck_assert_msg(wait_pid_gone(a2, GONE_MS), "s2/a pid %ld still alive",
	    (long)a2);
	assert_children_are(&b1, 1);
	ck_assert(pid_alive(b1));
	ck_assert_int_eq(session_count(c), 1);

	/* Thread b kept its process and its state. */
	r = tool_call(c, "s1", "b", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(pid_of(r), b1);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_close_server_closes_only_that_servers_sessions)
{
	struct client	*c = daemon_connect(d);
	pid_t		 s1a, s1b, s2a;

	s1a = start_session(c, "s1", "a");
	s1b = start_session(c, "s1", "b");
	s2a = start_session(c, "s2", "a");

	ck_assert_int_eq(close_sessions(c, "{\"server\":\"s1\"}"), 2);
	ck_assert(wait_pid_gone(s1a, GONE_MS));
	ck_assert(wait_pid_gone(s1b, GONE_MS));
	assert_children_are(&s2a, 1);
	ck_assert_int_eq(session_count(c), 1);
	ck_assert_int_eq(start_session(c, "s2", "a"), s2a);
	client_close(c);
}
END_TEST

START_TEST(test_close_server_and_thread_closes_exactly_one)
{
	struct client	*c = daemon_connect(d);
	pid_t		 s1x, keep[2];

	s1x = start_session(c, "s1", "x");
	keep[0] = start_session(c, "s1", "y");
	keep[1] = start_session(c, "s2", "x");

	ck_assert_int_eq(close_sessions(c,
	    "{\"server\":\"s1\",\"thread\":\"x\"}"), 1);
	ck_assert(wait_pid_gone(s1x, GONE_MS));
	assert_children_are(keep, 2);
	ck_assert_int_eq(session_count(c), 2);
	client_close(c);
}
END_TEST

START_TEST(test_close_all_leaves_no_child)
{
	struct client	*c = daemon_connect(d);
	pid_t		 pids[4];
	int		 i, zombies;

	pids[0] = start_session(c, "s1", "a");
	pids[1] = start_session(c, "s1", "b");
	pids[2] = start_session(c, "s2", "a");
	pids[3] = start_session(c, "linger", "a");
	assert_children_are(pids, 4);

	ck_assert_int_eq(close_sessions(c, "{\"all\":true}"), 4);
	for (i = 0; i < 4; i++)
		ck_assert_msg(wait_pid_gone(pids[i], GONE_MS),
		    "pid %ld still alive", (long)pids[i]);
	ck_assert_msg(wait_no_children(d->pid, GONE_MS),
	    "mcp-brokerd still has children");
	ck_assert_int_eq(children_of(d->pid, NULL, 0, &zombies), 0);
	ck_assert_int_eq(session_count(c), 0);
	client_close(c);
}
END_TEST

START_TEST(test_close_forgets_the_key)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	/* A crash makes the next child generation 2 ... */
	cJSON_Delete(tool_call(c, "s1", "k", "counter", NULL));
	r = tool_call(c, "s1", "k", "crash", NULL);
	ck_assert_int_eq(error_code(r), -32012);
	cJSON_Delete(r);
	r = tool_call(c, "s1", "k", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 2);
	cJSON_Delete(r);
	r = tool_call(c, "s1", "k", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	cJSON_Delete(r);

	/* ... and an explicit close starts the key over at 1. */
	ck_assert_int_eq(close_sessions(c,
	    "{\"server\":\"s1\",\"thread\":\"k\"}"), 1);
	r = tool_call(c, "s1", "k", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 1);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_close_answers_request_in_flight_with_session_lost)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r;
	char		*cause = NULL;
	long		 t0, took;
	pid_t		 pid;

	pid = start_session(a, "s1", "busy");
	send_call(a, 1000, "s1", "busy", "sleep", "{\"ms\":3000}", NULL);
	wait_in_flight(b, "s1", "busy", 1);

	t0 = now_ms();
	ck_assert_int_eq(close_sessions(b, "{\"thread\":\"busy\"}"), 1);
	r = client_recv(a, HARNESS_TIMEOUT_MS, &cause);
	took = now_ms() - t0;
	ck_assert_msg(r != NULL, "no answer to the call in flight: %s", cause);
	ck_assert_int_eq((int)json_number(r, "id"), 1000);
	ck_assert_int_eq(error_code(r), -32012);
	ck_assert_str_eq(json_string(error_data(r), "server"), "s1");
	ck_assert_str_eq(json_string(error_data(r), "thread"), "busy");
	ck_assert_msg(took < 1000, "the answer took %ld ms", took);
	cJSON_Delete(r);

	/* The sleeping child ignores stdin EOF; SIGTERM ends it. */
	ck_assert(wait_pid_gone(pid, GONE_MS));
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_close_answers_requests_waiting_for_the_handshake)
{
	struct client	*a = daemon_connect(d), *b = daemon_connect(d);
	cJSON		*r;
	char		*cause = NULL;
	long		 t0, took;
	pid_t		 pid;

	send_call(a, 1000, "hang", "t", "counter", NULL, NULL);
	wait_in_flight(b, "hang", "t", 1);
	r = session_of(b, "hang", "t");
	ck_assert_str_eq(json_string(result_of(r), "state"), "starting");
	pid = (pid_t)json_number(result_of(r), "pid");
	cJSON_Delete(r);

	t0 = now_ms();
	ck_assert_int_eq(close_sessions(b, "{\"server\":\"hang\"}"), 1);
	r = client_recv(a, HARNESS_TIMEOUT_MS, &cause);
	took = now_ms() - t0;
	ck_assert_msg(r != NULL, "no answer to the queued call: %s", cause);
	ck_assert_int_eq((int)json_number(r, "id"), 1000);
	ck_assert_int_eq(error_code(r), -32012);
	ck_assert_msg(took < 1000, "the answer took %ld ms", took);
	cJSON_Delete(r);
	ck_assert(wait_pid_gone(pid, GONE_MS));
	ck_assert(wait_no_children(d->pid, GONE_MS));
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_close_of_nothing_closes_nothing)
{
	struct client	*c = daemon_connect(d);
	pid_t		 pid;

	pid = start_session(c, "s1", "here");
	ck_assert_int_eq(close_sessions(c, "{\"thread\":\"absent\"}"), 0);
	ck_assert_int_eq(close_sessions(c,
	    "{\"server\":\"s2\",\"thread\":\"here\"}"), 0);
	ck_assert_int_eq(close_sessions(c, "{\"server\":\"linger\"}"), 0);
	ck_assert(pid_alive(pid));
	ck_assert_int_eq(session_count(c), 1);
	client_close(c);
}
END_TEST

START_TEST(test_close_unknown_server_is_refused)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = rpc(c, "broker/close", "{\"server\":\"nope\"}");
	ck_assert_int_eq(error_code(r), -32010);
	ck_assert_str_eq(json_string(error_data(r), "server"), "nope");
	cJSON_Delete(r);
	r = rpc(c, "broker/close", "{\"server\":\"nope\",\"thread\":\"t\"}");
	ck_assert_int_eq(error_code(r), -32010);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_close_bad_forms_are_invalid_params)
{
	static const char *forms[] = {
		"{}",
		"{\"all\":false}",
		"{\"all\":1}",
		"{\"all\":true,\"thread\":\"x\"}",
		"{\"all\":true,\"server\":\"s1\"}",
		"{\"thread\":5}",
		"{\"server\":true}",
		"{\"thread\":\"\"}",
		"{\"bogus\":1}",
		"{\"thread\":\"a\",\"bogus\":1}",
		"[]",
	};
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	size_t		 i;
	pid_t		 pid;

	pid = start_session(c, "s1", "a");
	for (i = 0; i < sizeof forms / sizeof *forms; i++) {
		r = rpc(c, "broker/close", forms[i]);
		ck_assert_msg(error_code(r) == -32602, "broker/close %s: "
		    "error %d, expected -32602", forms[i], error_code(r));
		cJSON_Delete(r);
	}
	/* No call got anywhere near closing something. */
	r = rpc(c, "broker/close", NULL);
	ck_assert_int_eq(error_code(r), -32602);
	cJSON_Delete(r);
	ck_assert(pid_alive(pid));
	ck_assert_int_eq(session_count(c), 1);
	client_close(c);
}
END_TEST

START_TEST(test_close_escalates_to_sigterm_after_grace)
{
	struct client	*c = daemon_connect(d);
	long		 t0, gone_at;
	pid_t		 pid;

	pid = start_session(c, "linger", "t");
	t0 = now_ms();
	ck_assert_int_eq(close_sessions(c, "{\"server\":\"linger\"}"), 1);

	/* stdin EOF is not enough for it ... */
	sleep_ms(100);
	ck_assert_msg(pid_alive(pid), "a --linger child went on stdin EOF");
	/* ... SIGTERM after shutdown_grace_ms is. */
	ck_assert_msg(wait_pid_gone(pid, (int)(t0 + 1000 - now_ms())),
	    "a --linger child still alive 1 s after close");
	gone_at = now_ms() - t0;
	ck_assert_msg(gone_at >= GRACE_MS - 50, "gone after %ld ms, before "
	    "the %d ms grace", gone_at, GRACE_MS);
	assert_children_are(NULL, 0);
	client_close(c);
}
END_TEST

START_TEST(test_close_escalates_to_sigkill_when_sigterm_is_ignored)
{
	struct client	*c = daemon_connect(d);
	long		 t0;
	pid_t		 pid;

	pid = start_session(c, "stubborn", "t");
	t0 = now_ms();
	ck_assert_int_eq(close_sessions(c, "{\"all\":true}"), 1);

	/* Past the SIGTERM (at 1 x grace), before the SIGKILL (2 x). */
	if (now_ms() - t0 < GRACE_MS + GRACE_MS / 2)
		sleep_ms(GRACE_MS + GRACE_MS / 2 - (int)(now_ms() - t0));
	ck_assert_msg(pid_alive(pid), "an --ignore-term child went before "
	    "SIGKILL");
	ck_assert_msg(wait_pid_gone(pid, (int)(t0 + 2000 - now_ms())),
	    "an --ignore-term child still alive 2 s after close");
	assert_children_are(NULL, 0);
	client_close(c);
}
END_TEST

START_TEST(test_grandchildren_go_with_their_session)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pid, grandchild;

	pid = start_session(c, "s1", "g");
	r = tool_call(c, "s1", "g", "spawn_grandchild", NULL);
	grandchild = (pid_t)json_number(result_of(r),
	    "structuredContent.grandchild_pid");
	cJSON_Delete(r);
	ck_assert(grandchild != pid);
	ck_assert(pid_alive(grandchild));

	ck_assert_int_eq(close_sessions(c, "{\"thread\":\"g\"}"), 1);
	ck_assert_msg(wait_pid_gone(pid, GONE_MS), "child %ld still alive",
	    (long)pid);
	ck_assert_msg(wait_pid_gone(grandchild, GONE_MS), "grandchild %ld "
	    "still alive", (long)grandchild);
	ck_assert_msg(wait_no_children(d->pid, GONE_MS),
	    "mcp-brokerd still has children");
	ck_assert_int_eq(session_count(c), 0);
	client_close(c);
}
END_TEST

START_TEST(test_grandchildren_of_a_lingering_child_go_too)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pid, grandchild;

	pid = start_session(c, "linger", "g");
	r = tool_call(c, "linger", "g", "spawn_grandchild", NULL);
	grandchild = (pid_t)json_number(result_of(r),
	    "structuredContent.grandchild_pid");
	cJSON_Delete(r);
	ck_assert(pid_alive(grandchild));

	ck_assert_int_eq(close_sessions(c, "{\"thread\":\"g\"}"), 1);
	ck_assert(wait_pid_gone(pid, GONE_MS));
	ck_assert_msg(wait_pid_gone(grandchild, GONE_MS), "grandchild %ld "
	    "still alive", (long)grandchild);
	ck_assert(wait_no_children(d->pid, GONE_MS));
	client_close(c);
}
END_TEST

/*
 * Shutdown: the tests below start their own daemon, since daemon_stop()
 * is the SIGTERM under test and frees it.
 */

/* What the watcher thread saw while the daemon shut down. */
struct watch {
	struct client	*slow;		/* has a call in flight */
	struct client	*late;		/* sends one after shutdown began */
	char		 sock[300];
	long		 slow_at;	/* when the slow call was answered */
	int		 slow_code;
	int		 slow_id;
	char		*slow_cause;
	int		 sock_gone;	/* socket file gone at that moment */
	int		 late_code;	/* 0: closed, -1: no answer */
	char		*late_cause;
};

/* Read the in-flight call's answer, then try a request after it. */
static void *
watch_shutdown(void *arg)
{
	struct watch	*w = arg;
	struct stat	 st;
	cJSON		*r;

	r = client_recv(w->slow, HARNESS_TIMEOUT_MS, &w->slow_cause);
	w->slow_at = now_ms();
	if (r != NULL) {
		w->slow_code = error_code(r);
		if (cJSON_IsNumber(cJSON_GetObjectItem(r, "id")))
			w->slow_id = cJSON_GetObjectItem(r, "id")->valueint;
		cJSON_Delete(r);
	}
	w->sock_gone = stat(w->sock, &st) == -1 && errno == ENOENT;

	r = client_call(w->late, "broker/status", NULL, 5000, &w->late_cause);
	if (r != NULL) {
		w->late_code = error_code(r);
		cJSON_Delete(r);
	} else if (w->late_cause != NULL &&
	    strstr(w->late_cause, "closed") != NULL)
		w->late_code = 0;
	else
		w->late_code = -1;
	return (NULL);
}

START_TEST(test_sigterm_closes_everything_and_exits_zero)
{
	struct daemon	*dd;
	struct client	*c;
	struct watch	 w;
	pthread_t	 thread;
	pid_t		 pids[3];
	long		 t0, took;
	int		 status, i;

	dd = daemon_start("\"shutdown_grace_ms\":500",
	    "\"fake\":{\"command\":\"@FAKE@\"}");
	c = daemon_connect(dd);
	memset(&w, 0, sizeof w);
	w.slow = daemon_connect(dd);
	w.late = daemon_connect(dd);
	snprintf(w.sock, sizeof w.sock, "%s", dd->sock);

	pids[0] = start_session(c, "fake", "t1");
	pids[1] = start_session(c, "fake", "t2");
	pids[2] = start_session(w.slow, "fake", "t3");
	send_call(w.slow, 1000, "fake", "t3", "sleep", "{\"ms\":5000}", NULL);
	wait_in_flight(c, "fake", "t3", 1);
	/* The late connection is accepted and known before SIGTERM. */
	cJSON_Delete(rpc(w.late, "broker/servers", NULL));
	ck_assert_int_eq(session_count(c), 3);

	ck_assert_int_eq(pthread_create(&thread, NULL, watch_shutdown, &w), 0);
	t0 = now_ms();
	status = daemon_stop(dd);
	took = now_ms() - t0;
	ck_assert_int_eq(pthread_join(thread, NULL), 0);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "mcp-brokerd did not exit 0 on SIGTERM (status %d)", status);
	ck_assert_msg(took < 3000, "mcp-brokerd took %ld ms to exit", took);
	for (i = 0; i < 3; i++)
		ck_assert_msg(!pid_alive(pids[i]), "child %ld outlived the "
		    "daemon", (long)pids[i]);

	ck_assert_msg(w.slow_cause == NULL, "the call in flight got no "
	    "answer: %s", w.slow_cause);
	ck_assert_int_eq(w.slow_id, 1000);
	ck_assert_int_eq(w.slow_code, -32016);
	ck_assert_msg(w.slow_at - t0 < 1000, "the call in flight was "
	    "answered %ld ms after SIGTERM", w.slow_at - t0);
	ck_assert_msg(w.sock_gone, "the socket file was still there during "
	    "shutdown");
	ck_assert_msg(w.late_code == -32016 || w.late_code == 0, "a request "
	    "after SIGTERM got %d (%s), expected -32016 or a closed "
	    "connection", w.late_code, w.late_cause != NULL ? w.late_cause :
	    "an answer");

	free(w.slow_cause);
	free(w.late_cause);
	client_close(c);
	client_close(w.slow);
	client_close(w.late);
}
END_TEST

START_TEST(test_sigterm_with_no_sessions_exits_zero_at_once)
{
	struct daemon	*dd;
	long		 t0, took;
	int		 status;

	dd = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
	t0 = now_ms();
	status = daemon_stop(dd);
	took = now_ms() - t0;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %d", status);
	ck_assert_msg(took < 1000, "took %ld ms", took);
}
END_TEST

START_TEST(test_sigterm_kills_children_that_ignore_it)
{
	struct daemon	*dd;
	struct client	*c;
	long		 t0, took;
	pid_t		 pid;
	int		 status;

	dd = daemon_start("\"shutdown_grace_ms\":300",
	    "\"stubborn\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--ignore-term\"]}");
	c = daemon_connect(dd);
	pid = start_session(c, "stubborn", "t");
	client_close(c);

	t0 = now_ms();
	status = daemon_stop(dd);
	took = now_ms() - t0;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %d", status);
	ck_assert_msg(!pid_alive(pid), "child %ld outlived the daemon",
	    (long)pid);
	ck_assert_msg(took < 3000, "took %ld ms", took);
}
END_TEST

static Suite *
close_suite(void)
{
	Suite	*s = suite_create("close");
	TCase	*tc;

	tc = harness_add_tcase(s, "broker/close", setup, teardown, 60);
	tcase_add_test(tc, test_close_thread_closes_it_on_every_server);
	tcase_add_test(tc, test_close_server_closes_only_that_servers_sessions);
	tcase_add_test(tc, test_close_server_and_thread_closes_exactly_one);
	tcase_add_test(tc, test_close_all_leaves_no_child);
	tcase_add_test(tc, test_close_forgets_the_key);
	tcase_add_test(tc,
	    test_close_answers_request_in_flight_with_session_lost);
	tcase_add_test(tc,
	    test_close_answers_requests_waiting_for_the_handshake);
	tcase_add_test(tc, test_close_of_nothing_closes_nothing);
	tcase_add_test(tc, test_close_unknown_server_is_refused);
	tcase_add_test(tc, test_close_bad_forms_are_invalid_params);

	tc = harness_add_tcase(s, "escalation", setup, teardown, 60);
	tcase_add_test(tc, test_close_escalates_to_sigterm_after_grace);
	tcase_add_test(tc,
	    test_close_escalates_to_sigkill_when_sigterm_is_ignored);
	tcase_add_test(tc, test_grandchildren_go_with_their_session);
	tcase_add_test(tc, test_grandchildren_of_a_lingering_child_go_too);

	tc = harness_add_tcase(s, "shutdown", NULL, NULL, 60);
	tcase_add_test(tc, test_sigterm_closes_everything_and_exits_zero);
	tcase_add_test(tc, test_sigterm_with_no_sessions_exits_zero_at_once);
	tcase_add_test(tc, test_sigterm_kills_children_that_ignore_it);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(close_suite()));
}
