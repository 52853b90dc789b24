/*
 * Validating scan of a JSON-RPC success response (RFC 8259 grammar).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "xmalloc.h"

/*
 * The first SCAN_SHORT bytes of a string are scanned eight at a time in
 * plain code; what is longer goes on with memchr.
 */
#define SCAN_SHORT	64

struct scan {
	const char	*p;
	const char	*end;
	int		 max_depth;
	int		 lone_ok;	/* take lone surrogate escapes */
	int		 lone;		/* and one was seen */
};

static void	scan_ws(struct scan *);
static int	scan_has_control(const unsigned char *, size_t);
static uint64_t	scan_special8(uint64_t);
static long	scan_hex4(const unsigned char *, const unsigned char *);
static int	scan_string(struct scan *);
static int	scan_number(struct scan *);
static int	scan_literal(struct scan *, const char *, size_t);
static int	scan_value(struct scan *, int);
static int	scan_object(struct scan *, int, int *);
static int	scan_array(struct scan *, int);
static int	scan_key_is(const char *, const char *, const char *);

/* Skip JSON whitespace. */
static void
scan_ws(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' ||
	    *sc->p == '\r' || *sc->p == '\n'))
		sc->p++;
}

/*
 * Nonzero if any of the eight bytes in x is a quote, a backslash or a
 * control character: a byte b equals c exactly when b ^ c is zero, and a
 * zero byte borrows into its top bit when one is taken from it.
 */
static uint64_t
scan_special8(uint64_t x)
{
	const uint64_t	ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t	q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return ((((q - ones) & ~q) | ((b - ones) & ~b) |
	    ((x - ones * 0x20) & ~x)) & high);
}

/*
 * Whether any of the len bytes at p is a control character (< 0x20),
 * which JSON strings may not hold raw. Eight bytes a step: a byte b is
 * below 0x20 exactly when (b - 0x20) borrows into its top bit while b's
 * own top bit is clear.
 */
static int
scan_has_control(const unsigned char *p, size_t len)
{
	const uint64_t	ones = 0x0101010101010101ULL;
	uint64_t	x, hit = 0;
	size_t		i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&x, p + i, 8);
		hit |= (x - ones * 0x20) & ~x & (ones * 0x80);
	}
	for (; i < len; i++)
		hit |= p[i] < 0x20;
	return (hit != 0);
}

/* The value of four hex digits at p, or -1. */
static long
scan_hex4(const unsigned char *p, const unsigned char *end)
{
	long	v = 0;
	int	i;

	if (end - p < 4)
		return (-1);
	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= p[i] - 'A' + 10;
		else
			return (-1);
	}
	return (v);
}

/*
 * A string, from its opening quote. The run up to the next quote is
 * found with memchr and checked for escapes and control characters in a
 * loop the compiler vectorises: a megabyte of text costs microseconds.
 */
