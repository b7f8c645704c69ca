/*
 * test_replay.c: replay (issue 5, section 6).
 *
 * - every bundled real trace (arguments) replays with no divergence, QEMU's table
 *   effects included;
 * - one altered output record (a QEMU table write, a physical command, an injection)
 *   diverges at exactly that record; an altered input (a command byte) diverges at the
 *   first output it changes;
 * - a recorded session with a physical side, host LPIs, property writes, a budget and
 *   checkpoints replays clean; an altered checkpoint diverges there;
 * - replaying twice gives byte-identical results;
 * - damaged and hostile traces never crash (exit codes are tested through the CLI).
 *
 * Exit 0 all passed, 1 a check failed, 2 broken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "itr_encode.h"
#include "itr_writer.h"
#include "replay.h"
#include "tcheck.h"

static struct tstate T;

static int replay_mem(const struct rp_memtrace *t, struct rp_result *res)
{
	struct rp_opts o;
	rp_opts_default(&o);
	char msg[256];
	int rc = rp_replay(NULL, t, &o, res, msg, sizeof(msg));
	if (rc < 0)
		printf("  (rp_replay: %s: %s)\n", rp_strerror(rc), msg);
	return rc;
}

static void show_div(const struct rp_result *res)
{
	if (!res->diverged)
		return;
	printf("  diverged at %llu (%s): %s\n    expected %s\n    got      %s\n",
	       (unsigned long long)res->div.index, rp_div_kind_name(res->div.kind), res->div.what,
	       res->div.expected, res->div.got);
}

/* Index of the n-th record of type (0-based), or SIZE_MAX. */
static size_t nth(const struct rp_memtrace *t, unsigned type, size_t n)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->recs[i].type == type && n-- == 0)
			return i;
	return SIZE_MAX;
}

static void test_bundled(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct rp_opts o;
		rp_opts_default(&o);
		struct rp_result res;
		char msg[256], name[300];
		int rc = rp_replay(argv[i], NULL, &o, &res, msg, sizeof(msg));
		snprintf(name, sizeof(name), "bundled %s replays", argv[i]);
		t_ok(&T, rc == 0 && !res.diverged, name, "rc %d (%s), diverged %d", rc, msg,
		     res.diverged);
		show_div(&res);
		snprintf(name, sizeof(name), "bundled %s: table effects checked", argv[i]);
		t_ok(&T, res.effects_checked > 0 && res.guest_commands > 0, name,
		     "%llu effects, %llu commands", (unsigned long long)res.effects_checked,
		     (unsigned long long)res.guest_commands);
	}
}

/* An altered QEMU table write (EXP_ITE: another LPI; EXP_DTE: another size; EXP_CTE:
 * another target) diverges at exactly that record. */
static void test_qemu_altered(const char *path)
{
	static const struct { unsigned type, off, valid; const char *name; } alt[] = {
		{ ITR_REC_EXP_ITE, 16, 28, "EXP_ITE lpi" },
		{ ITR_REC_EXP_ITE, 28, 28, "EXP_ITE valid" },
		{ ITR_REC_EXP_DTE, 5, 4, "EXP_DTE size" },
		{ ITR_REC_EXP_CTE, 8, 2, "EXP_CTE target" },
	};
	for (size_t a = 0; a < sizeof(alt) / sizeof(alt[0]); a++) {
		struct rp_memtrace *t;
		char msg[256], name[128];
		if (rp_memtrace_load(path, &t, msg, sizeof(msg))) {
			t_ok(&T, false, "load qemu trace", "%s", msg);
			return;
		}
		size_t i = SIZE_MAX;
		for (size_t j = 0, seen = 0; j < t->n; j++)
			if (t->recs[j].type == alt[a].type && t->recs[j].payload[alt[a].valid] &&
			    ++seen == 2) {
				i = j;
				break;
			}
		if (i == SIZE_MAX) {
			t_ok(&T, false, alt[a].name, "no such record");
			rp_memtrace_free(t);
			continue;
		}
		t->recs[i].payload[alt[a].off] ^= 1;
		struct rp_result res;
		replay_mem(t, &res);
		snprintf(name, sizeof(name), "altered %s diverges at that record", alt[a].name);
		t_ok(&T, res.diverged && res.div.index == i && res.div.kind == RP_DIV_EFFECT, name,
		     "record %zu: diverged %d at %llu (%s)", i, res.diverged,
		     (unsigned long long)res.div.index, rp_div_kind_name(res.div.kind));
		rp_memtrace_free(t);
	}
}

