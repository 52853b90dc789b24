/*
 * Checking client requests before routing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "errors.h"
#include "escape.h"
#include "route.h"
#include "scan.h"
#include "xmalloc.h"

static const struct {
	const char		*name;
	enum route_method	 method;
	const char		*keys[4];	/* the params it accepts */
} route_methods[] = {
	{ "broker/status", ROUTE_STATUS, { "rss" } },
	{ "broker/session", ROUTE_SESSION, { "server", "thread", "create" } },
	{ "broker/close", ROUTE_CLOSE, { "server", "thread", "all" } },
	{ "broker/servers", ROUTE_SERVERS, { NULL } },
	{ "broker/reload", ROUTE_RELOAD, { NULL } },
	{ "broker/hello", ROUTE_HELLO, { "capabilities", "notifications" } },
	{ "broker/metrics", ROUTE_METRICS, { NULL } },
	{ "broker/logs", ROUTE_LOGS, { "server", "thread", "follow" } },
};
#define ROUTE_NMETHODS	(sizeof route_methods / sizeof route_methods[0])

static int	route_fail(struct route_fault *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	route_string(const cJSON *, const char *, const char **);
static int	route_name(const char *, const char *, struct route_fault *);
static int	route_forward(const cJSON *, struct route *,
		    struct route_fault *);
static int	route_broker(size_t, const cJSON *, struct route *,
		    struct route_fault *);

/* Fill fault; returns -1. */
static int
route_fail(struct route_fault *fault, int code, const char *fmt, ...)
{
	va_list	ap;

	fault->code = code;
	va_start(ap, fmt);
	vsnprintf(fault->message, sizeof fault->message, fmt, ap);
	va_end(ap);
	return (-1);
}

/* An optional non-empty string member: 0 (absent: NULL), or -1. */
static int
route_string(const cJSON *params, const char *name, const char **value)
{
	const cJSON	*item;

	*value = NULL;
	if ((item = cJSON_GetObjectItemCaseSensitive(params, name)) == NULL)
		return (0);
	if (!cJSON_IsString(item) || *item->valuestring == '\0')
		return (-1);
	*value = item->valuestring;
	return (0);
}

/* The name rule on a name member cJSON read (route_check_name()). */
static int
route_name(const char *what, const char *name, struct route_fault *fault)
{
	if (name == NULL)
		return (0);
	return (route_check_name(what, name, strlen(name), 0, fault));
}

/*
 * Check a request for method with params (may be NULL). Returns 0 with
 * route filled in, or -1 with the JSON-RPC error to answer in fault.
 */
int
route_parse(const char *method, const cJSON *params, struct route *route,
    struct route_fault *fault)
{
	size_t	i;

	memset(route, 0, sizeof *route);
	if (strncmp(method, "broker/", 7) != 0)
		return (route_forward(params, route, fault) != 0 ||
		    route_name("server", route->server, fault) != 0 ||
		    route_name("thread", route->thread, fault) != 0 ? -1 : 0);
	for (i = 0; i < ROUTE_NMETHODS; i++) {
		if (strcmp(method, route_methods[i].name) == 0)
			return (route_broker(i, params, route, fault) != 0 ||
			    route_name("server", route->server, fault) != 0 ||
			    route_name("thread", route->thread, fault) != 0 ?
			    -1 : 0);
	}
	return (route_fail(fault, RPC_METHOD_NOT_FOUND, "Unknown broker "
	    "method '%.64s'; the broker has broker/status, broker/session, "
	    "broker/close, broker/servers, broker/reload, broker/hello, "
	    "broker/metrics and broker/logs.",
	    method));
}

/* The routing members of a request for a session. */
static int
route_forward(const cJSON *params, struct route *route,
    struct route_fault *fault)
{
	const cJSON	*timeout, *meta, *token;

	if (!cJSON_IsObject(params))
		return (route_fail(fault, RPC_INVALID_PARAMS, "params must be "
		    "an object carrying \"server\" and \"thread\"."));
	if (route_string(params, "server", &route->server) != 0 ||
	    route->server == NULL)
		return (route_fail(fault, RPC_INVALID_PARAMS, "params.server "
		    "must be a non-empty string naming a configured MCP "
		    "server."));
	if (route_string(params, "thread", &route->thread) != 0 ||
	    route->thread == NULL ||
	    strlen(route->thread) > ROUTE_THREAD_MAX)
		return (route_fail(fault, RPC_INVALID_PARAMS, "params.thread "
		    "must be a non-empty string of at most %d bytes naming "
		    "the agent's conversation.", ROUTE_THREAD_MAX));

	timeout = cJSON_GetObjectItemCaseSensitive(params, "timeout_ms");
	if (timeout != NULL) {
		if (!cJSON_IsNumber(timeout) || timeout->valuedouble < 1 ||
		    timeout->valuedouble > (double)ROUTE_TIMEOUT_MAX_MS)
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "params.timeout_ms must be a number of "
			    "milliseconds from 1 to %ld.",
			    ROUTE_TIMEOUT_MAX_MS));
		route->timeout_ms = (long)timeout->valuedouble;
	}

	meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	if (meta != NULL && !cJSON_IsObject(meta))
		return (route_fail(fault, RPC_INVALID_PARAMS, "params._meta "
		    "must be an object."));
	if (meta != NULL) {
		route->progress_token = cJSON_GetObjectItemCaseSensitive(meta,
		    "progressToken");
		token = route->progress_token;
		/* Integers cJSON prints back exactly: up to 15 digits. */
		if (token != NULL && !cJSON_IsString(token) &&
		    (!cJSON_IsNumber(token) || token->valuedouble >= 1e15 ||
		    token->valuedouble <= -1e15 || token->valuedouble !=
		    (double)(long long)token->valuedouble))
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "params._meta.progressToken must be a string or "
			    "an integer of at most 15 digits."));
	}
	return (0);
}

