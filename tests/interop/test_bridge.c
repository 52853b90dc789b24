/*
 * mcp-brokerctl bridge, the stdio MCP server a host launches, against the
 * real daemon. The host is the TypeScript SDK's own Client on its
 * StdioClientTransport (tests/interop/bridge_client.mjs, run by node),
 * with the fixture server and the real server-everything behind the
 * broker; and, for the bytes the SDK would never send, this test writing
 * to the bridge's stdin itself.
 *
 * The SDK half needs node and `make npm-deps`; without them it prints a
 * loud SKIPPED line, and with MCPB_REQUIRE_INTEROP=1 that is a failure.
 * The rest runs everywhere.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "../integration/harness.h"
#include "xmalloc.h"

#define NPM_SCOPE	"tests/interop/node_modules/@modelcontextprotocol/"
#define EVERYTHING_JS	NPM_SCOPE "server-everything/dist/index.js"
#define SDK_CLIENT_JS	NPM_SCOPE "sdk/dist/esm/client/index.js"
#define BRIDGE_CLIENT	"tests/interop/bridge_client.mjs"

/* How long one run of the SDK client or the bridge may take. */
#define RUN_MS		30000
/* How long the test waits for one line from the bridge. */
#define LINE_MS		15000
#define MAX_ARGS	16
/* The bridge's bound on a host line (the daemon's max_message_bytes
   default). */
#define BRIDGE_MAX_MESSAGE	(16 * 1024 * 1024)

/* Where node and server-everything are; "" when missing. */
static char		 node_path[PATH_MAX];
static char		 everything_js[PATH_MAX];
static int		 have_sdk;

static struct daemon	*d;

/* A bridge this test talks to over its stdin and stdout. */
struct bridge {
	pid_t	 pid;
	int	 in;		/* its stdin */
	int	 out;		/* its stdout */
	char	*buf;		/* read from out, not yet a line */
	size_t	 len;
};

static char	*test_config(void);
static void	 setup(void);
static void	 teardown(void);
static void	 run_prog(struct harness_run *, const char *, const char **,
		     const char *);
static cJSON	*sdk_run(const char *, const char *, ...)
		     __attribute__((sentinel));
static cJSON	*sdk_step(cJSON *, int);
static cJSON	*structured_of(cJSON *);
static void	 bridge_start(struct bridge *, const char *, const char *);
static void	 bridge_write(struct bridge *, const char *);
static cJSON	*bridge_read(struct bridge *);
static int	 bridge_wait(struct bridge *);
static cJSON	*bridge_initialize(struct bridge *, const char *);
static Suite	*bridge_suite(void);

/*
 * The config: the fixture as "fake", declared able to ask for sampling,
 * and server-everything as "everything" when it is installed. The
 * caller frees it.
 */
