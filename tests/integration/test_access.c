/*
 * Access control: sessions belong to the peer's uid, so one thread name
 * from two users reaches two children; non-admins see and close only their
 * own sessions, admins (root, the daemon's own user, admin_group) all of
 * them; broker/reload is for admins; allow_uids and allow_groups are
 * checked at accept; the socket file gets socket_mode and socket_group;
 * and a child inherits only PATH, HOME, LANG and TZ of the daemon's
 * environment, plus its configured env with ${VAR} expanded.
 *
 * The tests run as root. A client of another user is an agent: a forked
 * process that drops to that user's uid, gid and supplementary groups for
 * good, connects to the broker, and runs what the test sends it over a
 * pipe, answering each command with one JSON line. The assertions stay in
 * the test's own process.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "xmalloc.h"

/* Two unprivileged users: nobody, and a uid with no passwd entry. */
#define NOBODY_UID	65534
#define OTHER_UID	65533
/* A third user, for admin_group membership. */
#define THIRD_UID	65532
/* The user a daemon runs as in the tests of "the daemon's own user". */
#define DAEMON_UID	65530
/* admin_group in the fixtures. */
#define ADMIN_GID	4242
/* allow_groups, and socket_group, in the fixtures. */
#define MEMBER_GID	4243
/* More supplementary groups than the daemon reads at accept (256). */
#define MANY_GROUPS	300
/* Each step of the close escalation in the fixtures. */
#define GRACE_MS	300
/* How long a test waits for a closed session's process to go. */
#define GONE_MS		3000
/* How long an agent waits for a refused connection's line and EOF. */
#define REFUSE_MS	3000
/* The one server of most fixtures. */
#define FAKE		"\"fake\":{\"command\":\"@FAKE@\"}"

/* A client process running as another user. */
struct agent {
	pid_t	 pid;
	uid_t	 uid;
	FILE	*to;		/* commands, one JSON line each */
	FILE	*from;		/* answers, one JSON line each */
};

static struct daemon	*d;

/* ---- The agent's side (after fork; no check calls in here). ---- */

/* Send one answer line to the test; takes msg. */
static void
agent_answer(FILE *out, cJSON *msg)
{
	char	*text;

	text = cJSON_PrintUnformatted(msg);
	fprintf(out, "%s\n", text);
	fflush(out);
	free(text);
	cJSON_Delete(msg);
}

/* An answer saying what failed, with errno if there is one. */
static cJSON *
agent_failure(const char *cause, int err)
{
	cJSON	*o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", cause != NULL ? cause : "?");
	if (err != 0)
		cJSON_AddNumberToObject(o, "errno", err);
	return (o);
}

/* The errno of a plain connect to path, 0 if it connects. */
static int
agent_probe(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, err = 0;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return (ENAMETOOLONG);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (errno);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		err = errno;
	close(fd);
	return (err);
}

/* Who the agent is now: {"uid","euid","gid","egid","groups":[…]}. */
static cJSON *
agent_identity(void)
{
	gid_t	*groups;
	cJSON	*o, *list;
	int	 n, i;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "uid", getuid());
	cJSON_AddNumberToObject(o, "euid", geteuid());
	cJSON_AddNumberToObject(o, "gid", getgid());
	cJSON_AddNumberToObject(o, "egid", getegid());
	list = cJSON_AddArrayToObject(o, "groups");
	n = getgroups(0, NULL);
	groups = xcalloc((size_t)(n > 0 ? n : 1), sizeof *groups);
	n = getgroups(n, groups);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(list, cJSON_CreateNumber(groups[i]));
	free(groups);
	return (o);
}

/*
 * Run the test's commands until it closes the pipe:
 *   {"op":"connect","socket":P}  → {"ok":true} or {"error","errno"?}
 *   {"op":"call","method":M,"params"?:P} → {"response":R} or {"error"}
 *   {"op":"recv","timeout_ms":N} → {"message":R} or {"error"}
 */
static void __attribute__((noreturn))
agent_serve(int in, int out)
{
	struct client	*c = NULL;
	FILE		*rf, *wf;
	cJSON		*cmd, *reply, *r, *params;
	const char	*op, *s;
	char		*line = NULL, *cause;
	size_t		 cap = 0;
	int		 ms;

	if ((rf = fdopen(in, "r")) == NULL || (wf = fdopen(out, "w")) == NULL)
		_exit(2);
	agent_answer(wf, agent_identity());
	while (getline(&line, &cap, rf) > 0) {
		cmd = cJSON_Parse(line);
		op = cJSON_GetStringValue(cJSON_GetObjectItem(cmd, "op"));
		cause = NULL;
		reply = NULL;
		if (op == NULL)
			reply = agent_failure("bad command", 0);
		else if (strcmp(op, "connect") == 0) {
			client_close(c);
			s = cJSON_GetStringValue(cJSON_GetObjectItem(cmd,
			    "socket"));
			if ((c = client_connect(s, &cause)) == NULL)
				reply = agent_failure(cause, agent_probe(s));
			else {
				reply = cJSON_CreateObject();
				cJSON_AddTrueToObject(reply, "ok");
			}
		} else if (c == NULL)
			reply = agent_failure("not connected", 0);
		else if (strcmp(op, "call") == 0) {
			s = cJSON_GetStringValue(cJSON_GetObjectItem(cmd,
			    "method"));
			params = cJSON_GetObjectItem(cmd, "params");
			r = client_call(c, s, params != NULL ?
			    cJSON_Duplicate(params, 1) : NULL,
			    HARNESS_TIMEOUT_MS, &cause);
			if (r == NULL)
				reply = agent_failure(cause, 0);
			else {
				reply = cJSON_CreateObject();
				cJSON_AddItemToObject(reply, "response", r);
			}
		} else if (strcmp(op, "recv") == 0) {
			ms = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cmd,
			    "timeout_ms"));
			if ((r = client_recv(c, ms, &cause)) == NULL)
				reply = agent_failure(cause, 0);
			else {
				reply = cJSON_CreateObject();
				cJSON_AddItemToObject(reply, "message", r);
			}
		} else
			reply = agent_failure("unknown op", 0);
		free(cause);
		cJSON_Delete(cmd);
		agent_answer(wf, reply);
	}
	client_close(c);
	_exit(0);
}

