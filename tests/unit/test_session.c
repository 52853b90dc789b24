/*
 * A session on a fake process: the handshake, requests queued while it
 * starts, the id map, the fast path, every way it fails, closing, and
 * the child's requests to clients.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "errors.h"
#include "fake_front.h"
#include "fake_process.h"
#include "front.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "process.h"
#include "request.h"
#include "session.h"
#include "xmalloc.h"

/* What the session told its owner. */
struct owner {
	struct session	*session;
	int		 busy[32];	/* each busy report, in order */
	size_t		 nbusy;
	int		 ended;
	int		 finished;
};

static void	 owner_busy_cb(struct session *, int, void *);
static void	 owner_ended_cb(struct session *, void *);
static void	 owner_finished_cb(struct session *, void *);
static void	 setup(void);
static void	 teardown(void);
static void	 server_init(struct server_conf *, enum server_protocol);
static struct session *start(const struct server_conf *, int);
static void	 make_ready(struct process *);
static struct session *start_ready(const struct server_conf *);
static void	 run_for_ms(int);
static struct request *forward(struct fake_front *, const char *,
		     const char *);
static struct request *forward_text(struct fake_front *, const char *,
		     const char *);
static int64_t	 expect_request(struct process *, const char *);
static cJSON	*expect_answer(struct fake_front *, const char *);
static cJSON	*expect_error(struct fake_front *, const char *, int);
static const char *str(const cJSON *, const char *);
static double	 num(const cJSON *, const char *);
static cJSON	*path(const cJSON *, const char *, const char *,
		     const char *);
static void	 end_session(struct session *, struct process *);
static Suite	*session_suite(void);

static const struct session_cbs owner_cbs = {
	.busy = owner_busy_cb,
	.ended = owner_ended_cb,
	.finished = owner_finished_cb,
};

static char		 server_name[] = "repl";
static char		 server_command[] = "/usr/bin/fake-server";
static char		 server_arg[] = "--stdio";
static char		*server_argv[] = { server_command, server_arg, NULL };
static char		*server_env[] = { NULL };

static struct event_base	*base;
static struct process_env	 env;
static struct owner		 owner;
static struct fake_front	 client;

/* The session turned busy or idle. */
static void
owner_busy_cb(struct session *s, int busy, void *arg)
{
	struct owner	*o = arg;

	ck_assert_ptr_eq(s, o->session);
	ck_assert_uint_lt(o->nbusy, sizeof o->busy / sizeof o->busy[0]);
	o->busy[o->nbusy++] = busy;
}

/* The session ended on its own. */
static void
owner_ended_cb(struct session *s, void *arg)
{
	struct owner	*o = arg;

	ck_assert_ptr_eq(s, o->session);
	o->ended++;
}

/* The session is over. */
static void
owner_finished_cb(struct session *s, void *arg)
{
	struct owner	*o = arg;

	ck_assert_ptr_eq(s, o->session);
	o->finished++;
}

/* An event loop, and one client of uid 1000. */
static void
setup(void)
{
	fake_process_reset();
	base = event_base_new();
	memset(&env, 0, sizeof env);
	env.base = base;
	env.max_message = 1 << 20;
	env.grace_ms = 100;
	memset(&owner, 0, sizeof owner);
	fake_front_init(&client, NULL, 1000, 0);
}

/* Every session was freed, with its process. */
static void
teardown(void)
{
	fake_front_clear(&client);
	event_base_free(base);
	ck_assert_uint_eq(fake_process_count(), 0);
}

/* Server "repl" run as /usr/bin/fake-server --stdio. */
static void
server_init(struct server_conf *sc, enum server_protocol protocol)
{
	memset(sc, 0, sizeof *sc);
	sc->name = server_name;
	sc->command = server_command;
	sc->argv = server_argv;
	sc->argc = 2;
	sc->env = server_env;
	sc->idle_timeout_s = CONFIG_UNSET;
	sc->request_timeout_s = CONFIG_UNSET;
	sc->start_timeout_s = CONFIG_UNSET;
	sc->protocol = protocol;
}

