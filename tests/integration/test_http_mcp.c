/*
 * MCP Streamable HTTP at /mcp/{server}/{thread}: initialize answered from
 * the child's own handshake with an Mcp-Session-Id, calls answered as
 * application/json or, with progress or a request to the client, as
 * text/event-stream; the session id rules (none: 400, unknown or
 * deleted: 404); DELETE ends the HTTP session and not the child; a
 * second initialize reaches the same child; the standalone GET stream;
 * the status codes of the bounds; memory that stays flat over many
 * keep-alive requests; and 2026-07-28 clients without any session id
 * (server/discover from the session, calls reaching the child and its
 * state, the transport's errors).
 *
 * The client is raw HTTP/1.1 over a TCP socket, chunked transfer and
 * server-sent events read by hand: what is tested is the bytes an MCP
 * client sends and gets.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>
#include <cJSON.h>

#include "harness.h"
#include "xmalloc.h"

#define TOKEN		"root-0123456789abcdef0123456789ab"
/* How long one HTTP read may wait. */
#define READ_MS		10000
/* The fixture's server, with sampling declared to it. */
#define SERVERS		"\"fake\":{\"command\":\"@FAKE@\"," \
			"\"client_capabilities\":{\"sampling\":{}}}," \
			"\"slow\":{\"command\":\"@FAKE@\",\"args\":" \
			"[\"--startup-delay-ms\",\"3000\"]}," \
			"\"modern\":{\"command\":\"@FAKE@\",\"args\":" \
			"[\"--modern\"]}"
#define INIT_BODY	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":" \
			"\"initialize\",\"params\":{\"protocolVersion\":" \
			"\"%s\",\"capabilities\":{%s},\"clientInfo\":" \
			"{\"name\":\"test\",\"version\":\"1\"}}}"

static struct daemon	*d;
static char		 dir[64];
static int		 port;

/* A connection to the listener, with what was read and not yet used. */
struct hconn {
	int	 fd;
	int	 local;		/* the Unix socket: no token sent */
	char	*buf;
	size_t	 len;
	int	 chunked;	/* the body being read */
	char	*sse;		/* event text not yet taken */
	size_t	 sse_len;
};

/* One response. */
struct hresp {
	int	 status;
	char	*headers;
	char	*body;
};

/* Start a daemon listening on a fresh port, with broker members more. */
static void
start_with(const char *more)
{
	char	 tokens[128], *broker;
	int	 fd;

	snprintf(dir, sizeof dir, "/tmp/mcpb-hmcp.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tokens, sizeof tokens, "%s/tokens", dir);
	ck_assert_int_ne(fd = open(tokens, O_WRONLY | O_CREAT | O_TRUNC,
	    0600), -1);
	ck_assert_int_eq(write(fd, "root " TOKEN "\n", 39), 39);
	close(fd);
	port = harness_free_port();
	xasprintf(&broker, "\"log_level\":\"debug\",\"http\":{\"listen\":"
	    "[\"127.0.0.1:%d\"],\"tokens_file\":\"%s\"}%s", port, tokens,
	    more);
	d = daemon_start(broker, SERVERS);
	free(broker);
	ck_assert_msg(wait_log(d, 5000, "listening for HTTP on", NULL),
	    "the daemon does not say it listens for HTTP");
}

/* Fixture: a daemon with the shipped bounds. */
static void
setup(void)
{
	start_with("");
}

/* Fixture: a daemon whose max_message_bytes is 4096. */
static void
setup_small(void)
{
	start_with(",\"max_message_bytes\":4096");
}

/* Fixture: a daemon whose sessions never expire (idle_timeout_s 0). */
static void
setup_never(void)
{
	start_with(",\"idle_timeout_s\":0");
}

/* Stop the daemon (it must exit 0) and remove the tokens. */
static void
teardown(void)
{
	char	path[128];

	if (d != NULL)
		daemon_stop_ok(d);
	d = NULL;
	snprintf(path, sizeof path, "%s/tokens", dir);
	unlink(path);
	rmdir(dir);
}

/* A new connection to the listener. */
static struct hconn *
hc_open(void)
{
	struct sockaddr_in	 sin;
	struct hconn		*c;

	c = xcalloc(1, sizeof *c);
	ck_assert_int_ne(c->fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == 0,
	    "connect: %s", strerror(errno));
	return (c);
}

/* A new connection to the broker's Unix socket. */
static struct hconn *
hc_open_unix(void)
{
	struct sockaddr_un	 sun;
	struct hconn		*c;

	c = xcalloc(1, sizeof *c);
	c->local = 1;
	ck_assert_int_ne(c->fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(d->sock), sizeof sun.sun_path);
	memcpy(sun.sun_path, d->sock, strlen(d->sock) + 1);
	ck_assert_msg(connect(c->fd, (struct sockaddr *)&sun, sizeof sun) == 0,
	    "connect %s: %s", d->sock, strerror(errno));
	return (c);
}

/* Close and free c. */
static void
hc_close(struct hconn *c)
{
	close(c->fd);
	free(c->buf);
	free(c->sse);
	free(c);
}

/* Read more from c into its buffer; 0 at EOF or timeout. */
static int
hc_fill(struct hconn *c)
{
	struct pollfd	 pfd = { c->fd, POLLIN, 0 };
	ssize_t		 n;

	if (poll(&pfd, 1, READ_MS) <= 0)
		return (0);
	c->buf = xrealloc(c->buf, c->len + 65536 + 1);
	if ((n = recv(c->fd, c->buf + c->len, 65536, 0)) <= 0)
		return (0);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return (1);
}

/* Take n bytes from the front of c's buffer (caller frees). */
static char *
hc_take(struct hconn *c, size_t n)
{
	char	*out;

	out = xstrndup(c->buf, n);
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	return (out);
}

/* Read until c's buffer holds needle; where it starts. */
static size_t
hc_until(struct hconn *c, const char *needle)
{
	char	*p;

	for (;;) {
		if (c->len > 0) {
			c->buf[c->len] = '\0';
			if ((p = memmem(c->buf, c->len, needle,
			    strlen(needle))) != NULL)
				return ((size_t)(p - c->buf));
		}
		ck_assert_msg(hc_fill(c), "the connection ended or stalled "
		    "before \"%s\"", needle);
	}
}

/* Read exactly n bytes from c (caller frees). */
static char *
hc_bytes(struct hconn *c, size_t n)
{
	while (c->len < n)
		ck_assert_msg(hc_fill(c), "the connection ended in a body");
	return (hc_take(c, n));
}

/* The value of header name in headers (caller frees), or NULL. */
static char *
header_of(const char *headers, const char *name)
{
	const char	*line, *end;
	size_t		 nlen = strlen(name);

	for (line = strstr(headers, "\r\n"); line != NULL;
	    line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, name, nlen) == 0 &&
		    line[2 + nlen] == ':') {
			line += 2 + nlen + 1;
			while (*line == ' ')
				line++;
			end = strstr(line, "\r\n");
			return (xstrndup(line, (size_t)(end - line)));
		}
	}
	return (NULL);
}

/*
 * Send a request on c: method, path, the session id and Accept (NULL:
 * none), extra header lines and a body (NULL: none).
 */
static void
hc_send(struct hconn *c, const char *method, const char *path,
    const char *sid, const char *accept, const char *extra, const char *body)
{
	char	*req;
	size_t	 off = 0;
	ssize_t	 n;

	xasprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "%s%s%s%s%s%s%s%s"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    method, path, port, c->local ? "" : "Authorization: Bearer "
	    TOKEN "\r\n", sid != NULL ? "Mcp-Session-Id: " : "",
	    sid != NULL ? sid : "", sid != NULL ? "\r\n" : "",
	    accept != NULL ? "Accept: " : "", accept != NULL ? accept : "",
	    accept != NULL ? "\r\n" : "", extra != NULL ? extra : "",
	    body != NULL ? strlen(body) : 0, body != NULL ? body : "");
	while (off < strlen(req)) {
		n = send(c->fd, req + off, strlen(req) - off, MSG_NOSIGNAL);
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		off += (size_t)n;
	}
	free(req);
}

/*
 * Read a response's status and headers; its body too unless it is
 * chunked (then read it with hc_event or hc_rest).
 */
static void
hc_head(struct hconn *c, struct hresp *r)
{
	char	*cl, *te;
	size_t	 end;

	memset(r, 0, sizeof *r);
	end = hc_until(c, "\r\n\r\n");
	r->headers = hc_take(c, end + 4);
	ck_assert_int_eq(sscanf(r->headers, "HTTP/1.%*d %d", &r->status), 1);
	te = header_of(r->headers, "Transfer-Encoding");
	c->chunked = te != NULL && strcasecmp(te, "chunked") == 0;
	free(te);
	if (c->chunked)
		return;
	cl = header_of(r->headers, "Content-Length");
	r->body = hc_bytes(c, cl != NULL ? strtoul(cl, NULL, 10) : 0);
	free(cl);
}

