/* cmd-record.c: `pooltrace record -- CMD`: traces any program's pipes and fds into the trace database. */
#include "cli/cmd.h"
#include "store/store.h"
#include "ptrace/tracer.h"
#include "base/json.h"
#include "base/util.h"

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_record(int argc, char **argv);

const struct cmd_entry cmd_record_entry = {
	.name = "record",
	.summary = "run any program under ptrace, recording its pipes and fds",
	.help =
	"usage: pooltrace record [--db FILE] [--io] [--stacks] [--hang-ms MS] [--fail-on LIST] [-q] -- CMD [ARGS...]\n"
	"       pooltrace record -p PID [--for SECONDS] [--kill-on-deadlock] [--db FILE] [--io] ...\n"
	"\n"
	"Runs CMD under ptrace, following every fork, vfork, clone and exec, and\n"
	"records its pipes and socketpairs, closes, dups, shutdowns of socketpair\n"
	"ends, fds received over a socket (SCM_RIGHTS), exec's close-on-exec\n"
	"closes, exits and reaps into the trace database as a new run, with every\n"
	"fd each new process was born holding. A seccomp filter stops the program\n"
	"only at the calls that change fd tables or reap children. The same views,\n"
	"queries and pictures work on it: leaked_write_ends and eof_blockers say\n"
	"which process keeps which reader from EOF. When every thread is blocked on\n"
	"a pipe or socketpair of the program's (in a read, a write, or poll, select\n"
	"or epoll with no timeout), in a wait for a child or in pthread_join of one\n"
	"of its own threads, the deadlock is recorded with its evidence and the\n"
	"program killed. Calls it sees but cannot follow (i386 or x32 calls that\n"
	"change fds, an io_uring ring) mark the run incomplete, with why, in the\n"
	"summary, runs.incomplete and every picture's caption.\n"
	"\n"
	"With -p, the program is one already running: every thread of the tree\n"
	"rooted at PID is attached to (PTRACE_SEIZE), its fds are recorded as found\n"
	"(runs.source 'attach'), and it is traced until Ctrl-C, --for, a deadlock\n"
	"or its end. Then pooltrace detaches and the program runs on as before: a\n"
	"deadlock is recorded and left as it is, and if pooltrace dies the program\n"
	"goes on. No filter can be added to a running program, so it stops at\n"
	"every system call while attached (as under strace -f -p).\n"
	"\n"
	"options:\n"
	"  -d, --db FILE        trace database to append to (default $POOLTRACE_DB,\n"
	"                       else ./pooltrace.db); created if missing\n"
	"      --io             also record read, write, readv, writev, preadv2 and\n"
	"                       pwritev2 on pipes, with their byte counts (a read\n"
	"                       that returned 0 is read_zero),\n"
	"                       and splice, tee, vmsplice and sendfile as the reads and\n"
	"                       writes of pipes they are; the same and recv*, send* on\n"
	"                       socketpair ends (needed to count those in\n"
	"                       leaked_write_ends); calls on other fds still run\n"
	"                       unstopped\n"
	"      --stacks         also record the calling thread's stack (libdwfl) at each\n"
	"                       pipe, socketpair, fork, dup, close of a pipe end and\n"
	"                       exec, not at reads and writes: file:line with debug info\n"
	"                       (-g), else function names; and at a deadlock where\n"
	"                       each blocked thread waits; explain then says where\n"
	"      --hang-ms MS     no event for MS ms triggers a deadlock check (default 500)\n"
	"  -p, --pid PID        attach to the running tree rooted at PID instead of CMD\n"
	"      --for SECONDS    with -p: detach after SECONDS (default: at Ctrl-C, or\n"
	"                       when the tree has ended)\n"
	"      --kill-on-deadlock  with -p: kill a deadlocked tree, as record of CMD\n"
	"                       does (default: record the deadlock and detach)\n"
	CMD_GATE_HELP
	"      --json           the summary as one JSON object instead of words, on\n"
	"                       stderr like the words (stdout is CMD's)\n"
	"  -q, --quiet          no summary line\n"
	"  -h, --help           show this help\n"
	"\n"
	"CMD keeps pooltrace's stdin, stdout and stderr and exactly the fds pooltrace\n"
	"was given; the summary goes to stderr, and ends with the explain command\n"
	"that says what it found when there is a deadlock, a leak or a blocker. If pooltrace dies, the kernel kills\n"
	"every traced process (PTRACE_O_EXITKILL); with -p it does not.\n"
	"\n"
	"Exit status: CMD's (128+N when it died of signal N), unless --fail-on names\n"
	"what the run has: then --error-exitcode's (3); 128+N when pooltrace\n"
	"was interrupted by signal N, or killed CMD as deadlocked (128+9); 2 for a\n"
	"bad option or database; 1 when CMD could not be traced or the trace not\n"
	"stored; 127 when CMD was not found. With -p: 0, or 3 when a deadlock was\n"
	"found (or --fail-on's status), whether the program ended meanwhile or not;\n"
	"2 also when PID is not there or may not be traced.\n",
	.exec = cmd_record,
};

