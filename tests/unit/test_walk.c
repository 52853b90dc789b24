/*
 * Reading a JSON document value by value: the paths messages name, typed
 * reads with their bounds, repeated keys, ${NAME} expansion, and errors
 * counted whether or not anyone collects them.
 */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "walk.h"
#include "xmalloc.h"

/* A struct the integer table below writes into. */
struct limits {
	int	low;
	int	high;
};

static const struct walk_int_key limits_ints[] = {
	{ "low", 0, 10, offsetof(struct limits, low) },
	{ "high", 1, 100, offsetof(struct limits, high) },
};

static cJSON	*parse(const char *);
static void	 diag_free(struct config_diag *);
static Suite	*walk_suite(void);

/* Parse JSON text that the test knows is valid; the caller frees it. */
static cJSON *
parse(const char *text)
{
	cJSON	*json;

	json = cJSON_Parse(text);
	ck_assert_ptr_nonnull(json);
	return (json);
}

/* Free a diag's messages: config_diag_clear lives in config.c. */
static void
diag_free(struct config_diag *diag)
{
	size_t	i;

	for (i = 0; i < diag->nerrors; i++)
		free(diag->errors[i]);
	free(diag->errors);
	for (i = 0; i < diag->nwarnings; i++)
		free(diag->warnings[i]);
	free(diag->warnings);
	memset(diag, 0, sizeof *diag);
}

START_TEST(test_path_key_joins_parent_and_key)
{
	char	*path;

	path = walk_path_key("mcpServers", "playwright");
	ck_assert_str_eq(path, "mcpServers.playwright");
	free(path);
	path = walk_path_key(NULL, "broker");
	ck_assert_str_eq(path, "broker");
	free(path);
}
END_TEST

START_TEST(test_path_index_names_the_element)
{
	char	*path;

	path = walk_path_index("mcpServers.playwright.args", 1);
	ck_assert_str_eq(path, "mcpServers.playwright.args[1]");
	free(path);
}
END_TEST

START_TEST(test_path_key_escapes_control_bytes_and_backslashes)
{
	char	*path;

	path = walk_path_key("env", "a\nb\\c\x7f");
	ck_assert_str_eq(path, "env.a\\x0ab\\x5cc\\x7f");
	free(path);
}
END_TEST

START_TEST(test_path_key_cuts_a_long_key)
{
	char	 key[101], *path, *want;

	memset(key, 'k', 100);
	key[100] = '\0';
	path = walk_path_key("x", key);
	xasprintf(&want, "x.%.64s...", key);
	ck_assert_str_eq(path, want);
	free(want);
	free(path);
}
END_TEST

START_TEST(test_error_and_warning_name_their_path)
{
	struct config_diag	 diag = { 0 };
	struct walk		 walk = { &diag, 0 };

	walk_error(&walk, "broker.max_sessions", "expected %s", "a number");
	walk_warning(&walk, "mcpServers.x.timeout", "ignored");
	ck_assert_uint_eq(walk.nerrors, 1);
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0],
	    "broker.max_sessions: expected a number");
	ck_assert_uint_eq(diag.nwarnings, 1);
	ck_assert_str_eq(diag.warnings[0], "mcpServers.x.timeout: ignored");
	diag_free(&diag);
}
END_TEST

START_TEST(test_errors_are_counted_without_a_diag)
{
	struct walk	walk = { NULL, 0 };

	walk_error(&walk, "a", "one");
	walk_warning(&walk, "b", "not an error");
	walk_error(&walk, "c", "two");
	ck_assert_uint_eq(walk.nerrors, 2);
}
END_TEST

START_TEST(test_parse_returns_the_object)
{
	struct walk	 walk = { NULL, 0 };
	cJSON		*root;

	root = walk_parse(&walk, " {\"a\": 1}\n", 10);
	ck_assert_ptr_nonnull(root);
	ck_assert(cJSON_IsObject(root));
	ck_assert_uint_eq(walk.nerrors, 0);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_parse_reports_where_the_text_is_wrong)
{
	static const struct {
		const char	*text;
		size_t		 len;
		const char	*error;
	} cases[] = {
		{ "", 0, "(top level): empty; expected a JSON object" },
		{ "{\n\"a\": ,}", 9,
		  "(top level): not valid JSON near line 2, column 6" },
		{ "{}\n[]", 5, "(top level): unexpected text after the JSON "
		  "value at line 2, column 1" },
		{ "{}\0", 3, "(top level): a NUL byte at line 1, column 3 "
		  "(a config is UTF-8 text)" },
		{ "[1]", 3, "(top level): expected an object" },
	};
	struct config_diag	 diag = { 0 };
	struct walk		 walk;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&walk, 0, sizeof walk);
		walk.diag = &diag;
		ck_assert_ptr_null(walk_parse(&walk, cases[i].text,
		    cases[i].len));
		ck_assert_uint_eq(walk.nerrors, 1);
		ck_assert_str_eq(diag.errors[0], cases[i].error);
		diag_free(&diag);
	}
}
END_TEST

