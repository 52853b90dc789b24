/*
 * mcp-brokerctl against the real daemon: what each command prints, its
 * exit status (0 success, 1 an error answer, 2 usage or connection), and
 * how it finds the socket.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "defaults.h"
#include "harness.h"
#include "xmalloc.h"

/* How long one run of the ctl may take. */
#define CTL_RUN_MS	15000
#define CTL_MAX_ARGS	16

static struct daemon	*d;


/* One fake server, "fake". */
static void
setup(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
}

/*
 * "fake" with --hostile-names: control characters and bytes that are not
 * UTF-8 in its serverInfo, stderr, tool description and tool text.
 */
static void
setup_hostile(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--hostile-names\"]}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/*
 * Run the program prog of the build (mcp-brokerctl, mcp-brokerd) with
 * argv (NULL-terminated, without the program name), $MCP_BROKER_SOCKET
 * set to env_socket (NULL: unset), and capture its output and exit status.
 */
static void
prog_runv(struct harness_run *r, const char *prog, const char *env_socket,
    const char **argv)
{
	const char	*args[CTL_MAX_ARGS + 2], *env[2] = { NULL, NULL };
	char		*set = NULL;
	int		 n;

	args[0] = prog;
	for (n = 0; argv[n] != NULL; n++) {
		ck_assert_int_lt(n, CTL_MAX_ARGS);
		args[n + 1] = argv[n];
	}
	args[n + 1] = NULL;
	if (env_socket != NULL)
		xasprintf(&set, "MCP_BROKER_SOCKET=%s", env_socket);
	env[0] = set != NULL ? set : "MCP_BROKER_SOCKET";
	harness_run(r, harness_build_path(prog), args, env, NULL, CTL_RUN_MS);
	free(set);
}

/* Run mcp-brokerctl as prog_runv does. */
static void
ctl_runv(struct harness_run *r, const char *env_socket, const char **argv)
{
	prog_runv(r, "mcp-brokerctl", env_socket, argv);
}

/* Run mcp-brokerctl --socket <the daemon's> followed by the args. */
static void
ctl_run(struct harness_run *r, ...)
{
	const char	*argv[CTL_MAX_ARGS + 1];
	va_list		 ap;
	int		 n = 0;

	argv[n++] = "--socket";
	argv[n++] = d->sock;
	va_start(ap, r);
	while ((argv[n] = va_arg(ap, const char *)) != NULL) {
		n++;
		ck_assert_int_lt(n, CTL_MAX_ARGS);
	}
	va_end(ap);
	ctl_runv(r, NULL, argv);
}

/* Fail unless the run exited with status want; show its output if not. */
static void
ctl_expect(struct harness_run *r, int want)
{
	ck_assert_msg(r->status == want, "mcp-brokerctl exited %d, expected "
	    "%d\nstdout: %s\nstderr: %s", r->status, want, r->out, r->err);
}

/* The sessions broker/status lists (caller frees the response). */
static cJSON *
status_sessions(cJSON **response)
{
	struct client	*c = daemon_connect(d);

	*response = rpc(c, "broker/status", NULL);
	client_close(c);
	return (cJSON_GetObjectItem(result_of(*response), "sessions"));
}

/* Start the session for (fake, thread) through the client. */
static void
start_session(const char *thread)
{
	struct client	*c = daemon_connect(d);

	cJSON_Delete(tool_call(c, "fake", thread, "counter", NULL));
	client_close(c);
}

/* Split a line into at most max whitespace-separated words (in place). */
static int
split_words(char *line, char **words, int max)
{
	char	*save, *w;
	int	 n = 0;

	for (w = strtok_r(line, " \t", &save); w != NULL && n < max;
	    w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	return (n);
}

START_TEST(test_call_prints_text_and_state_persists)
{
	struct harness_run	r;

	ctl_run(&r, "call", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "1\n");
	ck_assert_str_eq(r.err, "");
	harness_run_free(&r);

	ctl_run(&r, "call", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "2\n");
	harness_run_free(&r);

	ctl_run(&r, "call", "fake", "t2", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "1\n");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_call_json_prints_the_whole_result)
{
	struct harness_run	 r;
	cJSON		*j;

	ctl_run(&r, "call", "--json", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_msg((j = cJSON_Parse(r.out)) != NULL, "not JSON: %s",
	    r.out);
	ck_assert_int_eq((int)json_number(j, "structuredContent.count"), 1);
	ck_assert_int_eq((int)json_number(j,
	    "_meta.mcp-broker/session.generation"), 1);
	ck_assert_int_gt(strlen(json_string(j,
	    "_meta.mcp-broker/session.id")), 0);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "content")));
	cJSON_Delete(j);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_call_passes_json_arguments)
{
	struct harness_run	r;

	ctl_run(&r, "call", "fake", "t1", "echo", "{\"text\":\"hello\"}",
	    NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "hello\n");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_call_of_a_failing_tool_exits_1)
{
	struct harness_run	r;

	/* echo without "text" answers isError. */
	ctl_run(&r, "call", "fake", "t1", "echo", "{}", NULL);
	ctl_expect(&r, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "text"));
	harness_run_free(&r);
}
END_TEST