static char *
test_config(void)
{
	cJSON	*root, *broker, *servers, *s, *args;
	char	*text;

	root = cJSON_CreateObject();
	broker = cJSON_AddObjectToObject(root, "broker");
	cJSON_AddStringToObject(broker, "socket", "@SOCK@");
	servers = cJSON_AddObjectToObject(root, "mcpServers");
	s = cJSON_AddObjectToObject(servers, "fake");
	cJSON_AddStringToObject(s, "command", "@FAKE@");
	cJSON_AddObjectToObject(cJSON_AddObjectToObject(s,
	    "client_capabilities"), "sampling");
	if (have_sdk) {
		s = cJSON_AddObjectToObject(servers, "everything");
		cJSON_AddStringToObject(s, "command", node_path);
		args = cJSON_AddArrayToObject(s, "args");
		cJSON_AddItemToArray(args, cJSON_CreateString(everything_js));
		cJSON_AddItemToArray(args, cJSON_CreateString("stdio"));
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return (text);
}

static void
setup(void)
{
	char	*text = test_config();

	d = daemon_start_config(text);
	cJSON_free(text);
}

/* Stop the daemon (a test that killed it left NULL). */
static void
teardown(void)
{
	if (d != NULL)
		daemon_stop_ok(d);
	d = NULL;
}

/*
 * Run path with argv (NULL-terminated, argv[0] included), stdin empty,
 * $MCP_BROKER_THREAD set to thread (NULL: unset); capture its output and
 * exit status.
 */
static void
run_prog(struct harness_run *r, const char *path, const char **argv,
    const char *thread)
{
	const char	*env[2] = { "MCP_BROKER_THREAD", NULL };
	char		*set = NULL;

	if (thread != NULL) {
		xasprintf(&set, "MCP_BROKER_THREAD=%s", thread);
		env[0] = set;
	}
	harness_run(r, path, argv, env, NULL, RUN_MS);
	free(set);
}

/*
 * Run the SDK host on the bridge for server and thread ("-": none, the
 * bridge reads $MCP_BROKER_THREAD, set to "env-thread") with the steps
 * given; fails unless it exits 0. Returns what it printed (caller frees).
 */
static cJSON *
sdk_run(const char *server, const char *thread, ...)
{
	const char	*argv[MAX_ARGS + 1];
	char		 script[PATH_MAX], ctl[PATH_MAX];
	struct harness_run	 r;
	va_list		 ap;
	cJSON		*out;
	int		 n = 0;

	snprintf(script, sizeof script, "%s", harness_top_path(BRIDGE_CLIENT));
	snprintf(ctl, sizeof ctl, "%s", harness_build_path("mcp-brokerctl"));
	argv[n++] = node_path;
	argv[n++] = script;
	argv[n++] = ctl;
	argv[n++] = d->sock;
	argv[n++] = server;
	argv[n++] = thread;
	va_start(ap, thread);
	while ((argv[n] = va_arg(ap, const char *)) != NULL) {
		n++;
		ck_assert_int_lt(n, MAX_ARGS);
	}
	va_end(ap);
	run_prog(&r, node_path, argv, strcmp(thread, "-") == 0 ?
	    "env-thread" : NULL);
	ck_assert_msg(r.status == 0, "the SDK host exited %d\nstdout: %s\n"
	    "stderr: %s", r.status, r.out, r.err);
	out = cJSON_Parse(r.out);
	ck_assert_msg(out != NULL, "the SDK host printed no JSON: %s", r.out);
	harness_run_free(&r);
	/* Once the host closed its stdin, the bridge exited 0. */
	ck_assert_int_eq(json_number(cJSON_GetObjectItem(out, "bridgeExit"),
	    "code"), 0);
	return (out);
}

/* Step i's record in an SDK run. */
static cJSON *
sdk_step(cJSON *out, int i)
{
	cJSON	*step;

	step = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "steps"), i);
	ck_assert_msg(step != NULL, "no step %d in %s", i,
	    cJSON_PrintUnformatted(out));
	return (step);
}

/* A step's tools/call structuredContent (fails if the call failed). */
static cJSON *
structured_of(cJSON *step)
{
	cJSON	*result = cJSON_GetObjectItem(step, "result");

	ck_assert_msg(!cJSON_IsTrue(cJSON_GetObjectItem(result, "isError")),
	    "the tool failed: %s", cJSON_PrintUnformatted(step));
	return (cJSON_GetObjectItem(result, "structuredContent"));
}

