/*
 * mcp-bench-loadgen: the benchmark's load generator.
 *
 * Every scenario runs two ways in one invocation: through the broker (a
 * Unix socket, routing members server/thread) and direct (the same echo
 * servers spawned here, spoken to over their stdin/stdout pipes: the floor
 * for a stdio MCP call). The two alternate in blocks; latencies are taken
 * per call with CLOCK_MONOTONIC and aggregated over the blocks.
 *
 * Placement: this process pins itself to one CPU, the daemon (and so its
 * children) and the directly spawned servers to the other, which is what
 * `taskset -c` does; the placement is stated with the results.
 *
 * It starts its own mcp-brokerd for each group of scenarios (a generated
 * config in a temporary directory, the socket there too), stops it, and
 * leaves no process behind: it is a child subreaper, so anything a daemon
 * or gateway left is handed to it and reported.
 *
 * The comparisons run server-everything (npm) behind the broker, over a
 * pipe, behind supergateway (Streamable HTTP, spoken here by a minimal
 * HTTP/1.1 client) and as a new session per call. supergateway cannot be
 * told which address to bind, so the whole run is in a private network
 * namespace whose only interface is loopback.
 *
 * Scenario 8 puts the broker's own Streamable HTTP endpoint (a TCP
 * listener with a bearer token from a generated tokens file) against its
 * NDJSON socket and against supergateway, all three in front of the same
 * echo server.
 *
 * The table goes to OUT/results-table.md, the percentiles for the plot to
 * OUT/latency.dat. Usage: see bench_usage().
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "xmalloc.h"

/* What the echo tools are asked for. */
#define ECHO_ARGS	"\"name\":\"echo\",\"arguments\":{\"text\":" \
			"\"the quick brown fox jumps over the lazy dog\"}"
#define BLOB_BYTES	(1024 * 1024)
#define EVERYTHING_ARGS	"\"name\":\"echo\",\"arguments\":{\"message\":" \
			"\"the quick brown fox jumps over the lazy dog\"}"

/*
 * Calls per mode for each scenario (before --scale), chosen so that make
 * bench takes about two minutes on the 2-core machine.
 */
#define SEQ_CALLS		6000	/* 1: per block, 5 blocks */
#define INFLIGHT_CALLS		20000	/* 2: per block, 5 blocks */
#define BLOB_CALLS		200	/* 3: per block, 5 blocks */
#define CHURN_WARMUP		2000	/* 4: before the blocks */
#define CHURN_CALLS		3000	/* 4: per block, 3 blocks */
#define COLD_CALLS		40	/* 5: per round, 5 rounds */
#define SCALE_CALLS		5000	/* 6: per step and daemon */
#define EVERYTHING_CALLS	400	/* per round, 5 rounds */
#define SPAWN_PER_ROUND		4	/* sessions per call, per round */
#define HTTP_CALLS		2000	/* 8: per block, 5 blocks */

/* The MCP version the load generator asks for when it is the client. */
#define BENCH_PROTOCOL	"2025-06-18"

/* Per-stream calls in flight are bounded by the slot bits of an id. */
#define STREAM_MAX_WINDOW	256
#define STREAM_MAX		65536

/* A phase that has not finished by then is a failure. */
#define PHASE_TIMEOUT_MS	(300 * 1000)
#define CALL_TIMEOUT_MS		(60 * 1000)

/* The descriptors the daemon is given, if the hard limit allows. */
#define DAEMON_NOFILE		65536
/* Descriptors the daemon keeps besides sessions and clients. */
#define DAEMON_FD_MARGIN	64

/* Where supergateway listens, inside the private network namespace. */
#define GATEWAY_PORT		18765

/* A growable byte buffer; the bytes are data[off, len). */
struct buf {
	char	*data;
	size_t	 off;
	size_t	 len;
	size_t	 size;
};

/* One byte stream: a broker connection, or a direct server's pipes. */
struct conn {
	int		 rfd;
	int		 wfd;
	pid_t		 pid;		/* direct: the server (its group) */
	struct buf	 in;
	struct buf	 out;
	size_t		 scanned;	/* bytes after in.off without '\n' */
};

/*
 * A caller: it keeps window calls in flight on conn until it has made its
 * share. server NULL means direct (no routing members).
 */
struct stream {
	struct conn	*conn;
	const char	*server;
	char		 thread[64];
	int		 nthreads;	/* >0: a random "w<n>" per call */
	const char	*tool;		/* "name" and "arguments" members */
	int		 window;
	int		 inflight;
	long		 remaining;
	uint64_t	 ids[STREAM_MAX_WINDOW];	/* 0: slot free */
	uint64_t	 start[STREAM_MAX_WINDOW];
};

/* Latency samples in nanoseconds. */
struct samples {
	uint64_t	*v;
	size_t		 n;
	size_t		 size;
};

/* What one mode of a scenario accumulated over its blocks. */
struct tally {
	struct samples	 lat;
	long		 calls;
	long		 errors;
	uint64_t	 busy_ns;	/* the blocks' wall time, added up */
	char		 first_error[300];
	pid_t		 cpu_pids[20];	/* whose CPU time to add up */
	int		 ncpu_pids;
	int		 track_daemon;	/* and the main daemon's, apart */
	uint64_t	 cpu_ns;
	uint64_t	 daemon_ns;
};

/* The percentiles a row or the plot reports, in microseconds. */
struct pct {
	double	p50;
	double	p99;
	double	p999;
	size_t	n;
};

struct daemon {
	pid_t	 pid;
	char	 dir[64];
	char	 sock[128];
	char	 config[128];
	char	 log[128];
	char	 tokens[128];	/* the HTTP tokens file, if any */
	long	 nofile;
};

/* One row of the results table. */
struct row {
	char	scenario[48];
	char	metric[64];
	char	broker[40];
	char	base[48];
	char	ratio[24];
	char	target[32];
	char	met[16];
};

/* A group of bars in the plot. */
struct plot {
	char		label[48];
	struct pct	broker;
	struct pct	base;
};

struct bench {
	/* Options. */
	const char	*build;		/* where mcp-brokerd is */
	const char	*out;		/* where results go */
	const char	*npm;		/* tests/bench (node_modules) */
	const char	*socket;	/* an already running daemon, or NULL */
	const char	*wrapper;	/* a command to run the daemon under */
	char		 only[32];
	double		 scale;
	int		 cpu_self;
	int		 cpu_servers;

	/* Found at start. */
	int		 pinned;
	int		 netns;
	long		 nofile_self;
	char		 echo_path[PATH_MAX];
	char		 node_path[PATH_MAX];
	char		 everything_js[PATH_MAX];
	char		 gateway_bin[PATH_MAX];
	uint64_t	 seq;		/* request counter */
	pid_t		 main_pid;	/* the main daemon, if started here */
	int		 http_port;	/* its HTTP listener (0: none) */
	char		 http_token[64];
	pid_t		 live[4];	/* daemons running */
	int		 nlive;
	uint64_t	 rng;

	struct row	*rows;
	size_t		 nrows;
	struct plot	*plots;
	size_t		 nplots;
	struct buf	 notes;
	int		 failed;
};

/* For the signal handler only: what to stop if the run is interrupted. */
static volatile pid_t	bench_daemon_pid;
static volatile pid_t	bench_gateway_pgid;

static void	 bench_usage(void);
static void	 bench_fatal(const char *, ...)
		     __attribute__((format(printf, 1, 2), noreturn));
