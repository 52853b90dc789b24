/*
 * Listening on the broker's socket.
 *
 * The first bytes of a connection decide its front end: an HTTP/1.1
 * request line (a method of capital letters, a space, a slash) hands it
 * to the HTTP front end (listener_set_http), anything else makes it an
 * NDJSON client. They are peeked, not read, so the front end that takes
 * the connection reads them itself. A connection that says nothing for
 * LISTENER_SNIFF_MS, or closes, is an NDJSON client. Meanwhile it counts
 * as a client of its user (broker_conn_add); an admin's connection in
 * the reserve beyond max_clients cannot be counted so, and is NDJSON at
 * once. At most LISTENER_SNIFF_MAX connections are sniffed at once, at
 * most LISTENER_SNIFF_PER_UID of one user.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "broker.h"
#include "config.h"
#include "conn.h"
#include "counters.h"
#include "errors.h"
#include "listener.h"
#include "log.h"
#include "service.h"
#include "wire.h"
#include "xmalloc.h"

/* Connections the kernel queues before accept. */
#define LISTENER_BACKLOG	128
/* How long accepting pauses when the daemon is out of file descriptors. */
#define LISTENER_EMFILE_PAUSE_S	1
/* How long a new connection's first bytes are awaited (each time more
   come). */
#define LISTENER_SNIFF_MS	2000
/* Connections whose first bytes are awaited at once; beyond, refused. */
#define LISTENER_SNIFF_MAX	256
/*
 * The share of those one user may hold, so that one user's silent
 * connections cannot keep everyone else's new ones out.
 */
#define LISTENER_SNIFF_PER_UID	32
/* Bytes that tell an HTTP request line: a method of up to 16 capital
   letters, a space and a slash. */
#define LISTENER_SNIFF_BYTES	18

/* A new connection whose first bytes are awaited. */
struct listener_sniff {
	struct listener			*l;
	int				 fd;
	uid_t				 uid;
	pid_t				 pid;
	int				 admin;
	struct event			*ev;
	TAILQ_ENTRY(listener_sniff)	 entry;
};

struct listener {
	struct broker		*b;
	struct evconnlistener	*evl;
	struct event		*resume;
	char			*path;		/* NULL: systemd's socket */
	dev_t			 dev;		/* the socket file we made */
	ino_t			 ino;
	listener_http_cb	 http;		/* NULL: all NDJSON */
	void			*http_arg;
	TAILQ_HEAD(, listener_sniff) sniffs;
	size_t			 nsniffs;
};

static int	listener_prepare_path(const char *, char **);
static void	listener_unlink(const char *, const struct stat *);
static void	listener_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	listener_error_cb(struct evconnlistener *, void *);
static void	listener_resume_cb(evutil_socket_t, short, void *);
static struct listener *listener_watch(struct broker *, int, const char *,
		    const struct stat *);
static int	listener_peer_groups(int, gid_t **);
static void	listener_refuse(int, int, const char *);
static void	listener_sniff_start(struct listener *, int, uid_t, pid_t,
		    int);
static void	listener_sniff_cb(evutil_socket_t, short, void *);
static void	listener_sniff_done(struct listener_sniff *, int);

/*
 * Make room for the socket at path: nothing there, or a stale socket
 * nobody listens on (removed). A live socket means another daemon runs;
 * anything that is not a socket, or a socket whose state connect() cannot
 * tell (full backlog, no permission), is left alone.
 */
