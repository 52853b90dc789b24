/*
 * The session table: three chained hashes (entries, servers, remembered
 * generations) sharing one key type and one hash function, and intrusive
 * lists for recency.
 *
 * Every key is (uid, server, thread), stored in the same allocation as the
 * object that carries it. A server's group is keyed (0, name, "").
 *
 * Client-chosen thread names feed an unkeyed hash, so they can be made to
 * collide; that is harmless because every hash here is bounded (sessions by
 * max_sessions, remembered keys by TABLE_MEMORY_MAX, groups by the config).
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "xmalloc.h"

/* Buckets a hash starts with; always a power of two. */
#define TABLE_HASH_MIN	16

/* A key and its hash value: the first member of whatever a hash chains. */
struct table_node {
	LIST_ENTRY(table_node)	 chain;
	uint64_t		 hash;
	uid_t			 uid;
	const char		*server;
	const char		*thread;
};
LIST_HEAD(table_chain, table_node);

/* A chained hash of nodes that grows when its load passes one. */
struct table_hash {
	struct table_chain	*buckets;
	size_t			 size;
	size_t			 count;
};

TAILQ_HEAD(table_idle, table_entry);

/* What the table knows about one server name. */
struct table_group {
	struct table_node	 node;		/* first: (0, name, "") */
	size_t			 count;		/* entries, busy or idle */
	struct table_idle	 idle;		/* most recent at head */
};

struct table_entry {
	struct table_node	 node;		/* first */
	void			*value;
	int			 busy;
	struct table_group	*group;

	LIST_ENTRY(table_entry)	 all_entry;
	TAILQ_ENTRY(table_entry) idle_entry;	/* only when not busy */
	TAILQ_ENTRY(table_entry) group_entry;	/* only when not busy */
};
LIST_HEAD(table_all, table_entry);

/* The generation of an ended key's last session. */
struct table_memo {
	struct table_node	 node;		/* first */
	unsigned		 generation;
	TAILQ_ENTRY(table_memo)	 fifo_entry;
};
TAILQ_HEAD(table_fifo, table_memo);

struct table {
	struct table_hash	 entries;
	struct table_hash	 groups;
	struct table_hash	 memos;

	struct table_all	 all;
	struct table_idle	 idle;		/* most recent at head */
	struct table_fifo	 fifo;		/* newest at head */
};

static uint64_t	 table_key_hash(uid_t, const char *, const char *);
static void	*table_node_new(size_t, uid_t, const char *, const char *);
static void	 table_hash_init(struct table_hash *);
static void	 table_hash_clear(struct table_hash *);
static void	 table_hash_grow(struct table_hash *);
static void	 table_hash_add(struct table_hash *, struct table_node *);
static void	 table_hash_del(struct table_hash *, struct table_node *);
static struct table_node *table_hash_find(struct table_hash *, uid_t,
		     const char *, const char *);
static struct table_group *table_group_find(struct table *, const char *);
static struct table_group *table_group_get(struct table *, const char *);
static void	 table_group_release(struct table *, struct table_group *);
static void	 table_idle_link(struct table *, struct table_entry *);
static void	 table_idle_unlink(struct table *, struct table_entry *);
static void	 table_memo_drop(struct table *, struct table_memo *);

/*
 * FNV-1a over the uid, the server, a NUL and the thread, then a 64-bit
 * finaliser so the low bits a bucket mask keeps are well mixed. The NUL
 * cannot occur inside either string, so ("ab", "c") and ("a", "bc") differ.
 */
