/*
 * The HTTP listeners, on libevent's evhttp.
 *
 * Every request goes through the same checks in the same order: the
 * bearer token first (401 before anything else, so that a client without
 * one learns nothing about paths or servers), then the Origin rule (403:
 * a page of another site must not reach a loopback listener through the
 * browser), then the path: /metrics (admins), or the MCP endpoint
 * /mcp/SERVER/THREAD (http_mcp.c).
 *
 * The broker's Unix socket hands over connections that speak HTTP
 * (http_take_local); their identity is the peer's uid, and no token is
 * asked. evhttp 2.1 takes connections only from a listening socket, so a
 * private one on 127.0.0.1 gets a connection from the daemon itself for
 * each, and once evhttp has accepted it, the accepted descriptor is made
 * the socket's own (dup3) before anything is read from it. A connection
 * to that private listener from anyone else is closed unread.
 *
 * A connection of the socket counts toward broker.max_clients and its
 * user's max_clients_per_uid from the moment evhttp makes it until it
 * closes; a TCP one from its first request with a valid token, for that
 * token's user (http_served: past a bound, 503 naming it). evhttp 2.1 tells nobody about a new
 * connection, but it asks us for its bufferevent (evhttp_set_bevcb); the
 * connection is adopted right after, from a deferred event, by finding it
 * through the bufferevent's callback argument, and its close is watched
 * with evhttp_connection_set_closecb.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "broker.h"
#include "config.h"
#include "counters.h"
#include "errors.h"
#include "http.h"
#include "http_mcp.h"
#include "http_mcp_session.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

/* What a connection refused at a bound is told before it is closed. */
#define HTTP_REFUSAL(body) \
	"HTTP/1.1 503 Service Unavailable\r\n" \
	"Content-Type: text/plain; charset=utf-8\r\n" \
	"Content-Length: " body "\r\n" \
	"Connection: close\r\n\r\n"
#define HTTP_REFUSAL_CLIENTS \
	"The broker has all its connections already (broker.max_clients).\n"

/* One connection evhttp made. */
struct http_conn {
	struct http			*h;
	struct bufferevent		*bev;
	struct evhttp_connection	*evcon;		/* NULL: not adopted */
	int				 counted;	/* broker_conn_add */
	int				 unserved;	/* TCP, no valid token
							   yet */
	struct event			*deadline;	/* for the first */
	int				 local;		/* the Unix socket's */
	uid_t				 uid;		/* local: the peer's */
	int				 admin;
	TAILQ_ENTRY(http_conn)		 entry;
};
TAILQ_HEAD(http_conns, http_conn);

/* A connection of the Unix socket on its way to evhttp. */
struct http_local {
	int				 fd;		/* the client's */
	int				 via;		/* ours, to the private
							   listener */
	ev_uint16_t			 port;		/* via's own port */
	in_addr_t			 addr;		/* and address */
	uid_t				 uid;
	int				 admin;
	TAILQ_ENTRY(http_local)		 entry;
};
TAILQ_HEAD(http_locals, http_local);

struct http {
	struct broker		*b;
	struct evhttp		*evh;
	struct event		*adopt;
	struct http_conns	 pending;	/* bevcb'd, not adopted */
	struct http_conns	 conns;
	size_t			 nunserved;
	struct http_mcp		*mcp;		/* /mcp/{server}/{thread} */
	struct sockaddr_in	 private_sin;	/* for local connections */
	struct http_locals	 locals;
};

static struct bufferevent *http_bev_cb(struct event_base *, void *);
static void	http_adopt_cb(evutil_socket_t, short, void *);
static void	http_close_cb(struct evhttp_connection *, void *);
static void	http_deadline_cb(evutil_socket_t, short, void *);
static void	http_refuse(struct http_conn *, const char *, size_t);
static void	http_drop_oldest_unserved(struct http *);
static int	http_served(struct http *, struct http_conn *, uid_t, int,
		    struct evhttp_request *);
static void	http_request_cb(struct evhttp_request *, void *);
static int	http_answer(struct evhttp_request *, int, const char *,
		    const char *);
static const char *http_method_name(struct evhttp_request *);
static int	http_serve(struct http *, struct evhttp_request *,
		    const char *, uid_t, int);
static int	http_adopt_local(struct http *, struct http_conn *);
static struct http_conn *http_conn_find(struct http *,
		    struct evhttp_connection *);
static int	http_private_listen(struct http *, char **);

/*
 * Listen on every broker.http.listen address. An object without any
 * listener if there is none; NULL and *cause if one cannot be bound.
 */
