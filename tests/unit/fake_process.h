/*
 * A fake of daemon/process.h for unit tests: no fork, no fds. The test
 * plays the child: it reads what was written to it, feeds its stdout,
 * breaks it, sets how it exited and finishes it. Each fake is freed by
 * process_free(), as a real process is.
 */
#ifndef TESTS_FAKE_PROCESS_H
#define TESTS_FAKE_PROCESS_H

#include <stddef.h>

#include <cJSON.h>

struct process;

/* Count spawns and closes from zero again (with no process left). */
void		 fake_process_reset(void);

/* The next process_spawn() fails with cause (copied). */
void		 fake_process_fail_next(const char *);

/* Processes spawned and not yet freed, oldest first. */
size_t		 fake_process_count(void);
struct process	*fake_process_nth(size_t);
/* The one spawned last, or NULL if it was freed. */
struct process	*fake_process_last(void);
/* Spawns so far, freed or not. */
size_t		 fake_process_spawns(void);

/* The spec it was spawned with. */
const char	*fake_process_arg(struct process *, size_t);

/* The next line written to the child, parsed (the caller owns it), or
   NULL if none is waiting. */
cJSON		*fake_process_pop(struct process *);
/* Lines written to the child and not popped yet. */
size_t		 fake_process_waiting(struct process *);

/* Play the child: a line on stdout, a broken pipe (why may be NULL). */
void		 fake_process_line(struct process *, const char *);
void		 fake_process_broken(struct process *, const char *);
/* How it exited (a wait status) and a line of its stderr tail. */
void		 fake_process_exit(struct process *, int);
void		 fake_process_stderr(struct process *, const char *);
/* It is over: reaped and both pipes at EOF (said once; again: nothing). */
void		 fake_process_finish(struct process *);

/* When process_close() was first called: 1 for the first process to be
   closed, 2 for the next, ...; 0 if it was not. */
unsigned	 fake_process_closed(struct process *);

#endif
