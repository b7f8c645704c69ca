/*
 * engine_queue: the command queue of docs/semantics.md "Command queue": every size
 * from 1 to 256 pages, CWRITER at the last slot, wrap, CWRITER == size and beyond,
 * CBASER changes, budget + vits_resume keeping order, vits_work_pending, stall mode
 * (stall, Retry, recovery by CBASER rewrite), skip mode, memory faults while reading
 * a command, and "each command between old CREADR and CWRITER runs exactly once, in
 * order, across wrap" (checked from the VITS_EV_CMD trace events).
 *
 * Commands are tagged: MAPC ICID i -> vCPU 0 with cid_bits 16, so each command event
 * names its own position in the submitted sequence.
 */
#include "eng.h"

#include <stdlib.h>
#include <string.h>

static struct eng *new_engine(unsigned pages, uint32_t budget, uint8_t mode, bool init)
{
	struct eng_opts o;
	eng_opts_default(&o);
	o.hc.vits.cid_bits = 16;
	o.hc.vits.budget = budget;
	o.hc.vits.error_mode = mode;
	o.queue_pages = pages;
	o.no_guest_init = !init;
	return eng_new(&o);
}

static struct its_cmd tag(uint32_t i)
{
	return its_mk_mapc(i & 0xffff, 0, 1);
}

static uint64_t cbaser(uint64_t gpa, unsigned pages)
{
	uint64_t v = GITS_FIELD_SET(0, CBASER, VALID, 1);
	v = GITS_FIELD_SET(v, CBASER, SIZE, pages - 1);
	return v | (gpa & GITS_FIELD_MASK(CBASER, PA));
}

/* Check the command events recorded from index `from`: exactly n, with tags
 * first..first+n-1 at the expected queue offsets (start + 32 k mod size). */
static void check_tagged_run(struct eng *e, size_t from, uint32_t first, size_t n, uint32_t start,
			     uint32_t size, const char *what)
{
	size_t k = 0;
	bool order_ok = true;
	for (size_t i = from; i < e->rec.n; i++) {
		const struct vits_event *ev = &e->rec.ev[i];
		if (ev->type == VITS_EV_CMD) {
			if (k < n) {
				uint32_t want_off = (uint32_t)((start + 32ull * k) % size);
				if (ev->u.cmd.offset != want_off ||
				    its_cmd_get_icid(&ev->u.cmd.cmd) != ((first + k) & 0xffff) ||
				    ev->u.cmd.outcome != VITS_CMD_OK) {
					if (order_ok)
						CHECK_EQ(((uint64_t)want_off << 32) | ((first + k) & 0xffff),
							 ((uint64_t)ev->u.cmd.offset << 32) |
								 its_cmd_get_icid(&ev->u.cmd.cmd),
							 "%s: command %zu (offset<<32 | tag)", what, k);
					order_ok = false;
				}
			}
			k++;
		}
		if (ev->type == VITS_EV_CREADR) {
			CHECK(ev->u.creadr.creadr < size && ev->u.creadr.creadr % 32 == 0,
			      "%s: CREADR 0x%x inside the queue and aligned", what, ev->u.creadr.creadr);
		}
	}
	CHECK_EQ(n, k, "%s: number of commands run", what);
	CHECK(order_ok, "%s: each command once, in order", what);
}

/* Every size 1..256 pages: CWRITER == size and beyond are ignored, CWRITER at the last
 * slot runs everything before it, then CWRITER = 0 runs the last slot and wraps. */
