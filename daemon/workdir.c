/*
 * Session directories and session expansions: make a session's private
 * directory, remove it (and what a predecessor left) without following
 * the symlinks a child may have planted, and expand the templates of a
 * server's args and env for one session.
 *
 * Removal works on directory fds (openat, unlinkat, fdopendir) with
 * O_NOFOLLOW, so a symlink inside a session directory is removed, never
 * its target. A directory the child made read-only is made writable
 * first: the daemon's user owns what its children make.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "workdir.h"
#include "xmalloc.h"

const char *const workdir_names[] = {
	"session_dir", "thread", "server", "session_id", NULL
};

/* What one removal found: the first failure, and how many there were. */
struct workdir_rm {
	int	 error;		/* errno of the first failure, or 0 */
	int	 too_deep;	/* WORKDIR_MAX_DEPTH was reached */
	size_t	 failed;
};

static const char *workdir_value(const struct workdir_values *,
		    const char *, size_t);
static void	 workdir_add(char **, size_t *, size_t *, const char *,
		    size_t);
static int	 workdir_mkdir(const char *, char **);
static int	 workdir_open_dir(int, const char *);
static void	 workdir_fail(struct workdir_rm *, int);
static int	 workdir_remove_at(int, const char *, int,
		    struct workdir_rm *);
static int	 workdir_empty(int, int, struct workdir_rm *);
static char	*workdir_describe(const char *, const struct workdir_rm *);

/*
 * Whether a config string (where "$$" is a literal "$") refers to
 * ${name}; with name NULL, to any of the session names.
 */
int
workdir_refers(const char *s, const char *name)
{
	const char	*p, *end;
	size_t		 len, i;

	for (p = s; (p = strchr(p, '$')) != NULL; /* nothing */) {
		if (p[1] == '$') {
			p += 2;
			continue;
		}
		if (p[1] != '{' || (end = strchr(p + 2, '}')) == NULL) {
			p++;
			continue;
		}
		len = (size_t)(end - p - 2);
		for (i = 0; workdir_names[i] != NULL; i++) {
			if (name != NULL && strcmp(name, workdir_names[i]) != 0)
				continue;
			if (strlen(workdir_names[i]) == len &&
			    strncmp(p + 2, workdir_names[i], len) == 0)
				return (1);
		}
		p = end + 1;
	}
	return (0);
}

/* The value of the session name at s (len bytes), or NULL. */
static const char *
workdir_value(const struct workdir_values *v, const char *s, size_t len)
{
	static const struct {
		const char	*name;
		size_t		 offset;
	} map[] = {
		{ "session_dir", offsetof(struct workdir_values, session_dir) },
		{ "thread", offsetof(struct workdir_values, thread) },
		{ "server", offsetof(struct workdir_values, server) },
		{ "session_id", offsetof(struct workdir_values, session_id) },
	};
	size_t	i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (strlen(map[i].name) == len &&
		    strncmp(s, map[i].name, len) == 0)
			return (*(const char *const *)((const char *)v +
			    map[i].offset));
	}
	return (NULL);
}

