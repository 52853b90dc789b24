/*
 * mcp-brokerd: keeps MCP servers alive per (server, thread) and routes
 * JSON-RPC from its Unix socket to them. Runs in the foreground; systemd
 * (or a terminal) supervises it.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker.h"
#include "cgroup.h"
#include "child.h"
#include "clock.h"
#include "config.h"
#include "counters.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "service.h"
#include "stream.h"
#include "version.h"
#include "workdir.h"
#include "xmalloc.h"

/* How often shutdown looks whether every child is gone. */
#define MAIN_EXIT_POLL_MS	20
/* Extra time past the close escalation before exiting regardless. */
#define MAIN_EXIT_SLACK_MS	2000

/* What main owns and its signal handlers reach. */
struct main_state {
	struct event_base	*base;
	struct broker		*b;
	struct child_list	*children;
	struct cgroup_root	*cgroups;
	struct stream_queue	*queue;
	struct listener		*listener;
	struct http		*http;		/* broker.http.listen */
	struct service		*service;
	struct event		*exit_timer;
	uint64_t		 exit_deadline;	/* monotonic ms */
};

static void	main_usage(int) __attribute__((noreturn));
static void	main_stdio(void);
static void	main_sigchld_cb(evutil_socket_t, short, void *);
static void	main_sigterm_cb(evutil_socket_t, short, void *);
static void	main_sighup_cb(evutil_socket_t, short, void *);
static void	main_exit_timer_cb(evutil_socket_t, short, void *);
static void	main_kill_all(struct main_state *);
static void	main_contain(struct main_state *);
static void	main_status_cb(struct service_status *, void *);
static struct config *main_load(const char *);

/*
 * Print how to call mcp-brokerd and exit with status: asked for (0) on
 * stdout with each option explained, after a wrong usage (2) on stderr.
 */
static void
main_usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f, "usage: mcp-brokerd [--config FILE] [--socket PATH] "
	    "[--check-config]\n                   [--log-level LEVEL]\n"
	    "       mcp-brokerd --help | --version\n");
	if (status != 0)
		exit(status);
	fprintf(f, "\n"
	    "Keeps MCP servers running as child processes, one session per\n"
	    "(uid, server, thread), and routes JSON-RPC requests from its "
	    "Unix socket\nto them. Runs in the foreground.\n\n"
	    "  -c, --config FILE      configuration file [%s]\n"
	    "  -s, --socket PATH      listen on PATH instead of broker.socket\n"
	    "  -n, --check-config     validate the configuration and exit\n"
	    "  -l, --log-level LEVEL  debug, info, warning or error (else "
	    "broker.log_level)\n"
	    "  -h, --help             print this help and exit\n"
	    "  -V, --version          print the version and exit\n\n"
	    "See mcp-brokerd(8) and mcp-broker.json(5).\n",
	    CONFIG_DEFAULT_PATH);
	exit(0);
}

/* Make sure fds 0-2 are open, so no socket or pipe lands on them. */
static void
main_stdio(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1 && fd <= 2)
		fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
}

/* Load and validate the config; print every problem and exit on error. */
static struct config *
main_load(const char *path)
{
	struct config		*conf;
	struct config_diag	 diag;
	size_t			 i;

	memset(&diag, 0, sizeof diag);
	conf = config_load(path, &diag);
	for (i = 0; i < diag.nwarnings; i++)
		log_warnx("%s: %s", path, diag.warnings[i]);
	for (i = 0; i < diag.nerrors; i++)
		log_warnx("%s: %s", path, diag.errors[i]);
	config_diag_clear(&diag);
	if (conf == NULL)
		fatalx("%s: configuration invalid", path);
	return (conf);
}

/*
 * Remove the session directories under state_dir: at start what a
 * predecessor killed with SIGKILL left, at exit what a session still
 * running at the deadline holds. At start, make the base if a server
 * will need it, so that a state_dir that cannot be made is said now.
 */
