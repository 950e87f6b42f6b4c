/* where.c: one wording of a place in code, so explain's sentences and render's labels say it alike. */
#include "base/where.h"

#include <stdbool.h>

void where_words(struct sbuf *b, const char *file, int line, const char *function, const char *module, int64_t offset)
{
	bool named = function && function[0];

	if (file && file[0] && line > 0) {
		sbuf_printf(b, "%s:%d", file, line);
		if (named)
			sbuf_printf(b, " in %s", function);
		return;
	}
	if (named)
		sbuf_printf(b, "%s in ", function);
	sbuf_printf(b, "%s+0x%llx", module && module[0] ? module : "?", (unsigned long long)offset);
}
