/* cmd-timeline.c: `pooltrace timeline`: a sequence diagram of one run. */
#include "cli/cmd.h"
#include "cli/cmdopts.h"
#include "viz/output.h"
#include "store/store.h"
#include "viz/timeline.h"
#include "base/util.h"

#include <stdio.h>

static int cmd_timeline(int argc, char **argv);

const struct cmd_entry cmd_timeline_entry = {
	.name = "timeline",
	.summary = "draw a run as a sequence diagram, one lane per process",
	.help =
	"usage: pooltrace timeline [--db FILE] [--run ID] [-o OUT] [--format F]\n"
	"\n"
	"One lane per process (and one for pooltrace, which kills and reaps\n"
	"orphans), events top to bottom in order: pipe, fork, what each process was\n"
	"born holding, close, dup2, EOF, exit, reap, hang, kill. Fork and reap are\n"
	"arrows between lanes; per-task reads and writes are summarised. Closes of\n"
	"files the program opened itself (opens are not traced) are left out.\n"
	"\n"
	"options:\n"
	"  -r, --run ID         the run (default: the newest that did not fail)\n"
	VIZ_CMDOPTS_HELP
	"\n"
	"Default output: run<ID>-timeline.svg.\n",
	.exec = cmd_timeline,
};

static int cmd_timeline(int argc, char **argv)
{
	struct viz_cmdopts o = { 0 };
	struct store *st;
	const char *format;
	char out[256];
	int64_t run;
	Agraph_t *g;
	int rc;

	if ((rc = viz_cmdopts_parse(&cmd_timeline_entry, argc, argv, &o)) >= 0)
		return rc;
	if (o.at)
		return cmd_usage_error(&cmd_timeline_entry, "--at does not apply: a timeline shows the whole run");
	if ((rc = viz_cmdopts_open_run(&cmd_timeline_entry, &o, "timeline", out, sizeof(out), &st, &run, &format)))
		return rc;
	rc = viz_timeline_new(st, run, &o.graph, &g);
	if (rc == 0) {
		rc = viz_output_render(g, format, &o.target) < 0 ? 1 : 0;
		agclose(g);
	}
	viz_target_release(&o.target);
	store_close(st);
	return cmd_status(rc);
}
