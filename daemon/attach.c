/*
 * Attachments of clients to sessions, what each client asked of the
 * session (log level, resource subscriptions), and the fan-out of the
 * child's unasked notifications over them.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "front.h"
#include "jsonrpc.h"
#include "mcp.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

/* The member of a 2026-07-28 request's _meta that asks for log messages. */
#define ATTACH_META_LOG_LEVEL	"io.modelcontextprotocol/logLevel"

struct attach {
	struct attach_set	*set;
	struct front		*front;
	int			 level;		/* ATTACH_LEVEL_NONE, or a
						   rank: 0 debug … 7 */
	char			**uris;		/* subscribed, decoded */
	size_t			 nuris;
	TAILQ_ENTRY(attach)	 set_entry;
	TAILQ_ENTRY(attach)	 front_entry;
};

struct attach_set {
	void			(*write)(cJSON *, void *);
	void			*arg;
	TAILQ_HEAD(, attach)	 list;
	size_t			 n;
	int			 legacy;	/* a handshake child: it
						   takes logging/setLevel and
						   resources/subscribe */
	int			 child_level;	/* last sent, or
						   ATTACH_LEVEL_NONE */
	uint64_t		 next_id;	/* the broker's own requests */
};

/* MCP's log levels (RFC 5424), most verbose first: a level's rank. */
static const char *const attach_levels[ATTACH_NLEVELS] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert",
	"emergency",
};

static void	attach_free(struct attach *);
static void	attach_tell_child(struct attach_set *, const char *,
		    const char *, const char *);
static void	attach_update_level(struct attach_set *);
static int	attach_subscribers(struct attach_set *, const char *);
static int	attach_has_uri(struct attach *, const char *);
static int	attach_tail_member(const char *, size_t, const char *,
		    struct scan_member *);
static int	attach_span_rank(const struct scan_span *);
static enum attach_verdict attach_take(struct attach_set *, struct attach *,
		    const char *, const char *, size_t, const char **);

/* The rank of a level's name (0 debug … 7 emergency), or -1. */
int
attach_level_rank(const char *name)
{
	int	i;

	for (i = 0; name != NULL && i < ATTACH_NLEVELS; i++) {
		if (strcmp(name, attach_levels[i]) == 0)
			return (i);
	}
	return (-1);
}

/* The name of a level's rank. */
const char *
attach_level_name(int rank)
{
	if (rank < 0 || rank >= ATTACH_NLEVELS)
		return ("none");
	return (attach_levels[rank]);
}

/*
 * A session's empty set of attachments; write sends a message (taken) to
 * its child.
 */
struct attach_set *
attach_set_new(void (*write)(cJSON *, void *), void *arg)
{
	struct attach_set	*set;

	set = xcalloc(1, sizeof *set);
	set->write = write;
	set->arg = arg;
	set->child_level = ATTACH_LEVEL_NONE;
	TAILQ_INIT(&set->list);
	return (set);
}

/* The session ends: its clients are detached, the child told nothing. */
void
attach_set_free(struct attach_set *set)
{
	struct attach	*a;

	while ((a = TAILQ_FIRST(&set->list)) != NULL)
		attach_free(a);
	free(set);
}

/* Take an attachment off both lists and free it. */
static void
attach_free(struct attach *a)
{
	size_t	i;

	TAILQ_REMOVE(&a->set->list, a, set_entry);
	a->set->n--;
	TAILQ_REMOVE(&a->front->attaches, a, front_entry);
	for (i = 0; i < a->nuris; i++)
		free(a->uris[i]);
	free(a->uris);
	free(a);
}

/*
 * f's attachment to the set, made if it has none. The front's list and
 * the set's are walked side by side, so the cost is that of the shorter
 * (a client of many sessions, a session of many clients); the front
 * keeps its most recently used attachment first, so a client busy with
 * one session finds it at once.
 */
