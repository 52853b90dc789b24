/*
 * Checking client requests before routing: which routing members a
 * forwarded MCP request must carry and what route_parse takes from them;
 * the params of each broker method; the code and message of every refusal;
 * and what route_strip leaves for the child.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "errors.h"
#include "route.h"

/*
 * What a test allocates lives here, so the teardown frees it even when an
 * assertion fails half-way (CK_FORK=no under valgrind).
 */
static cJSON			*params;
static struct route		 route;
static struct route_fault	 fault;
static char			*printed;

static void	setup(void);
static void	teardown(void);
static int	parse(const char *, const char *);
static void	expect_accepted(const char *, const char *,
		    enum route_method);
static void	expect_refused(const char *, const char *, int,
		    const char *);
static void	expect_invalid(const char *, const char *, const char *);
static void	expect_no_extras(void);
static void	expect_json(const cJSON *, const char *);
static char	*string_of(size_t);
static void	expect_thread_of(size_t, int);
static void	expect_bad_name(const char *, const char *, size_t, int,
		    const char *);
static Suite	*route_suite(void);

/* Nothing parsed yet. */
static void
setup(void)
{
	params = NULL;
	printed = NULL;
	memset(&route, 0, sizeof route);
	memset(&fault, 0, sizeof fault);
}

/* Free whatever the test left. */
static void
teardown(void)
{
	cJSON_Delete(params);
	params = NULL;
	free(printed);
	printed = NULL;
}

/*
 * route_parse method with params given as JSON text (NULL: no params),
 * dropping the params of the previous call.
 */
static int
parse(const char *method, const char *json)
{
	cJSON_Delete(params);
	params = NULL;
	if (json != NULL) {
		params = cJSON_Parse(json);
		ck_assert_msg(params != NULL, "test JSON does not parse: %s",
		    json);
	}
	memset(&fault, 0, sizeof fault);
	return (route_parse(method, params, &route, &fault));
}

/* method with json must be accepted as want. */
static void
expect_accepted(const char *method, const char *json, enum route_method want)
{
	ck_assert_msg(parse(method, json) == 0, "%s %s refused: %d %s", method,
	    json != NULL ? json : "(no params)", fault.code, fault.message);
	ck_assert_msg(route.method == want, "%s: method %d, want %d", method,
	    (int)route.method, (int)want);
}

/*
 * method with json must be refused with code and a message that names
 * member (NULL: any non-empty message).
 */
static void
expect_refused(const char *method, const char *json, int code,
    const char *member)
{
	const char	*shown = json != NULL ? json : "(no params)";

	ck_assert_msg(parse(method, json) == -1, "%s %s accepted", method,
	    shown);
	ck_assert_msg(fault.code == code, "%s %s: code %d, want %d", method,
	    shown, fault.code, code);
	ck_assert_msg(fault.message[0] != '\0', "%s %s: no message", method,
	    shown);
	if (member != NULL)
		ck_assert_msg(strstr(fault.message, member) != NULL,
		    "%s %s: message \"%s\" does not name %s", method, shown,
		    fault.message, member);
}

/* method with json must be refused as invalid params naming member. */
static void
expect_invalid(const char *method, const char *json, const char *member)
{
	expect_refused(method, json, RPC_INVALID_PARAMS, member);
}

/* The members only some broker methods fill must be unset. */
static void
expect_no_extras(void)
{
	ck_assert_int_eq(route.create, 0);
	ck_assert_int_eq(route.rss, 0);
	ck_assert_int_eq(route.all, 0);
	ck_assert_int_eq(route.sampling, 0);
	ck_assert_int_eq(route.elicitation, 0);
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

/* A string of len 'x' bytes; the caller frees it. */
static char *
string_of(size_t len)
{
	char	*s;

	s = malloc(len + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, 'x', len);
	s[len] = '\0';
	return (s);
}

/* A tools/call whose thread is len bytes is accepted (ok) or refused. */
static void
expect_thread_of(size_t len, int ok)
{
	char	*thread;

	thread = string_of(len);
	cJSON_Delete(params);
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "server", "repl");
	cJSON_AddStringToObject(params, "thread", thread);
	free(thread);
	memset(&fault, 0, sizeof fault);
	if (ok) {
		ck_assert_int_eq(route_parse("tools/call", params, &route,
		    &fault), 0);
		ck_assert_uint_eq(strlen(route.thread), len);
	} else {
		ck_assert_int_eq(route_parse("tools/call", params, &route,
		    &fault), -1);
		ck_assert_int_eq(fault.code, RPC_INVALID_PARAMS);
		ck_assert_ptr_nonnull(strstr(fault.message, "params.thread"));
		ck_assert_ptr_nonnull(strstr(fault.message, "256"));
	}
}

/* Forwarded requests: accepted. */

START_TEST(test_forward_extracts_server_and_thread)
{
	expect_accepted("tools/call", "{\"server\":\"playwright\","
	    "\"thread\":\"t-42\",\"name\":\"browser_navigate\","
	    "\"arguments\":{\"url\":\"https://example.org\"}}", ROUTE_FORWARD);
	ck_assert_str_eq(route.server, "playwright");
	ck_assert_str_eq(route.thread, "t-42");
	ck_assert_int_eq(route.timeout_ms, 0);
	ck_assert_ptr_null(route.progress_token);
	expect_no_extras();
}
END_TEST

START_TEST(test_forward_strings_are_borrowed_from_params)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\"}",
	    ROUTE_FORWARD);
	ck_assert_ptr_eq(route.server,
	    cJSON_GetObjectItemCaseSensitive(params, "server")->valuestring);
	ck_assert_ptr_eq(route.thread,
	    cJSON_GetObjectItemCaseSensitive(params, "thread")->valuestring);
}
END_TEST