/* ---- The test's side. ---- */

/*
 * Start an agent as uid with primary group gid and the supplementary
 * groups given (n of them), and check it really is that user.
 */
static struct agent *
agent_start(uid_t uid, gid_t gid, const gid_t *groups, int n)
{
	struct agent	*a;
	cJSON		*who, *item;
	char		*line = NULL;
	size_t		 cap = 0;
	pid_t		 parent = getpid();
	int		 to[2], from[2], in, out, i, found;

	/* A dead agent must fail the test, not kill it with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe2(to, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(from, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	a = xcalloc(1, sizeof *a);
	a->uid = uid;
	a->pid = fork();
	ck_assert_int_ne(a->pid, -1);
	if (a->pid == 0) {
		/* Only this agent's own pipe ends stay open: another
		   agent's copy would keep that agent's pipe from EOF. */
		if ((in = fcntl(to[0], F_DUPFD, 64)) == -1 ||
		    (out = fcntl(from[1], F_DUPFD, 64)) == -1 ||
		    dup2(in, 3) == -1 || dup2(out, 4) == -1)
			_exit(2);
		close_range(5, ~0U, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(2);
		if (setgroups((size_t)n, groups) == -1 || setgid(gid) == -1 ||
		    setuid(uid) == -1)
			_exit(3);
		agent_serve(3, 4);
	}
	close(to[0]);
	close(from[1]);
	ck_assert_ptr_nonnull(a->to = fdopen(to[1], "w"));
	ck_assert_ptr_nonnull(a->from = fdopen(from[0], "r"));

	ck_assert_msg(getline(&line, &cap, a->from) > 0, "the agent for uid "
	    "%ld could not become that user", (long)uid);
	ck_assert_ptr_nonnull(who = cJSON_Parse(line));
	free(line);
	ck_assert_int_eq((long)cJSON_GetNumberValue(cJSON_GetObjectItem(who,
	    "uid")), (long)uid);
	ck_assert_int_eq((long)cJSON_GetNumberValue(cJSON_GetObjectItem(who,
	    "euid")), (long)uid);
	ck_assert_int_eq((long)cJSON_GetNumberValue(cJSON_GetObjectItem(who,
	    "gid")), (long)gid);
	ck_assert_int_eq((long)cJSON_GetNumberValue(cJSON_GetObjectItem(who,
	    "egid")), (long)gid);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(who,
	    "groups")), n);
	for (i = 0; i < n; i++) {
		found = 0;
		cJSON_ArrayForEach(item, cJSON_GetObjectItem(who, "groups")) {
			if ((gid_t)item->valuedouble == groups[i])
				found = 1;
		}
		ck_assert_msg(found, "agent lacks group %ld", (long)groups[i]);
	}
	cJSON_Delete(who);
	return (a);
}

/* Send the agent one command (taken) and return its answer. */
static cJSON *
agent_ask(struct agent *a, cJSON *cmd)
{
	cJSON	*reply;
	char	*text, *line = NULL;
	size_t	 cap = 0;

	text = cJSON_PrintUnformatted(cmd);
	cJSON_Delete(cmd);
	ck_assert_msg(fprintf(a->to, "%s\n", text) > 0 && fflush(a->to) == 0,
	    "the agent for uid %ld is gone", (long)a->uid);
	free(text);
	ck_assert_msg(getline(&line, &cap, a->from) > 0, "the agent for uid "
	    "%ld did not answer", (long)a->uid);
	reply = cJSON_Parse(line);
	free(line);
	ck_assert_ptr_nonnull(reply);
	return (reply);
}

/* Have the agent connect to path; 0, or the errno of its connect. */
static int
agent_connect_errno(struct agent *a, const char *path)
{
	cJSON	*cmd, *reply, *err;
	int	 e = 0;

	cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "op", "connect");
	cJSON_AddStringToObject(cmd, "socket", path);
	reply = agent_ask(a, cmd);
	if (!cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok"))) {
		err = cJSON_GetObjectItem(reply, "errno");
		ck_assert_msg(cJSON_IsNumber(err), "uid %ld cannot connect, "
		    "but no errno: %s", (long)a->uid, cJSON_GetStringValue(
		    cJSON_GetObjectItem(reply, "error")));
		e = err->valueint;
	}
	cJSON_Delete(reply);
	return (e);
}

/* An agent as uid (gid, groups) connected to the daemon's socket. */
static struct agent *
user(uid_t uid, gid_t gid, const gid_t *groups, int n)
{
	struct agent	*a;
	int		 e;

	a = agent_start(uid, gid, groups, n);
	e = agent_connect_errno(a, d->sock);
	ck_assert_msg(e == 0, "uid %ld cannot connect: %s", (long)uid,
	    strerror(e));
	return (a);
}

/* Root, as a client like the others. */
static struct agent *
root(void)
{
	return (user(0, 0, NULL, 0));
}

/* Close the agent's pipe; it closes its connection and must exit 0. */
static void
agent_stop(struct agent *a)
{
	int	status;

	fclose(a->to);
	ck_assert_int_eq(waitpid(a->pid, &status, 0), a->pid);
	fclose(a->from);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the agent for uid %ld ended with status %d", (long)a->uid,
	    status);
	free(a);
}

/*
 * The agent's call of method with params (JSON text, or NULL): the whole
 * response (caller frees), or NULL with *cause (caller frees) if there
 * was none.
 */
static cJSON *
agent_try(struct agent *a, const char *method, const char *params,
    char **cause)
{
	cJSON	*cmd, *reply, *r, *p;

	cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "op", "call");
	cJSON_AddStringToObject(cmd, "method", method);
	if (params != NULL) {
		ck_assert_msg((p = cJSON_Parse(params)) != NULL, "bad params "
		    "in test: %s", params);
		cJSON_AddItemToObject(cmd, "params", p);
	}
	reply = agent_ask(a, cmd);
	r = cJSON_DetachItemFromObject(reply, "response");
	*cause = r == NULL ? xstrdup(cJSON_GetStringValue(
	    cJSON_GetObjectItem(reply, "error"))) : NULL;
	cJSON_Delete(reply);
	return (r);
}

/*
 * The agent's call of method with params (JSON text, or NULL): the whole
 * response, which the caller frees. Fails the test on no answer.
 */
