/*
 * Lifecycle end to end: request timeouts and progress, cancellation by
 * the client, idle expiry, reload (SIGHUP and broker/reload), nothing
 * outliving its session or the daemon, and the daemon under pressure:
 * clients that never read, children that stop reading, garbage floods,
 * no file descriptors, no processes. After each the daemon must still
 * serve, and sessions not involved must keep their process and state.
 */
#include <sys/types.h>

#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* How long a test waits for a closed session's process to go. */
#define GONE_MS		3000
/* What the fake writes to stderr for each notifications/cancelled. */
#define CANCEL_LINE	"fake-mcp: cancelled request "
/* Requests sent to a child that does not read before giving up. */
#define STUCK_MAX	200
/* The user the fork test runs the daemon as. */
#define NOBODY_UID	65534

static struct daemon	*d;

/* A session on ("fake", "bystander") that no test may disturb. */
struct bystander {
	pid_t	pid;
	int	count;
};

static void	 write_config(const char *, const char *);
static cJSON	*call_with(struct client *, const char *, const char *,
		     const char *, const char *, const char *);
static cJSON	*await_answer(struct client *, long, const char *, int *);
static void	 assert_quiet(struct client *, int);
static void	 assert_timeout(cJSON *, const char *, const char *, int);
static void	 assert_names(cJSON *, const char *, const char *);
static void	 assert_unknown_server(struct client *, const char *);
static int	 wait_sent_or_broken(struct client *, const char *,
		     const char *, int);
static int	 cancelled_ids(struct client *, const char *, const char *,
		     long *, int);
static long	 wait_one_cancel(struct client *, const char *,
		     const char *);
static int	 wait_tail(struct client *, const char *, const char *,
		     const char *);
static int	 server_listed(struct client *, const char *);
static void	 wait_reloads(struct client *, int);
static int	 pid_exists(pid_t);
static int	 wait_pid_vanished(pid_t, int);
static void	 bystander_start(struct client *, struct bystander *);
static void	 bystander_check(struct client *, struct bystander *);
static int	 uid_has_processes(uid_t);
static void	 assert_reload_refused(const char *, ...);
static void	 assert_burst_served(struct client *, const char *, int);

/* Rewrite the running daemon's config file (same socket). */
static void
write_config(const char *broker, const char *servers)
{
	char	*text;

	text = config_text(broker, servers);
	daemon_write_config(d, text);
	free(text);
}

/* One plain fake server, "fake". */
static void
setup_fake(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
}

/*
 * Request clocks: the fake; "strict", whose request_timeout_s is 1; and
 * "late", a shell script (written by its test) that answers every call
 * after a second whatever it is told meanwhile.
 */
static void
setup_timeouts(void)
{
	d = daemon_start("",
	    "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"strict\":{\"command\":\"@FAKE@\",\"request_timeout_s\":1},"
	    "\"late\":{\"command\":\"/bin/sh\",\"args\":[\"@DIR@/late.sh\"],"
	    "\"protocol\":\"legacy\"}");
}

/* A request clock capped at 1 s however much progress comes. */
static void
setup_cap(void)
{
	d = daemon_start("\"request_timeout_s\":1,\"max_request_timeout_s\":1",
	    "\"fake\":{\"command\":\"@FAKE@\"}");
}

/* Sessions idle for 1 s close, except those of "keep". */
static void
setup_idle(void)
{
	d = daemon_start("\"idle_timeout_s\":1",
	    "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"keep\":{\"command\":\"@FAKE@\",\"idle_timeout_s\":0}");
}

/* The servers every reload test starts from. */
#define RELOAD_SERVERS	"\"fake\":{\"command\":\"@FAKE@\"}," \
			"\"other\":{\"command\":\"@FAKE@\"}"

static void
setup_reload(void)
{
	d = daemon_start("", RELOAD_SERVERS);
}

/* Lines bounded at 4096 bytes, and a short close escalation. */
static void
setup_limits(void)
{
	d = daemon_start("\"max_message_bytes\":4096,\"shutdown_grace_ms\":200",
	    "\"fake\":{\"command\":\"@FAKE@\"}");
}

/* No daemon yet: the test starts its own, under limits. */
static void
setup_none(void)
{
	d = NULL;
}

static void
teardown(void)
{
	struct daemon	*dd = d;

	if (dd == NULL)
		return;
	d = NULL;
	daemon_stop_ok(dd);
}

/* tools/call with extra members of params (timeout_ms, _meta). */
static cJSON *
call_with(struct client *c, const char *server, const char *thread,
    const char *tool, const char *args, const char *extra)
{
	char	*params;
	cJSON	*r;

	xasprintf(&params, "{\"server\":\"%s\",\"thread\":\"%s\","
	    "\"name\":\"%s\",\"arguments\":%s,%s}", server, thread, tool,
	    args != NULL ? args : "{}", extra);
	r = rpc(c, "tools/call", params);
	free(params);
	return (r);
}

/*
 * Read up to the answer to id (caller frees it), counting the progress
 * notifications on the way into *progress; each must carry token, the
 * client's own progressToken (NULL: none may come).
 */
static cJSON *
await_answer(struct client *c, long id, const char *token, int *progress)
{
	cJSON	*m, *method, *tok, *mid;
	char	*text;

	*progress = 0;
	for (;;) {
		m = recv_msg(c);
		method = cJSON_GetObjectItemCaseSensitive(m, "method");
		if (cJSON_IsString(method) && strcmp(method->valuestring,
		    "notifications/progress") == 0) {
			tok = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(m, "params"),
			    "progressToken");
			text = cJSON_PrintUnformatted(m);
			ck_assert_msg(token != NULL && cJSON_IsString(tok) &&
			    strcmp(tok->valuestring, token) == 0,
			    "progress under the wrong token: %s", text);
			free(text);
			(*progress)++;
			cJSON_Delete(m);
			continue;
		}
		mid = cJSON_GetObjectItemCaseSensitive(m, "id");
		text = cJSON_PrintUnformatted(m);
		ck_assert_msg(method == NULL && cJSON_IsNumber(mid) &&
		    mid->valuedouble == (double)id, "expected the answer to "
		    "%ld, got %s", id, text);
		free(text);
		return (m);
	}
}

/* Nothing at all arrives on c for ms milliseconds. */
static void
assert_quiet(struct client *c, int ms)
{
	cJSON	*m;
	char	*cause = NULL;

	if (ms < 1)
		ms = 1;
	m = client_recv(c, ms, &cause);
	ck_assert_msg(m == NULL, "unexpected message: %s",
	    cJSON_PrintUnformatted(m));
	ck_assert_msg(strstr(cause, "no answer within") != NULL,
	    "the connection broke: %s", cause);
	free(cause);
}

