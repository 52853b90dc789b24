/*
 * What clients and children say cannot be a weapon: a value from either
 * reaches the daemon's log escaped (no forged or split line, no raw ESC),
 * a child's stderr flood reaches the log at a bounded rate while its tail
 * keeps every line, and the daemon removes only the socket file it made.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* The flood: lines of FLOOD_WIDTH bytes, 50 MB in all. */
#define FLOOD_LINES	500000
#define FLOOD_WIDTH	100
/* How long the flood call may take, and how big the log may grow. */
#define FLOOD_CALL_MS	120000
#define FLOOD_LOG_MAX	(256 * 1024)
/* How long to wait for the rate limit's report (its window is 10 s). */
#define REPORT_WAIT_MS	15000

static struct daemon	*d;

static char	*read_log(struct daemon *, size_t *);
static void	 assert_log_clean(struct daemon *);
static void	 terminate(struct daemon *);
static void	 forget(struct daemon *);
static pid_t	 start_on(struct daemon *, const char *, int *);

/* A fake server whose words carry control characters, "hostile". */
static void
setup_hostile(void)
{
	d = daemon_start("", "\"hostile\":{\"command\":\"@FAKE@\","
	    "\"args\":[\"--hostile-names\"]}");
}

/* A well-behaved fake server, "fake". */
static void
setup_fake(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* The daemon's whole log (caller frees); its length into *len. */
static char *
read_log(struct daemon *dm, size_t *len)
{
	struct stat	 st;
	char		*text;
	int		 fd;

	ck_assert_int_ne(fd = open(dm->log, O_RDONLY), -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	text = xcalloc(1, (size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, text, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return (text);
}

/*
 * Every byte of the log is printable ASCII, a tab inside a line, a
 * newline ending one, or part of valid UTF-8 that is not a C1 control;
 * and every line starts with a timestamp.
 */
static void
assert_log_clean(struct daemon *dm)
{
	unsigned char	*text, *p;
	size_t		 len, i;

	text = (unsigned char *)read_log(dm, &len);
	for (i = 0; i < len; i++) {
		p = text + i;
		ck_assert_msg(*p != 0x1b && *p != '\r' && *p != 0x7f &&
		    *p != 0xff && *p != 0xfe && (*p >= 0x20 || *p == '\n'),
		    "raw byte 0x%02x at %zu of the log", *p, i);
		ck_assert_msg(!(*p == 0xc2 && i + 1 < len && p[1] >= 0x80 &&
		    p[1] <= 0x9f), "raw C1 control at %zu of the log", i);
		if (i == 0 || p[-1] == '\n')
			ck_assert_msg(i == len || (len - i >= 5 &&
			    memcmp(p, "20", 2) == 0 && p[4] == '-'),
			    "a log line that is not the daemon's: %.80s", p);
	}
	free(text);
}

/* SIGTERM the daemon and wait for it to exit, leaving its files. */
static void
terminate(struct daemon *dm)
{
	int	status;

	ck_assert_int_eq(kill(dm->pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(dm->pid, &status, 0), dm->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "mcp-brokerd did not exit 0 (status %d)", status);
}

/* Remove what a terminated daemon left (its directory holds files only). */
static void
forget(struct daemon *dm)
{
	unlink(dm->sock);
	unlink(dm->config);
	unlink(dm->log);
	ck_assert_int_eq(rmdir(dm->dir), 0);
	free(dm);
}

START_TEST(test_child_stderr_is_escaped_in_the_log)
{
	struct client	*c = daemon_connect(d);

	cJSON_Delete(tool_call(c, "hostile", "t1", "hostile", NULL));
	ck_assert(wait_log(d, 5000, "hostile stderr", NULL));
	ck_assert(wait_log(d, 5000, "hostile start", NULL));
	/* Each control byte as \xNN, not-UTF-8 bytes too, '\' doubled. */
	ck_assert_int_eq(log_count(d, "hostile stderr \\x1b[31mred\\x1b[0m"
	    "\\x0dcr\\x7f" "del\\xc2\\x9b" "c1 back\\\\x1b \\xff\\xfe" "bad",
	    NULL), 1);
	assert_log_clean(d);
	client_close(c);
}
END_TEST

START_TEST(test_a_childs_log_message_cannot_forge_a_line)
{
	struct client	*c = daemon_connect(d);

	cJSON_Delete(tool_call(c, "hostile", "t1", "hostile", NULL));
	ck_assert(wait_log(d, 5000, "hostile message", NULL));
	/* The newline the child sent is \x0a inside one line. */
	ck_assert_int_eq(log_count(d, "log\\x1b[2Kger: hostile message\\x0a"
	    "2026-01-01T00:00:00.000Z error: FORGED \\x1b[31m", NULL), 1);
	ck_assert_int_eq(log_count(d, "FORGED", NULL), 1);
	assert_log_clean(d);
	client_close(c);
}
END_TEST

START_TEST(test_a_clients_thread_name_is_escaped_in_the_log)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	/* A legal name that spells an escape: it must not read as one. */
	r = tool_call(c, "hostile", "t\\\\x0a-not-a-newline", "counter", NULL);
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
	ck_assert(wait_log(d, 5000, "for thread t\\\\x0a-not-a-newline",
	    NULL));
	assert_log_clean(d);
	client_close(c);
}
END_TEST

/* Whether s is valid UTF-8 (iconv refuses anything else). */
static int
utf8_valid(const char *s)
{
	iconv_t	 cd;
	char	 out[4096], *in = (char *)s, *o = out;
	size_t	 inleft = strlen(s), outleft = sizeof out, r;

	cd = iconv_open("UTF-8", "UTF-8");
	ck_assert(cd != (iconv_t)-1);
	r = iconv(cd, &in, &inleft, &o, &outleft);
	iconv_close(cd);
	return (r != (size_t)-1 && inleft == 0);
}

/* A child's stderr bytes that are not UTF-8 do not make the JSON the
   broker writes unreadable: the tail holds U+FFFD for them. */
START_TEST(test_stderr_tail_is_valid_utf8)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *tail, *line;
	int		 seen = 0;

	cJSON_Delete(tool_call(c, "hostile", "t1", "hostile", NULL));
	r = session_of(c, "hostile", "t1");
	tail = cJSON_GetObjectItemCaseSensitive(result_of(r), "stderr_tail");
	ck_assert(cJSON_GetArraySize(tail) > 0);
	cJSON_ArrayForEach(line, tail) {
		ck_assert_msg(utf8_valid(line->valuestring), "not UTF-8: %s",
		    line->valuestring);
		if (strstr(line->valuestring, "\xef\xbf\xbd\xef\xbf\xbd" "bad"))
			seen = 1;
	}
	ck_assert_msg(seen, "no stderr line with U+FFFD for the bad bytes");
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_a_stderr_flood_is_rate_limited_in_the_log)
{
	struct client	*c = daemon_connect(d);
	struct stat	 st;
	cJSON		*p, *r, *tail;
	char		*cause = NULL, last[64];

	p = cJSON_Parse("{\"server\":\"fake\",\"thread\":\"t1\",\"name\":"
	    "\"stderr_flood\",\"arguments\":{\"lines\":500000,\"width\":100}}");
	r = client_call(c, "tools/call", p, FLOOD_CALL_MS, &cause);
	ck_assert_msg(r != NULL, "stderr_flood: %s", cause);
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);

	/* Once per window: how many lines were not logged, and the bound. */
	ck_assert_msg(wait_log(d, REPORT_WAIT_MS, "session ", " lines of "
	    "stderr and log messages (", " bytes) not logged in the last 10 s "
	    "(rate limit: PROCESS_LOG_LINES", NULL), "no report of dropped "
	    "lines");
	ck_assert_int_eq(stat(d->log, &st), 0);
	ck_assert_msg(st.st_size < FLOOD_LOG_MAX, "the log grew to %lld "
	    "bytes for %d MB of stderr", (long long)st.st_size,
	    FLOOD_LINES * FLOOD_WIDTH / 1000000);
	ck_assert_int_le(log_count(d, "stderr: fake-mcp flood line", NULL),
	    300);

	/* The daemon still answers, and the tail saw the very last line. */
	r = session_of(c, "fake", "t1");
	tail = cJSON_GetObjectItemCaseSensitive(result_of(r), "stderr_tail");
	snprintf(last, sizeof last, "fake-mcp flood done %d", FLOOD_LINES);
	ck_assert_msg(tail_has(tail, last), "the tail lacks \"%s\"", last);
	ck_assert(tail_has(tail, "fake-mcp flood line 499999 "));
	cJSON_Delete(r);
	r = tool_call(c, "fake", "t1", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

/* Log notifications share the budget: a flood of them cannot fill the
   log either, and the daemon says how many it left out. */
START_TEST(test_a_log_message_flood_is_rate_limited_in_the_log)
{
	struct client	*c = daemon_connect(d);
	cJSON		*p, *r;
	char		*cause = NULL;

	p = cJSON_Parse("{\"server\":\"fake\",\"thread\":\"t1\",\"name\":"
	    "\"log_flood\",\"arguments\":{\"count\":20000}}");
	r = client_call(c, "tools/call", p, FLOOD_CALL_MS, &cause);
	ck_assert_msg(r != NULL, "log_flood: %s", cause);
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
	ck_assert_msg(wait_log(d, REPORT_WAIT_MS, "session ", " lines of "
	    "stderr and log messages (", " not logged in the last 10 s",
	    NULL), "no report of dropped log messages");
	ck_assert_int_le(log_count(d, "fake-mcp log flood ", NULL), 300);
	/* The daemon still answers. */
	r = tool_call(c, "fake", "t1", "counter", NULL);
	ck_assert_int_eq(count_of(r), 1);
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_exit_keeps_another_daemons_socket_at_the_path)
{
	struct daemon	*a, *b;
	struct client	*c;
	cJSON		*r;
	char		 moved[sizeof b->sock], *cause = NULL;

	/* A runs on P; P is replaced by B's socket; A stops. */
	a = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
	b = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
	ck_assert_int_eq(rename(b->sock, a->sock), 0);
	terminate(a);

	c = client_connect(a->sock, &cause);
	ck_assert_msg(c != NULL, "A's exit removed B's socket: %s", cause);
	r = rpc(c, "broker/status", NULL);
	ck_assert_int_eq((pid_t)json_number(result_of(r), "pid"), b->pid);
	cJSON_Delete(r);
	client_close(c);
	ck_assert_int_eq(log_count(a, "not removing ", a->sock, NULL), 1);

	/* Give B its socket back so that it stops as usual. */
	snprintf(moved, sizeof moved, "%s", b->sock);
	ck_assert_int_eq(rename(a->sock, moved), 0);
	forget(a);
	daemon_stop_ok(b);
}
END_TEST

START_TEST(test_exit_keeps_a_file_put_in_place_of_the_socket)
{
	struct daemon	*a;
	struct stat	 st;

	a = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
	ck_assert_int_eq(unlink(a->sock), 0);
	write_file(a->sock, "someone's data\n");
	terminate(a);
	ck_assert_int_eq(lstat(a->sock, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert(file_contains(a->sock, "someone's data"));
	forget(a);
}
END_TEST

START_TEST(test_exit_removes_its_own_socket)
{
	struct daemon	*a;
	struct stat	 st;

	a = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
	terminate(a);
	ck_assert_int_eq(lstat(a->sock, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	forget(a);
}
END_TEST

/*
 * Run mcp-brokerd on the config of dm with its socket at path until it
 * exits or listens; returns its pid, or -1 if it exited (status in
 * *status).
 */
static pid_t
start_on(struct daemon *dm, const char *path, int *status)
{
	struct client	*c;
	char		*text, *cause = NULL, config[sizeof dm->config + 8];
	long		 deadline = now_ms() + 10000;
	pid_t		 pid;
	int		 fd;

	snprintf(config, sizeof config, "%s.other", dm->config);
	xasprintf(&text, "{\"broker\":{\"socket\":\"%s\"},"
	    "\"mcpServers\":{}}", path);
	write_file(config, text);
	free(text);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		fd = open(dm->log, O_WRONLY | O_APPEND);
		dup2(fd, STDERR_FILENO);
		execl(harness_build_path("mcp-brokerd"), "mcp-brokerd",
		    "--config", config, (char *)NULL);
		_exit(127);
	}
	while (now_ms() < deadline) {
		if (waitpid(pid, status, WNOHANG) == pid) {
			unlink(config);
			return (-1);
		}
		if ((c = client_connect(path, &cause)) != NULL) {
			client_close(c);
			unlink(config);
			return (pid);
		}
		free(cause);
		cause = NULL;
		sleep_ms(10);
	}
	ck_abort_msg("mcp-brokerd neither listened nor exited");
	return (-1);
}

START_TEST(test_start_replaces_a_stale_socket_but_not_a_file)
{
	struct daemon	*a;
	pid_t		 pid;
	int		 status;

	/* A stale socket (its daemon was killed) is replaced. */
	a = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
	kill(a->pid, SIGKILL);
	waitpid(a->pid, &status, 0);
	ck_assert_int_ne(pid = start_on(a, a->sock, &status), -1);
	ck_assert_int_eq(log_count(a, "removed stale socket", NULL), 1);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* A file that is not a socket is refused and left as it is. */
	write_file(a->sock, "data\n");
	ck_assert_int_eq(start_on(a, a->sock, &status), -1);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	ck_assert(file_contains(a->sock, "data"));
	ck_assert_int_eq(log_count(a, "exists and is not a socket", NULL), 1);
	forget(a);
}
END_TEST

static Suite *
names_suite(void)
{
	Suite	*s = suite_create("names");
	TCase	*tc;

	tc = harness_add_tcase(s, "log escaping", setup_hostile, teardown,
	    60);
	tcase_add_test(tc, test_child_stderr_is_escaped_in_the_log);
	tcase_add_test(tc, test_a_childs_log_message_cannot_forge_a_line);
	tcase_add_test(tc, test_a_clients_thread_name_is_escaped_in_the_log);
	tcase_add_test(tc, test_stderr_tail_is_valid_utf8);

	tc = harness_add_tcase(s, "stderr rate", setup_fake, teardown, 180);
	tcase_add_test(tc, test_a_stderr_flood_is_rate_limited_in_the_log);
	tcase_add_test(tc, test_a_log_message_flood_is_rate_limited_in_the_log);

	tc = harness_add_tcase(s, "socket", NULL, NULL, 60);
	tcase_add_test(tc, test_exit_keeps_another_daemons_socket_at_the_path);
	tcase_add_test(tc, test_exit_keeps_a_file_put_in_place_of_the_socket);
	tcase_add_test(tc, test_exit_removes_its_own_socket);
	tcase_add_test(tc, test_start_replaces_a_stale_socket_but_not_a_file);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(names_suite()));
}