START_TEST(test_any_non_broker_method_is_forwarded)
{
	static const char *const methods[] = {
		"tools/call", "tools/list", "resources/list",
		"resources/read", "prompts/list", "prompts/get",
		"completion/complete", "logging/setLevel", "ping",
		"brokers/status", "Broker/status", "broker", "x/broker/status",
	};
	size_t	i;

	for (i = 0; i < sizeof methods / sizeof *methods; i++) {
		expect_accepted(methods[i],
		    "{\"server\":\"repl\",\"thread\":\"t\"}", ROUTE_FORWARD);
		ck_assert_str_eq(route.server, "repl");
		ck_assert_str_eq(route.thread, "t");
	}
}
END_TEST

START_TEST(test_forward_other_members_are_not_checked)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"name\":7,\"arguments\":null,\"cursor\":[1,2],\"all\":true,"
	    "\"create\":\"yes\"}", ROUTE_FORWARD);
	expect_no_extras();
}
END_TEST

START_TEST(test_thread_of_256_bytes_is_accepted)
{
	expect_thread_of(ROUTE_THREAD_MAX, 1);
}
END_TEST

START_TEST(test_thread_of_1_byte_is_accepted)
{
	expect_thread_of(1, 1);
}
END_TEST

START_TEST(test_timeout_ms_is_extracted)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":2500}", ROUTE_FORWARD);
	ck_assert_int_eq(route.timeout_ms, 2500);
}
END_TEST

START_TEST(test_timeout_ms_of_1_is_accepted)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":1}", ROUTE_FORWARD);
	ck_assert_int_eq(route.timeout_ms, 1);
}
END_TEST

START_TEST(test_timeout_ms_of_a_day_is_accepted)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":86400000}", ROUTE_FORWARD);
	ck_assert_int_eq(route.timeout_ms, ROUTE_TIMEOUT_MAX_MS);
	ck_assert_int_eq(route.timeout_ms, 86400000L);
}
END_TEST

START_TEST(test_string_progress_token_is_extracted)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":\"tok-1\"}}", ROUTE_FORWARD);
	ck_assert_ptr_eq(route.progress_token,
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    params, "_meta"), "progressToken"));
	ck_assert_str_eq(route.progress_token->valuestring, "tok-1");
}
END_TEST

START_TEST(test_integer_progress_token_is_extracted)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":42}}", ROUTE_FORWARD);
	ck_assert_ptr_nonnull(route.progress_token);
	ck_assert(cJSON_IsNumber(route.progress_token));
	ck_assert_ptr_eq(route.progress_token,
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    params, "_meta"), "progressToken"));
	expect_json(route.progress_token, "42");
}
END_TEST

START_TEST(test_integer_progress_tokens_of_15_digits_are_accepted)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":999999999999999}}", ROUTE_FORWARD);
	expect_json(route.progress_token, "999999999999999");
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":-999999999999999}}", ROUTE_FORWARD);
	expect_json(route.progress_token, "-999999999999999");
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":0}}", ROUTE_FORWARD);
	expect_json(route.progress_token, "0");
}
END_TEST

START_TEST(test_empty_string_progress_token_is_accepted)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":\"\"}}", ROUTE_FORWARD);
	ck_assert_ptr_nonnull(route.progress_token);
	ck_assert_str_eq(route.progress_token->valuestring, "");
}
END_TEST

START_TEST(test_meta_without_progress_token_has_no_token)
{
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{}}", ROUTE_FORWARD);
	ck_assert_ptr_null(route.progress_token);
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"other\":{\"progressToken\":1.5}}}", ROUTE_FORWARD);
	ck_assert_ptr_null(route.progress_token);
}
END_TEST

START_TEST(test_meta_that_is_not_an_object_is_refused)
{
	/* The broker could add nothing to it without losing it. */
	expect_refused("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":\"progressToken\"}", RPC_INVALID_PARAMS, "params._meta "
	    "must be an object");
	expect_refused("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":[{\"progressToken\":1.5}]}", RPC_INVALID_PARAMS,
	    "params._meta must be an object");
}
END_TEST

START_TEST(test_all_routing_members_together)
{
	expect_accepted("resources/read", "{\"uri\":\"file:///a\","
	    "\"timeout_ms\":60000,\"thread\":\"conv-9\",\"_meta\":"
	    "{\"progressToken\":\"p\",\"x\":1},\"server\":\"fs\"}",
	    ROUTE_FORWARD);
	ck_assert_str_eq(route.server, "fs");
	ck_assert_str_eq(route.thread, "conv-9");
	ck_assert_int_eq(route.timeout_ms, 60000);
	ck_assert_str_eq(route.progress_token->valuestring, "p");
	expect_no_extras();
}
END_TEST

/* Forwarded requests: refused. */

START_TEST(test_forward_without_params_is_invalid_params)
{
	expect_invalid("tools/call", NULL, "\"server\"");
	ck_assert_ptr_nonnull(strstr(fault.message, "\"thread\""));
}
END_TEST

START_TEST(test_forward_params_not_an_object_is_invalid_params)
{
	expect_invalid("tools/call", "[\"repl\",\"t\"]", "\"server\"");
	expect_invalid("tools/call", "\"repl\"", "\"server\"");
	expect_invalid("tools/call", "null", "\"server\"");
	expect_invalid("tools/call", "42", "\"server\"");
}
END_TEST

START_TEST(test_missing_server_is_invalid_params)
{
	expect_invalid("tools/call", "{\"thread\":\"t\"}", "params.server");
	expect_invalid("tools/call", "{}", "params.server");
}
END_TEST

START_TEST(test_empty_server_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"\",\"thread\":\"t\"}",
	    "params.server");
}
END_TEST

START_TEST(test_non_string_server_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":1,\"thread\":\"t\"}",
	    "params.server");
	expect_invalid("tools/call", "{\"server\":null,\"thread\":\"t\"}",
	    "params.server");
	expect_invalid("tools/call", "{\"server\":true,\"thread\":\"t\"}",
	    "params.server");
	expect_invalid("tools/call", "{\"server\":[\"repl\"],\"thread\":\"t\"}",
	    "params.server");
	expect_invalid("tools/call", "{\"server\":{},\"thread\":\"t\"}",
	    "params.server");
}
END_TEST