/* Start the session of (1000, sc, "t1"), id "s-1", generation 1. */
static struct session *
start(const struct server_conf *sc, int start_timeout_s)
{
	struct session_params	 sp;
	struct session		*s;
	char			*cause = NULL;

	memset(&sp, 0, sizeof sp);
	sp.env = &env;
	sp.server = sc;
	sp.start_timeout_s = start_timeout_s;
	sp.uid = 1000;
	sp.thread = "t1";
	sp.id = "s-1";
	sp.generation = 1;
	s = session_start(&sp, &owner_cbs, &owner, &cause);
	ck_assert_msg(s != NULL, "%s", cause);
	owner.session = s;
	return (s);
}

/* Answer initialize as a 2025-11-25 server would. */
static void
make_ready(struct process *p)
{
	cJSON	*msg;
	char	*line;
	int64_t	 id;

	id = expect_request(p, "initialize");
	xasprintf(&line, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":"
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":"
	    "{\"tools\":{}},\"serverInfo\":{\"name\":\"fake\","
	    "\"version\":\"1.0\"}}}", (long long)id);
	fake_process_line(p, line);
	free(line);
	msg = fake_process_pop(p);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(str(msg, "method"), "notifications/initialized");
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(msg, "id"));
	cJSON_Delete(msg);
}

/* A legacy session past its handshake. */
static struct session *
start_ready(const struct server_conf *sc)
{
	struct session	*s;

	s = start(sc, 30);
	make_ready(fake_process_last());
	ck_assert_int_eq(session_state(s), SESSION_READY);
	return (s);
}

/* Run the event loop for ms milliseconds. */
static void
run_for_ms(int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* A request of ff under id (JSON text) for method, its id printed. */
static struct request *
forward(struct fake_front *ff, const char *id, const char *method)
{
	struct request	*req;

	char		*tail;

	req = request_new(&ff->front, REQUEST_FORWARD, cJSON_Parse(id), NULL,
	    0);
	xasprintf(&tail, ",\"method\":\"%s\",\"params\":{}}\n", method);
	request_set_text(req, tail, strlen(tail));
	return (req);
}

/* The same, held as text, as the dispatch fast path hands it over. */
static struct request *
forward_text(struct fake_front *ff, const char *id, const char *method)
{
	struct request	*req;
	char		*tail;

	req = request_new(&ff->front, REQUEST_FORWARD, cJSON_Parse(id), id,
	    strlen(id));
	xasprintf(&tail, ",\"method\":\"%s\",\"params\":{\"name\":\"x\"}}\n",
	    method);
	request_set_text(req, tail, strlen(tail));
	return (req);
}

/* The child's next line is a request for method; returns its id. */
static int64_t
expect_request(struct process *p, const char *method)
{
	cJSON	*msg;
	int64_t	 id;

	msg = fake_process_pop(p);
	ck_assert_msg(msg != NULL, "no line for the child, expected %s",
	    method);
	ck_assert_str_eq(str(msg, "jsonrpc"), "2.0");
	ck_assert_str_eq(str(msg, "method"), method);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(msg, "id")));
	id = (int64_t)num(msg, "id");
	cJSON_Delete(msg);
	return (id);
}

/* The client's next message answers id (JSON text); the caller frees. */
static cJSON *
expect_answer(struct fake_front *ff, const char *id)
{
	cJSON	*msg, *want;

	msg = fake_front_pop(ff);
	ck_assert_msg(msg != NULL, "no message for the client, expected an "
	    "answer to %s", id);
	want = cJSON_Parse(id);
	ck_assert_msg(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(msg,
	    "id"), want, 1), "answer to the wrong id, expected %s", id);
	cJSON_Delete(want);
	return (msg);
}

/* The client's next message is error code for id; the caller frees. */
static cJSON *
expect_error(struct fake_front *ff, const char *id, int code)
{
	cJSON	*msg;

	msg = expect_answer(ff, id);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(msg, "result"));
	ck_assert_int_eq((int)num(cJSON_GetObjectItemCaseSensitive(msg,
	    "error"), "code"), code);
	return (msg);
}

/* A string member, which must be there. */
static const char *
str(const cJSON *o, const char *name)
{
	const cJSON	*item = cJSON_GetObjectItemCaseSensitive(o, name);

	ck_assert_msg(cJSON_IsString(item), "no string \"%s\"", name);
	return (item->valuestring);
}

/* A number member, which must be there. */
static double
num(const cJSON *o, const char *name)
{
	const cJSON	*item = cJSON_GetObjectItemCaseSensitive(o, name);

	ck_assert_msg(cJSON_IsNumber(item), "no number \"%s\"", name);
	return (item->valuedouble);
}

