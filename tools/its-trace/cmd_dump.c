/*
 * cmd_dump.c: its-trace dump TRACE [--json]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "itr_decode.h"

static const char *const SUB = "dump";

static void help(void)
{
	printf(
"usage: %s dump [options] TRACE\n"
"\n"
"Print every record of TRACE, one per line: time (seconds), domain, CPU, record\n"
"type, decoded fields, e.g.\n"
"  0.000001234 d0 c1 CMD slot=9 MAPTI dev=0x10 ev=0 lpi=8192 icid=0 outcome=ok\n"
"Records filled in by an importer's rule end in 'inferred'; the INFERRED record\n"
"before them names the rule.  A header summary comes first, as '#' lines.\n"
"\n"
"options:\n"
"      --json       one JSON object per line: first the header (\"type\":\"HEADER\"),\n"
"                   then each record with its fields as keys (addresses and\n"
"                   register values as \"0x...\" strings, exact beyond 2^53)\n"
"      --no-header  leave the header out\n"
"  -n, --limit N    stop after N records\n"
"  -h, --help       this text\n"
"\n"
"exit status: 0 ok, 2 bad usage or a damaged trace (records before the damage are\n"
"printed; standard error says what was lost)\n"
"\n"
"examples:\n"
"  %s dump guest.itr | grep ' CMD '\n"
"  %s dump --json guest.itr | jq -c 'select(.type == \"MSI\")'\n",
	prog, prog, prog);
}

static void text_header(const struct itr_header *h)
{
	printf("# .itr %u.%u  source %s (%s)  policy %s\n", h->major, h->minor,
	       itr_source_name(h->source), h->source_desc, itr_policy_name(h->policy));
	printf("# geometry: devid_bits %u eventid_bits %u cid_bits %u intid_bits %u vcpus %u"
	       "%s\n", h->devid_bits, h->eventid_bits, h->cid_bits, h->intid_bits, h->nr_vcpus,
	       (h->flags & ITR_HF_GEOMETRY_INFERRED) ? " (partly inferred)" : "");
	printf("# typer 0x%llx iidr 0x%x%s%s%s\n", (unsigned long long)h->typer, h->iidr,
	       (h->flags & ITR_HF_NO_TIMESTAMPS) ? "  no timestamps" : "",
	       (h->flags & ITR_HF_HAS_INFERRED) ? "  has inferred records" : "",
	       (h->flags & ITR_HF_HAS_PHYS) ? "  observes physical commands" : "");
	for (unsigned i = 0; i < h->nr_domains; i++)
		printf("# domain %u: %u vcpus\n", h->domains[i].id, h->domains[i].nr_vcpus);
}

static cJSON *json_header(const struct itr_header *h)
{
	cJSON *o = cJSON_CreateObject();
	char v[24];
	cJSON_AddStringToObject(o, "type", "HEADER");
	snprintf(v, sizeof(v), "%u.%u", h->major, h->minor);
	cJSON_AddStringToObject(o, "version", v);
	cJSON_AddStringToObject(o, "source", itr_source_name(h->source));
	cJSON_AddStringToObject(o, "source_desc", h->source_desc);
	cJSON_AddStringToObject(o, "policy", itr_policy_name(h->policy));
	cJSON_AddNumberToObject(o, "devid_bits", h->devid_bits);
	cJSON_AddNumberToObject(o, "eventid_bits", h->eventid_bits);
	cJSON_AddNumberToObject(o, "cid_bits", h->cid_bits);
	cJSON_AddNumberToObject(o, "intid_bits", h->intid_bits);
	cJSON_AddNumberToObject(o, "vcpus", h->nr_vcpus);
	snprintf(v, sizeof(v), "0x%llx", (unsigned long long)h->typer);
	cJSON_AddStringToObject(o, "typer", v);
	snprintf(v, sizeof(v), "0x%x", h->iidr);
	cJSON_AddStringToObject(o, "iidr", v);
	cJSON_AddBoolToObject(o, "timestamps", !(h->flags & ITR_HF_NO_TIMESTAMPS));
	cJSON_AddBoolToObject(o, "geometry_inferred", !!(h->flags & ITR_HF_GEOMETRY_INFERRED));
	cJSON_AddBoolToObject(o, "has_inferred", !!(h->flags & ITR_HF_HAS_INFERRED));
	cJSON_AddBoolToObject(o, "observes_physical", !!(h->flags & ITR_HF_HAS_PHYS));
	cJSON *d = cJSON_AddArrayToObject(o, "domains");
	for (unsigned i = 0; i < h->nr_domains; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "id", h->domains[i].id);
		cJSON_AddNumberToObject(e, "vcpus", h->domains[i].nr_vcpus);
		cJSON_AddItemToArray(d, e);
	}
	return o;
}

static void json_field(void *ctx, const struct itr_field *f)
{
	cJSON *o = ctx;
	const char *key = f->key ? f->key : "cmd";
	char *hex;
	switch (f->kind) {
	case ITR_FK_UINT:
		cJSON_AddNumberToObject(o, key, (double)f->u);
		break;
	case ITR_FK_HEX: {
		/* A string: JSON numbers are doubles and lose bits above 2^53. */
		char h[24];
		snprintf(h, sizeof(h), "0x%llx", (unsigned long long)f->u);
		cJSON_AddStringToObject(o, key, h);
		break;
	}
	case ITR_FK_INT:
		cJSON_AddNumberToObject(o, key, (double)f->i);
		break;
	case ITR_FK_BOOL:
		cJSON_AddBoolToObject(o, key, f->u != 0);
		break;
	case ITR_FK_STR:
		cJSON_AddStringToObject(o, key, f->s);
		break;
	case ITR_FK_BYTES:
		hex = malloc((size_t)f->n * 2 + 1);
		if (!hex)
			return;
		for (uint32_t i = 0; i < f->n; i++)
			sprintf(hex + 2 * i, "%02x", f->bytes[i]);
		hex[2 * f->n] = 0;
		cJSON_AddStringToObject(o, key, hex);
		free(hex);
		break;
	}
}