static void	 bench_note(struct bench *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
static void	 bench_row(struct bench *, const char *, const char *,
		     const char *, const char *, const char *, const char *,
		     const char *);
static void	 bench_plot(struct bench *, const char *, const struct pct *,
		     const struct pct *);
static int	 bench_wants(struct bench *, char);
static long	 bench_calls(struct bench *, long);
static void	 bench_signal(int);
static uint64_t	 bench_random(struct bench *);

static uint64_t	 now_ns(void);
static void	 sleep_ms(int);
static void	 pin_to(int);

static void	 buf_reserve(struct buf *, size_t);
static void	 buf_append(struct buf *, const void *, size_t);
static void	 buf_printf(struct buf *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
static void	 buf_free(struct buf *);

static void	 samples_add(struct samples *, uint64_t);
static int	 samples_cmp(const void *, const void *);
static struct pct samples_pct(const struct samples *);

static long	 skip_string(const char *, size_t, size_t);
static long	 skip_value(const char *, size_t, size_t);
static int	 scan_answer(const char *, size_t, uint64_t *, int *);

static struct conn *conn_new(int, int, pid_t);
static void	 conn_free(struct conn *);
static int	 conn_read(struct conn *);
static int	 conn_line(struct conn *, const char **, size_t *);
static int	 conn_flush(struct conn *);
static struct conn *conn_unix(const char *, char **);
static char	*conn_call(struct conn *, const char *, uint64_t, int);

static void	 request_write(struct bench *, struct stream *, uint64_t);
static void	 stream_init(struct stream *, struct conn *, const char *,
		     const char *, const char *, int);
static int	 run_calls(struct bench *, struct stream *, int, long,
		     struct tally *);

static struct conn *server_spawn(struct bench *, char *const []);
static int	 server_handshake(struct bench *, struct conn *);
static void	 server_stop(struct conn *, int);
static struct conn *echo_spawn(struct bench *);

static struct daemon *daemon_start(struct bench *, cJSON *, cJSON *, int);
static int	 daemon_http(struct bench *, struct daemon *, cJSON *);
static int	 daemon_stop(struct bench *, struct daemon *);
static cJSON	*broker_call(struct bench *, struct conn *, const char *,
		     const char *);
static double	 broker_counter(struct bench *, struct conn *,
		     const char *);
static long	 proc_rss_kib(pid_t);
static uint64_t	 proc_cpu_ns(pid_t);
static uint64_t	 tally_cpu_ns(struct tally *);
static pid_t	 session_pid(struct bench *, struct conn *, const char *,
		     const char *);
static int	 proc_nfds(pid_t);
static int	 leftover_children(struct bench *, int);

static void	 fmt_us(char *, size_t, double);
static void	 fmt_ratio(char *, size_t, double);
static void	 report_latency(struct bench *, const char *, const char *,
		     struct tally *, struct tally *, double);
static void	 report_rate(struct bench *, const char *, const char *,
		     double, double, double, int);
static void	 report_cpu(struct bench *, const char *, struct tally *,
		     struct tally *);

static void	 scenario_sequential(struct bench *, struct conn *);
static void	 scenario_inflight(struct bench *, struct conn **);
static void	 scenario_payload(struct bench *, struct conn *);
static void	 cold_broker(struct bench *, struct conn *, const char *,
		     struct tally *);
static void	 cold_direct(struct bench *, struct tally *);
static void	 scenario_cold(struct bench *, struct conn *);
static cJSON	*scale_broker(int, int);
static cJSON	*scale_servers(struct bench *);
static void	 scenario_churn(struct bench *);
static void	 scenario_scale(struct bench *);
static void	 scenario_everything(struct bench *, struct conn *);
static int	 bench_private_net(void);
static int	 bench_which(const char *, char *, size_t);
static int	 bench_rank(const char *);
static void	 bench_write(struct bench *, const char *);

static void
bench_usage(void)
{
	fprintf(stderr,
	    "usage: mcp-bench-loadgen [--build DIR] [--out DIR] [--npm DIR]\n"
	    "           [--only LIST] [--scale F] [--socket PATH]\n"
	    "           [--daemon-wrapper CMD] [--cpus SELF,SERVERS]\n"
	    "  --only: scenarios among 1,2,3,4,5,6 (6 and 7 run together),\n"
	    "          8 (HTTP: the broker's endpoint, its socket,\n"
	    "          supergateway), e (server-everything: supergateway,\n"
	    "          session per call)\n"
	    "  --scale: multiplies every call count (0.1 for a quick look)\n"
	    "  --socket: use that running daemon (server \"echo\" is the\n"
	    "          echo server) for 1, 2, 3, 5 instead of starting one\n"
	    "  --daemon-wrapper: e.g. \"valgrind --tool=callgrind\"\n");
	exit(2);
}

static void
bench_fatal(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "mcp-bench-loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (bench_daemon_pid > 0)
		kill(bench_daemon_pid, SIGTERM);
	if (bench_gateway_pgid > 0)
		kill(-bench_gateway_pgid, SIGTERM);
	exit(1);
}

/* A line for the notes under the table. */
static void
bench_note(struct bench *b, const char *fmt, ...)
{
	va_list	ap;
	char	text[1024];

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	buf_printf(&b->notes, "- %s\n", text);
	fprintf(stderr, "note: %s\n", text);
}

static void
bench_row(struct bench *b, const char *scenario, const char *metric,
    const char *broker, const char *base, const char *ratio,
    const char *target, const char *met)
{
	struct row	*r;

	b->rows = xreallocarray(b->rows, b->nrows + 1, sizeof *b->rows);
	r = &b->rows[b->nrows++];
	snprintf(r->scenario, sizeof r->scenario, "%s", scenario);
	snprintf(r->metric, sizeof r->metric, "%s", metric);
	snprintf(r->broker, sizeof r->broker, "%s", broker);
	snprintf(r->base, sizeof r->base, "%s", base);
	snprintf(r->ratio, sizeof r->ratio, "%s", ratio);
	snprintf(r->target, sizeof r->target, "%s", target);
	snprintf(r->met, sizeof r->met, "%s", met);
	fprintf(stderr, "  %-28s %-30s broker %-12s base %-22s %-8s %s %s\n",
	    scenario, metric, broker, base, ratio, target, met);
}

static void
bench_plot(struct bench *b, const char *label, const struct pct *broker,
    const struct pct *base)
{
	struct plot	*p;

	b->plots = xreallocarray(b->plots, b->nplots + 1, sizeof *b->plots);
	p = &b->plots[b->nplots++];
	snprintf(p->label, sizeof p->label, "%s", label);
	p->broker = *broker;
	p->base = *base;
}

/* Whether scenario c is to run. */
static int
bench_wants(struct bench *b, char c)
{
	return (b->only[0] == '\0' || strchr(b->only, c) != NULL);
}

/* A call count, scaled, at least 1. */
static long
bench_calls(struct bench *b, long n)
{
	long	m = (long)((double)n * b->scale);

	return (m < 1 ? 1 : m);
}

/* SIGINT, SIGTERM: stop what was started (children die with us). */
static void
bench_signal(int sig)
{
	if (bench_daemon_pid > 0)
		kill(bench_daemon_pid, SIGTERM);
	if (bench_gateway_pgid > 0)
		kill(-bench_gateway_pgid, SIGTERM);
	_exit(128 + sig);
}

/* xorshift64*: reproducible thread choices. */
static uint64_t
bench_random(struct bench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return (b->rng * 2685821657736338717ULL);
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Pin the calling process to one CPU (-1: leave it). */
static void
pin_to(int cpu)
{
	cpu_set_t	set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
}

/* Make room for n more bytes after len. */
static void
buf_reserve(struct buf *b, size_t n)
{
	size_t	size;

	if (b->len + n <= b->size)
		return;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + n <= b->size)
			return;
	}
	size = b->size != 0 ? b->size : 4096;
	while (size < b->len + n)
		size *= 2;
	b->data = xrealloc(b->data, size);
	b->size = size;
}

static void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

static void
samples_add(struct samples *s, uint64_t v)
{
	if (s->n == s->size) {
		s->size = s->size != 0 ? s->size * 2 : 1024;
		s->v = xreallocarray(s->v, s->size, sizeof *s->v);
	}
	s->v[s->n++] = v;
}

static int
samples_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* p50, p99, p99.9 by nearest rank, in microseconds. */
static struct pct
samples_pct(const struct samples *s)
{
	struct pct	 p = { 0, 0, 0, s->n };
	uint64_t	*v;
	size_t		 i;
	const double	 q[3] = { 0.50, 0.99, 0.999 };
	double		*out[3] = { &p.p50, &p.p99, &p.p999 };

	if (s->n == 0)
		return (p);
	v = xreallocarray(NULL, s->n, sizeof *v);
	memcpy(v, s->v, s->n * sizeof *v);
	qsort(v, s->n, sizeof *v, samples_cmp);
	for (i = 0; i < 3; i++) {
		size_t	rank = (size_t)((double)s->n * q[i] + 0.999999);

		if (rank < 1)
			rank = 1;
		*out[i] = (double)v[rank - 1] / 1000.0;
	}
	free(v);
	return (p);
}

/* The offset after the string starting at i (a '"'), or -1. */
static long
skip_string(const char *p, size_t len, size_t i)
{
	const char	*q;
	size_t		 j = i + 1, k, bs;

	for (;;) {
		if (j >= len || (q = memchr(p + j, '"', len - j)) == NULL)
			return (-1);
		k = (size_t)(q - p);
		for (bs = 0; k - bs > i + 1 && p[k - bs - 1] == '\\'; bs++)
			;
		if (bs % 2 == 0)
			return ((long)k + 1);
		j = k + 1;
	}
}

/* The offset after the JSON value starting at i, or -1. */
static long
skip_value(const char *p, size_t len, size_t i)
{
	int	depth = 0;
	long	n;

	while (i < len) {
		switch (p[i]) {
		case '"':
			if ((n = skip_string(p, len, i)) < 0)
				return (-1);
			i = (size_t)n;
			if (depth == 0)
				return ((long)i);
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return ((long)i);
			if (--depth == 0)
				return ((long)i + 1);
			break;
		case ',':
			if (depth == 0)
				return ((long)i);
			break;
		default:
			break;
		}
		i++;
	}
	return (depth == 0 ? (long)i : -1);
}

/*
 * Read the top level of a JSON-RPC line without building a tree (the
 * same cost for every mode, and small next to a 1 MiB result): 1 if it is
 * an answer with an integer id (*id; *error set for an error answer), 0
 * for anything else (a notification, a request from the server).
 */
static int
scan_answer(const char *p, size_t len, uint64_t *id, int *error)
{
	size_t		 i = 0, klen;
	long		 n;
	const char	*key;
	int		 have_id = 0, have_method = 0;

	*error = 0;
	while (i < len && p[i] != '{')
		i++;
	i++;
	for (;;) {
		while (i < len && (p[i] == ' ' || p[i] == ',' || p[i] == '\t'))
			i++;
		if (i >= len || p[i] != '"')
			break;
		if ((n = skip_string(p, len, i)) < 0)
			return (0);
		key = p + i + 1;
		klen = (size_t)n - i - 2;
		i = (size_t)n;
		while (i < len && (p[i] == ' ' || p[i] == ':'))
			i++;
		if (klen == 2 && memcmp(key, "id", 2) == 0 && i < len &&
		    p[i] >= '0' && p[i] <= '9') {
			*id = strtoull(p + i, NULL, 10);
			have_id = 1;
		} else if (klen == 5 && memcmp(key, "error", 5) == 0)
			*error = 1;
		else if (klen == 6 && memcmp(key, "method", 6) == 0)
			have_method = 1;
		if ((n = skip_value(p, len, i)) < 0)
			return (0);
		i = (size_t)n;
	}
	return (have_id && !have_method);
}

static struct conn *
conn_new(int rfd, int wfd, pid_t pid)
{
	struct conn	*c = xcalloc(1, sizeof *c);

	c->rfd = rfd;
	c->wfd = wfd;
	c->pid = pid;
	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	if (wfd != rfd)
		fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
	return (c);
}

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->rfd != -1)
		close(c->rfd);
	if (c->wfd != -1 && c->wfd != c->rfd)
		close(c->wfd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

/* Read what is there: 0, or -1 on EOF or an error. */
static int
conn_read(struct conn *c)
{
	ssize_t	n;

	for (;;) {
		buf_reserve(&c->in, 256 * 1024);
		n = read(c->rfd, c->in.data + c->in.len,
		    c->in.size - c->in.len);
		if (n > 0) {
			c->in.len += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		return (-1);
	}
}

/* The next complete line (valid until the next read), or 0 if none. */
static int
conn_line(struct conn *c, const char **line, size_t *len)
{
	char	*start = c->in.data + c->in.off, *nl;
	size_t	 avail = c->in.len - c->in.off;

	if (avail == 0 || (nl = memchr(start + c->scanned, '\n',
	    avail - c->scanned)) == NULL) {
		c->scanned = avail;
		return (0);
	}
	*line = start;
	*len = (size_t)(nl - start);
	c->in.off += *len + 1;
	c->scanned = 0;
	if (c->in.off == c->in.len)
		c->in.off = c->in.len = 0;
	return (1);
}

/* Write what is queued: 0 when all is out, 1 if some is left, -1. */
static int
conn_flush(struct conn *c)
{
	ssize_t	n;

	while (c->out.off < c->out.len) {
		n = write(c->wfd, c->out.data + c->out.off,
		    c->out.len - c->out.off);
		if (n > 0) {
			c->out.off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (1);
		return (-1);
	}
	c->out.off = c->out.len = 0;
	return (0);
}

/* A connection to the broker's socket. */
static struct conn *
conn_unix(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, "socket path too long: %s", path);
		return (NULL);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (NULL);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		xasprintf(cause, "connect %s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	return (conn_new(fd, fd, 0));
}

/*
 * Send one request line and wait for the answer with that id (other lines
 * are skipped); returns the answer's line, which the caller frees, or NULL
 * on EOF or timeout.
 */
static char *
conn_call(struct conn *c, const char *request, uint64_t id, int timeout_ms)
{
	struct pollfd	 pfd[2];
	const char	*line;
	size_t		 len;
	uint64_t	 got, deadline;
	int		 error, r;

	deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	buf_append(&c->out, request, strlen(request));
	for (;;) {
		if ((r = conn_flush(c)) == -1)
			return (NULL);
		while (conn_line(c, &line, &len)) {
			if (scan_answer(line, len, &got, &error) && got == id)
				return (xstrndup(line, len));
		}
		if (now_ns() > deadline)
			return (NULL);
		pfd[0].fd = c->rfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->wfd;
		pfd[1].events = r == 1 ? POLLOUT : 0;
		if (poll(pfd, r == 1 ? 2 : 1, 100) > 0 &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    conn_read(c) == -1) {
			/* What arrived with the EOF still counts. */
			while (conn_line(c, &line, &len)) {
				if (scan_answer(line, len, &got, &error) &&
				    got == id)
					return (xstrndup(line, len));
			}
			return (NULL);
		}
	}
}

/* Queue one tools/call of stream s under id. */
static void
request_write(struct bench *b, struct stream *s, uint64_t id)
{
	struct buf	*o = &s->conn->out;
	char		 thread[32];
	const char	*t = s->thread;

	if (s->nthreads > 0) {
		snprintf(thread, sizeof thread, "w%d",
		    (int)(bench_random(b) % (uint64_t)s->nthreads));
		t = thread;
	}
	if (s->server != NULL)
		buf_printf(o, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":"
		    "\"tools/call\",\"params\":{\"server\":\"%s\",\"thread\":"
		    "\"%s\",%s}}\n", (unsigned long long)id, s->server, t,
		    s->tool);
	else
		buf_printf(o, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":"
		    "\"tools/call\",\"params\":{%s}}\n",
		    (unsigned long long)id, s->tool);
}

static void
stream_init(struct stream *s, struct conn *c, const char *server,
    const char *thread, const char *tool, int window)
{
	memset(s, 0, sizeof *s);
	s->conn = c;
	s->server = server;
	snprintf(s->thread, sizeof s->thread, "%s", thread);
	s->tool = tool;
	s->window = window;
}

/*
 * Make total calls over the streams (each keeping its window in flight),
 * adding each call's latency and the wall time to t. Returns 0, or -1 if
 * a connection broke or the phase timed out.
 */
static int
run_calls(struct bench *b, struct stream *streams, int nstreams, long total,
    struct tally *t)
{
	struct conn	**conns;
	struct pollfd	 *pfd;
	struct stream	 *s;
	const char	 *line;
	size_t		  len;
	uint64_t	  t0, now, id, deadline, cpu0 = 0, daemon0 = 0;
	long		  outstanding = 0;
	int		  nconns = 0, i, j, k, slot, si, error, npfd;

	if (nstreams > STREAM_MAX)
		bench_fatal("too many streams: %d", nstreams);
	conns = xcalloc((size_t)nstreams, sizeof *conns);
	pfd = xcalloc((size_t)nstreams * 2, sizeof *pfd);
	for (i = 0; i < nstreams; i++) {
		s = &streams[i];
		s->remaining = total / nstreams + (i < total % nstreams);
		s->inflight = 0;
		memset(s->ids, 0, sizeof s->ids);
		for (j = 0; j < nconns && conns[j] != s->conn; j++)
			;
		if (j == nconns)
			conns[nconns++] = s->conn;
	}

	cpu0 = tally_cpu_ns(t);
	if (t->track_daemon)
		daemon0 = proc_cpu_ns(b->main_pid);
	t0 = now_ns();
	deadline = t0 + (uint64_t)PHASE_TIMEOUT_MS * 1000000;
	for (i = 0; i < nstreams; i++) {
		s = &streams[i];
		for (slot = 0; slot < s->window && s->remaining > 0; slot++) {
			id = (++b->seq << 24) | ((uint64_t)i << 8) |
			    (uint64_t)slot;
			s->ids[slot] = id;
			s->start[slot] = now_ns();
			request_write(b, s, id);
			s->remaining--;
			s->inflight++;
			outstanding++;
		}
	}
	for (j = 0; j < nconns; j++) {
		if (conn_flush(conns[j]) == -1)
			goto broken;
	}

	while (outstanding > 0) {
		npfd = 0;
		for (j = 0; j < nconns; j++) {
			pfd[npfd].fd = conns[j]->rfd;
			pfd[npfd++].events = POLLIN;
			if (conns[j]->out.len > conns[j]->out.off) {
				pfd[npfd].fd = conns[j]->wfd;
				pfd[npfd++].events = POLLOUT;
			}
		}
		if (poll(pfd, (nfds_t)npfd, 1000) == -1 && errno != EINTR)
			bench_fatal("poll: %s", strerror(errno));
		now = now_ns();
		if (now > deadline) {
			snprintf(t->first_error, sizeof t->first_error,
			    "timed out with %ld calls outstanding",
			    outstanding);
			goto broken;
		}
		for (k = 0; k < npfd; k++) {
			struct conn	*c = NULL;

			if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
			    == 0 || pfd[k].events != POLLIN)
				continue;
			for (j = 0; j < nconns; j++) {
				if (conns[j]->rfd == pfd[k].fd)
					c = conns[j];
			}
			if (conn_read(c) == -1) {
				snprintf(t->first_error, sizeof t->first_error,
				    "a connection closed with %ld calls "
				    "outstanding", outstanding);
				goto broken;
			}
			now = now_ns();
			while (conn_line(c, &line, &len)) {
				if (!scan_answer(line, len, &id, &error))
					continue;
				si = (int)((id >> 8) & 0xffff);
				slot = (int)(id & 0xff);
				if (si >= nstreams || slot >= STREAM_MAX_WINDOW
				    || streams[si].ids[slot] != id)
					continue;	/* not ours */
				s = &streams[si];
				samples_add(&t->lat, now - s->start[slot]);
				t->calls++;
				if (error && t->errors++ == 0)
					snprintf(t->first_error,
					    sizeof t->first_error, "%.*s",
					    (int)(len > 280 ? 280 : len), line);
				s->ids[slot] = 0;
				s->inflight--;
				outstanding--;
				if (s->remaining > 0) {
					id = (++b->seq << 24) |
					    ((uint64_t)si << 8) |
					    (uint64_t)slot;
					s->ids[slot] = id;
					s->start[slot] = now_ns();
					request_write(b, s, id);
					s->remaining--;
					s->inflight++;
					outstanding++;
				}
			}
		}
		for (j = 0; j < nconns; j++) {
			if (conns[j]->out.len > conns[j]->out.off &&
			    conn_flush(conns[j]) == -1)
				goto broken;
		}
	}
	t->busy_ns += now_ns() - t0;
	t->cpu_ns += tally_cpu_ns(t) - cpu0;
	if (t->track_daemon)
		t->daemon_ns += proc_cpu_ns(b->main_pid) - daemon0;
	free(conns);
	free(pfd);
	return (0);

broken:
	if (t->first_error[0] == '\0')
		snprintf(t->first_error, sizeof t->first_error,
		    "a connection broke");
	t->errors++;
	free(conns);
	free(pfd);
	return (-1);
}

/*
 * Spawn argv with stdin and stdout on pipes (stderr to /dev/null), in its
 * own process group, on the servers' CPU, dying with this process.
 */
static struct conn *
server_spawn(struct bench *b, char *const argv[])
{
	int	in[2], out[2], null;
	pid_t	pid, parent = getpid();

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		bench_fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		bench_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		pin_to(b->cpu_servers);
		null = open("/dev/null", O_WRONLY);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	return (conn_new(out[0], in[1], pid));
}

/* The MCP handshake as a client: initialize, then initialized. */
static int
server_handshake(struct bench *b, struct conn *c)
{
	char	*req, *answer;
	int	 ok;

	(void)b;
	xasprintf(&req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":"
	    "\"mcp-bench-loadgen\",\"version\":\"1.0\"}}}\n", BENCH_PROTOCOL);
	answer = conn_call(c, req, 1, CALL_TIMEOUT_MS);
	free(req);
	ok = answer != NULL && strstr(answer, "\"result\"") != NULL;
	free(answer);
	if (!ok)
		return (-1);
	buf_printf(&c->out, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}\n");
	return (conn_flush(c) == -1 ? -1 : 0);
}

/*
 * Stop a directly spawned server: stdin EOF, then after grace_ms SIGTERM
 * to its group, then SIGKILL; it is reaped here.
 */
static void
server_stop(struct conn *c, int grace_ms)
{
	uint64_t	deadline;
	pid_t		pid = c->pid;
	int		status, step;

	close(c->wfd);
	if (c->rfd == c->wfd)
		c->rfd = -1;
	c->wfd = -1;
	for (step = 0; step < 3; step++) {
		deadline = now_ns() + (uint64_t)grace_ms * 1000000;
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (now_ns() > deadline)
				break;
			sleep_ms(1);
		}
		if (waitpid(pid, &status, WNOHANG) != 0)
			break;
		kill(-pid, step == 0 ? SIGTERM : SIGKILL);
	}
	if (step == 3)
		waitpid(pid, &status, 0);
	kill(-pid, SIGKILL);	/* anything left in its group */
	conn_free(c);
}

/* A directly spawned, initialised echo server. */
static struct conn *
echo_spawn(struct bench *b)
{
	char		*argv[] = { b->echo_path, NULL };
	struct conn	*c = server_spawn(b, argv);

	if (server_handshake(b, c) == -1)
		bench_fatal("the echo server %s did not initialise",
		    b->echo_path);
	return (c);
}

/*
 * Give the daemon an HTTP listener on a free loopback port, with a tokens
 * file of one token for this process's user (mode 0600) in its directory;
 * the port and the token are kept in b. Returns 0, or -1.
 */
static int
daemon_http(struct bench *b, struct daemon *d, cJSON *broker)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof sin;
	struct passwd		*pw;
	unsigned char		 raw[24];
	cJSON			*http, *listen;
	char			 addr[64];
	FILE			*f;
	size_t			 i;
	int			 fd;

	/* A port nobody holds now (the daemon binds it right after). */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == -1) {
		close(fd);
		return (-1);
	}
	close(fd);
	b->http_port = ntohs(sin.sin_port);

	if ((pw = getpwuid(geteuid())) == NULL ||
	    getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return (-1);
	for (i = 0; i < sizeof raw; i++)
		snprintf(b->http_token + 2 * i, 3, "%02x", raw[i]);
	snprintf(d->tokens, sizeof d->tokens, "%s/http-tokens", d->dir);
	fd = open(d->tokens, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL)
		return (-1);
	fprintf(f, "%s %s\n", pw->pw_name, b->http_token);
	if (fclose(f) != 0)
		return (-1);

	snprintf(addr, sizeof addr, "127.0.0.1:%d", b->http_port);
	http = cJSON_AddObjectToObject(broker, "http");
	listen = cJSON_AddArrayToObject(http, "listen");
	cJSON_AddItemToArray(listen, cJSON_CreateString(addr));
	cJSON_AddStringToObject(http, "tokens_file", d->tokens);
	return (0);
}

