/*
 * JSON-RPC 2.0 messages: which lines jsonrpc_parse refuses, with which
 * code and whether the id survives for the answer; which it accepts and
 * how; and the exact text the builders produce.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "errors.h"
#include "jsonrpc.h"

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static struct jsonrpc_msg	msg;
static struct jsonrpc_fault	fault;
static cJSON			*built;
static char			*printed;

static void	setup(void);
static void	teardown(void);
static int	parse(const char *);
static void	expect_refused(const char *, int, const char *);
static void	expect_json(const cJSON *, const char *);
static void	expect_built(cJSON *, const char *);
static int	id_valid(cJSON *);
static Suite	*jsonrpc_suite(void);

/* Nothing parsed, built or printed yet. */
static void
setup(void)
{
	memset(&msg, 0, sizeof msg);
	memset(&fault, 0, sizeof fault);
	built = NULL;
	printed = NULL;
}

/* Free whatever the test left. */
static void
teardown(void)
{
	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
	cJSON_Delete(built);
	built = NULL;
	free(printed);
	printed = NULL;
}

/* Parse a C string into msg and fault, dropping what they held. */
static int
parse(const char *text)
{
	jsonrpc_msg_clear(&msg);
	jsonrpc_fault_clear(&fault);
	return (jsonrpc_parse(text, strlen(text), &msg, &fault));
}

/* text must be refused with code; want_id is the id kept, or NULL: none. */
static void
expect_refused(const char *text, int code, const char *want_id)
{
	ck_assert_msg(parse(text) == -1, "accepted: %s", text);
	ck_assert_msg(fault.code == code, "%s: code %d, want %d", text,
	    fault.code, code);
	ck_assert_msg(fault.message[0] != '\0', "%s: no message", text);
	ck_assert_ptr_null(msg.root);
	if (want_id == NULL)
		ck_assert_msg(fault.id == NULL, "%s: id kept", text);
	else {
		ck_assert_msg(fault.id != NULL, "%s: id lost", text);
		expect_json(fault.id, want_id);
	}
	jsonrpc_fault_clear(&fault);
	ck_assert_ptr_null(fault.id);
}

/* item must print as want. */
static void
expect_json(const cJSON *item, const char *want)
{
	ck_assert_ptr_nonnull(item);
	free(printed);
	printed = cJSON_PrintUnformatted(item);
	ck_assert_ptr_nonnull(printed);
	ck_assert_str_eq(printed, want);
}

/* A built message must print as want; it is freed at teardown. */
static void
expect_built(cJSON *m, const char *want)
{
	cJSON_Delete(built);
	built = m;
	expect_json(built, want);
}

/* jsonrpc_id_valid() of v, which is freed. */
static int
id_valid(cJSON *v)
{
	int	valid;

	ck_assert_ptr_nonnull(v);
	valid = jsonrpc_id_valid(v);
	cJSON_Delete(v);
	return (valid);
}

/* Refused: not JSON. */

START_TEST(test_text_that_is_not_json_is_a_parse_error_with_null_id)
{
	/* Null unless the id was read before the text broke. */
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":",
	    RPC_PARSE_ERROR, "1");
	expect_refused("{\"jsonrpc\":\"2.0\",\"method\":,\"id\":1}",
	    RPC_PARSE_ERROR, NULL);
	expect_refused("hello", RPC_PARSE_ERROR, NULL);
	expect_refused("{'jsonrpc':'2.0'}", RPC_PARSE_ERROR, NULL);
	expect_refused("", RPC_PARSE_ERROR, NULL);
}
END_TEST

START_TEST(test_trailing_data_after_the_message_is_a_parse_error)
{
	/* One line, one message: the rest is not ignored. */
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"b\"}",
	    RPC_PARSE_ERROR, "1");
	expect_refused("{\"jsonrpc\":\"2.0\",\"method\":\"a\"} x",
	    RPC_PARSE_ERROR, NULL);
	expect_refused("{\"jsonrpc\":\"2.0\",\"method\":\"a\"}]",
	    RPC_PARSE_ERROR, NULL);
}
END_TEST

/* Refused: not an object. */

START_TEST(test_batch_array_is_an_invalid_request_with_null_id)
{
	expect_refused("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
	    RPC_INVALID_REQUEST, NULL);
	expect_refused("[]", RPC_INVALID_REQUEST, NULL);
}
END_TEST