static int
listener_prepare_path(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	struct stat		st, again;
	int			fd, error = 0;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(cause, "%s exists and is not a socket; refusing to "
		    "replace it", path);
		return (-1);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		error = errno;
	close(fd);
	if (error == 0 || error == EAGAIN) {
		xasprintf(cause, "another daemon is listening on %s", path);
		return (-1);
	}
	/* Only ECONNREFUSED says nobody listens. */
	if (error != ECONNREFUSED) {
		xasprintf(cause, "cannot tell whether %s is in use (%s); "
		    "refusing to replace it", path, strerror(error));
		return (-1);
	}
	/* Still the socket that was probed, not one bound since. */
	if (lstat(path, &again) == -1 || again.st_dev != st.st_dev ||
	    again.st_ino != st.st_ino) {
		xasprintf(cause, "%s changed while it was checked; refusing "
		    "to replace it", path);
		return (-1);
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		xasprintf(cause, "cannot remove stale socket %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	log_info("removed stale socket %s", path);
	return (0);
}

/*
 * Listen on the socket systemd passed, if it passed one (its path, mode
 * and group are the socket unit's), else on path with the given mode and
 * group (-1: the daemon's). NULL with *cause on failure.
 */
struct listener *
listener_new(struct broker *b, const char *path, mode_t mode, gid_t group,
    char **cause)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd;

	if ((fd = service_listen_fd(cause)) == -2)
		return (NULL);
	if (fd >= 0) {
		evutil_make_socket_nonblocking(fd);
		evutil_make_socket_closeonexec(fd);
		log_info("listening on the socket systemd passed");
		return (listener_watch(b, fd, NULL, NULL));
	}

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, "socket path too long (over %zu bytes): %s",
		    sizeof sun.sun_path - 1, path);
		return (NULL);
	}
	strcpy(sun.sun_path, path);
	if (listener_prepare_path(path, cause) != 0)
		return (NULL);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (NULL);
	}
	/* No window in which the socket has looser permissions. */
	old = umask(0777 & ~mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		xasprintf(cause, "cannot bind %s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	umask(old);
	/* What we bound, so that only this file is ever removed. */
	if (lstat(path, &st) == -1) {
		xasprintf(cause, "cannot set up %s: %s", path,
		    strerror(errno));
		close(fd);
		return (NULL);
	}
	if ((group != (gid_t)-1 && chown(path, (uid_t)-1, group) == -1) ||
	    chmod(path, mode) == -1 || listen(fd, LISTENER_BACKLOG) == -1) {
		xasprintf(cause, "cannot set up %s: %s", path,
		    strerror(errno));
		listener_unlink(path, &st);
		close(fd);
		return (NULL);
	}
	log_info("listening on %s (mode %04o)", path, (unsigned)mode);
	return (listener_watch(b, fd, path, &st));
}

/*
 * Remove the socket file at path only if it is still the socket st
 * describes: another daemon's socket, or any other file put there since,
 * stays.
 */
static void
listener_unlink(const char *path, const struct stat *st)
{
	struct stat	now;

	if (lstat(path, &now) == -1)
		return;
	if (!S_ISSOCK(now.st_mode) || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino) {
		log_info("not removing %s: it is no longer the socket this "
		    "daemon created", path);
		return;
	}
	if (unlink(path) == -1)
		log_warn("cannot remove %s", path);
}

/*
 * Accept on a listening fd; path is the file to remove at the end, st
 * what it was when bound.
 */
static struct listener *
listener_watch(struct broker *b, int fd, const char *path,
    const struct stat *st)
{
	struct listener	*l;

	l = xcalloc(1, sizeof *l);
	l->b = b;
	TAILQ_INIT(&l->sniffs);
	l->path = path != NULL ? xstrdup(path) : NULL;
	if (st != NULL) {
		l->dev = st->st_dev;
		l->ino = st->st_ino;
	}
	l->evl = evconnlistener_new(broker_base(b), listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l->evl == NULL)
		fatalx("cannot watch the listening socket");
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	l->resume = evtimer_new(broker_base(b), listener_resume_cb, l);
	return (l);
}

/* Stop accepting and remove the socket file. */
void
listener_free(struct listener *l)
{
	struct stat	st;

	struct listener_sniff	*sn;

	if (l == NULL)
		return;
	while ((sn = TAILQ_FIRST(&l->sniffs)) != NULL) {
		TAILQ_REMOVE(&l->sniffs, sn, entry);
		event_free(sn->ev);
		close(sn->fd);
		broker_conn_gone(l->b, sn->uid);
		free(sn);
	}
	evconnlistener_free(l->evl);
	event_free(l->resume);
	/* systemd owns an activated socket; never unlink it. */
	if (l->path != NULL) {
		st.st_dev = l->dev;
		st.st_ino = l->ino;
		listener_unlink(l->path, &st);
	}
	free(l->path);
	free(l);
}

/*
 * The peer's supplementary groups (SO_PEERGROUPS) into *groups, which the
 * caller frees; returns their count (0 if it has none or they cannot be
 * read). The kernel says how much room they need when there is too
 * little, so no peer's groups are cut short.
 */
static int
listener_peer_groups(int fd, gid_t **groups)
{
	socklen_t	len = 64 * sizeof **groups;

	*groups = xmalloc(len);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *groups, &len) == 0)
		return ((int)(len / sizeof **groups));
	if (errno == ERANGE) {
		*groups = xrealloc(*groups, len);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *groups,
		    &len) == 0)
			return ((int)(len / sizeof **groups));
	}
	log_warn("SO_PEERGROUPS");
	return (0);
}

