/*
 * rp_run.c: the replay loop.
 *
 * The trace is the engine's event stream as it was recorded.  Replay walks it with a
 * cursor: at a call boundary it finds the next input (an MSI's or a host LPI's
 * injections come before its own record, a register write's command reads and
 * outputs after it), writes the guest-memory reads recorded for that call into the
 * memory image, and makes the engine call.  Every event the engine reports is then
 * compared with the record at the cursor, which moves on.  Outputs at the cursor with
 * no input to cause them mean the recorded embedder resumed the engine (a budget, a
 * full physical queue): replay calls vits_resume() for them.
 *
 * In inputs mode (whatif) nothing is compared: the loop feeds the inputs, lets the
 * physical ITS run between traps, and feeds the reference model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_internal.h"

void rp_opts_default(struct rp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->mode = RP_MODE_COMPARE;
	o->policy = -1;
	o->budget = -1;
	o->domain = -1;
	o->with_host = -1;
	o->start_at = -1;
}

/* ---- consuming records ------------------------------------------------------------------ */

static void note_inferred(struct rp_session *s, const struct itr_rec *r)
{
	if (!(r->flags & ITR_RF_INFERRED))
		return;
	if (rp_is_input(r->type) || r->type == ITR_REC_MEM_READ) {
		s->res->inferred_inputs++;
		if (s->pending_rule < ITR_RULE_COUNT)
			s->res->inferred_by_rule[s->pending_rule]++;
		s->last_inferred_index = r->index;
		s->last_inferred_rule = s->pending_rule;
	}
}

/* Pop the record at the cursor, keeping what the report and the accounting need. */
static void consume(struct rp_session *s)
{
	const struct itr_rec *r = rp_peek(&s->st, 0);
	if (!r)
		return;
	s->res->records++;
	note_inferred(s, r);
	if (s->o.mode == RP_MODE_INPUTS && r->type == ITR_REC_PHYS_CMD && r->len >= ITR_PL_PHYS_CMD &&
	    r->payload[4] == ITS_OP_MAPTI) {
		/* Which device event a recorded pLPI stands for: host LPIs are fed as
		 * that event's physical interrupt under the policy being tried. */
		struct its_cmd c;
		its_cmd_from_bytes(&c, r->payload + 4);
		rp_map_put(&s->rec_plpi, its_cmd_get_pintid(&c),
			   its_cmd_get_devid(&c) << 32 | its_cmd_get_eventid(&c));
	}
	if (r->type != ITR_REC_INFERRED)
		s->pending_rule = 0;
	rp_hist_push(s, r);
	rp_pop(&s->st);
}

static void check_checkpoint(struct rp_session *s, const struct itr_rec *r)
{
	if (r->len < ITR_PL_CHECKPOINT || s->o.mode != RP_MODE_COMPARE || s->in_call)
		return;
	uint16_t kind = itr_get16(r->payload + 8), len = itr_get16(r->payload + 10);
	if (kind != ITR_FP_VITS_V1 || len != RP_FP_V1_LEN || r->len < (uint32_t)ITR_PL_CHECKPOINT + len)
		return;
	uint8_t fp[RP_FP_V1_LEN];
	rp_fingerprint_v1(s->v, fp, sizeof(fp));
	rp_snap_adjust_fp(s, fp);
	s->res->checkpoints_checked++;
	const uint8_t *rec = r->payload + ITR_PL_CHECKPOINT;
	if (!memcmp(fp, rec, RP_FP_V1_LEN))
		return;
	char what[RP_TEXT], diff[RP_TEXT - 64];
	rp_fingerprint_diff(rec, fp, diff, sizeof(diff));
	snprintf(what, sizeof(what), "the engine state differs from the checkpoint's "
		 "fingerprint: %s", diff);
	rp_diverge(s, RP_DIV_FINGERPRINT, r, what, "the recorded engine state",
		   "a different engine state");
}

