/*
 * The fast path for a child's answers (proto/scan.h): which lines
 * scan_result takes, with which id and which body text; which it leaves
 * to jsonrpc_parse; and that it never takes a line the full parser would
 * read differently.
 *
 * The fast path for a client's forwarded requests: which lines
 * scan_request takes, with which id, method, server, thread and params
 * members; which it leaves to jsonrpc_parse and route_parse; and that
 * the line the daemon then sends the child (broker_forward_text, through
 * wire_request_tail and wire_request_fill) is the request the full path
 * would have forwarded.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "jsonrpc.h"
#include "route.h"
#include "scan.h"
#include "wire.h"

/* A line as a child writes it, and whether the fast path may take it. */
struct scan_case {
	const char	*text;
	int		 accepted;
};

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static char			*copy;		/* the scanned text */
static struct scan_result	 r;
static struct jsonrpc_msg	 msg;
static struct jsonrpc_fault	 fault;
static cJSON			*body_tree;
static char			*built, *printed, *want_printed;
static unsigned char		*long_string;
static struct scan_request	 rq;
static struct route		 rroute;
static struct route_fault	 rfault;
static cJSON			*child_tree, *stripped, *fast_id;
static char			*child, *id_printed, *want_id_printed;

static void	expect_line(const char *, size_t, int, const char *);
static void	setup(void);
static void	teardown(void);
static int	scan_bytes(const char *, size_t);
static int	scan(const char *);
static void	expect_accepted(const char *, long long, const char *);
static void	expect_refused(const char *);
static void	expect_refused_in_result(const char *);
static char	*nested(const char *, const char *, int);
static char	*members(int, int);
static char	*string_line(const unsigned char *, size_t, size_t *);
static int	id_is(const cJSON *, int64_t);
static const char *same_as_parser(const char *);
static int	scan_request_bytes(const char *, size_t);
static int	scan_req(const char *);
static void	expect_span(const char *, const char *, size_t, const char *,
		    const char *);
static const char *request_members(const char *);
static void	expect_request(const char *, const char *, const char *,
		    const char *, const char *, const char *);
static void	expect_request_refused(const char *);
static void	expect_refused_in_params(const char *);
static void	permutation(size_t, size_t, size_t *);
static char	*request_with_members(int);
static char	*request_nested(int);
static char	*request_string_id(size_t);
static cJSON	*request_id(void);
static size_t	request_child_line(void);
static const char *same_as_daemon(size_t);
static Suite	*scan_suite(void);

/* Nothing scanned, parsed or printed yet. */
static void
setup(void)
{
	copy = NULL;
	memset(&r, 0, sizeof r);
	memset(&msg, 0, sizeof msg);
	memset(&fault, 0, sizeof fault);
	body_tree = NULL;
	built = printed = want_printed = NULL;
	long_string = NULL;
	memset(&rq, 0, sizeof rq);
	child_tree = stripped = fast_id = NULL;
	child = id_printed = want_id_printed = NULL;
}

/* Free whatever the test left. */
static void
teardown(void)
{
	free(copy);
	copy = NULL;
	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
	cJSON_Delete(body_tree);
	body_tree = NULL;
	free(built);
	free(printed);
	free(want_printed);
	built = printed = want_printed = NULL;
	free(long_string);
	long_string = NULL;
	cJSON_Delete(child_tree);
	cJSON_Delete(stripped);
	cJSON_Delete(fast_id);
	child_tree = stripped = fast_id = NULL;
	free(child);
	free(id_printed);
	free(want_id_printed);
	child = id_printed = want_id_printed = NULL;
}

/*
 * scan_result() of len bytes, copied to a buffer of exactly that size so
 * that a read past the line is caught (valgrind, ASan): the daemon hands
 * it lines with no NUL after them.
 */
static int
scan_bytes(const char *text, size_t len)
{
	free(copy);
	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	memset(&r, 0, sizeof r);
	return (scan_result(copy, len, &r));
}

/* scan_result() of a C string. */
static int
scan(const char *text)
{
	return (scan_bytes(text, strlen(text)));
}

/* text must be taken with id and exactly body as the result's members. */
static void
expect_accepted(const char *text, long long id, const char *body)
{
	ck_assert_msg(scan(text) == 0, "refused: %s", text);
	ck_assert_msg(r.id == id, "%s: id %lld, want %lld", text,
	    (long long)r.id, id);
	ck_assert_msg(r.body_len == strlen(body) && (r.body_len == 0 ||
	    memcmp(r.body, body, r.body_len) == 0),
	    "%s: body \"%.*s\", want \"%s\"", text, (int)r.body_len,
	    r.body != NULL ? r.body : "", body);
	ck_assert_msg(r.body >= copy && r.body + r.body_len <= copy +
	    strlen(text), "%s: body outside the line", text);
}

/* text must be left to the full parser. */
static void
expect_refused(const char *text)
{
	ck_assert_msg(scan(text) == -1, "accepted: %s", text);
}

/* {"jsonrpc":"2.0","id":1,"result":<value>} must be left to the parser. */
static void
expect_refused_in_result(const char *value)
{
	char	line[256];

	snprintf(line, sizeof line,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":%s}", value);
	expect_refused(line);
}

/* A line whose result holds depth - 1 more levels of open/close. */
static char *
nested(const char *open, const char *close, int depth)
{
	static const char	head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"a\":";
	size_t			n, i, len;
	char			*text, *p;

	n = (size_t)depth - 1;
	len = strlen(head) + n * (strlen(open) + strlen(close)) + 3 + 1;
	text = malloc(len);
	ck_assert_ptr_nonnull(text);
	p = text;
	memcpy(p, head, strlen(head));
	p += strlen(head);
	for (i = 0; i < n; i++) {
		memcpy(p, open, strlen(open));
		p += strlen(open);
	}
	*p++ = '1';
	for (i = 0; i < n; i++) {
		memcpy(p, close, strlen(close));
		p += strlen(close);
	}
	memcpy(p, "}}", 3);
	return (text);
}

/* A line whose result has n members, the object nested depth deep. */
static char *
members(int n, int depth)
{
	char	*text, *p;
	int	 i;

	text = malloc(64 + (size_t)n * 16 + (size_t)depth * 8);
	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{");
	for (i = 1; i < depth; i++)
		p += sprintf(p, "\"o\":{");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"k%d\":%d", i > 0 ? "," : "", i, i);
	for (i = 1; i < depth; i++)
		*p++ = '}';
	strcpy(p, "}}");
	return (text);
}

/* A line whose result is {"s":"<len bytes>"}, and its length. */
static char *
string_line(const unsigned char *bytes, size_t len, size_t *line_len)
{
	static const char	head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"s\":\"";
	char			*text;

	text = malloc(sizeof head - 1 + len + 4);
	ck_assert_ptr_nonnull(text);
	memcpy(text, head, sizeof head - 1);
	memcpy(text + sizeof head - 1, bytes, len);
	memcpy(text + sizeof head - 1 + len, "\"}}", 4);
	*line_len = sizeof head - 1 + len + 3;
	return (text);
}

/*
 * Whether id, as jsonrpc_parse keeps it, is the integer want: a number,
 * or (beyond an int) the raw text of one.
 */
static int
id_is(const cJSON *id, int64_t want)
{
	char	*end;

	if (cJSON_IsNumber(id))
		return (id->valuedouble == (double)want);
	if (cJSON_IsRaw(id))
		return (strtoll(id->valuestring, &end, 10) == want &&
		    *end == '\0');
	return (0);
}

/*
 * Whether a line scan_result took reads the same through jsonrpc_parse:
 * a response under the same id, whose result has no "_meta" member and
 * prints as "{" + body + "}" does. NULL if so, else what differs.
 */
static const char *
same_as_parser(const char *text)
{
	size_t	len = strlen(text);

	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
	if (jsonrpc_parse(copy, len, &msg, &fault) != 0)
		return ("jsonrpc_parse refuses it");
	if (msg.kind != JSONRPC_RESPONSE)
		return ("not a response to jsonrpc_parse");
	if (!id_is(msg.id, r.id))
		return ("another id");
	if (!cJSON_IsObject(msg.result))
		return ("no result object");
	if (cJSON_GetObjectItemCaseSensitive(msg.result, "_meta") != NULL)
		return ("the result has a \"_meta\" member");

	free(built);
	built = malloc(r.body_len + 3);
	ck_assert_ptr_nonnull(built);
	built[0] = '{';
	memcpy(built + 1, r.body, r.body_len);
	memcpy(built + 1 + r.body_len, "}", 2);
	cJSON_Delete(body_tree);
	if ((body_tree = cJSON_Parse(built)) == NULL)
		return ("\"{\" + body + \"}\" is not JSON");

	free(printed);
	free(want_printed);
	printed = cJSON_PrintUnformatted(msg.result);
	want_printed = cJSON_PrintUnformatted(body_tree);
	ck_assert_ptr_nonnull(printed);
	ck_assert_ptr_nonnull(want_printed);
	if (strcmp(printed, want_printed) != 0)
		return ("the body is not the result");
	return (NULL);
}

/*
 * scan_request() of len bytes, copied to a buffer of exactly that size
 * (a read past the line is caught), as conn_line hands it a framed line.
 */
static int
scan_request_bytes(const char *text, size_t len)
{
	free(copy);
	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	memset(&rq, 0xa5, sizeof rq);	/* scan_request must reset it */
	return (scan_request(copy, len, &rq));
}

/* scan_request() of a C string. */
static int
scan_req(const char *text)
{
	return (scan_request_bytes(text, strlen(text)));
}

/* The span p, len of the scanned text must be inside it and be want. */
static void
expect_span(const char *text, const char *what, size_t len, const char *p,
    const char *want)
{
	ck_assert_msg(p != NULL, "%s: no %s", text, what);
	ck_assert_msg(p >= copy && p + len <= copy + strlen(text),
	    "%s: %s outside the line", text, what);
	ck_assert_msg(len == strlen(want) && memcmp(p, want, len) == 0,
	    "%s: %s \"%.*s\", want \"%s\"", text, what, (int)len, p, want);
}

/*
 * The params members of rq in order, separated by "|": each as its text
 * ("key":value), server and thread as "@" and their key. Checks that
 * every span is inside text and that each member starts at its key.
 */
