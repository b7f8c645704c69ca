/*
 * rp_synth.c: a recorded guest session, made by driving the engine through the host
 * harness's Linux-like guest driver with every engine event recorded as the in-engine
 * recorder would.  Tests, the benchmark and minimize's planted failure use it: a
 * trace with a physical side, injections, host LPIs, property writes, errors and
 * checkpoints, which the bundled QEMU imports do not have.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "itr_writer.h"
#include "rp_internal.h"

void rp_synth_opts_default(struct rp_synth_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->policy = VITS_POLICY_FORWARD;
	o->with_host = 1;
	o->rounds = 4;
	o->events = 8;
}

static void checkpoint(struct rp_memtrace *t, struct harness *h, uint64_t *calls,
		       uint32_t every)
{
	if (!every || ++*calls % every)
		return;
	uint8_t p[ITR_PL_CHECKPOINT + RP_FP_V1_LEN];
	memset(p, 0, sizeof(p));
	itr_put64(p, t->n);
	itr_put16(p + 8, ITR_FP_VITS_V1);
	itr_put16(p + 10, RP_FP_V1_LEN);
	rp_fingerprint_v1(h->vits, p + ITR_PL_CHECKPOINT, RP_FP_V1_LEN);
	struct itr_rec r = { .type = ITR_REC_CHECKPOINT, .domain = h->cfg.vits.domain_id,
			     .cpu = 0, .len = sizeof(p), .payload = p };
	rp_memtrace_add(t, &r);
}

static int submit(struct harness *h, struct rp_memtrace *t, const struct its_cmd *c, size_t n,
		  uint64_t *calls, uint32_t every)
{
	int rc = harness_submit(h, c, n);
	for (int i = 0; i < 1000 && vits_work_pending(h->vits); i++)
		vits_resume(h->vits);         /* a budget: the embedder resumes */
	checkpoint(t, h, calls, every);
	return rc;
}

struct rp_memtrace *rp_synth_session(const struct rp_synth_opts *o)
{
	struct harness_config hc;
	harness_config_default(&hc);
	hc.vits.policy = (uint8_t)o->policy;
	hc.vits.budget = o->budget;
	hc.with_host = o->with_host != 0;
	vits_host_config_default(&hc.host);
	struct harness *h;
	if (harness_create(&hc, &h))
		return NULL;

	struct itr_header hdr;
	itr_header_init(&hdr);
	struct itr_domain dom = { hc.vits.domain_id, 0, hc.vits.nr_vcpus };
	hdr.source = ITR_SRC_SYNTHETIC;
	hdr.policy = (uint16_t)(o->with_host ? ITR_POL_FORWARD + o->policy : ITR_POL_NONE);
	hdr.flags = ITR_HF_NO_TIMESTAMPS | ITR_HF_HAS_OUTCOMES | (o->with_host ? ITR_HF_HAS_PHYS : 0);
	hdr.error_mode = hc.vits.error_mode;
	hdr.nr_vcpus = hc.vits.nr_vcpus;
	hdr.devid_bits = hc.vits.devid_bits;
	hdr.eventid_bits = hc.vits.eventid_bits;
	hdr.cid_bits = hc.vits.cid_bits;
	hdr.intid_bits = hc.vits.intid_bits;
	hdr.budget = hc.vits.budget;
	hdr.nr_domains = 1;
	hdr.domains = &dom;
	strcpy(hdr.source_desc, "rp_synth_session");
	struct rp_memtrace *t = rp_memtrace_new(&hdr);
	if (!t) {
		harness_destroy(h);
		return NULL;
	}
	h->trace_fn = rp_memtrace_record_event;
	h->trace_ctx = t;

	uint64_t calls = 0;
	uint32_t every = o->checkpoint_every;
	harness_guest_init(h, 0x40100000, 1, 0x40200000, 8, 4096, false, 0x40400000, 16);
	for (uint32_t cpu = 0; cpu < hc.vits.nr_vcpus; cpu++) {
		struct its_cmd c[4] = { its_mk_mapc(cpu, cpu, 1), its_mk_sync(cpu),
					its_mk_invall(cpu), its_mk_sync(cpu) };
		submit(h, t, c, 4, &calls, every);
	}
	const uint32_t dev = 0x10, other = 0x20;
	if (o->with_host)
		vits_assign_device(h->vits, dev, 0x100);
	uint32_t nev = o->events ? o->events : 8;
	for (uint32_t round = 0; round < o->rounds; round++) {
		struct its_cmd c[3] = { its_mk_mapd(dev, 4, 0x40300000, 1) };
		submit(h, t, c, 1, &calls, every);
		c[0] = its_mk_mapd(other, 2, 0x40310000, 1);
		submit(h, t, c, 1, &calls, every);
		for (uint32_t ev = 0; ev < nev; ev++) {
			uint32_t lpi = 8192 + ev;
			harness_set_prop_trapped(h, lpi, (ev & 1) ? 0xa2 : 0xa3);   /* odd: disabled */
			c[0] = its_mk_mapti(dev, ev, lpi, ev % hc.vits.nr_vcpus);
			c[1] = its_mk_devev(ITS_OP_INV, dev, ev);
			c[2] = its_mk_sync(ev % hc.vits.nr_vcpus);
			submit(h, t, c, 3, &calls, every);
			vits_msi(h->vits, dev, ev);
			struct vits_event_info ei;
			if (o->with_host && !vits_query_event(h->vits, dev, ev, &ei) && ei.plpi)
				vits_host_plpi(h->host, ei.plpi);     /* the physical LPI fired */
			checkpoint(t, h, &calls, every);
		}
		c[0] = its_mk_mapti(other, 1, 8192 + 100 + round, 1);
		c[1] = its_mk_devev(ITS_OP_INT, other, 1);
		c[2] = its_mk_sync(1);
		harness_set_prop_trapped(h, 8192 + 100 + round, 0xa3);
		submit(h, t, c, 3, &calls, every);
		c[0] = its_mk_movi(dev, 1, 3 % hc.vits.nr_vcpus);
		c[1] = its_mk_devev(ITS_OP_INV, dev, 999);    /* EVENT_OOR: an error */
		c[2] = its_mk_invall(0);
		submit(h, t, c, 3, &calls, every);
		vits_msi(h->vits, 0x77, 0);                   /* unmapped device: dropped */
		for (uint32_t ev = 0; ev < nev; ev++) {
			c[0] = its_mk_devev(ITS_OP_DISCARD, dev, ev);
			submit(h, t, c, 1, &calls, every);
		}
		c[0] = its_mk_devev(ITS_OP_DISCARD, other, 1);
		c[1] = its_mk_mapd(dev, 4, 0x40300000, 0);
		c[2] = its_mk_mapd(other, 2, 0x40310000, 0);
		submit(h, t, c, 3, &calls, every);
		harness_mmio_read(h, GITS_CREADR, 8);
	}
	h->trace_fn = NULL;     /* teardown is not part of the session */
	harness_destroy(h);
	return t;
}
