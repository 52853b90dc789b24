/*
 * The TypeScript SDK's own Client on its StreamableHTTPClientTransport
 * (tests/interop/http_client.mjs, run by node) against the daemon's
 * /mcp/SERVER/THREAD on a TCP listener with a bearer token, the fixture
 * server behind it: state carried across two client processes on one
 * thread, a fresh child on another, progress reaching onprogress,
 * sampling reaching the client's handler and its answer the server,
 * terminateSession (DELETE) leaving the child running; and the same
 * client on the broker's Unix socket (the SDK's transport given a fetch
 * on node:http), where the peer's uid is the identity.
 *
 * It needs node and `make npm-deps`; without them it prints a loud
 * SKIPPED line, and with MCPB_REQUIRE_INTEROP=1 that is a failure.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

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
#define SDK_HTTP_JS	NPM_SCOPE "sdk/dist/esm/client/streamableHttp.js"
#define HTTP_CLIENT	"tests/interop/http_client.mjs"
#define TOKEN		"root-0123456789abcdef0123456789ab"

/* How long one run of the SDK client may take. */
#define RUN_MS		30000
#define MAX_ARGS	16

static char		 node_path[PATH_MAX];
static struct daemon	*d;
static char		 dir[64];
static int		 port;

/* A daemon listening on a fresh port; the fixture may ask for sampling. */
static void
setup(void)
{
	char	 tokens[128], *broker;
	int	 fd;

	snprintf(dir, sizeof dir, "/tmp/mcpb-hsdk.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tokens, sizeof tokens, "%s/tokens", dir);
	ck_assert_int_ne(fd = open(tokens, O_WRONLY | O_CREAT | O_TRUNC,
	    0600), -1);
	ck_assert_int_eq(write(fd, "root " TOKEN "\n", 39), 39);
	close(fd);
	port = harness_free_port();
	xasprintf(&broker, "\"log_level\":\"debug\",\"http\":{\"listen\":"
	    "[\"127.0.0.1:%d\"],\"tokens_file\":\"%s\"}", port, tokens);
	d = daemon_start(broker, "\"fake\":{\"command\":\"@FAKE@\","
	    "\"client_capabilities\":{\"sampling\":{}}}");
	free(broker);
	ck_assert_msg(wait_log(d, 5000, "listening for HTTP on", NULL),
	    "the daemon does not say it listens for HTTP");
}

/* Stop the daemon and remove the tokens. */
static void
teardown(void)
{
	char	path[128];

	if (d != NULL)
		daemon_stop_ok(d);
	d = NULL;
	snprintf(path, sizeof path, "%s/tokens", dir);
	unlink(path);
	rmdir(dir);
}

/*
 * Run the SDK client on /mcp/fake/THREAD with the steps given; fails
 * unless it exits 0. Returns what it printed (caller frees).
 */
static cJSON *
sdk_run_on(const char *socket, const char *thread, va_list ap)
{
	const char	*argv[MAX_ARGS + 1];
	char		 script[PATH_MAX], url[128];
	struct harness_run r;
	cJSON		*out;
	int		 n = 0;

	snprintf(script, sizeof script, "%s", harness_top_path(HTTP_CLIENT));
	snprintf(url, sizeof url, "http://127.0.0.1:%d/mcp/fake/%s", port,
	    thread);
	argv[n++] = node_path;
	argv[n++] = script;
	if (socket != NULL) {
		argv[n++] = "--socket";
		argv[n++] = socket;
	}
	argv[n++] = url;
	argv[n++] = socket != NULL ? "-" : TOKEN;
	while ((argv[n] = va_arg(ap, const char *)) != NULL) {
		n++;
		ck_assert_int_lt(n, MAX_ARGS);
	}
	harness_run(&r, node_path, argv, NULL, NULL, RUN_MS);
	ck_assert_msg(r.status == 0, "the SDK client exited %d\nstdout: %s\n"
	    "stderr: %s", r.status, r.out, r.err);
	out = cJSON_Parse(r.out);
	ck_assert_msg(out != NULL, "the SDK client printed no JSON: %s", r.out);
	harness_run_free(&r);
	return (out);
}

/* The SDK client on the TCP listener, with root's token. */
static cJSON *
sdk_run(const char *thread, ...)
{
	va_list	 ap;
	cJSON	*out;

	va_start(ap, thread);
	out = sdk_run_on(NULL, thread, ap);
	va_end(ap);
	return (out);
}

/* The SDK client on the broker's Unix socket, without a token. */
static cJSON *
sdk_run_socket(const char *thread, ...)
{
	va_list	 ap;
	cJSON	*out;

	va_start(ap, thread);
	out = sdk_run_on(d->sock, thread, ap);
	va_end(ap);
	return (out);
}

/* Step i's tools/call structuredContent (fails if the call failed). */
static cJSON *
structured_of(cJSON *out, int i)
{
	cJSON	*step, *result;

	step = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "steps"), i);
	ck_assert_msg(step != NULL, "no step %d", i);
	result = cJSON_GetObjectItem(step, "result");
	ck_assert_msg(!cJSON_IsTrue(cJSON_GetObjectItem(result, "isError")),
	    "the tool failed: %s", cJSON_PrintUnformatted(step));
	return (cJSON_GetObjectItem(result, "structuredContent"));
}

