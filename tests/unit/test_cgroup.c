/*
 * Where session cgroups go: reading mountinfo and /proc/self/cgroup, the
 * base's name, and the choice between the daemon's own delegated cgroup,
 * a writable cgroup2 mount, a configured path and none. The files are
 * fakes in a temporary directory; the code under test is the real one.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "xmalloc.h"

#define SOCKET	"/run/mcp-broker/mcp-broker.sock"

static char	 tmp[PATH_MAX];

static void	 setup(void);
static void	 teardown(void);
static char	*at(const char *);
static void	 put(const char *, const char *);
static void	 dir(const char *);
static void	 plan(const char *, const char *, const char *,
		     struct cgroup_plan *);
static Suite	*cgroup_suite(void);

/* A fresh temporary directory for the fake files. */
static void
setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/test_cgroup.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

/* Remove the temporary directory and everything in it. */
static void
teardown(void)
{
	char	*cmd;

	xasprintf(&cmd, "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* tmp/name (the caller frees it). */
static char *
at(const char *name)
{
	char	*path;

	xasprintf(&path, "%s/%s", tmp, name);
	return (path);
}

/* Write text to tmp/name. */
static void
put(const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	path = at(name);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	free(path);
}

/* Make the directory tmp/name. */
static void
dir(const char *name)
{
	char	*path;

	path = at(name);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	free(path);
}

/*
 * A plan for mode from a fake mountinfo naming tmp/cg as the cgroup2
 * mount (root mroot) and a fake /proc/self/cgroup saying self; the
 * daemon's pid is 4242.
 */
static void
plan(const char *mode, const char *mroot, const char *self,
    struct cgroup_plan *out)
{
	struct cgroup_sys	 sys;
	char			*line, *mi, *sf;

	xasprintf(&line, "24 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
	    "30 24 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
	    "31 24 0:27 %s %s/cg rw,nosuid,nodev - cgroup2 cgroup2 rw\n",
	    mroot, tmp);
	put("mountinfo", line);
	free(line);
	put("self", self);
	mi = at("mountinfo");
	sf = at("self");
	sys.mountinfo = mi;
	sys.self = sf;
	sys.pid = 4242;
	cgroup_plan_make(&sys, mode, SOCKET, out);
	free(mi);
	free(sf);
}

START_TEST(test_mountinfo_finds_the_cgroup2_mount_and_its_root)
{
	char	*path, *mount, *root;

	put("mi", "24 1 0:22 / /sys rw - sysfs sysfs rw\n"
	    "30 24 0:26 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
	    "36 24 0:30 /ns /sys/fs/cgroup/uni\\040fied rw,relatime "
	    "shared:10 - cgroup2 cgroup2 rw,nsdelegate\n");
	path = at("mi");
	ck_assert_int_eq(cgroup_parse_mountinfo(path, &mount, &root), 0);
	ck_assert_str_eq(mount, "/sys/fs/cgroup/uni fied");
	ck_assert_str_eq(root, "/ns");
	free(mount);
	free(root);
	free(path);
}
END_TEST

START_TEST(test_mountinfo_prefers_a_read_write_mount)
{
	char	*path, *mount, *root;

	put("mi", "36 24 0:30 / /ro ro - cgroup2 cgroup2 ro\n"
	    "37 24 0:30 / /rw rw - cgroup2 cgroup2 rw\n");
	path = at("mi");
	ck_assert_int_eq(cgroup_parse_mountinfo(path, &mount, &root), 0);
	ck_assert_str_eq(mount, "/rw");
	free(mount);
	free(root);
	free(path);
}
END_TEST

START_TEST(test_mountinfo_without_cgroup2_finds_nothing)
{
	char	*path, *mount, *root;

	put("mi", "30 24 0:26 / /sys/fs/cgroup/pids rw - cgroup cgroup "
	    "rw,pids\n");
	path = at("mi");
	ck_assert_int_eq(cgroup_parse_mountinfo(path, &mount, &root), -1);
	ck_assert_ptr_null(mount);
	free(path);
	ck_assert_int_eq(cgroup_parse_mountinfo("/nonexistent/mountinfo",
	    &mount, &root), -1);
}
END_TEST

START_TEST(test_self_cgroup_is_the_v2_line)
{
	char	*path, *rel;

	put("self", "4:memory:/process_api/x\n1:cpu:/\n"
	    "0::/system.slice/mcp-broker.service\n");
	path = at("self");
	ck_assert_int_eq(cgroup_parse_self(path, &rel), 0);
	ck_assert_str_eq(rel, "/system.slice/mcp-broker.service");
	free(rel);
	put("self", "4:memory:/x\n");
	ck_assert_int_eq(cgroup_parse_self(path, &rel), -1);
	ck_assert_ptr_null(rel);
	free(path);
}
END_TEST

START_TEST(test_base_name_is_stable_per_socket_and_differs_between)
{
	char	*a, *b, *c;

	a = cgroup_base_name("/run/a.sock");
	b = cgroup_base_name("/run/a.sock");
	c = cgroup_base_name("/run/b.sock");
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_int_eq(strncmp(a, CGROUP_BASE_PREFIX,
	    strlen(CGROUP_BASE_PREFIX)), 0);
	ck_assert_uint_eq(strlen(a), strlen(CGROUP_BASE_PREFIX) + 16);
	ck_assert_ptr_null(strchr(a, '/'));
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_off_plans_nothing_and_says_so)
{
	struct cgroup_plan	p;

	plan("off", "/", "0::/\n", &p);
	ck_assert_ptr_null(p.base);
	ck_assert_ptr_nonnull(strstr(p.why, "\"off\""));
	cgroup_plan_clear(&p);
}
END_TEST

START_TEST(test_no_cgroup2_mount_plans_nothing_and_says_why)
{
	struct cgroup_sys	sys;
	struct cgroup_plan	p;
	char			*mi;

	put("mountinfo", "30 24 0:26 / /sys/fs/cgroup/pids rw - cgroup "
	    "cgroup rw,pids\n");
	mi = at("mountinfo");
	sys.mountinfo = mi;
	sys.self = "/nonexistent";
	sys.pid = 1;
	cgroup_plan_make(&sys, "auto", SOCKET, &p);
	ck_assert_ptr_null(p.base);
	ck_assert_ptr_nonnull(strstr(p.why, "no cgroup2"));
	cgroup_plan_clear(&p);
	free(mi);
}
END_TEST

START_TEST(test_an_own_cgroup_holding_only_the_daemon_is_delegated)
{
	struct cgroup_plan	 p;
	char			*name, *want;

	dir("cg");
	put("cg/cgroup.procs", "1\n4242\n");
	dir("cg/svc");
	put("cg/svc/cgroup.procs", "4242\n");
	plan("auto", "/", "0::/svc\n", &p);
	name = cgroup_base_name(SOCKET);
	xasprintf(&want, "%s/cg/svc/%s", tmp, name);
	ck_assert_str_eq(p.base, want);
	free(want);
	xasprintf(&want, "%s/cg/svc/" CGROUP_SUPERVISOR, tmp);
	ck_assert_str_eq(p.leaf, want);
	free(want);
	xasprintf(&want, "%s/cg/svc", tmp);
	ck_assert_str_eq(p.parent, want);
	ck_assert_ptr_nonnull(strstr(p.why, "delegated"));
	free(want);
	free(name);
	cgroup_plan_clear(&p);
}
END_TEST

START_TEST(test_a_shared_own_cgroup_holds_the_base_without_moving)
{
	struct cgroup_plan	 p;
	char			*name, *want;

	dir("cg");
	put("cg/cgroup.procs", "1\n");
	dir("cg/user");
	put("cg/user/cgroup.procs", "100\n4242\n");
	plan("auto", "/", "0::/user\n", &p);
	name = cgroup_base_name(SOCKET);
	xasprintf(&want, "%s/cg/user/%s", tmp, name);
	ck_assert_str_eq(p.base, want);
	ck_assert_ptr_null(p.leaf);
	free(want);
	free(name);
	cgroup_plan_clear(&p);
}
END_TEST

START_TEST(test_the_root_cgroup_is_never_taken_over)
{
	struct cgroup_plan	 p;
	char			*name, *want;

	dir("cg");
	put("cg/cgroup.procs", "4242\n");
	plan("auto", "/", "0::/\n", &p);
	name = cgroup_base_name(SOCKET);
	xasprintf(&want, "%s/cg/%s", tmp, name);
	ck_assert_str_eq(p.base, want);
	ck_assert_ptr_null(p.leaf);
	free(want);
	free(name);
	cgroup_plan_clear(&p);
}
END_TEST

START_TEST(test_an_unusable_own_cgroup_falls_back_to_the_mount)
{
	struct cgroup_plan	 p;
	char			*name, *want;

	dir("cg");
	put("cg/cgroup.procs", "1\n");
	plan("auto", "/", "0::/gone\n", &p);
	name = cgroup_base_name(SOCKET);
	xasprintf(&want, "%s/cg/%s", tmp, name);
	ck_assert_str_eq(p.base, want);
	ck_assert_ptr_null(p.leaf);
	free(want);
	free(name);
	cgroup_plan_clear(&p);
}
END_TEST

START_TEST(test_nothing_writable_plans_nothing_and_names_both)
{
	struct cgroup_plan	p;

	dir("cg");
	plan("auto", "/", "0::/gone\n", &p);
	ck_assert_ptr_null(p.base);
	ck_assert_ptr_nonnull(strstr(p.why, "no writable cgroup2"));
	ck_assert_ptr_nonnull(strstr(p.why, "/cg/gone"));
	cgroup_plan_clear(&p);
}
END_TEST

START_TEST(test_a_namespaced_mount_root_is_cut_from_the_own_path)
{
	struct cgroup_plan	 p;
	char			*name, *want;

	dir("cg");
	dir("cg/svc");
	put("cg/svc/cgroup.procs", "4242\n");
	plan("auto", "/ns", "0::/ns/svc\n", &p);
	name = cgroup_base_name(SOCKET);
	xasprintf(&want, "%s/cg/svc/%s", tmp, name);
	ck_assert_str_eq(p.base, want);
	free(want);
	free(name);
	cgroup_plan_clear(&p);
}
END_TEST

START_TEST(test_a_configured_path_must_be_in_the_cgroup2_mount)
{
	struct cgroup_plan	 p;
	char			*path, *name, *want;

	dir("cg");
	xasprintf(&path, "%s/cg/brokers/one", tmp);
	plan(path, "/", "0::/\n", &p);
	/* Named after the socket inside it, as under "auto". */
	name = cgroup_base_name(SOCKET);
	xasprintf(&want, "%s/%s", path, name);
	ck_assert_str_eq(p.base, want);
	ck_assert_str_eq(p.parent, path);
	ck_assert_ptr_null(p.leaf);
	cgroup_plan_clear(&p);
	free(want);
	free(name);
	free(path);

	plan("/elsewhere/x", "/", "0::/\n", &p);
	ck_assert_ptr_null(p.base);
	ck_assert_ptr_nonnull(strstr(p.why, "not in the cgroup2"));
	cgroup_plan_clear(&p);
}
END_TEST

START_TEST(test_start_removes_what_a_previous_instance_left)
{
	struct cgroup_plan	 p;
	struct cgroup_root	*r;
	struct stat		 st;
	char			*base, *left, *cause = NULL;

	dir("cg");
	put("cg/cgroup.procs", "1\n");
	plan("auto", "/", "0::/\n", &p);
	base = xstrdup(p.base);
	ck_assert_int_eq(mkdir(base, 0755), 0);
	xasprintf(&left, "%s/" CGROUP_SESSION_PREFIX "old-1", base);
	ck_assert_int_eq(mkdir(left, 0755), 0);

	r = cgroup_root_new(NULL, &p);
	cgroup_plan_clear(&p);
	ck_assert_int_eq(cgroup_root_start(r, &cause), 0);
	ck_assert_str_eq(cgroup_root_path(r), base);
	ck_assert_int_eq(stat(left, &st), -1);
	ck_assert_int_eq(stat(base, &st), 0);
	cgroup_root_free(r);
	/* An empty base goes with the daemon. */
	ck_assert_int_eq(stat(base, &st), -1);
	free(left);
	free(base);
}
END_TEST

START_TEST(test_a_session_cgroup_that_cannot_be_joined_is_a_cause)
{
	struct cgroup_plan	 p;
	struct cgroup_root	*r;
	struct cgroup		*cg;
	char			*cause = NULL;

	dir("cg");
	put("cg/cgroup.procs", "1\n");
	plan("auto", "/", "0::/\n", &p);
	r = cgroup_root_new(NULL, &p);
	cgroup_plan_clear(&p);
	ck_assert_int_eq(cgroup_root_start(r, &cause), 0);
	/* A plain directory has no cgroup.procs to join. */
	cg = cgroup_create(r, "s-1", NULL, "fake", &cause);
	ck_assert_ptr_null(cg);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "cgroup.procs"));
	free(cause);
	cgroup_root_free(r);
}
END_TEST

