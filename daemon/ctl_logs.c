/*
 * mcp-brokerctl logs SERVER THREAD [-f]: a session's stderr tail, and
 * with -f every new line as the daemon pushes it, until the session is
 * over (exit 0, "-- session ended: why" on stderr) or SIGINT or SIGTERM
 * (exit 0, quietly). Lines reach the terminal escaped as rows are.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "escape.h"
#include "jsonrpc.h"
#include "xmalloc.h"

/* The id of the follow request (the only request this command sends). */
#define CTL_LOGS_ID	"logs"

static void	ctl_logs_print(const cJSON *);
static void	ctl_logs_signal(int);
static int	ctl_logs_follow(struct client *, cJSON *);
static int	ctl_logs_answer(cJSON *);

/* Print one stderr line, escaped, and flush it out at once. */
static void
ctl_logs_print(const cJSON *line)
{
	char	*safe;

	safe = ctl_text(line, CTL_ESCAPE_ROW);
	printf("%s\n", safe);
	fflush(stdout);
	free(safe);
}

/* SIGINT or SIGTERM while following: stop, as asked, with success. */
static void
ctl_logs_signal(int sig)
{
	(void)sig;
	_exit(CTL_EXIT_OK);
}

/*
 * The answer to the follow: an error (printed; CTL_EXIT_ANSWER) or
 * {"ended": why}, said on stderr. Takes msg.
 */
static int
ctl_logs_answer(cJSON *msg)
{
	cJSON	*result;
	char	*text;
	int	 rc;

	if ((rc = ctl_answer(msg, &result)) != CTL_EXIT_OK)
		return (rc);
	text = ctl_text(cJSON_GetObjectItemCaseSensitive(result, "ended"),
	    CTL_ESCAPE_ROW);
	fprintf(stderr, "-- session ended: %s\n", text);
	free(text);
	cJSON_Delete(result);
	return (CTL_EXIT_OK);
}

/*
 * Send broker/logs with follow (params taken) and print each broker/log
 * line until the request is answered.
 */
static int
ctl_logs_follow(struct client *c, cJSON *params)
{
	struct sigaction	 sa;
	cJSON			*req, *msg, *id, *method;
	char			*cause;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ctl_logs_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	cJSON_AddTrueToObject(params, "follow");
	req = jsonrpc_request(cJSON_CreateString(CTL_LOGS_ID), "broker/logs",
	    params);
	if (client_send(c, req, &cause) != 0) {
		cJSON_Delete(req);
		fprintf(stderr, "mcp-brokerctl: %s\n", cause);
		free(cause);
		return (CTL_EXIT_USAGE);
	}
	cJSON_Delete(req);
	for (;;) {
		if ((msg = client_recv(c, -1, &cause)) == NULL) {
			fprintf(stderr, "mcp-brokerctl: %s\n", cause);
			free(cause);
			return (CTL_EXIT_USAGE);
		}
		method = cJSON_GetObjectItemCaseSensitive(msg, "method");
		id = cJSON_GetObjectItemCaseSensitive(msg, "id");
		if (cJSON_IsString(method) &&
		    strcmp(method->valuestring, "broker/log") == 0)
			ctl_logs_print(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(msg, "params"),
			    "line"));
		else if (method == NULL && cJSON_IsString(id) &&
		    strcmp(id->valuestring, CTL_LOGS_ID) == 0)
			return (ctl_logs_answer(msg));
		cJSON_Delete(msg);
	}
}

/* logs: the tail of a session's stderr; with -f, new lines as they come. */
int
ctl_logs(struct client *c, int argc, char **argv)
{
	cJSON		*params, *r, *line;
	const char	*names[2];
	int		 i, n = 0, follow = 0, rc;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 ||
		    strcmp(argv[i], "--follow") == 0)
			follow = 1;
		else if (argv[i][0] == '-' || n == 2)
			ctl_usage();
		else
			names[n++] = argv[i];
	}
	if (n != 2)
		ctl_usage();
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", names[0]);
	cJSON_AddStringToObject(params, "thread", names[1]);
	if (follow)
		return (ctl_logs_follow(c, params));
	if ((rc = ctl_request(c, "broker/logs", params, &r)) != CTL_EXIT_OK)
		return (rc);
	cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(r, "lines"))
		ctl_logs_print(line);
	cJSON_Delete(r);
	return (CTL_EXIT_OK);
}
