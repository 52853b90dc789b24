/*
 * mcp-brokerctl's shared parts: exit statuses, one request and its
 * answer, and how the daemon's texts reach the terminal. Each command
 * that needs more than a screen lives in a file of its own (ctl_logs.c,
 * ctl_top.c, ctl_bridge.c) and is listed in ctl.c's table.
 */
#ifndef DAEMON_CTL_H
#define DAEMON_CTL_H

#include <stddef.h>
#include <stdio.h>

#include <cJSON.h>

struct client;

#define CTL_EXIT_OK		0
#define CTL_EXIT_ANSWER		1
#define CTL_EXIT_USAGE		2
/* How long the ctl waits for an answer (a first call may start a server). */
#define CTL_TIMEOUT_MS		(10 * 60 * 1000)
/* How names and messages in rows are escaped (text keeps its lines). */
#define CTL_ESCAPE_ROW		ESCAPE_BACKSLASH

void	 ctl_usage(void) __attribute__((noreturn));
int	 ctl_request(struct client *, const char *, cJSON *, cJSON **);
int	 ctl_answer(cJSON *, cJSON **);
void	 ctl_print_json(const cJSON *);
void	 ctl_fprint_json(FILE *, const cJSON *);
char	*ctl_text(const cJSON *, int);
char	*ctl_field(const cJSON *, const char *);
int	 ctl_json_flag(int *, char ***);
void	 ctl_duration(char *, size_t, double);

/* The commands with files of their own. */
int	 ctl_logs(struct client *, int, char **);
int	 ctl_top(struct client *, int, char **);
int	 ctl_metrics(struct client *, int, char **);
int	 ctl_bridge(struct client *, int, char **);

#endif
