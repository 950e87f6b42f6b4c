/* iochunk.c: packs the per-task events (write, read, task) into io_chunks rows, many events to a row.
 *
 * A busy pool records three events per task, and one SQLite row per event
 * costs about a microsecond (bind, VDBE, B-tree), more than the pool spends
 * on the task itself. Here the events of one process, one kind, one fd and
 * one result (the "key": a task pool's reads and writes all return 4) are
 * appended as text to an open chunk:
 *
 *     [[seq - first_seq, ts_ns - first_ts_ns, arg], ...]
 *
 * which is one INSERT per chunk. The `events` view unpacks it with SQLite's
 * built-in json_each, so plain SQL (and the sqlite3 shell) still sees one row
 * per event. Nothing is summarised or dropped: every field of every event is
 * in its chunk, exactly.
 *
 * Chunks are written when they reach IOCHUNK_MAX events and at every flush,
 * which the supervisor calls before each commit: a chunk never holds an event
 * back past the commit that should have stored it.
 */
#include "core/iochunk.h"

#include "core/evlog.h"
#include "store/iochunks.h"
#include "base/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* About 100 KB of text: big enough to amortise the INSERT, small enough to unpack quickly. */
#define IOCHUNK_MAX 4096
/* The longest element: "[" three int64s with signs, two commas "],". */
#define IOCHUNK_ELEM_MAX (3 * 21 + 5)

struct iochunk {
	/* the key */
	int32_t pid;
	int32_t fd;          /* INT_MIN: the event has no fd (task) */
	uint64_t inode;      /* 0: none */
	int64_t result;
	uint8_t kind, pipe_end, has_result;
	/* the chunk being filled */
	int64_t pipe_id;
	uint64_t first_seq, last_seq, first_ts;
	size_t n;
	char *text;
	size_t len, cap;
};

struct iochunk_set {
	struct store_iochunks *out; /* the run's io_chunks rows */
	struct iochunk **slots; /* open addressing on the key */
	size_t cap, len;
};

bool iochunk_kind(int kind)
{
	return kind == EV_WRITE || kind == EV_READ || kind == EV_TASK;
}

struct iochunk_set *iochunk_new(struct store *st, int64_t run_id)
{
	struct iochunk_set *set = xcalloc(1, sizeof(*set));

	set->out = store_iochunks_open(st, run_id);
	return set;
}

void iochunk_free(struct iochunk_set *set)
{
	if (!set)
		return;
	store_iochunks_close(set->out);
	for (size_t i = 0; i < set->cap; i++) {
		if (set->slots[i]) {
			free(set->slots[i]->text);
			free(set->slots[i]);
		}
	}
	free(set->slots);
	free(set);
}

static size_t iochunk_hash(const struct iochunk *k, size_t cap)
{
	uint64_t h = (uint64_t)(uint32_t)k->pid * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)(uint32_t)k->fd << 8 | k->kind << 4 | k->pipe_end) * 0xff51afd7ed558ccdULL;
	h ^= k->inode * 0xc4ceb9fe1a85ec53ULL;
	h ^= (uint64_t)k->result * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	return (size_t)h & (cap - 1);
}

static bool iochunk_same(const struct iochunk *a, const struct iochunk *b)
{
	return a->pid == b->pid && a->fd == b->fd && a->inode == b->inode && a->kind == b->kind &&
	       a->pipe_end == b->pipe_end && a->has_result == b->has_result && a->result == b->result;
}

static void iochunk_grow(struct iochunk_set *set)
{
	struct iochunk **old = set->slots;
	size_t old_cap = set->cap;

	set->cap = old_cap ? old_cap * 2 : 64;
	set->slots = xcalloc(set->cap, sizeof(*set->slots));
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i])
			continue;
		for (j = iochunk_hash(old[i], set->cap); set->slots[j]; j = (j + 1) & (set->cap - 1))
			;
		set->slots[j] = old[i];
	}
	free(old);
}

/* The chunk for key, created empty if new. */
static struct iochunk *iochunk_find(struct iochunk_set *set, const struct iochunk *key)
{
	size_t i;

	if ((set->len + 1) * 2 > set->cap)
		iochunk_grow(set);
	for (i = iochunk_hash(key, set->cap); set->slots[i]; i = (i + 1) & (set->cap - 1))
		if (iochunk_same(set->slots[i], key))
			return set->slots[i];
	set->slots[i] = xmalloc(sizeof(*key));
	*set->slots[i] = *key;
	set->len++;
	return set->slots[i];
}

/* Decimal digits of v (or null) at p; returns the end. (snprintf is several times slower, and this runs 3x per event.) */
static char *iochunk_put(char *p, int64_t v, bool has)
{
	char tmp[20];
	uint64_t u;
	int n = 0;

	if (!has) {
		memcpy(p, "null", 4);
		return p + 4;
	}
	u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	if (v < 0)
		*p++ = '-';
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static int iochunk_write(struct iochunk_set *set, struct iochunk *c)
{
	struct store_iochunk row;

	if (!c->n)
		return 0;
	c->text[c->len] = ']';
	row = (struct store_iochunk){
		.kind = evlog_kind_name(c->kind),
		.pid = c->pid,
		.has_fd = c->fd != INT_MIN,
		.fd = c->fd,
		.pipe_id = c->pipe_id,
		.inode = c->inode,
		.pipe_end = c->inode ? evlog_end_name(c->pipe_end) : NULL,
		.has_result = c->has_result,
		.result = c->result,
		.first_seq = c->first_seq,
		.last_seq = c->last_seq,
		.first_ts_ns = c->first_ts,
		.n = c->n,
		.events = c->text,
		.events_len = c->len + 1, /* with the ']' */
	};
	/* Empty again whether or not the row was written: a failed write fails the run. */
	c->n = 0;
	c->len = 0;
	return store_iochunks_add(set->out, &row) < 0 ? -EIO : 0;
}

int iochunk_add(struct iochunk_set *set, const struct evlog_record *r, int64_t pipe_id)
{
	struct iochunk key = {
		.pid = r->pid,
		.fd = r->has & HAS_FD ? r->fd : INT_MIN,
		.inode = r->has & HAS_INODE ? r->inode : 0,
		.kind = r->kind,
		.pipe_end = r->has & HAS_INODE ? r->pipe_end : END_NONE,
		.has_result = (r->has & HAS_RESULT) != 0,
		.result = r->has & HAS_RESULT ? r->result : 0,
	};
	struct iochunk *c = iochunk_find(set, &key);
	uint64_t seq = r->ready;
	char *p;

	if (!c->n) {
		c->pipe_id = pipe_id;
		c->first_seq = seq;
		c->first_ts = r->ts_ns;
	}
	/* room for one more element and the closing ']' */
	ALLOC_GROW(c->text, c->len + IOCHUNK_ELEM_MAX + 2, c->cap, 4096);
	p = c->text + c->len;
	*p++ = c->n ? ',' : '[';
	*p++ = '[';
	p = iochunk_put(p, (int64_t)(seq - c->first_seq), true);
	*p++ = ',';
	p = iochunk_put(p, (int64_t)(r->ts_ns - c->first_ts), true);
	*p++ = ',';
	p = iochunk_put(p, r->arg, r->has & HAS_ARG);
	*p++ = ']';
	c->len = (size_t)(p - c->text);
	c->last_seq = seq;
	if (++c->n >= IOCHUNK_MAX)
		return iochunk_write(set, c);
	return 0;
}

int iochunk_flush(struct iochunk_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i] && iochunk_write(set, set->slots[i]) < 0)
			return -EIO;
	return 0;
}
