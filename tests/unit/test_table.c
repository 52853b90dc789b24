/*
 * The session table: lookup by key, recency of idle entries, per-server
 * and per-uid counts, the fair eviction victim, clients per uid,
 * iteration with removal, and the bounded generation memory.
 */
#include <sys/types.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

static struct table_entry *add_idle(struct table *, uid_t, const char *,
		    const char *);
static void	make_key(char *, size_t, int);
static Suite	*table_suite(void);

/* Insert a key and release it, as a session that finished starting. */
static struct table_entry *
add_idle(struct table *t, uid_t uid, const char *server, const char *thread)
{
	struct table_entry	*e;

	e = table_insert(t, uid, server, thread, NULL);
	table_set_busy(t, e, 0);
	return (e);
}

/* Thread name number i. */
static void
make_key(char *buf, size_t len, int i)
{
	snprintf(buf, len, "thread-%d", i);
}

START_TEST(test_find_returns_inserted_value)
{
	struct table		*t = table_new();
	struct table_entry	*e;
	int			 v;

	e = table_insert(t, 1000, "playwright", "t-42", &v);
	ck_assert_ptr_eq(table_find(t, 1000, "playwright", "t-42"), e);
	ck_assert_ptr_eq(table_value(e), &v);
	ck_assert_uint_eq(table_count(t), 1);
	table_free(t);
}
END_TEST

START_TEST(test_find_missing_returns_null)
{
	struct table	*t = table_new();

	ck_assert_ptr_null(table_find(t, 1000, "playwright", "t-42"));
	table_insert(t, 1000, "playwright", "t-42", NULL);
	ck_assert_ptr_null(table_find(t, 1000, "playwright", "t-43"));
	ck_assert_ptr_null(table_find(t, 1000, "playwrigh", "t-42"));
	table_free(t);
}
END_TEST

START_TEST(test_accessors_return_copied_key)
{
	struct table		*t = table_new();
	struct table_entry	*e;
	char			 server[] = "repl", thread[] = "t-1";

	e = table_insert(t, 1000, server, thread, NULL);
	server[0] = 'X';
	thread[0] = 'X';
	ck_assert_uint_eq(table_uid(e), 1000);
	ck_assert_str_eq(table_server(e), "repl");
	ck_assert_str_eq(table_thread(e), "t-1");
	ck_assert_ptr_eq(table_find(t, 1000, "repl", "t-1"), e);
	table_free(t);
}
END_TEST

START_TEST(test_keys_differ_by_uid)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b;
	int			 va, vb;

	a = table_insert(t, 1000, "repl", "t", &va);
	b = table_insert(t, 1001, "repl", "t", &vb);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(table_value(table_find(t, 1000, "repl", "t")), &va);
	ck_assert_ptr_eq(table_value(table_find(t, 1001, "repl", "t")), &vb);
	ck_assert_ptr_null(table_find(t, 1002, "repl", "t"));
	table_free(t);
}
END_TEST

START_TEST(test_keys_differ_by_split_point)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b;

	a = table_insert(t, 1000, "ab", "c", NULL);
	ck_assert_ptr_null(table_find(t, 1000, "a", "bc"));
	b = table_insert(t, 1000, "a", "bc", NULL);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(table_find(t, 1000, "ab", "c"), a);
	ck_assert_ptr_eq(table_find(t, 1000, "a", "bc"), b);
	ck_assert_uint_eq(table_count_server(t, "ab"), 1);
	ck_assert_uint_eq(table_count_server(t, "a"), 1);
	table_free(t);
}
END_TEST

START_TEST(test_insert_starts_busy)
{
	struct table		*t = table_new();
	struct table_entry	*e;

	e = table_insert(t, 1000, "repl", "t", NULL);
	ck_assert_int_ne(table_busy(e), 0);
	ck_assert_ptr_null(table_lru_idle(t, NULL));
	ck_assert_ptr_null(table_lru_idle(t, "repl"));
	table_set_busy(t, e, 0);
	ck_assert_int_eq(table_busy(e), 0);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), e);
	table_free(t);
}
END_TEST