/* Start mcp-brokerctl bridge SERVER THREAD (NULL: none, no env either). */
static void
bridge_start(struct bridge *b, const char *server, const char *thread)
{
	int	in[2], out[2];

	memset(b, 0, sizeof *b);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	b->pid = fork();
	ck_assert_int_ne(b->pid, -1);
	if (b->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		unsetenv("MCP_BROKER_THREAD");
		execl(harness_build_path("mcp-brokerctl"), "mcp-brokerctl",
		    "--socket", d->sock, "bridge", server, thread,
		    (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	b->in = in[1];
	b->out = out[0];
	signal(SIGPIPE, SIG_IGN);
}

/* Write text to the bridge's stdin, all of it. */
static void
bridge_write(struct bridge *b, const char *text)
{
	size_t	len = strlen(text);
	ssize_t	n;

	while (len > 0) {
		n = write(b->in, text, len);
		if (n == -1 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "write to the bridge: %s",
		    strerror(errno));
		text += n;
		len -= (size_t)n;
	}
}

/* The next line the bridge writes, parsed (caller frees). */
static cJSON *
bridge_read(struct bridge *b)
{
	struct pollfd	 pfd;
	char		*nl;
	cJSON		*msg;
	long		 deadline = now_ms() + LINE_MS;

	for (;;) {
		if (b->buf != NULL && (nl = memchr(b->buf, '\n', b->len)) !=
		    NULL) {
			*nl = '\0';
			msg = cJSON_Parse(b->buf);
			ck_assert_msg(msg != NULL, "the bridge wrote a line that "
			    "is not JSON: %s", b->buf);
			b->len -= (size_t)(nl + 1 - b->buf);
			memmove(b->buf, nl + 1, b->len + 1);
			return (msg);
		}
		ck_assert_msg(now_ms() < deadline, "no line from the bridge "
		    "within %d ms", LINE_MS);
		pfd.fd = b->out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ck_assert_msg(harness_drain(b->out, &b->buf, &b->len), "the bridge "
		    "closed its stdout");
	}
}

/* Close stdin and out, and return the bridge's exit status (-1: killed). */
static int
bridge_wait(struct bridge *b)
{
	long	deadline = now_ms() + RUN_MS;
	int	status;
	pid_t	r;

	if (b->in != -1)
		close(b->in);
	b->in = -1;
	while ((r = waitpid(b->pid, &status, WNOHANG)) == 0) {
		if (now_ms() > deadline) {
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &status, 0);
			ck_abort_msg("the bridge did not exit within %d ms",
			    RUN_MS);
		}
		sleep_ms(10);
	}
	close(b->out);
	free(b->buf);
	return (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Send initialize for version; returns the answer (caller frees). */
static cJSON *
bridge_initialize(struct bridge *b, const char *version)
{
	char	line[256];

	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":\"init\","
	    "\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
	    "\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"test\","
	    "\"version\":\"1\"}}}\n", version);
	bridge_write(b, line);
	return (bridge_read(b));
}

START_TEST(test_two_hosts_on_one_thread_reach_the_same_child)
{
	cJSON	*first, *second, *other;
	double	 pid;

	first = sdk_run("fake", "keep", "call:counter", NULL);
	ck_assert_int_eq(json_number(structured_of(sdk_step(first, 0)),
	    "count"), 1);
	pid = json_number(structured_of(sdk_step(first, 0)), "pid");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(first,
	    "serverVersion"), "name"), "fake-mcp");

	/* A second host process, later: the same child, its count goes on. */
	second = sdk_run("fake", "keep", "call:counter", NULL);
	ck_assert_int_eq(json_number(structured_of(sdk_step(second, 0)),
	    "count"), 2);
	ck_assert(json_number(structured_of(sdk_step(second, 0)), "pid") ==
	    pid);

	/* Another thread: a child of its own, counting from 1. */
	other = sdk_run("fake", "other", "call:counter", NULL);
	ck_assert_int_eq(json_number(structured_of(sdk_step(other, 0)),
	    "count"), 1);
	ck_assert(json_number(structured_of(sdk_step(other, 0)), "pid") !=
	    pid);
	cJSON_Delete(first);
	cJSON_Delete(second);
	cJSON_Delete(other);
}
END_TEST

START_TEST(test_thread_comes_from_mcp_broker_thread)
{
	struct client	*c;
	cJSON		*out;

	out = sdk_run("fake", "-", "call:counter", NULL);
	ck_assert_int_eq(json_number(structured_of(sdk_step(out, 0)),
	    "count"), 1);
	c = daemon_connect(d);
	ck_assert(session_pid(c, "fake", "env-thread") ==
	    (pid_t)json_number(structured_of(sdk_step(out, 0)), "pid"));
	client_close(c);
	cJSON_Delete(out);
}
END_TEST

START_TEST(test_progress_reaches_the_sdk_onprogress)
{
	cJSON	*out, *step, *p;
	int	 i = 0;

	out = sdk_run("fake", "progress",
	    "progress:progress:{\"steps\":4,\"interval_ms\":60}", NULL);
	step = sdk_step(out, 0);
	ck_assert_int_eq(json_number(structured_of(step), "steps"), 4);
	/* The SDK may drop a last progress that comes with the answer. */
	ck_assert_msg(cJSON_GetArraySize(cJSON_GetObjectItem(step,
	    "progress")) >= 3, "progress seen: %s",
	    cJSON_PrintUnformatted(step));
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(step, "progress")) {
		i++;
		ck_assert_int_eq(json_number(p, "progress"), i);
		ck_assert_int_eq(json_number(p, "total"), 4);
	}
	cJSON_Delete(out);
}
END_TEST

