/*
 * The configuration file: parse, validate, compare.
 *
 * Every error names its JSON path, and all of them are collected rather
 * than the first only, so one run of --check-config shows everything that
 * is wrong with a file. A config with any error is never returned: a bad
 * file at reload changes nothing.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "config.h"
#include "xmalloc.h"

/* A file larger than this is refused before it is read further. */
#define CONFIG_MAX_FILE_BYTES	(4 * 1024 * 1024)

/* Server names appear in logs and status tables, so they are kept short. */
#define CONFIG_MAX_NAME		64

/* The largest max_sessions and max_clients. */
#define CONFIG_MAX_COUNT	1000000

/* The largest timeout in seconds: in milliseconds it still fits an int. */
#define CONFIG_MAX_TIMEOUT_S	1000000

/* A key quoted in a message is cut at this length to bound the message. */
#define CONFIG_MAX_PATH_KEY	64

/* The most roots one server may be given: each goes in every roots/list. */
#define CONFIG_ROOTS_MAX	64

/* What every root URI starts with: MCP roots are file URIs. */
#define CONFIG_ROOT_SCHEME	"file://"

/* The largest uid or gid: (uid_t)-1 means "no change" to chown. */
#define CONFIG_ID_MAX		4294967294LL

/* The largest buffer a getpwnam_r or getgrnam_r answer may need. */
#define CONFIG_NSS_BUF_MAX	(1024 * 1024)

/* sun_path: the bound on the socket's path, terminating NUL included. */
#define CONFIG_SUN_PATH_SIZE	(sizeof ((struct sockaddr_un *)0)->sun_path)

/* What one validation pass carries: where messages go and how many. */
struct config_walk {
	struct config_diag	*diag;		/* NULL: messages are dropped */
	size_t			 nerrors;
	int			 request_cap_ok; /* max_request_timeout_s valid */
};

/* An integer key: its bounds and where it lives in its struct. */
struct config_int_key {
	const char	*name;
	long long	 min;
	long long	 max;
	size_t		 offset;	/* of an int */
};

static const struct config_int_key config_broker_ints[] = {
	{ "max_sessions", 1, CONFIG_MAX_COUNT,
	  offsetof(struct config, max_sessions) },
	{ "max_clients", 1, CONFIG_MAX_COUNT,
	  offsetof(struct config, max_clients) },
	{ "idle_timeout_s", 0, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct config, idle_timeout_s) },
	{ "request_timeout_s", 1, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct config, request_timeout_s) },
	{ "max_request_timeout_s", 1, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct config, max_request_timeout_s) },
	{ "start_timeout_s", 1, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct config, start_timeout_s) },
	{ "shutdown_grace_ms", 0, 600000,
	  offsetof(struct config, shutdown_grace_ms) },
};

static const struct config_int_key config_server_ints[] = {
	{ "max_sessions", 0, CONFIG_MAX_COUNT,
	  offsetof(struct server_conf, max_sessions) },
	{ "idle_timeout_s", 0, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct server_conf, idle_timeout_s) },
	{ "request_timeout_s", 1, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct server_conf, request_timeout_s) },
	{ "start_timeout_s", 1, CONFIG_MAX_TIMEOUT_S,
	  offsetof(struct server_conf, start_timeout_s) },
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
	"autoApprove", "alwaysAllow", "timeout", "description", NULL
};

#define CONFIG_NITEMS(a)	(sizeof (a) / sizeof (a)[0])