/* The params of broker method i. */
static int
route_broker(size_t i, const cJSON *params, struct route *route,
    struct route_fault *fault)
{
	const char	*name = route_methods[i].name;
	const cJSON	*key, *item, *caps;
	size_t		 k;

	route->method = route_methods[i].method;
	if (params != NULL && !cJSON_IsObject(params))
		return (route_fail(fault, RPC_INVALID_PARAMS, "%s: params must "
		    "be an object.", name));
	cJSON_ArrayForEach(key, params) {
		for (k = 0; k < 4 && route_methods[i].keys[k] != NULL; k++) {
			if (strcmp(key->string, route_methods[i].keys[k]) == 0)
				break;
		}
		if (k == 4 || route_methods[i].keys[k] == NULL)
			return (route_fail(fault, RPC_INVALID_PARAMS, "%s: "
			    "unknown parameter '%.64s'.", name, key->string));
	}

	switch (route->method) {
	case ROUTE_STATUS:
		item = cJSON_GetObjectItemCaseSensitive(params, "rss");
		if (item != NULL && !cJSON_IsBool(item))
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "broker/status: rss must be true or false."));
		route->rss = cJSON_IsTrue(item);
		break;
	case ROUTE_SESSION:
		item = cJSON_GetObjectItemCaseSensitive(params, "create");
		if (item != NULL && !cJSON_IsBool(item))
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "broker/session: create must be true or false."));
		route->create = cJSON_IsTrue(item);
		if (route_string(params, "server", &route->server) != 0 ||
		    route_string(params, "thread", &route->thread) != 0 ||
		    route->server == NULL || route->thread == NULL ||
		    strlen(route->thread) > ROUTE_THREAD_MAX)
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "broker/session: server and thread must be "
			    "non-empty strings, thread at most %d bytes.",
			    ROUTE_THREAD_MAX));
		break;
	case ROUTE_LOGS:
		item = cJSON_GetObjectItemCaseSensitive(params, "follow");
		if (item != NULL && !cJSON_IsBool(item))
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "broker/logs: follow must be true or false."));
		route->follow = cJSON_IsTrue(item);
		if (route_string(params, "server", &route->server) != 0 ||
		    route_string(params, "thread", &route->thread) != 0 ||
		    route->server == NULL || route->thread == NULL ||
		    strlen(route->thread) > ROUTE_THREAD_MAX)
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "broker/logs: server and thread must be "
			    "non-empty strings, thread at most %d bytes.",
			    ROUTE_THREAD_MAX));
		break;
	case ROUTE_CLOSE:
		item = cJSON_GetObjectItemCaseSensitive(params, "all");
		if (route_string(params, "server", &route->server) != 0 ||
		    route_string(params, "thread", &route->thread) != 0 ||
		    (item != NULL && (!cJSON_IsTrue(item) ||
		    route->server != NULL || route->thread != NULL)) ||
		    (item == NULL && route->server == NULL &&
		    route->thread == NULL))
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "broker/close takes {\"thread\"}, {\"server\"}, "
			    "{\"server\", \"thread\"} (non-empty strings) or "
			    "{\"all\": true}."));
		route->all = item != NULL;
		break;
	case ROUTE_HELLO:
		item = cJSON_GetObjectItemCaseSensitive(params,
		    "notifications");
		if (item != NULL && !cJSON_IsBool(item))
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "broker/hello: notifications must be true or "
			    "false."));
		route->notifications = cJSON_IsTrue(item);
		caps = cJSON_GetObjectItemCaseSensitive(params,
		    "capabilities");
		if (caps != NULL && !cJSON_IsObject(caps))
			return (route_fail(fault, RPC_INVALID_PARAMS,
			    "broker/hello: capabilities must be an object."));
		/* MCP ClientCapabilities: every member an object, and so
		   are the sub-capabilities the broker routes by. */
		route->capabilities = caps;
		cJSON_ArrayForEach(key, caps) {
			if (!cJSON_IsObject(key))
				return (route_fail(fault, RPC_INVALID_PARAMS,
				    "broker/hello: capabilities.%.64s must be "
				    "an object.", key->string));
			if (strcmp(key->string, "sampling") == 0)
				route->sampling = 1;
			else if (strcmp(key->string, "elicitation") == 0)
				route->elicitation = 1;
			else
				continue;
			cJSON_ArrayForEach(item, key) {
				if (!cJSON_IsObject(item))
					return (route_fail(fault,
					    RPC_INVALID_PARAMS, "broker/hello: "
					    "capabilities.%s.%.64s must be an "
					    "object.", key->string,
					    item->string));
			}
		}
		break;
	default:
		break;
	}
	return (0);
}

