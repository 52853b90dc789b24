/*
 * Spawning, signalling and reaping MCP server processes.
 */
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/wait.h>

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

static struct child *child_add(struct child_list *, pid_t, const int [3],
		      child_exit_cb, void *);
static char	**child_build_env(char *const *);
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

/* The environment for a child: the base variables, then the config's. */
static char **
child_build_env(char *const *extra)
{
	char		**env;
	const char	 *value;
	size_t		  i, n = 0, nextra = 0, base;

	while (extra != NULL && extra[nextra] != NULL)
		nextra++;
	base = sizeof child_base_env / sizeof child_base_env[0];
	env = xcalloc(base + nextra + 1, sizeof *env);
	for (i = 0; i < base; i++) {
		value = getenv(child_base_env[i]);
		if (value == NULL && strcmp(child_base_env[i], "PATH") == 0)
			value = CHILD_DEFAULT_PATH;
		if (value != NULL)
			xasprintf(&env[n++], "%s=%s", child_base_env[i], value);
	}
	/* A configured variable replaces a base one of the same name. */
	for (i = 0; i < nextra; i++) {
		size_t	j, len = strcspn(extra[i], "=");

		for (j = 0; j < n; j++) {
			if (strncmp(env[j], extra[i], len) == 0 &&
			    env[j][len] == '=')
				break;
		}
		if (j < n)
			free(env[j]);
		else
			n++;
		env[j] = xstrdup(extra[i]);
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
	extern char	**environ;
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
	close_range(STDERR_FILENO + 1, ~0U, 0);

	if (spec->cwd != NULL && chdir(spec->cwd) == -1) {
		dprintf(STDERR_FILENO, "mcp-brokerd: cannot change to "
		    "directory %s: %s\n", spec->cwd, strerror(errno));
		_exit(127);
	}
	environ = env;
	execvp(spec->argv[0], spec->argv);
	dprintf(STDERR_FILENO, "mcp-brokerd: cannot execute %s: %s\n",
	    spec->argv[0], strerror(errno));
	_exit(127);
}

/*
 * Start a child. Its exit is reported to cb(child, wait status, arg) from
 * child_reap(). On failure (pipes, fork) returns NULL with *cause set.
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

	env = child_build_env(spec->env);
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
