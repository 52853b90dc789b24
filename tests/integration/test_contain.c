/*
 * Containment: nothing a session started outlives it. The fixture's
 * child starts a grandchild that escapes the way a detached Node child
 * does (setsid(), SIGTERM ignored, fake-mcp --escapee), and each test
 * asserts that grandchild is gone after broker/close, after the child
 * exits on its own, after the daemon's SIGTERM exit and after a double
 * SIGTERM. Every test runs twice: with a cgroup per session (broker.cgroup
 * "auto", on this host's writable cgroup2) and with "off" (descendants
 * found by process tree). With cgroups, a daemon killed with SIGKILL
 * leaves its sessions' cgroups behind, and the next one on the same
 * socket kills and removes them.
 *
 * Without a writable cgroup2 the cgroup half says why and passes, unless
 * MCPB_REQUIRE_CGROUP=1.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* Each step of the close escalation in the fixture's config. */
#define GRACE_MS	300
/* How long a test waits for processes and cgroups to go. */
#define GONE_MS		5000
/* The limits the fixture's "limited" server sets. */
#define MEMORY_MAX	"67108864"
#define PIDS_MAX	"64"

/*
 * An assertion that first kills and removes what the test left: a failed
 * check ends the test's process at once, without its teardown.
 */
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		leftovers();						\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

static struct daemon	*d;
static const char	*mode;		/* broker.cgroup */
static int		 skip;		/* no cgroups here: say so, pass */
static char		 base[PATH_MAX];	/* the daemon's, or "" */
static pid_t		 escapee;	/* killed at the end if still there */

static struct daemon *start(const char *);
static char	*servers(void);
static void	 setup_cgroup(void);
static void	 setup_off(void);
static void	 setup(void);
static void	 teardown(void);
static void	 leftovers(void);
static void	 find_base(void);
static pid_t	 wait_escapee(struct daemon *);
static char	*session_dir(const char *);
static int	 dir_exists(const char *);
static int	 wait_dir_gone(const char *, int);
static int	 procs_has(const char *, pid_t);
static int	 mkdir_in(const char *, const char *);
static void	 remove_cgroups(const char *);
static int	 with_cgroups(void);
static void	 forget(struct daemon *);

/* The servers: one whose child starts an escapee, one with limits. */
static char *
servers(void)
{
	char	*s;

	xasprintf(&s, "\"esc\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--escapee\",\"@DIR@/escapee.pid\"]},"
	    "\"stubborn\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--ignore-term\",\"--escapee\",\"@DIR@/escapee.pid\"]},"
	    "\"limited\":{\"command\":\"@FAKE@\",\"memory_max\":" MEMORY_MAX
	    ",\"pids_max\":" PIDS_MAX "}");
	return (s);
}

/* A daemon with the fixture's servers and socket (NULL: its own). */
static struct daemon *
start(const char *socket)
{
	struct daemon	*nd;
	char		*srv, *text;

	srv = servers();
	xasprintf(&text, "{\"broker\":{\"socket\":\"%s\","
	    "\"shutdown_grace_ms\":%d,\"cgroup\":\"%s\"},"
	    "\"mcpServers\":{%s}}", socket != NULL ? socket : "@SOCK@",
	    GRACE_MS, mode, srv);
	nd = daemon_start_config(text);
	free(text);
	free(srv);
	return (nd);
}

/* With a cgroup per session, on this host's cgroup2. */
static void
setup_cgroup(void)
{
	mode = "auto";
	setup();
}

/* With broker.cgroup "off": descendants are found by process tree. */
static void
setup_off(void)
{
	mode = "off";
	setup();
}

/* Start the daemon and learn which containment it uses. */
static void
setup(void)
{
	skip = 0;
	base[0] = '\0';
	escapee = 0;
	atexit(leftovers);
	d = start(NULL);
	ck_assert_msg(wait_log(d, GONE_MS, "containment: ", NULL),
	    "no containment line in the log");
	find_base();
	if (strcmp(mode, "off") == 0) {
		ck_assert_msg(base[0] == '\0', "cgroup \"off\" made %s", base);
		ck_assert_int_eq(log_count(d, "containment: off: descendants "
		    "are killed by process tree", NULL), 1);
		return;
	}
	if (base[0] == '\0') {
		daemon_dump_log(d);
		ck_assert_msg(getenv("MCPB_REQUIRE_CGROUP") == NULL ||
		    strcmp(getenv("MCPB_REQUIRE_CGROUP"), "1") != 0,
		    "MCPB_REQUIRE_CGROUP=1 but the daemon found no usable "
		    "cgroup2 (its containment line is in the log above)");
		fprintf(stderr, "test_contain: SKIPPED the cgroup half: no "
		    "writable cgroup2 here (the daemon's containment line is "
		    "in the log above)\n");
		skip = 1;
	}
}

