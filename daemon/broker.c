/*
 * The broker: the session table and its rules, the clients, reload.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "access.h"
#include "ask.h"
#include "broker.h"
#include "cgroup.h"
#include "clock.h"
#include "config.h"
#include "counters.h"
#include "errors.h"
#include "follow.h"
#include "front.h"
#include "latency.h"
#include "log.h"
#include "process.h"
#include "proctree.h"
#include "request.h"
#include "service.h"
#include "session.h"
#include "task.h"
#include "table.h"
#include "xmalloc.h"

/*
 * A session out of the table whose process is still going (closing, or
 * ending on its own), until it finishes: the metrics count it.
 */
struct broker_gone {
	struct session			*session;
	LIST_ENTRY(broker_gone)		 entry;
};

struct broker {
	struct event_base	*base;
	struct stream_queue	*queue;
	struct child_list	*children;
	struct cgroup_root	*cgroups;
	struct config		*conf;
	char			*config_path;
	char			*socket_override;	/* --socket */
	char			*state_dir;	/* this instance's */
	int			 level_override;	/* --log-level, or -1 */
	struct service		*service;	/* systemd notifications */
	struct table		*table;
	struct follows		*follows;	/* broker/logs with follow */
	TAILQ_HEAD(, front)	 fronts;
	size_t			 nfronts;
	size_t			 nconns;	/* not (yet) a front's */

	struct event		*idle_timer;
	double			 idle_deadline;	/* monotonic; 0: not armed */

	time_t			 started;	/* wall clock, for session ids */
	double			 started_mono;	/* monotonic, for uptime */
	uid_t			 euid;		/* the daemon's own user */
	uint64_t		 next_session;	/* for session ids */
	int64_t			 next_token;	/* progress tokens to children */
	struct counters		 counters;
	struct latency_list	 latencies;	/* by server */
	struct proctree_cache	 proctree;	/* for broker/status rss */
	LIST_HEAD(, broker_gone) gone;		/* out of the table */
	int			 access_log;	/* the config's, now */
	int			 exiting;
};

static void	broker_session_busy_cb(struct session *, int, void *);
static void	broker_session_ended_cb(struct session *, void *);
static void	broker_session_finished_cb(struct session *, void *);
static void	broker_session_free_cb(evutil_socket_t, short, void *);
static void	broker_idle_cb(evutil_socket_t, short, void *);
static void	broker_idle_arm(struct broker *, double);
static int	broker_idle_timeout(struct broker *, const char *);
static void	broker_remove(struct broker *, struct table_entry *, int);
static void	broker_end(struct broker *, struct table_entry *, int, int,
		    const char *);
static int	broker_make_room(struct broker *, struct front *,
		    const cJSON *, const struct server_conf *);
static int	broker_evict(struct broker *, struct table_entry *,
		    const char *);
static int	broker_visible(struct front *, struct table_entry *);
static cJSON	*broker_server_data(const char *);

static const struct session_cbs broker_session_cbs = {
	.busy = broker_session_busy_cb,
	.ended = broker_session_ended_cb,
	.finished = broker_session_finished_cb,
};

/* A broker for main, with the config it takes. */
struct broker *
broker_new(const struct broker_params *bp)
{
	struct broker	*b;

	b = xcalloc(1, sizeof *b);
	b->base = bp->base;
	b->queue = bp->queue;
	b->children = bp->children;
	b->cgroups = bp->cgroups;
	b->conf = bp->conf;
	b->state_dir = xstrdup(bp->state_dir);
	b->config_path = bp->config_path != NULL ?
	    xstrdup(bp->config_path) : NULL;
	b->socket_override = bp->socket_override != NULL ?
	    xstrdup(bp->socket_override) : NULL;
	b->level_override = bp->level_override;
	b->table = table_new();
	b->follows = follows_new();
	TAILQ_INIT(&b->fronts);
	b->started = time(NULL);
	b->started_mono = clock_s();
	b->euid = geteuid();
	b->idle_timer = evtimer_new(b->base, broker_idle_cb, b);
	LIST_INIT(&b->latencies);
	LIST_INIT(&b->gone);
	latency_hold_servers(&b->latencies, b->conf, 1);
	b->access_log = b->conf->access_log;
	return (b);
}

/*
 * Free the broker: its clients are dropped; its sessions must be gone
 * (broker_shutdown, then their children reaped).
 */
