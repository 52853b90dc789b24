/*
 * The fast path for a child's answers (proto/scan.h): which lines
 * scan_result takes, with which id and which body text; which it leaves
 * to jsonrpc_parse; and that it never takes a line the full parser would
 * read differently.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "jsonrpc.h"
#include "scan.h"

/* A line as a child writes it, and whether the fast path may take it. */
struct scan_case {
	const char	*text;
	int		 accepted;
};

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static char			*copy;		/* the scanned text */
static struct scan_result	 r;
static struct jsonrpc_msg	 msg;
static struct jsonrpc_fault	 fault;
static cJSON			*body_tree;
static char			*built, *printed, *want_printed;
static unsigned char		*long_string;

static void	setup(void);
static void	teardown(void);
static int	scan_bytes(const char *, size_t);
static int	scan(const char *);
static void	expect_accepted(const char *, long long, const char *);
static void	expect_refused(const char *);
static void	expect_refused_in_result(const char *);
static char	*nested(const char *, const char *, int);
static char	*members(int, int);
static char	*string_line(const unsigned char *, size_t, size_t *);
static int	id_is(const cJSON *, int64_t);
static const char *same_as_parser(const char *);
static Suite	*scan_suite(void);

/* Nothing scanned, parsed or printed yet. */
static void
setup(void)
{
	copy = NULL;
	memset(&r, 0, sizeof r);
	memset(&msg, 0, sizeof msg);
	memset(&fault, 0, sizeof fault);
	body_tree = NULL;
	built = printed = want_printed = NULL;
	long_string = NULL;
}

/* Free whatever the test left. */
static void
teardown(void)
{
	free(copy);
	copy = NULL;
	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
	cJSON_Delete(body_tree);
	body_tree = NULL;
	free(built);
	free(printed);
	free(want_printed);
	built = printed = want_printed = NULL;
	free(long_string);
	long_string = NULL;
}

/*
 * scan_result() of len bytes, copied to a buffer of exactly that size so
 * that a read past the line is caught (valgrind, ASan): the daemon hands
 * it lines with no NUL after them.
 */
static int
scan_bytes(const char *text, size_t len)
{
	free(copy);
	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	memset(&r, 0, sizeof r);
	return (scan_result(copy, len, &r));
}

/* scan_result() of a C string. */
static int
scan(const char *text)
{
	return (scan_bytes(text, strlen(text)));
}

/* text must be taken with id and exactly body as the result's members. */
static void
expect_accepted(const char *text, long long id, const char *body)
{
	ck_assert_msg(scan(text) == 0, "refused: %s", text);
	ck_assert_msg(r.id == id, "%s: id %lld, want %lld", text,
	    (long long)r.id, id);
	ck_assert_msg(r.body_len == strlen(body) && (r.body_len == 0 ||
	    memcmp(r.body, body, r.body_len) == 0),
	    "%s: body \"%.*s\", want \"%s\"", text, (int)r.body_len,
	    r.body != NULL ? r.body : "", body);
	ck_assert_msg(r.body >= copy && r.body + r.body_len <= copy +
	    strlen(text), "%s: body outside the line", text);
}

/* text must be left to the full parser. */
static void
expect_refused(const char *text)
{
	ck_assert_msg(scan(text) == -1, "accepted: %s", text);
}

/* {"jsonrpc":"2.0","id":1,"result":<value>} must be left to the parser. */
static void
expect_refused_in_result(const char *value)
{
	char	line[256];

	snprintf(line, sizeof line,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":%s}", value);
	expect_refused(line);
}

/* A line whose result holds depth - 1 more levels of open/close. */
static char *
nested(const char *open, const char *close, int depth)
{
	static const char	head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"a\":";
	size_t			n, i, len;
	char			*text, *p;

	n = (size_t)depth - 1;
	len = strlen(head) + n * (strlen(open) + strlen(close)) + 3 + 1;
	text = malloc(len);
	ck_assert_ptr_nonnull(text);
	p = text;
	memcpy(p, head, strlen(head));
	p += strlen(head);
	for (i = 0; i < n; i++) {
		memcpy(p, open, strlen(open));
		p += strlen(open);
	}
	*p++ = '1';
	for (i = 0; i < n; i++) {
		memcpy(p, close, strlen(close));
		p += strlen(close);
	}
	memcpy(p, "}}", 3);
	return (text);
}