static void test_all_sizes(void)
{
	struct eng *e = new_engine(1, 0, VITS_ERRMODE_SKIP, false);
	if (!e)
		return;
	e->record = false;
	eng_wr(e, GITS_CTLR, 4, 1);
	unsigned bad = 0;
	for (unsigned pages = 1; pages <= ITS_CMDQ_MAX_PAGES; pages++) {
		uint32_t size = pages * 4096;
		harness_reset(e->h);
		eng_wr(e, GITS_CTLR, 4, 0);
		eng_wr(e, GITS_CBASER, 8, cbaser(ENG_QUEUE_GPA, pages));
		eng_wr(e, GITS_CWRITER, 8, 0);
		eng_wr(e, GITS_CTLR, 4, 1);
		/* Slots hold SYNC 0, except a tag in the first and the last slot. */
		for (uint32_t off = 0; off < size; off += 32)
			eng_put_slot(e, ENG_QUEUE_GPA, off, its_mk_sync(0));
		eng_put_slot(e, ENG_QUEUE_GPA, 0, tag(1));
		eng_put_slot(e, ENG_QUEUE_GPA, size - 32, tag(2));

		struct vits_stats s0 = eng_stats(e);
		uint64_t ign = s0.ignored_writes;
		if (size < (1u << 20)) {
			eng_wr(e, GITS_CWRITER, 8, size);
			eng_wr(e, GITS_CWRITER, 8, size + 32);
			eng_wr(e, GITS_CWRITER, 8, 0xfffe0);   /* largest Offset */
			ign += 3;
		}
		struct vits_stats s1 = eng_stats(e);
		bad += s1.ignored_writes != ign;
		bad += s1.guest_cmd_total != s0.guest_cmd_total;
		bad += eng_rd(e, GITS_CWRITER, 8) != 0;

		eng_wr(e, GITS_CWRITER, 8, size - 32);
		struct vits_stats s2 = eng_stats(e);
		bad += s2.guest_cmd_total - s1.guest_cmd_total != size / 32 - 1;
		bad += eng_rd(e, GITS_CREADR, 8) != size - 32;
		bad += s2.cmd_errors != s1.cmd_errors;
		uint32_t v;
		bad += vits_query_collection(e->v, 1, &v) != 0;
		bad += vits_query_collection(e->v, 2, &v) != VITS_E_NOENT;

		eng_wr(e, GITS_CWRITER, 8, 0);
		struct vits_stats s3 = eng_stats(e);
		bad += s3.guest_cmd_total - s2.guest_cmd_total != 1;
		bad += eng_rd(e, GITS_CREADR, 8) != 0;
		bad += vits_query_collection(e->v, 2, &v) != 0;
		EXPECT_OK(e, its_mk_mapc(2, 0, 0), "reset tag");
		if (bad) {
			CHECK_EQ(0, bad, "queue of %u pages", pages);
			bad = 0;
		} else {
			check_passed++;
		}
	}
	eng_free(e);
}

/* Wrap with a full-ish queue through the driver: 1000 commands through 128 slots. */
static void test_wrap_driver(void)
{
	struct eng *e = new_engine(1, 0, VITS_ERRMODE_SKIP, true);
	if (!e)
		return;
	struct its_cmd *c = calloc(1000, sizeof(*c));
	for (uint32_t i = 0; i < 1000; i++)
		c[i] = tag(i);
	size_t mark = e->rec.n;
	CHECK_EQ(0, harness_submit(e->h, c, 1000), "submit 1000 commands");
	check_tagged_run(e, mark, 0, 1000, 0, 4096, "1000 commands through a 1-page queue");
	CHECK_EQ((1000 * 32) % 4096, eng_rd(e, GITS_CREADR, 8), "CREADR after wrap");
	free(c);
	eng_free(e);
}

/* Old CREADR near the end; the commands up to CWRITER past the wrap each run once. */
static void test_wrap_window(void)
{
	struct eng *e = new_engine(2, 0, VITS_ERRMODE_SKIP, false);
	if (!e)
		return;
	uint32_t size = 8192;
	eng_wr(e, GITS_CBASER, 8, cbaser(ENG_QUEUE_GPA, 2));
	eng_wr(e, GITS_CTLR, 4, 1);
	for (uint32_t off = 0; off < size; off += 32)
		eng_put_slot(e, ENG_QUEUE_GPA, off, its_mk_sync(0));
	eng_wr(e, GITS_CWRITER, 8, size - 5 * 32);   /* CREADR goes to slot size/32 - 5 */
	CHECK_EQ(size - 5 * 32, eng_rd(e, GITS_CREADR, 8), "CREADR near the end");
	/* 20 tagged commands from the old CREADR across the wrap. */
	for (uint32_t k = 0; k < 20; k++)
		eng_put_slot(e, ENG_QUEUE_GPA, (size - 5 * 32 + 32 * k) % size, tag(100 + k));
	size_t mark = e->rec.n;
	eng_wr(e, GITS_CWRITER, 8, 15 * 32);
	check_tagged_run(e, mark, 100, 20, size - 5 * 32, size, "window across the wrap");
	CHECK_EQ(15 * 32, eng_rd(e, GITS_CREADR, 8), "CREADR == CWRITER after the window");
	/* Writing the same CWRITER again runs nothing. */
	mark = e->rec.n;
	eng_wr(e, GITS_CWRITER, 8, 15 * 32);
	CHECK_EQ(0, eng_count_type(e, VITS_EV_CMD, mark), "same CWRITER runs nothing");
	/* CWRITER at CREADR - 32 (full queue) runs size/32 - 1 commands. */
	for (uint32_t off = 0; off < size; off += 32)
		eng_put_slot(e, ENG_QUEUE_GPA, off, its_mk_sync(1));
	mark = e->rec.n;
	eng_wr(e, GITS_CWRITER, 8, 14 * 32);
	CHECK_EQ(size / 32 - 1, eng_count_type(e, VITS_EV_CMD, mark), "a full queue runs size/32 - 1");
	eng_free(e);
}

