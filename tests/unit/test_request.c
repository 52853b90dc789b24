/*
 * Requests and upcalls (daemon/request.c) between a fake client and a
 * fake session: an answer goes back under the client's own id and leaves
 * every list; errors, cancels, timeouts and progress reach whom they
 * concern; a client that goes away, even from inside a send to it, leaves
 * nothing of its requests or upcalls behind and nothing is freed twice.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <event2/event.h>

#include "clock.h"
#include "counters.h"
#include "errors.h"
#include "front.h"
#include "latency.h"
#include "log.h"
#include "request.h"
#include "wire.h"
#include "xmalloc.h"

/* Requests in flight at once for the child-id lookups: the hash grows. */
#define MANY		300

/* A client as its front end sees it: what it was sent, its reading. */
struct fake_client {
	struct front	 front;
	struct counters	 counters;
	cJSON		*sent;		/* every message, in order */
	cJSON		*lines;		/* every send_result line, in order */
	int		 pauses;
	int		 resumes;
	int		 drop_on_send;	/* the next send drops the client */
	uint64_t	 last_send_ms;
};

/* A session as the owner of a request set: what its child was written. */
struct fake_session {
	struct request_set	*set;
	cJSON			*written;	/* every message, in order */
	int			 changes;
};

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static struct fake_client	 client, other;
static struct fake_session	 session;
static struct event_base	*base;
static struct event		*ticker;	/* progress at intervals */
static cJSON			*ticking_id;	/* the request it is for */
static int			 ticks;
static struct request		*reqs[MANY];
static char			*printed;

static void	setup(void);
static void	teardown(void);
static void	client_init(struct fake_client *);
static void	client_send_cb(void *, cJSON *);
static void	client_send_result_cb(void *, const char *, size_t,
		    const char *, size_t, const char *, size_t);
static void	client_send_line_cb(void *, const char *, size_t);
static void	client_pause_cb(void *);
static void	client_resume_cb(void *);
static void	client_close_cb(void *, const char *);
static void	client_sent(struct fake_client *);
static void	session_write_cb(cJSON *, void *);
static void	session_write_text_cb(const char *, size_t, void *);
static cJSON	*session_error_data_cb(void *, int);
static void	session_changed_cb(void *);
static void	tick_cb(evutil_socket_t, short, void *);
static cJSON	*json(const char *);
static struct request *new_request(struct fake_client *, const char *);
static struct request *sent_request(struct fake_client *, const char *,
		    int64_t);
static struct request *queued_request(struct fake_client *, const char *);
static struct upcall *new_upcall(struct fake_client *, const char *);
static cJSON	*empty_result(void);
static void	send_many(void);
static const cJSON *nth(const cJSON *, int, int);
static void	expect_json(const cJSON *, const char *);
static void	expect_member(const cJSON *, const char *, const char *);
static void	expect_error(const cJSON *, const char *, int, const char *);
static void	expect_cancel(const cJSON *, int64_t);
static void	expect_client_has_nothing(struct fake_client *);
static Suite	*request_suite(void);

static const struct front_ops client_ops = {
	client_send_cb,
	client_send_result_cb,
	client_send_line_cb,
	client_pause_cb,
	client_resume_cb,
	client_close_cb,
};

static const struct request_set_ops session_ops = {
	session_write_cb,
	session_write_text_cb,
	session_error_data_cb,
	session_changed_cb,
};

/* Two clients, one session, a loop for the clocks; nothing sent yet. */
static void
setup(void)
{
	client_init(&client);
	client_init(&other);
	memset(&session, 0, sizeof session);
	session.written = cJSON_CreateArray();
	session.set = request_set_new(&session_ops, &session);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ticker = NULL;
	ticking_id = NULL;
	ticks = 0;
	memset(reqs, 0, sizeof reqs);
	printed = NULL;
}

/* Whatever is left is cancelled by its clients leaving, then freed. */
static void
teardown(void)
{
	if (ticker != NULL)
		event_free(ticker);
	ticker = NULL;
	request_front_gone(&client.front);
	request_front_gone(&other.front);
	if (session.set != NULL)
		request_set_free(session.set);
	session.set = NULL;
	event_base_free(base);
	base = NULL;
	cJSON_Delete(client.sent);
	cJSON_Delete(client.lines);
	cJSON_Delete(other.sent);
	cJSON_Delete(other.lines);
	cJSON_Delete(session.written);
	cJSON_Delete(ticking_id);
	ticking_id = NULL;
	free(printed);
	printed = NULL;
}

/* A client that has sent nothing and been sent nothing. */
static void
client_init(struct fake_client *c)
{
	memset(c, 0, sizeof *c);
	front_init(&c->front, &client_ops, c, &c->counters, 1000, 42, 0);
	c->sent = cJSON_CreateArray();
	c->lines = cJSON_CreateArray();
}

/* The front end sends a message: kept, in order, as it reads back. */
static void
client_send_cb(void *arg, cJSON *msg)
{
	struct fake_client	*c = arg;
	char			*text;

	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	msg = cJSON_Parse(text);
	free(text);
	ck_assert_msg(msg != NULL, "sent a message that is not JSON");
	cJSON_AddItemToArray(c->sent, msg);
	client_sent(c);
}

/* The front end sends a result as text: the line it would write. */
static void
client_send_result_cb(void *arg, const char *id, size_t id_len,
    const char *meta, size_t meta_len, const char *body, size_t len)
{
	struct fake_client	*c = arg;
	char			*line, *end;

	line = xmalloc(wire_result_size(id_len, meta_len, len) + 1);
	end = wire_result_fill(line, id, id_len, meta, meta_len, body, len);
	*end = '\0';
	cJSON_AddItemToArray(c->lines, cJSON_CreateString(line));
	free(line);
	client_sent(c);
}

