/*
 * What a client's request asks for, checked before it reaches any state:
 * the routing members of a forwarded MCP request (server, thread,
 * timeout_ms, the progress token) and the parameters of the broker's own
 * methods. Pure functions on cJSON, so they are fuzzed on their own.
 */
#ifndef DAEMON_ROUTE_H
#define DAEMON_ROUTE_H

#include <cJSON.h>

/* Longest thread name accepted (it is a key, shown in tables and logs). */
#define ROUTE_THREAD_MAX	256
/* Longest per-call timeout_ms accepted (a day). */
#define ROUTE_TIMEOUT_MAX_MS	86400000L

enum route_method {
	ROUTE_FORWARD,		/* any MCP method, for a session */
	ROUTE_STATUS,
	ROUTE_SESSION,
	ROUTE_CLOSE,
	ROUTE_SERVERS,
	ROUTE_RELOAD,
	ROUTE_HELLO,
};

/* A checked request. Strings and items are borrowed from the params. */
struct route {
	enum route_method	 method;
	const char		*server;
	const char		*thread;
	long			 timeout_ms;	/* 0: the server's default */
	const cJSON		*progress_token; /* _meta.progressToken */
	int			 create;	/* broker/session */
	int			 all;		/* broker/close */
	int			 sampling;	/* broker/hello */
	int			 elicitation;	/* broker/hello */
};

struct route_fault {
	int	code;
	char	message[200];
};

int	route_parse(const char *, const cJSON *, struct route *,
	    struct route_fault *);
void	route_strip(cJSON *);

#endif
