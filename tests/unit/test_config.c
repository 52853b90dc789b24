/*
 * The configuration file: defaults, what parses, and every error naming
 * its JSON path.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "defaults.h"
#include "xmalloc.h"

static struct config	*parse_q(const char *, struct config_diag *);
static int		 has_message(char **, size_t, const char *);
static int		 has_error(const struct config_diag *, const char *);
static int		 has_warning(const struct config_diag *, const char *);
static void		 expect_error(const char *, const char *);
static void		 expect_server_error(const char *, const char *);
static struct config	*parse_server(const char *);
static struct config	*parse_clean(const char *);
static void		 expect_server_differs(const char *, const char *);
static char		*array_of(size_t, const char *);
static char		*read_text(const char *, size_t *);
static char		*replace(const char *, const char *, const char *);
static char		*top_path(const char *);
static char		*temp_file(const char *, size_t);
static Suite		*config_suite(void);

/*
 * Parse JSON written with single quotes (the tests read better without
 * backslashes); no test text needs a real apostrophe.
 */
static struct config *
parse_q(const char *q, struct config_diag *diag)
{
	struct config	*conf;
	char		*text, *p;

	text = xstrdup(q);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	conf = config_parse(text, strlen(text), diag);
	free(text);
	return (conf);
}

/* Whether msg is one of a list of messages, exactly. */
static int
has_message(char **list, size_t n, const char *msg)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(list[i], msg) == 0)
			return (1);
	}
	return (0);
}

/* Whether diag holds this exact error. */
static int
has_error(const struct config_diag *diag, const char *msg)
{
	return (has_message(diag->errors, diag->nerrors, msg));
}

/* Whether diag holds this exact warning. */
static int
has_warning(const struct config_diag *diag, const char *msg)
{
	return (has_message(diag->warnings, diag->nwarnings, msg));
}

/* Parse q, expecting failure with exactly one error, msg. */
static void
expect_error(const char *q, const char *msg)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q(q, &diag);
	ck_assert_ptr_null(conf);
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0], msg);
	config_diag_clear(&diag);
}

/* Parse one server entry "x" with the given body; expect exactly msg. */
static void
expect_server_error(const char *body, const char *msg)
{
	char	*q;

	xasprintf(&q, "{'mcpServers':{'x':%s}}", body);
	expect_error(q, msg);
	free(q);
}

/* Parse one server entry "x" with the given body; expect no messages. */
static struct config *
parse_server(const char *body)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;
	char			*q;

	xasprintf(&q, "{'mcpServers':{'x':%s}}", body);
	conf = parse_q(q, &diag);
	free(q);
	ck_assert_msg(conf != NULL, "%s", diag.nerrors ? diag.errors[0] : "");
	ck_assert_uint_eq(diag.nwarnings, 0);
	ck_assert_ptr_nonnull(config_find_server(conf, "x"));
	return (conf);
}

/* Parse q, expecting success with no error and no warning. */
static struct config *
parse_clean(const char *q)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q(q, &diag);
	ck_assert_msg(conf != NULL, "%s", diag.nerrors ? diag.errors[0] : "");
	ck_assert_msg(diag.nwarnings == 0, "%s", diag.nwarnings ?
	    diag.warnings[0] : "");
	config_diag_clear(&diag);
	return (conf);
}

/* Expect server entries a and b to compare unequal, either way round. */
static void
expect_server_differs(const char *a, const char *b)
{
	struct config	*ca, *cb;

	ca = parse_server(a);
	cb = parse_server(b);
	ck_assert_msg(config_server_equal(config_find_server(ca, "x"),
	    config_find_server(cb, "x")) == 0, "%s vs %s", a, b);
	ck_assert_msg(config_server_equal(config_find_server(cb, "x"),
	    config_find_server(ca, "x")) == 0, "%s vs %s", b, a);
	config_free(ca);
	config_free(cb);
}

/* A JSON array of n copies of the JSON value root, for bound tests. */
static char *
array_of(size_t n, const char *root)
{
	char	*q, *next;
	size_t	 i;

	q = xstrdup("[");
	for (i = 0; i < n; i++) {
		xasprintf(&next, "%s%s%s", q, i == 0 ? "" : ",", root);
		free(q);
		q = next;
	}
	xasprintf(&next, "%s]", q);
	free(q);
	return (next);
}

/* The whole of a file, NUL-terminated, or NULL. */
static char *
read_text(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 size;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)size + 1);
	*len = fread(buf, 1, (size_t)size, f);
	buf[*len] = '\0';
	fclose(f);
	return (buf);
}

/* A copy of s with every from replaced by to. */
static char *
replace(const char *s, const char *from, const char *to)
{
	char		*out, *tail;
	const char	*p;

	if ((p = strstr(s, from)) == NULL)
		return (xstrdup(s));
	tail = replace(p + strlen(from), from, to);
	xasprintf(&out, "%.*s%s%s", (int)(p - s), s, to, tail);
	free(tail);
	return (out);
}

/* A path in the source tree: MCPB_TOP when make runs us, else ".". */
static char *
top_path(const char *rel)
{
	const char	*top;
	char		*path;

	if ((top = getenv("MCPB_TOP")) == NULL)
		top = ".";
	xasprintf(&path, "%s/%s", top, rel);
	return (path);
}

