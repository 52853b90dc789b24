/*
 * Byte streams on nonblocking fds, written once per turn of the loop.
 *
 * libevent's bufferevents arm a write event for every message and disarm
 * it once written (two epoll_ctl calls per message), write each message
 * as the loop comes round to it, and ask FIONREAD before every read. On a
 * busy broker those calls and the wake-ups of children for one message at
 * a time were most of its cost. A stream instead goes on the flush queue
 * when it is given bytes, and the queue is written after each read has
 * been handled and after each turn of the main loop (stream_flush), each
 * stream's bytes in one writev; a write event is armed only while the
 * peer's buffer is full.
 *
 * The queue is not a global: whoever runs the loop makes one and hands it
 * to each stream it creates, and a stream flushes its own queue after its
 * reads. Two loops (or a test beside the daemon's) never write each
 * other's streams.
 *
 * Why after each read and not only once per turn: a turn can hold reads
 * from every client and child, and holding all answers to its end left
 * clients (often on another CPU) idle while the children here worked, then
 * this CPU idle while the clients caught up. Flushing after each read
 * keeps both busy: 0.58 of the direct pipe's calls/s in scenario 2 of
 * tests/bench against 0.50 once per turn, at the same CPU per call.
 *
 * Reads take what the fd has, up to read_size bytes set aside in the
 * input, without FIONREAD first: read_size starts at STREAM_READ_MIN,
 * doubles after a read that filled it (up to STREAM_IO_MAX) and halves
 * after one that used a quarter or less, so a burst costs few reads and
 * an idle stream holds little.
 *
 * Every owner reads lines (NDJSON from clients and children, text from
 * stderr), so line mode cuts them here, once, with proto/frame.c: each
 * complete line goes to the line callback and is taken when it returns.
 * Delivery stops between two lines as soon as the owner pauses or stops
 * the stream from the callback (a client at its in-flight bound); the
 * rest stays in the input, and stream_resume hands it over before any
 * new read, so a paused stream's input grows by no more than one read.
 */
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "stream.h"
#include "xmalloc.h"

struct stream {
	struct stream_queue	*queue;		/* its flush queue */
	int			 fd;
	struct evbuffer		*in;		/* NULL: write only */
	struct evbuffer		*out;		/* NULL: read only */
	struct event		*rev;		/* EV_READ, persistent */
	struct event		*wev;		/* EV_WRITE, while blocked */
	size_t			 read_size;	/* what the next read sets aside */
	int			 reading;	/* rev is added */
	int			 blocked;	/* wev is added */
	int			 queued;	/* on queue */
	int			 stopped;	/* neither reads nor writes again */
	int			 eof;
	int			 resumed;	/* hand over the input first */
	stream_line_cb		 line_cb;	/* NULL: not in line mode */
	int			 line_flags;	/* STREAM_LINES_* */
	struct frame		 frame;		/* line mode's framing */
	int			 too_long;	/* discarding all input */
	stream_read_cb		 read_cb;
	stream_event_cb		 event_cb;
	void			*arg;
	TAILQ_ENTRY(stream)	 entry;
};

/* Streams with bytes to write after this read or turn of the loop. */
struct stream_queue {
	TAILQ_HEAD(, stream)	 head;
};

static void	stream_read_ev(evutil_socket_t, short, void *);
static void	stream_write_ev(evutil_socket_t, short, void *);
static void	stream_write(struct stream *);
static void	stream_unqueue(struct stream *);
static void	stream_take(struct stream *);
static void	stream_lines(struct stream *);
static void	stream_cut(struct stream *);
static void	stream_lines_end(struct stream *);

/* A new, empty flush queue, for the streams of one event loop. */
struct stream_queue *
stream_queue_new(void)
{
	struct stream_queue	*q;

	q = xcalloc(1, sizeof *q);
	TAILQ_INIT(&q->head);
	return (q);
}

/* Free a flush queue; its streams must be flushed or freed first. */
void
stream_queue_free(struct stream_queue *q)
{
	if (q == NULL)
		return;
	if (!TAILQ_EMPTY(&q->head))
		fatalx("%s: streams still queued", __func__);
	free(q);
}

/*
 * A stream on fd (nonblocking; the stream closes it when freed) that
 * reads, writes or both (STREAM_READ, STREAM_WRITE), queued on q when
 * given bytes. read_cb gets the input after every read that brought
 * bytes (unless stream_set_lines is called); event_cb gets EOF, errors
 * and STREAM_DRAINED. Reading starts at once.
 */
struct stream *
stream_new(struct event_base *base, struct stream_queue *q, int fd,
    int modes, stream_read_cb read_cb, stream_event_cb event_cb, void *arg)
{
	struct stream	*st;

	st = xcalloc(1, sizeof *st);
	st->queue = q;
	st->fd = fd;
	st->read_cb = read_cb;
	st->event_cb = event_cb;
	st->arg = arg;
	st->read_size = STREAM_READ_MIN;
	if (modes & STREAM_READ) {
		if ((st->in = evbuffer_new()) == NULL)
			fatalx("evbuffer_new");
		st->rev = event_new(base, fd, EV_READ | EV_PERSIST,
		    stream_read_ev, st);
		event_add(st->rev, NULL);
		st->reading = 1;
	}
	if (modes & STREAM_WRITE) {
		if ((st->out = evbuffer_new()) == NULL)
			fatalx("evbuffer_new");
		st->wev = event_new(base, fd, EV_WRITE | EV_PERSIST,
		    stream_write_ev, st);
	}
	return (st);
}