START_TEST(test_status_prints_a_table_of_sessions)
{
	static const char *columns[] = { "SERVER", "THREAD", "PID", "STATE",
	    "GEN", "AGE", "IDLE", "CALLS", "IN-FLIGHT" };
	struct harness_run	 r;
	cJSON		*resp, *sessions, *s;
	char		*line, *save, *words[16];
	int		 n, i, header = 0, rows = 0, matched = 0;

	start_session("t1");
	start_session("t2");
	ctl_run(&r, "status", NULL);
	ctl_expect(&r, 0);
	ck_assert_msg(strncmp(r.out, "mcp-brokerd ", 12) == 0,
	    "no header line: %s", r.out);
	sessions = status_sessions(&resp);

	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		n = split_words(line, words, 16);
		if (n > 0 && strcmp(words[0], "SERVER") == 0) {
			ck_assert_int_eq(n, 9);
			for (i = 0; i < 9; i++)
				ck_assert_str_eq(words[i], columns[i]);
			header++;
			continue;
		}
		if (!header || n == 0)
			continue;
		ck_assert_msg(n == 9, "a row of %d columns", n);
		rows++;
		cJSON_ArrayForEach(s, sessions) {
			if (strcmp(words[0], json_string(s, "server")) == 0 &&
			    strcmp(words[1], json_string(s, "thread")) == 0 &&
			    atol(words[2]) == (long)json_number(s, "pid")) {
				ck_assert(pid_alive((pid_t)atol(words[2])));
				ck_assert_str_eq(words[3], "ready");
				ck_assert_str_eq(words[4], "1");
				ck_assert_str_eq(words[7], "1");
				ck_assert_str_eq(words[8], "0");
				matched++;
			}
		}
	}
	ck_assert_int_eq(header, 1);
	ck_assert_int_eq(rows, 2);
	ck_assert_int_eq(matched, 2);
	cJSON_Delete(resp);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_status_json_lists_the_same_sessions)
{
	struct harness_run	 r;
	cJSON		*j, *resp;

	start_session("t1");
	start_session("t2");
	start_session("t3");
	ctl_run(&r, "status", "--json", NULL);
	ctl_expect(&r, 0);
	ck_assert_msg((j = cJSON_Parse(r.out)) != NULL, "not JSON: %s",
	    r.out);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "sessions")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j,
	    "sessions")), cJSON_GetArraySize(status_sessions(&resp)));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j,
	    "sessions")), 3);
	ck_assert_int_eq((int)json_number(j, "pid"), d->pid);
	cJSON_Delete(resp);
	cJSON_Delete(j);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_status_with_no_sessions_prints_the_header)
{
	struct harness_run	r;

	ctl_run(&r, "status", NULL);
	ctl_expect(&r, 0);
	ck_assert_msg(strncmp(r.out, "mcp-brokerd ", 12) == 0,
	    "no header line: %s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "0 of"));
	harness_run_free(&r);
}
END_TEST

START_TEST(test_tools_lists_tool_names)
{
	struct harness_run	 r;
	char		*line, *save, *words[2];
	int		 found = 0;

	ctl_run(&r, "tools", "fake", NULL);
	ctl_expect(&r, 0);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (split_words(line, words, 1) == 1 &&
		    strcmp(words[0], "counter") == 0)
			found++;
	}
	ck_assert_int_eq(found, 1);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_tools_json_prints_the_tools)
{
	struct harness_run	 r;
	cJSON		*j, *tool;
	int		 found = 0;

	ctl_run(&r, "tools", "--json", "fake", "t9", NULL);
	ctl_expect(&r, 0);
	ck_assert_msg((j = cJSON_Parse(r.out)) != NULL, "not JSON: %s",
	    r.out);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "tools")));
	cJSON_ArrayForEach(tool, cJSON_GetObjectItem(j, "tools")) {
		if (strcmp(json_string(tool, "name"), "counter") == 0)
			found++;
	}
	ck_assert_int_eq(found, 1);
	cJSON_Delete(j);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_close_thread_prints_how_many)
{
	struct harness_run	 r;
	cJSON		*resp, *sessions;

	start_session("t1");
	start_session("t2");
	ctl_run(&r, "close", "--thread", "t1", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "closed 1 session\n");
	harness_run_free(&r);

	sessions = status_sessions(&resp);
	ck_assert_int_eq(cJSON_GetArraySize(sessions), 1);
	ck_assert_str_eq(json_string(cJSON_GetArrayItem(sessions, 0),
	    "thread"), "t2");
	cJSON_Delete(resp);

	ctl_run(&r, "close", "--thread", "t1", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "closed 0 sessions\n");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_close_server_thread_and_all)
{
	struct harness_run	 r;
	cJSON		*resp;

	start_session("t1");
	start_session("t2");
	start_session("t3");
	ctl_run(&r, "close", "fake", "t2", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "closed 1 session\n");
	harness_run_free(&r);
	ck_assert_int_eq(cJSON_GetArraySize(status_sessions(&resp)), 2);
	cJSON_Delete(resp);

	ctl_run(&r, "close", "--server", "fake", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "closed 2 sessions\n");
	harness_run_free(&r);
	ck_assert_int_eq(cJSON_GetArraySize(status_sessions(&resp)), 0);
	cJSON_Delete(resp);

	start_session("t4");
	ctl_run(&r, "close", "--all", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "closed 1 session\n");
	harness_run_free(&r);
	ck_assert_int_eq(cJSON_GetArraySize(status_sessions(&resp)), 0);
	cJSON_Delete(resp);
	ck_assert(wait_no_children(d->pid, 3000));
}
END_TEST

