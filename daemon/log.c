/*
 * Timestamped log lines on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

/* The level below which lines are dropped; set once by main and by reload. */
static enum log_level log_min = LOG_LEVEL_INFO;

static const char *log_names[] = { "debug", "info", "warning", "error" };

static void	log_vwrite(enum log_level, const char *, const char *,
		    va_list);

/* Start logging at the given level. */
void
log_init(enum log_level level)
{
	log_min = level;
}

/* Change the level (config reload, --log-level). */
void
log_set_level(enum log_level level)
{
	log_min = level;
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

/* The name of a level, as the config spells it. */
const char *
log_level_name(enum log_level level)
{
	return (log_names[level]);
}

/* Write one line: time, level, message and an optional suffix. */
static void
log_vwrite(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	struct timeval	tv;
	struct tm	tm;
	char		stamp[32], line[2048];

	if (level < log_min)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof line, fmt, ap);
	if (suffix != NULL)
		fprintf(stderr, "%s.%03ldZ %s: %s: %s\n", stamp,
		    (long)tv.tv_usec / 1000, log_names[level], line, suffix);
	else
		fprintf(stderr, "%s.%03ldZ %s: %s\n", stamp,
		    (long)tv.tv_usec / 1000, log_names[level], line);
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
