/*
 * The entries of "mcpServers": validate each into a struct server_conf,
 * free it, and compare two of them at reload.
 *
 * Only stdio servers are brokered. Keys other MCP hosts write are
 * skipped with a warning, so an entry copied from another host's file
 * works as it is; any other unknown key is an error.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "config_server.h"
#include "log.h"
#include "walk.h"
#include "workdir.h"
#include "xmalloc.h"

/* Server names appear in logs and status tables, so they are kept short. */
#define CONFIG_MAX_NAME		64

/* The most roots one server may be given: each goes in every roots/list. */
#define CONFIG_ROOTS_MAX	64

/* What every root URI starts with: MCP roots are file URIs. */
#define CONFIG_ROOT_SCHEME	"file://"

static const struct walk_int_key config_server_ints[] = {
	{ "max_sessions", 0, CONFIG_MAX_COUNT,
	  offsetof(struct server_conf, max_sessions) },
	{ "idle_timeout_s", 0, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct server_conf, idle_timeout_s) },
	{ "request_timeout_s", 1, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct server_conf, request_timeout_s) },
	{ "start_timeout_s", 1, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct server_conf, start_timeout_s) },
	{ "pids_max", 1, CONFIG_MAX_COUNT,
	  offsetof(struct server_conf, pids_max) },
	{ "cpu_weight", 1, CONFIG_MAX_CPU_WEIGHT,
	  offsetof(struct server_conf, cpu_weight) },
};

/* The spellings of a server's "protocol". */
static const struct {
	const char		*name;
	enum server_protocol	 protocol;
} config_protocols[] = {
	{ "auto", SERVER_PROTOCOL_AUTO },
	{ "legacy", SERVER_PROTOCOL_LEGACY },
	{ "2026-07-28", SERVER_PROTOCOL_MODERN },
};

/* What "client_capabilities" may declare; roots come from "roots". */
static const char *const config_client_capabilities[] = {
	"sampling", "elicitation", NULL
};

/* Keys other MCP hosts put in a server entry; harmless to skip. */
static const char *const config_server_ignored[] = {
	"autoApprove", "alwaysAllow", "timeout", "description", "disabledTools",
	"dev", NULL
};

static int	 config_server_in_list(const char *, const char *const *);
static int	 config_server_name_valid(const char *);
static int	 config_server_remote(const cJSON *);
static int	 config_server_uses_session(const cJSON *);
static char	*config_server_expand(struct walk *, struct server_conf *,
		    const char *, const char *);
static char	*config_server_escape(const char *);
static void	 config_server_parse_args(struct walk *, struct server_conf *,
		    const cJSON *, const char *);
static void	 config_server_parse_env(struct walk *, struct server_conf *,
		    const cJSON *, const char *);
static void	 config_server_parse_protocol(struct walk *,
		    struct server_conf *, const cJSON *, const char *);
static int	 config_server_uri_valid(const char *);
static int	 config_server_parse_root(struct walk *, const cJSON *,
		    const char *, const char **, const char **);
static void	 config_server_parse_roots(struct walk *,
		    struct server_conf *, const cJSON *, const char *);
static void	 config_server_parse_capabilities(struct walk *,
		    struct server_conf *, const cJSON *, const char *);
static void	 config_server_parse(struct walk *, struct server_conf *,
		    const cJSON *, const char *, int);
static int	 config_server_env_contains(const struct server_conf *,
		    const char *);
static int	 config_server_string_equal(const char *, const char *);

/* Whether name is in a NULL-terminated list. */
static int
config_server_in_list(const char *name, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcmp(name, *list) == 0)
			return (1);
	}
	return (0);
}