/* Answer a refused peer with one error line, then close it. */
static void
listener_refuse(int fd, int code, const char *message)
{
	char	*line;
	size_t	 len;

	line = wire_error_line(NULL, code, message, &len);
	if (write(fd, line, len) == -1)
		log_debug("could not tell the refused client why");
	free(line);
	close(fd);
}

/*
 * A new client: read its credentials, check it may use the broker, and
 * refuse it past max_clients or max_clients_per_uid (admins have a
 * reserve beyond both).
 */
static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener		*l = arg;
	struct broker		*b = l->b;
	struct ucred		 cred;
	socklen_t		 len = sizeof cred;
	gid_t			*groups;
	const char		*bound;
	char			*msg;
	int			 ngroups, allowed, admin;

	(void)evl;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("SO_PEERCRED");
		close(fd);
		return;
	}
	ngroups = listener_peer_groups(fd, &groups);
	allowed = broker_peer_allowed(b, cred.uid, cred.gid, groups, ngroups);
	admin = broker_peer_admin(b, cred.uid, cred.gid, groups, ngroups);
	free(groups);
	if (!allowed) {
		log_warnx("refusing a client: uid %ld (pid %ld) is not in "
		    "allow_uids or allow_groups", (long)cred.uid,
		    (long)cred.pid);
		counters_error(broker_counters(b), RPC_FORBIDDEN);
		listener_refuse(fd, RPC_FORBIDDEN, "This user may not use the "
		    "broker (allow_uids, allow_groups).");
		return;
	}
	if (!broker_client_room(b, cred.uid, admin, &bound)) {
		log_warnx("refusing a client (uid %ld): %s reached%s",
		    (long)cred.uid, bound, admin ? " with the admin reserve" :
		    "");
		counters_error(broker_counters(b), RPC_AT_CAPACITY);
		xasprintf(&msg, "%s connections already (broker.%s%s); "
		    "retry later.", strcmp(bound, "max_clients") == 0 ?
		    "The broker has all its" : "Your user has all its", bound,
		    admin ? ", and the admin reserve beyond it" : "");
		listener_refuse(fd, RPC_AT_CAPACITY, msg);
		free(msg);
		return;
	}
	if (l->http == NULL)
		conn_new(b, fd, cred.uid, cred.pid, admin);
	else
		listener_sniff_start(l, fd, cred.uid, cred.pid, admin);
}

/*
 * accept() failed. Out of descriptors, retrying at once would spin: pause
 * accepting for a moment (as tmux does) and try again.
 */
static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener	*l = arg;
	struct timeval	 tv = { LISTENER_EMFILE_PAUSE_S, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		log_warnx("accept: %s; pausing accepts for %d s",
		    strerror(err), LISTENER_EMFILE_PAUSE_S);
		evconnlistener_disable(evl);
		evtimer_add(l->resume, &tv);
		return;
	}
	log_warnx("accept: %s", strerror(err));
}

/* Accept again after a pause. */
static void
listener_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct listener	*l = arg;

	(void)fd;
	(void)events;
	evconnlistener_enable(l->evl);
}

/*
 * Have connections whose first bytes are an HTTP request line handed to
 * cb (the connection's descriptor, the peer's uid, whether it is an
 * admin, arg).
 */
void
listener_set_http(struct listener *l, listener_http_cb cb, void *arg)
{
	l->http = cb;
	l->http_arg = arg;
}

/*
 * What the first n bytes of a connection are: 1 an HTTP request line, 0
 * anything else, -1 too few bytes to tell.
 */
int
listener_sniff_http(const char *buf, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			continue;
		if (buf[i] != ' ' || i == 0)
			return (0);
		if (i + 1 == n)
			return (-1);
		return (buf[i + 1] == '/');
	}
	return (n >= LISTENER_SNIFF_BYTES ? 0 : -1);
}