/* r is -32013 for (server, thread) with data.timeout_ms timeout_ms. */
static void
assert_timeout(cJSON *r, const char *server, const char *thread,
    int timeout_ms)
{
	cJSON	*data;
	char	*text;

	text = cJSON_PrintUnformatted(r);
	ck_assert_msg(error_code(r) == -32013, "expected -32013, got %s",
	    text);
	data = error_data(r);
	ck_assert_msg(cJSON_IsObject(data), "no data in %s", text);
	ck_assert_str_eq(json_string(data, "server"), server);
	ck_assert_str_eq(json_string(data, "thread"), thread);
	ck_assert_int_eq((int)json_number(data, "timeout_ms"), timeout_ms);
	ck_assert_msg(strlen(json_string(r, "error.message")) > 0,
	    "no message in %s", text);
	free(text);
}

/* The list member of a reload result is want (names joined by ","). */
static void
assert_names(cJSON *result, const char *member, const char *want)
{
	cJSON	*list, *item;
	char	 got[1024] = "";

	list = cJSON_GetObjectItemCaseSensitive(result, member);
	ck_assert_msg(cJSON_IsArray(list), "no list \"%s\"", member);
	cJSON_ArrayForEach(item, list) {
		ck_assert_msg(cJSON_IsString(item), "%s: not a string", member);
		if (got[0] != '\0')
			strncat(got, ",", sizeof got - strlen(got) - 1);
		strncat(got, item->valuestring, sizeof got - strlen(got) - 1);
	}
	ck_assert_msg(strcmp(got, want) == 0, "%s is [%s], expected [%s]",
	    member, got, want);
}

/* A call to server is refused as unknown (-32010 naming it). */
static void
assert_unknown_server(struct client *c, const char *server)
{
	cJSON	*r;

	r = tool_call(c, server, "t", "counter", NULL);
	ck_assert_int_eq(error_code(r), -32010);
	ck_assert_str_eq(json_string(error_data(r), "server"), server);
	cJSON_Delete(r);
}

/*
 * Wait until the session for (server, thread) has n requests in flight
 * (returns 1) or has left the table, broken (returns 0).
 */
static int
wait_sent_or_broken(struct client *c, const char *server, const char *thread,
    int n)
{
	long	 deadline = now_ms() + GONE_MS;
	cJSON	*r;
	int	 got;

	for (;;) {
		r = session_of(c, server, thread);
		if (error_code(r) != 0) {
			ck_assert_int_eq(error_code(r), -32602);
			cJSON_Delete(r);
			return (0);
		}
		got = (int)json_number(result_of(r), "in_flight");
		cJSON_Delete(r);
		if (got == n)
			return (1);
		ck_assert_msg(now_ms() < deadline, "%s/%s: %d in flight, "
		    "expected %d", server, thread, got, n);
		sleep_ms(5);
	}
}

/*
 * The request ids of the fake's "cancelled request <id>" lines in the
 * session's stderr_tail: up to max into ids; returns how many.
 */
static int
cancelled_ids(struct client *c, const char *server, const char *thread,
    long *ids, int max)
{
	cJSON		*r, *tail, *line;
	const char	*p;
	int		 n = 0;

	r = session_of(c, server, thread);
	tail = cJSON_GetObjectItemCaseSensitive(result_of(r), "stderr_tail");
	ck_assert(cJSON_IsArray(tail));
	cJSON_ArrayForEach(line, tail) {
		if (!cJSON_IsString(line) ||
		    (p = strstr(line->valuestring, CANCEL_LINE)) == NULL)
			continue;
		if (n < max)
			ids[n] = strtol(p + strlen(CANCEL_LINE), NULL, 10);
		n++;
	}
	cJSON_Delete(r);
	return (n);
}

/*
 * Wait until the child of (server, thread) logged a cancel; it must be
 * the only one. Returns the (child's) request id it names.
 */
static long
wait_one_cancel(struct client *c, const char *server, const char *thread)
{
	long	deadline = now_ms() + GONE_MS, id = 0;
	int	n;

	while ((n = cancelled_ids(c, server, thread, &id, 1)) == 0) {
		ck_assert_msg(now_ms() < deadline, "%s/%s: the child was "
		    "never told to cancel", server, thread);
		sleep_ms(20);
	}
	ck_assert_msg(n == 1, "%s/%s: %d cancels, expected 1", server, thread,
	    n);
	ck_assert_msg(id > 0, "the cancel names no request id");
	return (id);
}

/*
 * Wait until the session's stderr_tail has a line containing needle;
 * returns 1 if it came.
 */
static int
wait_tail(struct client *c, const char *server, const char *thread,
    const char *needle)
{
	cJSON	*r;
	long	 deadline = now_ms() + GONE_MS;
	int	 found;

	for (;;) {
		r = session_of(c, server, thread);
		found = tail_has(cJSON_GetObjectItemCaseSensitive(result_of(r),
		    "stderr_tail"), needle);
		cJSON_Delete(r);
		if (found || now_ms() > deadline)
			return (found);
		sleep_ms(20);
	}
}

/* Whether broker/servers lists name. */
static int
server_listed(struct client *c, const char *name)
{
	cJSON	*r, *s;
	int	 found = 0;

	r = rpc(c, "broker/servers", NULL);
	cJSON_ArrayForEach(s, result_of(r)) {
		if (strcmp(json_string(s, "name"), name) == 0)
			found = 1;
	}
	cJSON_Delete(r);
	return (found);
}

/* Wait until counters.reloads is n (after a SIGHUP). */
static void
wait_reloads(struct client *c, int n)
{
	long	deadline = now_ms() + GONE_MS;

	while (status_counter(c, "reloads") != n) {
		ck_assert_msg(now_ms() < deadline, "the daemon did not reload");
		sleep_ms(20);
	}
}

/* Whether pid exists at all, a zombie included. */
static int
pid_exists(pid_t pid)
{
	char	path[64];

	snprintf(path, sizeof path, "/proc/%ld", (long)pid);
	return (access(path, F_OK) == 0);
}

/* Wait up to ms for pid to be gone and reaped; returns 1 if so. */
static int
wait_pid_vanished(pid_t pid, int ms)
{
	long	deadline = now_ms() + ms;

	while (pid_exists(pid)) {
		if (now_ms() > deadline)
			return (0);
		sleep_ms(10);
	}
	return (1);
}

/* Start the bystander session. */
static void
bystander_start(struct client *c, struct bystander *by)
{
	cJSON	*r;

	r = tool_call(c, "fake", "bystander", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(generation_of(r), 1);
	by->pid = pid_of(r);
	by->count = 1;
	cJSON_Delete(r);
}

/* The daemon serves, and the bystander kept its process and state. */
static void
bystander_check(struct client *c, struct bystander *by)
{
	cJSON	*r;

	ck_assert_msg(daemon_alive(d), "mcp-brokerd is gone");
	r = tool_call(c, "fake", "bystander", "counter", NULL);
	ck_assert_msg(pid_of(r) == by->pid, "the bystander's child changed "
	    "from %ld to %ld", (long)by->pid, (long)pid_of(r));
	ck_assert_int_eq(count_of(r), ++by->count);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
}

/* Whether any process runs as uid (what ps -u would list). */
static int
uid_has_processes(uid_t uid)
{
	struct dirent	*de;
	DIR		*proc;
	FILE		*f;
	char		 path[300], line[256];
	long		 real;
	int		 found = 0;

	ck_assert_ptr_nonnull(proc = opendir("/proc"));
	while (!found && (de = readdir(proc)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/status", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			if (sscanf(line, "Uid: %ld", &real) == 1) {
				found = real == (long)uid;
				break;
			}
		}
		fclose(f);
	}
	closedir(proc);
	return (found);
}