static void check_effect(struct rp_session *s, const struct itr_rec *r)
{
	if (s->o.mode != RP_MODE_COMPARE)
		return;
	char exp[RP_TEXT], got[RP_TEXT];
	s->res->effects_checked++;
	if (rp_check_effect(s, r, exp, got, sizeof(exp)) == 0)
		return;
	char what[RP_TEXT];
	snprintf(what, sizeof(what), "the engine's %s differs from the table write the source "
		 "made (%s)", r->type == ITR_REC_EXP_CTE ? "collection" :
		 r->type == ITR_REC_EXP_DTE ? "device" : "event mapping",
		 itr_rec_type_name(r->type));
	rp_diverge(s, RP_DIV_EFFECT, r, what, exp, got);
}

/* "vits-phys-done N": the recording's physical ITS had run N of this domain's
 * commands, and the embedder polled the host (an input of the host side). */
static void phys_done_note(struct rp_session *s, const struct itr_rec *r)
{
	static const char tag[] = "vits-phys-done ";
	char buf[64];
	if (!s->tcfg.physdone || !s->phys || r->len < sizeof(tag) - 1 || r->len >= sizeof(buf) ||
	    memcmp(r->payload, tag, sizeof(tag) - 1))
		return;
	memcpy(buf, r->payload, r->len);
	buf[r->len] = 0;
	rp_phys_set_done(s->phys, strtoull(buf + sizeof(tag) - 1, NULL, 10));
	if (s->host)
		vits_host_poll(s->host);
}

/* Consume the records at the cursor that are not engine events of this domain:
 * stream metadata (checkpoints are checked), expected effects (checked against the
 * engine state now), records of other domains. */
static void settle(struct rp_session *s)
{
	const struct itr_rec *r;
	while (!s->stop && (r = rp_peek(&s->st, 0))) {
		if (r->type == ITR_REC_INFERRED) {
			if (r->len >= ITR_PL_INFERRED)
				s->pending_rule = itr_get16(r->payload);
		} else if (rp_is_meta(r->type)) {
			if (r->type == ITR_REC_LOSS)
				s->res->loss_records++;
			else if (r->type == ITR_REC_CHECKPOINT && r->domain == s->domain)
				check_checkpoint(s, r);
			else if (r->domain == s->domain &&
				 rp_is_reset_note(r->type, r->payload, r->len))
				s->reset_noted = true;  /* "vits-reset": reset next (step) */
			else if (r->type == ITR_REC_NOTE && r->domain == s->domain)
				phys_done_note(s, r);
		} else if (r->domain != s->domain) {
			s->res->skipped_domain++;
		} else if (rp_is_effect(r->type)) {
			check_effect(s, r);
		} else {
			break;
		}
		if (s->stop)
			break;
		consume(s);
	}
}

bool rp_next_is_phys(struct rp_session *s)
{
	if (s->stop || s->synthetic)
		return true;
	settle(s);
	const struct itr_rec *r = rp_peek(&s->st, 0);
	return r && r->type == ITR_REC_PHYS_CMD;
}

/* ---- the engine's callbacks ---------------------------------------------------------------- */

void rp_on_inject(struct rp_session *s, uint32_t vcpu, uint32_t intid)
{
	if (!s->ref)
		return;
	if (s->ninj == s->capinj) {
		size_t nc = s->capinj ? s->capinj * 2 : 1024;
		struct harness_inject *n = realloc(s->inj, nc * sizeof(*n));
		if (!n)
			return;
		s->inj = n;
		s->capinj = nc;
	}
	s->inj[s->ninj++] = (struct harness_inject){ vcpu, intid, s->cmd_events };
}