/* A new temporary file holding len bytes of text; returns its path. */
static char *
temp_file(const char *text, size_t len)
{
	char	*path;
	int	 fd;

	path = xstrdup("/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return (path);
}

/* Defaults. */

START_TEST(test_default_has_the_documented_values)
{
	struct config	*conf;

	conf = config_default();
	ck_assert_str_eq(conf->socket, "/run/mcp-broker/mcp-broker.sock");
	ck_assert_uint_eq(conf->socket_mode, 0660);
	ck_assert_int_eq(conf->max_sessions, 256);
	ck_assert_int_eq(conf->max_clients, 1024);
	ck_assert_int_eq(conf->idle_timeout_s, 1800);
	ck_assert_int_eq(conf->request_timeout_s, 120);
	ck_assert_int_eq(conf->max_request_timeout_s, 3600);
	ck_assert_int_eq(conf->start_timeout_s, 30);
	ck_assert_int_eq(conf->shutdown_grace_ms, 2000);
	ck_assert_uint_eq(conf->max_message_bytes, 16777216);
	ck_assert_int_eq(conf->log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(conf->nservers, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_empty_object_gives_defaults_and_no_servers)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{}", &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_uint_eq(diag.nwarnings, 0);
	ck_assert_str_eq(conf->socket, DEFAULT_SOCKET);
	ck_assert_int_eq(conf->max_sessions, 256);
	ck_assert_uint_eq(conf->nservers, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_empty_mcpservers_object_is_accepted)
{
	struct config	*conf;

	conf = parse_q("{'broker':{},'mcpServers':{}}", NULL);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(conf->nservers, 0);
	config_free(conf);
}
END_TEST

/* Valid configs. */

START_TEST(test_playwright_example_parses)
{
	struct config_diag		 diag = { 0 };
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_q("{"
	    "'broker':{"
	    "'socket':'/run/mcp-broker/mcp-broker.sock',"
	    "'socket_mode':'0660','max_sessions':256,'idle_timeout_s':1800,"
	    "'request_timeout_s':120,'start_timeout_s':30,"
	    "'shutdown_grace_ms':2000,'max_message_bytes':16777216,"
	    "'log_level':'info'},"
	    "'mcpServers':{'playwright':{'command':'npx',"
	    "'args':['@playwright/mcp','--headless','--isolated'],"
	    "'env':{'PLAYWRIGHT_BROWSERS_PATH':"
	    "'/var/lib/mcp-broker/browsers'},"
	    "'cwd':'/var/lib/mcp-broker','max_sessions':32}}}", &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_uint_eq(diag.nwarnings, 0);
	ck_assert_uint_eq(conf->nservers, 1);
	sc = config_find_server(conf, "playwright");
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->command, "npx");
	ck_assert_uint_eq(sc->argc, 4);
	ck_assert_str_eq(sc->argv[0], "npx");
	ck_assert_str_eq(sc->argv[1], "@playwright/mcp");
	ck_assert_str_eq(sc->argv[3], "--isolated");
	ck_assert_ptr_null(sc->argv[4]);
	ck_assert_uint_eq(sc->envc, 1);
	ck_assert_str_eq(sc->env[0],
	    "PLAYWRIGHT_BROWSERS_PATH=/var/lib/mcp-broker/browsers");
	ck_assert_ptr_null(sc->env[1]);
	ck_assert_str_eq(sc->cwd, "/var/lib/mcp-broker");
	ck_assert_int_eq(sc->max_sessions, 32);
	ck_assert_int_eq(sc->disabled, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_every_key_is_applied)
{
	struct config_diag		 diag = { 0 };
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_q("{"
	    "'broker':{'socket':'relative.sock','socket_mode':'600',"
	    "'max_sessions':10,'max_clients':20,'idle_timeout_s':0,"
	    "'request_timeout_s':5,'max_request_timeout_s':50,"
	    "'start_timeout_s':7,'shutdown_grace_ms':0,"
	    "'max_message_bytes':1024,'log_level':'debug'},"
	    "'mcpServers':{'a.b_c-1':{'command':'/bin/cat','args':[],"
	    "'env':{},'cwd':'/tmp','max_sessions':0,'idle_timeout_s':0,"
	    "'request_timeout_s':50,'start_timeout_s':1,"
	    "'disabled':true}}}", &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_str_eq(conf->socket, "relative.sock");
	ck_assert_uint_eq(conf->socket_mode, 0600);
	ck_assert_int_eq(conf->max_sessions, 10);
	ck_assert_int_eq(conf->max_clients, 20);
	ck_assert_int_eq(conf->idle_timeout_s, 0);
	ck_assert_int_eq(conf->request_timeout_s, 5);
	ck_assert_int_eq(conf->max_request_timeout_s, 50);
	ck_assert_int_eq(conf->start_timeout_s, 7);
	ck_assert_int_eq(conf->shutdown_grace_ms, 0);
	ck_assert_uint_eq(conf->max_message_bytes, 1024);
	ck_assert_int_eq(conf->log_level, LOG_LEVEL_DEBUG);
	sc = config_find_server(conf, "a.b_c-1");
	ck_assert_ptr_nonnull(sc);
	ck_assert_uint_eq(sc->argc, 1);
	ck_assert_str_eq(sc->argv[0], "/bin/cat");
	ck_assert_ptr_null(sc->argv[1]);
	ck_assert_uint_eq(sc->envc, 0);
	ck_assert_ptr_nonnull(sc->env);
	ck_assert_ptr_null(sc->env[0]);
	ck_assert_str_eq(sc->cwd, "/tmp");
	ck_assert_int_eq(sc->max_sessions, 0);
	ck_assert_int_eq(sc->idle_timeout_s, 0);
	ck_assert_int_eq(sc->request_timeout_s, 50);
	ck_assert_int_eq(sc->start_timeout_s, 1);
	ck_assert_int_eq(sc->disabled, 1);
	config_free(conf);
}
END_TEST

START_TEST(test_containment_keys_are_applied_and_checked)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_clean("{}");
	ck_assert_str_eq(conf->cgroup, "auto");
	config_free(conf);
	conf = parse_clean("{'broker':{'cgroup':'off'}}");
	ck_assert_str_eq(conf->cgroup, "off");
	config_free(conf);
	conf = parse_clean("{'broker':{'cgroup':'/sys/fs/cgroup/x'}}");
	ck_assert_str_eq(conf->cgroup, "/sys/fs/cgroup/x");
	config_free(conf);
	expect_error("{'broker':{'cgroup':'yes'}}", "broker.cgroup: expected "
	    "\"auto\", \"off\" or an absolute path");

	conf = parse_server("{'command':'x','memory_max':1073741824,"
	    "'pids_max':100,'cpu_weight':50}");
	sc = config_find_server(conf, "x");
	ck_assert(sc->memory_max == 1073741824LL);
	ck_assert_int_eq(sc->pids_max, 100);
	ck_assert_int_eq(sc->cpu_weight, 50);
	config_free(conf);
	conf = parse_server("{'command':'x'}");
	sc = config_find_server(conf, "x");
	ck_assert(sc->memory_max == 0);
	ck_assert_int_eq(sc->pids_max, 0);
	ck_assert_int_eq(sc->cpu_weight, 0);
	config_free(conf);
	expect_server_error("{'command':'x','memory_max':1000}",
	    "mcpServers.x.memory_max: expected an integer from 1048576 to "
	    "4611686018427387904");
	expect_server_error("{'command':'x','pids_max':0}",
	    "mcpServers.x.pids_max: expected an integer from 1 to 1000000");
	expect_server_error("{'command':'x','cpu_weight':10001}",
	    "mcpServers.x.cpu_weight: expected an integer from 1 to 10000");
}
END_TEST

START_TEST(test_claude_desktop_entry_parses_with_warning)
{
	struct config_diag		 diag = { 0 };
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_q("{'mcpServers':{'filesystem':{'type':'stdio',"
	    "'command':'npx','args':['-y',"
	    "'@modelcontextprotocol/server-filesystem','/tmp'],"
	    "'autoApprove':['read_file']}}}", &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_uint_eq(diag.nwarnings, 1);
	ck_assert_str_eq(diag.warnings[0], "mcpServers.filesystem.autoApprove: "
	    "ignored (not used by mcp-broker)");
	sc = config_find_server(conf, "filesystem");
	ck_assert_uint_eq(sc->argc, 4);
	config_diag_clear(&diag);
	config_free(conf);
}
END_TEST

START_TEST(test_type_stdio_is_accepted_silently)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'mcpServers':{'x':{'type':'stdio','command':'a'}}}",
	    &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_uint_eq(diag.nwarnings, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_warns_on_keys_other_hosts_use)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'mcpServers':{'x':{'command':'a','autoApprove':[],"
	    "'alwaysAllow':['t'],'timeout':60,'description':'d'}}}", &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_uint_eq(diag.nwarnings, 4);
	ck_assert(has_warning(&diag, "mcpServers.x.autoApprove: ignored (not "
	    "used by mcp-broker)"));
	ck_assert(has_warning(&diag, "mcpServers.x.alwaysAllow: ignored (not "
	    "used by mcp-broker)"));
	ck_assert(has_warning(&diag, "mcpServers.x.timeout: ignored (not "
	    "used by mcp-broker)"));
	ck_assert(has_warning(&diag, "mcpServers.x.description: ignored (not "
	    "used by mcp-broker)"));
	config_diag_clear(&diag);
	config_free(conf);
}
END_TEST

START_TEST(test_unset_server_timeouts_are_config_unset)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_q("{'mcpServers':{'x':{'command':'a'}}}", NULL);
	sc = config_find_server(conf, "x");
	ck_assert_int_eq(sc->idle_timeout_s, CONFIG_UNSET);
	ck_assert_int_eq(sc->request_timeout_s, CONFIG_UNSET);
	ck_assert_int_eq(sc->start_timeout_s, CONFIG_UNSET);
	ck_assert_int_eq(sc->max_sessions, 0);
	ck_assert_int_eq(sc->disabled, 0);
	ck_assert_ptr_null(sc->cwd);
	ck_assert_uint_eq(sc->envc, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_argv_is_command_then_args_null_terminated)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_q("{'mcpServers':{'x':{'args':['-v',''],"
	    "'command':'/bin/echo'}}}", NULL);
	sc = config_find_server(conf, "x");
	ck_assert_uint_eq(sc->argc, 3);
	ck_assert_str_eq(sc->argv[0], "/bin/echo");
	ck_assert_str_eq(sc->argv[1], "-v");
	ck_assert_str_eq(sc->argv[2], "");
	ck_assert_ptr_null(sc->argv[3]);
	config_free(conf);
}
END_TEST

START_TEST(test_env_is_name_equals_value_null_terminated)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_q("{'mcpServers':{'x':{'command':'a',"
	    "'env':{'A':'1','_B2':'x=y','EMPTY':''}}}}", NULL);
	sc = config_find_server(conf, "x");
	ck_assert_uint_eq(sc->envc, 3);
	ck_assert_str_eq(sc->env[0], "A=1");
	ck_assert_str_eq(sc->env[1], "_B2=x=y");
	ck_assert_str_eq(sc->env[2], "EMPTY=");
	ck_assert_ptr_null(sc->env[3]);
	config_free(conf);
}
END_TEST

START_TEST(test_parses_socket_mode_with_and_without_leading_zero)
{
	struct config	*conf;

	conf = parse_q("{'broker':{'socket_mode':'0640'}}", NULL);
	ck_assert_uint_eq(conf->socket_mode, 0640);
	config_free(conf);
	conf = parse_q("{'broker':{'socket_mode':'600'}}", NULL);
	ck_assert_uint_eq(conf->socket_mode, 0600);
	config_free(conf);
	conf = parse_q("{'broker':{'socket_mode':'0777'}}", NULL);
	ck_assert_uint_eq(conf->socket_mode, 0777);
	config_free(conf);
}
END_TEST

START_TEST(test_warns_when_socket_mode_lets_every_user_connect)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'broker':{'socket_mode':'0666'}}", &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nwarnings, 1);
	ck_assert_str_eq(diag.warnings[0], "broker.socket_mode: \"0666\" lets "
	    "every local user connect and start servers as the broker's "
	    "user");
	config_diag_clear(&diag);
	config_free(conf);
}
END_TEST

START_TEST(test_parses_every_log_level)
{
	static const char	*names[] = { "debug", "info", "warning",
				     "error" };
	struct config		*conf;
	char			*q;
	size_t			 i;

	for (i = 0; i < 4; i++) {
		xasprintf(&q, "{'broker':{'log_level':'%s'}}", names[i]);
		conf = parse_q(q, NULL);
		ck_assert_ptr_nonnull(conf);
		ck_assert_int_eq(conf->log_level, (int)i);
		config_free(conf);
		free(q);
	}
}
END_TEST

START_TEST(test_accepts_integral_exponent_numbers)
{
	struct config	*conf;

	conf = parse_q("{'broker':{'max_sessions':1e3,"
	    "'idle_timeout_s':60.0}}", NULL);
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(conf->max_sessions, 1000);
	ck_assert_int_eq(conf->idle_timeout_s, 60);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_longest_socket_path_and_server_name)
{
	struct config	*conf;
	char		 sock[108], name[65], *q;

	memset(sock, 's', sizeof sock - 1);
	sock[sizeof sock - 1] = '\0';
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	xasprintf(&q, "{'broker':{'socket':'%s'},'mcpServers':{'%s':"
	    "{'command':'a'}}}", sock, name);
	conf = parse_q(q, NULL);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(strlen(conf->socket), 107);
	ck_assert_ptr_nonnull(config_find_server(conf, name));
	config_free(conf);
	free(q);
}
END_TEST

START_TEST(test_parse_accepts_null_diag)
{
	struct config	*conf;

	conf = parse_q("{'nope':1}", NULL);
	ck_assert_ptr_null(conf);
	conf = parse_q("{'mcpServers':{'x':{'command':'a','timeout':1}}}",
	    NULL);
	ck_assert_ptr_nonnull(conf);
	config_free(conf);
}
END_TEST

/* The top level. */

START_TEST(test_rejects_invalid_json_with_line_and_column)
{
	expect_error("{\n  'broker': {\n    'max_sessions': ,\n  }\n}",
	    "(top level): not valid JSON near line 3, column 21");
}
END_TEST

START_TEST(test_rejects_empty_text)
{
	expect_error("", "(top level): empty; expected a JSON object");
	expect_error(" \n\t", "(top level): empty; expected a JSON object");
}
END_TEST

START_TEST(test_rejects_text_after_the_json_value)
{
	expect_error("{}\n{}", "(top level): unexpected text after the JSON "
	    "value at line 2, column 1");
}
END_TEST

START_TEST(test_rejects_nul_byte)
{
	struct config_diag	 diag = { 0 };

	ck_assert_ptr_null(config_parse("{}\n\0", 4, &diag));
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0], "(top level): a NUL byte at line 2, "
	    "column 1 (a config is UTF-8 text)");
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_rejects_top_level_non_object)
{
	expect_error("[]", "(top level): expected an object");
	expect_error("'mcpServers'", "(top level): expected an object");
}
END_TEST

START_TEST(test_rejects_unknown_top_level_key)
{
	expect_error("{'server':{}}", "server: unknown key");
}
END_TEST

START_TEST(test_rejects_non_object_broker)
{
	expect_error("{'broker':[]}", "broker: expected an object");
	expect_error("{'broker':null}", "broker: expected an object");
}
END_TEST

START_TEST(test_rejects_non_object_mcpservers)
{
	expect_error("{'mcpServers':['x']}", "mcpServers: expected an object");
}
END_TEST

START_TEST(test_rejects_duplicate_keys_with_their_path)
{
	expect_error("{'broker':{},'broker':{}}",
	    "broker: duplicate key (each key may appear only once)");
	expect_error("{'broker':{'max_sessions':1,'max_sessions':2}}",
	    "broker.max_sessions: duplicate key (each key may appear only "
	    "once)");
	expect_error("{'mcpServers':{'x':{'command':'a'},"
	    "'x':{'command':'b'}}}",
	    "mcpServers.x: duplicate key (each key may appear only once)");
	expect_server_error("{'command':'a','env':{'A':'1','A':'2'}}",
	    "mcpServers.x.env.A: duplicate key (each key may appear only "
	    "once)");
	expect_server_error("{'command':'a','roots':[{'uri':'file:///a',"
	    "'uri':'file:///b'}]}", "mcpServers.x.roots[0].uri: duplicate "
	    "key (each key may appear only once)");
	expect_server_error("{'command':'a','client_capabilities':"
	    "{'sampling':{},'sampling':{}}}", "mcpServers.x."
	    "client_capabilities.sampling: duplicate key (each key may "
	    "appear only once)");
}
END_TEST

/* The broker object. */

START_TEST(test_rejects_unknown_broker_key)
{
	expect_error("{'broker':{'frobnicate':1}}",
	    "broker.frobnicate: unknown key");
}
END_TEST

START_TEST(test_rejects_empty_or_non_string_socket)
{
	expect_error("{'broker':{'socket':''}}",
	    "broker.socket: expected a non-empty string");
	expect_error("{'broker':{'socket':5}}",
	    "broker.socket: expected a non-empty string");
}
END_TEST

START_TEST(test_rejects_socket_path_too_long_for_sun_path)
{
	char	sock[109], *q;

	memset(sock, 's', sizeof sock - 1);
	sock[sizeof sock - 1] = '\0';
	xasprintf(&q, "{'broker':{'socket':'%s'}}", sock);
	expect_error(q, "broker.socket: the path is 108 bytes; a Unix socket "
	    "path must be shorter than 108 bytes");
	free(q);
}
END_TEST

START_TEST(test_rejects_bad_socket_mode)
{
	static const char	*bad[] = { "'0668'", "'rw-rw----'", "''",
				     "'1777'", "'00660'", "660", "'0x1b0'" };
	size_t			 i;
	char			*q;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&q, "{'broker':{'socket_mode':%s}}", bad[i]);
		expect_error(q, "broker.socket_mode: expected an octal mode "
		    "string from \"0000\" to \"0777\", such as \"0660\"");
		free(q);
	}
}
END_TEST

START_TEST(test_rejects_max_sessions_out_of_range)
{
	expect_error("{'broker':{'max_sessions':0}}", "broker.max_sessions: "
	    "expected an integer from 1 to 1000000");
	expect_error("{'broker':{'max_sessions':1000001}}",
	    "broker.max_sessions: expected an integer from 1 to 1000000");
}
END_TEST

