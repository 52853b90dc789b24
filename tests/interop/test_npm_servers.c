/*
 * Interop: real MCP servers from npm (@modelcontextprotocol/server-everything
 * and server-memory, pinned in tests/interop/package.json) run by node behind
 * the real mcp-brokerd. Without node or the packages nothing runs and a loud
 * SKIPPED line says what is missing; with MCPB_REQUIRE_INTEROP=1 (CI) that is
 * a failure, so a missing npm install never passes silently.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "../integration/harness.h"

/* The packages' "bin" entries, installed by make npm-deps. */
#define NPM_SCOPE	"tests/interop/node_modules/@modelcontextprotocol/"
#define EVERYTHING_JS	NPM_SCOPE "server-everything/dist/index.js"
#define MEMORY_JS	NPM_SCOPE "server-memory/dist/index.js"

/* Each close step's grace; a server that exits on stdin EOF beats it. */
#define INTEROP_GRACE_MS	5000

/* What node and the servers' entry files are (found once, in main). */
static char		 node_path[PATH_MAX];
static char		 everything_js[PATH_MAX];
static char		 memory_js[PATH_MAX];

static struct daemon	*d;

static char		*interop_config(void);
static void		 setup(void);
static void		 teardown(void);
static const char	*text_of(cJSON *);
static long		 last_integer_in(const char *);
static int		 has_tool(cJSON *, const char *);
static int		 has_entity(cJSON *, const char *);
static int		 is_handshake_version(const char *);
static int		 is_child_of_daemon(pid_t);
static Suite		*npm_servers_suite(void);

/*
 * The config: server-everything as "everything" (transport argument
 * "stdio"), server-memory as "memory" with its graph file in the daemon's
 * temporary directory. Built with cJSON so paths are escaped; the caller
 * frees the text.
 */
static char *
interop_config(void)
{
	cJSON	*root, *broker, *servers, *s, *args, *env;
	char	*text;

	root = cJSON_CreateObject();
	broker = cJSON_AddObjectToObject(root, "broker");
	cJSON_AddStringToObject(broker, "socket", "@SOCK@");
	cJSON_AddNumberToObject(broker, "shutdown_grace_ms", INTEROP_GRACE_MS);
	servers = cJSON_AddObjectToObject(root, "mcpServers");

	s = cJSON_AddObjectToObject(servers, "everything");
	cJSON_AddStringToObject(s, "command", node_path);
	args = cJSON_AddArrayToObject(s, "args");
	cJSON_AddItemToArray(args, cJSON_CreateString(everything_js));
	cJSON_AddItemToArray(args, cJSON_CreateString("stdio"));

	s = cJSON_AddObjectToObject(servers, "memory");
	cJSON_AddStringToObject(s, "command", node_path);
	args = cJSON_AddArrayToObject(s, "args");
	cJSON_AddItemToArray(args, cJSON_CreateString(memory_js));
	env = cJSON_AddObjectToObject(s, "env");
	cJSON_AddStringToObject(env, "MEMORY_FILE_PATH", "@DIR@/memory.jsonl");

	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return (text);
}

static void
setup(void)
{
	char	*text = interop_config();

	d = daemon_start_config(text);
	cJSON_free(text);
}

/* Stop the daemon; it must exit 0 and take every node process with it. */
static void
teardown(void)
{
	pid_t	kids[64];
	int	i, n, zombies;

	n = children_of(d->pid, kids, 64, &zombies);
	if (n > 64)
		n = 64;
	daemon_stop_ok(d);
	for (i = 0; i < n; i++)
		ck_assert_msg(wait_pid_gone(kids[i], 2 * INTEROP_GRACE_MS),
		    "child %ld of mcp-brokerd outlived it", (long)kids[i]);
}

/* The first text content of a tools/call response (fails if none). */
static const char *
text_of(cJSON *response)
{
	cJSON	*result = result_of(response), *item, *type, *text;

	ck_assert_msg(!cJSON_IsTrue(cJSON_GetObjectItem(result, "isError")),
	    "the tool failed: %s", cJSON_PrintUnformatted(result));
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(result, "content")) {
		type = cJSON_GetObjectItem(item, "type");
		text = cJSON_GetObjectItem(item, "text");
		if (cJSON_IsString(type) && strcmp(type->valuestring,
		    "text") == 0 && cJSON_IsString(text))
			return (text->valuestring);
	}
	ck_abort_msg("no text content in %s", cJSON_PrintUnformatted(result));
	return (NULL);
}

