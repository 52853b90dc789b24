/*
 * Spawning, signalling and reaping MCP server processes.
 */
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "xmalloc.h"

/* Variables a child inherits from the daemon; the config's env goes over. */
static const char *child_base_env[] = { "PATH", "HOME", "LANG", "TZ" };
#define CHILD_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

struct child {
	pid_t			 pid;
	int			 fds[3];	/* our ends: stdin, stdout, stderr */
	int			 exited;
	child_exit_cb		 cb;
	void			*arg;
	struct child_list	*list;
	LIST_ENTRY(child)	 entry;
};

struct child_list {
	LIST_HEAD(, child)	 head;
	size_t			 count;
};

/* One process in /proc, for child_kill_tree. */
struct child_proc {
	pid_t	pid;
	pid_t	ppid;
	char	state;
	int	tagged;		/* -1 not read yet, 0 no, 1 yes */
};

static struct child *child_add(struct child_list *, pid_t, const int [3],
		      child_exit_cb, void *);
static void	  child_env_set(char **, size_t *, char *);
static char	**child_build_env(char *const *, const char *);
static size_t	  child_scan(struct child_proc **);
static int	  child_proc_cmp(const void *, const void *);
static struct child_proc *child_proc_find(struct child_proc *, size_t,
		      pid_t);
static int	  child_proc_tagged(struct child_proc *, const char *);
static void	  child_exec(const struct child_spec *, int [3], char **,
		      pid_t) __attribute__((noreturn));

/* A new, empty set of children. */
struct child_list *
child_list_new(void)
{
	struct child_list	*cl;

	cl = xcalloc(1, sizeof *cl);
	LIST_INIT(&cl->head);
	return (cl);
}

/* Free the list; its children must have been freed already. */
void
child_list_free(struct child_list *cl)
{
	free(cl);
}

/* How many children are spawned or adopted and not yet freed. */
size_t
child_list_count(struct child_list *cl)
{
	return (cl->count);
}

/* Put "NAME=value" (taken) in env, replacing a variable of that name. */
static void
child_env_set(char **env, size_t *n, char *entry)
{
	size_t	j, len = strcspn(entry, "=");

	for (j = 0; j < *n; j++) {
		if (strncmp(env[j], entry, len) == 0 && env[j][len] == '=')
			break;
	}
	if (j < *n)
		free(env[j]);
	else
		(*n)++;
	env[j] = entry;
}

/*
 * The environment for a child: the base variables, then the config's,
 * then CHILD_TAG_ENV=tag (if tag is not NULL).
 */
static char **
child_build_env(char *const *extra, const char *tag)
{
	char		**env, *entry;
	const char	 *value;
	size_t		  i, n = 0, nextra = 0, base;

	while (extra != NULL && extra[nextra] != NULL)
		nextra++;
	base = sizeof child_base_env / sizeof child_base_env[0];
	env = xcalloc(base + nextra + 2, sizeof *env);
	for (i = 0; i < base; i++) {
		value = getenv(child_base_env[i]);
		if (value == NULL && strcmp(child_base_env[i], "PATH") == 0)
			value = CHILD_DEFAULT_PATH;
		if (value != NULL)
			xasprintf(&env[n++], "%s=%s", child_base_env[i], value);
	}
	/* A configured variable replaces a base one of the same name. */
	for (i = 0; i < nextra; i++)
		child_env_set(env, &n, xstrdup(extra[i]));
	if (tag != NULL) {
		xasprintf(&entry, "%s=%s", CHILD_TAG_ENV, tag);
		child_env_set(env, &n, entry);
	}
	env[n] = NULL;
	return (env);
}

/*
 * In the forked child: own session and process group, die with the
 * daemon, stdio on the pipes, nothing else open, default signals, exec.
 * Failures are written to stderr (the broker captures it) and exit 127.
 */
static void
child_exec(const struct child_spec *spec, int fds[3], char **env,
    pid_t parent)
{
	sigset_t	  set;
	int		  sig;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	setsid();
	/* Die with the daemon, even if it died just before this. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);

	if (dup2(fds[0], STDIN_FILENO) == -1 ||
	    dup2(fds[1], STDOUT_FILENO) == -1 ||
	    dup2(fds[2], STDERR_FILENO) == -1)
		_exit(127);
	/* Into the session's cgroup before anything runs; else do not run. */
	if (spec->join_fd > STDERR_FILENO &&
	    write(spec->join_fd, "0", 1) != 1) {
		dprintf(STDERR_FILENO, "mcp-brokerd: cannot move into the "
		    "session's cgroup: %s\n", strerror(errno));
		_exit(127);
	}
	close_range(STDERR_FILENO + 1, ~0U, 0);

	if (spec->cwd != NULL && chdir(spec->cwd) == -1) {
		dprintf(STDERR_FILENO, "mcp-brokerd: cannot change to "
		    "directory %s: %s\n", spec->cwd, strerror(errno));
		_exit(127);
	}
	execvpe(spec->argv[0], spec->argv, env);
	dprintf(STDERR_FILENO, "mcp-brokerd: cannot execute %s: %s\n",
	    spec->argv[0], strerror(errno));
	_exit(127);
}

