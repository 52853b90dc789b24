/*
 * Attachments: a client (struct front) that has handed a request to a
 * session is attached to it until the client leaves or the session ends.
 * An attachment is listed by both (the front's list and the session's
 * attachment set) and carries what that client asked of that session:
 * the log level it set and the resource URIs it subscribed to. What the
 * child sends unasked (list changes, log messages, resource updates) is
 * fanned out over the set's attachments, each client once.
 *
 * The set also speaks for its clients to the child: it sends the child
 * logging/setLevel with the most verbose level any attached client asked
 * for, resources/subscribe for a URI's first subscriber and
 * resources/unsubscribe after its last.
 */
#ifndef DAEMON_ATTACH_H
#define DAEMON_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/* Resource URIs one client may subscribe to on one session. */
#define ATTACH_MAX_SUBSCRIPTIONS	64
/* The longest URI kept for a subscription, in bytes. */
#define ATTACH_URI_MAX			8192

/* Log levels, most verbose first (RFC 5424 as MCP names them). */
#define ATTACH_LEVEL_NONE	(-1)	/* asked for no log messages */
#define ATTACH_NLEVELS		8

struct attach;
struct attach_set;
struct front;

/* What attach_request() decided about a client's request. */
enum attach_verdict {
	ATTACH_FORWARD,		/* send it to the child as it is */
	ATTACH_ANSWER,		/* answered by the broker: {} */
	ATTACH_INVALID,		/* refuse it: -32602 */
	ATTACH_FULL,		/* refuse it: ATTACH_MAX_SUBSCRIPTIONS */
};

/* Whom a notification of the child's goes to. */
enum attach_to {
	ATTACH_TO_ALL,		/* every client that takes notifications */
	ATTACH_TO_LOG,		/* clients whose level the message meets */
	ATTACH_TO_SUBSCRIBERS,	/* clients subscribed to the URI */
};

struct attach_set *attach_set_new(void (*)(cJSON *, void *), void (*)(void *),
		     void *);
int		 attach_subscribed(struct attach_set *);
void		 attach_set_free(struct attach_set *);
struct attach	*attach_get(struct attach_set *, struct front *);
void		 attach_front_gone(struct front *);
void		 attach_sent(struct attach_set *, struct front *, int64_t);
void		 attach_answered(struct attach_set *, int64_t, int, int);
size_t		 attach_count(struct attach_set *);
int		 attach_child_level(struct attach_set *);

enum attach_verdict attach_request(struct attach_set *, struct front *,
		     const char *, size_t, int, const char **);
void		 attach_notify(struct attach_set *, enum attach_to,
		     const char *, const char *, size_t, const char *, size_t);

int		 attach_holds_nul(const char *, size_t, const char *const *);
int		 attach_level_rank(const char *);
const char	*attach_level_name(int);

#endif
