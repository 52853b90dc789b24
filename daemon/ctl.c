/*
 * mcp-brokerctl: status, calls and closing for people, over the broker's
 * socket. Exit status: 0 success, 1 an error answer, 2 usage or
 * connection errors.
 *
 * What the daemon sends (names, stderr tails, tool text, error messages)
 * reaches the terminal escaped: control characters and bytes that are not
 * UTF-8 as \xNN in text, so no ESC sequence runs and no row is forged
 * (in rows a backslash is "\\"; a call's text keeps its newlines, tabs
 * and backslashes); JSON is printed as JSON with the same controls as \u
 * escapes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "defaults.h"
#include "escape.h"
#include "jsonrpc.h"
#include "mcp.h"
#include "version.h"
#include "xmalloc.h"

/* The thread `tools` uses when none is given (its session is closed after). */
#define CTL_DEFAULT_THREAD	"mcp-brokerctl"

struct ctl_command {
	const char	*name;
	int		 (*fn)(struct client *, int, char **);
	const char	*usage;
	const char	*what;		/* one line for --help */
};

static int	ctl_status(struct client *, int, char **);
static int	ctl_call(struct client *, int, char **);
static int	ctl_tools(struct client *, int, char **);
static int	ctl_close(struct client *, int, char **);
static int	ctl_reload(struct client *, int, char **);
static int	ctl_session(struct client *, int, char **);
static int	ctl_servers(struct client *, int, char **);

static const struct ctl_command ctl_commands[] = {
	{ "status", ctl_status, "status [--json]",
	    "the daemon and your sessions, as a table (or JSON)" },
	{ "call", ctl_call, "call [--json] SERVER THREAD TOOL [JSON-ARGS]",
	    "call a tool in the session for SERVER and THREAD" },
	{ "tools", ctl_tools, "tools [--json] SERVER [THREAD]",
	    "list SERVER's tools (no THREAD: on a session closed after)" },
	{ "close", ctl_close,
	    "close --thread T | --server S | --all | SERVER THREAD",
	    "close sessions; their keys start again at generation 1" },
	{ "reload", ctl_reload, "reload",
	    "make the daemon re-read its configuration" },
	{ "session", ctl_session, "session SERVER THREAD",
	    "one session in full, as JSON" },
	{ "servers", ctl_servers, "servers",
	    "the configured servers with their session counts, as JSON" },
	{ "logs", ctl_logs, "logs SERVER THREAD [-f]",
	    "a session's stderr tail; -f follows it until the session ends "
	    "or ^C (exit 0)" },
	{ "top", ctl_top, "top",
	    "a live table of the sessions on a terminal, refreshed every "
	    "second; q quits" },
	{ "metrics", ctl_metrics, "metrics",
	    "the daemon's metrics as OpenMetrics text (admins only)" },
	{ "bridge", ctl_bridge, "bridge SERVER [THREAD]",
	    "an MCP stdio server for a host, on the session for SERVER and "
	    "THREAD (default $MCP_BROKER_THREAD)" },
};

static void	ctl_help(FILE *);
static int	ctl_connect_failed(const char *, char *);
static int	ctl_probe(struct client *, const char *, const char *,
		    char **);
static int	ctl_is(const cJSON *, const char *, const char *);
static int	ctl_result_session(const cJSON *, const char **, int *);
static void	ctl_close_own(struct client *, const char *, const char *);

/* Print the usage, each command with what it does, on f. */
static void
ctl_help(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: mcp-brokerctl [--socket PATH] COMMAND [ARGS]\n"
	    "       mcp-brokerctl --help | --version\n\ncommands:\n");
	for (i = 0; i < sizeof ctl_commands / sizeof *ctl_commands; i++)
		fprintf(f, "  %s\n      %s\n", ctl_commands[i].usage,
		    ctl_commands[i].what);
	fprintf(f, "\noptions:\n"
	    "  -s, --socket PATH  the daemon's socket (else $MCP_BROKER_SOCKET, "
	    "else\n                     %s)\n"
	    "  -h, --help         print this help and exit\n"
	    "  -V, --version      print the version and exit\n\n"
	    "Exit status: 0 success, 1 an error answer, 2 a usage or "
	    "connection error.\nSee mcp-brokerctl(1).\n", DEFAULT_SOCKET);
}

