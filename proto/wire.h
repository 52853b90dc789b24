/*
 * The JSON-RPC lines the broker writes as text, without building a tree:
 * a forwarded request's tail and the line the child gets, a fast-path
 * result, an error line. Pure: bytes in, bytes out.
 *
 * The _fill functions write into space the caller provides (an
 * evbuffer's reserved piece, so a line is copied once) and return the end
 * of what they wrote; the matching _size function says how much room to
 * provide. Nothing is NUL-terminated unless said so.
 */
#ifndef PROTO_WIRE_H
#define PROTO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"

/* Bytes wire_request_tail_fill() writes for rq. */
size_t	 wire_request_tail_size(const struct scan_request *);
/* Fill ,"method":M,"params":{members but server and thread}}\n at p;
   returns the end. */
char	*wire_request_tail_fill(char *, const struct scan_request *);
/* The same, allocated (xmalloc, NUL-terminated); *lenp gets its length. */
char	*wire_request_tail(const struct scan_request *, size_t *lenp);
size_t	 wire_one_line(char *, size_t);
void	 wire_tail_string(const char *, size_t, const char *const *, char *,
	     size_t);

/* Most bytes wire_request_fill() writes for a tail of tail_len bytes. */
size_t	 wire_request_size(size_t tail_len);
/* Fill {"jsonrpc":"2.0","id":<id, decimal, id >= 0> then the tail at p;
   returns the end. */
char	*wire_request_fill(char *, int64_t id, const char *tail,
	     size_t tail_len);

/* Bytes wire_result_fill() writes. */
size_t	 wire_result_size(size_t id_len, size_t meta_len, size_t body_len);
/* Fill {"jsonrpc":"2.0","id":ID,"result":{"_meta":{"mcp-broker/session":
   META}[,BODY]}}\n; returns the end. id and meta are JSON texts; body is
   the text of the result's members without braces (len 0: none). */
char	*wire_result_fill(char *, const char *id, size_t id_len,
	     const char *meta, size_t meta_len, const char *body,
	     size_t body_len);

/* An error line {"jsonrpc":"2.0","id":ID or null,"error":{"code":C,
   "message":"..."}}\n with the message escaped as a JSON string (quotes,
   backslashes, control characters as \u00XX; bytes >= 0x80 passed
   through). id_text NULL means null. Allocated (xmalloc, NUL-terminated);
   *lenp gets its length. */
char	*wire_error_line(const char *id_text, int code, const char *message,
	     size_t *lenp);

/* Most edits one wire_rewrite() takes. */
#define WIRE_EDITS_MAX	16
/* Most keys on an edit's path. */
#define WIRE_PATH_MAX	4

enum wire_op {
	WIRE_DELETE,	/* remove the member */
	WIRE_SET,	/* set its value, adding the member if missing */
};

/* One change to a message's text, at the member path names. */
struct wire_edit {
	enum wire_op	 op;
	const char	*path[WIRE_PATH_MAX + 1];	/* NULL-terminated */
	const char	*text;		/* WIRE_SET: the value's JSON text */
	size_t		 len;
};

/* The object text with the edits done to it (see wire.c). */
char	*wire_rewrite(const char *, size_t, const struct wire_edit *, size_t,
	     int, size_t *);
char	*wire_route(const char *, size_t, const char *, const char *, int,
	    size_t *);

#endif