static const struct option cmd_record_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "hang-ms", required_argument, NULL, 'H' },
	{ "pid", required_argument, NULL, 'p' },
	{ "for", required_argument, NULL, 'T' },
	{ "kill-on-deadlock", no_argument, NULL, 'K' },
	{ "io", no_argument, NULL, 'i' },
	{ "stacks", no_argument, NULL, 'S' },
	{ "fail-on", required_argument, NULL, 'F' },
	{ "error-exitcode", required_argument, NULL, 'E' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Whether a word needs bash's $'...': a control character, or bytes that are not UTF-8. */
static bool cmd_record_needs_escapes(const char *a)
{
	for (const unsigned char *p = (const unsigned char *)a; *p;) {
		int n = utf8_seq_len(p);

		if (!n || *p < 0x20 || *p == 0x7f)
			return true;
		p += n;
	}
	return false;
}

/*
 * argv as one shell-quoted line: each word in single quotes unless it is
 * plain; a word with a control character (a newline in `python3 -c '...'`)
 * or bytes that are not UTF-8 in bash's $'...', so that the summary stays one
 * line of text a terminal shows as it is, and can be pasted back.
 */
static char *cmd_record_quote(char *const *argv)
{
	size_t cap = 64, len = 0;
	char *s = xmalloc(cap);

	for (int i = 0; argv[i]; i++) {
		const char *a = argv[i];
		bool plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
					     "-_./=:,+@%") == strlen(a);

		while (len + 4 * strlen(a) + 8 > cap)
			s = xrealloc(s, cap *= 2);
		if (i)
			s[len++] = ' ';
		if (plain) {
			len += (size_t)sprintf(s + len, "%s", a);
			continue;
		}
		if (cmd_record_needs_escapes(a)) {
			len += (size_t)sprintf(s + len, "$'");
			for (; *a; a++) {
				unsigned char ch = (unsigned char)*a;
				int n = utf8_seq_len((const unsigned char *)a);

				if (n > 1) {
					/* A whole character of another script: as it is. */
					memcpy(s + len, a, (size_t)n);
					len += (size_t)n;
					a += n - 1;
				} else if (!n)
					len += (size_t)sprintf(s + len, "\\x%02x", ch);
				else if (ch == '\n')
					len += (size_t)sprintf(s + len, "\\n");
				else if (ch == '\t')
					len += (size_t)sprintf(s + len, "\\t");
				else if (ch < 0x20 || ch == 0x7f)
					len += (size_t)sprintf(s + len, "\\x%02x", ch);
				else if (ch == '\'' || ch == '\\')
					len += (size_t)sprintf(s + len, "\\%c", ch);
				else
					s[len++] = (char)ch;
			}
			s[len++] = '\'';
			continue;
		}
		s[len++] = '\'';
		for (; *a; a++)
			len += (size_t)(*a == '\'' ? sprintf(s + len, "'\\''") : sprintf(s + len, "%c", *a));
		s[len++] = '\'';
	}
	s[len] = '\0';
	return s;
}

