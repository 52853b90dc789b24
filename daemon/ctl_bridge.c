/*
 * mcp-brokerctl bridge SERVER [THREAD]: an MCP stdio server for whatever
 * host started it (Claude Desktop, Cursor, the Inspector, an SDK's stdio
 * client), backed by the broker's session for SERVER and THREAD (THREAD
 * defaults to $MCP_BROKER_THREAD).
 *
 * One poll() loop moves newline-delimited JSON-RPC between stdin/stdout
 * and the broker's socket. The bridge answers initialize itself from the
 * session (starting it) after declaring the host's sampling and
 * elicitation with broker/hello, absorbs notifications/initialized,
 * answers ping, and adds server and thread to every other request, whose
 * text otherwise passes byte for byte (ids included: the broker echoes
 * them as written). Whatever the broker sends that answers none of the
 * host's requests (progress, server-to-client requests) reaches the host
 * as it is, and the host's answers to those go back the same way.
 *
 * Nothing but MCP messages is written on stdout; diagnostics go to
 * stderr. Stdin's end: the answers still in flight get BRIDGE_DRAIN_MS,
 * then exit 0, the session left running. The broker's connection lost:
 * every request in flight is answered -32603 naming the socket, exit 1.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "client.h"
#include "clock.h"
#include "ctl.h"
#include "errors.h"
#include "escape.h"
#include "frame.h"
#include "jsonrpc.h"
#include "mcp.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

/* Longest line taken from the host, and longest request sent on: the
   daemon's max_message_bytes default (16 MiB). */
#define BRIDGE_MAX_MESSAGE	(16u * 1024 * 1024)
/* Bytes waiting to go either way before the bridge stops reading the
   side that feeds them (the daemon's own output bound). */
#define BRIDGE_MAX_BUFFERED	(4u * BRIDGE_MAX_MESSAGE)
/* Host requests in flight before the bridge stops reading stdin. */
#define BRIDGE_MAX_PENDING	1024
/* How long answers still in flight are awaited once stdin has ended. */
#define BRIDGE_DRAIN_MS		1500
/* How long output still unwritten is given at exit. */
#define BRIDGE_FLUSH_MS		1000
/* Bytes read at once from either side. */
#define BRIDGE_READ_SIZE	65536
/* Bytes of an over-long line searched for its id. */
#define BRIDGE_ID_PEEK		4096
/* The bridge's own request ids: strings no SDK uses. */
#define BRIDGE_ID_PREFIX	"mcp-brokerctl-bridge/"

/* Append a string literal to an evbuffer. */
#define BRIDGE_ADD(out, s)	evbuffer_add((out), (s), sizeof (s) - 1)

/* Who a request to the broker is for. */
enum bridge_kind {
	BRIDGE_HOST,		/* the host's own request, passed on */
	BRIDGE_HELLO,		/* broker/hello for the host's initialize */
	BRIDGE_SESSION,		/* broker/session for the host's initialize */
};

/* A request sent to the broker and not yet answered. */
struct bridge_call {
	enum bridge_kind	 kind;
	char			*id;		/* its id as on the wire */
	char			*host_id;	/* initialize's id (hello,
						   session) */
	char			*version;	/* initialize's answer
						   protocolVersion */
	TAILQ_ENTRY(bridge_call) entry;
};
TAILQ_HEAD(bridge_calls, bridge_call);

/* The bridge: both sides, their buffers, the calls in flight. */
struct bridge {
	int			 fd;		/* the broker's socket */
	char			*socket;	/* its path, for messages */
	char			*route[2];	/* server and thread as JSON */
	const char		*server;
	const char		*thread;
	struct evbuffer		*host_in;
	struct evbuffer		*host_out;
	struct evbuffer		*broker_in;
	struct evbuffer		*broker_out;
	struct frame		 host_frame;
	struct frame		 broker_frame;
	int			 host_eof;
	int			 host_gone;	/* stdout broke */
	int			 skipping;	/* rest of an over-long line */
	unsigned long		 next_id;
	struct bridge_calls	 calls;
	size_t			 ncalls;
};

static void	 bridge_nonblock(int);
static char	*bridge_json_string(const char *);
static char	*bridge_socket_path(int);
static struct bridge_call *bridge_call_add(struct bridge *,
		     enum bridge_kind, const char *, size_t);
