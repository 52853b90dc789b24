/*
 * broker/logs and mcp-brokerctl logs against the real daemon: a session's
 * stderr tail; with follow, each line the child writes afterwards pushed
 * as a broker/log notification, in order, until the session is over
 * (closed, exited, expired), the client cancels, or it leaves; the bound
 * on followers; who may read whose session; and what reaches a terminal.
 *
 * Lines are written on demand with fake-mcp's say tool, from a second
 * connection: the follower's own connection must see every message the
 * daemon sends it, which client_call() would skip.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "jsonrpc.h"
#include "xmalloc.h"

/* LOGS_MAX_FOLLOWERS in the daemon. */
#define MAX_FOLLOWERS	16
/* An unprivileged user for the access tests. */
#define NOBODY_UID	65534
/* Each step of the close escalation in the fixture. */
#define GRACE_MS	300
/* How long a test waits for something that should come. */
#define WAIT_MS		8000
/* How long a test watches for something that must not come. */
#define QUIET_MS	500

static struct daemon	*d;

/* "fake", and "brief", which expires after 1 s idle; anyone may connect. */
static void
setup(void)
{
	char	broker[128];

	snprintf(broker, sizeof broker, "\"socket_mode\":\"0666\","
	    "\"shutdown_grace_ms\":%d", GRACE_MS);
	d = daemon_start(broker, "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"brief\":{\"command\":\"@FAKE@\",\"idle_timeout_s\":1}");
}