static void	config_diag_add(char ***, size_t *, char *);
static void	config_error(struct config_walk *, const char *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
static void	config_warning(struct config_walk *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static char	*config_path_key(const char *, const char *);
static char	*config_path_index(const char *, size_t);
static int	 config_in_list(const char *, const char *const *);
static const struct config_int_key *config_find_int(
		    const struct config_int_key *, size_t, const char *);
static int	 config_compare_keys(const void *, const void *);
static void	 config_check_duplicates(struct config_walk *, const cJSON *,
		    const char *);
static int	 config_get_int(struct config_walk *, const cJSON *,
		    const char *, long long, long long, long long *);
static const char *config_get_string(struct config_walk *, const cJSON *,
		    const char *);
static int	 config_server_name_valid(const char *);
static int	 config_env_name_valid(const char *);
static void	 config_text_position(const char *, const char *, size_t *,
		    size_t *);
static int	 config_check_text(struct config_walk *, const char *, size_t);
static void	 config_parse_socket_mode(struct config_walk *,
		    struct config *, const cJSON *, const char *);
static size_t	 config_nss_size(int);
static int	 config_lookup_id(const char *, int, id_t *);
static int	 config_parse_id(struct config_walk *, const cJSON *,
		    const char *, int, int, id_t *);
static int	 config_parse_acl(struct config_walk *, struct config *,
		    const cJSON *, const char *, int);
static void	 config_buf_add(char **, size_t *, size_t *, const char *,
		    size_t);
static char	*config_expand(struct config_walk *, const char *,
		    const char *);
static char	*config_expand_nonempty(struct config_walk *, const cJSON *,
		    const char *);
static void	 config_parse_broker(struct config_walk *, struct config *,
		    const cJSON *);
static int	 config_server_remote(const cJSON *);
static void	 config_parse_args(struct config_walk *, struct server_conf *,
		    const cJSON *, const char *);
static void	 config_parse_env(struct config_walk *, struct server_conf *,
		    const cJSON *, const char *);
static void	 config_parse_protocol(struct config_walk *,
		    struct server_conf *, const cJSON *, const char *);
static int	 config_root_uri_valid(const char *);
static int	 config_parse_root(struct config_walk *, const cJSON *,
		    const char *, const char **, const char **);
static void	 config_parse_roots(struct config_walk *, struct server_conf *,
		    const cJSON *, const char *);
static void	 config_parse_client_capabilities(struct config_walk *,
		    struct server_conf *, const cJSON *, const char *);
static void	 config_parse_server(struct config_walk *,
		    const struct config *, struct server_conf *,
		    const cJSON *, const char *);
static void	 config_parse_servers(struct config_walk *, struct config *,
		    const cJSON *);
static void	 config_server_clear(struct server_conf *);
static int	 config_env_contains(const struct server_conf *,
		    const char *);
static int	 config_string_equal(const char *, const char *);

/* Append a message (taken) to a list of messages. */
static void
config_diag_add(char ***list, size_t *n, char *msg)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = msg;
}

/* Record an error at path: "<path>: <message>". */
static void
config_error(struct config_walk *walk, const char *path, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *line;

	walk->nerrors++;
	if (walk->diag == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory formatting a config error");
	va_end(ap);
	xasprintf(&line, "%s: %s", path, msg);
	free(msg);
	config_diag_add(&walk->diag->errors, &walk->diag->nerrors, line);
}

/* Record a warning at path: "<path>: <message>". */
static void
config_warning(struct config_walk *walk, const char *path,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *line;

	if (walk->diag == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("out of memory formatting a config warning");
	va_end(ap);
	xasprintf(&line, "%s: %s", path, msg);
	free(msg);
	config_diag_add(&walk->diag->warnings, &walk->diag->nwarnings, line);
}

/*
 * The path of key under parent ("mcpServers" + "x" = "mcpServers.x").
 * Keys come from the file, so control bytes and backslashes are escaped
 * (a message stays one log line) and long keys are cut.
 */
static char *
config_path_key(const char *parent, const char *key)
{
	char	 seg[CONFIG_MAX_PATH_KEY * 4 + 4], *path;
	size_t	 i, n = 0;

	for (i = 0; key[i] != '\0'; i++) {
		unsigned char	c = (unsigned char)key[i];

		if (i == CONFIG_MAX_PATH_KEY) {
			memcpy(seg + n, "...", 3);
			n += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			n += (size_t)snprintf(seg + n, sizeof seg - n,
			    "\\x%02x", c);
		else
			seg[n++] = (char)c;
	}
	seg[n] = '\0';
	if (parent == NULL)
		return (xstrdup(seg));
	xasprintf(&path, "%s.%s", parent, seg);
	return (path);
}

/* The path of element i of the array at parent ("args" + 1 = "args[1]"). */
static char *
config_path_index(const char *parent, size_t i)
{
	char	*path;

	xasprintf(&path, "%s[%zu]", parent, i);
	return (path);
}

/* Whether name is in a NULL-terminated list. */
static int
config_in_list(const char *name, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcmp(name, *list) == 0)
			return (1);
	}
	return (0);
}

/* The integer key called name in a table, or NULL. */
static const struct config_int_key *
config_find_int(const struct config_int_key *table, size_t n,
    const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(table[i].name, name) == 0)
			return (&table[i]);
	}
	return (NULL);
}

/* qsort order for key names. */
static int
config_compare_keys(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * Report each key that appears more than once in obj. cJSON keeps every
 * copy and a lookup finds the first, so a repeated key would silently
 * lose one value. Sorted rather than compared pairwise: a 4 MiB file may
 * hold a great many keys.
 */
static void
config_check_duplicates(struct config_walk *walk, const cJSON *obj,
    const char *path)
{
	const cJSON	 *item;
	const char	**keys;
	char		 *sub;
	size_t		  n = 0, i;

	for (item = obj->child; item != NULL; item = item->next)
		n++;
	if (n < 2)
		return;
	keys = xreallocarray(NULL, n, sizeof *keys);
	n = 0;
	for (item = obj->child; item != NULL; item = item->next)
		keys[n++] = item->string;
	qsort(keys, n, sizeof *keys, config_compare_keys);
	for (i = 1; i < n; i++) {
		if (strcmp(keys[i], keys[i - 1]) != 0)
			continue;
		if (i >= 2 && strcmp(keys[i - 1], keys[i - 2]) == 0)
			continue;
		sub = config_path_key(path, keys[i]);
		config_error(walk, sub, "duplicate key (each key may appear "
		    "only once)");
		free(sub);
	}
	free(keys);
}

/*
 * Read an integral number from min to max into out. Booleans, strings
 * and 1.5 are refused: a config that means something else must not pass.
 */
static int
config_get_int(struct config_walk *walk, const cJSON *item, const char *path,
    long long min, long long max, long long *out)
{
	double	d;

	if (cJSON_IsNumber(item)) {
		d = item->valuedouble;
		if (isfinite(d) && d == floor(d) && d >= (double)min &&
		    d <= (double)max) {
			*out = (long long)d;
			return (0);
		}
	}
	config_error(walk, path, "expected an integer from %lld to %lld", min,
	    max);
	return (-1);
}

/* A non-empty string's value, or NULL after recording an error. */
static const char *
config_get_string(struct config_walk *walk, const cJSON *item,
    const char *path)
{
	if (!cJSON_IsString(item) || *item->valuestring == '\0') {
		config_error(walk, path, "expected a non-empty string");
		return (NULL);
	}
	return (item->valuestring);
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

/* An environment variable name: [A-Za-z_][A-Za-z0-9_]*. */
static int
config_env_name_valid(const char *name)
{
	static const char	 alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz_";
	size_t			 len;

	len = strlen(name);
	if (len == 0 || strchr(alpha, name[0]) == NULL)
		return (0);
	return (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") == len);
}

/* The 1-based line and byte column of at within text. */
static void
config_text_position(const char *text, const char *at, size_t *line,
    size_t *column)
{
	const char	*p, *start = text;

	*line = 1;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			start = p + 1;
		}
	}
	*column = (size_t)(at - start) + 1;
}

/*
 * Refuse text cJSON would misread: a NUL byte would cut a string short
 * without a word.
 */
static int
config_check_text(struct config_walk *walk, const char *text, size_t len)
{
	const char	*nul;
	size_t		 line, column;

	if ((nul = memchr(text, '\0', len)) == NULL)
		return (0);
	config_text_position(text, nul, &line, &column);
	config_error(walk, "(top level)", "a NUL byte at line %zu, column %zu "
	    "(a config is UTF-8 text)", line, column);
	return (-1);
}

/* broker.socket_mode: octal digits such as "0660", at most 0777. */
static void
config_parse_socket_mode(struct config_walk *walk, struct config *conf,
    const cJSON *item, const char *path)
{
	const char	*s;
	mode_t		 mode = 0;

	if (!cJSON_IsString(item))
		goto bad;
	s = item->valuestring;
	if (*s == '\0' || strlen(s) > 4)
		goto bad;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			goto bad;
		mode = mode * 8 + (mode_t)(*s - '0');
	}
	if (mode > 0777)
		goto bad;
	conf->socket_mode = mode;
	return;

bad:
	config_error(walk, path, "expected an octal mode string from \"0000\" "
	    "to \"0777\", such as \"0660\"");
}