/* The next chunk of a chunked body (caller frees); NULL at its end. */
static char *
hc_chunk(struct hconn *c)
{
	char	*line, *data, *crlf;
	size_t	 end, size;

	end = hc_until(c, "\r\n");
	line = hc_take(c, end + 2);
	size = strtoul(line, NULL, 16);
	free(line);
	if (size == 0) {
		free(hc_bytes(c, 2));
		c->chunked = 0;
		return (NULL);
	}
	data = hc_bytes(c, size);
	crlf = hc_bytes(c, 2);
	free(crlf);
	return (data);
}

/*
 * The next event's data on a stream, parsed (caller frees); NULL once
 * the stream ends. Comments (keep-alives) are skipped.
 */
static cJSON *
hc_event(struct hconn *c)
{
	char	*chunk, *end, *ev, *line, *next, *data = NULL;
	cJSON	*msg;
	size_t	 n;

	for (;;) {
		if (c->sse != NULL &&
		    (end = memmem(c->sse, c->sse_len, "\n\n", 2)) != NULL) {
			n = (size_t)(end - c->sse) + 2;
			ev = xstrndup(c->sse, n);
			memmove(c->sse, c->sse + n, c->sse_len - n);
			c->sse_len -= n;
			for (line = ev; line != NULL && *line != '\0';
			    line = next) {
				if ((next = strchr(line, '\n')) != NULL)
					*next++ = '\0';
				if (strncmp(line, "data: ", 6) == 0)
					data = xstrdup(line + 6);
			}
			free(ev);
			if (data == NULL)
				continue;	/* a comment */
			msg = cJSON_Parse(data);
			ck_assert_msg(msg != NULL, "an event is not JSON: %s",
			    data);
			free(data);
			return (msg);
		}
		if (!c->chunked || (chunk = hc_chunk(c)) == NULL)
			return (NULL);
		n = strlen(chunk);
		c->sse = xrealloc(c->sse, c->sse_len + n + 1);
		memcpy(c->sse + c->sse_len, chunk, n);
		c->sse_len += n;
		free(chunk);
	}
}

/* Free what a response holds. */
static void
hresp_clear(struct hresp *r)
{
	free(r->headers);
	free(r->body);
}

/* One exchange on c: the response, its body read whole if not chunked. */
static void
hc_exchange(struct hconn *c, const char *method, const char *path,
    const char *sid, const char *accept, const char *body, struct hresp *r)
{
	hc_send(c, method, path, sid, accept, NULL, body);
	hc_head(c, r);
}

/* The body of r as JSON (caller frees). */
static cJSON *
json_of(struct hresp *r)
{
	cJSON	*j;

	ck_assert_msg((j = cJSON_Parse(r->body)) != NULL, "not JSON: %s",
	    r->body);
	return (j);
}

/*
 * initialize on c for path with the given version and capabilities
 * members; the session id (caller frees), the answer in *answer if
 * wanted.
 */
static char *
initialize(struct hconn *c, const char *path, const char *version,
    const char *caps, cJSON **answer)
{
	struct hresp	 r;
	char		*body, *sid;

	xasprintf(&body, INIT_BODY, version, caps);
	hc_exchange(c, "POST", path, NULL, "application/json, "
	    "text/event-stream", body, &r);
	free(body);
	ck_assert_msg(r.status == 200, "initialize: %d %s", r.status, r.body);
	sid = header_of(r.headers, "Mcp-Session-Id");
	ck_assert_ptr_nonnull(sid);
	if (answer != NULL)
		*answer = json_of(&r);
	hresp_clear(&r);
	return (sid);
}

/* tools/call name with arguments args under id; the answer's status. */
static int
call(struct hconn *c, const char *path, const char *sid, int id,
    const char *name, const char *args, cJSON **answer)
{
	struct hresp	 r;
	char		*body;
	int		 status;

	xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"%s\",\"arguments\":%s}}",
	    id, name, args);
	hc_exchange(c, "POST", path, sid, "application/json, "
	    "text/event-stream", body, &r);
	free(body);
	status = r.status;
	if (answer != NULL)
		*answer = r.status == 200 || r.body[0] == '{' ? json_of(&r) :
		    NULL;
	hresp_clear(&r);
	return (status);
}

/* structuredContent.member of a tools/call answer. */
static double
structured(cJSON *answer, const char *member)
{
	cJSON	*s;

	s = cJSON_GetObjectItem(cJSON_GetObjectItem(answer, "result"),
	    "structuredContent");
	ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItem(s, member)),
	    "no structuredContent.%s", member);
	return (cJSON_GetObjectItem(s, member)->valuedouble);
}

/* The JSON-RPC error code of a response body. */
static int
rpc_code(cJSON *answer)
{
	cJSON	*e = cJSON_GetObjectItem(answer, "error");

	ck_assert_msg(e != NULL, "no error in the answer");
	return (cJSON_GetObjectItem(e, "code")->valueint);
}

START_TEST(test_initialize_answers_from_the_child_with_a_session_id)
{
	struct hconn	*c = hc_open();
	cJSON		*a, *res;
	char		*sid, *sid2;
	size_t		 i;

	sid = initialize(c, "/mcp/fake/t1", "2025-06-18", "", &a);
	ck_assert_uint_eq(strlen(sid), 32);
	for (i = 0; i < 32; i++)
		ck_assert(isxdigit((unsigned char)sid[i]));
	res = cJSON_GetObjectItem(a, "result");
	ck_assert_int_eq(cJSON_GetObjectItem(a, "id")->valueint, 1);
	ck_assert_str_eq(json_string(res, "protocolVersion"), "2025-06-18");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(res, "serverInfo"),
	    "name"), "fake-mcp");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(res,
	    "capabilities"), "tools"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(res, "instructions"));
	cJSON_Delete(a);

	/* A version the broker does not speak gets its newest. */
	sid2 = initialize(c, "/mcp/fake/t1", "1999-01-01", "", &a);
	ck_assert_str_ne(sid, sid2);
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(a, "result"),
	    "protocolVersion"), "2025-11-25");
	cJSON_Delete(a);
	free(sid);
	free(sid2);
	hc_close(c);
}
END_TEST

START_TEST(test_call_with_the_session_id_gets_a_json_answer)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	cJSON		*a;
	char		*sid, *type;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	hc_exchange(c, "POST", "/mcp/fake/t1", sid, "application/json, "
	    "text/event-stream", "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"counter\"}}", &r);
	ck_assert_int_eq(r.status, 200);
	type = header_of(r.headers, "Content-Type");
	ck_assert_str_eq(type, "application/json");
	a = json_of(&r);
	ck_assert_str_eq(json_string(a, "id"), "x");
	ck_assert_int_eq((int)structured(a, "count"), 1);
	cJSON_Delete(a);
	free(type);
	hresp_clear(&r);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_session_id_missing_gets_400_and_unknown_gets_404)
{
	struct hconn	*c = hc_open();
	cJSON		*a;

	ck_assert_int_eq(call(c, "/mcp/fake/t1", NULL, 2, "counter", "{}",
	    &a), 400);
	cJSON_Delete(a);
	ck_assert_int_eq(call(c, "/mcp/fake/t1",
	    "00000000000000000000000000000000", 2, "counter", "{}", &a), 404);
	cJSON_Delete(a);
	hc_close(c);
}
END_TEST

START_TEST(test_session_id_is_only_good_for_its_own_url)
{
	struct hconn	*c = hc_open();
	cJSON		*a;
	char		*sid;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/t2", sid, 2, "counter", "{}", &a),
	    404);
	cJSON_Delete(a);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_delete_ends_the_http_session_and_the_child_runs_on)
{
	struct hconn	*c = hc_open();
	struct client	*u;
	struct hresp	 r;
	cJSON		*a;
	char		*sid;
	pid_t		 pid;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 2, "pid", "{}", &a),
	    200);
	pid = (pid_t)structured(a, "pid");
	cJSON_Delete(a);
	hc_exchange(c, "DELETE", "/mcp/fake/t1", sid, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 3, "pid", "{}", &a),
	    404);
	cJSON_Delete(a);
	hc_exchange(c, "DELETE", "/mcp/fake/t1", sid, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	hresp_clear(&r);

	/* The child is the session root's: the token's user. */
	u = daemon_connect(d);
	ck_assert_int_eq(session_pid(u, "fake", "t1"), pid);
	ck_assert(pid_alive(pid));
	client_close(u);
	free(sid);
	hc_close(c);
}
END_TEST

/*
 * A body laid out on many lines, as JSON allows, reaches the child as one
 * message: a line break in it cannot cut the message and start one of
 * the client's making (here a crash call hidden in an argument).
 */