START_TEST(test_duplicates_are_reported_once_per_key)
{
	struct config_diag	 diag = { 0 };
	struct walk		 walk = { &diag, 0 };
	cJSON			*obj;

	obj = parse("{\"a\":1,\"b\":2,\"a\":3,\"a\":4,\"c\":5,\"b\":6}");
	walk_check_duplicates(&walk, obj, "broker");
	ck_assert_uint_eq(diag.nerrors, 2);
	ck_assert_str_eq(diag.errors[0], "broker.a: duplicate key (each key "
	    "may appear only once)");
	ck_assert_str_eq(diag.errors[1], "broker.b: duplicate key (each key "
	    "may appear only once)");
	cJSON_Delete(obj);
	diag_free(&diag);
}
END_TEST

START_TEST(test_get_int_takes_integral_numbers_within_bounds)
{
	struct walk	 walk = { NULL, 0 };
	cJSON		*arr;
	long long	 v = 0;

	arr = parse("[1, 10, 5e0]");
	ck_assert_int_eq(walk_get_int(&walk, cJSON_GetArrayItem(arr, 0), "a",
	    1, 10, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(walk_get_int(&walk, cJSON_GetArrayItem(arr, 1), "a",
	    1, 10, &v), 0);
	ck_assert_int_eq(v, 10);
	ck_assert_int_eq(walk_get_int(&walk, cJSON_GetArrayItem(arr, 2), "a",
	    1, 10, &v), 0);
	ck_assert_int_eq(v, 5);
	ck_assert_uint_eq(walk.nerrors, 0);
	cJSON_Delete(arr);
}
END_TEST

START_TEST(test_get_int_refuses_anything_else)
{
	struct config_diag	 diag = { 0 };
	struct walk		 walk = { &diag, 0 };
	const cJSON		*item;
	cJSON			*arr;
	long long		 v = 42;
	size_t			 n = 0;

	arr = parse("[0, 11, 1.5, true, \"3\", null, {}, 1e300]");
	cJSON_ArrayForEach(item, arr) {
		ck_assert_int_eq(walk_get_int(&walk, item, "k", 1, 10, &v),
		    -1);
		ck_assert_str_eq(diag.errors[n++],
		    "k: expected an integer from 1 to 10");
	}
	ck_assert_uint_eq(walk.nerrors, 8);
	ck_assert_int_eq(v, 42);
	cJSON_Delete(arr);
	diag_free(&diag);
}
END_TEST

START_TEST(test_get_string_refuses_empty_and_non_strings)
{
	struct config_diag	 diag = { 0 };
	struct walk		 walk = { &diag, 0 };
	cJSON			*arr;

	arr = parse("[\"npx\", \"\", 1]");
	ck_assert_str_eq(walk_get_string(&walk, cJSON_GetArrayItem(arr, 0),
	    "c"), "npx");
	ck_assert_ptr_null(walk_get_string(&walk, cJSON_GetArrayItem(arr, 1),
	    "c"));
	ck_assert_ptr_null(walk_get_string(&walk, cJSON_GetArrayItem(arr, 2),
	    "c"));
	ck_assert_uint_eq(diag.nerrors, 2);
	ck_assert_str_eq(diag.errors[1], "c: expected a non-empty string");
	cJSON_Delete(arr);
	diag_free(&diag);
}
END_TEST

START_TEST(test_find_int_finds_a_key_by_name)
{
	const struct walk_int_key	*key;
	struct limits			 lim = { 0, 0 };

	key = walk_find_int(limits_ints, WALK_NITEMS(limits_ints), "high");
	ck_assert_ptr_nonnull(key);
	ck_assert_int_eq(key->max, 100);
	*(int *)((char *)&lim + key->offset) = 7;
	ck_assert_int_eq(lim.high, 7);
	ck_assert_ptr_null(walk_find_int(limits_ints,
	    WALK_NITEMS(limits_ints), "middle"));
}
END_TEST

START_TEST(test_expand_replaces_variables_and_keeps_other_dollars)
{
	struct walk	 walk = { NULL, 0 };
	char		*s;

	ck_assert_int_eq(setenv("MCPB_WALK_A", "x${MCPB_WALK_A}", 1), 0);
	s = walk_expand(&walk, "${MCPB_WALK_A}/$$/$HOME/$", "p");
	ck_assert_str_eq(s, "x${MCPB_WALK_A}/$/$HOME/$");
	free(s);
	ck_assert_uint_eq(walk.nerrors, 0);
}
END_TEST

START_TEST(test_expand_reports_every_bad_variable)
{
	struct config_diag	 diag = { 0 };
	struct walk		 walk = { &diag, 0 };

	ck_assert_int_eq(unsetenv("MCPB_WALK_UNSET"), 0);
	ck_assert_ptr_null(walk_expand(&walk, "${MCPB_WALK_UNSET}${1x}${a",
	    "args[0]"));
	ck_assert_uint_eq(diag.nerrors, 3);
	ck_assert_str_eq(diag.errors[0], "args[0]: ${MCPB_WALK_UNSET} is not "
	    "set in the daemon's environment");
	ck_assert_str_eq(diag.errors[1], "args[0]: ${1x}: not a valid "
	    "variable name (letters, digits and \"_\", not starting with a "
	    "digit; a literal \"$\" is written \"$$\")");
	ck_assert_str_eq(diag.errors[2], "args[0]: unterminated \"${\" (a "
	    "literal \"$\" is written \"$$\")");
	diag_free(&diag);
}
END_TEST

START_TEST(test_expand_nonempty_refuses_what_expands_to_nothing)
{
	struct config_diag	 diag = { 0 };
	struct walk		 walk = { &diag, 0 };
	cJSON			*item;

	ck_assert_int_eq(setenv("MCPB_WALK_EMPTY", "", 1), 0);
	item = cJSON_CreateString("${MCPB_WALK_EMPTY}");
	ck_assert_ptr_null(walk_expand_nonempty(&walk, item, "cwd"));
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0], "cwd: empty once its variables are "
	    "expanded");
	cJSON_Delete(item);
	diag_free(&diag);
}
END_TEST