START_TEST(test_unknown_tool_exits_1_with_the_message)
{
	struct harness_run	r;

	ctl_run(&r, "call", "fake", "t1", "no_such_tool", NULL);
	ctl_expect(&r, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, "-32602") != NULL &&
	    strstr(r.err, "no_such_tool") != NULL, "stderr: %s", r.err);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_unknown_server_exits_1_with_the_message)
{
	struct harness_run	r;

	ctl_run(&r, "call", "nope", "t1", "counter", NULL);
	ctl_expect(&r, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, "-32010") != NULL &&
	    strstr(r.err, "nope") != NULL, "stderr: %s", r.err);
	harness_run_free(&r);

	ctl_run(&r, "close", "--server", "nope", NULL);
	ctl_expect(&r, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "-32010"));
	harness_run_free(&r);
}
END_TEST

START_TEST(test_bad_usage_exits_2)
{
	static const char *bad[][6] = {
		{ "call", "fake", NULL },
		{ "call", "fake", "t1", "echo", "not json", NULL },
		{ "call", "fake", "t1", "echo", "[1]", NULL },
		{ "tools", NULL },
		{ "close", NULL },
		{ "close", "--thread", NULL },
		{ "close", "--bogus", "x", NULL },
		{ "status", "extra", NULL },
		{ "no-such-command", NULL },
		{ NULL },
	};
	const char	*argv[CTL_MAX_ARGS + 1];
	struct harness_run	 r;
	size_t		 i;
	int		 n;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		argv[0] = "--socket";
		argv[1] = d->sock;
		for (n = 0; bad[i][n] != NULL; n++)
			argv[n + 2] = bad[i][n];
		argv[n + 2] = NULL;
		ctl_runv(&r, NULL, argv);
		ck_assert_msg(r.status == 2, "mcp-brokerctl %s %s: exit %d, "
		    "expected 2", bad[i][0] != NULL ? bad[i][0] : "",
		    bad[i][0] != NULL && bad[i][1] != NULL ? bad[i][1] : "",
		    r.status);
		ck_assert_str_ne(r.err, "");
		harness_run_free(&r);
	}
	/* None of them reached the daemon's sessions. */
	{
		cJSON	*resp;

		ck_assert_int_eq(cJSON_GetArraySize(status_sessions(&resp)),
		    0);
		cJSON_Delete(resp);
	}
}
END_TEST