START_TEST(test_rejects_fractional_integer)
{
	expect_error("{'broker':{'max_sessions':1.5}}", "broker.max_sessions: "
	    "expected an integer from 1 to 1000000");
}
END_TEST

START_TEST(test_rejects_boolean_string_and_null_integers)
{
	expect_error("{'broker':{'max_sessions':true}}",
	    "broker.max_sessions: expected an integer from 1 to 1000000");
	expect_error("{'broker':{'max_sessions':'10'}}",
	    "broker.max_sessions: expected an integer from 1 to 1000000");
	expect_error("{'broker':{'max_sessions':null}}",
	    "broker.max_sessions: expected an integer from 1 to 1000000");
}
END_TEST

START_TEST(test_rejects_huge_integer)
{
	expect_error("{'broker':{'idle_timeout_s':1e300}}",
	    "broker.idle_timeout_s: expected an integer from 0 to 1000000");
}
END_TEST

START_TEST(test_rejects_max_clients_out_of_range)
{
	expect_error("{'broker':{'max_clients':0}}", "broker.max_clients: "
	    "expected an integer from 1 to 1000000");
	expect_error("{'broker':{'max_clients':2000000}}",
	    "broker.max_clients: expected an integer from 1 to 1000000");
}
END_TEST

START_TEST(test_per_uid_bounds_default_to_a_quarter_and_take_zero)
{
	struct config	*conf;

	conf = config_default();
	ck_assert_int_eq(conf->max_sessions_per_uid, conf->max_sessions / 4);
	ck_assert_int_eq(conf->max_clients_per_uid, conf->max_clients / 4);
	config_free(conf);
	conf = parse_clean("{'broker':{'max_sessions_per_uid':0,"
	    "'max_clients_per_uid':7}}");
	ck_assert_int_eq(conf->max_sessions_per_uid, 0);
	ck_assert_int_eq(conf->max_clients_per_uid, 7);
	config_free(conf);
	expect_error("{'broker':{'max_sessions_per_uid':-1}}",
	    "broker.max_sessions_per_uid: expected an integer from 0 to "
	    "1000000");
	expect_error("{'broker':{'max_clients_per_uid':'many'}}",
	    "broker.max_clients_per_uid: expected an integer from 0 to "
	    "1000000");
}
END_TEST

START_TEST(test_rejects_negative_idle_timeout)
{
	expect_error("{'broker':{'idle_timeout_s':-1}}",
	    "broker.idle_timeout_s: expected an integer from 0 to 1000000");
}
END_TEST

START_TEST(test_rejects_zero_request_timeout)
{
	expect_error("{'broker':{'request_timeout_s':0}}",
	    "broker.request_timeout_s: expected an integer from 1 to "
	    "1000000");
}
END_TEST

START_TEST(test_rejects_zero_max_request_timeout)
{
	expect_error("{'broker':{'max_request_timeout_s':0}}",
	    "broker.max_request_timeout_s: expected an integer from 1 to "
	    "1000000");
}
END_TEST

START_TEST(test_rejects_max_request_timeout_below_request_timeout)
{
	expect_error("{'broker':{'request_timeout_s':60,"
	    "'max_request_timeout_s':30}}",
	    "broker.max_request_timeout_s: must be at least "
	    "broker.request_timeout_s (60); it is 30");
	expect_error("{'broker':{'request_timeout_s':4000}}",
	    "broker.max_request_timeout_s: must be at least "
	    "broker.request_timeout_s (4000); it is 3600 by default");
}
END_TEST

START_TEST(test_accepts_max_request_timeout_equal_to_request_timeout)
{
	struct config	*conf;

	conf = parse_q("{'broker':{'request_timeout_s':60,"
	    "'max_request_timeout_s':60}}", NULL);
	ck_assert_ptr_nonnull(conf);
	config_free(conf);
}
END_TEST

START_TEST(test_rejects_zero_start_timeout)
{
	expect_error("{'broker':{'start_timeout_s':0}}",
	    "broker.start_timeout_s: expected an integer from 1 to 1000000");
}
END_TEST

START_TEST(test_rejects_shutdown_grace_out_of_range)
{
	expect_error("{'broker':{'shutdown_grace_ms':-1}}",
	    "broker.shutdown_grace_ms: expected an integer from 0 to 600000");
	expect_error("{'broker':{'shutdown_grace_ms':600001}}",
	    "broker.shutdown_grace_ms: expected an integer from 0 to 600000");
}
END_TEST

START_TEST(test_rejects_max_message_bytes_out_of_range)
{
	expect_error("{'broker':{'max_message_bytes':1023}}",
	    "broker.max_message_bytes: expected an integer from 1024 to "
	    "1073741824");
	expect_error("{'broker':{'max_message_bytes':1073741825}}",
	    "broker.max_message_bytes: expected an integer from 1024 to "
	    "1073741824");
}
END_TEST

START_TEST(test_rejects_unknown_log_level)
{
	expect_error("{'broker':{'log_level':'verbose'}}",
	    "broker.log_level: expected one of \"debug\", \"info\", "
	    "\"warning\", \"error\"");
	expect_error("{'broker':{'log_level':1}}",
	    "broker.log_level: expected one of \"debug\", \"info\", "
	    "\"warning\", \"error\"");
}
END_TEST

/* Access control. */

START_TEST(test_access_control_is_off_by_default)
{
	struct config	*conf;

	conf = parse_clean("{'broker':{}}");
	ck_assert_int_eq(conf->allow_uids_set, 0);
	ck_assert_ptr_null(conf->allow_uids);
	ck_assert_uint_eq(conf->nallow_uids, 0);
	ck_assert_int_eq(conf->allow_groups_set, 0);
	ck_assert_ptr_null(conf->allow_groups);
	ck_assert_uint_eq(conf->nallow_groups, 0);
	ck_assert_int_eq(conf->admin_group_set, 0);
	ck_assert_int_eq(conf->socket_group_set, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_user_names_and_uids_in_allow_uids)
{
	struct config	*conf;

	conf = parse_clean("{'broker':{'allow_uids':['root',1000,0,"
	    "4294967294]}}");
	ck_assert_int_eq(conf->allow_uids_set, 1);
	ck_assert_uint_eq(conf->nallow_uids, 4);
	ck_assert_uint_eq(conf->allow_uids[0], 0);
	ck_assert_uint_eq(conf->allow_uids[1], 1000);
	ck_assert_uint_eq(conf->allow_uids[2], 0);
	ck_assert_uint_eq(conf->allow_uids[3], 4294967294U);
	ck_assert_int_eq(conf->allow_groups_set, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_group_names_and_gids_in_allow_groups)
{
	struct config	*conf;

	conf = parse_clean("{'broker':{'allow_groups':[1000,'root',0]}}");
	ck_assert_int_eq(conf->allow_groups_set, 1);
	ck_assert_uint_eq(conf->nallow_groups, 3);
	ck_assert_uint_eq(conf->allow_groups[0], 1000);
	ck_assert_uint_eq(conf->allow_groups[1], 0);
	ck_assert_uint_eq(conf->allow_groups[2], 0);
	ck_assert_int_eq(conf->allow_uids_set, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_admin_group_by_name_or_gid)
{
	struct config	*conf;

	conf = parse_clean("{'broker':{'admin_group':'root'}}");
	ck_assert_int_eq(conf->admin_group_set, 1);
	ck_assert_uint_eq(conf->admin_group, 0);
	config_free(conf);
	conf = parse_clean("{'broker':{'admin_group':1234}}");
	ck_assert_int_eq(conf->admin_group_set, 1);
	ck_assert_uint_eq(conf->admin_group, 1234);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_socket_group_by_name_or_gid)
{
	struct config	*conf;

	conf = parse_clean("{'broker':{'socket_group':'root'}}");
	ck_assert_int_eq(conf->socket_group_set, 1);
	ck_assert_uint_eq(conf->socket_group, 0);
	config_free(conf);
	conf = parse_clean("{'broker':{'socket_group':0}}");
	ck_assert_int_eq(conf->socket_group_set, 1);
	ck_assert_uint_eq(conf->socket_group, 0);
	config_free(conf);
	conf = parse_clean("{'broker':{'socket_group':4321}}");
	ck_assert_uint_eq(conf->socket_group, 4321);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_1024_entries_in_each_allow_list)
{
	struct config	*conf;
	char		*uids, *gids, *q;

	uids = array_of(1024, "'root'");
	gids = array_of(1024, "7");
	xasprintf(&q, "{'broker':{'allow_uids':%s,'allow_groups':%s}}", uids,
	    gids);
	conf = parse_clean(q);
	ck_assert_uint_eq(conf->nallow_uids, CONFIG_ACL_MAX);
	ck_assert_uint_eq(conf->allow_uids[1023], 0);
	ck_assert_uint_eq(conf->nallow_groups, CONFIG_ACL_MAX);
	ck_assert_uint_eq(conf->allow_groups[1023], 7);
	config_free(conf);
	free(q);
	free(uids);
	free(gids);
}
END_TEST

START_TEST(test_empty_allow_list_is_set_and_warns_only_root_may_connect)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'broker':{'allow_uids':[]}}", &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(conf->allow_uids_set, 1);
	ck_assert_uint_eq(conf->nallow_uids, 0);
	ck_assert_uint_eq(diag.nwarnings, 1);
	ck_assert_str_eq(diag.warnings[0], "broker.allow_uids: empty: only "
	    "root and the broker's own user may use the broker");
	config_diag_clear(&diag);
	config_free(conf);

	conf = parse_q("{'broker':{'allow_groups':[],'allow_uids':[]}}",
	    &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nwarnings, 1);
	ck_assert_str_eq(diag.warnings[0], "broker.allow_uids: empty, and so "
	    "is broker.allow_groups: only root and the broker's own user may "
	    "use the broker");
	config_diag_clear(&diag);
	config_free(conf);

	/* One list that admits someone is enough. */
	conf = parse_clean("{'broker':{'allow_uids':[],'allow_groups':[0]}}");
	ck_assert_int_eq(conf->allow_uids_set, 1);
	ck_assert_uint_eq(conf->nallow_groups, 1);
	config_free(conf);
}
END_TEST

START_TEST(test_no_socket_mode_warning_under_an_allow_list)
{
	struct config	*conf;

	conf = parse_clean("{'broker':{'socket_mode':'0666',"
	    "'allow_uids':[1000]}}");
	ck_assert_uint_eq(conf->socket_mode, 0666);
	config_free(conf);
	conf = parse_clean("{'broker':{'allow_groups':['root'],"
	    "'socket_mode':'0666'}}");
	config_free(conf);
}
END_TEST

START_TEST(test_rejects_unknown_user_in_allow_uids)
{
	expect_error("{'broker':{'allow_uids':['root',"
	    "'mcpb-no-such-user']}}",
	    "broker.allow_uids[1]: no such user \"mcpb-no-such-user\"");
}
END_TEST

START_TEST(test_hints_that_a_quoted_number_is_a_name)
{
	expect_error("{'broker':{'allow_uids':['987654']}}",
	    "broker.allow_uids[0]: no such user \"987654\" (a uid is "
	    "written as a number, without quotes)");
	expect_error("{'broker':{'socket_group':'987654'}}",
	    "broker.socket_group: no such group \"987654\" (a gid is "
	    "written as a number, without quotes)");
}
END_TEST

START_TEST(test_rejects_unknown_group_with_its_path)
{
	expect_error("{'broker':{'allow_groups':['mcpb-no-such-group',0]}}",
	    "broker.allow_groups[0]: no such group \"mcpb-no-such-group\"");
	expect_error("{'broker':{'admin_group':'mcpb-no-such-group'}}",
	    "broker.admin_group: no such group \"mcpb-no-such-group\"");
	expect_error("{'broker':{'socket_group':'mcpb-no-such-group'}}",
	    "broker.socket_group: no such group \"mcpb-no-such-group\"");
}
END_TEST

START_TEST(test_collects_every_bad_allow_list_entry)
{
	struct config_diag	 diag = { 0 };

	ck_assert_ptr_null(parse_q("{'broker':{'allow_uids':['mcpb-nope-1',"
	    "true,'root','mcpb-nope-2'],'allow_groups':[0,'mcpb-nope-3']}}",
	    &diag));
	ck_assert_uint_eq(diag.nerrors, 4);
	ck_assert(has_error(&diag, "broker.allow_uids[0]: no such user "
	    "\"mcpb-nope-1\""));
	ck_assert(has_error(&diag, "broker.allow_uids[1]: expected a user "
	    "name or a uid (an integer from 0 to 4294967294)"));
	ck_assert(has_error(&diag, "broker.allow_uids[3]: no such user "
	    "\"mcpb-nope-2\""));
	ck_assert(has_error(&diag, "broker.allow_groups[1]: no such group "
	    "\"mcpb-nope-3\""));
	ck_assert_uint_eq(diag.nwarnings, 0);
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_rejects_non_array_allow_lists)
{
	expect_error("{'broker':{'allow_uids':'root'}}",
	    "broker.allow_uids: expected an array of user names and uids");
	expect_error("{'broker':{'allow_uids':0}}",
	    "broker.allow_uids: expected an array of user names and uids");
	expect_error("{'broker':{'allow_groups':{'root':0}}}",
	    "broker.allow_groups: expected an array of group names and gids");
}
END_TEST

START_TEST(test_rejects_allow_list_entries_of_the_wrong_type)
{
	static const char	*bad[] = { "true", "null", "-1", "1.5",
				     "4294967295", "''", "['root']", "{}" };
	char			*q;
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&q, "{'broker':{'allow_uids':[%s]}}", bad[i]);
		expect_error(q, "broker.allow_uids[0]: expected a user name or "
		    "a uid (an integer from 0 to 4294967294)");
		free(q);
		xasprintf(&q, "{'broker':{'allow_groups':[0,%s]}}", bad[i]);
		expect_error(q, "broker.allow_groups[1]: expected a group name "
		    "or a gid (an integer from 0 to 4294967294)");
		free(q);
		xasprintf(&q, "{'broker':{'admin_group':%s}}", bad[i]);
		expect_error(q, "broker.admin_group: expected a group name or "
		    "a gid (an integer from 0 to 4294967294)");
		free(q);
		xasprintf(&q, "{'broker':{'socket_group':%s}}", bad[i]);
		expect_error(q, "broker.socket_group: expected a group name or "
		    "a gid (an integer from 0 to 4294967294)");
		free(q);
	}
}
END_TEST

