/* cmd-compare.c: `pooltrace compare`: the same moment of several runs, side by side. */
#include "cli/cmd.h"
#include "cli/cmdopts.h"
#include "viz/fdgraph.h"
#include "viz/model.h"
#include "viz/moment.h"
#include "viz/output.h"
#include "store/store.h"
#include "base/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_compare(int argc, char **argv);

const struct cmd_entry cmd_compare_entry = {
	.name = "compare",
	.summary = "draw the same moment of several runs side by side",
	.help =
	"usage: pooltrace compare [--db FILE] --runs ID,ID,... [--at MOMENT] -o OUT\n"
	"\n"
	"One panel per run, each captioned with its strategy, outcome, leaked write\n"
	"ends and EOF blockers: naive next to reverse-close next to child-close shows\n"
	"the bug and both fixes at a glance. Drawing as in `pooltrace render`.\n"
	"\n"
	"options:\n"
	"  -r, --runs IDS       comma-separated run ids, 1 to 8 of them, e.g. 1,2,3\n"
	"  -a, --at MOMENT      spawned, shutdown, blocked, hang, busiest, end, or an\n"
	"                       event seq (default: shutdown once every process is\n"
	"                       up, as in a pool; else the hang; else busiest: the\n"
	"                       most processes alive, before the first one goes)\n"
	VIZ_CMDOPTS_HELP,
	.exec = cmd_compare,
};

/*
 * Parses "1,2,3" into ids: every element a run id, none empty, at most max.
 * Returns how many, or -1 with a usage error printed.
 */
static int cmd_compare_parse_runs(const char *list, long *ids, int max)
{
	const char *p = list;
	int n = 0;

	for (;;) {
		size_t len = strcspn(p, ",");
		char tok[32];

		if (len == 0)
			return cmd_usage_error(&cmd_compare_entry, "--runs '%s' has an empty element", list), -1;
		snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
		if (len >= sizeof(tok) || parse_long(tok, 1, LONG_MAX, &ids[n]) < 0)
			return cmd_usage_error(&cmd_compare_entry, "--runs wants run ids like 1,2,3, not '%.*s'",
					       (int)len, p), -1;
		if (++n > max)
			return cmd_usage_error(&cmd_compare_entry, "at most %d runs side by side", max), -1;
		if (!p[len])
			return n;
		p += len + 1;
	}
}

static int cmd_compare(int argc, char **argv)
{
	struct viz_cmdopts o = { .at = NULL };
	struct viz_model models[8];
	long ids[8];
	int n, nruns;
	struct store *st;
	const char *format;
	Agraph_t *g;
	int rc;

	if ((rc = viz_cmdopts_parse(&cmd_compare_entry, argc, argv, &o)) >= 0)
		return rc;
	if (!o.runs)
		return cmd_usage_error(&cmd_compare_entry, "missing --runs ID,ID,...");
	if (!o.out)
		return cmd_usage_error(&cmd_compare_entry, "missing -o OUT");
	if ((nruns = cmd_compare_parse_runs(o.runs, ids, 8)) < 0)
		return EXIT_USAGE;
	if ((rc = store_open(store_default_path(o.db), STORE_READ, &st)) < 0)
		return cmd_status(rc);
	if (viz_target_open(o.out, store_path(st), &o.target) < 0) {
		store_close(st);
		return EXIT_USAGE;
	}
	if (!(format = viz_output_format(viz_picture_formats, o.format, o.out))) {
		viz_target_release(&o.target);
		store_close(st);
		return EXIT_USAGE;
	}
	for (n = 0; n < nruns; n++) {
		const char *at = o.at ? o.at : viz_default_moment(st, ids[n]);

		if (!at) {
			rc = -EIO;
			break;
		}
		if ((rc = viz_model_load(st, ids[n], at, o.graph.max_workers, o.graph.keep, &models[n])) < 0)
			break;
		viz_cmdopts_layout_note(&o, &models[n]);
	}
	if (rc == 0) {
		g = viz_fdgraph_compare(models, (size_t)n, &o.graph);
		rc = viz_output_render(g, format, &o.target) < 0 ? 1 : 0;
		agclose(g);
	}
	while (n > 0)
		viz_model_release(&models[--n]);
	viz_target_release(&o.target);
	store_close(st);
	return cmd_status(rc);
}