/* A line whose result has n members, the object nested depth deep. */
static char *
members(int n, int depth)
{
	char	*text, *p;
	int	 i;

	text = malloc(64 + (size_t)n * 16 + (size_t)depth * 8);
	ck_assert_ptr_nonnull(text);
	p = text + sprintf(text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{");
	for (i = 1; i < depth; i++)
		p += sprintf(p, "\"o\":{");
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"k%d\":%d", i > 0 ? "," : "", i, i);
	for (i = 1; i < depth; i++)
		*p++ = '}';
	strcpy(p, "}}");
	return (text);
}

/* A line whose result is {"s":"<len bytes>"}, and its length. */
static char *
string_line(const unsigned char *bytes, size_t len, size_t *line_len)
{
	static const char	head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"s\":\"";
	char			*text;

	text = malloc(sizeof head - 1 + len + 4);
	ck_assert_ptr_nonnull(text);
	memcpy(text, head, sizeof head - 1);
	memcpy(text + sizeof head - 1, bytes, len);
	memcpy(text + sizeof head - 1 + len, "\"}}", 4);
	*line_len = sizeof head - 1 + len + 3;
	return (text);
}

/*
 * Whether id, as jsonrpc_parse keeps it, is the integer want: a number,
 * or (beyond an int) the raw text of one.
 */
static int
id_is(const cJSON *id, int64_t want)
{
	char	*end;

	if (cJSON_IsNumber(id))
		return (id->valuedouble == (double)want);
	if (cJSON_IsRaw(id))
		return (strtoll(id->valuestring, &end, 10) == want &&
		    *end == '\0');
	return (0);
}

/*
 * Whether a line scan_result took reads the same through jsonrpc_parse:
 * a response under the same id, whose result has no "_meta" member and
 * prints as "{" + body + "}" does. NULL if so, else what differs.
 */
static const char *
same_as_parser(const char *text)
{
	size_t	len = strlen(text);

	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
	if (jsonrpc_parse(copy, len, &msg, &fault) != 0)
		return ("jsonrpc_parse refuses it");
	if (msg.kind != JSONRPC_RESPONSE)
		return ("not a response to jsonrpc_parse");
	if (!id_is(msg.id, r.id))
		return ("another id");
	if (!cJSON_IsObject(msg.result))
		return ("no result object");
	if (cJSON_GetObjectItemCaseSensitive(msg.result, "_meta") != NULL)
		return ("the result has a \"_meta\" member");

	free(built);
	built = malloc(r.body_len + 3);
	ck_assert_ptr_nonnull(built);
	built[0] = '{';
	memcpy(built + 1, r.body, r.body_len);
	memcpy(built + 1 + r.body_len, "}", 2);
	cJSON_Delete(body_tree);
	if ((body_tree = cJSON_Parse(built)) == NULL)
		return ("\"{\" + body + \"}\" is not JSON");

	free(printed);
	free(want_printed);
	printed = cJSON_PrintUnformatted(msg.result);
	want_printed = cJSON_PrintUnformatted(body_tree);
	ck_assert_ptr_nonnull(printed);
	ck_assert_ptr_nonnull(want_printed);
	if (strcmp(printed, want_printed) != 0)
		return ("the body is not the result");
	return (NULL);
}

/* Accepted: the plain shape, exactly. */

START_TEST(test_plain_success_response_gives_its_id_and_body)
{
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}}", 1,
	    "\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":"
	    "{\"a\":1,\"b\":2}}", 42, "\"a\":1,\"b\":2");
}
END_TEST

