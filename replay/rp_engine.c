/*
 * rp_engine.c: the engine a replay drives, built from the trace header, and the
 * inputs fed to it.
 *
 * Geometry, error mode, budget, IIDR and policy come from the header (options may
 * override policy and budget).  A host (the physical side, rp_phys.c) is attached
 * when the trace has one (it observes physical commands, or names a policy) or when
 * asked.  The engine's ops are the session's: guest memory from the recorded bytes
 * (rp_run.c), injections and every trace event to the comparison.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"

bool rp_is_input(unsigned type)
{
	switch (type) {
	case ITR_REC_MMIO_READ:
	case ITR_REC_MMIO_WRITE:
	case ITR_REC_MSI:
	case ITR_REC_PROP_TABLE:
	case ITR_REC_HOST_LPI:
	case ITR_REC_ASSIGN:
	case ITR_REC_PROP_WRITE:
		return true;
	default:
		return false;
	}
}

bool rp_is_effect(unsigned type)
{
	return type >= 0x60 && type <= 0x7f;
}

/* Stream records and anything this reader does not know (skipped by length). */
bool rp_is_meta(unsigned type)
{
	return !(type >= ITR_REC_MMIO_READ && type <= ITR_REC_PROP_WRITE) && !rp_is_effect(type);
}

bool rp_is_reset_note(unsigned type, const uint8_t *payload, uint32_t len)
{
	static const char tag[] = "vits-reset";
	return type == ITR_REC_NOTE && len == sizeof(tag) - 1 &&
	       !memcmp(payload, tag, sizeof(tag) - 1);
}

static int e_read_guest(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return rp_read_guest(ctx, gpa, buf, len);
}

static int e_ram_check(void *ctx, uint64_t gpa, uint64_t len)
{
	return rp_ram_check(ctx, gpa, len);
}

static void e_inject(void *ctx, uint32_t vcpu, uint32_t intid)
{
	rp_on_inject(ctx, vcpu, intid);
}

static void e_trace(void *ctx, const struct vits_event *ev)
{
	rp_on_event(ctx, ev);
}

static void *e_alloc(void *ctx, size_t size)
{
	struct rp_session *s = ctx;
	s->mem_used += size;
	return calloc(1, size);
}

static void e_free(void *ctx, void *ptr, size_t size)
{
	struct rp_session *s = ctx;
	s->mem_used -= size;
	free(ptr);
}

static int ref_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct rp_session *s = ctx;
	int rc = rp_mem_read(&s->mem, gpa, buf, len);
	if (rc < 0)
		return rp_gap_fill(s, gpa, buf, len);
	return rc == 0 ? 0 : -1;
}

/* One "key=value" of a configuration note. */
static void tcfg_field(struct rp_tcfg *t, const char *key, size_t kl, uint32_t v)
{
	static const struct { const char *k; size_t off; } f[] = {
		{ "k", offsetof(struct rp_tcfg, k) },
		{ "squash", offsetof(struct rp_tcfg, squash) },
		{ "xlate", offsetof(struct rp_tcfg, xlate) },
		{ "memcap", offsetof(struct rp_tcfg, memcap) },
		{ "pcpus", offsetof(struct rp_tcfg, pcpus) },
		{ "plpis", offsetof(struct rp_tcfg, plpis) },
		{ "peventid", offsetof(struct rp_tcfg, peventid) },
		{ "physq", offsetof(struct rp_tcfg, physq) },
		{ "policy", offsetof(struct rp_tcfg, policy) },
		{ "budget", offsetof(struct rp_tcfg, budget) },
		{ "errmode", offsetof(struct rp_tcfg, errmode) },
		{ "physdone", offsetof(struct rp_tcfg, physdone) },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (strlen(f[i].k) == kl && !memcmp(f[i].k, key, kl)) {
			*(uint32_t *)((char *)t + f[i].off) = v;
			t->seen |= 1u << (f[i].off / sizeof(uint32_t));
		}
	}
}

