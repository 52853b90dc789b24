/*
 * Session directories and session expansions: ${session_dir}, ${thread},
 * ${server} and ${session_id} in a server's args and env, checked at load
 * and expanded per session; the directory made 0700 and removed whole
 * without following a symlink a child planted.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "workdir.h"
#include "xmalloc.h"

static char	 tmp[64];

static void	 setup(void);
static void	 teardown(void);
static struct config *parse_server(const char *);
static void	 expect_server_error(const char *, const char *);
static char	**expand_args(const struct server_conf *,
		    const struct workdir_values *);
static void	 make_file(const char *, const char *);
static int	 exists(const char *);
static Suite	*workdir_suite(void);

static const struct workdir_values values = {
	"/state/sessions/5f-1", "t-42", "x", "5f-1"
};

/* A fresh temporary directory for each test. */
static void
setup(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/mcpb-workdir-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

/* Remove the temporary directory (with the module under test's help). */
static void
teardown(void)
{
	char	*cause;

	if (workdir_remove(tmp, &cause) != 0) {
		fprintf(stderr, "teardown: %s\n", cause);
		free(cause);
	}
}

/* Parse one server entry "x" (single quotes for double); expect success. */
static struct config *
parse_server(const char *body)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;
	char			*text, *p;

	xasprintf(&text, "{'mcpServers':{'x':%s}}", body);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	conf = config_parse(text, strlen(text), &diag);
	free(text);
	ck_assert_msg(conf != NULL, "%s", diag.nerrors ? diag.errors[0] : "");
	config_diag_clear(&diag);
	ck_assert_ptr_nonnull(config_find_server(conf, "x"));
	return (conf);
}

/* Parse one server entry "x"; expect exactly the one error msg. */
static void
expect_server_error(const char *body, const char *msg)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;
	char			*text, *p;

	xasprintf(&text, "{'mcpServers':{'x':%s}}", body);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	conf = config_parse(text, strlen(text), &diag);
	free(text);
	ck_assert_ptr_null(conf);
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0], msg);
	config_diag_clear(&diag);
}

/* A server's argv as one session's child gets it (workdir_free_list). */
static char **
expand_args(const struct server_conf *sc, const struct workdir_values *v)
{
	ck_assert_int_eq(sc->templates, 1);
	return (workdir_expand_list(sc->argv, v));
}

/* Write text to a new file at path. */
static void
make_file(const char *path, const char *text)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Whether something (a dangling symlink included) is at path. */
static int
exists(const char *path)
{
	struct stat	sb;

	return (lstat(path, &sb) == 0);
}

START_TEST(test_expand_every_session_name)
{
	struct config			*conf;
	const struct server_conf	*sc;
	char				**argv;

	conf = parse_server("{'command':'srv','session_dir':true,"
	    "'args':['${session_dir}','${thread}','${server}',"
	    "'${session_id}']}");
	sc = config_find_server(conf, "x");
	ck_assert_int_eq(sc->session_dir, 1);
	argv = expand_args(sc, &values);
	ck_assert_str_eq(argv[0], "srv");
	ck_assert_str_eq(argv[1], "/state/sessions/5f-1");
	ck_assert_str_eq(argv[2], "t-42");
	ck_assert_str_eq(argv[3], "x");
	ck_assert_str_eq(argv[4], "5f-1");
	ck_assert_ptr_null(argv[5]);
	workdir_free_list(argv);
	config_free(conf);
}
END_TEST

START_TEST(test_expand_several_in_one_arg)
{
	struct config	*conf;
	char		**argv;

	conf = parse_server("{'command':'srv','session_dir':true,'args':"
	    "['--out=${session_dir}/${thread}/${server}.${session_id}.log']}");
	argv = expand_args(config_find_server(conf, "x"), &values);
	ck_assert_str_eq(argv[1],
	    "--out=/state/sessions/5f-1/t-42/x.5f-1.log");
	workdir_free_list(argv);
	config_free(conf);
}
END_TEST

