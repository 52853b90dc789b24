/*
 * Logging: four verbs and fatal, as in OpenBSD daemons.
 *
 * log_warn() appends strerror(errno); log_warnx() does not. Under journald
 * (JOURNAL_STREAM names our stderr) lines go to the journal with their
 * priority and structured fields; otherwise to stderr with a timestamp.
 *
 * Every line is escaped whole after it is formatted, and so is every
 * structured field: control characters (newline, CR, ESC, DEL, C1) and
 * bytes that are not UTF-8 are written "\xNN", a backslash "\\" (see
 * escape.h). So a value that came from a client or a child is passed to
 * "%s" as it is; no caller escapes, and none can forget to.
 */
#ifndef DAEMON_LOG_H
#define DAEMON_LOG_H

#include <stdarg.h>

/* The longest message, in bytes before escaping; longer ones are cut. */
#define LOG_LINE_MAX	2048

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
};

/* Structured fields a line may carry to the journal (NULL/0: absent). */
struct log_ctx {
	const char	*server;	/* MCP_SERVER */
	const char	*thread;	/* MCP_THREAD */
	const char	*session;	/* MCP_SESSION */
	long		 pid;		/* CHILD_PID */
};

void	log_init(enum log_level);
void	log_set_level(enum log_level);
int	log_enabled(enum log_level);
int	log_level_parse(const char *, enum log_level *);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_at(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_ctx_at(enum log_level, const struct log_ctx *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_ctx_vat(enum log_level, const struct log_ctx *, const char *,
	    va_list) __attribute__((format(printf, 3, 0)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
