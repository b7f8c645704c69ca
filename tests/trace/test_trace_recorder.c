/*
 * test_trace_recorder.c: the recorder on real engine events.  A harness guest (the
 * Linux-like driver of replay/harness) programs a vITS with an assigned device; every
 * event the engine reports goes through the recorder's rings and the sink into a file.
 * Reading the file back must give exactly the engine's events, in order, and with a
 * ring too small to keep up, every lost event must be counted in LOSS records.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "itr_encode.h"
#include "itr_reader.h"
#include "itr_sink.h"
#include "itr_stats.h"
#include "tcheck.h"

#define MAXEV 20000

struct ref {
	struct vits_event ev;
	uint8_t data[64];
};

struct ctx {
	struct itr_recorder *rec;
	struct ref *refs;
	size_t n;
	uint64_t ns;
};

static uint64_t now(void *c) { return ((struct ctx *)c)->ns += 7; }

static void on_event(void *c, const struct vits_event *ev)
{
	struct ctx *x = c;
	itr_recorder_record(x->rec, ev);
	if (x->n < MAXEV) {
		struct ref *r = &x->refs[x->n++];
		r->ev = *ev;
		if (ev->type == VITS_EV_MEM_READ) {
			uint32_t l = ev->u.mem.len < 64 ? ev->u.mem.len : 64;
			if (ev->u.mem.data)
				memcpy(r->data, ev->u.mem.data, l);
			r->ev.u.mem.data = r->data;
		}
	}
}

static int same(const struct vits_event *a, const struct vits_event *b)
{
	if (a->type != b->type || a->domain != b->domain)
		return 0;
	switch (a->type) {
	case VITS_EV_MEM_READ:
		return a->u.mem.gpa == b->u.mem.gpa && a->u.mem.len == b->u.mem.len &&
		       a->u.mem.result == b->u.mem.result &&
		       !memcmp(a->u.mem.data, b->u.mem.data, a->u.mem.len < 64 ? a->u.mem.len : 64);
	case VITS_EV_CMD:
		return a->u.cmd.offset == b->u.cmd.offset && a->u.cmd.outcome == b->u.cmd.outcome &&
		       a->u.cmd.reason == b->u.cmd.reason && a->u.cmd.e_its == b->u.cmd.e_its &&
		       !memcmp(&a->u.cmd.cmd, &b->u.cmd.cmd, sizeof(a->u.cmd.cmd));
	case VITS_EV_PHYS_CMD:
		return !memcmp(&a->u.phys.cmd, &b->u.phys.cmd, sizeof(a->u.phys.cmd)) &&
		       a->u.phys.cause == b->u.phys.cause &&
		       a->u.phys.cause_offset == b->u.phys.cause_offset &&
		       a->u.phys.cause_opcode == b->u.phys.cause_opcode;
	default: {
		/* Compare through the encoding: equal payloads, equal events. */
		uint8_t pa[ITR_EV_FIXED_MAX], pb[ITR_EV_FIXED_MAX], ta, tb;
		int na = itr_encode_event(a, pa, &ta), nb = itr_encode_event(b, pb, &tb);
		return na == nb && na >= 0 && !memcmp(pa, pb, (size_t)na);
	}
	}
}

/* A guest session: boot per CPU, a device probe with an assigned device, unmask,
 * MSIs, an affinity change, teardown, and a few bad commands. */
static void run_guest(struct harness *h, struct itr_sink *sink, int drain)
{
	CHECK_EQ(0, harness_guest_init(h, 0x40100000, 1, 0x40200000, 8, 4096, false,
				       0x40400000, 16));
	for (uint32_t cpu = 0; cpu < 4; cpu++) {
		struct its_cmd c[4] = { its_mk_mapc(cpu, cpu, 1), its_mk_sync(cpu),
					its_mk_invall(cpu), its_mk_sync(cpu) };
		CHECK_EQ(0, harness_submit(h, c, 4));
	}
	if (drain)
		itr_sink_drain(sink);
	CHECK_EQ(0, vits_assign_device(h->vits, 0x10, 0x100));
	for (int round = 0; round < 40; round++) {
		struct its_cmd c[3] = { its_mk_mapd(0x10, 3, 0x40300000, 1) };
		CHECK_EQ(0, harness_submit(h, c, 1));
		for (uint32_t ev = 0; ev < 8; ev++) {
			uint32_t lpi = 8192 + ev;
			harness_set_prop(h, lpi, 0xa3);
			c[0] = its_mk_mapti(0x10, ev, lpi, ev % 4);
			c[1] = its_mk_devev(ITS_OP_INV, 0x10, ev);
			c[2] = its_mk_sync(ev % 4);
			CHECK_EQ(0, harness_submit(h, c, 3));
			vits_msi(h->vits, 0x10, ev);
		}
		c[0] = its_mk_movi(0x10, 1, 3);
		c[1] = its_mk_devev(ITS_OP_INV, 0x10, 99);    /* EVENT_OOR: an error */
		c[2] = its_mk_sync(3);
		CHECK_EQ(0, harness_submit(h, c, 3));
		vits_msi(h->vits, 0x77, 0);                   /* unmapped device: dropped */
		for (uint32_t ev = 0; ev < 8; ev++) {
			c[0] = its_mk_devev(ITS_OP_DISCARD, 0x10, ev);
			CHECK_EQ(0, harness_submit(h, c, 1));
		}
		c[0] = its_mk_mapd(0x10, 3, 0x40300000, 0);
		CHECK_EQ(0, harness_submit(h, c, 1));
		if (drain)
			itr_sink_drain(sink);
	}
}

