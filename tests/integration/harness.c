/*
 * Integration test harness.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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
/* How long wait_in_flight() waits for the daemon to get there. */
#define HARNESS_SETTLE_MS	3000

static void	harness_rmtree(const char *);
static void	harness_remove_cgroups(struct daemon *);
static void	harness_copy_file(const char *, const char *, const char *);
static void	harness_copy_bins(struct daemon *);
static void	harness_daemon_bin(const struct daemon *, const char *,
		    char *, size_t);
static void	harness_expand(FILE *, const char *, const struct daemon *);
static void	harness_daemon_run(struct daemon *,
		    const struct daemon_limits *);
static void	harness_replace_file(const char *, const char *,
		    const struct daemon *);
static int	harness_log_count_v(struct daemon *, const char *, va_list);
static cJSON	*harness_json_at(cJSON *, const char *);
static double	harness_session_number(struct client *, const char *,
		    const char *, const char *);

/* Milliseconds on the monotonic clock. */
long
now_ms(void)
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

/* A tcase in s with its fixture (both NULL: none) and timeout in seconds. */
TCase *
harness_add_tcase(Suite *s, const char *name, void (*setup)(void),
    void (*teardown)(void), int timeout_s)
{
	TCase	*tc = tcase_create(name);

	if (setup != NULL || teardown != NULL)
		tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout_s);
	suite_add_tcase(s, tc);
	return (tc);
}

/* Run every test of s; the exit status for main (0: all passed). */
int
harness_run_suite(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}

/*
 * A whole config made of broker (the members of the "broker" object,
 * without braces; may be "") and servers (the members of "mcpServers"),
 * its socket "@SOCK@". Caller frees.
 */
char *
config_text(const char *broker, const char *servers)
{
	char	*text;

	xasprintf(&text, "{\"broker\":{\"socket\":\"@SOCK@\"%s%s},"
	    "\"mcpServers\":{%s}}", *broker != '\0' ? "," : "", broker,
	    servers);
	return (text);
}