static int
scan_string(struct scan *sc)
{
	const unsigned char	*p, *q, *e, *end = (const unsigned char *)sc->end;
	uint64_t		 x;
	long			 code, low;
	int			 n;

	if (sc->p >= sc->end || *sc->p != '"')
		return (-1);
	/*
	 * Most strings are short (keys, names): eight bytes a step up to the
	 * first that needs a look, then that one byte by byte.
	 */
	p = (const unsigned char *)sc->p + 1;
	for (n = 0; end - p >= 8 && n < SCAN_SHORT; p += 8, n += 8) {
		memcpy(&x, p, 8);
		if (scan_special8(x))
			break;
	}
	for (n = 0; p < end && n < 8; p++, n++) {
		if (*p == '"') {
			sc->p = (const char *)p + 1;
			return (0);
		}
		if (*p == '\\' || *p < 0x20)
			break;
	}
	if (p < end && *p < 0x20)
		return (-1);
	q = NULL;
	for (;;) {
		/* Look for the next quote only once past the last one found:
		   searching again after every escape would be quadratic. */
		if ((q == NULL || p > q) &&
		    (q = memchr(p, '"', (size_t)(end - p))) == NULL)
			return (-1);
		if ((e = memchr(p, '\\', (size_t)(q - p))) == NULL)
			e = q;
		if (scan_has_control(p, (size_t)(e - p)))
			return (-1);
		p = e;
		if (p == q) {
			sc->p = (const char *)q + 1;
			return (0);
		}
		/* An escape: check it, then go on after it. */
		if (++p >= end)
			return (-1);
		switch (*p) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			p++;
			break;
		case 'u':
			/* As cJSON: a high surrogate must be followed by a
			   low one, and a low one never stands alone. */
			if ((code = scan_hex4(p + 1, end)) == -1)
				return (-1);
			p += 5;
			if (code >= 0xd800 && code <= 0xdbff && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    (low = scan_hex4(p + 2, end)) >= 0xdc00 &&
			    low <= 0xdfff)
				p += 6;
			else if (code >= 0xd800 && code <= 0xdfff) {
				if (!sc->lone_ok)
					return (-1);
				sc->lone = 1;
			}
			break;
		default:
			return (-1);
		}
	}
}

/* A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number(struct scan *sc)
{
	const char	*p = sc->p, *end = sc->end;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else
		return (-1);
	if (p < end && *p == '.') {
		if (++p >= end || *p < '0' || *p > '9')
			return (-1);
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return (-1);
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	sc->p = p;
	return (0);
}

/* true, false or null. */
static int
scan_literal(struct scan *sc, const char *word, size_t len)
{
	if ((size_t)(sc->end - sc->p) < len || memcmp(sc->p, word, len) != 0)
		return (-1);
	sc->p += len;
	return (0);
}

/* Any value, at nesting depth. */
static int
scan_value(struct scan *sc, int depth)
{
	if (sc->p >= sc->end)
		return (-1);
	switch (*sc->p) {
	case '"':
		return (scan_string(sc));
	case '{':
		return (scan_object(sc, depth + 1, NULL));
	case '[':
		return (scan_array(sc, depth + 1));
	case 't':
		return (scan_literal(sc, "true", 4));
	case 'f':
		return (scan_literal(sc, "false", 5));
	case 'n':
		return (scan_literal(sc, "null", 4));
	default:
		return (scan_number(sc));
	}
}

/* Whether the key text between start and end (quotes included) is key. */
static int
scan_key_is(const char *start, const char *end, const char *key)
{
	size_t	len = strlen(key);

	return ((size_t)(end - start) == len + 2 &&
	    memcmp(start + 1, key, len) == 0);
}

/*
 * An object, from its '{'. With plain (the result object), also say
 * whether its own members are plain: each key written without escapes,
 * none repeated, none "_meta", at most SCAN_MAX_KEYS of them. Only then
 * may the broker splice its _meta in as text.
 */
static int
scan_object(struct scan *sc, int depth, int *plain)
{
	const char	*key[SCAN_MAX_KEYS], *start;
	size_t		 klen[SCAN_MAX_KEYS], n = 0, i, j;

	if (depth > sc->max_depth)
		return (-1);
	sc->p++;
	scan_ws(sc);
	if (sc->p < sc->end && *sc->p == '}') {
		sc->p++;
		return (0);
	}
	for (;;) {
		if (sc->p >= sc->end || *sc->p != '"')
			return (-1);
		start = sc->p;
		if (scan_string(sc) != 0)
			return (-1);
		if (plain != NULL && n < SCAN_MAX_KEYS) {
			key[n] = start;
			klen[n] = (size_t)(sc->p - start);
			if (memchr(start, '\\', klen[n]) != NULL ||
			    scan_key_is(start, sc->p, "_meta"))
				*plain = 0;
			n++;
		} else if (plain != NULL)
			*plain = 0;
		scan_ws(sc);
		if (sc->p >= sc->end || *sc->p++ != ':')
			return (-1);
		scan_ws(sc);
		if (scan_value(sc, depth) != 0)
			return (-1);
		scan_ws(sc);
		if (sc->p >= sc->end)
			return (-1);
		if (*sc->p == '}') {
			sc->p++;
			break;
		}
		if (*sc->p++ != ',')
			return (-1);
		scan_ws(sc);
	}
	if (plain != NULL && *plain) {
		for (i = 0; i < n; i++) {
			for (j = i + 1; j < n; j++) {
				if (klen[i] == klen[j] &&
				    memcmp(key[i], key[j], klen[i]) == 0)
					*plain = 0;
			}
		}
	}
	return (0);
}