static cJSON *
agent_rpc(struct agent *a, const char *method, const char *params)
{
	cJSON	*r;
	char	*cause;

	r = agent_try(a, method, params, &cause);
	ck_assert_msg(r != NULL, "uid %ld: %s: %s", (long)a->uid, method,
	    cause);
	return (r);
}

/*
 * The agent's next message within ms: the message (caller frees), or NULL
 * with *cause (caller frees) saying why there was none.
 */
static cJSON *
agent_recv(struct agent *a, int ms, char **cause)
{
	cJSON	*cmd, *reply, *m;

	cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "op", "recv");
	cJSON_AddNumberToObject(cmd, "timeout_ms", ms);
	reply = agent_ask(a, cmd);
	m = cJSON_DetachItemFromObject(reply, "message");
	*cause = m == NULL ? xstrdup(cJSON_GetStringValue(
	    cJSON_GetObjectItem(reply, "error"))) : NULL;
	cJSON_Delete(reply);
	return (m);
}

/* tools/call tool on (server, thread) as the agent: the whole response. */
static cJSON *
agent_tool(struct agent *a, const char *server, const char *thread,
    const char *tool)
{
	char	params[512];

	snprintf(params, sizeof params, "{\"server\":\"%s\",\"thread\":\"%s\","
	    "\"name\":\"%s\",\"arguments\":{}}", server, thread, tool);
	return (agent_rpc(a, "tools/call", params));
}

/* Start (or reach) the agent's session for (server, thread); its pid. */
static pid_t
start_session(struct agent *a, const char *server, const char *thread)
{
	cJSON	*r;
	pid_t	 pid;

	r = agent_tool(a, server, thread, "pid");
	pid = pid_of(r);
	cJSON_Delete(r);
	ck_assert(pid_alive(pid));
	return (pid);
}

/* One more call of the counter tool on fake/thread: its count and pid. */
static int
counter(struct agent *a, const char *thread, pid_t *pid)
{
	cJSON	*r;
	int	 n;

	r = agent_tool(a, "fake", thread, "counter");
	n = count_of(r);
	*pid = pid_of(r);
	cJSON_Delete(r);
	return (n);
}

/* The sessions the agent's broker/status lists (caller frees). */
static cJSON *
status_sessions(struct agent *a)
{
	cJSON	*r, *list;

	r = agent_rpc(a, "broker/status", NULL);
	list = cJSON_DetachItemFromObject(result_of(r), "sessions");
	cJSON_Delete(r);
	ck_assert(cJSON_IsArray(list));
	return (list);
}

/* How many sessions in list belong to uid and have pid (0: any pid). */
static int
sessions_of(cJSON *list, uid_t uid, pid_t pid)
{
	cJSON	*s;
	int	 n = 0;

	cJSON_ArrayForEach(s, list) {
		if ((uid_t)json_number(s, "uid") == uid &&
		    (pid == 0 || (pid_t)json_number(s, "pid") == pid))
			n++;
	}
	return (n);
}

/* broker/close as the agent with params; returns "closed". */
static int
close_as(struct agent *a, const char *params)
{
	cJSON	*r;
	int	 closed;

	r = agent_rpc(a, "broker/close", params);
	closed = (int)json_number(result_of(r), "closed");
	cJSON_Delete(r);
	return (closed);
}

/* What broker/hello says of the agent: whether it is an admin. */
static int
is_admin(struct agent *a)
{
	cJSON	*r, *admin;
	int	 yes;

	r = agent_rpc(a, "broker/hello", "{\"capabilities\":{}}");
	ck_assert_int_eq((long)json_number(result_of(r), "uid"),
	    (long)a->uid);
	admin = cJSON_GetObjectItem(result_of(r), "admin");
	ck_assert(cJSON_IsBool(admin));
	yes = cJSON_IsTrue(admin);
	cJSON_Delete(r);
	return (yes);
}

/* broker/reload as the agent: 0 if it worked, else the error code. */
static int
reload_as(struct agent *a)
{
	cJSON	*r, *res;
	int	 code;

	r = agent_rpc(a, "broker/reload", NULL);
	if ((code = error_code(r)) == 0) {
		res = result_of(r);
		ck_assert(cJSON_IsArray(cJSON_GetObjectItem(res, "added")));
		ck_assert(cJSON_IsArray(cJSON_GetObjectItem(res, "removed")));
		ck_assert(cJSON_IsArray(cJSON_GetObjectItem(res, "changed")));
	}
	cJSON_Delete(r);
	return (code);
}

/* The reloads counter of broker/status, as root sees it. */
static int
reloads(void)
{
	struct agent	*r = root();
	cJSON		*s;
	int		 n;

	s = agent_rpc(r, "broker/status", NULL);
	n = (int)json_number(result_of(s), "counters.reloads");
	cJSON_Delete(s);
	agent_stop(r);
	return (n);
}

/*
 * Check that the agent's connection is refused the way the listener
 * refuses: one line, id null, error -32017, then EOF.
 */
static void
assert_refused(struct agent *a)
{
	cJSON	*m;
	char	*cause;

	m = agent_recv(a, REFUSE_MS, &cause);
	ck_assert_msg(m != NULL, "uid %ld: no refusal line: %s", (long)a->uid,
	    cause);
	ck_assert_int_eq(error_code(m), -32017);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(m, "id")));
	cJSON_Delete(m);
	m = agent_recv(a, REFUSE_MS, &cause);
	ck_assert_msg(m == NULL, "uid %ld: a second message after the "
	    "refusal", (long)a->uid);
	ck_assert_msg(strstr(cause, "closed") != NULL, "uid %ld: the "
	    "connection stayed open: %s", (long)a->uid, cause);
	free(cause);
}

/* Let other users reach the socket in the harness's 0700 directory. */
static void
open_dir(struct daemon *dd)
{
	ck_assert_int_eq(chmod(dd->dir, 0755), 0);
}

/* One fake server; other users may connect; admin_group ADMIN_GID. */
static void
setup_sessions(void)
{
	char	broker[256];

	snprintf(broker, sizeof broker, "\"socket_mode\":\"0666\","
	    "\"admin_group\":%d,\"shutdown_grace_ms\":%d", ADMIN_GID,
	    GRACE_MS);
	d = daemon_start(broker, FAKE);
	open_dir(d);
}