/* "vits-config k=2 squash=1 ...": unknown keys are ignored, so writers may add some. */
static void tcfg_parse(struct rp_tcfg *t, const uint8_t *p, size_t n)
{
	static const char tag[] = "vits-config ";
	char buf[512];
	if (n < sizeof(tag) - 1 || memcmp(p, tag, sizeof(tag) - 1) || n >= sizeof(buf))
		return;
	memcpy(buf, p, n);
	buf[n] = 0;
	t->present = true;
	for (char *w = strtok(buf + sizeof(tag) - 1, " "); w; w = strtok(NULL, " ")) {
		char *eq = strchr(w, '=');
		if (eq)
			tcfg_field(t, w, (size_t)(eq - w), (uint32_t)strtoul(eq + 1, NULL, 0));
	}
}

/* The configuration note of this domain, among the records before the first engine
 * record (the writer puts it right after the header). */
static void tcfg_read(struct rp_session *s)
{
	const struct itr_rec *r;
	for (size_t k = 0; (r = rp_peek(&s->st, k)) && rp_is_meta(r->type); k++)
		if (r->type == ITR_REC_NOTE && r->domain == s->domain)
			tcfg_parse(&s->tcfg, r->payload, r->len);
}

/* The note's settings where the options leave the engine's default. */
static void tcfg_apply(struct rp_session *s, struct vits_config *c)
{
	const struct rp_tcfg *t = &s->tcfg;
	if (!s->o.invall_threshold && RP_TCFG_HAS(t, k))
		c->invall_threshold = t->k;
	if (!s->o.sync_squash && RP_TCFG_HAS(t, squash))
		c->sync_squash = t->squash ? 1 : 0;
	if (t->xlate)
		c->xlate_cache = t->xlate;
	if (t->memcap)
		c->mem_cap = t->memcap;
	if (s->o.budget < 0 && RP_TCFG_HAS(t, budget))
		c->budget = t->budget;
	if (RP_TCFG_HAS(t, errmode))
		c->error_mode = t->errmode ? VITS_ERRMODE_STALL : VITS_ERRMODE_SKIP;
}