/* An array, from its '['. */
static int
scan_array(struct scan *sc, int depth)
{
	if (depth > sc->max_depth)
		return (-1);
	sc->p++;
	scan_ws(sc);
	if (sc->p < sc->end && *sc->p == ']') {
		sc->p++;
		return (0);
	}
	for (;;) {
		if (scan_value(sc, depth) != 0)
			return (-1);
		scan_ws(sc);
		if (sc->p >= sc->end)
			return (-1);
		if (*sc->p == ']') {
			sc->p++;
			return (0);
		}
		if (*sc->p++ != ',')
			return (-1);
		scan_ws(sc);
	}
}

/*
 * Scan data as {"jsonrpc":"2.0","id":<integer of at most 15 digits>,
 * "result":{...}} with no "_meta" in the result. Returns 0 with r filled
 * in, or -1: not that shape, or not strict JSON (use jsonrpc_parse).
 */
int
scan_result(const char *data, size_t len, struct scan_result *r)
{
	struct scan	 sc = { data, data + len, SCAN_MAX_DEPTH, 0, 0 };
	const char	*key, *value, *inner;
	int		 seen_version = 0, seen_id = 0, seen_result = 0;
	int		 plain = 1, negative, digits;

	scan_ws(&sc);
	if (sc.p >= sc.end || *sc.p != '{')
		return (-1);
	sc.p++;
	scan_ws(&sc);
	for (;;) {
		if (sc.p >= sc.end || *sc.p != '"')
			return (-1);
		key = sc.p;
		if (scan_string(&sc) != 0)
			return (-1);
		inner = sc.p;
		scan_ws(&sc);
		if (sc.p >= sc.end || *sc.p++ != ':')
			return (-1);
		scan_ws(&sc);
		value = sc.p;
		if (scan_key_is(key, inner, "jsonrpc") && !seen_version) {
			seen_version = 1;
			if (scan_string(&sc) != 0 || sc.p - value != 5 ||
			    memcmp(value, "\"2.0\"", 5) != 0)
				return (-1);
		} else if (scan_key_is(key, inner, "id") && !seen_id) {
			seen_id = 1;
			negative = value < sc.end && *value == '-';
			if (scan_number(&sc) != 0)
				return (-1);
			r->id = 0;
			digits = 0;
			for (value += negative; value < sc.p; value++) {
				if (*value < '0' || *value > '9' ||
				    ++digits > 15)
					return (-1);
				r->id = r->id * 10 + (*value - '0');
			}
			if (negative)
				r->id = -r->id;
		} else if (scan_key_is(key, inner, "result") && !seen_result) {
			seen_result = 1;
			if (value >= sc.end || *value != '{' ||
			    scan_object(&sc, 1, &plain) != 0 ||
			    !plain)
				return (-1);
			r->body = value + 1;
			r->body_len = (size_t)(sc.p - 1 - r->body);
			while (r->body_len > 0 && (*r->body == ' ' ||
			    *r->body == '\t' || *r->body == '\r' ||
			    *r->body == '\n')) {
				r->body++;
				r->body_len--;
			}
		} else
			return (-1);
		scan_ws(&sc);
		if (sc.p >= sc.end)
			return (-1);
		if (*sc.p == '}') {
			sc.p++;
			break;
		}
		if (*sc.p++ != ',')
			return (-1);
		scan_ws(&sc);
	}
	scan_ws(&sc);
	if (sc.p != sc.end || !seen_version || !seen_id || !seen_result)
		return (-1);
	return (0);
}

