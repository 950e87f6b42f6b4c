/* cmd-compare.c: `pooltrace compare`: the same moment of several runs, side by side. */
#include "cmd.h"
#include "cmdopts.h"
#include "fdgraph.h"
#include "model.h"
#include "output.h"
#include "store.h"
#include "util.h"

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
	"  -r, --runs IDS       comma-separated run ids, 1 to 8 of them\n"
	"  -a, --at MOMENT      spawned, shutdown (default), hang, end, or an event seq\n"
	VIZ_CMDOPTS_HELP,
	.exec = cmd_compare,
};

static int cmd_compare(int argc, char **argv)
{
	struct viz_cmdopts o = { .at = "shutdown" };
	struct viz_model models[8];
	size_t n = 0;
	struct store *st;
	const char *format;
	char *list, *tok, *save = NULL;
	Agraph_t *g;
	int rc = EXIT_USAGE;

	if ((rc = viz_cmdopts_parse(&cmd_compare_entry, argc, argv, &o)) >= 0)
		return rc;
	rc = EXIT_USAGE;
	if (!o.runs)
		return cmd_usage_error(&cmd_compare_entry, "missing --runs ID,ID,...");
	if (!o.out)
		return cmd_usage_error(&cmd_compare_entry, "missing -o OUT");
	if (viz_output_check(o.out) < 0 || !(format = viz_output_format(o.format, o.out)))
		return EXIT_USAGE;
	if (store_open(store_default_path(o.db), STORE_READ, &st) < 0)
		return EXIT_USAGE;
	list = xstrdup(o.runs);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long run;

		if (n == sizeof(models) / sizeof(models[0])) {
			cmd_usage_error(&cmd_compare_entry, "at most 8 runs side by side");
			goto out;
		}
		if (parse_long(tok, 1, 1L << 40, &run) < 0) {
			cmd_usage_error(&cmd_compare_entry, "--runs wants run ids like 1,2,3, not '%s'", tok);
			goto out;
		}
		if (viz_model_load(st, run, o.at, &models[n]) < 0)
			goto out;
		n++;
	}
	if (!n) {
		cmd_usage_error(&cmd_compare_entry, "--runs names no run");
		goto out;
	}
	g = viz_fdgraph_compare(models, n, &o.graph);
	rc = viz_output_render(g, format, o.out) < 0 ? 1 : 0;
	agclose(g);
out:
	while (n > 0)
		viz_model_release(&models[--n]);
	free(list);
	store_close(st);
	return rc;
}
