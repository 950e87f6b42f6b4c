/* cmd-explain.c: `pooltrace explain`: a stored run's diagnosis in plain words (or JSON): the cycle, the leaks, whom they blocked, the fix. */
#include "cli/cmd.h"
#include "explain/explain.h"
#include "store/store.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int cmd_explain(int argc, char **argv);

const struct cmd_entry cmd_explain_entry = {
	.name = "explain",
	.summary = "say in words why a stored run hung or leaked, and the fix that fits",
	.help =
	"usage: pooltrace explain [--db FILE] [--run ID] [--json]\n"
	"\n"
	"Reads one stored run (of run, record or snapshot) and says what happened:\n"
	"its outcome; for a deadlock, each wait-for cycle (one for each separate\n"
	"deadlock) as a chain of reasons (who waits in which call for whom, and who\n"
	"holds the end that would wake it); each leaked write end, grouped by pipe\n"
	"(or socketpair end), with where it came from (the pipe's maker, the fork\n"
	"that handed it on, an exec it survived); whom it kept from EOF and for how\n"
	"long; and the fix that fits the pattern (docs/explain.md has the rules).\n"
	"A run of a thousand workers is said in a screenful.\n"
	"\n"
	"options:\n"
	"  -d, --db FILE        trace database (default $POOLTRACE_DB, else ./pooltrace.db)\n"
	"  -r, --run ID         the run (default: the newest that did not fail)\n"
	"      --json           the same diagnosis as one JSON object: outcome, cycle\n"
	"                       (the first), cycles, leak_groups, patterns, blockers,\n"
	"                       fixes; its counts are those of the leaked_write_ends\n"
	"                       and eof_blockers views\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 when the diagnosis was written (whatever it says); 2 for a\n"
	"bad option, run or database; 1 when the trace could not be read or the\n"
	"output not written.\n",
	.exec = cmd_explain,
};

enum { OPT_JSON = 256 };

static const struct option cmd_explain_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "run", required_argument, NULL, 'r' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int cmd_explain(int argc, char **argv)
{
	const char *db = NULL, *runs = NULL;
	struct explain x;
	struct store *st;
	bool json = false;
	int64_t run = -1;
	long id;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:r:h", cmd_explain_options, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'r': runs = optarg; break;
		case OPT_JSON: json = true; break;
		case 'h': return cmd_help(&cmd_explain_entry);
		default: return cmd_bad_option(&cmd_explain_entry, c, argv, cmd_explain_options);
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_explain_entry, "unexpected argument '%s'", argv[optind]);
	if (runs) {
		if (parse_long(runs, 1, LONG_MAX, &id) < 0)
			return cmd_usage_error(&cmd_explain_entry, "--run wants a run id, not '%s'", runs);
		run = id;
	}
	if ((rc = store_open(store_default_path(db), STORE_READ, &st)) < 0)
		return cmd_status(rc);
	if (run < 0 && (rc = store_last_run(st, &run)) < 0) {
		store_close(st);
		return cmd_status(rc);
	}
	rc = explain_load(st, run, &x);
	if (rc == 0) {
		rc = json ? explain_print_json(&x, stdout) : explain_print_text(&x, stdout);
		if (rc < 0) {
			fprintf(stderr, "pooltrace explain: cannot write the diagnosis: %s\n", strerror(-rc));
			rc = 1;
		}
	}
	explain_release(&x);
	store_close(st);
	return cmd_status(rc);
}
