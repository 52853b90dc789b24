/*
 * A session: one MCP server child for one (uid, server, thread) key, and
 * the MCP client state machine that drives it.
 *
 *   starting  spawned, initialize in flight; requests wait in order
 *   ready     handshake done; requests go straight to the child
 *   closing   stdin closed, escalating to SIGTERM and SIGKILL of the group
 *
 * A session is freed only once its child is reaped and both its stdout
 * and stderr reached EOF, from a deferred event.
 */
#ifndef DAEMON_SESSION_H
#define DAEMON_SESSION_H

#include <sys/types.h>

#include <cJSON.h>

/* Lines of a child's stderr a session keeps, and bytes per line. */
#define SESSION_STDERR_LINES	20
#define SESSION_STDERR_LINE_MAX	1024
/* Bytes queued for a child's stdin before the session counts as broken. */
#define SESSION_STDIN_MAX_FACTOR 4
/* How long protocol "auto" waits for server/discover before initialize. */
#define SESSION_DISCOVER_TIMEOUT_MS 2000
/* Requests from one child waiting for clients (sampling, elicitation). */
#define SESSION_MAX_UPCALLS	64
/* Non-JSON stdout lines logged per window; the rest are counted. */
#define SESSION_GARBAGE_LOG_MAX	5
#define SESSION_GARBAGE_WINDOW_S 60

struct broker;
struct request;
struct server_conf;
struct session;
struct table_entry;

enum session_state {
	SESSION_STARTING,
	SESSION_READY,
	SESSION_CLOSING,
};

struct session	*session_start(struct broker *, const struct server_conf *,
		     uid_t, const char *, unsigned, char **);
void		 session_submit(struct session *, struct request *);
void		 session_cancel(struct session *, struct request *);
void		 session_close(struct session *, int, const char *);

void		 session_set_entry(struct session *, struct table_entry *);
struct table_entry *session_entry(struct session *);
const char	*session_server(struct session *);
const char	*session_thread(struct session *);
unsigned	 session_generation(struct session *);

double		 session_idle_since(struct session *);

void		 session_upcall_answer(struct upcall *, cJSON *);
void		 session_upcall_abandon(struct upcall *);

cJSON		*session_describe(struct session *, int);
cJSON		*session_stderr_tail(struct session *);
cJSON		*session_meta(struct session *);

#endif
