/*
 * Escaping what clients and children send before it reaches a log line:
 * control characters and bytes that are not UTF-8 as \xNN, backslashes
 * doubled, valid UTF-8 kept; and the log writes every line escaped whole.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"
#include "xmalloc.h"

static char	*esc(const char *, int);
static char	*capture(void (*)(void));
static Suite	*log_suite(void);

/* s (a C string) escaped with flags; the caller frees it. */
static char *
esc(const char *s, int flags)
{
	return (escape_dup(s, strlen(s), flags));
}

/*
 * What fn writes to the log (stderr outside journald), as one string the
 * caller frees.
 */
static char *
capture(void (*fn)(void))
{
	char	 path[] = "/tmp/mcpb-test-log.XXXXXX", *text;
	int	 fd, saved;
	off_t	 size;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	unlink(path);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LEVEL_DEBUG);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	size = lseek(fd, 0, SEEK_END);
	text = xcalloc(1, (size_t)size + 1);
	ck_assert_int_eq(pread(fd, text, (size_t)size, 0), size);
	close(fd);
	return (text);
}

START_TEST(test_control_characters_become_hex_escapes)
{
	char	*s;

	s = esc("a\nb\rc\x1b[31md\x7f" "e\tf\001", ESCAPE_BACKSLASH);
	ck_assert_str_eq(s, "a\\x0ab\\x0dc\\x1b[31md\\x7fe\\x09f\\x01");
	free(s);
}
END_TEST

START_TEST(test_a_nul_byte_is_escaped_not_an_end)
{
	char	buf[64];

	escape_text(buf, sizeof buf, "a\0b", 3, ESCAPE_BACKSLASH);
	ck_assert_str_eq(buf, "a\\x00b");
}
END_TEST

START_TEST(test_backslash_is_doubled_so_escapes_are_unambiguous)
{
	char	*s;

	s = esc("C:\\x1b is text", ESCAPE_BACKSLASH);
	ck_assert_str_eq(s, "C:\\\\x1b is text");
	free(s);
	s = esc("C:\\dir", 0);
	ck_assert_str_eq(s, "C:\\dir");
	free(s);
}
END_TEST

START_TEST(test_valid_utf8_passes_unchanged)
{
	const char	*text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
			    "\xef\xbf\xbf end";
	char		*s;

	s = esc(text, ESCAPE_BACKSLASH);
	ck_assert_str_eq(s, text);
	free(s);
}
END_TEST

START_TEST(test_bytes_that_are_not_utf8_become_hex_escapes)
{
	char	*s;

	/* A stray continuation, 0xff, a cut sequence at the end. */
	s = esc("a\x80" "b\xff" "c\xe2\x82", 0);
	ck_assert_str_eq(s, "a\\x80b\\xffc\\xe2\\x82");
	free(s);
	/* Overlong '/', a surrogate, a code point over U+10FFFF. */
	s = esc("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80", 0);
	ck_assert_str_eq(s, "\\xc0\\xaf|\\xed\\xa0\\x80|"
	    "\\xf4\\x90\\x80\\x80");
	free(s);
	/* A lead byte followed by ASCII: the ASCII is kept. */
	s = esc("\xe2" "ab", 0);
	ck_assert_str_eq(s, "\\xe2ab");
	free(s);
}
END_TEST