/*
 * Start mcp-brokerd with broker members (socket added) and servers (both
 * taken), on the servers' CPU, with RLIMIT_NOFILE raised as far as the
 * hard limit allows; with http, an HTTP listener too (daemon_http). Waits
 * until it listens.
 */
static struct daemon *
daemon_start(struct bench *b, cJSON *broker, cJSON *servers, int http)
{
	struct daemon	*d = xcalloc(1, sizeof *d);
	struct conn	*c;
	struct rlimit	 rl;
	cJSON		*root;
	char		*text, *cause, daemon_path[PATH_MAX], *argv[32];
	FILE		*f;
	uint64_t	 deadline;
	int		 fd, argc = 0;
	pid_t		 parent = getpid();

	snprintf(d->dir, sizeof d->dir, "/tmp/mcpb-bench.XXXXXX");
	if (mkdtemp(d->dir) == NULL)
		bench_fatal("mkdtemp: %s", strerror(errno));
	snprintf(d->sock, sizeof d->sock, "%s/broker.sock", d->dir);
	snprintf(d->config, sizeof d->config, "%s/broker.json", d->dir);
	snprintf(d->log, sizeof d->log, "%s/broker.log", d->dir);
	snprintf(daemon_path, sizeof daemon_path, "%s/mcp-brokerd", b->build);
	if (http && daemon_http(b, d, broker) == -1)
		bench_fatal("the HTTP listener's port or tokens file in %s: %s",
		    d->dir, strerror(errno));

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(broker, "socket", d->sock);
	cJSON_AddItemToObject(root, "broker", broker);
	cJSON_AddItemToObject(root, "mcpServers", servers);
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if ((f = fopen(d->config, "w")) == NULL)
		bench_fatal("%s: %s", d->config, strerror(errno));
	fprintf(f, "%s\n", text);
	fclose(f);
	free(text);

	getrlimit(RLIMIT_NOFILE, &rl);
	d->nofile = rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max > DAEMON_NOFILE ? DAEMON_NOFILE : (long)rl.rlim_max;

	if (b->wrapper != NULL) {
		char	*copy = xstrdup(b->wrapper), *w, *save;

		for (w = strtok_r(copy, " ", &save); w != NULL && argc < 24;
		    w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
	}
	argv[argc++] = daemon_path;
	argv[argc++] = (char *)"--config";
	argv[argc++] = d->config;
	argv[argc] = NULL;

	if ((d->pid = fork()) == -1)
		bench_fatal("fork: %s", strerror(errno));
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		rl.rlim_cur = rl.rlim_max = (rlim_t)d->nofile;
		setrlimit(RLIMIT_NOFILE, &rl);
		pin_to(b->cpu_servers);		/* taskset -c */
		fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	bench_daemon_pid = d->pid;
	if (b->nlive < 4)
		b->live[b->nlive++] = d->pid;

	deadline = now_ns() + 60ULL * 1000000000;
	for (;;) {
		if ((c = conn_unix(d->sock, &cause)) != NULL) {
			conn_free(c);
			return (d);
		}
		free(cause);
		if (waitpid(d->pid, &fd, WNOHANG) != 0 || now_ns() > deadline)
			bench_fatal("mcp-brokerd did not start (log: %s)",
			    d->log);
		sleep_ms(10);
	}
}

/*
 * SIGTERM and wait; 0 if it exited 0 and left nothing running. The
 * temporary directory goes too (unless it failed: the log stays).
 */
static int
daemon_stop(struct bench *b, struct daemon *d)
{
	uint64_t	deadline = now_ns() + 120ULL * 1000000000;
	int		status = 0, bad = 0, left, i;

	kill(d->pid, SIGTERM);
	while (waitpid(d->pid, &status, WNOHANG) == 0) {
		if (now_ns() > deadline) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			bad = 1;
			break;
		}
		sleep_ms(10);
	}
	bench_daemon_pid = 0;
	for (i = 0; i < b->nlive; i++) {
		if (b->live[i] == d->pid)
			b->live[i] = b->live[--b->nlive];
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "mcp-brokerd exited with status %#x (log: %s)"
		    "\n", status, d->log);
		bad = 1;
	}
	if ((left = leftover_children(b, 1)) > 0) {
		fprintf(stderr, "mcp-brokerd left %d processes behind\n", left);
		bad = 1;
	}
	if (!bad) {
		unlink(d->log);
		unlink(d->config);
		unlink(d->sock);
		if (d->tokens[0] != '\0')
			unlink(d->tokens);
		rmdir(d->dir);
	}
	free(d);
	return (bad ? -1 : 0);
}

/* A broker method's answer (the whole response, caller frees). */
static cJSON *
broker_call(struct bench *b, struct conn *c, const char *method,
    const char *params)
{
	char	*req, *answer;
	cJSON	*r;
	uint64_t id = ++b->seq << 24 | 0xffff00;

	xasprintf(&req, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"%s\","
	    "\"params\":%s}\n", (unsigned long long)id, method, params);
	answer = conn_call(c, req, id, CALL_TIMEOUT_MS);
	free(req);
	if (answer == NULL)
		bench_fatal("no answer to %s", method);
	r = cJSON_Parse(answer);
	free(answer);
	if (r == NULL || cJSON_GetObjectItemCaseSensitive(r, "result") == NULL)
		bench_fatal("%s failed", method);
	return (r);
}

/* A counter from broker/status (or "clients"). */
static double
broker_counter(struct bench *b, struct conn *c, const char *name)
{
	cJSON	*r, *res, *v;
	double	 x;

	r = broker_call(b, c, "broker/status", "{}");
	res = cJSON_GetObjectItemCaseSensitive(r, "result");
	v = cJSON_GetObjectItemCaseSensitive(res, name);
	if (v == NULL)
		v = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(res, "counters"), name);
	x = cJSON_IsNumber(v) ? v->valuedouble : -1;
	cJSON_Delete(r);
	return (x);
}

/* VmRSS of pid in KiB (its own pages only: children are not counted). */
static long
proc_rss_kib(pid_t pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kib = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return (kib);
}

/*
 * The CPU time pid has used, in ns: se.sum_exec_runtime from
 * /proc/PID/sched (ns precision), else utime + stime from /proc/PID/stat.
 */
static uint64_t
proc_cpu_ns(pid_t pid)
{
	char		 path[64], line[256], *p;
	FILE		*f;
	double		 ms;
	unsigned long	 ut, st;

	if (pid <= 0)
		return (0);
	snprintf(path, sizeof path, "/proc/%ld/sched", (long)pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (strncmp(line, "se.sum_exec_runtime", 19) == 0 &&
			    (p = strchr(line, ':')) != NULL &&
			    sscanf(p + 1, "%lf", &ms) == 1) {
				fclose(f);
				return ((uint64_t)(ms * 1e6));
			}
		}
		fclose(f);
	}
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	p = fgets(line, sizeof line, f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return (0);
	return ((uint64_t)(ut + st) * (1000000000ULL /
	    (uint64_t)sysconf(_SC_CLK_TCK)));
}

/* The CPU time of the processes a tally follows, added up. */
static uint64_t
tally_cpu_ns(struct tally *t)
{
	uint64_t	ns = 0;
	int		i;

	for (i = 0; i < t->ncpu_pids; i++)
		ns += proc_cpu_ns(t->cpu_pids[i]);
	return (ns);
}

/* The pid of the child behind (server, thread), from broker/session. */
static pid_t
session_pid(struct bench *b, struct conn *c, const char *server,
    const char *thread)
{
	char	 params[256];
	cJSON	*r, *pid;
	pid_t	 p = 0;

	snprintf(params, sizeof params, "{\"server\":\"%s\",\"thread\":"
	    "\"%s\"}", server, thread);
	r = broker_call(b, c, "broker/session", params);
	pid = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(r, "result"), "pid");
	if (cJSON_IsNumber(pid))
		p = (pid_t)pid->valuedouble;
	cJSON_Delete(r);
	return (p);
}

/* How many descriptors pid has open. */
static int
proc_nfds(pid_t pid)
{
	char		 path[64];
	DIR		*dir;
	struct dirent	*de;
	int		 n = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(dir);
	return (n);
}

/*
 * Reap what has exited and count this process's children still running
 * (this process is a subreaper: orphans of the daemon or the gateway come
 * here). With kill_them, each is killed (by its pid) and reaped.
 */
