/*
 * Metrics and the request log against the real daemon: the OpenMetrics
 * text broker/metrics and `mcp-brokerctl metrics` give (checked by
 * Debian's promtool), the latency histograms per server, errors by code,
 * the gauges, who may read them, and one log line per finished request.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* The uid that is no admin. */
#define NOBODY_UID	65534

static struct daemon	*d;

/* Two fake servers, "fake" and "other", and the request log on. */
static void
setup(void)
{
	d = daemon_start("\"access_log\":true",
	    "\"fake\":{\"command\":\"@FAKE@\"},"
	    "\"other\":{\"command\":\"@FAKE@\"}");
}

/* The same, with the request log left at its default. */
static void
setup_quiet(void)
{
	d = daemon_start("", "\"fake\":{\"command\":\"@FAKE@\"}");
}

/* A server that outlives its stdin: its sessions take a while to close. */
static void
setup_linger(void)
{
	d = daemon_start("\"shutdown_grace_ms\":1500",
	    "\"fake\":{\"command\":\"@FAKE@\",\"args\":[\"--linger\"]}");
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* The metrics text through broker/metrics (caller frees). */
static char *
metrics_rpc(struct client *c)
{
	cJSON	*r;
	char	*text;

	r = rpc(c, "broker/metrics", NULL);
	ck_assert_ptr_nonnull(result_of(r));
	ck_assert_str_eq(json_string(result_of(r), "content_type"),
	    "application/openmetrics-text; version=1.0.0; charset=utf-8");
	text = xstrdup(json_string(result_of(r), "text"));
	cJSON_Delete(r);
	return (text);
}

/*
 * The value of the sample whose line starts with series (name and
 * labels, as written), or -1 if there is none.
 */
static double
sample(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return (strtod(p + n + 1, NULL));
		p += n;
	}
	return (-1);
}

/* The value of series now, through broker/metrics. */
static double
metric(struct client *c, const char *series)
{
	char	*text;
	double	 v;

	text = metrics_rpc(c);
	v = sample(text, series);
	free(text);
	return (v);
}

/* How long promtool or the ctl may take. */
#define RUN_MS	15000

/* `promtool check metrics` on text: its exit status, its output in *out. */
static int
promtool(const char *text, char **out)
{
	static const char *const argv[] = { "promtool", "check", "metrics",
	    NULL };
	struct harness_run	 r;

	harness_run(&r, "promtool", argv, NULL, text, RUN_MS);
	xasprintf(out, "%s%s", r.out, r.err);
	harness_run_free(&r);
	return (r.status);
}

/* The ctl's output for `metrics` (caller frees); *rc its exit status. */
static char *
ctl_metrics(int *rc)
{
	const char		*argv[] = { "mcp-brokerctl", "--socket", d->sock,
				    "metrics", NULL };
	struct harness_run	 r;

	harness_run(&r, harness_build_path("mcp-brokerctl"), argv, NULL, NULL,
	    RUN_MS);
	*rc = r.status;
	free(r.err);
	return (r.out);
}

START_TEST(test_the_ctls_metrics_pass_promtool)
{
	struct client	*c = daemon_connect(d);
	char		*text, *lint;
	int		 rc;

	cJSON_Delete(tool_call(c, "fake", "t1", "echo",
	    "{\"text\":\"hi\"}"));
	cJSON_Delete(tool_call(c, "fake", "t1", "nosuch", NULL));
	text = ctl_metrics(&rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strlen(text) > 6 &&
	    strcmp(text + strlen(text) - 6, "# EOF\n") == 0,
	    "the text does not end with # EOF: %s", text);
	ck_assert_double_eq(sample(text,
	    "mcp_broker_request_duration_seconds_count{server=\"fake\"}"), 2);
	rc = promtool(text, &lint);
	ck_assert_msg(rc == 0, "promtool check metrics: %d: %s", rc, lint);
	free(lint);
	free(text);
	client_close(c);
}
END_TEST

/*
 * Counted after a first call has started the session (its start is part
 * of its time, and a slow machine may take long over it): three quick
 * calls and one of 300 ms.
 */