/* o.a.b.c (b, c NULL: shorter), or NULL. */
static cJSON *
path(const cJSON *o, const char *a, const char *b, const char *c)
{
	cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b != NULL)
		item = cJSON_GetObjectItemCaseSensitive(item, b);
	if (c != NULL)
		item = cJSON_GetObjectItemCaseSensitive(item, c);
	return (item);
}

/* Close the session if it is not closing, finish its process, free it. */
static void
end_session(struct session *s, struct process *p)
{
	if (session_state(s) != SESSION_CLOSING)
		session_close(s, RPC_SESSION_LOST, "the test is over");
	ck_assert_uint_ne(fake_process_closed(p), 0);
	fake_process_finish(p);
	ck_assert_int_eq(owner.finished, 1);
	session_free(s);
}

START_TEST(test_start_spawns_command_and_sends_initialize)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start(&sc, 30);
	p = fake_process_last();
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(fake_process_arg(p, 0), "/usr/bin/fake-server");
	ck_assert_str_eq(fake_process_arg(p, 1), "--stdio");
	ck_assert_ptr_null(fake_process_arg(p, 2));
	ck_assert_int_eq(session_state(s), SESSION_STARTING);

	msg = fake_process_pop(p);
	ck_assert_str_eq(str(msg, "method"), "initialize");
	ck_assert_int_eq((int)num(msg, "id"), 1);
	ck_assert_str_eq(str(path(msg, "params", NULL, NULL),
	    "protocolVersion"), MCP_VERSION_HANDSHAKE);
	cJSON_Delete(msg);
	ck_assert_uint_eq(fake_process_waiting(p), 0);
	/* A starting session is busy from the start: nothing to report. */
	ck_assert_uint_eq(owner.nbusy, 0);
	end_session(s, p);
}
END_TEST

START_TEST(test_initialize_answer_makes_session_ready)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start(&sc, 30);
	p = fake_process_last();
	make_ready(p);
	ck_assert_int_eq(session_state(s), SESSION_READY);
	ck_assert_uint_eq(fake_process_waiting(p), 0);
	ck_assert_uint_eq(owner.nbusy, 1);
	ck_assert_int_eq(owner.busy[0], 0);
	ck_assert_int_eq(owner.ended, 0);

	msg = session_describe(s, 1);
	ck_assert_str_eq(str(msg, "state"), "ready");
	ck_assert_str_eq(str(msg, "protocol_version"), "2025-11-25");
	ck_assert_str_eq(str(path(msg, "server_info", NULL, NULL), "name"),
	    "fake");
	cJSON_Delete(msg);
	end_session(s, p);
}
END_TEST

START_TEST(test_ready_session_reports_busy_then_idle)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	char			 line[128];
	int64_t			 id;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start_ready(&sc);
	p = fake_process_last();
	owner.nbusy = 0;

	session_submit(s, forward(&client, "7", "tools/list"));
	ck_assert_uint_eq(owner.nbusy, 1);
	ck_assert_int_eq(owner.busy[0], 1);
	id = expect_request(p, "tools/list");
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%lld,"
	    "\"result\":{}}", (long long)id);
	fake_process_line(p, line);
	ck_assert_uint_eq(owner.nbusy, 2);
	ck_assert_int_eq(owner.busy[1], 0);
	cJSON_Delete(expect_answer(&client, "7"));
	end_session(s, p);
}
END_TEST

START_TEST(test_requests_while_starting_are_sent_in_order_once_ready)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;
	int64_t			 a, b, c;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start(&sc, 30);
	p = fake_process_last();
	session_submit(s, forward(&client, "\"a\"", "tools/list"));
	session_submit(s, forward_text(&client, "5", "tools/call"));
	session_submit(s, forward(&client, "6", "resources/list"));
	/* Only the handshake reaches the child meanwhile. */
	ck_assert_uint_eq(fake_process_waiting(p), 1);

	make_ready(p);
	a = expect_request(p, "tools/list");
	msg = fake_process_pop(p);
	ck_assert_str_eq(str(msg, "method"), "tools/call");
	ck_assert_str_eq(str(path(msg, "params", NULL, NULL), "name"), "x");
	b = (int64_t)num(msg, "id");
	cJSON_Delete(msg);
	c = expect_request(p, "resources/list");
	ck_assert_uint_eq(fake_process_waiting(p), 0);
	/* Fresh child ids, past initialize's, never the client's. */
	ck_assert_int_gt(a, 1);
	ck_assert_int_gt(b, a);
	ck_assert_int_gt(c, b);
	ck_assert_uint_eq(fake_front_waiting(&client), 0);
	/* Still busy: three in flight. */
	ck_assert_uint_eq(owner.nbusy, 0);
	end_session(s, p);
	cJSON_Delete(expect_error(&client, "\"a\"", RPC_SESSION_LOST));
	cJSON_Delete(expect_error(&client, "5", RPC_SESSION_LOST));
	cJSON_Delete(expect_error(&client, "6", RPC_SESSION_LOST));
}
END_TEST