/* The last run of digits in s as a number, or -1 if there is none. */
static long
last_integer_in(const char *s)
{
	const char	*p, *start = NULL;

	for (p = s; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9' && (p == s || p[-1] < '0' ||
		    p[-1] > '9'))
			start = p;
	}
	return (start != NULL ? strtol(start, NULL, 10) : -1);
}

/* Whether a tools/list result names tool. */
static int
has_tool(cJSON *result, const char *tool)
{
	cJSON	*t, *name;

	cJSON_ArrayForEach(t, cJSON_GetObjectItem(result, "tools")) {
		name = cJSON_GetObjectItem(t, "name");
		if (cJSON_IsString(name) && strcmp(name->valuestring,
		    tool) == 0)
			return (1);
	}
	return (0);
}

/* Whether a server-memory result's structuredContent has entity name. */
static int
has_entity(cJSON *result, const char *entity)
{
	cJSON	*e, *name;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(cJSON_GetObjectItem(result,
	    "structuredContent"), "entities")) {
		name = cJSON_GetObjectItem(e, "name");
		if (cJSON_IsString(name) && strcmp(name->valuestring,
		    entity) == 0)
			return (1);
	}
	return (0);
}

/* Whether v is a protocol version with the initialize handshake. */
static int
is_handshake_version(const char *v)
{
	static const char	*versions[] = { "2024-11-05", "2025-03-26",
	    "2025-06-18", "2025-11-25" };
	size_t			 i;

	for (i = 0; i < sizeof versions / sizeof versions[0]; i++)
		if (strcmp(v, versions[i]) == 0)
			return (1);
	return (0);
}

/* Whether pid is a direct child of the daemon (no shell in between). */
static int
is_child_of_daemon(pid_t pid)
{
	pid_t	kids[64];
	int	i, n, zombies;

	n = children_of(d->pid, kids, 64, &zombies);
	for (i = 0; i < n && i < 64; i++)
		if (kids[i] == pid)
			return (1);
	return (0);
}

START_TEST(test_everything_tools_list_includes_echo_and_get_sum)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = rpc(c, "tools/list",
	    "{\"server\":\"everything\",\"thread\":\"list\"}");
	ck_assert_msg(has_tool(result_of(r), "echo"), "no echo tool in %s",
	    cJSON_PrintUnformatted(r));
	ck_assert_msg(has_tool(result_of(r), "get-sum"), "no get-sum tool "
	    "in %s", cJSON_PrintUnformatted(r));
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_everything_echo_returns_the_message)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	const char	*text;

	r = tool_call(c, "everything", "echo", "echo",
	    "{\"message\":\"hello through mcp-broker\"}");
	text = text_of(r);
	ck_assert_msg(strstr(text, "hello through mcp-broker") != NULL,
	    "echo answered \"%s\"", text);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_everything_get_sum_of_2_and_3_is_5)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;
	const char	*text;

	r = tool_call(c, "everything", "sum", "get-sum", "{\"a\":2,\"b\":3}");
	text = text_of(r);
	ck_assert_msg(last_integer_in(text) == 5, "get-sum answered \"%s\"",
	    text);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_everything_result_carries_session_meta_generation_1)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "everything", "meta", "echo", "{\"message\":\"m\"}");
	ck_assert_int_eq(generation_of(r), 1);
	ck_assert_str_ne(session_id_of(r), "");
	/* The server's own members are kept beside the broker's _meta. */
	ck_assert(cJSON_IsArray(cJSON_GetObjectItem(result_of(r),
	    "content")));
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_everything_threads_map_to_their_own_processes)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r1, *r2, *r3, *s;
	pid_t		 p1, p3;

	r1 = tool_call(c, "everything", "t1", "echo", "{\"message\":\"a\"}");
	r2 = tool_call(c, "everything", "t1", "get-sum", "{\"a\":1,\"b\":1}");
	r3 = tool_call(c, "everything", "t2", "echo", "{\"message\":\"b\"}");
	ck_assert_str_eq(session_id_of(r1), session_id_of(r2));
	ck_assert_str_ne(session_id_of(r1), session_id_of(r3));

	p1 = session_pid(c, "everything", "t1");
	p3 = session_pid(c, "everything", "t2");
	ck_assert_int_ne(p1, p3);
	ck_assert(pid_alive(p1) && is_child_of_daemon(p1));
	ck_assert(pid_alive(p3) && is_child_of_daemon(p3));

	s = session_of(c, "everything", "t1");
	ck_assert_str_eq(json_string(result_of(s), "id"), session_id_of(r1));
	ck_assert_int_eq((int)json_number(result_of(s), "calls"), 2);
	cJSON_Delete(s);
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	cJSON_Delete(r3);
	client_close(c);
}
END_TEST

