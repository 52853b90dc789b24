/*
 * The broker: the one state main creates and every module is handed, and
 * the routing of client requests to sessions.
 */
#ifndef DAEMON_BROKER_H
#define DAEMON_BROKER_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include <cJSON.h>
/* struct event, embedded in struct request: no allocation per timer. */
#include <event2/event_struct.h>

#define BROKER_VERSION	"0.1.0"

/* Longest server name the request fast path copies (config allows 64). */
#define BROKER_SERVER_MAX 64

struct config;
struct conn;
struct child_list;
struct listener;
struct service;
struct session;
struct table;
struct scan_request;

struct broker_counters {
	uint64_t	sessions_started;
	uint64_t	sessions_evicted;
	uint64_t	sessions_exited;
	uint64_t	sessions_expired;
	uint64_t	sessions_closed;
	uint64_t	timeouts;
	uint64_t	reloads;
	uint64_t	requests;
	uint64_t	errors;
	uint64_t	clients_accepted;
};

struct broker {
	struct event_base	*base;
	struct config		*conf;
	char			*config_path;
	struct table		*table;
	struct child_list	*children;
	struct listener		*listener;
	struct service		*service;	/* systemd notifications */
	TAILQ_HEAD(, conn)	 conns;
	size_t			 nconns;

	char			*socket_override;	/* --socket */
	int			 level_override;	/* --log-level, or -1 */
	struct event		*idle_timer;
	double			 idle_deadline;	/* monotonic; 0: not armed */

	time_t			 started;	/* wall clock, for uptime */
	uid_t			 euid;		/* the daemon's own user */
	uint64_t		 next_session;	/* for session ids */
	int64_t			 next_token;	/* progress tokens to children */
	int64_t			 next_upcall;	/* ids of requests to clients */
	struct broker_counters	 counters;
	int			 exiting;
};

/*
 * One client request on its way to a child and back. The conn holds it
 * until answered; the session holds it queued (while starting) or in
 * flight. conn is NULL once the client has gone.
 */
enum request_kind {
	REQUEST_FORWARD,	/* an MCP request for the child */
	REQUEST_SESSION_INFO,	/* broker/session with create: answered
				   with the session once it is ready */
};

struct request {
	enum request_kind	 kind;
	struct conn		*conn;
	struct session		*session;
	cJSON			*client_id;	/* owned */
	char			 id_text[16];	/* the id as the client wrote
						   it, if short; or "" */
	cJSON			*msg;		/* owned until sent */
	char			*tail;		/* or, as text: all after the
						   id, newline included */
	size_t			 tail_len;
	int64_t			 child_id;	/* 0 until sent */
	cJSON			*client_token;	/* owned progress token */
	int64_t			 child_token;	/* 0: no progress asked */
	struct event		 timer;		/* request timeout */
	int			 timer_set;
	long			 timeout_ms;
	long			 max_ms;	/* max_request_timeout_s */
	struct timeval		 deadline_max;	/* start + max_ms */
	TAILQ_ENTRY(request)	 conn_entry;
	TAILQ_ENTRY(request)	 session_entry;
};
TAILQ_HEAD(request_list, request);

/*
 * A request from a child to a client (sampling, elicitation), waiting for
 * the client's answer. The session and the conn both list it.
 */
struct upcall {
	struct session		*session;
	struct conn		*conn;
	cJSON			*child_id;	/* owned: the child's id */
	int64_t			 client_id;	/* the id the client sees */
	TAILQ_ENTRY(upcall)	 session_entry;
	TAILQ_ENTRY(upcall)	 conn_entry;
};
TAILQ_HEAD(upcall_list, upcall);

void	 broker_init(struct broker *, struct event_base *, struct config *,
	     const char *);
void	 broker_shutdown(struct broker *);
void	 broker_free(struct broker *);

/* Each takes the message tree it is given. */
void	 broker_dispatch(struct broker *, struct conn *, cJSON *);
void	 broker_notify(struct broker *, struct conn *, cJSON *);

void	 request_answer(struct request *, cJSON *);
void	 request_answer_text(struct request *, const char *, const char *,
	     size_t);
void	 request_fail(struct request *, int, const char *, cJSON *);
void	 request_progress(struct request *, const cJSON *);
void	 request_free(struct request *);
void	 request_tail_to_msg(struct request *);
int	 broker_forward_text(struct broker *, struct conn *,
	     const struct scan_request *);

void	 broker_session_ended(struct broker *, struct session *);
void	 broker_session_idle(struct broker *, struct session *);
int	 broker_reload(struct broker *, cJSON **, cJSON **);
int	 broker_peer_allowed(struct broker *, uid_t, gid_t, const gid_t *,
	     int);
int	 broker_peer_admin(struct broker *, uid_t, gid_t, const gid_t *, int);

#endif
