/*
 * The broker's Unix socket: create it (replacing a stale file safely),
 * accept clients with their peer credentials, bound their number.
 */
#ifndef DAEMON_LISTENER_H
#define DAEMON_LISTENER_H

#include <sys/types.h>

#include <stddef.h>

struct broker;
struct listener;

/* Takes a connection that speaks HTTP: its descriptor, the peer's uid,
   whether it is an admin. */
typedef void (*listener_http_cb)(int, uid_t, int, void *);

struct listener	*listener_new(struct broker *, const char *, mode_t, gid_t,
		     char **);
void		 listener_free(struct listener *);
void		 listener_set_http(struct listener *, listener_http_cb,
		     void *);
int		 listener_sniff_http(const char *, size_t);

#endif