START_TEST(test_session_shows_protocol_version_and_server_info)
{
	static const struct {
		const char	*server;
		const char	*name;
	} want[] = {
		{ "everything", "mcp-servers/everything" },
		{ "memory", "memory-server" },
	};
	struct client	*c = daemon_connect(d);
	cJSON		*r, *result;
	const char	*version;
	char		 params[128];
	size_t		 i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		snprintf(params, sizeof params, "{\"server\":\"%s\","
		    "\"thread\":\"info\",\"create\":true}", want[i].server);
		r = rpc(c, "broker/session", params);
		result = result_of(r);
		ck_assert_str_eq(json_string(result, "state"), "ready");
		version = json_string(result, "protocol_version");
		ck_assert_msg(is_handshake_version(version), "%s answered "
		    "protocol version \"%s\"", want[i].server, version);
		ck_assert_str_eq(json_string(result, "server_info.name"),
		    want[i].name);
		ck_assert(cJSON_IsObject(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(result, "capabilities"), "tools")));
		ck_assert_int_eq((int)json_number(result, "generation"), 1);
		cJSON_Delete(r);
	}
	client_close(c);
}
END_TEST

START_TEST(test_memory_created_entity_is_read_back_in_the_same_thread)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r1, *r2;

	r1 = tool_call(c, "memory", "m1", "create_entities",
	    "{\"entities\":[{\"name\":\"broker-entity\","
	    "\"entityType\":\"test\",\"observations\":[\"made via the "
	    "broker\"]}]}");
	ck_assert_msg(has_entity(result_of(r1), "broker-entity"),
	    "create_entities answered %s", cJSON_PrintUnformatted(r1));
	r2 = tool_call(c, "memory", "m1", "read_graph", NULL);
	ck_assert_msg(has_entity(result_of(r2), "broker-entity"),
	    "read_graph answered %s", cJSON_PrintUnformatted(r2));
	ck_assert_ptr_nonnull(strstr(text_of(r2), "made via the broker"));
	ck_assert_str_eq(session_id_of(r1), session_id_of(r2));
	ck_assert_int_eq(generation_of(r2), 1);
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	client_close(c);
}
END_TEST

START_TEST(test_memory_server_gets_memory_file_path_from_config_env)
{
	struct client	*c = daemon_connect(d);
	char		 path[512];

	snprintf(path, sizeof path, "%s/memory.jsonl", d->dir);
	cJSON_Delete(tool_call(c, "memory", "file", "create_entities",
	    "{\"entities\":[{\"name\":\"entity-on-disk\","
	    "\"entityType\":\"test\",\"observations\":[]}]}"));
	ck_assert_msg(file_contains(path, "entity-on-disk"),
	    "%s does not hold the entity: MEMORY_FILE_PATH not passed?",
	    path);
	client_close(c);
}
END_TEST

START_TEST(test_memory_graph_outlives_a_closed_session_through_its_file)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r1, *r2;
	pid_t		 pid;
	char		*first;

	r1 = tool_call(c, "memory", "m2", "create_entities",
	    "{\"entities\":[{\"name\":\"survivor\",\"entityType\":\"test\","
	    "\"observations\":[]}]}");
	first = strdup(session_id_of(r1));
	pid = session_pid(c, "memory", "m2");
	ck_assert_int_eq(close_sessions(c,
	    "{\"server\":\"memory\",\"thread\":\"m2\"}"), 1);
	ck_assert(wait_pid_gone(pid, 3 * INTEROP_GRACE_MS));

	/* A new process, generation 1 again, reading the same file. */
	r2 = tool_call(c, "memory", "m2", "read_graph", NULL);
	ck_assert_str_ne(session_id_of(r2), first);
	ck_assert_int_eq(generation_of(r2), 1);
	ck_assert_int_ne(session_pid(c, "memory", "m2"), pid);
	ck_assert_msg(has_entity(result_of(r2), "survivor"),
	    "read_graph after close answered %s", cJSON_PrintUnformatted(r2));
	free(first);
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	client_close(c);
}
END_TEST

