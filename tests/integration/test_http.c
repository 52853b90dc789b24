/*
 * The HTTP listeners (broker.http): a bearer token of the tokens file is
 * checked before anything else (401 with a Bearer challenge), then the
 * Origin rule (403 for a foreign site, loopback passes), then the path:
 * /metrics for admins only, 404 elsewhere. Headers are bounded, idle
 * connections close, connections count toward max_clients, a slow client
 * holds up nobody, a reload re-reads the tokens, and --check-config
 * refuses what would open the port to strangers. The body passes
 * promtool, and a real Prometheus scrapes it with a credentials file.
 *
 * The client is a few lines of raw HTTP/1.1 over a TCP socket: what is
 * tested is the bytes a scraper sends and gets, not a library's view.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>
#include <cJSON.h>

#include "harness.h"
#include "http.h"
#include "xmalloc.h"

/* The tokens of the fixture: the daemon's user (root: admin), nobody. */
#define ADMIN_TOKEN	"admin-0123456789abcdef0123456789"
#define NOBODY_TOKEN	"nobody-0123456789abcdef012345678"
#define OTHER_TOKEN	"other-0123456789abcdef0123456789"
/* The daemon's header bound (HTTP_MAX_HEADERS_BYTES). */
#define HEADERS_MAX	16384
/* How long one HTTP exchange may take. */
#define EXCHANGE_MS	5000
/* How long Prometheus gets to start and scrape. */
#define PROMETHEUS_MS	40000

static struct daemon	*d;
static char		 dir[64];	/* tokens file and Prometheus's */
static char		 tokens[128];
static int		 port;

/* Write a tokens file at path with mode, owned by us. */
static void
write_tokens(const char *path, const char *text, mode_t mode)
{
	int	fd;

	unlink(path);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600),
	    -1);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* A socket connected to 127.0.0.1:p, or -1 if nobody listens there. */
static int
tcp_try_connect(int p)
{
	struct sockaddr_in	sin;
	int			fd;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* A socket connected to 127.0.0.1:p. */
static int
tcp_connect(int p)
{
	int	fd;

	ck_assert_msg((fd = tcp_try_connect(p)) != -1, "connect 127.0.0.1:%d: "
	    "%s", p, strerror(errno));
	return (fd);
}

/* Send all of s on fd. */
static void
send_all(int fd, const char *s, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(fd, s, len, MSG_NOSIGNAL);
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		s += n;
		len -= (size_t)n;
	}
}

/*
 * Read from fd until the peer closes or ms pass; what came (caller
 * frees), NUL-terminated. A reset after data counts as the end.
 */
static char *
read_all(int fd, int ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		*buf = NULL;
	size_t		 len = 0;
	long		 deadline = now_ms() + ms;
	ssize_t		 n;

	for (;;) {
		buf = xrealloc(buf, len + 65536 + 1);
		if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
			break;
		if ((n = recv(fd, buf + len, 65536, 0)) <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (buf);
}

/* One request on a new connection; the whole response (caller frees). */
static char *
exchange(int p, const char *request)
{
	char	*resp;
	int	 fd;

	fd = tcp_connect(p);
	send_all(fd, request, strlen(request));
	resp = read_all(fd, EXCHANGE_MS);
	close(fd);
	return (resp);
}

/*
 * GET path with Connection: close, the given token (NULL: none) and
 * extra header lines (each ending "\r\n", or ""). Caller frees.
 */
static char *
get(const char *path, const char *token, const char *extra)
{
	char	*req, *resp;

	xasprintf(&req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Connection: close\r\n%s%s%s%s\r\n", path, port,
	    token != NULL ? "Authorization: Bearer " : "",
	    token != NULL ? token : "", token != NULL ? "\r\n" : "", extra);
	resp = exchange(port, req);
	free(req);
	return (resp);
}

/* A response's status code, or -1 if it has no status line. */
static int
status_of(const char *resp)
{
	int	code;

	if (sscanf(resp, "HTTP/1.%*d %d", &code) != 1)
		return (-1);
	return (code);
}

/* The value of header name in resp (caller frees), or NULL. */
static char *
header_of(const char *resp, const char *name)
{
	const char	*line, *end, *headers_end;
	size_t		 nlen = strlen(name);

	headers_end = strstr(resp, "\r\n\r\n");
	for (line = strstr(resp, "\r\n"); line != NULL && line < headers_end;
	    line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, name, nlen) == 0 &&
		    line[2 + nlen] == ':') {
			line += 2 + nlen + 1;
			while (*line == ' ')
				line++;
			end = strstr(line, "\r\n");
			return (xstrndup(line, (size_t)(end - line)));
		}
	}
	return (NULL);
}