START_TEST(test_members_in_any_order_are_accepted)
{
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"x\":true}}",
		"{\"jsonrpc\":\"2.0\",\"result\":{\"x\":true},\"id\":7}",
		"{\"id\":7,\"jsonrpc\":\"2.0\",\"result\":{\"x\":true}}",
		"{\"id\":7,\"result\":{\"x\":true},\"jsonrpc\":\"2.0\"}",
		"{\"result\":{\"x\":true},\"jsonrpc\":\"2.0\",\"id\":7}",
		"{\"result\":{\"x\":true},\"id\":7,\"jsonrpc\":\"2.0\"}",
	};
	size_t	i;

	for (i = 0; i < sizeof lines / sizeof *lines; i++)
		expect_accepted(lines[i], 7, "\"x\":true");
}
END_TEST

START_TEST(test_whitespace_wherever_json_allows_it_is_accepted)
{
	/* Around every token; the body keeps what is inside its braces
	   from the first member on. */
	expect_accepted(" \t\r\n{ \t\r\n\"jsonrpc\" \t\r\n: \t\r\n\"2.0\""
	    " \t\r\n, \t\r\n\"id\" \t\r\n: \t\r\n5 \t\r\n, \t\r\n\"result\""
	    " \t\r\n: \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n,"
	    " \t\r\n{ \t\r\n} \t\r\n, \t\r\n[ \t\r\n] \t\r\n] \t\r\n}"
	    " \t\r\n} \t\r\n", 5,
	    "\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \t\r\n} \t\r\n,"
	    " \t\r\n[ \t\r\n] \t\r\n] \t\r\n");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\n\"a\":1}}",
	    5, "\"a\":1");
}
END_TEST

START_TEST(test_empty_result_gives_an_empty_body)
{
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}", 3, "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{ \t\r\n}}",
	    3, "");
	ck_assert_uint_eq(r.body_len, 0);
}
END_TEST

START_TEST(test_nested_values_and_every_escape_are_accepted)
{
	static const char	body[] =
	    "\"s\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t"
	    " \\u0041\\u00e9\\u20AC\\uD83D\\uDE00 \xc3\xa9 \x7f\","
	    "\"o\":{\"\\u006b\\n\":{\"a\":[1,-2.5,3e10,-0.0E-2,4E+1,0,true,"
	    "false,null,\"\",[],{},[[{\"b\":[{}]}]]]}},\"\":\"empty key\"";
	char			 line[512];

	snprintf(line, sizeof line,
	    "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{%s}}", body);
	expect_accepted(line, 9, body);
}
END_TEST

START_TEST(test_negative_zero_and_fifteen_digit_ids_are_accepted)
{
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":-17,\"result\":{}}", -17,
	    "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}}", 0, "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":-0,\"result\":{}}", 0, "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":999999999999999,"
	    "\"result\":{}}", 999999999999999LL, "");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":-123456789012345,"
	    "\"result\":{}}", -123456789012345LL, "");
}
END_TEST

START_TEST(test_meta_deeper_than_the_results_top_level_is_accepted)
{
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":"
	    "{\"_meta\":{\"k\":1}},\"b\":[{\"_meta\":2}],\"c\":\"_meta\"}}", 1,
	    "\"a\":{\"_meta\":{\"k\":1}},\"b\":[{\"_meta\":2}],"
	    "\"c\":\"_meta\"");
	expect_accepted("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"_metadata\":1,\"meta\":2,\"__meta\":3}}", 1,
	    "\"_metadata\":1,\"meta\":2,\"__meta\":3");
}
END_TEST

START_TEST(test_result_nested_to_the_depth_limit_is_accepted)
{
	/* The result itself is depth 1. */
	built = nested("[", "]", SCAN_MAX_DEPTH);
	ck_assert_msg(scan(built) == 0, "depth %d refused", SCAN_MAX_DEPTH);
	free(built);
	built = nested("{\"k\":", "}", SCAN_MAX_DEPTH);
	ck_assert_msg(scan(built) == 0, "depth %d refused", SCAN_MAX_DEPTH);
}
END_TEST

START_TEST(test_result_with_the_most_members_allowed_is_accepted)
{
	built = members(SCAN_MAX_KEYS, 1);
	ck_assert_msg(scan(built) == 0, "%d members refused", SCAN_MAX_KEYS);
	free(built);
	/* Deeper objects are not counted. */
	built = members(10 * SCAN_MAX_KEYS, 2);
	ck_assert_msg(scan(built) == 0, "%d members one level down refused",
	    10 * SCAN_MAX_KEYS);
}
END_TEST