static void test_cbaser_changes(void)
{
	struct eng *e = new_engine(1, 0, VITS_ERRMODE_SKIP, false);
	if (!e)
		return;
	uint64_t q2 = ENG_QUEUE_GPA + 0x80000;
	eng_wr(e, GITS_CBASER, 8, cbaser(ENG_QUEUE_GPA, 1));
	eng_wr(e, GITS_CTLR, 4, 1);
	for (uint32_t k = 0; k < 4; k++)
		eng_put_slot(e, ENG_QUEUE_GPA, 32 * k, tag(10 + k));
	eng_wr(e, GITS_CWRITER, 8, 4 * 32);
	CHECK_EQ(0x80, eng_rd(e, GITS_CREADR, 8), "first queue ran");

	/* Move the queue while disabled: CREADR 0, CWRITER kept, the new queue runs 0..CWRITER. */
	eng_wr(e, GITS_CTLR, 4, 0);
	eng_wr(e, GITS_CBASER, 8, cbaser(q2, 4));
	CHECK_EQ(0, eng_rd(e, GITS_CREADR, 8), "CREADR 0 after CBASER");
	CHECK_EQ(0x80, eng_rd(e, GITS_CWRITER, 8), "CWRITER kept");
	for (uint32_t k = 0; k < 4; k++)
		eng_put_slot(e, q2, 32 * k, tag(20 + k));
	size_t mark = e->rec.n;
	eng_wr(e, GITS_CTLR, 4, 1);
	check_tagged_run(e, mark, 20, 4, 0, 4 * 4096, "new queue after CBASER change");
	struct vits_queue_info qi;
	vits_query_queue(e->v, &qi);
	CHECK_EQ(4 * 4096, qi.size, "query_queue size");
	CHECK_EQ(0x80, qi.creadr, "query_queue creadr");

	/* While enabled, a CBASER write is ignored and the queue keeps running. */
	eng_wr(e, GITS_CBASER, 8, cbaser(ENG_QUEUE_GPA, 1));
	CHECK_EQ(cbaser(q2, 4), eng_rd(e, GITS_CBASER, 8), "CBASER ignored while enabled");
	eng_put_slot(e, q2, 0x80, tag(30));
	mark = e->rec.n;
	eng_wr(e, GITS_CWRITER, 8, 0xa0);
	check_tagged_run(e, mark, 30, 1, 0x80, 4 * 4096, "queue runs from the old CBASER");

	/* CBASER invalid: nothing runs; CWRITER writes other than 0 are ignored. */
	eng_wr(e, GITS_CTLR, 4, 0);
	eng_wr(e, GITS_CBASER, 8, 0);
	eng_wr(e, GITS_CTLR, 4, 1);
	uint64_t ign = eng_stats(e).ignored_writes;
	eng_wr(e, GITS_CWRITER, 8, 0x20);
	CHECK_EQ(0, eng_rd(e, GITS_CWRITER, 8), "CWRITER != 0 with CBASER invalid ignored");
	CHECK_EQ(ign + 1, eng_stats(e).ignored_writes, "counted in ignored_writes");
	eng_wr(e, GITS_CWRITER, 8, 0);
	CHECK_EQ(ign + 1, eng_stats(e).ignored_writes, "CWRITER 0 with CBASER invalid accepted");
	CHECK_EQ(0, vits_work_pending(e->v), "no work with CBASER invalid");
	eng_free(e);
}