/* The command line of process pid, shell-quoted as cmd_record_quote does; "pid N" when /proc cannot say. */
static char *cmd_record_cmdline(pid_t pid)
{
	char path[64], buf[8192], *words[512], *s;
	ssize_t n;
	size_t nw = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_small_file(path, buf, sizeof(buf));
	for (ssize_t i = 0; n > 0 && i < n && nw + 1 < sizeof(words) / sizeof(words[0]); i += (ssize_t)strlen(buf + i) + 1)
		words[nw++] = buf + i;
	words[nw] = NULL;
	if (nw)
		return cmd_record_quote(words);
	s = xmalloc(32);
	snprintf(s, 32, "pid %d", (int)pid);
	return s;
}

/*
 * The summary as one JSON object (docs/query.md#json-summaries), on stderr
 * where the words go: CMD's stdout is often a pipeline's data. "command" is
 * the command line as the words give it (shell-quoted); "argv" the words
 * themselves, any bytes escaped.
 */
static void cmd_record_json(const struct tracer_config *cfg, const struct tracer_result *res, bool fails,
			    const char *gate_why, const char *hint)
{
	fputs("{\"run\": ", stderr);
	json_write_int(stderr, res->run_id);
	fprintf(stderr, ", \"source\": \"%s\", \"command\": ", cfg->attach ? "attach" : "record");
	json_write_str(stderr, cfg->command);
	fputs(", \"argv\": [", stderr);
	for (char *const *a = cfg->argv; *a; a++) {
		if (a != cfg->argv)
			fputs(", ", stderr);
		json_write_str(stderr, *a);
	}
	fputs("], \"outcome\": ", stderr);
	json_write_str(stderr, res->outcome);
	if (cfg->attach)
		fprintf(stderr, ", \"pid\": %d", (int)cfg->attach);
	if (res->exited)
		fprintf(stderr, ", \"status\": %d", res->status);
	else
		fputs(", \"status\": null", stderr);
	fprintf(stderr, ", \"processes\": %ld, \"socketpairs\": %ld, \"io\": %s, \"incomplete\": ",
		res->processes, res->socketpairs, cfg->io ? "true" : "false");
	json_write_str(stderr, res->incomplete[0] ? res->incomplete : NULL);
	fprintf(stderr, ", \"events\": %llu, \"db\": ", (unsigned long long)res->events);
	json_write_str(stderr, cfg->db_path);
	cmd_json_summary_end(stderr, res->leaked_write_ends, res->eof_blockers, fails, gate_why, hint);
}

