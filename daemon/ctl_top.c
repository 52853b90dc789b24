/*
 * mcp-brokerctl top: the daemon's sessions as a live table on the
 * terminal, refreshed every second until q.
 *
 * One connection for the whole run and exactly one broker/status (with
 * "rss": true) per refresh, so top never costs the daemon more than one
 * request a second. CALLS/S is the change in a session's calls between
 * two refreshes over the time that really passed between them. Names are
 * escaped as status escapes them, and rows are cut to the terminal's
 * width, so nothing a client or a server chose reaches the terminal raw.
 *
 * The terminal is put in non-canonical, no-echo mode on the alternate
 * screen and restored on every way out: q, SIGINT, SIGTERM, SIGHUP, the
 * daemon going away (its error is printed after the terminal is back).
 * Without a terminal on stdin and stdout top refuses (exit 2): scripts
 * read `status --json`.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "ctl.h"
#include "xmalloc.h"

/* How often the table is refreshed (one broker/status each time). */
#define CTL_TOP_INTERVAL_MS	1000
/* How long top waits for the daemon's answer before giving up. */
#define CTL_TOP_ANSWER_MS	5000
/* The widest row drawn, whatever the terminal says. */
#define CTL_TOP_WIDTH_MAX	1024
/* The width assumed when the terminal does not say. */
#define CTL_TOP_WIDTH_DEFAULT	80

/* The signal that ends top (0: none yet), and a resize to redraw for. */
static volatile sig_atomic_t	ctl_top_signo;
static volatile sig_atomic_t	ctl_top_resized;

/* The signals top catches, and how they were handled before. */
static const int	ctl_top_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
			    SIGWINCH };
#define CTL_TOP_NSIGNALS	(sizeof ctl_top_signals / sizeof *ctl_top_signals)

/* One session's calls at the last refresh, by session id. */
struct ctl_top_calls {
	char	*id;
	double	 calls;
};

/* One row of the table, as it is sorted. */
struct ctl_top_row {
	const cJSON	*session;
	const char	*server;
	const char	*thread;
};

struct ctl_top {
	struct client		*client;
	struct termios		 saved;
	struct sigaction	 old[CTL_TOP_NSIGNALS];
	int			 caught;	/* signals caught */
	int			 raw;		/* terminal changed */

	struct ctl_top_calls	*prev;		/* sorted by id */
	size_t			 nprev;
	double			 prev_at;	/* seconds; 0: no frame yet */

	char			**lines;	/* the frame, uncut */
	size_t			 nlines;

	char			*cause;		/* connection error */
	cJSON			*answer;	/* error answer */
};

static void	ctl_top_signal_cb(int);
static int	ctl_top_start(struct ctl_top *);
static void	ctl_top_stop(struct ctl_top *);
static int	ctl_top_run(struct ctl_top *);
static int	ctl_top_wait(struct ctl_top *, double);
static void	ctl_top_frame(struct ctl_top *, const cJSON *, double);
static void	ctl_top_row(struct ctl_top *, const cJSON *, double,
		    struct ctl_top_calls *);
static void	ctl_top_add(struct ctl_top *, char *);
static void	ctl_top_draw(struct ctl_top *);
static size_t	ctl_top_cut(const char *, size_t);
static void	ctl_top_bytes(char *, size_t, double);
static double	ctl_top_number(const cJSON *, const char *, double);
static int	ctl_top_cmp_calls(const void *, const void *);
static int	ctl_top_cmp_row(const void *, const void *);
static void	ctl_top_free_calls(struct ctl_top_calls *, size_t);
static void	ctl_top_free_lines(struct ctl_top *);

/* Remember the signal that ends top, or that the window changed. */
static void
ctl_top_signal_cb(int signo)
{
	if (signo == SIGWINCH)
		ctl_top_resized = 1;
	else
		ctl_top_signo = signo;
}

/* The number member name of obj, or dflt if it has none. */
static double
ctl_top_number(const cJSON *obj, const char *name, double dflt)
{
	const cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(obj, name);
	return (cJSON_IsNumber(item) ? item->valuedouble : dflt);
}

/* Bytes as "812K", "1.5M", "23M", "2.0G" (powers of 1024). */
static void
ctl_top_bytes(char *buf, size_t len, double bytes)
{
	static const char	units[] = "BKMGTP";
	size_t			u = 0;

	while (bytes >= 1024 && u < sizeof units - 2) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0fB", bytes);
	else if (bytes < 10)
		snprintf(buf, len, "%.1f%c", bytes, units[u]);
	else
		snprintf(buf, len, "%.0f%c", bytes, units[u]);
}

