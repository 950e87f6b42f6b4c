/* cmd-report.c: `pooltrace report`: one HTML file that steps through a run, event by event. */
#include "cli/cmd.h"
#include "cli/cmdopts.h"
#include "viz/output.h"
#include "viz/report.h"
#include "store/store.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>

static int cmd_report(int argc, char **argv);

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.summary = "write one HTML file that steps through a run, event by event",
	.help =
	"usage: pooltrace report [--db FILE] [--run ID] [-o OUT.html]\n"
	"\n"
	"One self-contained HTML file (no network, no other file): the run's fd graph,\n"
	"laid out once, and its events beside it. Step with the buttons, the arrow\n"
	"keys or a click on an event; at each step only what is alive right after\n"
	"that event is shown (processes, pipes, and one arrow per pipe fd held:\n"
	"blue into a write end, green into a read end). Open it at event N with\n"
	"run.html#seq=N. Closes of files the program opened itself (opens are not\n"
	"traced) are left out of the list.\n"
	"\n"
	"options:\n"
	"  -r, --run ID         the run (default: the newest that did not fail)\n"
	"  -d, --db FILE        trace database (default $POOLTRACE_DB, else ./pooltrace.db)\n"
	"  -o, --output OUT     output file ('-' for stdout); replaced only by a complete\n"
	"                       report; the trace database itself is refused\n"
	"      --max-workers N  past N workers draw only the first and last 3 (default 12)\n"
	"  -h, --help           show this help\n"
	"\n"
	"Default output: run<ID>-report.html. Exit status 2 for a bad option, run,\n"
	"output path or database.\n",
	.exec = cmd_report,
};

static const char *const cmd_report_formats[] = { "html", NULL };

static int cmd_report(int argc, char **argv)
{
	struct viz_cmdopts o = { .formats = cmd_report_formats };
	struct store *st;
	const char *format;
	char out[256], *html;
	size_t len;
	int64_t run;
	int rc;

	if ((rc = viz_cmdopts_parse(&cmd_report_entry, argc, argv, &o)) >= 0)
		return rc;
	if (o.at)
		return cmd_usage_error(&cmd_report_entry, "--at does not apply: a report steps through the whole run");
	if ((rc = viz_cmdopts_open_run(&cmd_report_entry, &o, "report", out, sizeof(out), &st, &run, &format)))
		return rc;
	rc = viz_report_html(st, run, &o.graph, &html, &len);
	if (rc == 0) {
		rc = viz_output_write(&o.target, html, len) < 0 ? 1 : 0;
		free(html);
	}
	viz_target_release(&o.target);
	store_close(st);
	return cmd_status(rc);
}