/* Stop the daemon; kill and remove whatever the test left. */
static void
teardown(void)
{
	if (d != NULL)
		daemon_stop_ok(d);
	d = NULL;
	leftovers();
}

/*
 * Kill the escapee and remove the cgroups if they are still there. Also
 * at exit: a failed assertion ends the test's process without teardown.
 */
static void
leftovers(void)
{
	if (d != NULL && d->pid > 0 && daemon_alive(d))
		kill(d->pid, SIGKILL);
	if (escapee > 0 && pid_alive(escapee))
		kill(escapee, SIGKILL);
	escapee = 0;
	if (base[0] != '\0')
		remove_cgroups(base);
	base[0] = '\0';
}

/* The base of session cgroups from the daemon's containment line. */
static void
find_base(void)
{
	const char	*needle = "containment: cgroup ";
	FILE		*f;
	char		*line = NULL, *p;
	size_t		 size = 0;

	base[0] = '\0';
	ck_assert_ptr_nonnull(f = fopen(d->log, "r"));
	while (getline(&line, &size, f) != -1) {
		if ((p = strstr(line, needle)) == NULL)
			continue;
		p += strlen(needle);
		snprintf(base, sizeof base, "%.*s", (int)strcspn(p, " \n"), p);
	}
	free(line);
	fclose(f);
}

/* Clean up after a daemon that exited and was reaped; frees it. */
static void
forget(struct daemon *nd)
{
	char	*cmd;

	xasprintf(&cmd, "rm -rf '%s'", nd->dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(nd);
}

/* Whether this run has cgroups. */
static int
with_cgroups(void)
{
	return (base[0] != '\0');
}

/* The escapee's pid, once the fixture wrote it in nd's directory. */
static pid_t
wait_escapee(struct daemon *nd)
{
	char	 path[PATH_MAX];
	long	 deadline = now_ms() + GONE_MS;
	FILE	*f;
	long	 pid = 0;

	snprintf(path, sizeof path, "%s/escapee.pid", nd->dir);
	while ((f = fopen(path, "r")) == NULL) {
		ck_assert_msg(now_ms() < deadline, "no %s", path);
		sleep_ms(10);
	}
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	ck_assert_int_gt(pid, 0);
	ck_assert_msg(pid_alive((pid_t)pid), "the escapee is not running");
	/* It is in a session of its own, not the child's group. */
	ck_assert_int_eq(getsid((pid_t)pid), (pid_t)pid);
	escapee = (pid_t)pid;
	return ((pid_t)pid);
}

/* The cgroup directory of session id (caller frees). */
static char *
session_dir(const char *id)
{
	char	*path;

	xasprintf(&path, "%s/session-%s", base, id);
	return (path);
}

/* Whether path is a directory. */
static int
dir_exists(const char *path)
{
	struct stat	st;

	return (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

/* Wait up to ms for the directory path to go; 1 if it did. */
static int
wait_dir_gone(const char *path, int ms)
{
	long	deadline = now_ms() + ms;

	while (dir_exists(path)) {
		if (now_ms() > deadline)
			return (0);
		sleep_ms(10);
	}
	return (1);
}

/* Whether pid is listed in the cgroup.procs of the cgroup dir. */
static int
procs_has(const char *dir, pid_t pid)
{
	char	 path[PATH_MAX];
	FILE	*f;
	long	 p;
	int	 found = 0;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while (fscanf(f, "%ld", &p) == 1) {
		if ((pid_t)p == pid)
			found = 1;
	}
	fclose(f);
	return (found);
}

/* Whether a directory name can be made in the cgroup dir. */
static int
mkdir_in(const char *dir, const char *name)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (mkdir(path, 0755) == -1)
		return (0);
	rmdir(path);
	return (1);
}

/* Kill and remove every session cgroup under dir, then dir. */
static void
remove_cgroups(const char *dir)
{
	DIR		*dp;
	struct dirent	*de;
	char		 path[PATH_MAX + 300];
	FILE		*f;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, "session-", 8) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s/cgroup.kill", dir,
		    de->d_name);
		if ((f = fopen(path, "w")) != NULL) {
			fputs("1", f);
			fclose(f);
		}
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		wait_dir_gone(path, 0);
		for (int i = 0; i < 100 && rmdir(path) == -1 &&
		    errno == EBUSY; i++)
			sleep_ms(10);
	}
	closedir(dp);
	rmdir(dir);
}