static void	 bridge_call_free(struct bridge *, struct bridge_call *);
static void	 bridge_to_host(struct bridge *, const char *, size_t);
static void	 bridge_host_error(struct bridge *, const char *, int,
		     const char *);
static void	 bridge_send_own(struct bridge *, enum bridge_kind,
		     const char *, cJSON *, const char *, const char *);
static void	 bridge_initialize(struct bridge *, struct jsonrpc_msg *);
static void	 bridge_forward(struct bridge *, struct jsonrpc_msg *);
static void	 bridge_host_notification(struct bridge *,
		     struct jsonrpc_msg *);
static void	 bridge_host_line(struct bridge *, const char *, size_t);
static void	 bridge_host_too_long(struct bridge *);
static void	 bridge_host_lines(struct bridge *);
static void	 bridge_hello_answer(struct bridge *, struct bridge_call *);
static void	 bridge_session_answer(struct bridge *,
		     struct bridge_call *, const char *, size_t);
static void	 bridge_broker_line(struct bridge *, const char *, size_t);
static int	 bridge_broker_lines(struct bridge *);
static int	 bridge_lost(struct bridge *, const char *);
static void	 bridge_flush(struct bridge *);
static int	 bridge_loop(struct bridge *);

/* Make a pipe or socket non-blocking (a terminal or file is left as is:
   it may be shared with other processes). */
static void
bridge_nonblock(int fd)
{
	struct stat	st;
	int		flags;

	if (fstat(fd, &st) != 0 || !(S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)))
		return;
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* s as a JSON string text (caller frees). */
static char *
bridge_json_string(const char *s)
{
	cJSON	*item;
	char	*text;

	item = cJSON_CreateString(s);
	text = cJSON_PrintUnformatted(item);
	cJSON_Delete(item);
	return (text);
}

/* The path of the socket fd is connected to, escaped (caller frees). */
static char *
bridge_socket_path(int fd)
{
	struct sockaddr_un	sun;
	socklen_t		len = sizeof sun;

	memset(&sun, 0, sizeof sun);
	if (getpeername(fd, (struct sockaddr *)&sun, &len) != 0 ||
	    sun.sun_path[0] == '\0')
		return (xstrdup("(unknown)"));
	sun.sun_path[sizeof sun.sun_path - 1] = '\0';
	return (escape_dup(sun.sun_path, strlen(sun.sun_path), 0));
}

/* List a request to the broker under the id text id (copied). */
static struct bridge_call *
bridge_call_add(struct bridge *b, enum bridge_kind kind, const char *id,
    size_t len)
{
	struct bridge_call	*call;

	call = xcalloc(1, sizeof *call);
	call->kind = kind;
	call->id = xstrndup(id, len);
	TAILQ_INSERT_TAIL(&b->calls, call, entry);
	b->ncalls++;
	return (call);
}

/* Take a call off the list and free it. */
static void
bridge_call_free(struct bridge *b, struct bridge_call *call)
{
	TAILQ_REMOVE(&b->calls, call, entry);
	b->ncalls--;
	free(call->id);
	free(call->host_id);
	free(call->version);
	free(call);
}

/* Queue one line (without its newline) for the host. */
static void
bridge_to_host(struct bridge *b, const char *line, size_t len)
{
	if (b->host_gone)
		return;
	evbuffer_add(b->host_out, line, len);
	evbuffer_add(b->host_out, "\n", 1);
}

/* Answer the host's id (a JSON text; NULL: null) with an error. */
static void
bridge_host_error(struct bridge *b, const char *id, int code,
    const char *message)
{
	char	*line;
	size_t	 len;

	line = wire_error_line(id, code, message, &len);
	if (!b->host_gone)
		evbuffer_add(b->host_out, line, len);
	free(line);
}

/*
 * Send the broker one of the bridge's own requests (params taken) for
 * the host's initialize host_id, to be answered with version.
 */
static void
bridge_send_own(struct bridge *b, enum bridge_kind kind, const char *method,
    cJSON *params, const char *host_id, const char *version)
{
	struct bridge_call	*call;
	cJSON			*req;
	char			*id;

	xasprintf(&id, "\"" BRIDGE_ID_PREFIX "%lu\"", b->next_id++);
	call = bridge_call_add(b, kind, id, strlen(id));
	call->host_id = xstrdup(host_id);
	call->version = xstrdup(version);
	req = jsonrpc_request(jsonrpc_id_raw(id, strlen(id)), method, params);
	frame_write(b->broker_out, req);
	cJSON_Delete(req);
	free(id);
}

