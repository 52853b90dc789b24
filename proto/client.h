/*
 * A small blocking client for the broker's socket, used by mcp-brokerctl
 * and the tests: connect, send a request, read messages until its answer.
 */
#ifndef PROTO_CLIENT_H
#define PROTO_CLIENT_H

#include <cJSON.h>

#define CLIENT_MAX_MESSAGE	(64u * 1024 * 1024)

struct client;

const char	*client_default_socket(void);
struct client	*client_connect(const char *, char **);
void		 client_close(struct client *);
int		 client_fd(struct client *);

int		 client_send(struct client *, const cJSON *, char **);
int		 client_send_raw(struct client *, const void *, size_t, char **);
cJSON		*client_recv(struct client *, int, char **);
char		*client_recv_line(struct client *, int, size_t *, char **);
cJSON		*client_call(struct client *, const char *, cJSON *, int,
		     char **);

#endif