int rp_engine_build(struct rp_session *s)
{
	const struct itr_header *h = &s->h;
	struct vits_config *c = &s->cfg;
	vits_config_default(c);
	c->domain_id = s->domain;
	uint32_t vcpus = h->nr_vcpus;
	bool listed = h->nr_domains == 0;
	for (unsigned i = 0; i < h->nr_domains; i++) {
		if (h->domains[i].id != s->domain)
			continue;
		listed = true;
		if (!vcpus)
			vcpus = h->domains[i].nr_vcpus;
	}
	if (!listed) {
		snprintf(s->msg, s->msglen, "the trace has no domain %u (its header lists %u)",
			 s->domain, h->nr_domains);
		return RP_E_INVAL;
	}
	if (vcpus)
		c->nr_vcpus = vcpus;
	if (h->devid_bits)
		c->devid_bits = h->devid_bits;
	if (h->eventid_bits)
		c->eventid_bits = h->eventid_bits;
	if (h->cid_bits)
		c->cid_bits = h->cid_bits;
	if (h->intid_bits)
		c->intid_bits = h->intid_bits < 14 ? 14 : h->intid_bits > 24 ? 24 : h->intid_bits;
	c->error_mode = h->error_mode == VITS_ERRMODE_STALL ? VITS_ERRMODE_STALL
							    : VITS_ERRMODE_SKIP;
	c->budget = s->o.budget >= 0 ? (uint32_t)s->o.budget : h->budget;
	if (h->iidr)
		c->iidr = h->iidr;
	c->invall_threshold = s->o.invall_threshold;
	c->sync_squash = s->o.sync_squash ? 1 : 0;
	tcfg_read(s);
	tcfg_apply(s, c);
	bool trace_policy = h->policy >= ITR_POL_FORWARD && h->policy <= ITR_POL_VIRTUAL;
	if (s->o.policy >= 0)
		c->policy = (uint8_t)s->o.policy;
	else if (RP_TCFG_HAS(&s->tcfg, policy) && s->tcfg.policy < VITS_POLICY_COUNT)
		c->policy = (uint8_t)s->tcfg.policy;        /* this domain's (multidomain) */
	else if (trace_policy)
		c->policy = (uint8_t)(h->policy - ITR_POL_FORWARD);
	else
		c->policy = VITS_POLICY_FORWARD;

	bool host = s->o.with_host == 1 || s->o.assign_all ||
		    (s->o.with_host < 0 && ((h->flags & ITR_HF_HAS_PHYS) || trace_policy));
	int rc;
	if (host) {
		vits_host_config_default(&s->hcfg);
		if (s->o.nr_pcpus)
			s->hcfg.nr_pcpus = s->o.nr_pcpus;
		if (s->o.nr_plpis)
			s->hcfg.nr_plpis = s->o.nr_plpis;
		if (!s->o.nr_pcpus && s->tcfg.pcpus)
			s->hcfg.nr_pcpus = s->tcfg.pcpus;
		if (!s->o.nr_plpis && s->tcfg.plpis)
			s->hcfg.nr_plpis = s->tcfg.plpis;
		if (s->tcfg.peventid)
			s->hcfg.peventid_bits = (uint8_t)s->tcfg.peventid;
		s->phys_follows_trace = s->o.mode == RP_MODE_COMPARE && s->tcfg.physq &&
					s->o.policy < 0;
		s->phys = rp_phys_create(s, &s->hcfg, s->o.phys_queue_bytes, s->o.phys_rate);
		if (!s->phys)
			return RP_E_NOMEM;
		struct vits_host_ops hops;
		rp_phys_host_ops(s->phys, &hops);
		rc = vits_host_create(&s->hcfg, &hops, rp_phys_host_ctx(s->phys), &s->host);
		if (rc) {
			snprintf(s->msg, s->msglen, "vits_host_create: %s", vits_strerror(rc));
			return RP_E_ENGINE;
		}
		s->res->has_host = 1;
		s->res->phys_model = rp_phys_is_model(s->phys);
	}
	struct vits_ops ops = {
		.sz = sizeof(ops), .alloc = e_alloc, .free = e_free, .read_guest = e_read_guest,
		.ram_check = e_ram_check, .inject = e_inject, .trace = e_trace,
	};
	rc = vits_create(c, &ops, s, s->host, &s->v);
	if (rc) {
		snprintf(s->msg, s->msglen, "the engine refuses the trace's geometry "
			 "(vcpus %u, bits %u/%u/%u/%u): %s", c->nr_vcpus, c->devid_bits,
			 c->eventid_bits, c->cid_bits, c->intid_bits, vits_strerror(rc));
		return RP_E_ENGINE;
	}

	s->rename = rp_rename_new();
	if (!s->rename)
		return RP_E_NOMEM;

	/* What the source observes. */
	bool qemu = h->source == ITR_SRC_QEMU_LOG;
	s->obs.all_regs = !qemu;
	s->obs.all_reads = !qemu;
	s->obs.injections = !qemu;
	s->obs.creadr = !qemu;
	s->obs.host_lpis = !qemu;
	/* A configuration note comes from a writer of engine events, which records the
	 * physical commands whenever there is a host. */
	s->obs.phys = !qemu && ((h->flags & ITR_HF_HAS_PHYS) || s->tcfg.present) && host;

	if (s->o.oracle) {
		struct ref_config rc2 = {
			.nr_vcpus = c->nr_vcpus, .devid_bits = c->devid_bits,
			.eventid_bits = c->eventid_bits, .cid_bits = c->cid_bits,
			.intid_bits = c->intid_bits, .read_guest = ref_read, .ctx = s,
		};
		s->ref = ref_create(&rc2);
		if (!s->ref)
			return RP_E_NOMEM;
	}
	return 0;
}

void rp_engine_destroy(struct rp_session *s)
{
	if (s->v) {
		s->stop = 1;            /* teardown events are not compared */
		for (unsigned i = 0; i < 1u << 20; i++) {
			int rc = vits_destroy(s->v);
			if (rc != VITS_E_AGAIN)
				break;
			rp_phys_pump(s->phys, NULL, s->host);
		}
		s->v = NULL;
	}
	if (s->host) {
		struct vits_host_stats hs;
		if (!vits_host_get_stats(s->host, &hs))
			s->res->teardown_commands = hs.phys_by_cause[VITS_CAUSE_TEARDOWN];
		vits_host_destroy(s->host);
		s->host = NULL;
	}
	rp_phys_destroy(s->phys);
	s->phys = NULL;
	if (s->ref)
		ref_destroy(s->ref);
	s->ref = NULL;
	rp_rename_free(s->rename);
	s->rename = NULL;
}

