/*
 * mcp-brokerd under systemd, tested without a running systemd: the
 * installed units pass systemd-analyze (verify, and security at most 3.0),
 * sysusers and tmpfiles work on an image, a reinstall keeps the admin's
 * config; socket activation through systemd-socket-activate; the
 * sd_notify protocol (READY, STATUS, WATCHDOG, RELOADING, STOPPING) on a
 * datagram socket the test binds; and logging to the journal when stderr
 * is the journal's stream.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "defaults.h"
#include "harness.h"
#include "xmalloc.h"

/* The most systemd-analyze security may rate the service's exposure. */
#define MAX_EXPOSURE		3.0
/* The watchdog interval the tests give the daemon (it pings at half). */
#define WATCHDOG_USEC		"400000"
/* How long the daemon may take to be ready, and to exit on SIGTERM. */
#define READY_MS		10000
#define EXIT_MS			10000
/* STATUS= is refreshed every 2 s at most; allow for that and a margin. */
#define STATUS_MS		3000
/* Lines received on the notify socket that a test keeps. */
#define NOTIFY_MAX_LINES	1024

/* What systemd hands a service and a child must not act on. */
static const char *systemd_vars[] = {
	"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
	"LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM", NULL
};

/* One test's temporary directory and the daemon it runs there. */
struct sd {
	char	 dir[64];
	char	 sock[128];	/* the socket the config names */
	char	 config[128];
	char	 log[128];	/* the daemon's stdout and stderr */
	char	 notify[128];
	int	 notify_fd;
	char	*lines[NOTIFY_MAX_LINES];
	int	 nlines;
	pid_t	 pid;		/* the daemon (0: none running) */
};

static struct sd	*sd;
/*
 * The test case's directory, made and removed in the runner's process:
 * a failing test ends its process before its teardown, so its own
 * directory (under this one) is removed here with the rest.
 */
static char		 topdir[32];

/*
 * Fail unless cond, printing text (a tool's whole output, too long for a
 * check message) to stderr first.
 */
#define ck_assert_show(cond, text, ...) do {				\
	if (!(cond)) {							\
		fprintf(stderr, "---- output ----\n%s---- end ----\n",	\
		    (text) != NULL ? (const char *)(text) : "(none)\n");\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

/* nftw() callback: remove each entry, children first. */
static int
rmtree_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return (0);
}

