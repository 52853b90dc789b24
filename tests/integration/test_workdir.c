/*
 * A private directory per session, through the real daemon: each thread's
 * child runs in its own directory under <state_dir>/<instance>/sessions,
 * told by MCP_BROKER_SESSION_DIR; the directory goes however the session ends
 * and whatever a predecessor left is removed at start; ${thread} and
 * ${session_dir} reach argv expanded.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "harness.h"
#include "xmalloc.h"

/* How long a test waits for a session directory to go. */
#define WAIT_GONE_MS	10000

/* A fake server with a session directory, in the daemon's own state_dir. */
#define BROKER_STATE	"\"state_dir\":\"@DIR@/state\""
#define SERVER_WD	"\"x\":{\"command\":\"@FAKE@\",\"args\":[\"--env-tool\"]," \
			"\"session_dir\":true}"

static char	*cwd_of(struct client *, const char *);
static int	 is_dir(const char *);
static int	 wait_gone(const char *, int);
static void	 make_file(const char *);
static int	 check_config(const char *, char **);
static Suite	*workdir_suite(void);

/* The working directory the child of (x, thread) reports (caller frees). */
static char *
cwd_of(struct client *c, const char *thread)
{
	cJSON	*r;
	char	*cwd;

	r = tool_call(c, "x", thread, "cwd", NULL);
	cwd = xstrdup(json_string(result_of(r), "structuredContent.cwd"));
	cJSON_Delete(r);
	return (cwd);
}

/* Whether path is a directory (not through a symlink). */
static int
is_dir(const char *path)
{
	struct stat	sb;

	return (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
}

/* Wait up to ms for nothing to be at path; whether it went. */
static int
wait_gone(const char *path, int ms)
{
	struct stat	sb;
	long		deadline = now_ms() + ms;

	while (lstat(path, &sb) == 0) {
		if (now_ms() > deadline)
			return (0);
		sleep_ms(20);
	}
	return (1);
}

/* Create a small file at path. */
static void
make_file(const char *path)
{
	int	fd;

	ck_assert_msg((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) !=
	    -1, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, "x\n", 2), 2);
	close(fd);
}

