/* util.h: process-wide helpers: error reporting, allocation that dies, number parsing, small files, clocks. */
#ifndef POOLTRACE_UTIL_H
#define POOLTRACE_UTIL_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <sys/types.h>

/* Exit statuses used by every subcommand. */
enum { EXIT_USAGE = 2 };

/*
 * Prints "pooltrace: <message>" on one line to stderr and returns -EIO, so that
 * library code can `return error(...)` (a failure: exit 1; bad input
 * returns error(...), -EINVAL). Messages are lower-case, no full stop.
 */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like error(), then exit(1). Only for "cannot happen" and out-of-memory. */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that dies on failure, so callers never check for NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* xrealloc of n elements of size bytes; dies when n * size overflows. */
void *xreallocarray(void *p, size_t n, size_t size);

/*
 * Grows the array ptr, which has room for alloc elements, so that it has room
 * for at least nr: alloc becomes first when it is 0, then doubles until nr
 * fits, and ptr moves with xreallocarray (contents kept, the rest
 * uninitialised). Nothing happens when nr already fits. The usual append is
 *	ALLOC_GROW(v, n + 1, cap, 64);
 *	v[n++] = x;
 * As git's ALLOC_GROW: one growth rule instead of one per array. ptr and
 * alloc are evaluated more than once, so they must have no side effects.
 */
#define ALLOC_GROW(ptr, nr, alloc, first)                                        \
	do {                                                                      \
		if ((nr) > (alloc)) {                                             \
			(alloc) = alloc_nr((alloc), (nr), (first));               \
			(ptr) = xreallocarray((ptr), (alloc), sizeof(*(ptr)));     \
		}                                                                 \
	} while (0)
/* The room ALLOC_GROW gives: alloc (or first, when 0, which must be > 0) doubled until it is at least nr. Dies on overflow. */
size_t alloc_nr(size_t alloc, size_t nr, size_t first);

/*
 * Parses a whole decimal integer in [min, max]. Returns 0, or -EINVAL when s is not
 * a number, has trailing junk, or is out of range.
 */
int parse_long(const char *s, long min, long max, long *out);

/*
 * Reads a small file (a /proc one) into buf, NUL-terminated, with plain
 * open/read/close: safe in a freshly forked pool process. Returns bytes or -1.
 */
ssize_t read_small_file(const char *path, char *buf, size_t len);

/* The first slot to try for key in an open-addressing table of cap slots (a power of two). */
size_t hash_slot(uint64_t key, size_t cap);

/*
 * A map from inode (non-zero) to a non-zero value, by open addressing: which
 * pipe an inode is, which socket is an inode's peer. Zero-initialised is
 * empty; inomap_release frees it.
 */
struct inomap {
	struct inomap_slot { uint64_t inode; int64_t value; } *slots;
	size_t cap, len;
};
void inomap_put(struct inomap *m, uint64_t inode, int64_t value);
/* The value for inode, or 0 when it has none. */
int64_t inomap_get(const struct inomap *m, uint64_t inode);
void inomap_release(struct inomap *m);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);

/*
 * Sets handler for the signals that ask pooltrace to stop: SIGINT, SIGTERM,
 * SIGHUP, and the others whose default action would end it silently
 * (SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU); ignores SIGXFSZ,
 * so a file-size limit fails a write instead of killing pooltrace. NULL:
 * every one back to its default action. Call it after forking the program,
 * whose signal dispositions must stay its own (an ignored signal survives
 * exec).
 */
void on_stop_signals(void (*handler)(int));
/*
 * The length of the valid UTF-8 sequence at s (1 to 4), or 0 when s does not
 * start one: a stray continuation byte, an overlong form, a surrogate, a code
 * point past U+10FFFF, or a sequence cut short (s is NUL-terminated).
 */
int utf8_seq_len(const unsigned char *s);

/*
 * Text from a program (its name, its command line), made safe for a
 * terminal: a control character or a byte that is not UTF-8 is written
 * \xNN, the rest as it is. Writes at most len bytes into buf, NUL-terminated
 * (len 0: nothing), as snprintf does, and returns the length of the whole of
 * it (4 * strlen(t) at most), so buf of that plus one always holds it.
 */
size_t text_safe(char *buf, size_t len, const char *t);

/* Adds the signals on_stop_signals handles to set, to block them around a fork. */
void stop_signal_set(sigset_t *set);

/* Sleeps for ms milliseconds; a signal ends the sleep early so callers can react. */
void sleep_ms(long ms);

/*
 * A demangled function name cut to its name, in place: its parameter list
 * and a trailing " const" go ("ProcessPool::work() const" ->
 * "ProcessPool::work"); "operator()" keeps its own pair. Returns f.
 */
char *function_short_name(char *f);

#endif