/*
 * Scan data as {"jsonrpc":"2.0","id":<integer of at most 15 digits, or
 * a string without escapes>,"method":<string without escapes>,"params":
 * {...}} whose params members have plain, unrepeated keys, string server
 * and thread values without escapes, and no timeout_ms or _meta (those
 * need rewriting). Returns 0 with r filled in (pointers into data), or
 * -1: leave it to jsonrpc_parse and route_parse.
 */
int
scan_request(const char *data, size_t len, struct scan_request *r)
{
	struct scan	 sc = { data, data + len, SCAN_MAX_DEPTH, 0, 0 };
	const char	*key, *inner, *value, *mkey, *minner;
	size_t		 klen[SCAN_MAX_KEYS], i, j;
	int		 seen_version = 0, seen_id = 0, seen_method = 0;
	int		 seen_params = 0;

	memset(r, 0, sizeof *r);
	scan_ws(&sc);
	if (sc.p >= sc.end || *sc.p != '{')
		return (-1);
	sc.p++;
	scan_ws(&sc);
	for (;;) {
		key = sc.p;
		if (scan_string(&sc) != 0)
			return (-1);
		inner = sc.p;
		scan_ws(&sc);
		if (sc.p >= sc.end || *sc.p++ != ':')
			return (-1);
		scan_ws(&sc);
		value = sc.p;
		if (scan_key_is(key, inner, "jsonrpc") && !seen_version) {
			seen_version = 1;
			if (scan_string(&sc) != 0 || sc.p - value != 5 ||
			    memcmp(value, "\"2.0\"", 5) != 0)
				return (-1);
		} else if (scan_key_is(key, inner, "id") && !seen_id) {
			seen_id = 1;
			if (value < sc.end && *value == '"') {
				if (scan_string(&sc) != 0 || memchr(value, '\\',
				    (size_t)(sc.p - value)) != NULL ||
				    sc.p - value > SCAN_MAX_ID + 2)
					return (-1);
			} else {
				if (scan_number(&sc) != 0 || sc.p - value > 15 ||
				    memchr(value, '.', (size_t)(sc.p - value)) ||
				    memchr(value, 'e', (size_t)(sc.p - value)) ||
				    memchr(value, 'E', (size_t)(sc.p - value)))
					return (-1);
			}
			r->id = value;
			r->id_len = (size_t)(sc.p - value);
		} else if (scan_key_is(key, inner, "method") && !seen_method) {
			seen_method = 1;
			if (scan_string(&sc) != 0 || sc.p - value < 3 ||
			    memchr(value, '\\', (size_t)(sc.p - value)) != NULL ||
			    (sc.p - value > 8 && memcmp(value + 1, "broker/",
			    7) == 0))
				return (-1);
			r->method = value;
			r->method_len = (size_t)(sc.p - value);
		} else if (scan_key_is(key, inner, "params") && !seen_params) {
			seen_params = 1;
			if (value >= sc.end || *value != '{')
				return (-1);
			sc.p++;
			scan_ws(&sc);
			while (sc.p < sc.end && *sc.p != '}') {
				if (r->nmembers == SCAN_MAX_KEYS)
					return (-1);
				mkey = sc.p;
				if (scan_string(&sc) != 0)
					return (-1);
				minner = sc.p;
				if (memchr(mkey, '\\', (size_t)(minner - mkey)))
					return (-1);
				scan_ws(&sc);
				if (sc.p >= sc.end || *sc.p++ != ':')
					return (-1);
				scan_ws(&sc);
				value = sc.p;
				if (scan_value(&sc, 1) != 0)
					return (-1);
				if (scan_key_is(mkey, minner, "timeout_ms") ||
				    scan_key_is(mkey, minner, "_meta"))
					return (-1);
				if (scan_key_is(mkey, minner, "server") ||
				    scan_key_is(mkey, minner, "thread")) {
					if (*value != '"' || memchr(value, '\\',
					    (size_t)(sc.p - value)) != NULL)
						return (-1);
					if (mkey[1] == 's') {
						r->server = value + 1;
						r->server_len = (size_t)(sc.p -
						    value - 2);
					} else {
						r->thread = value + 1;
						r->thread_len = (size_t)(sc.p -
						    value - 2);
					}
				} else {
					r->member[r->nmembers] = mkey;
					r->member_len[r->nmembers] =
					    (size_t)(sc.p - mkey);
				}
				klen[r->nmembers] = (size_t)(minner - mkey);
				r->key[r->nmembers++] = mkey;
				scan_ws(&sc);
				if (sc.p < sc.end && *sc.p == ',') {
					sc.p++;
					scan_ws(&sc);
					if (sc.p < sc.end && *sc.p == '}')
						return (-1);
				} else if (sc.p >= sc.end || *sc.p != '}')
					return (-1);
			}
			if (sc.p >= sc.end)
				return (-1);
			sc.p++;
		} else
			return (-1);
		scan_ws(&sc);
		if (sc.p >= sc.end)
			return (-1);
		if (*sc.p == '}') {
			sc.p++;
			break;
		}
		if (*sc.p++ != ',')
			return (-1);
		scan_ws(&sc);
	}
	scan_ws(&sc);
	if (sc.p != sc.end || !seen_version || !seen_id || !seen_method ||
	    !seen_params || r->server == NULL || r->thread == NULL)
		return (-1);
	for (i = 0; i < r->nmembers; i++) {
		for (j = i + 1; j < r->nmembers; j++) {
			if (klen[i] == klen[j] &&
			    memcmp(r->key[i], r->key[j], klen[i]) == 0)
				return (-1);
		}
	}
	return (0);
}