START_TEST(test_sampling_reaches_the_sdk_handler_and_its_answer_the_server)
{
	cJSON	*out, *sample, *answer, *meta;

	out = sdk_run("fake", "sampling", "call:sample", NULL);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out,
	    "samples")), 1);
	sample = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "samples"), 0);
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(sample, "messages"), 0), "content"), "text"),
	    "hello from fake-mcp");
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(sample, "_meta"),
	    "mcp-broker/session");
	ck_assert_str_eq(json_string(meta, "thread"), "sampling");
	/* What the SDK's handler answered is what the server got. */
	answer = cJSON_GetObjectItem(structured_of(sdk_step(out, 0)),
	    "answer");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(answer, "content"),
	    "text"), "sampled by the SDK host");
	ck_assert_str_eq(json_string(answer, "model"), "bridge-test-model");
	cJSON_Delete(out);
}
END_TEST

START_TEST(test_everything_lists_tools_and_echoes_through_the_bridge)
{
	cJSON	*out, *tools, *t, *content;
	int	 echo = 0;

	out = sdk_run("everything", "every", "list",
	    "call:echo:{\"message\":\"hello through the bridge\"}", NULL);
	ck_assert_str_ne(json_string(cJSON_GetObjectItem(out,
	    "serverVersion"), "name"), "fake-mcp");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetObjectItem(out,
	    "capabilities"), "tools")));
	tools = cJSON_GetObjectItem(sdk_step(out, 0), "tools");
	cJSON_ArrayForEach(t, tools)
		echo |= strcmp(t->valuestring, "echo") == 0;
	ck_assert_msg(echo, "no echo in %s", cJSON_PrintUnformatted(tools));
	content = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    sdk_step(out, 1), "result"), "content"), 0);
	ck_assert_msg(strstr(json_string(content, "text"),
	    "hello through the bridge") != NULL, "echo said %s",
	    cJSON_PrintUnformatted(content));
	cJSON_Delete(out);
}
END_TEST

START_TEST(test_stdin_eof_exits_0_and_the_session_keeps_running)
{
	struct bridge	 b;
	struct client	*c;
	cJSON		*r, *s;
	pid_t		 pid;

	bridge_start(&b, "fake", "eof");
	r = bridge_initialize(&b, "2025-06-18");
	ck_assert_str_eq(json_string(r, "id"), "init");
	ck_assert_str_eq(json_string(result_of(r), "protocolVersion"),
	    "2025-06-18");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(result_of(r),
	    "serverInfo"), "name"), "fake-mcp");
	cJSON_Delete(r);
	bridge_write(&b, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}\n{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"counter\"}}\n");
	r = bridge_read(&b);
	ck_assert_int_eq(json_number(r, "id"), 1);
	pid = pid_of(r);
	cJSON_Delete(r);
	ck_assert_int_eq(bridge_wait(&b), 0);

	c = daemon_connect(d);
	s = session_of(c, "fake", "eof");
	ck_assert_str_eq(json_string(result_of(s), "state"), "ready");
	ck_assert_int_eq((pid_t)json_number(result_of(s), "pid"), pid);
	ck_assert(pid_alive(pid));
	cJSON_Delete(s);
	client_close(c);
}
END_TEST

