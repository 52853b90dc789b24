/*
 * Requests and upcalls: one client request on its way to a child and
 * back, and one child's request on its way to a client and back.
 *
 * This module owns both. A request is listed by its front (the client
 * that sent it) and, once handed to a session, by that session's request
 * set: queued while the session starts, then in flight under its child
 * id. Whatever ends it (an answer, an error, a timeout, a cancel, the
 * client leaving) goes through one finish that takes it off every list
 * before anything is sent, so a send that drops the client finds nothing
 * of it left to free.
 */
#ifndef DAEMON_REQUEST_H
#define DAEMON_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

struct attach_set;
struct event_base;
struct front;
struct latency;
struct log_ctx;
struct request;
struct request_set;
struct upcall;

enum request_kind {
	REQUEST_FORWARD,	/* an MCP request for the child */
	REQUEST_SESSION_INFO,	/* broker/session with create: answered
				   with the session once it is ready */
	REQUEST_TASK_MAYBE,	/* forwarded; may be answered with a task */
	REQUEST_TASK_POLL,	/* forwarded tasks/get or tasks/cancel */
	REQUEST_TASK_RESULT,	/* forwarded tasks/result */
	REQUEST_LISTEN,		/* forwarded subscriptions/listen */
};

/* What a request set asks of the session it belongs to. */
struct request_set_ops {
	/* Write a message (taken) to the child. */
	void	(*write)(cJSON *, void *);
	/* Write a message written as text (no newline) to the child. */
	void	(*write_text)(const char *, size_t, void *);
	/* The error data about the session (the caller owns it): its
	   server and thread, and with full its end and stderr tail. */
	cJSON	*(*error_data)(void *, int);
	/* The number of requests queued or in flight changed (not told
	   for request_dequeue: the owner drains its queue, then looks). */
	void	(*changed)(void *);
};

struct request	*request_new(struct front *, enum request_kind, cJSON *,
		     const char *, size_t);
void		 request_set_text(struct request *, char *, size_t);
void		 request_set_token(struct request *, cJSON *);
void		 request_start_clock(struct request *, struct event_base *,
		     long, long);

enum request_kind request_kind(struct request *);
struct front	*request_front(struct request *);
const char	*request_text(struct request *, size_t *);
int		 request_wants_progress(struct request *);
void		 request_set_child_token(struct request *, int64_t);
const char	*request_ids(struct request *, size_t *, const cJSON **,
		     int64_t *);

void		 request_answer(struct request *, cJSON *);
void		 request_answer_text(struct request *, const char *, size_t,
		     const char *, size_t);
int		 request_answer_line(struct request *, const char *, size_t,
		     const char *, size_t, int);
void		 request_fail(struct request *, int, const char *, cJSON *);
void		 request_cancel(struct request *);
void		 request_progress(struct request *, const char *, size_t);
struct request	*request_find(struct front *, const char *, size_t);
void		 request_front_gone(struct front *);

struct request_set *request_set_new(const struct request_set_ops *, void *);
void		 request_set_free(struct request_set *);
struct attach_set *request_set_attach(struct request_set *);
void		 request_set_watch(struct request_set *, struct latency *,
		     const struct log_ctx *, const int *);
void		 request_own(struct request_set *, struct request *);
void		 request_queue(struct request_set *, struct request *);
struct request	*request_dequeue(struct request_set *);
void		 request_send(struct request_set *, struct request *,
		     int64_t);
struct request	*request_take(struct request_set *, int64_t);
struct request	*request_find_sent(struct request_set *, int64_t);
struct request	*request_find_token(struct request_set *, double);
struct request	*request_first_sent(struct request_set *);
struct request	*request_next_sent(struct request *);
size_t		 request_set_count(struct request_set *);
int		 request_set_busy(struct request_set *);
void		 request_fail_all(struct request_set *, int, const char *);

struct upcall	*upcall_new(struct request_set *, struct front *,
		     const char *, size_t);
int64_t		 upcall_client_id(struct upcall *);
struct upcall	*upcall_find(struct front *, const char *, size_t);
struct upcall	*upcall_find_child(struct request_set *, const char *,
		     size_t);
size_t		 upcall_count(struct request_set *);
void		 upcall_answer(struct upcall *, const char *, size_t);
void		 upcall_abandon(struct upcall *);
void		 upcall_fail(struct upcall *, const char *);
void		 upcall_cancel(struct upcall *, const char *);
void		 upcall_cancel_all(struct request_set *, const char *);

#endif
