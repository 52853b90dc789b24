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
#include "log.h"
#include "mcp.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

/*
 * A URI a client subscribed to. Its first subscriber's resources/subscribe
 * goes to the child, and the URI is pending until the child answers:
 * a refusal takes it off the client again.
 */
struct attach_uri {
	char			*uri;		/* decoded */
	int64_t			 pending;	/* 0: the child has it; -1:
						   on its way; else the
						   child id of the request */
};

struct attach {
	struct attach_set	*set;
	struct front		*front;
	int			 level;		/* ATTACH_LEVEL_NONE, or a
						   rank: 0 debug … 7 */
	struct attach_uri	*uris;		/* subscribed */
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
	size_t			 npending;	/* URIs pending, all clients */
	size_t			 nuris;		/* URIs subscribed, all
						   clients */
	void			(*changed)(void *); /* nuris turned 0 or
						   not */
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
static int	attach_subscribers(struct attach_set *, const char *, int);
static int	attach_find_uri(struct attach *, const char *);
static void	attach_drop_uri(struct attach *, size_t);
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
attach_set_new(void (*write)(cJSON *, void *), void (*changed)(void *),
    void *arg)
{
	struct attach_set	*set;

	set = xcalloc(1, sizeof *set);
	set->write = write;
	set->changed = changed;
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

	set->changed = NULL;
	while ((a = TAILQ_FIRST(&set->list)) != NULL)
		attach_free(a);
	free(set);
}

/* n more (or fewer) URIs are subscribed on the set; tell its owner when
   none or the first is. */
static void
attach_count_uris(struct attach_set *set, int n)
{
	int	before = set->nuris > 0;

	set->nuris += n;
	if ((set->nuris > 0) != before && set->changed != NULL)
		set->changed(set->arg);
}

/* Whether some attached client holds a resource subscription (its
   session is then not idle). */
int
attach_subscribed(struct attach_set *set)
{
	return (set->nuris > 0);
}

/* Take an attachment off both lists and free it. */
static void
attach_free(struct attach *a)
{
	size_t	i;

	TAILQ_REMOVE(&a->set->list, a, set_entry);
	a->set->n--;
	TAILQ_REMOVE(&a->front->attaches, a, front_entry);
	for (i = 0; i < a->nuris; i++) {
		if (a->uris[i].pending != 0)
			a->set->npending--;
		free(a->uris[i].uri);
	}
	attach_count_uris(a->set, -(int)a->nuris);
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
	struct attach_uri	*uris;
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
		attach_count_uris(set, -(int)nuris);
		for (i = 0; i < nuris; i++) {
			if (uris[i].pending != 0)
				set->npending--;
			if (set->legacy &&
			    attach_subscribers(set, uris[i].uri, 0) == 0)
				attach_tell_child(set, "resources/unsubscribe",
				    "uri", uris[i].uri);
			free(uris[i].uri);
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
 * The level the daemon's own log takes a child's messages at: what a
 * child is set back to once no client asks (MCP has no "off", and the
 * log keeps what it is given).
 */
static int
attach_log_rank(void)
{
	if (log_enabled(LOG_LEVEL_DEBUG))
		return (attach_level_rank("debug"));
	if (log_enabled(LOG_LEVEL_INFO))
		return (attach_level_rank("info"));
	if (log_enabled(LOG_LEVEL_WARNING))
		return (attach_level_rank("warning"));
	return (attach_level_rank("error"));
}

/*
 * Give the child the most verbose level any attached client asked for,
 * if that changed. Once some client asked, a child nobody asks any more
 * is set to the level the daemon's log keeps (attach_log_rank).
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
		level = attach_log_rank();
	}
	if (level == set->child_level || !set->legacy)
		return;
	set->child_level = level;
	attach_tell_child(set, "logging/setLevel", "level",
	    attach_levels[level]);
}

/*
 * How many attached clients are subscribed to uri; with held, only those
 * whose subscription the child holds (not pending).
 */
static int
attach_subscribers(struct attach_set *set, const char *uri, int held)
{
	struct attach	*a;
	int		 n = 0, i;

	TAILQ_FOREACH(a, &set->list, set_entry) {
		if ((i = attach_find_uri(a, uri)) != -1 &&
		    (!held || a->uris[i].pending == 0))
			n++;
	}
	return (n);
}

/* Where uri is among the client's subscriptions, or -1. */
static int
attach_find_uri(struct attach *a, const char *uri)
{
	size_t	i;

	for (i = 0; i < a->nuris; i++) {
		if (strcmp(a->uris[i].uri, uri) == 0)
			return ((int)i);
	}
	return (-1);
}

/* Take the i-th URI off the client's subscriptions. */
static void
attach_drop_uri(struct attach *a, size_t i)
{
	if (a->uris[i].pending != 0)
		a->set->npending--;
	free(a->uris[i].uri);
	a->uris[i] = a->uris[--a->nuris];
	attach_count_uris(a->set, -1);
}

/*
 * A client's request went to the child under child_id: the client is
 * attached, and a subscription of its on its way is now waiting for that
 * request's answer.
 */
void
attach_sent(struct attach_set *set, struct front *f, int64_t child_id)
{
	struct attach	*a = attach_get(set, f);
	size_t		 i;

	for (i = 0; set->npending > 0 && i < a->nuris; i++) {
		if (a->uris[i].pending == -1)
			a->uris[i].pending = child_id;
	}
}

/*
 * The request the child had under child_id is over, answered with a
 * result (ok) or not: a subscription waiting for it is held by the child
 * now, or was refused and is dropped. One the child never answered
 * (cancelled, timed out) is dropped too; as the child may still take it
 * late, it is unsubscribed there unless another client holds the URI.
 */
void
attach_answered(struct attach_set *set, int64_t child_id, int ok,
    int unanswered)
{
	struct attach	*a;
	size_t		 i;
	char		*uri;

	if (set->npending == 0)
		return;
	TAILQ_FOREACH(a, &set->list, set_entry) {
		for (i = 0; i < a->nuris; i++) {
			if (a->uris[i].pending != child_id)
				continue;
			if (ok) {
				a->uris[i].pending = 0;
				set->npending--;
				return;
			}
			uri = xstrdup(a->uris[i].uri);
			attach_drop_uri(a, i);
			if (unanswered && set->legacy &&
			    attach_subscribers(set, uri, 0) == 0)
				attach_tell_child(set, "resources/unsubscribe",
				    "uri", uri);
			free(uri);
			return;
		}
	}
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
 * Whether the string at path in the JSON text obj decodes to bytes that
 * hold a NUL (a name cJSON would cut short there).
 */
int
attach_holds_nul(const char *obj, size_t len, const char *const *path)
{
	struct scan_member	 m;
	char			*buf;
	size_t			 n;
	int			 nul;

	if (scan_path(obj, len, path, &m) != 0 || m.value.len < 2 ||
	    m.value.p[0] != '"')
		return (0);
	buf = xmalloc(m.value.len);
	scan_string_decode(m.value.p, m.value.len, buf, m.value.len, &n);
	nul = memchr(buf, '\0', n) != NULL;
	free(buf);
	return (nul);
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
	static const char *const path[] = { "_meta", MCP_META_LOG_LEVEL,
					    NULL };
	struct attach		*a = attach_get(set, f);
	struct scan_member	 m, p;
	int			 rank;

	set->legacy = !modern;
	if (memmem(tail, len, MCP_META_LOG_LEVEL,
	    strlen(MCP_META_LOG_LEVEL)) != NULL &&
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
	static const char *const uri_path[] = { "params", "uri", NULL };
	cJSON			*msg, *item;
	const char		*uri;
	char			*text;
	enum attach_verdict	 v = ATTACH_FORWARD;
	int			 i, rank, nul;

	/* ,"method":…} becomes {"method":…}. */
	text = xmalloc(len);
	text[0] = '{';
	memcpy(text + 1, tail + 1, len - 1);
	msg = cJSON_ParseWithLength(text, len);
	nul = attach_holds_nul(text, len, uri_path);
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
	} else if (strlen(uri) > ATTACH_URI_MAX) {
		*message = "The uri is too long to be kept for a subscription "
		    "(ATTACH_URI_MAX bytes).";
		v = ATTACH_INVALID;
	} else if (nul) {
		*message = "The uri must not contain U+0000.";
		v = ATTACH_INVALID;
	} else if (strcmp(method, "resources/subscribe") == 0) {
		if ((i = attach_find_uri(a, uri)) != -1) {
			/* A repeat: answered, or on its way too if the
			   first is not answered yet (the last one sent
			   decides). */
			if (a->uris[i].pending != 0) {
				a->uris[i].pending = -1;
				v = ATTACH_FORWARD;
			} else
				v = ATTACH_ANSWER;
		}
		else if (a->nuris >= ATTACH_MAX_SUBSCRIPTIONS)
			v = ATTACH_FULL;
		else {
			/* The child holds it already: answered here. Else
			   it goes on, and waits for the child's answer. */
			v = attach_subscribers(set, uri, 1) > 0 ?
			    ATTACH_ANSWER : ATTACH_FORWARD;
			a->uris = xreallocarray(a->uris, a->nuris + 1,
			    sizeof *a->uris);
			a->uris[a->nuris].uri = xstrdup(uri);
			a->uris[a->nuris].pending = v == ATTACH_FORWARD ?
			    -1 : 0;
			if (v == ATTACH_FORWARD)
				set->npending++;
			a->nuris++;
			attach_count_uris(set, 1);
		}
	} else {
		if ((i = attach_find_uri(a, uri)) != -1)
			attach_drop_uri(a, (size_t)i);
		/* Nobody else subscribed: the child has it (or never had
		   it, and says so). */
		v = attach_subscribers(set, uri, 0) == 0 ? ATTACH_FORWARD :
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
			if (arg == NULL || attach_find_uri(a, arg) == -1)
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
