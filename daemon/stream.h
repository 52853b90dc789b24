/*
 * Byte streams on a nonblocking fd (a client socket, a child's stdin,
 * stdout or stderr), with an input and an output evbuffer.
 *
 * What the broker writes while handling one read (all the lines it
 * brought) is written right after it, by stream_flush(), in one write per
 * fd: the requests one client read carries for one child go out together,
 * as do the answers one child read carries for one client, and each peer
 * is woken once for them. The main loop flushes after each turn too, for
 * what timers and signals wrote. Only a write that would block arms a
 * write event; reads take what is there without asking the kernel how
 * much first.
 *
 * The flush queue belongs to whoever runs the loop (the broker has one):
 * each stream is given its queue when created, and stream_flush() writes
 * the streams of one queue only.
 *
 * In line mode (stream_set_lines) the stream cuts its input into lines
 * and hands them over one at a time, stopping between two as soon as the
 * owner pauses or stops it.
 */
#ifndef DAEMON_STREAM_H
#define DAEMON_STREAM_H

#include <event2/buffer.h>
#include <event2/event.h>

/* What a stream does on its fd. */
#define STREAM_READ	0x1
#define STREAM_WRITE	0x2

/* What the event callback reports. */
enum stream_event {
	STREAM_EOF,		/* the peer closed its end (read side) */
	STREAM_ERROR,		/* reading or writing failed; errno kept */
	STREAM_DRAINED,		/* everything written has gone out */
	STREAM_TOO_LONG		/* line mode: a line over max; the input is
				   discarded from now on, EOF still comes */
};

/* Line mode: over-long lines are cut into lines of max bytes, and an
   unterminated last piece at EOF is a line. */
#define STREAM_LINES_SPLIT	0x1

/* Reads start small and double while they fill what was set aside. */
#define STREAM_READ_MIN		4096
/* The most one read or write moves. */
#define STREAM_IO_MAX		(256 * 1024)

struct stream;
struct stream_queue;

typedef void	(*stream_read_cb)(struct stream *, struct evbuffer *, void *);
typedef void	(*stream_event_cb)(struct stream *, enum stream_event, int,
		    void *);
typedef void	(*stream_line_cb)(struct stream *, const char *, size_t,
		    void *);

struct stream_queue *stream_queue_new(void);
void		 stream_queue_free(struct stream_queue *);
int		 stream_flush(struct stream_queue *);

struct stream	*stream_new(struct event_base *, struct stream_queue *, int,
		     int, stream_read_cb, stream_event_cb, void *);
void		 stream_free(struct stream *);
int		 stream_fd(struct stream *);
struct evbuffer	*stream_input(struct stream *);
struct evbuffer	*stream_output(struct stream *);
void		 stream_written(struct stream *);
void		 stream_pause(struct stream *);
void		 stream_resume(struct stream *);
void		 stream_stop(struct stream *);
void		 stream_set_lines(struct stream *, size_t, int, stream_line_cb);

#endif
