/*
 * Tasks and subscriptions: what a child keeps going after the request
 * that started it was answered.
 *
 * A task (2025-11-25 tasks, the 2026-07-28 tasks extension) is recorded
 * on its session when a forwarded request is answered with a
 * CreateTaskResult: its id, the client that created it and the clients
 * that polled it, its deadline (its ttl, else the session's bound), and
 * the progress token of the request that created it. A session with a
 * task recorded is busy. The task is forgotten when the broker sees it
 * end (a terminal status) or its deadline passes.
 *
 * A subscription (2026-07-28 subscriptions/listen) is the listen request
 * itself, in flight until its client cancels it or leaves, or the child
 * answers it; the child's notifications for it name it by the request's
 * id, and reach that request's client only.
 */
#ifndef DAEMON_TASK_H
#define DAEMON_TASK_H

#include <stddef.h>

#include <cJSON.h>

#include "request.h"

/* Tasks recorded per session; past it a task is not kept (logged). */
#define TASK_MAX_PER_SESSION	64
/* Clients told of one task's status: its creator and its pollers. */
#define TASK_MAX_FRONTS		8
/* The longest task id the broker keeps; a longer one is not kept. */
#define TASK_ID_MAX		256

struct event_base;
struct front;
struct log_ctx;
struct request_set;
struct scan_request;
struct task_set;

struct task_set	*task_set_new(struct event_base *, const struct log_ctx *,
		     const char *, long, void (*)(void *), void *);
void		 task_set_free(struct task_set *);
int		 task_set_busy(struct task_set *);

enum request_kind task_request_kind(const char *, const cJSON *);
int		 task_scan_special(const struct scan_request *);
int		 task_long_lived(enum request_kind);

void		 task_sent(struct task_set *, struct request *);
char		*task_answer(struct task_set *, struct request *,
		     const char *, size_t, size_t *);
int		 task_progress(struct task_set *, double, const char *,
		     size_t);
void		 task_status(struct task_set *, const char *, size_t, int);
int		 task_upcall_front(struct task_set *, const char *, size_t,
		     struct front **);
void		 task_front_gone(struct front *);

int		 task_listen_relay(struct request_set *, const char *,
		     size_t, const char *);

#endif