static void
main_clean_sessions(const struct config *conf, const char *state_dir,
    const char *what)
{
	char	*cause;
	size_t	 i, n;

	if (workdir_clean(state_dir, &n, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
	}
	if (n != 0)
		log_info("removed %zu session directories %s in %s/%s", n,
		    what, state_dir, WORKDIR_SESSIONS);
	for (i = 0; conf != NULL && i < conf->nservers; i++) {
		if (!conf->servers[i].session_dir)
			continue;
		if (workdir_prepare(state_dir, &cause) != 0) {
			log_warnx("broker.state_dir: %s; sessions of servers "
			    "with session_dir cannot start", cause);
			free(cause);
		}
		break;
	}
}

/*
 * Exiting before the sessions ended: kill every session cgroup and every
 * descendant at once, so nothing outlives the daemon.
 */
static void
main_kill_all(struct main_state *ms)
{
	int	n;

	cgroup_root_kill_all(ms->cgroups);
	if ((n = child_kill_tree(NULL)) > 0)
		log_info("killed %d processes the sessions left", n);
}

/*
 * Set up containment once the socket is ours (a predecessor's leftover
 * session cgroups are removed then), and say which is in use.
 */
static void
main_contain(struct main_state *ms)
{
	char	*cause;

	if (cgroup_root_start(ms->cgroups, &cause) != 0) {
		log_warnx("cannot use cgroups: %s", cause);
		free(cause);
	}
	if (cgroup_root_path(ms->cgroups) != NULL)
		log_info("containment: %s", cgroup_root_why(ms->cgroups));
	else
		log_info("containment: off: descendants are killed by process "
		    "tree (%s)", cgroup_root_why(ms->cgroups));
}

/* Children exited: reap them all. */
static void
main_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	struct main_state	*ms = arg;

	(void)sig;
	(void)events;
	child_reap(ms->children);
}

/* What systemd's STATUS= line tells. */
static void
main_status_cb(struct service_status *st, void *arg)
{
	struct main_state	*ms = arg;

	st->sessions = broker_nsessions(ms->b);
	st->clients = broker_nclients(ms->b);
	st->requests = broker_counters(ms->b)->requests;
	st->exiting = broker_exiting(ms->b);
}

/*
 * SIGTERM or SIGINT: stop accepting, close every session at once, and
 * exit when every child is reaped (or at a hard deadline). A second
 * signal exits at once.
 */
static void
main_sigterm_cb(evutil_socket_t sig, short events, void *arg)
{
	struct main_state	*ms = arg;
	struct timeval		 tv = { 0, MAIN_EXIT_POLL_MS * 1000 };

	(void)events;
	if (broker_exiting(ms->b)) {
		log_warnx("signal %d again: exiting now", (int)sig);
		main_kill_all(ms);
		event_base_loopexit(ms->base, NULL);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	service_stopping(ms->service);
	listener_free(ms->listener);
	ms->listener = NULL;
	http_free(ms->http);
	ms->http = NULL;
	broker_shutdown(ms->b);

	ms->exit_deadline = clock_ms() + 2 *
	    (uint64_t)broker_config(ms->b)->shutdown_grace_ms +
	    MAIN_EXIT_SLACK_MS;
	ms->exit_timer = evtimer_new(ms->base, main_exit_timer_cb, ms);
	evtimer_add(ms->exit_timer, &tv);
}

/* During shutdown: exit once no child is left, or at the deadline. */
static void
main_exit_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct main_state	*ms = arg;
	struct timeval		 tv = { 0, MAIN_EXIT_POLL_MS * 1000 };

	(void)fd;
	(void)events;
	if (child_list_count(ms->children) == 0) {
		event_base_loopexit(ms->base, NULL);
		return;
	}
	if (clock_ms() > ms->exit_deadline) {
		log_warnx("%zu children still running at the shutdown "
		    "deadline; exiting anyway",
		    child_list_count(ms->children));
		main_kill_all(ms);
		event_base_loopexit(ms->base, NULL);
		return;
	}
	evtimer_add(ms->exit_timer, &tv);
}

/* SIGHUP: re-read the configuration; a bad file changes nothing. */
static void
main_sighup_cb(evutil_socket_t sig, short events, void *arg)
{
	struct main_state	*ms = arg;
	cJSON			*result, *errors;

	(void)sig;
	(void)events;
	if (broker_exiting(ms->b))
		return;
	if (broker_reload(ms->b, &result, &errors) == 0)
		cJSON_Delete(result);
	else
		cJSON_Delete(errors);
}

