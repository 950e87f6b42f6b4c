/* cmd-render.c: `pooltrace render`: the fd graph of one run at one moment. */
#include "cli/cmd.h"
#include "cli/cmdopts.h"
#include "viz/fdgraph.h"
#include "viz/model.h"
#include "viz/output.h"
#include "store/store.h"
#include "base/progress.h"
#include "base/util.h"

#include <stdio.h>

static int cmd_render(int argc, char **argv);

const struct cmd_entry cmd_render_entry = {
	.name = "render",
	.summary = "draw the fd graph of a run at a moment (svg, png, pdf, dot)",
	.help =
	"usage: pooltrace render [--db FILE] [--run ID] [--at MOMENT] [-o OUT] [--format F]\n"
	"\n"
	"Draws every live process as a box holding its fd table, every pipe as one\n"
	"object with a write end and a read end, and an edge from each fd to the end\n"
	"it refers to: blue into write ends, green out of read ends, red and bold for\n"
	"a leaked write end, grey and dashed for fds the pool did not create.\n"
	"Processes already gone at that moment are drawn dashed, without fds; three\n"
	"or more pipes a process alone holds both ends of are one row of its table.\n"
	"Past 300 leaked write ends, a leak matrix shows every one: workers (or\n"
	"processes) down, pipes across, in at most 16 by 40 bands, each cell shaded by\n"
	"the share of its (holder, pipe) pairs that hold one.\n"
	"\n"
	"options:\n"
	"  -r, --run ID         the run (default: the newest that did not fail)\n"
	"  -a, --at MOMENT      spawned, shutdown, blocked, hang, busiest, end, or an\n"
	"                       event seq (default: shutdown once every process is\n"
	"                       up, as in a pool; else the hang; else busiest: the\n"
	"                       most processes alive, before the first one goes)\n"
	VIZ_CMDOPTS_HELP
	"\n"
	"Default output: run<ID>-<MOMENT>.svg. Exit status 2 for a bad option, run,\n"
	"moment, format, output path or database.\n",
	.exec = cmd_render,
};

static int cmd_render(int argc, char **argv)
{
	struct viz_cmdopts o = { .at = NULL };
	struct viz_model m;
	struct store *st;
	const char *format;
	char out[256];
	int64_t run;
	struct progress prog;
	Agraph_t *g;
	int rc;

	if ((rc = viz_cmdopts_parse(&cmd_render_entry, argc, argv, &o)) >= 0)
		return rc;
	if ((rc = viz_cmdopts_open_run(&cmd_render_entry, &o, NULL, out, sizeof(out), &st, &run, &format)))
		return rc;
	/* A big run's picture takes seconds: a terminal is told which step it is at. */
	progress_init(&prog);
	progress_show(&prog, true, "render: reading run %lld", (long long)run);
	rc = viz_model_load(st, run, o.at, o.graph.max_workers, o.graph.keep, &m);
	if (rc == 0) {
		viz_cmdopts_layout_note(&o, &m);
		g = viz_fdgraph_new(&m, &o.graph);
		progress_show(&prog, true, "render: laying out %d nodes and %d edges (Graphviz dot)", agnnodes(g), agnedges(g));
		rc = viz_output_render(g, format, &o.target) < 0 ? 1 : 0;
		agclose(g);
		viz_model_release(&m);
	}
	progress_done(&prog);
	viz_target_release(&o.target);
	store_close(st);
	return cmd_status(rc);
}