/* The whole of a file as a string (the caller frees), or NULL. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*text;
	long	 n;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = xmalloc((size_t)n + 1);
	n = (long)fread(text, 1, (size_t)n, f);
	text[n] = '\0';
	fclose(f);
	return (text);
}

/* Write text to path (fails the test if it cannot). */
static void
spit(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* Print the daemon's log (for a failing test). */
static void
dump_log(void)
{
	char	*text = slurp(sd->log);

	fprintf(stderr, "---- mcp-brokerd log (%s) ----\n%s---- end of log "
	    "----\n", sd->log, text != NULL ? text : "(none)\n");
	free(text);
}

/* Make the test case's directory (in the runner's process). */
static void
case_setup(void)
{
	snprintf(topdir, sizeof topdir, "/tmp/mcpb-sd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(topdir));
}

/* Remove it, with whatever failed tests left in it. */
static void
case_teardown(void)
{
	nftw(topdir, rmtree_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A directory for the test, and where its files will go. */
static void
setup(void)
{
	sd = xcalloc(1, sizeof *sd);
	snprintf(sd->dir, sizeof sd->dir, "%s/t.XXXXXX", topdir);
	ck_assert_ptr_nonnull(mkdtemp(sd->dir));
	snprintf(sd->sock, sizeof sd->sock, "%s/broker.sock", sd->dir);
	snprintf(sd->config, sizeof sd->config, "%s/broker.json", sd->dir);
	snprintf(sd->log, sizeof sd->log, "%s/broker.log", sd->dir);
	snprintf(sd->notify, sizeof sd->notify, "%s/notify", sd->dir);
	sd->notify_fd = -1;
}

/* Kill a daemon the test left running; remove the directory. */
static void
teardown(void)
{
	int	i, status;

	if (sd->pid > 0) {
		kill(sd->pid, SIGKILL);
		waitpid(sd->pid, &status, 0);
	}
	if (sd->notify_fd != -1)
		close(sd->notify_fd);
	for (i = 0; i < sd->nlines; i++)
		free(sd->lines[i]);
	nftw(sd->dir, rmtree_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(sd);
}

/*
 * Run argv (searched in PATH) with stdout and stderr into a file in the
 * test's directory; returns its wait status, and its output in *output
 * if that is not NULL (the caller frees).
 */
static int
run(char *const argv[], char **output)
{
	char	out[160];
	pid_t	pid;
	int	fd, status;

	snprintf(out, sizeof out, "%s/run.out", sd->dir);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
			_exit(126);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		/* Not the outer make's jobserver or variables. */
		unsetenv("MAKEFLAGS");
		unsetenv("MFLAGS");
		unsetenv("MAKELEVEL");
		unsetenv("SYSTEMD_LOG_LEVEL");
		setenv("SYSTEMD_COLORS", "0", 1);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (output != NULL)
		*output = slurp(out);
	return (status);
}

/* Whether a wait status is a normal exit with code 0. */
static int
exited_zero(int status)
{
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * make install into the test's directory, as a package build would:
 * DESTDIR=<dir>/root with PREFIX=<dir>/usr, and <dir>/usr a symlink to
 * where that lands, so that the installed units' paths (ExecStart=, the
 * config's demo server) are real files. /etc goes to <dir>/root/etc.
 */
static void
install(void)
{
	char	 destdir[160], prefix[160], target[160], link[160];
	char	*out;
	int	 status;
	char	*argv[] = { "make", "-C", NULL, "--no-print-directory",
		    "install", destdir, prefix, "SANITIZE=", NULL };

	snprintf(destdir, sizeof destdir, "DESTDIR=%s/root", sd->dir);
	snprintf(prefix, sizeof prefix, "PREFIX=%s/usr", sd->dir);
	snprintf(target, sizeof target, "root%s/usr", sd->dir);
	snprintf(link, sizeof link, "%s/usr", sd->dir);
	if (symlink(target, link) == -1 && errno != EEXIST)
		ck_abort_msg("symlink %s: %s", link, strerror(errno));
	argv[2] = (char *)harness_top_path(".");
	status = run(argv, &out);
	ck_assert_show(exited_zero(status), out, "make install failed (status "
	    "%d)", status);
	free(out);
}

/*
 * An installed file: a path relative to the prefix (<dir>/usr), or an
 * absolute one (/etc, /var) in the image (<dir>/root).
 */
static const char *
installed(const char *path)
{
	static char	buf[4][PATH_MAX];
	static int	next;
	char		*p = buf[next++ % 4];

	if (path[0] == '/')
		snprintf(p, PATH_MAX, "%s/root%s", sd->dir, path);
	else
		snprintf(p, PATH_MAX, "%s/usr/%s", sd->dir, path);
	return (p);
}

/* The value of the first "key=" line of a unit file, or NULL (freed). */
static char *
unit_value(const char *text, const char *key)
{
	const char	*p = text;
	size_t		 len = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, len) == 0 && p[len] == '=')
			return (xstrndup(p + len + 1, strcspn(p + len + 1,
			    "\n")));
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return (NULL);
}

/* The config: the socket, and a fake MCP server "fake" with its env tool. */
static void
write_config(void)
{
	char	*text;

	xasprintf(&text, "{\"broker\":{\"socket\":\"%s\","
	    "\"shutdown_grace_ms\":300},\"mcpServers\":{\"fake\":"
	    "{\"command\":\"%s\",\"args\":[\"--env-tool\"]}}}\n", sd->sock,
	    harness_fake_mcp());
	spit(sd->config, text);
	free(text);
}

/* The address of a Unix socket at path. */
static void
unix_address(struct sockaddr_un *sun, const char *path)
{
	size_t	len = strlen(path);

	ck_assert_msg(len < sizeof sun->sun_path, "socket path too long: %s",
	    path);
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
}

/* Bind the datagram socket the daemon will be told to notify. */
static void
notify_open(void)
{
	struct sockaddr_un	sun;

	unix_address(&sun, sd->notify);
	sd->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(sd->notify_fd, -1);
	ck_assert_msg(bind(sd->notify_fd, (struct sockaddr *)&sun,
	    sizeof sun) == 0, "bind %s: %s", sd->notify, strerror(errno));
}

/* Read one datagram (waiting up to ms) into lines; 0 if none came. */
static int
notify_read(int ms)
{
	struct pollfd	 pfd = { sd->notify_fd, POLLIN, 0 };
	char		 buf[4096], *line, *save;
	ssize_t		 n;

	if (ms < 0)
		ms = 0;
	if (poll(&pfd, 1, ms) != 1)
		return (0);
	if ((n = recv(sd->notify_fd, buf, sizeof buf - 1, 0)) <= 0)
		return (0);
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_int_lt(sd->nlines, NOTIFY_MAX_LINES);
		sd->lines[sd->nlines++] = xstrdup(line);
	}
	return (1);
}

/*
 * The index of the first line at or after from that starts with prefix,
 * waiting up to ms for it; -1 if it did not come.
 */
static int
notify_wait(const char *prefix, int from, int ms)
{
	long	deadline = now_ms() + ms;
	int	i;

	for (i = from;; i++) {
		while (i >= sd->nlines) {
			if (now_ms() >= deadline)
				return (-1);
			notify_read((int)(deadline - now_ms()));
		}
		if (strncmp(sd->lines[i], prefix, strlen(prefix)) == 0)
			return (i);
	}
}

/* Every line received so far, for a failure message (static buffer). */
static const char *
notify_seen(void)
{
	static char	buf[8192];
	size_t		len = 0;
	int		i;

	buf[0] = '\0';
	for (i = 0; i < sd->nlines && len < sizeof buf - 1; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s",
		    i > 0 ? " | " : "", sd->lines[i]);
	return (sd->nlines > 0 ? buf : "nothing");
}

/* Lines starting with prefix among those from index from on. */
static int
notify_count(const char *prefix, int from)
{
	int	i, n = 0;

	for (i = from; i < sd->nlines; i++)
		if (strncmp(sd->lines[i], prefix, strlen(prefix)) == 0)
			n++;
	return (n);
}

/* How the test starts the daemon. */
struct start {
	int		 socket_activate;	/* systemd-socket-activate */
	const char	*sa_args[4];		/* its extra options */
	int		 notify;		/* NOTIFY_SOCKET=sd->notify */
	int		 watchdog;		/* WATCHDOG_USEC (and _PID) */
	pid_t		 watchdog_pid;		/* 0: the daemon's own */
	const char	*journal_stream;	/* "stderr", a file, or NULL */
	const char	*home;			/* HOME, or NULL: unchanged */
};

/*
 * Fork and exec the daemon with the environment systemd would give it:
 * stdout and stderr to sd->log, and it dies if the test does (a failing
 * test leaves no daemon behind). systemd-socket-activate execs the daemon
 * (same pid) once the first connection or datagram arrives.
 */
static void
start(const struct start *how)
{
	char		 wpid[32], js[64];
	const char	*argv[32];
	struct stat	 st;
	int		 fd, i, argc = 0;

	/* It passes on only PATH, HOME, TERM and what -E names. */
	if (how->socket_activate) {
		argv[argc++] = "systemd-socket-activate";
		if (how->notify) {
			argv[argc++] = "-E";
			argv[argc++] = "NOTIFY_SOCKET";
		}
		if (how->watchdog) {
			argv[argc++] = "-E";
			argv[argc++] = "WATCHDOG_USEC";
			argv[argc++] = "-E";
			argv[argc++] = "WATCHDOG_PID";
		}
		if (how->journal_stream != NULL) {
			argv[argc++] = "-E";
			argv[argc++] = "JOURNAL_STREAM";
		}
		for (i = 0; i < 4 && how->sa_args[i] != NULL; i++)
			argv[argc++] = how->sa_args[i];
	}
	argv[argc++] = harness_build_path("mcp-brokerd");
	argv[argc++] = "--config";
	argv[argc++] = sd->config;
	argv[argc++] = "--log-level";
	argv[argc++] = "debug";
	argv[argc] = NULL;

	sd->pid = fork();
	ck_assert_int_ne(sd->pid, -1);
	if (sd->pid != 0)
		return;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		_exit(126);
	if ((fd = open(sd->log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		_exit(126);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	/* Nothing of the environment the tests themselves run in. */
	for (i = 0; systemd_vars[i] != NULL; i++)
		unsetenv(systemd_vars[i]);
	if (how->notify)
		setenv("NOTIFY_SOCKET", sd->notify, 1);
	if (how->watchdog) {
		setenv("WATCHDOG_USEC", WATCHDOG_USEC, 1);
		/* systemd-socket-activate execs the daemon: same pid. */
		snprintf(wpid, sizeof wpid, "%ld", how->watchdog_pid != 0 ?
		    (long)how->watchdog_pid : (long)getpid());
		setenv("WATCHDOG_PID", wpid, 1);
	}
	if (how->journal_stream != NULL) {
		if (strcmp(how->journal_stream, "stderr") == 0) {
			if (fstat(STDERR_FILENO, &st) == -1)
				_exit(126);
		} else if (stat(how->journal_stream, &st) == -1)
			_exit(126);
		snprintf(js, sizeof js, "%lu:%lu", (unsigned long)st.st_dev,
		    (unsigned long)st.st_ino);
		setenv("JOURNAL_STREAM", js, 1);
	}
	if (how->home != NULL)
		setenv("HOME", how->home, 1);
	execvp(argv[0], (char *const *)argv);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/* Wait up to ms for the daemon to exit; its wait status, or -1. */
static int
wait_exit(int ms)
{
	long	deadline = now_ms() + ms;
	int	status;
	pid_t	r;

	while ((r = waitpid(sd->pid, &status, WNOHANG)) == 0) {
		if (now_ms() > deadline)
			return (-1);
		sleep_ms(10);
	}
	ck_assert_int_eq(r, sd->pid);
	sd->pid = 0;
	return (status);
}

/* SIGTERM the daemon and check it exits 0 in time. */
static void
stop(void)
{
	int	status;

	ck_assert_int_eq(kill(sd->pid, SIGTERM), 0);
	status = wait_exit(EXIT_MS);
	if (!exited_zero(status))
		dump_log();
	ck_assert_msg(status != -1, "mcp-brokerd did not exit on SIGTERM");
	ck_assert_msg(exited_zero(status), "mcp-brokerd exited with status "
	    "%d on SIGTERM", status);
}

/* Wait for READY=1 on the notify socket; its line index. */
static int
wait_ready(void)
{
	long	deadline = now_ms() + READY_MS;
	int	i, status;

	while ((i = notify_wait("READY=1", 0, 100)) == -1) {
		if (waitpid(sd->pid, &status, WNOHANG) == sd->pid) {
			sd->pid = 0;
			dump_log();
			ck_abort_msg("mcp-brokerd exited (status %d) before "
			    "READY=1; got %s", status, notify_seen());
		}
		if (now_ms() > deadline) {
			dump_log();
			ck_abort_msg("no READY=1 within %d ms; got %s",
			    READY_MS, notify_seen());
		}
	}
	return (i);
}

/* Connect to path, retrying until the daemon listens (fails at READY_MS). */
static struct client *
connect_to(const char *path)
{
	struct client	*c;
	char		*cause;
	long		 deadline = now_ms() + READY_MS;
	int		 status;

	for (;;) {
		if ((c = client_connect(path, &cause)) != NULL)
			return (c);
		free(cause);
		if (waitpid(sd->pid, &status, WNOHANG) != 0 ||
		    now_ms() > deadline) {
			dump_log();
			ck_abort_msg("mcp-brokerd did not listen on %s", path);
		}
		sleep_ms(10);
	}
}

/* Send one datagram to path, once it is bound (fails at READY_MS). */
static void
poke_datagram(const char *path)
{
	struct sockaddr_un	sun;
	long			deadline = now_ms() + READY_MS;
	int			fd;

	unix_address(&sun, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	while (sendto(fd, "x", 1, 0, (struct sockaddr *)&sun,
	    sizeof sun) == -1) {
		if (now_ms() > deadline) {
			dump_log();
			ck_abort_msg("nothing bound %s: %s", path,
			    strerror(errno));
		}
		sleep_ms(10);
	}
	close(fd);
}

/* broker/status on c; the response (the caller frees). */
static cJSON *
status_of(struct client *c)
{
	cJSON	*r;
	char	*cause = NULL;

	r = client_call(c, "broker/status", NULL, HARNESS_TIMEOUT_MS, &cause);
	if (r == NULL)
		dump_log();
	ck_assert_msg(r != NULL, "broker/status: %s", cause);
	return (r);
}

/*
 * Installed units
 */

START_TEST(test_installed_units_pass_systemd_analyze_verify)
{
	char	 svc[PATH_MAX], sock[PATH_MAX];
	char	*out, *text, *exec, *line, *save;
	int	 status;
	char	*argv[] = { "systemd-analyze", "verify", svc, sock, NULL };

	install();
	snprintf(svc, sizeof svc, "%s",
	    installed("lib/systemd/system/mcp-broker.service"));
	snprintf(sock, sizeof sock, "%s",
	    installed("lib/systemd/system/mcp-broker.socket"));

	/* @BINDIR@ became the real path of the installed daemon. */
	ck_assert_ptr_nonnull(text = slurp(svc));
	ck_assert_show(strstr(text, "@BINDIR@") == NULL &&
	    strstr(text, "@LIBEXECDIR@") == NULL, text, "a placeholder is "
	    "left in the installed service");
	exec = unit_value(text, "ExecStart");
	ck_assert_ptr_nonnull(exec);
	ck_assert_msg(strncmp(exec, installed("bin/mcp-brokerd"),
	    strlen(installed("bin/mcp-brokerd"))) == 0, "ExecStart=%s", exec);
	ck_assert_msg(access(installed("bin/mcp-brokerd"), X_OK) == 0,
	    "no executable %s", installed("bin/mcp-brokerd"));
	free(exec);
	/* The daemon makes a cgroup per session in its own subtree, which
	   must be delegated to it and writable. */
	exec = unit_value(text, "Delegate");
	ck_assert_msg(exec != NULL && strcmp(exec, "yes") == 0,
	    "Delegate=%s", exec != NULL ? exec : "(none)");
	free(exec);
	ck_assert_show(unit_value(text, "ProtectControlGroups") == NULL, text,
	    "ProtectControlGroups= would make the delegated cgroup "
	    "read-only");
	free(text);

	/* verify exits 0 on mere warnings: any line about our units fails. */
	status = run(argv, &out);
	ck_assert_show(exited_zero(status), out, "systemd-analyze verify "
	    "exited with status %d", status);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		ck_assert_msg(strstr(line, "mcp-broker") == NULL,
		    "systemd-analyze verify: %s", line);
	free(out);
}
END_TEST

START_TEST(test_installed_service_exposure_is_at_most_3)
{
	static const char	 key[] = "Overall exposure level for "
				     "mcp-broker.service:";
	char			 svc[PATH_MAX];
	char			*out, *p, *end;
	double			 exposure;
	int			 status;
	char			*argv[] = { "systemd-analyze", "security",
				     "--offline=true", svc, NULL };

	install();
	snprintf(svc, sizeof svc, "%s",
	    installed("lib/systemd/system/mcp-broker.service"));
	status = run(argv, &out);
	ck_assert_show(exited_zero(status), out, "systemd-analyze security "
	    "exited with status %d", status);
	ck_assert_show((p = strstr(out, key)) != NULL, out, "no overall "
	    "exposure level");
	exposure = strtod(p + sizeof key - 1, &end);
	ck_assert_show(end != p + sizeof key - 1, out, "no number after "
	    "\"%s\"", key);
	ck_assert_show(exposure <= MAX_EXPOSURE, out, "exposure %.1f is over "
	    "%.1f", exposure, MAX_EXPOSURE);
	free(out);
}
END_TEST

START_TEST(test_socket_unit_config_and_ctl_agree_on_the_socket)
{
	char	*text, *listen, *exec;
	cJSON	*conf;

	install();
	ck_assert_ptr_nonnull(text =
	    slurp(installed("lib/systemd/system/mcp-broker.socket")));
	ck_assert_ptr_nonnull(listen = unit_value(text, "ListenStream"));
	ck_assert_str_eq(listen, DEFAULT_SOCKET);
	free(text);

	ck_assert_ptr_nonnull(text =
	    slurp(installed(CONFIG_DEFAULT_PATH)));
	ck_assert_ptr_nonnull(conf = cJSON_Parse(text));
	ck_assert_str_eq(json_string(conf, "broker.socket"), listen);
	cJSON_Delete(conf);
	free(text);

	/* The service reads the config the install put in place. */
	ck_assert_ptr_nonnull(text =
	    slurp(installed("lib/systemd/system/mcp-broker.service")));
	ck_assert_ptr_nonnull(exec = unit_value(text, "ExecStart"));
	ck_assert_msg(strstr(exec, " --config " CONFIG_DEFAULT_PATH) != NULL,
	    "ExecStart=%s", exec);
	free(exec);
	free(listen);
	free(text);
}
END_TEST

START_TEST(test_installed_config_is_valid)
{
	char	*out;
	int	 status;
	char	*argv[] = { NULL, "--check-config", "--config", NULL, NULL };

	install();
	argv[0] = (char *)installed("bin/mcp-brokerd");
	argv[3] = (char *)installed(CONFIG_DEFAULT_PATH);
	status = run(argv, &out);
	ck_assert_show(exited_zero(status), out, "the installed config is "
	    "refused (status %d)", status);
	ck_assert_show(strstr(out, "configuration OK") != NULL, out,
	    "no \"configuration OK\"");
	free(out);
	/* Its demo server is the installed one. */
	ck_assert_ptr_nonnull(out = slurp(installed(CONFIG_DEFAULT_PATH)));
	ck_assert_show(strstr(out, installed("libexec/mcp-broker/"
	    "mcp-demo-server")) != NULL, out, "the config does not name the "
	    "installed demo server");
	free(out);
}
END_TEST

/* make install puts the three man pages where man finds them, and each
   renders without a warning. */
START_TEST(test_install_puts_the_man_pages_in_place)
{
	static const char *const pages[] = { "share/man/man1/mcp-brokerctl.1",
	    "share/man/man5/mcp-broker.json.5",
	    "share/man/man8/mcp-brokerd.8" };
	struct harness_run	 r;
	const char		*argv[] = { "groff", "-man", "-ww", "-z", NULL,
				    NULL };
	size_t			 i;

	install();
	for (i = 0; i < sizeof pages / sizeof *pages; i++) {
		ck_assert_msg(access(installed(pages[i]), R_OK) == 0,
		    "no %s", installed(pages[i]));
		argv[4] = installed(pages[i]);
		harness_run(&r, "groff", argv, NULL, NULL, 15000);
		ck_assert_msg(r.status == 0 && r.err[0] == '\0', "%s: %s",
		    pages[i], r.err);
		harness_run_free(&r);
	}
}
END_TEST

START_TEST(test_reinstall_keeps_an_edited_config)
{
	static const char	 marker[] = "{\"broker\":{},\"mcpServers\":{},"
				     "\"_edited_by_the_admin\":1}\n";
	char			*text;

	install();
	spit(installed(CONFIG_DEFAULT_PATH), marker);
	install();
	ck_assert_ptr_nonnull(text = slurp(installed(CONFIG_DEFAULT_PATH)));
	ck_assert_str_eq(text, marker);
	free(text);
}
END_TEST

START_TEST(test_sysusers_and_tmpfiles_make_the_user_and_directories)
{
	char		 root[160];
	char		*out, *passwd, *group, *line;
	struct stat	 st;
	long		 uid, gid;
	int		 status;
	char		*sysusers[] = { "systemd-sysusers", root, NULL, NULL };
	char		*tmpfiles[] = { "systemd-tmpfiles", root, "--create",
			    NULL, NULL };

	install();
	snprintf(root, sizeof root, "--root=%s/root", sd->dir);
	sysusers[2] = (char *)installed("lib/sysusers.d/mcp-broker.conf");
	status = run(sysusers, &out);
	ck_assert_show(exited_zero(status), out, "systemd-sysusers exited "
	    "with status %d", status);
	free(out);

	ck_assert_ptr_nonnull(passwd = slurp(installed("/etc/passwd")));
	ck_assert_ptr_nonnull(group = slurp(installed("/etc/group")));
	ck_assert_show((line = strstr(passwd, "mcp-broker:")) != NULL, passwd,
	    "no mcp-broker in passwd");
	ck_assert_int_eq(sscanf(line, "mcp-broker:x:%ld:%ld:", &uid, &gid), 2);
	ck_assert_msg(strstr(line, ":/var/lib/mcp-broker:") != NULL, "%s",
	    line);
	ck_assert_msg(uid > 0 && uid < 1000, "uid %ld is not a system uid",
	    uid);
	ck_assert_show(strstr(group, "mcp-broker:x:") != NULL, group,
	    "no mcp-broker in group");
	ck_assert_int_eq(atol(strstr(group, "mcp-broker:x:") + 13), gid);
	free(passwd);
	free(group);

	tmpfiles[3] = (char *)installed("lib/tmpfiles.d/mcp-broker.conf");
	status = run(tmpfiles, &out);
	ck_assert_show(exited_zero(status), out, "systemd-tmpfiles exited "
	    "with status %d", status);
	free(out);
	ck_assert_int_eq(stat(installed("/var/lib/mcp-broker"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0750);
	ck_assert_int_eq((long)st.st_uid, uid);
	ck_assert_int_eq((long)st.st_gid, gid);
	ck_assert_int_eq(stat(installed("/etc/mcp-broker"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);
	ck_assert_int_eq(st.st_uid, 0);
}
END_TEST

/*
 * Socket activation
 */

START_TEST(test_socket_activation_serves_the_passed_socket_and_keeps_it)
{
	struct start	 how = { .socket_activate = 1 };
	struct client	*c;
	struct stat	 st;
	cJSON		*r;
	char		 sa[160];

	snprintf(sa, sizeof sa, "%s/sa.sock", sd->dir);
	how.sa_args[0] = "-l";
	how.sa_args[1] = sa;
	write_config();
	start(&how);

	c = connect_to(sa);
	r = status_of(c);
	/* systemd-socket-activate exec'd the daemon: same process. */
	ck_assert_int_eq((pid_t)json_number(result_of(r), "pid"), sd->pid);
	cJSON_Delete(r);
	client_close(c);
	ck_assert_msg(stat(sd->sock, &st) == -1 && errno == ENOENT,
	    "the daemon bound its configured socket %s too", sd->sock);

	stop();
	ck_assert_msg(stat(sa, &st) == 0, "the passed socket %s is gone "
	    "after the daemon exited", sa);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_msg(stat(sd->sock, &st) == -1 && errno == ENOENT,
	    "%s appeared during shutdown", sd->sock);
}
END_TEST

START_TEST(test_socket_activation_refuses_a_datagram_socket)
{
	struct start	 how = { .socket_activate = 1 };
	char		 sa[160], *log;
	int		 status;

	snprintf(sa, sizeof sa, "%s/sa.sock", sd->dir);
	how.sa_args[0] = "--datagram";
	how.sa_args[1] = "-l";
	how.sa_args[2] = sa;
	write_config();
	start(&how);
	poke_datagram(sa);
	status = wait_exit(EXIT_MS);
	ck_assert_msg(status != -1, "mcp-brokerd runs on a datagram socket");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "status %d", status);
	ck_assert_ptr_nonnull(log = slurp(sd->log));
	ck_assert_show(strstr(log, "not a listening Unix stream socket") !=
	    NULL, log, "no reason given for refusing the socket");
	free(log);
}
END_TEST

START_TEST(test_socket_activation_refuses_two_sockets)
{
	struct start	 how = { .socket_activate = 1 };
	struct client	*c;
	char		 sa1[160], sa2[160], *log;
	int		 status;

	snprintf(sa1, sizeof sa1, "%s/sa1.sock", sd->dir);
	snprintf(sa2, sizeof sa2, "%s/sa2.sock", sd->dir);
	how.sa_args[0] = "-l";
	how.sa_args[1] = sa1;
	how.sa_args[2] = "-l";
	how.sa_args[3] = sa2;
	write_config();
	start(&how);
	c = connect_to(sa1);
	status = wait_exit(EXIT_MS);
	client_close(c);
	ck_assert_msg(status != -1, "mcp-brokerd runs on two sockets");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "status %d", status);
	ck_assert_ptr_nonnull(log = slurp(sd->log));
	ck_assert_show(strstr(log, "exactly one") != NULL, log, "no reason "
	    "given for refusing two sockets");
	free(log);
}
END_TEST

START_TEST(test_children_get_home_but_not_systemds_variables)
{
	struct start	 how = { .socket_activate = 1, .notify = 1,
			     .watchdog = 1, .journal_stream = "/dev/null" };
	struct client	*c;
	cJSON		*r, *env;
	char		 sa[160], home[160];
	int		 i;

	snprintf(sa, sizeof sa, "%s/sa.sock", sd->dir);
	snprintf(home, sizeof home, "%s/home", sd->dir);
	ck_assert_int_eq(mkdir(home, 0755), 0);
	how.sa_args[0] = "-l";
	how.sa_args[1] = sa;
	how.home = home;
	notify_open();
	write_config();
	start(&how);
	c = connect_to(sa);
	wait_ready();
	r = tool_call(c, "fake", "t", "env", NULL);
	env = cJSON_GetObjectItem(cJSON_GetObjectItem(result_of(r),
	    "structuredContent"), "env");
	ck_assert_ptr_nonnull(env);
	/* The unit's Environment=HOME= reaches the MCP servers. */
	ck_assert_str_eq(json_string(env, "HOME"), home);
	for (i = 0; systemd_vars[i] != NULL; i++)
		ck_assert_msg(cJSON_GetObjectItem(env, systemd_vars[i]) ==
		    NULL, "a child got %s", systemd_vars[i]);
	cJSON_Delete(r);
	client_close(c);
	stop();
}
END_TEST

/*
 * sd_notify
 */

START_TEST(test_notify_ready_once_listening_with_a_status_line)
{
	struct start	 how = { .notify = 1 };
	struct client	*c;
	char		*cause = NULL;
	int		 ready, st;

	notify_open();
	write_config();
	start(&how);
	ready = wait_ready();
	/* READY=1 means the socket accepts: no retrying needed. */
	c = client_connect(sd->sock, &cause);
	ck_assert_msg(c != NULL, "READY=1 came before %s accepted: %s",
	    sd->sock, cause);
	client_close(c);
	st = notify_wait("STATUS=", 0, 1000);
	ck_assert_msg(st != -1, "no STATUS= line; got %s", notify_seen());
	ck_assert_msg(st < ready, "STATUS= came after READY=1: %s",
	    notify_seen());
	ck_assert_msg(strncmp(sd->lines[st], "STATUS=0 sessions, 0 clients",
	    28) == 0, "%s", sd->lines[st]);
	ck_assert_int_eq(notify_count("READY=1", 0), 1);
	stop();
}
END_TEST

START_TEST(test_notify_watchdog_keepalive_at_half_the_interval)
{
	struct start	 how = { .notify = 1, .watchdog = 1 };
	int		 ready, n;
	long		 t0;

	notify_open();
	write_config();
	start(&how);
	ready = wait_ready();
	t0 = now_ms();
	while (now_ms() - t0 < 1000)
		notify_read((int)(1000 - (now_ms() - t0)));
	/* Every 200 ms: about 5 in a second, surely 2, never a flood. */
	n = notify_count("WATCHDOG=1", ready);
	ck_assert_msg(n >= 2 && n <= 7, "%d WATCHDOG=1 in 1 s with "
	    "WATCHDOG_USEC=%s: %s", n, WATCHDOG_USEC, notify_seen());
	stop();
}
END_TEST

START_TEST(test_notify_no_watchdog_when_it_is_for_another_process)
{
	struct start	 how = { .notify = 1, .watchdog = 1 };
	long		 t0;

	/* WATCHDOG_PID names another process: the variables were inherited,
	   and the watchdog is not this daemon's to feed. */
	how.watchdog_pid = getpid();
	notify_open();
	write_config();
	start(&how);
	wait_ready();
	t0 = now_ms();
	while (now_ms() - t0 < 700)
		notify_read((int)(700 - (now_ms() - t0)));
	ck_assert_msg(notify_count("WATCHDOG=1", 0) == 0, "WATCHDOG=1 for "
	    "another process's watchdog: %s", notify_seen());
	stop();
}
END_TEST

START_TEST(test_notify_sighup_is_reloading_then_ready)
{
	struct start	 how = { .notify = 1 };
	int		 ready, reloading, again;

	notify_open();
	write_config();
	start(&how);
	ready = wait_ready();
	ck_assert_int_eq(kill(sd->pid, SIGHUP), 0);
	reloading = notify_wait("RELOADING=1", ready + 1, 3000);
	ck_assert_msg(reloading != -1, "no RELOADING=1 after SIGHUP: %s",
	    notify_seen());
	again = notify_wait("READY=1", reloading + 1, 3000);
	ck_assert_msg(again != -1, "no READY=1 after RELOADING=1: %s",
	    notify_seen());
	stop();
}
END_TEST

START_TEST(test_notify_failed_reload_still_ends_with_ready)
{
	struct start	 how = { .notify = 1 };
	struct client	*c;
	cJSON		*r;
	int		 ready, reloading, again;

	notify_open();
	write_config();
	start(&how);
	ready = wait_ready();
	spit(sd->config, "{\"broker\":{\"max_sessions\":\"many\"}}\n");
	ck_assert_int_eq(kill(sd->pid, SIGHUP), 0);
	reloading = notify_wait("RELOADING=1", ready + 1, 3000);
	ck_assert_msg(reloading != -1, "no RELOADING=1 after SIGHUP: %s",
	    notify_seen());
	/* Else systemd would show the unit reloading until a timeout. */
	again = notify_wait("READY=1", reloading + 1, 3000);
	ck_assert_msg(again != -1, "no READY=1 after a failed reload: %s",
	    notify_seen());
	/* And the old config is still in force. */
	c = connect_to(sd->sock);
	r = tool_call(c, "fake", "t", "counter", NULL);
	result_of(r);
	cJSON_Delete(r);
	client_close(c);
	stop();
}
END_TEST

START_TEST(test_notify_status_follows_the_sessions)
{
	struct start	 how = { .notify = 1 };
	struct client	*c;
	cJSON		*r;
	int		 ready, st;

	notify_open();
	write_config();
	start(&how);
	ready = wait_ready();
	c = connect_to(sd->sock);
	r = tool_call(c, "fake", "t", "counter", NULL);
	result_of(r);
	cJSON_Delete(r);
	st = notify_wait("STATUS=1 session, 1 client,", ready, STATUS_MS);
	ck_assert_msg(st != -1, "STATUS= did not show the session within "
	    "%d ms: %s", STATUS_MS, notify_seen());
	client_close(c);
	stop();
}
END_TEST

START_TEST(test_notify_sigterm_is_stopping_and_exit_zero)
{
	struct start	 how = { .notify = 1, .watchdog = 1 };
	int		 ready, stopping, status;

	notify_open();
	write_config();
	start(&how);
	ready = wait_ready();
	ck_assert_int_eq(kill(sd->pid, SIGTERM), 0);
	stopping = notify_wait("STOPPING=1", ready + 1, 3000);
	ck_assert_msg(stopping != -1, "no STOPPING=1 after SIGTERM: %s",
	    notify_seen());
	status = wait_exit(EXIT_MS);
	ck_assert_msg(status != -1, "mcp-brokerd did not exit on SIGTERM");
	ck_assert_msg(exited_zero(status), "status %d", status);
	/* Nothing claims readiness once stopping began. */
	while (notify_read(0))
		;
	ck_assert_msg(notify_count("READY=1", stopping) == 0, "READY=1 "
	    "after STOPPING=1: %s", notify_seen());
}
END_TEST

/*
 * Journal
 */

/*
 * Run the daemon through one call and a SIGTERM with JOURNAL_STREAM as
 * how says; its stderr (the log file), for the caller to free.
 */
static char *
stderr_of_a_run(const char *journal_stream)
{
	struct start	 how = { .journal_stream = journal_stream };
	struct client	*c;
	cJSON		*r;

	write_config();
	start(&how);
	c = connect_to(sd->sock);
	r = tool_call(c, "fake", "t", "counter", NULL);
	result_of(r);
	cJSON_Delete(r);
	client_close(c);
	stop();
	return (slurp(sd->log));
}

/* How many lines of text are the daemon's timestamped log lines. */
static int
log_lines(const char *text)
{
	regex_t	 re;
	char	*copy, *line, *save;
	int	 n = 0;

	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z "
	    "(debug|info|warning|error): ", REG_EXTENDED | REG_NOSUB), 0);
	copy = xstrdup(text);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (regexec(&re, line, 0, NULL, 0) == 0)
			n++;
	free(copy);
	regfree(&re);
	return (n);
}

START_TEST(test_journal_stream_on_stderr_logs_to_the_journal)
{
	char	*text;

	text = stderr_of_a_run("stderr");
	ck_assert_ptr_nonnull(text);
	ck_assert_show(log_lines(text) == 0, text, "log lines on stderr "
	    "although it is the journal's stream");
	free(text);
}
END_TEST

START_TEST(test_without_journal_stream_lines_go_to_stderr)
{
	char	*text;

	text = stderr_of_a_run(NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_show(log_lines(text) >= 2, text, "no log lines on stderr");
	ck_assert_show(strstr(text, "info: mcp-brokerd ") != NULL, text,
	    "no start-up line on stderr");
	free(text);
}
END_TEST

START_TEST(test_journal_stream_of_another_file_keeps_stderr)
{
	char	*text;

	/* Inherited, but stderr was redirected since: not the journal. */
	text = stderr_of_a_run("/dev/null");
	ck_assert_ptr_nonnull(text);
	ck_assert_show(log_lines(text) >= 2, text, "no log lines on stderr");
	free(text);
}
END_TEST

/* A tcase with the case's directory, each test's, and the file's timeout. */
static TCase *
systemd_tcase(Suite *s, const char *name)
{
	TCase	*tc = harness_add_tcase(s, name, setup, teardown, 90);

	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	return (tc);
}

static Suite *
systemd_suite(void)
{
	Suite	*s = suite_create("systemd");
	TCase	*tc;

	tc = systemd_tcase(s, "units");
	tcase_add_test(tc, test_installed_units_pass_systemd_analyze_verify);
	tcase_add_test(tc, test_installed_service_exposure_is_at_most_3);
	tcase_add_test(tc, test_socket_unit_config_and_ctl_agree_on_the_socket);
	tcase_add_test(tc, test_installed_config_is_valid);
	tcase_add_test(tc, test_reinstall_keeps_an_edited_config);
	tcase_add_test(tc, test_install_puts_the_man_pages_in_place);
	tcase_add_test(tc,
	    test_sysusers_and_tmpfiles_make_the_user_and_directories);

	tc = systemd_tcase(s, "socket activation");
	tcase_add_test(tc,
	    test_socket_activation_serves_the_passed_socket_and_keeps_it);
	tcase_add_test(tc, test_socket_activation_refuses_a_datagram_socket);
	tcase_add_test(tc, test_socket_activation_refuses_two_sockets);
	tcase_add_test(tc, test_children_get_home_but_not_systemds_variables);

	tc = systemd_tcase(s, "sd_notify");
	tcase_add_test(tc, test_notify_ready_once_listening_with_a_status_line);
	tcase_add_test(tc, test_notify_watchdog_keepalive_at_half_the_interval);
	tcase_add_test(tc,
	    test_notify_no_watchdog_when_it_is_for_another_process);
	tcase_add_test(tc, test_notify_sighup_is_reloading_then_ready);
	tcase_add_test(tc, test_notify_failed_reload_still_ends_with_ready);
	tcase_add_test(tc, test_notify_status_follows_the_sessions);
	tcase_add_test(tc, test_notify_sigterm_is_stopping_and_exit_zero);

	tc = systemd_tcase(s, "journal");
	tcase_add_test(tc, test_journal_stream_on_stderr_logs_to_the_journal);
	tcase_add_test(tc, test_without_journal_stream_lines_go_to_stderr);
	tcase_add_test(tc, test_journal_stream_of_another_file_keeps_stderr);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(systemd_suite()));
}