START_TEST(test_scalar_is_an_invalid_request_with_null_id)
{
	expect_refused("42", RPC_INVALID_REQUEST, NULL);
	expect_refused("\"ping\"", RPC_INVALID_REQUEST, NULL);
	expect_refused("null", RPC_INVALID_REQUEST, NULL);
	expect_refused("true", RPC_INVALID_REQUEST, NULL);
}
END_TEST

/* Refused: the "jsonrpc" member. */

START_TEST(test_missing_jsonrpc_member_is_refused_keeping_id)
{
	expect_refused("{\"id\":1,\"method\":\"ping\"}",
	    RPC_INVALID_REQUEST, "1");
}
END_TEST

START_TEST(test_jsonrpc_version_1_0_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"1.0\",\"id\":\"a\",\"method\":\"ping\"}",
	    RPC_INVALID_REQUEST, "\"a\"");
}
END_TEST

START_TEST(test_jsonrpc_as_number_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":2.0,\"id\":3,\"method\":\"ping\"}",
	    RPC_INVALID_REQUEST, "3");
}
END_TEST

/* Refused: the "method" member. */

START_TEST(test_non_string_method_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":7}",
	    RPC_INVALID_REQUEST, "4");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":null}",
	    RPC_INVALID_REQUEST, "4");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":[\"a\"]}",
	    RPC_INVALID_REQUEST, "4");
}
END_TEST

START_TEST(test_empty_method_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"\"}",
	    RPC_INVALID_REQUEST, "5");
}
END_TEST

/* Refused: the id of a request. */

START_TEST(test_request_id_not_string_or_number_is_refused_without_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
	    RPC_INVALID_REQUEST, NULL);
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
	    RPC_INVALID_REQUEST, NULL);
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":false,\"method\":\"ping\"}",
	    RPC_INVALID_REQUEST, NULL);
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},"
	    "\"method\":\"ping\"}", RPC_INVALID_REQUEST, NULL);
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
	    RPC_INVALID_REQUEST, NULL);
}
END_TEST

/* Refused: params. */

START_TEST(test_params_not_object_or_array_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"m\","
	    "\"params\":\"x\"}", RPC_INVALID_REQUEST, "6");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"m\","
	    "\"params\":12}", RPC_INVALID_REQUEST, "\"s\"");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"m\","
	    "\"params\":null}", RPC_INVALID_REQUEST, "6");
}
END_TEST

START_TEST(test_notification_with_bad_params_is_refused_without_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\","
	    "\"params\":true}", RPC_INVALID_REQUEST, NULL);
}
END_TEST

/* Refused: responses. */

START_TEST(test_response_without_result_or_error_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":8}",
	    RPC_INVALID_REQUEST, "8");
}
END_TEST

START_TEST(test_response_without_id_is_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"result\":{}}",
	    RPC_INVALID_REQUEST, NULL);
	expect_refused("{\"jsonrpc\":\"2.0\"}", RPC_INVALID_REQUEST, NULL);
}
END_TEST

START_TEST(test_response_with_result_and_error_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{},"
	    "\"error\":{\"code\":-1,\"message\":\"m\"}}",
	    RPC_INVALID_REQUEST, "9");
}
END_TEST

START_TEST(test_response_with_bad_id_is_refused_without_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":true,\"result\":{}}",
	    RPC_INVALID_REQUEST, NULL);
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":[1],\"result\":{}}",
	    RPC_INVALID_REQUEST, NULL);
}
END_TEST

START_TEST(test_error_not_an_object_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":10,\"error\":\"bad\"}",
	    RPC_INVALID_REQUEST, "10");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":10,\"error\":-32600}",
	    RPC_INVALID_REQUEST, "10");
}
END_TEST

START_TEST(test_error_code_not_an_integer_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":11,"
	    "\"error\":{\"code\":1.5,\"message\":\"m\"}}",
	    RPC_INVALID_REQUEST, "11");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":11,"
	    "\"error\":{\"code\":\"-32600\",\"message\":\"m\"}}",
	    RPC_INVALID_REQUEST, "11");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":11,"
	    "\"error\":{\"message\":\"m\"}}", RPC_INVALID_REQUEST, "11");
}
END_TEST

START_TEST(test_error_message_missing_is_refused_keeping_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":12,"
	    "\"error\":{\"code\":-32600}}", RPC_INVALID_REQUEST, "12");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":12,"
	    "\"error\":{\"code\":-32600,\"message\":3}}",
	    RPC_INVALID_REQUEST, "12");
}
END_TEST

