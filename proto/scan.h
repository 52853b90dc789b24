/*
 * JSON as text, for a broker that reads with a tree but writes from the
 * bytes it was given. scan_line() checks a whole line as strict JSON
 * (RFC 8259) and finds its id even where the line breaks after it; the
 * member walk (scan_iter_*, scan_find, scan_path) gives the spans of the
 * members the broker reads or rewrites, keys compared as they decode;
 * scan_string_decode() and scan_id_equal() read strings and ids the way
 * the protocol document says they compare.
 *
 * Two fast paths scan without building a tree at all. The first is a
 * validating scan of one JSON-RPC success response: a child's answers
 * can be megabytes of result the broker only has to pass on.
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

#include <cJSON.h>

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

/* Longest string id the request scan takes (longer: the full parser). */
#define SCAN_MAX_ID	256

/*
 * A forwarded request, as text: the id, the method and the params members
 * other than server and thread (member[i] is NULL for those two), each a
 * span of the scanned line.
 */
struct scan_request {
	const char	*id;
	size_t		 id_len;
	const char	*method;		/* with its quotes */
	size_t		 method_len;
	const char	*server;		/* without quotes */
	size_t		 server_len;
	const char	*thread;		/* without quotes */
	size_t		 thread_len;
	const char	*key[SCAN_MAX_KEYS];	/* every params member */
	const char	*member[SCAN_MAX_KEYS];	/* "key":value, or NULL */
	size_t		 member_len[SCAN_MAX_KEYS];
	size_t		 nmembers;
};

/* A piece of a scanned line (p NULL: absent). */
struct scan_span {
	const char	*p;
	size_t		 len;
};

/* One member of an object: its key (quotes included) and value, as text. */
struct scan_member {
	struct scan_span	 key;
	struct scan_span	 value;
};

/* Walking the members of an object's text. */
struct scan_iter {
	const char	*p;
	const char	*end;
	int		 started;
};

/* Deepest nesting a whole line may have (cJSON, which reads it after the
   scan, stops at 1000). */
#define SCAN_LINE_MAX_DEPTH	512

/* scan_string_decode(): a lone surrogate escape was decoded. */
#define SCAN_DECODE_LONE	1

int	scan_result(const char *, size_t, struct scan_result *);
int	scan_request(const char *, size_t, struct scan_request *);
cJSON	*scan_request_id(const struct scan_request *);

int	scan_line(const char *, size_t, struct scan_span *, int *);
int	scan_iter_start(struct scan_iter *, const char *, size_t);
int	scan_iter_next(struct scan_iter *, struct scan_member *);
int	scan_find(const char *, size_t, const char *, struct scan_member *);
int	scan_path(const char *, size_t, const char *const *,
	    struct scan_member *);
int	scan_string_decode(const char *, size_t, char *, size_t, size_t *);
int	scan_key_equal(const struct scan_span *, const char *);
int	scan_id_equal(const char *, size_t, const char *, size_t);

#endif
