/*
 * Integration test harness: start the real mcp-brokerd on a socket in a
 * temporary directory with a config the test writes, talk to it with the
 * blocking client, and look at its child processes through /proc.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <sys/types.h>
#include <sys/wait.h>

#include <cJSON.h>

#include "client.h"

/* How long a test waits for one answer by default. */
#define HARNESS_TIMEOUT_MS	15000

struct daemon {
	pid_t	 pid;
	char	 dir[256];	/* temporary directory, removed at stop */
	char	 sock[300];
	char	 config[300];
	char	 log[300];
};

/* What daemon_start_limited() imposes; 0 leaves a field alone. */
struct daemon_limits {
	unsigned long	 nofile;	/* RLIMIT_NOFILE */
	unsigned long	 nproc;		/* RLIMIT_NPROC (set after uid) */
	uid_t		 uid;		/* run as this user (and group) */
};

const char	*harness_build_path(const char *);
const char	*harness_top_path(const char *);
const char	*harness_fake_mcp(void);

struct daemon	*daemon_start(const char *, const char *);
struct daemon	*daemon_start_config(const char *);
struct daemon	*daemon_start_limited(const char *,
		     const struct daemon_limits *);
int		 daemon_stop(struct daemon *);
void		 daemon_kill(struct daemon *);
void		 daemon_dump_log(struct daemon *);
int		 daemon_alive(struct daemon *);

struct client	*daemon_connect(struct daemon *);
cJSON		*rpc(struct client *, const char *, const char *);
cJSON		*tool_call(struct client *, const char *, const char *,
		     const char *, const char *);
cJSON		*result_of(cJSON *);
int		 error_code(cJSON *);
cJSON		*error_data(cJSON *);
double		 json_number(cJSON *, const char *);
const char	*json_string(cJSON *, const char *);

int		 pid_alive(pid_t);
int		 wait_pid_gone(pid_t, int);
int		 children_of(pid_t, pid_t *, int, int *);
int		 wait_no_children(pid_t, int);
void		 sleep_ms(int);

#endif