static const char *
request_members(const char *text)
{
	const char	*q, *end = copy + strlen(text);
	size_t		 i, n = 0, cap = 1, klen;

	ck_assert_uint_le(rq.nmembers, SCAN_MAX_KEYS);
	for (i = 0; i < rq.nmembers; i++)
		cap += (rq.member[i] != NULL ? rq.member_len[i] :
		    (size_t)(end - rq.key[i]) + 1) + 1;
	free(printed);
	printed = malloc(cap);
	ck_assert_ptr_nonnull(printed);
	for (i = 0; i < rq.nmembers; i++) {
		ck_assert_msg(rq.key[i] >= copy && rq.key[i] < end &&
		    *rq.key[i] == '"', "%s: key %zu is not a key", text, i);
		q = memchr(rq.key[i] + 1, '"', (size_t)(end - rq.key[i] - 1));
		ck_assert_ptr_nonnull(q);
		klen = (size_t)(q + 1 - rq.key[i]);
		if (i > 0)
			printed[n++] = '|';
		if (rq.member[i] == NULL) {
			printed[n++] = '@';
			memcpy(printed + n, rq.key[i], klen);
			n += klen;
			continue;
		}
		ck_assert_msg(rq.member[i] == rq.key[i] && rq.member_len[i] >=
		    klen && rq.member[i] + rq.member_len[i] <= end,
		    "%s: member %zu is not at its key", text, i);
		memcpy(printed + n, rq.member[i], rq.member_len[i]);
		n += rq.member_len[i];
	}
	printed[n] = '\0';
	return (printed);
}

/*
 * text must be taken with exactly these spans: id and method as written
 * (method with its quotes), server and thread without quotes, and the
 * params members as request_members() lists them.
 */
static void
expect_request(const char *text, const char *id, const char *method,
    const char *server, const char *thread, const char *members)
{
	ck_assert_msg(scan_req(text) == 0, "refused: %s", text);
	expect_span(text, "id", rq.id_len, rq.id, id);
	expect_span(text, "method", rq.method_len, rq.method, method);
	expect_span(text, "server", rq.server_len, rq.server, server);
	expect_span(text, "thread", rq.thread_len, rq.thread, thread);
	ck_assert_msg(strcmp(request_members(text), members) == 0,
	    "%s: members %s, want %s", text, printed, members);
}

/* text must be left to jsonrpc_parse and route_parse. */
static void
expect_request_refused(const char *text)
{
	ck_assert_msg(scan_req(text) == -1, "accepted: %s", text);
}

/* A tools/call whose params are {members} must be left to the parsers. */
static void
expect_refused_in_params(const char *members)
{
	char	line[512];

	ck_assert_int_lt(snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\","
	    "\"id\":1,\"method\":\"tools/call\",\"params\":{%s}}", members),
	    (int)sizeof line);
	expect_request_refused(line);
}

/* The k-th of the n! orders of 0 … n - 1 (k < n!). */
static void
permutation(size_t k, size_t n, size_t *order)
{
	size_t	i, pick, t;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 0; i < n; i++) {
		pick = i + k % (n - i);
		k /= n - i;
		t = order[i];
		order[i] = order[pick];
		order[pick] = t;
	}
}

/* A request whose params are server, thread and n - 2 more members. */
static char *
request_with_members(int n)
{
	char	*text, *p;
	int	 i;

	text = malloc(128 + (size_t)n * 16);
	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"");
	for (i = 2; i < n; i++)
		p += sprintf(p, ",\"k%d\":%d", i, i);
	strcpy(p, "}}");
	return (text);
}

/* A request whose params member "a" nests depth - 1 arrays in params. */
static char *
request_nested(int depth)
{
	static const char	head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"method\":\"m\",\"params\":{\"server\":"
				    "\"s\",\"thread\":\"t\",\"a\":";
	char			*text, *p;
	int			 i;

	text = malloc(sizeof head + 2 * (size_t)depth + 4);
	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, "%s", head);
	for (i = 1; i < depth; i++)
		*p++ = '[';
	*p++ = '1';
	for (i = 1; i < depth; i++)
		*p++ = ']';
	strcpy(p, "}}");
	return (text);
}

/* A request whose id is a string of len 'x's. */
static char *
request_string_id(size_t len)
{
	char	*text;
	int	 n;

	text = malloc(len + 128);
	ck_assert_ptr_nonnull(text);
	n = sprintf(text, "{\"jsonrpc\":\"2.0\",\"id\":\"");
	memset(text + n, 'x', len);
	strcpy(text + n + len, "\",\"method\":\"m\",\"params\":{\"server\":"
	    "\"s\",\"thread\":\"t\"}}");
	return (text);
}

/* The id broker_forward_text keeps for the client's answer. */
static cJSON *
request_id(void)
{
	return (scan_request_id(&rq));
}

/*
 * The line broker_forward_text has the child sent, with 7 for the child's
 * id: {"jsonrpc":"2.0","id":7 then its tail, ',"method":' M ',"params":{'
 * the members other than server and thread joined by "," and "}}\n", as
 * wire_request_fill() and wire_request_tail() write them. In child;
 * returns its length.
 */
static size_t
request_child_line(void)
{
	char	*tail, *end;
	size_t	 tail_len, cap, n;

	tail_len = wire_request_tail_size(&rq);
	cap = wire_request_size(tail_len);
	free(child);
	child = malloc(cap);
	ck_assert_ptr_nonnull(child);
	tail = wire_request_tail(&rq, &n);
	end = wire_request_fill(child, 7, tail, n);
	free(tail);
	ck_assert_uint_eq(n, tail_len);
	n = (size_t)(end - child);
	ck_assert_uint_le(n, cap);
	return (n);
}

/*
 * Whether the len bytes in copy, which scan_request took into rq, go the
 * same way through the full path: jsonrpc_parse reads a request with the
 * same method and id; route_parse forwards it to the same server and
 * thread with nothing more to rewrite (or refuses it, where the daemon
 * declines the fast path); and the child's line is
 * {"jsonrpc":"2.0","id":7,"method":M,"params":P}, P the params after
 * route_strip, members in the same order (compared as printed, so order
 * counts). NULL if so, else what differs.
 */
static const char *
same_as_daemon(size_t len)
{
	const cJSON	*item;
	const char	*end;
	size_t		 n;
	int		 routed;

	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
	if (jsonrpc_parse(copy, len, &msg, &fault) != 0)
		return ("jsonrpc_parse refuses it");
	if (msg.kind != JSONRPC_REQUEST)
		return ("not a request to jsonrpc_parse");
	if (rq.method_len < 2 || strlen(msg.method) != rq.method_len - 2 ||
	    memcmp(msg.method, rq.method + 1, rq.method_len - 2) != 0)
		return ("another method");

	/* The id the client's answer goes back under. */
	cJSON_Delete(fast_id);
	fast_id = request_id();
	free(id_printed);
	free(want_id_printed);
	id_printed = cJSON_PrintUnformatted(fast_id);
	want_id_printed = cJSON_PrintUnformatted(msg.id);
	ck_assert_ptr_nonnull(id_printed);
	ck_assert_ptr_nonnull(want_id_printed);
	if (strcmp(id_printed, want_id_printed) != 0)
		return ("another id");

	routed = route_parse(msg.method, msg.params, &rroute, &rfault) == 0;
	if (rq.server_len == 0 || rq.thread_len == 0 ||
	    rq.thread_len > ROUTE_THREAD_MAX)
		return (routed ? "route_parse takes what the daemon declines" :
		    NULL);
	if (!routed)
		return ("route_parse refuses it");
	if (rroute.method != ROUTE_FORWARD)
		return ("not forwarded by route_parse");
	if (strlen(rroute.server) != rq.server_len ||
	    memcmp(rroute.server, rq.server, rq.server_len) != 0)
		return ("another server");
	if (strlen(rroute.thread) != rq.thread_len ||
	    memcmp(rroute.thread, rq.thread, rq.thread_len) != 0)
		return ("another thread");
	if (rroute.timeout_ms != 0 || rroute.progress_token != NULL)
		return ("route_parse has more to rewrite");

	/* The child's line: one JSON value, then the newline. */
	n = request_child_line();
	if (memchr(copy, '\n', len) == NULL &&
	    memchr(child, '\n', n - 1) != NULL)
		return ("the child's line holds a newline");
	cJSON_Delete(child_tree);
	if ((child_tree = cJSON_ParseWithLengthOpts(child, n, &end, 0)) ==
	    NULL)
		return ("the child's line is not JSON");
	if (end != child + n - 1)
		return ("the child's line holds more than one value");
	if (!cJSON_IsObject(child_tree))
		return ("the child's line is not an object");
	item = child_tree->child;
	if (item == NULL || strcmp(item->string, "jsonrpc") != 0 ||
	    !cJSON_IsString(item) || strcmp(item->valuestring, "2.0") != 0)
		return ("the child's line has no \"jsonrpc\":\"2.0\" first");
	item = item->next;
	if (item == NULL || strcmp(item->string, "id") != 0 ||
	    !cJSON_IsNumber(item) || item->valuedouble != 7)
		return ("the child's line has no \"id\":7 second");
	item = item->next;
	if (item == NULL || strcmp(item->string, "method") != 0 ||
	    !cJSON_IsString(item) || strcmp(item->valuestring,
	    msg.method) != 0)
		return ("the child's line has another method");
	item = item->next;
	if (item == NULL || strcmp(item->string, "params") != 0 ||
	    !cJSON_IsObject(item))
		return ("the child's line has no params object fourth");
	if (item->next != NULL)
		return ("the child's line has more members");

	cJSON_Delete(stripped);
	stripped = cJSON_Duplicate(msg.params, 1);
	ck_assert_ptr_nonnull(stripped);
	route_strip(stripped);
	free(printed);
	free(want_printed);
	printed = cJSON_PrintUnformatted(item);
	want_printed = cJSON_PrintUnformatted(stripped);
	ck_assert_ptr_nonnull(printed);
	ck_assert_ptr_nonnull(want_printed);
	if (strcmp(printed, want_printed) != 0)
		return ("the child's params are not the stripped params");
	return (NULL);
}

/* Accepted: the plain shape, exactly. */

START_TEST(test_plain_success_response_gives_its_id_and_body)
{
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}", 1,
	    "\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":"
	    "{\"a\":1,\"b\":2}}", 42, "\"a\":1,\"b\":2");
}
END_TEST

START_TEST(test_members_in_any_order_are_accepted)
{
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"x\":true}}",
		"{\"jsonrpc\":\"2.0\",\"result\":{\"x\":true},\"id\":7}",
		"{\"id\":7,\"jsonrpc\":\"2.0\",\"result\":{\"x\":true}}",
		"{\"id\":7,\"result\":{\"x\":true},\"jsonrpc\":\"2.0\"}",
		"{\"result\":{\"x\":true},\"jsonrpc\":\"2.0\",\"id\":7}",
		"{\"result\":{\"x\":true},\"id\":7,\"jsonrpc\":\"2.0\"}",
	};
	size_t	i;

	for (i = 0; i < sizeof lines / sizeof *lines; i++)
		expect_accepted(lines[i], 7, "\"x\":true");
}
END_TEST