static uint64_t merge(uint64_t cur, uint64_t off, uint64_t reg, unsigned size, uint64_t val)
{
	if (size == 8)
		return val;
	unsigned sh = off == reg + 4 ? 32 : 0;
	uint64_t m = (uint64_t)0xffffffffu << sh;
	return (cur & ~m) | ((val & 0xffffffffu) << sh);
}

static bool is_assigned(const struct rp_session *s, uint32_t devid)
{
	for (size_t i = 0; i < s->nassigned; i++)
		if (s->assigned[i] == devid)
			return true;
	return false;
}

static uint32_t pdev_of(const struct rp_session *s, uint32_t devid)
{
	for (size_t i = 0; i < s->nassigned; i++)
		if (s->assigned[i] == devid)
			return s->assigned_pd[i];
	return devid;
}

static void track_assigned(struct rp_session *s, uint32_t devid, uint32_t pdevid)
{
	if (is_assigned(s, devid))
		return;
	if (s->nassigned == s->capassigned) {
		size_t nc = s->capassigned ? s->capassigned * 2 : 64;
		uint32_t *n = realloc(s->assigned, nc * sizeof(*n));
		if (!n)
			return;
		s->assigned = n;
		n = realloc(s->assigned_pd, nc * sizeof(*n));
		if (!n)
			return;
		s->assigned_pd = n;
		s->capassigned = nc;
	}
	s->assigned_pd[s->nassigned] = pdevid;
	s->assigned[s->nassigned++] = devid;
}

static void api_error(struct rp_session *s, const struct itr_rec *r, const char *call, int rc)
{
	char what[RP_TEXT], exp[RP_TEXT];
	snprintf(what, sizeof(what), "the engine refused the recorded input: %s: %s", call,
		 vits_strerror(rc));
	rp_format_rec(r, exp, sizeof(exp));
	rp_diverge(s, RP_DIV_INPUT, r, what, exp, vits_strerror(rc));
}