static int cmd_record(int argc, char **argv)
{
	struct tracer_config cfg = { .hang_ms = 500 };
	struct tracer_result res;
	const char *db = NULL;
	bool quiet = false, json = false;
	char *command, counts[96], gate_why[160], hint[PATH_MAX + 64];
	struct cmd_gate gate = CMD_GATE_INIT;
	bool fails;
	long v;
	int c, rc;

	optind = 1;
	opterr = 0;
	/* '+': options end at CMD, whose own options are its business. */
	while ((c = getopt_long(argc, argv, "+:d:p:qh", cmd_record_options, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'q': quiet = true; break;
		case 'j': json = true; break;
		case 'i': cfg.io = true; break;
		case 'S': cfg.stacks = true; break;
		case 'F':
			if ((rc = cmd_gate_parse_list(&cmd_record_entry, optarg, &gate)))
				return rc;
			break;
		case 'E':
			if ((rc = cmd_gate_parse_code(&cmd_record_entry, optarg, &gate)))
				return rc;
			break;
		case 'H':
			if (parse_long(optarg, 10, 3600000, &v) < 0)
				return cmd_usage_error(&cmd_record_entry, "--hang-ms wants a whole number from 10 to 3600000, not '%s'",
						       optarg);
			cfg.hang_ms = v;
			break;
		case 'p':
			if (parse_long(optarg, 1, INT_MAX, &v) < 0)
				return cmd_usage_error(&cmd_record_entry, "-p wants a process id, not '%s'", optarg);
			cfg.attach = (pid_t)v;
			break;
		case 'T':
			if (parse_long(optarg, 1, 86400, &v) < 0)
				return cmd_usage_error(&cmd_record_entry, "--for wants a whole number of seconds from 1 to 86400, not '%s'",
						       optarg);
			cfg.for_ms = v * 1000;
			break;
		case 'K': cfg.kill_on_deadlock = true; break;
		case 'h': return cmd_help(&cmd_record_entry);
		default: return cmd_bad_option(&cmd_record_entry, c, argv, cmd_record_options);
		}
	}
	if (cfg.attach && optind < argc)
		return cmd_usage_error(&cmd_record_entry, "-p attaches to a running program: give it no command (%s)", argv[optind]);
	if (!cfg.attach && (cfg.for_ms || cfg.kill_on_deadlock))
		return cmd_usage_error(&cmd_record_entry, "%s is for -p PID", cfg.for_ms ? "--for" : "--kill-on-deadlock");
	if (!cfg.attach && optind >= argc)
		return cmd_usage_error(&cmd_record_entry, "missing the command to run (pooltrace record -- CMD ARGS...)");
	cfg.argv = argv + optind;
	cfg.db_path = store_default_path(db);
	cfg.command = command = cfg.attach ? cmd_record_cmdline(cfg.attach) : cmd_record_quote(cfg.argv);
	rc = tracer_run(&cfg, &res);
	if (rc < 0) {
		free(command);
		return cmd_status(rc);
	}
	fails = cmd_gate_check(&gate, !strcmp(res.outcome, "deadlock"), res.leaked_write_ends, res.eof_blockers, gate_why,
			       sizeof(gate_why));
	cmd_explain_hint(hint, sizeof(hint), res.run_id, cfg.db_path, !strcmp(res.outcome, "deadlock"), res.leaked_write_ends,
			 res.eof_blockers);
	if (!quiet && json) {
		cmd_record_json(&cfg, &res, fails, gate_why, hint);
	} else if (!quiet && cfg.attach) {
		char status[32] = "";

		if (res.exited)
			snprintf(status, sizeof(status), ", status %d", res.status);
		fprintf(stderr, "pooltrace: run %lld: attached to %d (%s): %s%s%s; %ld process%s; %s%s%s%s%s; %llu events in %s%s%s\n",
			(long long)res.run_id, (int)cfg.attach, command, res.outcome,
			res.exited ? ", ended" : !strcmp(res.outcome, "deadlock") && !cfg.kill_on_deadlock ? ", left running" : "",
			status, res.processes, res.processes == 1 ? "" : "es",
			cmd_counts(counts, sizeof(counts), res.leaked_write_ends, res.eof_blockers),
			res.socketpairs && !cfg.io ? " (of pipes: socketpair ends are counted with --io)" : "",
			res.incomplete[0] ? " (incomplete: " : "", res.incomplete, res.incomplete[0] ? ")" : "",
			(unsigned long long)res.events, cfg.db_path, gate_why, hint);
	} else if (!quiet)
		fprintf(stderr, "pooltrace: run %lld: %s: %s, status %d; %ld process%s; %s%s%s%s%s; %llu events in %s%s%s\n",
			(long long)res.run_id, command, res.outcome, res.status, res.processes, res.processes == 1 ? "" : "es",
			cmd_counts(counts, sizeof(counts), res.leaked_write_ends, res.eof_blockers),
			/* Without the reads, an end in use looks untouched: see leaked_write_ends. */
			res.socketpairs && !cfg.io ? " (of pipes: socketpair ends are counted with --io)" : "",
			res.incomplete[0] ? " (incomplete: " : "", res.incomplete, res.incomplete[0] ? ")" : "",
			(unsigned long long)res.events, cfg.db_path, gate_why, hint);
	else if (fails)
		fprintf(stderr, "pooltrace: run %lld%s%s\n", (long long)res.run_id, gate_why, hint);
	free(command);
	if (cfg.attach)
		/* A signal is how an attach is ended: not a failure. */
		return fails ? gate.exitcode : !strcmp(res.outcome, "deadlock") ? 3 : 0;
	if (res.signal)
		return 128 + res.signal;
	if (fails)
		return gate.exitcode;
	/* A deadlock killed CMD's first process: its status is 128+SIGKILL. One
	 * among orphans after it exited leaves the status it exited with. */
	return res.status;
}
