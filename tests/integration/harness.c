/*
 * Integration test harness.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "jsonrpc.h"
#include "xmalloc.h"

/* How long the daemon may take to listen, and to exit on SIGTERM. */
#define HARNESS_START_MS	20000
#define HARNESS_STOP_MS		15000

static long	harness_now_ms(void);
static void	harness_rmtree(const char *);

static long
harness_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000L + ts.tv_nsec / 1000000L);
}

/* Sleep for ms milliseconds. */
void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A binary under the build directory ($MCPB_BUILD, default build). */
const char *
harness_build_path(const char *name)
{
	static char	 path[4][PATH_MAX];
	static int	 next;
	const char	*b;
	char		*p = path[next++ % 4];

	if ((b = getenv("MCPB_BUILD")) == NULL)
		b = "build";
	snprintf(p, PATH_MAX, "%s/%s", b, name);
	if (p[0] != '/') {
		char	cwd[PATH_MAX], tmp[PATH_MAX];

		if (getcwd(cwd, sizeof cwd) != NULL) {
			if (snprintf(tmp, sizeof tmp, "%s/%s", cwd, p) <
			    (int)sizeof tmp)
				memcpy(p, tmp, strlen(tmp) + 1);
		}
	}
	return (p);
}

/* A file under the source tree ($MCPB_TOP, default the cwd). */
const char *
harness_top_path(const char *name)
{
	static char	 path[4][PATH_MAX];
	static int	 next;
	const char	*t;
	char		*p = path[next++ % 4], cwd[PATH_MAX];

	if ((t = getenv("MCPB_TOP")) == NULL)
		t = getcwd(cwd, sizeof cwd) != NULL ? cwd : ".";
	if (snprintf(p, PATH_MAX, "%s/%s", t, name) >= PATH_MAX)
		ck_abort_msg("path too long: %s/%s", t, name);
	return (p);
}

/* The fake MCP server fixture. */
const char *
harness_fake_mcp(void)
{
	return (harness_build_path("tests/fake-mcp"));
}

/*
 * Start the daemon with a config made of broker (the members of the
 * "broker" object, without braces; may be "") and servers (the members
 * of "mcpServers", without braces).
 */
struct daemon *
daemon_start(const char *broker, const char *servers)
{
	char	*text;

	xasprintf(&text, "{\"broker\":{\"socket\":\"@SOCK@\"%s%s},"
	    "\"mcpServers\":{%s}}", *broker != '\0' ? "," : "", broker,
	    servers);
	{
		struct daemon	*d = daemon_start_config(text);

		free(text);
		return (d);
	}
}

/*
 * Start the daemon with a whole config text; "@SOCK@" in it becomes the
 * socket path and "@DIR@" the temporary directory. Fails the test if the
 * daemon does not listen in time.
 */
struct daemon *
daemon_start_config(const char *text)
{
	return (daemon_start_limited(text, NULL));
}

/*
 * Start the daemon like daemon_start_config(), under limits: a file
 * descriptor or process limit, or another user (the temporary directory
 * is then handed to that user). NULL: no limits.
 */