/* The front end sends a message written as text: kept, parsed. */
static void
client_send_line_cb(void *arg, const char *line, size_t len)
{
	struct fake_client	*c = arg;
	cJSON			*msg;

	msg = cJSON_ParseWithLength(line, len);
	ck_assert_msg(msg != NULL, "sent a line that is not JSON");
	cJSON_AddItemToArray(c->sent, msg);
	client_sent(c);
}

/* The front end stops reading the client. */
static void
client_pause_cb(void *arg)
{
	((struct fake_client *)arg)->pauses++;
}

/* The front end reads the client again. */
static void
client_resume_cb(void *arg)
{
	((struct fake_client *)arg)->resumes++;
}

/* Only the broker closes clients, never the request module. */
static void
client_close_cb(void *arg, const char *why)
{
	(void)arg;
	(void)why;
	ck_abort_msg("the core closed a client");
}

/*
 * After each send: when, and the drop a front end does to a client over
 * its output bound, from inside the send.
 */
static void
client_sent(struct fake_client *c)
{
	c->last_send_ms = clock_ms();
	if (c->drop_on_send) {
		c->drop_on_send = 0;
		request_front_gone(&c->front);
	}
}

/* The session writes a message to its child: kept, in order, as it
   reads back. */
static void
session_write_cb(cJSON *msg, void *arg)
{
	struct fake_session	*s = arg;
	char			*text;

	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	msg = cJSON_Parse(text);
	free(text);
	ck_assert_msg(msg != NULL, "wrote a message that is not JSON");
	cJSON_AddItemToArray(s->written, msg);
}

/* The session writes a message as text to its child: kept, parsed. */
static void
session_write_text_cb(const char *line, size_t len, void *arg)
{
	struct fake_session	*s = arg;
	cJSON			*msg;

	msg = cJSON_ParseWithLength(line, len);
	ck_assert_msg(msg != NULL, "wrote a line that is not JSON");
	cJSON_AddItemToArray(s->written, msg);
}

/* The session's error data: who it is, and a marker when full. */
static cJSON *
session_error_data_cb(void *arg, int full)
{
	cJSON	*data;

	(void)arg;
	data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "server", "s");
	cJSON_AddStringToObject(data, "thread", "t");
	if (full)
		cJSON_AddTrueToObject(data, "full");
	return (data);
}

/* The session's count of requests changed. */
static void
session_changed_cb(void *arg)
{
	((struct fake_session *)arg)->changes++;
}

/* The child reports progress on the ticking request while it is pending. */
static void
tick_cb(evutil_socket_t fd, short events, void *arg)
{
	static const char	 line[] = "{\"jsonrpc\":\"2.0\",\"method\":"
				    "\"notifications/progress\",\"params\":"
				    "{\"progressToken\":1,\"progress\":1}}";
	struct request		*req;
	char			*id;

	(void)fd;
	(void)events;
	(void)arg;
	/* A request kept alive past its cap would stop at the tenth. */
	id = cJSON_PrintUnformatted(ticking_id);
	req = request_find(&client.front, id, strlen(id));
	free(id);
	if (req == NULL || ticks == 10) {
		event_del(ticker);
		return;
	}
	ticks++;
	request_progress(req, line, sizeof line - 1);
}

/* text parsed; the test JSON must be valid. */
static cJSON *
json(const char *text)
{
	cJSON	*item;

	item = cJSON_Parse(text);
	ck_assert_msg(item != NULL, "test JSON does not parse: %s", text);
	return (item);
}

/* A request from c under id (JSON text), kept as the client wrote it. */
static struct request *
new_request(struct fake_client *c, const char *id)
{
	return (request_new(&c->front, REQUEST_FORWARD, json(id), id,
	    strlen(id)));
}

/* A request from c under id, in flight at the child under child_id. */
static struct request *
sent_request(struct fake_client *c, const char *id, int64_t child_id)
{
	struct request	*req;

	req = new_request(c, id);
	request_send(session.set, req, child_id);
	return (req);
}

/* A request from c under id, queued while the session starts. */
static struct request *
queued_request(struct fake_client *c, const char *id)
{
	struct request	*req;

	req = new_request(c, id);
	request_queue(session.set, req);
	return (req);
}

/* The child asks c a question under child_id (JSON text). */
static struct upcall *
new_upcall(struct fake_client *c, const char *child_id)
{
	return (upcall_new(session.set, &c->front, child_id,
	    strlen(child_id)));
}

/* A child's answer with an empty result (its id is replaced). */
static cJSON *
empty_result(void)
{
	return (json("{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}}"));
}

/* MANY requests from client (ids 0..) in flight (child ids 1000, 1003..). */
static void
send_many(void)
{
	char	id[32];
	int	i;

	for (i = 0; i < MANY; i++) {
		snprintf(id, sizeof id, "%d", i);
		reqs[i] = sent_request(&client, id, 1000 + 3 * i);
	}
	ck_assert_uint_eq(request_set_count(session.set), MANY);
}

/* Item i of an array that must hold n. */
static const cJSON *
nth(const cJSON *array, int n, int i)
{
	ck_assert_int_eq(cJSON_GetArraySize(array), n);
	return (cJSON_GetArrayItem(array, i));
}

/* item must be the JSON want, members in any order. */
static void
expect_json(const cJSON *item, const char *want)
{
	cJSON	*w;
	int	 same;

	ck_assert_ptr_nonnull(item);
	w = json(want);
	same = cJSON_Compare(item, w, 1);
	cJSON_Delete(w);
	free(printed);
	printed = cJSON_PrintUnformatted(item);
	ck_assert_msg(same, "got %s, want %s", printed, want);
}

/* Member name of msg must be the JSON want. */
static void
expect_member(const cJSON *msg, const char *name, const char *want)
{
	const cJSON	*m;

	m = cJSON_GetObjectItemCaseSensitive(msg, name);
	ck_assert_msg(m != NULL, "no member %s", name);
	expect_json(m, want);
}