struct http *
http_new(struct broker *b, char **cause)
{
	const struct config	*conf = broker_config(b);
	const struct config_http *hc = &conf->http;
	struct http		*h;
	char			*host, *port;
	size_t			 i;
	int			 error;

	h = xcalloc(1, sizeof *h);
	h->b = b;
	TAILQ_INIT(&h->pending);
	TAILQ_INIT(&h->conns);
	TAILQ_INIT(&h->locals);
	h->mcp = http_mcp_new(b);

	if ((h->evh = evhttp_new(broker_base(b))) == NULL)
		fatalx("cannot create the HTTP server");
	evhttp_set_max_headers_size(h->evh, HTTP_MAX_HEADERS_BYTES);
	evhttp_set_max_body_size(h->evh, (ev_ssize_t)conf->max_message_bytes);
	evhttp_set_timeout(h->evh, hc->idle_timeout_s);
	evhttp_set_bevcb(h->evh, http_bev_cb, h);
	evhttp_set_gencb(h->evh, http_request_cb, h);
	h->adopt = event_new(broker_base(b), -1, 0, http_adopt_cb, h);

	for (i = 0; i < hc->nlisten; i++) {
		/* Checked at load: it splits. */
		if (config_http_split(hc->listen[i], &host, &port) != 0)
			fatalx("broker.http.listen: bad \"%s\"", hc->listen[i]);
		errno = 0;
		if (evhttp_bind_socket_with_handle(h->evh, host,
		    (ev_uint16_t)atoi(port)) == NULL) {
			error = errno;
			xasprintf(cause, "broker.http.listen: cannot listen on "
			    "%s: %s", hc->listen[i], error != 0 ?
			    strerror(error) : "no such address");
			free(host);
			free(port);
			http_free(h);
			return (NULL);
		}
		log_info("listening for HTTP on %s", hc->listen[i]);
		free(host);
		free(port);
	}
	return (h);
}

/* Stop listening and close every connection. */
void
http_free(struct http *h)
{
	struct http_conn	*c;
	struct http_local	*lc;

	if (h == NULL)
		return;
	/* Its held requests are answered before evhttp frees them. */
	http_mcp_free(h->mcp);
	h->mcp = NULL;
	/* Closes every connection: http_close_cb frees the adopted. */
	if (h->evh != NULL)
		evhttp_free(h->evh);
	while ((c = TAILQ_FIRST(&h->pending)) != NULL) {
		TAILQ_REMOVE(&h->pending, c, entry);
		bufferevent_decref(c->bev);
		free(c);
	}
	while ((lc = TAILQ_FIRST(&h->locals)) != NULL) {
		TAILQ_REMOVE(&h->locals, lc, entry);
		close(lc->fd);
		close(lc->via);
		free(lc);
	}
	if (h->adopt != NULL)
		event_free(h->adopt);
	free(h);
}

/* evhttp accepted a connection and wants its bufferevent. */
static struct bufferevent *
http_bev_cb(struct event_base *base, void *arg)
{
	struct http		*h = arg;
	struct http_conn	*c;

	c = xcalloc(1, sizeof *c);
	c->h = h;
	c->uid = (uid_t)-1;	/* a TCP one's: known at its first request */
	if ((c->bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		fatalx("cannot make a bufferevent");
	/* Ours until adopted: evhttp may free it first (a failed enable). */
	bufferevent_incref(c->bev);
	/*
	 * evhttp drains what it reads as it parses; while it writes an
	 * event stream it reads nothing, and this bound stops the reading
	 * instead of letting the client's bytes pile up.
	 */
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTP_READ_MAX);
	TAILQ_INSERT_TAIL(&h->pending, c, entry);
	event_active(h->adopt, EV_TIMEOUT, 1);
	return (c->bev);
}

/*
 * The connections made since the last turn: watch their close, give them
 * the bounds of the config in force, and count them toward max_clients,
 * or refuse them if it is reached.
 */
static void
http_adopt_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http		*h = arg;
	const struct config	*conf = broker_config(h->b);
	struct http_conn	*c;
	struct timeval		 tv;
	void			*cbarg;

	(void)fd;
	(void)events;
	while ((c = TAILQ_FIRST(&h->pending)) != NULL) {
		TAILQ_REMOVE(&h->pending, c, entry);
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
		bufferevent_decref(c->bev);
		/* evhttp gave up on it already: its callbacks are gone. */
		if ((c->evcon = cbarg) == NULL) {
			free(c);
			continue;
		}
		if (evhttp_connection_get_bufferevent(c->evcon) != c->bev)
			fatalx("http: a connection's bufferevent is not its own");
		TAILQ_INSERT_TAIL(&h->conns, c, entry);
		evhttp_connection_set_closecb(c->evcon, http_close_cb, c);
		if (http_adopt_local(h, c) != 0) {
			evhttp_connection_free(c->evcon);  /* http_close_cb */
			continue;
		}
		evhttp_connection_set_timeout(c->evcon,
		    conf->http.idle_timeout_s);
		evhttp_connection_set_max_body_size(c->evcon,
		    (ev_ssize_t)conf->max_message_bytes);
		if (!c->local) {
			/*
			 * Counted once it shows a token (http_served). At
			 * HTTP_MAX_UNSERVED the oldest of those without one
			 * goes, so idle connections cannot keep a client
			 * with a token out.
			 */
			if (h->nunserved >= HTTP_MAX_UNSERVED)
				http_drop_oldest_unserved(h);
			c->unserved = 1;
			h->nunserved++;
			c->deadline = evtimer_new(broker_base(h->b),
			    http_deadline_cb, c);
			tv.tv_sec = HTTP_FIRST_REQUEST_S;
			tv.tv_usec = 0;
			evtimer_add(c->deadline, &tv);
			continue;
		}
		if (broker_conn_add(h->b, c->uid) == 0) {
			c->counted = 1;
			continue;
		}
		log_warnx("refusing an HTTP connection: max_clients (%d) "
		    "reached", conf->max_clients);
		http_refuse(c, HTTP_REFUSAL("65") HTTP_REFUSAL_CLIENTS,
		    sizeof HTTP_REFUSAL("65") HTTP_REFUSAL_CLIENTS - 1);
	}
}

