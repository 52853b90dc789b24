/*
 * NDJSON framing: lines out of a real evbuffer, the cap on their length,
 * CR tolerance, incremental scanning, and writing one message as one line.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <event2/buffer.h>

#include "frame.h"

/* A small cap, so the boundary cases are short to write. */
#define MAX	8

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static struct evbuffer	*buf;
static char		*text;
static cJSON		*msg, *back;

static void	setup(void);
static void	teardown(void);
static void	add(struct evbuffer *, const char *);
static char	*contents(struct evbuffer *);
static void	expect_line(struct frame *, struct evbuffer *, const char *);
static Suite	*frame_suite(void);

/* A fresh, empty buffer for each test. */
static void
setup(void)
{
	buf = evbuffer_new();
	ck_assert_ptr_nonnull(buf);
	text = NULL;
	msg = back = NULL;
}

/* Free whatever the test left. */
static void
teardown(void)
{
	evbuffer_free(buf);
	buf = NULL;
	free(text);
	text = NULL;
	cJSON_Delete(msg);
	cJSON_Delete(back);
	msg = back = NULL;
}

/* Append a C string to b. */
static void
add(struct evbuffer *b, const char *s)
{
	ck_assert_int_eq(evbuffer_add(b, s, strlen(s)), 0);
}

/* A NUL-terminated copy of everything in b, kept in text until teardown. */
static char *
contents(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);

	free(text);
	text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(evbuffer_copyout(b, text, len), (int)len);
	text[len] = '\0';
	return (text);
}

/* The next line must be want; consume it. */
static void
expect_line(struct frame *f, struct evbuffer *b, const char *want)
{
	struct frame_line	line;

	ck_assert_int_eq(frame_next(f, b, &line), FRAME_LINE);
	ck_assert_uint_eq(line.len, strlen(want));
	ck_assert_mem_eq(line.data, want, line.len);
	frame_done(f, b, &line);
}

START_TEST(test_complete_line_is_returned)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "{\"a\":1}\n");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_LINE);
	ck_assert_uint_eq(line.len, 7);
	ck_assert_mem_eq(line.data, "{\"a\":1}", 7);
	ck_assert_uint_eq(line.consumed, 8);
	frame_done(&f, buf, &line);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
}
END_TEST

START_TEST(test_several_lines_in_one_buffer_come_out_in_order)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "one\ntwo\nthree\n");
	expect_line(&f, buf, "one");
	expect_line(&f, buf, "two");
	expect_line(&f, buf, "three");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
}
END_TEST

START_TEST(test_partial_line_waits_for_the_rest)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "{\"jsonrpc\":");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	ck_assert_uint_eq(evbuffer_get_length(buf), 11);
	add(buf, "\"2.0\"}\n");
	expect_line(&f, buf, "{\"jsonrpc\":\"2.0\"}");
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
}
END_TEST

START_TEST(test_line_delivered_byte_by_byte)
{
	const char		*input = "{\"id\":1}\r\n";
	struct frame		 f;
	struct frame_line	 line;
	size_t			 i, n = strlen(input);

	frame_init(&f, 1024);
	for (i = 0; i < n - 1; i++) {
		ck_assert_int_eq(evbuffer_add(buf, input + i, 1), 0);
		ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
		ck_assert_uint_eq(f.scanned, i + 1);
	}
	ck_assert_int_eq(evbuffer_add(buf, input + n - 1, 1), 0);
	expect_line(&f, buf, "{\"id\":1}");
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
}
END_TEST

START_TEST(test_line_spanning_buffer_chunks_is_contiguous)
{
	static const char	 a[] = "{\"a\":", b[] = "\"xyz\"";
	static const char	 c[] = "}\nnext";
	struct frame		 f;

	/* References are separate chains: the line spans three chunks. */
	frame_init(&f, 1024);
	evbuffer_add_reference(buf, a, strlen(a), NULL, NULL);
	evbuffer_add_reference(buf, b, strlen(b), NULL, NULL);
	evbuffer_add_reference(buf, c, strlen(c), NULL, NULL);
	expect_line(&f, buf, "{\"a\":\"xyz\"}");
	ck_assert_uint_eq(evbuffer_get_length(buf), 4);
}
END_TEST