START_TEST(test_each_request_lands_in_its_latency_bucket)
{
	struct client	*c = daemon_connect(d);
	char		*before, *after;
	int		 i;

	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"hi\"}"));
	before = metrics_rpc(c);
	for (i = 0; i < 3; i++)
		cJSON_Delete(tool_call(c, "fake", "t1", "echo",
		    "{\"text\":\"hi\"}"));
	cJSON_Delete(tool_call(c, "fake", "t1", "sleep", "{\"ms\":300}"));
	after = metrics_rpc(c);
#define FAKE_SERIES(name) \
	"mcp_broker_request_duration_seconds_" name "{server=\"fake\"}"
#define FAKE_BUCKET(le) \
	"mcp_broker_request_duration_seconds_bucket{server=\"fake\"," \
	"le=\"" le "\"}"
#define GREW(series) (sample(after, series) - sample(before, series))
	ck_assert_double_eq(GREW(FAKE_BUCKET("0.25")), 3);
	ck_assert_double_eq(GREW(FAKE_BUCKET("0.5")), 4);
	ck_assert_double_eq(GREW(FAKE_BUCKET("+Inf")), 4);
	ck_assert_double_eq(GREW(FAKE_SERIES("count")), 4);
	ck_assert_double_ge(GREW(FAKE_SERIES("sum")), 0.3);
#undef GREW
#undef FAKE_BUCKET
#undef FAKE_SERIES
	/* Every configured server has its series, used or not. */
	ck_assert_double_eq(sample(after,
	    "mcp_broker_request_duration_seconds_count{server=\"other\"}"),
	    0);
	free(before);
	free(after);
	client_close(c);
}
END_TEST

START_TEST(test_errors_are_counted_by_code)
{
	struct client	*c = daemon_connect(d);

	/* The child's own error, and one of the broker's. */
	cJSON_Delete(tool_call(c, "fake", "t1", "nosuch", NULL));
	cJSON_Delete(tool_call(c, "nosuch", "t1", "echo", NULL));
	cJSON_Delete(tool_call(c, "nosuch", "t1", "echo", NULL));
	ck_assert_double_eq(metric(c,
	    "mcp_broker_errors_total{code=\"-32602\"}"), 1);
	ck_assert_double_eq(metric(c,
	    "mcp_broker_errors_total{code=\"-32010\"}"), 2);
	ck_assert_double_eq(metric(c,
	    "mcp_broker_errors_total{code=\"other\"}"), 0);
	client_close(c);
}
END_TEST

START_TEST(test_the_gauges_follow_sessions_clients_and_requests)
{
	struct client	*c = daemon_connect(d), *c2 = daemon_connect(d);
	cJSON		*r;

	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"a\"}"));
	ck_assert_double_eq(metric(c,
	    "mcp_broker_sessions{server=\"fake\",state=\"ready\"}"), 1);
	ck_assert_double_eq(metric(c,
	    "mcp_broker_sessions{server=\"other\",state=\"ready\"}"), 0);
	ck_assert_double_eq(metric(c, "mcp_broker_clients"), 2);
	/* One request waits in the child while the metrics are read. */
	send_call(c2, 7, "fake", "t1", "sleep", "{\"ms\":1000}", NULL);
	wait_in_flight(c, "fake", "t1", 1);
	ck_assert_double_eq(metric(c, "mcp_broker_in_flight"), 1);
	r = recv_msg(c2);
	ck_assert_ptr_nonnull(result_of(r));
	cJSON_Delete(r);
	ck_assert_double_eq(metric(c, "mcp_broker_in_flight"), 0);
	ck_assert_int_eq(close_sessions(c, "{\"all\":true}"), 1);
	ck_assert_double_eq(metric(c,
	    "mcp_broker_sessions{server=\"fake\",state=\"ready\"}"), 0);
	ck_assert_double_eq(metric(c, "mcp_broker_sessions_closed_total"), 1);
	ck_assert_double_eq(metric(c, "mcp_broker_sessions_started_total"),
	    1);
	client_close(c2);
	client_close(c);
}
END_TEST

