/*
 * Children (daemon/child.c) as real processes: spawned with stdio on the
 * pipes, the environment and directory they are given, a command that
 * cannot run, killing the whole group, reaping, and adopting a process
 * started by hand. No event loop: the tests call child_reap themselves.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

/* How long a test waits for a child to answer or exit. */
#define WAIT_MS		5000

/* Freed by the teardown even if an assertion fails half-way. */
static struct child_list	*children;
static struct child		*child;
static char			 dir[] = "/tmp/test_child.XXXXXX";
static int			 made_dir;

/* What the exit callback saw. */
static int			 exits, exit_status;
static struct child		*exited;
static void			*exit_arg;

static void	setup(void);
static void	teardown(void);
static void	on_exit_cb(struct child *, int, void *);
static struct child *spawn(char *const *, char *const *, const char *);
static size_t	read_all(int, char *, size_t);
static size_t	read_line(int, char *, size_t);
static int	wait_exit(void);
static int	elapsed_ms(const struct timespec *);
static Suite	*child_suite(void);

/* A fresh list and nothing seen yet. */
static void
setup(void)
{
	children = child_list_new();
	child = NULL;
	made_dir = 0;
	exits = exit_status = 0;
	exited = NULL;
	exit_arg = NULL;
}

/* Kill and reap what a failed test left running. */
static void
teardown(void)
{
	if (child != NULL) {
		child_kill_group(child, SIGKILL);
		wait_exit();
		child_free(child);
	}
	child_list_free(children);
	if (made_dir)
		rmdir(dir);
}

/* Note the exit, as a session's callback would. */
static void
on_exit_cb(struct child *c, int status, void *arg)
{
	exits++;
	exit_status = status;
	exited = c;
	exit_arg = arg;
}

/* Spawn argv with env and cwd; the test owns it as child. */
static struct child *
spawn(char *const *argv, char *const *env, const char *cwd)
{
	struct child_spec	 spec;
	char			*cause = NULL;

	memset(&spec, 0, sizeof spec);
	spec.argv = argv;
	spec.env = env;
	spec.cwd = cwd;
	spec.join_fd = -1;
	child = child_spawn(children, &spec, on_exit_cb, &exits, &cause);
	ck_assert_msg(child != NULL, "child_spawn: %s", cause);
	return (child);
}

/* Milliseconds since start. */
static int
elapsed_ms(const struct timespec *start)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((int)((now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000));
}

/* Read fd until EOF or len - 1 bytes, within WAIT_MS; NUL-terminated. */
static size_t
read_all(int fd, char *buf, size_t len)
{
	struct timespec	 start;
	struct pollfd	 pfd;
	size_t		 have = 0;
	ssize_t		 n;
	int		 left;

	clock_gettime(CLOCK_MONOTONIC, &start);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (have < len - 1) {
		if ((left = WAIT_MS - elapsed_ms(&start)) <= 0)
			break;
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = read(fd, buf + have, len - 1 - have);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return (have);
}

/* Read fd up to a newline, one byte at a time; NUL-terminated. */
static size_t
read_line(int fd, char *buf, size_t len)
{
	struct pollfd	pfd;
	size_t		have = 0;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (have < len - 1) {
		if (poll(&pfd, 1, WAIT_MS) != 1 ||
		    read(fd, buf + have, 1) != 1)
			break;
		if (buf[have++] == '\n')
			break;
	}
	buf[have] = '\0';
	return (have);
}

/* Reap until the exit callback ran, within WAIT_MS; how many exits. */
static int
wait_exit(void)
{
	struct timespec	start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		child_reap(children);
		if (exits > 0 || elapsed_ms(&start) >= WAIT_MS)
			break;
		usleep(10000);
	}
	return (exits);
}