/* msg must be the error code with message under id (JSON text). */
static void
expect_error(const cJSON *msg, const char *id, int code, const char *message)
{
	const cJSON	*error;

	expect_member(msg, "jsonrpc", "\"2.0\"");
	expect_member(msg, "id", id);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(msg, "result"));
	error = cJSON_GetObjectItemCaseSensitive(msg, "error");
	ck_assert_ptr_nonnull(error);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(error,
	    "code")->valueint, code);
	if (message != NULL)
		ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(error,
		    "message")->valuestring, message);
}

/*
 * msg must be the child being told to cancel its request child_id, for a
 * reason (its words are the cancel test's).
 */
static void
expect_cancel(const cJSON *msg, int64_t child_id)
{
	const cJSON	*params;
	char		 want[32];

	expect_member(msg, "jsonrpc", "\"2.0\"");
	expect_member(msg, "method", "\"notifications/cancelled\"");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(msg, "id"));
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	snprintf(want, sizeof want, "%lld", (long long)child_id);
	expect_member(params, "requestId", want);
	ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(params,
	    "reason")));
}

/* c has no request or upcall left anywhere. */
static void
expect_client_has_nothing(struct fake_client *c)
{
	ck_assert(TAILQ_EMPTY(&c->front.requests));
	ck_assert_uint_eq(c->front.nrequests, 0);
	ck_assert(TAILQ_EMPTY(&c->front.upcalls));
}

/* Answers. */

START_TEST(test_answer_goes_back_under_the_clients_string_id)
{
	struct request	*req;
	cJSON		*id;

	req = sent_request(&client, "\"abc\"", 1);
	ck_assert_ptr_eq(request_take(session.set, 1), req);
	request_answer(req, json("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{\"x\":1}}"));

	expect_json(nth(client.sent, 1, 0), "{\"jsonrpc\":\"2.0\","
	    "\"id\":\"abc\",\"result\":{\"x\":1}}");
	(void)id;
	ck_assert_ptr_null(request_find(&client.front, "\"abc\"", 5));
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 0);
	ck_assert_ptr_null(request_take(session.set, 1));
	ck_assert_int_eq(cJSON_GetArraySize(session.written), 0);
}
END_TEST

START_TEST(test_answer_goes_back_under_the_clients_number_id)
{
	struct request	*req;

	req = sent_request(&client, "42", 7);
	sent_request(&client, "43", 8);
	ck_assert_ptr_eq(request_take(session.set, 7), req);
	request_answer(req, json("{\"jsonrpc\":\"2.0\",\"id\":7,"
	    "\"result\":{\"content\":[]}}"));

	expect_json(nth(client.sent, 1, 0), "{\"jsonrpc\":\"2.0\",\"id\":42,"
	    "\"result\":{\"content\":[]}}");
	ck_assert_uint_eq(client.front.nrequests, 1);
	ck_assert_uint_eq(request_set_count(session.set), 1);
	ck_assert_ptr_null(request_take(session.set, 7));
}
END_TEST

START_TEST(test_an_error_answer_from_the_child_is_counted)
{
	sent_request(&client, "1", 1);
	request_answer(request_take(session.set, 1), json("{\"jsonrpc\":"
	    "\"2.0\",\"id\":1,\"error\":{\"code\":-32602,"
	    "\"message\":\"no\"}}"));

	expect_error(nth(client.sent, 1, 0), "1", -32602, "no");
	ck_assert_uint_eq(client.counters.errors, 1);
}
END_TEST

START_TEST(test_answer_text_is_the_exact_line_under_the_id_as_written)
{
	struct request	*req;

	/* 1.50 is what the client wrote; cJSON would print 1.5. */
	req = request_new(&client.front, REQUEST_FORWARD, json("1.5"), "1.50",
	    4);
	request_send(session.set, req, 3);
	request_answer_text(request_take(session.set, 3), "{\"id\":\"s-1\"}",
	    12, "\"content\":[]", 12);
	req = sent_request(&client, "\"q-7\"", 4);
	request_answer_text(request_take(session.set, 4), "{\"id\":\"s-1\"}",
	    12, "", 0);

	ck_assert_str_eq(nth(client.lines, 2, 0)->valuestring,
	    "{\"jsonrpc\":\"2.0\",\"id\":1.50,\"result\":{\"_meta\":"
	    "{\"mcp-broker/session\":{\"id\":\"s-1\"}},\"content\":[]}}\n");
	ck_assert_str_eq(nth(client.lines, 2, 1)->valuestring,
	    "{\"jsonrpc\":\"2.0\",\"id\":\"q-7\",\"result\":{\"_meta\":"
	    "{\"mcp-broker/session\":{\"id\":\"s-1\"}}}}\n");
	ck_assert_int_eq(cJSON_GetArraySize(client.sent), 0);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 0);
}
END_TEST

