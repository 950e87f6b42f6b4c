/* cmd-record.c: `pooltrace record -- CMD`: traces any program's pipes and fds into the trace database. */
#include "cli/cmd.h"
#include "store/store.h"
#include "ptrace/tracer.h"
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
	"                       (-g), else function names; explain then says where\n"
	"      --hang-ms MS     no event for MS ms triggers a deadlock check (default 500)\n"
	CMD_GATE_HELP
	"  -q, --quiet          no summary line\n"
	"  -h, --help           show this help\n"
	"\n"
	"CMD keeps pooltrace's stdin, stdout and stderr and exactly the fds pooltrace\n"
	"was given; the summary goes to stderr, and ends with the explain command\n"
	"that says what it found when there is a deadlock, a leak or a blocker. If pooltrace dies, the kernel kills\n"
	"every traced process (PTRACE_O_EXITKILL).\n"
	"\n"
	"Exit status: CMD's (128+N when it died of signal N), unless --fail-on names\n"
	"what the run has: then --error-exitcode's (3); 128+N when pooltrace\n"
	"was interrupted by signal N, or killed CMD as deadlocked (128+9); 2 for a\n"
	"bad option or database; 1 when CMD could not be traced or the trace not\n"
	"stored; 127 when CMD was not found.\n",
	.exec = cmd_record,
};

static const struct option cmd_record_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "hang-ms", required_argument, NULL, 'H' },
	{ "io", no_argument, NULL, 'i' },
	{ "stacks", no_argument, NULL, 'S' },
	{ "fail-on", required_argument, NULL, 'F' },
	{ "error-exitcode", required_argument, NULL, 'E' },
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

static int cmd_record(int argc, char **argv)
{
	struct tracer_config cfg = { .hang_ms = 500 };
	struct tracer_result res;
	const char *db = NULL;
	bool quiet = false;
	char *command, counts[96], gate_why[160], hint[PATH_MAX + 64];
	struct cmd_gate gate = CMD_GATE_INIT;
	bool fails;
	long v;
	int c, rc;

	optind = 1;
	opterr = 0;
	/* '+': options end at CMD, whose own options are its business. */
	while ((c = getopt_long(argc, argv, "+:d:qh", cmd_record_options, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'q': quiet = true; break;
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
		case 'h': return cmd_help(&cmd_record_entry);
		default: return cmd_bad_option(&cmd_record_entry, c, argv, cmd_record_options);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_record_entry, "missing the command to run (pooltrace record -- CMD ARGS...)");
	cfg.argv = argv + optind;
	cfg.db_path = store_default_path(db);
	cfg.command = command = cmd_record_quote(cfg.argv);
	rc = tracer_run(&cfg, &res);
	if (rc < 0) {
		free(command);
		return cmd_status(rc);
	}
	fails = cmd_gate_check(&gate, !strcmp(res.outcome, "deadlock"), res.leaked_write_ends, res.eof_blockers, gate_why,
			       sizeof(gate_why));
	if (!quiet)
		fprintf(stderr, "pooltrace: run %lld: %s: %s, status %d; %ld process%s; %s%s%s%s%s; %llu events in %s%s%s\n",
			(long long)res.run_id, command, res.outcome, res.status, res.processes, res.processes == 1 ? "" : "es",
			cmd_counts(counts, sizeof(counts), res.leaked_write_ends, res.eof_blockers),
			/* Without the reads, an end in use looks untouched: see leaked_write_ends. */
			res.socketpairs && !cfg.io ? " (of pipes: socketpair ends are counted with --io)" : "",
			res.incomplete[0] ? " (incomplete: " : "", res.incomplete, res.incomplete[0] ? ")" : "",
			(unsigned long long)res.events, cfg.db_path, gate_why,
			cmd_explain_hint(hint, sizeof(hint), res.run_id, cfg.db_path, !strcmp(res.outcome, "deadlock"),
					 res.leaked_write_ends, res.eof_blockers));
	else if (fails)
		fprintf(stderr, "pooltrace: run %lld%s\n", (long long)res.run_id, gate_why);
	free(command);
	if (res.signal)
		return 128 + res.signal;
	if (fails)
		return gate.exitcode;
	/* A deadlock killed CMD's first process: its status is 128+SIGKILL. One
	 * among orphans after it exited leaves the status it exited with. */
	return res.status;
}