/* The broker members of the allow-list fixture, with allow_uids uids. */
static void
acl_broker(char *buf, size_t size, const char *uids)
{
	snprintf(buf, size, "\"socket_mode\":\"0666\",\"allow_uids\":%s,"
	    "\"allow_groups\":[%d],\"admin_group\":%d,"
	    "\"shutdown_grace_ms\":%d", uids, MEMBER_GID, ADMIN_GID, GRACE_MS);
}

/* allow_uids root and nobody, allow_groups MEMBER_GID. */
static void
setup_acl(void)
{
	char	broker[512];

	acl_broker(broker, sizeof broker, "[\"root\",65534]");
	d = daemon_start(broker, FAKE);
	open_dir(d);
}

/* A socket of mode 0660 in group MEMBER_GID. */
static void
setup_socket(void)
{
	char	broker[256];

	snprintf(broker, sizeof broker, "\"socket_mode\":\"0660\","
	    "\"socket_group\":%d", MEMBER_GID);
	d = daemon_start(broker, FAKE);
	open_dir(d);
}

static void
teardown(void)
{
	daemon_stop_ok(d);
}

/* ---- Sessions belong to their user. ---- */

START_TEST(test_same_thread_of_two_users_reaches_two_children)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	pid_t		 pa, pb, p;
	int		 zombies;

	ck_assert_int_eq(counter(a, "t", &pa), 1);
	ck_assert_int_eq(counter(b, "t", &pb), 1);
	ck_assert_msg(pa != pb, "uids %d and %d share child %ld", NOBODY_UID,
	    OTHER_UID, (long)pa);
	ck_assert_int_eq(children_of(d->pid, NULL, 0, &zombies), 2);

	/* Each child counts its own user's calls only. */
	ck_assert_int_eq(counter(a, "t", &p), 2);
	ck_assert_int_eq(p, pa);
	ck_assert_int_eq(counter(a, "t", &p), 3);
	ck_assert_int_eq(counter(b, "t", &p), 2);
	ck_assert_int_eq(p, pb);
	agent_stop(a);
	agent_stop(b);
}
END_TEST

START_TEST(test_user_status_lists_only_own_sessions)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	cJSON		*list;
	pid_t		 pa, pb1, pb2;

	pa = start_session(a, "fake", "t");
	pb1 = start_session(b, "fake", "t");
	pb2 = start_session(b, "fake", "u");

	list = status_sessions(a);
	ck_assert_int_eq(cJSON_GetArraySize(list), 1);
	ck_assert_int_eq(sessions_of(list, NOBODY_UID, pa), 1);
	cJSON_Delete(list);

	list = status_sessions(b);
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	ck_assert_int_eq(sessions_of(list, OTHER_UID, pb1), 1);
	ck_assert_int_eq(sessions_of(list, OTHER_UID, pb2), 1);
	cJSON_Delete(list);
	agent_stop(a);
	agent_stop(b);
}
END_TEST

START_TEST(test_root_status_lists_every_users_sessions)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	struct agent	*r = root();
	cJSON		*list;
	pid_t		 pa, pb;

	pa = start_session(a, "fake", "t");
	pb = start_session(b, "fake", "t");
	list = status_sessions(r);
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	ck_assert_int_eq(sessions_of(list, NOBODY_UID, pa), 1);
	ck_assert_int_eq(sessions_of(list, OTHER_UID, pb), 1);
	cJSON_Delete(list);
	agent_stop(a);
	agent_stop(b);
	agent_stop(r);
}
END_TEST

START_TEST(test_user_close_all_closes_only_own_sessions)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	cJSON		*list;
	pid_t		 pa, pb, p;

	ck_assert_int_eq(counter(a, "t", &pa), 1);
	ck_assert_int_eq(counter(b, "t", &pb), 1);

	ck_assert_int_eq(close_as(a, "{\"all\":true}"), 1);
	ck_assert_msg(wait_pid_gone(pa, GONE_MS), "pid %ld of uid %d still "
	    "alive", (long)pa, NOBODY_UID);
	ck_assert_msg(pid_alive(pb), "uid %d's close took uid %d's child",
	    NOBODY_UID, OTHER_UID);

	/* The other user's session kept its process and its state. */
	ck_assert_int_eq(counter(b, "t", &p), 2);
	ck_assert_int_eq(p, pb);
	list = status_sessions(b);
	ck_assert_int_eq(sessions_of(list, OTHER_UID, pb), 1);
	cJSON_Delete(list);
	agent_stop(a);
	agent_stop(b);
}
END_TEST

START_TEST(test_user_close_by_key_never_reaches_other_users_session)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	pid_t		 pb, p;

	ck_assert_int_eq(counter(b, "t", &pb), 1);
	ck_assert_int_eq(close_as(a, "{\"server\":\"fake\",\"thread\":\"t\"}"),
	    0);
	ck_assert_int_eq(close_as(a, "{\"thread\":\"t\"}"), 0);
	ck_assert_int_eq(close_as(a, "{\"server\":\"fake\"}"), 0);
	ck_assert_int_eq(close_as(a, "{\"all\":true}"), 0);
	ck_assert(pid_alive(pb));
	ck_assert_int_eq(counter(b, "t", &p), 2);
	ck_assert_int_eq(p, pb);
	agent_stop(a);
	agent_stop(b);
}
END_TEST

START_TEST(test_user_session_lookup_misses_other_users_key)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	const char	*params = "{\"server\":\"fake\",\"thread\":\"t\"}";
	cJSON		*r;
	pid_t		 pb;

	pb = start_session(b, "fake", "t");
	r = agent_rpc(a, "broker/session", params);
	ck_assert_int_eq(error_code(r), -32602);
	ck_assert_ptr_nonnull(strstr(json_string(r, "error.message"),
	    "No session"));
	cJSON_Delete(r);

	/* Its owner finds it. */
	r = agent_rpc(b, "broker/session", params);
	ck_assert_int_eq((long)json_number(result_of(r), "pid"), (long)pb);
	ck_assert_int_eq((long)json_number(result_of(r), "uid"),
	    (long)OTHER_UID);
	cJSON_Delete(r);
	agent_stop(a);
	agent_stop(b);
}
END_TEST