START_TEST(test_answers_out_of_order_reach_their_requests)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;
	char			 line[128];
	int64_t			 a, b;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start_ready(&sc);
	p = fake_process_last();
	session_submit(s, forward(&client, "\"first\"", "tools/call"));
	session_submit(s, forward_text(&client, "2", "tools/call"));
	a = expect_request(p, "tools/call");
	b = expect_request(p, "tools/call");

	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%lld,"
	    "\"result\":{\"n\":\"b\"}}", (long long)b);
	fake_process_line(p, line);
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%lld,"
	    "\"error\":{\"code\":-32602,\"message\":\"bad\"}}", (long long)a);
	fake_process_line(p, line);

	msg = expect_answer(&client, "2");
	ck_assert_str_eq(str(path(msg, "result", NULL, NULL), "n"), "b");
	cJSON_Delete(msg);
	msg = expect_error(&client, "\"first\"", -32602);
	ck_assert_str_eq(str(path(msg, "error", NULL, NULL), "message"),
	    "bad");
	cJSON_Delete(msg);
	ck_assert_uint_eq(fake_front_waiting(&client), 0);
	end_session(s, p);
}
END_TEST

START_TEST(test_answer_to_unknown_id_is_dropped)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	char			 line[128];
	int64_t			 id;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start_ready(&sc);
	p = fake_process_last();
	session_submit(s, forward(&client, "1", "tools/call"));
	id = expect_request(p, "tools/call");

	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}");
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":99,\"error\":"
	    "{\"code\":-1,\"message\":\"late\"}}");
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":\"1\","
	    "\"result\":{}}");
	ck_assert_uint_eq(fake_front_waiting(&client), 0);

	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%lld,"
	    "\"result\":{}}", (long long)id);
	fake_process_line(p, line);
	cJSON_Delete(expect_answer(&client, "1"));
	/* Its answer again: no longer in flight. */
	fake_process_line(p, line);
	ck_assert_uint_eq(fake_front_waiting(&client), 0);
	ck_assert_uint_eq(client.nsent, 1);
	end_session(s, p);
}
END_TEST

START_TEST(test_fast_path_result_carries_session_meta)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg, *meta;
	char			 line[160];
	int64_t			 id;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start_ready(&sc);
	p = fake_process_last();
	session_submit(s, forward_text(&client, "\"call-1\"", "tools/call"));
	id = expect_request(p, "tools/call");
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%lld,"
	    "\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}",
	    (long long)id);
	fake_process_line(p, line);

	ck_assert_uint_eq(client.nresults, 1);
	msg = expect_answer(&client, "\"call-1\"");
	ck_assert_str_eq(str(msg, "jsonrpc"), "2.0");
	meta = path(msg, "result", "_meta", MCP_META_SESSION);
	ck_assert_str_eq(str(meta, "id"), "s-1");
	ck_assert_int_eq((int)num(meta, "generation"), 1);
	ck_assert_str_eq(str(cJSON_GetArrayItem(path(msg, "result", "content",
	    NULL), 0), "text"), "hi");
	cJSON_Delete(msg);
	end_session(s, p);
}
END_TEST

