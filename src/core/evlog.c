/* evlog.c: the shared event log: a ring of fixed-size records in an anonymous MAP_SHARED mapping.
 *
 * Invariants:
 *   1. tail <= head <= tail + capacity. Writers claim index `head` with a CAS
 *      only while head - tail < capacity, so a claimed slot is always free.
 *   2. A slot's `ready` equals index + 1 exactly when the record at that index
 *      is complete; the reader reads fields only after seeing that (acquire).
 *   3. Only the reader (the supervisor) moves tail, after copying the records.
 *   4. Sequence numbers are index + 1, dense: a dropped event claims no index,
 *      it only increments `dropped`, which the supervisor records.
 *   5. A writer facing a full ring sleeps on the space_gen futex (shared, not
 *      private: the mapping spans processes) for at most wait_ms in all; the
 *      reader wakes every waiter after moving tail. A thousand processes
 *      polling instead would starve the reader of the CPU it needs.
 *   6. The text arena is a ring of bytes, counted by absolute positions:
 *      text_head (claimed) and text_tail (freed), text_head - text_tail <=
 *      EVLOG_ARENA_SIZE. A writer claims a contiguous span with a CAS on
 *      text_head (skipping the bytes left before the wrap), fills it, then
 *      completes its record, which names the span. The reader copies a span
 *      out when it drains the record, and frees spans in ring order: one
 *      drained ahead of an undrained one waits in the reader's list until the
 *      gap is drained too. So no span is reused before it was read. A writer
 *      killed between claim and record leaves a span never drained: the
 *      arena then fills up, and later long texts are cut (keeping the end).
 *
 * The mapping is created before the first fork and holds no fd, so the fd
 * tables being traced contain nothing of the tracer's.
 */
#include "core/evlog.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

struct evlog {
	/* Each hot counter on its own cache line: writers hammer head, the reader tail. */
	_Alignas(64) _Atomic uint64_t head;
	_Alignas(64) _Atomic uint64_t tail;
	_Alignas(64) _Atomic uint64_t dropped;
	/* Futex word: bumped by the reader whenever it frees slots while
	 * writers wait for room, so they sleep instead of polling. */
	_Alignas(64) _Atomic uint32_t space_gen;
	_Atomic uint32_t space_waiters;
	_Alignas(64) _Atomic uint64_t text_head; /* arena bytes claimed, ever */
	_Alignas(64) _Atomic uint64_t text_tail; /* arena bytes freed, ever (reader) */
	uint64_t capacity;
	uint64_t mask;
	unsigned wait_ms;
	size_t map_size;
	char *arena;                              /* EVLOG_ARENA_SIZE bytes after the slots */
	_Alignas(128) struct evlog_record slots[];
};

/* What a record's text holds when HAS_LONG_TEXT is set. */
struct evlog_text_ref {
	uint64_t from;  /* text_head before the claim: the span frees from here */
	uint64_t start; /* where the text begins (after any bytes skipped at the wrap) */
	uint32_t len;
	uint32_t copy;  /* in a drained record: offset in the reader's texts */
};
_Static_assert(sizeof(struct evlog_text_ref) <= EVLOG_TEXT_MAX, "a text reference fits a record");

_Static_assert(sizeof(struct evlog_record) == 128, "records are two cache lines");

static const char *const evlog_kind_names[EV_KIND_MAX] = {
	[EV_PIPE] = "pipe",         [EV_FORK] = "fork",
	[EV_INHERIT] = "inherit",   [EV_CLOSE] = "close",
	[EV_CLOSE_RANGE] = "close_range",
	[EV_DUP2] = "dup2",         [EV_WRITE] = "write",
	[EV_READ] = "read",         [EV_READ_ZERO] = "read_zero",
	[EV_TASK] = "task",         [EV_EXIT] = "exit",
	[EV_REAP] = "reap",         [EV_HANG] = "hang",
	[EV_KILL] = "kill",         [EV_OVERFLOW] = "overflow",
	[EV_EXEC] = "exec",         [EV_CLOEXEC] = "cloexec",
	[EV_DUP] = "dup",           [EV_BLOCKED] = "blocked",
	[EV_CHECK] = "check",       [EV_SOCKETPAIR] = "socketpair",
	[EV_RECEIVE] = "receive",   [EV_SHUTDOWN] = "shutdown",
	[EV_FOUND] = "found",
};