START_TEST(test_rejects_more_than_1024_entries_in_an_allow_list)
{
	char	*list, *q;

	list = array_of(1025, "0");
	xasprintf(&q, "{'broker':{'allow_uids':%s}}", list);
	expect_error(q, "broker.allow_uids: at most 1024 entries are "
	    "allowed; there are 1025");
	free(q);
	xasprintf(&q, "{'broker':{'allow_groups':%s}}", list);
	expect_error(q, "broker.allow_groups: at most 1024 entries are "
	    "allowed; there are 1025");
	free(q);
	free(list);
}
END_TEST

START_TEST(test_checks_allow_list_entry_types_past_the_bound)
{
	struct config_diag	 diag = { 0 };
	char			*list, *q;

	list = array_of(1025, "'root'");
	xasprintf(&q, "{'broker':{'allow_uids':%.*s,true]}}",
	    (int)strlen(list) - 1, list);
	ck_assert_ptr_null(parse_q(q, &diag));
	ck_assert_uint_eq(diag.nerrors, 2);
	ck_assert(has_error(&diag, "broker.allow_uids: at most 1024 entries "
	    "are allowed; there are 1026"));
	ck_assert(has_error(&diag, "broker.allow_uids[1025]: expected a user "
	    "name or a uid (an integer from 0 to 4294967294)"));
	config_diag_clear(&diag);
	free(q);
	free(list);
}
END_TEST

/* ${VAR} expansion. */

START_TEST(test_expands_variables_in_command)
{
	struct config			*conf;
	const struct server_conf	*sc;

	ck_assert_int_eq(setenv("MCPB_TEST_DIR", "/opt/mcp", 1), 0);
	conf = parse_server("{'command':'${MCPB_TEST_DIR}/bin/server'}");
	sc = config_find_server(conf, "x");
	ck_assert_str_eq(sc->command, "/opt/mcp/bin/server");
	ck_assert_str_eq(sc->argv[0], "/opt/mcp/bin/server");
	config_free(conf);
}
END_TEST

START_TEST(test_expands_variables_in_args)
{
	struct config			*conf;
	const struct server_conf	*sc;

	ck_assert_int_eq(setenv("MCPB_TEST_KEY", "s3cret", 1), 0);
	ck_assert_int_eq(setenv("MCPB_TEST_HOST", "db", 1), 0);
	conf = parse_server("{'command':'a','args':['--key=${MCPB_TEST_KEY}',"
	    "'${MCPB_TEST_HOST}:${MCPB_TEST_HOST}','plain']}");
	sc = config_find_server(conf, "x");
	ck_assert_uint_eq(sc->argc, 4);
	ck_assert_str_eq(sc->argv[1], "--key=s3cret");
	ck_assert_str_eq(sc->argv[2], "db:db");
	ck_assert_str_eq(sc->argv[3], "plain");
	ck_assert_ptr_null(sc->argv[4]);
	config_free(conf);
}
END_TEST

START_TEST(test_expands_variables_in_env_values)
{
	struct config			*conf;
	const struct server_conf	*sc;

	ck_assert_int_eq(setenv("MCPB_TEST_TOKEN", "tok=en", 1), 0);
	ck_assert_int_eq(setenv("MCPB_TEST_EMPTY", "", 1), 0);
	conf = parse_server("{'command':'a','env':{"
	    "'TOKEN':'${MCPB_TEST_TOKEN}','E':'<${MCPB_TEST_EMPTY}>'}}");
	sc = config_find_server(conf, "x");
	ck_assert_uint_eq(sc->envc, 2);
	ck_assert_str_eq(sc->env[0], "TOKEN=tok=en");
	ck_assert_str_eq(sc->env[1], "E=<>");
	config_free(conf);
}
END_TEST

START_TEST(test_expands_variables_in_cwd)
{
	struct config			*conf;
	const struct server_conf	*sc;

	ck_assert_int_eq(setenv("MCPB_TEST_STATE", "/var/lib/mcp", 1), 0);
	conf = parse_server("{'command':'a','cwd':'${MCPB_TEST_STATE}/work'}");
	sc = config_find_server(conf, "x");
	ck_assert_str_eq(sc->cwd, "/var/lib/mcp/work");
	config_free(conf);
}
END_TEST

START_TEST(test_double_dollar_is_a_literal_dollar)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_server("{'command':'a','args':['$${NOT_EXPANDED}',"
	    "'$$','a$$$$b'],'env':{'P':'pa$$word'},'cwd':'/tmp/$$'}");
	sc = config_find_server(conf, "x");
	ck_assert_str_eq(sc->argv[1], "${NOT_EXPANDED}");
	ck_assert_str_eq(sc->argv[2], "$");
	ck_assert_str_eq(sc->argv[3], "a$$b");
	ck_assert_str_eq(sc->env[0], "P=pa$word");
	ck_assert_str_eq(sc->cwd, "/tmp/$");
	config_free(conf);
}
END_TEST

START_TEST(test_dollar_before_anything_else_is_kept)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_server("{'command':'$HOME','args':['$','a$','$ {X}',"
	    "'5$/h','$(id)'],'cwd':'$'}");
	sc = config_find_server(conf, "x");
	ck_assert_str_eq(sc->command, "$HOME");
	ck_assert_str_eq(sc->argv[1], "$");
	ck_assert_str_eq(sc->argv[2], "a$");
	ck_assert_str_eq(sc->argv[3], "$ {X}");
	ck_assert_str_eq(sc->argv[4], "5$/h");
	ck_assert_str_eq(sc->argv[5], "$(id)");
	ck_assert_str_eq(sc->cwd, "$");
	config_free(conf);
}
END_TEST

START_TEST(test_expanded_values_are_not_expanded_again)
{
	struct config			*conf;
	const struct server_conf	*sc;

	ck_assert_int_eq(setenv("MCPB_TEST_META", "${HOME}$$", 1), 0);
	conf = parse_server("{'command':'a','args':['${MCPB_TEST_META}']}");
	sc = config_find_server(conf, "x");
	ck_assert_str_eq(sc->argv[1], "${HOME}$$");
	config_free(conf);
}
END_TEST

START_TEST(test_rejects_unset_variable_naming_its_path)
{
	ck_assert_int_eq(unsetenv("MCPB_TEST_UNSET"), 0);
	expect_server_error("{'command':'a','env':{'TOKEN':"
	    "'Bearer ${MCPB_TEST_UNSET}'}}",
	    "mcpServers.x.env.TOKEN: ${MCPB_TEST_UNSET} is not set in the "
	    "daemon's environment");
	expect_server_error("{'command':'${MCPB_TEST_UNSET}'}",
	    "mcpServers.x.command: ${MCPB_TEST_UNSET} is not set in the "
	    "daemon's environment");
	expect_server_error("{'command':'a','args':['-v',"
	    "'${MCPB_TEST_UNSET}']}",
	    "mcpServers.x.args[1]: ${MCPB_TEST_UNSET} is not set in the "
	    "daemon's environment");
	expect_server_error("{'command':'a','cwd':'/${MCPB_TEST_UNSET}'}",
	    "mcpServers.x.cwd: ${MCPB_TEST_UNSET} is not set in the "
	    "daemon's environment");
}
END_TEST

START_TEST(test_reports_every_unset_variable)
{
	struct config_diag	 diag = { 0 };

	ck_assert_int_eq(unsetenv("MCPB_TEST_UNSET_A"), 0);
	ck_assert_int_eq(unsetenv("MCPB_TEST_UNSET_B"), 0);
	ck_assert_ptr_null(parse_q("{'mcpServers':{'x':{'command':"
	    "'${MCPB_TEST_UNSET_A}','args':['${MCPB_TEST_UNSET_A}-"
	    "${MCPB_TEST_UNSET_B}']}}}", &diag));
	ck_assert_uint_eq(diag.nerrors, 3);
	ck_assert(has_error(&diag, "mcpServers.x.command: "
	    "${MCPB_TEST_UNSET_A} is not set in the daemon's environment"));
	ck_assert(has_error(&diag, "mcpServers.x.args[0]: "
	    "${MCPB_TEST_UNSET_A} is not set in the daemon's environment"));
	ck_assert(has_error(&diag, "mcpServers.x.args[0]: "
	    "${MCPB_TEST_UNSET_B} is not set in the daemon's environment"));
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_rejects_unterminated_brace)
{
	expect_server_error("{'command':'a','args':['${HOME']}",
	    "mcpServers.x.args[0]: unterminated \"${\" (a literal \"$\" is "
	    "written \"$$\")");
	expect_server_error("{'command':'a','env':{'A':'x${'}}",
	    "mcpServers.x.env.A: unterminated \"${\" (a literal \"$\" is "
	    "written \"$$\")");
}
END_TEST

START_TEST(test_rejects_braces_without_a_variable_name)
{
	expect_server_error("{'command':'a','args':['${1A}']}",
	    "mcpServers.x.args[0]: ${1A}: not a valid variable name (letters, "
	    "digits and \"_\", not starting with a digit; a literal \"$\" is "
	    "written \"$$\")");
	expect_server_error("{'command':'a','cwd':'/${}'}",
	    "mcpServers.x.cwd: ${}: not a valid variable name (letters, "
	    "digits and \"_\", not starting with a digit; a literal \"$\" is "
	    "written \"$$\")");
}
END_TEST

