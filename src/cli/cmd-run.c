/* cmd-run.c: `pooltrace run`: runs one pool scenario under tracing and records it. */
#include "cli/cmd.h"
#include "pool/scenario.h"
#include "store/store.h"
#include "pool/supervisor.h"
#include "base/json.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static int cmd_run(int argc, char **argv);

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.summary = "run a process pool with a shutdown strategy, recording its fd events",
	.help =
	"usage: pooltrace run [OPTIONS]\n"
	"\n"
	"Runs the classic pipe-per-worker process pool and records every pipe, fork,\n"
	"inherited fd, close, dup2, EOF, exit and reap into a SQLite trace database.\n"
	"A deadlock is detected from /proc, recorded with its evidence, and the pool\n"
	"is killed and reaped. Prints one summary line.\n"
	"\n"
	"options:\n"
	"  -s, --strategy S     shutdown strategy: naive (default), close-all,\n"
	"                       reverse-close, child-close, close-range\n"
	"      --scenario NAME  instead, a pipe lesson: empty-read, full-pipe,\n"
	"                       full-pipe-stuck, eof, sigpipe, sigpipe-ignored, coalesce,\n"
	"                       coalesce-fixed, atomic, atomic-big (each with its own\n"
	"                       workers, tasks and pause unless given; --hang-ms 100)\n"
	"      --pause-ms MS    a scenario's pause (empty-read: before the first write;\n"
	"                       full-pipe, coalesce: before the worker reads; sigpipe:\n"
	"                       before the second round)\n"
	"  -w, --workers N      worker processes, 1..100000 (default 4)\n"
	"  -t, --tasks M        task codes to dispatch round-robin (default 16)\n"
	"      --task-ms MS     each task sleeps MS milliseconds (default 0)\n"
	"      --crash-worker I worker I dies with SIGSEGV on its first task\n"
	"      --shutdown-delay-ms MS  the parent waits MS ms after dispatching before\n"
	"                       it shuts down, as a long-running pool would (default 0)\n"
	"  -d, --db FILE        trace database to append to (default $POOLTRACE_DB,\n"
	"                       else ./pooltrace.db); created if missing\n"
	"      --no-trace       run the same pool with no recording at all\n"
	"      --no-io-events   skip per-task write/read/task events (keeps each\n"
	"                       worker's first read, and every fd event)\n"
	"      --hang-ms MS     no progress for MS ms triggers a deadlock check\n"
	"                       (default 250)\n"
	"      --log-size N     shared event log capacity in 128-byte records\n"
	"                       (default: 262144 for up to 7 workers, halved as\n"
	"                       workers double, 32768 from 32 workers)\n"
	"      --log-wait-ms MS how long a process waits for room in a full log\n"
	"                       before the event is dropped and counted (default 1000)\n"
	"      --stats          also print the event rate the database took, and when\n"
	"                       each phase of the run ended (stderr)\n"
	CMD_GATE_HELP
	"      --json           print the summary as one JSON object on stdout instead\n"
	"                       (docs/query.md#json-summaries)\n"
	"  -q, --quiet          print nothing on success\n"
	"  -h, --help           show this help\n"
	"\n"
	"When there is something to explain (a deadlock, a leaked write end or an\n"
	"EOF blocker), the summary line ends with the explain command that says it.\n"
	"\n"
	"Exit status: 0 when the run was carried out and recorded, whatever its\n"
	"outcome (ok, deadlock, crashed, killed), unless --fail-on names what it\n"
	"found: then --error-exitcode's (3); 128+N when interrupted by signal N\n"
	"(after the trace is committed); 2 for a bad option or database; 1 when the\n"
	"pool could not be started or the trace not stored (the run is then marked\n"
	"failed). If pooltrace itself is killed, its pool is killed with it.\n",
	.exec = cmd_run,
};

enum { OPT_TASK_MS = 256, OPT_CRASH, OPT_NO_TRACE, OPT_NO_IO, OPT_HANG_MS, OPT_LOG_SIZE, OPT_LOG_WAIT, OPT_STATS, OPT_DELAY,
       OPT_SCENARIO, OPT_PAUSE, OPT_FAIL_ON, OPT_ERROR_EXITCODE, OPT_JSON };

