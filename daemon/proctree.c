/*
 * The host's processes as a tree, from one pass over /proc.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "proctree.h"
#include "xmalloc.h"

/* The most bytes of /proc/PID/stat read (a line is about 300). */
#define PROCTREE_STAT_MAX	1024
/* The field of /proc/PID/stat after "(comm) " holding rss, counted from 0. */
#define PROCTREE_FIELD_PPID	1
#define PROCTREE_FIELD_RSS	21

/* One process: its parent and resident bytes. */
struct proctree_proc {
	pid_t		 pid;
	pid_t		 ppid;
	uint64_t	 rss;
};

struct proctree {
	struct proctree_proc	*bypid;		/* sorted by pid */
	struct proctree_proc	*byppid;	/* the same, by parent */
	size_t			 n;
	int			 truncated;
};

static int	proctree_read_stat(const char *, const char *, long,
		    struct proctree_proc *);
static int	proctree_cmp_pid(const void *, const void *);
static int	proctree_cmp_ppid(const void *, const void *);
static size_t	proctree_first_child(const struct proctree *, pid_t);

/* Order processes by pid. */
static int
proctree_cmp_pid(const void *a, const void *b)
{
	const struct proctree_proc	*pa = a, *pb = b;

	return ((pa->pid > pb->pid) - (pa->pid < pb->pid));
}

/* Order processes by parent, then pid. */
static int
proctree_cmp_ppid(const void *a, const void *b)
{
	const struct proctree_proc	*pa = a, *pb = b;

	if (pa->ppid != pb->ppid)
		return ((pa->ppid > pb->ppid) - (pa->ppid < pb->ppid));
	return (proctree_cmp_pid(a, b));
}

/*
 * Read dir/name/stat into p. The name in parentheses may hold anything,
 * ")" and spaces included, so the fields start after the last ")".
 * Returns 0, or -1 if the process is gone or the line is not understood.
 */
static int
proctree_read_stat(const char *dir, const char *name, long page,
    struct proctree_proc *p)
{
	char		 path[512], buf[PROCTREE_STAT_MAX + 1], *s, *end;
	long long	 v;
	ssize_t		 n;
	int		 fd, field;

	if ((size_t)snprintf(path, sizeof path, "%s/%s/stat", dir, name) >=
	    sizeof path)
		return (-1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	do
		n = read(fd, buf, PROCTREE_STAT_MAX);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	if ((s = strrchr(buf, ')')) == NULL)
		return (-1);
	s++;
	p->pid = (pid_t)strtol(name, NULL, 10);
	p->ppid = -1;
	for (field = 0; field <= PROCTREE_FIELD_RSS; field++) {
		while (*s == ' ')
			s++;
		if (*s == '\0' || *s == '\n')
			return (-1);
		errno = 0;
		v = strtoll(s, &end, 10);
		if (field == PROCTREE_FIELD_PPID) {
			if (end == s || errno != 0 || v < 0)
				return (-1);
			p->ppid = (pid_t)v;
		} else if (field == PROCTREE_FIELD_RSS) {
			if (end == s || errno != 0)
				return (-1);
			/* A kernel thread has none; negative is never sent. */
			p->rss = v > 0 ? (uint64_t)v * (uint64_t)page : 0;
		}
		/* Past the field, whatever it holds (the state is a letter). */
		while (*s != ' ' && *s != '\0' && *s != '\n')
			s++;
	}
	return (0);
}

/*
 * One pass over dir (/proc, or a directory laid out like it): every
 * process's parent and resident memory, at most max processes (the rest
 * are left out and proctree_truncated() says so). Returns NULL if dir
 * cannot be read, with errno set. The caller frees the tree.
 */
struct proctree *
proctree_scan(const char *dir, size_t max)
{
	struct proctree	*pt;
	struct dirent	*de;
	DIR		*d;
	size_t		 size = 0;
	long		 page;
	const char	*c;

	if ((d = opendir(dir)) == NULL)
		return (NULL);
	if ((page = sysconf(_SC_PAGESIZE)) <= 0)
		page = 4096;
	pt = xcalloc(1, sizeof *pt);
	while ((de = readdir(d)) != NULL) {
		for (c = de->d_name; *c >= '0' && *c <= '9'; c++)
			continue;
		if (*c != '\0' || c == de->d_name)
			continue;
		if (pt->n == max) {
			pt->truncated = 1;
			break;
		}
		if (pt->n == size) {
			size = size == 0 ? 256 : size * 2;
			if (size > max)
				size = max;
			pt->bypid = xreallocarray(pt->bypid, size,
			    sizeof *pt->bypid);
		}
		if (proctree_read_stat(dir, de->d_name, page,
		    &pt->bypid[pt->n]) == 0)
			pt->n++;
	}
	closedir(d);
	if (pt->n > 0) {
		pt->byppid = xreallocarray(NULL, pt->n, sizeof *pt->byppid);
		memcpy(pt->byppid, pt->bypid, pt->n * sizeof *pt->bypid);
		qsort(pt->bypid, pt->n, sizeof *pt->bypid, proctree_cmp_pid);
		qsort(pt->byppid, pt->n, sizeof *pt->byppid,
		    proctree_cmp_ppid);
	}
	return (pt);
}

/* Free a tree from proctree_scan(). */
void
proctree_free(struct proctree *pt)
{
	if (pt == NULL)
		return;
	free(pt->bypid);
	free(pt->byppid);
	free(pt);
}

/* How many processes the scan read. */
size_t
proctree_count(const struct proctree *pt)
{
	return (pt->n);
}

/* Whether the scan stopped at its bound with processes left unread. */
int
proctree_truncated(const struct proctree *pt)
{
	return (pt->truncated);
}

/* The index in byppid of ppid's first child, or n if it has none. */
static size_t
proctree_first_child(const struct proctree *pt, pid_t ppid)
{
	size_t	lo = 0, hi = pt->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pt->byppid[mid].ppid < ppid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pt->n && pt->byppid[lo].ppid == ppid)
		return (lo);
	return (pt->n);
}