/* escape_utf8 keeps controls but replaces what JSON cannot carry. */
START_TEST(test_utf8_repair_replaces_bad_bytes_and_nul)
{
	char	*s;

	s = escape_utf8("a\x1b\xff\0\xc3\xa9\xe2\x82", 8);
	ck_assert_str_eq(s, "a\x1b\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9"
	    "\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
}
END_TEST

START_TEST(test_c1_controls_are_escaped)
{
	char	*s;

	/* U+009B is CSI: some terminals act on it as on ESC [. */
	s = esc("a\xc2\x9b" "31mb\xc2\xa0" "c", 0);
	ck_assert_str_eq(s, "a\\xc2\\x9b31mb\xc2\xa0" "c");
	free(s);
}
END_TEST

START_TEST(test_newlines_can_be_kept_for_free_text)
{
	char	*s;

	s = esc("one\ntwo\tthree\r\x1b", ESCAPE_KEEP_NEWLINES);
	ck_assert_str_eq(s, "one\ntwo\tthree\\x0d\\x1b");
	free(s);
}
END_TEST

START_TEST(test_output_is_cut_between_escapes_never_inside)
{
	char	buf[8];
	size_t	n;

	n = escape_text(buf, sizeof buf, "ab\x1b" "cd", 5, 0);
	/* "ab\x1b" is 6 bytes, "c" fits: 7 with room for the NUL. */
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(buf, "ab\\x1bc");
	n = escape_text(buf, 5, "ab\x1b" "cd", 5, 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(buf, "ab");
	n = escape_text(buf, 4, "a\xc3\xa9", 3, 0);
	ck_assert_str_eq(buf, "a\xc3\xa9");
	n = escape_text(buf, 3, "a\xc3\xa9", 3, 0);
	ck_assert_str_eq(buf, "a");
}
END_TEST

START_TEST(test_json_keeps_its_meaning_without_raw_controls)
{
	char	*s;

	/* cJSON prints C0 controls as \u escapes; DEL, C1 stay raw. */
	s = escape_json("{\"a\":\"x\x7fy\xc2\x9bz\xc3\xa9\xff\\u001b\"}");
	ck_assert_str_eq(s, "{\"a\":\"x\\u007fy\\u009bz\xc3\xa9\\ufffd"
	    "\\u001b\"}");
	free(s);
}
END_TEST

/* A child's line that tries to end the log line and forge another. */
static void
log_forged(void)
{
	log_info("session s1: demo[42] stderr: %s",
	    "x\n2026-01-01T00:00:00.000Z error: forged\r\x1b[2K\\");
}

START_TEST(test_a_value_cannot_split_or_forge_a_log_line)
{
	char	*text, *nl;

	text = capture(log_forged);
	nl = strchr(text, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_msg(nl[1] == '\0', "more than one line: %s", text);
	ck_assert_ptr_null(strchr(text, '\r'));
	ck_assert_ptr_null(strchr(text, '\x1b'));
	ck_assert_ptr_nonnull(strstr(text, " info: session s1: demo[42] "
	    "stderr: x\\x0a2026-01-01T00:00:00.000Z error: forged"
	    "\\x0d\\x1b[2K\\\\\n"));
	free(text);
}
END_TEST

/* strerror's text is escaped too (it is just another string). */
static void
log_warn_enoent(void)
{
	errno = ENOENT;
	log_warn("open %s", "a\tb");
}

START_TEST(test_warn_escapes_the_message_and_keeps_strerror)
{
	char	*text;

	text = capture(log_warn_enoent);
	ck_assert_ptr_nonnull(strstr(text, " warning: open a\\x09b: "));
	ck_assert_ptr_nonnull(strstr(text, strerror(ENOENT)));
	free(text);
}
END_TEST

/* The log's suite. */
static Suite *
log_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("log");
	tc = tcase_create("escape");
	tcase_add_test(tc, test_control_characters_become_hex_escapes);
	tcase_add_test(tc, test_a_nul_byte_is_escaped_not_an_end);
	tcase_add_test(tc,
	    test_backslash_is_doubled_so_escapes_are_unambiguous);
	tcase_add_test(tc, test_valid_utf8_passes_unchanged);
	tcase_add_test(tc, test_bytes_that_are_not_utf8_become_hex_escapes);
	tcase_add_test(tc, test_c1_controls_are_escaped);
	tcase_add_test(tc, test_utf8_repair_replaces_bad_bytes_and_nul);
	tcase_add_test(tc, test_newlines_can_be_kept_for_free_text);
	tcase_add_test(tc, test_output_is_cut_between_escapes_never_inside);
	tcase_add_test(tc, test_json_keeps_its_meaning_without_raw_controls);
	suite_add_tcase(s, tc);

	tc = tcase_create("lines");
	tcase_add_test(tc, test_a_value_cannot_split_or_forge_a_log_line);
	tcase_add_test(tc, test_warn_escapes_the_message_and_keeps_strerror);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; nonzero exit on any failure. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(log_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