/*
 * Request timeouts.
 */

START_TEST(test_timeout_ms_times_out_and_cancels_at_the_child)
{
	struct client		*c = daemon_connect(d);
	struct client		*c2 = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	pid_t			 pid;
	long			 t0, elapsed;

	bystander_start(c2, &by);
	r = tool_call(c, "fake", "t", "counter", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);

	t0 = now_ms();
	r = call_with(c, "fake", "t", "sleep", "{\"ms\":3000}",
	    "\"timeout_ms\":300");
	elapsed = now_ms() - t0;
	assert_timeout(r, "fake", "t", 300);
	cJSON_Delete(r);
	ck_assert_msg(elapsed >= 250 && elapsed <= 1500, "timed out after "
	    "%ld ms, timeout_ms was 300", elapsed);

	/* The child was told, under its own id (the client's was 2). */
	ck_assert_int_ne(wait_one_cancel(c2, "fake", "t"), 2);
	ck_assert_int_eq(in_flight_of(c2, "fake", "t"), 0);

	/* Past the end of the sleep: nothing more comes for the call. */
	assert_quiet(c, (int)(t0 + 3300 - now_ms()));

	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(pid_of(r), pid);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	ck_assert_int_eq(status_counter(c2, "timeouts"), 1);
	bystander_check(c2, &by);
	client_close(c);
	client_close(c2);
}
END_TEST

