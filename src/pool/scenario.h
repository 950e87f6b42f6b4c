/* scenario.h: the pipe situations every lesson on pipes teaches, each a small variation of the pool. */
#ifndef POOLTRACE_SCENARIO_H
#define POOLTRACE_SCENARIO_H

#include "pool/pool.h"

/* "empty-read", ...; NULL for SCENARIO_NONE or out of range. */
const char *scenario_name(enum scenario s);
/* The lesson in one sentence. */
const char *scenario_lesson(enum scenario s);
/* Returns 0 and sets *out, or -EINVAL for an unknown name. */
int scenario_parse(const char *name, enum scenario *out);
/* "empty-read, full-pipe, ..." for messages and --help. */
#define SCENARIO_LIST                                                                                       \
	"empty-read, full-pipe, full-pipe-stuck, eof, sigpipe, sigpipe-ignored, coalesce, coalesce-fixed, " \
	"atomic, atomic-big"
/* The scenario's own workers, tasks and pause, for options not given. */
void scenario_defaults(enum scenario s, int *workers, long *tasks, long *pause_ms);

/* Runs cfg->scenario in the calling process, which becomes the pool parent, and exits. */
_Noreturn void scenario_run(const struct pool_config *cfg);

#endif