START_TEST(test_root_closes_every_users_sessions)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	struct agent	*r = root();
	cJSON		*list;
	pid_t		 pa, pb;

	pa = start_session(a, "fake", "t");
	pb = start_session(b, "fake", "t");
	ck_assert_int_eq(close_as(r, "{\"thread\":\"t\"}"), 2);
	ck_assert(wait_pid_gone(pa, GONE_MS));
	ck_assert(wait_pid_gone(pb, GONE_MS));
	list = status_sessions(r);
	ck_assert_int_eq(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	agent_stop(a);
	agent_stop(b);
	agent_stop(r);
}
END_TEST

/* ---- Admins: root, the daemon's own user, admin_group. ---- */

START_TEST(test_reload_by_non_admin_is_forbidden)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);

	ck_assert(!is_admin(a));
	ck_assert_int_eq(reload_as(a), -32017);
	ck_assert_int_eq(reloads(), 0);
	agent_stop(a);
}
END_TEST

START_TEST(test_reload_by_root_succeeds)
{
	struct agent	*r = root();

	ck_assert(is_admin(r));
	ck_assert_int_eq(reload_as(r), 0);
	ck_assert_int_eq(reloads(), 1);
	agent_stop(r);
}
END_TEST

START_TEST(test_admin_group_as_primary_group_sees_all_and_may_reload)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	struct agent	*c = user(THIRD_UID, ADMIN_GID, NULL, 0);
	cJSON		*list;
	pid_t		 pa, pb;

	pa = start_session(a, "fake", "t");
	pb = start_session(b, "fake", "t");
	ck_assert(is_admin(c));
	list = status_sessions(c);
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	ck_assert_int_eq(sessions_of(list, NOBODY_UID, pa), 1);
	ck_assert_int_eq(sessions_of(list, OTHER_UID, pb), 1);
	cJSON_Delete(list);
	ck_assert_int_eq(reload_as(c), 0);
	ck_assert_int_eq(reloads(), 1);
	agent_stop(a);
	agent_stop(b);
	agent_stop(c);
}
END_TEST

START_TEST(test_admin_group_as_supplementary_group_sees_all_and_may_reload)
{
	const gid_t	 groups[] = { MEMBER_GID, ADMIN_GID };
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	struct agent	*c = user(THIRD_UID, THIRD_UID, groups, 2);
	cJSON		*list;
	pid_t		 pa, pb;

	pa = start_session(a, "fake", "t");
	pb = start_session(b, "fake", "t");
	ck_assert(is_admin(c));
	list = status_sessions(c);
	ck_assert_int_eq(cJSON_GetArraySize(list), 2);
	ck_assert_int_eq(sessions_of(list, NOBODY_UID, pa), 1);
	ck_assert_int_eq(sessions_of(list, OTHER_UID, pb), 1);
	cJSON_Delete(list);
	ck_assert_int_eq(reload_as(c), 0);
	ck_assert_int_eq(reloads(), 1);
	agent_stop(a);
	agent_stop(b);
	agent_stop(c);
}
END_TEST

START_TEST(test_admin_group_member_closes_other_users_sessions)
{
	const gid_t	 groups[] = { ADMIN_GID };
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	struct agent	*c = user(THIRD_UID, THIRD_UID, groups, 1);
	pid_t		 pa, pb;

	pa = start_session(a, "fake", "t");
	pb = start_session(b, "fake", "t");
	ck_assert_int_eq(close_as(c, "{\"all\":true}"), 2);
	ck_assert(wait_pid_gone(pa, GONE_MS));
	ck_assert(wait_pid_gone(pb, GONE_MS));
	agent_stop(a);
	agent_stop(b);
	agent_stop(c);
}
END_TEST

START_TEST(test_other_groups_do_not_make_an_admin)
{
	const gid_t	 groups[] = { MEMBER_GID, ADMIN_GID + 100 };
	struct agent	*a = user(OTHER_UID, OTHER_UID, groups, 2);
	struct agent	*b = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	cJSON		*list;

	start_session(b, "fake", "t");
	ck_assert(!is_admin(a));
	list = status_sessions(a);
	ck_assert_int_eq(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	ck_assert_int_eq(reload_as(a), -32017);
	agent_stop(a);
	agent_stop(b);
}
END_TEST

/*
 * A daemon running as DAEMON_UID with allow_uids [nobody], a fake server,
 * a socket everyone may open.
 */
static struct daemon *
daemon_as_user(void)
{
	struct daemon_limits	 lim = { 0, 0, DAEMON_UID };
	struct daemon		*dd;
	char			 text[1024];

	snprintf(text, sizeof text, "{\"broker\":{\"socket\":\"@SOCK@\","
	    "\"socket_mode\":\"0666\",\"allow_uids\":[%d],"
	    "\"shutdown_grace_ms\":%d},\"mcpServers\":{" FAKE "}}",
	    NOBODY_UID, GRACE_MS);
	dd = daemon_start_limited(text, &lim);
	open_dir(dd);
	return (dd);
}

START_TEST(test_daemons_own_user_is_served_when_not_listed)
{
	struct agent	*o;

	d = daemon_as_user();
	o = user(DAEMON_UID, DAEMON_UID, NULL, 0);
	start_session(o, "fake", "t");
	agent_stop(o);
	teardown();
}
END_TEST

START_TEST(test_daemons_own_user_is_admin)
{
	struct agent	*a, *o;
	cJSON		*list;
	pid_t		 pa;

	d = daemon_as_user();
	a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	o = user(DAEMON_UID, DAEMON_UID, NULL, 0);
	pa = start_session(a, "fake", "t");
	ck_assert(is_admin(o));
	list = status_sessions(o);
	ck_assert_int_eq(sessions_of(list, NOBODY_UID, pa), 1);
	cJSON_Delete(list);
	ck_assert_int_eq(reload_as(o), 0);
	ck_assert(!is_admin(a));
	agent_stop(a);
	agent_stop(o);
	teardown();
}
END_TEST

/* ---- allow_uids and allow_groups, at accept. ---- */

START_TEST(test_allow_uids_serves_listed_uid)
{
	struct agent	*a = user(NOBODY_UID, NOBODY_UID, NULL, 0);
	pid_t		 p;

	ck_assert_int_eq(counter(a, "t", &p), 1);
	ck_assert_int_eq(counter(a, "t", &p), 2);
	agent_stop(a);
}
END_TEST

START_TEST(test_allow_uids_refuses_unlisted_uid_with_one_line_and_closes)
{
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);

	assert_refused(b);
	ck_assert(daemon_alive(d));
	agent_stop(b);
}
END_TEST

