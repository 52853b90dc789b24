/*
 * What a client's request asks for, checked before it reaches any state:
 * the routing members of a forwarded MCP request (server, thread,
 * timeout_ms, the progress token) and the parameters of the broker's own
 * methods. Pure functions on cJSON, so they are fuzzed on their own.
 *
 * Names (server, thread) follow one rule wherever a method takes them:
 * non-empty, valid UTF-8, no control characters (U+0000-U+001F, U+007F),
 * at most ROUTE_SERVER_MAX and ROUTE_THREAD_MAX bytes. It is checked on
 * the line's text, where JSON escapes count as what they decode to (a
 * tree cuts a string at an escaped NUL), before anything is looked up.
 */
#ifndef DAEMON_ROUTE_H
#define DAEMON_ROUTE_H

#include <cJSON.h>

/* Longest thread name accepted (it is a key, shown in tables and logs). */
#define ROUTE_THREAD_MAX	256
/* Longest server name accepted (config names are as long at most). */
#define ROUTE_SERVER_MAX	64
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
	ROUTE_METRICS,
	ROUTE_LOGS,
};

/* A checked request. Strings and items are borrowed from the params. */
struct route {
	enum route_method	 method;
	const char		*server;
	const char		*thread;
	long			 timeout_ms;	/* 0: the server's default */
	const cJSON		*progress_token; /* _meta.progressToken */
	int			 rss;		/* broker/status */
	int			 create;	/* broker/session */
	int			 all;		/* broker/close */
	int			 sampling;	/* broker/hello */
	int			 elicitation;	/* broker/hello */
	int			 notifications;	/* broker/hello */
	const cJSON		*capabilities;	/* broker/hello, or NULL */
	int			 follow;	/* broker/logs */
};

struct route_fault {
	int	code;
	char	message[200];
};

int	route_parse(const char *, const cJSON *, struct route *,
	    struct route_fault *);
void	route_strip(cJSON *);
int	route_check_name(const char *, const char *, size_t, int,
	    struct route_fault *);
int	route_check_names(const char *, size_t, struct route_fault *);
int	route_http_path(const char *, char **, char **, struct route_fault *);

#endif
