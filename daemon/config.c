/*
 * The configuration file: read it, validate the top level and the
 * "broker" section, and hand "mcpServers" to config_server.c.
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "config.h"
#include "config_server.h"
#include "defaults.h"
#include "walk.h"
#include "xmalloc.h"

/* A file larger than this is refused before it is read further. */
#define CONFIG_MAX_FILE_BYTES	(4 * 1024 * 1024)

/* The largest uid or gid: (uid_t)-1 means "no change" to chown. */
#define CONFIG_ID_MAX		4294967294LL

/* The largest buffer a getpwnam_r or getgrnam_r answer may need. */
#define CONFIG_NSS_BUF_MAX	(1024 * 1024)

/* sun_path: the bound on the socket's path, terminating NUL included. */
#define CONFIG_SUN_PATH_SIZE	(sizeof ((struct sockaddr_un *)0)->sun_path)

static const struct walk_int_key config_broker_ints[] = {
	{ "max_sessions", 1, CONFIG_MAX_COUNT,
	  offsetof(struct config, max_sessions) },
	{ "max_clients", 1, CONFIG_MAX_COUNT,
	  offsetof(struct config, max_clients) },
	{ "max_sessions_per_uid", 0, CONFIG_MAX_COUNT,
	  offsetof(struct config, max_sessions_per_uid) },
	{ "max_clients_per_uid", 0, CONFIG_MAX_COUNT,
	  offsetof(struct config, max_clients_per_uid) },
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

static void	 config_parse_socket_mode(struct walk *, struct config *,
		    const cJSON *, const char *);
static size_t	 config_nss_size(int);
static int	 config_lookup_id(const char *, int, id_t *);
static int	 config_parse_id(struct walk *, const cJSON *, const char *,
		    int, int, id_t *);
static int	 config_parse_acl(struct walk *, struct config *,
		    const cJSON *, const char *, int);
static int	 config_parse_broker(struct walk *, struct config *,
		    const cJSON *);

/* broker.socket_mode: octal digits such as "0660", at most 0777. */
static void
config_parse_socket_mode(struct walk *walk, struct config *conf,
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
	walk_error(walk, path, "expected an octal mode string from \"0000\" "
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
config_parse_id(struct walk *walk, const cJSON *item,
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
		quoted = walk_path_key(NULL, name);
		if (found == 1) {
			walk_error(walk, path, "no such %s \"%s\"%s", what,
			    quoted, strspn(name, "0123456789") == strlen(name) ?
			    (group ? " (a gid is written as a number, without "
			    "quotes)" : " (a uid is written as a number, "
			    "without quotes)") : "");
		} else {
			walk_error(walk, path, "cannot look up %s \"%s\": %s",
			    what, quoted, strerror(saved));
		}
		free(quoted);
		return (-1);
	}
	walk_error(walk, path, "expected a %s name or a %s (an integer from "
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
config_parse_acl(struct walk *walk, struct config *conf,
    const cJSON *list, const char *path, int group)
{
	const cJSON	*entry;
	char		*sub;
	size_t		 n = 0, i = 0, before = walk->nerrors;
	id_t		 id;
	int		 keep;

	if (!cJSON_IsArray(list)) {
		walk_error(walk, path, "expected an array of %s",
		    group ? "group names and gids" : "user names and uids");
		return (-1);
	}
	for (entry = list->child; entry != NULL; entry = entry->next)
		n++;
	keep = (n <= CONFIG_ACL_MAX);
	if (!keep) {
		walk_error(walk, path, "at most %d entries are allowed; "
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
		sub = walk_path_index(path, i++);
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

/*
 * Apply the "broker" object to conf. Returns whether max_request_timeout_s
 * is valid, for the servers' request_timeout_s to be checked against.
 */
static int
config_parse_broker(struct walk *walk, struct config *conf,
    const cJSON *broker)
{
	const struct walk_int_key	*key;
	const cJSON			*item;
	const char			*s;
	char				*path;
	long long			 v;
	id_t				 id;
	int				 request_ok = 1, cap_ok = 1, acl_ok = 1;
	enum log_level			 level;

	if (!cJSON_IsObject(broker)) {
		walk_error(walk, "broker", "expected an object");
		return (1);
	}
	walk_check_duplicates(walk, broker, "broker");

	for (item = broker->child; item != NULL; item = item->next) {
		path = walk_path_key("broker", item->string);
		key = walk_find_int(config_broker_ints,
		    WALK_NITEMS(config_broker_ints), item->string);
		if (key != NULL) {
			if (walk_get_int(walk, item, path, key->min,
			    key->max, &v) == 0)
				*(int *)((char *)conf + key->offset) = (int)v;
			else if (strcmp(key->name, "request_timeout_s") == 0)
				request_ok = 0;
			else if (strcmp(key->name,
			    "max_request_timeout_s") == 0)
				cap_ok = 0;
		} else if (strcmp(item->string, "socket") == 0) {
			s = walk_get_string(walk, item, path);
			if (s != NULL && strlen(s) >= CONFIG_SUN_PATH_SIZE) {
				walk_error(walk, path, "the path is %zu "
				    "bytes; a Unix socket path must be "
				    "shorter than %zu bytes", strlen(s),
				    CONFIG_SUN_PATH_SIZE);
			} else if (s != NULL) {
				free(conf->socket);
				conf->socket = xstrdup(s);
			}
		} else if (strcmp(item->string, "cgroup") == 0) {
			s = walk_get_string(walk, item, path);
			if (s != NULL && strcmp(s, "auto") != 0 &&
			    strcmp(s, "off") != 0 && s[0] != '/')
				walk_error(walk, path, "expected \"auto\", "
				    "\"off\" or an absolute path");
			else if (s != NULL) {
				free(conf->cgroup);
				conf->cgroup = xstrdup(s);
			}
		} else if (strcmp(item->string, "socket_mode") == 0)
			config_parse_socket_mode(walk, conf, item, path);
		else if (strcmp(item->string, "state_dir") == 0) {
			s = walk_get_string(walk, item, path);
			if (s != NULL && s[0] != '/')
				walk_error(walk, path, "expected an absolute "
				    "path");
			else if (s != NULL) {
				free(conf->state_dir);
				conf->state_dir = xstrdup(s);
			}
		}
		else if (strcmp(item->string, "max_message_bytes") == 0) {
			if (walk_get_int(walk, item, path, 1024,
			    1073741824, &v) == 0)
				conf->max_message_bytes = (size_t)v;
		} else if (strcmp(item->string, "log_level") == 0) {
			if (!cJSON_IsString(item) ||
			    log_level_parse(item->valuestring, &level) != 0) {
				walk_error(walk, path, "expected one of "
				    "\"debug\", \"info\", \"warning\", "
				    "\"error\"");
			} else
				conf->log_level = level;
		} else if (strcmp(item->string, "access_log") == 0) {
			if (!cJSON_IsBool(item))
				walk_error(walk, path, "expected true or "
				    "false");
			else
				conf->access_log = cJSON_IsTrue(item);
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
		} else if (strcmp(item->string, "http") == 0)
			config_http_parse(walk, &conf->http, item, path);
		else
			walk_error(walk, path, "unknown key");
		free(path);
	}

	/* With an allow list, the socket's mode is no longer the guard. */
	if ((conf->socket_mode & 0002) && !conf->allow_uids_set &&
	    !conf->allow_groups_set) {
		walk_warning(walk, "broker.socket_mode", "\"%04o\" lets "
		    "every local user connect and start servers as the "
		    "broker's user", conf->socket_mode);
	}
	if (acl_ok && (conf->allow_uids_set || conf->allow_groups_set) &&
	    conf->nallow_uids == 0 && conf->nallow_groups == 0) {
		walk_warning(walk, conf->allow_uids_set ?
		    "broker.allow_uids" : "broker.allow_groups", "empty%s: "
		    "only root and the broker's own user may use the broker",
		    conf->allow_uids_set && conf->allow_groups_set ?
		    ", and so is broker.allow_groups" : "");
	}

	if (request_ok && cap_ok &&
	    conf->max_request_timeout_s < conf->request_timeout_s) {
		walk_error(walk, "broker.max_request_timeout_s", "must be at "
		    "least broker.request_timeout_s (%d); it is %d%s",
		    conf->request_timeout_s, conf->max_request_timeout_s,
		    cJSON_GetObjectItemCaseSensitive(broker,
		    "max_request_timeout_s") == NULL ? " by default" : "");
		cap_ok = 0;
	}
	return (cap_ok);
}

/* The built-in configuration: what an empty file means. */
struct config *
config_default(void)
{
	struct config	*conf;

	conf = xcalloc(1, sizeof *conf);
	conf->socket = xstrdup(DEFAULT_SOCKET);
	conf->cgroup = xstrdup("auto");
	conf->socket_mode = 0660;
	conf->max_sessions = 256;
	conf->max_clients = 1024;
	/* A quarter of the whole: one user cannot take the host alone. */
	conf->max_sessions_per_uid = 64;
	conf->max_clients_per_uid = 256;
	conf->idle_timeout_s = 1800;
	conf->request_timeout_s = 120;
	conf->max_request_timeout_s = 3600;
	conf->start_timeout_s = 30;
	conf->shutdown_grace_ms = 2000;
	conf->max_message_bytes = 16777216;
	conf->log_level = LOG_LEVEL_INFO;
	conf->state_dir = xstrdup(CONFIG_DEFAULT_STATE_DIR);
	conf->servers = NULL;
	conf->nservers = 0;
	config_http_init(&conf->http);
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
	struct walk	 walk;
	struct config	*conf;
	cJSON		*root;
	const cJSON	*item;
	const char	*key;
	char		*path;
	int		 cap_ok = 1;

	memset(&walk, 0, sizeof walk);
	walk.diag = diag;
	if ((root = walk_parse(&walk, text, len)) == NULL)
		return (NULL);

	conf = config_default();
	walk_check_duplicates(&walk, root, NULL);
	for (item = root->child; item != NULL; item = item->next) {
		if (strcmp(item->string, "broker") == 0 ||
		    strcmp(item->string, "mcpServers") == 0 ||
		    strcmp(item->string, "servers") == 0)
			continue;
		/* VS Code's prompts for secrets: the broker asks nobody. */
		if (strcmp(item->string, "inputs") == 0) {
			walk_warning(&walk, "inputs", "ignored (the broker "
			    "cannot prompt for inputs; give values in env)");
			continue;
		}
		path = walk_path_key(NULL, item->string);
		walk_error(&walk, path, "unknown key");
		free(path);
	}
	/* The broker first: server checks compare against its values. */
	if ((item = cJSON_GetObjectItemCaseSensitive(root, "broker")) != NULL)
		cap_ok = config_parse_broker(&walk, conf, item);
	/* VS Code's mcp.json names the servers "servers". */
	key = "mcpServers";
	if ((item = cJSON_GetObjectItemCaseSensitive(root, key)) == NULL &&
	    (item = cJSON_GetObjectItemCaseSensitive(root, "servers")) != NULL)
		key = "servers";
	else if (item != NULL &&
	    cJSON_GetObjectItemCaseSensitive(root, "servers") != NULL)
		walk_error(&walk, "servers", "mcpServers is given too: use "
		    "one of the two");
	if (item != NULL) {
		conf->servers = config_server_parse_all(&walk, item, key,
		    cap_ok ? conf->max_request_timeout_s : CONFIG_UNSET,
		    &conf->nservers);
	}
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
	struct walk		 walk;
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
		walk_error(&walk, path, "%s", strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &sb) == -1) {
		walk_error(&walk, path, "%s", strerror(errno));
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(sb.st_mode)) {
		walk_error(&walk, path, "not a regular file");
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
			walk_error(&walk, path, "%s", strerror(errno));
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
		walk_error(&walk, path, "larger than %d bytes (4 MiB), the "
		    "most a config file may be", CONFIG_MAX_FILE_BYTES);
		free(buf);
		return (NULL);
	}
	conf = config_parse(buf, len, diag);
	free(buf);
	return (conf);
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
	free(conf->state_dir);
	free(conf->cgroup);
	free(conf->allow_uids);
	free(conf->allow_groups);
	config_http_clear(&conf->http);
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

/*
 * The differences between two configs' servers: names added, removed,
 * and changed (started differently, or newly disabled). The caller owns
 * the three arrays.
 */
void
config_diff(const struct config *old, const struct config *new,
    cJSON **added, cJSON **removed, cJSON **changed)
{
	const struct server_conf	*o, *n;
	size_t				 i;

	*added = cJSON_CreateArray();
	*removed = cJSON_CreateArray();
	*changed = cJSON_CreateArray();
	for (i = 0; i < old->nservers; i++) {
		o = &old->servers[i];
		if ((n = config_find_server(new, o->name)) == NULL)
			cJSON_AddItemToArray(*removed,
			    cJSON_CreateString(o->name));
		else if (!config_server_equal(o, n) ||
		    (n->disabled && !o->disabled))
			cJSON_AddItemToArray(*changed,
			    cJSON_CreateString(o->name));
	}
	for (i = 0; i < new->nservers; i++) {
		if (config_find_server(old, new->servers[i].name) == NULL)
			cJSON_AddItemToArray(*added,
			    cJSON_CreateString(new->servers[i].name));
	}
}
