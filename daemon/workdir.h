/*
 * A session's private directory and the ${...} a server's args and env
 * take from its session: ${session_dir}, ${thread}, ${server} and
 * ${session_id}.
 *
 * Session directories live in <instance>/sessions/<session id>, mode
 * 0700, owned by the daemon's user, where <instance> is the daemon's own
 * directory in broker.state_dir (workdir_instance()); they are named by the session id,
 * never by the client's thread name. Removal never follows a symlink.
 *
 * At load, a string that refers to a session value is kept as a template:
 * each session name stays "${name}" and every other "$" is written "$$".
 * At spawn, workdir_expand() turns a template into the string the child
 * gets.
 */
#ifndef DAEMON_WORKDIR_H
#define DAEMON_WORKDIR_H

#include <stddef.h>

/* Where session directories go inside broker.state_dir. */
#define WORKDIR_SESSIONS	"sessions"
/* The variable that tells a child its session directory. */
#define WORKDIR_ENV		"MCP_BROKER_SESSION_DIR"
/* Directory levels removed below a session directory; deeper is left. */
#define WORKDIR_MAX_DEPTH	256

/* The names a template may refer to, NULL-terminated. */
extern const char *const workdir_names[];

/* What one session's templates expand to. */
struct workdir_values {
	const char	*session_dir;	/* NULL: none */
	const char	*thread;
	const char	*server;
	const char	*session_id;
};

int	 workdir_refers(const char *, const char *);
char	*workdir_expand(const char *, const struct workdir_values *);
char	**workdir_expand_list(char *const *, const struct workdir_values *);
char	**workdir_env(char *const *, int, const struct workdir_values *);
void	 workdir_free_list(char **);

char	*workdir_instance(const char *, const char *);
char	*workdir_base(const char *);
int	 workdir_prepare(const char *, char **);
int	 workdir_create(const char *, const char *, char **, char **);
int	 workdir_remove(const char *, char **);
void	 workdir_discard(const char *);
int	 workdir_clean(const char *, size_t *, char **);

#endif
