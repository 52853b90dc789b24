/*
 * What both fuzz targets share: the input is fed to a struct frame in two
 * or three chunks (cut where its first bytes say), each line is checked
 * against a plain split of the whole input, and a parsed message must
 * survive being written back as one line.
 *
 * Header-only (static functions) because the Makefile builds each target
 * from its one .c file plus the modules under test.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <event2/buffer.h>

#include "frame.h"
#include "jsonrpc.h"
#include "scan.h"
#include "wire.h"
#include "xmalloc.h"

/* A broken invariant: abort, so libFuzzer saves the input. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* Called with each line, in an exactly sized copy (no NUL after it). */
typedef void	fuzz_line_fn(const char *, size_t, void *);

/* Where the plain split of the whole input has got to. */
struct fuzz_ref {
	const uint8_t	*data;
	size_t		 size;
	size_t		 pos;
	size_t		 max;
};

static enum frame_status fuzz_ref_next(struct fuzz_ref *, const uint8_t **,
		    size_t *);
static void	fuzz_feed(const uint8_t *, size_t, size_t, fuzz_line_fn *,
		    void *);
static char	*fuzz_print(const cJSON *);
static void	fuzz_check_id(const char *, size_t, const char *, size_t);
static void	fuzz_check_numbers(const char *, size_t,
		    const struct scan_span *, size_t, const char *, size_t);
static void	fuzz_check_rewrite(const struct jsonrpc_msg *);

/*
 * The next line as proto/PROTOCOL.md ("Framing") defines it, read from the
 * whole input at once: empty lines skipped, one trailing '\r' dropped, and
 * a line (or an unfinished tail) longer than max refused.
 */
static enum frame_status
fuzz_ref_next(struct fuzz_ref *r, const uint8_t **line, size_t *len)
{
	const uint8_t	*p, *nl;
	size_t		 n;

	while (r->pos < r->size) {
		p = r->data + r->pos;
		n = r->size - r->pos;
		if ((nl = memchr(p, '\n', n)) == NULL) {
			if (n > r->max + 1 || (n == r->max + 1 &&
			    p[n - 1] != '\r'))
				return (FRAME_TOO_LONG);
			return (FRAME_AGAIN);
		}
		n = (size_t)(nl - p);
		r->pos += n + 1;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > r->max)
			return (FRAME_TOO_LONG);
		if (n > 0) {
			*line = p;
			*len = n;
			return (FRAME_LINE);
		}
	}
	return (FRAME_AGAIN);
}

/*
 * Frame data in up to three chunks, each added as its own evbuffer chain
 * (a reference to the input, so a read past it is caught), and hand each
 * line to fn. The lines must be those of the plain split, whatever the
 * cuts; on a line over max the rest is dropped, as the daemon does.
 */
static void
fuzz_feed(const uint8_t *data, size_t size, size_t max, fuzz_line_fn *fn,
    void *arg)
{
	struct evbuffer		*in;
	struct frame		 f;
	struct frame_line	 line;
	struct fuzz_ref		 ref = { data, size, 0, max };
	enum frame_status	 st = FRAME_AGAIN, want;
	const uint8_t		*ref_line;
	size_t			 cut[4], i, ref_len;
	char			*copy;

	cut[0] = 0;
	cut[1] = size > 0 ? data[0] * size / 256 : 0;
	cut[2] = size > 1 ? cut[1] + data[1] * (size - cut[1]) / 256 :
	    cut[1];
	cut[3] = size;

	FUZZ_CHECK((in = evbuffer_new()) != NULL);
	frame_init(&f, max);
	for (i = 0; i < 3 && st != FRAME_TOO_LONG; i++) {
		if (cut[i + 1] > cut[i])
			FUZZ_CHECK(evbuffer_add_reference(in, data + cut[i],
			    cut[i + 1] - cut[i], NULL, NULL) == 0);
		while ((st = frame_next(&f, in, &line)) == FRAME_LINE) {
			FUZZ_CHECK(fuzz_ref_next(&ref, &ref_line, &ref_len) ==
			    FRAME_LINE);
			FUZZ_CHECK(line.len == ref_len);
			FUZZ_CHECK(memcmp(line.data, ref_line, ref_len) == 0);
			FUZZ_CHECK(line.consumed == line.len + 1 ||
			    line.consumed == line.len + 2);
			FUZZ_CHECK(line.data[line.consumed - 1] == '\n');

			copy = xmalloc(line.len);
			memcpy(copy, line.data, line.len);
			frame_done(&f, in, &line);
			fn(copy, ref_len, arg);
			free(copy);
		}
		if (st == FRAME_TOO_LONG)
			evbuffer_drain(in, evbuffer_get_length(in));
	}
	/* A tail over the cap may only be seen once it has all arrived. */
	want = fuzz_ref_next(&ref, &ref_line, &ref_len);
	FUZZ_CHECK(st == want);
	evbuffer_free(in);
}

