/*
 * The lines the broker writes as text (proto/wire.h): a forwarded
 * request's tail and the line the child gets, a fast-path result, an
 * error line. Each is exactly the expected text, one JSON value then its
 * newline; the sizes are what the fills write (an upper bound for the
 * request line), and nothing is written past them.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "errors.h"
#include "scan.h"
#include "wire.h"

/* Bytes after the room a fill was given, checked untouched. */
#define GUARD		16
/* What the room and the guard are filled with before a fill. */
#define UNTOUCHED	0x5a

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static char			*copy;		/* the scanned request */
static struct scan_request	 rq;
static char			*room, *line, *tail, *printed;
static cJSON			*tree;

static void	setup(void);
static void	teardown(void);
static void	scan(const char *);
static char	*make_room(size_t);
static void	expect_untouched(size_t, size_t);
static const cJSON *expect_line(const char *, size_t, const char *);
static void	expect_tail(const char *, const char *);
static void	expect_request_line(int64_t, const char *, const char *);
static void	expect_result(const char *, const char *, const char *,
		    const char *);
static void	expect_same(const cJSON *, const char *);
static void	expect_rewrite(const char *, const struct wire_edit *, size_t,
		    const char *);
static Suite	*wire_suite(void);

/* Nothing scanned or written yet. */
static void
setup(void)
{
	copy = room = line = tail = printed = NULL;
	memset(&rq, 0, sizeof rq);
	tree = NULL;
}

/* Free whatever the test left. */
static void
teardown(void)
{
	free(copy);
	free(room);
	free(line);
	free(tail);
	free(printed);
	copy = room = line = tail = printed = NULL;
	cJSON_Delete(tree);
	tree = NULL;
}

/* scan_request() must take text into rq, copied without a NUL after it. */
static void
scan(const char *text)
{
	size_t	len = strlen(text);

	free(copy);
	copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	ck_assert_msg(scan_request(copy, len, &rq) == 0, "refused: %s", text);
}

/* size bytes to fill and a guard after them, all UNTOUCHED. */
static char *
make_room(size_t size)
{
	free(room);
	room = malloc(size + GUARD);
	ck_assert_ptr_nonnull(room);
	memset(room, UNTOUCHED, size + GUARD);
	return (room);
}

/* Nothing of the room from written bytes on, guard included, changed. */
static void
expect_untouched(size_t written, size_t size)
{
	size_t	i;

	ck_assert_uint_le(written, size);
	for (i = written; i < size + GUARD; i++)
		ck_assert_msg((unsigned char)room[i] == UNTOUCHED,
		    "byte %zu of %zu written past what was filled", i, size);
}

/*
 * The n bytes at p must be want exactly: one JSON value, then a newline,
 * the only one. Returns the value, kept in tree until teardown.
 */
static const cJSON *
expect_line(const char *p, size_t n, const char *want)
{
	const char	*end;

	ck_assert_msg(n == strlen(want) && memcmp(p, want, n) == 0,
	    "wrote %.*s, want %s", (int)n, p, want);
	ck_assert_ptr_null(memchr(p, '\n', n - 1));
	ck_assert_int_eq(p[n - 1], '\n');
	cJSON_Delete(tree);
	tree = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	ck_assert_msg(tree != NULL, "not JSON: %.*s", (int)n, p);
	ck_assert_ptr_eq(end, p + n - 1);
	ck_assert(cJSON_IsObject(tree));
	return (tree);
}

/*
 * The request text must give want as its tail, filled and allocated; the
 * size is what was written, and nothing is written past it.
 */
static void
expect_tail(const char *text, const char *want)
{
	size_t	 size, len;
	char	*end;

	scan(text);
	size = wire_request_tail_size(&rq);
	end = wire_request_tail_fill(make_room(size), &rq);
	ck_assert_uint_eq((size_t)(end - room), size);
	expect_untouched(size, size);
	ck_assert_msg(size == strlen(want) && memcmp(room, want, size) == 0,
	    "tail %.*s, want %s", (int)size, room, want);

	free(tail);
	tail = wire_request_tail(&rq, &len);
	ck_assert_uint_eq(len, size);
	ck_assert_str_eq(tail, want);
}

/*
 * The child's line for id and the tail of the request text must be want;
 * wire_request_size() bounds it.
 */