/* Close the oldest TCP connection that has shown no token yet. */
static void
http_drop_oldest_unserved(struct http *h)
{
	struct http_conn	*c;

	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->unserved) {
			log_debug("closing the oldest HTTP connection without "
			    "a token: %d are open (HTTP_MAX_UNSERVED)",
			    HTTP_MAX_UNSERVED);
			evhttp_connection_free(c->evcon);  /* http_close_cb */
			return;
		}
	}
}

/*
 * Refuse an adopted connection with the text of a 503 (len bytes) and
 * close it. What the client sent is read first, so that closing does
 * not reset the connection before the client has the answer.
 */
static void
http_refuse(struct http_conn *c, const char *text, size_t len)
{
	char		buf[4096];
	evutil_socket_t	sock;
	size_t		left = HTTP_MAX_HEADERS_BYTES;
	ssize_t		n;

	if ((sock = bufferevent_getfd(c->bev)) != -1) {
		while (left > 0 && (n = recv(sock, buf, sizeof buf,
		    MSG_DONTWAIT)) > 0)
			left -= (size_t)n > left ? left : (size_t)n;
		if (write(sock, text, len) == -1)
			log_debug("could not tell the refused client why");
		shutdown(sock, SHUT_WR);
	}
	evhttp_connection_free(c->evcon);	/* http_close_cb */
}

/* A TCP connection made no request with a valid token in time: close it. */
static void
http_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_conn	*c = arg;

	(void)fd;
	(void)events;
	if (!c->unserved)
		return;
	log_debug("closing an HTTP connection: no request with a token "
	    "within %d s (HTTP_FIRST_REQUEST_S)", HTTP_FIRST_REQUEST_S);
	evhttp_connection_free(c->evcon);	/* http_close_cb */
}

/*
 * A TCP connection made its first request with a valid token, of uid
 * (admin: an admin): it counts toward max_clients and the user's
 * max_clients_per_uid from now on. Returns 0, or -1 with the request
 * answered 503 and a -32014 body naming the bound reached (the
 * connection then closes).
 */
static int
http_served(struct http *h, struct http_conn *c, uid_t uid, int admin,
    struct evhttp_request *req)
{
	const char	*bound = "max_clients";

	if (c == NULL || !c->unserved)
		return (0);
	c->unserved = 0;
	h->nunserved--;
	evtimer_del(c->deadline);
	if (broker_client_room(h->b, uid, admin, &bound) &&
	    broker_conn_add(h->b, uid) == 0) {
		c->counted = 1;
		c->uid = uid;
		return (0);
	}
	log_warnx("refusing an HTTP connection (uid %ld): %s (%d) reached",
	    (long)uid, bound, strcmp(bound, "max_clients") == 0 ?
	    broker_config(h->b)->max_clients :
	    broker_config(h->b)->max_clients_per_uid);
	counters_error(broker_counters(h->b), RPC_AT_CAPACITY);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Connection", "close");
	http_mcp_session_reply_error(req, 503, "Service Unavailable", NULL,
	    RPC_AT_CAPACITY, NULL, "%s connections already (broker.%s); "
	    "close one or retry later.", strcmp(bound, "max_clients") == 0 ?
	    "The broker has all its" : "Your user has all its", bound);
	return (-1);
}

