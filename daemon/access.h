/*
 * Who may use the broker and who is an admin, by uid and groups.
 */
#ifndef DAEMON_ACCESS_H
#define DAEMON_ACCESS_H

#include <sys/types.h>

struct config;

int	access_peer_allowed(const struct config *, uid_t, uid_t, gid_t,
	    const gid_t *, int);
int	access_peer_admin(const struct config *, uid_t, uid_t, gid_t,
	    const gid_t *, int);

#endif