START_TEST(test_usage_names_the_commands)
{
	const char	*argv[] = { "--socket", d->sock, "call", "fake", NULL };
	struct harness_run	 r;

	ctl_runv(&r, NULL, argv);
	ctl_expect(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "usage"));
	ck_assert_ptr_nonnull(strstr(r.err, "call"));
	ck_assert_str_eq(r.out, "");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_no_daemon_exits_2)
{
	char		 path[400];
	const char	*argv[] = { "--socket", path, "status", NULL };
	struct harness_run	 r;

	snprintf(path, sizeof path, "%s/no-such.sock", d->dir);
	ctl_runv(&r, NULL, argv);
	ctl_expect(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, path));
	ck_assert_str_eq(r.out, "");
	harness_run_free(&r);
}
END_TEST

/* reload re-reads the config and prints what changed, exit 0. */
START_TEST(test_reload_prints_what_changed)
{
	struct harness_run	 r;
	cJSON		*j;

	ctl_run(&r, "reload", NULL);
	ctl_expect(&r, 0);
	ck_assert_msg((j = cJSON_Parse(r.out)) != NULL, "not JSON: %s", r.out);
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "added")));
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "removed")));
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "changed")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "changed")),
	    0);
	cJSON_Delete(j);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_reload_of_a_bad_config_exits_1)
{
	struct harness_run	 r;

	daemon_write_config(d, "{\"mcpServers\": not json\n");
	ctl_run(&r, "reload", NULL);
	ctl_expect(&r, 1);
	ck_assert_msg(strstr(r.err, "-32018") != NULL, "stderr: %s", r.err);
	ck_assert_str_eq(r.out, "");
	harness_run_free(&r);

	/* Nothing changed: the daemon still serves the old config. */
	ctl_run(&r, "call", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "1\n");
	harness_run_free(&r);
}
END_TEST

START_TEST(test_socket_comes_from_the_environment)
{
	const char	*status[] = { "status", NULL };
	const char	*call[] = { "call", "fake", "env", "counter", NULL };
	char		 nowhere[400];
	const char	*override[] = { "--socket", d->sock, "status", NULL };
	struct harness_run	 r;

	ctl_runv(&r, d->sock, status);
	ctl_expect(&r, 0);
	ck_assert(strncmp(r.out, "mcp-brokerd ", 12) == 0);
	harness_run_free(&r);

	ctl_runv(&r, d->sock, call);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "1\n");
	harness_run_free(&r);

	/* --socket wins over the environment. */
	snprintf(nowhere, sizeof nowhere, "%s/nowhere.sock", d->dir);
	ctl_runv(&r, nowhere, override);
	ctl_expect(&r, 0);
	harness_run_free(&r);

	/* And the environment is what is tried without it. */
	ctl_runv(&r, nowhere, status);
	ctl_expect(&r, 2);
	ck_assert_ptr_nonnull(strstr(r.err, nowhere));
	harness_run_free(&r);
}
END_TEST

/*
 * Fail if text holds a byte a terminal acts on or that is not UTF-8: a
 * control character other than newline (and tab if tabs), DEL, a C1
 * control, or the hostile server's 0xff 0xfe.
 */