START_TEST(test_whitespace_wherever_json_allows_it_is_accepted)
{
	/* Around every token; the body keeps what is inside its braces
	   from the first member on. */
	expect_accepted(" \t\r\n{ \t\r\n\"jsonrpc\" \t\r\n: \t\r\n\"2.0\""
	    " \t\r\n, \t\r\n\"id\" \t\r\n: \t\r\n5 \t\r\n, \t\r\n\"result\""
	    " \t\r\n: \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n,"
	    " \t\r\n{ \t\r\n} \t\r\n, \t\r\n[ \t\r\n] \t\r\n] \t\r\n}"
	    " \t\r\n} \t\r\n", 5,
	    "\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \t\r\n} \t\r\n,"
	    " \t\r\n[ \t\r\n] \t\r\n] \t\r\n");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\n\"a\":1}}",
	    5, "\"a\":1");
}
END_TEST

START_TEST(test_empty_result_gives_an_empty_body)
{
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}", 3, "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{ \t\r\n}}",
	    3, "");
	ck_assert_uint_eq(r.body_len, 0);
}
END_TEST

START_TEST(test_nested_values_and_every_escape_are_accepted)
{
	static const char	body[] =
	    "\"s\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t"
	    " \\u0041\\u00e9\\u20AC\\uD83D\\uDE00 \xc3\xa9 \x7f\","
	    "\"o\":{\"\\u006b\\n\":{\"a\":[1,-2.5,3e10,-0.0E-2,4E+1,0,true,"
	    "false,null,\"\",[],{},[[{\"b\":[{}]}]]]}},\"\":\"empty key\"";
	char			 line[512];

	snprintf(line, sizeof line,
	    "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{%s}}", body);
	expect_accepted(line, 9, body);
}
END_TEST

START_TEST(test_negative_zero_and_fifteen_digit_ids_are_accepted)
{
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":-17,\"result\":{}}", -17,
	    "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}}", 0, "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":-0,\"result\":{}}", 0, "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":999999999999999,"
	    "\"result\":{}}", 999999999999999LL, "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":-123456789012345,"
	    "\"result\":{}}", -123456789012345LL, "");
}
END_TEST

START_TEST(test_meta_deeper_than_the_results_top_level_is_accepted)
{
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":"
	    "{\"_meta\":{\"k\":1}},\"b\":[{\"_meta\":2}],\"c\":\"_meta\"}}", 1,
	    "\"a\":{\"_meta\":{\"k\":1}},\"b\":[{\"_meta\":2}],"
	    "\"c\":\"_meta\"");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"_metadata\":1,\"meta\":2,\"__meta\":3}}", 1,
	    "\"_metadata\":1,\"meta\":2,\"__meta\":3");
}
END_TEST

START_TEST(test_result_nested_to_the_depth_limit_is_accepted)
{
	/* The result itself is depth 1. */
	built = nested("[", "]", SCAN_MAX_DEPTH);
	ck_assert_msg(scan(built) == 0, "depth %d refused", SCAN_MAX_DEPTH);
	free(built);
	built = nested("{\"k\":", "}", SCAN_MAX_DEPTH);
	ck_assert_msg(scan(built) == 0, "depth %d refused", SCAN_MAX_DEPTH);
}
END_TEST

START_TEST(test_result_with_the_most_members_allowed_is_accepted)
{
	built = members(SCAN_MAX_KEYS, 1);
	ck_assert_msg(scan(built) == 0, "%d members refused", SCAN_MAX_KEYS);
	free(built);
	/* Deeper objects are not counted. */
	built = members(10 * SCAN_MAX_KEYS, 2);
	ck_assert_msg(scan(built) == 0, "%d members one level down refused",
	    10 * SCAN_MAX_KEYS);
}
END_TEST

START_TEST(test_every_byte_from_space_up_is_allowed_raw_in_strings)
{
	unsigned char	buf[8 + 256];
	size_t		n, pad, len;
	int		c;

	/* After 0 to 7 bytes, so each lands at every offset of a word. */
	for (pad = 0; pad < 8; pad++) {
		memset(buf, 'x', pad);
		n = pad;
		for (c = 0x20; c <= 0xff; c++) {
			if (c != '"' && c != '\\')
				buf[n++] = (unsigned char)c;
		}
		free(built);
		built = string_line(buf, n, &len);
		ck_assert_msg(scan_bytes(built, len) == 0,
		    "refused after %zu bytes", pad);
		ck_assert_uint_eq(r.body_len, strlen("\"s\":\"\"") + n);
	}
}
END_TEST

START_TEST(test_long_runs_of_escapes_scan_in_linear_time)
{
	static const char *const escapes[] = { "\\n", "\\\"", "\\u00e9" };
	size_t		 i, n, len, esc, line_len;
	clock_t		 start;
	double		 cpu;

	/* A megabyte of text that is mostly escapes, as JSON encodes a
	   file of short lines: cJSON takes milliseconds. */
	len = 1 << 20;
	long_string = malloc(len);
	ck_assert_ptr_nonnull(long_string);
	for (i = 0; i < sizeof escapes / sizeof *escapes; i++) {
		esc = strlen(escapes[i]);
		for (n = 0; n + esc <= len; n += esc)
			memcpy(long_string + n, escapes[i], esc);
		free(built);
		built = string_line(long_string, n, &line_len);
		start = clock();
		ck_assert_int_eq(scan_bytes(built, line_len), 0);
		cpu = (double)(clock() - start) / CLOCKS_PER_SEC;
		ck_assert_msg(cpu < 0.5, "%zu bytes of %s took %.2f s", n,
		    escapes[i], cpu);
	}
}
END_TEST

/* Refused: other messages. */

START_TEST(test_error_responses_are_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":"
	    "{\"code\":-32601,\"message\":\"no\"}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
	    "\"error\":{\"code\":-32601,\"message\":\"no\"}}");
}
END_TEST

START_TEST(test_requests_and_notifications_are_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"roots/list\",\"params\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progress\":1}}");
}
END_TEST

START_TEST(test_missing_members_are_refused)
{
	expect_refused("{\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1}");
	expect_refused("{\"jsonrpc\":\"2.0\"}");
	expect_refused("{}");
}
END_TEST

START_TEST(test_other_jsonrpc_versions_are_refused)
{
	expect_refused("{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":2.0,\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0 \",\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2\",\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":null,\"id\":1,\"result\":{}}");
}
END_TEST

START_TEST(test_repeated_top_level_members_are_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":1,"
	    "\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
	    "\"result\":{}}");
}
END_TEST

START_TEST(test_extra_top_level_members_are_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
	    "\"x\":1}");
	expect_refused("{\"x\":1,\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
	    "\"_meta\":{}}");
	/* The same keys, spelled with escapes. */
	expect_refused("{\"jsonrpc\":\"2.0\",\"\\u0069d\":1,\"result\":{}}");
}
END_TEST

START_TEST(test_ids_other_than_short_plain_integers_are_refused)
{
	static const char *const ids[] = {
		"\"1\"", "1.5", "1.0", "1e3", "1E3", "-1e0",
		"1000000000000000", "-1000000000000000", "01", "-01", "00",
		"-", "+1", "null", "true", "{}", "[1]", "0x1",
	};
	char	line[128];
	size_t	i;

	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		snprintf(line, sizeof line,
		    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}", ids[i]);
		expect_refused(line);
	}
}
END_TEST

START_TEST(test_result_that_is_not_an_object_is_refused)
{
	static const char *const values[] = {
		"[]", "[{}]", "\"{}\"", "1", "null", "true", "false",
	};
	size_t	i;

	for (i = 0; i < sizeof values / sizeof *values; i++)
		expect_refused_in_result(values[i]);
}
END_TEST

START_TEST(test_meta_at_the_results_top_level_is_refused)
{
	expect_refused_in_result("{\"_meta\":{}}");
	expect_refused_in_result("{\"_meta\":null}");
	expect_refused_in_result("{\"a\":1,\"_meta\":{\"k\":1}}");
	expect_refused_in_result("{\"a\":1,\"_meta\":1,\"b\":2}");
	expect_refused_in_result("{ \"_meta\" : {} }");
	/* cJSON and every client decode the key: it is "_meta" all the
	   same, and would sit beside the broker's own. */
	expect_refused_in_result("{\"\\u005fmeta\":{\"k\":1}}");
	expect_refused_in_result("{\"_m\\u0065ta\":{}}");
	expect_refused_in_result("{\"\\u005Fmeta\":{}}");
}
END_TEST

START_TEST(test_escaped_keys_at_the_results_top_level_are_refused)
{
	/* The broker splices its "_meta" beside them as text: it cannot
	   tell one spelled with escapes from its own. */
	expect_refused_in_result("{\"k\\u00e9\":1}");
	expect_refused_in_result("{\"a\":1,\"\\\"\":2}");
	expect_refused_in_result("{\"a\\nb\":1}");
}
END_TEST

START_TEST(test_result_with_more_members_than_allowed_is_refused)
{
	built = members(SCAN_MAX_KEYS + 1, 1);
	ck_assert_msg(scan(built) == -1, "%d members accepted",
	    SCAN_MAX_KEYS + 1);
}
END_TEST

START_TEST(test_repeated_members_of_the_result_are_refused)
{
	/* jsonrpc_parse refuses these (jsonrpc_check_duplicates), so the
	   fast path must not pass them on. */
	expect_refused_in_result("{\"a\":1,\"a\":2}");
	expect_refused_in_result("{\"a\":1,\"b\":{},\"a\":1}");
	expect_refused_in_result("{\"a\":1,\"\\u0061\":2}");
}
END_TEST