START_TEST(test_lru_idle_is_least_recently_released)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b, *c;

	a = table_insert(t, 1000, "repl", "a", NULL);
	b = table_insert(t, 1000, "repl", "b", NULL);
	c = table_insert(t, 1000, "repl", "c", NULL);
	table_set_busy(t, b, 0);
	table_set_busy(t, c, 0);
	table_set_busy(t, a, 0);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), b);
	table_set_busy(t, b, 1);
	table_set_busy(t, b, 0);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), c);
	table_free(t);
}
END_TEST

START_TEST(test_touch_moves_to_most_recent)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b, *c;

	a = add_idle(t, 1000, "repl", "a");
	b = add_idle(t, 1000, "repl", "b");
	c = add_idle(t, 1000, "repl", "c");
	table_touch(t, a);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), b);
	ck_assert_ptr_eq(table_lru_idle(t, "repl"), b);
	table_touch(t, b);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), c);
	ck_assert_ptr_eq(table_lru_idle(t, "repl"), c);
	table_free(t);
}
END_TEST

START_TEST(test_touch_ignores_busy_entry)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b;

	a = add_idle(t, 1000, "repl", "a");
	b = table_insert(t, 1000, "repl", "b", NULL);
	table_touch(t, b);
	ck_assert_int_ne(table_busy(b), 0);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), a);
	table_set_busy(t, a, 1);
	ck_assert_ptr_null(table_lru_idle(t, NULL));
	table_free(t);
}
END_TEST

START_TEST(test_set_busy_twice_is_harmless)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b;

	a = add_idle(t, 1000, "repl", "a");
	b = add_idle(t, 1000, "repl", "b");
	table_set_busy(t, a, 0);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), a);
	table_set_busy(t, a, 1);
	table_set_busy(t, a, 1);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), b);
	table_set_busy(t, b, 1);
	ck_assert_ptr_null(table_lru_idle(t, NULL));
	ck_assert_ptr_null(table_lru_idle(t, "repl"));
	table_free(t);
}
END_TEST

START_TEST(test_busy_entries_are_never_lru)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b, *c;

	a = add_idle(t, 1000, "repl", "a");
	b = add_idle(t, 1000, "repl", "b");
	c = add_idle(t, 1000, "repl", "c");
	table_set_busy(t, a, 1);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), b);
	table_set_busy(t, b, 1);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), c);
	ck_assert_ptr_eq(table_lru_idle(t, "repl"), c);
	table_free(t);
}
END_TEST

START_TEST(test_lru_idle_null_when_all_busy)
{
	struct table	*t = table_new();
	int		 i;
	char		 thread[32];

	ck_assert_ptr_null(table_lru_idle(t, NULL));
	for (i = 0; i < 5; i++) {
		make_key(thread, sizeof thread, i);
		table_insert(t, 1000, "repl", thread, NULL);
	}
	ck_assert_ptr_null(table_lru_idle(t, NULL));
	ck_assert_ptr_null(table_lru_idle(t, "repl"));
	ck_assert_ptr_null(table_lru_idle(t, "unknown"));
	table_free(t);
}
END_TEST

START_TEST(test_per_server_lru_ignores_other_servers)
{
	struct table		*t = table_new();
	struct table_entry	*p1, *r1, *p2, *r2;

	p1 = add_idle(t, 1000, "playwright", "1");
	r1 = add_idle(t, 1000, "repl", "1");
	p2 = add_idle(t, 1001, "playwright", "2");
	r2 = add_idle(t, 1001, "repl", "2");
	ck_assert_ptr_eq(table_lru_idle(t, NULL), p1);
	ck_assert_ptr_eq(table_lru_idle(t, "playwright"), p1);
	ck_assert_ptr_eq(table_lru_idle(t, "repl"), r1);

	table_touch(t, p1);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), r1);
	ck_assert_ptr_eq(table_lru_idle(t, "playwright"), p2);
	ck_assert_ptr_eq(table_lru_idle(t, "repl"), r1);

	table_set_busy(t, r1, 1);
	table_set_busy(t, r2, 1);
	ck_assert_ptr_null(table_lru_idle(t, "repl"));
	ck_assert_ptr_eq(table_lru_idle(t, NULL), p2);
	table_free(t);
}
END_TEST

