/*
 * The MCP client state machine of a session: the handshake of either
 * protocol generation, and the child's own requests and notifications.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "jsonrpc.h"
#include "log.h"
#include "mcp.h"
#include "mcpclient.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

struct mcpclient {
	const struct log_ctx	*ctx;		/* the owner's */
	struct mcpclient_cbs	 cbs;
	void			*arg;

	enum server_protocol	 protocol;	/* as configured */
	enum mcpclient_phase	 phase;
	int64_t			 next_id;
	int64_t			 init_id;	/* initialize, or 0 */
	int64_t			 discover_id;	/* server/discover, or 0 */
	int			 modern;	/* 2026-07-28 negotiated */
	cJSON			*client_caps;	/* what the broker declares */
	cJSON			*roots;		/* roots/list answer, or NULL */
	char			*caps_text;	/* client_caps, printed */
	char			*info_text;	/* mcp_client_info(), printed */

	char			*protocol_version;
	cJSON			*server_info;
	cJSON			*capabilities;
	char			*instructions;

	uint64_t		 notes[MCP_NCOUNTED];
	uint64_t		 log_messages;
};

static struct mcpclient *mcpclient_alloc(const struct log_ctx *,
		    const struct mcpclient_cbs *, void *);
static void	mcpclient_initialize(struct mcpclient *);
static void	mcpclient_discovered(struct mcpclient *, struct jsonrpc_msg *);
/*
 * Text every 2026-07-28 member name holds, a "\/" in it or not: a request
 * without it has none to strip.
 */
#define MCPCLIENT_MODERN_MARK	"modelcontextprotocol"

static char	*mcpclient_strip_modern(const char *, size_t, size_t *);
static void	mcpclient_initialized(struct mcpclient *,
		    struct jsonrpc_msg *);
static void	mcpclient_ready(struct mcpclient *, const cJSON *,
		    const char *);
