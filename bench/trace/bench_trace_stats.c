/*
 * bench_trace_stats.c: its-trace stats throughput: reader (blocks, CRC-32C, records)
 * plus the stats accumulator, over a synthetic trace of a realistic record mix, read
 * from the page cache (target: >= 50 million records/s).  Prints the median of several
 * passes.
 *
 * Usage: bench_trace_stats [records] [passes] [file]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itr_reader.h"
#include "itr_stats.h"
#include "itr_writer.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* A guest's traffic: per command a CWRITER write, the slot read, the command, a CREADR
 * read, and now and then an MSI, an injection and a physical command. */
static void make(const char *path, uint64_t n)
{
	struct itr_header h;
	itr_header_init(&h);
	h.source = ITR_SRC_SYNTHETIC;
	h.flags = ITR_HF_HAS_PHYS | ITR_HF_HAS_OUTCOMES;
	struct itr_writer *w;
	if (itr_writer_open(path, &h, &w)) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
	static const uint8_t slot[32] = { 0x0a };
	uint64_t ts = 0;
	for (uint64_t i = 0; i < n;) {
		uint32_t s = (uint32_t)(i % 2048);
		struct vits_event ev[8];
		int k = 0;
		memset(ev, 0, sizeof(ev));
		ev[k].type = VITS_EV_MMIO_WRITE;
		ev[k].u.mmio.offset = GITS_CWRITER;
		ev[k].u.mmio.value = (s + 1) * 32u;
		ev[k++].u.mmio.size = 8;
		ev[k].type = VITS_EV_MEM_READ;
		ev[k].u.mem.gpa = 0x42170000 + s * 32u;
		ev[k].u.mem.data = slot;
		ev[k++].u.mem.len = 32;
		ev[k].type = VITS_EV_CMD;
		ev[k].u.cmd.offset = s * 32u;
		ev[k++].u.cmd.cmd = its_mk_mapti((uint32_t)(i % 64), (uint32_t)i & 31,
						 8192 + ((uint32_t)i & 1023), (uint32_t)i & 3);
		ev[k].type = VITS_EV_MMIO_READ;
		ev[k].u.mmio.offset = GITS_CREADR;
		ev[k++].u.mmio.size = 8;
		if (i % 3 == 0) {
			ev[k].type = VITS_EV_MSI;
			ev[k++].u.msi.devid = (uint32_t)(i % 64);
			ev[k].type = VITS_EV_INJECT;
			ev[k++].u.inject.intid = 8192;
			ev[k].type = VITS_EV_PHYS_CMD;
			ev[k++].u.phys.cmd = its_mk_sync(0);
		}
		for (int j = 0; j < k && i < n; j++, i++)
			itr_writer_event(w, ts += 150, 0, 0, &ev[j]);
	}
	if (itr_writer_close(w)) {
		fprintf(stderr, "write failed\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000000ull;
	int passes = argc > 2 ? atoi(argv[2]) : 7;
	char path[256];
	if (argc > 3)
		snprintf(path, sizeof(path), "%s", argv[3]);
	else
		snprintf(path, sizeof(path), "/tmp/bench_trace_stats.%d.itr", (int)getpid());
	if (passes < 1)
		passes = 1;
	make(path, n);
	double *rate = malloc(sizeof(double) * (size_t)passes);
	double *rate_rd = malloc(sizeof(double) * (size_t)passes);
	uint64_t bytes = 0, cmds = 0;
	for (int p = -1; p < passes; p++) {   /* one warm-up pass fills the page cache */
		for (int only_read = 0; only_read < 2; only_read++) {
			struct itr_reader *r;
			if (itr_reader_open(path, NULL, &r, NULL, 0)) {
				fprintf(stderr, "cannot read %s\n", path);
				return 2;
			}
			struct itr_stats *s = itr_stats_new();
			struct itr_rec rec;
			uint64_t k = 0;
			double t0 = now_s();
			if (only_read) {
				while (itr_reader_next(r, &rec) > 0)
					k++;
			} else {
				while (itr_reader_next(r, &rec) > 0)
					itr_stats_add(s, &rec);
				k = s->records;
				cmds = s->guest_commands;
			}
			double dt = now_s() - t0;
			if (p >= 0)
				(only_read ? rate_rd : rate)[p] = (double)k / dt;
			itr_stats_free(s);
			itr_reader_close(r);
		}
	}
	FILE *f = fopen(path, "rb");
	if (f) {
		fseek(f, 0, SEEK_END);
		bytes = (uint64_t)ftell(f);
		fclose(f);
	}
	if (argc <= 3)
		unlink(path);
	qsort(rate, (size_t)passes, sizeof(double), cmp);
	qsort(rate_rd, (size_t)passes, sizeof(double), cmp);
	printf("trace: %llu records (%llu guest commands), %.1f MB, %.1f bytes/record\n",
	       (unsigned long long)n, (unsigned long long)cmds, (double)bytes / 1e6,
	       (double)bytes / (double)n);
	printf("reader + stats: median %.1f M records/s (min %.1f, max %.1f; %d passes), "
	       "%.0f MB/s\n", rate[passes / 2] / 1e6, rate[0] / 1e6, rate[passes - 1] / 1e6,
	       passes, rate[passes / 2] * (double)bytes / (double)n / 1e6);
	printf("reader alone:   median %.1f M records/s (min %.1f, max %.1f)\n",
	       rate_rd[passes / 2] / 1e6, rate_rd[0] / 1e6, rate_rd[passes - 1] / 1e6);
	free(rate);
	free(rate_rd);
	return 0;
}