START_TEST(test_server_request_timeout_applies_without_timeout_ms)
{
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	long			 t0, elapsed;

	bystander_start(c, &by);
	t0 = now_ms();
	r = tool_call(c, "strict", "t", "sleep", "{\"ms\":3000}");
	elapsed = now_ms() - t0;
	assert_timeout(r, "strict", "t", 1000);
	cJSON_Delete(r);
	ck_assert_msg(elapsed >= 950 && elapsed <= 2200, "timed out after "
	    "%ld ms, request_timeout_s is 1", elapsed);
	wait_one_cancel(c, "strict", "t");

	r = tool_call(c, "strict", "t", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	ck_assert_int_eq(status_counter(c, "timeouts"), 1);
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

START_TEST(test_progress_restarts_the_request_clock)
{
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	long			 t0, elapsed;
	int			 progress;

	bystander_start(c, &by);
	cJSON_Delete(tool_call(c, "fake", "p", "counter", NULL));

	t0 = now_ms();
	send_call(c, 900, "fake", "p", "progress",
	    "{\"steps\":6,\"interval_ms\":200}",
	    "\"timeout_ms\":500,\"_meta\":{\"progressToken\":\"tok-p\"}");
	r = await_answer(c, 900, "tok-p", &progress);
	elapsed = now_ms() - t0;
	ck_assert_int_eq((int)json_number(result_of(r),
	    "structuredContent.steps"), 6);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	ck_assert_int_eq(progress, 6);
	ck_assert_msg(elapsed >= 1100, "answered after %ld ms; 6 steps of "
	    "200 ms take 1200", elapsed);
	ck_assert_int_eq(status_counter(c, "timeouts"), 0);
	ck_assert_int_eq(in_flight_of(c, "fake", "p"), 0);
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

START_TEST(test_progress_without_token_does_not_restart_the_clock)
{
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	long			 t0, elapsed;
	int			 progress;

	bystander_start(c, &by);
	cJSON_Delete(tool_call(c, "fake", "p", "counter", NULL));

	t0 = now_ms();
	send_call(c, 901, "fake", "p", "progress",
	    "{\"steps\":6,\"interval_ms\":200}", "\"timeout_ms\":500");
	r = await_answer(c, 901, NULL, &progress);
	elapsed = now_ms() - t0;
	assert_timeout(r, "fake", "p", 500);
	cJSON_Delete(r);
	ck_assert_msg(elapsed >= 450 && elapsed <= 1500, "timed out after "
	    "%ld ms, timeout_ms was 500", elapsed);
	wait_one_cancel(c, "fake", "p");
	ck_assert_int_eq(status_counter(c, "timeouts"), 1);

	r = tool_call(c, "fake", "p", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

START_TEST(test_max_request_timeout_caps_progress)
{
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	long			 t0, elapsed;
	int			 progress;

	bystander_start(c, &by);
	cJSON_Delete(tool_call(c, "fake", "p", "counter", NULL));

	t0 = now_ms();
	/* Progress every 50 ms against a 700 ms clock: a wide margin, so
	   a loaded machine still hits the cap, not the clock. */
	send_call(c, 902, "fake", "p", "progress",
	    "{\"steps\":30,\"interval_ms\":50}",
	    "\"timeout_ms\":700,\"_meta\":{\"progressToken\":\"tok-cap\"}");
	r = await_answer(c, 902, "tok-cap", &progress);
	elapsed = now_ms() - t0;
	/* The bound it hit was the cap, and the answer says so. */
	assert_timeout(r, "fake", "p", 1000);
	ck_assert_msg(strstr(json_string(r, "error.message"),
	    "max_request_timeout_s") != NULL, "the message does not name "
	    "the cap: %s", json_string(r, "error.message"));
	cJSON_Delete(r);
	ck_assert_msg(elapsed >= 900 && elapsed <= 1800, "timed out after "
	    "%ld ms, max_request_timeout_s is 1", elapsed);
	/* Progress did come, and did restart the 700 ms clock, till 1 s. */
	ck_assert_msg(progress >= 6 && progress < 30, "%d progress "
	    "notifications", progress);
	wait_one_cancel(c, "fake", "p");
	ck_assert_int_eq(status_counter(c, "timeouts"), 1);
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

START_TEST(test_late_answer_after_timeout_is_dropped)
{
	static const char	 script[] =
	    "while IFS= read -r line; do\n"
	    "  id=$(printf '%s\\n' \"$line\" | "
	    "sed -n 's/^.*\"id\":\\([0-9][0-9]*\\).*$/\\1/p')\n"
	    "  case $line in\n"
	    "  *'\"method\":\"initialize\"'*)\n"
	    "    printf '{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":"
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":"
	    "{\"tools\":{}},\"serverInfo\":{\"name\":\"late\","
	    "\"version\":\"1\"}}}\\n' \"$id\";;\n"
	    "  *'\"method\":\"tools/call\"'*)\n"
	    "    sleep 1\n"
	    "    printf '{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":"
	    "{\"content\":[{\"type\":\"text\",\"text\":\"late\"}]}}\\n' "
	    "\"$id\";;\n"
	    "  *notifications/cancelled*)\n"
	    "    echo 'late: told to cancel' >&2;;\n"
	    "  esac\n"
	    "done\n";
	struct client		*c = daemon_connect(d);
	struct client		*c2 = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	char			 path[512];
	pid_t			 pid;
	long			 t0, elapsed;

	snprintf(path, sizeof path, "%s/late.sh", d->dir);
	write_file(path, script);
	bystander_start(c2, &by);
	/* Started beforehand, so the clock runs only for the call. */
	r = rpc(c2, "broker/session", "{\"server\":\"late\",\"thread\":\"t\","
	    "\"create\":true}");
	pid = (pid_t)json_number(result_of(r), "pid");
	cJSON_Delete(r);

	t0 = now_ms();
	r = call_with(c, "late", "t", "slow", NULL, "\"timeout_ms\":300");
	elapsed = now_ms() - t0;
	assert_timeout(r, "late", "t", 300);
	cJSON_Delete(r);
	ck_assert_msg(elapsed >= 250 && elapsed <= 1500, "timed out after "
	    "%ld ms", elapsed);

	/* The child answers at about 1 s regardless: that must not come. */
	assert_quiet(c, (int)(t0 + 1800 - now_ms()));
	ck_assert_msg(wait_log(d, GONE_MS, "dropping an answer to id", NULL),
	    "the daemon never saw the late answer");
	ck_assert_msg(wait_tail(c2, "late", "t", "late: told to cancel"),
	    "the child was never told to cancel");

	r = tool_call(c, "late", "t", "slow", NULL);
	ck_assert_str_eq(json_string(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    result_of(r), "content"), 0), "text"), "late");
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	ck_assert_int_eq(session_pid(c2, "late", "t"), pid);
	ck_assert_int_eq(status_counter(c2, "timeouts"), 1);
	bystander_check(c2, &by);
	client_close(c);
	client_close(c2);
}
END_TEST

/*
 * Cancellation by the client.
 */

START_TEST(test_client_cancel_stops_the_request_at_the_child)
{
	struct client		*c = daemon_connect(d);
	struct client		*c2 = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	pid_t			 pid;

	bystander_start(c2, &by);
	r = tool_call(c, "fake", "k", "counter", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);

	send_call(c, 41, "fake", "k", "sleep", "{\"ms\":5000}", NULL);
	wait_in_flight(c2, "fake", "k", 1);
	send_line(c, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":41}}");

	assert_quiet(c, 500);
	/* Passed on under the child's id, not the client's. */
	ck_assert_int_ne(wait_one_cancel(c2, "fake", "k"), 41);
	wait_in_flight(c2, "fake", "k", 0);

	r = tool_call(c, "fake", "k", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(pid_of(r), pid);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	bystander_check(c2, &by);
	client_close(c);
	client_close(c2);
}
END_TEST

START_TEST(test_disconnect_cancels_the_clients_requests_at_the_child)
{
	struct client		*c = daemon_connect(d);
	struct client		*c2 = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	pid_t			 pid;

	bystander_start(c2, &by);
	r = tool_call(c, "fake", "dc", "counter", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);

	send_call(c, 7, "fake", "dc", "sleep", "{\"ms\":5000}", NULL);
	wait_in_flight(c2, "fake", "dc", 1);
	client_close(c);

	wait_one_cancel(c2, "fake", "dc");
	wait_in_flight(c2, "fake", "dc", 0);

	/* The session itself stays, state and all. */
	r = tool_call(c2, "fake", "dc", "counter", NULL);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(pid_of(r), pid);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	bystander_check(c2, &by);
	client_close(c2);
}
END_TEST

/*
 * Idle expiry.
 */

START_TEST(test_idle_session_expires_and_next_call_is_next_generation)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pid;
	long		 t0, elapsed;
	int		 alive;

	r = tool_call(c, "fake", "i", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 1);
	pid = pid_of(r);
	cJSON_Delete(r);
	t0 = now_ms();

	sleep_ms(500);
	alive = pid_alive(pid);
	elapsed = now_ms() - t0;
	ck_assert_msg(alive || elapsed >= 900, "closed within %ld ms, "
	    "idle_timeout_s is 1", elapsed);
	ck_assert_msg(wait_pid_gone(pid, GONE_MS), "pid %ld outlived its "
	    "idle timeout", (long)pid);
	elapsed = now_ms() - t0;
	ck_assert_msg(elapsed >= 900, "closed after %ld ms", elapsed);
	ck_assert_int_eq(status_counter(c, "sessions_expired"), 1);
	ck_assert_int_eq(session_count(c), 0);

	r = tool_call(c, "fake", "i", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 2);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_ne(pid_of(r), pid);
	cJSON_Delete(r);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

START_TEST(test_session_with_request_in_flight_does_not_expire)
{
	struct client	*c = daemon_connect(d), *c2 = daemon_connect(d);
	cJSON		*r;
	pid_t		 busy, idle;

	r = tool_call(c, "fake", "busy", "counter", NULL);
	busy = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c2, "fake", "idle", "counter", NULL);
	idle = pid_of(r);
	cJSON_Delete(r);

	r = tool_call(c, "fake", "busy", "sleep", "{\"ms\":2500}");
	ck_assert_int_eq((int)json_number(result_of(r),
	    "structuredContent.slept_ms"), 2500);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);

	/* Meanwhile the idle one did expire: the timer was running. */
	ck_assert_msg(wait_pid_gone(idle, GONE_MS), "the idle session's "
	    "pid %ld never expired", (long)idle);
	ck_assert(pid_alive(busy));
	r = tool_call(c, "fake", "busy", "counter", NULL);
	ck_assert_int_eq(pid_of(r), busy);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	ck_assert_int_eq(status_counter(c, "sessions_expired"), 1);
	ck_assert(daemon_alive(d));
	client_close(c);
	client_close(c2);
}
END_TEST

START_TEST(test_idle_timeout_zero_on_a_server_keeps_its_sessions)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 kept, expiring;

	r = tool_call(c, "keep", "k", "counter", NULL);
	kept = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "f", "counter", NULL);
	expiring = pid_of(r);
	cJSON_Delete(r);

	ck_assert_msg(wait_pid_gone(expiring, GONE_MS), "pid %ld outlived "
	    "its idle timeout", (long)expiring);
	/* Give the keeper time past the broker's 1 s as well. */
	sleep_ms(600);
	ck_assert(pid_alive(kept));
	r = tool_call(c, "keep", "k", "counter", NULL);
	ck_assert_int_eq(pid_of(r), kept);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	ck_assert_int_eq(status_counter(c, "sessions_expired"), 1);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

START_TEST(test_many_idle_sessions_all_expire)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pids[20];
	char		 thread[16];
	int		 i;

	for (i = 0; i < 20; i++) {
		snprintf(thread, sizeof thread, "m%d", i);
		r = tool_call(c, "fake", thread, "counter", NULL);
		pids[i] = pid_of(r);
		cJSON_Delete(r);
	}
	for (i = 0; i < 20; i++)
		ck_assert_msg(wait_pid_gone(pids[i], GONE_MS), "session m%d "
		    "(pid %ld) never expired", i, (long)pids[i]);
	ck_assert_int_eq(status_counter(c, "sessions_expired"), 20);
	ck_assert_int_eq(session_count(c), 0);
	ck_assert_msg(wait_no_children(d->pid, GONE_MS),
	    "the daemon still has children");
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

/*
 * Reload: broker/reload and SIGHUP.
 */

START_TEST(test_reload_method_adds_a_server)
{
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;

	bystander_start(c, &by);
	assert_unknown_server(c, "extra");
	write_config("", RELOAD_SERVERS ","
	    "\"extra\":{\"command\":\"@FAKE@\"}");
	r = rpc(c, "broker/reload", "{}");
	assert_names(result_of(r), "added", "extra");
	assert_names(result_of(r), "removed", "");
	assert_names(result_of(r), "changed", "");
	cJSON_Delete(r);

	r = tool_call(c, "extra", "t", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	ck_assert(server_listed(c, "extra"));
	ck_assert_int_eq(status_counter(c, "reloads"), 1);
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

START_TEST(test_sighup_adds_a_server)
{
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;

	bystander_start(c, &by);
	assert_unknown_server(c, "extra");
	write_config("", RELOAD_SERVERS ","
	    "\"extra\":{\"command\":\"@FAKE@\"}");
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	wait_reloads(c, 1);

	r = tool_call(c, "extra", "t", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	ck_assert(server_listed(c, "extra"));
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

START_TEST(test_reload_closes_the_sessions_of_a_changed_server)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 changed, kept;

	r = tool_call(c, "fake", "t", "counter", NULL);
	changed = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "other", "t", "counter", NULL);
	kept = pid_of(r);
	cJSON_Delete(r);

	write_config("", "\"fake\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--env-tool\"]},\"other\":{\"command\":\"@FAKE@\"}");
	r = rpc(c, "broker/reload", "{}");
	assert_names(result_of(r), "added", "");
	assert_names(result_of(r), "removed", "");
	assert_names(result_of(r), "changed", "fake");
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(changed, GONE_MS), "the changed server's "
	    "session (pid %ld) was not closed", (long)changed);

	/* The untouched server's session kept its process and state. */
	r = tool_call(c, "other", "t", "counter", NULL);
	ck_assert_int_eq(pid_of(r), kept);
	ck_assert_int_eq(count_of(r), 2);
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);

	/* The changed one starts anew, with its new arguments. */
	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_ne(pid_of(r), changed);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(generation_of(r), 2);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "t", "env", NULL);
	ck_assert_msg(!cJSON_IsTrue(cJSON_GetObjectItem(result_of(r),
	    "isError")), "the new child lacks --env-tool");
	cJSON_Delete(r);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

START_TEST(test_reload_method_removes_a_server)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 removed, kept;

	r = tool_call(c, "other", "t", "counter", NULL);
	removed = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "t", "counter", NULL);
	kept = pid_of(r);
	cJSON_Delete(r);

	write_config("", "\"fake\":{\"command\":\"@FAKE@\"}");
	r = rpc(c, "broker/reload", "{}");
	assert_names(result_of(r), "added", "");
	assert_names(result_of(r), "removed", "other");
	assert_names(result_of(r), "changed", "");
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(removed, GONE_MS), "the removed server's "
	    "session (pid %ld) was not closed", (long)removed);
	assert_unknown_server(c, "other");
	ck_assert(!server_listed(c, "other"));

	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(pid_of(r), kept);
	ck_assert_int_eq(count_of(r), 2);
	cJSON_Delete(r);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