START_TEST(test_a_body_on_many_lines_reaches_the_child_as_one_message)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	cJSON		*a;
	char		*sid;
	pid_t		 pid;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 2, "counter", "{}", &a),
	    200);
	pid = (pid_t)structured(a, "pid");
	cJSON_Delete(a);
	hc_exchange(c, "POST", "/mcp/fake/t1", sid, "application/json, "
	    "text/event-stream", "{\"jsonrpc\":\"2.0\",\r\n \"id\":3,\n"
	    " \"method\":\"tools/call\",\n \"params\":{\"name\":\"echo\","
	    "\"arguments\":{\"text\":\"x\",\"a\":[\n{\"jsonrpc\":\"2.0\","
	    "\"id\":99,\"method\":\"tools/call\",\"params\":{\"name\":"
	    "\"crash\"}}\n]}}}", &r);
	ck_assert_int_eq(r.status, 200);
	a = json_of(&r);
	ck_assert_double_eq(json_number(a, "id"), 3);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(a, "result"));
	cJSON_Delete(a);
	hresp_clear(&r);
	/* The child never saw a crash call: it is the same process. */
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 4, "counter", "{}", &a),
	    200);
	ck_assert_int_eq((pid_t)structured(a, "pid"), pid);
	ck_assert_int_eq((int)structured(a, "count"), 2);
	cJSON_Delete(a);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_second_initialize_reaches_the_same_child)
{
	struct hconn	*c = hc_open(), *c2 = hc_open();
	cJSON		*a;
	char		*sid, *sid2;
	pid_t		 pid;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 2, "counter", "{}", &a),
	    200);
	ck_assert_int_eq((int)structured(a, "count"), 1);
	pid = (pid_t)structured(a, "pid");
	cJSON_Delete(a);

	sid2 = initialize(c2, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_str_ne(sid, sid2);
	ck_assert_int_eq(call(c2, "/mcp/fake/t1", sid2, 2, "counter", "{}",
	    &a), 200);
	ck_assert_int_eq((int)structured(a, "count"), 2);
	ck_assert_int_eq((pid_t)structured(a, "pid"), pid);
	cJSON_Delete(a);

	/* Another thread is another child. */
	free(sid2);
	sid2 = initialize(c2, "/mcp/fake/t2", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c2, "/mcp/fake/t2", sid2, 3, "counter", "{}",
	    &a), 200);
	ck_assert_int_eq((int)structured(a, "count"), 1);
	ck_assert_int_ne((pid_t)structured(a, "pid"), pid);
	cJSON_Delete(a);
	free(sid);
	free(sid2);
	hc_close(c);
	hc_close(c2);
}
END_TEST

START_TEST(test_unknown_server_gets_404_with_32010)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	cJSON		*a;
	char		*body;

	xasprintf(&body, INIT_BODY, "2025-11-25", "");
	hc_exchange(c, "POST", "/mcp/nosuch/t1", NULL, NULL, body, &r);
	ck_assert_int_eq(r.status, 404);
	a = json_of(&r);
	ck_assert_int_eq(rpc_code(a), -32010);
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    a, "error"), "data"), "server"), "nosuch");
	cJSON_Delete(a);
	hresp_clear(&r);
	free(body);
	hc_close(c);
}
END_TEST

START_TEST(test_names_in_the_path_are_decoded_and_checked)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	cJSON		*a;
	char		*body, *sid;

	xasprintf(&body, INIT_BODY, "2025-11-25", "");
	hc_exchange(c, "POST", "/mcp/fake/a%01b", NULL, NULL, body, &r);
	ck_assert_int_eq(r.status, 400);
	a = json_of(&r);
	ck_assert_int_eq(rpc_code(a), -32602);
	cJSON_Delete(a);
	hresp_clear(&r);
	hc_exchange(c, "POST", "/mcp/fake/t1/more", NULL, NULL, body, &r);
	ck_assert_int_eq(r.status, 404);
	hresp_clear(&r);

	/* A space and a slash, percent-encoded, are the thread's own. */
	sid = initialize(c, "/mcp/fake/a%20b%2Fc", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/a%20b%2Fc", sid, 2, "counter",
	    "{}", &a), 200);
	cJSON_Delete(a);
	free(sid);
	free(body);
	hc_close(c);
	c = NULL;
	{
		struct client	*u = daemon_connect(d);

		ck_assert_int_gt(session_pid(u, "fake", "a b/c"), 0);
		client_close(u);
	}
}
END_TEST

START_TEST(test_no_token_gets_401_and_a_foreign_origin_403)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	char		*req;
	ssize_t		 n;

	xasprintf(&req, "POST /mcp/fake/t1 HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 2\r\n\r\n{}");
	n = send(c->fd, req, strlen(req), MSG_NOSIGNAL);
	ck_assert_int_eq(n, (ssize_t)strlen(req));
	free(req);
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 401);
	hresp_clear(&r);

	hc_send(c, "POST", "/mcp/fake/t1", NULL, NULL,
	    "Origin: https://evil.example\r\n", "{}");
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 403);
	hresp_clear(&r);
	hc_close(c);
}
END_TEST

START_TEST(test_body_over_max_message_bytes_gets_413)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	char		*body, *big;

	big = xmalloc(5000);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\","
	    "\"params\":{\"pad\":\"%s\"}}", big);
	hc_send(c, "POST", "/mcp/fake/t1", NULL, NULL, NULL, body);
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 413);
	hresp_clear(&r);
	free(body);
	free(big);
	hc_close(c);

	/* Serving goes on. */
	c = hc_open();
	free(initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL));
	hc_close(c);
}
END_TEST

START_TEST(test_malformed_json_gets_400_with_a_parse_error)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	cJSON		*a;

	hc_exchange(c, "POST", "/mcp/fake/t1", NULL, NULL, "{\"jsonrpc\":",
	    &r);
	ck_assert_int_eq(r.status, 400);
	a = json_of(&r);
	ck_assert_int_eq(rpc_code(a), -32700);
	cJSON_Delete(a);
	hresp_clear(&r);
	hc_close(c);
}
END_TEST

START_TEST(test_posted_notifications_and_answers_get_202)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	char		*sid;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	hc_exchange(c, "POST", "/mcp/fake/t1", sid, NULL, "{\"jsonrpc\":"
	    "\"2.0\",\"method\":\"notifications/initialized\"}", &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_str_eq(r.body, "");
	hresp_clear(&r);
	hc_exchange(c, "POST", "/mcp/fake/t1", sid, NULL, "{\"jsonrpc\":"
	    "\"2.0\",\"method\":\"notifications/roots/list_changed\"}", &r);
	ck_assert_int_eq(r.status, 202);
	hresp_clear(&r);
	hc_exchange(c, "POST", "/mcp/fake/t1", sid, NULL, "{\"jsonrpc\":"
	    "\"2.0\",\"id\":999,\"result\":{}}", &r);
	ck_assert_int_eq(r.status, 202);
	hresp_clear(&r);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_ping_discover_and_a_bad_protocol_header)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	cJSON		*a;
	char		*sid;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	hc_exchange(c, "POST", "/mcp/fake/t1", sid, NULL, "{\"jsonrpc\":"
	    "\"2.0\",\"id\":5,\"method\":\"ping\"}", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}");
	hresp_clear(&r);

	/* server/discover without the members every 2026-07-28 request
	   carries is refused as that protocol says. */
	hc_exchange(c, "POST", "/mcp/fake/t1", NULL, NULL, "{\"jsonrpc\":"
	    "\"2.0\",\"id\":6,\"method\":\"server/discover\"}", &r);
	ck_assert_int_eq(r.status, 400);
	a = json_of(&r);
	ck_assert_int_eq(rpc_code(a), -32602);
	ck_assert_int_eq(cJSON_GetObjectItem(a, "id")->valueint, 6);
	cJSON_Delete(a);
	hresp_clear(&r);

	hc_send(c, "POST", "/mcp/fake/t1", sid, NULL,
	    "MCP-Protocol-Version: 1999-01-01\r\n", "{\"jsonrpc\":\"2.0\","
	    "\"id\":7,\"method\":\"tools/list\"}");
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 400);
	hresp_clear(&r);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_progress_comes_as_events_before_the_answer)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	cJSON		*ev;
	char		*sid, *type;
	int		 i;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	hc_send(c, "POST", "/mcp/fake/t1", sid, "application/json, "
	    "text/event-stream", NULL, "{\"jsonrpc\":\"2.0\",\"id\":4,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"progress\","
	    "\"arguments\":{\"steps\":3,\"interval_ms\":20},"
	    "\"_meta\":{\"progressToken\":\"tok-a\"}}}");
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 200);
	type = header_of(r.headers, "Content-Type");
	ck_assert_str_eq(type, "text/event-stream");
	free(type);
	hresp_clear(&r);
	for (i = 1; i <= 3; i++) {
		ck_assert_ptr_nonnull(ev = hc_event(c));
		ck_assert_str_eq(json_string(ev, "method"),
		    "notifications/progress");
		ck_assert_str_eq(json_string(cJSON_GetObjectItem(ev, "params"),
		    "progressToken"), "tok-a");
		ck_assert_int_eq((int)json_number(cJSON_GetObjectItem(ev,
		    "params"), "progress"), i);
		cJSON_Delete(ev);
	}
	ck_assert_ptr_nonnull(ev = hc_event(c));
	ck_assert_int_eq(cJSON_GetObjectItem(ev, "id")->valueint, 4);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(ev, "result"));
	cJSON_Delete(ev);
	ck_assert_ptr_null(hc_event(c));

	/* Without Accept text/event-stream, the same call is one JSON
	   answer. */
	hc_send(c, "POST", "/mcp/fake/t1", sid, "application/json", NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"progress\",\"arguments\":{\"steps\":2,"
	    "\"interval_ms\":10},\"_meta\":{\"progressToken\":1}}}");
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 200);
	type = header_of(r.headers, "Content-Type");
	ck_assert_str_eq(type, "application/json");
	free(type);
	hresp_clear(&r);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_sampling_request_reaches_the_stream_and_its_answer_the_server)
{
	struct hconn	*c = hc_open(), *c2 = hc_open();
	struct hresp	 r;
	cJSON		*ev, *answer;
	char		*sid, *body, *id;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25",
	    "\"sampling\":{}", NULL);
	hc_send(c, "POST", "/mcp/fake/t1", sid, "application/json, "
	    "text/event-stream", NULL, "{\"jsonrpc\":\"2.0\",\"id\":\"s\","
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"sample\"}}");
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	ck_assert_ptr_nonnull(ev = hc_event(c));
	ck_assert_str_eq(json_string(ev, "method"), "sampling/createMessage");
	id = cJSON_PrintUnformatted(cJSON_GetObjectItem(ev, "id"));
	cJSON_Delete(ev);

	/* The answer goes on another connection, as SDK clients do. */
	xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"role\":"
	    "\"assistant\",\"content\":{\"type\":\"text\",\"text\":\"hi "
	    "there\"},\"model\":\"m\"}}", id);
	hc_exchange(c2, "POST", "/mcp/fake/t1", sid, NULL, body, &r);
	ck_assert_int_eq(r.status, 202);
	hresp_clear(&r);
	ck_assert_ptr_nonnull(ev = hc_event(c));
	ck_assert_str_eq(json_string(ev, "id"), "s");
	answer = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    ev, "result"), "structuredContent"), "answer");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(answer, "content"),
	    "text"), "hi there");
	cJSON_Delete(ev);
	ck_assert_ptr_null(hc_event(c));
	free(body);
	free(id);
	free(sid);
	hc_close(c);
	hc_close(c2);
}
END_TEST