START_TEST(test_close_ends_node_on_stdin_eof_and_leaves_no_zombie)
{
	static const char	*servers[] = { "everything", "memory" };
	struct client		*c = daemon_connect(d);
	cJSON			*r;
	char			 params[128];
	pid_t			 pid;
	long			 start, took;
	size_t			 i;
	int			 zombies;

	for (i = 0; i < sizeof servers / sizeof servers[0]; i++) {
		snprintf(params, sizeof params, "{\"server\":\"%s\","
		    "\"thread\":\"bye\",\"create\":true}", servers[i]);
		cJSON_Delete(rpc(c, "broker/session", params));
		pid = session_pid(c, servers[i], "bye");
		ck_assert(pid_alive(pid) && is_child_of_daemon(pid));

		snprintf(params, sizeof params, "{\"server\":\"%s\","
		    "\"thread\":\"bye\"}", servers[i]);
		start = now_ms();
		ck_assert_int_eq(close_sessions(c, params), 1);
		ck_assert_msg(wait_pid_gone(pid, 3 * INTEROP_GRACE_MS),
		    "%s (pid %ld) still runs after broker/close", servers[i],
		    (long)pid);
		took = now_ms() - start;
		/* Gone before the grace ran out: stdin EOF was enough. */
		ck_assert_msg(took < INTEROP_GRACE_MS, "%s took %ld ms to "
		    "exit after broker/close (grace %d ms)", servers[i], took,
		    INTEROP_GRACE_MS);
		ck_assert_msg(wait_no_children(d->pid, 3 * INTEROP_GRACE_MS),
		    "mcp-brokerd still has children after closing %s",
		    servers[i]);
		ck_assert_int_eq(children_of(d->pid, NULL, 0, &zombies), 0);
		ck_assert_int_eq(zombies, 0);

		r = rpc(c, "broker/session", params);
		ck_assert_int_eq(error_code(r), -32602);
		cJSON_Delete(r);
	}
	client_close(c);
}
END_TEST

static Suite *
npm_servers_suite(void)
{
	Suite	*s = suite_create("npm_servers");
	TCase	*tc = harness_add_tcase(s, "real MCP servers from npm", setup,
		    teardown, 90);

	tcase_add_test(tc,
	    test_everything_tools_list_includes_echo_and_get_sum);
	tcase_add_test(tc, test_everything_echo_returns_the_message);
	tcase_add_test(tc, test_everything_get_sum_of_2_and_3_is_5);
	tcase_add_test(tc,
	    test_everything_result_carries_session_meta_generation_1);
	tcase_add_test(tc,
	    test_everything_threads_map_to_their_own_processes);
	tcase_add_test(tc, test_session_shows_protocol_version_and_server_info);
	tcase_add_test(tc,
	    test_memory_created_entity_is_read_back_in_the_same_thread);
	tcase_add_test(tc,
	    test_memory_server_gets_memory_file_path_from_config_env);
	tcase_add_test(tc,
	    test_memory_graph_outlives_a_closed_session_through_its_file);
	tcase_add_test(tc,
	    test_close_ends_node_on_stdin_eof_and_leaves_no_zombie);
	return (s);
}

int
main(void)
{
	const char	*require = getenv("MCPB_REQUIRE_INTEROP");
	char		 missing[3 * PATH_MAX + 64] = "";

	if (harness_find_program("node", node_path, sizeof node_path) != 0)
		strcat(missing, "node (not on PATH)");
	snprintf(everything_js, sizeof everything_js, "%s",
	    harness_top_path(EVERYTHING_JS));
	snprintf(memory_js, sizeof memory_js, "%s",
	    harness_top_path(MEMORY_JS));
	if (access(everything_js, R_OK) != 0)
		snprintf(missing + strlen(missing), sizeof missing -
		    strlen(missing), "%s%s", *missing != '\0' ? ", " : "",
		    everything_js);
	if (access(memory_js, R_OK) != 0)
		snprintf(missing + strlen(missing), sizeof missing -
		    strlen(missing), "%s%s", *missing != '\0' ? ", " : "",
		    memory_js);
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

	return (harness_run_suite(npm_servers_suite()));
}
