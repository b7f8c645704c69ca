/*
 * test_snapshot.c: starting a replay at a snapshot (issue 5, section 5 "Checkpoints").
 *
 * - a long recorded session (no physical side; pending LPIs, MOVI, errors, budgets)
 *   gets SNAPSHOT records (rp_snapshot_trace); the result is format 1.1 and replays
 *   from the start as before;
 * - replay from each snapshot gives the result of the full replay: no divergence,
 *   the same final engine state (fingerprint v1 with the trace's counters), the
 *   fingerprint checkpoints after it equal, every record after it read;
 * - an output altered after a snapshot diverges at the same record and kind whether
 *   replay starts at the beginning or at the snapshot; one altered before it does
 *   not matter to a replay started there;
 * - a corrupted snapshot (bytes, or a state the restore cannot reproduce), a missing
 *   snapshot and a trace with a physical side are errors (exit 2 in the CLI).
 *
 * --fixtures DIR writes the traces tests/replay/snapshot_cli.cmake uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "itr_crc32.h"
#include "itr_writer.h"
#include "replay.h"
#include "tcheck.h"

static struct tstate T;

static struct rp_memtrace *copy(const struct rp_memtrace *o)
{
	struct rp_memtrace *t = rp_memtrace_new(&o->h);
	for (size_t i = 0; t && i < o->n; i++) {
		struct itr_rec r;
		rp_memtrace_get(o, i, &r);
		rp_memtrace_add(t, &r);
	}
	return t;
}

static int replay_from(const struct rp_memtrace *t, uint64_t snap, struct rp_result *res,
		       char *msg, size_t n)
{
	struct rp_opts o;
	rp_opts_default(&o);
	o.start_snapshot = snap;
	return rp_replay(NULL, t, &o, res, msg, n);
}

/* Indexes of the snapshots' first records; returns how many. */
static size_t snapshots(const struct rp_memtrace *t, size_t *at, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->recs[i].type == ITR_REC_SNAPSHOT && !(t->recs[i].flags & ITR_RF_CONT) &&
		    k < max)
			at[k++] = i;
	return k;
}

static size_t after_snapshot(const struct rp_memtrace *t, size_t at)
{
	size_t i = at + 1;
	while (i < t->n && t->recs[i].type == ITR_REC_SNAPSHOT && (t->recs[i].flags & ITR_RF_CONT))
		i++;
	return i;
}

static struct rp_memtrace *session(uint32_t budget, uint32_t rounds)
{
	struct rp_synth_opts so;
	rp_synth_opts_default(&so);
	so.with_host = 0;
	so.rounds = rounds;
	so.events = 8;
	so.budget = budget;
	so.checkpoint_every = 5;
	return rp_synth_session(&so);
}

static void test_equivalence(const char *name, const struct rp_memtrace *s, size_t *at, size_t k)
{
	struct rp_result full, res;
	char msg[512];
	int rc = replay_from(s, 0, &full, msg, sizeof(msg));
	t_ok(&T, rc == 0 && !full.diverged && !full.started_at_snapshot, name,
	     "full replay of the snapshotted trace: rc %d diverged %d (%s)", rc, full.diverged,
	     full.diverged ? full.div.what : msg);
	for (size_t j = 0; j < k; j++) {
		rc = replay_from(s, j + 1, &res, msg, sizeof(msg));
		char what[96];
		snprintf(what, sizeof(what), "%s: from snapshot %zu (record %zu)", name, j + 1, at[j]);
		if (!t_ok(&T, rc == 0 && !res.diverged, what, "rc %d (%s) diverged %d: %s", rc, msg,
			  res.diverged, res.div.what))
			continue;
		t_ok(&T, res.started_at_snapshot && res.start_index == at[j], what,
		     "start index %llu", (unsigned long long)res.start_index);
		t_ok(&T, !memcmp(res.final_fp, full.final_fp, sizeof(full.final_fp)), what,
		     "final engine state differs from the full replay's");
		size_t next = after_snapshot(s, at[j]);
		t_ok(&T, res.records == s->n - next, what, "records read %llu, expected %zu",
		     (unsigned long long)res.records, s->n - next);
		size_t ck = 0;
		for (size_t i = next; i < s->n; i++)
			ck += s->recs[i].type == ITR_REC_CHECKPOINT;
		t_ok(&T, res.checkpoints_checked == ck, what, "checkpoints checked %llu of %zu",
		     (unsigned long long)res.checkpoints_checked, ck);
		/* The same by record index. */
		struct rp_opts o;
		rp_opts_default(&o);
		o.start_at = (int64_t)at[j];
		struct rp_result r2;
		rc = rp_replay(NULL, s, &o, &r2, msg, sizeof(msg));
		t_ok(&T, rc == 0 && !r2.diverged && r2.start_index == at[j] &&
		     !memcmp(r2.final_fp, full.final_fp, sizeof(full.final_fp)), what,
		     "--start-at %zu: rc %d (%s)", at[j], rc, msg);
	}
}