static void
expect_request_line(int64_t id, const char *text, const char *want)
{
	size_t	 size, len;
	char	*end;

	scan(text);
	free(tail);
	tail = wire_request_tail(&rq, &len);
	size = wire_request_size(len);
	end = wire_request_fill(make_room(size), id, tail, len);
	expect_untouched((size_t)(end - room), size);
	expect_line(room, (size_t)(end - room), want);
}

/*
 * The result line for id, meta and body must be want, exactly
 * wire_result_size() bytes.
 */
static void
expect_result(const char *id, const char *meta, const char *body,
    const char *want)
{
	size_t	 size;
	char	*end;

	size = wire_result_size(strlen(id), strlen(meta), strlen(body));
	end = wire_result_fill(make_room(size), id, strlen(id), meta,
	    strlen(meta), body, strlen(body));
	ck_assert_uint_eq((size_t)(end - room), size);
	expect_untouched(size, size);
	expect_line(room, size, want);
}

/* item must print as want. */
static void
expect_same(const cJSON *item, const char *want)
{
	ck_assert_ptr_nonnull(item);
	free(printed);
	printed = cJSON_PrintUnformatted(item);
	ck_assert_ptr_nonnull(printed);
	ck_assert_str_eq(printed, want);
}

/* A request's tail. */

START_TEST(test_request_tail_is_method_then_params_members)
{
	expect_tail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"server\":\"s\",\"thread\":\"t\",\"name\":\"x\","
	    "\"arguments\":{\"a\":1}}}",
	    ",\"method\":\"tools/call\",\"params\":{\"name\":\"x\","
	    "\"arguments\":{\"a\":1}}}\n");
}
END_TEST

START_TEST(test_request_tail_drops_server_and_thread)
{
	/* Wherever they are: first, between members, last. */
	expect_tail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"server\":\"s\",\"a\":1,\"thread\":\"t\",\"b\":2}}",
	    ",\"method\":\"m\",\"params\":{\"a\":1,\"b\":2}}\n");
	expect_tail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"a\":1,\"b\":2,\"thread\":\"t\",\"server\":\"s\"}}",
	    ",\"method\":\"m\",\"params\":{\"a\":1,\"b\":2}}\n");
	expect_tail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"a\":1,\"server\":\"s\",\"thread\":\"t\",\"b\":2}}",
	    ",\"method\":\"m\",\"params\":{\"a\":1,\"b\":2}}\n");
}
END_TEST

START_TEST(test_request_tail_keeps_the_clients_member_order)
{
	expect_tail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"z\":1,\"server\":\"s\",\"a\":{\"y\":2,\"b\":3},"
	    "\"thread\":\"t\",\"m\":[]}}",
	    ",\"method\":\"m\",\"params\":{\"z\":1,\"a\":{\"y\":2,\"b\":3},"
	    "\"m\":[]}}\n");
}
END_TEST

START_TEST(test_request_tail_with_only_routing_members_has_empty_params)
{
	expect_tail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}",
	    ",\"method\":\"m\",\"params\":{}}\n");
}
END_TEST

START_TEST(test_request_tail_copies_members_byte_for_byte)
{
	/* Escapes and UTF-8 stay as the client wrote them. */
	expect_tail("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"server\":\"s\",\"thread\":\"t\","
	    "\"q\":\"caf\\u00e9 \\\"\\n\",\"r\":\"caf\xc3\xa9\","
	    "\"n\":-1.5e+3}}",
	    ",\"method\":\"m\",\"params\":{\"q\":\"caf\\u00e9 \\\"\\n\","
	    "\"r\":\"caf\xc3\xa9\",\"n\":-1.5e+3}}\n");
}
END_TEST

START_TEST(test_request_tail_of_a_hand_built_request)
{
	static const char	 a[] = "\"a\":[1,2]", b[] = "\"b\":null";
	size_t			 len;

	/* Only the spans count, not where they came from. */
	rq.method = "\"ping\"";
	rq.method_len = strlen(rq.method);
	rq.nmembers = 3;
	rq.member[0] = a;
	rq.member_len[0] = strlen(a);
	rq.member[1] = NULL;
	rq.member[2] = b;
	rq.member_len[2] = strlen(b);
	tail = wire_request_tail(&rq, &len);
	ck_assert_str_eq(tail, ",\"method\":\"ping\",\"params\":{\"a\":[1,2],"
	    "\"b\":null}}\n");
	ck_assert_uint_eq(len, strlen(tail));
	ck_assert_uint_eq(wire_request_tail_size(&rq), len);
}
END_TEST