/* Copy the file at from to dir/name, mode 0755. */
static void
harness_copy_file(const char *from, const char *dir, const char *name)
{
	char	 to[PATH_MAX], buf[65536];
	ssize_t	 n;
	int	 in, out;

	snprintf(to, sizeof to, "%s/%s", dir, name);
	ck_assert_msg((in = open(from, O_RDONLY | O_CLOEXEC)) != -1, "%s: %s",
	    from, strerror(errno));
	ck_assert_msg((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0700)) != -1, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_msg(n == 0, "%s: %s", from, strerror(errno));
	ck_assert_int_eq(fchmod(out, 0755), 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

/*
 * Copy what a daemon run as another user executes (mcp-brokerd and the
 * fake server) into a new directory every user can enter: the build
 * directory may sit under one that user cannot, such as a 0700 /root.
 */
static void
harness_copy_bins(struct daemon *d)
{
	snprintf(d->bin, sizeof d->bin, "/tmp/mcpb-bin.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->bin));
	ck_assert_int_eq(chmod(d->bin, 0755), 0);
	harness_copy_file(harness_build_path("mcp-brokerd"), d->bin,
	    "mcp-brokerd");
	harness_copy_file(harness_fake_mcp(), d->bin, "fake-mcp");
}

/* Into path, the binary called name (mcp-brokerd, fake-mcp) d runs. */
static void
harness_daemon_bin(const struct daemon *d, const char *name, char *path,
    size_t size)
{
	int	n;

	if (d->bin[0] != '\0')
		n = snprintf(path, size, "%s/%s", d->bin, name);
	else if (strcmp(name, "fake-mcp") == 0)
		n = snprintf(path, size, "%s", harness_fake_mcp());
	else
		n = snprintf(path, size, "%s", harness_build_path(name));
	if (n < 0 || (size_t)n >= size)
		ck_abort_msg("path too long for %s", name);
}

/*
 * Write text to f with "@SOCK@" as d's socket path, "@DIR@" as its
 * temporary directory and "@FAKE@" as the path of the fake server d runs.
 */
static void
harness_expand(FILE *f, const char *text, const struct daemon *d)
{
	const char	*p;
	char		 fake[PATH_MAX];

	harness_daemon_bin(d, "fake-mcp", fake, sizeof fake);
	for (p = text; *p != '\0'; p++) {
		if (strncmp(p, "@SOCK@", 6) == 0) {
			fputs(d->sock, f);
			p += 5;
		} else if (strncmp(p, "@DIR@", 5) == 0) {
			fputs(d->dir, f);
			p += 4;
		} else if (strncmp(p, "@FAKE@", 6) == 0) {
			fputs(fake, f);
			p += 5;
		} else
			fputc(*p, f);
	}
}

/* Replace the file at path at once with text (expanded for d if not NULL). */
static void
harness_replace_file(const char *path, const char *text,
    const struct daemon *d)
{
	char	 tmp[PATH_MAX];
	FILE	*f;

	snprintf(tmp, sizeof tmp, "%s.new", path);
	ck_assert_ptr_nonnull(f = fopen(tmp, "w"));
	if (d != NULL)
		harness_expand(f, text, d);
	else
		ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/* Replace a file at once, so a reader never sees half of it. */
void
write_file(const char *path, const char *text)
{
	harness_replace_file(path, text, NULL);
}

/* Whether the file at path contains s (fails the test if it cannot open it). */
int
file_contains(const char *path, const char *s)
{
	FILE	*in, *mem;
	char	*text = NULL, buf[4096];
	size_t	 size = 0, n;
	int	 found;

	ck_assert_msg((in = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_ptr_nonnull(mem = open_memstream(&text, &size));
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(in);
	fclose(mem);
	found = strstr(text, s) != NULL;
	free(text);
	return (found);
}

/* Start the daemon with the config_text() of broker and servers. */
struct daemon *
daemon_start(const char *broker, const char *servers)
{
	struct daemon	*d;
	char		*text;

	text = config_text(broker, servers);
	d = daemon_start_config(text);
	free(text);
	return (d);
}

/*
 * Start the daemon with a whole config text; "@SOCK@" in it becomes the
 * socket path, "@DIR@" the temporary directory and "@FAKE@" the fake
 * server's path. Fails the test if the daemon does not listen in time.
 */
struct daemon *
daemon_start_config(const char *text)
{
	return (daemon_start_limited(text, NULL));
}

/*
 * Start the daemon like daemon_start_config(), under limits: a file
 * descriptor or process limit, or another user (the temporary directory
 * is then handed to that user, and the daemon and the fake server run
 * from copies that user can reach). NULL: no limits.
 */
struct daemon *
daemon_start_limited(const char *text, const struct daemon_limits *lim)
{
	struct daemon	*d;
	FILE		*f;

	d = xcalloc(1, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "/tmp/mcpb-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->dir));
	snprintf(d->sock, sizeof d->sock, "%s/broker.sock", d->dir);
	snprintf(d->config, sizeof d->config, "%s/broker.json", d->dir);
	snprintf(d->log, sizeof d->log, "%s/broker.log", d->dir);
	if (lim != NULL && lim->uid != 0)
		harness_copy_bins(d);

	ck_assert_ptr_nonnull(f = fopen(d->config, "w"));
	harness_expand(f, text, d);
	fclose(f);
	if (lim != NULL && lim->uid != 0) {
		ck_assert_int_eq(chown(d->dir, lim->uid, lim->uid), 0);
		ck_assert_int_eq(chown(d->config, lim->uid, lim->uid), 0);
	}

	harness_daemon_run(d, lim);
	return (d);
}

/*
 * Start d again on its config (so on the same socket) after it was
 * killed, logging to restart.log; fails the test if it does not listen.
 */
void
daemon_restart(struct daemon *d)
{
	snprintf(d->log, sizeof d->log, "%s/restart.log", d->dir);
	harness_daemon_run(d, NULL);
}

/* Run d's daemon under lim (may be NULL) and wait until it listens. */
static void
harness_daemon_run(struct daemon *d, const struct daemon_limits *lim)
{
	struct client	*c;
	char		*cause, daemon_bin[PATH_MAX];
	long		 deadline;
	int		 fd;

	harness_daemon_bin(d, "mcp-brokerd", daemon_bin, sizeof daemon_bin);
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
			/* Not the test's cwd, which that user may not reach. */
			if (fchown(fd, lim->uid, lim->uid) == -1 ||
			    chdir("/") == -1 || setgroups(0, NULL) == -1 ||
			    setgid(lim->uid) == -1 || setuid(lim->uid) == -1) {
				fprintf(stderr, "cannot become uid %ld: %s\n",
				    (long)lim->uid, strerror(errno));
				_exit(126);
			}
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
			    "--show-leak-kinds=definite,indirect", daemon_bin,
			    "--config", d->config, "--log-level", "debug",
			    (char *)NULL);
		else
			execl(daemon_bin, "mcp-brokerd", "--config", d->config,
			    "--log-level", "debug", (char *)NULL);
		fprintf(stderr, "cannot execute %s: %s\n", daemon_bin,
		    strerror(errno));
		_exit(127);
	}

	deadline = now_ms() + HARNESS_START_MS;
	for (;;) {
		if ((c = client_connect(d->sock, &cause)) != NULL) {
			client_close(c);
			return;
		}
		free(cause);
		if (!daemon_alive(d) || now_ms() > deadline) {
			daemon_dump_log(d);
			if (d->bin[0] != '\0')
				harness_rmtree(d->bin);
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

/*
 * Replace the running daemon's config file at once with text, expanded
 * as at start (same socket), so a reload never reads half of it.
 */
void
daemon_write_config(struct daemon *d, const char *text)
{
	harness_replace_file(d->config, text, d);
}

/* Lines of d's log containing needle and each of ap (NULL-terminated). */
static int
harness_log_count_v(struct daemon *d, const char *needle, va_list ap)
{
	const char	*n;
	FILE		*f;
	char		*line = NULL;
	size_t		 size = 0;
	va_list		 aq;
	int		 count = 0;

	if ((f = fopen(d->log, "r")) == NULL)
		return (0);
	while (getline(&line, &size, f) != -1) {
		va_copy(aq, ap);
		for (n = needle; n != NULL && strstr(line, n) != NULL;
		    n = va_arg(aq, const char *))
			;
		va_end(aq);
		if (n == NULL)
			count++;
	}
	free(line);
	fclose(f);
	return (count);
}

/* How many lines of the daemon's log contain every needle (NULL-ended). */
int
log_count(struct daemon *d, const char *needle, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, needle);
	n = harness_log_count_v(d, needle, ap);
	va_end(ap);
	return (n);
}

/*
 * Wait up to ms for a line of the daemon's log containing every needle
 * (NULL-ended); returns 1 if one came.
 */
int
wait_log(struct daemon *d, int ms, const char *needle, ...)
{
	long	deadline = now_ms() + ms;
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, needle);
		n = harness_log_count_v(d, needle, ap);
		va_end(ap);
		if (n > 0)
			return (1);
		if (now_ms() > deadline)
			return (0);
		sleep_ms(20);
	}
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
	deadline = now_ms() + HARNESS_STOP_MS;
	while ((r = waitpid(d->pid, &status, WNOHANG)) == 0) {
		if (now_ms() > deadline) {
			daemon_dump_log(d);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			harness_remove_cgroups(d);
			ck_abort_msg("mcp-brokerd did not exit on SIGTERM");
		}
		sleep_ms(10);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		daemon_dump_log(d);
	harness_rmtree(d->dir);
	if (d->bin[0] != '\0')
		harness_rmtree(d->bin);
	free(d);
	return (status);
}

/* Stop the daemon like daemon_stop(); fails the test unless it exited 0. */
void
daemon_stop_ok(struct daemon *d)
{
	pid_t	pid = d->pid;
	int	status;

	status = daemon_stop(d);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "mcp-brokerd %ld did not exit 0 (status %d)", (long)pid, status);
}

/*
 * After a SIGKILL of the daemon: kill and remove the session cgroups it
 * left (their base is in its "containment: cgroup PATH" log line).
 */
static void
harness_remove_cgroups(struct daemon *d)
{
	const char	*needle = "containment: cgroup ";
	char		 base[PATH_MAX] = "", path[PATH_MAX + 300], *line = NULL;
	char		*p;
	size_t		 size = 0;
	struct dirent	*de;
	DIR		*dp;
	FILE		*f;
	int		 i;

	if ((f = fopen(d->log, "r")) == NULL)
		return;
	while (getline(&line, &size, f) != -1) {
		if ((p = strstr(line, needle)) != NULL)
			snprintf(base, sizeof base, "%.*s",
			    (int)strcspn(p + strlen(needle), " \n"),
			    p + strlen(needle));
	}
	free(line);
	fclose(f);
	if (base[0] == '\0' || (dp = opendir(base)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, "session-", 8) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s/cgroup.kill", base,
		    de->d_name);
		if ((f = fopen(path, "w")) != NULL) {
			fputs("1", f);
			fclose(f);
		}
		snprintf(path, sizeof path, "%s/%s", base, de->d_name);
		for (i = 0; i < 100 && rmdir(path) == -1 && errno == EBUSY;
		    i++)
			sleep_ms(10);
	}
	closedir(dp);
	rmdir(base);
}

/* Kill the daemon outright (SIGKILL) and clean up. Frees d. */
void
daemon_kill(struct daemon *d)
{
	int	status;

	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	harness_remove_cgroups(d);
	harness_rmtree(d->dir);
	if (d->bin[0] != '\0')
		harness_rmtree(d->bin);
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

/*
 * Send line as it is with its '\n', in one write: a daemon that closes
 * on an oversized line may do so before a second write comes.
 */
void
send_line(struct client *c, const char *line)
{
	char	*cause = NULL, *text;
	size_t	 len = strlen(line);

	text = xmalloc(len + 1);
	memcpy(text, line, len);
	text[len] = '\n';
	ck_assert_msg(client_send_raw(c, text, len + 1, &cause) == 0,
	    "send: %s", cause);
	free(text);
}

/*
 * Send tools/call tool on (server, thread) under the number id without
 * waiting for the answer; as send_call_as().
 */
void
send_call(struct client *c, long id, const char *server, const char *thread,
    const char *tool, const char *args, const char *extra)
{
	send_call_as(c, cJSON_CreateNumber((double)id), server, thread, tool,
	    args, extra);
}

/*
 * Send tools/call tool on (server, thread) under id (taken) without
 * waiting for the answer; args is JSON text (NULL: {}), extra more
 * members of params as JSON text without braces (NULL: none).
 */
void
send_call_as(struct client *c, cJSON *id, const char *server,
    const char *thread, const char *tool, const char *args, const char *extra)
{
	cJSON	*params, *arguments, *more, *item, *req;
	char	*text, *cause = NULL;

	arguments = args != NULL ? cJSON_Parse(args) : cJSON_CreateObject();
	ck_assert_msg(arguments != NULL, "bad arguments in test: %s", args);
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", server);
	cJSON_AddStringToObject(params, "thread", thread);
	cJSON_AddStringToObject(params, "name", tool);
	cJSON_AddItemToObject(params, "arguments", arguments);
	if (extra != NULL) {
		xasprintf(&text, "{%s}", extra);
		ck_assert_msg((more = cJSON_Parse(text)) != NULL, "bad params "
		    "in test: %s", extra);
		free(text);
		cJSON_ArrayForEach(item, more)
			cJSON_AddItemToObject(params, item->string,
			    cJSON_Duplicate(item, 1));
		cJSON_Delete(more);
	}
	req = jsonrpc_request(id, "tools/call", params);
	ck_assert_msg(client_send(c, req, &cause) == 0, "send: %s", cause);
	cJSON_Delete(req);
}

/* The next message from the daemon, whatever it is (caller frees). */
cJSON *
recv_msg(struct client *c)
{
	cJSON	*m;
	char	*cause = NULL;

	m = client_recv(c, HARNESS_TIMEOUT_MS, &cause);
	ck_assert_msg(m != NULL, "no message from the daemon: %s", cause);
	return (m);
}

/* The next line from the daemon as it wrote it (the caller frees it). */
char *
recv_line(struct client *c)
{
	char	*line, *cause = NULL;
	size_t	 len;

	line = client_recv_line(c, HARNESS_TIMEOUT_MS, &len, &cause);
	ck_assert_msg(line != NULL, "no line from the daemon: %s", cause);
	return (line);
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

/* The item at a dotted path ("structuredContent.count"), or NULL. */
static cJSON *
harness_json_at(cJSON *root, const char *path)
{
	char	*copy, *part, *save;
	cJSON	*item = root;

	copy = xstrdup(path);
	for (part = strtok_r(copy, ".", &save); part != NULL;
	    part = strtok_r(NULL, ".", &save))
		item = cJSON_GetObjectItemCaseSensitive(item, part);
	free(copy);
	return (item);
}

/* A number at a dotted path ("structuredContent.count"); fails if absent. */
double
json_number(cJSON *root, const char *path)
{
	cJSON	*item = harness_json_at(root, path);

	ck_assert_msg(cJSON_IsNumber(item), "no number at %s", path);
	return (item->valuedouble);
}

/* A string at a dotted path; fails if absent. */
const char *
json_string(cJSON *root, const char *path)
{
	cJSON	*item = harness_json_at(root, path);

	ck_assert_msg(cJSON_IsString(item), "no string at %s", path);
	return (item->valuestring);
}

/* The count of a counter call's result. */
int
count_of(cJSON *response)
{
	return ((int)json_number(result_of(response),
	    "structuredContent.count"));
}

/* The child's pid a counter or pid call's result reports. */
pid_t
pid_of(cJSON *response)
{
	return ((pid_t)json_number(result_of(response),
	    "structuredContent.pid"));
}

/* The session generation the broker put in a result's _meta. */
int
generation_of(cJSON *response)
{
	return ((int)json_number(result_of(response),
	    "_meta.mcp-broker/session.generation"));
}

/* The session id the broker put in a result's _meta. */
const char *
session_id_of(cJSON *response)
{
	return (json_string(result_of(response),
	    "_meta.mcp-broker/session.id"));
}

/* Whether an array of strings (a stderr_tail) has one containing needle. */
int
tail_has(cJSON *tail, const char *needle)
{
	cJSON	*line;

	cJSON_ArrayForEach(line, tail) {
		if (cJSON_IsString(line) &&
		    strstr(line->valuestring, needle) != NULL)
			return (1);
	}
	return (0);
}

/* broker/session of (server, thread): the whole response (caller frees). */
cJSON *
session_of(struct client *c, const char *server, const char *thread)
{
	char	*params;
	cJSON	*r;

	xasprintf(&params, "{\"server\":\"%s\",\"thread\":\"%s\"}", server,
	    thread);
	r = rpc(c, "broker/session", params);
	free(params);
	return (r);
}

/* A number member of broker/session's result for (server, thread). */
static double
harness_session_number(struct client *c, const char *server,
    const char *thread, const char *name)
{
	cJSON	*r;
	double	 v;

	r = session_of(c, server, thread);
	v = json_number(result_of(r), name);
	cJSON_Delete(r);
	return (v);
}

/* The pid broker/session reports for (server, thread). */
pid_t
session_pid(struct client *c, const char *server, const char *thread)
{
	return ((pid_t)harness_session_number(c, server, thread, "pid"));
}

/* How many requests the session for (server, thread) has in flight. */
int
in_flight_of(struct client *c, const char *server, const char *thread)
{
	return ((int)harness_session_number(c, server, thread, "in_flight"));
}

/* Wait until the session for (server, thread) has n requests in flight. */
void
wait_in_flight(struct client *c, const char *server, const char *thread,
    int n)
{
	long	deadline = now_ms() + HARNESS_SETTLE_MS;
	int	got;

	while ((got = in_flight_of(c, server, thread)) != n) {
		ck_assert_msg(now_ms() < deadline, "%s/%s: %d in flight, "
		    "expected %d", server, thread, got, n);
		sleep_ms(10);
	}
}

/* How many sessions broker/status lists. */
int
session_count(struct client *c)
{
	cJSON	*r;
	int	 n;

	r = rpc(c, "broker/status", NULL);
	n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result_of(r),
	    "sessions"));
	cJSON_Delete(r);
	return (n);
}

/* One of broker/status's counters. */
int
status_counter(struct client *c, const char *name)
{
	cJSON	*r, *counters;
	int	 v;

	r = rpc(c, "broker/status", NULL);
	counters = cJSON_GetObjectItemCaseSensitive(result_of(r), "counters");
	v = (int)json_number(counters, name);
	cJSON_Delete(r);
	return (v);
}

/* broker/close with params (JSON text); returns "closed". */
int
close_sessions(struct client *c, const char *params)
{
	cJSON	*r;
	int	 closed;

	r = rpc(c, "broker/close", params);
	closed = (int)json_number(result_of(r), "closed");
	cJSON_Delete(r);
	return (closed);
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
	long	deadline = now_ms() + ms;

	while (pid_alive(pid)) {
		if (now_ms() > deadline)
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
	long	deadline = now_ms() + ms;
	int	zombies;

	while (children_of(ppid, NULL, 0, &zombies) > 0) {
		if (now_ms() > deadline)
			return (0);
		sleep_ms(10);
	}
	return (1);
}

/* Append what is readable on fd to *buf (NUL-terminated); returns 0 at
   EOF. */
int
harness_drain(int fd, char **buf, size_t *len)
{
	char	chunk[65536];
	ssize_t	n;

	n = read(fd, chunk, sizeof chunk);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return (1);
	if (n <= 0)
		return (0);
	*buf = xrealloc(*buf, *len + (size_t)n + 1);
	memcpy(*buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return (1);
}

/*
 * Run path (found in $PATH if it has no slash) with argv (argv[0]
 * included, NULL-terminated) and capture its
 * stdout, stderr and exit status in r. env (NULL-terminated, or NULL):
 * "NAME=value" sets a variable, "NAME" unsets it. input (NULL: none) is
 * written to its stdin, which is then closed. A run not over within ms is
 * killed, and the test fails.
 */
void
harness_run(struct harness_run *r, const char *path, const char *const *argv,
    const char *const *env, const char *input, int ms)
{
	struct pollfd	 pfd[3];
	size_t		 len[2] = { 0, 0 }, left;
	char		*buf[2] = { NULL, NULL }, *eq, *name;
	int		 in[2], out[2], err[2], open_fds = 2, i, status;
	long		 deadline;
	ssize_t		 n;
	pid_t		 pid;

	left = input != NULL ? strlen(input) : 0;
	/* A program that does not read its input must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		for (i = 0; i < 2; i++) {
			close(in[i]);
			close(out[i]);
			close(err[i]);
		}
		for (; env != NULL && *env != NULL; env++) {
			name = xstrdup(*env);
			if ((eq = strchr(name, '=')) != NULL) {
				*eq = '\0';
				setenv(name, eq + 1, 1);
			} else
				unsetenv(name);
			free(name);
		}
		execvp(path, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);

	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	pfd[2].fd = in[1];
	if (left == 0) {
		close(in[1]);
		pfd[2].fd = -1;
	}
	deadline = now_ms() + ms;
	while (open_fds > 0 && now_ms() < deadline) {
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[2].events = POLLOUT;
		if (poll(pfd, 3, 100) <= 0)
			continue;
		if (pfd[2].fd != -1 && pfd[2].revents != 0) {
			n = write(pfd[2].fd, input + strlen(input) - left, left);
			if (n > 0)
				left -= (size_t)n;
			if (left == 0 || (n == -1 && errno != EAGAIN)) {
				close(pfd[2].fd);
				pfd[2].fd = -1;
			}
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (!harness_drain(pfd[i].fd, &buf[i], &len[i])) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	if (open_fds > 0)
		kill(pid, SIGKILL);
	for (i = 0; i < 3; i++) {
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r->out = buf[0] != NULL ? buf[0] : xstrdup("");
	r->err = buf[1] != NULL ? buf[1] : xstrdup("");
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	ck_assert_msg(open_fds == 0, "%s did not finish within %d ms", path,
	    ms);
}

/* Free what a run captured. */
void
harness_run_free(struct harness_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/*
 * Find an executable name on $PATH into path (size bytes); 0 if found,
 * else -1 with path "".
 */
int
harness_find_program(const char *name, char *path, size_t size)
{
	const char	*dirs, *p, *end;
	struct stat	 st;
	size_t		 len;

	if ((dirs = getenv("PATH")) != NULL) {
		for (p = dirs;; p = end + 1) {
			if ((end = strchr(p, ':')) == NULL)
				end = p + strlen(p);
			len = (size_t)(end - p);
			/* An empty entry means the current directory. */
			if (snprintf(path, size, "%.*s%s%s", (int)len, p,
			    len == 0 ? "./" : "/", name) < (int)size &&
			    stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(path, X_OK) == 0)
				return (0);
			if (*end == '\0')
				break;
		}
	}
	path[0] = '\0';
	return (-1);
}

/* A TCP port on 127.0.0.1 nobody listens on now. */
int
harness_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, p;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	p = ntohs(sin.sin_port);
	close(fd);
	return (p);
}