START_TEST(test_rejects_command_or_cwd_empty_once_expanded)
{
	ck_assert_int_eq(setenv("MCPB_TEST_EMPTY", "", 1), 0);
	expect_server_error("{'command':'${MCPB_TEST_EMPTY}'}",
	    "mcpServers.x.command: empty once its variables are expanded");
	expect_server_error("{'command':'a','cwd':'${MCPB_TEST_EMPTY}'}",
	    "mcpServers.x.cwd: empty once its variables are expanded");
}
END_TEST

START_TEST(test_server_equal_compares_expanded_values)
{
	struct config	*a, *b;

	ck_assert_int_eq(setenv("MCPB_TEST_V", "one", 1), 0);
	a = parse_server("{'command':'a','args':['${MCPB_TEST_V}']}");
	b = parse_server("{'command':'a','args':['one']}");
	ck_assert_int_eq(config_server_equal(config_find_server(a, "x"),
	    config_find_server(b, "x")), 1);
	config_free(b);
	ck_assert_int_eq(setenv("MCPB_TEST_V", "two", 1), 0);
	b = parse_server("{'command':'a','args':['${MCPB_TEST_V}']}");
	ck_assert_int_eq(config_server_equal(config_find_server(a, "x"),
	    config_find_server(b, "x")), 0);
	config_free(a);
	config_free(b);
}
END_TEST

/* Server names and entries. */

START_TEST(test_rejects_invalid_server_names)
{
	static const char	*msg = "a server name must be 1 to 64 "
				     "characters, each a letter, a digit, "
				     "\".\", \"_\" or \"-\"";
	char			 name[66], *q, *want;

	xasprintf(&want, "mcpServers.my server: %s", msg);
	expect_error("{'mcpServers':{'my server':{'command':'a'}}}", want);
	free(want);
	xasprintf(&want, "mcpServers.a/b: %s", msg);
	expect_error("{'mcpServers':{'a/b':{'command':'a'}}}", want);
	free(want);
	xasprintf(&want, "mcpServers.: %s", msg);
	expect_error("{'mcpServers':{'':{'command':'a'}}}", want);
	free(want);

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	xasprintf(&q, "{'mcpServers':{'%s':{'command':'a'}}}", name);
	/* The path cuts a long key at 64 bytes. */
	xasprintf(&want, "mcpServers.%.64s...: %s", name, msg);
	expect_error(q, want);
	free(want);
	free(q);
}
END_TEST

START_TEST(test_escapes_control_characters_in_paths)
{
	expect_error("{'mcpServers':{'a\\nb':{'command':'a'}}}",
	    "mcpServers.a\\x0ab: a server name must be 1 to 64 characters, "
	    "each a letter, a digit, \".\", \"_\" or \"-\"");
}
END_TEST

START_TEST(test_rejects_non_object_server_entry)
{
	expect_server_error("'npx'", "mcpServers.x: expected an object");
}
END_TEST

START_TEST(test_requires_command)
{
	expect_server_error("{'args':['a']}",
	    "mcpServers.x: \"command\" is required");
}
END_TEST

START_TEST(test_rejects_empty_or_non_string_command)
{
	expect_server_error("{'command':''}",
	    "mcpServers.x.command: expected a non-empty string");
	expect_server_error("{'command':['npx']}",
	    "mcpServers.x.command: expected a non-empty string");
}
END_TEST

START_TEST(test_warns_on_command_with_space_and_no_args)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'mcpServers':{'x':{'command':'npx -y foo'}}}",
	    &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nwarnings, 1);
	ck_assert_str_eq(diag.warnings[0], "mcpServers.x.command: contains a "
	    "space but there are no \"args\"; the command is run without a "
	    "shell, so arguments belong in \"args\"");
	config_diag_clear(&diag);
	config_free(conf);
}
END_TEST

START_TEST(test_rejects_non_array_args)
{
	expect_server_error("{'command':'a','args':'--headless'}",
	    "mcpServers.x.args: expected an array of strings");
}
END_TEST

START_TEST(test_rejects_non_string_arg_with_json_path)
{
	expect_error("{'mcpServers':{'playwright':{'command':'npx',"
	    "'args':['--headless',1]}}}",
	    "mcpServers.playwright.args[1]: expected a string");
}
END_TEST

START_TEST(test_rejects_non_object_env)
{
	expect_server_error("{'command':'a','env':['A=1']}",
	    "mcpServers.x.env: expected an object of strings");
}
END_TEST

START_TEST(test_rejects_non_string_env_value)
{
	expect_server_error("{'command':'a','env':{'PORT':8080}}",
	    "mcpServers.x.env.PORT: expected a string");
}
END_TEST

START_TEST(test_rejects_invalid_env_names)
{
	static const char	*msg = "not a valid environment variable name "
				     "(letters, digits and \"_\", not starting "
				     "with a digit)";
	char			*want;

	xasprintf(&want, "mcpServers.x.env.1A: %s", msg);
	expect_server_error("{'command':'a','env':{'1A':'v'}}", want);
	free(want);
	xasprintf(&want, "mcpServers.x.env.A=B: %s", msg);
	expect_server_error("{'command':'a','env':{'A=B':'v'}}", want);
	free(want);
	xasprintf(&want, "mcpServers.x.env.: %s", msg);
	expect_server_error("{'command':'a','env':{'':'v'}}", want);
	free(want);
}
END_TEST

START_TEST(test_rejects_empty_or_non_string_cwd)
{
	expect_server_error("{'command':'a','cwd':''}",
	    "mcpServers.x.cwd: expected a non-empty string");
	expect_server_error("{'command':'a','cwd':1}",
	    "mcpServers.x.cwd: expected a non-empty string");
}
END_TEST

START_TEST(test_rejects_server_integers_out_of_range)
{
	expect_server_error("{'command':'a','max_sessions':-1}",
	    "mcpServers.x.max_sessions: expected an integer from 0 to "
	    "1000000");
	expect_server_error("{'command':'a','max_sessions':1000001}",
	    "mcpServers.x.max_sessions: expected an integer from 0 to "
	    "1000000");
	expect_server_error("{'command':'a','idle_timeout_s':-1}",
	    "mcpServers.x.idle_timeout_s: expected an integer from 0 to "
	    "1000000");
	expect_server_error("{'command':'a','request_timeout_s':0}",
	    "mcpServers.x.request_timeout_s: expected an integer from 1 to "
	    "1000000");
	expect_server_error("{'command':'a','start_timeout_s':0}",
	    "mcpServers.x.start_timeout_s: expected an integer from 1 to "
	    "1000000");
	expect_server_error("{'command':'a','start_timeout_s':2.5}",
	    "mcpServers.x.start_timeout_s: expected an integer from 1 to "
	    "1000000");
}
END_TEST

START_TEST(test_rejects_server_request_timeout_above_broker_cap)
{
	expect_error("{'broker':{'request_timeout_s':10,"
	    "'max_request_timeout_s':100},"
	    "'mcpServers':{'x':{'command':'a','request_timeout_s':101}}}",
	    "mcpServers.x.request_timeout_s: must be at most "
	    "broker.max_request_timeout_s (100)");
}
END_TEST

START_TEST(test_rejects_non_boolean_disabled)
{
	expect_server_error("{'command':'a','disabled':'yes'}",
	    "mcpServers.x.disabled: expected true or false");
	expect_server_error("{'command':'a','disabled':1}",
	    "mcpServers.x.disabled: expected true or false");
}
END_TEST

/* A host's remote entry is skipped with a warning; the rest loads. */
START_TEST(test_skips_remote_server_by_url_with_a_warning)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'mcpServers':{'web':{'url':'https://example.org/mcp',"
	    "'headers':{'Authorization':'x'}},'local':{'command':'a'}}}",
	    &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(conf->nservers, 1);
	ck_assert_str_eq(conf->servers[0].name, "local");
	ck_assert_ptr_null(config_find_server(conf, "web"));
	ck_assert(has_warning(&diag, "mcpServers.web: skipped: only stdio "
	    "servers are brokered (this entry is a remote server)"));
	config_free(conf);
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_skips_remote_server_by_type_with_a_warning)
{
	static const char	*types[] = { "sse", "http", "streamable-http",
				     "websocket" };
	struct config_diag	 diag = { 0 };
	struct config		*conf;
	size_t			 i;
	char			*text;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		xasprintf(&text, "{'mcpServers':{'x':{'type':'%s',"
		    "'command':'a'}}}", types[i]);
		conf = parse_q(text, &diag);
		ck_assert_ptr_nonnull(conf);
		ck_assert_uint_eq(conf->nservers, 0);
		ck_assert(has_warning(&diag, "mcpServers.x: skipped: only "
		    "stdio servers are brokered (this entry is a remote "
		    "server)"));
		config_free(conf);
		config_diag_clear(&diag);
		free(text);
	}
}
END_TEST

/* VS Code's mcp.json: "servers", "inputs", and its own entry keys. */
START_TEST(test_accepts_vscode_servers_and_inputs)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'inputs':[{'type':'promptString','id':'k'}],"
	    "'servers':{'fs':{'type':'stdio','command':'a','args':['b'],"
	    "'dev':{'watch':'x'}},'gh':{'type':'http',"
	    "'url':'https://api.example/mcp'}}}", &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(conf->nservers, 1);
	ck_assert_str_eq(conf->servers[0].name, "fs");
	ck_assert(has_warning(&diag, "servers.gh: skipped: only stdio "
	    "servers are brokered (this entry is a remote server)"));
	ck_assert(has_warning(&diag, "inputs: ignored (the broker cannot "
	    "prompt for inputs; give values in env)"));
	config_free(conf);
	config_diag_clear(&diag);
	expect_error("{'servers':{'a':{'command':'a'}},"
	    "'mcpServers':{'b':{'command':'b'}}}",
	    "servers: mcpServers is given too: use one of the two");
	expect_error("{'servers':{'a':{'command':'a','cmd':'a'}}}",
	    "servers.a.cmd: unknown key");
}
END_TEST

START_TEST(test_rejects_non_string_type)
{
	expect_server_error("{'type':1,'command':'a'}",
	    "mcpServers.x.type: expected \"stdio\"");
}
END_TEST

/* What the broker declares: protocol, roots, client_capabilities. */

START_TEST(test_server_declares_auto_protocol_and_nothing_else_by_default)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_server("{'command':'a'}");
	sc = config_find_server(conf, "x");
	ck_assert_int_eq(sc->protocol, SERVER_PROTOCOL_AUTO);
	ck_assert_ptr_null(sc->roots);
	ck_assert_uint_eq(sc->nroots, 0);
	ck_assert_int_eq(sc->roots_set, 0);
	ck_assert_ptr_null(sc->client_capabilities);
	config_free(conf);
}
END_TEST

START_TEST(test_parses_every_protocol)
{
	static const struct {
		const char		*name;
		enum server_protocol	 protocol;
	} protocols[] = {
		{ "auto", SERVER_PROTOCOL_AUTO },
		{ "legacy", SERVER_PROTOCOL_LEGACY },
		{ "2026-07-28", SERVER_PROTOCOL_MODERN },
	};
	struct config	*conf;
	char		*body;
	size_t		 i;

	for (i = 0; i < sizeof protocols / sizeof protocols[0]; i++) {
		xasprintf(&body, "{'command':'a','protocol':'%s'}",
		    protocols[i].name);
		conf = parse_server(body);
		ck_assert_int_eq(config_find_server(conf, "x")->protocol,
		    protocols[i].protocol);
		config_free(conf);
		free(body);
	}
}
END_TEST