/* "fake" with max_message_bytes 4096: output bounds of 16 KiB. */
static void
setup_small(void)
{
	char	broker[128];

	snprintf(broker, sizeof broker, "\"max_message_bytes\":4096,"
	    "\"shutdown_grace_ms\":%d", GRACE_MS);
	d = daemon_start(broker, "\"fake\":{\"command\":\"@FAKE@\"}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* Have the session for (server, thread) write text on its stderr. */
static void
say(struct client *c, const char *server, const char *thread,
    const char *text)
{
	cJSON	*args, *r;
	char	*json;

	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "text", text);
	json = cJSON_PrintUnformatted(args);
	r = tool_call(c, server, thread, "say", json);
	result_of(r);
	cJSON_Delete(r);
	free(json);
	cJSON_Delete(args);
}

/* Send broker/logs for (server, thread) under the string id. */
static void
send_logs(struct client *c, const char *id, const char *server,
    const char *thread, int follow)
{
	cJSON	*params, *req;
	char	*cause = NULL;

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", server);
	cJSON_AddStringToObject(params, "thread", thread);
	if (follow)
		cJSON_AddTrueToObject(params, "follow");
	req = jsonrpc_request(cJSON_CreateString(id), "broker/logs", params);
	ck_assert_msg(client_send(c, req, &cause) == 0, "send: %s", cause);
	cJSON_Delete(req);
}

/* Whether msg is a broker/log notification; its line into *line if so. */
static int
is_log(cJSON *msg, const char **line)
{
	cJSON	*method, *params;

	method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	if (!cJSON_IsString(method) ||
	    strcmp(method->valuestring, "broker/log") != 0)
		return (0);
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	*line = json_string(params, "line");
	return (1);
}

/* Whether msg answers the request with the string id. */
static int
answers(cJSON *msg, const char *id)
{
	cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(msg, "id");
	return (cJSON_GetObjectItemCaseSensitive(msg, "method") == NULL &&
	    cJSON_IsString(item) && strcmp(item->valuestring, id) == 0);
}

/*
 * Read c's messages until a broker/log line holding needle; fails on an
 * answer to anything meanwhile. Returns the messages read, in order (the
 * caller frees the array).
 */
static cJSON *
read_logs_until(struct client *c, const char *needle)
{
	cJSON		*all, *msg;
	const char	*line;
	char		*text;

	all = cJSON_CreateArray();
	for (;;) {
		msg = recv_msg(c);
		if (!is_log(msg, &line)) {
			text = cJSON_PrintUnformatted(msg);
			ck_abort_msg("expected broker/log lines up to '%s', got "
			    "%s", needle, text);
		}
		cJSON_AddItemToArray(all, msg);
		if (strstr(line, needle) != NULL)
			return (all);
	}
}

/* The next message on c that is not a broker/log line (caller frees). */
static cJSON *
recv_answer(struct client *c)
{
	cJSON		*msg;
	const char	*line;

	for (;;) {
		msg = recv_msg(c);
		if (!is_log(msg, &line))
			return (msg);
		cJSON_Delete(msg);
	}
}

/*
 * Wait until the daemon has read a stderr line holding needle for
 * (server, thread): until broker/logs shows it. No broker/log line may
 * come to c meanwhile (c follows nothing).
 */
static void
wait_tail(struct client *c, const char *server, const char *thread,
    const char *needle)
{
	cJSON		*msg, *lines;
	const char	*line;
	long		 deadline = now_ms() + WAIT_MS;
	int		 found;

	for (;;) {
		send_logs(c, "tail", server, thread, 0);
		msg = recv_msg(c);
		ck_assert_msg(!is_log(msg, &line), "a broker/log line came to "
		    "a client that follows nothing: %s", line);
		ck_assert(answers(msg, "tail"));
		lines = cJSON_GetObjectItemCaseSensitive(result_of(msg),
		    "lines");
		found = tail_has(lines, needle);
		cJSON_Delete(msg);
		if (found)
			return;
		ck_assert_msg(now_ms() < deadline, "'%s' never reached the "
		    "tail", needle);
		sleep_ms(20);
	}
}

/* Fail if any message comes to c within ms. */
static void
expect_silence(struct client *c, int ms)
{
	cJSON	*msg;
	char	*cause = NULL, *text;

	if ((msg = client_recv(c, ms, &cause)) != NULL) {
		text = cJSON_PrintUnformatted(msg);
		ck_abort_msg("expected nothing, got %s", text);
	}
	free(cause);
}

/*
 * Start a follow of (server, thread) on c under id, and read its tail
 * through the line holding needle.
 */
static void
follow(struct client *c, const char *id, const char *server,
    const char *thread, const char *needle)
{
	send_logs(c, id, server, thread, 1);
	cJSON_Delete(read_logs_until(c, needle));
}

START_TEST(test_logs_returns_the_stderr_tail)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *lines;

	say(c, "fake", "t1", "first words");
	say(c, "fake", "t1", "second words");
	wait_tail(c, "fake", "t1", "second words");
	r = rpc(c, "broker/logs", "{\"server\":\"fake\",\"thread\":\"t1\"}");
	lines = cJSON_GetObjectItemCaseSensitive(result_of(r), "lines");
	ck_assert(cJSON_IsArray(lines));
	ck_assert(tail_has(lines, "fake-mcp started pid"));
	ck_assert(tail_has(lines, "first words"));
	ck_assert(tail_has(lines, "second words"));
	/* Oldest first, and no more than the tail keeps. */
	ck_assert_str_eq(cJSON_GetArrayItem(lines, cJSON_GetArraySize(lines) -
	    1)->valuestring, "second words");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_logs_of_no_session_is_refused_as_broker_session_refuses)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *s;

	r = rpc(c, "broker/logs", "{\"server\":\"fake\",\"thread\":\"none\"}");
	s = rpc(c, "broker/session", "{\"server\":\"fake\",\"thread\":\"none\"}");
	ck_assert_int_eq(error_code(r), -32602);
	ck_assert_int_eq(error_code(r), error_code(s));
	ck_assert_str_eq(json_string(error_data(r), "server"), "fake");
	ck_assert_str_eq(json_string(error_data(r), "thread"), "none");
	cJSON_Delete(r);
	cJSON_Delete(s);
	/* Nothing was started for it. */
	ck_assert_int_eq(session_count(c), 0);
	client_close(c);
}
END_TEST