START_TEST(test_sampling_without_a_stream_fails_at_once)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	cJSON		*a, *err;
	char		*sid;

	/* sampling declared, but the client takes only JSON: nowhere to
	   ask it, so the server hears so at once. */
	sid = initialize(c, "/mcp/fake/t1", "2025-11-25",
	    "\"sampling\":{}", NULL);
	hc_exchange(c, "POST", "/mcp/fake/t1", sid, "application/json",
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"sample\"}}", &r);
	ck_assert_int_eq(r.status, 200);
	a = json_of(&r);
	err = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "result"), "structuredContent"), "error");
	ck_assert_msg(cJSON_IsObject(err), "the server got no error: %s",
	    r.body);
	cJSON_Delete(a);
	hresp_clear(&r);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_get_opens_one_standalone_stream)
{
	struct hconn	*c = hc_open(), *c2 = hc_open(), *c3 = hc_open();
	struct hresp	 r;
	cJSON		*ev;
	char		*sid, *id, *body;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "\"sampling\":{}",
	    NULL);
	hc_exchange(c, "GET", "/mcp/fake/t1", sid, "application/json", NULL,
	    &r);
	ck_assert_int_eq(r.status, 405);
	hresp_clear(&r);
	hc_send(c, "GET", "/mcp/fake/t1", sid, "text/event-stream", NULL,
	    NULL);
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	hc_exchange(c2, "GET", "/mcp/fake/t1", sid, "text/event-stream",
	    NULL, &r);
	ck_assert_int_eq(r.status, 409);
	hresp_clear(&r);

	/* A call answered as JSON: the server's request to the client
	   goes on the GET stream. */
	hc_send(c2, "POST", "/mcp/fake/t1", sid, "application/json", NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"sample\"}}");
	ck_assert_ptr_nonnull(ev = hc_event(c));
	ck_assert_str_eq(json_string(ev, "method"), "sampling/createMessage");
	id = cJSON_PrintUnformatted(cJSON_GetObjectItem(ev, "id"));
	cJSON_Delete(ev);
	xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"role\":"
	    "\"assistant\",\"content\":{\"type\":\"text\",\"text\":\"ok\"},"
	    "\"model\":\"m\"}}", id);
	hc_exchange(c3, "POST", "/mcp/fake/t1", sid, NULL, body, &r);
	ck_assert_int_eq(r.status, 202);
	hresp_clear(&r);
	hc_head(c2, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"text\":\"ok\""));
	hresp_clear(&r);

	/* DELETE ends the stream. */
	hc_exchange(c3, "DELETE", "/mcp/fake/t1", sid, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	ck_assert_ptr_null(hc_event(c));
	free(body);
	free(id);
	free(sid);
	hc_close(c);
	hc_close(c2);
	hc_close(c3);
}
END_TEST

/* The daemon's resident set, in KiB. */
static long
daemon_rss_kb(void)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)d->pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	ck_assert_int_gt(kb, 0);
	return (kb);
}

START_TEST(test_keep_alive_requests_leave_memory_flat)
{
	struct hconn	*c = hc_open();
	cJSON		*a;
	char		*sid;
	long		 before, after;
	int		 i, round;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	for (round = 0; round < 2; round++) {
		if (round == 1)
			before = daemon_rss_kb();
		for (i = 0; i < 200; i++) {
			ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, i,
			    "echo", "{\"text\":\"hello\"}", &a), 200);
			cJSON_Delete(a);
		}
	}
	after = daemon_rss_kb();
#ifndef __SANITIZE_ADDRESS__
	/* Under valgrind (MCPB_VALGRIND) freed blocks are held back too;
	   there memcheck's leak check at the daemon's exit is the check. */
	if (getenv("MCPB_VALGRIND") == NULL)
		ck_assert_msg(after - before < 256, "VmRSS grew from %ld to "
		    "%ld KiB over 200 requests", before, after);
#else
	/* ASan's quarantine keeps freed memory resident; in that build
	   LeakSanitizer at the daemon's exit is the check. */
	(void)before;
	(void)after;
#endif
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_idle_http_session_expires)
{
	struct hconn	*c;
	cJSON		*a;
	char		*sid;

	teardown();
	start_with(",\"idle_timeout_s\":2");
	c = hc_open();
	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 2, "counter", "{}", &a),
	    200);
	cJSON_Delete(a);
	sleep_ms(4000);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 3, "counter", "{}", &a),
	    404);
	cJSON_Delete(a);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_sessions_count_as_clients_and_make_room_for_the_user)
{
	struct hconn	*c;
	cJSON		*a;
	char		*sid[12];
	int		 i;

	teardown();
	start_with(",\"max_clients\":3");
	/*
	 * The connection counts (1), and root has the admin reserve (8)
	 * beyond max_clients: 10 sessions fill it. The 11th initialize
	 * ends the least recently used idle one.
	 */
	c = hc_open();
	for (i = 0; i < 11; i++)
		sid[i] = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid[0], 2, "counter", "{}",
	    &a), 404);
	cJSON_Delete(a);
	for (i = 1; i < 11; i++) {
		ck_assert_int_eq(call(c, "/mcp/fake/t1", sid[i], 3, "counter",
		    "{}", &a), 200);
		cJSON_Delete(a);
	}
	for (i = 0; i < 11; i++)
		free(sid[i]);
	hc_close(c);
}
END_TEST

START_TEST(test_socket_speaks_http_as_the_peer_uid)
{
	struct hconn	*c = hc_open_unix(), *t = hc_open();
	struct client	*u;
	cJSON		*a, *r;
	char		*sid;

	/* No token: the socket's peer is root, as over NDJSON. */
	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", &a);
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    a, "result"), "serverInfo"), "name"), "fake-mcp");
	cJSON_Delete(a);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 2, "counter", "{}", &a),
	    200);
	ck_assert_int_eq((int)structured(a, "count"), 1);
	cJSON_Delete(a);

	/* The same key over NDJSON, and over TCP with root's token. */
	u = daemon_connect(d);
	r = tool_call(u, "fake", "t1", "counter", "{}");
	ck_assert_int_eq((int)json_number(cJSON_GetObjectItem(result_of(r),
	    "structuredContent"), "count"), 2);
	cJSON_Delete(r);
	client_close(u);
	free(sid);
	sid = initialize(t, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(t, "/mcp/fake/t1", sid, 2, "counter", "{}", &a),
	    200);
	ck_assert_int_eq((int)structured(a, "count"), 3);
	cJSON_Delete(a);
	free(sid);
	hc_close(c);
	hc_close(t);
}
END_TEST