static int
leftover_children(struct bench *b, int kill_them)
{
	struct dirent	*de;
	DIR		*proc;
	char		 path[64], buf[512], *p, state;
	long		 ppid;
	FILE		*f;
	size_t		 n;
	int		 count = 0, status, i;
	pid_t		 pid;

	while (waitpid(-1, &status, WNOHANG) > 0)
		;
	if ((proc = opendir("/proc")) == NULL)
		return (0);
	while ((de = readdir(proc)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%.32s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %c %ld", &state, &ppid) != 2 ||
		    ppid != (long)getpid())
			continue;
		pid = (pid_t)atol(de->d_name);
		for (i = 0; i < b->nlive && b->live[i] != pid; i++)
			;
		if (i < b->nlive)
			continue;	/* a daemon still running */
		if (state != 'Z')
			count++;
		if (kill_them) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	closedir(proc);
	return (count);
}

/* A latency in µs, to a precision that suits its size. */
static void
fmt_us(char *out, size_t size, double us)
{
	if (us < 100)
		snprintf(out, size, "%.1f µs", us);
	else if (us < 100000)
		snprintf(out, size, "%.0f µs", us);
	else
		snprintf(out, size, "%.0f ms", us / 1000);
}

static void
fmt_ratio(char *out, size_t size, double r)
{
	if (r < 0.01)
		snprintf(out, size, "%.4f×", r);
	else
		snprintf(out, size, "%.2f×", r);
}

/*
 * Rows for p50, p99, p99.9 of broker vs base; the p50 ratio is held to
 * target_p50 (at most; 0: none). Also a plot group named after the
 * scenario.
 */
static void
report_latency(struct bench *b, const char *scenario, const char *basename,
    struct tally *broker, struct tally *base, double target_p50)
{
	struct pct	 pb = samples_pct(&broker->lat);
	struct pct	 pd = samples_pct(&base->lat);
	const double	*vb[3] = { &pb.p50, &pb.p99, &pb.p999 };
	const double	*vd[3] = { &pd.p50, &pd.p99, &pd.p999 };
	const char	*names[3] = { "p50", "p99", "p99.9" };
	char		 metric[64], sb[40], sd[48], sr[24], st[32], sm[16];
	int		 i;

	for (i = 0; i < 3; i++) {
		snprintf(metric, sizeof metric, "latency %s", names[i]);
		fmt_us(sb, sizeof sb, *vb[i]);
		fmt_us(sd, sizeof sd, *vd[i]);
		if (basename != NULL) {
			char	tmp[48];

			snprintf(tmp, sizeof tmp, "%.16s (%.28s)", sd,
			    basename);
			snprintf(sd, sizeof sd, "%s", tmp);
		}
		fmt_ratio(sr, sizeof sr, *vd[i] > 0 ? *vb[i] / *vd[i] : 0);
		st[0] = sm[0] = '\0';
		if (i == 0 && target_p50 > 0) {
			snprintf(st, sizeof st, "≤ %g×", target_p50);
			snprintf(sm, sizeof sm, "%s", *vb[i] <=
			    target_p50 * *vd[i] ? "yes" : "**no**");
		}
		bench_row(b, scenario, metric, sb, sd, sr, st[0] ? st : "—",
		    sm[0] ? sm : "—");
	}
	bench_plot(b, scenario, &pb, &pd);
	if (broker->errors > 0 || base->errors > 0) {
		bench_note(b, "%s: %ld broker errors, %ld base errors; first: "
		    "%s", scenario, broker->errors, base->errors,
		    broker->errors > 0 ? broker->first_error :
		    base->first_error);
		b->failed = 1;
	}
}

/* A rate row (higher is better); the ratio is held to at least target. */
static void
report_rate(struct bench *b, const char *scenario, const char *metric,
    double broker, double base, double target, int decimals)
{
	char	sb[40], sd[48], sr[24], st[32], sm[16];

	snprintf(sb, sizeof sb, "%.*f", decimals, broker);
	if (base >= 0) {
		snprintf(sd, sizeof sd, "%.*f", decimals, base);
		fmt_ratio(sr, sizeof sr, base > 0 ? broker / base : 0);
	} else {
		snprintf(sd, sizeof sd, "—");
		snprintf(sr, sizeof sr, "—");
	}
	if (target > 0) {
		snprintf(st, sizeof st, "≥ %g×", target);
		snprintf(sm, sizeof sm, "%s",
		    broker >= target * base ? "yes" : "**no**");
	} else {
		snprintf(st, sizeof st, "—");
		snprintf(sm, sizeof sm, "—");
	}
	bench_row(b, scenario, metric, sb, sd, sr, st, sm);
}

/*
 * Where the CPU goes per call: through the broker, the daemon and its
 * echo children (and the daemon apart); direct, the echo servers. Each is
 * the processes' own time (/proc/PID/sched), kernel work on their behalf
 * included.
 */
static void
report_cpu(struct bench *b, const char *scenario, struct tally *broker,
    struct tally *base)
{
	char	sb[40], sd[48], sr[24];
	double	cb, cd, dd;

	if (broker->calls == 0 || base->calls == 0 || b->main_pid <= 0)
		return;
	cb = (double)broker->cpu_ns / 1000.0 / (double)broker->calls;
	cd = (double)base->cpu_ns / 1000.0 / (double)base->calls;
	dd = (double)broker->daemon_ns / 1000.0 / (double)broker->calls;
	snprintf(sb, sizeof sb, "%.1f µs", cb);
	snprintf(sd, sizeof sd, "%.1f µs", cd);
	fmt_ratio(sr, sizeof sr, cd > 0 ? cb / cd : 0);
	bench_row(b, scenario, "CPU per call (servers' CPU)", sb, sd, sr, "—",
	    "—");
	snprintf(sb, sizeof sb, "%.1f µs", dd);
	bench_row(b, scenario, "of which the daemon's", sb, "—", "—", "—",
	    "—");
}

/* Scenario 1: one client, one thread, one call at a time. */
static void
scenario_sequential(struct bench *b, struct conn *bc)
{
	struct tally	 tb, td;
	struct stream	 sb, sd;
	struct conn	*dc = echo_spawn(b);
	long		 n = bench_calls(b, SEQ_CALLS);
	int		 round;

	fprintf(stderr, "scenario 1: sequential, 5 x %ld calls per mode\n", n);
	memset(&tb, 0, sizeof tb);
	memset(&td, 0, sizeof td);
	stream_init(&sb, bc, "echo", "seq", ECHO_ARGS, 1);
	stream_init(&sd, dc, NULL, "", ECHO_ARGS, 1);
	{
		struct tally	warm;

		memset(&warm, 0, sizeof warm);
		if (run_calls(b, &sb, 1, 500, &warm) == -1 ||
		    run_calls(b, &sd, 1, 500, &warm) == -1 || warm.errors > 0)
			bench_fatal("scenario 1 warm-up: %s", warm.first_error);
		free(warm.lat.v);
	}
	tb.cpu_pids[tb.ncpu_pids++] = b->main_pid;
	tb.cpu_pids[tb.ncpu_pids++] = session_pid(b, bc, "echo", "seq");
	tb.track_daemon = 1;
	td.cpu_pids[td.ncpu_pids++] = dc->pid;
	for (round = 0; round < 5; round++) {
		if (run_calls(b, &sb, 1, n, &tb) == -1 ||
		    run_calls(b, &sd, 1, n, &td) == -1)
			break;
	}
	report_latency(b, "1 sequential", NULL, &tb, &td, 1.5);
	report_cpu(b, "1 sequential", &tb, &td);
	report_rate(b, "1 sequential", "calls/s",
	    (double)tb.calls / ((double)tb.busy_ns / 1e9),
	    (double)td.calls / ((double)td.busy_ns / 1e9), 0, 0);
	server_stop(dc, 2000);
	free(tb.lat.v);
	free(td.lat.v);
}

/*
 * Scenario 2: 16 threads over 4 connections, 4 calls in flight each (64
 * in all); direct: 16 echo servers, 4 pipelined each.
 */
static void
scenario_inflight(struct bench *b, struct conn **bconns)
{
	struct tally	 tb, td, warm;
	struct stream	 sb[16], sd[16];
	struct conn	*dc[16];
	char		 thread[16];
	long		 n = bench_calls(b, INFLIGHT_CALLS);
	int		 i, round;

	fprintf(stderr, "scenario 2: 64 in flight, 5 x %ld calls per mode\n",
	    n);
	memset(&tb, 0, sizeof tb);
	memset(&td, 0, sizeof td);
	memset(&warm, 0, sizeof warm);
	for (i = 0; i < 16; i++) {
		snprintf(thread, sizeof thread, "par%d", i);
		stream_init(&sb[i], bconns[i / 4], "echo", thread, ECHO_ARGS,
		    4);
		dc[i] = echo_spawn(b);
		stream_init(&sd[i], dc[i], NULL, "", ECHO_ARGS, 4);
	}
	if (run_calls(b, sb, 16, 2000, &warm) == -1 ||
	    run_calls(b, sd, 16, 2000, &warm) == -1 || warm.errors > 0)
		bench_fatal("scenario 2 warm-up: %s", warm.first_error);
	free(warm.lat.v);
	tb.cpu_pids[tb.ncpu_pids++] = b->main_pid;
	tb.track_daemon = 1;
	for (i = 0; i < 16; i++) {
		tb.cpu_pids[tb.ncpu_pids++] = session_pid(b, bconns[0], "echo",
		    sb[i].thread);
		td.cpu_pids[td.ncpu_pids++] = dc[i]->pid;
	}
	for (round = 0; round < 5; round++) {
		if (run_calls(b, sb, 16, n, &tb) == -1 ||
		    run_calls(b, sd, 16, n, &td) == -1)
			break;
	}
	report_rate(b, "2 64 in flight", "calls/s",
	    (double)tb.calls / ((double)tb.busy_ns / 1e9),
	    (double)td.calls / ((double)td.busy_ns / 1e9), 0.5, 0);
	report_latency(b, "2 64 in flight", NULL, &tb, &td, 0);
	report_cpu(b, "2 64 in flight", &tb, &td);
	for (i = 0; i < 16; i++)
		server_stop(dc[i], 2000);
	free(tb.lat.v);
	free(td.lat.v);
}

/* Scenario 3: 1 MiB results, one call at a time on one key. */
static void
scenario_payload(struct bench *b, struct conn *bc)
{
	struct tally	 tb, td, warm;
	struct stream	 sb, sd;
	struct conn	*dc = echo_spawn(b);
	char		 args[128];
	long		 n = bench_calls(b, BLOB_CALLS);
	double		 mb, md;
	int		 round;

	fprintf(stderr, "scenario 3: 1 MiB results, 5 x %ld calls per mode\n",
	    n);
	memset(&tb, 0, sizeof tb);
	memset(&td, 0, sizeof td);
	memset(&warm, 0, sizeof warm);
	snprintf(args, sizeof args, "\"name\":\"blob\",\"arguments\":"
	    "{\"bytes\":%d}", BLOB_BYTES);
	stream_init(&sb, bc, "echo", "blob", args, 1);
	stream_init(&sd, dc, NULL, "", args, 1);
	if (run_calls(b, &sb, 1, 20, &warm) == -1 ||
	    run_calls(b, &sd, 1, 20, &warm) == -1 || warm.errors > 0)
		bench_fatal("scenario 3 warm-up: %s", warm.first_error);
	free(warm.lat.v);
	tb.cpu_pids[tb.ncpu_pids++] = b->main_pid;
	tb.cpu_pids[tb.ncpu_pids++] = session_pid(b, bc, "echo", "blob");
	tb.track_daemon = 1;
	td.cpu_pids[td.ncpu_pids++] = dc->pid;
	for (round = 0; round < 5; round++) {
		if (run_calls(b, &sb, 1, n, &tb) == -1 ||
		    run_calls(b, &sd, 1, n, &td) == -1)
			break;
	}
	mb = (double)tb.calls * BLOB_BYTES / ((double)tb.busy_ns / 1e9) / 1e6;
	md = (double)td.calls * BLOB_BYTES / ((double)td.busy_ns / 1e9) / 1e6;
	report_rate(b, "3 1 MiB results", "MB/s (10^6 B of text)", mb, md,
	    0.5, 1);
	report_latency(b, "3 1 MiB results", NULL, &tb, &td, 0);
	report_cpu(b, "3 1 MiB results", &tb, &td);
	server_stop(dc, 2000);
	free(tb.lat.v);
	free(td.lat.v);
}

/*
 * One cold start through the broker: the first call of a new key on
 * server, then (untimed) the key is closed and the child given a moment
 * to go.
 */
static void
cold_broker(struct bench *b, struct conn *bc, const char *server,
    struct tally *t)
{
	static int	 key;
	struct stream	 s;
	char		 thread[32], params[128];
	cJSON		*r;

	snprintf(thread, sizeof thread, "cold%d", key++);
	stream_init(&s, bc, server, thread, ECHO_ARGS, 1);
	if (run_calls(b, &s, 1, 1, t) == -1)
		bench_fatal("scenario 5: %s", t->first_error);
	snprintf(params, sizeof params, "{\"server\":\"%s\",\"thread\":"
	    "\"%s\"}", server, thread);
	r = broker_call(b, bc, "broker/close", params);
	cJSON_Delete(r);
	sleep_ms(3);
}

/*
 * One cold start direct: spawn the echo server, initialise it, call once;
 * then (untimed) stop it.
 */
static void
cold_direct(struct bench *b, struct tally *t)
{
	char		*argv[] = { b->echo_path, NULL };
	char		*answer, req[256];
	struct conn	*c;
	uint64_t	 t0 = now_ns();

	c = server_spawn(b, argv);
	if (server_handshake(b, c) == -1)
		bench_fatal("the echo server did not initialise");
	snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tools/call\",\"params\":{%s}}\n", ECHO_ARGS);
	if ((answer = conn_call(c, req, 2, CALL_TIMEOUT_MS)) == NULL)
		bench_fatal("the echo server did not answer");
	samples_add(&t->lat, now_ns() - t0);
	t->calls++;
	free(answer);
	server_stop(c, 2000);
	sleep_ms(3);
}