static void one_run(uint32_t ring_bytes, int drain, const char *path)
{
	struct harness_config hc;
	harness_config_default(&hc);
	hc.with_host = true;
	hc.vits.domain_id = 5;
	struct harness *h;
	if (harness_create(&hc, &h))
		BROKEN("harness_create");
	static struct ref refs[MAXEV];
	struct ctx x = { .refs = refs };
	struct itr_recorder_cfg rc = { .sz = sizeof(rc), .nr_cpus = 1, .ring_bytes = ring_bytes,
				       .ctx = &x, .now = now };
	size_t need = itr_recorder_mem_size(&rc);
	void *mem = aligned_alloc(64, (need + 63) & ~(size_t)63);
	if (!mem || itr_recorder_init(mem, need, &rc, &x.rec))
		BROKEN("recorder init");
	struct itr_header hd;
	itr_header_init(&hd);
	hd.nr_vcpus = hc.vits.nr_vcpus;
	hd.policy = ITR_POL_FORWARD;
	struct itr_sink *sink;
	if (itr_sink_open(x.rec, path, &hd, &sink))
		BROKEN("sink open");
	h->trace_fn = on_event;
	h->trace_ctx = &x;
	run_guest(h, sink, drain);
	CHECK(x.n < MAXEV, "more events than the test keeps (%zu)", x.n);
	uint64_t drops = itr_recorder_drops(x.rec);
	CHECK_EQ(0, itr_sink_close(sink));

	struct itr_reader *r;
	char msg[200];
	if (itr_reader_open(path, NULL, &r, msg, sizeof(msg)))
		BROKEN("read back: %s", msg);
	CHECK_EQ(ITR_SRC_RECORDER, itr_reader_header(r)->source);
	CHECK(itr_reader_header(r)->flags & ITR_HF_HAS_PHYS, "HAS_PHYS not set");
	struct itr_stats *st = itr_stats_new();
	struct itr_rec rec;
	size_t j = 0, mismatch = 0;
	uint64_t lost = 0, kinds[VITS_EV_COUNT] = { 0 };
	while (itr_reader_next(r, &rec) > 0) {
		itr_stats_add(st, &rec);
		if (rec.type == ITR_REC_LOSS) {
			lost += itr_get64(rec.payload);
			continue;
		}
		struct vits_event ev;
		if (itr_decode_event(rec.type, rec.payload, rec.len, rec.domain, &ev))
			continue;
		kinds[ev.type]++;
		CHECK_EQ(5, rec.domain);
		/* With drops, records are a subsequence of the engine's events. */
		while (j < x.n && !same(&refs[j].ev, &ev)) {
			if (!drops)
				mismatch++;
			j++;
		}
		if (j == x.n)
			mismatch++;
		else
			j++;
	}
	CHECK_EQ(0, itr_reader_stats(r)->damage_events);
	CHECK_EQ(0, mismatch);
	CHECK_EQ(drops, lost);
	CHECK_EQ(x.n, st->records - st->loss_records + drops);
	if (!drops) {
		for (int t = VITS_EV_MMIO_READ; t <= VITS_EV_ASSIGN; t++)
			if (t != VITS_EV_HOST_LPI && t != VITS_EV_PROP_TABLE &&
			    t != VITS_EV_MMIO_READ)
				CHECK(kinds[t] > 0, "no event of type %d recorded", t);
		size_t nc;
		harness_cmds(h, &nc);
		CHECK_EQ(nc, st->guest_commands);
		CHECK(st->phys_commands > 0 && st->cmd_errors > 0 && st->msis_dropped > 0,
		      "phys %llu errors %llu msi drops %llu", (unsigned long long)st->phys_commands,
		      (unsigned long long)st->cmd_errors, (unsigned long long)st->msis_dropped);
	} else {
		CHECK(lost > 0, "small ring: nothing lost?");
	}
	printf("ring %u bytes%s: %zu engine events, %llu records, %llu lost and reported\n",
	       ring_bytes, drain ? ", drained often" : ", drained at the end", x.n,
	       (unsigned long long)itr_reader_stats(r)->records, (unsigned long long)lost);
	itr_stats_free(st);
	itr_reader_close(r);
	harness_destroy(h);
	free(mem);
}

int main(void)
{
	char path[256];
	snprintf(path, sizeof(path), "/tmp/test_trace_recorder.%d.itr", (int)getpid());
	one_run(1 << 20, 1, path);
	one_run(4096, 0, path);
	unlink(path);
	return t_done("trace_recorder");
}
