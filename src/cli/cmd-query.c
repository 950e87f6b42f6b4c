/* cmd-query.c: `pooltrace query`: runs SQL against a trace database, read-only. */
#include "cli/cmd.h"
#include "store/query.h"
#include "store/store.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_query(int argc, char **argv);

const struct cmd_entry cmd_query_entry = {
	.name = "query",
	.summary = "run SQL against a trace database (read-only)",
	.help =
	"usage: pooltrace query [--db FILE] [--csv|--json|--jsonl] SQL\n"
	"       pooltrace query [--db FILE] [--csv|--json|--jsonl] -f FILE.sql\n"
	"\n"
	"Opens the trace database read-only and runs the SQL (one or more\n"
	"statements), printing each result as an aligned table, as CSV, or as JSON.\n"
	"Canned queries live in traces/queries/*.sql; the views fd_holds,\n"
	"leaked_write_ends, eof_blockers and run_summary are the documented way in.\n"
	"\n"
	"options:\n"
	"  -d, --db FILE   trace database (default $POOLTRACE_DB, else ./pooltrace.db)\n"
	"  -f, --file F    read the SQL from file F ('-' for standard input)\n"
	"      --csv       print CSV (RFC 4180) instead of a table\n"
	"      --json      print each statement's rows as one JSON array of objects,\n"
	"                  {\"column\": value}: NULL null, integers exact, text any\n"
	"                  bytes escaped (not UTF-8: U+FFFD), a blob a hex string\n"
	"      --jsonl     the same objects, one per line, no array\n"
	"  -h, --help      show this help\n"
	"\n"
	"The connection is read-only: a statement that would change the database, and\n"
	"ATTACH (or VACUUM INTO, which writes a new file) are refused.\n"
	"\n"
	"Exit status: 0 on success; 2 for a bad option, database or SQL statement;\n"
	"1 when the database could not be read or the output not written.\n",
	.exec = cmd_query,
};

static const struct option cmd_query_options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "file", required_argument, NULL, 'f' },
	{ "csv", no_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "jsonl", no_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Reads all of path ("-": stdin). Returns a malloc'd string or NULL (errno set). */
static char *cmd_query_slurp(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t len = 0, cap = 4096, n;
	char *buf;

	if (!f)
		return NULL;
	buf = xmalloc(cap);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	/* A directory opens, and only its read fails (EISDIR): never take that for empty SQL. */
	if (ferror(f)) {
		int e = errno;

		free(buf);
		if (f != stdin)
			fclose(f);
		errno = e;
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

static int cmd_query(int argc, char **argv)
{
	const char *db = NULL, *file = NULL;
	struct store *st;
	char *sql;
	enum query_format format = QUERY_TABLE;
	const char *format_opt = NULL;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:f:h", cmd_query_options, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'f': file = optarg; break;
		case 'c':
		case 'j':
		case 'l':
			if (format_opt && strcmp(format_opt, argv[optind - 1]))
				return cmd_usage_error(&cmd_query_entry, "%s and %s: give one output format", format_opt,
						       argv[optind - 1]);
			format_opt = argv[optind - 1];
			format = c == 'c' ? QUERY_CSV : c == 'j' ? QUERY_JSON : QUERY_JSONL;
			break;
		case 'h': return cmd_help(&cmd_query_entry);
		default: return cmd_bad_option(&cmd_query_entry, c, argv, cmd_query_options);
		}
	}
	if (file && optind < argc)
		return cmd_usage_error(&cmd_query_entry, "give the SQL either as an argument or with -f, not both");
	if (!file && optind >= argc)
		return cmd_usage_error(&cmd_query_entry, "missing SQL");
	if (optind + 1 < argc)
		return cmd_usage_error(&cmd_query_entry, "unexpected argument '%s' (quote the SQL as one argument)",
				       argv[optind + 1]);
	if (file) {
		sql = cmd_query_slurp(file);
		if (!sql)
			return cmd_usage_error(&cmd_query_entry, "cannot read %s: %s", file, strerror(errno));
	} else {
		sql = xstrdup(argv[optind]);
	}
	if ((rc = store_open(store_default_path(db), STORE_READ, &st)) < 0) {
		free(sql);
		return cmd_status(rc);
	}
	rc = cmd_status(query_print(st, sql, format, stdout));
	store_close(st);
	free(sql);
	/* Output that did not reach its destination (a full disk, a closed
	 * pipe) is a failure, not a success with a truncated table. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		error("query: cannot write the output: %s", strerror(errno));
		return rc ? rc : 1;
	}
	return rc;
}