void
broker_free(struct broker *b)
{
	struct broker_gone	*g;
	struct front		*f;

	while ((f = TAILQ_FIRST(&b->fronts)) != NULL)
		f->ops->close(f->arg, "the broker is exiting");
	table_free(b->table);
	follows_free(b->follows);
	event_free(b->idle_timer);
	latency_free_all(&b->latencies);
	proctree_cache_clear(&b->proctree);
	while ((g = LIST_FIRST(&b->gone)) != NULL) {
		LIST_REMOVE(g, entry);
		free(g);
	}
	config_free(b->conf);
	free(b->config_path);
	free(b->socket_override);
	free(b->state_dir);
	free(b);
}

/* Where reload and readiness are told to systemd. */
void
broker_set_service(struct broker *b, struct service *sv)
{
	b->service = sv;
}

/*
 * Begin shutting down: every session is closed at once, and whatever is
 * queued or in flight is answered -32016. New requests get -32016 too.
 */
void
broker_shutdown(struct broker *b)
{
	struct table_entry	*e, *next;

	b->exiting = 1;
	evtimer_del(b->idle_timer);
	for (e = table_first(b->table); e != NULL; e = next) {
		next = table_next(b->table, e);
		broker_end(b, e, 0, RPC_SHUTTING_DOWN,
		    "the broker is shutting down");
	}
}

/* Whether shutdown has begun. */
int
broker_exiting(struct broker *b)
{
	return (b->exiting);
}

/* The configuration in force. */
struct config *
broker_config(struct broker *b)
{
	return (b->conf);
}

/* The counters broker/status shows. */
struct counters *
broker_counters(struct broker *b)
{
	return (&b->counters);
}

/* The event loop. */
struct event_base *
broker_base(struct broker *b)
{
	return (b->base);
}

/* The flush queue of the daemon's streams. */
struct stream_queue *
broker_queue(struct broker *b)
{
	return (b->queue);
}

/* The followers of sessions' stderr. */
struct follows *
broker_follows(struct broker *b)
{
	return (b->follows);
}

/* Clients connected, over every front end. */
size_t
broker_nclients(struct broker *b)
{
	return (b->nfronts + b->nconns);
}

/*
 * A connection that is no front of the core (yet): counted toward
 * max_clients, without the admin reserve, and toward uid's clients
 * ((uid_t)-1: none). -1 (and not counted) if max_clients is reached.
 */
int
broker_conn_add(struct broker *b, uid_t uid)
{
	if (b->nfronts + b->nconns >= (size_t)b->conf->max_clients)
		return (-1);
	b->nconns++;
	if (uid != (uid_t)-1)
		table_client_add(b->table, uid);
	return (0);
}

/* A connection counted by broker_conn_add() has closed. */
void
broker_conn_gone(struct broker *b, uid_t uid)
{
	b->nconns--;
	if (uid != (uid_t)-1)
		table_client_remove(b->table, uid);
}

/* Sessions in the table. */
size_t
broker_nsessions(struct broker *b)
{
	return (table_count(b->table));
}

/* Requests the clients have unanswered, over every front end. */
size_t
broker_in_flight(struct broker *b)
{
	struct front	*f;
	size_t		 n = 0;

	TAILQ_FOREACH(f, &b->fronts, entry)
		n += f->nrequests;
	return (n);
}

/* Sessions of server in state, those out of the table but not yet over
   included. */
size_t
broker_count_sessions(struct broker *b, const char *server, int state)
{
	struct table_entry	*e;
	struct broker_gone	*g;
	size_t			 n = 0;

	LIST_FOREACH(g, &b->gone, entry) {
		if (strcmp(session_server(g->session), server) == 0 &&
		    (int)session_state(g->session) == state)
			n++;
	}
	for (e = table_first(b->table); e != NULL; e = table_next(b->table,
	    e)) {
		if (strcmp(table_server(e), server) == 0 &&
		    (int)session_state(table_value(e)) == state)
			n++;
	}
	return (n);
}

/* The latency histograms, one per server configured or still running. */
struct latency_list *
broker_latencies(struct broker *b)
{
	return (&b->latencies);
}

/* The last scan of /proc, for broker/status's rss. */
struct proctree_cache *
broker_proctree_cache(struct broker *b)
{
	return (&b->proctree);
}

/* A progress token no child has been given yet. */
int64_t
broker_next_token(struct broker *b)
{
	return (++b->next_token);
}

