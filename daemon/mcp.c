/*
 * MCP message helpers.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "mcp.h"
#include "scan.h"
#include "version.h"

/* Handshake versions the broker accepts in an initialize answer. */
static const char *const mcp_handshake_versions[] = {
	"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
};

const char *const mcp_counted_notifications[MCP_NCOUNTED] = {
	"notifications/tools/list_changed",
	"notifications/resources/list_changed",
	"notifications/prompts/list_changed",
	"notifications/resources/updated",
};

/* Whether v is a handshake version the broker speaks. */
int
mcp_handshake_version(const char *v)
{
	size_t	i;

	for (i = 0; i < sizeof mcp_handshake_versions /
	    sizeof *mcp_handshake_versions; i++) {
		if (strcmp(v, mcp_handshake_versions[i]) == 0)
			return (1);
	}
	return (0);
}

/* The versions the broker serves its clients, newest first (a new array). */
cJSON *
mcp_supported_versions(void)
{
	cJSON	*a;
	size_t	 i;

	a = cJSON_CreateArray();
	cJSON_AddItemToArray(a, cJSON_CreateString(MCP_VERSION_MODERN));
	for (i = sizeof mcp_handshake_versions /
	    sizeof *mcp_handshake_versions; i > 0; i--)
		cJSON_AddItemToArray(a,
		    cJSON_CreateString(mcp_handshake_versions[i - 1]));
	return (a);
}

/* {"name":"mcp-broker","version":…}; the caller owns it. */
cJSON *
mcp_client_info(void)
{
	cJSON	*info;

	info = cJSON_CreateObject();
	cJSON_AddStringToObject(info, "name", "mcp-broker");
	cJSON_AddStringToObject(info, "version", BROKER_VERSION);
	return (info);
}

/* The params of initialize, declaring caps (copied). Caller owns them. */
cJSON *
mcp_initialize_params(const cJSON *caps)
{
	cJSON	*params;

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "protocolVersion",
	    MCP_VERSION_HANDSHAKE);
	cJSON_AddItemToObject(params, "capabilities", cJSON_Duplicate(caps, 1));
	cJSON_AddItemToObject(params, "clientInfo", mcp_client_info());
	return (params);
}

/* The params of server/discover: only the required _meta members. */
cJSON *
mcp_discover_params(const cJSON *caps)
{
	cJSON	*params;

	params = cJSON_CreateObject();
	mcp_add_modern_meta(params, caps);
	return (params);
}

/*
 * Check an initialize result: a protocolVersion the broker speaks (a
 * client that cannot use the server's choice disconnects). Returns 0, or
 * -1 with why filled in.
 */
int
mcp_check_initialize(const cJSON *result, char *why, size_t len)
{
	const cJSON	*version;

	if (!cJSON_IsObject(result)) {
		snprintf(why, len, "answered initialize with a result that is "
		    "not an object");
		return (-1);
	}
	version = cJSON_GetObjectItemCaseSensitive(result, "protocolVersion");
	if (!cJSON_IsString(version)) {
		snprintf(why, len, "answered initialize without a "
		    "protocolVersion");
		return (-1);
	}
	if (!mcp_handshake_version(version->valuestring)) {
		snprintf(why, len, "answered with protocol version %.40s, "
		    "which the broker does not speak", version->valuestring);
		return (-1);
	}
	return (0);
}

/*
 * Check a server/discover result: the server must list 2026-07-28 among
 * its supportedVersions. Returns 0, or -1 with why filled in.
 */
int
mcp_check_discover(const cJSON *result, char *why, size_t len)
{
	const cJSON	*versions, *v;

	versions = cJSON_GetObjectItemCaseSensitive(result, "supportedVersions");
	if (!cJSON_IsArray(versions))
		versions = NULL;
	cJSON_ArrayForEach(v, versions) {
		if (cJSON_IsString(v) &&
		    strcmp(v->valuestring, MCP_VERSION_MODERN) == 0)
			return (0);
	}
	snprintf(why, len, "answered server/discover without %s among its "
	    "supportedVersions", MCP_VERSION_MODERN);
	return (-1);
}