START_TEST(test_answer_text_prints_an_id_that_was_not_kept)
{
	struct request	*req;
	char		 longid[300], want[512];

	/* Too long to keep: printed from the tree. */
	req = sent_request(&client, "\"request-id-0123456789\"", 1);
	request_answer_text(request_take(session.set, 1), "1", 1, "", 0);
	/* Longer than the stack buffer: printed to the heap, then freed. */
	memset(longid, 'x', sizeof longid);
	longid[0] = '"';
	longid[sizeof longid - 2] = '"';
	longid[sizeof longid - 1] = '\0';
	req = sent_request(&client, longid, 2);
	request_answer_text(request_take(session.set, 2), "1", 1, "", 0);
	/* A raw number (as jsonrpc_parse keeps long ones): verbatim. */
	req = request_new(&client.front, REQUEST_FORWARD,
	    cJSON_CreateRaw("123456789012345678901"), NULL, 0);
	request_send(session.set, req, 3);
	request_answer_text(request_take(session.set, 3), "1", 1, "", 0);
	/* No text given at all (broker/session). */
	req = request_new(&client.front, REQUEST_SESSION_INFO, json("7"),
	    NULL, 0);
	request_answer_text(req, "1", 1, "\"a\":true", 8);

	ck_assert_str_eq(nth(client.lines, 4, 0)->valuestring,
	    "{\"jsonrpc\":\"2.0\",\"id\":\"request-id-0123456789\",\"result\":"
	    "{\"_meta\":{\"mcp-broker/session\":1}}}\n");
	snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":"
	    "{\"_meta\":{\"mcp-broker/session\":1}}}\n", longid);
	ck_assert_str_eq(nth(client.lines, 4, 1)->valuestring, want);
	ck_assert_str_eq(nth(client.lines, 4, 2)->valuestring,
	    "{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901,\"result\":"
	    "{\"_meta\":{\"mcp-broker/session\":1}}}\n");
	ck_assert_str_eq(nth(client.lines, 4, 3)->valuestring,
	    "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":"
	    "{\"_meta\":{\"mcp-broker/session\":1},\"a\":true}}\n");
	expect_client_has_nothing(&client);
}
END_TEST

START_TEST(test_fail_sends_the_error_with_its_data)
{
	struct request	*req;

	req = sent_request(&client, "\"f\"", 3);
	request_fail(req, RPC_SESSION_LOST, "The session was lost.",
	    json("{\"server\":\"s\",\"thread\":\"t\"}"));

	expect_json(nth(client.sent, 1, 0), "{\"jsonrpc\":\"2.0\",\"id\":\"f\","
	    "\"error\":{\"code\":-32012,\"message\":\"The session was lost.\","
	    "\"data\":{\"server\":\"s\",\"thread\":\"t\"}}}");
	ck_assert_uint_eq(client.counters.errors, 1);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 0);
	ck_assert_ptr_null(request_take(session.set, 3));
}
END_TEST

/* Cancels. */

START_TEST(test_cancel_of_a_sent_request_tells_the_child_and_not_the_client)
{
	struct request	*req;

	req = sent_request(&client, "1", 9);
	request_cancel(req);

	expect_json(nth(session.written, 1, 0), "{\"jsonrpc\":\"2.0\","
	    "\"method\":\"notifications/cancelled\",\"params\":"
	    "{\"requestId\":9,\"reason\":\"the client cancelled or "
	    "disconnected\"}}");
	ck_assert_int_eq(cJSON_GetArraySize(client.sent), 0);
	ck_assert_int_eq(cJSON_GetArraySize(client.lines), 0);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 0);
	ck_assert_ptr_null(request_take(session.set, 9));
}
END_TEST

START_TEST(test_cancel_of_a_queued_request_writes_nothing)
{
	struct request	*req;

	req = queued_request(&client, "1");
	request_cancel(req);

	ck_assert_int_eq(cJSON_GetArraySize(session.written), 0);
	ck_assert_int_eq(cJSON_GetArraySize(client.sent), 0);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 0);
	ck_assert_ptr_null(request_dequeue(session.set));
}
END_TEST

/* The set: queue, in flight by child id, changes. */

START_TEST(test_take_finds_each_of_many_in_flight_by_child_id)
{
	struct request	*req;
	char		 want[128];
	int		 i, j;

	send_many();
	/* 7 is prime to MANY: every request once, out of order. */
	for (j = 0; j < MANY; j++) {
		i = (j * 7) % MANY;
		req = request_take(session.set, 1000 + 3 * i);
		ck_assert_msg(req == reqs[i], "child id %d", 1000 + 3 * i);
		request_answer(req, json("{\"jsonrpc\":\"2.0\",\"id\":0,"
		    "\"result\":{}}"));
		snprintf(want, sizeof want, "%d", i);
		expect_member(nth(client.sent, j + 1, j), "id", want);
	}
	ck_assert_uint_eq(request_set_count(session.set), 0);
	expect_client_has_nothing(&client);
}
END_TEST

START_TEST(test_take_returns_null_for_unknown_and_late_ids)
{
	int	i;

	send_many();
	ck_assert_ptr_null(request_take(session.set, 999));
	ck_assert_ptr_null(request_take(session.set, 1001));
	ck_assert_ptr_null(request_take(session.set, 1000 + 3 * MANY));
	ck_assert_ptr_null(request_take(session.set, 0));
	ck_assert_ptr_null(request_take(session.set, -1));
	ck_assert_uint_eq(request_set_count(session.set), MANY);

	for (i = 0; i < MANY; i++) {
		if (i % 2)
			request_cancel(reqs[i]);
		else
			request_answer(request_take(session.set, 1000 + 3 * i),
			    empty_result());
	}
	for (i = 0; i < MANY; i++)
		ck_assert_msg(request_take(session.set, 1000 + 3 * i) == NULL,
		    "late answer to child id %d found a request",
		    1000 + 3 * i);
	ck_assert_uint_eq(request_set_count(session.set), 0);
}
END_TEST

START_TEST(test_dequeue_hands_back_queued_requests_in_order)
{
	struct request	*a, *b;

	a = queued_request(&client, "\"a\"");
	b = queued_request(&client, "\"b\"");
	ck_assert_uint_eq(request_set_count(session.set), 2);

	ck_assert_ptr_eq(request_dequeue(session.set), a);
	ck_assert_ptr_eq(request_dequeue(session.set), b);
	ck_assert_ptr_null(request_dequeue(session.set));
	ck_assert_uint_eq(request_set_count(session.set), 0);
	/* Still the client's until sent and answered. */
	ck_assert_uint_eq(client.front.nrequests, 2);
	request_send(session.set, a, 1);
	ck_assert_ptr_eq(request_take(session.set, 1), a);
}
END_TEST