START_TEST(test_every_byte_from_space_up_is_allowed_raw_in_strings)
{
	unsigned char	buf[8 + 256];
	size_t		n, pad, len;
	int		c;

	/* After 0 to 7 bytes, so each lands at every offset of a word. */
	for (pad = 0; pad < 8; pad++) {
		memset(buf, 'x', pad);
		n = pad;
		for (c = 0x20; c <= 0xff; c++) {
			if (c != '"' && c != '\\')
				buf[n++] = (unsigned char)c;
		}
		free(built);
		built = string_line(buf, n, &len);
		ck_assert_msg(scan_bytes(built, len) == 0,
		    "refused after %zu bytes", pad);
		ck_assert_uint_eq(r.body_len, strlen("\"s\":\"\"") + n);
	}
}
END_TEST

START_TEST(test_long_runs_of_escapes_scan_in_linear_time)
{
	static const char *const escapes[] = { "\\n", "\\\"", "\\u00e9" };
	size_t		 i, n, len, esc, line_len;
	clock_t		 start;
	double		 cpu;

	/* A megabyte of text that is mostly escapes, as JSON encodes a
	   file of short lines: cJSON takes milliseconds. */
	len = 1 << 20;
	long_string = malloc(len);
	ck_assert_ptr_nonnull(long_string);
	for (i = 0; i < sizeof escapes / sizeof *escapes; i++) {
		esc = strlen(escapes[i]);
		for (n = 0; n + esc <= len; n += esc)
			memcpy(long_string + n, escapes[i], esc);
		free(built);
		built = string_line(long_string, n, &line_len);
		start = clock();
		ck_assert_int_eq(scan_bytes(built, line_len), 0);
		cpu = (double)(clock() - start) / CLOCKS_PER_SEC;
		ck_assert_msg(cpu < 0.5, "%zu bytes of %s took %.2f s", n,
		    escapes[i], cpu);
	}
}
END_TEST

/* Refused: other messages. */

START_TEST(test_error_responses_are_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":"
	    "{\"code\":-32601,\"message\":\"no\"}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
	    "\"error\":{\"code\":-32601,\"message\":\"no\"}}");
}
END_TEST

START_TEST(test_requests_and_notifications_are_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"roots/list\",\"params\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/progress\",\"params\":{\"progress\":1}}");
}
END_TEST

START_TEST(test_missing_members_are_refused)
{
	expect_refused("{\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1}");
	expect_refused("{\"jsonrpc\":\"2.0\"}");
	expect_refused("{}");
}
END_TEST

START_TEST(test_other_jsonrpc_versions_are_refused)
{
	expect_refused("{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":2.0,\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0 \",\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2\",\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":null,\"id\":1,\"result\":{}}");
}
END_TEST

START_TEST(test_repeated_top_level_members_are_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":1,"
	    "\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
	    "\"result\":{}}");
}
END_TEST

START_TEST(test_extra_top_level_members_are_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
	    "\"x\":1}");
	expect_refused("{\"x\":1,\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},"
	    "\"_meta\":{}}");
	/* The same keys, spelled with escapes. */
	expect_refused("{\"jsonrpc\":\"2.0\",\"\\u0069d\":1,\"result\":{}}");
}
END_TEST

START_TEST(test_ids_other_than_short_plain_integers_are_refused)
{
	static const char *const ids[] = {
		"\"1\"", "1.5", "1.0", "1e3", "1E3", "-1e0",
		"1000000000000000", "-1000000000000000", "01", "-01", "00",
		"-", "+1", "null", "true", "{}", "[1]", "0x1",
	};
	char	line[128];
	size_t	i;

	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		snprintf(line, sizeof line,
		    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}", ids[i]);
		expect_refused(line);
	}
}
END_TEST

START_TEST(test_result_that_is_not_an_object_is_refused)
{
	static const char *const values[] = {
		"[]", "[{}]", "\"{}\"", "1", "null", "true", "false",
	};
	size_t	i;

	for (i = 0; i < sizeof values / sizeof *values; i++)
		expect_refused_in_result(values[i]);
}
END_TEST