/*
 * The scanned request's id as a tree the caller owns, printing exactly as
 * the client wrote it: a string, an int, or else the raw text ("-0", a
 * number beyond int).
 */
cJSON *
scan_request_id(const struct scan_request *r)
{
	char		 text[SCAN_MAX_ID + 3];
	long long	 n = 0;
	size_t		 i;

	/* scan_request() let through a string of at most SCAN_MAX_ID bytes
	   without escapes, or an integer of at most 15 characters. */
	memcpy(text, r->id, r->id_len);
	text[r->id_len] = '\0';
	if (*text == '"') {
		text[r->id_len - 1] = '\0';
		return (cJSON_CreateString(text + 1));
	}
	for (i = *text == '-'; i < r->id_len; i++)
		n = n * 10 + (text[i] - '0');
	if (*text == '-')
		n = -n;
	if (n <= INT_MAX && n >= INT_MIN && strcmp(text, "-0") != 0)
		return (cJSON_CreateNumber((double)n));
	return (cJSON_CreateRaw(text));
}

/*
 * Scan a whole line as one strict JSON value (RFC 8259: no other
 * whitespace than space, tab, CR and LF, so a raw NUL or other control
 * byte anywhere outside a string is an error, as it is inside one). If the
 * value is an object, its top-level "id" member goes to *id once its value
 * is scanned, when it is a string or a number and no other "id" came
 * before: a refusal can still name it if the line breaks after it.
 * *lone is set if a string holds a lone surrogate escape (the grammar
 * allows it; the broker never takes one). Returns 0 or -1.
 */