START_TEST(test_sighup_removes_a_server)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 removed, kept;

	r = tool_call(c, "other", "t", "counter", NULL);
	removed = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "t", "counter", NULL);
	kept = pid_of(r);
	cJSON_Delete(r);

	write_config("", "\"fake\":{\"command\":\"@FAKE@\"}");
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	wait_reloads(c, 1);
	ck_assert_msg(wait_pid_gone(removed, GONE_MS), "the removed server's "
	    "session (pid %ld) was not closed", (long)removed);
	assert_unknown_server(c, "other");

	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(pid_of(r), kept);
	ck_assert_int_eq(count_of(r), 2);
	cJSON_Delete(r);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

/*
 * A reload of text refused with -32018 whose errors (strings) include
 * each of the paths given (NULL-terminated), and nothing changed.
 */
static void
assert_reload_refused(const char *text, ...)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *errors, *e;
	const char	*path;
	char		*dump;
	pid_t		 fake, other;
	va_list		 ap;
	int		 found;

	r = tool_call(c, "fake", "t", "counter", NULL);
	fake = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "other", "t", "counter", NULL);
	other = pid_of(r);
	cJSON_Delete(r);

	daemon_write_config(d, text);
	r = rpc(c, "broker/reload", "{}");
	dump = cJSON_PrintUnformatted(r);
	ck_assert_msg(error_code(r) == -32018, "expected -32018, got %s",
	    dump);
	errors = cJSON_GetObjectItemCaseSensitive(error_data(r), "errors");
	ck_assert_msg(cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0,
	    "no errors in %s", dump);
	cJSON_ArrayForEach(e, errors)
		ck_assert_msg(cJSON_IsString(e) && *e->valuestring != '\0',
		    "an error that is not a message in %s", dump);
	va_start(ap, text);
	while ((path = va_arg(ap, const char *)) != NULL) {
		found = 0;
		cJSON_ArrayForEach(e, errors) {
			if (strncmp(e->valuestring, path, strlen(path)) == 0)
				found = 1;
		}
		ck_assert_msg(found, "no error names %s: %s", path, dump);
	}
	va_end(ap);
	free(dump);
	cJSON_Delete(r);

	/* Nothing changed: same children, same state, same servers. */
	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(pid_of(r), fake);
	ck_assert_int_eq(count_of(r), 2);
	cJSON_Delete(r);
	r = tool_call(c, "other", "t", "counter", NULL);
	ck_assert_int_eq(pid_of(r), other);
	ck_assert_int_eq(count_of(r), 2);
	cJSON_Delete(r);
	r = tool_call(c, "fake", "t2", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	ck_assert_int_eq(status_counter(c, "reloads"), 0);
	ck_assert_int_eq(status_counter(c, "sessions_closed"), 0);
	ck_assert(daemon_alive(d));
	client_close(c);
}

START_TEST(test_reload_of_invalid_json_changes_nothing)
{
	assert_reload_refused("{\"broker\": {\"socket\": ", "(top level)",
	    (const char *)NULL);
}
END_TEST

