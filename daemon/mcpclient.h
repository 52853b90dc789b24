/*
 * The MCP client side of one session, as a state machine with no I/O of
 * its own: it is given the child's messages and hands back what to send.
 *
 *   probing      server/discover sent (protocol "auto" or "2026-07-28")
 *   initializing initialize sent (a handshake server)
 *   ready        the child's answers go to the requests that asked
 *   failed       the handshake failed; the owner ends the session
 *
 * It answers the child's ping and roots/list, passes sampling and
 * elicitation to its owner when the broker declared them, and keeps what
 * the child said about itself. Its state can be written out as JSON and
 * read back (mcpclient_save, mcpclient_load).
 */
#ifndef DAEMON_MCPCLIENT_H
#define DAEMON_MCPCLIENT_H

#include <stdint.h>

#include <cJSON.h>

#include "config.h"

/* How long protocol "auto" waits for server/discover before initialize. */
#define MCPCLIENT_DISCOVER_TIMEOUT_MS	2000

struct jsonrpc_msg;
struct log_ctx;
struct mcpclient;

enum mcpclient_phase {
	MCPCLIENT_PROBING,
	MCPCLIENT_INITIALIZING,
	MCPCLIENT_READY,
	MCPCLIENT_FAILED,
};

/* What the state machine asks of its owner. arg is the owner's. */
struct mcpclient_cbs {
	/* Write a message (taken) to the child. */
	void	(*send)(cJSON *, void *);
	/* initialize was sent: wait for it until the start deadline. */
	void	(*waiting)(void *);
	/* The handshake is done. */
	void	(*ready)(void *);
	/* The handshake failed, for a reason a person reads. */
	void	(*failed)(const char *, void *);
	/* The child asks a client: sampling (1) or elicitation (0). */
	void	(*upcall)(struct jsonrpc_msg *, int, void *);
	/* The child reported progress for its token. */
	void	(*progress)(const cJSON *, double, void *);
	/* The child withdrew one of its own requests (its id). */
	void	(*cancelled)(const cJSON *, void *);
	/* Whether a log message of so many bytes may reach the log now. */
	int	(*may_log)(size_t, void *);
	/* A notification for the clients (a log message, a list change,
	   a resource update); NULL: none takes them. */
	void	(*notify)(struct jsonrpc_msg *, void *);
	/* A task's status (notifications/tasks/status) for its clients. */
	void	(*task_status)(void *);
	/* A notification for a subscription (it carries its id) for the
	   subscriber; -1: none has that id. */
	int	(*listen)(void *);
	/* notifications/elicitation/complete, for the client asked. */
	void	(*elicited)(void *);
};

struct mcpclient *mcpclient_new(const struct server_conf *,
		     const struct log_ctx *, const struct mcpclient_cbs *,
		     void *);
void		 mcpclient_free(struct mcpclient *);
int		 mcpclient_start(struct mcpclient *, int);
int		 mcpclient_timeout(struct mcpclient *);

enum mcpclient_phase mcpclient_phase(struct mcpclient *);
int64_t		 mcpclient_next_id(struct mcpclient *);
int		 mcpclient_modern(struct mcpclient *);
const char	*mcpclient_version(struct mcpclient *);
int		 mcpclient_needs_prepare(struct mcpclient *, const char *,
		     size_t);
int		 mcpclient_answers(struct mcpclient *, const char *,
		     size_t);
char		*mcpclient_prepare(struct mcpclient *, const char *, size_t,
		     size_t *);

int		 mcpclient_response(struct mcpclient *, struct jsonrpc_msg *);
void		 mcpclient_request(struct mcpclient *, struct jsonrpc_msg *);
void		 mcpclient_notification(struct mcpclient *,
		     struct jsonrpc_msg *);

void		 mcpclient_describe(struct mcpclient *, cJSON *);
cJSON		*mcpclient_save(struct mcpclient *);
struct mcpclient *mcpclient_load(const cJSON *, const struct log_ctx *,
		     const struct mcpclient_cbs *, void *);

#endif