int
scan_line(const char *data, size_t len, struct scan_span *id, int *lone)
{
	struct scan	 sc = { data, data + len, SCAN_LINE_MAX_DEPTH, 1, 0 };
	struct scan_span key;
	const char	*value, *end;
	int		 ids = 0, rc = -1;

	id->p = NULL;
	id->len = 0;
	*lone = 0;
	scan_ws(&sc);
	if (sc.p >= sc.end)
		return (-1);
	if (*sc.p != '{') {
		if (scan_value(&sc, 0) != 0)
			goto out;
		goto tail;
	}
	sc.p++;
	scan_ws(&sc);
	if (sc.p < sc.end && *sc.p == '}') {
		sc.p++;
		goto tail;
	}
	for (;;) {
		key.p = sc.p;
		if (sc.p >= sc.end || *sc.p != '"' || scan_string(&sc) != 0)
			goto out;
		key.len = (size_t)(sc.p - key.p);
		scan_ws(&sc);
		if (sc.p >= sc.end || *sc.p++ != ':')
			goto out;
		scan_ws(&sc);
		value = sc.p;
		if (scan_value(&sc, 1) != 0)
			goto out;
		end = sc.p;
		scan_ws(&sc);
		/* The id is read once what follows it shows where it ends
		   ("01" is no 0). */
		if (sc.p >= sc.end || (*sc.p != ',' && *sc.p != '}'))
			goto out;
		if (scan_key_equal(&key, "id") && ids++ == 0 &&
		    (*value == '"' || *value == '-' ||
		    (*value >= '0' && *value <= '9'))) {
			id->p = value;
			id->len = (size_t)(end - value);
		} else if (scan_key_equal(&key, "id")) {
			/* Two ids: which one is meant is anyone's guess. */
			id->p = NULL;
			id->len = 0;
		}
		if (*sc.p == '}') {
			sc.p++;
			break;
		}
		if (*sc.p++ != ',')
			goto out;
		scan_ws(&sc);
	}
tail:
	scan_ws(&sc);
	if (sc.p == sc.end)
		rc = 0;
out:
	*lone = sc.lone;
	return (rc);
}

/* Begin walking the members of the object text (valid JSON) at data. */
int
scan_iter_start(struct scan_iter *it, const char *data, size_t len)
{
	struct scan	sc = { data, data + len, SCAN_LINE_MAX_DEPTH, 1, 0 };

	scan_ws(&sc);
	if (sc.p >= sc.end || *sc.p != '{')
		return (-1);
	it->p = sc.p + 1;
	it->end = sc.end;
	it->started = 0;
	return (0);
}

/*
 * The next member of the object being walked: 1 with m filled in, 0 past
 * the last one, -1 if the text is not a JSON object after all.
 */
int
scan_iter_next(struct scan_iter *it, struct scan_member *m)
{
	struct scan	sc = { it->p, it->end, SCAN_LINE_MAX_DEPTH, 1, 0 };

	scan_ws(&sc);
	if (sc.p >= sc.end)
		return (-1);
	if (*sc.p == '}') {
		it->p = sc.p + 1;
		return (0);
	}
	if (it->started) {
		if (*sc.p++ != ',')
			return (-1);
		scan_ws(&sc);
	}
	it->started = 1;
	m->key.p = sc.p;
	if (sc.p >= sc.end || *sc.p != '"' || scan_string(&sc) != 0)
		return (-1);
	m->key.len = (size_t)(sc.p - m->key.p);
	scan_ws(&sc);
	if (sc.p >= sc.end || *sc.p++ != ':')
		return (-1);
	scan_ws(&sc);
	m->value.p = sc.p;
	if (scan_value(&sc, 1) != 0)
		return (-1);
	m->value.len = (size_t)(sc.p - m->value.p);
	it->p = sc.p;
	return (1);
}

/* The member of the object text at data whose key decodes to key. */
int
scan_find(const char *data, size_t len, const char *key,
    struct scan_member *m)
{
	struct scan_iter	it;

	if (scan_iter_start(&it, data, len) != 0)
		return (-1);
	while (scan_iter_next(&it, m) == 1) {
		if (scan_key_equal(&m->key, key))
			return (0);
	}
	return (-1);
}

