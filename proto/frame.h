/*
 * NDJSON framing: one JSON-RPC message per '\n'-terminated line, the MCP
 * stdio rule (PROTOCOL.md, "Framing").
 *
 * Works on a libevent evbuffer, so the daemon's sockets and pipes and the
 * blocking client share one implementation. A line is handed out in place
 * (no copy unless it spans buffer chunks) and consumed with frame_done().
 */
#ifndef PROTO_FRAME_H
#define PROTO_FRAME_H

#include <stddef.h>

#include <cJSON.h>
#include <event2/buffer.h>

enum frame_status {
	FRAME_LINE,		/* a complete line is in the frame_line */
	FRAME_AGAIN,		/* no complete line yet */
	FRAME_TOO_LONG,		/* the line exceeds the cap */
};

/* Per-stream framing state; embed one per input buffer. */
struct frame {
	size_t	max;		/* longest line accepted, without '\n' */
	size_t	scanned;	/* bytes already searched for '\n' */
};

/* One line, valid until frame_done(). */
struct frame_line {
	const char	*data;	/* not NUL-terminated */
	size_t		 len;	/* without '\n' and a trailing '\r' */
	size_t		 consumed; /* bytes to drain, '\n' included */
};

void		 frame_init(struct frame *, size_t max);
enum frame_status frame_next(struct frame *, struct evbuffer *,
		     struct frame_line *);
void		 frame_done(struct frame *, struct evbuffer *,
		     const struct frame_line *);
int		 frame_write(struct evbuffer *, const cJSON *);

#endif