START_TEST(test_count_server_tracks_insert_and_remove)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b, *c;

	ck_assert_uint_eq(table_count_server(t, "repl"), 0);
	a = table_insert(t, 1000, "repl", "a", NULL);
	b = add_idle(t, 1001, "repl", "b");
	c = table_insert(t, 1000, "playwright", "a", NULL);
	ck_assert_uint_eq(table_count_server(t, "repl"), 2);
	ck_assert_uint_eq(table_count_server(t, "playwright"), 1);
	ck_assert_uint_eq(table_count(t), 3);

	table_remove(t, b);
	ck_assert_uint_eq(table_count_server(t, "repl"), 1);
	table_remove(t, a);
	ck_assert_uint_eq(table_count_server(t, "repl"), 0);
	ck_assert_ptr_null(table_lru_idle(t, "repl"));
	ck_assert_uint_eq(table_count_server(t, "playwright"), 1);
	ck_assert_uint_eq(table_count(t), 1);

	/* A server whose group was freed comes back cleanly. */
	a = add_idle(t, 1000, "repl", "a");
	ck_assert_uint_eq(table_count_server(t, "repl"), 1);
	ck_assert_ptr_eq(table_lru_idle(t, "repl"), a);
	table_remove(t, c);
	ck_assert_uint_eq(table_count_server(t, "playwright"), 0);
	table_free(t);
}
END_TEST

START_TEST(test_remove_idle_entry_leaves_lru_lists)
{
	struct table		*t = table_new();
	struct table_entry	*a, *b;

	a = add_idle(t, 1000, "repl", "a");
	b = add_idle(t, 1000, "repl", "b");
	table_remove(t, a);
	ck_assert_ptr_eq(table_lru_idle(t, NULL), b);
	ck_assert_ptr_eq(table_lru_idle(t, "repl"), b);
	ck_assert_ptr_null(table_find(t, 1000, "repl", "a"));
	table_remove(t, b);
	ck_assert_ptr_null(table_lru_idle(t, NULL));
	ck_assert_uint_eq(table_count(t), 0);
	table_free(t);
}
END_TEST

START_TEST(test_remove_by_thread_across_servers)
{
	static const char	*servers[] = { "playwright", "repl", "db" };
	static const char	*threads[] = { "t-1", "t-2", "t-3" };
	struct table		*t = table_new();
	struct table_entry	*e, *next;
	size_t			 i, j, closed = 0;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			e = table_insert(t, 1000, servers[i], threads[j], NULL);
			if (j != 1)
				table_set_busy(t, e, 0);
		}
	}
	table_insert(t, 1001, "repl", "t-2", NULL);

	for (e = table_first(t); e != NULL; e = next) {
		next = table_next(t, e);
		if (strcmp(table_thread(e), "t-2") == 0) {
			table_remove(t, e);
			closed++;
		}
	}
	ck_assert_uint_eq(closed, 4);
	ck_assert_uint_eq(table_count(t), 6);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(table_count_server(t, servers[i]), 2);
		ck_assert_ptr_null(table_find(t, 1000, servers[i], "t-2"));
		ck_assert_ptr_nonnull(table_find(t, 1000, servers[i], "t-1"));
		ck_assert_ptr_nonnull(table_find(t, 1000, servers[i], "t-3"));
	}
	for (e = table_first(t); e != NULL; e = table_next(t, e))
		ck_assert_str_ne(table_thread(e), "t-2");
	table_free(t);
}
END_TEST

