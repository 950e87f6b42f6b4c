/* cmd-snapshot.c: `pooltrace snapshot PID...`: why a live process tree is stuck, read from /proc without stopping it. */
#include "cli/cmd.h"
#include "store/store.h"
#include "snapshot/snapshot.h"
#include "base/json.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A deadlock found: the exit status a script can tell from success and from an error. */
#define CMD_SNAPSHOT_DEADLOCK 3

static int cmd_snapshot(int argc, char **argv);

const struct cmd_entry cmd_snapshot_entry = {
	.name = "snapshot",
	.summary = "say why a running process tree is stuck, from /proc, without stopping it",
	.help =
	"usage: pooltrace snapshot [--db FILE] [--fail-on LIST] [-q] PID...\n"
	"       pooltrace snapshot [--db FILE] [--fail-on LIST] [-q] --all\n"
	"\n"
	"Reads the live process trees rooted at the PIDs (each and every\n"
	"descendant) from /proc at one moment: every fd table, with each pipe's\n"
	"inode and end; each thread's state, wchan and system call; the fds of a\n"
	"poll, select or epoll wait; how full a pipe is. It builds the wait-for\n"
	"graph the deadlock check uses: a thread blocked on a pipe waits for the\n"
	"holders of its other end, one in wait4 or waitid for its children. What\n"
	"no one can wake any more is deadlocked; its cycles are the deadlocks.\n"
	"The diagnosis goes to stdout, in words: each process on a cycle, what it\n"
	"waits in, and who holds the end that would wake it (the write end that\n"
	"keeps a reader from EOF), and whether that holder is itself blocked.\n"
	"Separate deadlocks (several hung trees) are told each in turn, the first\n"
	"few processes of each; past 6, the first 3 and the count of the rest.\n"
	"\n"
	"The snapshot is stored as a run (runs.source 'snapshot'): query, render,\n"
	"report and the wait_for view work on it. Its processes and fds are\n"
	"`found` events: their history before the snapshot is unknown. It stops,\n"
	"signals and traces nothing: it only reads /proc.\n"
	"\n"
	"options:\n"
	"  -d, --db FILE        trace database to append to (default $POOLTRACE_DB,\n"
	"                       else ./pooltrace.db); created if missing\n"
	"      --all            every process whose fds may be read, instead of PIDs\n"
	CMD_GATE_HELP
	"      --json           one JSON object on stdout, with the summary's facts\n"
	"                       and each cycle's pids, instead of the words and the\n"
	"                       summary line\n"
	"  -q, --quiet          no summary line\n"
	"  -h, --help           show this help\n"
	"\n"
	"The summary line (stderr) ends with the explain command for the run when\n"
	"there is a deadlock to explain.\n"
	"\n"
	"Exit status: --error-exitcode's when --fail-on names what was found; else\n"
	"0 when no deadlock is found, 3 when one is, 2 for bad input\n"
	"(a bad option or database, no such PID, a PID whose fds may not be read),\n"
	"1 when the snapshot could not be stored (the diagnosis is printed all the\n"
	"same).\n",
	.exec = cmd_snapshot,
};