/*
 * Scenario 5: a new key's first answer, against spawning the echo server,
 * initialising it and calling once; the three kinds alternate in rounds.
 */
static void
scenario_cold(struct bench *b, struct conn *bc)
{
	struct tally	 tb, tl, td;
	long		 n = bench_calls(b, COLD_CALLS), i;
	int		 round;

	fprintf(stderr, "scenario 5: cold start, 5 x %ld per mode\n", n);
	memset(&tb, 0, sizeof tb);
	memset(&tl, 0, sizeof tl);
	memset(&td, 0, sizeof td);
	for (round = 0; round < 5; round++) {
		for (i = 0; i < n; i++)
			cold_broker(b, bc, "echo", &tb);
		for (i = 0; i < n; i++)
			cold_broker(b, bc, "echo-legacy", &tl);
		for (i = 0; i < n; i++)
			cold_direct(b, &td);
	}
	report_latency(b, "5 cold start", "spawn+init+call", &tb, &td, 0);
	report_latency(b, "5 cold start, legacy", "spawn+init+call", &tl, &td,
	    0);
	b->nplots--;	/* one cold-start group in the plot is enough */
	bench_note(b, "Scenario 5: server \"echo\" has the default protocol "
	    "\"auto\" (server/discover is tried first, the echo server "
	    "answers -32601, then initialize); \"echo-legacy\" has protocol "
	    "\"legacy\" (initialize at once), like the direct path.");
	free(tb.lat.v);
	free(tl.lat.v);
	free(td.lat.v);
}

/*
 * Scenario 4: 1,000 threads, max_sessions 256, 16 calls in flight over 4
 * connections, each call to a random thread: most calls evict the least
 * recently used idle session and start a child.
 */
static void
scenario_churn(struct bench *b)
{
	struct daemon	*d;
	struct conn	*ctl, *conns[4];
	struct stream	 s[16];
	struct tally	 t, warm;
	cJSON		*broker, *servers, *e;
	char		*cause, sr[48];
	double		 started0, evicted0, started, evicted, secs;
	long		 n = bench_calls(b, CHURN_CALLS);
	struct pct	 p, none = { 0, 0, 0, 0 };
	int		 i, round;

	fprintf(stderr, "scenario 4: 1,000 threads, max_sessions 256, "
	    "3 x %ld calls\n", n);
	broker = cJSON_CreateObject();
	cJSON_AddNumberToObject(broker, "max_sessions", 256);
	/* One user drives the whole load: no per-uid bound. */
	cJSON_AddNumberToObject(broker, "max_sessions_per_uid", 0);
	cJSON_AddNumberToObject(broker, "shutdown_grace_ms", 2000);
	servers = cJSON_CreateObject();
	e = cJSON_AddObjectToObject(servers, "echo");
	cJSON_AddStringToObject(e, "command", b->echo_path);
	d = daemon_start(b, broker, servers, 0);
	if ((ctl = conn_unix(d->sock, &cause)) == NULL)
		bench_fatal("%s", cause);
	for (i = 0; i < 4; i++) {
		if ((conns[i] = conn_unix(d->sock, &cause)) == NULL)
			bench_fatal("%s", cause);
	}
	for (i = 0; i < 16; i++) {
		stream_init(&s[i], conns[i / 4], "echo", "", ECHO_ARGS, 1);
		s[i].nthreads = 1000;
	}
	memset(&t, 0, sizeof t);
	memset(&warm, 0, sizeof warm);
	if (run_calls(b, s, 16, bench_calls(b, CHURN_WARMUP), &warm) == -1 ||
	    warm.errors > 0)
		bench_fatal("scenario 4 warm-up: %s", warm.first_error);
	free(warm.lat.v);
	started0 = broker_counter(b, ctl, "sessions_started");
	evicted0 = broker_counter(b, ctl, "sessions_evicted");
	for (round = 0; round < 3; round++) {
		if (run_calls(b, s, 16, n, &t) == -1)
			break;
	}
	started = broker_counter(b, ctl, "sessions_started") - started0;
	evicted = broker_counter(b, ctl, "sessions_evicted") - evicted0;
	secs = (double)t.busy_ns / 1e9;
	p = samples_pct(&t.lat);

	fmt_us(sr, sizeof sr, p.p50);
	bench_row(b, "4 churn 1,000/256", "latency p50", sr, "—", "—", "—",
	    "—");
	fmt_us(sr, sizeof sr, p.p99);
	bench_row(b, "4 churn 1,000/256", "latency p99", sr, "—", "—", "—",
	    "—");
	fmt_us(sr, sizeof sr, p.p999);
	bench_row(b, "4 churn 1,000/256", "latency p99.9", sr, "—", "—", "—",
	    "—");
	report_rate(b, "4 churn 1,000/256", "calls/s",
	    (double)t.calls / secs, -1, 0, 0);
	report_rate(b, "4 churn 1,000/256", "spawns/s", started / secs, -1, 0,
	    0);
	report_rate(b, "4 churn 1,000/256", "sessions_evicted (counter)",
	    evicted, -1, 0, 0);
	report_rate(b, "4 churn 1,000/256", "hit rate %",
	    100.0 * (1.0 - started / (double)t.calls), -1, 0, 1);
	bench_plot(b, "4 churn 1,000/256", &p, &none);
	if (t.errors > 0) {
		bench_note(b, "scenario 4: %ld errors; first: %s", t.errors,
		    t.first_error);
		b->failed = 1;
	}
	free(t.lat.v);
	conn_free(ctl);
	for (i = 0; i < 4; i++)
		conn_free(conns[i]);
	if (daemon_stop(b, d) == -1)
		b->failed = 1;
}

/* The broker members for a scale daemon (socket added later). */
static cJSON *
scale_broker(int max_clients, int max_sessions)
{
	cJSON	*broker = cJSON_CreateObject();

	cJSON_AddNumberToObject(broker, "max_sessions", max_sessions);
	cJSON_AddNumberToObject(broker, "max_clients", max_clients);
	/* One user drives the whole load: no per-uid bounds. */
	cJSON_AddNumberToObject(broker, "max_sessions_per_uid", 0);
	cJSON_AddNumberToObject(broker, "max_clients_per_uid", 0);
	cJSON_AddNumberToObject(broker, "shutdown_grace_ms", 2000);
	return (broker);
}

/* Just the echo server. */
static cJSON *
scale_servers(struct bench *b)
{
	cJSON	*servers = cJSON_CreateObject(), *e;

	e = cJSON_AddObjectToObject(servers, "echo");
	cJSON_AddStringToObject(e, "command", b->echo_path);
	return (servers);
}

/*
 * Scenarios 6 and 7 on a fresh daemon: latency on one key as idle
 * connections and sessions are added and taken away, in blocks that
 * alternate with a reference daemon holding 1 session; the daemon's own
 * RSS before and after the connections and the sessions.
 */
static void
scenario_scale(struct bench *b)
{
	struct daemon	 *ref, *d;
	struct conn	 *rc, *ctl, *mc, **idle;
	struct stream	 *many, sr, sd;
	struct tally	  tref, tstate, tmp;
	cJSON		 *r;
	char		 *cause, thread[32], sb[40], sbase[48], sratio[24];
	char		  metric[64];
	long		  n = bench_calls(b, SCALE_CALLS);
	long		  rss0 = 0, rss1 = 0, rss2 = 0;
	int		  nsessions = 4096, nidle = 0, want, i, j, fds, room;
	int		  state, round, nconns1 = 0;
	uint64_t	  deadline;
	double		  per_session, per_conn;
	struct pct	  pr, ps;
	const char	 *states[5] = { "p50, 1 session", NULL,
			      NULL, "p50, 4,096 sessions", NULL };
	char		  names[5][64];
	const int	  held[5] = { 0, 0, 1, 1, 1 };

	fprintf(stderr, "scenarios 6, 7: 4,096 sessions, idle connections, "
	    "5 x %ld calls per daemon at each step\n", n / 5);
	ref = daemon_start(b, scale_broker(2, 16), scale_servers(b), 0);
	d = daemon_start(b, scale_broker(10100, nsessions),
	    scale_servers(b), 0);
	if ((rc = conn_unix(ref->sock, &cause)) == NULL ||
	    (ctl = conn_unix(d->sock, &cause)) == NULL ||
	    (mc = conn_unix(d->sock, &cause)) == NULL)
		bench_fatal("%s", cause);
	memset(&tmp, 0, sizeof tmp);
	stream_init(&sr, rc, "echo", "s0", ECHO_ARGS, 1);
	stream_init(&sd, mc, "echo", "s0", ECHO_ARGS, 1);
	if (run_calls(b, &sr, 1, 2000, &tmp) == -1 ||
	    run_calls(b, &sd, 1, 2000, &tmp) == -1 || tmp.errors > 0)
		bench_fatal("scenario 6 warm-up: %s", tmp.first_error);
	idle = xcalloc(10000, sizeof *idle);

	for (state = 0; state < 5; state++) {
		switch (state) {
		case 1:
			/* Idle connections, leaving room for the sessions. */
			sleep_ms(200);
			rss0 = proc_rss_kib(d->pid);
			fds = proc_nfds(d->pid);
			room = (int)d->nofile - fds - 3 * (nsessions - 1) -
			    DAEMON_FD_MARGIN;
			want = room < 10000 ? room : 10000;
			for (i = 0; i < want; i++) {
				if ((idle[i] = conn_unix(d->sock, &cause)) ==
				    NULL)
					bench_fatal("idle connection %d: %s",
					    i, cause);
			}
			nidle = nconns1 = want;
			deadline = now_ns() + 60ULL * 1000000000;
			while (broker_counter(b, ctl, "clients") < nidle + 2 &&
			    now_ns() < deadline)
				sleep_ms(20);
			sleep_ms(200);
			rss1 = proc_rss_kib(d->pid);
			snprintf(names[1], sizeof names[1], "p50, 1 session + "
			    "%d conns", nidle);
			states[1] = names[1];
			break;
		case 2:
			/* 4,095 more sessions, started 64 at a time. */
			many = xcalloc(64, sizeof *many);
			free(tmp.lat.v);
			memset(&tmp, 0, sizeof tmp);
			for (i = 1; i < nsessions; i += 64) {
				int	batch = nsessions - i < 64 ?
					    nsessions - i : 64;

				for (j = 0; j < batch; j++) {
					snprintf(thread, sizeof thread, "s%d",
					    i + j);
					stream_init(&many[j], ctl, "echo",
					    thread, ECHO_ARGS, 1);
				}
				if (run_calls(b, many, batch, batch, &tmp) ==
				    -1 || tmp.errors > 0)
					bench_fatal("scenario 6: starting "
					    "sessions: %s", tmp.first_error);
			}
			free(many);
			fprintf(stderr, "  %d sessions started in %.1f s\n",
			    nsessions, (double)tmp.busy_ns / 1e9);
			if (broker_counter(b, ctl, "sessions_started") !=
			    nsessions)
				bench_fatal("scenario 6: expected %d sessions",
				    nsessions);
			sleep_ms(200);
			rss2 = proc_rss_kib(d->pid);
			snprintf(names[2], sizeof names[2], "p50, 4,096 sess. "
			    "+ %d conns", nidle);
			states[2] = names[2];
			break;
		case 3:
			for (i = 0; i < nidle; i++)
				conn_free(idle[i]);
			nidle = 0;
			break;
		case 4:
			/* Sessions closed, up to 10,000 connections. */
			r = broker_call(b, ctl, "broker/close",
			    "{\"all\":true}");
			cJSON_Delete(r);
			deadline = now_ns() + 120ULL * 1000000000;
			while (proc_nfds(d->pid) > 3 * 2 + 64 &&
			    now_ns() < deadline)
				sleep_ms(50);
			sleep_ms(300);
			room = (int)d->nofile - proc_nfds(d->pid) -
			    DAEMON_FD_MARGIN;
			want = room < 10000 ? room : 10000;
			for (i = 0; i < want; i++) {
				if ((idle[i] = conn_unix(d->sock, &cause)) ==
				    NULL)
					bench_fatal("idle connection %d: %s",
					    i, cause);
			}
			nidle = want;
			deadline = now_ns() + 60ULL * 1000000000;
			while (broker_counter(b, ctl, "clients") < nidle + 2 &&
			    now_ns() < deadline)
				sleep_ms(20);
			free(tmp.lat.v);
			memset(&tmp, 0, sizeof tmp);
			if (run_calls(b, &sd, 1, 500, &tmp) == -1)
				bench_fatal("scenario 6: %s", tmp.first_error);
			snprintf(names[4], sizeof names[4], "p50, 1 session + "
			    "%d conns", nidle);
			states[4] = names[4];
			break;
		}

		/* The reference daemon and this one, in alternate blocks. */
		memset(&tref, 0, sizeof tref);
		memset(&tstate, 0, sizeof tstate);
		for (round = 0; round < 5; round++) {
			if (run_calls(b, &sr, 1, n / 5, &tref) == -1 ||
			    run_calls(b, &sd, 1, n / 5, &tstate) == -1)
				bench_fatal("scenario 6: %s %s",
				    tref.first_error, tstate.first_error);
		}
		pr = samples_pct(&tref.lat);
		ps = samples_pct(&tstate.lat);
		fmt_us(sb, sizeof sb, ps.p50);
		fmt_us(sbase, sizeof sbase, pr.p50);
		{
			char	tmpb[48];

			snprintf(tmpb, sizeof tmpb, "%.20s (1 session)",
			    sbase);
			snprintf(sbase, sizeof sbase, "%s", tmpb);
		}
		fmt_ratio(sratio, sizeof sratio, ps.p50 / pr.p50);
		snprintf(metric, sizeof metric, "%s", states[state]);
		bench_row(b, "6 scale", metric, sb, sbase, sratio,
		    state == 0 ? "—" : "≤ 1.1×", state == 0 ? "—" :
		    ps.p50 <= 1.1 * pr.p50 ? "yes" : "**no**");
		if (held[state] && state == 2) {
			fmt_us(sb, sizeof sb, ps.p99);
			fmt_us(sbase, sizeof sbase, pr.p99);
			fmt_ratio(sratio, sizeof sratio, ps.p99 / pr.p99);
			snprintf(metric, sizeof metric, "p99, 4,096 sess. + "
			    "%d conns", nidle);
			bench_row(b, "6 scale", metric, sb, sbase, sratio,
			    "—", "—");
			bench_plot(b, "6 scale (4,096 vs 1)", &ps, &pr);
		}
		free(tref.lat.v);
		free(tstate.lat.v);
	}

	per_session = (double)(rss2 - rss1) / (nsessions - 1);
	{
		per_conn = nconns1 > 0 ? (double)(rss1 - rss0) / nconns1 : 0;
		snprintf(sb, sizeof sb, "%.1f KiB", per_session);
		snprintf(sbase, sizeof sbase, "%ld → %ld KiB RSS", rss1, rss2);
		bench_row(b, "7 memory", "per idle session", sb, sbase, "—",
		    "≤ 16 KiB", per_session <= 16 ? "yes" : "**no**");
		snprintf(sb, sizeof sb, "%.1f KiB", per_conn);
		snprintf(sbase, sizeof sbase, "%ld → %ld KiB RSS", rss0, rss1);
		bench_row(b, "7 memory", "per idle connection", sb, sbase,
		    "—", "≤ 8 KiB", per_conn <= 8 ? "yes" : "**no**");

		bench_note(b, "Scenario 6: one key (\"s0\") is called "
		    "sequentially at each step, in 5 blocks of %ld calls "
		    "that alternate with blocks on a reference daemon (same "
		    "config, same CPU, 1 session, no other client): the "
		    "baseline column is the reference's p50 over the same "
		    "interval. Steps: 1 session; + %d idle connections; + "
		    "4,095 sessions (4,096); the idle connections closed; "
		    "the sessions closed and %d idle connections. The "
		    "daemon's RLIMIT_NOFILE was %ld (the loadgen asks for "
		    "%d and gets at most the hard limit, here %ld). It "
		    "needs 3 descriptors per session (stdin, stdout, stderr "
		    "pipes) and 1 per connection, so 4,096 sessions and "
		    "10,000 connections at once need about 22,400: %s", n / 5,
		    nconns1, nidle, d->nofile, DAEMON_NOFILE, b->nofile_self,
		    d->nofile >= 22400 ? "both fitted." : "under this limit "
		    "4,096 sessions were held with as many connections as "
		    "fitted, and 10,000 connections with 1 session (on a "
		    "host that allows it, `prlimit --nofile=65536:65536` "
		    "lets both be held together).");
		bench_note(b, "Scenario 7: the daemon's VmRSS "
		    "(/proc/PID/status: its own pages; the children are "
		    "other processes) after 1 session and a warm-up, after "
		    "%d idle connections (accepted, nothing sent), then after "
		    "4,095 more sessions (each started by one call, then "
		    "idle). Kernel memory for pipes and sockets is not in "
		    "RSS.", nconns1);
	}

	for (i = 0; i < nidle; i++)
		conn_free(idle[i]);
	free(idle);
	conn_free(rc);
	conn_free(ctl);
	conn_free(mc);
	free(tmp.lat.v);
	if (daemon_stop(b, ref) == -1 || daemon_stop(b, d) == -1)
		b->failed = 1;
}

