/*
 * JSON-RPC lines written as text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "xmalloc.h"

/* Digits of the longest int64_t, its sign included. */
#define WIRE_ID_DIGITS_MAX	20

/* The pieces of the lines, as the daemon has always written them. */
static const char	wire_head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
static const char	wire_method[] = ",\"method\":";
static const char	wire_params[] = ",\"params\":{";
static const char	wire_end[] = "}}\n";
static const char	wire_meta[] =
			    ",\"result\":{\"_meta\":{\"mcp-broker/session\":";
static const char	wire_code[] = ",\"error\":{\"code\":";
static const char	wire_message[] = ",\"message\":\"";
static const char	wire_error_end[] = "\"}}\n";

#define WIRE_LEN(s)	(sizeof (s) - 1)

static char	*wire_put(char *, const char *, size_t);
static size_t	 wire_string_size(const char *);
static char	*wire_string_fill(char *, const char *);

/* Copy len bytes to p (none: s may be NULL); returns the end. */
static char *
wire_put(char *p, const char *s, size_t len)
{
	if (len > 0)
		memcpy(p, s, len);
	return (p + len);
}

/* Bytes wire_request_tail_fill() writes for rq. */
size_t
wire_request_tail_size(const struct scan_request *rq)
{
	size_t	i, len, n = 0;

	len = WIRE_LEN(wire_method) + rq->method_len + WIRE_LEN(wire_params) +
	    WIRE_LEN(wire_end);
	for (i = 0; i < rq->nmembers; i++) {
		if (rq->member[i] != NULL) {
			len += rq->member_len[i];
			n++;
		}
	}
	if (n > 1)
		len += n - 1;	/* the commas between them */
	return (len);
}

/*
 * Fill ,"method":M,"params":{members but server and thread}}\n at p, the
 * members in the client's order; returns the end.
 */
char *
wire_request_tail_fill(char *p, const struct scan_request *rq)
{
	size_t	i;
	int	first = 1;

	p = wire_put(p, wire_method, WIRE_LEN(wire_method));
	p = wire_put(p, rq->method, rq->method_len);
	p = wire_put(p, wire_params, WIRE_LEN(wire_params));
	for (i = 0; i < rq->nmembers; i++) {
		if (rq->member[i] == NULL)
			continue;
		if (!first)
			*p++ = ',';
		p = wire_put(p, rq->member[i], rq->member_len[i]);
		first = 0;
	}
	return (wire_put(p, wire_end, WIRE_LEN(wire_end)));
}

/* A request's tail, allocated and NUL-terminated; *lenp gets its length. */
char *
wire_request_tail(const struct scan_request *rq, size_t *lenp)
{
	char	*tail, *end;

	tail = xmalloc(wire_request_tail_size(rq) + 1);
	end = wire_request_tail_fill(tail, rq);
	*end = '\0';
	if (lenp != NULL)
		*lenp = (size_t)(end - tail);
	return (tail);
}

/* Most bytes wire_request_fill() writes for a tail of tail_len bytes. */
size_t
wire_request_size(size_t tail_len)
{
	return (WIRE_LEN(wire_head) + WIRE_ID_DIGITS_MAX + tail_len);
}

/*
 * Fill {"jsonrpc":"2.0","id":<id in decimal> then the tail at p; returns
 * the end. The broker's ids are never negative, but one would still be
 * written as JSON.
 */
char *
wire_request_fill(char *p, int64_t id, const char *tail, size_t tail_len)
{
	char		digits[WIRE_ID_DIGITS_MAX];
	uint64_t	u;
	int		n = 0;

	p = wire_put(p, wire_head, WIRE_LEN(wire_head));
	if (id < 0) {
		*p++ = '-';
		u = -(uint64_t)id;
	} else
		u = (uint64_t)id;
	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	while (n > 0)
		*p++ = digits[--n];
	return (wire_put(p, tail, tail_len));
}

/* Bytes wire_result_fill() writes. */
size_t
wire_result_size(size_t id_len, size_t meta_len, size_t body_len)
{
	size_t	len;

	len = WIRE_LEN(wire_head) + id_len + WIRE_LEN(wire_meta) + meta_len +
	    1 + WIRE_LEN(wire_end);
	if (body_len > 0)
		len += 1 + body_len;
	return (len);
}

/*
 * Fill {"jsonrpc":"2.0","id":ID,"result":{"_meta":{"mcp-broker/session":
 * META}[,BODY]}}\n at p; returns the end.
 */
char *
wire_result_fill(char *p, const char *id, size_t id_len, const char *meta,
    size_t meta_len, const char *body, size_t body_len)
{
	p = wire_put(p, wire_head, WIRE_LEN(wire_head));
	p = wire_put(p, id, id_len);
	p = wire_put(p, wire_meta, WIRE_LEN(wire_meta));
	p = wire_put(p, meta, meta_len);
	*p++ = '}';
	if (body_len > 0) {
		*p++ = ',';
		p = wire_put(p, body, body_len);
	}
	return (wire_put(p, wire_end, WIRE_LEN(wire_end)));
}

