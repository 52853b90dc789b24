/*
 * Client connections on the broker's socket: read lines, hand requests to
 * the broker, write answers, enforce the per-client bounds.
 */
#ifndef DAEMON_CONN_H
#define DAEMON_CONN_H

#include <sys/types.h>

#include <cJSON.h>

/* Requests one client may have unanswered before its reading pauses. */
#define CONN_MAX_IN_FLIGHT	256
/* Unsent bytes per client, as a multiple of max_message_bytes. */
#define CONN_OUTPUT_MAX_FACTOR	4

struct broker;
struct conn;
struct request;
struct upcall;

struct conn	*conn_new(struct broker *, int, uid_t, pid_t, int);
void		 conn_drop(struct conn *, const char *);
void		 conn_send(struct conn *, cJSON *);
void		 conn_send_result(struct conn *, const char *, const char *,
		     const char *, size_t);
void		 conn_send_error(struct conn *, cJSON *, int, const char *,
		     cJSON *);
void		 conn_close_after_flush(struct conn *);

uid_t		 conn_uid(struct conn *);
int		 conn_admin(struct conn *);
struct broker	*conn_broker(struct conn *);
void		 conn_add_request(struct conn *, struct request *);
void		 conn_remove_request(struct conn *, struct request *);
struct request	*conn_find_request(struct conn *, const cJSON *);

void		 conn_set_capabilities(struct conn *, int, int);
int		 conn_can_sample(struct conn *);
int		 conn_can_elicit(struct conn *);
void		 conn_add_upcall(struct conn *, struct upcall *);
void		 conn_remove_upcall(struct conn *, struct upcall *);

#endif