START_TEST(test_control_characters_in_strings_are_refused)
{
	static const char	nul[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"a\":\"\0\"}}";
	static const char *const values[] = {
		"{\"a\":\"x\x01y\"}", "{\"a\":\"\x1f\"}", "{\"a\":\"\t\"}",
		"{\"a\":\"\n\"}", "{\"a\":\"\\n\r\"}", "{\"a\x02\":1}",
		"{\"a\":[{\"b\":\"\\\"\x10\"}]}",
	};
	size_t	i;

	for (i = 0; i < sizeof values / sizeof *values; i++)
		expect_refused_in_result(values[i]);
	/* A NUL byte is a control character too. */
	ck_assert_int_eq(scan_bytes(nul, sizeof nul - 1), -1);
	expect_refused("{\"jsonrpc\":\"2.0\x01\",\"id\":1,\"result\":{}}");
}
END_TEST

START_TEST(test_control_character_anywhere_in_a_string_is_refused)
{
	unsigned char	buf[40];
	size_t		len, at, n;
	int		c;

	/* Every control byte at every offset of strings of many lengths,
	   and after an escape. */
	for (len = 1; len <= sizeof buf; len++) {
		for (at = 0; at < len; at++) {
			for (c = 0x00; c < 0x20; c++) {
				memset(buf, 'x', len);
				buf[at] = (unsigned char)c;
				free(built);
				built = string_line(buf, len, &n);
				ck_assert_msg(scan_bytes(built, n) == -1,
				    "0x%02x at %zu of %zu accepted", c, at,
				    len);
				if (at < 2)
					continue;
				buf[0] = '\\';
				buf[1] = 'n';
				free(built);
				built = string_line(buf, len, &n);
				ck_assert_msg(scan_bytes(built, n) == -1,
				    "0x%02x at %zu of %zu after \\n accepted",
				    c, at, len);
			}
		}
	}
}
END_TEST

START_TEST(test_bad_escapes_are_refused)
{
	static const char *const values[] = {
		"{\"a\":\"\\x41\"}", "{\"a\":\"\\'\"}", "{\"a\":\"\\U0041\"}",
		"{\"a\":\"\\u41\"}", "{\"a\":\"\\u004\"}",
		"{\"a\":\"\\u00G1\"}", "{\"a\":\"\\u 041\"}",
		"{\"a\":\"\\0\"}", "{\"a\":\"\\\x01\"}", "{\"a\\q\":1}",
		"{\"a\":\"\\\"}",
	};
	size_t	i;

	for (i = 0; i < sizeof values / sizeof *values; i++)
		expect_refused_in_result(values[i]);
}
END_TEST

START_TEST(test_escapes_the_full_parser_refuses_are_refused)
{
	/* cJSON refuses a lone or reversed UTF-16 surrogate, so
	   jsonrpc_parse calls the line not JSON: the fast path must not
	   forward it either. */
	expect_refused_in_result("{\"a\":\"\\uD800\"}");
	expect_refused_in_result("{\"a\":\"\\uDC00\"}");
	expect_refused_in_result("{\"a\":\"\\uDE00\\uD83D\"}");
	expect_refused_in_result("{\"a\":\"\\uD83D\\u0041\"}");
	expect_refused_in_result("{\"\\uD83Dx\":1}");
}
END_TEST

START_TEST(test_every_truncation_of_a_valid_line_is_refused)
{
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":-12,\"result\":{\"a\":[1,-2.5e+3,"
		    "true,false,null,{\"b\":\"x\\u0041\\n\"}],\"c\":{}}}",
		"{ \"result\" : { \"s\" : \"\\\"\\\\\" } , \"id\" : 3 , "
		    "\"jsonrpc\" : \"2.0\" }",
		"{\"id\":10,\"result\":{},\"jsonrpc\":\"2.0\"}",
	};
	size_t	i, len, n;

	for (i = 0; i < sizeof lines / sizeof *lines; i++) {
		len = strlen(lines[i]);
		ck_assert_msg(scan(lines[i]) == 0, "refused: %s", lines[i]);
		for (n = 0; n < len; n++) {
			/* A prefix ending in a space, or "}" after the
			   last one, still lacks the closing brace. */
			ck_assert_msg(scan_bytes(lines[i], n) == -1,
			    "accepted the first %zu bytes of %s", n, lines[i]);
		}
	}
}
END_TEST

START_TEST(test_trailing_garbage_is_refused)
{
	static const char	line[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";
	static const char *const tails[] = {
		"x", "}", "]", ",", "{}", " {}", "\n{}", "\v", "\f",
		"\xc2\xa0", "0", "\"",
	};
	char	text[128];
	size_t	i;

	for (i = 0; i < sizeof tails / sizeof *tails; i++) {
		snprintf(text, sizeof text, "%s%s", line, tails[i]);
		expect_refused(text);
	}
	ck_assert_int_eq(scan_bytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{}}\0", sizeof line), -1);
}
END_TEST

START_TEST(test_nesting_deeper_than_the_limit_is_refused)
{
	built = nested("[", "]", SCAN_MAX_DEPTH + 1);
	ck_assert_msg(scan(built) == -1, "depth %d accepted",
	    SCAN_MAX_DEPTH + 1);
	free(built);
	built = nested("{\"k\":", "}", SCAN_MAX_DEPTH + 1);
	ck_assert_msg(scan(built) == -1, "depth %d accepted",
	    SCAN_MAX_DEPTH + 1);
	free(built);
	built = nested("[{\"k\":", "}]", 1000);
	ck_assert_msg(scan(built) == -1, "depth 1000 accepted");
}
END_TEST

START_TEST(test_whitespace_json_does_not_allow_is_refused)
{
	static const char	nul[] = "{\"jsonrpc\":\"2.0\",\0\"id\":1,"
				    "\"result\":{}}";

	expect_refused("{\"jsonrpc\":\"2.0\",\v\"id\":1,\"result\":{}}");
	expect_refused("\v{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":\v1}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\f}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1\x1c,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"a\":[1,\xc2\xa0" "2]}}");
	ck_assert_int_eq(scan_bytes(nul, sizeof nul - 1), -1);
}
END_TEST

START_TEST(test_invalid_numbers_are_refused)
{
	static const char *const numbers[] = {
		"-", "1.", "1e", ".5", "-.5", "1.e3", "1e+", "1E-", "01",
		"-01", "+1", "0x1", "1_0", "--1", "NaN", "Infinity",
		"-Infinity", "1.5.", "1e5e",
	};
	char	value[64];
	size_t	i;

	for (i = 0; i < sizeof numbers / sizeof *numbers; i++) {
		snprintf(value, sizeof value, "{\"a\":%s}", numbers[i]);
		expect_refused_in_result(value);
		snprintf(value, sizeof value, "{\"a\":[%s]}", numbers[i]);
		expect_refused_in_result(value);
	}
}
END_TEST

START_TEST(test_misspelled_literals_are_refused)
{
	static const char	cut[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"a\":tru";
	static const char *const words[] = {
		"tru", "True", "TRUE", "truee", "t", "fals", "False", "falsy",
		"nul", "Null", "nulll", "nil", "undefined", "n",
	};
	char	value[64];
	size_t	i;

	for (i = 0; i < sizeof words / sizeof *words; i++) {
		snprintf(value, sizeof value, "{\"a\":%s}", words[i]);
		expect_refused_in_result(value);
		snprintf(value, sizeof value, "{\"a\":[%s,1]}", words[i]);
		expect_refused_in_result(value);
	}
	/* Cut short by the end of the line. */
	ck_assert_int_eq(scan_bytes(cut, sizeof cut - 1), -1);
}
END_TEST

START_TEST(test_text_that_is_not_one_object_is_refused)
{
	expect_refused("");
	expect_refused(" ");
	expect_refused("[]");
	expect_refused("null");
	expect_refused("\"result\"");
	expect_refused("[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}]");
	expect_refused("{'jsonrpc':'2.0','id':1,'result':{}}");
	expect_refused("{jsonrpc:\"2.0\",id:1,result:{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1,}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\"}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{1:2}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"a\":[1 2]}}");
	expect_refused("{\"jsonrpc\":\"2.0\" \"id\":1,\"result\":{}}");
}
END_TEST

/* The fast path and the full parser agree. */

START_TEST(test_accepted_lines_read_the_same_through_jsonrpc_parse)
{
	static const struct scan_case cases[] = {
		/* Taken by the fast path. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"a\":1}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-5,\"result\":{\"a\":-0}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-0,\"result\":{}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":999999999999999,\"result\":"
		    "{\"big\":123456789012345678901234567890}}", 1 },
		{ "{\"result\":{\"z\":[]},\"id\":2,\"jsonrpc\":\"2.0\"}", 1 },
		{ " {\r\n\"id\" : 3 ,\t\"result\" : { \"a\" : [ 1 , 2 ] } ,"
		    " \"jsonrpc\" : \"2.0\" } \r\n", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"s\":\"\\\"\\\\"
		    "\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\uD83D\\uDE00\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"o\":"
		    "{\"k\\u00e9\":\"\xc3\xa9\xe2\x82\xac\"}}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":2147483648,\"result\":{}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-2147483649,\"result\":{}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{\"n\":[0,-1,2.5,"
		    "1e3,1E-3,-0.5e+2,1e400]}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"l\":[true,false,"
		    "null]}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":{\"a\":{\"_meta\":"
		    "{\"x\":1}},\"b\":[{\"_meta\":null}]}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"a\":{\"b\":1,"
		    "\"b\":2}}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":{\"content\":[{"
		    "\"type\":\"text\",\"text\":\"hello\"}],"
		    "\"isError\":false}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":11,\"result\":{\"tools\":[{"
		    "\"name\":\"t\",\"inputSchema\":{\"type\":\"object\"}}],"
		    "\"nextCursor\":\"c\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":{\"\":\"\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":13,\"result\":{\"a\":\"x\\u0000y"
		    "\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":14,\"result\":{\"_metadata\":1,"
		    "\"meta\":2}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":15,\"result\":{ }}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":16,\"result\":{\"a\":1 }}", 1 },

		/* Left to the full parser. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"_meta\":{}}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"\\u005fmeta\":"
		    "{}}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1,\"a\":2}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"k\\u00e9\":1}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
		    "{\"a\":\"\\uD800\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":\"\\uDC00"
		    "\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,"
		    "\"message\":\"m\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"n\"}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1e2,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1000000000000000,\"result\":{}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":01,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[]}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"x\":0}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\v\"id\":1,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1.}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":\"\t\"}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":nul}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}} x", 0 },
	};
	char		 report[4096];
	const char	*why;
	size_t		 i, used = 0;
	int		 rc, failures = 0;

	report[0] = '\0';
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		rc = scan(cases[i].text);
		why = NULL;
		if (rc == 0)
			why = same_as_parser(cases[i].text);
		if (why == NULL && (rc == 0) != cases[i].accepted)
			why = rc == 0 ? "taken by the fast path" :
			    "left to the full parser";
		if (why == NULL)
			continue;
		failures++;
		if (used < sizeof report)
			used += (size_t)snprintf(report + used,
			    sizeof report - used, "\n  %s: %s", why,
			    cases[i].text);
	}
	ck_assert_msg(failures == 0, "%d of %zu lines:%s", failures,
	    sizeof cases / sizeof *cases, report);
}
END_TEST

/* Requests, accepted: the plain forwarded shape, with its spans. */

START_TEST(test_plain_forwarded_request_gives_its_spans)
{
	expect_request("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/call\",\"params\":{\"server\":\"playwright\","
	    "\"thread\":\"t-42\",\"name\":\"browser_navigate\",\"arguments\":"
	    "{\"url\":\"https://example.org\"}}}", "1", "\"tools/call\"",
	    "playwright", "t-42", "@\"server\"|@\"thread\"|"
	    "\"name\":\"browser_navigate\"|"
	    "\"arguments\":{\"url\":\"https://example.org\"}");
	ck_assert_uint_eq(rq.nmembers, 4);
	ck_assert_ptr_null(rq.member[0]);
	ck_assert_ptr_null(rq.member[1]);
}
END_TEST

START_TEST(test_request_members_in_any_order_are_accepted)
{
	static const char *const parts[] = {
		"\"jsonrpc\":\"2.0\"", "\"id\":7", "\"method\":\"tools/list\"",
		"\"params\":{\"server\":\"s\",\"thread\":\"t\","
		    "\"cursor\":\"c\"}",
	};
	char	line[256];
	size_t	order[4], k, i, n;

	/* All 24 orders of the four members. */
	for (k = 0; k < 24; k++) {
		permutation(k, 4, order);
		n = 0;
		line[n++] = '{';
		for (i = 0; i < 4; i++) {
			if (i > 0)
				line[n++] = ',';
			memcpy(line + n, parts[order[i]],
			    strlen(parts[order[i]]));
			n += strlen(parts[order[i]]);
		}
		memcpy(line + n, "}", 2);
		expect_request(line, "7", "\"tools/list\"", "s", "t",
		    "@\"server\"|@\"thread\"|\"cursor\":\"c\"");
	}
}
END_TEST

START_TEST(test_request_whitespace_wherever_json_allows_it_is_accepted)
{
	/* A member's span runs from its key to the end of its value,
	   whitespace inside it included. */
	expect_request(" \t\r\n{ \t\r\n\"jsonrpc\" \t\r\n: \t\r\n\"2.0\""
	    " \t\r\n, \t\r\n\"id\" \t\r\n: \t\r\n5 \t\r\n, \t\r\n\"method\""
	    " \t\r\n: \t\r\n\"m\" \t\r\n, \t\r\n\"params\" \t\r\n: \t\r\n{"
	    " \t\r\n\"server\" \t\r\n: \t\r\n\"s\" \t\r\n, \t\r\n\"a\""
	    " \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \t\r\n} \t\r\n] \t\r\n,"
	    " \t\r\n\"thread\" \t\r\n: \t\r\n\"t\" \t\r\n} \t\r\n} \t\r\n",
	    "5", "\"m\"", "s", "t", "@\"server\"|\"a\" \t\r\n: \t\r\n[ \t\r\n1"
	    " \t\r\n, \t\r\n{ \t\r\n} \t\r\n]|@\"thread\"");
	expect_request("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"m\","
	    "\"params\":{ \"server\":\"s\",\"thread\":\"t\" }}", "\"x\"",
	    "\"m\"", "s", "t", "@\"server\"|@\"thread\"");
}
END_TEST

START_TEST(test_numeric_ids_of_up_to_fifteen_characters_are_accepted)
{
	static const char *const ids[] = {
		"0", "-0", "1", "-17", "2147483647", "2147483648",
		"-2147483649", "999999999999999", "-99999999999999",
		"123456789012345",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"method\":\"m\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", ids[i]);
		expect_request(line, ids[i], "\"m\"", "s", "t",
		    "@\"server\"|@\"thread\"");
	}
}
END_TEST

START_TEST(test_string_ids_without_escapes_are_accepted)
{
	static const char *const ids[] = {
		"\"\"", "\"abc\"", "\"1\"", "\"a b/c:d\"",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\x7f~\"",
	};
	char	line[256], want[SCAN_MAX_ID + 3];
	size_t	i;

	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"method\":\"m\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", ids[i]);
		expect_request(line, ids[i], "\"m\"", "s", "t",
		    "@\"server\"|@\"thread\"");
	}
	/* The longest allowed. */
	built = request_string_id(SCAN_MAX_ID);
	want[0] = '"';
	memset(want + 1, 'x', SCAN_MAX_ID);
	memcpy(want + 1 + SCAN_MAX_ID, "\"", 2);
	expect_request(built, want, "\"m\"", "s", "t",
	    "@\"server\"|@\"thread\"");
}
END_TEST

