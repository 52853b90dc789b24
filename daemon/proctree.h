/*
 * The host's processes as a tree, read from /proc in one pass: each
 * process's parent and resident memory. It answers how much memory a
 * session's child holds with all its descendants (npx, then node, then
 * the browser node starts), so one status costs one pass over /proc
 * however many sessions it lists.
 *
 * A process a descendant orphaned is reparented to the daemon (it is the
 * children's subreaper), so it is no longer under the session's child
 * and is not counted there.
 */
#ifndef DAEMON_PROCTREE_H
#define DAEMON_PROCTREE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

/* The most processes one scan reads; the rest are left out, and logged. */
#define PROCTREE_MAX_PROCS	16384

/*
 * How long one scan serves every broker/status that asks for rss: a
 * client asking in a loop costs the daemon one pass over /proc a
 * second, not one a request.
 */
#define PROCTREE_CACHE_MS	1000

struct proctree;

/* The last scan and when it was made (its owner's; zeroed to start). */
struct proctree_cache {
	struct proctree	*pt;
	uint64_t	 at_ms;	/* monotonic */
};

struct proctree	*proctree_scan(const char *, size_t);
void		 proctree_free(struct proctree *);
size_t		 proctree_count(const struct proctree *);
int		 proctree_truncated(const struct proctree *);
int		 proctree_rss(const struct proctree *, pid_t, uint64_t *);
void		 proctree_add_rss(struct proctree_cache *, cJSON *);
void		 proctree_cache_clear(struct proctree_cache *);

#endif