/* The suite: parsing, naming, planning, starting. */
static Suite *
cgroup_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("cgroup");

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mountinfo_finds_the_cgroup2_mount_and_its_root);
	tcase_add_test(tc, test_mountinfo_prefers_a_read_write_mount);
	tcase_add_test(tc, test_mountinfo_without_cgroup2_finds_nothing);
	tcase_add_test(tc, test_self_cgroup_is_the_v2_line);
	tcase_add_test(tc,
	    test_base_name_is_stable_per_socket_and_differs_between);
	suite_add_tcase(s, tc);

	tc = tcase_create("plan");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_off_plans_nothing_and_says_so);
	tcase_add_test(tc, test_no_cgroup2_mount_plans_nothing_and_says_why);
	tcase_add_test(tc,
	    test_an_own_cgroup_holding_only_the_daemon_is_delegated);
	tcase_add_test(tc,
	    test_a_shared_own_cgroup_holds_the_base_without_moving);
	tcase_add_test(tc, test_the_root_cgroup_is_never_taken_over);
	tcase_add_test(tc,
	    test_an_unusable_own_cgroup_falls_back_to_the_mount);
	tcase_add_test(tc, test_nothing_writable_plans_nothing_and_names_both);
	tcase_add_test(tc,
	    test_a_namespaced_mount_root_is_cut_from_the_own_path);
	tcase_add_test(tc, test_a_configured_path_must_be_in_the_cgroup2_mount);
	suite_add_tcase(s, tc);

	tc = tcase_create("start");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_start_removes_what_a_previous_instance_left);
	tcase_add_test(tc,
	    test_a_session_cgroup_that_cannot_be_joined_is_a_cause);
	suite_add_tcase(s, tc);

	return (s);
}

/* Run the suite; nonzero exit on any failure. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(cgroup_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