/* Alter an output after snapshot j: same divergence from the start and from j. */
static void test_altered(const struct rp_memtrace *s, size_t *at, size_t k)
{
	static const unsigned types[] = { ITR_REC_INJECT, ITR_REC_CREADR, ITR_REC_CMD,
					  ITR_REC_CHECKPOINT };
	static const unsigned offs[] = { 4, 0, 3, ITR_PL_CHECKPOINT + 20 };
	for (size_t j = 0; j < k; j++) {
		for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
			size_t next = after_snapshot(s, at[j]), i;
			for (i = next + 3 * ti; i < s->n && s->recs[i].type != types[ti]; i++)
				;
			if (i >= s->n)
				continue;
			struct rp_memtrace *a = copy(s);
			a->recs[i].payload[offs[ti]] ^= 0x01;
			struct rp_result full, res;
			char msg[256], what[96];
			replay_from(a, 0, &full, msg, sizeof(msg));
			int rc = replay_from(a, j + 1, &res, msg, sizeof(msg));
			snprintf(what, sizeof(what), "altered %s at %zu after snapshot %zu",
				 itr_rec_type_name(types[ti]), i, j + 1);
			t_ok(&T, rc == 0 && full.diverged && res.diverged &&
			     full.div.index == res.div.index && full.div.kind == res.div.kind, what,
			     "full: %d at %llu (%s); from snapshot: rc %d %d at %llu (%s)",
			     full.diverged, (unsigned long long)full.div.index,
			     rp_div_kind_name(full.div.kind), rc, res.diverged,
			     (unsigned long long)res.div.index, rp_div_kind_name(res.div.kind));
			rp_memtrace_free(a);
		}
	}
	/* Before the last snapshot: the replay started there does not see it. */
	if (k >= 2) {
		struct rp_memtrace *a = copy(s);
		size_t i;
		for (i = 0; i < at[k - 1] && a->recs[i].type != ITR_REC_INJECT; i++)
			;
		a->recs[i].payload[4] ^= 1;
		struct rp_result res;
		char msg[256];
		int rc = replay_from(a, k, &res, msg, sizeof(msg));
		t_ok(&T, i < at[k - 1] && rc == 0 && !res.diverged, "altered before the snapshot",
		     "record %zu: rc %d diverged %d", i, rc, res.diverged);
		rp_memtrace_free(a);
	}
}

/* Body byte off of snapshot j's first chunk (payload offset 8 + off); fix_crc: keep the
 * snapshot's own checksum valid (a state the restore must refuse, not bad bytes). */
static struct rp_memtrace *corrupt(const struct rp_memtrace *s, size_t at, unsigned off,
				   uint8_t x, int fix_crc)
{
	struct rp_memtrace *a = copy(s);
	struct rp_mrec *r = &a->recs[at];
	r->payload[ITR_PL_SNAPSHOT + off] ^= x;
	if (fix_crc) {
		uint32_t total = itr_get32(r->payload);
		if (r->len - ITR_PL_SNAPSHOT == total)      /* one chunk */
			itr_put32(r->payload + ITR_PL_SNAPSHOT + total - 4,
				  itr_crc32c(0, r->payload + ITR_PL_SNAPSHOT, total - 4));
	}
	return a;
}