static void test_budget(void)
{
	struct eng *e = new_engine(1, 3, VITS_ERRMODE_SKIP, true);
	if (!e)
		return;
	struct its_cmd c[10];
	for (uint32_t i = 0; i < 10; i++)
		c[i] = tag(i);
	size_t mark = e->rec.n;
	for (uint32_t i = 0; i < 10; i++)
		harness_queue_cmd(e->h, &c[i]);
	harness_kick(e->h);
	CHECK_EQ(3, eng_count_type(e, VITS_EV_CMD, mark), "budget 3: the CWRITER write ran 3");
	CHECK_EQ(3 * 32, eng_rd(e, GITS_CREADR, 8), "CREADR after the budget");
	CHECK_EQ(1, vits_work_pending(e->v), "work pending");
	CHECK_EQ(3, vits_resume(e->v), "resume ran 3");
	CHECK_EQ(1, vits_work_pending(e->v), "still pending");
	/* A new CWRITER write while work waits just moves the target (and runs a budget). */
	struct its_cmd more[5];
	for (uint32_t i = 0; i < 5; i++) {
		more[i] = tag(10 + i);
		harness_queue_cmd(e->h, &more[i]);
	}
	harness_kick(e->h);
	CHECK_EQ(9, eng_count_type(e, VITS_EV_CMD, mark), "kick ran one more budget");
	CHECK_EQ(3, vits_resume(e->v), "resume 3");
	CHECK_EQ(3, vits_resume(e->v), "resume 3");
	CHECK_EQ(0, vits_work_pending(e->v) ? 1 : 0, "15 done: nothing pending");
	CHECK_EQ(0, vits_resume(e->v), "resume with nothing waiting returns 0");
	check_tagged_run(e, mark, 0, 15, 0, 4096, "budgeted run keeps order");

	/* Disabled: nothing pending, resume runs nothing; enabling runs one budget. */
	harness_enable(e->h, false);
	for (uint32_t i = 0; i < 5; i++) {
		more[i] = tag(20 + i);
		harness_queue_cmd(e->h, &more[i]);
	}
	mark = e->rec.n;
	harness_kick(e->h);
	CHECK_EQ(0, vits_work_pending(e->v), "disabled: no work pending");
	CHECK_EQ(0, vits_resume(e->v), "disabled: resume runs nothing");
	CHECK_EQ(0, eng_count_type(e, VITS_EV_CMD, mark), "disabled: nothing ran");
	harness_enable(e->h, true);
	CHECK_EQ(3, eng_count_type(e, VITS_EV_CMD, mark), "enable ran one budget");
	CHECK_EQ(2, vits_resume(e->v), "resume ran the rest");
	check_tagged_run(e, mark, 20, 5, 15 * 32, 4096, "order after enable + resume");
	eng_free(e);

	/* Budget across the wrap. */
	e = new_engine(1, 7, VITS_ERRMODE_SKIP, true);
	if (!e)
		return;
	struct its_cmd big[300];
	for (uint32_t i = 0; i < 300; i++)
		big[i] = tag(i);
	mark = e->rec.n;
	uint32_t sent = 0;
	while (sent < 300) {
		if (harness_queue_cmd(e->h, &big[sent]) == 0) {
			sent++;
			continue;
		}
		harness_kick(e->h);
		while (vits_work_pending(e->v))
			vits_resume(e->v);
	}
	harness_kick(e->h);
	int guard = 1000;
	while (vits_work_pending(e->v) && guard--)
		vits_resume(e->v);
	check_tagged_run(e, mark, 0, 300, 0, 4096, "budget 7 across wraps");
	eng_free(e);
}