/* Print how to call mcp-brokerctl on stderr and exit 2. */
void
ctl_usage(void)
{
	ctl_help(stderr);
	exit(CTL_EXIT_USAGE);
}

/*
 * Say that the socket did not answer (cause names it, where says where its
 * path came from) and how to choose another. Takes cause. Returns the
 * exit status.
 */
static int
ctl_connect_failed(const char *where, char *cause)
{
	char	*safe;

	safe = escape_dup(cause, strlen(cause), 0);
	fprintf(stderr, "mcp-brokerctl: %s (%s)\n", safe, where);
	fprintf(stderr, "mcp-brokerctl: is mcp-brokerd running? Choose "
	    "another socket with --socket PATH or MCP_BROKER_SOCKET=PATH\n");
	free(safe);
	free(cause);
	return (CTL_EXIT_USAGE);
}

/*
 * Ask whether a session of ours for (server, thread) is running, without
 * starting one: *id is its id (caller frees), or NULL if there is none.
 * It reads broker/status, whose answer is never an error for a key with
 * no session (broker/session's would count in the daemon's metrics).
 * Returns an exit status (CTL_EXIT_USAGE if the daemon could not be
 * asked).
 */
static int
ctl_probe(struct client *c, const char *server, const char *thread,
    char **id)
{
	cJSON	*answer, *s, *sid;
	char	*cause;

	*id = NULL;
	if ((answer = client_call(c, "broker/status", NULL, CTL_TIMEOUT_MS,
	    &cause)) == NULL) {
		fprintf(stderr, "mcp-brokerctl: %s\n", cause);
		free(cause);
		return (CTL_EXIT_USAGE);
	}
	/* An admin sees every user's sessions: ours are under our uid. */
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(answer, "result"), "sessions")) {
		sid = cJSON_GetObjectItemCaseSensitive(s, "id");
		if (ctl_is(s, "server", server) && ctl_is(s, "thread", thread) &&
		    cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "uid")) &&
		    (uid_t)cJSON_GetObjectItemCaseSensitive(s,
		    "uid")->valuedouble == getuid() && cJSON_IsString(sid)) {
			*id = xstrdup(sid->valuestring);
			break;
		}
	}
	cJSON_Delete(answer);
	return (CTL_EXIT_OK);
}

/* Whether member name of obj is the string value. */
static int
ctl_is(const cJSON *obj, const char *name, const char *value)
{
	const cJSON	*item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return (cJSON_IsString(item) && strcmp(item->valuestring, value) == 0);
}

/*
 * The session a forwarded result names in _meta["mcp-broker/session"]:
 * its id and generation. Returns 0, or -1 if the result names none.
 */
static int
ctl_result_session(const cJSON *r, const char **id, int *generation)
{
	cJSON	*meta, *sid, *gen;

	meta = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(r, "_meta"), MCP_META_SESSION);
	sid = cJSON_GetObjectItemCaseSensitive(meta, "id");
	gen = cJSON_GetObjectItemCaseSensitive(meta, "generation");
	if (!cJSON_IsString(sid) || !cJSON_IsNumber(gen))
		return (-1);
	*id = sid->valuestring;
	*generation = gen->valueint;
	return (0);
}

/*
 * Call method and put the result in *result (caller owns it). Returns an
 * exit status: an error answer is printed and gives CTL_EXIT_ANSWER.
 */
int
ctl_request(struct client *c, const char *method, cJSON *params,
    cJSON **result)
{
	cJSON	*answer;
	char	*cause;

	*result = NULL;
	if ((answer = client_call(c, method, params, CTL_TIMEOUT_MS,
	    &cause)) == NULL) {
		fprintf(stderr, "mcp-brokerctl: %s\n", cause);
		free(cause);
		return (CTL_EXIT_USAGE);
	}
	return (ctl_answer(answer, result));
}