static void test_errors(const struct rp_memtrace *s, size_t *at, size_t k)
{
	struct rp_result res;
	char msg[512];
	struct rp_memtrace *a = corrupt(s, at[0], 40, 0x10, 0);
	int rc = replay_from(a, 1, &res, msg, sizeof(msg));
	t_ok(&T, rc == RP_E_TRACE && strstr(msg, "checksum"), "corrupted snapshot bytes",
	     "rc %d: %s", rc, msg);
	rc = replay_from(a, 0, &res, msg, sizeof(msg));
	t_ok(&T, rc == 0 && !res.diverged, "a full replay ignores snapshot bytes", "rc %d", rc);
	rp_memtrace_free(a);
	/* GITS_CTLR with ImDe set: RAZ, the restored engine cannot have it. */
	a = corrupt(s, at[0], 4, 0x02, 1);
	rc = replay_from(a, 1, &res, msg, sizeof(msg));
	t_ok(&T, rc == RP_E_TRACE && strstr(msg, "GITS_CTLR"), "snapshot state not reproducible",
	     "rc %d: %s", rc, msg);
	rp_memtrace_free(a);
	/* CREADR beyond the queue. */
	a = corrupt(s, at[k - 1], 64 + 2, 0x80, 1);
	rc = replay_from(a, k, &res, msg, sizeof(msg));
	t_ok(&T, rc < 0 && rc != RP_E_DAMAGED, "snapshot CREADR out of the queue", "rc %d: %s",
	     rc, msg);
	rp_memtrace_free(a);
	rc = replay_from(s, k + 1, &res, msg, sizeof(msg));
	t_ok(&T, rc == RP_E_TRACE && strstr(msg, "no snapshot"), "no such snapshot", "rc %d: %s",
	     rc, msg);
	struct rp_opts o;
	rp_opts_default(&o);
	o.start_at = (int64_t)at[0] + 1;
	rc = rp_replay(NULL, s, &o, &res, msg, sizeof(msg));
	t_ok(&T, rc == RP_E_TRACE, "--start-at a record that is no snapshot", "rc %d: %s", rc, msg);

	/* A physical side: refused. */
	struct rp_synth_opts so;
	rp_synth_opts_default(&so);
	struct rp_memtrace *h = rp_synth_session(&so), *out = NULL;
	rc = rp_snapshot_trace(h, 50, -1, &out, NULL, msg, sizeof(msg));
	t_ok(&T, rc == RP_E_UNSUPPORTED && !out, "physical side refused", "rc %d: %s", rc, msg);
	rp_memtrace_free(h);
}

static void test_file(const struct rp_memtrace *s, const struct rp_memtrace *plain)
{
	/* 1.1 with snapshots, 1.0 without; both read back and replay from a file. */
	const char *p = "test_snapshot_tmp.itr";
	struct rp_memtrace *l = NULL;
	char msg[256];
	int ok = !rp_memtrace_save(s, p) && !rp_memtrace_load(p, &l, msg, sizeof(msg));
	t_ok(&T, ok && l->h.minor == 1 && l->n == s->n, "saved with snapshots: format 1.1",
	     "minor %u", ok ? l->h.minor : 0);
	struct rp_result res;
	struct rp_opts o;
	rp_opts_default(&o);
	o.start_snapshot = 2;
	int rc = rp_replay(p, NULL, &o, &res, msg, sizeof(msg));
	t_ok(&T, rc == 0 && !res.diverged && res.started_at_snapshot, "from snapshot 2 of a file",
	     "rc %d (%s)", rc, msg);
	rp_memtrace_free(l);
	l = NULL;
	ok = !rp_memtrace_save(plain, p) && !rp_memtrace_load(p, &l, msg, sizeof(msg));
	t_ok(&T, ok && l->h.minor == 0, "saved without snapshots: format 1.0", "minor %u",
	     ok ? l->h.minor : 0);
	rp_memtrace_free(l);
	remove(p);
}

/* A session in stall mode: a failing command stalls the queue (MSIs meanwhile), the
 * guest fixes the slot and retries; then the ITS is disabled (MSIs dropped, CWRITER
 * moved while disabled) and enabled again.  Snapshots land in each of these states. */