/*
 * Start a child. Its exit is reported to cb(child, wait status, arg) from
 * child_reap(). On failure (pipes, fork) returns NULL with *cause set.
 * A child that cannot join spec's cgroup writes why to its stderr and
 * exits 127 before exec, like one whose cwd or command is missing.
 */
struct child *
child_spawn(struct child_list *cl, const struct child_spec *spec,
    child_exit_cb cb, void *arg, char **cause)
{
	sigset_t	 all, old;
	char		**env;
	int		 p[3][2], theirs[3], ours[3], i, saved;
	pid_t		 pid, parent = getpid();

	for (i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) == -1) {
			saved = errno;
			while (--i >= 0) {
				close(p[i][0]);
				close(p[i][1]);
			}
			xasprintf(cause, "cannot create pipes: %s",
			    strerror(saved));
			return (NULL);
		}
	}
	/* stdin: child reads p[0][0]; stdout and stderr: child writes [1]. */
	theirs[0] = p[0][0];
	theirs[1] = p[1][1];
	theirs[2] = p[2][1];

	env = child_build_env(spec->env, spec->tag);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(spec, theirs, env, parent);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);

	for (i = 0; i < 3; i++)
		close(theirs[i]);
	if (pid == -1) {
		close(p[0][1]);
		close(p[1][0]);
		close(p[2][0]);
		xasprintf(cause, "cannot fork: %s", strerror(saved));
		return (NULL);
	}

	ours[0] = p[0][1];
	ours[1] = p[1][0];
	ours[2] = p[2][0];
	return (child_add(cl, pid, ours, cb, arg));
}

/*
 * Take over a running process pid (its group leader) whose stdin, stdout
 * and stderr are fds[0..2] (our ends, -1 for none); its exit is reported
 * to cb like a spawned child's. It must be a child of this process (one
 * that survived an exec of the daemon, or one reparented to it as
 * subreaper), or its exit is never seen. The fds become close-on-exec,
 * like a spawned child's.
 */
struct child *
child_adopt(struct child_list *cl, pid_t pid, const int fds[3],
    child_exit_cb cb, void *arg)
{
	siginfo_t	info;
	int		i, flags;

	for (i = 0; i < 3; i++) {
		if (fds[i] == -1)
			continue;
		if ((flags = fcntl(fds[i], F_GETFD)) == -1 ||
		    fcntl(fds[i], F_SETFD, flags | FD_CLOEXEC) == -1)
			log_warn("adopting process %ld: fd %d", (long)pid,
			    fds[i]);
	}
	/* Look without reaping: an exit already there is reaped later. */
	memset(&info, 0, sizeof info);
	if (waitid(P_PID, (id_t)pid, &info,
	    WEXITED | WNOHANG | WNOWAIT) == -1)
		log_warn("adopting process %ld: its exit will not be seen",
		    (long)pid);
	return (child_add(cl, pid, fds, cb, arg));
}

/* Put a child on the list, owning our ends of its stdio. */
static struct child *
child_add(struct child_list *cl, pid_t pid, const int fds[3],
    child_exit_cb cb, void *arg)
{
	struct child	*c;
	int		 i;

	c = xcalloc(1, sizeof *c);
	c->pid = pid;
	for (i = 0; i < 3; i++)
		c->fds[i] = fds[i];
	c->cb = cb;
	c->arg = arg;
	c->list = cl;
	LIST_INSERT_HEAD(&cl->head, c, entry);
	cl->count++;
	return (c);
}

/* Forget a child; it must have exited. Closes any fd not taken. */
void
child_free(struct child *c)
{
	int	i;

	if (c == NULL)
		return;
	if (!c->exited)
		fatalx("child %ld freed before it was reaped", (long)c->pid);
	for (i = 0; i < 3; i++) {
		if (c->fds[i] != -1)
			close(c->fds[i]);
	}
	LIST_REMOVE(c, entry);
	c->list->count--;
	free(c);
}

/* The child's pid, which is also its process group id. */
pid_t
child_pid(struct child *c)
{
	return (c->pid);
}

/* Hand over our end of the child's stdin; the caller closes it. */
int
child_take_stdin(struct child *c)
{
	int	fd = c->fds[0];

	c->fds[0] = -1;
	return (fd);
}

/* Hand over our end of the child's stdout; the caller closes it. */
int
child_take_stdout(struct child *c)
{
	int	fd = c->fds[1];

	c->fds[1] = -1;
	return (fd);
}

/* Hand over our end of the child's stderr; the caller closes it. */
int
child_take_stderr(struct child *c)
{
	int	fd = c->fds[2];

	c->fds[2] = -1;
	return (fd);
}

/*
 * Signal the child's whole process group, grandchildren included. The
 * group outlives its leader while any member lives, and its id is not
 * reused until then, so this is safe after the leader was reaped.
 */
int
child_kill_group(struct child *c, int sig)
{
	if (killpg(c->pid, sig) == -1 && errno != ESRCH) {
		log_warn("killpg %ld", (long)c->pid);
		return (-1);
	}
	return (0);
}

