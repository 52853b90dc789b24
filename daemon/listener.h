/*
 * The broker's Unix socket: create it (replacing a stale file safely),
 * accept clients with their peer credentials, bound their number.
 */
#ifndef DAEMON_LISTENER_H
#define DAEMON_LISTENER_H

#include <sys/types.h>

struct broker;
struct listener;

struct listener	*listener_new(struct broker *, const char *, mode_t, gid_t,
		     char **);
void		 listener_free(struct listener *);

#endif