struct daemon *
daemon_start_limited(const char *text, const struct daemon_limits *lim)
{
	struct daemon	*d;
	struct client	*c;
	const char	*p;
	FILE		*f;
	char		*cause;
	long		 deadline;
	int		 fd;

	d = xcalloc(1, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "/tmp/mcpb-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->dir));
	snprintf(d->sock, sizeof d->sock, "%s/broker.sock", d->dir);
	snprintf(d->config, sizeof d->config, "%s/broker.json", d->dir);
	snprintf(d->log, sizeof d->log, "%s/broker.log", d->dir);

	ck_assert_ptr_nonnull(f = fopen(d->config, "w"));
	for (p = text; *p != '\0'; p++) {
		if (strncmp(p, "@SOCK@", 6) == 0) {
			fputs(d->sock, f);
			p += 5;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			fputs(d->dir, f);
			p += 4;
		} else
			fputc(*p, f);
	}
	fclose(f);
	if (lim != NULL && lim->uid != 0) {
		ck_assert_int_eq(chown(d->dir, lim->uid, lim->uid), 0);
		ck_assert_int_eq(chown(d->config, lim->uid, lim->uid), 0);
	}

	d->pid = fork();
	ck_assert_int_ne(d->pid, -1);
	if (d->pid == 0) {
		fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (lim != NULL && lim->nofile != 0) {
			struct rlimit	rl = { lim->nofile, lim->nofile };

			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				_exit(126);
		}
		if (lim != NULL && lim->uid != 0) {
			if (fchown(fd, lim->uid, lim->uid) == -1 ||
			    setgroups(0, NULL) == -1 ||
			    setgid(lim->uid) == -1 || setuid(lim->uid) == -1)
				_exit(126);
		}
		if (lim != NULL && lim->nproc != 0) {
			struct rlimit	rl = { lim->nproc, lim->nproc };

			/* LeakSanitizer needs a thread of its own at exit,
			   which this limit forbids (SANITIZE=1 builds). */
			setenv("ASAN_OPTIONS", "detect_leaks=0", 1);

			if (setrlimit(RLIMIT_NPROC, &rl) == -1)
				_exit(126);
		}
		/* make check-valgrind: the daemon under memcheck, whose
		   errors and leaks make it exit 99 instead of 0. */
		if (getenv("MCPB_VALGRIND") != NULL)
			execlp("valgrind", "valgrind", "--quiet",
			    "--leak-check=full", "--error-exitcode=99",
			    "--errors-for-leak-kinds=definite,indirect",
			    "--show-leak-kinds=definite,indirect",
			    harness_build_path("mcp-brokerd"), "--config",
			    d->config, "--log-level", "debug", (char *)NULL);
		else
			execl(harness_build_path("mcp-brokerd"), "mcp-brokerd",
			    "--config", d->config, "--log-level", "debug",
			    (char *)NULL);
		_exit(127);
	}

	deadline = harness_now_ms() + HARNESS_START_MS;
	for (;;) {
		if ((c = client_connect(d->sock, &cause)) != NULL) {
			client_close(c);
			return (d);
		}
		free(cause);
		if (!daemon_alive(d) || harness_now_ms() > deadline) {
			daemon_dump_log(d);
			ck_abort_msg("mcp-brokerd did not start listening");
		}
		sleep_ms(10);
	}
}

/* Whether the daemon process is still running. */
int
daemon_alive(struct daemon *d)
{
	int	status;

	return (waitpid(d->pid, &status, WNOHANG) == 0);
}

/* Copy the daemon's log to stderr (for a failing test). */
void
daemon_dump_log(struct daemon *d)
{
	char	 buf[4096];
	FILE	*f;
	size_t	 n;

	if ((f = fopen(d->log, "r")) == NULL)
		return;
	fprintf(stderr, "---- mcp-brokerd log (%s) ----\n", d->log);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of log ----\n");
	fclose(f);
}

/* Remove a directory tree (the test's temporary directory). */
static void
harness_rmtree(const char *path)
{
	struct dirent	*de;
	DIR		*dir;
	char		 child[PATH_MAX];
	struct stat	 st;

	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(child, sizeof child, "%s/%s", path, de->d_name);
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			harness_rmtree(child);
		else
			unlink(child);
	}
	closedir(dir);
	rmdir(path);
}

/*
 * Stop the daemon with SIGTERM and return its exit status (as from
 * waitpid), after checking it left no child behind. Frees d.
 */