START_TEST(test_crlf_is_stripped)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "{}\r\n");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_LINE);
	ck_assert_uint_eq(line.len, 2);
	ck_assert_uint_eq(line.consumed, 4);
	ck_assert_mem_eq(line.data, "{}", 2);
	frame_done(&f, buf, &line);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
}
END_TEST

START_TEST(test_lone_cr_inside_line_is_kept)
{
	struct frame	 f;

	frame_init(&f, 1024);
	add(buf, "a\rb\n\rc\r\n");
	expect_line(&f, buf, "a\rb");
	expect_line(&f, buf, "\rc");
}
END_TEST

START_TEST(test_empty_and_cr_only_lines_are_skipped)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "\n\r\n\n\r\none\n\r\n\ntwo\n\n");
	expect_line(&f, buf, "one");
	expect_line(&f, buf, "two");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	/* The trailing empty line was drained, not left behind. */
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
}
END_TEST

START_TEST(test_only_empty_lines_give_again_and_empty_buffer)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "\r\n\n\r\n");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
}
END_TEST

START_TEST(test_line_of_exactly_max_bytes_is_accepted)
{
	struct frame	 f;

	frame_init(&f, MAX);
	add(buf, "12345678\n");
	expect_line(&f, buf, "12345678");
}
END_TEST

START_TEST(test_line_of_max_bytes_plus_cr_is_accepted)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, MAX);
	add(buf, "12345678\r\n");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_LINE);
	ck_assert_uint_eq(line.len, MAX);
	ck_assert_uint_eq(line.consumed, MAX + 2);
	frame_done(&f, buf, &line);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
}
END_TEST

START_TEST(test_max_bytes_plus_cr_without_newline_waits)
{
	struct frame		 f;
	struct frame_line	 line;

	/* The '\r' may be the tolerated one: the newline decides. */
	frame_init(&f, MAX);
	add(buf, "12345678\r");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	add(buf, "\n");
	expect_line(&f, buf, "12345678");
}
END_TEST

START_TEST(test_line_of_max_plus_one_bytes_is_refused)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, MAX);
	add(buf, "123456789\n");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_TOO_LONG);
}
END_TEST

START_TEST(test_line_of_max_plus_one_bytes_is_refused_before_newline)
{
	struct frame		 f;
	struct frame_line	 line;

	/* max+1 bytes, the last not '\r': no newline can make it fit. */
	frame_init(&f, MAX);
	add(buf, "123456789");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_TOO_LONG);
}
END_TEST

START_TEST(test_line_of_max_plus_two_bytes_is_refused_before_newline)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, MAX);
	add(buf, "1234567");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	add(buf, "8\r\r");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_TOO_LONG);
}
END_TEST

START_TEST(test_long_line_after_a_good_one_is_refused)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, MAX);
	add(buf, "ok\n1234567890\n");
	expect_line(&f, buf, "ok");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_TOO_LONG);
}
END_TEST

START_TEST(test_long_partial_line_is_not_rescanned)
{
	struct frame		 f;
	struct frame_line	 line;
	char			 chunk[1000];

	memset(chunk, 'x', sizeof chunk);
	frame_init(&f, 1u << 20);
	ck_assert_uint_eq(f.scanned, 0);
	ck_assert_int_eq(evbuffer_add(buf, chunk, sizeof chunk), 0);
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	ck_assert_uint_eq(f.scanned, 1000);
	ck_assert_int_eq(evbuffer_add(buf, chunk, 500), 0);
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	ck_assert_uint_eq(f.scanned, 1500);
	/* Nothing new: nothing to scan, the mark stays. */
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	ck_assert_uint_eq(f.scanned, 1500);
	add(buf, "\n");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_LINE);
	ck_assert_uint_eq(line.len, 1500);
	frame_done(&f, buf, &line);
	ck_assert_uint_eq(f.scanned, 0);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
}
END_TEST

START_TEST(test_frame_done_drains_exactly_the_line)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "first\r\nsecond\nthi");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_LINE);
	ck_assert_uint_eq(line.consumed, 7);
	frame_done(&f, buf, &line);
	ck_assert_str_eq(contents(buf), "second\nthi");
}
END_TEST

START_TEST(test_data_after_the_line_stays_in_the_buffer)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "{\"id\":1}\n{\"id\":");
	expect_line(&f, buf, "{\"id\":1}");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_AGAIN);
	ck_assert_str_eq(contents(buf), "{\"id\":");
	add(buf, "2}\n");
	expect_line(&f, buf, "{\"id\":2}");
}
END_TEST