/* Order remembered calls by session id. */
static int
ctl_top_cmp_calls(const void *a, const void *b)
{
	const struct ctl_top_calls	*ca = a, *cb = b;

	return (strcmp(ca->id, cb->id));
}

/* Order rows by server, then thread. */
static int
ctl_top_cmp_row(const void *a, const void *b)
{
	const struct ctl_top_row	*ra = a, *rb = b;
	int				 d;

	if ((d = strcmp(ra->server, rb->server)) != 0)
		return (d);
	return (strcmp(ra->thread, rb->thread));
}

/* Free n remembered calls. */
static void
ctl_top_free_calls(struct ctl_top_calls *calls, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(calls[i].id);
	free(calls);
}

/* Forget the frame's lines. */
static void
ctl_top_free_lines(struct ctl_top *top)
{
	size_t	i;

	for (i = 0; i < top->nlines; i++)
		free(top->lines[i]);
	free(top->lines);
	top->lines = NULL;
	top->nlines = 0;
}

/* Add a line (taken) to the frame. */
static void
ctl_top_add(struct ctl_top *top, char *line)
{
	top->lines = xreallocarray(top->lines, top->nlines + 1,
	    sizeof *top->lines);
	top->lines[top->nlines++] = line;
}

/*
 * Catch the signals that end top, then put the terminal in
 * non-canonical, no-echo mode on the alternate screen. Returns 0, or -1
 * with top->cause set.
 */
static int
ctl_top_start(struct ctl_top *top)
{
	struct sigaction	sa;
	struct termios		raw;
	size_t			i;

	if (tcgetattr(STDIN_FILENO, &top->saved) == -1) {
		xasprintf(&top->cause, "top: cannot read the terminal's "
		    "mode: %s", strerror(errno));
		return (-1);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ctl_top_signal_cb;
	sigemptyset(&sa.sa_mask);
	/*
	 * SA_RESTART, so a resize cannot cut a write to the terminal short
	 * (stdio would drop the rest, the restore included); poll() still
	 * returns EINTR, so a signal wakes the wait for a key at once.
	 */
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < CTL_TOP_NSIGNALS; i++)
		sigaction(ctl_top_signals[i], &sa, &top->old[i]);
	top->caught = 1;

	raw = top->saved;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	/* ^Z would stop top with the terminal still raw. */
	raw.c_cc[VSUSP] = _POSIX_VDISABLE;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == -1) {
		xasprintf(&top->cause, "top: cannot set the terminal's mode: "
		    "%s", strerror(errno));
		return (-1);
	}
	top->raw = 1;
	/* The alternate screen, no cursor, cleared. */
	fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	fflush(stdout);
	return (0);
}

/*
 * Give the terminal back as it was, and the signals their old handlers;
 * the signals top catches wait while it writes, so none cuts the restore.
 */
