/*
 * The "broker.http" section and the tokens file it names.
 *
 * The tokens file holds one "USER TOKEN" pair a line, separated by blanks;
 * "#" starts a comment line and empty lines are skipped. It must be a
 * regular file of the daemon's own user that nobody else may read or
 * write (mode 0600 or stricter): the tokens are passwords. Users are
 * resolved (uid, primary group, supplementary groups) when the file is
 * read, at start and at every reload, so that no request waits on a
 * passwd lookup. No message ever quotes a token.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cJSON.h>

#include <event2/http.h>

#include "config_http.h"
#include "log.h"
#include "walk.h"
#include "xmalloc.h"

/* The most supplementary groups kept for one token's user. */
#define CONFIG_HTTP_GROUPS_MAX	1024

static int	 config_http_list(struct walk *, const cJSON *, const char *,
		    char ***, size_t *);
static int	 config_http_token_valid(const char *, size_t);
static int	 config_http_user(const char *, struct config_http_token *);
static void	 config_http_line(struct walk *, struct config_http *,
		    const char *, size_t, char *);
static void	 config_http_read_tokens(struct walk *, struct config_http *,
		    const char *);
static void	 config_http_check_listen(struct walk *,
		    const struct config_http *, const char *);

/* The built-in section: no listener, and its defaults. */
void
config_http_init(struct config_http *hc)
{
	memset(hc, 0, sizeof *hc);
	hc->idle_timeout_s = CONFIG_HTTP_IDLE_TIMEOUT_S;
}

/* Free what a section holds and make it the built-in one again. */
void
config_http_clear(struct config_http *hc)
{
	size_t	i;

	for (i = 0; i < hc->nlisten; i++)
		free(hc->listen[i]);
	free(hc->listen);
	for (i = 0; i < hc->norigins; i++)
		free(hc->origins[i]);
	free(hc->origins);
	for (i = 0; i < hc->ntokens; i++) {
		explicit_bzero(hc->tokens[i].token, hc->tokens[i].len);
		free(hc->tokens[i].token);
		free(hc->tokens[i].groups);
	}
	free(hc->tokens);
	free(hc->tokens_file);
	config_http_init(hc);
}

/*
 * Split "HOST:PORT" ("[V6]:PORT" for an IPv6 address) into a host without
 * brackets and a port from 1 to 65535, both for the caller to free.
 */
int
config_http_split(const char *spec, char **host, char **port)
{
	const char	*colon, *end;
	long		 n;
	char		*ep;

	if ((colon = strrchr(spec, ':')) == NULL || colon == spec)
		return (-1);
	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL || end + 1 != colon ||
		    end == spec + 1)
			return (-1);
		*host = xstrndup(spec + 1, (size_t)(end - spec - 1));
	} else {
		if (memchr(spec, ':', (size_t)(colon - spec)) != NULL)
			return (-1);
		*host = xstrndup(spec, (size_t)(colon - spec));
	}
	errno = 0;
	n = strtol(colon + 1, &ep, 10);
	if (!isdigit((unsigned char)colon[1]) || *ep != '\0' || errno != 0 ||
	    n < 1 || n > 65535) {
		free(*host);
		return (-1);
	}
	*port = xstrdup(colon + 1);
	return (0);
}

/* Whether host (no brackets) is localhost, in 127.0.0.0/8, or ::1. */
int
config_http_loopback(const char *host)
{
	struct in_addr	 in;
	struct in6_addr	 in6;

	if (strcasecmp(host, "localhost") == 0)
		return (1);
	if (inet_pton(AF_INET, host, &in) == 1)
		return ((ntohl(in.s_addr) >> 24) == 127);
	if (inet_pton(AF_INET6, host, &in6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&in6))
			return (1);
		return (IN6_IS_ADDR_V4MAPPED(&in6) && in6.s6_addr[12] == 127);
	}
	return (0);
}

/* An array of non-empty strings, at most CONFIG_HTTP_LIST_MAX. */
static int
config_http_list(struct walk *walk, const cJSON *item, const char *path,
    char ***out, size_t *n)
{
	const cJSON	*entry;
	char		*sub;
	size_t		 i = 0, before = walk->nerrors;

	if (!cJSON_IsArray(item)) {
		walk_error(walk, path, "expected an array of strings");
		return (-1);
	}
	if (cJSON_GetArraySize(item) > CONFIG_HTTP_LIST_MAX) {
		walk_error(walk, path, "at most %d entries are allowed; there "
		    "are %d", CONFIG_HTTP_LIST_MAX, cJSON_GetArraySize(item));
		return (-1);
	}
	*out = xcalloc((size_t)cJSON_GetArraySize(item) + 1, sizeof **out);
	cJSON_ArrayForEach(entry, item) {
		sub = walk_path_index(path, i++);
		if (!cJSON_IsString(entry) || *entry->valuestring == '\0')
			walk_error(walk, sub, "expected a non-empty string");
		else
			(*out)[(*n)++] = xstrdup(entry->valuestring);
		free(sub);
	}
	return (walk->nerrors == before ? 0 : -1);
}