/*
 * A list change of the server reaches an HTTP session's GET stream, stamped
 * with the session: its initialize attached it, with no call of its own.
 */
START_TEST(test_list_changed_reaches_the_get_stream)
{
	struct hconn	*c = hc_open(), *c2 = hc_open(), *c3 = hc_open();
	struct hresp	 r;
	cJSON		*ev, *a, *stamp;
	char		*sid, *sid2;

	sid = initialize(c, "/mcp/fake/lc", "2025-11-25", "", NULL);
	hc_send(c, "GET", "/mcp/fake/lc", sid, "text/event-stream", NULL,
	    NULL);
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	/* Another HTTP session of the same key makes the server send it. */
	sid2 = initialize(c2, "/mcp/fake/lc", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c2, "/mcp/fake/lc", sid2, 2, "list_changed",
	    "{\"kind\":\"tools\"}", &a), 200);
	cJSON_Delete(a);
	ck_assert_ptr_nonnull(ev = hc_event(c));
	ck_assert_str_eq(json_string(ev, "method"),
	    "notifications/tools/list_changed");
	stamp = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    ev, "params"), "_meta"), "mcp-broker/session");
	ck_assert_str_eq(json_string(stamp, "thread"), "lc");
	cJSON_Delete(ev);
	/* Not a session of another key. */
	free(sid2);
	sid2 = initialize(c3, "/mcp/fake/other", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c3, "/mcp/fake/other", sid2, 2, "list_changed",
	    "{\"kind\":\"prompts\"}", &a), 200);
	cJSON_Delete(a);
	ck_assert_int_eq(call(c2, "/mcp/fake/lc", sid,
	    3, "list_changed", "{\"kind\":\"resources\"}", &a), 200);
	cJSON_Delete(a);
	ck_assert_ptr_nonnull(ev = hc_event(c));
	ck_assert_str_eq(json_string(ev, "method"),
	    "notifications/resources/list_changed");
	cJSON_Delete(ev);
	free(sid);
	free(sid2);
	hc_close(c);
	hc_close(c2);
	hc_close(c3);
}
END_TEST

START_TEST(test_socket_http_keeps_alive_and_streams)
{
	struct hconn	*c = hc_open_unix();
	struct hresp	 r;
	cJSON		*ev, *a;
	char		*sid;
	int		 i, n = 0;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, i, "counter",
		    "{}", &a), 200);
		cJSON_Delete(a);
	}
	hc_send(c, "POST", "/mcp/fake/t1", sid, "text/event-stream", NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"progress\",\"arguments\":{\"steps\":2,"
	    "\"interval_ms\":10},\"_meta\":{\"progressToken\":7}}}");
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	while ((ev = hc_event(c)) != NULL) {
		n++;
		cJSON_Delete(ev);
	}
	ck_assert_int_eq(n, 3);
	free(sid);
	hc_close(c);
}
END_TEST

START_TEST(test_socket_client_that_waits_is_ndjson)
{
	struct client	*u;
	cJSON		*r;

	/* Longer than the first bytes are awaited (LISTENER_SNIFF_MS). */
	u = daemon_connect(d);
	sleep_ms(2500);
	r = rpc(u, "broker/status", "{}");
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
	client_close(u);

	/* A first line that only starts like a method is NDJSON too. */
	u = daemon_connect(d);
	send_line(u, "GETX");
	r = recv_msg(u);
	ck_assert_int_eq(error_code(r), -32700);
	cJSON_Delete(r);
	client_close(u);
}
END_TEST

/*
 * The TCP ports the daemon listens on, from /proc: its sockets' inodes
 * matched against /proc/net/tcp's listening entries. Returns how many
 * were put in ports.
 */
static int
daemon_tcp_ports(int *ports, int max)
{
	char		 path[512], link[256], line[512];
	unsigned long	 inodes[256], inode;
	unsigned int	 lport, state;
	int		 ninodes = 0, n = 0, i;
	FILE		*f;
	DIR		*dp;
	struct dirent	*de;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)d->pid);
	ck_assert_ptr_nonnull(dp = opendir(path));
	while ((de = readdir(dp)) != NULL && ninodes < 256) {
		snprintf(path, sizeof path, "/proc/%ld/fd/%s", (long)d->pid,
		    de->d_name);
		memset(link, 0, sizeof link);
		if (readlink(path, link, sizeof link - 1) > 0 &&
		    sscanf(link, "socket:[%lu]", &inode) == 1)
			inodes[ninodes++] = inode;
	}
	closedir(dp);
	ck_assert_ptr_nonnull(f = fopen("/proc/net/tcp", "r"));
	while (fgets(line, sizeof line, f) != NULL && n < max) {
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x "
		    "%*d %*d %lu", &lport, &state, &inode) != 3 ||
		    state != 0x0a)
			continue;
		for (i = 0; i < ninodes; i++) {
			if (inodes[i] == inode)
				ports[n++] = (int)lport;
		}
	}
	fclose(f);
	return (n);
}

START_TEST(test_private_listener_closes_strangers_unread)
{
	struct hconn	*c = hc_open_unix();
	char		*sid, buf[64];
	int		 ports[8], n, i, fd, other = -1;
	struct sockaddr_in sin;
	struct pollfd	 pfd;

	/* The socket's first HTTP connection opens it. */
	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	n = daemon_tcp_ports(ports, 8);
	for (i = 0; i < n; i++) {
		if (ports[i] != port)
			other = ports[i];
	}
	ck_assert_msg(other != -1, "no private listener among %d ports", n);

	/* A stranger on that port is closed without an answer. */
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)other);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_gt(send(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25,
	    MSG_NOSIGNAL), 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, READ_MS), 1);
	ck_assert_int_le(recv(fd, buf, sizeof buf, 0), 0);
	close(fd);
	ck_assert(wait_log(d, 3000, "did not make", NULL));
	free(sid);
	hc_close(c);
}
END_TEST

/* The suite. */
/*
 * A daemon told to stop while an initialize waits for its child to start
 * answers it and exits 0 (the HTTP session is ended with the endpoint,
 * not left holding a request evhttp freed).
 */
START_TEST(test_a_stop_during_a_slow_initialize_exits_cleanly)
{
	struct hconn	*c = hc_open();
	char		*body;

	xasprintf(&body, INIT_BODY, "2025-11-25", "");
	hc_send(c, "POST", "/mcp/slow/t1", NULL, "application/json, "
	    "text/event-stream", NULL, body);
	free(body);
	ck_assert(wait_log(d, 5000, "starting slow for thread t1", NULL));
	daemon_stop_ok(d);
	d = NULL;
	hc_close(c);
}
END_TEST

/*
 * Two clients initializing while the child starts both get its real
 * capabilities: the second waits for the start as the first does.
 */
START_TEST(test_an_initialize_during_the_start_waits_for_the_child)
{
	struct hconn	*c = hc_open(), *c2 = hc_open();
	struct hresp	 r;
	cJSON		*a, *caps;
	char		*body;
	int		 i;

	xasprintf(&body, INIT_BODY, "2025-11-25", "");
	hc_send(c, "POST", "/mcp/slow/t1", NULL, "application/json, "
	    "text/event-stream", NULL, body);
	ck_assert(wait_log(d, 5000, "starting slow for thread t1", NULL));
	hc_send(c2, "POST", "/mcp/slow/t1", NULL, "application/json, "
	    "text/event-stream", NULL, body);
	free(body);
	for (i = 0; i < 2; i++) {
		hc_head(i == 0 ? c : c2, &r);
		ck_assert_int_eq(r.status, 200);
		a = json_of(&r);
		caps = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "result"),
		    "capabilities");
		ck_assert_msg(cJSON_GetObjectItem(caps, "tools") != NULL,
		    "initialize %d: no tools capability", i + 1);
		cJSON_Delete(a);
		hresp_clear(&r);
	}
	hc_close(c);
	hc_close(c2);
}
END_TEST

/* idle_timeout_s 0 means never, for an HTTP session too. */
START_TEST(test_an_http_session_of_a_never_idle_broker_stays)
{
	struct hconn	*c = hc_open();
	cJSON		*a;
	char		*sid;

	sid = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	sleep_ms(2500);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid, 2, "counter", "{}", &a),
	    200);
	ck_assert_int_eq((int)structured(a, "count"), 1);
	cJSON_Delete(a);
	free(sid);
	hc_close(c);
}
END_TEST

/* The 2026-07-28 members every request of that protocol carries. */
#define MODERN_META	"\"io.modelcontextprotocol/protocolVersion\":" \
			"\"2026-07-28\",\"io.modelcontextprotocol/" \
			"clientCapabilities\":{},\"io.modelcontextprotocol/" \
			"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}"