START_TEST(test_request_tail_size_counts_every_member)
{
	char	 text[2048], want[2048], *p, *w;
	int	 i;

	/* As many members as the scan takes, the routing ones included. */
	p = text + sprintf(text, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"");
	w = want + sprintf(want, ",\"method\":\"m\",\"params\":{");
	for (i = 2; i < SCAN_MAX_KEYS; i++) {
		p += sprintf(p, ",\"k%d\":%d", i, i);
		w += sprintf(w, "%s\"k%d\":%d", i > 2 ? "," : "", i, i);
	}
	strcpy(p, "}}");
	strcpy(w, "}}\n");
	expect_tail(text, want);
	ck_assert_uint_eq(rq.nmembers, SCAN_MAX_KEYS);
}
END_TEST

START_TEST(test_request_tail_allocated_is_nul_terminated_and_lenp_optional)
{
	size_t	len;

	scan("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":"
	    "{\"server\":\"s\",\"thread\":\"t\",\"a\":1}}");
	tail = wire_request_tail(&rq, &len);
	ck_assert_int_eq(tail[len], '\0');
	free(tail);
	tail = wire_request_tail(&rq, NULL);
	ck_assert_str_eq(tail, ",\"method\":\"m\",\"params\":{\"a\":1}}\n");
}
END_TEST

/* The line the child gets. */

START_TEST(test_request_fill_writes_head_decimal_id_then_tail)
{
	const cJSON	*item;

	expect_request_line(7, "{\"jsonrpc\":\"2.0\",\"id\":\"client-1\","
	    "\"method\":\"tools/call\",\"params\":{\"server\":\"s\","
	    "\"thread\":\"t\",\"name\":\"x\"}}",
	    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"x\"}}\n");
	item = tree->child;
	ck_assert_str_eq(item->string, "jsonrpc");
	ck_assert_str_eq(item->valuestring, "2.0");
	item = item->next;
	ck_assert_str_eq(item->string, "id");
	ck_assert(cJSON_IsNumber(item) && item->valuedouble == 7);
	item = item->next;
	ck_assert_str_eq(item->string, "method");
	ck_assert_str_eq(item->valuestring, "tools/call");
	item = item->next;
	ck_assert_str_eq(item->string, "params");
	expect_same(item, "{\"name\":\"x\"}");
	ck_assert_ptr_null(item->next);
}
END_TEST

START_TEST(test_request_fill_writes_id_zero)
{
	expect_request_line(0, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\","
	    "\"params\":{\"server\":\"s\",\"thread\":\"t\"}}",
	    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"m\",\"params\":{}}\n");
}
END_TEST

START_TEST(test_request_fill_writes_the_largest_id)
{
	expect_request_line(INT64_MAX, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}",
	    "{\"jsonrpc\":\"2.0\",\"id\":9223372036854775807,\"method\":\"m\","
	    "\"params\":{}}\n");
}
END_TEST

START_TEST(test_request_fill_writes_even_a_negative_id_as_a_number)
{
	expect_request_line(-42, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}",
	    "{\"jsonrpc\":\"2.0\",\"id\":-42,\"method\":\"m\","
	    "\"params\":{}}\n");
	expect_request_line(INT64_MIN, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"m\",\"params\":{\"server\":\"s\",\"thread\":\"t\"}}",
	    "{\"jsonrpc\":\"2.0\",\"id\":-9223372036854775808,\"method\":\"m\","
	    "\"params\":{}}\n");
}
END_TEST

START_TEST(test_request_size_bounds_what_fill_writes_for_every_digit_count)
{
	static const char	 t[] = ",\"method\":\"m\",\"params\":{}}\n";
	int64_t			 ids[2 * 19 + 1], pow10 = 1;
	char			 want[128], *end;
	size_t			 size, i, n = 0;

	/* 0, 1, 9, 10, 99, 100, ... 10^18 and the largest: 1 to 19 digits. */
	for (;;) {
		ids[n++] = pow10 - 1;
		ids[n++] = pow10;
		if (pow10 > INT64_MAX / 10)
			break;
		pow10 *= 10;
	}
	ids[n++] = INT64_MAX;
	ck_assert_uint_le(n, sizeof ids / sizeof *ids);

	size = wire_request_size(strlen(t));
	for (i = 0; i < n; i++) {
		end = wire_request_fill(make_room(size), ids[i], t, strlen(t));
		expect_untouched((size_t)(end - room), size);
		snprintf(want, sizeof want,
		    "{\"jsonrpc\":\"2.0\",\"id\":%lld%s", (long long)ids[i], t);
		expect_line(room, (size_t)(end - room), want);
	}
}
END_TEST

