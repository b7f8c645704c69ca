/*
 * cmdq.c: the guest's command queue (IHI 0069 6.2).  Commands run from CREADR to
 * CWRITER, across the wrap, each exactly once and in order; a budget bounds the work
 * of one call and vits_resume() continues where it stopped.
 */
#include "vits_internal.h"

static bool cmdq_runnable(const struct vits *v)
{
	return !v->tearing_down && (v->ctlr & 1) && v->qsize != 0 && !v->stalled &&
	       v->creadr != v->cwriter;
}

static void creadr_advance(struct vits *v)
{
	v->creadr += ITS_CMD_BYTES;
	if (v->creadr >= v->qsize)
		v->creadr = 0;
}

static void trace_creadr(struct vits *v)
{
	if (v->ops.trace) {
		struct vits_event ev = { .type = VITS_EV_CREADR };
		ev.u.creadr.creadr = v->creadr;
		ev.u.creadr.stalled = v->stalled;
		vits_trace(v, &ev);
	}
}

static void trace_cmd(struct vits *v, uint32_t off, const struct its_cmd *c,
		      enum vits_outcome out, enum vits_reason why)
{
	struct vits_event ev = { .type = VITS_EV_CMD };
	ev.u.cmd.offset = off;
	ev.u.cmd.cmd = *c;
	ev.u.cmd.outcome = (uint8_t)out;
	ev.u.cmd.reason = (uint8_t)why;
	ev.u.cmd.e_its = vits_reason_e_its(why, (unsigned)its_cmd_get_opcode(c));
	vits_trace(v, &ev);
}

/* One command slot from guest memory.  On a little-endian host the queue's bytes
 * are the command's words, so they are read in place (no bounce buffer: under the
 * fuzzers' ASan every copy and zero-fill of it is a runtime call, per command). */
static int read_cmd(struct vits *v, uint64_t gpa, struct its_cmd *c)
{
	if (ITS_CMD_HOST_LE)
		return vits_read_guest(v, gpa, c->dw, ITS_CMD_BYTES);
	uint8_t raw[ITS_CMD_BYTES];
	if (vits_read_guest(v, gpa, raw, sizeof(raw)) < 0)
		return -1;
	its_cmd_from_bytes(c, raw);
	return 0;
}

/*
 * Run queued commands, at most budget of them.  Returns how many ran.
 *
 * A command whose physical commands could not all be queued (the physical queue is
 * full) has run in the engine, but CREADR stays on it ("in flight") until they are:
 * the guest cannot see it complete before the hardware has it.  A command that sent
 * physical commands, and a SYNC, INV or INVALL, also stays in flight until the
 * physical ITS reports (vits_host_ops.phys_done) that they and the commands before
 * them have run.  The next call sends the waiting physical commands first, then
 * moves CREADR on.
 */
int vits_cmdq_process(struct vits *v)
{
	uint32_t budget = v->cfg.budget, done = 0;
	uint64_t base = v->cbaser & GITS_FIELD_MASK(CBASER, PA);
	bool moved = false;

	if (v->host != NULL && !vits_ob_flush(v))
		return 0;
	if (v->inflight) {
		if (v->inflight_sync && !vits_host_done(v->host, v->last_seq))
			return 0;       /* a SYNC waits for the physical ITS */
		v->inflight = 0;
		v->inflight_sync = 0;
		if (v->qsize != 0 && v->creadr != v->cwriter) {
			creadr_advance(v);
			moved = true;
		}
	}
	while (cmdq_runnable(v)) {
		if (budget != 0 && done >= budget)
			break;
		struct its_cmd c;
		enum vits_reason why;

		v->cur_offset = v->creadr;
		v->cur_opcode = 0;
		v->cur_cause = VITS_CAUSE_GUEST_CMD;
		uint64_t seq0 = v->last_seq;
		if (read_cmd(v, base + v->creadr, &c) < 0) {
			/* The trace reports an all-zero command for a slot that could not
			 * be read. */
			c.dw[0] = c.dw[1] = c.dw[2] = c.dw[3] = 0;
			why = VITS_R_MEM_FAULT;
		} else {
			v->cur_opcode = (uint32_t)its_cmd_get_opcode(&c);
			why = vits_cmd_execute(v, &c);
		}
		v->st.guest_cmd_total++;
		done++;

		enum vits_outcome out = VITS_CMD_OK;
		if (why != VITS_R_NONE) {
			v->st.cmd_errors++;
			v->st.errors_by_reason[why]++;
			out = v->cfg.error_mode == VITS_ERRMODE_STALL ? VITS_CMD_STALLED
								      : VITS_CMD_SKIPPED;
		}
		if (v->ops.trace)
			trace_cmd(v, v->cur_offset, &c, out, why);
		if (out == VITS_CMD_STALLED) {
			/* IMPDEF choice: stall mode keeps CREADR on the failed command. */
			v->stalled = 1;
			v->st.stalls++;
			moved = true;
			break;
		}
		/* A guest command completes only when the physical commands it sent have
		 * run: a device of the domain fires into the physical ITS, so an MSI the
		 * guest sends after CREADR passed its MAPTI (or DISCARD, MOVI) must meet
		 * the new mapping there.  A guest SYNC completes only when this domain's
		 * physical commands have: an INV before it has taken effect, a CLEAR
		 * cannot eat a later MSI.  So do INV and INVALL: a pending LPI they enable
		 * is delivered by the physical ITS, which must happen before a later
		 * command (a MAPD, a DISCARD) takes the event away, as it would on a real
		 * ITS. */
		bool queued = v->host == NULL || vits_ob_flush(v);
		bool wait = v->host != NULL && why == VITS_R_NONE &&
			    (v->last_seq != seq0 || v->cur_opcode == ITS_OP_SYNC ||
			     v->cur_opcode == ITS_OP_INV || v->cur_opcode == ITS_OP_INVALL);
		/* Not queued: it sent physical commands (waiting in the outbox). */
		if (!queued || (wait && !vits_host_done(v->host, v->last_seq))) {
			v->inflight = 1;
			v->inflight_sync = 1;
			break;
		}
		creadr_advance(v);
		moved = true;
	}
	if (moved)
		trace_creadr(v);
	return (int)done;
}