START_TEST(test_logs_refuses_bad_params)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = rpc(c, "broker/logs", "{\"server\":\"fake\",\"thread\":\"t1\","
	    "\"follow\":\"yes\"}");
	ck_assert_int_eq(error_code(r), -32602);
	ck_assert_ptr_nonnull(strstr(json_string(r, "error.message"),
	    "follow"));
	cJSON_Delete(r);
	r = rpc(c, "broker/logs", "{\"server\":\"fake\"}");
	ck_assert_int_eq(error_code(r), -32602);
	cJSON_Delete(r);
	r = rpc(c, "broker/logs", "{\"server\":\"fake\",\"thread\":\"t1\","
	    "\"lines\":5}");
	ck_assert_int_eq(error_code(r), -32602);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_follow_pushes_new_lines_in_order)
{
	struct client	*c = daemon_connect(d), *w = daemon_connect(d);
	cJSON		*all, *msg, *params;
	const char	*line;
	int		 i, n;

	say(w, "fake", "t1", "before the follow");
	wait_tail(w, "fake", "t1", "before the follow");
	send_logs(c, "f", "fake", "t1", 1);
	/* The tail first, then only what came after. */
	all = read_logs_until(c, "before the follow");
	cJSON_Delete(all);
	say(w, "fake", "t1", "line one");
	say(w, "fake", "t1", "line two");
	say(w, "fake", "t1", "line three");
	all = read_logs_until(c, "line three");
	n = cJSON_GetArraySize(all);
	ck_assert_int_eq(n, 3);
	for (i = 0; i < n; i++) {
		msg = cJSON_GetArrayItem(all, i);
		ck_assert(is_log(msg, &line));
		ck_assert_str_eq(line, i == 0 ? "line one" : i == 1 ?
		    "line two" : "line three");
		params = cJSON_GetObjectItemCaseSensitive(msg, "params");
		ck_assert_str_eq(json_string(params, "server"), "fake");
		ck_assert_str_eq(json_string(params, "thread"), "t1");
		ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(msg,
		    "id"));
	}
	cJSON_Delete(all);
	/* Another thread's lines are not this follow's. */
	say(w, "fake", "t2", "other thread");
	wait_tail(w, "fake", "t2", "other thread");
	expect_silence(c, QUIET_MS);
	client_close(w);
	client_close(c);
}
END_TEST

START_TEST(test_follow_is_answered_when_the_session_is_closed)
{
	struct client	*c = daemon_connect(d), *w = daemon_connect(d);
	cJSON		*msg;

	say(w, "fake", "t1", "hello");
	follow(c, "f", "fake", "t1", "hello");
	ck_assert_int_eq(close_sessions(w,
	    "{\"server\":\"fake\",\"thread\":\"t1\"}"), 1);
	msg = recv_answer(c);
	ck_assert(answers(msg, "f"));
	ck_assert_str_eq(json_string(result_of(msg), "ended"),
	    "broker/close");
	cJSON_Delete(msg);
	/* The connection goes on. */
	ck_assert_int_eq(session_count(c), 0);
	client_close(w);
	client_close(c);
}
END_TEST

START_TEST(test_follow_gets_the_last_lines_and_the_exit_of_a_child)
{
	struct client	*c = daemon_connect(d), *w = daemon_connect(d);
	cJSON		*msg, *r;

	say(w, "fake", "t1", "hello");
	follow(c, "f", "fake", "t1", "hello");
	r = tool_call(w, "fake", "t1", "crash", "{\"code\":7}");
	ck_assert_int_eq(error_code(r), -32012);
	cJSON_Delete(r);
	/* Its last words come before the answer. */
	cJSON_Delete(read_logs_until(c, "crashing on purpose"));
	msg = recv_answer(c);
	ck_assert(answers(msg, "f"));
	ck_assert_str_eq(json_string(result_of(msg), "ended"),
	    "exited with status 7");
	cJSON_Delete(msg);
	client_close(w);
	client_close(c);
}
END_TEST

START_TEST(test_follow_is_answered_when_the_daemon_shuts_down)
{
	struct client	*c = daemon_connect(d);
	cJSON		*msg;
	char		*cause = NULL;

	say(c, "fake", "t1", "hello");
	follow(c, "f", "fake", "t1", "hello");
	kill(d->pid, SIGTERM);
	msg = recv_answer(c);
	ck_assert(answers(msg, "f"));
	ck_assert_str_eq(json_string(result_of(msg), "ended"),
	    "the broker is shutting down");
	cJSON_Delete(msg);
	/* Then the daemon goes (teardown checks that it exited 0). */
	ck_assert_ptr_null(client_recv(c, WAIT_MS, &cause));
	free(cause);
	client_close(c);
	ck_assert(wait_pid_gone(d->pid, WAIT_MS));
}
END_TEST