START_TEST(test_meta_at_the_results_top_level_is_refused)
{
	expect_refused_in_result("{\"_meta\":{}}");
	expect_refused_in_result("{\"_meta\":null}");
	expect_refused_in_result("{\"a\":1,\"_meta\":{\"k\":1}}");
	expect_refused_in_result("{\"a\":1,\"_meta\":1,\"b\":2}");
	expect_refused_in_result("{ \"_meta\" : {} }");
	/* cJSON and every client decode the key: it is "_meta" all the
	   same, and would sit beside the broker's own. */
	expect_refused_in_result("{\"\\u005fmeta\":{\"k\":1}}");
	expect_refused_in_result("{\"_m\\u0065ta\":{}}");
	expect_refused_in_result("{\"\\u005Fmeta\":{}}");
}
END_TEST

START_TEST(test_escaped_keys_at_the_results_top_level_are_refused)
{
	/* The broker splices its "_meta" beside them as text: it cannot
	   tell one spelled with escapes from its own. */
	expect_refused_in_result("{\"k\\u00e9\":1}");
	expect_refused_in_result("{\"a\":1,\"\\\"\":2}");
	expect_refused_in_result("{\"a\\nb\":1}");
}
END_TEST

START_TEST(test_result_with_more_members_than_allowed_is_refused)
{
	built = members(SCAN_MAX_KEYS + 1, 1);
	ck_assert_msg(scan(built) == -1, "%d members accepted",
	    SCAN_MAX_KEYS + 1);
}
END_TEST

START_TEST(test_repeated_members_of_the_result_are_refused)
{
	/* jsonrpc_parse refuses these (jsonrpc_check_duplicates), so the
	   fast path must not pass them on. */
	expect_refused_in_result("{\"a\":1,\"a\":2}");
	expect_refused_in_result("{\"a\":1,\"b\":{},\"a\":1}");
	expect_refused_in_result("{\"a\":1,\"\\u0061\":2}");
}
END_TEST