START_TEST(test_the_session_hears_of_each_change_to_its_count)
{
	struct request	*a, *b, *c;

	a = queued_request(&client, "1");
	ck_assert_int_eq(session.changes, 1);
	b = sent_request(&client, "2", 2);
	ck_assert_int_eq(session.changes, 2);
	c = sent_request(&client, "3", 3);
	ck_assert_int_eq(session.changes, 3);
	ck_assert_ptr_eq(request_take(session.set, 2), b);
	ck_assert_int_eq(session.changes, 4);
	request_cancel(c);
	ck_assert_int_eq(session.changes, 5);
	request_fail(a, RPC_SESSION_LOST, "lost", NULL);
	ck_assert_int_eq(session.changes, 6);
	/* Taken already: its answer changes nothing more. */
	request_answer(b, json("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}"));
	ck_assert_int_eq(session.changes, 6);
}
END_TEST

START_TEST(test_a_request_is_found_by_its_id_as_written)
{
	struct request	*req, *big, *neg, *frac, *esc;

	req = new_request(&client, "5");
	big = new_request(&client, "123456789012");
	neg = new_request(&client, "-0");
	frac = new_request(&client, "1.5");
	esc = new_request(&client, "\"\\u00e9t\\/\"");
	ck_assert_ptr_eq(request_find(&client.front, "5", 1), req);
	ck_assert_ptr_eq(request_find(&client.front, "123456789012", 12),
	    big);
	ck_assert_ptr_eq(request_find(&client.front, "-0", 2), neg);
	ck_assert_ptr_eq(request_find(&client.front, "1.5", 3), frac);
	/* Strings by what they decode to, numbers by their text. */
	ck_assert_ptr_eq(request_find(&client.front, "\"\xc3\xa9t/\"", 6),
	    esc);
	ck_assert_ptr_null(request_find(&client.front, "0", 1));
	ck_assert_ptr_null(request_find(&client.front, "1.50", 4));
	ck_assert_ptr_null(request_find(&client.front, "\"5\"", 3));
	ck_assert_ptr_null(request_find(&other.front, "5", 1));
}
END_TEST

/* A client leaving, and the bound on its requests. */

START_TEST(test_front_gone_cancels_every_request_and_abandons_every_upcall)
{
	queued_request(&client, "\"q\"");
	sent_request(&client, "\"s1\"", 1);
	sent_request(&client, "\"s2\"", 2);
	new_upcall(&client, "\"u-1\"");
	new_upcall(&client, "5");
	/* Another client's are not touched. */
	sent_request(&other, "\"o\"", 3);
	new_upcall(&other, "6");

	request_front_gone(&client.front);

	ck_assert(client.front.gone);
	expect_cancel(nth(session.written, 4, 0), 1);
	expect_cancel(nth(session.written, 4, 1), 2);
	expect_error(nth(session.written, 4, 2), "\"u-1\"", RPC_INTERNAL_ERROR,
	    NULL);
	expect_error(nth(session.written, 4, 3), "5", RPC_INTERNAL_ERROR,
	    NULL);
	ck_assert_int_eq(cJSON_GetArraySize(client.sent), 0);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 1);
	ck_assert_uint_eq(upcall_count(session.set), 1);
	ck_assert_uint_eq(other.front.nrequests, 1);
	ck_assert_ptr_nonnull(request_take(session.set, 3));
}
END_TEST

START_TEST(test_reading_pauses_at_the_bound_and_resumes_below_it)
{
	struct request	*last;
	int		 i;

	for (i = 0; i < FRONT_MAX_IN_FLIGHT - 1; i++)
		sent_request(&client, "1", i + 1);
	ck_assert_int_eq(client.pauses, 0);
	last = sent_request(&client, "1", FRONT_MAX_IN_FLIGHT);
	ck_assert_int_eq(client.pauses, 1);
	ck_assert(client.front.paused);
	sent_request(&client, "1", FRONT_MAX_IN_FLIGHT + 1);
	ck_assert_int_eq(client.pauses, 1);

	request_answer(request_take(session.set, FRONT_MAX_IN_FLIGHT + 1),
	    empty_result());
	ck_assert_int_eq(client.resumes, 0);
	request_cancel(last);
	ck_assert_int_eq(client.resumes, 1);
	ck_assert(!client.front.paused);
	sent_request(&client, "1", FRONT_MAX_IN_FLIGHT + 2);
	ck_assert_int_eq(client.pauses, 2);
}
END_TEST

START_TEST(test_fail_all_answers_queued_and_in_flight_with_full_error_data)
{
	queued_request(&client, "\"q\"");
	sent_request(&client, "\"s1\"", 1);
	sent_request(&other, "\"s2\"", 2);

	request_fail_all(session.set, RPC_SESSION_LOST, "The server exited.");

	expect_json(nth(client.sent, 2, 0), "{\"jsonrpc\":\"2.0\",\"id\":\"q\","
	    "\"error\":{\"code\":-32012,\"message\":\"The server exited.\","
	    "\"data\":{\"server\":\"s\",\"thread\":\"t\",\"full\":true}}}");
	expect_json(nth(client.sent, 2, 1), "{\"jsonrpc\":\"2.0\","
	    "\"id\":\"s1\",\"error\":{\"code\":-32012,\"message\":"
	    "\"The server exited.\",\"data\":{\"server\":\"s\","
	    "\"thread\":\"t\",\"full\":true}}}");
	expect_json(nth(other.sent, 1, 0), "{\"jsonrpc\":\"2.0\","
	    "\"id\":\"s2\",\"error\":{\"code\":-32012,\"message\":"
	    "\"The server exited.\",\"data\":{\"server\":\"s\","
	    "\"thread\":\"t\",\"full\":true}}}");
	ck_assert_uint_eq(client.counters.errors, 2);
	ck_assert_int_eq(cJSON_GetArraySize(session.written), 0);
	ck_assert_uint_eq(request_set_count(session.set), 0);
	expect_client_has_nothing(&client);
	expect_client_has_nothing(&other);
}
END_TEST