static void mismatch(struct rp_session *s, const struct vits_event *ev, const struct itr_rec *r,
		     const char *why)
{
	char exp[RP_TEXT], got[RP_TEXT], what[RP_TEXT];
	rp_format_event(ev, s->domain, got, sizeof(got));
	enum rp_div_kind kind = RP_DIV_MISMATCH;
	if (!r) {
		snprintf(exp, sizeof(exp), "nothing (the trace ends)");
		snprintf(what, sizeof(what), "the engine produced an output the trace does not hold");
		kind = RP_DIV_EXTRA;
	} else {
		rp_format_rec(r, exp, sizeof(exp));
		if (rp_is_input(r->type) && r->type != ev->type) {
			kind = RP_DIV_EXTRA;
			snprintf(what, sizeof(what), "the engine produced an output the trace does not "
				 "hold before its next input");
		} else {
			snprintf(what, sizeof(what), "%s", why);
		}
	}
	rp_diverge(s, kind, r, what, exp, got);
}

void rp_on_event(struct rp_session *s, const struct vits_event *ev)
{
	if (ev->type == VITS_EV_PROP_TABLE) {
		s->prop_gpa = ev->u.prop.gpa;
		s->prop_bits = ev->u.prop.id_bits;
	}
	if (s->synthetic) {
		rp_snap_on_event(s, ev);
		return;
	}
	if (ev->type == VITS_EV_CMD) {
		s->cmd_events++;
		s->call_cmds++;
		if (s->ref && !s->stop) {
			enum vits_reason why = ref_cmd(s->ref, &ev->u.cmd.cmd);
			if (why != ev->u.cmd.reason && !s->res->oracle_msg[0])
				snprintf(s->res->oracle_msg, sizeof(s->res->oracle_msg),
					 "guest command %llu (%s at queue offset 0x%x): the engine says "
					 "%s, the reference model %s",
					 (unsigned long long)s->cmd_events,
					 its_cmd_name((unsigned)its_cmd_get_opcode(&ev->u.cmd.cmd)) ?
					 its_cmd_name((unsigned)its_cmd_get_opcode(&ev->u.cmd.cmd)) : "?",
					 ev->u.cmd.offset, vits_reason_name(ev->u.cmd.reason),
					 vits_reason_name(why));
		}
	}
	if (s->phys)
		rp_phys_note_trace(s->phys, ev);
	if (s->stop || s->o.mode != RP_MODE_COMPARE || !rp_observed(s, ev))
		return;
	settle(s);
	if (s->stop)
		return;
	const struct itr_rec *r = rp_peek(&s->st, 0);
	char why[RP_TEXT];
	if (!r || rp_compare(s, ev, r, why, sizeof(why))) {
		mismatch(s, ev, r, r ? why : "");
		return;
	}
	s->res->compared++;
	if (ev->type != VITS_EV_MEM_READ || !ev->u.mem.data) {
		consume(s);
		return;
	}
	/* A read longer than one chunk: the later chunks follow, flagged CONT. */
	uint32_t off = r->len - ITR_PL_MEM_READ;
	consume(s);
	while (off < ev->u.mem.len) {
		r = rp_peek(&s->st, 0);
		uint32_t c = r ? r->len - ITR_PL_MEM_READ : 0;
		if (!r || r->type != ITR_REC_MEM_READ || !(r->flags & ITR_RF_CONT) ||
		    r->len < ITR_PL_MEM_READ || c > ev->u.mem.len - off ||
		    memcmp(r->payload + ITR_PL_MEM_READ, ev->u.mem.data + off, c)) {
			mismatch(s, ev, r, "a long guest-memory read differs in a later chunk");
			return;
		}
		off += c;
		consume(s);
		if (c == 0)
			break;
	}
}

/* Device-table L1 entry: is gpa one, for the BASER0 the guest programmed? */
static bool l1_entry(const struct rp_session *s, uint64_t gpa, size_t len)
{
	uint64_t b = s->baser0;
	if (!GITS_FIELD_GET(b, BASER, VALID) || !GITS_FIELD_GET(b, BASER, INDIRECT) || len != 8)
		return false;
	static const uint64_t pages[4] = { 4096, 16384, 65536, 65536 };
	uint64_t page = pages[GITS_FIELD_GET(b, BASER, PAGE_SIZE)];
	uint64_t pa = b & GITS_FIELD_MASK(BASER, PA);
	uint64_t size = (GITS_FIELD_GET(b, BASER, SIZE) + 1) * page;
	return gpa >= pa && gpa - pa < size;
}