START_TEST(test_remove_by_server)
{
	struct table		*t = table_new();
	struct table_entry	*e, *next, *keep;
	size_t			 closed = 0;

	add_idle(t, 1000, "repl", "a");
	table_insert(t, 1001, "repl", "b", NULL);
	add_idle(t, 1002, "repl", "c");
	keep = add_idle(t, 1000, "playwright", "a");

	for (e = table_first(t); e != NULL; e = next) {
		next = table_next(t, e);
		if (strcmp(table_server(e), "repl") == 0) {
			table_remove(t, e);
			closed++;
		}
	}
	ck_assert_uint_eq(closed, 3);
	ck_assert_uint_eq(table_count(t), 1);
	ck_assert_uint_eq(table_count_server(t, "repl"), 0);
	ck_assert_ptr_null(table_lru_idle(t, "repl"));
	ck_assert_ptr_eq(table_lru_idle(t, NULL), keep);
	ck_assert_ptr_eq(table_first(t), keep);
	table_free(t);
}
END_TEST

START_TEST(test_remove_during_iteration_visits_all)
{
	struct table		*t = table_new();
	struct table_entry	*e, *next;
	char			 thread[32];
	char			 seen[200];
	intptr_t		 v;
	int			 i, visits = 0;

	memset(seen, 0, sizeof seen);
	for (i = 0; i < 200; i++) {
		make_key(thread, sizeof thread, i);
		e = table_insert(t, 1000, i % 2 ? "a" : "b", thread,
		    (void *)(intptr_t)i);
		if (i % 3)
			table_set_busy(t, e, 0);
	}
	for (e = table_first(t); e != NULL; e = next) {
		next = table_next(t, e);
		v = (intptr_t)table_value(e);
		ck_assert_int_eq(seen[v], 0);
		seen[v] = 1;
		visits++;
		if (v % 2 == 0)
			table_remove(t, e);
	}
	ck_assert_int_eq(visits, 200);
	ck_assert_uint_eq(table_count(t), 100);
	ck_assert_uint_eq(table_count_server(t, "b"), 0);
	ck_assert_uint_eq(table_count_server(t, "a"), 100);
	table_free(t);
}
END_TEST

START_TEST(test_grows_past_many_entries)
{
	struct table		*t = table_new();
	struct table_entry	*e;
	char			 thread[32];
	int			 i, n = 10000;

	for (i = 0; i < n; i++) {
		make_key(thread, sizeof thread, i);
		e = table_insert(t, (uid_t)(i % 7), "srv", thread,
		    (void *)(intptr_t)(i + 1));
		table_set_busy(t, e, 0);
	}
	ck_assert_uint_eq(table_count(t), (size_t)n);
	ck_assert_uint_eq(table_count_server(t, "srv"), (size_t)n);
	ck_assert_str_eq(table_thread(table_lru_idle(t, NULL)), "thread-0");
	for (i = 0; i < n; i++) {
		make_key(thread, sizeof thread, i);
		e = table_find(t, (uid_t)(i % 7), "srv", thread);
		ck_assert_ptr_nonnull(e);
		ck_assert_ptr_eq(table_value(e), (void *)(intptr_t)(i + 1));
		ck_assert_ptr_null(table_find(t, (uid_t)(i % 7 + 1), "srv",
		    thread));
	}
	for (i = 0; i < n; i++) {
		make_key(thread, sizeof thread, i);
		e = table_find(t, (uid_t)(i % 7), "srv", thread);
		ck_assert_ptr_nonnull(e);
		table_remove(t, e);
	}
	ck_assert_uint_eq(table_count(t), 0);
	ck_assert_uint_eq(table_count_server(t, "srv"), 0);
	ck_assert_ptr_null(table_first(t));
	ck_assert_ptr_null(table_lru_idle(t, NULL));
	table_free(t);
}
END_TEST

START_TEST(test_free_releases_live_entries)
{
	struct table	*t = table_new();

	/* Run under valgrind: nothing of these may leak. */
	add_idle(t, 1000, "repl", "a");
	table_insert(t, 1000, "repl", "b", NULL);
	table_remember(t, 1000, "repl", "c", 3);
	table_free(t);
	table_free(NULL);
}
END_TEST

