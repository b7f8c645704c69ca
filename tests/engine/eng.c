/*
 * eng.c: shared helpers of the engine tests (see eng.h) and the check counters.
 */
#include "eng.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checks ------------------------------------------------------------------------- */

unsigned long check_passed, check_failed;

/* Count the check; on failure print "FAIL file:line: what" and return false, so the
 * caller adds ": expected ... got ..." and the newline. */
static bool check_count(bool ok, const char *file, int line, const char *fmt, va_list ap)
{
	if (ok) {
		check_passed++;
		return true;
	}
	check_failed++;
	const char *base = strrchr(file, '/');
	printf("FAIL %s:%d: ", base ? base + 1 : file, line);
	vprintf(fmt, ap);
	return false;
}

void check_u64(const char *file, int line, uint64_t exp, uint64_t got, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = check_count(exp == got, file, line, fmt, ap);
	va_end(ap);
	if (!ok)
		printf(": expected 0x%llx (%llu) got 0x%llx (%llu)\n", (unsigned long long)exp,
		       (unsigned long long)exp, (unsigned long long)got, (unsigned long long)got);
}

const char *eng_reason(int r)
{
	return r < 0 ? "(no command ran)" : vits_reason_name((enum vits_reason)r);
}

void check_reason(const char *file, int line, int exp, int got, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = check_count(exp == got, file, line, fmt, ap);
	va_end(ap);
	if (!ok)
		printf(": expected %s got %s\n", eng_reason(exp), eng_reason(got));
}

void check_true(const char *file, int line, int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = check_count(cond != 0, file, line, fmt, ap);
	va_end(ap);
	if (!ok)
		printf(": expected true got false\n");
}

int check_summary(void)
{
	printf("%lu passed, %lu failed\n", check_passed, check_failed);
	fflush(stdout);
	return check_failed ? 1 : 0;
}

/* ---- engine ------------------------------------------------------------------------------ */

void eng_opts_default(struct eng_opts *o)
{
	memset(o, 0, sizeof(*o));
	harness_config_default(&o->hc);
	o->hc.vits.nr_vcpus = 4;
	o->hc.vits.devid_bits = 12;
	o->hc.vits.eventid_bits = 10;
	o->hc.vits.cid_bits = 4;
	o->hc.vits.intid_bits = 16;
	o->queue_pages = 1;
	o->devtab_pages = 8;
	o->page_size = 4096;
	o->prop_id_bits = 16;
}

static void eng_trace(void *ctx, const struct vits_event *ev)
{
	struct eng *e = ctx;
	if (ev->type == VITS_EV_CMD) {
		e->last_cmd = *ev;
		e->nr_cmd_events++;
	}
	if (!e->record)
		return;
	if (e->rec.n == e->rec.cap) {
		size_t ncap = e->rec.cap ? e->rec.cap * 2 : 256;
		struct vits_event *n = realloc(e->rec.ev, ncap * sizeof(*n));
		if (n == NULL)
			return;
		e->rec.ev = n;
		e->rec.cap = ncap;
	}
	struct vits_event *dst = &e->rec.ev[e->rec.n++];
	*dst = *ev;
	if (ev->type == VITS_EV_MEM_READ)
		dst->u.mem.data = NULL;   /* points into the engine's stack */
}

struct eng *eng_new(const struct eng_opts *o)
{
	struct eng *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	int rc = harness_create(&o->hc, &e->h);
	if (rc != 0) {
		CHECK_EQ(0, rc, "harness_create (%s)", vits_strerror(rc));
		free(e);
		return NULL;
	}
	e->v = e->h->vits;
	e->record = true;
	e->h->trace_fn = eng_trace;
	e->h->trace_ctx = e;
	if (!o->no_guest_init) {
		rc = harness_guest_init(e->h, ENG_QUEUE_GPA, o->queue_pages, ENG_DEVTAB_GPA,
					o->devtab_pages, o->page_size, o->indirect, ENG_PROP_GPA,
					o->prop_id_bits);
		if (rc != 0) {
			CHECK_EQ(0, rc, "harness_guest_init");
			eng_free(e);
			return NULL;
		}
	}
	return e;
}

void eng_free(struct eng *e)
{
	if (e == NULL)
		return;
	harness_destroy(e->h);
	free(e->rec.ev);
	free(e);
}

/* Without the harness driver (registers programmed by hand): write the command at
 * CWRITER of the queue CBASER describes and advance CWRITER. */