START_TEST(test_cancel_ends_a_follow_and_the_connection_goes_on)
{
	struct client	*c = daemon_connect(d), *w = daemon_connect(d);
	cJSON		*r;

	say(w, "fake", "t1", "hello");
	follow(c, "f", "fake", "t1", "hello");
	send_line(c, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":\"f\"}}");
	say(w, "fake", "t1", "after the cancel");
	/* Fails if a broker/log line still comes to c. */
	wait_tail(c, "fake", "t1", "after the cancel");
	r = tool_call(c, "fake", "t1", "echo", "{\"text\":\"still here\"}");
	ck_assert_str_eq(json_string(result_of(r), "structuredContent.text"),
	    "still here");
	cJSON_Delete(r);
	/* No answer to the cancelled request, even when the session ends. */
	ck_assert_int_eq(close_sessions(w, "{\"thread\":\"t1\"}"), 1);
	expect_silence(c, QUIET_MS + 2 * GRACE_MS);
	client_close(w);
	client_close(c);
}
END_TEST

START_TEST(test_followers_are_bounded_and_freed_by_cancel_and_disconnect)
{
	struct client	*c = daemon_connect(d), *w = daemon_connect(d);
	struct client	*x;
	cJSON		*msg;
	const char	*line;
	char		 id[16];
	long		 deadline;
	int		 i, ok;

	say(w, "fake", "t1", "hello");
	for (i = 0; i < MAX_FOLLOWERS; i++) {
		snprintf(id, sizeof id, "f%d", i);
		follow(c, id, "fake", "t1", "hello");
	}
	x = daemon_connect(d);
	send_logs(x, "over", "fake", "t1", 1);
	msg = recv_msg(x);
	ck_assert(answers(msg, "over"));
	ck_assert_int_eq(error_code(msg), -32014);
	ck_assert_ptr_nonnull(strstr(json_string(msg, "error.message"),
	    "LOGS_MAX_FOLLOWERS"));
	ck_assert_int_eq((int)json_number(error_data(msg), "max_followers"),
	    MAX_FOLLOWERS);
	cJSON_Delete(msg);

	/* A cancel makes room for one. */
	send_line(c, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":\"f3\"}}");
	wait_tail(c, "fake", "t1", "hello");
	follow(x, "in", "fake", "t1", "hello");
	send_logs(x, "over2", "fake", "t1", 1);
	msg = recv_answer(x);
	ck_assert(answers(msg, "over2"));
	ck_assert_int_eq(error_code(msg), -32014);
	cJSON_Delete(msg);

	/* Leaving frees all of them. */
	client_close(c);
	deadline = now_ms() + WAIT_MS;
	for (ok = 0; !ok; ) {
		ck_assert_msg(now_ms() < deadline, "the followers of a client "
		    "that left were never freed");
		/* Taken, its tail comes; refused, its error. */
		send_logs(x, "again", "fake", "t1", 1);
		msg = recv_msg(x);
		ok = is_log(msg, &line);
		if (!ok) {
			ck_assert(answers(msg, "again"));
			ck_assert_int_eq(error_code(msg), -32014);
			sleep_ms(20);
		}
		cJSON_Delete(msg);
	}
	client_close(x);
	client_close(w);
}
END_TEST