START_TEST(test_env_names_are_letters_digits_and_underscores)
{
	ck_assert(walk_env_name_valid("HOME"));
	ck_assert(walk_env_name_valid("_a1"));
	ck_assert(!walk_env_name_valid(""));
	ck_assert(!walk_env_name_valid("1A"));
	ck_assert(!walk_env_name_valid("A-B"));
	ck_assert(!walk_env_name_valid("A=B"));
}
END_TEST

/* Every behaviour of the walk module. */
static Suite *
walk_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("walk");

	tc = tcase_create("paths");
	tcase_add_test(tc, test_path_key_joins_parent_and_key);
	tcase_add_test(tc, test_path_index_names_the_element);
	tcase_add_test(tc, test_path_key_escapes_control_bytes_and_backslashes);
	tcase_add_test(tc, test_path_key_cuts_a_long_key);
	tcase_add_test(tc, test_error_and_warning_name_their_path);
	tcase_add_test(tc, test_errors_are_counted_without_a_diag);
	suite_add_tcase(s, tc);

	tc = tcase_create("reads");
	tcase_add_test(tc, test_parse_returns_the_object);
	tcase_add_test(tc, test_parse_reports_where_the_text_is_wrong);
	tcase_add_test(tc, test_duplicates_are_reported_once_per_key);
	tcase_add_test(tc, test_get_int_takes_integral_numbers_within_bounds);
	tcase_add_test(tc, test_get_int_refuses_anything_else);
	tcase_add_test(tc, test_get_string_refuses_empty_and_non_strings);
	tcase_add_test(tc, test_find_int_finds_a_key_by_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("expansion");
	tcase_add_test(tc,
	    test_expand_replaces_variables_and_keeps_other_dollars);
	tcase_add_test(tc, test_expand_reports_every_bad_variable);
	tcase_add_test(tc,
	    test_expand_nonempty_refuses_what_expands_to_nothing);
	tcase_add_test(tc, test_env_names_are_letters_digits_and_underscores);
	suite_add_tcase(s, tc);

	return (s);
}

/* Run the suite; nonzero exit on any failure. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(walk_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