/* Accepted. */

START_TEST(test_request_with_string_id_is_accepted)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":\"req-1\","
	    "\"method\":\"tools/list\",\"params\":{\"server\":\"s\"}}"), 0);
	ck_assert_int_eq(msg.kind, JSONRPC_REQUEST);
	ck_assert_str_eq(msg.method, "tools/list");
	expect_json(msg.id, "\"req-1\"");
	expect_json(msg.params, "{\"server\":\"s\"}");
	ck_assert_ptr_null(msg.result);
	ck_assert_ptr_null(msg.error);
	ck_assert_ptr_null(fault.id);
	jsonrpc_msg_clear(&msg);
	ck_assert_ptr_null(msg.root);
	jsonrpc_fault_clear(&fault);
}
END_TEST

START_TEST(test_request_with_integer_id_is_accepted)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":7,"
	    "\"method\":\"ping\"}"), 0);
	ck_assert_int_eq(msg.kind, JSONRPC_REQUEST);
	ck_assert_str_eq(msg.method, "ping");
	expect_json(msg.id, "7");
	ck_assert_ptr_null(msg.params);
	jsonrpc_msg_clear(&msg);
}
END_TEST

START_TEST(test_request_with_big_integer_id_keeps_it_verbatim)
{
	static const char	*ids[] = {
		"4294967296",
		"1234567890123456",
		"9007199254740992",	/* 2^53 */
		"9007199254740993",	/* 2^53 + 1: not a double */
		"12345678901234567890",
	};
	char			 text[128];
	size_t			 i;

	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"method\":\"ping\"}", ids[i]);
		ck_assert_int_eq(parse(text), 0);
		ck_assert_int_eq(msg.kind, JSONRPC_REQUEST);
		expect_json(msg.id, ids[i]);
		jsonrpc_msg_clear(&msg);
	}
}
END_TEST

START_TEST(test_request_with_fractional_id_is_accepted)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1.5,"
	    "\"method\":\"ping\"}"), 0);
	ck_assert_int_eq(msg.kind, JSONRPC_REQUEST);
	expect_json(msg.id, "1.5");
	jsonrpc_msg_clear(&msg);
}
END_TEST

START_TEST(test_notification_has_no_id)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\","
	    "\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":3}}"), 0);
	ck_assert_int_eq(msg.kind, JSONRPC_NOTIFICATION);
	ck_assert_ptr_null(msg.id);
	ck_assert_str_eq(msg.method, "notifications/cancelled");
	expect_json(msg.params, "{\"requestId\":3}");
	jsonrpc_msg_clear(&msg);
}
END_TEST

START_TEST(test_params_array_is_accepted)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"m\",\"params\":[1,\"two\"]}"), 0);
	ck_assert_int_eq(msg.kind, JSONRPC_REQUEST);
	ck_assert(cJSON_IsArray(msg.params));
	expect_json(msg.params, "[1,\"two\"]");
	jsonrpc_msg_clear(&msg);
}
END_TEST

START_TEST(test_response_with_result_is_accepted)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":3,"
	    "\"result\":{\"tools\":[]}}"), 0);
	ck_assert_int_eq(msg.kind, JSONRPC_RESPONSE);
	ck_assert_ptr_null(msg.method);
	expect_json(msg.id, "3");
	expect_json(msg.result, "{\"tools\":[]}");
	ck_assert_ptr_null(msg.error);
	jsonrpc_msg_clear(&msg);
}
END_TEST

START_TEST(test_response_with_error_and_null_id_is_accepted)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":null,"
	    "\"error\":{\"code\":-32700,\"message\":\"Parse error\","
	    "\"data\":{\"x\":1}}}"), 0);
	ck_assert_int_eq(msg.kind, JSONRPC_RESPONSE);
	ck_assert(cJSON_IsNull(msg.id));
	ck_assert_ptr_null(msg.result);
	expect_json(msg.error, "{\"code\":-32700,\"message\":\"Parse error\","
	    "\"data\":{\"x\":1}}");
	jsonrpc_msg_clear(&msg);
}
END_TEST

START_TEST(test_parse_reads_only_the_given_length)
{
	const char	*text =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\nGARBAGE";

	ck_assert_int_eq(jsonrpc_parse(text, strchr(text, '\r') - text,
	    &msg, &fault), 0);
	ck_assert_int_eq(msg.kind, JSONRPC_REQUEST);
	jsonrpc_msg_clear(&msg);
}
END_TEST

