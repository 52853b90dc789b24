/*
 * The MCP client state machine of a session (daemon/mcpclient.c), fed the
 * child's lines by hand: the handshake of either generation (initialize,
 * server/discover and the fall back from one to the other), the child's
 * own requests and notifications, and its state written out and read
 * back.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "config.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "mcpclient.h"
#include "version.h"

/* The start timeout a session gives the handshake in these tests. */
#define LEFT_MS		30000

/* What the owner of a state machine was asked to do, in order. */
struct owner {
	cJSON	*sent;		/* messages for the child */
	char	 trace[1024];	/* callbacks, by name, comma-separated */
	char	 why[512];	/* the last failure */
	cJSON	*upcalls;	/* [sampling, the message] per upcall */
	cJSON	*progress;	/* [token, params] per progress */
	cJSON	*cancelled;	/* the ids withdrawn */
	size_t	 log_asked;	/* log messages offered to the log */
	size_t	 log_bytes;	/* and their bytes */
};

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static struct server_conf	 sc;
static struct owner		 owner, other;
static struct mcpclient		*m, *loaded;
static cJSON			*saved, *resaved, *scratch, *described;
static char			*printed;

static struct server_root	 roots[] = {
	{ "file:///work", "work" },
	{ "file:///tmp", NULL },
};

static const struct log_ctx	 ctx = { "s", "t", "s-1", 0 };

static void	setup(void);
static void	teardown(void);
static void	owner_init(struct owner *);
static void	owner_clear(struct owner *);
static void	owner_note(struct owner *, const char *);
static void	send_cb(cJSON *, void *);
static void	waiting_cb(void *);
static void	ready_cb(void *);
static void	failed_cb(const char *, void *);
static void	upcall_cb(struct jsonrpc_msg *, int, void *);
static void	progress_cb(const cJSON *, double, void *);
static void	cancelled_cb(const cJSON *, void *);
static int	may_log_cb(size_t, void *);
static cJSON	*prepare(struct mcpclient *, const char *);
static cJSON	*json(const char *);
static void	declare(const char *);
static struct mcpclient *start(enum server_protocol, const char *);
static int	feed(struct mcpclient *, const char *);
static const cJSON *nth(const cJSON *, int, int);
static void	expect_json(const cJSON *, const char *);
static void	expect_sent(struct owner *, int, int, const char *);
static void	expect_modern_meta(const cJSON *, const char *);
static cJSON	*describe(struct mcpclient *);
static Suite	*mcpclient_suite(void);

static const struct mcpclient_cbs cbs = {
	send_cb,
	waiting_cb,
	ready_cb,
	failed_cb,
	upcall_cb,
	progress_cb,
	cancelled_cb,
	may_log_cb,
	NULL,
	NULL,
	NULL,
	NULL,
};

/* A server of protocol "auto" that declares nothing; no machine yet. */
static void
setup(void)
{
	log_set_level(LOG_LEVEL_WARNING);
	memset(&sc, 0, sizeof sc);
	sc.name = "s";
	sc.protocol = SERVER_PROTOCOL_AUTO;
	owner_init(&owner);
	owner_init(&other);
	m = loaded = NULL;
	saved = resaved = scratch = described = NULL;
	printed = NULL;
}

/* Free whatever the test left. */
static void
teardown(void)
{
	if (m != NULL)
		mcpclient_free(m);
	if (loaded != NULL)
		mcpclient_free(loaded);
	m = loaded = NULL;
	cJSON_Delete(sc.client_capabilities);
	sc.client_capabilities = NULL;
	owner_clear(&owner);
	owner_clear(&other);
	cJSON_Delete(saved);
	cJSON_Delete(resaved);
	cJSON_Delete(scratch);
	cJSON_Delete(described);
	saved = resaved = scratch = described = NULL;
	free(printed);
	printed = NULL;
}

/* An owner that has been asked nothing. */
static void
owner_init(struct owner *o)
{
	memset(o, 0, sizeof *o);
	o->sent = cJSON_CreateArray();
	o->upcalls = cJSON_CreateArray();
	o->progress = cJSON_CreateArray();
	o->cancelled = cJSON_CreateArray();
}

/* Free what the owner kept. */
static void
owner_clear(struct owner *o)
{
	cJSON_Delete(o->sent);
	cJSON_Delete(o->upcalls);
	cJSON_Delete(o->progress);
	cJSON_Delete(o->cancelled);
	memset(o, 0, sizeof *o);
}

/* Add what happened to the owner's trace. */
static void
owner_note(struct owner *o, const char *what)
{
	size_t	len = strlen(o->trace);

	snprintf(o->trace + len, sizeof o->trace - len, "%s%s",
	    len > 0 ? ", " : "", what);
}

