/*
 * The session table: three chained hashes (entries, servers, remembered
 * generations) sharing one key type and one hash function, and intrusive
 * lists for recency.
 *
 * Every key is (uid, server, thread), stored in the same allocation as the
 * object that carries it. A server's group is keyed (0, name, ""), a uid's
 * record (uid, "", "") and a uid's part of a server (uid, name, "").
 *
 * Client-chosen thread names feed an unkeyed hash, so they can be made to
 * collide; that is harmless because every hash here is bounded (sessions by
 * max_sessions, remembered keys by TABLE_MEMORY_MAX, groups by the config,
 * uids by the sessions and clients they hold).
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

/*
 * A uid's entries: all of them (a struct table_owner, keyed (uid, "", ""),
 * which also counts the uid's clients), or those of one server (a struct
 * table_share, keyed (uid, server, "")). Either is a holder.
 */
struct table_holder {
	struct table_node	 node;		/* first */
	size_t			 count;		/* entries, busy or idle */
	struct table_idle	 idle;		/* most recent at head */
	LIST_ENTRY(table_holder) entry;		/* while count is not 0 */
};
LIST_HEAD(table_holders, table_holder);

/* What the table knows about one uid. */
struct table_owner {
	struct table_holder	 holder;	/* first: (uid, "", "") */
	size_t			 clients;
};

/* What the table knows about one server name. */
struct table_group {
	struct table_node	 node;		/* first: (0, name, "") */
	size_t			 count;		/* entries, busy or idle */
	struct table_idle	 idle;		/* most recent at head */
	struct table_holders	 shares;	/* uids with entries here */
	size_t			 nshares;
};

struct table_entry {
	struct table_node	 node;		/* first */
	void			*value;
	int			 busy;
	struct table_group	*group;
	struct table_owner	*owner;
	struct table_holder	*share;

	LIST_ENTRY(table_entry)	 all_entry;
	TAILQ_ENTRY(table_entry) idle_entry;	/* only when not busy */
	TAILQ_ENTRY(table_entry) group_entry;	/* only when not busy */
	TAILQ_ENTRY(table_entry) owner_entry;	/* only when not busy */
	TAILQ_ENTRY(table_entry) share_entry;	/* only when not busy */
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
	struct table_hash	 owners;
	struct table_hash	 shares;