/* A closing session is counted as closing until its process is gone. */
START_TEST(test_a_closing_session_is_counted_until_its_process_is_gone)
{
	struct client	*c = daemon_connect(d);
	pid_t		 pid;
	const char	*closing =
	    "mcp_broker_sessions{server=\"fake\",state=\"closing\"}";

	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"a\"}"));
	pid = session_pid(c, "fake", "t1");
	ck_assert_int_eq(close_sessions(c, "{\"all\":true}"), 1);
	ck_assert_double_eq(metric(c, closing), 1);
	ck_assert_double_eq(metric(c,
	    "mcp_broker_sessions{server=\"fake\",state=\"ready\"}"), 0);
	ck_assert(wait_pid_gone(pid, 10000));
	sleep_ms(200);
	ck_assert_double_eq(metric(c, closing), 0);
	client_close(c);
}
END_TEST

START_TEST(test_metrics_are_for_admins_only)
{
	struct client	*c;
	char		*cause = NULL;
	cJSON		*r;
	pid_t		 pid;
	int		 status;

	ck_assert_int_eq(chmod(d->dir, 0755), 0);
	ck_assert_int_eq(chmod(d->sock, 0666), 0);
	if ((pid = fork()) == 0) {
		if (setgid(NOBODY_UID) != 0 || setuid(NOBODY_UID) != 0)
			_exit(3);
		if ((c = client_connect(d->sock, &cause)) == NULL)
			_exit(4);
		r = client_call(c, "broker/metrics", NULL,
		    HARNESS_TIMEOUT_MS, &cause);
		_exit(r != NULL && error_code(r) == -32017 ? 0 : 5);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "nobody was not refused the metrics with -32017 (status %d)",
	    status);
}
END_TEST

START_TEST(test_a_reload_keeps_a_servers_counts_and_drops_a_removed_one)
{
	struct client	*c = daemon_connect(d);
	char		*text;

	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"a\"}"));
	text = config_text("\"access_log\":true",
	    "\"fake\":{\"command\":\"@FAKE@\"}");
	daemon_write_config(d, text);
	free(text);
	cJSON_Delete(rpc(c, "broker/reload", NULL));
	text = metrics_rpc(c);
	ck_assert_double_eq(sample(text,
	    "mcp_broker_request_duration_seconds_count{server=\"fake\"}"), 1);
	ck_assert_ptr_null(strstr(text, "server=\"other\""));
	ck_assert_double_eq(sample(text, "mcp_broker_reloads_total"), 1);
	free(text);
	client_close(c);
}
END_TEST

START_TEST(test_the_request_log_has_a_line_per_finished_request)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r;

	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"a\"}"));
	cJSON_Delete(tool_call(c, "fake", "t1", "nosuch", NULL));
	cJSON_Delete(rpc(c, "tools/list",
	    "{\"server\":\"fake\",\"thread\":\"t1\"}"));
	r = rpc(c, "tools/call", "{\"server\":\"fake\",\"thread\":\"t1\","
	    "\"name\":\"sleep\",\"arguments\":{\"ms\":2000},"
	    "\"timeout_ms\":100}");
	ck_assert_int_eq(error_code(r), -32013);
	cJSON_Delete(r);
	send_call(c, 9, "fake", "t1", "sleep", "{\"ms\":2000}", NULL);
	wait_in_flight(c, "fake", "t1", 1);
	send_line(c, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/cancelled\",\"params\":{\"requestId\":9}}");
	ck_assert(wait_log(d, 5000, "request fake t1: tools/call sleep, ",
	    " ms, cancelled", NULL));
	ck_assert_int_eq(log_count(d, "info: request fake t1: tools/call echo, ",
	    " ms, ok", NULL), 1);
	ck_assert_int_eq(log_count(d, "request fake t1: tools/call nosuch, ",
	    " ms, error -32602", NULL), 1);
	ck_assert_int_eq(log_count(d, "request fake t1: tools/list, ",
	    " ms, ok", NULL), 1);
	ck_assert_int_eq(log_count(d, "request fake t1: tools/call sleep, ",
	    " ms, error -32013", NULL), 1);
	client_close(c);
}
END_TEST

