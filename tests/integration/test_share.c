/*
 * Sharing one host: one user holding max_clients_per_uid connections is
 * refused more while other users still connect; non-admins filling
 * max_clients leave root a bounded reserve in which status and close
 * work; one user's churn at max_sessions evicts only its own sessions,
 * never the idle session of a user within its share; and a user at
 * max_sessions_per_uid gives up its own least recently used session, or
 * is refused when all of its sessions are busy.
 *
 * The tests run as root. A connection of another user is made with that
 * user's effective uid and gid, so SO_PEERCRED names that user (any uid
 * works, with or without a passwd entry); the test process takes root
 * back at once and talks over the connection as usual.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* Users with no passwd entry need none: the kernel vouches for them. */
#define USER_A		65534
#define USER_B		65533
#define USER_C		65532
/* Each user's bound on connections in the fixtures. */
#define PER_UID_CLIENTS	3
/* All connections in the reserve fixture. */
#define FEW_CLIENTS	4
/* The admin reserve past max_clients (BROKER_ADMIN_RESERVE). */
#define ADMIN_RESERVE	8
/* How long a refused connection waits for its line and EOF. */
#define REFUSE_MS	3000
/* How long a test waits for an evicted session's process to go. */
#define GONE_MS		3000
/* The one server of the fixtures. */
#define FAKE		"\"fake\":{\"command\":\"@FAKE@\"}"
/* Every user may reach the socket; the close escalation is short. */
#define OPEN		"\"socket_mode\":\"0666\",\"shutdown_grace_ms\":300"

static struct daemon	*d;

/*
 * A connection whose peer is uid: connect with that effective uid and
 * gid and no supplementary groups, then become root again.
 */
static struct client *
connect_as(uid_t uid)
{
	struct client	*c;
	char		*cause = NULL;
	int		 ok;

	ck_assert_int_eq(setgroups(0, NULL), 0);
	ck_assert_int_eq(setegid((gid_t)uid), 0);
	ck_assert_int_eq(seteuid(uid), 0);
	c = client_connect(d->sock, &cause);
	ok = seteuid(0) == 0 && setegid(0) == 0;
	ck_assert_msg(ok, "cannot become root again");
	ck_assert_msg(c != NULL, "uid %ld cannot connect: %s", (long)uid,
	    cause);
	return (c);
}

/* The connection is answered (broker/status), so the daemon counts it. */
static void
assert_served(struct client *c)
{
	cJSON	*r;

	r = rpc(c, "broker/status", NULL);
	ck_assert_msg(result_of(r) != NULL, "no status result");
	cJSON_Delete(r);
}

/*
 * The connection was refused as the listener refuses one at a bound:
 * one -32014 line without an id whose message names bound, then EOF.
 */
static void
assert_refused(struct client *c, const char *bound)
{
	cJSON		*m;
	const char	*msg;
	char		*cause = NULL;

	m = client_recv(c, REFUSE_MS, &cause);
	ck_assert_msg(m != NULL, "no refusal line: %s", cause);
	ck_assert_int_eq(error_code(m), -32014);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(m, "id")));
	msg = json_string(cJSON_GetObjectItem(m, "error"), "message");
	ck_assert_msg(strstr(msg, bound) != NULL, "the refusal does not "
	    "name %s: %s", bound, msg);
	cJSON_Delete(m);
	m = client_recv(c, REFUSE_MS, &cause);
	ck_assert_msg(m == NULL, "a second message after the refusal");
	free(cause);
	client_close(c);
}

