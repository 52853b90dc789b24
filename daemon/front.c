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
	TAILQ_INIT(&f->asks);
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

/*
 * Declare what the client answers from its MCP ClientCapabilities (caps,
 * or NULL: nothing). sampling.tools must be declared for sampling with
 * tools; an elicitation without form or url means form only, as the spec
 * says (client/elicitation.mdx, "Capabilities").
 */
void
front_declare(struct front *f, const cJSON *caps)
{
	const cJSON	*sampling, *elicit;
	int		 form, url;

	sampling = cJSON_GetObjectItemCaseSensitive(caps, "sampling");
	elicit = cJSON_GetObjectItemCaseSensitive(caps, "elicitation");
	f->can_sample = cJSON_IsObject(sampling);
	f->can_sample_tools = f->can_sample && cJSON_IsObject(
	    cJSON_GetObjectItemCaseSensitive(sampling, "tools"));
	form = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(elicit,
	    "form"));
	url = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(elicit, "url"));
	f->can_elicit = cJSON_IsObject(elicit);
	f->can_elicit_form = f->can_elicit && (form || !url);
	f->can_elicit_url = f->can_elicit && url;
}

/* Whether the client can answer a child's request that needs need. */
int
front_can_answer(struct front *f, enum front_need need)
{
	if (f->gone)
		return (0);
	switch (need) {
	case FRONT_NEED_SAMPLING:
		return (f->can_sample);
	case FRONT_NEED_SAMPLING_TOOLS:
		return (f->can_sample_tools);
	case FRONT_NEED_ELICIT_FORM:
		return (f->can_elicit_form);
	case FRONT_NEED_ELICIT_URL:
		return (f->can_elicit_url);
	}
	return (0);
}

/* The capability need names, as a client declares it. */
const char *
front_need_name(enum front_need need)
{
	switch (need) {
	case FRONT_NEED_SAMPLING:
		return ("sampling");
	case FRONT_NEED_SAMPLING_TOOLS:
		return ("sampling.tools");
	case FRONT_NEED_ELICIT_FORM:
		return ("elicitation.form");
	case FRONT_NEED_ELICIT_URL:
		return ("elicitation.url");
	}
	return ("?");
}