START_TEST(test_reload_of_wrong_types_changes_nothing_and_names_paths)
{
	char	*text;

	text = config_text("\"idle_timeout_s\":\"soon\"",
	    "\"fake\":{\"command\":\"@FAKE@\",\"args\":\"--env-tool\"},"
	    "\"other\":{\"command\":\"@FAKE@\"}");
	assert_reload_refused(text, "broker.idle_timeout_s",
	    "mcpServers.fake.args", (const char *)NULL);
	free(text);
}
END_TEST

START_TEST(test_sighup_with_a_bad_file_changes_nothing)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 fake, other;

	r = tool_call(c, "fake", "t", "counter", NULL);
	fake = pid_of(r);
	cJSON_Delete(r);
	r = tool_call(c, "other", "t", "counter", NULL);
	other = pid_of(r);
	cJSON_Delete(r);

	write_config("", "\"fake\":{\"command\":\"@FAKE@\",\"args\":7},"
	    "\"extra\":{\"command\":\"@FAKE@\"}");
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(wait_log(d, GONE_MS, "nothing was changed", NULL),
	    "the daemon did not report the bad file");
	ck_assert(wait_log(d, GONE_MS, "mcpServers.fake.args", NULL));

	ck_assert(daemon_alive(d));
	ck_assert_int_eq(status_counter(c, "reloads"), 0);
	ck_assert(server_listed(c, "other"));
	ck_assert(!server_listed(c, "extra"));
	assert_unknown_server(c, "extra");
	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(pid_of(r), fake);
	ck_assert_int_eq(count_of(r), 2);
	cJSON_Delete(r);
	r = tool_call(c, "other", "t", "counter", NULL);
	ck_assert_int_eq(pid_of(r), other);
	ck_assert_int_eq(count_of(r), 2);
	cJSON_Delete(r);

	/* A good file afterwards still reloads. */
	write_config("", RELOAD_SERVERS ","
	    "\"extra\":{\"command\":\"@FAKE@\"}");
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	wait_reloads(c, 1);
	r = tool_call(c, "extra", "t", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_reload_lowering_max_sessions_evicts_at_the_next_start)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 first;

	r = tool_call(c, "fake", "a", "counter", NULL);
	first = pid_of(r);
	cJSON_Delete(r);

	write_config("\"max_sessions\":1", RELOAD_SERVERS);
	r = rpc(c, "broker/reload", "{}");
	assert_names(result_of(r), "changed", "");
	cJSON_Delete(r);
	r = rpc(c, "broker/status", NULL);
	ck_assert_int_eq((int)json_number(result_of(r), "max_sessions"), 1);
	cJSON_Delete(r);
	/* Nothing is closed by the reload itself. */
	ck_assert(pid_alive(first));
	ck_assert_int_eq(session_count(c), 1);

	r = tool_call(c, "fake", "b", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(first, GONE_MS), "the first session "
	    "(pid %ld) was not evicted", (long)first);
	ck_assert_int_eq(status_counter(c, "sessions_evicted"), 1);
	ck_assert_int_eq(session_count(c), 1);

	r = tool_call(c, "fake", "a", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(generation_of(r), 2);
	cJSON_Delete(r);
	ck_assert_int_eq(session_count(c), 1);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

START_TEST(test_reload_lowering_idle_timeout_expires_idle_sessions)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pid;

	/* Idle under the default 1800 s. */
	r = tool_call(c, "fake", "t", "counter", NULL);
	pid = pid_of(r);
	cJSON_Delete(r);

	write_config("\"idle_timeout_s\":1", RELOAD_SERVERS);
	r = rpc(c, "broker/reload", "{}");
	assert_names(result_of(r), "changed", "");
	cJSON_Delete(r);
	ck_assert_msg(wait_pid_gone(pid, GONE_MS), "a session idle since "
	    "before the reload outlived the 1 s idle_timeout_s it set");
	ck_assert_int_eq(status_counter(c, "sessions_expired"), 1);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

/*
 * Nothing outlives its session or the daemon.
 */

START_TEST(test_children_die_with_the_daemon_on_sigkill)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	pid_t		 pids[3], listed[16];
	char		 thread[8];
	int		 i, j, n, zombies;

	for (i = 0; i < 3; i++) {
		snprintf(thread, sizeof thread, "k%d", i);
		r = tool_call(c, "fake", thread, "pid", NULL);
		pids[i] = pid_of(r);
		cJSON_Delete(r);
	}
	n = children_of(d->pid, listed, 16, &zombies);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(zombies, 0);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < n && listed[j] != pids[i]; j++)
			;
		ck_assert_msg(j < n, "pid %ld is not the daemon's child",
		    (long)pids[i]);
	}
	client_close(c);

	daemon_kill(d);
	d = NULL;
	for (i = 0; i < 3; i++)
		ck_assert_msg(wait_pid_gone(pids[i], 2000), "child %ld "
		    "outlived the daemon's SIGKILL", (long)pids[i]);
}
END_TEST

