/*
 * Integration test harness: start the real mcp-brokerd on a socket in a
 * temporary directory with a config the test writes, talk to it with the
 * blocking client, and look at its child processes through /proc.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <cJSON.h>

#include "client.h"

/* How long a test waits for one answer by default. */
#define HARNESS_TIMEOUT_MS	15000

struct daemon {
	pid_t	 pid;
	char	 dir[256];	/* temporary directory, removed at stop */
	char	 bin[256];	/* copies of the binaries, or "" */
	char	 sock[300];
	char	 config[300];
	char	 log[300];
};

/* What one run of a program did (harness_run). */
struct harness_run {
	char	*out;		/* stdout, NUL-terminated */
	char	*err;		/* stderr, NUL-terminated */
	int	 status;	/* exit status, or -1 if it did not exit */
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
TCase		*harness_add_tcase(Suite *, const char *, void (*)(void),
		     void (*)(void), int);
int		 harness_run_suite(Suite *);

char		*config_text(const char *, const char *);
void		 write_file(const char *, const char *);
int		 file_contains(const char *, const char *);

struct daemon	*daemon_start(const char *, const char *);
struct daemon	*daemon_start_config(const char *);
struct daemon	*daemon_start_limited(const char *,
		     const struct daemon_limits *);
void		 daemon_write_config(struct daemon *, const char *);
int		 daemon_stop(struct daemon *);
void		 daemon_stop_ok(struct daemon *);
void		 daemon_kill(struct daemon *);
void		 daemon_restart(struct daemon *);
void		 daemon_dump_log(struct daemon *);
int		 daemon_alive(struct daemon *);
int		 log_count(struct daemon *, const char *, ...)
		     __attribute__((sentinel));
int		 wait_log(struct daemon *, int, const char *, ...)
		     __attribute__((sentinel));

struct client	*daemon_connect(struct daemon *);
cJSON		*rpc(struct client *, const char *, const char *);
cJSON		*tool_call(struct client *, const char *, const char *,
		     const char *, const char *);
void		 send_line(struct client *, const char *);
void		 send_call(struct client *, long, const char *, const char *,
		     const char *, const char *, const char *);
void		 send_call_as(struct client *, cJSON *, const char *,
		     const char *, const char *, const char *, const char *);
cJSON		*recv_msg(struct client *);
char		*recv_line(struct client *);
cJSON		*result_of(cJSON *);
int		 error_code(cJSON *);
cJSON		*error_data(cJSON *);
double		 json_number(cJSON *, const char *);
const char	*json_string(cJSON *, const char *);
int		 count_of(cJSON *);
pid_t		 pid_of(cJSON *);
int		 generation_of(cJSON *);
const char	*session_id_of(cJSON *);
int		 tail_has(cJSON *, const char *);

cJSON		*session_of(struct client *, const char *, const char *);
pid_t		 session_pid(struct client *, const char *, const char *);
int		 in_flight_of(struct client *, const char *, const char *);
void		 wait_in_flight(struct client *, const char *, const char *,
		     int);
int		 session_count(struct client *);
int		 status_counter(struct client *, const char *);
int		 close_sessions(struct client *, const char *);

long		 now_ms(void);
int		 pid_alive(pid_t);
int		 wait_pid_gone(pid_t, int);
int		 children_of(pid_t, pid_t *, int, int *);
int		 wait_no_children(pid_t, int);
void		 sleep_ms(int);

void		 harness_run(struct harness_run *, const char *,
		     const char *const *, const char *const *, const char *,
		     int);
void		 harness_run_free(struct harness_run *);
int		 harness_drain(int, char **, size_t *);
int		 harness_find_program(const char *, char *, size_t);
int		 harness_free_port(void);

#endif