/* cJSON_PrintUnformatted that never returns NULL; the caller frees. */
static char *
fuzz_print(const cJSON *item)
{
	char	*text;

	FUZZ_CHECK((text = cJSON_PrintUnformatted(item)) != NULL);
	return (text);
}

/*
 * The id kept from line (a message's or a fault's; NULL: none) must be
 * the id exactly as the line wrote it, and one must be kept whenever the
 * line's id could be read: a refusal carries it.
 */
static void
fuzz_check_id(const char *line, size_t len, const char *text, size_t tlen)
{
	struct scan_span	id;
	int			lone;

	(void)scan_line(line, len, &id, &lone);
	if (text == NULL) {
		if (id.p != NULL) {
			fprintf(stderr, "the readable id %.*s was not kept\n",
			    (int)id.len, id.p);
			abort();
		}
		return;
	}
	if (id.p == NULL || id.len != tlen || memcmp(id.p, text, tlen) != 0) {
		fprintf(stderr, "id %.*s kept as %.*s\n", (int)id.len,
		    id.p != NULL ? id.p : "", (int)tlen, text);
		abort();
	}
}

/*
 * Every number token of the JSON text src (outside strings and outside
 * the skip spans, the values the broker replaces) must be in out byte for
 * byte: nothing is re-printed through a double.
 */
static void
fuzz_check_numbers(const char *src, size_t len, const struct scan_span *skip,
    size_t nskip, const char *out, size_t out_len)
{
	const char	*p = src, *end = src + len, *start;
	size_t		 i;
	int		 skipped;

	while (p < end) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\')
					p++;
			}
			p++;
			continue;
		}
		if (*p != '-' && (*p < '0' || *p > '9')) {
			p++;
			continue;
		}
		start = p;
		while (p < end && strchr("0123456789+-.eE", *p) != NULL &&
		    *p != '\0')
			p++;
		skipped = 0;
		for (i = 0; i < nskip; i++) {
			if (skip[i].p != NULL && start >= skip[i].p &&
			    start < skip[i].p + skip[i].len)
				skipped = 1;
		}
		if (!skipped && memmem(out, out_len, start,
		    (size_t)(p - start)) == NULL) {
			fprintf(stderr, "the number %.*s did not pass: %.*s\n",
			    (int)(p - start), start, (int)out_len, out);
			abort();
		}
	}
}

/*
 * Write msg with frame_write: one line, '\n' only at its end, and it
 * parses back as the same kind of message, with the same method and the
 * id printed exactly as before.
 */
static void
fuzz_check_rewrite(const struct jsonrpc_msg *msg)
{
	struct evbuffer		*out;
	struct jsonrpc_msg	 back;
	struct jsonrpc_fault	 fault;
	const char		*text;
	char			*copy, *id, *back_id;
	size_t			 len;

	FUZZ_CHECK((out = evbuffer_new()) != NULL);
	FUZZ_CHECK(frame_write(out, msg->root) == 0);
	len = evbuffer_get_length(out);
	FUZZ_CHECK(len >= 3);		/* at least "{}\n" */
	text = (const char *)evbuffer_pullup(out, -1);
	FUZZ_CHECK(text[len - 1] == '\n');
	FUZZ_CHECK(memchr(text, '\n', len - 1) == NULL);

	copy = xmalloc(len - 1);
	memcpy(copy, text, len - 1);
	evbuffer_free(out);
	if (jsonrpc_parse(copy, len - 1, &back, &fault) != 0) {
		fprintf(stderr, "rewritten line refused (%d %s): %.*s\n",
		    fault.code, fault.message, (int)(len - 1), copy);
		abort();
	}
	FUZZ_CHECK(back.kind == msg->kind);
	if (msg->method != NULL)
		FUZZ_CHECK(strcmp(back.method, msg->method) == 0);
	FUZZ_CHECK((back.id == NULL) == (msg->id == NULL));
	if (msg->id != NULL) {
		id = fuzz_print(msg->id);
		back_id = fuzz_print(back.id);
		if (strcmp(id, back_id) != 0) {
			fprintf(stderr, "id %s came back as %s\n", id,
			    back_id);
			abort();
		}
		free(id);
		free(back_id);
	}
	jsonrpc_msg_clear(&back);
	jsonrpc_fault_clear(&fault);
	free(copy);
}

#endif
