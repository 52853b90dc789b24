/*
 * libFuzzer target: the bytes an HTTP client sends the broker's listener,
 * through libevent's own HTTP parser (request lines, headers, sized and
 * chunked bodies, several requests on one keep-alive connection) into
 * the broker's glue: the /mcp/SERVER/THREAD path and its names, the
 * bearer token lookup, the Origin rule and the JSON-RPC body. Checks: an
 * accepted path's names follow the name rule; a token found is one of
 * the table's, whole and exact; nothing crashes, leaks or hangs.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config_http.h"
#include "errors.h"
#include "fuzz.h"
#include "route.h"

/* Bounds as small as the daemon's, or smaller, to reach them often. */
#define FUZZ_HTTP_HEADERS	16384
#define FUZZ_HTTP_BODY		65536
/* How many turns of the loop one input may take. */
#define FUZZ_HTTP_TURNS		64

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_http_request_cb(struct evhttp_request *, void *);

static struct event_base	*base;
static struct evhttp		*http;
static int			 port;
static struct config_http	 hc;
static struct config_http_token	 tokens[2];
static char			*origins[1];

/* The listener on loopback, and a tokens table as a file would give. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct evhttp_bound_socket	*bound;
	struct sockaddr_in		 sin;
	socklen_t			 len = sizeof sin;

	(void)argc;
	(void)argv;
	xmalloc_cjson_hooks();
	event_set_log_callback(NULL);
	base = event_base_new();
	http = evhttp_new(base);
	evhttp_set_max_headers_size(http, FUZZ_HTTP_HEADERS);
	evhttp_set_max_body_size(http, FUZZ_HTTP_BODY);
	evhttp_set_timeout(http, 1);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT);
	evhttp_set_gencb(http, fuzz_http_request_cb, NULL);
	if ((bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0)) ==
	    NULL || getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&sin, &len) != 0)
		abort();
	port = ntohs(sin.sin_port);

	config_http_init(&hc);
	tokens[0].token = "first-token-0123456789";
	tokens[0].len = strlen(tokens[0].token);
	tokens[1].token = "second-token-0123456789";
	tokens[1].len = strlen(tokens[1].token);
	hc.tokens = tokens;
	hc.ntokens = 2;
	hc.token_max = tokens[1].len;
	origins[0] = "https://app.example";
	hc.origins = origins;
	hc.norigins = 1;
	return (0);
}

/* One parsed request: the broker's checks, then a short answer. */
static void
fuzz_http_request_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri		*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq		*in = evhttp_request_get_input_headers(req);
	const struct config_http_token	*t;
	struct route_fault		 fault, again;
	struct jsonrpc_msg		 msg;
	struct jsonrpc_fault		 jf;
	struct evbuffer			*body;
	const char			*path, *auth, *origin;
	char				*server, *thread;
	unsigned char			*data;
	size_t				 n;

	(void)arg;
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (path != NULL && route_http_path(path, &server, &thread,
	    &fault) == 0) {
		/* Decoded names hold no NUL: the rule refuses one. */
		FUZZ_CHECK(route_check_name("server", server, strlen(server),
		    0, &again) == 0);
		FUZZ_CHECK(route_check_name("thread", thread, strlen(thread),
		    0, &again) == 0);
		free(server);
		free(thread);
	}
	if ((auth = evhttp_find_header(in, "Authorization")) != NULL &&
	    strncasecmp(auth, "Bearer ", 7) == 0) {
		auth += 7;
		if ((t = config_http_find_token(&hc, auth, strlen(auth))) !=
		    NULL)
			FUZZ_CHECK(strcmp(t->token, auth) == 0);
	}
	if ((origin = evhttp_find_header(in, "Origin")) != NULL)
		(void)config_http_origin_ok(&hc, origin);

	body = evhttp_request_get_input_buffer(req);
	if ((n = evbuffer_get_length(body)) > 0) {
		data = evbuffer_pullup(body, -1);
		memset(&msg, 0, sizeof msg);
		memset(&jf, 0, sizeof jf);
		if (jsonrpc_parse((const char *)data, n, &msg, &jf) == 0)
			jsonrpc_msg_clear(&msg);
		jsonrpc_fault_clear(&jf);
	}
	evhttp_send_reply(req, 200, "OK", NULL);
}

/* Send the input on a new connection and let the server take it in. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	char			 buf[4096];
	size_t			 off = 0;
	ssize_t			 n;
	int			 fd, turn, open = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
		abort();
	fcntl(fd, F_SETFL, O_NONBLOCK);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (turn = 0; turn < FUZZ_HTTP_TURNS && open; turn++) {
		if (off < size) {
			n = write(fd, data + off, size - off);
			if (n > 0)
				off += (size_t)n;
			if (off == size)
				shutdown(fd, SHUT_WR);
		} else if (off == 0 && size == 0) {
			shutdown(fd, SHUT_WR);
			off = 1;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		/* Whatever the server answered; its close ends the input. */
		while (poll(&pfd, 1, turn < 4 ? 0 : 1) > 0) {
			if ((n = read(fd, buf, sizeof buf)) <= 0) {
				if (n == 0 || errno != EAGAIN)
					open = 0;
				break;
			}
		}
	}
	close(fd);
	/* The server sees the close and frees the connection. */
	for (turn = 0; turn < 4; turn++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	return (0);
}