START_TEST(test_control_characters_in_strings_are_refused)
{
	static const char	nul[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"a\":\"\0\"}}";
	static const char *const values[] = {
		"{\"a\":\"x\x01y\"}", "{\"a\":\"\x1f\"}", "{\"a\":\"\t\"}",
		"{\"a\":\"\n\"}", "{\"a\":\"\\n\r\"}", "{\"a\x02\":1}",
		"{\"a\":[{\"b\":\"\\\"\x10\"}]}",
	};
	size_t	i;

	for (i = 0; i < sizeof values / sizeof *values; i++)
		expect_refused_in_result(values[i]);
	/* A NUL byte is a control character too. */
	ck_assert_int_eq(scan_bytes(nul, sizeof nul - 1), -1);
	expect_refused("{\"jsonrpc\":\"2.0\x01\",\"id\":1,\"result\":{}}");
}
END_TEST

START_TEST(test_control_character_anywhere_in_a_string_is_refused)
{
	unsigned char	buf[40];
	size_t		len, at, n;
	int		c;

	/* Every control byte at every offset of strings of many lengths,
	   and after an escape. */
	for (len = 1; len <= sizeof buf; len++) {
		for (at = 0; at < len; at++) {
			for (c = 0x00; c < 0x20; c++) {
				memset(buf, 'x', len);
				buf[at] = (unsigned char)c;
				free(built);
				built = string_line(buf, len, &n);
				ck_assert_msg(scan_bytes(built, n) == -1,
				    "0x%02x at %zu of %zu accepted", c, at,
				    len);
				if (at < 2)
					continue;
				buf[0] = '\\';
				buf[1] = 'n';
				free(built);
				built = string_line(buf, len, &n);
				ck_assert_msg(scan_bytes(built, n) == -1,
				    "0x%02x at %zu of %zu after \\n accepted",
				    c, at, len);
			}
		}
	}
}
END_TEST

START_TEST(test_bad_escapes_are_refused)
{
	static const char *const values[] = {
		"{\"a\":\"\\x41\"}", "{\"a\":\"\\'\"}", "{\"a\":\"\\U0041\"}",
		"{\"a\":\"\\u41\"}", "{\"a\":\"\\u004\"}",
		"{\"a\":\"\\u00G1\"}", "{\"a\":\"\\u 041\"}",
		"{\"a\":\"\\0\"}", "{\"a\":\"\\\x01\"}", "{\"a\\q\":1}",
		"{\"a\":\"\\\"}",
	};
	size_t	i;

	for (i = 0; i < sizeof values / sizeof *values; i++)
		expect_refused_in_result(values[i]);
}
END_TEST

START_TEST(test_escapes_the_full_parser_refuses_are_refused)
{
	/* cJSON refuses a lone or reversed UTF-16 surrogate, so
	   jsonrpc_parse calls the line not JSON: the fast path must not
	   forward it either. */
	expect_refused_in_result("{\"a\":\"\\uD800\"}");
	expect_refused_in_result("{\"a\":\"\\uDC00\"}");
	expect_refused_in_result("{\"a\":\"\\uDE00\\uD83D\"}");
	expect_refused_in_result("{\"a\":\"\\uD83D\\u0041\"}");
	expect_refused_in_result("{\"\\uD83Dx\":1}");
}
END_TEST

START_TEST(test_every_truncation_of_a_valid_line_is_refused)
{
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":-12,\"result\":{\"a\":[1,-2.5e+3,"
		    "true,false,null,{\"b\":\"x\\u0041\\n\"}],\"c\":{}}}",
		"{ \"result\" : { \"s\" : \"\\\"\\\\\" } , \"id\" : 3 , "
		    "\"jsonrpc\" : \"2.0\" }",
		"{\"id\":10,\"result\":{},\"jsonrpc\":\"2.0\"}",
	};
	size_t	i, len, n;

	for (i = 0; i < sizeof lines / sizeof *lines; i++) {
		len = strlen(lines[i]);
		ck_assert_msg(scan(lines[i]) == 0, "refused: %s", lines[i]);
		for (n = 0; n < len; n++) {
			/* A prefix ending in a space, or "}" after the
			   last one, still lacks the closing brace. */
			ck_assert_msg(scan_bytes(lines[i], n) == -1,
			    "accepted the first %zu bytes of %s", n, lines[i]);
		}
	}
}
END_TEST

START_TEST(test_trailing_garbage_is_refused)
{
	static const char	line[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";
	static const char *const tails[] = {
		"x", "}", "]", ",", "{}", " {}", "\n{}", "\v", "\f",
		"\xc2\xa0", "0", "\"",
	};
	char	text[128];
	size_t	i;

	for (i = 0; i < sizeof tails / sizeof *tails; i++) {
		snprintf(text, sizeof text, "%s%s", line, tails[i]);
		expect_refused(text);
	}
	ck_assert_int_eq(scan_bytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{}}\0", sizeof line), -1);
}
END_TEST

START_TEST(test_nesting_deeper_than_the_limit_is_refused)
{
	built = nested("[", "]", SCAN_MAX_DEPTH + 1);
	ck_assert_msg(scan(built) == -1, "depth %d accepted",
	    SCAN_MAX_DEPTH + 1);
	free(built);
	built = nested("{\"k\":", "}", SCAN_MAX_DEPTH + 1);
	ck_assert_msg(scan(built) == -1, "depth %d accepted",
	    SCAN_MAX_DEPTH + 1);
	free(built);
	built = nested("[{\"k\":", "}]", 1000);
	ck_assert_msg(scan(built) == -1, "depth 1000 accepted");
}
END_TEST

START_TEST(test_whitespace_json_does_not_allow_is_refused)
{
	static const char	nul[] = "{\"jsonrpc\":\"2.0\",\0\"id\":1,"
				    "\"result\":{}}";

	expect_refused("{\"jsonrpc\":\"2.0\",\v\"id\":1,\"result\":{}}");
	expect_refused("\v{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":\v1}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\f}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1\x1c,\"result\":{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"a\":[1,\xc2\xa0" "2]}}");
	ck_assert_int_eq(scan_bytes(nul, sizeof nul - 1), -1);
}
END_TEST