START_TEST(test_unconsumed_line_is_returned_again)
{
	struct frame		 f;
	struct frame_line	 line;

	frame_init(&f, 1024);
	add(buf, "same\nnext\n");
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_LINE);
	expect_line(&f, buf, "same");
	expect_line(&f, buf, "next");
}
END_TEST

START_TEST(test_frame_write_produces_one_line_with_escaped_newlines)
{
	msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "text", "two\nlines\r\n");
	cJSON_AddNumberToObject(msg, "n", 1);
	ck_assert_int_eq(frame_write(buf, msg), 0);
	ck_assert_str_eq(contents(buf),
	    "{\"text\":\"two\\nlines\\r\\n\",\"n\":1}\n");
	ck_assert_ptr_eq(strchr(text, '\n'), text + strlen(text) - 1);
	ck_assert_ptr_null(strchr(text, '\r'));
}
END_TEST

START_TEST(test_frame_write_appends_after_queued_data)
{
	msg = cJSON_CreateObject();
	add(buf, "{}\n");
	cJSON_AddStringToObject(msg, "a", "b");
	ck_assert_int_eq(frame_write(buf, msg), 0);
	ck_assert_int_eq(frame_write(buf, msg), 0);
	ck_assert_str_eq(contents(buf), "{}\n{\"a\":\"b\"}\n{\"a\":\"b\"}\n");
}
END_TEST

START_TEST(test_frame_write_output_reads_back_as_the_same_line)
{
	struct frame		 f;
	struct frame_line	 line;

	msg = cJSON_CreateObject();
	frame_init(&f, 1024);
	cJSON_AddStringToObject(msg, "s", "a\nb");
	ck_assert_int_eq(frame_write(buf, msg), 0);
	ck_assert_int_eq(frame_next(&f, buf, &line), FRAME_LINE);
	back = cJSON_ParseWithLength(line.data, line.len);
	ck_assert_ptr_nonnull(back);
	ck_assert(cJSON_Compare(msg, back, 1));
	frame_done(&f, buf, &line);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
}
END_TEST

/* Every framing behaviour, one test case. */
static Suite *
frame_suite(void)
{
	Suite	*s = suite_create("frame");
	TCase	*tc = tcase_create("frame");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_complete_line_is_returned);
	tcase_add_test(tc, test_several_lines_in_one_buffer_come_out_in_order);
	tcase_add_test(tc, test_partial_line_waits_for_the_rest);
	tcase_add_test(tc, test_line_delivered_byte_by_byte);
	tcase_add_test(tc, test_line_spanning_buffer_chunks_is_contiguous);
	tcase_add_test(tc, test_crlf_is_stripped);
	tcase_add_test(tc, test_lone_cr_inside_line_is_kept);
	tcase_add_test(tc, test_empty_and_cr_only_lines_are_skipped);
	tcase_add_test(tc, test_only_empty_lines_give_again_and_empty_buffer);
	tcase_add_test(tc, test_line_of_exactly_max_bytes_is_accepted);
	tcase_add_test(tc, test_line_of_max_bytes_plus_cr_is_accepted);
	tcase_add_test(tc, test_max_bytes_plus_cr_without_newline_waits);
	tcase_add_test(tc, test_line_of_max_plus_one_bytes_is_refused);
	tcase_add_test(tc,
	    test_line_of_max_plus_one_bytes_is_refused_before_newline);
	tcase_add_test(tc,
	    test_line_of_max_plus_two_bytes_is_refused_before_newline);
	tcase_add_test(tc, test_long_line_after_a_good_one_is_refused);
	tcase_add_test(tc, test_long_partial_line_is_not_rescanned);
	tcase_add_test(tc, test_frame_done_drains_exactly_the_line);
	tcase_add_test(tc, test_data_after_the_line_stays_in_the_buffer);
	tcase_add_test(tc, test_unconsumed_line_is_returned_again);
	tcase_add_test(tc,
	    test_frame_write_produces_one_line_with_escaped_newlines);
	tcase_add_test(tc, test_frame_write_appends_after_queued_data);
	tcase_add_test(tc, test_frame_write_output_reads_back_as_the_same_line);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(frame_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