START_TEST(test_grandchild_of_a_crashed_child_is_killed_and_reaped)
{
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	pid_t			 grandchild;
	int			 zombies;

	bystander_start(c, &by);
	r = tool_call(c, "fake", "g", "spawn_grandchild", NULL);
	grandchild = (pid_t)json_number(result_of(r),
	    "structuredContent.grandchild_pid");
	cJSON_Delete(r);
	ck_assert(pid_alive(grandchild));

	r = tool_call(c, "fake", "g", "crash", NULL);
	ck_assert_int_eq(error_code(r), -32012);
	cJSON_Delete(r);
	/* Not merely dead: reaped too, by the daemon as subreaper. */
	ck_assert_msg(wait_pid_vanished(grandchild, 2000), "grandchild %ld "
	    "is %s", (long)grandchild, pid_alive(grandchild) ? "still alive" :
	    "a zombie");
	ck_assert_int_eq(children_of(d->pid, NULL, 0, &zombies), 1);
	ck_assert_int_eq(zombies, 0);
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

/*
 * Pressure: clients and children that stop reading, garbage floods.
 */

START_TEST(test_client_that_never_reads_is_dropped)
{
	struct client		*flood = daemon_connect(d);
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r, *m;
	FILE			*f;
	char			*buf = NULL, *cause = NULL;
	size_t			 len = 0;
	long			 deadline;
	int			 i, got = 0;

	bystander_start(c, &by);
	ck_assert_ptr_nonnull(f = open_memstream(&buf, &len));
	for (i = 1; i <= 400; i++)
		fprintf(f, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
		    "\"tools/call\",\"params\":{\"server\":\"fake\","
		    "\"thread\":\"flood\",\"name\":\"big\",\"arguments\":"
		    "{\"bytes\":3000}}}\n", i);
	ck_assert_int_eq(fclose(f), 0);
	/* Once dropped, the rest may not be taken: that is fine. */
	if (client_send_raw(flood, buf, len, &cause) != 0)
		free(cause);
	free(buf);

	/* Meanwhile others are served. */
	for (i = 1; i <= 5; i++) {
		r = tool_call(c, "fake", "other", "counter", NULL);
		ck_assert_int_eq(count_of(r), i);
		cJSON_Delete(r);
	}
	ck_assert_msg(wait_log(d, 10000, "dropping it", NULL), "the daemon "
	    "never dropped the client that does not read");

	/* What was sent before the drop, then the end of the stream. */
	deadline = now_ms() + 10000;
	cause = NULL;
	while ((m = client_recv(flood, (int)(deadline - now_ms()),
	    &cause)) != NULL) {
		got++;
		cJSON_Delete(m);
		ck_assert_msg(now_ms() < deadline, "the stream never ended");
	}
	ck_assert_msg(strstr(cause, "no answer within") == NULL,
	    "the connection was not closed: %s", cause);
	free(cause);
	ck_assert_msg(got < 400, "all %d answers came: nothing was dropped",
	    got);
	client_close(flood);
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

START_TEST(test_child_that_stops_reading_stdin_loses_its_session)
{
	struct client		*c = daemon_connect(d);
	struct client		*c2 = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r, *id;
	char			 pad[3401], args[3500], *text;
	const char		*message;
	pid_t			 pid;
	int			 i, sent, seen[STUCK_MAX];

	bystander_start(c2, &by);
	r = tool_call(c, "fake", "stuck", "no_read", NULL);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    result_of(r), "structuredContent"), "ok")));
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);
	pid = session_pid(c2, "fake", "stuck");

	/*
	 * One request at a time, each under 4096 bytes, until the session
	 * is gone: the pipe fills, then the daemon's buffer for it.
	 */
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	snprintf(args, sizeof args, "{\"text\":\"ok\",\"pad\":\"%s\"}", pad);
	for (sent = 0; sent < STUCK_MAX; ) {
		send_call(c, 1000 + sent, "fake", "stuck", "echo", args, NULL);
		if (!wait_sent_or_broken(c2, "fake", "stuck", ++sent))
			break;
	}
	ck_assert_msg(sent < STUCK_MAX, "%d requests (%d KB) did not break "
	    "the session of a child that does not read", sent,
	    sent * 7 / 2);

	memset(seen, 0, sizeof seen);
	for (i = 0; i < sent; i++) {
		r = recv_msg(c);
		text = cJSON_PrintUnformatted(r);
		id = cJSON_GetObjectItemCaseSensitive(r, "id");
		ck_assert_msg(cJSON_IsNumber(id) && id->valueint >= 1000 &&
		    id->valueint < 1000 + sent && !seen[id->valueint - 1000],
		    "unexpected %s", text);
		seen[id->valueint - 1000] = 1;
		ck_assert_msg(error_code(r) == -32012, "expected -32012, got "
		    "%s", text);
		message = json_string(r, "error.message");
		ck_assert_msg(strstr(message, "stdin") != NULL,
		    "the message does not say stdin: %s", message);
		ck_assert_str_eq(json_string(error_data(r), "server"), "fake");
		ck_assert_str_eq(json_string(error_data(r), "thread"), "stuck");
		free(text);
		cJSON_Delete(r);
	}
	ck_assert_msg(wait_pid_gone(pid, GONE_MS), "the stuck child %ld "
	    "was not killed", (long)pid);

	r = tool_call(c, "fake", "stuck", "counter", NULL);
	ck_assert_int_eq(generation_of(r), 2);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_ne(pid_of(r), pid);
	cJSON_Delete(r);
	bystander_check(c2, &by);
	client_close(c);
	client_close(c2);
}
END_TEST

/*
 * Send n echo calls of about 3.5 KB each (ids 2000...) in one write on
 * (fake, thread) and check that each is answered by generation 1.
 */
static void
assert_burst_served(struct client *c, const char *thread, int n)
{
	cJSON	*r;
	char	 pad[3401], *text;
	FILE	*f;
	char	*buf = NULL, *cause = NULL;
	size_t	 len = 0;
	int	 i;

	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	ck_assert_ptr_nonnull(f = open_memstream(&buf, &len));
	for (i = 0; i < n; i++)
		fprintf(f, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
		    "\"tools/call\",\"params\":{\"server\":\"fake\","
		    "\"thread\":\"%s\",\"name\":\"echo\",\"arguments\":"
		    "{\"text\":\"ok\",\"pad\":\"%s\"}}}\n", 2000 + i, thread,
		    pad);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(client_send_raw(c, buf, len, &cause), 0);
	free(buf);
	for (i = 0; i < n; i++) {
		r = recv_msg(c);
		text = cJSON_PrintUnformatted(r);
		ck_assert_msg(error_code(r) == 0, "a child that reads lost "
		    "its session: %s", text);
		ck_assert_int_eq(generation_of(r), 1);
		free(text);
		cJSON_Delete(r);
	}
}

START_TEST(test_burst_to_a_ready_session_is_not_a_stuck_stdin)
{
	struct client	*c = daemon_connect(d);

	cJSON_Delete(tool_call(c, "fake", "burst", "counter", NULL));
	assert_burst_served(c, "burst", 8);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

START_TEST(test_burst_queued_during_start_is_not_a_stuck_stdin)
{
	struct client	*c = daemon_connect(d);

	assert_burst_served(c, "burst", 8);
	ck_assert(daemon_alive(d));
	client_close(c);
}
END_TEST

START_TEST(test_garbage_flood_is_counted_and_logged_sparingly)
{
	struct client		*c = daemon_connect(d);
	struct bystander	 by;
	cJSON			*r;
	pid_t			 pid;
	int			 logged;

	bystander_start(c, &by);
	r = tool_call(c, "fake", "g", "flood_garbage", "{\"lines\":200}");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    result_of(r), "structuredContent"), "ok")));
	ck_assert_int_eq(generation_of(r), 1);
	cJSON_Delete(r);

	r = session_of(c, "fake", "g");
	ck_assert_int_eq((int)json_number(result_of(r), "garbage_lines"), 200);
	pid = (pid_t)json_number(result_of(r), "pid");
	cJSON_Delete(r);
	logged = log_count(d, "skipping a line", NULL);
	ck_assert_msg(logged >= 1 && logged <= 5, "%d log lines for 200 "
	    "garbage lines", logged);

	r = tool_call(c, "fake", "g", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	ck_assert_int_eq(pid_of(r), pid);
	cJSON_Delete(r);
	bystander_check(c, &by);
	client_close(c);
}
END_TEST

/*
 * Running out: file descriptors, processes.
 */