START_TEST(test_threads_get_their_own_directory)
{
	struct daemon	*d;
	struct client	*c;
	struct stat	 sb;
	cJSON		*r;
	char		*one, *two, base[PATH_MAX];

	d = daemon_start(BROKER_STATE, SERVER_WD);
	c = daemon_connect(d);
	one = cwd_of(c, "t1");
	two = cwd_of(c, "t2");
	ck_assert_str_ne(one, two);
	/* <state_dir>/<this daemon's, after its socket>/sessions/<id> */
	snprintf(base, sizeof base, "%s/state/mcp-broker.", d->dir);
	ck_assert_msg(strncmp(one, base, strlen(base)) == 0, "%s", one);
	snprintf(base, sizeof base, "%.*s/sessions/", (int)(strrchr(one, '/') -
	    one - strlen("/sessions")), one);
	ck_assert_msg(strncmp(one, base, strlen(base)) == 0, "%s", one);
	ck_assert_msg(strncmp(two, base, strlen(base)) == 0, "%s", two);
	/* Named by the session id, never by the thread. */
	r = tool_call(c, "x", "t1", "env", NULL);
	ck_assert_str_eq(json_string(result_of(r),
	    "structuredContent.env.MCP_BROKER_SESSION_DIR"), one);
	ck_assert_str_eq(one + strlen(base), session_id_of(r));
	cJSON_Delete(r);
	ck_assert_int_eq(lstat(one, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 07777, 0700);
	ck_assert_uint_eq(sb.st_uid, geteuid());
	free(one);
	free(two);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

START_TEST(test_explicit_cwd_wins_but_directory_is_made)
{
	struct daemon	*d;
	struct client	*c;
	cJSON		*r;
	char		*cwd;
	const char	*dir;

	d = daemon_start(BROKER_STATE, "\"x\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--env-tool\"],\"session_dir\":true,\"cwd\":\"/\"}");
	c = daemon_connect(d);
	cwd = cwd_of(c, "t1");
	ck_assert_str_eq(cwd, "/");
	r = tool_call(c, "x", "t1", "env", NULL);
	dir = json_string(result_of(r),
	    "structuredContent.env.MCP_BROKER_SESSION_DIR");
	ck_assert(is_dir(dir));
	cJSON_Delete(r);
	free(cwd);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

START_TEST(test_thread_and_session_dir_reach_argv)
{
	struct daemon	*d;
	struct client	*c;
	cJSON		*r, *argv;
	char		*cwd, *want;
	const char	*thread = "t 1;$(touch x)${session_dir}";

	d = daemon_start(BROKER_STATE, "\"x\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--env-tool\",\"--arg\",\"${thread}\",\"--arg\","
	    "\"${session_dir}/out\",\"--arg\",\"${server}:${session_id}\","
	    "\"--arg\",\"$${thread}\"],\"session_dir\":true}");
	c = daemon_connect(d);
	cwd = cwd_of(c, thread);
	r = tool_call(c, "x", thread, "argv", NULL);
	argv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    result_of(r), "structuredContent"), "argv");
	ck_assert_int_eq(cJSON_GetArraySize(argv), 10);
	ck_assert_str_eq(cJSON_GetArrayItem(argv, 3)->valuestring, thread);
	xasprintf(&want, "%s/out", cwd);
	ck_assert_str_eq(cJSON_GetArrayItem(argv, 5)->valuestring, want);
	free(want);
	xasprintf(&want, "x:%s", session_id_of(r));
	ck_assert_str_eq(cJSON_GetArrayItem(argv, 7)->valuestring, want);
	free(want);
	ck_assert_str_eq(cJSON_GetArrayItem(argv, 9)->valuestring,
	    "${thread}");
	cJSON_Delete(r);
	free(cwd);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

START_TEST(test_directory_goes_at_close)
{
	struct daemon	*d;
	struct client	*c;
	char		*dir, *other, path[PATH_MAX];

	d = daemon_start(BROKER_STATE, SERVER_WD);
	c = daemon_connect(d);
	dir = cwd_of(c, "t1");
	other = cwd_of(c, "t2");
	snprintf(path, sizeof path, "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/sub/file", dir);
	make_file(path);
	ck_assert(is_dir(dir));
	ck_assert_int_eq(close_sessions(c,
	    "{\"server\":\"x\",\"thread\":\"t1\"}"), 1);
	ck_assert_msg(wait_gone(dir, WAIT_GONE_MS), "%s is still there", dir);
	ck_assert(is_dir(other));
	free(dir);
	free(other);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

START_TEST(test_directory_goes_at_idle_expiry)
{
	struct daemon	*d;
	struct client	*c;
	char		*dir;

	d = daemon_start(BROKER_STATE ",\"idle_timeout_s\":1", SERVER_WD);
	c = daemon_connect(d);
	dir = cwd_of(c, "t1");
	ck_assert(is_dir(dir));
	ck_assert_msg(wait_gone(dir, WAIT_GONE_MS), "%s is still there", dir);
	free(dir);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

START_TEST(test_directory_goes_at_eviction)
{
	struct daemon	*d;
	struct client	*c;
	char		*one, *two;

	d = daemon_start(BROKER_STATE ",\"max_sessions\":1", SERVER_WD);
	c = daemon_connect(d);
	one = cwd_of(c, "t1");
	two = cwd_of(c, "t2");
	ck_assert_msg(wait_gone(one, WAIT_GONE_MS), "%s is still there", one);
	ck_assert(is_dir(two));
	free(one);
	free(two);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

START_TEST(test_directory_goes_when_child_crashes)
{
	struct daemon	*d;
	struct client	*c;
	cJSON		*r;
	char		*dir;

	d = daemon_start(BROKER_STATE, SERVER_WD);
	c = daemon_connect(d);
	dir = cwd_of(c, "t1");
	r = tool_call(c, "x", "t1", "crash", NULL);
	ck_assert_int_eq(error_code(r), RPC_SESSION_LOST);
	cJSON_Delete(r);
	ck_assert_msg(wait_gone(dir, WAIT_GONE_MS), "%s is still there", dir);
	free(dir);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

START_TEST(test_directory_goes_at_daemon_exit_and_symlink_target_stays)
{
	struct daemon	*d;
	struct client	*c;
	char		 outside[] = "/tmp/mcpb-wd-outside.XXXXXX";
	char		 state[] = "/tmp/mcpb-wd-state.XXXXXX";
	char		 secret[PATH_MAX], link[PATH_MAX], config[PATH_MAX];
	char		*dir, *base;

	ck_assert_ptr_nonnull(mkdtemp(outside));
	ck_assert_ptr_nonnull(mkdtemp(state));
	snprintf(secret, sizeof secret, "%s/secret", outside);
	make_file(secret);
	snprintf(config, sizeof config, "\"state_dir\":\"%s\"", state);
	d = daemon_start(config, SERVER_WD);
	c = daemon_connect(d);
	dir = cwd_of(c, "t1");
	snprintf(link, sizeof link, "%s/planted", dir);
	ck_assert_int_eq(symlink(outside, link), 0);
	client_close(c);
	daemon_stop_ok(d);
	ck_assert_msg(!is_dir(dir), "%s is still there", dir);
	ck_assert(is_dir(outside));
	ck_assert_int_eq(access(secret, F_OK), 0);
	unlink(secret);
	rmdir(outside);
	/* Left: <state>/<instance>/sessions, empty. */
	base = xstrdup(dir);
	*strrchr(base, '/') = '\0';
	ck_assert_int_eq(rmdir(base), 0);
	*strrchr(base, '/') = '\0';
	ck_assert_int_eq(rmdir(base), 0);
	ck_assert_int_eq(rmdir(state), 0);
	free(base);
	free(dir);
}
END_TEST

START_TEST(test_leftovers_of_a_killed_predecessor_go_at_start)
{
	struct daemon	*d, *other;
	struct client	*c;
	char		 state[] = "/tmp/mcpb-wd-state.XXXXXX";
	char		 path[PATH_MAX], config[PATH_MAX + 64];
	char		*dir, *sessions, *mine;
	int		 status;

	/* One daemon's directory, left behind by SIGKILL. */
	ck_assert_ptr_nonnull(mkdtemp(state));
	snprintf(config, sizeof config, "\"state_dir\":\"%s\"", state);
	d = daemon_start(config, SERVER_WD);
	c = daemon_connect(d);
	dir = cwd_of(c, "t1");
	client_close(c);
	kill(d->pid, SIGKILL);
	ck_assert_int_eq(waitpid(d->pid, &status, 0), d->pid);
	ck_assert(is_dir(dir));
	/* And one made by hand, with something inside. */
	sessions = xstrdup(dir);
	*strrchr(sessions, '/') = '\0';
	snprintf(path, sizeof path, "%s/old-1", sessions);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/old-1/file", sessions);
	make_file(path);

	/* A daemon on another socket with the same state_dir leaves them. */
	other = daemon_start(config, SERVER_WD);
	c = daemon_connect(other);
	mine = cwd_of(c, "t1");
	client_close(c);
	ck_assert_str_ne(mine, dir);
	ck_assert(is_dir(dir));
	daemon_stop_ok(other);
	ck_assert(is_dir(dir));
	free(mine);

	/* The same socket's next daemon removes them. */
	daemon_restart(d);
	ck_assert_msg(wait_gone(dir, WAIT_GONE_MS), "%s is still there", dir);
	snprintf(path, sizeof path, "%s/old-1", sessions);
	ck_assert_msg(wait_gone(path, WAIT_GONE_MS), "%s is still there",
	    path);
	ck_assert(wait_log(d, WAIT_GONE_MS, "removed 2 session directories "
	    "left by a previous instance", NULL));
	daemon_stop_ok(d);
	snprintf(path, sizeof path, "rm -rf '%s'", state);
	ck_assert_int_eq(system(path), 0);
	free(sessions);
	free(dir);
}
END_TEST

START_TEST(test_state_dir_that_cannot_be_made_fails_the_start)
{
	struct daemon	*d;
	struct client	*c;
	cJSON		*r;
	char		 broker[PATH_MAX], want[PATH_MAX];

	/* A regular file where the state directory should be. */
	d = daemon_start("\"state_dir\":\"@DIR@/broker.json\"", SERVER_WD);
	c = daemon_connect(d);
	r = tool_call(c, "x", "t1", "cwd", NULL);
	ck_assert_int_eq(error_code(r), RPC_START_FAILED);
	snprintf(want, sizeof want, "cannot create %s/broker.json: %s",
	    d->dir, strerror(ENOTDIR));
	ck_assert_msg(strstr(json_string(r, "error.message"), want) != NULL,
	    "%s", json_string(r, "error.message"));
	cJSON_Delete(r);
	snprintf(broker, sizeof broker, "broker.state_dir: cannot create "
	    "%s/broker.json", d->dir);
	ck_assert(log_count(d, broker, NULL) == 1);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

/*
 * Run mcp-brokerd --check-config on a config text; its exit status (as
 * from waitpid) and what it printed (caller frees).
 */
static int
check_config(const char *text, char **out)
{
	char	 dir[] = "/tmp/mcpb-wd.XXXXXX", path[300], buf[4096];
	FILE	*f, *mem;
	size_t	 size = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/broker.json", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execl(harness_build_path("mcp-brokerd"), "mcp-brokerd",
		    "--check-config", "--config", path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	ck_assert_ptr_nonnull(mem = open_memstream(out, &size));
	while ((n = read(p[0], buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, mem);
	fclose(mem);
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(path);
	rmdir(dir);
	return (status);
}

START_TEST(test_check_config_names_bad_expansions)
{
	char	*text, *out;
	int	 status;

	unsetenv("foo");
	xasprintf(&text, "{\"mcpServers\":{\"x\":{\"command\":\"%s\","
	    "\"args\":[\"--arg\",\"${thread}\",\"${foo}\",\"${session_dir}\"],"
	    "\"env\":{\"A\":\"${thread\"}}}}", harness_fake_mcp());
	status = check_config(text, &out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "%s",
	    out);
	ck_assert_msg(strstr(out, "mcpServers.x.args[2]: ${foo} is not set "
	    "in the daemon's environment") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "mcpServers.x.args[3]: ${session_dir} "
	    "needs \"session_dir\": true in this server") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "mcpServers.x.env.A: unterminated") != NULL,
	    "%s", out);
	free(out);
	free(text);
}
END_TEST

START_TEST(test_reload_restarts_sessions_when_session_dir_changes)
{
	struct daemon	*d;
	struct client	*c;
	cJSON		*r;
	char		*text, *dir;

	d = daemon_start(BROKER_STATE, SERVER_WD);
	c = daemon_connect(d);
	dir = cwd_of(c, "t1");
	text = config_text(BROKER_STATE, "\"x\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--env-tool\"]}");
	daemon_write_config(d, text);
	free(text);
	r = rpc(c, "broker/reload", NULL);
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    result_of(r), "changed"), 0)->valuestring, "x");
	cJSON_Delete(r);
	ck_assert_msg(wait_gone(dir, WAIT_GONE_MS), "%s is still there", dir);
	free(dir);
	client_close(c);
	daemon_stop_ok(d);
}
END_TEST

/* The suite. */
static Suite *
workdir_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("workdir");
	tc = harness_add_tcase(s, "session directories", NULL, NULL, 60);
	tcase_add_test(tc, test_threads_get_their_own_directory);
	tcase_add_test(tc, test_explicit_cwd_wins_but_directory_is_made);
	tcase_add_test(tc, test_thread_and_session_dir_reach_argv);
	tcase_add_test(tc, test_directory_goes_at_close);
	tcase_add_test(tc, test_directory_goes_at_idle_expiry);
	tcase_add_test(tc, test_directory_goes_at_eviction);
	tcase_add_test(tc, test_directory_goes_when_child_crashes);
	tcase_add_test(tc,
	    test_directory_goes_at_daemon_exit_and_symlink_target_stays);
	tcase_add_test(tc, test_leftovers_of_a_killed_predecessor_go_at_start);
	tcase_add_test(tc, test_state_dir_that_cannot_be_made_fails_the_start);
	tcase_add_test(tc, test_check_config_names_bad_expansions);
	tcase_add_test(tc,
	    test_reload_restarts_sessions_when_session_dir_changes);
	return (s);
}

/* Run the suite. */
int
main(void)
{
	return (harness_run_suite(workdir_suite()));
}