/* A command byte changed in the guest's queue (the MEM_READ of a MAPTI slot): the
 * first output it changes is that command's CMD record. */
static void test_altered_input(const struct rp_memtrace *orig, const char *what)
{
	struct rp_memtrace *t = rp_memtrace_new(&orig->h);
	for (size_t i = 0; i < orig->n; i++) {
		struct itr_rec r;
		rp_memtrace_get(orig, i, &r);
		rp_memtrace_add(t, &r);
	}
	/* The second MAPTI's slot read, and its CMD record after it. */
	size_t cmd = SIZE_MAX, mem = SIZE_MAX;
	for (size_t i = 0, seen = 0; i < t->n; i++) {
		if (t->recs[i].type == ITR_REC_CMD && t->recs[i].payload[4] == ITS_OP_MAPTI &&
		    ++seen == 2) {
			cmd = i;
			break;
		}
	}
	for (size_t i = cmd; cmd != SIZE_MAX && i-- > 0;)
		if (t->recs[i].type == ITR_REC_MEM_READ && t->recs[i].len == 16 + 32) {
			mem = i;
			break;
		}
	char name[128];
	snprintf(name, sizeof(name), "%s: found a MAPTI slot read", what);
	if (!t_ok(&T, cmd != SIZE_MAX && mem != SIZE_MAX, name, "none")) {
		rp_memtrace_free(t);
		return;
	}
	/* The pINTID (bytes 12..15 of the command): another LPI. */
	t->recs[mem].payload[16 + 12] ^= 0x01;
	struct rp_result res;
	replay_mem(t, &res);
	show_div(&res);
	/* The first record the change affects: the property byte the engine reads for
	 * the new LPI (a trace that records it) or the CMD record itself (QEMU). */
	size_t first = cmd;
	for (size_t i = mem + 1; i < cmd; i++)
		if (t->recs[i].type == ITR_REC_MEM_READ) {
			first = i;
			break;
		}
	snprintf(name, sizeof(name), "%s: altered command byte diverges at the first output "
		 "it changes", what);
	t_ok(&T, res.diverged && res.div.index == first, name,
	     "expected record %zu (CMD at %zu), diverged %d at %llu", first, cmd, res.diverged,
	     (unsigned long long)res.div.index);
	rp_memtrace_free(t);
}

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

static void alter_at(const struct rp_memtrace *orig, unsigned type, size_t n, unsigned off,
		     const char *name)
{
	struct rp_memtrace *t = copy(orig);
	size_t i = nth(t, type, n);
	if (!t_ok(&T, i != SIZE_MAX, name, "no record of type %u", type)) {
		rp_memtrace_free(t);
		return;
	}
	t->recs[i].payload[off] ^= 0x01;
	struct rp_result res;
	replay_mem(t, &res);
	t_ok(&T, res.diverged && res.div.index == i, name, "record %zu: diverged %d at %llu (%s)",
	     i, res.diverged, (unsigned long long)res.div.index, rp_div_kind_name(res.div.kind));
	rp_memtrace_free(t);
}