const char *evlog_kind_name(int kind)
{
	if (kind <= 0 || kind >= EV_KIND_MAX)
		return "unknown";
	return evlog_kind_names[kind];
}

const char *evlog_end_name(int end)
{
	switch (end) {
	case END_READ: return "read";
	case END_WRITE: return "write";
	case END_RDWR: return "readwrite";
	case END_SOCKET: return "socket";
	default: return NULL;
	}
}

uint64_t evlog_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct evlog *evlog_create(size_t capacity, unsigned wait_ms)
{
	size_t cap = 64, size;
	struct evlog *log;

	while (cap < capacity)
		cap <<= 1;
	size = sizeof(struct evlog) + cap * sizeof(struct evlog_record) + EVLOG_ARENA_SIZE;
	/* Pages are only touched as the ring fills, so a large capacity costs little. */
	log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (log == MAP_FAILED)
		return NULL;
	log->capacity = cap;
	log->mask = cap - 1;
	log->arena = (char *)&log->slots[cap];
	log->wait_ms = wait_ms;
	log->map_size = size;
	return log;
}

void evlog_destroy(struct evlog *log)
{
	if (log)
		munmap(log, log->map_size);
}

static void evlog_wait_for_space(struct evlog *log, uint32_t gen, uint64_t timeout_ns)
{
	struct timespec ts = { (time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u) };

	syscall(SYS_futex, &log->space_gen, FUTEX_WAIT, gen, &ts, NULL, 0);
}

static uint64_t evlog_claim(struct evlog *log, unsigned wait_ms, bool count_drop)
{
	uint64_t head = atomic_load_explicit(&log->head, memory_order_relaxed);
	uint64_t deadline = 0;

	for (;;) {
		uint64_t tail = atomic_load_explicit(&log->tail, memory_order_acquire);

		if (head - tail >= log->capacity) {
			uint64_t now = evlog_now_ns();
			uint32_t gen;

			if (!deadline)
				deadline = now + (uint64_t)wait_ms * 1000000u;
			if (now >= deadline) {
				if (count_drop)
					evlog_count_drop(log);
				return 0;
			}
			/* Announce ourselves, then re-check: the reader either sees the
			 * waiter count or we see its new tail; no wake-up is lost. */
			gen = atomic_load_explicit(&log->space_gen, memory_order_acquire);
			atomic_fetch_add_explicit(&log->space_waiters, 1, memory_order_seq_cst);
			tail = atomic_load_explicit(&log->tail, memory_order_seq_cst);
			if (head - tail >= log->capacity)
				evlog_wait_for_space(log, gen, deadline - now);
			atomic_fetch_sub_explicit(&log->space_waiters, 1, memory_order_relaxed);
			head = atomic_load_explicit(&log->head, memory_order_relaxed);
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(&log->head, &head, head + 1,
							  memory_order_acq_rel, memory_order_relaxed)) {
			/* Invariant 1: the slot claimed is free (tail only grows). */
			assert(head - tail < log->capacity);
			return head + 1;
		}
	}
}

void evlog_count_drop(struct evlog *log)
{
	atomic_fetch_add_explicit(&log->dropped, 1, memory_order_relaxed);
}

uint64_t evlog_reserve(struct evlog *log)
{
	return evlog_claim(log, log->wait_ms, true);
}

static void evlog_place_text(struct evlog *log, struct evlog_record *r);

void evlog_fill(struct evlog *log, uint64_t seq, const struct evlog_record *rec)
{
	struct evlog_record *slot = &log->slots[(seq - 1) & log->mask];

	/* Invariants 1 and 4: seq was claimed (evlog_claim) and is not drained yet. */
	assert(seq >= 1 && seq <= atomic_load_explicit(&log->head, memory_order_relaxed));
	assert(seq > atomic_load_explicit(&log->tail, memory_order_relaxed));
	memcpy((char *)slot + sizeof(slot->ready), (const char *)rec + sizeof(rec->ready),
	       sizeof(*slot) - sizeof(slot->ready));
	if (slot->has & HAS_LONG_TEXT)
		evlog_place_text(log, slot);
	atomic_store_explicit(&slot->ready, seq, memory_order_release);
}

static uint64_t evlog_put(struct evlog *log, const struct evlog_record *rec, unsigned wait_ms, bool count_drop)
{
	struct evlog_record r;
	uint64_t seq = evlog_claim(log, wait_ms, count_drop);

	if (!seq)
		return 0;
	memcpy(&r, rec, sizeof(r));
	r.ts_ns = evlog_now_ns();
	evlog_fill(log, seq, &r);
	return seq;
}