static struct rp_memtrace *stall_session(void)
{
	struct harness_config hc;
	harness_config_default(&hc);
	hc.vits.error_mode = VITS_ERRMODE_STALL;
	struct harness *h;
	if (harness_create(&hc, &h))
		return NULL;
	struct itr_header hdr;
	itr_header_init(&hdr);
	struct itr_domain dom = { hc.vits.domain_id, 0, hc.vits.nr_vcpus };
	hdr.source = ITR_SRC_SYNTHETIC;
	hdr.policy = ITR_POL_NONE;
	hdr.flags = ITR_HF_NO_TIMESTAMPS | ITR_HF_HAS_OUTCOMES;
	hdr.error_mode = VITS_ERRMODE_STALL;
	hdr.nr_vcpus = hc.vits.nr_vcpus;
	hdr.devid_bits = hc.vits.devid_bits;
	hdr.eventid_bits = hc.vits.eventid_bits;
	hdr.cid_bits = hc.vits.cid_bits;
	hdr.intid_bits = hc.vits.intid_bits;
	hdr.nr_domains = 1;
	hdr.domains = &dom;
	struct rp_memtrace *t = rp_memtrace_new(&hdr);
	h->trace_fn = rp_memtrace_record_event;
	h->trace_ctx = t;
	const uint64_t qgpa = 0x40100000;
	harness_guest_init(h, qgpa, 1, 0x40200000, 8, 4096, false, 0x40400000, 16);
	for (uint32_t round = 0; round < 6; round++) {
		struct its_cmd c[4] = { its_mk_mapc(1, 1, 1), its_mk_mapd(0x10, 3, 0x40300000, 1) };
		harness_submit(h, c, 2);
		for (uint32_t ev = 0; ev < 4; ev++) {
			harness_set_prop(h, 8192 + ev, (ev & 1) ? 0xa2 : 0xa3);
			c[0] = its_mk_mapti(0x10, ev, 8192 + ev, 1);
			harness_submit(h, c, 1);
		}
		c[0] = its_mk_mapc(2, 999, 1);          /* PROCNUM_OOR: the queue stalls */
		c[1] = its_mk_sync(0);
		harness_submit(h, c, 2);
		for (uint32_t ev = 0; ev < 4; ev++)
			vits_msi(h->vits, 0x10, ev);
		struct vits_queue_info q;
		vits_query_queue(h->vits, &q);
		uint8_t b[ITS_CMD_BYTES];
		struct its_cmd fix = its_mk_sync(1);
		its_cmd_to_bytes(&fix, b);
		harness_write_guest(h, qgpa + q.creadr, b, sizeof(b));
		harness_mmio_write(h, GITS_CWRITER, 8, q.cwriter | 1);   /* Retry */
		harness_enable(h, false);
		vits_msi(h->vits, 0x10, 0);                              /* dropped */
		c[0] = its_mk_devev(ITS_OP_DISCARD, 0x10, 3);
		harness_queue_cmd(h, &c[0]);
		harness_kick(h);                                          /* CWRITER moves */
		vits_msi(h->vits, 0x10, 1);
		harness_enable(h, true);                                  /* runs the DISCARD */
		c[0] = its_mk_mapd(0x10, 3, 0x40300000, 0);
		harness_submit(h, c, 1);
	}
	h->trace_fn = NULL;
	harness_destroy(h);
	return t;
}