/* A message for the child: kept, and traced by its method (or answer). */
static void
send_cb(cJSON *msg, void *arg)
{
	struct owner	*o = arg;
	const cJSON	*method;
	char		*text;

	/* Kept as the child would read it (a raw id as what it prints). */
	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	msg = cJSON_Parse(text);
	free(text);
	ck_assert_ptr_nonnull(msg);
	method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	owner_note(o, cJSON_IsString(method) ? method->valuestring :
	    "answer");
	cJSON_AddItemToArray(o->sent, msg);
}

/* initialize was sent after server/discover. */
static void
waiting_cb(void *arg)
{
	owner_note(arg, "waiting");
}

/* The handshake is done. */
static void
ready_cb(void *arg)
{
	owner_note(arg, "ready");
}

/* The handshake failed: why is kept. */
static void
failed_cb(const char *why, void *arg)
{
	struct owner	*o = arg;

	owner_note(o, "failed");
	snprintf(o->why, sizeof o->why, "%s", why);
}

/* The child asks a client: the message is borrowed, so copied. */
static void
upcall_cb(struct jsonrpc_msg *msg, int sampling, void *arg)
{
	struct owner	*o = arg;
	cJSON		*pair;

	owner_note(o, "upcall");
	pair = cJSON_CreateArray();
	cJSON_AddItemToArray(pair, cJSON_CreateBool(sampling));
	cJSON_AddItemToArray(pair, cJSON_Duplicate(msg->root, 1));
	cJSON_AddItemToArray(o->upcalls, pair);
}

/* Progress from the child: its token and params, copied. */
static void
progress_cb(const cJSON *params, double token, void *arg)
{
	struct owner	*o = arg;
	cJSON		*pair;

	owner_note(o, "progress");
	pair = cJSON_CreateArray();
	cJSON_AddItemToArray(pair, cJSON_CreateNumber(token));
	cJSON_AddItemToArray(pair, cJSON_Duplicate(params, 1));
	cJSON_AddItemToArray(o->progress, pair);
}

/* The child withdrew its request id (copied; null if none). */
static void
cancelled_cb(const cJSON *id, void *arg)
{
	struct owner	*o = arg;

	owner_note(o, "cancelled");
	cJSON_AddItemToArray(o->cancelled, id != NULL ?
	    cJSON_Duplicate(id, 1) : cJSON_CreateNull());
}

/* A log message is offered to the log: count it, and let it through. */
static int
may_log_cb(size_t len, void *arg)
{
	struct owner	*o = arg;

	o->log_asked++;
	o->log_bytes += len;
	return (1);
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

/* The server's client_capabilities become text (JSON). */
static void
declare(const char *text)
{
	cJSON_Delete(sc.client_capabilities);
	sc.client_capabilities = json(text);
}

/* A machine for the server under protocol, started; its trace so far. */
static struct mcpclient *
start(enum server_protocol protocol, const char *trace)
{
	sc.protocol = protocol;
	m = mcpclient_new(&sc, &ctx, &cbs, &owner);
	mcpclient_start(m, LEFT_MS);
	ck_assert_str_eq(owner.trace, trace);
	return (m);
}

/*
 * The child writes line to mc: parsed as the session does, and handed
 * over by kind. Returns what mcpclient_response() did for a response.
 */
static int
feed(struct mcpclient *mc, const char *line)
{
	struct jsonrpc_msg	msg;
	struct jsonrpc_fault	fault;
	int			rc = 0;

	ck_assert_msg(jsonrpc_parse(line, strlen(line), &msg, &fault) == 0,
	    "test line refused: %s", line);
	switch (msg.kind) {
	case JSONRPC_RESPONSE:
		rc = mcpclient_response(mc, &msg);
		break;
	case JSONRPC_REQUEST:
		mcpclient_request(mc, &msg);
		break;
	case JSONRPC_NOTIFICATION:
		mcpclient_notification(mc, &msg);
		break;
	}
	jsonrpc_msg_clear(&msg);
	return (rc);
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

/* Message i of the n sent by o must be want. */
static void
expect_sent(struct owner *o, int n, int i, const char *want)
{
	expect_json(nth(o->sent, n, i), want);
}

/* params._meta must carry the 2026-07-28 members, with caps (JSON). */
static void
expect_modern_meta(const cJSON *params, const char *caps)
{
	const cJSON	*meta;

	meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	ck_assert_ptr_nonnull(meta);
	expect_json(cJSON_GetObjectItemCaseSensitive(meta, MCP_META_VERSION),
	    "\"2026-07-28\"");
	expect_json(cJSON_GetObjectItemCaseSensitive(meta,
	    MCP_META_CAPABILITIES), caps);
	expect_json(cJSON_GetObjectItemCaseSensitive(meta,
	    MCP_META_CLIENT_INFO), "{\"name\":\"mcp-broker\",\"version\":\""
	    BROKER_VERSION "\"}");
}

/* What mc says of the child, kept in described until teardown. */
static cJSON *
describe(struct mcpclient *mc)
{
	cJSON_Delete(described);
	described = cJSON_CreateObject();
	mcpclient_describe(mc, described);
	return (described);
}

/* The handshake generation (protocol "legacy"). */

/* The line mcpclient_prepare() makes of text, parsed; NULL if none. */
static cJSON *
prepare(struct mcpclient *mc, const char *text)
{
	cJSON	*msg;
	char	*line;
	size_t	 len;

	if ((line = mcpclient_prepare(mc, text, strlen(text), &len)) == NULL)
		return (NULL);
	ck_assert(len > 0 && line[len - 1] == '\n');
	msg = cJSON_ParseWithLength(line, len);
	free(line);
	ck_assert_ptr_nonnull(msg);
	return (msg);
}

START_TEST(test_legacy_sends_initialize_with_the_handshake_version)
{
	declare("{\"sampling\":{}}");
	sc.protocol = SERVER_PROTOCOL_LEGACY;
	m = mcpclient_new(&sc, &ctx, &cbs, &owner);

	ck_assert_int_eq(mcpclient_start(m, LEFT_MS), LEFT_MS);
	expect_sent(&owner, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
	    "\"2025-11-25\",\"capabilities\":{\"sampling\":{}},"
	    "\"clientInfo\":{\"name\":\"mcp-broker\",\"version\":\""
	    BROKER_VERSION "\"}}}");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_INITIALIZING);
	ck_assert_ptr_null(mcpclient_version(m));
}
END_TEST

START_TEST(test_configured_roots_are_declared_as_a_capability)
{
	sc.roots = roots;
	sc.nroots = 2;
	sc.roots_set = 1;
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	expect_json(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(
	    nth(owner.sent, 1, 0), "params"), "capabilities"),
	    "{\"roots\":{}}");
}
END_TEST

