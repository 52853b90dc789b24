/*
 * systemd readiness, status, watchdog and socket activation.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "clock.h"
#include "log.h"
#include "service.h"
#include "xmalloc.h"

struct service {
	service_status_fn status_fn;
	void		*status_arg;
	struct event	*status_timer;
	struct event	*watchdog_timer;
	struct timeval	 watchdog_interval;
	char		 status[128];	/* last STATUS= sent */
	uint64_t	 last_requests;
	double		 last_sample;	/* when last_requests was read */
};

static void	service_status_cb(evutil_socket_t, short, void *);
static void	service_watchdog_cb(evutil_socket_t, short, void *);

/*
 * Start the status refresh and, if systemd set WATCHDOG_USEC for us, the
 * watchdog keep-alive at half its interval.
 */
struct service *
service_new(struct event_base *base, service_status_fn fn, void *arg)
{
	struct service	*sv;
	struct timeval	 tv;
	uint64_t	 usec;

	sv = xcalloc(1, sizeof *sv);
	sv->status_fn = fn;
	sv->status_arg = arg;
	sv->status_timer = event_new(base, -1, EV_PERSIST,
	    service_status_cb, sv);
	tv.tv_sec = SERVICE_STATUS_INTERVAL_MS / 1000;
	tv.tv_usec = (SERVICE_STATUS_INTERVAL_MS % 1000) * 1000;
	if (getenv("NOTIFY_SOCKET") != NULL)
		evtimer_add(sv->status_timer, &tv);

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		usec /= 2;
		sv->watchdog_interval.tv_sec = (time_t)(usec / 1000000);
		sv->watchdog_interval.tv_usec = (suseconds_t)(usec % 1000000);
		sv->watchdog_timer = event_new(base, -1, EV_PERSIST,
		    service_watchdog_cb, sv);
		evtimer_add(sv->watchdog_timer, &sv->watchdog_interval);
		log_info("systemd watchdog: keep-alive every %llu ms",
		    (unsigned long long)(usec / 1000));
	}
	return (sv);
}

/* Stop the timers. */
void
service_free(struct service *sv)
{
	if (sv == NULL)
		return;
	event_free(sv->status_timer);
	if (sv->watchdog_timer != NULL)
		event_free(sv->watchdog_timer);
	free(sv);
}

/* The socket accepts: tell systemd, with a first status line. */
void
service_ready(struct service *sv)
{
	if (sv != NULL)
		service_status_cb(-1, 0, sv);
	sd_notify(0, "READY=1");
}

/* A reload starts; service_ready() ends it. */
void
service_reloading(struct service *sv)
{
	(void)sv;
	sd_notify(0, "RELOADING=1");
}

/* Shutdown has begun. */
void
service_stopping(struct service *sv)
{
	(void)sv;
	sd_notify(0, "STOPPING=1\nSTATUS=Shutting down: closing sessions");
}

/*
 * Refresh STATUS= ("12 sessions, 3 clients, 40 req/s") when it changed;
 * the timer's period is the rate limit.
 */
static void
service_status_cb(evutil_socket_t fd, short events, void *arg)
{
	struct service		*sv = arg;
	struct service_status	 st;
	char			 status[sizeof sv->status];
	char			 line[sizeof status + 8];
	double			 rate = 0, now = clock_s(), seconds;

	(void)fd;
	(void)events;
	memset(&st, 0, sizeof st);
	sv->status_fn(&st, sv->status_arg);
	if (st.exiting)
		return;
	seconds = now - sv->last_sample;
	/* Off-beat calls (a reload) keep the running sample. */
	if (seconds * 1000 < SERVICE_STATUS_INTERVAL_MS / 2 &&
	    sv->last_sample != 0)
		rate = -1;
	else {
		if (sv->last_sample != 0 && seconds > 0)
			rate = (double)(st.requests - sv->last_requests) /
			    seconds;
		sv->last_requests = st.requests;
		sv->last_sample = now;
	}
	if (rate < 0)
		return;
	snprintf(status, sizeof status, "%zu session%s, %zu client%s, %.0f "
	    "req/s", st.sessions, st.sessions == 1 ? "" : "s", st.clients,
	    st.clients == 1 ? "" : "s", rate);
	if (strcmp(status, sv->status) == 0)
		return;
	strcpy(sv->status, status);
	snprintf(line, sizeof line, "STATUS=%s", status);
	sd_notify(0, line);
}

/* Tell the watchdog the loop is alive. */
static void
service_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

/*
 * The listening socket systemd passed (socket activation), or -1 if none
 * was passed. More than one, or one that is not a listening Unix stream
 * socket, is an error (-2 with *cause set).
 */
int
service_listen_fd(char **cause)
{
	int	n;

	n = sd_listen_fds(1);
	if (n == 0)
		return (-1);
	if (n < 0) {
		xasprintf(cause, "sd_listen_fds: %s", strerror(-n));
		return (-2);
	}
	if (n > 1) {
		xasprintf(cause, "systemd passed %d sockets; mcp-brokerd takes "
		    "exactly one", n);
		return (-2);
	}
	if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL,
	    0) <= 0) {
		xasprintf(cause, "the socket systemd passed is not a listening "
		    "Unix stream socket");
		return (-2);
	}
	return (SD_LISTEN_FDS_START);
}