START_TEST(test_a_tool_name_cannot_forge_a_request_log_line)
{
	struct client	*c = daemon_connect(d);

	cJSON_Delete(tool_call(c, "fake", "t1",
	    "x, 1 ms, ok\\n2026-01-01T00:00:00.000Z info: forged", NULL));
	ck_assert(wait_log(d, 5000, "request fake t1: tools/call x, 1 ms, "
	    "ok\\x0a2026-01-01T00:00:00.000Z info: forged, ", NULL));
	ck_assert_int_eq(log_count(d, "info: forged", NULL), 1);
	client_close(c);
}
END_TEST

/*
 * Without access_log the lines are debug lines (the harness runs the
 * daemon at debug, so they are written); with it, info lines, from the
 * reload on, for the session already running too.
 */
START_TEST(test_the_request_log_is_at_debug_unless_access_log_is_set)
{
	struct client	*c = daemon_connect(d);
	char		*text;

	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"a\"}"));
	ck_assert_int_eq(log_count(d, "debug: request fake t1: tools/call "
	    "echo, ", NULL), 1);
	ck_assert_int_eq(log_count(d, "info: request fake t1:", NULL), 0);
	text = config_text("\"access_log\":true",
	    "\"fake\":{\"command\":\"@FAKE@\"}");
	daemon_write_config(d, text);
	free(text);
	cJSON_Delete(rpc(c, "broker/reload", NULL));
	cJSON_Delete(tool_call(c, "fake", "t1", "echo", "{\"text\":\"b\"}"));
	ck_assert_int_eq(log_count(d, "info: request fake t1: tools/call "
	    "echo, ", NULL), 1);
	ck_assert_int_eq(log_count(d, "debug: request fake t1: tools/call "
	    "echo, ", NULL), 1);
	client_close(c);
}
END_TEST

START_TEST(test_access_log_must_be_a_boolean)
{
	const char		*argv[] = { "mcp-brokerd", "--check-config",
				    "--config", d->config, NULL };
	struct harness_run	 r;
	char			*text;

	text = config_text("\"access_log\":\"yes\"", "");
	daemon_write_config(d, text);
	free(text);
	harness_run(&r, harness_build_path("mcp-brokerd"), argv, NULL, NULL,
	    RUN_MS);
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(strstr(r.err, "broker.access_log: expected true or "
	    "false") != NULL, "%s", r.err);
	harness_run_free(&r);
}
END_TEST

/* The suite. */
static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc;

	tc = harness_add_tcase(s, "metrics", setup, teardown, 60);
	tcase_add_test(tc, test_the_ctls_metrics_pass_promtool);
	tcase_add_test(tc, test_each_request_lands_in_its_latency_bucket);
	tcase_add_test(tc, test_errors_are_counted_by_code);
	tcase_add_test(tc, test_the_gauges_follow_sessions_clients_and_requests);
	tcase_add_test(tc, test_metrics_are_for_admins_only);
	tcase_add_test(tc,
	    test_a_reload_keeps_a_servers_counts_and_drops_a_removed_one);
	tc = harness_add_tcase(s, "closing", setup_linger, teardown, 60);
	tcase_add_test(tc,
	    test_a_closing_session_is_counted_until_its_process_is_gone);
	tc = harness_add_tcase(s, "request log", setup, teardown, 60);
	tcase_add_test(tc, test_the_request_log_has_a_line_per_finished_request);
	tcase_add_test(tc, test_a_tool_name_cannot_forge_a_request_log_line);
	tc = harness_add_tcase(s, "request log off", setup_quiet, teardown,
	    60);
	tcase_add_test(tc,
	    test_the_request_log_is_at_debug_unless_access_log_is_set);
	tcase_add_test(tc, test_access_log_must_be_a_boolean);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(metrics_suite()));
}