/* A connection has closed: it no longer counts. */
static void
http_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn	*c = arg;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	if (c->unserved)
		c->h->nunserved--;
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->h->mcp != NULL)
		http_mcp_conn_closed(c->h->mcp, evcon);
	if (c->counted)
		broker_conn_gone(c->h->b, c->uid);
	TAILQ_REMOVE(&c->h->conns, c, entry);
	free(c);
}

/* Answer with code and a line of plain text; returns code. */
static int
http_answer(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*body;

	body = evbuffer_new();
	evbuffer_add_printf(body, "%s\n", text);
	evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, body);
	evbuffer_free(body);
	return (code);
}

/* The name of a request's method, for the log. */
static const char *
http_method_name(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_POST:
		return ("POST");
	case EVHTTP_REQ_HEAD:
		return ("HEAD");
	case EVHTTP_REQ_PUT:
		return ("PUT");
	case EVHTTP_REQ_DELETE:
		return ("DELETE");
	default:
		return ("OTHER");
	}
}

/*
 * One request, in order: the token, the Origin, the user's access, the
 * path. Logged at debug with the user's uid, never the token.
 */
static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http		*h = arg;
	const struct config_http *hc = &broker_config(h->b)->http;
	const struct config_http_token *t = NULL;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct http_conn	*c;
	const char		*auth, *origin, *path = NULL;
	char			*peer = NULL;
	ev_uint16_t		 port = 0;
	uid_t			 uid = (uid_t)-1;
	int			 code, local, admin = 0;

	if (uri != NULL)
		path = evhttp_uri_get_path(uri);
	if (path == NULL || *path == '\0')
		path = "/";

	/* On the Unix socket, the peer's uid is the identity. */
	c = http_conn_find(h, evhttp_request_get_connection(req));
	if ((local = c != NULL && c->local)) {
		uid = c->uid;
		admin = c->admin;
	}
	auth = evhttp_find_header(in, "Authorization");
	if (!local && auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0) {
		for (auth += 7; *auth == ' '; auth++)
			/* nothing */;
		if ((t = config_http_find_token(hc, auth, strlen(auth))) !=
		    NULL) {
			uid = t->uid;
			admin = broker_peer_admin(h->b, t->uid, t->gid,
			    t->groups, t->ngroups);
		}
	}
	origin = evhttp_find_header(in, "Origin");
	if (!local && t == NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"mcp-broker\"");
		code = http_answer(req, 401, "Unauthorized", "A bearer token "
		    "of broker.http.tokens_file is required.");
	} else if (origin != NULL && !config_http_origin_ok(hc, origin))
		code = http_answer(req, 403, "Forbidden", "This Origin may not "
		    "use the broker (broker.http.allowed_origins).");
	else if (!local && !broker_peer_allowed(h->b, t->uid, t->gid,
	    t->groups, t->ngroups))
		code = http_answer(req, 403, "Forbidden", "This user may not "
		    "use the broker (allow_uids, allow_groups).");
	else if (!local && http_served(h, c, uid, admin, req) != 0)
		code = 503;
	else
		code = http_serve(h, req, path, uid, admin);

	if (local)
		log_debug("http socket: %s %s: %d (uid %ld)",
		    http_method_name(req), path, code, (long)uid);
	else {
		evhttp_connection_get_peer(evhttp_request_get_connection(req),
		    &peer, &port);
		if (t != NULL)
			log_debug("http %s:%u: %s %s: %d (uid %ld)", peer,
			    (unsigned)port, http_method_name(req), path, code,
			    (long)uid);
		else
			log_debug("http %s:%u: %s %s: %d (no valid token)",
			    peer, (unsigned)port, http_method_name(req), path,
			    code);
	}
}

/* Serve the path of an authenticated request; returns the status. */
static int
http_serve(struct http *h, struct evhttp_request *req, const char *path,
    uid_t uid, int admin)
{
	struct evbuffer	*body;
	char		*text;
	size_t		 len;

	if (strncmp(path, "/mcp/", 5) == 0)
		return (http_mcp_serve(h->mcp, req, path, uid, admin));
	if (strcmp(path, "/metrics") != 0)
		return (http_answer(req, 404, "Not Found", "No such path; the "
		    "broker serves /metrics and /mcp/SERVER/THREAD."));
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		return (http_answer(req, 405, "Method Not Allowed", "/metrics "
		    "takes GET."));
	}
	if (!admin)
		return (http_answer(req, 403, "Forbidden", "/metrics is for "
		    "admins (root, the broker's user, admin_group)."));

	text = metrics_text(h->b, &len);
	body = evbuffer_new();
	evbuffer_add(body, text, len);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_send_reply(req, 200, "OK", body);
	evbuffer_free(body);
	return (200);
}