static const struct option cmd_run_options[] = {
	{ "strategy", required_argument, NULL, 's' },
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "pause-ms", required_argument, NULL, OPT_PAUSE },
	{ "workers", required_argument, NULL, 'w' },
	{ "tasks", required_argument, NULL, 't' },
	{ "task-ms", required_argument, NULL, OPT_TASK_MS },
	{ "crash-worker", required_argument, NULL, OPT_CRASH },
	{ "db", required_argument, NULL, 'd' },
	{ "no-trace", no_argument, NULL, OPT_NO_TRACE },
	{ "no-io-events", no_argument, NULL, OPT_NO_IO },
	{ "hang-ms", required_argument, NULL, OPT_HANG_MS },
	{ "log-size", required_argument, NULL, OPT_LOG_SIZE },
	{ "log-wait-ms", required_argument, NULL, OPT_LOG_WAIT },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "shutdown-delay-ms", required_argument, NULL, OPT_DELAY },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The pool parent holds one write end per worker, and the last worker holds
 * one fd per earlier channel: both need about workers + a few fds. Raises the
 * soft limit as far as the hard one allows.
 */
/*
 * The shared log's size, in records, for a pool of this many workers. Two
 * costs pull apart. Every pool process takes a page fault on each ring page
 * it first writes to, so a big ring costs pages x processes faults (64
 * workers x 200k tasks: 231k faults and ~1.4x the wall time with 1 Mi
 * records). A small ring fills while the database commits, and then the pool
 * waits (4 workers x 1M tasks: 80-470 futex calls a run with 32 Ki records,
 * ~10 with 256 Ki; median traced/untraced 1.47-1.53x against 1.07-1.08x).
 * So at most 2^21 records times processes: 256 Ki records (32 MB) for up to
 * 7 workers, 128 Ki up to 15, 64 Ki up to 31, 32 Ki (4 MB) from 32 up.
 */
static size_t cmd_run_log_size(int workers)
{
	size_t records = (size_t)1 << 18;

	while (records > ((size_t)1 << 15) && records * (size_t)(workers + 1) > ((size_t)1 << 21))
		records /= 2;
	return records;
}

static int cmd_run_fd_limit(int workers)
{
	rlim_t need = (rlim_t)workers + 32;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		return cmd_usage_error(&cmd_run_entry,
				       "--workers %d needs about %llu fds, but the hard limit is %llu (raise it with ulimit -Hn)",
				       workers, (unsigned long long)need, (unsigned long long)rl.rlim_max);
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return cmd_usage_error(&cmd_run_entry, "cannot raise the fd limit to %llu: %s",
				       (unsigned long long)need, strerror(errno));
	return 0;
}

static int cmd_run_number(const char *opt, const char *s, long min, long max, long *out)
{
	if (parse_long(s, min, max, out) < 0)
		return cmd_usage_error(&cmd_run_entry, "%s wants a whole number from %ld to %ld, not '%s'", opt,
				       min, max, s);
	return 0;
}

/* The summary line as one JSON object (docs/query.md#json-summaries); an untraced run has no id, events or counts. */
static void cmd_run_json(const struct supervisor_config *cfg, const struct supervisor_result *res, bool fails,
			 const char *gate_why, const char *hint)
{
	fputs("{\"run\": ", stdout);
	if (cfg->trace)
		json_write_int(stdout, res->run_id);
	else
		fputs("null", stdout);
	fprintf(stdout, ", \"source\": \"pool\", \"traced\": %s, \"strategy\": ", cfg->trace ? "true" : "false");
	json_write_str(stdout, pool_run_name(&cfg->pool));
	fprintf(stdout, ", \"workers\": %d, \"tasks\": %ld, \"outcome\": ", cfg->pool.workers, cfg->pool.tasks);
	json_write_str(stdout, res->outcome);
	if (cfg->trace) {
		fprintf(stdout, ", \"events\": %llu, \"events_dropped\": %llu, \"events_torn\": %llu, \"db\": ",
			(unsigned long long)res->events, (unsigned long long)res->dropped, (unsigned long long)res->torn);
		json_write_str(stdout, cfg->db_path);
	} else {
		fputs(", \"events\": null, \"events_dropped\": null, \"events_torn\": null, \"db\": null", stdout);
	}
	fputs(", \"seconds\": ", stdout);
	json_write_real(stdout, res->seconds);
	cmd_json_summary_end(stdout, cfg->trace ? res->leaked_write_ends : -1, cfg->trace ? res->eof_blockers : -1, fails,
			     gate_why, hint);
}