static int fixtures(const char *dir)
{
	char p[512];
	struct rp_memtrace *t = session(0, 10), *s = NULL;
	if (!t || rp_snapshot_trace(t, 150, -1, &s, NULL, NULL, 0))
		return T_EXIT_BROKEN;
	snprintf(p, sizeof(p), "%s/plain.itr", dir);
	if (rp_memtrace_save(t, p))
		return T_EXIT_BROKEN;
	snprintf(p, sizeof(p), "%s/snap.itr", dir);
	if (rp_memtrace_save(s, p))
		return T_EXIT_BROKEN;
	size_t at[64], k = snapshots(s, at, 64);
	if (k < 3)
		return T_EXIT_BROKEN;
	/* An injection after snapshot 2 altered. */
	struct rp_memtrace *a = copy(s);
	size_t i;
	for (i = after_snapshot(s, at[1]); i < a->n && a->recs[i].type != ITR_REC_INJECT; i++)
		;
	a->recs[i].payload[4] ^= 1;
	snprintf(p, sizeof(p), "%s/snap-altered.itr", dir);
	if (rp_memtrace_save(a, p))
		return T_EXIT_BROKEN;
	printf("altered record %zu\n", i);
	rp_memtrace_free(a);
	a = corrupt(s, at[1], 40, 0x10, 0);
	snprintf(p, sizeof(p), "%s/snap-corrupt.itr", dir);
	if (rp_memtrace_save(a, p))
		return T_EXIT_BROKEN;
	rp_memtrace_free(a);
	rp_memtrace_free(s);
	rp_memtrace_free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--fixtures"))
		return fixtures(argv[2]);
	static const struct { uint32_t budget, rounds, every; const char *name; } cases[] = {
		{ 0, 24, 200, "long session" },
		{ 2, 8, 97, "budget 2" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct rp_memtrace *t = session(cases[c].budget, cases[c].rounds), *s = NULL;
		uint64_t n = 0;
		char msg[256];
		int rc = rp_snapshot_trace(t, cases[c].every, -1, &s, &n, msg, sizeof(msg));
		size_t at[256], k = s ? snapshots(s, at, 256) : 0;
		if (!t_ok(&T, rc == 0 && k >= 3 && k == n, cases[c].name,
			  "rp_snapshot_trace: rc %d (%s), %zu snapshots", rc, msg, k)) {
			rp_memtrace_free(t);
			rp_memtrace_free(s);
			continue;
		}
		printf("%s: %zu records, %zu snapshots\n", cases[c].name, s->n, k);
		test_equivalence(cases[c].name, s, at, k);
		if (c == 0) {
			test_altered(s, at, k);
			test_errors(s, at, k);
			test_file(s, t);
		}
		rp_memtrace_free(t);
		rp_memtrace_free(s);
	}
	/* Stalled and disabled queues. */
	{
		struct rp_memtrace *t = stall_session(), *s = NULL;
		uint64_t n = 0;
		char msg[256];
		struct rp_result full;
		int rc = t ? replay_from(t, 0, &full, msg, sizeof(msg)) : -1;
		t_ok(&T, rc == 0 && !full.diverged, "stall session replays", "rc %d", rc);
		rc = t ? rp_snapshot_trace(t, 1, -1, &s, &n, msg, sizeof(msg)) : -1;
		size_t at[1024], k = s ? snapshots(s, at, 1024) : 0;
		if (t_ok(&T, rc == 0 && k >= 10, "stall session: a snapshot at every boundary",
			 "rc %d (%s), %zu", rc, msg, k)) {
			test_equivalence("stall session", s, at, k);
			int stalled = 0, disabled = 0;
			for (size_t j = 0; j < k; j++) {
				const uint8_t *b = s->recs[at[j]].payload + ITR_PL_SNAPSHOT;
				stalled += b[64] & 1;
				disabled += !(b[4] & 1);
			}
			t_ok(&T, stalled && disabled, "stall session: stalled and disabled snapshots",
			     "%d stalled, %d disabled", stalled, disabled);
		}
		rp_memtrace_free(t);
		rp_memtrace_free(s);
	}
	/* Snapshots in many chunks (small blocks). */
	{
		struct rp_memtrace *t = session(0, 4), *s = NULL;
		t->h.block_max = 256;
		char msg[256];
		int rc = rp_snapshot_trace(t, 100, -1, &s, NULL, msg, sizeof(msg));
		size_t at[64], k = s ? snapshots(s, at, 64) : 0, cont = 0;
		for (size_t i = 0; s && i < s->n; i++)
			cont += s->recs[i].type == ITR_REC_SNAPSHOT && (s->recs[i].flags & ITR_RF_CONT);
		if (t_ok(&T, rc == 0 && k && cont, "chunked snapshots", "rc %d, %zu, %zu chunks",
			 rc, k, cont))
			test_equivalence("chunked", s, at, k);
		rp_memtrace_free(t);
		rp_memtrace_free(s);
	}
	printf("%u passed, %u failed\n", T.pass, T.fail);
	return T.fail ? T_EXIT_FAIL : T_EXIT_PASS;
}