/*
 * Take an answer (freed here): its result goes to *result (caller owns
 * it), or its error is printed and gives CTL_EXIT_ANSWER.
 */
int
ctl_answer(cJSON *answer, cJSON **result)
{
	cJSON	*error, *code, *message, *data;
	char	*text;

	*result = NULL;
	if ((error = cJSON_GetObjectItemCaseSensitive(answer, "error")) !=
	    NULL) {
		code = cJSON_GetObjectItemCaseSensitive(error, "code");
		message = cJSON_GetObjectItemCaseSensitive(error, "message");
		data = cJSON_GetObjectItemCaseSensitive(error, "data");
		text = ctl_text(message, CTL_ESCAPE_ROW);
		fprintf(stderr, "mcp-brokerctl: error %d: %s\n",
		    cJSON_IsNumber(code) ? code->valueint : 0, text);
		free(text);
		if (data != NULL)
			ctl_fprint_json(stderr, data);
		cJSON_Delete(answer);
		return (CTL_EXIT_ANSWER);
	}
	*result = cJSON_DetachItemFromObjectCaseSensitive(answer, "result");
	cJSON_Delete(answer);
	return (CTL_EXIT_OK);
}

/* Print a tree as indented JSON on stdout. */
void
ctl_print_json(const cJSON *item)
{
	ctl_fprint_json(stdout, item);
}

/* Print a tree as indented JSON, safe for a terminal (escape_json). */
void
ctl_fprint_json(FILE *f, const cJSON *item)
{
	char	*text, *safe;

	text = cJSON_Print(item);
	safe = escape_json(text);
	fprintf(f, "%s\n", safe);
	free(safe);
	free(text);
}

/*
 * A string from the daemon, escaped for the terminal (flags as for
 * escape_text); "?" if it is not a string. The caller frees it.
 */
char *
ctl_text(const cJSON *item, int flags)
{
	if (!cJSON_IsString(item))
		return (xstrdup("?"));
	return (escape_dup(item->valuestring, strlen(item->valuestring),
	    flags));
}

/* Take a leading --json off the arguments. */
int
ctl_json_flag(int *argc, char ***argv)
{
	if (*argc > 0 && strcmp((*argv)[0], "--json") == 0) {
		(*argc)--;
		(*argv)++;
		return (1);
	}
	return (0);
}

/* Seconds as "42s", "7m", "3h", "2d". */
void
ctl_duration(char *buf, size_t len, double s)
{
	if (s < 120)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0fm", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%.0fh", s / 3600);
	else
		snprintf(buf, len, "%.0fd", s / 86400);
}

/* The string member name of obj, escaped for a row (caller frees). */
char *
ctl_field(const cJSON *obj, const char *name)
{
	return (ctl_text(cJSON_GetObjectItem(obj, name), CTL_ESCAPE_ROW));
}