/*
 * A keep-alive HTTP/1.1 connection to an MCP endpoint on 127.0.0.1 (the
 * broker's or supergateway's), with a bearer token if auth is set.
 */
struct http {
	int		 fd;
	int		 port;
	const char	*path;
	const char	*auth;
	const char	*name;		/* for messages */
	struct buf	 in;
	char		 session[128];
};

static void	 http_init(struct http *, int, const char *, const char *,
		     const char *);
static int	 http_connect(struct http *);
static int	 http_fill(struct http *);
static int	 http_post(struct http *, const char *, int *, struct buf *);
static int	 http_answer(const struct buf *, uint64_t, const char **,
		     size_t *);
static int	 http_call(struct http *, const char *, uint64_t, char *,
		     size_t);
static void	 http_open(struct http *);
static void	 http_free(struct http *);
static int	 http_calls(struct bench *, struct http *, const char *, long,
		     struct tally *);
static pid_t	 gateway_start(struct bench *, const char *);
static void	 gateway_stop(struct bench *, pid_t);
static int	 spawn_per_call(struct bench *, struct tally *);
static void	 scenario_http(struct bench *, struct conn *);

/* An endpoint at 127.0.0.1:port path, not yet connected. */
static void
http_init(struct http *h, int port, const char *path, const char *auth,
    const char *name)
{
	memset(h, 0, sizeof *h);
	h->fd = -1;
	h->port = port;
	h->path = path;
	h->auth = auth;
	h->name = name;
}

/* (Re)connect to 127.0.0.1:port. */
static int
http_connect(struct http *h)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { CALL_TIMEOUT_MS / 1000, 0 };
	int			one = 1;

	if (h->fd != -1)
		close(h->fd);
	h->in.off = h->in.len = 0;
	if ((h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)h->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(h->fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(h->fd);
		h->fd = -1;
		return (-1);
	}
	return (0);
}

/* Read more into h->in; -1 on EOF, an error or the timeout. */
static int
http_fill(struct http *h)
{
	ssize_t	n;

	buf_reserve(&h->in, 64 * 1024);
	do
		n = read(h->fd, h->in.data + h->in.len,
		    h->in.size - h->in.len);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return (-1);
	h->in.len += (size_t)n;
	return (0);
}

/*
 * POST body to the endpoint with the session's headers; the status and
 * the body (chunked encoding undone) come back. Keeps Mcp-Session-Id when
 * given.
 */
static int
http_post(struct http *h, const char *body, int *status, struct buf *out)
{
	struct buf	 req = { NULL, 0, 0, 0 };
	char		*hdr, *end, *line, *next, *colon;
	size_t		 hlen, clen = 0, need, off;
	int		 chunked = 0, have_len = 0, r;

	buf_printf(&req, "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Content-Type: application/json\r\n"
	    "Accept: application/json, text/event-stream\r\n", h->path,
	    h->port);
	if (h->auth != NULL)
		buf_printf(&req, "Authorization: Bearer %s\r\n", h->auth);
	if (h->session[0] != '\0')
		buf_printf(&req, "Mcp-Session-Id: %s\r\n"
		    "Mcp-Protocol-Version: %s\r\n", h->session,
		    BENCH_PROTOCOL);
	buf_printf(&req, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	for (off = 0; off < req.len; ) {
		ssize_t	n = write(h->fd, req.data + off, req.len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_free(&req);
			return (-1);
		}
		off += (size_t)n;
	}
	buf_free(&req);

	/* The head. */
	for (;;) {
		hdr = h->in.data + h->in.off;
		if (h->in.len > h->in.off && (end = memmem(hdr,
		    h->in.len - h->in.off, "\r\n\r\n", 4)) != NULL)
			break;
		if (http_fill(h) == -1)
			return (-1);
	}
	hlen = (size_t)(end - hdr) + 4;
	*end = '\0';
	if (sscanf(hdr, "HTTP/1.1 %d", status) != 1)
		return (-1);
	for (line = strstr(hdr, "\r\n"); line != NULL; line = next) {
		line += 2;
		next = strstr(line, "\r\n");
		if (next != NULL)
			*next = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		if (strcasecmp(line, "content-length") == 0) {
			clen = strtoul(colon, NULL, 10);
			have_len = 1;
		} else if (strcasecmp(line, "transfer-encoding") == 0 &&
		    strcasecmp(colon, "chunked") == 0)
			chunked = 1;
		else if (strcasecmp(line, "mcp-session-id") == 0)
			snprintf(h->session, sizeof h->session, "%s", colon);
	}
	h->in.off += hlen;

	/* The body. */
	out->off = out->len = 0;
	if (!chunked) {
		if (!have_len)
			clen = 0;
		while (h->in.len - h->in.off < clen) {
			if (http_fill(h) == -1)
				return (-1);
		}
		buf_append(out, h->in.data + h->in.off, clen);
		h->in.off += clen;
		return (0);
	}
	for (;;) {
		char	*p = h->in.data + h->in.off, *crlf;
		size_t	 avail = h->in.len - h->in.off, size;

		if ((crlf = memmem(p, avail, "\r\n", 2)) == NULL) {
			if (http_fill(h) == -1)
				return (-1);
			continue;
		}
		size = strtoul(p, NULL, 16);
		need = (size_t)(crlf - p) + 2 + size + 2;
		while ((r = (h->in.len - h->in.off < need)) != 0) {
			if (http_fill(h) == -1)
				return (-1);
		}
		p = h->in.data + h->in.off;
		crlf = memmem(p, need, "\r\n", 2);
		buf_append(out, crlf + 2, size);
		h->in.off += need;
		if (size == 0)
			return (0);
	}
}

/* The JSON-RPC answer with id in a body (JSON, or SSE "data:" lines). */
static int
http_answer(const struct buf *body, uint64_t id, const char **json,
    size_t *len)
{
	const char	*p = body->data + body->off, *end, *nl;
	uint64_t	 got;
	int		 error;

	if (body->len == body->off)
		return (0);
	end = body->data + body->len;
	if (*p == '{') {
		*json = p;
		*len = (size_t)(end - p);
		return (scan_answer(p, *len, &got, &error) && got == id);
	}
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) > 5 && strncmp(p, "data:", 5) == 0) {
			const char	*j = p + 5;

			while (*j == ' ')
				j++;
			if (scan_answer(j, (size_t)(nl - j), &got, &error) &&
			    got == id) {
				*json = j;
				*len = (size_t)(nl - j);
				return (1);
			}
		}
	}
	return (0);
}

/*
 * One request to the endpoint (request is the JSON text, id its id);
 * the answer's JSON goes to answer (cut to size). 0, or -1.
 */
static int
http_call(struct http *h, const char *request, uint64_t id, char *answer,
    size_t size)
{
	struct buf	 body = { NULL, 0, 0, 0 };
	const char	*json;
	size_t		 len;
	int		 status, ok;

	if (http_post(h, request, &status, &body) == -1) {
		buf_free(&body);
		return (-1);
	}
	ok = status == 200 && http_answer(&body, id, &json, &len);
	if (ok && answer != NULL)
		snprintf(answer, size, "%.*s", (int)len, json);
	buf_free(&body);
	return (ok ? 0 : -1);
}

/*
 * Start supergateway in front of the stdio server command (a command
 * line); its pid, once it listens.
 */
static pid_t
gateway_start(struct bench *b, const char *command)
{
	char	 port[16];
	char	*argv[] = { b->gateway_bin, (char *)"--stdio", (char *)command,
		    (char *)"--outputTransport", (char *)"streamableHttp",
		    (char *)"--stateful", (char *)"--port", port,
		    (char *)"--logLevel", (char *)"none", NULL };
	struct http	h;
	uint64_t	deadline;
	pid_t		pid, parent = getpid();
	int		null, status;

	http_init(&h, GATEWAY_PORT, "/mcp", NULL, "supergateway");
	snprintf(port, sizeof port, "%d", GATEWAY_PORT);
	if ((pid = fork()) == -1)
		bench_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		pin_to(b->cpu_servers);
		null = open("/dev/null", O_RDWR);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	bench_gateway_pgid = pid;
	deadline = now_ns() + 60ULL * 1000000000;
	while (http_connect(&h) == -1) {
		if (waitpid(pid, &status, WNOHANG) != 0 || now_ns() > deadline)
			bench_fatal("supergateway did not listen on %d",
			    GATEWAY_PORT);
		sleep_ms(50);
	}
	close(h.fd);
	return (pid);
}

/* SIGTERM to supergateway, which stops its child; wait for both. */
static void
gateway_stop(struct bench *b, pid_t pid)
{
	uint64_t	deadline = now_ns() + 20ULL * 1000000000;
	int		status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ns() > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		sleep_ms(10);
	}
	bench_gateway_pgid = 0;
	/* Its child has a process group of its own; give it time to go. */
	deadline = now_ns() + 10ULL * 1000000000;
	while (leftover_children(b, 0) > 0 && now_ns() < deadline)
		sleep_ms(50);
}

/*
 * Connect to the endpoint and open an MCP session on it: initialize (which
 * gives the Mcp-Session-Id), then notifications/initialized.
 */
static void
http_open(struct http *h)
{
	struct buf	 body = { NULL, 0, 0, 0 };
	char		 req[512];
	int		 status;

	h->session[0] = '\0';
	if (http_connect(h) == -1)
		bench_fatal("%s: cannot connect to 127.0.0.1:%d", h->name,
		    h->port);
	snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
	    "\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":"
	    "\"mcp-bench-loadgen\",\"version\":\"1.0\"}}}", BENCH_PROTOCOL);
	if (http_call(h, req, 1, NULL, 0) == -1 || h->session[0] == '\0')
		bench_fatal("%s: initialize failed", h->name);
	if (http_post(h, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}", &status, &body) == -1 ||
	    status / 100 != 2)
		bench_fatal("%s: initialized: HTTP %d", h->name, status);
	buf_free(&body);
}

