/*
 * The NDJSON front end: client connections on the broker's socket. Read
 * lines, hand them to the core, write what it sends back, and enforce the
 * per-client bounds.
 */
#ifndef DAEMON_CONN_H
#define DAEMON_CONN_H

#include <sys/types.h>

/* Unsent bytes per client, as a multiple of max_message_bytes. */
#define CONN_OUTPUT_MAX_FACTOR	4

struct broker;
struct conn;

struct conn	*conn_new(struct broker *, int, uid_t, pid_t, int);
void		 conn_drop(struct conn *, const char *);

#endif
