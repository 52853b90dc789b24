/*
 * MCP message helpers: the handshake of either protocol generation, the
 * _meta members the broker adds, progress tokens and log levels. Pure
 * functions on cJSON (fuzzed with what a child's bytes reach).
 *
 * Spec: modelcontextprotocol/modelcontextprotocol, docs/specification/
 * 2025-11-25/basic/lifecycle.mdx (initialize) and 2026-07-28 (discover,
 * per-request _meta).
 */
#ifndef DAEMON_MCP_H
#define DAEMON_MCP_H

#include <stddef.h>

#include <cJSON.h>

struct evbuffer;

#include "log.h"

/* The newest handshake version the broker asks for. */
#define MCP_VERSION_HANDSHAKE	"2025-11-25"
/* The handshake-free version. */
#define MCP_VERSION_MODERN	"2026-07-28"
/* The error a modern server answers an unsupported version with. */
#define MCP_ERROR_UNSUPPORTED_VERSION	(-32022)
/* 2026-07-28 HTTP: a header does not match the body, or is missing. */
#define MCP_ERROR_HEADER_MISMATCH	(-32020)
/* 2026-07-28: a capability the request needs was not declared. */
#define MCP_ERROR_MISSING_CAPABILITY	(-32021)
/* 2025-11-25: the request needs a URL elicitation first. */
#define MCP_ERROR_URL_ELICITATION	(-32042)

#define MCP_META_VERSION	"io.modelcontextprotocol/protocolVersion"
#define MCP_META_CAPABILITIES	"io.modelcontextprotocol/clientCapabilities"
#define MCP_META_CLIENT_INFO	"io.modelcontextprotocol/clientInfo"
#define MCP_META_SERVER_INFO	"io.modelcontextprotocol/serverInfo"
#define MCP_META_LOG_LEVEL	"io.modelcontextprotocol/logLevel"
#define MCP_META_SESSION	"mcp-broker/session"
#define MCP_META_SUBSCRIPTION	"io.modelcontextprotocol/subscriptionId"

int	 mcp_handshake_version(const char *);
cJSON	*mcp_supported_versions(void);
cJSON	*mcp_client_info(void);
cJSON	*mcp_initialize_params(const cJSON *);
cJSON	*mcp_discover_params(const cJSON *);
int	 mcp_check_initialize(const cJSON *, char *, size_t);
int	 mcp_check_discover(const cJSON *, char *, size_t);
int	 mcp_discover_result(const cJSON *);
int	 mcp_modern_error(const cJSON *);
void	 mcp_add_modern_meta(cJSON *, const cJSON *);
void	 mcp_set_result_meta(cJSON *, cJSON *);
const cJSON *mcp_progress_token(const cJSON *);
void	 mcp_set_progress_token(cJSON *, cJSON *);
enum log_level mcp_log_level(const char *);
int	 mcp_counted_notification(const char *);
int	 mcp_initialize_answer(struct evbuffer *, const char *, const char *,
	    const char *, const char *, size_t);

/* The notifications counted per session (index by mcp_counted_...). */
extern const char *const mcp_counted_notifications[];
#define MCP_NCOUNTED	4

#endif