/* Seconds since the daemon started. */
double
broker_uptime(struct broker *b)
{
	return (clock_s() - b->started_mono);
}

/*
 * Whether a client of uid may connect now: below max_clients and
 * max_clients_per_uid (0: no bound), or for an admin below each by
 * BROKER_ADMIN_RESERVE more, so that non-admins filling either cannot
 * lock root out. If not, *bound names the bound in the way.
 */
int
broker_client_room(struct broker *b, uid_t uid, int admin,
    const char **bound)
{
	size_t	reserve = admin ? BROKER_ADMIN_RESERVE : 0;
	int	per_uid = b->conf->max_clients_per_uid;

	if (b->nfronts + b->nconns >= (size_t)b->conf->max_clients +
	    reserve) {
		*bound = "max_clients";
		return (0);
	}
	if (per_uid > 0 && table_count_clients(b->table, uid) >=
	    (size_t)per_uid + reserve) {
		*bound = "max_clients_per_uid";
		return (0);
	}
	return (1);
}

/* A new client of some front end. */
void
broker_front_add(struct broker *b, struct front *f)
{
	f->serial = ++b->counters.clients_accepted;
	TAILQ_INSERT_TAIL(&b->fronts, f, entry);
	b->nfronts++;
	table_client_add(b->table, f->uid);
}

/*
 * A client has gone: its requests are cancelled at their children and
 * their late answers dropped; the children's requests to it fail.
 */
void
broker_front_gone(struct broker *b, struct front *f)
{
	request_front_gone(f);
	task_front_gone(f);
	ask_front_gone(f);
	follow_front_gone(b->follows, f);
	TAILQ_REMOVE(&b->fronts, f, entry);
	b->nfronts--;
	table_client_remove(b->table, f->uid);
}

/* {"server": name}: the data of -32010 and -32014. */
static cJSON *
broker_server_data(const char *server)
{
	cJSON	*data;

	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "server", server);
	return (data);
}

/*
 * The configured, enabled server called name, or NULL after answering
 * -32010 under (a copy of) id on f.
 */
const struct server_conf *
broker_find_server(struct broker *b, struct front *f, const cJSON *id,
    const char *name)
{
	const struct server_conf	*sc;

	sc = config_find_server(b->conf, name);
	if (sc == NULL || sc->disabled) {
		front_send_errorf(f, cJSON_Duplicate(id, 1),
		    RPC_UNKNOWN_SERVER, broker_server_data(name), sc == NULL ?
		    "Unknown server '%.64s'; broker/servers lists the "
		    "configured ones." : "Server '%.64s' is disabled in the "
		    "configuration.", name);
		return (NULL);
	}
	return (sc);
}

/* The live session for a key, or NULL. */
struct session *
broker_lookup(struct broker *b, uid_t uid, const char *server,
    const char *thread)
{
	struct table_entry	*e;

	if ((e = table_find(b->table, uid, server, thread)) == NULL)
		return (NULL);
	return (table_value(e));
}

/*
 * The live session f may see for server and thread: f's own, else for an
 * admin another user's (the first in the table), or NULL.
 */
struct session *
broker_lookup_visible(struct broker *b, struct front *f, const char *server,
    const char *thread)
{
	struct table_entry	*e;
	struct session		*s;

	if ((s = broker_lookup(b, f->uid, server, thread)) != NULL ||
	    !f->admin)
		return (s);
	for (e = table_first(b->table); e != NULL; e = table_next(b->table, e))
		if (strcmp(table_server(e), server) == 0 &&
		    strcmp(table_thread(e), thread) == 0)
			return (table_value(e));
	return (NULL);
}

/*
 * Evict victim to make room at bound (named in the log); -1 if there is
 * no victim.
 */
static int
broker_evict(struct broker *b, struct table_entry *victim, const char *bound)
{
	char	*why;

	if (victim == NULL)
		return (-1);
	b->counters.sessions_evicted++;
	xasprintf(&why, "evicted: the least recently used idle session that "
	    "could go at %s", bound);
	broker_end(b, victim, 1, RPC_SESSION_LOST, why);
	free(why);
	return (0);
}

/*
 * Make room for one more session of sc for f's uid: at its own bound
 * (max_sessions_per_uid) it gives up its least recently used idle
 * session; at the server's cap, then at the global one, the victim is
 * the least recently used idle session of the uid furthest over its fair
 * share there (table_fair_victim), never one of a uid within its share.
 * Returns -1 after answering -32014 if nothing may be evicted.
 */
