/* pidmap.h: one table of entries keyed by pid (the tracer's tasks, the processes an fd model or an ingest knows), by open addressing. */
#ifndef POOLTRACE_PIDMAP_H
#define POOLTRACE_PIDMAP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A table of fixed-size entries, each a struct whose first member is its
 * pid_t key. Invariants:
 *   1. a slot whose key is 0 is empty, so pid 0 is never a key;
 *   2. the table is at most half full (2 * len <= cap), cap a power of two
 *      (64, then doubling) or 0;
 *   3. an entry is found by linear probing from hash_slot(pid, cap), and
 *      every slot between there and the entry is full.
 * Entries live in the table: a pointer that pidmap_get or pidmap_put
 * returns is good until the next pidmap_put or pidmap_del, either of which
 * may move entries. Slots 0..cap, in order, are the iteration order
 * (pidmap_at), the same for the same puts. The table owns no more than
 * its slots: what an entry points to is the caller's to free, before
 * pidmap_del or pidmap_release.
 */
struct pidmap {
	char *slots;
	size_t size;     /* bytes in one entry */
	size_t cap, len; /* slots, full slots */
};
/* An empty map of entries of type, which must begin with its pid_t key. */
#define PIDMAP_INIT(type) { NULL, sizeof(type), 0, 0 }

/* The entry for pid, or NULL when it has none (pid 0 never has one). */
void *pidmap_get(const struct pidmap *m, pid_t pid);
/* The entry for pid (not 0), made when new: zeroed but for its key. */
void *pidmap_put(struct pidmap *m, pid_t pid);
/* Removes the entry e (from pidmap_get or pidmap_put); backward-shift deletion keeps invariant 3. */
void pidmap_del(struct pidmap *m, void *e);
/* The entry in slot i (< cap), or NULL when that slot is empty: for iterating. */
void *pidmap_at(const struct pidmap *m, size_t i);
/* Frees the slots; m is empty afterwards, for entries of the same size. */
void pidmap_release(struct pidmap *m);

#endif
