/*
 * A session: one MCP server process for one (uid, server, thread) key,
 * the MCP client that drives it, and the requests it holds.
 *
 *   starting  spawned, handshake in flight; requests wait in order
 *   ready     handshake done; requests go straight to the child
 *   closing   ending: its process is being shut down
 *
 * It tells its owner when it turns busy or idle, when it ended on its own
 * (and should leave the table), and when it is over (and may be freed,
 * from a deferred event).
 */
#ifndef DAEMON_SESSION_H
#define DAEMON_SESSION_H

#include <sys/types.h>

#include <stddef.h>

#include <cJSON.h>

#include "log.h"

/* Requests from one child waiting for clients (sampling, elicitation). */
#define SESSION_MAX_UPCALLS	64
/* Non-JSON stdout lines logged per window; the rest are counted. */
#define SESSION_GARBAGE_LOG_MAX	5
#define SESSION_GARBAGE_WINDOW_S 60

struct ask_set;
struct process_env;
struct request;
struct server_conf;
struct jsonrpc_msg;
struct latency;
struct process;
struct request_set;
struct session;

enum session_state {
	SESSION_STARTING,
	SESSION_READY,
	SESSION_CLOSING,
};

/* What a session reports to its owner. arg is the owner's. */
struct session_cbs {
	/* It turned busy (1: starting, or requests queued or in flight)
	   or idle (0). */
	void	(*busy)(struct session *, int, void *);
	/* It ended on its own (exit, broken pipe, failed start). */
	void	(*ended)(struct session *, void *);
	/* It is over: free it, but not from inside this callback. */
	void	(*finished)(struct session *, void *);
};

/* What a new session is. */
struct session_params {
	const struct process_env	*env;
	const struct server_conf	*server;
	int				 start_timeout_s;
	uid_t				 uid;
	const char			*thread;
	const char			*id;	/* unique for the daemon's life */
	const char			*state_dir;	/* session_dir's base */
	unsigned			 generation;
	struct latency			*latency;	/* its server's */
	const int			*access_log;	/* the owner's */
	long				 task_max_ms;	/* a task without ttl */
};

struct session	*session_start(const struct session_params *,
		     const struct session_cbs *, void *, char **);
void		 session_free(struct session *);
void		 session_submit(struct session *, struct request *);
void		 session_close(struct session *, int, const char *);

enum session_state session_state(struct session *);
const char	*session_server(struct session *);
const char	*session_thread(struct session *);
const char	*session_id(struct session *);
uid_t		 session_uid(struct session *);
unsigned	 session_generation(struct session *);
double		 session_idle_since(struct session *);
void		*session_slot(struct session *);
void		 session_set_slot(struct session *, void *);

cJSON		*session_describe(struct session *, int);
cJSON		*session_error_data(struct session *, int);

/* For session_relay.c, the session's relay to its clients. */
struct request_set *session_requests(struct session *);
struct task_set	*session_tasks(struct session *);
struct ask_set	*session_asks(struct session *);
const char	*session_line(struct session *, size_t *);
struct process	*session_process(struct session *);
void		 session_log(struct session *, enum log_level, const char *,
		     ...) __attribute__((format(printf, 3, 4)));
const char	*session_stamp(struct session *);
const char	*session_meta_text(struct session *, size_t *, int *);

/* session_relay.c: the MCP client's callbacks toward the clients. */
void		 session_upcall_cb(struct jsonrpc_msg *, int, void *);
void		 session_progress_cb(const cJSON *, double, void *);
void		 session_cancelled_cb(const cJSON *, void *);
void		 session_notify_cb(struct jsonrpc_msg *, void *);
int		 session_attach_request(struct session *, struct request *);
void		 session_task_status_cb(void *);
int		 session_listen_cb(void *);
void		 session_elicited_cb(void *);
char		*session_answering(struct session *, struct request *,
		     struct jsonrpc_msg *, size_t *);
int		 session_may_log_cb(size_t, void *);

#endif
