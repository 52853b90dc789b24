/*
 * Logging: four verbs and fatal, as in OpenBSD daemons.
 *
 * log_warn() appends strerror(errno); log_warnx() does not. Lines go to
 * stderr with a timestamp and the level.
 */
#ifndef DAEMON_LOG_H
#define DAEMON_LOG_H

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
};

void	log_init(enum log_level);
void	log_set_level(enum log_level);
int	log_level_parse(const char *, enum log_level *);
const char *log_level_name(enum log_level);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_at(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
