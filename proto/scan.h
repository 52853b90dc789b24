/*
 * A validating scan of one JSON-RPC success response, without building a
 * tree: the fast path for a child's answers, which can be megabytes of
 * result the broker only has to pass on.
 *
 * It accepts only the plain shape {"jsonrpc":"2.0","id":<integer>,
 * "result":{...}} (members in any order, each once, strict JSON
 * throughout) whose result has at most SCAN_MAX_KEYS members, written
 * without escapes, none repeated and none "_meta". Anything else is left
 * to the full parser (jsonrpc_parse), so the fast path never decides a
 * case the slow one would decide differently.
 */
#ifndef PROTO_SCAN_H
#define PROTO_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Deepest nesting the scan follows; deeper results take the slow path. */
#define SCAN_MAX_DEPTH	64
/* Most members a result may have for the fast path (the keys are checked
   for repeats pairwise). */
#define SCAN_MAX_KEYS	32

struct scan_result {
	int64_t		 id;
	const char	*body;		/* inside the result's braces */
	size_t		 body_len;	/* 0: an empty result object */
};

int	scan_result(const char *, size_t, struct scan_result *);

#endif