START_TEST(test_accepts_string_root)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_server("{'command':'a','roots':['file:///srv/repo']}");
	sc = config_find_server(conf, "x");
	ck_assert_int_eq(sc->roots_set, 1);
	ck_assert_uint_eq(sc->nroots, 1);
	ck_assert_str_eq(sc->roots[0].uri, "file:///srv/repo");
	ck_assert_ptr_null(sc->roots[0].name);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_object_root_with_and_without_name)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_server("{'command':'a','roots':["
	    "{'uri':'file:///srv/a','name':'Project A'},"
	    "{'uri':'file:///srv/b'},'file:///srv/c']}");
	sc = config_find_server(conf, "x");
	ck_assert_int_eq(sc->roots_set, 1);
	ck_assert_uint_eq(sc->nroots, 3);
	ck_assert_str_eq(sc->roots[0].uri, "file:///srv/a");
	ck_assert_str_eq(sc->roots[0].name, "Project A");
	ck_assert_str_eq(sc->roots[1].uri, "file:///srv/b");
	ck_assert_ptr_null(sc->roots[1].name);
	ck_assert_str_eq(sc->roots[2].uri, "file:///srv/c");
	ck_assert_ptr_null(sc->roots[2].name);
	config_free(conf);
}
END_TEST

START_TEST(test_empty_roots_array_sets_roots_set_with_no_roots)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_server("{'command':'a','roots':[]}");
	sc = config_find_server(conf, "x");
	ck_assert_int_eq(sc->roots_set, 1);
	ck_assert_uint_eq(sc->nroots, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_64_roots)
{
	struct config	*conf;
	char		*roots, *body;

	roots = array_of(64, "'file:///r'");
	xasprintf(&body, "{'command':'a','roots':%s}", roots);
	conf = parse_server(body);
	ck_assert_uint_eq(config_find_server(conf, "x")->nroots, 64);
	config_free(conf);
	free(body);
	free(roots);
}
END_TEST

START_TEST(test_keeps_client_capabilities_as_given)
{
	struct config			*conf;
	const struct server_conf	*sc;
	cJSON				*want;

	conf = parse_server("{'command':'a','client_capabilities':"
	    "{'sampling':{},'elicitation':{'form':{}}}}");
	sc = config_find_server(conf, "x");
	ck_assert_ptr_nonnull(sc->client_capabilities);
	want = cJSON_Parse("{\"sampling\":{},\"elicitation\":{\"form\":{}}}");
	ck_assert(cJSON_Compare(sc->client_capabilities, want, 1));
	cJSON_Delete(want);
	config_free(conf);
}
END_TEST

START_TEST(test_accepts_empty_client_capabilities)
{
	struct config			*conf;
	const struct server_conf	*sc;

	conf = parse_server("{'command':'a','client_capabilities':{}}");
	sc = config_find_server(conf, "x");
	ck_assert_ptr_nonnull(sc->client_capabilities);
	ck_assert(cJSON_IsObject(sc->client_capabilities));
	ck_assert_ptr_null(sc->client_capabilities->child);
	config_free(conf);
}
END_TEST

START_TEST(test_rejects_unknown_protocol)
{
	static const char	*bad[] = { "'latest'", "'AUTO'",
				     "'2025-11-25'", "''", "1", "null" };
	size_t			 i;
	char			*body;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&body, "{'command':'a','protocol':%s}", bad[i]);
		expect_server_error(body, "mcpServers.x.protocol: expected "
		    "\"auto\", \"legacy\" or \"2026-07-28\"");
		free(body);
	}
}
END_TEST

START_TEST(test_rejects_non_array_roots)
{
	expect_server_error("{'command':'a','roots':'file:///srv'}",
	    "mcpServers.x.roots: expected an array of file:// URIs or "
	    "{\"uri\", \"name\"} objects");
	expect_server_error("{'command':'a','roots':{'uri':'file:///srv'}}",
	    "mcpServers.x.roots: expected an array of file:// URIs or "
	    "{\"uri\", \"name\"} objects");
}
END_TEST

START_TEST(test_rejects_more_than_64_roots)
{
	char	*roots, *body;

	roots = array_of(65, "'file:///r'");
	xasprintf(&body, "{'command':'a','roots':%s}", roots);
	expect_server_error(body, "mcpServers.x.roots: at most 64 roots are "
	    "allowed; there are 65");
	free(body);
	free(roots);
}
END_TEST

START_TEST(test_rejects_root_that_is_neither_string_nor_object)
{
	expect_server_error("{'command':'a','roots':['file:///a',1]}",
	    "mcpServers.x.roots[1]: expected a file:// URI or an object "
	    "with \"uri\" and an optional \"name\"");
	expect_server_error("{'command':'a','roots':[null]}",
	    "mcpServers.x.roots[0]: expected a file:// URI or an object "
	    "with \"uri\" and an optional \"name\"");
}
END_TEST

START_TEST(test_rejects_string_root_that_is_not_a_file_uri)
{
	static const char	*bad[] = { "'https://example.org/'", "'/srv'",
				     "'file://'", "''", "'file:/srv'" };
	size_t			 i;
	char			*body;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&body, "{'command':'a','roots':['file:///a',"
		    "'file:///b',%s]}", bad[i]);
		expect_server_error(body, "mcpServers.x.roots[2]: expected a "
		    "file:// URI");
		free(body);
	}
}
END_TEST

START_TEST(test_rejects_object_root_uri_that_is_not_a_file_uri)
{
	expect_server_error("{'command':'a','roots':['file:///a','file:///b',"
	    "{'uri':'http://h/'}]}",
	    "mcpServers.x.roots[2].uri: expected a file:// URI");
	expect_server_error("{'command':'a','roots':[{'uri':5,'name':'n'}]}",
	    "mcpServers.x.roots[0].uri: expected a file:// URI");
}
END_TEST

START_TEST(test_requires_uri_in_object_root)
{
	expect_server_error("{'command':'a','roots':[{'name':'n'}]}",
	    "mcpServers.x.roots[0]: \"uri\" is required");
}
END_TEST

START_TEST(test_rejects_unknown_key_in_object_root)
{
	expect_server_error("{'command':'a','roots':[{'uri':'file:///a',"
	    "'path':'/a'}]}", "mcpServers.x.roots[0].path: unknown key");
}
END_TEST

START_TEST(test_rejects_empty_or_non_string_root_name)
{
	expect_server_error("{'command':'a','roots':[{'uri':'file:///a',"
	    "'name':''}]}",
	    "mcpServers.x.roots[0].name: expected a non-empty string");
	expect_server_error("{'command':'a','roots':[{'uri':'file:///a',"
	    "'name':['n']}]}",
	    "mcpServers.x.roots[0].name: expected a non-empty string");
}
END_TEST

START_TEST(test_collects_every_bad_root_even_past_the_bound)
{
	struct config_diag	 diag = { 0 };
	char			*roots, *q;

	roots = array_of(64, "'file:///r'");
	/* 66 entries: [0] and [65] are bad, and there are too many. */
	xasprintf(&q, "{'mcpServers':{'x':{'command':'a','roots':"
	    "[{'uri':'ftp://h/'},%.*s,'/tmp']}}}", (int)strlen(roots) - 2,
	    roots + 1);
	ck_assert_ptr_null(parse_q(q, &diag));
	ck_assert_uint_eq(diag.nerrors, 3);
	ck_assert(has_error(&diag, "mcpServers.x.roots: at most 64 roots are "
	    "allowed; there are 66"));
	ck_assert(has_error(&diag, "mcpServers.x.roots[0].uri: expected a "
	    "file:// URI"));
	ck_assert(has_error(&diag, "mcpServers.x.roots[65]: expected a "
	    "file:// URI"));
	config_diag_clear(&diag);
	free(q);
	free(roots);
}
END_TEST

START_TEST(test_rejects_non_object_client_capabilities)
{
	expect_server_error("{'command':'a','client_capabilities':"
	    "['sampling']}",
	    "mcpServers.x.client_capabilities: expected an object");
	expect_server_error("{'command':'a','client_capabilities':true}",
	    "mcpServers.x.client_capabilities: expected an object");
}
END_TEST

START_TEST(test_rejects_roots_in_client_capabilities)
{
	expect_server_error("{'command':'a','client_capabilities':"
	    "{'roots':{'listChanged':true}}}",
	    "mcpServers.x.client_capabilities.roots: the broker declares "
	    "roots itself from \"roots\"; allowed here: sampling, "
	    "elicitation");
}
END_TEST

START_TEST(test_rejects_unknown_client_capability)
{
	expect_server_error("{'command':'a','client_capabilities':"
	    "{'sampling':{},'experimental':{}}}",
	    "mcpServers.x.client_capabilities.experimental: unknown "
	    "capability (allowed: sampling, elicitation)");
}
END_TEST

START_TEST(test_rejects_non_object_sampling_or_elicitation)
{
	expect_server_error("{'command':'a','client_capabilities':"
	    "{'sampling':true}}",
	    "mcpServers.x.client_capabilities.sampling: expected an object");
	expect_server_error("{'command':'a','client_capabilities':"
	    "{'elicitation':null}}",
	    "mcpServers.x.client_capabilities.elicitation: expected an "
	    "object");
}
END_TEST

START_TEST(test_rejects_unknown_server_key)
{
	expect_server_error("{'command':'a','headers':{}}",
	    "mcpServers.x.headers: unknown key");
}
END_TEST

START_TEST(test_collects_all_errors_not_just_the_first)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'extra':1,"
	    "'broker':{'max_sessions':0,'log_level':'loud','allow_uids':1},"
	    "'mcpServers':{'ok':{'command':'a'},"
	    "'bad':{'args':[true,'x',{}],'env':{'9':'v'},'frob':1},"
	    "'remote':{'url':'http://h/'},'bad name':{'command':'a'}}}",
	    &diag);
	ck_assert_ptr_null(conf);
	ck_assert(has_error(&diag, "extra: unknown key"));
	ck_assert(has_error(&diag, "broker.max_sessions: expected an integer "
	    "from 1 to 1000000"));
	ck_assert(has_error(&diag, "broker.log_level: expected one of "
	    "\"debug\", \"info\", \"warning\", \"error\""));
	ck_assert(has_error(&diag, "broker.allow_uids: expected an array of "
	    "user names and uids"));
	ck_assert(has_error(&diag, "mcpServers.bad.args[0]: expected a "
	    "string"));
	ck_assert(has_error(&diag, "mcpServers.bad.args[2]: expected a "
	    "string"));
	ck_assert(has_error(&diag, "mcpServers.bad.env.9: not a valid "
	    "environment variable name (letters, digits and \"_\", not "
	    "starting with a digit)"));
	ck_assert(has_error(&diag, "mcpServers.bad.frob: unknown key"));
	ck_assert(has_error(&diag, "mcpServers.bad: \"command\" is "
	    "required"));
	ck_assert(has_warning(&diag, "mcpServers.remote: skipped: only stdio "
	    "servers are brokered (this entry is a remote server)"));
	ck_assert_uint_eq(diag.nerrors, 10);
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_parse_appends_to_diag)
{
	struct config_diag	 diag = { 0 };

	ck_assert_ptr_null(parse_q("{'a':1}", &diag));
	ck_assert_ptr_null(parse_q("{'b':1}", &diag));
	ck_assert_uint_eq(diag.nerrors, 2);
	ck_assert_str_eq(diag.errors[0], "a: unknown key");
	ck_assert_str_eq(diag.errors[1], "b: unknown key");
	config_diag_clear(&diag);
}
END_TEST

/* The diag. */

START_TEST(test_diag_clear_is_safe_on_empty_diag)
{
	struct config_diag	diag = { 0 };

	config_diag_clear(&diag);
	config_diag_clear(&diag);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_ptr_null(diag.errors);
}
END_TEST

START_TEST(test_diag_clear_frees_and_zeroes)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;

	conf = parse_q("{'mcpServers':{'x':{'command':'a','timeout':1},"
	    "'y':{}}}", &diag);
	ck_assert_ptr_null(conf);
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_uint_eq(diag.nwarnings, 1);
	config_diag_clear(&diag);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_uint_eq(diag.nwarnings, 0);
	ck_assert_ptr_null(diag.errors);
	ck_assert_ptr_null(diag.warnings);
}
END_TEST

/* Loading files. */

