/*
 * Streams (daemon/stream.c) on real socketpairs and pipes: output waits
 * for the end of the loop's turn and goes out in one write, a full peer
 * arms a write event and everything arrives in order, reads, EOF, write
 * errors, pausing and resuming with input buffered, freeing a stream
 * from its own callback, flush queues that stay apart, and line mode:
 * lines in order whatever the reads, pausing between lines, over-long
 * lines refused or split, and the last piece at EOF.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "stream.h"

/* Freed by the teardown even if an assertion fails half-way. */
static struct event_base	*base;
static struct stream_queue	*queue;
static struct stream		*st;
static int			 peer = -1;
static char			*big;

/* What the callbacks saw. */
static int			 reads, eofs, errors, drains, last_error;
static size_t			 got;		/* bytes the read cb saw */
static int			 consume;	/* read cb drains its input */
static int			 free_on_error;
static int			 echo;		/* read cb writes its input back */

/* What the line callback saw, and what it does. */
#define MAX_LINES	16
static char			 lines[MAX_LINES][64];
static size_t			 nlines;
static int			 too_longs;
static int			 eofs_before_line; /* eofs when the last came */
static size_t			 pause_at;	/* pause after this many */
static size_t			 stop_at;	/* stop after this many */
static int			 line_echo;	/* write each line back */

static void	setup(void);
static void	teardown(void);
static void	on_read(struct stream *, struct evbuffer *, void *);
static void	on_event(struct stream *, enum stream_event, int, void *);
static void	on_line(struct stream *, const char *, size_t, void *);
static void	make_pair(int);
static void	make_lines(int, size_t, int);
static void	peer_write(const char *);
static void	turn(void);
static ssize_t	peer_read(char *, size_t);
static Suite	*stream_suite(void);

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	queue = stream_queue_new();
	st = NULL;
	peer = -1;
	big = NULL;
	reads = eofs = errors = drains = last_error = 0;
	got = 0;
	consume = 1;
	free_on_error = 0;
	echo = 0;
	memset(lines, 0, sizeof lines);
	nlines = 0;
	too_longs = 0;
	eofs_before_line = -1;
	pause_at = stop_at = 0;
	line_echo = 0;
}

static void
teardown(void)
{
	if (st != NULL)
		stream_free(st);
	if (peer != -1)
		close(peer);
	free(big);
	stream_queue_free(queue);
	event_base_free(base);
}

static void
on_read(struct stream *s, struct evbuffer *in, void *arg)
{
	(void)arg;
	reads++;
	got = evbuffer_get_length(in);
	if (echo) {
		evbuffer_add_buffer(stream_output(s), in);
		stream_written(s);
	} else if (consume)
		evbuffer_drain(in, got);
}

static void
on_event(struct stream *s, enum stream_event what, int error, void *arg)
{
	(void)arg;
	switch (what) {
	case STREAM_EOF:
		eofs++;
		break;
	case STREAM_ERROR:
		errors++;
		last_error = error;
		if (free_on_error) {
			stream_free(s);
			st = NULL;
		}
		break;
	case STREAM_DRAINED:
		drains++;
		break;
	case STREAM_TOO_LONG:
		too_longs++;
		break;
	}
}

/* Keep each line as a string; pause, stop or echo as the test asks. */
static void
on_line(struct stream *s, const char *data, size_t len, void *arg)
{
	(void)arg;
	ck_assert_uint_lt(nlines, MAX_LINES);
	ck_assert_uint_lt(len, sizeof lines[0]);
	memcpy(lines[nlines], data, len);
	lines[nlines][len] = '\0';
	nlines++;
	eofs_before_line = eofs;
	if (line_echo) {
		evbuffer_add(stream_output(s), data, len);
		evbuffer_add(stream_output(s), "\n", 1);
		stream_written(s);
	}
	if (nlines == pause_at)
		stream_pause(s);
	if (nlines == stop_at)
		stream_stop(s);
}

/* A stream on one end of a nonblocking socketpair; the test holds peer. */
static void
make_pair(int modes)
{
	int	sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	st = stream_new(base, queue, sv[0], modes, on_read, on_event, NULL);
	peer = sv[1];
}

/* A line-mode stream on a socketpair, without a read callback. */
static void
make_lines(int modes, size_t max, int flags)
{
	int	sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	st = stream_new(base, queue, sv[0], modes, NULL, on_event, NULL);
	stream_set_lines(st, max, flags, on_line);
	peer = sv[1];
}

