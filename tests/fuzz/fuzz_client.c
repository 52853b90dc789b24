/*
 * libFuzzer target: the bytes a client writes to the broker's socket, up
 * to the point where a request is routed (DESIGN §3-§5). Framing with a
 * small cap, JSON-RPC parsing, the routing members and broker/ method
 * params, stripping the routing members, and writing a message back.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "errors.h"
#include "fuzz.h"
#include "route.h"

/* Small, so lines over the cap are easy to reach. */
#define FUZZ_CLIENT_MAX	4096

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_client_route(const struct jsonrpc_msg *);
static void	fuzz_client_line(const char *, size_t, void *);

/* cJSON allocates through xmalloc, as in the daemon. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmalloc_cjson_hooks();
	return (0);
}

/*
 * Route a request or notification as the broker would, and strip the
 * routing members from a copy of the params of a forwarded one.
 */
static void
fuzz_client_route(const struct jsonrpc_msg *msg)
{
	struct route		 route;
	struct route_fault	 fault;
	cJSON			*params;

	if (route_parse(msg->method, msg->params, &route, &fault) != 0) {
		FUZZ_CHECK(fault.code == RPC_METHOD_NOT_FOUND ||
		    fault.code == RPC_INVALID_PARAMS);
		FUZZ_CHECK(memchr(fault.message, '\0',
		    sizeof fault.message) != NULL);
		return;
	}
	if (route.method != ROUTE_FORWARD)
		return;

	FUZZ_CHECK(route.server != NULL && *route.server != '\0');
	FUZZ_CHECK(route.thread != NULL && *route.thread != '\0');
	FUZZ_CHECK(strlen(route.thread) <= ROUTE_THREAD_MAX);
	FUZZ_CHECK(route.timeout_ms >= 0 &&
	    route.timeout_ms <= ROUTE_TIMEOUT_MAX_MS);
	FUZZ_CHECK(route.progress_token == NULL ||
	    cJSON_IsString(route.progress_token) ||
	    cJSON_IsNumber(route.progress_token));

	FUZZ_CHECK((params = cJSON_Duplicate(msg->params, 1)) != NULL);
	route_strip(params);
	/* DESIGN §4: the child never sees the routing members. */
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(params, "server") == NULL);
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(params, "thread") == NULL);
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(params,
	    "timeout_ms") == NULL);
	cJSON_Delete(params);
}

/* One line: parse it, route it, write it back. */
static void
fuzz_client_line(const char *line, size_t len, void *arg)
{
	struct jsonrpc_msg	 msg;
	struct jsonrpc_fault	 fault;

	(void)arg;
	if (jsonrpc_parse(line, len, &msg, &fault) != 0) {
		FUZZ_CHECK(fault.code == RPC_PARSE_ERROR ||
		    fault.code == RPC_INVALID_REQUEST);
		FUZZ_CHECK(fault.id == NULL || jsonrpc_id_valid(fault.id));
		fuzz_check_id(line, len, fault.id);
		jsonrpc_fault_clear(&fault);
		return;
	}
	if (msg.kind == JSONRPC_REQUEST || msg.kind == JSONRPC_NOTIFICATION)
		fuzz_client_route(&msg);
	fuzz_check_id(line, len, msg.id);
	fuzz_check_rewrite(&msg);
	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
}

/* Everything one client connection might send. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_feed(data, size, FUZZ_CLIENT_MAX, fuzz_client_line, NULL);
	return (0);
}