START_TEST(test_invalid_numbers_are_refused)
{
	static const char *const numbers[] = {
		"-", "1.", "1e", ".5", "-.5", "1.e3", "1e+", "1E-", "01",
		"-01", "+1", "0x1", "1_0", "--1", "NaN", "Infinity",
		"-Infinity", "1.5.", "1e5e",
	};
	char	value[64];
	size_t	i;

	for (i = 0; i < sizeof numbers / sizeof *numbers; i++) {
		snprintf(value, sizeof value, "{\"a\":%s}", numbers[i]);
		expect_refused_in_result(value);
		snprintf(value, sizeof value, "{\"a\":[%s]}", numbers[i]);
		expect_refused_in_result(value);
	}
}
END_TEST

START_TEST(test_misspelled_literals_are_refused)
{
	static const char	cut[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"a\":tru";
	static const char *const words[] = {
		"tru", "True", "TRUE", "truee", "t", "fals", "False", "falsy",
		"nul", "Null", "nulll", "nil", "undefined", "n",
	};
	char	value[64];
	size_t	i;

	for (i = 0; i < sizeof words / sizeof *words; i++) {
		snprintf(value, sizeof value, "{\"a\":%s}", words[i]);
		expect_refused_in_result(value);
		snprintf(value, sizeof value, "{\"a\":[%s,1]}", words[i]);
		expect_refused_in_result(value);
	}
	/* Cut short by the end of the line. */
	ck_assert_int_eq(scan_bytes(cut, sizeof cut - 1), -1);
}
END_TEST

START_TEST(test_text_that_is_not_one_object_is_refused)
{
	expect_refused("");
	expect_refused(" ");
	expect_refused("[]");
	expect_refused("null");
	expect_refused("\"result\"");
	expect_refused("[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}]");
	expect_refused("{'jsonrpc':'2.0','id':1,'result':{}}");
	expect_refused("{jsonrpc:\"2.0\",id:1,result:{}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1,}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\"}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{1:2}}");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"a\":[1 2]}}");
	expect_refused("{\"jsonrpc\":\"2.0\" \"id\":1,\"result\":{}}");
}
END_TEST

/* The fast path and the full parser agree. */

START_TEST(test_accepted_lines_read_the_same_through_jsonrpc_parse)
{
	static const struct scan_case cases[] = {
		/* Taken by the fast path. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"a\":1}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-5,\"result\":{\"a\":-0}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-0,\"result\":{}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":999999999999999,\"result\":"
		    "{\"big\":123456789012345678901234567890}}", 1 },
		{ "{\"result\":{\"z\":[]},\"id\":2,\"jsonrpc\":\"2.0\"}", 1 },
		{ " {\r\n\"id\" : 3 ,\t\"result\" : { \"a\" : [ 1 , 2 ] } ,"
		    " \"jsonrpc\" : \"2.0\" } \r\n", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"s\":\"\\\"\\\\"
		    "\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\uD83D\\uDE00\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"o\":"
		    "{\"k\\u00e9\":\"\xc3\xa9\xe2\x82\xac\"}}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":2147483648,\"result\":{}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":-2147483649,\"result\":{}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{\"n\":[0,-1,2.5,"
		    "1e3,1E-3,-0.5e+2,1e400]}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"l\":[true,false,"
		    "null]}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":{\"a\":{\"_meta\":"
		    "{\"x\":1}},\"b\":[{\"_meta\":null}]}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"a\":{\"b\":1,"
		    "\"b\":2}}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":{\"content\":[{"
		    "\"type\":\"text\",\"text\":\"hello\"}],"
		    "\"isError\":false}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":11,\"result\":{\"tools\":[{"
		    "\"name\":\"t\",\"inputSchema\":{\"type\":\"object\"}}],"
		    "\"nextCursor\":\"c\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":{\"\":\"\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":13,\"result\":{\"a\":\"x\\u0000y"
		    "\"}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":14,\"result\":{\"_metadata\":1,"
		    "\"meta\":2}}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":15,\"result\":{ }}", 1 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":16,\"result\":{\"a\":1 }}", 1 },

		/* Left to the full parser. */
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"_meta\":{}}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"\\u005fmeta\":"
		    "{}}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1,\"a\":2}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"k\\u00e9\":1}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
		    "{\"a\":\"\\uD800\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":\"\\uDC00"
		    "\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,"
		    "\"message\":\"m\"}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"n\"}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1e2,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1000000000000000,\"result\":{}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":01,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[]}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"x\":0}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\v\"id\":1,\"result\":{}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1.}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":\"\t\"}}",
		    0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":nul}}", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}} x", 0 },
	};
	char		 report[4096];
	const char	*why;
	size_t		 i, used = 0;
	int		 rc, failures = 0;

	report[0] = '\0';
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		rc = scan(cases[i].text);
		why = NULL;
		if (rc == 0)
			why = same_as_parser(cases[i].text);
		if (why == NULL && (rc == 0) != cases[i].accepted)
			why = rc == 0 ? "taken by the fast path" :
			    "left to the full parser";
		if (why == NULL)
			continue;
		failures++;
		if (used < sizeof report)
			used += (size_t)snprintf(report + used,
			    sizeof report - used, "\n  %s: %s", why,
			    cases[i].text);
	}
	ck_assert_msg(failures == 0, "%d of %zu lines:%s", failures,
	    sizeof cases / sizeof *cases, report);
}
END_TEST