/* status: the sessions as a table, or everything as JSON. */
static int
ctl_status(struct client *c, int argc, char **argv)
{
	cJSON		*r, *sessions, *s;
	char		 age[16], idle[16], up[16];
	char		*version, *server, *thread, *state;
	int		 rc, json;

	json = ctl_json_flag(&argc, &argv);
	if (argc != 0)
		ctl_usage();
	if ((rc = ctl_request(c, "broker/status", NULL, &r)) != CTL_EXIT_OK)
		return (rc);
	if (json) {
		ctl_print_json(r);
		cJSON_Delete(r);
		return (CTL_EXIT_OK);
	}
	sessions = cJSON_GetObjectItem(r, "sessions");
	ctl_duration(up, sizeof up, cJSON_GetObjectItem(r,
	    "uptime_s")->valuedouble);
	version = ctl_field(r, "version");
	printf("mcp-brokerd %s, pid %d, up %s, %d of %d sessions\n",
	    version, cJSON_GetObjectItem(r, "pid")->valueint, up,
	    cJSON_GetArraySize(sessions),
	    cJSON_GetObjectItem(r, "max_sessions")->valueint);
	free(version);
	if (cJSON_GetArraySize(sessions) == 0) {
		cJSON_Delete(r);
		return (CTL_EXIT_OK);
	}
	printf("\n%-16s %-24s %8s %-9s %4s %6s %6s %7s %9s\n", "SERVER",
	    "THREAD", "PID", "STATE", "GEN", "AGE", "IDLE", "CALLS",
	    "IN-FLIGHT");
	cJSON_ArrayForEach(s, sessions) {
		ctl_duration(age, sizeof age,
		    cJSON_GetObjectItem(s, "age_s")->valuedouble);
		ctl_duration(idle, sizeof idle,
		    cJSON_GetObjectItem(s, "idle_s")->valuedouble);
		/* One row per session, whatever its names hold. */
		server = ctl_field(s, "server");
		thread = ctl_field(s, "thread");
		state = ctl_field(s, "state");
		printf("%-16s %-24s %8d %-9s %4d %6s %6s %7.0f %9d\n",
		    server, thread, cJSON_GetObjectItem(s, "pid")->valueint,
		    state, cJSON_GetObjectItem(s, "generation")->valueint, age,
		    idle, cJSON_GetObjectItem(s, "calls")->valuedouble,
		    cJSON_GetObjectItem(s, "in_flight")->valueint);
		free(server);
		free(thread);
		free(state);
	}
	cJSON_Delete(r);
	return (CTL_EXIT_OK);
}

/*
 * call: one tools/call; prints its text content, or the result as JSON.
 * In text, a call answered by a new process for a key that had one before
 * (generation > 1) says so on stderr: what the server kept is gone.
 */
static int
ctl_call(struct client *c, int argc, char **argv)
{
	cJSON		*params, *args = NULL, *r, *content, *item, *text;
	cJSON		*is_error;
	const char	*id;
	char		*safe, *before = NULL, *server, *thread;
	int		 rc, json, printed = 0, generation;

	json = ctl_json_flag(&argc, &argv);
	if (argc != 3 && argc != 4)
		ctl_usage();
	if (argc == 4 && ((args = cJSON_Parse(argv[3])) == NULL ||
	    !cJSON_IsObject(args))) {
		fprintf(stderr, "mcp-brokerctl: JSON-ARGS must be a JSON "
		    "object, e.g. '{\"text\":\"hi\"}'\n");
		cJSON_Delete(args);
		return (CTL_EXIT_USAGE);
	}
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", argv[0]);
	cJSON_AddStringToObject(params, "thread", argv[1]);
	cJSON_AddStringToObject(params, "name", argv[2]);
	cJSON_AddItemToObject(params, "arguments", args != NULL ? args :
	    cJSON_CreateObject());
	/* Which process held the key before, to tell a new one after. */
	if (!json && (rc = ctl_probe(c, argv[0], argv[1], &before)) !=
	    CTL_EXIT_OK) {
		cJSON_Delete(params);
		return (rc);
	}
	if ((rc = ctl_request(c, "tools/call", params, &r)) != CTL_EXIT_OK) {
		free(before);
		return (rc);
	}
	is_error = cJSON_GetObjectItemCaseSensitive(r, "isError");
	if (json)
		ctl_print_json(r);
	else {
		if (ctl_result_session(r, &id, &generation) == 0 &&
		    generation > 1 && (before == NULL ||
		    strcmp(before, id) != 0)) {
			server = escape_dup(argv[0], strlen(argv[0]),
			    CTL_ESCAPE_ROW);
			thread = escape_dup(argv[1], strlen(argv[1]),
			    CTL_ESCAPE_ROW);
			fprintf(stderr, "mcp-brokerctl: session %s/%s is "
			    "generation %d: a new server process, state from "
			    "earlier calls is gone\n", server, thread,
			    generation);
			free(server);
			free(thread);
		}
		content = cJSON_GetObjectItemCaseSensitive(r, "content");
		cJSON_ArrayForEach(item, content) {
			text = cJSON_GetObjectItemCaseSensitive(item, "text");
			/* Text keeps its lines; nothing else is raw. */
			if (cJSON_IsString(text)) {
				safe = ctl_text(text, ESCAPE_KEEP_NEWLINES);
				printf("%s\n", safe);
				free(safe);
				printed = 1;
			}
		}
		if (!printed)
			ctl_print_json(r);
	}
	rc = cJSON_IsTrue(is_error) ? CTL_EXIT_ANSWER : CTL_EXIT_OK;
	free(before);
	cJSON_Delete(r);
	return (rc);
}

