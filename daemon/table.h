/*
 * The session table: sessions keyed by (owner uid, server, thread), with
 * O(1) lookup, O(1) recency update, and a choice of eviction victim in
 * O(1) per uid holding entries.
 *
 * Busy entries (a request in flight, or still starting) sit on no recency
 * list, so the least recently used idle entry is always a list tail: the
 * global one, a server's, a uid's, or a uid's within a server. Per uid
 * the table counts entries (in all and per server) and clients, so that
 * capacity can be shared fairly among uids in O(uids) per decision. The
 * table also remembers, for a bounded number of ended keys, the
 * generation of their last session.
 *
 * The table owns its entries and their key strings; values are the
 * caller's (the broker stores a struct session *).
 */
#ifndef DAEMON_TABLE_H
#define DAEMON_TABLE_H

#include <sys/types.h>

#include <stddef.h>

/* How many ended keys keep their generation (oldest forgotten first). */
#define TABLE_MEMORY_MAX	4096

struct table;
struct table_entry;

/* Free frees every entry and what the table remembers, not the values. */
struct table	*table_new(void);
void		 table_free(struct table *);

/*
 * Insert a key that is not in the table (a duplicate aborts: find first).
 * The new entry starts busy, as a session that is still starting: it is on
 * no idle list until table_set_busy(t, e, 0). The key strings are copied.
 */
struct table_entry *table_insert(struct table *, uid_t, const char *,
		     const char *, void *);
struct table_entry *table_find(struct table *, uid_t, const char *,
		     const char *);
/* Unlink the entry from everything and free it; not its value. */
void		 table_remove(struct table *, struct table_entry *);

/*
 * Busy (nonzero) takes the entry off both idle lists; idle (0) puts it at
 * the most recent end of both, since it was just used. Setting the state
 * it already has does nothing. Touch makes an idle entry the most recent
 * and ignores a busy one. All O(1).
 */
void		 table_set_busy(struct table *, struct table_entry *, int);
void		 table_touch(struct table *, struct table_entry *);
/* Least recently used idle entry of a server (NULL: of any), or NULL. */
struct table_entry *table_lru_idle(struct table *, const char *);

/* Entries in all, and of one server (busy or idle; 0 for unknown names). */
size_t		 table_count(struct table *);
size_t		 table_count_server(struct table *, const char *);

/*
 * Per uid: its entries (of one server; NULL: of any), its least recently
 * used idle entry (likewise), and the victim for its new entry at a
 * capacity, shared fairly among the uids holding entries of the server
 * (NULL: of the table): the least recently used idle entry of the uid
 * furthest over its share (the capacity divided among the holders, the
 * requesting uid counted with its new entry), never one of another uid
 * within its share; the requester's own when nobody over has one idle.
 * NULL if none may go.
 */
size_t		 table_count_uid(struct table *, uid_t, const char *);
struct table_entry *table_lru_idle_uid(struct table *, uid_t, const char *);
struct table_entry *table_fair_victim(struct table *, const char *, size_t,
		     uid_t);

/* Clients per uid, counted here beside its entries. */
void		 table_client_add(struct table *, uid_t);
void		 table_client_remove(struct table *, uid_t);
size_t		 table_count_clients(struct table *, uid_t);

/*
 * Visit every entry once, in no particular order. Take the successor
 * before doing anything that may remove the current entry:
 *
 *	for (e = table_first(t); e != NULL; e = next) {
 *		next = table_next(t, e);
 *		if (...)
 *			table_remove(t, e);
 *	}
 *
 * Removing the current entry is safe that way; removing any other entry
 * (next included) is not. Inserting is safe, but a new entry may not be
 * visited.
 */
struct table_entry *table_first(struct table *);
struct table_entry *table_next(struct table *, struct table_entry *);

/* The key strings belong to the entry and live as long as it does. */
void		*table_value(struct table_entry *);
uid_t		 table_uid(struct table_entry *);
const char	*table_server(struct table_entry *);
const char	*table_thread(struct table_entry *);
int		 table_busy(struct table_entry *);

/*
 * Generations of ended keys: remember stores one (and makes that key the
 * newest remembered; at TABLE_MEMORY_MAX keys the oldest is dropped),
 * recall returns it or 0 if unknown, forget drops it. All O(1).
 */
void		 table_remember(struct table *, uid_t, const char *,
		     const char *, unsigned);
unsigned	 table_recall(struct table *, uid_t, const char *,
		     const char *);
void		 table_forget(struct table *, uid_t, const char *,
		     const char *);

#endif