START_TEST(test_a_good_initialize_answer_sends_initialized_then_is_ready)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":"
	    "{\"tools\":{}},\"serverInfo\":{\"name\":\"x\",\"version\":\"1\"},"
	    "\"instructions\":\"Be brief.\"}}"), 1);

	ck_assert_str_eq(owner.trace,
	    "initialize, notifications/initialized, ready");
	expect_sent(&owner, 2, 1, "{\"jsonrpc\":\"2.0\","
	    "\"method\":\"notifications/initialized\"}");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_READY);
	ck_assert_str_eq(mcpclient_version(m), "2025-06-18");
	ck_assert(!mcpclient_modern(m));
	expect_json(describe(m), "{\"protocol_version\":\"2025-06-18\","
	    "\"server_info\":{\"name\":\"x\",\"version\":\"1\"},"
	    "\"capabilities\":{\"tools\":{}},\"instructions\":\"Be brief.\","
	    "\"notifications\":{\"tools/list_changed\":0,"
	    "\"resources/list_changed\":0,\"prompts/list_changed\":0,"
	    "\"resources/updated\":0,\"message\":0}}");
}
END_TEST

START_TEST(test_an_initialize_error_fails_with_its_message)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":"
	    "{\"code\":-32603,\"message\":\"no database\"}}"), 1);

	ck_assert_str_eq(owner.trace, "initialize, failed");
	ck_assert_str_eq(owner.why, "refused to initialize: no database");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_FAILED);
	ck_assert_ptr_null(mcpclient_version(m));
}
END_TEST

START_TEST(test_an_unsupported_initialize_version_fails)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"protocolVersion\":\"1999-01-01\",\"capabilities\":{}}}");

	ck_assert_str_eq(owner.trace, "initialize, failed");
	ck_assert_str_eq(owner.why, "answered with protocol version "
	    "1999-01-01, which the broker does not speak");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_FAILED);
}
END_TEST

START_TEST(test_an_initialize_answer_without_a_version_fails)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");

	ck_assert_str_eq(owner.trace, "initialize, failed");
	ck_assert_str_eq(owner.why,
	    "answered initialize without a protocolVersion");
}
END_TEST

START_TEST(test_a_timeout_under_legacy_ends_the_start)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	ck_assert_int_eq(mcpclient_timeout(m), 0);
	ck_assert_int_eq(cJSON_GetArraySize(owner.sent), 1);
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_INITIALIZING);
}
END_TEST

/* Protocol "auto" and "2026-07-28": server/discover. */

START_TEST(test_auto_sends_server_discover_and_waits_its_own_timeout)
{
	declare("{\"elicitation\":{}}");
	m = mcpclient_new(&sc, &ctx, &cbs, &owner);

	ck_assert_int_eq(mcpclient_start(m, LEFT_MS),
	    MCPCLIENT_DISCOVER_TIMEOUT_MS);
	expect_json(cJSON_GetObjectItem(nth(owner.sent, 1, 0), "method"),
	    "\"server/discover\"");
	expect_json(cJSON_GetObjectItem(nth(owner.sent, 1, 0), "id"), "1");
	expect_modern_meta(cJSON_GetObjectItem(nth(owner.sent, 1, 0),
	    "params"), "{\"elicitation\":{}}");
	/* Those members only. */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(nth(owner.sent, 1, 0), "params"), "_meta")), 3);
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_PROBING);
}
END_TEST