/*
 * Close the session for (server, thread) that this run started, quietly;
 * only a failure to reach the daemon is said.
 */
static void
ctl_close_own(struct client *c, const char *server, const char *thread)
{
	cJSON	*params, *answer;
	char	*cause;

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", server);
	cJSON_AddStringToObject(params, "thread", thread);
	if ((answer = client_call(c, "broker/close", params, CTL_TIMEOUT_MS,
	    &cause)) == NULL) {
		fprintf(stderr, "mcp-brokerctl: could not close the session "
		    "of thread \"%s\": %s\n", thread, cause);
		free(cause);
		return;
	}
	cJSON_Delete(answer);
}

/*
 * tools: the server's tools, a line each. Without THREAD they are listed
 * on a session of CTL_DEFAULT_THREAD, closed afterwards if this run
 * started it (one that was running already is left as it was).
 */
static int
ctl_tools(struct client *c, int argc, char **argv)
{
	cJSON		*params, *r, *tool, *name, *desc;
	const char	*thread;
	char		*safe_name, *safe_desc, *before = NULL;
	int		 rc, json, own = 0;

	json = ctl_json_flag(&argc, &argv);
	if (argc != 1 && argc != 2)
		ctl_usage();
	thread = argc == 2 ? argv[1] : CTL_DEFAULT_THREAD;
	if (argc == 1) {
		if ((rc = ctl_probe(c, argv[0], thread, &before)) !=
		    CTL_EXIT_OK)
			return (rc);
		own = before == NULL;
		fprintf(stderr, "mcp-brokerctl: no THREAD given: listing on %s "
		    "session of thread \"%s\", %s\n", own ? "a" : "the running",
		    thread, own ? "closed afterwards" : "left running");
		free(before);
	}
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", argv[0]);
	cJSON_AddStringToObject(params, "thread", thread);
	rc = ctl_request(c, "tools/list", params, &r);
	/* Even after an error: a session may have started meanwhile. */
	if (own)
		ctl_close_own(c, argv[0], thread);
	if (rc != CTL_EXIT_OK)
		return (rc);
	if (json)
		ctl_print_json(r);
	else {
		cJSON_ArrayForEach(tool, cJSON_GetObjectItem(r, "tools")) {
			/* One line per tool, whatever its texts hold. */
			name = cJSON_GetObjectItem(tool, "name");
			desc = cJSON_GetObjectItem(tool, "description");
			safe_name = ctl_text(name, CTL_ESCAPE_ROW);
			safe_desc = cJSON_IsString(desc) ? ctl_text(desc,
			    CTL_ESCAPE_ROW) : xstrdup("");
			printf("%-24s %s\n", safe_name, safe_desc);
			free(safe_name);
			free(safe_desc);
		}
	}
	cJSON_Delete(r);
	return (CTL_EXIT_OK);
}

/* close: sessions by thread, server, both, or all. */
static int
ctl_close(struct client *c, int argc, char **argv)
{
	cJSON	*params, *r;
	int	 rc;

	params = cJSON_CreateObject();
	if (argc == 2 && strcmp(argv[0], "--thread") == 0)
		cJSON_AddStringToObject(params, "thread", argv[1]);
	else if (argc == 2 && strcmp(argv[0], "--server") == 0)
		cJSON_AddStringToObject(params, "server", argv[1]);
	else if (argc == 1 && strcmp(argv[0], "--all") == 0)
		cJSON_AddTrueToObject(params, "all");
	else if (argc == 2 && argv[0][0] != '-') {
		cJSON_AddStringToObject(params, "server", argv[0]);
		cJSON_AddStringToObject(params, "thread", argv[1]);
	} else {
		cJSON_Delete(params);
		ctl_usage();
	}
	if ((rc = ctl_request(c, "broker/close", params, &r)) != CTL_EXIT_OK)
		return (rc);
	printf("closed %d session%s\n", cJSON_GetObjectItem(r,
	    "closed")->valueint, cJSON_GetObjectItem(r,
	    "closed")->valueint == 1 ? "" : "s");
	cJSON_Delete(r);
	return (CTL_EXIT_OK);
}

