/*
 * Sharing one host: one user holding max_clients_per_uid connections is
 * refused more while other users still connect; non-admins filling
 * max_clients leave root a bounded reserve in which status and close
 * work; one user's churn at max_sessions evicts only its own sessions,
 * never the idle session of a user within its share; and a user at
 * max_sessions_per_uid gives up its own least recently used session, or
 * is refused when all of its sessions are busy. HTTP connections count
 * toward the same per-user bound, on the socket and on TCP (there from
 * the first request with a token); one user's silent connections on the
 * socket hold at most their share (LISTENER_SNIFF_PER_UID) of the
 * connections being sniffed.
 *
 * The tests run as root. A connection of another user is made with that
 * user's effective uid and gid, so SO_PEERCRED names that user (any uid
 * works, with or without a passwd entry); the test process takes root
 * back at once and talks over the connection as usual.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
/* The share of sniffed connections one user may hold (listener.c). */
#define SNIFF_PER_UID	32
/* HTTP bearer tokens of users A and B. */
#define TOKEN_A		"user-a-0123456789abcdef0123456789"
#define TOKEN_B		"user-b-0123456789abcdef0123456789"
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

/* A bare connection to the socket whose peer is uid (see connect_as). */
static int
raw_as(uid_t uid)
{
	struct sockaddr_un	 sun;
	int			 fd, ok;

	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(d->sock), sizeof sun.sun_path);
	memcpy(sun.sun_path, d->sock, strlen(d->sock) + 1);
	ck_assert_int_eq(setgroups(0, NULL), 0);
	ck_assert_int_eq(setegid((gid_t)uid), 0);
	ck_assert_int_eq(seteuid(uid), 0);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	ck_assert_msg(seteuid(0) == 0 && setegid(0) == 0,
	    "cannot become root again");
	ck_assert_msg(ok, "uid %ld cannot connect", (long)uid);
	return (fd);
}

/* A connection to the HTTP listener on 127.0.0.1:port. */
static int
tcp_to(int port)
{
	struct sockaddr_in	 sin;
	int			 fd;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	return (fd);
}

/*
 * GET /nosuch on fd (with token, unless NULL), keeping the connection;
 * the status, and what was read in buf.
 */
static int
http_get(int fd, const char *token, char *buf, size_t size)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		*req, *end, *cl;
	size_t		 len = 0;
	ssize_t		 n;
	int		 status = 0;

	xasprintf(&req, "GET /nosuch HTTP/1.1\r\nHost: x\r\n%s%s%s\r\n",
	    token != NULL ? "Authorization: Bearer " : "",
	    token != NULL ? token : "", token != NULL ? "\r\n" : "");
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	free(req);
	/* Until the headers and the Content-Length bytes after them. */
	while (len + 1 < size && poll(&pfd, 1, REFUSE_MS) == 1 &&
	    (n = read(fd, buf + len, size - len - 1)) > 0) {
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL &&
		    (cl = strcasestr(buf, "Content-Length:")) != NULL &&
		    cl < end && len >= (size_t)(end + 4 - buf) +
		    strtoul(cl + 15, NULL, 10))
			break;
	}
	buf[len] = '\0';
	ck_assert_int_eq(sscanf(buf, "HTTP/1.1 %d", &status), 1);
	return (status);
}

START_TEST(test_http_on_the_socket_counts_toward_the_users_bound)
{
	struct client	*extra;
	char		 buf[4096];
	int		 a[PER_UID_CLIENTS], b, i;

	start("\"max_clients\":100,\"max_clients_per_uid\":3");
	for (i = 0; i < PER_UID_CLIENTS; i++) {
		a[i] = raw_as(USER_A);
		ck_assert_int_eq(http_get(a[i], NULL, buf, sizeof buf), 404);
	}
	extra = connect_as(USER_A);
	assert_refused(extra, "max_clients_per_uid");

	b = raw_as(USER_B);
	ck_assert_int_eq(http_get(b, NULL, buf, sizeof buf), 404);
	close(b);

	close(a[0]);
	sleep_ms(100);
	a[0] = raw_as(USER_A);
	ck_assert_int_eq(http_get(a[0], NULL, buf, sizeof buf), 404);
	for (i = 0; i < PER_UID_CLIENTS; i++)
		close(a[i]);
}
END_TEST

START_TEST(test_http_on_tcp_counts_toward_the_users_bound)
{
	char	 buf[4096], tokens[300], *keys;
	int	 a[PER_UID_CLIENTS], b, fd, port, i;

	snprintf(tokens, sizeof tokens, "/tmp/mcpb-share-tokens.%ld",
	    (long)getpid());
	ck_assert_int_ne(fd = open(tokens, O_WRONLY | O_CREAT | O_TRUNC,
	    0600), -1);
	dprintf(fd, "%d %s\n%d %s\n", USER_A, TOKEN_A, USER_B, TOKEN_B);
	close(fd);
	port = harness_free_port();
	xasprintf(&keys, "\"max_clients\":100,\"max_clients_per_uid\":2,"
	    "\"http\":{\"listen\":[\"127.0.0.1:%d\"],\"tokens_file\":\"%s\"}",
	    port, tokens);
	start(keys);
	free(keys);
	ck_assert(wait_log(d, 5000, "listening for HTTP on", NULL));
	for (i = 0; i < 2; i++) {
		a[i] = tcp_to(port);
		ck_assert_int_eq(http_get(a[i], TOKEN_A, buf, sizeof buf),
		    404);
	}
	a[2] = tcp_to(port);
	ck_assert_int_eq(http_get(a[2], TOKEN_A, buf, sizeof buf), 503);
	ck_assert_msg(strstr(buf, "-32014") != NULL &&
	    strstr(buf, "max_clients_per_uid") != NULL,
	    "the refusal does not name the bound: %s", buf);
	ck_assert(wait_log(d, 3000, "refusing an HTTP connection (uid 65534)",
	    "max_clients_per_uid (2) reached", NULL));

	b = tcp_to(port);
	ck_assert_int_eq(http_get(b, TOKEN_B, buf, sizeof buf), 404);
	close(b);
	for (i = 0; i < 3; i++)
		close(a[i]);
	unlink(tokens);
}
END_TEST

START_TEST(test_silent_connections_of_one_user_leave_room_for_others)
{
	struct client	*extra, *b;
	int		 a[SNIFF_PER_UID], i;

	start("\"max_clients\":200,\"max_clients_per_uid\":100");
	/* Each says nothing: its first bytes are awaited for 2 s. */
	for (i = 0; i < SNIFF_PER_UID; i++)
		a[i] = raw_as(USER_A);
	extra = connect_as(USER_A);
	assert_refused(extra, "LISTENER_SNIFF_PER_UID");
	ck_assert(wait_log(d, 3000, "refusing a client (uid 65534)",
	    "LISTENER_SNIFF_PER_UID", NULL));

	b = connect_as(USER_B);
	assert_served(b);
	client_close(b);
	for (i = 0; i < SNIFF_PER_UID; i++)
		close(a[i]);
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
	tcase_add_test(tc,
	    test_http_on_the_socket_counts_toward_the_users_bound);
	tcase_add_test(tc, test_http_on_tcp_counts_toward_the_users_bound);
	tcase_add_test(tc,
	    test_silent_connections_of_one_user_leave_room_for_others);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(share_suite()));
}
