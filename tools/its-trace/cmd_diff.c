/*
 * cmd_diff.c: its-trace diff A B [--json]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "replay.h"

static const char *const SUB = "diff";

static void help(void)
{
	printf(
"usage: %s diff [--json] A B\n"
"\n"
"Compare two traces of the same inputs (for example recorded before and after an\n"
"engine change) by their outputs: guest commands and their outcomes, injections,\n"
"physical commands, CREADR changes, register values read, MSI results and expected\n"
"table effects.  Inputs must be the same (register accesses, MSIs, property-table\n"
"writes, host LPIs, assignments); diff says so when they are not.  Reports the first\n"
"difference and counts of outputs by type in each trace.\n"
"\n"
"options:\n"
"      --json    one object: differ, first (index_a, index_b, a, b, what) or null,\n"
"                inputs_differ, outputs_a, outputs_b, by_type\n"
"  -h, --help    this text\n"
"\n"
"exit status: 0 the same outputs, 1 they differ, 2 bad usage or a damaged trace\n"
"\n"
"examples:\n"
"  %s diff before.itr after.itr\n"
"  %s diff --json a.itr b.itr | jq .first\n",
	prog, prog, prog);
}

int cmd_diff(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'h') {
			help();
			return EXIT_OK;
		} else
			return usage_error(SUB, "unknown option");
	}
	if (optind != argc - 2)
		return usage_error(SUB, "expected two traces, A and B");
	const char *a = argv[optind], *b = argv[optind + 1];
	struct rp_diff_result *res = calloc(1, sizeof(*res));
	if (!res)
		return EXIT_BAD;
	char msg[512] = "";
	int rc = rp_diff(a, b, res, msg, sizeof(msg));
	if (rc < 0 && rc != RP_E_DAMAGED) {
		err_msg(SUB, "%s", msg[0] ? msg : rp_strerror(rc));
		free(res);
		return EXIT_BAD;
	}
	if (json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "a", a);
		cJSON_AddStringToObject(j, "b", b);
		cJSON_AddBoolToObject(j, "differ", res->differ);
		if (res->differ) {
			cJSON *f = cJSON_AddObjectToObject(j, "first");
			cJSON_AddNumberToObject(f, "index_a", (double)res->index_a);
			cJSON_AddNumberToObject(f, "index_b", (double)res->index_b);
			cJSON_AddStringToObject(f, "a", res->a);
			cJSON_AddStringToObject(f, "b", res->b);
			cJSON_AddStringToObject(f, "what", res->what);
		} else {
			cJSON_AddNullToObject(j, "first");
		}
		cJSON_AddBoolToObject(j, "inputs_differ", res->inputs_differ);
		cJSON_AddNumberToObject(j, "outputs_a", (double)res->outputs_a);
		cJSON_AddNumberToObject(j, "outputs_b", (double)res->outputs_b);
		cJSON_AddNumberToObject(j, "inputs_a", (double)res->inputs_a);
		cJSON_AddNumberToObject(j, "inputs_b", (double)res->inputs_b);
		cJSON *bt = cJSON_AddObjectToObject(j, "by_type");
		for (int t = 0; t < 256; t++) {
			if (!res->by_type_a[t] && !res->by_type_b[t])
				continue;
			cJSON *p = cJSON_AddArrayToObject(bt, itr_rec_type_name((unsigned)t));
			cJSON_AddItemToArray(p, cJSON_CreateNumber((double)res->by_type_a[t]));
			cJSON_AddItemToArray(p, cJSON_CreateNumber((double)res->by_type_b[t]));
		}
		char *s = cJSON_PrintUnformatted(j);
		if (s)
			puts(s);
		free(s);
		cJSON_Delete(j);
	} else {
		if (res->differ) {
			printf("traces differ: %s\n", res->what);
			printf("  A record %-8llu %s\n", (unsigned long long)res->index_a, res->a);
			printf("  B record %-8llu %s\n", (unsigned long long)res->index_b, res->b);
		} else {
			printf("same outputs\n");
		}
		printf("%-12s %12s %12s\n", "records", "A", "B");
		for (int t = 0; t < 256; t++)
			if (res->by_type_a[t] || res->by_type_b[t])
				printf("%-12s %12llu %12llu%s\n", itr_rec_type_name((unsigned)t),
				       (unsigned long long)res->by_type_a[t],
				       (unsigned long long)res->by_type_b[t],
				       res->by_type_a[t] != res->by_type_b[t] ? "  *" : "");
	}
	if (rc == RP_E_DAMAGED) {
		err_msg(SUB, "%s: the comparison covers what could be read", msg);
		free(res);
		return EXIT_BAD;
	}
	int code = res->differ ? EXIT_FINDING : EXIT_OK;
	free(res);
	return code;
}