/* reload: ask the daemon to re-read its configuration. */
static int
ctl_reload(struct client *c, int argc, char **argv)
{
	cJSON	*r;
	int	 rc;

	(void)argv;
	if (argc != 0)
		ctl_usage();
	if ((rc = ctl_request(c, "broker/reload", NULL, &r)) != CTL_EXIT_OK)
		return (rc);
	ctl_print_json(r);
	cJSON_Delete(r);
	return (CTL_EXIT_OK);
}

/* session: one session in full, as JSON. */
static int
ctl_session(struct client *c, int argc, char **argv)
{
	cJSON	*params, *r;
	int	 rc;

	if (argc != 2)
		ctl_usage();
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", argv[0]);
	cJSON_AddStringToObject(params, "thread", argv[1]);
	if ((rc = ctl_request(c, "broker/session", params, &r)) !=
	    CTL_EXIT_OK)
		return (rc);
	ctl_print_json(r);
	cJSON_Delete(r);
	return (CTL_EXIT_OK);
}

/* servers: the configured servers, as JSON. */
static int
ctl_servers(struct client *c, int argc, char **argv)
{
	cJSON	*r;
	int	 rc;

	(void)argv;
	if (argc != 0)
		ctl_usage();
	if ((rc = ctl_request(c, "broker/servers", NULL, &r)) != CTL_EXIT_OK)
		return (rc);
	ctl_print_json(r);
	cJSON_Delete(r);
	return (CTL_EXIT_OK);
}

/* metrics: the daemon's metrics as OpenMetrics text, as /metrics has them. */
int
ctl_metrics(struct client *c, int argc, char **argv)
{
	cJSON	*r, *text;
	int	 rc;

	(void)argv;
	if (argc != 0)
		ctl_usage();
	if ((rc = ctl_request(c, "broker/metrics", NULL, &r)) != CTL_EXIT_OK)
		return (rc);
	text = cJSON_GetObjectItemCaseSensitive(r, "text");
	if (!cJSON_IsString(text)) {
		fprintf(stderr, "mcp-brokerctl: the daemon sent no metrics "
		    "text\n");
		cJSON_Delete(r);
		return (CTL_EXIT_ANSWER);
	}
	/* The daemon writes it; names in it are escaped as labels are. */
	fputs(text->valuestring, stdout);
	cJSON_Delete(r);
	return (CTL_EXIT_OK);
}

/* mcp-brokerctl: parse the command line and run one command. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*path = NULL, *where = "the path given with --socket", *env;
	struct client	*c;
	char		*cause;
	size_t		 i;
	int		 ch, rc;

	/* Stop at the command: its own flags (--json) follow it. */
	while ((ch = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'h':
			ctl_help(stdout);
			return (CTL_EXIT_OK);
		case 'V':
			printf("mcp-brokerctl %s\n", BROKER_VERSION);
			return (CTL_EXIT_OK);
		default:
			ctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		ctl_usage();
	for (i = 0; i < sizeof ctl_commands / sizeof *ctl_commands; i++) {
		if (strcmp(argv[0], ctl_commands[i].name) == 0)
			break;
	}
	if (i == sizeof ctl_commands / sizeof *ctl_commands)
		ctl_usage();

	xmalloc_cjson_hooks();
	if (path == NULL) {
		env = getenv("MCP_BROKER_SOCKET");
		where = env != NULL && *env != '\0' ? "the path in $MCP_BROKER_SOCKET" :
		    "the default path";
		path = client_default_socket();
	}
	if ((c = client_connect(path, &cause)) == NULL)
		return (ctl_connect_failed(where, cause));
	rc = ctl_commands[i].fn(c, argc - 1, argv + 1);
	client_close(c);
	return (rc);
}