static int eng_raw_submit(struct eng *e, struct its_cmd c)
{
	uint64_t cb = 0, cw = 0;
	vits_mmio_read(e->v, GITS_CBASER, 8, &cb);
	vits_mmio_read(e->v, GITS_CWRITER, 8, &cw);
	if (!GITS_FIELD_GET(cb, CBASER, VALID))
		return -1;
	uint64_t size = (GITS_FIELD_GET(cb, CBASER, SIZE) + 1) * ITS_CMDQ_PAGE;
	uint64_t gpa = cb & GITS_FIELD_MASK(CBASER, PA);
	cw &= GITS_FIELD_MASK(CWRITER, OFFSET);
	uint8_t raw[ITS_CMD_BYTES];
	its_cmd_to_bytes(&c, raw);
	if (harness_write_guest(e->h, gpa + cw, raw, sizeof(raw)) != 0)
		return -1;
	return vits_mmio_write(e->v, GITS_CWRITER, 8, (cw + ITS_CMD_BYTES) % size);
}

int eng_cmd(struct eng *e, struct its_cmd c)
{
	uint64_t before = e->nr_cmd_events;
	int rc = e->h->drv.inited ? harness_submit(e->h, &c, 1) : eng_raw_submit(e, c);
	if (rc != 0)
		return -1;
	if (e->nr_cmd_events == before)
		return -1;
	return e->last_cmd.u.cmd.reason;
}

int eng_cmds(struct eng *e, const struct its_cmd *c, size_t n)
{
	struct vits_stats a = eng_stats(e);
	if (harness_submit(e->h, c, n) != 0)
		return -1;
	struct vits_stats b = eng_stats(e);
	return (int)(b.cmd_errors - a.cmd_errors);
}

void eng_expect_fail_at(const char *file, int line, struct eng *e, struct its_cmd c,
			int reason, uint32_t e_its, const char *what)
{
	uint64_t h0 = eng_state_hash(e);
	size_t inj0 = eng_ninj(e), phys0 = eng_nphys(e);
	int got = eng_cmd(e, c);
	check_reason(file, line, reason, got, "%s: reason", what);
	if (got < 0)
		return;
	check_u64(file, line, e_its, e->last_cmd.u.cmd.e_its, "%s: e_its", what);
	uint8_t outcome = e->h->cfg.vits.error_mode == VITS_ERRMODE_STALL ? VITS_CMD_STALLED
									  : VITS_CMD_SKIPPED;
	check_u64(file, line, outcome, e->last_cmd.u.cmd.outcome, "%s: outcome", what);
	check_u64(file, line, h0, eng_state_hash(e), "%s: guest-visible state unchanged", what);
	check_u64(file, line, inj0, eng_ninj(e), "%s: no injection", what);
	check_u64(file, line, phys0, eng_nphys(e), "%s: no physical command", what);
}

void eng_expect_ok_at(const char *file, int line, struct eng *e, struct its_cmd c,
		      const char *what)
{
	int got = eng_cmd(e, c);
	check_reason(file, line, VITS_R_NONE, got, "%s", what);
	if (got >= 0)
		check_u64(file, line, VITS_CMD_OK, e->last_cmd.u.cmd.outcome, "%s: outcome", what);
}

/* ---- fingerprint --------------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, uint64_t x)
{
	for (int i = 0; i < 8; i++) {
		h ^= (x >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

struct hash_ctx {
	const struct vits *v;
	uint64_t sum;
};

static int hash_dev(void *arg, const struct vits_device_info *d)
{
	struct hash_ctx *hc = arg;
	uint64_t h = 0xcbf29ce484222325ull;
	h = fnv(h, d->devid);
	h = fnv(h, d->event_bits);
	h = fnv(h, d->itt_addr);
	h = fnv(h, d->assigned);
	h = fnv(h, d->pdevid);
	uint64_t n = d->event_bits >= 16 ? 1u << 16 : 1u << d->event_bits;
	for (uint64_t ev = 0; ev < n; ev++) {
		struct vits_event_info ei;
		if (vits_query_event(hc->v, d->devid, (uint32_t)ev, &ei) != 0)
			continue;
		h = fnv(h, ev);
		h = fnv(h, ei.intid);
		h = fnv(h, ei.icid);
		h = fnv(h, ei.plpi);
	}
	hc->sum += h;   /* order-independent over devices */
	return 0;
}