/* A response's body (inside resp), or "". */
static const char *
body_of(const char *resp)
{
	const char	*p = strstr(resp, "\r\n\r\n");

	return (p != NULL ? p + 4 : "");
}

/*
 * Run argv with input on its stdin; its exit status (as from waitpid)
 * and what it wrote to stdout and stderr (caller frees).
 */
static int
run(char *const argv[], const char *input, char **out)
{
	char	 buf[4096];
	FILE	*mem;
	size_t	 size = 0, left;
	ssize_t	 n;
	pid_t	 pid;
	int	 in[2], o[2], status;

	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(o, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(o[1], STDOUT_FILENO);
		dup2(o[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	/* The inputs here are small: a pipe holds them whole. */
	left = input != NULL ? strlen(input) : 0;
	while (left > 0 && (n = write(in[1], input, left)) > 0) {
		input += n;
		left -= (size_t)n;
	}
	close(in[1]);
	ck_assert_ptr_nonnull(mem = open_memstream(out, &size));
	while ((n = read(o[0], buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, mem);
	fclose(mem);
	close(o[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return (status);
}

/* The broker members of a config listening on port with file's tokens. */
static char *
http_broker(int p, const char *file, const char *more)
{
	char	*text;

	xasprintf(&text, "\"log_level\":\"debug\",\"http\":{\"listen\":"
	    "[\"127.0.0.1:%d\"],\"tokens_file\":\"%s\"%s}", p, file, more);
	return (text);
}

/* Start a daemon listening on a fresh port with broker members extra. */
static void
start_with(const char *more, const char *broker_more)
{
	char	*broker, *all;

	port = harness_free_port();
	broker = http_broker(port, tokens, more);
	xasprintf(&all, "%s%s", broker, broker_more);
	d = daemon_start(all, "");
	free(all);
	free(broker);
	ck_assert_msg(wait_log(d, 5000, "listening for HTTP on", NULL),
	    "the daemon does not say it listens for HTTP");
}

/* Fixture: a tokens file of root and nobody. */
static void
setup_tokens(void)
{
	snprintf(dir, sizeof dir, "/tmp/mcpb-http.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tokens, sizeof tokens, "%s/tokens", dir);
	write_tokens(tokens, "# who may scrape\n\nroot " ADMIN_TOKEN "\n"
	    "nobody\t" NOBODY_TOKEN "\n", 0600);
}

/* Fixture: the tokens and a daemon listening on a fresh port. */
static void
setup(void)
{
	setup_tokens();
	start_with("", "");
}

/* Remove the fixture's directory and what it holds. */
static void
remove_dir(void)
{
	char	*argv[] = { "rm", "-rf", dir, NULL }, *out;

	run(argv, NULL, &out);
	free(out);
}

/* Stop the daemon (it must exit 0) and remove the directory. */
static void
teardown(void)
{
	if (d != NULL)
		daemon_stop_ok(d);
	d = NULL;
	remove_dir();
}

START_TEST(test_no_token_gets_401_with_a_bearer_challenge)
{
	char	*resp, *challenge;

	resp = get("/metrics", NULL, "");
	ck_assert_int_eq(status_of(resp), 401);
	ck_assert_ptr_nonnull(challenge = header_of(resp, "WWW-Authenticate"));
	ck_assert_msg(strncmp(challenge, "Bearer", 6) == 0, "challenge: %s",
	    challenge);
	free(challenge);
	free(resp);

	/* Before any other check: an unknown path says nothing either. */
	resp = get("/nowhere", NULL, "Origin: http://evil.example\r\n");
	ck_assert_int_eq(status_of(resp), 401);
	free(resp);
}
END_TEST

START_TEST(test_wrong_token_gets_401_and_is_never_logged)
{
	char	*resp;

	resp = get("/metrics", OTHER_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 401);
	free(resp);
	/* A token's prefix is not the token. */
	resp = get("/metrics", "admin-0123456789abcdef", "");
	ck_assert_int_eq(status_of(resp), 401);
	free(resp);
	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);

	ck_assert(wait_log(d, 2000, "GET /metrics: 401", NULL));
	ck_assert(wait_log(d, 2000, "GET /metrics: 200 (uid 0)", NULL));
	ck_assert_msg(!file_contains(d->log, OTHER_TOKEN) &&
	    !file_contains(d->log, ADMIN_TOKEN), "a token is in the log");
}
END_TEST

START_TEST(test_non_admin_token_gets_403_on_metrics)
{
	char	*resp;

	resp = get("/metrics", NOBODY_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 403);
	ck_assert_ptr_null(strstr(resp, "# EOF"));
	free(resp);
	ck_assert(wait_log(d, 2000, "GET /metrics: 403 (uid 65534)", NULL));
}
END_TEST

START_TEST(test_foreign_origin_gets_403_and_loopback_origins_pass)
{
	char	*resp;

	resp = get("/metrics", ADMIN_TOKEN, "Origin: http://evil.example\r\n");
	ck_assert_int_eq(status_of(resp), 403);
	free(resp);
	/* A loopback name inside a foreign one is still foreign. */
	resp = get("/metrics", ADMIN_TOKEN,
	    "Origin: http://localhost.evil.example\r\n");
	ck_assert_int_eq(status_of(resp), 403);
	free(resp);

	resp = get("/metrics", ADMIN_TOKEN, "Origin: http://localhost:1234\r\n");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
	resp = get("/metrics", ADMIN_TOKEN, "Origin: http://127.0.0.9\r\n");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
	resp = get("/metrics", ADMIN_TOKEN, "Origin: https://[::1]:8443\r\n");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
}
END_TEST

START_TEST(test_allowed_origins_admits_a_listed_site)
{
	char	*resp;

	daemon_stop_ok(d);
	start_with(",\"allowed_origins\":[\"https://grafana.example\"]", "");
	resp = get("/metrics", ADMIN_TOKEN,
	    "Origin: https://grafana.example\r\n");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
	resp = get("/metrics", ADMIN_TOKEN, "Origin: http://evil.example\r\n");
	ck_assert_int_eq(status_of(resp), 403);
	free(resp);
}
END_TEST

START_TEST(test_unknown_path_gets_404_and_other_methods_405)
{
	char	*resp, *allow, *req;

	resp = get("/mcp/fake/t1", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 404);
	free(resp);

	xasprintf(&req, "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: "
	    "close\r\nAuthorization: Bearer %s\r\nContent-Length: 2\r\n\r\n"
	    "{}", ADMIN_TOKEN);
	resp = exchange(port, req);
	ck_assert_int_eq(status_of(resp), 405);
	ck_assert_ptr_nonnull(allow = header_of(resp, "Allow"));
	ck_assert_str_eq(allow, "GET");
	free(allow);
	free(resp);
	free(req);
}
END_TEST

START_TEST(test_headers_over_the_bound_get_an_error_and_serving_goes_on)
{
	char	*pad, *req, *resp;
	int	 code;

	pad = xmalloc(HEADERS_MAX + 4096 + 1);
	memset(pad, 'a', HEADERS_MAX + 4096);
	pad[HEADERS_MAX + 4096] = '\0';
	xasprintf(&req, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: "
	    "Bearer %s\r\nX-Pad: %s\r\n\r\n", ADMIN_TOKEN, pad);
	resp = exchange(port, req);
	code = status_of(resp);
	ck_assert_msg(code == 400 || code == 413 || code == 431, "status %d "
	    "for %d bytes of headers", code, HEADERS_MAX + 4096);
	free(resp);
	free(req);

	/* Just under the bound is served. */
	pad[HEADERS_MAX - 512] = '\0';
	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
	xasprintf(&req, "X-Pad: %s\r\n", pad);
	resp = get("/metrics", ADMIN_TOKEN, req);
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
	free(req);
	free(pad);
}
END_TEST

START_TEST(test_admin_gets_openmetrics_that_promtool_accepts)
{
	char	*argv[] = { "promtool", "check", "metrics", NULL };
	char	*resp, *type, *out;
	const char *body;
	size_t	 len;
	int	 status;

	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	ck_assert_ptr_nonnull(type = header_of(resp, "Content-Type"));
	ck_assert_str_eq(type, "application/openmetrics-text; version=1.0.0; "
	    "charset=utf-8");
	free(type);
	body = body_of(resp);
	len = strlen(body);
	ck_assert_msg(len >= 6 && strcmp(body + len - 6, "# EOF\n") == 0,
	    "the body does not end with # EOF: %s", body);

	status = run(argv, body, &out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "promtool check metrics failed (status %d): %s", status, out);
	free(out);

	/* A body promtool refuses makes it fail: the check can fail. */
	status = run(argv, "# TYPE x counter\nx{ 1\n# EOF\n", &out);
	ck_assert_msg(!WIFEXITED(status) || WEXITSTATUS(status) != 0,
	    "promtool accepted a broken body: %s", out);
	free(out);
	free(resp);
}
END_TEST

/*
 * Ask Prometheus at pport for query; the first result's value (caller
 * frees), or NULL if there is none yet.
 */
static char *
prometheus_value(int pport, const char *query)
{
	char	*req, *resp, *value = NULL;
	cJSON	*root, *result, *v;

	int	 fd;

	/* Not listening yet is not an answer yet. */
	if ((fd = tcp_try_connect(pport)) == -1)
		return (NULL);
	xasprintf(&req, "GET /api/v1/query?query=%s HTTP/1.1\r\nHost: "
	    "127.0.0.1\r\nConnection: close\r\n\r\n", query);
	send_all(fd, req, strlen(req));
	resp = read_all(fd, EXCHANGE_MS);
	close(fd);
	free(req);
	if (status_of(resp) == 200 &&
	    (root = cJSON_Parse(body_of(resp))) != NULL) {
		result = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"),
		    "result");
		v = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		    result, 0), "value"), 1);
		if (cJSON_IsString(v))
			value = xstrdup(v->valuestring);
		cJSON_Delete(root);
	}
	free(resp);
	return (value);
}

/* Poll query at Prometheus until its value is want (NULL: any). */
static int
prometheus_wait(int pport, const char *query, const char *want)
{
	long	 deadline = now_ms() + PROMETHEUS_MS;
	char	*value;
	int	 ok;

	for (;;) {
		value = prometheus_value(pport, query);
		ok = value != NULL && (want == NULL || strcmp(value, want) == 0);
		free(value);
		if (ok)
			return (1);
		if (now_ms() > deadline)
			return (0);
		sleep_ms(250);
	}
}

START_TEST(test_prometheus_scrapes_metrics_with_a_credentials_file)
{
	char	 conf[128], cred[128], data[128], plog[128], text[1024];
	char	 flag_conf[160], flag_data[160], flag_web[64];
	char	*argv[6];
	pid_t	 pid;
	int	 pport, fd, status;

	snprintf(conf, sizeof conf, "%s/prometheus.yml", dir);
	snprintf(cred, sizeof cred, "%s/prometheus.token", dir);
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(plog, sizeof plog, "%s/prometheus.log", dir);
	write_tokens(cred, ADMIN_TOKEN "\n", 0600);
	snprintf(text, sizeof text,
	    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
	    "scrape_configs:\n  - job_name: mcp-broker\n"
	    "    metrics_path: /metrics\n"
	    "    authorization:\n      credentials_file: %s\n"
	    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
	    cred, port);
	write_tokens(conf, text, 0644);

	pport = harness_free_port();
	snprintf(flag_conf, sizeof flag_conf, "--config.file=%s", conf);
	snprintf(flag_data, sizeof flag_data, "--storage.tsdb.path=%s", data);
	snprintf(flag_web, sizeof flag_web,
	    "--web.listen-address=127.0.0.1:%d", pport);
	argv[0] = "prometheus";
	argv[1] = flag_conf;
	argv[2] = flag_data;
	argv[3] = flag_web;
	argv[4] = NULL;
	fflush(stdout);
	fflush(stderr);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		/* A failing test must not leave it running. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(plog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}

	ck_assert_msg(prometheus_wait(pport, "up%7Bjob%3D%22mcp-broker%22%7D",
	    "1"), "Prometheus never scraped the broker (up != 1); see %s",
	    plog);
	ck_assert(wait_log(d, 2000, "GET /metrics: 200 (uid 0)", NULL));
	/* The broker's own series, as Prometheus stored them. */
	ck_assert_msg(prometheus_wait(pport, "mcp_broker_requests_total",
	    NULL), "Prometheus has no mcp_broker_requests_total");
	ck_assert_msg(prometheus_wait(pport, "mcp_broker_max_sessions"
	    "%7Bjob%3D%22mcp-broker%22%7D", NULL), "Prometheus has no "
	    "mcp_broker_max_sessions");
	/* A scrape with a wrong token is down: the check can fail. */
	write_tokens(cred, OTHER_TOKEN "\n", 0600);
	ck_assert_msg(prometheus_wait(pport, "up%7Bjob%3D%22mcp-broker%22%7D",
	    "0"), "a scrape with a wrong token still counts as up");

	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}
END_TEST

START_TEST(test_slow_client_does_not_block_another)
{
	char	*resp;
	int	 slow;
	long	 start;

	slow = tcp_connect(port);
	send_all(slow, "GET /metrics HTTP/1.1\r\nHost: 12", 32);

	start = now_ms();
	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	ck_assert_msg(now_ms() - start < 2000, "the other client waited %ld "
	    "ms", now_ms() - start);
	free(resp);

	/* The slow one is only slow: it is served once it finishes. */
	send_all(slow, "7.0.0.1\r\nConnection: close\r\nAuthorization: "
	    "Bearer " ADMIN_TOKEN "\r\n\r\n", strlen("7.0.0.1\r\nConnection: "
	    "close\r\nAuthorization: Bearer " ADMIN_TOKEN "\r\n\r\n"));
	resp = read_all(slow, EXCHANGE_MS);
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
	close(slow);
}
END_TEST

START_TEST(test_idle_connection_closes_after_idle_timeout)
{
	char	*resp;
	long	 start;
	int	 fd;

	daemon_stop_ok(d);
	start_with(",\"idle_timeout_s\":1", "");
	fd = tcp_connect(port);
	start = now_ms();
	resp = read_all(fd, 6000);
	ck_assert_msg(now_ms() - start < 4000, "an idle connection stayed "
	    "open %ld ms with idle_timeout_s 1", now_ms() - start);
	ck_assert_msg(now_ms() - start >= 800, "closed after %ld ms, before "
	    "idle_timeout_s", now_ms() - start);
	free(resp);
	close(fd);
}
END_TEST

/*
 * Send one keep-alive request with the admin's token on fd and read its
 * answer (a short /metrics: read until a quiet moment); its status.
 */
static int
keepalive_get(int fd, const char *path)
{
	char	*req, *resp;
	int	 code;

	xasprintf(&req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	    "Authorization: Bearer " ADMIN_TOKEN "\r\n\r\n", path, port);
	send_all(fd, req, strlen(req));
	free(req);
	resp = read_all(fd, 500);
	code = status_of(resp);
	free(resp);
	return (code);
}

/*
 * A TCP connection counts toward max_clients from its first request
 * with a valid token; past the bound that request gets 503 naming it.
 */
START_TEST(test_connections_count_toward_max_clients)
{
	struct client	*unix_client;
	cJSON		*st;
	char		*resp;
	int		 a, b, code = 0, i;

	daemon_stop_ok(d);
	start_with("", ",\"max_clients\":2");
	/* The harness's probe of the socket was a client too. */
	ck_assert(wait_log(d, 2000, "client 1: dropped", NULL));
	a = tcp_connect(port);
	b = tcp_connect(port);
	ck_assert_int_eq(keepalive_get(a, "/nosuch"), 404);
	ck_assert_int_eq(keepalive_get(b, "/nosuch"), 404);

	/* The socket's clients and HTTP's are counted together (root
	   still gets in: the admin reserve). */
	unix_client = daemon_connect(d);
	st = rpc(unix_client, "broker/status", "{}");
	ck_assert_int_eq((int)json_number(result_of(st), "clients"), 3);
	cJSON_Delete(st);
	client_close(unix_client);
	ck_assert(wait_log(d, 2000, "client 2: dropped", NULL));

	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 503);
	ck_assert_ptr_nonnull(strstr(resp, "max_clients"));
	free(resp);
	ck_assert(wait_log(d, 2000, "max_clients (2) reached", NULL));

	/* One gone makes room again. */
	close(a);
	for (i = 0; i < 50 && code != 200; i++) {
		sleep_ms(50);
		resp = get("/metrics", ADMIN_TOKEN, "");
		code = status_of(resp);
		free(resp);
	}
	ck_assert_int_eq(code, 200);
	close(b);
}
END_TEST

/*
 * Connections without a token never take a client's place: they count
 * toward HTTP_MAX_UNSERVED only; past it the oldest of them is closed
 * for the newcomer, so a client with a token still gets in; and each is
 * closed HTTP_FIRST_REQUEST_S after it came.
 */
START_TEST(test_connections_without_a_token_take_no_clients_place)
{
	struct client	*unix_client;
	cJSON		*st;
	char		*resp;
	int		 fds[HTTP_MAX_UNSERVED], i;
	long		 start;

	daemon_stop_ok(d);
	start_with("", ",\"max_clients\":2");
	ck_assert(wait_log(d, 2000, "client 1: dropped", NULL));
	for (i = 0; i < HTTP_MAX_UNSERVED; i++) {
		fds[i] = tcp_connect(port);
		/* Half a request line, trickled: no token yet. */
		send_all(fds[i], "GET /met", 8);
	}
	sleep_ms(300);
	unix_client = daemon_connect(d);
	st = rpc(unix_client, "broker/status", "{}");
	ck_assert_int_eq((int)json_number(result_of(st), "clients"), 1);
	cJSON_Delete(st);
	client_close(unix_client);

	/* A client with a token gets in: the oldest idle one goes. */
	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
	start = now_ms();
	free(read_all(fds[0], 2000));
	ck_assert_msg(now_ms() - start < 1500, "the oldest connection "
	    "without a token was not closed for the newcomer");

	/* None of the others is let stay: all closed by the deadline. */
	free(read_all(fds[1], (HTTP_FIRST_REQUEST_S + 3) * 1000));
	ck_assert(wait_log(d, 2000, "HTTP_FIRST_REQUEST_S", NULL));
	for (i = 0; i < HTTP_MAX_UNSERVED; i++)
		close(fds[i]);
	ck_assert_msg(daemon_alive(d), "the daemon died");
}
END_TEST

START_TEST(test_reload_rereads_the_tokens_file)
{
	char	*resp;

	write_tokens(tokens, "root " OTHER_TOKEN "\n", 0600);
	kill(d->pid, SIGHUP);
	ck_assert(wait_log(d, 5000, "reloaded", NULL));
	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 401);
	free(resp);
	resp = get("/metrics", OTHER_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);

	/* A tokens file gone loose changes nothing. */
	write_tokens(tokens, "root " ADMIN_TOKEN "\n", 0644);
	kill(d->pid, SIGHUP);
	ck_assert(wait_log(d, 5000, "mode 0600 or stricter", NULL));
	resp = get("/metrics", OTHER_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
}
END_TEST

START_TEST(test_reload_keeps_the_listeners_and_says_so)
{
	char	*broker, *text, *resp;
	int	 other = harness_free_port();

	broker = http_broker(other, tokens, "");
	text = config_text(broker, "");
	daemon_write_config(d, text);
	free(text);
	free(broker);
	kill(d->pid, SIGHUP);
	ck_assert(wait_log(d, 5000, "broker.http.listen change takes effect "
	    "at the next start", NULL));
	ck_assert(wait_log(d, 5000, "reloaded", NULL));
	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
	ck_assert_int_eq(tcp_try_connect(other), -1);
}
END_TEST

/*
 * A reload that drops the http section would leave the listeners (open
 * until the next start) without tokens: it is refused, and they go on
 * serving with the tokens they had.
 */
START_TEST(test_a_reload_that_would_orphan_the_listeners_is_refused)
{
	struct client	*c;
	cJSON		*r;
	char		*text, *resp, *data;

	text = config_text("", "");
	daemon_write_config(d, text);
	free(text);
	c = daemon_connect(d);
	r = rpc(c, "broker/reload", NULL);
	ck_assert_int_eq(error_code(r), -32018);
	data = cJSON_PrintUnformatted(error_data(r));
	ck_assert_msg(strstr(data, "broker.http.tokens_file: the listeners "
	    "stay open") != NULL, "%s", data);
	free(data);
	cJSON_Delete(r);
	client_close(c);
	resp = get("/metrics", ADMIN_TOKEN, "");
	ck_assert_int_eq(status_of(resp), 200);
	free(resp);
}
END_TEST

/* mcp-brokerd --check-config on the config text; status and output. */
static int
check_config(const char *broker, char **out)
{
	char	 path[128], *text;
	char	*argv[5];
	int	 status;

	snprintf(path, sizeof path, "%s/broker.json", dir);
	text = config_text(broker, "");
	write_tokens(path, text, 0644);
	free(text);
	argv[0] = (char *)harness_build_path("mcp-brokerd");
	argv[1] = "--check-config";
	argv[2] = "--config";
	argv[3] = path;
	argv[4] = NULL;
	status = run(argv, NULL, out);
	return (status);
}

/* Expect --check-config to refuse broker, saying each of the needles. */
static void
check_refused(const char *broker, const char *needle, const char *needle2)
{
	char	*out;
	int	 status;

	status = check_config(broker, &out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0,
	    "accepted: %s", broker);
	ck_assert_msg(strstr(out, needle) != NULL && (needle2 == NULL ||
	    strstr(out, needle2) != NULL), "'%s' / '%s' not in: %s", needle,
	    needle2 != NULL ? needle2 : "", out);
	free(out);
}

START_TEST(test_check_config_accepts_a_good_listener)
{
	char	*broker, *out;
	int	 status;

	broker = http_broker(8089, tokens, "");
	status = check_config(broker, &out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "refused: %s", out);
	free(out);
	free(broker);
}
END_TEST

START_TEST(test_check_config_refuses_a_listen_without_tokens_file)
{
	check_refused("\"http\":{\"listen\":[\"127.0.0.1:8089\"]}",
	    "broker.http.tokens_file", "required");
}
END_TEST

START_TEST(test_check_config_refuses_a_loose_tokens_file)
{
	char	*broker;

	broker = http_broker(8089, tokens, "");
	write_tokens(tokens, "root " ADMIN_TOKEN "\n", 0640);
	check_refused(broker, tokens, "0600");
	write_tokens(tokens, "root " ADMIN_TOKEN "\n", 0604);
	check_refused(broker, tokens, "0600");
	/* Owned by another user, even at 0600. */
	write_tokens(tokens, "root " ADMIN_TOKEN "\n", 0600);
	ck_assert_int_eq(chown(tokens, 65534, 65534), 0);
	check_refused(broker, tokens, "owned by");
	free(broker);
}
END_TEST

START_TEST(test_check_config_refuses_a_remote_listen_without_allow_remote)
{
	char	*out, text[512];
	int	 status;

	snprintf(text, sizeof text, "\"http\":{\"listen\":[\"127.0.0.1:8089\","
	    "\"0.0.0.0:8089\"],\"tokens_file\":\"%s\"}", tokens);
	check_refused(text, "broker.http.listen[1]", "allow_remote");

	/* With allow_remote it is the operator's choice. */
	snprintf(text, sizeof text, "\"http\":{\"listen\":[\"0.0.0.0:8089\"],"
	    "\"allow_remote\":true,\"tokens_file\":\"%s\"}", tokens);
	status = check_config(text, &out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "refused: %s", out);
	free(out);
}
END_TEST

START_TEST(test_check_config_refuses_bad_keys_and_lines)
{
	char	 text[512];

	check_refused("\"http\":{\"listen\":\"127.0.0.1:8089\"}",
	    "broker.http.listen", "array");
	check_refused("\"http\":{\"port\":8089}", "broker.http.port",
	    "unknown key");
	check_refused("\"http\":{\"listen\":[\"127.0.0.1\"]}",
	    "broker.http.listen[0]", "HOST:PORT");
	write_tokens(tokens, "root short\n", 0600);
	snprintf(text, sizeof text, "\"http\":{\"tokens_file\":\"%s\"}",
	    tokens);
	check_refused(text, "line 1", "16");
	write_tokens(tokens, "no-such-user-here " ADMIN_TOKEN "\n", 0600);
	check_refused(text, "line 1", "no such user");
}
END_TEST

/* The suite. */
static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = harness_add_tcase(s, "auth", setup, teardown, 30);
	tcase_add_test(tc, test_no_token_gets_401_with_a_bearer_challenge);
	tcase_add_test(tc, test_wrong_token_gets_401_and_is_never_logged);
	tcase_add_test(tc, test_non_admin_token_gets_403_on_metrics);
	tcase_add_test(tc,
	    test_foreign_origin_gets_403_and_loopback_origins_pass);
	tcase_add_test(tc, test_allowed_origins_admits_a_listed_site);
	tcase_add_test(tc, test_unknown_path_gets_404_and_other_methods_405);
	tcase_add_test(tc, test_reload_rereads_the_tokens_file);
	tcase_add_test(tc, test_reload_keeps_the_listeners_and_says_so);
	tcase_add_test(tc,
	    test_a_reload_that_would_orphan_the_listeners_is_refused);

	tc = harness_add_tcase(s, "bounds", setup, teardown, 30);
	tcase_add_test(tc,
	    test_headers_over_the_bound_get_an_error_and_serving_goes_on);
	tcase_add_test(tc, test_slow_client_does_not_block_another);
	tcase_add_test(tc, test_idle_connection_closes_after_idle_timeout);
	tcase_add_test(tc, test_connections_count_toward_max_clients);
	tcase_add_test(tc,
	    test_connections_without_a_token_take_no_clients_place);

	tc = harness_add_tcase(s, "metrics", setup, teardown, 90);
	tcase_add_test(tc, test_admin_gets_openmetrics_that_promtool_accepts);
	tcase_add_test(tc,
	    test_prometheus_scrapes_metrics_with_a_credentials_file);

	tc = harness_add_tcase(s, "check-config", setup_tokens, remove_dir,
	    30);
	tcase_add_test(tc, test_check_config_accepts_a_good_listener);
	tcase_add_test(tc,
	    test_check_config_refuses_a_listen_without_tokens_file);
	tcase_add_test(tc, test_check_config_refuses_a_loose_tokens_file);
	tcase_add_test(tc,
	    test_check_config_refuses_a_remote_listen_without_allow_remote);
	tcase_add_test(tc, test_check_config_refuses_bad_keys_and_lines);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(http_suite()));
}