/* How many connections of uid are being sniffed. */
static int
listener_sniffs_of(struct listener *l, uid_t uid)
{
	struct listener_sniff	*sn;
	int			 n = 0;

	TAILQ_FOREACH(sn, &l->sniffs, entry) {
		if (sn->uid == uid)
			n++;
	}
	return (n);
}

/*
 * Await a new connection's first bytes (it passed every check). Bytes
 * already there decide at once: only a connection that has sent too
 * little to tell counts toward the sniffing bounds.
 */
static void
listener_sniff_start(struct listener *l, int fd, uid_t uid, pid_t pid,
    int admin)
{
	struct listener_sniff	*sn;
	struct timeval		 tv = { LISTENER_SNIFF_MS / 1000,
				    (LISTENER_SNIFF_MS % 1000) * 1000 };
	char			 buf[LISTENER_SNIFF_BYTES];
	ssize_t			 n;
	int			 kind;

	n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0 && (kind = listener_sniff_http(buf, (size_t)n)) != -1) {
		if (kind)
			l->http(fd, uid, admin, l->http_arg);
		else
			conn_new(l->b, fd, uid, pid, admin);
		return;
	}
	if (l->nsniffs >= LISTENER_SNIFF_MAX) {
		log_warnx("refusing a client (uid %ld): %d connections have "
		    "sent nothing yet (LISTENER_SNIFF_MAX)", (long)uid,
		    LISTENER_SNIFF_MAX);
		listener_refuse(fd, RPC_AT_CAPACITY, "Too many connections "
		    "have sent nothing yet (LISTENER_SNIFF_MAX); retry later.");
		return;
	}
	if (listener_sniffs_of(l, uid) >= LISTENER_SNIFF_PER_UID) {
		log_warnx("refusing a client (uid %ld): %d connections of this "
		    "user have sent nothing yet (LISTENER_SNIFF_PER_UID)",
		    (long)uid, LISTENER_SNIFF_PER_UID);
		listener_refuse(fd, RPC_AT_CAPACITY, "Too many connections "
		    "of your user have sent nothing yet "
		    "(LISTENER_SNIFF_PER_UID); send on them, or retry later.");
		return;
	}
	if (broker_conn_add(l->b, uid) != 0) {
		conn_new(l->b, fd, uid, pid, admin);
		return;
	}
	sn = xcalloc(1, sizeof *sn);
	sn->l = l;
	sn->fd = fd;
	sn->uid = uid;
	sn->pid = pid;
	sn->admin = admin;
	/* Edge-triggered: peeked bytes stay readable, only new ones wake
	   it again. */
	sn->ev = event_new(broker_base(l->b), fd, EV_READ | EV_ET | EV_PERSIST,
	    listener_sniff_cb, sn);
	event_add(sn->ev, &tv);
	TAILQ_INSERT_TAIL(&l->sniffs, sn, entry);
	l->nsniffs++;
}

/* Bytes came (or time passed): decide if they are enough to tell. */
static void
listener_sniff_cb(evutil_socket_t fd, short events, void *arg)
{
	struct listener_sniff	*sn = arg;
	char			 buf[LISTENER_SNIFF_BYTES];
	ssize_t			 n;
	int			 kind;

	if (events & EV_TIMEOUT) {
		listener_sniff_done(sn, 0);
		return;
	}
	n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF and errors are the NDJSON front end's to see and log. */
	if (n <= 0) {
		listener_sniff_done(sn, 0);
		return;
	}
	if ((kind = listener_sniff_http(buf, (size_t)n)) == -1)
		return;
	listener_sniff_done(sn, kind);
}

/* Hand a connection to its front end: HTTP (http set) or NDJSON. */
static void
listener_sniff_done(struct listener_sniff *sn, int http)
{
	struct listener	*l = sn->l;

	TAILQ_REMOVE(&l->sniffs, sn, entry);
	l->nsniffs--;
	event_free(sn->ev);
	broker_conn_gone(l->b, sn->uid);
	if (http)
		l->http(sn->fd, sn->uid, sn->admin, l->http_arg);
	else
		conn_new(l->b, sn->fd, sn->uid, sn->pid, sn->admin);
	free(sn);
}
