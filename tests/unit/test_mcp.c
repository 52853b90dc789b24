/*
 * MCP message helpers: which handshake versions the broker speaks, the
 * params of initialize and server/discover, the checks of their answers,
 * the _meta members the broker adds to requests and results, progress
 * tokens, log levels and counted notifications.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <event2/buffer.h>

#include "mcp.h"
#include "version.h"

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static cJSON	*caps;		/* the capabilities the broker declares */
static cJSON	*obj;		/* the params or result under test */
static cJSON	*taken;		/* a value before a function takes it */
static char	*printed;
static char	 why[256];

static void	setup(void);
static void	teardown(void);
static cJSON	*json(const char *);
static void	use(const char *);
static void	expect_json(const cJSON *, const char *);
static const cJSON *member(const cJSON *, const char *);
static void	expect_client_info(const cJSON *);
static void	expect_modern_meta(const cJSON *);
static int	check_initialize(const char *);
static int	check_discover(const char *);
static int	modern_error(const char *);
static Suite	*mcp_suite(void);

/* The capabilities a session declares; nothing else yet. */
static void
setup(void)
{
	caps = cJSON_Parse("{\"roots\":{\"listChanged\":true},"
	    "\"sampling\":{}}");
	ck_assert_ptr_nonnull(caps);
	obj = NULL;
	taken = NULL;
	printed = NULL;
	memset(why, 0, sizeof why);
}

/* Free whatever the test left. */
static void
teardown(void)
{
	cJSON_Delete(caps);
	caps = NULL;
	cJSON_Delete(obj);
	obj = NULL;
	cJSON_Delete(taken);
	taken = NULL;
	free(printed);
	printed = NULL;
}

/* text parsed; the test JSON must be valid. */
static cJSON *
json(const char *text)
{
	cJSON	*item;

	item = cJSON_Parse(text);
	ck_assert_msg(item != NULL, "test JSON does not parse: %s", text);
	return (item);
}

