/*
 * main.c: its-trace, the trace tool.  Dispatches to one file per subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

const char *prog = "its-trace";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{ "import", cmd_import, "convert a capture (QEMU's ITS trace log) into an .itr trace" },
	{ "dump", cmd_dump, "print every record of a trace, one per line (--json: JSON lines)" },
	{ "stats", cmd_stats, "totals by command, device, queue wraps, MSIs, errors, amplification" },
	{ "replay", cmd_replay, "re-run a trace through the engine; report the first divergence" },
	{ "whatif", cmd_whatif, "replay a trace's guest inputs under each policy, side by side" },
	{ "diff", cmd_diff, "compare two traces of the same inputs by their outputs" },
	{ "minimize", cmd_minimize, "shrink a failing trace to the inputs the failure needs" },
	{ "checkpoint", cmd_checkpoint, "insert engine-state snapshots, for replay --from-checkpoint" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s <command> [options] [args]\n\ncommands:\n", prog);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
		"\n'%s <command> --help' describes a command.\n"
		"Data goes to standard output, diagnostics to standard error.  Exit status:\n"
		"0 success, 1 a finding, 2 bad usage or bad input (a damaged trace included).\n"
		"\nexamples:\n"
		"  %s import --from qemu its.log.gz -o guest.itr\n"
		"  %s stats guest.itr\n"
		"  %s dump --json guest.itr | head\n", prog, prog, prog, prog);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_BAD;
	}
	const char *c = argv[1];
	if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
		if (!strcmp(c, "help") && argc > 2) {
			for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
				if (!strcmp(argv[2], cmds[i].name)) {
					char *hv[] = { argv[2], "--help", NULL };
					return cmds[i].fn(2, hv);
				}
			}
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(c, "--version")) {
		printf("%s (vITS toolkit) trace format %u.%u\n", prog, ITR_VERSION_MAJOR,
		       ITR_VERSION_MINOR);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(c, cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: '%s' is not a command.  See '%s --help'.\n", prog, c, prog);
	return EXIT_BAD;
}