/*
 * The private listener on 127.0.0.1 that local connections reach evhttp
 * through; 0, or -1 with *cause.
 */
static int
http_private_listen(struct http *h, char **cause)
{
	struct evhttp_bound_socket	*bound;
	socklen_t			 len = sizeof h->private_sin;

	if ((bound = evhttp_bind_socket_with_handle(h->evh, "127.0.0.1",
	    0)) == NULL ||
	    getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&h->private_sin, &len) == -1) {
		xasprintf(cause, "cannot listen on 127.0.0.1 for the socket's "
		    "HTTP connections: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * A connection of the Unix socket that speaks HTTP (its first bytes are
 * still unread), of uid: connect to the private listener, for evhttp to
 * accept; http_adopt_local() swaps the descriptors.
 */
void
http_take_local(int fd, uid_t uid, int admin, void *arg)
{
	struct http		*h = arg;
	struct http_local	*lc;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	char			*cause;
	int			 via;

	/* Made at the first such connection: no port open before. */
	if (h->private_sin.sin_port == 0 &&
	    http_private_listen(h, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
		close(fd);
		return;
	}
	via = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (via == -1 || (connect(via, (struct sockaddr *)&h->private_sin,
	    sizeof h->private_sin) == -1 && errno != EINPROGRESS) ||
	    getsockname(via, (struct sockaddr *)&sin, &len) == -1) {
		log_warn("cannot pass an HTTP connection of the socket on");
		if (via != -1)
			close(via);
		close(fd);
		return;
	}
	lc = xcalloc(1, sizeof *lc);
	lc->fd = fd;
	lc->via = via;
	lc->port = ntohs(sin.sin_port);
	lc->addr = sin.sin_addr.s_addr;
	lc->uid = uid;
	lc->admin = admin;
	TAILQ_INSERT_TAIL(&h->locals, lc, entry);
}

/*
 * If evhttp accepted c on the private listener: make its descriptor the
 * socket connection it stands for (before evhttp reads anything) and take
 * that peer's identity. -1 if nobody of ours made it: it is closed.
 */
static int
http_adopt_local(struct http *h, struct http_conn *c)
{
	struct http_local	*lc;
	struct sockaddr_in	 self, peer;
	socklen_t		 len = sizeof self;
	evutil_socket_t		 fd = bufferevent_getfd(c->bev);
	short			 enabled;

	if (getsockname(fd, (struct sockaddr *)&self, &len) == -1 ||
	    self.sin_family != AF_INET ||
	    self.sin_port != h->private_sin.sin_port ||
	    self.sin_addr.s_addr != h->private_sin.sin_addr.s_addr)
		return (0);	/* a TCP listener's */
	len = sizeof peer;
	if (getpeername(fd, (struct sockaddr *)&peer, &len) == -1)
		return (-1);
	/* Port and address: another user's socket on 127.0.0.2 with the
	   same port is not ours. */
	TAILQ_FOREACH(lc, &h->locals, entry) {
		if (lc->port == ntohs(peer.sin_port) &&
		    lc->addr == peer.sin_addr.s_addr)
			break;
	}
	if (lc == NULL) {
		log_warnx("closing a connection to the private HTTP listener "
		    "that the daemon did not make");
		return (-1);
	}
	TAILQ_REMOVE(&h->locals, lc, entry);
	enabled = bufferevent_get_enabled(c->bev);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	/* Close-on-exec kept: no child may inherit a user's connection. */
	if (dup3(lc->fd, fd, O_CLOEXEC) == -1)
		fatal("dup3");
	bufferevent_enable(c->bev, enabled);
	close(lc->fd);
	close(lc->via);
	c->local = 1;
	c->uid = lc->uid;
	c->admin = lc->admin;
	free(lc);
	return (0);
}

/* The adopted connection of evcon, or NULL. */
static struct http_conn *
http_conn_find(struct http *h, struct evhttp_connection *evcon)
{
	struct http_conn	*c;

	TAILQ_FOREACH(c, &h->conns, entry) {
		if (c->evcon == evcon)
			return (c);
	}
	return (NULL);
}
