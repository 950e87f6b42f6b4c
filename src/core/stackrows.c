/* stackrows.c: a run's call stacks (record --stacks), kept once each by hash, and which event had which.
 *
 * The tracer captures a stack at a few kinds of event (pipe, socketpair,
 * fork, dup, close of a pipe end, exec); most are the same few stacks again
 * (a loop's pipe(), every worker's close). So a stack is kept once, under a
 * hash of its frames, and each event keeps only that id. All of it is
 * written in the run's last transaction (session_finish, through
 * store/stacks.c): a stack is known only in memory until then, which costs
 * nothing for a run without --stacks.
 */
#include "core/stackrows.h"

#include "store/stacks.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct stackrows_stack {
	int64_t id;
	struct stack_frame *frames; /* texts owned */
	size_t n;
	int own;
};

struct stackrows_link {
	uint64_t seq;
	int64_t id;
};

struct stackrows {
	struct stackrows_stack *stacks;
	size_t nstacks, stacks_cap;
	struct stackrows_link *links;
	size_t nlinks, links_cap;
	struct inomap index; /* id -> index + 1 in stacks */
};

struct stackrows *stackrows_new(void)
{
	return xcalloc(1, sizeof(struct stackrows));
}

void stackrows_free(struct stackrows *sr)
{
	if (!sr)
		return;
	for (size_t i = 0; i < sr->nstacks; i++) {
		for (size_t j = 0; j < sr->stacks[i].n; j++) {
			free((char *)sr->stacks[i].frames[j].module);
			free((char *)sr->stacks[i].frames[j].function);
			free((char *)sr->stacks[i].frames[j].file);
		}
		free(sr->stacks[i].frames);
	}
	free(sr->stacks);
	free(sr->links);
	inomap_release(&sr->index);
	free(sr);
}

/* FNV-1a, 64 bits. */
static uint64_t stackrows_mix(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

int64_t stackrows_hash(const struct stack_frame *frames, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		const char *m = frames[i].module ? frames[i].module : "";

		h = stackrows_mix(h, m, strlen(m) + 1);
		h = stackrows_mix(h, &frames[i].module_offset, sizeof(frames[i].module_offset));
	}
	h &= INT64_MAX;
	return h ? (int64_t)h : 1;
}

bool stackrows_has(const struct stackrows *sr, int64_t id)
{
	return inomap_get(&sr->index, (uint64_t)id) != 0;
}

static char *stackrows_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void stackrows_add(struct stackrows *sr, int64_t id, const struct stack_frame *frames, size_t n, int own)
{
	struct stackrows_stack *s;

	if (stackrows_has(sr, id))
		return;
	ALLOC_GROW(sr->stacks, sr->nstacks + 1, sr->stacks_cap, 16);
	s = &sr->stacks[sr->nstacks++];
	s->id = id;
	s->n = n;
	s->own = own;
	s->frames = xcalloc(n ? n : 1, sizeof(*s->frames));
	for (size_t i = 0; i < n; i++) {
		s->frames[i] = frames[i];
		s->frames[i].module = stackrows_dup(frames[i].module);
		s->frames[i].function = stackrows_dup(frames[i].function);
		s->frames[i].file = stackrows_dup(frames[i].file);
	}
	inomap_put(&sr->index, (uint64_t)id, (int64_t)sr->nstacks);
}

void stackrows_event(struct stackrows *sr, uint64_t seq, int64_t id)
{
	ALLOC_GROW(sr->links, sr->nlinks + 1, sr->links_cap, 64);
	sr->links[sr->nlinks++] = (struct stackrows_link){ seq, id };
}

int stackrows_store(const struct stackrows *sr, struct store *st, int64_t run_id)
{
	struct store_stacks *w;
	int rc = -EIO;

	if (!sr || (!sr->nstacks && !sr->nlinks))
		return 0;
	if (store_stacks_open(st, run_id, &w) < 0)
		return -EIO;
	for (size_t i = 0; i < sr->nstacks; i++) {
		const struct stackrows_stack *s = &sr->stacks[i];

		if (store_stacks_add(w, s->id, s->n, s->own) < 0)
			goto out;
		for (size_t j = 0; j < s->n; j++) {
			const struct stack_frame *f = &s->frames[j];

			if (store_stacks_add_frame(w, s->id, j, f->module, f->module_offset, f->function, f->function_offset,
						   f->file, f->line) < 0)
				goto out;
		}
	}
	for (size_t i = 0; i < sr->nlinks; i++)
		if (store_stacks_add_event(w, sr->links[i].seq, sr->links[i].id) < 0)
			goto out;
	rc = 0;
out:
	store_stacks_close(w);
	return rc;
}
