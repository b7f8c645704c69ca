/*
 * bench_replay.c: replay throughput in records per second, policy forward.
 *
 * A recorded guest session (rp_synth_session: boot, device probe and teardown rounds
 * with an assigned device, property writes, MSIs, host LPIs) of about a million
 * records is replayed with full comparison, from memory (the replay loop alone) and
 * from a file (the reader's CRC checks and decoding included); then a bundled QEMU
 * trace.  Prints the median of 7 runs of each.
 *
 * usage: bench_replay [ROUNDS] [QEMU_TRACE]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"

#define RUNS 7

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median_rate(const char *path, const struct rp_memtrace *t, uint64_t *records)
{
	double rate[RUNS];
	for (int i = 0; i < RUNS; i++) {
		struct rp_opts o;
		rp_opts_default(&o);
		struct rp_result r;
		char msg[256];
		double t0 = now();
		int rc = rp_replay(path, t, &o, &r, msg, sizeof(msg));
		double dt = now() - t0;
		if (rc || r.diverged) {
			fprintf(stderr, "replay failed: rc %d diverged %d %s %s\n", rc, r.diverged, msg,
				r.div.what);
			exit(2);
		}
		*records = r.records;
		rate[i] = (double)r.records / dt;
	}
	qsort(rate, RUNS, sizeof(rate[0]), cmp);
	return rate[RUNS / 2];
}

int main(int argc, char **argv)
{
	struct rp_synth_opts so;
	rp_synth_opts_default(&so);
	so.rounds = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 2000;
	so.events = 16;
	struct rp_memtrace *t = rp_synth_session(&so);
	if (!t)
		return 2;
	uint64_t n;
	double mem = median_rate(NULL, t, &n);
	printf("replay forward, recorded session, from memory: %llu records, median %.2f M records/s\n",
	       (unsigned long long)n, mem / 1e6);
	const char *tmp = "/tmp/bench_replay.itr";
	if (rp_memtrace_save(t, tmp) == 0) {
		double file = median_rate(tmp, NULL, &n);
		printf("replay forward, recorded session, from file:   %llu records, median %.2f M records/s\n",
		       (unsigned long long)n, file / 1e6);
		remove(tmp);
	}
	rp_memtrace_free(t);
	if (argc > 2) {
		struct rp_memtrace *q;
		char msg[256];
		if (rp_memtrace_load(argv[2], &q, msg, sizeof(msg)) == 0) {
			double qr = median_rate(NULL, q, &n);
			printf("replay, QEMU import %s, from memory: %llu records, median %.2f M records/s\n",
			       argv[2], (unsigned long long)n, qr / 1e6);
		}
		rp_memtrace_free(q);
	}
	return 0;
}