START_TEST(test_server_member_name_is_case_sensitive)
{
	expect_invalid("tools/call", "{\"Server\":\"repl\",\"thread\":\"t\"}",
	    "params.server");
}
END_TEST

START_TEST(test_missing_thread_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\"}", "params.thread");
}
END_TEST

START_TEST(test_empty_thread_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"\"}",
	    "params.thread");
}
END_TEST

START_TEST(test_non_string_thread_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":42}",
	    "params.thread");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":null}",
	    "params.thread");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":false}",
	    "params.thread");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":[]}",
	    "params.thread");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":{}}",
	    "params.thread");
}
END_TEST

START_TEST(test_thread_over_256_bytes_is_invalid_params)
{
	expect_thread_of(ROUTE_THREAD_MAX + 1, 0);
	expect_thread_of(4096, 0);
}
END_TEST

START_TEST(test_session_thread_over_256_bytes_is_invalid_params)
{
	char	text[512];

	snprintf(text, sizeof text, "{\"server\":\"repl\",\"thread\":"
	    "\"%0*d\",\"create\":true}", ROUTE_THREAD_MAX + 1, 0);
	expect_invalid("broker/session", text, "thread");
}
END_TEST

START_TEST(test_timeout_ms_of_0_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":0}", "params.timeout_ms");
}
END_TEST

START_TEST(test_timeout_ms_over_a_day_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":86400001}", "params.timeout_ms");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":1e300}", "params.timeout_ms");
	ck_assert_ptr_nonnull(strstr(fault.message, "86400000"));
}
END_TEST

START_TEST(test_negative_timeout_ms_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":-1}", "params.timeout_ms");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":-86400000}", "params.timeout_ms");
}
END_TEST

START_TEST(test_non_number_timeout_ms_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":\"1000\"}", "params.timeout_ms");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":null}", "params.timeout_ms");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":true}", "params.timeout_ms");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":[1000]}", "params.timeout_ms");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":{}}", "params.timeout_ms");
}
END_TEST

START_TEST(test_fractional_progress_token_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":1.5}}", "params._meta.progressToken");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":-0.25}}",
	    "params._meta.progressToken");
}
END_TEST

START_TEST(test_progress_token_of_16_digits_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":1e15}}", "params._meta.progressToken");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":1000000000000000}}",
	    "params._meta.progressToken");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":-1e15}}",
	    "params._meta.progressToken");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":1e300}}",
	    "params._meta.progressToken");
}
END_TEST

START_TEST(test_non_scalar_progress_token_is_invalid_params)
{
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":{}}}", "params._meta.progressToken");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":[1]}}", "params._meta.progressToken");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":null}}",
	    "params._meta.progressToken");
	expect_invalid("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"_meta\":{\"progressToken\":true}}",
	    "params._meta.progressToken");
}
END_TEST

/* Broker methods. */

START_TEST(test_parameterless_methods_accept_absent_or_empty_params)
{
	static const struct {
		const char		*method;
		enum route_method	 want;
	} m[] = {
		{ "broker/status", ROUTE_STATUS },
		{ "broker/servers", ROUTE_SERVERS },
		{ "broker/reload", ROUTE_RELOAD },
	};
	size_t	i;

	for (i = 0; i < sizeof m / sizeof *m; i++) {
		expect_accepted(m[i].method, NULL, m[i].want);
		ck_assert_ptr_null(route.server);
		ck_assert_ptr_null(route.thread);
		ck_assert_ptr_null(route.progress_token);
		ck_assert_int_eq(route.timeout_ms, 0);
		expect_no_extras();
		expect_accepted(m[i].method, "{}", m[i].want);
		expect_no_extras();
	}
}
END_TEST

START_TEST(test_parameterless_methods_refuse_any_parameter)
{
	static const char *const methods[] = {
		"broker/status", "broker/servers", "broker/reload",
	};
	size_t	i;

	for (i = 0; i < sizeof methods / sizeof *methods; i++) {
		expect_invalid(methods[i], "{\"verbose\":true}", "'verbose'");
		ck_assert_ptr_nonnull(strstr(fault.message, methods[i]));
		expect_invalid(methods[i], "{\"server\":\"repl\","
		    "\"thread\":\"t\"}", "'server'");
	}
}
END_TEST

START_TEST(test_status_takes_rss_true_or_false)
{
	expect_accepted("broker/status", "{\"rss\":true}", ROUTE_STATUS);
	ck_assert_int_eq(route.rss, 1);
	expect_accepted("broker/status", "{\"rss\":false}", ROUTE_STATUS);
	ck_assert_int_eq(route.rss, 0);
	expect_accepted("broker/status", "{}", ROUTE_STATUS);
	ck_assert_int_eq(route.rss, 0);
	expect_invalid("broker/status", "{\"rss\":1}", "rss");
	ck_assert_ptr_nonnull(strstr(fault.message, "broker/status"));
	expect_invalid("broker/status", "{\"rss\":\"yes\"}", "rss");
	expect_invalid("broker/servers", "{\"rss\":true}", "'rss'");
}
END_TEST