START_TEST(test_load_missing_file_names_path_and_strerror)
{
	struct config_diag	 diag = { 0 };
	char			*want;

	ck_assert_ptr_null(config_load("/nonexistent/mcp-broker.json",
	    &diag));
	ck_assert_uint_eq(diag.nerrors, 1);
	xasprintf(&want, "/nonexistent/mcp-broker.json: %s", strerror(ENOENT));
	ck_assert_str_eq(diag.errors[0], want);
	free(want);
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_load_reads_temp_file)
{
	static const char	 text[] = "{\"broker\":{\"max_sessions\":3},"
				     "\"mcpServers\":{\"t\":{\"command\":"
				     "\"/bin/true\"}}}\n";
	struct config_diag	 diag = { 0 };
	struct config		*conf;
	char			*path;

	path = temp_file(text, sizeof text - 1);
	conf = config_load(path, &diag);
	unlink(path);
	free(path);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_int_eq(conf->max_sessions, 3);
	ck_assert_ptr_nonnull(config_find_server(conf, "t"));
	config_free(conf);
}
END_TEST

START_TEST(test_load_reports_json_paths_not_file_paths)
{
	static const char	 text[] = "{\"broker\":{\"bogus\":1}}";
	struct config_diag	 diag = { 0 };
	char			*path;

	path = temp_file(text, sizeof text - 1);
	ck_assert_ptr_null(config_load(path, &diag));
	unlink(path);
	free(path);
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0], "broker.bogus: unknown key");
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_load_refuses_file_over_4_mib)
{
	struct config_diag	 diag = { 0 };
	char			*text, *path, *want;
	size_t			 len = 4 * 1024 * 1024 + 1;

	/* Valid JSON padded with spaces: only the size is wrong. */
	text = xmalloc(len);
	memset(text, ' ', len);
	memcpy(text, "{}", 2);
	path = temp_file(text, len);
	free(text);
	ck_assert_ptr_null(config_load(path, &diag));
	ck_assert_uint_eq(diag.nerrors, 1);
	xasprintf(&want, "%s: larger than 4194304 bytes (4 MiB), the most a "
	    "config file may be", path);
	ck_assert_str_eq(diag.errors[0], want);
	free(want);
	unlink(path);
	free(path);
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_load_accepts_file_of_exactly_4_mib)
{
	struct config	*conf;
	char		*text, *path;
	size_t		 len = 4 * 1024 * 1024;

	text = xmalloc(len);
	memset(text, ' ', len);
	memcpy(text, "{}", 2);
	path = temp_file(text, len);
	free(text);
	conf = config_load(path, NULL);
	unlink(path);
	free(path);
	ck_assert_ptr_nonnull(conf);
	config_free(conf);
}
END_TEST

START_TEST(test_load_refuses_directory)
{
	struct config_diag	 diag = { 0 };

	ck_assert_ptr_null(config_load("/tmp", &diag));
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0], "/tmp: not a regular file");
	config_diag_clear(&diag);
}
END_TEST

/* Lookup and comparison. */

START_TEST(test_find_server_by_name)
{
	struct config	*conf;

	conf = parse_q("{'mcpServers':{'a':{'command':'x'},"
	    "'b':{'command':'y'}}}", NULL);
	ck_assert_str_eq(config_find_server(conf, "b")->command, "y");
	ck_assert_str_eq(config_find_server(conf, "a")->command, "x");
	ck_assert_ptr_null(config_find_server(conf, "c"));
	config_free(conf);
}
END_TEST

START_TEST(test_server_equal_ignores_limits_and_disabled)
{
	struct config	*a, *b;

	a = parse_q("{'mcpServers':{'s':{'command':'x','args':['1'],"
	    "'env':{'A':'1'},'cwd':'/'}}}", NULL);
	b = parse_q("{'mcpServers':{'s':{'command':'x','args':['1'],"
	    "'env':{'A':'1'},'cwd':'/','max_sessions':3,"
	    "'request_timeout_s':9,'disabled':true}}}", NULL);
	ck_assert_int_eq(config_server_equal(config_find_server(a, "s"),
	    config_find_server(b, "s")), 1);
	config_free(a);
	config_free(b);
}
END_TEST

START_TEST(test_server_equal_ignores_env_order)
{
	struct config	*a, *b;

	a = parse_q("{'mcpServers':{'s':{'command':'x',"
	    "'env':{'A':'1','B':'2'}}}}", NULL);
	b = parse_q("{'mcpServers':{'s':{'command':'x',"
	    "'env':{'B':'2','A':'1'}}}}", NULL);
	ck_assert_int_eq(config_server_equal(config_find_server(a, "s"),
	    config_find_server(b, "s")), 1);
	config_free(a);
	config_free(b);
}
END_TEST

START_TEST(test_server_not_equal_when_start_differs)
{
	static const char	*variants[] = {
		"{'command':'y','args':['1'],'env':{'A':'1'},'cwd':'/'}",
		"{'command':'x','args':['2'],'env':{'A':'1'},'cwd':'/'}",
		"{'command':'x','args':['1','2'],'env':{'A':'1'},'cwd':'/'}",
		"{'command':'x','env':{'A':'1'},'cwd':'/'}",
		"{'command':'x','args':['1'],'env':{'A':'2'},'cwd':'/'}",
		"{'command':'x','args':['1'],'env':{'A':'1','B':'1'},"
		    "'cwd':'/'}",
		"{'command':'x','args':['1'],'cwd':'/'}",
		"{'command':'x','args':['1'],'env':{'A':'1'},'cwd':'/tmp'}",
		"{'command':'x','args':['1'],'env':{'A':'1'}}",
	};
	struct config		*a, *b;
	char			*q;
	size_t			 i;

	a = parse_q("{'mcpServers':{'s':{'command':'x','args':['1'],"
	    "'env':{'A':'1'},'cwd':'/'}}}", NULL);
	for (i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		xasprintf(&q, "{'mcpServers':{'s':%s}}", variants[i]);
		b = parse_q(q, NULL);
		ck_assert_ptr_nonnull(b);
		ck_assert_msg(config_server_equal(config_find_server(a, "s"),
		    config_find_server(b, "s")) == 0, "variant %zu", i);
		ck_assert_msg(config_server_equal(config_find_server(b, "s"),
		    config_find_server(a, "s")) == 0, "variant %zu", i);
		config_free(b);
		free(q);
	}
	config_free(a);
}
END_TEST

START_TEST(test_server_equal_when_handshake_keys_match)
{
	static const char	*body = "{'command':'x','protocol':'legacy',"
				    "'roots':['file:///a',{'uri':'file:///b',"
				    "'name':'B'}],'client_capabilities':"
				    "{'sampling':{},"
				    "'elicitation':{'form':{}}}}";
	struct config		*a, *b;

	a = parse_server(body);
	/* The order of the capabilities' keys does not matter. */
	b = parse_server("{'command':'x','protocol':'legacy',"
	    "'roots':['file:///a',{'uri':'file:///b','name':'B'}],"
	    "'client_capabilities':{'elicitation':{'form':{}},"
	    "'sampling':{}}}");
	ck_assert_int_eq(config_server_equal(config_find_server(a, "x"),
	    config_find_server(b, "x")), 1);
	config_free(a);
	config_free(b);
}
END_TEST

START_TEST(test_server_not_equal_when_protocol_differs)
{
	expect_server_differs("{'command':'x'}",
	    "{'command':'x','protocol':'legacy'}");
	expect_server_differs("{'command':'x','protocol':'auto'}",
	    "{'command':'x','protocol':'2026-07-28'}");
	expect_server_differs("{'command':'x','protocol':'legacy'}",
	    "{'command':'x','protocol':'2026-07-28'}");
}
END_TEST

START_TEST(test_server_not_equal_when_roots_differ)
{
	static const char	*base = "{'command':'x','roots':['file:///a',"
				    "{'uri':'file:///b','name':'B'}]}";

	expect_server_differs("{'command':'x'}", "{'command':'x','roots':[]}");
	expect_server_differs(base, "{'command':'x','roots':['file:///a',"
	    "{'uri':'file:///c','name':'B'}]}");
	expect_server_differs(base, "{'command':'x','roots':['file:///a',"
	    "{'uri':'file:///b','name':'C'}]}");
	expect_server_differs(base, "{'command':'x','roots':['file:///a',"
	    "'file:///b']}");
	expect_server_differs(base, "{'command':'x','roots':["
	    "{'uri':'file:///b','name':'B'},'file:///a']}");
	expect_server_differs(base, "{'command':'x','roots':['file:///a']}");
	expect_server_differs(base, "{'command':'x','roots':[]}");
}
END_TEST

START_TEST(test_server_not_equal_when_client_capabilities_differ)
{
	expect_server_differs("{'command':'x'}",
	    "{'command':'x','client_capabilities':{}}");
	expect_server_differs("{'command':'x','client_capabilities':{}}",
	    "{'command':'x','client_capabilities':{'sampling':{}}}");
	expect_server_differs("{'command':'x','client_capabilities':"
	    "{'sampling':{}}}",
	    "{'command':'x','client_capabilities':{'elicitation':{}}}");
	expect_server_differs("{'command':'x','client_capabilities':"
	    "{'elicitation':{}}}",
	    "{'command':'x','client_capabilities':{'elicitation':"
	    "{'form':{}}}}");
}
END_TEST

/* The shipped configs. */

START_TEST(test_installed_config_parses_with_defaults_spelled_out)
{
	struct config_diag		 diag = { 0 };
	struct config			*conf, *def;
	const struct server_conf	*sc;
	char				*path;

	path = top_path("conf/mcp-broker.json");
	conf = config_load(path, &diag);
	free(path);
	ck_assert_msg(conf != NULL, "%s", diag.nerrors ? diag.errors[0] : "");
	ck_assert_uint_eq(diag.nerrors, 0);
	ck_assert_uint_eq(diag.nwarnings, 0);
	def = config_default();
	ck_assert_str_eq(conf->socket, def->socket);
	ck_assert_uint_eq(conf->socket_mode, def->socket_mode);
	ck_assert_int_eq(conf->max_sessions, def->max_sessions);
	ck_assert_int_eq(conf->max_clients, def->max_clients);
	ck_assert_int_eq(conf->idle_timeout_s, def->idle_timeout_s);
	ck_assert_int_eq(conf->request_timeout_s, def->request_timeout_s);
	ck_assert_int_eq(conf->max_request_timeout_s,
	    def->max_request_timeout_s);
	ck_assert_int_eq(conf->start_timeout_s, def->start_timeout_s);
	ck_assert_int_eq(conf->shutdown_grace_ms, def->shutdown_grace_ms);
	ck_assert_uint_eq(conf->max_message_bytes, def->max_message_bytes);
	ck_assert_int_eq(conf->log_level, def->log_level);
	ck_assert_str_eq(conf->state_dir, def->state_dir);
	config_free(def);

	sc = config_find_server(conf, "demo");
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->command,
	    "/usr/local/libexec/mcp-broker/mcp-demo-server");
	ck_assert_int_eq(sc->disabled, 0);
	ck_assert_int_eq(sc->protocol, SERVER_PROTOCOL_AUTO);
	ck_assert_int_eq(sc->roots_set, 0);
	sc = config_find_server(conf, "playwright");
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->command, "npx");
	ck_assert_uint_eq(sc->argc, 11);
	ck_assert_str_eq(sc->argv[1], "@playwright/mcp@latest");
	ck_assert_str_eq(sc->argv[8], "--isolated");
	ck_assert_str_eq(sc->argv[10], "${session_dir}/output");
	ck_assert_int_eq(sc->session_dir, 1);
	ck_assert_int_eq(sc->disabled, 1);
	ck_assert_int_eq(sc->max_sessions, 32);
	config_free(conf);
}
END_TEST