static uint64_t
table_key_hash(uid_t uid, const char *server, const char *thread)
{
	uint64_t		 h = 0xcbf29ce484222325ULL;
	uint64_t		 u = (uint64_t)uid;
	const unsigned char	*p;
	int			 i;

	for (i = 0; i < 8; i++) {
		h ^= (u >> (i * 8)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	for (p = (const unsigned char *)server; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	h *= 0x100000001b3ULL;		/* the NUL separator */
	for (p = (const unsigned char *)thread; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (h);
}

/*
 * Allocate a zeroed object of size bytes whose first member is a node, with
 * copies of the key strings in the same allocation; one free releases all.
 */
static void *
table_node_new(size_t size, uid_t uid, const char *server, const char *thread)
{
	struct table_node	*n;
	size_t			 slen = strlen(server), tlen = strlen(thread);
	char			*p;

	n = xcalloc(1, size + slen + 1 + tlen + 1);
	p = (char *)n + size;
	memcpy(p, server, slen + 1);
	n->server = p;
	p += slen + 1;
	memcpy(p, thread, tlen + 1);
	n->thread = p;
	n->uid = uid;
	n->hash = table_key_hash(uid, server, thread);
	return (n);
}

/* Set up an empty hash. */
static void
table_hash_init(struct table_hash *h)
{
	size_t	i;

	h->size = TABLE_HASH_MIN;
	h->count = 0;
	h->buckets = xcalloc(h->size, sizeof *h->buckets);
	for (i = 0; i < h->size; i++)
		LIST_INIT(&h->buckets[i]);
}

/* Release a hash's buckets; its nodes must already be gone. */
static void
table_hash_clear(struct table_hash *h)
{
	free(h->buckets);
	h->buckets = NULL;
	h->size = h->count = 0;
}

/* Double the buckets and move every node to its new chain. */
static void
table_hash_grow(struct table_hash *h)
{
	struct table_chain	*old = h->buckets;
	struct table_node	*n;
	size_t			 oldsize = h->size, i;

	h->size = oldsize * 2;
	h->buckets = xreallocarray(NULL, h->size, sizeof *h->buckets);
	for (i = 0; i < h->size; i++)
		LIST_INIT(&h->buckets[i]);
	for (i = 0; i < oldsize; i++) {
		while ((n = LIST_FIRST(&old[i])) != NULL) {
			LIST_REMOVE(n, chain);
			LIST_INSERT_HEAD(&h->buckets[n->hash & (h->size - 1)],
			    n, chain);
		}
	}
	free(old);
}

/* Add a node, growing first if the load would pass one. */
static void
table_hash_add(struct table_hash *h, struct table_node *n)
{
	if (h->count + 1 > h->size)
		table_hash_grow(h);
	LIST_INSERT_HEAD(&h->buckets[n->hash & (h->size - 1)], n, chain);
	h->count++;
}

/* Take a node out of its chain; O(1), the chain is doubly linked. */
static void
table_hash_del(struct table_hash *h, struct table_node *n)
{
	LIST_REMOVE(n, chain);
	h->count--;
}

/* The node with this key, or NULL. */
static struct table_node *
table_hash_find(struct table_hash *h, uid_t uid, const char *server,
    const char *thread)
{
	struct table_node	*n;
	uint64_t		 hash;

	hash = table_key_hash(uid, server, thread);
	LIST_FOREACH(n, &h->buckets[hash & (h->size - 1)], chain) {
		if (n->hash == hash && n->uid == uid &&
		    strcmp(n->server, server) == 0 &&
		    strcmp(n->thread, thread) == 0)
			return (n);
	}
	return (NULL);
}

/* A server's group, or NULL if it has no entries. */
static struct table_group *
table_group_find(struct table *t, const char *server)
{
	return ((struct table_group *)table_hash_find(&t->groups, 0, server,
	    ""));
}

/* A server's group, created if this is its first entry. */
static struct table_group *
table_group_get(struct table *t, const char *server)
{
	struct table_group	*g;

	if ((g = table_group_find(t, server)) != NULL)
		return (g);
	g = table_node_new(sizeof *g, 0, server, "");
	TAILQ_INIT(&g->idle);
	table_hash_add(&t->groups, &g->node);
	return (g);
}

/* One entry of a group has gone; free the group with its last entry. */
static void
table_group_release(struct table *t, struct table_group *g)
{
	if (--g->count != 0)
		return;
	table_hash_del(&t->groups, &g->node);
	free(g);
}

/* Put an entry at the most recent end of both idle lists. */
static void
table_idle_link(struct table *t, struct table_entry *e)
{
	TAILQ_INSERT_HEAD(&t->idle, e, idle_entry);
	TAILQ_INSERT_HEAD(&e->group->idle, e, group_entry);
}

/* Take an entry off both idle lists. */
static void
table_idle_unlink(struct table *t, struct table_entry *e)
{
	TAILQ_REMOVE(&t->idle, e, idle_entry);
	TAILQ_REMOVE(&e->group->idle, e, group_entry);
}

/* Forget one remembered key. */
static void
table_memo_drop(struct table *t, struct table_memo *m)
{
	TAILQ_REMOVE(&t->fifo, m, fifo_entry);
	table_hash_del(&t->memos, &m->node);
	free(m);
}

/* Create an empty table. */
struct table *
table_new(void)
{
	struct table	*t;

	t = xcalloc(1, sizeof *t);
	table_hash_init(&t->entries);
	table_hash_init(&t->groups);
	table_hash_init(&t->memos);
	LIST_INIT(&t->all);
	TAILQ_INIT(&t->idle);
	TAILQ_INIT(&t->fifo);
	return (t);
}

/* Free the table, its entries and what it remembers; not the values. */
void
table_free(struct table *t)
{
	struct table_entry	*e;
	struct table_memo	*m;

	if (t == NULL)
		return;
	while ((e = LIST_FIRST(&t->all)) != NULL)
		table_remove(t, e);
	while ((m = TAILQ_FIRST(&t->fifo)) != NULL)
		table_memo_drop(t, m);
	table_hash_clear(&t->entries);
	table_hash_clear(&t->groups);
	table_hash_clear(&t->memos);
	free(t);
}

/* Add a busy entry for a key that is not in the table. */
struct table_entry *
table_insert(struct table *t, uid_t uid, const char *server,
    const char *thread, void *value)
{
	struct table_entry	*e;

	if (table_find(t, uid, server, thread) != NULL) {
		fprintf(stderr, "table_insert: key (%lu, %s, %s) is already "
		    "in the table\n", (unsigned long)uid, server, thread);
		abort();
	}
	e = table_node_new(sizeof *e, uid, server, thread);
	e->value = value;
	e->busy = 1;
	e->group = table_group_get(t, server);
	e->group->count++;
	table_hash_add(&t->entries, &e->node);
	LIST_INSERT_HEAD(&t->all, e, all_entry);
	return (e);
}

/* The entry for a key, or NULL. */
struct table_entry *
table_find(struct table *t, uid_t uid, const char *server, const char *thread)
{
	return ((struct table_entry *)table_hash_find(&t->entries, uid,
	    server, thread));
}

/* Unlink an entry from everything and free it (not its value). */
void
table_remove(struct table *t, struct table_entry *e)
{
	if (!e->busy)
		table_idle_unlink(t, e);
	LIST_REMOVE(e, all_entry);
	table_hash_del(&t->entries, &e->node);
	table_group_release(t, e->group);
	free(e);
}

/* Mark an entry busy (off the idle lists) or idle (most recently used). */
void
table_set_busy(struct table *t, struct table_entry *e, int busy)
{
	busy = busy != 0;
	if (busy == e->busy)
		return;
	e->busy = busy;
	if (busy)
		table_idle_unlink(t, e);
	else
		table_idle_link(t, e);
}

/* Make an idle entry the most recently used; busy entries are left alone. */
void
table_touch(struct table *t, struct table_entry *e)
{
	if (e->busy)
		return;
	table_idle_unlink(t, e);
	table_idle_link(t, e);
}

/* The least recently used idle entry of a server (NULL: of all), or NULL. */
struct table_entry *
table_lru_idle(struct table *t, const char *server)
{
	struct table_group	*g;

	if (server == NULL)
		return (TAILQ_LAST(&t->idle, table_idle));
	if ((g = table_group_find(t, server)) == NULL)
		return (NULL);
	return (TAILQ_LAST(&g->idle, table_idle));
}

/* How many entries the table holds. */
size_t
table_count(struct table *t)
{
	return (t->entries.count);
}

/* How many entries a server has, busy or idle. */
size_t
table_count_server(struct table *t, const char *server)
{
	struct table_group	*g;

	if ((g = table_group_find(t, server)) == NULL)
		return (0);
	return (g->count);
}

/* The first entry of an iteration, or NULL if the table is empty. */
struct table_entry *
table_first(struct table *t)
{
	return (LIST_FIRST(&t->all));
}

/* The entry after e in an iteration, or NULL. */
struct table_entry *
table_next(__attribute__((unused)) struct table *t, struct table_entry *e)
{
	return (LIST_NEXT(e, all_entry));
}

/* The caller's value. */
void *
table_value(struct table_entry *e)
{
	return (e->value);
}

/* The owner uid of the key. */
uid_t
table_uid(struct table_entry *e)
{
	return (e->node.uid);
}

/* The server name of the key; lives as long as the entry. */
const char *
table_server(struct table_entry *e)
{
	return (e->node.server);
}

/* The thread of the key; lives as long as the entry. */
const char *
table_thread(struct table_entry *e)
{
	return (e->node.thread);
}

/* Whether the entry is busy (on no idle list). */
int
table_busy(struct table_entry *e)
{
	return (e->busy);
}

/* Remember a key's last generation, as the newest remembered key. */
void
table_remember(struct table *t, uid_t uid, const char *server,
    const char *thread, unsigned generation)
{
	struct table_memo	*m;

	m = (struct table_memo *)table_hash_find(&t->memos, uid, server,
	    thread);
	if (m != NULL) {
		TAILQ_REMOVE(&t->fifo, m, fifo_entry);
		TAILQ_INSERT_HEAD(&t->fifo, m, fifo_entry);
		m->generation = generation;
		return;
	}
	if (t->memos.count >= TABLE_MEMORY_MAX)
		table_memo_drop(t, TAILQ_LAST(&t->fifo, table_fifo));
	m = table_node_new(sizeof *m, uid, server, thread);
	m->generation = generation;
	table_hash_add(&t->memos, &m->node);
	TAILQ_INSERT_HEAD(&t->fifo, m, fifo_entry);
}

/* The remembered generation of a key, or 0 if none. */
unsigned
table_recall(struct table *t, uid_t uid, const char *server,
    const char *thread)
{
	struct table_memo	*m;

	m = (struct table_memo *)table_hash_find(&t->memos, uid, server,
	    thread);
	if (m == NULL)
		return (0);
	return (m->generation);
}

/* Stop remembering a key (an explicit close: its next session is 1). */
void
table_forget(struct table *t, uid_t uid, const char *server,
    const char *thread)
{
	struct table_memo	*m;

	m = (struct table_memo *)table_hash_find(&t->memos, uid, server,
	    thread);
	if (m != NULL)
		table_memo_drop(t, m);
}