START_TEST(test_memory_recall_and_forget)
{
	struct table	*t = table_new();

	ck_assert_uint_eq(table_recall(t, 1000, "repl", "t"), 0);
	table_remember(t, 1000, "repl", "t", 3);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "t"), 3);
	ck_assert_uint_eq(table_recall(t, 1001, "repl", "t"), 0);
	ck_assert_uint_eq(table_recall(t, 1000, "rep", "lt"), 0);
	table_remember(t, 1000, "repl", "t", 4);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "t"), 4);
	table_forget(t, 1000, "repl", "t");
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "t"), 0);
	table_forget(t, 1000, "repl", "t");
	table_free(t);
}
END_TEST

START_TEST(test_memory_is_separate_from_entries)
{
	struct table	*t = table_new();

	table_remember(t, 1000, "repl", "t", 2);
	ck_assert_ptr_null(table_find(t, 1000, "repl", "t"));
	ck_assert_uint_eq(table_count(t), 0);
	table_insert(t, 1000, "repl", "t", NULL);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "t"), 2);
	table_free(t);
}
END_TEST

START_TEST(test_memory_forgets_oldest_when_full)
{
	struct table	*t = table_new();
	char		 thread[32];
	int		 i;

	for (i = 0; i < TABLE_MEMORY_MAX + 2; i++) {
		make_key(thread, sizeof thread, i);
		table_remember(t, 1000, "repl", thread, (unsigned)i + 1);
	}
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "thread-0"), 0);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "thread-1"), 0);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "thread-2"), 3);
	for (i = 2; i < TABLE_MEMORY_MAX + 2; i++) {
		make_key(thread, sizeof thread, i);
		ck_assert_uint_eq(table_recall(t, 1000, "repl", thread),
		    (unsigned)i + 1);
	}
	table_free(t);
}
END_TEST

START_TEST(test_memory_refresh_on_remember)
{
	struct table	*t = table_new();
	char		 thread[32];
	int		 i;

	for (i = 0; i < TABLE_MEMORY_MAX; i++) {
		make_key(thread, sizeof thread, i);
		table_remember(t, 1000, "repl", thread, 1);
	}
	table_remember(t, 1000, "repl", "thread-0", 2);
	table_remember(t, 1000, "repl", "new", 1);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "thread-0"), 2);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "thread-1"), 0);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "thread-2"), 1);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "new"), 1);
	table_free(t);
}
END_TEST

START_TEST(test_memory_forget_frees_a_slot)
{
	struct table	*t = table_new();
	char		 thread[32];
	int		 i;

	for (i = 0; i < TABLE_MEMORY_MAX; i++) {
		make_key(thread, sizeof thread, i);
		table_remember(t, 1000, "repl", thread, 1);
	}
	table_forget(t, 1000, "repl", "thread-5");
	table_remember(t, 1000, "repl", "new", 1);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "thread-0"), 1);
	ck_assert_uint_eq(table_recall(t, 1000, "repl", "new"), 1);
	table_free(t);
}
END_TEST