START_TEST(test_spawn_runs_the_command_with_stdio_on_the_pipes)
{
	char *const	 argv[] = { "/bin/cat", NULL };
	char		 buf[64];
	int		 in, out;

	spawn(argv, NULL, NULL);
	ck_assert_int_gt(child_pid(child), 0);
	ck_assert_uint_eq(child_list_count(children), 1);
	in = child_take_stdin(child);
	out = child_take_stdout(child);
	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	/* Taken once: the child no longer holds them. */
	ck_assert_int_eq(child_take_stdin(child), -1);
	ck_assert_int_eq(child_take_stdout(child), -1);

	ck_assert_int_eq(write(in, "hello\n", 6), 6);
	close(in);
	ck_assert_uint_eq(read_all(out, buf, sizeof buf), 6);
	ck_assert_str_eq(buf, "hello\n");
	close(out);

	ck_assert_int_eq(wait_exit(), 1);
	ck_assert(WIFEXITED(exit_status));
	ck_assert_int_eq(WEXITSTATUS(exit_status), 0);
}
END_TEST

START_TEST(test_spawn_runs_the_child_in_its_own_session_and_group)
{
	char *const	 argv[] = { "/bin/cat", NULL };
	char		 buf[64];
	int		 in, out;

	spawn(argv, NULL, NULL);
	in = child_take_stdin(child);
	out = child_take_stdout(child);
	/* An answer means it runs cat: setsid() was done before exec. */
	ck_assert_int_eq(write(in, "x\n", 2), 2);
	ck_assert_uint_eq(read_line(out, buf, sizeof buf), 2);
	ck_assert_int_eq(getpgid(child_pid(child)), child_pid(child));
	ck_assert_int_eq(getsid(child_pid(child)), child_pid(child));
	close(in);
	close(out);
}
END_TEST

START_TEST(test_a_configured_variable_replaces_a_base_one)
{
	char *const	 argv[] = { "/usr/bin/env", NULL };
	char *const	 env[] = { "HOME=/configured", "EXTRA=1", NULL };
	char		 buf[4096], *line, *save;
	int		 homes = 0, extras = 0, paths = 0, secrets = 0;

	setenv("HOME", "/from-the-daemon", 1);
	setenv("SECRET", "not passed", 1);
	spawn(argv, env, NULL);
	read_all(child_take_stdout(child), buf, sizeof buf);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "HOME=", 5) == 0) {
			ck_assert_str_eq(line, "HOME=/configured");
			homes++;
		} else if (strcmp(line, "EXTRA=1") == 0)
			extras++;
		else if (strncmp(line, "PATH=", 5) == 0)
			paths++;
		else if (strncmp(line, "SECRET=", 7) == 0)
			secrets++;
	}
	ck_assert_int_eq(homes, 1);
	ck_assert_int_eq(extras, 1);
	ck_assert_int_eq(paths, 1);
	ck_assert_int_eq(secrets, 0);
}
END_TEST

START_TEST(test_spawn_runs_the_command_in_cwd)
{
	char *const	 argv[] = { "/bin/pwd", "-P", NULL };
	char		 buf[PATH_MAX + 2], real[PATH_MAX + 1];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	made_dir = 1;
	ck_assert_ptr_nonnull(realpath(dir, real));
	strcat(real, "\n");
	spawn(argv, NULL, dir);
	read_all(child_take_stdout(child), buf, sizeof buf);
	ck_assert_str_eq(buf, real);
}
END_TEST

START_TEST(test_a_command_that_cannot_run_exits_127_and_says_why)
{
	char *const	 argv[] = { "/nonexistent/mcp-server", NULL };
	char		 buf[512];

	spawn(argv, NULL, NULL);
	read_all(child_take_stderr(child), buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf,
	    "cannot execute /nonexistent/mcp-server"));
	ck_assert_int_eq(wait_exit(), 1);
	ck_assert(WIFEXITED(exit_status));
	ck_assert_int_eq(WEXITSTATUS(exit_status), 127);
}
END_TEST