uint64_t evlog_append(struct evlog *log, const struct evlog_record *rec)
{
	return evlog_put(log, rec, log->wait_ms, true);
}

uint64_t evlog_try_append(struct evlog *log, const struct evlog_record *rec)
{
	return evlog_put(log, rec, 0, false);
}

void evlog_set_text(struct evlog_record *rec, const char *s)
{
	size_t len = strlen(s);

	rec->has &= (uint8_t)~HAS_LONG_TEXT;
	if (len < sizeof(rec->text)) {
		memcpy(rec->text, s, len + 1);
		return;
	}
	/* Placed in the arena by evlog_fill, once the record has its slot. */
	memcpy(rec->text, &s, sizeof(s));
	rec->has |= HAS_LONG_TEXT;
}

/*
 * Moves the long text r points to into the arena, and makes r name its span.
 * Called only with r's slot already claimed: a writer never waits (for a
 * slot) while it holds a span, or the reader could not free the spans after
 * it (invariant 6).
 */
static void evlog_place_text(struct evlog *log, struct evlog_record *r)
{
	const char *s;
	size_t len;
	uint64_t head, start, tail;

	memcpy(&s, r->text, sizeof(s));
	len = strlen(s);
	head = atomic_load_explicit(&log->text_head, memory_order_relaxed);
	for (;;) {
		/* A span never wraps: the bytes before the end are skipped. */
		start = head % EVLOG_ARENA_SIZE + len > EVLOG_ARENA_SIZE ? head + EVLOG_ARENA_SIZE - head % EVLOG_ARENA_SIZE
									    : head;
		tail = atomic_load_explicit(&log->text_tail, memory_order_acquire);
		if (start + len - tail > EVLOG_ARENA_SIZE)
			break;
		if (atomic_compare_exchange_weak_explicit(&log->text_head, &head, start + len, memory_order_acq_rel,
							  memory_order_relaxed)) {
			struct evlog_text_ref ref = { head, start, (uint32_t)len, 0 };

			memcpy(log->arena + start % EVLOG_ARENA_SIZE, s, len);
			memcpy(r->text, &ref, sizeof(ref));
			return;
		}
	}
	/* The arena is full (the reader far behind): keep the end, which says
	 * most of a path. */
	r->has &= (uint8_t)~HAS_LONG_TEXT;
	memcpy(r->text, "\xe2\x80\xa6", 3);
	memcpy(r->text + 3, s + len - (sizeof(r->text) - 4), sizeof(r->text) - 3);
}

/*
 * Copies the arena span r names into texts, points r at the copy, and frees
 * what can be freed in ring order (invariant 6).
 */
static void evlog_take_text(struct evlog *log, struct evlog_record *r, struct evlog_texts *texts)
{
	uint64_t tail = atomic_load_explicit(&log->text_tail, memory_order_relaxed);
	struct evlog_text_ref ref;
	size_t i;

	memcpy(&ref, r->text, sizeof(ref));
	assert(ref.from >= tail && ref.start + ref.len <= atomic_load(&log->text_head));
	/* Invariant 6: what is claimed and not freed fits the arena. */
	assert(atomic_load(&log->text_head) - tail <= EVLOG_ARENA_SIZE);
	if (texts->len + ref.len + 1 > texts->cap) {
		texts->cap = (texts->len + ref.len + 1) * 2;
		texts->buf = realloc(texts->buf, texts->cap);
		if (!texts->buf)
			abort(); /* out of memory in the reader, as xrealloc would */
	}
	memcpy(texts->buf + texts->len, log->arena + ref.start % EVLOG_ARENA_SIZE, ref.len);
	texts->buf[texts->len + ref.len] = '\0';
	ref.copy = (uint32_t)texts->len;
	texts->len += ref.len + 1;
	memcpy(r->text, &ref, sizeof(ref));

	/* Keep the drained spans sorted by where they start; free the run of
	 * them that begins at the tail. */
	if (texts->nspans == texts->spans_cap) {
		texts->spans_cap = texts->spans_cap ? texts->spans_cap * 2 : 16;
		texts->spans = realloc(texts->spans, texts->spans_cap * sizeof(*texts->spans));
		if (!texts->spans)
			abort();
	}
	for (i = texts->nspans; i > 0 && texts->spans[i - 1].from > ref.from; i--)
		texts->spans[i] = texts->spans[i - 1];
	texts->spans[i] = (struct evlog_span){ ref.from, ref.start + ref.len };
	texts->nspans++;
	for (i = 0; i < texts->nspans && texts->spans[i].from == tail; i++)
		tail = texts->spans[i].end;
	if (i) {
		memmove(texts->spans, texts->spans + i, (texts->nspans - i) * sizeof(*texts->spans));
		texts->nspans -= i;
		atomic_store_explicit(&log->text_tail, tail, memory_order_release);
	}
}