static void test_stall(void)
{
	struct eng *e = new_engine(1, 0, VITS_ERRMODE_STALL, true);
	if (!e)
		return;
	struct its_cmd c[3] = { tag(1), its_mk(0xff), tag(3) };
	size_t mark = e->rec.n;
	harness_submit(e->h, c, 3);
	CHECK_EQ(0x20 | 1, eng_rd(e, GITS_CREADR, 8), "stalled on the second command");
	CHECK_EQ(2, eng_count_type(e, VITS_EV_CMD, mark), "two commands processed");
	CHECK_EQ(VITS_CMD_STALLED, e->last_cmd.u.cmd.outcome, "outcome STALLED");
	CHECK_EQ(VITS_R_UNKNOWN_OPCODE, e->last_cmd.u.cmd.reason, "reason");
	CHECK_EQ(1, eng_stats(e).stalls, "stalls counted");
	CHECK_EQ(0, vits_work_pending(e->v), "stalled: no work pending");
	CHECK_EQ(0, vits_resume(e->v), "stalled: resume runs nothing");
	uint32_t v;
	CHECK_EQ(VITS_E_NOENT, vits_query_collection(e->v, 3, &v), "third command did not run");
	struct vits_queue_info qi;
	vits_query_queue(e->v, &qi);
	CHECK_EQ(1, qi.stalled, "query_queue stalled");

	/* A CWRITER write without Retry runs nothing. */
	mark = e->rec.n;
	eng_wr(e, GITS_CWRITER, 8, 0x60);
	CHECK_EQ(0, eng_count_type(e, VITS_EV_CMD, mark), "CWRITER without Retry while stalled");
	CHECK_EQ(0x21, eng_rd(e, GITS_CREADR, 8), "still stalled");
	/* Retry of the same bad command stalls again. */
	eng_wr(e, GITS_CWRITER, 8, 0x60 | 1);
	CHECK_EQ(1, eng_count_type(e, VITS_EV_CMD, mark), "Retry re-ran the command");
	CHECK_EQ(0x21, eng_rd(e, GITS_CREADR, 8), "stalled again");
	CHECK_EQ(2, eng_stats(e).stalls, "stalls 2");
	/* The guest fixes the slot and retries: it runs, and so does the rest. */
	eng_put_slot(e, ENG_QUEUE_GPA, 0x20, tag(2));
	mark = e->rec.n;
	eng_wr(e, GITS_CWRITER, 4, 0x60 | 1);       /* 32-bit write with Retry */
	check_tagged_run(e, mark, 2, 2, 0x20, 4096, "retry after fixing the slot");
	CHECK_EQ(0x60, eng_rd(e, GITS_CREADR, 8), "drained, Stalled clear");
	/* Retry when not stalled is harmless. */
	eng_wr(e, GITS_CWRITER, 8, 0x60 | 1);
	CHECK_EQ(0x60, eng_rd(e, GITS_CREADR, 8), "Retry when not stalled");

	/* Recovery by disabling and rewriting CBASER. */
	struct its_cmd d[2] = { its_mk(0x2e), tag(4) };
	harness_submit(e->h, d, 2);
	CHECK_EQ(0x61, eng_rd(e, GITS_CREADR, 8), "stalled on INVDB");
	harness_enable(e->h, false);
	CHECK_EQ(0x61, eng_rd(e, GITS_CREADR, 8), "disabling keeps the stall");
	eng_wr(e, GITS_CBASER, 8, e->h->drv.cbaser);
	CHECK_EQ(0, eng_rd(e, GITS_CREADR, 8), "CBASER rewrite: CREADR 0, Stalled 0");
	for (uint32_t off = 0; off < 0xa0; off += 32)
		eng_put_slot(e, ENG_QUEUE_GPA, off, tag(50 + off / 32));
	mark = e->rec.n;
	harness_enable(e->h, true);
	check_tagged_run(e, mark, 50, 5, 0, 4096, "queue runs again from 0 after recovery");
	eng_free(e);
}

static void test_skip(void)
{
	struct eng *e = new_engine(1, 0, VITS_ERRMODE_SKIP, true);
	if (!e)
		return;
	struct its_cmd c[4] = { tag(1), its_mk(0xff), its_mk_sync(99), tag(4) };
	size_t mark = e->rec.n;
	harness_submit(e->h, c, 4);
	CHECK_EQ(0x80, eng_rd(e, GITS_CREADR, 8), "skip mode: CREADR past every command");
	CHECK_EQ(4, eng_count_type(e, VITS_EV_CMD, mark), "four processed");
	uint8_t out[4] = { 9, 9, 9, 9 };
	size_t k = 0;
	for (size_t i = mark; i < e->rec.n; i++)
		if (e->rec.ev[i].type == VITS_EV_CMD && k < 4)
			out[k++] = e->rec.ev[i].u.cmd.outcome;
	CHECK_EQ(VITS_CMD_OK, out[0], "first OK");
	CHECK_EQ(VITS_CMD_SKIPPED, out[1], "second SKIPPED");
	CHECK_EQ(VITS_CMD_SKIPPED, out[2], "third SKIPPED");
	CHECK_EQ(VITS_CMD_OK, out[3], "fourth OK");
	CHECK_EQ(0, eng_stats(e).stalls, "no stall in skip mode");
	eng_free(e);
}

