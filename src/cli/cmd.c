/* cmd.c: the subcommand table and the option-error helpers every cmd-*.c shares. */
#include "cli/cmd.h"

#include "base/json.h"
#include "base/util.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct cmd_entry *const cmd_table[] = {
	&cmd_record_entry,
	&cmd_snapshot_entry,
	&cmd_explain_entry,
	&cmd_run_entry,
	&cmd_query_entry,
	&cmd_render_entry,
	&cmd_compare_entry,
	&cmd_timeline_entry,
	&cmd_report_entry,
	&cmd_export_entry,
	NULL,
};

const struct cmd_entry *cmd_find(const char *name)
{
	for (size_t i = 0; cmd_table[i]; i++)
		if (!strcmp(cmd_table[i]->name, name))
			return cmd_table[i];
	return NULL;
}

int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pooltrace %s: %s (see pooltrace %s --help)\n", e->name, line, e->name);
	return EXIT_USAGE;
}

int cmd_bad_option(const struct cmd_entry *e, int c, char **argv, const struct option *options)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return cmd_usage_error(e, "option '%s' needs a value", arg);
	if (!strncmp(arg, "--", 2)) {
		/* getopt says only '?': find what was meant, as getopt does,
		 * by the name before any '=' (an abbreviation counts). */
		const struct option *match = NULL;
		size_t len = strcspn(arg + 2, "=");
		int matches = 0;

		for (const struct option *o = options; o && o->name; o++)
			if (!strncmp(o->name, arg + 2, len)) {
				if (strlen(o->name) == len) {
					match = o;
					matches = 1;
					break;
				}
				match = o;
				matches++;
			}
		if (matches > 1)
			return cmd_usage_error(e, "option '%.*s' is ambiguous", (int)len + 2, arg);
		if (match && arg[2 + len] == '=' && match->has_arg == no_argument)
			return cmd_usage_error(e, "option '--%s' takes no value", match->name);
		return cmd_usage_error(e, "unknown option '%s'", arg);
	}
	if (optopt)
		return cmd_usage_error(e, "unknown option '-%c'", optopt);
	return cmd_usage_error(e, "unknown option '%s'", arg);
}

int cmd_status(int rc)
{
	if (rc >= 0)
		return rc;
	return rc == -EINVAL ? EXIT_USAGE : 1;
}

const char *cmd_counts(char *buf, size_t size, int64_t leaked, int64_t blockers)
{
	if (leaked < 0 || blockers < 0)
		snprintf(buf, size, "leaked write ends and EOF blockers not counted");
	else
		snprintf(buf, size, "leaked write ends %lld, EOF blockers %lld", (long long)leaked, (long long)blockers);
	return buf;
}

int cmd_help(const struct cmd_entry *e)
{
	fputs(e->help, stdout);
	return 0;
}

int cmd_gate_parse_list(const struct cmd_entry *e, const char *list, struct cmd_gate *g)
{
	static const struct { const char *name; unsigned bit; } words[] = {
		{ "deadlock", CMD_FAIL_DEADLOCK }, { "leak", CMD_FAIL_LEAK }, { "blocker", CMD_FAIL_BLOCKER },
	};
	const char *p = list;

	g->fail_on = 0;
	for (;;) {
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].name) == len && !strncmp(words[i].name, p, len))
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return cmd_usage_error(e, "--fail-on wants a comma list of deadlock, leak or blocker, not '%s'", list);
		g->fail_on |= words[i].bit;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int cmd_gate_parse_code(const struct cmd_entry *e, const char *s, struct cmd_gate *g)
{
	long v;

	if (parse_long(s, 1, 255, &v) < 0)
		return cmd_usage_error(e, "--error-exitcode wants a whole number from 1 to 255, not '%s'", s);
	g->exitcode = (int)v;
	return 0;
}

int cmd_gate_check(const struct cmd_gate *g, int deadlock, int64_t leaked, int64_t blockers, char *buf, size_t size)
{
	size_t len = 0;
	int n = 0;

	buf[0] = '\0';
	if ((g->fail_on & CMD_FAIL_DEADLOCK) && deadlock)
		len += (size_t)snprintf(buf + len, size - len, "%sdeadlock", n++ ? ", " : "; fails --fail-on: ");
	if ((g->fail_on & CMD_FAIL_LEAK) && leaked > 0 && len < size)
		len += (size_t)snprintf(buf + len, size - len, "%s%lld leaked write end%s", n++ ? ", " : "; fails --fail-on: ",
					(long long)leaked, leaked == 1 ? "" : "s");
	if ((g->fail_on & CMD_FAIL_BLOCKER) && blockers > 0 && len < size)
		snprintf(buf + len, size - len, "%s%lld EOF blocker%s", n++ ? ", " : "; fails --fail-on: ", (long long)blockers,
			 blockers == 1 ? "" : "s");
	return n > 0;
}

const char *cmd_explain_hint(char *buf, size_t size, int64_t run, const char *db, int deadlock, int64_t leaked,
			     int64_t blockers)
{
	size_t len;

	buf[0] = '\0';
	if (!deadlock && leaked <= 0 && blockers <= 0)
		return buf;
	len = (size_t)snprintf(buf, size, "; see: pooltrace explain --run %lld", (long long)run);
	if (len >= size || !strcmp(db, store_default_path(NULL)))
		return buf;
	/* The file name as a shell word: plain, or in single quotes. */
	if (*db && strspn(db, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == strlen(db)) {
		snprintf(buf + len, size - len, " --db %s", db);
		return buf;
	}
	len += (size_t)snprintf(buf + len, size - len, " --db '");
	for (const char *p = db; *p && len + 6 < size; p++)
		len += (size_t)(*p == '\'' ? snprintf(buf + len, size - len, "'\\''") : snprintf(buf + len, size - len, "%c", *p));
	if (len + 2 < size)
		snprintf(buf + len, size - len, "'");
	return buf;
}

void cmd_json_summary_end(FILE *out, int64_t leaked, int64_t blockers, bool fails, const char *gate_why,
			  const char *hint)
{
	static const char see[] = "; see: ", gate[] = "; fails --fail-on: ";

	fputs(", \"leaked_write_ends\": ", out);
	if (leaked < 0)
		fputs("null", out);
	else
		json_write_int(out, leaked);
	fputs(", \"eof_blockers\": ", out);
	if (blockers < 0)
		fputs("null", out);
	else
		json_write_int(out, blockers);
	fprintf(out, ", \"fails_gate\": %s, \"gate\": ", fails ? "true" : "false");
	json_write_str(out, !strncmp(gate_why, gate, sizeof(gate) - 1) ? gate_why + sizeof(gate) - 1 : NULL);
	fputs(", \"explain\": ", out);
	json_write_str(out, !strncmp(hint, see, sizeof(see) - 1) ? hint + sizeof(see) - 1 : NULL);
	fputs("}\n", out);
}