/*
 * Line mode: instead of read_cb, line_cb gets each complete line of at
 * most max bytes (without '\n' and a trailing '\r'; empty lines are
 * skipped). A longer line is reported once as STREAM_TOO_LONG, and all
 * input is discarded from then on, though EOF is still reported; with
 * STREAM_LINES_SPLIT it is cut into lines of max bytes instead, and what
 * is left without a newline when the input ends is a last line. Call
 * before the loop runs.
 */
void
stream_set_lines(struct stream *st, size_t max, int flags,
    stream_line_cb line_cb)
{
	if (st->in == NULL || max == 0 || line_cb == NULL)
		fatalx("%s: not a readable stream or no line", __func__);
	frame_init(&st->frame, max);
	st->line_cb = line_cb;
	st->line_flags = flags;
}

/* Free the stream and close its fd; what is unwritten is lost. */
void
stream_free(struct stream *st)
{
	stream_unqueue(st);
	if (st->rev != NULL)
		event_free(st->rev);
	if (st->wev != NULL)
		event_free(st->wev);
	if (st->in != NULL)
		evbuffer_free(st->in);
	if (st->out != NULL)
		evbuffer_free(st->out);
	close(st->fd);
	free(st);
}

/* The stream's fd, still owned by the stream. */
int
stream_fd(struct stream *st)
{
	return (st->fd);
}

/* What was read and not yet taken; NULL for a write-only stream. */
struct evbuffer *
stream_input(struct stream *st)
{
	return (st->in);
}

/* Where the owner adds bytes to write; NULL for a read-only stream. */
struct evbuffer *
stream_output(struct stream *st)
{
	return (st->out);
}

/* Bytes were added to the output: write them at the end of this turn. */
void
stream_written(struct stream *st)
{
	if (st->queued || st->blocked || st->stopped ||
	    evbuffer_get_length(st->out) == 0)
		return;
	TAILQ_INSERT_TAIL(&st->queue->head, st, entry);
	st->queued = 1;
}

/* Stop reading; what is buffered stays. */
void
stream_pause(struct stream *st)
{
	if (st->reading) {
		event_del(st->rev);
		st->reading = 0;
	}
}

/* Read again, and hand over what is already buffered without waiting. */
void
stream_resume(struct stream *st)
{
	if (st->reading || st->stopped || st->eof || st->rev == NULL)
		return;
	event_add(st->rev, NULL);
	st->reading = 1;
	if (evbuffer_get_length(st->in) > 0) {
		st->resumed = 1;
		event_active(st->rev, EV_READ, 0);
	}
}

/* Neither read nor write again (the owner is going away). */
void
stream_stop(struct stream *st)
{
	stream_pause(st);
	stream_unqueue(st);
	if (st->blocked) {
		event_del(st->wev);
		st->blocked = 0;
	}
	st->stopped = 1;
}

/*
 * Write every stream queued on q: after each read, and in the main loop
 * after each turn. Callbacks run from here may queue more, which go out
 * in the same call. Returns how many streams were written to.
 */
int
stream_flush(struct stream_queue *q)
{
	struct stream	*st;
	int		 n = 0;

	while ((st = TAILQ_FIRST(&q->head)) != NULL) {
		stream_unqueue(st);
		stream_write(st);
		n++;
	}
	return (n);
}

/* Take the stream off its flush queue, if it is on it. */
static void
stream_unqueue(struct stream *st)
{
	if (st->queued) {
		TAILQ_REMOVE(&st->queue->head, st, entry);
		st->queued = 0;
	}
}

/*
 * One writev of what is buffered. The rest waits for the fd to take more.
 * A callback is the last thing done: it may free the stream.
 */
static void
stream_write(struct stream *st)
{
	int	n;

	n = evbuffer_write_atmost(st->out, st->fd, STREAM_IO_MAX);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		n = errno;
		stream_stop(st);
		st->event_cb(st, STREAM_ERROR, n, st->arg);
		return;
	}
	if (evbuffer_get_length(st->out) > 0) {
		if (!st->blocked) {
			event_add(st->wev, NULL);
			st->blocked = 1;
		}
		return;
	}
	if (st->blocked) {
		event_del(st->wev);
		st->blocked = 0;
	}
	st->event_cb(st, STREAM_DRAINED, 0, st->arg);
}

/* The fd takes more after a write that would have blocked. */
static void
stream_write_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_write(arg);
}

/* Hand the input to the owner: as lines in line mode, else whole. */
static void
stream_take(struct stream *st)
{
	if (st->line_cb != NULL)
		stream_lines(st);
	else
		st->read_cb(st, st->in, st->arg);
}

