/*
 * The pure parts of broker.http: splitting "HOST:PORT", telling loopback
 * hosts from others, and finding a token only when it is whole.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config_http.h"
#include "xmalloc.h"

static Suite	*config_http_suite(void);

/* Whether spec splits, and into host and port. */
static int
splits(const char *spec, const char *host, const char *port)
{
	char	*h, *p;
	int	 ok;

	if (config_http_split(spec, &h, &p) != 0)
		return (0);
	ok = strcmp(h, host) == 0 && strcmp(p, port) == 0;
	free(h);
	free(p);
	return (ok);
}

START_TEST(test_split_takes_host_port_and_bracketed_v6)
{
	ck_assert(splits("127.0.0.1:8080", "127.0.0.1", "8080"));
	ck_assert(splits("localhost:1", "localhost", "1"));
	ck_assert(splits("[::1]:65535", "::1", "65535"));
	ck_assert(splits("example.org:443", "example.org", "443"));
}
END_TEST

START_TEST(test_split_refuses_what_is_not_host_port)
{
	char	*h, *p;

	ck_assert_int_eq(config_http_split("127.0.0.1", &h, &p), -1);
	ck_assert_int_eq(config_http_split(":8080", &h, &p), -1);
	ck_assert_int_eq(config_http_split("::1:8080", &h, &p), -1);
	ck_assert_int_eq(config_http_split("[]:8080", &h, &p), -1);
	ck_assert_int_eq(config_http_split("[::1]8080", &h, &p), -1);
	ck_assert_int_eq(config_http_split("127.0.0.1:0", &h, &p), -1);
	ck_assert_int_eq(config_http_split("127.0.0.1:65536", &h, &p), -1);
	ck_assert_int_eq(config_http_split("127.0.0.1:80x", &h, &p), -1);
	ck_assert_int_eq(config_http_split("127.0.0.1:-80", &h, &p), -1);
}
END_TEST

START_TEST(test_loopback_is_localhost_127_8_and_v6_one)
{
	ck_assert(config_http_loopback("localhost"));
	ck_assert(config_http_loopback("LocalHost"));
	ck_assert(config_http_loopback("127.0.0.1"));
	ck_assert(config_http_loopback("127.255.1.2"));
	ck_assert(config_http_loopback("::1"));
	ck_assert(config_http_loopback("::ffff:127.0.0.1"));

	ck_assert(!config_http_loopback("0.0.0.0"));
	ck_assert(!config_http_loopback("::"));
	ck_assert(!config_http_loopback("128.0.0.1"));
	ck_assert(!config_http_loopback("10.0.0.1"));
	ck_assert(!config_http_loopback("localhost.evil.example"));
	ck_assert(!config_http_loopback("127.0.0.1.evil.example"));
	ck_assert(!config_http_loopback(""));
}
END_TEST

START_TEST(test_find_token_matches_only_a_whole_token)
{
	struct config_http_token	toks[2];
	struct config_http		hc;

	config_http_init(&hc);
	memset(toks, 0, sizeof toks);
	toks[0].token = "first-token-0123456789";
	toks[0].len = strlen(toks[0].token);
	toks[0].uid = 1000;
	toks[1].token = "second-token-0123456789";
	toks[1].len = strlen(toks[1].token);
	toks[1].uid = 1001;
	hc.tokens = toks;
	hc.ntokens = 2;
	hc.token_max = toks[1].len;

	ck_assert_ptr_eq(config_http_find_token(&hc, "first-token-0123456789",
	    22), &toks[0]);
	ck_assert_ptr_eq(config_http_find_token(&hc,
	    "second-token-0123456789", 23), &toks[1]);
	ck_assert_ptr_null(config_http_find_token(&hc, "first-token", 11));
	ck_assert_ptr_null(config_http_find_token(&hc,
	    "first-token-01234567890", 23));
	ck_assert_ptr_null(config_http_find_token(&hc,
	    "first-token-0123456788", 22));
	ck_assert_ptr_null(config_http_find_token(&hc, "", 0));
	/* Longer than any token: refused before comparing. */
	ck_assert_ptr_null(config_http_find_token(&hc,
	    "second-token-0123456789-and-more", 32));
}
END_TEST

START_TEST(test_defaults_listen_nowhere_and_idle_sixty)
{
	struct config_http	hc;

	config_http_init(&hc);
	ck_assert_uint_eq(hc.nlisten, 0);
	ck_assert_ptr_null(hc.tokens_file);
	ck_assert_int_eq(hc.allow_remote, 0);
	ck_assert_int_eq(hc.idle_timeout_s, 60);
	config_http_clear(&hc);
}
END_TEST

/* The suite. */
static Suite *
config_http_suite(void)
{
	Suite	*s = suite_create("config_http");
	TCase	*tc = tcase_create("config_http");

	tcase_add_test(tc, test_split_takes_host_port_and_bracketed_v6);
	tcase_add_test(tc, test_split_refuses_what_is_not_host_port);
	tcase_add_test(tc, test_loopback_is_localhost_127_8_and_v6_one);
	tcase_add_test(tc, test_find_token_matches_only_a_whole_token);
	tcase_add_test(tc, test_defaults_listen_nowhere_and_idle_sixty);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; nonzero exit on any failure. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(config_http_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
