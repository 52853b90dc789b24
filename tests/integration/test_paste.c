/*
 * A host's whole config pastes in: VS Code's mcp.json ("servers",
 * "inputs") and a Claude Desktop file with a remote entry load, the
 * remote entries are skipped with a warning --check-config prints, and
 * the stdio servers of the file run.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

static struct daemon	*d;

/* VS Code's shape: "servers", "inputs", a remote entry of type http. */
static const char vscode[] =
    "{\"broker\":{\"socket\":\"@SOCK@\"},"
    "\"inputs\":[{\"type\":\"promptString\",\"id\":\"token\","
    "\"description\":\"API token\",\"password\":true}],"
    "\"servers\":{"
    "\"github\":{\"type\":\"http\",\"url\":\"https://api.example/mcp\","
    "\"headers\":{\"Authorization\":\"Bearer ${input:token}\"}},"
    "\"fake\":{\"type\":\"stdio\",\"command\":\"@FAKE@\"}}}";

/* Claude Desktop's shape with one remote (url) entry. */
static const char claude[] =
    "{\"broker\":{\"socket\":\"@SOCK@\"},\"mcpServers\":{"
    "\"remote\":{\"url\":\"https://mcp.example/sse\"},"
    "\"fake\":{\"command\":\"@FAKE@\",\"autoApprove\":[]}}}";

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* Run --check-config on d's file; its output, *ok whether it exited 0. */
static char *
check_config(int *ok)
{
	const char		*argv[] = { "mcp-brokerd", "--check-config",
				    "--config", d->config, NULL };
	struct harness_run	 r;
	char			*out;

	harness_run(&r, harness_build_path("mcp-brokerd"), argv, NULL, NULL,
	    15000);
	*ok = r.status == 0;
	xasprintf(&out, "%s%s", r.out, r.err);
	harness_run_free(&r);
	return (out);
}

/* The stdio server runs; the skipped one is unknown, as any name. */
static void
expect_only_fake(const char *skipped)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	r = tool_call(c, "fake", "t1", "echo", "{\"text\":\"pasted\"}");
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
	r = tool_call(c, skipped, "t1", "echo", NULL);
	ck_assert_int_eq(error_code(r), -32010);
	cJSON_Delete(r);
	client_close(c);
}

START_TEST(test_a_vscode_mcp_json_loads_whole)
{
	char	*out;
	int	 ok;

	d = daemon_start_config(vscode);
	out = check_config(&ok);
	ck_assert_msg(ok, "--check-config refused it: %s", out);
	ck_assert_msg(strstr(out, "servers.github: skipped: only stdio "
	    "servers are brokered (this entry is a remote server)") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "inputs: ignored") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "configuration OK (1 servers)") != NULL,
	    "%s", out);
	free(out);
	expect_only_fake("github");
}
END_TEST

START_TEST(test_a_hosts_file_with_a_remote_entry_loads_whole)
{
	char	*out;
	int	 ok;

	d = daemon_start_config(claude);
	out = check_config(&ok);
	ck_assert_msg(ok, "--check-config refused it: %s", out);
	ck_assert_msg(strstr(out, "mcpServers.remote: skipped: only stdio "
	    "servers are brokered (this entry is a remote server)") != NULL,
	    "%s", out);
	free(out);
	ck_assert(wait_log(d, 5000, "mcpServers.remote: skipped", NULL));
	expect_only_fake("remote");
}
END_TEST

/* The suite. */
static Suite *
paste_suite(void)
{
	Suite	*s = suite_create("paste");
	TCase	*tc;

	tc = harness_add_tcase(s, "paste", NULL, teardown, 30);
	tcase_add_test(tc, test_a_vscode_mcp_json_loads_whole);
	tcase_add_test(tc, test_a_hosts_file_with_a_remote_entry_loads_whole);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(paste_suite()));
}
