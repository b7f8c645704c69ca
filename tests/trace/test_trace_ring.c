/*
 * test_trace_ring.c: the SPSC ring and the recorder on their own: wrap-around, drops
 * counted and reported in-band as LOSS, the consumer's final count, and a two-thread
 * stress run where every entry either arrives in order or is counted as lost.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "itr_recorder.h"
#include "tcheck.h"

static uint8_t scratch[ITR_RING_ENTRY_HDR + (1 << 20)];

static void test_basic(void)
{
	static _Alignas(64) uint8_t mem[4096];
	struct itr_ring r;
	CHECK_EQ(0, itr_ring_init(&r, mem, sizeof(mem), 5));
	CHECK(itr_ring_init(&r, mem, 3000, 0) < 0, "non power of two accepted");
	CHECK_EQ(0, itr_ring_init(&r, mem, sizeof(mem), 5));
	struct itr_ring_entry e;
	CHECK_EQ(0, itr_ring_peek(&r, &e, scratch));
	/* Fill with 36-byte payloads (56-byte entries) until a drop, many times round. */
	uint8_t pl[36];
	uint64_t seq = 0, got = 0, lost_reported = 0, dropped = 0;
	for (int round = 0; round < 50; round++) {
		int k = 0;
		for (;; k++) {
			memset(pl, 0, sizeof(pl));
			memcpy(pl, &seq, 8);
			if (itr_ring_put(&r, ITR_REC_CMD, 0, 7, seq, pl, sizeof(pl), NULL, 0)) {
				dropped++;
				/* Two more drops, then drain. */
				itr_ring_put(&r, ITR_REC_CMD, 0, 7, ++seq, pl, sizeof(pl), NULL, 0);
				itr_ring_put(&r, ITR_REC_CMD, 0, 7, ++seq, pl, sizeof(pl), NULL, 0);
				dropped += 2;
				seq++;
				break;
			}
			seq++;
		}
		CHECK(k >= 4096 / 56 - 2, "only %d entries fit", k);
		uint64_t last = 0;
		int first = 1;
		while (itr_ring_peek(&r, &e, scratch)) {
			if (e.type == ITR_REC_LOSS) {
				lost_reported += itr_get64(e.payload);
			} else {
				uint64_t s;
				memcpy(&s, e.payload, 8);
				CHECK(first || s > last, "out of order: %llu after %llu",
				      (unsigned long long)s, (unsigned long long)last);
				CHECK_EQ(s, e.ts);
				CHECK_EQ(7, e.domain);
				CHECK_EQ(5, e.cpu);
				CHECK_EQ(36, e.len);
				last = s;
				first = 0;
				got++;
			}
			itr_ring_pop(&r, &e);
		}
	}
	CHECK_EQ(dropped, itr_ring_drops(&r));
	/* The last round's drops are not reported in-band yet: the consumer counts them. */
	CHECK_EQ(dropped, lost_reported + itr_ring_unreported_drops(&r));
	CHECK_EQ(3, itr_ring_unreported_drops(&r));
	CHECK_EQ(seq, got + dropped);
	/* Too big for the ring: dropped and counted, not a hang. */
	static uint8_t big[2048];
	CHECK(itr_ring_put(&r, ITR_REC_MEM_READ, 0, 0, 0, big, sizeof(big), NULL, 0) < 0,
	      "an entry over a quarter of the ring was accepted");
	CHECK_EQ(dropped + 1, itr_ring_drops(&r));
}

struct stress {
	struct itr_ring r;
	uint64_t n;
	volatile int done;
};

