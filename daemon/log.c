/*
 * Log lines, escaped whole, on stderr or to the journal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "escape.h"
#include "log.h"
#include "xmalloc.h"

/* The level below which lines are dropped; set once by main and by reload. */
static enum log_level log_min = LOG_LEVEL_INFO;
/* Whether stderr is the journal's stream (set once at start). */
static int log_journal;

/* syslog priorities of the levels, for the journal. */
static const int log_priorities[] = { 7, 6, 4, 3 };

static const char *log_names[] = { "debug", "info", "warning", "error" };

static void	log_vwrite(enum log_level, const char *, const char *,
		    va_list) __attribute__((format(printf, 3, 0)));
static void	log_journal_send(enum log_level, const struct log_ctx *,
		    const char *, const char *);
static void	log_journal_field(char **, const char *, const char *);
static void	log_write_ctx(enum log_level, const struct log_ctx *,
		    const char *, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));

/*
 * Start logging at the given level. systemd sets JOURNAL_STREAM to the
 * device and inode of the stream it connected stderr to; if stderr is
 * still that stream, log to the journal natively.
 */
void
log_init(enum log_level level)
{
	struct stat	 st;
	const char	*js;
	unsigned long	 dev, ino;

	log_min = level;
	js = getenv("JOURNAL_STREAM");
	if (js != NULL && sscanf(js, "%lu:%lu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 && (unsigned long)st.st_dev == dev &&
	    (unsigned long)st.st_ino == ino)
		log_journal = 1;
}

/* Change the level (config reload, --log-level). */
void
log_set_level(enum log_level level)
{
	log_min = level;
}

/* Whether a line at level would be written. */
int
log_enabled(enum log_level level)
{
	return (level >= log_min);
}

/* Parse a level name; returns 0 or -1 if unknown. */
int
log_level_parse(const char *name, enum log_level *level)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

/* Write one line: time, level, message and an optional suffix. */
static void
log_vwrite(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	log_write_ctx(level, NULL, suffix, fmt, ap);
}

/*
 * Write one line with its structured fields (ctx may be NULL). The line
 * is escaped whole, values and all, so nothing a client or a child sent
 * can split it or forge another.
 */
static void
log_write_ctx(enum log_level level, const struct log_ctx *ctx,
    const char *suffix, const char *fmt, va_list ap)
{
	struct timeval	tv;
	struct tm	tm;
	char		stamp[32], raw[LOG_LINE_MAX];
	char		line[ESCAPE_MAX(LOG_LINE_MAX) + 1];
	char		tail[ESCAPE_MAX(LOG_LINE_MAX) + 1];

	if (level < log_min)
		return;
	vsnprintf(raw, sizeof raw, fmt, ap);
	escape_text(line, sizeof line, raw, strlen(raw), ESCAPE_BACKSLASH);
	if (suffix != NULL)
		escape_text(tail, sizeof tail, suffix, strlen(suffix),
		    ESCAPE_BACKSLASH);
	if (log_journal) {
		log_journal_send(level, ctx, line, suffix != NULL ? tail :
		    NULL);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	if (suffix != NULL)
		fprintf(stderr, "%s.%03ldZ %s: %s: %s\n", stamp,
		    (long)tv.tv_usec / 1000, log_names[level], line, tail);
	else
		fprintf(stderr, "%s.%03ldZ %s: %s\n", stamp,
		    (long)tv.tv_usec / 1000, log_names[level], line);
}

/* One journal field "NAME=value", the value escaped like a line. */
static void
log_journal_field(char **field, const char *name, const char *value)
{
	char	*escaped;

	escaped = escape_dup(value, strlen(value), ESCAPE_BACKSLASH);
	xasprintf(field, "%s=%s", name, escaped);
	free(escaped);
}

/*
 * One journal entry: the message (already escaped), its priority, and
 * the structured fields the line has (absent ones are left out, not sent
 * empty).
 */
static void
log_journal_send(enum log_level level, const struct log_ctx *ctx,
    const char *line, const char *suffix)
{
	struct iovec	 iov[6];
	char		*field[6];
	int		 n = 0, i;

	xasprintf(&field[n++], "MESSAGE=%s%s%s", line, suffix != NULL ?
	    ": " : "", suffix != NULL ? suffix : "");
	xasprintf(&field[n++], "PRIORITY=%d", log_priorities[level]);
	if (ctx != NULL && ctx->server != NULL)
		log_journal_field(&field[n++], "MCP_SERVER", ctx->server);
	if (ctx != NULL && ctx->thread != NULL)
		log_journal_field(&field[n++], "MCP_THREAD", ctx->thread);
	if (ctx != NULL && ctx->session != NULL)
		log_journal_field(&field[n++], "MCP_SESSION", ctx->session);
	if (ctx != NULL && ctx->pid != 0)
		xasprintf(&field[n++], "CHILD_PID=%ld", ctx->pid);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = field[i];
		iov[i].iov_len = strlen(field[i]);
	}
	sd_journal_sendv(iov, n);
	for (i = 0; i < n; i++)
		free(field[i]);
}

/* A line about one session, with its fields for the journal. */
void
log_ctx_vat(enum log_level level, const struct log_ctx *ctx, const char *fmt,
    va_list ap)
{
	log_write_ctx(level, ctx, NULL, fmt, ap);
}

/* A line about one session, with its fields for the journal. */
void
log_ctx_at(enum log_level level, const struct log_ctx *ctx, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_write_ctx(level, ctx, NULL, fmt, ap);
	va_end(ap);
}

/* A warning with strerror(errno). */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

/* A warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARNING, NULL, fmt, ap);
	va_end(ap);
}

/* An informational line. */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

/* A debugging line. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

/* A line at a level chosen at run time (a child's own log messages). */
void
log_at(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(level, NULL, fmt, ap);
	va_end(ap);
}

/* Log an error with strerror(errno) and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log an error and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