static void	mcpclient_fail(struct mcpclient *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static cJSON	*mcpclient_id(const struct jsonrpc_msg *);
static void	mcpclient_log(struct mcpclient *, enum log_level,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

/* A state machine with its callbacks, before anything is sent. */
static struct mcpclient *
mcpclient_alloc(const struct log_ctx *ctx, const struct mcpclient_cbs *cbs,
    void *arg)
{
	struct mcpclient	*m;

	m = xcalloc(1, sizeof *m);
	m->ctx = ctx;
	m->cbs = *cbs;
	m->arg = arg;
	m->next_id = 1;
	return (m);
}

/*
 * The client for a child of server sc: what the broker declares to it
 * (its client_capabilities, and roots if it serves them).
 */
struct mcpclient *
mcpclient_new(const struct server_conf *sc, const struct log_ctx *ctx,
    const struct mcpclient_cbs *cbs, void *arg)
{
	struct mcpclient	*m;
	cJSON			*root;
	size_t			 i;

	m = mcpclient_alloc(ctx, cbs, arg);
	m->protocol = sc->protocol;
	m->client_caps = sc->client_capabilities != NULL ?
	    cJSON_Duplicate(sc->client_capabilities, 1) : cJSON_CreateObject();
	if (sc->roots_set) {
		cJSON_AddObjectToObject(m->client_caps, "roots");
		m->roots = cJSON_CreateArray();
		for (i = 0; i < sc->nroots; i++) {
			root = cJSON_CreateObject();
			cJSON_AddStringToObject(root, "uri", sc->roots[i].uri);
			if (sc->roots[i].name != NULL)
				cJSON_AddStringToObject(root, "name",
				    sc->roots[i].name);
			cJSON_AddItemToArray(m->roots, root);
		}
	}
	return (m);
}

/* Free the state machine. */
void
mcpclient_free(struct mcpclient *m)
{
	cJSON_Delete(m->client_caps);
	cJSON_Delete(m->roots);
	free(m->caps_text);
	free(m->info_text);
	cJSON_Delete(m->server_info);
	cJSON_Delete(m->capabilities);
	free(m->protocol_version);
	free(m->instructions);
	free(m);
}

/* Log a line about this session, with its fields for the journal. */
static void
mcpclient_log(struct mcpclient *m, enum log_level level, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_ctx_vat(level, m->ctx, fmt, ap);
	va_end(ap);
}

/* The handshake failed: tell the owner why. */
static void
mcpclient_fail(struct mcpclient *m, const char *fmt, ...)
{
	va_list	 ap;
	char	*why;

	m->phase = MCPCLIENT_FAILED;
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	m->cbs.failed(why, m->arg);
	free(why);
}

/*
 * Begin: the spec's stdio rule for a server of unknown generation is to
 * probe server/discover first; a result (or a recognised modern error)
 * means 2026-07-28, anything else a handshake server. left_ms is what is
 * left of the start timeout; returns how long to wait before
 * mcpclient_timeout().
 */
int
mcpclient_start(struct mcpclient *m, int left_ms)
{
	cJSON	*caps;

	if (m->protocol == SERVER_PROTOCOL_LEGACY) {
		mcpclient_initialize(m);
		return (left_ms);
	}
	m->phase = MCPCLIENT_PROBING;
	m->discover_id = m->next_id++;
	/* Without roots, as every 2026-07-28 request (mcpclient_prepare). */
	caps = cJSON_Duplicate(m->client_caps, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(caps, "roots");
	m->cbs.send(jsonrpc_request(cJSON_CreateNumber((double)
	    m->discover_id), "server/discover", mcp_discover_params(caps)),
	    m->arg);
	cJSON_Delete(caps);
	if (m->protocol == SERVER_PROTOCOL_AUTO &&
	    left_ms > MCPCLIENT_DISCOVER_TIMEOUT_MS)
		return (MCPCLIENT_DISCOVER_TIMEOUT_MS);
	return (left_ms);
}

/*
 * The wait ran out. Silence to the probe means a handshake server: send
 * initialize and return 1 (a late answer to the probe is dropped as not
 * in flight). Otherwise return 0: the start has timed out.
 */
int
mcpclient_timeout(struct mcpclient *m)
{
	if (m->phase == MCPCLIENT_PROBING &&
	    m->protocol == SERVER_PROTOCOL_AUTO) {
		mcpclient_log(m, LOG_LEVEL_DEBUG, "session %s: no answer to "
		    "server/discover in %d ms; using initialize",
		    m->ctx->session, MCPCLIENT_DISCOVER_TIMEOUT_MS);
		m->discover_id = 0;
		mcpclient_initialize(m);
		return (1);
	}
	return (0);
}

/* Begin the handshake generation: initialize, nothing else until answered. */
static void
mcpclient_initialize(struct mcpclient *m)
{
	m->phase = MCPCLIENT_INITIALIZING;
	m->init_id = m->next_id++;
	m->cbs.send(jsonrpc_request(cJSON_CreateNumber((double)m->init_id),
	    "initialize", mcp_initialize_params(m->client_caps)), m->arg);
}

/* Where the handshake is. */
enum mcpclient_phase
mcpclient_phase(struct mcpclient *m)
{
	return (m->phase);
}

/* A child id for a forwarded request, unique in this session. */
int64_t
mcpclient_next_id(struct mcpclient *m)
{
	return (m->next_id++);
}

/* Whether the child speaks the handshake-free 2026-07-28. */
int
mcpclient_modern(struct mcpclient *m)
{
	return (m->modern);
}

/* The negotiated protocol version, or NULL before the handshake. */
const char *
mcpclient_version(struct mcpclient *m)
{
	return (m->protocol_version);
}

/*
 * Whether a forwarded request with this text may need mcpclient_prepare:
 * always for a 2026-07-28 child; for a handshake child only if the text
 * may hold a 2026-07-28 member to strip.
 */
int
mcpclient_needs_prepare(struct mcpclient *m, const char *text, size_t len)
{
	return (m->modern ||
	    memmem(text, len, MCPCLIENT_MODERN_MARK,
	    strlen(MCPCLIENT_MODERN_MARK)) != NULL);
}

/*
 * A handshake child had its initialize from the broker: the per-request
 * members of 2026-07-28 that a client put in params._meta are not its
 * protocol's, and go (whichever front end the client came by). The new
 * line, or NULL if it goes as it is.
 */
static char *
mcpclient_strip_modern(const char *line, size_t len, size_t *lenp)
{
	static const struct wire_edit	 e[4] = {
		{ WIRE_DELETE, { "params", "_meta", MCP_META_VERSION, NULL },
		    NULL, 0 },
		{ WIRE_DELETE, { "params", "_meta", MCP_META_CAPABILITIES,
		    NULL }, NULL, 0 },
		{ WIRE_DELETE, { "params", "_meta", MCP_META_CLIENT_INFO,
		    NULL }, NULL, 0 },
		{ WIRE_DELETE, { "params", "_meta", MCP_META_LOG_LEVEL, NULL },
		    NULL, 0 },
	};

	if (memmem(line, len, MCPCLIENT_MODERN_MARK,
	    strlen(MCPCLIENT_MODERN_MARK)) == NULL)
		return (NULL);
	return (wire_rewrite(line, len, e, 4, 1, lenp));
}

/*
 * Make a forwarded request (its whole line) ready for this child:
 * 2026-07-28 requests carry the protocol version, the client's
 * capabilities and info in params._meta. A client that sent its own
 * clientCapabilities (a 2026-07-28 client) keeps them byte for byte, and
 * its clientInfo: the child asks for input (roots, sampling, elicitation)
 * in input_required results, which go back to that client to fulfil. A
 * client that sent none is declared as the broker's config says, but
 * without roots: the broker answers a child's roots/list itself only in
 * the handshake protocols, and fulfils no input request. A handshake
 * child gets none of those members. Returns the new line (allocated,
 * with its newline; *lenp its length), or NULL if the line goes as it is.
 */
char *
mcpclient_prepare(struct mcpclient *m, const char *line, size_t len,
    size_t *lenp)
{
	static const char *const caps_path[] = { "params", "_meta",
				    MCP_META_CAPABILITIES, NULL };
	static const char *const info_path[] = { "params", "_meta",
				    MCP_META_CLIENT_INFO, NULL };
	struct wire_edit	 e[3] = {
		{ WIRE_SET, { "params", "_meta", MCP_META_VERSION, NULL },
		    "\"" MCP_VERSION_MODERN "\"",
		    sizeof MCP_VERSION_MODERN + 1 },
		{ WIRE_SET, { "params", "_meta", MCP_META_CAPABILITIES,
		    NULL }, NULL, 0 },
		{ WIRE_SET, { "params", "_meta", MCP_META_CLIENT_INFO, NULL },
		    NULL, 0 },
	};
	struct scan_member	 mm;
	cJSON			*info, *caps;
	size_t			 n = 3;

	if (!m->modern)
		return (mcpclient_strip_modern(line, len, lenp));
	if (m->caps_text == NULL) {
		caps = cJSON_Duplicate(m->client_caps, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(caps, "roots");
		m->caps_text = cJSON_PrintUnformatted(caps);
		cJSON_Delete(caps);
		info = mcp_client_info();
		m->info_text = cJSON_PrintUnformatted(info);
		cJSON_Delete(info);
	}
	e[1].text = m->caps_text;
	e[1].len = strlen(m->caps_text);
	e[2].text = m->info_text;
	e[2].len = strlen(m->info_text);
	if (scan_path(line, len, caps_path, &mm) == 0 && mm.value.len > 0 &&
	    *mm.value.p == '{') {
		/* The client's own, and its info if it sent one. */
		n = scan_path(line, len, info_path, &mm) == 0 ? 1 : 3;
		if (n == 3) {
			e[1] = e[2];
			n = 2;
		}
	}
	return (wire_rewrite(line, len, e, n, 1, lenp));
}

/*
 * Whether the broker answers a client's request (its tail, as
 * request_text() gives it) itself, with an empty result: ping to a
 * 2026-07-28 child, since that version has no ping.
 */
int
mcpclient_answers(struct mcpclient *m, const char *tail, size_t len)
{
	static const char *const path[] = { "method", NULL };
	char	method[8];

	if (!m->modern)
		return (0);
	wire_tail_string(tail, len, path, method, sizeof method);
	return (strcmp(method, "ping") == 0);
}

/*
 * An answer from the child. Returns 1 if it answered the state machine's
 * own request (the handshake), 0 if it is for the owner's id map.
 */
int
mcpclient_response(struct mcpclient *m, struct jsonrpc_msg *msg)
{
	if (!cJSON_IsNumber(msg->id))
		return (0);
	if (m->phase == MCPCLIENT_PROBING && m->discover_id != 0 &&
	    msg->id->valuedouble == (double)m->discover_id) {
		mcpclient_discovered(m, msg);
		return (1);
	}
	if (m->phase == MCPCLIENT_INITIALIZING && m->init_id != 0 &&
	    msg->id->valuedouble == (double)m->init_id) {
		mcpclient_initialized(m, msg);
		return (1);
	}
	return (0);
}

/* The answer to initialize: ready, or the handshake failed. */
static void
mcpclient_initialized(struct mcpclient *m, struct jsonrpc_msg *msg)
{
	const cJSON	*message;
	char		 why[160];

	m->init_id = 0;
	if (msg->error != NULL) {
		message = cJSON_GetObjectItemCaseSensitive(msg->error,
		    "message");
		mcpclient_fail(m, "refused to initialize: %.200s",
		    message->valuestring);
		return;
	}
	if (mcp_check_initialize(msg->result, why, sizeof why) != 0) {
		mcpclient_fail(m, "%s", why);
		return;
	}
	m->cbs.send(jsonrpc_notification("notifications/initialized", NULL),
	    m->arg);
	mcpclient_ready(m, msg->result, cJSON_GetObjectItemCaseSensitive(
	    msg->result, "protocolVersion")->valuestring);
}

/*
 * The answer to server/discover, by the spec's stdio rule: a result
 * listing 2026-07-28 is a modern server, ready at once; any other
 * DiscoverResult, or a modern error, a modern server the broker shares
 * no version with (the start fails; initialize would not be answered
 * either). Under "auto" anything else means a handshake server.
 */
static void
mcpclient_discovered(struct mcpclient *m, struct jsonrpc_msg *msg)
{
	const cJSON	*code;
	char		 why[160] = "refused server/discover";

	m->discover_id = 0;
	if (msg->result != NULL &&
	    mcp_check_discover(msg->result, why, sizeof why) == 0) {
		m->modern = 1;
		mcpclient_ready(m, msg->result, MCP_VERSION_MODERN);
		return;
	}
	if (msg->result != NULL && mcp_discover_result(msg->result)) {
		mcpclient_fail(m, "is a 2026-07-28-era server that %s, the "
		    "only such version the broker speaks", why);
		return;
	}
	if (msg->error != NULL && mcp_modern_error(msg->error)) {
		code = cJSON_GetObjectItemCaseSensitive(msg->error, "code");
		mcpclient_fail(m, "speaks a protocol version the broker does "
		    "not (server/discover answered %d)", code->valueint);
		return;
	}
	if (m->protocol == SERVER_PROTOCOL_MODERN) {
		mcpclient_fail(m, "%s, but its protocol is set to %s", why,
		    MCP_VERSION_MODERN);
		return;
	}
	mcpclient_log(m, LOG_LEVEL_DEBUG, "session %s: no 2026-07-28 answer "
	    "to server/discover; using initialize", m->ctx->session);
	mcpclient_initialize(m);
	m->cbs.waiting(m->arg);
}

/* The handshake is done: keep what the server said about itself. */
static void
mcpclient_ready(struct mcpclient *m, const cJSON *result, const char *version)
{
	const cJSON	*info, *instructions;

	m->protocol_version = xstrdup(version);
	info = cJSON_GetObjectItemCaseSensitive(result, "serverInfo");
	if (info == NULL)
		info = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(result, "_meta"),
		    MCP_META_SERVER_INFO);
	m->server_info = cJSON_Duplicate(info, 1);
	m->capabilities = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
	    result, "capabilities"), 1);
	instructions = cJSON_GetObjectItemCaseSensitive(result,
	    "instructions");
	if (cJSON_IsString(instructions))
		m->instructions = xstrdup(instructions->valuestring);
	m->phase = MCPCLIENT_READY;
	m->cbs.ready(m->arg);
}

/* The child's id for an answer, as it wrote it (the caller owns it). */
static cJSON *
mcpclient_id(const struct jsonrpc_msg *msg)
{
	if (msg->id_text == NULL)
		return (cJSON_Duplicate(msg->id, 1));
	return (jsonrpc_id_raw(msg->id_text, msg->id_len));
}

/*
 * A request from the child: ping and roots/list are answered here,
 * sampling and elicitation go to the owner when the broker declared
 * them, anything else is not served.
 */
void
mcpclient_request(struct mcpclient *m, struct jsonrpc_msg *msg)
{
	cJSON	*result;

	if (strcmp(msg->method, "ping") == 0) {
		m->cbs.send(jsonrpc_result(mcpclient_id(msg),
		    cJSON_CreateObject()), m->arg);
		return;
	}
	if (strcmp(msg->method, "roots/list") == 0 && m->roots != NULL) {
		result = cJSON_CreateObject();
		cJSON_AddItemToObject(result, "roots",
		    cJSON_Duplicate(m->roots, 1));
		m->cbs.send(jsonrpc_result(mcpclient_id(msg),
		    result), m->arg);
		return;
	}
	if (strcmp(msg->method, "sampling/createMessage") == 0 &&
	    cJSON_GetObjectItemCaseSensitive(m->client_caps, "sampling")) {
		m->cbs.upcall(msg, 1, m->arg);
		return;
	}
	if (strcmp(msg->method, "elicitation/create") == 0 &&
	    cJSON_GetObjectItemCaseSensitive(m->client_caps, "elicitation")) {
		m->cbs.upcall(msg, 0, m->arg);
		return;
	}
	m->cbs.send(jsonrpc_error(mcpclient_id(msg),
	    RPC_METHOD_NOT_FOUND, "The broker does not serve this request "
	    "for this server (see its client_capabilities and roots).", NULL),
	    m->arg);
}

/*
 * A notification from the child: progress and cancels go to the owner,
 * log messages to the owner (for the clients) and the log, list changes
 * and resource updates are counted and go to the owner.
 */
void
mcpclient_notification(struct mcpclient *m, struct jsonrpc_msg *msg)
{
	const cJSON	*token, *level, *logger, *data, *meta;
	char		*text;
	int		 i;

	/* 2026-07-28: a subscription's notifications go to its listener. */
	meta = cJSON_GetObjectItemCaseSensitive(msg->params, "_meta");
	if (m->cbs.listen != NULL && cJSON_GetObjectItemCaseSensitive(meta,
	    MCP_META_SUBSCRIPTION) != NULL && m->cbs.listen(m->arg) == 0)
		return;
	if (strcmp(msg->method, "notifications/tasks/status") == 0 &&
	    m->cbs.task_status != NULL) {
		m->cbs.task_status(m->arg);
		return;
	}
	if (strcmp(msg->method, "notifications/progress") == 0) {
		token = cJSON_GetObjectItemCaseSensitive(msg->params,
		    "progressToken");
		if (cJSON_IsNumber(token))
			m->cbs.progress(msg->params, token->valuedouble,
			    m->arg);
		return;
	}
	if (strcmp(msg->method, "notifications/message") == 0) {
		m->log_messages++;
		if (m->cbs.notify != NULL)
			m->cbs.notify(msg, m->arg);
		level = cJSON_GetObjectItemCaseSensitive(msg->params, "level");
		logger = cJSON_GetObjectItemCaseSensitive(msg->params,
		    "logger");
		data = cJSON_GetObjectItemCaseSensitive(msg->params, "data");
		text = cJSON_IsString(data) ? xstrdup(data->valuestring) :
		    cJSON_PrintUnformatted(data);
		if (!m->cbs.may_log(text != NULL ? strlen(text) : 0,
		    m->arg)) {
			free(text);
			return;
		}
		mcpclient_log(m, mcp_log_level(cJSON_IsString(level) ?
		    level->valuestring : NULL), "session %s: %s thread %s: "
		    "%s%s%s: %.512s", m->ctx->session, m->ctx->server,
		    m->ctx->thread, cJSON_IsString(level) ?
		    level->valuestring : "log",
		    cJSON_IsString(logger) ? " " : "",
		    cJSON_IsString(logger) ? logger->valuestring : "",
		    text != NULL ? text : "");
		free(text);
		return;
	}
	if (strcmp(msg->method, "notifications/cancelled") == 0) {
		m->cbs.cancelled(cJSON_GetObjectItemCaseSensitive(msg->params,
		    "requestId"), m->arg);
		return;
	}
	if (strcmp(msg->method, "notifications/elicitation/complete") == 0 &&
	    m->cbs.elicited != NULL) {
		m->cbs.elicited(m->arg);
		return;
	}
	if ((i = mcp_counted_notification(msg->method)) != -1) {
		m->notes[i]++;
		mcpclient_log(m, LOG_LEVEL_DEBUG, "session %s: %s",
		    m->ctx->session, msg->method);
		if (m->cbs.notify != NULL)
			m->cbs.notify(msg, m->arg);
		return;
	}
	mcpclient_log(m, LOG_LEVEL_DEBUG, "session %s: ignoring notification "
	    "%s", m->ctx->session, msg->method);
}

/*
 * Add what the child said about itself to a broker/session object:
 * protocol_version, server_info, capabilities, instructions, and the
 * notifications counted.
 */
void
mcpclient_describe(struct mcpclient *m, cJSON *o)
{
	cJSON	*notes;
	int	 i;

	if (m->protocol_version != NULL)
		cJSON_AddStringToObject(o, "protocol_version",
		    m->protocol_version);
	else
		cJSON_AddNullToObject(o, "protocol_version");
	cJSON_AddItemToObject(o, "server_info", m->server_info != NULL ?
	    cJSON_Duplicate(m->server_info, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "capabilities", m->capabilities != NULL ?
	    cJSON_Duplicate(m->capabilities, 1) : cJSON_CreateNull());
	if (m->instructions != NULL)
		cJSON_AddStringToObject(o, "instructions", m->instructions);
	notes = cJSON_AddObjectToObject(o, "notifications");
	for (i = 0; i < MCP_NCOUNTED; i++)
		cJSON_AddNumberToObject(notes, mcp_counted_notifications[i] +
		    strlen("notifications/"), (double)m->notes[i]);
	cJSON_AddNumberToObject(notes, "message", (double)m->log_messages);
}

/* Add a copy of item to o under name, if there is one. */
static void
mcpclient_save_item(cJSON *o, const char *name, const cJSON *item)
{
	if (item != NULL)
		cJSON_AddItemToObject(o, name, cJSON_Duplicate(item, 1));
}

/*
 * The state as JSON (the caller owns it), for mcpclient_load() in this
 * or a later daemon: all but the callbacks and the log fields.
 */
cJSON *
mcpclient_save(struct mcpclient *m)
{
	cJSON	*o, *notes;
	int	 i;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "protocol", m->protocol);
	cJSON_AddNumberToObject(o, "phase", m->phase);
	cJSON_AddNumberToObject(o, "next_id", (double)m->next_id);
	cJSON_AddNumberToObject(o, "init_id", (double)m->init_id);
	cJSON_AddNumberToObject(o, "discover_id", (double)m->discover_id);
	cJSON_AddBoolToObject(o, "modern", m->modern);
	mcpclient_save_item(o, "client_caps", m->client_caps);
	mcpclient_save_item(o, "roots", m->roots);
	if (m->protocol_version != NULL)
		cJSON_AddStringToObject(o, "protocol_version",
		    m->protocol_version);
	mcpclient_save_item(o, "server_info", m->server_info);
	mcpclient_save_item(o, "capabilities", m->capabilities);
	if (m->instructions != NULL)
		cJSON_AddStringToObject(o, "instructions", m->instructions);
	notes = cJSON_AddArrayToObject(o, "notes");
	for (i = 0; i < MCP_NCOUNTED; i++)
		cJSON_AddItemToArray(notes, cJSON_CreateNumber((double)
		    m->notes[i]));
	cJSON_AddNumberToObject(o, "log_messages", (double)m->log_messages);
	return (o);
}

/* A number member of o, or 0. */
static double
mcpclient_load_number(const cJSON *o, const char *name)
{
	const cJSON	*n = cJSON_GetObjectItemCaseSensitive(o, name);

	return (cJSON_IsNumber(n) ? n->valuedouble : 0);
}

/* A copy of a member of o, or NULL. */
static cJSON *
mcpclient_load_item(const cJSON *o, const char *name)
{
	const cJSON	*item = cJSON_GetObjectItemCaseSensitive(o, name);

	return (item != NULL ? cJSON_Duplicate(item, 1) : NULL);
}

/* A copy of a string member of o, or NULL. */
static char *
mcpclient_load_string(const cJSON *o, const char *name)
{
	const cJSON	*s = cJSON_GetObjectItemCaseSensitive(o, name);

	return (cJSON_IsString(s) ? xstrdup(s->valuestring) : NULL);
}

/*
 * A state machine as mcpclient_save() wrote it, with new callbacks; NULL
 * if o is not such a state.
 */
struct mcpclient *
mcpclient_load(const cJSON *o, const struct log_ctx *ctx,
    const struct mcpclient_cbs *cbs, void *arg)
{
	struct mcpclient	*m;
	const cJSON		*notes, *n;
	double			 phase;
	int			 i = 0;

	phase = mcpclient_load_number(o, "phase");
	if (!cJSON_IsObject(o) ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "phase")) ||
	    phase < MCPCLIENT_PROBING ||
	    phase > MCPCLIENT_FAILED ||
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o,
	    "client_caps")))
		return (NULL);
	m = mcpclient_alloc(ctx, cbs, arg);
	m->protocol = (enum server_protocol)mcpclient_load_number(o,
	    "protocol");
	m->phase = (enum mcpclient_phase)phase;
	m->next_id = (int64_t)mcpclient_load_number(o, "next_id");
	if (m->next_id < 1)
		m->next_id = 1;
	m->init_id = (int64_t)mcpclient_load_number(o, "init_id");
	m->discover_id = (int64_t)mcpclient_load_number(o, "discover_id");
	m->modern = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
	    "modern"));
	m->client_caps = mcpclient_load_item(o, "client_caps");
	m->roots = mcpclient_load_item(o, "roots");
	m->protocol_version = mcpclient_load_string(o, "protocol_version");
	m->server_info = mcpclient_load_item(o, "server_info");
	m->capabilities = mcpclient_load_item(o, "capabilities");
	m->instructions = mcpclient_load_string(o, "instructions");
	notes = cJSON_GetObjectItemCaseSensitive(o, "notes");
	cJSON_ArrayForEach(n, notes) {
		if (i < MCP_NCOUNTED && cJSON_IsNumber(n))
			m->notes[i++] = (uint64_t)n->valuedouble;
	}
	m->log_messages = (uint64_t)mcpclient_load_number(o, "log_messages");
	return (m);
}