int rp_engine_feed(struct rp_session *s, const struct itr_rec *r)
{
	const uint8_t *p = r->payload;
	struct vits *v = s->v;
	int rc;
	if (r->len < (uint32_t)itr_rec_min_payload(r->type))
		return 1;       /* a malformed input: skipped (the reader counted it) */
	s->res->inputs++;
	switch (r->type) {
	case ITR_REC_MMIO_READ: {
		uint64_t val;
		vits_mmio_read(v, itr_get64(p), p[16], &val);
		return 0;
	}
	case ITR_REC_MMIO_WRITE: {
		uint64_t off = itr_get64(p), val = itr_get64(p + 8);
		unsigned size = p[16];
		bool was_enabled = s->enabled;
		if ((off & ~7ull) == GITS_CBASER && !was_enabled)
			s->cbaser = merge(s->cbaser, off, GITS_CBASER, size, val);
		if ((off & ~7ull) == GITS_BASER0 && !was_enabled) {
			s->baser0 = merge(s->baser0, off, GITS_BASER0, size, val);
			if (s->ref)
				ref_set_device_table(s->ref, s->baser0);
		}
		vits_mmio_write(v, off, size, val);
		struct vits_queue_info q;
		vits_query_queue(v, &q);
		if (q.enabled != s->enabled && s->ref)
			ref_set_enabled(s->ref, q.enabled);
		s->enabled = q.enabled;
		return 0;
	}
	case ITR_REC_MSI: {
		uint32_t dev = itr_get32(p), ev = itr_get32(p + 4);
		s->res->msis++;
		if (s->ref)
			ref_msi(s->ref, dev, ev);
		if (s->o.mode == RP_MODE_INPUTS && s->host && is_assigned(s, dev)) {
			/* An assigned device's MSI goes to the physical ITS; the host gets a
			 * physical LPI (vits_host_plpi) if the physical ITS delivers it. */
			if (rp_phys_is_model(s->phys))
				rp_phys_msi(s->phys, s->host, pdev_of(s, dev), ev);
			else
				rp_phys_msi_sink(s->phys, v, s->host, dev, ev);
			return 0;
		}
		rc = vits_msi(v, dev, ev);
		if (rc < 0)
			api_error(s, r, "vits_msi", rc);
		return 0;
	}
	case ITR_REC_PROP_TABLE:
		rc = vits_set_prop_table(v, itr_get64(p), p[8]);
		if (rc < 0)
			api_error(s, r, "vits_set_prop_table", rc);
		else if (s->ref)
			ref_set_prop_table(s->ref, itr_get64(p), p[8]);
		return 0;
	case ITR_REC_PROP_WRITE: {
		uint64_t gpa = itr_get64(p), val = itr_get64(p + 8);
		unsigned len = p[16];
		uint8_t b[8];
		for (unsigned i = 0; i < 8; i++)
			b[i] = (uint8_t)(val >> (8 * i));
		if (len <= 8)
			rp_mem_record(&s->mem, gpa, b, len, 0);   /* the guest's store */
		rc = vits_prop_write(v, gpa, len, val);
		if (rc < 0)
			api_error(s, r, "vits_prop_write", rc);
		return 0;
	}
	case ITR_REC_HOST_LPI:
		if (!s->host) {
			snprintf(s->msg, s->msglen, "record %llu: a host LPI, and no host: replay "
				 "with --host", (unsigned long long)r->index);
			return RP_E_UNSUPPORTED;
		}
		if (s->o.mode == RP_MODE_INPUTS) {
			/* The pLPI numbers belong to the recorded run: feed the device event
			 * the recorded pLPI stood for, as a physical interrupt. */
			uint64_t key;
			if (!rp_map_get(&s->rec_plpi, itr_get32(p), &key))
				return 0;
			uint32_t pd = (uint32_t)(key >> 32), ev = (uint32_t)key, vd = pd;
			bool found = false;
			for (size_t i = 0; i < s->nassigned && !found; i++)
				if (s->assigned_pd[i] == pd) {
					vd = s->assigned[i];
					found = true;
				}
			if (!found)
				return 0;
			s->res->msis++;
			if (s->ref)
				ref_msi(s->ref, vd, ev);
			if (rp_phys_is_model(s->phys))
				rp_phys_msi(s->phys, s->host, pd, ev);
			else
				rp_phys_msi_sink(s->phys, v, s->host, vd, ev);
			return 0;
		}
		rc = vits_host_plpi(s->host, rp_rename_plpi(s->rename, itr_get32(p)));
		if (rc < 0)
			api_error(s, r, "vits_host_plpi", rc);
		return 0;
	case ITR_REC_ASSIGN: {
		if (!s->host) {
			snprintf(s->msg, s->msglen, "record %llu: a device assignment, and no host: "
				 "replay with --host", (unsigned long long)r->index);
			return RP_E_UNSUPPORTED;
		}
		uint32_t vd = itr_get32(p), pd = itr_get32(p + 4);
		if (p[8]) {
			rc = vits_assign_device(v, vd, pd);
			if (rc < 0 && !(s->o.assign_all && rc == VITS_E_EXIST))
				api_error(s, r, "vits_assign_device", rc);
			else
				track_assigned(s, vd, pd);
		} else {
			rc = vits_unassign_device(v, vd);
			if (rc < 0)
				api_error(s, r, "vits_unassign_device", rc);
			for (size_t i = 0; i < s->nassigned; i++)
				if (s->assigned[i] == vd) {
					s->nassigned--;
					s->assigned[i] = s->assigned[s->nassigned];
					s->assigned_pd[i] = s->assigned_pd[s->nassigned];
					break;
				}
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* Assign-all: guest device devid becomes physical device devid (masked to the host's
 * DeviceID bits) before its first MAPD. */
void rp_assign_before_map(struct rp_session *s, uint32_t devid)
{
	if (!s->host || is_assigned(s, devid))
		return;
	uint32_t pd = s->hcfg.pdevid_bits >= 32 ? devid
						 : devid & ((1u << s->hcfg.pdevid_bits) - 1);
	if (vits_assign_device(s->v, devid, pd) == 0)
		track_assigned(s, devid, pd);
}