START_TEST(test_broker_params_not_an_object_is_invalid_params)
{
	static const char *const methods[] = {
		"broker/status", "broker/session", "broker/close",
		"broker/servers", "broker/reload", "broker/hello",
	};
	size_t	i;

	for (i = 0; i < sizeof methods / sizeof *methods; i++) {
		expect_invalid(methods[i], "[]", "params");
		ck_assert_ptr_nonnull(strstr(fault.message, methods[i]));
		expect_invalid(methods[i], "[{\"all\":true}]", "params");
		expect_invalid(methods[i], "\"x\"", "params");
		expect_invalid(methods[i], "null", "params");
	}
}
END_TEST

START_TEST(test_unknown_broker_method_is_method_not_found)
{
	expect_refused("broker/stop", "{}", RPC_METHOD_NOT_FOUND,
	    "broker/stop");
	expect_refused("broker/", NULL, RPC_METHOD_NOT_FOUND, NULL);
	expect_refused("broker/Status", NULL, RPC_METHOD_NOT_FOUND,
	    "broker/Status");
	expect_refused("broker/statusx", NULL, RPC_METHOD_NOT_FOUND,
	    "broker/statusx");
	expect_refused("broker/status/", NULL, RPC_METHOD_NOT_FOUND, NULL);
	/* Even with the routing members of a forwarded request. */
	expect_refused("broker/tools/call", "{\"server\":\"repl\","
	    "\"thread\":\"t\"}", RPC_METHOD_NOT_FOUND, "broker/tools/call");
}
END_TEST

START_TEST(test_unknown_broker_method_message_lists_the_methods)
{
	expect_refused("broker/nope", NULL, RPC_METHOD_NOT_FOUND,
	    "broker/status");
	ck_assert_ptr_nonnull(strstr(fault.message, "broker/session"));
	ck_assert_ptr_nonnull(strstr(fault.message, "broker/close"));
	ck_assert_ptr_nonnull(strstr(fault.message, "broker/hello"));
}
END_TEST

START_TEST(test_long_unknown_broker_method_message_is_bounded)
{
	char	*method;

	method = string_of(1000);
	memcpy(method, "broker/", 7);
	ck_assert_int_eq(route_parse(method, NULL, &route, &fault), -1);
	free(method);
	ck_assert_int_eq(fault.code, RPC_METHOD_NOT_FOUND);
	ck_assert_uint_lt(strlen(fault.message), sizeof fault.message);
}
END_TEST

START_TEST(test_session_extracts_server_and_thread)
{
	expect_accepted("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t-1\"}", ROUTE_SESSION);
	ck_assert_str_eq(route.server, "repl");
	ck_assert_str_eq(route.thread, "t-1");
	ck_assert_int_eq(route.create, 0);
	ck_assert_int_eq(route.all, 0);
}
END_TEST

START_TEST(test_session_create_true_is_extracted)
{
	expect_accepted("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t-1\",\"create\":true}", ROUTE_SESSION);
	ck_assert_int_eq(route.create, 1);
	ck_assert_str_eq(route.server, "repl");
	ck_assert_str_eq(route.thread, "t-1");
}
END_TEST

START_TEST(test_session_create_false_is_accepted)
{
	expect_accepted("broker/session", "{\"create\":false,"
	    "\"server\":\"repl\",\"thread\":\"t-1\"}", ROUTE_SESSION);
	ck_assert_int_eq(route.create, 0);
}
END_TEST

START_TEST(test_session_non_bool_create_is_invalid_params)
{
	expect_invalid("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t\",\"create\":1}", "create");
	expect_invalid("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t\",\"create\":\"true\"}", "create");
	expect_invalid("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t\",\"create\":null}", "create");
}
END_TEST

START_TEST(test_session_without_server_or_thread_is_invalid_params)
{
	expect_invalid("broker/session", NULL, "server");
	ck_assert_ptr_nonnull(strstr(fault.message, "thread"));
	expect_invalid("broker/session", "{}", "server");
	expect_invalid("broker/session", "{\"server\":\"repl\"}", "thread");
	expect_invalid("broker/session", "{\"thread\":\"t\"}", "server");
	expect_invalid("broker/session", "{\"create\":true}", "server");
}
END_TEST

START_TEST(test_session_empty_or_non_string_key_is_invalid_params)
{
	expect_invalid("broker/session", "{\"server\":\"\",\"thread\":\"t\"}",
	    "server");
	expect_invalid("broker/session", "{\"server\":\"repl\",\"thread\":\"\"}",
	    "thread");
	expect_invalid("broker/session", "{\"server\":1,\"thread\":\"t\"}",
	    "server");
	expect_invalid("broker/session", "{\"server\":\"repl\",\"thread\":[]}",
	    "thread");
}
END_TEST

START_TEST(test_session_unknown_parameter_is_invalid_params)
{
	expect_invalid("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t\",\"timeout_ms\":5}", "'timeout_ms'");
	ck_assert_ptr_nonnull(strstr(fault.message, "broker/session"));
	expect_invalid("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t\",\"all\":true}", "'all'");
	expect_invalid("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t\",\"_meta\":{}}", "'_meta'");
}
END_TEST