int rp_gap_fill(struct rp_session *s, uint64_t gpa, void *buf, size_t len)
{
	struct vits_event probe = { .type = VITS_EV_MEM_READ };
	probe.u.mem.gpa = gpa;
	probe.u.mem.len = (uint32_t)len;
	if (s->obs.all_reads || rp_observed(s, &probe))
		return -1;
	/* A read the source does not observe (QEMU logs command slots only).  Replay
	 * rule: a device-table L1 entry reads as Valid, as the Linux driver allocates the
	 * L2 page before it maps a device there; any other byte reads as zero. */
	memset(buf, 0, len);
	if (l1_entry(s, gpa, len)) {
		uint64_t e = (1ull << 63) | (0x7f0000000000ull + (gpa & 0xffffff) * 512);
		for (size_t i = 0; i < 8; i++)
			((uint8_t *)buf)[i] = (uint8_t)(e >> (8 * i));
	}
	return 0;
}

int rp_read_guest(struct rp_session *s, uint64_t gpa, void *buf, size_t len)
{
	if (s->synthetic)
		return rp_snap_read(s, gpa, buf, len);
	int rc = rp_mem_read(&s->mem, gpa, buf, len);
	if (rc == 0)
		return 0;
	if (rc == 1)
		return -1;      /* the recorded engine got a fault here */
	if (rp_gap_fill(s, gpa, buf, len) == 0) {
		s->res->gap_reads++;
		return 0;
	}
	if (s->o.mode == RP_MODE_COMPARE) {
		char what[RP_TEXT], got[RP_TEXT];
		snprintf(what, sizeof(what), "the engine read guest memory the trace never "
			 "recorded: [0x%llx, +%zu)", (unsigned long long)gpa, len);
		snprintf(got, sizeof(got), "MEM_READ gpa=0x%llx len=%zu", (unsigned long long)gpa,
			 len);
		const struct itr_rec *r = rp_peek(&s->st, 0);
		char exp[RP_TEXT];
		if (r)
			rp_format_rec(r, exp, sizeof(exp));
		else
			snprintf(exp, sizeof(exp), "nothing (the trace ends)");
		rp_diverge(s, RP_DIV_UNRECORDED_READ, r, what, exp, got);
	} else {
		s->res->unrecorded_reads++;
	}
	return -1;
}

/* MAPD's ITT-in-RAM check is an input the format does not hold as such; the recorded
 * outcome of the command says what the recorded embedder answered. */
int rp_ram_check(struct rp_session *s, uint64_t gpa, uint64_t len)
{
	if (s->synthetic)
		return 1;
	if (s->call_cmds < s->nwin_cmds)
		return s->win_reasons[s->call_cmds] != VITS_R_ITT_OUTSIDE_RAM;
	return 1;
}

/* ---- the loop ----------------------------------------------------------------------------------- */

static bool input_here(const struct rp_session *s, const struct itr_rec *r)
{
	return r->domain == s->domain && rp_is_input(r->type);
}

/* From window position from to the next input: write the recorded reads into the
 * memory image, note the recorded outcomes of the commands, and (assign-all) assign
 * devices the commands are about to map.  Returns the next input's position. */
