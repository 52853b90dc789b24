/*
 * Asks: progress tokens and URL-mode elicitations of a child's requests
 * to clients, listed by session and by client.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ask.h"
#include "front.h"
#include "log.h"
#include "request.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

enum ask_kind {
	ASK_PROGRESS,		/* an upcall's progress token */
	ASK_ELICITATION,	/* a URL-mode elicitation not yet complete */
};

struct ask {
	enum ask_kind		 kind;
	struct ask_set		*set;
	struct front		*front;
	int64_t			 client_id;	/* ASK_PROGRESS: the upcall's
						   id, the client's token */
	char			*text;		/* the child's token, or the
						   elicitationId, as written */
	size_t			 len;
	TAILQ_ENTRY(ask)	 set_entry;
	TAILQ_ENTRY(ask)	 front_entry;
};

struct ask_set {
	ask_write_fn		 write;
	void			*arg;
	TAILQ_HEAD(, ask)	 asks;
	size_t			 nelicitations;
};

static struct ask *ask_new(struct ask_set *, struct front *, enum ask_kind,
		    const char *, size_t);
static void	ask_free(struct ask *);
static int	ask_upcall_alive(struct ask *);

/* A session's empty set; write reaches its child. */
struct ask_set *
ask_set_new(ask_write_fn write, void *arg)
{
	struct ask_set	*set;

	set = xcalloc(1, sizeof *set);
	set->write = write;
	set->arg = arg;
	TAILQ_INIT(&set->asks);
	return (set);
}

/* Free the set and every ask in it (off its client's list too). */
void
ask_set_free(struct ask_set *set)
{
	struct ask	*a;

	if (set == NULL)
		return;
	while ((a = TAILQ_FIRST(&set->asks)) != NULL)
		ask_free(a);
	free(set);
}

/* A new ask of the set for client f; text (len bytes) is copied. */
static struct ask *
ask_new(struct ask_set *set, struct front *f, enum ask_kind kind,
    const char *text, size_t len)
{
	struct ask	*a;

	a = xcalloc(1, sizeof *a);
	a->kind = kind;
	a->set = set;
	a->front = f;
	a->text = xstrndup(text, len);
	a->len = len;
	TAILQ_INSERT_TAIL(&set->asks, a, set_entry);
	TAILQ_INSERT_TAIL(&f->asks, a, front_entry);
	if (kind == ASK_ELICITATION)
		set->nelicitations++;
	return (a);
}

/* Take an ask off both lists and free it. */
static void
ask_free(struct ask *a)
{
	TAILQ_REMOVE(&a->set->asks, a, set_entry);
	TAILQ_REMOVE(&a->front->asks, a, front_entry);
	if (a->kind == ASK_ELICITATION)
		a->set->nelicitations--;
	free(a->text);
	free(a);
}

/* Whether the upcall a progress ask belongs to still waits. */
static int
ask_upcall_alive(struct ask *a)
{
	char	id[24];
	int	n;

	n = snprintf(id, sizeof id, "%lld", (long long)a->client_id);
	return (upcall_find(a->front, id, (size_t)n) != NULL);
}

/*
 * The child's upcall client_id to f carried the progress token token
 * (its JSON text); f sees client_id as the token instead. Asks of f whose
 * upcalls have ended go first, so a client's list holds no more than its
 * upcalls waiting.
 */
void
ask_add_progress(struct ask_set *set, struct front *f, int64_t client_id,
    const char *token, size_t len)
{
	struct ask	*a, *next;

	for (a = TAILQ_FIRST(&f->asks); a != NULL; a = next) {
		next = TAILQ_NEXT(a, front_entry);
		if (a->kind == ASK_PROGRESS && !ask_upcall_alive(a))
			ask_free(a);
	}
	a = ask_new(set, f, ASK_PROGRESS, token, len);
	a->client_id = client_id;
}

/*
 * The child asked f for a URL-mode elicitation under elicitationId id
 * (its JSON text). Past ASK_MAX_ELICITATIONS the oldest is forgotten: its
 * completion will reach nobody.
 */
void
ask_add_elicitation(struct ask_set *set, struct front *f, const char *id,
    size_t len)
{
	struct ask	*a;

	if (set->nelicitations >= ASK_MAX_ELICITATIONS) {
		TAILQ_FOREACH(a, &set->asks, set_entry) {
			if (a->kind == ASK_ELICITATION)
				break;
		}
		log_warnx("forgetting URL elicitation %.64s of client %llu: "
		    "the session has ASK_MAX_ELICITATIONS (%d) waiting for "
		    "notifications/elicitation/complete", a->text,
		    (unsigned long long)a->front->serial,
		    ASK_MAX_ELICITATIONS);
		ask_free(a);
	}
	ask_new(set, f, ASK_ELICITATION, id, len);
}

/*
 * The client asked for the URL-mode elicitation id (JSON text; strings
 * compare by what they decode to), forgotten now; NULL if none.
 */
struct front *
ask_take_elicitation(struct ask_set *set, const char *id, size_t len)
{
	struct ask	*a;
	struct front	*f;

	TAILQ_FOREACH(a, &set->asks, set_entry) {
		if (a->kind == ASK_ELICITATION &&
		    scan_id_equal(a->text, a->len, id, len)) {
			f = a->front;
			ask_free(a);
			return (f);
		}
	}
	return (NULL);
}

/*
 * notifications/progress from client f (its line): if its token names an
 * upcall of f's still waiting that carried one, it goes to that child
 * byte for byte but for the token, which becomes the child's. Returns 1
 * if it was passed on.
 */
int
ask_progress(struct front *f, const char *line, size_t len)
{
	static const char *const path[] = { "params", "progressToken", NULL };
	struct wire_edit	 e = { WIRE_SET, { "params", "progressToken",
				    NULL }, NULL, 0 };
	struct scan_member	 m;
	struct ask		*a;
	char			 id[24], *out;
	size_t			 out_len;
	int			 n;

	if (scan_path(line, len, path, &m) != 0)
		return (0);
	TAILQ_FOREACH(a, &f->asks, front_entry) {
		if (a->kind != ASK_PROGRESS)
			continue;
		n = snprintf(id, sizeof id, "%lld", (long long)a->client_id);
		if (scan_id_equal(id, (size_t)n, m.value.p, m.value.len))
			break;
	}
	if (a == NULL)
		return (0);
	if (!ask_upcall_alive(a)) {
		ask_free(a);
		return (0);
	}
	e.text = a->text;
	e.len = a->len;
	if ((out = wire_rewrite(line, len, &e, 1, 0, &out_len)) == NULL)
		return (0);
	a->set->write(out, out_len, a->set->arg);
	free(out);
	return (1);
}

/* The client has gone: its asks are forgotten. */
void
ask_front_gone(struct front *f)
{
	struct ask	*a;

	while ((a = TAILQ_FIRST(&f->asks)) != NULL)
		ask_free(a);
}