START_TEST(test_a_setsid_grandchild_goes_with_broker_close)
{
	struct client	*c;
	cJSON		*r;
	char		*dir = NULL;
	pid_t		 child, esc;

	if (skip)
		return;
	c = daemon_connect(d);
	r = tool_call(c, "esc", "t", "pid", NULL);
	child = pid_of(r);
	esc = wait_escapee(d);
	if (with_cgroups()) {
		/* The session's cgroup holds the child and what it started. */
		dir = session_dir(session_id_of(r));
		CHECK(dir_exists(dir), "no cgroup %s", dir);
		CHECK(procs_has(dir, child), "child %ld is not in %s",
		    (long)child, dir);
		CHECK(procs_has(dir, esc), "escapee %ld is not in %s",
		    (long)esc, dir);
		/* It may not nest cgroups that would outlive the kill. */
		CHECK(!mkdir_in(dir, "nested"), "a cgroup could be nested "
		    "in %s", dir);
	}
	cJSON_Delete(r);

	ck_assert_int_eq(close_sessions(c, "{\"all\":true}"), 1);
	CHECK(wait_pid_gone(esc, GONE_MS), "escapee %ld survived "
	    "broker/close", (long)esc);
	CHECK(wait_pid_gone(child, GONE_MS), "child %ld survived broker/close",
	    (long)child);
	if (dir != NULL)
		CHECK(wait_dir_gone(dir, GONE_MS), "cgroup %s is "
		    "still there after broker/close", dir);
	free(dir);
	client_close(c);
}
END_TEST

START_TEST(test_a_setsid_grandchild_goes_when_the_child_exits_on_its_own)
{
	struct client	*c;
	cJSON		*r;
	char		*dir = NULL;
	pid_t		 esc;

	if (skip)
		return;
	c = daemon_connect(d);
	r = tool_call(c, "esc", "t", "pid", NULL);
	esc = wait_escapee(d);
	if (with_cgroups())
		dir = session_dir(session_id_of(r));
	cJSON_Delete(r);

	r = tool_call(c, "esc", "t", "crash", NULL);
	ck_assert_int_eq(error_code(r), -32012);
	cJSON_Delete(r);
	CHECK(wait_pid_gone(esc, GONE_MS), "escapee %ld survived its "
	    "session's child", (long)esc);
	if (dir != NULL)
		CHECK(wait_dir_gone(dir, GONE_MS), "cgroup %s is "
		    "still there after the child exited", dir);
	free(dir);
	client_close(c);
}
END_TEST

START_TEST(test_a_setsid_grandchild_goes_with_the_daemons_exit)
{
	struct client	*c;
	cJSON		*r;
	pid_t		 esc;

	if (skip)
		return;
	c = daemon_connect(d);
	r = tool_call(c, "esc", "t", "pid", NULL);
	cJSON_Delete(r);
	esc = wait_escapee(d);
	client_close(c);

	daemon_stop_ok(d);
	d = NULL;
	CHECK(wait_pid_gone(esc, GONE_MS), "escapee %ld survived the "
	    "daemon's exit", (long)esc);
	if (with_cgroups())
		CHECK(!dir_exists(base), "%s is still there after "
		    "the daemon exited", base);
}
END_TEST

START_TEST(test_a_setsid_grandchild_goes_with_a_double_sigterm)
{
	struct client	*c;
	cJSON		*r;
	pid_t		 child, esc;
	long		 t0;
	int		 status;

	if (skip)
		return;
	c = daemon_connect(d);
	/* A child that ignores stdin's end and SIGTERM: the close is slow. */
	r = tool_call(c, "stubborn", "t", "pid", NULL);
	child = pid_of(r);
	cJSON_Delete(r);
	esc = wait_escapee(d);
	client_close(c);

	t0 = now_ms();
	kill(d->pid, SIGTERM);
	ck_assert(wait_log(d, GONE_MS, "shutting down", NULL));
	kill(d->pid, SIGTERM);
	ck_assert_int_eq(waitpid(d->pid, &status, 0), d->pid);
	/* At once: the stubborn child ignores both stdin's end and
	   SIGTERM, so without the second signal the daemon could not be
	   gone before the escalation's SIGKILL, 2 x GRACE_MS after the
	   first. */
	CHECK(now_ms() - t0 < 2 * GRACE_MS, "the second SIGTERM took %ld "
	    "ms", now_ms() - t0);
	CHECK(wait_pid_gone(esc, GONE_MS), "escapee %ld survived a "
	    "double SIGTERM", (long)esc);
	CHECK(wait_pid_gone(child, GONE_MS), "child %ld survived a "
	    "double SIGTERM", (long)child);
	forget(d);
	d = NULL;
}
END_TEST