START_TEST(test_request_fill_copies_the_tail_as_given)
{
	static const char	 t[] = ",\"method\":\"m\",\"params\":"
				    "{\"a\":1}}\n";
	size_t			 size;
	char			*end;

	size = wire_request_size(strlen(t));
	end = wire_request_fill(make_room(size), 12, t, strlen(t));
	expect_untouched((size_t)(end - room), size);
	expect_line(room, (size_t)(end - room),
	    "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"m\",\"params\":"
	    "{\"a\":1}}\n");
}
END_TEST

START_TEST(test_request_fill_with_an_empty_tail_writes_only_the_head)
{
	size_t	 size;
	char	*end;

	size = wire_request_size(0);
	end = wire_request_fill(make_room(size), 3, NULL, 0);
	ck_assert_uint_eq((size_t)(end - room), strlen("{\"jsonrpc\":\"2.0\","
	    "\"id\":3"));
	ck_assert(memcmp(room, "{\"jsonrpc\":\"2.0\",\"id\":3",
	    (size_t)(end - room)) == 0);
	expect_untouched((size_t)(end - room), size);
}
END_TEST

/* A fast-path result. */

START_TEST(test_result_fill_puts_meta_first_then_the_body)
{
	const cJSON	*result, *item;

	expect_result("5", "{\"id\":\"s-1\",\"generation\":2}",
	    "\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],"
	    "\"isError\":false",
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"_meta\":"
	    "{\"mcp-broker/session\":{\"id\":\"s-1\",\"generation\":2}},"
	    "\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],"
	    "\"isError\":false}}\n");
	result = cJSON_GetObjectItemCaseSensitive(tree, "result");
	ck_assert(cJSON_IsObject(result));
	item = result->child;
	ck_assert_str_eq(item->string, "_meta");
	expect_same(item, "{\"mcp-broker/session\":{\"id\":\"s-1\","
	    "\"generation\":2}}");
	ck_assert_str_eq(item->next->string, "content");
	ck_assert_str_eq(item->next->next->string, "isError");
	ck_assert_ptr_null(item->next->next->next);
}
END_TEST

START_TEST(test_result_fill_without_body_has_no_comma)
{
	expect_result("5", "{\"id\":\"s-1\",\"generation\":1}", "",
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"_meta\":"
	    "{\"mcp-broker/session\":{\"id\":\"s-1\",\"generation\":1}}}}\n");
	expect_same(cJSON_GetObjectItemCaseSensitive(tree, "result"),
	    "{\"_meta\":{\"mcp-broker/session\":{\"id\":\"s-1\","
	    "\"generation\":1}}}");
}
END_TEST

START_TEST(test_result_fill_with_no_body_pointer_and_length_zero)
{
	static const char	 id[] = "1", meta[] = "{}";
	size_t			 size;
	char			*end;

	size = wire_result_size(1, 2, 0);
	end = wire_result_fill(make_room(size), id, 1, meta, 2, NULL, 0);
	ck_assert_uint_eq((size_t)(end - room), size);
	expect_untouched(size, size);
	expect_line(room, size, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"_meta\":{\"mcp-broker/session\":{}}}}\n");
}
END_TEST

START_TEST(test_result_fill_keeps_the_id_text_as_given)
{
	expect_result("\"req \\\"1\\\"\"", "{}", "\"a\":1",
	    "{\"jsonrpc\":\"2.0\",\"id\":\"req \\\"1\\\"\",\"result\":"
	    "{\"_meta\":{\"mcp-broker/session\":{}},\"a\":1}}\n");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(tree,
	    "id")->valuestring, "req \"1\"");
	expect_result("-3", "{}", "\"a\":1",
	    "{\"jsonrpc\":\"2.0\",\"id\":-3,\"result\":"
	    "{\"_meta\":{\"mcp-broker/session\":{}},\"a\":1}}\n");
}
END_TEST

START_TEST(test_result_fill_copies_the_body_byte_for_byte)
{
	/* Whitespace and escapes inside the child's members stay. */
	expect_result("9", "{}", " \"a\" : [ 1 , \"\\u00e9\\n\" ] ",
	    "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"_meta\":"
	    "{\"mcp-broker/session\":{}}, \"a\" : [ 1 , \"\\u00e9\\n\" ] "
	    "}}\n");
}
END_TEST