static int
broker_make_room(struct broker *b, struct front *f, const cJSON *id,
    const struct server_conf *sc)
{
	struct table_entry	*victim;
	cJSON			*data;
	int			 per_uid = b->conf->max_sessions_per_uid;

	if (per_uid > 0 && table_count_uid(b->table, f->uid, NULL) >=
	    (size_t)per_uid) {
		victim = table_lru_idle_uid(b->table, f->uid, NULL);
		if (broker_evict(b, victim,
		    "broker.max_sessions_per_uid") != 0) {
			data = broker_server_data(sc->name);
			cJSON_AddNumberToObject(data, "max_sessions_per_uid",
			    per_uid);
			front_send_errorf(f, cJSON_Duplicate(id, 1),
			    RPC_AT_CAPACITY, data, "You hold %d sessions "
			    "(broker.max_sessions_per_uid) and all of them are "
			    "busy; retry when one is idle, or close one with "
			    "broker/close.", per_uid);
			return (-1);
		}
	}
	if (sc->max_sessions > 0 && table_count_server(b->table, sc->name) >=
	    (size_t)sc->max_sessions) {
		victim = table_fair_victim(b->table, sc->name,
		    (size_t)sc->max_sessions, f->uid);
		if (broker_evict(b, victim, "the server's max_sessions") != 0) {
			front_send_errorf(f, cJSON_Duplicate(id, 1),
			    RPC_AT_CAPACITY, broker_server_data(sc->name),
			    "All %d sessions of server '%s' are taken "
			    "(mcpServers.%s.max_sessions): yours are busy and "
			    "other users' are within their fair share; retry "
			    "when one of yours is idle.", sc->max_sessions,
			    sc->name, sc->name);
			return (-1);
		}
	}
	if (table_count(b->table) >= (size_t)b->conf->max_sessions) {
		victim = table_fair_victim(b->table, NULL,
		    (size_t)b->conf->max_sessions, f->uid);
		if (broker_evict(b, victim, "broker.max_sessions") != 0) {
			front_send_errorf(f, cJSON_Duplicate(id, 1),
			    RPC_AT_CAPACITY, broker_server_data(sc->name),
			    "All %d sessions are taken (broker.max_sessions): "
			    "yours are busy and other users' are within their "
			    "fair share; retry when one of yours is idle.",
			    b->conf->max_sessions);
			return (-1);
		}
	}
	return (0);
}

/*
 * The session for (f's uid, server, thread): the live one, or a new one
 * (evicting the least recently used idle session at a cap). Returns NULL
 * after answering the error under (a copy of) id.
 */
struct session *
broker_session_for(struct broker *b, struct front *f, const cJSON *id,
    const struct server_conf *sc, const char *thread)
{
	struct session_params	 sp;
	struct process_env	 env;
	struct cgroup_limits	 limits;
	struct table_entry	*e;
	struct session		*s;
	cJSON			*data;
	char			*cause, sid[48];

	if ((e = table_find(b->table, f->uid, sc->name, thread)) != NULL) {
		table_touch(b->table, e);
		return (table_value(e));
	}
	if (broker_make_room(b, f, id, sc) != 0)
		return (NULL);

	env.base = b->base;
	env.queue = b->queue;
	env.children = b->children;
	env.max_message = b->conf->max_message_bytes;
	env.grace_ms = b->conf->shutdown_grace_ms;
	limits.memory_max = sc->memory_max;
	limits.pids_max = sc->pids_max;
	limits.cpu_weight = sc->cpu_weight;
	env.cgroups = b->cgroups;
	env.limits = &limits;
	env.stderr_line = follow_line_cb;
	env.stderr_arg = b->follows;
	snprintf(sid, sizeof sid, "%" PRIx64 "-%" PRIu64,
	    (uint64_t)b->started, ++b->next_session);
	sp.env = &env;
	sp.server = sc;
	sp.task_max_ms = (long)b->conf->max_request_timeout_s * 1000;
	sp.start_timeout_s = sc->start_timeout_s != CONFIG_UNSET ?
	    sc->start_timeout_s : b->conf->start_timeout_s;
	sp.uid = f->uid;
	sp.thread = thread;
	sp.id = sid;
	sp.state_dir = b->state_dir;
	sp.generation = table_recall(b->table, f->uid, sc->name, thread) + 1;
	sp.latency = latency_find(&b->latencies, sc->name);
	sp.access_log = &b->access_log;
	if ((s = session_start(&sp, &broker_session_cbs, b, &cause)) ==
	    NULL) {
		data = broker_server_data(sc->name);
		cJSON_AddStringToObject(data, "thread", thread);
		cJSON_AddItemToObject(data, "stderr_tail",
		    cJSON_CreateArray());
		front_send_errorf(f, cJSON_Duplicate(id, 1), RPC_START_FAILED,
		    data, "Could not start server '%s': %s.", sc->name, cause);
		log_warnx("cannot start %s: %s", sc->name, cause);
		free(cause);
		return (NULL);
	}
	b->counters.sessions_started++;
	table_forget(b->table, f->uid, sc->name, thread);
	e = table_insert(b->table, f->uid, sc->name, thread, s);
	session_set_slot(s, e);
	return (s);
}