/* A server name: 1 to 64 of [A-Za-z0-9._-], safe in logs and tables. */
static int
config_server_name_valid(const char *name)
{
	size_t	len;

	len = strlen(name);
	if (len == 0 || len > CONFIG_MAX_NAME)
		return (0);
	return (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") == len);
}

/* Whether an entry is for a remote server: a url, or a non-stdio type. */
static int
config_server_remote(const cJSON *entry)
{
	const cJSON	*type;

	if (cJSON_GetObjectItemCaseSensitive(entry, "url") != NULL)
		return (1);
	type = cJSON_GetObjectItemCaseSensitive(entry, "type");
	if (cJSON_IsString(type) && strcmp(type->valuestring, "stdio") != 0)
		return (1);
	return (0);
}

/*
 * Whether an entry's args or env values refer to a session value, so
 * that they are kept as templates and expanded for each session.
 */
static int
config_server_uses_session(const cJSON *entry)
{
	const cJSON	*list, *item;
	size_t		 i;
	const char	*keys[] = { "args", "env" };

	for (i = 0; i < WALK_NITEMS(keys); i++) {
		list = cJSON_GetObjectItemCaseSensitive(entry, keys[i]);
		if (!cJSON_IsArray(list) && !cJSON_IsObject(list))
			continue;
		cJSON_ArrayForEach(item, list) {
			if (cJSON_IsString(item) &&
			    workdir_refers(item->valuestring, NULL))
				return (1);
		}
	}
	return (0);
}

/*
 * An arg or env value expanded from the daemon's environment; session
 * values are kept as templates if the entry uses any. ${session_dir}
 * needs "session_dir": true. NULL after an error at path.
 */
static char *
config_server_expand(struct walk *walk, struct server_conf *sc,
    const char *s, const char *path)
{
	if (!sc->session_dir && workdir_refers(s, "session_dir")) {
		walk_error(walk, path, "${session_dir} needs \"session_dir\": "
		    "true in this server");
		return (NULL);
	}
	return (walk_expand_keep(walk, s, path,
	    sc->templates ? workdir_names : NULL));
}

/* s as a template that expands to itself: each "$" written "$$". */
static char *
config_server_escape(const char *s)
{
	char	*out, *o;

	o = out = xmalloc(2 * strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if (*s == '$')
			*o++ = '$';
		*o++ = *s;
	}
	*o = '\0';
	return (out);
}

/*
 * Validate and expand "args" and build argv: the command, then the args.
 * Without a valid command (sc->command NULL) the args are only validated.
 */
static void
config_server_parse_args(struct walk *walk, struct server_conf *sc,
    const cJSON *args, const char *path)
{
	const cJSON	*item;
	char		*sub, **argv;
	size_t		 n = 0, i;
	int		 bad = 0;

	if (args != NULL && !cJSON_IsArray(args)) {
		walk_error(walk, path, "expected an array of strings");
		return;
	}
	if (args != NULL) {
		for (item = args->child; item != NULL; item = item->next)
			n++;
	}
	/* argv[0] is the command's, argv[n + 1] the terminating NULL. */
	argv = xcalloc(n + 2, sizeof *argv);
	if (args != NULL) {
		i = 0;
		for (item = args->child; item != NULL; item = item->next) {
			sub = walk_path_index(path, i++);
			if (!cJSON_IsString(item)) {
				walk_error(walk, sub, "expected a string");
				bad = 1;
			} else if ((argv[i] = config_server_expand(walk, sc,
			    item->valuestring, sub)) == NULL)
				bad = 1;
			free(sub);
		}
	}
	if (bad || sc->command == NULL) {
		for (i = 1; i <= n; i++)
			free(argv[i]);
		free(argv);
		return;
	}
	if (sc->templates)
		argv[0] = config_server_escape(sc->command);
	else
		argv[0] = xstrdup(sc->command);
	sc->argv = argv;
	sc->argc = n + 1;
}

/* Validate "env" and build the "NAME=value" list, values expanded. */
static void
config_server_parse_env(struct walk *walk, struct server_conf *sc,
    const cJSON *env, const char *path)
{
	const cJSON	*item;
	char		*sub, *value;
	size_t		 n = 0;

	if (!cJSON_IsObject(env)) {
		walk_error(walk, path, "expected an object of strings");
		return;
	}
	walk_check_duplicates(walk, env, path);
	for (item = env->child; item != NULL; item = item->next)
		n++;
	sc->env = xreallocarray(NULL, n + 1, sizeof *sc->env);
	sc->envc = 0;
	sc->env[0] = NULL;

	for (item = env->child; item != NULL; item = item->next) {
		sub = walk_path_key(path, item->string);
		if (!walk_env_name_valid(item->string)) {
			walk_error(walk, sub, "not a valid environment "
			    "variable name (letters, digits and \"_\", not "
			    "starting with a digit)");
		} else if (!cJSON_IsString(item))
			walk_error(walk, sub, "expected a string");
		else if ((value = config_server_expand(walk, sc,
		    item->valuestring, sub)) != NULL) {
			xasprintf(&sc->env[sc->envc++], "%s=%s",
			    item->string, value);
			sc->env[sc->envc] = NULL;
			free(value);
		}
		free(sub);
	}
}

/* server.protocol: "auto", "legacy" or "2026-07-28". */
static void
config_server_parse_protocol(struct walk *walk, struct server_conf *sc,
    const cJSON *item, const char *path)
{
	size_t	i;

	if (cJSON_IsString(item)) {
		for (i = 0; i < WALK_NITEMS(config_protocols); i++) {
			if (strcmp(item->valuestring,
			    config_protocols[i].name) == 0) {
				sc->protocol = config_protocols[i].protocol;
				return;
			}
		}
	}
	walk_error(walk, path, "expected \"auto\", \"legacy\" or "
	    "\"2026-07-28\"");
}

/* Whether s is a file:// URI with something after the scheme. */
static int
config_server_uri_valid(const char *s)
{
	size_t	len = strlen(CONFIG_ROOT_SCHEME);

	return (strncmp(s, CONFIG_ROOT_SCHEME, len) == 0 && s[len] != '\0');
}

/*
 * Validate one entry of "roots": a URI, or {"uri", "name"?}. On success
 * uri and name (NULL if absent) point into the entry.
 */
static int
config_server_parse_root(struct walk *walk, const cJSON *entry,
    const char *path, const char **uri, const char **name)
{
	const cJSON	*item, *uri_item = NULL, *name_item = NULL;
	char		*sub;
	size_t		 before = walk->nerrors;

	*uri = *name = NULL;
	if (cJSON_IsString(entry)) {
		if (!config_server_uri_valid(entry->valuestring)) {
			walk_error(walk, path, "expected a file:// URI");
			return (-1);
		}
		*uri = entry->valuestring;
		return (0);
	}
	if (!cJSON_IsObject(entry)) {
		walk_error(walk, path, "expected a file:// URI or an object "
		    "with \"uri\" and an optional \"name\"");
		return (-1);
	}

	walk_check_duplicates(walk, entry, path);
	for (item = entry->child; item != NULL; item = item->next) {
		if (strcmp(item->string, "uri") == 0)
			uri_item = item;
		else if (strcmp(item->string, "name") == 0)
			name_item = item;
		else {
			sub = walk_path_key(path, item->string);
			walk_error(walk, sub, "unknown key");
			free(sub);
		}
	}
	if (uri_item == NULL)
		walk_error(walk, path, "\"uri\" is required");
	else if (!cJSON_IsString(uri_item) ||
	    !config_server_uri_valid(uri_item->valuestring)) {
		sub = walk_path_key(path, "uri");
		walk_error(walk, sub, "expected a file:// URI");
		free(sub);
	}
	if (name_item != NULL) {
		sub = walk_path_key(path, "name");
		walk_get_string(walk, name_item, sub);
		free(sub);
	}
	if (walk->nerrors != before)
		return (-1);
	*uri = uri_item->valuestring;
	if (name_item != NULL)
		*name = name_item->valuestring;
	return (0);
}

/*
 * Validate "roots" into sc->roots. Every entry is checked even past
 * the bound, so one run reports everything; [] is valid and still sets
 * roots_set (the capability is declared, with no roots).
 */
static void
config_server_parse_roots(struct walk *walk, struct server_conf *sc,
    const cJSON *roots, const char *path)
{
	const cJSON	*entry;
	const char	*uri, *name;
	char		*sub;
	size_t		 n = 0, i = 0;
	int		 keep;

	if (!cJSON_IsArray(roots)) {
		walk_error(walk, path, "expected an array of file:// URIs "
		    "or {\"uri\", \"name\"} objects");
		return;
	}
	sc->roots_set = 1;
	for (entry = roots->child; entry != NULL; entry = entry->next)
		n++;
	keep = (n <= CONFIG_ROOTS_MAX);
	if (!keep) {
		walk_error(walk, path, "at most %d roots are allowed; there "
		    "are %zu", CONFIG_ROOTS_MAX, n);
	} else if (n != 0)
		sc->roots = xcalloc(n, sizeof *sc->roots);

	for (entry = roots->child; entry != NULL; entry = entry->next) {
		sub = walk_path_index(path, i++);
		if (config_server_parse_root(walk, entry, sub, &uri,
		    &name) == 0 && keep) {
			sc->roots[sc->nroots].uri = xstrdup(uri);
			if (name != NULL)
				sc->roots[sc->nroots].name = xstrdup(name);
			sc->nroots++;
		}
		free(sub);
	}
}

/*
 * Validate "client_capabilities" and keep a copy: sampling and
 * elicitation only, each an object the child is shown as given. roots
 * are not allowed here because the broker answers roots/list itself.
 */
static void
config_server_parse_capabilities(struct walk *walk,
    struct server_conf *sc, const cJSON *caps, const char *path)
{
	const cJSON	*item;
	char		*sub;
	size_t		 before = walk->nerrors;

	if (!cJSON_IsObject(caps)) {
		walk_error(walk, path, "expected an object");
		return;
	}
	walk_check_duplicates(walk, caps, path);
	for (item = caps->child; item != NULL; item = item->next) {
		sub = walk_path_key(path, item->string);
		if (config_server_in_list(item->string,
		    config_client_capabilities)) {
			if (!cJSON_IsObject(item))
				walk_error(walk, sub, "expected an object");
		} else if (strcmp(item->string, "roots") == 0) {
			walk_error(walk, sub, "the broker declares roots "
			    "itself from \"roots\"; allowed here: sampling, "
			    "elicitation");
		} else {
			walk_error(walk, sub, "unknown capability (allowed: "
			    "sampling, elicitation)");
		}
		free(sub);
	}
	if (walk->nerrors != before)
		return;
	if ((sc->client_capabilities = cJSON_Duplicate(caps, 1)) == NULL)
		fatalx("out of memory copying %s", path);
}

/*
 * Validate one mcpServers entry into sc; sc->name is already set. cap is
 * broker.max_request_timeout_s, or CONFIG_UNSET if that was invalid and
 * so nothing is compared against it.
 */
static void
config_server_parse(struct walk *walk, struct server_conf *sc,
    const cJSON *entry, const char *path, int cap)
{
	const struct walk_int_key	*key;
	const cJSON			*item, *command = NULL, *args = NULL;
	char				*sub;
	long long			 v;

	if (!cJSON_IsObject(entry)) {
		walk_error(walk, path, "expected an object");
		return;
	}
	walk_check_duplicates(walk, entry, path);
	/* Read first: args and env are checked against them. */
	item = cJSON_GetObjectItemCaseSensitive(entry, "session_dir");
	sc->session_dir = cJSON_IsTrue(item);
	sc->templates = config_server_uses_session(entry);

	for (item = entry->child; item != NULL; item = item->next) {
		sub = walk_path_key(path, item->string);
		key = walk_find_int(config_server_ints,
		    WALK_NITEMS(config_server_ints), item->string);
		if (key != NULL) {
			if (walk_get_int(walk, item, sub, key->min,
			    key->max, &v) == 0)
				*(int *)((char *)sc + key->offset) = (int)v;
		} else if (strcmp(item->string, "memory_max") == 0) {
			if (walk_get_int(walk, item, sub, CONFIG_MIN_MEMORY,
			    CONFIG_MAX_MEMORY, &v) == 0)
				sc->memory_max = v;
		} else if (strcmp(item->string, "command") == 0)
			command = item;
		else if (strcmp(item->string, "args") == 0)
			args = item;
		else if (strcmp(item->string, "env") == 0) {
			if (sc->env == NULL)
				config_server_parse_env(walk, sc, item, sub);
		} else if (strcmp(item->string, "cwd") == 0) {
			if (sc->cwd == NULL)
				sc->cwd = walk_expand_nonempty(walk, item,
				    sub);
		} else if (strcmp(item->string, "session_dir") == 0) {
			if (!cJSON_IsBool(item))
				walk_error(walk, sub, "expected true or "
				    "false");
		} else if (strcmp(item->string, "disabled") == 0) {
			if (!cJSON_IsBool(item))
				walk_error(walk, sub, "expected true or "
				    "false");
			else
				sc->disabled = cJSON_IsTrue(item);
		} else if (strcmp(item->string, "protocol") == 0)
			config_server_parse_protocol(walk, sc, item, sub);
		else if (strcmp(item->string, "roots") == 0) {
			if (!sc->roots_set)
				config_server_parse_roots(walk, sc, item, sub);
		} else if (strcmp(item->string, "client_capabilities") == 0) {
			if (sc->client_capabilities == NULL)
				config_server_parse_capabilities(walk, sc,
				    item, sub);
		} else if (strcmp(item->string, "type") == 0) {
			/* A string other than "stdio" was refused above. */
			if (!cJSON_IsString(item))
				walk_error(walk, sub, "expected \"stdio\"");
		} else if (config_server_in_list(item->string,
		    config_server_ignored))
			walk_warning(walk, sub, "ignored (not used by "
			    "mcp-broker)");
		else
			walk_error(walk, sub, "unknown key");
		free(sub);
	}

	if (command == NULL)
		walk_error(walk, path, "\"command\" is required");
	else {
		sub = walk_path_key(path, "command");
		sc->command = walk_expand_nonempty(walk, command, sub);
		if (sc->command != NULL) {
			if (strpbrk(sc->command, " \t") != NULL &&
			    args == NULL) {
				walk_warning(walk, sub, "contains a space "
				    "but there are no \"args\"; the command "
				    "is run without a shell, so arguments "
				    "belong in \"args\"");
			}
		}
		free(sub);
	}
	sub = walk_path_key(path, "args");
	config_server_parse_args(walk, sc, args, sub);
	free(sub);

	if (sc->request_timeout_s != CONFIG_UNSET && cap != CONFIG_UNSET &&
	    sc->request_timeout_s > cap) {
		sub = walk_path_key(path, "request_timeout_s");
		walk_error(walk, sub, "must be at most "
		    "broker.max_request_timeout_s (%d)", cap);
		free(sub);
	}
}

/*
 * The server entries of the object under key ("mcpServers", or "servers"
 * as VS Code names it), their count in *np (the caller frees each with
 * config_server_clear, then the array); cap is as for
 * config_server_parse. NULL with *np 0 if it is not an object.
 *
 * An entry for a remote server (a url, or a type other than stdio) is
 * skipped with a warning rather than refused, so that a host's whole
 * config pastes in: the broker runs the stdio servers of it.
 */
struct server_conf *
config_server_parse_all(struct walk *walk, const cJSON *servers,
    const char *key, int cap, size_t *np)
{
	const cJSON		*entry;
	struct server_conf	*list, *sc;
	char			*path;
	size_t			 n = 0;

	*np = 0;
	if (!cJSON_IsObject(servers)) {
		walk_error(walk, key, "expected an object");
		return (NULL);
	}
	walk_check_duplicates(walk, servers, key);
	for (entry = servers->child; entry != NULL; entry = entry->next)
		n++;
	list = xcalloc(n, sizeof *list);

	for (entry = servers->child; entry != NULL; entry = entry->next) {
		path = walk_path_key(key, entry->string);
		if (cJSON_IsObject(entry) && config_server_remote(entry)) {
			walk_warning(walk, path, "skipped: only stdio servers "
			    "are brokered (this entry is a remote server)");
			free(path);
			continue;
		}
		if (!config_server_name_valid(entry->string)) {
			walk_error(walk, path, "a server name must be 1 to "
			    "%d characters, each a letter, a digit, \".\", "
			    "\"_\" or \"-\"", CONFIG_MAX_NAME);
			free(path);
			continue;
		}
		sc = &list[(*np)++];
		sc->name = xstrdup(entry->string);
		sc->max_sessions = 0;
		sc->idle_timeout_s = CONFIG_UNSET;
		sc->request_timeout_s = CONFIG_UNSET;
		sc->start_timeout_s = CONFIG_UNSET;
		sc->protocol = SERVER_PROTOCOL_AUTO;
		config_server_parse(walk, sc, entry, path, cap);
		free(path);
	}
	return (list);
}

/* Free what one server entry holds (not the entry itself). */
void
config_server_clear(struct server_conf *sc)
{
	size_t	i;

	free(sc->name);
	free(sc->command);
	if (sc->argv != NULL) {
		for (i = 0; i < sc->argc; i++)
			free(sc->argv[i]);
		free(sc->argv);
	}
	if (sc->env != NULL) {
		for (i = 0; i < sc->envc; i++)
			free(sc->env[i]);
		free(sc->env);
	}
	free(sc->cwd);
	for (i = 0; i < sc->nroots; i++) {
		free(sc->roots[i].uri);
		free(sc->roots[i].name);
	}
	free(sc->roots);
	cJSON_Delete(sc->client_capabilities);
}

/* Whether "NAME=value" is in a server's environment. */
static int
config_server_env_contains(const struct server_conf *sc, const char *entry)
{
	size_t	i;

	for (i = 0; i < sc->envc; i++) {
		if (strcmp(sc->env[i], entry) == 0)
			return (1);
	}
	return (0);
}

/* Whether two strings, either of which may be NULL, are equal. */
static int
config_server_string_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * Whether two entries start the same process and greet it the same way:
 * command, argv, env and cwd (as expanded at load), session_dir, then
 * protocol, roots
 * and client_capabilities (what the broker declares in the handshake)
 * equal.
 * A reload restarts a server's sessions only if this is 0; limits,
 * timeouts and "disabled" are not compared. Env order does not matter
 * (names are unique, so equal counts and inclusion mean equal sets);
 * roots order does, since the child sees the list as given.
 */
int
config_server_equal(const struct server_conf *a, const struct server_conf *b)
{
	size_t	i;

	if (strcmp(a->command, b->command) != 0)
		return (0);
	if (a->argc != b->argc)
		return (0);
	for (i = 0; i < a->argc; i++) {
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return (0);
	}
	if (a->envc != b->envc)
		return (0);
	for (i = 0; i < a->envc; i++) {
		if (!config_server_env_contains(b, a->env[i]))
			return (0);
	}
	if (!config_server_string_equal(a->cwd, b->cwd))
		return (0);
	if (a->session_dir != b->session_dir || a->templates != b->templates)
		return (0);

	if (a->protocol != b->protocol)
		return (0);
	if (a->roots_set != b->roots_set || a->nroots != b->nroots)
		return (0);
	for (i = 0; i < a->nroots; i++) {
		if (strcmp(a->roots[i].uri, b->roots[i].uri) != 0 ||
		    !config_server_string_equal(a->roots[i].name,
		    b->roots[i].name))
			return (0);
	}
	if (a->client_capabilities == NULL || b->client_capabilities == NULL)
		return (a->client_capabilities == b->client_capabilities);
	return (cJSON_Compare(a->client_capabilities, b->client_capabilities,
	    1));
}