START_TEST(test_close_by_thread)
{
	expect_accepted("broker/close", "{\"thread\":\"t-1\"}", ROUTE_CLOSE);
	ck_assert_ptr_null(route.server);
	ck_assert_str_eq(route.thread, "t-1");
	ck_assert_int_eq(route.all, 0);
}
END_TEST

START_TEST(test_close_by_server)
{
	expect_accepted("broker/close", "{\"server\":\"repl\"}", ROUTE_CLOSE);
	ck_assert_str_eq(route.server, "repl");
	ck_assert_ptr_null(route.thread);
	ck_assert_int_eq(route.all, 0);
}
END_TEST

START_TEST(test_close_by_server_and_thread)
{
	expect_accepted("broker/close", "{\"server\":\"repl\","
	    "\"thread\":\"t-1\"}", ROUTE_CLOSE);
	ck_assert_str_eq(route.server, "repl");
	ck_assert_str_eq(route.thread, "t-1");
	ck_assert_int_eq(route.all, 0);
}
END_TEST

START_TEST(test_close_all)
{
	expect_accepted("broker/close", "{\"all\":true}", ROUTE_CLOSE);
	ck_assert_int_eq(route.all, 1);
	ck_assert_ptr_null(route.server);
	ck_assert_ptr_null(route.thread);
	ck_assert_int_eq(route.create, 0);
}
END_TEST

START_TEST(test_close_without_a_form_is_invalid_params)
{
	expect_invalid("broker/close", NULL, "broker/close");
	ck_assert_ptr_nonnull(strstr(fault.message, "\"all\""));
	ck_assert_ptr_nonnull(strstr(fault.message, "\"thread\""));
	ck_assert_ptr_nonnull(strstr(fault.message, "\"server\""));
	expect_invalid("broker/close", "{}", "broker/close");
}
END_TEST

START_TEST(test_close_all_not_true_is_invalid_params)
{
	expect_invalid("broker/close", "{\"all\":false}", "\"all\"");
	expect_invalid("broker/close", "{\"all\":1}", "\"all\"");
	expect_invalid("broker/close", "{\"all\":\"true\"}", "\"all\"");
	expect_invalid("broker/close", "{\"all\":null}", "\"all\"");
}
END_TEST

START_TEST(test_close_all_with_a_key_is_invalid_params)
{
	expect_invalid("broker/close", "{\"all\":true,\"server\":\"repl\"}",
	    "\"all\"");
	expect_invalid("broker/close", "{\"all\":true,\"thread\":\"t\"}",
	    "\"all\"");
	expect_invalid("broker/close", "{\"all\":true,\"server\":\"repl\","
	    "\"thread\":\"t\"}", "\"all\"");
	expect_invalid("broker/close", "{\"all\":false,\"server\":\"repl\"}",
	    "\"all\"");
}
END_TEST

START_TEST(test_close_empty_or_non_string_key_is_invalid_params)
{
	expect_invalid("broker/close", "{\"thread\":\"\"}", "\"thread\"");
	expect_invalid("broker/close", "{\"server\":\"\"}", "\"server\"");
	expect_invalid("broker/close", "{\"server\":\"repl\",\"thread\":\"\"}",
	    "\"thread\"");
	expect_invalid("broker/close", "{\"thread\":7}", "\"thread\"");
	expect_invalid("broker/close", "{\"server\":null}", "\"server\"");
	expect_invalid("broker/close", "{\"server\":[\"repl\"]}",
	    "\"server\"");
}
END_TEST

START_TEST(test_close_unknown_parameter_is_invalid_params)
{
	expect_invalid("broker/close", "{\"thread\":\"t\",\"create\":true}",
	    "'create'");
	ck_assert_ptr_nonnull(strstr(fault.message, "broker/close"));
	expect_invalid("broker/close", "{\"threads\":[\"t\"]}", "'threads'");
}
END_TEST

START_TEST(test_hello_without_capabilities_opts_in_to_nothing)
{
	expect_accepted("broker/hello", NULL, ROUTE_HELLO);
	expect_no_extras();
	expect_accepted("broker/hello", "{}", ROUTE_HELLO);
	expect_no_extras();
	expect_accepted("broker/hello", "{\"capabilities\":{}}", ROUTE_HELLO);
	expect_no_extras();
}
END_TEST

START_TEST(test_hello_sampling_is_extracted)
{
	expect_accepted("broker/hello", "{\"capabilities\":{\"sampling\":{}}}",
	    ROUTE_HELLO);
	ck_assert_int_eq(route.sampling, 1);
	ck_assert_int_eq(route.elicitation, 0);
}
END_TEST

START_TEST(test_hello_elicitation_is_extracted)
{
	expect_accepted("broker/hello",
	    "{\"capabilities\":{\"elicitation\":{}}}", ROUTE_HELLO);
	ck_assert_int_eq(route.sampling, 0);
	ck_assert_int_eq(route.elicitation, 1);
}
END_TEST

START_TEST(test_hello_both_capabilities_are_extracted)
{
	expect_accepted("broker/hello", "{\"capabilities\":{\"elicitation\":"
	    "{\"form\":{}},\"sampling\":{\"tools\":{}}}}", ROUTE_HELLO);
	ck_assert_int_eq(route.sampling, 1);
	ck_assert_int_eq(route.elicitation, 1);
	ck_assert_ptr_null(route.server);
	ck_assert_ptr_null(route.thread);
}
END_TEST

