/*
 * Child processes: spawn an MCP server without a shell in its own process
 * group with its stdio on pipes (or adopt one already running), signal its
 * group, and reap it.
 *
 * One SIGCHLD handler (main) calls child_reap(), which loops waitpid() and
 * hands each exit to the owner's callback. Because the daemon is a child
 * subreaper, orphaned grandchildren are reaped there too, and stay its
 * descendants, so child_kill_tree can find every process a session
 * started even without cgroups: each child carries CHILD_TAG_ENV, which
 * its descendants inherit.
 */
#ifndef DAEMON_CHILD_H
#define DAEMON_CHILD_H

#include <sys/types.h>

struct child;
struct child_list;

typedef void (*child_exit_cb)(struct child *, int, void *);

/* The variable naming a child's session, for finding its descendants. */
#define CHILD_TAG_ENV		"MCP_BROKER_SESSION"
/* Times child_kill_tree looks again for processes forked meanwhile. */
#define CHILD_KILL_PASSES	4
/* Bytes of a process's environment child_kill_tree reads. */
#define CHILD_ENVIRON_MAX	262144

struct child_spec {
	char *const	*argv;		/* argv[0] is the command */
	char *const	*env;		/* "NAME=value" merged over the base */
	const char	*cwd;		/* NULL: inherit */
	const char	*tag;		/* CHILD_TAG_ENV's value, or NULL */
	int		 join_fd;	/* a cgroup.procs to join, or -1 */
};

struct child_list *child_list_new(void);
void		 child_list_free(struct child_list *);
size_t		 child_list_count(struct child_list *);

struct child	*child_spawn(struct child_list *, const struct child_spec *,
		     child_exit_cb, void *, char **);
struct child	*child_adopt(struct child_list *, pid_t, const int [3],
		     child_exit_cb, void *);
void		 child_free(struct child *);
pid_t		 child_pid(struct child *);
int		 child_take_stdin(struct child *);
int		 child_take_stdout(struct child *);
int		 child_take_stderr(struct child *);
int		 child_kill_group(struct child *, int);
int		 child_kill_tree(const char *);

void		 child_reap(struct child_list *);
char		*child_describe_status(int);

#endif