/* The clock. */

START_TEST(test_a_request_out_of_time_fails_with_timeout_ms_in_its_data)
{
	struct request	*req;
	uint64_t	 start;
	const cJSON	*error;

	req = sent_request(&client, "\"slow\"", 5);
	start = clock_ms();
	request_start_clock(req, base, 50, 60000);
	event_base_dispatch(base);

	error = cJSON_GetObjectItemCaseSensitive(nth(client.sent, 1, 0),
	    "error");
	expect_error(nth(client.sent, 1, 0), "\"slow\"", RPC_TIMEOUT,
	    "The request timed out after 50 ms (timeout_ms or "
	    "request_timeout_s); the server was told to cancel it.");
	expect_member(error, "data", "{\"server\":\"s\",\"thread\":\"t\","
	    "\"timeout_ms\":50}");
	/* libevent's coarse clock may fire a tick before ours. */
	ck_assert_uint_ge(client.last_send_ms - start, 45);
	ck_assert_uint_lt(client.last_send_ms - start, 1000);
	expect_cancel(nth(session.written, 1, 0), 5);
	ck_assert_uint_eq(client.counters.timeouts, 1);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 0);
	ck_assert_ptr_null(request_take(session.set, 5));
}
END_TEST

START_TEST(test_a_queued_request_out_of_time_fails_without_a_cancel)
{
	struct request	*req;

	req = queued_request(&client, "1");
	request_start_clock(req, base, 10, 60000);
	event_base_dispatch(base);

	expect_error(nth(client.sent, 1, 0), "1", RPC_TIMEOUT, NULL);
	ck_assert_int_eq(cJSON_GetArraySize(session.written), 0);
	ck_assert_uint_eq(request_set_count(session.set), 0);
	expect_client_has_nothing(&client);
}
END_TEST

START_TEST(test_progress_restarts_the_clock_but_never_past_the_cap)
{
	struct request	*req;
	struct timeval	 tv = { 0, 60 * 1000 };
	uint64_t	 start, took;
	const cJSON	*error;

	/* Without progress it would fail at 100 ms; uncapped, at 340. */
	req = sent_request(&client, "\"long\"", 5);
	ticking_id = json("\"long\"");
	ticker = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	start = clock_ms();
	request_start_clock(req, base, 100, 250);
	event_add(ticker, &tv);
	event_base_dispatch(base);
	took = client.last_send_ms - start;

	error = cJSON_GetObjectItemCaseSensitive(nth(client.sent, 1, 0),
	    "error");
	expect_error(nth(client.sent, 1, 0), "\"long\"", RPC_TIMEOUT,
	    "The request ran into max_request_timeout_s (250 ms) despite its "
	    "progress; the server was told to cancel it.");
	expect_member(error, "data", "{\"server\":\"s\",\"thread\":\"t\","
	    "\"timeout_ms\":250}");
	ck_assert_msg(took >= 245 && took < 330, "failed after %llu ms",
	    (unsigned long long)took);
	ck_assert_int_eq(ticks, 4);
	expect_cancel(nth(session.written, 1, 0), 5);
}
END_TEST

/* Progress. */

START_TEST(test_progress_goes_to_the_client_under_its_own_token)
{
	static const char line[] = "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progressToken\":12,"
	    "\"progress\":3,\"total\":10,\"message\":\"m\"}}";
	struct request	*req;

	req = new_request(&client, "\"p\"");
	request_set_token(req, json("\"tok-A\""));
	ck_assert(request_wants_progress(req));
	request_send(session.set, req, 4);
	request_progress(req, line, sizeof line - 1);

	expect_json(nth(client.sent, 1, 0), "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progressToken\":"
	    "\"tok-A\",\"progress\":3,\"total\":10,\"message\":\"m\"}}");
	ck_assert_uint_eq(client.front.nrequests, 1);
}
END_TEST

START_TEST(test_progress_without_a_client_token_is_not_passed_on)
{
	static const char line[] = "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progressToken\":12,"
	    "\"progress\":3}}";
	struct request	*req;

	req = sent_request(&client, "1", 4);
	ck_assert(!request_wants_progress(req));
	request_progress(req, line, sizeof line - 1);

	ck_assert_int_eq(cJSON_GetArraySize(client.sent), 0);
}
END_TEST

START_TEST(test_a_request_is_found_by_the_token_the_child_sees)
{
	struct request	*req, *plain;

	req = new_request(&client, "\"p\"");
	request_set_token(req, json("\"tok-A\""));
	request_set_child_token(req, 12);
	request_send(session.set, req, 4);
	plain = sent_request(&client, "2", 5);

	ck_assert_ptr_eq(request_find_token(session.set, 12), req);
	ck_assert_ptr_null(request_find_token(session.set, 13));
	/* A request that asked for no progress has no token, not 0. */
	ck_assert_ptr_null(request_find_token(session.set, 0));
	ck_assert_ptr_eq(request_first_sent(session.set), req);
	ck_assert_ptr_eq(request_next_sent(req), plain);
	ck_assert_ptr_null(request_next_sent(plain));
}
END_TEST

/* Upcalls. */