START_TEST(test_hello_takes_the_whole_client_capabilities)
{
	expect_accepted("broker/hello", "{\"capabilities\":{\"roots\":"
	    "{\"listChanged\":true},\"experimental\":{},\"sampling\":"
	    "{\"tools\":{},\"context\":{}},\"elicitation\":{\"form\":{},"
	    "\"url\":{}},\"extensions\":{}}}", ROUTE_HELLO);
	ck_assert_int_eq(route.sampling, 1);
	ck_assert_int_eq(route.elicitation, 1);
	ck_assert_ptr_nonnull(route.capabilities);
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(
	    route.capabilities, "roots"));
}
END_TEST

START_TEST(test_hello_sub_capability_not_an_object_is_invalid_params)
{
	expect_invalid("broker/hello", "{\"capabilities\":{\"sampling\":"
	    "{\"tools\":true}}}", "capabilities.sampling.tools");
	expect_invalid("broker/hello", "{\"capabilities\":{\"elicitation\":"
	    "{\"url\":\"yes\"}}}", "capabilities.elicitation.url");
	expect_invalid("broker/hello", "{\"capabilities\":{\"roots\":true}}",
	    "capabilities.roots");
}
END_TEST

START_TEST(test_hello_capability_not_an_object_is_invalid_params)
{
	expect_invalid("broker/hello", "{\"capabilities\":{\"sampling\":true}}",
	    "capabilities.sampling");
	expect_invalid("broker/hello",
	    "{\"capabilities\":{\"elicitation\":null}}",
	    "capabilities.elicitation");
	expect_invalid("broker/hello",
	    "{\"capabilities\":{\"sampling\":[]}}", "capabilities.sampling");
}
END_TEST

START_TEST(test_hello_capabilities_not_an_object_is_invalid_params)
{
	expect_invalid("broker/hello", "{\"capabilities\":[\"sampling\"]}",
	    "capabilities");
	expect_invalid("broker/hello", "{\"capabilities\":true}",
	    "capabilities");
	expect_invalid("broker/hello", "{\"capabilities\":null}",
	    "capabilities");
	expect_invalid("broker/hello", "{\"capabilities\":\"sampling\"}",
	    "capabilities");
}
END_TEST

START_TEST(test_hello_unknown_parameter_is_invalid_params)
{
	expect_invalid("broker/hello", "{\"capabilities\":{},"
	    "\"clientInfo\":{}}", "'clientInfo'");
	ck_assert_ptr_nonnull(strstr(fault.message, "broker/hello"));
	expect_invalid("broker/hello", "{\"sampling\":{}}", "'sampling'");
}
END_TEST

START_TEST(test_parse_resets_every_field)
{
	expect_accepted("broker/hello", "{\"capabilities\":{\"sampling\":{},"
	    "\"elicitation\":{}}}", ROUTE_HELLO);
	expect_accepted("broker/status", NULL, ROUTE_STATUS);
	expect_no_extras();
	expect_accepted("tools/call", "{\"server\":\"repl\",\"thread\":\"t\","
	    "\"timeout_ms\":5,\"_meta\":{\"progressToken\":1}}",
	    ROUTE_FORWARD);
	expect_accepted("broker/close", "{\"all\":true}", ROUTE_CLOSE);
	ck_assert_ptr_null(route.server);
	ck_assert_ptr_null(route.thread);
	ck_assert_int_eq(route.timeout_ms, 0);
	ck_assert_ptr_null(route.progress_token);
	expect_accepted("broker/session", "{\"server\":\"repl\","
	    "\"thread\":\"t\"}", ROUTE_SESSION);
	ck_assert_int_eq(route.all, 0);
}
END_TEST

/* route_strip. */

START_TEST(test_strip_removes_server_thread_and_timeout_only)
{
	params = cJSON_Parse("{\"server\":\"playwright\",\"thread\":\"t-42\","
	    "\"name\":\"browser_navigate\",\"timeout_ms\":5000,"
	    "\"arguments\":{\"url\":\"https://example.org\",\"server\":\"s\","
	    "\"thread\":\"t\",\"timeout_ms\":1},"
	    "\"_meta\":{\"progressToken\":\"p\",\"server\":\"s\"}}");
	ck_assert_ptr_nonnull(params);
	route_strip(params);
	expect_json(params, "{\"name\":\"browser_navigate\","
	    "\"arguments\":{\"url\":\"https://example.org\",\"server\":\"s\","
	    "\"thread\":\"t\",\"timeout_ms\":1},"
	    "\"_meta\":{\"progressToken\":\"p\",\"server\":\"s\"}}");
}
END_TEST

START_TEST(test_strip_after_parse_leaves_what_the_child_sees)
{
	expect_accepted("tools/call", "{\"server\":\"playwright\","
	    "\"thread\":\"t-42\",\"name\":\"browser_navigate\","
	    "\"arguments\":{\"url\":\"https://example.org\"}}", ROUTE_FORWARD);
	route_strip(params);
	expect_json(params, "{\"name\":\"browser_navigate\","
	    "\"arguments\":{\"url\":\"https://example.org\"}}");
}
END_TEST

START_TEST(test_strip_without_routing_members_changes_nothing)
{
	params = cJSON_Parse("{\"cursor\":\"c\",\"Server\":\"S\","
	    "\"THREAD\":\"T\",\"timeoutMs\":3}");
	ck_assert_ptr_nonnull(params);
	route_strip(params);
	expect_json(params, "{\"cursor\":\"c\",\"Server\":\"S\","
	    "\"THREAD\":\"T\",\"timeoutMs\":3}");
}
END_TEST

START_TEST(test_strip_can_leave_empty_params)
{
	params = cJSON_Parse("{\"thread\":\"t\",\"server\":\"repl\"}");
	ck_assert_ptr_nonnull(params);
	route_strip(params);
	expect_json(params, "{}");
}
END_TEST

