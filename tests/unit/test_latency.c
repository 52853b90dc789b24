/*
 * Latency histograms: which bucket a duration lands in, and how a
 * server's histogram lives while anything holds it.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "latency.h"

/* A duration on a bound is counted in that bound's bucket (le). */
START_TEST(test_a_duration_lands_in_the_first_bucket_it_fits)
{
	struct latency_list	 list = LIST_HEAD_INITIALIZER(list);
	struct latency		*l;

	l = latency_get(&list, "s");
	latency_observe(l, 0);
	latency_observe(l, latency_bounds_us[0]);
	latency_observe(l, latency_bounds_us[0] + 1);
	latency_observe(l, latency_bounds_us[LATENCY_NBOUNDS - 1] + 1);
	ck_assert_uint_eq(l->buckets[0], 2);
	ck_assert_uint_eq(l->buckets[1], 1);
	ck_assert_uint_eq(l->buckets[LATENCY_NBOUNDS], 1);
	ck_assert_uint_eq(l->count, 4);
	ck_assert_uint_eq(l->sum_us, 2 * latency_bounds_us[0] + 1 +
	    latency_bounds_us[LATENCY_NBOUNDS - 1] + 1);
	latency_release(l);
	ck_assert(LIST_EMPTY(&list));
}
END_TEST

/* The bounds rise, so the buckets are cumulative in order. */
START_TEST(test_the_bounds_rise)
{
	size_t	i;

	for (i = 1; i < LATENCY_NBOUNDS; i++)
		ck_assert_uint_gt(latency_bounds_us[i], latency_bounds_us[i - 1]);
}
END_TEST

/* One histogram per name, kept with its counts until the last release. */
START_TEST(test_a_server_keeps_one_histogram_while_it_is_held)
{
	struct latency_list	 list = LIST_HEAD_INITIALIZER(list);
	struct latency		*a, *b, *other;

	a = latency_get(&list, "s");
	latency_observe(a, 5);
	b = latency_get(&list, "s");
	other = latency_get(&list, "t");
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_ne(a, other);
	ck_assert_ptr_eq(latency_find(&list, "t"), other);
	latency_release(a);
	ck_assert_ptr_eq(latency_find(&list, "s"), b);
	ck_assert_uint_eq(b->count, 1);
	latency_release(b);
	ck_assert_ptr_null(latency_find(&list, "s"));
	latency_release(NULL);
	latency_free_all(&list);
	ck_assert(LIST_EMPTY(&list));
}
END_TEST

static Suite *
latency_suite(void)
{
	Suite	*s = suite_create("latency");
	TCase	*tc = tcase_create("latency");

	tcase_add_test(tc, test_a_duration_lands_in_the_first_bucket_it_fits);
	tcase_add_test(tc, test_the_bounds_rise);
	tcase_add_test(tc, test_a_server_keeps_one_histogram_while_it_is_held);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(latency_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
