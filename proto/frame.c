/*
 * NDJSON framing over evbuffers.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static int	frame_over(struct frame *, struct evbuffer *, size_t);

/*
 * Whether have bytes without a newline already exceed the cap: one byte
 * more than max may only be the '\r' of a CRLF.
 */
static int
frame_over(struct frame *f, struct evbuffer *buf, size_t have)
{
	struct evbuffer_ptr	pos;
	char			last;

	if (have <= f->max)
		return (0);
	if (have > f->max + 1)
		return (1);
	if (evbuffer_ptr_set(buf, &pos, have - 1, EVBUFFER_PTR_SET) != 0 ||
	    evbuffer_copyout_from(buf, &pos, &last, 1) != 1)
		return (1);
	return (last != '\r');
}

/* Set up the framing state of one stream, accepting lines up to max bytes. */
void
frame_init(struct frame *f, size_t max)
{
	f->max = max;
	f->scanned = 0;
}

/*
 * Find the next non-empty line in buf. Bytes already searched are not
 * searched again, so a long line arriving in many reads costs O(length).
 * Empty lines (and lines holding only '\r') are drained and skipped.
 */
enum frame_status
frame_next(struct frame *f, struct evbuffer *buf, struct frame_line *line)
{
	struct evbuffer_ptr	 pos;
	size_t			 have, len;
	unsigned char		*data;

	for (;;) {
		have = evbuffer_get_length(buf);
		if (f->scanned >= have) {
			if (frame_over(f, buf, have))
				return (FRAME_TOO_LONG);
			return (FRAME_AGAIN);
		}
		if (evbuffer_ptr_set(buf, &pos, f->scanned,
		    EVBUFFER_PTR_SET) != 0)
			return (FRAME_AGAIN);
		pos = evbuffer_search(buf, "\n", 1, &pos);
		if (pos.pos == -1) {
			f->scanned = have;
			if (frame_over(f, buf, have))
				return (FRAME_TOO_LONG);
			return (FRAME_AGAIN);
		}

		len = (size_t)pos.pos;
		if (len > f->max + 1 || (len == f->max + 1 &&
		    evbuffer_pullup(buf, len)[len - 1] != '\r'))
			return (FRAME_TOO_LONG);

		data = evbuffer_pullup(buf, len + 1);
		line->data = (const char *)data;
		line->consumed = len + 1;
		if (len > 0 && data[len - 1] == '\r')
			len--;
		line->len = len;
		if (len > 0)
			return (FRAME_LINE);
		frame_done(f, buf, line);
	}
}

/* Drain a line handed out by frame_next(). */
void
frame_done(struct frame *f, struct evbuffer *buf, const struct frame_line *line)
{
	evbuffer_drain(buf, line->consumed);
	f->scanned = 0;
}

/* Append msg as one line to buf. Returns 0, or -1 if out of memory. */
int
frame_write(struct evbuffer *buf, const cJSON *msg)
{
	char	*text;
	size_t	 len;
	int	 rc;

	if ((text = cJSON_PrintUnformatted(msg)) == NULL)
		return (-1);
	len = strlen(text);
	text[len] = '\n';	/* the NUL is not sent, so reuse its byte */
	rc = evbuffer_add(buf, text, len + 1);
	free(text);
	return (rc);
}