START_TEST(test_bad_lines_get_errors_and_the_bridge_goes_on)
{
	struct bridge	 b;
	const char	*prefix = "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":"
			    "\"tools/call\",\"params\":{\"name\":\"echo\","
			    "\"arguments\":{\"text\":\"";
	cJSON		*r;
	char		*big;
	size_t		 n;

	bridge_start(&b, "fake", "garbage");
	bridge_write(&b, "this is not json\n");
	r = bridge_read(&b);
	ck_assert_int_eq(error_code(r), -32700);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "id")));
	cJSON_Delete(r);

	bridge_write(&b, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tools/call\",\"params\":[1]}\n");
	r = bridge_read(&b);
	ck_assert_int_eq(error_code(r), -32602);
	ck_assert_int_eq(json_number(r, "id"), 2);
	cJSON_Delete(r);

	/* Over the bound: -32600 under the id read before the cut. */
	n = BRIDGE_MAX_MESSAGE + 100;
	big = malloc(n + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', n);
	memcpy(big, prefix, strlen(prefix));
	strcpy(big + n, "\n");
	bridge_write(&b, big);
	free(big);
	r = bridge_read(&b);
	ck_assert_int_eq(error_code(r), -32600);
	ck_assert_int_eq(json_number(r, "id"), 77);
	ck_assert_ptr_nonnull(strstr(json_string(cJSON_GetObjectItem(r,
	    "error"), "message"), "BRIDGE_MAX_MESSAGE"));
	cJSON_Delete(r);

	/* And on it goes: ping locally, a call through the broker. */
	bridge_write(&b, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":"
	    "\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"on\"}}}\n");
	r = bridge_read(&b);
	ck_assert_str_eq(json_string(r, "id"), "p");
	ck_assert_int_eq(cJSON_GetArraySize(result_of(r)), 0);
	cJSON_Delete(r);
	r = bridge_read(&b);
	ck_assert_int_eq(json_number(r, "id"), 3);
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
	ck_assert_int_eq(bridge_wait(&b), 0);
}
END_TEST

START_TEST(test_initialize_answers_the_host_version_or_the_newest)
{
	struct bridge	 b;
	cJSON		*r;

	bridge_start(&b, "fake", "versions");
	r = bridge_initialize(&b, "2024-11-05");
	ck_assert_str_eq(json_string(result_of(r), "protocolVersion"),
	    "2024-11-05");
	ck_assert_str_eq(json_string(result_of(r), "instructions"),
	    "A test fixture that misbehaves on request.");
	cJSON_Delete(r);
	r = bridge_initialize(&b, "1999-01-01");
	ck_assert_str_eq(json_string(result_of(r), "protocolVersion"),
	    "2025-11-25");
	cJSON_Delete(r);
	ck_assert_int_eq(bridge_wait(&b), 0);
}
END_TEST

START_TEST(test_initialize_of_an_unknown_server_gets_the_daemon_error)
{
	struct bridge	 b;
	cJSON		*r;

	bridge_start(&b, "nosuch", "t");
	r = bridge_initialize(&b, "2025-11-25");
	ck_assert_str_eq(json_string(r, "id"), "init");
	ck_assert_int_eq(error_code(r), -32010);
	ck_assert_str_eq(json_string(error_data(r), "server"), "nosuch");
	cJSON_Delete(r);
	ck_assert_int_eq(bridge_wait(&b), 0);
}
END_TEST

