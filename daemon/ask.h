/*
 * Asks: what the broker keeps about a child's request to a client once
 * it has passed it on, beyond the request itself (request.c's upcall):
 *
 *  - its progress token. The client sees the upcall's own id as the
 *    token (ids a client sees are its own), and its
 *    notifications/progress go to the child under the child's token.
 *  - the elicitationId of a URL-mode elicitation, so the child's
 *    notifications/elicitation/complete reaches the client that was
 *    asked, even after it answered.
 *
 * Each ask is listed by its session's set and by its client (struct
 * front's asks); whichever goes first takes it off both lists.
 */
#ifndef DAEMON_ASK_H
#define DAEMON_ASK_H

#include <stddef.h>
#include <stdint.h>

/* URL-mode elicitations a session remembers until they complete; the
   oldest is forgotten past it. */
#define ASK_MAX_ELICITATIONS	64

struct ask_set;
struct front;

/* Write a line (no newline needed) to the set's child. */
typedef void	(*ask_write_fn)(const char *, size_t, void *);

struct ask_set	*ask_set_new(ask_write_fn, void *);
void		 ask_set_free(struct ask_set *);
void		 ask_add_progress(struct ask_set *, struct front *, int64_t,
		     const char *, size_t);
void		 ask_add_elicitation(struct ask_set *, struct front *,
		     const char *, size_t);
struct front	*ask_take_elicitation(struct ask_set *, const char *,
		     size_t);
int		 ask_progress(struct front *, const char *, size_t);
void		 ask_front_gone(struct front *);

#endif