/* Whether a token is made of the characters a Bearer token may hold. */
static int
config_http_token_valid(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("-._~+/=", s[i]) == NULL)
			return (0);
	}
	return (1);
}

/*
 * Fill in a token's user from a name or a uid: its uid, primary group and
 * supplementary groups. A uid need not be in the passwd database (it has
 * no groups then); a name must. Returns -1 for an unknown name.
 */
static int
config_http_user(const char *user, struct config_http_token *t)
{
	struct passwd	*pw;
	char		*ep;
	unsigned long	 n;
	int		 ngroups = 64;

	errno = 0;
	n = strtoul(user, &ep, 10);
	if (isdigit((unsigned char)*user) && *ep == '\0' && errno == 0 &&
	    n < (unsigned long)(uid_t)-1)
		pw = getpwuid((uid_t)n);
	else if ((pw = getpwnam(user)) == NULL)
		return (-1);
	else
		n = pw->pw_uid;
	t->uid = (uid_t)n;
	t->gid = (gid_t)-1;
	if (pw == NULL)
		return (0);
	t->gid = pw->pw_gid;
	t->groups = xcalloc((size_t)ngroups, sizeof *t->groups);
	if (getgrouplist(pw->pw_name, pw->pw_gid, t->groups, &ngroups) ==
	    -1) {
		if (ngroups > CONFIG_HTTP_GROUPS_MAX)
			ngroups = CONFIG_HTTP_GROUPS_MAX;
		t->groups = xreallocarray(t->groups, (size_t)ngroups,
		    sizeof *t->groups);
		if (getgrouplist(pw->pw_name, pw->pw_gid, t->groups,
		    &ngroups) == -1)
			ngroups = 0;
	}
	t->ngroups = ngroups;
	return (0);
}

/* One line (number lineno, NUL-terminated, changed in place) of file. */
static void
config_http_line(struct walk *walk, struct config_http *hc,
    const char *file, size_t lineno, char *line)
{
	struct config_http_token	*t;
	const char			*blanks = " \t\r";
	char				*user, *token, *extra, *save;
	size_t				 i, len;

	user = strtok_r(line, blanks, &save);
	if (user == NULL || *user == '#')
		return;
	token = strtok_r(NULL, blanks, &save);
	extra = strtok_r(NULL, blanks, &save);
	if (token == NULL || extra != NULL) {
		walk_error(walk, file, "line %zu: expected USER TOKEN "
		    "separated by blanks", lineno);
		return;
	}
	len = strlen(token);
	if (len < CONFIG_HTTP_TOKEN_MIN || len > CONFIG_HTTP_TOKEN_MAX ||
	    !config_http_token_valid(token, len)) {
		walk_error(walk, file, "line %zu: a token must be %d to %d "
		    "characters of A-Z a-z 0-9 - . _ ~ + / =", lineno,
		    CONFIG_HTTP_TOKEN_MIN, CONFIG_HTTP_TOKEN_MAX);
		return;
	}
	for (i = 0; i < hc->ntokens; i++) {
		if (hc->tokens[i].len == len &&
		    memcmp(hc->tokens[i].token, token, len) == 0) {
			walk_error(walk, file, "line %zu: the same token is "
			    "on an earlier line; each token names one user",
			    lineno);
			return;
		}
	}
	if (hc->ntokens == CONFIG_HTTP_TOKENS_MAX) {
		walk_error(walk, file, "line %zu: more than %d tokens", lineno,
		    CONFIG_HTTP_TOKENS_MAX);
		return;
	}
	hc->tokens = xreallocarray(hc->tokens, hc->ntokens + 1,
	    sizeof *hc->tokens);
	t = &hc->tokens[hc->ntokens];
	memset(t, 0, sizeof *t);
	/* The user is not quoted: with the columns swapped, it is a token. */
	if (config_http_user(user, t) != 0) {
		walk_error(walk, file, "line %zu: no such user (the first field "
		    "must be a user name or a uid)", lineno);
		return;
	}
	t->token = xstrdup(token);
	t->len = len;
	if (len > hc->token_max)
		hc->token_max = len;
	hc->ntokens++;
}

/*
 * Read the tokens file at file, checking first that only the daemon's
 * user can read or change it. Errors name the file (and the line).
 */