/* Close the connection and free what it holds. */
static void
http_free(struct http *h)
{
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	buf_free(&h->in);
}

/* n sequential calls (tool: "name" and "arguments") to h, into t. */
static int
http_calls(struct bench *b, struct http *h, const char *tool, long n,
    struct tally *t)
{
	char		 req[512], answer[512];
	uint64_t	 id, t0, t1, start = now_ns();
	long		 i;

	for (i = 0; i < n; i++) {
		id = ++b->seq << 24;
		snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":%llu,"
		    "\"method\":\"tools/call\",\"params\":{%s}}",
		    (unsigned long long)id, tool);
		t0 = now_ns();
		if (http_call(h, req, id, answer, sizeof answer) == -1) {
			snprintf(t->first_error, sizeof t->first_error,
			    "%s: no answer to a call", h->name);
			t->errors++;
			return (-1);
		}
		t1 = now_ns();
		samples_add(&t->lat, t1 - t0);
		t->calls++;
		if (strstr(answer, "\"error\"") != NULL && t->errors++ == 0)
			snprintf(t->first_error, sizeof t->first_error,
			    "%.280s", answer);
	}
	t->busy_ns += now_ns() - start;
	return (0);
}

/* One session per call: spawn, initialise, call echo, kill. */
static int
spawn_per_call(struct bench *b, struct tally *t)
{
	char		*argv[] = { b->node_path, b->everything_js,
			    (char *)"stdio", NULL };
	char		 req[512], *answer;
	struct conn	*c;
	uint64_t	 t0 = now_ns(), id = 2;

	c = server_spawn(b, argv);
	if (server_handshake(b, c) == -1) {
		server_stop(c, 0);
		return (-1);
	}
	snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"tools/call\",\"params\":{%s}}\n", EVERYTHING_ARGS);
	answer = conn_call(c, req, id, CALL_TIMEOUT_MS);
	if (answer == NULL) {
		server_stop(c, 0);
		return (-1);
	}
	samples_add(&t->lat, now_ns() - t0);
	t->calls++;
	t->busy_ns += now_ns() - t0;
	free(answer);
	server_stop(c, 0);
	return (0);
}

/*
 * server-everything's echo four ways, alternating in rounds: through the
 * broker, over a pipe from here (the floor), through supergateway
 * (Streamable HTTP, stateful), and a new session per call.
 */
static void
scenario_everything(struct bench *b, struct conn *bc)
{
	struct tally	 tb, tp, tg, ts, warm;
	struct stream	 sb, sp;
	struct conn	*pc;
	struct http	 h;
	char		*argv[] = { b->node_path, b->everything_js,
			    (char *)"stdio", NULL };
	char		 command[PATH_MAX * 2 + 16];
	long		 n = bench_calls(b, EVERYTHING_CALLS);
	int		 round, i, gateway = 1;
	pid_t		 gw = 0;

	fprintf(stderr, "server-everything: 5 rounds of %ld calls per mode "
	    "and %d sessions per call\n", n, SPAWN_PER_ROUND);
	memset(&tb, 0, sizeof tb);
	memset(&tp, 0, sizeof tp);
	memset(&tg, 0, sizeof tg);
	memset(&ts, 0, sizeof ts);
	memset(&warm, 0, sizeof warm);
	http_init(&h, GATEWAY_PORT, "/mcp", NULL, "supergateway");

	stream_init(&sb, bc, "everything", "ev", EVERYTHING_ARGS, 1);
	pc = server_spawn(b, argv);
	if (server_handshake(b, pc) == -1)
		bench_fatal("server-everything did not initialise");
	stream_init(&sp, pc, NULL, "", EVERYTHING_ARGS, 1);
	if (run_calls(b, &sb, 1, 100, &warm) == -1 ||
	    run_calls(b, &sp, 1, 100, &warm) == -1 || warm.errors > 0)
		bench_fatal("server-everything warm-up: %s", warm.first_error);

	if (!b->netns) {
		bench_note(b, "supergateway was NOT run: no private network "
		    "namespace (unshare(CLONE_NEWNET) needs root), and "
		    "supergateway 4.0.0 has no flag to bind to loopback "
		    "only.");
		gateway = 0;
	} else if (access(b->gateway_bin, X_OK) == -1) {
		bench_note(b, "supergateway was NOT run: %s is missing "
		    "(make bench installs it from tests/bench/package.json)",
		    b->gateway_bin);
		gateway = 0;
	}
	if (gateway) {
		snprintf(command, sizeof command, "%s %s stdio", b->node_path,
		    b->everything_js);
		gw = gateway_start(b, command);
		http_open(&h);
		if (http_calls(b, &h, EVERYTHING_ARGS, 100, &warm) == -1 ||
		    warm.errors > 0)
			bench_fatal("supergateway warm-up: %s",
			    warm.first_error);
	}

	for (round = 0; round < 5; round++) {
		if (run_calls(b, &sb, 1, n, &tb) == -1 ||
		    run_calls(b, &sp, 1, n, &tp) == -1)
			break;
		if (gateway) {
			/* Past express's 5 s keep-alive, reconnect first. */
			if (http_connect(&h) == -1 ||
			    http_calls(b, &h, EVERYTHING_ARGS, 5, &warm) == -1 ||
			    http_calls(b, &h, EVERYTHING_ARGS, n, &tg) == -1)
				bench_fatal("supergateway: %s", tg.first_error);
		}
		for (i = 0; i < SPAWN_PER_ROUND; i++) {
			if (spawn_per_call(b, &ts) == -1)
				bench_fatal("session per call failed");
		}
	}
	if (gateway)
		report_latency(b, "vs supergateway", "supergateway", &tb, &tg,
		    0.3);
	report_latency(b, "vs session per call", "spawn+init+call", &tb, &ts,
	    0.01);
	report_latency(b, "everything, pipe floor", "direct pipe", &tb, &tp,
	    0);
	if (gateway) {
		struct pct	pp = samples_pct(&tp.lat), pg =
				    samples_pct(&tg.lat);

		bench_note(b, "server-everything over a pipe from the loadgen "
		    "(the floor): p50 %.0f µs, %.2f of supergateway's p50 "
		    "(%.0f µs).", pp.p50, pp.p50 / pg.p50, pg.p50);
		bench_note(b, "supergateway 4.0.0 listens on all interfaces "
		    "(no host flag): the loadgen runs it in a private network "
		    "namespace whose only interface is loopback (unshare "
		    "CLONE_NEWNET, lo up), so it is reachable on 127.0.0.1 "
		    "only; the loadgen speaks Streamable HTTP to it (POST "
		    "/mcp, Mcp-Session-Id, keep-alive, SSE answers).");
		http_free(&h);
	}
	server_stop(pc, 2000);
	if (gateway)
		gateway_stop(b, gw);
	free(warm.lat.v);
	free(tb.lat.v);
	free(tp.lat.v);
	free(tg.lat.v);
	free(ts.lat.v);
}

/*
 * Scenario 8: the echo server's tools/call, one at a time, three ways in
 * alternating blocks: through the broker's NDJSON socket, through the
 * broker's Streamable HTTP endpoint on its TCP listener (bearer token,
 * one initialize, then every call on that Mcp-Session-Id over one
 * keep-alive connection; JSON answers), and through supergateway
 * (stateful Streamable HTTP) in front of the same echo server.
 */
static void
scenario_http(struct bench *b, struct conn *bc)
{
	struct tally	 ts, th, tg, warm;
	struct stream	 ss;
	struct http	 hb, hg;
	struct pct	 ps, pg;
	long		 n = bench_calls(b, HTTP_CALLS);
	double		 rs, rh, rg, cs, ch;
	char		 sb[40], sd[48], sr[24];
	int		 round, gateway = 1;
	pid_t		 gw = 0;

	fprintf(stderr, "scenario 8: HTTP, 5 x %ld calls per mode\n", n);
	memset(&ts, 0, sizeof ts);
	memset(&th, 0, sizeof th);
	memset(&tg, 0, sizeof tg);
	memset(&warm, 0, sizeof warm);
	stream_init(&ss, bc, "echo", "http-socket", ECHO_ARGS, 1);
	http_init(&hb, b->http_port, "/mcp/echo/http-tcp", b->http_token,
	    "the broker's HTTP listener");
	http_init(&hg, GATEWAY_PORT, "/mcp", NULL, "supergateway");

	if (!b->netns) {
		bench_note(b, "Scenario 8: supergateway was NOT run: no private "
		    "network namespace (unshare(CLONE_NEWNET) needs root), "
		    "and supergateway 4.0.0 cannot be told to bind to "
		    "loopback only.");
		gateway = 0;
	} else if (b->node_path[0] == '\0' ||
	    access(b->gateway_bin, X_OK) == -1) {
		bench_note(b, "Scenario 8: supergateway was NOT run: node or "
		    "%s is missing (make bench installs it from "
		    "tests/bench/package.json)", b->gateway_bin);
		gateway = 0;
	}

	http_open(&hb);
	if (run_calls(b, &ss, 1, 500, &warm) == -1 ||
	    http_calls(b, &hb, ECHO_ARGS, 500, &warm) == -1 ||
	    warm.errors > 0)
		bench_fatal("scenario 8 warm-up: %s", warm.first_error);
	if (gateway) {
		gw = gateway_start(b, b->echo_path);
		http_open(&hg);
		if (http_calls(b, &hg, ECHO_ARGS, 200, &warm) == -1 ||
		    warm.errors > 0)
			bench_fatal("scenario 8 supergateway warm-up: %s",
			    warm.first_error);
	}
	ts.cpu_pids[ts.ncpu_pids++] = b->main_pid;
	ts.cpu_pids[ts.ncpu_pids++] = session_pid(b, bc, "echo",
	    "http-socket");
	ts.track_daemon = 1;
	th.cpu_pids[th.ncpu_pids++] = b->main_pid;
	th.cpu_pids[th.ncpu_pids++] = session_pid(b, bc, "echo", "http-tcp");
	th.track_daemon = 1;

	for (round = 0; round < 5; round++) {
		uint64_t	cpu0, daemon0;

		if (run_calls(b, &ss, 1, n, &ts) == -1)
			break;
		cpu0 = tally_cpu_ns(&th);
		daemon0 = proc_cpu_ns(b->main_pid);
		if (http_calls(b, &hb, ECHO_ARGS, n, &th) == -1)
			bench_fatal("scenario 8: %s", th.first_error);
		th.cpu_ns += tally_cpu_ns(&th) - cpu0;
		th.daemon_ns += proc_cpu_ns(b->main_pid) - daemon0;
		if (gateway) {
			/* Past express's 5 s keep-alive, reconnect first. */
			if (http_connect(&hg) == -1 ||
			    http_calls(b, &hg, ECHO_ARGS, 5, &warm) == -1 ||
			    http_calls(b, &hg, ECHO_ARGS, n, &tg) == -1)
				bench_fatal("scenario 8: %s", tg.first_error);
		}
	}

	rs = ts.busy_ns > 0 ? (double)ts.calls / ((double)ts.busy_ns / 1e9) : 0;
	rh = th.busy_ns > 0 ? (double)th.calls / ((double)th.busy_ns / 1e9) : 0;
	report_latency(b, "8 HTTP vs socket", "NDJSON socket", &th, &ts, 0);
	report_rate(b, "8 HTTP vs socket", "calls/s", rh, rs, 0, 0);
	if (th.calls > 0 && ts.calls > 0) {
		cs = (double)ts.cpu_ns / 1000.0 / (double)ts.calls;
		ch = (double)th.cpu_ns / 1000.0 / (double)th.calls;
		snprintf(sb, sizeof sb, "%.1f µs", ch);
		snprintf(sd, sizeof sd, "%.1f µs", cs);
		fmt_ratio(sr, sizeof sr, cs > 0 ? ch / cs : 0);
		bench_row(b, "8 HTTP vs socket", "CPU per call (daemon + echo)",
		    sb, sd, sr, "—", "—");
		cs = (double)ts.daemon_ns / 1000.0 / (double)ts.calls;
		ch = (double)th.daemon_ns / 1000.0 / (double)th.calls;
		snprintf(sb, sizeof sb, "%.1f µs", ch);
		snprintf(sd, sizeof sd, "%.1f µs", cs);
		fmt_ratio(sr, sizeof sr, cs > 0 ? ch / cs : 0);
		bench_row(b, "8 HTTP vs socket", "of which the daemon's", sb, sd,
		    sr, "—", "—");
	}
	if (gateway) {
		rg = tg.busy_ns > 0 ?
		    (double)tg.calls / ((double)tg.busy_ns / 1e9) : 0;
		report_latency(b, "8 HTTP vs supergateway", "supergateway", &th,
		    &tg, 0);
		report_rate(b, "8 HTTP vs supergateway", "calls/s", rh, rg, 0,
		    0);
		ps = samples_pct(&ts.lat);
		pg = samples_pct(&tg.lat);
		bench_note(b, "Scenario 8: the broker's NDJSON socket against "
		    "supergateway, the same echo server behind both: p50 "
		    "%.1f µs against %.0f µs (%.2f×), p99 %.0f µs against "
		    "%.0f µs.", ps.p50, pg.p50, pg.p50 > 0 ? ps.p50 / pg.p50 :
		    0, ps.p99, pg.p99);
	}
	bench_note(b, "Scenario 8: the C echo server's echo tool, one call at "
	    "a time, three ways in alternating blocks: the broker's NDJSON "
	    "socket (routing members in params); the broker's HTTP listener "
	    "on 127.0.0.1 (POST /mcp/echo/THREAD with a bearer token from a "
	    "generated tokens file, one initialize, then every call on that "
	    "Mcp-Session-Id over one keep-alive connection, TCP_NODELAY, "
	    "JSON answers with Content-Length); and supergateway "
	    "(--stateful, Streamable HTTP, SSE answers) in front of the echo "
	    "server, reconnected before each block (express closes idle "
	    "connections after 5 s). CPU per call is the daemon's and its "
	    "echo child's own time.");
	http_free(&hb);
	http_free(&hg);
	free(warm.lat.v);
	free(ts.lat.v);
	free(th.lat.v);
	free(tg.lat.v);
	if (gw > 0)
		gateway_stop(b, gw);
}

