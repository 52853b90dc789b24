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
#include "errors.h"
#include "listener.h"
#include "log.h"
#include "xmalloc.h"

/* Connections the kernel queues before accept. */
#define LISTENER_BACKLOG	128
/* How long accepting pauses when the daemon is out of file descriptors. */
#define LISTENER_EMFILE_PAUSE_S	1

struct listener {
	struct broker		*b;
	struct evconnlistener	*evl;
	struct event		*resume;
	char			*path;
};

static int	listener_prepare_path(const char *, char **);
static void	listener_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	listener_error_cb(struct evconnlistener *, void *);
static void	listener_resume_cb(evutil_socket_t, short, void *);

/*
 * Make room for the socket at path: nothing there, or a stale socket
 * nobody listens on (removed). A live socket means another daemon runs;
 * anything that is not a socket is left alone.
 */
static int
listener_prepare_path(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, live;

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
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	live = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	close(fd);
	if (live) {
		xasprintf(cause, "another daemon is listening on %s", path);
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

/* Listen on path with the given mode; NULL with *cause on failure. */
struct listener *
listener_new(struct broker *b, const char *path, mode_t mode, char **cause)
{
	struct sockaddr_un	 sun;
	struct listener		*l;
	mode_t			 old;
	int			 fd;

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
	if (chmod(path, mode) == -1 || listen(fd, LISTENER_BACKLOG) == -1) {
		xasprintf(cause, "cannot listen on %s: %s", path,
		    strerror(errno));
		unlink(path);
		close(fd);
		return (NULL);
	}

	l = xcalloc(1, sizeof *l);
	l->b = b;
	l->path = xstrdup(path);
	l->evl = evconnlistener_new(b->base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l->evl == NULL)
		fatalx("cannot watch the listening socket");
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	l->resume = evtimer_new(b->base, listener_resume_cb, l);
	log_info("listening on %s (mode %04o)", path, (unsigned)mode);
	return (l);
}

/* Stop accepting and remove the socket file. */
void
listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	evconnlistener_free(l->evl);
	event_free(l->resume);
	unlink(l->path);
	free(l->path);
	free(l);
}

/* A new client: note who it is, refuse it past max_clients. */
static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static const char	 full[] = "{\"jsonrpc\":\"2.0\",\"id\":null,"
	    "\"error\":{\"code\":-32014,\"message\":\"The broker has "
	    "max_clients connections already; retry later.\"}}\n";
	struct listener		*l = arg;
	struct broker		*b = l->b;
	struct ucred		 cred;
	socklen_t		 len = sizeof cred;

	(void)evl;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("SO_PEERCRED");
		close(fd);
		return;
	}
	if (b->nconns >= (size_t)b->conf->max_clients) {
		log_warnx("refusing a client (uid %ld): %d connections "
		    "(max_clients)", (long)cred.uid, b->conf->max_clients);
		b->counters.errors++;
		if (write(fd, full, sizeof full - 1) == -1)
			log_debug("could not tell the refused client why");
		close(fd);
		return;
	}
	conn_new(b, fd, cred.uid, cred.pid);
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