static size_t prescan(struct rp_session *s, size_t from)
{
	const struct itr_rec *y;
	size_t j = from;
	uint64_t qbase = s->cbaser & GITS_FIELD_MASK(CBASER, PA);
	s->nwin_cmds = 0;
	while ((y = rp_peek(&s->st, j)) && !input_here(s, y)) {
		if (y->domain == s->domain && y->type == ITR_REC_MEM_READ &&
		    y->len >= ITR_PL_MEM_READ) {
			uint64_t gpa = itr_get64(y->payload);
			int32_t res = (int32_t)itr_get32(y->payload + 8);
			uint32_t c = y->len - ITR_PL_MEM_READ;
			rp_mem_record(&s->mem, gpa, y->payload + ITR_PL_MEM_READ, c, res < 0);
			if (s->o.assign_all && c == ITS_CMD_BYTES && res >= 0 && gpa >= qbase &&
			    y->payload[ITR_PL_MEM_READ] == ITS_OP_MAPD)
				rp_assign_before_map(s, itr_get32(y->payload + ITR_PL_MEM_READ + 4));
		} else if (y->domain == s->domain && y->type == ITR_REC_CMD &&
			   y->len >= ITR_PL_CMD) {
			if (s->nwin_cmds < sizeof(s->win_reasons))
				s->win_reasons[s->nwin_cmds++] = y->payload[3];
			if (s->o.assign_all && y->payload[4] == ITS_OP_MAPD)
				rp_assign_before_map(s, itr_get32(y->payload + 8));
		}
		j++;
	}
	return j;
}

static void oracle_now(struct rp_session *s)
{
	if (!s->ref || s->res->oracle_msg[0])
		return;
	char msg[400];
	s->res->oracle_run = 1;
	if (rp_equiv_check(s, msg, sizeof(msg)))
		snprintf(s->res->oracle_msg, sizeof(s->res->oracle_msg), "after %llu guest "
			 "commands: %s", (unsigned long long)s->cmd_events, msg);
}

/* A teardown physical command (cause 2) of this domain? */
static bool is_teardown(const struct rp_session *s, const struct itr_rec *r)
{
	return r && r->domain == s->domain && r->type == ITR_REC_PHYS_CMD &&
	       r->len >= ITR_PL_PHYS_CMD && r->payload[0] == VITS_CAUSE_TEARDOWN;
}

/* Outputs with no input at the cursor that are the teardown of an unassignment: the
 * engine records the unassignment (ASSIGN, assigned 0) when it is done, after the
 * physical commands it sent.  Returns its window position, or 0 when the teardown
 * at the cursor is not followed by one. */
static size_t unassign_after_teardown(struct rp_session *s)
{
	const struct itr_rec *y;
	size_t j = 0;
	bool any = false;
	while ((y = rp_peek(&s->st, j)) &&
	       (is_teardown(s, y) || rp_is_meta(y->type) || y->domain != s->domain)) {
		any |= is_teardown(s, y);
		j++;
	}
	if (!any || !y || y->type != ITR_REC_ASSIGN || y->len < ITR_PL_ASSIGN || y->payload[8])
		return 0;
	return j;
}

/* Outputs with no input that are physical commands ending in a teardown (a reset
 * flushes what waits for physical room, then tears down): a reset of the engine (a
 * guest reboot, or the end of a fuzz run), which the format holds no record for.
 * Unless the last input was an unassignment and only physical work waits: then the
 * recorded embedder resumed a teardown that met a full physical queue.  Commands in
 * the guest queue do not argue for a resume, as a reset drops them. */
static bool reset_here(struct rp_session *s)
{
	const struct itr_rec *r;
	size_t k = 0;
	while ((r = rp_peek(&s->st, k)) && (r->domain != s->domain || rp_is_meta(r->type)))
		k++;
	while ((r = rp_peek(&s->st, k)) && r->domain == s->domain &&
	       r->type == ITR_REC_PHYS_CMD && !is_teardown(s, r))
		k++;
	if (!is_teardown(s, r))
		return false;
	struct vits_queue_info q;
	bool queue = !vits_query_queue(s->v, &q) && q.enabled && q.size && !q.stalled &&
		     q.creadr != q.cwriter;
	return !s->last_unassign || queue || !vits_work_pending(s->v);
}

static void infer_reset(struct rp_session *s)
{
	if (s->reset_noted)
		s->reset_noted = false;
	else
		s->res->inferred_resets++;
	vits_reset(s->v);
	if (s->ref)
		ref_reset(s->ref);
	s->ninj = 0;
	s->cbaser = s->baser0 = 0;
	s->enabled = false;
}

