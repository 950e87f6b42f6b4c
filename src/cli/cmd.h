/* cmd.h: the subcommand table: each subcommand is one cmd-NAME.c defining one cmd_entry. */
#ifndef POOLTRACE_CMD_H
#define POOLTRACE_CMD_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cmd_entry {
	const char *name;
	const char *summary; /* one line, for `pooltrace --help` */
	const char *help;    /* the whole `pooltrace NAME --help` text */
	int (*exec)(int argc, char **argv); /* returns the exit status */
};

extern const struct cmd_entry cmd_record_entry;
extern const struct cmd_entry cmd_snapshot_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_query_entry;
extern const struct cmd_entry cmd_render_entry;
extern const struct cmd_entry cmd_compare_entry;
extern const struct cmd_entry cmd_timeline_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_explain_entry;

/* Every subcommand, in the order `pooltrace --help` lists them; NULL-terminated. */
extern const struct cmd_entry *const cmd_table[];

const struct cmd_entry *cmd_find(const char *name);

/* Prints "pooltrace NAME: message" on one line; returns EXIT_USAGE (2). */
int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Turns getopt_long's '?' and ':' (optstring must start with ':') into one
 * clear line naming the option (from options, getopt_long's table): unknown,
 * ambiguous, missing its value, or given a value it does not take. Returns
 * EXIT_USAGE.
 */
struct option;
int cmd_bad_option(const struct cmd_entry *e, int c, char **argv, const struct option *options);

/*
 * The exit status for a library result: 0 stays 0, -EINVAL (bad input: an
 * unknown run, a moment that did not happen) is EXIT_USAGE, any other
 * negative value (a read or write that failed) is 1; a positive value is
 * already an exit status.
 */
int cmd_status(int rc);

/*
 * A run's two counts for its summary line, into buf: "leaked write ends 6,
 * EOF blockers 3", or that they were not counted (-1: a signal stopped the
 * count, or it could not be read).
 */
const char *cmd_counts(char *buf, size_t size, int64_t leaked, int64_t blockers);

/*
 * The CI gate of run, record and snapshot, as valgrind's --error-exitcode:
 * --fail-on LIST names what fails the command (deadlock, leak, blocker) and
 * --error-exitcode N the exit status it then has (default 3).
 */
enum { CMD_FAIL_DEADLOCK = 1, CMD_FAIL_LEAK = 2, CMD_FAIL_BLOCKER = 4 };
struct cmd_gate {
	unsigned fail_on; /* CMD_FAIL_* bits; 0: the gate is off */
	int exitcode;
};
#define CMD_GATE_INIT { 0, 3 }
#define CMD_GATE_HELP                                                                                 \
	"      --fail-on LIST   exit with --error-exitcode's status when the run has any\n"              \
	"                       of LIST, a comma list of deadlock, leak (a leaked write\n"               \
	"                       end), blocker (an EOF blocker); the summary says which\n"               \
	"      --error-exitcode N  that status, 1 to 255 (default 3)\n"

/* Parse --fail-on's and --error-exitcode's values into g: 0, or EXIT_USAGE with one line printed. */
int cmd_gate_parse_list(const struct cmd_entry *e, const char *list, struct cmd_gate *g);
int cmd_gate_parse_code(const struct cmd_entry *e, const char *s, struct cmd_gate *g);

/*
 * Whether the gate fails on what the run found (leaked or blockers < 0: not
 * counted, so not found), with why in buf ("; fails --fail-on: deadlock, 6
 * leaked write ends"), else "" in buf.
 */
int cmd_gate_check(const struct cmd_gate *g, int deadlock, int64_t leaked, int64_t blockers, char *buf, size_t size);

/*
 * The end every --json summary of run, record and snapshot shares, after the
 * command's own fields: "leaked_write_ends" and "eof_blockers" (null when
 * not counted), "fails_gate" (--fail-on found what it names), "gate" (why,
 * as the words say it, or null) and "explain" (the explain command, or null
 * when there is nothing to explain), then "}\n". hint and gate_why are what
 * cmd_explain_hint and cmd_gate_check wrote.
 */
void cmd_json_summary_end(FILE *out, int64_t leaked, int64_t blockers, bool fails, const char *gate_why,
			  const char *hint);

/*
 * "; see: pooltrace explain --run N" (with --db DB unless DB is what
 * explain opens by default) when the run has something to explain: a
 * deadlock, a leaked write end or an EOF blocker; else "".
 */
const char *cmd_explain_hint(char *buf, size_t size, int64_t run, const char *db, int deadlock, int64_t leaked,
			     int64_t blockers);

/* Prints e->help to stdout; returns 0. */
int cmd_help(const struct cmd_entry *e);

#endif