static int cmd_run(int argc, char **argv)
{
	struct supervisor_config cfg = {
		.pool = { .strategy = POOL_NAIVE, .workers = 4, .tasks = 16, .task_ms = 0, .crash_worker = -1 },
		.trace = true,
		.io_events = true,
		.hang_ms = 250,
		.log_capacity = 0, /* cmd_run_log_size, unless --log-size */
		.log_wait_ms = 1000,
	};
	struct supervisor_result res;
	const char *db = NULL;
	long v, crash = -1, workers = -1, tasks = -1, pause = -1, hang = -1;
	bool quiet = false, stats = false, strategy = false, json = false;
	char incomplete[96] = "", counts[96], gate_why[160], hint[PATH_MAX + 64];
	struct cmd_gate gate = CMD_GATE_INIT;
	bool fails = false;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:w:t:d:qh", cmd_run_options, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case 's':
			if (pool_strategy_parse(optarg, &cfg.pool.strategy) < 0)
				return cmd_usage_error(&cmd_run_entry, "unknown strategy '%s' (expected %s)", optarg,
						       pool_strategy_list());
			strategy = true;
			break;
		case OPT_SCENARIO:
			if (scenario_parse(optarg, &cfg.pool.scenario) < 0)
				return cmd_usage_error(&cmd_run_entry, "unknown scenario '%s' (expected %s)", optarg,
						       SCENARIO_LIST);
			break;
		case OPT_PAUSE:
			rc = cmd_run_number("--pause-ms", optarg, 0, 3600000, &pause);
			break;
		case 'w':
			rc = cmd_run_number("--workers", optarg, 1, 100000, &workers);
			break;
		case 't':
			rc = cmd_run_number("--tasks", optarg, 0, INT_MAX, &tasks);
			break;
		case OPT_TASK_MS:
			rc = cmd_run_number("--task-ms", optarg, 0, 3600000, &cfg.pool.task_ms);
			break;
		case OPT_CRASH:
			rc = cmd_run_number("--crash-worker", optarg, 0, 99999, &crash);
			break;
		case 'd':
			db = optarg;
			break;
		case OPT_NO_TRACE:
			cfg.trace = false;
			break;
		case OPT_NO_IO:
			cfg.io_events = false;
			break;
		case OPT_HANG_MS:
			rc = cmd_run_number("--hang-ms", optarg, 10, 3600000, &hang);
			break;
		case OPT_LOG_SIZE:
			rc = cmd_run_number("--log-size", optarg, 64, 1L << 26, &v);
			cfg.log_capacity = (size_t)v;
			break;
		case OPT_LOG_WAIT:
			rc = cmd_run_number("--log-wait-ms", optarg, 0, 600000, &v);
			cfg.log_wait_ms = (unsigned)v;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_FAIL_ON:
			rc = cmd_gate_parse_list(&cmd_run_entry, optarg, &gate);
			break;
		case OPT_ERROR_EXITCODE:
			rc = cmd_gate_parse_code(&cmd_run_entry, optarg, &gate);
			break;
		case OPT_DELAY:
			rc = cmd_run_number("--shutdown-delay-ms", optarg, 0, 3600000, &cfg.pool.shutdown_delay_ms);
			break;
		case 'h':
			return cmd_help(&cmd_run_entry);
		default:
			return cmd_bad_option(&cmd_run_entry, c, argv, cmd_run_options);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_run_entry, "unexpected argument '%s'", argv[optind]);
	if (cfg.pool.scenario != SCENARIO_NONE) {
		if (strategy || crash >= 0)
			return cmd_usage_error(&cmd_run_entry, "--scenario runs its own pool: no --strategy or --crash-worker");
		scenario_defaults(cfg.pool.scenario, &cfg.pool.workers, &cfg.pool.tasks, &cfg.pool.pause_ms);
		/* Short, so that a process blocked during the pause is seen there. */
		cfg.hang_ms = 100;
	} else if (pause >= 0) {
		return cmd_usage_error(&cmd_run_entry, "--pause-ms applies to a --scenario");
	}
	if (workers > 0)
		cfg.pool.workers = (int)workers;
	if (tasks >= 0)
		cfg.pool.tasks = tasks;
	if (pause >= 0)
		cfg.pool.pause_ms = pause;
	if (hang > 0)
		cfg.hang_ms = hang;
	if (crash >= cfg.pool.workers)
		return cmd_usage_error(&cmd_run_entry, "--crash-worker %ld is not one of the %d workers (0..%d)", crash,
				       cfg.pool.workers, cfg.pool.workers - 1);
	cfg.pool.crash_worker = (int)crash;
	if (!cfg.log_capacity)
		cfg.log_capacity = cmd_run_log_size(cfg.pool.workers);
	cfg.db_path = store_default_path(db);
	if ((rc = cmd_run_fd_limit(cfg.pool.workers)))
		return rc;

	if ((rc = supervisor_run(&cfg, &res)) < 0)
		return cmd_status(rc);
	if (res.dropped)
		/* Counted from an incomplete trace: say so where the counts are. */
		snprintf(incomplete, sizeof(incomplete), " (incomplete: %llu events were dropped)",
			 (unsigned long long)res.dropped);
	fails = cmd_gate_check(&gate, !strcmp(res.outcome, "deadlock"), cfg.trace ? res.leaked_write_ends : -1,
			       cfg.trace ? res.eof_blockers : -1, gate_why, sizeof(gate_why));
	cmd_explain_hint(hint, sizeof(hint), res.run_id, cfg.db_path, cfg.trace && !strcmp(res.outcome, "deadlock"),
			 cfg.trace ? res.leaked_write_ends : -1, cfg.trace ? res.eof_blockers : -1);
	if (!quiet && json)
		cmd_run_json(&cfg, &res, fails, gate_why, hint);
	else if (!quiet && cfg.trace)
		printf("run %lld: %s, %d workers, %ld tasks: %s; %s%s; %llu events in %s (%.2f s)%s%s\n",
		       (long long)res.run_id, pool_run_name(&cfg.pool), cfg.pool.workers, cfg.pool.tasks, res.outcome,
		       cmd_counts(counts, sizeof(counts), res.leaked_write_ends, res.eof_blockers), incomplete,
		       (unsigned long long)res.events, cfg.db_path, res.seconds, gate_why, hint);
	else if (!quiet)
		printf("untraced run: %s, %d workers, %ld tasks: %s (%.2f s)%s\n",
		       pool_run_name(&cfg.pool), cfg.pool.workers, cfg.pool.tasks, res.outcome,
		       res.seconds, gate_why);
	else if (fails)
		/* -q: the summary is not printed, but a failing gate still says why. */
		fprintf(stderr, "pooltrace: run %lld%s%s\n", (long long)res.run_id, gate_why, hint);
	if (stats && cfg.trace)
		fprintf(stderr, "stats: %llu events stored in %.3f s of database time: %.0f events/s\n",
			(unsigned long long)res.events, res.ingest_seconds,
			res.ingest_seconds > 0 ? (double)res.events / res.ingest_seconds : 0.0);
	if (stats && cfg.trace && res.detect_seconds > 0)
		fprintf(stderr, "stats: deadlock confirmed at %.3f s, evidence recorded at %.3f s,"
			" all reaped at %.3f s, committed at %.3f s, counted at %.3f s\n",
			res.detect_seconds, res.evidence_seconds, res.seconds, res.stored_seconds,
			res.counted_seconds);
	else if (stats && cfg.trace)
		fprintf(stderr, "stats: all reaped at %.3f s, committed at %.3f s, counted at %.3f s\n",
			res.seconds, res.stored_seconds, res.counted_seconds);
	if (res.dropped || res.torn)
		error("warning: %llu events dropped (log full), %llu torn (writer killed mid-record)",
		      (unsigned long long)res.dropped, (unsigned long long)res.torn);
	if (res.signal)
		return 128 + res.signal;
	fflush(stdout);
	return fails ? gate.exitcode : 0;
}
