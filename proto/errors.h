/*
 * JSON-RPC error codes spoken on the broker's socket; PROTOCOL.md,
 * "Errors", says when each is sent.
 *
 * The broker's own codes live in -32010..-32019: MCP reserves
 * -32020..-32099 and already uses -32002, so both are left alone.
 */
#ifndef PROTO_ERRORS_H
#define PROTO_ERRORS_H

enum rpc_error {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,

	RPC_UNKNOWN_SERVER = -32010,
	RPC_START_FAILED = -32011,
	RPC_SESSION_LOST = -32012,
	RPC_TIMEOUT = -32013,
	RPC_AT_CAPACITY = -32014,
	RPC_TOO_LARGE = -32015,
	RPC_SHUTTING_DOWN = -32016,
	RPC_FORBIDDEN = -32017,
	RPC_CONFIG_INVALID = -32018,
};

#endif