int
daemon_stop(struct daemon *d)
{
	long	deadline;
	int	status = -1;
	pid_t	r;

	kill(d->pid, SIGTERM);
	deadline = harness_now_ms() + HARNESS_STOP_MS;
	while ((r = waitpid(d->pid, &status, WNOHANG)) == 0) {
		if (harness_now_ms() > deadline) {
			daemon_dump_log(d);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			ck_abort_msg("mcp-brokerd did not exit on SIGTERM");
		}
		sleep_ms(10);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		daemon_dump_log(d);
	harness_rmtree(d->dir);
	free(d);
	return (status);
}

/* Kill the daemon outright (SIGKILL) and clean up. Frees d. */
void
daemon_kill(struct daemon *d)
{
	int	status;

	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	harness_rmtree(d->dir);
	free(d);
}

/* A new connection to the daemon (fails the test if it cannot). */
struct client *
daemon_connect(struct daemon *d)
{
	struct client	*c;
	char		*cause = NULL;

	c = client_connect(d->sock, &cause);
	ck_assert_msg(c != NULL, "connect: %s", cause);
	return (c);
}

/*
 * Call method with params given as JSON text (NULL: none); returns the
 * whole response, which the caller frees. Fails the test on no answer.
 */
cJSON *
rpc(struct client *c, const char *method, const char *params)
{
	cJSON	*p = NULL, *r;
	char	*cause = NULL;

	if (params != NULL)
		ck_assert_msg((p = cJSON_Parse(params)) != NULL,
		    "bad params in test: %s", params);
	r = client_call(c, method, p, HARNESS_TIMEOUT_MS, &cause);
	ck_assert_msg(r != NULL, "%s: %s", method, cause);
	return (r);
}

/* tools/call tool on (server, thread) with args as JSON text (or NULL). */
cJSON *
tool_call(struct client *c, const char *server, const char *thread,
    const char *tool, const char *args)
{
	char	*params;
	cJSON	*r;

	xasprintf(&params, "{\"server\":\"%s\",\"thread\":\"%s\","
	    "\"name\":\"%s\",\"arguments\":%s}", server, thread, tool,
	    args != NULL ? args : "{}");
	r = rpc(c, "tools/call", params);
	free(params);
	return (r);
}

/* The result member of a response (fails the test on an error). */
cJSON *
result_of(cJSON *response)
{
	cJSON	*r;
	char	*text;

	r = cJSON_GetObjectItemCaseSensitive(response, "result");
	if (r == NULL) {
		text = cJSON_PrintUnformatted(response);
		ck_abort_msg("expected a result, got %s", text);
	}
	return (r);
}

/* The error code of a response, or 0 if it is a result. */
int
error_code(cJSON *response)
{
	cJSON	*e, *code;

	e = cJSON_GetObjectItemCaseSensitive(response, "error");
	if (e == NULL)
		return (0);
	code = cJSON_GetObjectItemCaseSensitive(e, "code");
	return (cJSON_IsNumber(code) ? code->valueint : 1);
}

/* The error data of a response, or NULL. */
cJSON *
error_data(cJSON *response)
{
	return (cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(response, "error"), "data"));
}

/* A number at a dotted path ("structuredContent.count"); fails if absent. */
double
json_number(cJSON *root, const char *path)
{
	char	*copy, *part, *save;
	cJSON	*item = root;

	copy = xstrdup(path);
	for (part = strtok_r(copy, ".", &save); part != NULL;
	    part = strtok_r(NULL, ".", &save))
		item = cJSON_GetObjectItemCaseSensitive(item, part);
	ck_assert_msg(cJSON_IsNumber(item), "no number at %s", path);
	free(copy);
	return (item->valuedouble);
}

/* A string at a dotted path; fails if absent. */
const char *
json_string(cJSON *root, const char *path)
{
	char	*copy, *part, *save;
	cJSON	*item = root;

	copy = xstrdup(path);
	for (part = strtok_r(copy, ".", &save); part != NULL;
	    part = strtok_r(NULL, ".", &save))
		item = cJSON_GetObjectItemCaseSensitive(item, part);
	ck_assert_msg(cJSON_IsString(item), "no string at %s", path);
	free(copy);
	return (item->valuestring);
}

/* Whether pid exists and is not a zombie. */
int
pid_alive(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0')
		return (0);
	return (p[2] != 'Z' && p[2] != 'X');
}

/* Wait up to ms for pid to be gone (or a zombie); returns 1 if gone. */
int
wait_pid_gone(pid_t pid, int ms)
{
	long	deadline = harness_now_ms() + ms;

	while (pid_alive(pid)) {
		if (harness_now_ms() > deadline)
			return (0);
		sleep_ms(10);
	}
	return (1);
}

/*
 * The processes whose parent is ppid: up to max pids into pids, and the
 * number of zombies among them into *zombies. Returns the count.
 */
int
children_of(pid_t ppid, pid_t *pids, int max, int *zombies)
{
	struct dirent	*de;
	DIR		*proc;
	char		 path[64], buf[512], *p, state;
	long		 parent;
	FILE		*f;
	size_t		 n;
	int		 count = 0;

	*zombies = 0;
	if ((proc = opendir("/proc")) == NULL)
		return (0);
	while ((de = readdir(proc)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (snprintf(path, sizeof path, "/proc/%s/stat",
		    de->d_name) >= (int)sizeof path ||
		    (f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %c %ld", &state, &parent) != 2)
			continue;
		if (parent != (long)ppid)
			continue;
		if (state == 'Z')
			(*zombies)++;
		if (count < max && pids != NULL)
			pids[count] = (pid_t)atol(de->d_name);
		count++;
	}
	closedir(proc);
	return (count);
}

/* Wait up to ms until ppid has no children at all; returns 1 if so. */
int
wait_no_children(pid_t ppid, int ms)
{
	long	deadline = harness_now_ms() + ms;
	int	zombies;

	while (children_of(ppid, NULL, 0, &zombies) > 0) {
		if (harness_now_ms() > deadline)
			return (0);
		sleep_ms(10);
	}
	return (1);
}