START_TEST(test_accept_recovers_after_running_out_of_descriptors)
{
	struct daemon_limits	 lim = { .nofile = 64 };
	struct client		*clients[100], *c;
	cJSON			*r;
	char			*text, *cause = NULL;
	long			 t0;
	int			 i;

	text = config_text("", "\"fake\":{\"command\":\"@FAKE@\"}");
	d = daemon_start_limited(text, &lim);
	free(text);

	/*
	 * Past the daemon's 64 descriptors; the rest wait in the backlog.
	 * Each says something at once, as a client does: silent
	 * connections would be refused past LISTENER_SNIFF_PER_UID first.
	 */
	for (i = 0; i < 100; i++) {
		clients[i] = daemon_connect(d);
		send_line(clients[i], "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"broker/hello\",\"params\":{}}");
	}
	ck_assert_msg(wait_log(d, GONE_MS, "pausing accepts", NULL), "the "
	    "daemon did not say it paused accepting");
	ck_assert(daemon_alive(d));
	for (i = 0; i < 100; i++)
		client_close(clients[i]);

	c = daemon_connect(d);
	t0 = now_ms();
	r = client_call(c, "broker/status", NULL, 3000, &cause);
	ck_assert_msg(r != NULL, "no answer after the descriptors came back: "
	    "%s", cause);
	result_of(r);
	cJSON_Delete(r);
	ck_assert_msg(now_ms() - t0 < 3000, "answered after %ld ms",
	    now_ms() - t0);
	/* A child's three pipes fit again too. */
	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_fork_failure_is_start_failed)
{
	struct daemon_limits	 lim = { .uid = NOBODY_UID, .nproc = 1 };
	struct client		*c;
	cJSON			*r;
	char			*text;
	int			 zombies;

	if (geteuid() != 0) {
		fprintf(stderr, "\n*** SKIPPED test_fork_failure_is_start_"
		    "failed: needs root to run the daemon as uid %d ***\n\n",
		    NOBODY_UID);
		return;
	}
	if (uid_has_processes(NOBODY_UID)) {
		fprintf(stderr, "\n*** SKIPPED test_fork_failure_is_start_"
		    "failed: other processes run as uid %d (ps -u %d), so "
		    "RLIMIT_NPROC 1 would not isolate the daemon ***\n\n",
		    NOBODY_UID, NOBODY_UID);
		return;
	}
	text = config_text("", "\"fake\":{\"command\":\"@FAKE@\"}");
	d = daemon_start_limited(text, &lim);
	free(text);
	c = daemon_connect(d);

	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(error_code(r), -32011);
	ck_assert_msg(strstr(json_string(r, "error.message"), "fork") != NULL,
	    "the message does not say fork: %s",
	    json_string(r, "error.message"));
	ck_assert_str_eq(json_string(error_data(r), "server"), "fake");
	ck_assert_str_eq(json_string(error_data(r), "thread"), "t");
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(error_data(r),
	    "stderr_tail")));
	cJSON_Delete(r);

	ck_assert(daemon_alive(d));
	ck_assert_int_eq(session_count(c), 0);
	ck_assert_int_eq(children_of(d->pid, NULL, 0, &zombies), 0);
	/* And again: nothing was left half-made by the first. */
	r = tool_call(c, "fake", "t", "counter", NULL);
	ck_assert_int_eq(error_code(r), -32011);
	cJSON_Delete(r);
	r = rpc(c, "broker/status", NULL);
	ck_assert_int_eq((int)json_number(result_of(r), "pid"), d->pid);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

static Suite *
lifecycle_suite(void)
{
	Suite	*s = suite_create("lifecycle");
	TCase	*tc;

	tc = harness_add_tcase(s, "timeouts", setup_timeouts, teardown, 90);
	tcase_add_test(tc, test_timeout_ms_times_out_and_cancels_at_the_child);
	tcase_add_test(tc,
	    test_server_request_timeout_applies_without_timeout_ms);
	tcase_add_test(tc, test_progress_restarts_the_request_clock);
	tcase_add_test(tc,
	    test_progress_without_token_does_not_restart_the_clock);
	tcase_add_test(tc, test_late_answer_after_timeout_is_dropped);

	tc = harness_add_tcase(s, "timeout cap", setup_cap, teardown, 90);
	tcase_add_test(tc, test_max_request_timeout_caps_progress);

	tc = harness_add_tcase(s, "cancellation", setup_fake, teardown, 90);
	tcase_add_test(tc, test_client_cancel_stops_the_request_at_the_child);
	tcase_add_test(tc,
	    test_disconnect_cancels_the_clients_requests_at_the_child);

	tc = harness_add_tcase(s, "idle expiry", setup_idle, teardown, 90);
	tcase_add_test(tc,
	    test_idle_session_expires_and_next_call_is_next_generation);
	tcase_add_test(tc, test_session_with_request_in_flight_does_not_expire);
	tcase_add_test(tc,
	    test_idle_timeout_zero_on_a_server_keeps_its_sessions);
	tcase_add_test(tc, test_many_idle_sessions_all_expire);

	tc = harness_add_tcase(s, "reload", setup_reload, teardown, 90);
	tcase_add_test(tc, test_reload_method_adds_a_server);
	tcase_add_test(tc, test_sighup_adds_a_server);
	tcase_add_test(tc, test_reload_closes_the_sessions_of_a_changed_server);
	tcase_add_test(tc, test_reload_method_removes_a_server);
	tcase_add_test(tc, test_sighup_removes_a_server);
	tcase_add_test(tc, test_reload_of_invalid_json_changes_nothing);
	tcase_add_test(tc,
	    test_reload_of_wrong_types_changes_nothing_and_names_paths);
	tcase_add_test(tc, test_sighup_with_a_bad_file_changes_nothing);
	tcase_add_test(tc,
	    test_reload_lowering_max_sessions_evicts_at_the_next_start);
	tcase_add_test(tc,
	    test_reload_lowering_idle_timeout_expires_idle_sessions);

	tc = harness_add_tcase(s, "nothing outlives", setup_fake, teardown, 90);
	tcase_add_test(tc, test_children_die_with_the_daemon_on_sigkill);
	tcase_add_test(tc,
	    test_grandchild_of_a_crashed_child_is_killed_and_reaped);

	tc = harness_add_tcase(s, "pressure", setup_limits, teardown, 90);
	tcase_add_test(tc, test_client_that_never_reads_is_dropped);
	tcase_add_test(tc,
	    test_child_that_stops_reading_stdin_loses_its_session);
	tcase_add_test(tc, test_burst_to_a_ready_session_is_not_a_stuck_stdin);
	tcase_add_test(tc,
	    test_burst_queued_during_start_is_not_a_stuck_stdin);
	tc = harness_add_tcase(s, "garbage", setup_fake, teardown, 90);
	tcase_add_test(tc, test_garbage_flood_is_counted_and_logged_sparingly);

	tc = harness_add_tcase(s, "running out", setup_none, teardown, 90);
	tcase_add_test(tc,
	    test_accept_recovers_after_running_out_of_descriptors);
	tcase_add_test(tc, test_fork_failure_is_start_failed);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(lifecycle_suite()));
}