/* A guest-memory fault while reading a command is MEM_FAULT and follows the mode. */
static void test_mem_fault(void)
{
	for (int mode = 0; mode < 2; mode++) {
		struct eng *e = new_engine(1, 0, (uint8_t)mode, false);
		if (!e)
			continue;
		const char *m = mode ? "stall" : "skip";
		eng_wr(e, GITS_CBASER, 8, cbaser(0x1000, 1));     /* below RAM */
		eng_wr(e, GITS_CTLR, 4, 1);
		size_t mark = e->rec.n;
		eng_wr(e, GITS_CWRITER, 8, 0x40);
		CHECK_REASON(VITS_R_MEM_FAULT, e->last_cmd.u.cmd.reason, "%s: queue outside RAM", m);
		CHECK_EQ(0, e->last_cmd.u.cmd.e_its, "%s: MEM_FAULT has no E_ITS code", m);
		CHECK_EQ(mode ? 1 : 2, eng_count_type(e, VITS_EV_CMD, mark), "%s: slots processed", m);
		CHECK_EQ(mode ? 0x01 : 0x40, eng_rd(e, GITS_CREADR, 8), "%s: CREADR", m);
		CHECK_EQ(mode ? 1 : 2, eng_stats(e).errors_by_reason[VITS_R_MEM_FAULT],
			 "%s: MEM_FAULT counted", m);

		/* A 2-page queue whose second page lies past the end of RAM. */
		eng_wr(e, GITS_CTLR, 4, 0);
		uint64_t q = ENG_RAM_END - 4096;
		eng_wr(e, GITS_CBASER, 8, cbaser(q, 2));
		eng_wr(e, GITS_CWRITER, 8, 0);
		for (uint32_t off = 0; off < 4096; off += 32)
			eng_put_slot(e, q, off, its_mk_sync(0));
		eng_put_slot(e, q, 4096 - 32, tag(7));
		eng_wr(e, GITS_CTLR, 4, 1);
		eng_wr(e, GITS_CWRITER, 8, 4096 - 32);
		CHECK_EQ(4096 - 32, eng_rd(e, GITS_CREADR, 8), "%s: first page ran", m);
		mark = e->rec.n;
		eng_wr(e, GITS_CWRITER, 8, 4096 + 32);
		uint32_t v;
		CHECK_EQ(0, vits_query_collection(e->v, 7, &v), "%s: last in-RAM slot ran", m);
		CHECK_REASON(VITS_R_MEM_FAULT, e->last_cmd.u.cmd.reason, "%s: slot past RAM faults", m);
		CHECK_EQ(mode ? 4096 | 1 : 4096 + 32, eng_rd(e, GITS_CREADR, 8),
			 "%s: CREADR after the fault", m);
		CHECK_EQ(2, eng_count_type(e, VITS_EV_CMD, mark), "%s: slots processed", m);
		eng_free(e);
	}
	/* Stall on a fault, then move the queue into RAM and recover. */
	struct eng *e = new_engine(1, 0, VITS_ERRMODE_STALL, false);
	if (!e)
		return;
	eng_wr(e, GITS_CBASER, 8, cbaser(0xfffffffff000ull, 1));
	eng_wr(e, GITS_CTLR, 4, 1);
	eng_wr(e, GITS_CWRITER, 8, 0x20);
	CHECK_EQ(1, eng_rd(e, GITS_CREADR, 8), "stalled on a fault at 2^48 - 4K");
	eng_wr(e, GITS_CTLR, 4, 0);
	eng_wr(e, GITS_CBASER, 8, cbaser(ENG_QUEUE_GPA, 1));
	eng_put_slot(e, ENG_QUEUE_GPA, 0, tag(9));
	eng_wr(e, GITS_CTLR, 4, 1);
	uint32_t v;
	CHECK_EQ(0, vits_query_collection(e->v, 9, &v), "recovered queue ran");
	CHECK_EQ(0x20, eng_rd(e, GITS_CREADR, 8), "CREADR after recovery");
	eng_free(e);
}

int main(void)
{
	test_all_sizes();
	test_wrap_driver();
	test_wrap_window();
	test_cbaser_changes();
	test_budget();
	test_stall();
	test_skip();
	test_mem_fault();
	return check_summary();
}