START_TEST(test_an_upcall_answer_goes_to_the_child_under_its_own_id)
{
	static const char answer[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{\"role\":\"assistant\"}}";
	struct upcall	*up, *second;

	up = new_upcall(&client, "\"s-1\"");
	second = new_upcall(&client, "\"s-2\"");
	ck_assert_int_eq(upcall_client_id(up), 1);
	ck_assert_int_eq(upcall_client_id(second), 2);
	ck_assert_uint_eq(upcall_count(session.set), 2);

	ck_assert_ptr_eq(upcall_find(&client.front, "1", 1), up);
	ck_assert_ptr_null(upcall_find(&other.front, "1", 1));
	ck_assert_ptr_null(upcall_find(&client.front, "\"1\"", 3));
	ck_assert_ptr_eq(upcall_find_child(session.set, "\"s-1\"", 5), up);
	ck_assert_ptr_eq(upcall_find_child(session.set, "\"s\\u002d1\"", 10),
	    up);

	upcall_answer(up, answer, sizeof answer - 1);

	expect_json(nth(session.written, 1, 0), "{\"jsonrpc\":\"2.0\","
	    "\"id\":\"s-1\",\"result\":{\"role\":\"assistant\"}}");
	ck_assert_int_eq(cJSON_GetArraySize(client.sent), 0);
	ck_assert_uint_eq(upcall_count(session.set), 1);
	ck_assert_ptr_null(upcall_find(&client.front, "1", 1));
}
END_TEST

START_TEST(test_upcall_cancel_sends_notifications_cancelled_to_the_client)
{
	struct upcall	*up;

	new_upcall(&client, "\"s-1\"");
	up = new_upcall(&client, "\"s-2\"");
	upcall_cancel(up, "the server cancelled it");

	expect_json(nth(client.sent, 1, 0), "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":2,"
	    "\"reason\":\"the server cancelled it\"}}");
	ck_assert_int_eq(cJSON_GetArraySize(session.written), 0);
	ck_assert_uint_eq(upcall_count(session.set), 1);
}
END_TEST

START_TEST(test_freeing_the_set_withdraws_its_waiting_upcalls)
{
	new_upcall(&client, "\"a\"");
	new_upcall(&other, "\"b\"");

	request_set_free(session.set);
	session.set = NULL;

	expect_json(nth(client.sent, 1, 0), "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":1,"
	    "\"reason\":\"the session ended\"}}");
	expect_json(nth(other.sent, 1, 0), "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":1,"
	    "\"reason\":\"the session ended\"}}");
	expect_client_has_nothing(&client);
	expect_client_has_nothing(&other);
}
END_TEST

/* A send that drops the client (its output over the bound). */

START_TEST(test_an_answer_whose_send_drops_the_client_cancels_the_rest)
{
	sent_request(&client, "1", 1);
	sent_request(&client, "2", 2);
	queued_request(&client, "3");
	new_upcall(&client, "\"u\"");
	sent_request(&other, "4", 4);

	client.drop_on_send = 1;
	request_answer(request_take(session.set, 1), json("{\"jsonrpc\":"
	    "\"2.0\",\"id\":1,\"result\":{}}"));

	expect_member(nth(client.sent, 1, 0), "id", "1");
	expect_cancel(nth(session.written, 2, 0), 2);
	expect_error(nth(session.written, 2, 1), "\"u\"", RPC_INTERNAL_ERROR,
	    NULL);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 1);
	ck_assert_uint_eq(upcall_count(session.set), 0);
}
END_TEST

START_TEST(test_an_answer_text_whose_send_drops_the_client_cancels_the_rest)
{
	sent_request(&client, "1", 1);
	sent_request(&client, "2", 2);

	client.drop_on_send = 1;
	request_answer_text(request_take(session.set, 1), "1", 1, "", 0);

	ck_assert_int_eq(cJSON_GetArraySize(client.lines), 1);
	expect_cancel(nth(session.written, 1, 0), 2);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 0);
}
END_TEST

START_TEST(test_fail_all_goes_on_past_a_client_dropped_by_its_first_error)
{
	queued_request(&client, "1");
	sent_request(&client, "2", 2);
	sent_request(&other, "3", 3);
	sent_request(&client, "4", 4);

	client.drop_on_send = 1;
	request_fail_all(session.set, RPC_SESSION_LOST, "The server exited.");

	expect_error(nth(client.sent, 1, 0), "1", RPC_SESSION_LOST, NULL);
	expect_cancel(nth(session.written, 2, 0), 2);
	expect_cancel(nth(session.written, 2, 1), 4);
	expect_error(nth(other.sent, 1, 0), "3", RPC_SESSION_LOST, NULL);
	ck_assert_uint_eq(request_set_count(session.set), 0);
	expect_client_has_nothing(&client);
	expect_client_has_nothing(&other);
}
END_TEST

START_TEST(test_upcall_cancels_that_drop_the_client_abandon_its_others)
{
	new_upcall(&client, "\"a\"");
	new_upcall(&other, "\"b\"");
	new_upcall(&client, "\"c\"");

	client.drop_on_send = 1;
	upcall_cancel_all(session.set, "the session ended");

	expect_member(nth(client.sent, 1, 0), "method",
	    "\"notifications/cancelled\"");
	expect_error(nth(session.written, 1, 0), "\"c\"", RPC_INTERNAL_ERROR,
	    NULL);
	ck_assert_int_eq(cJSON_GetArraySize(other.sent), 1);
	ck_assert_uint_eq(upcall_count(session.set), 0);
	expect_client_has_nothing(&client);
	expect_client_has_nothing(&other);
}
END_TEST

START_TEST(test_progress_whose_send_drops_the_client_stops_the_clock)
{
	static const char line[] = "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progressToken\":1,"
	    "\"progress\":1}}";
	struct request	*req;

	req = new_request(&client, "1");
	request_set_token(req, json("7"));
	request_send(session.set, req, 1);
	request_start_clock(req, base, 50, 1000);

	client.drop_on_send = 1;
	request_progress(req, line, sizeof line - 1);

	expect_member(nth(client.sent, 1, 0), "method",
	    "\"notifications/progress\"");
	expect_cancel(nth(session.written, 1, 0), 1);
	expect_client_has_nothing(&client);
	/* Its timer is gone with it. */
	ck_assert_int_eq(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 0);
}
END_TEST