/*
 * The host's initialize: declare what it can answer (sampling,
 * elicitation) and that it takes notifications with broker/hello; the
 * session's answer follows.
 */
static void
bridge_initialize(struct bridge *b, struct jsonrpc_msg *msg)
{
	const cJSON	*version, *caps;
	cJSON		*params;
	char		*id;
	const char	*answer = MCP_VERSION_HANDSHAKE;

	version = cJSON_GetObjectItemCaseSensitive(msg->params,
	    "protocolVersion");
	if (cJSON_IsString(version) &&
	    mcp_handshake_version(version->valuestring))
		answer = version->valuestring;
	caps = cJSON_GetObjectItemCaseSensitive(msg->params, "capabilities");
	params = cJSON_CreateObject();
	/* The host is an MCP client: it takes the server's notifications. */
	cJSON_AddTrueToObject(params, "notifications");
	/* All of them: the broker routes by the sub-capabilities. */
	if (cJSON_IsObject(caps))
		cJSON_AddItemToObject(params, "capabilities",
		    cJSON_Duplicate(caps, 1));
	id = xstrndup(msg->id_text, msg->id_len);
	bridge_send_own(b, BRIDGE_HELLO, "broker/hello", params, id, answer);
	free(id);
}

/*
 * A request from the host for the session: params.server and
 * params.thread set on its text, the rest as the host wrote it.
 */
static void
bridge_forward(struct bridge *b, struct jsonrpc_msg *msg)
{
	char			*id, *line;
	size_t			 len;

	id = xstrndup(msg->id_text, msg->id_len);
	if ((line = wire_route(msg->line, msg->line_len, b->route[0],
	    b->route[1], 1, &len)) == NULL) {
		bridge_host_error(b, id, RPC_INVALID_PARAMS, "params must be "
		    "an object (the bridge adds server and thread to it).");
		free(id);
		return;
	}
	if (len - 1 > BRIDGE_MAX_MESSAGE) {
		bridge_host_error(b, id, RPC_INVALID_REQUEST, "The message "
		    "with server and thread added is longer than 16777216 "
		    "bytes (BRIDGE_MAX_MESSAGE, the broker's "
		    "max_message_bytes); it was not sent.");
		free(line);
		free(id);
		return;
	}
	bridge_call_add(b, BRIDGE_HOST, msg->id_text, msg->id_len);
	evbuffer_add(b->broker_out, line, len);
	free(line);
	free(id);
}

/*
 * A notification from the host: initialized is the bridge's to absorb;
 * cancelled and progress name their request by id or token, as they
 * are; others get server and thread (params an object) for the session.
 */
static void
bridge_host_notification(struct bridge *b, struct jsonrpc_msg *msg)
{
	char			*line;
	size_t			 len;

	if (strcmp(msg->method, "notifications/initialized") == 0)
		return;
	if (strcmp(msg->method, "notifications/cancelled") == 0 ||
	    strcmp(msg->method, "notifications/progress") == 0 ||
	    (msg->params != NULL && !cJSON_IsObject(msg->params))) {
		evbuffer_add(b->broker_out, msg->line, msg->line_len);
		evbuffer_add(b->broker_out, "\n", 1);
		return;
	}
	if ((line = wire_route(msg->line, msg->line_len, b->route[0],
	    b->route[1], 1, &len)) == NULL || len - 1 > BRIDGE_MAX_MESSAGE) {
		free(line);
		return;		/* nobody to tell: a notification */
	}
	evbuffer_add(b->broker_out, line, len);
	free(line);
}

/*
 * One line from the host. What is not a message gets its error here,
 * except a malformed answer to a server's request: the broker judges
 * those and tells the server at once.
 */
