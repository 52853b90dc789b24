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
 * Why after each read and not only once per turn: a turn can hold reads
 * from every client and child, and holding all answers to its end left
 * clients (often on another CPU) idle while the children here worked, then
 * this CPU idle while the clients caught up. Flushing after each read
 * keeps both busy: 0.58 of the direct pipe's calls/s in scenario 2 of
 * tests/bench against 0.50 once per turn, at the same CPU per call.
 */
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "stream.h"
#include "xmalloc.h"

struct stream {
	int			 fd;
	struct evbuffer		*in;		/* NULL: write only */
	struct evbuffer		*out;		/* NULL: read only */
	struct event		*rev;		/* EV_READ, persistent */
	struct event		*wev;		/* EV_WRITE, while blocked */
	size_t			 read_size;	/* what the next read sets aside */
	int			 reading;	/* rev is added */
	int			 blocked;	/* wev is added */
	int			 queued;	/* on stream_queue */
	int			 stopped;	/* neither reads nor writes again */
	int			 eof;
	int			 resumed;	/* hand over the input first */
	stream_read_cb		 read_cb;
	stream_event_cb		 event_cb;
	void			*arg;
	TAILQ_ENTRY(stream)	 entry;
};

/* Streams with bytes to write at the end of this turn of the loop. */
static TAILQ_HEAD(, stream) stream_queue =
    TAILQ_HEAD_INITIALIZER(stream_queue);

static void	stream_read_ev(evutil_socket_t, short, void *);
static void	stream_write_ev(evutil_socket_t, short, void *);
static void	stream_write(struct stream *);
static void	stream_unqueue(struct stream *);

/*
 * A stream on fd (nonblocking; the stream closes it when freed) that
 * reads, writes or both (STREAM_READ, STREAM_WRITE). read_cb gets the
 * input after every read that brought bytes; event_cb gets EOF, errors
 * and STREAM_DRAINED. Reading starts at once.
 */
struct stream *
stream_new(struct event_base *base, int fd, int modes, stream_read_cb read_cb,
    stream_event_cb event_cb, void *arg)
{
	struct stream	*st;

	st = xcalloc(1, sizeof *st);
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

int
stream_fd(struct stream *st)
{
	return (st->fd);
}

struct evbuffer *
stream_input(struct stream *st)
{
	return (st->in);
}

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
	TAILQ_INSERT_TAIL(&stream_queue, st, entry);
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
 * Write every queued stream: after each read, and in the main loop after
 * each turn.
 * Callbacks run from here may queue more, which go out in the same call.
 * Returns how many streams were written to.
 */
int
stream_flush(void)
{
	struct stream	*st;
	int		 n = 0;

	while ((st = TAILQ_FIRST(&stream_queue)) != NULL) {
		stream_unqueue(st);
		stream_write(st);
		n++;
	}
	return (n);
}

static void
stream_unqueue(struct stream *st)
{
	if (st->queued) {
		TAILQ_REMOVE(&stream_queue, st, entry);
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

static void
stream_write_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_write(arg);
}

/*
 * Read once into the input, setting aside read_size bytes: doubled after
 * a read that filled it, halved after one that used a quarter or less.
 * Also run by stream_resume for input buffered while paused.
 */
static void
stream_read_ev(evutil_socket_t fd, short what, void *arg)
{
	struct stream		*st = arg;
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
			st->read_cb(st, st->in, st->arg);
			stream_flush();
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
				st->read_cb(st, st->in, st->arg);
				stream_flush();
			}
			return;
		}
		stream_pause(st);
		st->eof = 1;
		st->event_cb(st, STREAM_ERROR, error, st->arg);
		return;
	}
	if (n == 0) {
		stream_pause(st);
		st->eof = 1;
		st->event_cb(st, STREAM_EOF, 0, st->arg);
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
	st->read_cb(st, st->in, st->arg);
	/* What this read brought is answered now, in one write per fd. */
	stream_flush();
}
