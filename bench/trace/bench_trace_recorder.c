/*
 * bench_trace_recorder.c: the recorder's cost per record, hook enabled and the ring
 * never full (target: <= 10 ns median).  Each repetition records a batch of engine
 * events into an empty 1 MiB ring (timed), then drains it (not timed).  Prints the
 * median and spread over the repetitions, per event kind and clock.
 *
 * Usage: bench_trace_recorder [repetitions]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itr_recorder.h"

#define BATCH 8192
#define RING (1u << 20)

static uint64_t mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t counter;
static uint64_t clock_counter(void *ctx) { (void)ctx; return counter++; }
static uint64_t clock_mono(void *ctx) { (void)ctx; return mono(); }
static uint32_t cpu0(void *ctx) { (void)ctx; return 0; }

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void bench(const char *what, const struct vits_event *ev, int nev,
		  uint64_t (*now)(void *), int reps)
{
	struct itr_recorder_cfg c = { .sz = sizeof(c), .nr_cpus = 1, .ring_bytes = RING,
				      .now = now, .cpu = cpu0 };
	size_t need = itr_recorder_mem_size(&c);
	void *mem = aligned_alloc(64, (need + 63) & ~(size_t)63);
	struct itr_recorder *rec;
	if (!mem || itr_recorder_init(mem, need, &c, &rec)) {
		fprintf(stderr, "recorder init failed\n");
		exit(2);
	}
	static uint8_t scratch[ITR_RING_ENTRY_HDR + RING / 4];
	double *ns = malloc(sizeof(double) * (size_t)reps);
	struct itr_ring *ring = itr_recorder_ring(rec, 0);
	for (int r = -3; r < reps; r++) {     /* three warm-up rounds */
		uint64_t t0 = mono();
		for (int i = 0; i < BATCH; i++)
			itr_recorder_record(rec, &ev[i % nev]);
		uint64_t t1 = mono();
		struct itr_ring_entry e;
		while (itr_ring_peek(ring, &e, scratch))
			itr_ring_pop(ring, &e);
		if (r >= 0)
			ns[r] = (double)(t1 - t0) / BATCH;
	}
	if (itr_recorder_drops(rec))
		fprintf(stderr, "warning: the ring was full (%llu drops)\n",
			(unsigned long long)itr_recorder_drops(rec));
	qsort(ns, (size_t)reps, sizeof(double), cmp);
	printf("%-44s median %6.2f ns/record  (min %.2f, p90 %.2f, %d reps of %d)\n", what,
	       ns[reps / 2], ns[0], ns[reps * 9 / 10], reps, BATCH);
	free(ns);
	free(mem);
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 101;
	if (reps < 1)
		reps = 1;
	static uint8_t slot[32] = { 0x0a, 0, 0, 0, 0x10 };
	struct vits_event cmd = { .type = VITS_EV_CMD, .domain = 1 };
	cmd.u.cmd.offset = 0x120;
	cmd.u.cmd.cmd = its_mk_mapti(0x10, 3, 8195, 1);
	struct vits_event mmio = { .type = VITS_EV_MMIO_WRITE, .domain = 1 };
	mmio.u.mmio.offset = GITS_CWRITER;
	mmio.u.mmio.value = 0x140;
	mmio.u.mmio.size = 8;
	struct vits_event mem = { .type = VITS_EV_MEM_READ, .domain = 1 };
	mem.u.mem.gpa = 0x42170120;
	mem.u.mem.data = slot;
	mem.u.mem.len = 32;
	struct vits_event msi = { .type = VITS_EV_MSI, .domain = 1 };
	msi.u.msi.devid = 0x10;
	struct vits_event mix[4] = { mmio, mem, cmd, msi };

	printf("recorder cost per record (ring never full; timestamps from the clock named)\n");
	bench("CMD (48-byte record), counter clock", &cmd, 1, clock_counter, reps);
	bench("MMIO_WRITE, counter clock", &mmio, 1, clock_counter, reps);
	bench("MEM_READ of a 32-byte slot, counter clock", &mem, 1, clock_counter, reps);
	bench("mix MMIO/MEM_READ/CMD/MSI, counter clock", mix, 4, clock_counter, reps);
	bench("mix, no clock (ts 0)", mix, 4, NULL, reps);
	bench("mix, clock_gettime(CLOCK_MONOTONIC)", mix, 4, clock_mono, reps);
	return 0;
}