static const struct option cmd_snapshot_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "all", no_argument, NULL, 'a' },
	{ "fail-on", required_argument, NULL, 'F' },
	{ "error-exitcode", required_argument, NULL, 'E' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The words' and the summary line's facts as one JSON object on stdout (docs/query.md#json-summaries). */
static void cmd_snapshot_json(const struct snapshot_config *cfg, const struct snapshot_result *res, int64_t leaked,
			      int64_t blockers, bool fails, const char *gate_why, const char *hint)
{
	fputs("{\"run\": ", stdout);
	json_write_int(stdout, res->run_id);
	fputs(", \"source\": \"snapshot\", \"command\": ", stdout);
	json_write_str(stdout, cfg->command);
	fprintf(stdout, ", \"deadlock\": %s, \"deadlocked\": %zu, \"processes\": %zu, \"threads\": %zu, \"pipes\": %zu,"
			" \"unread\": %zu, \"db\": ",
		res->deadlocked ? "true" : "false", res->deadlocked, res->processes, res->threads, res->pipes,
		res->unread);
	json_write_str(stdout, cfg->db_path);
	/* Every separate deadlock, each its pids: the words tell the first few. */
	fputs(", \"cycles\": [", stdout);
	for (size_t c = 0; c < res->ncycles; c++) {
		fputs(c ? ", [" : "[", stdout);
		for (size_t k = 0; k < res->cycles[c].n; k++)
			fprintf(stdout, "%s%d", k ? ", " : "", (int)res->cycles[c].pids[k]);
		fputc(']', stdout);
	}
	fputc(']', stdout);
	cmd_json_summary_end(stdout, leaked, blockers, fails, gate_why, hint);
}

static int cmd_snapshot(int argc, char **argv)
{
	struct snapshot_config cfg = { 0 };
	struct snapshot_result res;
	const char *db = NULL;
	bool quiet = false, json = false;
	pid_t *roots;
	char command[256], gate_why[160], hint[PATH_MAX + 64];
	struct cmd_gate gate = CMD_GATE_INIT;
	int64_t leaked = -1, blockers = -1;
	struct store *st;
	bool fails;
	size_t len;
	long v;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:qh", cmd_snapshot_options, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'a': cfg.all = true; break;
		case 'F':
			if ((rc = cmd_gate_parse_list(&cmd_snapshot_entry, optarg, &gate)))
				return rc;
			break;
		case 'E':
			if ((rc = cmd_gate_parse_code(&cmd_snapshot_entry, optarg, &gate)))
				return rc;
			break;
		case 'q': quiet = true; break;
		case 'j': json = true; break;
		case 'h': return cmd_help(&cmd_snapshot_entry);
		default: return cmd_bad_option(&cmd_snapshot_entry, c, argv, cmd_snapshot_options);
		}
	}
	if (cfg.all && optind < argc)
		return cmd_usage_error(&cmd_snapshot_entry, "--all reads every process: give no PID with it");
	if (!cfg.all && optind >= argc)
		return cmd_usage_error(&cmd_snapshot_entry, "missing the PID of the process tree to read (or --all)");
	roots = xcalloc((size_t)(argc - optind) + 1, sizeof(*roots));
	len = (size_t)snprintf(command, sizeof(command), "snapshot%s", cfg.all ? " --all" : "");
	for (int i = optind; i < argc; i++) {
		if (parse_long(argv[i], 1, INT_MAX, &v) < 0) {
			free(roots);
			return cmd_usage_error(&cmd_snapshot_entry, "a PID is a whole number from 1 up, not '%s'", argv[i]);
		}
		roots[cfg.nroots++] = (pid_t)v;
		if (len < sizeof(command))
			len += (size_t)snprintf(command + len, sizeof(command) - len, " %ld", v);
	}
	cfg.roots = roots;
	cfg.command = command;
	cfg.db_path = store_default_path(db);
	rc = snapshot_run(&cfg, json ? NULL : stdout, &res);
	free(roots);
	if (rc < 0) {
		snapshot_result_release(&res);
		return rc == -ESRCH || rc == -EACCES ? EXIT_USAGE : cmd_status(rc);
	}
	fflush(stdout);
	/* The views' counts, as run and record give them (a snapshot's fds are found, not inherited: rarely any). */
	if (store_open(cfg.db_path, STORE_READ, &st) == 0) {
		store_run_counts(st, res.run_id, &leaked, &blockers);
		store_close(st);
	}
	fails = cmd_gate_check(&gate, res.deadlocked > 0, leaked, blockers, gate_why, sizeof(gate_why));
	cmd_explain_hint(hint, sizeof(hint), res.run_id, cfg.db_path, res.deadlocked > 0, leaked, blockers);
	if (json) {
		/* --json is the output, as the words are: -q silences only the summary line. */
		cmd_snapshot_json(&cfg, &res, leaked, blockers, fails, gate_why, hint);
		fflush(stdout);
	} else if (!quiet)
		fprintf(stderr, "pooltrace: run %lld: %s: %s; %zu process%s, %zu thread%s, %zu pipe%s; stored in %s%s%s\n",
			(long long)res.run_id, command, res.deadlocked ? "deadlock" : "no deadlock", res.processes,
			res.processes == 1 ? "" : "es", res.threads, res.threads == 1 ? "" : "s", res.pipes,
			res.pipes == 1 ? "" : "s", cfg.db_path, gate_why, hint);
	else if (fails)
		fprintf(stderr, "pooltrace: run %lld%s%s\n", (long long)res.run_id, gate_why, hint);
	snapshot_result_release(&res);
	if (fails)
		return gate.exitcode;
	return res.deadlocked ? CMD_SNAPSHOT_DEADLOCK : 0;
}