static void
bridge_host_line(struct bridge *b, const char *data, size_t len)
{
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;
	struct scan_member	 m;
	char			*id;

	if (jsonrpc_parse(data, len, &msg, &fault) != 0) {
		if (fault.grammar_ok && fault.id != NULL &&
		    scan_find(data, len, "method", &m) != 0) {
			evbuffer_add(b->broker_out, data, len);
			evbuffer_add(b->broker_out, "\n", 1);
		} else
			bridge_host_error(b, fault.id != NULL ?
			    fault.id->valuestring : NULL, fault.code,
			    fault.message);
		jsonrpc_fault_clear(&fault);
		return;
	}
	switch (msg.kind) {
	case JSONRPC_REQUEST:
		if (strcmp(msg.method, "initialize") == 0)
			bridge_initialize(b, &msg);
		else if (strcmp(msg.method, "ping") == 0) {
			id = xstrndup(msg.id_text, msg.id_len);
			evbuffer_add_printf(b->host_out,
			    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}\n",
			    id);
			free(id);
		} else
			bridge_forward(b, &msg);
		break;
	case JSONRPC_NOTIFICATION:
		bridge_host_notification(b, &msg);
		break;
	case JSONRPC_RESPONSE:
		/* An answer to a server's request: the broker's id. */
		evbuffer_add(b->broker_out, data, len);
		evbuffer_add(b->broker_out, "\n", 1);
		break;
	}
	jsonrpc_msg_clear(&msg);
}

/*
 * A host line over BRIDGE_MAX_MESSAGE: answered -32600 (under its id if
 * one came before the cut), and skipped up to its newline.
 */
static void
bridge_host_too_long(struct bridge *b)
{
	struct scan_span	 id = { NULL, 0 };
	size_t			 have;
	char			*text = NULL;
	int			 lone;

	have = evbuffer_get_length(b->host_in);
	if (have > BRIDGE_ID_PEEK)
		have = BRIDGE_ID_PEEK;
	(void)scan_line((const char *)evbuffer_pullup(b->host_in, have), have,
	    &id, &lone);
	if (id.p != NULL)
		text = xstrndup(id.p, id.len);
	bridge_host_error(b, text, RPC_INVALID_REQUEST, "The message is "
	    "longer than 16777216 bytes (BRIDGE_MAX_MESSAGE, the broker's "
	    "max_message_bytes); it was skipped.");
	free(text);
	b->skipping = 1;
}

/* Take every complete line the host has sent. */
static void
bridge_host_lines(struct bridge *b)
{
	struct frame_line	 line;
	struct evbuffer_ptr	 nl;

	for (;;) {
		if (b->skipping) {
			nl = evbuffer_search(b->host_in, "\n", 1, NULL);
			if (nl.pos == -1) {
				evbuffer_drain(b->host_in,
				    evbuffer_get_length(b->host_in));
				return;
			}
			evbuffer_drain(b->host_in, (size_t)nl.pos + 1);
			b->host_frame.scanned = 0;
			b->skipping = 0;
		}
		switch (frame_next(&b->host_frame, b->host_in, &line)) {
		case FRAME_LINE:
			bridge_host_line(b, line.data, line.len);
			frame_done(&b->host_frame, b->host_in, &line);
			break;
		case FRAME_TOO_LONG:
			bridge_host_too_long(b);
			break;
		case FRAME_AGAIN:
			return;
		}
	}
}

/* broker/hello answered (an error only costs sampling): on to the session. */
static void
bridge_hello_answer(struct bridge *b, struct bridge_call *call)
{
	cJSON	*params;

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", b->server);
	cJSON_AddStringToObject(params, "thread", b->thread);
	cJSON_AddTrueToObject(params, "create");
	bridge_send_own(b, BRIDGE_SESSION, "broker/session", params,
	    call->host_id, call->version);
}

/*
 * broker/session answered: the host's initialize gets the session's
 * server info, capabilities and instructions as the daemon wrote them,
 * or the daemon's error (code, message, data) as it is.
 */
static void
bridge_session_answer(struct bridge *b, struct bridge_call *call,
    const char *line, size_t len)
{
	if (b->host_gone)
		return;
	mcp_initialize_answer(b->host_out, call->host_id, call->version,
	    b->route[0], line, len);
	BRIDGE_ADD(b->host_out, "\n");
}

/*
 * One line from the broker: an answer to a call in flight (the host's,
 * passed on as it is, or the bridge's own), or anything else the broker
 * sends, which the host gets as it is.
 */