/* A daemon with the broker keys given, that every user can reach. */
static void
start(const char *broker)
{
	char	*keys;

	xasprintf(&keys, OPEN ",%s", broker);
	d = daemon_start(keys, FAKE);
	free(keys);
	ck_assert_int_eq(chmod(d->dir, 0755), 0);
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

START_TEST(test_user_at_its_connection_bound_leaves_room_for_others)
{
	struct client	*a[PER_UID_CLIENTS], *b, *extra;
	int		 i;

	start("\"max_clients\":100,\"max_clients_per_uid\":3");
	for (i = 0; i < PER_UID_CLIENTS; i++) {
		a[i] = connect_as(USER_A);
		assert_served(a[i]);
	}
	extra = connect_as(USER_A);
	assert_refused(extra, "max_clients_per_uid");
	ck_assert_int_eq(wait_log(d, 3000, "refusing a client (uid 65534)",
	    "max_clients_per_uid", NULL), 1);

	/* Another user is not held back by A's bound. */
	b = connect_as(USER_B);
	assert_served(b);
	client_close(b);

	/* A's count follows its connections closing. */
	client_close(a[0]);
	sleep_ms(100);
	a[0] = connect_as(USER_A);
	assert_served(a[0]);
	for (i = 0; i < PER_UID_CLIENTS; i++)
		client_close(a[i]);
}
END_TEST

START_TEST(test_root_connects_when_others_fill_max_clients)
{
	struct client	*held[FEW_CLIENTS], *root[ADMIN_RESERVE], *c;
	char		 cmd[1024];
	int		 i;

	start("\"max_clients\":4,\"max_clients_per_uid\":0");
	for (i = 0; i < FEW_CLIENTS; i++) {
		held[i] = connect_as(i % 2 == 0 ? USER_A : USER_B);
		assert_served(held[i]);
	}
	c = connect_as(USER_C);
	assert_refused(c, "max_clients");

	/* Root gets in, and mcp-brokerctl works. */
	root[0] = daemon_connect(d);
	assert_served(root[0]);
	snprintf(cmd, sizeof cmd, "%s --socket %s status >/dev/null && "
	    "%s --socket %s close --all >/dev/null",
	    harness_build_path("mcp-brokerctl"), d->sock,
	    harness_build_path("mcp-brokerctl"), d->sock);
	ck_assert_int_eq(system(cmd), 0);

	/* The reserve is bounded: max_clients plus ADMIN_RESERVE in all. */
	for (i = 1; i < ADMIN_RESERVE; i++) {
		root[i] = daemon_connect(d);
		assert_served(root[i]);
	}
	c = daemon_connect(d);
	assert_refused(c, "max_clients");
	ck_assert_int_eq(wait_log(d, 3000, "refusing a client (uid 0)",
	    "admin reserve", NULL), 1);

	for (i = 0; i < ADMIN_RESERVE; i++)
		client_close(root[i]);
	for (i = 0; i < FEW_CLIENTS; i++)
		client_close(held[i]);
}
END_TEST

START_TEST(test_churn_at_capacity_spares_another_users_idle_session)
{
	struct client	*a = NULL, *b;
	cJSON		*r;
	char		*sid, thread[16];
	pid_t		 pid;
	int		 i;

	start("\"max_sessions\":4,\"max_sessions_per_uid\":0");
	b = connect_as(USER_B);
	r = tool_call(b, "fake", "mine", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	pid = pid_of(r);
	sid = xstrdup(session_id_of(r));
	cJSON_Delete(r);

	/* A starts eight sessions in a broker with room for four. */
	a = connect_as(USER_A);
	for (i = 0; i < 8; i++) {
		snprintf(thread, sizeof thread, "a%d", i);
		r = tool_call(a, "fake", thread, "counter", NULL);
		ck_assert_msg(count_of(r) == 1, "A's %s: %s", thread,
		    cJSON_PrintUnformatted(r));
		cJSON_Delete(r);
	}
	r = rpc(a, "broker/status", NULL);
	ck_assert_int_eq((int)json_number(result_of(r),
	    "counters.sessions_evicted"), 5);
	cJSON_Delete(r);

	/* B's session is the one it had: same child, id and generation. */
	ck_assert(pid_alive(pid));
	r = tool_call(b, "fake", "mine", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(pid_of(r), pid);
	ck_assert_int_eq(generation_of(r), 1);
	ck_assert_str_eq(session_id_of(r), sid);
	cJSON_Delete(r);
	free(sid);
	client_close(a);
	client_close(b);
}
END_TEST

START_TEST(test_user_at_its_session_bound_evicts_its_own_then_is_refused)
{
	struct client	*a, *a2, *b;
	cJSON		*r;
	pid_t		 first, other;
	int		 i;

	start("\"max_sessions\":10,\"max_sessions_per_uid\":2");
	b = connect_as(USER_B);
	r = tool_call(b, "fake", "b1", "counter", NULL);
	other = pid_of(r);
	cJSON_Delete(r);

	a = connect_as(USER_A);
	r = tool_call(a, "fake", "a1", "counter", NULL);
	first = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(a, "fake", "a2", "counter", NULL);
	cJSON_Delete(r);

	/* At its bound, A gives up its own least recently used session. */
	r = tool_call(a, "fake", "a3", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(first, GONE_MS), "A's a1 (pid %ld) was "
	    "not evicted", (long)first);
	ck_assert(pid_alive(other));

	/* With both of A's busy, A is refused and the bound is named. */
	send_call_as(a, cJSON_CreateString("s2"), "fake", "a2", "sleep",
	    "{\"ms\":1500}", NULL);
	send_call_as(a, cJSON_CreateString("s3"), "fake", "a3", "sleep",
	    "{\"ms\":1500}", NULL);
	a2 = connect_as(USER_A);
	wait_in_flight(a2, "fake", "a2", 1);
	wait_in_flight(a2, "fake", "a3", 1);
	r = tool_call(a2, "fake", "a4", "counter", NULL);
	ck_assert_int_eq(error_code(r), -32014);
	ck_assert_ptr_nonnull(strstr(json_string(cJSON_GetObjectItem(r,
	    "error"), "message"), "max_sessions_per_uid"));
	ck_assert_int_eq((int)json_number(error_data(r),
	    "max_sessions_per_uid"), 2);
	ck_assert_str_eq(json_string(error_data(r), "server"), "fake");
	cJSON_Delete(r);

	/* B is not held back, and A's sleeps finish undisturbed. */
	r = tool_call(b, "fake", "b2", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	for (i = 0; i < 2; i++) {
		r = recv_msg(a);
		ck_assert_int_eq((int)json_number(result_of(r),
		    "structuredContent.slept_ms"), 1500);
		cJSON_Delete(r);
	}
	ck_assert(pid_alive(other));
	client_close(a);
	client_close(a2);
	client_close(b);
}
END_TEST

static Suite *
share_suite(void)
{
	Suite	*s = suite_create("share");
	TCase	*tc = harness_add_tcase(s, "sharing a host", NULL, teardown,
		    60);

	tcase_add_test(tc,
	    test_user_at_its_connection_bound_leaves_room_for_others);
	tcase_add_test(tc, test_root_connects_when_others_fill_max_clients);
	tcase_add_test(tc,
	    test_churn_at_capacity_spares_another_users_idle_session);
	tcase_add_test(tc,
	    test_user_at_its_session_bound_evicts_its_own_then_is_refused);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(share_suite()));
}