/* Inputs mode: did the recorded call whose outputs end at window position end hold
 * a teardown the input does not explain (an unassignment does)? */
static bool window_resets(struct rp_session *s, const struct itr_rec *in, size_t end)
{
	if (in && in->type == ITR_REC_ASSIGN)
		return false;
	for (size_t i = 0; i < end; i++)
		if (is_teardown(s, rp_peek(&s->st, i)))
			return true;
	return false;
}

/* One engine call: returns 0 to go on, 1 at the end, < 0 on a fatal error. */
static int step(struct rp_session *s)
{
	settle(s);
	if (s->stop)
		return 1;
	const struct itr_rec *r = rp_peek(&s->st, 0);
	if (!r)
		return 1;
	if (s->reset_noted) {
		/* The recorded embedder reset the engine here: what it tore down, if
		 * anything, is this call's output.  Without the note a reset is inferred
		 * from a teardown no input explains (reset_here), which a reset with
		 * nothing physical mapped does not leave. */
		s->win_end = prescan(s, 0);
		s->in_call = true;
		s->input_index = UINT64_MAX;
		infer_reset(s);
		s->in_call = false;
		return 0;
	}
	if (s->o.snapshot_every && input_here(s, r))
		rp_snap_capture_point(s, r);
	size_t k = 0;
	const struct itr_rec *x = NULL;
	if (input_here(s, r)) {
		x = r;
	} else if (s->o.mode == RP_MODE_INPUTS) {
		/* Outside any call (a trace cut at its start, or minimized): still
		 * guest memory the recorded engine saw. */
		if (r->type == ITR_REC_MEM_READ && r->domain == s->domain &&
		    r->len >= ITR_PL_MEM_READ)
			rp_mem_record(&s->mem, itr_get64(r->payload), r->payload + ITR_PL_MEM_READ,
				      r->len - ITR_PL_MEM_READ, (int32_t)itr_get32(r->payload + 8) < 0);
		consume(s);
		return 0;
	} else {
		/* Outputs at the cursor.  An MSI's or host LPI's injections precede it. */
		while ((x = rp_peek(&s->st, k)) &&
		       ((x->type == ITR_REC_INJECT && x->domain == s->domain) ||
			rp_is_meta(x->type) || rp_is_effect(x->type) || x->domain != s->domain))
			k++;
		r = rp_peek(&s->st, 0);
		size_t ua = unassign_after_teardown(s);
		if (ua) {
			k = ua;                 /* the unassignment, after its teardown */
			x = rp_peek(&s->st, k);
		} else if (!(x && x->domain == s->domain &&
			     (x->type == ITR_REC_MSI || x->type == ITR_REC_HOST_LPI))) {
			x = NULL;
			k = 0;
			if (reset_here(s)) {
				s->win_end = prescan(s, 0);
				s->in_call = true;
				s->input_index = UINT64_MAX;
				uint64_t before = s->res->records;
				infer_reset(s);
				s->in_call = false;
				if (!s->stop && s->res->records == before) {
					/* The reset tore down nothing the trace holds. */
					r = rp_peek(&s->st, 0);
					char exp[RP_TEXT];
					rp_format_rec(r, exp, sizeof(exp));
					rp_diverge(s, RP_DIV_MISSING, r, "the trace holds an output "
						   "the engine did not produce", exp, "nothing");
					return 1;
				}
				return 0;
			}
			if (!vits_work_pending(s->v)) {
				char exp[RP_TEXT];
				rp_format_rec(r, exp, sizeof(exp));
				rp_diverge(s, RP_DIV_MISSING, r, "the trace holds an output the engine "
					   "did not produce", exp, "nothing");
				return 1;
			}
		}
	}
	/* The input, copied: the window may move while it grows or is consumed. */
	struct itr_rec in;
	uint8_t inbuf[64];
	if (x) {
		in = *x;
		in.len = x->len > sizeof(inbuf) ? (uint32_t)sizeof(inbuf) : x->len;
		memcpy(inbuf, x->payload, in.len);
		in.payload = inbuf;
	}
	/* The call's window. */
	s->win_end = prescan(s, x ? k + 1 : 0);
	s->in_call = true;
	s->call_cmds = 0;
	int rc = 0;
	if (x) {
		s->input_index = in.index;
		s->last_unassign = in.type == ITR_REC_ASSIGN && in.len >= ITR_PL_ASSIGN &&
				   !in.payload[8];
		rc = rp_engine_feed(s, &in);
	} else {
		s->input_index = UINT64_MAX;
		s->res->implicit_resumes++;
		uint64_t before = s->res->records;
		vits_resume(s->v);
		if (!s->stop && s->res->records == before) {
			/* The engine had work but produced nothing the trace holds here. */
			r = rp_peek(&s->st, 0);
			char exp[RP_TEXT];
			rp_format_rec(r, exp, sizeof(exp));
			rp_diverge(s, RP_DIV_MISSING, r, "the trace holds an output the engine did not "
				   "produce", exp, "nothing");
		}
	}
	s->in_call = false;
	if (rc < 0)
		return rc;
	if (x && s->o.mode == RP_MODE_COMPARE && !s->stop) {
		/* The engine reports every input it takes (its echo was compared); an
		 * input still in the window was not taken: a malformed record (skipped),
		 * or a divergence. */
		for (size_t j = 0; j <= k; j++) {
			const struct itr_rec *y = rp_peek(&s->st, j);
			if (!y || y->index != in.index)
				continue;
			if (rc == 1 && j == 0) {
				consume(s);
			} else {
				char exp[RP_TEXT];
				y = rp_peek(&s->st, 0);
				rp_format_rec(y, exp, sizeof(exp));
				rp_diverge(s, RP_DIV_MISSING, y, "the engine did not take the recorded "
					   "input (or produce what precedes it)", exp, "nothing");
			}
			break;
		}
	}
	if (s->o.mode == RP_MODE_INPUTS) {
		/* Skip what the recorded engine produced; run the physical side. */
		bool reset = window_resets(s, x ? &in : NULL, s->win_end);
		for (size_t i = 0; i < s->win_end && rp_peek(&s->st, 0); i++)
			consume(s);
		if (reset)
			infer_reset(s);
		rp_phys_pump(s->phys, s->v, s->host);
		if (s->ref && s->o.oracle_every && s->cmd_events >= s->next_oracle) {
			oracle_now(s);
			s->next_oracle = s->cmd_events + s->o.oracle_every;
		}
	}
	return 0;
}

