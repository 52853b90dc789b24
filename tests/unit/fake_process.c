/*
 * The fake process: daemon/process.h with the test as the child.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "child.h"
#include "fake_process.h"
#include "frame.h"
#include "log.h"
#include "process.h"
#include "xmalloc.h"

/* Fake pids start here, so a test never mistakes one for a real one. */
#define FAKE_PROCESS_PID	40000

struct process {
	struct process_cbs	 cbs;
	void			*arg;
	char			**argv;		/* copied from the spec */
	size_t			 argc;
	pid_t			 pid;
	struct evbuffer		*in;		/* what the child was sent */
	int			 stdin_closed;
	unsigned		 closed;	/* order of process_close */
	int			 reaped;
	int			 status;
	int			 finished;
	cJSON			*stderr_tail;
	TAILQ_ENTRY(process)	 entry;
};

static TAILQ_HEAD(, process) fake_processes =
    TAILQ_HEAD_INITIALIZER(fake_processes);
static struct process	*fake_last;
static size_t		 fake_count;
static size_t		 fake_spawns;
static unsigned		 fake_closes;
static char		*fake_fail_cause;

static struct process *fake_process_new(pid_t, const struct process_cbs *,
		    void *);

/* A fake listed among the live ones. */
static struct process *
fake_process_new(pid_t pid, const struct process_cbs *cbs, void *arg)
{
	struct process	*p;

	p = xcalloc(1, sizeof *p);
	p->cbs = *cbs;
	p->arg = arg;
	p->pid = pid;
	p->in = evbuffer_new();
	p->stderr_tail = cJSON_CreateArray();
	TAILQ_INSERT_TAIL(&fake_processes, p, entry);
	fake_count++;
	fake_last = p;
	return (p);
}

/* Record the spec; fail instead if the test asked for it. */
struct process *
process_spawn(const struct process_env *env, const struct child_spec *spec,
    const struct log_ctx *ctx, const struct process_cbs *cbs, void *arg,
    char **cause)
{
	struct process	*p;
	size_t		 i;

	(void)env;
	(void)ctx;
	if (fake_fail_cause != NULL) {
		*cause = fake_fail_cause;
		fake_fail_cause = NULL;
		return (NULL);
	}
	fake_spawns++;
	p = fake_process_new((pid_t)(FAKE_PROCESS_PID + fake_spawns), cbs,
	    arg);
	while (spec->argv[p->argc] != NULL)
		p->argc++;
	p->argv = xcalloc(p->argc + 1, sizeof *p->argv);
	for (i = 0; i < p->argc; i++)
		p->argv[i] = xstrdup(spec->argv[i]);
	return (p);
}

/* Take over a "running" process: only its pid is kept. */
struct process *
process_adopt(const struct process_env *env, pid_t pid, const int fds[3],
    const struct log_ctx *ctx, const struct process_cbs *cbs, void *arg)
{
	(void)env;
	(void)fds;
	(void)ctx;
	fake_spawns++;
	return (fake_process_new(pid, cbs, arg));
}