START_TEST(test_full_parser_result_carries_session_meta)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg, *meta;
	char			 line[160];
	int64_t			 id;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start_ready(&sc);
	p = fake_process_last();
	session_submit(s, forward(&client, "3", "tools/call"));
	id = expect_request(p, "tools/call");
	/* The child's own _meta keeps the fast path away. */
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%lld,"
	    "\"result\":{\"_meta\":{\"own\":1},\"ok\":true}}", (long long)id);
	fake_process_line(p, line);

	ck_assert_uint_eq(client.nresults, 0);
	msg = expect_answer(&client, "3");
	meta = path(msg, "result", "_meta", NULL);
	ck_assert_int_eq((int)num(meta, "own"), 1);
	ck_assert_str_eq(str(path(meta, MCP_META_SESSION, NULL, NULL), "id"),
	    "s-1");
	ck_assert(cJSON_IsTrue(path(msg, "result", "ok", NULL)));
	cJSON_Delete(msg);
	end_session(s, p);
}
END_TEST

START_TEST(test_spawn_failure_returns_null_with_cause)
{
	struct server_conf	 sc;
	struct session_params	 sp;
	char			*cause = NULL;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	memset(&sp, 0, sizeof sp);
	sp.env = &env;
	sp.server = &sc;
	sp.start_timeout_s = 30;
	sp.thread = "t1";
	sp.id = "s-1";
	sp.generation = 1;
	fake_process_fail_next("fork: Resource temporarily unavailable");
	ck_assert_ptr_null(session_start(&sp, &owner_cbs, &owner, &cause));
	ck_assert_str_eq(cause, "fork: Resource temporarily unavailable");
	free(cause);
	ck_assert_uint_eq(fake_process_count(), 0);
	ck_assert_int_eq(owner.ended, 0);
}
END_TEST

START_TEST(test_handshake_error_fails_queued_requests_once_finished)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg, *data;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start(&sc, 30);
	p = fake_process_last();
	session_submit(s, forward(&client, "1", "tools/list"));
	ck_assert_int_eq(expect_request(p, "initialize"), 1);
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":"
	    "{\"code\":-32603,\"message\":\"no API key\"}}");
	ck_assert_int_eq(owner.ended, 1);
	ck_assert_int_eq(session_state(s), SESSION_CLOSING);
	ck_assert_uint_ne(fake_process_closed(p), 0);
	/* The answer waits for the child's exit and last stderr. */
	ck_assert_uint_eq(fake_front_waiting(&client), 0);
	ck_assert_uint_eq(fake_process_waiting(p), 0);

	fake_process_stderr(p, "error: NO_API_KEY is not set");
	fake_process_exit(p, 1 << 8);
	fake_process_finish(p);
	msg = expect_error(&client, "1", RPC_START_FAILED);
	ck_assert_ptr_nonnull(strstr(str(path(msg, "error", NULL, NULL),
	    "message"), "refused to initialize: no API key"));
	data = path(msg, "error", "data", NULL);
	ck_assert_str_eq(str(data, "server"), "repl");
	ck_assert_str_eq(str(data, "thread"), "t1");
	ck_assert_int_eq((int)num(data, "exit_status"), 1);
	ck_assert_str_eq(cJSON_GetArrayItem(path(data, "stderr_tail", NULL,
	    NULL), 0)->valuestring, "error: NO_API_KEY is not set");
	cJSON_Delete(msg);
	ck_assert_int_eq(owner.finished, 1);
	session_free(s);
}
END_TEST

START_TEST(test_start_timeout_fails_with_start_failed)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start(&sc, 1);
	p = fake_process_last();
	session_submit(s, forward(&client, "1", "tools/list"));
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(owner.ended, 0);
	run_for_ms(1200);
	ck_assert_int_eq(owner.ended, 1);
	ck_assert_uint_ne(fake_process_closed(p), 0);
	ck_assert_uint_eq(fake_front_waiting(&client), 0);

	fake_process_exit(p, 15);	/* killed by SIGTERM */
	fake_process_finish(p);
	msg = expect_error(&client, "1", RPC_START_FAILED);
	ck_assert_ptr_nonnull(strstr(str(path(msg, "error", NULL, NULL),
	    "message"), "did not finish the MCP handshake within 1 s"));
	ck_assert_int_eq((int)num(path(msg, "error", "data", NULL), "signal"),
	    15);
	cJSON_Delete(msg);
	session_free(s);
}
END_TEST