START_TEST(test_expand_literal_dollar)
{
	struct config	*conf;
	char		**argv;

	conf = parse_server("{'command':'a$b','args':['$$','a$$b',"
	    "'$${thread}','cost $5','${thread}$$']}");
	argv = expand_args(config_find_server(conf, "x"), &values);
	ck_assert_str_eq(argv[0], "a$b");
	ck_assert_str_eq(argv[1], "$");
	ck_assert_str_eq(argv[2], "a$b");
	ck_assert_str_eq(argv[3], "${thread}");
	ck_assert_str_eq(argv[4], "cost $5");
	ck_assert_str_eq(argv[5], "t-42$");
	workdir_free_list(argv);
	config_free(conf);
}
END_TEST

START_TEST(test_expand_daemon_variable_is_not_expanded_again)
{
	struct config	*conf;
	char		**argv;

	ck_assert_int_eq(setenv("MCPB_TEST_WORKDIR", "${thread}$$", 1), 0);
	conf = parse_server("{'command':'a','args':"
	    "['${MCPB_TEST_WORKDIR}:${thread}']}");
	argv = expand_args(config_find_server(conf, "x"), &values);
	ck_assert_str_eq(argv[1], "${thread}$$:t-42");
	workdir_free_list(argv);
	config_free(conf);
	unsetenv("MCPB_TEST_WORKDIR");
}
END_TEST

START_TEST(test_expand_thread_bytes_verbatim)
{
	struct workdir_values	 v = values;
	struct config		*conf;
	char			**argv;

	v.thread = "a b;'\"$(rm -rf /)`x`${session_dir}$$";
	conf = parse_server("{'command':'a','args':['--t=${thread}']}");
	argv = expand_args(config_find_server(conf, "x"), &v);
	ck_assert_str_eq(argv[1], "--t=a b;'\"$(rm -rf /)`x`${session_dir}$$");
	workdir_free_list(argv);
	config_free(conf);
}
END_TEST

START_TEST(test_expand_env_values)
{
	struct config			*conf;
	const struct server_conf	*sc;
	char				**env;

	conf = parse_server("{'command':'a','session_dir':true,'env':"
	    "{'OUT':'${session_dir}/out','P':'pa$$word','T':'${thread}'}}");
	sc = config_find_server(conf, "x");
	env = workdir_env(sc->env, sc->templates, &values);
	ck_assert_str_eq(env[0], WORKDIR_ENV "=/state/sessions/5f-1");
	ck_assert_str_eq(env[1], "OUT=/state/sessions/5f-1/out");
	ck_assert_str_eq(env[2], "P=pa$word");
	ck_assert_str_eq(env[3], "T=t-42");
	ck_assert_ptr_null(env[4]);
	workdir_free_list(env);
	config_free(conf);
}
END_TEST

START_TEST(test_no_session_names_keeps_plain_strings)
{
	struct workdir_values		 v = values;
	struct config			*conf;
	const struct server_conf	*sc;
	char				**env;

	conf = parse_server("{'command':'a','args':['$$'],'env':{'P':'$$'}}");
	sc = config_find_server(conf, "x");
	ck_assert_int_eq(sc->templates, 0);
	ck_assert_str_eq(sc->argv[1], "$");
	v.session_dir = NULL;
	env = workdir_env(sc->env, sc->templates, &v);
	ck_assert_str_eq(env[0], "P=$");
	ck_assert_ptr_null(env[1]);
	workdir_free_list(env);
	config_free(conf);
}
END_TEST

START_TEST(test_unknown_expansion_names_its_path)
{
	expect_server_error("{'command':'a','args':['a','${thread}',"
	    "'${foo}']}", "mcpServers.x.args[2]: ${foo} is not set in the "
	    "daemon's environment");
	expect_server_error("{'command':'a','env':{'E':'${sesion_dir}'}}",
	    "mcpServers.x.env.E: ${sesion_dir} is not set in the daemon's "
	    "environment");
}
END_TEST

START_TEST(test_unterminated_expansion_names_its_path)
{
	expect_server_error("{'command':'a','args':['${thread}','${thread']}",
	    "mcpServers.x.args[1]: unterminated \"${\" (a literal \"$\" is "
	    "written \"$$\")");
}
END_TEST