/* Bytes s takes escaped as the inside of a JSON string. */
static size_t
wire_string_size(const char *s)
{
	const unsigned char	*u;
	size_t			 len = 0;

	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\')
			len += 2;
		else if (*u < 0x20)
			len += 6;
		else
			len++;
	}
	return (len);
}

/*
 * Fill s escaped as the inside of a JSON string at p: a quote or a
 * backslash after a backslash, a control character as \u00XX, any other
 * byte as it is (UTF-8 is the sender's business). Returns the end.
 */
static char *
wire_string_fill(char *p, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u;

	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\') {
			*p++ = '\\';
			*p++ = (char)*u;
		} else if (*u < 0x20) {
			p = wire_put(p, "\\u00", 4);
			*p++ = hex[*u >> 4];
			*p++ = hex[*u & 0xf];
		} else
			*p++ = (char)*u;
	}
	return (p);
}

/*
 * An error line {"jsonrpc":"2.0","id":ID,"error":{"code":C,"message":M}}\n,
 * id_text the id's JSON text (NULL: null), message escaped. Allocated and
 * NUL-terminated; *lenp gets its length.
 */
char *
wire_error_line(const char *id_text, int code, const char *message,
    size_t *lenp)
{
	char	 digits[16], *line, *p;
	size_t	 id_len, len;
	int	 n;

	if (id_text == NULL)
		id_text = "null";
	id_len = strlen(id_text);
	n = snprintf(digits, sizeof digits, "%d", code);
	len = WIRE_LEN(wire_head) + id_len + WIRE_LEN(wire_code) + (size_t)n +
	    WIRE_LEN(wire_message) + wire_string_size(message) +
	    WIRE_LEN(wire_error_end);

	line = p = xmalloc(len + 1);
	p = wire_put(p, wire_head, WIRE_LEN(wire_head));
	p = wire_put(p, id_text, id_len);
	p = wire_put(p, wire_code, WIRE_LEN(wire_code));
	p = wire_put(p, digits, (size_t)n);
	p = wire_put(p, wire_message, WIRE_LEN(wire_message));
	p = wire_string_fill(p, message);
	p = wire_put(p, wire_error_end, WIRE_LEN(wire_error_end));
	*p = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (line);
}

/* A growing piece of text. */
struct wire_buf {
	char	*p;
	size_t	 len;
	size_t	 size;
};

/* Append len bytes of s to b. */
static void
wire_buf_add(struct wire_buf *b, const char *s, size_t len)
{
	if (b->len + len + 2 > b->size) {
		b->size = (b->len + len + 2) * 2;
		b->p = xrealloc(b->p, b->size);
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
}

/* Append a member's key, written plainly, and its colon. */
static void
wire_buf_key(struct wire_buf *b, const char *key)
{
	wire_buf_add(b, "\"", 1);
	wire_buf_add(b, key, strlen(key));
	wire_buf_add(b, "\":", 2);
}

/* Whether any edit marked in which sets a value. */
static int
wire_sets(const struct wire_edit *e, size_t n, unsigned which)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if ((which & (1u << i)) && e[i].op == WIRE_SET)
			return (1);
	}
	return (0);
}

/*
 * Write the object text obj to b with the edits marked in active (their
 * path keys from depth on apply here) done to it. Every member no edit
 * names is copied as it was written; done collects the edits applied.
 */
static int
wire_object(struct wire_buf *b, const char *obj, size_t len,
    const struct wire_edit *e, size_t n, unsigned active, int depth,
    unsigned *done)
{
	struct scan_iter	 it;
	struct scan_member	 m;
	const char		*key;
	unsigned		 here, deeper, group;
	size_t			 i, j;
	int			 first = 1, r, set;

	if (scan_iter_start(&it, obj, len) != 0)
		return (-1);
	wire_buf_add(b, "{", 1);
	while ((r = scan_iter_next(&it, &m)) == 1) {
		here = deeper = 0;
		set = -1;
		for (i = 0; i < n; i++) {
			if (!(active & (1u << i)) ||
			    !scan_key_equal(&m.key, e[i].path[depth]))
				continue;
			if (e[i].path[depth + 1] == NULL) {
				here |= 1u << i;
				if (e[i].op == WIRE_SET)
					set = (int)i;
			} else
				deeper |= 1u << i;
		}
		*done |= here;
		if (here != 0 && set == -1)
			continue;	/* deleted */
		if (!first)
			wire_buf_add(b, ",", 1);
		first = 0;
		wire_buf_add(b, m.key.p, m.key.len);
		wire_buf_add(b, ":", 1);
		if (set != -1)
			wire_buf_add(b, e[set].text, e[set].len);
		else if (deeper != 0 && *m.value.p == '{') {
			if (wire_object(b, m.value.p, m.value.len, e, n,
			    deeper, depth + 1, done) != 0)
				return (-1);
		} else if (deeper != 0 && wire_sets(e, n, deeper))
			return (-1);	/* a member cannot go in a non-object */
		else {
			/* Nothing inside a non-object to delete. */
			*done |= deeper;
			wire_buf_add(b, m.value.p, m.value.len);
		}
	}
	if (r != 0)
		return (-1);

	/* What the object did not have is added at its end. */
	for (i = 0; i < n; i++) {
		if (!(active & (1u << i)) || (*done & (1u << i)) ||
		    e[i].op != WIRE_SET)
			continue;
		key = e[i].path[depth];
		group = 0;
		for (j = i; j < n; j++) {
			if ((active & (1u << j)) && !(*done & (1u << j)) &&
			    e[j].op == WIRE_SET &&
			    strcmp(e[j].path[depth], key) == 0)
				group |= 1u << j;
		}
		if (!first)
			wire_buf_add(b, ",", 1);
		first = 0;
		wire_buf_key(b, key);
		if (e[i].path[depth + 1] == NULL) {
			wire_buf_add(b, e[i].text, e[i].len);
			*done |= 1u << i;
		} else
			wire_object(b, "{}", 2, e, n, group, depth + 1, done);
	}
	wire_buf_add(b, "}", 1);
	return (0);
}