START_TEST(test_result_size_is_what_fill_writes)
{
	static const char	*const ids[] = { "0", "123456", "\"x\"" };
	static const char	*const metas[] = { "{}",
				    "{\"id\":\"s-1\",\"generation\":12}" };
	static const char	*const bodies[] = { "", "\"a\":1",
				    "\"content\":[],\"structuredContent\":{}" };
	char			 want[256];
	size_t			 i, j, k;

	/* expect_result() checks the size against what was written. */
	for (i = 0; i < sizeof ids / sizeof *ids; i++)
		for (j = 0; j < sizeof metas / sizeof *metas; j++)
			for (k = 0; k < sizeof bodies / sizeof *bodies; k++) {
				snprintf(want, sizeof want, "{\"jsonrpc\":"
				    "\"2.0\",\"id\":%s,\"result\":{\"_meta\":"
				    "{\"mcp-broker/session\":%s}%s%s}}\n",
				    ids[i], metas[j], *bodies[k] != '\0' ?
				    "," : "", bodies[k]);
				expect_result(ids[i], metas[j], bodies[k],
				    want);
			}
}
END_TEST

/* An error line. */

START_TEST(test_error_line_null_id)
{
	size_t	len;

	line = wire_error_line(NULL, -32000, "busy", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":-32000,\"message\":\"busy\"}}\n");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(tree, "id")));
}
END_TEST

START_TEST(test_error_line_keeps_the_id_text_as_given)
{
	size_t	len;

	line = wire_error_line("42", -32601, "no such method", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":42,\"error\":"
	    "{\"code\":-32601,\"message\":\"no such method\"}}\n");
	free(line);
	line = wire_error_line("\"a-1\"", -32601, "no such method", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":\"a-1\","
	    "\"error\":{\"code\":-32601,\"message\":\"no such method\"}}\n");
}
END_TEST

START_TEST(test_error_line_escapes_quotes_and_control_characters)
{
	size_t	len;

	line = wire_error_line(NULL, 1, "say \"hi\"\n\t\r\x01\x1f", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":1,\"message\":\"say \\\"hi\\\"\\u000a\\u0009\\u000d"
	    "\\u0001\\u001f\"}}\n");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(tree, "error"),
	    "message")->valuestring, "say \"hi\"\n\t\r\x01\x1f");
}
END_TEST

START_TEST(test_error_line_escapes_backslashes)
{
	size_t	len;

	line = wire_error_line(NULL, 1, "C:\\dir\\", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":1,\"message\":\"C:\\\\dir\\\\\"}}\n");
}
END_TEST

START_TEST(test_error_line_passes_other_bytes_through)
{
	size_t	len;

	/* UTF-8, DEL and a slash are not escaped. */
	line = wire_error_line(NULL, 1, "caf\xc3\xa9 \x7f /", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":1,\"message\":\"caf\xc3\xa9 \x7f /\"}}\n");
}
END_TEST

START_TEST(test_error_line_message_reads_back_unchanged)
{
	char	message[256];
	size_t	len;
	int	c;

	/* Every byte but NUL, once. */
	for (c = 1; c < 256; c++)
		message[c - 1] = (char)c;
	message[255] = '\0';
	line = wire_error_line("1", -32603, message, &len);
	ck_assert_uint_eq(len, strlen(line));
	ck_assert_ptr_null(memchr(line, '\n', len - 1));
	tree = cJSON_ParseWithLength(line, len);
	ck_assert_ptr_nonnull(tree);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(tree, "error"),
	    "message")->valuestring, message);
}
END_TEST

START_TEST(test_error_line_with_an_empty_message)
{
	size_t	len;

	line = wire_error_line(NULL, 0, "", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":0,\"message\":\"\"}}\n");
}
END_TEST

START_TEST(test_error_line_writes_any_int_code)
{
	size_t	len;

	line = wire_error_line(NULL, INT_MIN, "m", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":-2147483648,\"message\":\"m\"}}\n");
	free(line);
	line = wire_error_line(NULL, INT_MAX, "m", &len);
	expect_line(line, len, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":2147483647,\"message\":\"m\"}}\n");
}
END_TEST

START_TEST(test_error_line_is_nul_terminated_and_lenp_optional)
{
	size_t	len;

	line = wire_error_line(NULL, -32000, "busy", &len);
	ck_assert_uint_eq(len, strlen(line));
	free(line);
	line = wire_error_line(NULL, -32000, "busy", NULL);
	ck_assert_str_eq(line, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
	    "{\"code\":-32000,\"message\":\"busy\"}}\n");
}
END_TEST

