/*
 * Followers of sessions' stderr: broker/logs requests that stay open.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "follow.h"
#include "front.h"
#include "jsonrpc.h"
#include "log.h"
#include "scan.h"
#include "session.h"
#include "xmalloc.h"

struct follow_group;

/* One open broker/logs request. */
struct follower {
	struct follow_group	*group;
	struct front		*front;
	cJSON			*id;		/* the client's, as written */
	char			*id_text;	/* printed, for a cancel */
	int			 dead;		/* gone while lines went out */
	TAILQ_ENTRY(follower)	 entry;
};

/* The followers of one session. */
struct follow_group {
	char			*session;	/* its id */
	char			*server;
	char			*thread;
	char			*reason;	/* why it ends, once known */
	TAILQ_HEAD(, follower)	 followers;
	size_t			 live;		/* followers not dead */
	int			 walking;	/* sending to followers */
	TAILQ_ENTRY(follow_group) entry;
};

struct follows {
	TAILQ_HEAD(, follow_group) groups;
};

static struct follow_group *follow_find(struct follows *, const char *);
static void	follow_remove(struct follows *, struct follower *);
static void	follow_group_free(struct follows *, struct follow_group *);
static void	follow_sweep(struct follows *, struct follow_group *);
static char	*follow_notification(struct follow_group *, const char *,
		    size_t *);
static char	*follow_exit_reason(struct session *);

/* No followers yet. */
struct follows *
follows_new(void)
{
	struct follows	*fs;

	fs = xcalloc(1, sizeof *fs);
	TAILQ_INIT(&fs->groups);
	return (fs);
}

/* Free what is left, unanswered (the broker is exiting). */
void
follows_free(struct follows *fs)
{
	struct follow_group	*g;

	while ((g = TAILQ_FIRST(&fs->groups)) != NULL) {
		g->walking = 0;
		while (!TAILQ_EMPTY(&g->followers))
			follow_remove(fs, TAILQ_FIRST(&g->followers));
	}
	free(fs);
}

/* The followers of a session by its id, or NULL. */
static struct follow_group *
follow_find(struct follows *fs, const char *session)
{
	struct follow_group	*g;

	TAILQ_FOREACH(g, &fs->groups, entry) {
		if (strcmp(g->session, session) == 0)
			return (g);
	}
	return (NULL);
}

/*
 * Free a follower; its group goes with the last one unless lines are
 * being sent to it (follow_sweep frees it then).
 */
static void
follow_remove(struct follows *fs, struct follower *fl)
{
	struct follow_group	*g = fl->group;

	if (!fl->dead)
		g->live--;
	TAILQ_REMOVE(&g->followers, fl, entry);
	cJSON_Delete(fl->id);
	free(fl->id_text);
	free(fl);
	if (TAILQ_EMPTY(&g->followers) && !g->walking)
		follow_group_free(fs, g);
}

/* Free a group that has no followers left. */
static void
follow_group_free(struct follows *fs, struct follow_group *g)
{
	TAILQ_REMOVE(&fs->groups, g, entry);
	free(g->session);
	free(g->server);
	free(g->thread);
	free(g->reason);
	free(g);
}

/* After a send to every follower: free those whose client went. */
static void
follow_sweep(struct follows *fs, struct follow_group *g)
{
	struct follower	*fl, *next;

	g->walking = 0;
	for (fl = TAILQ_FIRST(&g->followers); fl != NULL; fl = next) {
		next = TAILQ_NEXT(fl, entry);
		if (fl->dead) {
			/* The last one frees the group; next is NULL then. */
			follow_remove(fs, fl);
		}
	}
}

/*
 * A broker/log notification for one line of the group's session, as
 * text without its newline (caller frees; *len its length).
 */
static char *
follow_notification(struct follow_group *g, const char *line, size_t *len)
{
	cJSON	*params, *msg;
	char	*text;

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", g->server);
	cJSON_AddStringToObject(params, "thread", g->thread);
	cJSON_AddStringToObject(params, "line", line);
	msg = jsonrpc_notification("broker/log", params);
	if ((text = cJSON_PrintUnformatted(msg)) == NULL)
		fatalx("follow_notification: cannot print");
	cJSON_Delete(msg);
	*len = strlen(text);
	return (text);
}

/*
 * Follow s for client f: its stderr tail (taken; lines as the process
 * keeps them) goes out now, then every new line, until the session is
 * over or the client cancels or leaves. Takes id. At LOGS_MAX_FOLLOWERS
 * the client gets -32014 naming the bound; returns -1 then.
 */
int
follow_start(struct follows *fs, struct front *f, cJSON *id,
    struct session *s, cJSON *tail)
{
	struct follow_group	*g;
	struct follower		*fl;
	const cJSON		*item;
	cJSON			*data;
	char			*text;
	size_t			 len;