START_TEST(test_a_restarted_daemon_kills_what_a_killed_one_left)
{
	struct client	*c;
	cJSON		*r;
	char		*dir;
	pid_t		 esc;
	int		 status;

	if (skip)
		return;
	c = daemon_connect(d);
	r = tool_call(c, "esc", "t", "pid", NULL);
	dir = session_dir(session_id_of(r));
	cJSON_Delete(r);
	esc = wait_escapee(d);
	client_close(c);

	/* SIGKILL: nothing runs in the daemon; the escapee stays. */
	kill(d->pid, SIGKILL);
	ck_assert_int_eq(waitpid(d->pid, &status, 0), d->pid);
	sleep_ms(100);
	CHECK(pid_alive(esc), "the escapee died with the daemon; nothing is "
	    "left to test");
	CHECK(dir_exists(dir), "no cgroup %s", dir);

	/* A new daemon with the same config (so the same socket). */
	daemon_restart(d);
	CHECK(wait_pid_gone(esc, GONE_MS), "escapee %ld survived the "
	    "restart", (long)esc);
	CHECK(wait_dir_gone(dir, GONE_MS), "%s is still there after "
	    "the restart", dir);
	CHECK(wait_log(d, GONE_MS, "removed 1 session cgroups", NULL),
	    "no log line for the removed cgroup");
	free(dir);
}
END_TEST

START_TEST(test_limits_the_host_cannot_apply_are_warnings_naming_the_key)
{
	struct client	*c;
	cJSON		*r;
	char		 path[PATH_MAX + 300], have[256] = "";
	char		*dir;
	FILE		*f;

	if (skip)
		return;
	c = daemon_connect(d);
	r = tool_call(c, "limited", "t", "pid", NULL);
	ck_assert_ptr_nonnull(result_of(r));
	if (with_cgroups()) {
		snprintf(path, sizeof path, "%s/cgroup.controllers", base);
		if ((f = fopen(path, "r")) != NULL) {
			if (fgets(have, sizeof have, f) == NULL)
				have[0] = '\0';
			fclose(f);
		}
	}
	dir = with_cgroups() ? session_dir(session_id_of(r)) : NULL;
	cJSON_Delete(r);

	if (dir != NULL && strstr(have, "memory") != NULL) {
		snprintf(path, sizeof path, "%s/memory.max", dir);
		ck_assert(file_contains(path, MEMORY_MAX));
	} else
		CHECK(wait_log(d, GONE_MS, "warning", "server limited",
		    "memory_max not applied", NULL), "no warning names "
		    "memory_max");
	if (dir != NULL && strstr(have, "pids") != NULL) {
		snprintf(path, sizeof path, "%s/pids.max", dir);
		ck_assert(file_contains(path, PIDS_MAX));
	} else
		CHECK(wait_log(d, GONE_MS, "warning", "server limited",
		    "pids_max not applied", NULL), "no warning names "
		    "pids_max");
	free(dir);
	client_close(c);
}
END_TEST

/* Both halves: the same behaviour with and without cgroups. */
static Suite *
contain_suite(void)
{
	Suite	*s = suite_create("contain");
	TCase	*tc;

	tc = harness_add_tcase(s, "cgroup", setup_cgroup, teardown, 60);
	tcase_add_test(tc, test_a_setsid_grandchild_goes_with_broker_close);
	tcase_add_test(tc,
	    test_a_setsid_grandchild_goes_when_the_child_exits_on_its_own);
	tcase_add_test(tc, test_a_setsid_grandchild_goes_with_the_daemons_exit);
	tcase_add_test(tc, test_a_setsid_grandchild_goes_with_a_double_sigterm);
	tcase_add_test(tc,
	    test_a_restarted_daemon_kills_what_a_killed_one_left);
	tcase_add_test(tc,
	    test_limits_the_host_cannot_apply_are_warnings_naming_the_key);

	tc = harness_add_tcase(s, "off", setup_off, teardown, 60);
	tcase_add_test(tc, test_a_setsid_grandchild_goes_with_broker_close);
	tcase_add_test(tc,
	    test_a_setsid_grandchild_goes_when_the_child_exits_on_its_own);
	tcase_add_test(tc, test_a_setsid_grandchild_goes_with_the_daemons_exit);
	tcase_add_test(tc, test_a_setsid_grandchild_goes_with_a_double_sigterm);
	tcase_add_test(tc,
	    test_limits_the_host_cannot_apply_are_warnings_naming_the_key);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(contain_suite()));
}