static void
assert_terminal_safe(const char *text, int tabs)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		ck_assert_msg((*p >= 0x20 || *p == '\n' || (tabs &&
		    *p == '\t')) && *p != 0x7f && *p != 0xff && *p != 0xfe,
		    "raw byte 0x%02x at %zu of: %s", *p,
		    (size_t)(p - (const unsigned char *)text), text);
		ck_assert_msg(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f),
		    "raw C1 control at %zu of: %s",
		    (size_t)(p - (const unsigned char *)text), text);
	}
}

START_TEST(test_status_escapes_names_one_row_per_session)
{
	struct harness_run	 r;
	char		*line, *save, *words[16];
	int		 n, header = 0, rows = 0, escaped = 0;

	/* U+009B (CSI) is a legal thread name that a terminal acts on. */
	start_session("t1");
	start_session("a\xc2\x9b" "31mb\\\\");
	ctl_run(&r, "status", NULL);
	ctl_expect(&r, 0);
	assert_terminal_safe(r.out, 0);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		n = split_words(line, words, 16);
		if (n > 0 && strcmp(words[0], "SERVER") == 0) {
			header++;
			continue;
		}
		if (!header || n == 0)
			continue;
		ck_assert_msg(n == 9, "a row of %d columns: %s", n, line);
		rows++;
		if (strcmp(words[1], "a\\xc2\\x9b31mb\\\\") == 0)
			escaped++;
	}
	ck_assert_int_eq(rows, 2);
	ck_assert_int_eq(escaped, 1);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_session_prints_the_same_json_without_raw_controls)
{
	struct harness_run	 r;
	cJSON		*json, *tail;

	start_session("t1");
	ctl_run(&r, "session", "fake", "t1", NULL);
	ctl_expect(&r, 0);
	assert_terminal_safe(r.out, 1);
	/* Still JSON, with the server's own words as it sent them. */
	ck_assert_ptr_nonnull(json = cJSON_Parse(r.out));
	ck_assert_str_eq(json_string(json, "server_info.version"),
	    "1.0\r\x1b]0;title\x07");
	ck_assert_ptr_nonnull(strstr(json_string(json, "server_info.name"),
	    "\nFORGED \x1b[31mred\x1b[0m\rcr\x7f" "del\xc2\x9b" "c1"));
	tail = cJSON_GetObjectItemCaseSensitive(json, "stderr_tail");
	/* The bytes that are not UTF-8 are U+FFFD, the rest as sent. */
	ck_assert(tail_has(tail, "hostile start \x1b[31mred\x1b[0m\rcr\x7f"
	    "del\xc2\x9b" "c1 back\\x1b \xef\xbf\xbd\xef\xbf\xbd" "bad"));
	cJSON_Delete(json);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_tools_prints_one_escaped_line_per_tool)
{
	struct harness_run	 r;
	char		*line, *save;
	int		 hostile = 0;

	ctl_run(&r, "tools", "fake", NULL);
	ctl_expect(&r, 0);
	assert_terminal_safe(r.out, 0);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(strncmp(line, "FORGED", 6) != 0, "a forged "
		    "row: %s", line);
		if (strncmp(line, "hostile ", 8) == 0) {
			ck_assert_ptr_nonnull(strstr(line, "line one\\x0a"
			    "FORGED ROW \\x1b[31mred\\x1b[0m\\x0dcr\\x7f"
			    "del\\xc2\\x9b" "c1 back\\\\x1b"));
			hostile++;
		}
	}
	ck_assert_int_eq(hostile, 1);
	harness_run_free(&r);
}
END_TEST

START_TEST(test_call_text_keeps_its_lines_and_escapes_controls)
{
	struct harness_run	 r;

	ctl_run(&r, "call", "fake", "t1", "hostile", NULL);
	ctl_expect(&r, 0);
	assert_terminal_safe(r.out, 1);
	ck_assert_str_eq(r.out, "hostile text\nsecond line \\x1b[31mred"
	    "\\x1b[0m\\x0dcr\\x7f" "del\\xc2\\x9b" "c1 back\\x1b\n");
	harness_run_free(&r);
}
END_TEST

/* The commands --help must list, each with what it does. */
static const char *ctl_command_names[] = { "status", "call", "tools",
    "close", "reload", "session", "servers", "logs", "top", "metrics" };