START_TEST(test_a_follower_that_does_not_read_is_dropped_at_its_bound)
{
	struct client	*c = daemon_connect(d), *w = daemon_connect(d);
	struct client	*x;
	cJSON		*r;
	char		*cause = NULL;
	long		 deadline;

	say(w, "fake", "t1", "hello");
	follow(c, "slow", "fake", "t1", "hello");
	/* Megabytes of stderr while c reads nothing. */
	r = tool_call(w, "fake", "t1", "stderr_flood", "{\"lines\":20000}");
	result_of(r);
	cJSON_Delete(r);
	ck_assert(wait_log(d, WAIT_MS, "unsent bytes", "dropping it", NULL));
	/* The session and its followers go on. */
	x = daemon_connect(d);
	follow(x, "next", "fake", "t1", "fake-mcp flood done 20000");
	say(w, "fake", "t1", "after the flood");
	cJSON_Delete(read_logs_until(x, "after the flood"));
	/* c's connection ends once what was sent before is read. */
	deadline = now_ms() + WAIT_MS;
	while ((r = client_recv(c, WAIT_MS, &cause)) != NULL) {
		cJSON_Delete(r);
		ck_assert_msg(now_ms() < deadline, "the slow follower was not "
		    "dropped");
	}
	ck_assert_ptr_nonnull(strstr(cause, "closed"));
	free(cause);
	client_close(x);
	client_close(w);
	client_close(c);
}
END_TEST

START_TEST(test_a_follow_does_not_keep_a_session_from_idle_expiry)
{
	struct client	*c = daemon_connect(d), *w = daemon_connect(d);
	cJSON		*msg;
	long		 start;

	say(w, "brief", "t1", "hello");
	follow(c, "f", "brief", "t1", "hello");
	start = now_ms();
	msg = recv_answer(c);
	ck_assert(answers(msg, "f"));
	ck_assert_ptr_nonnull(strstr(json_string(result_of(msg), "ended"),
	    "idle_timeout_s"));
	ck_assert_int_lt(now_ms() - start, WAIT_MS);
	cJSON_Delete(msg);
	ck_assert_int_eq(status_counter(w, "sessions_expired"), 1);
	client_close(w);
	client_close(c);
}
END_TEST

/*
 * As nobody, connect, have nobody's own session (fake, "mine") say
 * "nobody was here", and send broker/logs for (fake, thread), with follow
 * if asked. Returns the answer's error code, 0 for a result. The child
 * calls no check function: it only exits with what it saw.
 */
static int
as_nobody(const char *thread, int follow_it)
{
	struct client	*c;
	cJSON		*msg, *params, *req, *err;
	char		*cause = NULL;
	pid_t		 pid;
	int		 status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (setgid(NOBODY_UID) != 0 || setuid(NOBODY_UID) != 0)
			_exit(100);
		if ((c = client_connect(d->sock, &cause)) == NULL)
			_exit(101);
		params = cJSON_Parse("{\"server\":\"fake\",\"thread\":"
		    "\"mine\",\"name\":\"say\",\"arguments\":{\"text\":"
		    "\"nobody was here\"}}");
		if ((msg = client_call(c, "tools/call", params, WAIT_MS,
		    &cause)) == NULL)
			_exit(102);
		cJSON_Delete(msg);
		params = cJSON_CreateObject();
		cJSON_AddStringToObject(params, "server", "fake");
		cJSON_AddStringToObject(params, "thread", thread);
		if (follow_it)
			cJSON_AddTrueToObject(params, "follow");
		req = jsonrpc_request(cJSON_CreateString("n"), "broker/logs",
		    params);
		if (client_send(c, req, &cause) != 0)
			_exit(103);
		/* A follow's first message is a line of its tail. */
		if ((msg = client_recv(c, WAIT_MS, &cause)) == NULL)
			_exit(104);
		if ((err = cJSON_GetObjectItem(msg, "error")) == NULL)
			_exit(0);
		_exit(cJSON_GetObjectItem(err, "code")->valueint == -32602 ?
		    1 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_lt(WEXITSTATUS(status), 3);
	return (WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) == 1 ?
	    -32602 : -1);
}

START_TEST(test_another_user_cannot_read_or_follow_a_session)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	ck_assert_int_eq(chmod(d->dir, 0711), 0);
	say(c, "fake", "root-only", "secret");
	/* nobody's view: no session of that name (as broker/session). */
	ck_assert_int_eq(as_nobody("root-only", 0), -32602);
	ck_assert_int_eq(as_nobody("root-only", 1), -32602);
	/* Its own session it reads. */
	ck_assert_int_eq(as_nobody("mine", 0), 0);
	/* An admin (root) reads another user's session. */
	wait_tail(c, "fake", "mine", "nobody was here");
	r = rpc(c, "broker/logs", "{\"server\":\"fake\",\"thread\":\"mine\"}");
	ck_assert(tail_has(cJSON_GetObjectItemCaseSensitive(result_of(r),
	    "lines"), "nobody was here"));
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

