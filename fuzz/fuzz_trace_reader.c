/*
 * fuzz_trace_reader.c: libFuzzer target "trace_reader": hostile files into the .itr
 * reader (and record decoder) and into the QEMU log importer.
 *
 * Byte 0 picks the consumer: even, the rest is an .itr file read with the damage
 * callback on, every record formatted and its fields decoded; odd, the rest is a QEMU
 * `-trace gicv3_its*` log imported to .itr, and that output read back.  Oracles:
 * sanitizers; reading ends (a bounded number of records per input byte); the damage
 * accounting adds up; an import that succeeds produces a trace that reads with no
 * damage and ends with END.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itr_decode.h"
#include "itr_import.h"
#include "itr_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char in_path[256], out_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(in_path, sizeof(in_path), "%s/vits-fuzz-tr-%d.in", dir, (int)getpid());
	snprintf(out_path, sizeof(out_path), "%s/vits-fuzz-tr-%d.itr", dir, (int)getpid());
	return 0;
}

static void cleanup(void)
{
	unlink(in_path);
	unlink(out_path);
}

struct dmg {
	uint64_t events, bytes;
};

static void on_damage(void *ctx, const struct itr_damage *d)
{
	struct dmg *g = ctx;
	g->events++;
	g->bytes += d->bytes;
	if (!d->what)
		abort();
}

static void on_field(void *ctx, const struct itr_field *f)
{
	(void)ctx;
	(void)f;
}

static void diag(void *ctx, const struct itr_import_diag *d)
{
	(void)ctx;
	if (!d->text || !d->why)
		abort();
}

/* Read a trace to its end; returns the damage count, or -1 when it did not open. */
static long read_all(const char *path, uint64_t limit, int *end_seen)
{
	struct dmg g = { 0, 0 };
	struct itr_reader_opts o = { .sz = sizeof(o), .on_damage = on_damage, .ctx = &g };
	struct itr_reader *r;
	char msg[256];
	if (itr_reader_open(path, &o, &r, msg, sizeof(msg)) < 0)
		return -1;
	struct itr_rec rec;
	uint64_t n = 0;
	char buf[512];
	int rc;
	while ((rc = itr_reader_next(r, &rec)) > 0) {
		if (++n > limit) {
			fprintf(stderr, "trace_reader: %llu records from a %llu-record budget: "
				"the reader does not end\n", (unsigned long long)n,
				(unsigned long long)limit);
			abort();
		}
		itr_rec_format(&rec, buf, sizeof(buf));
		itr_rec_fields(&rec, on_field, NULL);
	}
	const struct itr_read_stats *st = itr_reader_stats(r);
	if (st->damage_events != g.events) {
		fprintf(stderr, "trace_reader: %llu damage callbacks, stats say %llu\n",
			(unsigned long long)g.events, (unsigned long long)st->damage_events);
		abort();
	}
	if (end_seen)
		*end_seen = st->end_seen;
	itr_reader_close(r);
	return (long)g.events;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!in_path[0])
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 1)
		return 0;
	FILE *fp = fopen(in_path, "wb");
	if (!fp)
		return 0;
	fwrite(data + 1, 1, size - 1, fp);
	fclose(fp);
	if (!(data[0] & 1)) {
		/* Every record is at least a header's worth of bytes, TIME records aside:
		 * a generous budget that an endless loop still exceeds. */
		read_all(in_path, 16 * (uint64_t)size + 1024, NULL);
	} else {
		struct itr_import_opts o = { .sz = sizeof(o), .on_diag = diag };
		struct itr_import_result res;
		char msg[256];
		int rc = itr_import_qemu(in_path, out_path, &o, &res, msg, sizeof(msg));
		if (rc == 0) {
			int end = 0;
			long dmg = read_all(out_path, 64 * (uint64_t)size + 4096, &end);
			if (dmg != 0 || !end) {
				fprintf(stderr, "trace_reader: the importer wrote a trace that reads "
					"with %ld damage events, END %s\n", dmg, end ? "seen" : "missing");
				abort();
			}
		}
	}
	cleanup();
	return 0;
}
