/*
 * mcp-brokerctl top on a real terminal: the real ctl runs in a tmux pane
 * (a private tmux server) against the real daemon, and the tests read
 * the pane as a person would see it. A small shell around top records,
 * once it has exited, its exit status and whether the terminal's mode
 * (stty -g) is what it was before.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "errors.h"
#include "harness.h"

/* The most a tmux command prints that a test reads (a pane, a pid). */
#define TMUX_OUT_MAX	65536
#define TMUX_MAX_ARGS	24
/* How long a test waits for the pane to show something. */
#define PANE_WAIT_MS	10000
/* How long q may take to end top (it must not wait for the refresh). */
#define QUIT_MS		500
/* The most words a row is split into. */
#define ROW_WORDS	16

static struct daemon	*d;
static char		 tmux_dir[] = "/tmp/test_top.XXXXXX";
static char		 tmux_sock[300];
static int		 tmux_up;

/* One fake server, and a private place for tmux's socket. */
static void
setup(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
	strcpy(tmux_dir, "/tmp/test_top.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmux_dir));
	snprintf(tmux_sock, sizeof tmux_sock, "%s/tmux.sock", tmux_dir);
	tmux_up = 0;
	/* Not the tmux this suite may itself run in. */
	unsetenv("TMUX");
}

static int	tmux(char *, size_t, ...) __attribute__((sentinel));

static void
teardown(void)
{
	if (tmux_up)
		tmux(NULL, 0, "kill-server", NULL);
	unlink(tmux_sock);
	rmdir(tmux_dir);
	if (d != NULL)
		daemon_stop_ok(d);
}

/*
 * Run tmux on the private socket with the args (NULL-terminated); its
 * stdout goes to out (NUL-terminated, cut at outlen) unless out is NULL.
 * Returns its exit status.
 */
static int
tmux(char *out, size_t outlen, ...)
{
	const char	*args[TMUX_MAX_ARGS + 6];
	va_list		 ap;
	size_t		 len = 0;
	ssize_t		 n;
	char		 discard[4096];
	int		 fds[2], status, i = 0, devnull;
	pid_t		 pid;

	args[i++] = "tmux";
	args[i++] = "-S";
	args[i++] = tmux_sock;
	args[i++] = "-f";
	args[i++] = "/dev/null";
	va_start(ap, outlen);
	while ((args[i] = va_arg(ap, const char *)) != NULL) {
		i++;
		ck_assert_int_lt(i, TMUX_MAX_ARGS);
	}
	va_end(ap);

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		dup2(devnull, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp("tmux", (char **)args);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		if (out != NULL && len + 1 < outlen)
			n = read(fds[0], out + len, outlen - 1 - len);
		else
			n = read(fds[0], discard, sizeof discard);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out != NULL && len + 1 < outlen)
			len += (size_t)n;
	}
	close(fds[0]);
	if (out != NULL)
		out[len] = '\0';
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 127),
	    "tmux could not run (is it installed?)");
	return (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/*
 * Start `mcp-brokerctl --socket S top` in a width x height pane, its
 * output redirected as redirect says ("" for the terminal). Once it ends,
 * the pane shows "top exited rc=N mode=restored" (or mode=changed) and
 * stays. SIGINT is ignored by the shell around it, so ^C reaches only
 * top.
 */
static void
top_start(int width, int height, const char *redirect)
{
	char	 cmd[2048], w[16], h[16];

	snprintf(w, sizeof w, "%d", width);
	snprintf(h, sizeof h, "%d", height);
	snprintf(cmd, sizeof cmd, "trap '' INT; before=$(stty -g); "
	    "'%s' --socket '%s' top %s; rc=$?; after=$(stty -g); "
	    "if [ \"$before\" = \"$after\" ]; then m=restored; "
	    "else m=changed; fi; echo \"top exited rc=$rc mode=$m\"; "
	    "sleep 600", harness_build_path("mcp-brokerctl"), d->sock,
	    redirect);
	ck_assert_int_eq(tmux(NULL, 0, "new-session", "-d", "-x", w, "-y", h,
	    "/bin/sh", "-c", cmd, NULL), 0);
	tmux_up = 1;
}

/* What the pane shows now, wrapped lines joined (caller frees). */
static char *
pane(void)
{
	char	*out;

	ck_assert_ptr_nonnull(out = malloc(TMUX_OUT_MAX));
	ck_assert_int_eq(tmux(out, TMUX_OUT_MAX, "capture-pane", "-p", "-J",
	    NULL), 0);
	return (out);
}

/* The pane once it shows text, within ms (caller frees); fails if not. */
static char *
wait_pane(const char *text, int ms)
{
	long	 deadline = now_ms() + ms;
	char	*p;

	for (;;) {
		p = pane();
		if (strstr(p, text) != NULL)
			return (p);
		if (now_ms() > deadline)
			break;
		free(p);
		sleep_ms(20);
	}
	ck_abort_msg("the pane did not show \"%s\" within %d ms:\n%s", text,
	    ms, p);
	return (NULL);
}

/* Split a line into at most max whitespace-separated words (in place). */
static int
split_words(char *line, char **words, int max)
{
	char	*save, *w;
	int	 n = 0;

	for (w = strtok_r(line, " \t", &save); w != NULL && n < max;
	    w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	return (n);
}

/*
 * The row of the pane text for (fake, thread) split into words (in a
 * copy the caller frees through *copy); 0 if there is none.
 */
static int
pane_row(const char *text, const char *thread, char **words, char **copy)
{
	char	*line, *save;
	int	 n;

	*copy = strdup(text);
	for (line = strtok_r(*copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		n = split_words(line, words, ROW_WORDS);
		if (n >= 2 && strcmp(words[0], "fake") == 0 &&
		    strcmp(words[1], thread) == 0)
			return (n);
	}
	free(*copy);
	*copy = NULL;
	return (0);
}

/* The pane once it has a row for thread, within ms (caller frees). */
static char *
wait_row(const char *thread, int ms)
{
	long	 deadline = now_ms() + ms;
	char	*p, *copy, *words[ROW_WORDS];

	for (;;) {
		p = pane();
		if (pane_row(p, thread, words, &copy) > 0) {
			free(copy);
			return (p);
		}
		if (now_ms() > deadline)
			break;
		free(p);
		sleep_ms(20);
	}
	ck_abort_msg("no row for thread %s within %d ms:\n%s", thread, ms, p);
	return (NULL);
}

/* Start the session for (fake, thread) with one call. */
static void
start_session(const char *thread)
{
	struct client	*c = daemon_connect(d);

	cJSON_Delete(tool_call(c, "fake", thread, "counter", NULL));
	client_close(c);
}

/* The pid of top: the one child of the pane's shell. */
static pid_t
top_pid(void)
{
	char	out[64];
	pid_t	pids[4];
	int	n, zombies;

	ck_assert_int_eq(tmux(out, sizeof out, "display-message", "-p",
	    "#{pane_pid}", NULL), 0);
	n = children_of((pid_t)atol(out), pids, 4, &zombies);
	ck_assert_msg(n == 1, "the pane's shell has %d children", n);
	return (pids[0]);
}

/* A size as top prints it ("812K", "1.5M") in bytes; -1 if it is not. */
static double
size_of(const char *text)
{
	char	*end;
	double	 v;

	v = strtod(text, &end);
	if (end == text)
		return (-1);
	switch (*end) {
	case 'B':
		return (v);
	case 'K':
		return (v * 1024);
	case 'M':
		return (v * 1024 * 1024);
	case 'G':
		return (v * 1024 * 1024 * 1024);
	default:
		return (-1);
	}
}

START_TEST(test_status_gives_rss_bytes_when_asked)
{
	struct client	*c;
	cJSON		*r, *s;
	double		 before, after;

	start_session("t1");
	c = daemon_connect(d);
	r = rpc(c, "broker/status", NULL);
	s = cJSON_GetArrayItem(cJSON_GetObjectItem(result_of(r), "sessions"),
	    0);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(cJSON_GetObjectItem(s, "rss_bytes"));
	cJSON_Delete(r);

	r = rpc(c, "broker/status", "{\"rss\":true}");
	s = cJSON_GetArrayItem(cJSON_GetObjectItem(result_of(r), "sessions"),
	    0);
	before = json_number(s, "rss_bytes");
	ck_assert(before >= 100 * 1024);
	cJSON_Delete(r);
	/*
	 * A grandchild under the session's child is counted with it, from
	 * the next scan of /proc (one a second at most: PROCTREE_CACHE_MS).
	 */
	cJSON_Delete(tool_call(c, "fake", "t1", "spawn_grandchild", NULL));
	sleep_ms(1100);
	r = rpc(c, "broker/status", "{\"rss\":true}");
	s = cJSON_GetArrayItem(cJSON_GetObjectItem(result_of(r), "sessions"),
	    0);
	after = json_number(s, "rss_bytes");
	ck_assert_msg(after >= before + 100 * 1024, "rss_bytes %.0f, then "
	    "%.0f with a grandchild", before, after);
	cJSON_Delete(r);

	/* Anything but a boolean is refused under the request's own id. */
	r = rpc(c, "broker/status", "{\"rss\":\"yes\"}");
	ck_assert_int_eq(error_code(r), RPC_INVALID_PARAMS);
	ck_assert_ptr_nonnull(strstr(json_string(r, "error.message"),
	    "rss"));
	cJSON_Delete(r);
	client_close(c);
}
END_TEST

START_TEST(test_rows_show_each_session_with_its_memory)
{
	char	*p, *copy, *words[ROW_WORDS];
	int	 n;

	start_session("t1");
	start_session("t2");
	top_start(160, 40, "");
	p = wait_row("t2", PANE_WAIT_MS);
	free(p);
	p = wait_row("t1", PANE_WAIT_MS);
	ck_assert_ptr_nonnull(strstr(p, "mcp-brokerd "));
	ck_assert_ptr_nonnull(strstr(p, "2 of "));
	ck_assert_ptr_nonnull(strstr(p, "SERVER"));
	/* SERVER THREAD STATE GEN CALLS/S IN-FLIGHT IDLE RSS */
	n = pane_row(p, "t1", words, &copy);
	ck_assert_msg(n == 8, "a row of %d words:\n%s", n, p);
	ck_assert_str_eq(words[2], "ready");
	ck_assert_str_eq(words[3], "1");
	ck_assert_str_eq(words[5], "0");
	/* A running fake-mcp holds at least a few hundred KiB. */
	ck_assert_msg(size_of(words[7]) >= 100 * 1024, "RSS %s", words[7]);
	free(copy);
	ck_assert_int_eq(pane_row(p, "t2", words, &copy), 8);
	ck_assert_msg(size_of(words[7]) >= 100 * 1024, "RSS %s", words[7]);
	free(copy);
	free(p);
}
END_TEST

START_TEST(test_calls_per_second_follow_a_steady_rate)
{
	struct client	*c;
	char		*p, *copy, *words[ROW_WORDS];
	double		 rate = 0, idle_rate = -1;
	long		 deadline;

	start_session("busy");
	start_session("idle");
	top_start(160, 40, "");
	free(wait_row("idle", PANE_WAIT_MS));
	c = daemon_connect(d);
	/* About ten calls a second, read until top shows a rate. */
	deadline = now_ms() + PANE_WAIT_MS;
	while (now_ms() < deadline) {
		cJSON_Delete(tool_call(c, "fake", "busy", "counter", NULL));
		sleep_ms(100);
		p = pane();
		if (pane_row(p, "busy", words, &copy) == 8) {
			rate = strtod(words[4], NULL);
			free(copy);
		}
		if (pane_row(p, "idle", words, &copy) == 8) {
			idle_rate = strcmp(words[4], "-") == 0 ? -1 :
			    strtod(words[4], NULL);
			free(copy);
		}
		free(p);
		if (rate > 0 && idle_rate >= 0)
			break;
	}
	client_close(c);
	ck_assert_msg(rate > 0, "CALLS/S of the busy session stayed 0");
	/* At most one call every 100 ms was made. */
	ck_assert_msg(rate <= 12, "CALLS/S %.1f for about 10 a second", rate);
	ck_assert_msg(idle_rate == 0, "CALLS/S of the idle session: %.1f",
	    idle_rate);
}
END_TEST

START_TEST(test_names_are_escaped_in_rows)
{
	char	*p;

	/* U+009B (CSI) is a legal thread name that a terminal acts on. */
	start_session("a\xc2\x9b" "31mb\\\\");
	top_start(160, 40, "");
	p = wait_pane("a\\xc2\\x9b31mb\\\\", PANE_WAIT_MS);
	ck_assert_ptr_null(strstr(p, "\xc2\x9b"));
	free(p);
}
END_TEST

START_TEST(test_rows_are_cut_to_the_terminal)
{
	char	 thread[101], *p, *line, *save;
	int	 lines = 0;

	/* First in the table, so it is shown however few lines fit. */
	memset(thread, 'x', 100);
	thread[0] = 'a';
	thread[100] = '\0';
	start_session(thread);
	start_session("t1");
	start_session("t2");
	/* 4 header lines and 3 rows in 6 lines of 60 columns. */
	top_start(60, 6, "");
	p = wait_pane("fake             axxxxxxx", PANE_WAIT_MS);
	/* Nothing wrapped (joined lines would be longer)... */
	for (line = strtok_r(p, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(strlen(line) <= 60, "a line of %zu columns: %s",
		    strlen(line), line);
		if (lines++ == 0)
			/* ...and nothing scrolled the header away. */
			ck_assert_msg(strncmp(line, "mcp-brokerd ", 12) == 0,
			    "first line: %s", line);
	}
	free(p);
}
END_TEST

START_TEST(test_q_quits_at_once_and_restores_the_terminal)
{
	char	*p;
	long	 sent;

	start_session("t1");
	top_start(160, 40, "");
	/* The second frame has just been drawn when CALLS/S leaves "-". */
	free(wait_pane("      -         0", PANE_WAIT_MS));
	free(wait_pane("    0.0         0", PANE_WAIT_MS));
	sent = now_ms();
	ck_assert_int_eq(tmux(NULL, 0, "send-keys", "q", NULL), 0);
	p = wait_pane("top exited rc=", PANE_WAIT_MS);
	ck_assert_msg(now_ms() - sent <= QUIT_MS, "q took %ld ms",
	    now_ms() - sent);
	ck_assert_ptr_nonnull(strstr(p, "top exited rc=0 mode=restored"));
	/* Back on the main screen: the table is gone. */
	ck_assert_ptr_null(strstr(p, "SERVER"));
	free(p);
}
END_TEST

START_TEST(test_capital_q_quits_too)
{
	char	*p;

	top_start(160, 40, "");
	free(wait_pane("SERVER", PANE_WAIT_MS));
	ck_assert_int_eq(tmux(NULL, 0, "send-keys", "Q", NULL), 0);
	p = wait_pane("top exited rc=", PANE_WAIT_MS);
	ck_assert_ptr_nonnull(strstr(p, "top exited rc=0 mode=restored"));
	free(p);
}
END_TEST

START_TEST(test_interrupt_restores_the_terminal)
{
	char	*p;

	top_start(160, 40, "");
	free(wait_pane("SERVER", PANE_WAIT_MS));
	/* ^C from the terminal: SIGINT, and top dies of it. */
	ck_assert_int_eq(tmux(NULL, 0, "send-keys", "C-c", NULL), 0);
	p = wait_pane("top exited rc=", PANE_WAIT_MS);
	ck_assert_ptr_nonnull(strstr(p, "top exited rc=130 mode=restored"));
	ck_assert_ptr_null(strstr(p, "SERVER"));
	free(p);
}
END_TEST

START_TEST(test_sigterm_restores_the_terminal)
{
	char	*p;

	top_start(160, 40, "");
	free(wait_pane("SERVER", PANE_WAIT_MS));
	ck_assert_int_eq(kill(top_pid(), SIGTERM), 0);
	p = wait_pane("top exited rc=", PANE_WAIT_MS);
	ck_assert_ptr_nonnull(strstr(p, "top exited rc=143 mode=restored"));
	free(p);
}
END_TEST

START_TEST(test_daemon_going_away_restores_then_says_why)
{
	char	*p, *said, *exited;

	start_session("t1");
	top_start(160, 40, "");
	free(wait_row("t1", PANE_WAIT_MS));
	daemon_kill(d);
	d = NULL;
	p = wait_pane("top exited rc=", PANE_WAIT_MS);
	ck_assert_ptr_nonnull(exited = strstr(p,
	    "top exited rc=2 mode=restored"));
	/* The error is on the main screen, printed before top exited. */
	ck_assert_ptr_nonnull(said = strstr(p, "mcp-brokerctl: "));
	ck_assert(said < exited);
	ck_assert_ptr_null(strstr(p, "SERVER"));
	free(p);
}
END_TEST

START_TEST(test_polls_once_a_second_on_one_connection)
{
	struct client	*c;
	int		 requests, accepted, top_requests;

	start_session("t1");
	top_start(160, 40, "");
	free(wait_row("t1", PANE_WAIT_MS));
	c = daemon_connect(d);
	requests = status_counter(c, "requests");
	accepted = status_counter(c, "clients_accepted");
	sleep_ms(3000);
	/* Less this status call itself (the first one counted itself). */
	top_requests = status_counter(c, "requests") - requests - 1;
	ck_assert_msg(top_requests >= 2 && top_requests <= 4,
	    "top sent %d requests in 3 s", top_requests);
	ck_assert_int_eq(status_counter(c, "clients_accepted"), accepted);
	client_close(c);
}
END_TEST

START_TEST(test_without_a_terminal_top_refuses)
{
	char	*p;

	/* stdin is the terminal, stdout is not. */
	top_start(160, 40, "> /dev/null");
	p = wait_pane("top exited rc=", PANE_WAIT_MS);
	ck_assert_ptr_nonnull(strstr(p, "top exited rc=2 mode=restored"));
	ck_assert_ptr_nonnull(strstr(p, "top needs a terminal"));
	free(p);
}
END_TEST

START_TEST(test_without_a_terminal_on_stdin_top_refuses)
{
	char	*p;

	top_start(160, 40, "< /dev/null");
	p = wait_pane("top exited rc=", PANE_WAIT_MS);
	ck_assert_ptr_nonnull(strstr(p, "top exited rc=2 mode=restored"));
	ck_assert_ptr_nonnull(strstr(p, "top needs a terminal"));
	free(p);
}
END_TEST

static Suite *
top_suite(void)
{
	Suite	*s = suite_create("top");
	TCase	*tc;

	tc = harness_add_tcase(s, "table", setup, teardown, 60);
	tcase_add_test(tc, test_status_gives_rss_bytes_when_asked);
	tcase_add_test(tc, test_rows_show_each_session_with_its_memory);
	tcase_add_test(tc, test_calls_per_second_follow_a_steady_rate);
	tcase_add_test(tc, test_names_are_escaped_in_rows);
	tcase_add_test(tc, test_rows_are_cut_to_the_terminal);
	tcase_add_test(tc, test_polls_once_a_second_on_one_connection);

	tc = harness_add_tcase(s, "terminal", setup, teardown, 60);
	tcase_add_test(tc, test_q_quits_at_once_and_restores_the_terminal);
	tcase_add_test(tc, test_capital_q_quits_too);
	tcase_add_test(tc, test_interrupt_restores_the_terminal);
	tcase_add_test(tc, test_sigterm_restores_the_terminal);
	tcase_add_test(tc, test_daemon_going_away_restores_then_says_why);
	tcase_add_test(tc, test_without_a_terminal_top_refuses);
	tcase_add_test(tc, test_without_a_terminal_on_stdin_top_refuses);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(top_suite()));
}