START_TEST(test_error_line_of_a_plain_message_is_the_old_refusal_line)
{
	static const struct {
		int		 code;
		const char	*message;
	} refusals[] = {
		{ RPC_FORBIDDEN, "This user may not use the broker "
		    "(allow_uids, allow_groups)." },
		{ RPC_AT_CAPACITY, "The broker has max_clients connections "
		    "already; retry later." },
	};
	char			 want[512];
	size_t			 i, len;

	/* What listener_refuse() wrote with snprintf before. */
	for (i = 0; i < sizeof refusals / sizeof *refusals; i++) {
		snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"id\":null,"
		    "\"error\":{\"code\":%d,\"message\":\"%s\"}}\n",
		    refusals[i].code, refusals[i].message);
		free(line);
		line = wire_error_line(NULL, refusals[i].code,
		    refusals[i].message, &len);
		expect_line(line, len, want);
	}
}
END_TEST

/* The tests, grouped by line. */
/* wire_rewrite: the splice of a message's text. */

/* obj rewritten by the edits must be exactly want. */
static void
expect_rewrite(const char *obj, const struct wire_edit *e, size_t n,
    const char *want)
{
	char	*got;
	size_t	 len;

	got = wire_rewrite(obj, strlen(obj), e, n, 0, &len);
	ck_assert_msg(got != NULL, "refused: %s", obj);
	ck_assert_uint_eq(len, strlen(got));
	ck_assert_msg(strcmp(got, want) == 0, "%s\n  gave %s\n  want %s", obj,
	    got, want);
	free(got);
}

START_TEST(test_rewrite_sets_a_value_and_keeps_everything_else)
{
	const struct wire_edit	e[] = {
		{ WIRE_SET, { "id", NULL }, "\"x\"", 3 },
	};

	expect_rewrite("{\"jsonrpc\":\"2.0\",\"result\":{\"n\":"
	    "123456789012345678901234567890,\"h\":1e400,\"z\":-0,\"o\":1.0,"
	    "\"s\":1E+2,\"e\":\"\\u00e9\\/\"},\"id\":7}", e, 1,
	    "{\"jsonrpc\":\"2.0\",\"result\":{\"n\":"
	    "123456789012345678901234567890,\"h\":1e400,\"z\":-0,\"o\":1.0,"
	    "\"s\":1E+2,\"e\":\"\\u00e9\\/\"},\"id\":\"x\"}");
}
END_TEST

START_TEST(test_rewrite_deletes_a_member_first_last_or_only)
{
	const struct wire_edit	e[] = {
		{ WIRE_DELETE, { "a", NULL }, NULL, 0 },
	};

	expect_rewrite("{\"a\":1,\"b\":2,\"c\":3}", e, 1, "{\"b\":2,\"c\":3}");
	expect_rewrite("{\"b\":2,\"c\":3,\"a\":1}", e, 1, "{\"b\":2,\"c\":3}");
	expect_rewrite("{\"b\":2,\"a\":1,\"c\":3}", e, 1, "{\"b\":2,\"c\":3}");
	expect_rewrite("{\"a\":1}", e, 1, "{}");
	expect_rewrite("{}", e, 1, "{}");
	expect_rewrite("{\"b\":{\"a\":1}}", e, 1, "{\"b\":{\"a\":1}}");
}
END_TEST

START_TEST(test_rewrite_takes_whitespace_everywhere)
{
	const struct wire_edit	e[] = {
		{ WIRE_DELETE, { "p", "s", NULL }, NULL, 0 },
		{ WIRE_SET, { "p", "m", "t", NULL }, "9", 1 },
	};

	/* Whitespace inside values stays; between members it may go. */
	expect_rewrite(" {\r\n\"p\" :\t{ \"s\" : \"x\" , \"v\" : [ 1 , 2 ] ,"
	    " \"m\" : { \"t\" : \"old\" , \"u\" : 1 } } } ", e, 2,
	    "{\"p\":{\"v\":[ 1 , 2 ],\"m\":{\"t\":9,\"u\":1}}}");
}
END_TEST

START_TEST(test_rewrite_reads_escaped_keys_as_they_decode)
{
	const struct wire_edit	e[] = {
		{ WIRE_DELETE, { "params", "server", NULL }, NULL, 0 },
		{ WIRE_SET, { "id", NULL }, "1", 1 },
	};

	expect_rewrite("{\"\\u0069d\":\"a\",\"par\\u0061ms\":{\"serv\\u0065r\":"
	    "\"x\",\"k\\u00e9\":1}}", e, 2,
	    "{\"\\u0069d\":1,\"par\\u0061ms\":{\"k\\u00e9\":1}}");
}
END_TEST

