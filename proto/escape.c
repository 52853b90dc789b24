/*
 * Escaping text from clients and children for logs and terminals.
 */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "xmalloc.h"

static size_t	escape_sequence(const unsigned char *, size_t);

/*
 * The length of the valid UTF-8 sequence at s (at most len bytes), or 0
 * if the bytes there are not one: overlong forms, surrogates, code points
 * over U+10FFFF and cut sequences are not valid.
 */
static size_t
escape_sequence(const unsigned char *s, size_t len)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (len < n || s[1] < lo || s[1] > hi)
		return (0);
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return (0);
	}
	return (n);
}

/*
 * Escape len bytes of s into buf (size bytes, NUL-terminated whenever
 * size > 0). Stops before an escape or a character that would not fit
 * whole, so the result is never cut inside one. Returns the bytes
 * written, without the NUL.
 */
size_t
escape_text(char *buf, size_t size, const char *s, size_t len, int flags)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 in = 0, out = 0, n, i;
	char			 esc[ESCAPE_MAX(4) + 1];
	const char		*from;

	if (size == 0)
		return (0);
	while (in < len) {
		n = 1;
		from = (const char *)p + in;
		if (p[in] < 0x80) {
			if ((p[in] == '\n' || p[in] == '\t') &&
			    (flags & ESCAPE_KEEP_NEWLINES))
				;
			else if (p[in] < 0x20 || p[in] == 0x7f) {
				snprintf(esc, sizeof esc, "\\x%02x", p[in]);
				from = esc;
			} else if (p[in] == '\\' && (flags & ESCAPE_BACKSLASH))
				from = "\\\\";
		} else if ((n = escape_sequence(p + in, len - in)) == 0) {
			/* Not UTF-8: this byte alone, then resynchronise. */
			n = 1;
			snprintf(esc, sizeof esc, "\\x%02x", p[in]);
			from = esc;
		} else if (n == 2 && p[in] == 0xc2 && p[in + 1] <= 0x9f) {
			/* A C1 control (CSI is U+009B) in UTF-8. */
			snprintf(esc, sizeof esc, "\\x%02x\\x%02x", p[in],
			    p[in + 1]);
			from = esc;
		}
		i = from == (const char *)p + in ? n : strlen(from);
		if (out + i >= size)
			break;
		memcpy(buf + out, from, i);
		out += i;
		in += n;
	}
	buf[out] = '\0';
	return (out);
}

/* Escape len bytes of s into a new string (caller frees). */
char *
escape_dup(const char *s, size_t len, int flags)
{
	char	*buf;
	size_t	 size = ESCAPE_MAX(len) + 1;

	buf = xmalloc(size);
	escape_text(buf, size, s, len, flags);
	return (buf);
}

/*
 * JSON text (as cJSON prints it: C0 controls already escaped) made safe
 * for a terminal; the caller frees it. Outside strings JSON is ASCII, so
 * every byte changed is inside a string and the result means the same,
 * except that bytes that are not UTF-8 become U+FFFD.
 */
char *
escape_json(const char *text)
{
	const unsigned char	*p = (const unsigned char *)text;
	size_t			 len = strlen(text), in = 0, out = 0, n;
	char			*buf;

	/* Each byte gives at most the six of "\u00XX". */
	buf = xmalloc(len * 6 + 1);
	while (in < len) {
		if (p[in] < 0x80 && p[in] != 0x7f) {
			buf[out++] = (char)p[in++];
			continue;
		}
		if (p[in] == 0x7f) {
			out += (size_t)sprintf(buf + out, "\\u007f");
			in++;
		} else if ((n = escape_sequence(p + in, len - in)) == 0) {
			out += (size_t)sprintf(buf + out, "\\ufffd");
			in++;
		} else if (n == 2 && p[in] == 0xc2 && p[in + 1] <= 0x9f) {
			out += (size_t)sprintf(buf + out, "\\u00%02x",
			    p[in + 1]);
			in += 2;
		} else {
			memcpy(buf + out, p + in, n);
			out += n;
			in += n;
		}
	}
	buf[out] = '\0';
	return (buf);
}

/*
 * len bytes of s as a new string (caller frees) that is valid UTF-8:
 * each byte that is not part of a valid sequence, and each NUL, becomes
 * U+FFFD; everything else, control characters included, is kept.
 */
char *
escape_utf8(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 in = 0, out = 0, n;
	char			*buf;

	/* Each byte gives at most the three of U+FFFD. */
	buf = xmalloc(len * 3 + 1);
	while (in < len) {
		if (p[in] != 0 && p[in] < 0x80)
			n = 1;
		else if (p[in] == 0 ||
		    (n = escape_sequence(p + in, len - in)) == 0) {
			memcpy(buf + out, "\xef\xbf\xbd", 3);
			out += 3;
			in++;
			continue;
		}
		memcpy(buf + out, p + in, n);
		out += n;
		in += n;
	}
	buf[out] = '\0';
	return (buf);
}

/* Whether len bytes of s are valid UTF-8 (NUL and controls included). */
int
escape_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if (p[i] < 0x80)
			n = 1;
		else if ((n = escape_sequence(p + i, len - i)) == 0)
			return (0);
		i += n;
	}
	return (1);
}