START_TEST(test_nested_params_values_are_passed_as_written)
{
	/* Escapes, every kind of value, and the names the scan looks for
	   one level down: only params' own members count. */
	expect_request("{\"jsonrpc\":\"2.0\",\"id\":3,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"q\\\"\\\\\\/"
	    "\\b\\f\\n\\r\\t\\u0041\\uD83D\\uDE00\",\"arguments\":{"
	    "\"_meta\":{\"progressToken\":1},\"timeout_ms\":5,\"server\":1,"
	    "\"thread\":[],\"k\\u00e9\":{\"a\":[1,-2.5,3e10,-0.0E-2,true,"
	    "false,null,\"\",[],{},[[{\"b\":[{}]}]]]},\"d\":{\"x\":1,"
	    "\"x\":2}},\"server\":\"s\","
	    "\"thread\":\"t\"}}", "3", "\"tools/call\"", "s", "t",
	    "\"name\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\uD83D\\uDE00\"|"
	    "\"arguments\":{\"_meta\":{\"progressToken\":1},\"timeout_ms\":5,"
	    "\"server\":1,\"thread\":[],\"k\\u00e9\":{\"a\":[1,-2.5,3e10,"
	    "-0.0E-2,true,false,null,\"\",[],{},[[{\"b\":[{}]}]]]},"
	    "\"d\":{\"x\":1,\"x\":2}}|@\"server\"|@\"thread\"");
	expect_request("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"m\","
	    "\"params\":{\"server\":\"s\",\"thread\":\"t\",\"\":\"\","
	    "\"servers\":0,\"threads\":0,\"_metadata\":0,\"timeout\":0,"
	    "\"meta\":0,\"Server\":0}}", "3", "\"m\"", "s", "t",
	    "@\"server\"|@\"thread\"|\"\":\"\"|\"servers\":0|\"threads\":0|"
	    "\"_metadata\":0|\"timeout\":0|\"meta\":0|\"Server\":0");
}
END_TEST

START_TEST(test_server_and_thread_in_any_position_are_accepted)
{
	static const char *const parts[] = {
		"\"server\":\"srv\"", "\"thread\":\"thr\"", "\"a\":1",
		"\"b\":[2]",
	};
	static const char *const listed[] = {
		"@\"server\"", "@\"thread\"", "\"a\":1", "\"b\":[2]",
	};
	char	line[256], want[128];
	size_t	order[4], k, i, n, w;

	for (k = 0; k < 24; k++) {
		permutation(k, 4, order);
		n = (size_t)sprintf(line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"m\",\"params\":{");
		w = 0;
		for (i = 0; i < 4; i++) {
			n += (size_t)sprintf(line + n, "%s%s", i > 0 ? "," : "",
			    parts[order[i]]);
			w += (size_t)sprintf(want + w, "%s%s", i > 0 ? "|" : "",
			    listed[order[i]]);
		}
		strcpy(line + n, "}}");
		expect_request(line, "1", "\"m\"", "srv", "thr", want);
	}
}
END_TEST

START_TEST(test_params_with_only_server_and_thread_give_no_members)
{
	expect_request("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\",\"params\":{\"server\":\"s\","
	    "\"thread\":\"t\"}}", "1",
	    "\"tools/list\"", "s", "t", "@\"server\"|@\"thread\"");
	ck_assert_uint_eq(rq.nmembers, 2);
	expect_request("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\",\"params\":{\"thread\":\"t\","
	    "\"server\":\"s\"}}", "1",
	    "\"tools/list\"", "s", "t", "@\"thread\"|@\"server\"");
	ck_assert_ptr_null(rq.member[0]);
	ck_assert_ptr_null(rq.member[1]);
}
END_TEST

START_TEST(test_empty_server_thread_and_long_threads_are_left_to_the_daemon)
{
	char	*line, *p;

	/* The scan takes them; broker_forward_text declines them. */
	expect_request("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"server\":\"\",\"thread\":\"t\"}}", "1", "\"m\"",
	    "", "t", "@\"server\"|@\"thread\"");
	ck_assert_uint_eq(rq.server_len, 0);
	expect_request("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"server\":\"s\",\"thread\":\"\"}}", "1", "\"m\"",
	    "s", "", "@\"server\"|@\"thread\"");
	ck_assert_uint_eq(rq.thread_len, 0);

	built = line = malloc(1024);
	ck_assert_ptr_nonnull(line);
	p = line + sprintf(line, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"m\",\"params\":{\"server\":\"s\",\"thread\":\"");
	memset(p, 'x', 2 * ROUTE_THREAD_MAX);
	strcpy(p + 2 * ROUTE_THREAD_MAX, "\"}}");
	ck_assert_int_eq(scan_req(line), 0);
	ck_assert_uint_eq(rq.thread_len, 2 * ROUTE_THREAD_MAX);
	ck_assert_ptr_eq(rq.thread, copy + (p - line));
}
END_TEST

START_TEST(test_params_with_the_most_members_allowed_are_accepted)
{
	built = request_with_members(SCAN_MAX_KEYS);
	ck_assert_msg(scan_req(built) == 0, "%d members refused",
	    SCAN_MAX_KEYS);
	ck_assert_uint_eq(rq.nmembers, SCAN_MAX_KEYS);
	ck_assert_ptr_nonnull(rq.member[SCAN_MAX_KEYS - 1]);
}
END_TEST

START_TEST(test_params_nested_to_the_depth_limit_are_accepted)
{
	/* params itself is depth 1. */
	built = request_nested(SCAN_MAX_DEPTH);
	ck_assert_msg(scan_req(built) == 0, "depth %d refused",
	    SCAN_MAX_DEPTH);
}
END_TEST

START_TEST(test_methods_merely_like_broker_ones_are_accepted)
{
	static const char *const methods[] = {
		"\"broker\"", "\"brokers/status\"", "\"Broker/status\"",
		"\"xbroker/status\"", "\"broker.status\"", "\" broker/status\"",
		"\"m\"", "\"m\xc3\xa9thode\"",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof methods / sizeof *methods; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":%s,\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", methods[i]);
		expect_request(line, "1", methods[i], "s", "t",
		    "@\"server\"|@\"thread\"");
	}
}
END_TEST

/* Requests, refused: left to jsonrpc_parse and route_parse. */

