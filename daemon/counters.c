/*
 * The daemon's counters: errors by code.
 */
#include <stddef.h>

#include "counters.h"
#include "errors.h"

const int counters_codes[COUNTERS_NCODES] = {
	RPC_PARSE_ERROR, RPC_INVALID_REQUEST, RPC_METHOD_NOT_FOUND,
	RPC_INVALID_PARAMS, RPC_INTERNAL_ERROR, RPC_UNKNOWN_SERVER,
	RPC_START_FAILED, RPC_SESSION_LOST, RPC_TIMEOUT, RPC_AT_CAPACITY,
	RPC_TOO_LARGE, RPC_SHUTTING_DOWN, RPC_FORBIDDEN, RPC_CONFIG_INVALID,
	-32000,		/* the generic server error */
	-32001,		/* MCP: request timed out (its SDKs) */
	-32002,		/* MCP: resource not found */
};

/* Count an error answered with code. */
void
counters_error(struct counters *c, int code)
{
	size_t	i;

	c->errors++;
	for (i = 0; i < COUNTERS_NCODES; i++) {
		if (counters_codes[i] == code)
			break;
	}
	c->errors_by_code[i]++;
}