START_TEST(test_a_missing_cwd_exits_127_and_says_why)
{
	char *const	 argv[] = { "/bin/true", NULL };
	char		 buf[512];

	spawn(argv, NULL, "/nonexistent/dir");
	read_all(child_take_stderr(child), buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf,
	    "cannot change to directory /nonexistent/dir"));
	ck_assert_int_eq(wait_exit(), 1);
	ck_assert_int_eq(WEXITSTATUS(exit_status), 127);
}
END_TEST

START_TEST(test_kill_group_kills_a_grandchild_in_the_same_group)
{
	char *const	 argv[] = { "/bin/sh", "-c", "sleep 60 & echo $!; wait",
			     NULL };
	char		 buf[64];
	struct timespec	 start;
	pid_t		 grandchild;
	int		 out;

	/* Orphans come to us, as to the daemon, and are reaped here. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	spawn(argv, NULL, NULL);
	/* The pid line only: sleep holds stdout open. */
	out = child_take_stdout(child);
	read_line(out, buf, sizeof buf);
	close(out);
	grandchild = (pid_t)atoi(buf);
	ck_assert_int_gt(grandchild, 0);
	ck_assert_int_eq(kill(grandchild, 0), 0);

	ck_assert_int_eq(child_kill_group(child, SIGKILL), 0);
	ck_assert_int_eq(wait_exit(), 1);
	ck_assert(WIFSIGNALED(exit_status));
	ck_assert_int_eq(WTERMSIG(exit_status), SIGKILL);

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (kill(grandchild, 0) == 0 && elapsed_ms(&start) < WAIT_MS) {
		child_reap(children);
		usleep(10000);
	}
	ck_assert_int_eq(kill(grandchild, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
}
END_TEST

START_TEST(test_kill_tree_kills_a_tagged_orphan_in_a_session_of_its_own)
{
	char *const	 argv[] = { "/bin/sh", "-c", "setsid sleep 60 "
			     "</dev/null >/dev/null 2>&1 & echo $!", NULL };
	struct child_spec spec;
	char		 buf[64], *cause = NULL;
	struct timespec	 start;
	pid_t		 escaped, other;
	int		 out;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	/* A descendant without the tag, which must be left alone. */
	if ((other = fork()) == 0) {
		pause();
		_exit(0);
	}
	ck_assert_int_gt(other, 0);

	memset(&spec, 0, sizeof spec);
	spec.argv = argv;
	spec.tag = "t-1";
	spec.join_fd = -1;
	child = child_spawn(children, &spec, on_exit_cb, &exits, &cause);
	ck_assert_msg(child != NULL, "child_spawn: %s", cause);
	out = child_take_stdout(child);
	read_line(out, buf, sizeof buf);
	close(out);
	escaped = (pid_t)atoi(buf);
	ck_assert_int_gt(escaped, 0);
	/* The shell is gone: the escapee is an orphan in its own session. */
	ck_assert_int_eq(wait_exit(), 1);
	child_free(child);
	child = NULL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (getsid(escaped) != escaped && elapsed_ms(&start) < WAIT_MS)
		usleep(10000);
	ck_assert_int_eq(getsid(escaped), escaped);

	ck_assert_int_eq(child_kill_tree("t-1"), 1);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (kill(escaped, 0) == 0 && elapsed_ms(&start) < WAIT_MS) {
		child_reap(children);
		usleep(10000);
	}
	ck_assert_int_eq(kill(escaped, 0), -1);
	ck_assert_int_eq(kill(other, 0), 0);
	kill(other, SIGKILL);
	ck_assert_int_eq(waitpid(other, NULL, 0), other);
}
END_TEST

START_TEST(test_reap_reports_the_exit_status_to_the_callback)
{
	char *const	 argv[] = { "/bin/sh", "-c", "exit 3", NULL };
	char		*words;

	spawn(argv, NULL, NULL);
	ck_assert_int_eq(wait_exit(), 1);
	ck_assert_ptr_eq(exited, child);
	ck_assert_ptr_eq(exit_arg, &exits);
	ck_assert(WIFEXITED(exit_status));
	ck_assert_int_eq(WEXITSTATUS(exit_status), 3);
	words = child_describe_status(exit_status);
	ck_assert_str_eq(words, "exited with status 3");
	free(words);
	/* Reaped once: reaping again reports nothing more. */
	child_reap(children);
	ck_assert_int_eq(exits, 1);
	child_free(child);
	child = NULL;
	ck_assert_uint_eq(child_list_count(children), 0);
}
END_TEST

START_TEST(test_an_adopted_process_is_reaped_and_hands_over_its_fds)
{
	static int	 marker;
	char		 buf[64];
	int		 p[3][2], ours[3], i, in, out, err;
	pid_t		 pid;

	/* What a previous daemon left running: a group leader on pipes. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(pipe(p[i]), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		setpgid(0, 0);
		dup2(p[0][0], STDIN_FILENO);
		dup2(p[1][1], STDOUT_FILENO);
		dup2(p[2][1], STDERR_FILENO);
		for (i = 0; i < 3; i++) {
			close(p[i][0]);
			close(p[i][1]);
		}
		execl("/bin/sh", "sh", "-c",
		    "read x; echo \"got $x\"; echo oops >&2; exit 5", NULL);
		_exit(126);
	}
	close(p[0][0]);
	close(p[1][1]);
	close(p[2][1]);
	ours[0] = p[0][1];
	ours[1] = p[1][0];
	ours[2] = p[2][0];

	child = child_adopt(children, pid, ours, on_exit_cb, &marker);
	ck_assert_ptr_nonnull(child);
	ck_assert_int_eq(child_pid(child), pid);
	ck_assert_uint_eq(child_list_count(children), 1);
	in = child_take_stdin(child);
	out = child_take_stdout(child);
	err = child_take_stderr(child);
	ck_assert_int_eq(in, ours[0]);
	ck_assert_int_eq(out, ours[1]);
	ck_assert_int_eq(err, ours[2]);
	/* Like a spawned child's, they do not leak into later execs. */
	ck_assert(fcntl(out, F_GETFD) & FD_CLOEXEC);

	ck_assert_int_eq(write(in, "hi\n", 3), 3);
	close(in);
	read_all(out, buf, sizeof buf);
	ck_assert_str_eq(buf, "got hi\n");
	read_all(err, buf, sizeof buf);
	ck_assert_str_eq(buf, "oops\n");
	close(out);
	close(err);

	ck_assert_int_eq(wait_exit(), 1);
	ck_assert_ptr_eq(exited, child);
	ck_assert_ptr_eq(exit_arg, &marker);
	ck_assert(WIFEXITED(exit_status));
	ck_assert_int_eq(WEXITSTATUS(exit_status), 5);
}
END_TEST

static Suite *
child_suite(void)
{
	Suite	*s = suite_create("child");
	TCase	*tc = tcase_create("child");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_spawn_runs_the_command_with_stdio_on_the_pipes);
	tcase_add_test(tc,
	    test_spawn_runs_the_child_in_its_own_session_and_group);
	tcase_add_test(tc, test_a_configured_variable_replaces_a_base_one);
	tcase_add_test(tc, test_spawn_runs_the_command_in_cwd);
	tcase_add_test(tc,
	    test_a_command_that_cannot_run_exits_127_and_says_why);
	tcase_add_test(tc, test_a_missing_cwd_exits_127_and_says_why);
	tcase_add_test(tc,
	    test_kill_group_kills_a_grandchild_in_the_same_group);
	tcase_add_test(tc,
	    test_kill_tree_kills_a_tagged_orphan_in_a_session_of_its_own);
	tcase_add_test(tc, test_reap_reports_the_exit_status_to_the_callback);
	tcase_add_test(tc,
	    test_an_adopted_process_is_reaped_and_hands_over_its_fds);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(child_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