START_TEST(test_refused_client_starts_no_session)
{
	struct agent	*b = user(OTHER_UID, OTHER_UID, NULL, 0);
	struct agent	*r;
	cJSON		*list;
	char		*cause;
	int		 zombies;

	ck_assert_msg(agent_try(b, "tools/call", "{\"server\":\"fake\","
	    "\"thread\":\"t\",\"name\":\"pid\",\"arguments\":{}}", &cause) ==
	    NULL, "a refused client got an answer to its call");
	free(cause);

	ck_assert_int_eq(children_of(d->pid, NULL, 0, &zombies), 0);
	r = root();
	list = status_sessions(r);
	ck_assert_int_eq(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);
	agent_stop(r);
	agent_stop(b);
}
END_TEST

START_TEST(test_allow_groups_serves_supplementary_group_member)
{
	const gid_t	 groups[] = { MEMBER_GID };
	struct agent	*b = user(OTHER_UID, OTHER_UID, groups, 1);
	cJSON		*list;
	pid_t		 p;

	p = start_session(b, "fake", "t");
	list = status_sessions(b);
	ck_assert_int_eq(sessions_of(list, OTHER_UID, p), 1);
	cJSON_Delete(list);
	agent_stop(b);
}
END_TEST

START_TEST(test_allow_groups_serves_primary_group_member)
{
	struct agent	*b = user(OTHER_UID, MEMBER_GID, NULL, 0);

	start_session(b, "fake", "t");
	agent_stop(b);
}
END_TEST

START_TEST(test_allow_groups_serves_member_with_many_groups)
{
	struct agent	*b;
	gid_t		 groups[MANY_GROUPS + 1];
	cJSON		*r;
	char		*cause;
	int		 i;

	/* The kernel sorts them: MEMBER_GID comes last, past 256. */
	for (i = 0; i < MANY_GROUPS; i++)
		groups[i] = (gid_t)(1000 + i);
	groups[MANY_GROUPS] = MEMBER_GID;
	b = user(OTHER_UID, OTHER_UID, groups, MANY_GROUPS + 1);
	r = agent_try(b, "broker/hello", "{\"capabilities\":{}}", &cause);
	ck_assert_msg(r != NULL, "uid %d, with allow_groups' gid %d among its "
	    "supplementary groups (sorted last of %d), is not served: %s",
	    OTHER_UID, MEMBER_GID, MANY_GROUPS + 1, cause);
	cJSON_Delete(r);
	start_session(b, "fake", "t");
	agent_stop(b);
}
END_TEST

START_TEST(test_admin_group_alone_does_not_admit)
{
	const gid_t	 groups[] = { ADMIN_GID };
	struct agent	*b = user(OTHER_UID, ADMIN_GID, groups, 1);

	assert_refused(b);
	agent_stop(b);
}
END_TEST

START_TEST(test_reload_applies_a_new_allow_list_to_new_connections)
{
	struct agent	*r, *b;
	char		 broker[512], *text;

	b = user(OTHER_UID, OTHER_UID, NULL, 0);
	assert_refused(b);
	agent_stop(b);

	acl_broker(broker, sizeof broker, "[\"root\",65534,65533]");
	text = config_text(broker, FAKE);
	daemon_write_config(d, text);
	free(text);
	r = root();
	ck_assert_int_eq(reload_as(r), 0);
	agent_stop(r);

	b = user(OTHER_UID, OTHER_UID, NULL, 0);
	start_session(b, "fake", "t");
	agent_stop(b);
}
END_TEST

START_TEST(test_root_is_served_when_not_listed)
{
	struct agent	*r;

	d = daemon_start("\"allow_uids\":[65534],\"allow_groups\":[]", FAKE);
	open_dir(d);
	r = root();
	start_session(r, "fake", "t");
	agent_stop(r);
	teardown();
}
END_TEST

/* ---- The socket file. ---- */

