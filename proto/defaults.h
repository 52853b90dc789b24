/*
 * What the daemon and its clients agree on without being told: where the
 * socket is when neither the config's broker.socket, mcp-brokerd's
 * --socket nor $MCP_BROKER_SOCKET names another path (proto/PROTOCOL.md,
 * "Connecting").
 */
#ifndef PROTO_DEFAULTS_H
#define PROTO_DEFAULTS_H

#define DEFAULT_SOCKET	"/run/mcp-broker/mcp-broker.sock"

#endif