static void
ctl_top_stop(struct ctl_top *top)
{
	sigset_t	block, old;
	size_t		i;

	sigemptyset(&block);
	for (i = 0; i < CTL_TOP_NSIGNALS; i++)
		sigaddset(&block, ctl_top_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (top->raw) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		tcsetattr(STDIN_FILENO, TCSADRAIN, &top->saved);
		top->raw = 0;
	}
	if (top->caught) {
		for (i = 0; i < CTL_TOP_NSIGNALS; i++)
			sigaction(ctl_top_signals[i], &top->old[i], NULL);
		top->caught = 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/*
 * One row for a session: its names escaped, CALLS/S from the calls the
 * last frame saw for the same session id (at time prev_at). What this
 * frame saw is put in *seen for the next one.
 */
static void
ctl_top_row(struct ctl_top *top, const cJSON *s, double now,
    struct ctl_top_calls *seen)
{
	struct ctl_top_calls	 key, *last;
	char			*server, *thread, *state, *line;
	char			 idle[16], rss[16], rate[16];
	double			 calls, bytes;

	calls = ctl_top_number(s, "calls", 0);
	seen->id = ctl_field(s, "id");
	seen->calls = calls;
	key.id = seen->id;
	last = top->nprev == 0 ? NULL : bsearch(&key, top->prev, top->nprev,
	    sizeof *top->prev, ctl_top_cmp_calls);
	if (last != NULL && calls >= last->calls && now > top->prev_at)
		snprintf(rate, sizeof rate, "%.1f", (calls - last->calls) /
		    (now - top->prev_at));
	else
		snprintf(rate, sizeof rate, "-");
	ctl_duration(idle, sizeof idle, ctl_top_number(s, "idle_s", 0));
	if ((bytes = ctl_top_number(s, "rss_bytes", -1)) >= 0)
		ctl_top_bytes(rss, sizeof rss, bytes);
	else
		snprintf(rss, sizeof rss, "-");

	server = ctl_field(s, "server");
	thread = ctl_field(s, "thread");
	state = ctl_field(s, "state");
	xasprintf(&line, "%-16s %-24s %-9s %4.0f %8s %9.0f %6s %7s", server,
	    thread, state, ctl_top_number(s, "generation", 0), rate,
	    ctl_top_number(s, "in_flight", 0), idle, rss);
	ctl_top_add(top, line);
	free(server);
	free(thread);
	free(state);
}

/*
 * The frame for a broker/status result r read at time now: a header,
 * then a row per session sorted by server and thread.
 */
static void
ctl_top_frame(struct ctl_top *top, const cJSON *r, double now)
{
	const cJSON		*sessions, *s, *server, *thread;
	struct ctl_top_row	*rows;
	struct ctl_top_calls	*seen;
	char			*version, *line, up[16], clients[32];
	size_t			 n = 0, i;

	ctl_top_free_lines(top);
	sessions = cJSON_GetObjectItemCaseSensitive(r, "sessions");
	rows = xcalloc((size_t)cJSON_GetArraySize(sessions) + 1,
	    sizeof *rows);
	cJSON_ArrayForEach(s, sessions) {
		server = cJSON_GetObjectItemCaseSensitive(s, "server");
		thread = cJSON_GetObjectItemCaseSensitive(s, "thread");
		rows[n].session = s;
		rows[n].server = cJSON_IsString(server) ?
		    server->valuestring : "";
		rows[n].thread = cJSON_IsString(thread) ?
		    thread->valuestring : "";
		n++;
	}
	qsort(rows, n, sizeof *rows, ctl_top_cmp_row);

	version = ctl_field(r, "version");
	ctl_duration(up, sizeof up, ctl_top_number(r, "uptime_s", 0));
	clients[0] = '\0';
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "clients")))
		snprintf(clients, sizeof clients, ", %.0f client%s",
		    ctl_top_number(r, "clients", 0),
		    ctl_top_number(r, "clients", 0) == 1 ? "" : "s");
	xasprintf(&line, "mcp-brokerd %s, pid %.0f, up %s, %zu of %.0f "
	    "sessions%s", version, ctl_top_number(r, "pid", 0), up, n,
	    ctl_top_number(r, "max_sessions", 0), clients);
	free(version);
	ctl_top_add(top, line);
	ctl_top_add(top, xstrdup("refreshed every second; q quits"));
	ctl_top_add(top, xstrdup(""));
	xasprintf(&line, "%-16s %-24s %-9s %4s %8s %9s %6s %7s", "SERVER",
	    "THREAD", "STATE", "GEN", "CALLS/S", "IN-FLIGHT", "IDLE", "RSS");
	ctl_top_add(top, line);

	seen = xcalloc(n + 1, sizeof *seen);
	for (i = 0; i < n; i++)
		ctl_top_row(top, rows[i].session, now, &seen[i]);
	free(rows);
	qsort(seen, n, sizeof *seen, ctl_top_cmp_calls);
	ctl_top_free_calls(top->prev, top->nprev);
	top->prev = seen;
	top->nprev = n;
	top->prev_at = now;
}

/*
 * How many bytes of line fit in width columns: one column a character
 * (escaped text is printable ASCII and UTF-8 characters), never cutting
 * a character in two.
 */
static size_t
ctl_top_cut(const char *line, size_t width)
{
	size_t	i, cols = 0;

	for (i = 0; line[i] != '\0'; i++) {
		if (((unsigned char)line[i] & 0xc0) == 0x80)
			continue;
		if (cols == width)
			break;
		cols++;
	}
	return (i);
}

/*
 * Draw the frame from the top left, each line cut to the terminal's
 * width and no more lines than it has rows, in one write.
 */
