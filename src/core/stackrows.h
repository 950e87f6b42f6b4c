/* stackrows.h: a run's call stacks (record --stacks), kept once each by hash, and which event had which. */
#ifndef POOLTRACE_STACKROWS_H
#define POOLTRACE_STACKROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* One frame, innermost first. Any text may be NULL (unknown). */
struct stack_frame {
	const char *module;       /* the mapped file, as /proc/PID/maps names it */
	uint64_t module_offset;   /* pc - the module's load address */
	const char *function;     /* demangled where it could be; from the symbol table */
	uint64_t function_offset; /* pc - the function's start */
	const char *file;         /* DWARF line table: source file, NULL without debug info */
	int line;                 /* 0: unknown */
};

struct stackrows;

struct stackrows *stackrows_new(void);
void stackrows_free(struct stackrows *sr);

/*
 * The id of a stack: a hash of each frame's module and module offset (not
 * the pc, so a stack is one row in every process that maps the same files,
 * wherever ASLR put them). Never 0, always positive.
 */
int64_t stackrows_hash(const struct stack_frame *frames, size_t n);

/* Whether stack id is kept already. */
bool stackrows_has(const struct stackrows *sr, int64_t id);

/*
 * Keeps stack id (its frames copied) unless it is kept already. own is the
 * index of the program's own frame (the first not in libc or ld.so), or -1.
 */
void stackrows_add(struct stackrows *sr, int64_t id, const struct stack_frame *frames, size_t n, int own);

/* Event seq of the run had stack id. */
void stackrows_event(struct stackrows *sr, uint64_t seq, int64_t id);

/*
 * Writes every stack and event link kept into run run_id's rows of stacks,
 * stack_frames and event_stacks, inside the caller's transaction. Returns 0,
 * or -EIO with the error printed.
 */
int stackrows_store(const struct stackrows *sr, struct store *st, int64_t run_id);

#endif
