/*
 * A process: one MCP server child with its three streams, the tail of its
 * stderr, and the escalation that ends it (stdin EOF, SIGTERM, SIGKILL of
 * its group). Everything it started is contained: in a cgroup of its own
 * if there are cgroups, killed with it once the child is reaped; else
 * every descendant carrying its session's tag is killed then. It reports
 * each line of stdout, that it broke or exited, and that it is over:
 * reaped, both pipes at EOF, nothing it started left. Its owner frees it
 * after that, never from inside one of its callbacks.
 */
#ifndef DAEMON_PROCESS_H
#define DAEMON_PROCESS_H

#include <sys/types.h>

#include <stddef.h>

#include <cJSON.h>

/* Lines of a child's stderr a process keeps, and bytes per line. */
#define PROCESS_STDERR_LINES	20
#define PROCESS_STDERR_LINE_MAX	1024
/*
 * What a child writes to the daemon's log (its stderr lines and its log
 * notifications) reaches it at most PROCESS_LOG_LINES lines and
 * PROCESS_LOG_BYTES bytes per PROCESS_LOG_WINDOW_S seconds; the rest is
 * counted and reported once per window. The tail sees every stderr line.
 */
#define PROCESS_LOG_LINES	100
#define PROCESS_LOG_BYTES	16384
#define PROCESS_LOG_WINDOW_S	10
/* Bytes queued for a child's stdin before the process counts as broken. */
#define PROCESS_STDIN_MAX_FACTOR 4

struct cgroup_limits;
struct cgroup_root;
struct child_list;
struct child_spec;
struct event_base;
struct evbuffer;
struct log_ctx;
struct process;
struct stream_queue;

/* What a process reports to its owner. arg is the owner's. */
struct process_cbs {
	/* One line of stdout (not NUL-terminated). */
	void	(*line)(const char *, size_t, void *);
	/* The process can no longer answer: why (NULL: it exited, or its
	   stdout ended), said once for a person. */
	void	(*broken)(const char *, void *);
	/* It is over: reaped, both pipes at EOF, nothing of it left. */
	void	(*finished)(void *);
};

/* Where a process runs and its bounds. */
struct process_env {
	struct event_base	*base;
	struct stream_queue	*queue;
	struct child_list	*children;
	size_t			 max_message;	/* longest stdout line */
	int			 grace_ms;	/* each close step */
	struct cgroup_root	*cgroups;	/* NULL: no containment */
	const struct cgroup_limits *limits;	/* the server's, or NULL */
	/* Told each stderr line (the session's id, the line as the tail
	   keeps it); NULL: nobody is told. */
	void			(*stderr_line)(const char *, const char *,
				    void *);
	void			*stderr_arg;
};

struct process	*process_spawn(const struct process_env *,
		     const struct child_spec *, const struct log_ctx *,
		     const struct process_cbs *, void *, char **);
struct process	*process_adopt(const struct process_env *, pid_t,
		     const int [3], const struct log_ctx *,
		     const struct process_cbs *, void *);
void		 process_free(struct process *);

void		 process_send(struct process *, cJSON *);
struct evbuffer	*process_output(struct process *);
void		 process_written(struct process *);
void		 process_close(struct process *);

pid_t		 process_pid(struct process *);
int		 process_status(struct process *, int *);
cJSON		*process_stderr_tail(struct process *);
int		 process_log_allow(struct process *, size_t);

#endif
