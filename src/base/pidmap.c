/* pidmap.c: one table of entries keyed by pid (the tracer's tasks, the processes an fd model or an ingest knows), by open addressing. */
#include "base/pidmap.h"

#include "base/util.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static pid_t pidmap_key(const struct pidmap *m, size_t i)
{
	pid_t k;

	memcpy(&k, m->slots + i * m->size, sizeof(k));
	return k;
}

/* The slot of pid, or of the empty slot where it would go; cap > 0. */
static size_t pidmap_find(const struct pidmap *m, pid_t pid)
{
	size_t i = hash_slot((uint64_t)pid, m->cap);
	pid_t k;

	while ((k = pidmap_key(m, i)) && k != pid)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *pidmap_get(const struct pidmap *m, pid_t pid)
{
	size_t i;

	if (!pid || !m->cap)
		return NULL;
	i = pidmap_find(m, pid);
	return pidmap_key(m, i) ? m->slots + i * m->size : NULL;
}

/* Doubles the slots and puts every entry back, in slot order. */
static void pidmap_grow(struct pidmap *m)
{
	struct pidmap old = *m;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->slots = xcalloc(m->cap, m->size);
	for (size_t i = 0; i < old.cap; i++) {
		pid_t k = pidmap_key(&old, i);

		if (k)
			memcpy(m->slots + pidmap_find(m, k) * m->size, old.slots + i * m->size, m->size);
	}
	free(old.slots);
}

void *pidmap_put(struct pidmap *m, pid_t pid)
{
	size_t i;
	char *e;

	assert(pid != 0 && m->size >= sizeof(pid_t));
	/* Room first, even for a pid already there: the growth, and so the slot order, of the tables it replaced. */
	if ((m->len + 1) * 2 > m->cap)
		pidmap_grow(m);
	i = pidmap_find(m, pid);
	e = m->slots + i * m->size;
	if (pidmap_key(m, i))
		return e;
	memset(e, 0, m->size);
	memcpy(e, &pid, sizeof(pid));
	m->len++;
	assert(2 * m->len <= m->cap);
	return e;
}

void pidmap_del(struct pidmap *m, void *e)
{
	size_t i = (size_t)((char *)e - m->slots) / m->size, j = i;

	assert(i < m->cap && pidmap_key(m, i));
	memset(e, 0, m->size);
	m->len--;
	for (;;) {
		size_t home;
		pid_t k;

		j = (j + 1) & (m->cap - 1);
		if (!(k = pidmap_key(m, j)))
			return;
		home = hash_slot((uint64_t)k, m->cap);
		/* The entry at j may move to i if its home is not in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			memcpy(m->slots + i * m->size, m->slots + j * m->size, m->size);
			memset(m->slots + j * m->size, 0, m->size);
			i = j;
		}
	}
}

void *pidmap_at(const struct pidmap *m, size_t i)
{
	assert(i < m->cap);
	return pidmap_key(m, i) ? m->slots + i * m->size : NULL;
}

void pidmap_release(struct pidmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = 0;
}
