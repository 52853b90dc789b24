/*
 * The core's side of a client: sending through the front end's
 * operations, and the bound on requests in flight.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "front.h"
#include "jsonrpc.h"
#include "log.h"

/* Set up f for a new client of the given identity. */
void
front_init(struct front *f, const struct front_ops *ops, void *arg,
    struct counters *counters, uid_t uid, pid_t pid, int admin)
{
	memset(f, 0, sizeof *f);
	f->ops = ops;
	f->arg = arg;
	f->counters = counters;
	f->uid = uid;
	f->pid = pid;
	f->admin = admin;
	TAILQ_INIT(&f->requests);
	TAILQ_INIT(&f->upcalls);
	TAILQ_INIT(&f->attaches);
}

/* Send one message to the client; takes msg. */
void
front_send(struct front *f, cJSON *msg)
{
	if (f->gone) {
		cJSON_Delete(msg);
		return;
	}
	f->ops->send(f->arg, msg);
}

/* Send a JSON-RPC error, counted; takes id (NULL: null) and data. */
void
front_send_error(struct front *f, cJSON *id, int code, const char *message,
    cJSON *data)
{
	counters_error(f->counters, code);
	front_send(f, jsonrpc_error(id, code, message, data));
}

/* Send a JSON-RPC error with a formatted message; takes id and data. */
void
front_send_errorf(struct front *f, cJSON *id, int code, cJSON *data,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*message;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	front_send_error(f, id, code, message, data);
	free(message);
}

/* Send a success result as text (see struct front_ops). */
void
front_send_result(struct front *f, const char *id, size_t id_len,
    const char *meta, size_t meta_len, const char *body, size_t len)
{
	if (!f->gone)
		f->ops->send_result(f->arg, id, id_len, meta, meta_len, body,
		    len);
}

/* Send one message written as text (see struct front_ops). */
void
front_send_line(struct front *f, const char *line, size_t len)
{
	if (!f->gone)
		f->ops->send_line(f->arg, line, len);
}

/* A request of this client is now pending; pause it at the bound. */
void
front_hold(struct front *f)
{
	if (++f->nrequests >= FRONT_MAX_IN_FLIGHT && !f->paused &&
	    !f->gone) {
		f->paused = 1;
		f->ops->pause(f->arg);
	}
}

/* A request of this client is done; resume it below the bound. */
void
front_release(struct front *f)
{
	if (--f->nrequests < FRONT_MAX_IN_FLIGHT && f->paused) {
		f->paused = 0;
		if (!f->gone)
			f->ops->resume(f->arg);
	}
}

/* Whether the client takes sampling (1) or elicitation (0) requests. */
int
front_can_ask(struct front *f, int sampling)
{
	return (!f->gone && (sampling ? f->can_sample : f->can_elicit));
}