/* mcp-brokerd: load the config, listen, and run the loop until told to stop. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct main_state	 ms;
	struct broker_params	 bp;
	struct cgroup_sys	 sys;
	struct cgroup_plan	 plan;
	struct event_base	*base;
	struct event		*ev_chld, *ev_term, *ev_int, *ev_hup;
	struct config		*conf;
	const char		*config_path = CONFIG_DEFAULT_PATH;
	const char		*socket_path = NULL, *level_name = NULL;
	enum log_level		 level;
	char			*cause, *state_dir, *name;
	int			 ch, check_only = 0;

	while ((ch = getopt_long(argc, argv, "c:s:nl:Vh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'l':
			level_name = optarg;
			break;
		case 'V':
			printf("mcp-brokerd %s\n", BROKER_VERSION);
			return (0);
		case 'h':
			main_usage(0);
		default:
			main_usage(2);
		}
	}
	if (optind != argc)
		main_usage(2);
	if (level_name != NULL && log_level_parse(level_name, &level) != 0) {
		fprintf(stderr, "mcp-brokerd: unknown log level '%s' (debug, "
		    "info, warning, error)\n", level_name);
		return (2);
	}

	xmalloc_cjson_hooks();
	main_stdio();
	log_init(LOG_LEVEL_INFO);
	conf = main_load(config_path);
	if (check_only) {
		printf("%s: configuration OK (%zu servers)\n", config_path,
		    conf->nservers);
		config_free(conf);
		return (0);
	}
	if (socket_path != NULL) {
		free(conf->socket);
		conf->socket = xstrdup(socket_path);
	}
	if (level_name != NULL)
		conf->log_level = level;
	log_set_level(conf->log_level);

	signal(SIGPIPE, SIG_IGN);
	/*
	 * Orphaned grandchildren of our children are reparented to us: they
	 * are reaped here, and without cgroups still found to be killed.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");

	if ((base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	memset(&ms, 0, sizeof ms);
	ms.base = base;
	ms.children = child_list_new();
	ms.queue = stream_queue_new();
	sys.mountinfo = "/proc/self/mountinfo";
	sys.self = "/proc/self/cgroup";
	sys.pid = getpid();
	cgroup_plan_make(&sys, conf->cgroup, conf->socket, &plan);
	ms.cgroups = cgroup_root_new(base, &plan);
	cgroup_plan_clear(&plan);
	/* Session directories, like cgroups, are per socket path. */
	name = cgroup_base_name(conf->socket);
	state_dir = workdir_instance(conf->state_dir, name);
	free(name);
	memset(&bp, 0, sizeof bp);
	bp.base = base;
	bp.queue = ms.queue;
	bp.children = ms.children;
	bp.cgroups = ms.cgroups;
	bp.conf = conf;
	bp.config_path = config_path;
	bp.socket_override = socket_path;
	bp.level_override = level_name != NULL ? (int)level : -1;
	bp.state_dir = state_dir;
	ms.b = broker_new(&bp);
	/* Signals first: one sent as soon as the socket answers is ours. */
	ev_chld = evsignal_new(base, SIGCHLD, main_sigchld_cb, &ms);
	ev_term = evsignal_new(base, SIGTERM, main_sigterm_cb, &ms);
	ev_int = evsignal_new(base, SIGINT, main_sigterm_cb, &ms);
	ev_hup = evsignal_new(base, SIGHUP, main_sighup_cb, &ms);
	evsignal_add(ev_chld, NULL);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_hup, NULL);
	if ((ms.listener = listener_new(ms.b, conf->socket, conf->socket_mode,
	    conf->socket_group_set ? conf->socket_group : (gid_t)-1,
	    &cause)) == NULL)
		fatalx("%s", cause);
	if ((ms.http = http_new(ms.b, &cause)) == NULL)
		fatalx("%s", cause);
	listener_set_http(ms.listener, http_take_local, ms.http);
	main_contain(&ms);
	/* Only once the socket is ours: a second daemon fails before this. */
	main_clean_sessions(conf, state_dir, "left by a previous instance");
	ms.service = service_new(base, main_status_cb, &ms);
	broker_set_service(ms.b, ms.service);

	log_info("mcp-brokerd %s ready: %zu servers, max_sessions %d",
	    BROKER_VERSION, conf->nservers, conf->max_sessions);
	conf = NULL;	/* the broker owns it now; reload replaces it */
	service_ready(ms.service);
	/*
	 * Streams write what each read produced right after it; what timers,
	 * signals and deferred callbacks produced goes out after their turn
	 * (stream.c).
	 */
	while (event_base_loop(base, EVLOOP_ONCE) == 0) {
		stream_flush(ms.queue);
		if (event_base_got_exit(base) || event_base_got_break(base))
			break;
	}

	/*
	 * A signal from now on must not reach the broker being freed: not
	 * even SIGCHLD for the children an exit at once has just killed,
	 * whose reaping would finish their sessions inside it.
	 */
	evsignal_del(ev_chld);
	evsignal_del(ev_term);
	evsignal_del(ev_int);
	evsignal_del(ev_hup);
	service_free(ms.service);
	listener_free(ms.listener);
	http_free(ms.http);
	broker_free(ms.b);
	/* Run the deferred frees the last drops scheduled. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	cgroup_root_free(ms.cgroups);
	stream_queue_free(ms.queue);
	child_list_free(ms.children);
	main_clean_sessions(NULL, state_dir, "of sessions still running");
	free(state_dir);
	if (ms.exit_timer != NULL)
		event_free(ms.exit_timer);
	event_free(ev_chld);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	event_base_free(base);
	log_info("exited");
	return (0);
}
