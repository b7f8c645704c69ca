/*
 * cmd_checkpoint.c: its-trace checkpoint TRACE --every N -o OUT [--domain D] [--json]
 *
 * Replays TRACE and writes OUT: the same records with a SNAPSHOT of the engine state
 * (format 1.1, docs/replay.md) inserted every N records, so that 'its-trace replay
 * --from-checkpoint K OUT' can start there instead of at the beginning.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "replay.h"

static const char *const SUB = "checkpoint";

static void help(void)
{
	printf(
"usage: %s checkpoint [options] TRACE -o OUT\n"
"\n"
"Replay TRACE (it must replay with no divergence) and write OUT: the same records with\n"
"an engine-state SNAPSHOT record inserted at the first call boundary every N records\n"
"(registers, property table, devices, events, collections, LPI configuration and\n"
"pending state; format 1.1).  'its-trace replay --from-checkpoint K OUT' then starts\n"
"at the Kth snapshot.  Snapshots already in TRACE are replaced.  Traces with a\n"
"physical side are refused: a snapshot holds no host state.\n"
"\n"
"options:\n"
"  -o, --output OUT    the trace to write (required)\n"
"      --every N       records between snapshots (default 10000)\n"
"      --domain D      the domain (default: the header's first)\n"
"      --json          one JSON object: snapshots, records\n"
"  -h, --help          this text\n"
"\n"
"exit status: 0 written, 2 bad usage, a damaged trace, a trace that diverges or has\n"
"a physical side\n"
"\n"
"example:\n"
"  %s checkpoint --every 5000 guest.itr -o guest-ck.itr\n"
"  %s replay --from-checkpoint 3 guest-ck.itr\n",
	prog, prog, prog);
}

int cmd_checkpoint(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "every", required_argument, NULL, 'e' },
		{ "domain", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	unsigned long long every = 10000;
	int domain = -1, json = 0, c;
	uint64_t u;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'e':
			if (opt_u64(optarg, 1, UINT64_MAX, &u))
				return usage_error(SUB, "bad --every '%s'", optarg);
			every = u;
			break;
		case 'd':
			if (opt_u64(optarg, 0, 65535, &u))
				return usage_error(SUB, "bad --domain '%s'", optarg);
			domain = (int)u;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error(SUB, "unknown option");
		}
	}
	if (optind != argc - 1)
		return usage_error(SUB, "expected one TRACE");
	if (!out)
		return usage_error(SUB, "-o OUT is required");
	const char *path = argv[optind];
	char msg[512];
	struct rp_memtrace *t = NULL, *o = NULL;
	int rc = rp_memtrace_load(path, &t, msg, sizeof(msg));
	if (rc < 0) {
		err_msg(SUB, "%s: %s", path, msg[0] ? msg : rp_strerror(rc));
		rp_memtrace_free(t);
		return EXIT_BAD;
	}
	uint64_t n = 0;
	rc = rp_snapshot_trace(t, every, domain, &o, &n, msg, sizeof(msg));
	if (rc < 0) {
		err_msg(SUB, "%s: %s", path, msg[0] ? msg : rp_strerror(rc));
		rp_memtrace_free(t);
		return EXIT_BAD;
	}
	if (rp_memtrace_save(o, out)) {
		err_msg(SUB, "%s: cannot write", out);
		rp_memtrace_free(t);
		rp_memtrace_free(o);
		return EXIT_BAD;
	}
	if (json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "trace", path);
		cJSON_AddStringToObject(j, "output", out);
		cJSON_AddNumberToObject(j, "snapshots", (double)n);
		cJSON_AddNumberToObject(j, "records", (double)o->n);
		char *s = cJSON_PrintUnformatted(j);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(j);
	} else {
		printf("%s: %llu snapshots (every %llu records) written to %s\n", path,
		       (unsigned long long)n, every, out);
	}
	rp_memtrace_free(t);
	rp_memtrace_free(o);
	return EXIT_OK;
}
