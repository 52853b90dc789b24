/*
 * A cgroup (v2) per session: finding where to make them, making them with
 * their limits, killing and removing them.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cgroup.h"
#include "log.h"
#include "xmalloc.h"

/* The controllers session limits use, enabled where the host offers them. */
static const char *cgroup_controllers[] = { "memory", "pids", "cpu" };

/* Longest control file the daemon reads (cgroup.procs of a busy cgroup). */
#define CGROUP_READ_MAX		65536

struct cgroup_root {
	struct event_base	*base;
	char			*path;		/* NULL: no cgroups */
	char			*parent;
	char			*leaf;
	char			*why;
};

struct cgroup {
	struct cgroup_root	*root;
	char			*path;
	int			 join_fd;	/* cgroup.procs, or -1 */
	struct event		*timer;
	int			 tries;
	cgroup_removed_cb	 cb;
	void			*arg;
};

static char	*cgroup_join(const char *, const char *);
static char	*cgroup_unescape(const char *, size_t);
static int	 cgroup_write(const char *, const char *, const char *);
static ssize_t	 cgroup_read(const char *, const char *, char *, size_t);
static int	 cgroup_writable(const char *);
static int	 cgroup_alone(const char *, pid_t);
static int	 cgroup_has_word(const char *, const char *);
static int	 cgroup_is_session(const char *);
static void	 cgroup_enable(const char *);
static void	 cgroup_kill_path(const char *);
static int	 cgroup_rmdir_tree(const char *);
static int	 cgroup_clean(const char *);
static void	 cgroup_apply(struct cgroup *, const char *, const char *,
		     const char *, const char *);
static void	 cgroup_timer_cb(evutil_socket_t, short, void *);
static int	 cgroup_try_remove(struct cgroup *);

/* dir/name, without doubling a slash. */
static char *
cgroup_join(const char *dir, const char *name)
{
	char	*s;
	size_t	 len = strlen(dir);

	while (*name == '/')
		name++;
	if (len > 0 && dir[len - 1] == '/')
		xasprintf(&s, "%s%s", dir, name);
	else if (*name == '\0')
		s = xstrdup(dir);
	else
		xasprintf(&s, "%s/%s", dir, name);
	return (s);
}

