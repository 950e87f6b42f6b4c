/* sbuf.h: one growing string, for text built piece by piece (labels, sentences, SQL lists), as git's strbuf. */
#ifndef POOLTRACE_SBUF_H
#define POOLTRACE_SBUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A NUL-terminated string that grows as text is appended. Zero-initialised
 * (SBUF_INIT, or { 0 }) is empty and owns no memory: s is NULL until the
 * first append. Invariant (sbuf_ok): either s is NULL and len == cap == 0,
 * or len < cap; every append leaves s[len] == '\0', so s is a string of len
 * bytes. Callers may read s and len, and may empty or shorten the string by
 * setting len alone (explain_out's sentences do): the next append writes
 * from len, and s is a string again after it. Appending dies when out of
 * memory, so it cannot fail; sbuf_release frees s and leaves b empty again.
 */
struct sbuf {
	char *s;
	size_t len, cap;
};
#define SBUF_INIT { NULL, 0, 0 }

/* Makes room for extra more bytes after len (and the NUL); s is non-NULL afterwards. */
void sbuf_grow(struct sbuf *b, size_t extra);
/* Appends n bytes of data (which may hold NULs; the string is then cut short for readers of s as a string). */
void sbuf_add(struct sbuf *b, const void *data, size_t n);
/* Appends the string str. */
void sbuf_addstr(struct sbuf *b, const char *str);
/* Appends printf-formatted text; an encoding error from vsnprintf appends nothing. */
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the string; b is empty (as SBUF_INIT) afterwards. */
void sbuf_release(struct sbuf *b);
/* True when b holds the invariant above: for assert(). */
bool sbuf_ok(const struct sbuf *b);

#endif
