/*
 * Blocking client: one connection, requests with increasing integer ids.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "client.h"
#include "defaults.h"
#include "frame.h"
#include "jsonrpc.h"
#include "xmalloc.h"

struct client {
	int		 fd;
	struct evbuffer	*in;
	struct frame	 frame;
	long		 next_id;
};

static long	client_now_ms(void);

/* The socket path: $MCP_BROKER_SOCKET, else the built-in default. */
const char *
client_default_socket(void)
{
	const char	*path;

	if ((path = getenv("MCP_BROKER_SOCKET")) != NULL && *path != '\0')
		return (path);
	return (DEFAULT_SOCKET);
}

/* Connect to the broker at path; on failure set *cause and return NULL. */
struct client *
client_connect(const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	struct client		*c;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, "socket path too long: %s", path);
		return (NULL);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (NULL);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		xasprintf(cause, "cannot connect to %s: %s", path,
		    strerror(errno));
		close(fd);
		return (NULL);
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->in = evbuffer_new();
	frame_init(&c->frame, CLIENT_MAX_MESSAGE);
	c->next_id = 1;
	return (c);
}

/* Close the connection and free c. */
void
client_close(struct client *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	evbuffer_free(c->in);
	free(c);
}

/* The connection's socket, for a caller that polls it itself (nothing
   may have been read through c yet). */
int
client_fd(struct client *c)
{
	return (c->fd);
}

/* Send raw bytes as they are (tests use it to send malformed input). */
int
client_send_raw(struct client *c, const void *data, size_t len, char **cause)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(cause, "send: %s", strerror(errno));
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Send one message as a line. Does not take msg. */
int
client_send(struct client *c, const cJSON *msg, char **cause)
{
	struct evbuffer	*out;
	int		 rc;

	out = evbuffer_new();
	frame_write(out, msg);
	rc = client_send_raw(c, evbuffer_pullup(out, -1),
	    evbuffer_get_length(out), cause);
	evbuffer_free(out);
	return (rc);
}

/* Monotonic milliseconds, for the receive deadline. */
static long
client_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1000L + ts.tv_nsec / 1000000L);
}

/*
 * Read the next message, waiting at most timeout_ms (-1: forever). Returns
 * a tree the caller owns, or NULL with *cause set (timeout, EOF, garbage).
 */
cJSON *
client_recv(struct client *c, int timeout_ms, char **cause)
{
	cJSON	*msg;
	char	*line;
	size_t	 len;

	if ((line = client_recv_line(c, timeout_ms, &len, cause)) == NULL)
		return (NULL);
	msg = cJSON_ParseWithLength(line, len);
	free(line);
	if (msg == NULL)
		xasprintf(cause, "the broker sent a line that is not JSON");
	return (msg);
}

/*
 * Read the next line as the broker wrote it (without its newline),
 * waiting at most timeout_ms (-1: forever). Returns it allocated and
 * NUL-terminated with *len its length, or NULL with *cause set.
 */
char *
client_recv_line(struct client *c, int timeout_ms, size_t *len, char **cause)
{
	struct frame_line	 line;
	struct pollfd		 pfd;
	char			*text;
	long			 deadline, left;
	int			 n;

	deadline = client_now_ms() + timeout_ms;
	for (;;) {
		switch (frame_next(&c->frame, c->in, &line)) {
		case FRAME_LINE:
			text = xstrndup(line.data, line.len);
			*len = line.len;
			frame_done(&c->frame, c->in, &line);
			return (text);
		case FRAME_TOO_LONG:
			xasprintf(cause, "the broker sent a message over %u "
			    "bytes", CLIENT_MAX_MESSAGE);
			return (NULL);
		case FRAME_AGAIN:
			break;
		}

		left = -1;
		if (timeout_ms >= 0) {
			left = deadline - client_now_ms();
			if (left <= 0) {
				xasprintf(cause, "no answer within %d ms",
				    timeout_ms);
				return (NULL);
			}
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno != EINTR) {
			xasprintf(cause, "poll: %s", strerror(errno));
			return (NULL);
		}
		if (n <= 0)
			continue;
		n = evbuffer_read(c->in, c->fd, 65536);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			xasprintf(cause, "read: %s", strerror(errno));
			return (NULL);
		}
		if (n == 0) {
			xasprintf(cause, "the broker closed the connection");
			return (NULL);
		}
	}
}

/*
 * Call method with params (taken; may be NULL) and return the whole
 * response (caller owns it), skipping notifications and other answers.
 */
cJSON *
client_call(struct client *c, const char *method, cJSON *params,
    int timeout_ms, char **cause)
{
	cJSON	*req, *msg, *id;
	long	 want;

	want = c->next_id++;
	req = jsonrpc_request(cJSON_CreateNumber((double)want), method, params);
	if (client_send(c, req, cause) != 0) {
		cJSON_Delete(req);
		return (NULL);
	}
	cJSON_Delete(req);
	for (;;) {
		if ((msg = client_recv(c, timeout_ms, cause)) == NULL)
			return (NULL);
		id = cJSON_GetObjectItemCaseSensitive(msg, "id");
		if (cJSON_IsNumber(id) && id->valuedouble == (double)want &&
		    cJSON_GetObjectItemCaseSensitive(msg, "method") == NULL)
			return (msg);
		cJSON_Delete(msg);
	}
}