/*
 * Hand a forwarded request to its session with its clock started:
 * timeout_ms, but never past max_request_timeout_s however often progress
 * restarts it.
 */
void
broker_submit(struct broker *b, struct session *s, struct request *req,
    long timeout_ms)
{
	request_start_clock(req, b->base, timeout_ms,
	    (long)b->conf->max_request_timeout_s * 1000);
	session_submit(s, req);
}

/*
 * Take a session out of the table. remember: the key's next session
 * counts on from this generation (crash, eviction, expiry); otherwise the
 * key is forgotten (broker/close) and starts again at 1.
 */
static void
broker_remove(struct broker *b, struct table_entry *e, int remember)
{
	struct session		*s = table_value(e);
	struct broker_gone	*g;

	if (remember)
		table_remember(b->table, table_uid(e), table_server(e),
		    table_thread(e), session_generation(s));
	else
		table_forget(b->table, table_uid(e), table_server(e),
		    table_thread(e));
	table_remove(b->table, e);
	session_set_slot(s, NULL);
	g = xmalloc(sizeof *g);
	g->session = s;
	LIST_INSERT_HEAD(&b->gone, g, entry);
}

/*
 * Take a session out of the table and close it: what it holds is
 * answered with code, for reason.
 */
static void
broker_end(struct broker *b, struct table_entry *e, int remember, int code,
    const char *reason)
{
	struct session	*s = table_value(e);

	broker_remove(b, e, remember);
	follow_note_end(b->follows, s, reason);
	session_close(s, code, reason);
}

/* A session turned busy or idle: the table's idle lists follow. */
static void
broker_session_busy_cb(struct session *s, int busy, void *arg)
{
	struct broker		*b = arg;
	struct table_entry	*e = session_slot(s);
	int			 timeout;

	if (e == NULL)
		return;
	table_set_busy(b->table, e, busy);
	if (!busy && (timeout = broker_idle_timeout(b, session_server(s))) > 0)
		broker_idle_arm(b, session_idle_since(s) + timeout);
}

/* A session ended on its own (exit, broken pipe, failed start). */
static void
broker_session_ended_cb(struct session *s, void *arg)
{
	struct broker		*b = arg;
	struct table_entry	*e = session_slot(s);

	if (e == NULL)
		return;
	b->counters.sessions_exited++;
	broker_remove(b, e, 1);
}

/* A session is over: free it once its callback has returned. */
static void
broker_session_finished_cb(struct session *s, void *arg)
{
	struct broker		*b = arg;
	struct broker_gone	*g;
	struct timeval		 tv = { 0, 0 };

	LIST_FOREACH(g, &b->gone, entry) {
		if (g->session == s) {
			LIST_REMOVE(g, entry);
			free(g);
			break;
		}
	}
	follow_session_over(b->follows, s);
	event_base_once(b->base, -1, EV_TIMEOUT, broker_session_free_cb, s,
	    &tv);
}

/* Free a finished session (deferred). */
static void
broker_session_free_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	session_free(arg);
}

/* Whether f may see (and close) the session of e. */
static int
broker_visible(struct front *f, struct table_entry *e)
{
	return (f->admin || table_uid(e) == f->uid);
}

/*
 * Close f's sessions matching server and thread (NULL: any); the keys are
 * forgotten, so the next session for one starts at generation 1. Returns
 * how many were closed.
 */