/* Every process in /proc into *out (the caller's), sorted by pid. */
static size_t
child_scan(struct child_proc **out)
{
	DIR			*d;
	struct dirent		*de;
	struct child_proc	*list = NULL;
	size_t			 n = 0, size = 0;
	char			 path[300], buf[512], *close_paren;
	int			 fd;
	ssize_t			 len;
	long			 ppid;
	char			 state;

	*out = NULL;
	if ((d = opendir("/proc")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) S ppid ...": comm may hold anything. */
		if ((close_paren = strrchr(buf, ')')) == NULL ||
		    sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2)
			continue;
		if (n == size) {
			size = size == 0 ? 256 : size * 2;
			list = xreallocarray(list, size, sizeof *list);
		}
		list[n].pid = (pid_t)strtol(de->d_name, NULL, 10);
		list[n].ppid = (pid_t)ppid;
		list[n].state = state;
		list[n].tagged = -1;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(list, n, sizeof *list, child_proc_cmp);
	*out = list;
	return (n);
}

/* Order processes by pid. */
static int
child_proc_cmp(const void *a, const void *b)
{
	const struct child_proc	*x = a, *y = b;

	return (x->pid < y->pid ? -1 : x->pid > y->pid);
}

/* The process pid in a scan, or NULL. */
static struct child_proc *
child_proc_find(struct child_proc *list, size_t n, pid_t pid)
{
	struct child_proc	key;

	key.pid = pid;
	return (bsearch(&key, list, n, sizeof *list, child_proc_cmp));
}

/* Whether a process's environment has CHILD_TAG_ENV=tag (read once). */
static int
child_proc_tagged(struct child_proc *cp, const char *tag)
{
	char	 path[64], *buf, *entry, *want;
	int	 fd;
	ssize_t	 len, got = 0;

	if (cp->tagged != -1)
		return (cp->tagged);
	cp->tagged = 0;
	snprintf(path, sizeof path, "/proc/%ld/environ", (long)cp->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	buf = xmalloc(CHILD_ENVIRON_MAX + 1);
	while (got < CHILD_ENVIRON_MAX &&
	    (len = read(fd, buf + got, CHILD_ENVIRON_MAX - got)) > 0)
		got += len;
	close(fd);
	buf[got] = '\0';
	xasprintf(&want, "%s=%s", CHILD_TAG_ENV, tag);
	for (entry = buf; entry < buf + got; entry += strlen(entry) + 1) {
		if (strcmp(entry, want) == 0) {
			cp->tagged = 1;
			break;
		}
	}
	free(want);
	free(buf);
	return (cp->tagged);
}

/*
 * Without cgroups: SIGKILL every descendant of the daemon that carries
 * CHILD_TAG_ENV=tag or descends from one that does (tag NULL: every
 * descendant). Orphans stay descendants because the daemon is a child
 * subreaper. Looks again for processes forked meanwhile, up to
 * CHILD_KILL_PASSES times. Returns how many processes were signalled.
 */
int
child_kill_tree(const char *tag)
{
	struct child_proc	*list, *cp, *up;
	pid_t			*done = NULL, self = getpid();
	size_t			 n, i, j, ndone = 0, depth;
	int			 pass, match, fresh;

	for (pass = 0; pass < CHILD_KILL_PASSES; pass++) {
		n = child_scan(&list);
		fresh = 0;
		for (i = 0; i < n; i++) {
			cp = &list[i];
			if (cp->pid == self || cp->state == 'Z')
				continue;
			/* Ours at all? Then is it, or an ancestor, tagged? */
			up = cp;
			for (depth = 0; up != NULL && up->pid != self &&
			    depth < n; depth++)
				up = child_proc_find(list, n, up->ppid);
			if (up == NULL || up->pid != self)
				continue;
			match = tag == NULL;
			for (up = cp; !match && up->pid != self;
			    up = child_proc_find(list, n, up->ppid))
				match = child_proc_tagged(up, tag);
			if (!match)
				continue;
			for (j = 0; j < ndone && done[j] != cp->pid; j++)
				;
			if (j < ndone)
				continue;
			if (kill(cp->pid, SIGKILL) == -1)
				continue;
			done = xreallocarray(done, ndone + 1, sizeof *done);
			done[ndone++] = cp->pid;
			fresh = 1;
		}
		free(list);
		if (!fresh)
			break;
	}
	free(done);
	return ((int)ndone);
}

/* Reap every exited child and tell each owner; call on SIGCHLD. */
void
child_reap(struct child_list *cl)
{
	struct child	*c;
	pid_t		 pid;
	int		 status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0)
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		LIST_FOREACH(c, &cl->head, entry) {
			if (c->pid == pid && !c->exited)
				break;
		}
		if (c == NULL) {
			log_debug("reaped orphaned process %ld", (long)pid);
			continue;
		}
		c->exited = 1;
		c->cb(c, status, c->arg);
	}
}

/* A wait status in words ("exited with status 3", "killed by SIGKILL"). */
char *
child_describe_status(int status)
{
	char	*s;

	if (WIFEXITED(status))
		xasprintf(&s, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		xasprintf(&s, "killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		xasprintf(&s, "ended with wait status %d", status);
	return (s);
}