static void test_recorded(void)
{
	struct rp_synth_opts so;
	rp_synth_opts_default(&so);
	so.checkpoint_every = 5;
	struct rp_memtrace *t = rp_synth_session(&so);
	if (!t) {
		printf("BROKEN rp_synth_session\n");
		exit(T_EXIT_BROKEN);
	}
	struct rp_result res, res2;
	int rc = replay_mem(t, &res);
	show_div(&res);
	t_ok(&T, rc == 0 && !res.diverged, "recorded session (forward, host) replays", "rc %d", rc);
	t_ok(&T, res.physical_commands > 0 && res.injections > 0 && res.host_lpis > 0 &&
		 res.checkpoints_checked > 0,
	     "recorded session has physical commands, injections, host LPIs, checkpoints",
	     "%llu phys %llu inj %llu host %llu ckpt", (unsigned long long)res.physical_commands,
	     (unsigned long long)res.injections, (unsigned long long)res.host_lpis,
	     (unsigned long long)res.checkpoints_checked);

	/* Determinism: the same result, byte for byte. */
	replay_mem(t, &res2);
	t_ok(&T, !memcmp(&res, &res2, sizeof(res)), "replaying twice is byte-identical", "differs");

	alter_at(t, ITR_REC_PHYS_CMD, 5, 4 + 8, "altered physical command diverges there");
	alter_at(t, ITR_REC_INJECT, 2, 4, "altered injection diverges there");
	alter_at(t, ITR_REC_CREADR, 3, 1, "altered CREADR diverges there");
	alter_at(t, ITR_REC_CMD, 7, 3, "altered command reason diverges there");
	alter_at(t, ITR_REC_CHECKPOINT, 3, 16 + 4, "altered checkpoint fingerprint diverges there");
	alter_at(t, ITR_REC_HOST_LPI, 1, 4, "altered host LPI intid diverges there");
	test_altered_input(t, "recorded");

	/* A deleted output: the engine produces it, the trace lacks it. */
	{
		struct rp_memtrace *d = copy(t);
		size_t i = nth(d, ITR_REC_INJECT, 1);
		free(d->recs[i].payload);
		memmove(&d->recs[i], &d->recs[i + 1], (d->n - i - 1) * sizeof(d->recs[0]));
		d->n--;
		replay_mem(d, &res);
		t_ok(&T, res.diverged && res.div.index == i && res.div.kind == RP_DIV_EXTRA,
		     "a deleted injection diverges at the record after it", "diverged %d at %llu %s",
		     res.diverged, (unsigned long long)res.div.index, rp_div_kind_name(res.div.kind));
		rp_memtrace_free(d);
	}
	/* An unrecorded read: drop a command slot's MEM_READ. */
	{
		struct rp_memtrace *d = copy(t);
		size_t c = nth(d, ITR_REC_CMD, 20), i = c;
		while (i > 0 && d->recs[i].type != ITR_REC_MEM_READ)
			i--;
		free(d->recs[i].payload);
		memmove(&d->recs[i], &d->recs[i + 1], (d->n - i - 1) * sizeof(d->recs[0]));
		d->n--;
		replay_mem(d, &res);
		t_ok(&T, res.diverged && res.div.kind == RP_DIV_UNRECORDED_READ,
		     "a read of memory never recorded is a divergence", "diverged %d (%s)",
		     res.diverged, rp_div_kind_name(res.div.kind));
		rp_memtrace_free(d);
	}
	/* Another policy: the physical side differs, replay says so. */
	{
		struct rp_opts o;
		rp_opts_default(&o);
		o.policy = VITS_POLICY_VIRTUAL;
		rp_replay(NULL, t, &o, &res, NULL, 0);
		t_ok(&T, res.diverged, "--policy virtual on a forward trace diverges", "no");
	}
	rp_memtrace_free(t);

	/* A budget: outputs without input are the embedder's vits_resume calls. */
	rp_synth_opts_default(&so);
	so.budget = 2;
	t = rp_synth_session(&so);
	rc = replay_mem(t, &res);
	show_div(&res);
	t_ok(&T, rc == 0 && !res.diverged && res.implicit_resumes > 0,
	     "budget 2 session replays (implicit resumes)", "diverged %d, %llu resumes",
	     res.diverged, (unsigned long long)res.implicit_resumes);
	rp_memtrace_free(t);

	/* Every policy records and replays clean. */
	for (int p = 0; p < VITS_POLICY_COUNT; p++) {
		rp_synth_opts_default(&so);
		so.policy = p;
		t = rp_synth_session(&so);
		rc = replay_mem(t, &res);
		show_div(&res);
		char name[64];
		snprintf(name, sizeof(name), "recorded under %s replays", vits_policy_name(p));
		t_ok(&T, rc == 0 && !res.diverged, name, "rc %d", rc);
		rp_memtrace_free(t);
	}
}

/* Hostile: mutate payload bytes and flags of a real session's records at random; the
 * replay must never crash (run under the sanitizers in CI). */
static void test_hostile(const struct rp_memtrace *orig)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;
	unsigned ran = 0;
	for (int iter = 0; iter < 300; iter++) {
		struct rp_memtrace *t = copy(orig);
		for (int k = 0; k < 1 + iter % 8; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			struct rp_mrec *m = &t->recs[x % t->n];
			switch ((x >> 32) % 4) {
			case 0:
				if (m->len)
					m->payload[(x >> 40) % m->len] ^= (uint8_t)(x >> 48);
				break;
			case 1:
				m->type = (uint8_t)(x >> 40);
				break;
			case 2:
				m->flags = (uint8_t)(x >> 40);
				break;
			default:
				m->domain = (uint16_t)((x >> 40) & 1);
				break;
			}
		}
		struct rp_result res;
		struct rp_opts o;
		rp_opts_default(&o);
		rp_replay(NULL, t, &o, &res, NULL, 0);
		rp_whatif(NULL, t, (int)(x % VITS_POLICY_COUNT), &o, &res, NULL, 0);
		ran++;
		rp_memtrace_free(t);
	}
	t_eq(&T, "hostile mutations replayed without a crash", 300, ran);
}