/* Fail unless text has a line that starts with two blanks and word. */
static void
assert_help_lists(const char *text, const char *word)
{
	char	want[64];

	snprintf(want, sizeof want, "\n  %s", word);
	ck_assert_msg(strstr(text, want) != NULL, "--help does not list %s:\n%s",
	    word, text);
}

START_TEST(test_help_of_both_programs_is_on_stdout_with_exit_0)
{
	const char	*help[] = { "--help", NULL };
	const char	*h[] = { "-h", NULL };
	struct harness_run	 r;
	size_t		 i;

	ctl_runv(&r, NULL, help);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg(strncmp(r.out, "usage: mcp-brokerctl ", 21) == 0,
	    "stdout: %s", r.out);
	for (i = 0; i < sizeof ctl_command_names / sizeof *ctl_command_names;
	    i++)
		assert_help_lists(r.out, ctl_command_names[i]);
	/* Every command has its line of meaning under its usage. */
	ck_assert_ptr_nonnull(strstr(r.out, "\n  tools [--json] SERVER "
	    "[THREAD]\n      "));
	ck_assert_ptr_nonnull(strstr(r.out, "--socket PATH"));
	ck_assert_ptr_nonnull(strstr(r.out, "MCP_BROKER_SOCKET"));
	harness_run_free(&r);

	prog_runv(&r, "mcp-brokerd", NULL, h);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg(strncmp(r.out, "usage: mcp-brokerd ", 19) == 0,
	    "stdout: %s", r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "--config FILE"));
	ck_assert_ptr_nonnull(strstr(r.out, "--check-config"));
	harness_run_free(&r);
}
END_TEST

START_TEST(test_version_of_both_programs_is_the_daemons_version)
{
	const char	*version[] = { "--version", NULL };
	struct client	*c;
	cJSON		*resp;
	char		 want[128];
	struct harness_run	 r;

	c = daemon_connect(d);
	resp = rpc(c, "broker/status", NULL);
	client_close(c);

	snprintf(want, sizeof want, "mcp-brokerctl %s\n",
	    json_string(result_of(resp), "version"));
	ctl_runv(&r, NULL, version);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	harness_run_free(&r);

	snprintf(want, sizeof want, "mcp-brokerd %s\n",
	    json_string(result_of(resp), "version"));
	prog_runv(&r, "mcp-brokerd", NULL, version);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	harness_run_free(&r);
	cJSON_Delete(resp);
}
END_TEST

START_TEST(test_wrong_usage_of_both_programs_is_on_stderr_with_exit_2)
{
	const char	*bad_ctl[] = { "--socket", d->sock, "no-such-command",
	    NULL };
	const char	*bad_opt[] = { "--no-such-option", NULL };
	const char	*bad_daemon[] = { "--no-such-option", NULL };
	const char	*extra[] = { "--check-config", "extra", NULL };
	struct harness_run	 r;

	ctl_runv(&r, NULL, bad_ctl);
	ctl_expect(&r, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "usage: mcp-brokerctl"));
	harness_run_free(&r);

	ctl_runv(&r, NULL, bad_opt);
	ctl_expect(&r, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "usage: mcp-brokerctl"));
	harness_run_free(&r);

	prog_runv(&r, "mcp-brokerd", NULL, bad_daemon);
	ctl_expect(&r, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "usage: mcp-brokerd"));
	harness_run_free(&r);

	prog_runv(&r, "mcp-brokerd", NULL, extra);
	ctl_expect(&r, 2);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "usage: mcp-brokerd"));
	harness_run_free(&r);
}
END_TEST

/*
 * Fail unless the run says it could not connect to path, where the path
 * came from, and how to choose another socket.
 */
