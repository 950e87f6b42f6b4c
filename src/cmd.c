/* cmd.c: the subcommand table and the option-error helpers every cmd-*.c shares. */
#include "cmd.h"

#include "util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct cmd_entry *const cmd_table[] = {
	&cmd_run_entry,
	&cmd_query_entry,
	&cmd_render_entry,
	&cmd_compare_entry,
	&cmd_timeline_entry,
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

int cmd_bad_option(const struct cmd_entry *e, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return cmd_usage_error(e, "option '%s' needs a value", arg);
	if (optopt)
		return cmd_usage_error(e, "unknown option '-%c'", optopt);
	return cmd_usage_error(e, "unknown option '%s'", arg);
}

int cmd_help(const struct cmd_entry *e)
{
	fputs(e->help, stdout);
	return 0;
}