uint64_t eng_state_hash(struct eng *e)
{
	struct hash_ctx hc = { e->v, 0 };
	vits_foreach_device(e->v, hash_dev, &hc);
	uint64_t h = fnv(0xcbf29ce484222325ull, hc.sum);
	uint32_t ncoll = 1u << e->h->cfg.vits.cid_bits;
	for (uint32_t i = 0; i < ncoll; i++) {
		uint32_t vcpu = 0xffffffffu;
		vits_query_collection(e->v, i, &vcpu);
		h = fnv(h, vcpu);
	}
	uint32_t nlpi = 1u << e->h->cfg.vits.intid_bits;
	for (uint32_t i = LPI_INTID_BASE; i < nlpi; i++) {
		struct vits_lpi_info li;
		if (vits_query_lpi(e->v, i, &li) == 0 && (li.cfg || li.pending))
			h = fnv(fnv(fnv(fnv(h, i), li.cfg), li.pending), li.pending_vcpu);
	}
	uint64_t val = 0;
	vits_mmio_read(e->v, GITS_CTLR, 4, &val);
	h = fnv(h, val & 1);
	for (unsigned n = 0; n < GITS_BASER_COUNT; n++) {
		vits_mmio_read(e->v, GITS_BASERn(n), 8, &val);
		h = fnv(h, val);
	}
	vits_mmio_read(e->v, GITS_CBASER, 8, &val);
	h = fnv(h, val);
	return h;
}

/* ---- small helpers ------------------------------------------------------------------------ */

void eng_prop(struct eng *e, uint32_t intid, uint8_t cfg)
{
	int rc = harness_set_prop(e->h, intid, cfg);
	if (rc != 0)
		CHECK_EQ(0, rc, "set property byte of %u", intid);
}

uint64_t eng_rd(struct eng *e, uint64_t off, unsigned size)
{
	uint64_t v = 0xdeadbeefdeadbeefull;
	int rc = vits_mmio_read(e->v, off, size, &v);
	if (rc != 0)
		CHECK_EQ(0, rc, "vits_mmio_read(0x%llx, %u)", (unsigned long long)off, size);
	return v;
}

void eng_wr(struct eng *e, uint64_t off, unsigned size, uint64_t val)
{
	int rc = vits_mmio_write(e->v, off, size, val);
	if (rc != 0)
		CHECK_EQ(0, rc, "vits_mmio_write(0x%llx, %u)", (unsigned long long)off, size);
}

struct vits_stats eng_stats(struct eng *e)
{
	struct vits_stats s;
	memset(&s, 0, sizeof(s));
	vits_get_stats(e->v, &s);
	return s;
}

size_t eng_ninj(struct eng *e)
{
	return e->h->injects.n;
}

const struct harness_inject *eng_inj(struct eng *e, size_t i)
{
	size_t n;
	const struct harness_inject *p = harness_injects(e->h, &n);
	return i < n ? &p[i] : NULL;
}

size_t eng_nphys(struct eng *e)
{
	return e->h->phys.n;
}

const struct its_cmd *eng_phys(struct eng *e, size_t i)
{
	size_t n;
	const struct its_cmd *p = harness_phys_cmds(e->h, &n);
	return i < n ? &p[i] : NULL;
}

struct vits_lpi_info eng_lpi(struct eng *e, uint32_t intid)
{
	struct vits_lpi_info li;
	memset(&li, 0, sizeof(li));
	int rc = vits_query_lpi(e->v, intid, &li);
	if (rc != 0)
		CHECK_EQ(0, rc, "vits_query_lpi(%u)", intid);
	return li;
}

uint64_t eng_itt(uint32_t devid)
{
	return ENG_ITT_BASE + (uint64_t)(devid % 256) * 0x100000;
}

size_t eng_count_type(struct eng *e, uint16_t type, size_t from)
{
	size_t n = 0;
	for (size_t i = from; i < e->rec.n; i++)
		n += e->rec.ev[i].type == type;
	return n;
}

void eng_clear_record(struct eng *e)
{
	e->rec.n = 0;
}

void eng_put_slot(struct eng *e, uint64_t queue_gpa, uint32_t off, struct its_cmd c)
{
	uint8_t raw[ITS_CMD_BYTES];
	its_cmd_to_bytes(&c, raw);
	int rc = harness_write_guest(e->h, queue_gpa + off, raw, sizeof(raw));
	if (rc != 0)
		CHECK_EQ(0, rc, "write queue slot 0x%x", off);
}

void eng_map_colls(struct eng *e)
{
	for (uint32_t i = 0; i < e->h->cfg.vits.nr_vcpus && i < (1u << e->h->cfg.vits.cid_bits); i++)
		EXPECT_OK(e, its_mk_mapc(i, i, 1), "setup MAPC");
}

void eng_mapd(struct eng *e, uint32_t devid, unsigned size_m1)
{
	EXPECT_OK(e, its_mk_mapd(devid, size_m1, eng_itt(devid), 1), "setup MAPD");
}

void eng_mapti(struct eng *e, uint32_t devid, uint32_t ev, uint32_t intid, uint32_t icid,
	       uint8_t cfg)
{
	eng_prop(e, intid, cfg);
	EXPECT_OK(e, its_mk_mapti(devid, ev, intid, icid), "setup MAPTI");
}