/*
 * A 2026-07-28 request on a fresh connection, without Mcp-Session-Id:
 * method with params members (NULL: none besides _meta) and _meta
 * members meta, the headers that protocol asks for (version: its
 * MCP-Protocol-Version, NULL: none; name: its Mcp-Name, NULL: none).
 * The answer's status; its body parsed in *answer.
 */
static int
modern(const char *path, const char *version, const char *method,
    const char *name, const char *params, const char *meta, cJSON **answer)
{
	struct hconn	*c = hc_open();
	struct hresp	 r;
	char		*body, *headers;
	int		 status;

	xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":\"m-1\",\"method\":"
	    "\"%s\",\"params\":{%s%s\"_meta\":{%s}}}", method,
	    params != NULL ? params : "", params != NULL ? "," : "", meta);
	xasprintf(&headers, "%s%s%sMcp-Method: %s\r\n%s%s%s",
	    version != NULL ? "MCP-Protocol-Version: " : "",
	    version != NULL ? version : "", version != NULL ? "\r\n" : "",
	    method, name != NULL ? "Mcp-Name: " : "", name != NULL ? name : "",
	    name != NULL ? "\r\n" : "");
	hc_send(c, "POST", path, NULL, "application/json, text/event-stream",
	    headers, body);
	hc_head(c, &r);
	free(body);
	free(headers);
	ck_assert_msg(header_of(r.headers, "Mcp-Session-Id") == NULL,
	    "a 2026-07-28 answer names an MCP session");
	status = r.status;
	*answer = json_of(&r);
	ck_assert_msg(cJSON_IsString(cJSON_GetObjectItem(*answer, "id")) &&
	    strcmp(cJSON_GetObjectItem(*answer, "id")->valuestring, "m-1") ==
	    0, "not the request's id: %d %s", r.status, r.body);
	hresp_clear(&r);
	hc_close(c);
	return (status);
}

/* A tools/call of tool name by a 2026-07-28 client; its result. */
static cJSON *
modern_call(const char *path, const char *name, const char *meta)
{
	cJSON	*a;
	char	*params;
	int	 status;

	xasprintf(&params, "\"name\":\"%s\",\"arguments\":{}", name);
	status = modern(path, "2026-07-28", "tools/call", name, params, meta,
	    &a);
	free(params);
	ck_assert_msg(status == 200 && cJSON_GetObjectItem(a, "result") !=
	    NULL, "tools/call %s: %d", name, status);
	return (a);
}

/* Whether a list of strings holds s. */
static int
holds(cJSON *list, const char *s)
{
	cJSON	*v;

	cJSON_ArrayForEach(v, list) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
			return (1);
	}
	return (0);
}

START_TEST(test_modern_discover_is_answered_from_a_handshake_child)
{
	cJSON	*a, *res, *info;

	ck_assert_int_eq(modern("/mcp/fake/m1", "2026-07-28",
	    "server/discover", NULL, NULL, MODERN_META, &a), 200);
	res = cJSON_GetObjectItem(a, "result");
	ck_assert_msg(res != NULL, "no result");
	ck_assert(holds(cJSON_GetObjectItem(res, "supportedVersions"),
	    "2026-07-28"));
	ck_assert(holds(cJSON_GetObjectItem(res, "supportedVersions"),
	    "2025-11-25"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(res,
	    "capabilities"), "tools"));
	info = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "_meta"),
	    "io.modelcontextprotocol/serverInfo");
	ck_assert_str_eq(cJSON_GetObjectItem(info, "name")->valuestring,
	    "fake-mcp");
	cJSON_Delete(a);
}
END_TEST

START_TEST(test_modern_discover_is_answered_from_a_modern_child)
{
	cJSON	*a, *res, *info;

	ck_assert_int_eq(modern("/mcp/modern/m1", "2026-07-28",
	    "server/discover", NULL, NULL, MODERN_META, &a), 200);
	res = cJSON_GetObjectItem(a, "result");
	ck_assert_msg(res != NULL, "no result");
	ck_assert(holds(cJSON_GetObjectItem(res, "supportedVersions"),
	    "2026-07-28"));
	ck_assert_str_eq(cJSON_GetObjectItem(res, "instructions")->valuestring,
	    "fake modern server");
	info = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "_meta"),
	    "io.modelcontextprotocol/serverInfo");
	ck_assert_str_eq(cJSON_GetObjectItem(info, "name")->valuestring,
	    "fake-mcp-modern");
	cJSON_Delete(a);
}
END_TEST

/*
 * Requests without an MCP session reach the session for the URL and its
 * state (the counter goes on, and a handshake client on the same URL
 * sees it too); a handshake child gets none of the 2026-07-28 members,
 * other _meta members pass; a 2026-07-28 child gets them.
 */
START_TEST(test_modern_calls_reach_the_session_and_its_state)
{
	struct hconn	*c;
	cJSON		*a, *meta;
	char		*sid;
	int		 i;

	for (i = 1; i <= 2; i++) {
		a = modern_call("/mcp/fake/m1", "counter", MODERN_META);
		ck_assert_int_eq((int)structured(a, "count"), i);
		cJSON_Delete(a);
	}
	c = hc_open();
	sid = initialize(c, "/mcp/fake/m1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/m1", sid, 2, "counter", "{}", &a),
	    200);
	ck_assert_int_eq((int)structured(a, "count"), 3);
	cJSON_Delete(a);
	free(sid);
	hc_close(c);

	a = modern_call("/mcp/fake/m1", "meta", MODERN_META
	    ",\"x-test/kept\":7");
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "result"), "structuredContent"), "meta");
	ck_assert_msg(cJSON_IsObject(meta), "the child got no _meta");
	ck_assert_ptr_null(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/protocolVersion"));
	ck_assert_ptr_null(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/clientCapabilities"));
	ck_assert_ptr_null(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/clientInfo"));
	ck_assert_int_eq(cJSON_GetObjectItem(meta, "x-test/kept")->valueint, 7);
	cJSON_Delete(a);

	a = modern_call("/mcp/modern/m1", "meta", MODERN_META);
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "result"), "structuredContent"), "meta");
	ck_assert_str_eq(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/protocolVersion")->valuestring,
	    "2026-07-28");
	cJSON_Delete(a);
}
END_TEST

/* An NDJSON client's 2026-07-28 members do not reach a handshake child. */
START_TEST(test_ndjson_modern_members_do_not_reach_a_handshake_child)
{
	struct client	*u;
	cJSON		*r, *meta;

	u = daemon_connect(d);
	r = rpc(u, "tools/call", "{\"server\":\"fake\",\"thread\":\"n1\","
	    "\"name\":\"meta\",\"_meta\":{" MODERN_META ",\"x-test/kept\":7}}");
	meta = cJSON_GetObjectItem(cJSON_GetObjectItem(result_of(r),
	    "structuredContent"), "meta");
	ck_assert_msg(cJSON_IsObject(meta), "the child got no _meta");
	ck_assert_ptr_null(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/protocolVersion"));
	ck_assert_ptr_null(cJSON_GetObjectItem(meta,
	    "io.modelcontextprotocol/clientCapabilities"));
	ck_assert_int_eq(cJSON_GetObjectItem(meta, "x-test/kept")->valueint, 7);
	cJSON_Delete(r);
	client_close(u);
}
END_TEST

/*
 * The transport's errors: a required _meta member missing, an
 * unsupported version, headers that do not match the body, an unknown
 * method; ping is {}; GET is not in the protocol.
 */
START_TEST(test_modern_errors_are_the_transports)
{
	struct hconn	*c;
	struct hresp	 r;
	cJSON		*a, *data;

	ck_assert_int_eq(modern("/mcp/fake/m1", "2026-07-28", "tools/list",
	    NULL, NULL, "", &a), 400);
	ck_assert_int_eq(rpc_code(a), -32602);
	cJSON_Delete(a);

	ck_assert_int_eq(modern("/mcp/fake/m1", "1900-01-01", "tools/list",
	    NULL, NULL, "\"io.modelcontextprotocol/protocolVersion\":"
	    "\"1900-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}",
	    &a), 400);
	ck_assert_int_eq(rpc_code(a), -32022);
	data = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "error"), "data");
	ck_assert(holds(cJSON_GetObjectItem(data, "supported"), "2026-07-28"));
	ck_assert_str_eq(cJSON_GetObjectItem(data, "requested")->valuestring,
	    "1900-01-01");
	cJSON_Delete(a);

	/* No MCP-Protocol-Version, and an Mcp-Name for another tool. */
	ck_assert_int_eq(modern("/mcp/fake/m1", NULL, "tools/list", NULL,
	    NULL, MODERN_META, &a), 400);
	ck_assert_int_eq(rpc_code(a), -32020);
	cJSON_Delete(a);
	ck_assert_int_eq(modern("/mcp/fake/m1", "2026-07-28", "tools/call",
	    "pid", "\"name\":\"counter\"", MODERN_META, &a), 400);
	ck_assert_int_eq(rpc_code(a), -32020);
	cJSON_Delete(a);
	/* The name as the transport encodes it: "counter" in base64. */
	ck_assert_int_eq(modern("/mcp/fake/m1", "2026-07-28", "tools/call",
	    "=?base64?Y291bnRlcg==?=", "\"name\":\"counter\"", MODERN_META,
	    &a), 200);
	ck_assert_int_eq((int)structured(a, "count"), 1);
	cJSON_Delete(a);

	ck_assert_int_eq(modern("/mcp/fake/m1", "2026-07-28", "no/such",
	    NULL, NULL, MODERN_META, &a), 404);
	ck_assert_int_eq(rpc_code(a), -32601);
	cJSON_Delete(a);

	ck_assert_int_eq(modern("/mcp/fake/m1", "2026-07-28", "ping", NULL,
	    NULL, MODERN_META, &a), 200);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(a, "result")),
	    0);
	cJSON_Delete(a);

	c = hc_open();
	hc_send(c, "GET", "/mcp/fake/m1", NULL, "text/event-stream",
	    "MCP-Protocol-Version: 2026-07-28\r\n", NULL);
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 405);
	hresp_clear(&r);
	hc_close(c);
}
END_TEST