/* The buffer size to start a getpwnam_r or getgrnam_r with. */
static size_t
config_nss_size(int which)
{
	long	n;

	n = sysconf(which);
	if (n <= 0 || n > CONFIG_NSS_BUF_MAX)
		return (16384);
	return ((size_t)n);
}

/*
 * Look up a user (group 0) or a group (group 1) by name: 0 and its id,
 * 1 if there is no such name, or -1 with errno if the lookup failed.
 * The lookup may block (LDAP, sssd); a config is read rarely, at start
 * and reload, and an id is what the kernel hands us for a peer.
 */
static int
config_lookup_id(const char *name, int group, id_t *id)
{
	struct passwd	 pw, *pwp = NULL;
	struct group	 gr, *grp = NULL;
	char		*buf;
	size_t		 size;
	int		 error;

	size = config_nss_size(group ? _SC_GETGR_R_SIZE_MAX :
	    _SC_GETPW_R_SIZE_MAX);
	for (;;) {
		buf = xmalloc(size);
		if (group)
			error = getgrnam_r(name, &gr, buf, size, &grp);
		else
			error = getpwnam_r(name, &pw, buf, size, &pwp);
		if (error != ERANGE || size >= CONFIG_NSS_BUF_MAX)
			break;
		free(buf);
		size *= 2;
		if (size > CONFIG_NSS_BUF_MAX)
			size = CONFIG_NSS_BUF_MAX;
	}
	free(buf);

	if (group && grp != NULL) {
		*id = grp->gr_gid;
		return (0);
	}
	if (!group && pwp != NULL) {
		*id = pwp->pw_uid;
		return (0);
	}
	/* getpwnam(3): these too mean "not found" on some systems. */
	if (error == 0 || error == ENOENT || error == ESRCH ||
	    error == EBADF || error == EPERM)
		return (1);
	errno = error;
	return (-1);
}

/*
 * Read a user (group 0) or a group (group 1), a name or a number, into
 * out. A number need not be in the passwd or group database (containers
 * often run with bare ids); a name must. Without resolve only the type
 * is checked, for entries past a bound.
 */
static int
config_parse_id(struct config_walk *walk, const cJSON *item,
    const char *path, int group, int resolve, id_t *out)
{
	const char	*what = group ? "group" : "user";
	const char	*name;
	char		*quoted;
	double		 d;
	int		 found, saved;

	if (cJSON_IsNumber(item)) {
		d = item->valuedouble;
		if (isfinite(d) && d == floor(d) && d >= 0 &&
		    d <= (double)CONFIG_ID_MAX) {
			*out = (id_t)d;
			return (0);
		}
	} else if (cJSON_IsString(item) && *item->valuestring != '\0') {
		name = item->valuestring;
		if (!resolve)
			return (0);
		if ((found = config_lookup_id(name, group, out)) == 0)
			return (0);
		saved = errno;
		quoted = config_path_key(NULL, name);
		if (found == 1) {
			config_error(walk, path, "no such %s \"%s\"%s", what,
			    quoted, strspn(name, "0123456789") == strlen(name) ?
			    (group ? " (a gid is written as a number, without "
			    "quotes)" : " (a uid is written as a number, "
			    "without quotes)") : "");
		} else {
			config_error(walk, path, "cannot look up %s \"%s\": %s",
			    what, quoted, strerror(saved));
		}
		free(quoted);
		return (-1);
	}
	config_error(walk, path, "expected a %s name or a %s (an integer from "
	    "0 to %lld)", what, group ? "gid" : "uid", CONFIG_ID_MAX);
	return (-1);
}

/*
 * broker.allow_uids (group 0) or broker.allow_groups (group 1): an array
 * of names and ids, at most CONFIG_ACL_MAX; [] is valid and still sets
 * the list. Every entry's type is checked, but names past the bound are
 * not looked up: a 4 MiB file must not cost a million lookups. Returns
 * -1 if anything was wrong.
 */
