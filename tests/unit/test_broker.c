/*
 * The broker driven as clients drive it, through dispatch_line(), with
 * fake processes as the children: routing by key, the capacity rules,
 * generations, idle expiry, reload and what broker/status shows.
 */
#include <sys/types.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker.h"
#include "config.h"
#include "counters.h"
#include "dispatch.h"
#include "errors.h"
#include "fake_front.h"
#include "fake_process.h"
#include "log.h"
#include "mcp.h"
#include "process.h"
#include "xmalloc.h"

static void	 write_config(const char *);
static void	 start_broker(const char *);
static void	 front_close_cb(struct fake_front *, void *);
static void	 setup(void);
static void	 teardown(void);
static void	 run_for_ms(int);
static void	 client_line(struct fake_front *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
static void	 call(struct fake_front *, int, const char *, const char *);
static struct process *written(void);
static void	 handshake(struct process *);
static int	 take_request(struct process *);
static void	 reply(struct process *, int);
static struct process *begin(struct fake_front *, int, const char *,
		     const char *, int *);
static struct process *use(struct fake_front *, int, const char *,
		     const char *);
static cJSON	*expect_result(struct fake_front *, int);
static cJSON	*expect_error(struct fake_front *, int, int);
static int	 generation_of(const cJSON *);
static cJSON	*path(const cJSON *, const char *, const char *);
static const char *str(const cJSON *, const char *);
static double	 num(const cJSON *, const char *);
static Suite	*broker_suite(void);

static struct event_base	*base;
static struct broker		*broker;
static char			 config_path[64];
static struct fake_front	 alice;		/* uid 1000 */
static struct fake_front	 bob;		/* uid 1001 */
static struct fake_front	 admin;		/* uid 0, an admin */
static struct fake_front	 carol;		/* uid 1002 */

/*
 * Write the config file from JSON written with single quotes (no test
 * text needs a real apostrophe).
 */
static void
write_config(const char *q)
{
	FILE	*f;
	char	*text, *p;

	text = xstrdup(q);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	f = fopen(config_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	free(text);
}

/* A broker on config q, with alice, bob, admin and carol connected. */
static void
start_broker(const char *q)
{
	struct broker_params	 bp;
	struct config_diag	 diag;
	struct fake_front	*ff[] = { &alice, &bob, &admin, &carol };
	uid_t			 uids[] = { 1000, 1001, 0, 1002 };
	size_t			 i;

	write_config(q);
	memset(&diag, 0, sizeof diag);
	memset(&bp, 0, sizeof bp);
	bp.base = base;
	/* No server here has a session directory. */
	bp.state_dir = "/nonexistent/state";
	bp.conf = config_load(config_path, &diag);
	ck_assert_msg(bp.conf != NULL, "%s", diag.nerrors ? diag.errors[0] :
	    "");
	config_diag_clear(&diag);
	bp.config_path = config_path;
	bp.level_override = LOG_LEVEL_WARNING;
	broker = broker_new(&bp);
	for (i = 0; i < 4; i++) {
		fake_front_init(ff[i], broker_counters(broker), uids[i],
		    uids[i] == 0);
		ff[i]->on_close = front_close_cb;
		broker_front_add(broker, &ff[i]->front);
	}
}

/* The broker drops a client: it leaves, as a front end's would. */
static void
front_close_cb(struct fake_front *ff, void *arg)
{
	(void)arg;
	broker_front_gone(broker, &ff->front);
}

/* An event loop and a config file name. */
static void
setup(void)
{
	int	fd;

	fake_process_reset();
	base = event_base_new();
	broker = NULL;
	snprintf(config_path, sizeof config_path,
	    "/tmp/test_broker.XXXXXX");
	fd = mkstemp(config_path);
	ck_assert_int_ne(fd, -1);
	close(fd);
}

/*
 * Shut the broker down as main does: every session closed, every
 * process finished, the sessions freed from their deferred events.
 */
static void
teardown(void)
{
	struct process	*p;
	size_t		 i;

	if (broker != NULL) {
		broker_shutdown(broker);
		for (i = 0; (p = fake_process_nth(i)) != NULL; i++)
			fake_process_finish(p);
		event_base_loop(base, EVLOOP_NONBLOCK);
		ck_assert_uint_eq(fake_process_count(), 0);
		ck_assert_uint_eq(broker_nsessions(broker), 0);
		broker_free(broker);
		ck_assert_int_eq(alice.closed, 1);
		fake_front_clear(&alice);
		fake_front_clear(&bob);
		fake_front_clear(&admin);
		fake_front_clear(&carol);
	}
	event_base_free(base);
	unlink(config_path);
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

/* A line from ff, formatted, single quotes for double. */
static void
client_line(struct fake_front *ff, const char *fmt, ...)
{
	va_list	 ap;
	char	*line, *p;

	va_start(ap, fmt);
	ck_assert_int_ne(vasprintf(&line, fmt, ap), -1);
	va_end(ap);
	for (p = line; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	dispatch_line(broker, &ff->front, line, strlen(line));
	free(line);
}

/* tools/call from ff for (server, thread) under id. */
static void
call(struct fake_front *ff, int id, const char *server, const char *thread)
{
	client_line(ff, "{'jsonrpc':'2.0','id':%d,'method':'tools/call',"
	    "'params':{'server':'%s','thread':'%s','name':'x'}}", id, server,
	    thread);
}

/* The one process with lines waiting: the one written to last. */
static struct process *
written(void)
{
	struct process	*p, *found = NULL;
	size_t		 i;

	for (i = 0; (p = fake_process_nth(i)) != NULL; i++) {
		if (fake_process_waiting(p) > 0) {
			ck_assert_msg(found == NULL, "two written to");
			found = p;
		}
	}
	ck_assert_msg(found != NULL, "no process written to");
	return (found);
}

/*
 * Answer the handshake of a new process as a 2025-11-25 server would: the
 * server/discover probe (protocol "auto", the default) is not a method it
 * knows; initialize is.
 */
static void
handshake(struct process *p)
{
	cJSON	*msg;
	char	 line[256];
	int	 id;

	msg = fake_process_pop(p);
	if (strcmp(str(msg, "method"), "server/discover") == 0) {
		snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
		    "\"error\":{\"code\":-32601,\"message\":\"no\"}}",
		    (int)num(msg, "id"));
		fake_process_line(p, line);
		cJSON_Delete(msg);
		msg = fake_process_pop(p);
	}
	ck_assert_str_eq(str(msg, "method"), "initialize");
	id = (int)num(msg, "id");
	cJSON_Delete(msg);
	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
	    "\"result\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":"
	    "{},\"serverInfo\":{\"name\":\"fake\",\"version\":\"1\"}}}", id);
	fake_process_line(p, line);
	msg = fake_process_pop(p);
	ck_assert_str_eq(str(msg, "method"), "notifications/initialized");
	cJSON_Delete(msg);
}

/* The child's next line is tools/call; returns its id. */
static int
take_request(struct process *p)
{
	cJSON	*msg;
	int	 id;

	msg = fake_process_pop(p);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(str(msg, "method"), "tools/call");
	id = (int)num(msg, "id");
	cJSON_Delete(msg);
	return (id);
}

/* The child answers its request child_id with a plain result. */
static void
reply(struct process *p, int child_id)
{
	char	line[96];

	snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%d,"
	    "\"result\":{\"ok\":true}}", child_id);
	fake_process_line(p, line);
}

/*
 * A request of ff for (server, thread) handed to its child, started and
 * handshaken if new, and left in flight under *child_id. Returns the
 * child's process.
 */
static struct process *
begin(struct fake_front *ff, int id, const char *server, const char *thread,
    int *child_id)
{
	struct process	*p;
	size_t		 spawns = fake_process_spawns();

	call(ff, id, server, thread);
	if (fake_process_spawns() != spawns)
		handshake(fake_process_last());
	p = written();
	*child_id = take_request(p);
	return (p);
}

/* A whole call for (server, thread): its session is idle after. */
static struct process *
use(struct fake_front *ff, int id, const char *server, const char *thread)
{
	struct process	*p;
	int		 child_id;

	p = begin(ff, id, server, thread, &child_id);
	reply(p, child_id);
	cJSON_Delete(expect_result(ff, id));
	return (p);
}

/* The client's next message, a result for id; the caller frees it. */
static cJSON *
expect_result(struct fake_front *ff, int id)
{
	cJSON	*msg;

	msg = fake_front_pop(ff);
	ck_assert_msg(msg != NULL, "no message for the client");
	ck_assert_int_eq((int)num(msg, "id"), id);
	ck_assert_msg(cJSON_IsObject(path(msg, "result", NULL)),
	    "not a result");
	return (msg);
}

/* The client's next message, error code for id; the caller frees it. */
static cJSON *
expect_error(struct fake_front *ff, int id, int code)
{
	cJSON	*msg;

	msg = fake_front_pop(ff);
	ck_assert_msg(msg != NULL, "no message for the client");
	ck_assert_int_eq((int)num(msg, "id"), id);
	ck_assert_int_eq((int)num(path(msg, "error", NULL), "code"), code);
	return (msg);
}

/* The generation in a result's session _meta. */
static int
generation_of(const cJSON *msg)
{
	const cJSON	*meta;

	meta = path(path(msg, "result", "_meta"), MCP_META_SESSION, NULL);
	return ((int)num(meta, "generation"));
}

/* o.a.b (b NULL: o.a), or NULL. */
static cJSON *
path(const cJSON *o, const char *a, const char *b)
{
	cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b != NULL)
		item = cJSON_GetObjectItemCaseSensitive(item, b);
	return (item);
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

/* One server, repl, and room for ten sessions that never expire. */
#define CONFIG_ONE \
	"{'broker':{'max_sessions':10,'idle_timeout_s':0," \
	"'log_level':'warning'},'mcpServers':{'repl':{'command':" \
	"'/usr/bin/fake-repl'}}}"

START_TEST(test_same_key_reaches_same_session)
{
	struct process	*p;

	start_broker(CONFIG_ONE);
	p = use(&alice, 1, "repl", "t1");
	ck_assert_str_eq(fake_process_arg(p, 0), "/usr/bin/fake-repl");
	ck_assert_ptr_eq(use(&alice, 2, "repl", "t1"), p);
	ck_assert_ptr_eq(use(&alice, 3, "repl", "t1"), p);
	ck_assert_uint_eq(fake_process_spawns(), 1);
	ck_assert_uint_eq(broker_nsessions(broker), 1);
	ck_assert_uint_eq(broker_counters(broker)->sessions_started, 1);
}
END_TEST

START_TEST(test_other_thread_or_uid_gets_another_session)
{
	struct process	*p1, *p2, *p3;

	start_broker(CONFIG_ONE);
	p1 = use(&alice, 1, "repl", "t1");
	p2 = use(&alice, 2, "repl", "t2");
	p3 = use(&bob, 1, "repl", "t1");
	ck_assert_ptr_ne(p1, p2);
	ck_assert_ptr_ne(p1, p3);
	ck_assert_ptr_ne(p2, p3);
	ck_assert_uint_eq(fake_process_spawns(), 3);
	ck_assert_uint_eq(broker_nsessions(broker), 3);
	ck_assert_ptr_nonnull(broker_lookup(broker, 1001, "repl", "t1"));
	ck_assert_ptr_null(broker_lookup(broker, 1001, "repl", "t2"));
}
END_TEST

START_TEST(test_unknown_server_is_refused)
{
	cJSON	*msg;

	start_broker(CONFIG_ONE);
	call(&alice, 4, "nope", "t1");
	msg = expect_error(&alice, 4, RPC_UNKNOWN_SERVER);
	ck_assert_str_eq(str(path(msg, "error", "data"), "server"), "nope");
	cJSON_Delete(msg);
	ck_assert_uint_eq(fake_process_spawns(), 0);
	ck_assert_uint_eq(broker_nsessions(broker), 0);
}
END_TEST

START_TEST(test_spawn_failure_is_start_failed)
{
	cJSON	*msg, *data;

	start_broker(CONFIG_ONE);
	fake_process_fail_next("fork: Cannot allocate memory");
	call(&alice, 1, "repl", "t1");
	msg = expect_error(&alice, 1, RPC_START_FAILED);
	ck_assert_ptr_nonnull(strstr(str(path(msg, "error", NULL), "message"),
	    "fork: Cannot allocate memory"));
	data = path(msg, "error", "data");
	ck_assert_str_eq(str(data, "server"), "repl");
	ck_assert_str_eq(str(data, "thread"), "t1");
	cJSON_Delete(msg);
	ck_assert_uint_eq(broker_nsessions(broker), 0);
	/* Nothing is left behind: the next call starts one. */
	use(&alice, 2, "repl", "t1");
}
END_TEST

/* Room for two sessions. */
#define CONFIG_TWO \
	"{'broker':{'max_sessions':2,'idle_timeout_s':0," \
	"'log_level':'warning'},'mcpServers':{'repl':{'command':" \
	"'/usr/bin/fake-repl'}}}"

START_TEST(test_global_cap_evicts_least_recently_used_idle)
{
	struct process	*p1, *p2, *p3;

	start_broker(CONFIG_TWO);
	p1 = use(&alice, 1, "repl", "t1");
	p2 = use(&alice, 2, "repl", "t2");
	/* t1 is used again: t2 is now the least recently used. */
	ck_assert_ptr_eq(use(&alice, 3, "repl", "t1"), p1);

	p3 = use(&alice, 4, "repl", "t3");
	ck_assert_ptr_ne(p3, p1);
	ck_assert_uint_ne(fake_process_closed(p2), 0);
	ck_assert_uint_eq(fake_process_closed(p1), 0);
	ck_assert_uint_eq(broker_counters(broker)->sessions_evicted, 1);
	ck_assert_uint_eq(broker_nsessions(broker), 2);
	ck_assert_ptr_null(broker_lookup(broker, 1000, "repl", "t2"));
	ck_assert_ptr_nonnull(broker_lookup(broker, 1000, "repl", "t1"));
	ck_assert_uint_eq(fake_front_waiting(&alice), 0);
}
END_TEST

START_TEST(test_eviction_skips_busy_sessions)
{
	struct process	*p1, *p2;
	int		 c1;

	start_broker(CONFIG_TWO);
	/* t1 is the oldest, but its first request is still in flight. */
	p1 = begin(&alice, 1, "repl", "t1", &c1);
	p2 = use(&alice, 2, "repl", "t2");

	use(&alice, 3, "repl", "t3");
	ck_assert_uint_eq(fake_process_closed(p1), 0);
	ck_assert_uint_ne(fake_process_closed(p2), 0);
	ck_assert_uint_eq(broker_counters(broker)->sessions_evicted, 1);

	/* And t1's request is still answered. */
	reply(p1, c1);
	cJSON_Delete(expect_result(&alice, 1));
}
END_TEST

START_TEST(test_all_busy_at_capacity_is_refused)
{
	struct process	*p1, *p2;
	cJSON		*msg;
	int		 c1, c2;

	start_broker(CONFIG_TWO);
	p1 = begin(&alice, 1, "repl", "t1", &c1);
	p2 = begin(&bob, 1, "repl", "t1", &c2);

	call(&alice, 2, "repl", "t3");
	msg = expect_error(&alice, 2, RPC_AT_CAPACITY);
	ck_assert_str_eq(str(path(msg, "error", "data"), "server"), "repl");
	cJSON_Delete(msg);
	ck_assert_uint_eq(fake_process_spawns(), 2);
	ck_assert_uint_eq(fake_process_closed(p1), 0);
	ck_assert_uint_eq(fake_process_closed(p2), 0);
	ck_assert_uint_eq(broker_counters(broker)->sessions_evicted, 0);

	/* Once one of alice's own is idle, it makes room. */
	reply(p1, c1);
	cJSON_Delete(expect_result(&alice, 1));
	use(&alice, 3, "repl", "t3");
	ck_assert_uint_ne(fake_process_closed(p1), 0);
	ck_assert_uint_eq(fake_process_closed(p2), 0);
}
END_TEST

/* Server a takes one session; b only the global cap. */
#define CONFIG_PER_SERVER \
	"{'broker':{'max_sessions':10,'idle_timeout_s':0," \
	"'log_level':'warning'},'mcpServers':{" \
	"'a':{'command':'/usr/bin/fake-a','max_sessions':1}," \
	"'b':{'command':'/usr/bin/fake-b'}}}"

START_TEST(test_per_server_cap_evicts_within_server)
{
	struct process	*b1, *a1, *a2;

	start_broker(CONFIG_PER_SERVER);
	b1 = use(&alice, 1, "b", "t1");		/* the least recent of all */
	a1 = use(&alice, 2, "a", "t1");
	a2 = use(&alice, 3, "a", "t2");
	ck_assert_str_eq(fake_process_arg(a2, 0), "/usr/bin/fake-a");
	ck_assert_uint_ne(fake_process_closed(a1), 0);
	ck_assert_uint_eq(fake_process_closed(b1), 0);
	ck_assert_uint_eq(broker_counters(broker)->sessions_evicted, 1);
	ck_assert_uint_eq(broker_nsessions(broker), 2);
}
END_TEST

START_TEST(test_per_server_cap_all_busy_is_refused)
{
	cJSON	*msg;
	int	 c;

	start_broker(CONFIG_PER_SERVER);
	begin(&alice, 1, "a", "t1", &c);
	call(&alice, 2, "a", "t2");
	msg = expect_error(&alice, 2, RPC_AT_CAPACITY);
	ck_assert_str_eq(str(path(msg, "error", "data"), "server"), "a");
	cJSON_Delete(msg);
	/* Other servers are not held back. */
	use(&alice, 3, "b", "t2");
	ck_assert_uint_eq(fake_process_spawns(), 2);
}
END_TEST

START_TEST(test_broken_session_restarts_at_next_generation)
{
	struct process	*p1, *p2;
	cJSON		*msg;
	int		 c;

	start_broker(CONFIG_ONE);
	p1 = begin(&alice, 1, "repl", "t1", &c);
	reply(p1, c);
	msg = expect_result(&alice, 1);
	ck_assert_int_eq(generation_of(msg), 1);
	cJSON_Delete(msg);

	fake_process_broken(p1, NULL);
	ck_assert_ptr_null(broker_lookup(broker, 1000, "repl", "t1"));
	ck_assert_uint_eq(broker_counters(broker)->sessions_exited, 1);
	fake_process_exit(p1, 1 << 8);
	fake_process_finish(p1);
	event_base_loop(base, EVLOOP_NONBLOCK);

	p2 = begin(&alice, 2, "repl", "t1", &c);
	ck_assert_uint_eq(fake_process_spawns(), 2);
	ck_assert_ptr_eq(p2, fake_process_last());
	reply(p2, c);
	msg = expect_result(&alice, 2);
	ck_assert_int_eq(generation_of(msg), 2);
	cJSON_Delete(msg);
}
END_TEST

START_TEST(test_close_forgets_generation)
{
	struct process	*p;
	cJSON		*msg;
	int		 c;

	start_broker(CONFIG_ONE);
	p = use(&alice, 1, "repl", "t1");
	fake_process_broken(p, NULL);
	fake_process_finish(p);
	p = use(&alice, 2, "repl", "t1");	/* generation 2 */

	client_line(&alice, "{'jsonrpc':'2.0','id':3,'method':'broker/close',"
	    "'params':{'server':'repl','thread':'t1'}}");
	msg = expect_result(&alice, 3);
	ck_assert_int_eq((int)num(path(msg, "result", NULL), "closed"), 1);
	cJSON_Delete(msg);
	ck_assert_uint_ne(fake_process_closed(p), 0);
	ck_assert_uint_eq(broker_counters(broker)->sessions_closed, 1);
	fake_process_finish(p);

	p = begin(&alice, 4, "repl", "t1", &c);
	reply(p, c);
	msg = expect_result(&alice, 4);
	ck_assert_int_eq(generation_of(msg), 1);
	cJSON_Delete(msg);
}
END_TEST

START_TEST(test_idle_sessions_expire_oldest_first)
{
	struct process	*p1, *p2;

	start_broker("{'broker':{'max_sessions':10,'idle_timeout_s':1,"
	    "'log_level':'warning'},'mcpServers':{'repl':{'command':"
	    "'/usr/bin/fake-repl'}}}");
	p1 = use(&alice, 1, "repl", "t1");	/* idle at 0 s */
	run_for_ms(300);
	p2 = use(&bob, 1, "repl", "t1");	/* idle at 0.3 s */

	run_for_ms(900);			/* 1.2 s */
	ck_assert_uint_eq(fake_process_closed(p1), 1);
	ck_assert_uint_eq(fake_process_closed(p2), 0);
	ck_assert_ptr_null(broker_lookup(broker, 1000, "repl", "t1"));

	run_for_ms(400);			/* 1.6 s */
	ck_assert_uint_eq(fake_process_closed(p2), 2);
	ck_assert_uint_eq(broker_counters(broker)->sessions_expired, 2);
	ck_assert_uint_eq(broker_nsessions(broker), 0);
}
END_TEST

START_TEST(test_reload_reports_diff_and_closes_only_changed_sessions)
{
	struct process	*pa, *pb, *pc;
	cJSON		*result, *errors = NULL, *want;

	start_broker("{'broker':{'max_sessions':10,'idle_timeout_s':0,"
	    "'log_level':'warning'},'mcpServers':{"
	    "'a':{'command':'/usr/bin/fake-a'},"
	    "'b':{'command':'/usr/bin/fake-b'},"
	    "'c':{'command':'/usr/bin/fake-c','args':['--one']}}}");
	pa = use(&alice, 1, "a", "t1");
	pb = use(&alice, 2, "b", "t1");
	pc = use(&alice, 3, "c", "t1");

	write_config("{'broker':{'max_sessions':10,'idle_timeout_s':0,"
	    "'log_level':'warning'},'mcpServers':{"
	    "'a':{'command':'/usr/bin/fake-a'},"
	    "'c':{'command':'/usr/bin/fake-c','args':['--two']},"
	    "'d':{'command':'/usr/bin/fake-d'}}}");
	ck_assert_int_eq(broker_reload(broker, &result, &errors), 0);
	want = cJSON_Parse("{\"added\":[\"d\"],\"removed\":[\"b\"],"
	    "\"changed\":[\"c\"]}");
	ck_assert_msg(cJSON_Compare(result, want, 1), "%s",
	    cJSON_PrintUnformatted(result));
	cJSON_Delete(want);
	cJSON_Delete(result);

	ck_assert_uint_eq(fake_process_closed(pa), 0);
	ck_assert_uint_ne(fake_process_closed(pb), 0);
	ck_assert_uint_ne(fake_process_closed(pc), 0);
	ck_assert_uint_eq(broker_nsessions(broker), 1);
	ck_assert_uint_eq(broker_counters(broker)->reloads, 1);
	ck_assert_ptr_eq(use(&alice, 4, "a", "t1"), pa);
	pc = use(&alice, 5, "c", "t1");
	ck_assert_str_eq(fake_process_arg(pc, 1), "--two");
	use(&alice, 6, "d", "t1");
	call(&alice, 7, "b", "t1");
	cJSON_Delete(expect_error(&alice, 7, RPC_UNKNOWN_SERVER));
}
END_TEST

START_TEST(test_status_lists_sessions_visible_to_caller)
{
	cJSON	*msg, *sessions;

	start_broker(CONFIG_ONE);
	use(&alice, 1, "repl", "t1");
	use(&bob, 1, "repl", "t2");

	client_line(&alice, "{'jsonrpc':'2.0','id':2,"
	    "'method':'broker/status'}");
	msg = expect_result(&alice, 2);
	sessions = path(msg, "result", "sessions");
	ck_assert_int_eq(cJSON_GetArraySize(sessions), 1);
	ck_assert_int_eq((int)num(cJSON_GetArrayItem(sessions, 0), "uid"),
	    1000);
	ck_assert_str_eq(str(cJSON_GetArrayItem(sessions, 0), "thread"), "t1");
	ck_assert_str_eq(str(cJSON_GetArrayItem(sessions, 0), "state"),
	    "ready");
	ck_assert_int_eq((int)num(path(msg, "result", "counters"),
	    "sessions_started"), 2);
	cJSON_Delete(msg);

	client_line(&admin, "{'jsonrpc':'2.0','id':1,"
	    "'method':'broker/status'}");
	msg = expect_result(&admin, 1);
	sessions = path(msg, "result", "sessions");
	ck_assert_int_eq(cJSON_GetArraySize(sessions), 2);
	cJSON_Delete(msg);
}
END_TEST

START_TEST(test_session_create_answers_once_ready)
{
	struct process	*p;
	cJSON		*msg, *r;

	start_broker(CONFIG_ONE);
	client_line(&alice, "{'jsonrpc':'2.0','id':1,'method':'broker/session',"
	    "'params':{'server':'repl','thread':'t1','create':true}}");
	ck_assert_uint_eq(fake_front_waiting(&alice), 0);
	p = fake_process_last();
	ck_assert_ptr_nonnull(p);
	handshake(p);
	msg = expect_result(&alice, 1);
	r = path(msg, "result", NULL);
	ck_assert_str_eq(str(r, "state"), "ready");
	ck_assert_str_eq(str(r, "server"), "repl");
	ck_assert_int_eq((int)num(r, "generation"), 1);
	cJSON_Delete(msg);
	/* Answered, the session is idle: it may be evicted or expire. */
	ck_assert_ptr_nonnull(broker_lookup(broker, 1000, "repl", "t1"));
	ck_assert_ptr_eq(use(&alice, 2, "repl", "t1"), p);
}
END_TEST

/* Room for four sessions, however many one user holds. */
#define CONFIG_FOUR \
	"{'broker':{'max_sessions':4,'max_sessions_per_uid':0," \
	"'idle_timeout_s':0,'log_level':'warning'},'mcpServers':{'repl':{" \
	"'command':'/usr/bin/fake-repl'}}}"

START_TEST(test_churn_over_fair_share_evicts_only_own_sessions)
{
	struct process	*b1, *a1, *a2, *a3;
	cJSON		*msg;
	int		 c;

	start_broker(CONFIG_FOUR);
	b1 = use(&bob, 1, "repl", "t1");	/* the least recent of all */
	a1 = use(&alice, 1, "repl", "a1");
	a2 = use(&alice, 2, "repl", "a2");
	a3 = use(&alice, 3, "repl", "a3");

	/* Alice holds 3 of 4; her share of two users is 2: her own go. */
	use(&alice, 4, "repl", "a4");
	ck_assert_uint_ne(fake_process_closed(a1), 0);
	use(&alice, 5, "repl", "a5");
	ck_assert_uint_ne(fake_process_closed(a2), 0);
	use(&alice, 6, "repl", "a6");
	ck_assert_uint_ne(fake_process_closed(a3), 0);
	ck_assert_uint_eq(broker_counters(broker)->sessions_evicted, 3);

	/* Bob's session lived through it: same process, generation 1. */
	ck_assert_uint_eq(fake_process_closed(b1), 0);
	ck_assert_ptr_eq(begin(&bob, 2, "repl", "t1", &c), b1);
	reply(b1, c);
	msg = expect_result(&bob, 2);
	ck_assert_int_eq(generation_of(msg), 1);
	cJSON_Delete(msg);
}
END_TEST

START_TEST(test_user_within_share_evicts_the_user_over_it)
{
	struct process	*b1, *a1, *a2;

	start_broker(CONFIG_FOUR);
	b1 = use(&bob, 1, "repl", "t1");	/* the least recent of all */
	a1 = use(&alice, 1, "repl", "a1");
	a2 = use(&alice, 2, "repl", "a2");
	use(&alice, 3, "repl", "a3");

	/* Bob's second session is within his share; alice is over hers. */
	use(&bob, 2, "repl", "t2");
	ck_assert_uint_ne(fake_process_closed(a1), 0);
	ck_assert_uint_eq(fake_process_closed(b1), 0);
	ck_assert_uint_eq(fake_process_closed(a2), 0);
	ck_assert_ptr_nonnull(broker_lookup(broker, 1001, "repl", "t1"));
	ck_assert_ptr_null(broker_lookup(broker, 1000, "repl", "a1"));
}
END_TEST

START_TEST(test_eviction_takes_the_user_furthest_over_share)
{
	struct process	*c1, *b1, *a1;

	start_broker("{'broker':{'max_sessions':6,'max_sessions_per_uid':0,"
	    "'idle_timeout_s':0,'log_level':'warning'},'mcpServers':{"
	    "'repl':{'command':'/usr/bin/fake-repl'}}}");
	c1 = use(&carol, 1, "repl", "c1");	/* the least recent of all */
	a1 = use(&alice, 1, "repl", "a1");	/* alice: 2, at her share */
	use(&alice, 2, "repl", "a2");
	b1 = use(&bob, 1, "repl", "b1");	/* bob: 3, one over */
	use(&bob, 2, "repl", "b2");
	use(&bob, 3, "repl", "b3");

	use(&carol, 2, "repl", "c2");
	ck_assert_uint_ne(fake_process_closed(b1), 0);
	ck_assert_uint_eq(fake_process_closed(c1), 0);
	ck_assert_uint_eq(fake_process_closed(a1), 0);
	ck_assert_uint_eq(broker_counters(broker)->sessions_evicted, 1);
}
END_TEST

START_TEST(test_over_share_with_own_sessions_busy_is_refused)
{
	struct process	*b1;
	cJSON		*msg;
	int		 c;

	start_broker(CONFIG_FOUR);
	b1 = use(&bob, 1, "repl", "t1");	/* idle, within his share */
	begin(&alice, 1, "repl", "a1", &c);
	begin(&alice, 2, "repl", "a2", &c);
	begin(&alice, 3, "repl", "a3", &c);

	call(&alice, 4, "repl", "a4");
	msg = expect_error(&alice, 4, RPC_AT_CAPACITY);
	ck_assert_str_eq(str(path(msg, "error", "data"), "server"), "repl");
	ck_assert_ptr_nonnull(strstr(str(path(msg, "error", NULL), "message"),
	    "broker.max_sessions"));
	cJSON_Delete(msg);
	ck_assert_uint_eq(fake_process_closed(b1), 0);
	ck_assert_uint_eq(fake_process_spawns(), 4);
	ck_assert_uint_eq(broker_counters(broker)->sessions_evicted, 0);
	ck_assert_ptr_eq(use(&bob, 2, "repl", "t1"), b1);
}
END_TEST

START_TEST(test_per_uid_bound_evicts_own_then_refuses)
{
	struct process	*a1, *a2, *a3, *b1;
	cJSON		*msg, *data;
	int		 c2, c3;

	start_broker("{'broker':{'max_sessions':10,'max_sessions_per_uid':2,"
	    "'idle_timeout_s':0,'log_level':'warning'},'mcpServers':{"
	    "'repl':{'command':'/usr/bin/fake-repl'},"
	    "'other':{'command':'/usr/bin/fake-other'}}}");
	b1 = use(&bob, 1, "repl", "t1");	/* the least recent of all */
	a1 = use(&alice, 1, "repl", "a1");
	a2 = use(&alice, 2, "other", "a2");

	/* At her bound alice gives up her own least recent, any server. */
	a3 = use(&alice, 3, "repl", "a3");
	ck_assert_uint_ne(fake_process_closed(a1), 0);
	ck_assert_uint_eq(fake_process_closed(a2), 0);
	ck_assert_uint_eq(fake_process_closed(b1), 0);
	ck_assert_uint_eq(broker_counters(broker)->sessions_evicted, 1);

	/* With both of hers busy, she is refused; the bound is named. */
	ck_assert_ptr_eq(begin(&alice, 4, "other", "a2", &c2), a2);
	ck_assert_ptr_eq(begin(&alice, 5, "repl", "a3", &c3), a3);
	call(&alice, 6, "repl", "a4");
	msg = expect_error(&alice, 6, RPC_AT_CAPACITY);
	ck_assert_ptr_nonnull(strstr(str(path(msg, "error", NULL), "message"),
	    "max_sessions_per_uid"));
	data = path(msg, "error", "data");
	ck_assert_int_eq((int)num(data, "max_sessions_per_uid"), 2);
	ck_assert_str_eq(str(data, "server"), "repl");
	cJSON_Delete(msg);
	ck_assert_uint_eq(fake_process_closed(b1), 0);
	ck_assert_uint_eq(broker_nsessions(broker), 3);

	/* Bob is not held back by alice's bound. */
	use(&bob, 2, "repl", "t2");
	ck_assert_uint_eq(broker_nsessions(broker), 4);
}
END_TEST

START_TEST(test_per_server_cap_is_shared_fairly)
{
	struct process	*b1, *a1, *x1;
	cJSON		*msg;
	int		 c;

	start_broker("{'broker':{'max_sessions':10,'idle_timeout_s':0,"
	    "'log_level':'warning'},'mcpServers':{"
	    "'a':{'command':'/usr/bin/fake-a','max_sessions':2},"
	    "'x':{'command':'/usr/bin/fake-x'}}}");
	b1 = use(&bob, 1, "a", "t1");		/* the least recent of a */
	x1 = use(&alice, 1, "x", "t1");
	a1 = use(&alice, 2, "a", "a1");

	/* Alice is at her share of a (1 of 2): her own session goes. */
	use(&alice, 3, "a", "a2");
	ck_assert_uint_ne(fake_process_closed(a1), 0);
	ck_assert_uint_eq(fake_process_closed(b1), 0);
	ck_assert_uint_eq(fake_process_closed(x1), 0);

	/* With hers busy, she is refused rather than take bob's. */
	begin(&alice, 4, "a", "a2", &c);
	call(&alice, 5, "a", "a3");
	msg = expect_error(&alice, 5, RPC_AT_CAPACITY);
	ck_assert_ptr_nonnull(strstr(str(path(msg, "error", NULL), "message"),
	    "mcpServers.a.max_sessions"));
	cJSON_Delete(msg);
	ck_assert_uint_eq(fake_process_closed(b1), 0);
	ck_assert_ptr_eq(use(&bob, 2, "a", "t1"), b1);
}
END_TEST

START_TEST(test_client_bounds_leave_admins_a_reserve)
{
	const char	*bound = NULL;
	size_t		 i;
	struct fake_front extra[BROKER_ADMIN_RESERVE];

	/* alice, bob, admin and carol fill max_clients. */
	start_broker("{'broker':{'max_clients':4,'max_clients_per_uid':1,"
	    "'log_level':'warning'},'mcpServers':{'repl':{'command':"
	    "'/usr/bin/fake-repl'}}}");
	ck_assert_int_eq(broker_client_room(broker, 1005, 0, &bound), 0);
	ck_assert_str_eq(bound, "max_clients");
	ck_assert_int_eq(broker_client_room(broker, 0, 1, &bound), 1);

	/* The reserve itself is bounded. */
	for (i = 0; i < BROKER_ADMIN_RESERVE; i++) {
		ck_assert_int_eq(broker_client_room(broker, 0, 1, &bound), 1);
		fake_front_init(&extra[i], broker_counters(broker), 0, 1);
		extra[i].on_close = front_close_cb;
		broker_front_add(broker, &extra[i].front);
	}
	ck_assert_int_eq(broker_client_room(broker, 0, 1, &bound), 0);
	ck_assert_str_eq(bound, "max_clients");
	for (i = 0; i < BROKER_ADMIN_RESERVE; i++) {
		broker_front_gone(broker, &extra[i].front);
		fake_front_clear(&extra[i]);
	}
	ck_assert_uint_eq(broker_nclients(broker), 4);
}
END_TEST

START_TEST(test_client_bound_per_uid)
{
	const char	*bound = NULL;

	start_broker("{'broker':{'max_clients':100,'max_clients_per_uid':1,"
	    "'log_level':'warning'},'mcpServers':{'repl':{'command':"
	    "'/usr/bin/fake-repl'}}}");
	ck_assert_int_eq(broker_client_room(broker, 1000, 0, &bound), 0);
	ck_assert_str_eq(bound, "max_clients_per_uid");
	ck_assert_int_eq(broker_client_room(broker, 1005, 0, &bound), 1);
	/* An admin over its own bound still has the reserve. */
	ck_assert_int_eq(broker_client_room(broker, 0, 1, &bound), 1);
	/* A uid's count follows its clients leaving. */
	broker_front_gone(broker, &carol.front);
	ck_assert_int_eq(broker_client_room(broker, 1002, 0, &bound), 1);
	broker_front_add(broker, &carol.front);
	ck_assert_int_eq(broker_client_room(broker, 1002, 0, &bound), 0);
}
END_TEST

/* Every broker behaviour, one test case each. */
static Suite *
broker_suite(void)
{
	Suite	*s = suite_create("broker");
	TCase	*tc = tcase_create("broker");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_same_key_reaches_same_session);
	tcase_add_test(tc, test_other_thread_or_uid_gets_another_session);
	tcase_add_test(tc, test_unknown_server_is_refused);
	tcase_add_test(tc, test_spawn_failure_is_start_failed);
	tcase_add_test(tc, test_global_cap_evicts_least_recently_used_idle);
	tcase_add_test(tc, test_eviction_skips_busy_sessions);
	tcase_add_test(tc, test_all_busy_at_capacity_is_refused);
	tcase_add_test(tc, test_per_server_cap_evicts_within_server);
	tcase_add_test(tc, test_per_server_cap_all_busy_is_refused);
	tcase_add_test(tc, test_broken_session_restarts_at_next_generation);
	tcase_add_test(tc, test_close_forgets_generation);
	tcase_add_test(tc, test_idle_sessions_expire_oldest_first);
	tcase_add_test(tc,
	    test_reload_reports_diff_and_closes_only_changed_sessions);
	tcase_add_test(tc, test_status_lists_sessions_visible_to_caller);
	tcase_add_test(tc, test_session_create_answers_once_ready);
	tcase_add_test(tc, test_churn_over_fair_share_evicts_only_own_sessions);
	tcase_add_test(tc, test_user_within_share_evicts_the_user_over_it);
	tcase_add_test(tc, test_eviction_takes_the_user_furthest_over_share);
	tcase_add_test(tc, test_over_share_with_own_sessions_busy_is_refused);
	tcase_add_test(tc, test_per_uid_bound_evicts_own_then_refuses);
	tcase_add_test(tc, test_per_server_cap_is_shared_fairly);
	tcase_add_test(tc, test_client_bounds_leave_admins_a_reserve);
	tcase_add_test(tc, test_client_bound_per_uid);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	log_set_level(LOG_LEVEL_WARNING);
	sr = srunner_create(broker_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
