/* main.c: pooltrace's entry point: finds the subcommand in cmd_table and runs it. */
#include "cli/cmd.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

#define POOLTRACE_VERSION "0.1.0"

static int main_usage(FILE *out)
{
	fprintf(out, "usage: pooltrace COMMAND [OPTIONS]\n\n"
		     "Runs a pipe-based process pool under tracing, stores every fd event in SQLite,\n"
		     "and draws the fd graph with Graphviz.\n\ncommands:\n");
	for (size_t i = 0; cmd_table[i]; i++)
		fprintf(out, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(out, "\noptions:\n"
		     "  -h, --help     show this help\n"
		     "  -V, --version  print pooltrace's version\n"
		     "\n'pooltrace help COMMAND' (or 'pooltrace COMMAND --help') describes a command's options;\n"
		     "'man pooltrace' once installed (make install).\n");
	return out == stdout ? 0 : EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct cmd_entry *e;

	if (argc < 2) {
		fprintf(stderr, "pooltrace: missing command (see pooltrace --help)\n");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") && argc > 2) {
		/* `pooltrace help CMD` is `pooltrace CMD --help`. */
		if (!(e = cmd_find(argv[2]))) {
			fprintf(stderr, "pooltrace: unknown command '%s' (see pooltrace --help)\n", argv[2]);
			return EXIT_USAGE;
		}
		return cmd_help(e);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return main_usage(stdout);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("pooltrace %s\n", POOLTRACE_VERSION);
		return 0;
	}
	e = cmd_find(argv[1]);
	if (!e) {
		fprintf(stderr, "pooltrace: unknown command '%s' (see pooltrace --help)\n", argv[1]);
		return EXIT_USAGE;
	}
	return e->exec(argc - 1, argv + 1);
}
