/*
 * A fake front end for unit tests: a struct front whose operations
 * record what the core does to the client. Every message sent, by
 * front_send() or by the fast path, is kept as a tree for the test to
 * pop in order.
 */
#ifndef TESTS_FAKE_FRONT_H
#define TESTS_FAKE_FRONT_H

#include <sys/types.h>

#include <stddef.h>

#include <cJSON.h>

#include "counters.h"
#include "front.h"

struct fake_front {
	struct front	 front;		/* what the core is given */
	struct counters	 counters;	/* unless the test passes its own */
	cJSON		*sent;		/* messages not popped, oldest first */
	size_t		 nsent;		/* all messages so far */
	char		*last_line;	/* the last sent as text */
	size_t		 nresults;	/* of which by send_result */
	int		 pauses;
	int		 resumes;
	int		 closed;
	/* Called by the close operation (a front end would leave the
	   broker there); NULL: nothing. */
	void		(*on_close)(struct fake_front *, void *);
	void		*on_close_arg;
};

void	 fake_front_init(struct fake_front *, struct counters *, uid_t, int);
void	 fake_front_clear(struct fake_front *);
cJSON	*fake_front_pop(struct fake_front *);
size_t	 fake_front_waiting(struct fake_front *);

#endif