/* Free the fake and take it off the list. */
void
process_free(struct process *p)
{
	size_t	i;

	TAILQ_REMOVE(&fake_processes, p, entry);
	fake_count--;
	if (fake_last == p)
		fake_last = NULL;
	for (i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
	evbuffer_free(p->in);
	cJSON_Delete(p->stderr_tail);
	free(p);
}

/* Write one message to the child; takes msg. Dropped once closing. */
void
process_send(struct process *p, cJSON *msg)
{
	if (!p->stdin_closed)
		frame_write(p->in, msg);
	cJSON_Delete(msg);
}

/* Where bytes for the child go; NULL once closing, as for a real one. */
struct evbuffer *
process_output(struct process *p)
{
	return (p->stdin_closed ? NULL : p->in);
}

/* Bytes were added to process_output(): they are simply kept. */
void
process_written(struct process *p)
{
	(void)p;
}

/* Closing begins: stdin is closed, the order is noted. */
void
process_close(struct process *p)
{
	if (p->closed == 0)
		p->closed = ++fake_closes;
	p->stdin_closed = 1;
}

/* The fake pid. */
pid_t
process_pid(struct process *p)
{
	return (p->pid);
}

/* The status set by fake_process_exit(), once it was called. */
int
process_status(struct process *p, int *status)
{
	if (p->reaped)
		*status = p->status;
	return (p->reaped);
}

/* A copy of the stderr lines the test set (the caller owns it). */
cJSON *
process_stderr_tail(struct process *p)
{
	return (cJSON_Duplicate(p->stderr_tail, 1));
}

/* The fake logs whatever its child writes. */
int
process_log_allow(struct process *p, size_t len)
{
	(void)p;
	(void)len;
	return (1);
}

/* Start counting again, for the next test in the same process. */
void
fake_process_reset(void)
{
	if (fake_count != 0)
		fatalx("fake_process_reset: %zu processes left", fake_count);
	fake_spawns = 0;
	fake_closes = 0;
	free(fake_fail_cause);
	fake_fail_cause = NULL;
}

/* The next spawn fails with cause. */
void
fake_process_fail_next(const char *cause)
{
	free(fake_fail_cause);
	fake_fail_cause = xstrdup(cause);
}

/* Processes not yet freed. */
size_t
fake_process_count(void)
{
	return (fake_count);
}

/* The n-th process not yet freed (0: the oldest), or NULL. */
struct process *
fake_process_nth(size_t n)
{
	struct process	*p;

	TAILQ_FOREACH(p, &fake_processes, entry) {
		if (n-- == 0)
			return (p);
	}
	return (NULL);
}

/* The process spawned last, unless freed. */
struct process *
fake_process_last(void)
{
	return (fake_last);
}

/* Spawns so far. */
size_t
fake_process_spawns(void)
{
	return (fake_spawns);
}

/* argv[i] of the spec, or NULL past its end. */
const char *
fake_process_arg(struct process *p, size_t i)
{
	return (i < p->argc ? p->argv[i] : NULL);
}

/* The next line the child was sent, parsed; NULL if none. */
cJSON *
fake_process_pop(struct process *p)
{
	cJSON	*msg;
	char	*line;
	size_t	 len;

	if ((line = evbuffer_readln(p->in, &len, EVBUFFER_EOL_LF)) == NULL)
		return (NULL);
	if ((msg = cJSON_ParseWithLength(line, len)) == NULL)
		msg = cJSON_CreateString(line);	/* shows up in a failure */
	free(line);
	return (msg);
}

/* Lines the child was sent and not popped. */
size_t
fake_process_waiting(struct process *p)
{
	const char	*data, *end;
	size_t		 n = 0;

	if (evbuffer_get_length(p->in) == 0)
		return (0);
	data = (const char *)evbuffer_pullup(p->in, -1);
	end = data + evbuffer_get_length(p->in);
	while ((data = memchr(data, '\n', (size_t)(end - data))) != NULL) {
		data++;
		n++;
	}
	return (n);
}

/* The child writes a line on its stdout. */
void
fake_process_line(struct process *p, const char *line)
{
	p->cbs.line(line, strlen(line), p->arg);
}

/* The child can no longer answer. */
void
fake_process_broken(struct process *p, const char *why)
{
	p->cbs.broken(why, p->arg);
}

/* The child was reaped with this wait status. */
void
fake_process_exit(struct process *p, int status)
{
	p->reaped = 1;
	p->status = status;
}

/* The child wrote a line on its stderr. */
void
fake_process_stderr(struct process *p, const char *line)
{
	cJSON_AddItemToArray(p->stderr_tail, cJSON_CreateString(line));
}

/*
 * The process is over, which means reaped (status 0 unless set). Said
 * once, as by a real one: finishing it again does nothing.
 */
void
fake_process_finish(struct process *p)
{
	if (p->finished)
		return;
	p->finished = 1;
	p->reaped = 1;
	p->cbs.finished(p->arg);
}

/* When closing began (1, 2, ... in order), or 0. */
unsigned
fake_process_closed(struct process *p)
{
	return (p->closed);
}
