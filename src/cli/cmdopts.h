/* cmdopts.h: the options render, compare and timeline share, parsed the same way everywhere. */
#ifndef POOLTRACE_VIZ_CMDOPTS_H
#define POOLTRACE_VIZ_CMDOPTS_H

#include "viz/fdgraph.h"
#include "viz/output.h"

#include <getopt.h>
#include <stdint.h>

struct cmd_entry;

struct viz_cmdopts {
	const char *db;
	const char *runs;    /* --run or --runs, as given */
	const char *at;      /* --at MOMENT */
	const char *out;     /* -o */
	const char *format;  /* --format */
	struct viz_fdgraph_opts graph;
	int asked_workers;   /* --max-workers as given, when past VIZ_LAYOUT_MAX_WORKERS (graph.max_workers is that); else 0 */
	struct viz_target target; /* where -o goes, once opened */
	const char *const *formats; /* what the command writes, the default first; NULL: viz_picture_formats */
};

/*
 * Parses argv for command e. Returns -1 to go on, or the exit status to
 * return now (0 after --help, EXIT_USAGE after a bad option, message printed).
 */
int viz_cmdopts_parse(const struct cmd_entry *e, int argc, char **argv, struct viz_cmdopts *o);

struct store;
struct viz_model;

/*
 * One line on stderr when --max-workers asked for more than a layout of
 * seconds can draw and run m has more processes than that: what was drawn
 * instead. Nothing otherwise.
 */
void viz_cmdopts_layout_note(const struct viz_cmdopts *o, const struct viz_model *m);

/*
 * For commands that draw one run: opens the database read-only, resolves
 * --run (default: the newest run), fills in the default output name
 * run<ID>-<suffix>.svg, or .<formats[0]> (in out_buf) and opens the output target (o->target,
 * see viz_target_open). suffix NULL: a picture of o->at, which when NULL
 * becomes the run's default moment (viz_default_moment), and names it.
 * Returns 0 with *st and o->target open, or an exit status (EXIT_USAGE for
 * bad input) with an error printed and nothing open.
 */
int viz_cmdopts_open_run(const struct cmd_entry *e, struct viz_cmdopts *o, const char *suffix, char *out_buf,
			 size_t out_len, struct store **st, int64_t *run, const char **format);

/* The shared part of each command's --help. */
#define VIZ_CMDOPTS_HELP                                                                              \
	"  -d, --db FILE        trace database (default $POOLTRACE_DB, else ./pooltrace.db)\n"          \
	"  -o, --output OUT     output file; its extension picks the format; '-' for stdout.\n"        \
	"                       A file is replaced only by a complete picture; a symlink is\n"        \
	"                       written through; a device or FIFO is written into; the\n"             \
	"                       trace database itself is refused\n"                                    \
	"      --format F       svg, png, pdf or dot (overrides the extension)\n"                       \
	"      --max-workers N  past N workers draw only the first and last 3 in full and\n"            \
	"                       summarise the rest with exact counts (default 12; past\n"              \
	"                       100, drawn as 100, whose layout takes seconds, and said)\n"           \
	"      --foreign HOW    fds that are not the run's pipes (a tty, files, the caller's\n"       \
	"                       pipes): compact (one grey row per process, the default),\n"          \
	"                       full (a row and an edge each) or none\n"                             \
	"  -h, --help           show this help\n"

#endif