/* A running mcp-brokerctl with its stdout and stderr on pipes. */
struct ctl_proc {
	pid_t	 pid;
	int	 out;
	int	 err;
	char	*outbuf;
	size_t	 outlen;
};

/* Start mcp-brokerctl --socket <the daemon's> logs args... */
static void
ctl_start(struct ctl_proc *p, ...)
{
	const char	*argv[16];
	va_list		 ap;
	int		 out[2], err[2], n = 0;

	argv[n++] = "mcp-brokerctl";
	argv[n++] = "--socket";
	argv[n++] = d->sock;
	argv[n++] = "logs";
	va_start(ap, p);
	while ((argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	p->pid = fork();
	ck_assert_int_ne(p->pid, -1);
	if (p->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		execv(harness_build_path("mcp-brokerctl"), (char **)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	p->out = out[0];
	p->err = err[0];
	p->outbuf = xstrdup("");
	p->outlen = 0;
}

/* Read the ctl's stdout until it holds needle (fails after WAIT_MS). */
static void
ctl_wait_out(struct ctl_proc *p, const char *needle)
{
	struct pollfd	pfd;
	char		chunk[4096];
	ssize_t		n;
	long		deadline = now_ms() + WAIT_MS;

	while (strstr(p->outbuf, needle) == NULL) {
		ck_assert_msg(now_ms() < deadline, "mcp-brokerctl never "
		    "printed '%s'; it printed: %s", needle, p->outbuf);
		pfd.fd = p->out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(p->out, chunk, sizeof chunk);
		ck_assert_msg(n > 0, "mcp-brokerctl closed its stdout before "
		    "printing '%s'; it printed: %s", needle, p->outbuf);
		p->outbuf = xrealloc(p->outbuf, p->outlen + (size_t)n + 1);
		memcpy(p->outbuf + p->outlen, chunk, (size_t)n);
		p->outlen += (size_t)n;
		p->outbuf[p->outlen] = '\0';
	}
}

/* Wait for the ctl to exit; its exit status; its stderr into *err. */
static int
ctl_finish(struct ctl_proc *p, char **err)
{
	char	buf[4096];
	ssize_t	n;
	size_t	len = 0;
	long	deadline = now_ms() + WAIT_MS;
	int	status;
	pid_t	got;

	while ((got = waitpid(p->pid, &status, WNOHANG)) == 0) {
		if (now_ms() > deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			ck_abort_msg("mcp-brokerctl logs -f did not exit");
		}
		sleep_ms(20);
	}
	fcntl(p->err, F_SETFL, O_NONBLOCK);
	while ((n = read(p->err, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	*err = xstrdup(buf);
	close(p->out);
	close(p->err);
	free(p->outbuf);
	return (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

START_TEST(test_ctl_logs_prints_the_tail)
{
	struct client	*c = daemon_connect(d);
	struct ctl_proc	 p;
	char		*err;

	say(c, "fake", "t1", "a line for the ctl");
	wait_tail(c, "fake", "t1", "a line for the ctl");
	ctl_start(&p, "fake", "t1", NULL);
	ctl_wait_out(&p, "a line for the ctl\n");
	ck_assert_int_eq(ctl_finish(&p, &err), 0);
	free(err);
	/* No session: the error answer, exit 1. */
	ctl_start(&p, "fake", "none", NULL);
	ck_assert_int_eq(ctl_finish(&p, &err), 1);
	ck_assert_ptr_nonnull(strstr(err, "No session"));
	free(err);
	client_close(c);
}
END_TEST

START_TEST(test_ctl_logs_follows_until_the_session_is_closed)
{
	struct client	*c = daemon_connect(d);
	struct ctl_proc	 p;
	char		*err;

	say(c, "fake", "t1", "already there");
	ctl_start(&p, "fake", "t1", "-f", NULL);
	ctl_wait_out(&p, "already there\n");
	say(c, "fake", "t1", "written after it started");
	ctl_wait_out(&p, "written after it started\n");
	ck_assert_int_eq(close_sessions(c, "{\"thread\":\"t1\"}"), 1);
	ck_assert_int_eq(ctl_finish(&p, &err), 0);
	ck_assert_ptr_nonnull(strstr(err, "-- session ended: broker/close"));
	free(err);
	client_close(c);
}
END_TEST

START_TEST(test_ctl_logs_follow_ends_quietly_on_sigint)
{
	struct client	*c = daemon_connect(d);
	struct ctl_proc	 p;
	char		*err;

	say(c, "fake", "t1", "hello");
	ctl_start(&p, "fake", "t1", "-f", NULL);
	ctl_wait_out(&p, "hello\n");
	kill(p.pid, SIGINT);
	ck_assert_int_eq(ctl_finish(&p, &err), 0);
	ck_assert_str_eq(err, "");
	free(err);
	/* The daemon let go of it: the session is still there, and idle. */
	ck_assert_int_eq(session_count(c), 1);
	client_close(c);
}
END_TEST

START_TEST(test_ctl_logs_escapes_control_characters)
{
	struct client	*c = daemon_connect(d);
	struct ctl_proc	 p;
	char		*err;

	say(c, "fake", "t1", "boot");
	ctl_start(&p, "fake", "t1", "-f", NULL);
	ctl_wait_out(&p, "boot\n");
	say(c, "fake", "t1", "\x1b[2J\x1b]0;owned\x07 red\rforged\x7f back\\x1b");
	ctl_wait_out(&p, "back");
	ck_assert_ptr_nonnull(strstr(p.outbuf, "\\x1b[2J\\x1b]0;owned\\x07 "
	    "red\\x0dforged\\x7f back\\\\x1b\n"));
	ck_assert_ptr_null(strchr(p.outbuf, '\x1b'));
	ck_assert_ptr_null(strchr(p.outbuf, '\r'));
	ck_assert_ptr_null(strchr(p.outbuf, '\x07'));
	kill(p.pid, SIGTERM);
	ck_assert_int_eq(ctl_finish(&p, &err), 0);
	free(err);
	client_close(c);
}
END_TEST

static Suite *
logs_suite(void)
{
	Suite	*s = suite_create("logs");
	TCase	*tc;

	tc = harness_add_tcase(s, "tail", setup, teardown, 60);
	tcase_add_test(tc, test_logs_returns_the_stderr_tail);
	tcase_add_test(tc,
	    test_logs_of_no_session_is_refused_as_broker_session_refuses);
	tcase_add_test(tc, test_logs_refuses_bad_params);
	tc = harness_add_tcase(s, "follow", setup, teardown, 60);
	tcase_add_test(tc, test_follow_pushes_new_lines_in_order);
	tcase_add_test(tc, test_follow_is_answered_when_the_session_is_closed);
	tcase_add_test(tc,
	    test_follow_gets_the_last_lines_and_the_exit_of_a_child);
	tcase_add_test(tc, test_follow_is_answered_when_the_daemon_shuts_down);
	tcase_add_test(tc, test_cancel_ends_a_follow_and_the_connection_goes_on);
	tcase_add_test(tc,
	    test_followers_are_bounded_and_freed_by_cancel_and_disconnect);
	tcase_add_test(tc,
	    test_a_follow_does_not_keep_a_session_from_idle_expiry);
	tc = harness_add_tcase(s, "bound", setup_small, teardown, 60);
	tcase_add_test(tc,
	    test_a_follower_that_does_not_read_is_dropped_at_its_bound);
	tc = harness_add_tcase(s, "access", setup, teardown, 60);
	tcase_add_test(tc, test_another_user_cannot_read_or_follow_a_session);
	tc = harness_add_tcase(s, "ctl", setup, teardown, 60);
	tcase_add_test(tc, test_ctl_logs_prints_the_tail);
	tcase_add_test(tc, test_ctl_logs_follows_until_the_session_is_closed);
	tcase_add_test(tc, test_ctl_logs_follow_ends_quietly_on_sigint);
	tcase_add_test(tc, test_ctl_logs_escapes_control_characters);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(logs_suite()));
}