START_TEST(test_surrounding_whitespace_is_accepted)
{
	ck_assert_int_eq(parse("  {\"jsonrpc\":\"2.0\",\"method\":\"m\"} \t"),
	    0);
	ck_assert_int_eq(msg.kind, JSONRPC_NOTIFICATION);
	jsonrpc_msg_clear(&msg);
}
END_TEST

START_TEST(test_id_valid_only_for_strings_and_numbers)
{
	ck_assert(id_valid(cJSON_CreateString("x")));
	ck_assert(id_valid(cJSON_CreateString("")));
	ck_assert(id_valid(cJSON_CreateNumber(-3)));
	ck_assert(id_valid(cJSON_CreateNumber(0.25)));
	ck_assert(!id_valid(cJSON_CreateNull()));
	ck_assert(!id_valid(cJSON_CreateTrue()));
	ck_assert(!id_valid(cJSON_CreateObject()));
	ck_assert(!id_valid(cJSON_CreateArray()));
	ck_assert(!jsonrpc_id_valid(NULL));
}
END_TEST

/* Builders. */

START_TEST(test_build_request)
{
	cJSON	*params = cJSON_CreateObject();

	cJSON_AddStringToObject(params, "name", "echo");
	expect_built(jsonrpc_request(cJSON_CreateNumber(7), "tools/call",
	    params), "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"echo\"}}");
	expect_built(jsonrpc_request(cJSON_CreateString("a"), "ping", NULL),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\"}");
}
END_TEST

START_TEST(test_build_notification)
{
	cJSON	*params = cJSON_CreateObject();

	cJSON_AddNumberToObject(params, "requestId", 4);
	expect_built(jsonrpc_notification("notifications/cancelled", params),
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":4}}");
	expect_built(jsonrpc_notification("notifications/initialized", NULL),
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
}
END_TEST

START_TEST(test_build_result)
{
	cJSON	*result = cJSON_CreateObject();

	cJSON_AddNumberToObject(result, "closed", 2);
	expect_built(jsonrpc_result(cJSON_CreateString("c-1"), result),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"c-1\",\"result\":{\"closed\":2}}");
	expect_built(jsonrpc_result(NULL, cJSON_CreateObject()),
	    "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}");
}
END_TEST

START_TEST(test_build_error_without_data)
{
	expect_built(jsonrpc_error(cJSON_CreateNumber(3),
	    RPC_METHOD_NOT_FOUND, "Unknown method broker/nope.", NULL),
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,"
	    "\"message\":\"Unknown method broker/nope.\"}}");
}
END_TEST

START_TEST(test_build_error_with_data)
{
	cJSON	*data = cJSON_CreateObject();

	cJSON_AddStringToObject(data, "server", "nosuch");
	expect_built(jsonrpc_error(cJSON_CreateString("x"),
	    RPC_UNKNOWN_SERVER, "No server named nosuch.", data),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32010,"
	    "\"message\":\"No server named nosuch.\","
	    "\"data\":{\"server\":\"nosuch\"}}}");
}
END_TEST

START_TEST(test_build_error_with_null_id)
{
	expect_built(jsonrpc_error(NULL, RPC_PARSE_ERROR,
	    "The message is not valid JSON.", NULL),
	    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
	    "\"message\":\"The message is not valid JSON.\"}}");
}
END_TEST

START_TEST(test_fault_id_answers_under_the_same_id)
{
	cJSON	*id;


	/* A refusal's kept id goes straight into the error answer. */
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":\"q\","
	    "\"method\":\"m\",\"params\":1}"), -1);
	id = fault.id;
	fault.id = NULL;	/* the builder takes it */
	expect_built(jsonrpc_error(id, fault.code, "bad", NULL),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"error\":{\"code\":-32600,"
	    "\"message\":\"bad\"}}");
}
END_TEST

/* Every JSON-RPC behaviour, grouped by what is checked. */
START_TEST(test_repeated_key_in_message_is_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,"
	    "\"method\":\"ping\"}", -32600, NULL);
}
END_TEST

