/* cmdopts.c: the options render, compare and timeline share, parsed the same way everywhere. */
#include "cli/cmdopts.h"

#include "cli/cmd.h"
#include "viz/model.h"
#include "viz/moment.h"
#include "viz/output.h"
#include "store/store.h"
#include "base/progress.h"
#include "base/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

int viz_cmdopts_parse(const struct cmd_entry *e, int argc, char **argv, struct viz_cmdopts *o)
{
	static const struct option options[] = {
		{ "db", required_argument, NULL, 'd' },        { "run", required_argument, NULL, 'r' },
		{ "runs", required_argument, NULL, 'r' },      { "at", required_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },    { "format", required_argument, NULL, 'F' },
		{ "max-workers", required_argument, NULL, 'M' }, { "help", no_argument, NULL, 'h' },
		{ "foreign", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int c;

	o->graph.max_workers = VIZ_DEFAULT_MAX_WORKERS;
	o->graph.keep = VIZ_DEFAULT_KEEP;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:r:a:o:h", options, NULL)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'r': o->runs = optarg; break;
		case 'a': o->at = optarg; break;
		case 'o': o->out = optarg; break;
		case 'F': o->format = optarg; break;
		case 'M':
			if (parse_long(optarg, 2 * VIZ_DEFAULT_KEEP, 100000, &v) < 0)
				return cmd_usage_error(e, "--max-workers wants a whole number from %d to 100000, not '%s'",
						       2 * VIZ_DEFAULT_KEEP, optarg);
			o->graph.max_workers = (int)v;
			/* Never a layout of minutes: more than this many boxes are not drawn in full. */
			o->asked_workers = v > VIZ_LAYOUT_MAX_WORKERS ? (int)v : 0;
			if (o->asked_workers)
				o->graph.max_workers = VIZ_LAYOUT_MAX_WORKERS;
			break;
		case 'f':
			if (!strcmp(optarg, "compact"))
				o->graph.foreign = VIZ_FOREIGN_COMPACT;
			else if (!strcmp(optarg, "full"))
				o->graph.foreign = VIZ_FOREIGN_FULL;
			else if (!strcmp(optarg, "none"))
				o->graph.foreign = VIZ_FOREIGN_NONE;
			else
				return cmd_usage_error(e, "--foreign wants compact, full or none, not '%s'", optarg);
			break;
		case 'h': return cmd_help(e);
		default: return cmd_bad_option(e, c, argv, options);
		}
	}
	if (optind < argc)
		return cmd_usage_error(e, "unexpected argument '%s'", argv[optind]);
	return -1;
}

int viz_cmdopts_open_run(const struct cmd_entry *e, struct viz_cmdopts *o, const char *suffix, char *out_buf,
			 size_t out_len, struct store **st, int64_t *run, const char **format)
{
	long id = -1;
	int64_t last;
	int rc = EXIT_USAGE;

	if (o->runs && parse_long(o->runs, 1, LONG_MAX, &id) < 0)
		return cmd_usage_error(e, "--run wants a run id, not '%s'", o->runs);
	if ((rc = store_open(store_default_path(o->db), STORE_READ, st)) < 0)
		return cmd_status(rc);
	if (id < 0) {
		if ((rc = store_last_run(*st, &last)) < 0)
			goto fail;
		id = (long)last;
	}
	if (!suffix) {
		/* A picture of a moment: the one asked for, or the run's own default, names it. */
		rc = -EIO;
		if (!o->at && !(o->at = viz_default_moment(*st, id)))
			goto fail;
		suffix = o->at;
	}
	if (!o->out) {
		snprintf(out_buf, out_len, "run%ld-%s.%s", id, suffix, o->formats ? o->formats[0] : "svg");
		o->out = out_buf;
	}
	rc = EXIT_USAGE;
	if (viz_target_open(o->out, store_path(*st), &o->target) < 0)
		goto fail;
	if (!(*format = viz_output_format(o->formats ? o->formats : viz_picture_formats, o->format, o->out))) {
		viz_target_release(&o->target);
		goto fail;
	}
	*run = id;
	return 0;
fail:
	store_close(*st);
	*st = NULL;
	return cmd_status(rc);
}

void viz_cmdopts_layout_note(const struct viz_cmdopts *o, const struct viz_model *m)
{
	size_t n = m->pool ? (size_t)m->workers : m->nprocs;

	if (!o->asked_workers || n <= VIZ_LAYOUT_MAX_WORKERS)
		return;
	progress_interrupt();
	fprintf(stderr,
		"pooltrace: --max-workers %d: run %lld has %zu %s, more than the %d a layout draws in seconds"
		" (dot takes minutes); drawn as with --max-workers %d, and the caption says what it left out\n",
		o->asked_workers, (long long)m->run_id, n, m->pool ? "workers" : "processes", VIZ_LAYOUT_MAX_WORKERS,
		VIZ_LAYOUT_MAX_WORKERS);
}