START_TEST(test_batches_and_scalars_are_refused_as_requests)
{
	static const char *const lines[] = {
		"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":"
		    "{\"server\":\"s\",\"thread\":\"t\"}}]",
		"[]", "{}", "1", "\"x\"", "null", "true", "false", "", " ",
		"\"{\\\"jsonrpc\\\":\\\"2.0\\\"}\"",
	};
	size_t	i;

	for (i = 0; i < sizeof lines / sizeof *lines; i++)
		expect_request_refused(lines[i]);
	ck_assert_int_eq(scan_request_bytes("", 0), -1);
}
END_TEST

START_TEST(test_requests_missing_a_member_are_refused)
{
	static const char *const parts[] = {
		"\"jsonrpc\":\"2.0\"", "\"id\":1", "\"method\":\"m\"",
		"\"params\":{\"server\":\"s\",\"thread\":\"t\"}",
	};
	char	line[256];
	size_t	skip, i, n;

	for (skip = 0; skip < 4; skip++) {
		n = 0;
		line[n++] = '{';
		for (i = 0; i < 4; i++) {
			if (i == skip)
				continue;
			if (n > 1)
				line[n++] = ',';
			memcpy(line + n, parts[i], strlen(parts[i]));
			n += strlen(parts[i]);
		}
		memcpy(line + n, "}", 2);
		expect_request_refused(line);
	}
}
END_TEST

START_TEST(test_requests_of_other_jsonrpc_versions_are_refused)
{
	static const char *const versions[] = {
		"\"1.0\"", "2.0", "\"2.0 \"", "\"2\"", "null", "\"2\\u002e0\"",
		"\"\"",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof versions / sizeof *versions; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":%s,\"id\":1,"
		    "\"method\":\"m\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", versions[i]);
		expect_request_refused(line);
	}
}
END_TEST

START_TEST(test_repeated_top_level_members_of_a_request_are_refused)
{
	static const char *const parts[] = {
		"\"jsonrpc\":\"2.0\"", "\"id\":1", "\"method\":\"m\"",
		"\"params\":{\"server\":\"s\",\"thread\":\"t\"}",
	};
	char	line[512];
	size_t	twice, i, n;

	for (twice = 0; twice < 4; twice++) {
		n = (size_t)sprintf(line, "{");
		for (i = 0; i < 4; i++)
			n += (size_t)sprintf(line + n, "%s%s", i > 0 ? "," : "",
			    parts[i]);
		sprintf(line + n, ",%s}", parts[twice]);
		expect_request_refused(line);
	}
}
END_TEST

START_TEST(test_repeated_params_members_are_refused)
{
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"server\":\"s\"");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"thread\":\"u\"");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"a\":1,\"b\":2,\"a\":1");
	expect_refused_in_params("\"a\":{},\"server\":\"s\",\"a\":{},"
	    "\"thread\":\"t\"");
	expect_refused_in_params("\"\":1,\"server\":\"s\",\"thread\":\"t\","
	    "\"\":2");
}
END_TEST

START_TEST(test_extra_top_level_members_of_a_request_are_refused)
{
	static const char	params[] = "\"params\":{\"server\":\"s\","
				    "\"thread\":\"t\"}";
	static const char *const extras[] = {
		"\"x\":1", "\"result\":{}", "\"error\":null", "\"_meta\":{}",
		"\"ID\":1", "\"\":0",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof extras / sizeof *extras; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"m\",%s,%s}", params, extras[i]);
		expect_request_refused(line);
		snprintf(line, sizeof line, "{%s,\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"m\",%s}", extras[i], params);
		expect_request_refused(line);
	}
	/* The same keys, spelled with escapes. */
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"\\u0069d\":1,"
	    "\"method\":\"m\",%s}", params);
	expect_request_refused(line);
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"m\\u0065thod\":\"m\",%s}", params);
	expect_request_refused(line);
}
END_TEST

START_TEST(test_broker_methods_are_refused)
{
	static const char *const methods[] = {
		"broker/status", "broker/session", "broker/close",
		"broker/servers", "broker/reload", "broker/hello", "broker/",
		"broker/x", "broker/tools/call",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof methods / sizeof *methods; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"%s\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", methods[i]);
		expect_request_refused(line);
	}
}
END_TEST

START_TEST(test_escaped_empty_or_other_methods_are_refused)
{
	static const char *const methods[] = {
		"\"tools\\/call\"", "\"\\u0074ools/call\"",
		"\"broker\\/status\"", "\"b\\u0072oker/status\"", "\"m\\n\"",
		"\"\"", "1", "null", "{}", "[\"m\"]", "true",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof methods / sizeof *methods; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":%s,\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", methods[i]);
		expect_request_refused(line);
	}
}
END_TEST

START_TEST(test_ids_other_than_short_integers_or_plain_strings_are_refused)
{
	static const char *const ids[] = {
		"null", "true", "false", "{}", "{\"a\":1}", "[]", "[1]",
		"1.5", "1.0", "-0.0", "1e3", "1E3", "1e+3", "-1e0", "0E0",
		"1000000000000000", "-100000000000000", "9999999999999999",
		"-123456789012345", "01", "-01", "00", "-", "+1", "0x1",
		"Infinity", "NaN", ".5",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"method\":\"m\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", ids[i]);
		expect_request_refused(line);
	}
}
END_TEST

START_TEST(test_string_ids_with_escapes_or_over_the_limit_are_refused)
{
	static const char *const ids[] = {
		"\"a\\\"b\"", "\"\\\\\"", "\"a\\/b\"", "\"\\u0041\"",
		"\"\\n\"", "\"a\tb\"", "\"a\x01\"", "\"unterminated",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"method\":\"m\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", ids[i]);
		expect_request_refused(line);
	}
	built = request_string_id(SCAN_MAX_ID + 1);
	ck_assert_msg(scan_req(built) == -1, "a %d-byte string id accepted",
	    SCAN_MAX_ID + 1);
	free(built);
	built = request_string_id(4 * SCAN_MAX_ID);
	ck_assert_int_eq(scan_req(built), -1);
}
END_TEST

START_TEST(test_params_that_are_not_an_object_are_refused)
{
	static const char *const values[] = {
		"[]", "[{\"server\":\"s\",\"thread\":\"t\"}]",
		"\"{\\\"server\\\":\\\"s\\\",\\\"thread\\\":\\\"t\\\"}\"", "1",
		"null", "true", "false",
	};
	char	line[256];
	size_t	i;

	for (i = 0; i < sizeof values / sizeof *values; i++) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":1,"
		    "\"method\":\"m\",\"params\":%s}", values[i]);
		expect_request_refused(line);
	}
}
END_TEST

START_TEST(test_timeout_ms_and_meta_in_params_are_refused)
{
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"timeout_ms\":5000");
	expect_refused_in_params("\"timeout_ms\":5000,\"server\":\"s\","
	    "\"thread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",\"timeout_ms\":\"x\","
	    "\"thread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":1}");
	expect_refused_in_params("\"_meta\":{},\"server\":\"s\","
	    "\"thread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"_meta\":null");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"a\":1,\"timeout_ms\":1,\"_meta\":{}");
}
END_TEST

START_TEST(test_escaped_keys_in_params_are_refused)
{
	/* cJSON decodes them: "\u0073erver" is server to route_parse,
	   "\u005fmeta" is _meta, and either would reach the child. */
	expect_refused_in_params("\"\\u0073erver\":\"s\",\"thread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",\"\\u0074hread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"\\u005fmeta\":{}");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"timeout\\u005fms\":1");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"k\\u00e9\":1");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"a\\nb\":1");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"\\\"\":1");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"a\\/\":1");
}
END_TEST

START_TEST(test_server_or_thread_not_a_plain_string_is_refused)
{
	static const char *const values[] = {
		"1", "null", "true", "false", "{}", "[]", "[\"s\"]",
		"{\"s\":1}", "\"a\\/b\"", "\"\\u0061\"", "\"a\\\"b\"",
		"\"\\\\\"", "\"a\\nb\"", "\"a\tb\"", "\"a\x1f\"",
	};
	char	members[128];
	size_t	i;

	for (i = 0; i < sizeof values / sizeof *values; i++) {
		snprintf(members, sizeof members, "\"server\":%s,"
		    "\"thread\":\"t\"", values[i]);
		expect_refused_in_params(members);
		snprintf(members, sizeof members, "\"server\":\"s\","
		    "\"thread\":%s", values[i]);
		expect_refused_in_params(members);
	}
}
END_TEST

START_TEST(test_requests_missing_server_or_thread_are_refused)
{
	expect_refused_in_params("");
	expect_refused_in_params("\"server\":\"s\"");
	expect_refused_in_params("\"thread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",\"name\":\"x\"");
	expect_refused_in_params("\"thread\":\"t\",\"name\":\"x\"");
	expect_refused_in_params("\"name\":\"x\",\"arguments\":{"
	    "\"server\":\"s\",\"thread\":\"t\"}");
	expect_refused_in_params("\"Server\":\"s\",\"thread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",\"threads\":\"t\"");
}
END_TEST

START_TEST(test_trailing_commas_in_a_request_are_refused)
{
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\",");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\" , ");
	expect_refused_in_params(",\"server\":\"s\",\"thread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",,\"thread\":\"t\"");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"a\":[1,]");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"a\":{\"b\":1,}");
	expect_request_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"server\":\"s\",\"thread\":\"t\"},}");
	expect_request_refused("{,\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}");
	expect_request_refused("{\"jsonrpc\":\"2.0\",,\"id\":1,\"method\":"
	    "\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}");
	/* Nor the other separators out of place. */
	expect_refused_in_params("\"server\":\"s\" \"thread\":\"t\"");
	expect_refused_in_params("\"server\" \"s\",\"thread\":\"t\"");
	expect_refused_in_params("\"server\"::\"s\",\"thread\":\"t\"");
	expect_request_refused("{\"jsonrpc\":\"2.0\" \"id\":1,\"method\":"
	    "\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}");
}
END_TEST

START_TEST(test_every_truncation_of_a_valid_request_is_refused)
{
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":-12,\"method\":\"tools/call\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\",\"a\":[1,"
		    "-2.5e+3,true,false,null,{\"b\":\"x\\u0041\\n\"}],"
		    "\"c\":{}}}",
		"{ \"params\" : { \"thread\" : \"t\" , \"server\" : \"s\" } , "
		    "\"id\" : \"abc\" , \"method\" : \"m\" , "
		    "\"jsonrpc\" : \"2.0\" }",
		"{\"id\":10,\"params\":{\"server\":\"s\",\"thread\":\"t\"},"
		    "\"method\":\"m\",\"jsonrpc\":\"2.0\"}",
	};
	size_t	i, len, n;

	for (i = 0; i < sizeof lines / sizeof *lines; i++) {
		len = strlen(lines[i]);
		ck_assert_msg(scan_req(lines[i]) == 0, "refused: %s", lines[i]);
		for (n = 0; n < len; n++) {
			ck_assert_msg(scan_request_bytes(lines[i], n) == -1,
			    "accepted the first %zu bytes of %s", n, lines[i]);
		}
	}
}
END_TEST