static void
assert_connect_error(struct harness_run *r, const char *path, const char *where)
{
	char	want[512];

	ctl_expect(r, 2);
	ck_assert_str_eq(r->out, "");
	snprintf(want, sizeof want, "mcp-brokerctl: cannot connect to %s: ",
	    path);
	ck_assert_msg(strncmp(r->err, want, strlen(want)) == 0, "stderr: %s",
	    r->err);
	snprintf(want, sizeof want, "(%s)\n", where);
	ck_assert_msg(strstr(r->err, want) != NULL, "no \"%s\" in: %s", want,
	    r->err);
	ck_assert_msg(strstr(r->err, "\nmcp-brokerctl: is mcp-brokerd running? "
	    "Choose another socket with --socket PATH or "
	    "MCP_BROKER_SOCKET=PATH\n") != NULL, "no hint in: %s", r->err);
}

START_TEST(test_connection_error_names_the_socket_and_where_it_came_from)
{
	char		 path[400];
	const char	*given[] = { "--socket", path, "status", NULL };
	const char	*status[] = { "status", NULL };
	struct harness_run	 r;

	snprintf(path, sizeof path, "%s/no-such.sock", d->dir);
	ctl_runv(&r, NULL, given);
	assert_connect_error(&r, path, "the path given with --socket");
	harness_run_free(&r);

	ctl_runv(&r, path, status);
	assert_connect_error(&r, path, "the path in $MCP_BROKER_SOCKET");
	harness_run_free(&r);

	/* The default, unless a daemon really listens there. */
	if (access(DEFAULT_SOCKET, F_OK) != 0) {
		ctl_runv(&r, NULL, status);
		assert_connect_error(&r, DEFAULT_SOCKET, "the default path");
		harness_run_free(&r);
	}
}
END_TEST

START_TEST(test_tools_without_thread_closes_the_session_it_started)
{
	struct harness_run	 r;
	cJSON		*resp;

	ctl_run(&r, "tools", "fake", NULL);
	ctl_expect(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "counter"));
	ck_assert_str_eq(r.err, "mcp-brokerctl: no THREAD given: listing on "
	    "a session of thread \"mcp-brokerctl\", closed afterwards\n");
	harness_run_free(&r);
	ck_assert_int_eq(cJSON_GetArraySize(status_sessions(&resp)), 0);
	cJSON_Delete(resp);

	/* --json lists the same way and leaves nothing either. */
	ctl_run(&r, "tools", "--json", "fake", NULL);
	ctl_expect(&r, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "closed afterwards"));
	harness_run_free(&r);
	ck_assert_int_eq(cJSON_GetArraySize(status_sessions(&resp)), 0);
	cJSON_Delete(resp);
}
END_TEST

START_TEST(test_tools_without_thread_leaves_a_running_session_alone)
{
	struct harness_run	 r;
	cJSON		*resp, *sessions;
	char		*id;

	start_session("mcp-brokerctl");
	sessions = status_sessions(&resp);
	ck_assert_int_eq(cJSON_GetArraySize(sessions), 1);
	id = strdup(json_string(cJSON_GetArrayItem(sessions, 0), "id"));
	cJSON_Delete(resp);

	ctl_run(&r, "tools", "fake", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.err, "mcp-brokerctl: no THREAD given: listing on "
	    "the running session of thread \"mcp-brokerctl\", left running\n");
	harness_run_free(&r);

	sessions = status_sessions(&resp);
	ck_assert_int_eq(cJSON_GetArraySize(sessions), 1);
	ck_assert_str_eq(json_string(cJSON_GetArrayItem(sessions, 0), "id"),
	    id);
	cJSON_Delete(resp);
	free(id);
}
END_TEST

/* Crash the session for (fake, thread): its key's next child is the next. */
static void
crash_session(const char *thread)
{
	struct client	*c = daemon_connect(d);
	cJSON		*resp;

	resp = tool_call(c, "fake", thread, "crash", NULL);
	ck_assert_int_eq(error_code(resp), -32012);
	cJSON_Delete(resp);
	client_close(c);
}