START_TEST(test_strip_of_null_params_is_harmless)
{
	route_strip(NULL);
}
END_TEST

/* Every route behaviour, one test case each. */
/* The name rule. */

/* name (len bytes) must be refused for what, the message holding words. */
static void
expect_bad_name(const char *what, const char *name, size_t len, int lone,
    const char *words)
{
	struct route_fault	f;

	ck_assert_int_eq(route_check_name(what, name, len, lone, &f), -1);
	ck_assert_int_eq(f.code, -32602);
	ck_assert_msg(strstr(f.message, words) != NULL, "%s: %s", words,
	    f.message);
	ck_assert_msg(strncmp(f.message, what, strlen(what)) == 0, "%s",
	    f.message);
}

START_TEST(test_names_follow_one_rule)
{
	struct route_fault	f;
	char			long_name[300];

	ck_assert_int_eq(route_check_name("thread", "t-\xc3\xa9\xf0\x9f\x98\x80",
	    8, 0, &f), 0);
	expect_bad_name("thread", "", 0, 0, "non-empty");
	expect_bad_name("thread", "al\0one", 6, 0, "control characters");
	expect_bad_name("thread", "a\x1f", 2, 0, "control characters");
	expect_bad_name("thread", "a\x7f", 2, 0, "control characters");
	expect_bad_name("thread", "\xff", 1, 0, "valid UTF-8");
	expect_bad_name("thread", "\xc0\xaf", 2, 0, "valid UTF-8");
	expect_bad_name("thread", "\xed\xa0\x80", 3, 0, "valid UTF-8");
	expect_bad_name("thread", "\xf4\x90\x80\x80", 4, 0, "valid UTF-8");
	expect_bad_name("thread", "\xe2\x82", 2, 0, "valid UTF-8");
	expect_bad_name("thread", "x", 1, 1, "lone surrogate");
	memset(long_name, 'a', sizeof long_name);
	ck_assert_int_eq(route_check_name("server", long_name, 64, 0, &f), 0);
	expect_bad_name("server", long_name, 65, 0, "at most 64 bytes");
	ck_assert_int_eq(route_check_name("thread", long_name, 256, 0, &f), 0);
	expect_bad_name("thread", long_name, 257, 0, "at most 256 bytes");
}
END_TEST

START_TEST(test_names_are_checked_on_the_lines_text)
{
	struct route_fault	f;
	const char		*line;

	line = "{\"params\":{\"server\":\"demo\\u0000x\",\"thread\":\"t\"}}";
	ck_assert_int_eq(route_check_names(line, strlen(line), &f), -1);
	ck_assert_ptr_nonnull(strstr(f.message, "server must not contain"));
	line = "{\"params\":{\"server\":\"demo\",\"thr\\u0065ad\":\"\\ud800\"}}";
	ck_assert_int_eq(route_check_names(line, strlen(line), &f), -1);
	ck_assert_ptr_nonnull(strstr(f.message, "thread must be valid UTF-8"));
	/* Other types are route_parse()'s to refuse. */
	line = "{\"params\":{\"server\":1,\"thread\":[]}}";
	ck_assert_int_eq(route_check_names(line, strlen(line), &f), 0);
	line = "{\"params\":[\"server\"]}";
	ck_assert_int_eq(route_check_names(line, strlen(line), &f), 0);
	line = "{\"params\":{\"server\":\"d\\u00e9mo\",\"thread\":\"t\\/1\"}}";
	ck_assert_int_eq(route_check_names(line, strlen(line), &f), 0);
}
END_TEST

/* An HTTP path names its server and thread percent-encoded, by the
   same rule as the socket's requests. */
START_TEST(test_http_path_splits_and_decodes_the_names)
{
	struct route_fault	 fault_http;
	char			*server, *thread;

	ck_assert_int_eq(route_http_path("/mcp/fake/t%2F1%20x", &server,
	    &thread, &fault_http), 0);
	ck_assert_str_eq(server, "fake");
	ck_assert_str_eq(thread, "t/1 x");
	free(server);
	free(thread);
	ck_assert_int_eq(route_http_path("/mcp/fake", &server, &thread,
	    &fault_http), -1);
	ck_assert_int_eq(route_http_path("/mcp//t", &server, &thread,
	    &fault_http), -1);
	ck_assert_int_eq(route_http_path("/mcp/a/b/c", &server, &thread,
	    &fault_http), -1);
	ck_assert_int_eq(route_http_path("/mcp/a/", &server, &thread,
	    &fault_http), -1);
	ck_assert_int_eq(route_http_path("/metrics", &server, &thread,
	    &fault_http), -1);
	/* A control character or a NUL, once decoded, breaks the rule. */
	ck_assert_int_eq(route_http_path("/mcp/fake/t%0A1", &server,
	    &thread, &fault_http), -2);
	ck_assert_int_eq(fault_http.code, -32602);
	ck_assert_int_eq(route_http_path("/mcp/fa%00ke/t", &server,
	    &thread, &fault_http), -2);
}
END_TEST