/*
 * Whether a server/discover result is a DiscoverResult at all
 * (supportedVersions, a list of strings, and capabilities, an object),
 * whatever versions it lists: the spec's stdio rule
 * (basic/transports/stdio.mdx, "Backward Compatibility") takes one as a
 * modern server, never to be asked initialize.
 */
int
mcp_discover_result(const cJSON *result)
{
	const cJSON	*versions, *v;

	versions = cJSON_GetObjectItemCaseSensitive(result,
	    "supportedVersions");
	if (!cJSON_IsArray(versions) || !cJSON_IsObject(
	    cJSON_GetObjectItemCaseSensitive(result, "capabilities")))
		return (0);
	cJSON_ArrayForEach(v, versions) {
		if (!cJSON_IsString(v))
			return (0);
	}
	return (1);
}

/*
 * Whether an error answer to server/discover still shows a modern server
 * (the spec's stdio rule: a recognised modern error): one of the codes
 * 2026-07-28 defines (schema.ts "MCP error codes": -32020 header
 * mismatch, -32021 missing capability, -32022 unsupported version). The
 * rest of the range it reserves is anyone's to use today, so any other
 * code means a server to fall back from.
 */
int
mcp_modern_error(const cJSON *error)
{
	const cJSON	*code;

	code = cJSON_GetObjectItemCaseSensitive(error, "code");
	return (cJSON_IsNumber(code) &&
	    code->valuedouble == (double)code->valueint &&
	    (code->valueint == MCP_ERROR_HEADER_MISMATCH ||
	    code->valueint == MCP_ERROR_MISSING_CAPABILITY ||
	    code->valueint == MCP_ERROR_UNSUPPORTED_VERSION));
}

/*
 * Add the members every 2026-07-28 request carries to params._meta:
 * protocol version, client capabilities (caps, copied) and client info.
 */