START_TEST(test_call_on_a_new_generation_says_so_on_stderr)
{
	struct harness_run	 r;
	cJSON		*j;

	ctl_run(&r, "call", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "1\n");
	ck_assert_str_eq(r.err, "");
	harness_run_free(&r);

	crash_session("t1");
	ctl_run(&r, "call", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "1\n");
	ck_assert_str_eq(r.err, "mcp-brokerctl: session fake/t1 is "
	    "generation 2: a new server process, state from earlier calls is "
	    "gone\n");
	harness_run_free(&r);

	/* The same process again: nothing to say. */
	ctl_run(&r, "call", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "2\n");
	ck_assert_str_eq(r.err, "");
	harness_run_free(&r);

	/* --json is unchanged: the generation is in the JSON only. */
	crash_session("t1");
	ctl_run(&r, "call", "--json", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_msg((j = cJSON_Parse(r.out)) != NULL, "not JSON: %s", r.out);
	ck_assert_int_eq((int)json_number(j,
	    "_meta.mcp-broker/session.generation"), 3);
	cJSON_Delete(j);
	harness_run_free(&r);

	/* A close forgets the key: generation 1, a fresh start, no line. */
	ctl_run(&r, "close", "fake", "t1", NULL);
	ctl_expect(&r, 0);
	harness_run_free(&r);
	ctl_run(&r, "call", "fake", "t1", "counter", NULL);
	ctl_expect(&r, 0);
	ck_assert_str_eq(r.out, "1\n");
	ck_assert_str_eq(r.err, "");
	harness_run_free(&r);
}
END_TEST

static Suite *
ctl_suite(void)
{
	Suite	*s = suite_create("ctl");
	TCase	*tc;

	tc = harness_add_tcase(s, "commands", setup, teardown, 60);
	tcase_add_test(tc, test_call_prints_text_and_state_persists);
	tcase_add_test(tc, test_call_json_prints_the_whole_result);
	tcase_add_test(tc, test_call_passes_json_arguments);
	tcase_add_test(tc, test_call_of_a_failing_tool_exits_1);
	tcase_add_test(tc, test_status_prints_a_table_of_sessions);
	tcase_add_test(tc, test_status_json_lists_the_same_sessions);
	tcase_add_test(tc, test_status_with_no_sessions_prints_the_header);
	tcase_add_test(tc, test_tools_lists_tool_names);
	tcase_add_test(tc, test_tools_json_prints_the_tools);
	tcase_add_test(tc, test_close_thread_prints_how_many);
	tcase_add_test(tc, test_close_server_thread_and_all);

	tc = harness_add_tcase(s, "exit status", setup, teardown, 60);
	tcase_add_test(tc, test_unknown_tool_exits_1_with_the_message);
	tcase_add_test(tc, test_unknown_server_exits_1_with_the_message);
	tcase_add_test(tc, test_bad_usage_exits_2);
	tcase_add_test(tc, test_usage_names_the_commands);
	tcase_add_test(tc, test_no_daemon_exits_2);
	tcase_add_test(tc, test_reload_prints_what_changed);
	tcase_add_test(tc, test_reload_of_a_bad_config_exits_1);

	tc = harness_add_tcase(s, "escaping", setup_hostile, teardown, 60);
	tcase_add_test(tc, test_status_escapes_names_one_row_per_session);
	tcase_add_test(tc,
	    test_session_prints_the_same_json_without_raw_controls);
	tcase_add_test(tc, test_tools_prints_one_escaped_line_per_tool);
	tcase_add_test(tc,
	    test_call_text_keeps_its_lines_and_escapes_controls);

	tc = harness_add_tcase(s, "socket", setup, teardown, 60);
	tcase_add_test(tc, test_socket_comes_from_the_environment);

	tc = harness_add_tcase(s, "manners", setup, teardown, 60);
	tcase_add_test(tc, test_help_of_both_programs_is_on_stdout_with_exit_0);
	tcase_add_test(tc,
	    test_version_of_both_programs_is_the_daemons_version);
	tcase_add_test(tc,
	    test_wrong_usage_of_both_programs_is_on_stderr_with_exit_2);
	tcase_add_test(tc,
	    test_connection_error_names_the_socket_and_where_it_came_from);
	tcase_add_test(tc,
	    test_tools_without_thread_closes_the_session_it_started);
	tcase_add_test(tc,
	    test_tools_without_thread_leaves_a_running_session_alone);
	tcase_add_test(tc, test_call_on_a_new_generation_says_so_on_stderr);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(ctl_suite()));
}