START_TEST(test_counts_per_uid_follow_insert_and_remove)
{
	struct table		*t = table_new();
	struct table_entry	*a1, *a2;

	a1 = add_idle(t, 1000, "repl", "t1");
	a2 = add_idle(t, 1000, "web", "t1");
	add_idle(t, 1001, "repl", "t1");
	ck_assert_uint_eq(table_count_uid(t, 1000, NULL), 2);
	ck_assert_uint_eq(table_count_uid(t, 1000, "repl"), 1);
	ck_assert_uint_eq(table_count_uid(t, 1001, NULL), 1);
	ck_assert_uint_eq(table_count_uid(t, 1002, NULL), 0);
	ck_assert_uint_eq(table_count_uid(t, 1001, "web"), 0);
	ck_assert_ptr_eq(table_lru_idle_uid(t, 1000, NULL), a1);
	ck_assert_ptr_eq(table_lru_idle_uid(t, 1000, "web"), a2);
	table_touch(t, a1);
	ck_assert_ptr_eq(table_lru_idle_uid(t, 1000, NULL), a2);
	table_set_busy(t, a2, 1);
	ck_assert_ptr_eq(table_lru_idle_uid(t, 1000, NULL), a1);
	ck_assert_ptr_null(table_lru_idle_uid(t, 1000, "web"));
	table_remove(t, a1);
	table_remove(t, a2);
	ck_assert_uint_eq(table_count_uid(t, 1000, NULL), 0);
	ck_assert_uint_eq(table_count_uid(t, 1000, "repl"), 0);
	ck_assert_ptr_null(table_lru_idle_uid(t, 1000, NULL));
	table_free(t);
}
END_TEST

START_TEST(test_fair_victim_is_own_when_over_share)
{
	struct table		*t = table_new();
	struct table_entry	*a1;

	add_idle(t, 1001, "repl", "b1");	/* the least recent of all */
	a1 = add_idle(t, 1000, "repl", "a1");
	add_idle(t, 1000, "repl", "a2");
	add_idle(t, 1000, "repl", "a3");
	/* 1000 asks for a 4th of 4: its share is 2. */
	ck_assert_ptr_eq(table_fair_victim(t, NULL, 4, 1000), a1);
	/* 1001 asks for a 2nd: 1000 is over its share, 1001 is not. */
	ck_assert_ptr_eq(table_fair_victim(t, NULL, 4, 1001), a1);
	/* A newcomer counts among the holders: shares of 4/3. */
	ck_assert_ptr_eq(table_fair_victim(t, NULL, 4, 1002), a1);
	table_free(t);
}
END_TEST

START_TEST(test_fair_victim_never_another_within_share)
{
	struct table		*t = table_new();
	struct table_entry	*a[3], *b1;
	int			 i;
	char			 name[16];

	b1 = add_idle(t, 1001, "repl", "b1");
	for (i = 0; i < 3; i++) {
		make_key(name, sizeof name, i);
		a[i] = table_insert(t, 1000, "repl", name, NULL);
	}
	/* 1000's are all busy and it is over its share. */
	ck_assert_ptr_null(table_fair_victim(t, NULL, 4, 1000));
	/* 1001, within its share, may give up its own. */
	ck_assert_ptr_eq(table_fair_victim(t, NULL, 4, 1001), b1);
	table_set_busy(t, a[1], 0);
	ck_assert_ptr_eq(table_fair_victim(t, NULL, 4, 1000), a[1]);
	ck_assert_ptr_eq(table_fair_victim(t, NULL, 4, 1001), a[1]);
	table_free(t);
}
END_TEST

START_TEST(test_fair_victim_takes_furthest_over)
{
	struct table		*t = table_new();
	struct table_entry	*a1, *b1;

	add_idle(t, 1002, "repl", "c1");	/* the least recent of all */
	a1 = add_idle(t, 1000, "repl", "a1");
	add_idle(t, 1000, "repl", "a2");
	add_idle(t, 1000, "repl", "a3");
	b1 = add_idle(t, 1001, "repl", "b1");
	add_idle(t, 1001, "repl", "b2");
	/* Capacity 6 among three: 1000 has 3 (one over), 1001 at 2. */
	ck_assert_ptr_eq(table_fair_victim(t, NULL, 6, 1002), a1);
	/* 1001 asking is at 3 with its new one: a tie goes to itself. */
	ck_assert_ptr_eq(table_fair_victim(t, NULL, 6, 1001), b1);
	table_free(t);
}
END_TEST