static Suite *
route_suite(void)
{
	Suite	*s = suite_create("route");
	TCase	*tc;

	tc = tcase_create("forward accepted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_forward_extracts_server_and_thread);
	tcase_add_test(tc, test_forward_strings_are_borrowed_from_params);
	tcase_add_test(tc, test_any_non_broker_method_is_forwarded);
	tcase_add_test(tc, test_forward_other_members_are_not_checked);
	tcase_add_test(tc, test_thread_of_256_bytes_is_accepted);
	tcase_add_test(tc, test_thread_of_1_byte_is_accepted);
	tcase_add_test(tc, test_timeout_ms_is_extracted);
	tcase_add_test(tc, test_timeout_ms_of_1_is_accepted);
	tcase_add_test(tc, test_timeout_ms_of_a_day_is_accepted);
	tcase_add_test(tc, test_string_progress_token_is_extracted);
	tcase_add_test(tc, test_integer_progress_token_is_extracted);
	tcase_add_test(tc,
	    test_integer_progress_tokens_of_15_digits_are_accepted);
	tcase_add_test(tc, test_empty_string_progress_token_is_accepted);
	tcase_add_test(tc, test_meta_without_progress_token_has_no_token);
	tcase_add_test(tc, test_meta_that_is_not_an_object_is_refused);
	tcase_add_test(tc, test_all_routing_members_together);
	suite_add_tcase(s, tc);

	tc = tcase_create("forward refused");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_forward_without_params_is_invalid_params);
	tcase_add_test(tc,
	    test_forward_params_not_an_object_is_invalid_params);
	tcase_add_test(tc, test_missing_server_is_invalid_params);
	tcase_add_test(tc, test_empty_server_is_invalid_params);
	tcase_add_test(tc, test_non_string_server_is_invalid_params);
	tcase_add_test(tc, test_server_member_name_is_case_sensitive);
	tcase_add_test(tc, test_missing_thread_is_invalid_params);
	tcase_add_test(tc, test_empty_thread_is_invalid_params);
	tcase_add_test(tc, test_non_string_thread_is_invalid_params);
	tcase_add_test(tc, test_thread_over_256_bytes_is_invalid_params);
	tcase_add_test(tc, test_session_thread_over_256_bytes_is_invalid_params);
	tcase_add_test(tc, test_timeout_ms_of_0_is_invalid_params);
	tcase_add_test(tc, test_timeout_ms_over_a_day_is_invalid_params);
	tcase_add_test(tc, test_negative_timeout_ms_is_invalid_params);
	tcase_add_test(tc, test_non_number_timeout_ms_is_invalid_params);
	tcase_add_test(tc, test_fractional_progress_token_is_invalid_params);
	tcase_add_test(tc,
	    test_progress_token_of_16_digits_is_invalid_params);
	tcase_add_test(tc, test_non_scalar_progress_token_is_invalid_params);
	suite_add_tcase(s, tc);

	tc = tcase_create("broker methods");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    test_parameterless_methods_accept_absent_or_empty_params);
	tcase_add_test(tc, test_parameterless_methods_refuse_any_parameter);
	tcase_add_test(tc, test_status_takes_rss_true_or_false);
	tcase_add_test(tc,
	    test_broker_params_not_an_object_is_invalid_params);
	tcase_add_test(tc, test_unknown_broker_method_is_method_not_found);
	tcase_add_test(tc,
	    test_unknown_broker_method_message_lists_the_methods);
	tcase_add_test(tc,
	    test_long_unknown_broker_method_message_is_bounded);
	tcase_add_test(tc, test_session_extracts_server_and_thread);
	tcase_add_test(tc, test_session_create_true_is_extracted);
	tcase_add_test(tc, test_session_create_false_is_accepted);
	tcase_add_test(tc, test_session_non_bool_create_is_invalid_params);
	tcase_add_test(tc,
	    test_session_without_server_or_thread_is_invalid_params);
	tcase_add_test(tc,
	    test_session_empty_or_non_string_key_is_invalid_params);
	tcase_add_test(tc, test_session_unknown_parameter_is_invalid_params);
	tcase_add_test(tc, test_close_by_thread);
	tcase_add_test(tc, test_close_by_server);
	tcase_add_test(tc, test_close_by_server_and_thread);
	tcase_add_test(tc, test_close_all);
	tcase_add_test(tc, test_close_without_a_form_is_invalid_params);
	tcase_add_test(tc, test_close_all_not_true_is_invalid_params);
	tcase_add_test(tc, test_close_all_with_a_key_is_invalid_params);
	tcase_add_test(tc,
	    test_close_empty_or_non_string_key_is_invalid_params);
	tcase_add_test(tc, test_close_unknown_parameter_is_invalid_params);
	tcase_add_test(tc,
	    test_hello_without_capabilities_opts_in_to_nothing);
	tcase_add_test(tc, test_hello_sampling_is_extracted);
	tcase_add_test(tc, test_hello_elicitation_is_extracted);
	tcase_add_test(tc, test_hello_both_capabilities_are_extracted);
	tcase_add_test(tc, test_hello_takes_the_whole_client_capabilities);
	tcase_add_test(tc,
	    test_hello_sub_capability_not_an_object_is_invalid_params);
	tcase_add_test(tc,
	    test_hello_capability_not_an_object_is_invalid_params);
	tcase_add_test(tc,
	    test_hello_capabilities_not_an_object_is_invalid_params);
	tcase_add_test(tc, test_hello_unknown_parameter_is_invalid_params);
	tcase_add_test(tc, test_parse_resets_every_field);
	suite_add_tcase(s, tc);

	tc = tcase_create("strip");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_strip_removes_server_thread_and_timeout_only);
	tcase_add_test(tc, test_strip_after_parse_leaves_what_the_child_sees);
	tcase_add_test(tc,
	    test_strip_without_routing_members_changes_nothing);
	tcase_add_test(tc, test_strip_can_leave_empty_params);
	tcase_add_test(tc, test_strip_of_null_params_is_harmless);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_test(tc, test_names_follow_one_rule);
	tcase_add_test(tc, test_names_are_checked_on_the_lines_text);
	tcase_add_test(tc, test_http_path_splits_and_decodes_the_names);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(route_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