int
broker_close_matching(struct broker *b, struct front *f, const char *server,
    const char *thread)
{
	struct table_entry	*e, *next;
	int			 closed = 0;

	for (e = table_first(b->table); e != NULL; e = next) {
		next = table_next(b->table, e);
		if (!broker_visible(f, e))
			continue;
		if (server != NULL && strcmp(table_server(e), server) != 0)
			continue;
		if (thread != NULL && strcmp(table_thread(e), thread) != 0)
			continue;
		broker_end(b, e, 0, RPC_SESSION_LOST, "broker/close");
		b->counters.sessions_closed++;
		closed++;
	}
	return (closed);
}

/* The sessions f may see, as broker/status lists them. */
cJSON *
broker_list_sessions(struct broker *b, struct front *f)
{
	struct table_entry	*e;
	cJSON			*list;

	list = cJSON_CreateArray();
	for (e = table_first(b->table); e != NULL; e = table_next(b->table, e))
		if (broker_visible(f, e))
			cJSON_AddItemToArray(list,
			    session_describe(table_value(e), 0));
	return (list);
}

/* The configured servers and their session counts (never their env). */
cJSON *
broker_list_servers(struct broker *b)
{
	const struct server_conf	*sc;
	cJSON				*list, *o;
	size_t				 i;

	list = cJSON_CreateArray();
	for (i = 0; i < b->conf->nservers; i++) {
		sc = &b->conf->servers[i];
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", sc->name);
		cJSON_AddNumberToObject(o, "sessions",
		    (double)table_count_server(b->table, sc->name));
		cJSON_AddNumberToObject(o, "max_sessions", sc->max_sessions);
		cJSON_AddBoolToObject(o, "disabled", sc->disabled);
		cJSON_AddItemToArray(list, o);
	}
	return (list);
}

/* The idle timeout of a server's sessions in seconds; 0: never. */
static int
broker_idle_timeout(struct broker *b, const char *server)
{
	const struct server_conf	*sc;

	sc = config_find_server(b->conf, server);
	if (sc != NULL && sc->idle_timeout_s != CONFIG_UNSET)
		return (sc->idle_timeout_s);
	return (b->conf->idle_timeout_s);
}

/* Make sure the idle timer fires by deadline (monotonic seconds). */
static void
broker_idle_arm(struct broker *b, double deadline)
{
	struct timeval	tv;
	double		left;

	if (b->exiting || (b->idle_deadline != 0 &&
	    b->idle_deadline <= deadline))
		return;
	b->idle_deadline = deadline;
	left = deadline - clock_s();
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6) + 1;
	evtimer_add(b->idle_timer, &tv);
}

/*
 * Close the sessions idle past their timeout. Each server's idle list is
 * in idle order, so only its tail is looked at: the work is one look per
 * server plus one per session that expires, never a walk of them all.
 */
static void
broker_idle_cb(evutil_socket_t fd, short events, void *arg)
{
	struct broker		*b = arg;
	struct table_entry	*e;
	double			 now = clock_s(), next = 0, due;
	size_t			 i;
	int			 timeout;
	char			*why;

	(void)fd;
	(void)events;
	b->idle_deadline = 0;
	for (i = 0; i < b->conf->nservers; i++) {
		timeout = broker_idle_timeout(b, b->conf->servers[i].name);
		if (timeout == 0)
			continue;
		while ((e = table_lru_idle(b->table,
		    b->conf->servers[i].name)) != NULL) {
			due = session_idle_since(table_value(e)) + timeout;
			if (due > now) {
				if (next == 0 || due < next)
					next = due;
				break;
			}
			b->counters.sessions_expired++;
			xasprintf(&why, "idle for %d s (idle_timeout_s)",
			    timeout);
			broker_end(b, e, 1, RPC_SESSION_LOST, why);
			free(why);
		}
	}
	if (next != 0)
		broker_idle_arm(b, next);
}

/* Whether a peer may use the broker at all (see access.c). */
int
broker_peer_allowed(struct broker *b, uid_t uid, gid_t gid,
    const gid_t *groups, int ngroups)
{
	return (access_peer_allowed(b->conf, b->euid, uid, gid, groups,
	    ngroups));
}

/* Whether a peer is an admin (see access.c). */
int
broker_peer_admin(struct broker *b, uid_t uid, gid_t gid,
    const gid_t *groups, int ngroups)
{
	return (access_peer_admin(b->conf, b->euid, uid, gid, groups,
	    ngroups));
}