static int
config_parse_acl(struct config_walk *walk, struct config *conf,
    const cJSON *list, const char *path, int group)
{
	const cJSON	*entry;
	char		*sub;
	size_t		 n = 0, i = 0, before = walk->nerrors;
	id_t		 id;
	int		 keep;

	if (!cJSON_IsArray(list)) {
		config_error(walk, path, "expected an array of %s",
		    group ? "group names and gids" : "user names and uids");
		return (-1);
	}
	for (entry = list->child; entry != NULL; entry = entry->next)
		n++;
	keep = (n <= CONFIG_ACL_MAX);
	if (!keep) {
		config_error(walk, path, "at most %d entries are allowed; "
		    "there are %zu", CONFIG_ACL_MAX, n);
	}
	if (group) {
		conf->allow_groups_set = 1;
		if (keep && n != 0)
			conf->allow_groups = xcalloc(n,
			    sizeof *conf->allow_groups);
	} else {
		conf->allow_uids_set = 1;
		if (keep && n != 0)
			conf->allow_uids = xcalloc(n, sizeof *conf->allow_uids);
	}

	for (entry = list->child; entry != NULL; entry = entry->next) {
		sub = config_path_index(path, i++);
		if (config_parse_id(walk, entry, sub, group, keep, &id) == 0 &&
		    keep) {
			if (group)
				conf->allow_groups[conf->nallow_groups++] =
				    (gid_t)id;
			else
				conf->allow_uids[conf->nallow_uids++] =
				    (uid_t)id;
		}
		free(sub);
	}
	return (walk->nerrors == before ? 0 : -1);
}

