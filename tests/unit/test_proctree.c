/*
 * The process tree (daemon/proctree.c): a real tree forked here (child,
 * grandchild, each holding memory it touched) read from the real /proc,
 * and directories laid out like /proc for what a live host seldom shows:
 * names with ")" and spaces, a loop of parents, more processes than the
 * bound.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "log.h"
#include "proctree.h"

/* What each process of the forked tree touches. */
#define CHILD_BYTES		(8u << 20)
#define GRANDCHILD_BYTES	(32u << 20)

/* Cleaned by the teardown even if an assertion fails half-way. */
static pid_t		 tree_child = -1;
static struct proctree	*pt;
static char		 dir[] = "/tmp/test_proctree.XXXXXX";
static int		 made_dir;
/* Where the tree's memory is kept, so the compiler cannot drop it. */
static char *volatile	 held;

static void	setup(void);
static void	teardown(void);
static void	hold_memory(size_t);
static pid_t	fork_tree(pid_t *);
static void	fake_stat(const char *, const char *);
static void	fake_proc(const char *, const char *, long, long);
static long	page_size(void);
static Suite	*proctree_suite(void);

/* Nothing forked or made yet. */
static void
setup(void)
{
	log_init(LOG_LEVEL_ERROR);
	tree_child = -1;
	pt = NULL;
	made_dir = 0;
}

/* Kill the forked tree (its group) and remove the fake /proc. */
static void
teardown(void)
{
	char	cmd[300];

	if (tree_child > 0) {
		kill(-tree_child, SIGKILL);
		waitpid(tree_child, NULL, 0);
	}
	proctree_free(pt);
	if (made_dir) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

/* Touch len bytes so that they are resident, and keep them. */
static void
hold_memory(size_t len)
{
	char	*p;

	if ((p = malloc(len)) == NULL)
		_exit(1);
	memset(p, 0x5a, len);
	held = p;
}

/*
 * Fork a child that touches CHILD_BYTES and forks a grandchild that
 * touches GRANDCHILD_BYTES; both then sleep in a group of their own.
 * Returns the child's pid once both hold their memory; the grandchild's
 * in *grandchild.
 */
static pid_t
fork_tree(pid_t *grandchild)
{
	pid_t	child, gc;
	int	fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		setpgid(0, 0);
		close(fds[0]);
		hold_memory(CHILD_BYTES);
		if ((gc = fork()) == -1)
			_exit(1);
		if (gc == 0) {
			hold_memory(GRANDCHILD_BYTES);
			gc = getpid();
			if (write(fds[1], &gc, sizeof gc) != sizeof gc)
				_exit(1);
			for (;;)
				pause();
		}
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], grandchild, sizeof *grandchild),
	    sizeof *grandchild);
	close(fds[0]);
	return (child);
}

/* The page size the kernel counts rss in. */
static long
page_size(void)
{
	return (sysconf(_SC_PAGESIZE));
}