START_TEST(test_rewrite_adds_what_is_missing_at_the_end)
{
	const struct wire_edit	e[] = {
		{ WIRE_SET, { "result", "_meta", "s", NULL }, "{\"g\":1}", 7 },
	};
	const struct wire_edit	d[] = {
		{ WIRE_DELETE, { "params", "server", NULL }, NULL, 0 },
	};
	size_t			len;

	/* Into the result's own _meta, keeping its members. */
	expect_rewrite("{\"result\":{\"_meta\":{\"k\":1e400},\"x\":1}}", e, 1,
	    "{\"result\":{\"_meta\":{\"k\":1e400,\"s\":{\"g\":1}},\"x\":1}}");
	/* A _meta member where there is none. */
	expect_rewrite("{\"result\":{\"x\":1}}", e, 1,
	    "{\"result\":{\"x\":1,\"_meta\":{\"s\":{\"g\":1}}}}");
	expect_rewrite("{\"result\":{}}", e, 1,
	    "{\"result\":{\"_meta\":{\"s\":{\"g\":1}}}}");
	/* A _meta that is not an object cannot take the member, and
	   replacing it would lose the peer's bytes: refused. */
	ck_assert_ptr_null(wire_rewrite("{\"result\":{\"_meta\":[1]}}", 24, e,
	    1, 0, &len));
	ck_assert_ptr_null(wire_rewrite("{\"result\":5}", 12, e, 1, 0, &len));
	/* Nothing inside a non-object to delete: it stays as it was. */
	expect_rewrite("{\"params\":[1,2],\"x\":1e400}", d, 1,
	    "{\"params\":[1,2],\"x\":1e400}");
	/* An existing member of that name is replaced. */
	expect_rewrite("{\"result\":{\"_meta\":{\"s\":2,\"t\":3}}}", e, 1,
	    "{\"result\":{\"_meta\":{\"s\":{\"g\":1},\"t\":3}}}");
	/* Objects on the path are made. */
	expect_rewrite("{\"id\":1}", e, 1,
	    "{\"id\":1,\"result\":{\"_meta\":{\"s\":{\"g\":1}}}}");
}
END_TEST

START_TEST(test_rewrite_groups_several_members_added_to_one_object)
{
	const struct wire_edit	e[] = {
		{ WIRE_SET, { "params", "_meta", "a", NULL }, "1", 1 },
		{ WIRE_SET, { "params", "_meta", "b", NULL }, "2", 1 },
		{ WIRE_SET, { "params", "_meta", "c", NULL }, "3", 1 },
	};

	expect_rewrite("{\"method\":\"m\"}", e, 3, "{\"method\":\"m\","
	    "\"params\":{\"_meta\":{\"a\":1,\"b\":2,\"c\":3}}}");
	expect_rewrite("{\"params\":{\"_meta\":{\"b\":0,\"x\":-0}}}", e, 3,
	    "{\"params\":{\"_meta\":{\"b\":2,\"x\":-0,\"a\":1,\"c\":3}}}");
}
END_TEST

START_TEST(test_rewrite_refuses_what_is_not_an_object)
{
	const struct wire_edit	e[] = {
		{ WIRE_SET, { "id", NULL }, "1", 1 },
	};
	size_t			len;

	ck_assert_ptr_null(wire_rewrite("[1]", 3, e, 1, 0, &len));
	ck_assert_ptr_null(wire_rewrite("{\"a\":}", 6, e, 1, 0, &len));
	ck_assert_ptr_null(wire_rewrite("", 0, e, 1, 0, &len));
}
END_TEST

START_TEST(test_rewrite_adds_a_newline_when_asked)
{
	const struct wire_edit	e[] = {
		{ WIRE_DELETE, { "x", NULL }, NULL, 0 },
	};
	char			*got;
	size_t			 len;

	got = wire_rewrite("{\"x\":1,\"y\":2}", 13, e, 1, 1, &len);
	ck_assert_str_eq(got, "{\"y\":2}\n");
	ck_assert_uint_eq(len, 8);
	free(got);
}
END_TEST

