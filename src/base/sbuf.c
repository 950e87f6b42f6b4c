/* sbuf.c: one growing string, for text built piece by piece (labels, sentences, SQL lists), as git's strbuf. */
#include "base/sbuf.h"

#include "base/util.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sbuf_ok(const struct sbuf *b)
{
	if (!b->s)
		return b->len == 0 && b->cap == 0;
	return b->len < b->cap;
}

void sbuf_grow(struct sbuf *b, size_t extra)
{
	assert(sbuf_ok(b));
	if (extra >= SIZE_MAX / 2 - b->len)
		die("out of memory (a string of %zu + %zu bytes)", b->len, extra);
	/*
	 * Twice what is needed, not twice what there was: the rule viz's label
	 * buffers have always had. It is kept because cgraph orders a graph's
	 * subgraphs by the addresses of their interned names, so the pattern
	 * of allocations shows in the order of a drawing's output.
	 */
	if (b->len + extra + 1 > b->cap) {
		b->cap = (b->len + extra + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	b->s[b->len] = '\0'; /* a first allocation is a string too */
}

void sbuf_add(struct sbuf *b, const void *data, size_t n)
{
	sbuf_grow(b, n);
	if (n)
		memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sbuf_addstr(struct sbuf *b, const char *str)
{
	sbuf_add(b, str, strlen(str));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* Format into the room there is (none yet: only measure); text that does not fit is formatted twice. */
	va_start(ap, fmt);
	n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (b->s)
			b->s[b->len] = '\0';
		return;
	}
	if (!b->s || (size_t)n >= b->cap - b->len) {
		if (b->s)
			b->s[b->len] = '\0'; /* undo the cut-short attempt */
		sbuf_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	assert(sbuf_ok(b) && b->s[b->len] == '\0');
}

void sbuf_release(struct sbuf *b)
{
	free(b->s);
	*b = (struct sbuf)SBUF_INIT;
}