/* Write line as dir/pid/stat. */
static void
fake_stat(const char *pid, const char *line)
{
	char	 path[300];
	FILE	*f;

	if (!made_dir) {
		ck_assert_ptr_nonnull(mkdtemp(dir));
		made_dir = 1;
	}
	snprintf(path, sizeof path, "%s/%s", dir, pid);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/%s/stat", dir, pid);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(line, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Write dir/pid/stat for a process named comm with parent and pages. */
static void
fake_proc(const char *pid, const char *comm, long ppid, long pages)
{
	char	line[400];

	snprintf(line, sizeof line, "%s (%s) S %ld 1 1 0 -1 4194560 100 0 0 "
	    "0 0 0 0 0 20 0 1 0 123 4096000 %ld 18446744073709551615 1 1 0 "
	    "0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n", pid, comm, ppid, pages);
	fake_stat(pid, line);
}

START_TEST(test_rss_of_a_child_covers_its_grandchild)
{
	pid_t		gc;
	uint64_t	child_bytes, gc_bytes;

	tree_child = fork_tree(&gc);
	ck_assert_ptr_nonnull(pt = proctree_scan("/proc",
	    PROCTREE_MAX_PROCS));
	ck_assert(!proctree_truncated(pt));
	ck_assert_int_eq(proctree_rss(pt, gc, &gc_bytes), 0);
	ck_assert_int_eq(proctree_rss(pt, tree_child, &child_bytes), 0);
	ck_assert_msg(gc_bytes >= GRANDCHILD_BYTES, "grandchild %llu bytes",
	    (unsigned long long)gc_bytes);
	/* The child's own memory and the grandchild's, both counted. */
	ck_assert_msg(child_bytes >= gc_bytes + CHILD_BYTES,
	    "child tree %llu bytes, grandchild %llu", (unsigned long long)
	    child_bytes, (unsigned long long)gc_bytes);
}
END_TEST

START_TEST(test_rss_of_an_exited_process_is_not_found)
{
	pid_t		gc;
	uint64_t	bytes;

	tree_child = fork_tree(&gc);
	kill(-tree_child, SIGKILL);
	ck_assert_int_eq(waitpid(tree_child, NULL, 0), tree_child);
	/* The grandchild is reparented; wait until it is reaped there. */
	while (kill(gc, 0) == 0)
		usleep(10000);
	tree_child = -1;
	ck_assert_ptr_nonnull(pt = proctree_scan("/proc",
	    PROCTREE_MAX_PROCS));
	ck_assert_int_eq(proctree_rss(pt, gc, &bytes), -1);
	ck_assert(bytes == 0);
	ck_assert_int_eq(proctree_rss(pt, 0, &bytes), -1);
	ck_assert_int_eq(proctree_rss(pt, -1, &bytes), -1);
}
END_TEST

START_TEST(test_names_with_parens_and_spaces_are_read)
{
	uint64_t	bytes;

	fake_proc("100", "npx", 1, 10);
	fake_proc("101", "x) 7 8 (y", 100, 20);
	fake_proc("102", "chrom ium)", 101, 30);
	fake_proc("103", "other", 1, 1000);
	/* Not processes: skipped. */
	fake_proc("self", "no", 100, 5000);
	fake_proc("12a", "no", 100, 5000);
	ck_assert_ptr_nonnull(pt = proctree_scan(dir, PROCTREE_MAX_PROCS));
	ck_assert_uint_eq(proctree_count(pt), 4);
	ck_assert_int_eq(proctree_rss(pt, 100, &bytes), 0);
	ck_assert(bytes == 60 * (uint64_t)page_size());
	ck_assert_int_eq(proctree_rss(pt, 101, &bytes), 0);
	ck_assert(bytes == 50 * (uint64_t)page_size());
	ck_assert_int_eq(proctree_rss(pt, 103, &bytes), 0);
	ck_assert(bytes == 1000 * (uint64_t)page_size());
}
END_TEST

START_TEST(test_a_loop_of_parents_counts_each_process_once)
{
	uint64_t	bytes;

	/* Pids reused during a scan can make parents form a loop. */
	fake_proc("200", "a", 201, 1);
	fake_proc("201", "b", 200, 2);
	fake_proc("202", "c", 201, 4);
	ck_assert_ptr_nonnull(pt = proctree_scan(dir, PROCTREE_MAX_PROCS));
	ck_assert_int_eq(proctree_rss(pt, 200, &bytes), 0);
	ck_assert(bytes == 7 * (uint64_t)page_size());
}
END_TEST

START_TEST(test_scan_stops_at_its_bound_and_says_so)
{
	fake_proc("300", "a", 1, 1);
	fake_proc("301", "b", 1, 1);
	fake_proc("302", "c", 1, 1);
	ck_assert_ptr_nonnull(pt = proctree_scan(dir, 2));
	ck_assert_uint_eq(proctree_count(pt), 2);
	ck_assert(proctree_truncated(pt));
	proctree_free(pt);
	ck_assert_ptr_nonnull(pt = proctree_scan(dir, 3));
	ck_assert_uint_eq(proctree_count(pt), 3);
	ck_assert(!proctree_truncated(pt));
}
END_TEST

START_TEST(test_a_garbled_stat_line_is_skipped)
{
	uint64_t	bytes;

	fake_proc("400", "ok", 1, 3);
	fake_stat("401", "401 (no closing parenthesis S 1 1 1 0\n");
	fake_stat("402", "402 (cut) S 400 1 1 0\n");
	fake_stat("403", "403 (bad) S x 1 1 0\n");
	ck_assert_ptr_nonnull(pt = proctree_scan(dir, PROCTREE_MAX_PROCS));
	ck_assert_uint_eq(proctree_count(pt), 1);
	ck_assert_int_eq(proctree_rss(pt, 400, &bytes), 0);
	ck_assert(bytes == 3 * (uint64_t)page_size());
}
END_TEST

START_TEST(test_status_sessions_get_rss_bytes_where_a_process_lives)
{
	struct proctree_cache	 cache = { NULL, 0 };
	struct proctree		*first;
	cJSON			*list, *s, *rss;
	pid_t			 gc;
	char			 json[200];

	tree_child = fork_tree(&gc);
	snprintf(json, sizeof json, "[{\"pid\":%ld},{\"pid\":0},{}]",
	    (long)tree_child);
	ck_assert_ptr_nonnull(list = cJSON_Parse(json));
	proctree_add_rss(&cache, list);
	rss = cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "rss_bytes");
	ck_assert(cJSON_IsNumber(rss));
	ck_assert(rss->valuedouble >= CHILD_BYTES + GRANDCHILD_BYTES);
	s = cJSON_GetArrayItem(list, 1);
	ck_assert_ptr_null(cJSON_GetObjectItem(s, "rss_bytes"));
	s = cJSON_GetArrayItem(list, 2);
	ck_assert_ptr_null(cJSON_GetObjectItem(s, "rss_bytes"));
	cJSON_Delete(list);

	/* A second status within PROCTREE_CACHE_MS reads the same scan. */
	first = cache.pt;
	ck_assert_ptr_nonnull(list = cJSON_Parse(json));
	proctree_add_rss(&cache, list);
	ck_assert_ptr_eq(cache.pt, first);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetArrayItem(list,
	    0), "rss_bytes")));
	cJSON_Delete(list);
	proctree_cache_clear(&cache);
	ck_assert_ptr_null(cache.pt);
}
END_TEST

static Suite *
proctree_suite(void)
{
	Suite	*s = suite_create("proctree");
	TCase	*tc;

	tc = tcase_create("real processes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rss_of_a_child_covers_its_grandchild);
	tcase_add_test(tc, test_rss_of_an_exited_process_is_not_found);
	tcase_add_test(tc,
	    test_status_sessions_get_rss_bytes_where_a_process_lives);
	suite_add_tcase(s, tc);

	tc = tcase_create("stat files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_names_with_parens_and_spaces_are_read);
	tcase_add_test(tc, test_a_loop_of_parents_counts_each_process_once);
	tcase_add_test(tc, test_scan_stops_at_its_bound_and_says_so);
	tcase_add_test(tc, test_a_garbled_stat_line_is_skipped);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(proctree_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