/* Bring up loopback in a new network namespace of this process. */
static int
bench_private_net(void)
{
	struct ifreq	ifr;
	int		fd;

	if (unshare(CLONE_NEWNET) == -1)
		return (-1);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1) {
		close(fd);
		return (-1);
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) == -1) {
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/* Find an executable on $PATH. */
static int
bench_which(const char *name, char *out, size_t size)
{
	const char	*path = getenv("PATH"), *p, *end;

	for (p = path != NULL ? path : "/usr/bin:/bin"; ; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		if (end > p && snprintf(out, size, "%.*s/%s", (int)(end - p),
		    p, name) < (int)size && access(out, X_OK) == 0)
			return (0);
		if (*end == '\0')
			break;
	}
	out[0] = '\0';
	return (-1);
}

/* Where a scenario's rows go: by number, the comparisons last. */
static int
bench_rank(const char *scenario)
{
	return (scenario[0] >= '1' && scenario[0] <= '9' ? scenario[0] - '0' :
	    10);
}

/* The table and the notes to OUT/results-table.md, the plot data too. */
static void
bench_write(struct bench *b, const char *sizes)
{
	char	 path[PATH_MAX];
	FILE	*f;
	size_t	 i, j;

	/* Insertion sorts: stable, and the lists are short. */
	for (i = 1; i < b->nrows; i++) {
		struct row	r = b->rows[i];

		for (j = i; j > 0 && bench_rank(b->rows[j - 1].scenario) >
		    bench_rank(r.scenario); j--)
			b->rows[j] = b->rows[j - 1];
		b->rows[j] = r;
	}
	for (i = 1; i < b->nplots; i++) {
		struct plot	p = b->plots[i];

		for (j = i; j > 0 && bench_rank(b->plots[j - 1].label) >
		    bench_rank(p.label); j--)
			b->plots[j] = b->plots[j - 1];
		b->plots[j] = p;
	}

	snprintf(path, sizeof path, "%s/results-table.md", b->out);
	if ((f = fopen(path, "w")) == NULL)
		bench_fatal("%s: %s", path, strerror(errno));
	fprintf(f, "| scenario | metric | broker | direct / baseline | ratio "
	    "| target | met? |\n|---|---|---:|---:|---:|---|---|\n");
	for (i = 0; i < b->nrows; i++) {
		struct row	*r = &b->rows[i];

		fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n",
		    r->scenario, r->metric, r->broker, r->base, r->ratio,
		    r->target, r->met);
	}
	fprintf(f, "\n%s\n", sizes);
	if (b->notes.len > 0)
		fprintf(f, "%.*s", (int)b->notes.len, b->notes.data);
	fclose(f);

	snprintf(path, sizeof path, "%s/latency.dat", b->out);
	if ((f = fopen(path, "w")) == NULL)
		bench_fatal("%s: %s", path, strerror(errno));
	fprintf(f, "# group broker_p50 broker_p99 broker_p999 base_p50 "
	    "base_p99 base_p999 (µs)\n");
	for (i = 0; i < b->nplots; i++) {
		struct plot	*p = &b->plots[i];

		fprintf(f, "\"%s\" %.1f %.1f %.1f %.1f %.1f %.1f\n", p->label,
		    p->broker.p50, p->broker.p99, p->broker.p999,
		    p->base.p50, p->base.p99, p->base.p999);
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	struct bench	 b;
	struct daemon	*d = NULL;
	struct conn	*bc = NULL, *bconns[4];
	struct rlimit	 rl;
	cJSON		*broker, *servers, *e, *args;
	char		 path[PATH_MAX], *cause, sizes[2048];
	const char	*top;
	int		 i, left, need_main;

	memset(&b, 0, sizeof b);
	b.scale = 1.0;
	b.rng = 0x9e3779b97f4a7c15ULL;
	b.cpu_self = 0;
	b.cpu_servers = 1;
	if ((b.build = getenv("MCPB_BUILD")) == NULL)
		b.build = "build";
	top = getenv("MCPB_TOP");
	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			bench_usage();
		if (strcmp(argv[i], "--build") == 0)
			b.build = argv[++i];
		else if (strcmp(argv[i], "--out") == 0)
			b.out = argv[++i];
		else if (strcmp(argv[i], "--npm") == 0)
			b.npm = argv[++i];
		else if (strcmp(argv[i], "--only") == 0)
			snprintf(b.only, sizeof b.only, "%s", argv[++i]);
		else if (strcmp(argv[i], "--scale") == 0)
			b.scale = atof(argv[++i]);
		else if (strcmp(argv[i], "--socket") == 0)
			b.socket = argv[++i];
		else if (strcmp(argv[i], "--daemon-wrapper") == 0)
			b.wrapper = argv[++i];
		else if (strcmp(argv[i], "--cpus") == 0) {
			if (sscanf(argv[++i], "%d,%d", &b.cpu_self,
			    &b.cpu_servers) != 2)
				bench_usage();
		} else
			bench_usage();
	}
	if (b.scale <= 0)
		bench_usage();
	if (b.out == NULL) {
		snprintf(path, sizeof path, "%s/bench", b.build);
		b.out = xstrdup(path);
	}
	if (b.npm == NULL) {
		snprintf(path, sizeof path, "%s/tests/bench",
		    top != NULL ? top : ".");
		b.npm = xstrdup(path);
	}
	mkdir(b.out, 0755);
	setvbuf(stderr, NULL, _IOLBF, 0);

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, bench_signal);
	signal(SIGTERM, bench_signal);
	signal(SIGHUP, bench_signal);

	getrlimit(RLIMIT_NOFILE, &rl);
	b.nofile_self = rl.rlim_max == RLIM_INFINITY ? -1 : (long)rl.rlim_max;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		b.cpu_self = b.cpu_servers = -1;
	pin_to(b.cpu_self);
	b.pinned = b.cpu_self >= 0;

	snprintf(path, sizeof path, "%s/bench/echo-server", b.build);
	if (realpath(path, b.echo_path) == NULL)
		bench_fatal("%s: %s (make build/bench/echo-server)", path,
		    strerror(errno));
	bench_which("node", b.node_path, sizeof b.node_path);
	snprintf(b.everything_js, sizeof b.everything_js, "%s/node_modules/"
	    "@modelcontextprotocol/server-everything/dist/index.js", b.npm);
	snprintf(b.gateway_bin, sizeof b.gateway_bin,
	    "%s/node_modules/.bin/supergateway", b.npm);
	if (realpath(b.everything_js, path) != NULL)
		snprintf(b.everything_js, sizeof b.everything_js, "%s", path);
	if (bench_wants(&b, 'e') && (b.node_path[0] == '\0' ||
	    access(b.everything_js, R_OK) == -1)) {
		bench_note(&b, "server-everything comparisons were NOT run: "
		    "node or %s is missing (make bench installs them)",
		    b.everything_js);
		for (char *p = strchr(b.only, 'e'); p != NULL; p = NULL)
			*p = ' ';
		if (b.only[0] == '\0')
			snprintf(b.only, sizeof b.only, "12345678");
	}
	if (bench_wants(&b, 'e') || (bench_wants(&b, '8') && b.socket == NULL))
		b.netns = bench_private_net() == 0;

	fprintf(stderr, "placement: loadgen on CPU %d, daemon, its children "
	    "and direct servers on CPU %d%s\n", b.cpu_self, b.cpu_servers,
	    b.pinned ? "" : " (NOT pinned: fewer than 2 CPUs)");

	/* Scenarios 1, 2, 3, 5, 8 and the server-everything ones: one daemon. */
	need_main = bench_wants(&b, '1') || bench_wants(&b, '2') ||
	    bench_wants(&b, '3') || bench_wants(&b, '5') ||
	    bench_wants(&b, '8') || bench_wants(&b, 'e');
	if (need_main && b.socket == NULL) {
		broker = cJSON_CreateObject();
		cJSON_AddNumberToObject(broker, "shutdown_grace_ms", 2000);
		servers = cJSON_CreateObject();
		e = cJSON_AddObjectToObject(servers, "echo");
		cJSON_AddStringToObject(e, "command", b.echo_path);
		e = cJSON_AddObjectToObject(servers, "echo-legacy");
		cJSON_AddStringToObject(e, "command", b.echo_path);
		cJSON_AddStringToObject(e, "protocol", "legacy");
		if (bench_wants(&b, 'e')) {
			e = cJSON_AddObjectToObject(servers, "everything");
			cJSON_AddStringToObject(e, "command", b.node_path);
			args = cJSON_AddArrayToObject(e, "args");
			cJSON_AddItemToArray(args,
			    cJSON_CreateString(b.everything_js));
			cJSON_AddItemToArray(args, cJSON_CreateString("stdio"));
		}
		d = daemon_start(&b, broker, servers,
		    bench_wants(&b, '8'));
		b.main_pid = d->pid;
	}
	if (need_main && b.socket != NULL)
		bench_note(&b, "Broker mode used the daemon already running at "
		    "%s: its placement, limits and config were not set by the "
		    "loadgen (scenarios 4, 6, 7, 8 and server-everything "
		    "need their own daemon and were skipped).", b.socket);
	if (need_main) {
		const char	*sock = b.socket != NULL ? b.socket : d->sock;

		if ((bc = conn_unix(sock, &cause)) == NULL)
			bench_fatal("%s", cause);
		for (i = 0; i < 4; i++) {
			if ((bconns[i] = conn_unix(sock, &cause)) == NULL)
				bench_fatal("%s", cause);
		}
		if (bench_wants(&b, '1'))
			scenario_sequential(&b, bc);
		if (bench_wants(&b, '2'))
			scenario_inflight(&b, bconns);
		if (bench_wants(&b, '3'))
			scenario_payload(&b, bc);
		if (bench_wants(&b, '5'))
			scenario_cold(&b, bc);
		if (bench_wants(&b, '8') && b.socket == NULL)
			scenario_http(&b, bc);
		if (bench_wants(&b, 'e') && b.socket == NULL)
			scenario_everything(&b, bc);
		conn_free(bc);
		for (i = 0; i < 4; i++)
			conn_free(bconns[i]);
		if (d != NULL && daemon_stop(&b, d) == -1)
			b.failed = 1;
	}
	if (bench_wants(&b, '4') && b.socket == NULL)
		scenario_churn(&b);
	if ((bench_wants(&b, '6') || bench_wants(&b, '7')) && b.socket == NULL)
		scenario_scale(&b);

	if ((left = leftover_children(&b, 1)) > 0) {
		bench_note(&b, "%d processes were left behind (killed)", left);
		b.failed = 1;
	} else
		bench_note(&b, "No process was left behind: every daemon "
		    "exited 0 on SIGTERM with its children reaped, and the loadgen (a "
		    "child subreaper) found no orphan.");

	snprintf(sizes, sizeof sizes, "Placement: %s. Broker and direct "
	    "blocks alternate (broker, direct, broker, …), and each mode's "
	    "samples are pooled over its blocks; latency is per call "
	    "(CLOCK_MONOTONIC, request written → answer line read), calls/s "
	    "and MB/s are calls over the blocks' summed wall time.\n\n"
	    "Sizes (scale %g): 1) 5 blocks × %ld calls per mode, one in "
	    "flight; 2) 5 × %ld calls, 16 keys × 4 in flight over 4 "
	    "connections (direct: 16 echo servers × 4 pipelined); 3) 5 × %ld "
	    "calls of a 1 MiB text result, one in flight; 4) %ld warm-up + "
	    "3 × %ld calls to random threads of 1,000 with max_sessions 256, "
	    "16 in flight over 4 connections; 5) 5 rounds × %ld cold starts "
	    "per mode; 6) 5 × %ld calls per step on each of two daemons; "
	    "8) 5 × %ld calls per mode, one in flight; "
	    "server-everything: 5 rounds × %ld calls per mode + %d sessions "
	    "per call. Each scenario has a warm-up outside the figures.\n",
	    b.pinned ? "the loadgen pinned to CPU 0 (sched_setaffinity); "
	    "mcp-brokerd pinned to CPU 1 before exec (as taskset -c 1), so "
	    "its children are on CPU 1 too; the directly spawned servers, "
	    "supergateway and its child also on CPU 1" :
	    "NOT pinned (fewer than 2 CPUs)", b.scale,
	    bench_calls(&b, SEQ_CALLS), bench_calls(&b, INFLIGHT_CALLS),
	    bench_calls(&b, BLOB_CALLS), bench_calls(&b, CHURN_WARMUP),
	    bench_calls(&b, CHURN_CALLS),
	    bench_calls(&b, COLD_CALLS), bench_calls(&b, SCALE_CALLS) / 5,
	    bench_calls(&b, HTTP_CALLS), bench_calls(&b, EVERYTHING_CALLS),
	    SPAWN_PER_ROUND);
	bench_write(&b, sizes);
	buf_free(&b.notes);
	free(b.rows);
	free(b.plots);
	return (b.failed ? 1 : 0);
}