struct attach *
attach_get(struct attach_set *set, struct front *f)
{
	struct attach	*a, *x = TAILQ_FIRST(&f->attaches);
	struct attach	*y = TAILQ_FIRST(&set->list);

	for (a = NULL; x != NULL && y != NULL; x = TAILQ_NEXT(x, front_entry),
	    y = TAILQ_NEXT(y, set_entry)) {
		if (x->set == set || y->front == f) {
			a = x->set == set ? x : y;
			break;
		}
	}
	if (a != NULL) {
		if (a != TAILQ_FIRST(&f->attaches)) {
			TAILQ_REMOVE(&f->attaches, a, front_entry);
			TAILQ_INSERT_HEAD(&f->attaches, a, front_entry);
		}
		return (a);
	}
	a = xcalloc(1, sizeof *a);
	a->set = set;
	a->front = f;
	a->level = ATTACH_LEVEL_NONE;
	TAILQ_INSERT_HEAD(&f->attaches, a, front_entry);
	TAILQ_INSERT_TAIL(&set->list, a, set_entry);
	set->n++;
	return (a);
}

/*
 * The client has gone: it is detached from every session. A child whose
 * log level it set gets the level of the clients that remain; a URI only
 * it subscribed to is unsubscribed at the child.
 */
void
attach_front_gone(struct front *f)
{
	struct attach		*a;
	struct attach_set	*set;
	char			**uris;
	size_t			 nuris, i;
	int			 level;

	while ((a = TAILQ_FIRST(&f->attaches)) != NULL) {
		set = a->set;
		level = a->level;
		uris = a->uris;
		nuris = a->nuris;
		a->uris = NULL;
		a->nuris = 0;
		attach_free(a);
		for (i = 0; i < nuris; i++) {
			if (set->legacy && attach_subscribers(set, uris[i]) ==
			    0)
				attach_tell_child(set, "resources/unsubscribe",
				    "uri", uris[i]);
			free(uris[i]);
		}
		free(uris);
		if (level != ATTACH_LEVEL_NONE)
			attach_update_level(set);
	}
}

/* The number of clients attached. */
size_t
attach_count(struct attach_set *set)
{
	return (set->n);
}

/* The log level last sent to the child (ATTACH_LEVEL_NONE: none). */
int
attach_child_level(struct attach_set *set)
{
	return (set->child_level);
}

/*
 * Send the child a request of the broker's own, {member: value} as its
 * params, under an id no client request has (its answer is dropped).
 */
static void
attach_tell_child(struct attach_set *set, const char *method,
    const char *member, const char *value)
{
	cJSON	*params;
	char	 id[48];

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, member, value);
	snprintf(id, sizeof id, "mcp-broker/attach-%llu",
	    (unsigned long long)++set->next_id);
	set->write(jsonrpc_request(cJSON_CreateString(id), method, params),
	    set->arg);
}

/*
 * Give the child the most verbose level any attached client asked for,
 * if that changed. Once some client asked, a child nobody asks any more
 * gets emergency, the least verbose level there is: MCP has no "off".
 */
static void
attach_update_level(struct attach_set *set)
{
	struct attach	*a;
	int		 level = ATTACH_LEVEL_NONE;

	TAILQ_FOREACH(a, &set->list, set_entry) {
		if (a->level != ATTACH_LEVEL_NONE &&
		    (level == ATTACH_LEVEL_NONE || a->level < level))
			level = a->level;
	}
	if (level == ATTACH_LEVEL_NONE) {
		if (set->child_level == ATTACH_LEVEL_NONE)
			return;
		level = ATTACH_NLEVELS - 1;
	}
	if (level == set->child_level || !set->legacy)
		return;
	set->child_level = level;
	attach_tell_child(set, "logging/setLevel", "level",
	    attach_levels[level]);
}

/* How many attached clients are subscribed to uri. */
static int
attach_subscribers(struct attach_set *set, const char *uri)
{
	struct attach	*a;
	int		 n = 0;

	TAILQ_FOREACH(a, &set->list, set_entry)
		n += attach_has_uri(a, uri);
	return (n);
}

