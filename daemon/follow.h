/*
 * Followers of sessions' stderr (broker/logs with follow): a client's
 * request that stays open while every new stderr line of one session is
 * pushed to it as a broker/log notification, and that is answered
 * {"ended": reason} once the session is over.
 *
 * A follower is not a request of its session: it keeps no session busy,
 * so idle expiry and eviction go on as if it were not there, and no
 * request clock runs for it. Followers are found by the session's id,
 * which no other session ever has; the broker tells this module why a
 * session ends and when it is over, and the client's front when it
 * leaves.
 */
#ifndef DAEMON_FOLLOW_H
#define DAEMON_FOLLOW_H

#include <stddef.h>

#include <cJSON.h>

/* Followers one session may have at once. */
#define LOGS_MAX_FOLLOWERS	16

struct follows;
struct front;
struct session;

struct follows	*follows_new(void);
void		 follows_free(struct follows *);

int		 follow_start(struct follows *, struct front *, cJSON *,
		     struct session *, cJSON *);
void		 follow_line_cb(const char *, const char *, void *);
void		 follow_note_end(struct follows *, struct session *,
		     const char *);
void		 follow_session_over(struct follows *, struct session *);
int		 follow_cancel(struct follows *, struct front *, const char *,
		     size_t);
void		 follow_front_gone(struct follows *, struct front *);

#endif