START_TEST(test_repeated_key_in_params_is_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"server\":\"a\",\"thread\":\"t\",\"thread\":\"u\"}}",
	    -32600, "1");
	ck_assert_ptr_nonnull(strstr(fault.message, "'params.thread'"));
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":\"s\\u00e9\",\"method\":"
	    "\"tools/call\",\"params\":{\"a\":1,\"a\":2}}", -32600,
	    "\"s\\u00e9\"");
}
END_TEST

START_TEST(test_repeated_key_in_meta_is_refused)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"_meta\":{\"progressToken\":1,\"progressToken\":2}}}",
	    -32600, "1");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"_meta\":1,\"_meta\":{}}}", -32600, "1");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"_meta\":{\"x\":1,\"x\":2}}}", -32600, "1");
	ck_assert_ptr_nonnull(strstr(fault.message, "'result._meta.x'"));
	/* The peer's key is escaped: the message is logged too. */
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
	    "{\"a\\nb\":1,\"a\\nb\":2}}", -32600, "1");
	ck_assert_ptr_nonnull(strstr(fault.message, "'result.a\\x0ab'"));
}
END_TEST

START_TEST(test_repeated_key_among_many_params_is_refused)
{
	char	text[1024];
	size_t	off;
	int	i;

	/* More members than are compared pairwise: the sorted check. */
	off = (size_t)snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\","
	    "\"id\":1,\"method\":\"tools/call\",\"params\":{");
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(text + off, sizeof text - off,
		    "\"k%02d\":%d,", i, i);
	snprintf(text + off, sizeof text - off, "\"k17\":0}}");
	expect_refused(text, -32600, "1");
	ck_assert_ptr_nonnull(strstr(fault.message, "'params.k17'"));
	snprintf(text + off, sizeof text - off, "\"k99\":0}}");
	ck_assert_int_eq(parse(text), 0);
}
END_TEST

START_TEST(test_repeated_key_deeper_is_left_alone)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{\"arguments\":{\"a\":1,\"a\":2}}}"),
	    0);
}
END_TEST

START_TEST(test_a_raw_control_byte_is_not_whitespace)
{
	/* cJSON skips any byte up to ' ' between tokens; JSON does not. */
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":\v"
	    "12345678901234567890\v,\"method\":\"ping\"}", RPC_PARSE_ERROR,
	    NULL);
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}"
	    "\x01", RPC_PARSE_ERROR, "7");
	ck_assert_int_eq(jsonrpc_parse("{\"jsonrpc\":\"2.0\",\"id\":7,"
	    "\"method\":\"ping\"}\0", 37, &msg, &fault), -1);
	ck_assert_int_eq(fault.code, RPC_PARSE_ERROR);
	expect_json(fault.id, "7");
}
END_TEST

/* A number longer than any buffer a parser might read it into is still
   JSON, and the message is taken (the number passes on from its text). */
START_TEST(test_a_number_too_long_for_cjson_is_still_json)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	    "\"tools/call\",\"params\":{\"s\":\"-1 2\\\"3\",\"n\":"
	    "1234567890123456789012345678901234567890123456789012345678901234"
	    "567890e-5,\"m\":-0.5}}"), 0);
	ck_assert_str_eq(msg.method, "tools/call");
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(msg.params, "n")));
	expect_json(cJSON_GetObjectItem(msg.params, "m"), "-0.5");
	ck_assert_str_eq(cJSON_GetObjectItem(msg.params, "s")->valuestring,
	    "-1 2\"3");
}
END_TEST

START_TEST(test_big_id_under_escaped_key_is_kept_verbatim)
{
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"\\u0069d\":"
	    "12345678901234567890,\"method\":\"ping\"}"), 0);
	ck_assert_int_eq(msg.id_len, 20);
	ck_assert_int_eq(memcmp(msg.id_text, "12345678901234567890", 20), 0);
	expect_json(msg.id, "12345678901234567890");
}
END_TEST

START_TEST(test_a_key_the_broker_reads_may_not_hold_an_escaped_nul)
{
	/* cJSON would read "id\u0000x" as "id", and "params\u0000" as
	   params. */
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\\u0000x\":5,\"method\":"
	    "\"m\"}", -32600, NULL);
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"m\","
	    "\"params\":{\"server\\u0000\":\"x\"}}", -32600, "5");
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"_meta\":"
	    "{\"k\\u0000\":1}}}", -32600, "5");
	/* Deeper, and in values, a NUL is the server's business. */
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"m\",\"params\":{\"a\":{\"k\\u0000\":\"\\u0000\"}}}"), 0);
}
END_TEST