START_TEST(test_trailing_garbage_after_a_request_is_refused)
{
	static const char	line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"method\":\"m\",\"params\":{\"server\":"
				    "\"s\",\"thread\":\"t\"}}";
	static const char *const tails[] = {
		"x", "}", "]", ",", "{}", " {}", "\n{}", "\v", "\f",
		"\xc2\xa0", "0", "\"", "\r\n{\"jsonrpc\":\"2.0\"}",
	};
	char	text[256];
	size_t	i;

	for (i = 0; i < sizeof tails / sizeof *tails; i++) {
		snprintf(text, sizeof text, "%s%s", line, tails[i]);
		expect_request_refused(text);
	}
	ck_assert_int_eq(scan_request_bytes("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}"
	    "\0", sizeof line), -1);
}
END_TEST

START_TEST(test_params_with_more_members_than_allowed_are_refused)
{
	built = request_with_members(SCAN_MAX_KEYS + 1);
	ck_assert_msg(scan_req(built) == -1, "%d members accepted",
	    SCAN_MAX_KEYS + 1);
	free(built);
	built = request_with_members(4 * SCAN_MAX_KEYS);
	ck_assert_int_eq(scan_req(built), -1);
}
END_TEST

START_TEST(test_params_nested_deeper_than_the_limit_are_refused)
{
	built = request_nested(SCAN_MAX_DEPTH + 1);
	ck_assert_msg(scan_req(built) == -1, "depth %d accepted",
	    SCAN_MAX_DEPTH + 1);
}
END_TEST

START_TEST(test_control_characters_in_a_request_are_refused)
{
	static const char	nul[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"method\":\"m\",\"params\":{\"server\":"
				    "\"s\",\"thread\":\"t\",\"a\":\"\0\"}}";

	expect_request_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"m\x01\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\x7f\x1f\"");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"a\x02\":1");
	expect_refused_in_params("\"server\":\"s\",\"thread\":\"t\","
	    "\"a\":[\"\\n\r\"]");
	ck_assert_int_eq(scan_request_bytes(nul, sizeof nul - 1), -1);
	/* Whitespace JSON does not allow. */
	expect_request_refused("{\"jsonrpc\":\"2.0\",\v\"id\":1,\"method\":"
	    "\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}");
	expect_refused_in_params("\"server\":\"s\",\f\"thread\":\"t\"");
}
END_TEST

/* Requests: the fast path and the full path agree. */

/* 256 and 257 bytes of thread name. */
#define T16	"tttttttttttttttt"
#define T256	T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16