/* A child's request to the client finds none: the child hears -32601. */
START_TEST(test_modern_client_takes_no_requests_from_the_child)
{
	cJSON	*a, *err;

	a = modern_call("/mcp/fake/m1", "sample", MODERN_META);
	err = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a,
	    "result"), "structuredContent"), "error");
	ck_assert_msg(cJSON_IsObject(err), "the child got no error");
	ck_assert_int_eq(cJSON_GetObjectItem(err, "code")->valueint, -32601);
	cJSON_Delete(a);
}
END_TEST

/*
 * A 2026-07-28 request that names a logLevel and accepts a stream gets
 * the session's log messages at that level on it, then its answer; a
 * message below the level does not come.
 */
START_TEST(test_modern_request_with_a_log_level_streams_its_logs)
{
	static const char *const paths[] = { "/mcp/fake/l1", "/mcp/modern/l1" };
	struct hconn	*c;
	struct hresp	 r;
	cJSON		*ev, *params;
	const char	*method;
	char		*type;
	size_t		 i;
	int		 logs, info;

	for (i = 0; i < 2; i++) {
		c = hc_open();
		/* A warning meets info; a debug message does not. */
		hc_send(c, "POST", paths[i], NULL,
		    "application/json, text/event-stream",
		    "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: "
		    "tools/call\r\nMcp-Name: log\r\n", "{\"jsonrpc\":\"2.0\","
		    "\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
		    "\"log\",\"arguments\":{\"level\":\"warning\",\"data\":"
		    "\"w\"},\"_meta\":{" MODERN_META ",\"io.modelcontextprotocol"
		    "/logLevel\":\"info\"}}}");
		hc_head(c, &r);
		ck_assert_int_eq(r.status, 200);
		type = header_of(r.headers, "Content-Type");
		ck_assert_ptr_nonnull(strstr(type, "text/event-stream"));
		free(type);
		logs = info = 0;
		while ((ev = hc_event(c)) != NULL) {
			method = cJSON_GetStringValue(cJSON_GetObjectItem(ev,
			    "method"));
			params = cJSON_GetObjectItem(ev, "params");
			if (method != NULL &&
			    strcmp(method, "notifications/message") == 0) {
				logs++;
				ck_assert_str_eq(json_string(params, "level"),
				    "warning");
				ck_assert_ptr_nonnull(cJSON_GetObjectItem(
				    cJSON_GetObjectItem(params, "_meta"),
				    "mcp-broker/session"));
			} else if (method == NULL) {
				ck_assert_msg(logs == 1, "%s: %d log messages "
				    "before the answer", paths[i], logs);
				info = 1;
			}
			cJSON_Delete(ev);
		}
		ck_assert_msg(info, "%s: no answer on the stream", paths[i]);
		hresp_clear(&r);
		hc_close(c);
	}
}
END_TEST

/* Whether the child of server/thread says, within 5 s, it saw a cancel. */
static int
child_cancelled(struct client *u, const char *server, const char *thread)
{
	cJSON	*s;
	int	 i, cancelled = 0;

	for (i = 0; i < 50 && !cancelled; i++) {
		sleep_ms(100);
		s = session_of(u, server, thread);
		cancelled = tail_has(cJSON_GetObjectItem(result_of(s),
		    "stderr_tail"), "fake-mcp: cancelled request");
		cJSON_Delete(s);
	}
	return (cancelled);
}

/* Closing the connection before the answer cancels the request. */
START_TEST(test_modern_client_that_leaves_cancels_its_request)
{
	struct hconn	*c = hc_open();
	struct client	*u;

	/* The session first, so that the wait below finds it. */
	cJSON_Delete(modern_call("/mcp/fake/m1", "counter", MODERN_META));
	hc_send(c, "POST", "/mcp/fake/m1", NULL, "application/json",
	    "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\n"
	    "Mcp-Name: sleep\r\n", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"sleep\",\"arguments\":"
	    "{\"ms\":20000},\"_meta\":{" MODERN_META "}}}");
	u = daemon_connect(d);
	wait_in_flight(u, "fake", "m1", 1);
	hc_close(c);
	ck_assert_msg(child_cancelled(u, "fake", "m1"),
	    "the child was not told of the cancel");
	client_close(u);
}
END_TEST

/*
 * A client that drops an event stream while events are written to it
 * cancels its request too: evhttp gives up on the connection at the
 * write that fails (every 2 ms here), before the look for closed
 * connections comes by (every 250 ms), and the request is let go.
 */
START_TEST(test_modern_client_that_drops_its_stream_cancels_its_request)
{
	struct linger	 reset = { 1, 0 };
	struct hconn	*c = hc_open();
	struct hresp	 r;
	struct client	*u;
	cJSON		*ev;

	cJSON_Delete(modern_call("/mcp/fake/m1", "counter", MODERN_META));
	hc_send(c, "POST", "/mcp/fake/m1", NULL,
	    "application/json, text/event-stream", "MCP-Protocol-Version: "
	    "2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: progress\r\n",
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"progress\",\"arguments\":{\"steps\":"
	    "100000,\"interval_ms\":2},\"_meta\":{" MODERN_META ","
	    "\"progressToken\":\"p-1\"}}}");
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	ck_assert_ptr_nonnull(ev = hc_event(c));
	ck_assert_str_eq(json_string(ev, "method"), "notifications/progress");
	cJSON_Delete(ev);
	/* A reset: the next event's write fails. */
	ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset,
	    sizeof reset), 0);
	hc_close(c);
	u = daemon_connect(d);
	ck_assert_msg(child_cancelled(u, "fake", "m1"),
	    "the child was not told of the cancel");
	wait_in_flight(u, "fake", "m1", 0);
	client_close(u);
}
END_TEST

/*
 * A server the broker does not have: 404 and -32010, whatever the
 * method, ping and server/discover too.
 */
START_TEST(test_modern_unknown_server_gets_404_with_32010)
{
	static const char *const methods[] = { "ping", "server/discover",
	    "tools/list" };
	struct hconn	*c;
	struct hresp	 r;
	cJSON		*a;
	char		*body, *headers;
	size_t		 i;

	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		c = hc_open();
		xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
		    "\"%s\",\"params\":{\"_meta\":{" MODERN_META "}}}",
		    methods[i]);
		xasprintf(&headers, "MCP-Protocol-Version: 2026-07-28\r\n"
		    "Mcp-Method: %s\r\n", methods[i]);
		hc_send(c, "POST", "/mcp/nosuch/x", NULL, "application/json",
		    headers, body);
		hc_head(c, &r);
		ck_assert_msg(r.status == 404, "%s: %d", methods[i], r.status);
		a = json_of(&r);
		ck_assert_int_eq(rpc_code(a), -32010);
		cJSON_Delete(a);
		hresp_clear(&r);
		free(body);
		free(headers);
		hc_close(c);
	}
}
END_TEST

/*
 * A client that drops the event stream of its POST leaves: the session
 * lets its request go at once, though evhttp took it off the
 * connection itself (the write of the next event fails). The request
 * runs on at the child, uncancelled (a disconnect is no cancel), and
 * the session takes the next call.
 */