/*
 * Give the line callback each complete line, taking it once the callback
 * returns, until none is left or the callback paused or stopped the
 * stream. STREAM_TOO_LONG is the last thing done: it may free the stream.
 */
static void
stream_lines(struct stream *st)
{
	struct frame_line	line;

	if (st->too_long) {
		evbuffer_drain(st->in, evbuffer_get_length(st->in));
		return;
	}
	while (st->reading && !st->stopped) {
		switch (frame_next(&st->frame, st->in, &line)) {
		case FRAME_AGAIN:
			return;
		case FRAME_LINE:
			st->line_cb(st, line.data, line.len, st->arg);
			frame_done(&st->frame, st->in, &line);
			break;
		case FRAME_TOO_LONG:
			if (st->line_flags & STREAM_LINES_SPLIT) {
				stream_cut(st);
				break;
			}
			/* The rest of that line would only be garbage. */
			st->too_long = 1;
			evbuffer_drain(st->in, evbuffer_get_length(st->in));
			st->event_cb(st, STREAM_TOO_LONG, 0, st->arg);
			return;
		}
	}
}

/* Split mode: the first max bytes of an over-long line are a line. */
static void
stream_cut(struct stream *st)
{
	size_t	max = st->frame.max;
	char	*data;

	data = (char *)evbuffer_pullup(st->in, (ev_ssize_t)max);
	st->line_cb(st, data, max, st->arg);
	evbuffer_drain(st->in, max);
	/* What was searched beyond the cut has no newline: skip it again. */
	if (st->frame.scanned > max)
		st->frame.scanned -= max;
	else
		st->frame.scanned = 0;
}

/* Input ended: in split mode, what is left without a newline is a line. */
static void
stream_lines_end(struct stream *st)
{
	size_t	 left, len;
	char	*data;

	if (st->line_cb == NULL || !(st->line_flags & STREAM_LINES_SPLIT) ||
	    (left = evbuffer_get_length(st->in)) == 0)
		return;
	data = (char *)evbuffer_pullup(st->in, (ev_ssize_t)left);
	len = left;
	if (data[len - 1] == '\r')
		len--;
	if (len > 0)
		st->line_cb(st, data, len, st->arg);
	evbuffer_drain(st->in, left);
	st->frame.scanned = 0;
}

/*
 * Read once into the input, setting aside read_size bytes: doubled after
 * a read that filled it, halved after one that used a quarter or less.
 * Also run by stream_resume for input buffered while paused. After an
 * event callback the stream is not touched: it may have been freed.
 */
static void
stream_read_ev(evutil_socket_t fd, short what, void *arg)
{
	struct stream		*st = arg;
	struct stream_queue	*q = st->queue;
	struct evbuffer_iovec	 space[2];
	struct iovec		 vec[2];
	ssize_t			 n;
	size_t			 got;
	int			 nvec, i, error;

	(void)what;
	/*
	 * Just resumed with input buffered: that goes first, and nothing
	 * more is read until it is taken. Otherwise an owner that pauses
	 * after each line (a client at its in-flight bound) would have the
	 * input grow by a read per line.
	 */
	if (st->resumed) {
		st->resumed = 0;
		if (evbuffer_get_length(st->in) > 0) {
			stream_take(st);
			stream_flush(q);
			return;
		}
	}
	nvec = evbuffer_reserve_space(st->in, (ev_ssize_t)st->read_size,
	    space, 2);
	if (nvec <= 0)
		fatalx("evbuffer_reserve_space");
	for (i = 0; i < nvec; i++) {
		vec[i].iov_base = space[i].iov_base;
		vec[i].iov_len = space[i].iov_len;
	}
	n = readv(fd, vec, nvec);
	if (n == -1) {
		error = errno;
		if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR) {
			if (evbuffer_get_length(st->in) > 0) {
				stream_take(st);
				stream_flush(q);
			}
			return;
		}
		stream_pause(st);
		st->eof = 1;
		stream_lines_end(st);
		st->event_cb(st, STREAM_ERROR, error, st->arg);
		stream_flush(q);
		return;
	}
	if (n == 0) {
		stream_pause(st);
		st->eof = 1;
		stream_lines_end(st);
		st->event_cb(st, STREAM_EOF, 0, st->arg);
		stream_flush(q);
		return;
	}
	/* Commit what the read filled: the first vector, maybe the second. */
	got = (size_t)n;
	if (got <= space[0].iov_len) {
		space[0].iov_len = got;
		nvec = 1;
	} else
		space[1].iov_len = got - space[0].iov_len;
	evbuffer_commit_space(st->in, space, nvec);

	if (got >= st->read_size && st->read_size < STREAM_IO_MAX)
		st->read_size *= 2;
	else if (got <= st->read_size / 4 && st->read_size > STREAM_READ_MIN)
		st->read_size /= 2;
	stream_take(st);
	/* What this read brought is answered now, in one write per fd. */
	stream_flush(q);
}
