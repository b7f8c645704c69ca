/*
 * cmd_stats.c: its-trace stats TRACE [--json]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "itr_stats.h"

static const char *const SUB = "stats";

static void help(void)
{
	printf(
"usage: %s stats [--json] TRACE\n"
"\n"
"Totals over TRACE, read once in constant memory: guest commands by type and by\n"
"device, queue wraps (times the guest's read pointer went back to an earlier slot),\n"
"device MSIs, command errors, physical commands and the command amplification\n"
"(physical commands per guest command) when the trace's source observes them.\n"
"\n"
"options:\n"
"      --json    one JSON object; it always has the keys records, guest_commands,\n"
"                by_command (all twelve GICv3 commands), queue_wraps, device_msis,\n"
"                errors, physical_commands and amplification (null when the source\n"
"                does not observe physical commands), and more\n"
"  -h, --help    this text\n"
"\n"
"exit status: 0 ok, 2 bad usage or a damaged trace (totals then cover what could be\n"
"read; standard error says what was lost)\n"
"\n"
"examples:\n"
"  %s stats corpus/traces/linux61-nvme-smp2.itr\n"
"  %s stats --json guest.itr | jq .by_command\n",
	prog, prog, prog);
}

static int by_devid(const void *a, const void *b)
{
	const struct itr_dev_stats *x = a, *y = b;
	return x->devid < y->devid ? -1 : x->devid > y->devid;
}

struct devs {
	struct itr_dev_stats *v;
	uint32_t n;
};

static void collect(void *ctx, const struct itr_dev_stats *d)
{
	struct devs *ds = ctx;
	ds->v[ds->n++] = *d;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void print_json(const char *path, const struct itr_header *h, const struct itr_stats *s,
		       const struct devs *ds, const struct itr_read_stats *rs)
{
	int phys = !!(h->flags & ITR_HF_HAS_PHYS);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "trace", path);
	cJSON_AddStringToObject(o, "source", itr_source_name(h->source));
	cJSON_AddNumberToObject(o, "records", (double)s->records);
	cJSON_AddNumberToObject(o, "guest_commands", (double)s->guest_commands);
	cJSON *bc = cJSON_AddObjectToObject(o, "by_command");
	for (int i = 0; i < ITS_IDX_COUNT; i++)
		cJSON_AddNumberToObject(bc, its_cmd_name(its_cmd_index_opcode(i)),
					(double)s->by_command[i]);
	cJSON_AddNumberToObject(o, "other_commands", (double)s->other_commands);
	cJSON *bd = cJSON_AddObjectToObject(o, "by_device");
	for (uint32_t i = 0; i < ds->n; i++) {
		char k[16];
		snprintf(k, sizeof(k), "0x%x", ds->v[i].devid);
		cJSON *d = cJSON_AddObjectToObject(bd, k);
		cJSON_AddNumberToObject(d, "commands", (double)ds->v[i].commands);
		cJSON_AddNumberToObject(d, "msis", (double)ds->v[i].msis);
	}
	cJSON_AddBoolToObject(o, "devices_truncated",
			      s->other_device_cmds || s->other_device_msis);
	cJSON_AddNumberToObject(o, "queue_wraps", (double)s->queue_wraps);
	cJSON_AddNumberToObject(o, "device_msis", (double)s->msis);
	cJSON_AddNumberToObject(o, "device_msis_dropped", (double)s->msis_dropped);
	cJSON_AddNumberToObject(o, "errors", (double)s->cmd_errors);
	cJSON_AddBoolToObject(o, "outcomes_observed", !!(h->flags & ITR_HF_HAS_OUTCOMES));
	cJSON_AddNumberToObject(o, "unobserved_outcomes", (double)s->unobserved_outcomes);
	cJSON *er = cJSON_AddObjectToObject(o, "errors_by_reason");
	for (int i = 1; i < VITS_R_COUNT; i++)
		if (s->errors_by_reason[i])
			cJSON_AddNumberToObject(er, vits_reason_name(i),
						(double)s->errors_by_reason[i]);
	cJSON_AddNumberToObject(o, "physical_commands", (double)s->phys_commands);
	if (phys && s->guest_commands)
		cJSON_AddNumberToObject(o, "amplification",
					ratio(s->phys_commands, s->guest_commands));
	else
		cJSON_AddNullToObject(o, "amplification");
	cJSON *pb = cJSON_AddObjectToObject(o, "physical_by_command");
	cJSON *ab = cJSON_AddObjectToObject(o, "amplification_by_command");
	for (int i = 0; i < ITS_IDX_COUNT; i++) {
		const char *nm = its_cmd_name(its_cmd_index_opcode(i));
		cJSON_AddNumberToObject(pb, nm, (double)s->phys_by_command[i]);
		if (phys && s->by_command[i])
			cJSON_AddNumberToObject(ab, nm, ratio(s->phys_by_cause_cmd[i],
							      s->by_command[i]));
	}
	cJSON_AddNumberToObject(o, "injections", (double)s->injections);
	cJSON_AddNumberToObject(o, "host_lpis", (double)s->host_lpis);
	cJSON_AddNumberToObject(o, "mmio_reads", (double)s->mmio_reads);
	cJSON_AddNumberToObject(o, "mmio_writes", (double)s->mmio_writes);
	cJSON_AddNumberToObject(o, "guest_memory_reads", (double)s->mem_reads);
	cJSON_AddNumberToObject(o, "property_writes", (double)s->prop_writes);
	cJSON_AddNumberToObject(o, "expected_effects", (double)s->expected_effects);
	cJSON_AddNumberToObject(o, "inferred_records", (double)s->inferred);
	cJSON_AddNumberToObject(o, "checkpoints", (double)s->checkpoints);
	cJSON_AddNumberToObject(o, "lost_records", (double)s->lost);
	cJSON_AddNumberToObject(o, "unknown_records", (double)s->unknown_records);
	cJSON_AddNumberToObject(o, "duration_ns", (double)(s->last_ts - s->first_ts));
	cJSON_AddBoolToObject(o, "damaged", rs->damage_events != 0);
	cJSON_AddNumberToObject(o, "damaged_bytes", (double)rs->bytes_lost);
	char *str = cJSON_PrintUnformatted(o);
	if (str)
		puts(str);
	free(str);
	cJSON_Delete(o);
}

static void print_text(const char *path, const struct itr_header *h, const struct itr_stats *s,
		       const struct devs *ds)
{
	int phys = !!(h->flags & ITR_HF_HAS_PHYS);
	printf("trace            %s (%s%s%s)\n", path, itr_source_name(h->source),
	       h->source_desc[0] ? ": " : "", h->source_desc);
	printf("records          %llu\n", (unsigned long long)s->records);
	printf("guest commands   %llu\n", (unsigned long long)s->guest_commands);
	for (int i = 0; i < ITS_IDX_COUNT; i++) {
		const char *nm = its_cmd_name(its_cmd_index_opcode(i));
		printf("  %-8s %10llu", nm, (unsigned long long)s->by_command[i]);
		if (phys && s->by_command[i])
			printf("   -> %llu physical (%.2f each)",
			       (unsigned long long)s->phys_by_cause_cmd[i],
			       ratio(s->phys_by_cause_cmd[i], s->by_command[i]));
		putchar('\n');
	}
	if (s->other_commands)
		printf("  %-8s %10llu\n", "other", (unsigned long long)s->other_commands);
	printf("by device\n");
	for (uint32_t i = 0; i < ds->n; i++)
		printf("  0x%-8x %8llu commands %8llu MSIs\n", ds->v[i].devid,
		       (unsigned long long)ds->v[i].commands, (unsigned long long)ds->v[i].msis);
	if (s->other_device_cmds || s->other_device_msis)
		printf("  (more devices than %u: %llu commands, %llu MSIs not shown)\n",
		       ITR_STATS_MAX_DEVICES, (unsigned long long)s->other_device_cmds,
		       (unsigned long long)s->other_device_msis);
	printf("queue wraps      %llu\n", (unsigned long long)s->queue_wraps);
	printf("device MSIs      %llu (%llu dropped)\n", (unsigned long long)s->msis,
	       (unsigned long long)s->msis_dropped);
	if (h->flags & ITR_HF_HAS_OUTCOMES || !s->unobserved_outcomes)
		printf("errors           %llu\n", (unsigned long long)s->cmd_errors);
	else
		printf("errors           %llu (%llu outcomes not observed by the source)\n",
		       (unsigned long long)s->cmd_errors,
		       (unsigned long long)s->unobserved_outcomes);
	if (phys) {
		printf("physical cmds    %llu\n", (unsigned long long)s->phys_commands);
		if (s->guest_commands)
			printf("amplification    %.3f physical per guest command\n",
			       ratio(s->phys_commands, s->guest_commands));
	} else {
		printf("physical cmds    n/a (the source does not observe them)\n");
	}
	printf("injections       %llu\n", (unsigned long long)s->injections);
	printf("register access  %llu reads, %llu writes\n", (unsigned long long)s->mmio_reads,
	       (unsigned long long)s->mmio_writes);
	if (s->expected_effects)
		printf("expected effects %llu (table writes of the source)\n",
		       (unsigned long long)s->expected_effects);
	if (s->inferred)
		printf("inferred records %llu (filled in by an importer's rules; "
		       "its-trace dump shows which)\n", (unsigned long long)s->inferred);
	if (s->lost)
		printf("lost records     %llu (in %llu LOSS records)\n", (unsigned long long)s->lost,
		       (unsigned long long)s->loss_records);
	if (s->checkpoints)
		printf("checkpoints      %llu\n", (unsigned long long)s->checkpoints);
	if (!(h->flags & ITR_HF_NO_TIMESTAMPS))
		printf("duration         %.6f s\n", (double)(s->last_ts - s->first_ts) / 1e9);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error(SUB, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error(SUB, optind >= argc ? "which trace?" : "one trace at a time");
	const char *path = argv[optind];
	int damaged;
	struct itr_reader *r = open_trace(SUB, path, &damaged);
	if (!r)
		return EXIT_BAD;
	struct itr_stats *s = itr_stats_new();
	struct devs ds = { calloc(ITR_STATS_MAX_DEVICES, sizeof(*ds.v)), 0 };
	if (!s || !ds.v) {
		itr_stats_free(s);
		free(ds.v);
		itr_reader_close(r);
		err_msg(SUB, "out of memory");
		return EXIT_BAD;
	}
	struct itr_rec rec;
	int rc;
	while ((rc = itr_reader_next(r, &rec)) > 0)
		itr_stats_add(s, &rec);
	itr_stats_foreach_device(s, collect, &ds);
	qsort(ds.v, ds.n, sizeof(*ds.v), by_devid);
	const struct itr_header *h = itr_reader_header(r);
	if (json)
		print_json(path, h, s, &ds, itr_reader_stats(r));
	else
		print_text(path, h, s, &ds);
	int code = finish_trace(SUB, path, r, rc);
	itr_stats_free(s);
	free(ds.v);
	itr_reader_close(r);
	return code;
}
