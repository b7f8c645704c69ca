/*
 * stats.c: trace totals.  The per-record path is one switch and a few adds, because
 * its-trace stats should run at the speed of the disk.
 */
#include "itr_stats.h"

#include <stdlib.h>

struct itr_stats *itr_stats_new(void)
{
	return calloc(1, sizeof(struct itr_stats));
}

void itr_stats_free(struct itr_stats *s)
{
	free(s);
}

static struct itr_dev_stats *dev_slot(struct itr_stats *s, uint32_t devid)
{
	const uint32_t cap = 2 * ITR_STATS_MAX_DEVICES;
	uint32_t i = (devid * 0x9e3779b1u) >> 19 & (cap - 1);
	for (;; i = (i + 1) & (cap - 1)) {
		struct itr_dev_stats *d = &s->dev[i];
		if (d->used && d->devid == devid)
			return d;
		if (!d->used) {
			if (s->ndev >= ITR_STATS_MAX_DEVICES)
				return NULL;
			d->used = 1;
			d->devid = devid;
			s->ndev++;
			return d;
		}
	}
}

static int cmd_has_devid(unsigned op)
{
	switch (op) {
	case ITS_OP_MAPD: case ITS_OP_MAPTI: case ITS_OP_MAPI: case ITS_OP_MOVI:
	case ITS_OP_INT: case ITS_OP_CLEAR: case ITS_OP_INV: case ITS_OP_DISCARD:
		return 1;
	default:
		return 0;
	}
}

static void count_cmd(struct itr_stats *s, uint16_t domain, const uint8_t *p)
{
	unsigned op = p[4];
	int idx = its_cmd_index(op);
	s->guest_commands++;
	if (idx >= 0)
		s->by_command[idx]++;
	else
		s->other_commands++;
	if (p[2] == ITR_OUTCOME_UNOBSERVED) {
		s->unobserved_outcomes++;
	} else if (p[2] != VITS_CMD_OK) {
		s->cmd_errors++;
		if (p[3] < VITS_R_COUNT)
			s->errors_by_reason[p[3]]++;
	}
	if (cmd_has_devid(op)) {
		struct itr_dev_stats *d = dev_slot(s, itr_get32(p + 8));
		if (d)
			d->commands++;
		else
			s->other_device_cmds++;
	}
	/* A wrap: the guest's read pointer went back to an earlier slot. */
	uint16_t slot = itr_get16(p);
	uint8_t bit = (uint8_t)(1u << (domain & 7));
	if ((s->have_slot[domain >> 3] & bit) && slot < s->last_slot[domain])
		s->queue_wraps++;
	s->have_slot[domain >> 3] |= bit;
	s->last_slot[domain] = slot;
}

void itr_stats_add(struct itr_stats *s, const struct itr_rec *r)
{
	const uint8_t *p = r->payload;
	if (r->type == ITR_REC_END)
		return;     /* framing, not data */
	s->records++;
	s->by_type[r->type]++;
	if (!s->have_ts) {
		s->first_ts = r->ts;
		s->have_ts = 1;
	}
	s->last_ts = r->ts;
	if (r->flags & ITR_RF_INFERRED)
		s->inferred++;
	int min = itr_rec_min_payload(r->type);
	if (min < 0) {
		s->unknown_records++;
		return;
	}
	if (r->len < (uint32_t)min) {
		s->short_records++;
		return;
	}
	switch (r->type) {
	case ITR_REC_CMD:
		count_cmd(s, r->domain, p);
		break;
	case ITR_REC_PHYS_CMD: {
		int idx = its_cmd_index(p[4]);
		s->phys_commands++;
		if (idx >= 0)
			s->phys_by_command[idx]++;
		if (p[0] == VITS_CAUSE_GUEST_CMD && (idx = its_cmd_index(p[1])) >= 0)
			s->phys_by_cause_cmd[idx]++;
		break;
	}
	case ITR_REC_MSI: {
		s->msis++;
		if (p[8] != VITS_R_NONE && p[8] != ITR_REASON_UNOBSERVED)
			s->msis_dropped++;
		struct itr_dev_stats *d = dev_slot(s, itr_get32(p));
		if (d)
			d->msis++;
		else
			s->other_device_msis++;
		break;
	}
	case ITR_REC_MMIO_READ: s->mmio_reads++; break;
	case ITR_REC_MMIO_WRITE: s->mmio_writes++; break;
	case ITR_REC_MEM_READ:
		if (!(r->flags & ITR_RF_CONT))
			s->mem_reads++;
		break;
	case ITR_REC_INJECT: s->injections++; break;
	case ITR_REC_HOST_LPI:
		s->host_lpis++;
		if (p[8] != VITS_R_NONE)
			s->host_lpis_dropped++;
		break;
	case ITR_REC_PROP_WRITE: s->prop_writes++; break;
	case ITR_REC_LOSS:
		s->loss_records++;
		s->lost += itr_get64(p);
		break;
	case ITR_REC_CHECKPOINT: s->checkpoints++; break;
	case ITR_REC_EXP_DTE:
	case ITR_REC_EXP_ITE:
	case ITR_REC_EXP_CTE:
		s->expected_effects++;
		break;
	}
}

void itr_stats_foreach_device(const struct itr_stats *s,
			      void (*fn)(void *ctx, const struct itr_dev_stats *d), void *ctx)
{
	for (uint32_t i = 0; i < 2 * ITR_STATS_MAX_DEVICES; i++)
		if (s->dev[i].used)
			fn(ctx, &s->dev[i]);
}