/* A planted failure in a session of hundreds of commands: the recorded physical INV
 * of one (device, event) is altered, as if the recording engine had a bug there. */
static struct rp_memtrace *planted(size_t *at)
{
	struct rp_synth_opts so;
	rp_synth_opts_default(&so);
	so.rounds = 12;
	struct rp_memtrace *t = rp_synth_session(&so);
	if (!t)
		return NULL;
	size_t seen = 0;
	*at = SIZE_MAX;
	for (size_t i = 0; i < t->n; i++) {
		const struct rp_mrec *m = &t->recs[i];
		if (m->type == ITR_REC_PHYS_CMD && m->payload[4] == ITS_OP_INV && ++seen == 45) {
			t->recs[i].payload[4 + 8] ^= 0x04;      /* EventID */
			*at = i;
			break;
		}
	}
	return t;
}

struct div_sig {
	enum rp_div_kind kind;
	char what[RP_TEXT];
	unsigned type;
};

static int diverges_alike(void *ctx, const struct rp_memtrace *t)
{
	struct div_sig *sig = ctx;
	struct rp_result res;
	struct rp_opts o;
	rp_opts_default(&o);
	if (rp_replay(NULL, t, &o, &res, NULL, 0) < 0 || !res.diverged)
		return 0;
	return res.div.kind == sig->kind && !strcmp(res.div.what, sig->what) &&
	       res.div.index < t->n && t->recs[res.div.index].type == sig->type &&
	       t->recs[res.div.index].payload[4] == ITS_OP_INV;
}

static void test_minimize(void)
{
	size_t at;
	struct rp_memtrace *t = planted(&at);
	if (!t || at == SIZE_MAX) {
		t_ok(&T, false, "planted trace", "could not plant");
		rp_memtrace_free(t);
		return;
	}
	struct rp_result res;
	replay_mem(t, &res);
	t_ok(&T, res.diverged && res.div.index == at, "planted trace diverges at the plant",
	     "at %zu, diverged %d at %llu", at, res.diverged, (unsigned long long)res.div.index);
	struct div_sig sig = { res.div.kind, "", ITR_REC_PHYS_CMD };
	snprintf(sig.what, sizeof(sig.what), "%s", res.div.what);

	/* The identity rewrite (every unit kept) replays exactly as the original. */
	size_t nu = rp_min_units(t);
	uint8_t *keep = malloc(nu);
	memset(keep, 1, nu);
	struct rp_memtrace *same = rp_min_build(t, keep);
	struct rp_result r2;
	replay_mem(same, &r2);
	t_ok(&T, r2.diverged && r2.div.index == res.div.index, "rewrite keeping every unit "
	     "diverges at the same record", "diverged %d at %llu", r2.diverged,
	     (unsigned long long)r2.div.index);
	rp_memtrace_free(same);
	free(keep);

	struct rp_memtrace *m;
	struct rp_min_stats st;
	int rc = rp_minimize(t, diverges_alike, &sig, &m, &st);
	printf("  minimize: units %llu -> %llu, commands %llu -> %llu, records %llu -> %llu, "
	       "%llu checks\n", (unsigned long long)st.units_before,
	       (unsigned long long)st.units_after, (unsigned long long)st.commands_before,
	       (unsigned long long)st.commands_after, (unsigned long long)st.records_before,
	       (unsigned long long)st.records_after, (unsigned long long)st.checks);
	t_ok(&T, rc == 0 && st.commands_before >= 300 && st.commands_after <= 10,
	     "minimize shrinks a planted failure of hundreds of commands to <= 10",
	     "rc %d, commands %llu -> %llu", rc, (unsigned long long)st.commands_before,
	     (unsigned long long)st.commands_after);
	if (rc == 0) {
		t_ok(&T, diverges_alike(&sig, m) == 1, "the minimized trace still fails", "no");
		rp_memtrace_free(m);
	}
	rp_memtrace_free(t);
}