START_TEST(test_two_sdk_clients_on_one_thread_share_the_child)
{
	cJSON		*a, *b;
	const char	*sa, *sb;

	a = sdk_run("t1", "call:counter", NULL);
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(a, "serverVersion"),
	    "name"), "fake-mcp");
	ck_assert_str_eq(json_string(a, "protocolVersion"), "2025-11-25");
	ck_assert_int_eq((int)json_number(structured_of(a, 0), "count"), 1);
	b = sdk_run("t1", "call:counter", NULL);
	ck_assert_int_eq((int)json_number(structured_of(b, 0), "count"), 2);
	ck_assert_int_eq((int)json_number(structured_of(a, 0), "pid"),
	    (int)json_number(structured_of(b, 0), "pid"));
	sa = json_string(a, "sessionId");
	sb = json_string(b, "sessionId");
	ck_assert_ptr_nonnull(sa);
	ck_assert_ptr_nonnull(sb);
	ck_assert_str_ne(sa, sb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

START_TEST(test_another_thread_is_a_fresh_child)
{
	cJSON	*a, *b;

	a = sdk_run("t1", "call:counter", "call:counter", NULL);
	ck_assert_int_eq((int)json_number(structured_of(a, 1), "count"), 2);
	b = sdk_run("t2", "call:counter", NULL);
	ck_assert_int_eq((int)json_number(structured_of(b, 0), "count"), 1);
	ck_assert_int_ne((int)json_number(structured_of(a, 0), "pid"),
	    (int)json_number(structured_of(b, 0), "pid"));
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

START_TEST(test_progress_reaches_the_sdk_onprogress)
{
	cJSON	*a, *progress, *p;
	int	 i;

	a = sdk_run("t1", "progress:progress:{\"steps\":3,\"interval_ms\":20}",
	    NULL);
	progress = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    a, "steps"), 0), "progress");
	ck_assert_int_eq(cJSON_GetArraySize(progress), 3);
	for (i = 0; i < 3; i++) {
		p = cJSON_GetArrayItem(progress, i);
		ck_assert_int_eq((int)json_number(p, "progress"), i + 1);
		ck_assert_int_eq((int)json_number(p, "total"), 3);
	}
	ck_assert_int_eq((int)json_number(structured_of(a, 0), "steps"), 3);
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_sampling_reaches_the_sdk_handler_and_its_answer_the_server)
{
	cJSON	*a, *answer, *sample;

	a = sdk_run("t1", "call:sample", NULL);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a, "samples")),
	    1);
	sample = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "samples"), 0);
	ck_assert_int_eq((int)json_number(sample, "maxTokens"), 10);
	answer = cJSON_GetObjectItem(structured_of(a, 0), "answer");
	ck_assert_str_eq(json_string(answer, "model"), "http-test-model");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(answer, "content"),
	    "text"), "sampled by the SDK over HTTP");
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_terminate_session_leaves_the_child_running)
{
	cJSON	*a, *b;

	a = sdk_run("t1", "call:counter", "terminate", NULL);
	ck_assert_ptr_null(cJSON_GetObjectItem(a, "error"));
	b = sdk_run("t1", "call:counter", NULL);
	ck_assert_int_eq((int)json_number(structured_of(b, 0), "count"), 2);
	ck_assert_int_eq((int)json_number(structured_of(a, 0), "pid"),
	    (int)json_number(structured_of(b, 0), "pid"));
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

START_TEST(test_sdk_over_the_socket_reaches_the_same_child_as_tcp)
{
	cJSON	*a, *b, *progress;

	a = sdk_run("t1", "call:counter", NULL);
	b = sdk_run_socket("t1", "call:counter",
	    "progress:progress:{\"steps\":2,\"interval_ms\":10}",
	    "call:sample", NULL);
	ck_assert_int_eq((int)json_number(structured_of(b, 0), "count"), 2);
	ck_assert_int_eq((int)json_number(structured_of(a, 0), "pid"),
	    (int)json_number(structured_of(b, 0), "pid"));
	progress = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    b, "steps"), 1), "progress");
	ck_assert_int_eq(cJSON_GetArraySize(progress), 2);
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    structured_of(b, 2), "answer"), "content"), "text"),
	    "sampled by the SDK over HTTP");
	cJSON_Delete(a);
	cJSON_Delete(b);
}
END_TEST

/* The suite. */
static Suite *
http_sdk_suite(void)
{
	Suite	*s = suite_create("http_sdk");
	TCase	*tc;

	tc = harness_add_tcase(s, "the TypeScript SDK over HTTP", setup,
	    teardown, 120);
	tcase_add_test(tc, test_two_sdk_clients_on_one_thread_share_the_child);
	tcase_add_test(tc, test_another_thread_is_a_fresh_child);
	tcase_add_test(tc, test_progress_reaches_the_sdk_onprogress);
	tcase_add_test(tc,
	    test_sampling_reaches_the_sdk_handler_and_its_answer_the_server);
	tcase_add_test(tc, test_terminate_session_leaves_the_child_running);
	tcase_add_test(tc,
	    test_sdk_over_the_socket_reaches_the_same_child_as_tcp);
	return (s);
}

int
main(void)
{
	const char	*require = getenv("MCPB_REQUIRE_INTEROP");
	const char	*sdk = harness_top_path(SDK_HTTP_JS);

	if (harness_find_program("node", node_path, sizeof node_path) != 0 || access(sdk, R_OK) != 0) {
		fprintf(stderr, "*** SKIPPED: the HTTP SDK tests need node and "
		    "npm packages (run make npm-deps): %s ***\n",
		    node_path[0] == '\0' ? "node (not on PATH)" : sdk);
		if (require != NULL && strcmp(require, "1") == 0) {
			fprintf(stderr, "*** MCPB_REQUIRE_INTEROP=1: a skip is "
			    "a failure ***\n");
			return (1);
		}
		return (0);
	}
	return (harness_run_suite(http_sdk_suite()));
}
