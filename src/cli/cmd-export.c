/* cmd-export.c: `pooltrace export`: a run written out for another tool; for now Perfetto's Trace Event Format JSON. */
#include "cli/cmd.h"
#include "cli/cmdopts.h"
#include "viz/output.h"
#include "viz/perfetto.h"
#include "store/store.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int cmd_export(int argc, char **argv);

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.summary = "write a run for another tool: Perfetto's Trace Event Format JSON",
	.help =
	"usage: pooltrace export --format perfetto [--db FILE] [--run ID] [-o OUT.json]\n"
	"\n"
	"Writes the run as Trace Event Format JSON, which ui.perfetto.dev and\n"
	"chrome://tracing open: a track per process with an instant per event (its\n"
	"columns in args) and a slice from its first event to its reap; a slice per\n"
	"blocked interval the run has evidence of (hang, blocked); a track per pipe\n"
	"with a slice per fd hold of it (fd_holds; a hold that never ended reaches\n"
	"the end of the run; leaked write ends are marked); an arrow per fork from\n"
	"parent to child. Times are microseconds since the run's start, to the\n"
	"nanosecond, on the run's own clock.\n"
	"\n"
	"options:\n"
	"      --format F       what to write: perfetto (the default, and the only one)\n"
	"  -r, --run ID         the run (default: the newest that did not fail)\n"
	"  -d, --db FILE        trace database (default $POOLTRACE_DB, else ./pooltrace.db)\n"
	"  -o, --output OUT     output file ('-' for stdout); a file is replaced only by\n"
	"                       a complete export; a symlink is written through; a device\n"
	"                       or FIFO is written into; the trace database is refused\n"
	"  -h, --help           show this help\n"
	"\n"
	"Default output: run<ID>-perfetto.json. Exit status: 0; 2 for a bad option,\n"
	"run, output path or database; 1 when the database could not be read or the\n"
	"output not written.\n",
	.exec = cmd_export,
};

static const struct option cmd_export_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "run", required_argument, NULL, 'r' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *const cmd_export_formats[] = { "json", NULL };

static int cmd_export(int argc, char **argv)
{
	struct viz_cmdopts o = { .formats = cmd_export_formats, .format = "json" };
	struct viz_stream stream;
	struct store *st;
	const char *format, *what = "perfetto";
	char out[256];
	int64_t run;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:r:o:h", cmd_export_options, NULL)) != -1) {
		switch (c) {
		case 'd': o.db = optarg; break;
		case 'r': o.runs = optarg; break;
		case 'o': o.out = optarg; break;
		case 'F': what = optarg; break;
		case 'h': return cmd_help(&cmd_export_entry);
		default: return cmd_bad_option(&cmd_export_entry, c, argv, cmd_export_options);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_export_entry, "unexpected argument '%s'", argv[optind]);
	if (strcmp(what, "perfetto"))
		return cmd_usage_error(&cmd_export_entry, "unknown format '%s' (expected perfetto)", what);
	if ((rc = viz_cmdopts_open_run(&cmd_export_entry, &o, "perfetto", out, sizeof(out), &st, &run, &format)))
		return rc;
	if (viz_stream_begin(&o.target, &stream) < 0) {
		rc = 1;
	} else {
		rc = viz_perfetto_write(st, run, stream.f);
		if (viz_stream_end(&stream, rc == 0) < 0 && rc == 0)
			rc = -EIO;
	}
	viz_target_release(&o.target);
	store_close(st);
	return cmd_status(rc);
}