START_TEST(test_auto_with_less_time_left_waits_only_that)
{
	m = mcpclient_new(&sc, &ctx, &cbs, &owner);

	ck_assert_int_eq(mcpclient_start(m, 1500), 1500);
	ck_assert_str_eq(owner.trace, "server/discover");
}
END_TEST

START_TEST(test_a_discover_result_listing_2026_07_28_is_ready_and_modern)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2025-11-25\",\"2026-07-28\"],"
	    "\"capabilities\":{\"tools\":{}},\"_meta\":{\""
	    MCP_META_SERVER_INFO "\":{\"name\":\"m\"}}}}"), 1);

	/* No initialized notification: there was no handshake. */
	ck_assert_str_eq(owner.trace, "server/discover, ready");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_READY);
	ck_assert(mcpclient_modern(m));
	ck_assert_str_eq(mcpclient_version(m), "2026-07-28");
	expect_json(cJSON_GetObjectItem(describe(m), "server_info"),
	    "{\"name\":\"m\"}");
}
END_TEST

START_TEST(test_prepare_adds_the_modern_meta_to_a_requests_params)
{
	declare("{\"sampling\":{}}");
	start(SERVER_PROTOCOL_AUTO, "server/discover");
	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2026-07-28\"]}}");

	scratch = prepare(m, "{\"jsonrpc\":\"2.0\",\"id\":5,"
	    "\"method\":\"tools/call\",\"params\":{\"name\":\"x\","
	    "\"_meta\":{\"progressToken\":3}}}");
	expect_modern_meta(cJSON_GetObjectItem(scratch, "params"),
	    "{\"sampling\":{}}");
	/* What the client put there stays. */
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    scratch, "params"), "_meta"), "progressToken"), "3");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(scratch,
	    "params"), "name"), "\"x\"");
	cJSON_Delete(scratch);

	/* A request without params gets them. */
	scratch = prepare(m, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":"
	    "\"tools/list\"}");
	expect_modern_meta(cJSON_GetObjectItem(scratch, "params"),
	    "{\"sampling\":{}}");
}
END_TEST

START_TEST(test_prepare_leaves_a_handshake_servers_request_alone)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");
	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"protocolVersion\":\"2025-11-25\"}}");

	scratch = prepare(m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"tools/list\"}");
	ck_assert_ptr_null(scratch);
}
END_TEST

START_TEST(test_a_discover_answer_without_2026_07_28_falls_back_to_initialize)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2025-11-25\"]}}"), 1);

	ck_assert_str_eq(owner.trace, "server/discover, initialize, waiting");
	expect_json(cJSON_GetObjectItem(nth(owner.sent, 2, 1), "id"), "2");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_INITIALIZING);
	ck_assert(!mcpclient_modern(m));

	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":"
	    "{\"protocolVersion\":\"2025-11-25\"}}"), 1);
	ck_assert_str_eq(owner.trace, "server/discover, initialize, waiting, "
	    "notifications/initialized, ready");
	ck_assert_str_eq(mcpclient_version(m), "2025-11-25");
}
END_TEST

START_TEST(test_a_discover_error_other_than_32022_falls_back_to_initialize)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,"
	    "\"message\":\"Method not found\"}}");

	ck_assert_str_eq(owner.trace, "server/discover, initialize, waiting");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_INITIALIZING);
}
END_TEST

START_TEST(test_a_discover_answered_32022_fails)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32022,"
	    "\"message\":\"Unsupported protocol version\"}}");

	ck_assert_str_eq(owner.trace, "server/discover, failed");
	ck_assert_str_eq(owner.why, "speaks a protocol version the broker "
	    "does not (server/discover answered -32022)");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_FAILED);
}
END_TEST

START_TEST(test_a_discover_result_without_a_shared_version_fails)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2099-01-01\"],\"capabilities\":{}}}");

	/* A modern server: never asked initialize. */
	ck_assert_str_eq(owner.trace, "server/discover, failed");
	ck_assert_str_eq(owner.why, "is a 2026-07-28-era server that answered "
	    "server/discover without 2026-07-28 among its supportedVersions, "
	    "the only such version the broker speaks");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_FAILED);
}
END_TEST

START_TEST(test_a_discover_error_of_the_specs_range_fails)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32021,"
	    "\"message\":\"Missing required client capability\"}}");

	ck_assert_str_eq(owner.trace, "server/discover, failed");
	ck_assert_str_eq(owner.why, "speaks a protocol version the broker "
	    "does not (server/discover answered -32021)");
}
END_TEST

START_TEST(test_a_discover_error_minus_32042_falls_back_to_initialize)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32042,"
	    "\"message\":\"x\"}}");

	ck_assert_str_eq(owner.trace, "server/discover, initialize, waiting");
}
END_TEST