/* obj becomes text parsed, dropping what it held. */
static void
use(const char *text)
{
	cJSON_Delete(obj);
	obj = NULL;
	obj = json(text);
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

/* Member name of o, which must be there. */
static const cJSON *
member(const cJSON *o, const char *name)
{
	const cJSON	*item;

	item = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(item != NULL, "no member %s", name);
	return (item);
}

/* info must be {"name":"mcp-broker","version":BROKER_VERSION}. */
static void
expect_client_info(const cJSON *info)
{
	ck_assert(cJSON_IsObject(info));
	ck_assert_int_eq(cJSON_GetArraySize(info), 2);
	ck_assert_str_eq(member(info, "name")->valuestring, "mcp-broker");
	ck_assert_str_eq(member(info, "version")->valuestring, BROKER_VERSION);
}

/* meta must hold the three 2026-07-28 members, caps a copy of caps. */
static void
expect_modern_meta(const cJSON *meta)
{
	const cJSON	*declared;

	ck_assert(cJSON_IsObject(meta));
	ck_assert_str_eq(member(meta, MCP_META_VERSION)->valuestring,
	    "2026-07-28");
	declared = member(meta, MCP_META_CAPABILITIES);
	ck_assert_ptr_ne(declared, caps);
	ck_assert(cJSON_Compare(declared, caps, 1));
	expect_client_info(member(meta, MCP_META_CLIENT_INFO));
}

/* mcp_check_initialize() of result text (NULL: no result). */
static int
check_initialize(const char *text)
{
	cJSON_Delete(obj);
	obj = text != NULL ? json(text) : NULL;
	memset(why, 0, sizeof why);
	return (mcp_check_initialize(obj, why, sizeof why));
}

/* mcp_check_discover() of result text (NULL: no result). */
static int
check_discover(const char *text)
{
	cJSON_Delete(obj);
	obj = text != NULL ? json(text) : NULL;
	memset(why, 0, sizeof why);
	return (mcp_check_discover(obj, why, sizeof why));
}

/* mcp_modern_error() of error text (NULL: no error). */
static int
modern_error(const char *text)
{
	cJSON_Delete(obj);
	obj = text != NULL ? json(text) : NULL;
	return (mcp_modern_error(obj));
}

/* Handshake versions. */

START_TEST(test_handshake_versions_are_the_four_released_ones)
{
	ck_assert_int_eq(mcp_handshake_version("2024-11-05"), 1);
	ck_assert_int_eq(mcp_handshake_version("2025-03-26"), 1);
	ck_assert_int_eq(mcp_handshake_version("2025-06-18"), 1);
	ck_assert_int_eq(mcp_handshake_version("2025-11-25"), 1);
	ck_assert_int_eq(mcp_handshake_version(MCP_VERSION_HANDSHAKE), 1);
}
END_TEST

START_TEST(test_other_versions_are_not_handshake_versions)
{
	ck_assert_int_eq(mcp_handshake_version("2026-07-28"), 0);
	ck_assert_int_eq(mcp_handshake_version(MCP_VERSION_MODERN), 0);
	ck_assert_int_eq(mcp_handshake_version("2024-10-07"), 0);
	ck_assert_int_eq(mcp_handshake_version("2025-11-2"), 0);
	ck_assert_int_eq(mcp_handshake_version("2025-11-25 "), 0);
	ck_assert_int_eq(mcp_handshake_version("2025-11-255"), 0);
	ck_assert_int_eq(mcp_handshake_version("latest"), 0);
	ck_assert_int_eq(mcp_handshake_version(""), 0);
}
END_TEST

/* The params the broker sends. */

START_TEST(test_client_info_names_mcp_broker)
{
	obj = mcp_client_info();
	expect_client_info(obj);
}
END_TEST

START_TEST(test_initialize_params_ask_for_2025_11_25)
{
	obj = mcp_initialize_params(caps);
	ck_assert(cJSON_IsObject(obj));
	ck_assert_int_eq(cJSON_GetArraySize(obj), 3);
	ck_assert_str_eq(member(obj, "protocolVersion")->valuestring,
	    "2025-11-25");
	expect_client_info(member(obj, "clientInfo"));
}
END_TEST

START_TEST(test_initialize_params_copy_the_capabilities)
{
	obj = mcp_initialize_params(caps);
	ck_assert_ptr_ne(member(obj, "capabilities"), caps);
	cJSON_Delete(caps);
	caps = NULL;
	expect_json(member(obj, "capabilities"),
	    "{\"roots\":{\"listChanged\":true},\"sampling\":{}}");
}
END_TEST

START_TEST(test_initialize_params_print_as_the_spec_shows)
{
	obj = mcp_initialize_params(caps);
	expect_json(obj, "{\"protocolVersion\":\"2025-11-25\","
	    "\"capabilities\":{\"roots\":{\"listChanged\":true},"
	    "\"sampling\":{}},\"clientInfo\":{\"name\":\"mcp-broker\","
	    "\"version\":\"" BROKER_VERSION "\"}}");
}
END_TEST

START_TEST(test_discover_params_carry_only_the_three_meta_members)
{
	const cJSON	*meta;

	obj = mcp_discover_params(caps);
	ck_assert(cJSON_IsObject(obj));
	ck_assert_int_eq(cJSON_GetArraySize(obj), 1);
	meta = member(obj, "_meta");
	ck_assert_int_eq(cJSON_GetArraySize(meta), 3);
	expect_modern_meta(meta);
}
END_TEST

START_TEST(test_discover_params_copy_the_capabilities)
{
	obj = mcp_discover_params(caps);
	cJSON_Delete(caps);
	caps = NULL;
	expect_json(member(member(obj, "_meta"), MCP_META_CAPABILITIES),
	    "{\"roots\":{\"listChanged\":true},\"sampling\":{}}");
}
END_TEST

/* Checking the answers. */

START_TEST(test_initialize_result_with_each_handshake_version_passes)
{
	ck_assert_int_eq(check_initialize("{\"protocolVersion\":"
	    "\"2024-11-05\",\"capabilities\":{},\"serverInfo\":"
	    "{\"name\":\"s\",\"version\":\"1\"}}"), 0);
	ck_assert_int_eq(check_initialize(
	    "{\"protocolVersion\":\"2025-03-26\"}"), 0);
	ck_assert_int_eq(check_initialize(
	    "{\"protocolVersion\":\"2025-06-18\"}"), 0);
	ck_assert_int_eq(check_initialize(
	    "{\"protocolVersion\":\"2025-11-25\"}"), 0);
}
END_TEST

START_TEST(test_initialize_result_with_unknown_version_fails_naming_it)
{
	ck_assert_int_eq(check_initialize(
	    "{\"protocolVersion\":\"2026-07-28\"}"), -1);
	ck_assert_ptr_nonnull(strstr(why, "2026-07-28"));
	ck_assert_int_eq(check_initialize(
	    "{\"protocolVersion\":\"1999-01-01\"}"), -1);
	ck_assert_ptr_nonnull(strstr(why, "1999-01-01"));
	ck_assert_int_eq(check_initialize("{\"protocolVersion\":\"\"}"), -1);
	ck_assert_str_ne(why, "");
}
END_TEST

START_TEST(test_initialize_result_without_version_fails)
{
	ck_assert_int_eq(check_initialize("{\"capabilities\":{}}"), -1);
	ck_assert_ptr_nonnull(strstr(why, "protocolVersion"));
	ck_assert_int_eq(check_initialize("{\"protocolVersion\":20251125}"),
	    -1);
	ck_assert_ptr_nonnull(strstr(why, "protocolVersion"));
	ck_assert_int_eq(check_initialize("{\"protocolVersion\":null}"), -1);
	ck_assert_ptr_nonnull(strstr(why, "protocolVersion"));
	ck_assert_int_eq(check_initialize(
	    "{\"ProtocolVersion\":\"2025-11-25\"}"), -1);
}
END_TEST

START_TEST(test_initialize_result_not_an_object_fails)
{
	ck_assert_int_eq(check_initialize(
	    "[{\"protocolVersion\":\"2025-11-25\"}]"), -1);
	ck_assert_ptr_nonnull(strstr(why, "not an object"));
	ck_assert_int_eq(check_initialize("\"2025-11-25\""), -1);
	ck_assert_ptr_nonnull(strstr(why, "not an object"));
	ck_assert_int_eq(check_initialize("null"), -1);
	ck_assert_ptr_nonnull(strstr(why, "not an object"));
	ck_assert_int_eq(check_initialize(NULL), -1);
	ck_assert_ptr_nonnull(strstr(why, "not an object"));
}
END_TEST

START_TEST(test_initialize_why_is_bounded_by_its_buffer)
{
	char	small[16];

	obj = json("{\"protocolVersion\":\"1999-01-01\"}");
	memset(small, 'X', sizeof small);
	ck_assert_int_eq(mcp_check_initialize(obj, small, sizeof small), -1);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
}
END_TEST

START_TEST(test_discover_result_listing_2026_07_28_passes)
{
	ck_assert_int_eq(check_discover("{\"supportedVersions\":"
	    "[\"2025-11-25\",\"2026-07-28\"],\"capabilities\":{}}"), 0);
	ck_assert_int_eq(check_discover(
	    "{\"supportedVersions\":[\"2026-07-28\"]}"), 0);
	ck_assert_int_eq(check_discover(
	    "{\"supportedVersions\":[1,null,{},\"2026-07-28\"]}"), 0);
}
END_TEST

START_TEST(test_discover_result_without_2026_07_28_fails)
{
	ck_assert_int_eq(check_discover(
	    "{\"supportedVersions\":[\"2025-11-25\"]}"), -1);
	ck_assert_ptr_nonnull(strstr(why, "2026-07-28"));
	ck_assert_ptr_nonnull(strstr(why, "supportedVersions"));
	ck_assert_int_eq(check_discover("{\"supportedVersions\":[]}"), -1);
	ck_assert_ptr_nonnull(strstr(why, "2026-07-28"));
	ck_assert_int_eq(check_discover(
	    "{\"supportedVersions\":[\"2026-07-2\",\"2026-07-288\"]}"), -1);
	ck_assert_int_eq(check_discover(
	    "{\"supportedVersions\":[[\"2026-07-28\"]]}"), -1);
}
END_TEST

START_TEST(test_discover_result_without_supported_versions_fails)
{
	ck_assert_int_eq(check_discover("{}"), -1);
	ck_assert_ptr_nonnull(strstr(why, "2026-07-28"));
	ck_assert_int_eq(check_discover(
	    "{\"supportedVersions\":\"2026-07-28\"}"), -1);
	ck_assert_int_eq(check_discover(
	    "{\"protocolVersion\":\"2026-07-28\"}"), -1);
}
END_TEST

START_TEST(test_discover_result_not_an_object_fails)
{
	ck_assert_int_eq(check_discover("[\"2026-07-28\"]"), -1);
	ck_assert_ptr_nonnull(strstr(why, "2026-07-28"));
	ck_assert_int_eq(check_discover("\"2026-07-28\""), -1);
	ck_assert_int_eq(check_discover("null"), -1);
	ck_assert_int_eq(check_discover(NULL), -1);
	ck_assert_str_ne(why, "");
}
END_TEST

START_TEST(test_unsupported_version_error_is_modern)
{
	ck_assert_int_eq(modern_error(
	    "{\"code\":-32022,\"message\":\"Unsupported protocol version\","
	    "\"data\":{\"supported\":[\"2026-07-28\"]}}"), 1);
	ck_assert_int_eq(modern_error("{\"code\":-32022}"), 1);
	ck_assert_int_eq(mcp_modern_error(NULL), 0);
}
END_TEST

START_TEST(test_the_specs_defined_errors_are_modern)
{
	ck_assert_int_eq(modern_error("{\"code\":-32020}"), 1);
	ck_assert_int_eq(modern_error("{\"code\":-32021,\"message\":\"x\"}"),
	    1);
	/* The rest of the reserved range is not defined yet. */
	ck_assert_int_eq(modern_error("{\"code\":-32050}"), 0);
	ck_assert_int_eq(modern_error("{\"code\":-32099}"), 0);
	ck_assert_int_eq(modern_error("{\"code\":-32042}"), 0);
	ck_assert_int_eq(modern_error("{\"code\":-32021.5}"), 0);
}
END_TEST

START_TEST(test_a_discover_result_is_told_by_its_shape_not_its_versions)
{
	cJSON_Delete(obj);
	obj = json("{\"supportedVersions\":[\"2099-01-01\"],"
	    "\"capabilities\":{}}");
	ck_assert_int_eq(mcp_discover_result(obj), 1);
	cJSON_Delete(obj);
	obj = json("{\"supportedVersions\":[],"
	    "\"capabilities\":{\"tools\":{}}}");
	ck_assert_int_eq(mcp_discover_result(obj), 1);
	cJSON_Delete(obj);
	obj = json("{\"supportedVersions\":[\"2025-11-25\"]}");
	ck_assert_int_eq(mcp_discover_result(obj), 0);
	cJSON_Delete(obj);
	obj = json("{\"supportedVersions\":[1],\"capabilities\":{}}");
	ck_assert_int_eq(mcp_discover_result(obj), 0);
	cJSON_Delete(obj);
	obj = json("{\"supportedVersions\":\"2099-01-01\","
	    "\"capabilities\":{}}");
	ck_assert_int_eq(mcp_discover_result(obj), 0);
	cJSON_Delete(obj);
	obj = json("{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}");
	ck_assert_int_eq(mcp_discover_result(obj), 0);
	ck_assert_int_eq(mcp_discover_result(NULL), 0);
}
END_TEST

START_TEST(test_other_errors_are_not_modern)
{
	ck_assert_int_eq(modern_error(
	    "{\"code\":-32601,\"message\":\"Method not found\"}"), 0);
	ck_assert_int_eq(modern_error(
	    "{\"code\":-32602,\"message\":\"Invalid params\"}"), 0);
	ck_assert_int_eq(modern_error("{\"code\":-32002,\"message\":\"x\"}"),
	    0);
	ck_assert_int_eq(modern_error("{\"code\":-32019,\"message\":\"x\"}"),
	    0);
	ck_assert_int_eq(modern_error("{\"code\":-32100,\"message\":\"x\"}"),
	    0);
	/* URL elicitation required: a 2025-11-25 code. */
	ck_assert_int_eq(modern_error("{\"code\":-32042,\"message\":\"x\"}"),
	    0);
	ck_assert_int_eq(modern_error("{\"code\":-32021.5}"), 0);
	ck_assert_int_eq(modern_error("{\"code\":\"-32022\"}"), 0);
	ck_assert_int_eq(modern_error("{\"message\":\"-32022\"}"), 0);
	ck_assert_int_eq(modern_error("{}"), 0);
	ck_assert_int_eq(modern_error("[-32022]"), 0);
	ck_assert_int_eq(modern_error(NULL), 0);
}
END_TEST

/* The _meta of a 2026-07-28 request. */

START_TEST(test_modern_meta_is_created_when_absent)
{
	use("{\"name\":\"echo\",\"arguments\":{\"x\":1}}");
	mcp_add_modern_meta(obj, caps);
	ck_assert_int_eq(cJSON_GetArraySize(obj), 3);
	expect_json(member(obj, "name"), "\"echo\"");
	expect_json(member(obj, "arguments"), "{\"x\":1}");
	ck_assert_int_eq(cJSON_GetArraySize(member(obj, "_meta")), 3);
	expect_modern_meta(member(obj, "_meta"));
}
END_TEST

START_TEST(test_modern_meta_replaces_a_non_object_meta)
{
	use("{\"_meta\":\"junk\",\"name\":\"echo\"}");
	mcp_add_modern_meta(obj, caps);
	ck_assert_int_eq(cJSON_GetArraySize(member(obj, "_meta")), 3);
	expect_modern_meta(member(obj, "_meta"));
	use("{\"_meta\":[{\"progressToken\":1}]}");
	mcp_add_modern_meta(obj, caps);
	ck_assert_int_eq(cJSON_GetArraySize(obj), 1);
	ck_assert_int_eq(cJSON_GetArraySize(member(obj, "_meta")), 3);
	expect_modern_meta(member(obj, "_meta"));
	use("{\"_meta\":null}");
	mcp_add_modern_meta(obj, caps);
	expect_modern_meta(member(obj, "_meta"));
}
END_TEST

START_TEST(test_modern_meta_replaces_stale_members)
{
	use("{\"_meta\":{"
	    "\"io.modelcontextprotocol/protocolVersion\":\"2025-11-25\","
	    "\"io.modelcontextprotocol/clientCapabilities\":{\"x\":{}},"
	    "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"agent\"}}}");
	mcp_add_modern_meta(obj, caps);
	ck_assert_int_eq(cJSON_GetArraySize(member(obj, "_meta")), 3);
	expect_modern_meta(member(obj, "_meta"));
}
END_TEST

START_TEST(test_modern_meta_keeps_other_members)
{
	const cJSON	*meta;

	use("{\"name\":\"echo\",\"_meta\":{\"progressToken\":7,"
	    "\"io.modelcontextprotocol/protocolVersion\":\"2024-11-05\","
	    "\"vendor/x\":{\"a\":[1]}}}");
	mcp_add_modern_meta(obj, caps);
	meta = member(obj, "_meta");
	ck_assert_int_eq(cJSON_GetArraySize(meta), 5);
	expect_json(member(meta, "progressToken"), "7");
	expect_json(member(meta, "vendor/x"), "{\"a\":[1]}");
	expect_modern_meta(meta);
	expect_json(member(obj, "name"), "\"echo\"");
}
END_TEST

START_TEST(test_modern_meta_twice_is_the_same_as_once)
{
	use("{}");
	mcp_add_modern_meta(obj, caps);
	mcp_add_modern_meta(obj, caps);
	ck_assert_int_eq(cJSON_GetArraySize(obj), 1);
	ck_assert_int_eq(cJSON_GetArraySize(member(obj, "_meta")), 3);
	expect_modern_meta(member(obj, "_meta"));
}
END_TEST

/* The _meta of a forwarded result. */

START_TEST(test_result_meta_is_added_to_an_object_result)
{
	const cJSON	*value;

	use("{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}");
	taken = json("{\"id\":\"s-1\",\"generation\":1}");
	value = taken;
	mcp_set_result_meta(obj, taken);
	taken = NULL;
	ck_assert_ptr_eq(member(member(obj, "_meta"), MCP_META_SESSION), value);
	expect_json(obj, "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],"
	    "\"_meta\":{\"mcp-broker/session\":{\"id\":\"s-1\","
	    "\"generation\":1}}}");
}
END_TEST

START_TEST(test_result_meta_replaces_an_old_session_member)
{
	use("{\"_meta\":{\"mcp-broker/session\":{\"id\":\"forged\","
	    "\"generation\":99},\"other\":true},\"tools\":[]}");
	taken = json("{\"id\":\"s-2\",\"generation\":3}");
	mcp_set_result_meta(obj, taken);
	taken = NULL;
	expect_json(obj, "{\"_meta\":{\"other\":true,\"mcp-broker/session\":"
	    "{\"id\":\"s-2\",\"generation\":3}},\"tools\":[]}");
}
END_TEST

START_TEST(test_result_meta_keeps_other_meta_members)
{
	const cJSON	*meta;

	use("{\"_meta\":{\"progressToken\":\"p\",\"vendor/y\":[1,2]}}");
	taken = json("{\"id\":\"s-3\",\"generation\":2}");
	mcp_set_result_meta(obj, taken);
	taken = NULL;
	meta = member(obj, "_meta");
	ck_assert_int_eq(cJSON_GetArraySize(meta), 3);
	expect_json(member(meta, "progressToken"), "\"p\"");
	expect_json(member(meta, "vendor/y"), "[1,2]");
	expect_json(member(meta, MCP_META_SESSION),
	    "{\"id\":\"s-3\",\"generation\":2}");
}
END_TEST

START_TEST(test_result_meta_replaces_a_non_object_meta)
{
	use("{\"_meta\":[\"x\"],\"isError\":false}");
	taken = json("{\"id\":\"s-4\",\"generation\":1}");
	mcp_set_result_meta(obj, taken);
	taken = NULL;
	expect_json(obj, "{\"isError\":false,\"_meta\":{\"mcp-broker/session\":"
	    "{\"id\":\"s-4\",\"generation\":1}}}");
}
END_TEST

START_TEST(test_result_meta_on_a_non_object_result_frees_the_value)
{
	/* Valgrind tells whether the value was freed. */
	use("[1,2]");
	taken = json("{\"id\":\"s-5\",\"generation\":1}");
	mcp_set_result_meta(obj, taken);
	taken = NULL;
	expect_json(obj, "[1,2]");
	use("\"text\"");
	taken = json("{\"id\":\"s-5\",\"generation\":1}");
	mcp_set_result_meta(obj, taken);
	taken = NULL;
	expect_json(obj, "\"text\"");
	use("null");
	taken = json("{\"id\":\"s-5\",\"generation\":1}");
	mcp_set_result_meta(obj, taken);
	taken = NULL;
	expect_json(obj, "null");
	taken = json("{\"id\":\"s-5\",\"generation\":1}");
	mcp_set_result_meta(NULL, taken);
	taken = NULL;
}
END_TEST

/* Progress tokens. */

START_TEST(test_string_progress_token_is_found)
{
	use("{\"_meta\":{\"progressToken\":\"abc\"}}");
	ck_assert_ptr_eq(mcp_progress_token(obj),
	    member(member(obj, "_meta"), "progressToken"));
	ck_assert_str_eq(mcp_progress_token(obj)->valuestring, "abc");
}
END_TEST

START_TEST(test_number_progress_token_is_found)
{
	use("{\"_meta\":{\"progressToken\":17}}");
	ck_assert_ptr_eq(mcp_progress_token(obj),
	    member(member(obj, "_meta"), "progressToken"));
	expect_json(mcp_progress_token(obj), "17");
}
END_TEST

START_TEST(test_absent_progress_token_is_null)
{
	use("{\"_meta\":{}}");
	ck_assert_ptr_null(mcp_progress_token(obj));
	use("{\"progressToken\":\"top-level\"}");
	ck_assert_ptr_null(mcp_progress_token(obj));
	use("{\"_meta\":\"progressToken\"}");
	ck_assert_ptr_null(mcp_progress_token(obj));
	use("{\"_meta\":{\"ProgressToken\":1}}");
	ck_assert_ptr_null(mcp_progress_token(obj));
	use("{}");
	ck_assert_ptr_null(mcp_progress_token(obj));
	ck_assert_ptr_null(mcp_progress_token(NULL));
}
END_TEST

START_TEST(test_non_scalar_progress_token_is_null)
{
	use("{\"_meta\":{\"progressToken\":{\"a\":1}}}");
	ck_assert_ptr_null(mcp_progress_token(obj));
	use("{\"_meta\":{\"progressToken\":[1]}}");
	ck_assert_ptr_null(mcp_progress_token(obj));
	use("{\"_meta\":{\"progressToken\":null}}");
	ck_assert_ptr_null(mcp_progress_token(obj));
	use("{\"_meta\":{\"progressToken\":true}}");
	ck_assert_ptr_null(mcp_progress_token(obj));
}
END_TEST

START_TEST(test_set_progress_token_replaces_the_token)
{
	use("{\"name\":\"slow\",\"_meta\":{\"progressToken\":\"client-tok\","
	    "\"other\":1}}");
	taken = cJSON_CreateNumber(12);
	mcp_set_progress_token(obj, taken);
	taken = NULL;
	expect_json(obj, "{\"name\":\"slow\",\"_meta\":{\"other\":1,"
	    "\"progressToken\":12}}");
	expect_json(mcp_progress_token(obj), "12");
}
END_TEST

START_TEST(test_set_progress_token_adds_to_an_existing_meta)
{
	use("{\"_meta\":{\"other\":1}}");
	taken = cJSON_CreateString("t");
	mcp_set_progress_token(obj, taken);
	taken = NULL;
	expect_json(obj, "{\"_meta\":{\"other\":1,\"progressToken\":\"t\"}}");
}
END_TEST

START_TEST(test_set_progress_token_without_meta_frees_the_token)
{
	/* Valgrind tells whether the token was freed. */
	use("{\"name\":\"x\"}");
	taken = cJSON_CreateNumber(1);
	mcp_set_progress_token(obj, taken);
	taken = NULL;
	expect_json(obj, "{\"name\":\"x\"}");
	use("{\"_meta\":[1]}");
	taken = cJSON_CreateNumber(2);
	mcp_set_progress_token(obj, taken);
	taken = NULL;
	expect_json(obj, "{\"_meta\":[1]}");
	taken = cJSON_CreateNumber(3);
	mcp_set_progress_token(NULL, taken);
	taken = NULL;
}
END_TEST

/* Log levels and counted notifications. */

START_TEST(test_debug_logs_at_debug)
{
	ck_assert_int_eq(mcp_log_level("debug"), LOG_LEVEL_DEBUG);
}
END_TEST

START_TEST(test_info_and_notice_log_at_info)
{
	ck_assert_int_eq(mcp_log_level("info"), LOG_LEVEL_INFO);
	ck_assert_int_eq(mcp_log_level("notice"), LOG_LEVEL_INFO);
}
END_TEST

START_TEST(test_warning_and_above_log_at_warning)
{
	ck_assert_int_eq(mcp_log_level("warning"), LOG_LEVEL_WARNING);
	ck_assert_int_eq(mcp_log_level("error"), LOG_LEVEL_WARNING);
	ck_assert_int_eq(mcp_log_level("critical"), LOG_LEVEL_WARNING);
	ck_assert_int_eq(mcp_log_level("alert"), LOG_LEVEL_WARNING);
	ck_assert_int_eq(mcp_log_level("emergency"), LOG_LEVEL_WARNING);
}
END_TEST

START_TEST(test_missing_log_level_logs_at_info)
{
	ck_assert_int_eq(mcp_log_level(NULL), LOG_LEVEL_INFO);
}
END_TEST

START_TEST(test_counted_notifications_have_their_index)
{
	ck_assert_int_eq(MCP_NCOUNTED, 4);
	ck_assert_int_eq(mcp_counted_notification(
	    "notifications/tools/list_changed"), 0);
	ck_assert_int_eq(mcp_counted_notification(
	    "notifications/resources/list_changed"), 1);
	ck_assert_int_eq(mcp_counted_notification(
	    "notifications/prompts/list_changed"), 2);
	ck_assert_int_eq(mcp_counted_notification(
	    "notifications/resources/updated"), 3);
}
END_TEST

START_TEST(test_counted_notification_names_match_their_index)
{
	int	i;

	for (i = 0; i < MCP_NCOUNTED; i++)
		ck_assert_int_eq(mcp_counted_notification(
		    mcp_counted_notifications[i]), i);
}
END_TEST

START_TEST(test_other_notifications_are_not_counted)
{
	ck_assert_int_eq(mcp_counted_notification("notifications/progress"),
	    -1);
	ck_assert_int_eq(mcp_counted_notification("notifications/message"),
	    -1);
	ck_assert_int_eq(mcp_counted_notification("notifications/cancelled"),
	    -1);
	ck_assert_int_eq(mcp_counted_notification(
	    "notifications/tools/list_changed/"), -1);
	ck_assert_int_eq(mcp_counted_notification(
	    "notifications/tools/list"), -1);
	ck_assert_int_eq(mcp_counted_notification(
	    "Notifications/tools/list_changed"), -1);
	ck_assert_int_eq(mcp_counted_notification("tools/list_changed"), -1);
	ck_assert_int_eq(mcp_counted_notification(""), -1);
}
END_TEST

/* Every mcp behaviour, one test case each. */
START_TEST(test_an_initialize_answer_is_made_from_the_session)
{
	static const char	 session[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"id\":\"s-1\",\"generation\":2,"
				    "\"capabilities\":{\"tools\":{\"x\":1e400}},"
				    "\"server_info\":{\"name\":\"n\"},"
				    "\"instructions\":\"do \\u00e9\"}}";
	static const char	 bare[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"result\":{\"id\":\"s-1\",\"generation\":1}}";
	static const char	 error[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"error\":{\"code\":-32010,\"message\":\"m\"}}";
	struct evbuffer		*out = evbuffer_new();

	ck_assert_int_eq(mcp_initialize_answer(out, "\"a\"", "2025-06-18",
	    "\"srv\"", session, sizeof session - 1), 0);
	evbuffer_add(out, "", 1);
	/* Byte for byte from the daemon's answer. */
	ck_assert_str_eq((char *)evbuffer_pullup(out, -1), "{\"jsonrpc\":"
	    "\"2.0\",\"id\":\"a\",\"result\":{\"protocolVersion\":"
	    "\"2025-06-18\",\"capabilities\":{\"tools\":{\"x\":1e400}},"
	    "\"serverInfo\":{\"name\":\"n\"},\"instructions\":"
	    "\"do \\u00e9\",\"_meta\":{\"mcp-broker/session\":{\"id\":"
	    "\"s-1\",\"generation\":2}}}}");
	evbuffer_drain(out, evbuffer_get_length(out));
	/* No capabilities or server info: {} and the server's name. */
	ck_assert_int_eq(mcp_initialize_answer(out, "7", "2025-11-25",
	    "\"srv\"", bare, sizeof bare - 1), 0);
	evbuffer_add(out, "", 1);
	ck_assert_ptr_nonnull(strstr((char *)evbuffer_pullup(out, -1),
	    "\"capabilities\":{},\"serverInfo\":{\"name\":\"srv\","));
	evbuffer_drain(out, evbuffer_get_length(out));
	/* An error passes as it is. */
	ck_assert_int_eq(mcp_initialize_answer(out, "7", "2025-11-25",
	    "\"srv\"", error, sizeof error - 1), -1);
	evbuffer_add(out, "", 1);
	ck_assert_str_eq((char *)evbuffer_pullup(out, -1), "{\"jsonrpc\":"
	    "\"2.0\",\"id\":7,\"error\":{\"code\":-32010,\"message\":"
	    "\"m\"}}");
	evbuffer_free(out);
}
END_TEST

static Suite *
mcp_suite(void)
{
	Suite	*s = suite_create("mcp");
	TCase	*tc;

	tc = tcase_create("handshake");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake_versions_are_the_four_released_ones);
	tcase_add_test(tc, test_other_versions_are_not_handshake_versions);
	tcase_add_test(tc, test_client_info_names_mcp_broker);
	tcase_add_test(tc, test_initialize_params_ask_for_2025_11_25);
	tcase_add_test(tc, test_initialize_params_copy_the_capabilities);
	tcase_add_test(tc, test_initialize_params_print_as_the_spec_shows);
	tcase_add_test(tc,
	    test_discover_params_carry_only_the_three_meta_members);
	tcase_add_test(tc, test_discover_params_copy_the_capabilities);
	tcase_add_test(tc,
	    test_initialize_result_with_each_handshake_version_passes);
	tcase_add_test(tc,
	    test_initialize_result_with_unknown_version_fails_naming_it);
	tcase_add_test(tc, test_initialize_result_without_version_fails);
	tcase_add_test(tc, test_initialize_result_not_an_object_fails);
	tcase_add_test(tc, test_initialize_why_is_bounded_by_its_buffer);
	tcase_add_test(tc, test_discover_result_listing_2026_07_28_passes);
	tcase_add_test(tc, test_discover_result_without_2026_07_28_fails);
	tcase_add_test(tc,
	    test_discover_result_without_supported_versions_fails);
	tcase_add_test(tc, test_discover_result_not_an_object_fails);
	tcase_add_test(tc, test_unsupported_version_error_is_modern);
	tcase_add_test(tc, test_other_errors_are_not_modern);
	tcase_add_test(tc, test_the_specs_defined_errors_are_modern);
	tcase_add_test(tc, test_an_initialize_answer_is_made_from_the_session);
	tcase_add_test(tc,
	    test_a_discover_result_is_told_by_its_shape_not_its_versions);
	suite_add_tcase(s, tc);

	tc = tcase_create("meta");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_modern_meta_is_created_when_absent);
	tcase_add_test(tc, test_modern_meta_replaces_a_non_object_meta);
	tcase_add_test(tc, test_modern_meta_replaces_stale_members);
	tcase_add_test(tc, test_modern_meta_keeps_other_members);
	tcase_add_test(tc, test_modern_meta_twice_is_the_same_as_once);
	tcase_add_test(tc, test_result_meta_is_added_to_an_object_result);
	tcase_add_test(tc, test_result_meta_replaces_an_old_session_member);
	tcase_add_test(tc, test_result_meta_keeps_other_meta_members);
	tcase_add_test(tc, test_result_meta_replaces_a_non_object_meta);
	tcase_add_test(tc,
	    test_result_meta_on_a_non_object_result_frees_the_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("progress");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_string_progress_token_is_found);
	tcase_add_test(tc, test_number_progress_token_is_found);
	tcase_add_test(tc, test_absent_progress_token_is_null);
	tcase_add_test(tc, test_non_scalar_progress_token_is_null);
	tcase_add_test(tc, test_set_progress_token_replaces_the_token);
	tcase_add_test(tc, test_set_progress_token_adds_to_an_existing_meta);
	tcase_add_test(tc,
	    test_set_progress_token_without_meta_frees_the_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("notifications");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_debug_logs_at_debug);
	tcase_add_test(tc, test_info_and_notice_log_at_info);
	tcase_add_test(tc, test_warning_and_above_log_at_warning);
	tcase_add_test(tc, test_missing_log_level_logs_at_info);
	tcase_add_test(tc, test_counted_notifications_have_their_index);
	tcase_add_test(tc, test_counted_notification_names_match_their_index);
	tcase_add_test(tc, test_other_notifications_are_not_counted);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(mcp_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
