/*
 * JSON-RPC 2.0 messages on cJSON: parse and validate one line, and build
 * requests, notifications, results and errors.
 *
 * Ids are kept verbatim (strings and numbers alike, as their text) so an
 * answer goes back under exactly the id the peer chose. The tree is for
 * reading; what the broker passes on is written from the line's text
 * (wire_rewrite), never printed from the tree.
 */
#ifndef PROTO_JSONRPC_H
#define PROTO_JSONRPC_H

#include <stddef.h>

#include <cJSON.h>

enum jsonrpc_kind {
	JSONRPC_REQUEST,
	JSONRPC_NOTIFICATION,
	JSONRPC_RESPONSE,
};

/* A parsed message. Every pointer but root is borrowed from root. */
struct jsonrpc_msg {
	cJSON			*root;		/* owned */
	enum jsonrpc_kind	 kind;
	cJSON			*id;		/* NULL for a notification */
	const char		*method;	/* requests and notifications */
	cJSON			*params;	/* object or array, or NULL */
	cJSON			*result;	/* success responses */
	cJSON			*error;		/* error responses */
	const char		*line;		/* the line, borrowed */
	size_t			 line_len;
	const char		*id_text;	/* the id as written, borrowed
						   from the line; NULL: none */
	size_t			 id_len;
};

/* Why a line was refused, and the id to answer under (NULL: null). */
struct jsonrpc_fault {
	int	 code;
	char	 message[160];
	cJSON	*id;		/* owned raw copy of the id as written, or
				   NULL */
	int	 grammar_ok;	/* the line was JSON by the grammar */
};

int	 jsonrpc_parse(const char *, size_t, struct jsonrpc_msg *,
	     struct jsonrpc_fault *);
void	 jsonrpc_msg_clear(struct jsonrpc_msg *);
void	 jsonrpc_fault_clear(struct jsonrpc_fault *);

int	 jsonrpc_id_valid(const cJSON *);
cJSON	*jsonrpc_id_raw(const char *, size_t);

/* Builders. Each takes ownership of the cJSON arguments it is given. */
cJSON	*jsonrpc_request(cJSON *, const char *, cJSON *);
cJSON	*jsonrpc_notification(const char *, cJSON *);
cJSON	*jsonrpc_result(cJSON *, cJSON *);
cJSON	*jsonrpc_error(cJSON *, int, const char *, cJSON *);

#endif