static void print_json_line(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

int cmd_dump(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, header = 1, c;
	uint64_t limit = UINT64_MAX;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'H': header = 0; break;
		case 'n':
			if (opt_u64(optarg, 0, UINT64_MAX, &limit))
				return usage_error(SUB, "--limit wants a count, not '%s'", optarg);
			break;
		case 'h': help(); return EXIT_OK;
		case ':': return usage_error(SUB, "option '%s' needs a value", argv[optind - 1]);
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
	const struct itr_header *h = itr_reader_header(r);
	int no_ts = !!(h->flags & ITR_HF_NO_TIMESTAMPS);
	if (header) {
		if (json)
			print_json_line(json_header(h));
		else
			text_header(h);
	}
	struct itr_rec rec;
	int rc;
	char line[4096];
	unsigned long long n = 0;
	while (n < limit && (rc = itr_reader_next(r, &rec)) > 0) {
		n++;
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "i", (double)rec.index);
			if (no_ts)
				cJSON_AddNullToObject(o, "t");
			else
				cJSON_AddNumberToObject(o, "t", (double)rec.ts);
			cJSON_AddNumberToObject(o, "domain", rec.domain);
			if (rec.cpu == ITR_CPU_UNKNOWN)
				cJSON_AddNullToObject(o, "cpu");
			else
				cJSON_AddNumberToObject(o, "cpu", rec.cpu);
			cJSON_AddStringToObject(o, "type", itr_rec_type_name(rec.type));
			itr_rec_fields(&rec, json_field, o);
			if (rec.flags & ITR_RF_INFERRED)
				cJSON_AddBoolToObject(o, "inferred", 1);
			print_json_line(o);
			continue;
		}
		char t[32], cpu[8];
		if (no_ts)
			snprintf(t, sizeof(t), "-");
		else
			snprintf(t, sizeof(t), "%llu.%09llu",
				 (unsigned long long)(rec.ts / 1000000000ull),
				 (unsigned long long)(rec.ts % 1000000000ull));
		if (rec.cpu == ITR_CPU_UNKNOWN)
			snprintf(cpu, sizeof(cpu), "c-");
		else
			snprintf(cpu, sizeof(cpu), "c%u", rec.cpu);
		itr_rec_format(&rec, line, sizeof(line));
		printf("%s d%u %s %s %s\n", t, rec.domain, cpu, itr_rec_type_name(rec.type), line);
	}
	if (n >= limit)
		rc = 0;
	if (fflush(stdout) != 0) {
		itr_reader_close(r);
		err_msg(SUB, "cannot write standard output");
		return EXIT_BAD;
	}
	int code = finish_trace(SUB, path, r, rc);
	itr_reader_close(r);
	return code;
}