START_TEST(test_lost_broker_fails_requests_in_flight_and_exits_1)
{
	struct bridge	 b;
	struct client	*c;
	cJSON		*r;
	char		 sock[sizeof d->sock];

	snprintf(sock, sizeof sock, "%s", d->sock);
	bridge_start(&b, "fake", "lost");
	/* A first call, answered: the session is there to watch. */
	bridge_write(&b, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"counter\"}}\n");
	cJSON_Delete(bridge_read(&b));
	bridge_write(&b, "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"sleep\",\"arguments\":"
	    "{\"ms\":20000}}}\n");
	c = daemon_connect(d);
	wait_in_flight(c, "fake", "lost", 1);
	client_close(c);
	daemon_kill(d);
	d = NULL;
	r = bridge_read(&b);
	ck_assert_str_eq(json_string(r, "id"), "s");
	ck_assert_int_eq(error_code(r), -32603);
	ck_assert_msg(strstr(json_string(cJSON_GetObjectItem(r, "error"),
	    "message"), sock) != NULL, "the error names no socket: %s",
	    cJSON_PrintUnformatted(r));
	cJSON_Delete(r);
	ck_assert_int_eq(bridge_wait(&b), 1);
}
END_TEST

START_TEST(test_no_thread_is_a_usage_error)
{
	const char	*argv[] = { "mcp-brokerctl", "--socket", d->sock,
			    "bridge", "fake", NULL };
	struct harness_run	 r;

	run_prog(&r, harness_build_path("mcp-brokerctl"), argv, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "MCP_BROKER_THREAD"));
	ck_assert_ptr_nonnull(strstr(r.err, "usage:"));
	harness_run_free(&r);
}
END_TEST

static Suite *
bridge_suite(void)
{
	Suite	*s = suite_create("bridge");
	TCase	*tc;

	tc = harness_add_tcase(s, "the bridge's own bytes", setup, teardown,
	    60);
	tcase_add_test(tc, test_stdin_eof_exits_0_and_the_session_keeps_running);
	tcase_add_test(tc, test_bad_lines_get_errors_and_the_bridge_goes_on);
	tcase_add_test(tc,
	    test_initialize_answers_the_host_version_or_the_newest);
	tcase_add_test(tc,
	    test_initialize_of_an_unknown_server_gets_the_daemon_error);
	tcase_add_test(tc,
	    test_lost_broker_fails_requests_in_flight_and_exits_1);
	tcase_add_test(tc, test_no_thread_is_a_usage_error);
	if (!have_sdk)
		return (s);
	tc = harness_add_tcase(s, "the TypeScript SDK as the host", setup,
	    teardown, 120);
	tcase_add_test(tc, test_two_hosts_on_one_thread_reach_the_same_child);
	tcase_add_test(tc, test_thread_comes_from_mcp_broker_thread);
	tcase_add_test(tc, test_progress_reaches_the_sdk_onprogress);
	tcase_add_test(tc,
	    test_sampling_reaches_the_sdk_handler_and_its_answer_the_server);
	tcase_add_test(tc,
	    test_everything_lists_tools_and_echoes_through_the_bridge);
	return (s);
}

int
main(void)
{
	const char	*require = getenv("MCPB_REQUIRE_INTEROP");
	char		 missing[3 * PATH_MAX + 64] = "";
	const char	*need[2];
	size_t		 i;

	if (harness_find_program("node", node_path, sizeof node_path) != 0)
		strcat(missing, "node (not on PATH)");
	snprintf(everything_js, sizeof everything_js, "%s",
	    harness_top_path(EVERYTHING_JS));
	need[0] = everything_js;
	need[1] = harness_top_path(SDK_CLIENT_JS);
	for (i = 0; i < 2; i++) {
		if (access(need[i], R_OK) != 0)
			snprintf(missing + strlen(missing), sizeof missing -
			    strlen(missing), "%s%s", *missing != '\0' ? ", " :
			    "", need[i]);
	}
	have_sdk = *missing == '\0';
	if (!have_sdk) {
		fprintf(stderr, "*** SKIPPED: the SDK half of the bridge tests "
		    "needs node and npm packages (run make npm-deps): %s ***\n",
		    missing);
		if (require != NULL && strcmp(require, "1") == 0) {
			fprintf(stderr, "*** MCPB_REQUIRE_INTEROP=1: a skip is "
			    "a failure ***\n");
			return (1);
		}
	}
	return (harness_run_suite(bridge_suite()));
}