START_TEST(test_prepare_keeps_a_modern_clients_capabilities_and_info)
{
	declare("{\"sampling\":{}}");
	start(SERVER_PROTOCOL_AUTO, "server/discover");
	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2026-07-28\"]}}");

	/* Its own, byte for byte, roots too (input requests go back to it). */
	scratch = prepare(m, "{\"jsonrpc\":\"2.0\",\"id\":5,"
	    "\"method\":\"tools/list\",\"params\":{\"_meta\":{\""
	    MCP_META_CAPABILITIES "\":{\"elicitation\":{\"url\":{}},"
	    "\"roots\":{\"listChanged\":true},\"extensions\":{\"x/y\":{}}},"
	    "\"" MCP_META_CLIENT_INFO "\":{\"name\":\"host\",\"version\":"
	    "\"9\"}}}}");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    scratch, "params"), "_meta"), MCP_META_CAPABILITIES),
	    "{\"elicitation\":{\"url\":{}},\"roots\":{\"listChanged\":true},"
	    "\"extensions\":{\"x/y\":{}}}");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    scratch, "params"), "_meta"), MCP_META_CLIENT_INFO),
	    "{\"name\":\"host\",\"version\":\"9\"}");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    scratch, "params"), "_meta"), MCP_META_VERSION), "\"2026-07-28\"");
	cJSON_Delete(scratch);

	/* Without clientInfo it gets the broker's. */
	scratch = prepare(m, "{\"jsonrpc\":\"2.0\",\"id\":6,"
	    "\"method\":\"tools/list\",\"params\":{\"_meta\":{\""
	    MCP_META_CAPABILITIES "\":{}}}}");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    scratch, "params"), "_meta"), MCP_META_CAPABILITIES), "{}");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(scratch, "params"),
	    "_meta"), MCP_META_CLIENT_INFO), "name")->valuestring,
	    "mcp-broker");
}
END_TEST

START_TEST(test_prepare_declares_no_roots_to_a_modern_child)
{
	sc.roots = roots;
	sc.nroots = 2;
	sc.roots_set = 1;
	start(SERVER_PROTOCOL_AUTO, "server/discover");
	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2026-07-28\"]}}");

	/* The client's own are its own: nothing added. */
	scratch = prepare(m, "{\"jsonrpc\":\"2.0\",\"id\":5,"
	    "\"method\":\"tools/list\",\"params\":{\"_meta\":{\""
	    MCP_META_CAPABILITIES "\":{\"sampling\":{}}}}}");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    scratch, "params"), "_meta"), MCP_META_CAPABILITIES),
	    "{\"sampling\":{}}");
	cJSON_Delete(scratch);
	/* None sent: the config's, without the roots only a handshake
	   child is answered. */
	scratch = prepare(m, "{\"jsonrpc\":\"2.0\",\"id\":6,"
	    "\"method\":\"tools/list\",\"params\":{}}");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    scratch, "params"), "_meta"), MCP_META_CAPABILITIES), "{}");
}
END_TEST

START_TEST(test_protocol_2026_07_28_waits_the_whole_start_for_discover)
{
	sc.protocol = SERVER_PROTOCOL_MODERN;
	m = mcpclient_new(&sc, &ctx, &cbs, &owner);

	ck_assert_int_eq(mcpclient_start(m, LEFT_MS), LEFT_MS);
	ck_assert_str_eq(owner.trace, "server/discover");
	ck_assert_int_eq(mcpclient_timeout(m), 0);
	ck_assert_str_eq(owner.trace, "server/discover");
}
END_TEST

START_TEST(test_protocol_2026_07_28_fails_on_a_non_modern_answer)
{
	start(SERVER_PROTOCOL_MODERN, "server/discover");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2025-11-25\"]}}");

	ck_assert_str_eq(owner.trace, "server/discover, failed");
	ck_assert_str_eq(owner.why, "answered server/discover without "
	    "2026-07-28 among its supportedVersions, but its protocol is set "
	    "to 2026-07-28");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_FAILED);
}
END_TEST

START_TEST(test_protocol_2026_07_28_fails_on_a_discover_error)
{
	start(SERVER_PROTOCOL_MODERN, "server/discover");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,"
	    "\"message\":\"Method not found\"}}");

	ck_assert_str_eq(owner.trace, "server/discover, failed");
	ck_assert_str_eq(owner.why, "refused server/discover, but its "
	    "protocol is set to 2026-07-28");
}
END_TEST

START_TEST(test_silence_under_auto_falls_back_to_initialize)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	ck_assert_int_eq(mcpclient_timeout(m), 1);
	ck_assert_str_eq(owner.trace, "server/discover, initialize");
	expect_json(cJSON_GetObjectItem(nth(owner.sent, 2, 1), "id"), "2");
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_INITIALIZING);

	/* The probe's late answer is not the handshake's any more. */
	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2026-07-28\"]}}"), 0);
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_INITIALIZING);
	ck_assert(!mcpclient_modern(m));
	/* Nor is a second timeout a second fall back. */
	ck_assert_int_eq(mcpclient_timeout(m), 0);
	ck_assert_str_eq(owner.trace, "server/discover, initialize");
}
END_TEST