START_TEST(test_broken_process_fails_in_flight_requests_once_finished)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg, *data;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start_ready(&sc);
	p = fake_process_last();
	session_submit(s, forward(&client, "1", "tools/call"));
	expect_request(p, "tools/call");

	fake_process_broken(p, NULL);
	ck_assert_int_eq(owner.ended, 1);
	ck_assert_int_eq(session_state(s), SESSION_CLOSING);
	ck_assert_uint_ne(fake_process_closed(p), 0);
	ck_assert_uint_eq(fake_front_waiting(&client), 0);
	/* Broken twice (stdout EOF, then the exit): ended once. */
	fake_process_broken(p, NULL);
	ck_assert_int_eq(owner.ended, 1);

	fake_process_exit(p, 3 << 8);
	fake_process_finish(p);
	msg = expect_error(&client, "1", RPC_SESSION_LOST);
	ck_assert_ptr_nonnull(strstr(str(path(msg, "error", NULL, NULL),
	    "message"), "exited with status 3"));
	data = path(msg, "error", "data", NULL);
	ck_assert_int_eq((int)num(data, "exit_status"), 3);
	ck_assert_str_eq(str(data, "server"), "repl");
	ck_assert(cJSON_IsArray(path(data, "stderr_tail", NULL, NULL)));
	cJSON_Delete(msg);
	ck_assert_int_eq(owner.finished, 1);
	session_free(s);
}
END_TEST

START_TEST(test_close_fails_requests_now_and_withdraws_upcalls)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	sc.client_capabilities = cJSON_Parse("{\"sampling\":{}}");
	client.front.can_sample = 1;
	s = start_ready(&sc);
	p = fake_process_last();
	session_submit(s, forward(&client, "1", "tools/call"));
	expect_request(p, "tools/call");
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":\"up\",\"method\":"
	    "\"sampling/createMessage\",\"params\":{\"messages\":[]}}");
	msg = fake_front_pop(&client);
	ck_assert_str_eq(str(msg, "method"), "sampling/createMessage");
	cJSON_Delete(msg);

	session_close(s, RPC_SHUTTING_DOWN, "shutdown");
	ck_assert_int_eq(session_state(s), SESSION_CLOSING);
	ck_assert_uint_ne(fake_process_closed(p), 0);
	ck_assert_int_eq(owner.ended, 0);
	msg = expect_error(&client, "1", RPC_SHUTTING_DOWN);
	ck_assert_ptr_nonnull(strstr(str(path(msg, "error", NULL, NULL),
	    "message"), "was closed (shutdown)"));
	ck_assert_str_eq(str(path(msg, "error", "data", NULL), "thread"),
	    "t1");
	cJSON_Delete(msg);
	msg = fake_front_pop(&client);
	ck_assert_str_eq(str(msg, "method"), "notifications/cancelled");
	ck_assert_int_eq((int)num(path(msg, "params", NULL, NULL),
	    "requestId"), 1);
	cJSON_Delete(msg);
	ck_assert_ptr_null(TAILQ_FIRST(&client.front.upcalls));
	ck_assert_ptr_null(TAILQ_FIRST(&client.front.requests));

	/* Closing twice does nothing; finishing sends nothing more. */
	session_close(s, RPC_SESSION_LOST, "again");
	fake_process_finish(p);
	ck_assert_uint_eq(fake_front_waiting(&client), 0);
	ck_assert_int_eq(owner.finished, 1);
	session_free(s);
	cJSON_Delete(sc.client_capabilities);
}
END_TEST

START_TEST(test_close_while_starting_fails_queued_requests_now)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start(&sc, 30);
	p = fake_process_last();
	session_submit(s, forward(&client, "1", "tools/list"));
	session_close(s, RPC_SESSION_LOST, "broker/close");
	cJSON_Delete(expect_error(&client, "1", RPC_SESSION_LOST));
	ck_assert_uint_ne(fake_process_closed(p), 0);
	/* The handshake's answer after the close starts nothing. */
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}}");
	ck_assert_int_eq(session_state(s), SESSION_CLOSING);
	ck_assert_uint_eq(fake_process_waiting(p), 1);	/* initialize only */
	end_session(s, p);
}
END_TEST