/* whatif on a small trace, checked against numbers worked out by hand from the
 * policy table of docs/semantics.md.  One vCPU on pCPU 0, one assigned device:
 *   MAPC, SYNC (nothing assigned yet: no physical SYNC), MAPD, MAPTI e0, MAPTI e1,
 *   property write LPI 8192 := enabled, INV e0, SYNC, INVALL, SYNC,
 *   MSI e1 (LPI 8193 disabled), DISCARD e1, SYNC.
 *              MAPD MAPTI INV INVALL SYNC DISCARD  total global spurious
 *   forward      1    2    1    1     3     1        9     1      0
 *   eager        1    2    1    0     3     1        8     0      0   (INV at the write)
 *   lazy         1    2    1    0     3     1        8     0      0   (INV: e0 dirty)
 *   lazy-global  1    2    1    0     3     1        8     0      0
 *   virtual      1    2    0    0     3     1        7     0      1   (host LPIs enabled)
 */
static void test_whatif_by_hand(void)
{
	struct harness_config hc;
	harness_config_default(&hc);
	hc.vits.nr_vcpus = 1;
	hc.with_host = true;
	vits_host_config_default(&hc.host);
	struct harness *h;
	if (harness_create(&hc, &h)) {
		t_ok(&T, false, "whatif by hand: harness", "create failed");
		return;
	}
	struct itr_header hdr;
	itr_header_init(&hdr);
	struct itr_domain dom = { 0, 0, 1 };
	hdr.source = ITR_SRC_SYNTHETIC;
	hdr.policy = ITR_POL_FORWARD;
	hdr.flags = ITR_HF_HAS_PHYS | ITR_HF_HAS_OUTCOMES | ITR_HF_NO_TIMESTAMPS;
	hdr.nr_vcpus = 1;
	hdr.devid_bits = hc.vits.devid_bits;
	hdr.eventid_bits = hc.vits.eventid_bits;
	hdr.cid_bits = hc.vits.cid_bits;
	hdr.intid_bits = hc.vits.intid_bits;
	hdr.nr_domains = 1;
	hdr.domains = &dom;
	struct rp_memtrace *t = rp_memtrace_new(&hdr);
	h->trace_fn = rp_memtrace_record_event;
	h->trace_ctx = t;
	harness_guest_init(h, 0x40100000, 1, 0x40200000, 8, 4096, false, 0x40400000, 16);
	struct its_cmd c[2] = { its_mk_mapc(0, 0, 1), its_mk_sync(0) };
	harness_submit(h, c, 2);
	vits_assign_device(h->vits, 0x10, 0x100);
	c[0] = its_mk_mapd(0x10, 1, 0x40300000, 1);
	harness_submit(h, c, 1);
	c[0] = its_mk_mapti(0x10, 0, 8192, 0);
	c[1] = its_mk_mapti(0x10, 1, 8193, 0);
	harness_submit(h, c, 2);
	harness_set_prop_trapped(h, 8192, 0xa3);
	c[0] = its_mk_devev(ITS_OP_INV, 0x10, 0);
	c[1] = its_mk_sync(0);
	harness_submit(h, c, 2);
	c[0] = its_mk_invall(0);
	harness_submit(h, c, 2);
	vits_msi(h->vits, 0x10, 1);
	c[0] = its_mk_devev(ITS_OP_DISCARD, 0x10, 1);
	harness_submit(h, c, 2);
	h->trace_fn = NULL;
	harness_destroy(h);

	static const struct { uint64_t mapd, mapti, inv, invall, sync, discard, total, global,
			      spurious; } want[VITS_POLICY_COUNT] = {
		[VITS_POLICY_FORWARD] = { 1, 2, 1, 1, 3, 1, 9, 1, 0 },
		[VITS_POLICY_EAGER] = { 1, 2, 1, 0, 3, 1, 8, 0, 0 },
		[VITS_POLICY_LAZY] = { 1, 2, 1, 0, 3, 1, 8, 0, 0 },
		[VITS_POLICY_LAZY_GLOBAL] = { 1, 2, 1, 0, 3, 1, 8, 0, 0 },
		[VITS_POLICY_VIRTUAL] = { 1, 2, 0, 0, 3, 1, 7, 0, 1 },
	};
	for (int p = 0; p < VITS_POLICY_COUNT; p++) {
		struct rp_opts o;
		rp_opts_default(&o);
		o.oracle = 1;
		o.phys_queue_bytes = 65536;
		struct rp_result r;
		char msg[256], name[96];
		int rc = rp_whatif(NULL, t, p, &o, &r, msg, sizeof(msg));
		snprintf(name, sizeof(name), "whatif by hand: %s", vits_policy_name(p));
		t_ok(&T, rc == 0 && r.guest_commands == 11 &&
			 r.phys_by_cmd[ITS_IDX_MAPD] == want[p].mapd &&
			 r.phys_by_cmd[ITS_IDX_MAPTI] == want[p].mapti &&
			 r.phys_by_cmd[ITS_IDX_INV] == want[p].inv &&
			 r.phys_by_cmd[ITS_IDX_INVALL] == want[p].invall &&
			 r.physical_syncs == want[p].sync &&
			 r.phys_by_cmd[ITS_IDX_DISCARD] == want[p].discard &&
			 r.physical_commands == want[p].total && r.global_commands == want[p].global &&
			 r.spurious_host_lpis == want[p].spurious && r.oracle_ok,
		     name, "rc %d guest %llu: MAPD %llu MAPTI %llu INV %llu INVALL %llu SYNC %llu "
		     "DISCARD %llu total %llu global %llu spurious %llu equivalent %d (%s)", rc,
		     (unsigned long long)r.guest_commands,
		     (unsigned long long)r.phys_by_cmd[ITS_IDX_MAPD],
		     (unsigned long long)r.phys_by_cmd[ITS_IDX_MAPTI],
		     (unsigned long long)r.phys_by_cmd[ITS_IDX_INV],
		     (unsigned long long)r.phys_by_cmd[ITS_IDX_INVALL],
		     (unsigned long long)r.physical_syncs,
		     (unsigned long long)r.phys_by_cmd[ITS_IDX_DISCARD],
		     (unsigned long long)r.physical_commands, (unsigned long long)r.global_commands,
		     (unsigned long long)r.spurious_host_lpis, r.oracle_ok, r.oracle_msg);
	}
	/* The trace replays clean under its own policy too. */
	struct rp_result r;
	replay_mem(t, &r);
	show_div(&r);
	t_ok(&T, !r.diverged, "whatif by hand: the small trace replays", "diverged");
	rp_memtrace_free(t);
}