/* Append n bytes of s to a NUL-terminated buffer that grows. */
static void
config_buf_add(char **buf, size_t *len, size_t *size, const char *s,
    size_t n)
{
	if (*size - *len <= n) {
		while (*size - *len <= n)
			*size *= 2;
		*buf = xrealloc(*buf, *size);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * s with each ${NAME} replaced by NAME's value in the daemon's
 * environment, so secrets stay out of the file; "$$" is a "$", and any
 * other "$" stays as it is. Values are not expanded again. Returns a new
 * string, or NULL after an error at path for each unset variable or
 * malformed ${...}. Messages name the variable, never its value.
 */
static char *
config_expand(struct config_walk *walk, const char *s, const char *path)
{
	const char	*p, *end, *value;
	char		*out, *name, *quoted;
	size_t		 len = 0, size, n;
	int		 bad = 0;

	size = strlen(s) + 1;
	out = xmalloc(size);
	*out = '\0';
	for (p = s; *p != '\0'; /* nothing */) {
		if (p[0] != '$') {
			n = strcspn(p, "$");
			config_buf_add(&out, &len, &size, p, n);
			p += n;
			continue;
		}
		if (p[1] == '$') {
			config_buf_add(&out, &len, &size, "$", 1);
			p += 2;
			continue;
		}
		if (p[1] != '{') {
			config_buf_add(&out, &len, &size, "$", 1);
			p++;
			continue;
		}
		if ((end = strchr(p + 2, '}')) == NULL) {
			config_error(walk, path, "unterminated \"${\" (a "
			    "literal \"$\" is written \"$$\")");
			bad = 1;
			break;
		}
		name = xstrndup(p + 2, (size_t)(end - p - 2));
		quoted = config_path_key(NULL, name);
		if (!config_env_name_valid(name)) {
			config_error(walk, path, "${%s}: not a valid variable "
			    "name (letters, digits and \"_\", not starting "
			    "with a digit; a literal \"$\" is written \"$$\")",
			    quoted);
			bad = 1;
		} else if ((value = getenv(name)) == NULL) {
			config_error(walk, path, "${%s} is not set in the "
			    "daemon's environment", quoted);
			bad = 1;
		} else
			config_buf_add(&out, &len, &size, value, strlen(value));
		free(quoted);
		free(name);
		p = end + 1;
	}
	if (bad) {
		free(out);
		return (NULL);
	}
	return (out);
}

/*
 * A non-empty string, expanded, that must stay non-empty (command,
 * cwd); NULL after recording an error.
 */
static char *
config_expand_nonempty(struct config_walk *walk, const cJSON *item,
    const char *path)
{
	const char	*s;
	char		*out;

	if ((s = config_get_string(walk, item, path)) == NULL)
		return (NULL);
	if ((out = config_expand(walk, s, path)) == NULL)
		return (NULL);
	if (*out == '\0') {
		config_error(walk, path, "empty once its variables are "
		    "expanded");
		free(out);
		return (NULL);
	}
	return (out);
}

/* Apply the "broker" object to conf. */
static void
config_parse_broker(struct config_walk *walk, struct config *conf,
    const cJSON *broker)
{
	const struct config_int_key	*key;
	const cJSON			*item;
	const char			*s;
	char				*path;
	long long			 v;
	id_t				 id;
	int				 request_ok = 1, cap_ok = 1, acl_ok = 1;
	enum log_level			 level;

	if (!cJSON_IsObject(broker)) {
		config_error(walk, "broker", "expected an object");
		return;
	}
	config_check_duplicates(walk, broker, "broker");

	for (item = broker->child; item != NULL; item = item->next) {
		path = config_path_key("broker", item->string);
		key = config_find_int(config_broker_ints,
		    CONFIG_NITEMS(config_broker_ints), item->string);
		if (key != NULL) {
			if (config_get_int(walk, item, path, key->min,
			    key->max, &v) == 0)
				*(int *)((char *)conf + key->offset) = (int)v;
			else if (strcmp(key->name, "request_timeout_s") == 0)
				request_ok = 0;
			else if (strcmp(key->name,
			    "max_request_timeout_s") == 0)
				cap_ok = 0;
		} else if (strcmp(item->string, "socket") == 0) {
			s = config_get_string(walk, item, path);
			if (s != NULL && strlen(s) >= CONFIG_SUN_PATH_SIZE) {
				config_error(walk, path, "the path is %zu "
				    "bytes; a Unix socket path must be "
				    "shorter than %zu bytes", strlen(s),
				    CONFIG_SUN_PATH_SIZE);
			} else if (s != NULL) {
				free(conf->socket);
				conf->socket = xstrdup(s);
			}
		} else if (strcmp(item->string, "socket_mode") == 0)
			config_parse_socket_mode(walk, conf, item, path);
		else if (strcmp(item->string, "max_message_bytes") == 0) {
			if (config_get_int(walk, item, path, 1024,
			    1073741824, &v) == 0)
				conf->max_message_bytes = (size_t)v;
		} else if (strcmp(item->string, "log_level") == 0) {
			if (!cJSON_IsString(item) ||
			    log_level_parse(item->valuestring, &level) != 0) {
				config_error(walk, path, "expected one of "
				    "\"debug\", \"info\", \"warning\", "
				    "\"error\"");
			} else
				conf->log_level = level;
		} else if (strcmp(item->string, "allow_uids") == 0) {
			/* A repeated key is an error; keep the first. */
			if (!conf->allow_uids_set &&
			    config_parse_acl(walk, conf, item, path, 0) != 0)
				acl_ok = 0;
		} else if (strcmp(item->string, "allow_groups") == 0) {
			if (!conf->allow_groups_set &&
			    config_parse_acl(walk, conf, item, path, 1) != 0)
				acl_ok = 0;
		} else if (strcmp(item->string, "admin_group") == 0) {
			if (config_parse_id(walk, item, path, 1, 1, &id) == 0) {
				conf->admin_group = (gid_t)id;
				conf->admin_group_set = 1;
			}
		} else if (strcmp(item->string, "socket_group") == 0) {
			if (config_parse_id(walk, item, path, 1, 1, &id) == 0) {
				conf->socket_group = (gid_t)id;
				conf->socket_group_set = 1;
			}
		} else
			config_error(walk, path, "unknown key");
		free(path);
	}

	/* With an allow list, the socket's mode is no longer the guard. */
	if ((conf->socket_mode & 0002) && !conf->allow_uids_set &&
	    !conf->allow_groups_set) {
		config_warning(walk, "broker.socket_mode", "\"%04o\" lets "
		    "every local user connect and start servers as the "
		    "broker's user", conf->socket_mode);
	}
	if (acl_ok && (conf->allow_uids_set || conf->allow_groups_set) &&
	    conf->nallow_uids == 0 && conf->nallow_groups == 0) {
		config_warning(walk, conf->allow_uids_set ?
		    "broker.allow_uids" : "broker.allow_groups", "empty%s: "
		    "only root and the broker's own user may use the broker",
		    conf->allow_uids_set && conf->allow_groups_set ?
		    ", and so is broker.allow_groups" : "");
	}

	if (request_ok && cap_ok &&
	    conf->max_request_timeout_s < conf->request_timeout_s) {
		config_error(walk, "broker.max_request_timeout_s", "must be at "
		    "least broker.request_timeout_s (%d); it is %d%s",
		    conf->request_timeout_s, conf->max_request_timeout_s,
		    cJSON_GetObjectItemCaseSensitive(broker,
		    "max_request_timeout_s") == NULL ? " by default" : "");
		cap_ok = 0;
	}
	walk->request_cap_ok = cap_ok;
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
 * Validate and expand "args" and build argv: the command, then the args.
 * Without a valid command (sc->command NULL) the args are only validated.
 */
static void
config_parse_args(struct config_walk *walk, struct server_conf *sc,
    const cJSON *args, const char *path)
{
	const cJSON	*item;
	char		*sub, **argv;
	size_t		 n = 0, i;
	int		 bad = 0;

	if (args != NULL && !cJSON_IsArray(args)) {
		config_error(walk, path, "expected an array of strings");
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
			sub = config_path_index(path, i++);
			if (!cJSON_IsString(item)) {
				config_error(walk, sub, "expected a string");
				bad = 1;
			} else if ((argv[i] = config_expand(walk,
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
	argv[0] = xstrdup(sc->command);
	sc->argv = argv;
	sc->argc = n + 1;
}

/* Validate "env" and build the "NAME=value" list, values expanded. */
static void
config_parse_env(struct config_walk *walk, struct server_conf *sc,
    const cJSON *env, const char *path)
{
	const cJSON	*item;
	char		*sub, *value;
	size_t		 n = 0;

	if (!cJSON_IsObject(env)) {
		config_error(walk, path, "expected an object of strings");
		return;
	}
	config_check_duplicates(walk, env, path);
	for (item = env->child; item != NULL; item = item->next)
		n++;
	sc->env = xreallocarray(NULL, n + 1, sizeof *sc->env);
	sc->envc = 0;
	sc->env[0] = NULL;

	for (item = env->child; item != NULL; item = item->next) {
		sub = config_path_key(path, item->string);
		if (!config_env_name_valid(item->string)) {
			config_error(walk, sub, "not a valid environment "
			    "variable name (letters, digits and \"_\", not "
			    "starting with a digit)");
		} else if (!cJSON_IsString(item))
			config_error(walk, sub, "expected a string");
		else if ((value = config_expand(walk, item->valuestring,
		    sub)) != NULL) {
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
config_parse_protocol(struct config_walk *walk, struct server_conf *sc,
    const cJSON *item, const char *path)
{
	size_t	i;

	if (cJSON_IsString(item)) {
		for (i = 0; i < CONFIG_NITEMS(config_protocols); i++) {
			if (strcmp(item->valuestring,
			    config_protocols[i].name) == 0) {
				sc->protocol = config_protocols[i].protocol;
				return;
			}
		}
	}
	config_error(walk, path, "expected \"auto\", \"legacy\" or "
	    "\"2026-07-28\"");
}

/* Whether s is a file:// URI with something after the scheme. */
static int
config_root_uri_valid(const char *s)
{
	size_t	len = strlen(CONFIG_ROOT_SCHEME);

	return (strncmp(s, CONFIG_ROOT_SCHEME, len) == 0 && s[len] != '\0');
}

/*
 * Validate one entry of "roots": a URI, or {"uri", "name"?}. On success
 * uri and name (NULL if absent) point into the entry.
 */
static int
config_parse_root(struct config_walk *walk, const cJSON *entry,
    const char *path, const char **uri, const char **name)
{
	const cJSON	*item, *uri_item = NULL, *name_item = NULL;
	char		*sub;
	size_t		 before = walk->nerrors;

	*uri = *name = NULL;
	if (cJSON_IsString(entry)) {
		if (!config_root_uri_valid(entry->valuestring)) {
			config_error(walk, path, "expected a file:// URI");
			return (-1);
		}
		*uri = entry->valuestring;
		return (0);
	}
	if (!cJSON_IsObject(entry)) {
		config_error(walk, path, "expected a file:// URI or an object "
		    "with \"uri\" and an optional \"name\"");
		return (-1);
	}

	config_check_duplicates(walk, entry, path);
	for (item = entry->child; item != NULL; item = item->next) {
		if (strcmp(item->string, "uri") == 0)
			uri_item = item;
		else if (strcmp(item->string, "name") == 0)
			name_item = item;
		else {
			sub = config_path_key(path, item->string);
			config_error(walk, sub, "unknown key");
			free(sub);
		}
	}
	if (uri_item == NULL)
		config_error(walk, path, "\"uri\" is required");
	else if (!cJSON_IsString(uri_item) ||
	    !config_root_uri_valid(uri_item->valuestring)) {
		sub = config_path_key(path, "uri");
		config_error(walk, sub, "expected a file:// URI");
		free(sub);
	}
	if (name_item != NULL) {
		sub = config_path_key(path, "name");
		config_get_string(walk, name_item, sub);
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
config_parse_roots(struct config_walk *walk, struct server_conf *sc,
    const cJSON *roots, const char *path)
{
	const cJSON	*entry;
	const char	*uri, *name;
	char		*sub;
	size_t		 n = 0, i = 0;
	int		 keep;

	if (!cJSON_IsArray(roots)) {
		config_error(walk, path, "expected an array of file:// URIs "
		    "or {\"uri\", \"name\"} objects");
		return;
	}
	sc->roots_set = 1;
	for (entry = roots->child; entry != NULL; entry = entry->next)
		n++;
	keep = (n <= CONFIG_ROOTS_MAX);
	if (!keep) {
		config_error(walk, path, "at most %d roots are allowed; there "
		    "are %zu", CONFIG_ROOTS_MAX, n);
	} else if (n != 0)
		sc->roots = xcalloc(n, sizeof *sc->roots);

	for (entry = roots->child; entry != NULL; entry = entry->next) {
		sub = config_path_index(path, i++);
		if (config_parse_root(walk, entry, sub, &uri, &name) == 0 &&
		    keep) {
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
config_parse_client_capabilities(struct config_walk *walk,
    struct server_conf *sc, const cJSON *caps, const char *path)
{
	const cJSON	*item;
	char		*sub;
	size_t		 before = walk->nerrors;

	if (!cJSON_IsObject(caps)) {
		config_error(walk, path, "expected an object");
		return;
	}
	config_check_duplicates(walk, caps, path);
	for (item = caps->child; item != NULL; item = item->next) {
		sub = config_path_key(path, item->string);
		if (config_in_list(item->string, config_client_capabilities)) {
			if (!cJSON_IsObject(item))
				config_error(walk, sub, "expected an object");
		} else if (strcmp(item->string, "roots") == 0) {
			config_error(walk, sub, "the broker declares roots "
			    "itself from \"roots\"; allowed here: sampling, "
			    "elicitation");
		} else {
			config_error(walk, sub, "unknown capability (allowed: "
			    "sampling, elicitation)");
		}
		free(sub);
	}
	if (walk->nerrors != before)
		return;
	if ((sc->client_capabilities = cJSON_Duplicate(caps, 1)) == NULL)
		fatalx("out of memory copying %s", path);
}

/* Validate one mcpServers entry into sc; sc->name is already set. */
static void
config_parse_server(struct config_walk *walk, const struct config *conf,
    struct server_conf *sc, const cJSON *entry, const char *path)
{
	const struct config_int_key	*key;
	const cJSON			*item, *command = NULL, *args = NULL;
	char				*sub;
	long long			 v;

	if (!cJSON_IsObject(entry)) {
		config_error(walk, path, "expected an object");
		return;
	}
	/* Only the reason matters: a remote entry's other keys are noise. */
	if (config_server_remote(entry)) {
		config_error(walk, path, "only stdio servers are brokered "
		    "(this entry is a remote server)");
		return;
	}
	config_check_duplicates(walk, entry, path);

	for (item = entry->child; item != NULL; item = item->next) {
		sub = config_path_key(path, item->string);
		key = config_find_int(config_server_ints,
		    CONFIG_NITEMS(config_server_ints), item->string);
		if (key != NULL) {
			if (config_get_int(walk, item, sub, key->min,
			    key->max, &v) == 0)
				*(int *)((char *)sc + key->offset) = (int)v;
		} else if (strcmp(item->string, "command") == 0)
			command = item;
		else if (strcmp(item->string, "args") == 0)
			args = item;
		else if (strcmp(item->string, "env") == 0) {
			if (sc->env == NULL)
				config_parse_env(walk, sc, item, sub);
		} else if (strcmp(item->string, "cwd") == 0) {
			if (sc->cwd == NULL)
				sc->cwd = config_expand_nonempty(walk, item,
				    sub);
		} else if (strcmp(item->string, "disabled") == 0) {
			if (!cJSON_IsBool(item))
				config_error(walk, sub, "expected true or "
				    "false");
			else
				sc->disabled = cJSON_IsTrue(item);
		} else if (strcmp(item->string, "protocol") == 0)
			config_parse_protocol(walk, sc, item, sub);
		else if (strcmp(item->string, "roots") == 0) {
			if (!sc->roots_set)
				config_parse_roots(walk, sc, item, sub);
		} else if (strcmp(item->string, "client_capabilities") == 0) {
			if (sc->client_capabilities == NULL)
				config_parse_client_capabilities(walk, sc,
				    item, sub);
		} else if (strcmp(item->string, "type") == 0) {
			/* A string other than "stdio" was refused above. */
			if (!cJSON_IsString(item))
				config_error(walk, sub, "expected \"stdio\"");
		} else if (config_in_list(item->string,
		    config_server_ignored))
			config_warning(walk, sub, "ignored (not used by "
			    "mcp-broker)");
		else
			config_error(walk, sub, "unknown key");
		free(sub);
	}

	if (command == NULL)
		config_error(walk, path, "\"command\" is required");
	else {
		sub = config_path_key(path, "command");
		sc->command = config_expand_nonempty(walk, command, sub);
		if (sc->command != NULL) {
			if (strpbrk(sc->command, " \t") != NULL &&
			    args == NULL) {
				config_warning(walk, sub, "contains a space "
				    "but there are no \"args\"; the command "
				    "is run without a shell, so arguments "
				    "belong in \"args\"");
			}
		}
		free(sub);
	}
	sub = config_path_key(path, "args");
	config_parse_args(walk, sc, args, sub);
	free(sub);

	if (sc->request_timeout_s != CONFIG_UNSET && walk->request_cap_ok &&
	    sc->request_timeout_s > conf->max_request_timeout_s) {
		sub = config_path_key(path, "request_timeout_s");
		config_error(walk, sub, "must be at most "
		    "broker.max_request_timeout_s (%d)",
		    conf->max_request_timeout_s);
		free(sub);
	}
}

/* Apply the "mcpServers" object to conf. */
static void
config_parse_servers(struct config_walk *walk, struct config *conf,
    const cJSON *servers)
{
	const cJSON		*entry;
	struct server_conf	*sc;
	char			*path;
	size_t			 n = 0;

	if (!cJSON_IsObject(servers)) {
		config_error(walk, "mcpServers", "expected an object");
		return;
	}
	config_check_duplicates(walk, servers, "mcpServers");
	for (entry = servers->child; entry != NULL; entry = entry->next)
		n++;
	conf->servers = xcalloc(n, sizeof *conf->servers);
	conf->nservers = 0;

	for (entry = servers->child; entry != NULL; entry = entry->next) {
		path = config_path_key("mcpServers", entry->string);
		if (!config_server_name_valid(entry->string)) {
			config_error(walk, path, "a server name must be 1 to "
			    "%d characters, each a letter, a digit, \".\", "
			    "\"_\" or \"-\"", CONFIG_MAX_NAME);
			free(path);
			continue;
		}
		sc = &conf->servers[conf->nservers++];
		sc->name = xstrdup(entry->string);
		sc->max_sessions = 0;
		sc->idle_timeout_s = CONFIG_UNSET;
		sc->request_timeout_s = CONFIG_UNSET;
		sc->start_timeout_s = CONFIG_UNSET;
		sc->protocol = SERVER_PROTOCOL_AUTO;
		config_parse_server(walk, conf, sc, entry, path);
		free(path);
	}
}

/* The built-in configuration (DESIGN §7): what an empty file means. */
struct config *
config_default(void)
{
	struct config	*conf;

	conf = xcalloc(1, sizeof *conf);
	conf->socket = xstrdup(CONFIG_DEFAULT_SOCKET);
	conf->socket_mode = 0660;
	conf->max_sessions = 256;
	conf->max_clients = 1024;
	conf->idle_timeout_s = 1800;
	conf->request_timeout_s = 120;
	conf->max_request_timeout_s = 3600;
	conf->start_timeout_s = 30;
	conf->shutdown_grace_ms = 2000;
	conf->max_message_bytes = 16777216;
	conf->log_level = LOG_LEVEL_INFO;
	conf->servers = NULL;
	conf->nservers = 0;
	return (conf);
}

/*
 * Parse and validate len bytes of JSON text. Errors and warnings are
 * appended to diag (which may be NULL); returns the config, or NULL if
 * there was any error. The caller owns the config.
 */
struct config *
config_parse(const char *text, size_t len, struct config_diag *diag)
{
	struct config_walk	 walk;
	struct config		*conf;
	cJSON			*root;
	const cJSON		*item;
	const char		*end = NULL, *p;
	char			*path;
	size_t			 line, column;

	memset(&walk, 0, sizeof walk);
	walk.diag = diag;
	walk.request_cap_ok = 1;

	if (config_check_text(&walk, text, len) != 0)
		return (NULL);
	for (p = text; p < text + len && strchr(" \t\r\n", *p) != NULL; p++)
		/* nothing */;
	if (p == text + len) {
		config_error(&walk, "(top level)", "empty; expected a JSON "
		    "object");
		return (NULL);
	}

	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		if (end == NULL || end < text || end > text + len)
			end = text;
		config_text_position(text, end, &line, &column);
		config_error(&walk, "(top level)", "not valid JSON near line "
		    "%zu, column %zu", line, column);
		return (NULL);
	}
	for (p = end; p < text + len && strchr(" \t\r\n", *p) != NULL; p++)
		/* nothing */;
	if (p < text + len) {
		config_text_position(text, p, &line, &column);
		config_error(&walk, "(top level)", "unexpected text after the "
		    "JSON value at line %zu, column %zu", line, column);
		cJSON_Delete(root);
		return (NULL);
	}
	if (!cJSON_IsObject(root)) {
		config_error(&walk, "(top level)", "expected an object");
		cJSON_Delete(root);
		return (NULL);
	}

	conf = config_default();
	config_check_duplicates(&walk, root, NULL);
	for (item = root->child; item != NULL; item = item->next) {
		if (strcmp(item->string, "broker") == 0 ||
		    strcmp(item->string, "mcpServers") == 0)
			continue;
		path = config_path_key(NULL, item->string);
		config_error(&walk, path, "unknown key");
		free(path);
	}
	/* The broker first: server checks compare against its values. */
	if ((item = cJSON_GetObjectItemCaseSensitive(root, "broker")) != NULL)
		config_parse_broker(&walk, conf, item);
	item = cJSON_GetObjectItemCaseSensitive(root, "mcpServers");
	if (item != NULL)
		config_parse_servers(&walk, conf, item);
	cJSON_Delete(root);

	if (walk.nerrors != 0) {
		config_free(conf);
		return (NULL);
	}
	return (conf);
}

/*
 * Read and parse the file at path. A file that cannot be read or is too
 * large is an error "<path>: <reason>"; the rest are JSON paths.
 */
struct config *
config_load(const char *path, struct config_diag *diag)
{
	struct config_walk	 walk;
	struct config		*conf;
	struct stat		 sb;
	char			*buf;
	size_t			 len = 0, size = 65536;
	ssize_t			 n;
	int			 fd;

	memset(&walk, 0, sizeof walk);
	walk.diag = diag;

	/* O_NONBLOCK: a FIFO at path must not hang the event loop. */
	if ((fd = open(path, O_RDONLY|O_CLOEXEC|O_NONBLOCK)) == -1) {
		config_error(&walk, path, "%s", strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &sb) == -1) {
		config_error(&walk, path, "%s", strerror(errno));
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(sb.st_mode)) {
		config_error(&walk, path, "not a regular file");
		close(fd);
		return (NULL);
	}

	buf = xmalloc(size);
	for (;;) {
		if (len == size) {
			if (size > CONFIG_MAX_FILE_BYTES)
				break;
			size *= 2;
			if (size > CONFIG_MAX_FILE_BYTES + 1)
				size = CONFIG_MAX_FILE_BYTES + 1;
			buf = xrealloc(buf, size);
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			config_error(&walk, path, "%s", strerror(errno));
			free(buf);
			close(fd);
			return (NULL);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);

	if (len > CONFIG_MAX_FILE_BYTES) {
		config_error(&walk, path, "larger than %d bytes (4 MiB), the "
		    "most a config file may be", CONFIG_MAX_FILE_BYTES);
		free(buf);
		return (NULL);
	}
	conf = config_parse(buf, len, diag);
	free(buf);
	return (conf);
}

/* Free what one server entry holds (not the entry itself). */
static void
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

/* Free a config (NULL is fine). */
void
config_free(struct config *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nservers; i++)
		config_server_clear(&conf->servers[i]);
	free(conf->servers);
	free(conf->socket);
	free(conf->allow_uids);
	free(conf->allow_groups);
	free(conf);
}

/* Free a diag's messages and zero it, ready for reuse. */
void
config_diag_clear(struct config_diag *diag)
{
	size_t	i;

	for (i = 0; i < diag->nerrors; i++)
		free(diag->errors[i]);
	free(diag->errors);
	for (i = 0; i < diag->nwarnings; i++)
		free(diag->warnings[i]);
	free(diag->warnings);
	memset(diag, 0, sizeof *diag);
}

/*
 * The server called name, or NULL. A linear search: configs hold a
 * handful of servers and the broker looks one up per new session.
 */
const struct server_conf *
config_find_server(const struct config *conf, const char *name)
{
	size_t	i;

	for (i = 0; i < conf->nservers; i++) {
		if (strcmp(conf->servers[i].name, name) == 0)
			return (&conf->servers[i]);
	}
	return (NULL);
}

/* Whether "NAME=value" is in a server's environment. */
static int
config_env_contains(const struct server_conf *sc, const char *entry)
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
config_string_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * Whether two entries start the same process and greet it the same way:
 * command, argv, env and cwd (as expanded at load), then protocol, roots
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
		if (!config_env_contains(b, a->env[i]))
			return (0);
	}
	if (!config_string_equal(a->cwd, b->cwd))
		return (0);

	if (a->protocol != b->protocol)
		return (0);
	if (a->roots_set != b->roots_set || a->nroots != b->nroots)
		return (0);
	for (i = 0; i < a->nroots; i++) {
		if (strcmp(a->roots[i].uri, b->roots[i].uri) != 0 ||
		    !config_string_equal(a->roots[i].name, b->roots[i].name))
			return (0);
	}
	if (a->client_capabilities == NULL || b->client_capabilities == NULL)
		return (a->client_capabilities == b->client_capabilities);
	return (cJSON_Compare(a->client_capabilities, b->client_capabilities,
	    1));
}
