/*
 * The broker: sessions by key (uid, server, thread), the capacity rules
 * (global, per-server and per-uid bounds; eviction of the least recently
 * used idle session of the uid furthest over its fair share), idle
 * expiry, generations, the clients of every front end (counted per uid),
 * and reloading the configuration. It answers clients only through
 * their front's operations (front.h).
 */
#ifndef DAEMON_BROKER_H
#define DAEMON_BROKER_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/*
 * Connections an admin may open beyond max_clients and beyond
 * max_clients_per_uid, so that other users filling either never lock
 * root out of status and close.
 */
#define BROKER_ADMIN_RESERVE	8

struct broker;
struct cgroup_root;
struct child_list;
struct config;
struct counters;
struct event_base;
struct follows;
struct front;
struct latency_list;
struct proctree_cache;
struct request;
struct server_conf;
struct service;
struct session;
struct stream_queue;

/* What main gives a new broker. */
struct broker_params {
	struct event_base	*base;
	struct stream_queue	*queue;
	struct child_list	*children;
	struct cgroup_root	*cgroups;	/* main's; NULL: none */
	struct config		*conf;		/* taken */
	const char		*config_path;
	const char		*socket_override;	/* --socket, or NULL */
	const char		*state_dir;	/* this instance's, in
						   broker.state_dir */
	int			 level_override;	/* --log-level, or -1 */
};

struct broker	*broker_new(const struct broker_params *);
void		 broker_free(struct broker *);
void		 broker_set_service(struct broker *, struct service *);
void		 broker_shutdown(struct broker *);

int		 broker_exiting(struct broker *);
struct config	*broker_config(struct broker *);
struct counters	*broker_counters(struct broker *);
struct event_base *broker_base(struct broker *);
struct stream_queue *broker_queue(struct broker *);
struct follows	*broker_follows(struct broker *);
size_t		 broker_nclients(struct broker *);
size_t		 broker_nsessions(struct broker *);
size_t		 broker_in_flight(struct broker *);
size_t		 broker_count_sessions(struct broker *, const char *, int);
struct latency_list *broker_latencies(struct broker *);
struct proctree_cache *broker_proctree_cache(struct broker *);
double		 broker_uptime(struct broker *);
int64_t		 broker_next_token(struct broker *);

int		 broker_client_room(struct broker *, uid_t, int,
		     const char **);
int		 broker_conn_add(struct broker *, uid_t);
void		 broker_conn_gone(struct broker *, uid_t);
void		 broker_front_add(struct broker *, struct front *);
void		 broker_front_gone(struct broker *, struct front *);

const struct server_conf *broker_find_server(struct broker *, struct front *,
		     const cJSON *, const char *);
struct session	*broker_session_for(struct broker *, struct front *,
		     const cJSON *, const struct server_conf *, const char *);
struct session	*broker_lookup(struct broker *, uid_t, const char *,
		     const char *);
struct session	*broker_lookup_visible(struct broker *, struct front *,
		     const char *, const char *);
void		 broker_submit(struct broker *, struct session *,
		     struct request *, long);
int		 broker_close_matching(struct broker *, struct front *,
		     const char *, const char *);
cJSON		*broker_list_sessions(struct broker *, struct front *);
cJSON		*broker_list_servers(struct broker *);
int		 broker_reload(struct broker *, cJSON **, cJSON **);

int		 broker_peer_allowed(struct broker *, uid_t, gid_t,
		     const gid_t *, int);
int		 broker_peer_admin(struct broker *, uid_t, gid_t,
		     const gid_t *, int);

#endif