START_TEST(test_demo_config_parses_once_substituted)
{
	struct config_diag		 diag = { 0 };
	struct config			*conf;
	const struct server_conf	*sc;
	char				*path, *text, *s1, *s2;
	size_t				 len;

	path = top_path("conf/demo.json.in");
	text = read_text(path, &len);
	free(path);
	ck_assert_ptr_nonnull(text);
	s1 = replace(text, "@SOCKET@", "/tmp/run/mcp-broker.sock");
	s2 = replace(s1, "@DEMO_SERVER@", "/tmp/build/mcp-demo-server");
	conf = config_parse(s2, strlen(s2), &diag);
	free(text);
	free(s1);
	free(s2);
	ck_assert_ptr_nonnull(conf);
	ck_assert_uint_eq(diag.nwarnings, 0);
	ck_assert_str_eq(conf->socket, "/tmp/run/mcp-broker.sock");
	ck_assert_int_eq(conf->max_sessions, 64);
	ck_assert_int_eq(conf->log_level, LOG_LEVEL_INFO);
	ck_assert_uint_eq(conf->nservers, 1);
	sc = config_find_server(conf, "demo");
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->command, "/tmp/build/mcp-demo-server");
	ck_assert_uint_eq(sc->argc, 1);
	config_free(conf);
}
END_TEST

/* Every behaviour of the config module. */
static Suite *
config_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");

	tc = tcase_create("valid");
	tcase_add_test(tc, test_default_has_the_documented_values);
	tcase_add_test(tc, test_empty_object_gives_defaults_and_no_servers);
	tcase_add_test(tc, test_empty_mcpservers_object_is_accepted);
	tcase_add_test(tc, test_playwright_example_parses);
	tcase_add_test(tc, test_every_key_is_applied);
	tcase_add_test(tc, test_containment_keys_are_applied_and_checked);
	tcase_add_test(tc, test_claude_desktop_entry_parses_with_warning);
	tcase_add_test(tc, test_type_stdio_is_accepted_silently);
	tcase_add_test(tc, test_warns_on_keys_other_hosts_use);
	tcase_add_test(tc, test_unset_server_timeouts_are_config_unset);
	tcase_add_test(tc, test_argv_is_command_then_args_null_terminated);
	tcase_add_test(tc, test_env_is_name_equals_value_null_terminated);
	tcase_add_test(tc,
	    test_parses_socket_mode_with_and_without_leading_zero);
	tcase_add_test(tc, test_warns_when_socket_mode_lets_every_user_connect);
	tcase_add_test(tc, test_parses_every_log_level);
	tcase_add_test(tc, test_accepts_integral_exponent_numbers);
	tcase_add_test(tc, test_accepts_longest_socket_path_and_server_name);
	tcase_add_test(tc, test_parse_accepts_null_diag);
	tcase_add_test(tc,
	    test_accepts_max_request_timeout_equal_to_request_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("top level");
	tcase_add_test(tc, test_rejects_invalid_json_with_line_and_column);
	tcase_add_test(tc, test_rejects_empty_text);
	tcase_add_test(tc, test_rejects_text_after_the_json_value);
	tcase_add_test(tc, test_rejects_nul_byte);
	tcase_add_test(tc, test_rejects_top_level_non_object);
	tcase_add_test(tc, test_rejects_unknown_top_level_key);
	tcase_add_test(tc, test_rejects_non_object_broker);
	tcase_add_test(tc, test_rejects_non_object_mcpservers);
	tcase_add_test(tc, test_rejects_duplicate_keys_with_their_path);
	tcase_add_test(tc, test_collects_all_errors_not_just_the_first);
	tcase_add_test(tc, test_parse_appends_to_diag);
	suite_add_tcase(s, tc);

	tc = tcase_create("broker");
	tcase_add_test(tc, test_rejects_unknown_broker_key);
	tcase_add_test(tc, test_rejects_empty_or_non_string_socket);
	tcase_add_test(tc, test_rejects_socket_path_too_long_for_sun_path);
	tcase_add_test(tc, test_rejects_bad_socket_mode);
	tcase_add_test(tc, test_rejects_max_sessions_out_of_range);
	tcase_add_test(tc, test_rejects_fractional_integer);
	tcase_add_test(tc, test_rejects_boolean_string_and_null_integers);
	tcase_add_test(tc, test_rejects_huge_integer);
	tcase_add_test(tc, test_rejects_max_clients_out_of_range);
	tcase_add_test(tc,
	    test_per_uid_bounds_default_to_a_quarter_and_take_zero);
	tcase_add_test(tc, test_rejects_negative_idle_timeout);
	tcase_add_test(tc, test_rejects_zero_request_timeout);
	tcase_add_test(tc, test_rejects_zero_max_request_timeout);
	tcase_add_test(tc,
	    test_rejects_max_request_timeout_below_request_timeout);
	tcase_add_test(tc, test_rejects_zero_start_timeout);
	tcase_add_test(tc, test_rejects_shutdown_grace_out_of_range);
	tcase_add_test(tc, test_rejects_max_message_bytes_out_of_range);
	tcase_add_test(tc, test_rejects_unknown_log_level);
	suite_add_tcase(s, tc);

	tc = tcase_create("access control");
	tcase_add_test(tc, test_access_control_is_off_by_default);
	tcase_add_test(tc, test_accepts_user_names_and_uids_in_allow_uids);
	tcase_add_test(tc, test_accepts_group_names_and_gids_in_allow_groups);
	tcase_add_test(tc, test_accepts_admin_group_by_name_or_gid);
	tcase_add_test(tc, test_accepts_socket_group_by_name_or_gid);
	tcase_add_test(tc, test_accepts_1024_entries_in_each_allow_list);
	tcase_add_test(tc,
	    test_empty_allow_list_is_set_and_warns_only_root_may_connect);
	tcase_add_test(tc, test_no_socket_mode_warning_under_an_allow_list);
	tcase_add_test(tc, test_rejects_unknown_user_in_allow_uids);
	tcase_add_test(tc, test_hints_that_a_quoted_number_is_a_name);
	tcase_add_test(tc, test_rejects_unknown_group_with_its_path);
	tcase_add_test(tc, test_collects_every_bad_allow_list_entry);
	tcase_add_test(tc, test_rejects_non_array_allow_lists);
	tcase_add_test(tc, test_rejects_allow_list_entries_of_the_wrong_type);
	tcase_add_test(tc,
	    test_rejects_more_than_1024_entries_in_an_allow_list);
	tcase_add_test(tc, test_checks_allow_list_entry_types_past_the_bound);
	suite_add_tcase(s, tc);

	tc = tcase_create("servers");
	tcase_add_test(tc, test_rejects_invalid_server_names);
	tcase_add_test(tc, test_escapes_control_characters_in_paths);
	tcase_add_test(tc, test_rejects_non_object_server_entry);
	tcase_add_test(tc, test_requires_command);
	tcase_add_test(tc, test_rejects_empty_or_non_string_command);
	tcase_add_test(tc, test_warns_on_command_with_space_and_no_args);
	tcase_add_test(tc, test_rejects_non_array_args);
	tcase_add_test(tc, test_rejects_non_string_arg_with_json_path);
	tcase_add_test(tc, test_rejects_non_object_env);
	tcase_add_test(tc, test_rejects_non_string_env_value);
	tcase_add_test(tc, test_rejects_invalid_env_names);
	tcase_add_test(tc, test_rejects_empty_or_non_string_cwd);
	tcase_add_test(tc, test_rejects_server_integers_out_of_range);
	tcase_add_test(tc,
	    test_rejects_server_request_timeout_above_broker_cap);
	tcase_add_test(tc, test_rejects_non_boolean_disabled);
	tcase_add_test(tc, test_skips_remote_server_by_url_with_a_warning);
	tcase_add_test(tc, test_skips_remote_server_by_type_with_a_warning);
	tcase_add_test(tc, test_accepts_vscode_servers_and_inputs);
	tcase_add_test(tc, test_rejects_non_string_type);
	tcase_add_test(tc, test_rejects_unknown_server_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("expansion");
	tcase_add_test(tc, test_expands_variables_in_command);
	tcase_add_test(tc, test_expands_variables_in_args);
	tcase_add_test(tc, test_expands_variables_in_env_values);
	tcase_add_test(tc, test_expands_variables_in_cwd);
	tcase_add_test(tc, test_double_dollar_is_a_literal_dollar);
	tcase_add_test(tc, test_dollar_before_anything_else_is_kept);
	tcase_add_test(tc, test_expanded_values_are_not_expanded_again);
	tcase_add_test(tc, test_rejects_unset_variable_naming_its_path);
	tcase_add_test(tc, test_reports_every_unset_variable);
	tcase_add_test(tc, test_rejects_unterminated_brace);
	tcase_add_test(tc, test_rejects_braces_without_a_variable_name);
	tcase_add_test(tc, test_rejects_command_or_cwd_empty_once_expanded);
	tcase_add_test(tc, test_server_equal_compares_expanded_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake keys");
	tcase_add_test(tc,
	    test_server_declares_auto_protocol_and_nothing_else_by_default);
	tcase_add_test(tc, test_parses_every_protocol);
	tcase_add_test(tc, test_accepts_string_root);
	tcase_add_test(tc, test_accepts_object_root_with_and_without_name);
	tcase_add_test(tc, test_empty_roots_array_sets_roots_set_with_no_roots);
	tcase_add_test(tc, test_accepts_64_roots);
	tcase_add_test(tc, test_keeps_client_capabilities_as_given);
	tcase_add_test(tc, test_accepts_empty_client_capabilities);
	tcase_add_test(tc, test_rejects_unknown_protocol);
	tcase_add_test(tc, test_rejects_non_array_roots);
	tcase_add_test(tc, test_rejects_more_than_64_roots);
	tcase_add_test(tc, test_rejects_root_that_is_neither_string_nor_object);
	tcase_add_test(tc, test_rejects_string_root_that_is_not_a_file_uri);
	tcase_add_test(tc,
	    test_rejects_object_root_uri_that_is_not_a_file_uri);
	tcase_add_test(tc, test_requires_uri_in_object_root);
	tcase_add_test(tc, test_rejects_unknown_key_in_object_root);
	tcase_add_test(tc, test_rejects_empty_or_non_string_root_name);
	tcase_add_test(tc, test_collects_every_bad_root_even_past_the_bound);
	tcase_add_test(tc, test_rejects_non_object_client_capabilities);
	tcase_add_test(tc, test_rejects_roots_in_client_capabilities);
	tcase_add_test(tc, test_rejects_unknown_client_capability);
	tcase_add_test(tc, test_rejects_non_object_sampling_or_elicitation);
	suite_add_tcase(s, tc);

	tc = tcase_create("diag");
	tcase_add_test(tc, test_diag_clear_is_safe_on_empty_diag);
	tcase_add_test(tc, test_diag_clear_frees_and_zeroes);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_load_missing_file_names_path_and_strerror);
	tcase_add_test(tc, test_load_reads_temp_file);
	tcase_add_test(tc, test_load_reports_json_paths_not_file_paths);
	tcase_add_test(tc, test_load_refuses_file_over_4_mib);
	tcase_add_test(tc, test_load_accepts_file_of_exactly_4_mib);
	tcase_add_test(tc, test_load_refuses_directory);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup and compare");
	tcase_add_test(tc, test_find_server_by_name);
	tcase_add_test(tc, test_server_equal_ignores_limits_and_disabled);
	tcase_add_test(tc, test_server_equal_ignores_env_order);
	tcase_add_test(tc, test_server_not_equal_when_start_differs);
	tcase_add_test(tc, test_server_equal_when_handshake_keys_match);
	tcase_add_test(tc, test_server_not_equal_when_protocol_differs);
	tcase_add_test(tc, test_server_not_equal_when_roots_differ);
	tcase_add_test(tc,
	    test_server_not_equal_when_client_capabilities_differ);
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped configs");
	tcase_add_test(tc,
	    test_installed_config_parses_with_defaults_spelled_out);
	tcase_add_test(tc, test_demo_config_parses_once_substituted);
	suite_add_tcase(s, tc);

	return (s);
}

/* Run the suite; nonzero exit on any failure. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