/* Whether name is among the strings of list. */
static int
broker_listed(const cJSON *list, const char *name)
{
	const cJSON	*item;

	cJSON_ArrayForEach(item, list) {
		if (strcmp(item->valuestring, name) == 0)
			return (1);
	}
	return (0);
}

/*
 * Re-read the config file. A bad file changes nothing: returns -1 with
 * *errors (the messages). Otherwise the new config takes over: sessions
 * of servers removed, disabled or started differently are closed, others
 * keep theirs; returns 0 with *result ({"added","removed","changed"}).
 */
int
broker_reload(struct broker *b, cJSON **result, cJSON **errors)
{
	struct config_diag	 diag;
	struct config		*conf;
	struct table_entry	*e, *next;
	cJSON			*added, *removed, *changed;
	char			*cause;
	size_t			 i;

	service_reloading(b->service);
	memset(&diag, 0, sizeof diag);
	conf = config_load(b->config_path, &diag);
	for (i = 0; i < diag.nwarnings; i++)
		log_warnx("reload: %s: %s", b->config_path, diag.warnings[i]);
	if (conf == NULL) {
		service_ready(b->service);
		*errors = cJSON_CreateArray();
		for (i = 0; i < diag.nerrors; i++) {
			log_warnx("reload: %s: %s", b->config_path,
			    diag.errors[i]);
			cJSON_AddItemToArray(*errors,
			    cJSON_CreateString(diag.errors[i]));
		}
		log_warnx("reload: %s is invalid; nothing was changed",
		    b->config_path);
		config_diag_clear(&diag);
		return (-1);
	}
	config_diag_clear(&diag);

	/* The socket is bound once; its path and mode stay as they are. */
	if (b->socket_override != NULL ||
	    strcmp(conf->socket, b->conf->socket) != 0 ||
	    conf->socket_mode != b->conf->socket_mode ||
	    conf->socket_group_set != b->conf->socket_group_set ||
	    conf->socket_group != b->conf->socket_group) {
		if (b->socket_override == NULL)
			log_warnx("reload: socket, socket_mode and socket_group "
			    "changes take effect at the next start");
		free(conf->socket);
		conf->socket = xstrdup(b->conf->socket);
		conf->socket_mode = b->conf->socket_mode;
		conf->socket_group = b->conf->socket_group;
		conf->socket_group_set = b->conf->socket_group_set;
	}
	if (config_http_reload(&b->conf->http, &conf->http, &cause) != 0) {
		log_warnx("reload: %s; nothing was changed", cause);
		*errors = cJSON_CreateArray();
		cJSON_AddItemToArray(*errors, cJSON_CreateString(cause));
		free(cause);
		config_free(conf);
		service_ready(b->service);
		return (-1);
	}
	if (b->level_override != -1)
		conf->log_level = (enum log_level)b->level_override;
	/* Leftovers are looked for in the state_dir of the start. */
	if (strcmp(conf->state_dir, b->conf->state_dir) != 0) {
		log_warnx("reload: a state_dir change takes effect at the "
		    "next start");
		free(conf->state_dir);
		conf->state_dir = xstrdup(b->conf->state_dir);
	}

	config_diff(b->conf, conf, &added, &removed, &changed);
	for (e = table_first(b->table); e != NULL; e = next) {
		next = table_next(b->table, e);
		if (!broker_listed(removed, table_server(e)) &&
		    !broker_listed(changed, table_server(e)))
			continue;
		b->counters.sessions_closed++;
		broker_end(b, e, 1, RPC_SESSION_LOST, "its server's "
		    "configuration changed on reload");
	}

	latency_hold_servers(&b->latencies, conf, 1);
	latency_hold_servers(&b->latencies, b->conf, 0);
	config_free(b->conf);
	b->conf = conf;
	b->access_log = conf->access_log;
	log_set_level(conf->log_level);
	/* Idle timeouts may have changed: look at every server again. */
	evtimer_del(b->idle_timer);
	b->idle_deadline = 0;
	broker_idle_arm(b, clock_s());
	b->counters.reloads++;
	log_info("reloaded %s: %d added, %d removed, %d changed",
	    b->config_path, cJSON_GetArraySize(added),
	    cJSON_GetArraySize(removed), cJSON_GetArraySize(changed));

	service_ready(b->service);
	*result = cJSON_CreateObject();
	cJSON_AddItemToObject(*result, "added", added);
	cJSON_AddItemToObject(*result, "removed", removed);
	cJSON_AddItemToObject(*result, "changed", changed);
	return (0);
}