START_TEST(test_session_dir_expansion_needs_session_dir)
{
	expect_server_error("{'command':'a','args':['--out','${session_dir}']}",
	    "mcpServers.x.args[1]: ${session_dir} needs \"session_dir\": true "
	    "in this server");
	expect_server_error("{'command':'a','session_dir':false,'env':"
	    "{'D':'${session_dir}'}}", "mcpServers.x.env.D: ${session_dir} "
	    "needs \"session_dir\": true in this server");
	expect_server_error("{'command':'a','session_dir':1}",
	    "mcpServers.x.session_dir: expected true or false");
}
END_TEST

START_TEST(test_reload_sees_session_dir_and_templates_change)
{
	struct config	*a, *b, *c;

	a = parse_server("{'command':'a','args':['${thread}']}");
	b = parse_server("{'command':'a','args':['${server}']}");
	c = parse_server("{'command':'a','args':['${thread}'],"
	    "'session_dir':true}");
	ck_assert_int_eq(config_server_equal(config_find_server(a, "x"),
	    config_find_server(b, "x")), 0);
	ck_assert_int_eq(config_server_equal(config_find_server(a, "x"),
	    config_find_server(c, "x")), 0);
	ck_assert_int_eq(config_server_equal(config_find_server(a, "x"),
	    config_find_server(a, "x")), 1);
	config_free(a);
	config_free(b);
	config_free(c);
}
END_TEST

START_TEST(test_state_dir_key)
{
	struct config_diag	 diag = { 0 };
	struct config		*conf;
	const char		*text;

	conf = config_default();
	ck_assert_str_eq(conf->state_dir, "/var/lib/mcp-broker");
	config_free(conf);
	text = "{\"broker\":{\"state_dir\":\"/srv/b\"}}";
	conf = config_parse(text, strlen(text), &diag);
	ck_assert_ptr_nonnull(conf);
	ck_assert_str_eq(conf->state_dir, "/srv/b");
	config_free(conf);
	text = "{\"broker\":{\"state_dir\":\"rel\"}}";
	ck_assert_ptr_null(config_parse(text, strlen(text), &diag));
	ck_assert_uint_eq(diag.nerrors, 1);
	ck_assert_str_eq(diag.errors[0],
	    "broker.state_dir: expected an absolute path");
	config_diag_clear(&diag);
}
END_TEST