START_TEST(test_socket_file_has_mode_and_group)
{
	struct stat	st;

	ck_assert_int_eq(stat(d->sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_msg((st.st_mode & 07777) == 0660, "mode %04o",
	    (unsigned)(st.st_mode & 07777));
	ck_assert_int_eq((long)st.st_gid, (long)MEMBER_GID);
}
END_TEST

START_TEST(test_socket_refuses_user_outside_group)
{
	struct agent	*b = agent_start(OTHER_UID, OTHER_UID, NULL, 0);
	int		 e;

	e = agent_connect_errno(b, d->sock);
	ck_assert_msg(e == EACCES, "connect: %s, expected EACCES",
	    e == 0 ? "it connected" : strerror(e));
	agent_stop(b);
}
END_TEST

START_TEST(test_socket_admits_group_member)
{
	const gid_t	 groups[] = { MEMBER_GID };
	struct agent	*b = user(OTHER_UID, OTHER_UID, groups, 1);

	start_session(b, "fake", "t");
	agent_stop(b);
}
END_TEST

START_TEST(test_socket_group_by_name)
{
	struct group	*gr;
	struct stat	 st;
	char		 broker[256];

	ck_assert_ptr_nonnull(gr = getgrgid(NOBODY_UID));
	snprintf(broker, sizeof broker, "\"socket_mode\":\"0660\","
	    "\"socket_group\":\"%s\"", gr->gr_name);
	d = daemon_start(broker, FAKE);
	ck_assert_int_eq(stat(d->sock, &st), 0);
	ck_assert_int_eq((long)st.st_gid, (long)NOBODY_UID);
	ck_assert_int_eq((int)(st.st_mode & 07777), 0660);
	teardown();
}
END_TEST

/* ---- A child's environment. ---- */

static const char *env_set[][2] = {
	{ "SECRET_TOKEN", "s3cr3t" },
	{ "NOT_FOR_CHILDREN", "1" },
	{ "LANG", "C.UTF-8" },
	{ "TZ", "UTC" },
	{ "MCPB_TEST_FLAG", "--env-tool" },
	{ "MCPB_TEST_CWD", "/" },
};

/*
 * The daemon with extra variables in its environment and two servers:
 * "env" as the brief has it, "expanded" with ${VAR} in every place.
 */
static void
setup_env(void)
{
	size_t	i;

	for (i = 0; i < sizeof env_set / sizeof env_set[0]; i++)
		ck_assert_int_eq(setenv(env_set[i][0], env_set[i][1], 1), 0);
	ck_assert_int_eq(setenv("MCPB_TEST_FAKE", harness_fake_mcp(), 1), 0);
	d = daemon_start("",
	    "\"env\":{\"command\":\"@FAKE@\",\"args\":[\"--env-tool\"],"
	    "\"env\":{\"TOKEN\":\"${SECRET_TOKEN}\",\"PLAIN\":\"x\"},"
	    "\"cwd\":\"@DIR@\"},"
	    "\"expanded\":{\"command\":\"${MCPB_TEST_FAKE}\","
	    "\"args\":[\"${MCPB_TEST_FLAG}\"],"
	    "\"env\":{\"LITERAL\":\"$${SECRET_TOKEN}\","
	    "\"JOINED\":\"a-${TZ}-b\"},\"cwd\":\"${MCPB_TEST_CWD}\"}");
}

static void
teardown_env(void)
{
	size_t	i;

	teardown();
	for (i = 0; i < sizeof env_set / sizeof env_set[0]; i++)
		unsetenv(env_set[i][0]);
	unsetenv("MCPB_TEST_FAKE");
}

/* The structuredContent of tool on (server, "t") as root (caller frees). */
static cJSON *
root_tool(const char *server, const char *tool)
{
	struct client	*c = daemon_connect(d);
	cJSON		*r, *sc;

	r = tool_call(c, server, "t", tool, NULL);
	sc = cJSON_DetachItemFromObject(result_of(r), "structuredContent");
	ck_assert_msg(sc != NULL, "%s/%s: no structuredContent", server, tool);
	cJSON_Delete(r);
	client_close(c);
	return (sc);
}

START_TEST(test_child_environment_is_base_variables_and_configured_env)
{
	cJSON		*sc, *env, *want, *item, *got;
	const char	*home = getenv("HOME"), *path = getenv("PATH");

	want = cJSON_CreateObject();
	cJSON_AddStringToObject(want, "PATH", path != NULL ? path :
	    "/usr/local/bin:/usr/bin:/bin");
	if (home != NULL)
		cJSON_AddStringToObject(want, "HOME", home);
	cJSON_AddStringToObject(want, "LANG", "C.UTF-8");
	cJSON_AddStringToObject(want, "TZ", "UTC");
	cJSON_AddStringToObject(want, "TOKEN", "s3cr3t");
	cJSON_AddStringToObject(want, "PLAIN", "x");

	sc = root_tool("env", "env");
	env = cJSON_GetObjectItem(sc, "env");
	ck_assert(cJSON_IsObject(env));
	/* The broker adds the session's tag, which finds its descendants. */
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(env, "MCP_BROKER_SESSION"));
	cJSON_DeleteItemFromObject(env, "MCP_BROKER_SESSION");
	cJSON_ArrayForEach(item, env) {
		got = cJSON_GetObjectItemCaseSensitive(want, item->string);
		ck_assert_msg(got != NULL, "the child has %s=%s", item->string,
		    cJSON_GetStringValue(item));
		ck_assert_msg(strcmp(cJSON_GetStringValue(item),
		    cJSON_GetStringValue(got)) == 0, "the child has %s=%s, "
		    "expected %s", item->string, cJSON_GetStringValue(item),
		    cJSON_GetStringValue(got));
	}
	cJSON_ArrayForEach(item, want) {
		ck_assert_msg(cJSON_GetObjectItemCaseSensitive(env,
		    item->string) != NULL, "the child lacks %s",
		    item->string);
	}
	ck_assert_ptr_null(cJSON_GetObjectItem(env, "NOT_FOR_CHILDREN"));
	cJSON_Delete(sc);
	cJSON_Delete(want);
}
END_TEST

START_TEST(test_child_runs_in_configured_cwd)
{
	char	 want[PATH_MAX];
	cJSON	*sc;

	ck_assert_ptr_nonnull(realpath(d->dir, want));
	sc = root_tool("env", "cwd");
	ck_assert_str_eq(json_string(sc, "cwd"), want);
	cJSON_Delete(sc);
}
END_TEST

START_TEST(test_variables_expand_in_command_args_env_and_cwd)
{
	cJSON	*sc;

	/* The env tool exists only if ${MCPB_TEST_FLAG} became the flag. */
	sc = root_tool("expanded", "env");
	ck_assert_str_eq(json_string(sc, "env.JOINED"), "a-UTC-b");
	ck_assert_str_eq(json_string(sc, "env.LITERAL"), "${SECRET_TOKEN}");
	cJSON_Delete(sc);
	sc = root_tool("expanded", "cwd");
	ck_assert_str_eq(json_string(sc, "cwd"), "/");
	cJSON_Delete(sc);
}
END_TEST

START_TEST(test_expanded_secret_stays_out_of_answers_and_log)
{
	struct client	*c;
	const char	*methods[][2] = {
		{ "broker/status", NULL },
		{ "broker/servers", NULL },
		{ "broker/session", "{\"server\":\"env\",\"thread\":\"t\"}" },
	};
	cJSON		*r;
	char		*text;
	size_t		 i;

	cJSON_Delete(root_tool("env", "pid"));
	c = daemon_connect(d);
	for (i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		r = rpc(c, methods[i][0], methods[i][1]);
		result_of(r);
		text = cJSON_PrintUnformatted(r);
		ck_assert_msg(strstr(text, "s3cr3t") == NULL, "%s shows the "
		    "secret: %s", methods[i][0], text);
		free(text);
		cJSON_Delete(r);
	}
	client_close(c);
	ck_assert_msg(!file_contains(d->log, "s3cr3t"), "the daemon's log "
	    "shows the secret");
}
END_TEST

/*
 * Run mcp-brokerd --check-config on a config text; its exit status
 * (as from waitpid) and what it printed (caller frees).
 */
static int
check_config(const char *text, char **out)
{
	char	 dir[] = "/tmp/mcpb-access.XXXXXX", path[300], buf[4096];
	FILE	*f, *mem;
	size_t	 size = 0;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/broker.json", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execl(harness_build_path("mcp-brokerd"), "mcp-brokerd",
		    "--check-config", "--config", path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	ck_assert_ptr_nonnull(mem = open_memstream(out, &size));
	while ((n = read(p[0], buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, mem);
	fclose(mem);
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(path);
	rmdir(dir);
	return (status);
}

START_TEST(test_check_config_names_the_path_of_each_unset_variable)
{
	char	 text[1024], *out;
	int	 status;

	unsetenv("MCPB_TEST_UNSET");
	snprintf(text, sizeof text, "{\"mcpServers\":{\"fake\":{"
	    "\"command\":\"%s\",\"args\":[\"--x\",\"${MCPB_TEST_UNSET}\"],"
	    "\"env\":{\"TOKEN\":\"${MCPB_TEST_UNSET}\"},"
	    "\"cwd\":\"/tmp/${MCPB_TEST_UNSET}\"}}}", harness_fake_mcp());
	status = check_config(text, &out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "status %d: %s", status, out);
	ck_assert_msg(strstr(out, "mcpServers.fake.env.TOKEN") != NULL,
	    "no env path in: %s", out);
	ck_assert_msg(strstr(out, "mcpServers.fake.args[1]") != NULL,
	    "no args path in: %s", out);
	ck_assert_msg(strstr(out, "mcpServers.fake.cwd") != NULL,
	    "no cwd path in: %s", out);
	ck_assert_msg(strstr(out, "MCPB_TEST_UNSET") != NULL &&
	    strstr(out, "not set") != NULL, "no variable named in: %s", out);
	ck_assert_msg(strstr(out, "configuration OK") == NULL, "%s", out);
	free(out);
}
END_TEST

START_TEST(test_check_config_passes_once_the_variable_is_set)
{
	char	 text[1024], *out;
	int	 status;

	ck_assert_int_eq(setenv("MCPB_TEST_UNSET", "now-set", 1), 0);
	snprintf(text, sizeof text, "{\"mcpServers\":{\"fake\":{"
	    "\"command\":\"%s\",\"env\":{\"TOKEN\":\"${MCPB_TEST_UNSET}\"}}}}",
	    harness_fake_mcp());
	status = check_config(text, &out);
	unsetenv("MCPB_TEST_UNSET");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %d: %s", status, out);
	ck_assert_msg(strstr(out, "configuration OK") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "now-set") == NULL, "the value is shown: %s",
	    out);
	free(out);
}
END_TEST

static Suite *
access_suite(void)
{
	Suite	*s = suite_create("access");
	TCase	*tc;

	tc = harness_add_tcase(s, "sessions", setup_sessions, teardown, 90);
	tcase_add_test(tc, test_same_thread_of_two_users_reaches_two_children);
	tcase_add_test(tc, test_user_status_lists_only_own_sessions);
	tcase_add_test(tc, test_root_status_lists_every_users_sessions);
	tcase_add_test(tc, test_user_close_all_closes_only_own_sessions);
	tcase_add_test(tc,
	    test_user_close_by_key_never_reaches_other_users_session);
	tcase_add_test(tc, test_user_session_lookup_misses_other_users_key);
	tcase_add_test(tc, test_root_closes_every_users_sessions);

	tc = harness_add_tcase(s, "admins", setup_sessions, teardown, 90);
	tcase_add_test(tc, test_reload_by_non_admin_is_forbidden);
	tcase_add_test(tc, test_reload_by_root_succeeds);
	tcase_add_test(tc,
	    test_admin_group_as_primary_group_sees_all_and_may_reload);
	tcase_add_test(tc,
	    test_admin_group_as_supplementary_group_sees_all_and_may_reload);
	tcase_add_test(tc, test_admin_group_member_closes_other_users_sessions);
	tcase_add_test(tc, test_other_groups_do_not_make_an_admin);

	tc = harness_add_tcase(s, "daemon's user", NULL, NULL, 90);
	tcase_add_test(tc, test_daemons_own_user_is_served_when_not_listed);
	tcase_add_test(tc, test_daemons_own_user_is_admin);

	tc = harness_add_tcase(s, "allow lists", setup_acl, teardown, 90);
	tcase_add_test(tc, test_allow_uids_serves_listed_uid);
	tcase_add_test(tc,
	    test_allow_uids_refuses_unlisted_uid_with_one_line_and_closes);
	tcase_add_test(tc, test_refused_client_starts_no_session);
	tcase_add_test(tc, test_allow_groups_serves_supplementary_group_member);
	tcase_add_test(tc, test_allow_groups_serves_primary_group_member);
	tcase_add_test(tc, test_allow_groups_serves_member_with_many_groups);
	tcase_add_test(tc, test_admin_group_alone_does_not_admit);
	tcase_add_test(tc,
	    test_reload_applies_a_new_allow_list_to_new_connections);

	tc = harness_add_tcase(s, "root", NULL, NULL, 90);
	tcase_add_test(tc, test_root_is_served_when_not_listed);

	tc = harness_add_tcase(s, "socket file", setup_socket, teardown, 90);
	tcase_add_test(tc, test_socket_file_has_mode_and_group);
	tcase_add_test(tc, test_socket_refuses_user_outside_group);
	tcase_add_test(tc, test_socket_admits_group_member);

	tc = harness_add_tcase(s, "socket group by name", NULL, NULL, 90);
	tcase_add_test(tc, test_socket_group_by_name);

	tc = harness_add_tcase(s, "child environment", setup_env, teardown_env,
	    90);
	tcase_add_test(tc,
	    test_child_environment_is_base_variables_and_configured_env);
	tcase_add_test(tc, test_child_runs_in_configured_cwd);
	tcase_add_test(tc, test_variables_expand_in_command_args_env_and_cwd);
	tcase_add_test(tc, test_expanded_secret_stays_out_of_answers_and_log);

	tc = harness_add_tcase(s, "check-config", NULL, NULL, 90);
	tcase_add_test(tc,
	    test_check_config_names_the_path_of_each_unset_variable);
	tcase_add_test(tc, test_check_config_passes_once_the_variable_is_set);
	return (s);
}

int
main(void)
{
	return (harness_run_suite(access_suite()));
}