static void
bridge_broker_line(struct bridge *b, const char *line, size_t len)
{
	struct scan_member	 m;
	struct bridge_call	*call;

	if (scan_find(line, len, "method", &m) != 0 &&
	    scan_find(line, len, "id", &m) == 0) {
		TAILQ_FOREACH(call, &b->calls, entry) {
			if (strlen(call->id) == m.value.len &&
			    memcmp(call->id, m.value.p, m.value.len) == 0)
				break;
		}
		if (call != NULL && call->kind == BRIDGE_HELLO) {
			bridge_hello_answer(b, call);
			bridge_call_free(b, call);
			return;
		}
		if (call != NULL && call->kind == BRIDGE_SESSION) {
			bridge_session_answer(b, call, line, len);
			bridge_call_free(b, call);
			return;
		}
		if (call != NULL)
			bridge_call_free(b, call);
	}
	bridge_to_host(b, line, len);
}

/* Take every complete line the broker has sent; -1 if one is too long. */
static int
bridge_broker_lines(struct bridge *b)
{
	struct frame_line	 line;

	for (;;) {
		switch (frame_next(&b->broker_frame, b->broker_in, &line)) {
		case FRAME_LINE:
			bridge_broker_line(b, line.data, line.len);
			frame_done(&b->broker_frame, b->broker_in, &line);
			break;
		case FRAME_TOO_LONG:
			return (-1);
		case FRAME_AGAIN:
			return (0);
		}
	}
}

/*
 * The broker's connection is lost (why says how): every request in
 * flight is answered -32603 naming the socket. Returns the exit status.
 */
static int
bridge_lost(struct bridge *b, const char *why)
{
	struct bridge_call	*call;
	char			*message;

	fprintf(stderr, "mcp-brokerctl: bridge: the connection to mcp-brokerd "
	    "at %s %s; %zu request%s unanswered\n", b->socket, why,
	    b->ncalls, b->ncalls == 1 ? "" : "s");
	xasprintf(&message, "The connection to mcp-brokerd at %s %s before "
	    "the answer; the session may still be running.", b->socket, why);
	while ((call = TAILQ_FIRST(&b->calls)) != NULL) {
		bridge_host_error(b, call->kind == BRIDGE_HOST ? call->id :
		    call->host_id, RPC_INTERNAL_ERROR, message);
		bridge_call_free(b, call);
	}
	free(message);
	bridge_flush(b);
	return (CTL_EXIT_ANSWER);
}

/* Write what is left for the host, for at most BRIDGE_FLUSH_MS. */
static void
bridge_flush(struct bridge *b)
{
	struct pollfd	pfd;
	long		deadline, left;

	deadline = (long)clock_ms() + BRIDGE_FLUSH_MS;
	while (!b->host_gone && evbuffer_get_length(b->host_out) > 0) {
		if ((left = deadline - (long)clock_ms()) <= 0)
			return;
		pfd.fd = STDOUT_FILENO;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (evbuffer_write(b->host_out, STDOUT_FILENO) == -1 &&
		    errno != EAGAIN && errno != EINTR)
			return;
	}
}

