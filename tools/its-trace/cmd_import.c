/*
 * cmd_import.c: its-trace import --from qemu LOG -o OUT.itr
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "itr_import.h"

static const char *const SUB = "import";

static void help(void)
{
	printf(
"usage: %s import --from qemu LOG -o OUT.itr [options]\n"
"\n"
"Convert a capture into an .itr trace.  Sources:\n"
"  qemu   a QEMU -trace 'gicv3_its*' log of a GICv3 guest (plain or .gz): register\n"
"         reads and writes, each processed command re-encoded into its 32 bytes at\n"
"         its queue slot, TRANSLATER writes as device MSIs, and QEMU's device,\n"
"         collection and interrupt table writes as expected effects.  Operands QEMU\n"
"         does not print (SYNC's RDbase, INVALL's ICID) are inferred by the Linux\n"
"         driver's rules and marked inferred.\n"
"\n"
"Unknown and malformed lines are counted and reported with their line numbers; the\n"
"import fails only when no line could be read.\n"
"\n"
"options:\n"
"  -f, --from SOURCE    the capture source (qemu)\n"
"  -o, --output FILE    the trace to write ('-' for standard output)\n"
"      --domain N       domain id of the records (default 0)\n"
"      --vcpus N        vCPUs of the guest (default: largest MAPC RDbase + 1)\n"
"      --max-diag N     print at most N line diagnostics (default 20; 0: none)\n"
"      --strict         exit 1 when any line was unknown or malformed\n"
"      --json           print the import summary as JSON on standard output\n"
"  -q, --quiet          no summary on standard error\n"
"  -h, --help           this text\n"
"\n"
"exit status: 0 imported, 1 unknown or malformed lines with --strict,\n"
"             2 bad usage, unreadable log, or nothing in it could be read\n"
"\n"
"examples:\n"
"  %s import --from qemu its.log.gz -o guest.itr\n"
"  %s import --from qemu --json its.log -o guest.itr | jq .commands\n",
	prog, prog, prog);
}

struct diag_ctx {
	const char *path;
	long max, shown;
};

static void on_diag(void *ctx, const struct itr_import_diag *d)
{
	struct diag_ctx *c = ctx;
	if (c->shown++ >= c->max)
		return;
	const char *k = d->kind == ITR_DIAG_UNKNOWN ? "unknown line" :
			d->kind == ITR_DIAG_MALFORMED ? "malformed line" : "warning";
	if (d->line)
		fprintf(stderr, "%s:%llu: %s: %s: %s\n", c->path, (unsigned long long)d->line, k,
			d->why, d->text);
	else
		fprintf(stderr, "%s: %s: %s\n", c->path, k, d->why);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *e;
	unsigned long v = strtoul(s, &e, 0);
	if (!*s || *e || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static void print_json(const char *log, const char *out, const struct itr_import_result *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "log", log);
	cJSON_AddStringToObject(o, "output", out);
	cJSON_AddNumberToObject(o, "lines", (double)r->lines);
	cJSON_AddNumberToObject(o, "used_lines", (double)r->used);
	cJSON_AddNumberToObject(o, "ignored_lines", (double)r->ignored);
	cJSON_AddNumberToObject(o, "unknown_lines", (double)r->unknown);
	cJSON_AddNumberToObject(o, "malformed_lines", (double)r->malformed);
	cJSON_AddNumberToObject(o, "warnings", (double)r->warnings);
	cJSON_AddNumberToObject(o, "records", (double)r->records);
	cJSON_AddNumberToObject(o, "commands", (double)r->commands);
	cJSON *bc = cJSON_AddObjectToObject(o, "by_command");
	for (int i = 0; i < ITS_IDX_COUNT; i++)
		cJSON_AddNumberToObject(bc, its_cmd_name(its_cmd_index_opcode(i)),
					(double)r->by_command[i]);
	cJSON_AddNumberToObject(o, "other_commands", (double)r->other_commands);
	cJSON_AddNumberToObject(o, "device_msis", (double)r->msis);
	cJSON_AddNumberToObject(o, "inferred_records", (double)r->inferred);
	cJSON_AddNumberToObject(o, "reordered_writes", (double)r->reordered);
	cJSON_AddNumberToObject(o, "queue_wraps", (double)r->queue_wraps);
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

int cmd_import(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "domain", required_argument, NULL, 'D' },
		{ "vcpus", required_argument, NULL, 'V' },
		{ "max-diag", required_argument, NULL, 'M' },
		{ "strict", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *out = NULL;
	unsigned long domain = 0, vcpus = 0, maxdiag = 20;
	int strict = 0, json = 0, quiet = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': from = optarg; break;
		case 'o': out = optarg; break;
		case 'D':
			if (parse_uint(optarg, 0xffff, &domain))
				return usage_error(SUB, "--domain wants 0..65535, not '%s'", optarg);
			break;
		case 'V':
			if (parse_uint(optarg, 65535, &vcpus) || !vcpus)
				return usage_error(SUB, "--vcpus wants 1..65535, not '%s'", optarg);
			break;
		case 'M':
			if (parse_uint(optarg, 1000000000, &maxdiag))
				return usage_error(SUB, "--max-diag wants a count, not '%s'", optarg);
			break;
		case 'S': strict = 1; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': help(); return EXIT_OK;
		case ':': return usage_error(SUB, "option '%s' needs a value", argv[optind - 1]);
		default: return usage_error(SUB, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!from)
		return usage_error(SUB, "say what to import from: --from qemu");
	if (strcmp(from, "qemu") != 0)
		return usage_error(SUB, "unknown source '%s' (known: qemu)", from);
	if (optind != argc - 1)
		return usage_error(SUB, optind >= argc ? "which log?" : "one log at a time");
	if (!out)
		return usage_error(SUB, "where to? -o OUT.itr");
	const char *log = argv[optind];
	if (json && !strcmp(out, "-"))
		return usage_error(SUB, "--json and -o - would share standard output");

	struct diag_ctx dc = { log, (long)maxdiag, 0 };
	struct itr_import_opts o = { .sz = sizeof(o), .domain = (uint16_t)domain,
				     .nr_vcpus = (uint32_t)vcpus, .on_diag = on_diag, .ctx = &dc };
	struct itr_import_result r;
	char msg[256];
	int rc = itr_import_qemu(log, out, &o, &r, msg, sizeof(msg));
	if (rc) {
		err_msg(SUB, "%s", msg[0] ? msg : itr_strerror(rc));
		return EXIT_BAD;
	}
	if (dc.shown > dc.max)
		err_msg(SUB, "%ld more diagnostics not shown (--max-diag)", dc.shown - dc.max);
	if (!quiet) {
		fprintf(stderr, "%s %s: %s: %llu lines, %llu commands, %llu MSIs, %llu records "
			"(%llu inferred) written to %s", prog, SUB, log,
			(unsigned long long)r.lines, (unsigned long long)r.commands,
			(unsigned long long)r.msis, (unsigned long long)r.records,
			(unsigned long long)r.inferred, out);
		if (r.unknown || r.malformed || r.warnings)
			fprintf(stderr, "; %llu unknown, %llu malformed lines, %llu warnings",
				(unsigned long long)r.unknown, (unsigned long long)r.malformed,
				(unsigned long long)r.warnings);
		fputc('\n', stderr);
	}
	if (json)
		print_json(log, out, &r);
	return strict && (r.unknown || r.malformed) ? EXIT_FINDING : EXIT_OK;
}