START_TEST(test_create_makes_private_directory_and_base)
{
	struct stat	 sb;
	char		 state[PATH_MAX], *path, *cause;

	snprintf(state, sizeof state, "%s/state", tmp);
	ck_assert_int_eq(workdir_create(state, "5f-1", &path, &cause), 0);
	ck_assert_str_eq(path + strlen(tmp), "/state/sessions/5f-1");
	ck_assert_int_eq(lstat(path, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 07777, 0700);
	ck_assert_uint_eq(sb.st_uid, geteuid());
	ck_assert_int_eq(stat(state, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0700);
	free(path);
}
END_TEST

START_TEST(test_create_failure_names_path_and_errno)
{
	char	 state[128], *path, *cause, *want;

	snprintf(state, sizeof state, "%s/file", tmp);
	make_file(state, "");
	ck_assert_int_eq(workdir_create(state, "1", &path, &cause), -1);
	ck_assert_ptr_null(path);
	xasprintf(&want, "cannot create %s: %s", state, strerror(ENOTDIR));
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);

	/* The directory an instance's is in is made, not its parent. */
	snprintf(state, sizeof state, "%s/missing/state", tmp);
	ck_assert_int_eq(workdir_create(state, "1", &path, &cause), 0);
	free(path);
	snprintf(state, sizeof state, "%s/absent/missing/state", tmp);
	ck_assert_int_eq(workdir_create(state, "1", &path, &cause), -1);
	xasprintf(&want, "cannot create %s/absent/missing: %s", tmp,
	    strerror(ENOENT));
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
}
END_TEST

START_TEST(test_remove_nested_directories)
{
	char	 p[PATH_MAX], *dir, *cause;

	ck_assert_int_eq(workdir_create(tmp, "s", &dir, &cause), 0);
	snprintf(p, sizeof p, "%s/a", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/a/b", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/a/b/c", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/a/b/c/deep.txt", dir);
	make_file(p, "deep");
	snprintf(p, sizeof p, "%s/a/top.txt", dir);
	make_file(p, "top");
	snprintf(p, sizeof p, "%s/.hidden", dir);
	make_file(p, "h");
	ck_assert_int_eq(workdir_remove(dir, &cause), 0);
	ck_assert(!exists(dir));
	free(dir);
}
END_TEST

/* Discarding removes the tree in a process of its own (the daemon reaps
   it; here the test does). */
START_TEST(test_discard_removes_in_another_process)
{
	char	 p[PATH_MAX], *dir, *cause;
	int	 status;
	pid_t	 pid;

	ck_assert_int_eq(workdir_create(tmp, "s", &dir, &cause), 0);
	snprintf(p, sizeof p, "%s/a", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/a/f", dir);
	make_file(p, "x");
	workdir_discard(dir);
	pid = waitpid(-1, &status, 0);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_ne(pid, getpid());
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(!exists(dir));
	free(dir);
}
END_TEST

START_TEST(test_remove_never_follows_a_planted_symlink)
{
	char	 outside[128], secret[256], p[PATH_MAX];
	char	*dir, *cause;

	snprintf(outside, sizeof outside, "%s/outside", tmp);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	snprintf(secret, sizeof secret, "%s/secret", outside);
	make_file(secret, "keep me");
	ck_assert_int_eq(workdir_create(tmp, "s", &dir, &cause), 0);
	snprintf(p, sizeof p, "%s/to-dir", dir);
	ck_assert_int_eq(symlink(outside, p), 0);
	snprintf(p, sizeof p, "%s/to-file", dir);
	ck_assert_int_eq(symlink(secret, p), 0);
	snprintf(p, sizeof p, "%s/sub", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/sub/up", dir);
	ck_assert_int_eq(symlink("../../../outside", p), 0);
	snprintf(p, sizeof p, "%s/dangling", dir);
	ck_assert_int_eq(symlink("/nonexistent/x", p), 0);

	ck_assert_int_eq(workdir_remove(dir, &cause), 0);
	ck_assert(!exists(dir));
	ck_assert(exists(outside));
	ck_assert(exists(secret));
	free(dir);
}
END_TEST

START_TEST(test_remove_session_dir_replaced_by_symlink)
{
	char	 outside[128], secret[256], *dir, *cause;

	snprintf(outside, sizeof outside, "%s/outside", tmp);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	snprintf(secret, sizeof secret, "%s/secret", outside);
	make_file(secret, "keep me");
	ck_assert_int_eq(workdir_create(tmp, "s", &dir, &cause), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(symlink(outside, dir), 0);
	ck_assert_int_eq(workdir_remove(dir, &cause), 0);
	ck_assert(!exists(dir));
	ck_assert(exists(secret));
	free(dir);
}
END_TEST

START_TEST(test_remove_read_only_subdirectories)
{
	char	 p[PATH_MAX], *dir, *cause;

	ck_assert_int_eq(workdir_create(tmp, "s", &dir, &cause), 0);
	snprintf(p, sizeof p, "%s/ro", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/ro/file", dir);
	make_file(p, "x");
	snprintf(p, sizeof p, "%s/ro", dir);
	ck_assert_int_eq(chmod(p, 0500), 0);
	snprintf(p, sizeof p, "%s/none", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/none/file", dir);
	make_file(p, "x");
	snprintf(p, sizeof p, "%s/none", dir);
	ck_assert_int_eq(chmod(p, 0), 0);
	ck_assert_int_eq(chmod(dir, 0500), 0);
	ck_assert_int_eq(workdir_remove(dir, &cause), 0);
	ck_assert(!exists(dir));
	free(dir);
}
END_TEST

START_TEST(test_remove_stops_at_depth_bound)
{
	char	*dir, *cause;
	int	 fd, next, i, fds[WORKDIR_MAX_DEPTH + 4];

	ck_assert_int_eq(workdir_create(tmp, "s", &dir, &cause), 0);
	ck_assert_int_ne(fd = open(dir, O_RDONLY | O_DIRECTORY), -1);
	for (i = 0; i < WORKDIR_MAX_DEPTH + 4; i++) {
		ck_assert_int_eq(mkdirat(fd, "d", 0700), 0);
		ck_assert_int_ne(next = openat(fd, "d",
		    O_RDONLY | O_DIRECTORY), -1);
		close(fd);
		fd = next;
	}
	close(fd);
	ck_assert_int_eq(workdir_remove(dir, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "WORKDIR_MAX_DEPTH"));
	ck_assert_ptr_nonnull(strstr(cause, dir));
	free(cause);

	/* What is left is removed from the bottom up. */
	ck_assert_int_ne(fds[0] = open(dir, O_RDONLY | O_DIRECTORY), -1);
	for (i = 1; i < WORKDIR_MAX_DEPTH + 4; i++) {
		fds[i] = openat(fds[i - 1], "d", O_RDONLY | O_DIRECTORY);
		if (fds[i] == -1)
			break;
	}
	for (i--; i >= 0; i--) {
		unlinkat(fds[i], "d", AT_REMOVEDIR);
		close(fds[i]);
	}
	free(dir);
}
END_TEST

START_TEST(test_remove_missing_is_fine)
{
	char	 p[PATH_MAX], *cause;

	snprintf(p, sizeof p, "%s/never", tmp);
	ck_assert_int_eq(workdir_remove(p, &cause), 0);
	snprintf(p, sizeof p, "%s/never/made", tmp);
	ck_assert_int_eq(workdir_remove(p, &cause), 0);
}
END_TEST

START_TEST(test_clean_removes_leftovers)
{
	char	 state[128], p[PATH_MAX], keep[128], *dir, *cause;
	size_t	 n;

	snprintf(state, sizeof state, "%s/state", tmp);
	ck_assert_int_eq(workdir_clean(state, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	snprintf(keep, sizeof keep, "%s/keep", tmp);
	make_file(keep, "k");
	ck_assert_int_eq(workdir_create(state, "a-1", &dir, &cause), 0);
	snprintf(p, sizeof p, "%s/link", dir);
	ck_assert_int_eq(symlink(keep, p), 0);
	free(dir);
	ck_assert_int_eq(workdir_create(state, "a-2", &dir, &cause), 0);
	free(dir);
	snprintf(p, sizeof p, "%s/sessions/stray", state);
	make_file(p, "s");

	ck_assert_int_eq(workdir_clean(state, &n, &cause), 0);
	ck_assert_uint_eq(n, 3);
	snprintf(p, sizeof p, "%s/sessions", state);
	ck_assert(exists(p));
	snprintf(p, sizeof p, "%s/sessions/a-1", state);
	ck_assert(!exists(p));
	ck_assert(exists(keep));
}
END_TEST

/* The suite: expansion, then directories. */
static Suite *
workdir_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("workdir");
	tc = tcase_create("expansion");
	tcase_add_test(tc, test_expand_every_session_name);
	tcase_add_test(tc, test_expand_several_in_one_arg);
	tcase_add_test(tc, test_expand_literal_dollar);
	tcase_add_test(tc, test_expand_daemon_variable_is_not_expanded_again);
	tcase_add_test(tc, test_expand_thread_bytes_verbatim);
	tcase_add_test(tc, test_expand_env_values);
	tcase_add_test(tc, test_no_session_names_keeps_plain_strings);
	tcase_add_test(tc, test_unknown_expansion_names_its_path);
	tcase_add_test(tc, test_unterminated_expansion_names_its_path);
	tcase_add_test(tc, test_session_dir_expansion_needs_session_dir);
	tcase_add_test(tc, test_reload_sees_session_dir_and_templates_change);
	tcase_add_test(tc, test_state_dir_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("directories");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_makes_private_directory_and_base);
	tcase_add_test(tc, test_create_failure_names_path_and_errno);
	tcase_add_test(tc, test_remove_nested_directories);
	tcase_add_test(tc, test_discard_removes_in_another_process);
	tcase_add_test(tc, test_remove_never_follows_a_planted_symlink);
	tcase_add_test(tc, test_remove_session_dir_replaced_by_symlink);
	tcase_add_test(tc, test_remove_read_only_subdirectories);
	tcase_add_test(tc, test_remove_stops_at_depth_bound);
	tcase_add_test(tc, test_remove_missing_is_fine);
	tcase_add_test(tc, test_clean_removes_leftovers);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; nonzero exit on any failure. */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(workdir_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