static void totals(struct rp_session *s)
{
	struct rp_result *res = s->res;
	struct vits_stats st;
	if (!s->v || vits_get_stats(s->v, &st))
		return;
	rp_snap_adjust_stats(s, &st);
	rp_fingerprint_v1(s->v, res->final_fp, sizeof(res->final_fp));
	rp_snap_adjust_fp(s, res->final_fp);
	res->guest_commands = st.guest_cmd_total;
	res->physical_commands = st.phys_cmd_total - st.phys_by_cause[VITS_CAUSE_TEARDOWN];
	res->global_commands = st.phys_global_cmds;
	res->physical_syncs = st.phys_cmds[ITS_IDX_SYNC];
	for (int i = 0; i < ITS_IDX_COUNT; i++) {
		res->phys_by_cmd[i] = st.phys_cmds[i];
		res->guest_by_cmd[i] = st.guest_cmds[i];
	}
	res->injections = st.injections;
	res->host_lpis = st.host_lpis;
	res->spurious_host_lpis = st.host_lpis_spurious;
	res->phys_queue_full = st.phys_queue_full;
	res->prop_writes = st.prop_traps;
	res->assigned_all = s->o.assign_all;
	res->devices_assigned = s->nassigned;
	res->amplification = res->guest_commands ?
		(double)res->physical_commands / (double)res->guest_commands : 0.0;
	if (s->phys)
		res->phys_errors = rp_phys_findings(s->phys, NULL, 0);
}