/*
 * The JSON object text at obj with edits done to it, as text: a member
 * deleted, or its value set (a member set that is missing is added at the
 * end of its object, and so are the objects on its path). Everything else
 * is copied byte for byte, members in their order, whitespace between
 * members aside. Allocated and NUL-terminated, with a '\n' before the NUL
 * when newline is set; *lenp gets its length. NULL if obj is not an
 * object, or if a value is to be set inside a member on its path that is
 * not an object (replacing it would lose the peer's bytes).
 */
char *
wire_rewrite(const char *obj, size_t len, const struct wire_edit *e,
    size_t n, int newline, size_t *lenp)
{
	struct wire_buf	b = { NULL, 0, 0 };
	unsigned	done = 0;

	if (n > WIRE_EDITS_MAX)
		return (NULL);
	b.size = len + 64;
	b.p = xmalloc(b.size);
	if (wire_object(&b, obj, len, e, n, (1u << n) - 1, 0, &done) != 0) {
		free(b.p);
		return (NULL);
	}
	if (newline)
		wire_buf_add(&b, "\n", 1);
	b.p[b.len] = '\0';
	*lenp = b.len;
	return (b.p);
}

/*
 * A message (its object text) routed to a session: params.server and
 * params.thread set to server and thread (JSON texts), as a front end
 * that serves one key does to what its client sends. As wire_rewrite():
 * NULL if params is there but not an object.
 */
char *
wire_route(const char *obj, size_t len, const char *server,
    const char *thread, int newline, size_t *lenp)
{
	struct wire_edit	 e[2] = {
		{ WIRE_SET, { "params", "server", NULL }, server, 0 },
		{ WIRE_SET, { "params", "thread", NULL }, thread, 0 },
	};

	e[0].len = strlen(server);
	e[1].len = strlen(thread);
	return (wire_rewrite(obj, len, e, 2, newline, lenp));
}

/*
 * The string at path in a request's tail (its text after the id, as
 * wire_request_tail() writes it), decoded into buf, cut to fit; "?" if
 * it is not there or not a string.
 */
void
wire_tail_string(const char *tail, size_t tail_len, const char *const *path,
    char *buf, size_t size)
{
	struct scan_member	 m;
	char			*text;
	size_t			 n, len;

	snprintf(buf, size, "?");
	if (tail == NULL || tail_len < 2)
		return;
	/* Made an object again under a dummy id. */
	len = (size_t)xasprintf(&text, "{\"id\":0%.*s", (int)tail_len, tail);
	while (len > 0 && text[len - 1] == '\n')
		len--;
	if (scan_path(text, len, path, &m) == 0 && m.value.len >= 2 &&
	    m.value.p[0] == '"') {
		scan_string_decode(m.value.p, m.value.len, buf, size - 1, &n);
		buf[n < size - 1 ? n : size - 1] = '\0';
	}
	free(text);
}

/*
 * Make the JSON text at p one line, in place: a newline or carriage
 * return between tokens (JSON's whitespace) becomes a space, so nothing
 * changes for a reader but where the line ends. One inside a string is
 * left for the strict parser to refuse. Returns how many were replaced.
 */
size_t
wire_one_line(char *p, size_t len)
{
	size_t	i, n = 0;
	int	in_string = 0, escaped = 0;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (escaped)
				escaped = 0;
			else if (p[i] == '\\')
				escaped = 1;
			else if (p[i] == '"')
				in_string = 0;
		} else if (p[i] == '"')
			in_string = 1;
		else if (p[i] == '\n' || p[i] == '\r') {
			p[i] = ' ';
			n++;
		}
	}
	return (n);
}