/* Fixtures for the command-line tests (tests/replay/cli.cmake). */
static int fixtures(const char *dir)
{
	char p[512];
	struct rp_synth_opts so;
	rp_synth_opts_default(&so);
	so.checkpoint_every = 4;
	struct rp_memtrace *t = rp_synth_session(&so);
	snprintf(p, sizeof(p), "%s/clean.itr", dir);
	if (!t || rp_memtrace_save(t, p))
		return T_EXIT_BROKEN;
	/* The same inputs under the virtual policy: diff finds the physical side differs. */
	so.policy = VITS_POLICY_VIRTUAL;
	struct rp_memtrace *v = rp_synth_session(&so);
	snprintf(p, sizeof(p), "%s/virtual.itr", dir);
	if (!v || rp_memtrace_save(v, p))
		return T_EXIT_BROKEN;
	rp_memtrace_free(v);
	size_t i = nth(t, ITR_REC_INJECT, 3);
	t->recs[i].payload[4] ^= 1;
	snprintf(p, sizeof(p), "%s/altered.itr", dir);
	if (rp_memtrace_save(t, p))
		return T_EXIT_BROKEN;
	printf("altered record %zu\n", i);
	rp_memtrace_free(t);
	t = planted(&i);
	snprintf(p, sizeof(p), "%s/planted.itr", dir);
	if (!t || rp_memtrace_save(t, p))
		return T_EXIT_BROKEN;
	rp_memtrace_free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--fixtures"))
		return fixtures(argv[2]);
	test_bundled(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (strstr(argv[i], "boot-nvme-smp2.itr")) {
			test_qemu_altered(argv[i]);
			struct rp_memtrace *t;
			char msg[256];
			if (rp_memtrace_load(argv[i], &t, msg, sizeof(msg)) == 0) {
				test_altered_input(t, "qemu");
				test_hostile(t);
			}
			rp_memtrace_free(t);
		}
	}
	test_recorded();
	test_minimize();
	test_whatif_by_hand();
	{
		struct rp_synth_opts so;
		rp_synth_opts_default(&so);
		so.checkpoint_every = 3;
		struct rp_memtrace *t = rp_synth_session(&so);
		test_hostile(t);
		rp_memtrace_free(t);
	}
	printf("%u passed, %u failed\n", T.pass, T.fail);
	return T.fail ? T_EXIT_FAIL : T_EXIT_PASS;
}