START_TEST(test_a_lone_surrogate_escape_is_a_parse_error_with_the_id)
{
	expect_refused("{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":\"x\","
	    "\"params\":{\"a\":\"\\ud800\"}}", RPC_PARSE_ERROR, "\"q\"");
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"x\",\"params\":{\"a\":\"\\ud83d\\ude00\"}}"), 0);
}
END_TEST

static Suite *
jsonrpc_suite(void)
{
	Suite	*s = suite_create("jsonrpc");
	TCase	*tc;

	tc = tcase_create("refused");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    test_text_that_is_not_json_is_a_parse_error_with_null_id);
	tcase_add_test(tc,
	    test_trailing_data_after_the_message_is_a_parse_error);
	tcase_add_test(tc, test_batch_array_is_an_invalid_request_with_null_id);
	tcase_add_test(tc, test_scalar_is_an_invalid_request_with_null_id);
	tcase_add_test(tc, test_missing_jsonrpc_member_is_refused_keeping_id);
	tcase_add_test(tc, test_jsonrpc_version_1_0_is_refused_keeping_id);
	tcase_add_test(tc, test_jsonrpc_as_number_is_refused_keeping_id);
	tcase_add_test(tc, test_non_string_method_is_refused_keeping_id);
	tcase_add_test(tc, test_empty_method_is_refused_keeping_id);
	tcase_add_test(tc,
	    test_request_id_not_string_or_number_is_refused_without_id);
	tcase_add_test(tc,
	    test_params_not_object_or_array_is_refused_keeping_id);
	tcase_add_test(tc,
	    test_notification_with_bad_params_is_refused_without_id);
	tcase_add_test(tc,
	    test_response_without_result_or_error_is_refused_keeping_id);
	tcase_add_test(tc, test_response_without_id_is_refused);
	tcase_add_test(tc,
	    test_response_with_result_and_error_is_refused_keeping_id);
	tcase_add_test(tc, test_response_with_bad_id_is_refused_without_id);
	tcase_add_test(tc, test_error_not_an_object_is_refused_keeping_id);
	tcase_add_test(tc,
	    test_error_code_not_an_integer_is_refused_keeping_id);
	tcase_add_test(tc, test_error_message_missing_is_refused_keeping_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("accepted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_with_string_id_is_accepted);
	tcase_add_test(tc, test_request_with_integer_id_is_accepted);
	tcase_add_test(tc, test_request_with_big_integer_id_keeps_it_verbatim);
	tcase_add_test(tc, test_request_with_fractional_id_is_accepted);
	tcase_add_test(tc, test_notification_has_no_id);
	tcase_add_test(tc, test_params_array_is_accepted);
	tcase_add_test(tc, test_response_with_result_is_accepted);
	tcase_add_test(tc, test_response_with_error_and_null_id_is_accepted);
	tcase_add_test(tc, test_parse_reads_only_the_given_length);
	tcase_add_test(tc, test_surrounding_whitespace_is_accepted);
	tcase_add_test(tc, test_id_valid_only_for_strings_and_numbers);
	suite_add_tcase(s, tc);

	tc = tcase_create("built");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build_request);
	tcase_add_test(tc, test_build_notification);
	tcase_add_test(tc, test_build_result);
	tcase_add_test(tc, test_build_error_without_data);
	tcase_add_test(tc, test_build_error_with_data);
	tcase_add_test(tc, test_build_error_with_null_id);
	tcase_add_test(tc, test_fault_id_answers_under_the_same_id);
	tcase_add_test(tc, test_repeated_key_in_message_is_refused);
	tcase_add_test(tc, test_repeated_key_in_params_is_refused);
	tcase_add_test(tc, test_repeated_key_in_meta_is_refused);
	tcase_add_test(tc, test_repeated_key_among_many_params_is_refused);
	tcase_add_test(tc, test_repeated_key_deeper_is_left_alone);
	tcase_add_test(tc, test_a_raw_control_byte_is_not_whitespace);
	tcase_add_test(tc, test_big_id_under_escaped_key_is_kept_verbatim);
	tcase_add_test(tc, test_a_number_too_long_for_cjson_is_still_json);
	tcase_add_test(tc, test_a_lone_surrogate_escape_is_a_parse_error_with_the_id);
	tcase_add_test(tc, test_a_key_the_broker_reads_may_not_hold_an_escaped_nul);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(jsonrpc_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