/* A mountinfo field with its octal escapes (\040 for a space) decoded. */
static char *
cgroup_unescape(const char *s, size_t len)
{
	char	*out, *o;
	size_t	 i;

	o = out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 +
			    (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return (out);
}

/*
 * Find the cgroup2 mount in a mountinfo file: its mount point into *mount
 * and the cgroup it shows as its root into *root (both the caller's). A
 * read-write mount is preferred. Returns -1 if there is none.
 */
int
cgroup_parse_mountinfo(const char *path, char **mount, char **root)
{
	FILE	*f;
	char	*line = NULL, *field[6], *sep, *p, *m, *r;
	size_t	 size = 0, len[6];
	int	 i, found = 0, rw;

	*mount = *root = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	while (getline(&line, &size, f) != -1) {
		/* id parent major:minor root mount options ... - type ... */
		if ((sep = strstr(line, " - ")) == NULL ||
		    strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		p = line;
		for (i = 0; i < 6; i++) {
			field[i] = p;
			len[i] = strcspn(p, " ");
			p += len[i];
			if (*p == ' ')
				p++;
		}
		if (field[5] > sep)
			continue;
		rw = strncmp(field[5], "rw", 2) == 0 &&
		    (len[5] == 2 || field[5][2] == ',');
		if (found && !rw)
			continue;
		m = cgroup_unescape(field[4], len[4]);
		r = cgroup_unescape(field[3], len[3]);
		free(*mount);
		free(*root);
		*mount = m;
		*root = r;
		found = 1;
		if (rw)
			break;
	}
	free(line);
	fclose(f);
	return (found ? 0 : -1);
}

/*
 * The cgroup v2 path ("0::/path") in a /proc/PID/cgroup file into *rel
 * (the caller's). Returns -1 if there is none.
 */
int
cgroup_parse_self(const char *path, char **rel)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 n;

	*rel = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	while ((n = getline(&line, &size, f)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strncmp(line, "0::/", 4) == 0) {
			*rel = xstrdup(line + 3);
			break;
		}
	}
	free(line);
	fclose(f);
	return (*rel != NULL ? 0 : -1);
}

/* The base directory's name for a socket path: the prefix and a hash. */
char *
cgroup_base_name(const char *socket)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*p;
	char		*s;

	/* FNV-1a: stable across runs, so a restart finds its leftovers. */
	for (p = socket; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	xasprintf(&s, CGROUP_BASE_PREFIX "%016llx", (unsigned long long)h);
	return (s);
}

/* Whether the daemon may make cgroups in dir and move processes there. */
static int
cgroup_writable(const char *dir)
{
	char	*procs;
	int	 ok;

	procs = cgroup_join(dir, "cgroup.procs");
	ok = access(dir, W_OK) == 0 && access(procs, W_OK) == 0;
	free(procs);
	return (ok);
}

/* Whether pid is the only process in the cgroup dir. */
static int
cgroup_alone(const char *dir, pid_t pid)
{
	char	 buf[CGROUP_READ_MAX], *line, *next;
	int	 seen = 0;

	if (cgroup_read(dir, "cgroup.procs", buf, sizeof buf) < 0)
		return (0);
	for (line = buf; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		if (*line == '\0')
			continue;
		if (strtol(line, NULL, 10) != (long)pid)
			return (0);
		seen = 1;
	}
	return (seen);
}

/*
 * Decide where session cgroups go for mode ("auto", "off" or a path) and
 * the socket path, from the files sys names. plan->base is NULL if there
 * is nowhere; plan->why says what was chosen or why nothing was.
 */
void
cgroup_plan_make(const struct cgroup_sys *sys, const char *mode,
    const char *socket, struct cgroup_plan *plan)
{
	char	*mount = NULL, *root = NULL, *rel = NULL, *own = NULL;
	char	*name;
	size_t	 len;

	memset(plan, 0, sizeof *plan);
	if (strcmp(mode, "off") == 0) {
		plan->why = xstrdup("broker.cgroup is \"off\"");
		return;
	}
	if (cgroup_parse_mountinfo(sys->mountinfo, &mount, &root) != 0) {
		plan->why = xstrdup("no cgroup2 file system is mounted");
		return;
	}
	if (mode[0] == '/') {
		len = strlen(mount);
		if (strncmp(mode, mount, len) != 0 ||
		    (mode[len] != '/' && mount[len - 1] != '/')) {
			xasprintf(&plan->why, "broker.cgroup %s is not in the "
			    "cgroup2 file system at %s", mode, mount);
			goto out;
		}
		/* Named after the socket there too, so that daemons sharing
		   a config on other sockets never touch each other's. */
		name = cgroup_base_name(socket);
		plan->base = cgroup_join(mode, name);
		plan->parent = xstrdup(mode);
		free(name);
		xasprintf(&plan->why, "cgroup %s (broker.cgroup)", plan->base);
		goto out;
	}

	/* The daemon's own cgroup, as a directory in the mount. */
	len = strlen(root);
	if (cgroup_parse_self(sys->self, &rel) == 0) {
		if (strcmp(root, "/") == 0)
			own = cgroup_join(mount, rel);
		else if (strncmp(rel, root, len) == 0 &&
		    (rel[len] == '/' || rel[len] == '\0'))
			own = cgroup_join(mount, rel + len);
	}
	name = cgroup_base_name(socket);
	if (own != NULL && strcmp(own, mount) != 0 &&
	    cgroup_writable(own) && cgroup_alone(own, sys->pid)) {
		/* Delegated to us alone: move into a leaf, use the rest. */
		plan->leaf = cgroup_join(own, CGROUP_SUPERVISOR);
		plan->parent = xstrdup(own);
		plan->base = cgroup_join(own, name);
		xasprintf(&plan->why, "cgroup %s (delegated)", plan->base);
	} else if (own != NULL && cgroup_writable(own)) {
		plan->parent = xstrdup(own);
		plan->base = cgroup_join(own, name);
		xasprintf(&plan->why, "cgroup %s", plan->base);
	} else if (cgroup_writable(mount)) {
		plan->parent = xstrdup(mount);
		plan->base = cgroup_join(mount, name);
		xasprintf(&plan->why, "cgroup %s", plan->base);
	} else {
		xasprintf(&plan->why, "no writable cgroup2 (neither the "
		    "daemon's cgroup %s nor the mount %s is writable)",
		    own != NULL ? own : "(unknown)", mount);
	}
	free(name);
out:
	free(own);
	free(rel);
	free(mount);
	free(root);
}

/* Free what a plan holds. */
void
cgroup_plan_clear(struct cgroup_plan *plan)
{
	free(plan->base);
	free(plan->parent);
	free(plan->leaf);
	free(plan->why);
	memset(plan, 0, sizeof *plan);
}

/* Write text to dir/file; -1 with errno on failure. */
static int
cgroup_write(const char *dir, const char *file, const char *text)
{
	char	*path;
	int	 fd, saved;
	ssize_t	 n;

	path = cgroup_join(dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	saved = errno;
	free(path);
	if (fd == -1) {
		errno = saved;
		return (-1);
	}
	n = write(fd, text, strlen(text));
	saved = errno;
	close(fd);
	errno = saved;
	return (n == (ssize_t)strlen(text) ? 0 : -1);
}

/* Read dir/file into buf, NUL-terminated; its length, or -1. */
static ssize_t
cgroup_read(const char *dir, const char *file, char *buf, size_t size)
{
	char	*path;
	int	 fd, saved;
	ssize_t	 n, total = 0;

	buf[0] = '\0';
	path = cgroup_join(dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	saved = errno;
	free(path);
	if (fd == -1) {
		errno = saved;
		return (-1);
	}
	while ((size_t)total < size - 1 &&
	    (n = read(fd, buf + total, size - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return (total);
}

/* Whether a space-separated list holds word. */
static int
cgroup_has_word(const char *list, const char *word)
{
	size_t	len = strlen(word), n;

	while (*list != '\0') {
		list += strspn(list, " \n");
		n = strcspn(list, " \n");
		if (n == len && strncmp(list, word, len) == 0)
			return (1);
		list += n;
	}
	return (0);
}

/* Whether a directory name is a session cgroup's (nothing else is touched). */
static int
cgroup_is_session(const char *name)
{
	return (strncmp(name, CGROUP_SESSION_PREFIX,
	    strlen(CGROUP_SESSION_PREFIX)) == 0);
}

/* Enable in dir's children the session controllers dir may offer. */
static void
cgroup_enable(const char *dir)
{
	char	 have[1024], on[1024], *add;
	size_t	 i;

	if (cgroup_read(dir, "cgroup.controllers", have, sizeof have) < 0 ||
	    cgroup_read(dir, "cgroup.subtree_control", on, sizeof on) < 0)
		return;
	for (i = 0; i < sizeof cgroup_controllers /
	    sizeof cgroup_controllers[0]; i++) {
		if (!cgroup_has_word(have, cgroup_controllers[i]) ||
		    cgroup_has_word(on, cgroup_controllers[i]))
			continue;
		xasprintf(&add, "+%s", cgroup_controllers[i]);
		if (cgroup_write(dir, "cgroup.subtree_control", add) == -1)
			log_debug("enabling %s in %s: %s",
			    cgroup_controllers[i], dir, strerror(errno));
		free(add);
	}
}

/* Kill every process in the cgroup dir and below it (SIGKILL). */
static void
cgroup_kill_path(const char *dir)
{
	char	 buf[CGROUP_READ_MAX], *line, *next;
	long	 pid;

	if (cgroup_write(dir, "cgroup.kill", "1") == 0)
		return;
	if (errno != ENOENT) {
		log_warn("writing %s/cgroup.kill", dir);
		return;
	}
	/* No cgroup.kill (before Linux 5.14): one by one. */
	if (cgroup_read(dir, "cgroup.procs", buf, sizeof buf) < 0)
		return;
	for (line = buf; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		if ((pid = strtol(line, NULL, 10)) > 0)
			kill((pid_t)pid, SIGKILL);
	}
}

/* Remove dir and the cgroups below it, deepest first; -1 if any stays. */
static int
cgroup_rmdir_tree(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		*sub;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL)
		return (errno == ENOENT ? 0 : -1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = cgroup_join(dir, de->d_name);
		if (cgroup_rmdir_tree(sub) != 0)
			rc = -1;
		free(sub);
	}
	closedir(d);
	if (rmdir(dir) == -1 && errno != ENOENT)
		rc = -1;
	return (rc);
}

/*
 * Kill and remove every session cgroup (CGROUP_SESSION_PREFIX) left in
 * base by a previous instance. This waits for them to empty (bounded by
 * CGROUP_REMOVE_TRIES), but runs before any client is served. Returns
 * how many were removed, or -1 if base cannot be read.
 */
static int
cgroup_clean(const char *base)
{
	DIR		*d;
	struct dirent	*de;
	struct timespec	 ts = { 0, CGROUP_REMOVE_POLL_MS * 1000000L };
	char		*sub;
	int		 n = 0, tries;

	if ((d = opendir(base)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || !cgroup_is_session(de->d_name))
			continue;
		sub = cgroup_join(base, de->d_name);
		cgroup_kill_path(sub);
		for (tries = 0; cgroup_rmdir_tree(sub) != 0; tries++) {
			if (tries == CGROUP_REMOVE_TRIES) {
				log_warnx("cgroup %s still has processes "
				    "after %d ms (CGROUP_REMOVE_TRIES); left "
				    "in place", sub, CGROUP_REMOVE_TRIES *
				    CGROUP_REMOVE_POLL_MS);
				break;
			}
			nanosleep(&ts, NULL);
			cgroup_kill_path(sub);
		}
		if (tries < CGROUP_REMOVE_TRIES)
			n++;
		free(sub);
	}
	closedir(d);
	return (n);
}

/* Containment as the plan says; nothing happens until cgroup_root_start. */
struct cgroup_root *
cgroup_root_new(struct event_base *base, const struct cgroup_plan *plan)
{
	struct cgroup_root	*r;

	r = xcalloc(1, sizeof *r);
	r->base = base;
	if (plan->base != NULL) {
		r->path = xstrdup(plan->base);
		r->parent = xstrdup(plan->parent);
		r->leaf = plan->leaf != NULL ? xstrdup(plan->leaf) : NULL;
	}
	r->why = xstrdup(plan->why);
	return (r);
}

/*
 * Set the base up: move the daemon into its leaf (if delegated), enable
 * the controllers, make the base, and remove what a killed predecessor
 * left there. Call once the daemon owns its socket. On failure, cgroups
 * are off (the why says so) and -1 is returned with *cause set.
 */
int
cgroup_root_start(struct cgroup_root *r, char **cause)
{
	char	 pid[32];
	int	 n;

	if (r->path == NULL)
		return (0);
	if (r->leaf != NULL) {
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		if ((mkdir(r->leaf, 0755) == -1 && errno != EEXIST) ||
		    cgroup_write(r->leaf, "cgroup.procs", pid) == -1) {
			xasprintf(cause, "cannot move the daemon into %s: %s",
			    r->leaf, strerror(errno));
			goto fail;
		}
	}
	cgroup_enable(r->parent);
	if (mkdir(r->path, 0755) == -1 && errno != EEXIST) {
		xasprintf(cause, "cannot create %s: %s", r->path,
		    strerror(errno));
		goto fail;
	}
	if ((n = cgroup_clean(r->path)) == -1) {
		xasprintf(cause, "cannot read %s: %s", r->path,
		    strerror(errno));
		goto fail;
	}
	if (n > 0)
		log_info("removed %d session cgroups a previous instance "
		    "left in %s", n, r->path);
	cgroup_enable(r->path);
	return (0);

fail:
	free(r->why);
	xasprintf(&r->why, "%s", *cause);
	free(r->path);
	r->path = NULL;
	return (-1);
}

/* Free the containment; the base is removed if no session is left in it. */
void
cgroup_root_free(struct cgroup_root *r)
{
	if (r == NULL)
		return;
	if (r->path != NULL && rmdir(r->path) == -1 && errno != ENOENT &&
	    errno != EBUSY)
		log_warn("removing %s", r->path);
	free(r->path);
	free(r->parent);
	free(r->leaf);
	free(r->why);
	free(r);
}

/* The base directory of the session cgroups, or NULL without cgroups. */
const char *
cgroup_root_path(struct cgroup_root *r)
{
	return (r->path);
}

/* What containment is in use, or why there are no cgroups, in words. */
const char *
cgroup_root_why(struct cgroup_root *r)
{
	return (r->why);
}

/* Kill every session cgroup now, without waiting (the exit at once). */
void
cgroup_root_kill_all(struct cgroup_root *r)
{
	DIR		*d;
	struct dirent	*de;
	char		*sub;

	if (r->path == NULL || (d = opendir(r->path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || !cgroup_is_session(de->d_name))
			continue;
		sub = cgroup_join(r->path, de->d_name);
		cgroup_kill_path(sub);
		free(sub);
	}
	closedir(d);
}

/* Warn, for each limit server sets, that it was not applied and why. */
void
cgroup_limits_unapplied(const struct cgroup_limits *lim, const char *server,
    const char *why)
{
	if (lim == NULL)
		return;
	if (lim->memory_max != 0)
		log_warnx("server %s: memory_max not applied: %s", server, why);
	if (lim->pids_max != 0)
		log_warnx("server %s: pids_max not applied: %s", server, why);
	if (lim->cpu_weight != 0)
		log_warnx("server %s: cpu_weight not applied: %s", server, why);
}

/* Write one limit (key, for the log) to its controller's file. */
static void
cgroup_apply(struct cgroup *cg, const char *key, const char *file,
    const char *value, const char *server)
{
	char	 have[1024], controller[16], *why;

	if (cgroup_write(cg->path, file, value) == 0)
		return;
	if (errno == ENOENT) {
		snprintf(controller, sizeof controller, "%.*s",
		    (int)strcspn(file, "."), file);
		if (cgroup_read(cg->root->path, "cgroup.controllers", have,
		    sizeof have) >= 0 && cgroup_has_word(have, controller))
			xasprintf(&why, "the %s controller is not enabled "
			    "in %s", controller, cg->root->path);
		else
			xasprintf(&why, "the host offers no %s controller to "
			    "%s (not in its cgroup.controllers)", controller,
			    cg->root->path);
	} else
		xasprintf(&why, "writing %s to %s/%s: %s", value, cg->path,
		    file, strerror(errno));
	log_warnx("server %s: %s not applied: %s", server, key, why);
	free(why);
}

/*
 * Make the cgroup for session id with server's limits (a limit the host
 * cannot apply is a warning). NULL with *cause if it cannot be made; the
 * root must have a base.
 */
struct cgroup *
cgroup_create(struct cgroup_root *r, const char *id,
    const struct cgroup_limits *lim, const char *server, char **cause)
{
	struct cgroup	*cg;
	char		*name, *procs, value[32];

	cg = xcalloc(1, sizeof *cg);
	cg->root = r;
	cg->join_fd = -1;
	xasprintf(&name, CGROUP_SESSION_PREFIX "%s", id);
	cg->path = cgroup_join(r->path, name);
	free(name);
	/* A session's cgroup is new: one that exists is someone else's. */
	if (mkdir(cg->path, 0755) == -1) {
		xasprintf(cause, "cannot create cgroup %s: %s", cg->path,
		    strerror(errno));
		goto fail;
	}
	/* The child may not nest cgroups of its own, which would keep
	   this one from being removed. */
	if (cgroup_write(cg->path, "cgroup.max.descendants", "0") == -1)
		log_warn("cgroup %s: cannot set cgroup.max.descendants",
		    cg->path);
	procs = cgroup_join(cg->path, "cgroup.procs");
	cg->join_fd = open(procs, O_WRONLY | O_CLOEXEC);
	free(procs);
	if (cg->join_fd == -1) {
		xasprintf(cause, "cannot open %s/cgroup.procs: %s", cg->path,
		    strerror(errno));
		rmdir(cg->path);
		goto fail;
	}
	if (lim != NULL && lim->memory_max != 0) {
		snprintf(value, sizeof value, "%lld", lim->memory_max);
		cgroup_apply(cg, "memory_max", "memory.max", value, server);
	}
	if (lim != NULL && lim->pids_max != 0) {
		snprintf(value, sizeof value, "%d", lim->pids_max);
		cgroup_apply(cg, "pids_max", "pids.max", value, server);
	}
	if (lim != NULL && lim->cpu_weight != 0) {
		snprintf(value, sizeof value, "%d", lim->cpu_weight);
		cgroup_apply(cg, "cpu_weight", "cpu.weight", value, server);
	}
	cg->timer = evtimer_new(r->base, cgroup_timer_cb, cg);
	return (cg);

fail:
	free(cg->path);
	free(cg);
	return (NULL);
}

/*
 * An open cgroup.procs of the session's cgroup: the child writes "0" to
 * it between fork and exec, so it runs nothing outside the cgroup.
 */
int
cgroup_join_fd(struct cgroup *cg)
{
	return (cg->join_fd);
}

/* The child was forked: close the daemon's cgroup.procs. */
void
cgroup_join_done(struct cgroup *cg)
{
	if (cg->join_fd != -1)
		close(cg->join_fd);
	cg->join_fd = -1;
}

/* Try to remove the killed cgroup; 0 once it is gone. */
static int
cgroup_try_remove(struct cgroup *cg)
{
	if (rmdir(cg->path) == 0 || errno == ENOENT)
		return (0);
	if (errno != EBUSY) {
		log_warn("removing cgroup %s", cg->path);
		return (0);
	}
	return (-1);
}

/*
 * Kill everything in the cgroup and remove it, retrying on a timer until
 * it is empty (bounded by CGROUP_REMOVE_TRIES); then cb(arg), perhaps at
 * once. cg may be freed from cb.
 */
void
cgroup_remove(struct cgroup *cg, cgroup_removed_cb cb, void *arg)
{
	struct timeval	tv = { 0, CGROUP_REMOVE_POLL_MS * 1000 };

	cgroup_join_done(cg);
	cg->cb = cb;
	cg->arg = arg;
	cgroup_kill_path(cg->path);
	if (cgroup_try_remove(cg) == 0) {
		cb(arg);
		return;
	}
	evtimer_add(cg->timer, &tv);
}

/* Retry removing a killed cgroup until it is empty, or give up. */
static void
cgroup_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct cgroup	*cg = arg;
	struct timeval	 tv = { 0, CGROUP_REMOVE_POLL_MS * 1000 };

	(void)fd;
	(void)events;
	if (cgroup_try_remove(cg) != 0) {
		if (++cg->tries < CGROUP_REMOVE_TRIES) {
			cgroup_kill_path(cg->path);
			evtimer_add(cg->timer, &tv);
			return;
		}
		log_warnx("cgroup %s still has processes after %d ms "
		    "(CGROUP_REMOVE_TRIES); left for the next start to remove",
		    cg->path, CGROUP_REMOVE_TRIES * CGROUP_REMOVE_POLL_MS);
	}
	cg->cb(cg->arg);
}

/* Free a session's cgroup object (not the directory: cgroup_remove). */
void
cgroup_free(struct cgroup *cg)
{
	if (cg == NULL)
		return;
	cgroup_join_done(cg);
	if (cg->timer != NULL)
		event_free(cg->timer);
	free(cg->path);
	free(cg);
}