static void
config_http_read_tokens(struct walk *walk, struct config_http *hc,
    const char *file)
{
	struct stat	 sb;
	char		*buf, *line, *nl;
	size_t		 len = 0, lineno = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(file, O_RDONLY|O_CLOEXEC|O_NONBLOCK)) == -1) {
		walk_error(walk, file, "%s", strerror(errno));
		return;
	}
	if (fstat(fd, &sb) == -1) {
		walk_error(walk, file, "%s", strerror(errno));
		close(fd);
		return;
	}
	if (!S_ISREG(sb.st_mode)) {
		walk_error(walk, file, "not a regular file");
		close(fd);
		return;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 07777 & ~0600) != 0) {
		walk_error(walk, file, "the tokens file must be owned by the "
		    "daemon's user (uid %ld) and have mode 0600 or stricter; "
		    "it is owned by uid %ld with mode %04o", (long)geteuid(),
		    (long)sb.st_uid, (unsigned)(sb.st_mode & 07777));
		close(fd);
		return;
	}
	buf = xmalloc(CONFIG_HTTP_TOKENS_FILE_MAX + 1);
	while (len <= CONFIG_HTTP_TOKENS_FILE_MAX) {
		n = read(fd, buf + len, CONFIG_HTTP_TOKENS_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n == -1 || len > CONFIG_HTTP_TOKENS_FILE_MAX) {
		walk_error(walk, file, "%s", n == -1 ? strerror(errno) :
		    "larger than 1 MiB (CONFIG_HTTP_TOKENS_FILE_MAX)");
		explicit_bzero(buf, len);
		free(buf);
		return;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL)
		walk_error(walk, file, "holds a NUL byte; expected text");
	else {
		for (line = buf; *line != '\0'; line = nl + 1) {
			lineno++;
			if ((nl = strchr(line, '\n')) != NULL)
				*nl = '\0';
			config_http_line(walk, hc, file, lineno, line);
			if (nl == NULL)
				break;
		}
	}
	explicit_bzero(buf, len);
	free(buf);
}

/* Each listen address: HOST:PORT, and loopback unless allow_remote. */
static void
config_http_check_listen(struct walk *walk, const struct config_http *hc,
    const char *path)
{
	char	*sub, *host, *port;
	size_t	 i;

	for (i = 0; i < hc->nlisten; i++) {
		sub = walk_path_index(path, i);
		if (config_http_split(hc->listen[i], &host, &port) != 0) {
			walk_error(walk, sub, "expected \"HOST:PORT\" (an IPv6 "
			    "address in brackets, \"[::1]:8080\") with a port "
			    "from 1 to 65535");
		} else {
			if (!hc->allow_remote && !config_http_loopback(host))
				walk_error(walk, sub, "\"%s\" is not a loopback "
				    "address (localhost, 127.0.0.0/8, ::1); set "
				    "broker.http.allow_remote to listen on it",
				    host);
			free(host);
			free(port);
		}
		free(sub);
	}
}

/* Apply the object at path ("broker.http") to hc. */
void
config_http_parse(struct walk *walk, struct config_http *hc,
    const cJSON *obj, const char *path)
{
	const cJSON	*item;
	const char	*s;
	char		*sub, *listen_path = NULL;
	long long	 v;

	if (!cJSON_IsObject(obj)) {
		walk_error(walk, path, "expected an object");
		return;
	}
	walk_check_duplicates(walk, obj, path);
	cJSON_ArrayForEach(item, obj) {
		sub = walk_path_key(path, item->string);
		if (strcmp(item->string, "listen") == 0) {
			if (hc->listen == NULL &&
			    config_http_list(walk, item, sub, &hc->listen,
			    &hc->nlisten) == 0 && listen_path == NULL) {
				listen_path = sub;
				sub = NULL;
			}
		} else if (strcmp(item->string, "allowed_origins") == 0) {
			if (hc->origins == NULL)
				config_http_list(walk, item, sub, &hc->origins,
				    &hc->norigins);
		} else if (strcmp(item->string, "tokens_file") == 0) {
			s = walk_get_string(walk, item, sub);
			if (s != NULL && s[0] != '/')
				walk_error(walk, sub, "expected an absolute "
				    "path");
			else if (s != NULL && hc->tokens_file == NULL) {
				hc->tokens_file = xstrdup(s);
				config_http_read_tokens(walk, hc, s);
			}
		} else if (strcmp(item->string, "allow_remote") == 0) {
			if (!cJSON_IsBool(item))
				walk_error(walk, sub, "expected true or false");
			else
				hc->allow_remote = cJSON_IsTrue(item);
		} else if (strcmp(item->string, "idle_timeout_s") == 0) {
			if (walk_get_int(walk, item, sub, 1, 86400, &v) == 0)
				hc->idle_timeout_s = (int)v;
		} else
			walk_error(walk, sub, "unknown key");
		free(sub);
	}

	if (listen_path != NULL) {
		config_http_check_listen(walk, hc, listen_path);
		free(listen_path);
	}
	if (hc->nlisten != 0 && hc->tokens_file == NULL &&
	    cJSON_GetObjectItemCaseSensitive(obj, "tokens_file") == NULL) {
		sub = walk_path_key(path, "tokens_file");
		walk_error(walk, sub, "required when broker.http.listen is not "
		    "empty: every request on a TCP listener must carry a "
		    "token of it");
		free(sub);
	}
}