/*
 * The member at path (keys, NULL-terminated) from the object text at
 * data: {"params", "_meta", "progressToken", NULL}. Returns 0 or -1.
 */
int
scan_path(const char *data, size_t len, const char *const *path,
    struct scan_member *m)
{
	for (; *path != NULL; path++) {
		if (scan_find(data, len, *path, m) != 0)
			return (-1);
		data = m->value.p;
		len = m->value.len;
	}
	return (0);
}

/* Put code point c as UTF-8 at out (room permitting); returns its size. */
static size_t
scan_put_utf8(char *out, size_t room, long c)
{
	unsigned char	b[4];
	size_t		n, i;

	if (c < 0x80) {
		b[0] = (unsigned char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (unsigned char)(0xc0 | (c >> 6));
		b[1] = (unsigned char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (c >> 12));
		b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (c >> 18));
		b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (c & 0x3f));
		n = 4;
	}
	for (i = 0; i < n && i < room; i++)
		out[i] = (char)b[i];
	return (n);
}

/*
 * Decode the JSON string text (valid, quotes included) at data into out,
 * at most size bytes of it: escapes become what they stand for, a NUL
 * included. *lenp gets the whole decoded length, even past size. Returns
 * SCAN_DECODE_LONE if a lone surrogate escape was in it (it is decoded
 * as the three bytes UTF-8 would give it, which are not valid UTF-8), or
 * 0.
 */
int
scan_string_decode(const char *data, size_t len, char *out, size_t size,
    size_t *lenp)
{
	const unsigned char	*p = (const unsigned char *)data + 1;
	const unsigned char	*end = (const unsigned char *)data + len - 1;
	size_t			 n = 0, k;
	long			 c, low;
	int			 rc = 0;

	while (p < end) {
		if (*p != '\\') {
			if (n < size)
				out[n] = (char)*p;
			n++;
			p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			c = scan_hex4(p + 1, end);
			p += 4;
			if (c >= 0xd800 && c <= 0xdbff && end - p >= 7 &&
			    p[1] == '\\' && p[2] == 'u' &&
			    (low = scan_hex4(p + 3, end)) >= 0xdc00 &&
			    low <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (low - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c <= 0xdfff)
				rc = SCAN_DECODE_LONE;
			break;
		default:
			c = *p;	/* '"', '\\' or '/' */
			break;
		}
		p++;
		k = scan_put_utf8(n < size ? out + n : out, n < size ?
		    size - n : 0, c);
		n += k;
	}
	*lenp = n;
	return (rc);
}

/*
 * Whether the key text k (a JSON string, quotes included) decodes to
 * key. Keys written plainly cost a memcmp.
 */
int
scan_key_equal(const struct scan_span *k, const char *key)
{
	char	buf[64];
	size_t	len = strlen(key), n;

	if (memchr(k->p, '\\', k->len) == NULL)
		return (k->len == len + 2 && memcmp(k->p + 1, key, len) == 0);
	if (len > sizeof buf)
		return (0);
	scan_string_decode(k->p, k->len, buf, sizeof buf, &n);
	return (n == len && memcmp(buf, key, len) == 0);
}

/*
 * Whether two request ids (JSON texts, valid) are the same id: strings
 * by the text they decode to, numbers by their exact text (1 and 1.0 are
 * different ids), a string never equal to a number.
 */
int
scan_id_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	char	*da, *db;
	size_t	 na, nb;
	int	 equal;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return (1);
	if (alen == 0 || blen == 0 || *a != '"' || *b != '"')
		return (0);
	da = xmalloc(alen);
	db = xmalloc(blen);
	scan_string_decode(a, alen, da, alen, &na);
	scan_string_decode(b, blen, db, blen, &nb);
	equal = na == nb && memcmp(da, db, na) == 0;
	free(da);
	free(db);
	return (equal);
}