/*
 * The resident bytes of root and all its descendants, in *bytes.
 * Returns 0, or -1 if root was not in the scan (it had exited). Each
 * process is counted once at most, even if pids reused during the scan
 * made the parents form a loop.
 */
int
proctree_rss(const struct proctree *pt, pid_t root, uint64_t *bytes)
{
	struct proctree_proc	 key, *p;
	pid_t			*stack;
	size_t			 top = 0, visited = 0, i;

	*bytes = 0;
	if (pt->n == 0 || root <= 0)
		return (-1);
	key.pid = root;
	if ((p = bsearch(&key, pt->bypid, pt->n, sizeof *pt->bypid,
	    proctree_cmp_pid)) == NULL)
		return (-1);
	*bytes = p->rss;
	stack = xreallocarray(NULL, pt->n, sizeof *stack);
	stack[top++] = root;
	visited = 1;
	while (top > 0) {
		key.ppid = stack[--top];
		for (i = proctree_first_child(pt, key.ppid); i < pt->n &&
		    pt->byppid[i].ppid == key.ppid; i++) {
			/* Only the root can be reached twice, through a loop. */
			if (pt->byppid[i].pid == root || visited == pt->n)
				continue;
			*bytes += pt->byppid[i].rss;
			stack[top++] = pt->byppid[i].pid;
			visited++;
		}
	}
	free(stack);
	return (0);
}

/*
 * Add "rss_bytes" to each session of a broker/status list that has a
 * live process: its process tree's resident memory, from one pass over
 * /proc. A session whose process is gone, or a list /proc cannot be read
 * for, is left without the member.
 */
void
proctree_add_rss(struct proctree_cache *cache, cJSON *sessions)
{
	struct proctree	*pt;
	const cJSON	*pid;
	cJSON		*s;
	uint64_t	 bytes, now = clock_ms();

	if (cJSON_GetArraySize(sessions) == 0)
		return;
	if (cache->pt != NULL && now - cache->at_ms < PROCTREE_CACHE_MS)
		pt = cache->pt;
	else if ((pt = proctree_scan("/proc", PROCTREE_MAX_PROCS)) == NULL) {
		log_warn("rss_bytes: cannot read /proc");
		return;
	} else {
		proctree_free(cache->pt);
		cache->pt = pt;
		cache->at_ms = now;
	}
	if (proctree_truncated(pt) && cache->at_ms == now)
		log_warnx("rss_bytes: more than %d processes on the host "
		    "(PROCTREE_MAX_PROCS); the memory of processes past the "
		    "first %d is not counted", PROCTREE_MAX_PROCS,
		    PROCTREE_MAX_PROCS);
	cJSON_ArrayForEach(s, sessions) {
		pid = cJSON_GetObjectItemCaseSensitive(s, "pid");
		if (!cJSON_IsNumber(pid) || pid->valuedouble < 1)
			continue;
		if (proctree_rss(pt, (pid_t)pid->valuedouble, &bytes) == 0)
			cJSON_AddNumberToObject(s, "rss_bytes", (double)bytes);
	}
}

/* Free the cached scan. */
void
proctree_cache_clear(struct proctree_cache *cache)
{
	proctree_free(cache->pt);
	cache->pt = NULL;
	cache->at_ms = 0;
}