/* Append n bytes of s to a NUL-terminated buffer that grows. */
static void
workdir_add(char **buf, size_t *len, size_t *size, const char *s, size_t n)
{
	while (*size - *len <= n) {
		*size *= 2;
		*buf = xrealloc(*buf, *size);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * A template expanded for one session: "$$" is a "$", ${name} the
 * session's value (a name without one, which a loaded config never has,
 * is kept as written). Values are not expanded again and never pass
 * through a shell, so a thread name may hold any bytes. The caller frees.
 */
char *
workdir_expand(const char *tmpl, const struct workdir_values *v)
{
	const char	*p, *end, *value;
	char		*out;
	size_t		 len = 0, size, n;

	size = strlen(tmpl) + 1;
	out = xmalloc(size);
	*out = '\0';
	for (p = tmpl; *p != '\0'; /* nothing */) {
		if (p[0] != '$') {
			n = strcspn(p, "$");
			workdir_add(&out, &len, &size, p, n);
			p += n;
		} else if (p[1] == '$') {
			workdir_add(&out, &len, &size, "$", 1);
			p += 2;
		} else if (p[1] == '{' && (end = strchr(p + 2, '}')) != NULL &&
		    (value = workdir_value(v, p + 2,
		    (size_t)(end - p - 2))) != NULL) {
			workdir_add(&out, &len, &size, value, strlen(value));
			p = end + 1;
		} else {
			workdir_add(&out, &len, &size, "$", 1);
			p++;
		}
	}
	return (out);
}

/* A NULL-terminated list of templates, each expanded (workdir_free_list). */
char **
workdir_expand_list(char *const *list, const struct workdir_values *v)
{
	char	**out;
	size_t	  n, i;

	for (n = 0; list[n] != NULL; n++)
		/* nothing */;
	out = xcalloc(n + 1, sizeof *out);
	for (i = 0; i < n; i++)
		out[i] = workdir_expand(list[i], v);
	return (out);
}

/*
 * A child's "NAME=value" list for one session: WORKDIR_ENV first if it
 * has a directory (so the server's env may set it otherwise), then env
 * (NULL: none), expanded if it holds templates. workdir_free_list frees.
 */
char **
workdir_env(char *const *env, int templates, const struct workdir_values *v)
{
	char	**out;
	size_t	  n = 0, i, o = 0;

	while (env != NULL && env[n] != NULL)
		n++;
	out = xcalloc(n + 2, sizeof *out);
	if (v->session_dir != NULL)
		xasprintf(&out[o++], "%s=%s", WORKDIR_ENV, v->session_dir);
	for (i = 0; i < n; i++)
		out[o++] = templates ? workdir_expand(env[i], v) :
		    xstrdup(env[i]);
	return (out);
}

/* Free a list from workdir_expand_list (NULL is fine). */
void
workdir_free_list(char **list)
{
	size_t	i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/*
 * The state directory of one daemon instance, name (made from its socket
 * path) inside broker.state_dir, so that daemons on other sockets never
 * clean each other's session directories (caller frees).
 */
char *
workdir_instance(const char *state_dir, const char *name)
{
	char	*dir;

	xasprintf(&dir, "%s/%s", state_dir, name);
	return (dir);
}

/* Where a state directory keeps its session directories (caller frees). */
char *
workdir_base(const char *state_dir)
{
	char	*base;

	xasprintf(&base, "%s/%s", state_dir, WORKDIR_SESSIONS);
	return (base);
}

/* Make a directory 0700 unless it is one already. */
static int
workdir_mkdir(const char *path, char **cause)
{
	struct stat	sb;

	if (mkdir(path, S_IRWXU) == 0)
		return (0);
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return (0);
	if (errno == EEXIST)
		errno = ENOTDIR;
	xasprintf(cause, "cannot create %s: %s", path, strerror(errno));
	return (-1);
}

/*
 * Make an instance's state_dir, the directory it is in, and its sessions
 * directory (mode 0700) if they are missing. Returns -1 with *cause
 * naming the path that could not be made.
 */
int
workdir_prepare(const char *state_dir, char **cause)
{
	char	*parent, *slash, *base;
	int	 rc;

	parent = xstrdup(state_dir);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
		*slash = '\0';
	base = workdir_base(state_dir);
	rc = workdir_mkdir(parent, cause) != 0 ||
	    workdir_mkdir(state_dir, cause) != 0 ||
	    workdir_mkdir(base, cause) != 0 ? -1 : 0;
	free(base);
	free(parent);
	return (rc);
}

/*
 * Make the directory of session id: <state_dir>/sessions/<id>, mode 0700,
 * with state_dir and sessions made first if they are missing. Returns 0
 * with *path (the caller frees), or -1 with *cause naming the path.
 */
int
workdir_create(const char *state_dir, const char *id, char **path,
    char **cause)
{
	char	*base;

	*path = NULL;
	if (workdir_prepare(state_dir, cause) != 0)
		return (-1);
	base = workdir_base(state_dir);
	xasprintf(path, "%s/%s", base, id);
	free(base);
	if (mkdir(*path, S_IRWXU) != 0) {
		xasprintf(cause, "cannot create %s: %s", *path,
		    strerror(errno));
		free(*path);
		*path = NULL;
		return (-1);
	}
	/* The umask may have taken bits the owner needs. */
	if (chmod(*path, S_IRWXU) != 0) {
		xasprintf(cause, "cannot set the mode of %s: %s", *path,
		    strerror(errno));
		rmdir(*path);
		free(*path);
		*path = NULL;
		return (-1);
	}
	return (0);
}

/*
 * Open the directory name in dirfd without following a symlink; one the
 * owner may not read is made readable first (never through a symlink).
 */
static int
workdir_open_dir(int dirfd, const char *name)
{
	int	fd, flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

	if ((fd = openat(dirfd, name, flags)) != -1 || errno != EACCES)
		return (fd);
	if (fchmodat(dirfd, name, S_IRWXU, AT_SYMLINK_NOFOLLOW) != 0) {
		errno = EACCES;
		return (-1);
	}
	return (openat(dirfd, name, flags));
}

/* Count one failure, keeping the first errno. */
static void
workdir_fail(struct workdir_rm *rm, int error)
{
	if (rm->error == 0)
		rm->error = error;
	rm->failed++;
}

/* Remove what directory fd holds, depth levels below the top. */
static int
workdir_empty(int fd, int depth, struct workdir_rm *rm)
{
	struct stat	 sb;
	struct dirent	*de;
	DIR		*dir;
	size_t		 seen, removed;

	/* A directory the child made read-only still has to be emptied. */
	if (fstat(fd, &sb) == 0 && (sb.st_mode & S_IRWXU) != S_IRWXU)
		(void)fchmod(fd, sb.st_mode | S_IRWXU);
	if ((dir = fdopendir(fd)) == NULL) {
		workdir_fail(rm, errno);
		close(fd);
		return (-1);
	}
	/* Entries removed while reading may hide others: read until none. */
	do {
		seen = removed = 0;
		rewinddir(dir);
		while ((de = readdir(dir)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			seen++;
			if (workdir_remove_at(dirfd(dir), de->d_name,
			    depth + 1, rm) == 0)
				removed++;
		}
	} while (seen != 0 && removed == seen);
	closedir(dir);
	return (seen == 0 ? 0 : -1);
}

/*
 * Remove name in dirfd: a file, a symlink (never its target) or a
 * directory and everything in it, depth levels below the top.
 */
static int
workdir_remove_at(int dirfd, const char *name, int depth,
    struct workdir_rm *rm)
{
	int	fd;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return (0);
	if (errno != EISDIR && errno != EPERM) {
		workdir_fail(rm, errno);
		return (-1);
	}
	if ((fd = workdir_open_dir(dirfd, name)) == -1) {
		if (errno == ENOENT)
			return (0);
		workdir_fail(rm, errno);
		return (-1);
	}
	if (depth >= WORKDIR_MAX_DEPTH) {
		close(fd);
		rm->too_deep = 1;
		workdir_fail(rm, ELOOP);
		return (-1);
	}
	if (workdir_empty(fd, depth, rm) != 0)
		return (-1);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
		workdir_fail(rm, errno);
		return (-1);
	}
	return (0);
}

/* Why a removal of path failed, for a person (the caller frees). */
static char *
workdir_describe(const char *path, const struct workdir_rm *rm)
{
	char	*cause;

	if (rm->too_deep) {
		xasprintf(&cause, "cannot remove all of %s: it nests deeper "
		    "than %d directories (WORKDIR_MAX_DEPTH)", path,
		    WORKDIR_MAX_DEPTH);
	} else {
		xasprintf(&cause, "cannot remove all of %s: %s (%zu "
		    "failures)", path, strerror(rm->error), rm->failed);
	}
	return (cause);
}

/*
 * Remove a session directory and everything in it, following no
 * symlink below path. A path already gone is fine. Returns -1 with
 * *cause if something is left.
 */
int
workdir_remove(const char *path, char **cause)
{
	struct workdir_rm	 rm;
	const char		*slash;
	char			*parent;
	int			 fd, rc;

	memset(&rm, 0, sizeof rm);
	if ((slash = strrchr(path, '/')) == NULL)
		parent = xstrdup(".");
	else if (slash == path)
		parent = xstrdup("/");
	else
		parent = xstrndup(path, (size_t)(slash - path));
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(parent);
	if (fd == -1) {
		if (errno == ENOENT)
			return (0);
		xasprintf(cause, "cannot open the directory of %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	rc = workdir_remove_at(fd, slash == NULL ? path : slash + 1, 0, &rm);
	close(fd);
	if (rc != 0)
		*cause = workdir_describe(path, &rm);
	return (rc);
}

/*
 * Remove a session directory in a process of its own, so that a tree of
 * any size (a browser profile, or a server that filled it on purpose)
 * never holds up the event loop; the daemon reaps that process like any
 * orphan. If it cannot fork, the directory is removed here and now. What
 * goes wrong is logged.
 */
void
workdir_discard(const char *path)
{
	char	*why;
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		/* Hold none of the daemon's sockets or pipes open. */
		close_range(STDERR_FILENO + 1, ~0U, 0);
		if (workdir_remove(path, &why) != 0) {
			log_warnx("%s", why);
			_exit(1);
		}
		_exit(0);
	}
	if (pid == -1) {
		log_warn("cannot fork to remove %s; removing it now", path);
		if (workdir_remove(path, &why) != 0) {
			log_warnx("%s", why);
			free(why);
		}
	}
}

/*
 * Remove every session directory under <state_dir>/sessions: what a
 * predecessor killed before it could clean up left behind. A missing
 * base is fine. *n is how many entries were removed.
 */
int
workdir_clean(const char *state_dir, size_t *n, char **cause)
{
	struct workdir_rm	 rm;
	struct dirent		*de;
	DIR			*dir;
	char			*base;
	int			 fd, rc = 0;

	*n = 0;
	memset(&rm, 0, sizeof rm);
	base = workdir_base(state_dir);
	fd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT) {
			xasprintf(cause, "cannot open %s: %s", base,
			    strerror(errno));
			rc = -1;
		}
		free(base);
		return (rc);
	}
	if ((dir = fdopendir(fd)) == NULL) {
		xasprintf(cause, "cannot read %s: %s", base, strerror(errno));
		close(fd);
		free(base);
		return (-1);
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (workdir_remove_at(dirfd(dir), de->d_name, 0, &rm) == 0)
			(*n)++;
		else
			rc = -1;
	}
	closedir(dir);
	if (rc != 0)
		*cause = workdir_describe(base, &rm);
	free(base);
	return (rc);
}
