/*
 * harness_host.c: the physical side of the harness: a vits_host whose ops record
 * physical commands (with an optional capacity, to model a full physical queue),
 * hand out fake host ITT addresses and keep a host property table.
 */
#include "harness_internal.h"

#include <stdlib.h>
#include <string.h>

static void *hhost_alloc(void *ctx, size_t size)
{
	struct harness *h = ctx;
	return harness_count_alloc(&h->host_mem, size);
}

static void hhost_free(void *ctx, void *ptr, size_t size)
{
	struct harness *h = ctx;
	harness_count_free(&h->host_mem, ptr, size);
}

static int hhost_phys_cmd(void *ctx, const struct its_cmd *cmd)
{
	struct harness *h = ctx;
	if (h->cfg.phys_capacity && h->phys.n >= h->cfg.phys_capacity) {
		h->phys_refused++;
		return VITS_E_AGAIN;
	}
	struct its_cmd *rec = harness_vec_push(&h->phys, sizeof(*rec));
	if (!rec) {
		/* Our own memory is gone; saying "full" is the only answer the engine
		 * understands and it is harmless. */
		h->phys_refused++;
		return VITS_E_AGAIN;
	}
	*rec = *cmd;
	return 0;
}

/* Fake host addresses: distinct, 256-byte aligned, never reused, so a test can tell
 * ITTs apart and spot a use after free in the physical commands. */
static int hhost_itt_alloc(void *ctx, uint32_t pdevid, uint64_t bytes, uint64_t *pa)
{
	struct harness *h = ctx;
	uint64_t sz = (bytes + 255) & ~(uint64_t)255;
	if (sz == 0)
		sz = 256;
	*pa = h->itt_next;
	h->itt_next += sz;
	h->itt_live++;
	h->itt_live_bytes += bytes;
	return 0;
}

static void hhost_itt_free(void *ctx, uint32_t pdevid, uint64_t pa, uint64_t bytes)
{
	struct harness *h = ctx;
	h->itt_live--;
	h->itt_live_bytes -= bytes;
}

static void hhost_prop_write(void *ctx, uint32_t plpi, uint8_t cfg)
{
	struct harness *h = ctx;
	h->host_prop_writes++;
	if (plpi < LPI_INTID_BASE || plpi - LPI_INTID_BASE >= h->cfg.host.nr_plpis) {
		h->host_prop_oob++;   /* a wild pLPI: recorded for the isolation oracle */
		return;
	}
	h->host_prop[plpi - LPI_INTID_BASE] = cfg;
}

void harness_host_ops_init(struct vits_host_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->sz = sizeof(*ops);
	ops->alloc = hhost_alloc;
	ops->free = hhost_free;
	ops->phys_cmd = hhost_phys_cmd;
	ops->itt_alloc = hhost_itt_alloc;
	ops->itt_free = hhost_itt_free;
	ops->prop_write = hhost_prop_write;
}

int harness_host_setup(struct harness *h)
{
	h->host_prop = calloc(h->cfg.host.nr_plpis ? h->cfg.host.nr_plpis : 1, 1);
	if (!h->host_prop)
		return VITS_E_NOMEM;
	h->itt_next = HARNESS_FAKE_ITT_BASE;
	struct vits_host_ops ops;
	harness_host_ops_init(&ops);
	return vits_host_create(&h->cfg.host, &ops, h, &h->host);
}

void harness_host_teardown(struct harness *h)
{
	/* An attached host is the caller's: leave it alone. */
	if (h->host && h->own_host)
		vits_host_destroy(h->host);
	h->host = NULL;
	h->own_host = false;
	free(h->host_prop);
	h->host_prop = NULL;
}

void harness_host_reset(struct harness *h)
{
	if (h->host_prop)
		memset(h->host_prop, 0, h->cfg.host.nr_plpis);
}
