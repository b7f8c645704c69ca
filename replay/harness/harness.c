/*
 * harness.c: lifetime of a harness and the engine-side ops (allocation, guest
 * memory, vCPU sink, trace).  The host side is in harness_host.c, the guest driver
 * in harness_driver.c.
 */
#include "harness_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- growable arrays --------------------------------------------------------------- */

void *harness_vec_push(struct harness_vec *v, size_t esz)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 64;
		void *nd = realloc(v->data, ncap * esz);
		if (!nd)
			return NULL;
		v->data = nd;
		v->cap = ncap;
	}
	void *slot = (unsigned char *)v->data + v->n * esz;
	v->n++;
	memset(slot, 0, esz);
	return slot;
}

void harness_vec_free(struct harness_vec *v)
{
	free(v->data);
	v->data = NULL;
	v->n = v->cap = 0;
}

/* ---- counting allocator -------------------------------------------------------------- */

void *harness_count_alloc(struct harness_alloc_stats *st, size_t size)
{
	/* calloc(1, 0) may return NULL; the engine asks for zeroed memory of size bytes
	 * and a zero-byte request is still a success for it. */
	void *p = calloc(1, size ? size : 1);
	if (!p) {
		st->failed++;
		return NULL;
	}
	st->allocs++;
	st->cur += size;
	if (st->cur > st->peak)
		st->peak = st->cur;
	return p;
}

void harness_count_free(struct harness_alloc_stats *st, void *ptr, size_t size)
{
	if (!ptr)
		return;
	st->frees++;
	st->cur -= size;
	free(ptr);
}

static void *harness_engine_alloc(void *ctx, size_t size)
{
	struct harness *h = ctx;
	return harness_count_alloc(&h->engine_mem, size);
}

static void harness_engine_free(void *ctx, void *ptr, size_t size)
{
	struct harness *h = ctx;
	harness_count_free(&h->engine_mem, ptr, size);
}

/* ---- guest memory ------------------------------------------------------------------------ */

int harness_read_guest(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct harness *h = ctx;
	return guest_ram_read(h->ram, gpa, buf, len);
}

int harness_ram_check(void *ctx, uint64_t gpa, uint64_t len)
{
	struct harness *h = ctx;
	return guest_ram_contains(h->ram, gpa, len);
}

/* ---- vCPU sink and trace -------------------------------------------------------------- */

static void harness_inject_cb(void *ctx, uint32_t vcpu, uint32_t intid)
{
	struct harness *h = ctx;
	struct harness_inject *rec = harness_vec_push(&h->injects, sizeof(*rec));
	if (rec) {
		rec->vcpu = vcpu;
		rec->intid = intid;
		rec->seq = h->cmd_seq;
	}
	/* An out-of-range vCPU is an isolation failure for the oracle to report; it is
	 * recorded above but cannot be counted per vCPU. */
	if (vcpu < h->cfg.vits.nr_vcpus)
		h->inject_per_vcpu[vcpu]++;
}

static void harness_trace_cb(void *ctx, const struct vits_event *ev)
{
	struct harness *h = ctx;
	if (ev->type == VITS_EV_CMD) {
		struct harness_cmd_rec *rec = harness_vec_push(&h->cmds, sizeof(*rec));
		if (rec) {
			rec->offset = ev->u.cmd.offset;
			rec->cmd = ev->u.cmd.cmd;
			rec->outcome = ev->u.cmd.outcome;
			rec->reason = ev->u.cmd.reason;
		}
		/* Counted after the command's effects: the engine traces a command once it
		 * has run, so injections it caused carry the number of earlier commands. */
		h->cmd_seq++;
	}
	if (h->trace_fn)
		h->trace_fn(h->trace_ctx, ev);
}

/* ---- lifetime -------------------------------------------------------------------------- */

void harness_config_default(struct harness_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	vits_config_default(&cfg->vits);
	vits_host_config_default(&cfg->host);
	cfg->nr_ram = 1;
	cfg->ram[0].base = HARNESS_DEFAULT_RAM_BASE;
	cfg->ram[0].size = HARNESS_DEFAULT_RAM_SIZE;
}

