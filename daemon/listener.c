/*
 * Listening on the broker's socket.
 */
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

struct listener {
	struct broker		*b;
	struct evconnlistener	*evl;
	struct event		*resume;
	char			*path;		/* NULL: systemd's socket */
	dev_t			 dev;		/* the socket file we made */
	ino_t			 ino;
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

	if (l == NULL)
		return;
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
	conn_new(b, fd, cred.uid, cred.pid, admin);
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
