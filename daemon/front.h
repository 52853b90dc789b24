/*
 * A front end's client, as the core sees it: who it is, what it can
 * answer, and how to reach it. Each transport (NDJSON on the socket
 * today; HTTP and the stdio bridge beside it) embeds a struct front in
 * its own client object and fills in the operations; the core never
 * learns which transport a client used.
 *
 * The request and upcall lists are kept by request.c alone, the
 * attachments by attach.c alone, the asks by ask.c alone, the task links
 * by task.c alone, the broker's list by broker.c alone. A front end reads
 * none of them.
 */
#ifndef DAEMON_FRONT_H
#define DAEMON_FRONT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/* Requests one client may have unanswered before its reading pauses. */
#define FRONT_MAX_IN_FLIGHT	256

struct ask;
struct attach;
struct counters;
struct request;
struct task_link;
struct upcall;

/*
 * What a child's request to a client needs the client to have declared
 * (broker/hello capabilities, an HTTP or bridge host's initialize).
 */
enum front_need {
	FRONT_NEED_SAMPLING,		/* sampling/createMessage */
	FRONT_NEED_SAMPLING_TOOLS,	/* the same, with tools */
	FRONT_NEED_ELICIT_FORM,		/* elicitation/create, form mode */
	FRONT_NEED_ELICIT_URL,		/* elicitation/create, url mode */
};

/* What a front end does for the core. arg is the front's arg. */
struct front_ops {
	/* Send one message (a result, an error, a notification or a
	   request); takes it. */
	void	(*send)(void *, cJSON *);
	/*
	 * Send a success result as text (the fast path): the client's id
	 * and the session's _meta as JSON texts, the result's members
	 * without braces (len 0: none). See wire_result_fill().
	 */
	void	(*send_result)(void *, const char *, size_t, const char *,
		    size_t, const char *, size_t);
	/*
	 * Send one message already written as text (a child's answer,
	 * notification or request passed on byte for byte), without its
	 * newline.
	 */
	void	(*send_line)(void *, const char *, size_t);
	/* Stop taking requests from the client, and start again. */
	void	(*pause)(void *);
	void	(*resume)(void *);
	/* The broker drops the client (it is exiting). */
	void	(*close)(void *, const char *);
};

struct front {
	const struct front_ops	*ops;
	void			*arg;
	struct counters		*counters;
	uid_t			 uid;
	pid_t			 pid;
	int			 admin;		/* may see and close all */
	uint64_t		 serial;	/* for the log */
	int			 can_sample;	/* broker/hello */
	int			 can_elicit;	/* form or url */
	int			 can_sample_tools;
	int			 can_elicit_form;
	int			 can_elicit_url;
	int			 notifications;	/* takes the child's
						   unasked ones (list
						   changes) */
	int			 gone;		/* nothing is sent any more */
	int			 paused;	/* at FRONT_MAX_IN_FLIGHT */
	int64_t			 next_upcall;	/* ids of requests to it */

	TAILQ_HEAD(, request)	 requests;	/* request.c's */
	size_t			 nrequests;
	TAILQ_HEAD(, upcall)	 upcalls;	/* request.c's */
	TAILQ_HEAD(, attach)	 attaches;	/* attach.c's: the sessions
						   it is attached to */
	LIST_HEAD(, task_link)	 tasks;		/* task.c's */
	TAILQ_HEAD(, ask)	 asks;		/* ask.c's */
	TAILQ_ENTRY(front)	 entry;		/* broker.c's */
};

void	 front_init(struct front *, const struct front_ops *, void *,
	     struct counters *, uid_t, pid_t, int);
void	 front_send(struct front *, cJSON *);
void	 front_send_error(struct front *, cJSON *, int, const char *,
	     cJSON *);
void	 front_send_errorf(struct front *, cJSON *, int, cJSON *,
	     const char *, ...) __attribute__((format(printf, 5, 6)));
void	 front_send_result(struct front *, const char *, size_t,
	     const char *, size_t, const char *, size_t);
void	 front_send_line(struct front *, const char *, size_t);
void	 front_hold(struct front *);
void	 front_release(struct front *);
void	 front_declare(struct front *, const cJSON *);
int	 front_can_answer(struct front *, enum front_need);
const char *front_need_name(enum front_need);

#endif
