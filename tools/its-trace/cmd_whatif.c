/*
 * cmd_whatif.c: its-trace whatif TRACE [--policies a,b,...] [--json]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "replay.h"

static const char *const SUB = "whatif";

static void help(void)
{
	printf(
"usage: %s whatif [options] TRACE\n"
"\n"
"Replay the guest inputs of TRACE (register accesses, guest-memory bytes, MSIs,\n"
"property-table writes) under each policy and print the costs side by side:\n"
"physical commands in total and by type, global commands (INVALL, MOVALL),\n"
"physical SYNCs, spurious host LPIs (physical LPIs for LPIs the guest disabled),\n"
"physical-queue-full stalls, amplification (physical per guest command), and\n"
"whether the engine stayed equivalent to the reference model.  Outputs recorded\n"
"under another policy are not compared.  A trace with no physical side (imported\n"
"from QEMU) is replayed with every guest device assigned to a physical device, so\n"
"the costs are those of passed-through devices.\n"
"\n"
"options:\n"
"      --policies LIST   comma-separated (default: forward,eager,lazy,lazy-global,virtual)\n"
"      --threshold K     lazy: an INVALL with at most K dirty LPIs becomes K INVs\n"
"      --sync-squash     send a physical SYNC only where commands went since the last\n"
"      --phys-queue B    physical command queue bytes (default 65536)\n"
"      --phys-rate N     physical commands executed per guest trap (default: all)\n"
"      --no-oracle       skip the reference model (faster)\n"
"      --json            {\"policies\": [{\"policy\": \"forward\", \"physical_commands\": N,\n"
"                        \"global_commands\": N, \"physical_syncs\": N,\n"
"                        \"spurious_host_lpis\": N, \"amplification\": X,\n"
"                        \"equivalent\": true, ...}, ...]}\n"
"  -h, --help            this text\n"
"\n"
"exit status: 0 done, 1 a policy was not equivalent to the reference model,\n"
"2 bad usage or a damaged trace\n"
"\n"
"examples:\n"
"  %s whatif corpus/traces/wrap-64k.itr\n"
"  %s whatif --policies forward,lazy --threshold 4 --json guest.itr\n",
	prog, prog, prog);
}

struct row {
	int policy;
	struct rp_result res;
	int rc;
};

static void table(const char *path, struct row *rows, int n)
{
	const struct rp_result *r0 = &rows[0].res;
	printf("whatif %s: %llu guest commands, %llu MSIs\n", path,
	       (unsigned long long)r0->guest_commands, (unsigned long long)r0->msis);
	printf("%-22s", "");
	for (int i = 0; i < n; i++)
		printf(" %12s", vits_policy_name(rows[i].policy));
	printf("\n");
#define ROW(label, expr)                                                        \
	do {                                                                    \
		printf("%-22s", label);                                         \
		for (int i = 0; i < n; i++)                                     \
			printf(" %12llu", (unsigned long long)(rows[i].res.expr)); \
		printf("\n");                                                   \
	} while (0)
	ROW("physical commands", physical_commands);
	for (int t = 0; t < ITS_IDX_COUNT; t++) {
		int any = 0;
		for (int i = 0; i < n; i++)
			any |= rows[i].res.phys_by_cmd[t] != 0;
		if (!any)
			continue;
		char label[32];
		snprintf(label, sizeof(label), "  %s", its_cmd_name(its_cmd_index_opcode(t)));
		ROW(label, phys_by_cmd[t]);
	}
	ROW("global (INVALL,MOVALL)", global_commands);
	ROW("physical SYNCs", physical_syncs);
	ROW("spurious host LPIs", spurious_host_lpis);
	ROW("host LPIs", host_lpis);
	ROW("injections", injections);
	ROW("phys queue full", phys_queue_full);
	ROW("teardown commands", teardown_commands);
#undef ROW
	printf("%-22s", "amplification");
	for (int i = 0; i < n; i++)
		printf(" %12.3f", rows[i].res.amplification);
	printf("\n%-22s", "equivalent");
	for (int i = 0; i < n; i++)
		printf(" %12s", !rows[i].res.oracle_run ? "n/a" :
		       rows[i].res.oracle_ok ? "yes" : "NO");
	printf("\n");
	for (int i = 0; i < n; i++)
		if (rows[i].res.oracle_run && !rows[i].res.oracle_ok)
			printf("  %s: %s\n", vits_policy_name(rows[i].policy),
			       rows[i].res.oracle_msg);
	if (r0->assigned_all)
		printf("note: the trace has no physical side; each of its %llu guest devices was "
		       "assigned to a physical device.\n", (unsigned long long)r0->devices_assigned);
	if (r0->prop_writes == 0)
		printf("note: the trace holds no trapped property-table writes (its source does "
		       "not observe them), so eager, lazy and lazy-global pay nothing for them "
		       "here.\n");
	if (r0->inferred_inputs || r0->gap_reads)
		printf("note: %llu input records are inferred by the importer and %llu reads "
		       "answered by replay rules; the numbers rest on them.\n",
		       (unsigned long long)r0->inferred_inputs, (unsigned long long)r0->gap_reads);
	printf("physical ITS: %s\n", r0->phys_model ?
	       "pits_model (finite queue, executes commands)" :
	       "built-in sink (finite queue, counts commands)");
}

int cmd_whatif(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "policies", required_argument, NULL, 'P' },
		{ "threshold", required_argument, NULL, 'k' },
		{ "sync-squash", no_argument, NULL, 's' },
		{ "phys-queue", required_argument, NULL, 'q' },
		{ "phys-rate", required_argument, NULL, 'r' },
		{ "no-oracle", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_opts o;
	rp_opts_default(&o);
	o.oracle = 1;
	o.oracle_every = 512;
	o.phys_queue_bytes = 65536;
	int json = 0, c, npol = 0;
	int pols[VITS_POLICY_COUNT * 4];
	uint64_t u;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'P': {
			npol = 0;
			for (const char *t = optarg; *t;) {
				const char *e = strchr(t, ',');
				size_t l = e ? (size_t)(e - t) : strlen(t);
				char name[32];
				int p = -1;
				if (l < sizeof(name)) {
					memcpy(name, t, l);
					name[l] = 0;
					p = vits_policy_from_name(name);
				}
				if (p < 0 || npol == (int)(sizeof(pols) / sizeof(pols[0])))
					return usage_error(SUB, "unknown policy '%.*s' (forward, eager, "
							   "lazy, lazy-global, virtual)", (int)l, t);
				pols[npol++] = p;
				t += l + (e != NULL);
			}
			if (!npol)
				return usage_error(SUB, "--policies needs at least one policy");
			break;
		}
		case 'k':
			if (opt_u64(optarg, 0, UINT32_MAX, &u))
				return usage_error(SUB, "bad --threshold '%s'", optarg);
			o.invall_threshold = (uint32_t)u;
			break;
		case 's':
			o.sync_squash = 1;
			break;
		case 'q':
			if (opt_u64(optarg, 64, UINT32_MAX, &u) || u % 32)
				return usage_error(SUB, "bad --phys-queue '%s' (a multiple of 32, >= 64)",
						   optarg);
			o.phys_queue_bytes = (uint32_t)u;
			break;
		case 'r':
			if (opt_u64(optarg, 0, UINT32_MAX, &u))
				return usage_error(SUB, "bad --phys-rate '%s'", optarg);
			o.phys_rate = (uint32_t)u;
			break;
		case 'n':
			o.oracle = 0;
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
	if (!npol)
		for (int p = 0; p < VITS_POLICY_COUNT; p++)
			pols[npol++] = p;
	const char *path = argv[optind];

	/* Read the trace once; every policy replays the same records. */
	struct rp_memtrace *t;
	char msg[512], lmsg[512];
	int rc = rp_memtrace_load(path, &t, lmsg, sizeof(lmsg));
	if (rc < 0 && rc != RP_E_DAMAGED) {
		err_msg(SUB, "%s: %s", path, lmsg[0] ? lmsg : rp_strerror(rc));
		rp_memtrace_free(t);
		return EXIT_BAD;
	}
	o.assign_all = !(t->h.flags & ITR_HF_HAS_PHYS);
	struct row *rows = calloc((size_t)npol, sizeof(*rows));
	if (!rows) {
		rp_memtrace_free(t);
		return EXIT_BAD;
	}
	int code = EXIT_OK;
	for (int i = 0; i < npol; i++) {
		rows[i].policy = pols[i];
		rows[i].rc = rp_whatif(NULL, t, pols[i], &o, &rows[i].res, msg, sizeof(msg));
		if (rows[i].rc < 0) {
			err_msg(SUB, "%s: %s: %s", path, vits_policy_name(pols[i]),
				msg[0] ? msg : rp_strerror(rows[i].rc));
			code = EXIT_BAD;
			goto out;
		}
		if (rows[i].res.oracle_run && !rows[i].res.oracle_ok)
			code = EXIT_FINDING;
	}
	if (json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "trace", path);
		cJSON_AddNumberToObject(j, "guest_commands", (double)rows[0].res.guest_commands);
		cJSON_AddBoolToObject(j, "devices_assigned_by_whatif", o.assign_all);
		cJSON *a = cJSON_AddArrayToObject(j, "policies");
		for (int i = 0; i < npol; i++) {
			const struct rp_result *r = &rows[i].res;
			cJSON *p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "policy", vits_policy_name(pols[i]));
			cJSON_AddNumberToObject(p, "physical_commands", (double)r->physical_commands);
			cJSON_AddNumberToObject(p, "global_commands", (double)r->global_commands);
			cJSON_AddNumberToObject(p, "physical_syncs", (double)r->physical_syncs);
			cJSON_AddNumberToObject(p, "spurious_host_lpis", (double)r->spurious_host_lpis);
			cJSON_AddNumberToObject(p, "amplification", r->amplification);
			if (r->oracle_run)
				cJSON_AddBoolToObject(p, "equivalent", r->oracle_ok);
			else
				cJSON_AddNullToObject(p, "equivalent");
			if (r->oracle_run && !r->oracle_ok)
				cJSON_AddStringToObject(p, "equivalence_failure", r->oracle_msg);
			cJSON_AddNumberToObject(p, "phys_queue_full_stalls", (double)r->phys_queue_full);
			cJSON_AddNumberToObject(p, "guest_commands", (double)r->guest_commands);
			cJSON_AddNumberToObject(p, "host_lpis", (double)r->host_lpis);
			cJSON_AddNumberToObject(p, "injections", (double)r->injections);
			cJSON_AddNumberToObject(p, "teardown_commands", (double)r->teardown_commands);
			cJSON *b = cJSON_AddObjectToObject(p, "physical_by_command");
			for (int k = 0; k < ITS_IDX_COUNT; k++)
				cJSON_AddNumberToObject(b, its_cmd_name(its_cmd_index_opcode(k)),
							(double)r->phys_by_cmd[k]);
			cJSON_AddItemToArray(a, p);
		}
		char *s = cJSON_PrintUnformatted(j);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(j);
	} else {
		table(path, rows, npol);
	}
out:
	if (t->damage_events && code != EXIT_BAD) {
		err_msg(SUB, "%s: %s; the numbers cover what could be read", path, lmsg);
		code = EXIT_BAD;
	}
	free(rows);
	rp_memtrace_free(t);
	return code;
}