START_TEST(test_responses_to_other_ids_are_the_owners)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");

	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":"
	    "{\"supportedVersions\":[\"2026-07-28\"]}}"), 0);
	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":\"1\","
	    "\"result\":{\"supportedVersions\":[\"2026-07-28\"]}}"), 0);
	ck_assert_int_eq(mcpclient_phase(m), MCPCLIENT_PROBING);

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2026-07-28\"]}}");
	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{}}"), 0);
	ck_assert_int_eq(feed(m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":"
	    "{}}"), 0);
	ck_assert_str_eq(owner.trace, "server/discover, ready");
}
END_TEST

START_TEST(test_forwarded_requests_get_ids_after_the_handshakes)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");
	mcpclient_timeout(m);

	ck_assert_int_eq(mcpclient_next_id(m), 3);
	ck_assert_int_eq(mcpclient_next_id(m), 4);
}
END_TEST

/* The child's requests. */

START_TEST(test_ping_is_answered_with_an_empty_result_under_the_childs_id)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":\"p-1\",\"method\":\"ping\"}");

	expect_sent(&owner, 2, 1, "{\"jsonrpc\":\"2.0\",\"id\":\"p-1\","
	    "\"result\":{}}");
}
END_TEST

START_TEST(test_roots_list_is_answered_from_the_configured_roots)
{
	sc.roots = roots;
	sc.nroots = 2;
	sc.roots_set = 1;
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"roots/list\"}");

	expect_sent(&owner, 2, 1, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":"
	    "{\"roots\":[{\"uri\":\"file:///work\",\"name\":\"work\"},"
	    "{\"uri\":\"file:///tmp\"}]}}");
}
END_TEST

START_TEST(test_roots_given_as_empty_are_answered_empty)
{
	sc.roots_set = 1;
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"roots/list\"}");

	expect_sent(&owner, 2, 1, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":"
	    "{\"roots\":[]}}");
}
END_TEST

START_TEST(test_roots_list_without_configured_roots_is_not_served)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"roots/list\"}");

	expect_json(cJSON_GetObjectItem(nth(owner.sent, 2, 1), "id"), "9");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(nth(owner.sent,
	    2, 1), "error"), "code"), "-32601");
}
END_TEST

START_TEST(test_sampling_goes_to_the_owner_when_declared)
{
	declare("{\"sampling\":{}}");
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":"
	    "\"sampling/createMessage\",\"params\":{\"maxTokens\":5}}");

	ck_assert_str_eq(owner.trace, "initialize, upcall");
	expect_json(nth(owner.upcalls, 1, 0), "[true,{\"jsonrpc\":\"2.0\","
	    "\"id\":\"q\",\"method\":\"sampling/createMessage\",\"params\":"
	    "{\"maxTokens\":5}}]");
}
END_TEST

START_TEST(test_sampling_not_declared_is_refused_with_32601)
{
	declare("{\"elicitation\":{}}");
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":"
	    "\"sampling/createMessage\",\"params\":{\"maxTokens\":5}}");

	ck_assert_int_eq(cJSON_GetArraySize(owner.upcalls), 0);
	expect_json(cJSON_GetObjectItem(nth(owner.sent, 2, 1), "id"),
	    "\"q\"");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(nth(owner.sent,
	    2, 1), "error"), "code"), "-32601");
}
END_TEST

START_TEST(test_elicitation_goes_to_the_owner_when_declared)
{
	declare("{\"elicitation\":{}}");
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	    "\"elicitation/create\",\"params\":{}}");

	ck_assert_str_eq(owner.trace, "initialize, upcall");
	expect_json(cJSON_GetArrayItem(nth(owner.upcalls, 1, 0), 0), "false");
}
END_TEST

START_TEST(test_other_requests_are_refused_with_32601)
{
	declare("{\"sampling\":{},\"elicitation\":{}}");
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}");

	ck_assert_str_eq(owner.trace, "initialize, answer");
	expect_json(cJSON_GetObjectItem(cJSON_GetObjectItem(nth(owner.sent,
	    2, 1), "error"), "code"), "-32601");
}
END_TEST

/* The child's notifications. */

START_TEST(test_progress_with_a_numeric_token_goes_to_the_owner)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
	    "\"params\":{\"progressToken\":7,\"progress\":1,\"total\":2}}");

	expect_json(nth(owner.progress, 1, 0), "[7,{\"progressToken\":7,"
	    "\"progress\":1,\"total\":2}]");
}
END_TEST

START_TEST(test_progress_with_a_token_the_broker_did_not_give_is_dropped)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
	    "\"params\":{\"progressToken\":\"tok\",\"progress\":1}}");
	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}");

	ck_assert_str_eq(owner.trace, "initialize");
}
END_TEST

START_TEST(test_cancelled_goes_to_the_owner_with_the_request_id)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":\"up-3\",\"reason\":\"bored\"}}");

	ck_assert_str_eq(owner.trace, "initialize, cancelled");
	expect_json(nth(owner.cancelled, 1, 0), "\"up-3\"");
}
END_TEST