/*
 * At reload: the listeners are bound once, so a new listen list waits for
 * the next start (the new config keeps the old one, and a warning says
 * so). The tokens and the rest apply at once. Returns 0, or -1 with
 * *cause (caller frees) if the listeners kept would be left without a
 * tokens file, or reachable from other hosts without allow_remote: such
 * a reload changes nothing.
 */
int
config_http_reload(const struct config_http *old, struct config_http *new,
    char **cause)
{
	char	*host, *port;
	size_t	 i;
	int	 same = (old->nlisten == new->nlisten), remote = 0;

	for (i = 0; i < old->nlisten; i++) {
		if (same)
			same = (strcmp(old->listen[i], new->listen[i]) == 0);
		if (config_http_split(old->listen[i], &host, &port) == 0) {
			remote |= !config_http_loopback(host);
			free(host);
			free(port);
		}
	}
	if (old->nlisten > 0 && new->tokens_file == NULL) {
		*cause = xstrdup("broker.http.tokens_file: the listeners stay "
		    "open until the next start, and need a tokens file");
		return (-1);
	}
	if (remote && !new->allow_remote) {
		*cause = xstrdup("broker.http.allow_remote: a listener open "
		    "until the next start is not on a loopback address");
		return (-1);
	}
	if (same)
		return (0);
	log_warnx("reload: a broker.http.listen change takes effect at the "
	    "next start; the listeners stay as they are");
	for (i = 0; i < new->nlisten; i++)
		free(new->listen[i]);
	free(new->listen);
	new->listen = xcalloc(old->nlisten + 1, sizeof *new->listen);
	for (i = 0; i < old->nlisten; i++)
		new->listen[i] = xstrdup(old->listen[i]);
	new->nlisten = old->nlisten;
	return (0);
}

/*
 * The entry whose token is the len bytes at s, or NULL. Every entry is
 * compared over the length of the file's longest token, whatever
 * matched, so that the time taken tells neither how much of a guess was
 * right nor how long a token is; a guess longer than any token is
 * refused before comparing (the work per request stays bounded).
 */
const struct config_http_token *
config_http_find_token(const struct config_http *hc, const char *s,
    size_t len)
{
	const struct config_http_token	*found = NULL, *t;
	size_t				 i, j, n;
	unsigned char			 a, b, diff;

	if (len > hc->token_max)
		return (NULL);
	n = hc->token_max;
	for (i = 0; i < hc->ntokens; i++) {
		t = &hc->tokens[i];
		diff = (unsigned char)(len != t->len);
		for (j = 0; j < n; j++) {
			a = j < len ? (unsigned char)s[j] : 0;
			b = j < t->len ? (unsigned char)t->token[j] : 0;
			diff |= a ^ b;
		}
		if (diff == 0)
			found = t;
	}
	return (found);
}

/*
 * Whether an Origin header's value is allowed: a loopback host (any
 * scheme and port) or an entry of broker.http.allowed_origins.
 */
int
config_http_origin_ok(const struct config_http *hc, const char *origin)
{
	struct evhttp_uri	*uri;
	const char		*host;
	char			*bare;
	size_t			 i, len;
	int			 ok = 0;

	for (i = 0; i < hc->norigins; i++) {
		if (strcasecmp(hc->origins[i], origin) == 0)
			return (1);
	}
	if ((uri = evhttp_uri_parse(origin)) == NULL)
		return (0);
	if ((host = evhttp_uri_get_host(uri)) != NULL &&
	    evhttp_uri_get_scheme(uri) != NULL) {
		len = strlen(host);
		if (len > 2 && host[0] == '[' && host[len - 1] == ']')
			bare = xstrndup(host + 1, len - 2);
		else
			bare = xstrdup(host);
		ok = config_http_loopback(bare);
		free(bare);
	}
	evhttp_uri_free(uri);
	return (ok);
}