/* Whether the client is subscribed to uri. */
static int
attach_has_uri(struct attach *a, const char *uri)
{
	size_t	i;

	for (i = 0; i < a->nuris; i++) {
		if (strcmp(a->uris[i], uri) == 0)
			return (1);
	}
	return (0);
}

/*
 * The member key of a request's text after its id (,"method":…}: the
 * members after the first comma). Returns 0 or -1.
 */
static int
attach_tail_member(const char *tail, size_t len, const char *key,
    struct scan_member *m)
{
	struct scan_iter	it;

	it.p = tail;
	it.end = tail + len;
	it.started = 1;
	while (scan_iter_next(&it, m) == 1) {
		if (scan_key_equal(&m->key, key))
			return (0);
	}
	return (-1);
}

/* The rank of a level written as a JSON string span, or -1. */
static int
attach_span_rank(const struct scan_span *v)
{
	int	i;

	if (v->len < 2 || v->p[0] != '"')
		return (-1);
	for (i = 0; i < ATTACH_NLEVELS; i++) {
		if (scan_key_equal(v, attach_levels[i]))
			return (i);
	}
	return (-1);
}

/*
 * A client's request for the session (its text after the id), on its way
 * to the child; modern: the child speaks 2026-07-28. The client is
 * attached. logging/setLevel is the broker's to answer (the level is the
 * client's); resources/subscribe and unsubscribe go to the child only
 * for a URI's first subscriber and last; a request whose _meta carries
 * a log level sets the client's. *message gets the reason for
 * ATTACH_INVALID.
 */
enum attach_verdict
attach_request(struct attach_set *set, struct front *f, const char *tail,
    size_t len, int modern, const char **message)
{
	static const char *const path[] = { "_meta", ATTACH_META_LOG_LEVEL,
					    NULL };
	struct attach		*a = attach_get(set, f);
	struct scan_member	 m, p;
	int			 rank;

	set->legacy = !modern;
	if (memmem(tail, len, ATTACH_META_LOG_LEVEL,
	    strlen(ATTACH_META_LOG_LEVEL)) != NULL &&
	    attach_tail_member(tail, len, "params", &p) == 0 &&
	    scan_path(p.value.p, p.value.len, path, &m) == 0 &&
	    (rank = attach_span_rank(&m.value)) != -1 && rank != a->level) {
		a->level = rank;
		attach_update_level(set);
	}
	if (attach_tail_member(tail, len, "method", &m) != 0 ||
	    m.value.p[0] != '"')
		return (ATTACH_FORWARD);
	if (scan_key_equal(&m.value, "logging/setLevel"))
		return (attach_take(set, a, "logging/setLevel", tail, len,
		    message));
	if (modern)
		return (ATTACH_FORWARD);
	if (scan_key_equal(&m.value, "resources/subscribe"))
		return (attach_take(set, a, "resources/subscribe", tail, len,
		    message));
	if (scan_key_equal(&m.value, "resources/unsubscribe"))
		return (attach_take(set, a, "resources/unsubscribe", tail,
		    len, message));
	return (ATTACH_FORWARD);
}

/*
 * One of the requests the broker keeps track of (method), its text after
 * the id read whole: what the client asked is recorded on a, and the
 * verdict says whether the child hears of it.
 */
