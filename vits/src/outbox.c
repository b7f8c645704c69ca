/*
 * outbox.c: physical commands on their way to the physical ITS.
 *
 * Every physical command goes through a FIFO: it is queued with its cause, then
 * handed to vits_host_ops.phys_cmd in order.  When the physical queue is full
 * (phys_cmd returns VITS_E_AGAIN) the rest wait here, the engine stops, and the next
 * engine call (vits_resume, a CWRITER write, vits_destroy) sends them first.  Nothing
 * busy-waits and nothing is dropped; the guest's CREADR does not pass a command whose
 * physical commands have not all been queued (cmdq.c).
 *
 * Capacity is reserved ahead (MAPD reserves room for its device's teardown), so
 * queueing itself never fails.
 */
#include "vits_internal.h"

#define OB_MIN 64u

static int ob_grow(struct vits *v, uint32_t want)
{
	uint32_t ncap = v->ob_cap ? v->ob_cap : OB_MIN;
	while (ncap < want) {
		if (ncap > (1u << 30))
			return VITS_E_NOMEM;
		ncap *= 2;
	}
	if (ncap == v->ob_cap)
		return 0;
	struct vits_pcmd *n = vits_mem_alloc(&v->mem, sizeof(*n) * ncap);
	if (n == NULL)
		return VITS_E_NOMEM;
	for (uint32_t i = 0; i < v->ob_count; i++)
		n[i] = v->ob[(v->ob_head + i) % v->ob_cap];
	vits_mem_free(&v->mem, v->ob, sizeof(*v->ob) * v->ob_cap);
	v->ob = n;
	v->ob_cap = ncap;
	v->ob_head = 0;
	return 0;
}

/* Make sure n more commands fit behind those waiting. */
int vits_ob_reserve(struct vits *v, uint64_t n)
{
	uint64_t want = v->ob_count + n;
	if (want > (1u << 30))
		return VITS_E_NOMEM;
	return want <= v->ob_cap ? 0 : ob_grow(v, (uint32_t)want);
}

void vits_ob_free(struct vits *v)
{
	vits_mem_free(&v->mem, v->ob, sizeof(*v->ob) * v->ob_cap);
	v->ob = NULL;
	v->ob_cap = v->ob_head = v->ob_count = 0;
}

static void account(struct vits *v, const struct vits_pcmd *p)
{
	struct vits_host_stats *hs = &v->host->st;
	int idx = its_cmd_index((unsigned)its_cmd_get_opcode(&p->cmd));
	bool global = idx == ITS_IDX_INVALL || idx == ITS_IDX_MOVALL;

	if (idx >= 0) {
		v->st.phys_cmds[idx]++;
		hs->phys_cmds[idx]++;
	}
	v->st.phys_cmd_total++;
	hs->phys_cmd_total++;
	v->st.phys_global_cmds += global;
	hs->phys_global_cmds += global;
	v->st.phys_by_cause[p->cause]++;
	hs->phys_by_cause[p->cause]++;
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_PHYS_CMD };
		ev.u.phys.cmd = p->cmd;
		ev.u.phys.cause = p->cause;
		ev.u.phys.cause_offset = p->cause_offset;
		ev.u.phys.cause_opcode = p->cause_opcode;
		vits_trace(v, &ev);
	}
}

/* Hand waiting commands to the physical ITS.  True when none is left waiting. */
bool vits_ob_flush(struct vits *v)
{
	while (v->ob_count != 0) {
		const struct vits_pcmd *p = &v->ob[v->ob_head];
		int rc = v->host->ops.phys_cmd(v->host->ctx, &p->cmd);
		if (rc == VITS_E_AGAIN) {
			v->st.phys_queue_full++;
			v->host->st.phys_queue_full++;
			return false;
		}
		/* Any other failure is the embedder's: the command counts as sent, so
		 * the engine's view of the physical ITS stays the one it asked for. */
		account(v, p);
		vits_host_accepted(v->host, v, p);
		v->ob_head = (v->ob_head + 1) % v->ob_cap;
		v->ob_count--;
	}
	return true;
}

/* What the command queued last stops using: the host gets it back once that command
 * has run on the physical ITS (host.c). */
void vits_ob_release_last(struct vits *v, enum vits_release kind, uint32_t id, uint64_t pa,
			  uint64_t bytes)
{
	struct vits_pcmd *p = &v->ob[(v->ob_head + v->ob_count - 1) % v->ob_cap];
	p->release = (uint8_t)kind;
	p->rel_id = id;
	p->rel_pa = pa;
	p->rel_bytes = bytes;
}

/* The command queued last is a CLEAR of physical LPI plpi: until it has run, an
 * interrupt of plpi is pending state it removes (vits_host_plpi). */
void vits_ob_clears_last(struct vits *v, uint32_t plpi)
{
	struct vits_pcmd *p = &v->ob[(v->ob_head + v->ob_count - 1) % v->ob_cap];
	p->clears = plpi;
	v->host->plpi[plpi - LPI_INTID_BASE].clear_seq = UINT64_MAX;
}

/* Reservations make this unreachable; if an embedder's allocator fails anyway, send
 * synchronously rather than lose the command.  Out of line: its local would give
 * every vits_phys_emit call a stack frame of its own under ASan. */
static __attribute__((noinline, cold)) void emit_unqueued(struct vits *v, const struct its_cmd *c)
{
	struct vits_pcmd p = { *c, v->cur_offset, v->cur_opcode, v->cur_cause, 0, 0, 0, 0, 0 };
	(void)v->host->ops.phys_cmd(v->host->ctx, c);
	account(v, &p);
	vits_host_accepted(v->host, v, &p);
}

/* Queue one physical command caused by what the engine is doing now. */
void vits_phys_emit(struct vits *v, const struct its_cmd *c)
{
	if (v->ob_count == v->ob_cap && ob_grow(v, v->ob_cap + 1) < 0) {
		emit_unqueued(v, c);
		return;
	}
	struct vits_pcmd *p = &v->ob[(v->ob_head + v->ob_count) % v->ob_cap];
	p->cmd = *c;
	p->release = VITS_REL_NONE;
	p->clears = 0;
	p->cause = v->cur_cause;
	p->cause_offset = v->cur_offset;
	p->cause_opcode = v->cur_opcode;
	v->ob_count++;
}
