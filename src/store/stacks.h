/* stacks.h: writes a run's call stacks (record --stacks) into its rows of stacks, stack_frames and event_stacks. */
#ifndef POOLTRACE_STORE_STACKS_H
#define POOLTRACE_STORE_STACKS_H

#include <stddef.h>
#include <stdint.h>

struct store;
/* The statements of one run's stack rows, from store_stacks_open to store_stacks_close. */
struct store_stacks;

/*
 * Prepares the writing of run run_id's stack rows into st, inside the
 * caller's write transaction. Returns 0 with *out set, or -EIO with the
 * error printed (*out NULL).
 */
int store_stacks_open(struct store *st, int64_t run_id, struct store_stacks **out);
/* Finalizes what store_stacks_open prepared (NULL is fine). */
void store_stacks_close(struct store_stacks *w);

/*
 * One row each; every one returns 0, or -EIO with the error printed.
 * store_stacks_add: stack stack_id, of depth frames; own_frame is the index
 * of the program's own frame, -1: NULL.
 */
int store_stacks_add(struct store_stacks *w, int64_t stack_id, size_t depth, int own_frame);

/*
 * Frame number frame (0 the innermost) of stack stack_id. Any text may be
 * NULL (unknown); function_offset is NULL without a function, and line
 * without a file or when it is 0.
 */
int store_stacks_add_frame(struct store_stacks *w, int64_t stack_id, size_t frame, const char *module,
			   uint64_t module_offset, const char *function, uint64_t function_offset, const char *file,
			   int line);

/* Event seq of the run had stack stack_id. */
int store_stacks_add_event(struct store_stacks *w, uint64_t seq, int64_t stack_id);

#endif
