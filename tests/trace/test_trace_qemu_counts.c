/*
 * test_trace_qemu_counts.c: import each real QEMU log with its-trace and check the
 * per-command counts of `its-trace stats --json` against counts taken here, directly
 * from the log's text with a separate, deliberately simple counter (no code shared
 * with the importer's parser).  Also checks that corpus/traces/NAME.itr is what a
 * fresh import gives today, byte for byte.
 *
 * Usage: test_trace_qemu_counts ITS_TRACE TRACES_DIR LOG...
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "tcheck.h"

static const char *const names[12] = {
	"MOVI", "INT", "CLEAR", "SYNC", "MAPD", "MAPC", "MAPTI", "MAPI", "INV", "INVALL",
	"MOVALL", "DISCARD",
};
static const unsigned opcodes[12] = { 0x01, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
				      0x0d, 0x0e, 0x0f };

struct counts {
	long by_op[256];        /* from "processing command at offset N: OP" */
	long by_line[12];       /* from "gicv3_its_cmd_<name> " lines */
	long processed, msis, wraps;
};

static void count_log(const char *path, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		BROKEN("cannot open %s", path);
	char line[8192];
	long last = -1;
	while (gzgets(gz, line, sizeof(line))) {
		char *p = strstr(line, "gicv3_its_process_command ");
		if (p) {
			/* "... at offset 0xN: 0xOP" */
			char *off = strstr(p, "offset 0x"), *op = strrchr(p, ':');
			if (!off || !op)
				BROKEN("odd processing line: %s", line);
			long slot = strtol(off + 7, NULL, 16);
			unsigned long o = strtoul(op + 2, NULL, 16);
			c->by_op[o & 0xff]++;
			c->processed++;
			if (last >= 0 && slot < last)
				c->wraps++;
			last = slot;
			continue;
		}
		if (strstr(line, "gicv3_its_translation_write ")) {
			c->msis++;
			continue;
		}
		p = strstr(line, "gicv3_its_cmd_");
		if (p) {
			p += strlen("gicv3_its_cmd_");
			for (int i = 0; i < 12; i++) {
				size_t n = strlen(names[i]);
				char lower[16];
				for (size_t k = 0; k <= n; k++)
					lower[k] = (char)(names[i][k] >= 'A' && names[i][k] <= 'Z' ?
							  names[i][k] + 32 : names[i][k]);
				if (!strncmp(p, lower, n) && p[n] == ' ')
					c->by_line[i]++;
			}
		}
	}
	gzclose(gz);
}

static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		BROKEN("cannot run %s", cmd);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t k;
	while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += k;
		if (n + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = 0;
	int st = pclose(p);
	if (st != 0)
		BROKEN("'%s' exited with status %d", cmd, st);
	return buf;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v)) {
		t_fail++;
		fprintf(stderr, "FAIL: key %s missing or not a number\n", k);
		return -1;
	}
	return v->valuedouble;
}

static int same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb;
	while (same) {
		int x = fgetc(fa), y = fgetc(fb);
		if (x != y)
			same = 0;
		if (x == EOF || y == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static void check_log(const char *its, const char *traces, const char *log)
{
	struct counts c;
	count_log(log, &c);
	char out[256], cmd[1024];
	snprintf(out, sizeof(out), "/tmp/test_trace_qemu_counts.%d.itr", (int)getpid());
	snprintf(cmd, sizeof(cmd), "'%s' import -q --from qemu '%s' -o '%s'", its, log, out);
	free(run(cmd));
	snprintf(cmd, sizeof(cmd), "'%s' stats --json '%s'", its, out);
	char *js = run(cmd);
	cJSON *o = cJSON_Parse(js);
	if (!o)
		BROKEN("stats --json printed no JSON: %s", js);
	const cJSON *bc = cJSON_GetObjectItemCaseSensitive(o, "by_command");
	CHECK(cJSON_IsObject(bc) && cJSON_GetArraySize(bc) == 12,
	      "by_command must hold the twelve commands");
	long total = 0;
	for (int i = 0; i < 12; i++) {
		long want = c.by_op[opcodes[i]];
		total += want;
		CHECK(want == c.by_line[i], "%s: %s: %ld processing lines, %ld command lines", log,
		      names[i], want, c.by_line[i]);
		double got = num(bc, names[i]);
		CHECK(got == (double)want, "%s: %s: the log has %ld, stats says %.0f", log,
		      names[i], want, got);
	}
	CHECK(num(o, "guest_commands") == (double)c.processed, "%s: guest_commands %.0f, log %ld",
	      log, num(o, "guest_commands"), c.processed);
	CHECK(num(o, "other_commands") == (double)(c.processed - total), "%s: other_commands",
	      log);
	CHECK(num(o, "device_msis") == (double)c.msis, "%s: device_msis %.0f, log %ld", log,
	      num(o, "device_msis"), c.msis);
	CHECK(num(o, "queue_wraps") == (double)c.wraps, "%s: queue_wraps %.0f, log %ld", log,
	      num(o, "queue_wraps"), c.wraps);
	CHECK(num(o, "records") > 0 && num(o, "errors") >= 0 && num(o, "physical_commands") >= 0,
	      "%s: keys", log);
	CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "amplification")),
	      "%s: QEMU observes no physical commands: amplification must be null", log);
	cJSON_Delete(o);
	free(js);

	/* The committed trace is today's import of the log. */
	const char *base = strrchr(log, '/');
	base = base ? base + 1 : log;
	char name[256], committed[600];
	snprintf(name, sizeof(name), "%s", base);
	char *dot = strstr(name, ".qemu-its.log.gz");
	if (dot)
		*dot = 0;
	snprintf(committed, sizeof(committed), "%s/%s.itr", traces, name);
	CHECK(same_file(committed, out), "%s differs from a fresh import of %s (re-import: "
	      "its-trace import --from qemu LOG -o %s)", committed, log, committed);
	printf("%s: %ld commands, %ld MSIs, %ld wraps: counts agree; %s is current\n", name,
	       c.processed, c.msis, c.wraps, committed);
	unlink(out);
}

int main(int argc, char **argv)
{
	if (argc < 4)
		BROKEN("usage: %s ITS_TRACE TRACES_DIR LOG...", argv[0]);
	for (int i = 3; i < argc; i++)
		check_log(argv[1], argv[2], argv[i]);
	return t_done("trace_qemu_counts");
}