	struct table_all	 all;
	struct table_holders	 holders;	/* owners with entries */
	size_t			 nholders;
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
static struct table_owner *table_owner_find(struct table *, uid_t);
static struct table_owner *table_owner_get(struct table *, uid_t);
static void	 table_owner_release(struct table *, struct table_owner *);
static struct table_holder *table_share_find(struct table *, uid_t,
		     const char *);
static struct table_holder *table_share_get(struct table *, uid_t,
		     struct table_group *);
static void	 table_share_release(struct table *, struct table_entry *);
static struct table_entry *table_holder_lru(struct table_holder *);
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
	LIST_INIT(&g->shares);
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

/* A uid's record, or NULL if it holds neither entries nor clients. */
static struct table_owner *
table_owner_find(struct table *t, uid_t uid)
{
	return ((struct table_owner *)table_hash_find(&t->owners, uid, "",
	    ""));
}

/* A uid's record, created if it has none. */
static struct table_owner *
table_owner_get(struct table *t, uid_t uid)
{
	struct table_owner	*o;

	if ((o = table_owner_find(t, uid)) != NULL)
		return (o);
	o = table_node_new(sizeof *o, uid, "", "");
	TAILQ_INIT(&o->holder.idle);
	table_hash_add(&t->owners, &o->holder.node);
	return (o);
}

/* Free a uid's record once it holds neither entries nor clients. */
static void
table_owner_release(struct table *t, struct table_owner *o)
{
	if (o->holder.count != 0 || o->clients != 0)
		return;
	table_hash_del(&t->owners, &o->holder.node);
	free(o);
}

/* A uid's part of a server, or NULL if it has no entries there. */
static struct table_holder *
table_share_find(struct table *t, uid_t uid, const char *server)
{
	return ((struct table_holder *)table_hash_find(&t->shares, uid,
	    server, ""));
}

/* A uid's part of a server, created with its first entry there. */
static struct table_holder *
table_share_get(struct table *t, uid_t uid, struct table_group *g)
{
	struct table_holder	*h;

	if ((h = table_share_find(t, uid, g->node.server)) != NULL)
		return (h);
	h = table_node_new(sizeof *h, uid, g->node.server, "");
	TAILQ_INIT(&h->idle);
	table_hash_add(&t->shares, &h->node);
	LIST_INSERT_HEAD(&g->shares, h, entry);
	g->nshares++;
	return (h);
}

/* An entry leaves its uid's part of its server: free it with the last. */
static void
table_share_release(struct table *t, struct table_entry *e)
{
	struct table_holder	*h = e->share;

	if (--h->count != 0)
		return;
	LIST_REMOVE(h, entry);
	e->group->nshares--;
	table_hash_del(&t->shares, &h->node);
	free(h);
}

/*
 * The least recently used idle entry of a holder, or NULL. (TAILQ_LAST
 * reads only the head, so one head type serves lists linked through
 * owner_entry and share_entry alike.)
 */
static struct table_entry *
table_holder_lru(struct table_holder *h)
{
	return (TAILQ_LAST(&h->idle, table_idle));
}

/* Put an entry at the most recent end of every idle list. */
static void
table_idle_link(struct table *t, struct table_entry *e)
{
	TAILQ_INSERT_HEAD(&t->idle, e, idle_entry);
	TAILQ_INSERT_HEAD(&e->group->idle, e, group_entry);
	TAILQ_INSERT_HEAD(&e->owner->holder.idle, e, owner_entry);
	TAILQ_INSERT_HEAD(&e->share->idle, e, share_entry);
}

/* Take an entry off every idle list. */
static void
table_idle_unlink(struct table *t, struct table_entry *e)
{
	TAILQ_REMOVE(&t->idle, e, idle_entry);
	TAILQ_REMOVE(&e->group->idle, e, group_entry);
	TAILQ_REMOVE(&e->owner->holder.idle, e, owner_entry);
	TAILQ_REMOVE(&e->share->idle, e, share_entry);
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
	table_hash_init(&t->owners);
	table_hash_init(&t->shares);
	LIST_INIT(&t->all);
	LIST_INIT(&t->holders);
	TAILQ_INIT(&t->idle);
	TAILQ_INIT(&t->fifo);
	return (t);
}

/*
 * Free the table, its entries and what it remembers; not the values.
 * Clients still counted are dropped with their uids' records.
 */
void
table_free(struct table *t)
{
	struct table_entry	*e;
	struct table_memo	*m;
	struct table_node	*n;
	size_t			 i;

	if (t == NULL)
		return;
	while ((e = LIST_FIRST(&t->all)) != NULL)
		table_remove(t, e);
	while ((m = TAILQ_FIRST(&t->fifo)) != NULL)
		table_memo_drop(t, m);
	for (i = 0; i < t->owners.size; i++) {
		while ((n = LIST_FIRST(&t->owners.buckets[i])) != NULL) {
			table_hash_del(&t->owners, n);
			free(n);
		}
	}
	table_hash_clear(&t->entries);
	table_hash_clear(&t->groups);
	table_hash_clear(&t->memos);
	table_hash_clear(&t->owners);
	table_hash_clear(&t->shares);
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
	e->owner = table_owner_get(t, uid);
	if (e->owner->holder.count++ == 0) {
		LIST_INSERT_HEAD(&t->holders, &e->owner->holder, entry);
		t->nholders++;
	}
	e->share = table_share_get(t, uid, e->group);
	e->share->count++;
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
	table_share_release(t, e);
	table_group_release(t, e->group);
	if (--e->owner->holder.count == 0) {
		LIST_REMOVE(&e->owner->holder, entry);
		t->nholders--;
		table_owner_release(t, e->owner);
	}
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

/* How many entries a uid has (of one server; NULL: of any). */
size_t
table_count_uid(struct table *t, uid_t uid, const char *server)
{
	struct table_owner	*o;
	struct table_holder	*h;

	if (server != NULL) {
		h = table_share_find(t, uid, server);
		return (h != NULL ? h->count : 0);
	}
	o = table_owner_find(t, uid);
	return (o != NULL ? o->holder.count : 0);
}

/* The least recently used idle entry of a uid (of one server), or NULL. */
struct table_entry *
table_lru_idle_uid(struct table *t, uid_t uid, const char *server)
{
	struct table_owner	*o;
	struct table_holder	*h;

	if (server != NULL) {
		h = table_share_find(t, uid, server);
		return (h != NULL ? table_holder_lru(h) : NULL);
	}
	o = table_owner_find(t, uid);
	return (o != NULL ? table_holder_lru(&o->holder) : NULL);
}

/*
 * The entry to evict so that uid may add one at capacity (the table's,
 * or with server, that server's). The fair share of each holder is the
 * capacity divided among the uids holding entries there, uid counted in
 * with its new entry. The victim is the least recently used idle entry
 * of the holder furthest over its share (uid first on a tie); a holder
 * within its share is never chosen unless it is uid itself. NULL: none
 * may be evicted. O(holders).
 */
struct table_entry *
table_fair_victim(struct table *t, const char *server, size_t capacity,
    uid_t uid)
{
	struct table_group	*g = NULL;
	struct table_holders	*list;
	struct table_holder	*h, *best = NULL, *mine = NULL;
	size_t			 n, count;
	long long		 over, most = 0;

	if (server != NULL) {
		if ((g = table_group_find(t, server)) == NULL)
			return (NULL);
		list = &g->shares;
		n = g->nshares;
	} else {
		list = &t->holders;
		n = t->nholders;
	}
	mine = server != NULL ? table_share_find(t, uid, server) :
	    (struct table_holder *)table_owner_find(t, uid);
	if (mine == NULL || mine->count == 0) {
		mine = NULL;
		n++;
	}

	/* Over its share: count / n > capacity / n, in whole numbers. */
	LIST_FOREACH(h, list, entry) {
		count = h->count + (h == mine);
		over = (long long)(count * n) - (long long)capacity;
		if (over <= 0 || table_holder_lru(h) == NULL)
			continue;
		if (best == NULL || over > most || (over == most && h == mine)) {
			best = h;
			most = over;
		}
	}
	if (best == NULL)
		best = mine;
	return (best != NULL ? table_holder_lru(best) : NULL);
}

/* A client of uid has connected. */
void
table_client_add(struct table *t, uid_t uid)
{
	table_owner_get(t, uid)->clients++;
}

/* A client of uid has gone. */
void
table_client_remove(struct table *t, uid_t uid)
{
	struct table_owner	*o;

	if ((o = table_owner_find(t, uid)) == NULL || o->clients == 0) {
		fprintf(stderr, "table_client_remove: uid %lu has no "
		    "clients\n", (unsigned long)uid);
		abort();
	}
	o->clients--;
	table_owner_release(t, o);
}

/* How many clients a uid has. */
size_t
table_count_clients(struct table *t, uid_t uid)
{
	struct table_owner	*o;

	o = table_owner_find(t, uid);
	return (o != NULL ? o->clients : 0);
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