START_TEST(test_session_info_answered_once_ready)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg, *r;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	s = start(&sc, 30);
	p = fake_process_last();
	session_submit(s, request_new(&client.front, REQUEST_SESSION_INFO,
	    cJSON_CreateString("info"), NULL, 0));
	ck_assert_uint_eq(fake_front_waiting(&client), 0);

	make_ready(p);
	/* Nothing for the child: the session answers it. */
	ck_assert_uint_eq(fake_process_waiting(p), 0);
	msg = expect_answer(&client, "\"info\"");
	r = path(msg, "result", NULL, NULL);
	ck_assert_str_eq(str(r, "server"), "repl");
	ck_assert_str_eq(str(r, "thread"), "t1");
	ck_assert_str_eq(str(r, "id"), "s-1");
	ck_assert_str_eq(str(r, "state"), "ready");
	ck_assert_int_eq((int)num(r, "generation"), 1);
	ck_assert_int_eq((int)num(r, "uid"), 1000);
	ck_assert_int_eq((int)num(r, "pid"), process_pid(p));
	ck_assert_str_eq(str(r, "protocol_version"), "2025-11-25");
	ck_assert_str_eq(str(path(r, "server_info", NULL, NULL), "name"),
	    "fake");
	cJSON_Delete(msg);
	ck_assert_uint_eq(owner.nbusy, 1);
	ck_assert_int_eq(owner.busy[0], 0);
	end_session(s, p);
}
END_TEST

START_TEST(test_sampling_goes_to_client_that_opted_in_and_back)
{
	static const char	 answer[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"role\":\"assistant\"}}";
	struct server_conf	 sc;
	struct fake_front	 other;
	struct session		*s;
	struct process		*p;
	struct upcall		*up;
	cJSON			*msg, *id, *meta;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	sc.client_capabilities = cJSON_Parse("{\"sampling\":{}}");
	fake_front_init(&other, NULL, 1000, 0);
	client.front.can_sample = 1;
	s = start_ready(&sc);
	p = fake_process_last();
	/* The oldest request in flight is other's, which did not opt in. */
	session_submit(s, forward(&other, "1", "tools/call"));
	session_submit(s, forward(&client, "2", "tools/call"));
	expect_request(p, "tools/call");
	expect_request(p, "tools/call");

	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":\"up-7\",\"method\":"
	    "\"sampling/createMessage\",\"params\":{\"maxTokens\":5}}");
	ck_assert_uint_eq(fake_front_waiting(&other), 0);
	msg = fake_front_pop(&client);
	ck_assert_str_eq(str(msg, "method"), "sampling/createMessage");
	ck_assert_int_eq((int)num(path(msg, "params", NULL, NULL),
	    "maxTokens"), 5);
	meta = path(msg, "params", "_meta", MCP_META_SESSION);
	ck_assert_str_eq(str(meta, "server"), "repl");
	ck_assert_str_eq(str(meta, "thread"), "t1");
	ck_assert_str_eq(str(meta, "id"), "s-1");
	/* The client sees an id of the broker's, not the child's. */
	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	ck_assert(cJSON_IsNumber(id));
	ck_assert_int_eq(id->valueint, 1);
	ck_assert_ptr_null(upcall_find(&other.front, "1", 1));
	up = upcall_find(&client.front, "1", 1);
	ck_assert_ptr_nonnull(up);
	cJSON_Delete(msg);

	upcall_answer(up, answer, sizeof answer - 1);
	msg = fake_process_pop(p);
	ck_assert_str_eq(str(msg, "id"), "up-7");
	ck_assert_str_eq(str(path(msg, "result", NULL, NULL), "role"),
	    "assistant");
	cJSON_Delete(msg);
	ck_assert_ptr_null(TAILQ_FIRST(&client.front.upcalls));

	end_session(s, p);
	cJSON_Delete(expect_error(&client, "2", RPC_SESSION_LOST));
	cJSON_Delete(expect_error(&other, "1", RPC_SESSION_LOST));
	fake_front_clear(&other);
	cJSON_Delete(sc.client_capabilities);
}
END_TEST

START_TEST(test_sampling_without_client_is_refused)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;

	server_init(&sc, SERVER_PROTOCOL_LEGACY);
	sc.client_capabilities = cJSON_Parse("{\"sampling\":{}}");
	s = start_ready(&sc);
	p = fake_process_last();
	session_submit(s, forward(&client, "1", "tools/call"));
	expect_request(p, "tools/call");
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":"
	    "\"sampling/createMessage\",\"params\":{}}");
	ck_assert_uint_eq(fake_front_waiting(&client), 0);
	msg = fake_process_pop(p);
	ck_assert_int_eq((int)num(msg, "id"), 9);
	ck_assert_int_eq((int)num(path(msg, "error", NULL, NULL), "code"),
	    RPC_METHOD_NOT_FOUND);
	cJSON_Delete(msg);
	end_session(s, p);
	cJSON_Delete(expect_error(&client, "1", RPC_SESSION_LOST));
	cJSON_Delete(sc.client_capabilities);
}
END_TEST

