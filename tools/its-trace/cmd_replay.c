/*
 * cmd_replay.c: its-trace replay TRACE [--policy P] [--budget N] [--from-checkpoint N]
 *               [--start-at INDEX] [--json]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "replay.h"

static const char *const SUB = "replay";

static void help(void)
{
	printf(
"usage: %s replay [options] TRACE\n"
"\n"
"Re-run TRACE through the engine: build it from the trace header, feed the recorded\n"
"inputs in order (register accesses, MSIs, property-table writes, host LPIs, device\n"
"assignments), answer its guest-memory reads with the recorded bytes, and compare\n"
"every output with the trace: guest commands and their outcomes, physical commands,\n"
"injections, CREADR changes, register values and, for traces imported from QEMU,\n"
"QEMU's table writes taken semantically (device valid and ITT size; event LPI,\n"
"collection and valid; collection target).  Only what the trace's source observed\n"
"is compared, and the summary says when a result rests on inferred input.\n"
"\n"
"On the first divergence: the record index, what was expected and what came, a few\n"
"records of context and the engine state there; exit status 1.\n"
"\n"
"options:\n"
"      --policy P      replay under policy P (forward, eager, lazy, lazy-global,\n"
"                      virtual) instead of the trace's; outputs of the recorded\n"
"                      policy then diverge where the policies differ\n"
"      --budget N      commands per engine call (default: the trace's)\n"
"      --domain D      the domain to replay (default: the header's first)\n"
"      --host          attach a physical side even when the trace has none\n"
"      --context N     records of context either side of a divergence (default 4)\n"
"      --from-checkpoint N\n"
"                      start at the Nth SNAPSHOT of the trace (1 = the first; see\n"
"                      'its-trace checkpoint'): the engine is restored to the\n"
"                      snapshot's state, checked against it, and replay compares\n"
"                      from the record after it (traces with no physical side)\n"
"      --start-at I    the same, at the snapshot whose first record is record I\n"
"      --json          one JSON object: diverged, divergence (or null),\n"
"                      guest_commands, physical_commands, amplification, and more\n"
"  -h, --help          this text\n"
"\n"
"exit status: 0 no divergence, 1 a divergence, 2 bad usage or a damaged trace\n"
"\n"
"examples:\n"
"  %s replay corpus/traces/boot-nvme-smp2.itr\n"
"  %s replay --json guest.itr | jq .divergence\n",
	prog, prog, prog);
}

static cJSON *div_json(const struct rp_divergence *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "index", (double)d->index);
	cJSON_AddStringToObject(o, "kind", rp_div_kind_name(d->kind));
	cJSON_AddStringToObject(o, "what", d->what);
	cJSON_AddStringToObject(o, "expected", d->expected);
	cJSON_AddStringToObject(o, "got", d->got);
	if (d->input_index != UINT64_MAX)
		cJSON_AddNumberToObject(o, "input_index", (double)d->input_index);
	else
		cJSON_AddNullToObject(o, "input_index");
	cJSON_AddBoolToObject(o, "inferred", d->inferred);
	if (d->inferred_why[0])
		cJSON_AddStringToObject(o, "inferred_why", d->inferred_why);
	cJSON *c = cJSON_AddArrayToObject(o, "context");
	for (unsigned i = 0; i < d->nctx; i++) {
		cJSON *l = cJSON_CreateObject();
		cJSON_AddNumberToObject(l, "index", (double)d->ctx[i].index);
		cJSON_AddStringToObject(l, "record", d->ctx[i].text);
		cJSON_AddItemToArray(c, l);
	}
	cJSON_AddStringToObject(o, "state", d->state);
	return o;
}

static void print_div_text(const char *path, const struct rp_result *res)
{
	const struct rp_divergence *d = &res->div;
	printf("%s: DIVERGED at record %llu (%s)\n", path, (unsigned long long)d->index,
	       rp_div_kind_name(d->kind));
	printf("  what      %s\n", d->what);
	if (d->input_index != UINT64_MAX)
		printf("  input     record %llu\n", (unsigned long long)d->input_index);
	printf("  expected  %s\n", d->expected);
	printf("  got       %s\n", d->got);
	if (d->inferred)
		printf("  note      rests on inferred input: %s\n", d->inferred_why);
	if (d->nctx) {
		printf("  context\n");
		for (unsigned i = 0; i < d->nctx; i++)
			printf("   %s %8llu  %s\n", i == d->ctx_at ? ">" : " ",
			       (unsigned long long)d->ctx[i].index, d->ctx[i].text);
	}
	printf("  engine    %s\n", d->state);
}

static void inferred_text(const struct rp_result *res)
{
	if (res->inferred_inputs) {
		printf("  inferred  %llu input records were filled in by the importer (",
		       (unsigned long long)res->inferred_inputs);
		int first = 1;
		for (unsigned i = 0; i < ITR_RULE_COUNT; i++) {
			if (!res->inferred_by_rule[i])
				continue;
			printf("%s%s %llu", first ? "" : ", ", itr_rule_name(i),
			       (unsigned long long)res->inferred_by_rule[i]);
			first = 0;
		}
		printf("); the result rests on them\n");
	}
	if (res->gap_reads)
		printf("  gaps      %llu guest-memory reads the source does not observe were "
		       "answered by replay rules (device-table L1 entries valid, other bytes 0)\n",
		       (unsigned long long)res->gap_reads);
}

int cmd_replay(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "budget", required_argument, NULL, 'b' },
		{ "domain", required_argument, NULL, 'd' },
		{ "host", no_argument, NULL, 'H' },
		{ "context", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "from-checkpoint", required_argument, NULL, 'F' },
		{ "start-at", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_opts o;
	rp_opts_default(&o);
	int json = 0, c;
	uint64_t u;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.policy = vits_policy_from_name(optarg);
			if (o.policy < 0)
				return usage_error(SUB, "unknown policy '%s' (forward, eager, lazy, "
						   "lazy-global, virtual)", optarg);
			break;
		case 'b':
			if (opt_u64(optarg, 0, UINT32_MAX, &u))
				return usage_error(SUB, "bad --budget '%s'", optarg);
			o.budget = (int64_t)u;
			break;
		case 'd':
			if (opt_u64(optarg, 0, 65535, &u))
				return usage_error(SUB, "bad --domain '%s'", optarg);
			o.domain = (int)u;
			break;
		case 'H':
			o.with_host = 1;
			break;
		case 'c':
			if (opt_u64(optarg, 0, RP_CTX_MAX, &u))
				return usage_error(SUB, "bad --context '%s' (0..%d)", optarg, RP_CTX_MAX);
			o.context = (unsigned)u;
			break;
		case 'j':
			json = 1;
			break;
		case 'F': {
			if (opt_u64(optarg, 1, UINT64_MAX, &u))
				return usage_error(SUB, "bad --from-checkpoint '%s' (1, 2, ...)", optarg);
			o.start_snapshot = u;
			break;
		}
		case 'S': {
			if (opt_u64(optarg, 0, INT64_MAX, &u))
				return usage_error(SUB, "bad --start-at '%s' (a record index)", optarg);
			o.start_at = (int64_t)u;
			break;
		}
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error(SUB, "unknown option");
		}
	}
	if (optind != argc - 1)
		return usage_error(SUB, "expected one TRACE");
	const char *path = argv[optind];
	struct rp_result *res = calloc(1, sizeof(*res));
	if (!res) {
		err_msg(SUB, "out of memory");
		return EXIT_BAD;
	}
	char msg[512];
	int rc = rp_replay(path, NULL, &o, res, msg, sizeof(msg));
	if (rc < 0 && rc != RP_E_DAMAGED) {
		err_msg(SUB, "%s: %s", path, msg[0] ? msg : rp_strerror(rc));
		free(res);
		return EXIT_BAD;
	}
	if (json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "trace", path);
		cJSON_AddBoolToObject(j, "diverged", res->diverged);
		if (res->diverged)
			cJSON_AddItemToObject(j, "divergence", div_json(&res->div));
		else
			cJSON_AddNullToObject(j, "divergence");
		cJSON_AddNumberToObject(j, "guest_commands", (double)res->guest_commands);
		cJSON_AddNumberToObject(j, "physical_commands", (double)res->physical_commands);
		cJSON_AddNumberToObject(j, "amplification", res->amplification);
		cJSON_AddBoolToObject(j, "physical_side", res->has_host);
		if (res->started_at_snapshot)
			cJSON_AddNumberToObject(j, "started_at", (double)res->start_index);
		else
			cJSON_AddNullToObject(j, "started_at");
		cJSON_AddNumberToObject(j, "snapshot_commands", (double)res->snapshot_commands);
		cJSON_AddNumberToObject(j, "records", (double)res->records);
		cJSON_AddNumberToObject(j, "inputs", (double)res->inputs);
		cJSON_AddNumberToObject(j, "outputs_compared", (double)res->compared);
		cJSON_AddNumberToObject(j, "effects_checked", (double)res->effects_checked);
		cJSON_AddNumberToObject(j, "checkpoints_checked", (double)res->checkpoints_checked);
		cJSON_AddNumberToObject(j, "implicit_resumes", (double)res->implicit_resumes);
		cJSON_AddNumberToObject(j, "injections", (double)res->injections);
		cJSON_AddNumberToObject(j, "inferred_inputs", (double)res->inferred_inputs);
		cJSON_AddNumberToObject(j, "gap_reads", (double)res->gap_reads);
		cJSON_AddBoolToObject(j, "rests_on_inferred",
				      res->inferred_inputs || res->gap_reads);
		cJSON_AddBoolToObject(j, "damaged", rc == RP_E_DAMAGED);
		char *s = cJSON_PrintUnformatted(j);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(j);
	} else if (res->diverged) {
		print_div_text(path, res);
		if (res->started_at_snapshot)
			printf("  started   at the snapshot at record %llu\n",
			       (unsigned long long)res->start_index);
		inferred_text(res);
	} else {
		printf("%s: no divergence\n", path);
		if (res->started_at_snapshot)
			printf("  started   at the snapshot at record %llu (restored by %llu synthetic "
			       "commands, not compared); counts below are from there\n",
			       (unsigned long long)res->start_index,
			       (unsigned long long)res->snapshot_commands);
		printf("  compared  %llu records: %llu inputs fed, %llu outputs equal, %llu table "
		       "effects, %llu checkpoints\n", (unsigned long long)res->records,
		       (unsigned long long)res->inputs, (unsigned long long)res->compared,
		       (unsigned long long)res->effects_checked,
		       (unsigned long long)res->checkpoints_checked);
		printf("  commands  %llu guest, %llu physical", (unsigned long long)res->guest_commands,
		       (unsigned long long)res->physical_commands);
		if (res->has_host)
			printf(", amplification %.3f\n", res->amplification);
		else
			printf(" (no physical side)\n");
		inferred_text(res);
	}
	if (rc == RP_E_DAMAGED) {
		err_msg(SUB, "%s: %s; replay stopped there", path, msg);
		free(res);
		return EXIT_BAD;
	}
	int code = res->diverged ? EXIT_FINDING : EXIT_OK;
	free(res);
	return code;
}