START_TEST(test_list_changes_and_log_messages_are_counted)
{
	start(SERVER_PROTOCOL_LEGACY, "initialize");

	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/tools/list_changed\"}");
	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/tools/list_changed\"}");
	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/resources/updated\",\"params\":{\"uri\":\"x\"}}");
	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\","
	    "\"params\":{\"level\":\"debug\",\"data\":{\"a\":1}}}");
	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/unknown\"}");

	ck_assert_str_eq(owner.trace, "initialize");
	expect_json(cJSON_GetObjectItem(describe(m), "notifications"),
	    "{\"tools/list_changed\":2,\"resources/list_changed\":0,"
	    "\"prompts/list_changed\":0,\"resources/updated\":1,"
	    "\"message\":1}");
	/* The message asked the log's budget for its text's bytes. */
	ck_assert_uint_eq(owner.log_asked, 1);
	ck_assert_uint_eq(owner.log_bytes, strlen("{\"a\":1}"));
}
END_TEST

/* The state written out and read back. */

START_TEST(test_a_loaded_state_saves_the_same_and_behaves_the_same)
{
	sc.roots = roots;
	sc.nroots = 1;
	sc.roots_set = 1;
	declare("{\"sampling\":{}}");
	start(SERVER_PROTOCOL_AUTO, "server/discover");
	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"supportedVersions\":[\"2026-07-28\"],\"capabilities\":"
	    "{\"tools\":{\"listChanged\":true}},\"instructions\":\"Hi.\"}}");
	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/prompts/list_changed\"}");
	feed(m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\","
	    "\"params\":{\"level\":\"info\",\"data\":\"hello\"}}");
	mcpclient_next_id(m);

	saved = mcpclient_save(m);
	loaded = mcpclient_load(saved, &ctx, &cbs, &other);
	ck_assert_ptr_nonnull(loaded);
	resaved = mcpclient_save(loaded);
	ck_assert(cJSON_Compare(saved, resaved, 1));

	scratch = cJSON_Duplicate(describe(m), 1);
	ck_assert(cJSON_Compare(describe(loaded), scratch, 1));
	cJSON_Delete(scratch);
	scratch = NULL;
	ck_assert_int_eq(mcpclient_phase(loaded), MCPCLIENT_READY);
	ck_assert(mcpclient_modern(loaded));
	ck_assert_str_eq(mcpclient_version(loaded), "2026-07-28");
	ck_assert_int_eq(mcpclient_next_id(loaded), mcpclient_next_id(m));

	/* Its callbacks are the new owner's. */
	feed(loaded, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
	    "\"roots/list\"}");
	expect_sent(&other, 1, 0, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":"
	    "{\"roots\":[{\"uri\":\"file:///work\",\"name\":\"work\"}]}}");
	feed(loaded, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	    "\"sampling/createMessage\",\"params\":{}}");
	ck_assert_str_eq(other.trace, "answer, upcall");
	scratch = prepare(loaded, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":"
	    "\"tools/list\"}");
	expect_modern_meta(cJSON_GetObjectItem(scratch, "params"),
	    "{\"sampling\":{}}");
}
END_TEST