void
mcp_add_modern_meta(cJSON *params, const cJSON *caps)
{
	cJSON	*meta;

	meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	if (!cJSON_IsObject(meta)) {
		cJSON_DeleteItemFromObjectCaseSensitive(params, "_meta");
		meta = cJSON_AddObjectToObject(params, "_meta");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(meta, MCP_META_VERSION);
	cJSON_DeleteItemFromObjectCaseSensitive(meta, MCP_META_CAPABILITIES);
	cJSON_DeleteItemFromObjectCaseSensitive(meta, MCP_META_CLIENT_INFO);
	cJSON_AddStringToObject(meta, MCP_META_VERSION, MCP_VERSION_MODERN);
	cJSON_AddItemToObject(meta, MCP_META_CAPABILITIES,
	    cJSON_Duplicate(caps, 1));
	cJSON_AddItemToObject(meta, MCP_META_CLIENT_INFO, mcp_client_info());
}

/* Set result._meta["mcp-broker/session"] to value (taken). */
void
mcp_set_result_meta(cJSON *result, cJSON *value)
{
	cJSON	*meta;

	if (!cJSON_IsObject(result)) {
		cJSON_Delete(value);
		return;
	}
	meta = cJSON_GetObjectItemCaseSensitive(result, "_meta");
	if (!cJSON_IsObject(meta)) {
		cJSON_DeleteItemFromObjectCaseSensitive(result, "_meta");
		meta = cJSON_AddObjectToObject(result, "_meta");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(meta, MCP_META_SESSION);
	cJSON_AddItemToObject(meta, MCP_META_SESSION, value);
}

/* params._meta.progressToken if it is a string or a number, else NULL. */
const cJSON *
mcp_progress_token(const cJSON *params)
{
	const cJSON	*token;

	token = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(params, "_meta"), "progressToken");
	if (cJSON_IsString(token) || cJSON_IsNumber(token) ||
	    cJSON_IsRaw(token))
		return (token);
	return (NULL);
}

/* Replace params._meta.progressToken with token (taken). */
void
mcp_set_progress_token(cJSON *params, cJSON *token)
{
	cJSON	*meta;

	meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
	if (!cJSON_IsObject(meta)) {
		cJSON_Delete(token);
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "progressToken");
	cJSON_AddItemToObject(meta, "progressToken", token);
}

/* The log level for an MCP logging level (RFC 5424 names). */
enum log_level
mcp_log_level(const char *level)
{
	if (level == NULL)
		return (LOG_LEVEL_INFO);
	if (strcmp(level, "debug") == 0)
		return (LOG_LEVEL_DEBUG);
	if (strcmp(level, "info") == 0 || strcmp(level, "notice") == 0)
		return (LOG_LEVEL_INFO);
	return (LOG_LEVEL_WARNING);
}

/* The index of a counted notification method, or -1. */
int
mcp_counted_notification(const char *method)
{
	int	i;

	for (i = 0; i < MCP_NCOUNTED; i++) {
		if (strcmp(method, mcp_counted_notifications[i]) == 0)
			return (i);
	}
	return (-1);
}

/*
 * The answer to a host's initialize (under id, a JSON text, agreeing on
 * version), made from broker/session's answer line: the child's
 * capabilities, serverInfo (none: {name: server, a JSON text, and the
 * broker's version}) and instructions as the daemon wrote them, with the
 * session in _meta; or that answer's error as it is. Added to out,
 * without a newline. Returns 0, or -1 if it was an error.
 */
int
mcp_initialize_answer(struct evbuffer *out, const char *id,
    const char *version, const char *server, const char *line, size_t len)
{
	static const char *const info[] = { "result", "server_info", NULL };
	static const char *const caps[] = { "result", "capabilities", NULL };
	static const char *const instr[] = { "result", "instructions", NULL };
	static const char *const sid[] = { "result", "id", NULL };
	static const char *const gen[] = { "result", "generation", NULL };
	struct scan_member	 m, s, g;

	if (scan_find(line, len, "error", &m) == 0) {
		evbuffer_add_printf(out, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"error\":", id);
		evbuffer_add(out, m.value.p, m.value.len);
		evbuffer_add(out, "}", 1);
		return (-1);
	}
	evbuffer_add_printf(out, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{"
	    "\"protocolVersion\":\"%s\",\"capabilities\":", id, version);
	if (scan_path(line, len, caps, &m) == 0 && *m.value.p == '{')
		evbuffer_add(out, m.value.p, m.value.len);
	else
		evbuffer_add(out, "{}", 2);
	evbuffer_add_printf(out, ",\"serverInfo\":");
	if (scan_path(line, len, info, &m) == 0 && *m.value.p == '{')
		evbuffer_add(out, m.value.p, m.value.len);
	else
		evbuffer_add_printf(out, "{\"name\":%s,\"version\":\"%s\"}",
		    server, BROKER_VERSION);
	if (scan_path(line, len, instr, &m) == 0 && *m.value.p == '"') {
		evbuffer_add_printf(out, ",\"instructions\":");
		evbuffer_add(out, m.value.p, m.value.len);
	}
	if (scan_path(line, len, sid, &s) == 0 &&
	    scan_path(line, len, gen, &g) == 0) {
		evbuffer_add_printf(out, ",\"_meta\":{\"" MCP_META_SESSION
		    "\":{\"id\":");
		evbuffer_add(out, s.value.p, s.value.len);
		evbuffer_add_printf(out, ",\"generation\":");
		evbuffer_add(out, g.value.p, g.value.len);
		evbuffer_add(out, "}}", 2);
	}
	evbuffer_add(out, "}}", 2);
	return (0);
}