START_TEST(test_fair_victim_per_server_counts_that_server)
{
	struct table		*t = table_new();
	struct table_entry	*a1, *b1;

	b1 = add_idle(t, 1001, "a", "t1");
	add_idle(t, 1000, "x", "t1");
	add_idle(t, 1000, "x", "t2");
	a1 = add_idle(t, 1000, "a", "a1");
	/* On server a 1000 holds 1 of 2: at its share there. */
	ck_assert_ptr_eq(table_fair_victim(t, "a", 2, 1000), a1);
	ck_assert_ptr_eq(table_fair_victim(t, "a", 2, 1001), b1);
	ck_assert_ptr_null(table_fair_victim(t, "nope", 2, 1001));
	table_free(t);
}
END_TEST

START_TEST(test_clients_per_uid)
{
	struct table		*t = table_new();
	struct table_entry	*e;

	table_client_add(t, 1000);
	table_client_add(t, 1000);
	table_client_add(t, 1001);
	ck_assert_uint_eq(table_count_clients(t, 1000), 2);
	ck_assert_uint_eq(table_count_clients(t, 1001), 1);
	ck_assert_uint_eq(table_count_clients(t, 1002), 0);
	/* A uid with clients and entries keeps both counts. */
	e = add_idle(t, 1000, "repl", "t1");
	table_client_remove(t, 1000);
	table_client_remove(t, 1000);
	ck_assert_uint_eq(table_count_clients(t, 1000), 0);
	ck_assert_uint_eq(table_count_uid(t, 1000, NULL), 1);
	table_remove(t, e);
	table_client_remove(t, 1001);
	ck_assert_uint_eq(table_count_clients(t, 1001), 0);
	/* Freed with clients still counted. */
	table_client_add(t, 1003);
	table_free(t);
}
END_TEST

/* Every table behaviour, one test case each. */
static Suite *
table_suite(void)
{
	Suite	*s = suite_create("table");
	TCase	*tc = tcase_create("table");

	tcase_add_test(tc, test_find_returns_inserted_value);
	tcase_add_test(tc, test_find_missing_returns_null);
	tcase_add_test(tc, test_accessors_return_copied_key);
	tcase_add_test(tc, test_keys_differ_by_uid);
	tcase_add_test(tc, test_keys_differ_by_split_point);
	tcase_add_test(tc, test_insert_starts_busy);
	tcase_add_test(tc, test_lru_idle_is_least_recently_released);
	tcase_add_test(tc, test_touch_moves_to_most_recent);
	tcase_add_test(tc, test_touch_ignores_busy_entry);
	tcase_add_test(tc, test_set_busy_twice_is_harmless);
	tcase_add_test(tc, test_busy_entries_are_never_lru);
	tcase_add_test(tc, test_lru_idle_null_when_all_busy);
	tcase_add_test(tc, test_per_server_lru_ignores_other_servers);
	tcase_add_test(tc, test_count_server_tracks_insert_and_remove);
	tcase_add_test(tc, test_remove_idle_entry_leaves_lru_lists);
	tcase_add_test(tc, test_remove_by_thread_across_servers);
	tcase_add_test(tc, test_remove_by_server);
	tcase_add_test(tc, test_remove_during_iteration_visits_all);
	tcase_add_test(tc, test_grows_past_many_entries);
	tcase_add_test(tc, test_free_releases_live_entries);
	tcase_add_test(tc, test_memory_recall_and_forget);
	tcase_add_test(tc, test_memory_is_separate_from_entries);
	tcase_add_test(tc, test_memory_forgets_oldest_when_full);
	tcase_add_test(tc, test_memory_refresh_on_remember);
	tcase_add_test(tc, test_memory_forget_frees_a_slot);
	tcase_add_test(tc, test_counts_per_uid_follow_insert_and_remove);
	tcase_add_test(tc, test_fair_victim_is_own_when_over_share);
	tcase_add_test(tc, test_fair_victim_never_another_within_share);
	tcase_add_test(tc, test_fair_victim_takes_furthest_over);
	tcase_add_test(tc, test_fair_victim_per_server_counts_that_server);
	tcase_add_test(tc, test_clients_per_uid);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(table_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