START_TEST(test_auto_protocol_falls_back_to_initialize)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;

	server_init(&sc, SERVER_PROTOCOL_AUTO);
	s = start(&sc, 30);
	p = fake_process_last();
	session_submit(s, forward(&client, "1", "tools/list"));
	ck_assert_int_eq(expect_request(p, "server/discover"), 1);
	ck_assert_uint_eq(fake_process_waiting(p), 0);
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":"
	    "{\"code\":-32601,\"message\":\"Method not found\"}}");
	ck_assert_int_eq(session_state(s), SESSION_STARTING);

	ck_assert_int_eq(expect_request(p, "initialize"), 2);
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":"
	    "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{}}}");
	ck_assert_int_eq(session_state(s), SESSION_READY);
	msg = fake_process_pop(p);
	ck_assert_str_eq(str(msg, "method"), "notifications/initialized");
	cJSON_Delete(msg);
	ck_assert_int_eq(expect_request(p, "tools/list"), 3);
	end_session(s, p);
	cJSON_Delete(expect_error(&client, "1", RPC_SESSION_LOST));
}
END_TEST

START_TEST(test_auto_protocol_modern_server_is_ready_on_discover)
{
	struct server_conf	 sc;
	struct session		*s;
	struct process		*p;
	cJSON			*msg;

	server_init(&sc, SERVER_PROTOCOL_AUTO);
	s = start(&sc, 30);
	p = fake_process_last();
	session_submit(s, forward_text(&client, "1", "tools/list"));
	ck_assert_int_eq(expect_request(p, "server/discover"), 1);
	fake_process_line(p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2026-07-28\"],\"capabilities\":{}}}");
	ck_assert_int_eq(session_state(s), SESSION_READY);

	/* No handshake: the request carries the client's _meta itself. */
	msg = fake_process_pop(p);
	ck_assert_str_eq(str(msg, "method"), "tools/list");
	ck_assert_str_eq(str(path(msg, "params", "_meta", NULL),
	    MCP_META_VERSION), MCP_VERSION_MODERN);
	ck_assert_str_eq(str(path(msg, "params", NULL, NULL), "name"), "x");
	cJSON_Delete(msg);
	ck_assert_uint_eq(fake_process_waiting(p), 0);
	end_session(s, p);
	cJSON_Delete(expect_error(&client, "1", RPC_SESSION_LOST));
}
END_TEST

/* Every session behaviour, one test case each. */
static Suite *
session_suite(void)
{
	Suite	*s = suite_create("session");
	TCase	*tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_start_spawns_command_and_sends_initialize);
	tcase_add_test(tc, test_initialize_answer_makes_session_ready);
	tcase_add_test(tc, test_ready_session_reports_busy_then_idle);
	tcase_add_test(tc,
	    test_requests_while_starting_are_sent_in_order_once_ready);
	tcase_add_test(tc, test_answers_out_of_order_reach_their_requests);
	tcase_add_test(tc, test_answer_to_unknown_id_is_dropped);
	tcase_add_test(tc, test_fast_path_result_carries_session_meta);
	tcase_add_test(tc, test_full_parser_result_carries_session_meta);
	tcase_add_test(tc, test_spawn_failure_returns_null_with_cause);
	tcase_add_test(tc,
	    test_handshake_error_fails_queued_requests_once_finished);
	tcase_add_test(tc, test_start_timeout_fails_with_start_failed);
	tcase_add_test(tc,
	    test_broken_process_fails_in_flight_requests_once_finished);
	tcase_add_test(tc, test_close_fails_requests_now_and_withdraws_upcalls);
	tcase_add_test(tc, test_close_while_starting_fails_queued_requests_now);
	tcase_add_test(tc, test_session_info_answered_once_ready);
	tcase_add_test(tc, test_sampling_goes_to_client_that_opted_in_and_back);
	tcase_add_test(tc, test_sampling_without_client_is_refused);
	tcase_add_test(tc, test_auto_protocol_falls_back_to_initialize);
	tcase_add_test(tc,
	    test_auto_protocol_modern_server_is_ready_on_discover);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	log_set_level(LOG_LEVEL_WARNING);
	sr = srunner_create(session_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
