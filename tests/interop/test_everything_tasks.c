/*
 * Interop: a task of the real server-everything (its task-only tool
 * simulate-research-query, four stages of a second each) run through the
 * real mcp-brokerd with idle_timeout_s 1: the session is not expired
 * while the task runs, and tasks/result brings its report from the same
 * child. Without node or the package nothing runs and a loud SKIPPED line
 * says what is missing; with MCPB_REQUIRE_INTEROP=1 that is a failure.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "../integration/harness.h"
#include "xmalloc.h"

#define EVERYTHING_JS	"tests/interop/node_modules/@modelcontextprotocol/" \
			"server-everything/dist/index.js"
#define RESEARCH_TOOL	"simulate-research-query"

static char		 node_path[PATH_MAX];
static char		 everything_js[PATH_MAX];
static struct daemon	*d;

/* The daemon: server-everything as "everything", idle_timeout_s 1. */
static void
setup(void)
{
	cJSON	*root, *broker, *s, *args;
	char	*text;

	root = cJSON_CreateObject();
	broker = cJSON_AddObjectToObject(root, "broker");
	cJSON_AddStringToObject(broker, "socket", "@SOCK@");
	cJSON_AddNumberToObject(broker, "idle_timeout_s", 1);
	s = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root,
	    "mcpServers"), "everything");
	cJSON_AddStringToObject(s, "command", node_path);
	args = cJSON_AddArrayToObject(s, "args");
	cJSON_AddItemToArray(args, cJSON_CreateString(everything_js));
	cJSON_AddItemToArray(args, cJSON_CreateString("stdio"));
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	d = daemon_start_config(text);
	free(text);
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* The next message that is not a notification (the caller frees it). */
static cJSON *
recv_answer(struct client *c)
{
	cJSON	*m;

	for (;;) {
		m = recv_msg(c);
		if (cJSON_GetObjectItem(m, "id") != NULL)
			return (m);
		cJSON_Delete(m);
	}
}

START_TEST(test_a_research_task_keeps_its_session_and_gives_its_result)
{
	struct client	*c = daemon_connect(d);
	cJSON		*m, *content;
	char		*line, *task_id;
	pid_t		 pid;

	send_call(c, 1, "everything", "t1", RESEARCH_TOOL,
	    "{\"topic\":\"brokers\"}", "\"task\":{\"ttl\":60000}");
	m = recv_answer(c);
	task_id = xstrdup(json_string(result_of(m), "task.taskId"));
	ck_assert_str_eq(json_string(result_of(m), "task.status"), "working");
	cJSON_Delete(m);
	pid = session_pid(c, "everything", "t1");

	/* Past idle_timeout_s twice over with nothing in flight. */
	sleep_ms(2500);
	ck_assert_int_eq(session_count(c), 1);
	ck_assert_int_eq(session_pid(c, "everything", "t1"), pid);

	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tasks/result\",\"params\":{\"server\":\"everything\","
	    "\"thread\":\"t1\",\"taskId\":\"%s\"}}", task_id);
	send_line(c, line);
	free(line);
	m = recv_answer(c);
	ck_assert_double_eq(json_number(m, "id"), 2);
	content = cJSON_GetArrayItem(cJSON_GetObjectItem(result_of(m),
	    "content"), 0);
	ck_assert_ptr_nonnull(strstr(json_string(content, "text"),
	    "Research Report: brokers"));
	cJSON_Delete(m);
	ck_assert_int_eq(session_pid(c, "everything", "t1"), pid);
	free(task_id);
	client_close(c);
}
END_TEST

static Suite *
everything_tasks_suite(void)
{
	Suite	*s = suite_create("everything_tasks");
	TCase	*tc;

	tc = harness_add_tcase(s, "tasks", setup, teardown, 60);
	tcase_add_test(tc,
	    test_a_research_task_keeps_its_session_and_gives_its_result);
	return (s);
}

int
main(void)
{
	const char	*require = getenv("MCPB_REQUIRE_INTEROP");
	char		 missing[PATH_MAX + 64] = "";

	if (harness_find_program("node", node_path, sizeof node_path) != 0)
		strcat(missing, "node (not on PATH)");
	snprintf(everything_js, sizeof everything_js, "%s",
	    harness_top_path(EVERYTHING_JS));
	if (access(everything_js, R_OK) != 0)
		snprintf(missing + strlen(missing), sizeof missing -
		    strlen(missing), "%s%s", *missing != '\0' ? ", " : "",
		    everything_js);
	if (*missing != '\0') {
		fprintf(stderr, "*** SKIPPED: interop tests need node and npm "
		    "packages (run make npm-deps): %s ***\n", missing);
		if (require != NULL && strcmp(require, "1") == 0) {
			fprintf(stderr, "*** MCPB_REQUIRE_INTEROP=1: a skip is "
			    "a failure ***\n");
			return (1);
		}
		return (0);
	}
	return (harness_run_suite(everything_tasks_suite()));
}