/* Move messages both ways until stdin ends or the broker goes. */
static int
bridge_loop(struct bridge *b)
{
	struct pollfd	 pfd[3];
	long		 deadline = -1, left;
	int		 n, timeout;

	for (;;) {
		if (b->host_eof || b->host_gone) {
			if (deadline == -1)
				deadline = (long)clock_ms() + BRIDGE_DRAIN_MS;
			left = deadline - (long)clock_ms();
			if (b->host_gone || left <= 0 || (b->ncalls == 0 &&
			    evbuffer_get_length(b->broker_out) == 0)) {
				bridge_flush(b);
				if (b->ncalls > 0)
					fprintf(stderr, "mcp-brokerctl: bridge: "
					    "stdin ended; gave up on %zu "
					    "answer%s after %d ms\n",
					    b->ncalls, b->ncalls == 1 ? "" :
					    "s", BRIDGE_DRAIN_MS);
				return (CTL_EXIT_OK);
			}
			timeout = left > 0 ? (int)left : 0;
		} else
			timeout = -1;

		/* Each side is read only while what it feeds can drain. */
		pfd[0].fd = !b->host_eof && b->ncalls < BRIDGE_MAX_PENDING &&
		    evbuffer_get_length(b->broker_out) < BRIDGE_MAX_BUFFERED &&
		    evbuffer_get_length(b->host_out) < BRIDGE_MAX_BUFFERED ?
		    STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = b->fd;
		pfd[1].events = evbuffer_get_length(b->broker_out) > 0 ?
		    POLLOUT : 0;
		if (evbuffer_get_length(b->host_out) < BRIDGE_MAX_BUFFERED)
			pfd[1].events |= POLLIN;
		pfd[2].fd = evbuffer_get_length(b->host_out) > 0 ?
		    STDOUT_FILENO : -1;
		pfd[2].events = POLLOUT;
		if ((n = poll(pfd, 3, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mcp-brokerctl: bridge: poll: %s\n",
			    strerror(errno));
			return (CTL_EXIT_USAGE);
		}

		if (pfd[2].fd != -1 && (pfd[2].revents & (POLLOUT | POLLERR |
		    POLLHUP))) {
			if (evbuffer_write(b->host_out, STDOUT_FILENO) == -1 &&
			    errno != EAGAIN && errno != EINTR)
				b->host_gone = 1;	/* the host left */
		}
		if (pfd[1].revents & POLLOUT) {
			if (evbuffer_write(b->broker_out, b->fd) == -1 &&
			    errno != EAGAIN && errno != EINTR)
				return (bridge_lost(b, "broke"));
		}
		if (pfd[1].revents & (POLLIN | POLLERR | POLLHUP)) {
			n = evbuffer_read(b->broker_in, b->fd,
			    BRIDGE_READ_SIZE);
			if (n == 0)
				return (bridge_lost(b, "was closed"));
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				return (bridge_lost(b, "broke"));
			if (bridge_broker_lines(b) != 0)
				return (bridge_lost(b, "sent a line over its "
				    "bound"));
		}
		if (pfd[0].fd != -1 && (pfd[0].revents & (POLLIN | POLLERR |
		    POLLHUP))) {
			n = evbuffer_read(b->host_in, STDIN_FILENO,
			    BRIDGE_READ_SIZE);
			if (n == 0 || (n == -1 && errno != EAGAIN &&
			    errno != EINTR)) {
				b->host_eof = 1;
				/* A last line without its newline counts. */
				if (!b->skipping &&
				    evbuffer_get_length(b->host_in) > 0)
					evbuffer_add(b->host_in, "\n", 1);
			}
			bridge_host_lines(b);
		}
	}
}

/* bridge SERVER [THREAD]: an MCP stdio server backed by one session. */
int
ctl_bridge(struct client *c, int argc, char **argv)
{
	struct bridge		 b;
	struct bridge_call	*call;
	const char		*thread;
	int			 rc;

	if (argc != 1 && argc != 2)
		ctl_usage();
	thread = argc == 2 ? argv[1] : getenv("MCP_BROKER_THREAD");
	if (thread == NULL || *thread == '\0') {
		fprintf(stderr, "mcp-brokerctl: bridge needs a THREAD, or "
		    "MCP_BROKER_THREAD in its environment\n");
		ctl_usage();
	}
	signal(SIGPIPE, SIG_IGN);

	memset(&b, 0, sizeof b);
	b.fd = client_fd(c);
	b.socket = bridge_socket_path(b.fd);
	b.server = argv[0];
	b.thread = thread;
	b.route[0] = bridge_json_string(argv[0]);
	b.route[1] = bridge_json_string(thread);
	b.host_in = evbuffer_new();
	b.host_out = evbuffer_new();
	b.broker_in = evbuffer_new();
	b.broker_out = evbuffer_new();
	frame_init(&b.host_frame, BRIDGE_MAX_MESSAGE);
	frame_init(&b.broker_frame, CLIENT_MAX_MESSAGE);
	b.next_id = 1;
	TAILQ_INIT(&b.calls);
	bridge_nonblock(b.fd);
	bridge_nonblock(STDIN_FILENO);
	bridge_nonblock(STDOUT_FILENO);

	rc = bridge_loop(&b);

	while ((call = TAILQ_FIRST(&b.calls)) != NULL)
		bridge_call_free(&b, call);
	evbuffer_free(b.host_in);
	evbuffer_free(b.host_out);
	evbuffer_free(b.broker_in);
	evbuffer_free(b.broker_out);
	cJSON_free(b.route[0]);
	cJSON_free(b.route[1]);
	free(b.socket);
	return (rc);
}