struct dmg {
	struct rp_result *res;
};

static void on_damage(void *ctx, const struct itr_damage *d)
{
	struct dmg *g = ctx;
	if (!g->res->damaged)
		snprintf(g->res->damage_msg, sizeof(g->res->damage_msg), "damaged (%s) at byte %llu: "
			 "%s", itr_damage_name(d->kind), (unsigned long long)d->offset, d->what);
	g->res->damaged = 1;
}

int rp_replay(const char *path, const struct rp_memtrace *t, const struct rp_opts *o,
	      struct rp_result *res, char *msg, size_t msglen)
{
	char dummy[8];
	if (!msg || !msglen) {
		msg = dummy;
		msglen = sizeof(dummy);
	}
	msg[0] = 0;
	if (!res || !o || o->sz != sizeof(*o) || (!path && !t))
		return RP_E_INVAL;
	memset(res, 0, sizeof(*res));
	struct rp_session *s = calloc(1, sizeof(*s));
	if (!s)
		return RP_E_NOMEM;
	s->o = *o;
	s->res = res;
	s->msg = msg;
	s->msglen = msglen;
	s->last_inferred_index = UINT64_MAX;
	s->input_index = UINT64_MAX;
	rp_mem_init(&s->mem);
	struct dmg g = { res };
	struct itr_reader_opts ro = { .sz = sizeof(ro), .on_damage = on_damage, .ctx = &g };
	int rc = 0;
	if (path) {
		if (rp_stream_open_file(&s->st, path, &ro, msg, msglen)) {
			free(s);
			return RP_E_TRACE;
		}
	} else {
		rp_stream_open_mem(&s->st, t);
	}
	s->h = *rp_stream_header(&s->st);
	if (o->domain >= 0)
		s->domain = (uint16_t)o->domain;
	else if (s->h.nr_domains)
		s->domain = s->h.domains[0].id;
	rc = rp_engine_build(s);
	if (rc == 0 && (o->start_snapshot || o->start_at >= 0))
		rc = rp_snap_start(s);
	if (rc == 0) {
		while ((rc = step(s)) == 0) {
			if (o->max_records && res->records >= o->max_records)
				break;
		}
		if (rc > 0)
			rc = 0;
		if (rc == 0 && !s->stop && s->st.overflow) {
			snprintf(msg, msglen, "more than %u records without an input: not a trace "
				 "replay can follow", RP_WINDOW_MAX);
			rc = RP_E_TRACE;
		}
		if (rc == 0 && s->ref && !res->diverged) {
			oracle_now(s);
			res->oracle_ok = !res->oracle_msg[0];
		}
		totals(s);
		if (rc == 0 && (res->damaged || s->st.err < 0)) {
			if (!res->damaged)
				snprintf(res->damage_msg, sizeof(res->damage_msg), "%s",
					 itr_strerror(s->st.err));
			snprintf(msg, msglen, "%s", res->damage_msg);
			rc = RP_E_DAMAGED;
		}
	}
	rp_engine_destroy(s);
	rp_snap_free(s);
	rp_stream_close(&s->st);
	rp_mem_free(&s->mem);
	free(s->assigned);
	free(s->assigned_pd);
	rp_map_free(&s->rec_plpi);
	free(s->inj);
	free(s);
	return rc;
}

int rp_whatif(const char *path, const struct rp_memtrace *t, int policy,
	      const struct rp_opts *o, struct rp_result *res, char *msg, size_t msglen)
{
	if (!o || o->sz != sizeof(*o) || policy < 0 || policy >= VITS_POLICY_COUNT)
		return RP_E_INVAL;
	struct rp_opts w = *o;
	w.mode = RP_MODE_INPUTS;
	w.policy = policy;
	if (w.with_host < 0)
		w.with_host = 1;
	return rp_replay(path, t, &w, res, msg, msglen);
}