static void
ctl_top_draw(struct ctl_top *top)
{
	struct winsize	ws;
	size_t		width = CTL_TOP_WIDTH_DEFAULT, height, i;

	height = top->nlines;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		width = ws.ws_col;
		if (ws.ws_row > 0 && ws.ws_row < height)
			height = ws.ws_row;
	}
	if (width > CTL_TOP_WIDTH_MAX)
		width = CTL_TOP_WIDTH_MAX;
	fputs("\033[H", stdout);
	for (i = 0; i < height; i++) {
		fwrite(top->lines[i], 1, ctl_top_cut(top->lines[i], width),
		    stdout);
		/* The rest of the line cleared; no newline after the last
		   row, or the screen would scroll. */
		fputs(i + 1 < height ? "\033[K\r\n" : "\033[K", stdout);
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

/*
 * Wait until deadline (monotonic seconds) for a key. Returns 1 to quit
 * (q or Q, a signal, the terminal gone), 0 when it is time to refresh.
 */
static int
ctl_top_wait(struct ctl_top *top, double deadline)
{
	struct pollfd	pfd;
	char		buf[64];
	ssize_t		n, i;
	double		left;

	for (;;) {
		if (ctl_top_signo != 0)
			return (1);
		if (ctl_top_resized) {
			ctl_top_resized = 0;
			ctl_top_draw(top);
		}
		if ((left = deadline - clock_s()) <= 0)
			return (0);
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		/* Rounded up, so the wait does not end just short of it. */
		if (poll(&pfd, 1, (int)(left * 1000) + 1) == -1) {
			if (errno == EINTR)
				continue;
			return (1);
		}
		if (pfd.revents == 0)
			continue;
		if ((n = read(STDIN_FILENO, buf, sizeof buf)) == -1 &&
		    (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return (1);
		for (i = 0; i < n; i++) {
			if (buf[i] == 'q' || buf[i] == 'Q')
				return (1);
		}
	}
}

/*
 * Refresh until told to quit. Returns the exit status; a connection
 * error is left in top->cause and an error answer in top->answer, to be
 * said once the terminal is back.
 */
static int
ctl_top_run(struct ctl_top *top)
{
	cJSON	*params, *answer, *r;
	double	 asked, now;

	for (;;) {
		asked = clock_s();
		params = cJSON_CreateObject();
		cJSON_AddTrueToObject(params, "rss");
		if ((answer = client_call(top->client, "broker/status", params,
		    CTL_TOP_ANSWER_MS, &top->cause)) == NULL)
			return (CTL_EXIT_USAGE);
		if (cJSON_GetObjectItemCaseSensitive(answer, "error") != NULL) {
			top->answer = answer;
			return (CTL_EXIT_ANSWER);
		}
		now = clock_s();
		r = cJSON_GetObjectItemCaseSensitive(answer, "result");
		ctl_top_frame(top, r, now);
		cJSON_Delete(answer);
		if (ctl_top_signo != 0)
			return (CTL_EXIT_OK);
		ctl_top_draw(top);
		if (ctl_top_wait(top, asked + CTL_TOP_INTERVAL_MS / 1000.0))
			return (CTL_EXIT_OK);
	}
}

/* top: the live table until q, a signal, or the daemon going away. */
int
ctl_top(struct client *c, int argc, char **argv)
{
	struct ctl_top	 top;
	cJSON		*r;
	int		 rc, signo;

	(void)argv;
	if (argc != 0)
		ctl_usage();
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "mcp-brokerctl: top needs a terminal on stdin "
		    "and stdout; scripts can read 'mcp-brokerctl status "
		    "--json'\n");
		return (CTL_EXIT_USAGE);
	}
	memset(&top, 0, sizeof top);
	top.client = c;
	ctl_top_signo = ctl_top_resized = 0;
	if (ctl_top_start(&top) == 0)
		rc = ctl_top_run(&top);
	else
		rc = CTL_EXIT_USAGE;
	ctl_top_stop(&top);

	if (top.cause != NULL) {
		fprintf(stderr, "mcp-brokerctl: %s\n", top.cause);
		free(top.cause);
	}
	if (top.answer != NULL) {
		rc = ctl_answer(top.answer, &r);
		cJSON_Delete(r);
	}
	ctl_top_free_lines(&top);
	ctl_top_free_calls(top.prev, top.nprev);
	/* Ended by a signal: end the way it would have without top. */
	if ((signo = ctl_top_signo) != 0) {
		client_close(c);
		signal(signo, SIG_DFL);
		raise(signo);
	}
	return (rc);
}