/* The tests, grouped as above. */
static Suite *
scan_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("scan");

	tc = tcase_create("accepted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_success_response_gives_its_id_and_body);
	tcase_add_test(tc, test_members_in_any_order_are_accepted);
	tcase_add_test(tc, test_whitespace_wherever_json_allows_it_is_accepted);
	tcase_add_test(tc, test_empty_result_gives_an_empty_body);
	tcase_add_test(tc, test_nested_values_and_every_escape_are_accepted);
	tcase_add_test(tc,
	    test_negative_zero_and_fifteen_digit_ids_are_accepted);
	tcase_add_test(tc,
	    test_meta_deeper_than_the_results_top_level_is_accepted);
	tcase_add_test(tc, test_result_nested_to_the_depth_limit_is_accepted);
	tcase_add_test(tc,
	    test_result_with_the_most_members_allowed_is_accepted);
	tcase_add_test(tc,
	    test_every_byte_from_space_up_is_allowed_raw_in_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_error_responses_are_refused);
	tcase_add_test(tc, test_requests_and_notifications_are_refused);
	tcase_add_test(tc, test_missing_members_are_refused);
	tcase_add_test(tc, test_other_jsonrpc_versions_are_refused);
	tcase_add_test(tc, test_repeated_top_level_members_are_refused);
	tcase_add_test(tc, test_extra_top_level_members_are_refused);
	tcase_add_test(tc,
	    test_ids_other_than_short_plain_integers_are_refused);
	tcase_add_test(tc, test_result_that_is_not_an_object_is_refused);
	tcase_add_test(tc, test_meta_at_the_results_top_level_is_refused);
	tcase_add_test(tc,
	    test_escaped_keys_at_the_results_top_level_are_refused);
	tcase_add_test(tc,
	    test_result_with_more_members_than_allowed_is_refused);
	tcase_add_test(tc, test_repeated_members_of_the_result_are_refused);
	tcase_add_test(tc, test_control_characters_in_strings_are_refused);
	tcase_add_test(tc,
	    test_control_character_anywhere_in_a_string_is_refused);
	tcase_add_test(tc, test_bad_escapes_are_refused);
	tcase_add_test(tc, test_escapes_the_full_parser_refuses_are_refused);
	tcase_add_test(tc, test_every_truncation_of_a_valid_line_is_refused);
	tcase_add_test(tc, test_trailing_garbage_is_refused);
	tcase_add_test(tc, test_nesting_deeper_than_the_limit_is_refused);
	tcase_add_test(tc, test_whitespace_json_does_not_allow_is_refused);
	tcase_add_test(tc, test_invalid_numbers_are_refused);
	tcase_add_test(tc, test_misspelled_literals_are_refused);
	tcase_add_test(tc, test_text_that_is_not_one_object_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("speed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_long_runs_of_escapes_scan_in_linear_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("equivalence");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    test_accepted_lines_read_the_same_through_jsonrpc_parse);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(scan_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