START_TEST(test_a_timeout_whose_error_drops_the_client_cancels_the_rest)
{
	struct request	*req;

	req = sent_request(&client, "1", 1);
	request_start_clock(req, base, 10, 1000);
	req = sent_request(&client, "2", 2);
	request_start_clock(req, base, 60000, 60000);

	client.drop_on_send = 1;
	event_base_dispatch(base);

	expect_error(nth(client.sent, 1, 0), "1", RPC_TIMEOUT, NULL);
	expect_cancel(nth(session.written, 2, 0), 1);
	expect_cancel(nth(session.written, 2, 1), 2);
	expect_client_has_nothing(&client);
	ck_assert_uint_eq(request_set_count(session.set), 0);
}
END_TEST

/*
 * Every way a request of a watched set finishes is counted once on its
 * server's histogram: a result, an error answer, a failure, a cancel;
 * a request no set took is counted nowhere.
 */
START_TEST(test_every_finished_request_of_a_watched_set_is_counted_once)
{
	struct latency_list	 list = LIST_HEAD_INITIALIZER(list);
	struct latency		*l;
	struct log_ctx		 ctx = { "fake", "t1", "s1", 0 };
	struct request		*req, *taken;
	const char		*line;
	int			 access_log = 0, i;

	l = latency_get(&list, "fake");
	request_set_watch(session.set, l, &ctx, &access_log);
	ck_assert_uint_eq(l->refs, 2);

	req = sent_request(&client, "1", 1);
	ck_assert_ptr_eq(taken = request_take(session.set, 1), req);
	request_answer(taken, empty_result());
	req = sent_request(&client, "2", 2);
	taken = request_take(session.set, 2);
	line = "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32602,"
	    "\"message\":\"no\"}}";
	request_answer_line(taken, line, strlen(line), NULL, 0, 1);
	req = queued_request(&client, "3");
	request_fail(req, RPC_START_FAILED, "no", NULL);
	req = sent_request(&client, "4", 4);
	request_cancel(req);
	ck_assert_uint_eq(l->count, 4);
	/* The child's code is counted as its own. */
	for (i = 0; counters_codes[i] != RPC_INVALID_PARAMS; i++)
		continue;
	ck_assert_uint_eq(client.front.counters->errors_by_code[i], 1);

	/* Not taken by a set: not a request of any server. */
	req = new_request(&client, "5");
	request_fail(req, RPC_INVALID_PARAMS, "no", NULL);
	ck_assert_uint_eq(l->count, 4);

	/* The set holds the histogram until it is freed. */
	latency_release(l);
	ck_assert_ptr_eq(latency_find(&list, "fake"), l);
	request_set_free(session.set);
	session.set = NULL;
	ck_assert_ptr_null(latency_find(&list, "fake"));
}
END_TEST

static Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc = tcase_create("request");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_answer_goes_back_under_the_clients_string_id);
	tcase_add_test(tc, test_answer_goes_back_under_the_clients_number_id);
	tcase_add_test(tc, test_an_error_answer_from_the_child_is_counted);
	tcase_add_test(tc,
	    test_answer_text_is_the_exact_line_under_the_id_as_written);
	tcase_add_test(tc, test_answer_text_prints_an_id_that_was_not_kept);
	tcase_add_test(tc, test_fail_sends_the_error_with_its_data);
	tcase_add_test(tc,
	    test_cancel_of_a_sent_request_tells_the_child_and_not_the_client);
	tcase_add_test(tc, test_cancel_of_a_queued_request_writes_nothing);
	tcase_add_test(tc, test_take_finds_each_of_many_in_flight_by_child_id);
	tcase_add_test(tc, test_take_returns_null_for_unknown_and_late_ids);
	tcase_add_test(tc, test_dequeue_hands_back_queued_requests_in_order);
	tcase_add_test(tc, test_the_session_hears_of_each_change_to_its_count);
	tcase_add_test(tc, test_a_request_is_found_by_its_id_as_written);
	tcase_add_test(tc,
	    test_front_gone_cancels_every_request_and_abandons_every_upcall);
	tcase_add_test(tc,
	    test_reading_pauses_at_the_bound_and_resumes_below_it);
	tcase_add_test(tc,
	    test_fail_all_answers_queued_and_in_flight_with_full_error_data);
	tcase_add_test(tc,
	    test_a_request_out_of_time_fails_with_timeout_ms_in_its_data);
	tcase_add_test(tc,
	    test_a_queued_request_out_of_time_fails_without_a_cancel);
	tcase_add_test(tc,
	    test_progress_restarts_the_clock_but_never_past_the_cap);
	tcase_add_test(tc,
	    test_progress_goes_to_the_client_under_its_own_token);
	tcase_add_test(tc,
	    test_progress_without_a_client_token_is_not_passed_on);
	tcase_add_test(tc,
	    test_a_request_is_found_by_the_token_the_child_sees);
	tcase_add_test(tc,
	    test_an_upcall_answer_goes_to_the_child_under_its_own_id);
	tcase_add_test(tc,
	    test_upcall_cancel_sends_notifications_cancelled_to_the_client);
	tcase_add_test(tc, test_freeing_the_set_withdraws_its_waiting_upcalls);
	tcase_add_test(tc,
	    test_an_answer_whose_send_drops_the_client_cancels_the_rest);
	tcase_add_test(tc,
	    test_an_answer_text_whose_send_drops_the_client_cancels_the_rest);
	tcase_add_test(tc,
	    test_fail_all_goes_on_past_a_client_dropped_by_its_first_error);
	tcase_add_test(tc,
	    test_upcall_cancels_that_drop_the_client_abandon_its_others);
	tcase_add_test(tc,
	    test_progress_whose_send_drops_the_client_stops_the_clock);
	tcase_add_test(tc,
	    test_a_timeout_whose_error_drops_the_client_cancels_the_rest);
	tcase_add_test(tc,
	    test_every_finished_request_of_a_watched_set_is_counted_once);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(request_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