START_TEST(test_a_state_saved_mid_handshake_finishes_it_after_load)
{
	start(SERVER_PROTOCOL_AUTO, "server/discover");
	feed(m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
	ck_assert_str_eq(owner.trace, "server/discover, initialize, waiting");

	saved = mcpclient_save(m);
	loaded = mcpclient_load(saved, &ctx, &cbs, &other);
	ck_assert_ptr_nonnull(loaded);
	ck_assert_int_eq(mcpclient_phase(loaded), MCPCLIENT_INITIALIZING);
	ck_assert_int_eq(feed(loaded, "{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"result\":{\"protocolVersion\":\"2025-03-26\"}}"), 1);

	ck_assert_str_eq(other.trace, "notifications/initialized, ready");
	ck_assert_str_eq(mcpclient_version(loaded), "2025-03-26");
	ck_assert_str_eq(owner.trace, "server/discover, initialize, waiting");
}
END_TEST

START_TEST(test_load_refuses_what_is_not_a_saved_state)
{
	static const char *const garbage[] = {
		"[]",
		"\"phase\"",
		"3",
		"null",
		"{}",
		"{\"phase\":2}",
		"{\"phase\":2,\"client_caps\":[]}",
		"{\"phase\":4,\"client_caps\":{}}",
		"{\"phase\":-1,\"client_caps\":{}}",
		"{\"phase\":99,\"client_caps\":{}}",
	};
	size_t	i;

	ck_assert_ptr_null(mcpclient_load(NULL, &ctx, &cbs, &owner));
	for (i = 0; i < sizeof garbage / sizeof *garbage; i++) {
		cJSON_Delete(scratch);
		scratch = json(garbage[i]);
		ck_assert_msg(mcpclient_load(scratch, &ctx, &cbs, &owner) ==
		    NULL, "loaded %s", garbage[i]);
	}
}
END_TEST

START_TEST(test_load_refuses_a_phase_that_is_missing_or_not_a_number)
{
	static const char *const garbage[] = {
		"{\"client_caps\":{}}",
		"{\"phase\":\"ready\",\"client_caps\":{}}",
		"{\"phase\":null,\"client_caps\":{}}",
	};
	size_t	i;

	for (i = 0; i < sizeof garbage / sizeof *garbage; i++) {
		cJSON_Delete(scratch);
		scratch = json(garbage[i]);
		loaded = mcpclient_load(scratch, &ctx, &cbs, &owner);
		ck_assert_msg(loaded == NULL, "loaded %s", garbage[i]);
	}
}
END_TEST

static Suite *
mcpclient_suite(void)
{
	Suite	*s = suite_create("mcpclient");
	TCase	*tc = tcase_create("mcpclient");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    test_legacy_sends_initialize_with_the_handshake_version);
	tcase_add_test(tc, test_configured_roots_are_declared_as_a_capability);
	tcase_add_test(tc,
	    test_a_good_initialize_answer_sends_initialized_then_is_ready);
	tcase_add_test(tc, test_an_initialize_error_fails_with_its_message);
	tcase_add_test(tc, test_an_unsupported_initialize_version_fails);
	tcase_add_test(tc, test_an_initialize_answer_without_a_version_fails);
	tcase_add_test(tc, test_a_timeout_under_legacy_ends_the_start);
	tcase_add_test(tc,
	    test_auto_sends_server_discover_and_waits_its_own_timeout);
	tcase_add_test(tc, test_auto_with_less_time_left_waits_only_that);
	tcase_add_test(tc,
	    test_a_discover_result_listing_2026_07_28_is_ready_and_modern);
	tcase_add_test(tc,
	    test_prepare_adds_the_modern_meta_to_a_requests_params);
	tcase_add_test(tc,
	    test_prepare_leaves_a_handshake_servers_request_alone);
	tcase_add_test(tc,
	    test_a_discover_answer_without_2026_07_28_falls_back_to_initialize);
	tcase_add_test(tc,
	    test_a_discover_error_other_than_32022_falls_back_to_initialize);
	tcase_add_test(tc, test_a_discover_answered_32022_fails);
	tcase_add_test(tc,
	    test_a_discover_result_without_a_shared_version_fails);
	tcase_add_test(tc, test_a_discover_error_of_the_specs_range_fails);
	tcase_add_test(tc,
	    test_a_discover_error_minus_32042_falls_back_to_initialize);
	tcase_add_test(tc,
	    test_prepare_keeps_a_modern_clients_capabilities_and_info);
	tcase_add_test(tc,
	    test_prepare_declares_no_roots_to_a_modern_child);
	tcase_add_test(tc,
	    test_protocol_2026_07_28_waits_the_whole_start_for_discover);
	tcase_add_test(tc,
	    test_protocol_2026_07_28_fails_on_a_non_modern_answer);
	tcase_add_test(tc, test_protocol_2026_07_28_fails_on_a_discover_error);
	tcase_add_test(tc, test_silence_under_auto_falls_back_to_initialize);
	tcase_add_test(tc, test_responses_to_other_ids_are_the_owners);
	tcase_add_test(tc,
	    test_forwarded_requests_get_ids_after_the_handshakes);
	tcase_add_test(tc,
	    test_ping_is_answered_with_an_empty_result_under_the_childs_id);
	tcase_add_test(tc,
	    test_roots_list_is_answered_from_the_configured_roots);
	tcase_add_test(tc, test_roots_given_as_empty_are_answered_empty);
	tcase_add_test(tc,
	    test_roots_list_without_configured_roots_is_not_served);
	tcase_add_test(tc, test_sampling_goes_to_the_owner_when_declared);
	tcase_add_test(tc, test_sampling_not_declared_is_refused_with_32601);
	tcase_add_test(tc, test_elicitation_goes_to_the_owner_when_declared);
	tcase_add_test(tc, test_other_requests_are_refused_with_32601);
	tcase_add_test(tc,
	    test_progress_with_a_numeric_token_goes_to_the_owner);
	tcase_add_test(tc,
	    test_progress_with_a_token_the_broker_did_not_give_is_dropped);
	tcase_add_test(tc,
	    test_cancelled_goes_to_the_owner_with_the_request_id);
	tcase_add_test(tc, test_list_changes_and_log_messages_are_counted);
	tcase_add_test(tc,
	    test_a_loaded_state_saves_the_same_and_behaves_the_same);
	tcase_add_test(tc,
	    test_a_state_saved_mid_handshake_finishes_it_after_load);
	tcase_add_test(tc, test_load_refuses_what_is_not_a_saved_state);
	tcase_add_test(tc,
	    test_load_refuses_a_phase_that_is_missing_or_not_a_number);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(mcpclient_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
