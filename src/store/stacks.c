/* stacks.c: writes a run's call stacks (record --stacks) into its rows of stacks, stack_frames and event_stacks.
 *
 * Which stacks there are, and which event had which, is core/stackrows.c's;
 * here are only the three INSERTs, prepared once for all of a run's rows.
 */
#include "store/stacks.h"

#include "store/store.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

struct store_stacks {
	struct store *st;
	int64_t run_id;
	sqlite3_stmt *stack, *frame, *event;
};

int store_stacks_open(struct store *st, int64_t run_id, struct store_stacks **out)
{
	struct store_stacks *w = xcalloc(1, sizeof(*w));

	*out = NULL;
	w->st = st;
	w->run_id = run_id;
	if (!(w->stack = store_prepare(st, "INSERT INTO stacks (run_id, stack_id, depth, own_frame) VALUES (?1, ?2, ?3, ?4)")) ||
	    !(w->frame = store_prepare(st, "INSERT INTO stack_frames (run_id, stack_id, frame, module, module_offset, function,"
					   " function_offset, file, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")) ||
	    !(w->event = store_prepare(st, "INSERT INTO event_stacks (run_id, seq, stack_id) VALUES (?1, ?2, ?3)"))) {
		store_stacks_close(w);
		return -EIO;
	}
	*out = w;
	return 0;
}

void store_stacks_close(struct store_stacks *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->stack);
	sqlite3_finalize(w->frame);
	sqlite3_finalize(w->event);
	free(w);
}

/* Steps q, an INSERT, and resets it for the next row. 0 or -EIO with the error printed. */
static int store_stacks_step(struct store_stacks *w, sqlite3_stmt *q)
{
	if (store_step(w->st, q) < 0)
		return -EIO;
	sqlite3_reset(q);
	return 0;
}

static void store_stacks_text(sqlite3_stmt *q, int col, const char *s)
{
	if (s)
		sqlite3_bind_text(q, col, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, col);
}

int store_stacks_add(struct store_stacks *w, int64_t stack_id, size_t depth, int own_frame)
{
	sqlite3_stmt *q = w->stack;

	assert(own_frame >= -1 && (own_frame < 0 || (size_t)own_frame < depth));
	sqlite3_bind_int64(q, 1, w->run_id);
	sqlite3_bind_int64(q, 2, stack_id);
	sqlite3_bind_int64(q, 3, (int64_t)depth);
	if (own_frame >= 0)
		sqlite3_bind_int(q, 4, own_frame);
	else
		sqlite3_bind_null(q, 4);
	return store_stacks_step(w, q);
}

int store_stacks_add_frame(struct store_stacks *w, int64_t stack_id, size_t frame, const char *module,
			   uint64_t module_offset, const char *function, uint64_t function_offset, const char *file,
			   int line)
{
	sqlite3_stmt *q = w->frame;

	sqlite3_bind_int64(q, 1, w->run_id);
	sqlite3_bind_int64(q, 2, stack_id);
	sqlite3_bind_int64(q, 3, (int64_t)frame);
	store_stacks_text(q, 4, module);
	sqlite3_bind_int64(q, 5, (int64_t)module_offset);
	store_stacks_text(q, 6, function);
	if (function)
		sqlite3_bind_int64(q, 7, (int64_t)function_offset);
	else
		sqlite3_bind_null(q, 7);
	store_stacks_text(q, 8, file);
	if (file && line > 0)
		sqlite3_bind_int(q, 9, line);
	else
		sqlite3_bind_null(q, 9);
	return store_stacks_step(w, q);
}

int store_stacks_add_event(struct store_stacks *w, uint64_t seq, int64_t stack_id)
{
	sqlite3_stmt *q = w->event;

	sqlite3_bind_int64(q, 1, w->run_id);
	sqlite3_bind_int64(q, 2, (int64_t)seq);
	sqlite3_bind_int64(q, 3, stack_id);
	return store_stacks_step(w, q);
}
