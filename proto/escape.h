/*
 * Text that came from a client or a child, made safe for a log line or a
 * terminal: control characters (C0, DEL and the C1 range U+0080-U+009F)
 * and bytes that are not valid UTF-8 become "\xNN", one per byte; valid
 * UTF-8 otherwise passes unchanged. With ESCAPE_BACKSLASH a backslash
 * becomes "\\", so that the escaped text reads back unambiguously.
 *
 * escape_json() makes printed JSON text safe the same way while keeping
 * it the same JSON: DEL and C1 controls in strings become \u escapes, and
 * bytes that are not UTF-8 (which JSON cannot hold) U+FFFD.
 *
 * escape_utf8() keeps text as it is but for what a JSON string built from
 * it could not carry: bytes that are not UTF-8 and NUL become U+FFFD.
 */
#ifndef PROTO_ESCAPE_H
#define PROTO_ESCAPE_H

#include <stddef.h>

/* Flags of escape_text(). */
#define ESCAPE_BACKSLASH	0x1	/* '\' as "\\" (logs) */
#define ESCAPE_KEEP_NEWLINES	0x2	/* keep '\n' and '\t' (free text) */

/* The most bytes escaping len bytes can give, without the NUL. */
#define ESCAPE_MAX(len)		((len) * 4)

size_t	 escape_text(char *, size_t, const char *, size_t, int);
char	*escape_dup(const char *, size_t, int);
char	*escape_json(const char *);
char	*escape_utf8(const char *, size_t);
int	 escape_utf8_valid(const char *, size_t);

#endif