int harness_create(const struct harness_config *cfg, struct harness **out)
{
	if (!cfg || !out || cfg->nr_ram > GUEST_RAM_MAX_REGIONS || cfg->vits.nr_vcpus == 0)
		return VITS_E_INVAL;
	struct harness *h = calloc(1, sizeof(*h));
	if (!h)
		return VITS_E_NOMEM;
	h->cfg = *cfg;
	int rc = VITS_E_NOMEM;
	h->ram = guest_ram_create();
	h->inject_per_vcpu = calloc(cfg->vits.nr_vcpus, sizeof(uint64_t));
	if (!h->ram || !h->inject_per_vcpu)
		goto fail;
	if (cfg->nr_ram == 0) {
		h->cfg.nr_ram = 1;
		h->cfg.ram[0].base = HARNESS_DEFAULT_RAM_BASE;
		h->cfg.ram[0].size = HARNESS_DEFAULT_RAM_SIZE;
	}
	rc = VITS_E_INVAL;
	for (unsigned i = 0; i < h->cfg.nr_ram; i++)
		if (guest_ram_add_region(h->ram, h->cfg.ram[i].base, h->cfg.ram[i].size))
			goto fail;

	if (cfg->attach_host) {
		h->host = cfg->attach_host;
	} else if (cfg->with_host) {
		rc = harness_host_setup(h);
		if (rc)
			goto fail;
		h->own_host = true;
	}

	struct vits_ops ops = {
		.sz = sizeof(ops),
		.alloc = harness_engine_alloc,
		.free = harness_engine_free,
		.read_guest = harness_read_guest,
		.ram_check = harness_ram_check,
		.inject = harness_inject_cb,
		.trace = harness_trace_cb,
	};
	rc = vits_create(&h->cfg.vits, &ops, h, h->host, &h->vits);
	if (rc)
		goto fail;
	h->drv.alloc_top = h->cfg.ram[0].base + h->cfg.ram[0].size;
	*out = h;
	return 0;
fail:
	harness_destroy(h);
	return rc;
}

/* Teardown of an instance with a host may find the physical queue full
 * (VITS_E_AGAIN): play the physical ITS consuming its queue, then retry.  Each
 * round drains the whole sink, so the engine always makes progress; the bound only
 * guards against an engine that never finishes. */
#define HARNESS_TEARDOWN_ROUNDS 100000u

static int harness_retry_again(struct harness *h, int (*fn)(struct vits *v))
{
	int rc = fn(h->vits);
	for (unsigned i = 0; rc == VITS_E_AGAIN && i < HARNESS_TEARDOWN_ROUNDS; i++) {
		harness_phys_drain(h);
		rc = fn(h->vits);
	}
	return rc;
}

void harness_destroy(struct harness *h)
{
	if (!h)
		return;
	/* The engine first: its teardown talks to the host and frees through us. */
	if (h->vits && harness_retry_again(h, vits_destroy) != 0)
		return;   /* the engine refused to go: leak rather than free under it */
	harness_host_teardown(h);
	guest_ram_destroy(h->ram);
	harness_vec_free(&h->injects);
	harness_vec_free(&h->cmds);
	harness_vec_free(&h->phys);
	free(h->inject_per_vcpu);
	free(h);
}

void harness_reset(struct harness *h)
{
	h->injects.n = 0;
	h->cmds.n = 0;
	h->cmd_seq = 0;
	h->phys.n = 0;
	h->phys_refused = 0;
	h->host_prop_writes = 0;
	h->host_prop_oob = 0;
	memset(h->inject_per_vcpu, 0, h->cfg.vits.nr_vcpus * sizeof(uint64_t));
}

int harness_reset_all(struct harness *h)
{
	int rc = harness_retry_again(h, vits_reset);
	guest_ram_clear(h->ram);
	harness_host_reset(h);
	memset(&h->drv, 0, sizeof(h->drv));
	h->drv.alloc_top = h->cfg.ram[0].base + h->cfg.ram[0].size;
	harness_reset(h);
	return rc;
}

void harness_set_phys_capacity(struct harness *h, uint32_t capacity)
{
	h->cfg.phys_capacity = capacity;
}

void harness_phys_drain(struct harness *h)
{
	h->phys.n = 0;
}