	g = follow_find(fs, session_id(s));
	if (g != NULL && g->live >= LOGS_MAX_FOLLOWERS) {
		cJSON_Delete(tail);
		data = session_error_data(s, 0);
		cJSON_AddNumberToObject(data, "max_followers",
		    LOGS_MAX_FOLLOWERS);
		front_send_errorf(f, id, RPC_AT_CAPACITY, data, "The session "
		    "for server '%.64s' thread '%.256s' already has %d "
		    "followers (LOGS_MAX_FOLLOWERS); end one with "
		    "notifications/cancelled and retry.", session_server(s),
		    session_thread(s), LOGS_MAX_FOLLOWERS);
		return (-1);
	}
	if (g == NULL) {
		g = xcalloc(1, sizeof *g);
		g->session = xstrdup(session_id(s));
		g->server = xstrdup(session_server(s));
		g->thread = xstrdup(session_thread(s));
		TAILQ_INIT(&g->followers);
		TAILQ_INSERT_TAIL(&fs->groups, g, entry);
	}
	fl = xcalloc(1, sizeof *fl);
	fl->group = g;
	fl->front = f;
	fl->id = id;
	if ((fl->id_text = cJSON_PrintUnformatted(id)) == NULL)
		fatalx("follow_start: cannot print an id");
	TAILQ_INSERT_TAIL(&g->followers, fl, entry);
	g->live++;

	/* The tail may pass the client's output bound: it goes then. */
	g->walking = 1;
	cJSON_ArrayForEach(item, tail) {
		if (fl->dead || !cJSON_IsString(item))
			break;
		text = follow_notification(g, item->valuestring, &len);
		front_send_line(f, text, len);
		free(text);
	}
	cJSON_Delete(tail);
	follow_sweep(fs, g);
	return (0);
}

/*
 * One stderr line of the session with this id, as its tail keeps it
 * (valid UTF-8): pushed to each of its followers. arg is the follows.
 * A follower whose client cannot keep up is dropped with the client.
 */
void
follow_line_cb(const char *session, const char *line, void *arg)
{
	struct follows		*fs = arg;
	struct follow_group	*g;
	struct follower		*fl;
	char			*text;
	size_t			 len;

	if ((g = follow_find(fs, session)) == NULL)
		return;
	text = follow_notification(g, line, &len);
	g->walking = 1;
	TAILQ_FOREACH(fl, &g->followers, entry) {
		if (!fl->dead)
			front_send_line(fl->front, text, len);
	}
	free(text);
	follow_sweep(fs, g);
}

/*
 * Why s ends (broker/close, eviction, idle expiry, reload, shutdown), as
 * its followers will be told once it is over. The first reason stays.
 */
void
follow_note_end(struct follows *fs, struct session *s, const char *reason)
{
	struct follow_group	*g;

	if ((g = follow_find(fs, session_id(s))) != NULL && g->reason == NULL)
		g->reason = xstrdup(reason);
}

/* How a session that ended on its own ended: its process's exit. */
static char *
follow_exit_reason(struct session *s)
{
	cJSON	*data, *item;
	char	*reason;

	data = session_error_data(s, 1);
	if (cJSON_IsNumber(item = cJSON_GetObjectItem(data, "exit_status")))
		xasprintf(&reason, "exited with status %d", item->valueint);
	else if (cJSON_IsNumber(item = cJSON_GetObjectItem(data, "signal")))
		xasprintf(&reason, "killed by signal %d", item->valueint);
	else
		reason = xstrdup("exited");
	cJSON_Delete(data);
	return (reason);
}

/*
 * The session is over, its last stderr line read: each follower is
 * answered {"ended": why} and freed.
 */
void
follow_session_over(struct follows *fs, struct session *s)
{
	struct follow_group	*g;
	struct follower		*fl;
	cJSON			*r;
	char			*reason;

	if ((g = follow_find(fs, session_id(s))) == NULL)
		return;
	reason = g->reason != NULL ? xstrdup(g->reason) :
	    follow_exit_reason(s);
	g->walking = 1;
	TAILQ_FOREACH(fl, &g->followers, entry) {
		if (fl->dead)
			continue;
		/* Dead first: the send may drop the client. */
		fl->dead = 1;
		g->live--;
		r = cJSON_CreateObject();
		cJSON_AddStringToObject(r, "ended", reason);
		front_send(fl->front, jsonrpc_result(fl->id, r));
		fl->id = NULL;
	}
	free(reason);
	follow_sweep(fs, g);
}

/*
 * notifications/cancelled from f for the request with this id (as the
 * client wrote it): the follow ends, unanswered. Returns whether it was
 * one of f's follows.
 */
int
follow_cancel(struct follows *fs, struct front *f, const char *id,
    size_t len)
{
	struct follow_group	*g;
	struct follower		*fl;

	TAILQ_FOREACH(g, &fs->groups, entry) {
		TAILQ_FOREACH(fl, &g->followers, entry) {
			if (fl->front != f || fl->dead ||
			    !scan_id_equal(fl->id_text, strlen(fl->id_text),
			    id, len))
				continue;
			if (g->walking) {
				fl->dead = 1;
				g->live--;
			} else
				follow_remove(fs, fl);
			return (1);
		}
	}
	return (0);
}

/* Client f has gone: its follows end with it. */
void
follow_front_gone(struct follows *fs, struct front *f)
{
	struct follow_group	*g, *gnext;
	struct follower		*fl, *next;

	for (g = TAILQ_FIRST(&fs->groups); g != NULL; g = gnext) {
		gnext = TAILQ_NEXT(g, entry);
		for (fl = TAILQ_FIRST(&g->followers); fl != NULL; fl = next) {
			next = TAILQ_NEXT(fl, entry);
			if (fl->front != f || fl->dead)
				continue;
			if (g->walking) {
				fl->dead = 1;
				g->live--;
			} else
				follow_remove(fs, fl);	/* the last frees g */
		}
	}
}