START_TEST(test_client_that_drops_its_post_stream_leaves_its_request_running)
{
	struct linger	 reset = { 1, 0 };
	struct hconn	*c = hc_open(), *c2 = hc_open();
	struct hresp	 r;
	struct client	*u;
	cJSON		*ev, *a, *s;
	char		*sid;

	sid = initialize(c2, "/mcp/fake/t1", "2025-11-25", "", NULL);
	hc_send(c, "POST", "/mcp/fake/t1", sid, "application/json, "
	    "text/event-stream", NULL, "{\"jsonrpc\":\"2.0\",\"id\":4,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"progress\","
	    "\"arguments\":{\"steps\":500,\"interval_ms\":2},"
	    "\"_meta\":{\"progressToken\":\"tok-d\"}}}");
	hc_head(c, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	ck_assert_ptr_nonnull(ev = hc_event(c));
	ck_assert_str_eq(json_string(ev, "method"), "notifications/progress");
	cJSON_Delete(ev);
	/* A reset: the next event's write fails. */
	ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset,
	    sizeof reset), 0);
	hc_close(c);
	ck_assert_msg(wait_log(d, 3000, "left before its answer; the "
	    "request runs on", NULL), "the session did not see its client "
	    "leave");
	u = daemon_connect(d);
	wait_in_flight(u, "fake", "t1", 0);
	s = session_of(u, "fake", "t1");
	ck_assert_msg(!tail_has(cJSON_GetObjectItem(result_of(s),
	    "stderr_tail"), "fake-mcp: cancelled request"),
	    "the child was told to cancel");
	cJSON_Delete(s);
	ck_assert_int_eq(call(c2, "/mcp/fake/t1", sid, 5, "counter", "{}",
	    &a), 200);
	cJSON_Delete(a);
	client_close(u);
	free(sid);
	hc_close(c2);
}
END_TEST

/*
 * A GET stream whose client drops it makes way for a new one, which
 * gets the server's next list change.
 */
START_TEST(test_dropped_get_stream_makes_way_for_a_new_one)
{
	struct linger	 reset = { 1, 0 };
	struct hconn	*c = hc_open(), *g = hc_open();
	struct hresp	 r;
	cJSON		*ev, *a;
	char		*sid;

	sid = initialize(c, "/mcp/fake/lc", "2025-11-25", "", NULL);
	hc_send(g, "GET", "/mcp/fake/lc", sid, "text/event-stream", NULL,
	    NULL);
	hc_head(g, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	ck_assert_int_eq(setsockopt(g->fd, SOL_SOCKET, SO_LINGER, &reset,
	    sizeof reset), 0);
	hc_close(g);
	sleep_ms(200);
	g = hc_open();
	hc_send(g, "GET", "/mcp/fake/lc", sid, "text/event-stream", NULL,
	    NULL);
	hc_head(g, &r);
	ck_assert_msg(r.status == 200, "a new GET: %d", r.status);
	hresp_clear(&r);
	ck_assert_int_eq(call(c, "/mcp/fake/lc", sid, 2, "list_changed",
	    "{\"kind\":\"tools\"}", &a), 200);
	cJSON_Delete(a);
	ck_assert_ptr_nonnull(ev = hc_event(g));
	ck_assert_str_eq(json_string(ev, "method"),
	    "notifications/tools/list_changed");
	cJSON_Delete(ev);
	free(sid);
	hc_close(c);
	hc_close(g);
}
END_TEST

/*
 * A session whose GET stream was dropped has nothing open: at the
 * bound of clients, it is the idle one that ends to make room.
 */
START_TEST(test_session_whose_get_stream_dropped_makes_room)
{
	struct linger	 reset = { 1, 0 };
	struct hconn	*c, *g;
	struct hresp	 r;
	cJSON		*a;
	char		*sid[11];
	int		 i;

	teardown();
	start_with(",\"max_clients\":3");
	c = hc_open();
	g = hc_open();
	sid[0] = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	hc_send(g, "GET", "/mcp/fake/t1", sid[0], "text/event-stream", NULL,
	    NULL);
	hc_head(g, &r);
	ck_assert_int_eq(r.status, 200);
	hresp_clear(&r);
	ck_assert_int_eq(setsockopt(g->fd, SOL_SOCKET, SO_LINGER, &reset,
	    sizeof reset), 0);
	hc_close(g);
	sleep_ms(200);
	/* As in test_sessions_count_as_clients_and_make_room_for_the_user:
	   the 11th session needs room, and the least recently used idle
	   one, sid[0], ends. */
	for (i = 1; i < 11; i++)
		sid[i] = initialize(c, "/mcp/fake/t1", "2025-11-25", "", NULL);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid[0], 2, "counter", "{}",
	    &a), 404);
	cJSON_Delete(a);
	ck_assert_int_eq(call(c, "/mcp/fake/t1", sid[1], 2, "counter", "{}",
	    &a), 200);
	cJSON_Delete(a);
	for (i = 0; i < 11; i++)
		free(sid[i]);
	hc_close(c);
}
END_TEST

static Suite *
http_mcp_suite(void)
{
	Suite	*s = suite_create("http_mcp");
	TCase	*tc;

	tc = harness_add_tcase(s, "sessions", setup, teardown, 30);
	tcase_add_test(tc,
	    test_initialize_answers_from_the_child_with_a_session_id);
	tcase_add_test(tc, test_call_with_the_session_id_gets_a_json_answer);
	tcase_add_test(tc,
	    test_session_id_missing_gets_400_and_unknown_gets_404);
	tcase_add_test(tc, test_session_id_is_only_good_for_its_own_url);
	tcase_add_test(tc,
	    test_delete_ends_the_http_session_and_the_child_runs_on);
	tcase_add_test(tc,
	    test_a_body_on_many_lines_reaches_the_child_as_one_message);
	tcase_add_test(tc, test_second_initialize_reaches_the_same_child);
	tcase_add_test(tc, test_idle_http_session_expires);
	tcase_add_test(tc,
	    test_sessions_count_as_clients_and_make_room_for_the_user);

	tc = harness_add_tcase(s, "status", setup, teardown, 30);
	tcase_add_test(tc, test_unknown_server_gets_404_with_32010);
	tcase_add_test(tc, test_names_in_the_path_are_decoded_and_checked);
	tcase_add_test(tc, test_no_token_gets_401_and_a_foreign_origin_403);
	tcase_add_test(tc, test_malformed_json_gets_400_with_a_parse_error);
	tcase_add_test(tc, test_posted_notifications_and_answers_get_202);
	tcase_add_test(tc, test_ping_discover_and_a_bad_protocol_header);

	tc = harness_add_tcase(s, "modern", setup, teardown, 30);
	tcase_add_test(tc,
	    test_modern_discover_is_answered_from_a_handshake_child);
	tcase_add_test(tc,
	    test_modern_discover_is_answered_from_a_modern_child);
	tcase_add_test(tc, test_modern_calls_reach_the_session_and_its_state);
	tcase_add_test(tc,
	    test_ndjson_modern_members_do_not_reach_a_handshake_child);
	tcase_add_test(tc, test_modern_errors_are_the_transports);
	tcase_add_test(tc, test_modern_client_takes_no_requests_from_the_child);
	tcase_add_test(tc, test_modern_client_that_leaves_cancels_its_request);
	tcase_add_test(tc,
	    test_modern_client_that_drops_its_stream_cancels_its_request);
	tcase_add_test(tc, test_modern_unknown_server_gets_404_with_32010);
	tcase_add_test(tc,
	    test_modern_request_with_a_log_level_streams_its_logs);

	tc = harness_add_tcase(s, "bounds", setup_small, teardown, 30);
	tcase_add_test(tc, test_body_over_max_message_bytes_gets_413);

	tc = harness_add_tcase(s, "streams", setup, teardown, 30);
	tcase_add_test(tc, test_progress_comes_as_events_before_the_answer);
	tcase_add_test(tc,
	    test_sampling_request_reaches_the_stream_and_its_answer_the_server);
	tcase_add_test(tc, test_sampling_without_a_stream_fails_at_once);
	tcase_add_test(tc, test_get_opens_one_standalone_stream);
	tcase_add_test(tc, test_list_changed_reaches_the_get_stream);
	tcase_add_test(tc,
	    test_client_that_drops_its_post_stream_leaves_its_request_running);
	tcase_add_test(tc, test_dropped_get_stream_makes_way_for_a_new_one);
	tcase_add_test(tc, test_session_whose_get_stream_dropped_makes_room);
	tcase_add_test(tc, test_keep_alive_requests_leave_memory_flat);

	tc = harness_add_tcase(s, "stop", setup, teardown, 30);
	tcase_add_test(tc, test_a_stop_during_a_slow_initialize_exits_cleanly);
	tcase_add_test(tc,
	    test_an_initialize_during_the_start_waits_for_the_child);
	tc = harness_add_tcase(s, "never idle", setup_never, teardown, 30);
	tcase_add_test(tc, test_an_http_session_of_a_never_idle_broker_stays);
	tc = harness_add_tcase(s, "socket", setup, teardown, 30);
	tcase_add_test(tc, test_socket_speaks_http_as_the_peer_uid);
	tcase_add_test(tc, test_socket_http_keeps_alive_and_streams);
	tcase_add_test(tc, test_socket_client_that_waits_is_ndjson);
	tcase_add_test(tc, test_private_listener_closes_strangers_unread);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(http_mcp_suite()));
}