START_TEST(test_accepted_requests_go_to_the_child_as_the_full_path_sends_them)
{
	static const struct scan_case cases[] = {
		/* Taken by the fast path. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		    "\"params\":{\"server\":\"playwright\",\"thread\":\"t-42\","
		    "\"name\":\"browser_navigate\",\"arguments\":{\"url\":"
		    "\"https://example.org\"}}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"params\":{\"thread\":\"t\",\"cursor\":\"c\",\"server\":"
		    "\"s\"},\"method\":\"tools/list\",\"id\":3,"
		    "\"jsonrpc\":\"2.0\"}", 1 },
		{ " {\t\"jsonrpc\" : \"2.0\" , \"id\" : 4 , \"method\" :"
		    " \"m\" , \"params\" : { \"a\" : [ 1 , 2 ] ,"
		    " \"server\" : \"s\" , \"b\" : { } , \"thread\" : \"t\" } }"
		    " \r", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"m\",\"params\":{"
		    "\"z\":1,\"server\":\"s\",\"a\":2,\"thread\":\"t\","
		    "\"m\":3}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\xa9\xe2\x82\xac\x7f\","
		    "\"method\":\"m\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-0,\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":999999999999999,"
		    "\"method\":\"m\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-99999999999999,"
		    "\"method\":\"m\",\"params\":{\"server\":\"s\","
		    "\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":2147483647,\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":2147483648,\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-2147483648,\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-2147483649,\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\","
		    "\"text\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9"
		    "\\uD83D\\uDE00\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\","
		    "\"arguments\":{\"_meta\":{\"progressToken\":1},"
		    "\"timeout_ms\":5,\"server\":\"x\",\"thread\":1}}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\","
		    "\"n\":[0,-1,2.5,1e3,1E-3,-0.5e+2,1e400,"
		    "123456789012345678901234567890]}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"m\",\"params\":{"
		    "\"l\":[true,false,null],\"server\":\"s\","
		    "\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\",\"a\":{\"b\":1,"
		    "\"b\":2}}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\","
		    "\"a\":\"x\\u0000y\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":12,"
		    "\"method\":\"m\xc3\xa9thode\",\"params\":{"
		    "\"server\":\"my server\",\"thread\":\"th\xc3\xa9\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"Broker/status\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"broker\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\",\"servers\":1,"
		    "\"threads\":2,\"_metadata\":3,\"timeout\":4,\"meta\":5,"
		    "\"\":\"\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\",\"a\" :\n 1}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"" T256 "\"}}", 1 },
		/* Taken by the scan, declined by broker_forward_text: the
		   full path refuses them. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"m\",\"params\":{"
		    "\"server\":\"\",\"thread\":\"t\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":19,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"" T256 "t\"}}", 1 },

		/* Left to the full parser. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\",\"timeout_ms\":5}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\",\"_meta\":"
		    "{\"progressToken\":\"p\"}}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"\\u0073erver\":\"s\",\"thread\":\"t\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"a\\/b\",\"thread\":\"t\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":1}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broker/status\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"method\":\"m\","
		    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\",\"server\":\"u\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
		    "\"params\":[\"s\",\"t\"]}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\"}}", 0 },
		{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\"}}", 0 },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\"}}]", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\"}} x", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{"
		    "\"server\":\"s\",\"thread\":\"t\","
		    "\"a\":\"\\uD800\"}}", 0 },
	};
	char		 report[4096];
	const char	*why;
	size_t		 i, used = 0;
	int		 rc, failures = 0;

	report[0] = '\0';
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		rc = scan_req(cases[i].text);
		why = NULL;
		if (rc == 0)
			why = same_as_daemon(strlen(cases[i].text));
		if (why == NULL && (rc == 0) != cases[i].accepted)
			why = rc == 0 ? "taken by the fast path" :
			    "left to the full parser";
		if (why == NULL)
			continue;
		failures++;
		if (used < sizeof report)
			used += (size_t)snprintf(report + used,
			    sizeof report - used, "\n  %s: %.200s", why,
			    cases[i].text);
	}
	ck_assert_msg(failures == 0, "%d of %zu lines:%s", failures,
	    sizeof cases / sizeof *cases, report);
}
END_TEST

START_TEST(test_the_child_gets_the_params_members_in_the_clients_order)
{
	static const char	line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"method\":\"m\",\"params\":{\"z\":1,"
				    "\"server\":\"s\",\"a\":{\"y\":2,\"b\":3},"
				    "\"thread\":\"t\",\"m\":[]}}";
	static const char	want[] = "{\"jsonrpc\":\"2.0\",\"id\":7,"
				    "\"method\":\"m\",\"params\":{\"z\":1,"
				    "\"a\":{\"y\":2,\"b\":3},\"m\":[]}}\n";
	const char		*why;
	size_t			 n;

	ck_assert_int_eq(scan_req(line), 0);
	n = request_child_line();
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_msg(memcmp(child, want, n) == 0, "child line %.*s",
	    (int)n, child);
	why = same_as_daemon(strlen(line));
	ck_assert_msg(why == NULL, "%s", why);
	/* And cJSON keeps that order, so comparing as printed is
	   comparing the order too. */
	ck_assert_str_eq(printed, "{\"z\":1,\"a\":{\"y\":2,\"b\":3},\"m\":[]}");
}
END_TEST

/* The tests, grouped as above. */
/* The line scan, member walks, keys, strings and ids as text. */

/* line must be scanned valid (1) or not (0), with id_text read (NULL:
   none). */
static void
expect_line(const char *line, size_t len, int valid, const char *id_text)
{
	struct scan_span	id;
	int			lone;

	ck_assert_msg((scan_line(line, len, &id, &lone) == 0) == valid,
	    "%s: want %s", line, valid ? "valid" : "refused");
	if (id_text == NULL)
		ck_assert_msg(id.p == NULL, "%s: id read", line);
	else {
		ck_assert_msg(id.p != NULL, "%s: id not read", line);
		ck_assert_uint_eq(id.len, strlen(id_text));
		ck_assert(memcmp(id.p, id_text, id.len) == 0);
	}
}

START_TEST(test_line_scan_is_strict_json)
{
	expect_line("{\"id\":1}", 8, 1, "1");
	expect_line(" {\"a\":[1,2.5e-3,true,null,{}],\"id\":\"x\"}\r\n", 41, 1,
	    "\"x\"");
	expect_line("[1,2]", 5, 1, NULL);
	expect_line("{\"id\":01}", 9, 0, NULL);
	expect_line("{\"id\":1.}", 9, 0, NULL);
	expect_line("{\"id\":1,}", 9, 0, "1");
	expect_line("{\"id\":1}x", 9, 0, "1");
	expect_line("", 0, 0, NULL);
	/* A raw NUL or other control byte is no whitespace. */
	expect_line("{\"id\":1,\0\"a\":1}", 15, 0, "1");
	expect_line("{\"a\":1\x0b,\"id\":1}", 15, 0, NULL);
	expect_line("{\"id\":\"a\x01\"}", 11, 0, NULL);
}
END_TEST

START_TEST(test_line_scan_reads_the_id_only_when_it_is_sure)
{
	/* Read before the break, not after. */
	expect_line("{\"id\":\"q\",\"x\":}", 15, 0, "\"q\"");
	expect_line("{\"x\":,\"id\":\"q\"}", 15, 0, NULL);
	/* An escaped key counts as what it decodes to. */
	expect_line("{\"\\u0069d\":-0}", 14, 1, "-0");
	/* Two ids: neither. */
	expect_line("{\"id\":1,\"id\":2}", 15, 1, NULL);
	/* Not a string or a number: none. */
	expect_line("{\"id\":null}", 11, 1, NULL);
	expect_line("{\"id\":[1]}", 10, 1, NULL);
	/* Deeper ids are not the message's. */
	expect_line("{\"p\":{\"id\":1}}", 14, 1, NULL);
}
END_TEST

START_TEST(test_line_scan_reports_lone_surrogates)
{
	struct scan_span	id;
	int			lone;

	ck_assert_int_eq(scan_line("{\"a\":\"\\ud800\"}", 14, &id, &lone), 0);
	ck_assert_int_eq(lone, 1);
	ck_assert_int_eq(scan_line("{\"a\":\"\\udc00x\"}", 15, &id, &lone),
	    0);
	ck_assert_int_eq(lone, 1);
	ck_assert_int_eq(scan_line("{\"a\":\"\\ud83d\\ude00\"}", 20, &id,
	    &lone), 0);
	ck_assert_int_eq(lone, 0);
}
END_TEST

START_TEST(test_members_are_walked_and_found_by_decoded_key)
{
	static const char	 obj[] = " { \"a\" : 1 , \"b\\u0063\":{\"x\":[]},"
				    "\"d\":\"\\\"\" } ";
	static const char *const path[] = { "bc", "x", NULL };
	struct scan_iter	 it;
	struct scan_member	 m;
	int			 n = 0;

	ck_assert_int_eq(scan_iter_start(&it, obj, sizeof obj - 1), 0);
	while (scan_iter_next(&it, &m) == 1)
		n++;
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(scan_find(obj, sizeof obj - 1, "d", &m), 0);
	ck_assert_uint_eq(m.value.len, 4);
	ck_assert_int_eq(scan_path(obj, sizeof obj - 1, path, &m), 0);
	ck_assert_uint_eq(m.value.len, 2);
	ck_assert_int_eq(scan_find(obj, sizeof obj - 1, "e", &m), -1);
	ck_assert_int_eq(scan_iter_start(&it, "[]", 2), -1);
	ck_assert_int_eq(scan_iter_start(&it, "{}", 2), 0);
	ck_assert_int_eq(scan_iter_next(&it, &m), 0);
}
END_TEST

START_TEST(test_strings_decode_to_what_they_stand_for)
{
	char	buf[32];
	size_t	n;

	ck_assert_int_eq(scan_string_decode("\"al\\u0000one\"", 13, buf,
	    sizeof buf, &n), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert(memcmp(buf, "al\0one", 6) == 0);
	ck_assert_int_eq(scan_string_decode("\"\\u00e9\\/\\ud83d\\ude00\\n\"",
	    24, buf, sizeof buf, &n), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert(memcmp(buf, "\xc3\xa9/\xf0\x9f\x98\x80\n", 8) == 0);
	ck_assert_int_eq(scan_string_decode("\"\\ud800\"", 8, buf, sizeof buf,
	    &n), SCAN_DECODE_LONE);
	/* The whole length, even past the room given. */
	ck_assert_int_eq(scan_string_decode("\"abcdef\"", 8, buf, 2, &n), 0);
	ck_assert_uint_eq(n, 6);
}
END_TEST

START_TEST(test_keys_compare_as_they_decode)
{
	struct scan_span	k;

	k.p = "\"id\"";
	k.len = 4;
	ck_assert(scan_key_equal(&k, "id"));
	ck_assert(!scan_key_equal(&k, "i"));
	k.p = "\"\\u0069\\u0064\"";
	k.len = 14;
	ck_assert(scan_key_equal(&k, "id"));
	k.p = "\"i\\u0000d\"";
	k.len = 10;
	ck_assert(!scan_key_equal(&k, "id"));
}
END_TEST

START_TEST(test_ids_compare_strings_by_value_and_numbers_by_text)
{
	ck_assert(scan_id_equal("1", 1, "1", 1));
	ck_assert(!scan_id_equal("1", 1, "1.0", 3));
	ck_assert(!scan_id_equal("-0", 2, "0", 1));
	ck_assert(!scan_id_equal("1", 1, "\"1\"", 3));
	ck_assert(scan_id_equal("\"\\u00e9\"", 8, "\"\xc3\xa9\"", 4));
	ck_assert(scan_id_equal("\"a\\/b\"", 6, "\"a/b\"", 5));
	ck_assert(!scan_id_equal("\"a\\u0000b\"", 10, "\"a\"", 3));
}
END_TEST

static Suite *
scan_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("scan");

	tc = tcase_create("accepted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_success_response_gives_its_id_and_body);
	tcase_add_test(tc, test_members_in_any_order_are_accepted);
	tcase_add_test(tc, test_whitespace_wherever_json_allows_it_is_accepted);
	tcase_add_test(tc, test_empty_result_gives_an_empty_body);
	tcase_add_test(tc, test_nested_values_and_every_escape_are_accepted);
	tcase_add_test(tc,
	    test_negative_zero_and_fifteen_digit_ids_are_accepted);
	tcase_add_test(tc,
	    test_meta_deeper_than_the_results_top_level_is_accepted);
	tcase_add_test(tc, test_result_nested_to_the_depth_limit_is_accepted);
	tcase_add_test(tc,
	    test_result_with_the_most_members_allowed_is_accepted);
	tcase_add_test(tc,
	    test_every_byte_from_space_up_is_allowed_raw_in_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_error_responses_are_refused);
	tcase_add_test(tc, test_requests_and_notifications_are_refused);
	tcase_add_test(tc, test_missing_members_are_refused);
	tcase_add_test(tc, test_other_jsonrpc_versions_are_refused);
	tcase_add_test(tc, test_repeated_top_level_members_are_refused);
	tcase_add_test(tc, test_extra_top_level_members_are_refused);
	tcase_add_test(tc,
	    test_ids_other_than_short_plain_integers_are_refused);
	tcase_add_test(tc, test_result_that_is_not_an_object_is_refused);
	tcase_add_test(tc, test_meta_at_the_results_top_level_is_refused);
	tcase_add_test(tc,
	    test_escaped_keys_at_the_results_top_level_are_refused);
	tcase_add_test(tc,
	    test_result_with_more_members_than_allowed_is_refused);
	tcase_add_test(tc, test_repeated_members_of_the_result_are_refused);
	tcase_add_test(tc, test_control_characters_in_strings_are_refused);
	tcase_add_test(tc,
	    test_control_character_anywhere_in_a_string_is_refused);
	tcase_add_test(tc, test_bad_escapes_are_refused);
	tcase_add_test(tc, test_escapes_the_full_parser_refuses_are_refused);
	tcase_add_test(tc, test_every_truncation_of_a_valid_line_is_refused);
	tcase_add_test(tc, test_trailing_garbage_is_refused);
	tcase_add_test(tc, test_nesting_deeper_than_the_limit_is_refused);
	tcase_add_test(tc, test_whitespace_json_does_not_allow_is_refused);
	tcase_add_test(tc, test_invalid_numbers_are_refused);
	tcase_add_test(tc, test_misspelled_literals_are_refused);
	tcase_add_test(tc, test_text_that_is_not_one_object_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("speed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_long_runs_of_escapes_scan_in_linear_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("equivalence");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    test_accepted_lines_read_the_same_through_jsonrpc_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("request accepted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_forwarded_request_gives_its_spans);
	tcase_add_test(tc, test_request_members_in_any_order_are_accepted);
	tcase_add_test(tc,
	    test_request_whitespace_wherever_json_allows_it_is_accepted);
	tcase_add_test(tc,
	    test_numeric_ids_of_up_to_fifteen_characters_are_accepted);
	tcase_add_test(tc, test_string_ids_without_escapes_are_accepted);
	tcase_add_test(tc, test_nested_params_values_are_passed_as_written);
	tcase_add_test(tc,
	    test_server_and_thread_in_any_position_are_accepted);
	tcase_add_test(tc,
	    test_params_with_only_server_and_thread_give_no_members);
	tcase_add_test(tc,
	    test_empty_server_thread_and_long_threads_are_left_to_the_daemon);
	tcase_add_test(tc,
	    test_params_with_the_most_members_allowed_are_accepted);
	tcase_add_test(tc, test_params_nested_to_the_depth_limit_are_accepted);
	tcase_add_test(tc, test_methods_merely_like_broker_ones_are_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("request refused");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_batches_and_scalars_are_refused_as_requests);
	tcase_add_test(tc, test_requests_missing_a_member_are_refused);
	tcase_add_test(tc,
	    test_requests_of_other_jsonrpc_versions_are_refused);
	tcase_add_test(tc,
	    test_repeated_top_level_members_of_a_request_are_refused);
	tcase_add_test(tc, test_repeated_params_members_are_refused);
	tcase_add_test(tc,
	    test_extra_top_level_members_of_a_request_are_refused);
	tcase_add_test(tc, test_broker_methods_are_refused);
	tcase_add_test(tc, test_escaped_empty_or_other_methods_are_refused);
	tcase_add_test(tc,
	    test_ids_other_than_short_integers_or_plain_strings_are_refused);
	tcase_add_test(tc,
	    test_string_ids_with_escapes_or_over_the_limit_are_refused);
	tcase_add_test(tc, test_params_that_are_not_an_object_are_refused);
	tcase_add_test(tc, test_timeout_ms_and_meta_in_params_are_refused);
	tcase_add_test(tc, test_escaped_keys_in_params_are_refused);
	tcase_add_test(tc,
	    test_server_or_thread_not_a_plain_string_is_refused);
	tcase_add_test(tc,
	    test_requests_missing_server_or_thread_are_refused);
	tcase_add_test(tc, test_trailing_commas_in_a_request_are_refused);
	tcase_add_test(tc,
	    test_every_truncation_of_a_valid_request_is_refused);
	tcase_add_test(tc, test_trailing_garbage_after_a_request_is_refused);
	tcase_add_test(tc,
	    test_params_with_more_members_than_allowed_are_refused);
	tcase_add_test(tc,
	    test_params_nested_deeper_than_the_limit_are_refused);
	tcase_add_test(tc, test_control_characters_in_a_request_are_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("request equivalence");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    test_accepted_requests_go_to_the_child_as_the_full_path_sends_them);
	tcase_add_test(tc,
	    test_the_child_gets_the_params_members_in_the_clients_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("text");
	tcase_add_test(tc, test_line_scan_is_strict_json);
	tcase_add_test(tc, test_line_scan_reads_the_id_only_when_it_is_sure);
	tcase_add_test(tc, test_line_scan_reports_lone_surrogates);
	tcase_add_test(tc, test_members_are_walked_and_found_by_decoded_key);
	tcase_add_test(tc, test_strings_decode_to_what_they_stand_for);
	tcase_add_test(tc, test_keys_compare_as_they_decode);
	tcase_add_test(tc,
	    test_ids_compare_strings_by_value_and_numbers_by_text);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(scan_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