START_TEST(test_route_sets_server_and_thread_in_params)
{
	static const char	 msg[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"method\":\"tools/call\",\"params\":"
				    "{\"name\":\"x\",\"server\":\"old\"}}";
	char			*got;
	size_t			 len;

	got = wire_route(msg, sizeof msg - 1, "\"s\"", "\"t\\u00e9\"", 0,
	    &len);
	ck_assert_str_eq(got, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"name\":\"x\",\"server\":\"s\","
	    "\"thread\":\"t\\u00e9\"}}");
	ck_assert_uint_eq(len, strlen(got));
	free(got);
	/* No params: made; params not an object: refused. */
	got = wire_route("{\"id\":1,\"method\":\"ping\"}", 25, "\"s\"",
	    "\"t\"", 1, &len);
	ck_assert_str_eq(got, "{\"id\":1,\"method\":\"ping\",\"params\":"
	    "{\"server\":\"s\",\"thread\":\"t\"}}\n");
	free(got);
	ck_assert_ptr_null(wire_route("{\"params\":[1]}", 14, "\"s\"",
	    "\"t\"", 0, &len));
}
END_TEST

static Suite *
wire_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("wire");

	tc = tcase_create("request tail");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_tail_is_method_then_params_members);
	tcase_add_test(tc, test_request_tail_drops_server_and_thread);
	tcase_add_test(tc, test_request_tail_keeps_the_clients_member_order);
	tcase_add_test(tc,
	    test_request_tail_with_only_routing_members_has_empty_params);
	tcase_add_test(tc, test_request_tail_copies_members_byte_for_byte);
	tcase_add_test(tc, test_request_tail_of_a_hand_built_request);
	tcase_add_test(tc, test_request_tail_size_counts_every_member);
	tcase_add_test(tc,
	    test_request_tail_allocated_is_nul_terminated_and_lenp_optional);
	suite_add_tcase(s, tc);

	tc = tcase_create("request line");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_fill_writes_head_decimal_id_then_tail);
	tcase_add_test(tc, test_request_fill_writes_id_zero);
	tcase_add_test(tc, test_request_fill_writes_the_largest_id);
	tcase_add_test(tc,
	    test_request_fill_writes_even_a_negative_id_as_a_number);
	tcase_add_test(tc,
	    test_request_size_bounds_what_fill_writes_for_every_digit_count);
	tcase_add_test(tc, test_request_fill_copies_the_tail_as_given);
	tcase_add_test(tc,
	    test_request_fill_with_an_empty_tail_writes_only_the_head);
	suite_add_tcase(s, tc);

	tc = tcase_create("result");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_result_fill_puts_meta_first_then_the_body);
	tcase_add_test(tc, test_result_fill_without_body_has_no_comma);
	tcase_add_test(tc,
	    test_result_fill_with_no_body_pointer_and_length_zero);
	tcase_add_test(tc, test_result_fill_keeps_the_id_text_as_given);
	tcase_add_test(tc, test_result_fill_copies_the_body_byte_for_byte);
	tcase_add_test(tc, test_result_size_is_what_fill_writes);
	suite_add_tcase(s, tc);

	tc = tcase_create("error line");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_error_line_null_id);
	tcase_add_test(tc, test_error_line_keeps_the_id_text_as_given);
	tcase_add_test(tc,
	    test_error_line_escapes_quotes_and_control_characters);
	tcase_add_test(tc, test_error_line_escapes_backslashes);
	tcase_add_test(tc, test_error_line_passes_other_bytes_through);
	tcase_add_test(tc, test_error_line_message_reads_back_unchanged);
	tcase_add_test(tc, test_error_line_with_an_empty_message);
	tcase_add_test(tc, test_error_line_writes_any_int_code);
	tcase_add_test(tc, test_error_line_is_nul_terminated_and_lenp_optional);
	tcase_add_test(tc,
	    test_error_line_of_a_plain_message_is_the_old_refusal_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("rewrite");
	tcase_add_test(tc, test_rewrite_sets_a_value_and_keeps_everything_else);
	tcase_add_test(tc, test_rewrite_deletes_a_member_first_last_or_only);
	tcase_add_test(tc, test_rewrite_takes_whitespace_everywhere);
	tcase_add_test(tc, test_rewrite_reads_escaped_keys_as_they_decode);
	tcase_add_test(tc, test_rewrite_adds_what_is_missing_at_the_end);
	tcase_add_test(tc,
	    test_rewrite_groups_several_members_added_to_one_object);
	tcase_add_test(tc, test_rewrite_refuses_what_is_not_an_object);
	tcase_add_test(tc, test_rewrite_adds_a_newline_when_asked);
	tcase_add_test(tc, test_route_sets_server_and_thread_in_params);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(wire_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