void evlog_texts_attach(struct evlog_texts *texts, struct evlog_record *r, const char *s)
{
	size_t len = strlen(s);
	struct evlog_text_ref ref = { 0, 0, (uint32_t)len, 0 };

	r->has &= (uint8_t)~HAS_LONG_TEXT;
	if (len < sizeof(r->text)) {
		memcpy(r->text, s, len + 1);
		return;
	}
	if (texts->len + len + 1 > texts->cap) {
		texts->cap = (texts->len + len + 1) * 2;
		texts->buf = realloc(texts->buf, texts->cap);
		if (!texts->buf)
			abort();
	}
	memcpy(texts->buf + texts->len, s, len + 1);
	ref.copy = (uint32_t)texts->len;
	texts->len += len + 1;
	memcpy(r->text, &ref, sizeof(ref));
	r->has |= HAS_LONG_TEXT;
}

const char *evlog_text(const struct evlog_record *r, const struct evlog_texts *texts)
{
	struct evlog_text_ref ref;

	if (!(r->has & HAS_LONG_TEXT))
		return r->text;
	memcpy(&ref, r->text, sizeof(ref));
	assert(texts && ref.copy < texts->len);
	return texts->buf + ref.copy;
}

void evlog_texts_release(struct evlog_texts *texts)
{
	free(texts->buf);
	free(texts->spans);
	*texts = (struct evlog_texts){ 0 };
}

size_t evlog_drain(struct evlog *log, struct evlog_record *out, size_t max, struct evlog_texts *texts)
{
	uint64_t tail = atomic_load_explicit(&log->tail, memory_order_relaxed);
	size_t n = 0;

	texts->len = 0;
	while (n < max) {
		struct evlog_record *slot = &log->slots[(tail + n) & log->mask];

		if (atomic_load_explicit(&slot->ready, memory_order_acquire) != tail + n + 1)
			break;
		memcpy(&out[n], slot, sizeof(*slot));
		if (out[n].has & HAS_LONG_TEXT)
			evlog_take_text(log, &out[n], texts);
		n++;
	}
	/* Invariants 1 and 3: only the reader moves tail, and never past head. */
	assert(tail + n <= atomic_load_explicit(&log->head, memory_order_acquire));
	atomic_store_explicit(&log->tail, tail + n, memory_order_seq_cst);
	if (n && atomic_load_explicit(&log->space_waiters, memory_order_seq_cst)) {
		atomic_fetch_add_explicit(&log->space_gen, 1, memory_order_release);
		syscall(SYS_futex, &log->space_gen, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	}
	return n;
}

uint64_t evlog_skip_torn(struct evlog *log)
{
	uint64_t head = atomic_load_explicit(&log->head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&log->tail, memory_order_relaxed);
	uint64_t skipped = 0;

	/* Called only with no writer left, so what is unready now stays unready. */
	while (tail < head) {
		struct evlog_record *slot = &log->slots[tail & log->mask];

		if (atomic_load_explicit(&slot->ready, memory_order_acquire) == tail + 1)
			break;
		skipped++;
		tail++;
	}
	atomic_store_explicit(&log->tail, tail, memory_order_release);
	return skipped;
}

uint64_t evlog_head(const struct evlog *log)
{
	return atomic_load_explicit(&((struct evlog *)log)->head, memory_order_acquire);
}

uint64_t evlog_pending(const struct evlog *log)
{
	struct evlog *l = (struct evlog *)log;

	return atomic_load_explicit(&l->head, memory_order_acquire) -
	       atomic_load_explicit(&l->tail, memory_order_acquire);
}

uint64_t evlog_dropped(const struct evlog *log)
{
	return atomic_load_explicit(&((struct evlog *)log)->dropped, memory_order_relaxed);
}

size_t evlog_capacity(const struct evlog *log)
{
	return log->capacity;
}
