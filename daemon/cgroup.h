/*
 * Containment in cgroup v2: each session's processes live in a cgroup of
 * their own under one base directory per daemon, so closing a session
 * kills everything it started (cgroup.kill), wherever it setsid()'d to.
 *
 * The base is found once at start (cgroup_plan_make: the daemon's own
 * delegated cgroup, else a writable cgroup2 mount, else none) and set up
 * once the daemon owns its socket (cgroup_root_start), which also removes
 * the session cgroups a previous instance killed with SIGKILL left behind.
 * The base is named after the socket path, so daemons on other sockets
 * never touch each other's sessions.
 */
#ifndef DAEMON_CGROUP_H
#define DAEMON_CGROUP_H

#include <sys/types.h>

/* The base directory is this, then a hash of the socket path. */
#define CGROUP_BASE_PREFIX	"mcp-broker."
/* A session's cgroup is this, then the session id. */
#define CGROUP_SESSION_PREFIX	"session-"
/* Where the daemon moves itself in a delegated cgroup (a leaf). */
#define CGROUP_SUPERVISOR	"supervisor"
/* How often, and how many times, removing a killed cgroup is retried. */
#define CGROUP_REMOVE_POLL_MS	20
#define CGROUP_REMOVE_TRIES	250

struct event_base;
struct cgroup;
struct cgroup_root;

/* Per-server limits; 0 is unset. */
struct cgroup_limits {
	long long	 memory_max;	/* memory.max, bytes */
	int		 pids_max;	/* pids.max */
	int		 cpu_weight;	/* cpu.weight, 1-10000 */
};

/* The files a plan is made from (tests point them elsewhere). */
struct cgroup_sys {
	const char	*mountinfo;	/* /proc/self/mountinfo */
	const char	*self;		/* /proc/self/cgroup */
	pid_t		 pid;		/* the daemon's */
};

/* Where session cgroups go; base NULL means none. */
struct cgroup_plan {
	char	*base;		/* holds the session cgroups */
	char	*parent;	/* base's parent: controllers enabled there */
	char	*leaf;		/* where the daemon moves first, or NULL */
	char	*why;		/* what was chosen, or why nothing, in words */
};

typedef void (*cgroup_removed_cb)(void *);

int		 cgroup_parse_mountinfo(const char *, char **, char **);
int		 cgroup_parse_self(const char *, char **);
char		*cgroup_base_name(const char *);
void		 cgroup_plan_make(const struct cgroup_sys *, const char *,
		     const char *, struct cgroup_plan *);
void		 cgroup_plan_clear(struct cgroup_plan *);

struct cgroup_root *cgroup_root_new(struct event_base *,
		     const struct cgroup_plan *);
int		 cgroup_root_start(struct cgroup_root *, char **);
void		 cgroup_root_free(struct cgroup_root *);
const char	*cgroup_root_path(struct cgroup_root *);
const char	*cgroup_root_why(struct cgroup_root *);
void		 cgroup_root_kill_all(struct cgroup_root *);
void		 cgroup_limits_unapplied(const struct cgroup_limits *,
		     const char *, const char *);

struct cgroup	*cgroup_create(struct cgroup_root *, const char *,
		     const struct cgroup_limits *, const char *, char **);
int		 cgroup_join_fd(struct cgroup *);
void		 cgroup_join_done(struct cgroup *);
void		 cgroup_remove(struct cgroup *, cgroup_removed_cb, void *);
void		 cgroup_free(struct cgroup *);

#endif