/* The peer writes s, all of it. */
static void
peer_write(const char *s)
{
	ck_assert_int_eq(write(peer, s, strlen(s)), (ssize_t)strlen(s));
}

/* One turn of the daemon's loop: what is ready, then the flush. */
static void
turn(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
	stream_flush(queue);
}

/* Whatever the peer can read now; -1 (EAGAIN) if nothing. */
static ssize_t
peer_read(char *buf, size_t len)
{
	return (recv(peer, buf, len, MSG_DONTWAIT));
}

START_TEST(test_output_waits_for_the_flush_and_goes_out_in_one_write)
{
	char	buf[64];

	make_pair(STREAM_READ | STREAM_WRITE);
	evbuffer_add(stream_output(st), "{\"a\":1}\n", 8);
	stream_written(st);
	evbuffer_add(stream_output(st), "{\"b\":2}\n", 8);
	stream_written(st);
	ck_assert_int_eq(peer_read(buf, sizeof buf), -1);
	ck_assert_int_eq(errno, EAGAIN);

	ck_assert_int_eq(stream_flush(queue), 1);
	ck_assert_int_eq(peer_read(buf, sizeof buf), 16);
	ck_assert_int_eq(memcmp(buf, "{\"a\":1}\n{\"b\":2}\n", 16), 0);
	ck_assert_int_eq(drains, 1);
	ck_assert_int_eq(stream_flush(queue), 0);
}
END_TEST

START_TEST(test_what_a_read_produces_goes_out_right_after_it)
{
	char	buf[16];

	make_pair(STREAM_READ | STREAM_WRITE);
	echo = 1;
	ck_assert_int_eq(write(peer, "ping\n", 5), 5);
	/* The loop alone, no stream_flush(): the read flushed. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(reads, 1);
	ck_assert_int_eq(peer_read(buf, sizeof buf), 5);
	ck_assert_int_eq(memcmp(buf, "ping\n", 5), 0);
	ck_assert_int_eq(drains, 1);
}
END_TEST

START_TEST(test_flushing_one_queue_does_not_write_another_queues_streams)
{
	struct stream_queue	*other;
	struct stream		*second;
	int			 sv[2];
	char			 buf[16];

	make_pair(STREAM_WRITE);
	other = stream_queue_new();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	second = stream_new(base, other, sv[0], STREAM_WRITE, NULL, on_event,
	    NULL);
	evbuffer_add(stream_output(st), "a\n", 2);
	stream_written(st);
	evbuffer_add(stream_output(second), "b\n", 2);
	stream_written(second);

	ck_assert_int_eq(stream_flush(queue), 1);
	ck_assert_int_eq(peer_read(buf, sizeof buf), 2);
	ck_assert_int_eq(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);

	ck_assert_int_eq(stream_flush(other), 1);
	ck_assert_int_eq(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), 2);
	ck_assert_int_eq(memcmp(buf, "b\n", 2), 0);
	ck_assert_int_eq(stream_flush(queue), 0);
	stream_free(second);
	stream_queue_free(other);
	close(sv[1]);
}
END_TEST

START_TEST(test_nothing_is_queued_for_an_empty_output)
{
	make_pair(STREAM_WRITE);
	stream_written(st);
	ck_assert_int_eq(stream_flush(queue), 0);
	ck_assert_int_eq(drains, 0);
}
END_TEST

START_TEST(test_a_full_peer_gets_everything_in_order)
{
	size_t	len = 1024 * 1024, seen = 0, i;
	int	size = 4096, turns = 0;
	char	buf[65536];
	ssize_t	n;

	make_pair(STREAM_WRITE);
	ck_assert_int_eq(setsockopt(stream_fd(st), SOL_SOCKET, SO_SNDBUF,
	    &size, sizeof size), 0);
	big = malloc(len);
	for (i = 0; i < len; i++)
		big[i] = (char)('a' + i % 26);
	evbuffer_add(stream_output(st), big, len);
	stream_written(st);
	stream_flush(queue);
	ck_assert_uint_gt(evbuffer_get_length(stream_output(st)), 0);
	ck_assert_int_eq(drains, 0);

	while (seen < len && turns++ < 100000) {
		while ((n = peer_read(buf, sizeof buf)) > 0) {
			for (i = 0; i < (size_t)n; i++)
				ck_assert_int_eq(buf[i],
				    (char)('a' + (seen + i) % 26));
			seen += (size_t)n;
		}
		turn();
	}
	ck_assert_uint_eq(seen, len);
	ck_assert_uint_eq(evbuffer_get_length(stream_output(st)), 0);
	ck_assert_int_eq(drains, 1);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(test_reads_hand_over_what_the_peer_wrote)
{
	make_pair(STREAM_READ);
	ck_assert_int_eq(write(peer, "hello\n", 6), 6);
	turn();
	ck_assert_int_eq(reads, 1);
	ck_assert_uint_eq(got, 6);
	turn();
	ck_assert_int_eq(reads, 1);
}
END_TEST

START_TEST(test_a_burst_larger_than_one_read_arrives_whole)
{
	size_t	len = 600 * 1024, sent = 0, total = 0;
	int	turns = 0;
	ssize_t	n;

	make_pair(STREAM_READ);
	big = calloc(1, len);
	consume = 0;
	while ((sent < len || total < len) && turns++ < 100000) {
		if (sent < len && (n = send(peer, big + sent, len - sent,
		    MSG_DONTWAIT)) > 0)
			sent += (size_t)n;
		turn();
		total = got;
	}
	ck_assert_uint_eq(total, len);
	ck_assert_uint_eq(evbuffer_get_length(stream_input(st)), len);
	/* Reads grew: fewer than one per STREAM_READ_MIN bytes. */
	ck_assert_int_lt(reads, (int)(len / STREAM_READ_MIN));
}
END_TEST