static enum attach_verdict
attach_take(struct attach_set *set, struct attach *a, const char *method,
    const char *tail, size_t len, const char **message)
{
	cJSON			*msg, *item;
	const char		*uri;
	char			*text;
	enum attach_verdict	 v = ATTACH_FORWARD;
	size_t			 i;
	int			 rank;

	/* ,"method":…} becomes {"method":…}. */
	text = xmalloc(len);
	text[0] = '{';
	memcpy(text + 1, tail + 1, len - 1);
	msg = cJSON_ParseWithLength(text, len);
	free(text);
	item = cJSON_GetObjectItemCaseSensitive(msg, "params");
	item = cJSON_GetObjectItemCaseSensitive(item, strcmp(method,
	    "logging/setLevel") == 0 ? "level" : "uri");
	if (strcmp(method, "logging/setLevel") == 0) {
		if ((rank = attach_level_rank(cJSON_GetStringValue(item))) ==
		    -1) {
			*message = "logging/setLevel: level must be one of "
			    "debug, info, notice, warning, error, critical, "
			    "alert, emergency.";
			v = ATTACH_INVALID;
		} else {
			a->level = rank;
			attach_update_level(set);
			v = ATTACH_ANSWER;
		}
	} else if ((uri = cJSON_GetStringValue(item)) == NULL) {
		/* Not ours to judge: the child answers it. */
		v = ATTACH_FORWARD;
	} else if (strcmp(method, "resources/subscribe") == 0) {
		if (attach_has_uri(a, uri))
			v = ATTACH_ANSWER;
		else if (a->nuris >= ATTACH_MAX_SUBSCRIPTIONS)
			v = ATTACH_FULL;
		else {
			v = attach_subscribers(set, uri) == 0 ?
			    ATTACH_FORWARD : ATTACH_ANSWER;
			a->uris = xreallocarray(a->uris, a->nuris + 1,
			    sizeof *a->uris);
			a->uris[a->nuris++] = xstrdup(uri);
		}
	} else {
		for (i = 0; i < a->nuris; i++) {
			if (strcmp(a->uris[i], uri) == 0)
				break;
		}
		if (i < a->nuris) {
			free(a->uris[i]);
			a->uris[i] = a->uris[--a->nuris];
		}
		/* Nobody else subscribed: the child has it (or never had
		   it, and says so). */
		v = attach_subscribers(set, uri) == 0 ? ATTACH_FORWARD :
		    ATTACH_ANSWER;
	}
	cJSON_Delete(msg);
	return (v);
}

/*
 * Send a notification of the child's (its line) to the attached clients
 * it is for, each once, with params._meta["mcp-broker/session"] set to
 * stamp (a JSON text): every client that takes notifications
 * (ATTACH_TO_ALL), those whose level the message's level (arg) meets
 * (ATTACH_TO_LOG; a level not known reaches all that asked), or those
 * subscribed to the URI arg (ATTACH_TO_SUBSCRIBERS). Each goes through
 * its front end's own output bound.
 */
void
attach_notify(struct attach_set *set, enum attach_to to, const char *arg,
    const char *line, size_t len, const char *stamp, size_t stamp_len)
{
	struct wire_edit	 e = { WIRE_SET,
				    { "params", "_meta", MCP_META_SESSION,
				    NULL }, stamp, stamp_len };
	struct attach		*a;
	struct front		**fronts;
	char			*out = NULL;
	size_t			 n = 0, i, out_len;
	int			 rank = -1;

	if (set->n == 0)
		return;
	if (to == ATTACH_TO_LOG && (rank = attach_level_rank(arg)) == -1)
		rank = ATTACH_NLEVELS - 1;
	/*
	 * The clients first, then the sends: a send may drop its client,
	 * which detaches it here (its front stays until later, marked
	 * gone).
	 */
	fronts = xreallocarray(NULL, set->n, sizeof *fronts);
	TAILQ_FOREACH(a, &set->list, set_entry) {
		if (a->front->gone)
			continue;
		switch (to) {
		case ATTACH_TO_ALL:
			if (!a->front->notifications)
				continue;
			break;
		case ATTACH_TO_LOG:
			if (a->level == ATTACH_LEVEL_NONE || rank < a->level)
				continue;
			break;
		case ATTACH_TO_SUBSCRIBERS:
			if (arg == NULL || !attach_has_uri(a, arg))
				continue;
			break;
		}
		fronts[n++] = a->front;
	}
	if (n > 0)
		out = wire_rewrite(line, len, &e, 1, 0, &out_len);
	for (i = 0; out != NULL && i < n; i++) {
		if (!fronts[i]->gone)
			front_send_line(fronts[i], out, out_len);
	}
	free(out);
	free(fronts);
}
