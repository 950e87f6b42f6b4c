/* cmd.c: the subcommand table and the option-error helpers every cmd-*.c shares. */
#include "cli/cmd.h"

#include "base/util.h"

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