START_TEST(test_the_peer_closing_is_eof_once)
{
	make_pair(STREAM_READ);
	ck_assert_int_eq(write(peer, "x", 1), 1);
	close(peer);
	peer = -1;
	turn();
	turn();
	turn();
	ck_assert_int_eq(reads, 1);
	ck_assert_int_eq(eofs, 1);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(test_writing_to_a_closed_pipe_is_an_error)
{
	int	fds[2];

	ck_assert_int_eq(pipe2(fds, O_NONBLOCK), 0);
	close(fds[0]);
	st = stream_new(base, queue, fds[1], STREAM_WRITE, NULL, on_event,
	    NULL);
	evbuffer_add(stream_output(st), "x\n", 2);
	stream_written(st);
	stream_flush(queue);
	ck_assert_int_eq(errors, 1);
	ck_assert_int_eq(last_error, EPIPE);
	ck_assert_int_eq(drains, 0);
	/* Stopped: more output is never queued. */
	evbuffer_add(stream_output(st), "y\n", 2);
	stream_written(st);
	ck_assert_int_eq(stream_flush(queue), 0);
}
END_TEST

START_TEST(test_a_stream_may_be_freed_by_its_error_callback)
{
	int	fds[2], other[2];
	char	buf[8];

	/* Two queued: the first fails and is freed, the second still goes. */
	ck_assert_int_eq(pipe2(fds, O_NONBLOCK), 0);
	close(fds[0]);
	free_on_error = 1;
	st = stream_new(base, queue, fds[1], STREAM_WRITE, NULL, on_event,
	    NULL);
	ck_assert_int_eq(pipe2(other, O_NONBLOCK), 0);
	{
		struct stream	*second = stream_new(base, queue, other[1],
		    STREAM_WRITE, NULL, on_event, NULL);

		evbuffer_add(stream_output(st), "x\n", 2);
		stream_written(st);
		evbuffer_add(stream_output(second), "y\n", 2);
		stream_written(second);
		ck_assert_int_eq(stream_flush(queue), 2);
		ck_assert_ptr_null(st);
		ck_assert_int_eq(read(other[0], buf, sizeof buf), 2);
		ck_assert_int_eq(memcmp(buf, "y\n", 2), 0);
		stream_free(second);
	}
	close(other[0]);
}
END_TEST

START_TEST(test_paused_streams_do_not_read_and_resume_hands_over_the_rest)
{
	make_pair(STREAM_READ);
	consume = 0;
	ck_assert_int_eq(write(peer, "one\n", 4), 4);
	turn();
	ck_assert_int_eq(reads, 1);

	stream_pause(st);
	ck_assert_int_eq(write(peer, "two\n", 4), 4);
	turn();
	ck_assert_int_eq(reads, 1);

	/* Resuming hands over what is buffered and what waits. */
	stream_resume(st);
	turn();
	ck_assert_int_ge(reads, 2);
	ck_assert_uint_eq(got, 8);
}
END_TEST

START_TEST(test_resume_hands_over_buffered_input_without_new_bytes)
{
	make_pair(STREAM_READ);
	consume = 0;
	ck_assert_int_eq(write(peer, "one\n", 4), 4);
	turn();
	ck_assert_int_eq(reads, 1);
	stream_pause(st);
	stream_resume(st);
	turn();
	ck_assert_int_eq(reads, 2);
	ck_assert_uint_eq(got, 4);
}
END_TEST

START_TEST(test_a_stopped_stream_writes_nothing)
{
	char	buf[8];

	make_pair(STREAM_READ | STREAM_WRITE);
	evbuffer_add(stream_output(st), "x\n", 2);
	stream_written(st);
	stream_stop(st);
	ck_assert_int_eq(stream_flush(queue), 0);
	ck_assert_int_eq(peer_read(buf, sizeof buf), -1);
	ck_assert_int_eq(write(peer, "y\n", 2), 2);
	turn();
	ck_assert_int_eq(reads, 0);
}
END_TEST

/* Like a conn at its in-flight bound: take one line, then pause. */
static void
on_read_one_line(struct stream *s, struct evbuffer *in, void *arg)
{
	struct evbuffer_ptr	pos;

	(void)arg;
	reads++;
	pos = evbuffer_search(in, "\n", 1, NULL);
	if (pos.pos < 0)
		return;
	evbuffer_drain(in, (size_t)pos.pos + 1);
	stream_pause(s);
}

START_TEST(test_resuming_takes_buffered_lines_before_reading_more)
{
	char	line[100];
	size_t	most = 0;
	int	sv[2], i, size = 1 << 20;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	st = stream_new(base, queue, sv[0], STREAM_READ, on_read_one_line,
	    on_event, NULL);
	peer = sv[1];
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	for (i = 0; i < 400; i++) {
		/* The client keeps its socket full; one line is taken. */
		while (send(peer, line, sizeof line, MSG_DONTWAIT) > 0)
			;
		stream_resume(st);
		turn();
		if (evbuffer_get_length(stream_input(st)) > most)
			most = evbuffer_get_length(stream_input(st));
	}
	/* One read's worth at most, not a read per line taken. */
	ck_assert_uint_le(most, STREAM_IO_MAX);
}
END_TEST

START_TEST(test_buffered_lines_are_taken_before_eof)
{
	int	sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	st = stream_new(base, queue, sv[0], STREAM_READ, on_read_one_line,
	    on_event, NULL);
	peer = sv[1];
	ck_assert_int_eq(write(peer, "a\nb\nc\n", 6), 6);
	turn();			/* takes "a", pauses */
	ck_assert_int_eq(reads, 1);
	shutdown(peer, SHUT_WR);
	stream_resume(st);
	turn();			/* takes "b" */
	ck_assert_int_eq(reads, 2);
	ck_assert_int_eq(eofs, 0);
	stream_resume(st);
	turn();			/* takes "c" */
	ck_assert_uint_eq(evbuffer_get_length(stream_input(st)), 0);
	stream_resume(st);
	turn();
	ck_assert_int_eq(eofs, 1);
}
END_TEST

START_TEST(test_lines_arrive_one_by_one_in_order_across_reads)
{
	make_lines(STREAM_READ, 64, 0);
	peer_write("one\ntwo\n");
	turn();
	ck_assert_uint_eq(nlines, 2);
	peer_write("three\n");
	turn();
	ck_assert_uint_eq(nlines, 3);
	ck_assert_str_eq(lines[0], "one");
	ck_assert_str_eq(lines[1], "two");
	ck_assert_str_eq(lines[2], "three");
	ck_assert_uint_eq(evbuffer_get_length(stream_input(st)), 0);
	ck_assert_int_eq(reads, 0);
}
END_TEST

START_TEST(test_a_line_split_across_two_reads_arrives_whole)
{
	make_lines(STREAM_READ, 64, 0);
	peer_write("{\"hel");
	turn();
	ck_assert_uint_eq(nlines, 0);
	peer_write("lo\":1}\n");
	turn();
	ck_assert_uint_eq(nlines, 1);
	ck_assert_str_eq(lines[0], "{\"hello\":1}");
}
END_TEST

START_TEST(test_a_crlf_line_arrives_without_its_cr)
{
	make_lines(STREAM_READ, 64, 0);
	peer_write("a\r\nbc\r\n");
	turn();
	ck_assert_uint_eq(nlines, 2);
	ck_assert_str_eq(lines[0], "a");
	ck_assert_str_eq(lines[1], "bc");
}
END_TEST

START_TEST(test_lines_answered_from_the_callback_go_out_after_the_read)
{
	char	buf[16];

	make_lines(STREAM_READ | STREAM_WRITE, 64, 0);
	line_echo = 1;
	peer_write("a\nb\n");
	/* The loop alone: the read flushed, both answers in one write. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(nlines, 2);
	ck_assert_int_eq(peer_read(buf, sizeof buf), 4);
	ck_assert_int_eq(memcmp(buf, "a\nb\n", 4), 0);
	ck_assert_int_eq(drains, 1);
}
END_TEST

START_TEST(test_pausing_in_the_line_callback_stops_until_resumed)
{
	make_lines(STREAM_READ, 64, 0);
	pause_at = 1;
	peer_write("a\nb\nc\n");
	turn();
	ck_assert_uint_eq(nlines, 1);
	ck_assert_uint_eq(evbuffer_get_length(stream_input(st)), 4);
	peer_write("d\n");
	turn();
	ck_assert_uint_eq(nlines, 1);

	/* The buffered lines come first, in one turn without a read. */
	stream_resume(st);
	event_base_loop(base, EVLOOP_ONCE);
	ck_assert_uint_eq(nlines, 3);
	ck_assert_str_eq(lines[1], "b");
	ck_assert_str_eq(lines[2], "c");
	ck_assert_uint_eq(evbuffer_get_length(stream_input(st)), 0);
	turn();
	ck_assert_uint_eq(nlines, 4);
	ck_assert_str_eq(lines[3], "d");
}
END_TEST

START_TEST(test_stopping_in_the_line_callback_stops_delivery)
{
	make_lines(STREAM_READ, 64, 0);
	stop_at = 1;
	peer_write("a\nb\n");
	turn();
	turn();
	ck_assert_uint_eq(nlines, 1);
	ck_assert_str_eq(lines[0], "a");
	stream_resume(st);
	turn();
	ck_assert_uint_eq(nlines, 1);
}
END_TEST

START_TEST(test_a_line_over_max_is_too_long_once_then_input_is_discarded)
{
	make_lines(STREAM_READ, 8, 0);
	peer_write("ok\n0123456789");
	turn();
	ck_assert_uint_eq(nlines, 1);
	ck_assert_int_eq(too_longs, 1);
	ck_assert_uint_eq(evbuffer_get_length(stream_input(st)), 0);

	/* Its end and the lines after it are not lines. */
	peer_write("abc\nnext\n");
	turn();
	ck_assert_uint_eq(nlines, 1);
	ck_assert_int_eq(too_longs, 1);
	ck_assert_uint_eq(evbuffer_get_length(stream_input(st)), 0);

	close(peer);
	peer = -1;
	turn();
	ck_assert_int_eq(eofs, 1);
	ck_assert_int_eq(too_longs, 1);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(test_a_line_of_max_bytes_is_not_too_long)
{
	make_lines(STREAM_READ, 8, 0);
	peer_write("01234567\r\n");
	turn();
	ck_assert_uint_eq(nlines, 1);
	ck_assert_str_eq(lines[0], "01234567");
	ck_assert_int_eq(too_longs, 0);
}
END_TEST

START_TEST(test_split_mode_cuts_an_over_long_line_into_max_byte_lines)
{
	make_lines(STREAM_READ, 4, STREAM_LINES_SPLIT);
	peer_write("abcdefghij\nxy\n");
	turn();
	ck_assert_uint_eq(nlines, 4);
	ck_assert_str_eq(lines[0], "abcd");
	ck_assert_str_eq(lines[1], "efgh");
	ck_assert_str_eq(lines[2], "ij");
	ck_assert_str_eq(lines[3], "xy");
	ck_assert_int_eq(too_longs, 0);
}
END_TEST

START_TEST(test_split_mode_cuts_a_line_arriving_in_pieces)
{
	make_lines(STREAM_READ, 4, STREAM_LINES_SPLIT);
	peer_write("abc");
	turn();
	ck_assert_uint_eq(nlines, 0);
	peer_write("defghi");
	turn();
	ck_assert_uint_eq(nlines, 2);
	peer_write("j\n");
	turn();
	ck_assert_uint_eq(nlines, 3);
	ck_assert_str_eq(lines[0], "abcd");
	ck_assert_str_eq(lines[1], "efgh");
	ck_assert_str_eq(lines[2], "ij");
}
END_TEST

START_TEST(test_split_mode_gives_the_unterminated_tail_at_eof)
{
	make_lines(STREAM_READ, 16, STREAM_LINES_SPLIT);
	peer_write("first\nlast words");
	turn();
	ck_assert_uint_eq(nlines, 1);
	close(peer);
	peer = -1;
	turn();
	ck_assert_uint_eq(nlines, 2);
	ck_assert_str_eq(lines[1], "last words");
	/* The line came before the EOF. */
	ck_assert_int_eq(eofs_before_line, 0);
	ck_assert_int_eq(eofs, 1);
	ck_assert_uint_eq(evbuffer_get_length(stream_input(st)), 0);
}
END_TEST

START_TEST(test_without_split_an_unterminated_tail_is_no_line)
{
	make_lines(STREAM_READ, 16, 0);
	peer_write("first\nlast words");
	close(peer);
	peer = -1;
	turn();
	turn();
	ck_assert_uint_eq(nlines, 1);
	ck_assert_int_eq(eofs, 1);
}
END_TEST

static Suite *
stream_suite(void)
{
	Suite	*s = suite_create("stream");
	TCase	*tc = tcase_create("stream");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    test_output_waits_for_the_flush_and_goes_out_in_one_write);
	tcase_add_test(tc, test_what_a_read_produces_goes_out_right_after_it);
	tcase_add_test(tc,
	    test_flushing_one_queue_does_not_write_another_queues_streams);
	tcase_add_test(tc, test_nothing_is_queued_for_an_empty_output);
	tcase_add_test(tc, test_a_full_peer_gets_everything_in_order);
	tcase_add_test(tc, test_reads_hand_over_what_the_peer_wrote);
	tcase_add_test(tc, test_a_burst_larger_than_one_read_arrives_whole);
	tcase_add_test(tc, test_the_peer_closing_is_eof_once);
	tcase_add_test(tc, test_writing_to_a_closed_pipe_is_an_error);
	tcase_add_test(tc, test_a_stream_may_be_freed_by_its_error_callback);
	tcase_add_test(tc,
	    test_paused_streams_do_not_read_and_resume_hands_over_the_rest);
	tcase_add_test(tc,
	    test_resume_hands_over_buffered_input_without_new_bytes);
	tcase_add_test(tc, test_a_stopped_stream_writes_nothing);
	tcase_add_test(tc,
	    test_resuming_takes_buffered_lines_before_reading_more);
	tcase_add_test(tc, test_buffered_lines_are_taken_before_eof);
	tcase_add_test(tc, test_lines_arrive_one_by_one_in_order_across_reads);
	tcase_add_test(tc, test_a_line_split_across_two_reads_arrives_whole);
	tcase_add_test(tc, test_a_crlf_line_arrives_without_its_cr);
	tcase_add_test(tc,
	    test_lines_answered_from_the_callback_go_out_after_the_read);
	tcase_add_test(tc,
	    test_pausing_in_the_line_callback_stops_until_resumed);
	tcase_add_test(tc, test_stopping_in_the_line_callback_stops_delivery);
	tcase_add_test(tc,
	    test_a_line_over_max_is_too_long_once_then_input_is_discarded);
	tcase_add_test(tc, test_a_line_of_max_bytes_is_not_too_long);
	tcase_add_test(tc,
	    test_split_mode_cuts_an_over_long_line_into_max_byte_lines);
	tcase_add_test(tc, test_split_mode_cuts_a_line_arriving_in_pieces);
	tcase_add_test(tc, test_split_mode_gives_the_unterminated_tail_at_eof);
	tcase_add_test(tc, test_without_split_an_unterminated_tail_is_no_line);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(stream_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