static void *producer(void *arg)
{
	struct stress *s = arg;
	uint8_t pl[36];
	for (uint64_t i = 0; i < s->n; i++) {
		memset(pl, (int)(i & 0xff), sizeof(pl));
		memcpy(pl, &i, 8);
		/* A second piece of varying length exercises wrap splits. */
		if (itr_ring_put(&s->r, ITR_REC_MEM_READ, 0, 1, i, pl, sizeof(pl), pl,
				 (uint32_t)(i % 29)))
			sched_yield();   /* let the consumer in, so both paths are exercised */
	}
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_stress(void)
{
	static _Alignas(64) uint8_t mem[1 << 14];
	static struct stress s;
	itr_ring_init(&s.r, mem, sizeof(mem), 0);
	s.n = 2000000;
	pthread_t t;
	if (pthread_create(&t, NULL, producer, &s))
		BROKEN("pthread_create");
	uint64_t got = 0, lost = 0, next = 0, bad = 0;
	struct itr_ring_entry e;
	for (;;) {
		int done = __atomic_load_n(&s.done, __ATOMIC_ACQUIRE);
		while (itr_ring_peek(&s.r, &e, scratch)) {
			if (e.type == ITR_REC_LOSS) {
				lost += itr_get64(e.payload);
			} else {
				uint64_t i;
				memcpy(&i, e.payload, 8);
				if (i < next || e.len != 36 + i % 29 || e.ts != i ||
				    e.payload[8] != (uint8_t)(i & 0xff) ||
				    (e.len > 44 && e.payload[44] != (uint8_t)(i & 0xff)))
					bad++;
				next = i + 1;
				got++;
			}
			itr_ring_pop(&s.r, &e);
		}
		if (done && !itr_ring_peek(&s.r, &e, scratch))
			break;
	}
	pthread_join(t, NULL);
	lost += itr_ring_unreported_drops(&s.r);
	CHECK_EQ(0, bad);
	CHECK_EQ(s.n, got + lost);
	CHECK_EQ(itr_ring_drops(&s.r), lost);
	CHECK(got > s.n / 10, "only %llu of %llu entries went through",
	      (unsigned long long)got, (unsigned long long)s.n);
	printf("stress: %llu entries, %llu received, %llu lost and reported\n",
	       (unsigned long long)s.n, (unsigned long long)got, (unsigned long long)lost);
}

/* The recorder: events per CPU, MEM_READ chunks, checkpoints through poll(). */
static uint32_t cur_cpu;
static uint64_t clock_ns;
static uint32_t f_cpu(void *ctx) { (void)ctx; return cur_cpu; }
static uint64_t f_now(void *ctx) { (void)ctx; return clock_ns++; }
static int f_fp(void *ctx, uint16_t domain, uint8_t *out, uint32_t cap)
{
	(void)ctx;
	if (cap < 4)
		return -1;
	memcpy(out, "fp", 2);
	out[2] = (uint8_t)domain;
	out[3] = 0;
	return 4;
}

static void test_recorder(void)
{
	struct itr_recorder_cfg c = { .sz = sizeof(c), .nr_cpus = 2, .ring_bytes = 8192,
				      .now = f_now, .cpu = f_cpu, .checkpoint_every = 3,
				      .fingerprint = f_fp, .fp_kind = ITR_FP_EMBEDDER };
	size_t need = itr_recorder_mem_size(&c);
	CHECK(need > 2 * 8192, "mem size %zu", need);
	void *mem = aligned_alloc(64, (need + 63) & ~(size_t)63);
	struct itr_recorder *rec;
	CHECK_EQ(0, itr_recorder_init(mem, need, &c, &rec));
	CHECK((int)itr_recorder_init(mem, need - 1, &c, &rec) < 0, "short memory accepted");
	CHECK_EQ(0, itr_recorder_init(mem, need, &c, &rec));
	static uint8_t data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	struct vits_event ev = { .type = VITS_EV_MEM_READ, .domain = 4 };
	ev.u.mem.gpa = 0x1000;
	ev.u.mem.data = data;
	ev.u.mem.len = sizeof(data);
	cur_cpu = 1;
	CHECK_EQ(0, itr_recorder_record(rec, &ev));   /* 5000 bytes: 3 chunks of <= 2016 */
	struct vits_event m = { .type = VITS_EV_MSI, .domain = 4 };
	CHECK_EQ(0, itr_recorder_record(rec, &m));
	CHECK_EQ(0, itr_recorder_poll(rec, 4));        /* 2 events: not due */
	CHECK_EQ(0, itr_recorder_record(rec, &m));
	CHECK_EQ(0, itr_recorder_poll(rec, 4));        /* 3 events: checkpoint */
	struct vits_event bogus = { .type = 200 };
	CHECK(itr_recorder_record(rec, &bogus) < 0, "an unknown event type was recorded");
	CHECK_EQ(1, itr_recorder_drops(rec));
	struct itr_ring *r1 = itr_recorder_ring(rec, 1), *r0 = itr_recorder_ring(rec, 0);
	struct itr_ring_entry e;
	CHECK_EQ(0, itr_ring_peek(r0, &e, scratch));
	uint32_t total = 0;
	int chunks = 0, msis = 0, cps = 0;
	while (itr_ring_peek(r1, &e, scratch)) {
		if (e.type == ITR_REC_MEM_READ) {
			CHECK_EQ(chunks ? ITR_RF_CONT : 0, e.flags);
			CHECK_EQ(0x1000 + total, itr_get64(e.payload));
			CHECK(!memcmp(e.payload + ITR_PL_MEM_READ, data + total,
				      e.len - ITR_PL_MEM_READ), "chunk bytes");
			total += e.len - ITR_PL_MEM_READ;
			chunks++;
		} else if (e.type == ITR_REC_MSI) {
			msis++;
		} else if (e.type == ITR_REC_CHECKPOINT) {
			cps++;
			CHECK_EQ(4, itr_get16(e.payload + 10));
			CHECK_EQ(4, e.payload[ITR_PL_CHECKPOINT + 2]);
			CHECK_EQ(3, itr_get64(e.payload));
		}
		itr_ring_pop(r1, &e);
	}
	CHECK_EQ(sizeof(data), total);
	CHECK_EQ(3, chunks);
	CHECK_EQ(2, msis);
	CHECK_EQ(1, cps);
	free(mem);
}

int main(void)
{
	test_basic();
	test_stress();
	test_recorder();
	return t_done("trace_ring");
}