/*
 * Check a name (what: "server" or "thread") of len bytes as it decodes,
 * NULs included; lone: it held a lone surrogate escape. Returns 0, or -1
 * with fault saying which rule it breaks.
 */
int
route_check_name(const char *what, const char *name, size_t len, int lone,
    struct route_fault *fault)
{
	size_t	max, i;

	max = strcmp(what, "server") == 0 ? ROUTE_SERVER_MAX : ROUTE_THREAD_MAX;
	if (len == 0)
		return (route_fail(fault, RPC_INVALID_PARAMS, "%s must be a "
		    "non-empty string.", what));
	if (len > max)
		return (route_fail(fault, RPC_INVALID_PARAMS, "%s must be at "
		    "most %zu bytes.", what, max));
	if (lone || !escape_utf8_valid(name, len))
		return (route_fail(fault, RPC_INVALID_PARAMS, "%s must be "
		    "valid UTF-8%s.", what, lone ? " (a lone surrogate escape "
		    "is no character)" : ""));
	for (i = 0; i < len; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return (route_fail(fault, RPC_INVALID_PARAMS, "%s must "
			    "not contain control characters (U+0000-U+001F, "
			    "U+007F).", what));
	}
	return (0);
}

/*
 * Check params.server and params.thread of a request line (valid JSON)
 * by the name rule, where they are strings; other types are left to
 * route_parse(). Returns 0, or -1 with fault filled in.
 */
int
route_check_names(const char *line, size_t len, struct route_fault *fault)
{
	static const char *const names[] = { "server", "thread" };
	struct scan_member	 params, m;
	char			 buf[ROUTE_THREAD_MAX + 1];
	size_t			 i, n;
	int			 lone;

	if (scan_find(line, len, "params", &params) != 0 ||
	    *params.value.p != '{')
		return (0);
	for (i = 0; i < sizeof names / sizeof *names; i++) {
		if (scan_find(params.value.p, params.value.len, names[i],
		    &m) != 0 || *m.value.p != '"')
			continue;
		lone = scan_string_decode(m.value.p, m.value.len, buf,
		    sizeof buf, &n) == SCAN_DECODE_LONE;
		if (route_check_name(names[i], buf, n, lone, fault) != 0)
			return (-1);
	}
	return (0);
}

/* Remove the routing members a child must not see. */
void
route_strip(cJSON *params)
{
	cJSON_DeleteItemFromObjectCaseSensitive(params, "server");
	cJSON_DeleteItemFromObjectCaseSensitive(params, "thread");
	cJSON_DeleteItemFromObjectCaseSensitive(params, "timeout_ms");
}

/*
 * Split an HTTP path /mcp/SERVER/THREAD into its two names (caller frees
 * both), each percent-decoded and checked by the name rule. Returns 0;
 * -1 if the path has not that shape; -2 with fault set if a name breaks
 * the rule.
 */
int
route_http_path(const char *path, char **server, char **thread,
    struct route_fault *fault)
{
	const char	*seg[2], *slash;
	char		*name[2], *raw;
	size_t		 len[2], i;

	if (strncmp(path, "/mcp/", 5) != 0)
		return (-1);
	seg[0] = path + 5;
	if ((slash = strchr(seg[0], '/')) == NULL || slash == seg[0] ||
	    slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
		return (-1);
	seg[1] = slash + 1;
	for (i = 0; i < 2; i++) {
		raw = i == 0 ? xstrndup(seg[0], (size_t)(slash - seg[0])) :
		    xstrdup(seg[1]);
		len[i] = 0;
		/* NULL only when out of memory, which is fatal here. */
		if ((name[i] = evhttp_uridecode(raw, 0, &len[i])) == NULL)
			abort();
		free(raw);
	}
	if (route_check_name("server", name[0], len[0], 0, fault) != 0 ||
	    route_check_name("thread", name[1], len[1], 0, fault) != 0) {
		free(name[0]);
		free(name[1]);
		return (-2);
	}
	*server = name[0];
	*thread = name[1];
	return (0);
}
